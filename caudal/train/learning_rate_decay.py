"""TF1's learning-rate schedules (`tf.train.exponential_decay`, ...), as graph tensors of the global step.

Each returns a scalar Tensor that follows `global_step` (a Variable or a
Tensor) when evaluated; it is computed in the dtype of `learning_rate`, as TF
does. `global_step=None` is a ValueError naming the schedule.
"""
from __future__ import annotations

import math
from typing import Any

from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import name_scope
from caudal.framework.tensor import Tensor
from caudal.ops.special_math_ops import ceil, cos, floor

__all__ = ["exponential_decay", "piecewise_constant", "piecewise_constant_decay", "polynomial_decay",
           "natural_exp_decay", "inverse_time_decay", "cosine_decay", "cosine_decay_restarts",
           "linear_cosine_decay"]


def _require_step(global_step: Any, schedule: str) -> None:
    if global_step is None:
        raise ValueError(f"global_step is required for {schedule}.")


def _common(learning_rate: Any, global_step: Any, decay_steps: Any) -> tuple[Tensor, Any, Tensor, Tensor]:
    from caudal.ops.math_ops import cast

    lr = convert_to_tensor(learning_rate, name="learning_rate")
    dtype = lr.dtype.base_dtype
    return lr, dtype, cast(global_step, dtype), cast(decay_steps, dtype)


def exponential_decay(learning_rate: Any, global_step: Any, decay_steps: Any, decay_rate: Any,
                      staircase: bool = False, name: str | None = None) -> Tensor:
    """learning_rate * decay_rate ^ (global_step / decay_steps); the exponent is floored when `staircase`."""
    from caudal.ops.math_ops import cast, multiply, pow

    _require_step(global_step, "exponential_decay")
    with name_scope(name, "ExponentialDecay", [learning_rate, global_step, decay_steps, decay_rate]) as scope:
        lr, dtype, step, steps = _common(learning_rate, global_step, decay_steps)
        p = step / steps
        if staircase:
            p = floor(p)
        return multiply(lr, pow(cast(decay_rate, dtype), p), name=scope)


def natural_exp_decay(learning_rate: Any, global_step: Any, decay_steps: Any, decay_rate: Any,
                      staircase: bool = False, name: str | None = None) -> Tensor:
    """learning_rate * exp(-decay_rate * global_step / decay_steps) (floored exponent when `staircase`)."""
    from caudal.ops.math_ops import cast, exp, multiply, negative, pow

    _require_step(global_step, "natural_exp_decay")
    with name_scope(name, "NaturalExpDecay", [learning_rate, global_step, decay_rate]) as scope:
        lr, dtype, step, steps = _common(learning_rate, global_step, decay_steps)
        p = step / steps
        if staircase:
            p = floor(p)
        return multiply(lr, pow(exp(negative(cast(decay_rate, dtype))), p), name=scope)


def inverse_time_decay(learning_rate: Any, global_step: Any, decay_steps: Any, decay_rate: Any,
                       staircase: bool = False, name: str | None = None) -> Tensor:
    """learning_rate / (1 + decay_rate * global_step / decay_steps) (floored ratio when `staircase`)."""
    from caudal.ops.math_ops import add, cast, divide, multiply

    _require_step(global_step, "inverse_time_decay")
    with name_scope(name, "InverseTimeDecay", [learning_rate, global_step, decay_rate]) as scope:
        lr, dtype, step, steps = _common(learning_rate, global_step, decay_steps)
        p = step / steps
        if staircase:
            p = floor(p)
        denominator = add(convert_to_tensor(1, dtype=dtype), multiply(cast(decay_rate, dtype), p))
        return divide(lr, denominator, name=scope)


def polynomial_decay(learning_rate: Any, global_step: Any, decay_steps: Any, end_learning_rate: Any = 0.0001,
                     power: Any = 1.0, cycle: bool = False, name: str | None = None) -> Tensor:
    """(lr - end) * (1 - step / decay_steps) ^ power + end, with step capped at decay_steps.

    With `cycle`, decay_steps is instead multiplied by ceil(step / decay_steps) (1 at step 0).
    """
    from caudal.ops.comparison_ops import equal, where
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.math_ops import add, cast, minimum, multiply, pow, subtract

    _require_step(global_step, "polynomial_decay")
    with name_scope(name, "PolynomialDecay", [learning_rate, global_step, decay_steps, end_learning_rate,
                                              power]) as scope:
        lr, dtype, step, steps = _common(learning_rate, global_step, decay_steps)
        end = cast(end_learning_rate, dtype)
        power_t = cast(power, dtype)
        if cycle:
            ratio = ceil(step / steps)
            multiplier = where(equal(step, 0), ones_like(ratio), ratio)
            steps = multiply(steps, multiplier)
        else:
            step = minimum(step, steps)
        p = step / steps
        return add(multiply(subtract(lr, end), pow(1 - p, power_t)), end, name=scope)


def piecewise_constant(x: Any, boundaries: list[Any], values: list[Any], name: str | None = None) -> Tensor:
    """values[0] while x <= boundaries[0], values[i] while boundaries[i-1] < x <= boundaries[i], then values[-1].

    Built from comparisons and selects. Boundaries take x's dtype; values must share one dtype.
    """
    from caudal.ops.comparison_ops import less_equal, where

    if len(boundaries) != len(values) - 1:
        raise ValueError("The length of boundaries should be 1 less than the length of values")
    with name_scope(name, "PiecewiseConstant", [x] + list(boundaries) + list(values)) as scope:
        x = convert_to_tensor(x)
        boundary_tensors = [_boundary(b, x) for b in boundaries]
        value_tensors = [convert_to_tensor(v) for v in values]
        dtype = value_tensors[0].dtype.base_dtype
        for v in value_tensors[1:]:
            if v.dtype.base_dtype != dtype:
                raise ValueError(f"Values must have elements all with the same dtype ({dtype} vs "
                                 f"{v.dtype.base_dtype}).")
        result = value_tensors[-1]
        for i in reversed(range(len(boundary_tensors))):
            last = i == 0
            result = where(less_equal(x, boundary_tensors[i]), value_tensors[i], result,
                           name=scope if last else None)
        if not boundary_tensors:
            from caudal.ops.control_ops import identity

            result = identity(result, name=scope)
        return result


piecewise_constant_decay = piecewise_constant


def _boundary(boundary: Any, x: Tensor) -> Tensor:
    """A boundary in x's dtype; a Tensor boundary of another dtype is cast, as TF does for int32/int64."""
    from caudal.ops.math_ops import cast

    dtype = x.dtype.base_dtype
    if isinstance(boundary, Tensor):
        if boundary.dtype.base_dtype != dtype:
            if not (boundary.dtype.is_integer and dtype.is_integer):
                raise ValueError(f"Boundaries ({boundary.dtype.base_dtype}) must have the same dtype as x "
                                 f"({dtype}).")
            boundary = cast(boundary, dtype)
        return boundary
    return convert_to_tensor(boundary, dtype=dtype)


def cosine_decay(learning_rate: Any, global_step: Any, decay_steps: Any, alpha: Any = 0.0,
                 name: str | None = None) -> Tensor:
    """learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)."""
    from caudal.ops.math_ops import cast, minimum, multiply

    _require_step(global_step, "cosine decay")
    with name_scope(name, "CosineDecay", [learning_rate, global_step]) as scope:
        lr, dtype, step, steps = _common(learning_rate, global_step, decay_steps)
        fraction = minimum(step, steps) / steps
        cosine = 0.5 * (1.0 + cos(math.pi * fraction))
        alpha_t = cast(alpha, dtype)
        return multiply(lr, (1 - alpha_t) * cosine + alpha_t, name=scope)


def cosine_decay_restarts(learning_rate: Any, global_step: Any, first_decay_steps: Any, t_mul: Any = 2.0,
                          m_mul: Any = 1.0, alpha: Any = 0.0, name: str | None = None) -> Tensor:
    """SGDR (Loshchilov & Hutter): cosine decay that restarts, each period t_mul times longer and the
    restart peak m_mul times lower."""
    from caudal.ops.comparison_ops import equal, where
    from caudal.ops.math_ops import cast, log, multiply, pow

    _require_step(global_step, "cosine decay restarts")
    with name_scope(name, "SGDRDecay", [learning_rate, global_step]) as scope:
        lr, dtype, step, steps = _common(learning_rate, global_step, first_decay_steps)
        alpha_t, t_mul_t, m_mul_t = cast(alpha, dtype), cast(t_mul, dtype), cast(m_mul, dtype)
        fraction = step / steps

        def plain() -> tuple[Tensor, Tensor]:
            restarts = floor(fraction)
            return restarts, fraction - restarts

        def geometric() -> tuple[Tensor, Tensor]:
            restarts = floor(log(1.0 - fraction * (1.0 - t_mul_t)) / log(t_mul_t))
            done = (1.0 - pow(t_mul_t, restarts)) / (1.0 - t_mul_t)
            return restarts, (fraction - done) / pow(t_mul_t, restarts)

        if isinstance(t_mul, Tensor):
            is_plain = equal(t_mul_t, 1.0)
            (r1, f1), (r2, f2) = plain(), geometric()
            restarts, within = where(is_plain, r1, r2), where(is_plain, f1, f2)
        elif float(t_mul) == 1.0:
            restarts, within = plain()
        else:
            restarts, within = geometric()
        cosine = 0.5 * pow(m_mul_t, restarts) * (1.0 + cos(math.pi * within))
        return multiply(lr, (1 - alpha_t) * cosine + alpha_t, name=scope)


def linear_cosine_decay(learning_rate: Any, global_step: Any, decay_steps: Any, num_periods: Any = 0.5,
                        alpha: Any = 0.0, beta: Any = 0.001, name: str | None = None) -> Tensor:
    """learning_rate * ((alpha + linear) * 0.5 * (1 + cos(2 pi num_periods step / decay_steps)) + beta),
    linear = (decay_steps - step) / decay_steps, step capped at decay_steps."""
    from caudal.ops.math_ops import cast, minimum, multiply

    _require_step(global_step, "linear cosine decay")
    with name_scope(name, "LinearCosineDecay", [learning_rate, global_step]) as scope:
        lr, dtype, step, steps = _common(learning_rate, global_step, decay_steps)
        step = minimum(step, steps)
        linear = (steps - step) / steps
        fraction = 2.0 * cast(num_periods, dtype) * (step / steps)
        cosine = 0.5 * (1.0 + cos(math.pi * fraction))
        return multiply(lr, (cast(alpha, dtype) + linear) * cosine + cast(beta, dtype), name=scope)
