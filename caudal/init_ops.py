"""Variable initializers with TF1's classes, defaults and fan computations.

An initializer is called as `init(shape, dtype=None, partition_info=None)` and
returns a Tensor; `get_variable` calls it inside the variable's name scope.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import as_shape

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "RandomUniform", "RandomNormal", "TruncatedNormal",
           "VarianceScaling", "GlorotUniform", "GlorotNormal"]


def _dims(shape: Any) -> list[int]:
    return [int(d) for d in as_shape(shape).as_list()]


class Initializer:
    """Base class: `__call__(shape, dtype=None, partition_info=None) -> Tensor`."""

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)


class Zeros(Initializer):
    def __init__(self, dtype: Any = dtypes_lib.float32):
        self.dtype = dtypes_lib.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        from caudal.ops.constant_ops import zeros

        return zeros(_dims(shape), dtypes_lib.as_dtype(dtype or self.dtype).base_dtype)

    def get_config(self) -> dict[str, Any]:
        return {"dtype": self.dtype.name}


class Ones(Initializer):
    def __init__(self, dtype: Any = dtypes_lib.float32):
        self.dtype = dtypes_lib.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        from caudal.ops.constant_ops import ones

        return ones(_dims(shape), dtypes_lib.as_dtype(dtype or self.dtype).base_dtype)

    def get_config(self) -> dict[str, Any]:
        return {"dtype": self.dtype.name}


class Constant(Initializer):
    """Fills with `value`: a scalar, or a list/array with as many elements as the shape."""

    def __init__(self, value: Any = 0, dtype: Any = dtypes_lib.float32, verify_shape: bool = False):
        self.value = value
        self.dtype = dtypes_lib.as_dtype(dtype)
        self._verify_shape = verify_shape

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None,
                 verify_shape: Any = None) -> Tensor:
        from caudal.ops.constant_ops import constant

        dtype = dtypes_lib.as_dtype(dtype or self.dtype).base_dtype
        verify = self._verify_shape if verify_shape is None else verify_shape
        return constant(self.value, dtype=dtype, shape=_dims(shape), verify_shape=verify)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value, "dtype": self.dtype.name}


class RandomUniform(Initializer):
    def __init__(self, minval: Any = 0.0, maxval: Any = None, seed: int | None = None,
                 dtype: Any = dtypes_lib.float32):
        self.minval = minval
        self.maxval = maxval
        self.seed = seed
        self.dtype = dtypes_lib.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        from caudal.ops.random_ops import random_uniform

        return random_uniform(_dims(shape), self.minval, self.maxval, dtype or self.dtype, seed=self.seed)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed, "dtype": self.dtype.name}


class RandomNormal(Initializer):
    def __init__(self, mean: Any = 0.0, stddev: Any = 1.0, seed: int | None = None,
                 dtype: Any = dtypes_lib.float32):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed
        self.dtype = dtypes_lib.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        from caudal.ops.random_ops import random_normal

        return random_normal(_dims(shape), self.mean, self.stddev, dtype or self.dtype, seed=self.seed)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed, "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        from caudal.ops.random_ops import truncated_normal

        return truncated_normal(_dims(shape), self.mean, self.stddev, dtype or self.dtype, seed=self.seed)


def compute_fans(shape: list[int]) -> tuple[float, float]:
    """(fan_in, fan_out) as TF computes them; conv kernels multiply by the receptive field."""
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = float(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(Initializer):
    """Samples with variance `scale / n`, n from `mode` (fan_in, fan_out, fan_avg).

    `distribution` is "truncated_normal" (TF1's default "normal" means the same),
    "untruncated_normal" or "uniform".
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None, dtype: Any = dtypes_lib.float32):
        if scale <= 0.0:
            raise ValueError("`scale` must be positive float.")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: {mode}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(f"Invalid `distribution` argument: {distribution}")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed
        self.dtype = dtypes_lib.as_dtype(dtype)

    def __call__(self, shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
        from caudal.ops.random_ops import random_normal, random_uniform, truncated_normal

        dims = _dims(shape)
        dtype = dtypes_lib.as_dtype(dtype or self.dtype).base_dtype
        fan_in, fan_out = compute_fans(dims)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            # 0.8796... is the stddev of a unit normal truncated to two standard deviations.
            stddev = math.sqrt(scale) / 0.87962566103423978
            return truncated_normal(dims, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random_normal(dims, 0.0, math.sqrt(scale), dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random_uniform(dims, -limit, limit, dtype, seed=self.seed)

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed,
                "dtype": self.dtype.name}


class GlorotUniform(VarianceScaling):
    """Xavier uniform: limit sqrt(6 / (fan_in + fan_out))."""

    def __init__(self, seed: int | None = None, dtype: Any = dtypes_lib.float32):
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Xavier normal (truncated): stddev sqrt(2 / (fan_in + fan_out))."""

    def __init__(self, seed: int | None = None, dtype: Any = dtypes_lib.float32):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed, "dtype": self.dtype.name}


zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
truncated_normal_initializer = TruncatedNormal
variance_scaling_initializer = VarianceScaling
glorot_uniform_initializer = GlorotUniform
glorot_normal_initializer = GlorotNormal
