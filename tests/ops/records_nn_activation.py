"""Records: relu6, elu, selu, softplus, softsign, leaky_relu, crelu, swish, and their fused
backward ops (checked through tf.gradients, so the numeric check covers second derivatives)."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, away_from_zero, integers, uniform

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _relu6_inputs(rng):
    """Values away from both kinks (0 and 6)."""
    return rng.choice([-1.7, -0.6, 0.4, 1.9, 3.3, 5.2, 6.9, 8.1], (3, 4)).astype(np.float32) \
        + rng.uniform(-0.05, 0.05, (3, 4)).astype(np.float32)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0))).astype(x.dtype)


def _selu(x):
    return (SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))).astype(x.dtype)


def _backward(fn):
    """dy through `fn`'s gradient: builds the op's fused backward op from tf.gradients."""
    def build(x, dy):
        return tf.gradients(fn(x), x, grad_ys=dy)[0]

    return build


def _leaky(x, alpha=0.2):
    return np.where(x > 0, x, alpha * x).astype(x.dtype)


RECORDS = [
    OpRecord("relu6", tf.nn.relu6, lambda x: np.clip(x, 0, 6), [_relu6_inputs]),
    OpRecord("relu6_int32", tf.nn.relu6, lambda x: np.clip(x, 0, 6), [integers(5, low=-3, high=10)]),
    OpRecord("relu6_grad", _backward(tf.nn.relu6), lambda x, dy: dy * ((x > 0) & (x < 6)),
             [_relu6_inputs, uniform(3, 4)]),
    OpRecord("elu", tf.nn.elu, _elu, [uniform(3, 4)]),
    OpRecord("elu_grad", _backward(tf.nn.elu), lambda x, dy: dy * np.where(x > 0, 1, np.exp(x)).astype(x.dtype),
             [away_from_zero(3, 4), uniform(3, 4)]),
    OpRecord("selu", tf.nn.selu, _selu, [away_from_zero(3, 4)]),
    OpRecord("selu_grad", _backward(tf.nn.selu),
             lambda x, dy: (dy * SELU_SCALE * np.where(x > 0, 1, SELU_ALPHA * np.exp(x))).astype(x.dtype),
             [away_from_zero(3, 4), uniform(3, 4)]),
    OpRecord("softplus", tf.nn.softplus, lambda x: np.log1p(np.exp(x)), [uniform(3, 4, low=-5, high=5)]),
    OpRecord("softplus_large", tf.nn.softplus, lambda x: np.logaddexp(x, 0).astype(x.dtype),
             [np.array([-100.0, -20.0, 0.0, 20.0, 100.0], np.float32)], grad=False),
    OpRecord("softplus_grad", _backward(tf.nn.softplus), lambda x, dy: dy * _sigmoid(x),
             [uniform(3, 4), uniform(3, 4)]),
    OpRecord("softsign", tf.nn.softsign, lambda x: x / (1 + np.abs(x)), [uniform(3, 4)]),
    OpRecord("softsign_grad", _backward(tf.nn.softsign), lambda x, dy: dy / (1 + np.abs(x)) ** 2,
             [away_from_zero(3, 4), uniform(3, 4)]),
    OpRecord("leaky_relu", tf.nn.leaky_relu, _leaky, [away_from_zero(3, 4)]),
    OpRecord("leaky_relu_alpha", lambda x: tf.nn.leaky_relu(x, alpha=0.01), lambda x: _leaky(x, 0.01),
             [away_from_zero(2, 5, dtype=np.float64)]),
    OpRecord("leaky_relu_int_to_float32", tf.nn.leaky_relu, lambda x: _leaky(x.astype(np.float32)),
             [np.array([-5, 0, 3], np.int32)]),
    OpRecord("leaky_relu_grad", _backward(lambda x: tf.nn.leaky_relu(x, alpha=0.3)),
             lambda x, dy: dy * np.where(x > 0, 1, 0.3).astype(x.dtype), [away_from_zero(3, 4), uniform(3, 4)]),
    OpRecord("crelu", tf.nn.crelu, lambda x: np.maximum(np.concatenate([x, -x], -1), 0), [away_from_zero(2, 3)]),
    OpRecord("crelu_axis0", lambda x: tf.nn.crelu(x, axis=0), lambda x: np.maximum(np.concatenate([x, -x], 0), 0),
             [away_from_zero(2, 3)]),
    OpRecord("swish", tf.nn.swish, lambda x: x * _sigmoid(x), [uniform(3, 4)]),
    OpRecord("swish_beta", lambda x: tf.nn.swish(x, beta=2.0), lambda x: x * _sigmoid(2 * x), [uniform(3, 4)]),
    OpRecord("silu", tf.nn.silu, lambda x: x * _sigmoid(x), [uniform(5)]),
]
