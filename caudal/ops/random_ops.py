"""Random ops: RandomUniform, RandomUniformInt, RandomStandardNormal, TruncatedNormal,
RandomShuffle and Multinomial, and `random_crop` built from them as in TF.

Each op draws from its own stream per session, seeded from the op's
`(seed, seed2)` attrs (see `caudal.framework.random_seed`): a new session
repeats the numbers, successive runs in one session continue the stream.
The streams are the backend's (`ctx.random_stream(op)`: NumPy PCG64 generators
on NumPy, so the numbers differ from TF's); kernels ask them for primitive
draws only and do the rest (truncation, sampling, dtypes) over `xp`.
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
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules

__all__ = ["random_uniform", "random_normal", "truncated_normal", "random_shuffle", "multinomial",
           "random_crop"]


def _random_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _rules.INDEX, "shape")
    return [(_rules.attr_dtype(ctx, "dtype"), ctx.shape_value(0))]


def _dims(shape: Any) -> tuple[int, ...]:
    return _rules.int_tuple(shape)


def _draw_type(dtype: dtypes_lib.DType) -> Any:
    """The float type a stream draws in for `dtype`: float64 for float64, float32 otherwise."""
    return np.float64 if dtype is dtypes_lib.float64 else np.float32


def _cast(values: Any, dtype: dtypes_lib.DType) -> Any:
    target = dtype.as_numpy_dtype
    return values if values.dtype == target else values.astype(target)


def _uniform_kernel(ctx: Any, shape: Any, *, dtype: dtypes_lib.DType, op: Any) -> Any:
    return _cast(ctx.random_stream(op).uniform(_dims(shape), _draw_type(dtype)), dtype)


def _normal_kernel(ctx: Any, shape: Any, *, dtype: dtypes_lib.DType, op: Any) -> Any:
    return _cast(ctx.random_stream(op).normal(_dims(shape), _draw_type(dtype)), dtype)


def _truncated_normal_kernel(ctx: Any, shape: Any, *, dtype: dtypes_lib.DType, op: Any) -> Any:
    """Standard normal values, redrawn until they fall within two standard deviations.

    Each pass draws one value per value outside and puts the k-th draw at the
    k-th value outside (in row-major order).
    """
    xp = ctx.xp
    stream = ctx.random_stream(op)
    draw_type = _draw_type(dtype)
    values = stream.normal(_dims(shape), draw_type)
    outside = xp.abs(values) > 2
    count = int(xp.sum(outside))
    while count:
        redraws = stream.normal((count,), draw_type)
        slot = xp.clip(xp.cumsum(outside.reshape(-1)) - 1, 0, count - 1)
        values = xp.where(outside, xp.take(redraws, slot).reshape(values.shape), values)
        outside = xp.abs(values) > 2
        count = int(xp.sum(outside))
    return _cast(values, dtype)


def _truncated_normal_numpy(ctx: Any, shape: Any, *, dtype: dtypes_lib.DType, op: Any) -> Any:
    """TruncatedNormal on NumPy: the same draws, put in place in the kernel's own array (the
    portable kernel's full-size slot and selection arrays cost memory when a large weight
    matrix is initialized)."""
    stream = ctx.random_stream(op)
    draw_type = _draw_type(dtype)
    values = stream.normal(_dims(shape), draw_type)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = stream.normal((int(outside.sum()),), draw_type)
        outside = np.abs(values) > 2
    return _cast(values, dtype)


def _uniform_int_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _rules.INDEX, "shape")
    dtype = _rules.check_same_dtype(ctx, (1, 2), ("minval", "maxval"))
    return [(dtype, ctx.shape_value(0))]


def _uniform_int_kernel(ctx: Any, shape: Any, minval: Any, maxval: Any, *, op: Any) -> Any:
    if not minval < maxval:
        from caudal.errors import InvalidArgumentError

        raise InvalidArgumentError(None, op, f"Need minval < maxval, got {minval} >= {maxval}")
    return ctx.random_stream(op).integers(minval, maxval, _dims(shape), ctx.xp.asarray(minval).dtype)


register_op("RandomUniform", infer=_random_infer, kernel=_uniform_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("RandomStandardNormal", infer=_random_infer, kernel=_normal_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)
register_op("TruncatedNormal", infer=_random_infer, kernel=_truncated_normal_kernel,
            variants={"numpy": _truncated_normal_numpy}, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("RandomUniformInt", infer=_uniform_int_infer, kernel=_uniform_int_kernel,
            grad=NOT_DIFFERENTIABLE, stateful=True)


def _shape_tensor(shape: Any) -> Tensor:
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    return convert_to_tensor(shape, dtype_hint=dtypes_lib.int32, name="shape")


def _is_python_number(value: Any, number: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == number


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
        if _is_python_number(minval, 0) and _is_python_number(maxval, 1):
            return rnd  # [0, 1) needs no scaling; TF returns the op's output as it is
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


# ----------------------------------------------------------- RandomShuffle
def _shuffle_kernel(ctx: Any, value: Any, *, op: Any) -> Any:
    if value.ndim == 0:
        return value
    return ctx.xp.take(value, ctx.random_stream(op).permutation(value.shape[0]), axis=0)


register_op("RandomShuffle", infer=_rules.same_as_input(), kernel=_shuffle_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)


def random_shuffle(value: Any, seed: int | None = None, name: str | None = None) -> Tensor:
    """`value` with its slices along the first dimension in a random order."""
    value = convert_to_tensor(value, name="value")
    return apply_op("RandomShuffle", [value], dict(op_seed_attrs(seed), T=value.dtype.base_dtype),
                    name or "RandomShuffle")


# ------------------------------------------------------------- Multinomial
def _multinomial_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _rules.FLOAT, "logits")
    _rules.check_dtype(ctx, 1, frozenset([dtypes_lib.int32]), "num_samples")
    logits = ctx.shape(0)
    if logits.ndims is not None and logits.ndims != 2:
        raise ValueError(f"Shape must be rank 2 but is rank {logits.ndims}")
    if ctx.shape(1).ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {ctx.shape(1).ndims}")
    num = ctx.value(1)
    if num is not None and int(num) < 0:
        raise ValueError(f"Dimension size, given by scalar input 1, must be non-negative but is {int(num)}")
    batch = logits[0].value if logits.ndims == 2 else None
    out_dtype = _rules.attr_dtype(ctx, "output_dtype")
    if out_dtype not in _rules.INDEX:
        raise TypeError(f"Value for attr 'output_dtype' of {out_dtype.name} is not in the list of allowed values: "
                        f"int32, int64")
    return [(out_dtype, TensorShape([batch, None if num is None else int(num)]))]


def _multinomial_kernel(ctx: Any, logits: Any, num_samples: Any, *, output_dtype: Any, op: Any) -> Any:
    """Inverse-CDF sampling of each row's softmax, all rows in one searchsorted."""
    from caudal.errors import InvalidArgumentError

    batch, classes = logits.shape
    num = int(num_samples)
    if num < 0:
        raise InvalidArgumentError(None, op, f"num_samples should be nonnegative, got {num}")
    if classes == 0:
        raise InvalidArgumentError(None, op, f"num_classes should be positive, got {classes}")
    xp = ctx.xp
    values = logits.astype(xp.float64)
    finite_max = xp.max(xp.where(xp.isfinite(values), values, -xp.inf), axis=1, keepdims=True)
    weights = xp.exp(values - xp.where(xp.isfinite(finite_max), finite_max, 0.0))
    cdf = xp.cumsum(weights, axis=1)
    total = cdf[:, -1:]
    cdf = cdf / xp.where(total > 0, total, 1.0)
    draws = ctx.random_stream(op).uniform((batch, num), np.float64)
    # Row r's CDF is shifted to [r, r + 1], so one sorted array serves every row.
    rows = xp.arange(batch, dtype=xp.float64)[:, None]
    shifted_cdf = (cdf + rows).reshape(-1)
    picks = xp.searchsorted(shifted_cdf, (draws + rows).reshape(-1), side="right").reshape(batch, num)
    picks = xp.clip(picks - xp.arange(batch)[:, None] * classes, 0, classes - 1)
    return picks.astype(output_dtype.as_numpy_dtype)


register_op("Multinomial", infer=_multinomial_infer, kernel=_multinomial_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)


def multinomial(logits: Any, num_samples: Any, seed: int | None = None, name: str | None = None,
                output_dtype: Any = None) -> Tensor:
    """`num_samples` class indices per row of the [batch, classes] unnormalized log-probabilities
    `logits`; int64 unless `output_dtype` says otherwise."""
    with get_default_graph().name_scope(name or "multinomial"):
        logits_t = convert_to_tensor(logits, name="logits")
        num_t = convert_to_tensor(num_samples, dtype=dtypes_lib.int32, name="num_samples")
        out_dtype = dtypes_lib.as_dtype(output_dtype or dtypes_lib.int64).base_dtype
        return apply_op("Multinomial", [logits_t, num_t], dict(op_seed_attrs(seed), T=logits_t.dtype.base_dtype,
                                                                output_dtype=out_dtype), "Multinomial")


def categorical(logits: Any, num_samples: Any, dtype: Any = None, seed: int | None = None,
                name: str | None = None) -> Tensor:
    """`tf.random.categorical`: a Multinomial op in a "categorical" scope; `dtype` is int32 or int64
    (the default), anything else a ValueError, as in TF."""
    out_dtype = dtypes_lib.as_dtype(dtype) if dtype else dtypes_lib.int64
    accepted = (dtypes_lib.int32, dtypes_lib.int64)
    if out_dtype not in accepted:
        raise ValueError(f"Argument `dtype` got invalid value {out_dtype}. Accepted dtypes are {accepted}.")
    with get_default_graph().name_scope(name or "categorical"):
        logits_t = convert_to_tensor(logits, name="logits")
        num_t = convert_to_tensor(num_samples, dtype=dtypes_lib.int32, name="num_samples")
        return apply_op("Multinomial", [logits_t, num_t], dict(op_seed_attrs(seed), T=logits_t.dtype.base_dtype,
                                                                output_dtype=out_dtype), "Multinomial")


# ------------------------------------------------------------- random_crop
def random_crop(value: Any, size: Any, seed: int | None = None, name: str | None = None) -> Tensor:
    """A slice of shape `size` of `value` at a uniformly random offset; running it with a `size`
    larger than `value` fails an Assert, as in TF."""
    from caudal.ops.array_ops import shape as shape_of
    from caudal.ops.array_ops import slice as slice_
    from caudal.ops.comparison_ops import greater_equal
    from caudal.ops.cond_ops import Assert
    from caudal.ops.control_ops import with_dependencies
    from caudal.ops.math_ops import add, floormod, subtract
    from caudal.ops.reduction_ops import reduce_all

    with get_default_graph().name_scope(name or "random_crop") as scope:
        value = convert_to_tensor(value, name="value")
        size = convert_to_tensor(size, dtype=dtypes_lib.int32, name="size")
        shape = shape_of(value)
        check = Assert(reduce_all(greater_equal(shape, size)), ["Need value.shape >= size, got ", shape, size],
                       summarize=1000)
        shape = with_dependencies([check], shape)
        limit = add(subtract(shape, size), 1)
        offset = floormod(random_uniform(shape_of(shape), dtype=size.dtype, maxval=size.dtype.max, seed=seed),
                          limit)
        return slice_(value, offset, size, name=scope[:-1] + "/")
