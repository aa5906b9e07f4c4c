"""`tf.keras.regularizers`: L1, L2, L1L2 and `get`, with Keras semantics (no factor 1/2).

`l2(0.01)(x)` is 0.01 * sum(x^2); `l1(0.01)(x)` is 0.01 * sum(|x|). Factors
are stored as float32, as Keras casts them to floatx (so configs read
0.009999999776482582). Defaults and the names `get` accepts follow TF-Keras
2.21: the `L1L2` class defaults to l1=0.0, l2=0.0 while `l1_l2()` and the name
"l1_l2" default to 0.01 each; `get` takes "l1", "l2", "l1_l2", "L1", "L2",
"L1L2", a config dict, a callable or None.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from caudal.framework.convert import convert_to_tensor
from caudal.framework.tensor import Tensor

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize", "deserialize"]


def _validate(name: str, value: Any) -> float:
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float.Received: "
                         f"{name}={value}")
    return float(np.float32(value))


class Regularizer:
    """Base class: `regularizer(x)` returns a scalar penalty tensor."""

    def __call__(self, x: Any) -> Any:
        return 0.0

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _validate("l1", l1)
        self.l2 = _validate("l2", l2)

    def __call__(self, x: Any) -> Tensor:
        from caudal.ops.math_ops import abs as abs_
        from caudal.ops.math_ops import square
        from caudal.ops.reduction_ops import reduce_sum

        x = convert_to_tensor(x)
        dtype = x.dtype.base_dtype
        penalty: Any = convert_to_tensor(0.0, dtype=dtype)
        if self.l1:
            penalty = penalty + convert_to_tensor(self.l1, dtype=dtype) * reduce_sum(abs_(x))
        if self.l2:
            penalty = penalty + convert_to_tensor(self.l2, dtype=dtype) * reduce_sum(square(x))
        return penalty

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """l1 * sum(|x|)."""

    def __init__(self, l1: float = 0.01):
        self.l1 = _validate("l1", l1)

    def __call__(self, x: Any) -> Tensor:
        from caudal.ops.math_ops import abs as abs_
        from caudal.ops.reduction_ops import reduce_sum

        x = convert_to_tensor(x)
        return convert_to_tensor(self.l1, dtype=x.dtype.base_dtype) * reduce_sum(abs_(x))

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """l2 * sum(x^2)."""

    def __init__(self, l2: float = 0.01):
        self.l2 = _validate("l2", l2)

    def __call__(self, x: Any) -> Tensor:
        from caudal.ops.math_ops import square
        from caudal.ops.reduction_ops import reduce_sum

        x = convert_to_tensor(x)
        return convert_to_tensor(self.l2, dtype=x.dtype.base_dtype) * reduce_sum(square(x))

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


def l1(l1: float = 0.01) -> L1:  # noqa: E741 - Keras's name
    return L1(l1)


def l2(l2: float = 0.01) -> L2:
    return L2(l2)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:  # noqa: E741
    return L1L2(l1=l1, l2=l2)


_BY_NAME: dict[str, type] = {"l1": L1, "l2": L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def serialize(regularizer: Regularizer) -> dict[str, Any]:
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    from caudal.keras.utils.generic_utils import deserialize_keras_object

    if config == "l1_l2":
        return L1L2(l1=0.01, l2=0.01)
    return deserialize_keras_object(config, module_objects=_BY_NAME, custom_objects=custom_objects,
                                    printable_module_name="regularizer")


def get(identifier: Any) -> Any:
    """A regularizer from None, a name, a config dict or a callable; ValueError otherwise."""
    if identifier is None:
        return None
    if isinstance(identifier, (dict, str)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier}")
