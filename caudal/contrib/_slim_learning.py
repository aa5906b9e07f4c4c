"""`slim.learning` (TF 1.15): `create_train_op` and its gradient helpers.

`create_train_op(total_loss, optimizer)` returns the loss, checked for
inf/NaN, computed after the UPDATE_OPS and after the optimizer has applied the
gradients and incremented the global step (created when missing); the tensor
joins the TRAIN_OP collection. `clip_gradient_norm` clips each gradient by its
own norm (not the global norm), as slim does.
"""
from __future__ import annotations

import logging
from typing import Any

from caudal.framework.graph import GraphKeys, get_default_graph
from caudal.framework.indexed_slices import IndexedSlices
from caudal.framework.tensor import Tensor

__all__ = ["create_train_op", "clip_gradient_norms", "multiply_gradients", "add_gradients_summaries"]

_LOG = logging.getLogger("caudal")
_USE_GLOBAL_STEP = object()


def clip_gradient_norms(gradients_to_variables: list, max_norm: Any) -> list:
    """Each non-None gradient clipped to norm `max_norm` on its own (tf.clip_by_norm)."""
    from caudal.ops.clip_ops import clip_by_norm

    return [(clip_by_norm(grad, max_norm) if grad is not None else None, var)
            for grad, var in gradients_to_variables]


def multiply_gradients(grads_and_vars: list, gradient_multipliers: dict) -> list:
    """Multiplies the gradient of each variable named in `gradient_multipliers` (by variable or op name)."""
    from caudal.ops.constant_ops import constant

    if not isinstance(grads_and_vars, list):
        raise ValueError("`grads_and_vars` must be a list.")
    if not gradient_multipliers:
        raise ValueError("`gradient_multipliers` is empty.")
    if not isinstance(gradient_multipliers, dict):
        raise ValueError("`gradient_multipliers` must be a dict.")
    multiplied = []
    for grad, var in grads_and_vars:
        if var in gradient_multipliers or var.op.name in gradient_multipliers:
            key = var if var in gradient_multipliers else var.op.name
            if grad is None:
                raise ValueError("Requested multiple of `None` gradient.")
            multiplier = gradient_multipliers[key]
            if not isinstance(multiplier, Tensor):
                multiplier = constant(multiplier, dtype=grad.dtype.base_dtype)
            if isinstance(grad, IndexedSlices):  # the rows scaled, as TF does
                grad = IndexedSlices(grad.values * multiplier, grad.indices, grad.dense_shape)
            else:
                grad = grad * multiplier
        multiplied.append((grad, var))
    return multiplied


def add_gradients_summaries(grads_and_vars: list) -> list[Tensor]:
    """A histogram `<var>/gradient` and a scalar `<var>/gradient_norm` per non-None gradient."""
    return _gradient_summaries(grads_and_vars, "/")


def _gradient_summaries(grads_and_vars: list, separator: str) -> list[Tensor]:
    from caudal import summary
    from caudal.ops.clip_ops import global_norm

    summaries = []
    for grad, var in grads_and_vars:
        if grad is None:
            _LOG.info("Var %s has no gradient", var.op.name)
            continue
        values = grad.values if isinstance(grad, IndexedSlices) else grad  # an IndexedSlices' rows, as TF
        summaries.append(summary.histogram(f"{var.op.name}{separator}gradient", values))
        summaries.append(summary.scalar(f"{var.op.name}{separator}gradient_norm", global_norm([values])))
    return summaries


def create_train_op(total_loss: Any, optimizer: Any, global_step: Any = _USE_GLOBAL_STEP, update_ops: Any = None,
                    variables_to_train: Any = None, clip_gradient_norm: float = 0, summarize_gradients: bool = False,
                    gate_gradients: int = 1, aggregation_method: Any = None,
                    colocate_gradients_with_ops: bool = False, gradient_multipliers: dict | None = None,
                    check_numerics: bool = True) -> Tensor:
    """The train tensor: `total_loss` once the gradients (multiplied, then clipped per gradient, as asked) of
    `variables_to_train` (the trainable variables by default) are applied."""
    from caudal.ops.control_ops import no_op, with_dependencies
    from caudal.ops.debug_ops import check_numerics as check_numerics_op
    from caudal.train.training_util import get_or_create_global_step
    from caudal.variables import trainable_variables

    graph = get_default_graph()
    if global_step is _USE_GLOBAL_STEP:
        global_step = get_or_create_global_step()
    global_update_ops = set(graph.get_collection(GraphKeys.UPDATE_OPS))
    update_ops = global_update_ops if update_ops is None else set(update_ops)
    if not global_update_ops.issubset(update_ops):
        _LOG.warning("update_ops in create_train_op does not contain all the update_ops in GraphKeys.UPDATE_OPS")
    if update_ops:
        ordered = [op for op in graph.get_collection(GraphKeys.UPDATE_OPS) if op in update_ops]
        ordered += [op for op in update_ops if op not in ordered]
        with graph.control_dependencies(ordered):
            barrier = no_op(name="update_barrier")
        total_loss = with_dependencies([barrier], total_loss)
    if variables_to_train is None:
        variables_to_train = trainable_variables()
    else:
        trainable = trainable_variables()
        for v in variables_to_train:
            assert v.trainable or v in trainable
    assert variables_to_train
    grads = optimizer.compute_gradients(total_loss, variables_to_train, gate_gradients=gate_gradients,
                                        aggregation_method=aggregation_method,
                                        colocate_gradients_with_ops=colocate_gradients_with_ops)
    if gradient_multipliers:
        with graph.name_scope("multiply_grads"):
            grads = multiply_gradients(grads, gradient_multipliers)
    if clip_gradient_norm > 0:
        with graph.name_scope("clip_grads"):
            grads = clip_gradient_norms(grads, clip_gradient_norm)
    if summarize_gradients:
        # contrib.training's summaries, which create_train_op uses: `<var>_gradient`, `<var>_gradient_norm`.
        with graph.name_scope("summarize_grads"):
            _gradient_summaries(grads, "_")
    grad_updates = optimizer.apply_gradients(grads, global_step=global_step)
    with graph.name_scope("train_op"):
        if check_numerics:
            total_loss = check_numerics_op(total_loss, "LossTensor is inf or nan")
        train_op = with_dependencies([grad_updates], total_loss)
    train_ops = graph.get_collection_ref(GraphKeys.TRAIN_OP)
    if train_op not in train_ops:
        train_ops.append(train_op)
    return train_op
