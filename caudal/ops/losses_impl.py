"""`tf.losses` (TF1): weighted losses with TF's reductions, and the LOSSES and
REGULARIZATION_LOSSES collections.

Every loss is computed in float32 and cast back to its input's dtype, reduced as `reduction`
says (default: the weighted sum divided by the number of non-zero weights), and added to
`loss_collection`, as in TF. A division by a zero count gives 0, like TF's DivNoNan (built here
from selects).
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, add_to_collection, get_collection, get_default_graph
from caudal.framework.tensor import Tensor

__all__ = ["Reduction", "compute_weighted_loss", "absolute_difference", "mean_squared_error", "huber_loss",
           "hinge_loss", "log_loss", "softmax_cross_entropy", "sparse_softmax_cross_entropy",
           "sigmoid_cross_entropy", "cosine_distance", "add_loss", "get_losses", "get_regularization_losses",
           "get_regularization_loss", "get_total_loss"]


class Reduction:
    """How a weighted loss is reduced to what a loss function returns."""

    NONE = "none"
    SUM = "weighted_sum"
    SUM_OVER_BATCH_SIZE = "weighted_sum_over_batch_size"
    MEAN = "weighted_mean"
    SUM_BY_NONZERO_WEIGHTS = "weighted_sum_by_nonzero_weights"
    SUM_OVER_NONZERO_WEIGHTS = SUM_BY_NONZERO_WEIGHTS

    @classmethod
    def all(cls) -> tuple[str, ...]:
        return (cls.NONE, cls.SUM, cls.MEAN, cls.SUM_OVER_BATCH_SIZE, cls.SUM_OVER_NONZERO_WEIGHTS,
                cls.SUM_BY_NONZERO_WEIGHTS)

    @classmethod
    def validate(cls, key: str) -> None:
        if key not in cls.all():
            raise ValueError(f"Invalid Reduction Key {key}. Key should be one of {cls.all()}.")


# ------------------------------------------------------------------ helpers
def _check_broadcastable(weights: Tensor, values: Tensor) -> None:
    """TF's static rule: scalar weights, or weights of the values' rank whose every dimension is 1
    or the values' dimension."""
    w, v = weights.shape, values.shape
    if w.ndims is None or v.ndims is None or w.ndims == 0:
        return
    if w.ndims != v.ndims:
        raise ValueError(f"weights can not be broadcast to values. values.rank={v.ndims}. weights.rank={w.ndims}. "
                         f"values.shape={v}. weights.shape={w}.")
    for i, (wd, vd) in enumerate(zip(w.as_list(), v.as_list(), strict=True)):
        if wd is not None and vd is not None and wd != 1 and wd != vd:
            raise ValueError(f"weights can not be broadcast to values. Mismatch at dim {i}. values.shape={v}, "
                             f"weights.shape={w}.")


def _safe_div(numerator: Tensor, denominator: Tensor, name: str) -> Tensor:
    """numerator / denominator, or 0 where the denominator is 0."""
    from caudal.ops.comparison_ops import not_equal, where
    from caudal.ops.constant_ops import ones_like, zeros_like
    from caudal.ops.math_ops import realdiv

    nonzero = not_equal(denominator, zeros_like(denominator))
    quotient = realdiv(numerator, where(nonzero, denominator, ones_like(denominator)))
    return where(nonzero, quotient, zeros_like(quotient), name=name)


def _num_present(losses: Tensor, weights: Tensor) -> Tensor:
    """How many elements of `losses` get a non-zero weight once weights are broadcast."""
    from caudal.ops.comparison_ops import not_equal
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.math_ops import cast, multiply
    from caudal.ops.reduction_ops import reduce_sum

    with get_default_graph().name_scope("num_present") as scope:
        present = cast(not_equal(weights, convert_to_tensor(0.0, dtype=weights.dtype.base_dtype)), dtypes_lib.float32)
        return reduce_sum(multiply(present, ones_like(losses)), name=scope)


def _as_float32(value: Any, name: str) -> Tensor:
    from caudal.ops.math_ops import cast

    return cast(convert_to_tensor(value, name=name), dtypes_lib.float32)


def _not_none(**arguments: Any) -> None:
    for key, value in arguments.items():
        if value is None:
            raise ValueError(f"Argument `{key}` must not be None.")


# ------------------------------------------------------------- the reducer
def compute_weighted_loss(losses: Any, weights: Any = 1.0, scope: str | None = None,
                          loss_collection: str | None = GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """losses * weights, reduced by `reduction`, in float32, cast back to the losses' dtype and
    added to `loss_collection` (None or "" adds it nowhere)."""
    from caudal.ops.array_ops import size
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.math_ops import cast, multiply
    from caudal.ops.reduction_ops import reduce_sum

    Reduction.validate(reduction)
    with get_default_graph().name_scope(scope or "weighted_loss"):
        losses = convert_to_tensor(losses, name="losses")
        input_dtype = losses.dtype.base_dtype
        weights = convert_to_tensor(weights, dtype_hint=dtypes_lib.float32, name="weights")
        _check_broadcastable(weights, losses)
        losses = cast(losses, dtypes_lib.float32)
        weights = cast(weights, dtypes_lib.float32)
        weighted = multiply(losses, weights)
        if reduction == Reduction.NONE:
            loss = weighted
        else:
            loss = reduce_sum(weighted)
            if reduction == Reduction.MEAN:
                loss = _safe_div(loss, reduce_sum(multiply(ones_like(losses), weights)), "value")
            elif reduction == Reduction.SUM_BY_NONZERO_WEIGHTS:
                loss = _safe_div(loss, _num_present(losses, weights), "value")
            elif reduction == Reduction.SUM_OVER_BATCH_SIZE:
                loss = _safe_div(loss, cast(size(losses), dtypes_lib.float32, name="num_elements"), "value")
        loss = cast(loss, input_dtype)
        add_loss(loss, loss_collection)
        return loss


# -------------------------------------------------------- regression losses
def _pairwise(kind: str, labels: Any, predictions: Any) -> tuple[Tensor, Tensor]:
    predictions = _as_float32(predictions, "predictions" if kind == "predictions" else "logits")
    labels = _as_float32(labels, "labels")
    predictions.shape.assert_is_compatible_with(labels.shape)
    return labels, predictions


def absolute_difference(labels: Any, predictions: Any, weights: Any = 1.0, scope: str | None = None,
                        loss_collection: str | None = GraphKeys.LOSSES,
                        reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """|predictions - labels|, weighted and reduced."""
    from caudal.ops.math_ops import abs as abs_
    from caudal.ops.math_ops import subtract

    _not_none(labels=labels, predictions=predictions)
    with get_default_graph().name_scope(scope or "absolute_difference") as scope:
        labels, predictions = _pairwise("predictions", labels, predictions)
        losses = abs_(subtract(predictions, labels))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def mean_squared_error(labels: Any, predictions: Any, weights: Any = 1.0, scope: str | None = None,
                       loss_collection: str | None = GraphKeys.LOSSES,
                       reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """(predictions - labels) ** 2, weighted and reduced."""
    from caudal.ops.special_math_ops import squared_difference

    _not_none(labels=labels, predictions=predictions)
    with get_default_graph().name_scope(scope or "mean_squared_error") as scope:
        labels, predictions = _pairwise("predictions", labels, predictions)
        losses = squared_difference(predictions, labels)
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def huber_loss(labels: Any, predictions: Any, weights: Any = 1.0, delta: float = 1.0, scope: str | None = None,
               loss_collection: str | None = GraphKeys.LOSSES,
               reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """0.5 * e ** 2 where |e| <= delta, else delta * (|e| - 0.5 * delta), for e = predictions - labels."""
    from caudal.ops.math_ops import abs as abs_
    from caudal.ops.math_ops import add, minimum, multiply, square, subtract

    _not_none(labels=labels, predictions=predictions)
    with get_default_graph().name_scope(scope or "huber_loss") as scope:
        labels, predictions = _pairwise("predictions", labels, predictions)
        abs_error = abs_(subtract(predictions, labels))
        delta_t = convert_to_tensor(delta, dtype=dtypes_lib.float32, name="delta")
        quadratic = minimum(abs_error, delta_t)
        linear = subtract(abs_error, quadratic)
        losses = add(multiply(convert_to_tensor(0.5, dtype=dtypes_lib.float32), square(quadratic)),
                     multiply(delta_t, linear))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def log_loss(labels: Any, predictions: Any, weights: Any = 1.0, epsilon: float = 1e-7, scope: str | None = None,
             loss_collection: str | None = GraphKeys.LOSSES,
             reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """-labels * log(predictions + epsilon) - (1 - labels) * log(1 - predictions + epsilon)."""
    from caudal.ops.math_ops import add, log, multiply, negative, subtract

    _not_none(labels=labels, predictions=predictions)
    with get_default_graph().name_scope(scope or "log_loss") as scope:
        labels, predictions = _pairwise("predictions", labels, predictions)
        eps = convert_to_tensor(epsilon, dtype=dtypes_lib.float32, name="epsilon")
        one = convert_to_tensor(1.0, dtype=dtypes_lib.float32)
        losses = subtract(negative(multiply(labels, log(add(predictions, eps)))),
                          multiply(subtract(one, labels), log(add(subtract(one, predictions), eps))))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def cosine_distance(labels: Any, predictions: Any, axis: Any = None, weights: Any = 1.0, scope: str | None = None,
                    loss_collection: str | None = GraphKeys.LOSSES,
                    reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS, dim: Any = None) -> Tensor:
    """1 - sum(predictions * labels, axis), kept as a size-1 axis; inputs should be unit-normalized.
    `dim` is the legacy name of `axis`, which is required."""
    from caudal.ops.math_ops import multiply, subtract
    from caudal.ops.reduction_ops import reduce_sum

    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("You must specify argument `axis`.")
    _not_none(labels=labels, predictions=predictions)
    with get_default_graph().name_scope(scope or "cosine_distance_loss") as scope:
        labels, predictions = _pairwise("predictions", labels, predictions)
        radial = multiply(predictions, labels)
        losses = subtract(convert_to_tensor(1.0, dtype=dtypes_lib.float32),
                          reduce_sum(radial, [axis], keepdims=True))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


# ------------------------------------------------------ classification losses
def hinge_loss(labels: Any, logits: Any, weights: Any = 1.0, scope: str | None = None,
               loss_collection: str | None = GraphKeys.LOSSES,
               reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """relu(1 - (2 * labels - 1) * logits) for labels in {0, 1}."""
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.math_ops import multiply, subtract
    from caudal.ops.nn_ops import relu

    _not_none(labels=labels, logits=logits)
    with get_default_graph().name_scope(scope or "hinge_loss") as scope:
        labels, logits = _pairwise("logits", labels, logits)
        all_ones = ones_like(labels)
        signs = subtract(multiply(convert_to_tensor(2.0, dtype=dtypes_lib.float32), labels), all_ones)
        losses = relu(subtract(all_ones, multiply(signs, logits)))
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def softmax_cross_entropy(onehot_labels: Any, logits: Any, weights: Any = 1.0, label_smoothing: float = 0,
                          scope: str | None = None, loss_collection: str | None = GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Softmax cross-entropy per example. With label_smoothing s, labels become
    labels * (1 - s) + s / num_classes. Labels get no gradient."""
    from caudal.ops.array_ops import shape
    from caudal.ops.control_ops import stop_gradient
    from caudal.ops.math_ops import add, cast, multiply
    from caudal.ops.nn_loss_ops import softmax_cross_entropy_with_logits_v2

    _not_none(onehot_labels=onehot_labels, logits=logits)
    with get_default_graph().name_scope(scope or "softmax_cross_entropy_loss") as scope:
        logits = convert_to_tensor(logits, name="logits")
        dtype = logits.dtype.base_dtype
        onehot_labels = cast(convert_to_tensor(onehot_labels, name="onehot_labels"), dtype)
        logits.shape.assert_is_compatible_with(onehot_labels.shape)
        if label_smoothing > 0:
            classes = onehot_labels.shape[-1].value if onehot_labels.shape.ndims else None
            num_classes = convert_to_tensor(float(classes), dtype=dtype) if classes is not None else \
                cast(shape(onehot_labels)[-1], dtype)
            smoothing = convert_to_tensor(label_smoothing, dtype=dtype)
            onehot_labels = add(multiply(onehot_labels, convert_to_tensor(1 - label_smoothing, dtype=dtype)),
                                smoothing / num_classes)
        onehot_labels = stop_gradient(onehot_labels, name="labels_stop_gradient")
        losses = softmax_cross_entropy_with_logits_v2(labels=onehot_labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def _squeeze_labels_and_weights(labels: Tensor, logits: Tensor, weights: Any) -> tuple[Tensor, Any]:
    """TF's handling of a trailing size-1 axis: labels of logits' rank lose it; weights one rank
    above the labels lose it, weights one rank below gain one."""
    from caudal.ops.array_ops import expand_dims, squeeze

    if labels.shape.ndims is not None and logits.shape.ndims is not None \
            and labels.shape.ndims == logits.shape.ndims:
        labels = squeeze(labels, [-1])
    weights = convert_to_tensor(weights, dtype_hint=dtypes_lib.float32, name="weights")
    w_rank, l_rank = weights.shape.ndims, labels.shape.ndims
    if w_rank and l_rank is not None:
        if w_rank - l_rank == 1:
            weights = squeeze(weights, [-1])
        elif l_rank - w_rank == 1:
            weights = expand_dims(weights, -1)
    return labels, weights


def sparse_softmax_cross_entropy(labels: Any, logits: Any, weights: Any = 1.0, scope: str | None = None,
                                 loss_collection: str | None = GraphKeys.LOSSES,
                                 reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Softmax cross-entropy against integer class labels; a trailing size-1 axis of labels or
    weights is handled as TF does."""
    from caudal.ops.nn_loss_ops import sparse_softmax_cross_entropy_with_logits

    _not_none(labels=labels, logits=logits)
    with get_default_graph().name_scope(scope or "sparse_softmax_cross_entropy_loss") as scope:
        labels = convert_to_tensor(labels, name="labels")
        logits = convert_to_tensor(logits, name="logits")
        labels, weights = _squeeze_labels_and_weights(labels, logits, weights)
        losses = sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


def sigmoid_cross_entropy(multi_class_labels: Any, logits: Any, weights: Any = 1.0, label_smoothing: float = 0,
                          scope: str | None = None, loss_collection: str | None = GraphKeys.LOSSES,
                          reduction: str = Reduction.SUM_BY_NONZERO_WEIGHTS) -> Tensor:
    """Sigmoid cross-entropy per element; label_smoothing s maps labels to labels * (1 - s) + s / 2."""
    from caudal.ops.math_ops import add, cast, multiply
    from caudal.ops.nn_loss_ops import sigmoid_cross_entropy_with_logits

    _not_none(multi_class_labels=multi_class_labels, logits=logits)
    with get_default_graph().name_scope(scope or "sigmoid_cross_entropy_loss") as scope:
        logits = convert_to_tensor(logits, name="logits")
        dtype = logits.dtype.base_dtype
        labels = cast(convert_to_tensor(multi_class_labels, name="multi_class_labels"), dtype)
        logits.shape.assert_is_compatible_with(labels.shape)
        if label_smoothing > 0:
            labels = add(multiply(labels, convert_to_tensor(1 - label_smoothing, dtype=dtype)),
                         convert_to_tensor(0.5 * label_smoothing, dtype=dtype))
        losses = sigmoid_cross_entropy_with_logits(labels=labels, logits=logits, name="xentropy")
        return compute_weighted_loss(losses, weights, scope, loss_collection, reduction=reduction)


# ------------------------------------------------------------- collections
def add_loss(loss: Any, loss_collection: str | None = GraphKeys.LOSSES) -> None:
    """Adds `loss` to `loss_collection` (nothing when it is None or empty)."""
    if loss_collection:
        add_to_collection(loss_collection, loss)


def get_losses(scope: str | None = None, loss_collection: str = GraphKeys.LOSSES) -> list[Any]:
    return get_collection(loss_collection, scope)


def get_regularization_losses(scope: str | None = None) -> list[Any]:
    return get_collection(GraphKeys.REGULARIZATION_LOSSES, scope)


def get_regularization_loss(scope: str | None = None, name: str = "total_regularization_loss") -> Tensor:
    """The sum of the regularization losses, or a constant 0.0 when there are none."""
    from caudal.ops.constant_ops import constant
    from caudal.ops.math_ops import add_n

    losses = get_regularization_losses(scope)
    if losses:
        return add_n(losses, name=name)
    return constant(0.0)


def get_total_loss(add_regularization_losses: bool = True, name: str = "total_loss",
                   scope: str | None = None) -> Tensor:
    """add_n of the collected losses (and regularization losses); ValueError when there are none."""
    from caudal.ops.math_ops import add_n

    losses = get_losses(scope=scope)
    if add_regularization_losses:
        losses = losses + get_regularization_losses(scope=scope)
    if not losses:
        raise ValueError("Inputs must be an iterable of at least one Tensor/IndexedSlices with the same dtype "
                         "and shape.")
    return add_n(losses, name=name)
