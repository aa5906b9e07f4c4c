"""tf.layers: TF1 variable names, shapes, reuse, regularizers, dropout and batch norm `training`."""
import numpy as np
import pytest

import caudal as tf


def _init_run(fetches, feed=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed)


def test_dense_names_shapes_and_values():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.layers.dense(x, 4, activation=tf.nn.relu)
    z = tf.layers.dense(y, 2, use_bias=False, name="out")
    names = [v.name for v in tf.global_variables()]
    assert names == ["dense/kernel:0", "dense/bias:0", "out/kernel:0"]
    assert y.shape.as_list() == [None, 4] and z.shape.as_list() == [None, 2]
    assert y.op.name.startswith("dense/")
    kernel, bias, out_kernel = tf.global_variables()
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    got, k, b, k2 = _init_run([z, kernel, bias, out_kernel], {x: value})
    np.testing.assert_allclose(got, np.maximum(value @ k + b, 0) @ k2, rtol=1e-5)


def test_dense_on_rank_3_inputs():
    x = tf.placeholder(tf.float32, [None, 5, 3])
    y = tf.layers.dense(x, 2)
    assert y.shape.as_list() == [None, 5, 2]
    value = np.ones((2, 5, 3), np.float32)
    assert _init_run(y, {x: value}).shape == (2, 5, 2)


def test_layer_object_reuses_variables_and_functional_reuse():
    layer = tf.layers.Dense(3, name="shared")
    a = layer(tf.ones([1, 2]))
    b = layer(tf.zeros([1, 2]))
    assert len(tf.trainable_variables()) == 2 and layer.kernel.name == "shared/kernel:0"
    assert a.shape.as_list() == b.shape.as_list() == [1, 3]
    tf.layers.dense(tf.ones([1, 2]), 3, name="f")
    tf.layers.dense(tf.ones([1, 2]), 3, name="f", reuse=True)
    assert len(tf.trainable_variables()) == 4
    with pytest.raises(ValueError, match="already exists"):
        tf.layers.dense(tf.ones([1, 2]), 3, name="f")


def test_default_names_are_uniquified_inside_scopes():
    x = tf.ones([1, 2])
    with tf.variable_scope("net"):
        tf.layers.dense(x, 2)
        tf.layers.dense(x, 2)
    names = [v.op.name for v in tf.trainable_variables()]
    assert names == ["net/dense/kernel", "net/dense/bias", "net/dense_1/kernel", "net/dense_1/bias"]


def test_regularizers_are_collected():
    x = tf.ones([2, 3])
    tf.layers.dense(x, 2, kernel_regularizer=lambda w: tf.reduce_sum(tf.square(w)) * 0.5)
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(losses) == 1
    kernel = tf.trainable_variables()[0]
    loss, k = _init_run([losses[0], kernel])
    assert np.isclose(loss, 0.5 * (k ** 2).sum())


def test_conv_pool_flatten_shapes_and_names():
    x = tf.placeholder(tf.float32, [None, 28, 28, 1])
    c = tf.layers.conv2d(x, 8, [5, 5], padding="same", activation=tf.nn.relu)
    p = tf.layers.max_pooling2d(c, 2, 2)
    c2 = tf.layers.conv2d(p, 4, 3)
    a = tf.layers.average_pooling2d(c2, 2, 2, padding="same")
    f = tf.layers.flatten(a)
    assert c.shape.as_list() == [None, 28, 28, 8] and p.shape.as_list() == [None, 14, 14, 8]
    assert c2.shape.as_list() == [None, 12, 12, 4] and a.shape.as_list() == [None, 6, 6, 4]
    assert f.shape.as_list() == [None, 144]
    assert [v.op.name for v in tf.trainable_variables()] == ["conv2d/kernel", "conv2d/bias", "conv2d_1/kernel",
                                                              "conv2d_1/bias"]
    assert tf.trainable_variables()[0].shape.as_list() == [5, 5, 1, 8]
    out = _init_run(f, {x: np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)})
    assert out.shape == (2, 144)


def test_conv1d_and_pooling1d():
    x = tf.placeholder(tf.float32, [None, 10, 3])
    c = tf.layers.conv1d(x, 4, 3, padding="same")
    p = tf.layers.max_pooling1d(c, 2, 2)
    q = tf.layers.average_pooling1d(c, 2, 2)
    assert c.shape.as_list() == [None, 10, 4] and p.shape.as_list() == [None, 5, 4]
    value = np.random.default_rng(1).random((2, 10, 3), dtype=np.float32)
    c_v, p_v, q_v = _init_run([c, p, q], {x: value})
    np.testing.assert_allclose(p_v, c_v.reshape(2, 5, 2, 4).max(2), rtol=1e-6)
    np.testing.assert_allclose(q_v, c_v.reshape(2, 5, 2, 4).mean(2), rtol=1e-5)


def test_conv2d_transpose_and_separable_shapes():
    x = tf.placeholder(tf.float32, [None, 7, 7, 4])
    up = tf.layers.conv2d_transpose(x, 2, 3, strides=2, padding="same")
    sep = tf.layers.separable_conv2d(x, 5, 3, padding="same", depth_multiplier=2)
    assert up.shape.as_list() == [None, 14, 14, 2]
    assert sep.shape.as_list() == [None, 7, 7, 5]
    names = [v.op.name for v in tf.trainable_variables()]
    assert "separable_conv2d/depthwise_kernel" in names and "separable_conv2d/pointwise_kernel" in names
    value = np.ones((1, 7, 7, 4), np.float32)
    u, s = _init_run([up, sep], {x: value})
    assert u.shape == (1, 14, 14, 2) and s.shape == (1, 7, 7, 5)


def test_dropout_training_flag_bool_and_tensor():
    x = tf.ones([1000])
    assert tf.layers.dropout(x, 0.5, training=False).op.type == "Identity"
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.dropout(x, rate=0.5, training=training, seed=1)
    with tf.Session() as sess:
        off = sess.run(y, {training: False})
        on = sess.run(y, {training: True})
    np.testing.assert_array_equal(off, np.ones(1000))
    assert set(np.unique(on)) <= {0.0, 2.0} and 400 < (on == 0).sum() < 600


def test_batch_normalization_training_updates_moving_statistics():
    x = tf.placeholder(tf.float32, [None, 3])
    training = tf.placeholder(tf.bool, [])
    y = tf.layers.batch_normalization(x, momentum=0.9, training=training)
    names = [v.op.name for v in tf.global_variables()]
    assert names == ["batch_normalization/gamma", "batch_normalization/beta",
                     "batch_normalization/moving_mean", "batch_normalization/moving_variance"]
    assert [v.op.name for v in tf.trainable_variables()] == names[:2]
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    assert len(updates) == 2
    data = np.array([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]], np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out, _ = sess.run([y, updates], {x: data, training: True})
        mean = data.mean(0)
        var = data.var(0)
        np.testing.assert_allclose(out, (data - mean) / np.sqrt(var + 1e-3), rtol=1e-4)
        moving_mean, moving_var = sess.run(tf.global_variables()[2:])
        np.testing.assert_allclose(moving_mean, 0.1 * mean, rtol=1e-5)
        np.testing.assert_allclose(moving_var, 0.9 + 0.1 * var, rtol=1e-5)
        inference = sess.run(y, {x: data, training: False})
        np.testing.assert_allclose(inference, (data - moving_mean) / np.sqrt(moving_var + 1e-3), rtol=1e-4)
        sess.run(updates, {x: data, training: False})
        np.testing.assert_allclose(sess.run(tf.global_variables()[2]), moving_mean, rtol=1e-6)


def test_fused_batch_normalization_on_images():
    x = tf.placeholder(tf.float32, [None, 4, 4, 2])
    y = tf.layers.batch_normalization(x, training=True, momentum=0.5)
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    data = np.random.default_rng(0).random((3, 4, 4, 2), dtype=np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out, _ = sess.run([y, updates], {x: data})
        mean = data.mean((0, 1, 2))
        var = data.var((0, 1, 2))
        np.testing.assert_allclose(out, (data - mean) / np.sqrt(var + 1e-3), rtol=1e-3, atol=1e-4)
        moving_var = sess.run(tf.global_variables()[3])
        n = 3 * 4 * 4
        np.testing.assert_allclose(moving_var, 0.5 + 0.5 * var * n / (n - 1), rtol=1e-4)


def test_batch_norm_trains_with_update_ops_dependency():
    x = tf.placeholder(tf.float32, [None, 2])
    h = tf.layers.batch_normalization(tf.layers.dense(x, 4), training=True)
    loss = tf.reduce_mean(tf.square(tf.layers.dense(h, 1)))
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    moving_mean = [v for v in tf.global_variables() if "moving_mean" in v.name][0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(moving_mean).copy()
        sess.run(train, {x: np.random.default_rng(0).random((8, 2), dtype=np.float32) + 1})
        assert not np.allclose(sess.run(moving_mean), before)
