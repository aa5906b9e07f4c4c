"""TensorLists: immutable stacks of tensors held in one `variant` value (TF's list ops).

`EmptyTensorList`, `TensorListPushBack`, `TensorListPopBack`, `TensorListLength`
and `TensorListStack` with TF's op names and attrs. A list value is never
changed: pushing returns a new list that shares the old one, in O(1), so the
kernels are pure. The gradient of a while loop keeps the per-iteration values
its backward pass needs in such lists (`caudal.ops.while_grad`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import InferContext, apply_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules

__all__ = ["empty_tensor_list", "tensor_list_push_back", "tensor_list_pop_back", "tensor_list_length",
           "tensor_list_stack", "TensorListValue"]


class TensorListValue:
    """An immutable list of arrays: the last element and the list before it."""

    __slots__ = ("last", "before", "length", "element_dtype")

    def __init__(self, last: Any, before: TensorListValue | None, length: int, element_dtype: Any):
        self.last = last
        self.before = before
        self.length = length
        self.element_dtype = element_dtype

    def items(self) -> list[Any]:
        values = []
        node: TensorListValue | None = self
        while node is not None and node.length:
            values.append(node.last)
            node = node.before
        values.reverse()
        return values

    def __repr__(self) -> str:
        return f"TensorList(length={self.length})"


def _empty_infer(ctx: InferContext) -> list:
    return [(dtypes_lib.variant, TensorShape([]))]


def _empty_kernel(xp: Any, element_shape: Any, max_num_elements: Any, *, element_dtype: Any) -> TensorListValue:
    return TensorListValue(None, None, 0, element_dtype)


def _push_back_kernel(xp: Any, handle: TensorListValue, tensor: Any, *, element_dtype: Any) -> TensorListValue:
    return TensorListValue(tensor, handle, handle.length + 1, element_dtype)


def _pop_back_infer(ctx: InferContext) -> list:
    dtype = _rules.attr_dtype(ctx, "element_dtype")
    return [(dtypes_lib.variant, TensorShape([])), (dtype, ctx.shape_value(1) if ctx.value(1) is not None
                                                    and np.ndim(ctx.value(1)) == 1 else unknown_shape())]


def _pop_back_kernel(xp: Any, handle: TensorListValue, element_shape: Any, *, element_dtype: Any,
                     op: Any) -> tuple[Any, Any]:
    if not handle.length:
        raise InvalidArgumentError(None, op, "Trying to pop from an empty list.")
    return handle.before, handle.last


def _length_kernel(xp: Any, handle: TensorListValue) -> Any:
    return np.int32(handle.length)


def _stack_kernel(xp: Any, handle: TensorListValue, element_shape: Any, *, element_dtype: Any,
                  num_elements: int) -> Any:
    items = handle.items()
    if not items:
        shape = tuple(int(d) for d in np.reshape(element_shape, -1)) if np.ndim(element_shape) else ()
        if any(d < 0 for d in shape):
            raise InvalidArgumentError(None, None, "Tried to stack elements of an empty list with non-fully-"
                                                   "defined element_shape")
        return xp.zeros((0,) + shape, dtypes_lib.as_dtype(element_dtype).as_numpy_dtype)
    return xp.stack(items)


def _stack_infer(ctx: InferContext) -> list:
    dtype = _rules.attr_dtype(ctx, "element_dtype")
    element = ctx.shape_value(1) if ctx.value(1) is not None and np.ndim(ctx.value(1)) == 1 else unknown_shape()
    return [(dtype, TensorShape([None]).concatenate(element) if element.ndims is not None else unknown_shape())]


register_op("EmptyTensorList", infer=_empty_infer, kernel=_empty_kernel, grad=NOT_DIFFERENTIABLE)
register_op("TensorListPushBack", infer=_empty_infer, kernel=_push_back_kernel, grad=NOT_DIFFERENTIABLE)
register_op("TensorListPopBack", infer=_pop_back_infer, kernel=_pop_back_kernel, grad=NOT_DIFFERENTIABLE)
register_op("TensorListLength", infer=lambda ctx: [(dtypes_lib.int32, TensorShape([]))], kernel=_length_kernel,
            grad=NOT_DIFFERENTIABLE)
register_op("TensorListStack", infer=_stack_infer, kernel=_stack_kernel, grad=NOT_DIFFERENTIABLE)


def _shape_tensor(shape: Any) -> Tensor:
    from caudal.ops.constant_ops import constant

    if isinstance(shape, Tensor):
        return shape
    shape = TensorShape(shape) if not isinstance(shape, TensorShape) else shape
    if shape.ndims is None:
        return constant(-1, dtypes_lib.int32)
    return constant([-1 if d is None else d for d in shape.as_list()], dtypes_lib.int32)


def empty_tensor_list(element_shape: Any, element_dtype: Any, max_num_elements: Any = None,
                      name: str | None = None) -> Tensor:
    """A new empty list of `element_dtype` tensors."""
    from caudal.ops.constant_ops import constant

    limit = constant(-1 if max_num_elements is None else max_num_elements, dtypes_lib.int32)
    dtype = dtypes_lib.as_dtype(element_dtype).base_dtype
    return apply_op("EmptyTensorList", [_shape_tensor(element_shape), limit],
                    {"element_dtype": dtype, "shape_type": dtypes_lib.int32}, name or "EmptyTensorList")


def tensor_list_push_back(input_handle: Tensor, tensor: Tensor, name: str | None = None) -> Tensor:
    """The list with `tensor` appended (the input list is unchanged)."""
    return apply_op("TensorListPushBack", [input_handle, tensor], {"element_dtype": tensor.dtype.base_dtype},
                    name or "TensorListPushBack")


def tensor_list_pop_back(input_handle: Tensor, element_dtype: Any, element_shape: Any = None,
                         name: str | None = None) -> tuple[Tensor, Tensor]:
    """(the list without its last element, that element)."""
    dtype = dtypes_lib.as_dtype(element_dtype).base_dtype
    op = input_handle.graph.create_op("TensorListPopBack", [input_handle, _shape_tensor(element_shape)],
                                      {"element_dtype": dtype}, name or "TensorListPopBack")
    return op.outputs[0], op.outputs[1]


def tensor_list_length(input_handle: Tensor, name: str | None = None) -> Tensor:
    return apply_op("TensorListLength", [input_handle], {}, name or "TensorListLength")


def tensor_list_stack(input_handle: Tensor, element_dtype: Any, element_shape: Any = None,
                      num_elements: int = -1, name: str | None = None) -> Tensor:
    """The list's elements stacked along a new first axis."""
    dtype = dtypes_lib.as_dtype(element_dtype).base_dtype
    return apply_op("TensorListStack", [input_handle, _shape_tensor(element_shape)],
                    {"element_dtype": dtype, "num_elements": num_elements}, name or "TensorListStack")
