"""Sparse ops on the rows of a SparseTensor, as TF builds them (TF's embedding lookups and
feature columns use them):

- SparseReshape (`tf.sparse.reshape`): new indices for a new dense shape (one dimension may be
  -1), with TF's run-time messages; the Python function also checks what is known statically
  and, as TF, gives the result a constant dense shape when both shapes are known;
- SparseFillEmptyRows (`tf.sparse.fill_empty_rows`): every empty row gets one entry
  `[row, 0, ...] = default_value`; entries keep their order within a row, rows come in order,
  and `reverse_index_map` says where each input entry went. Its gradient is
  SparseFillEmptyRowsGrad: the values' gradient gathered back, and the filled entries' summed
  into the default value's;
- `tf.sparse.retain`: the entries where a boolean vector holds (Where, Gather), as TF does.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value, constant_value_as_shape
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, get_default_graph, make_op
from caudal.framework.registry import register_op
from caudal.framework.sparse_tensor import SparseTensor, SparseTensorValue
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules

__all__ = ["sparse_reshape", "reshape", "sparse_fill_empty_rows", "fill_empty_rows", "sparse_retain", "retain"]

_INT64 = frozenset([dtypes_lib.int64])


def _dims(values: Any) -> str:
    return "[" + ",".join(str(int(v)) for v in values) + "]"


def _as_sparse(sp_input: Any) -> SparseTensor:
    if isinstance(sp_input, SparseTensorValue):
        return SparseTensor.from_value(sp_input)
    if not isinstance(sp_input, SparseTensor):
        raise TypeError("Input must be a SparseTensor.")
    return sp_input


def _no_gradient(op: Any, *grads: Any) -> list:
    raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type})")


# ---------------------------------------------------------------- SparseReshape
def _sparse_reshape_infer(ctx: InferContext) -> list:
    for i, param in enumerate(("input_indices", "input_shape", "new_shape")):
        _rules.check_dtype(ctx, i, _INT64, param)
    indices = ctx.shape(0).with_rank(2)
    ctx.shape(1).with_rank(1)
    new_shape = ctx.shape(2).with_rank(1)
    rank = new_shape[0] if new_shape.ndims == 1 else None
    return [(dtypes_lib.int64, TensorShape([indices[0] if indices.ndims == 2 else None, rank])),
            (dtypes_lib.int64, TensorShape([rank]))]


def _reshaped_dims(input_shape: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The output dense shape, with its -1 resolved, checked as TF's kernel checks it."""
    dense_size = int(np.prod(input_shape)) if input_shape.size else 1
    out = target.astype(np.int64).copy()
    unknown = -1
    product = 1
    for d, size in enumerate(out):
        if size == -1:
            if unknown != -1:
                raise InvalidArgumentError(None, None, f"only one output dimension may be -1, not both {unknown} "
                                                       f"and {d}")
            unknown = d
        else:
            if size < 0:
                raise InvalidArgumentError(None, None, f"size {d} must be non-negative, not {size}")
            product *= int(size)
    if unknown != -1:
        if product > 0:
            missing = dense_size // product
            if product * missing != dense_size:
                shown = out.copy()
                shown[unknown] = 1
                raise InvalidArgumentError(None, None, "Input to reshape is a SparseTensor with "
                                                       f"{dense_size} dense values, but the requested shape requires "
                                                       f"a multiple of {product}. input_shape={_dims(input_shape)} "
                                                       f"output_shape={_dims(shown)}")
            out[unknown] = missing
        else:
            out[unknown] = 0
    elif product != dense_size:
        raise InvalidArgumentError(None, None, f"Input to reshape is a tensor with {dense_size} dense values, but "
                                               f"the requested shape has {product}. input_shape="
                                               f"{_dims(input_shape)} output_shape={_dims(out)}")
    return out


def _sparse_reshape_kernel(xp: Any, input_indices: Any, input_shape: Any, new_shape: Any) -> tuple[Any, Any]:
    indices = np.asarray(input_indices, dtype=np.int64)
    shape = np.asarray(input_shape, dtype=np.int64)
    target = np.asarray(new_shape, dtype=np.int64)
    if indices.ndim != 2:
        raise InvalidArgumentError(None, None, "Input must be a matrix.")
    if shape.ndim != 1:
        raise InvalidArgumentError(None, None, "Input shape must be a vector.")
    if target.ndim != 1:
        raise InvalidArgumentError(None, None, f"Target shape should be a vector but received shape "
                                               f"{_dims(target.shape)}")
    if indices.shape[1] != shape.shape[0]:
        raise InvalidArgumentError(None, None, "Input tensor rank must match input shape length.")
    out_shape = _reshaped_dims(shape, target)
    if indices.shape[0] == 0 or shape.size == 0:
        linear = np.zeros((indices.shape[0],), dtype=np.int64)
    else:
        linear = np.ravel_multi_index(tuple(indices.T), tuple(int(d) for d in shape)).astype(np.int64)
    if out_shape.size and indices.shape[0]:
        out_indices = np.stack(np.unravel_index(linear, tuple(int(d) for d in out_shape)), axis=1).astype(np.int64)
    else:
        out_indices = np.zeros((indices.shape[0], out_shape.size), dtype=np.int64)
    return xp.asarray(out_indices), xp.asarray(out_shape)


register_op("SparseReshape", infer=_sparse_reshape_infer, kernel=_sparse_reshape_kernel, grad=_no_gradient)


def sparse_reshape(sp_input: Any, shape: Any, name: str | None = None) -> SparseTensor:
    """`tf.sparse.reshape`: the same entries in a SparseTensor of dense shape `shape` (one entry
    may be -1). As TF, a statically known input shape and target are checked here (ValueError)
    and give the result a constant dense shape."""
    from caudal.ops.constant_ops import constant
    from caudal.ops.control_ops import identity
    from caudal.ops.math_ops import cast

    sp = _as_sparse(sp_input)
    shape = cast(shape, dtypes_lib.int64)
    graph = get_default_graph()
    with graph.name_scope(name or "SparseReshape") as scope:
        op = make_op("SparseReshape", [sp.indices, sp.dense_shape, shape], {}, scope)
        reshaped_indices, reshaped_shape = op.outputs
        known = constant_value_as_shape(shape)
        dims = known.as_list() if known.ndims is not None else None
        if dims is not None and sp.shape.is_fully_defined():
            by_user = constant_value(shape)
            if by_user is not None and sum(int(d) == -1 for d in np.reshape(by_user, [-1])) > 1:
                raise ValueError(f"At most one dimension can be inferred (-1). Found: {by_user}")
            given = list(dims)
            in_size = int(np.prod(sp.shape.as_list()))
            implied = sum(d is None for d in dims)
            if implied == 1 and 0 not in dims:
                at = given.index(None)
                rest = given[:at] + given[at + 1:]
                dims[at] = int(in_size // int(np.prod(rest)))
            if implied == 0 or (implied == 1 and 0 not in dims):
                out_size = int(np.prod(dims))
                if out_size != in_size:
                    raise ValueError(f"Cannot reshape a tensor with {in_size} elements to shape {given} "
                                     f"({out_size} elements).")
                reshaped_shape = constant(np.array(dims, dtype=np.int64), dtype=dtypes_lib.int64)
        return SparseTensor(reshaped_indices, identity(sp.values), reshaped_shape)


reshape = sparse_reshape


# ---------------------------------------------------------- SparseFillEmptyRows
def _fill_empty_rows_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _INT64, "indices")
    _rules.check_dtype(ctx, 2, _INT64, "dense_shape")
    _rules.check_same_dtype(ctx, [1, 3], ["values", "default_value"])
    indices = ctx.shape(0).with_rank(2)
    values = ctx.shape(1).with_rank(1)
    ctx.shape(2).with_rank(1)
    ctx.shape(3).with_rank(0)
    entries = indices[0].merge_with(values[0]) if indices.ndims == 2 and values.ndims == 1 else None
    rank = indices[1] if indices.ndims == 2 else None
    return [(dtypes_lib.int64, TensorShape([None, rank])), (ctx.dtype(1), TensorShape([None])),
            (dtypes_lib.bool_, TensorShape([None])), (dtypes_lib.int64, TensorShape([entries]))]


def _fill_empty_rows_kernel(xp: Any, indices: Any, values: Any, dense_shape: Any,
                            default_value: Any) -> tuple[Any, Any, Any, Any]:
    index = np.asarray(indices, dtype=np.int64)
    shape = np.asarray(dense_shape, dtype=np.int64)
    if shape.ndim != 1:
        raise InvalidArgumentError(None, None, f"dense_shape must be a vector, saw: {_dims(shape.shape)}")
    if index.ndim != 2:
        raise InvalidArgumentError(None, None, f"indices must be a matrix, saw: {_dims(index.shape)}")
    if np.ndim(values) != 1:
        raise InvalidArgumentError(None, None, f"values must be a vector, saw: {_dims(np.shape(values))}")
    if np.ndim(default_value) != 0:
        raise InvalidArgumentError(None, None, f"default_value must be a scalar, saw: "
                                               f"{_dims(np.shape(default_value))}")
    if index.shape[0] != np.shape(values)[0]:
        raise InvalidArgumentError(None, None, f"The length of `values` ({np.shape(values)[0]}) must match the "
                                               f"first dimension of `indices` ({index.shape[0]}).")
    if shape.size == 0:
        raise InvalidArgumentError(None, None, "Dense shape cannot be empty.")
    rows = int(shape[0])
    count = index.shape[0]
    if rows == 0:
        if count:
            raise InvalidArgumentError(None, None, f"Received SparseTensor with dense_shape[0] = 0 but "
                                                   f"indices.shape[0] = {count}")
        empty_values = np.zeros((0,), dtype=np.asarray(values).dtype) if np.asarray(values).dtype != object \
            else np.empty((0,), dtype=object)
        return (xp.asarray(np.zeros((0, index.shape[1]), np.int64)), empty_values,
                xp.asarray(np.zeros((0,), np.bool_)), xp.asarray(np.zeros((0,), np.int64)))
    row_of = index[:, 0] if count else np.zeros((0,), np.int64)
    bad = np.flatnonzero((row_of < 0) | (row_of >= rows))
    if bad.size:
        i = int(bad[0])
        raise InvalidArgumentError(None, None, f"indices({i}, 0) is invalid: {int(row_of[i])} >= {rows}")
    per_row = np.bincount(row_of, minlength=rows)
    empty = per_row == 0
    sizes = np.where(empty, 1, per_row)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    order = np.argsort(row_of, kind="stable")
    rank_in_row = np.empty((count,), np.int64)
    rank_in_row[order] = np.arange(count) - np.repeat(np.concatenate([[0], np.cumsum(per_row)[:-1]]), per_row)
    reverse = starts[row_of] + rank_in_row
    total = int(sizes.sum())
    out_index = np.zeros((total, index.shape[1]), np.int64)
    out_index[reverse] = index
    filled = starts[empty]
    out_index[filled, 0] = np.flatnonzero(empty)
    source = np.asarray(values)
    out_values = np.empty((total,), dtype=source.dtype)
    out_values[reverse] = source
    out_values[filled] = default_value
    return xp.asarray(out_index), out_values, xp.asarray(empty), xp.asarray(reverse)


def _fill_empty_rows_grad(op: Any, indices_grad: Any, values_grad: Tensor, empty_grad: Any,
                          reverse_grad: Any) -> list:
    d_values, d_default = make_op("SparseFillEmptyRowsGrad", [op.outputs[3], values_grad],
                                  {"T": values_grad.dtype.base_dtype}).outputs
    return [None, d_values, None, d_default]


register_op("SparseFillEmptyRows", infer=_fill_empty_rows_infer, kernel=_fill_empty_rows_kernel,
            grad=_fill_empty_rows_grad)


def _fill_empty_rows_grad_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _INT64, "reverse_index_map")
    reverse = ctx.shape(0).with_rank(1)
    ctx.shape(1).with_rank(1)
    return [(ctx.dtype(1), TensorShape([reverse[0] if reverse.ndims == 1 else None])), (ctx.dtype(1), TensorShape([]))]


def _fill_empty_rows_grad_kernel(xp: Any, reverse_index_map: Any, grad_values: Any) -> tuple[Any, Any]:
    reverse = np.asarray(reverse_index_map, dtype=np.int64)
    grads = np.asarray(grad_values)
    if reverse.ndim != 1:
        raise InvalidArgumentError(None, None, f"reverse_index_map must be a vector, saw: {_dims(reverse.shape)}")
    if grads.ndim != 1:
        raise InvalidArgumentError(None, None, f"grad_values must be a vector, saw: {_dims(grads.shape)}")
    total = grads.shape[0]
    bad = np.flatnonzero((reverse < 0) | (reverse >= total))
    if bad.size:
        raise InvalidArgumentError(None, None, f"Elements in reverse index must be in [0, {total}) but got "
                                               f"{int(reverse[bad[0]])}")
    visited = np.zeros((total,), np.bool_)
    visited[reverse] = True
    return xp.asarray(grads[reverse]), xp.asarray(grads[~visited].sum(dtype=grads.dtype))


register_op("SparseFillEmptyRowsGrad", infer=_fill_empty_rows_grad_infer, kernel=_fill_empty_rows_grad_kernel,
            grad=_no_gradient)


def sparse_fill_empty_rows(sp_input: Any, default_value: Any, name: str | None = None) -> tuple[SparseTensor, Tensor]:
    """`tf.sparse.fill_empty_rows`: (the SparseTensor with `[row, 0, ...] = default_value` added in
    each empty row, a bool vector of which rows were empty)."""
    sp = _as_sparse(sp_input)
    with get_default_graph().name_scope(name or "SparseFillEmptyRows"):
        default = convert_to_tensor(default_value, dtype=sp.values.dtype.base_dtype)
        op = make_op("SparseFillEmptyRows", [sp.indices, sp.values, sp.dense_shape, default],
                     {"T": sp.values.dtype.base_dtype}, "SparseFillEmptyRows")
        output_indices, output_values, empty_rows, _ = op.outputs
        return SparseTensor(output_indices, output_values, sp.dense_shape), empty_rows


fill_empty_rows = sparse_fill_empty_rows


# ---------------------------------------------------------------- sparse_retain
def sparse_retain(sp_input: Any, to_retain: Any) -> SparseTensor:
    """`tf.sparse.retain`: the entries of `sp_input` where the bool vector `to_retain` is true."""
    from caudal.ops.array_ops import reshape as dense_reshape
    from caudal.ops.comparison_ops import where_v2
    from caudal.ops.control_ops import identity
    from caudal.ops.gather_ops import gather

    sp = _as_sparse(sp_input)
    keep = convert_to_tensor(to_retain)
    keep_shape = keep.shape.with_rank(1)
    if sp.values.shape.ndims is not None and keep_shape.ndims is not None:
        sp.values.shape[0].assert_is_compatible_with(keep_shape[0])
    where_true = dense_reshape(where_v2(keep), [-1])
    return SparseTensor(gather(sp.indices, where_true), gather(sp.values, where_true), identity(sp.dense_shape))


retain = sparse_retain

