"""Plans remember values computed from tensor shapes alone (caudal.runtime.shape_memo).

Each test checks the values a program sees, run after run and as shapes change, and through the
plan's source whether the value was remembered.
"""
import numpy as np
import pytest

import caudal as tf
from caudal.runtime import shape_memo


def _plan(sess):
    (plan,) = sess._plans.values()
    return plan


def _remembered(plan):
    """The memo dicts of the plan's remembered calls, by the op type they hold."""
    env = plan.function.__globals__
    return {op.type: env[f"m{op._id}"] for op in plan.ops if f"m{op._id}" in env}


def test_the_mean_gradient_is_remembered_per_batch_size():
    x = tf.placeholder(tf.float32, [None])
    loss = tf.reduce_mean(x * x)
    (grad,) = tf.gradients(loss, [x])
    with tf.Session() as sess:
        for n in (3, 5, 3, 5, 1):
            xs = np.arange(n, dtype=np.float32) + 1
            np.testing.assert_allclose(sess.run(grad, {x: xs}), 2 * xs / n, rtol=1e-6)
        memos = _remembered(_plan(sess))
    assert {"Size", "Cast", "RealDiv", "Shape", "BroadcastTo"} <= set(memos)
    assert set(memos["RealDiv"]) == {(3,), (5,), (1,)}
    assert memos["RealDiv"][(3,)] == np.float32(1 / 3)
    for memo in memos.values():
        for value in memo.values():
            assert not isinstance(value, np.ndarray) or not value.flags.writeable


def test_a_fetched_remembered_value_is_the_callers_own():
    x = tf.placeholder(tf.float32, [None, 2])
    shape = tf.shape(x) * 2
    with tf.Session() as sess:
        first = sess.run(shape, {x: np.zeros((4, 2), np.float32)})
        first[0] = 99
        second = sess.run(shape, {x: np.zeros((4, 2), np.float32)})
        assert "remember(" in _plan(sess).source
    np.testing.assert_array_equal(second, [8, 4])
    assert second.flags.writeable


def test_a_fed_shape_value_is_not_remembered():
    x = tf.placeholder(tf.float32, [None])
    shape = tf.shape(x)
    doubled = shape * 2
    with tf.Session() as sess:
        xs = np.zeros(3, np.float32)
        np.testing.assert_array_equal(sess.run(doubled, {x: xs}), [6])
        np.testing.assert_array_equal(sess.run(doubled, {x: xs, shape: [10]}), [20])
        np.testing.assert_array_equal(sess.run(doubled, {x: xs, shape: [11]}), [22])
        np.testing.assert_array_equal(sess.run(doubled, {x: xs}), [6])


def test_values_of_fed_tensors_or_variables_are_computed_each_run():
    x = tf.placeholder(tf.float32, [None])
    v = tf.Variable(1.0)
    scaled = tf.cast(tf.size(x), tf.float32) * v
    with tf.Session() as sess:
        sess.run(v.initializer)
        xs = np.zeros(4, np.float32)
        assert sess.run(scaled, {x: xs}) == 4
        sess.run(v.assign(3.0))
        assert sess.run(scaled, {x: xs}) == 12
        (plan,) = [p for p in sess._plans.values() if "feed_0" in p.source]
        assert set(_remembered(plan)) == {"Size", "Cast"}


def test_large_results_are_computed_each_run_and_not_kept():
    x = tf.placeholder(tf.float32, [None])
    zeros = tf.zeros(tf.shape(x)) + 1
    n = shape_memo.MAX_REMEMBERED_SIZE + 1
    with tf.Session() as sess:
        for _ in range(2):
            np.testing.assert_array_equal(sess.run(zeros, {x: np.zeros(n, np.float32)}), np.ones(n))
        memos = _remembered(_plan(sess))
    assert memos["Fill"] == {}
    assert set(memos["Shape"]) == {(n,)}


def test_each_call_keeps_at_most_max_shapes():
    x = tf.placeholder(tf.float32, [None])
    size = tf.size(x) + 1
    with tf.Session() as sess:
        for n in range(shape_memo.MAX_SHAPES + 5):
            assert sess.run(size, {x: np.zeros(n, np.float32)}) == n + 1
        memos = _remembered(_plan(sess))
    assert 0 < len(memos["Size"]) <= shape_memo.MAX_SHAPES


def test_values_of_several_shapes_are_keyed_by_all_of_them():
    x = tf.placeholder(tf.float32, [None, None])
    y = tf.placeholder(tf.float32, [None])
    both = tf.concat([tf.shape(x), tf.shape(y)], 0)
    with tf.Session() as sess:
        for x_shape, y_shape in (((2, 3), (3,)), ((2, 1), (3,)), ((2, 3), (4,)), ((2, 3), (3,))):
            got = sess.run(both, {x: np.zeros(x_shape, np.float32), y: np.zeros(y_shape, np.float32)})
            np.testing.assert_array_equal(got, x_shape + y_shape)
        memos = _remembered(_plan(sess))
    assert set(memos["ConcatV2"]) == {((2, 3), (3,)), ((2, 1), (3,)), ((2, 3), (4,))}


@pytest.mark.parametrize("where", ["cond", "while"])
def test_shapes_on_branches_and_in_loops_are_computed_where_they_run(where):
    x = tf.placeholder(tf.float32, [None])
    flag = tf.placeholder(tf.bool, [])
    if where == "cond":
        out = tf.cond(flag, lambda: tf.size(x) * 2, lambda: tf.size(x) * 3)
    else:
        out = tf.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s + tf.size(x)), [0, 0])[1]
    with tf.Session() as sess:
        for n, taken in ((2, True), (2, False), (5, True)):
            expected = (n * 2 if taken else n * 3) if where == "cond" else 3 * n
            assert sess.run(out, {x: np.zeros(n, np.float32), flag: taken}) == expected
