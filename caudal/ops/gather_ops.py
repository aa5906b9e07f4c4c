"""GatherV2, UnsortedSegmentSum, and `boolean_mask` built from Where and Gather as in TF.

Gather's gradient along axis 0 is an IndexedSlices, as TF builds it: the
incoming gradient reshaped to one row per index, the indices flattened, and
params' shape (an embedding lookup's gradient names only the rows it read, and
optimizers update only those). Along another axis it is dense: the gathered
axes moved to the front, summed into params' rows with UnsortedSegmentSum,
and moved back.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor, register_tensor_conversion_function
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.indexed_slices import IndexedSlices
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules
from caudal.ops._scatter import scatter_add_rows

__all__ = ["gather", "boolean_mask", "unsorted_segment_sum"]


def _gather_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 1, _rules.INDEX, "indices")
    params, indices = ctx.shape(0), ctx.shape(1)
    axis = ctx.value(2)
    batch_dims = int(ctx.attrs.get("batch_dims", 0))
    if params.ndims is None or indices.ndims is None or axis is None:
        return [(ctx.dtype(0), unknown_shape())]
    a = _rules.normalize_axis(int(axis), params.ndims, ctx.name)
    b = batch_dims + indices.ndims if batch_dims < 0 else batch_dims
    if b:
        if b > indices.ndims or b > a:
            raise ValueError(f"batch_dims = {batch_dims} must be less than or equal to rank(indices) = "
                             f"{indices.ndims} and to axis = {a}")
        TensorShape(params.dims[:b]).assert_is_compatible_with(TensorShape(indices.dims[:b]))
    dims = params.as_list()
    return [(ctx.dtype(0), TensorShape(dims[:a] + indices.as_list()[b:] + dims[a + 1:]))]


def _gather_kernel(xp: Any, params: Any, indices: Any, axis: Any, *, batch_dims: int) -> Any:
    a = int(axis) % params.ndim
    size = params.shape[a]
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        bad = indices[(indices < 0) | (indices >= size)].reshape(-1)[0]
        raise InvalidArgumentError(None, None, f"indices = {bad} is not in [0, {size})")
    b = batch_dims + indices.ndim if batch_dims < 0 else batch_dims
    if not b:
        return xp.take(params, indices, axis=a)
    # TF's batch_dims: one gather per batch position, over the first b dimensions params and indices share
    batch = params.shape[:b]
    flat_params = params.reshape((-1,) + params.shape[b:])
    flat_indices = indices.reshape((-1,) + indices.shape[b:])
    parts = [xp.take(p, i, axis=a - b) for p, i in zip(flat_params, flat_indices)]
    out_rest = params.shape[b:a] + indices.shape[b:] + params.shape[a + 1:]
    return xp.reshape(xp.stack(parts), batch + out_rest) if parts else xp.zeros(batch + out_rest, params.dtype)


def _gather_grad(op: Any, grad: Tensor) -> list:
    """An IndexedSlices of params' shape along axis 0 (TF's ops and names: Shape, Size, ExpandDims,
    strided_slice, concat, Reshape, Reshape_1); along another axis, the dense gradient."""
    from caudal.ops.array_ops import concat, expand_dims, reshape, shape, size, transpose

    params, indices, axis = op.inputs
    if op._attrs.get("batch_dims", 0):
        raise NotImplementedError(f"The gradient of {op.name} with batch_dims != 0 is not supported by caudal")
    axis_value = constant_value(axis)
    if axis_value is not None and int(axis_value) == 0:
        params_shape = shape(params)
        indices_size = expand_dims(size(indices), 0)
        values_shape = concat([indices_size, params_shape[1:]], 0)
        values = reshape(_summed_rows(grad), values_shape)
        return [IndexedSlices(values, reshape(indices, indices_size), params_shape), None, None]
    rank = params.shape.ndims
    if axis_value is None or rank is None:
        raise NotImplementedError(f"The gradient of {op.name} needs a constant axis and params of known rank")
    a = int(axis_value) % rank
    grad = _summed_rows(grad)
    if a == 0:
        return [_scatter_rows(grad, indices, params), None, None]
    k = indices.shape.ndims
    if k is None:
        raise NotImplementedError(f"The gradient of {op.name} along axis {a} needs indices of known rank")
    # Move the gathered dimensions to the front, scatter, and move the axis back.
    out_rank = rank - 1 + k
    gathered = list(range(a, a + k))
    grad_front = transpose(grad, gathered + [i for i in range(out_rank) if i not in gathered])
    params_perm = [a] + [i for i in range(rank) if i != a]
    scattered = _scatter_rows(grad_front, indices, transpose(params, params_perm))
    return [transpose(scattered, np.argsort(params_perm).astype(np.int32)), None, None]


def _scatter_rows(grad: Tensor, indices: Tensor, params: Tensor) -> Tensor:
    from caudal.ops.array_ops import concat, reshape, shape

    params_shape = shape(params)
    flat_indices = reshape(indices, [-1])
    flat_grad = reshape(grad, concat([[-1], params_shape[1:]], 0))
    return unsorted_segment_sum(flat_grad, flat_indices, params_shape[0])


register_op("GatherV2", infer=_gather_infer, kernel=_gather_kernel, grad=_gather_grad)


def gather(params: Any, indices: Any, validate_indices: Any = None, name: str | None = None, axis: Any = None,
           batch_dims: int = 0) -> Tensor:
    """Slices of `params` along `axis` (default 0) at `indices`."""
    params = convert_to_tensor(params, name="params")
    indices = convert_to_tensor(indices, name="indices")
    axis_t = convert_to_tensor(batch_dims if axis is None else axis, dtype_hint=dtypes_lib.int32, name="axis")
    return apply_op("GatherV2", [params, indices, axis_t], {"Tparams": params.dtype.base_dtype,
                                                            "Tindices": indices.dtype.base_dtype,
                                                            "Taxis": axis_t.dtype.base_dtype,
                                                            "batch_dims": batch_dims}, name or "GatherV2")


def _segment_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 1, _rules.INDEX, "segment_ids")
    data, ids = ctx.shape(0), ctx.shape(1)
    num = ctx.value(2)
    if data.ndims is None or ids.ndims is None:
        return [(ctx.dtype(0), unknown_shape())]
    rest = data.as_list()[ids.ndims:]
    return [(ctx.dtype(0), TensorShape([None if num is None else int(num)] + rest))]


def _segment_kernel(xp: Any, data: Any, segment_ids: Any, num_segments: Any) -> Any:
    """Rows with an id outside [0, num_segments) are dropped, as TF's CPU kernel does."""
    ids = segment_ids.reshape(-1)
    flat = data.reshape((ids.shape[0],) + data.shape[segment_ids.ndim:])
    return scatter_add_rows(xp, flat, ids, int(num_segments))


def _segment_numpy(xp: Any, data: Any, segment_ids: Any, num_segments: Any) -> Any:
    n = int(num_segments)
    ids = segment_ids.reshape(-1)
    flat = data.reshape((ids.size,) + data.shape[segment_ids.ndim:])
    out = np.zeros((n,) + flat.shape[1:], dtype=data.dtype)
    valid = (ids >= 0) & (ids < n)
    np.add.at(out, ids[valid], flat[valid])
    return out


def _segment_grad(op: Any, grad: Tensor) -> list:
    """Each data row gets the gradient of its segment; rows with an out-of-range id get 0."""
    from caudal.ops.array_ops import expand_dims
    from caudal.ops.comparison_ops import greater_equal, less, logical_and, where_v2
    from caudal.ops.constant_ops import zeros_like
    from caudal.ops.math_ops import maximum, minimum, subtract

    ids = op.inputs[1]
    num = op.inputs[2]
    safe_ids = minimum(maximum(ids, 0), subtract(num, 1))
    gathered = gather(grad, safe_ids)
    valid = logical_and(greater_equal(ids, 0), less(ids, num))
    extra = (gathered.shape.ndims or 0) - (ids.shape.ndims or 0)
    for _ in range(extra):
        valid = expand_dims(valid, -1)
    return [where_v2(valid, gathered, zeros_like(gathered)), None, None]


register_op("UnsortedSegmentSum", infer=_segment_infer, kernel=_segment_kernel, variants={"numpy": _segment_numpy},
            grad=_segment_grad)


def unsorted_segment_sum(data: Any, segment_ids: Any, num_segments: Any, name: str | None = None) -> Tensor:
    data = convert_to_tensor(data, name="data")
    ids = convert_to_tensor(segment_ids, name="segment_ids")
    num = convert_to_tensor(num_segments, dtype_hint=dtypes_lib.int32, name="num_segments")
    return apply_op("UnsortedSegmentSum", [data, ids, num], {"T": data.dtype.base_dtype,
                                                             "Tindices": ids.dtype.base_dtype,
                                                             "Tnumsegments": num.dtype.base_dtype},
                    name or "UnsortedSegmentSum")


def boolean_mask(tensor: Any, mask: Any, name: str = "boolean_mask", axis: Any = None) -> Tensor:
    """The elements (or slices) of `tensor` where `mask` is true, flattened over the mask's dims."""
    from caudal.ops.array_ops import concat, reshape, shape, squeeze
    from caudal.ops.comparison_ops import where

    with get_default_graph().name_scope(name) as scope:
        tensor = convert_to_tensor(tensor, name="tensor")
        mask = convert_to_tensor(mask, name="mask")
        mask_rank = mask.shape.ndims
        if mask_rank is None:
            raise ValueError("Number of mask dimensions must be specified, even if some dimensions are None.")
        if mask_rank == 0:
            raise ValueError("mask cannot be scalar.")
        axis = 0 if axis is None else axis
        leading = shape(tensor)[:axis] if axis else None
        flat_shape = [-1] if tensor.shape.ndims == mask_rank + axis else \
            concat([[-1], shape(tensor)[axis + mask_rank:]], 0)
        if leading is not None:
            flat_shape = concat([leading, flat_shape], 0)
        flat = reshape(tensor, flat_shape)
        indices = squeeze(where(reshape(mask, [-1])), axis=[1])
        return gather(flat, indices, axis=axis, name=scope[:-1] + "/")


# ------------------------------------------------------------ IndexedSlices to Tensor
_LARGE_DENSE_ELEMENTS = 100_000_000  # TF warns when densifying this many elements or more


def _indexed_slices_to_tensor(value: IndexedSlices, dtype: Any = None, name: str | None = None,
                              as_ref: bool = False) -> Tensor:
    """The dense tensor of `value`: its rows summed into `dense_shape` (TF's conversion)."""
    if dtype is not None and not dtypes_lib.as_dtype(dtype).is_compatible_with(value.dtype):
        raise ValueError(f"Incompatible tensor conversion requested to `dtype` {dtypes_lib.as_dtype(dtype).name} "
                         f"for IndexedSlices ({value}) with dtype {value.dtype.name}")
    if value.dense_shape is None:
        raise ValueError(f"Tensor conversion requested for IndexedSlices for argument `value` without "
                         f"dense_shape: {value}")
    known = constant_value(value.dense_shape)
    if known is None:
        if value.dense_shape.op.type != "VariableShape":
            warnings.warn(f"Converting sparse IndexedSlices({value}) to a dense Tensor of unknown shape. This may "
                          "consume a large amount of memory.", stacklevel=3)
    elif int(np.prod(known)) >= _LARGE_DENSE_ELEMENTS:
        warnings.warn(f"Converting sparse IndexedSlices to a dense Tensor with {int(np.prod(known))} elements. "
                      "This may consume a large amount of memory.", stacklevel=3)
    return _summed_rows(value, name)


def _summed_rows(value: Any, name: str | None = None) -> Tensor:
    """A Tensor as it is; an IndexedSlices' rows summed into its dense shape (no warning, as TF's gather
    gradient converts the gradient it receives)."""
    if not isinstance(value, IndexedSlices):
        return value
    if value.dense_shape is None:
        raise ValueError(f"Tensor conversion requested for IndexedSlices for argument `indexed_slices` without "
                         f"dense_shape: {value!s}")
    with value.graph.as_default():
        return unsorted_segment_sum(value.values, value.indices, value.dense_shape[0], name=name)


register_tensor_conversion_function(IndexedSlices, _indexed_slices_to_tensor)
