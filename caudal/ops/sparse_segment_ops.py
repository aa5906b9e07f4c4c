"""The reductions TF's `embedding_lookup_sparse` combines embeddings with:

- SparseSegmentSum / SparseSegmentMean / SparseSegmentSqrtN (`tf.sparse.segment_sum`, ...):
  `out[s] = reduce(data[indices[i]] for i with segment_ids[i] == s)`, with `num_segments =
  segment_ids[-1] + 1`, empty segments zero, the mean dividing by the count and sqrtn by its
  square root; TF's run-time checks in its order (ids increasing, segment ids in range, data
  indices in range). Their gradients are the dense SparseSegment*Grad ops TF uses when
  `sparse_gradient` is false (caudal has no IndexedSlices): each `indices[i]` row receives
  `grad[segment_ids[i]]`, scaled by 1/count or 1/sqrt(count);
- DivNoNan (`tf.div_no_nan`): `x / y`, and 0 where `y` is 0, with TF's gradient.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules

__all__ = ["sparse_segment_sum", "sparse_segment_mean", "sparse_segment_sqrt_n", "segment_sum", "segment_mean",
           "segment_sqrt_n", "div_no_nan"]

_REDUCTIONS = {"SparseSegmentSum": "sum", "SparseSegmentMean": "mean", "SparseSegmentSqrtN": "sqrtn"}
_GRAD_OPS = {"sum": "SparseSegmentSumGrad", "mean": "SparseSegmentMeanGrad", "sqrtn": "SparseSegmentSqrtNGrad"}


def _no_gradient(op: Any, *grads: Any) -> list:
    raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type})")


def _check_pair(indices: TensorShape, ids: TensorShape) -> None:
    """indices and segment_ids: vectors of one length (TF's message when the lengths differ)."""
    if indices.ndims == 1 and ids.ndims == 1:
        a, b = indices[0].value, ids[0].value
        if a is not None and b is not None and a != b:
            raise ValueError(f"Dimension 0 in both shapes must be equal, but are {a} and {b}. Shapes are [{a}] and "
                             f"[{b}].")


# ------------------------------------------------------- SparseSegment reductions
def _reduction_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _rules.FLOAT if ctx.type != "SparseSegmentSum" else _rules.REAL, "data")
    _rules.check_dtype(ctx, 1, _rules.INDEX, "indices")
    _rules.check_dtype(ctx, 2, _rules.INDEX, "segment_ids")
    data = ctx.shape(0).with_rank_at_least(1)
    indices, ids = ctx.shape(1).with_rank(1), ctx.shape(2).with_rank(1)
    _check_pair(indices, ids)
    if data.ndims is None:
        return [(dtype, unknown_shape())]
    return [(dtype, TensorShape([None] + data.as_list()[1:]))]


def _segment_runs(ids: np.ndarray, rows: int) -> list[tuple[int, int, int]]:
    """(segment id, start, end) of each run of equal ids, checked in TF's order."""
    runs = []
    start = 0
    count = ids.shape[0]
    while start < count:
        segment = int(ids[start])
        end = start + 1
        while end < count and int(ids[end]) == segment:
            end += 1
        if end < count and segment >= int(ids[end]):
            raise InvalidArgumentError(None, None, "segment ids are not increasing")
        if not 0 <= segment < rows:
            raise InvalidArgumentError(None, None, f"Segment id {segment} out of range [0, {rows}), possibly because "
                                                   "'segment_ids' input is not sorted.")
        runs.append((segment, start, end))
        start = end
    return runs


def _scale(kind: str, count: int, dtype: Any) -> Any:
    if kind == "mean":
        return np.asarray(count, dtype=dtype)
    if kind == "sqrtn":
        return np.asarray(np.sqrt(np.float64(count)), dtype=dtype)
    return None


def _reduce_kernel(kind: str) -> Any:
    def kernel(xp: Any, data: Any, indices: Any, segment_ids: Any) -> Any:
        values = np.asarray(data)
        index = np.asarray(indices).astype(np.int64)
        ids = np.asarray(segment_ids).astype(np.int64)
        if index.shape[0] != ids.shape[0]:
            raise InvalidArgumentError(None, None, "segment_ids and indices should have same size.")
        rows = int(ids[-1]) + 1 if ids.size else 0
        if rows < 0:
            raise InvalidArgumentError(None, None, "segment ids must be >= 0")
        out = np.zeros((rows,) + values.shape[1:], dtype=values.dtype)
        limit = values.shape[0]
        for segment, start, end in _segment_runs(ids, rows):
            chosen = index[start:end]
            bad = np.flatnonzero((chosen < 0) | (chosen >= limit))
            if bad.size:
                at = start + int(bad[0])
                raise InvalidArgumentError(None, None, f"Bad: indices[{at}] == {int(index[at])} out of range "
                                                       f"[0, {limit})")
            total = values[chosen].sum(axis=0, dtype=values.dtype)
            scale = _scale(kind, end - start, values.dtype)
            out[segment] = total if scale is None else total / scale
        return xp.asarray(out)

    return kernel


def _reduction_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.array_ops import shape

    kind = _REDUCTIONS[op.type]
    data, indices, ids = op.inputs
    dim0 = shape(data)[0]
    return [_grad_op(kind, grad, indices, ids, dim0), None, None]


for _type, _kind in _REDUCTIONS.items():
    register_op(_type, infer=_reduction_infer, kernel=_reduce_kernel(_kind), grad=_reduction_grad)


def _segment_reduction(op_type: str, data: Any, indices: Any, segment_ids: Any, name: str | None) -> Tensor:
    with get_default_graph().name_scope(name or op_type) as scope:
        data = convert_to_tensor(data, name="data")
        indices = convert_to_tensor(indices, name="indices")
        ids = convert_to_tensor(segment_ids, name="segment_ids")
        return apply_op(op_type, [data, indices, ids],
                        {"T": data.dtype.base_dtype, "Tidx": indices.dtype.base_dtype,
                         "Tsegmentids": ids.dtype.base_dtype, "sparse_gradient": False}, scope)


def sparse_segment_sum(data: Any, indices: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    """`tf.sparse.segment_sum`: `out[s]` is the sum of `data[indices[i]]` over the i in segment s."""
    return _segment_reduction("SparseSegmentSum", data, indices, segment_ids, name)


def sparse_segment_mean(data: Any, indices: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    """`tf.sparse.segment_mean`: as sparse_segment_sum, divided by each segment's count."""
    return _segment_reduction("SparseSegmentMean", data, indices, segment_ids, name)


def sparse_segment_sqrt_n(data: Any, indices: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    """`tf.sparse.segment_sqrt_n`: as sparse_segment_sum, divided by sqrt of each segment's count."""
    return _segment_reduction("SparseSegmentSqrtN", data, indices, segment_ids, name)


segment_sum = sparse_segment_sum
segment_mean = sparse_segment_mean
segment_sqrt_n = sparse_segment_sqrt_n


# ---------------------------------------------------- SparseSegment*Grad (dense)
def _grad_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _rules.FLOAT, "grad")
    _rules.check_dtype(ctx, 1, _rules.INDEX, "indices")
    _rules.check_dtype(ctx, 2, _rules.INDEX, "segment_ids")
    _rules.check_dtype(ctx, 3, frozenset([dtypes_lib.int32]), "output_dim0")
    grad = ctx.shape(0).with_rank_at_least(1)
    indices, ids = ctx.shape(1).with_rank(1), ctx.shape(2).with_rank(1)
    _check_pair(indices, ids)
    ctx.shape(3).with_rank(0)
    if grad.ndims is None:
        return [(dtype, unknown_shape())]
    dim0 = ctx.value(3)
    return [(dtype, TensorShape([None if dim0 is None else int(dim0)] + grad.as_list()[1:]))]


def _grad_kernel(kind: str) -> Any:
    def kernel(xp: Any, grad: Any, indices: Any, segment_ids: Any, output_dim0: Any) -> Any:
        values = np.asarray(grad)
        index = np.asarray(indices).astype(np.int64)
        ids = np.asarray(segment_ids).astype(np.int64)
        rows = int(output_dim0)
        segments = values.shape[0]
        if ids.size and (ids.min() < 0 or ids.max() >= segments):
            raise InvalidArgumentError(None, None, "Invalid number of segments")
        bad = np.flatnonzero((index < 0) | (index >= rows))
        if bad.size:
            raise InvalidArgumentError(None, None, f"Index {int(index[bad[0]])} out of range [0, {rows}).")
        counts = np.bincount(ids, minlength=segments) if ids.size else np.zeros((segments,), np.int64)
        rows_in = values[ids]
        if kind == "mean":
            rows_in = rows_in / counts[ids].astype(values.dtype).reshape((-1,) + (1,) * (values.ndim - 1))
        elif kind == "sqrtn":
            root = np.sqrt(counts[ids].astype(np.float64)).astype(values.dtype)
            rows_in = rows_in / root.reshape((-1,) + (1,) * (values.ndim - 1))
        out = np.zeros((rows,) + values.shape[1:], dtype=values.dtype)
        np.add.at(out, index, rows_in.astype(values.dtype, copy=False))
        return xp.asarray(out)

    return kernel


for _kind, _type in _GRAD_OPS.items():
    register_op(_type, infer=_grad_infer, kernel=_grad_kernel(_kind), grad=_no_gradient)


def _grad_op(kind: str, grad: Tensor, indices: Tensor, segment_ids: Tensor, output_dim0: Tensor) -> Tensor:
    return apply_op(_GRAD_OPS[kind], [grad, indices, segment_ids, output_dim0],
                    {"T": grad.dtype.base_dtype, "Tidx": indices.dtype.base_dtype,
                     "Tsegmentids": segment_ids.dtype.base_dtype})


# ------------------------------------------------------------------ DivNoNan
def _div_no_nan_kernel(xp: Any, x: Any, y: Any) -> Any:
    zero = y == 0
    safe = xp.where(zero, xp.ones_like(y), y)
    return xp.where(zero, xp.zeros((), dtype=x.dtype), xp.true_divide(x, safe)).astype(x.dtype, copy=False)


def _div_no_nan_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops._broadcast import sum_to_shape_of
    from caudal.ops.math_ops import multiply, negative

    x, y = op.inputs
    gx = div_no_nan(grad, y)
    gy = multiply(grad, div_no_nan(div_no_nan(negative(x), y), y))
    return [sum_to_shape_of(gx, x, (y,)), sum_to_shape_of(gy, y, (x,))]


register_op("DivNoNan", infer=_rules.binary(_rules.FLOAT_COMPLEX), kernel=_div_no_nan_kernel, grad=_div_no_nan_grad)


def div_no_nan(x: Any, y: Any, name: str | None = None) -> Tensor:
    """`tf.div_no_nan`: `x / y`, with 0 wherever `y` is 0 (whatever `x` is)."""
    with get_default_graph().name_scope(name or "div_no_nan") as scope:
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, dtype=x.dtype.base_dtype, name="y")
        return apply_op("DivNoNan", [x, y], {"T": x.dtype.base_dtype}, scope)
