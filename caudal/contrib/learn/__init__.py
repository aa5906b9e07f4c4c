"""`tf.contrib.learn` (TF 1.15): only its MNIST reader, as `datasets.mnist` and `datasets.load_dataset("mnist")`
(also reachable as `python.learn.datasets.mnist`, the path TF1 programs imported it by)."""
import importlib

_SUBMODULES = ("datasets", "python")


def __getattr__(name: str) -> object:
    if name not in _SUBMODULES:
        raise AttributeError(f"module 'caudal.contrib.learn' has no attribute {name!r}")
    module = importlib.import_module(f"caudal.contrib.learn.{name}")
    globals()[name] = module
    return module
