"""`tf.initializers` (TF1's `tf.compat.v1.initializers`): initializer classes and the named presets."""
from typing import Any

from caudal.framework_extras import tables_initializer
from caudal.init_ops import (
    Constant as constant,
)
from caudal.init_ops import (
    GlorotNormal as glorot_normal,
)
from caudal.init_ops import (
    GlorotUniform as glorot_uniform,
)
from caudal.init_ops import (
    Ones as ones,
)
from caudal.init_ops import (
    RandomNormal as random_normal,
)
from caudal.init_ops import (
    RandomUniform as random_uniform,
)
from caudal.init_ops import (
    TruncatedNormal as truncated_normal,
)
from caudal.init_ops import (
    VarianceScaling,
)
from caudal.init_ops import (
    Zeros as zeros,
)
from caudal.variables import global_variables_initializer as global_variables
from caudal.variables import local_variables_initializer as local_variables
from caudal.variables import variables_initializer as variables

variance_scaling = VarianceScaling


def he_normal(seed: int | None = None) -> Any:
    """Truncated normal with variance 2 / fan_in."""
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed: int | None = None) -> Any:
    """Uniform within sqrt(6 / fan_in)."""
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed: int | None = None) -> Any:
    """Truncated normal with variance 1 / fan_in."""
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed: int | None = None) -> Any:
    """Uniform within sqrt(3 / fan_in)."""
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


__all__ = ["constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal",
           "lecun_uniform", "ones", "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
           "zeros", "global_variables", "local_variables", "variables", "tables_initializer"]
