"""`tf.IndexedSlices`: some rows of a tensor, as the gradient of a gather is in TF.

An IndexedSlices holds `values` ([N, ...] rows), `indices` ([N] row numbers;
an index may repeat, its rows then add up) and `dense_shape` (the shape of the
tensor the rows belong to, or None). `tf.gradients` returns one for a variable
read by `tf.gather` along axis 0 (an embedding lookup), optimizers update only
those rows (TF's `SparseApply*` ops), and `Session.run` of one gives an
`IndexedSlicesValue(values, indices, dense_shape)`.

Anything that needs a plain Tensor converts it as TF does: the rows summed into
`dense_shape` with UnsortedSegmentSum, with TF's warning when that shape is
unknown or has 100M elements or more (the conversion is registered by
caudal.ops.gather_ops, which defines UnsortedSegmentSum).
"""
from __future__ import annotations

import collections
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework import tensor_shape
from caudal.framework.tensor import Tensor

__all__ = ["IndexedSlices", "IndexedSlicesValue", "convert_to_tensor_or_indexed_slices"]

IndexedSlicesValue = collections.namedtuple("IndexedSlicesValue", ["values", "indices", "dense_shape"])
IndexedSlicesValue.__doc__ = "`tf.IndexedSlicesValue(values, indices, dense_shape)`: the value of an IndexedSlices."

class IndexedSlices:
    """`tf.IndexedSlices(values, indices, dense_shape=None)`: the rows `values` of a tensor of shape
    `dense_shape` at row numbers `indices`; every other row is zero."""

    def __init__(self, values: Tensor, indices: Tensor, dense_shape: Tensor | None = None):
        self._values = values
        self._indices = indices
        self._dense_shape = dense_shape

    @property
    def values(self) -> Tensor:
        return self._values

    @property
    def indices(self) -> Tensor:
        return self._indices

    @property
    def dense_shape(self) -> Tensor | None:
        return self._dense_shape

    @property
    def shape(self) -> tensor_shape.TensorShape:
        """What is known of `dense_shape`'s value (unknown without one)."""
        if self._dense_shape is None:
            return tensor_shape.TensorShape(None)
        from caudal.framework.constant_value import constant_value_as_shape

        return constant_value_as_shape(self._dense_shape)

    @property
    def name(self) -> str:
        return self._values.name

    @property
    def device(self) -> str:
        return self._values.device

    @property
    def op(self) -> Any:
        return self._values.op

    @property
    def dtype(self) -> dtypes_lib.DType:
        return self._values.dtype

    @property
    def graph(self) -> Any:
        return self._values.graph

    def consumers(self) -> list[Any]:
        return self._values.consumers()

    def __neg__(self) -> IndexedSlices:
        return IndexedSlices(-self._values, self._indices, self._dense_shape)

    def __str__(self) -> str:
        shape = f", dense_shape={self._dense_shape}" if self._dense_shape is not None else ""
        return f"IndexedSlices(indices={self._indices}, values={self._values}{shape})"

    __repr__ = __str__


def convert_to_tensor_or_indexed_slices(value: Any, dtype: Any = None, name: str | None = None
                                        ) -> Tensor | IndexedSlices:
    """An IndexedSlices as it is (checked against `dtype`), anything else as `convert_to_tensor` gives it."""
    from caudal.framework.convert import convert_to_tensor

    if isinstance(value, IndexedSlices):
        if dtype is not None and not dtypes_lib.as_dtype(dtype).is_compatible_with(value.dtype):
            raise ValueError(f"Tensor conversion requested dtype {dtypes_lib.as_dtype(dtype).name} for Tensor "
                             f"with dtype {value.dtype.name}: {value!r}")
        return value
    if isinstance(value, Tensor) and dtype is None:
        return value
    return convert_to_tensor(value, dtype=dtype, name=name)
