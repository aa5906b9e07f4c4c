"""Records: softmax, log_softmax and relu."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, away_from_zero, uniform


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis, keepdims=True))


RECORDS = [
    OpRecord("softmax", tf.nn.softmax, _softmax, [uniform(3, 5)]),
    OpRecord("softmax_axis0", lambda x: tf.nn.softmax(x, axis=0), lambda x: _softmax(x, 0), [uniform(3, 5)],
             dynamic=False),
    OpRecord("softmax_legacy_dim", lambda x: tf.nn.softmax(x, dim=0), lambda x: _softmax(x, 0), [uniform(4, 2)],
             dynamic=False),
    OpRecord("softmax_large_logits", tf.nn.softmax, _softmax, [uniform(2, 4, low=-500, high=500)], grad=False),
    OpRecord("log_softmax", tf.nn.log_softmax, _log_softmax, [uniform(3, 5)]),
    OpRecord("relu", tf.nn.relu, lambda x: np.maximum(x, 0), [away_from_zero(4, 3)]),
    OpRecord("relu_int32", tf.nn.relu, lambda x: np.maximum(x, 0), [np.array([-2, 0, 3], np.int32)]),
    OpRecord("nn_sigmoid", tf.nn.sigmoid, lambda x: (1 / (1 + np.exp(-x))).astype(x.dtype), [uniform(4)]),
    OpRecord("nn_tanh", tf.nn.tanh, np.tanh, [uniform(4)]),
]
