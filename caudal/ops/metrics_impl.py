"""`tf.metrics` (TF1's streaming metrics): means, accuracy, regression errors, counts, precision,
recall, mean IoU and mean per-class accuracy. The threshold family is in `metrics_confusion.py`,
the top-k family in `metrics_at_k.py`.

Every metric returns `(value, update_op)` as TF builds them: its accumulators are local variables
(collections LOCAL_VARIABLES and METRIC_VARIABLES, not trainable, zeros from
`local_variables_initializer()`) named under the metric's variable scope (`accuracy/total`,
`accuracy/count`, ...); `update_op` adds one batch and yields the metric over everything seen so
far; `value` reads the accumulators. Divisions by a zero count give 0 (TF's div_no_nan). The value reads the
accumulators after the update ops (its reads are built after them), so fetching both in one run
gives the value after this update; TF leaves that order to chance.
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, add_to_collections, control_dependencies
from caudal.framework.tensor import Tensor
from caudal.variable_scope import variable_scope
from caudal.variables import Variable, assign_add

__all__ = ["metric_variable", "mean", "mean_tensor", "accuracy", "mean_absolute_error", "mean_squared_error",
           "root_mean_squared_error", "mean_relative_error", "mean_cosine_distance", "percentage_below",
           "true_positives", "false_positives", "true_negatives", "false_negatives", "precision", "recall",
           "mean_iou", "mean_per_class_accuracy"]


# ------------------------------------------------------------------ helpers
def metric_variable(shape: Any, dtype: Any, validate_shape: bool = True, name: str | None = None) -> Variable:
    """A metric accumulator: a local, non-trainable variable of zeros in LOCAL_VARIABLES and
    METRIC_VARIABLES."""
    from caudal.ops.constant_ops import zeros

    return Variable(lambda: zeros(shape, dtype), trainable=False,
                    collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.METRIC_VARIABLES],
                    validate_shape=validate_shape, name=name)


def div_no_nan(numerator: Any, denominator: Any, name: str | None = None) -> Tensor:
    """numerator / denominator, and 0 where the denominator is 0 (TF's div_no_nan)."""
    from caudal.ops.losses_impl import _safe_div

    return _safe_div(convert_to_tensor(numerator), convert_to_tensor(denominator), name or "div_no_nan")


def collect(collections: Any, value: Any) -> None:
    """Adds `value` to each named collection, when any are given."""
    if collections:
        add_to_collections(collections, value)


def read_variable(variable: Variable, collections: Any = None) -> Tensor:
    """A read of the variable placed here (an Identity of the reference, as TF's replica read): built
    after the update ops, it sees their writes when both are fetched in one run."""
    from caudal.ops.control_ops import identity

    value = identity(convert_to_tensor(variable, as_ref=True))
    collect(collections, value)
    return value


def remove_squeezable_dimensions(predictions: Any, labels: Any, weights: Any) -> tuple[Tensor, Any, Any]:
    """TF's metric squeeze: labels and predictions as `confusion_matrix.remove_squeezable_dimensions`
    leaves them, then weights squeezed or expanded by one trailing dimension to the predictions' rank
    (with `tf.cond` on the run-time ranks when a static rank is unknown)."""
    from caudal.ops.array_ops import expand_dims, rank, squeeze
    from caudal.ops.comparison_ops import equal
    from caudal.ops.cond_ops import cond
    from caudal.ops.confusion_matrix import remove_squeezable_dimensions as squeeze_pair

    predictions = convert_to_tensor(predictions)
    if labels is not None:
        labels, predictions = squeeze_pair(labels, predictions)
        predictions.shape.assert_is_compatible_with(labels.shape)
    if weights is None:
        return predictions, labels, None
    weights = convert_to_tensor(weights)
    weights_shape = weights.shape
    weights_rank = weights_shape.ndims
    if weights_rank == 0:
        return predictions, labels, weights
    predictions_rank = predictions.shape.ndims
    if predictions_rank is not None and weights_rank is not None:
        if weights_rank - predictions_rank == 1:
            weights = squeeze(weights, [-1])
        elif predictions_rank - weights_rank == 1:
            weights = expand_dims(weights, [-1])
        return predictions, labels, weights

    weights_rank_t = rank(weights)
    rank_diff = weights_rank_t - rank(predictions)
    original = weights

    def maybe_expand() -> Tensor:
        return cond(equal(rank_diff, -1), lambda: expand_dims(original, [-1]), lambda: original)

    if weights_rank is not None and not weights_shape.dims[-1].is_compatible_with(1):
        def maybe_squeeze() -> Tensor:
            return original
    else:
        def maybe_squeeze() -> Tensor:
            return squeeze(original, [-1])

    def maybe_adjust() -> Tensor:
        return cond(equal(rank_diff, 1), maybe_squeeze, maybe_expand)

    weights = cond(equal(weights_rank_t, 0), lambda: original, maybe_adjust)
    return predictions, labels, weights


# ------------------------------------------------------------------ means
def mean(values: Any, weights: Any = None, metrics_collections: Any = None, updates_collections: Any = None,
         name: str | None = None) -> tuple[Tensor, Tensor]:
    """The (weighted) mean of every value seen: accumulators `total` and `count` (float32); with
    weights, values * weights summed over the sum of the broadcast weights."""
    from caudal.ops.array_ops import size
    from caudal.ops.math_ops import cast, maximum, multiply
    from caudal.ops.reduction_ops import reduce_sum
    from caudal.ops.weights_broadcast_ops import broadcast_weights

    with variable_scope(name, "mean", [values, weights]):
        values = cast(values, dtypes_lib.float32)
        total = metric_variable([], dtypes_lib.float32, name="total")
        count = metric_variable([], dtypes_lib.float32, name="count")
        if weights is None:
            num_values = cast(size(values), dtypes_lib.float32)
        else:
            values, _, weights = remove_squeezable_dimensions(values, None, weights)
            weights = broadcast_weights(cast(weights, dtypes_lib.float32), values)
            values = multiply(values, weights)
            num_values = reduce_sum(weights)
        update_total = assign_add(total, reduce_sum(values))
        with control_dependencies([values]):
            update_count = assign_add(count, num_values)
        value = div_no_nan(read_variable(total), maximum(read_variable(count), 0.0), name="value")
        collect(metrics_collections, value)
        update_op = div_no_nan(update_total, maximum(update_count, 0.0), name="update_op")
        collect(updates_collections, update_op)
        return value, update_op


def mean_tensor(values: Any, weights: Any = None, metrics_collections: Any = None, updates_collections: Any = None,
                name: str | None = None) -> tuple[Tensor, Tensor]:
    """The element-wise (weighted) mean over batches: accumulators `total_tensor` and `count_tensor`
    of the values' static shape, which must be fully known."""
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.math_ops import cast, maximum, multiply
    from caudal.ops.weights_broadcast_ops import broadcast_weights

    with variable_scope(name, "mean", [values, weights]):
        values = cast(values, dtypes_lib.float32)
        if not values.shape.is_fully_defined():
            raise ValueError(f"Cannot convert a partially known TensorShape {values.shape} to a Tensor.")
        total = metric_variable(values.shape, dtypes_lib.float32, name="total_tensor")
        count = metric_variable(values.shape, dtypes_lib.float32, name="count_tensor")
        num_values = ones_like(values)
        if weights is not None:
            values, _, weights = remove_squeezable_dimensions(values, None, weights)
            weights = broadcast_weights(cast(weights, dtypes_lib.float32), values)
            values = multiply(values, weights)
            num_values = multiply(num_values, weights)
        update_total = assign_add(total, values)
        with control_dependencies([values]):
            update_count = assign_add(count, num_values)
        value = div_no_nan(read_variable(total), maximum(read_variable(count), 0.0), name="value")
        collect(metrics_collections, value)
        update_op = div_no_nan(update_total, maximum(update_count, 0.0), name="update_op")
        collect(updates_collections, update_op)
        return value, update_op


def accuracy(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
             updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """How often predictions equal labels: the mean of `predictions == labels` (predictions cast to
    the labels' dtype), accumulators `accuracy/total` and `accuracy/count`."""
    from caudal.ops.comparison_ops import equal
    from caudal.ops.math_ops import cast

    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    predictions.shape.assert_is_compatible_with(labels.shape)
    if labels.dtype.base_dtype != predictions.dtype.base_dtype:
        predictions = cast(predictions, labels.dtype.base_dtype)
    is_correct = cast(equal(predictions, labels), dtypes_lib.float32)
    return mean(is_correct, weights, metrics_collections, updates_collections, name or "accuracy")


def mean_absolute_error(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
                        updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The mean of |predictions - labels|."""
    from caudal.ops.math_ops import abs as abs_

    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    errors = abs_(predictions - labels)
    return mean(errors, weights, metrics_collections, updates_collections, name or "mean_absolute_error")


def mean_squared_error(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
                       updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The mean of (labels - predictions)^2."""
    from caudal.ops.special_math_ops import squared_difference

    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    errors = squared_difference(labels, predictions)
    return mean(errors, weights, metrics_collections, updates_collections, name or "mean_squared_error")


def root_mean_squared_error(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
                            updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The square root of `mean_squared_error`, whose accumulators it uses."""
    from caudal.ops.math_ops import sqrt

    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    mse, update_mse = mean_squared_error(labels, predictions, weights, None, None, name or "root_mean_squared_error")
    rmse = sqrt(mse)
    collect(metrics_collections, rmse)
    update_rmse = sqrt(update_mse)
    collect(updates_collections, update_rmse)
    return rmse, update_rmse


def mean_relative_error(labels: Any, predictions: Any, normalizer: Any, weights: Any = None,
                        metrics_collections: Any = None, updates_collections: Any = None,
                        name: str | None = None) -> tuple[Tensor, Tensor]:
    """The mean of |labels - predictions| / normalizer, counting 0 where the normalizer is 0."""
    from caudal.ops.comparison_ops import equal, where
    from caudal.ops.confusion_matrix import remove_squeezable_dimensions as squeeze_pair
    from caudal.ops.constant_ops import zeros_like
    from caudal.ops.math_ops import abs as abs_
    from caudal.ops.math_ops import divide

    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    predictions, normalizer = squeeze_pair(predictions, normalizer)
    predictions.shape.assert_is_compatible_with(normalizer.shape)
    relative_errors = where(equal(normalizer, 0.0), zeros_like(labels), divide(abs_(labels - predictions), normalizer))
    return mean(relative_errors, weights, metrics_collections, updates_collections, name or "mean_relative_error")


def mean_cosine_distance(labels: Any, predictions: Any, dim: int, weights: Any = None,
                         metrics_collections: Any = None, updates_collections: Any = None,
                         name: str | None = None) -> tuple[Tensor, Tensor]:
    """1 - the mean over batches of sum(predictions * labels) along `dim` (inputs assumed
    unit-normalised)."""
    from caudal.ops.math_ops import multiply, subtract
    from caudal.ops.reduction_ops import reduce_sum

    predictions, labels, weights = remove_squeezable_dimensions(predictions, labels, weights)
    radial_diffs = reduce_sum(multiply(predictions, labels), axis=[dim], keepdims=True)
    mean_distance, update_op = mean(radial_diffs, weights, None, None, name or "mean_cosine_distance")
    mean_distance = subtract(1.0, mean_distance)
    update_op = subtract(1.0, update_op)
    collect(metrics_collections, mean_distance)
    collect(updates_collections, update_op)
    return mean_distance, update_op


def percentage_below(values: Any, threshold: Any, weights: Any = None, metrics_collections: Any = None,
                     updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The (weighted) fraction of values below `threshold`."""
    from caudal.ops.comparison_ops import less
    from caudal.ops.math_ops import cast

    is_below = cast(less(values, threshold), dtypes_lib.float32)
    return mean(is_below, weights, metrics_collections, updates_collections, name or "percentage_below_threshold")


# ------------------------------------------------------------------ counts
def _count_condition(values: Tensor, weights: Any, metrics_collections: Any,
                     updates_collections: Any) -> tuple[Tensor, Tensor]:
    """Sums the (weighted) true values of a bool tensor into a float32 `count`; weights must be a
    scalar or of the values' rank."""
    from caudal.ops.array_ops import rank
    from caudal.ops.check_ops import assert_rank_in, assert_type
    from caudal.ops.math_ops import cast, multiply
    from caudal.ops.reduction_ops import reduce_sum

    assert_type(values, dtypes_lib.bool_)
    count = metric_variable([], dtypes_lib.float32, name="count")
    values = cast(values, dtypes_lib.float32)
    if weights is not None:
        with control_dependencies([assert_rank_in(weights, (0, rank(values)))]):
            weights = cast(weights, dtypes_lib.float32)
            values = multiply(values, weights)
    update_op = assign_add(count, reduce_sum(values))
    value = read_variable(count, metrics_collections)
    collect(updates_collections, update_op)
    return value, update_op


def _bool_counter(default_name: str, label_value: bool, prediction_value: bool) -> Any:
    from caudal.ops.comparison_ops import equal, logical_and
    from caudal.ops.math_ops import cast

    def counter(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
                updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
        with variable_scope(name, default_name, [predictions, labels, weights]):
            predictions, labels, weights = remove_squeezable_dimensions(
                cast(predictions, dtypes_lib.bool_), cast(labels, dtypes_lib.bool_), weights)
            hit = logical_and(equal(labels, label_value), equal(predictions, prediction_value))
            return _count_condition(hit, weights, metrics_collections, updates_collections)

    counter.__name__ = default_name
    counter.__doc__ = (f"The (weighted) number of examples with label {label_value} and prediction "
                       f"{prediction_value} (both cast to bool): one float32 accumulator `{default_name}/count`.")
    return counter


true_positives = _bool_counter("true_positives", True, True)
false_positives = _bool_counter("false_positives", False, True)
true_negatives = _bool_counter("true_negatives", False, False)
false_negatives = _bool_counter("false_negatives", True, False)


def _ratio_of_counts(default_name: str, other: Any, labels: Any, predictions: Any, weights: Any,
                     metrics_collections: Any, updates_collections: Any, name: str | None) -> tuple[Tensor, Tensor]:
    """tp / (tp + other), or 0 when that sum is 0, from two nested counters."""
    from caudal.ops.comparison_ops import greater, where
    from caudal.ops.math_ops import cast, divide

    with variable_scope(name, default_name, [predictions, labels, weights]):
        predictions, labels, weights = remove_squeezable_dimensions(
            cast(predictions, dtypes_lib.bool_), cast(labels, dtypes_lib.bool_), weights)
        tp, tp_update = true_positives(labels, predictions, weights)
        count, count_update = other(labels, predictions, weights)

        def ratio(t: Tensor, c: Tensor, op_name: str) -> Tensor:
            return where(greater(t + c, 0.0), divide(t, t + c), 0.0, name=op_name)

        value = ratio(tp, count, "value")
        collect(metrics_collections, value)
        update_op = ratio(tp_update, count_update, "update_op")
        collect(updates_collections, update_op)
        return value, update_op


def precision(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
              updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """true_positives / (true_positives + false_positives) over bool-cast inputs (0 when nothing
    was predicted positive); accumulators `precision/true_positives/count`, `.../false_positives/count`."""
    return _ratio_of_counts("precision", false_positives, labels, predictions, weights, metrics_collections,
                            updates_collections, name)


def recall(labels: Any, predictions: Any, weights: Any = None, metrics_collections: Any = None,
           updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """true_positives / (true_positives + false_negatives) over bool-cast inputs (0 when there was
    no positive label); accumulators `recall/true_positives/count`, `.../false_negatives/count`."""
    return _ratio_of_counts("recall", false_negatives, labels, predictions, weights, metrics_collections,
                            updates_collections, name)


# ------------------------------------------------------------ per class
def _check_num_classes(num_classes: Any) -> None:
    if num_classes is None:
        raise TypeError("Expected int32, but got None of type 'NoneType'.")


def _flat(x: Tensor) -> Tensor:
    from caudal.ops.array_ops import reshape

    return x if x.shape.ndims == 1 else reshape(x, [-1])


def mean_iou(labels: Any, predictions: Any, num_classes: Any, weights: Any = None, metrics_collections: Any = None,
             updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The mean over classes of intersection / union, from a float64 confusion matrix
    `mean_iou/total_confusion_matrix`; classes absent from both labels and predictions are left out
    of the mean. `update_op` yields the updated confusion matrix, as in TF."""
    from caudal.ops.comparison_ops import greater, not_equal, where
    from caudal.ops.confusion_matrix import confusion_matrix
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.linalg_ops import diag_part
    from caudal.ops.math_ops import cast, divide
    from caudal.ops.reduction_ops import reduce_sum

    _check_num_classes(num_classes)
    with variable_scope(name, "mean_iou", [predictions, labels, weights]):
        predictions = convert_to_tensor(predictions)
        labels = convert_to_tensor(labels)
        predictions.shape.assert_is_compatible_with(labels.shape)
        total_cm = metric_variable([num_classes, num_classes], dtypes_lib.float64, name="total_confusion_matrix")
        predictions = _flat(cast(predictions, dtypes_lib.int64))
        labels = _flat(cast(labels, dtypes_lib.int64))
        num_classes = cast(num_classes, dtypes_lib.int64)
        if weights is not None:
            weights = convert_to_tensor(weights)
            if weights.shape.ndims is None or weights.shape.ndims > 1:
                weights = _flat(weights)
        current_cm = confusion_matrix(labels, predictions, num_classes, weights=weights, dtype=dtypes_lib.float64)
        update_op = assign_add(total_cm, current_cm)

        total_cm = read_variable(total_cm)
        sum_over_row = cast(reduce_sum(total_cm, 0), dtypes_lib.float32)
        sum_over_col = cast(reduce_sum(total_cm, 1), dtypes_lib.float32)
        cm_diag = cast(diag_part(total_cm), dtypes_lib.float32)
        denominator = sum_over_row + sum_over_col - cm_diag
        num_valid_entries = reduce_sum(cast(not_equal(denominator, 0.0), dtypes_lib.float32))
        denominator = where(greater(denominator, 0.0), denominator, ones_like(denominator))
        iou = divide(cm_diag, denominator)
        value = where(greater(num_valid_entries, 0.0), reduce_sum(iou, name="mean_iou") / num_valid_entries, 0.0)
        collect(metrics_collections, value)
        collect(updates_collections, update_op)
        return value, update_op


def mean_per_class_accuracy(labels: Any, predictions: Any, num_classes: Any, weights: Any = None,
                            metrics_collections: Any = None, updates_collections: Any = None,
                            name: str | None = None) -> tuple[Tensor, Tensor]:
    """The mean over classes of each class's accuracy: float32 vectors `mean_accuracy/total` (weight
    of each label) and `mean_accuracy/count` (weight of correct ones), updated by ScatterAdd;
    `update_op` yields the per-class accuracies."""
    from caudal.ops.array_ops import size
    from caudal.ops.comparison_ops import equal
    from caudal.ops.constant_ops import ones
    from caudal.ops.math_ops import cast, maximum
    from caudal.ops.reduction_ops import reduce_mean
    from caudal.ops.state_ops import scatter_add

    _check_num_classes(num_classes)
    with variable_scope(name, "mean_accuracy", [predictions, labels, weights]):
        labels = _flat(cast(labels, dtypes_lib.int64))
        predictions = _flat(convert_to_tensor(predictions))
        predictions.shape.assert_is_compatible_with(labels.shape)
        total = metric_variable([num_classes], dtypes_lib.float32, name="total")
        count = metric_variable([num_classes], dtypes_lib.float32, name="count")
        ones_per_example = ones([size(labels)], dtypes_lib.float32)
        if labels.dtype.base_dtype != predictions.dtype.base_dtype:
            predictions = cast(predictions, labels.dtype.base_dtype)
        is_correct = cast(equal(predictions, labels), dtypes_lib.float32)
        if weights is not None:
            weights = convert_to_tensor(weights)
            if weights.shape.ndims is None or weights.shape.ndims > 1:
                weights = _flat(weights)
            weights = cast(weights, dtypes_lib.float32)
            is_correct = is_correct * weights
            ones_per_example = ones_per_example * weights
        update_total = scatter_add(total, labels, ones_per_example)
        update_count = scatter_add(count, labels, is_correct)
        per_class = div_no_nan(read_variable(count), maximum(read_variable(total), 0.0))
        value = reduce_mean(per_class, name="mean_accuracy")
        collect(metrics_collections, value)
        update_op = div_no_nan(update_count, maximum(update_total, 0.0), name="update_op")
        collect(updates_collections, update_op)
        return value, update_op
