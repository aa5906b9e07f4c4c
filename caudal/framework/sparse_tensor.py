"""`tf.SparseTensor` and `tf.SparseTensorValue`: a sparse value as three dense tensors.

A SparseTensor holds `indices` (int64, [N, rank]), `values` ([N]) and
`dense_shape` (int64, [rank]), made in a `SparseTensor` name scope as TF makes
them (`SparseTensor/indices`, ...). Its static `shape` is what is known of
`dense_shape`'s value when the graph is built. `Session.run` of a SparseTensor
gives a `SparseTensorValue` (a namedtuple of three arrays), and a SparseTensor
can be fed with a SparseTensorValue or an `(indices, values, dense_shape)`
tuple (caudal.runtime does both).
"""
from __future__ import annotations

import collections
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework import tensor_shape
from caudal.framework.constant_value import constant_value_as_shape
from caudal.framework.convert import convert_to_tensor
from caudal.framework.default_session import run_with_default_session
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor

__all__ = ["SparseTensor", "SparseTensorValue", "is_sparse", "convert_to_tensor_or_sparse_tensor"]

SparseTensorValue = collections.namedtuple("SparseTensorValue", ["indices", "values", "dense_shape"])
SparseTensorValue.__doc__ = "`tf.SparseTensorValue(indices, values, dense_shape)`: what running a SparseTensor gives."


class SparseTensor:
    """`tf.SparseTensor(indices, values, dense_shape)` over graph tensors, with TF's conversions
    (int64 indices and dense_shape) and rank checks (indices [N, rank], values [N], dense_shape [rank])."""

    def __init__(self, indices: Any, values: Any, dense_shape: Any):
        graph = _graph_of(indices, values, dense_shape)
        with graph.as_default(), graph.name_scope("SparseTensor"):
            indices = _as_int64(indices, "indices")
            values = convert_to_tensor(values, name="values")
            dense_shape = _as_int64(dense_shape, "dense_shape")
        self._indices = indices
        self._values = values
        self._dense_shape = dense_shape
        self._dense_shape_default = _static_dense_shape(dense_shape)
        indices_shape = indices.shape.with_rank(2)
        values_shape = values.shape.with_rank(1)
        dense_shape_shape = dense_shape.shape.with_rank(1)
        indices_shape[0].assert_is_compatible_with(values_shape[0])
        indices_shape[1].assert_is_compatible_with(dense_shape_shape[0])

    @classmethod
    def from_value(cls, sparse_tensor_value: Any) -> SparseTensor:
        """A SparseTensor unchanged, or one made of the constants of a SparseTensorValue."""
        if isinstance(sparse_tensor_value, SparseTensor):
            return sparse_tensor_value
        if not is_sparse(sparse_tensor_value):
            raise TypeError(f"Neither a SparseTensor nor SparseTensorValue: {sparse_tensor_value}.")
        return SparseTensor(indices=sparse_tensor_value.indices, values=sparse_tensor_value.values,
                            dense_shape=sparse_tensor_value.dense_shape)

    @property
    def indices(self) -> Tensor:
        return self._indices

    @property
    def values(self) -> Tensor:
        return self._values

    @property
    def dense_shape(self) -> Tensor:
        return self._dense_shape

    @property
    def dtype(self) -> dtypes_lib.DType:
        """The dtype of the values."""
        return self._values.dtype

    @property
    def op(self) -> Any:
        """The op that makes the values."""
        return self._values.op

    @property
    def graph(self) -> Any:
        return self._indices.graph

    @property
    def shape(self) -> tensor_shape.TensorShape:
        """The static dense shape: what is known of `dense_shape`'s value."""
        return self._dense_shape_default

    def get_shape(self) -> tensor_shape.TensorShape:
        return self._dense_shape_default

    def set_shape(self, shape: Any) -> None:
        """Refines the static dense shape; ValueError when incompatible, as TF."""
        shape = tensor_shape.as_shape(shape)
        if not self._dense_shape_default.is_compatible_with(shape):
            raise ValueError(f"Tensor's shape {self._dense_shape_default} is not compatible with supplied "
                             f"shape {shape}.")
        self._dense_shape_default = self._dense_shape_default.merge_with(shape)

    def with_values(self, new_values: Any) -> SparseTensor:
        """This SparseTensor's indices and dense_shape with other values."""
        result = SparseTensor(self._indices, new_values, self._dense_shape)
        result._dense_shape_default = self._dense_shape_default
        return result

    def consumers(self) -> list[Any]:
        ops = self._indices.consumers() + self._values.consumers() + self._dense_shape.consumers()
        return list(dict.fromkeys(ops))

    def eval(self, feed_dict: Any = None, session: Any = None) -> SparseTensorValue:
        """Runs this SparseTensor in `session` or the default session: a SparseTensorValue."""
        return run_with_default_session(self, feed_dict, session)

    def __str__(self) -> str:
        return f"SparseTensor(indices={self._indices}, values={self._values}, dense_shape={self._dense_shape})"

    __repr__ = __str__

    def __iter__(self) -> Any:
        raise TypeError("'SparseTensor' object is not iterable")

    def __bool__(self) -> bool:
        raise TypeError("Using a `tf.SparseTensor` as a Python `bool` is not allowed.")


# Ops whose dense shapes depend on the data they read: TF knows no static value for them, and
# neither does a SparseTensor here (caudal would otherwise fold them on constant inputs).
_DATA_DEPENDENT_SHAPES = frozenset(["ParseExampleV2", "ParseSequenceExampleV2", "StringSplit", "StringSplitV2"])


def _static_dense_shape(dense_shape: Tensor) -> tensor_shape.TensorShape:
    if dense_shape.op.type in _DATA_DEPENDENT_SHAPES:
        rank = dense_shape.shape[0].value if dense_shape.shape.ndims == 1 else None
        return tensor_shape.unknown_shape(rank)
    return constant_value_as_shape(dense_shape)


def _graph_of(*values: Any) -> Any:
    for value in values:
        if isinstance(value, Tensor):
            return value.graph
        graph = getattr(value, "graph", None)
        if graph is not None and hasattr(value, "_as_graph_element"):
            return graph
    return get_default_graph()


def _as_int64(value: Any, name: str) -> Tensor:
    try:
        return convert_to_tensor(value, dtype=dtypes_lib.int64, name=name)
    except ValueError as e:
        if isinstance(value, Tensor):
            raise ValueError(f"{name}: {e}") from None
        raise


def is_sparse(x: Any) -> bool:
    """A SparseTensor or a SparseTensorValue."""
    return isinstance(x, (SparseTensor, SparseTensorValue))


def convert_to_tensor_or_sparse_tensor(value: Any, dtype: Any = None, name: str | None = None) -> Any:
    """A SparseTensor as it is (a SparseTensorValue made one), anything else through convert_to_tensor."""
    if isinstance(value, SparseTensorValue):
        value = SparseTensor.from_value(value)
    if isinstance(value, SparseTensor):
        if dtype is not None and not dtypes_lib.as_dtype(dtype).is_compatible_with(value.dtype):
            raise ValueError(f"Sparse dtype: requested = {dtypes_lib.as_dtype(dtype).name}, actual = "
                             f"{value.dtype.name}")
        return value
    return convert_to_tensor(value, dtype=dtype, name=name)
