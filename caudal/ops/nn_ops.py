"""Neural-network activations: Softmax, LogSoftmax, Relu (with TF's fused ReluGrad)."""
from __future__ import annotations

from typing import Any

from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.ops import _rules

__all__ = ["softmax", "log_softmax", "relu"]


def _softmax_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _rules.FLOAT, "logits")
    if ctx.shape(0).ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    return [(dtype, ctx.shape(0))]


def _softmax_kernel(xp: Any, logits: Any) -> Any:
    shifted = logits - xp.max(logits, axis=-1, keepdims=True)
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=-1, keepdims=True)


def _softmax_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.math_ops import multiply, subtract
    from caudal.ops.reduction_ops import reduce_sum

    y = op.outputs[0]
    return [multiply(subtract(grad, reduce_sum(multiply(grad, y), -1, keepdims=True)), y)]


def _log_softmax_kernel(xp: Any, logits: Any) -> Any:
    shifted = logits - xp.max(logits, axis=-1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def _log_softmax_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.math_ops import exp, multiply, subtract
    from caudal.ops.reduction_ops import reduce_sum

    softmax_y = exp(op.outputs[0])
    return [subtract(grad, multiply(reduce_sum(grad, -1, keepdims=True), softmax_y))]


register_op("Softmax", infer=_softmax_infer, kernel=_softmax_kernel, grad=_softmax_grad)
register_op("LogSoftmax", infer=_softmax_infer, kernel=_log_softmax_kernel, grad=_log_softmax_grad)


def _last_axis_op(op_type: str, logits: Any, axis: Any, name: str | None, dim: Any) -> Tensor:
    """Softmax ops work on the last axis; another axis is swapped there and back, as in TF."""
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    logits = convert_to_tensor(logits, name="logits")
    rank = logits.shape.ndims
    if axis is None or axis == -1 or (rank is not None and axis == rank - 1):
        return apply_op(op_type, [logits], {"T": logits.dtype.base_dtype}, name or op_type)
    if rank is None:
        raise ValueError(f"{op_type} over axis {axis} needs a tensor of known rank")
    from caudal.ops.array_ops import transpose

    axis = _rules.normalize_axis(axis, rank)
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    with get_default_graph().name_scope(name or op_type):
        swapped = apply_op(op_type, [transpose(logits, perm)], {"T": logits.dtype.base_dtype}, op_type)
        return transpose(swapped, perm)


def softmax(logits: Any, axis: Any = None, name: str | None = None, dim: Any = None) -> Tensor:
    """exp(logits) / sum(exp(logits)) along `axis` (default: the last)."""
    return _last_axis_op("Softmax", logits, axis, name, dim)


def log_softmax(logits: Any, axis: Any = None, name: str | None = None, dim: Any = None) -> Tensor:
    return _last_axis_op("LogSoftmax", logits, axis, name, dim)


# --------------------------------------------------------------------- Relu
def _relu_grad(op: Any, grad: Tensor) -> list:
    return [apply_op("ReluGrad", [grad, op.outputs[0]], {"T": grad.dtype.base_dtype})]


def _relu_grad_kernel(xp: Any, gradients: Any, features: Any) -> Any:
    """The gradient passes where the output is positive; at 0 it is 0, as in TF."""
    return gradients * (features > 0)


def _relu_grad_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.constant_ops import zeros_like

    return [apply_op("ReluGrad", [grad, op.inputs[1]], {"T": grad.dtype.base_dtype}),
            zeros_like(op.inputs[1])]


register_op("Relu", infer=_rules.unary(_rules.REAL), kernel=lambda xp, x: xp.maximum(x, 0).astype(x.dtype),
            grad=_relu_grad)
register_op("ReluGrad", infer=_rules.binary(_rules.REAL), kernel=_relu_grad_kernel, grad=_relu_grad_grad)


def relu(features: Any, name: str | None = None) -> Tensor:
    x = convert_to_tensor(features, name="features")
    return apply_op("Relu", [x], {"T": x.dtype.base_dtype}, name or "Relu")
