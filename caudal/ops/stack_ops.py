"""TF's stack ops (StackV2, StackPushV2, StackPopV2, StackCloseV2) and ControlTrigger.

TensorFlow 1.x differentiates a while loop by pushing the forward values its
gradient needs onto stacks, one per value, and popping them in the gradient
loop; `ControlTrigger` nodes order those pops. caudal's own loop gradients keep
their histories in TensorLists instead (`caudal.ops.while_grad`), but with these
ops the gradient loops TensorFlow wrote into a GraphDef import and run.

A stack lives for one run: every run of a StackV2 node makes a new one, and the
node's handle output is the stack itself. Errors are TensorFlow's, with its
messages ("Stack[f_acc_3] is empty when calling Pop().").
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from caudal.errors import InternalError, InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, get_default_graph
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops.tensor_array_ops import type_name

__all__ = ["StackValue", "stack_v2", "stack_push_v2", "stack_pop_v2", "stack_close_v2", "control_trigger"]

_NAMES = itertools.count()  # TF numbers the stacks it makes in the process: "StackV2_3"


class StackValue:
    """One stack during one run: the value of a StackV2 handle."""

    __slots__ = ("name", "dtype", "max_size", "items", "closed")

    def __init__(self, name: str, dtype: dtypes_lib.DType, max_size: int):
        self.name = name
        self.dtype = dtype
        self.max_size = max_size
        self.items: list[Any] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"<Stack {self.name} size={len(self.items)}>"


def _check_open(stack: StackValue, op: Any) -> None:
    if stack.closed:
        raise InvalidArgumentError(None, op, f"Stack[{stack.name}] has already been closed.")


def _expect_handle(ctx: InferContext) -> None:
    if ctx.dtype(0) is not dtypes_lib.resource:
        raise TypeError(f"Input 'handle' of '{ctx.type}' Op has type {ctx.dtype(0).name} that does not match "
                        "expected type of resource.")


def _stack_infer(ctx: InferContext) -> list:
    if ctx.dtype(0) is not dtypes_lib.int32:
        raise TypeError(f"Input 'max_size' of 'StackV2' Op has type {ctx.dtype(0).name} that does not match "
                        "expected type of int32.")
    ctx.attrs.setdefault("stack_name", "")
    return [(dtypes_lib.resource, TensorShape([2]))]


def _stack_bind(op: Operation) -> dict:
    name = op._attrs["stack_name"]
    name = name.decode() if isinstance(name, bytes) else name
    return {"prefix": name or op.name, "elem_type": dtypes_lib.as_dtype(op._attrs["elem_type"]).base_dtype}


def _stack_kernel(ctx: Any, max_size: Any, *, elem_type: Any, prefix: str, op: Any) -> StackValue:
    if np.ndim(max_size) != 0:
        raise InvalidArgumentError(None, op, "Stack size must be a scalar, but had shape: "
                                             f"[{','.join(str(d) for d in np.shape(max_size))}]")
    return StackValue(f"{prefix}_{next(_NAMES)}", elem_type, int(max_size))


def _push_infer(ctx: InferContext) -> list:
    _expect_handle(ctx)
    ctx.attrs.setdefault("swap_memory", False)
    return [(ctx.dtype(1), ctx.shape(1))]


def _push_kernel(ctx: Any, handle: StackValue, elem: Any, *, T: Any, op: Any) -> Any:
    _check_open(handle, op)
    if T is not handle.dtype:
        raise InvalidArgumentError(None, op, f"Must have type {handle.dtype.as_datatype_enum} but got "
                                             f"{T.as_datatype_enum}")
    items = handle.items
    if 0 <= handle.max_size <= len(items):
        raise InvalidArgumentError(None, op, f"Stack[{handle.name}] overflowed its max_size ({handle.max_size})")
    items.append(elem)
    return elem


def _pop_infer(ctx: InferContext) -> list:
    _expect_handle(ctx)
    return [(dtypes_lib.as_dtype(ctx.attrs["elem_type"]).base_dtype, unknown_shape())]


def _pop_kernel(ctx: Any, handle: StackValue, *, elem_type: Any, op: Any) -> Any:
    _check_open(handle, op)
    items = handle.items
    if not items:
        raise InvalidArgumentError(None, op, f"Stack[{handle.name}] is empty when calling Pop().")
    if elem_type is not handle.dtype:
        raise InternalError(None, op, f"Output 0 of type {type_name(handle.dtype)} does not match declared output "
                                      f"type {type_name(elem_type)} for node {{{{node {op.name}}}}}")
    return items.pop()


def _close_infer(ctx: InferContext) -> list:
    _expect_handle(ctx)
    return []


def _close_kernel(ctx: Any, handle: StackValue) -> None:
    handle.closed = True
    handle.items = []


def _control_trigger_kernel(xp: Any) -> None:
    return None


register_op("StackV2", infer=_stack_infer, kernel=_stack_kernel, grad=NOT_DIFFERENTIABLE, stateful=True,
            bind=_stack_bind)
register_op("StackPushV2", infer=_push_infer, kernel=_push_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("StackPopV2", infer=_pop_infer, kernel=_pop_kernel, grad=NOT_DIFFERENTIABLE, stateful=True,
            bind=lambda op: {"elem_type": dtypes_lib.as_dtype(op._attrs["elem_type"]).base_dtype})
register_op("StackCloseV2", infer=_close_infer, kernel=_close_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("ControlTrigger", infer=lambda ctx: [], kernel=_control_trigger_kernel, grad=NOT_DIFFERENTIABLE)


# ------------------------------------------------------------ op builders
def stack_v2(max_size: Any, elem_type: Any, stack_name: str = "", name: str | None = None) -> Tensor:
    """A new stack of `elem_type` values holding at most `max_size` of them (-1: no limit)."""
    graph = get_default_graph()
    with graph.name_scope(name or "StackV2") as scope:
        size = convert_to_tensor(max_size, dtype=dtypes_lib.int32, name="max_size")
        attrs = {"elem_type": dtypes_lib.as_dtype(elem_type).base_dtype, "stack_name": stack_name}
        return graph.create_op("StackV2", [size], attrs, name=scope).outputs[0]


def stack_push_v2(handle: Tensor, elem: Any, swap_memory: bool = False, name: str | None = None) -> Tensor:
    """Pushes `elem` and returns it."""
    elem = convert_to_tensor(elem)
    attrs = {"T": elem.dtype.base_dtype, "swap_memory": swap_memory}
    return handle.graph.create_op("StackPushV2", [handle, elem], attrs, name or "StackPushV2").outputs[0]


def stack_pop_v2(handle: Tensor, elem_type: Any, name: str | None = None) -> Tensor:
    """Pops the last pushed value."""
    attrs = {"elem_type": dtypes_lib.as_dtype(elem_type).base_dtype}
    return handle.graph.create_op("StackPopV2", [handle], attrs, name or "StackPopV2").outputs[0]


def stack_close_v2(handle: Tensor, name: str | None = None) -> Operation:
    """Closes the stack: any later push or pop fails."""
    return handle.graph.create_op("StackCloseV2", [handle], {}, name or "StackCloseV2")


def control_trigger(name: str | None = None) -> Operation:
    """An op that does nothing: a point to hang control edges on."""
    return get_default_graph().create_op("ControlTrigger", [], {}, name or "ControlTrigger")
