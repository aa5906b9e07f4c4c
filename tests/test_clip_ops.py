"""Clipping ops against TensorFlow's recorded values and gradients (tests/fixtures/train_utils.json)."""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import caudal as tf

CLIP = json.loads((pathlib.Path(__file__).parent / "fixtures" / "train_utils.json").read_text())["clip"]
X = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
Y = np.array([3.0, 4.0], np.float32)
WEIGHTS = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32)


def test_values_and_gradients_match_tensorflow() -> None:
    with tf.Graph().as_default():
        x, y, weights = tf.constant(X), tf.constant(Y), tf.constant(WEIGHTS)
        results = {
            "by_value": tf.clip_by_value(x, -1.0, 3.0),
            "by_value_tensor_bounds": tf.clip_by_value(x, tf.constant([-1.0, -1.5, 0.0]), 2.5),
            "by_norm": tf.clip_by_norm(x, 2.0),
            "by_norm_axes": tf.clip_by_norm(x, 2.0, axes=[1]),
            "by_norm_large": tf.clip_by_norm(x, 100.0),
            "by_average_norm": tf.clip_by_average_norm(x, 0.5),
            "global_norm": tf.global_norm([x, y]),
        }
        clipped, norm = tf.clip_by_global_norm([x, None, y], 2.0)
        assert clipped[1] is None
        results["by_global_norm_0"], results["by_global_norm_2"], results["by_global_norm_norm"] = \
            clipped[0], clipped[2], norm
        results["grad_by_value"] = tf.gradients(tf.reduce_sum(tf.clip_by_value(x, -1.0, 3.0) * weights), x)[0]
        results["grad_by_norm"] = tf.gradients(tf.reduce_sum(tf.clip_by_norm(x, 2.0) * weights), x)[0]
        results["grad_by_norm_axes"] = tf.gradients(
            tf.reduce_sum(tf.clip_by_norm(x, 2.0, axes=[1]) * weights), x)[0]
        results["grad_by_global_norm"] = tf.gradients(
            tf.reduce_sum(tf.clip_by_global_norm([x, y], 2.0)[0][0] * weights), x)[0]
        with tf.Session() as sess:
            got = sess.run(results)
    assert set(got) == set(CLIP)
    for key, value in got.items():
        np.testing.assert_allclose(value, CLIP[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_names_and_shapes() -> None:
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        assert tf.clip_by_value(x, 0.0, 1.0).name == "clip_by_value:0"
        assert tf.clip_by_norm(x, 1.0).name == "clip_by_norm:0"
        assert tf.global_norm([x]).name == "global_norm/global_norm:0"
        assert tf.clip_by_value(x, 0.0, 1.0).shape.as_list() == [None, 3]
        with pytest.raises(ValueError, match="incompatible"):
            tf.clip_by_value(tf.constant([1.0, 2.0]), tf.zeros([3, 2]), 1.0)
        with pytest.raises(TypeError, match="t_list should be a sequence"):
            tf.clip_by_global_norm(x, 1.0)
        with pytest.raises(TypeError, match="t_list should be a sequence"):
            tf.global_norm(x)


def test_zero_norm_and_infinite_norm() -> None:
    with tf.Graph().as_default():
        zeros = tf.zeros([3])
        clipped = tf.clip_by_norm(zeros, 1.0)
        grad = tf.gradients(tf.reduce_sum(clipped), zeros)[0]
        inf_clipped, inf_norm = tf.clip_by_global_norm([tf.constant([np.inf, 1.0])], 1.0)
        with tf.Session() as sess:
            value, g, inf_value, norm = sess.run([clipped, grad, inf_clipped[0], inf_norm])
    assert value.tolist() == [0.0, 0.0, 0.0]
    assert np.all(np.isfinite(g))
    assert np.isinf(norm) and np.all(np.isnan(inf_value))


def test_use_norm_is_taken_as_given() -> None:
    with tf.Graph().as_default():
        clipped, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0])], 1.0, use_norm=tf.constant(10.0))
        with tf.Session() as sess:
            value, n = sess.run([clipped[0], norm])
    np.testing.assert_allclose(value, [0.3, 0.4], rtol=1e-6)
    assert n == 10.0
