"""Random ops and TF's seed rules: same seeds give the same numbers in a new session,
successive runs give new numbers, and the distributions are right."""
import numpy as np
import pytest

import caudal as tf


def _draws(builder, graph_seed=None, runs=2):
    graph = tf.Graph()
    with graph.as_default():
        if graph_seed is not None:
            tf.set_random_seed(graph_seed)
        t = builder()
        with tf.Session() as sess:
            return [sess.run(t) for _ in range(runs)]


@pytest.mark.parametrize("builder", [
    lambda: tf.random_uniform([5]),
    lambda: tf.random_normal([5]),
    lambda: tf.truncated_normal([5]),
    lambda: tf.random_uniform([5], 0, 10, dtype=tf.int32),
])
def test_graph_seed_repeats_in_new_session_and_runs_differ(builder):
    first = _draws(builder, graph_seed=42)
    again = _draws(builder, graph_seed=42)
    other = _draws(builder, graph_seed=7)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], other[0])


def test_op_seed_alone_is_reproducible_and_no_seed_is_not():
    seeded = [_draws(lambda: tf.random_uniform([4], seed=3))[0] for _ in range(2)]
    np.testing.assert_array_equal(*seeded)
    unseeded = [_draws(lambda: tf.random_uniform([4]))[0] for _ in range(2)]
    assert not np.array_equal(*unseeded)


def test_two_ops_under_one_graph_seed_differ():
    tf.set_random_seed(1)
    a = tf.random_uniform([3])
    b = tf.random_uniform([3])
    with tf.Session() as sess:
        va, vb = sess.run([a, b])
    assert not np.array_equal(va, vb)


def test_distributions():
    tf.set_random_seed(0)
    u = tf.random_uniform([20000], -2.0, 3.0)
    n = tf.random_normal([20000], mean=1.0, stddev=2.0, dtype=tf.float64)
    t = tf.truncated_normal([20000], stddev=0.5)
    i = tf.random_uniform([20000], 3, 7, dtype=tf.int64)
    with tf.Session() as sess:
        u_v, n_v, t_v, i_v = sess.run([u, n, t, i])
    assert u_v.dtype == np.float32 and u_v.min() >= -2 and u_v.max() < 3 and abs(u_v.mean() - 0.5) < 0.05
    assert n_v.dtype == np.float64 and abs(n_v.mean() - 1.0) < 0.05 and abs(n_v.std() - 2.0) < 0.05
    assert np.abs(t_v).max() <= 1.0 and abs(t_v.std() - 0.5 * 0.8796) < 0.01
    assert i_v.dtype == np.int64 and set(np.unique(i_v)) == {3, 4, 5, 6}


def test_names_and_static_shapes():
    # As in TF: the default [0, 1) range returns the RandomUniform op itself; another range scales it.
    r = tf.random_uniform([2, 3], name="noise")
    assert r.op.name == "noise/RandomUniform" and r.shape.as_list() == [2, 3]
    scaled = tf.random_uniform([2], -1, 1, name="scaled")
    assert scaled.op.name == "scaled" and "scaled/RandomUniform" in [op.name for op in
                                                                      tf.get_default_graph().get_operations()]
    x = tf.placeholder(tf.float32, [None, 4])
    assert tf.random_normal(tf.shape(x)).shape.as_list() == [None, 4]


def test_integer_random_uniform_needs_maxval():
    with pytest.raises(ValueError, match="Must specify maxval"):
        tf.random_uniform([2], dtype=tf.int32)
