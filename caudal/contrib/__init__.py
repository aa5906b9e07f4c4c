"""`tf.contrib`: the few contrib names TF1 tutorials use (layers regularizers, xavier_initializer, rnn cells,
seq2seq.sequence_loss, the tf.data transformations of contrib.data)."""
import importlib

_SUBMODULES = ("data", "factorization", "framework", "layers", "learn", "lookup", "losses", "rnn", "seq2seq", "slim")


def __getattr__(name: str) -> object:
    if name not in _SUBMODULES:
        raise AttributeError(f"module 'caudal.contrib' has no attribute {name!r}")
    module = importlib.import_module(f"caudal.contrib.{name}")
    globals()[name] = module
    return module
