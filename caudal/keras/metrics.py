"""`tf.keras.metrics`: stateful metrics (variables `total`, `count`, ...) and the metric functions.

A metric's variables are kept out of every collection (as TF-Keras does) and initialized by Keras's
session. Called in a graph, a metric builds its update and returns its result read after the update,
so fetching the result runs both; `reset_states()` zeroes the variables.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import caudal as tf
from caudal.framework.tensor import Tensor
from caudal.keras import backend as K
from caudal.keras import losses as losses_module
from caudal.keras.engine.base_layer import Layer
from caudal.keras.utils.generic_utils import deserialize_keras_object, serialize_keras_object
from caudal.ops.metrics_impl import div_no_nan, read_variable

__all__ = [
    "Metric", "Reduce", "Sum", "Mean", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy", "CategoricalAccuracy",
    "SparseCategoricalAccuracy", "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "MeanSquaredError",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "RootMeanSquaredError",
    "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Hinge", "SquaredHinge",
    "CategoricalHinge", "Poisson", "KLDivergence", "LogCoshError", "CosineSimilarity", "Precision", "Recall",
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "get", "serialize", "deserialize",
]


class Metric(Layer):
    """A stateful metric: `update_state(...)` adds a batch, `result()` reads the value, `reset_states()`."""

    def __init__(self, name: str | None = None, dtype: Any = None, **kwargs: Any):
        super().__init__(name=name, dtype=dtype or "float32", **kwargs)
        self.stateful = True
        self.built = True

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        update = self.update_state(*args, **kwargs)
        with tf.control_dependencies([update] if update is not None else []):
            result = self.result()
        return result

    def update_state(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Must be implemented in subclasses.")

    def result(self) -> Tensor:
        raise NotImplementedError("Must be implemented in subclasses.")

    def reset_states(self) -> None:
        K.batch_set_value([(v, np.zeros(v.shape.as_list())) for v in self.variables])

    reset_state = reset_states

    def add_weight(self, name: str | None = None, shape: Any = (), dtype: Any = None, initializer: Any = None,
                   **kwargs: Any) -> Any:
        kwargs.pop("trainable", None)
        with tf.get_default_graph()._outside_control_flow():
            return super().add_weight(name=name, shape=shape, dtype=dtype or self._compute_dtype,
                                      initializer=initializer or "zeros", trainable=False, collections=[])

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self._compute_dtype}


class Reduce(Metric):
    """Sums values into `total` (and counts them into `count` for means)."""

    def __init__(self, reduction: str, name: str | None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.reduction = reduction
        self.total = self.add_weight("total", initializer="zeros")
        if reduction in ("weighted_mean", "sum_over_batch_size"):
            self.count = self.add_weight("count", initializer="zeros")

    def update_state(self, values: Any, sample_weight: Any = None) -> Any:
        values = tf.cast(values, self._compute_dtype)
        if sample_weight is not None:
            sample_weight = tf.cast(sample_weight, self._compute_dtype)
            values, _, sample_weight = losses_module.squeeze_or_expand_dimensions(values, sample_weight=sample_weight)
            values_rank, weight_rank = values.shape.ndims, sample_weight.shape.ndims
            if weight_rank is not None and values_rank is not None and weight_rank < values_rank and weight_rank > 0:
                reduce = tf.reduce_sum if self.reduction == "sum" else tf.reduce_mean
                values = reduce(values, axis=list(range(weight_rank, values_rank)))
            sample_weight = sample_weight + tf.zeros_like(values)
            values = tf.multiply(values, sample_weight)
        value_sum = tf.reduce_sum(values)
        with tf.control_dependencies([value_sum]):
            update_total = tf.assign_add(self.total, value_sum)
        if self.reduction == "sum":
            return update_total
        if self.reduction == "sum_over_batch_size" or sample_weight is None:
            num_values = tf.cast(tf.size(values), self._compute_dtype)
        else:
            num_values = tf.reduce_sum(sample_weight)
        with tf.control_dependencies([update_total]):
            return tf.assign_add(self.count, num_values)

    def result(self) -> Tensor:
        if self.reduction == "sum":
            return read_variable(self.total)
        return div_no_nan(read_variable(self.total), read_variable(self.count))


class Sum(Reduce):
    def __init__(self, name: str = "sum", dtype: Any = None):
        super().__init__("sum", name=name, dtype=dtype)


class Mean(Reduce):
    def __init__(self, name: str = "mean", dtype: Any = None):
        super().__init__("weighted_mean", name=name, dtype=dtype)


class MeanMetricWrapper(Mean):
    """The (weighted) mean of `fn(y_true, y_pred)` over everything seen since the last reset."""

    def __init__(self, fn: Any, name: str | None = None, dtype: Any = None, **kwargs: Any):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        y_true = tf.cast(y_true, self._compute_dtype)
        y_pred = tf.cast(y_pred, self._compute_dtype)
        y_pred, y_true = losses_module.squeeze_or_expand_dimensions(y_pred, y_true)
        matches = self._fn(y_true, y_pred, **self._fn_kwargs)
        return super().update_state(matches, sample_weight=sample_weight)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is MeanMetricWrapper:
            config["fn"] = self._fn
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        config = dict(config)
        fn = config.pop("fn", None)
        if cls is MeanMetricWrapper:
            return cls(get(fn), **config)
        return cls(**config)


# --------------------------------------------------------------------------------- functions
def _sparse_categorical_matches(y_true: Any, y_pred: Any) -> Tensor:
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.convert_to_tensor(y_true)
    original_shape = tf.shape(y_true)
    reshape = False
    if y_true.shape.ndims is not None and y_pred.shape.ndims is not None \
            and y_true.shape.ndims == y_pred.shape.ndims:
        y_true = tf.squeeze(y_true, [-1])
        reshape = True
    y_pred = tf.argmax(y_pred, axis=-1)
    if y_pred.dtype.base_dtype != y_true.dtype.base_dtype:
        y_pred = tf.cast(y_pred, y_true.dtype.base_dtype)
    matches = tf.cast(tf.equal(y_true, y_pred), K.floatx())
    if reshape:
        matches = tf.reshape(matches, original_shape)
    return matches


def _sparse_top_k_matches(y_true: Any, y_pred: Any, k: int) -> Tensor:
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.convert_to_tensor(y_true)
    if y_true.shape.ndims is not None and y_pred.shape.ndims is not None:
        if y_pred.shape.ndims > 2:
            y_pred = tf.reshape(y_pred, [-1, y_pred.shape[-1].value])
        if y_true.shape.ndims > 1:
            y_true = tf.reshape(y_true, [-1])
    return tf.cast(tf.nn.in_top_k(y_pred, tf.cast(y_true, "int32"), k), K.floatx())


def accuracy(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = tf.convert_to_tensor(y_true), tf.convert_to_tensor(y_pred)
    y_true.shape.assert_is_compatible_with(y_pred.shape)
    if y_true.dtype.base_dtype != y_pred.dtype.base_dtype:
        y_pred = tf.cast(y_pred, y_true.dtype.base_dtype)
    return tf.cast(tf.equal(y_true, y_pred), K.floatx())


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Tensor:
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.cast(y_true, y_pred.dtype.base_dtype)
    predicted = tf.cast(y_pred > tf.cast(threshold, y_pred.dtype.base_dtype), y_pred.dtype.base_dtype)
    return tf.reduce_mean(tf.cast(tf.equal(y_true, predicted), K.floatx()), axis=-1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    return _sparse_categorical_matches(tf.argmax(y_true, axis=-1), y_pred)


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    matches = _sparse_categorical_matches(y_true, y_pred)
    if matches.shape.ndims is not None and matches.shape.ndims > 1 and matches.shape[-1].value == 1:
        matches = tf.squeeze(matches, [-1])
    return matches


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Tensor:
    return _sparse_top_k_matches(tf.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Tensor:
    return _sparse_top_k_matches(y_true, y_pred, k)


def _root_mean_squared(y_true: Any, y_pred: Any) -> Tensor:
    return losses_module.mean_squared_error(y_true, y_pred)


# ----------------------------------------------------------------------------------- classes
def _wrapper_class(fn: Any, default_name: str, **defaults: Any) -> type:
    class Wrapped(MeanMetricWrapper):
        def __init__(self, name: str = default_name, dtype: Any = None, **kwargs: Any):
            options = dict(defaults)
            options.update(kwargs)
            super().__init__(fn, name=name, dtype=dtype, **options)

    return Wrapped


class Accuracy(_wrapper_class(accuracy, "accuracy")):
    pass


class BinaryAccuracy(_wrapper_class(binary_accuracy, "binary_accuracy", threshold=0.5)):
    pass


class CategoricalAccuracy(_wrapper_class(categorical_accuracy, "categorical_accuracy")):
    pass


class SparseCategoricalAccuracy(_wrapper_class(sparse_categorical_accuracy, "sparse_categorical_accuracy")):
    pass


class TopKCategoricalAccuracy(_wrapper_class(top_k_categorical_accuracy, "top_k_categorical_accuracy", k=5)):
    pass


class SparseTopKCategoricalAccuracy(_wrapper_class(sparse_top_k_categorical_accuracy,
                                                   "sparse_top_k_categorical_accuracy", k=5)):
    pass


class MeanSquaredError(_wrapper_class(losses_module.mean_squared_error, "mean_squared_error")):
    pass


class MeanAbsoluteError(_wrapper_class(losses_module.mean_absolute_error, "mean_absolute_error")):
    pass


class MeanAbsolutePercentageError(_wrapper_class(losses_module.mean_absolute_percentage_error,
                                                 "mean_absolute_percentage_error")):
    pass


class MeanSquaredLogarithmicError(_wrapper_class(losses_module.mean_squared_logarithmic_error,
                                                 "mean_squared_logarithmic_error")):
    pass


class BinaryCrossentropy(_wrapper_class(losses_module.binary_crossentropy, "binary_crossentropy",
                                        from_logits=False, label_smoothing=0.0)):
    pass


class CategoricalCrossentropy(_wrapper_class(losses_module.categorical_crossentropy, "categorical_crossentropy",
                                             from_logits=False, label_smoothing=0.0)):
    pass


class SparseCategoricalCrossentropy(_wrapper_class(losses_module.sparse_categorical_crossentropy,
                                                   "sparse_categorical_crossentropy", from_logits=False, axis=-1)):
    pass


class Hinge(_wrapper_class(losses_module.hinge, "hinge")):
    pass


class SquaredHinge(_wrapper_class(losses_module.squared_hinge, "squared_hinge")):
    pass


class CategoricalHinge(_wrapper_class(losses_module.categorical_hinge, "categorical_hinge")):
    pass


class Poisson(_wrapper_class(losses_module.poisson, "poisson")):
    pass


class KLDivergence(_wrapper_class(losses_module.kl_divergence, "kullback_leibler_divergence")):
    pass


class LogCoshError(_wrapper_class(losses_module.log_cosh, "logcosh")):
    pass


class CosineSimilarity(_wrapper_class(lambda y_true, y_pred, axis=-1: -losses_module.cosine_similarity(
        y_true, y_pred, axis=axis), "cosine_similarity", axis=-1)):
    pass


class RootMeanSquaredError(Mean):
    """sqrt of the mean squared error over everything seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        y_true = tf.cast(y_true, self._compute_dtype)
        y_pred = tf.cast(y_pred, self._compute_dtype)
        y_pred, y_true = losses_module.squeeze_or_expand_dimensions(y_pred, y_true)
        return super().update_state(tf.squared_difference(y_pred, y_true), sample_weight=sample_weight)

    def result(self) -> Tensor:
        return tf.sqrt(div_no_nan(read_variable(self.total), read_variable(self.count)))


class _ThresholdCounts(Metric):
    """Counts, per threshold, predictions above it against true labels (Precision and Recall)."""

    _SECOND = ""

    def __init__(self, thresholds: Any = None, top_k: Any = None, class_id: Any = None, name: str | None = None,
                 dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        if top_k is not None or class_id is not None:
            raise ValueError("caudal's Precision and Recall support `thresholds` only (no top_k or class_id)")
        self.init_thresholds = thresholds
        self._single = thresholds is None or np.isscalar(thresholds)
        values = [0.5] if thresholds is None else ([thresholds] if np.isscalar(thresholds) else list(thresholds))
        self.thresholds = [float(v) for v in values]
        self.true_positives = self.add_weight("true_positives", shape=(len(values),), initializer="zeros")
        setattr(self, self._SECOND, self.add_weight(self._SECOND, shape=(len(values),), initializer="zeros"))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        y_pred = tf.reshape(tf.cast(y_pred, self._compute_dtype), [1, -1])
        y_true = tf.reshape(tf.cast(y_true, tf.bool), [1, -1])
        above = y_pred > tf.reshape(tf.constant(self.thresholds, dtype=self._compute_dtype), [-1, 1])
        weights = 1.0 if sample_weight is None else tf.reshape(tf.cast(sample_weight, self._compute_dtype), [1, -1])
        true_positive = tf.cast(tf.logical_and(above, y_true), self._compute_dtype) * weights
        second = self._second_count(above, y_true) * weights
        return tf.group(tf.assign_add(self.true_positives, tf.reduce_sum(true_positive, axis=1)),
                        tf.assign_add(getattr(self, self._SECOND), tf.reduce_sum(second, axis=1)))

    def result(self) -> Tensor:
        true_positives = read_variable(self.true_positives)
        value = div_no_nan(true_positives, true_positives + read_variable(getattr(self, self._SECOND)))
        return value[0] if self._single else value

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"thresholds": self.init_thresholds, "top_k": None, "class_id": None})
        return config


class Precision(_ThresholdCounts):
    _SECOND = "false_positives"

    def __init__(self, thresholds: Any = None, top_k: Any = None, class_id: Any = None, name: str | None = None,
                 dtype: Any = None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def _second_count(self, above: Tensor, y_true: Tensor) -> Tensor:
        return tf.cast(tf.logical_and(above, tf.logical_not(y_true)), self._compute_dtype)


class Recall(_ThresholdCounts):
    _SECOND = "false_negatives"

    def __init__(self, thresholds: Any = None, top_k: Any = None, class_id: Any = None, name: str | None = None,
                 dtype: Any = None):
        super().__init__(thresholds, top_k, class_id, name=name, dtype=dtype)

    def _second_count(self, above: Tensor, y_true: Tensor) -> Tensor:
        return tf.cast(tf.logical_and(tf.logical_not(above), y_true), self._compute_dtype)


# ------------------------------------------------------------------------------------ lookup
_CLASSES = [Sum, Mean, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
            TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
            MeanAbsolutePercentageError, MeanSquaredLogarithmicError, RootMeanSquaredError, BinaryCrossentropy,
            CategoricalCrossentropy, SparseCategoricalCrossentropy, Hinge, SquaredHinge, CategoricalHinge, Poisson,
            KLDivergence, LogCoshError, CosineSimilarity, Precision, Recall]
_FUNCTIONS = [accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
              top_k_categorical_accuracy, sparse_top_k_categorical_accuracy]
_BY_NAME: dict[str, Any] = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({fn.__name__: fn for fn in _FUNCTIONS})
for _fn in (losses_module.mean_squared_error, losses_module.mean_absolute_error,
            losses_module.mean_absolute_percentage_error, losses_module.mean_squared_logarithmic_error,
            losses_module.binary_crossentropy, losses_module.categorical_crossentropy,
            losses_module.sparse_categorical_crossentropy, losses_module.hinge, losses_module.squared_hinge,
            losses_module.categorical_hinge, losses_module.poisson, losses_module.kl_divergence,
            losses_module.log_cosh, losses_module.cosine_similarity):
    _BY_NAME[_fn.__name__] = _fn
_BY_NAME.update({"mse": losses_module.mse, "MSE": losses_module.mse, "mae": losses_module.mae,
                 "MAE": losses_module.mae, "mape": losses_module.mape, "MAPE": losses_module.mape,
                 "msle": losses_module.msle, "MSLE": losses_module.msle, "kld": losses_module.kld,
                 "KLD": losses_module.kld, "kullback_leibler_divergence": losses_module.kld,
                 "logcosh": losses_module.log_cosh, "acc": accuracy})


def serialize(metric: Any) -> Any:
    return serialize_keras_object(metric)


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    return deserialize_keras_object(config, module_objects=_BY_NAME, custom_objects=custom_objects,
                                    printable_module_name="metric function")


def get(identifier: Any) -> Any:
    """A metric function or object from a name, a config dict or a callable."""
    if isinstance(identifier, (dict, str)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier}")
