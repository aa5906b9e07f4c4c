"""`tf.keras` (the parts TF1 graph programs use): submodules load on first use."""
import importlib

_SUBMODULES = ("datasets", "regularizers")


def __getattr__(name: str) -> object:
    if name not in _SUBMODULES:
        raise AttributeError(f"module 'caudal.keras' has no attribute {name!r}")
    module = importlib.import_module(f"caudal.keras.{name}")
    globals()[name] = module
    return module
