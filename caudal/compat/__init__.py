"""`caudal.compat.v1` is caudal itself, so `import caudal.compat.v1 as tf` works.

`caudal.compat.v2` is also caudal: TF1 programs reach `tf.compat.v2.*` for the
few names they share.
"""
import sys

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
