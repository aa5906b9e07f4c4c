"""Broadcast gradients run as one call (caudal/runtime/fusion.py): Shape, Shape,
BroadcastGradientArgs, Sum and Reshape become one line of the plan, with the same values and
errors as the five ops."""
import numpy as np
import pytest

import caudal as tf
from caudal.errors import InvalidArgumentError
from caudal.runtime import fusion


def _plan(sess):
    (plan,) = sess._plans.values()
    return plan


def _largest_plan(sess):
    return max(sess._plans.values(), key=lambda plan: len(plan.ops))


def _step_types(plan):
    return [op.type for op in plan.step_ops if op is not None]


def _unfused(monkeypatch):
    monkeypatch.setattr(fusion, "broadcast_reductions", lambda ops, fetches, feeds: {})


def _product_gradients():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    gx, gy = tf.gradients(tf.reduce_sum(x * y * y), [x, y])
    return x, y, gx, gy


XS = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
YS = np.array([[2.0, 1.0, -3.0]], np.float32)


@pytest.mark.parametrize("ys", [np.tile(YS, (2, 1)), YS], ids=["same shapes", "broadcast"])
def test_a_broadcast_gradient_is_one_call_with_the_same_values(ys, monkeypatch):
    x, y, gx, gy = _product_gradients()
    feed = {x: XS, y: ys}
    with tf.Session() as sess:
        got = sess.run([gx, gy], feed)
        types = _step_types(_plan(sess))
    assert types.count("Shape") == 1 and "Sum" not in types  # one Shape for reduce_sum's gradient
    assert types.count("BroadcastGradientArgs") == 4  # the line of each fused call names it
    np.testing.assert_allclose(got[0], np.broadcast_to(ys * ys, XS.shape), rtol=1e-6)
    np.testing.assert_allclose(got[1], (2 * XS * np.broadcast_to(ys, XS.shape)).sum(0, keepdims=True)
                               if ys.shape[0] == 1 else 2 * XS * ys, rtol=1e-6)
    _unfused(monkeypatch)
    with tf.Session() as sess:
        unfused = sess.run([gx, gy], feed)
        assert _step_types(_plan(sess)).count("Sum") == 4
    for a, b in zip(got, unfused):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_dimensions_of_one_are_summed_as_by_the_five_ops(monkeypatch):
    x = tf.placeholder(tf.float64, [None, None])
    y = tf.placeholder(tf.float64, [None, None])
    (gx,) = tf.gradients(x * y, [x])
    feed = {x: np.array([[-0.0, 2.0]]), y: np.array([[3.0, -1.0]])}
    with tf.Session() as sess:
        got = sess.run(gx, feed)
    _unfused(monkeypatch)
    with tf.Session() as sess:
        expected = sess.run(gx, feed)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


def test_incompatible_shapes_raise_the_broadcast_error_naming_its_op():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    dz = tf.placeholder(tf.float32, [None, 3])
    (gx,) = tf.gradients(x * y, [x], grad_ys=[dz])
    with tf.Session() as sess:
        with pytest.raises(InvalidArgumentError, match=r"Incompatible shapes: \[2, 3\] vs\. \[5, 3\]") as info:
            sess.run(gx, {x: XS, y: YS, dz: np.ones((5, 3), np.float32)})
    assert "BroadcastGradientArgs" in str(info.value)


def test_a_fetched_intermediate_keeps_the_five_ops():
    x, y, gx, _ = _product_gradients()
    reshape = gx.op if gx.op.type == "Reshape" else None
    assert reshape is not None
    shape_of_x = reshape.inputs[1]
    with tf.Session() as sess:
        got, shape = sess.run([gx, shape_of_x], {x: XS, y: YS})
        types = _step_types(_plan(sess))
    assert types.count("Reshape") == 1 and "Sum" in types
    np.testing.assert_array_equal(shape, [2, 3])
    np.testing.assert_allclose(got, np.broadcast_to(YS * YS, XS.shape), rtol=1e-6)


def test_a_fused_gradient_on_an_untaken_branch_does_not_run():
    pred = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 3])
    z = tf.cond(pred, lambda: tf.reduce_sum(x * y), lambda: tf.reduce_sum(x - y))
    gx, gy = tf.gradients(z, [x, y])
    feed = {x: XS, y: YS}
    with tf.Session() as sess:
        taken = sess.run([gx, gy], {pred: True, **feed})
        other = sess.run([gx, gy], {pred: False, **feed})
    np.testing.assert_allclose(taken[0], np.broadcast_to(YS, XS.shape))
    np.testing.assert_allclose(taken[1], XS.sum(0, keepdims=True))
    np.testing.assert_allclose(other[0], np.ones_like(XS))
    np.testing.assert_allclose(other[1], -2 * np.ones_like(YS))


def test_a_recurrent_gradient_is_unchanged_by_fusion(monkeypatch):
    inputs = tf.placeholder(tf.float32, [None, 5, 3])
    cell = tf.nn.rnn_cell.BasicLSTMCell(4)
    outputs, state = tf.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
    loss = tf.reduce_sum(state.h * state.h) + tf.reduce_sum(outputs)
    grads = tf.gradients(loss, [inputs] + tf.trainable_variables())
    feed = {inputs: np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)}
    init = tf.global_variables_initializer()
    with tf.Session() as sess:
        sess.run(init)
        values = sess.run(tf.trainable_variables())
        got = sess.run(grads, feed)
        fused_types = _step_types(_largest_plan(sess))
    _unfused(monkeypatch)
    with tf.Session() as sess:
        sess.run(init)
        for variable, value in zip(tf.trainable_variables(), values):
            variable.load(value, sess)
        expected = sess.run(grads, feed)
        unfused_types = _step_types(_largest_plan(sess))
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)
    assert fused_types.count("Sum") + 8 <= unfused_types.count("Sum")  # the cell's products and sum
