"""Values known while the graph is built (TF's `tensor_util.constant_value`).

Shape rules use this to see through `tf.reshape(x, [-1, 784])` or
`tf.fill(tf.shape(x), 1.0)`. A tensor's value is known when it comes from a
Const, from a Shape/Size/Rank of a fully known shape, or from a pure op all of
whose inputs are known and small: such an op is folded by running its own
NumPy kernel, so no op needs a second, hand-written folding rule.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import tensor_shape
from caudal.framework.tensor import Tensor

__all__ = ["constant_value", "constant_value_as_shape"]

_NEVER_FOLD = frozenset(["Placeholder", "PlaceholderWithDefault", "VariableV2"])
_MAX_FOLD_ELEMENTS = 1024
_UNKNOWN = object()


def _shape_only_value(tensor: Tensor) -> Any:
    """Values that follow from static shapes alone, without the input's value."""
    op = tensor.op
    if op.type == "Shape" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.as_list(), dtype=op.get_attr("out_type").as_numpy_dtype)
    if op.type == "Size" and op.inputs[0].shape.is_fully_defined():
        return np.array(op.inputs[0].shape.num_elements(), dtype=op.get_attr("out_type").as_numpy_dtype)
    if op.type == "Rank" and op.inputs[0].shape.ndims is not None:
        return np.array(op.inputs[0].shape.ndims, dtype=np.int32)
    return _UNKNOWN


def constant_value(tensor: Tensor) -> np.ndarray | None:
    """The NumPy value of `tensor` if it is known at build time, else None."""
    if not isinstance(tensor, Tensor):
        return None
    cache = tensor.graph._constant_cache
    if tensor in cache:
        return cache[tensor]
    # Iterative post-order walk: deep chains of constant arithmetic exist.
    stack: list[tuple[Tensor, bool]] = [(tensor, False)]
    while stack:
        current, inputs_done = stack.pop()
        if current in cache:
            continue
        op = current.op
        if op.type == "Const":
            cache[current] = op.get_attr("value")
            continue
        value = _shape_only_value(current)
        if value is not _UNKNOWN:
            cache[current] = value
            continue
        if op.type in _NEVER_FOLD or op._op_def.stateful or op._op_def.control_flow or op.control_inputs:
            cache[current] = None
            continue
        static = current.shape.num_elements()
        if static is not None and static > _MAX_FOLD_ELEMENTS:
            cache[current] = None
            continue
        if not inputs_done:
            stack.append((current, True))
            for t in op.inputs:
                if t not in cache:
                    stack.append((t, False))
            continue
        input_values = [cache.get(t) for t in op.inputs]
        if any(v is None for v in input_values) or any(np.size(v) > _MAX_FOLD_ELEMENTS for v in input_values):
            for t in op.outputs:
                cache[t] = None
            continue
        for t, v in zip(op.outputs, _fold(op, input_values)):
            cache[t] = v
    return cache.get(tensor)


def _fold(op: Any, input_values: list[np.ndarray]) -> list[Any]:
    from functools import partial

    op_def = op._op_def
    kernel = partial(op_def.kernel, np, **op_def.kernel_kwargs(op))
    try:
        with np.errstate(all="ignore"):
            result = kernel(*input_values)
    except Exception:
        return [None] * len(op.outputs)
    results = list(result) if len(op.outputs) > 1 else [result]
    return [np.asarray(r) if r is not None else None for r in results]


def constant_value_as_shape(tensor: Tensor) -> tensor_shape.TensorShape:
    """Reads a 1-D shape-valued tensor as a TensorShape, keeping the parts that are known.

    Follows TF: `Shape` of a partially known tensor, `Pack` of scalars some of
    which are unknown, and `ConcatV2` of such pieces give partial shapes; a -1
    entry means unknown.
    """
    if tensor.shape.ndims == 0:
        value = constant_value(tensor)
        if value is None:
            raise ValueError("Received a scalar with unknown value as shape; require a statically known "
                             "scalar with value '-1' to describe an unknown shape.")
        if value != -1:
            raise ValueError(f"Received a scalar value '{value}' as shape; require a statically known scalar "
                             f"with value '-1' to describe an unknown shape.")
        return tensor_shape.unknown_shape()
    value = constant_value(tensor)
    if value is not None:
        return tensor_shape.TensorShape([None if d == -1 else int(d) for d in value.reshape(-1)])
    op = tensor.op
    if op.type == "Shape":
        return op.inputs[0].shape
    if op.type == "Pack":
        dims = []
        for t in op.inputs:
            v = constant_value(t)
            dims.append(None if v is None or v == -1 else int(v))
        return tensor_shape.TensorShape(dims)
    if op.type == "ConcatV2":
        result = tensor_shape.TensorShape([])
        for t in op.inputs[:-1]:
            result = result.concatenate(constant_value_as_shape(t))
        return result
    if op.type == "Cast" or op.type == "Identity":
        return constant_value_as_shape(op.inputs[0])
    if op.type == "StridedSlice" and not any(op.get_attr(m) for m in ("ellipsis_mask", "new_axis_mask",
                                                                       "shrink_axis_mask")):
        # A slice of a partially known shape vector, e.g. tf.shape(x)[1:].
        whole = constant_value_as_shape(op.inputs[0])
        begin, end, strides = (constant_value(t) for t in op.inputs[1:4])
        if whole.ndims is not None and begin is not None and end is not None and strides is not None \
                and len(begin) == 1:
            start = None if op.get_attr("begin_mask") & 1 else int(begin[0])
            stop = None if op.get_attr("end_mask") & 1 else int(end[0])
            return tensor_shape.TensorShape(whole.as_list()[slice(start, stop, int(strides[0]))])
    rank = tensor.shape[0].value if tensor.shape.ndims == 1 else None
    return tensor_shape.unknown_shape(rank)
