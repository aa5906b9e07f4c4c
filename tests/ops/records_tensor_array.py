"""Records: TensorArray round trips (each checks the ops of both directions and their gradients); the
per-run resource ops that a record cannot show are tested in tests/test_tensor_array.py.

The arrays declare their element shape: what a TensorArray learns from its writes lives in Python,
and a GraphDef (in TF as here) keeps only the declared shape, which the round trip through
import_graph_def must preserve (tests/test_graph_def.py). A fixed-size `stack()` would know its
first dimension in Python only, so the stacks here are of dynamic-size arrays.
"""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, integers, uniform


def _array(x, size, **kwargs):
    return tf.TensorArray(x.dtype, size=size, element_shape=x.shape[1:], **kwargs)


def _write_read(x, y):
    ta = tf.TensorArray(x.dtype, size=2, element_shape=x.shape).write(0, x).write(1, y)
    return ta.read(1) * 3.0 + ta.read(0)


RECORDS = [
    OpRecord("tensor_array_unstack_stack", lambda x: _array(x, 0, dynamic_size=True).unstack(x).stack(),
             lambda x: x, [uniform(3, 2)], static_full=False),
    OpRecord("tensor_array_unstack_stack_int32", lambda x: _array(x, 1, dynamic_size=True).unstack(x).stack(),
             lambda x: x, [integers(4)], static_full=False),
    OpRecord("tensor_array_write_read", _write_read, lambda x, y: y * 3.0 + x, [uniform(2, 3), uniform(2, 3)]),
    OpRecord("tensor_array_scatter_gather", lambda x: _array(x, 4).scatter([3, 0, 2, 1], x).gather([1, 2, 3]),
             lambda x: x[[3, 2, 0]], [uniform(4, 2, dtype=np.float64)]),
    # The gradient takes the value's static shape, which no shape rule can give back after an import
    # (the concat of the gradient array): tests/test_tensor_array.py checks it numerically instead.
    OpRecord("tensor_array_split_concat",
             lambda x: tf.TensorArray(x.dtype, size=2, infer_shape=False).split(x, [1, 3]).concat(),
             lambda x: x, [uniform(4, 2)], static_full=False, grad=False),
    OpRecord("tensor_array_size", lambda x: tf.TensorArray(x.dtype, size=1, dynamic_size=True).unstack(x).size(),
             lambda x: np.int32(len(x)), [uniform(5)]),
]

COVERED_ELSEWHERE = {
    "TensorArrayGradV3": "tests/test_tensor_array.py (gradient arrays, and every gradient test)",
    "TensorArrayGradWithShape": "tests/test_tensor_array.py::test_grad_with_shape_prepends_the_shape",
    "TensorArrayCloseV3": "tests/test_tensor_array.py::test_a_closed_array_refuses_every_use",
    "StackV2": "tests/test_tensor_array.py (stacks) and tests/test_loop_fixtures.py (TF's gradient loop)",
    "StackPushV2": "tests/test_tensor_array.py (stacks) and tests/test_loop_fixtures.py",
    "StackPopV2": "tests/test_tensor_array.py (stacks) and tests/test_loop_fixtures.py",
    "StackCloseV2": "tests/test_tensor_array.py::test_stack_errors",
    "ControlTrigger": "tests/test_tensor_array.py::test_control_trigger and tests/test_loop_fixtures.py",
}
