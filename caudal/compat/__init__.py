"""`caudal.compat.v1` is caudal itself, so `import caudal.compat.v1 as tf` works.

`caudal.compat.v2` is also caudal: TF1 programs reach `tf.compat.v2.*` for the
few names they share.
"""
import numbers as _numbers
import sys

import numpy as _np

import caudal as _caudal

v1 = _caudal
v2 = _caudal
sys.modules[__name__ + ".v1"] = _caudal
sys.modules[__name__ + ".v2"] = _caudal


def dimension_value(dimension: object) -> object:
    from caudal.framework.tensor_shape import dimension_value as _value

    return _value(dimension)


def as_bytes(text: object, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding) if isinstance(text, str) else bytes(text)


def as_text(data: object, encoding: str = "utf-8") -> str:
    return data.decode(encoding) if isinstance(data, bytes) else str(data)


as_str = as_text


def as_str_any(value: object, encoding: str = "utf-8") -> str:
    """`value` as text: bytes are decoded, anything else goes through str()."""
    return as_text(value, encoding) if isinstance(value, bytes) else str(value)


def path_to_str(path: object) -> object:
    """The string of an os.PathLike; any other value unchanged."""
    import os

    return os.fspath(path) if isinstance(path, os.PathLike) else path


def dimension_at_index(shape: object, index: int) -> object:
    from caudal.framework_extras import dimension_at_index as _at_index

    return _at_index(shape, index)


bytes_or_text_types = (bytes, str)
integral_types = (_numbers.Integral, _np.integer)
real_types = (_numbers.Real, _np.integer, _np.floating)
complex_types = (_numbers.Complex, _np.number)
