"""Records: elementwise special math (trigonometry, erf, gamma functions, rounding, NaN tests)."""
import math

import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, away_from_zero, integers, positive, uniform

_EULER_GAMMA = 0.5772156649015329


def _stdlib(fn):
    """A NumPy reference from a scalar function of Python's math module, computed in float64."""
    return lambda x: np.vectorize(lambda v: fn(float(v)), otypes=[np.float64])(x).astype(x.dtype)


def _digamma(x):
    """-gamma + sum_n (1/(n+1) - 1/(n+x)), with the tail from N on summed in closed form."""
    n = np.arange(100000, dtype=np.float64)[:, None]
    v = x.astype(np.float64).reshape(-1)
    total = -_EULER_GAMMA + np.sum(1 / (n + 1) - 1 / (n + v), axis=0)
    tail = np.log((n.size + v - 0.5) / (n.size + 0.5))
    return (total + tail).reshape(x.shape).astype(x.dtype)


def _polygamma(a, x):
    """(-1)^(a+1) a! sum_n (n+x)^-(a+1), plus the integral of the tail."""
    n = np.arange(100000, dtype=np.float64)[:, None]
    a64, v = (np.broadcast_to(t, np.broadcast_shapes(a.shape, x.shape)).astype(np.float64).reshape(-1)
              for t in (a, x))
    total = np.sum((n + v) ** -(a64 + 1), axis=0) + (n.size + v - 0.5) ** -a64 / a64
    factorial = np.array([math.factorial(int(k)) for k in a64])
    out = (-1) ** (a64 + 1) * factorial * total
    return out.reshape(np.broadcast_shapes(a.shape, x.shape)).astype(x.dtype)


def _round_half_even(x):
    return np.round(x)


RECORDS = [
    OpRecord("reciprocal", tf.reciprocal, lambda x: (1 / x).astype(x.dtype), [away_from_zero(3, 2)]),
    OpRecord("log1p", tf.log1p, np.log1p, [positive(3, 2, low=-0.5, high=2.0)]),
    OpRecord("expm1", tf.expm1, np.expm1, [uniform(3, 2)]),
    OpRecord("sin", tf.sin, np.sin, [uniform(3, 2, low=-4, high=4)]),
    OpRecord("cos", tf.cos, np.cos, [uniform(3, 2, low=-4, high=4)]),
    OpRecord("tan", tf.tan, np.tan, [uniform(3, 2, low=-1.2, high=1.2)]),
    OpRecord("asin", tf.asin, np.arcsin, [uniform(4, low=-0.9, high=0.9)]),
    OpRecord("acos", tf.acos, np.arccos, [uniform(4, low=-0.9, high=0.9)]),
    OpRecord("atan", tf.atan, np.arctan, [uniform(4, low=-3, high=3)]),
    OpRecord("atan2", tf.atan2, np.arctan2, [uniform(2, 3), away_from_zero(2, 3)]),
    OpRecord("atan2_broadcast", tf.atan2, np.arctan2, [uniform(2, 3), away_from_zero(3)]),
    OpRecord("sinh", tf.sinh, np.sinh, [uniform(3, 2)]),
    OpRecord("cosh", tf.cosh, np.cosh, [uniform(3, 2)]),
    OpRecord("sin_float64", tf.sin, np.sin, [uniform(5, dtype=np.float64)]),
    OpRecord("erf", tf.erf, _stdlib(math.erf), [uniform(3, 4, low=-3, high=3)]),
    OpRecord("erf_float64_tails", tf.erf, _stdlib(math.erf),
             [np.array([-40.0, -6.0, -2.6, -2.5, -1e-8, 0.0, 1e-300, 0.3, 2.4, 2.51, 5.0, 30.0])],
             rtol=1e-15, atol=0, grad=False),
    OpRecord("lgamma", tf.lgamma, _stdlib(math.lgamma), [uniform(3, 4, low=0.1, high=8)]),
    OpRecord("lgamma_negative", tf.lgamma, _stdlib(math.lgamma), [uniform(6, low=-4.9, high=-0.1)],
             grad_tol=1e-3),
    OpRecord("lgamma_float64", tf.lgamma, _stdlib(math.lgamma),
             [np.array([-7.5, -2.5, -0.5, 1e-8, 0.5, 1.0 - 1e-9, 1.5, 2.0 + 1e-9, 3.7, 25.0, 1e5, 1e250])],
             rtol=1e-13, atol=1e-15, grad=False),
    OpRecord("digamma", tf.digamma, _digamma, [uniform(3, 4, low=0.2, high=9)], rtol=1e-5),
    OpRecord("digamma_float64", tf.digamma, _digamma,
             [np.array([-3.5, -0.25, 0.01, 0.7, 1.0, 2.5, 9.9, 10.1, 60.0])], rtol=1e-10, grad=False),
    OpRecord("polygamma", tf.polygamma, _polygamma,
             [np.array([1.0, 2.0, 3.0, 1.0], np.float64), uniform(3, 4, low=0.5, high=5, dtype=np.float64)],
             rtol=1e-8, grad=(1,)),
    OpRecord("floor", tf.floor, np.floor, [uniform(3, 4, low=-5, high=5)], grad=False),
    OpRecord("ceil", tf.ceil, np.ceil, [uniform(3, 4, low=-5, high=5)], grad=False),
    OpRecord("round_half_to_even", tf.round, _round_half_even,
             [np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4999, 3.7], np.float32)], grad=False),
    OpRecord("rint", tf.rint, np.rint, [np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.4999, 3.7])], grad=False),
    OpRecord("is_nan", tf.is_nan, np.isnan, [np.array([1.0, np.nan, np.inf, -np.inf], np.float32)]),
    OpRecord("is_inf", tf.is_inf, np.isinf, [np.array([1.0, np.nan, np.inf, -np.inf], np.float32)]),
    OpRecord("is_finite", tf.is_finite, np.isfinite, [np.array([1.0, np.nan, np.inf, -np.inf])]),
    OpRecord("squared_difference", tf.squared_difference, lambda x, y: np.square(x - y),
             [uniform(2, 3), uniform(3)]),
    OpRecord("squared_difference_int64", tf.squared_difference, lambda x, y: np.square(x - y),
             [integers(4, dtype=np.int64), integers(4, dtype=np.int64)]),
    OpRecord("math_namespace", lambda x: tf.math.log1p(tf.math.sin(x)), lambda x: np.log1p(np.sin(x)),
             [uniform(4, low=0.1, high=1.0)]),
]
