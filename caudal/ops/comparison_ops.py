"""Comparisons, logical ops, and `tf.where` in both its forms."""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules
from caudal.ops.math_ops import _binary_operands

__all__ = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and",
           "logical_or", "logical_not", "logical_xor", "where", "where_v2"]

_BOOL = frozenset([dtypes_lib.bool_])
_EQUALITY = _rules.ANY - {dtypes_lib.resource, dtypes_lib.variant}


def _compare(op_type: str, allowed: frozenset) -> None:
    kernels = {"Equal": lambda xp, x, y: xp.equal(x, y), "NotEqual": lambda xp, x, y: xp.not_equal(x, y),
               "Less": lambda xp, x, y: xp.less(x, y), "LessEqual": lambda xp, x, y: xp.less_equal(x, y),
               "Greater": lambda xp, x, y: xp.greater(x, y),
               "GreaterEqual": lambda xp, x, y: xp.greater_equal(x, y)}
    expressions = {"Less": "{0} < {1}", "LessEqual": "{0} <= {1}", "Greater": "{0} > {1}",
                   "GreaterEqual": "{0} >= {1}"}
    register_op(op_type, infer=_rules.binary(allowed, out_dtype=dtypes_lib.bool_), kernel=kernels[op_type],
                grad=NOT_DIFFERENTIABLE, expression=expressions.get(op_type))


for _type in ("Equal", "NotEqual"):
    _compare(_type, _EQUALITY)
for _type in ("Less", "LessEqual", "Greater", "GreaterEqual"):
    _compare(_type, _rules.REAL)


def _comparison(op_type: str, x: Any, y: Any, name: str | None) -> Tensor:
    from caudal.ops.math_ops import _binary

    return _binary(op_type, x, y, name)


def equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _comparison("Equal", x, y, name)


def not_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _comparison("NotEqual", x, y, name)


def less(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _comparison("Less", x, y, name)


def less_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _comparison("LessEqual", x, y, name)


def greater(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _comparison("Greater", x, y, name)


def greater_equal(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _comparison("GreaterEqual", x, y, name)


# ------------------------------------------------------------------ logical
register_op("LogicalAnd", infer=_rules.binary(_BOOL), kernel=lambda xp, x, y: xp.logical_and(x, y),
            grad=NOT_DIFFERENTIABLE)
register_op("LogicalOr", infer=_rules.binary(_BOOL), kernel=lambda xp, x, y: xp.logical_or(x, y),
            grad=NOT_DIFFERENTIABLE)
register_op("LogicalNot", infer=_rules.unary(_BOOL), kernel=lambda xp, x: xp.logical_not(x),
            grad=NOT_DIFFERENTIABLE)


def logical_and(x: Any, y: Any, name: str | None = None) -> Tensor:
    x, y = _binary_operands(x, y)
    return apply_op("LogicalAnd", [x, y], {}, name or "LogicalAnd")


def logical_or(x: Any, y: Any, name: str | None = None) -> Tensor:
    x, y = _binary_operands(x, y)
    return apply_op("LogicalOr", [x, y], {}, name or "LogicalOr")


def logical_not(x: Any, name: str | None = None) -> Tensor:
    x = convert_to_tensor(x, dtype_hint=dtypes_lib.bool_)
    return apply_op("LogicalNot", [x], {}, name or "LogicalNot")


def logical_xor(x: Any, y: Any, name: str = "LogicalXor") -> Tensor:
    """(x | y) & ~(x & y), built from the ops above as TF does."""
    return logical_and(logical_or(x, y), logical_not(logical_and(x, y)), name=name)


# ------------------------------------------------------------------ select
def _select_infer(ctx: InferContext) -> list:
    """TF1 Select: `condition` matches x's shape, or is a vector over x's first dimension."""
    _rules.check_dtype(ctx, 0, _BOOL, "condition")
    dtype = _rules.check_same_dtype(ctx, (1, 2), ("t", "e"))
    x, y, c = ctx.shape(1), ctx.shape(2), ctx.shape(0)
    if not x.is_compatible_with(y):
        raise ValueError(f"Shapes must be equal rank, but are {x.ndims} and {y.ndims}"
                         if x.ndims != y.ndims else f"Dimensions must be equal: {x} and {y}")
    out = x.merge_with(y)
    if c.ndims is not None and out.ndims is not None and c.ndims != out.ndims:
        if c.ndims != 1 or out.ndims < 1 or not c.is_compatible_with([out[0].value]):
            raise ValueError(f"Shapes must be equal rank, but are {c.ndims} and {out.ndims}")
    elif not c.is_compatible_with(out):
        raise ValueError(f"Shapes {c} and {out} are incompatible")
    return [(dtype, out)]


def _select_kernel(xp: Any, condition: Any, x: Any, y: Any) -> Any:
    if condition.ndim == 1 and x.ndim > 1:
        condition = condition.reshape((-1,) + (1,) * (x.ndim - 1))
    return xp.where(condition, x, y)


def _select_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.constant_ops import zeros_like

    c = op.inputs[0]
    zeros = zeros_like(grad)
    return [None, where(c, grad, zeros), where(c, zeros, grad)]


register_op("Select", infer=_select_infer, kernel=_select_kernel, grad=_select_grad)


def _select_v2_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _BOOL, "condition")
    dtype = _rules.check_same_dtype(ctx, (1, 2), ("t", "e"))
    shape = _rules.broadcast_shapes(_rules.broadcast_shapes(ctx.shape(0), ctx.shape(1)), ctx.shape(2))
    return [(dtype, shape)]


def _select_v2_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops._broadcast import sum_to_shape_of

    c, x, y = op.inputs
    # A scalar zero broadcasts: no zeros_like buffer is built.
    zero = convert_to_tensor(0, dtype=grad.dtype.base_dtype)
    return [None, sum_to_shape_of(where_v2(c, grad, zero), x, (c, y)),
            sum_to_shape_of(where_v2(c, zero, grad), y, (c, x))]


def _is_positive_zero(value: Any) -> bool:
    """Whether `value` is a 0-d float equal to +0.0 (its bits all zero)."""
    return getattr(value, "ndim", 1) == 0 and value.dtype.kind == "f" and not value.view(
        np.dtype(f"i{value.dtype.itemsize}"))


def _select_bits(condition: Any, x: Any, keep_where: bool) -> Any:
    """where(condition, x, +0.0) (or where(condition, +0.0, x) when not `keep_where`) as the
    bitwise AND of x's bits with a mask that is all ones where x is kept: exact for every value,
    NaN, inf and -0.0 included, and about three times faster than where."""
    ints = np.dtype(f"i{x.dtype.itemsize}")
    flags = condition.view(np.int8)
    # keep where True: 1 -> -1 (all bits set), 0 -> 0; keep where False: 1 - 1 -> 0, 0 - 1 -> -1.
    mask = (np.negative(flags) if keep_where else np.subtract(flags, np.int8(1))).astype(ints)
    return np.bitwise_and(x.view(ints), mask, out=mask).view(x.dtype)


def _select_v2_kernel(xp: Any, condition: Any, x: Any, y: Any) -> Any:
    """where(condition, x, y), broadcasting."""
    return xp.where(condition, x, y)


def _select_v2_numpy(xp: Any, condition: Any, x: Any, y: Any) -> Any:
    """SelectV2 on NumPy: selecting against a scalar +0.0 (dropout, gradients of selects) is done on
    the bits of the other operand (`_select_bits`)."""
    if type(condition) is np.ndarray and condition.dtype == np.bool_:
        if _is_positive_zero(y) and type(x) is np.ndarray and x.dtype == y.dtype and x.shape == condition.shape:
            return _select_bits(condition, x, keep_where=True)
        if _is_positive_zero(x) and type(y) is np.ndarray and y.dtype == x.dtype and y.shape == condition.shape:
            return _select_bits(condition, y, keep_where=False)
    return xp.where(condition, x, y)


register_op("SelectV2", infer=_select_v2_infer, kernel=_select_v2_kernel, variants={"numpy": _select_v2_numpy},
            grad=_select_v2_grad, fresh=True)


def _where_infer(ctx: InferContext) -> list:
    rank = ctx.shape(0).ndims
    return [(dtypes_lib.int64, TensorShape([None, rank]))]


def _where_kernel(xp: Any, condition: Any) -> Any:
    return xp.stack(xp.nonzero(condition), axis=-1).astype(xp.int64).reshape(-1, condition.ndim)


register_op("Where", infer=_where_infer, kernel=_where_kernel, grad=NOT_DIFFERENTIABLE)


def where(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """TF1 `tf.where`: with x and y, picks elementwise (Select); alone, the coordinates of
    true elements as an int64 `[num_true, rank]` tensor."""
    condition = convert_to_tensor(condition, dtype_hint=dtypes_lib.bool_, name="condition")
    if x is None and y is None:
        if condition.dtype.base_dtype is not dtypes_lib.bool_:
            from caudal.ops.math_ops import cast

            condition = cast(condition, dtypes_lib.bool_)
        return apply_op("Where", [condition], {"T": condition.dtype.base_dtype}, name or "Where")
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    x, y = _binary_operands(x, y, "x", "y")
    return apply_op("Select", [condition, x, y], {"T": x.dtype.base_dtype}, name or "Select")


def where_v2(condition: Any, x: Any = None, y: Any = None, name: str | None = None) -> Tensor:
    """TF2 `tf.where`: like `where`, but x, y and condition broadcast."""
    condition = convert_to_tensor(condition, dtype_hint=dtypes_lib.bool_, name="condition")
    if x is None and y is None:
        return where(condition, name=name)
    x, y = _binary_operands(x, y, "x", "y")
    return apply_op("SelectV2", [condition, x, y], {"T": x.dtype.base_dtype}, name or "SelectV2")
