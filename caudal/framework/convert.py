"""Turning Python and NumPy values into Tensors, with TensorFlow's dtype rules.

- Python ints become int32 (int64 when they do not fit), floats float32, a mix
  of ints and floats float32, bools bool, str/bytes string, complex complex128.
- NumPy arrays and scalars keep their dtype.
- `dtype=` converts, but refuses to lose information from Python numbers
  (`convert_to_tensor(2.5, dtype=tf.int32)` is a TypeError, as in TF).
- Lists that contain Tensors are packed with `tf.stack`.
- Objects with a registered conversion function (Variables) convert through it.

The nodes a conversion creates (Const, Pack) are ops, defined in `caudal.ops`
above the framework: their modules register the builders here when they are
imported (`register_constant_builder`, `register_pack_builder`).
"""
from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor import Tensor

__all__ = ["convert_to_tensor", "register_tensor_conversion_function", "to_numpy", "is_tensor_like",
           "register_constant_builder", "register_pack_builder"]

_CONVERSION_FUNCTIONS: list[tuple[type, Callable]] = []


def _ops_not_loaded(*args: Any, **kwargs: Any) -> Tensor:
    raise RuntimeError("Converting a Python value to a Tensor needs the ops of caudal.ops: import caudal")


# `constant(value, dtype=None, name=...)` (tf.constant) and `pack(nested_list, dtype=None,
# name=...)` (tf.stack of a list that holds Tensors), registered by caudal.ops.
_build_constant: Callable[..., Tensor] = _ops_not_loaded
_build_pack: Callable[..., Tensor] = _ops_not_loaded


def register_constant_builder(constant: Callable[..., Tensor]) -> None:
    """Called by caudal.ops: `constant(value, dtype=None, name=...)` makes the Const node of a value."""
    global _build_constant
    _build_constant = constant


def register_pack_builder(pack: Callable[..., Tensor]) -> None:
    """Called by caudal.ops: `pack(value, dtype=None, name=...)` stacks a nested list that holds Tensors."""
    global _build_pack
    _build_pack = pack


def register_tensor_conversion_function(base_type: Any, conversion_func: Callable,
                                        priority: int = 100) -> None:
    """`conversion_func(value, dtype=None, name=None, as_ref=False) -> Tensor` for `base_type`."""
    _CONVERSION_FUNCTIONS.append((base_type, conversion_func))


def _python_dtype(value: Any) -> dtypes_lib.DType | None:
    """The dtype TF infers for a (nested) Python value, or None if it has no numbers."""
    kinds: set[str] = set()
    big_int = False
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, (bool, np.bool_)):
            kinds.add("bool")
        elif isinstance(item, np.generic):
            kinds.add("np:" + np.dtype(type(item)).name)
        elif isinstance(item, numbers.Integral):
            kinds.add("int")
            if not -(2**31) <= int(item) < 2**31:
                big_int = True
        elif isinstance(item, numbers.Real):
            kinds.add("float")
        elif isinstance(item, numbers.Complex):
            kinds.add("complex")
        elif isinstance(item, (str, bytes)):
            kinds.add("string")
        elif isinstance(item, np.ndarray):
            kinds.add("np:" + item.dtype.name)
        else:
            raise TypeError(f"Failed to convert elements of {value!r} to Tensor. Consider casting "
                            f"elements to a supported type. Found an element of type {type(item).__name__}.")
    if not kinds:
        return None
    if kinds == {"string"}:
        return dtypes_lib.string
    if "string" in kinds:
        raise TypeError(f"Failed to convert elements of {value!r} to Tensor: mixed strings and numbers.")
    np_kinds = [k[3:] for k in kinds if k.startswith("np:")]
    if np_kinds and len(kinds) == len(np_kinds):
        return dtypes_lib.as_dtype(np.result_type(*np_kinds))
    if "complex" in kinds:
        return dtypes_lib.complex128
    if "float" in kinds or any(np.dtype(k).kind == "f" for k in np_kinds):
        if np_kinds and all(np.dtype(k).kind == "f" for k in np_kinds) and "int" not in kinds and "float" not in kinds:
            return dtypes_lib.as_dtype(np.result_type(*np_kinds))
        return dtypes_lib.float32
    if "int" in kinds or any(np.dtype(k).kind in "iu" for k in np_kinds):
        return dtypes_lib.int64 if big_int else dtypes_lib.int32
    return dtypes_lib.bool_


def to_numpy(value: Any, dtype: dtypes_lib.DType | None = None) -> np.ndarray:
    """A fresh NumPy array holding `value`, with TF's inferred or requested dtype."""
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.asarray(value)
        if dtype is None:
            return array.copy() if array.dtype.kind not in "SU" else array.astype(object)
        target = dtype.base_dtype
        if target is dtypes_lib.string:
            return _string_array(array)
        return np.array(array, dtype=target.as_numpy_dtype, copy=True)
    inferred = _python_dtype(value)
    if dtype is None:
        dtype = inferred if inferred is not None else dtypes_lib.float32
    target = dtype.base_dtype
    if target is dtypes_lib.string:
        if inferred not in (None, dtypes_lib.string):
            raise TypeError(f"Expected string, got {value!r} of type '{type(value).__name__}' instead.")
        return _string_array(np.array(value, dtype=object))
    if inferred is dtypes_lib.string:
        raise TypeError(f"Expected {target.name}, got {value!r} of type '{type(value).__name__}' instead.")
    try:
        array = np.array(value, dtype=target.as_numpy_dtype)
    except (OverflowError, ValueError, TypeError) as e:
        raise TypeError(f"Expected {target.name}, got {value!r} of type '{type(value).__name__}' instead.") from e
    if inferred is not None and _loses_information(value, array, inferred, target):
        raise TypeError(f"Expected {target.name}, got {value!r} of type '{type(value).__name__}' instead.")
    return array


def _loses_information(value: Any, array: np.ndarray, inferred: dtypes_lib.DType,
                       target: dtypes_lib.DType) -> bool:
    if target.is_integer and (inferred.is_floating or inferred.is_complex):
        original = np.array(value, dtype=np.complex128 if inferred.is_complex else np.float64)
        return not np.array_equal(original, array)
    if target.is_integer and inferred.is_integer:
        return not np.array_equal(np.array(value, dtype=object), array.astype(object))
    if target is dtypes_lib.bool_ and inferred is not dtypes_lib.bool_:
        return True
    if target.is_floating and inferred.is_complex:
        return True
    return False


def _string_array(array: np.ndarray) -> np.ndarray:
    result = np.empty(array.shape, dtype=object)
    flat_in = array.reshape(-1)
    flat_out = result.reshape(-1)
    for i, item in enumerate(flat_in):
        flat_out[i] = item.encode("utf-8") if isinstance(item, str) else bytes(item)
    return result


def is_tensor_like(value: Any) -> bool:
    """A Tensor, or a value with a registered conversion function (a Variable): what converts to an
    existing graph value rather than to a new constant."""
    return isinstance(value, Tensor) or _conversion_function(value) is not None


def _contains_tensor(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif is_tensor_like(item):
            return True
    return False


def _conversion_function(value: Any) -> Callable | None:
    for base_type, fn in _CONVERSION_FUNCTIONS:
        if isinstance(value, base_type):
            return fn
    return None


def convert_to_tensor(value: Any, dtype: Any = None, name: str | None = None,
                      preferred_dtype: Any = None, dtype_hint: Any = None, as_ref: bool = False) -> Tensor:
    """`tf.convert_to_tensor`: a Tensor for `value`, checked against `dtype` if given."""
    if dtype is not None:
        dtype = dtypes_lib.as_dtype(dtype)
    hint = preferred_dtype if preferred_dtype is not None else dtype_hint
    if isinstance(value, Tensor):
        if dtype is not None and not dtype.base_dtype.is_compatible_with(value.dtype.base_dtype):
            raise ValueError(f"Tensor conversion requested dtype {dtype.base_dtype.name} for Tensor with "
                             f"dtype {value.dtype.base_dtype.name}: {value!r}")
        return value
    fn = _conversion_function(value)
    if fn is not None:
        tensor = fn(value, dtype=dtype, name=name, as_ref=as_ref)
        if dtype is not None and not dtype.base_dtype.is_compatible_with(tensor.dtype.base_dtype):
            raise ValueError(f"Tensor conversion requested dtype {dtype.base_dtype.name} for Tensor with "
                             f"dtype {tensor.dtype.base_dtype.name}: {tensor!r}")
        return tensor
    if hasattr(value, "_as_graph_element") and not isinstance(value, (list, tuple)):
        element = value._as_graph_element()
        if isinstance(element, Tensor):
            return convert_to_tensor(element, dtype=dtype, name=name)
    if isinstance(value, (list, tuple)) and _contains_tensor(value):
        return _build_pack(value, dtype=dtype, name=name or "packed")
    if dtype is None and hint is not None:
        try:
            return _build_constant(to_numpy(value, dtypes_lib.as_dtype(hint)), name=name or "Const")
        except (TypeError, ValueError):
            pass
    return _build_constant(value, dtype=dtype, name=name or "Const")
