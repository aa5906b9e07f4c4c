"""TensorArrays and TensorLists compiled by the jax backend: map_fn, scan and dynamic_rnn, their
gradients through while loops (TensorList histories), TF's errors, and what stays on the host.

Run with `pytest -m jax`.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import caudal as tf
from caudal import errors
from tests.session_fixtures import session_on

pytestmark = pytest.mark.jax
pytest.importorskip("jax")


def _stage_kinds(sess: tf.Session, fetch: object) -> list[str]:
    plan = next(p for p in sess._plans.values() if fetch in p.fetches)
    return [type(stage).__name__ for stage in plan.stages]


def _host_op_types(sess: tf.Session, fetch: object) -> set[str]:
    plan = next(p for p in sess._plans.values() if fetch in p.fetches)
    return {op.type for stage in plan.stages if type(stage).__name__ == "HostStage" for op in stage.ops}


def _on_both(build, feed=None, steps: int = 1) -> dict:
    """{backend: [the fetches' values after each run]}, and the jax plans' stage kinds."""
    results = {}
    for backend in ("numpy", "jax"):
        with tf.Graph().as_default():
            fetches, feed_of = build()
            with session_on(backend) as sess:
                sess.run(tf.global_variables_initializer())
                rng = np.random.default_rng(5)
                for v in tf.trainable_variables():
                    v.load(rng.normal(0, 0.5, v.shape.as_list()).astype(np.float32), sess)
                results[backend] = [sess.run(fetches, feed_of) for _ in range(steps)]
                if backend == "jax":
                    results["kinds"] = _stage_kinds(sess, fetches[0])
                    results["host"] = _host_op_types(sess, fetches[0])
    return results


def _assert_same(results: dict) -> None:
    for got_run, want_run in zip(results["jax"], results["numpy"], strict=True):
        for got, want in zip(got_run, want_run, strict=True):
            if want is None:
                continue
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn", ["map_fn", "scan"])
def test_map_fn_and_scan_with_their_gradients_compile_into_one_stage(fn: str) -> None:
    def build():
        x = tf.placeholder(tf.float32, [None, 3])
        if fn == "map_fn":
            y = tf.map_fn(lambda row: tf.sin(row) * row, x)
        else:
            y = tf.scan(lambda acc, row: acc * 0.5 + tf.tanh(row), x)
        grad = tf.gradients(tf.reduce_sum(y * y), x)[0]
        return [y, grad], {x: np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)}

    results = _on_both(build)
    _assert_same(results)
    assert results["kinds"] == ["DeviceStage"]


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_dynamic_rnn_training_step_is_one_compiled_stage_matching_numpy(cell: str) -> None:
    """The forward loop (TensorArrays of inputs and outputs, the iteration bound dynamic_rnn gives)
    and the backward loop (gradient arrays, TensorList histories of the forward values)."""
    def build():
        x = tf.placeholder(tf.float32, [None, 5, 3])
        lengths = tf.placeholder(tf.int32, [None])
        rnn_cell = tf.nn.rnn_cell.BasicLSTMCell(4) if cell == "lstm" else tf.nn.rnn_cell.GRUCell(4)
        outputs, _ = tf.nn.dynamic_rnn(rnn_cell, x, sequence_length=lengths, dtype=tf.float32)
        loss = tf.reduce_mean(tf.square(outputs - 0.25))
        train = tf.train.AdamOptimizer(0.05).minimize(loss)
        feed = {x: np.random.default_rng(1).uniform(-1, 1, (3, 5, 3)).astype(np.float32), lengths: [5, 3, 4]}
        return [loss, train], feed

    results = _on_both(build, steps=3)
    _assert_same(results)
    assert results["host"] == {"Assert"}  # dynamic_rnn's check of sequence_length, whose message is a string
    assert results["kinds"] == ["DeviceStage", "HostStage", "DeviceStage"]
    losses = [run[0] for run in results["jax"]]
    assert losses[2] < losses[0]


def _array_misuse(backend: str, second: str) -> tuple[str, float]:
    """(the error of writing twice or reading twice from a TensorArray, a variable after the run)."""
    with tf.Graph().as_default():
        v = tf.Variable(1.0)
        x = tf.placeholder(tf.float32, [2])
        ta = tf.TensorArray(tf.float32, size=2).write(0, x[0])
        if second == "write":
            ta = ta.write(0, x[1])
            value = ta.read(0)
        else:
            first = ta.read(0)
            with tf.control_dependencies([first]):
                value = ta.read(0) + first
        with tf.control_dependencies([value]):
            step = tf.assign_add(v, 1.0)
        with session_on(backend) as sess:
            sess.run(v.initializer)
            with pytest.raises(errors.InvalidArgumentError) as info:
                sess.run(step, {x: [1.0, 2.0]})
            message = re.sub(r"TensorArray_\d+", "TensorArray_N", info.value.message.split("\n")[0])
            return message, float(sess.run(v))


@pytest.mark.parametrize("second", ["write", "read"])
def test_tensor_array_misuse_raises_numpys_error_and_changes_nothing(second: str) -> None:
    jax_error, jax_value = _array_misuse("jax", second)
    numpy_error, numpy_value = _array_misuse("numpy", second)
    assert jax_error == numpy_error
    assert "already been written to" in jax_error if second == "write" else "twice" in jax_error
    assert jax_value == numpy_value == 1.0


def test_a_growing_array_and_a_loop_without_a_bound_run_on_the_host() -> None:
    """A dynamic_size array (its size is a value) and the gradient of a loop with no iteration bound
    (its history has no size) stay on the host, with the NumPy backend's results."""
    def build():
        x = tf.placeholder(tf.float32, [])
        n = tf.placeholder(tf.int32, [])
        grown = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        _, grown = tf.while_loop(lambda i, ta: i < n, lambda i, ta: (i + 1, ta.write(i, x * tf.cast(i, tf.float32))),
                                 [0, grown])
        powered = tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, acc * x), [0, 1.0])[1]
        grad = tf.gradients(powered, x)[0]
        return [tf.reduce_sum(grown.stack()), powered, grad], {x: 1.5, n: 4}

    results = _on_both(build)
    _assert_same(results)
    assert "HostStage" in results["kinds"]
    np.testing.assert_allclose(results["jax"][0][1:], [1.5 ** 4, 4 * 1.5 ** 3], rtol=1e-6)
