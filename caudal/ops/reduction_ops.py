"""Reductions (Sum, Mean, Max, Min, Prod, All, Any) and ArgMax/ArgMin.

The wrappers take TF1's spellings too: `reduction_indices` for `axis` and
`keep_dims` for `keepdims`. `axis=None` reduces every dimension.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules

__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_all",
           "reduce_any", "argmax", "argmin"]


def _reduce_infer(allowed: frozenset) -> Any:
    def infer(ctx: InferContext) -> list:
        dtype = _rules.check_dtype(ctx, 0, allowed, "input")
        _rules.check_dtype(ctx, 1, _rules.INDEX, "reduction_indices")
        return [(dtype, _reduced_static_shape(ctx))]

    return infer


def _reduced_static_shape(ctx: InferContext) -> TensorShape:
    x = ctx.shape(0)
    keep = ctx.attrs["keep_dims"]
    axes = ctx.value(1)
    if x.ndims is None:
        return unknown_shape()
    if axes is None:
        return unknown_shape(x.ndims) if keep else unknown_shape()
    rank = x.ndims
    reduced = {_rules.normalize_axis(int(a), max(rank, 1), ctx.name) for a in np.reshape(axes, -1)} \
        if rank else set()
    if rank == 0:
        for a in np.reshape(axes, -1):
            if int(a) not in (0, -1):
                raise ValueError(f"Invalid reduction dimension {int(a)} for input with 0 dimensions")
    dims = x.as_list()
    if keep:
        return TensorShape([1 if i in reduced else d for i, d in enumerate(dims)])
    return TensorShape([d for i, d in enumerate(dims) if i not in reduced])


def _axes(axes: Any) -> tuple[int, ...]:
    return _rules.int_tuple(axes)


_BLAS_FLOATS = frozenset([np.dtype(np.float32), np.dtype(np.float64)])


@functools.lru_cache(maxsize=32)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def sum_by_product(x: Any, axis: tuple[int, ...]) -> Any:
    """NumPy only: x summed over `axis` as one matrix-vector product with a vector of ones, when the
    axes are the leading or the trailing dimensions of a C-contiguous float32/float64 NumPy array
    (bias gradients, per-example sums); None otherwise. BLAS does this several times faster than
    NumPy's reduction over leading axes, and its blocked accumulation is more accurate."""
    if type(x) is not np.ndarray or x.dtype not in _BLAS_FLOATS or not x.flags.c_contiguous:
        return None
    ndim = x.ndim
    axes = sorted({a % ndim for a in axis}) if ndim else []
    k = len(axes)
    if not 0 < k < ndim or x.size == 0:
        return None
    if axes == list(range(k)):
        rows = math.prod(x.shape[:k])
        ones = _ones(rows, x.dtype) if rows <= 1 << 20 else np.ones(rows, x.dtype)
        return (ones @ x.reshape(rows, -1)).reshape(x.shape[k:])
    if axes == list(range(ndim - k, ndim)):
        cols = math.prod(x.shape[ndim - k:])
        ones = _ones(cols, x.dtype) if cols <= 1 << 20 else np.ones(cols, x.dtype)
        return (x.reshape(-1, cols) @ ones).reshape(x.shape[:ndim - k])
    return None


def _keep_dims(result: Any, x: Any, axis: tuple[int, ...]) -> Any:
    reduced = {a % x.ndim for a in axis}
    return result.reshape([1 if i in reduced else d for i, d in enumerate(x.shape)])


def _sum_kernel(xp: Any, x: Any, axes: Any, *, keep_dims: bool) -> Any:
    axis = _axes(axes)
    if not axis:
        return x  # a sum over no axes is the input itself (kernels never write into values)
    return xp.sum(x, axis=axis, keepdims=keep_dims, dtype=x.dtype)


def _sum_numpy(xp: Any, x: Any, axes: Any, *, keep_dims: bool) -> Any:
    """Sum on NumPy: a BLAS product with ones where `sum_by_product` applies."""
    axis = _axes(axes)
    if not axis:
        return x  # as the portable kernel: a broadcast gradient that needs no reduction
    total = sum_by_product(x, axis)
    if total is not None:
        return _keep_dims(total, x, axis) if keep_dims else total
    return xp.sum(x, axis=axis, keepdims=keep_dims, dtype=x.dtype)


def _mean_kernel(xp: Any, x: Any, axes: Any, *, keep_dims: bool) -> Any:
    if x.dtype.kind in "iu":
        axis = _axes(axes)
        total = xp.sum(x, axis=axis, keepdims=keep_dims, dtype=xp.int64)
        count = max(int(np.prod([x.shape[a] for a in axis])), 1) if axis else 1
        return (xp.trunc(total / count)).astype(x.dtype)
    return xp.mean(x, axis=_axes(axes), keepdims=keep_dims, dtype=x.dtype)


def _prod_kernel(xp: Any, x: Any, axes: Any, *, keep_dims: bool) -> Any:
    return xp.prod(x, axis=_axes(axes), keepdims=keep_dims, dtype=x.dtype)


def _max_kernel(xp: Any, x: Any, axes: Any, *, keep_dims: bool) -> Any:
    axis = _axes(axes)
    if x.size == 0:
        return _empty_reduction(xp, x, axis, keep_dims, dtypes_lib.as_dtype(x.dtype).min)
    return xp.max(x, axis=axis, keepdims=keep_dims)


def _min_kernel(xp: Any, x: Any, axes: Any, *, keep_dims: bool) -> Any:
    axis = _axes(axes)
    if x.size == 0:
        return _empty_reduction(xp, x, axis, keep_dims, dtypes_lib.as_dtype(x.dtype).max)
    return xp.min(x, axis=axis, keepdims=keep_dims)


def _empty_reduction(xp: Any, x: Any, axis: tuple, keep_dims: bool, identity: Any) -> Any:
    """TF reduces an empty extent of Max/Min to the lowest/highest value instead of failing."""
    axis = tuple(a % x.ndim for a in axis)
    shape = [1 if i in axis else d for i, d in enumerate(x.shape)] if keep_dims else \
        [d for i, d in enumerate(x.shape) if i not in axis]
    return xp.full(shape, identity, dtype=x.dtype)


def _kept_shape(x: Tensor, axes: Tensor) -> Any:
    """x's shape with the reduced axes set to 1: a list when static, else a Tensor."""
    from caudal.framework.constant_value import constant_value

    axes_value = constant_value(axes)
    if x.shape.ndims is not None and axes_value is not None:
        rank = x.shape.ndims
        reduced = {int(a) % max(rank, 1) for a in np.reshape(axes_value, -1)}
        kept = [1 if i in reduced else d for i, d in enumerate(x.shape.as_list())]
        if kept.count(None) <= 1:
            # Static: an unknown kept dimension (the batch, usually) is inferred by Reshape as -1.
            return [-1 if d is None else d for d in kept]
    from caudal.ops.array_ops import expand_dims, shape
    from caudal.ops.array_ops import range as range_op
    from caudal.ops.array_ops import rank as rank_op
    from caudal.ops.comparison_ops import equal, where
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.math_ops import cast, floormod

    input_shape = shape(x)
    r = rank_op(x)
    axes = floormod(cast(axes, dtypes_lib.int32), r)
    positions = range_op(0, r)
    reduced_mask = reduce_any(equal(expand_dims(positions, 1), expand_dims(axes, 0)), axis=1)
    return where(reduced_mask, ones_like(input_shape), input_shape)


def _broadcast_back(grad: Tensor, x: Tensor, axes: Tensor) -> Tensor:
    """Reshapes a reduced gradient to keep-dims form and broadcasts it to x's shape."""
    from caudal.ops.array_ops import broadcast_to, reshape, shape

    kept = _kept_shape(x, axes)
    reshaped = reshape(grad, kept)
    target = x.shape.as_list() if x.shape.is_fully_defined() else shape(x)
    return broadcast_to(reshaped, target)


def _sum_grad(op: Any, grad: Tensor) -> list:
    x, axes = op.inputs
    return [_broadcast_back(grad, x, axes), None]


def _mean_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.array_ops import size
    from caudal.ops.math_ops import cast, realdiv

    x, axes = op.inputs
    y = op.outputs[0]
    if x.shape.is_fully_defined() and y.shape.is_fully_defined():
        count = max(x.shape.num_elements() // max(y.shape.num_elements(), 1), 1)
        return [realdiv(_broadcast_back(grad, x, axes), convert_to_tensor(count, dtype=grad.dtype.base_dtype)),
                None]
    if y.shape.is_fully_defined() and y.shape.num_elements() == 1:
        # A mean of everything (a loss over a batch of unknown size): the count is x's size, and
        # dividing the one reduced value before broadcasting it back gives the same elements.
        count = cast(size(x), grad.dtype.base_dtype)
        return [_broadcast_back(realdiv(grad, count), x, axes), None]
    summed = _broadcast_back(grad, x, axes)
    count = cast(realdiv(cast(size(x), dtypes_lib.float64), cast(size(y), dtypes_lib.float64)),
                 grad.dtype.base_dtype)
    return [realdiv(summed, count), None]


def _extremum_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.array_ops import reshape
    from caudal.ops.comparison_ops import equal
    from caudal.ops.math_ops import cast, multiply, realdiv

    x, axes = op.inputs
    kept = _kept_shape(x, axes)
    y_kept = reshape(op.outputs[0], kept)
    indicators = cast(equal(y_kept, x), grad.dtype.base_dtype)
    num_selected = reshape(reduce_sum(indicators, axes), kept)
    return [multiply(realdiv(indicators, num_selected), reshape(grad, kept)), None]


def _prod_grad(op: Any, grad: Tensor) -> list:
    """d prod / d x_i = product of the other elements, exact even where some x are zero."""
    from caudal.ops.comparison_ops import equal, logical_and, where
    from caudal.ops.constant_ops import ones_like, zeros_like
    from caudal.ops.math_ops import cast, multiply, realdiv

    x, axes = op.inputs
    is_zero = equal(x, zeros_like(x))
    nonzero_x = where(is_zero, ones_like(x), x)
    prod_kept = _broadcast_back(reduce_prod(nonzero_x, axes), x, axes)
    zero_count = _broadcast_back(reduce_sum(cast(is_zero, dtypes_lib.int32), axes), x, axes)
    no_zeros = equal(zero_count, 0)
    one_zero_here = logical_and(equal(zero_count, 1), is_zero)
    others = where(no_zeros, realdiv(prod_kept, nonzero_x), where(one_zero_here, prod_kept, zeros_like(x)))
    return [multiply(_broadcast_back(grad, x, axes), others), None]


register_op("Sum", infer=_reduce_infer(_rules.NUMERIC), kernel=_sum_kernel, variants={"numpy": _sum_numpy},
            grad=_sum_grad)
register_op("Mean", infer=_reduce_infer(_rules.NUMERIC), kernel=_mean_kernel, grad=_mean_grad)
register_op("Prod", infer=_reduce_infer(_rules.NUMERIC), kernel=_prod_kernel, grad=_prod_grad)
register_op("Max", infer=_reduce_infer(_rules.REAL), kernel=_max_kernel, grad=_extremum_grad)
register_op("Min", infer=_reduce_infer(_rules.REAL), kernel=_min_kernel, grad=_extremum_grad)
register_op("All", infer=_reduce_infer(frozenset([dtypes_lib.bool_])),
            kernel=lambda xp, x, axes, *, keep_dims: xp.all(x, axis=_axes(axes), keepdims=keep_dims),
            grad=NOT_DIFFERENTIABLE)
register_op("Any", infer=_reduce_infer(frozenset([dtypes_lib.bool_])),
            kernel=lambda xp, x, axes, *, keep_dims: xp.any(x, axis=_axes(axes), keepdims=keep_dims),
            grad=NOT_DIFFERENTIABLE)


def _resolve_axis(axis: Any, reduction_indices: Any, keepdims: Any, keep_dims: Any) -> tuple[Any, bool]:
    if axis is not None and reduction_indices is not None:
        raise ValueError("Cannot specify both 'axis' and 'reduction_indices'.")
    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
    axis = reduction_indices if axis is None else axis
    keep = keep_dims if keepdims is None else keepdims
    return axis, bool(keep) if keep is not None else False


def _axis_tensor(x: Tensor, axis: Any) -> Tensor:
    if axis is None:
        if x.shape.ndims is not None:
            from caudal.ops.constant_ops import constant

            return constant(np.arange(x.shape.ndims, dtype=np.int32), name="Const")
        from caudal.ops.array_ops import range as range_op
        from caudal.ops.array_ops import rank

        return range_op(0, rank(x))
    return convert_to_tensor(axis, dtype_hint=dtypes_lib.int32, name="reduction_indices")


def _reduce(op_type: str, default_name: str, input_tensor: Any, axis: Any, keepdims: Any, name: Any,
            reduction_indices: Any, keep_dims: Any) -> Tensor:
    axis, keep = _resolve_axis(axis, reduction_indices, keepdims, keep_dims)
    with get_default_graph().name_scope(name or default_name) as scope:
        x = convert_to_tensor(input_tensor, name="input")
        axes = _axis_tensor(x, axis)
        attrs = {"Tidx": axes.dtype.base_dtype, "keep_dims": keep}
        if op_type not in ("All", "Any"):  # TF's All and Any take only bool and have no T attr
            attrs["T"] = x.dtype.base_dtype
        return apply_op(op_type, [x, axes], attrs, scope[:-1] + "/")


def reduce_sum(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
               reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce("Sum", "Sum", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_mean(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
                reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    """Mean; on integer tensors it truncates toward zero, as TF does."""
    return _reduce("Mean", "Mean", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_max(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
               reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce("Max", "Max", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_min(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
               reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce("Min", "Min", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_prod(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
                reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce("Prod", "Prod", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_all(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
               reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce("All", "All", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


def reduce_any(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
               reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    return _reduce("Any", "Any", input_tensor, axis, keepdims, name, reduction_indices, keep_dims)


# ------------------------------------------------------------ ArgMax/ArgMin
def _arg_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _rules.REAL, "input")
    out = _rules.attr_dtype(ctx, "output_type")
    x = ctx.shape(0)
    axis = ctx.value(1)
    if x.ndims is None:
        return [(out, unknown_shape())]
    if axis is None:
        return [(out, unknown_shape(max(x.ndims - 1, 0)))]
    a = _rules.normalize_axis(int(axis), x.ndims, ctx.name)
    dims = x.as_list()
    return [(out, TensorShape(dims[:a] + dims[a + 1:]))]


register_op("ArgMax", infer=_arg_infer, grad=NOT_DIFFERENTIABLE,
            kernel=lambda xp, x, axis, *, output_type: xp.argmax(x, axis=int(axis)).astype(
                output_type.as_numpy_dtype))
register_op("ArgMin", infer=_arg_infer, grad=NOT_DIFFERENTIABLE,
            kernel=lambda xp, x, axis, *, output_type: xp.argmin(x, axis=int(axis)).astype(
                output_type.as_numpy_dtype))


def _arg(op_type: str, input: Any, axis: Any, name: Any, dimension: Any, output_type: Any) -> Tensor:
    if axis is not None and dimension is not None:
        raise ValueError("Cannot specify both 'axis' and 'dimension'")
    axis = dimension if axis is None else axis
    axis = 0 if axis is None else axis
    x = convert_to_tensor(input, name="input")
    axis_t = convert_to_tensor(axis, dtype_hint=dtypes_lib.int32, name="dimension")
    out = dtypes_lib.as_dtype(output_type).base_dtype
    return apply_op(op_type, [x, axis_t], {"T": x.dtype.base_dtype, "Tidx": axis_t.dtype.base_dtype,
                                           "output_type": out}, name or op_type)


def argmax(input: Any, axis: Any = None, name: str | None = None, dimension: Any = None,
           output_type: Any = dtypes_lib.int64) -> Tensor:
    """Index of the largest value along `axis` (default 0); ties pick the first."""
    return _arg("ArgMax", input, axis, name, dimension, output_type)


def argmin(input: Any, axis: Any = None, name: str | None = None, dimension: Any = None,
           output_type: Any = dtypes_lib.int64) -> Tensor:
    return _arg("ArgMin", input, axis, name, dimension, output_type)
