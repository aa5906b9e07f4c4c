"""The heads of TF 1.x's pre-made Estimators: from logits to predictions, loss, metrics and train op.

- binary (`n_classes == 2`): sigmoid cross-entropy; predictions `logits`,
  `logistic`, `probabilities`, `class_ids`, `classes`, `all_class_ids`,
  `all_classes`; metrics `accuracy`, `precision`, `recall`, `auc`,
  `auc_precision_recall`, `prediction/mean`, `label/mean`,
  `accuracy_baseline`, `average_loss` (and per threshold, if given);
- multi-class: sparse softmax cross-entropy; the same predictions but
  `logistic`; metrics `accuracy` and `average_loss`;
- regression: mean squared error; prediction `predictions`; metrics
  `prediction/mean`, `label/mean`, `average_loss`.

The training loss is the weighted per-example loss reduced with
`loss_reduction`, `SUM` for the v1 Estimators (TF 1.x's
`tf.estimator.*`). With SUM the head also writes the `average_loss`
summary (loss / sum of weights). String labels map to ids through a
`label_vocabulary` table. Serving signatures: `serving_default` and
`classification` (classify), `regression` (binary and regression heads),
`predict`.
"""
from __future__ import annotations

import collections
from typing import Any

from caudal.estimator.canned import _head_utils as utils
from caudal.estimator.canned.metric_keys import MetricKeys
from caudal.estimator.canned.prediction_keys import PredictionKeys
from caudal.estimator.mode_keys import ModeKeys
from caudal.estimator.model_fn import EstimatorSpec
from caudal.framework import dtypes
from caudal.framework.graph import name_scope
from caudal.ops.losses_impl import Reduction

__all__ = ["binary_logistic_or_multi_class_head", "regression_head", "LossSpec"]

_DEFAULT_SERVING_KEY = "serving_default"
_CLASSIFY_SERVING_KEY = "classification"
_REGRESS_SERVING_KEY = "regression"
_PREDICT_SERVING_KEY = "predict"

LossSpec = collections.namedtuple("LossSpec", ["training_loss", "unreduced_loss", "weights", "processed_labels"])


def _check_loss_reduction(loss_reduction: str) -> None:
    if loss_reduction not in Reduction.all() or loss_reduction == Reduction.NONE:
        raise ValueError(f"Invalid loss_reduction: {loss_reduction}")


def _vocabulary_ids(labels: Any, label_vocabulary: Any) -> Any:
    from caudal.ops.lookup_tables import index_table_from_tensor

    return index_table_from_tensor(vocabulary_list=tuple(label_vocabulary), name="class_id_lookup").lookup(labels)


def _class_strings(class_ids: Any, label_vocabulary: Any) -> Any:
    if label_vocabulary:
        from caudal.ops.lookup_tables import index_to_string_table_from_tensor

        table = index_to_string_table_from_tensor(vocabulary_list=label_vocabulary, name="class_string_lookup")
        return table.lookup(class_ids)
    from caudal.ops.categorical_ops import as_string

    return as_string(class_ids, name="str_classes")


class _Head:
    """What the three heads share: the regularized loss, the train op and the summaries of TRAIN mode."""

    _name: str | None
    _loss_reduction: str

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def logits_dimension(self) -> int:
        raise NotImplementedError

    def _train_spec(self, training_loss: Any, unreduced_loss: Any, weights: Any, regularization_losses: Any,
                    optimizer: Any, train_op_fn: Any) -> tuple[Any, Any, Any, Any]:
        """(regularized loss, regularization loss, train op, mean loss for the summary)."""
        from caudal.ops.constant_ops import ones_like
        from caudal.ops.reduction_ops import reduce_sum
        from caudal.train.training_util import get_global_step

        loss, regularization_loss = self._regularized(training_loss, regularization_losses)
        if optimizer is not None:
            if train_op_fn is not None:
                raise ValueError("train_op_fn and optimizer cannot both be set.")
            train_op = optimizer.minimize(loss, global_step=get_global_step())
        elif train_op_fn is not None:
            train_op = train_op_fn(loss)
        else:
            raise ValueError("train_op_fn and optimizer cannot both be None.")
        train_op = utils.append_update_ops(train_op)
        mean_loss = None
        if self._loss_reduction == Reduction.SUM:
            mean_loss = training_loss / reduce_sum(weights * ones_like(unreduced_loss))
        return loss, regularization_loss, train_op, mean_loss

    def _train_summaries(self, loss: Any, mean_loss: Any, regularization_loss: Any) -> None:
        from caudal.ops.summary_ops import scalar

        with name_scope(""):
            scalar(utils.summary_key(self._name, MetricKeys.LOSS), loss)
            if mean_loss is not None:
                scalar(utils.summary_key(self._name, MetricKeys.LOSS_MEAN), mean_loss)
            if regularization_loss is not None:
                scalar(utils.summary_key(self._name, MetricKeys.LOSS_REGULARIZATION), regularization_loss)

    def _regularized(self, training_loss: Any, regularization_losses: Any) -> tuple[Any, Any]:
        from caudal.ops.math_ops import add_n

        if regularization_losses:
            regularization_loss = add_n(regularization_losses)
            return add_n([training_loss, regularization_loss]), regularization_loss
        return training_loss, None

    def create_estimator_spec(self, features: Any, mode: str, logits: Any, labels: Any = None, optimizer: Any = None,
                              train_op_fn: Any = None, regularization_losses: Any = None) -> EstimatorSpec:
        """The EstimatorSpec for `mode` (see the module docstring)."""
        with name_scope(self._name, "head"):
            built = self._build(features, mode, logits, labels, optimizer, train_op_fn, regularization_losses)
        if mode == ModeKeys.TRAIN:
            loss, regularization_loss, train_op, mean_loss, predictions = built
            self._train_summaries(loss, mean_loss, regularization_loss)
            return EstimatorSpec(mode=ModeKeys.TRAIN, predictions=predictions, loss=loss, train_op=train_op)
        if mode == ModeKeys.EVAL:
            loss, predictions, metric_fn, metric_args = built
            return EstimatorSpec(mode=ModeKeys.EVAL, predictions=predictions, loss=loss,
                                 eval_metric_ops=metric_fn(**metric_args))
        return built

    def _build(self, features: Any, mode: str, logits: Any, labels: Any, optimizer: Any, train_op_fn: Any,
               regularization_losses: Any) -> Any:
        raise NotImplementedError


class _MultiClassHead(_Head):
    """Softmax cross-entropy over `n_classes > 2` classes."""

    def __init__(self, n_classes: int, weight_column: Any = None, label_vocabulary: Any = None,
                 loss_reduction: str = Reduction.SUM, name: str | None = None):
        if n_classes is None:
            raise ValueError("n_classes cannot be None")
        if isinstance(n_classes, int) and n_classes <= 2:
            raise ValueError(f"n_classes must be > 2: {n_classes}.")
        self._n_classes = n_classes
        self._weight_column = weight_column
        self._label_vocabulary = label_vocabulary
        self._loss_reduction = loss_reduction
        self._name = name

    @property
    def logits_dimension(self) -> int:
        return self._n_classes

    def _label_ids(self, labels: Any) -> Any:
        if self._label_vocabulary is None:
            if not labels.dtype.is_integer:
                raise ValueError(f"Labels dtype should be integer. Instead got {labels.dtype}.")
            label_ids = labels
        else:
            if labels.dtype != dtypes.string:
                raise ValueError(f"Labels dtype should be string if there is a vocabulary. Instead got {labels.dtype}")
            label_ids = _vocabulary_ids(labels, self._label_vocabulary)
        return utils.assert_range(label_ids, self._n_classes)

    def create_loss(self, features: Any, mode: str, logits: Any, labels: Any) -> LossSpec:
        from caudal.framework.convert import convert_to_tensor
        from caudal.ops.array_ops import expand_dims
        from caudal.ops.losses_impl import compute_weighted_loss, sparse_softmax_cross_entropy

        logits = convert_to_tensor(logits)
        labels = utils.check_dense_labels_match_logits_and_reshape(labels, logits, 1)
        label_ids = self._label_ids(labels)
        unweighted_loss = sparse_softmax_cross_entropy(labels=label_ids, logits=logits, reduction=Reduction.NONE)
        unweighted_loss = expand_dims(unweighted_loss, axis=-1)
        weights = utils.get_weights_and_check_match_logits(features, self._weight_column, logits)
        training_loss = compute_weighted_loss(unweighted_loss, weights=weights, reduction=self._loss_reduction)
        return LossSpec(training_loss, unweighted_loss, weights, label_ids)

    def _eval_metric_ops(self, labels: Any, class_ids: Any, weights: Any, unreduced_loss: Any,
                         regularization_loss: Any) -> dict:
        from caudal.ops.metrics_impl import accuracy, mean

        with name_scope(None, "metrics", [labels, class_ids, unreduced_loss]):
            ops = {
                utils.summary_key(self._name, MetricKeys.LOSS_MEAN):
                    mean(values=unreduced_loss, weights=weights, name=MetricKeys.LOSS_MEAN),
                utils.summary_key(self._name, MetricKeys.ACCURACY):
                    accuracy(labels=labels, predictions=class_ids, weights=weights, name=MetricKeys.ACCURACY),
            }
            if regularization_loss is not None:
                ops[utils.summary_key(self._name, MetricKeys.LOSS_REGULARIZATION)] = mean(
                    values=regularization_loss, name=MetricKeys.LOSS_REGULARIZATION)
        return ops

    def _build(self, features: Any, mode: str, logits: Any, labels: Any, optimizer: Any, train_op_fn: Any,
               regularization_losses: Any) -> Any:
        from caudal.estimator.export.export_output import PredictOutput
        from caudal.ops.array_ops import expand_dims
        from caudal.ops.nn_ops import softmax
        from caudal.ops.reduction_ops import argmax

        keys = PredictionKeys
        logits = utils.check_logits_final_dim(logits, self.logits_dimension)
        with name_scope(None, "predictions", [logits]):
            all_ids = utils.all_class_ids(logits, self._n_classes)
            all_names = utils.all_classes(logits, self._n_classes, label_vocabulary=self._label_vocabulary)
            class_ids = expand_dims(argmax(logits, axis=-1, name=keys.CLASS_IDS), axis=-1)
            classes = _class_strings(class_ids, self._label_vocabulary)
            probabilities = softmax(logits, name=keys.PROBABILITIES)
            predictions = {keys.LOGITS: logits, keys.PROBABILITIES: probabilities, keys.CLASS_IDS: class_ids,
                           keys.CLASSES: classes, keys.ALL_CLASS_IDS: all_ids, keys.ALL_CLASSES: all_names}
        if mode == ModeKeys.PREDICT:
            output = utils.classification_output(probabilities, self._n_classes, self._label_vocabulary)
            return EstimatorSpec(mode=ModeKeys.PREDICT, predictions=predictions, export_outputs={
                _DEFAULT_SERVING_KEY: output, _CLASSIFY_SERVING_KEY: output,
                _PREDICT_SERVING_KEY: PredictOutput(predictions)})
        training_loss, unreduced_loss, weights, label_ids = self.create_loss(features, mode, logits, labels)
        if mode == ModeKeys.EVAL:
            loss, regularization_loss = self._regularized(training_loss, regularization_losses)
            return loss, predictions, self._eval_metric_ops, dict(
                labels=label_ids, class_ids=class_ids, weights=weights, unreduced_loss=unreduced_loss,
                regularization_loss=regularization_loss)
        return self._train_spec(training_loss, unreduced_loss, weights, regularization_losses, optimizer,
                                train_op_fn) + (predictions,)


class _BinaryLogisticHead(_Head):
    """Sigmoid cross-entropy over two classes (logits of dimension 1)."""

    def __init__(self, weight_column: Any = None, thresholds: Any = None, label_vocabulary: Any = None,
                 loss_reduction: str = Reduction.SUM, name: str | None = None):
        self._weight_column = weight_column
        self._thresholds = tuple(thresholds) if thresholds else ()
        self._label_vocabulary = label_vocabulary
        self._loss_reduction = loss_reduction
        self._name = name

    @property
    def logits_dimension(self) -> int:
        return 1

    def create_loss(self, features: Any, mode: str, logits: Any, labels: Any) -> LossSpec:
        from caudal.framework.convert import convert_to_tensor
        from caudal.ops.losses_impl import compute_weighted_loss
        from caudal.ops.math_ops import cast
        from caudal.ops.nn_loss_ops import sigmoid_cross_entropy_with_logits

        logits = convert_to_tensor(logits)
        labels = utils.check_dense_labels_match_logits_and_reshape(labels, logits, 1)
        if self._label_vocabulary is not None:
            labels = _vocabulary_ids(labels, self._label_vocabulary)
        labels = utils.assert_range(cast(labels, dtype=dtypes.float32), n_classes=2)
        unweighted_loss = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
        weights = utils.get_weights_and_check_match_logits(features, self._weight_column, logits)
        training_loss = compute_weighted_loss(unweighted_loss, weights=weights, reduction=self._loss_reduction)
        return LossSpec(training_loss, unweighted_loss, weights, labels)

    def _eval_metric_ops(self, labels: Any, logits: Any, logistic: Any, class_ids: Any, weights: Any,
                         unreduced_loss: Any, regularization_loss: Any) -> dict:
        from caudal.ops.metrics_impl import accuracy, mean, precision, recall

        keys = MetricKeys
        key = self._key
        with name_scope(None, "metrics", [labels, logits, logistic, class_ids, unreduced_loss]):
            labels_mean = utils.indicator_labels_mean(labels=labels, weights=weights, name=keys.LABEL_MEAN)
            ops = {
                key(keys.LOSS_MEAN): mean(values=unreduced_loss, weights=weights, name=keys.LOSS_MEAN),
                key(keys.ACCURACY): accuracy(labels=labels, predictions=class_ids, weights=weights,
                                             name=keys.ACCURACY),
                key(keys.PRECISION): precision(labels=labels, predictions=class_ids, weights=weights,
                                               name=keys.PRECISION),
                key(keys.RECALL): recall(labels=labels, predictions=class_ids, weights=weights, name=keys.RECALL),
                key(keys.PREDICTION_MEAN): utils.predictions_mean(predictions=logistic, weights=weights,
                                                                  name=keys.PREDICTION_MEAN),
                key(keys.LABEL_MEAN): labels_mean,
                key(keys.ACCURACY_BASELINE): utils.accuracy_baseline(labels_mean),
                key(keys.AUC): utils.auc(labels=labels, predictions=logistic, weights=weights, name=keys.AUC),
                key(keys.AUC_PR): utils.auc(labels=labels, predictions=logistic, weights=weights, curve="PR",
                                            name=keys.AUC_PR),
            }
            if regularization_loss is not None:
                ops[key(keys.LOSS_REGULARIZATION)] = mean(values=regularization_loss, name=keys.LOSS_REGULARIZATION)
            for threshold in self._thresholds:
                accuracy_key = keys.ACCURACY_AT_THRESHOLD % threshold
                ops[key(accuracy_key)] = utils.accuracy_at_threshold(labels, logistic, weights, threshold,
                                                                     name=accuracy_key)
                precision_key = keys.PRECISION_AT_THRESHOLD % threshold
                ops[key(precision_key)] = utils.precision_at_threshold(labels, logistic, weights, threshold,
                                                                       name=precision_key)
                recall_key = keys.RECALL_AT_THRESHOLD % threshold
                ops[key(recall_key)] = utils.recall_at_threshold(labels, logistic, weights, threshold,
                                                                 name=recall_key)
        return ops

    def _key(self, value: str) -> str:
        return utils.summary_key(self._name, value)

    def _build(self, features: Any, mode: str, logits: Any, labels: Any, optimizer: Any, train_op_fn: Any,
               regularization_losses: Any) -> Any:
        from caudal.estimator.export.export_output import PredictOutput, RegressionOutput
        from caudal.ops.array_ops import concat, expand_dims
        from caudal.ops.constant_ops import zeros_like
        from caudal.ops.math_ops import sigmoid
        from caudal.ops.nn_ops import softmax
        from caudal.ops.reduction_ops import argmax

        keys = PredictionKeys
        with name_scope(None, "predictions", [logits]):
            logits = utils.check_logits_final_dim(logits, self.logits_dimension)
            logistic = sigmoid(logits, name=keys.LOGISTIC)
            two_class_logits = concat((zeros_like(logits), logits), axis=-1, name="two_class_logits")
            probabilities = softmax(two_class_logits, name=keys.PROBABILITIES)
            class_ids = expand_dims(argmax(two_class_logits, axis=-1, name=keys.CLASS_IDS), axis=-1)
            all_ids = utils.all_class_ids(logits, n_classes=2)
            all_names = utils.all_classes(logits, n_classes=2, label_vocabulary=self._label_vocabulary)
            classes = _class_strings(class_ids, self._label_vocabulary)
            predictions = {keys.LOGITS: logits, keys.LOGISTIC: logistic, keys.PROBABILITIES: probabilities,
                           keys.CLASS_IDS: class_ids, keys.CLASSES: classes, keys.ALL_CLASS_IDS: all_ids,
                           keys.ALL_CLASSES: all_names}
        if mode == ModeKeys.PREDICT:
            output = utils.classification_output(probabilities, 2, self._label_vocabulary)
            return EstimatorSpec(mode=ModeKeys.PREDICT, predictions=predictions, export_outputs={
                _DEFAULT_SERVING_KEY: output, _CLASSIFY_SERVING_KEY: output,
                _REGRESS_SERVING_KEY: RegressionOutput(value=logistic),
                _PREDICT_SERVING_KEY: PredictOutput(predictions)})
        training_loss, unreduced_loss, weights, processed_labels = self.create_loss(features, mode, logits, labels)
        if mode == ModeKeys.EVAL:
            loss, regularization_loss = self._regularized(training_loss, regularization_losses)
            return loss, predictions, self._eval_metric_ops, dict(
                labels=processed_labels, logits=logits, logistic=logistic, class_ids=class_ids, weights=weights,
                unreduced_loss=unreduced_loss, regularization_loss=regularization_loss)
        return self._train_spec(training_loss, unreduced_loss, weights, regularization_losses, optimizer,
                                train_op_fn) + (predictions,)


class _RegressionHead(_Head):
    """Mean squared error over `label_dimension` outputs."""

    def __init__(self, label_dimension: int, weight_column: Any = None, loss_reduction: str = Reduction.SUM,
                 name: str | None = None):
        if label_dimension < 1:
            raise ValueError(f"Invalid label_dimension {label_dimension}.")
        self._logits_dimension = label_dimension
        self._weight_column = weight_column
        self._loss_reduction = loss_reduction
        self._name = name

    @property
    def logits_dimension(self) -> int:
        return self._logits_dimension

    def create_loss(self, features: Any, mode: str, logits: Any, labels: Any) -> LossSpec:
        from caudal.framework.convert import convert_to_tensor
        from caudal.ops.losses_impl import compute_weighted_loss, mean_squared_error
        from caudal.ops.math_ops import cast

        logits = convert_to_tensor(logits)
        labels = utils.check_dense_labels_match_logits_and_reshape(labels, logits, self._logits_dimension)
        labels = cast(labels, dtype=dtypes.float32)
        unweighted_loss = mean_squared_error(labels=labels, predictions=logits, reduction=Reduction.NONE)
        weights = utils.get_weights_and_check_match_logits(features, self._weight_column, logits,
                                                           allow_per_logit_weights=True)
        training_loss = compute_weighted_loss(unweighted_loss, weights=weights, reduction=self._loss_reduction)
        return LossSpec(training_loss, unweighted_loss, weights, labels)

    def _eval_metric_ops(self, predicted_value: Any, labels: Any, weights: Any, unreduced_loss: Any,
                         regularization_loss: Any) -> dict:
        from caudal.ops.metrics_impl import mean

        ops = {
            utils.summary_key(self._name, MetricKeys.LOSS_MEAN): mean(values=unreduced_loss, weights=weights),
            utils.summary_key(self._name, MetricKeys.PREDICTION_MEAN): utils.predictions_mean(
                predictions=predicted_value, weights=weights, name=MetricKeys.PREDICTION_MEAN),
            utils.summary_key(self._name, MetricKeys.LABEL_MEAN): mean(values=labels, weights=weights),
        }
        if regularization_loss is not None:
            ops[utils.summary_key(self._name, MetricKeys.LOSS_REGULARIZATION)] = mean(
                values=regularization_loss, name=MetricKeys.LOSS_REGULARIZATION)
        return ops

    def _build(self, features: Any, mode: str, logits: Any, labels: Any, optimizer: Any, train_op_fn: Any,
               regularization_losses: Any) -> Any:
        from caudal.estimator.export.export_output import PredictOutput, RegressionOutput

        logits = utils.check_logits_final_dim(logits, self._logits_dimension)
        predictions = {PredictionKeys.PREDICTIONS: logits}
        if mode == ModeKeys.PREDICT:
            output = RegressionOutput(value=logits)
            return EstimatorSpec(mode=ModeKeys.PREDICT, predictions=predictions, export_outputs={
                _DEFAULT_SERVING_KEY: output, _REGRESS_SERVING_KEY: output,
                _PREDICT_SERVING_KEY: PredictOutput(predictions)})
        training_loss, unreduced_loss, weights, processed_labels = self.create_loss(features, mode, logits, labels)
        if mode == ModeKeys.EVAL:
            loss, regularization_loss = self._regularized(training_loss, regularization_losses)
            return loss, predictions, self._eval_metric_ops, dict(
                predicted_value=logits, labels=processed_labels, weights=weights, unreduced_loss=unreduced_loss,
                regularization_loss=regularization_loss)
        return self._train_spec(training_loss, unreduced_loss, weights, regularization_losses, optimizer,
                                train_op_fn) + (predictions,)


def binary_logistic_or_multi_class_head(n_classes: int, weight_column: Any, label_vocabulary: Any,
                                        loss_reduction: str) -> _Head:
    """The binary head for `n_classes == 2`, else the multi-class head, checking the arguments as TF."""
    _check_loss_reduction(loss_reduction)
    if n_classes == 2:
        if label_vocabulary is not None and not isinstance(label_vocabulary, (list, tuple)):
            raise TypeError("label_vocabulary should be a list or tuple. Given type: "
                            f"{type(label_vocabulary)}")
        return _BinaryLogisticHead(weight_column=weight_column, label_vocabulary=label_vocabulary,
                                   loss_reduction=loss_reduction)
    if label_vocabulary is not None and not isinstance(label_vocabulary, (list, tuple)):
        raise ValueError(f"label_vocabulary should be a list or a tuple. Given type: {type(label_vocabulary)}")
    return _MultiClassHead(n_classes, weight_column=weight_column, label_vocabulary=label_vocabulary,
                           loss_reduction=loss_reduction)


def regression_head(weight_column: Any = None, label_dimension: int = 1,
                    loss_reduction: str = Reduction.SUM) -> _Head:
    _check_loss_reduction(loss_reduction)
    return _RegressionHead(label_dimension=label_dimension, weight_column=weight_column,
                           loss_reduction=loss_reduction)
