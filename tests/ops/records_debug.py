"""Records: check_numerics and add_check_numerics_ops on finite values (the pass-through case;
a record cannot express the NaN/Inf failure)."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, uniform


def _checked_program(x):
    """A small program, all of whose float outputs get checked before the result is read."""
    y = tf.square(x) + 1.0
    checks = tf.add_check_numerics_ops()
    with tf.control_dependencies([checks]):
        return tf.identity(y)


RECORDS = [
    OpRecord("check_numerics", lambda x: tf.check_numerics(x, "x is finite"), lambda x: x, [uniform(2, 3)]),
    OpRecord("check_numerics_float64", lambda x: tf.check_numerics(x, "m"), lambda x: x,
             [uniform(4, dtype=np.float64)]),
    OpRecord("add_check_numerics_ops", _checked_program, lambda x: np.square(x) + 1.0, [uniform(3)]),
]

COVERED_ELSEWHERE = {"Print": "tests/test_print.py"}
