"""Random ops: RandomUniform, RandomUniformInt, RandomStandardNormal, TruncatedNormal.

Each op draws from its own stream per session, seeded from the op's
`(seed, seed2)` attrs (see `caudal.framework.random_seed`): a new session
repeats the numbers, successive runs in one session continue the stream.
The streams are NumPy Philox generators, so the numbers differ from TF's.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.random_seed import op_seed_attrs
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.ops import _rules

__all__ = ["random_uniform", "random_normal", "truncated_normal"]


def _random_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _rules.INDEX, "shape")
    return [(_rules.attr_dtype(ctx, "dtype"), ctx.shape_value(0))]


def _dims(shape: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in np.reshape(shape, -1))


def _float_draw(values: np.ndarray, dtype: dtypes_lib.DType) -> np.ndarray:
    return values.astype(dtype.as_numpy_dtype, copy=False)


def _uniform_kernel(ctx: Any, shape: Any, *, dtype: dtypes_lib.DType, op: Any) -> Any:
    draw_type = np.float64 if dtype is dtypes_lib.float64 else np.float32
    return _float_draw(ctx.generator(op).random(_dims(shape), dtype=draw_type), dtype)


def _normal_kernel(ctx: Any, shape: Any, *, dtype: dtypes_lib.DType, op: Any) -> Any:
    draw_type = np.float64 if dtype is dtypes_lib.float64 else np.float32
    return _float_draw(ctx.generator(op).standard_normal(_dims(shape), dtype=draw_type), dtype)


def _truncated_normal_kernel(ctx: Any, shape: Any, *, dtype: dtypes_lib.DType, op: Any) -> Any:
    """Standard normal values, redrawn until they fall within two standard deviations."""
    generator = ctx.generator(op)
    dims = _dims(shape)
    draw_type = np.float64 if dtype is dtypes_lib.float64 else np.float32
    values = generator.standard_normal(dims, dtype=draw_type)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = generator.standard_normal(int(outside.sum()), dtype=draw_type)
        outside = np.abs(values) > 2
    return _float_draw(values, dtype)


def _uniform_int_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _rules.INDEX, "shape")
    dtype = _rules.check_same_dtype(ctx, (1, 2), ("minval", "maxval"))
    return [(dtype, ctx.shape_value(0))]


def _uniform_int_kernel(ctx: Any, shape: Any, minval: Any, maxval: Any, *, op: Any) -> Any:
    if not minval < maxval:
        from caudal.errors import InvalidArgumentError

        raise InvalidArgumentError(None, op, f"Need minval < maxval, got {minval} >= {maxval}")
    dtype = np.asarray(minval).dtype
    return ctx.generator(op).integers(minval, maxval, _dims(shape), dtype=dtype)


for _type, _kernel in (("RandomUniform", _uniform_kernel), ("RandomStandardNormal", _normal_kernel),
                       ("TruncatedNormal", _truncated_normal_kernel)):
    register_op(_type, infer=_random_infer, kernel=_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("RandomUniformInt", infer=_uniform_int_infer, kernel=_uniform_int_kernel,
            grad=NOT_DIFFERENTIABLE, stateful=True)


def _shape_tensor(shape: Any) -> Tensor:
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    return convert_to_tensor(shape, dtype_hint=dtypes_lib.int32, name="shape")


def random_uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = dtypes_lib.float32,
                   seed: int | None = None, name: str | None = None) -> Tensor:
    """Uniform values in [minval, maxval); maxval defaults to 1 for floats."""
    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    if dtype.is_integer and maxval is None:
        raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
    if maxval is None:
        maxval = 1
    with get_default_graph().name_scope(name or "random_uniform") as scope:
        shape_t = _shape_tensor(shape)
        minval_t = convert_to_tensor(minval, dtype=dtype, name="min")
        maxval_t = convert_to_tensor(maxval, dtype=dtype, name="max")
        seeds = op_seed_attrs(seed)
        if dtype.is_integer:
            return apply_op("RandomUniformInt", [shape_t, minval_t, maxval_t],
                            dict(seeds, Tout=dtype, T=shape_t.dtype), scope[:-1] + "/")
        from caudal.ops.math_ops import add, multiply, subtract

        rnd = apply_op("RandomUniform", [shape_t], dict(seeds, dtype=dtype, T=shape_t.dtype), "RandomUniform")
        return add(multiply(rnd, subtract(maxval_t, minval_t)), minval_t, name=scope[:-1] + "/")


def random_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes_lib.float32,
                  seed: int | None = None, name: str | None = None) -> Tensor:
    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    with get_default_graph().name_scope(name or "random_normal") as scope:
        shape_t = _shape_tensor(shape)
        mean_t = convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev_t = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        from caudal.ops.math_ops import add, multiply

        rnd = apply_op("RandomStandardNormal", [shape_t], dict(op_seed_attrs(seed), dtype=dtype, T=shape_t.dtype),
                       "RandomStandardNormal")
        return add(multiply(rnd, stddev_t), mean_t, name=scope[:-1] + "/")


def truncated_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes_lib.float32,
                     seed: int | None = None, name: str | None = None) -> Tensor:
    """Normal values, redrawn when more than two standard deviations from the mean."""
    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    with get_default_graph().name_scope(name or "truncated_normal") as scope:
        shape_t = _shape_tensor(shape)
        mean_t = convert_to_tensor(mean, dtype=dtype, name="mean")
        stddev_t = convert_to_tensor(stddev, dtype=dtype, name="stddev")
        from caudal.ops.math_ops import add, multiply

        rnd = apply_op("TruncatedNormal", [shape_t], dict(op_seed_attrs(seed), dtype=dtype, T=shape_t.dtype),
                       "TruncatedNormal")
        return add(multiply(rnd, stddev_t), mean_t, name=scope[:-1] + "/")
