"""`tf.random` (TF1): re-exports of the random ops under their `tf.random` names; no definitions live here."""
# ruff: noqa: F401
from typing import Any as _Any

from caudal.framework.random_seed import get_seed, set_random_seed
from caudal.ops.random_ops import categorical, truncated_normal
from caudal.ops.random_ops import random_normal as normal
from caudal.ops.random_ops import random_shuffle as shuffle
from caudal.ops.random_ops import random_uniform as uniform

__all__ = ["categorical", "get_seed", "normal", "set_random_seed", "shuffle", "truncated_normal", "uniform"]

_LAZY = {
    "log_uniform_candidate_sampler": ("caudal.ops.candidate_sampling_ops", "log_uniform_candidate_sampler"),
    "uniform_candidate_sampler": ("caudal.ops.candidate_sampling_ops", "uniform_candidate_sampler"),
    "multinomial": ("caudal.deprecated", "multinomial"),
}
__all__ += sorted(_LAZY)


def __getattr__(name: str) -> _Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'caudal.random' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value
