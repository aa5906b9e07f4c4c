"""`tf.contrib.losses` (TF 1.15, also `slim.losses`): the pre-tf.losses signatures, predictions or logits first.

Each loss is tf.losses' (same values, reduction SUM_BY_NONZERO_WEIGHTS, added
to the LOSSES collection) with contrib's argument order, e.g.
`softmax_cross_entropy(logits, onehot_labels, weights, label_smoothing, scope)`.
`hinge_loss` returns the unreduced per-element loss, as contrib's does.
"""
from __future__ import annotations

from typing import Any

from caudal.framework.tensor import Tensor
from caudal.ops import losses_impl
from caudal.ops.losses_impl import add_loss, get_losses, get_regularization_losses

__all__ = ["absolute_difference", "add_loss", "compute_weighted_loss", "cosine_distance", "get_losses",
           "get_regularization_losses", "get_total_loss", "hinge_loss", "log_loss", "mean_squared_error",
           "sigmoid_cross_entropy", "softmax_cross_entropy", "sparse_softmax_cross_entropy"]


def compute_weighted_loss(losses: Any, weights: Any = 1.0, scope: str | None = None) -> Tensor:
    """sum(losses * weights) / (number of non-zero weights), added to LOSSES."""
    return losses_impl.compute_weighted_loss(losses, weights, scope=scope)


def absolute_difference(predictions: Any, labels: Any = None, weights: Any = 1.0, scope: str | None = None) -> Tensor:
    return losses_impl.absolute_difference(labels, predictions, weights, scope=scope)


def mean_squared_error(predictions: Any, labels: Any = None, weights: Any = 1.0, scope: str | None = None) -> Tensor:
    return losses_impl.mean_squared_error(labels, predictions, weights, scope=scope)


def log_loss(predictions: Any, labels: Any = None, weights: Any = 1.0, epsilon: float = 1e-7,
             scope: str | None = None) -> Tensor:
    return losses_impl.log_loss(labels, predictions, weights, epsilon=epsilon, scope=scope)


def cosine_distance(predictions: Any, labels: Any = None, axis: int | None = None, weights: Any = 1.0,
                    scope: str | None = None, dim: int | None = None) -> Tensor:
    """1 - sum(predictions * labels) over `axis` (or the deprecated `dim`), weighted and reduced."""
    if axis is None:
        axis = dim
    if axis is None:
        raise ValueError("You must specify 'axis'.")
    return losses_impl.cosine_distance(labels, predictions, axis=axis, weights=weights, scope=scope)


def softmax_cross_entropy(logits: Any, onehot_labels: Any, weights: Any = 1.0, label_smoothing: float = 0,
                          scope: str | None = None) -> Tensor:
    return losses_impl.softmax_cross_entropy(onehot_labels, logits, weights, label_smoothing, scope=scope)


def sparse_softmax_cross_entropy(logits: Any, labels: Any, weights: Any = 1.0, scope: str | None = None) -> Tensor:
    return losses_impl.sparse_softmax_cross_entropy(labels, logits, weights, scope=scope)


def sigmoid_cross_entropy(logits: Any, multi_class_labels: Any, weights: Any = 1.0, label_smoothing: float = 0,
                          scope: str | None = None) -> Tensor:
    return losses_impl.sigmoid_cross_entropy(multi_class_labels, logits, weights, label_smoothing, scope=scope)


def hinge_loss(logits: Any, labels: Any = None, scope: str | None = None) -> Tensor:
    """relu(1 - (2 * labels - 1) * logits) per element, labels in {0, 1}; not reduced, not collected."""
    from caudal.framework.convert import convert_to_tensor
    from caudal.framework.graph import name_scope
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.math_ops import cast, multiply, subtract
    from caudal.ops.nn_ops import relu

    with name_scope(scope, "hinge_loss", [logits, labels]):
        logits = convert_to_tensor(logits)
        labels = convert_to_tensor(labels)
        logits.get_shape().assert_is_compatible_with(labels.get_shape())
        labels = cast(labels, logits.dtype.base_dtype)
        all_ones = ones_like(labels)
        labels = subtract(2 * labels, all_ones)
        return relu(subtract(all_ones, multiply(labels, logits)))


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss") -> Tensor:
    """add_n of the LOSSES (and REGULARIZATION_LOSSES) collections."""
    return losses_impl.get_total_loss(add_regularization_losses, name=name)

