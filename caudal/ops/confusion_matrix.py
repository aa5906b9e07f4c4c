"""`tf.math.confusion_matrix` and `remove_squeezable_dimensions`, as TF builds them.

The matrix is a ScatterNd of ones (or weights) at [label, prediction] pairs, after TF's checks:
no negative labels or predictions, and both below `num_classes` when it is given (build-time
InvalidArgumentError for known values, an Assert otherwise).
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import name_scope
from caudal.framework.tensor import Tensor

__all__ = ["confusion_matrix", "remove_squeezable_dimensions"]


def remove_squeezable_dimensions(labels: Any, predictions: Any, expected_rank_diff: int = 0,
                                 name: str | None = None) -> tuple[Tensor, Tensor]:
    """Squeezes the last dimension of `predictions` (or `labels`) when rank(predictions) -
    rank(labels) is `expected_rank_diff` + 1 (or - 1) and that dimension may be 1. With static
    ranks this is decided now; otherwise with `tf.cond` on the run-time ranks, as in TF."""
    from caudal.ops.array_ops import rank, squeeze
    from caudal.ops.comparison_ops import equal
    from caudal.ops.cond_ops import cond

    with name_scope(name, "remove_squeezable_dimensions", [labels, predictions]):
        predictions = convert_to_tensor(predictions)
        labels = convert_to_tensor(labels)
        predictions_shape, labels_shape = predictions.shape, labels.shape
        predictions_rank, labels_rank = predictions_shape.ndims, labels_shape.ndims
        if labels_rank is not None and predictions_rank is not None:
            rank_diff = predictions_rank - labels_rank
            if rank_diff == expected_rank_diff + 1 and predictions_shape.dims[-1].is_compatible_with(1):
                predictions = squeeze(predictions, [-1])
            elif rank_diff == expected_rank_diff - 1 and labels_shape.dims[-1].is_compatible_with(1):
                labels = squeeze(labels, [-1])
            return labels, predictions

        rank_diff_t = rank(predictions) - rank(labels)
        if predictions_rank is None or predictions_shape.dims[-1].is_compatible_with(1):
            unsqueezed_predictions = predictions
            predictions = cond(equal(expected_rank_diff + 1, rank_diff_t),
                               lambda: squeeze(unsqueezed_predictions, [-1]), lambda: unsqueezed_predictions)
        if labels_rank is None or labels_shape.dims[-1].is_compatible_with(1):
            unsqueezed_labels = labels
            labels = cond(equal(expected_rank_diff - 1, rank_diff_t),
                          lambda: squeeze(unsqueezed_labels, [-1]), lambda: unsqueezed_labels)
        return labels, predictions


def confusion_matrix(labels: Any, predictions: Any, num_classes: Any = None, weights: Any = None,
                     dtype: Any = dtypes_lib.int32, name: str | None = None) -> Tensor:
    """The [num_classes, num_classes] matrix whose [i, j] entry sums the weights (default 1) of the
    examples with label i and prediction j; `num_classes` defaults to max(labels, predictions) + 1."""
    from caudal.ops.array_ops import stack
    from caudal.ops.check_ops import assert_less, assert_non_negative
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.control_ops import with_dependencies
    from caudal.ops.index_ops import scatter_nd
    from caudal.ops.math_ops import cast, maximum
    from caudal.ops.reduction_ops import reduce_max

    dtype = dtypes_lib.as_dtype(dtype)
    with name_scope(name, "confusion_matrix", [predictions, labels, num_classes, weights]):
        labels, predictions = remove_squeezable_dimensions(convert_to_tensor(labels, name="labels"),
                                                           convert_to_tensor(predictions, name="predictions"))
        predictions = cast(predictions, dtypes_lib.int64)
        labels = cast(labels, dtypes_lib.int64)
        labels = with_dependencies([assert_non_negative(labels, message="`labels` contains negative values")],
                                   labels)
        predictions = with_dependencies(
            [assert_non_negative(predictions, message="`predictions` contains negative values")], predictions)
        if num_classes is None:
            num_classes = maximum(reduce_max(predictions), reduce_max(labels)) + 1
        else:
            num_classes_int64 = cast(num_classes, dtypes_lib.int64)
            labels = with_dependencies(
                [assert_less(labels, num_classes_int64, message="`labels` out of bound")], labels)
            predictions = with_dependencies(
                [assert_less(predictions, num_classes_int64, message="`predictions` out of bound")], predictions)
        if weights is not None:
            weights = convert_to_tensor(weights, name="weights")
            predictions.shape.assert_is_compatible_with(weights.shape)
            weights = cast(weights, dtype)
        shape = stack([num_classes, num_classes])
        indices = stack([labels, predictions], axis=1)
        values = ones_like(predictions, dtype) if weights is None else weights
        return scatter_nd(indices=indices, updates=values, shape=cast(shape, dtypes_lib.int64))
