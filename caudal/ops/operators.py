"""Python operators on Tensor and Variable, as TF1 overloads them.

`+ - * / // % ** @`, unary `-`, `abs`, `< <= > >=`, `& | ^ ~` (on bools) and
indexing. A Python number on either side takes the tensor's dtype. `==` and
`!=` stay identity comparisons, as in TF1 graph mode.

The methods belong to Tensor (caudal/framework/tensor.py); this module
registers what they build, when caudal.ops is imported.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal.framework.convert import convert_to_tensor, is_tensor_like
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import register_operators
from caudal.ops import comparison_ops, math_ops, slicing_ops

__all__: list[str] = []


def _binary(fn: Callable, name: str) -> tuple[Callable, Callable]:
    """The forward and reflected methods for a binary op `fn(x, y, name=...)`."""

    def forward(self: Any, other: Any) -> Any:
        x = convert_to_tensor(self)
        with get_default_graph().name_scope(name) as scope:
            y = convert_to_tensor(other, dtype=x.dtype.base_dtype, name="y") \
                if not is_tensor_like(other) else convert_to_tensor(other)
            return fn(x, y, name=scope[:-1] + "/")

    def reflected(self: Any, other: Any) -> Any:
        y = convert_to_tensor(self)
        with get_default_graph().name_scope(name) as scope:
            x = convert_to_tensor(other, dtype=y.dtype.base_dtype, name="x")
            return fn(x, y, name=scope[:-1] + "/")

    forward.__name__ = f"__{name}__"
    reflected.__name__ = f"__r{name}__"
    return forward, reflected


def _comparison(fn: Callable, name: str) -> Callable:
    """`x < y` and friends: the op under its own default name (Less, ...), as TF builds it."""

    def compare(self: Any, other: Any) -> Any:
        x = convert_to_tensor(self)
        y = other if is_tensor_like(other) else convert_to_tensor(other, dtype=x.dtype.base_dtype, name="y")
        return fn(x, y)

    compare.__name__ = f"__{name}__"
    return compare


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


def _implementations() -> dict[str, Callable]:
    """Tensor's operator methods, by name: each converts `self` (a Tensor or Variable) and builds the op."""
    table: dict[str, Callable] = {}
    for name, fn in _BINARY.items():
        table[f"__{name}__"], table[f"__r{name}__"] = _binary(fn, name)
    for name, fn in _COMPARE.items():
        table[f"__{name}__"] = _comparison(fn, name)
    table["__neg__"] = lambda self: math_ops.negative(convert_to_tensor(self))
    table["__abs__"] = lambda self: math_ops.abs(convert_to_tensor(self))
    table["__invert__"] = lambda self: comparison_ops.logical_not(convert_to_tensor(self))
    table["__getitem__"] = lambda self, key: slicing_ops.getitem(convert_to_tensor(self), key)
    return table


register_operators(_implementations())
