"""Records: comparisons, logical ops and both forms of where."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, booleans, integers, uniform

RECORDS = [
    OpRecord("equal", tf.equal, np.equal, [integers(6, low=0, high=3), integers(6, low=0, high=3)]),
    OpRecord("not_equal", tf.not_equal, np.not_equal, [integers(6, low=0, high=3), integers(6, low=0, high=3)]),
    OpRecord("equal_strings", tf.equal, np.equal,
             [np.array([b"a", b"b"], dtype=object), np.array([b"a", b"c"], dtype=object)], dynamic=False),
    OpRecord("less", tf.less, np.less, [uniform(2, 3), uniform(2, 3)]),
    OpRecord("less_equal", tf.less_equal, np.less_equal, [integers(5), integers(5)]),
    OpRecord("greater", tf.greater, np.greater, [uniform(2, 3), uniform(3)]),
    OpRecord("greater_equal", tf.greater_equal, np.greater_equal, [integers(5), integers(5)]),
    OpRecord("logical_and", tf.logical_and, np.logical_and, [booleans(6), booleans(6)]),
    OpRecord("logical_or", tf.logical_or, np.logical_or, [booleans(6), booleans(6)]),
    OpRecord("logical_not", tf.logical_not, np.logical_not, [booleans(6)]),
    OpRecord("logical_xor", tf.logical_xor, np.logical_xor, [booleans(6), booleans(6)]),
    OpRecord("where_select", tf.where, np.where, [booleans(3, 4), uniform(3, 4), uniform(3, 4)]),
    OpRecord("where_select_vector_condition", tf.where, lambda c, x, y: np.where(c[:, None], x, y),
             [booleans(3), uniform(3, 4), uniform(3, 4)]),
    OpRecord("where_v2_broadcast", tf.where_v2, np.where, [booleans(3, 1), uniform(3, 4), uniform(4)]),
    OpRecord("where_coordinates", tf.where, lambda c: np.argwhere(c).astype(np.int64),
             [np.array([[True, False], [False, True], [True, True]])], static_full=False),
]

RECORDS += [
    OpRecord("where_v2_against_scalar_zero", lambda c, x: tf.where_v2(c, x, 0.0), lambda c, x: np.where(c, x, 0),
             [booleans(3, 4), uniform(3, 4)]),
    OpRecord("where_v2_zero_first", lambda c, y: tf.where_v2(c, 0.0, y), lambda c, y: np.where(c, 0, y),
             [booleans(3, 4), uniform(3, 4)]),
    OpRecord("where_v2_scalar_zero_with_inf_and_nan", lambda c, x: tf.where_v2(c, x, 0.0),
             lambda c, x: np.where(c, x, np.float32(0)),
             [np.array([True, False, False, True]), np.array([1.0, np.inf, np.nan, -2.0], np.float32)], grad=False),
    OpRecord("where_v2_scalar_zero_with_kept_inf_and_nan", lambda c, x: tf.where_v2(c, x, 0.0),
             lambda c, x: np.where(c, x, np.float32(0)),
             [np.array([[True, False], [True, True]]), np.array([[np.inf, 3.0], [np.nan, -np.inf]], np.float32)],
             grad=False),
    OpRecord("where_v2_zero_first_with_dropped_inf", lambda c, y: tf.where_v2(c, 0.0, y),
             lambda c, y: np.where(c, np.float64(0), y),
             [np.array([True, False, True]), np.array([-np.inf, 2.0, np.nan])], grad=False),
]
