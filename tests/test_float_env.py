"""Kernels run with denormal floats flushed to zero, as TensorFlow's CPU kernels compute (values
recorded from TF 2.21: x * 1.0 and x + 0.0 of [1e-39, 2e-39, 1.0] give [0, 0, 1], Identity keeps
the denormals, reduce_sum gives 1.0); the thread's own environment is restored after each run."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import caudal as tf
from caudal.runtime import float_env

DENORMALS = np.array([1e-39, 2e-39, 1.0], np.float32)

needs_fenv = pytest.mark.skipif(float_env._FENV is None, reason="no x86-64 glibc floating-point environment here")


@needs_fenv
def test_kernels_flush_denormals_as_tf_does() -> None:
    x = tf.placeholder(tf.float32, [3])
    with tf.Session() as sess:
        product, total, shifted, same = sess.run([x * 1.0, tf.reduce_sum(x), x + 0.0, tf.identity(x)], {x: DENORMALS})
    np.testing.assert_array_equal(product, [0, 0, 1])
    np.testing.assert_array_equal(shifted, [0, 0, 1])
    assert total == np.float32(1.0)
    np.testing.assert_array_equal(same, DENORMALS)  # moved, not computed
    assert DENORMALS[0] * np.float32(1.0) > 0  # NumPy outside the run keeps its denormals


@needs_fenv
def test_a_failed_run_restores_the_threads_environment() -> None:
    x = tf.placeholder(tf.float32, [3])
    check = tf.debugging.assert_greater(x, 1.5)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(check, {x: DENORMALS})
    assert DENORMALS[0] * np.float32(1.0) > 0


def test_numpy_errors_are_ignored_in_a_run() -> None:
    x = tf.placeholder(tf.float32, [2])
    with tf.Session() as sess:
        out = sess.run(x / 0.0, {x: np.array([1.0, 0.0], np.float32)})
    assert np.isinf(out[0]) and np.isnan(out[1])


def test_flushing_can_be_turned_off() -> None:
    code = ("import numpy as np, caudal as tf\n"
            "x = tf.placeholder(tf.float32, [1])\n"
            "with tf.Session() as sess:\n"
            "    assert sess.run(x * 1.0, {x: np.array([1e-39], np.float32)})[0] > 0\n")
    env = dict(os.environ, CAUDAL_FLUSH_DENORMALS="0")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)


@needs_fenv
def test_a_nested_run_leaves_the_modes_to_the_outer_run() -> None:
    inner_x = tf.placeholder(tf.float32, [3])
    inner = inner_x * 1.0
    sess = tf.Session()

    def run_inside(value: np.ndarray) -> np.ndarray:
        return sess.run(inner, {inner_x: value})

    x = tf.placeholder(tf.float32, [3])
    nested = tf.py_func(run_inside, [x], tf.float32)
    after = nested * 1.0
    with sess:
        first, second = sess.run([nested, after], {x: DENORMALS})
    np.testing.assert_array_equal(first, [0, 0, 1])
    np.testing.assert_array_equal(second, [0, 0, 1])
    assert DENORMALS[0] * np.float32(1.0) > 0


def test_numpy_error_state_is_restored_after_a_run() -> None:
    x = tf.placeholder(tf.float32, [2])
    with np.errstate(divide="raise"):
        with tf.Session() as sess:
            sess.run(x / 0.0, {x: np.array([1.0, 2.0], np.float32)})
        assert np.geterr()["divide"] == "raise"
