"""Compiled plans: in-place kernels on dead fresh values, and common subexpressions computed once.

Each test checks the values a program sees (which no optimisation may change) and, through the
plan's source, whether the optimisation was applied.
"""
import numpy as np
import pytest

import caudal as tf
from caudal.framework.registry import register_op
from caudal.ops import _rules


def _source(sess):
    (plan,) = sess._plans.values()
    return plan.source


def _x_and_w():
    x = tf.placeholder(tf.float32, [None, 3])
    w = tf.constant(np.arange(9, dtype=np.float32).reshape(3, 3))
    return x, w


XS = np.array([[1, -2, 3], [-4, 5, -6]], np.float32)


def _expected_hidden():
    return np.arange(9, dtype=np.float32).reshape(3, 3)


def test_bias_and_relu_write_into_the_matmul_output(monkeypatch):
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")  # in-place writes are the NumPy backend's
    x, w = _x_and_w()
    b = tf.constant([-50.0, 0.0, 50.0])
    y = tf.nn.relu(tf.matmul(x, w) + b)
    with tf.Session() as sess:
        got = sess.run(y, {x: XS})
        source = _source(sess)
    np.testing.assert_array_equal(got, np.maximum(XS @ _expected_hidden() + [-50, 0, 50], 0))
    assert source.count("_inplace(") == 2


def test_fed_values_and_variables_are_never_written():
    x = tf.placeholder(tf.float32, [2, 3])
    v = tf.Variable(np.ones((2, 3), np.float32))
    y = tf.nn.relu(x) + tf.nn.relu(v)
    feed = XS.copy()
    with tf.Session() as sess:
        sess.run(v.initializer)
        got = sess.run(y, {x: feed})
        np.testing.assert_array_equal(sess.run(v), np.ones((2, 3)))
    np.testing.assert_array_equal(feed, XS)
    np.testing.assert_array_equal(got, np.maximum(XS, 0) + 1)


def test_a_fetched_value_is_not_overwritten():
    x, w = _x_and_w()
    h = tf.matmul(x, w)
    y = tf.nn.relu(h)
    with tf.Session() as sess:
        got_h, got_y = sess.run([h, y], {x: XS})
        source = _source(sess)
    np.testing.assert_array_equal(got_h, XS @ _expected_hidden())
    np.testing.assert_array_equal(got_y, np.maximum(XS @ _expected_hidden(), 0))
    assert "_inplace(" not in source


def test_a_value_with_a_live_view_is_not_overwritten():
    # The reshape may return a view of h; writing relu into h would change it.
    x, w = _x_and_w()
    h = tf.matmul(x, w)
    view = tf.reshape(h, [-1])
    y = tf.nn.relu(h)
    with tf.Session() as sess:
        got_view, got_y = sess.run([view * 1.0, y], {x: XS})
    np.testing.assert_array_equal(got_view, (XS @ _expected_hidden()).ravel())
    np.testing.assert_array_equal(got_y, np.maximum(XS @ _expected_hidden(), 0))


def test_a_value_used_later_is_not_overwritten():
    x, w = _x_and_w()
    h = tf.matmul(x, w)
    y = tf.nn.relu(h) + h
    with tf.Session() as sess:
        got = sess.run(y, {x: XS})
    hidden = XS @ _expected_hidden()
    np.testing.assert_array_equal(got, np.maximum(hidden, 0) + hidden)


def test_a_value_kept_by_a_variable_is_not_overwritten():
    x, w = _x_and_w()
    v = tf.Variable(np.zeros((2, 3), np.float32))
    h = tf.matmul(x, w)
    assign = tf.assign(v, h)
    with tf.control_dependencies([assign]):
        y = tf.nn.relu(h)
    with tf.Session() as sess:
        sess.run(v.initializer)
        got = sess.run(y, {x: XS})
        stored = sess.run(v)
    np.testing.assert_array_equal(stored, XS @ _expected_hidden())
    np.testing.assert_array_equal(got, np.maximum(XS @ _expected_hidden(), 0))


def test_broadcasting_to_a_larger_shape_still_allocates(monkeypatch):
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")  # in-place writes are the NumPy backend's
    a = tf.placeholder(tf.float32, [None, 3])
    b = tf.placeholder(tf.float32, [None, 3])
    y = tf.nn.relu(a) + b
    with tf.Session() as sess:
        got = sess.run(y, {a: [[1.0, -1.0, 2.0]], b: np.ones((4, 3), np.float32)})
        assert "_inplace(" in _source(sess)
    np.testing.assert_array_equal(got, np.tile([[2.0, 1.0, 3.0]], (4, 1)))


def test_gradients_through_in_place_ops_are_unchanged():
    x = tf.placeholder(tf.float64, [None, 3])
    w = tf.Variable(np.linspace(-1, 1, 9).reshape(3, 3))
    b = tf.Variable(np.array([0.1, -0.2, 0.3]))
    loss = tf.reduce_sum(tf.square(tf.nn.relu(tf.matmul(x, w) + b)))
    gw, gb = tf.gradients(loss, [w, b])
    xs = np.array([[1.0, 2.0, -1.0], [0.5, -1.5, 2.0]])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got_w, got_b = sess.run([gw, gb], {x: xs})
    pre = xs @ np.linspace(-1, 1, 9).reshape(3, 3) + [0.1, -0.2, 0.3]
    dpre = 2 * np.maximum(pre, 0) * (pre > 0)
    np.testing.assert_allclose(got_w, xs.T @ dpre)
    np.testing.assert_allclose(got_b, dpre.sum(0))


def test_in_place_kernels_must_keep_the_kernel_signature():
    with pytest.raises(TypeError, match="in-place kernel needs a fresh, stateless op"):
        register_op("PlanTestNotFresh", infer=_rules.unary(_rules.REAL), kernel=lambda xp, x: x,
                    grad=lambda op, g: [g], inplace=lambda xp, x: x)
    with pytest.raises(TypeError, match="must take the kernel's keyword arguments"):
        register_op("PlanTestAttrs", infer=_rules.unary(_rules.REAL), kernel=lambda xp, x, *, alpha: x,
                    grad=lambda op, g: [g], fresh=True, inplace=lambda xp, x: x)


def test_equal_pure_ops_are_computed_once():
    keep = tf.placeholder(tf.float32, [])
    scales = [tf.math.reciprocal(1.0 - (1.0 - keep)) for _ in range(4)]
    total = tf.add_n(scales)
    with tf.Session() as sess:
        assert sess.run(total, {keep: 0.5}) == pytest.approx(8.0)
        source = _source(sess)
    computed = [line.strip() for line in source.splitlines() if " = " in line and "return" not in line]
    assert len(computed) == 4, computed  # two Subs (scalar expressions), one Reciprocal, one AddN
    assert sum(" - " in line for line in computed) == 2


def test_scalar_arithmetic_runs_as_operators_outside_loops():
    """NumPy's scalar operators cost a twentieth of a ufunc call on scalars: statically scalar Add,
    Sub, Mul and comparisons are written as expressions; arrays keep their kernels."""
    a = tf.placeholder(tf.float32, [])
    v = tf.placeholder(tf.float32, [3])
    y = (a + 2.0) * a - 1.0
    z = (v + 2.0) * v
    with tf.Session() as sess:
        got_y, got_z = sess.run([y, z], {a: 3.0, v: [1, 2, 3]})
        source = _source(sess)
    assert got_y == pytest.approx(14.0) and np.asarray(got_y).dtype == np.float32
    np.testing.assert_allclose(got_z, [3, 8, 15])
    lines = [line.strip() for line in source.splitlines() if " = " in line and "return" not in line]
    assert sum(" + " in line or " * " in line or " - " in line for line in lines) == 3
    assert sum(line.split(" = ")[1].startswith("k") for line in lines) == 2  # the array Add and Mul


def test_random_ops_and_ops_with_control_inputs_are_not_merged():
    a = tf.random_uniform([3], seed=1)
    b = tf.random_uniform([3], seed=1)
    v = tf.Variable(0.0)
    x = tf.constant(2.0)
    first = x * 3.0
    with tf.control_dependencies([tf.assign_add(v, 1.0)]):
        second = x * 3.0
    with tf.Session() as sess:
        sess.run(v.initializer)
        got_a, got_b, got_first, got_second = sess.run([a, b, first, second])
        assert sess.run(v) == 1.0
    assert got_a.shape == got_b.shape == (3,)
    assert got_first == got_second == 6.0


def test_two_identical_conds_each_take_their_branch():
    pred = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [])
    v = tf.Variable(0.0)

    def taken():
        with tf.control_dependencies([tf.assign_add(v, 1.0)]):
            return x * 2.0

    a = tf.cond(pred, taken, lambda: x - 1.0)
    b = tf.cond(pred, taken, lambda: x - 1.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run([a, b], {pred: True, x: 3.0}) == [6.0, 6.0]
        assert sess.run(v) == 2.0
        assert sess.run([a, b], {pred: False, x: 3.0}) == [2.0, 2.0]
        assert sess.run(v) == 2.0
