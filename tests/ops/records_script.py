"""Records: PyFunc and PyFuncStateless (errors, strings, threads and folding are in
tests/test_py_func.py)."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord

RECORDS = [
    OpRecord("py_func_square", lambda x: tf.py_func(np.square, [x], tf.float32), np.square,
             [np.arange(6, dtype=np.float32).reshape(2, 3)], static_full=False, grad=False),
    OpRecord("py_func_stateless_two_outputs",
             lambda x, y: tf.py_func(lambda a, b: (a + b, a * b), [x, y], [tf.int64, tf.int64], stateful=False),
             lambda x, y: (x + y, x * y), [np.array([1, 2, 3]), np.array([4, 5, 6])], static_full=False),
]
