"""`tf.metrics` against TensorFlow 2.21's numbers (tests/fixtures/metrics/metrics.json, made by
tests/fixtures/make_metrics_fixtures.py): for each case, several batches are fed through
placeholders; after each, the update op's result and then the value (a separate run) must match
TF's to 1e-6, and `local_variables_initializer` must bring the value back to TF's initial one.
Names, dtypes and static shapes of the value, the update op and the local variables match too."""
from __future__ import annotations

import collections
import json
import pathlib

import numpy as np
import pytest

import caudal as tf

FIXTURE = pathlib.Path(__file__).parent / "fixtures" / "metrics" / "metrics.json"
CASES = json.loads(FIXTURE.read_text())["cases"]


def _array(record: dict) -> np.ndarray:
    data = [np.nan if x is None else x for x in record["data"]]
    return np.array(data, dtype=record["dtype"]).reshape(record["shape"])


# Sparse labels as three placeholders: the metrics take any (indices, values, dense_shape) triple,
# as TF takes a SparseTensor or SparseTensorValue.
SparseHolders = collections.namedtuple("SparseHolders", ["indices", "values", "dense_shape"])
SPARSE_PARTS = ("indices", "values", "dense_shape")


def _sparse_holders(name: str, kind: str) -> object:
    if kind == "sparse_tensor":
        return tf.sparse.placeholder(tf.int64, name=name)
    return SparseHolders(tf.placeholder(tf.int64, [None, 2], name=f"{name}_indices"),
                         tf.placeholder(tf.int64, [None], name=f"{name}_values"),
                         tf.placeholder(tf.int64, [2], name=f"{name}_dense_shape"))


def _feed(holders: dict, batch: dict) -> dict:
    feed = {}
    for name, record in batch.items():
        if isinstance(holders[name], SparseHolders):
            feed.update({getattr(holders[name], part): _array(record[part]) for part in SPARSE_PARTS})
        elif isinstance(holders[name], tf.SparseTensor):
            feed[holders[name]] = tf.SparseTensorValue(*(_array(record[part]) for part in SPARSE_PARTS))
        else:
            feed[holders[name]] = _array(record)
    return feed


def _build(case: dict, sparse_kind: str = "triple") -> tuple[dict, tuple]:
    first = case["batches"][0]
    holders = {}
    for name, record in first.items():
        if name in case["sparse"]:
            holders[name] = _sparse_holders(name, sparse_kind)
        else:
            shape = case["shapes"].get(name, record["shape"])
            holders[name] = tf.placeholder(tf.as_dtype(record["dtype"]), shape, name=name)
    kwargs = dict(case["kwargs"])
    if case["collections"]:
        kwargs.update(metrics_collections=["my_metrics"], updates_collections=["my_updates"])
    return holders, getattr(tf.metrics, case["fn"])(**holders, **kwargs)


def _close(got: object, expected: dict, what: str) -> None:
    want = _array(expected)
    got = np.asarray(got)
    assert got.shape == want.shape, what
    assert got.dtype == want.dtype, what
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=what)


RUNS = [(c, "triple") for c in CASES] + [(c, "sparse_tensor") for c in CASES if c["sparse"]]


@pytest.mark.parametrize(("case", "sparse_kind"), RUNS,
                         ids=[c["id"] + ("_as_sparse_tensor" if k == "sparse_tensor" else "") for c, k in RUNS])
def test_values_after_each_batch_match_tensorflow(case: dict, sparse_kind: str) -> None:
    """Sparse labels are fed both as a (indices, values, dense_shape) triple of placeholders and as
    a tf.sparse.placeholder (whose dense_shape has an unknown length)."""
    with tf.Graph().as_default(), tf.Session() as sess:
        holders, (value, update) = _build(case, sparse_kind)
        sess.run(tf.local_variables_initializer())
        _close(sess.run(value), case["initial_value"], "initial value")
        for i, batch in enumerate(case["batches"]):
            _close(sess.run(update, _feed(holders, batch)), case["updates"][i], f"update {i}")
            _close(sess.run(value), case["values"][i], f"value {i}")
        sess.run(tf.local_variables_initializer())
        _close(sess.run(value), case["reset_value"], "value after reset")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_names_dtypes_shapes_and_collections_match_tensorflow(case: dict) -> None:
    with tf.Graph().as_default() as graph:
        _, (value, update) = _build(case)
        assert (value.name, update.name) == (case["value_name"], case["update_name"])
        assert (value.dtype.name, update.dtype.name) == (case["value_dtype"], case["update_dtype"])
        assert value.shape.as_list() == case["value_shape"]
        assert update.shape.as_list() == case["update_shape"]
        local = [[v.name, v.dtype.base_dtype.name, v.shape.as_list()] for v in tf.local_variables()]
        assert local == case["local_variables"]
        assert [v.name for v in graph.get_collection(tf.GraphKeys.METRIC_VARIABLES)] == case["metric_variables"]
        assert [v.name for v in tf.global_variables()] == case["global_variables"] == []
        assert tf.trainable_variables() == []
        if case["collections"]:
            assert [t.name for t in graph.get_collection("my_metrics")] == case["my_metrics"]
            assert [t.name for t in graph.get_collection("my_updates")] == case["my_updates"]
