"""tf.contrib.seq2seq.sequence_loss: contrib 1.15's reductions for every flag combination, its
gradients and its errors. Expected numbers were computed once with TensorFlow 2.21 (tf.compat.v1)
by the same reductions written with plain ops (sparse softmax cross-entropy, reduce_sum,
count_nonzero, divide_no_nan); TensorFlow is not needed to run these tests.
"""
import re

import numpy as np
import pytest

import caudal as tf

LOGITS = np.round(np.random.RandomState(0).randn(3, 4, 5), 2).astype(np.float32)
TARGETS = np.array([[0, 1, 4, 2], [3, 3, 0, 1], [2, 4, 1, 0]], np.int32)
# the middle row is all zero: its per-row averages divide by zero and give 0 (div_no_nan)
WEIGHTS = np.array([[1, 1, 0.5, 0], [0, 0, 0, 0], [2, 1, 1, 1]], np.float32)

PER_STEP = [[1.4923239946, 0.8799193501, 0.9427536129, 0.0], [0.0, 0.0, 0.0, 0.0],
            [7.6768684387, 1.6264561414, 0.9348896741, 1.2167130708]]
AVG_OVER_TIME = [1.3259987831, 0.0, 2.2909855842]
AVG_OVER_BATCH = [3.0563974380, 1.2531877756, 1.2517622709, 1.2167130708]
# (average_across_timesteps, average_across_batch, sum_over_timesteps, sum_over_batch) -> TF 2.21's value
EXPECTED = {
    (True, True, False, False): 1.9693232774,
    (True, False, False, True): AVG_OVER_TIME,  # contrib ignores sum_over_batch once timesteps are averaged
    (True, False, False, False): AVG_OVER_TIME,
    (False, True, True, False): AVG_OVER_BATCH,
    (False, False, True, True): 2.1099891662,
    (False, False, True, False): [1.1049989461, 0.0, 2.8637318611],
    (False, True, False, False): AVG_OVER_BATCH,
    (False, False, False, True): [4.5845961570, 1.2531877756, 0.9388216733, 1.2167130708],
    (False, False, False, False): PER_STEP,
}

G_AVG = [[[-0.1033534109, 0.0076946732, 0.0137429833, 0.0484498031, 0.0334659442],
          [0.0080279801, -0.0780244842, 0.0184107180, 0.0193546563, 0.0322311371],
          [0.0074947127, 0.0277767088, 0.0139321330, 0.0073463083, -0.0565498657], [0.0] * 5],
         [[0.0] * 5] * 4,
         [[0.0111068878, 0.0076719094, -0.2609260678, 0.2230878025, 0.0190594941],
          [0.0208300370, 0.0092664109, 0.0705552548, 0.0064649563, -0.1071166545],
          [0.0144105795, -0.0809827819, 0.0212841499, 0.0108912829, 0.0343967676],
          [-0.0938397124, 0.0275537669, 0.0346791706, 0.0136827975, 0.0179239753]]]
G_SUM_OVER_TIME_WEIGHTS = [[0.4974413514, 0.2933064699, 0.6285024285, 0.7805787324], [0.0] * 4,
                           [0.9596085548, 0.4066140353, 0.2337224185, 0.3041782677]]


def _loss(flags, logits=LOGITS, targets=TARGETS, weights=WEIGHTS, **kwargs):
    avg_t, avg_b, sum_t, sum_b = flags
    return tf.contrib.seq2seq.sequence_loss(logits, targets, weights, average_across_timesteps=avg_t,
                                            average_across_batch=avg_b, sum_over_timesteps=sum_t,
                                            sum_over_batch=sum_b, **kwargs)


@pytest.mark.parametrize("flags", list(EXPECTED))
def test_every_flag_combination_matches_tensorflow(flags):
    tf.reset_default_graph()
    loss = _loss(flags)
    expected = np.asarray(EXPECTED[flags], np.float32)
    assert loss.shape.as_list() == list(expected.shape)
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(loss), expected, rtol=1e-5, atol=1e-6)


def test_default_is_the_weighted_average_and_named_sequence_loss():
    tf.reset_default_graph()
    loss = tf.contrib.seq2seq.sequence_loss(tf.constant(LOGITS), tf.constant(TARGETS), tf.constant(WEIGHTS))
    assert loss.op.name.startswith("sequence_loss/")
    named = tf.contrib.seq2seq.sequence_loss(LOGITS, TARGETS, WEIGHTS, name="xent")
    assert named.op.name.startswith("xent/")
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(loss), 1.9693232774, rtol=1e-6)


def test_gradients_match_tensorflow():
    tf.reset_default_graph()
    logits = tf.constant(LOGITS)
    weights = tf.constant(WEIGHTS)
    avg = _loss((True, True, False, False), logits=logits, weights=weights)
    per_row = _loss((False, False, True, False), logits=logits, weights=weights)
    g_avg = tf.gradients(avg, logits)[0]
    g_sum_logits, g_sum_weights = tf.gradients(tf.reduce_sum(per_row), [logits, weights])
    with tf.Session() as sess:
        ga, gl, gw = sess.run([g_avg, g_sum_logits, g_sum_weights])
    np.testing.assert_allclose(ga, G_AVG, rtol=1e-5, atol=1e-7)
    # the average divides by the summed weights (7.5); sum over time by each row's count of non-zero
    # weights (3 and 4; the empty row gets 0)
    scale = np.array([7.5 / 3, 0.0, 7.5 / 4], np.float32)[:, None, None]
    np.testing.assert_allclose(gl, np.asarray(G_AVG) * scale, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gw, G_SUM_OVER_TIME_WEIGHTS, rtol=1e-5, atol=1e-7)


def test_custom_softmax_loss_function_gets_flat_labels_and_logits():
    tf.reset_default_graph()
    seen = {}

    def loss_fn(labels, logits):
        seen["shapes"] = (labels.shape.as_list(), logits.shape.as_list())
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)

    loss = tf.contrib.seq2seq.sequence_loss(LOGITS, TARGETS, WEIGHTS, softmax_loss_function=loss_fn)
    assert seen["shapes"] == ([12], [12, 5])
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(loss), 1.9693232774, rtol=1e-6)


def test_unknown_batch_and_time_are_fed():
    tf.reset_default_graph()
    logits = tf.placeholder(tf.float32, [None, None, 5])
    targets = tf.placeholder(tf.int32, [None, None])
    weights = tf.placeholder(tf.float32, [None, None])
    per_step = tf.contrib.seq2seq.sequence_loss(logits, targets, weights, average_across_timesteps=False,
                                                average_across_batch=False)
    with tf.Session() as sess:
        value = sess.run(per_step, {logits: LOGITS, targets: TARGETS, weights: WEIGHTS})
    np.testing.assert_allclose(value, PER_STEP, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("args, message", [
    ((LOGITS[0], TARGETS, WEIGHTS), "Logits must be a [batch_size x sequence_length x logits] tensor"),
    ((LOGITS, TARGETS[0], WEIGHTS), "Targets must be a [batch_size x sequence_length] tensor"),
    ((LOGITS, TARGETS, WEIGHTS[..., None]), "Weights must be a [batch_size x sequence_length] tensor"),
])
def test_rank_errors(args, message):
    tf.reset_default_graph()
    with pytest.raises(ValueError, match=re.escape(message)):
        tf.contrib.seq2seq.sequence_loss(*args)


def test_average_and_sum_flags_are_exclusive():
    tf.reset_default_graph()
    with pytest.raises(ValueError, match=re.escape(
            "average_across_timesteps and sum_over_timesteps cannot be set to True at same time.")):
        tf.contrib.seq2seq.sequence_loss(LOGITS, TARGETS, WEIGHTS, sum_over_timesteps=True)
    with pytest.raises(ValueError, match=re.escape(
            "average_across_batch and sum_over_batch cannot be set to True at same time.")):
        tf.contrib.seq2seq.sequence_loss(LOGITS, TARGETS, WEIGHTS, average_across_timesteps=False,
                                         sum_over_batch=True)
