"""`Tensor`: a symbolic handle to one output of an Operation.

A Tensor is named `"op_name:index"` and carries a static dtype and a partial
shape. Like TF1 graph mode, `==` and hashing are by identity, and `bool()` and
iteration are refused. The arithmetic operators are installed by
`caudal.ops.operators`, the same way for Tensor and Variable.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from caudal.framework import tensor_shape
from caudal.framework.dtypes import DType

if TYPE_CHECKING:
    from caudal.framework.graph import Graph, Operation

__all__ = ["Tensor"]


class Tensor:
    """The symbolic output `value_index` of `op`; evaluated by `Session.run`."""

    __slots__ = ("_op", "_value_index", "_dtype", "_shape", "_consumers", "_name", "__weakref__")

    # NumPy must defer to our reflected operators (`np_array + tensor`).
    __array_priority__ = 100

    def __init__(self, op: Operation, value_index: int, dtype: DType, shape: Any):
        self._op = op
        self._value_index = value_index
        self._dtype = dtype
        self._shape = tensor_shape.as_shape(shape)
        self._consumers: list[Operation] = []
        self._name = f"{op.name}:{value_index}"

    @property
    def op(self) -> Operation:
        return self._op

    @property
    def value_index(self) -> int:
        return self._value_index

    @property
    def graph(self) -> Graph:
        return self._op.graph

    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> DType:
        return self._dtype

    @property
    def device(self) -> str:
        return self._op.device

    @property
    def shape(self) -> tensor_shape.TensorShape:
        return self._shape

    def get_shape(self) -> tensor_shape.TensorShape:
        return self._shape

    def set_shape(self, shape: Any) -> None:
        """Refines the static shape; raises ValueError if incompatible."""
        shape = tensor_shape.as_shape(shape)
        if not self._shape.is_compatible_with(shape):
            raise ValueError(
                f"Tensor's shape {self._shape} is not compatible with supplied shape {shape}.")
        self._shape = self._shape.merge_with(shape)

    @property
    def _rank(self) -> int | None:
        return self._shape.ndims

    def consumers(self) -> list[Operation]:
        return list(self._consumers)

    def eval(self, feed_dict: Any = None, session: Any = None) -> Any:
        """Runs this tensor in `session` or the default session."""
        from caudal.runtime.session import _run_with_default_session

        return _run_with_default_session(self, feed_dict, session)

    def _as_graph_element(self) -> Tensor:
        return self

    def __repr__(self) -> str:
        return f"<tf.Tensor '{self._name}' shape={self._shape} dtype={self._dtype.name}>"

    def __str__(self) -> str:
        return (f'Tensor("{self._name}", shape={self._shape}, dtype={self._dtype.name}'
                + (f', device={self.device})' if self.device else ")"))

    __hash__ = object.__hash__

    def experimental_ref(self) -> Tensor:
        return self

    def ref(self) -> Tensor:
        return self

    def __bool__(self) -> bool:
        raise TypeError(
            "Using a `tf.Tensor` as a Python `bool` is not allowed. Use `if t is not None:` "
            "instead of `if t:` to test if a tensor is defined, and use TensorFlow ops such as "
            "tf.cond to execute subgraphs conditioned on the value of a tensor.")

    def __iter__(self) -> Any:
        raise TypeError(
            "Tensor objects are only iterable when eager execution is enabled. "
            "To iterate over this tensor use tf.map_fn.")

    def __len__(self) -> int:
        raise TypeError(
            f"len is not well defined for symbolic Tensors. ({self._name}) Please call "
            "`x.shape` rather than `len(x)` for shape information.")

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise NotImplementedError(
            f"Cannot convert a symbolic Tensor ({self._name}) to a numpy array. Fetch it with "
            "Session.run to get its value.")

    def __reduce__(self):
        raise TypeError("Tensors cannot be pickled; fetch their values with Session.run")
