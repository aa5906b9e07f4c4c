"""The Session's resource store: every kind of run state is per Session and rolled back by a failed run."""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def test_failed_run_rolls_back_print_counter(capfd):
    x = tf.placeholder(tf.float32, [])
    printed = tf.Print(x, [x], message="x=", first_n=2)
    check = tf.Assert(x > 0, [x])
    with tf.control_dependencies([check]):
        guarded = tf.identity(printed)
    with tf.Session() as sess:
        sess.run(printed, {x: 1.0})
        capfd.readouterr()
        with pytest.raises(tf.errors.InvalidArgumentError, match="assertion failed"):
            sess.run(guarded, {x: -1.0})  # prints, then fails: the second print is taken back
        capfd.readouterr()
        sess.run(printed, {x: 2.0})
        assert "x=[2]" in capfd.readouterr().err
        sess.run(printed, {x: 3.0})
        assert capfd.readouterr().err == ""  # first_n=2 reached


def test_failed_run_rolls_back_random_streams_and_variables():
    v = tf.Variable(1.0)
    noise = tf.random_uniform([3], seed=7)
    bump = tf.assign_add(v, 1.0)
    fail = tf.Assert(tf.constant(False), [v])
    with tf.control_dependencies([bump]):
        failing = tf.group(noise, fail)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(failing)
        after_failure = sess.run([noise, v])
    with tf.Session() as clean:
        clean.run(v.initializer)
        expected = clean.run([noise, v])
    np.testing.assert_array_equal(after_failure[0], expected[0])
    assert after_failure[1] == expected[1] == 1.0


def test_two_sessions_share_nothing():
    v = tf.Variable(0.0)
    draw = tf.random_normal([2], seed=3)
    counter = tf.assign_add(v, 1.0)
    first, second = tf.Session(), tf.Session()
    for sess in (first, second):
        sess.run(v.initializer)
    a1 = first.run(draw)
    first.run(counter)
    b1 = second.run(draw)
    np.testing.assert_array_equal(a1, b1)  # same seed, own stream
    assert first.run(v) == 1.0 and second.run(v) == 0.0
    a2 = first.run(draw)
    assert not np.array_equal(a1, a2)  # the stream moved on in the first session only
    np.testing.assert_array_equal(second.run(draw), a2)


def test_closing_a_session_drops_its_state():
    v = tf.Variable(5.0)
    sess = tf.Session()
    sess.run(v.initializer)
    sess.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(v)
    with tf.Session() as other:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value Variable"):
            other.run(v)
