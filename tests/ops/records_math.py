"""Records: elementwise arithmetic, AddN, Cast, MatMul and BatchMatMul."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, away_from_zero, integers, positive, uniform


def _sigmoid(x):
    return (1 / (1 + np.exp(-x.astype(np.float64)))).astype(x.dtype)


RECORDS = [
    OpRecord("add", tf.add, np.add, [uniform(3, 4), uniform(3, 4)]),
    OpRecord("add_broadcast_row", tf.add, np.add, [uniform(3, 4), uniform(4)]),
    OpRecord("add_broadcast_both", tf.add, np.add, [uniform(3, 1), uniform(1, 4)]),
    OpRecord("add_int32", tf.add, np.add, [integers(5), integers(5)]),
    OpRecord("add_float64", tf.add, np.add, [uniform(2, 3, dtype=np.float64), uniform(2, 3, dtype=np.float64)]),
    OpRecord("subtract", tf.subtract, np.subtract, [uniform(2, 3), uniform(3)]),
    OpRecord("multiply", tf.multiply, np.multiply, [uniform(2, 3), uniform(2, 1)]),
    OpRecord("multiply_scalar", tf.multiply, np.multiply, [uniform(2, 3), uniform()]),
    OpRecord("divide", tf.divide, np.true_divide, [uniform(2, 3), away_from_zero(3)]),
    OpRecord("realdiv", tf.realdiv, np.true_divide, [uniform(4), away_from_zero(4)]),
    OpRecord("truediv_int32_gives_float64", tf.truediv, lambda x, y: np.true_divide(x, y),
             [integers(4, low=1), integers(4, low=1, high=6)]),
    OpRecord("floordiv_int", tf.floordiv, np.floor_divide, [integers(6), integers(6, low=1, high=4)]),
    OpRecord("floordiv_float", tf.floordiv, np.floor_divide, [uniform(6), away_from_zero(6)], grad=False),
    OpRecord("floormod_int", tf.floormod, np.mod, [integers(6), integers(6, low=1, high=4)]),
    OpRecord("floormod_float", tf.floormod, np.mod, [uniform(6), positive(6)], grad=(0,)),
    OpRecord("pow", tf.pow, np.power, [positive(2, 3), uniform(2, 3)]),
    OpRecord("pow_int", tf.pow, np.power, [integers(4, low=0), integers(4, low=0, high=3)]),
    OpRecord("maximum", tf.maximum, np.maximum, [uniform(3, 4), uniform(3, 4)]),
    OpRecord("maximum_broadcast", tf.maximum, np.maximum, [uniform(3, 4), uniform(4)]),
    OpRecord("minimum", tf.minimum, np.minimum, [uniform(3, 4), uniform(3, 1)]),
    OpRecord("negative", tf.negative, np.negative, [uniform(3, 2)]),
    OpRecord("negative_int", tf.negative, np.negative, [integers(3)]),
    OpRecord("abs", tf.abs, np.abs, [away_from_zero(3, 2)]),
    OpRecord("sign", tf.sign, np.sign, [away_from_zero(5)]),
    OpRecord("square", tf.square, np.square, [uniform(3, 2)]),
    OpRecord("sqrt", tf.sqrt, np.sqrt, [positive(3, 2)]),
    OpRecord("rsqrt", tf.rsqrt, lambda x: (1 / np.sqrt(x)).astype(x.dtype), [positive(3, 2)]),
    OpRecord("exp", tf.exp, np.exp, [uniform(3, 2)]),
    OpRecord("log", tf.log, np.log, [positive(3, 2)]),
    OpRecord("sigmoid", tf.sigmoid, _sigmoid, [uniform(3, 2, low=-30, high=30)]),
    OpRecord("tanh", tf.tanh, np.tanh, [uniform(3, 2)]),
    OpRecord("add_n", lambda a, b, c: tf.add_n([a, b, c]), lambda a, b, c: a + b + c,
             [uniform(2, 3), uniform(2, 3), uniform(2, 3)]),
    OpRecord("cast_float_to_int", lambda x: tf.cast(x, tf.int32), lambda x: x.astype(np.int32), [uniform(5)]),
    OpRecord("cast_int_to_float", lambda x: tf.cast(x, tf.float32), lambda x: x.astype(np.float32),
             [integers(5)]),
    OpRecord("cast_bool_to_float", lambda x: tf.cast(x, tf.float32), lambda x: x.astype(np.float32),
             [np.array([True, False, True])]),
    OpRecord("cast_float32_to_float64", lambda x: tf.cast(x, tf.float64), lambda x: x.astype(np.float64),
             [uniform(4)]),
    OpRecord("matmul", tf.matmul, np.matmul, [uniform(3, 4), uniform(4, 2)]),
    OpRecord("matmul_transpose_a", lambda a, b: tf.matmul(a, b, transpose_a=True), lambda a, b: a.T @ b,
             [uniform(4, 3), uniform(4, 2)]),
    OpRecord("matmul_transpose_b", lambda a, b: tf.matmul(a, b, transpose_b=True), lambda a, b: a @ b.T,
             [uniform(3, 4), uniform(2, 4)]),
    OpRecord("matmul_transpose_both", lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
             lambda a, b: a.T @ b.T, [uniform(4, 3), uniform(2, 4)]),
    OpRecord("matmul_int32", tf.matmul, np.matmul, [integers(2, 3), integers(3, 2)]),
    OpRecord("batch_matmul", tf.matmul, np.matmul, [uniform(2, 3, 4), uniform(2, 4, 5)], dynamic=False),
    OpRecord("batch_matmul_broadcast", tf.matmul, np.matmul, [uniform(2, 3, 4), uniform(4, 5)], dynamic=False),
    OpRecord("batch_matmul_adjoint", lambda a, b: tf.matmul(a, b, transpose_a=True, transpose_b=True),
             lambda a, b: np.swapaxes(a, -1, -2) @ np.swapaxes(b, -1, -2), [uniform(2, 4, 3), uniform(2, 5, 4)],
             dynamic=False),
]
