"""Feed checks: what `Session.run` accepts as a value for a tensor, and TF's words when one is missing."""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import to_numpy
from caudal.framework.graph import Operation
from caudal.framework.sparse_tensor import SparseTensor, SparseTensorValue
from caudal.framework.tensor import Tensor
from caudal.ops.constant_ops import shape_str, tf_type_name
from caudal.ops.variable_ops import dims_compatible

__all__ = ["convert_feed_value", "missing_feed_message", "sparse_feed_items"]


def sparse_feed_items(key: SparseTensor, value: Any) -> list[tuple[Tensor, Any]]:
    """The three feeds of a SparseTensor key: its indices, values and dense_shape tensors, each
    with its part of a SparseTensorValue or an `(indices, values, dense_shape)` tuple, as TF."""
    if not isinstance(value, SparseTensorValue) and not (isinstance(value, (tuple, list)) and len(value) == 3):
        raise TypeError(f"The value fed for {key} must be a tf.SparseTensorValue or an (indices, values, "
                        f"dense_shape) tuple, got {type(value).__name__}")
    return list(zip((key.indices, key.values, key.dense_shape), value))


def convert_feed_value(tensor: Tensor, value: Any) -> Any:
    """`value` as an array of `tensor`'s dtype, checked against its static shape (TF's errors)."""
    if isinstance(value, (Tensor, Operation)):
        raise TypeError("The value of a feed cannot be a tf.Tensor object. Acceptable feed values include "
                        "Python scalars, strings, lists, numpy ndarrays, or TensorHandles. For reference, "
                        f"the tensor object was {value} which was passed to the feed with key {tensor}.")
    dtype = tensor.dtype.base_dtype
    if isinstance(value, int) and not isinstance(value, bool) and dtype.is_integer:
        if not dtype.min <= value <= dtype.max:
            raise ValueError(f"Cannot feed value {value} for Tensor {tensor.name!r} of dtype {dtype.name}: "
                             "out of range.")
    try:
        if dtype is dtypes_lib.string:
            array = to_numpy(value, dtypes_lib.string)
        else:
            # No copy when the dtype already matches: kernels never write into their inputs, and
            # the one kernel that keeps an input (Assign) copies what shares memory with a feed.
            array = np.asarray(value, dtype=dtype.as_numpy_dtype)
    except OverflowError as e:  # a list holding an integer the dtype cannot hold
        raise ValueError(f"Cannot feed value of type {type(value).__name__} for Tensor {tensor.name!r} "
                         f"of dtype {dtype.name}: out of range ({e}).") from None
    except (TypeError, ValueError) as e:
        raise ValueError(f"Cannot feed value of type {type(value).__name__} for Tensor {tensor.name!r} "
                         f"of dtype {dtype.name}: {e}") from None
    if not dims_compatible(tensor._shape._dims, array.shape):
        raise ValueError(f"Cannot feed value of shape {array.shape} for Tensor {tensor.name!r}, which has "
                         f"shape {tensor.shape}")
    return array


def missing_feed_message(op: Operation) -> str:
    """TF's words for an unfed placeholder, plus where the user defined it."""
    dtype = op.get_attr("dtype")
    shape = op.get_attr("shape")
    text = f"You must feed a value for placeholder tensor '{op.name}' with dtype {tf_type_name(dtype)}"
    if shape.ndims is not None:
        text += f" and shape {shape_str(shape)}"
    return text + f"\n\t [[{{{{node {op.name}}}}}]] (defined at {op.where_defined()})"
