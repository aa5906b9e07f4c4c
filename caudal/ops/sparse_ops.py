"""Sparse ops: SparseToDense and SparseReorder, `tf.sparse_to_dense`, `tf.sparse_tensor_to_dense`
(`tf.sparse.to_dense`), `tf.sparse.reorder` and `tf.sparse_placeholder`, as TF builds them.

SparseToDense scatters `sparse_values` (a vector, or a scalar for every index) at
`sparse_indices` (a scalar, vector or matrix of int32/int64) into an array of
`output_shape` filled with `default_value`. With `validate_indices` it checks,
index by index, TF's bounds and strict lexicographic order ("out of bounds",
"is out of order", "is repeated"); without it, only the bounds. SparseReorder
sorts a SparseTensor's entries into that order.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph, make_op
from caudal.framework.registry import register_op
from caudal.framework.sparse_tensor import SparseTensor, SparseTensorValue
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, as_shape, unknown_shape
from caudal.ops import _rules

__all__ = ["sparse_to_dense", "sparse_tensor_to_dense", "to_dense", "reorder", "sparse_reorder",
           "sparse_placeholder", "placeholder"]


def _dims_str(values: Any) -> str:
    return "[" + ",".join(str(int(v)) for v in values) + "]"


# ---------------------------------------------------------------- SparseToDense
def _sparse_to_dense_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _rules.INDEX, "sparse_indices")
    _rules.check_same_dtype(ctx, [0, 1], ["sparse_indices", "output_shape"])
    _rules.check_same_dtype(ctx, [2, 3], ["sparse_values", "default_value"])
    shape = ctx.shape(1)
    if shape.ndims is not None and shape.ndims != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {shape.ndims}")
    return [(ctx.dtype(2), ctx.shape_value(1) if shape.ndims == 1 else unknown_shape())]


def _index_error(position: int, index: np.ndarray, shape: np.ndarray, order: np.ndarray | None) -> str | None:
    """TF's complaint about entry `position`, or None: bounds first, then order against the previous one."""
    if np.any(index < 0) or np.any(index >= shape):
        return f"indices[{position}] = {_dims_str(index)} is out of bounds: need 0 <= index < {_dims_str(shape)}"
    if order is not None and position > 0:
        if order[position - 1] < 0:
            return (f"indices[{position}] = {_dims_str(index)} is out of order. Many sparse ops require sorted "
                    "indices.\n    Use `tf.sparse.reorder` to create a correctly ordered copy.\n\n")
        if order[position - 1] == 0:
            return f"indices[{position}] = {_dims_str(index)} is repeated"
    return None


def _lexicographic_steps(index: np.ndarray) -> np.ndarray:
    """For each consecutive pair of rows, the sign of (row i+1) - (row i) compared lexicographically."""
    if index.shape[0] < 2:
        return np.zeros((0,), np.int64)
    diff = np.sign(index[1:] - index[:-1])
    first = np.argmax(diff != 0, axis=1)
    return diff[np.arange(diff.shape[0]), first]


def _sparse_to_dense_kernel(xp: Any, sparse_indices: Any, output_shape: Any, sparse_values: Any,
                            default_value: Any, *, validate_indices: bool) -> Any:
    indices = np.asarray(sparse_indices).astype(np.int64)
    if indices.ndim > 2:
        raise InvalidArgumentError(None, None, "sparse_indices should be a scalar, vector, or matrix, got shape "
                                               f"{_dims_str(indices.shape)}")
    shape = np.asarray(output_shape).astype(np.int64)
    if shape.ndim != 1:
        raise InvalidArgumentError(None, None, f"output_shape must be rank 1, got shape {_dims_str(shape.shape)}")
    count = indices.shape[0] if indices.ndim > 0 else 1
    rank = indices.shape[1] if indices.ndim > 1 else 1
    if shape.shape[0] != rank:
        raise InvalidArgumentError(None, None, f"output_shape has incorrect number of elements: {shape.shape[0]} "
                                               f"should be: {rank}")
    if sparse_values.ndim != 0 and tuple(sparse_values.shape) != (count,):
        raise InvalidArgumentError(None, None, f"sparse_values has incorrect shape {_dims_str(sparse_values.shape)}"
                                               f", should be [] or [{count}]")
    if np.ndim(default_value) != 0:
        raise InvalidArgumentError(None, None, "default_value should be a scalar.")
    index = indices.reshape(count, rank)
    bad = np.any((index < 0) | (index >= shape), axis=1)
    if validate_indices:
        steps = _lexicographic_steps(index)
        suspects = np.flatnonzero(bad | np.concatenate([[False], steps <= 0]))
        if suspects.size:
            position = int(suspects[0])
            raise InvalidArgumentError(None, None, _index_error(position, index[position], shape, steps))
    elif np.any(bad):
        raise InvalidArgumentError(None, None, f"Indices are not valid (out of bounds).  Shape: {_dims_str(shape)}")
    dense = np.full(tuple(int(d) for d in shape), default_value, dtype=sparse_values.dtype)
    if count:
        dense[tuple(index.T)] = sparse_values
    return xp.asarray(dense)


def _sparse_to_dense_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.index_ops import gather_nd
    from caudal.ops.reduction_ops import reduce_sum

    indices, _, values, _ = op.inputs
    if indices.shape.ndims is not None and indices.shape.ndims < 2:
        from caudal.ops.array_ops import reshape

        indices = reshape(indices, [-1, 1])
    values_grad = gather_nd(grad, indices)
    default_grad = reduce_sum(grad) - reduce_sum(values_grad)
    if values.shape.ndims == 0:
        values_grad = reduce_sum(values_grad)
    return [None, None, values_grad, default_grad]


register_op("SparseToDense", infer=_sparse_to_dense_infer, kernel=_sparse_to_dense_kernel,
            grad=_sparse_to_dense_grad)


def sparse_to_dense(sparse_indices: Any, output_shape: Any, sparse_values: Any, default_value: Any = 0,
                    validate_indices: bool = True, name: str | None = None) -> Tensor:
    """`tf.sparse_to_dense`: an array of `output_shape` holding `default_value` except at
    `sparse_indices`, which hold `sparse_values` (TF's checks of order and bounds at run time)."""
    graph = get_default_graph()
    with graph.name_scope(name or "SparseToDense") as scope:
        indices = convert_to_tensor(sparse_indices, name="sparse_indices")
        if indices.dtype.base_dtype not in _rules.INDEX:
            raise TypeError(f"Value passed to parameter 'sparse_indices' has DataType {indices.dtype.base_dtype.name} "
                            "not in list of allowed values: int32, int64")
        shape = convert_to_tensor(output_shape, dtype=indices.dtype.base_dtype, name="output_shape")
        values = convert_to_tensor(sparse_values, name="sparse_values")
        default = convert_to_tensor(default_value, dtype=values.dtype.base_dtype, name="default_value")
        return apply_op("SparseToDense", [indices, shape, values, default],
                        {"validate_indices": bool(validate_indices), "T": values.dtype.base_dtype,
                         "Tindices": indices.dtype.base_dtype}, scope)


def _as_sparse(sp_input: Any) -> SparseTensor:
    if isinstance(sp_input, SparseTensorValue):
        return SparseTensor.from_value(sp_input)
    if not isinstance(sp_input, SparseTensor):
        raise TypeError("Input must be a SparseTensor.")
    return sp_input


def sparse_tensor_to_dense(sp_input: Any, default_value: Any = None, validate_indices: bool = True,
                           name: str | None = None) -> Tensor:
    """`tf.sparse.to_dense` / `tf.sparse_tensor_to_dense`: the dense array of a SparseTensor, with
    `default_value` (zero, or "" for strings, by default) where it has no entry."""
    from caudal.ops.constant_ops import constant

    sp = _as_sparse(sp_input)
    if default_value is None:
        zero = b"" if sp.dtype.base_dtype is dtypes_lib.string else np.zeros((), sp.dtype.base_dtype.as_numpy_dtype)
        default_value = constant(zero, dtype=sp.dtype.base_dtype, name="zeros")
    default = convert_to_tensor(default_value, dtype=sp.dtype.base_dtype, name="default_value")
    return apply_op("SparseToDense", [sp.indices, sp.dense_shape, sp.values, default],
                    {"validate_indices": bool(validate_indices), "T": sp.dtype.base_dtype,
                     "Tindices": dtypes_lib.int64}, name or "SparseToDense")


to_dense = sparse_tensor_to_dense


# ---------------------------------------------------------------- SparseReorder
def _sparse_reorder_infer(ctx: InferContext) -> list:
    for i, param in ((0, "input_indices"), (2, "input_shape")):
        _rules.check_dtype(ctx, i, frozenset([dtypes_lib.int64]), param)
    indices = ctx.shape(0).with_rank(2)
    values = ctx.shape(1).with_rank(1)
    ctx.shape(2).with_rank(1)
    entries = indices[0].merge_with(values[0]) if indices.ndims == 2 and values.ndims == 1 else None
    return [(dtypes_lib.int64, TensorShape([entries, indices[1] if indices.ndims == 2 else None])),
            (ctx.dtype(1), TensorShape([entries]))]


def _sparse_reorder_kernel(xp: Any, input_indices: Any, input_values: Any, input_shape: Any) -> tuple[Any, Any]:
    indices = np.asarray(input_indices)
    if indices.ndim != 2:
        raise InvalidArgumentError(None, None, "Input indices should be a matrix but received shape "
                                               f"{_dims_str(indices.shape)}")
    if np.ndim(input_values) != 1:
        raise InvalidArgumentError(None, None, "Input values should be a vector but received shape "
                                               f"{_dims_str(np.shape(input_values))}")
    if np.ndim(input_shape) != 1:
        raise InvalidArgumentError(None, None, "Input shape should be a vector but received shape "
                                               f"{_dims_str(np.shape(input_shape))}")
    if indices.shape[0] != np.shape(input_values)[0] or indices.shape[1] != np.shape(input_shape)[0]:
        raise InvalidArgumentError(None, None, f"Number of elements in input indices ({indices.shape[0]}) and "
                                               f"values ({np.shape(input_values)[0]}) do not match")
    order = np.lexsort(indices.T[::-1]) if indices.shape[1] else np.arange(indices.shape[0])
    return xp.asarray(indices[order]), input_values[order]


def _sparse_reorder_grad(op: Any, indices_grad: Any, values_grad: Tensor) -> list:
    from caudal.ops.array_ops import range as range_
    from caudal.ops.array_ops import shape
    from caudal.ops.gather_ops import gather

    input_indices = op.inputs[0]
    entries = range_(shape(input_indices, out_type=dtypes_lib.int64)[0])
    _, ordered_entries = make_op("SparseReorder", [input_indices, entries, op.inputs[2]],
                                 {"T": dtypes_lib.int64}).outputs
    inverse = apply_op("InvertPermutation", [ordered_entries], {"T": dtypes_lib.int64})
    return [None, gather(values_grad, inverse), None]


register_op("SparseReorder", infer=_sparse_reorder_infer, kernel=_sparse_reorder_kernel, grad=_sparse_reorder_grad)


def sparse_reorder(sp_input: Any, name: str | None = None) -> SparseTensor:
    """`tf.sparse.reorder`: the same SparseTensor with its entries in row-major order of their indices."""
    from caudal.ops.control_ops import identity

    sp = _as_sparse(sp_input)
    op = make_op("SparseReorder", [sp.indices, sp.values, sp.dense_shape], {"T": sp.dtype.base_dtype},
                 name or "SparseReorder")
    if sp.shape.is_fully_defined():
        dense_shape: Any = np.array(sp.shape.as_list(), np.int64)  # a constant in the new SparseTensor's scope
    else:
        dense_shape = identity(sp.dense_shape)
    result = SparseTensor(op.outputs[0], op.outputs[1], dense_shape)
    result.set_shape(sp.shape)
    return result


reorder = sparse_reorder


# ---------------------------------------------------------------- placeholders
def sparse_placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> SparseTensor:
    """`tf.sparse_placeholder` / `tf.sparse.placeholder`: a SparseTensor of three placeholders, fed
    with a SparseTensorValue or an (indices, values, dense_shape) tuple. With a `shape`, the dense
    shape defaults to it (unknown dimensions as -1) and the static shape is `shape`, as TF."""
    from caudal.ops.constant_ops import constant, placeholder_with_default
    from caudal.ops.constant_ops import placeholder as dense_placeholder

    def part(suffix: str) -> str | None:
        return None if name is None else f"{name}/{suffix}"

    if shape is None:
        dense_shape = dense_placeholder(dtypes_lib.int64, [None], name=part("shape"))
        rank = None
    else:
        static = as_shape(shape)
        if static.ndims is None:
            raise ValueError("Received a scalar with unknown value as shape; require a statically known scalar "
                             "with value '-1' to describe an unknown shape.")
        rank = static.ndims
        default = constant(np.array([-1 if d is None else d for d in static.as_list()], np.int64),
                           name=part("shape_default") or "Const")
        dense_shape = placeholder_with_default(default, [rank], name=part("shape"))
    values = dense_placeholder(dtype, [None], name=part("values"))
    indices = dense_placeholder(dtypes_lib.int64, [None, rank], name=part("indices"))
    result = SparseTensor(indices, values, dense_shape)
    if shape is not None:
        result._dense_shape_default = as_shape(shape)
    return result


placeholder = sparse_placeholder
