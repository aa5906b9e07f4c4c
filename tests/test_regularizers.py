"""Regularizers: tf.contrib.layers (scale * l2_loss, i.e. with 1/2) and tf.keras.regularizers (no 1/2).

Keras values were recorded with TensorFlow 2.21; contrib is gone from TF 2.x, so its
values are TF1's formulas (l1: scale * sum|w|; l2: scale * sum(w^2) / 2).
"""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf

X = np.array([[1.0, -2.0], [3.0, 0.5]], np.float32)


def _run(tensor: tf.Tensor) -> float:
    with tf.Session() as sess:
        return float(sess.run(tensor))


def test_keras_regularizer_values_match_tensorflow() -> None:
    r = tf.keras.regularizers
    with tf.Graph().as_default():
        x = tf.constant(X)
        np.testing.assert_allclose(_run(r.l2(0.01)(x)), 0.1425, rtol=1e-6)
        np.testing.assert_allclose(_run(r.l1(0.1)(x)), 0.65, rtol=1e-6)
        np.testing.assert_allclose(_run(r.l1_l2(0.1, 0.2)(x)), 3.5, rtol=1e-6)
        np.testing.assert_allclose(_run(r.L1L2(l2=0.3)(x)), 4.275, rtol=1e-6)
        np.testing.assert_allclose(_run(r.l2()(x)), 0.01 * np.sum(X ** 2), rtol=1e-6)


def test_keras_get() -> None:
    r = tf.keras.regularizers
    assert r.get(None) is None
    assert isinstance(r.get("l2"), r.L2) and r.get("l2").l2 == np.float32(0.01)
    assert r.get("L1L2").get_config() == {"l1": 0.0, "l2": 0.0}
    # TF-Keras stores the factors as float32, and the name "l1_l2" defaults to 0.01 each (the class to 0).
    assert r.get("l1_l2").get_config() == {"l1": 0.009999999776482582, "l2": 0.009999999776482582}
    assert r.l1_l2().get_config() == r.get("l1_l2").get_config()
    assert r.get({"class_name": "L2", "config": {"l2": 0.5}}).l2 == 0.5
    fn = lambda w: w  # noqa: E731
    assert r.get(fn) is fn
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier: 5"):
        r.get(5)
    with pytest.raises(ValueError, match="Unknown regularizer: 'foo'. Please ensure you are using a "
                                         "`keras.utils.custom_object_scope`"):
        r.get("foo")
    with pytest.raises(ValueError, match="expected a non-negative float"):
        r.l2(-1.0)


def test_contrib_regularizers() -> None:
    layers = tf.contrib.layers
    with tf.Graph().as_default():
        x = tf.constant(X)
        l1 = layers.l1_regularizer(0.1)(x)
        l2 = layers.l2_regularizer(0.1)(x)
        both = layers.l1_l2_regularizer(0.1, 0.2)(x)
        assert l1.name == "l1_regularizer:0" and l2.name == "l2_regularizer:0"
        assert l2.shape.ndims == 0
        np.testing.assert_allclose(_run(l1), 0.1 * np.abs(X).sum(), rtol=1e-6)
        np.testing.assert_allclose(_run(l2), 0.1 * (X ** 2).sum() / 2, rtol=1e-6)
        np.testing.assert_allclose(_run(both), 0.1 * np.abs(X).sum() + 0.2 * (X ** 2).sum() / 2, rtol=1e-6)
        assert layers.l2_regularizer(0.0)(x) is None
        assert layers.sum_regularizer([None, None]) is None
        summed = layers.sum_regularizer([layers.l1_regularizer(1.0), layers.l2_regularizer(0.0)])(x)
        np.testing.assert_allclose(_run(summed), np.abs(X).sum(), rtol=1e-6)
    with pytest.raises(ValueError, match="scale cannot be an integer"):
        layers.l2_regularizer(1)
    with pytest.raises(ValueError, match="less than 0"):
        layers.l1_regularizer(-0.5)


def test_get_variable_regularizer_ends_in_regularization_losses() -> None:
    with tf.Graph().as_default():
        with tf.variable_scope("dense"):
            w = tf.get_variable("w", initializer=tf.constant(X), regularizer=tf.contrib.layers.l2_regularizer(0.5))
            tf.get_variable("k", initializer=tf.constant(X), regularizer=tf.keras.regularizers.l1(0.5))
        losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
        assert len(losses) == 2
        assert losses[0].name == "dense/w/Regularizer/l2_regularizer:0"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = sess.run(losses)
            grad = sess.run(tf.gradients(losses[0], w)[0])
        np.testing.assert_allclose(values, [0.25 * (X ** 2).sum(), 0.5 * np.abs(X).sum()], rtol=1e-6)
        np.testing.assert_allclose(grad, 0.5 * X, rtol=1e-6)


def test_apply_regularization() -> None:
    layers = tf.contrib.layers
    with tf.Graph().as_default():
        a, b = tf.constant(X), tf.constant([2.0])
        total = layers.apply_regularization(layers.l1_regularizer(0.5), [a, b])
        assert total.name == "get_regularization_penalty:0"
        assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES) == [total]
        np.testing.assert_allclose(_run(total), 0.5 * (np.abs(X).sum() + 2.0), rtol=1e-6)
        with pytest.raises(ValueError, match="No weights to regularize"):
            layers.apply_regularization(layers.l1_regularizer(0.5))


@pytest.mark.parametrize("uniform", [True, False])
def test_xavier_and_variance_scaling_initializers(uniform: bool) -> None:
    layers = tf.contrib.layers
    with tf.Graph().as_default():
        shape = [200, 300]
        xavier = layers.xavier_initializer(uniform=uniform, seed=1)(shape)
        he = layers.variance_scaling_initializer(seed=2)([3, 3, 40, 50])
        with tf.Session() as sess:
            x_value, he_value = sess.run([xavier, he])
    limit = np.sqrt(6.0 / 500)
    if uniform:
        assert np.abs(x_value).max() <= limit and np.abs(x_value).max() > 0.95 * limit
        np.testing.assert_allclose(x_value.std(), limit / np.sqrt(3), rtol=0.05)
    else:
        stddev = np.sqrt(1.3 / 250)
        assert np.abs(x_value).max() <= 2 * stddev * 1.0001
    # FAN_IN of a conv kernel: 3 * 3 * 40; truncated normal with stddev sqrt(1.3 * 2 / n) before truncation.
    assert np.abs(he_value).max() <= 2 * np.sqrt(2.6 / 360) * 1.0001
    with pytest.raises(TypeError, match="Unknown mode"):
        layers.variance_scaling_initializer(mode="fan_in")
    with pytest.raises(TypeError, match="non-floating"):
        layers.xavier_initializer(dtype=tf.int32)
