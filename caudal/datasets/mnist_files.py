"""Reading MNIST's gzip-compressed IDX files, and the bundled offline sample.

The IDX layout is the one MNIST is distributed in (and that TF1's tutorial
reader and Keras' downloader consume): a big-endian header (magic number,
item count, then rows and columns for images) followed by raw uint8 data.
Image files have magic 2051, label files 2049. Every problem with a file
(not gzip, truncated stream, wrong magic, short or overlong data, counts
that disagree between an image and a label file, labels outside 0-9) is a
`ValueError` whose message names the file.

Nothing is downloaded: caudal ships the real MNIST test set (10,000 images,
`t10k-*`) as package data, and `load_splits` falls back on it when a
directory lacks the training files.
"""
from __future__ import annotations

import gzip
import os
import sys
import zlib
from functools import lru_cache
from typing import BinaryIO

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
NUM_CLASSES = 10

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

BUNDLED_SIZE = 10_000
BUNDLED_TRAIN_SIZE = 8_000  # the first 8,000 bundled images: the training pool
BUNDLED_TEST_SIZE = 2_000  # the last 2,000: the test set

_DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
_notice_printed = False

Arrays = tuple[np.ndarray, np.ndarray]


def decompress(stream: BinaryIO, name: str) -> bytes:
    """All bytes of a gzip stream; a damaged or cut-off stream is a ValueError naming `name`."""
    try:
        with gzip.GzipFile(fileobj=stream, mode="rb") as gz:
            return gz.read()
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValueError(f"MNIST file {name} is corrupt or truncated (gzip stream unreadable: {exc})") from exc


def _read_gzip(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as stream:
        return decompress(stream, os.fspath(path))


def _header(data: bytes, words: int, name: str, kind: str) -> list[int]:
    if len(data) < 4 * words:
        raise ValueError(f"MNIST {kind} file {name} is truncated: {len(data)} bytes, "
                         f"shorter than its {4 * words}-byte header")
    return [int.from_bytes(data[4 * i:4 * i + 4], "big") for i in range(words)]


def _payload(data: bytes, offset: int, expected: int, name: str, kind: str) -> np.ndarray:
    got = len(data) - offset
    if got < expected:
        raise ValueError(f"MNIST {kind} file {name} is truncated: its header announces {expected} bytes "
                         f"of data but only {got} follow")
    if got > expected:
        raise ValueError(f"MNIST {kind} file {name} is corrupt: {got - expected} bytes follow the "
                         f"{expected} bytes of data its header announces")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).copy()


def parse_images(data: bytes, name: str) -> np.ndarray:
    """Decompressed IDX image bytes -> uint8 array [count, rows, cols]."""
    magic, count, rows, cols = _header(data, 4, name, "image")
    if magic != IMAGES_MAGIC:
        raise ValueError(f"Invalid magic number {magic} in MNIST image file: {name} (expected {IMAGES_MAGIC})")
    pixels = _payload(data, 16, count * rows * cols, name, "image")
    return pixels.reshape(count, rows, cols)


def parse_labels(data: bytes, name: str) -> np.ndarray:
    """Decompressed IDX label bytes -> uint8 array [count] of digits 0-9."""
    magic, count = _header(data, 2, name, "label")
    if magic != LABELS_MAGIC:
        raise ValueError(f"Invalid magic number {magic} in MNIST label file: {name} (expected {LABELS_MAGIC})")
    labels = _payload(data, 8, count, name, "label")
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        raise ValueError(f"MNIST label file {name} is corrupt: label {int(labels.max())} is not a digit 0-9")
    return labels


def read_images(path: str | os.PathLike) -> np.ndarray:
    """Reads a gzip IDX image file (magic 2051) into uint8 [count, rows, cols]."""
    return parse_images(_read_gzip(path), os.fspath(path))


def read_labels(path: str | os.PathLike) -> np.ndarray:
    """Reads a gzip IDX label file (magic 2049) into uint8 [count]."""
    return parse_labels(_read_gzip(path), os.fspath(path))


def read_pair(images_path: str | os.PathLike, labels_path: str | os.PathLike) -> Arrays:
    """Reads an image file and its label file, checking they hold the same number of examples."""
    images, labels = read_images(images_path), read_labels(labels_path)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"MNIST files disagree: {os.fspath(images_path)} holds {images.shape[0]} images "
                         f"but {os.fspath(labels_path)} holds {labels.shape[0]} labels")
    return images, labels


def find_pair(directory: str | os.PathLike | None, images_name: str, labels_name: str) -> tuple[str, str] | None:
    """Paths of an image/label file pair in `directory`, or None when neither is there.

    Only one of the two being present is a FileNotFoundError naming the missing one,
    since silently substituting the bundled sample would hide the mistake.
    """
    if directory is None:
        return None
    paths = (os.path.join(directory, images_name), os.path.join(directory, labels_name))
    present = [os.path.isfile(p) for p in paths]
    if not any(present):
        return None
    if not all(present):
        missing, found = (paths[1], paths[0]) if present[0] else (paths[0], paths[1])
        raise FileNotFoundError(f"MNIST file {missing} is missing (its partner {found} is present)")
    return paths


@lru_cache(maxsize=1)
def _bundled_arrays() -> Arrays:
    images, labels = read_pair(os.path.join(_DATA_DIR, TEST_IMAGES), os.path.join(_DATA_DIR, TEST_LABELS))
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def bundled_sample(directory: str | os.PathLike | None = None) -> Arrays:
    """The bundled 10,000 real MNIST images (uint8 [10000, 28, 28]) and labels (uint8 [10000]).

    These are MNIST's test files shipped with caudal. The first call in a process
    says on stderr that they stand in for files not found in `directory`.
    """
    global _notice_printed
    if not _notice_printed:
        _notice_printed = True
        where = f"in {os.fspath(directory)!r}" if directory is not None else "(no MNIST path given)"
        print(f"caudal: MNIST files not found {where}; using the bundled 10,000-image sample "
              f"(the real MNIST test set) instead. Nothing is downloaded.", file=sys.stderr)
    images, labels = _bundled_arrays()
    return images.copy(), labels.copy()


def load_splits(directory: str | os.PathLike | None) -> tuple[Arrays, Arrays, bool]:
    """((train images, labels), (test images, labels), from_bundle) from `directory`.

    With the training files present they are read, and so are the t10k files, or,
    when those are absent, the bundled copy of them. Without the training files the
    bundled sample is split deterministically: train = the first 8,000 images,
    test = the last 2,000; `from_bundle` is then True.
    """
    train_paths = find_pair(directory, TRAIN_IMAGES, TRAIN_LABELS)
    test_paths = find_pair(directory, TEST_IMAGES, TEST_LABELS)
    if train_paths is None:
        images, labels = bundled_sample(directory)
        train = images[:BUNDLED_TRAIN_SIZE], labels[:BUNDLED_TRAIN_SIZE]
        test = images[BUNDLED_SIZE - BUNDLED_TEST_SIZE:], labels[BUNDLED_SIZE - BUNDLED_TEST_SIZE:]
        return train, test, True
    train = read_pair(*train_paths)
    test = read_pair(*test_paths) if test_paths is not None else bundled_sample(directory)
    return train, test, False


__all__ = [
    "IMAGES_MAGIC", "LABELS_MAGIC", "NUM_CLASSES", "TRAIN_IMAGES", "TRAIN_LABELS", "TEST_IMAGES", "TEST_LABELS",
    "BUNDLED_SIZE", "BUNDLED_TRAIN_SIZE", "BUNDLED_TEST_SIZE",
    "decompress", "parse_images", "parse_labels", "read_images", "read_labels", "read_pair", "find_pair",
    "bundled_sample", "load_splits",
]
