"""Ordering ops: Unique and TopKV2, with `sort` and `argsort` built on TopKV2 as in TF."""
from __future__ import annotations

import collections
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, get_default_graph, make_op
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules

__all__ = ["unique", "top_k", "sort", "argsort"]

UniqueOutput = collections.namedtuple("Unique", ["y", "idx"])
TopKOutput = collections.namedtuple("TopKV2", ["values", "indices"])


# ------------------------------------------------------------------ Unique
def _unique_infer(ctx: InferContext) -> list:
    x = ctx.shape(0)
    if x.ndims is not None and x.ndims != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {x.ndims}")
    return [(ctx.dtype(0), TensorShape([None])), (_rules.attr_dtype(ctx, "out_idx"), TensorShape([x[0].value
                                                                                               if x.ndims else None]))]


def _unique_kernel(xp: Any, x: Any, *, out_idx: Any) -> tuple:
    if x.ndim != 1:
        raise InvalidArgumentError(None, None, f"unique expects a 1D vector, got shape {list(x.shape)}")
    _, first, inverse = xp.unique(x, return_index=True, return_inverse=True)
    order = xp.argsort(first, kind="stable")  # unique values by first occurrence
    rank_of = xp.argsort(order)
    return xp.take(x, first[order]), rank_of[inverse.reshape(-1)].astype(out_idx.as_numpy_dtype)


def _unique_grad(op: Any, *grads: Tensor) -> list:
    raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type})")


register_op("Unique", infer=_unique_infer, kernel=_unique_kernel, grad=_unique_grad)


def unique(x: Any, out_idx: Any = dtypes_lib.int32, name: str | None = None) -> UniqueOutput:
    """The distinct values of 1-D `x` in order of first occurrence (`y`), and for each element
    of x its position in y (`idx`). Like TF, it has no gradient."""
    x = convert_to_tensor(x, name="x")
    op = make_op("Unique", [x], {"T": x.dtype.base_dtype, "out_idx": dtypes_lib.as_dtype(out_idx).base_dtype},
                 name or "Unique")
    return UniqueOutput(*op.outputs)


# ------------------------------------------------------------------ TopKV2
def _top_k_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _rules.REAL, "input")
    _rules.check_dtype(ctx, 1, _rules.INDEX, "k")
    index_type = _rules.attr_dtype(ctx, "index_type")
    x, k = ctx.shape(0), ctx.value(1)
    if ctx.shape(1).ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {ctx.shape(1).ndims}")
    if x.ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    if k is not None:
        k = int(k)
        if k < 0:
            raise ValueError(f"Dimension size, given by scalar input 1, must be non-negative but is {k}")
    if x.ndims is None:
        return [(dtype, unknown_shape()), (index_type, unknown_shape())]
    dims = x.as_list()
    if k is not None and dims[-1] is not None and dims[-1] < k:
        raise ValueError(f"input must have last dimension >= k = {k} but is {dims[-1]}")
    shape = TensorShape(dims[:-1] + [k])
    return [(dtype, shape), (index_type, shape)]


def _top_k_kernel(xp: Any, input: Any, k: Any, *, index_type: Any) -> tuple:
    """Largest first; equal values keep their original order (lower index first)."""
    k = int(k)
    n = input.shape[-1]
    if k < 0:
        raise InvalidArgumentError(None, None, f"Need k >= 0, got {k}")
    if n < k:
        raise InvalidArgumentError(None, None, f"input must have at least k columns. Had {n}, needed {k}")
    # A stable ascending sort of the reversed row, read backwards, is a stable descending sort.
    descending = n - 1 - xp.argsort(input[..., ::-1], axis=-1, kind="stable")[..., ::-1]
    indices = descending[..., :k]
    return xp.take_along_axis(input, indices, axis=-1), indices.astype(index_type.as_numpy_dtype)


def _top_k_grad(op: Any, grad: Tensor, _indices_grad: Tensor) -> list:
    """Scatters each value's gradient back to the position it was taken from."""
    from caudal.ops.array_ops import expand_dims, reshape, shape, size
    from caudal.ops.array_ops import range as range_
    from caudal.ops.index_ops import scatter_nd
    from caudal.ops.math_ops import add, cast, multiply

    x, indices = op.inputs[0], op.outputs[1]
    x_shape = shape(x, out_type=indices.dtype)
    columns = x_shape[-1]
    k = shape(indices, out_type=indices.dtype)[-1]
    rows = reshape(indices, [-1, k])
    row_starts = expand_dims(multiply(range_(0, shape(rows, out_type=indices.dtype)[0]), columns), -1)
    flat_positions = reshape(add(rows, cast(row_starts, indices.dtype)), [-1, 1])
    scattered = scatter_nd(flat_positions, reshape(grad, [-1]), reshape(size(x, out_type=indices.dtype), [1]))
    return [reshape(scattered, x_shape), None]


register_op("TopKV2", infer=_top_k_infer, kernel=_top_k_kernel, grad=_top_k_grad)


def top_k(input: Any, k: Any = 1, sorted: bool = True, name: str | None = None,  # noqa: A002 - TF's name
          index_type: Any = dtypes_lib.int32) -> TopKOutput:
    """The `k` largest entries of each last-dimension row (`values`) and their positions
    (`indices`), largest first; ties go to the lower index. Results are always sorted, which
    TF allows for `sorted=False`."""
    x = convert_to_tensor(input, name="input")
    k_t = convert_to_tensor(k, dtype_hint=dtypes_lib.int32, name="k")
    op = make_op("TopKV2", [x, k_t], {"T": x.dtype.base_dtype, "Tk": k_t.dtype.base_dtype, "sorted": bool(sorted),
                                      "index_type": dtypes_lib.as_dtype(index_type).base_dtype}, name or "TopKV2")
    return TopKOutput(*op.outputs)


# ------------------------------------------------------------ sort, argsort
def _order_reversed(values: Tensor) -> Tensor:
    """An order-reversing map of `values` that cannot overflow: -x, -1 - x, or max - x."""
    from caudal.ops.math_ops import negative, subtract

    dtype = values.dtype.base_dtype
    if dtype.is_floating:
        return negative(values)
    if dtype in (dtypes_lib.uint8, dtypes_lib.uint16, dtypes_lib.uint32, dtypes_lib.uint64):
        return subtract(convert_to_tensor(np.iinfo(dtype.as_numpy_dtype).max, dtype=dtype), values)
    return subtract(convert_to_tensor(-1, dtype=dtype), values)


def _swap_with_last(values: Tensor, axis: int) -> Any:
    """The permutation exchanging `axis` and the last dimension; a tensor when the rank is unknown."""
    from caudal.ops.array_ops import range as range_
    from caudal.ops.array_ops import rank as rank_of
    from caudal.ops.comparison_ops import equal, where_v2
    from caudal.ops.math_ops import subtract

    rank = values.shape.ndims
    if rank is not None:
        a = _rules.normalize_axis(axis, rank)
        perm = list(range(rank))
        perm[a], perm[-1] = perm[-1], perm[a]
        return perm
    if axis < 0:
        raise ValueError(f"Sorting along the negative axis {axis} needs a tensor of known rank")
    last = subtract(rank_of(values), 1)
    positions = range_(rank_of(values))
    return where_v2(equal(positions, axis), last, where_v2(equal(positions, last), axis, positions))


def _sort_or_argsort(values: Any, axis: Any, direction: str, want_indices: bool) -> Tensor:
    from caudal.framework.constant_value import constant_value
    from caudal.ops.array_ops import shape, transpose

    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"Argument `direction` should be one of ASCENDING, DESCENDING. Received: "
                         f"direction={direction}")
    values = convert_to_tensor(values, name="values")
    if values.dtype.base_dtype not in _rules.REAL:
        raise TypeError(f"Value passed to parameter 'x' has DataType {values.dtype.base_dtype.name} not in list "
                        f"of allowed values: {_rules._names(_rules.REAL)}")
    static_axis = constant_value(convert_to_tensor(axis, dtype_hint=dtypes_lib.int32))
    if static_axis is None or np.ndim(static_axis) != 0:
        raise ValueError(f"axis must be a constant scalar, got {axis}")
    a = int(static_axis)
    rank = values.shape.ndims
    perm = None
    if a != -1 and not (rank is not None and a % rank == rank - 1 and -rank <= a < rank):
        perm = _swap_with_last(values, a)
    keys = _order_reversed(values) if direction == "ASCENDING" else values
    if perm is not None:
        keys = transpose(keys, perm)
    count = keys.shape[-1].value if keys.shape.ndims is not None else None
    top_values, top_indices = top_k(keys, count if count is not None else shape(keys)[-1])
    result = top_indices if want_indices else top_values
    if perm is not None:
        result = transpose(result, perm)
    if want_indices or direction == "DESCENDING":
        return result
    return _order_reversed(result)


def sort(values: Any, axis: int = -1, direction: str = "ASCENDING", name: str | None = None) -> Tensor:
    """Sorted copy of `values` along `axis` (ASCENDING or DESCENDING), through TopKV2 like TF."""
    with get_default_graph().name_scope(name or "sort"):
        return _sort_or_argsort(values, axis, direction, want_indices=False)


def argsort(values: Any, axis: int = -1, direction: str = "ASCENDING", stable: bool = False,
            name: str | None = None) -> Tensor:
    """int32 positions that sort `values` along `axis`; always stable, as TF's is today."""
    with get_default_graph().name_scope(name or "argsort"):
        return _sort_or_argsort(values, axis, direction, want_indices=True)
