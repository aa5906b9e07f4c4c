"""tf.contrib.factorization.KMeans (TF 1.15's graph API) against NumPy k-means with the same update rules.

TF 2.21 no longer has KMeans, so the references are the update rules TF 1.15 documents: a full-batch step
moves each center to the mean of its points (0 when it has none, TF's epsilon 1e-6 in the divisor); a
mini-batch step moves it by (sum of its new points - k * center) / (count + k), counts starting at 1.
"""
import numpy as np
import pytest

import caudal as tf

factorization = tf.contrib.factorization
RNG = np.random.RandomState(0)
POINTS = np.concatenate([RNG.randn(20, 2) + [5, 5], RNG.randn(20, 2) - [5, 5],
                         RNG.randn(20, 2) + [5, -5]]).astype(np.float32)


def _lloyd(points, centers, steps):
    for _ in range(steps):
        assignment = ((points[:, None] - centers[None]) ** 2).sum(-1).argmin(1)
        centers = np.stack([points[assignment == k].sum(0) / ((assignment == k).sum() + 1e-6)
                            for k in range(len(centers))])
    return centers


def _clusters():
    return tf.get_default_graph().get_tensor_by_name(factorization.CLUSTERS_VAR_NAME + ":0")


def test_full_batch_steps_match_lloyd():
    init = POINTS[[0, 1, 2]]
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2])
        all_scores, idx, scores, initialized, init_op, train_op = factorization.KMeans(
            x, 3, initial_clusters=init).training_graph()
        assert [v.op.name for v in tf.global_variables()] == ["clusters", "initialized"]
        assert idx[0].dtype == tf.int64 and all_scores[0].dtype == tf.float32
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert not sess.run(initialized)
            sess.run(init_op, {x: POINTS})
            assert sess.run(initialized)
            sess.run(init_op, {x: POINTS})
            np.testing.assert_array_equal(sess.run(_clusters()), init)
            for _ in range(5):
                sess.run(train_op, {x: POINTS})
            centers = sess.run(_clusters())
            got_idx, got_scores, got_all = sess.run([idx[0], scores[0], all_scores[0]], {x: POINTS})
    np.testing.assert_allclose(centers, _lloyd(POINTS, init, 5), rtol=1e-5, atol=1e-5)
    distances = ((POINTS[:, None] - centers[None]) ** 2).sum(-1)
    np.testing.assert_allclose(got_all, distances, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(got_idx, distances.argmin(1))
    np.testing.assert_allclose(got_scores, distances.min(1), rtol=1e-4, atol=1e-4)


def test_empty_cluster_goes_to_zero_and_inputs_may_be_a_list():
    init = np.array([[5.0, 5.0], [100.0, 100.0]], np.float32)
    with tf.Graph().as_default():
        parts = [tf.constant(POINTS[:30]), tf.constant(POINTS[30:])]
        _, idx, _, _, init_op, train_op = factorization.KMeans(parts, 2, initial_clusters=init).training_graph()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(init_op)
            sess.run(train_op)
            centers = sess.run(_clusters())
            assert len(idx) == 2
    np.testing.assert_allclose(centers, _lloyd(POINTS, init, 1), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(centers[1], [0.0, 0.0])


def test_mini_batch_update_rule():
    init = POINTS[[0, 25, 45]]
    batch = POINTS[::3]
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2])
        _, idx, _, _, init_op, train_op = factorization.KMeans(x, 3, initial_clusters=init,
                                                               use_mini_batch=True).training_graph()
        assert [v.op.name for v in tf.global_variables()] == ["clusters", "initialized", "Variable"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(init_op, {x: batch})
            for _ in range(2):
                sess.run(train_op, {x: batch})
            centers = sess.run(_clusters())
    expected, counts = init.astype(np.float64), np.ones(3)
    for _ in range(2):
        assignment = ((batch[:, None] - expected[None]) ** 2).sum(-1).argmin(1)
        for k in np.unique(assignment):
            members = batch[assignment == k]
            expected[k] += (members.sum(0) - len(members) * expected[k]) / (counts[k] + len(members))
            counts[k] += len(members)
    np.testing.assert_allclose(centers, expected, rtol=1e-5, atol=1e-5)


def test_random_init_draws_rows_and_all_rows_when_too_few():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2])
        _, _, _, initialized, init_op, _ = factorization.KMeans(x, 4, random_seed=5).training_graph()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(init_op, {x: POINTS})
            centers = sess.run(_clusters())
            assert centers.shape == (4, 2) and sess.run(initialized)
            assert all(any(np.array_equal(c, p) for p in POINTS) for c in centers)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2])
        _, _, _, initialized, init_op, _ = factorization.KMeans(x, 5).training_graph()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(init_op, {x: POINTS[:2]})
            assert not sess.run(initialized)
            sess.run(init_op, {x: POINTS[2:5]})
            assert sess.run(initialized)
            np.testing.assert_array_equal(sess.run(_clusters()), POINTS[:5])


def test_cosine_distance_and_callable_init():
    def first_rows(inputs, num_remaining):
        return inputs[0][:num_remaining]

    with tf.Graph().as_default():
        x = tf.constant(POINTS)
        all_scores, idx, scores, _, init_op, train_op = factorization.KMeans(
            x, 3, initial_clusters=first_rows, distance_metric=factorization.COSINE_DISTANCE).training_graph()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(init_op)
            start = sess.run(_clusters())
            sess.run(train_op)
            centers, got_scores = sess.run([_clusters(), scores[0]])
    unit = POINTS / np.linalg.norm(POINTS, axis=1, keepdims=True)
    np.testing.assert_allclose(start, unit[:3], rtol=1e-5)
    assignment = (1 - unit @ unit[:3].T).argmin(1)
    means = np.stack([unit[assignment == k].sum(0) / ((assignment == k).sum() + 1e-6) for k in range(3)])
    expected = means / np.linalg.norm(means, axis=1, keepdims=True)
    np.testing.assert_allclose(centers, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_scores, (1 - unit @ expected.T).min(1), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(initial_clusters="best"), ValueError, "Unsupported initialization algorithm 'best'"),
    (dict(distance_metric="manhattan"), ValueError, "Unsupported distance metric 'manhattan'"),
    (dict(initial_clusters=factorization.KMEANS_PLUS_PLUS_INIT), NotImplementedError,
     "initial_clusters='kmeans_plus_plus' is not supported; use RANDOM_INIT, a tensor or a function"),
    (dict(use_mini_batch=True, mini_batch_steps_per_iteration=3), NotImplementedError,
     "mini_batch_steps_per_iteration > 1 is not supported"),
])
def test_kmeans_argument_errors(kwargs, error, message):
    with tf.Graph().as_default():
        with pytest.raises(error) as info:
            factorization.KMeans(tf.constant(POINTS), 3, **kwargs)
        assert str(info.value) == message
