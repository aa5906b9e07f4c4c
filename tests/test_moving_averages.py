"""tf.train.ExponentialMovingAverage against TensorFlow's recorded values and names."""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import caudal as tf
from caudal.train.moving_averages import assign_moving_average

EMA = json.loads((pathlib.Path(__file__).parent / "fixtures" / "train_utils.json").read_text())["ema"]
CASES = {"plain": {"decay": 0.9}, "num_updates": {"decay": 0.99, "num_updates": "step"},
         "zero_debias": {"decay": 0.8, "zero_debias": True}}


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_tensorflow(case: str) -> None:
    expected = EMA[case]
    with tf.Graph().as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        b = tf.Variable(3.0, name="b")
        step = tf.Variable(0, dtype=tf.int64, name="step", trainable=False)
        loss = tf.reduce_sum(w * b, name="loss")
        kwargs = dict(CASES[case])
        if kwargs.get("num_updates") == "step":
            kwargs["num_updates"] = step
        ema = tf.train.ExponentialMovingAverage(**kwargs)
        update = tf.group(tf.assign_add(w, [0.5, -1.0]), tf.assign(b, b * 2.0))
        apply = ema.apply([w, b, loss])
        increment = tf.assign_add(step, 1)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for want in expected["history"]:
                sess.run(update)
                sess.run(apply)
                sess.run(increment)
                got = [sess.run(ema.average(w)), sess.run(ema.average(b)), sess.run(ema.average(loss))]
                for g, e in zip(got, want, strict=True):
                    np.testing.assert_allclose(g, e, rtol=1e-5)
        assert [ema.average(v).op.name for v in (w, b, loss)] == expected["names"]
        assert [ema.average_name(v) for v in (w, b, loss)] == expected["average_names"]
        assert [v.op.name for v in tf.moving_average_variables()] == expected["moving_average_variables"]
        assert [v.op.name for v in tf.global_variables()] == expected["global_variables"]
        assert sorted((k, v.op.name) for k, v in ema.variables_to_restore().items()) == \
            [tuple(p) for p in expected["variables_to_restore"]]
        assert not ema.average(w).trainable


def test_shadow_starts_at_the_variable_value() -> None:
    with tf.Graph().as_default():
        w = tf.Variable([4.0, 5.0], name="w")
        ema = tf.train.ExponentialMovingAverage(0.5, name="avg")
        apply = ema.apply([w])
        assert ema.name == "avg" and ema.average(w).op.name == "w/avg"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(ema.average(w)).tolist() == [4.0, 5.0]
            sess.run(tf.assign(w, [0.0, 1.0]))
            sess.run(apply)
            assert sess.run(ema.average(w)).tolist() == [2.0, 3.0]


def test_defaults_and_errors() -> None:
    with tf.Graph().as_default():
        w = tf.Variable([1.0], name="w")
        tf.Variable([1.0], name="frozen", trainable=False)
        ema = tf.train.ExponentialMovingAverage(0.9)
        ema.apply()
        assert ema.average(w) is not None
        assert ema.average_name(tf.Variable([2.0], name="later")) == "later/ExponentialMovingAverage"
        with pytest.raises(TypeError, match="must be half, float, or double"):
            ema.apply([tf.Variable([1], name="ints")])


def test_assign_moving_average() -> None:
    with tf.Graph().as_default():
        v = tf.Variable([10.0], name="v")
        update = assign_moving_average(v, tf.constant([0.0]), 0.9, zero_debias=False)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_allclose(sess.run(update), [9.0])
