"""Records: softmax (v1, v2, any axis), sparse softmax, sigmoid and weighted cross-entropies,
and l2_loss. The raw fused ops are also recorded with both outputs, so that the numeric check
covers the gradient of their backprop output (second derivatives)."""
import numpy as np

import caudal as tf
from caudal.framework.graph import make_op
from tests.ops.record import OpRecord, away_from_zero, positive, uniform


def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis, keepdims=True))


def _softmax(x, axis=-1):
    return np.exp(_log_softmax(x, axis))


def _distribution(*shape, axis=-1):
    """Labels that sum to 1 along `axis`: like TF's kernel, the fused backprop (softmax - labels)
    is the loss's gradient only for such labels."""
    def make(rng):
        p = rng.uniform(0.1, 1.0, shape)
        return (p / p.sum(axis, keepdims=True)).astype(np.float32)

    return make


def _xent(labels, logits, axis=-1):
    return -(labels * _log_softmax(logits, axis)).sum(axis)


def _sparse_xent(labels, logits):
    log_probs = _log_softmax(logits)
    return -np.take_along_axis(log_probs, labels[..., None].astype(np.int64), -1)[..., 0]


def _fused(features, labels):
    return make_op("SoftmaxCrossEntropyWithLogits", [features, labels], {"T": features.dtype.base_dtype}).outputs


def _fused_sparse(features, labels):
    return make_op("SparseSoftmaxCrossEntropyWithLogits", [features, labels],
                   {"T": features.dtype.base_dtype, "Tlabels": labels.dtype.base_dtype}).outputs


def _fused_sparse_ref(features, labels):
    one_hot = np.eye(features.shape[1], dtype=features.dtype)[labels]
    return _xent(one_hot, features), _softmax(features) - one_hot


def _sigmoid_xent(z, x):
    return (np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))).astype(x.dtype)


def _weighted_xent(z, x, q):
    return ((1 - z) * x + (1 + (q - 1) * z) * np.log1p(np.exp(-x))).astype(x.dtype)


_CLASSES = np.array([2, 0, 3], np.int32)

RECORDS = [
    OpRecord("softmax_xent_v2", lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits_v2(labels, logits),
             _xent, [_distribution(3, 4), uniform(3, 4)]),
    OpRecord("softmax_xent_v1_labels_get_no_gradient",
             lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits),
             _xent, [_distribution(3, 4), uniform(3, 4)], grad=(1,)),
    OpRecord("softmax_xent_rank3_axis1", lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits_v2(
        labels, logits, axis=1), lambda labels, logits: _xent(labels, logits, 1),
        [_distribution(2, 3, 2, axis=1), uniform(2, 3, 2)], dynamic=False),
    OpRecord("softmax_xent_v1_dim0", lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits(
        labels=labels, logits=logits, dim=0), lambda labels, logits: _xent(labels, logits, 0),
        [_distribution(4, 3, axis=0), uniform(4, 3)], grad=(1,), dynamic=False),
    OpRecord("softmax_xent_rank1", lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits_v2(labels, logits),
             _xent, [_distribution(5), uniform(5)]),
    OpRecord("softmax_xent_large_logits", lambda labels, logits: tf.nn.softmax_cross_entropy_with_logits_v2(
        labels, logits), _xent, [_distribution(2, 3), uniform(2, 3, low=-300, high=300)], grad=False),
    OpRecord("softmax_xent_fused_both_outputs", _fused,
             lambda f, labels: (_xent(labels, f), _softmax(f) - labels), [uniform(3, 4), _distribution(3, 4)]),
    OpRecord("sparse_softmax_xent", lambda labels, logits: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits), _sparse_xent, [_CLASSES, uniform(3, 4)]),
    OpRecord("sparse_softmax_xent_int64_rank3", lambda labels, logits: tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=labels, logits=logits), _sparse_xent, [np.array([[1, 0], [2, 2]], np.int64), uniform(2, 2, 3)]),
    OpRecord("sparse_softmax_xent_fused_both_outputs", _fused_sparse, _fused_sparse_ref,
             [uniform(3, 4), _CLASSES]),
    OpRecord("sigmoid_xent", lambda labels, logits: tf.nn.sigmoid_cross_entropy_with_logits(labels=labels,
                                                                                           logits=logits),
             _sigmoid_xent, [uniform(3, 4, low=0, high=1), away_from_zero(3, 4)]),
    OpRecord("sigmoid_xent_large_logits", lambda labels, logits: tf.nn.sigmoid_cross_entropy_with_logits(
        labels=labels, logits=logits), lambda z, x: (np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))),
        [np.array([0.0, 1.0, 0.5, 1.0], np.float32), np.array([-200.0, -200.0, 150.0, 80.0], np.float32)],
        grad=False),
    OpRecord("weighted_xent_targets", lambda z, x: tf.nn.weighted_cross_entropy_with_logits(
        targets=z, logits=x, pos_weight=3.0), lambda z, x: _weighted_xent(z, x, 3.0),
        [uniform(3, 4, low=0, high=1), away_from_zero(3, 4)]),
    OpRecord("weighted_xent_labels", lambda z, x: tf.nn.weighted_cross_entropy_with_logits(
        labels=z, logits=x, pos_weight=0.5), lambda z, x: _weighted_xent(z, x, 0.5),
        [uniform(5, low=0, high=1), away_from_zero(5)]),
    OpRecord("l2_loss", tf.nn.l2_loss, lambda t: (t ** 2).sum() / 2, [uniform(3, 4)]),
    OpRecord("l2_loss_float64", tf.nn.l2_loss, lambda t: (t ** 2).sum() / 2, [positive(5, dtype=np.float64)]),
]
