"""tf.feature_column against TensorFlow 2.21: the programs of tests/fixtures/feature_column_cases.py
run with caudal give the outputs, variable names and shapes, collections, cols_to_vars and
gradients TF recorded (tests/fixtures/make_feature_column_fixtures.py), every bad input raises
TF's error type and message, and parse specs, column reprs and names are TF's."""
from __future__ import annotations

import json

import numpy as np
import pytest

import caudal as tf
import caudal.feature_column as fc
from caudal.ops.lookup_tables import tables_initializer
from tests.fixtures import feature_column_cases as cases

FIXTURES = cases.FIXTURES
COLUMNS = json.loads((FIXTURES / "columns.json").read_text())
ERRORS = json.loads((FIXTURES / "errors.json").read_text())
SPEC = json.loads((FIXTURES / "spec.json").read_text())
CASES = cases.cases(tf, fc)


def test_every_case_has_a_recording():
    assert sorted(CASES) == sorted(COLUMNS)
    assert sorted(_error_cases()) == sorted(ERRORS)


def _close(got: list, want: list, what: str) -> None:
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64), rtol=1e-5,
                               atol=1e-6, err_msg=what)


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_case_matches_tensorflow(name: str) -> None:
    got = cases.run_case(tf, fc, tables_initializer, CASES[name])
    want = COLUMNS[name]
    assert got["output_names"] == want["output_names"]
    assert got["variables"] == want["variables"]
    assert got["collections"] == want["collections"]
    assert got["cols_to_vars"] == want["cols_to_vars"]
    for got_shape, want_shape in zip(got["output_shapes"], want["output_shapes"], strict=True):
        # caudal may know a dimension TF leaves unknown (its weighted indicator), never the reverse
        assert len(got_shape) == len(want_shape)
        assert all(w is None or g == w for g, w in zip(got_shape, want_shape)), (got_shape, want_shape)
    for i, (g, w) in enumerate(zip(got["outputs"], want["outputs"], strict=True)):
        _close(g, w, f"{name}: output {i}")
    for g, w in zip(got["initial_values"], want["initial_values"], strict=True):
        _close(g, w, f"{name}: initial value")
    assert sorted(got["gradients"]) == sorted(want["gradients"])
    for variable, w in want["gradients"].items():
        _close(got["gradients"][variable], w, f"{name}: gradient of {variable}")


def _error_cases() -> dict:
    return cases.error_cases(tf, fc, tables_initializer, fc._LazyBuilder)


# TF's messages that name a column class by its module path name it by caudal's module here.
_CLASS_PATHS = ("tensorflow.python.feature_column.feature_column_v2.", "caudal.feature_column._categorical_columns.",
                "caudal.feature_column._dense_columns.")


def _without_class_paths(text: str) -> str:
    for path in _CLASS_PATHS:
        text = text.replace(f"<class '{path}", "<class '")
    return text


def _raised(fn) -> list:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - comparing whatever is raised with TF's
        message = getattr(e, "message", None) or str(e)
        message = message.split("\n\t [[")[0].replace(str(FIXTURES), "<fixtures>")
        return [type(e).__name__, _without_class_paths(message)]
    return ["no error", ""]


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_bad_input_raises_tensorflows_error(name: str) -> None:
    kind, message = ERRORS[name]
    assert _raised(_error_cases()[name]) == [kind, _without_class_paths(message)]


def _spec_columns() -> list:
    age = fc.numeric_column("age", default_value=30.0)
    words = fc.categorical_column_with_vocabulary_list("words", ["a", "b"])
    return [age, fc.bucketized_column(age, [10.0, 20.0]), fc.embedding_column(words, 2),
            fc.indicator_column(fc.categorical_column_with_identity("ids", 4)),
            fc.crossed_column(["words", "tags"], 10), fc.numeric_column("pos", shape=(2, 3), dtype=tf.int64),
            fc.weighted_categorical_column(fc.categorical_column_with_hash_bucket("h", 5), "hw"),
            fc.categorical_column_with_vocabulary_file("vf", str(cases.VOCAB_STRINGS), num_oov_buckets=2)]


def test_parse_example_spec_names_reprs_and_bucket_counts():
    with tf.Graph().as_default():
        columns = _spec_columns()
        spec = fc.make_parse_example_spec(columns)
    assert {k: repr(v) for k, v in sorted(spec.items())} == SPEC["parse_spec"]
    assert [c.name for c in columns] == SPEC["names"]
    reprs = {c.name: repr(c).replace(str(cases.VOCAB_STRINGS), "<vocab>") for c in columns
             if "Embedding" not in type(c).__name__}
    assert reprs == SPEC["reprs"]
    assert {c.name: c.num_buckets for c in columns if hasattr(c, "num_buckets")} == SPEC["num_buckets"]
