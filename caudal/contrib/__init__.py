"""`tf.contrib`: the few contrib names TF1 tutorials use (layers regularizers, xavier_initializer, rnn cells,
seq2seq.sequence_loss)."""
import importlib

_SUBMODULES = ("layers", "rnn", "seq2seq")


def __getattr__(name: str) -> object:
    if name not in _SUBMODULES:
        raise AttributeError(f"module 'caudal.contrib' has no attribute {name!r}")
    module = importlib.import_module(f"caudal.contrib.{name}")
    globals()[name] = module
    return module
