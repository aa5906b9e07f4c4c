"""Fused optimizer updates (TF's `Apply*` ops): read the variable, update it, write it back.

Each takes the variable by reference as input 0 and returns the new value.
"""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import InferContext
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.ops.variable_ops import bind_variable, shape_mismatch


def _apply_infer(ctx: InferContext) -> list:
    ref = ctx.inputs[0]
    if not ref.dtype.is_ref_dtype:
        raise TypeError(f"'{ctx.type}' requires a variable (a reference) as its first input, got {ref.name}")
    base = ref.dtype.base_dtype
    for i in range(1, len(ctx.inputs)):
        if ctx.dtype(i) != base and not ctx.dtype(i).is_integer:
            raise TypeError(f"Input {i} of '{ctx.type}' Op has type {ctx.dtype(i).name} that does not match "
                            f"type {base.name} of argument 'var'.")
    return [(ref.dtype, ref.shape)]


def _apply_gradient_descent(ctx: Any, alpha: Any, delta: Any, *, var: str, op: Any) -> Any:
    """var -= alpha * delta"""
    value = ctx.read(var)
    if value.shape != delta.shape:
        raise shape_mismatch(op, value.shape, delta.shape)
    updated = value - alpha * delta
    ctx.write(var, updated)
    return updated


register_op("ApplyGradientDescent", infer=_apply_infer, kernel=_apply_gradient_descent,
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0,), bind=bind_variable)
