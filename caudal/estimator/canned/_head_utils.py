"""The checks and metric builders the pre-made Estimators' heads share, as TF's `canned/head.py` has them.

Labels of rank `rank(logits) - 1` get a last dimension of 1; then labels,
logits and weights are checked against each other, statically when the
shapes are known (ValueError, TF's messages) and otherwise by Assert ops.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes
from caudal.framework.graph import get_default_graph, name_scope
from caudal.framework.tensor import Tensor

__all__ = ["check_dense_labels_match_logits_and_reshape", "get_weights_and_check_match_logits",
           "check_logits_final_dim", "assert_range", "all_class_ids", "all_classes", "classification_output",
           "indicator_labels_mean", "accuracy_baseline", "predictions_mean", "auc", "accuracy_at_threshold",
           "precision_at_threshold", "recall_at_threshold", "summary_key", "append_update_ops"]


def summary_key(head_name: str | None, value: str) -> str:
    return f"{value}/{head_name}" if head_name else value


def _assert_equal(x: Any, y: Any, message: str, data: list | None = None) -> Any:
    """TF's assert_equal: decided while building when both values are known, an Assert otherwise."""
    from caudal.ops.check_ops import _binary_assert
    from caudal.ops.comparison_ops import equal

    return _binary_assert("==", "assert_equal", equal, np.equal, x, y, data, None, message, None)


def _assert_rank_at_least(x: Tensor, rank: int, message: str) -> Any:
    """TF's assert_rank_at_least: a ValueError now when the static rank is too small, else an Assert op."""
    from caudal.ops.array_ops import rank as rank_of
    from caudal.ops.array_ops import shape
    from caudal.ops.comparison_ops import greater_equal
    from caudal.ops.cond_ops import Assert

    prefix = f"{message}.  " if message else ""
    with name_scope(None, "assert_rank_at_least", [x]):
        if x.shape.ndims is not None and x.shape.ndims < rank:
            raise ValueError(f"{prefix}Tensor {x.name} must have rank at least {rank}.  Received rank "
                             f"{x.shape.ndims}, shape {x.get_shape()}")
        data = [message, f"Tensor {x.name} must have rank at least", rank, "Received shape: ", shape(x)]
        return Assert(greater_equal(rank_of(x), rank), data)


def check_dense_labels_match_logits_and_reshape(labels: Any, logits: Tensor, expected_labels_dimension: int) -> Tensor:
    """`labels` as a dense Tensor of shape `logits.shape[:-1] + [expected_labels_dimension]`."""
    from caudal.framework.convert import convert_to_tensor
    from caudal.framework.sparse_tensor import SparseTensor
    from caudal.ops.array_ops import concat, expand_dims, shape
    from caudal.ops.control_ops import identity

    if labels is None:
        raise ValueError("You must provide a labels Tensor. Given: None. Suggested troubleshooting steps: Check that "
                         "your data contain your label feature. Check that your input_fn properly parses and returns "
                         "labels.")
    with name_scope(None, "labels", [labels, logits]) as scope:
        if not isinstance(labels, SparseTensor):
            labels = convert_to_tensor(labels)
        if isinstance(labels, SparseTensor):
            n = expected_labels_dimension
            raise ValueError(f"SparseTensor labels are not supported. labels must be a Tensor of shape [D0, D1, ..., "
                             f"DN, {n}], e.g. [batch_size, {n}]. Suggested Fix (1): Check the label feature in your "
                             f"data. Each example must contain {n} value(s). If not, your choice of label was "
                             "probably incorrect. Suggested Fix (2): In your input_fn, use "
                             "tf.sparse_tensor_to_dense() to turn labels into a Tensor.")
        if (labels.shape.ndims is not None and logits.shape.ndims is not None
                and labels.shape.ndims == logits.shape.ndims - 1):
            labels = expand_dims(labels, -1)
        labels_shape = shape(labels)
        logits_shape = shape(logits)
        err_msg = (f"labels shape must be [D0, D1, ... DN, {expected_labels_dimension}]. Suggested Fix: check your "
                   "n_classes argument to the estimator and/or the shape of your label.")
        assert_rank = _assert_rank_at_least(labels, 2, err_msg)
        with get_default_graph().control_dependencies([assert_rank]):
            static_shape = labels.shape
            if static_shape.ndims is not None:
                dim1 = static_shape.as_list()[-1]
                if dim1 is not None and dim1 != expected_labels_dimension:
                    raise ValueError(f"Mismatched label shape. Expected labels dimension={expected_labels_dimension}."
                                     f"  Received {dim1}. Suggested Fix:If your classifier expects one-hot encoding "
                                     "label,check your n_classes argument to the estimator and/or the shape of your "
                                     "label. Otherwise, check the shape of your label.")
            expected = concat([logits_shape[:-1], [expected_labels_dimension]], axis=0)
            assert_dimension = _assert_equal(expected, labels_shape, err_msg,
                                             data=[err_msg, "expected_labels_shape: ", expected, "labels_shape: ",
                                                   labels_shape])
            with get_default_graph().control_dependencies([assert_dimension]):
                return identity(labels, name=scope)


def _weight_tensor(features: Any, weight_column: Any) -> Tensor:
    from caudal.feature_column._base import _DenseColumn, _LazyBuilder
    from caudal.feature_column._dense_columns import numeric_column

    if isinstance(weight_column, str):
        weight_column = numeric_column(key=weight_column, shape=(1,))
    if not isinstance(weight_column, _DenseColumn):
        raise TypeError(f"Weight column must be either a string or _DenseColumn. Given type: {type(weight_column)}.")
    return weight_column._get_dense_tensor(_LazyBuilder(features))


def get_weights_and_check_match_logits(features: Any, weight_column: Any, logits: Tensor,
                                       allow_per_logit_weights: bool = False) -> Any:
    """1.0 without a weight column; else its float weights, checked to be [D0..DN] or [D0..DN, 1] (also
    [D0..DN, logits_dimension] with `allow_per_logit_weights`) and given a last dimension."""
    from caudal.ops.array_ops import concat, expand_dims, shape, stack
    from caudal.ops.comparison_ops import equal
    from caudal.ops.cond_ops import Assert
    from caudal.ops.control_ops import identity
    from caudal.ops.math_ops import cast
    from caudal.ops.reduction_ops import reduce_all, reduce_any

    if allow_per_logit_weights:
        err_msg = "weights shape must be [D0, D1, ... DN], [D0, D1, ... DN, 1] or [D0, D1, ... DN, logits_dimension]"
    else:
        err_msg = "weights shape must be [D0, D1, ... DN] or [D0, D1, ... DN, 1]"
    values = list(features.values()) if isinstance(features, dict) else []
    with name_scope(None, "weights", values + [logits]) as scope:
        if weight_column is None:
            return 1.0
        weights = _weight_tensor(features, weight_column)
        if not (weights.dtype.is_floating or weights.dtype.is_integer):
            raise ValueError(f"Weight column should be castable to float. Given dtype: {weights.dtype}")
        weights = cast(weights, name="weights", dtype=dtypes.float32)
        weights_shape = shape(weights, name="weights_shape")
        logits_shape = shape(logits, name="logits_shape")
        graph = get_default_graph()
        if (weights.shape.ndims is not None and logits.shape.ndims is not None
                and weights.shape.ndims == logits.shape.ndims - 1):
            check = _assert_equal(logits_shape[:-1], weights_shape, err_msg,
                                  data=[err_msg, "logits_shape: ", logits_shape, "weights_shape: ", weights_shape])
            with graph.control_dependencies([check]):
                return expand_dims(weights, -1, name=scope)
        supported = concat([logits_shape[:-1], [1]], axis=0)
        if allow_per_logit_weights:
            condition = reduce_any(stack([reduce_all(equal(logits_shape, weights_shape)),
                                          reduce_all(equal(supported, weights_shape))]))
            check = Assert(condition, [err_msg, "logits_shape: ", logits_shape, "weights_shape: ", weights_shape])
        else:
            check = _assert_equal(supported, weights_shape, err_msg,
                                  data=[err_msg, "logits_shape: ", logits_shape, "weights_shape: ", weights_shape])
        with graph.control_dependencies([check]):
            return identity(weights, name=scope)


def check_logits_final_dim(logits: Any, expected_logits_dimension: int) -> Tensor:
    """float32 logits of rank >= 2 whose last dimension is `expected_logits_dimension`."""
    from caudal.framework.convert import convert_to_tensor
    from caudal.ops.array_ops import shape
    from caudal.ops.control_ops import identity
    from caudal.ops.math_ops import cast

    with name_scope(None, "logits", [logits]) as scope:
        logits = cast(convert_to_tensor(logits), dtype=dtypes.float32)
        logits_shape = shape(logits)
        assert_rank = _assert_rank_at_least(logits, 2, "logits shape must be [D0, D1, ... DN, logits_dimension]")
        with get_default_graph().control_dependencies([assert_rank]):
            static_shape = logits.shape
            if static_shape.ndims is not None and static_shape.as_list()[-1] is not None:
                if static_shape.as_list()[-1] != expected_logits_dimension:
                    raise ValueError(f"logits shape must be [D0, D1, ... DN, logits_dimension="
                                     f"{expected_logits_dimension}], got {static_shape}.")
                return logits
            message = f"logits shape must be [D0, D1, ... DN, logits_dimension={expected_logits_dimension}]"
            check = _assert_equal(expected_logits_dimension, logits_shape[-1], message, data=[message, logits_shape])
            with get_default_graph().control_dependencies([check]):
                return identity(logits, name=scope)


def assert_range(labels: Tensor, n_classes: int, message: str | None = None) -> Tensor:
    """`labels` after checks that they lie in [0, n_classes - 1]."""
    from caudal.framework.convert import convert_to_tensor
    from caudal.ops.check_ops import assert_less_equal, assert_non_negative
    from caudal.ops.control_ops import identity

    with name_scope(None, "assert_range", [labels]):
        less = assert_less_equal(labels, convert_to_tensor(n_classes - 1, dtype=labels.dtype),
                                 message=message or "Labels must <= n_classes - 1")
        greater = assert_non_negative(labels, message=message or "Labels must >= 0")
        with get_default_graph().control_dependencies([less, greater]):
            return identity(labels)


def _tiled_per_example(logits: Tensor, row: Any) -> Tensor:
    from caudal.ops.array_ops import expand_dims, shape
    from caudal.ops.manip_ops import tile

    batch_size = shape(logits)[0]
    return tile(expand_dims(row, 0), [batch_size, 1])


def all_class_ids(logits: Tensor, n_classes: int) -> Tensor:
    from caudal.ops.array_ops import range as range_

    return _tiled_per_example(logits, range_(n_classes))


def _class_strings(n_classes: int, label_vocabulary: Any) -> Any:
    from caudal.ops.array_ops import range as range_
    from caudal.ops.categorical_ops import as_string

    return list(label_vocabulary) if label_vocabulary else as_string(range_(n_classes))


def all_classes(logits: Tensor, n_classes: int, label_vocabulary: Any = None) -> Tensor:
    return _tiled_per_example(logits, _class_strings(n_classes, label_vocabulary))


def classification_output(scores: Tensor, n_classes: int, label_vocabulary: Any = None) -> Any:
    from caudal.estimator.export.export_output import ClassificationOutput

    return ClassificationOutput(scores=scores, classes=_tiled_per_example(scores, _class_strings(n_classes,
                                                                                                label_vocabulary)))


def indicator_labels_mean(labels: Tensor, weights: Any = None, name: str | None = None) -> tuple:
    from caudal.ops.math_ops import cast
    from caudal.ops.metrics_impl import mean
    from caudal.ops.weights_broadcast_ops import broadcast_weights

    with name_scope(name, "labels_mean", [labels, weights]) as scope:
        labels = cast(labels, name="labels", dtype=dtypes.float32)
        if weights is not None:
            weights = broadcast_weights(weights, labels)
        return mean(labels, weights=weights, name=scope)


def accuracy_baseline(labels_mean: tuple) -> tuple:
    """max(label mean, 1 - label mean): the accuracy of always predicting the more frequent class."""
    from caudal.ops.math_ops import maximum

    with name_scope(None, "accuracy_baseline", list(labels_mean)):
        value, update_op = labels_mean
        return maximum(value, 1.0 - value, name="value"), maximum(update_op, 1 - update_op, name="update_op")


def predictions_mean(predictions: Tensor, weights: Any = None, name: str | None = None) -> tuple:
    from caudal.ops.math_ops import cast
    from caudal.ops.metrics_impl import mean
    from caudal.ops.weights_broadcast_ops import broadcast_weights

    with name_scope(name, "predictions_mean", [predictions, weights]) as scope:
        predictions = cast(predictions, name="predictions", dtype=dtypes.float32)
        if weights is not None:
            weights = broadcast_weights(weights, predictions)
        return mean(predictions, weights=weights, name=scope)


def auc(labels: Tensor, predictions: Tensor, weights: Any = None, curve: str = "ROC", name: str | None = None) -> tuple:
    from caudal.ops.math_ops import cast
    from caudal.ops.metrics_confusion import auc as auc_metric
    from caudal.ops.weights_broadcast_ops import broadcast_weights

    with name_scope(name, "auc", [predictions, labels, weights]) as scope:
        predictions = cast(predictions, name="predictions", dtype=dtypes.float32)
        if weights is not None:
            weights = broadcast_weights(weights, predictions)
        return auc_metric(labels=labels, predictions=predictions, weights=weights, curve=curve, name=scope)


def accuracy_at_threshold(labels: Tensor, predictions: Tensor, weights: Any, threshold: float,
                          name: str | None = None) -> tuple:
    from caudal.ops.comparison_ops import greater_equal
    from caudal.ops.math_ops import cast
    from caudal.ops.metrics_impl import accuracy

    with name_scope(name, f"accuracy_at_{threshold}", [predictions, labels, weights]) as scope:
        thresholded = cast(greater_equal(predictions, threshold), dtypes.float32)
        return accuracy(labels=labels, predictions=thresholded, weights=weights, name=scope)


def _at_threshold(metric: Any, default_name: str, labels: Tensor, predictions: Tensor, weights: Any,
                  threshold: float, name: str | None) -> tuple:
    from caudal.ops.array_ops import squeeze

    with name_scope(name, default_name, [predictions, labels, weights]) as scope:
        value, update_op = metric(labels=labels, predictions=predictions, thresholds=(threshold,), weights=weights,
                                  name=scope)
        return squeeze(value), squeeze(update_op)


def precision_at_threshold(labels: Tensor, predictions: Tensor, weights: Any, threshold: float,
                           name: str | None = None) -> tuple:
    from caudal.ops.metrics_confusion import precision_at_thresholds

    return _at_threshold(precision_at_thresholds, f"precision_at_{threshold}", labels, predictions, weights,
                         threshold, name)


def recall_at_threshold(labels: Tensor, predictions: Tensor, weights: Any, threshold: float,
                        name: str | None = None) -> tuple:
    from caudal.ops.metrics_confusion import recall_at_thresholds

    return _at_threshold(recall_at_thresholds, f"recall_at_{threshold}", labels, predictions, weights, threshold,
                         name)


def append_update_ops(train_op: Any) -> Any:
    """`train_op` grouped with the UPDATE_OPS collection (batch norm's moving averages), when there are any."""
    from caudal.framework.graph import GraphKeys
    from caudal.ops.control_ops import group

    update_ops = get_default_graph().get_collection(GraphKeys.UPDATE_OPS)
    return group(train_op, *update_ops) if update_ops else train_op
