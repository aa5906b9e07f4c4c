"""random_shuffle, multinomial and random_crop: TF's seed rules (same graph seed, same numbers in
a new session; successive runs differ), their shapes, dtypes and attrs, distributions, and errors."""
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


BUILDERS = {
    "random_shuffle": lambda: tf.random_shuffle(tf.range(50)),
    "multinomial": lambda: tf.multinomial(tf.zeros([2, 10]), 20),
    "random_crop": lambda: tf.random_crop(tf.reshape(tf.range(400), [20, 20]), [3, 4]),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_graph_seed_repeats_in_new_session_and_runs_differ(name):
    builder = BUILDERS[name]
    first = _draws(builder, graph_seed=42, runs=3)
    again = _draws(builder, graph_seed=42, runs=3)
    other = _draws(builder, graph_seed=7, runs=3)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(first[0], f) for f in first[1:])
    assert not all(np.array_equal(f, o) for f, o in zip(first, other, strict=True))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_op_seed_alone_is_reproducible(name):
    seeded = {
        "random_shuffle": lambda: tf.random_shuffle(tf.range(50), seed=5),
        "multinomial": lambda: tf.multinomial(tf.zeros([2, 10]), 20, seed=5),
        "random_crop": lambda: tf.random_crop(tf.reshape(tf.range(400), [20, 20]), [3, 4], seed=5),
    }[name]
    np.testing.assert_array_equal(_draws(seeded)[0], _draws(seeded)[0])


def test_random_shuffle_permutes_first_dimension_only():
    tf.set_random_seed(3)
    x = np.arange(60, dtype=np.float32).reshape(20, 3)
    shuffled = tf.random_shuffle(x)
    assert shuffled.op.type == "RandomShuffle"
    assert shuffled.shape.as_list() == [20, 3] and shuffled.dtype == tf.float32
    assert shuffled.op.get_attr("seed") == 3
    with tf.Session() as sess:
        value = sess.run(shuffled)
        scalar = sess.run(tf.random_shuffle(7.0))
    np.testing.assert_array_equal(np.sort(value[:, 0]), x[:, 0])
    np.testing.assert_array_equal(value, x[(value[:, 0] // 3).astype(int)])  # rows kept whole
    assert not np.array_equal(value, x)
    assert scalar == 7.0


def test_random_shuffle_is_uniform_over_positions():
    tf.set_random_seed(1)
    shuffled = tf.random_shuffle(tf.range(4))
    with tf.Session() as sess:
        firsts = np.array([sess.run(shuffled)[0] for _ in range(4000)])
    counts = np.bincount(firsts, minlength=4)
    assert np.all(np.abs(counts / 4000 - 0.25) < 0.03), counts


def test_random_shuffle_has_no_gradient():
    x = tf.placeholder(tf.float32, [3])
    assert tf.gradients(tf.reduce_sum(tf.random_shuffle(x)), x) == [None]


def test_multinomial_matches_softmax_probabilities():
    tf.set_random_seed(0)
    probabilities = np.array([[0.1, 0.2, 0.7], [0.5, 0.0, 0.5]])
    with np.errstate(divide="ignore"):
        logits = tf.constant(np.log(probabilities), dtype=tf.float32)
    samples = tf.multinomial(logits, 20000)
    assert samples.op.type == "Multinomial" and samples.op.name == "multinomial/Multinomial"
    assert samples.dtype == tf.int64 and samples.shape.as_list() == [2, 20000]
    with tf.Session() as sess:
        value = sess.run(samples)
    assert value.dtype == np.int64 and value.min() >= 0 and value.max() <= 2
    for row, p in zip(value, probabilities, strict=True):
        np.testing.assert_allclose(np.bincount(row, minlength=3) / row.size, p, atol=0.015)
    assert not (value[1] == 1).any()  # a zero-probability class is never drawn


def test_multinomial_shift_invariance_int32_output_and_dynamic_shapes():
    tf.set_random_seed(0)
    logits = tf.placeholder(tf.float64, [None, None])
    count = tf.placeholder(tf.int32, [])
    samples = tf.multinomial(logits, count, output_dtype=tf.int32)
    assert samples.dtype == tf.int32 and samples.shape.as_list() == [None, None]
    with tf.Session() as sess:
        value = sess.run(samples, {logits: [[1000.0, 1000.0, -np.inf]], count: 4000})
        empty = sess.run(samples, {logits: [[0.0, 1.0]] * 3, count: 0})
    assert value.dtype == np.int32 and set(np.unique(value)) == {0, 1}
    assert abs((value == 0).mean() - 0.5) < 0.04
    assert empty.shape == (3, 0)


def test_multinomial_errors():
    with pytest.raises(ValueError, match="Shape must be rank 2 but is rank 1"):
        tf.multinomial(tf.constant([1.0, 2.0]), 3)
    with pytest.raises(ValueError, match="must be non-negative but is -1"):
        tf.multinomial(tf.constant([[1.0, 2.0]]), -1)
    with pytest.raises(TypeError, match="DataType int32 not in list"):
        tf.multinomial(tf.constant([[1, 2]]), 3)
    samples = tf.multinomial(tf.zeros([2, 0]), 2)
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="num_classes should be positive"):
        sess.run(samples)


def test_random_crop_is_a_window_of_the_input_at_every_offset():
    tf.set_random_seed(2)
    image = np.arange(5 * 6 * 2).reshape(5, 6, 2).astype(np.float32)
    crop = tf.random_crop(image, [2, 3, 2])
    assert crop.name == "random_crop:0" and crop.shape.as_list() == [2, 3, 2]
    seen = set()
    with tf.Session() as sess:
        for _ in range(600):
            value = sess.run(crop)
            row, column = int(value[0, 0, 0]) // 12, int(value[0, 0, 0]) % 12 // 2
            np.testing.assert_array_equal(value, image[row:row + 2, column:column + 3])
            seen.add((row, column))
    assert seen == {(r, c) for r in range(4) for c in range(4)}


def test_random_crop_gradient_reaches_the_window():
    tf.set_random_seed(2)
    x = tf.placeholder(tf.float64, [4, 4])
    crop = tf.random_crop(x, [2, 2])
    grad = tf.gradients(tf.reduce_sum(crop), x)[0]
    with tf.Session() as sess:
        value = sess.run(grad, {x: np.zeros((4, 4))})
    assert value.sum() == 4 and set(np.unique(value)) == {0.0, 1.0}


def test_random_crop_larger_than_input_fails_when_run():
    crop = tf.random_crop(tf.zeros([4, 6]), [5, 3])
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="Need value.shape >= size"):
        sess.run(crop)
