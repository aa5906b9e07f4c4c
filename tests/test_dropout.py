"""tf.nn.dropout: TF1's keep_prob/rate signature, scaling, noise_shape, seeds, gradient, graph."""
import numpy as np
import pytest

import caudal as tf


def _run(fetch, feed=None, graph=None):
    with tf.Session(graph=graph) as sess:
        return sess.run(fetch, feed)


def test_kept_values_are_scaled_and_the_rest_zero():
    x = np.arange(1, 20001, dtype=np.float32).reshape(100, 200)
    with tf.Graph().as_default():
        y = _run(tf.nn.dropout(tf.constant(x), keep_prob=0.25))
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.25, rtol=1e-6)
    assert abs(kept.mean() - 0.25) < 0.02


def test_rate_is_the_drop_probability():
    with tf.Graph().as_default():
        y = _run(tf.nn.dropout(tf.ones([200, 100]), rate=0.1))
    assert abs((y == 0).mean() - 0.1) < 0.02
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.9], rtol=1e-6)


def test_rate_zero_and_keep_prob_one_return_x_itself():
    with tf.Graph().as_default() as graph:
        x = tf.constant([1.0, 2.0])
        assert tf.nn.dropout(x, rate=0.0) is x
        assert tf.nn.dropout(x, keep_prob=1.0) is x
        assert len(graph.get_operations()) == 1


@pytest.mark.parametrize("kwargs, message", [
    ({"keep_prob": 0.5, "rate": 0.5}, "Cannot specify both 'keep_prob' and 'rate'."),
    ({}, "`rate` must be provided. Received: rate=None"),
    ({"rate": 1.0}, "`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate=1.0"),
    ({"rate": -0.1}, "`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate=-0.1"),
    ({"keep_prob": 0.0}, "`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate=1.0"),
])
def test_bad_arguments_fail_like_tf(kwargs, message):
    with tf.Graph().as_default():
        with pytest.raises(ValueError) as info:
            tf.nn.dropout(tf.ones([2]), **kwargs)
        assert str(info.value) == message


def test_integer_input_is_refused():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="`x.dtype` must be a floating point tensor"):
            tf.nn.dropout(tf.constant([1, 2]), rate=0.5)


def test_noise_shape_drops_whole_rows():
    with tf.Graph().as_default():
        y = _run(tf.nn.dropout(tf.ones([500, 4]), keep_prob=0.5, noise_shape=[500, 1]))
    assert set(np.unique(y)) <= {0.0, 2.0}
    assert np.all(y == y[:, :1])
    assert 0.4 < (y[:, 0] != 0).mean() < 0.6


def test_noise_shape_with_unknown_entries_takes_them_from_x():
    with tf.Graph().as_default():
        y = _run(tf.nn.dropout(tf.ones([3, 400]), rate=0.5, noise_shape=[1, None]))
    assert np.all(y == y[:1])


def test_tensor_rate_and_keep_prob_are_fed():
    with tf.Graph().as_default():
        keep = tf.placeholder(tf.float32, [])
        y = tf.nn.dropout(tf.ones([100, 100]), keep_prob=keep)
        rate = tf.placeholder(tf.float32, [])
        z = tf.nn.dropout(tf.ones([100, 100]), rate=rate)
        with tf.Session() as sess:
            a = sess.run(y, {keep: 0.8})
            b = sess.run(z, {rate: 0.5})
            assert np.all(sess.run(y, {keep: 1.0}) == 1.0)
    np.testing.assert_allclose(np.unique(a), [0.0, 1.25], rtol=1e-6)
    np.testing.assert_allclose(np.unique(b), [0.0, 2.0], rtol=1e-6)


def test_unknown_shape_input_uses_its_runtime_shape():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.nn.dropout(x, rate=0.5)
        assert y.shape.as_list() == [None, 3]
        assert _run(y, {x: np.ones((5, 3), np.float32)}).shape == (5, 3)


def test_op_seed_repeats_in_a_new_session_and_advances_within_one():
    with tf.Graph().as_default() as graph:
        y = tf.nn.dropout(tf.ones([50, 50]), rate=0.5, seed=7)
        with tf.Session() as sess:
            first, second = sess.run(y), sess.run(y)
        third = _run(y, graph=graph)
    np.testing.assert_array_equal(first, third)
    assert not np.array_equal(first, second)


def test_graph_seed_makes_programs_repeat():
    def program():
        with tf.Graph().as_default():
            tf.set_random_seed(42)
            return _run(tf.nn.dropout(tf.ones([30, 30]), keep_prob=0.5))

    np.testing.assert_array_equal(program(), program())


def test_seed_attrs_follow_tf():
    with tf.Graph().as_default() as graph:
        tf.nn.dropout(tf.ones([2]), rate=0.5, seed=3)
        random = [op for op in graph.get_operations() if op.type == "RandomUniform"][0]
        assert (random.get_attr("seed"), random.get_attr("seed2")) == (87654321, 3)


def test_gradient_is_the_mask_over_keep_prob():
    x = np.random.default_rng(0).uniform(1, 2, (20, 30)).astype(np.float32)
    with tf.Graph().as_default():
        xt = tf.constant(x)
        y = tf.nn.dropout(xt, keep_prob=0.5, seed=1)
        grad = tf.gradients(tf.reduce_sum(y), xt)[0]
        out, g = _run([y, grad])
    np.testing.assert_allclose(g, np.where(out != 0, 2.0, 0.0))


def test_graph_is_tf_s_few_ops():
    with tf.Graph().as_default() as graph:
        y = tf.nn.dropout(tf.placeholder(tf.float32, [None, 4], name="x"), rate=0.5)
        assert y.op.name == "dropout/SelectV2"
        types = [op.type for op in graph.get_operations() if op.type not in ("Const", "Placeholder")]
    assert types == ["Mul", "Shape", "RandomUniform", "GreaterEqual", "SelectV2"]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_select_against_zero_matches_where_bit_for_bit(dtype):
    # Dropout's select and its gradient: dropped negatives give +0.0 as where does, a kept -0.0,
    # inf or NaN is kept exactly.
    cond = np.array([[True, False, False, True], [False, True, True, False]])
    x = np.array([[-0.0, -3.0, np.inf, np.nan], [np.nan, -np.inf, 2.5, -0.0]], dtype)
    with tf.Session() as sess:
        kept, dropped = sess.run([tf.where_v2(cond, tf.constant(x) * 1, tf.constant(0, dtype)),
                                  tf.where_v2(cond, tf.constant(0, dtype), tf.constant(x) * 1)])
    for got, want in ((kept, np.where(cond, x, dtype(0))), (dropped, np.where(cond, dtype(0), x))):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
