"""Candidate samplers: LogUniformCandidateSampler and UniformCandidateSampler, as in TF.

Each draws `num_sampled` classes in [0, range_max) from its op's random stream
(`ctx.random_stream(op)`, seeded by the op's `(seed, seed2)` attrs as every
random op is), and returns, as TF does, the expected number of times each true
class and each sampled class would be drawn:

- `unique=False`: `num_sampled` independent draws, expected count `p * num_sampled`;
- `unique=True`: draws repeat until `num_sampled` distinct classes came up after
  `num_tries` draws, expected count `1 - (1 - p) ** num_tries`.

The log-uniform (Zipfian) sampler draws `k` with probability
`(log(k + 2) - log(k + 1)) / log(range_max + 1)`; the uniform one with `1 / range_max`.
The draws differ from TF's (another generator); the distributions and formulas are TF's.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, make_op
from caudal.framework.random_seed import op_seed_attrs
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules

__all__ = ["compute_accidental_hits", "log_uniform_candidate_sampler", "uniform_candidate_sampler"]


def _sampler_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.int64]), "true_classes")
    true_classes = ctx.shape(0)
    if true_classes.ndims is not None and true_classes.ndims != 2:
        raise ValueError(f"Shape must be rank 2 but is rank {true_classes.ndims}")
    num_true, num_sampled = int(ctx.attrs["num_true"]), int(ctx.attrs["num_sampled"])
    if num_true < 1:
        raise ValueError(f"Value for attr 'num_true' of {num_true} must be at least minimum 1")
    if num_sampled < 1:
        raise ValueError(f"Value for attr 'num_sampled' of {num_sampled} must be at least minimum 1")
    batch = true_classes[0].value if true_classes.ndims == 2 else None
    return [(dtypes_lib.int64, TensorShape([num_sampled])),
            (dtypes_lib.float32, TensorShape([batch, num_true])),
            (dtypes_lib.float32, TensorShape([num_sampled]))]


def _log_uniform_values(xp: Any, draws: Any, range_max: int) -> Any:
    values = xp.floor(xp.exp(draws * np.log1p(range_max)) - 1.0).astype(xp.int64)
    return values % range_max


def _log_uniform_probability(xp: Any, values: Any, range_max: int) -> Any:
    values = values.astype(xp.float64)
    return xp.log((values + 2.0) / (values + 1.0)) / np.log1p(range_max)


def _uniform_values(xp: Any, draws: Any, range_max: int) -> Any:
    return xp.minimum(xp.floor(draws * range_max).astype(xp.int64), range_max - 1)


def _uniform_probability(xp: Any, values: Any, range_max: int) -> Any:
    return xp.full(values.shape, 1.0 / range_max, dtype=xp.float64)


def _sampler_kernel(values_of: Any, probability_of: Any) -> Any:
    def kernel(ctx: Any, true_classes: Any, *, num_true: int, num_sampled: int, unique: bool, range_max: int,
               op: Any) -> tuple[Any, Any, Any]:
        from caudal.errors import InvalidArgumentError

        xp = ctx.xp
        if true_classes.ndim != 2 or true_classes.shape[1] != num_true:
            raise InvalidArgumentError(None, op, f"true_classes must be a matrix with {num_true} columns, "
                                                 f"got shape {list(true_classes.shape)}")
        if range_max < 1:
            raise InvalidArgumentError(None, op, f"range_max must be positive, got {range_max}")
        if unique and num_sampled > range_max:
            raise InvalidArgumentError(None, op, "Sampler's range is too small.")
        outside = (true_classes < 0) | (true_classes >= range_max)
        if xp.any(outside):
            bad = int(true_classes[outside][0])
            raise InvalidArgumentError(None, op, f"`true_candidate` out of range [0, {range_max}), received {bad}")
        stream = ctx.random_stream(op)
        if not unique:
            sampled = values_of(xp, stream.uniform((num_sampled,), np.float64), range_max)
            num_tries = num_sampled
        else:
            # Draws in growing chunks; the sample is the first num_sampled distinct values in
            # draw order, and num_tries the draws it took to meet the last of them.
            values = values_of(xp, stream.uniform((2 * num_sampled,), np.float64), range_max)
            while True:
                _, first = xp.unique(values, return_index=True)
                if first.shape[0] >= num_sampled:
                    break
                more = stream.uniform((values.shape[0],), np.float64)
                values = xp.concatenate([values, values_of(xp, more, range_max)])
            first = xp.sort(first)[:num_sampled]
            sampled, num_tries = values[first], int(first[-1]) + 1

        def expected(p: Any) -> Any:
            if num_tries == num_sampled:
                count = p * num_sampled
            else:
                count = -xp.expm1(num_tries * xp.log1p(-p))
            return count.astype(xp.float32)

        true_expected = expected(probability_of(xp, true_classes, range_max))
        return sampled, true_expected, expected(probability_of(xp, sampled, range_max))
    return kernel


register_op("LogUniformCandidateSampler", infer=_sampler_infer,
            kernel=_sampler_kernel(_log_uniform_values, _log_uniform_probability),
            grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("UniformCandidateSampler", infer=_sampler_infer,
            kernel=_sampler_kernel(_uniform_values, _uniform_probability),
            grad=NOT_DIFFERENTIABLE, stateful=True)


def _sample(op_type: str, true_classes: Any, num_true: int, num_sampled: int, unique: bool, range_max: int,
            seed: int | None, name: str | None) -> tuple[Tensor, Tensor, Tensor]:
    true_t = convert_to_tensor(true_classes, dtype=dtypes_lib.int64, name="true_classes")
    attrs = dict(op_seed_attrs(seed), num_true=int(num_true), num_sampled=int(num_sampled), unique=bool(unique),
                 range_max=int(range_max))
    op = make_op(op_type, [true_t], attrs, name or op_type)
    return tuple(op.outputs)


def log_uniform_candidate_sampler(true_classes: Any, num_true: int, num_sampled: int, unique: bool,
                                  range_max: int, seed: int | None = None,
                                  name: str | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """`(sampled_candidates, true_expected_count, sampled_expected_count)` from the log-uniform
    (Zipfian) distribution over [0, range_max), as TF's `tf.nn.log_uniform_candidate_sampler`."""
    return _sample("LogUniformCandidateSampler", true_classes, num_true, num_sampled, unique, range_max, seed, name)


def uniform_candidate_sampler(true_classes: Any, num_true: int, num_sampled: int, unique: bool, range_max: int,
                              seed: int | None = None, name: str | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """`(sampled_candidates, true_expected_count, sampled_expected_count)` drawn uniformly from
    [0, range_max), as TF's `tf.nn.uniform_candidate_sampler`."""
    return _sample("UniformCandidateSampler", true_classes, num_true, num_sampled, unique, range_max, seed, name)


# ------------------------------------------------------------- ComputeAccidentalHits
def _hits_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.int64]), "true_classes")
    _rules.check_dtype(ctx, 1, frozenset([dtypes_lib.int64]), "sampled_candidates")
    if ctx.shape(0).ndims not in (None, 2):
        raise ValueError(f"Shape must be rank 2 but is rank {ctx.shape(0).ndims}")
    if ctx.shape(1).ndims not in (None, 1):
        raise ValueError(f"Shape must be rank 1 but is rank {ctx.shape(1).ndims}")
    return [(dtypes_lib.int32, TensorShape([None])), (dtypes_lib.int64, TensorShape([None])),
            (dtypes_lib.float32, TensorShape([None]))]


def _hits_kernel(xp: Any, true_classes: Any, sampled: Any, *, num_true: int) -> tuple[Any, Any, Any]:
    """(row, sampled position, -FLT_MAX) for each true class of each row that was sampled, in row
    then true-class order; a class sampled more than once counts at its last position, as in TF."""
    count = sampled.shape[0]
    later = xp.asarray(np.triu(np.ones((count, count), bool), 1))
    is_last = ~xp.any((sampled[:, None] == sampled[None, :]) & later, axis=1)
    hits = (true_classes[:, :, None] == sampled[None, None, :]) & is_last[None, None, :]
    rows, _, positions = xp.nonzero(hits)
    weights = xp.full(rows.shape, -np.finfo(np.float32).max, dtype=xp.float32)
    return rows.astype(xp.int32), positions.astype(xp.int64), weights


register_op("ComputeAccidentalHits", infer=_hits_infer, kernel=_hits_kernel, grad=NOT_DIFFERENTIABLE)


def compute_accidental_hits(true_classes: Any, sampled_candidates: Any, num_true: int, seed: int | None = None,
                            name: str | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """`(indices, ids, weights)`: for each row's true classes that are among the sampled
    candidates, the row, the sampled position and -FLT_MAX, as TF's `tf.nn.compute_accidental_hits`."""
    true_t = convert_to_tensor(true_classes, dtype=dtypes_lib.int64, name="true_classes")
    sampled_t = convert_to_tensor(sampled_candidates, dtype=dtypes_lib.int64, name="sampled_candidates")
    op = make_op("ComputeAccidentalHits", [true_t, sampled_t], dict(op_seed_attrs(seed), num_true=int(num_true)),
                 name or "ComputeAccidentalHits")
    return tuple(op.outputs)
