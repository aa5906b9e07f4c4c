"""`tf.keras.Input` and `InputLayer`: the placeholder a functional model starts from.

In graph mode `Input((784,))` is a placeholder of shape (None, 784) named `input_1`, `input_2`, ...
(per graph, one-based) carrying Keras history, so layers called on it record nodes.
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor import Tensor
from caudal.keras import backend as K
from caudal.keras.engine.base_layer import Layer
from caudal.keras.engine.node import Node

__all__ = ["InputLayer", "Input"]


class InputLayer(Layer):
    """The layer behind an `Input`: no weights, one node whose output is the placeholder (or given tensor)."""

    def __init__(self, input_shape: Any = None, batch_size: int | None = None, dtype: Any = None,
                 input_tensor: Any = None, sparse: bool = False, name: str | None = None, ragged: bool = False,
                 **kwargs: Any):
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        if "batch_shape" in kwargs:
            batch_input_shape = kwargs.pop("batch_shape")
        kwargs.pop("optional", None)
        if input_shape is not None and batch_input_shape is not None:
            raise ValueError("Only provide the input_shape OR batch_input_shape argument to InputLayer, not both at "
                             "the same time.")
        if input_tensor is not None and batch_input_shape is None:
            shape = input_tensor.shape
            batch_input_shape = tuple(shape.as_list()) if shape.ndims is not None else None
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {list(kwargs.keys())}")
        if not name:
            name = f"input_{K.get_uid('input')}"
        if not dtype:
            dtype = K.floatx() if input_tensor is None else input_tensor.dtype.base_dtype.name
        elif input_tensor is not None and input_tensor.dtype.base_dtype != dtypes_lib.as_dtype(dtype):
            raise ValueError(f"`input_tensor.dtype` differs from `dtype`. Received: input_tensor.dtype="
                             f"{input_tensor.dtype} but expected dtype={dtype}")
        super().__init__(dtype=dtype, name=name)
        self.built = True
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self.batch_size = batch_size
        self.supports_masking = True
        if isinstance(input_shape, Tensor):
            raise ValueError(f"Argument `input_shape` should be a tuple of integers, not a tensor: {input_shape}")
        if input_shape is not None and batch_input_shape is None:
            batch_input_shape = (batch_size,) + tuple(input_shape)
        self._batch_input_shape = tuple(batch_input_shape) if batch_input_shape is not None else None
        if input_tensor is None:
            input_tensor = K.placeholder(shape=self._batch_input_shape, dtype=dtype, sparse=self.sparse, name=name)
            self.is_placeholder = True
        else:
            self.is_placeholder = False
        self._input_tensor = input_tensor
        Node(layer=self, outputs=input_tensor)

    def get_config(self) -> dict[str, Any]:
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype, "sparse": self.sparse,
                "ragged": self.ragged, "name": self.name, "optional": False}


def Input(shape: Any = None, batch_size: int | None = None, name: str | None = None, dtype: Any = None,  # noqa: N802
          sparse: bool | None = None, tensor: Any = None, ragged: bool | None = None, type_spec: Any = None,
          **kwargs: Any) -> Tensor:
    """`tf.keras.Input(shape)`: a placeholder of shape (batch_size,) + shape, with Keras history."""
    batch_shape = kwargs.pop("batch_shape", None)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments to Input: {list(kwargs.keys())}")
    if shape is not None and batch_shape is not None:
        raise ValueError("Only provide the `shape` OR `batch_shape` argument to Input, not both at the same time.")
    if batch_shape is None and shape is None and tensor is None and type_spec is None:
        raise ValueError("Please provide to Input a `shape` or a `tensor` or a `type_spec` argument. Note that "
                         "`shape` does not include the batch dimension.")
    if isinstance(shape, int):
        shape = (shape,)
    layer = InputLayer(input_shape=shape, batch_size=batch_size, dtype=dtype, input_tensor=tensor,
                       sparse=bool(sparse), name=name, ragged=bool(ragged), batch_input_shape=batch_shape)
    return layer._inbound_nodes[0].outputs
