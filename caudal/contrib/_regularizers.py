"""tf.contrib.layers' regularizers, with TF1 contrib's semantics.

A regularizer factory (`l2_regularizer(scale)`) returns a function of a weight
tensor giving a named scalar (`scale * l2_loss(w)` = scale * sum(w^2) / 2), or
None when the scale is 0. Passed to `tf.get_variable(regularizer=...)`, the
result joins the REGULARIZATION_LOSSES collection.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, get_default_graph, name_scope
from caudal.framework.tensor import Tensor

__all__ = ["l1_regularizer", "l2_regularizer", "l1_l2_regularizer", "sum_regularizer", "apply_regularization"]

Regularizer = Callable[[Any], Any]


def _check_scale(scale: Any) -> bool:
    """Validates a regularizer scale as contrib does; False when the scale disables the regularizer."""
    if isinstance(scale, numbers.Integral):
        raise ValueError(f"scale cannot be an integer: {scale}")
    if isinstance(scale, numbers.Real):
        if scale < 0.0:
            raise ValueError(f"Setting a scale less than 0 on a regularizer: {scale:g}")
        if scale == 0.0:
            return False
    return True


def l1_regularizer(scale: Any, scope: str | None = None) -> Regularizer:
    """weights -> scale * sum(|weights|), a scalar named `l1_regularizer`; scale 0 gives `lambda _: None`."""
    if not _check_scale(scale):
        return lambda _: None

    def l1(weights: Any, name: str | None = None) -> Tensor:
        from caudal.ops.math_ops import abs as abs_
        from caudal.ops.math_ops import multiply
        from caudal.ops.reduction_ops import reduce_sum

        with name_scope(scope, "l1_regularizer", [weights]) as name:
            weights = convert_to_tensor(weights)
            my_scale = convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return multiply(my_scale, reduce_sum(abs_(weights)), name=name)

    return l1


def l2_regularizer(scale: Any, scope: str | None = None) -> Regularizer:
    """weights -> scale * sum(weights^2) / 2 (TF's l2_loss), a scalar named `l2_regularizer`."""
    if not _check_scale(scale):
        return lambda _: None

    def l2(weights: Any) -> Tensor:
        from caudal.ops.math_ops import multiply
        from caudal.ops.nn_loss_ops import l2_loss

        with name_scope(scope, "l2_regularizer", [weights]) as name:
            weights = convert_to_tensor(weights)
            my_scale = convert_to_tensor(scale, dtype=weights.dtype.base_dtype, name="scale")
            return multiply(my_scale, l2_loss(weights), name=name)

    return l2


def sum_regularizer(regularizer_list: list[Any], scope: str | None = None) -> Regularizer | None:
    """A regularizer adding the (non-None) results of the given ones; None when the list has none."""
    regularizers = [r for r in regularizer_list if r is not None]
    if not regularizers:
        return None

    def sum_reg(weights: Any) -> Tensor | None:
        from caudal.ops.math_ops import add_n

        with name_scope(scope, "sum_regularizer", [weights]) as name:
            penalties = [p for p in (r(weights) for r in regularizers) if p is not None]
            return add_n(penalties, name=name) if penalties else None

    return sum_reg


def l1_l2_regularizer(scale_l1: float = 1.0, scale_l2: float = 1.0, scope: str | None = None) -> Regularizer:
    """scale_l1 * sum(|w|) + scale_l2 * sum(w^2) / 2; a zero scale drops its term."""
    if isinstance(scale_l1, numbers.Real) and scale_l1 == 0.0 and not isinstance(scale_l1, numbers.Integral):
        return l2_regularizer(scale_l2, scope)
    if isinstance(scale_l2, numbers.Real) and scale_l2 == 0.0 and not isinstance(scale_l2, numbers.Integral):
        return l1_regularizer(scale_l1, scope)
    combined = sum_regularizer([l1_regularizer(scale_l1), l2_regularizer(scale_l2)], scope=scope)
    assert combined is not None
    return combined


def apply_regularization(regularizer: Regularizer, weights_list: list[Any] | None = None) -> Tensor:
    """Sums `regularizer(w)` over `weights_list` (default: the WEIGHTS collection), adds the sum to
    REGULARIZATION_LOSSES and returns it, named `get_regularization_penalty`."""
    from caudal.ops.constant_ops import constant
    from caudal.ops.math_ops import add_n

    graph = get_default_graph()
    if not weights_list:
        weights_list = graph.get_collection(GraphKeys.WEIGHTS)
    if not weights_list:
        raise ValueError("No weights to regularize.")
    with name_scope("get_regularization_penalty", values=weights_list) as scope:
        penalties = [regularizer(w) for w in weights_list]
        penalties = [p if p is not None else constant(0.0) for p in penalties]
        for p in penalties:
            if p.get_shape().ndims != 0:
                raise ValueError(f"regularizer must return a scalar Tensor instead of a Tensor with rank "
                                 f"{p.get_shape().ndims}.")
        total = add_n(penalties, name=scope)
        graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, total)
        return total
