"""`tf.keras.losses`: the loss functions (per-sample values, mean over the last axis) and the `Loss` classes.

A `Loss` object reduces with `compute_weighted_loss`: per-sample losses times the sample weights,
summed, and divided by the number of elements for SUM_OVER_BATCH_SIZE (`auto`), as TF-Keras does.
"""
from __future__ import annotations

from typing import Any

import caudal as tf
from caudal.framework.tensor import Tensor
from caudal.keras import _backend_nn as KN
from caudal.keras.backend_config import epsilon
from caudal.keras.utils.generic_utils import deserialize_keras_object, serialize_keras_object

__all__ = [
    "Reduction", "Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "Hinge", "SquaredHinge", "CategoricalHinge", "Poisson", "LogCosh",
    "KLDivergence", "Huber", "CosineSimilarity", "mean_squared_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "hinge", "squared_hinge", "categorical_hinge",
    "poisson", "log_cosh", "logcosh", "kl_divergence", "kullback_leibler_divergence", "huber", "cosine_similarity",
    "mse", "mae", "mape", "msle", "MSE", "MAE", "MAPE", "MSLE", "kld", "KLD", "get", "serialize", "deserialize",
    "compute_weighted_loss", "squeeze_or_expand_dimensions",
]


class Reduction:
    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls) -> tuple[str, ...]:
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key: str) -> None:
        if key not in cls.all():
            raise ValueError(f'Invalid Reduction Key: {key}. Expected keys are "{cls.all()}"')


# ---------------------------------------------------------------------------------------- shapes
def remove_squeezable_dimensions(labels: Tensor, predictions: Tensor) -> tuple[Tensor, Tensor]:
    """Drops a trailing axis of size 1 from whichever of the two has one more axis than the other."""
    pred_rank, label_rank = predictions.shape.ndims, labels.shape.ndims
    if pred_rank is not None and label_rank is not None:
        diff = pred_rank - label_rank
        if diff == 1 and predictions.shape[-1].is_compatible_with(1):
            predictions = tf.squeeze(predictions, [-1])
        elif diff == -1 and labels.shape[-1].is_compatible_with(1):
            labels = tf.squeeze(labels, [-1])
    return labels, predictions


def squeeze_or_expand_dimensions(y_pred: Tensor, y_true: Any = None, sample_weight: Any = None) -> tuple:
    """Keras's rank alignment of predictions, labels and sample weights (static ranks)."""
    pred_rank = y_pred.shape.ndims
    if y_true is not None:
        true_rank = y_true.shape.ndims
        if true_rank is not None and pred_rank is not None and (pred_rank - true_rank != 1 or
                                                                  y_pred.shape[-1].value == 1):
            y_true, y_pred = remove_squeezable_dimensions(y_true, y_pred)
    if sample_weight is None:
        return y_pred, y_true
    weight_rank = sample_weight.shape.ndims
    if weight_rank == 0:
        return y_pred, y_true, sample_weight
    if pred_rank is not None and weight_rank is not None:
        if weight_rank - pred_rank == 1:
            sample_weight = tf.squeeze(sample_weight, [-1])
        elif pred_rank - weight_rank == 1:
            sample_weight = tf.expand_dims(sample_weight, -1)
    return y_pred, y_true, sample_weight


def reduce_weighted_loss(weighted_losses: Tensor, reduction: str = Reduction.SUM_OVER_BATCH_SIZE) -> Tensor:
    from caudal.ops.metrics_impl import div_no_nan

    if reduction == Reduction.NONE:
        return weighted_losses
    loss = tf.reduce_sum(weighted_losses)
    if reduction in (Reduction.SUM_OVER_BATCH_SIZE, Reduction.AUTO):
        with tf.name_scope("num_elements") as scope:
            count = tf.cast(tf.size(weighted_losses, name=scope), dtype=weighted_losses.dtype)
        loss = div_no_nan(loss, count, name="value")
    return loss


def compute_weighted_loss(losses: Any, sample_weight: Any = None, reduction: str = Reduction.SUM_OVER_BATCH_SIZE,
                          name: str | None = None) -> Tensor:
    """losses * sample_weight (ranks aligned), reduced as `reduction` says."""
    Reduction.validate(reduction)
    if reduction == Reduction.AUTO:
        reduction = Reduction.SUM_OVER_BATCH_SIZE
    with tf.name_scope(name or "weighted_loss"):
        losses = tf.convert_to_tensor(losses)
        casted = not losses.dtype.base_dtype.is_floating
        input_dtype = losses.dtype.base_dtype
        if casted:
            losses = tf.cast(losses, "float32")
        weights = tf.cast(tf.convert_to_tensor(1.0 if sample_weight is None else sample_weight),
                          losses.dtype.base_dtype)
        losses, _, weights = squeeze_or_expand_dimensions(losses, None, weights)
        loss = reduce_weighted_loss(tf.multiply(losses, weights), reduction)
        return tf.cast(loss, input_dtype) if casted else loss


def _pair(y_true: Any, y_pred: Any) -> tuple[Tensor, Tensor]:
    y_pred = tf.convert_to_tensor(y_pred)
    y_true = tf.cast(y_true, y_pred.dtype.base_dtype)
    return y_true, y_pred


# ------------------------------------------------------------------------------------- functions
def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    return tf.reduce_mean(tf.squared_difference(y_pred, y_true), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    return tf.reduce_mean(tf.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    diff = tf.abs((y_true - y_pred) / tf.maximum(tf.abs(y_true), epsilon()))
    return 100.0 * tf.reduce_mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    first = tf.log(tf.maximum(y_pred, epsilon()) + 1.0)
    second = tf.log(tf.maximum(y_true, epsilon()) + 1.0)
    return tf.reduce_mean(tf.squared_difference(first, second), axis=-1)


def _smooth_labels(y_true: Tensor, label_smoothing: float, num_classes: Any) -> Tensor:
    if not label_smoothing:
        return y_true
    return y_true * (1.0 - label_smoothing) + label_smoothing / num_classes


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _smooth_labels(y_true, label_smoothing, 2.0)
    return tf.reduce_mean(KN.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = _smooth_labels(y_true, label_smoothing, tf.cast(tf.shape(y_true)[-1], y_pred.dtype.base_dtype))
    return KN.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, axis: int = -1,
                                    ignore_class: Any = None) -> Tensor:
    if ignore_class is not None:
        raise ValueError("caudal's sparse_categorical_crossentropy does not support `ignore_class`")
    return KN.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def _plus_minus_one(y_true: Tensor) -> Tensor:
    """Labels in {0, 1} become {-1, 1}; labels already in {-1, 1} stay."""
    is_binary = tf.reduce_all(tf.logical_or(tf.equal(y_true, 0), tf.equal(y_true, 1)))
    return tf.cond(is_binary, lambda: 2.0 * y_true - 1.0, lambda: y_true)


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _plus_minus_one(y_true)
    return tf.reduce_mean(tf.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _plus_minus_one(y_true)
    return tf.reduce_mean(tf.square(tf.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    pos = tf.reduce_sum(y_true * y_pred, axis=-1)
    neg = tf.reduce_max((1.0 - y_true) * y_pred, axis=-1)
    return tf.maximum(neg - pos + 1.0, 0.0)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    return tf.reduce_mean(y_pred - y_true * tf.log(y_pred + epsilon()), axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return tf.reduce_mean(x + tf.nn.softplus(-2.0 * x) - tf.cast(tf.log(2.0), x.dtype), axis=-1)


def kl_divergence(y_true: Any, y_pred: Any) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = tf.clip_by_value(y_true, epsilon(), 1)
    y_pred = tf.clip_by_value(y_pred, epsilon(), 1)
    return tf.reduce_sum(y_true * tf.log(y_true / y_pred), axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    delta = tf.cast(delta, y_pred.dtype.base_dtype)
    error = tf.subtract(y_pred, y_true)
    abs_error = tf.abs(error)
    half = tf.cast(0.5, y_pred.dtype.base_dtype)
    return tf.reduce_mean(tf.where_v2(abs_error <= delta, half * tf.square(error),
                                   delta * abs_error - half * tf.square(delta)), axis=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Tensor:
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = tf.nn.l2_normalize(y_true, axis=axis)
    y_pred = tf.nn.l2_normalize(y_pred, axis=axis)
    return -tf.reduce_sum(y_true * y_pred, axis=axis)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh


# --------------------------------------------------------------------------------------- classes
class Loss:
    """`loss(y_true, y_pred, sample_weight=None)`: `call` per sample, then weighted and reduced."""

    def __init__(self, reduction: str = Reduction.AUTO, name: str | None = None):
        Reduction.validate(reduction)
        self.reduction = reduction
        self.name = name

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Tensor:
        scope = self.name or type(self).__name__
        with tf.name_scope(scope.replace(" ", "_")):
            losses = self.call(y_true, y_pred)
            return compute_weighted_loss(losses, sample_weight, reduction=self.reduction)

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        raise NotImplementedError("Must be implemented in subclasses.")

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A `Loss` around a loss function; extra keyword arguments are passed to it."""

    def __init__(self, fn: Any, reduction: str = Reduction.AUTO, name: str | None = None, **kwargs: Any):
        super().__init__(reduction=reduction, name=name)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> Tensor:
        if isinstance(y_pred, Tensor) and isinstance(y_true, Tensor):
            y_pred, y_true = squeeze_or_expand_dimensions(y_pred, y_true)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._fn_kwargs)
        config["fn"] = getattr(self.fn, "__name__", None)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        config = dict(config)
        config.pop("fn", None)
        return cls(**config)


def _wrapper(fn: Any, default_name: str, **defaults: Any) -> type:
    class Wrapped(LossFunctionWrapper):
        def __init__(self, reduction: str = Reduction.AUTO, name: str = default_name, **kwargs: Any):
            options = dict(defaults)
            options.update(kwargs)
            super().__init__(fn, reduction=reduction, name=name, **options)

    return Wrapped


class MeanSquaredError(_wrapper(mean_squared_error, "mean_squared_error")):
    pass


class MeanAbsoluteError(_wrapper(mean_absolute_error, "mean_absolute_error")):
    pass


class MeanAbsolutePercentageError(_wrapper(mean_absolute_percentage_error, "mean_absolute_percentage_error")):
    pass


class MeanSquaredLogarithmicError(_wrapper(mean_squared_logarithmic_error, "mean_squared_logarithmic_error")):
    pass


class BinaryCrossentropy(_wrapper(binary_crossentropy, "binary_crossentropy", from_logits=False, label_smoothing=0.0,
                                  axis=-1)):
    pass


class CategoricalCrossentropy(_wrapper(categorical_crossentropy, "categorical_crossentropy", from_logits=False,
                                       label_smoothing=0.0, axis=-1)):
    pass


class SparseCategoricalCrossentropy(_wrapper(sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
                                             from_logits=False, ignore_class=None)):
    pass


class Hinge(_wrapper(hinge, "hinge")):
    pass


class SquaredHinge(_wrapper(squared_hinge, "squared_hinge")):
    pass


class CategoricalHinge(_wrapper(categorical_hinge, "categorical_hinge")):
    pass


class Poisson(_wrapper(poisson, "poisson")):
    pass


class LogCosh(_wrapper(log_cosh, "log_cosh")):
    pass


class KLDivergence(_wrapper(kl_divergence, "kl_divergence")):
    pass


class Huber(_wrapper(huber, "huber_loss", delta=1.0)):
    pass


class CosineSimilarity(_wrapper(cosine_similarity, "cosine_similarity", axis=-1)):
    pass


_CLASSES = [MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
            BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, Hinge, SquaredHinge,
            CategoricalHinge, Poisson, LogCosh, KLDivergence, Huber, CosineSimilarity]
_FUNCTIONS = [mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
              binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, hinge, squared_hinge,
              categorical_hinge, poisson, log_cosh, kl_divergence, huber, cosine_similarity]
_BY_NAME: dict[str, Any] = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({fn.__name__: fn for fn in _FUNCTIONS})
_BY_NAME.update({"mse": mse, "MSE": mse, "mae": mae, "MAE": mae, "mape": mape, "MAPE": mape, "msle": msle,
                 "MSLE": msle, "kld": kld, "KLD": kld, "kullback_leibler_divergence": kld, "logcosh": log_cosh,
                 "huber_loss": huber, "LossFunctionWrapper": LossFunctionWrapper})


def serialize(loss: Any) -> Any:
    return serialize_keras_object(loss)


def deserialize(name: Any, custom_objects: dict | None = None) -> Any:
    return deserialize_keras_object(name, module_objects=_BY_NAME, custom_objects=custom_objects,
                                    printable_module_name="loss function")


def get(identifier: Any) -> Any:
    """A loss from None, a name ('mse', 'categorical_crossentropy', ...), a config dict or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return deserialize(str(identifier))
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss function identifier: {identifier}")

