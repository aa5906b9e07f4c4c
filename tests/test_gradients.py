"""tf.gradients: structure of the walk, unconnected inputs, stop_gradients, integer inputs,
dynamic broadcasting, second derivatives."""
import numpy as np
import pytest

import caudal as tf


def _run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_simple_gradient_and_names():
    x = tf.constant(3.0)
    y = x * x + 2 * x
    (g,) = tf.gradients(y, [x])
    assert g.name.startswith("gradients/")
    assert _run(g) == 8.0


def test_unconnected_gives_none_or_zeros():
    x = tf.constant(1.0)
    z = tf.constant(2.0)
    y = x * 3
    assert tf.gradients(y, [z]) == [None]
    zero = tf.gradients(y, [z], unconnected_gradients="zero")[0]
    assert _run(zero) == 0.0


def test_several_paths_are_summed():
    x = tf.constant(2.0)
    y = x * x * x + tf.exp(x) + x
    g = tf.gradients(y, x)[0]
    assert np.isclose(_run(g), 3 * 4 + np.exp(2.0) + 1)


def test_multiple_ys_and_grad_ys():
    x = tf.constant([1.0, 2.0])
    y1 = x * 2
    y2 = x * x
    g = tf.gradients([y1, y2], x, grad_ys=[tf.constant([1.0, 1.0]), tf.constant([2.0, 0.5])])[0]
    np.testing.assert_allclose(_run(g), [2 + 2 * 2 * 1.0, 2 + 0.5 * 2 * 2.0])


def test_stop_gradient_op_and_argument():
    x = tf.constant(3.0)
    y = tf.stop_gradient(x * x) + x
    assert _run(tf.gradients(y, x)[0]) == 1.0
    a = x * x
    b = a + x
    assert _run(tf.gradients(b, x, stop_gradients=[a])[0]) == 1.0


def test_integer_inputs_get_no_gradient():
    x = tf.constant(2.0)
    n = tf.constant(3)
    y = x * tf.cast(n, tf.float32)
    assert tf.gradients(y, n) == [None]


def test_gradient_wrt_variable_sums_every_read():
    v = tf.Variable(2.0)
    y = v * v + v.read_value() * 3.0
    g = tf.gradients(y, v)[0]
    assert _run(g) == 7.0


def test_broadcasting_gradients_with_unknown_shapes_use_runtime_reduction():
    a = tf.placeholder(tf.float64, [None, None])
    b = tf.placeholder(tf.float64, [None, None])
    y = tf.reduce_sum(a * b)
    ga, gb = tf.gradients(y, [a, b])
    types = {op.type for op in tf.get_default_graph().get_operations()}
    assert "BroadcastGradientArgs" in types
    av = np.arange(6.0).reshape(2, 3)
    bv = np.array([[1.0, 2.0, 3.0]])
    got_a, got_b = _run([ga, gb], {a: av, b: bv})
    np.testing.assert_allclose(got_a, np.broadcast_to(bv, (2, 3)))
    np.testing.assert_allclose(got_b, av.sum(0, keepdims=True))


def test_concat_gradient_with_unknown_shapes_uses_concat_offset():
    a = tf.placeholder(tf.float64, [None, 2])
    b = tf.placeholder(tf.float64, [None, 3])
    y = tf.concat([a, b], 1) * tf.constant(np.arange(5.0))
    ga, gb = tf.gradients(tf.reduce_sum(y), [a, b])
    assert "ConcatOffset" in {op.type for op in tf.get_default_graph().get_operations()}
    got_a, got_b = _run([ga, gb], {a: np.ones((2, 2)), b: np.ones((2, 3))})
    np.testing.assert_allclose(got_a, [[0, 1], [0, 1]])
    np.testing.assert_allclose(got_b, [[2, 3, 4], [2, 3, 4]])


def test_transpose_gradient_with_computed_permutation():
    x = tf.placeholder(tf.float64, [2, 3, 4])
    perm = tf.placeholder(tf.int32, [3])
    y = tf.reduce_sum(tf.transpose(x, perm) * tf.constant(np.arange(24.0).reshape(4, 2, 3)))
    g = tf.gradients(y, x)[0]
    assert "InvertPermutation" in {op.type for op in tf.get_default_graph().get_operations()}
    got = _run(g, {x: np.ones((2, 3, 4)), perm: [2, 0, 1]})
    np.testing.assert_allclose(got, np.transpose(np.arange(24.0).reshape(4, 2, 3), (1, 2, 0)))


@pytest.mark.parametrize("fn, second", [
    (tf.sigmoid, lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s)),
    (tf.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    (lambda x: tf.nn.relu(x) * x, lambda x: np.where(x > 0, 2.0, 0.0)),
    (lambda x: x * x * x, lambda x: 6 * x),
])
def test_second_derivatives(fn, second):
    x = tf.placeholder(tf.float64, [4])
    y = tf.reduce_sum(fn(x))
    g1 = tf.gradients(y, x)[0]
    g2 = tf.gradients(g1, x)[0]
    value = np.array([-1.5, -0.3, 0.4, 2.0])
    np.testing.assert_allclose(_run(g2, {x: value}), second(value), rtol=1e-6)


def test_hessians():
    x = tf.placeholder(tf.float64, [2])
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    y = 0.5 * tf.reduce_sum(x * tf.squeeze(tf.matmul(tf.constant(a), tf.expand_dims(x, 1)), 1))
    (h,) = tf.hessians(y, x)
    np.testing.assert_allclose(_run(h, {x: [0.3, -0.7]}), a)


def test_gradient_override_map_and_register_gradient():
    @tf.RegisterGradient("CustomSquareGrad")
    def _custom(op, grad):
        return [grad * 100.0]

    x = tf.constant(2.0)
    with tf.get_default_graph().gradient_override_map({"Square": "CustomSquareGrad"}):
        y = tf.square(x)
    assert _run(tf.gradients(y, x)[0]) == 100.0


def test_compute_gradient_error_helper():
    x = tf.placeholder(tf.float64, [3])
    y = tf.exp(x) * x
    with tf.Session():
        error = tf.test.compute_gradient_error(x, [3], y, [3], x_init_value=np.array([0.1, 0.5, -1.0]))
    assert error < 1e-6


def test_gradient_descent_updates_and_global_step():
    w = tf.Variable([1.0, -2.0])
    loss = tf.reduce_sum(tf.square(w))
    step = tf.train.get_or_create_global_step()
    opt = tf.train.GradientDescentOptimizer(0.25)
    train = opt.minimize(loss, global_step=step)
    assert train.name == "GradientDescent"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train)
        np.testing.assert_allclose(sess.run(w), [0.5, -1.0])
        assert sess.run(step) == 1


def test_compute_and_apply_gradients_with_var_list_and_tensor_learning_rate():
    a = tf.Variable(1.0)
    b = tf.Variable(1.0)
    lr = tf.placeholder(tf.float32, [])
    loss = a * 3.0 + b * 5.0
    opt = tf.train.GradientDescentOptimizer(lr)
    grads_and_vars = opt.compute_gradients(loss, var_list=[a])
    assert [v for _, v in grads_and_vars] == [a]
    train = opt.apply_gradients(grads_and_vars)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {lr: 0.1})
        assert np.isclose(sess.run(a), 0.7) and sess.run(b) == 1.0


def test_loss_must_be_float():
    v = tf.Variable(1)
    with pytest.raises(ValueError, match="Invalid type"):
        tf.train.GradientDescentOptimizer(0.1).minimize(v * 2)


def test_bias_gradient_needs_no_runtime_broadcast_bookkeeping():
    x = tf.placeholder(tf.float64, [None, 3])
    b = tf.constant(np.array([1.0, 2.0, 3.0]))
    y = tf.reduce_sum((x + b) * tf.constant(np.arange(3.0)))
    gx, gb = tf.gradients(y, [x, b])
    assert "BroadcastGradientArgs" not in {op.type for op in tf.get_default_graph().get_operations()}
    got_x, got_b = _run([gx, gb], {x: np.ones((4, 3))})
    np.testing.assert_allclose(got_x, np.tile(np.arange(3.0), (4, 1)))
    np.testing.assert_allclose(got_b, 4 * np.arange(3.0))


def test_unknown_batch_of_one_broadcast_against_a_batch_is_still_reduced():
    x = tf.placeholder(tf.float64, [None, 3])
    y = tf.placeholder(tf.float64, [None, 3])
    g = tf.gradients(tf.reduce_sum(x * y), x)[0]
    got = _run(g, {x: np.ones((1, 3)), y: np.arange(6.0).reshape(2, 3)})
    np.testing.assert_allclose(got, [[3.0, 5.0, 7.0]])


def test_dropout_gradient_knows_the_mask_has_the_input_shape():
    # The mask is drawn with shape(x), so the select's gradient needs no run-time reduction,
    # even though the batch dimension is unknown.
    x = tf.placeholder(tf.float64, [None, 3])
    h = tf.nn.relu(tf.matmul(x, tf.constant(np.eye(3))) + tf.constant(np.zeros(3)))
    keep = tf.placeholder(tf.float64, [])
    y = tf.reduce_sum(tf.nn.dropout(h, keep_prob=keep, seed=1) * tf.constant(np.arange(3.0)))
    g = tf.gradients(y, x)[0]
    assert "BroadcastGradientArgs" not in {op.type for op in tf.get_default_graph().get_operations()}
    got = _run(g, {x: np.ones((4, 3)), keep: 1.0})
    np.testing.assert_allclose(got, np.tile(np.arange(3.0), (4, 1)))


def test_select_of_unrelated_unknown_shapes_is_still_reduced():
    cond = tf.placeholder(tf.bool, [None, 3])
    x = tf.placeholder(tf.float64, [None, 3])
    g = tf.gradients(tf.reduce_sum(tf.where_v2(cond, x, tf.constant(0.0, tf.float64))), x)[0]
    got = _run(g, {cond: [[True, False, True], [True, True, False]], x: np.ones((1, 3))})
    np.testing.assert_allclose(got, [[2.0, 1.0, 1.0]])


def test_mean_of_a_batch_of_unknown_size_divides_by_the_run_time_count():
    x = tf.placeholder(tf.float32, [None, 2])
    loss = tf.reduce_mean(tf.reduce_sum(x * x, axis=1))
    g = tf.gradients(loss, x)[0]
    xs = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)
    got_loss, got = _run([loss, g], {x: xs})
    assert got_loss == pytest.approx((xs ** 2).sum() / 3)
    np.testing.assert_allclose(got, 2 * xs / 3, rtol=1e-6)
    assert g.dtype == tf.float32
