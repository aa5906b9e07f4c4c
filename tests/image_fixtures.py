"""Reading tests/fixtures/images/ (written by tests/fixtures/make_image_fixtures.py with TF 2.21)."""
from __future__ import annotations

import functools
import os

import numpy as np

from tests.fixtures import make_image_fixtures as builders

DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "images")


def file_bytes(name: str) -> bytes:
    with open(os.path.join(DIRECTORY, name), "rb") as f:
        return f.read()


def contents(name: str) -> np.ndarray:
    """The file as a 0-d string array (what a string tensor holds)."""
    return np.array(file_bytes(name), dtype=object)


@functools.lru_cache(maxsize=1)
def decoded() -> dict[str, np.ndarray]:
    """TF's decodings, under "FILE|OP|channels|dtype|extra"."""
    return builders.load_deduplicated(os.path.join(DIRECTORY, "decoded.npz"))


@functools.lru_cache(maxsize=1)
def cases() -> dict[str, np.ndarray]:
    """TF's values of the resize ops ("resize|DTYPE|OP|align|half|HxW"), their gradients
    ("resize_grad|..." for the incoming gradient "resize_grad_in|..."), and of the image
    functions of builders.CASES ("case|NAME", with static shapes "shape|NAME")."""
    with np.load(os.path.join(DIRECTORY, "cases.npz")) as data:
        return {key: data[key] for key in data.files}


def resize_key(dtype: str, case: tuple) -> str:
    return f"{dtype}|{builders.resize_key(case)}"
