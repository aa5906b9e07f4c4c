"""tf.losses: values against numbers recorded from TF 2.21 (tf.compat.v1) for fixed inputs,
reductions against NumPy formulas, the loss collections, and TF's errors."""
import numpy as np
import pytest

import caudal as tf

LABELS = np.array([[0., 1., 1.], [1., 0., 0.]], np.float32)
PREDS = np.array([[0.2, 0.7, 0.4], [0.9, 0.3, 0.05]], np.float32)
LOGITS = np.array([[1.5, -0.5, 0.3], [-2.0, 0.8, 0.1]], np.float32)
ROW_WEIGHTS = np.array([[1.0], [0.0]], np.float32)
WEIGHTS = np.array([[0.5, 0.0, 2.0], [1.0, 0.0, 3.0]], np.float32)
R = tf.losses.Reduction


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# Each built loss and the value TF 2.21 returned for it (recorded once; TF never runs here).
TF_VALUES = [
    (lambda: tf.losses.mean_squared_error(LABELS, PREDS), 0.09875000268220901),
    (lambda: tf.losses.mean_squared_error(LABELS, PREDS, weights=ROW_WEIGHTS), 0.16333334147930145),
    (lambda: tf.losses.absolute_difference(LABELS, PREDS, weights=WEIGHTS), 0.38750001788139343),
    (lambda: tf.losses.absolute_difference(LABELS, PREDS, weights=WEIGHTS, reduction=R.SUM), 1.5500000715255737),
    (lambda: tf.losses.absolute_difference(LABELS, PREDS, weights=WEIGHTS, reduction=R.MEAN), 0.23846155405044556),
    (lambda: tf.losses.absolute_difference(LABELS, PREDS, weights=WEIGHTS, reduction=R.SUM_OVER_BATCH_SIZE),
     0.25833335518836975),
    (lambda: tf.losses.absolute_difference(LABELS, PREDS, weights=WEIGHTS, reduction=R.SUM_OVER_NONZERO_WEIGHTS),
     0.38750001788139343),
    (lambda: tf.losses.huber_loss(LABELS, PREDS * 3, delta=0.5), 0.2802083194255829),
    (lambda: tf.losses.hinge_loss(LABELS, LOGITS), 1.7666667699813843),
    (lambda: tf.losses.log_loss(LABELS, PREDS), 0.3349061906337738),
    (lambda: tf.losses.softmax_cross_entropy(LABELS / LABELS.sum(1, keepdims=True), LOGITS, label_smoothing=0.1),
     2.494288921356201),
    (lambda: tf.losses.softmax_cross_entropy(LABELS / LABELS.sum(1, keepdims=True), LOGITS, weights=[2.0, 0.5]),
     2.772984027862549),
    (lambda: tf.losses.sparse_softmax_cross_entropy([2, 0], LOGITS, weights=[[1.0], [3.0]]), 5.645637035369873),
    (lambda: tf.losses.sigmoid_cross_entropy(LABELS, LOGITS, label_smoothing=0.2), 1.1353784799575806),
    (lambda: tf.losses.cosine_distance(_unit(LABELS), _unit(PREDS), axis=1), 0.05812472105026245),
    (lambda: tf.losses.mean_squared_error(LABELS, PREDS, weights=0.0), 0.0),
]


@pytest.mark.parametrize("build, expected", TF_VALUES)
def test_values_match_tf(build, expected):
    with tf.Graph().as_default():
        loss = build()
        assert loss.shape.as_list() == [] and loss.dtype == tf.float32
        np.testing.assert_allclose(tf.Session().run(loss), expected, rtol=1e-6)


def test_reduction_none_keeps_the_weighted_losses():
    with tf.Graph().as_default():
        loss = tf.losses.absolute_difference(LABELS, PREDS, weights=WEIGHTS, reduction=R.NONE)
        np.testing.assert_allclose(tf.Session().run(loss), np.abs(PREDS - LABELS) * WEIGHTS, rtol=1e-6)


@pytest.mark.parametrize("reduction, reduce", [
    (R.SUM, lambda w, lw: lw.sum()),
    (R.MEAN, lambda w, lw: lw.sum() / np.broadcast_to(w, lw.shape).sum()),
    (R.SUM_OVER_BATCH_SIZE, lambda w, lw: lw.sum() / lw.size),
    (R.SUM_BY_NONZERO_WEIGHTS, lambda w, lw: lw.sum() / np.count_nonzero(np.broadcast_to(w, lw.shape))),
])
@pytest.mark.parametrize("weights", [1.0, 2.5, ROW_WEIGHTS, WEIGHTS])
def test_reductions_follow_their_formulas(reduction, reduce, weights):
    losses = np.random.default_rng(0).uniform(0, 3, (2, 3)).astype(np.float32)
    with tf.Graph().as_default():
        loss = tf.losses.compute_weighted_loss(losses, weights=weights, reduction=reduction)
        expected = reduce(np.asarray(weights, np.float32), losses * weights)
        np.testing.assert_allclose(tf.Session().run(loss), expected, rtol=1e-5)


@pytest.mark.parametrize("reduction", [R.MEAN, R.SUM_OVER_NONZERO_WEIGHTS])
def test_all_zero_weights_give_zero_not_nan(reduction):
    with tf.Graph().as_default():
        loss = tf.losses.compute_weighted_loss(np.ones((2, 2), np.float32), weights=np.zeros((2, 1), np.float32),
                                               reduction=reduction)
        assert tf.Session().run(loss) == 0.0


def test_float64_losses_come_back_as_float64():
    with tf.Graph().as_default():
        loss = tf.losses.compute_weighted_loss(np.array([1.0, 2.0]))
        assert loss.dtype == tf.float64
        assert tf.Session().run(loss) == 1.5


def test_gradient_flows_to_logits_not_labels():
    with tf.Graph().as_default():
        labels = tf.constant(LABELS / LABELS.sum(1, keepdims=True))
        logits = tf.constant(LOGITS)
        loss = tf.losses.softmax_cross_entropy(labels, logits)
        g_labels, g_logits = tf.gradients(loss, [labels, logits])
        assert g_labels is None
        e = np.exp(LOGITS - LOGITS.max(1, keepdims=True))
        expected = (e / e.sum(1, keepdims=True) - LABELS / LABELS.sum(1, keepdims=True)) / 2
        np.testing.assert_allclose(tf.Session().run(g_logits), expected, rtol=1e-5, atol=1e-7)


def test_losses_are_collected_with_tf_names():
    with tf.Graph().as_default():
        a = tf.losses.mean_squared_error(LABELS, PREDS)
        b = tf.losses.hinge_loss(LABELS, LOGITS, loss_collection="mine")
        c = tf.losses.log_loss(LABELS, PREDS, loss_collection=None)
        assert a.name == "mean_squared_error/value:0"
        assert tf.losses.get_losses() == [a]
        assert tf.losses.get_losses(loss_collection="mine") == [b]
        assert c not in tf.get_collection(tf.GraphKeys.LOSSES)
        tf.losses.add_loss(c)
        assert tf.losses.get_losses() == [a, c]
        assert tf.losses.get_losses(scope="log_loss") == [c]


def test_total_and_regularization_losses():
    with tf.Graph().as_default():
        reg = tf.losses.get_regularization_loss()
        assert tf.Session().run(reg) == 0.0
        mse = tf.losses.mean_squared_error(LABELS, PREDS)
        tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, tf.constant(0.5))
        tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, tf.constant(0.25))
        reg = tf.losses.get_regularization_loss()
        assert reg.op.name == "total_regularization_loss"
        total = tf.losses.get_total_loss()
        assert total.op.name == "total_loss"
        data_only = tf.losses.get_total_loss(add_regularization_losses=False, name="data_loss")
        sess = tf.Session()
        np.testing.assert_allclose(sess.run([reg, total, data_only, mse]),
                                   [0.75, 0.09875 + 0.75, 0.09875, 0.09875], rtol=1e-6)
        assert len(tf.losses.get_regularization_losses()) == 2


def test_total_loss_with_nothing_collected_fails_like_tf():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="at least one Tensor"):
            tf.losses.get_total_loss()


@pytest.mark.parametrize("build, message", [
    (lambda: tf.losses.mean_squared_error(LABELS, PREDS[:, :2]), r"Shapes \(2, 2\) and \(2, 3\) are incompatible"),
    (lambda: tf.losses.mean_squared_error(LABELS, PREDS, weights=np.ones((3, 2))),
     "weights can not be broadcast to values. Mismatch at dim 0"),
    (lambda: tf.losses.mean_squared_error([1.0, 2.0], [1.0, 3.0], weights=[[1.0], [3.0]]),
     r"weights can not be broadcast to values. values.rank=1. weights.rank=2."),
    (lambda: tf.losses.cosine_distance(LABELS, PREDS), "You must specify argument `axis`."),
    (lambda: tf.losses.mean_squared_error(None, PREDS), "Argument `labels` must not be None."),
    (lambda: tf.losses.compute_weighted_loss(PREDS, reduction="bad"), "Invalid Reduction Key bad."),
])
def test_bad_arguments_fail_like_tf(build, message):
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=message):
            build()


def test_reduction_keys_are_tf_s():
    assert R.all() == ("none", "weighted_sum", "weighted_mean", "weighted_sum_over_batch_size",
                       "weighted_sum_by_nonzero_weights", "weighted_sum_by_nonzero_weights")
    assert R.SUM_OVER_NONZERO_WEIGHTS == R.SUM_BY_NONZERO_WEIGHTS
