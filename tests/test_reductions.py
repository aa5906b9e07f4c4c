"""Sum's matrix-vector path (leading or trailing axes of contiguous float arrays) against NumPy,
and the cases that keep NumPy's reduction."""
import numpy as np
import pytest

import caudal as tf
from caudal.ops.reduction_ops import sum_by_product

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("axis, keepdims", [((0, 1, 2), False), ((0, 1, 2), True), ((0,), False),
                                            ((3,), True), ((2, 3), False), ((-1, -2), True),
                                            ((1, 2), False), ((0, 3), True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int32])
def test_reduce_sum_matches_numpy(axis, keepdims, dtype):
    x = (RNG.standard_normal((4, 5, 6, 3)) * 10).astype(dtype)
    with tf.Session() as sess:
        got = sess.run(tf.reduce_sum(tf.constant(x) * 1, axis=list(axis), keepdims=keepdims))
    want = np.sum(x.astype(np.float64), axis=axis, keepdims=keepdims)
    assert got.dtype == dtype
    assert got.shape == want.shape
    # NumPy accumulates float16 in float16: errors of a few units in the last place
    # of each partial sum.
    atol = 1.0 if dtype == np.float16 else 1e-3
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=atol)


def test_product_path_applies_only_to_leading_or_trailing_axes_of_contiguous_floats():
    x = RNG.standard_normal((8, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(sum_by_product(x, (0, 1)), x.sum((0, 1)), rtol=1e-5)
    np.testing.assert_allclose(sum_by_product(x, (-1,)), x.sum(-1), rtol=1e-5)
    assert sum_by_product(x, (1,)) is None  # a middle axis
    assert sum_by_product(x, (0, 1, 2)) is None  # everything: NumPy's pairwise sum
    assert sum_by_product(x.transpose(1, 0, 2), (0,)) is None  # not contiguous
    assert sum_by_product(x.astype(np.float16), (0,)) is None
    assert sum_by_product(np.zeros((0, 3), np.float32), (0,)) is None


def test_bias_add_gradient_uses_the_same_sums():
    x = tf.placeholder(tf.float32, [None, 5, 5, 3])
    b = tf.Variable(np.zeros(3, np.float32))
    y = tf.reduce_sum(tf.nn.bias_add(x, b) * tf.constant(np.arange(3, dtype=np.float32)))
    gb = tf.gradients(y, b)[0]
    with tf.Session() as sess:
        sess.run(b.initializer)
        got = sess.run(gb, {x: np.ones((7, 5, 5, 3), np.float32)})
    np.testing.assert_allclose(got, 7 * 25 * np.arange(3))
