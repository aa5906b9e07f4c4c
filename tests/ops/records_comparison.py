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
