"""tf.train learning-rate schedules against TensorFlow's recorded values (tests/fixtures/train_utils.json)."""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import caudal as tf

FIXTURE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "train_utils.json").read_text())
STEPS = FIXTURE["steps"]
SCHEDULES = FIXTURE["schedules"]


def _schedule(fn: str, kwargs: dict, step: object) -> tf.Tensor:
    if fn == "piecewise_constant":
        return tf.train.piecewise_constant(step, **kwargs)
    return getattr(tf.train, fn)(global_step=step, **kwargs)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_matches_tensorflow(name: str) -> None:
    spec = SCHEDULES[name]
    with tf.Graph().as_default():
        step = tf.placeholder(tf.int64, [])
        lr = _schedule(spec["fn"], spec["kwargs"], step)
        assert lr.dtype == tf.float32
        with tf.Session() as sess:
            got = [sess.run(lr, {step: s}) for s in STEPS]
    np.testing.assert_allclose(got, spec["values"], rtol=1e-5, atol=1e-7, err_msg=name)


def test_global_step_variable_drives_the_schedule() -> None:
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        lr = tf.train.exponential_decay(0.1, step, 10, 0.5, staircase=True)
        increment = tf.assign_add(step, 5)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = []
            for _ in range(4):
                values.append(sess.run(lr))
                sess.run(increment)
    np.testing.assert_allclose(values, [0.1, 0.1, 0.05, 0.05], rtol=1e-6)


def test_schedule_as_optimizer_learning_rate() -> None:
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        w = tf.Variable([1.0], name="w")
        lr = tf.train.piecewise_constant(step, [1], [0.5, 0.25])
        train = tf.train.GradientDescentOptimizer(lr).minimize(tf.reduce_sum(w), global_step=step)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            np.testing.assert_allclose(sess.run(w), [1.0 - 0.5 - 0.5 - 0.25])


def test_float64_learning_rate_gives_float64() -> None:
    with tf.Graph().as_default():
        lr = tf.train.polynomial_decay(tf.constant(0.1, tf.float64), tf.constant(5), 10, power=2.0)
        assert lr.dtype == tf.float64
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(lr), (0.1 - 0.0001) * 0.25 + 0.0001)


def test_errors() -> None:
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="global_step is required for exponential_decay"):
            tf.train.exponential_decay(0.1, None, 10, 0.5)
        with pytest.raises(ValueError, match="1 less than the length of values"):
            tf.train.piecewise_constant(tf.constant(1), [1, 2], [0.1, 0.2])
        with pytest.raises(ValueError, match="same dtype"):
            tf.train.piecewise_constant(tf.constant(1), [1], [0.1, tf.constant(1)])
