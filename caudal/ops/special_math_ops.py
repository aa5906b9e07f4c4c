"""Elementwise special math: reciprocal, log1p/expm1, trigonometric and hyperbolic functions,
erf, lgamma/digamma/polygamma, rounding, NaN/Inf tests and SquaredDifference.

Dtypes follow TensorFlow's op definitions (e.g. `Sin` takes floats and complex numbers,
`Erf` and `Lgamma` real floats only, `Round` integers too). erf, lgamma, digamma and
polygamma are computed in float64 by this module's own series, continued fraction and
asymptotic expansions (NumPy has no erf or gamma function), then cast back.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import apply_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.ops import _rules
from caudal.ops._broadcast import sum_to_shape_of
from caudal.ops.math_ops import (
    _binary_operands,
    _unary,
    add,
    exp,
    multiply,
    negative,
    realdiv,
    rsqrt,
    square,
    subtract,
)

__all__ = ["reciprocal", "log1p", "expm1", "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh",
           "cosh", "erf", "lgamma", "digamma", "polygamma", "floor", "ceil", "round", "rint", "is_nan",
           "is_inf", "is_finite", "squared_difference"]

_REAL_FLOAT = frozenset([dtypes_lib.bfloat16, dtypes_lib.float16, dtypes_lib.float32, dtypes_lib.float64])
_FLOAT_COMPLEX = _REAL_FLOAT | frozenset([dtypes_lib.complex64, dtypes_lib.complex128])
_RECIPROCAL = _FLOAT_COMPLEX | frozenset([dtypes_lib.int8, dtypes_lib.int16, dtypes_lib.int32, dtypes_lib.int64])
_SQUARED_DIFFERENCE = _FLOAT_COMPLEX | frozenset([dtypes_lib.int32, dtypes_lib.int64])


# ------------------------------------------------------------ numerics
# The Bernoulli numbers B_2, B_4, ..., B_20.
_B2K = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330]
_EULER_GAMMA = 0.57721566490153286061


def _zeta_minus_one(s: int) -> float:
    """zeta(s) - 1 for integer s >= 2: a partial sum plus its Euler-Maclaurin tail."""
    n = 64
    head = sum(k ** -float(s) for k in range(2, n))
    tail = n ** (1.0 - s) / (s - 1) + 0.5 * n ** -float(s) + s * n ** (-s - 1.0) / 12 \
        - s * (s + 1) * (s + 2) * n ** (-s - 3.0) / 720
    return head + tail


# lgamma(1 + t) = -log1p(t) + (1 - gamma) t + sum_k (-1)^k (zeta(k) - 1) t^k / k, for |t| <= 1/2.
_LGAMMA_NEAR_ONE = [(-1) ** k * _zeta_minus_one(k) / k for k in range(2, 40)]


def _as_float64(xp: Any, x: Any) -> Any:
    return xp.asarray(x, dtype=xp.float64)


def _series_near_one(xp: Any, t: Any) -> Any:
    """lgamma(1 + t) for |t| <= 1/2, accurate relative to the result near the zeros at 1 and 2."""
    acc = xp.zeros_like(t)
    for coefficient in reversed(_LGAMMA_NEAR_ONE):
        acc = (acc + coefficient) * t
    return -xp.log1p(t) + (1 - _EULER_GAMMA) * t + acc * t


def _shift_up(xp: Any, x: Any, threshold: float, steps: int) -> tuple[Any, list[Any]]:
    """x + m with m the number of i < steps with x + i < threshold, and the shifted-over terms x + i."""
    terms = [x + i for i in range(steps)]
    shifted = x + sum(xp.where(term < threshold, 1.0, 0.0) for term in terms)
    return shifted, [xp.where(term < threshold, term, xp.nan) for term in terms]


def _lgamma_large(xp: Any, z: Any) -> Any:
    """Stirling's series for z >= 10."""
    inv = 1.0 / z
    inv2 = inv * inv
    acc = xp.zeros_like(z)
    for k in range(8, 0, -1):
        acc = acc * inv2 + _B2K[k - 1] / (2 * k * (2 * k - 1))
    return (z - 0.5) * xp.log(z) - z + 0.5 * math.log(2 * math.pi) + acc * inv


def _lgamma_positive(xp: Any, x: Any) -> Any:
    """lgamma on x >= 1/2."""
    near_one = _series_near_one(xp, xp.clip(x - 1, -0.5, 0.5))
    near_two = _series_near_one(xp, xp.clip(x - 2, -0.5, 0.5)) + xp.log1p(xp.clip(x - 2, -0.5, 0.5))
    safe = xp.maximum(x, 2.5)
    shifted, terms = _shift_up(xp, safe, 10.0, 8)
    log_terms = sum(xp.where(xp.isnan(t), 0.0, xp.log(xp.where(xp.isnan(t), 1.0, t))) for t in terms)
    large = _lgamma_large(xp, shifted) - log_terms
    return xp.where(x < 1.5, near_one, xp.where(x < 2.5, near_two, large))


def _sin_pi_abs(xp: Any, x: Any) -> Any:
    """|sin(pi x)|, reduced first so that it is exact at integers and accurate for large x."""
    return xp.abs(xp.sin(math.pi * (x - xp.round(x))))


def lgamma_kernel(xp: Any, x: Any) -> Any:
    """log|Gamma(x)|: +inf at the poles (non-positive integers) and at +-inf, like TF."""
    v = _as_float64(xp, x)
    finite = xp.where(xp.isfinite(v), v, 1.0)
    reflected = 1.0 - finite
    positive = _lgamma_positive(xp, xp.where(finite >= 0.5, finite, reflected))
    with np.errstate(divide="ignore"):
        negative_branch = math.log(math.pi) - xp.log(_sin_pi_abs(xp, finite)) - positive
    out = xp.where(finite >= 0.5, positive, negative_branch)
    out = xp.where(xp.isinf(v), xp.inf, xp.where(xp.isnan(v), xp.nan, out))
    return out.astype(x.dtype)


def _digamma_positive(xp: Any, x: Any) -> Any:
    """digamma on x > 0: shifted up to >= 10, then its asymptotic series."""
    shifted, terms = _shift_up(xp, x, 10.0, 10)
    inv2 = 1.0 / shifted / shifted
    acc = xp.zeros_like(x)
    for k in range(8, 0, -1):
        acc = acc * inv2 + _B2K[k - 1] / (2 * k)
    series = xp.log(shifted) - 0.5 / shifted - acc * inv2
    return series - sum(xp.where(xp.isnan(t), 0.0, 1.0 / xp.where(xp.isnan(t), 1.0, t)) for t in terms)


def digamma_kernel(xp: Any, x: Any) -> Any:
    """d/dx lgamma(x): NaN at the poles (non-positive integers) and at -inf, like TF."""
    v = _as_float64(xp, x)
    finite = xp.where(xp.isfinite(v), v, 1.0)
    use_reflection = finite < 0.5
    positive = _digamma_positive(xp, xp.where(use_reflection, 1.0 - finite, finite))
    reduced = finite - xp.round(finite)
    with np.errstate(divide="ignore", invalid="ignore"):
        cot = xp.cos(math.pi * reduced) / xp.sin(math.pi * reduced)
        reflected = positive - math.pi * cot
    out = xp.where(use_reflection, xp.where(reduced == 0, xp.nan, reflected), positive)
    out = xp.where(v == xp.inf, xp.inf, xp.where(xp.isfinite(v), out, xp.nan))
    return out.astype(x.dtype)


def _factorial(xp: Any, n: Any) -> Any:
    return xp.exp(lgamma_kernel(xp, n + 1.0))


def polygamma_kernel(xp: Any, a: Any, x: Any) -> Any:
    """The a-th derivative of digamma, for integer a >= 0 (NaN for other orders, like TF).

    For a >= 1 it is (-1)^(a+1) a! zeta(a+1, x): x is shifted up to >= 20 (so negative
    non-integer x down to about -2000 are covered) and the Hurwitz zeta tail is summed
    by Euler-Maclaurin. Non-positive integer x are poles.
    """
    n = _as_float64(xp, a)
    v = _as_float64(xp, x)
    n, v = xp.broadcast_arrays(n, v)
    valid_order = (n >= 0) & (n == xp.floor(n))
    order = xp.where(valid_order & (n >= 1), n, 1.0)
    finite = xp.where(xp.isfinite(v), v, 1.0)
    lowest = float(xp.min(finite)) if finite.size else 0.0
    steps = int(min(max(20.0 - lowest, 0.0), 2048.0)) + 1
    shifted = finite + steps
    z = xp.where(finite >= 20.0, finite, shifted)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        head = xp.zeros_like(z)
        for i in range(steps):
            term = finite + i
            head = head + xp.where(finite < 20.0, term ** (-order - 1.0), 0.0)
        # zeta(s, z) ~ z^(1-s)/(s-1) + z^-s/2 + sum_k B_2k/(2k)! s(s+1)...(s+2k-2) z^(-s-2k+1)
        s = order + 1.0
        tail = z ** (1.0 - s) / (s - 1.0) + 0.5 * z ** -s
        rising = s
        power = z ** -(s + 1.0)
        for k in range(1, 10):
            tail = tail + _B2K[k - 1] / math.factorial(2 * k) * rising * power
            rising = rising * (s + 2 * k - 1) * (s + 2 * k)
            power = power / (z * z)
        sign = xp.where(order % 2 == 1, 1.0, -1.0)
        value = sign * _factorial(xp, order) * (head + tail)
    pole = (finite <= 0) & (finite == xp.floor(finite))
    value = xp.where(pole, sign * xp.inf, value)
    value = xp.where(v == xp.inf, 0.0, xp.where(xp.isfinite(v), value, xp.nan))
    value = xp.where(finite < -2000.0, xp.nan, value)
    out = xp.where(valid_order, xp.where(n == 0, digamma_kernel(xp, v), value), xp.nan)
    return out.astype(x.dtype)


def _erf_series(xp: Any, x: Any) -> Any:
    """erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (2n+1)!!: positive terms, for |x| <= 2.5."""
    x2 = x * x
    term = x
    total = x
    for n in range(1, 60):
        term = term * (2.0 * x2) / (2 * n + 1)
        total = total + term
    return 2.0 / math.sqrt(math.pi) * xp.exp(-x2) * total


def _erfc_continued_fraction(xp: Any, x: Any) -> Any:
    """erfc(x) for x >= 2.5: exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))."""
    tail = x
    for k in range(60, 0, -1):
        tail = x + (k / 2.0) / tail
    return xp.exp(-x * x) / math.sqrt(math.pi) / tail


def erf_kernel(xp: Any, x: Any) -> Any:
    """The error function; erf(+-inf) = +-1."""
    v = _as_float64(xp, x)
    magnitude = xp.abs(v)
    small = _erf_series(xp, xp.minimum(magnitude, 2.5) * xp.sign(v))
    clipped = xp.clip(magnitude, 2.5, 30.0)
    large = xp.sign(v) * (1.0 - _erfc_continued_fraction(xp, clipped))
    return xp.where(magnitude <= 2.5, small, large).astype(x.dtype)


# ------------------------------------------------------------ op definitions
def _const_like(value: float, x: Tensor) -> Tensor:
    return convert_to_tensor(value, dtype=x.dtype.base_dtype)


def _reciprocal_kernel(xp: Any, x: Any) -> Any:
    if x.dtype.kind in "iu":
        if not xp.all(x):
            from caudal.errors import InvalidArgumentError

            raise InvalidArgumentError(None, None, "Integer division by zero")
        return (1 // x).astype(x.dtype)
    return xp.reciprocal(x)


def _ignoring_fp_errors(fn: Any) -> Any:
    """Wraps a NumPy ufunc-style kernel so that overflow/invalid give inf/NaN silently, as TF does."""

    def kernel(xp: Any, *inputs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(xp, *inputs)

    return kernel


def _unary_def(op_type: str, allowed: frozenset, fn: Any, grad: Any, out_dtype: Any = None) -> None:
    register_op(op_type, infer=_rules.unary(allowed, out_dtype), kernel=_ignoring_fp_errors(fn), grad=grad)


def _grad_times(factor: Any) -> Any:
    """Gradient of y = f(x) as grad * f'(x), with f'(x) built from public ops by `factor(x, y)`."""
    return lambda op, grad: [multiply(grad, factor(op.inputs[0], op.outputs[0]))]


_unary_def("Reciprocal", _RECIPROCAL, _reciprocal_kernel,
           _grad_times(lambda x, y: negative(square(y))))
_unary_def("Log1p", _FLOAT_COMPLEX, lambda xp, x: xp.log1p(x),
           lambda op, grad: [realdiv(grad, add(_const_like(1, op.inputs[0]), op.inputs[0]))])
_unary_def("Expm1", _FLOAT_COMPLEX, lambda xp, x: xp.expm1(x), _grad_times(lambda x, y: exp(x)))
_unary_def("Sin", _FLOAT_COMPLEX, lambda xp, x: xp.sin(x), _grad_times(lambda x, y: cos(x)))
_unary_def("Cos", _FLOAT_COMPLEX, lambda xp, x: xp.cos(x), _grad_times(lambda x, y: negative(sin(x))))
_unary_def("Tan", _FLOAT_COMPLEX, lambda xp, x: xp.tan(x),
           _grad_times(lambda x, y: square(reciprocal(cos(x)))))
_unary_def("Asin", _FLOAT_COMPLEX, lambda xp, x: xp.arcsin(x),
           _grad_times(lambda x, y: rsqrt(subtract(_const_like(1, x), square(x)))))
_unary_def("Acos", _FLOAT_COMPLEX, lambda xp, x: xp.arccos(x),
           _grad_times(lambda x, y: negative(rsqrt(subtract(_const_like(1, x), square(x))))))
_unary_def("Atan", _FLOAT_COMPLEX, lambda xp, x: xp.arctan(x),
           _grad_times(lambda x, y: reciprocal(add(_const_like(1, x), square(x)))))
_unary_def("Sinh", _FLOAT_COMPLEX, lambda xp, x: xp.sinh(x), _grad_times(lambda x, y: cosh(x)))
_unary_def("Cosh", _FLOAT_COMPLEX, lambda xp, x: xp.cosh(x), _grad_times(lambda x, y: sinh(x)))
_unary_def("Erf", _REAL_FLOAT, erf_kernel,
           _grad_times(lambda x, y: multiply(_const_like(2 / math.sqrt(math.pi), x), exp(negative(square(x))))))
_unary_def("Lgamma", _REAL_FLOAT, lgamma_kernel, _grad_times(lambda x, y: digamma(x)))
_unary_def("Digamma", _REAL_FLOAT, digamma_kernel,
           _grad_times(lambda x, y: polygamma(_const_like(1, x), x)))


def _polygamma_infer(ctx: Any) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1), ("a", "x"))
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.float32, dtypes_lib.float64]), "a")
    return [(dtype, _rules.broadcast_shapes(ctx.shape(0), ctx.shape(1)))]


def _polygamma_grad(op: Any, grad: Tensor) -> list:
    """d/dx polygamma(a, x) = polygamma(a + 1, x); `a` gets no gradient, as in TF."""
    a, x = op.inputs
    return [None, sum_to_shape_of(multiply(grad, polygamma(add(a, _const_like(1, a)), x)), x)]


register_op("Polygamma", infer=_polygamma_infer, kernel=_ignoring_fp_errors(polygamma_kernel),
            grad=_polygamma_grad)


# Floor, Ceil, Round and Rint have gradient functions that return None, as in TF.
def _no_gradient(op: Any, grad: Tensor) -> list:
    return [None]


_unary_def("Floor", _REAL_FLOAT, lambda xp, x: xp.floor(x), _no_gradient)
_unary_def("Ceil", _REAL_FLOAT, lambda xp, x: xp.ceil(x), _no_gradient)
_unary_def("Round", _RECIPROCAL, lambda xp, x: xp.round(x), _no_gradient)
_unary_def("Rint", _REAL_FLOAT, lambda xp, x: xp.rint(x), _no_gradient)
_unary_def("IsNan", _REAL_FLOAT, lambda xp, x: xp.isnan(x), NOT_DIFFERENTIABLE, dtypes_lib.bool_)
_unary_def("IsInf", _REAL_FLOAT, lambda xp, x: xp.isinf(x), NOT_DIFFERENTIABLE, dtypes_lib.bool_)
_unary_def("IsFinite", _REAL_FLOAT, lambda xp, x: xp.isfinite(x), NOT_DIFFERENTIABLE, dtypes_lib.bool_)


def _atan2_infer(ctx: Any) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1), ("y", "x"))
    _rules.check_dtype(ctx, 0, _REAL_FLOAT, "y")
    return [(dtype, _rules.broadcast_shapes(ctx.shape(0), ctx.shape(1)))]


def _atan2_grad(op: Any, grad: Tensor) -> list:
    """d atan2(y, x) = (x dy - y dx) / (x^2 + y^2)."""
    y, x = op.inputs
    scale = realdiv(grad, add(square(x), square(y)))
    return [sum_to_shape_of(multiply(scale, x), y), sum_to_shape_of(multiply(scale, negative(y)), x)]


def _squared_difference_grad(op: Any, grad: Tensor) -> list:
    x, y = op.inputs
    gx = multiply(multiply(grad, _const_like(2, x)), subtract(x, y))
    return [sum_to_shape_of(gx, x), sum_to_shape_of(negative(gx), y)]


register_op("Atan2", infer=_atan2_infer, kernel=_ignoring_fp_errors(lambda xp, y, x: xp.arctan2(y, x)),
            grad=_atan2_grad)
register_op("SquaredDifference", infer=_rules.binary(_SQUARED_DIFFERENCE),
            kernel=lambda xp, x, y: xp.square(x - y).astype(x.dtype, copy=False), grad=_squared_difference_grad)


# ------------------------------------------------------------ public wrappers
def reciprocal(x: Any, name: str | None = None) -> Tensor:
    """1 / x elementwise (`tf.reciprocal`, op Reciprocal)."""
    return _unary("Reciprocal", x, name)


def log1p(x: Any, name: str | None = None) -> Tensor:
    """log(1 + x), accurate for small x."""
    return _unary("Log1p", x, name)


def expm1(x: Any, name: str | None = None) -> Tensor:
    """exp(x) - 1, accurate for small x."""
    return _unary("Expm1", x, name)


def sin(x: Any, name: str | None = None) -> Tensor:
    return _unary("Sin", x, name)


def cos(x: Any, name: str | None = None) -> Tensor:
    return _unary("Cos", x, name)


def tan(x: Any, name: str | None = None) -> Tensor:
    return _unary("Tan", x, name)


def asin(x: Any, name: str | None = None) -> Tensor:
    """arcsin; NaN outside [-1, 1], as in TF."""
    return _unary("Asin", x, name)


def acos(x: Any, name: str | None = None) -> Tensor:
    """arccos; NaN outside [-1, 1], as in TF."""
    return _unary("Acos", x, name)


def atan(x: Any, name: str | None = None) -> Tensor:
    return _unary("Atan", x, name)


def atan2(y: Any, x: Any, name: str | None = None) -> Tensor:
    """The angle of the point (x, y), in [-pi, pi]; broadcasts like TF's Atan2."""
    y, x = _binary_operands(y, x, "y", "x")
    return apply_op("Atan2", [y, x], {"T": y.dtype.base_dtype}, name or "Atan2")


def sinh(x: Any, name: str | None = None) -> Tensor:
    return _unary("Sinh", x, name)


def cosh(x: Any, name: str | None = None) -> Tensor:
    return _unary("Cosh", x, name)


def erf(x: Any, name: str | None = None) -> Tensor:
    """The Gauss error function. Unlike TF 2.21's float64 kernel, erf(+-inf) is +-1, not NaN."""
    return _unary("Erf", x, name)


def lgamma(x: Any, name: str | None = None) -> Tensor:
    """log|Gamma(x)|; +inf at non-positive integers and at +-inf, as in TF."""
    return _unary("Lgamma", x, name)


def digamma(x: Any, name: str | None = None) -> Tensor:
    """The derivative of lgamma; NaN at non-positive integers, as in TF."""
    return _unary("Digamma", x, name)


def polygamma(a: Any, x: Any, name: str | None = None) -> Tensor:
    """The a-th derivative of digamma at x; NaN where a is not a non-negative integer, as in TF."""
    a, x = _binary_operands(a, x, "a", "x")
    return apply_op("Polygamma", [a, x], {"T": a.dtype.base_dtype}, name or "Polygamma")


def floor(x: Any, name: str | None = None) -> Tensor:
    """Largest integer not above x, for float dtypes only (TF rejects integers). Gradient: None."""
    return _unary("Floor", x, name)


def ceil(x: Any, name: str | None = None) -> Tensor:
    """Smallest integer not below x, for float dtypes only. Gradient: None."""
    return _unary("Ceil", x, name)


def round(x: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TF's name
    """Rounds half to even. Integer tensors are returned unchanged (no op), as TF does."""
    x = convert_to_tensor(x, name="x")
    if x.dtype.base_dtype.is_integer:
        return x
    return _unary("Round", x, name)


def rint(x: Any, name: str | None = None) -> Tensor:
    """Rounds half to even (op Rint, float dtypes only)."""
    return _unary("Rint", x, name)


def is_nan(x: Any, name: str | None = None) -> Tensor:
    return _unary("IsNan", x, name)


def is_inf(x: Any, name: str | None = None) -> Tensor:
    return _unary("IsInf", x, name)


def is_finite(x: Any, name: str | None = None) -> Tensor:
    return _unary("IsFinite", x, name)


def squared_difference(x: Any, y: Any, name: str | None = None) -> Tensor:
    """(x - y)^2 elementwise, with broadcasting."""
    x, y = _binary_operands(x, y)
    return apply_op("SquaredDifference", [x, y], {"T": x.dtype.base_dtype}, name or "SquaredDifference")

