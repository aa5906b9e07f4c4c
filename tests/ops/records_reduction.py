"""Records: reductions (with axis, keepdims and TF1's legacy names) and arg max/min."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, distinct, integers, positive, uniform

RECORDS = [
    OpRecord("reduce_sum_all", tf.reduce_sum, np.sum, [uniform(3, 4)]),
    OpRecord("reduce_sum_axis0", lambda x: tf.reduce_sum(x, 0), lambda x: x.sum(0), [uniform(3, 4)]),
    OpRecord("reduce_sum_axis_neg_keepdims", lambda x: tf.reduce_sum(x, -1, keepdims=True),
             lambda x: x.sum(-1, keepdims=True), [uniform(3, 4)]),
    OpRecord("reduce_sum_two_axes", lambda x: tf.reduce_sum(x, [0, 2]), lambda x: x.sum((0, 2)), [uniform(2, 3, 4)]),
    OpRecord("reduce_sum_legacy_names", lambda x: tf.reduce_sum(x, reduction_indices=[1], keep_dims=True),
             lambda x: x.sum(1, keepdims=True), [uniform(3, 4)]),
    OpRecord("reduce_sum_int32", lambda x: tf.reduce_sum(x, 1), lambda x: x.sum(1, dtype=np.int32),
             [integers(3, 4)]),
    OpRecord("reduce_mean", lambda x: tf.reduce_mean(x, 1), lambda x: x.mean(1), [uniform(3, 4)]),
    OpRecord("reduce_mean_all", tf.reduce_mean, np.mean, [uniform(3, 4)]),
    OpRecord("reduce_mean_int_truncates", tf.reduce_mean,
             lambda x: np.array(int(np.trunc(x.sum() / x.size)), dtype=np.int32), [np.array([1, 2, 2], np.int32)]),
    OpRecord("reduce_max", lambda x: tf.reduce_max(x, 0), lambda x: x.max(0), [distinct(3, 4)]),
    OpRecord("reduce_max_all", tf.reduce_max, np.max, [distinct(3, 4)]),
    OpRecord("reduce_min_keepdims", lambda x: tf.reduce_min(x, 1, keepdims=True),
             lambda x: x.min(1, keepdims=True), [distinct(3, 4)]),
    OpRecord("reduce_prod", lambda x: tf.reduce_prod(x, 1), lambda x: x.prod(1), [positive(3, 4)]),
    OpRecord("reduce_prod_with_zero", lambda x: tf.reduce_prod(x, 1), lambda x: x.prod(1),
             [np.array([[0.0, 2.0, 3.0], [1.5, 0.5, 2.0], [0.0, 0.0, 1.0]], np.float32)]),
    OpRecord("reduce_all", lambda x: tf.reduce_all(x, 1), lambda x: x.all(1),
             [np.array([[True, True], [True, False]])]),
    OpRecord("reduce_any", tf.reduce_any, np.any, [np.array([[False, False], [True, False]])]),
    OpRecord("argmax", lambda x: tf.argmax(x, 1), lambda x: x.argmax(1), [distinct(3, 4)]),
    OpRecord("argmax_default_axis0", tf.argmax, lambda x: x.argmax(0), [distinct(3, 4)]),
    OpRecord("argmax_int32_output", lambda x: tf.argmax(x, 1, output_type=tf.int32),
             lambda x: x.argmax(1).astype(np.int32), [distinct(3, 4)]),
    OpRecord("argmax_legacy_dimension", lambda x: tf.argmax(x, dimension=1), lambda x: x.argmax(1), [distinct(2, 5)]),
    OpRecord("argmin", lambda x: tf.argmin(x, 0), lambda x: x.argmin(0), [distinct(3, 4)]),
]
