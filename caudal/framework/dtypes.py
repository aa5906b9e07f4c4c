"""Data types, matching TensorFlow's `tf.DType`.

Each DType carries the enum value of TensorFlow's `DataType` proto (the wire
contract for GraphDefs and checkpoints), its NumPy equivalent and its name.
Reference types (`float32_ref`) exist because TF1 variables produce them; their
`base_dtype` is the plain type.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DType", "as_dtype"]


class DType:
    """A tensor element type. Compare with `==`; `tf.float32 == "float32"` is true."""

    __slots__ = ("_enum", "_name", "_np", "_is_ref")

    def __init__(self, enum: int, name: str, np_type: Any, is_ref: bool = False):
        self._enum = enum
        self._name = name
        self._np = np_type
        self._is_ref = is_ref

    @property
    def name(self) -> str:
        return self._name

    @property
    def as_datatype_enum(self) -> int:
        return self._enum

    @property
    def as_numpy_dtype(self) -> Any:
        return self._np

    @property
    def is_ref_dtype(self) -> bool:
        return self._is_ref

    @property
    def base_dtype(self) -> DType:
        return _BY_ENUM[self._enum - 100] if self._is_ref else self

    @property
    def real_dtype(self) -> DType:
        base = self.base_dtype
        if base is complex64:
            return float32
        if base is complex128:
            return float64
        return base

    @property
    def _as_ref(self) -> DType:
        return self if self._is_ref else _BY_ENUM[self._enum + 100]

    @property
    def is_floating(self) -> bool:
        return self.base_dtype in (float16, bfloat16, float32, float64)

    @property
    def is_complex(self) -> bool:
        return self.base_dtype in (complex64, complex128)

    @property
    def is_integer(self) -> bool:
        return self.base_dtype in _INTEGERS

    @property
    def is_unsigned(self) -> bool:
        return self.base_dtype in (uint8, uint16, uint32, uint64)

    @property
    def is_bool(self) -> bool:
        return self.base_dtype is bool_

    @property
    def is_numpy_compatible(self) -> bool:
        return self.base_dtype is not bfloat16

    @property
    def min(self) -> Any:
        base = self.base_dtype
        if base.is_floating:
            return np.finfo(base._np).min
        if base.is_integer:
            return np.iinfo(base._np).min
        if base is bool_:
            return False
        raise TypeError(f"Cannot find minimum value of {self}.")

    @property
    def max(self) -> Any:
        base = self.base_dtype
        if base.is_floating:
            return np.finfo(base._np).max
        if base.is_integer:
            return np.iinfo(base._np).max
        if base is bool_:
            return True
        raise TypeError(f"Cannot find maximum value of {self}.")

    @property
    def size(self) -> int:
        return np.dtype(self.base_dtype._np).itemsize if self.base_dtype is not string else 1

    def is_compatible_with(self, other: Any) -> bool:
        other = as_dtype(other)
        return self._enum in (other._enum, other.base_dtype._enum)

    def __eq__(self, other: object) -> bool:
        if other is None:
            return False
        if isinstance(other, DType):
            return self._enum == other._enum
        try:
            return self._enum == as_dtype(other)._enum
        except TypeError:
            return False

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return self._enum

    def __repr__(self) -> str:
        return f"tf.{self._name}"

    def __str__(self) -> str:
        return f"<dtype: '{self._name}'>"

    def __reduce__(self):
        return as_dtype, (self._name,)


# TensorFlow's DataType enum values (types.proto).
float32 = DType(1, "float32", np.float32)
float64 = DType(2, "float64", np.float64)
int32 = DType(3, "int32", np.int32)
uint8 = DType(4, "uint8", np.uint8)
int16 = DType(5, "int16", np.int16)
int8 = DType(6, "int8", np.int8)
string = DType(7, "string", np.object_)
complex64 = DType(8, "complex64", np.complex64)
int64 = DType(9, "int64", np.int64)
bool_ = DType(10, "bool", np.bool_)
bfloat16 = DType(14, "bfloat16", np.float32)
uint16 = DType(17, "uint16", np.uint16)
complex128 = DType(18, "complex128", np.complex128)
float16 = DType(19, "float16", np.float16)
resource = DType(20, "resource", np.object_)
variant = DType(21, "variant", np.object_)
uint32 = DType(22, "uint32", np.uint32)
uint64 = DType(23, "uint64", np.uint64)

_BASE_TYPES = [
    float32, float64, int32, uint8, int16, int8, string, complex64, int64, bool_,
    bfloat16, uint16, complex128, float16, resource, variant, uint32, uint64,
]
_BY_ENUM: dict[int, DType] = {}
for _t in _BASE_TYPES:
    _BY_ENUM[_t._enum] = _t
    _BY_ENUM[_t._enum + 100] = DType(_t._enum + 100, _t._name + "_ref", _t._np, is_ref=True)

_INTEGERS = (int8, int16, int32, int64, uint8, uint16, uint32, uint64)

half = float16
double = float64

_BY_NAME: dict[str, DType] = {t._name: t for t in _BY_ENUM.values()}
_BY_NAME.update({"half": float16, "double": float64, "float": float32, "bool": bool_})

_BY_NUMPY: dict[Any, DType] = {
    np.dtype(np.float32): float32, np.dtype(np.float64): float64, np.dtype(np.float16): float16,
    np.dtype(np.int8): int8, np.dtype(np.int16): int16, np.dtype(np.int32): int32,
    np.dtype(np.int64): int64, np.dtype(np.uint8): uint8, np.dtype(np.uint16): uint16,
    np.dtype(np.uint32): uint32, np.dtype(np.uint64): uint64, np.dtype(np.bool_): bool_,
    np.dtype(np.complex64): complex64, np.dtype(np.complex128): complex128,
    np.dtype(np.object_): string,
}


def as_dtype(type_value: Any) -> DType:
    """Converts a DType, name, NumPy dtype, Python type or enum value to a DType."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        found = _BY_NAME.get(type_value)
        if found is not None:
            return found
    elif isinstance(type_value, int) and not isinstance(type_value, bool):
        found = _BY_ENUM.get(type_value)
        if found is not None:
            return found
    elif type_value is float:
        return float32
    elif type_value is int:
        return int32
    elif type_value is bool:
        return bool_
    elif type_value in (str, bytes):
        return string
    elif type_value is complex:
        return complex128
    else:
        try:
            np_dtype = np.dtype(type_value)
        except TypeError:
            np_dtype = None
        if np_dtype is not None:
            if np_dtype.kind in "SUO":
                return string
            found = _BY_NUMPY.get(np_dtype)
            if found is not None:
                return found
    raise TypeError(f"Cannot convert value {type_value!r} to a TensorFlow DType.")


FLOATING = frozenset([float16, bfloat16, float32, float64])
COMPLEX = frozenset([complex64, complex128])
INTEGER = frozenset(_INTEGERS)
SIGNED_INTEGER = frozenset([int8, int16, int32, int64])
NUMERIC = FLOATING | COMPLEX | INTEGER
REAL = FLOATING | INTEGER
ALL = frozenset(_BASE_TYPES)
