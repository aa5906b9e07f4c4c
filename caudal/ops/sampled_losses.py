"""`tf.nn.nce_loss` and `tf.nn.sampled_softmax_loss`, built from public ops as TF builds them:
logits of the true classes and of `num_sampled` sampled classes (by default from the
log-uniform sampler), less the log of their expected counts, then a sigmoid (NCE) or
softmax cross entropy. Weights and biases may be partitioned lists, looked up with
`embedding_lookup`'s `partition_strategy`."""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor

__all__ = ["nce_loss", "sampled_softmax_loss"]


def _compute_sampled_logits(weights: Any, biases: Any, labels: Any, inputs: Any, num_sampled: int,
                            num_classes: int, num_true: int, sampled_values: Any, remove_accidental_hits: bool,
                            partition_strategy: str, seed: int | None) -> tuple[Tensor, Tensor]:
    """`(logits, labels)` of shape [batch, num_true + num_sampled]: true logits first, label
    weight 1/num_true on them and 0 on the sampled ones; as TF's `_compute_sampled_logits`
    with `subtract_log_q=True`."""
    from caudal.ops.array_ops import concat, expand_dims, reshape
    from caudal.ops.candidate_sampling_ops import log_uniform_candidate_sampler
    from caudal.ops.comparison_ops import equal, where
    from caudal.ops.constant_ops import ones_like, zeros_like
    from caudal.ops.control_ops import stop_gradient
    from caudal.ops.math_ops import add, cast, divide, log, matmul, multiply, subtract
    from caudal.ops.nn_ops import embedding_lookup
    from caudal.ops.reduction_ops import reduce_any, reduce_sum

    weights = list(weights) if isinstance(weights, (list, tuple)) else [weights]
    inputs = convert_to_tensor(inputs, name="inputs")
    labels = convert_to_tensor(labels, name="labels")
    if labels.dtype.base_dtype != dtypes_lib.int64:
        labels = cast(labels, dtypes_lib.int64)
    labels_flat = reshape(labels, [-1])
    if sampled_values is None:
        sampled_values = log_uniform_candidate_sampler(labels, num_true, num_sampled, True, num_classes, seed=seed)
    sampled, true_expected_count, sampled_expected_count = (stop_gradient(s) for s in sampled_values)
    sampled = cast(sampled, dtypes_lib.int64)

    def lookup(table: Any) -> tuple[Tensor, Tensor]:
        # TF looks up labels and samples in one call and slices; two lookups give the same values.
        rows = [embedding_lookup(table, ids, partition_strategy=partition_strategy) for ids in (labels_flat, sampled)]
        return tuple(r if r.dtype.base_dtype == inputs.dtype.base_dtype else cast(r, inputs.dtype.base_dtype)
                     for r in rows)

    true_w, sampled_w = lookup(weights)
    true_b, sampled_b = lookup(biases)
    sampled_logits = add(matmul(inputs, sampled_w, transpose_b=True), sampled_b)
    dim = true_w.shape[1].value if true_w.shape[1].value is not None else -1
    true_w = reshape(true_w, [-1, num_true, dim])
    true_logits = reduce_sum(multiply(expand_dims(inputs, 1), true_w), 2)
    true_logits = add(true_logits, reshape(true_b, [-1, num_true]))
    if remove_accidental_hits:
        # TF adds -FLT_MAX to a sampled logit wherever the sampled class is one of the row's
        # labels; of a class sampled more than once, only at its last position (as TF's
        # ComputeAccidentalHits, which maps each class to the last position it was sampled at).
        from caudal.ops.comparison_ops import logical_and, logical_not

        hits = reduce_any(equal(expand_dims(labels, 2), reshape(sampled, [1, 1, -1])), 1)
        later = np.triu(np.ones((num_sampled, num_sampled), bool), 1)  # [j, k]: k after j
        repeated_later = reduce_any(logical_and(equal(expand_dims(sampled, 1), expand_dims(sampled, 0)), later), 1)
        hits = logical_and(hits, expand_dims(logical_not(repeated_later), 0))
        sampled_logits = add(sampled_logits, where(hits, -np.finfo(np.float32).max * ones_like(sampled_logits),
                                                   zeros_like(sampled_logits)))
    true_logits = subtract(true_logits, log(cast(true_expected_count, true_logits.dtype.base_dtype)))
    sampled_logits = subtract(sampled_logits, log(cast(sampled_expected_count, sampled_logits.dtype.base_dtype)))
    out_logits = concat([true_logits, sampled_logits], 1)
    out_labels = concat([divide(ones_like(true_logits), float(num_true)), zeros_like(sampled_logits)], 1)
    return out_logits, out_labels


def nce_loss(weights: Any, biases: Any, labels: Any, inputs: Any, num_sampled: int, num_classes: int,
             num_true: int = 1, sampled_values: Any = None, remove_accidental_hits: bool = False,
             partition_strategy: str = "mod", name: str = "nce_loss") -> Tensor:
    """Noise-contrastive estimation loss per example, [batch], as TF1's `tf.nn.nce_loss`."""
    from caudal.ops.nn_loss_ops import sigmoid_cross_entropy_with_logits
    from caudal.ops.reduction_ops import reduce_sum

    with get_default_graph().name_scope(name or "nce_loss"):
        logits, labels = _compute_sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes,
                                                 num_true, sampled_values, remove_accidental_hits,
                                                 partition_strategy, None)
        losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="sampled_losses")
        return reduce_sum(losses, 1)


def sampled_softmax_loss(weights: Any, biases: Any, labels: Any, inputs: Any, num_sampled: int,
                         num_classes: int, num_true: int = 1, sampled_values: Any = None,
                         remove_accidental_hits: bool = True, partition_strategy: str = "mod",
                         name: str = "sampled_softmax_loss", seed: int | None = None) -> Tensor:
    """Softmax cross entropy over the true and sampled classes per example, [batch], as TF1's
    `tf.nn.sampled_softmax_loss`."""
    from caudal.ops.control_ops import stop_gradient
    from caudal.ops.nn_loss_ops import softmax_cross_entropy_with_logits_v2

    with get_default_graph().name_scope(name or "sampled_softmax_loss"):
        logits, labels = _compute_sampled_logits(weights, biases, labels, inputs, num_sampled, num_classes,
                                                 num_true, sampled_values, remove_accidental_hits,
                                                 partition_strategy, seed)
        return softmax_cross_entropy_with_logits_v2(labels=stop_gradient(labels), logits=logits)
