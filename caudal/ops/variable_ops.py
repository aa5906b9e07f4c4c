"""TF1 reference-variable ops: VariableV2, Assign, AssignAdd, AssignSub, IsVariableInitialized.

A VariableV2 node stands for storage that lives in each Session, not in the
graph. Its output is a reference: ops that take it as a plain input read the
variable's value when they run (the executor inserts the read just before
them); ops that take it as a reference (input 0 of Assign and friends) write.
Kernels are given the run context and the op; the store is keyed by the
variable's op name.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import InferContext
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor_shape import TensorShape


def _variable_infer(ctx: InferContext) -> list:
    return [(dtypes_lib.as_dtype(ctx.attrs["dtype"])._as_ref, ctx.attrs["shape"])]


def _variable_kernel(ctx: Any, *, op: Any) -> Any:
    return ctx.read(op.name)


register_op("VariableV2", infer=_variable_infer, kernel=_variable_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)


def _assign_infer(ctx: InferContext) -> list:
    ref = ctx.inputs[0]
    if not ref.dtype.is_ref_dtype:
        raise TypeError(f"'{ctx.type}' requires a variable (a reference) as its first input, got {ref.name}")
    if ctx.dtype(1) != ref.dtype.base_dtype:
        raise TypeError(f"Input 'value' of '{ctx.type}' Op has type {ctx.dtype(1).name} that does not match "
                        f"type {ref.dtype.base_dtype.name} of argument 'ref'.")
    shape = ref.shape
    if ctx.type != "Assign" or ctx.attrs.get("validate_shape", True):
        if not shape.is_compatible_with(ctx.shape(1)):
            raise ValueError(f"Shapes {shape} and {ctx.shape(1)} are incompatible")
        shape = shape.merge_with(ctx.shape(1))
    else:
        shape = ctx.shape(1)
    return [(ref.dtype, shape)]


def _variable_name(op: Any) -> str:
    """The VariableV2 behind input 0, following chained assigns (`assign(assign(v, 1), 2)`)."""
    ref = op.inputs[0]
    while ref.op.type != "VariableV2" and ref.op.inputs:
        ref = ref.op.inputs[0]
    return ref.op.name


def bind_variable(op: Any) -> dict[str, Any]:
    """Per-node constants of every op that takes a variable by reference."""
    name = _variable_name(op)
    static = op.graph.get_operation_by_name(name).get_attr("shape")
    return {"var": name, "static_shape": static,
            "static_dims": None if static.ndims is None else tuple(static.as_list())}


def dims_compatible(dims: tuple | None, shape: tuple) -> bool:
    """Whether a concrete shape fits static dims (None: unknown rank or dimension)."""
    if dims is None or dims == shape:
        return True
    if len(dims) != len(shape):
        return False
    return all(d is None or d == s for d, s in zip(dims, shape))


def shape_mismatch(op: Any, lhs: Any, rhs: Any) -> InvalidArgumentError:
    return InvalidArgumentError(
        None, op, f"{op.type} requires shapes of both tensors to match. lhs shape= {_shape_text(lhs)} "
                  f"rhs shape= {_shape_text(rhs)}")


def _shape_text(shape: Any) -> str:
    if isinstance(shape, TensorShape):
        if shape.ndims is None:
            return "<unknown>"
        return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"
    return "[" + ",".join(str(d) for d in shape) + "]"


def _assign_kernel(ctx: Any, value: Any, *, validate_shape: bool, var: str, static_shape: TensorShape,
                   static_dims: tuple | None, op: Any) -> Any:
    if validate_shape and not dims_compatible(static_dims, np.shape(value)):
        raise shape_mismatch(op, static_shape, np.shape(value))
    value = ctx.keep(value)  # the variable must not change when the caller changes a fed array
    ctx.write(var, value)
    return value


def _assign_add_kernel(ctx: Any, value: Any, *, var: str, op: Any) -> Any:
    current = ctx.read(var)
    if np.shape(current) != np.shape(value):
        raise shape_mismatch(op, np.shape(current), np.shape(value))
    updated = current + value
    ctx.write(var, updated)
    return updated


def _assign_sub_kernel(ctx: Any, value: Any, *, var: str, op: Any) -> Any:
    current = ctx.read(var)
    if np.shape(current) != np.shape(value):
        raise shape_mismatch(op, np.shape(current), np.shape(value))
    updated = current - value
    ctx.write(var, updated)
    return updated


register_op("Assign", infer=_assign_infer, kernel=_assign_kernel, grad=NOT_DIFFERENTIABLE, stateful=True,
            ref_inputs=(0,), bind=bind_variable)
register_op("AssignAdd", infer=_assign_infer, kernel=_assign_add_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True, ref_inputs=(0,), bind=bind_variable)
register_op("AssignSub", infer=_assign_infer, kernel=_assign_sub_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True, ref_inputs=(0,), bind=bind_variable)


def _is_initialized_kernel(ctx: Any, *, var: str) -> Any:
    return ctx.xp.asarray(ctx.has(var))


register_op("IsVariableInitialized", infer=lambda ctx: [(dtypes_lib.bool_, TensorShape([]))],
            kernel=_is_initialized_kernel, grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0,),
            bind=bind_variable)
