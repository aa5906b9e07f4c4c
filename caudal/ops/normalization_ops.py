"""Normalization: the fused FusedBatchNormV3 (with FusedBatchNormGradV3) and LRN (with LRNGrad),
and `moments`, `batch_normalization` and `l2_normalize` built from public ops as in TF.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph, make_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules
from caudal.ops.nn_ops import require_rank

__all__ = ["moments", "batch_normalization", "fused_batch_norm", "l2_normalize", "local_response_normalization",
           "lrn"]

# TF's FusedBatchNormV3 takes half, bfloat16 and float32 inputs with float32 statistics;
# caudal also accepts float64 throughout (used by the float64 gradient checks).
_BN_T = frozenset([dtypes_lib.float16, dtypes_lib.bfloat16, dtypes_lib.float32, dtypes_lib.float64])
_BN_U = frozenset([dtypes_lib.float32, dtypes_lib.float64])


def _format(data_format: Any) -> str:
    return data_format.decode() if isinstance(data_format, bytes) else data_format


def _bn_channel_axis(data_format: Any, rank: int) -> int:
    return 1 if _format(data_format).startswith("NC") else rank - 1


# ---------------------------------------------------------- FusedBatchNormV3
def _fused_bn_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _BN_T, "x")
    u = _rules.check_dtype(ctx, 1, _BN_U, "scale")
    _rules.check_same_dtype(ctx, range(1, 5), ["scale", "offset", "mean", "variance"])
    fmt = _format(ctx.attrs["data_format"])
    x = require_rank(ctx.shape(0), len(fmt))
    # mean and variance are empty placeholders when training without a running average.
    uses_stats = not ctx.attrs["is_training"] or ctx.attrs["exponential_avg_factor"] != 1.0
    channels = TensorShape([x[_bn_channel_axis(fmt, x.ndims)].value if x.ndims is not None else None])
    for i in range(1, 5):
        shape = require_rank(ctx.shape(i), 1)
        if i < 3 or uses_stats:
            if not channels.is_compatible_with(shape):
                raise ValueError(f"Dimensions must be equal, but are {channels[0].value} and {shape[0].value}")
            channels = channels.merge_with(shape)
    return [(dtype, x), (u, channels), (u, channels), (u, channels), (u, channels), (u, TensorShape([0]))]


def _broadcastable(v: Any, axis: int, rank: int) -> Any:
    return v.reshape((-1,) + (1,) * (rank - 1 - axis))


def _fused_bn_kernel(xp: Any, x: Any, scale: Any, offset: Any, mean: Any, variance: Any, *, epsilon: float,
                     data_format: Any, is_training: bool, exponential_avg_factor: float) -> tuple:
    """Training normalizes with the batch's biased variance but reports the Bessel-corrected one
    (blended into the running estimate by exponential_avg_factor), as TF does."""
    rank = x.ndim
    axis = _bn_channel_axis(data_format, rank)
    axes = tuple(i for i in range(rank) if i != axis)
    u = scale.dtype
    xf = x.astype(u, copy=False)
    if is_training:
        use_mean = xp.mean(xf, axis=axes)
        use_var = xp.mean(xp.square(xf - _broadcastable(use_mean, axis, rank)), axis=axes)
        count = x.size // max(x.shape[axis], 1)
        corrected = use_var * (count / max(count - 1, 1))
        factor = u.type(exponential_avg_factor)
        if exponential_avg_factor == 1.0:
            out_mean, out_var = use_mean, corrected
        else:
            out_mean = (1 - factor) * mean + factor * use_mean
            out_var = (1 - factor) * variance + factor * corrected
    else:
        use_mean, use_var = mean, variance
        out_mean, out_var = mean, variance
    multiplier = scale / xp.sqrt(use_var + u.type(epsilon))
    y = (xf - _broadcastable(use_mean, axis, rank)) * _broadcastable(multiplier, axis, rank) \
        + _broadcastable(offset, axis, rank)
    return (y.astype(x.dtype, copy=False), out_mean.astype(u, copy=False), out_var.astype(u, copy=False),
            use_mean.astype(u, copy=False), use_var.astype(u, copy=False), xp.zeros((0,), u))


def _fused_bn_grad(op: Any, grad_y: Tensor, *unused: Tensor) -> list:
    """Only y carries a gradient (to x, scale and offset); the statistics outputs and the mean
    and variance inputs get none, as in TF."""
    x, scale = op.inputs[0], op.inputs[1]
    attrs = {"T": x.dtype.base_dtype, "U": scale.dtype.base_dtype, "epsilon": op.get_attr("epsilon"),
             "data_format": op.get_attr("data_format"), "is_training": op.get_attr("is_training")}
    grad_op = make_op("FusedBatchNormGradV3", [grad_y, x, scale, op.outputs[3], op.outputs[4], op.outputs[5]], attrs)
    dx, dscale, doffset = grad_op.outputs[:3]
    return [dx, dscale, doffset, None, None]


def _fused_bn_grad_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1), ("y_backprop", "x"))
    _rules.check_dtype(ctx, 0, _BN_T, "y_backprop")
    u = _rules.check_dtype(ctx, 2, _BN_U, "scale")
    fmt = _format(ctx.attrs["data_format"])
    x = require_rank(ctx.shape(0), len(fmt))
    if x.is_compatible_with(ctx.shape(1)):
        x = x.merge_with(ctx.shape(1))
    channels = require_rank(ctx.shape(2), 1)
    if x.ndims is not None and x[_bn_channel_axis(fmt, x.ndims)].value is not None:
        channels = TensorShape([x[_bn_channel_axis(fmt, x.ndims)].value])
    return [(dtype, x), (u, channels), (u, channels), (u, TensorShape([0])), (u, TensorShape([0]))]


def _fused_bn_grad_kernel(xp: Any, y_backprop: Any, x: Any, scale: Any, reserve_space_1: Any, reserve_space_2: Any,
                          reserve_space_3: Any, *, epsilon: float, data_format: Any, is_training: bool) -> tuple:
    rank = x.ndim
    axis = _bn_channel_axis(data_format, rank)
    axes = tuple(i for i in range(rank) if i != axis)
    u = scale.dtype
    inv_std = 1 / xp.sqrt(reserve_space_2 + u.type(epsilon))
    dy = y_backprop.astype(u, copy=False)
    x_hat = (x.astype(u, copy=False) - _broadcastable(reserve_space_1, axis, rank)) * _broadcastable(inv_std, axis,
                                                                                                     rank)
    doffset = xp.sum(dy, axis=axes)
    dscale = xp.sum(dy * x_hat, axis=axes)
    if is_training:
        count = x.size // max(x.shape[axis], 1)
        centered = dy - _broadcastable(doffset / count, axis, rank) - x_hat * _broadcastable(dscale / count, axis, rank)
        dx = centered * _broadcastable(scale * inv_std, axis, rank)
    else:
        dx = dy * _broadcastable(scale * inv_std, axis, rank)
    empty = xp.zeros((0,), u)
    return dx.astype(x.dtype, copy=False), dscale.astype(u), doffset.astype(u), empty, empty


def _batch_norm_backward(dy: Tensor, x: Tensor, scale: Tensor, mean: Tensor, variance: Tensor, epsilon: float,
                         data_format: Any, is_training: bool) -> tuple[Tensor, Tensor, Tensor]:
    """FusedBatchNormGradV3's outputs written with public ops, so they can be differentiated.
    In training the statistics are recomputed from x, so the gradient sees their dependence on x."""
    from caudal.ops.array_ops import reshape
    from caudal.ops.math_ops import cast, multiply, rsqrt, subtract
    from caudal.ops.reduction_ops import reduce_mean, reduce_sum

    rank = x.shape.ndims
    axis = _bn_channel_axis(data_format, rank)
    axes = [i for i in range(rank) if i != axis]
    dims = [1] * rank
    dims[axis] = -1
    u = scale.dtype.base_dtype
    xf, dyf = cast(x, u), cast(dy, u)
    if is_training:
        mean = reduce_mean(xf, axes, keepdims=True)
        variance = reduce_mean(multiply(subtract(xf, mean), subtract(xf, mean)), axes, keepdims=True)
    else:
        mean, variance = reshape(mean, dims), reshape(variance, dims)
    inv_std = rsqrt(variance + convert_to_tensor(epsilon, dtype=u))
    x_hat = multiply(subtract(xf, mean), inv_std)
    doffset = reduce_sum(dyf, axes)
    dscale = reduce_sum(multiply(dyf, x_hat), axes)
    if is_training:
        centered = subtract(subtract(dyf, reduce_mean(dyf, axes, keepdims=True)),
                            multiply(x_hat, reduce_mean(multiply(dyf, x_hat), axes, keepdims=True)))
    else:
        centered = dyf
    dx = multiply(centered, multiply(reshape(scale, dims), inv_std))
    return cast(dx, x.dtype.base_dtype), dscale, doffset


def _fused_bn_grad_grad(op: Any, grad_dx: Tensor, grad_dscale: Tensor, grad_doffset: Tensor, *unused: Tensor) -> list:
    """Second derivatives: differentiate the public-op form of the backward pass, as TF does."""
    from caudal.autodiff.gradients import gradients

    dy, x, scale, mean, variance = op.inputs[:5]
    if x.shape.ndims is None:
        raise NotImplementedError(f"The gradient of {op.name} needs x of known rank")
    outputs = _batch_norm_backward(dy, x, scale, mean, variance, op.get_attr("epsilon"), op.get_attr("data_format"),
                                   op.get_attr("is_training"))
    g_dy, g_x, g_scale = gradients(list(outputs), [dy, x, scale], grad_ys=[grad_dx, grad_dscale, grad_doffset])
    return [g_dy, g_x, g_scale, None, None, None]


register_op("FusedBatchNormV3", infer=_fused_bn_infer, kernel=_fused_bn_kernel, grad=_fused_bn_grad)
register_op("FusedBatchNormGradV3", infer=_fused_bn_grad_infer, kernel=_fused_bn_grad_kernel,
            grad=_fused_bn_grad_grad)


def fused_batch_norm(x: Any, scale: Any, offset: Any, mean: Any = None, variance: Any = None, epsilon: float = 0.001,
                     data_format: str = "NHWC", is_training: bool = True, name: str | None = None,
                     exponential_avg_factor: float = 1.0) -> tuple[Tensor, Tensor, Tensor]:
    """Batch normalization of a 4-D (or 5-D, "NDHWC"/"NCDHW") tensor in one op. Returns
    (y, batch_mean, batch_variance): in training the batch statistics, the variance
    Bessel-corrected (and blended into `mean`/`variance` when exponential_avg_factor != 1);
    in inference `mean` and `variance` themselves."""
    from caudal.ops.constant_ops import constant

    if (not is_training or exponential_avg_factor != 1.0) and (mean is None or variance is None):
        raise ValueError("Both `mean` and `variance` must be a 1D tensor when `is_training` is False or "
                         f"`exponential_avg_factor` != 1.0. Received: `mean` {mean!r} and `variance` {variance!r}")
    if data_format not in ("NHWC", "NCHW", "NDHWC", "NCDHW"):
        raise ValueError(f"Unsupported data format {data_format}")
    x = convert_to_tensor(x, name="input")
    scale = convert_to_tensor(scale, name="scale")
    offset = convert_to_tensor(offset, dtype=scale.dtype.base_dtype, name="offset")
    u = scale.dtype.base_dtype
    mean = constant([], dtype=u) if mean is None else convert_to_tensor(mean, dtype=u, name="mean")
    variance = constant([], dtype=u) if variance is None else convert_to_tensor(variance, dtype=u, name="variance")
    op = make_op("FusedBatchNormV3", [x, scale, offset, mean, variance],
                 {"T": x.dtype.base_dtype, "U": u, "epsilon": float(epsilon), "data_format": data_format,
                  "is_training": bool(is_training), "exponential_avg_factor": float(exponential_avg_factor)},
                 name or "FusedBatchNormV3")
    return op.outputs[0], op.outputs[1], op.outputs[2]


# ------------------------------------------------------- moments & friends
def moments(x: Any, axes: Any, shift: Any = None, name: str | None = None, keep_dims: Any = None,
            keepdims: Any = None) -> tuple[Tensor, Tensor]:
    """Mean and (biased) variance over `axes`. As in TF, the variance's gradient does not flow
    through the mean (a StopGradient), and float16 inputs are reduced in float32. `shift` is
    accepted and ignored, as TF does."""
    from caudal.ops.array_ops import squeeze
    from caudal.ops.control_ops import stop_gradient
    from caudal.ops.math_ops import cast
    from caudal.ops.reduction_ops import reduce_mean
    from caudal.ops.special_math_ops import squared_difference

    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
    keep = bool(keep_dims if keepdims is None else keepdims)
    with get_default_graph().name_scope(name or "moments"):
        x = convert_to_tensor(x, name="x")
        y = cast(x, dtypes_lib.float32) if x.dtype.base_dtype == dtypes_lib.float16 else x
        mean = reduce_mean(y, axes, keepdims=True, name="mean")
        variance = reduce_mean(squared_difference(y, stop_gradient(mean)), axes, keepdims=True, name="variance")
        if not keep:
            mean, variance = squeeze(mean, axes), squeeze(variance, axes)
        if y is not x:
            mean, variance = cast(mean, dtypes_lib.float16), cast(variance, dtypes_lib.float16)
        return mean, variance


def batch_normalization(x: Any, mean: Any, variance: Any, offset: Any, scale: Any, variance_epsilon: Any,
                        name: str | None = None) -> Tensor:
    """x * scale / sqrt(variance + epsilon) + (offset - mean * scale / sqrt(variance + epsilon)),
    with `offset` and `scale` optional (None), in TF's order of operations."""
    from caudal.ops.math_ops import add, cast, multiply, negative, rsqrt, subtract

    with get_default_graph().name_scope(name or "batchnorm"):
        x = convert_to_tensor(x, name="x")
        variance = convert_to_tensor(variance, dtype_hint=x.dtype.base_dtype, name="variance")
        inv = rsqrt(add(variance, variance_epsilon))
        if scale is not None:
            inv = multiply(inv, scale)
        shift = subtract(offset, multiply(mean, inv)) if offset is not None else negative(multiply(mean, inv))
        dtype = x.dtype.base_dtype
        return add(multiply(x, cast(inv, dtype)), cast(shift, dtype))


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12, name: str | None = None,
                 dim: Any = None) -> Tensor:
    """x / sqrt(max(sum(x ** 2, axis), epsilon)); `dim` is the legacy name of `axis` (None: all)."""
    from caudal.ops.math_ops import maximum, multiply, rsqrt, square
    from caudal.ops.reduction_ops import reduce_sum

    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    with get_default_graph().name_scope(name or "l2_normalize") as scope:
        x = convert_to_tensor(x, name="x")
        square_sum = reduce_sum(square(x), axis, keepdims=True)
        inv_norm = rsqrt(maximum(square_sum, convert_to_tensor(epsilon, dtype=x.dtype.base_dtype)))
        return multiply(x, inv_norm, name=scope)


# ---------------------------------------------------------------------- LRN
def _lrn_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _BN_T, "input")
    return [(dtype, require_rank(ctx.shape(0), 4))]


def _window_sum(xp: Any, values: Any, radius: int) -> Any:
    """For each channel d, the sum of `values` over channels [d - radius, d + radius]."""
    depth = values.shape[-1]
    padded = xp.pad(values, [(0, 0)] * (values.ndim - 1) + [(radius, radius)])
    total = padded[..., 0:depth]
    for shift in range(1, 2 * radius + 1):
        total = total + padded[..., shift:shift + depth]
    return total


def _lrn_kernel(xp: Any, input: Any, *, depth_radius: int, bias: float, alpha: float, beta: float) -> Any:
    x = input.astype(np.float32) if input.dtype.itemsize < 4 else input
    norm = bias + alpha * _window_sum(xp, x * x, depth_radius)
    return (x * norm ** -beta).astype(input.dtype, copy=False)


def _lrn_grad_kernel(xp: Any, input_grads: Any, input_image: Any, output_image: Any, *, depth_radius: int,
                     bias: float, alpha: float, beta: float) -> Any:
    """d/dx_k = g_k * N_k^-beta - 2 alpha beta x_k * sum over i near k of g_i y_i / N_i."""
    widen = input_grads.dtype.itemsize < 4
    g, x, y = ((a.astype(np.float32) if widen else a) for a in (input_grads, input_image, output_image))
    norm = bias + alpha * _window_sum(xp, x * x, depth_radius)
    result = g * norm ** -beta - (2 * alpha * beta) * x * _window_sum(xp, g * y / norm, depth_radius)
    return result.astype(input_grads.dtype, copy=False)


def _lrn_grad(op: Any, grad: Tensor) -> list:
    return [apply_op("LRNGrad", [grad, op.inputs[0], op.outputs[0]], op.attrs)]


def _lrn_grad_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1, 2), ("input_grads", "input_image", "output_image"))
    shape = require_rank(ctx.shape(0), 4)
    for i in (1, 2):
        if shape.is_compatible_with(ctx.shape(i)):
            shape = shape.merge_with(ctx.shape(i))
    return [(dtype, shape)]


register_op("LRN", infer=_lrn_infer, kernel=_lrn_kernel, grad=_lrn_grad)
register_op("LRNGrad", infer=_lrn_grad_infer, kernel=_lrn_grad_kernel, grad=NOT_DIFFERENTIABLE)


def local_response_normalization(input: Any, depth_radius: int = 5, bias: float = 1.0, alpha: float = 1.0,
                                 beta: float = 0.5, name: str | None = None) -> Tensor:
    """input / (bias + alpha * sum of squares over the 2 * depth_radius + 1 nearest channels)
    ** beta, on a 4-D NHWC tensor. LRNGrad has no gradient, as in TF."""
    x = convert_to_tensor(input, name="input")
    return apply_op("LRN", [x], {"T": x.dtype.base_dtype, "depth_radius": int(depth_radius), "bias": float(bias),
                                 "alpha": float(alpha), "beta": float(beta)}, name or "LRN")


lrn = local_response_normalization
