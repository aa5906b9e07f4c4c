"""StridedSlice and its gradient, and Python indexing of tensors (`x[1:, ::2, None, ...]`).

Indexing follows TF's `_slice_helper`: ints shrink a dimension, slices keep it,
`None` (tf.newaxis) adds one, `...` stands for the remaining dimensions, and
the slice bounds may be tensors. NumPy's clamping of out-of-range bounds
matches TF's; an out-of-range int index is an InvalidArgumentError.
"""
from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules
from caudal.ops._scatter import place_distinct

__all__ = ["strided_slice"]

_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def _index(begin: Any, end: Any, strides: Any, begin_mask: int, end_mask: int, ellipsis_mask: int,
           new_axis_mask: int, shrink_axis_mask: int) -> tuple:
    """The NumPy index that a StridedSlice spec describes."""
    index: list[Any] = []
    for i in builtins.range(len(begin)):
        bit = 1 << i
        if ellipsis_mask & bit:
            index.append(Ellipsis)
        elif new_axis_mask & bit:
            index.append(None)
        elif shrink_axis_mask & bit:
            index.append(int(begin[i]))
        else:
            b = None if begin_mask & bit else int(begin[i])
            e = None if end_mask & bit else int(end[i])
            index.append(builtins.slice(b, e, int(strides[i])))
    return builtins.tuple(index)


_UNKNOWN_INDEX = object()  # a shrinking index whose value is known only when the graph runs
_UNKNOWN_SLICE = object()  # a slice whose bounds are known only when the graph runs


def _partial_index(length: int, strides: Any, begin_mask: int, end_mask: int, ellipsis_mask: int,
                   new_axis_mask: int, shrink_axis_mask: int) -> tuple:
    """The index of a StridedSlice spec whose values are not all known at build time: the masks
    still give the output's rank, and a full slice with a known stride its dimension (TF's rule)."""
    index: list[Any] = []
    for i in builtins.range(length):
        bit = 1 << i
        if ellipsis_mask & bit:
            index.append(Ellipsis)
        elif new_axis_mask & bit:
            index.append(None)
        elif shrink_axis_mask & bit:
            index.append(_UNKNOWN_INDEX)
        elif strides is not None and begin_mask & bit and end_mask & bit:
            index.append(builtins.slice(None, None, int(strides[i])))
        else:
            index.append(_UNKNOWN_SLICE)
    return builtins.tuple(index)


def _checked_index(x_shape: tuple, index: tuple) -> tuple:
    dim = 0
    expanded = builtins.sum(1 for item in index if item is not None and item is not Ellipsis)
    for item in index:
        if item is Ellipsis:
            dim += len(x_shape) - expanded
        elif item is None:
            continue
        else:
            if isinstance(item, int) and dim < len(x_shape) and not -x_shape[dim] <= item < x_shape[dim]:
                from caudal.errors import InvalidArgumentError

                raise InvalidArgumentError(None, None, f"slice index {item} of dimension {dim} out of bounds.")
            dim += 1
    return index


def _strided_slice_kernel(xp: Any, x: Any, begin: Any, end: Any, strides: Any, *, begin_mask: int,
                          end_mask: int, ellipsis_mask: int, new_axis_mask: int, shrink_axis_mask: int) -> Any:
    index = _index(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask)
    return x[_checked_index(x.shape, index)]


def _strided_slice_infer(ctx: InferContext) -> list:
    for i, name in ((1, "begin"), (2, "end"), (3, "strides")):
        _rules.check_dtype(ctx, i, _rules.INDEX, name)
    x = ctx.shape(0)
    begin, end, strides = ctx.value(1), ctx.value(2), ctx.value(3)
    if strides is not None and np.any(np.asarray(strides) == 0):
        raise ValueError("strides[i] must be non-zero")
    if begin is None or end is None or strides is None:
        spec_length = ctx.shape(1)[0].value if ctx.shape(1).ndims == 1 else None
        if x.ndims is None or spec_length is None:
            return [(ctx.dtype(0), unknown_shape())]
        index = _partial_index(spec_length, strides, *(ctx.attrs[m] for m in _MASKS))
    elif x.ndims is None:
        return [(ctx.dtype(0), unknown_shape())]
    else:
        index = _index(begin, end, strides, *(ctx.attrs[m] for m in _MASKS))
    dims = x.as_list()
    explicit = builtins.sum(1 for item in index if item is not None and item is not Ellipsis)
    if Ellipsis not in index:
        index = index + (Ellipsis,)
    out: list[int | None] = []
    d = 0
    for item in index:
        if item is Ellipsis:
            n = len(dims) - explicit
            out.extend(dims[d:d + n])
            d += n
        elif item is None:
            out.append(1)
        elif item is _UNKNOWN_INDEX or item is _UNKNOWN_SLICE:
            if d >= len(dims):
                raise ValueError(f"Index out of range using input dim {d}")
            if item is _UNKNOWN_SLICE:
                out.append(None)
            d += 1
        elif isinstance(item, int):
            if d >= len(dims):
                raise ValueError(f"Index out of range using input dim {d}")
            if dims[d] is not None and not -dims[d] <= item < dims[d]:
                raise ValueError(f"slice index {item} of dimension {d} out of bounds")
            d += 1
        else:
            if d >= len(dims):
                raise ValueError(f"Index out of range using input dim {d}")
            out.append(None if dims[d] is None else len(builtins.range(*item.indices(dims[d]))))
            d += 1
    return [(ctx.dtype(0), TensorShape(out))]


def _strided_slice_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.array_ops import shape

    x = op.inputs[0]
    x_shape = x.shape.as_list() if x.shape.is_fully_defined() else shape(x)
    shape_t = convert_to_tensor(x_shape, dtype=op.inputs[1].dtype.base_dtype) if isinstance(x_shape, list) \
        else x_shape
    attrs = {m: op.get_attr(m) for m in _MASKS}
    attrs.update(T=grad.dtype.base_dtype, Index=op.inputs[1].dtype.base_dtype)
    dx = apply_op("StridedSliceGrad", [shape_t, op.inputs[1], op.inputs[2], op.inputs[3], grad], attrs)
    return [dx, None, None, None]


register_op("StridedSlice", infer=_strided_slice_infer, kernel=_strided_slice_kernel, grad=_strided_slice_grad)


def _strided_slice_grad_kernel(xp: Any, shape: Any, begin: Any, end: Any, strides: Any, dy: Any, *,
                               begin_mask: int, end_mask: int, ellipsis_mask: int, new_axis_mask: int,
                               shrink_axis_mask: int) -> Any:
    """dy placed where StridedSlice took its values, zeros elsewhere: each output element's
    position in the slice of an index grid tells where it goes (`place_distinct`)."""
    index = _index(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask)
    out_shape = builtins.tuple(int(d) for d in shape)
    size = math.prod(out_shape)
    positions = xp.arange(size, dtype=xp.int64).reshape(out_shape)[index]
    return place_distinct(xp, dy.reshape(-1), positions.reshape(-1), size).reshape(out_shape)


def _strided_slice_grad_numpy(xp: Any, shape: Any, begin: Any, end: Any, strides: Any, dy: Any, *,
                              begin_mask: int, end_mask: int, ellipsis_mask: int, new_axis_mask: int,
                              shrink_axis_mask: int) -> Any:
    """StridedSliceGrad on NumPy: dy assigned into a zero array through the slice."""
    index = _index(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask)
    out = np.zeros(builtins.tuple(int(d) for d in shape), dtype=dy.dtype)
    out[index] = dy
    return out


def _strided_slice_grad_infer(ctx: InferContext) -> list:
    return [(ctx.dtype(4), ctx.shape_value(0))]


def _strided_slice_grad_grad(op: Any, grad: Tensor) -> list:
    masks = {m: op.get_attr(m) for m in _MASKS}
    ddy = strided_slice(grad, op.inputs[1], op.inputs[2], op.inputs[3], **masks)
    return [None, None, None, None, ddy]


register_op("StridedSliceGrad", infer=_strided_slice_grad_infer, kernel=_strided_slice_grad_kernel,
            variants={"numpy": _strided_slice_grad_numpy}, grad=_strided_slice_grad_grad)


def strided_slice(input_: Any, begin: Any, end: Any, strides: Any = None, begin_mask: int = 0,
                  end_mask: int = 0, ellipsis_mask: int = 0, new_axis_mask: int = 0,
                  shrink_axis_mask: int = 0, var: Any = None, name: str | None = None) -> Tensor:
    """`tf.strided_slice` with TF's five bit masks."""
    x = convert_to_tensor(input_)
    begin_t = convert_to_tensor(begin, dtype_hint=dtypes_lib.int32)
    end_t = convert_to_tensor(end, dtype_hint=dtypes_lib.int32)
    if strides is None:
        strides = [1] * (begin_t.shape[0].value or 0)
    strides_t = convert_to_tensor(strides, dtype_hint=dtypes_lib.int32)
    attrs = {"T": x.dtype.base_dtype, "Index": begin_t.dtype.base_dtype, "begin_mask": begin_mask,
             "end_mask": end_mask, "ellipsis_mask": ellipsis_mask, "new_axis_mask": new_axis_mask,
             "shrink_axis_mask": shrink_axis_mask}
    return apply_op("StridedSlice", [x, begin_t, end_t, strides_t], attrs, name or "StridedSlice")


def _is_index(value: Any) -> bool:
    if isinstance(value, Tensor):
        return value.dtype.base_dtype in (dtypes_lib.int32, dtypes_lib.int64) and value.shape.ndims in (None, 0)
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def getitem(tensor: Any, slice_spec: Any) -> Tensor:
    """`tensor[slice_spec]`, lowered to one StridedSlice like TF's `_slice_helper`."""
    if not isinstance(slice_spec, builtins.tuple):
        slice_spec = (slice_spec,)
    begin: list[Any] = []
    end: list[Any] = []
    strides: list[Any] = []
    masks = dict.fromkeys(_MASKS, 0)
    for i, s in enumerate(slice_spec):
        bit = 1 << i
        if isinstance(s, builtins.slice):
            for part in (s.start, s.stop, s.step):
                if part is not None and not _is_index(part):
                    raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and "
                                    f"scalar tf.int32/tf.int64 tensors are valid indices, got {part!r}")
            begin.append(0 if s.start is None else s.start)
            end.append(0 if s.stop is None else s.stop)
            strides.append(1 if s.step is None else s.step)
            if s.start is None:
                masks["begin_mask"] |= bit
            if s.stop is None:
                masks["end_mask"] |= bit
        elif s is Ellipsis:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["ellipsis_mask"] |= bit
        elif s is None:
            begin.append(0)
            end.append(0)
            strides.append(1)
            masks["new_axis_mask"] |= bit
        elif _is_index(s):
            begin.append(s)
            end.append(s + 1)
            strides.append(1)
            masks["shrink_axis_mask"] |= bit
        else:
            raise TypeError("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
                            f"tf.int32/tf.int64 tensors are valid indices, got {s!r}")
    with get_default_graph().name_scope("strided_slice") as scope:
        from caudal.ops.array_ops import stack

        parts = []
        for values, name in ((begin, "stack"), (end, "stack_1"), (strides, "stack_2")):
            if builtins.any(isinstance(v, Tensor) for v in values):
                parts.append(stack(values, name=name))
            else:
                parts.append(convert_to_tensor(np.array(values, dtype=np.int32), name=name))
        return strided_slice(tensor, parts[0], parts[1], parts[2], name=scope[:-1] + "/", **masks)

