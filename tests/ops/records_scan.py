"""Records: Cumsum and Cumprod, and the reductions built from other ops (logsumexp, count_nonzero)."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, away_from_zero, booleans, integers, uniform


def _scan(fn, axis=0, exclusive=False, reverse=False, identity=0):
    def ref(x):
        v = np.flip(x, axis) if reverse else x
        out = fn(v, axis=axis, dtype=x.dtype)
        if exclusive:
            head = np.full_like(np.take(out, [0], axis=axis), identity)
            out = np.concatenate([head, np.take(out, np.arange(x.shape[axis] - 1), axis=axis)], axis=axis)
        return np.flip(out, axis) if reverse else out

    return ref


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return (out if keepdims else np.squeeze(out, axis=axis)).astype(x.dtype)


RECORDS = [
    OpRecord("cumsum", tf.cumsum, _scan(np.cumsum), [uniform(4, 3)]),
    OpRecord("cumsum_axis1_int", lambda x: tf.cumsum(x, axis=1), _scan(np.cumsum, axis=1), [integers(3, 4)]),
    OpRecord("cumsum_exclusive", lambda x: tf.cumsum(x, exclusive=True), _scan(np.cumsum, exclusive=True),
             [uniform(5)]),
    OpRecord("cumsum_reverse_negative_axis", lambda x: tf.cumsum(x, axis=-1, reverse=True),
             _scan(np.cumsum, axis=-1, reverse=True), [uniform(2, 4)]),
    OpRecord("cumsum_exclusive_reverse", lambda x: tf.cumsum(x, 1, exclusive=True, reverse=True),
             _scan(np.cumsum, axis=1, exclusive=True, reverse=True), [uniform(3, 4, dtype=np.float64)]),
    OpRecord("cumprod", tf.cumprod, _scan(np.cumprod), [away_from_zero(4, 2)]),
    OpRecord("cumprod_exclusive_reverse", lambda x: tf.cumprod(x, axis=1, exclusive=True, reverse=True),
             _scan(np.cumprod, axis=1, exclusive=True, reverse=True, identity=1), [away_from_zero(2, 4)]),
    OpRecord("cumprod_int64", lambda x: tf.cumprod(x, exclusive=True), _scan(np.cumprod, exclusive=True, identity=1),
             [integers(5, low=1, dtype=np.int64)]),
    OpRecord("reduce_logsumexp", tf.reduce_logsumexp, _logsumexp, [uniform(3, 4, low=-50, high=50)]),
    OpRecord("reduce_logsumexp_axis", lambda x: tf.reduce_logsumexp(x, axis=1), lambda x: _logsumexp(x, axis=1),
             [uniform(3, 4)]),
    OpRecord("reduce_logsumexp_keep_dims_legacy",
             lambda x: tf.reduce_logsumexp(x, reduction_indices=[0], keep_dims=True),
             lambda x: _logsumexp(x, axis=0, keepdims=True), [uniform(3, 4)]),
    OpRecord("reduce_logsumexp_infinities", lambda x: tf.reduce_logsumexp(x, axis=1),
             lambda x: _logsumexp(x, axis=1),
             [np.array([[-np.inf, -np.inf], [3.0, np.inf], [1.0, -np.inf]], np.float32)], grad=False),
    OpRecord("count_nonzero", tf.count_nonzero, lambda x: np.int64(np.count_nonzero(x)),
             [np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]], np.float32)]),
    OpRecord("count_nonzero_axis_dtype", lambda x: tf.count_nonzero(x, axis=1, keepdims=True, dtype=tf.int32),
             lambda x: np.count_nonzero(x, axis=1, keepdims=True).astype(np.int32), [integers(3, 4, low=-1, high=2)]),
    OpRecord("count_nonzero_bool", lambda x: tf.count_nonzero(x, 0), lambda x: np.count_nonzero(x, 0).astype(np.int64),
             [booleans(4, 3)]),
]
