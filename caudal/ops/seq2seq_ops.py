"""`tf.contrib.seq2seq.sequence_loss`: the weighted cross-entropy of a sequence of logits, built
from public ops (SparseSoftmaxCrossEntropyWithLogits, Sum, Cast(NotEqual)) with contrib 1.15's
reductions: weighted averages divide by the summed weights, the `sum_over_*` flags divide by the
number of non-zero weights, and a zero divisor gives 0 (TF's div_no_nan).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor

__all__ = ["sequence_loss"]


def _rank(t: Tensor) -> int:
    if t.shape.ndims is None:
        raise ValueError("Cannot take the length of shape with unknown rank.")
    return t.shape.ndims


def _div_no_nan(numerator: Tensor, denominator: Tensor) -> Tensor:
    from caudal.ops.comparison_ops import not_equal, where
    from caudal.ops.constant_ops import ones_like, zeros_like
    from caudal.ops.math_ops import realdiv

    nonzero = not_equal(denominator, zeros_like(denominator))
    quotient = realdiv(numerator, where(nonzero, denominator, ones_like(denominator)))
    return where(nonzero, quotient, zeros_like(quotient))


def sequence_loss(logits: Any, targets: Any, weights: Any, average_across_timesteps: bool = True,
                  average_across_batch: bool = True, sum_over_timesteps: bool = False, sum_over_batch: bool = False,
                  softmax_loss_function: Callable[..., Tensor] | None = None, name: str | None = None) -> Tensor:
    """Cross-entropy of `logits` [batch, time, classes] against int `targets` [batch, time], weighted by
    `weights` [batch, time] and reduced over the batch and/or time axes as the flags say (rank 0, 1 or 2)."""
    from caudal.nn import sparse_softmax_cross_entropy_with_logits
    from caudal.ops.array_ops import reshape, shape
    from caudal.ops.math_ops import cast, multiply
    from caudal.ops.reduction_extra_ops import count_nonzero
    from caudal.ops.reduction_ops import reduce_sum

    logits = convert_to_tensor(logits, name="logits")
    targets = convert_to_tensor(targets, name="targets")
    weights = convert_to_tensor(weights, name="weights")
    if _rank(logits) != 3:
        raise ValueError("Logits must be a [batch_size x sequence_length x logits] tensor")
    if _rank(targets) != 2:
        raise ValueError("Targets must be a [batch_size x sequence_length] tensor")
    if _rank(weights) != 2:
        raise ValueError("Weights must be a [batch_size x sequence_length] tensor")
    if average_across_timesteps and sum_over_timesteps:
        raise ValueError("average_across_timesteps and sum_over_timesteps cannot be set to True at same time.")
    if average_across_batch and sum_over_batch:
        raise ValueError("average_across_batch and sum_over_batch cannot be set to True at same time.")
    with get_default_graph().name_scope(name or "sequence_loss"):
        num_classes = shape(logits)[2]
        logits_flat = reshape(logits, [-1, num_classes])
        flat_targets = reshape(targets, [-1])
        loss_fn = softmax_loss_function or sparse_softmax_cross_entropy_with_logits
        crossent = loss_fn(labels=flat_targets, logits=logits_flat)
        crossent = multiply(crossent, reshape(weights, [-1]))
        if average_across_timesteps and average_across_batch:
            return _div_no_nan(reduce_sum(crossent), reduce_sum(weights))
        if sum_over_timesteps and sum_over_batch:
            return _div_no_nan(reduce_sum(crossent), cast(count_nonzero(weights), crossent.dtype))
        crossent = reshape(crossent, shape(logits)[0:2])
        if average_across_timesteps or average_across_batch:
            axis = [0] if average_across_batch else [1]
            return _div_no_nan(reduce_sum(crossent, axis=axis), reduce_sum(weights, axis=axis))
        if sum_over_timesteps or sum_over_batch:
            axis = [0] if sum_over_batch else [1]
            return _div_no_nan(reduce_sum(crossent, axis=axis),
                               cast(count_nonzero(weights, axis=axis), crossent.dtype))
        return crossent
