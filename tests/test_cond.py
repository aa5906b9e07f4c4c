"""tf.cond / tf.case: values, only the taken branch runs, gradients, nesting, Assert."""
import numpy as np
import pytest

import caudal as tf


def test_values_and_only_taken_branch_side_effects():
    p = tf.placeholder(tf.bool, [])
    v = tf.Variable(0.0)
    out = tf.cond(p, lambda: tf.assign_add(v, 1.0), lambda: tf.assign_add(v, 10.0))
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(out, {p: True}) == 1.0
        assert sess.run(v) == 1.0
        assert sess.run(out, {p: False}) == 11.0
        assert sess.run(v) == 11.0


def test_branch_using_outer_tensors_and_constants():
    x = tf.placeholder(tf.float32, [None])
    y = tf.cond(tf.reduce_sum(x) > 0, lambda: x * 2.0, lambda: tf.zeros_like(x) - 1.0)
    ops = {op.type for op in tf.get_default_graph().get_operations()}
    assert {"Switch", "Merge"} <= ops
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1.0, 2.0]}), [2.0, 4.0])
        np.testing.assert_array_equal(sess.run(y, {x: [-1.0, -2.0]}), [-1.0, -1.0])


def test_untaken_branch_errors_do_not_happen():
    x = tf.placeholder(tf.float32, [None])
    safe = tf.cond(tf.size(x) > 0, lambda: tf.reduce_max(x), lambda: tf.constant(-1.0))
    with tf.Session() as sess:
        assert sess.run(safe, {x: [3.0, 5.0]}) == 5.0
        assert sess.run(safe, {x: np.zeros(0, np.float32)}) == -1.0


def test_multiple_outputs_and_structures():
    p = tf.placeholder(tf.bool, [])
    a, (b, c) = tf.cond(p, lambda: (tf.constant(1), (tf.constant(2.0), tf.constant(3.0))),
                        lambda: (tf.constant(4), (tf.constant(5.0), tf.constant(6.0))))
    single = tf.cond(p, lambda: [tf.constant(1)], lambda: [tf.constant(2)])
    strict = tf.cond(p, lambda: [tf.constant(1)], lambda: [tf.constant(2)], strict=True)
    assert isinstance(single, tf.Tensor) and isinstance(strict, list)
    with tf.Session() as sess:
        assert sess.run([a, b, c], {p: False}) == [4, 5.0, 6.0]


def test_gradients_flow_through_the_taken_branch():
    x = tf.placeholder(tf.float64, [])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: x * x * 3.0, lambda: tf.sin(x) if hasattr(tf, "sin") else x * 5.0)
    other = tf.cond(p, lambda: x * 2.0, lambda: tf.constant(7.0, tf.float64))
    g = tf.gradients(y, x)[0]
    g_other = tf.gradients(other, x)[0]
    with tf.Session() as sess:
        assert sess.run(g, {x: 2.0, p: True}) == 12.0
        false_grad = sess.run(g, {x: 2.0, p: False})
        assert np.isclose(false_grad, np.cos(2.0) if hasattr(tf, "sin") else 5.0)
        assert sess.run(g_other, {x: 2.0, p: True}) == 2.0
        assert sess.run(g_other, {x: 2.0, p: False}) == 0.0


def test_training_through_cond():
    w = tf.Variable(1.0)
    use_double = tf.placeholder(tf.bool, [])
    loss = tf.cond(use_double, lambda: tf.square(w * 2.0), lambda: tf.square(w))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.Session() as sess:
        sess.run(w.initializer)
        sess.run(train, {use_double: True})
        assert np.isclose(sess.run(w), 1.0 - 0.1 * 8.0)
        sess.run(train, {use_double: False})
        assert np.isclose(sess.run(w), 0.2 - 0.1 * 0.4)


def test_nested_cond():
    x = tf.placeholder(tf.int32, [])
    sign = tf.cond(x > 0, lambda: tf.constant(1), lambda: tf.cond(x < 0, lambda: tf.constant(-1),
                                                                      lambda: tf.constant(0)))
    with tf.Session() as sess:
        assert [sess.run(sign, {x: v}) for v in (5, -3, 0)] == [1, -1, 0]


def test_case_picks_first_true_and_default():
    x = tf.placeholder(tf.float32, [])
    r = tf.case([(x < 0, lambda: tf.constant("neg")), (x > 10, lambda: tf.constant("big"))],
                default=lambda: tf.constant("mid"))
    with tf.Session() as sess:
        assert [sess.run(r, {x: v}) for v in (-1.0, 5.0, 50.0)] == [b"neg", b"mid", b"big"]


def test_case_exclusive_checks_at_run_time():
    x = tf.placeholder(tf.float32, [])
    r = tf.case([(x > 0, lambda: tf.constant(1)), (x > 1, lambda: tf.constant(2))],
                default=lambda: tf.constant(0), exclusive=True)
    with tf.Session() as sess:
        assert sess.run(r, {x: 0.5}) == 1
        with pytest.raises(tf.errors.InvalidArgumentError, match="assertion failed"):
            sess.run(r, {x: 5.0})


def test_assert_op():
    x = tf.placeholder(tf.float32, [])
    check = tf.Assert(x > 0, [x, tf.constant("must be positive")])
    with tf.control_dependencies([check]):
        y = tf.identity(x)
    with tf.Session() as sess:
        assert sess.run(y, {x: 1.0}) == 1.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="must be positive"):
            sess.run(y, {x: -1.0})


def test_fetching_a_tensor_of_an_untaken_branch_is_an_error():
    p = tf.placeholder(tf.bool, [])
    inside = []

    def true_branch():
        t = tf.constant(1.0) * 2.0
        inside.append(t)
        return t

    tf.cond(p, true_branch, lambda: tf.constant(0.0))
    with tf.Session() as sess:
        assert sess.run(inside[0], {p: True}) == 2.0
        with pytest.raises(tf.errors.InvalidArgumentError, match="does not have value"):
            sess.run(inside[0], {p: False})


def test_bad_cond_arguments():
    with pytest.raises(TypeError, match="true_fn must be callable"):
        tf.cond(tf.constant(True), 1, lambda: 2)
    with pytest.raises(TypeError, match="pred must be a bool"):
        tf.cond(tf.constant(1), lambda: tf.constant(1), lambda: tf.constant(2))
    with pytest.raises(ValueError, match="same type"):
        tf.cond(tf.constant(True), lambda: tf.constant(1), lambda: tf.constant(2.0))
