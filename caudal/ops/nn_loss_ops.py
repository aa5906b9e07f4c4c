"""Cross-entropies and L2Loss: the fused SoftmaxCrossEntropyWithLogits and
SparseSoftmaxCrossEntropyWithLogits (each returning the loss and its backprop, as TF's kernels
do), and the sigmoid and weighted cross-entropies built from public ops in TF's stable form.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph, make_op
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules
from caudal.ops.nn_ops import _log_softmax_numpy, require_rank

__all__ = ["softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2",
           "sparse_softmax_cross_entropy_with_logits", "sigmoid_cross_entropy_with_logits",
           "weighted_cross_entropy_with_logits", "l2_loss"]


def _log_softmax_rows(xp: Any, logits: Any) -> Any:
    shifted = logits - xp.max(logits, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


def _is_zero(t: Tensor) -> bool:
    """Whether a gradient is known to be zero (an unconnected output's ZerosLike)."""
    from caudal.framework.constant_value import constant_value

    if t.op.type in ("ZerosLike", "Zeros"):
        return True
    value = constant_value(t)
    return value is not None and not np.any(value)


def _logits_grad(op: Any, grad_loss: Tensor, grad_backprop: Tensor) -> Tensor:
    """d/d logits of (loss, backprop): grad_loss * backprop, plus the softmax Jacobian applied to
    the backprop's own gradient when that is not zero (second derivatives)."""
    from caudal.ops.array_ops import expand_dims
    from caudal.ops.math_ops import add, multiply, subtract
    from caudal.ops.nn_ops import softmax
    from caudal.ops.reduction_ops import reduce_sum

    result = multiply(expand_dims(grad_loss, -1), op.outputs[1])
    if not _is_zero(grad_backprop):
        probs = softmax(op.inputs[0])
        centered = subtract(grad_backprop, reduce_sum(multiply(grad_backprop, probs), -1, keepdims=True))
        result = add(result, multiply(centered, probs))
    return result


# ------------------------------------------------ SoftmaxCrossEntropyWithLogits
def _softmax_xent_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1), ("features", "labels"))
    _rules.check_dtype(ctx, 0, _rules.FLOAT, "features")
    features, labels = require_rank(ctx.shape(0), 2), require_rank(ctx.shape(1), 2)
    shape = _rules.broadcast_shapes(features, labels)
    if shape.ndims is None:
        shape = features if features.ndims is not None else labels
    if shape.ndims is None:
        return [(dtype, unknown_shape(1)), (dtype, unknown_shape(2))]
    return [(dtype, TensorShape([shape[0].value])), (dtype, shape)]


def _softmax_xent_kernel(xp: Any, features: Any, labels: Any) -> tuple[Any, Any]:
    """(loss, backprop) with one exp: log_softmax = shifted - log(sum), softmax = exp(shifted) / sum."""
    shifted = features - features.max(axis=1, keepdims=True)
    exps = xp.exp(shifted)
    sums = exps.sum(axis=1, keepdims=True)
    log_probs = shifted - xp.log(sums)
    if labels.shape != log_probs.shape:
        labels = xp.broadcast_to(labels, log_probs.shape)
    loss = -(labels * log_probs).sum(axis=1)
    backprop = exps / sums - labels
    return loss.astype(features.dtype, copy=False), backprop.astype(features.dtype, copy=False)


def _softmax_xent_grad(op: Any, grad_loss: Tensor, grad_backprop: Tensor) -> list:
    """Gradients for logits and for labels (-log_softmax(logits), as in TF's v2 op)."""
    from caudal.ops._broadcast import sum_to_shape_of
    from caudal.ops.array_ops import expand_dims
    from caudal.ops.math_ops import multiply, negative, subtract
    from caudal.ops.nn_ops import log_softmax

    logits, labels = op.inputs
    labels_grad = multiply(expand_dims(grad_loss, -1), negative(log_softmax(logits)))
    if not _is_zero(grad_backprop):
        labels_grad = subtract(labels_grad, grad_backprop)
    # As in TF, the logits' gradient is used as it is: logits carry the op's full shape.
    return [_logits_grad(op, grad_loss, grad_backprop), sum_to_shape_of(labels_grad, labels)]


register_op("SoftmaxCrossEntropyWithLogits", infer=_softmax_xent_infer, kernel=_softmax_xent_kernel,
            grad=_softmax_xent_grad)


def _flatten_classes(x: Tensor, name: str) -> Tensor:
    """x as a [rows, classes] matrix (unchanged when already rank 2)."""
    from caudal.ops.array_ops import concat, reshape, shape

    if x.shape.ndims == 2:
        return x
    classes = x.shape[-1].value if x.shape.ndims else None
    if classes is not None:
        return reshape(x, [-1, classes], name=name)
    return reshape(x, concat([[-1], shape(x)[-1:]], 0), name=name)


def _leading_shape(x: Tensor) -> Any:
    """x's shape without its last dimension, as a list when known, else a tensor."""
    from caudal.ops.array_ops import shape

    if x.shape.ndims is not None and x.shape[:-1].is_fully_defined():
        return x.shape.as_list()[:-1]
    return shape(x)[:-1]


def _axis_last(x: Tensor, axis: int) -> Tensor:
    """Moves `axis` to the end, keeping the order of the others (as TF does for `axis`)."""
    from caudal.ops.array_ops import transpose

    rank = x.shape.ndims
    if rank is None:
        if axis == -1:
            return x
        raise ValueError(f"softmax_cross_entropy_with_logits over axis {axis} needs logits of known rank")
    axis = _rules.normalize_axis(axis, rank)
    if axis == rank - 1:
        return x
    return transpose(x, [i for i in range(rank) if i != axis] + [axis])


def _half_to_float(x: Tensor) -> Tensor:
    from caudal.ops.math_ops import cast

    if x.dtype.base_dtype in (dtypes_lib.float16, dtypes_lib.bfloat16):
        return cast(x, dtypes_lib.float32)
    return x


def softmax_cross_entropy_with_logits_v2(labels: Any, logits: Any, axis: Any = None, name: str | None = None,
                                         dim: Any = None) -> Tensor:
    """-sum(labels * log_softmax(logits)) over `axis` (default last). Gradients flow into both
    logits and labels. Float16 inputs are computed in float32 and cast back, as in TF."""
    from caudal.ops.array_ops import reshape
    from caudal.ops.math_ops import cast

    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = -1 if axis is None and dim is None else (dim if axis is None else axis)
    with get_default_graph().name_scope(name or "softmax_cross_entropy_with_logits") as scope:
        logits = convert_to_tensor(logits, name="logits")
        labels = convert_to_tensor(labels, dtype=logits.dtype.base_dtype, name="labels")
        input_dtype = logits.dtype.base_dtype
        logits_f, labels_f = _axis_last(_half_to_float(logits), axis), _axis_last(_half_to_float(labels), axis)
        if logits_f.shape.ndims == 0:
            raise ValueError("Shape must be at least rank 1 but is rank 0")
        flat_logits = _flatten_classes(logits_f, "Reshape")
        flat_labels = _flatten_classes(labels_f, "Reshape_1")
        op = make_op("SoftmaxCrossEntropyWithLogits", [flat_logits, flat_labels],
                     {"T": flat_logits.dtype.base_dtype}, scope)
        loss = op.outputs[0]
        if logits_f.shape.ndims != 2:
            loss = reshape(loss, _leading_shape(logits_f), name="Reshape_2")
        if input_dtype != loss.dtype.base_dtype:
            loss = cast(loss, input_dtype)
        return loss


def softmax_cross_entropy_with_logits(labels: Any = None, logits: Any = None, dim: Any = -1, name: str | None = None,
                                      axis: Any = None) -> Tensor:
    """TF1's version: as `_v2`, but labels get no gradient (a StopGradient)."""
    from caudal.ops.control_ops import stop_gradient

    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided.")
    if axis is not None and dim is not None and dim != -1:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    with get_default_graph().name_scope(name or "softmax_cross_entropy_with_logits_sg") as scope:
        labels = stop_gradient(labels, name="labels_stop_gradient")
        return softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits, axis=axis, name=scope)


# ------------------------------------------ SparseSoftmaxCrossEntropyWithLogits
def _sparse_xent_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _rules.FLOAT, "features")
    _rules.check_dtype(ctx, 1, _rules.INDEX, "labels")
    features, labels = require_rank(ctx.shape(0), 2), require_rank(ctx.shape(1), 1)
    batch = labels[0].value if labels.ndims is not None else None
    if features.ndims is not None:
        if batch is not None and features[0].value is not None and batch != features[0].value:
            raise ValueError(f"Dimensions must be equal, but are {features[0].value} and {batch}")
        batch = features[0].value if features[0].value is not None else batch
        return [(dtype, TensorShape([batch])), (dtype, TensorShape([batch, features[1].value]))]
    return [(dtype, TensorShape([batch])), (dtype, TensorShape([batch, None]))]


def _sparse_xent_kernel(xp: Any, features: Any, labels: Any) -> tuple[Any, Any]:
    classes = features.shape[1]
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        raise InvalidArgumentError(None, None, f"Received a label value of {labels[bad][0]} which is outside the "
                                               f"valid range of [0, {classes}).  Label values: "
                                               + " ".join(str(v) for v in labels.tolist()))
    log_probs = _log_softmax_rows(xp, features)
    rows = xp.arange(labels.shape[0])
    loss = -log_probs[rows, labels]
    backprop = xp.exp(log_probs) - (labels[:, None] == xp.arange(classes)).astype(log_probs.dtype)
    return loss.astype(features.dtype, copy=False), backprop.astype(features.dtype, copy=False)


_UNSIGNED = {np.dtype(np.int32): np.uint32, np.dtype(np.int64): np.uint64}


def _sparse_xent_numpy(xp: Any, features: Any, labels: Any) -> tuple[Any, Any]:
    """The portable kernel's values with fewer and cheaper NumPy calls: one unsigned comparison checks
    the label range, the row maximum is `row_max_numpy`'s, and the one-hot subtraction is a scatter
    into the fresh softmax."""
    classes = features.shape[1]
    unsigned = _UNSIGNED.get(labels.dtype)
    if unsigned is None or (labels.view(unsigned) >= classes).any():
        return _sparse_xent_kernel(xp, features, labels)
    log_probs = _log_softmax_numpy(xp, features)
    rows = np.arange(labels.shape[0])
    loss = -log_probs[rows, labels]
    backprop = np.exp(log_probs)
    backprop[rows, labels] -= 1
    return loss.astype(features.dtype, copy=False), backprop.astype(features.dtype, copy=False)


register_op("SparseSoftmaxCrossEntropyWithLogits", infer=_sparse_xent_infer, kernel=_sparse_xent_kernel,
            variants={"numpy": _sparse_xent_numpy},
            grad=lambda op, grad_loss, grad_backprop: [_logits_grad(op, grad_loss, grad_backprop), None])


def sparse_softmax_cross_entropy_with_logits(labels: Any = None, logits: Any = None,
                                             name: str | None = None) -> Tensor:
    """-log_softmax(logits)[label] for integer labels of rank logits' rank - 1. A label outside
    [0, classes) fails at run time with InvalidArgumentError, as on TF's CPU."""
    from caudal.ops.array_ops import reshape
    from caudal.ops.math_ops import cast

    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided.")
    with get_default_graph().name_scope(name or "SparseSoftmaxCrossEntropyWithLogits"):
        labels = convert_to_tensor(labels, name="labels")
        logits = convert_to_tensor(logits, name="logits")
        input_dtype = logits.dtype.base_dtype
        logits_f = _half_to_float(logits)
        lshape, gshape = labels.shape, logits_f.shape
        if gshape.ndims == 0:
            raise ValueError(f"Logits cannot be scalars - received shape {gshape}.")
        if lshape.ndims is not None and gshape.ndims is not None:
            if lshape.ndims != gshape.ndims - 1:
                raise ValueError(f"`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
                                 f"labels.shape={lshape} of rank {lshape.ndims} and logits.shape={gshape} "
                                 f"of rank {gshape.ndims}")
            if not lshape.is_compatible_with(gshape[:-1]):
                raise ValueError(f"`labels.shape` must equal `logits.shape` except for the last dimension. "
                                 f"Received: labels.shape={lshape} and logits.shape={gshape}")
        if gshape.ndims == 2:
            loss = make_op("SparseSoftmaxCrossEntropyWithLogits", [logits_f, labels],
                           {"T": logits_f.dtype.base_dtype, "Tlabels": labels.dtype.base_dtype},
                           "SparseSoftmaxCrossEntropyWithLogits").outputs[0]
        else:
            flat_labels = reshape(labels, [-1])
            op = make_op("SparseSoftmaxCrossEntropyWithLogits", [_flatten_classes(logits_f, "Reshape"), flat_labels],
                         {"T": logits_f.dtype.base_dtype, "Tlabels": labels.dtype.base_dtype},
                         "SparseSoftmaxCrossEntropyWithLogits")
            target = lshape.as_list() if lshape.is_fully_defined() else _leading_shape(logits_f)
            loss = reshape(op.outputs[0], target, name="Reshape_2")
        if input_dtype != loss.dtype.base_dtype:
            loss = cast(loss, input_dtype)
        return loss


# -------------------------------------------------- sigmoid and weighted CE
def _logits_and_labels(logits: Any, labels: Any) -> tuple[Tensor, Tensor]:
    logits = convert_to_tensor(logits, name="logits")
    labels = convert_to_tensor(labels, dtype=logits.dtype.base_dtype, name="labels")
    if not labels.shape.is_compatible_with(logits.shape):
        raise ValueError(f"`logits` and `labels` must have the same shape, received ({logits.shape} vs "
                         f"{labels.shape}).")
    return logits, labels


def sigmoid_cross_entropy_with_logits(labels: Any = None, logits: Any = None, name: str | None = None) -> Tensor:
    """max(x, 0) - x * z + log(1 + exp(-|x|)) for logits x and labels z: TF's overflow-free form,
    with its selects, so that the gradient at x = 0 is sigmoid(0) - z."""
    from caudal.ops.comparison_ops import greater_equal, where
    from caudal.ops.constant_ops import zeros_like
    from caudal.ops.math_ops import add, exp, multiply, negative, subtract
    from caudal.ops.special_math_ops import log1p

    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided.")
    with get_default_graph().name_scope(name or "logistic_loss") as scope:
        logits, labels = _logits_and_labels(logits, labels)
        zeros = zeros_like(logits)
        positive = greater_equal(logits, zeros)
        relu_logits = where(positive, logits, zeros)
        neg_abs_logits = where(positive, negative(logits), logits)
        return add(subtract(relu_logits, multiply(logits, labels)), log1p(exp(neg_abs_logits)), name=scope)


def weighted_cross_entropy_with_logits(labels: Any = None, logits: Any = None, pos_weight: Any = None,
                                       name: str | None = None, targets: Any = None) -> Tensor:
    """(1 - z) * x + (1 + (pos_weight - 1) * z) * (log(1 + exp(-|x|)) + max(-x, 0)): the sigmoid
    cross-entropy with positive examples weighted by `pos_weight`, in TF's overflow-free form.
    `targets` is TF1's name for `labels`."""
    from caudal.ops.math_ops import abs as abs_
    from caudal.ops.math_ops import add, exp, multiply, negative, subtract
    from caudal.ops.nn_ops import relu
    from caudal.ops.special_math_ops import log1p

    if labels is not None and targets is not None:
        raise ValueError("Cannot specify both 'labels' and 'targets'")
    labels = targets if labels is None else labels
    if labels is None or logits is None or pos_weight is None:
        raise ValueError("`labels`, `logits` and `pos_weight` must be provided.")
    with get_default_graph().name_scope(name or "logistic_loss") as scope:
        logits, labels = _logits_and_labels(logits, labels)
        dtype = logits.dtype.base_dtype
        one = convert_to_tensor(1, dtype=dtype)
        log_weight = add(one, multiply(subtract(convert_to_tensor(pos_weight, dtype=dtype), one), labels))
        softplus_neg = add(log1p(exp(negative(abs_(logits)))), relu(negative(logits)))
        return add(multiply(subtract(one, labels), logits), multiply(log_weight, softplus_neg), name=scope)


# ------------------------------------------------------------------- L2Loss
def _l2_loss_kernel(xp: Any, t: Any) -> Any:
    return (xp.sum(xp.square(t)) / 2).astype(t.dtype)


def _l2_loss_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.math_ops import multiply

    return [multiply(op.inputs[0], grad)]


register_op("L2Loss", infer=lambda ctx: [(_rules.check_dtype(ctx, 0, _rules.FLOAT, "t"), TensorShape([]))],
            kernel=_l2_loss_kernel, grad=_l2_loss_grad)


def l2_loss(t: Any, name: str | None = None) -> Tensor:
    """sum(t ** 2) / 2, a scalar."""
    t = convert_to_tensor(t, name="t")
    return apply_op("L2Loss", [t], {"T": t.dtype.base_dtype}, name or "L2Loss")
