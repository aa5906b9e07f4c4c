"""Index-driven ops: GatherNd, ScatterNd, SegmentSum, DynamicPartition, DynamicStitch,
and `sequence_mask` and `meshgrid`, built from public ops as TF builds them."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph, make_op
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules
from caudal.ops._scatter import last_rows, scatter_add_rows

__all__ = ["gather_nd", "scatter_nd", "segment_sum", "dynamic_partition", "dynamic_stitch", "sequence_mask",
           "meshgrid"]


def _dims_text(shape: Any) -> str:
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


def _bad_row(xp: Any, flat: Any, limits: tuple[int, ...]) -> int | None:
    """The first row of `flat` (n x k indices) outside `limits`, or None."""
    if flat.size == 0:
        return None
    bad = xp.any((flat < 0) | (flat >= xp.asarray(limits, dtype=xp.int64)), axis=1)
    return int(xp.argmax(bad)) if xp.any(bad) else None


# ---------------------------------------------------------------- GatherNd
def _gather_nd_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 1, _rules.INDEX, "indices")
    params, indices = ctx.shape(0), ctx.shape(1)
    if indices.ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    if indices.ndims is None or params.ndims is None or indices[-1].value is None:
        return [(ctx.dtype(0), unknown_shape())]
    k = indices[-1].value
    if k > params.ndims:
        raise ValueError(f"indices.shape[-1] must be <= params.rank, but saw indices shape: "
                         f"{_dims_text(indices.as_list())} and params shape: {_dims_text(params.as_list())}")
    return [(ctx.dtype(0), TensorShape(indices.as_list()[:-1] + params.as_list()[k:]))]


def _gather_nd_kernel(xp: Any, params: Any, indices: Any) -> Any:
    k = indices.shape[-1]
    if k > params.ndim:
        raise InvalidArgumentError(None, None, f"indices.shape[-1] must be <= params.rank, but saw indices shape: "
                                               f"{_dims_text(indices.shape)} and params shape: "
                                               f"{_dims_text(params.shape)}")
    flat = indices.reshape(math.prod(indices.shape[:-1]), k)
    bad = _bad_row(xp, flat, params.shape[:k])
    if bad is not None:
        raise InvalidArgumentError(None, None, f"indices[{bad}] = [{', '.join(str(int(i)) for i in flat[bad])}] "
                                               f"does not index into param shape {_dims_text(params.shape)}")
    rows = xp.broadcast_to(params[None], (flat.shape[0],) + params.shape) if k == 0 else params[tuple(flat.T)]
    return xp.reshape(rows, indices.shape[:-1] + params.shape[k:])


def _gather_nd_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.array_ops import shape

    params, indices = op.inputs
    return [scatter_nd(indices, grad, shape(params, out_type=indices.dtype)), None]


register_op("GatherNd", infer=_gather_nd_infer, kernel=_gather_nd_kernel, grad=_gather_nd_grad)


def gather_nd(params: Any, indices: Any, name: str | None = None, batch_dims: int = 0) -> Tensor:
    """Slices of `params` at the index tuples in the last dimension of `indices`; with
    `batch_dims`, the leading dimensions of both are batch dimensions gathered pairwise."""
    params = convert_to_tensor(params, name="params")
    indices = convert_to_tensor(indices, name="indices")
    if batch_dims:
        return _batch_gather_nd(params, indices, int(batch_dims), name)
    return apply_op("GatherNd", [params, indices], {"Tparams": params.dtype.base_dtype,
                                                    "Tindices": indices.dtype.base_dtype,
                                                    "bad_indices_policy": ""}, name or "GatherNd")


def _batch_gather_nd(params: Tensor, indices: Tensor, batch_dims: int, name: str | None) -> Tensor:
    """Flattens the batch dimensions into one, prefixes each index tuple with its batch row, and
    gathers once."""
    from caudal.ops.array_ops import concat, expand_dims, rank, reshape, shape
    from caudal.ops.array_ops import range as range_
    from caudal.ops.constant_ops import fill, zeros_like
    from caudal.ops.math_ops import add, subtract
    from caudal.ops.reduction_ops import reduce_prod

    with get_default_graph().name_scope(name or "batch_gather_nd") as scope:
        params_shape = shape(params, out_type=indices.dtype)
        indices_shape = shape(indices, out_type=indices.dtype)
        batch_shape = params_shape[:batch_dims]
        batch_size = reduce_prod(batch_shape)
        flat_params = reshape(params, concat([[-1], params_shape[batch_dims:]], 0))
        flat_indices = reshape(indices, concat([[-1], indices_shape[batch_dims:]], 0))
        # Row b of the flattened batch, shaped [N, 1, ..., 1] to broadcast over the index tuples.
        row_shape = concat([[-1], fill(expand_dims(subtract(rank(flat_indices), 1), 0), 1)], 0)
        rows = reshape(range_(0, batch_size, dtype=indices.dtype), row_shape)
        prefixed = concat([add(rows, zeros_like(flat_indices[..., :1])), flat_indices], -1)
        gathered = gather_nd(flat_params, prefixed)
        return reshape(gathered, concat([batch_shape, shape(gathered, out_type=indices.dtype)[1:]], 0),
                       name=scope[:-1] + "/")


# --------------------------------------------------------------- ScatterNd
def _scatter_nd_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _rules.INDEX, "indices")
    _rules.check_dtype(ctx, 2, _rules.INDEX, "shape")
    indices, updates = ctx.shape(0), ctx.shape(1)
    out = ctx.shape_value(2)
    if indices.ndims is not None and out.ndims is not None and indices[-1].value is not None:
        k = indices[-1].value
        outer = indices.as_list()[:-1]
        expected = TensorShape(outer + out.as_list()[k:])
        if updates.ndims is not None and not expected.is_compatible_with(updates):
            raise ValueError(f"Dimensions [0,{len(outer)}) of indices[shape={_dims_text_partial(indices)}] must "
                             f"match dimensions of updates[shape={_dims_text_partial(updates)}], and the rest of "
                             f"updates must match shape[{k}:] of {out}")
    return [(ctx.dtype(1), out)]


def _dims_text_partial(shape: TensorShape) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _scatter_nd_checked(xp: Any, indices: Any, updates: Any, shape: Any) -> Any:
    """The checked operands: update rows, index tuples, the output shape, k."""
    out_shape = tuple(int(d) for d in shape)
    k = indices.shape[-1]
    flat = indices.reshape(math.prod(indices.shape[:-1]), k)
    expected = indices.shape[:-1] + out_shape[k:]
    if updates.shape != expected:
        raise InvalidArgumentError(None, None, f"updates shape {_dims_text(updates.shape)} does not match "
                                               f"indices.shape[:-1] + shape[{k}:] = {_dims_text(expected)}")
    bad = _bad_row(xp, flat, out_shape[:k])
    if bad is not None:
        raise InvalidArgumentError(None, None, f"indices[{bad}] = [{', '.join(str(int(i)) for i in flat[bad])}] "
                                               f"does not index into shape {_dims_text(out_shape)}")
    return updates.reshape((flat.shape[0],) + out_shape[k:]), flat, out_shape, k


def _scatter_nd_kernel(xp: Any, indices: Any, updates: Any, shape: Any) -> Any:
    """Duplicate indices add up. Each index tuple becomes a row number of the [prod(shape[:k]),
    ...] output, whose rows are then sums of updates (`scatter_add_rows`)."""
    rows, flat, out_shape, k = _scatter_nd_checked(xp, indices, updates, shape)
    if k == 0:
        return xp.sum(rows, axis=0, dtype=rows.dtype)
    strides = np.cumprod((out_shape[1:k] + (1,))[::-1])[::-1]
    linear = xp.sum(flat.astype(xp.int64) * xp.asarray(strides, dtype=xp.int64), axis=1)
    return scatter_add_rows(xp, rows, linear, math.prod(out_shape[:k])).reshape(out_shape)


def _scatter_nd_numpy(xp: Any, indices: Any, updates: Any, shape: Any) -> Any:
    rows, flat, out_shape, k = _scatter_nd_checked(xp, indices, updates, shape)
    if k == 0:
        return xp.sum(rows, axis=0, dtype=rows.dtype)
    out = np.zeros(out_shape, dtype=updates.dtype)
    np.add.at(out, tuple(flat.T), rows)
    return out


def _scatter_nd_grad(op: Any, grad: Tensor) -> list:
    return [None, gather_nd(grad, op.inputs[0]), None]


register_op("ScatterNd", infer=_scatter_nd_infer, kernel=_scatter_nd_kernel, variants={"numpy": _scatter_nd_numpy},
            grad=_scatter_nd_grad)


def scatter_nd(indices: Any, updates: Any, shape: Any, name: str | None = None) -> Tensor:
    """A zero tensor of `shape` with `updates` added at `indices`; duplicates are summed."""
    indices = convert_to_tensor(indices, name="indices")
    updates = convert_to_tensor(updates, name="updates")
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    shape_t = convert_to_tensor(shape, dtype_hint=indices.dtype.base_dtype, name="shape")
    return apply_op("ScatterNd", [indices, updates, shape_t], {"T": updates.dtype.base_dtype,
                                                               "Tindices": indices.dtype.base_dtype,
                                                               "bad_indices_policy": ""}, name or "ScatterNd")


# -------------------------------------------------------------- SegmentSum
def _segment_sum_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _rules.NUMERIC, "data")
    _rules.check_dtype(ctx, 1, _rules.INDEX, "segment_ids")
    data, ids = ctx.shape(0), ctx.shape(1)
    if ids.ndims is not None and ids.ndims != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {ids.ndims}")
    if data.ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    if data.ndims is None:
        return [(ctx.dtype(0), unknown_shape())]
    value = ctx.value(1)
    count = None if value is None else (int(value[-1]) + 1 if value.size else 0)
    return [(ctx.dtype(0), TensorShape([count] + data.as_list()[1:]))]


def _segment_count(xp: Any, data: Any, segment_ids: Any) -> int:
    """The number of segments, once the ids are checked."""
    if segment_ids.shape[0] != data.shape[0]:
        raise InvalidArgumentError(None, None, "segment_ids should be the same size as dimension 0 of input.")
    count = int(segment_ids[-1]) + 1 if segment_ids.size else 0
    if segment_ids.size and segment_ids.min() < 0:
        bad = int(segment_ids[segment_ids < 0][0])
        raise InvalidArgumentError(None, None, f"Segment id {bad} out of range [0, {count}), possibly because "
                                               f"'segment_ids' input is not sorted.")
    if xp.any(xp.diff(segment_ids) < 0):
        raise InvalidArgumentError(None, None, "segment ids are not increasing")
    return count


def _segment_sum_kernel(xp: Any, data: Any, segment_ids: Any) -> Any:
    return scatter_add_rows(xp, data, segment_ids, _segment_count(xp, data, segment_ids))


def _segment_sum_numpy(xp: Any, data: Any, segment_ids: Any) -> Any:
    out = np.zeros((_segment_count(xp, data, segment_ids),) + data.shape[1:], dtype=data.dtype)
    np.add.at(out, segment_ids, data)
    return out


def _segment_sum_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.gather_ops import gather

    return [gather(grad, op.inputs[1]), None]


register_op("SegmentSum", infer=_segment_sum_infer, kernel=_segment_sum_kernel, variants={"numpy": _segment_sum_numpy},
            grad=_segment_sum_grad)


def segment_sum(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    """Sums the rows of `data` that share a segment id; ids must be sorted and non-negative.
    Segments with no rows (gaps in the ids) are zero, as in TF."""
    data = convert_to_tensor(data, name="data")
    ids = convert_to_tensor(segment_ids, name="segment_ids")
    return apply_op("SegmentSum", [data, ids], {"T": data.dtype.base_dtype, "Tindices": ids.dtype.base_dtype},
                    name or "SegmentSum")


# -------------------------------------------------------- DynamicPartition
def _dynamic_partition_infer(ctx: InferContext) -> list:
    if ctx.dtype(1) != dtypes_lib.int32:
        raise TypeError(f"Input 'partitions' of 'DynamicPartition' Op has type {ctx.dtype(1).name} that does not "
                        f"match expected type of int32.")
    num = ctx.attrs["num_partitions"]
    data, parts = ctx.shape(0), ctx.shape(1)
    if data.ndims is None or parts.ndims is None:
        return [(ctx.dtype(0), unknown_shape())] * num
    if parts.ndims > data.ndims:
        raise ValueError(f"Shape must be at least rank {parts.ndims} but is rank {data.ndims}")
    for d, p in zip(data.as_list(), parts.as_list(), strict=False):
        if d is not None and p is not None and d != p:
            raise ValueError(f"Dimensions must be equal, but are {d} and {p}")
    return [(ctx.dtype(0), TensorShape([None] + data.as_list()[parts.ndims:]))] * num


def _dynamic_partition_kernel(xp: Any, data: Any, partitions: Any, *, num_partitions: int) -> tuple:
    if data.shape[:partitions.ndim] != partitions.shape:
        raise InvalidArgumentError(None, None, f"data.shape must start with partitions.shape, got data.shape = "
                                               f"{_dims_text(data.shape)}, partitions.shape = "
                                               f"{_dims_text(partitions.shape)}")
    flat_parts = partitions.reshape(-1)
    bad = (flat_parts < 0) | (flat_parts >= num_partitions)
    if xp.any(bad):
        i = int(xp.argmax(bad))
        raise InvalidArgumentError(None, None, f"partitions[{i}] = {int(flat_parts[i])} is not in "
                                               f"[0, {num_partitions})")
    rows = data.reshape((flat_parts.size,) + data.shape[partitions.ndim:])
    order = xp.argsort(flat_parts, kind="stable")
    counts = xp.bincount(flat_parts, minlength=num_partitions)
    return tuple(xp.split(xp.take(rows, order, axis=0), [int(c) for c in xp.cumsum(counts)[:-1]], axis=0))


def _dynamic_partition_grad(op: Any, *grads: Tensor) -> list:
    """Partitions the positions the same way, then stitches the gradients back into place."""
    from caudal.ops.array_ops import range as range_
    from caudal.ops.array_ops import reshape, shape, size

    data, partitions = op.inputs
    positions = reshape(range_(size(partitions)), shape(partitions))
    parted = dynamic_partition(positions, partitions, op.get_attr("num_partitions"))
    stitched = dynamic_stitch(parted, list(grads))
    return [reshape(stitched, shape(data)), None]


register_op("DynamicPartition", infer=_dynamic_partition_infer, kernel=_dynamic_partition_kernel,
            grad=_dynamic_partition_grad)


def dynamic_partition(data: Any, partitions: Any, num_partitions: int, name: str | None = None) -> list[Tensor]:
    """Splits `data` into `num_partitions` tensors by the int32 `partitions` index of each slice,
    keeping the slices' order."""
    data = convert_to_tensor(data, name="data")
    partitions = convert_to_tensor(partitions, dtype_hint=dtypes_lib.int32, name="partitions")
    op = make_op("DynamicPartition", [data, partitions], {"T": data.dtype.base_dtype,
                                                         "num_partitions": int(num_partitions)},
                 name or "DynamicPartition")
    return list(op.outputs)


# ----------------------------------------------------------- DynamicStitch
def _dynamic_stitch_infer(ctx: InferContext) -> list:
    n = ctx.attrs["N"]
    for i in range(n):
        if ctx.dtype(i) != dtypes_lib.int32:
            raise TypeError(f"Tensors in list passed to 'indices' of 'DynamicStitch' Op have types "
                            f"[{ctx.dtype(i).name}] that don't all match int32.")
    dtype = _rules.check_same_dtype(ctx, range(n, 2 * n), [f"data[{i}]" for i in range(n)])
    rest: TensorShape | None = None
    for i in range(n):
        idx, data = ctx.shape(i), ctx.shape(n + i)
        if idx.ndims is None or data.ndims is None:
            continue
        if data.ndims < idx.ndims:
            raise ValueError(f"Shape must be at least rank {idx.ndims} but is rank {data.ndims}")
        for a, b in zip(idx.as_list(), data.as_list(), strict=False):
            if a is not None and b is not None and a != b:
                raise ValueError(f"Dimensions must be equal, but are {b} and {a}")
        tail = TensorShape(data.as_list()[idx.ndims:])
        if rest is not None and not rest.is_compatible_with(tail):
            raise ValueError(f"Shapes {rest} and {tail} are incompatible")
        rest = tail if rest is None else rest.merge_with(tail)
    values = [ctx.value(i) for i in range(n)]
    count = None
    if all(v is not None for v in values):
        count = max((int(np.max(v)) + 1 for v in values if np.size(v)), default=0)
    if rest is None:
        return [(dtype, unknown_shape())]
    return [(dtype, TensorShape([count] + rest.as_list()))]


def _stitch_operands(xp: Any, inputs: tuple, n: int) -> tuple[Any, Any, int]:
    """(all indices flat, all data rows, output rows), checked as TF checks them."""
    indices, data = inputs[:n], inputs[n:]
    rest = data[0].shape[indices[0].ndim:]
    flat_indices = xp.concatenate([xp.reshape(i, (-1,)) for i in indices]).astype(xp.int64)
    for i, (idx, d) in enumerate(zip(indices, data, strict=True)):
        if d.shape != idx.shape + rest:
            raise InvalidArgumentError(None, None, f"data[{i}].shape = {_dims_text(d.shape)} does not start with "
                                                   f"indices[{i}].shape = {_dims_text(idx.shape)}")
    if flat_indices.size and xp.min(flat_indices) < 0:
        raise InvalidArgumentError(None, None, f"indices[{int(xp.argmax(flat_indices < 0))}] is out of range")
    flat_data = xp.concatenate([xp.reshape(d, (-1,) + rest) for d in data])
    count = int(xp.max(flat_indices)) + 1 if flat_indices.size else 0
    return flat_indices, flat_data, count


def _dynamic_stitch_kernel(xp: Any, *inputs: Any, N: int) -> Any:  # noqa: N803 - TF's attr name
    """Later entries win: each position takes its last occurrence (`last_rows`)."""
    flat_indices, flat_data, count = _stitch_operands(xp, inputs, N)
    return last_rows(xp, flat_data, flat_indices, count)


def _dynamic_stitch_numpy(xp: Any, *inputs: Any, N: int) -> Any:  # noqa: N803 - TF's attr name
    flat_indices, flat_data, count = _stitch_operands(xp, inputs, N)
    rest = flat_data.shape[1:]
    positions, last_in_reversed = np.unique(flat_indices[::-1], return_index=True)
    out = np.zeros((count,) + rest, dtype=flat_data.dtype)
    out[positions] = flat_data[flat_indices.size - 1 - last_in_reversed]
    return out


def _dynamic_stitch_grad(op: Any, grad: Tensor) -> list:
    """Like TF, each data slice gets the gradient at its index, even a slice a later one overwrote."""
    from caudal.ops.gather_ops import gather

    n = op.get_attr("N")
    return [None] * n + [gather(grad, idx) for idx in op.inputs[:n]]


register_op("DynamicStitch", infer=_dynamic_stitch_infer, kernel=_dynamic_stitch_kernel,
            variants={"numpy": _dynamic_stitch_numpy}, grad=_dynamic_stitch_grad)


def dynamic_stitch(indices: Any, data: Any, name: str | None = None) -> Tensor:
    """Interleaves the `data` slices into one tensor at positions `indices`; later slices win."""
    index_tensors = [convert_to_tensor(i, dtype_hint=dtypes_lib.int32) for i in indices]
    data_tensors = [convert_to_tensor(d) for d in data]
    if len(index_tensors) != len(data_tensors):
        raise ValueError(f"List argument 'data' to 'DynamicStitch' Op with length {len(data_tensors)} must match "
                         f"length {len(index_tensors)} of argument 'indices'.")
    return apply_op("DynamicStitch", index_tensors + data_tensors,
                    {"N": len(index_tensors), "T": data_tensors[0].dtype.base_dtype}, name or "DynamicStitch")


# ------------------------------------------------ sequence_mask, meshgrid
def sequence_mask(lengths: Any, maxlen: Any = None, dtype: Any = dtypes_lib.bool_, name: str | None = None) -> Tensor:
    """`mask[..., j] = j < lengths[...]` for j in [0, maxlen); maxlen defaults to max(lengths)."""
    from caudal.ops.array_ops import expand_dims
    from caudal.ops.array_ops import range as range_
    from caudal.ops.comparison_ops import less
    from caudal.ops.math_ops import cast, maximum
    from caudal.ops.reduction_ops import reduce_max

    with get_default_graph().name_scope(name or "SequenceMask"):
        lengths = convert_to_tensor(lengths, name="lengths")
        if maxlen is None:
            maxlen = maximum(convert_to_tensor(0, dtype=lengths.dtype.base_dtype), reduce_max(lengths))
        else:
            maxlen = convert_to_tensor(maxlen, name="maxlen")
        if maxlen.shape.ndims is not None and maxlen.shape.ndims != 0:
            raise ValueError(f"Argument `maxlen` must be scalar for sequence_mask, received `maxlen` = {maxlen} "
                             f"with shape '{maxlen.shape}' instead")
        positions = range_(0, maxlen, 1, dtype=maxlen.dtype.base_dtype)
        mask = less(positions, cast(expand_dims(lengths, -1), maxlen.dtype.base_dtype))
        dtype = dtypes_lib.as_dtype(dtype).base_dtype if dtype is not None else dtypes_lib.bool_
        return mask if dtype == dtypes_lib.bool_ else cast(mask, dtype)


def meshgrid(*args: Any, **kwargs: Any) -> list[Tensor]:
    """N-D coordinate grids from 1-D vectors: indexing='xy' (default, Cartesian: the first two
    output dimensions swapped) or 'ij' (matrix indexing). Accepts `name` too."""
    from caudal.ops.array_ops import reshape, size, stack
    from caudal.ops.constant_ops import ones

    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(f"'{next(iter(kwargs))}' is an invalid keyword argument for this function")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Argument `indexing` parameter must be either 'xy' or 'ij', got '{indexing}'")
    with get_default_graph().name_scope(name):
        vectors = [convert_to_tensor(a) for a in args]
        n = len(vectors)
        grid_dims = [[1] * i + [-1] + [1] * (n - i - 1) for i in range(n)]
        sizes = [size(v) for v in vectors]
        if indexing == "xy" and n > 1:
            grid_dims[0], grid_dims[1] = grid_dims[1], grid_dims[0]
            sizes[0], sizes[1] = sizes[1], sizes[0]
        lines = [reshape(v, dims) for v, dims in zip(vectors, grid_dims, strict=True)]
        if n <= 1:
            return lines
        full = ones(stack(sizes), dtype=vectors[0].dtype.base_dtype)
        return [line * full for line in lines]
