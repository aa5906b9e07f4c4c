"""Reading tests/fixtures/records/expected.json (written by make_record_fixtures.py with TF 2.21)."""
from __future__ import annotations

import base64
import functools
import json
import os
from typing import Any

import numpy as np

import caudal as tf

DIRECTORY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "records")


@functools.lru_cache(maxsize=1)
def expected() -> dict[str, Any]:
    with open(os.path.join(DIRECTORY, "expected.json")) as f:
        return json.load(f)


def decode(value: Any) -> Any:
    """Arrays, bytes and SparseTensorValues back from their JSON form."""
    if isinstance(value, dict):
        if "b64" in value:
            return base64.b64decode(value["b64"])
        if "sparse" in value:
            return tf.SparseTensorValue(*[decode(v) for v in value["sparse"]])
        if "dtype" in value:
            data = [decode(v) for v in value["data"]]
            if value["dtype"] == "string":
                array = np.empty((len(data),), dtype=object)
                array[:] = data
                return array.reshape(value["shape"])
            return np.array(data, dtype=value["dtype"]).reshape(value["shape"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def feature_spec(spec: list) -> Any:
    kind = spec[0]
    if kind == "FixedLenFeature":
        return tf.FixedLenFeature(spec[1], tf.as_dtype(spec[2]), spec[3])
    if kind == "VarLenFeature":
        return tf.VarLenFeature(tf.as_dtype(spec[1]))
    return tf.FixedLenSequenceFeature(spec[1], tf.as_dtype(spec[2]), allow_missing=spec[3], default_value=spec[4])


def feature_specs(features: dict | None) -> dict | None:
    return None if features is None else {k: feature_spec(v) for k, v in features.items()}


def serialized(name: str) -> bytes:
    if name == "<garbage>":
        return b"\x0a\x05garbage"
    data = expected()
    entry = data["examples"].get(name) or data["sequence_examples"][name]
    return decode(entry["serialized"])


def string_array(values: list[bytes]) -> np.ndarray:
    array = np.empty((len(values),), dtype=object)
    array[:] = list(values)
    return array


def assert_same(got: Any, want: Any, path: str = "") -> None:
    """Equal structure, dtypes, shapes and values (NaNs equal)."""
    if isinstance(want, dict):
        assert set(got) == set(want), (path, sorted(got), sorted(want))
        for key in want:
            assert_same(got[key], want[key], f"{path}/{key}")
    elif isinstance(want, tuple) and hasattr(want, "_fields"):
        assert type(got).__name__ == type(want).__name__, path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{path}.{want._fields[i]}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]")
    else:
        g, w = np.asarray(got), np.asarray(want)
        assert g.shape == w.shape and g.dtype == w.dtype, (path, g.shape, w.shape, g.dtype, w.dtype)
        if w.dtype.kind == "f":
            np.testing.assert_array_equal(g, w, err_msg=path)
        else:
            assert np.array_equal(g, w), (path, g, w)


def static_shapes(value: Any) -> Any:
    """The static shapes of a parse result, in the fixture's form."""
    if isinstance(value, tf.SparseTensor):
        return {"sparse": [static_shapes(t) for t in (value.indices, value.values, value.dense_shape)],
                "shape": None if value.shape.ndims is None else value.shape.as_list()}
    if isinstance(value, dict):
        return {k: static_shapes(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [static_shapes(v) for v in value]
    return None if value.shape.ndims is None else value.shape.as_list()
