"""A variable read through its `read` Identity: early for ops independent of the run's writes, after
the write for ops that depend on it (caudal.runtime.plan's `input_of`), as TF's buffer-forwarding
Identity behaves."""
from __future__ import annotations

import caudal as tf


def test_a_read_after_a_write_by_control_dependency_sees_the_write() -> None:
    # TF's `v/read` forwards the variable's buffer: an op that runs after an assignment sees it, an op
    # with no dependency on it runs early and sees the value before.
    with tf.Graph().as_default():
        v = tf.Variable(0, name="v")
        early = v * 10
        increment = tf.assign_add(v, 1)
        with tf.control_dependencies([increment]):
            late = v + 0
            filled = tf.fill([2], v)
        with tf.Session() as sess:
            sess.run(v.initializer)
            assert sess.run(late) == 1
            assert sess.run(filled).tolist() == [2, 2]
            assert sess.run([early, late]) == [20, 3]


def test_a_read_with_no_dependency_on_the_update_sees_the_value_before_it() -> None:
    with tf.Graph().as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        loss = tf.reduce_sum(w * w)
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        doubled = w * 2.0  # made after the update, but independent of it
        with tf.Session() as sess:
            sess.run(w.initializer)
            assert sess.run([doubled, train])[0].tolist() == [2.0, 4.0]
            assert sess.run(w).tolist() == [0.0, 0.0]
