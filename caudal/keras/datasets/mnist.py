"""`tf.keras.datasets.mnist.load_data`, offline.

Keras downloads `mnist.npz` into `~/.keras/datasets`; caudal never downloads.
`path` names either a directory holding MNIST's four IDX `.gz` files or an
`.npz` file with keys x_train, y_train, x_test, y_test (the file Keras
caches; a relative name not found as given is also looked up under
`~/.keras/datasets`, as Keras resolves it). With `path=None`, or when the
files are absent, the 10,000 real MNIST images bundled with caudal are split
deterministically: train = the first 8,000, test = the last 2,000, and a
one-time notice goes to stderr.
"""
from __future__ import annotations

import os
import zipfile

import numpy as np

from caudal.datasets import mnist_files

_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

Split = tuple[np.ndarray, np.ndarray]


def _load_npz(path: str) -> tuple[Split, Split]:
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [key for key in _NPZ_KEYS if key not in f.files]
            if missing:
                raise ValueError(f"MNIST file {path} lacks the arrays {missing}; it holds {sorted(f.files)}")
            x_train, y_train, x_test, y_test = (f[key] for key in _NPZ_KEYS)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise ValueError(f"MNIST file {path} is not a readable .npz archive ({exc})") from exc
    for x, y, part in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if x.shape[:1] != y.shape[:1]:
            raise ValueError(f"MNIST file {path} disagrees with itself: x_{part} holds {x.shape[0]} images "
                             f"but y_{part} holds {y.shape[0]} labels")
    return (x_train, y_train), (x_test, y_test)


def _find_npz(path: str) -> str | None:
    if os.path.isfile(path):
        return path
    if not os.path.isabs(path):
        cached = os.path.join(os.path.expanduser("~"), ".keras", "datasets", path)
        if os.path.isfile(cached):
            return cached
    return None


def load_data(path: str | os.PathLike | None = None) -> tuple[Split, Split]:
    """Keras' `load_data`: ((x_train, y_train), (x_test, y_test)), uint8 images [N, 28, 28], uint8 labels.

    A directory is read with the IDX rules of `caudal.datasets.mnist_files`
    (training files present but no t10k files: the test set is the bundled
    t10k copy); an `.npz` is returned as stored. Unreadable files raise a
    ValueError naming them.
    """
    if path is not None:
        path = os.fspath(path)
        npz = None if os.path.isdir(path) else _find_npz(path)
        if npz is not None:
            return _load_npz(npz)
    train, test, _ = mnist_files.load_splits(path)
    return train, test


__all__ = ["load_data"]
