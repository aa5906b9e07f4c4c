"""Records: unique, top_k, sort and argsort."""
import numpy as np

import caudal as tf
from caudal.ops.sort_ops import top_k
from tests.ops.record import OpRecord, distinct, integers


def _unique(x):
    values, first, inverse = np.unique(x, return_index=True, return_inverse=True)
    order = np.argsort(first)
    y = values[order]
    return y, np.argsort(order)[inverse].astype(np.int32)


def _top_k(x, k):
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, order, -1), order.astype(np.int32)


def _stable_argsort_descending(x, axis=-1):
    """Descending, equal values in their original order."""
    return np.argsort(-x.astype(np.int64), axis=axis, kind="stable").astype(np.int32)


RECORDS = [
    OpRecord("unique", tf.unique, _unique, [np.array([4, 1, 4, 7, 1, 1, 2], np.int32)], static_full=False),
    OpRecord("unique_float_int64_idx", lambda x: tf.unique(x, out_idx=tf.int64),
             lambda x: (_unique(x)[0], _unique(x)[1].astype(np.int64)),
             [np.array([0.5, -1.0, 0.5, 3.0], np.float32)], static_full=False, grad=False),
    OpRecord("top_k", lambda x: top_k(x, 3), lambda x: _top_k(x, 3), [distinct(2, 5)]),
    OpRecord("top_k_rank3_full", lambda x: top_k(x, 4), lambda x: _top_k(x, 4), [distinct(2, 3, 4)]),
    OpRecord("top_k_ties_keep_order", lambda x: top_k(x, 4), lambda x: _top_k(x, 4),
             [np.array([[1, 3, 3, 1, 3], [0, 0, 0, 0, 0]], np.int32)]),
    OpRecord("top_k_int64_indices", lambda x: top_k(x, 2, index_type=tf.int64),
             lambda x: (_top_k(x, 2)[0], _top_k(x, 2)[1].astype(np.int64)), [distinct(4)]),
    OpRecord("top_k_k0", lambda x: top_k(x, 0), lambda x: _top_k(x, 0), [distinct(2, 3)], grad=False),
    OpRecord("sort", tf.sort, lambda x: np.sort(x, -1), [distinct(3, 4)]),
    OpRecord("sort_descending_axis0", lambda x: tf.sort(x, axis=0, direction="DESCENDING"),
             lambda x: -np.sort(-x, 0), [distinct(4, 3)]),
    OpRecord("sort_axis1_of3", lambda x: tf.sort(x, axis=1), lambda x: np.sort(x, 1), [distinct(2, 4, 3)]),
    OpRecord("sort_int_extremes", tf.sort, np.sort,
             [np.array([3, -2**31, 2**31 - 1, 0, -1], np.int32)]),
    OpRecord("sort_uint8", tf.sort, np.sort, [np.array([3, 0, 255, 7], np.uint8)]),
    OpRecord("argsort_stable", tf.argsort, lambda x: np.argsort(x, kind="stable").astype(np.int32),
             [np.array([1, 3, 3, 1, 3, 0], np.int32)]),
    OpRecord("argsort_descending_stable", lambda x: tf.argsort(x, direction="DESCENDING"),
             _stable_argsort_descending, [integers(3, 6, low=0, high=3)]),
    OpRecord("argsort_float_axis0", lambda x: tf.argsort(x, axis=0),
             lambda x: np.argsort(x, 0, kind="stable").astype(np.int32), [distinct(4, 2)]),
]
