"""`tf.metrics` built on confusion counts at thresholds: `auc`, `{true,false}_{positives,negatives}
_at_thresholds`, `precision_at_thresholds`, `recall_at_thresholds`, `sensitivity_at_specificity`
and `specificity_at_sensitivity`.

As in TF, predictions are checked to lie in [0, 1], a prediction counts as positive at threshold t
when it is > t, and each count is a float32 vector with one entry per threshold
(`auc/true_positives`, ...). See `metrics_impl.py` for what every metric returns.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import control_dependencies
from caudal.framework.tensor import Tensor
from caudal.ops.metrics_impl import (
    collect,
    div_no_nan,
    metric_variable,
    read_variable,
    remove_squeezable_dimensions,
)
from caudal.variable_scope import variable_scope
from caudal.variables import assign_add

__all__ = ["auc", "true_positives_at_thresholds", "false_positives_at_thresholds", "true_negatives_at_thresholds",
           "false_negatives_at_thresholds", "precision_at_thresholds", "recall_at_thresholds",
           "sensitivity_at_specificity", "specificity_at_sensitivity"]

_KEYS = ("tp", "fn", "tn", "fp")
_VARIABLE_NAMES = {"tp": "true_positives", "fn": "false_negatives", "tn": "true_negatives", "fp": "false_positives"}


def _confusion_matrix_at_thresholds(labels: Any, predictions: Any, thresholds: Sequence[float], weights: Any = None,
                                    includes: Sequence[str] | None = None) -> tuple[dict, dict]:
    """Accumulators and update ops of the weighted tp/fn/tn/fp counts at each threshold."""
    from caudal.ops.array_ops import expand_dims, reshape, shape, stack, transpose
    from caudal.ops.check_ops import assert_greater_equal, assert_less_equal
    from caudal.ops.comparison_ops import greater, logical_and, logical_not
    from caudal.ops.constant_ops import constant
    from caudal.ops.manip_ops import tile
    from caudal.ops.math_ops import cast
    from caudal.ops.reduction_ops import reduce_sum
    from caudal.ops.weights_broadcast_ops import broadcast_weights

    if includes is None:
        includes = _KEYS
    for include in includes:
        if include not in _KEYS:
            raise ValueError(f"Invalid key: {include}")
    predictions = convert_to_tensor(predictions)
    labels = convert_to_tensor(labels)
    checks = [assert_greater_equal(predictions, _bound(0.0, predictions.dtype.base_dtype),
                                   message="predictions must be in [0, 1]"),
              assert_less_equal(predictions, _bound(1.0, predictions.dtype.base_dtype),
                                message="predictions must be in [0, 1]")]
    with control_dependencies(checks):
        predictions, labels, weights = remove_squeezable_dimensions(
            cast(predictions, dtypes_lib.float32), cast(labels, dtypes_lib.bool_), weights)
    num_thresholds = len(thresholds)
    predictions_2d = reshape(predictions, [-1, 1])
    labels_2d = reshape(cast(labels, dtypes_lib.bool_), [1, -1])
    num_predictions = predictions_2d.shape.as_list()[0]
    if num_predictions is None:
        num_predictions = shape(predictions_2d)[0]
    thresh_tiled = tile(expand_dims(constant(list(thresholds), dtype=dtypes_lib.float32), [1]),
                        stack([1, num_predictions]))
    pred_is_pos = greater(tile(transpose(predictions_2d), [num_thresholds, 1]), thresh_tiled)
    pred_is_neg = logical_not(pred_is_pos) if ("fn" in includes or "tn" in includes) else None
    label_is_pos = tile(labels_2d, [num_thresholds, 1])
    label_is_neg = logical_not(label_is_pos) if ("fp" in includes or "tn" in includes) else None
    weights_tiled = None
    if weights is not None:
        weights = broadcast_weights(cast(weights, dtypes_lib.float32), predictions)
        weights_tiled = tile(reshape(weights, [1, -1]), [num_thresholds, 1])
        thresh_tiled.shape.assert_is_compatible_with(weights_tiled.shape)

    conditions = {"tp": (label_is_pos, pred_is_pos), "fn": (label_is_pos, pred_is_neg),
                  "tn": (label_is_neg, pred_is_neg), "fp": (label_is_neg, pred_is_pos)}
    values: dict[str, Any] = {}
    update_ops: dict[str, Tensor] = {}
    for key in _KEYS:
        if key not in includes:
            continue
        variable = metric_variable([num_thresholds], dtypes_lib.float32, name=_VARIABLE_NAMES[key])
        hits = cast(logical_and(*conditions[key]), dtypes_lib.float32)
        if weights_tiled is not None:
            hits = hits * weights_tiled
        update_ops[key] = assign_add(variable, reduce_sum(hits, 1))
        values[key] = variable
    return values, update_ops


def _bound(value: float, dtype: Any) -> Tensor:
    """`value` as a constant of `dtype`, named as TF's cast of a Python number (`Cast/x`)."""
    from caudal.framework.graph import name_scope
    from caudal.ops.math_ops import cast

    with name_scope(None, "Cast", []):
        return cast(convert_to_tensor(value, name="x"), dtype)


def _default_thresholds(num_thresholds: int, top: float) -> list[float]:
    """num_thresholds values: just below 0, (i + 1) / (num_thresholds - 1) for the inner ones, and
    `top` last (TF's kepsilon = 1e-7 at both ends)."""
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - 1e-7] + inner + [top]


# ------------------------------------------------------------------ auc
def _interpolate_pr_auc(tp: Tensor, fp: Tensor, fn: Tensor, num_thresholds: int) -> Tensor:
    """PR AUC by Davis & Goadrich's interpolation between thresholds (TF's careful_interpolation)."""
    from caudal.ops.comparison_ops import logical_and, where
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.math_ops import log, maximum, multiply
    from caudal.ops.reduction_ops import reduce_sum

    dtp = tp[:num_thresholds - 1] - tp[1:]
    p = tp + fp
    prec_slope = div_no_nan(dtp, maximum(p[:num_thresholds - 1] - p[1:], 0.0), name="prec_slope")
    intercept = tp[1:] - multiply(prec_slope, p[1:])
    safe_p_ratio = where(logical_and(p[:num_thresholds - 1] > 0.0, p[1:] > 0.0),
                         div_no_nan(p[:num_thresholds - 1], maximum(p[1:], 0.0), name="recall_relative_ratio"),
                         ones_like(p[1:]))
    increments = div_no_nan(prec_slope * (dtp + intercept * log(safe_p_ratio)), maximum(tp[1:] + fn[1:], 0.0),
                            name="pr_auc_increment")
    return reduce_sum(increments, name="interpolate_pr_auc")


def _compute_auc(tp: Tensor, fn: Tensor, tn: Tensor, fp: Tensor, num_thresholds: int, curve: str,
                 summation_method: str, name: str) -> Tensor:
    from caudal.ops.math_ops import divide, maximum, minimum, multiply
    from caudal.ops.reduction_ops import reduce_sum

    epsilon = 1.0e-6
    if curve == "PR":
        if summation_method == "trapezoidal":
            logging.getLogger("caudal").warning("Trapezoidal rule is known to produce incorrect PR-AUCs; please "
                                                "switch to \"careful_interpolation\" instead.")
        elif summation_method == "careful_interpolation":
            return _interpolate_pr_auc(tp, fp, fn, num_thresholds)
    rec = divide(tp + epsilon, tp + fn + epsilon)
    if curve == "ROC":
        x, y = divide(fp, fp + tn + epsilon), rec
    else:
        x, y = rec, divide(tp + epsilon, tp + fp + epsilon)
    widths = x[:num_thresholds - 1] - x[1:]
    if summation_method in ("trapezoidal", "careful_interpolation"):
        heights = (y[:num_thresholds - 1] + y[1:]) / 2.0
    elif summation_method == "minoring":
        heights = minimum(y[:num_thresholds - 1], y[1:])
    elif summation_method == "majoring":
        heights = maximum(y[:num_thresholds - 1], y[1:])
    else:
        raise ValueError(f"Invalid summation_method: {summation_method} summation_method should be 'trapezoidal', "
                         "'careful_interpolation', 'minoring', or 'majoring'.")
    return reduce_sum(multiply(widths, heights), name=name)


def auc(labels: Any, predictions: Any, weights: Any = None, num_thresholds: int = 200,
        metrics_collections: Any = None, updates_collections: Any = None, curve: str = "ROC",
        name: str | None = None, summation_method: str = "trapezoidal",
        thresholds: Sequence[float] | None = None) -> tuple[Tensor, Tensor]:
    """Area under the ROC or PR curve, summed over `num_thresholds` thresholds (or the sorted
    `thresholds`, plus one below 0 and one above 1) by `summation_method`. Like TF it accepts any
    num_thresholds (below 2 the area is computed over the two end thresholds only)."""
    if curve not in ("ROC", "PR"):
        raise ValueError(f"Curve must be either ROC or PR. Curve {curve} is unknown.")
    with variable_scope(name, "auc", [labels, predictions, weights]):
        if thresholds is not None:
            inner = sorted(thresholds)
            num_thresholds = len(inner) + 2
            all_thresholds = [0.0 - 1e-7] + inner + [1.0 + 1e-7]
        else:
            all_thresholds = _default_thresholds(num_thresholds, 1.0 + 1e-7)
        values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, all_thresholds, weights)
        values = {key: read_variable(variable) for key, variable in values.items()}
        value = _compute_auc(values["tp"], values["fn"], values["tn"], values["fp"], num_thresholds, curve,
                             summation_method, "value")
        collect(metrics_collections, value)
        update_op = _compute_auc(update_ops["tp"], update_ops["fn"], update_ops["tn"], update_ops["fp"],
                                 num_thresholds, curve, summation_method, "update_op")
        collect(updates_collections, update_op)
        return value, update_op


# ------------------------------------------------------ counts at thresholds
def _counts_at_thresholds(key: str) -> Callable:
    default_name = _VARIABLE_NAMES[key]

    def counts(labels: Any, predictions: Any, thresholds: Sequence[float], weights: Any = None,
               metrics_collections: Any = None, updates_collections: Any = None,
               name: str | None = None) -> tuple[Tensor, Tensor]:
        with variable_scope(name, default_name, [predictions, labels, weights]):
            values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, thresholds, weights=weights,
                                                                 includes=(key,))
            value = read_variable(values[key], metrics_collections)
            collect(updates_collections, update_ops[key])
            return value, update_ops[key]

    counts.__name__ = f"{default_name}_at_thresholds"
    counts.__doc__ = (f"The (weighted) {default_name.replace('_', ' ')} at each threshold (prediction > "
                      f"threshold is positive): a float32 vector `{default_name}/{default_name}`.")
    return counts


true_positives_at_thresholds = _counts_at_thresholds("tp")
false_positives_at_thresholds = _counts_at_thresholds("fp")
true_negatives_at_thresholds = _counts_at_thresholds("tn")
false_negatives_at_thresholds = _counts_at_thresholds("fn")


def _ratio_at_thresholds(default_name: str, other: str, labels: Any, predictions: Any, thresholds: Sequence[float],
                         weights: Any, metrics_collections: Any, updates_collections: Any,
                         name: str | None) -> tuple[Tensor, Tensor]:
    """tp / (1e-7 + tp + other) at each threshold, named `<prefix>_value` and `<prefix>_update_op`."""
    from caudal.ops.math_ops import divide

    prefix = default_name.split("_at_")[0]
    with variable_scope(name, default_name, [predictions, labels, weights]):
        values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, thresholds, weights,
                                                             includes=("tp", other))

        def ratio(tp: Any, count: Any, suffix: str) -> Tensor:
            return divide(tp, 1e-7 + tp + count, name=f"{prefix}_{suffix}")

        value = ratio(read_variable(values["tp"]), read_variable(values[other]), "value")
        collect(metrics_collections, value)
        update_op = ratio(update_ops["tp"], update_ops[other], "update_op")
        collect(updates_collections, update_op)
        return value, update_op


def precision_at_thresholds(labels: Any, predictions: Any, thresholds: Sequence[float], weights: Any = None,
                            metrics_collections: Any = None, updates_collections: Any = None,
                            name: str | None = None) -> tuple[Tensor, Tensor]:
    """tp / (tp + fp + 1e-7) at each threshold."""
    return _ratio_at_thresholds("precision_at_thresholds", "fp", labels, predictions, thresholds, weights,
                                metrics_collections, updates_collections, name)


def recall_at_thresholds(labels: Any, predictions: Any, thresholds: Sequence[float], weights: Any = None,
                         metrics_collections: Any = None, updates_collections: Any = None,
                         name: str | None = None) -> tuple[Tensor, Tensor]:
    """tp / (tp + fn + 1e-7) at each threshold."""
    return _ratio_at_thresholds("recall_at_thresholds", "fn", labels, predictions, thresholds, weights,
                                metrics_collections, updates_collections, name)


# ------------------------------------------- sensitivity and specificity
def _sensitivity_at(tp: Any, tn: Any, fp: Any, fn: Any, specificity: float, name: str) -> Tensor:
    from caudal.ops.math_ops import abs as abs_
    from caudal.ops.math_ops import cast, divide
    from caudal.ops.reduction_ops import argmin

    specificities = divide(tn, tn + fp + 1e-7)
    index = cast(argmin(abs_(specificities - specificity), 0), dtypes_lib.int32)
    return divide(tp[index], tp[index] + fn[index] + 1e-7, name)


def _specificity_at(tp: Any, tn: Any, fp: Any, fn: Any, sensitivity: float, name: str) -> Tensor:
    from caudal.ops.comparison_ops import equal
    from caudal.ops.math_ops import abs as abs_
    from caudal.ops.math_ops import cast, divide
    from caudal.ops.reduction_ops import argmax, reduce_min
    from caudal.ops.scan_ops import cumsum

    sensitivities = divide(tp, tp + fn + 1e-7)
    distance = abs_(sensitivities - sensitivity)
    at_min = cast(equal(abs_(sensitivities - sensitivity), reduce_min(distance)), dtypes_lib.int64)
    index = cast(argmax(cumsum(at_min), 0), dtypes_lib.int32)
    return divide(tn[index], tn[index] + fp[index] + 1e-7, name)


def _rate_at_rate(default_name: str, compute: Callable, target: float, top: float, labels: Any, predictions: Any,
                  weights: Any, num_thresholds: int, metrics_collections: Any, updates_collections: Any,
                  name: str | None) -> tuple[Tensor, Tensor]:
    with variable_scope(name, default_name, [predictions, labels, weights]):
        thresholds = _default_thresholds(num_thresholds, top)
        values, update_ops = _confusion_matrix_at_thresholds(labels, predictions, thresholds, weights)
        values = {key: read_variable(variable) for key, variable in values.items()}
        value = compute(values["tp"], values["tn"], values["fp"], values["fn"], target, "value")
        collect(metrics_collections, value)
        update_op = compute(update_ops["tp"], update_ops["tn"], update_ops["fp"], update_ops["fn"], target,
                            "update_op")
        collect(updates_collections, update_op)
        return value, update_op


def sensitivity_at_specificity(labels: Any, predictions: Any, specificity: float, weights: Any = None,
                               num_thresholds: int = 200, metrics_collections: Any = None,
                               updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The sensitivity (recall) at the threshold whose specificity is nearest `specificity` (the
    first such threshold)."""
    if specificity < 0 or specificity > 1:
        raise ValueError(f"`specificity` must be in the range [0, 1]. Currently, `specificity` got {specificity}.")
    return _rate_at_rate("sensitivity_at_specificity", _sensitivity_at, specificity, 1.0 + 1e-7, labels,
                         predictions, weights, num_thresholds, metrics_collections, updates_collections, name)


def specificity_at_sensitivity(labels: Any, predictions: Any, sensitivity: float, weights: Any = None,
                               num_thresholds: int = 200, metrics_collections: Any = None,
                               updates_collections: Any = None, name: str | None = None) -> tuple[Tensor, Tensor]:
    """The specificity at the threshold whose sensitivity is nearest `sensitivity` (the last such
    threshold); the top threshold is 1 - 1e-7, as in TF."""
    if sensitivity < 0 or sensitivity > 1:
        raise ValueError(f"`sensitivity` must be in the range [0, 1]. Currently, `sensitivity` is {sensitivity}.")
    return _rate_at_rate("specificity_at_sensitivity", _specificity_at, sensitivity, 1.0 - 1e-7, labels,
                         predictions, weights, num_thresholds, metrics_collections, updates_collections, name)
