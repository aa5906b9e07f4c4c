"""`tf.keras` in graph mode (TF-Keras 2.x semantics with v2 behaviour disabled): submodules load on first use.

`tf.keras.Model`, `Sequential` and `Input` are the engine's; `layers`, `backend`, `optimizers`, `losses`,
`metrics`, `callbacks`, `models`, `utils`, `initializers`, `constraints`, `activations`, `regularizers`
and `datasets` are the submodules.
"""
import importlib

_SUBMODULES = ("datasets", "regularizers", "layers", "backend", "optimizers", "losses", "metrics", "callbacks",
               "models", "utils", "initializers", "constraints", "activations")
_NAMES = {
    "Model": ("caudal.keras.engine.training", "Model"),
    "Sequential": ("caudal.keras.engine.sequential", "Sequential"),
    "Input": ("caudal.keras.engine.input_layer", "Input"),
}

__version__ = "2.21.0"


def __getattr__(name: str) -> object:
    if name in _NAMES:
        module_name, attribute = _NAMES[name]
        value = getattr(importlib.import_module(module_name), attribute)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"caudal.keras.{name}")
    else:
        raise AttributeError(f"module 'caudal.keras' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(list(globals()) + list(_SUBMODULES) + list(_NAMES))
