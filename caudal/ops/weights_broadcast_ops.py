"""TF's weight broadcasting rules for metrics: `assert_broadcastable` and `broadcast_weights`.

Weights broadcast to values when they are a scalar, or have the values' rank with every dimension
1 or equal to the values' dimension. Like TF, a violation is a ValueError at build time when both
shapes are known, otherwise an Assert that fails when run, with TF's message data.
"""
from __future__ import annotations

from typing import Any

from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import Operation, control_dependencies, name_scope
from caudal.framework.tensor import Tensor

__all__ = ["assert_broadcastable", "broadcast_weights"]

_ERROR_PREFIX = "weights can not be broadcast to values."


def _has_valid_dims(weights_shape: Tensor, values_shape: Tensor) -> Tensor:
    """Every weights dimension is 1 or the values' dimension (the shapes have equal lengths)."""
    from caudal.ops.comparison_ops import equal, logical_or
    from caudal.ops.reduction_ops import reduce_all

    with name_scope(None, "has_invalid_dims", [weights_shape, values_shape]) as scope:
        ok = logical_or(equal(weights_shape, 1), equal(weights_shape, values_shape))
        return reduce_all(ok, name=scope)


def _has_valid_nonscalar_shape(weights_rank: Tensor, weights_shape: Tensor, values_rank: Tensor,
                               values_shape: Tensor) -> Tensor:
    from caudal.ops.comparison_ops import equal
    from caudal.ops.cond_ops import cond

    with name_scope(None, "has_valid_nonscalar_shape", [weights_rank, values_rank]) as scope:
        is_same_rank = equal(values_rank, weights_rank, name="is_same_rank")
        return cond(is_same_rank, lambda: _has_valid_dims(weights_shape, values_shape), lambda: is_same_rank,
                    name=scope)


def assert_broadcastable(weights: Any, values: Any) -> Operation:
    """An op checking that `weights` broadcast to `values` (TF's rule, see the module doc); a
    ValueError instead when the static shapes decide it."""
    from caudal.ops.array_ops import rank, shape
    from caudal.ops.comparison_ops import equal
    from caudal.ops.cond_ops import Assert, cond
    from caudal.ops.control_ops import no_op

    with name_scope(None, "assert_broadcastable", [weights, values]) as scope:
        with name_scope(None, "weights", [weights]) as weights_scope:
            weights = convert_to_tensor(weights, name=weights_scope)
            weights_shape = shape(weights, name="shape")
            weights_rank = rank(weights, name="rank")
        weights_rank_static = constant_value(weights_rank)
        with name_scope(None, "values", [values]) as values_scope:
            values = convert_to_tensor(values, name=values_scope)
            values_shape = shape(values, name="shape")
            values_rank = rank(values, name="rank")
        values_rank_static = constant_value(values_rank)

        if weights_rank_static is not None and values_rank_static is not None:
            if int(weights_rank_static) == 0:
                return no_op(name="static_scalar_check_success")
            if int(weights_rank_static) != int(values_rank_static):
                raise ValueError(f"{_ERROR_PREFIX} values.rank={values_rank_static}. "
                                 f"weights.rank={weights_rank_static}. values.shape={values.shape}. "
                                 f"weights.shape={weights.shape}. Received weights={weights}, values={values}")
            weights_shape_static = constant_value(weights_shape)
            values_shape_static = constant_value(values_shape)
            if weights_shape_static is not None and values_shape_static is not None:
                for i in range(len(values_shape_static)):
                    if weights_shape_static[i] not in (1, values_shape_static[i]):
                        raise ValueError(f"{_ERROR_PREFIX} Mismatch at dim {i}. values.shape={values_shape_static}, "
                                         f"weights.shape={weights_shape_static}. Received weights={weights}, "
                                         f"values={values}")
                return no_op(name="static_dims_check_success")

        is_scalar = equal(0, weights_rank, name="is_scalar")
        data = [_ERROR_PREFIX, "weights.shape=", weights.name, weights_shape, "values.shape=", values.name,
                values_shape, "is_scalar=", is_scalar]
        is_valid_shape = cond(is_scalar, lambda: is_scalar,
                              lambda: _has_valid_nonscalar_shape(weights_rank, weights_shape, values_rank,
                                                                 values_shape),
                              name="is_valid_shape")
        return Assert(is_valid_shape, data, name=scope)


def broadcast_weights(weights: Any, values: Any) -> Tensor:
    """`weights` broadcast to the shape of `values` (weights * ones_like(values)), after TF's check;
    returned unchanged when both shapes are fully known and equal."""
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.math_ops import multiply

    with name_scope(None, "broadcast_weights", [weights, values]) as scope:
        values = convert_to_tensor(values, name="values")
        weights = convert_to_tensor(weights, dtype=values.dtype.base_dtype, name="weights")
        if (weights.shape.is_fully_defined() and values.shape.is_fully_defined()
                and weights.shape.is_compatible_with(values.shape)):
            return weights
        with control_dependencies([assert_broadcastable(weights, values)]):
            return multiply(weights, ones_like(values), name=scope)
