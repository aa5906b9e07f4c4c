"""Records: ReadFile and MatchingFiles on the image fixtures (WriteFile, the errors and the
matching rules are in tests/test_io_ops.py)."""
import os

import numpy as np

import caudal as tf
from tests import image_fixtures as fixtures
from tests.ops.record import OpRecord


def _path(name):
    return np.array(os.path.join(fixtures.DIRECTORY, name).encode(), dtype=object)


def _sorted_bmps(pattern):
    names = sorted(n for n in os.listdir(fixtures.DIRECTORY) if n.endswith(".bmp"))
    return np.array([os.path.join(fixtures.DIRECTORY, n).encode() for n in names], dtype=object)


RECORDS = [
    # A fetched scalar string comes back as bytes; as a vector its type survives the comparison.
    OpRecord("read_file", lambda name: tf.expand_dims(tf.read_file(name), 0),
             lambda name: np.array([fixtures.file_bytes("rgb8.png")], dtype=object), [_path("rgb8.png")]),
    OpRecord("matching_files", lambda pattern: tf.matching_files(pattern), _sorted_bmps, [_path("*.bmp")],
             static_full=False),
]

COVERED_ELSEWHERE = {"WriteFile": "tests/test_io_ops.py"}
