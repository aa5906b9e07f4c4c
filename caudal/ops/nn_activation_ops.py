"""Activations beyond Relu: Relu6, Elu, Selu, Softplus, Softsign, LeakyRelu, with TF's fused
backward ops (Relu6Grad, EluGrad, SeluGrad, SoftplusGrad, SoftsignGrad, LeakyReluGrad), and
`crelu` and `swish` built from public ops as in TF.

Every backward op has its own gradient, so second derivatives work.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import apply_op, get_default_graph
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.ops import _rules
from caudal.ops.math_ops import _sigmoid_kernel

__all__ = ["relu6", "crelu", "elu", "selu", "softplus", "softsign", "leaky_relu", "swish"]

# The constants of Klambauer et al. (2017), which TF's Selu kernel uses.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _zeros_like(x: Tensor) -> Tensor:
    from caudal.ops.constant_ops import zeros_like

    return zeros_like(x)


def _fused_grad(grad_type: str, use_output: bool) -> Any:
    """The gradient of an activation as its fused backward op `grad_type(dy, features or y)`."""
    def grad(op: Any, dy: Tensor) -> list:
        other = op.outputs[0] if use_output else op.inputs[0]
        return [apply_op(grad_type, [dy, other], dict(op.attrs, T=dy.dtype.base_dtype))]

    return grad


def _elementwise_grad_infer(ctx: Any) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1), ("gradients", "features"))
    _rules.check_dtype(ctx, 0, _rules.REAL, "gradients")
    if not ctx.shape(0).is_compatible_with(ctx.shape(1)):
        raise ValueError(f"Shapes {ctx.shape(0)} and {ctx.shape(1)} are incompatible")
    return [(dtype, ctx.shape(0).merge_with(ctx.shape(1)))]


# -------------------------------------------------------------------- Relu6
def _relu6_grad_grad(op: Any, grad: Tensor) -> list:
    return [apply_op("Relu6Grad", [grad, op.inputs[1]], {"T": grad.dtype.base_dtype}),
            _zeros_like(op.inputs[1])]


register_op("Relu6", infer=_rules.unary(_rules.REAL), kernel=lambda xp, x: xp.clip(x, 0, 6).astype(x.dtype),
            grad=_fused_grad("Relu6Grad", use_output=False))
register_op("Relu6Grad", infer=_elementwise_grad_infer, grad=_relu6_grad_grad,
            kernel=lambda xp, gradients, features: gradients * ((features > 0) & (features < 6)))


def relu6(features: Any, name: str | None = None) -> Tensor:
    """min(max(features, 0), 6); the gradient is 0 at both kinks, as in TF."""
    x = convert_to_tensor(features, name="features")
    return apply_op("Relu6", [x], {"T": x.dtype.base_dtype}, name or "Relu6")


# ---------------------------------------------------------------- Elu, Selu
def _elu_kernel(xp: Any, features: Any) -> Any:
    return xp.where(features > 0, features, xp.expm1(xp.minimum(features, 0))).astype(features.dtype)


def _selu_kernel(xp: Any, features: Any) -> Any:
    negative = SELU_ALPHA * xp.expm1(xp.minimum(features, 0))
    return (SELU_SCALE * xp.where(features > 0, features, negative)).astype(features.dtype)


def _elu_grad_kernel(xp: Any, gradients: Any, outputs: Any) -> Any:
    return xp.where(outputs < 0, gradients * (outputs + 1), gradients)


def _selu_grad_kernel(xp: Any, gradients: Any, outputs: Any) -> Any:
    negative = gradients * (outputs + SELU_SCALE * SELU_ALPHA)
    return xp.where(outputs < 0, negative, gradients * SELU_SCALE).astype(gradients.dtype)


def _output_grad_grad(grad_type: str) -> Any:
    """Gradient of EluGrad/SeluGrad(dy, y): linear in dy; in y, dy where y < 0."""
    def grad(op: Any, grad: Tensor) -> list:
        from caudal.ops.comparison_ops import less, where
        from caudal.ops.math_ops import multiply

        dy, y = op.inputs
        zeros = _zeros_like(y)
        return [apply_op(grad_type, [grad, y], {"T": grad.dtype.base_dtype}),
                where(less(y, zeros), multiply(grad, dy), zeros)]

    return grad


register_op("Elu", infer=_rules.unary(_rules.FLOAT), kernel=_elu_kernel, grad=_fused_grad("EluGrad", True))
register_op("EluGrad", infer=_elementwise_grad_infer, kernel=_elu_grad_kernel, grad=_output_grad_grad("EluGrad"))
register_op("Selu", infer=_rules.unary(_rules.FLOAT), kernel=_selu_kernel, grad=_fused_grad("SeluGrad", True))
register_op("SeluGrad", infer=_elementwise_grad_infer, kernel=_selu_grad_kernel,
            grad=_output_grad_grad("SeluGrad"))


def elu(features: Any, name: str | None = None) -> Tensor:
    """features where positive, exp(features) - 1 elsewhere."""
    x = convert_to_tensor(features, name="features")
    return apply_op("Elu", [x], {"T": x.dtype.base_dtype}, name or "Elu")


def selu(features: Any, name: str | None = None) -> Tensor:
    """scale * elu-like(features) with TF's alpha 1.6732... and scale 1.0507..."""
    x = convert_to_tensor(features, name="features")
    return apply_op("Selu", [x], {"T": x.dtype.base_dtype}, name or "Selu")


# ---------------------------------------------------------- Softplus, Softsign
def _softplus_kernel(xp: Any, features: Any) -> Any:
    return xp.logaddexp(features, features.dtype.type(0))


def _softplus_grad_grad(op: Any, grad: Tensor) -> list:
    """SoftplusGrad(dy, x) = dy * sigmoid(x)."""
    from caudal.ops.math_ops import multiply, sigmoid, subtract

    dy, x = op.inputs
    s = sigmoid(x)
    one = convert_to_tensor(1, dtype=s.dtype.base_dtype)
    return [apply_op("SoftplusGrad", [grad, x], {"T": grad.dtype.base_dtype}),
            multiply(multiply(grad, dy), multiply(s, subtract(one, s)))]


def _softsign_grad_grad(op: Any, grad: Tensor) -> list:
    """SoftsignGrad(dy, x) = dy / (1 + |x|)^2; TF leaves it without a gradient, caudal gives one."""
    from caudal.ops.math_ops import abs as abs_
    from caudal.ops.math_ops import add, multiply, sign
    from caudal.ops.math_ops import pow as pow_

    dy, x = op.inputs
    dtype = x.dtype.base_dtype
    denominator = add(abs_(x), convert_to_tensor(1, dtype=dtype))
    slope = multiply(convert_to_tensor(-2, dtype=dtype), multiply(sign(x), pow_(denominator,
                                                                                convert_to_tensor(-3, dtype=dtype))))
    return [apply_op("SoftsignGrad", [grad, x], {"T": grad.dtype.base_dtype}), multiply(multiply(grad, dy), slope)]


register_op("Softplus", infer=_rules.unary(_rules.FLOAT), kernel=_softplus_kernel,
            grad=_fused_grad("SoftplusGrad", use_output=False))
register_op("SoftplusGrad", infer=_elementwise_grad_infer, grad=_softplus_grad_grad,
            kernel=lambda xp, gradients, features: gradients * _sigmoid_kernel(xp, features))
register_op("Softsign", infer=_rules.unary(_rules.FLOAT), kernel=lambda xp, x: x / (1 + xp.abs(x)),
            grad=_fused_grad("SoftsignGrad", use_output=False))
register_op("SoftsignGrad", infer=_elementwise_grad_infer, grad=_softsign_grad_grad,
            kernel=lambda xp, gradients, features: gradients / xp.square(1 + xp.abs(features)))


def softplus(features: Any, name: str | None = None) -> Tensor:
    """log(exp(features) + 1), computed without overflow."""
    x = convert_to_tensor(features, name="features")
    return apply_op("Softplus", [x], {"T": x.dtype.base_dtype}, name or "Softplus")


def softsign(features: Any, name: str | None = None) -> Tensor:
    """features / (|features| + 1)."""
    x = convert_to_tensor(features, name="features")
    return apply_op("Softsign", [x], {"T": x.dtype.base_dtype}, name or "Softsign")


# ---------------------------------------------------------------- LeakyRelu
def _leaky_relu_grad_grad(op: Any, grad: Tensor) -> list:
    return [apply_op("LeakyReluGrad", [grad, op.inputs[1]], dict(op.attrs, T=grad.dtype.base_dtype)),
            _zeros_like(op.inputs[1])]


register_op("LeakyRelu", infer=_rules.unary(_rules.FLOAT), grad=_fused_grad("LeakyReluGrad", use_output=False),
            kernel=lambda xp, features, *, alpha: xp.where(features > 0, features,
                                                           features * features.dtype.type(alpha)))
register_op("LeakyReluGrad", infer=_elementwise_grad_infer, grad=_leaky_relu_grad_grad,
            kernel=lambda xp, gradients, features, *, alpha: xp.where(features > 0, gradients,
                                                                      gradients * gradients.dtype.type(alpha)))


def leaky_relu(features: Any, alpha: float = 0.2, name: str | None = None) -> Tensor:
    """features where positive, alpha * features elsewhere; integer features are cast to float32
    first, as TF does."""
    with get_default_graph().name_scope(name or "LeakyRelu") as scope:
        x = convert_to_tensor(features, name="features")
        if x.dtype.is_integer:
            from caudal.ops.math_ops import cast

            x = cast(x, dtypes_lib.float32)
        if isinstance(alpha, np.ndarray):
            alpha = alpha.item()
        return apply_op("LeakyRelu", [x], {"T": x.dtype.base_dtype, "alpha": float(alpha)}, scope)


# ------------------------------------------------------------ crelu, swish
def crelu(features: Any, name: str | None = None, axis: int = -1) -> Tensor:
    """relu(concat([features, -features], axis)): twice the channels, as in TF."""
    from caudal.ops.array_ops import concat
    from caudal.ops.math_ops import negative
    from caudal.ops.nn_ops import relu

    with get_default_graph().name_scope(name or "CRelu") as scope:
        x = convert_to_tensor(features, name="features")
        return relu(concat([x, negative(x)], axis, name=scope))


def swish(features: Any, beta: float = 1.0) -> Tensor:
    """features * sigmoid(beta * features) (`tf.nn.swish`, also called SiLU)."""
    from caudal.ops.math_ops import multiply, sigmoid

    x = convert_to_tensor(features, name="features")
    beta_t = convert_to_tensor(beta, dtype=x.dtype.base_dtype, name="beta")
    return multiply(x, sigmoid(multiply(beta_t, x)))
