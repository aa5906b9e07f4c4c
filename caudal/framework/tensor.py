"""`Tensor`: a symbolic handle to one output of an Operation.

A Tensor is named `"op_name:index"` and carries a static dtype and a partial
shape. Like TF1 graph mode, `==` and hashing are by identity, and `bool()` and
iteration are refused.

The Python operators (`+ - * / // % ** @`, unary `-`, `abs`, `< <= > >=`,
`& | ^ ~`, indexing) are methods of Tensor, but what they build are ops
(Add, Less, StridedSlice, ...) defined in `caudal.ops`, above the framework:
each method calls the implementation that `caudal.ops.operators` registers
for it with `register_operators` when caudal.ops is imported.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from caudal.framework import tensor_shape
from caudal.framework.default_session import run_with_default_session
from caudal.framework.dtypes import DType

if TYPE_CHECKING:
    from caudal.framework.graph import Graph, Operation

__all__ = ["Tensor", "OVERLOADABLE_OPERATORS", "register_operators"]

# The operator methods of Tensor, which a Variable shares (TF's Tensor.OVERLOADABLE_OPERATORS).
OVERLOADABLE_OPERATORS = frozenset([
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
    "__div__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
    "__matmul__", "__rmatmul__", "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__",
    "__lt__", "__le__", "__gt__", "__ge__", "__neg__", "__abs__", "__invert__", "__getitem__",
])

# Method name -> implementation `fn(tensor, *operands)`, filled by caudal.ops.operators.
_OPERATORS: dict[str, Callable[..., Any]] = {}


def register_operators(implementations: dict[str, Callable[..., Any]]) -> None:
    """Sets the implementations of Tensor's operators, by method name (`"__add__"`, `"__radd__"`, ...)."""
    unknown = set(implementations) - OVERLOADABLE_OPERATORS
    if unknown:
        raise KeyError(f"Not Tensor operators: {sorted(unknown)}")
    _OPERATORS.update(implementations)


def _implementation(name: str) -> Callable[..., Any]:
    try:
        return _OPERATORS[name]
    except KeyError:
        raise TypeError(f"Tensor.{name} builds ops, which caudal.ops defines: import caudal") from None


def _unary_operator(name: str) -> Callable[[Tensor], Any]:
    def operator(self: Tensor) -> Any:
        return _implementation(name)(self)

    operator.__name__, operator.__qualname__ = name, f"Tensor.{name}"
    return operator


def _binary_operator(name: str) -> Callable[[Tensor, Any], Any]:
    def operator(self: Tensor, other: Any) -> Any:
        return _implementation(name)(self, other)

    operator.__name__, operator.__qualname__ = name, f"Tensor.{name}"
    return operator


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

    def consumers(self) -> list[Operation]:
        return list(self._consumers)

    def eval(self, feed_dict: Any = None, session: Any = None) -> Any:
        """Runs this tensor in `session` or the default session."""
        return run_with_default_session(self, feed_dict, session)

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

    # Operators, as TF1 overloads them: a Python number on either side takes the tensor's dtype;
    # `==` and `!=` stay identity comparisons (above).
    __add__ = _binary_operator("__add__")
    __radd__ = _binary_operator("__radd__")
    __sub__ = _binary_operator("__sub__")
    __rsub__ = _binary_operator("__rsub__")
    __mul__ = _binary_operator("__mul__")
    __rmul__ = _binary_operator("__rmul__")
    __truediv__ = _binary_operator("__truediv__")
    __rtruediv__ = _binary_operator("__rtruediv__")
    __div__ = __truediv__
    __floordiv__ = _binary_operator("__floordiv__")
    __rfloordiv__ = _binary_operator("__rfloordiv__")
    __mod__ = _binary_operator("__mod__")
    __rmod__ = _binary_operator("__rmod__")
    __pow__ = _binary_operator("__pow__")
    __rpow__ = _binary_operator("__rpow__")
    __matmul__ = _binary_operator("__matmul__")
    __rmatmul__ = _binary_operator("__rmatmul__")
    __and__ = _binary_operator("__and__")
    __rand__ = _binary_operator("__rand__")
    __or__ = _binary_operator("__or__")
    __ror__ = _binary_operator("__ror__")
    __xor__ = _binary_operator("__xor__")
    __rxor__ = _binary_operator("__rxor__")
    __lt__ = _binary_operator("__lt__")
    __le__ = _binary_operator("__le__")
    __gt__ = _binary_operator("__gt__")
    __ge__ = _binary_operator("__ge__")
    __neg__ = _unary_operator("__neg__")
    __abs__ = _unary_operator("__abs__")
    __invert__ = _unary_operator("__invert__")
    __getitem__ = _binary_operator("__getitem__")
