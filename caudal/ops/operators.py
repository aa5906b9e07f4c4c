"""Python operators on Tensor and Variable, as TF1 overloads them.

`+ - * / // % ** @`, unary `-`, `abs`, `< <= > >=`, `& | ^ ~` (on bools) and
indexing. A Python number on either side takes the tensor's dtype. `==` and
`!=` stay identity comparisons, as in TF1 graph mode.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.ops import comparison_ops, math_ops, slicing_ops


def _binary(fn: Callable, name: str) -> tuple[Callable, Callable]:
    """The forward and reflected methods for a binary op `fn(x, y, name=...)`."""

    def forward(self: Any, other: Any) -> Any:
        x = convert_to_tensor(self)
        with get_default_graph().name_scope(name) as scope:
            y = convert_to_tensor(other, dtype=x.dtype.base_dtype, name="y") \
                if not _symbolic(other) else convert_to_tensor(other)
            return fn(x, y, name=scope[:-1] + "/")

    def reflected(self: Any, other: Any) -> Any:
        y = convert_to_tensor(self)
        with get_default_graph().name_scope(name) as scope:
            x = convert_to_tensor(other, dtype=y.dtype.base_dtype, name="x")
            return fn(x, y, name=scope[:-1] + "/")

    forward.__name__ = f"__{name}__"
    reflected.__name__ = f"__r{name}__"
    return forward, reflected


def _symbolic(value: Any) -> bool:
    from caudal.framework.convert import _conversion_function
    from caudal.framework.tensor import Tensor

    return isinstance(value, Tensor) or _conversion_function(value) is not None


def _truediv(x: Any, y: Any, name: str | None = None) -> Any:
    return math_ops.truediv(x, y, name=name)


def _matmul(x: Any, y: Any, name: str | None = None) -> Any:
    return math_ops.matmul(x, y, name=name)


_BINARY = {
    "add": math_ops.add, "sub": math_ops.subtract, "mul": math_ops.multiply, "truediv": _truediv,
    "floordiv": math_ops.floordiv, "mod": math_ops.floormod, "pow": math_ops.pow, "matmul": _matmul,
    "and": comparison_ops.logical_and, "or": comparison_ops.logical_or, "xor": comparison_ops.logical_xor,
}
_COMPARE = {"lt": comparison_ops.less, "le": comparison_ops.less_equal, "gt": comparison_ops.greater,
            "ge": comparison_ops.greater_equal}


def overload_operators(cls: type) -> None:
    """Installs the operators on `cls` (Tensor, Variable)."""
    for name, fn in _BINARY.items():
        forward, reflected = _binary(fn, name)
        setattr(cls, f"__{name}__", forward)
        setattr(cls, f"__r{name}__", reflected)
    for name, fn in _COMPARE.items():
        setattr(cls, f"__{name}__", _comparison(fn, name))
    cls.__neg__ = lambda self: math_ops.negative(convert_to_tensor(self))
    cls.__abs__ = lambda self: math_ops.abs(convert_to_tensor(self))
    cls.__invert__ = lambda self: comparison_ops.logical_not(convert_to_tensor(self))
    cls.__getitem__ = lambda self, key: slicing_ops.getitem(convert_to_tensor(self), key)
    cls.__div__ = cls.__truediv__


def _comparison(fn: Callable, name: str) -> Callable:
    """`x < y` and friends: the op under its own default name (Less, ...), as TF builds it."""

    def compare(self: Any, other: Any) -> Any:
        x = convert_to_tensor(self)
        y = other if _symbolic(other) else convert_to_tensor(other, dtype=x.dtype.base_dtype, name="y")
        return fn(x, y)

    compare.__name__ = f"__{name}__"
    return compare
