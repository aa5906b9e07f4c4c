"""tf.contrib.layers' initializers: `variance_scaling_initializer` and `xavier_initializer`, as TF1 contrib."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor import Tensor

__all__ = ["xavier_initializer", "xavier_initializer_conv2d", "variance_scaling_initializer"]


def variance_scaling_initializer(factor: float = 2.0, mode: str = "FAN_IN", uniform: bool = False,
                                 seed: int | None = None, dtype: Any = dtypes_lib.float32) -> Callable:
    """contrib's He/Xavier family: variance factor / n, n = fan_in, fan_out or their mean (`mode`).

    Uniform draws lie in +-sqrt(3 factor / n); otherwise a truncated normal with stddev
    sqrt(1.3 factor / n). Convolution kernels multiply both fans by the receptive field.
    """
    dtype = dtypes_lib.as_dtype(dtype)
    if not dtype.is_floating:
        raise TypeError("Cannot create initializer for non-floating point type.")
    if mode not in ("FAN_IN", "FAN_OUT", "FAN_AVG"):
        raise TypeError(f"Unknown mode {mode} [FAN_IN, FAN_OUT, FAN_AVG]")

    def initializer(shape: Any, dtype: Any = dtype, partition_info: Any = None) -> Tensor:
        from caudal.ops.random_ops import random_uniform, truncated_normal

        dtype = dtypes_lib.as_dtype(dtype).base_dtype
        if not dtype.is_floating:
            raise TypeError("Cannot create initializer for non-floating point type.")
        dims = [int(d) for d in shape]
        if dims:
            fan_in = float(dims[-2]) if len(dims) > 1 else float(dims[-1])
            fan_out = float(dims[-1])
        else:
            fan_in = fan_out = 1.0
        for d in dims[:-2]:
            fan_in *= float(d)
            fan_out *= float(d)
        n = {"FAN_IN": fan_in, "FAN_OUT": fan_out, "FAN_AVG": (fan_in + fan_out) / 2.0}[mode]
        if uniform:
            limit = math.sqrt(3.0 * factor / n)
            return random_uniform(dims, -limit, limit, dtype, seed=seed)
        return truncated_normal(dims, 0.0, math.sqrt(1.3 * factor / n), dtype, seed=seed)

    return initializer


def xavier_initializer(uniform: bool = True, seed: int | None = None, dtype: Any = dtypes_lib.float32) -> Callable:
    """Glorot initialization: uniform in +-sqrt(6 / (fan_in + fan_out)) by default, else a truncated normal."""
    return variance_scaling_initializer(factor=1.0, mode="FAN_AVG", uniform=uniform, seed=seed, dtype=dtype)


xavier_initializer_conv2d = xavier_initializer
