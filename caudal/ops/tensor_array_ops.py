"""`tf.TensorArray` with TF1's semantics, on TF1's resource ops (TensorArrayV3 and friends).

A TensorArray lives for one `Session.run`: every run of a `TensorArrayV3` node
makes a new array, and the node's `handle` output is that array itself (a
`TensorArrayValue`). The `flow` output is a float scalar that carries no data:
ops that change the array take the flow in and give it out, so the graph's
data edges order the writes and reads, as in TensorFlow. All kernels are
stateful (they get the run context); a failed run takes its arrays with it.

Semantics follow TensorFlow 1.x: an index is written once (an array made for
gradients sums repeated writes instead), a read clears its element unless
`clear_after_read=False`, an unwritten element reads as zeros once the element
shape is fully known, a fixed-size array refuses indices past its size, and
with `infer_shape` every element must have the first element's shape. The
errors are TensorFlow's, with its messages.

Gradients are TF1's: a gradient array, made by `TensorArrayGradV3` for the pair
(forward array, gradient source) once per run, collects the gradients of the
elements. The gradient of `read` writes into it, that of `write` reads from
it; gather and scatter, concat and split, stack and unstack are each other's
gradients. The source is the `tf.gradients` name scope ("gradients",
"gradients_1", ...), so two gradient computations get two gradient arrays.
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError, UnimplementedError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, get_default_graph
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, as_shape, unknown_shape

__all__ = ["TensorArray", "TensorArrayValue"]

_FLOW = np.float32(0.0)
_NAMES = itertools.count()  # TF numbers every array it makes in the process: "TensorArray_7"
_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def type_name(dtype: dtypes_lib.DType) -> str:
    """A dtype as TensorFlow's runtime messages spell it ("float", "int32")."""
    return _TYPE_NAMES.get(dtype.name, dtype.name)


def shape_text(shape: tuple | None) -> str:
    """A runtime (partial) shape as TensorFlow's messages write it: [2,3], [?,2], [] or <unknown>."""
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def runtime_shape(shape: TensorShape) -> tuple | None:
    """A static shape as the kernels keep it: None for an unknown rank, else a tuple of ints and Nones."""
    return None if shape.ndims is None else tuple(shape.as_list())


def _fully_defined(shape: tuple | None) -> bool:
    return shape is not None and None not in shape


def _compatible(partial: tuple | None, shape: tuple) -> bool:
    if partial is None:
        return True
    return len(partial) == len(shape) and all(p is None or p == s for p, s in zip(partial, shape))


def _merge(a: tuple | None, b: tuple | None) -> tuple | None:
    """The merge of two partial shapes, or None for an unknown rank; ValueError when they conflict."""
    if a is None:
        return b
    if b is None:
        return a
    if len(a) != len(b) or any(x is not None and y is not None and x != y for x, y in zip(a, b)):
        raise ValueError(f"PartialTensorShape: Incompatible shapes during merge: {shape_text(a)} vs. {shape_text(b)}")
    return tuple(x if x is not None else y for x, y in zip(a, b))


# ------------------------------------------------------------ run-time arrays
class _Cleared:
    """An element that was read and cleared; its shape is kept for the gradient array."""

    __slots__ = ("shape",)

    def __init__(self, shape: tuple):
        self.shape = shape


class _Zeros(_Cleared):
    """An element of a gradient array that no gradient has reached yet: zeros of this shape."""

    __slots__ = ()


class TensorArrayValue:
    """One TensorArray during one run: the value of its handle.

    `items[i]` is None (never written), the element's array, a `_Cleared` marker
    (read and cleared) or a `_Zeros` marker (gradient arrays).
    """

    __slots__ = ("name", "dtype", "np_dtype", "items", "element_shape", "dynamic_size", "clear_after_read",
                 "identical_shapes", "aggregate", "closed", "read_indices")

    def __init__(self, name: str, dtype: dtypes_lib.DType, size: int, element_shape: tuple | None,
                 dynamic_size: bool, clear_after_read: bool, identical_shapes: bool, aggregate: bool = False):
        self.name = name
        self.dtype = dtype
        self.np_dtype = dtype.as_numpy_dtype
        self.items: list[Any] = [None] * size
        self.element_shape = element_shape
        self.dynamic_size = dynamic_size
        self.clear_after_read = clear_after_read
        self.identical_shapes = identical_shapes
        self.aggregate = aggregate  # gradient arrays sum the writes to one index
        self.closed = False
        self.read_indices: set[int] = set()

    def __repr__(self) -> str:
        return f"<TensorArray {self.name} size={len(self.items)}>"


def _check_open(array: TensorArrayValue, op: Any) -> None:
    if array.closed:
        raise InvalidArgumentError(None, op, f"TensorArray {array.name} has already been closed.")


def _check(array: TensorArrayValue, dtype: dtypes_lib.DType, op: Any, writes: bool = False) -> None:
    """The op's dtype is the array's, and the array is open (TF checks in this order)."""
    if dtype is not array.dtype:
        wants = "is trying to write dtype" if writes else "requested dtype"
        raise InvalidArgumentError(None, op, f"TensorArray dtype is {type_name(array.dtype)} but Op {wants} "
                                             f"{type_name(dtype)}.")
    _check_open(array, op)


def _write(array: TensorArrayValue, index: int, value: Any, op: Any) -> None:
    """Stores `value` at `index` (or adds it, in a gradient array), with TensorFlow's checks."""
    items = array.items
    if index < 0 or index >= len(items):
        if index < 0 or not array.dynamic_size:
            raise InvalidArgumentError(None, op, f"TensorArray {array.name}: Tried to write to index {index} but "
                                                 f"array is not resizeable and size is: {len(items)}")
        items.extend([None] * (index + 1 - len(items)))
    shape = value.shape
    expected = array.element_shape
    if expected != shape:
        if not _compatible(expected, shape):
            raise InvalidArgumentError(
                None, op, f"TensorArray {array.name}: Could not write to TensorArray index {index} because the "
                          f"value shape is {shape_text(shape)} which is incompatible with the TensorArray's "
                          f"inferred element shape: {shape_text(expected)} (consider setting infer_shape=False).")
        if array.identical_shapes:
            array.element_shape = shape
    current = items[index]
    if current is None and index not in array.read_indices:
        items[index] = value
        return
    if current is None or type(current) is _Cleared or index in array.read_indices:
        raise InvalidArgumentError(None, op, f"TensorArray {array.name}: Could not write to TensorArray index "
                                             f"{index} because it has already been read.")
    if not array.aggregate:
        raise InvalidArgumentError(None, op, f"TensorArray {array.name}: Could not write to TensorArray index "
                                             f"{index} because it has already been written to.")
    if current.shape != shape:
        raise InvalidArgumentError(None, op, f"TensorArray {array.name}: Could not aggregate to TensorArray index "
                                             f"{index} because the existing shape is {shape_text(current.shape)} "
                                             f"but the new input shape is {shape_text(shape)}.")
    items[index] = value if type(current) is _Zeros else current + value


def _read(array: TensorArrayValue, index: int, op: Any) -> Any:
    """The element at `index`, cleared afterwards unless the array keeps read elements."""
    items = array.items
    if index < 0 or index >= len(items):
        raise InvalidArgumentError(None, op, f"Tried to read from index {index} but array size is: {len(items)}")
    value = items[index]
    kind = type(value)
    if kind is _Cleared:
        raise InvalidArgumentError(None, op, f"TensorArray {array.name}: Could not read index {index} twice because "
                                             "it was cleared after a previous read (perhaps try setting "
                                             "clear_after_read = false?).")
    if value is None:
        shape = array.element_shape
        if not _fully_defined(shape):
            raise InvalidArgumentError(
                None, op, f"TensorArray {array.name}: Could not read from TensorArray index {index}.  Furthermore, "
                          f"the element shape is not fully defined: {shape_text(shape)}.  It is possible you are "
                          "working with a resizeable TensorArray and stop_gradients is not allowing the gradients "
                          "to be written.  If you set the full element_shape property on the forward TensorArray, "
                          "the proper all-zeros tensor will be returned instead of incurring this error.")
        value = np.zeros(shape, array.np_dtype)
    elif kind is _Zeros:
        value = np.zeros(value.shape, array.np_dtype)
    if array.clear_after_read:
        items[index] = _Cleared(value.shape)
    else:
        array.read_indices.add(index)
    return value


# ------------------------------------------------------------- shape rules
def _expect(ctx: InferContext, i: int, dtype: dtypes_lib.DType, param: str, rank: int | None = None) -> None:
    """TF's checks of a typed input: its dtype, and its rank when `rank` is given."""
    if ctx.dtype(i) is not dtype:
        raise TypeError(f"Input '{param}' of '{ctx.type}' Op has type {ctx.dtype(i).name} that does not match "
                        f"expected type of {dtype.name}.")
    ndims = ctx.shape(i).ndims
    if rank is not None and ndims is not None and ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {ndims}")


def _expect_handle(ctx: InferContext, flow: int | None = None, index: tuple | None = None) -> None:
    """The resource handle (input 0), the float flow scalar at `flow`, and an int32 `index` (position,
    name, rank)."""
    _expect(ctx, 0, dtypes_lib.resource, "handle")
    if index is not None:
        _expect(ctx, index[0], dtypes_lib.int32, index[1], index[2])
    if flow is not None:
        _expect(ctx, flow, dtypes_lib.float32, "flow_in", 0)


def _handle_element_shape(handle: Tensor) -> TensorShape:
    """The element shape the array behind `handle` was made with (TensorArrayV3's attr), followed back
    through Enter, Identity and gradient arrays, as TF's shape inference carries it on handles."""
    prefix = TensorShape([])
    for _ in range(64):
        op = handle.op
        if op.type == "TensorArrayV3":
            shape = op._attrs.get("element_shape", unknown_shape())
            return prefix.concatenate(shape) if shape.ndims is not None else unknown_shape()
        if op.type == "TensorArrayGradWithShape":
            known = constant_value(op.inputs[2])
            if known is None:
                return unknown_shape()
            prefix = TensorShape([int(d) for d in np.reshape(known, -1)]).concatenate(prefix)
        elif op.type not in ("Enter", "Identity", "TensorArrayGradV3"):
            return unknown_shape()
        handle = op.inputs[0]
    return unknown_shape()


def _merged(a: TensorShape, b: TensorShape) -> TensorShape:
    return a.merge_with(b) if a.is_compatible_with(b) else a


_HANDLE = (dtypes_lib.resource, TensorShape([2]))
_FLOW_SPEC = (dtypes_lib.float32, TensorShape([]))


def _tensor_array_infer(ctx: InferContext) -> list:
    _expect(ctx, 0, dtypes_lib.int32, "size", 0)
    attrs = ctx.attrs
    for key, default in (("element_shape", unknown_shape()), ("dynamic_size", False), ("clear_after_read", True),
                         ("identical_element_shapes", False), ("tensor_array_name", "")):
        attrs.setdefault(key, default)  # absent from some GraphDefs: TF's defaults
    return [_HANDLE, _FLOW_SPEC]


def _tensor_array_bind(op: Operation) -> dict:
    name = op._attrs["tensor_array_name"]
    name = name.decode() if isinstance(name, bytes) else name
    return {"element_shape": runtime_shape(op._attrs["element_shape"]), "prefix": name or op.name,
            "dtype": dtypes_lib.as_dtype(op._attrs["dtype"]).base_dtype}


def _tensor_array_kernel(ctx: Any, size: Any, *, dtype: Any, element_shape: tuple | None, dynamic_size: bool,
                         clear_after_read: bool, identical_element_shapes: bool, prefix: str,
                         op: Any) -> tuple[TensorArrayValue, Any]:
    size = int(size)
    if size < 0:
        raise InvalidArgumentError(None, op, "Size should be >= 0.")
    array = TensorArrayValue(f"{prefix}_{next(_NAMES)}", dtype, size, element_shape, dynamic_size,
                             clear_after_read, identical_element_shapes)
    return array, _FLOW


def _write_infer(ctx: InferContext) -> list:
    _expect_handle(ctx, 3, (1, "index", 0))
    return [_FLOW_SPEC]


def _write_kernel(ctx: Any, handle: TensorArrayValue, index: Any, value: Any, flow_in: Any, *, T: Any,
                  op: Any) -> Any:
    if T is not handle.dtype or handle.closed:
        _check(handle, T, op, writes=True)
    if not hasattr(value, "shape"):
        value = np.asarray(value, handle.np_dtype)
    _write(handle, int(index), value, op)
    return flow_in


def _read_infer(ctx: InferContext) -> list:
    _expect_handle(ctx, 2, (1, "index", 0))
    return [(dtypes_lib.as_dtype(ctx.attrs["dtype"]).base_dtype, _handle_element_shape(ctx.inputs[0]))]


def _read_kernel(ctx: Any, handle: TensorArrayValue, index: Any, flow_in: Any, *, dtype: Any, op: Any) -> Any:
    if dtype is not handle.dtype or handle.closed:
        _check(handle, dtype, op)
    return _read(handle, int(index), op)


def _gather_infer(ctx: InferContext) -> list:
    _expect_handle(ctx, 2, (1, "indices", 1))
    declared = _handle_element_shape(ctx.inputs[0])
    element = _merged(ctx.attrs.setdefault("element_shape", unknown_shape()), declared)
    # TF's rule: one row per index when the handle carries the element shape, else an unknown count.
    rows = ctx.shape(1) if declared.ndims is not None and ctx.shape(1).ndims == 1 else TensorShape([None])
    shape = rows.concatenate(element) if element.ndims is not None else unknown_shape()
    return [(dtypes_lib.as_dtype(ctx.attrs["dtype"]).base_dtype, shape)]


def _gather_kernel(ctx: Any, handle: TensorArrayValue, indices: Any, flow_in: Any, *, dtype: Any,
                   element_shape: tuple | None, op: Any) -> Any:
    _check(handle, dtype, op)
    if element_shape is not None:
        try:
            handle.element_shape = _merge(handle.element_shape, element_shape)
        except ValueError as e:
            raise InvalidArgumentError(None, op, str(e)) from None
    positions = indices.tolist() if hasattr(indices, "tolist") else list(indices)
    if not positions:
        shape = handle.element_shape
        if not _fully_defined(shape):
            raise UnimplementedError(None, op, f"TensorArray has size zero, but element shape {shape_text(shape)} "
                                               "is not fully defined. Currently only static shapes are supported "
                                               "when packing zero-size TensorArrays.")
        return np.zeros((0,) + shape, handle.np_dtype)
    values = [_read(handle, i, op) for i in positions]
    first = values[0].shape
    for k, value in enumerate(values):
        if value.shape != first:
            raise InvalidArgumentError(None, op, f"TensorArray has inconsistent shapes.  Index 0 has shape: "
                                                 f"{shape_text(first)} but index {k} has shape: "
                                                 f"{shape_text(value.shape)}")
    return np.stack(values)


def _scatter_infer(ctx: InferContext) -> list:
    _expect_handle(ctx, 3, (1, "indices", 1))
    value = ctx.shape(2)
    if value.ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    n_indices = ctx.shape(1).as_list()[0] if ctx.shape(1).ndims == 1 else None
    n_values = value.as_list()[0] if value.ndims else None
    if n_indices is not None and n_values is not None and n_indices != n_values:
        raise ValueError(f"Dimensions must be equal, but are {n_values} and {n_indices}")
    return [_FLOW_SPEC]


def _scatter_kernel(ctx: Any, handle: TensorArrayValue, indices: Any, value: Any, flow_in: Any, *, T: Any,
                    op: Any) -> Any:
    _check(handle, T, op, writes=True)
    shape = np.shape(value)
    if not shape:
        raise InvalidArgumentError(None, op, "Input value for unpack must be at least a vector but received "
                                             "shape: []")
    positions = indices.tolist() if hasattr(indices, "tolist") else list(indices)
    if len(positions) != shape[0]:
        raise InvalidArgumentError(None, op, f"Expected len(indices) == values.shape[0], but saw: {len(positions)} "
                                             f"vs. {shape[0]}")
    if positions and not handle.dynamic_size:
        largest = max(positions)
        if largest >= len(handle.items):
            raise InvalidArgumentError(None, op, f"Max scatter index must be < array size ({largest} vs. "
                                                 f"{len(handle.items)})")
    for k, index in enumerate(positions):
        _write(handle, index, value[k], op)
    return flow_in


def _concat_infer(ctx: InferContext) -> list:
    _expect_handle(ctx, 1)
    rest = ctx.attrs.setdefault("element_shape_except0", unknown_shape())
    element = _handle_element_shape(ctx.inputs[0])
    if element.ndims:
        rest = _merged(rest, element[1:])
    shape = TensorShape([None]).concatenate(rest) if rest.ndims is not None else unknown_shape()
    return [(dtypes_lib.as_dtype(ctx.attrs["dtype"]).base_dtype, shape), (dtypes_lib.int64, TensorShape([None]))]


def _concat_kernel(ctx: Any, handle: TensorArrayValue, flow_in: Any, *, dtype: Any,
                   element_shape_except0: tuple | None, op: Any) -> tuple[Any, Any]:
    _check(handle, dtype, op)
    values = [_read(handle, i, op) for i in range(len(handle.items))]
    if not values:
        rest = element_shape_except0
        if not _fully_defined(rest):
            raise UnimplementedError(None, op, f"TensorArray has size zero, but element_shape_except0 "
                                               f"{shape_text(rest)} is not fully defined. Currently only static "
                                               "shapes are supported when concatenating zero-size TensorArrays.")
        return np.zeros((0,) + rest, handle.np_dtype), np.zeros(0, np.int64)
    first = None
    for k, value in enumerate(values):
        shape = value.shape
        if not shape:
            raise InvalidArgumentError(None, op, f"Concat saw a scalar shape at index {k} but requires at least "
                                                 "vectors.  Did you mean to call pack?")
        if first is None:
            first = shape[1:]
        elif shape[1:] != first:
            raise InvalidArgumentError(None, op, f"TensorArray has inconsistent shapes.  Index 0 has (excepting "
                                                 f"dimension 0) shape: {shape_text(first)} but index {k} has "
                                                 f"(excepting dimension 0) shape: {shape_text(shape[1:])}")
    lengths = np.array([value.shape[0] for value in values], np.int64)
    return np.concatenate(values), lengths


def _split_infer(ctx: InferContext) -> list:
    _expect_handle(ctx, 3)
    _expect(ctx, 2, dtypes_lib.int64, "lengths", 1)
    return [_FLOW_SPEC]


def _split_kernel(ctx: Any, handle: TensorArrayValue, value: Any, lengths: Any, flow_in: Any, *, T: Any,
                  op: Any) -> Any:
    _check(handle, T, op, writes=True)
    shape = np.shape(value)
    if not shape:
        raise InvalidArgumentError(None, op, "Expected value to be at least a vector, but received shape: []")
    sizes = lengths.tolist()
    for k, length in enumerate(sizes):
        if length < 0:
            raise InvalidArgumentError(None, op, f"Expected lengths to be non-negative, but lengths[{k}] is "
                                                 f"{length}")
    total = sum(sizes)
    if total != shape[0]:
        raise InvalidArgumentError(None, op, f"Expected sum of lengths to be equal to values.shape[0], but sum of "
                                             f"lengths is {total} and value's shape is: {shape_text(shape)}")
    if len(sizes) != len(handle.items) and not handle.dynamic_size:
        raise InvalidArgumentError(None, op, f"TensorArray's size is not equal to the size of lengths "
                                             f"({len(handle.items)} vs. {len(sizes)}), and the TensorArray is not "
                                             "marked as dynamically resizeable")
    start = 0
    for k, length in enumerate(sizes):
        _write(handle, k, value[start:start + length], op)
        start += length
    return flow_in


def _size_infer(ctx: InferContext) -> list:
    _expect_handle(ctx, 1)
    return [(dtypes_lib.int32, TensorShape([]))]


def _size_kernel(ctx: Any, handle: TensorArrayValue, flow_in: Any, *, op: Any) -> Any:
    _check_open(handle, op)
    return np.int32(len(handle.items))


def _close_infer(ctx: InferContext) -> list:
    _expect_handle(ctx)
    return []


def _close_kernel(ctx: Any, handle: TensorArrayValue) -> None:
    handle.closed = True
    handle.items = []


def _grad_infer(ctx: InferContext) -> list:
    _expect_handle(ctx, 1)
    if ctx.type == "TensorArrayGradWithShape":
        _expect(ctx, 2, dtypes_lib.int32, "shape_to_prepend", 1)
    return [_HANDLE, _FLOW_SPEC]


def _grad_array(ctx: Any, forward: TensorArrayValue, source: str, prepend: tuple, op: Any) -> TensorArrayValue:
    """The gradient array of `forward` for `source` in this run, made on first use: its size and the
    shapes of its elements are the forward array's now (and the forward array stops growing)."""
    key = (forward, source)
    found = ctx.step.get(key)
    if found is not None:
        return found
    _check_open(forward, op)
    forward.dynamic_size = False
    element = forward.element_shape
    grad = TensorArrayValue(f"{forward.name}@{source}", forward.dtype, 0,
                            None if element is None else prepend + element, False, True, forward.identical_shapes,
                            aggregate=True)
    grad.items = [None if item is None else _Zeros(prepend + item.shape) for item in forward.items]
    ctx.step[key] = grad
    return grad


def _grad_kernel(ctx: Any, handle: TensorArrayValue, flow_in: Any, *shape_to_prepend: Any, source: str,
                 op: Any) -> tuple[TensorArrayValue, Any]:
    """TensorArrayGradV3, and TensorArrayGradWithShape (whose elements get `shape_to_prepend` in front)."""
    prepend = tuple(int(d) for d in np.reshape(shape_to_prepend[0], -1)) if shape_to_prepend else ()
    return _grad_array(ctx, handle, source, prepend, op), flow_in


# --------------------------------------------------------------- gradients
def _grad_source(grad: Tensor) -> str:
    """The `tf.gradients` scope a gradient belongs to ("gradients", "gradients_1", ...): TF's rule, the
    name up to its last part that starts with "gradients", read from the gradient's name or else
    from the scope the gradient function runs in."""
    for name in (grad.name, grad.graph.get_name_scope()):
        parts = name.split("/")
        marks = [i for i, part in enumerate(parts) if part.startswith("gradients")]
        if marks:
            return "/".join(parts[:marks[-1] + 1])
    raise ValueError(f"Expected op/tensor name to start with gradients (excluding scope), got: {grad.name}. This "
                     "means that a tf.gradients op with this op in its dependency path has a custom name that does "
                     "not start with 'gradients'. Please make sure all calls to tf.gradients that have non-empty "
                     "`name` arguments use names that start with 'gradients'.")


def _gradient_array(op: Operation, dtype: Any, flow: Tensor, grad: Tensor) -> TensorArray:
    forward = TensorArray(dtype, handle=op.inputs[0], flow=flow, colocate_with_first_write_call=False)
    return forward.grad(source=_grad_source(grad), flow=flow)


def _read_grad(op: Operation, grad: Tensor) -> list:
    flow = op.inputs[2]
    written = _gradient_array(op, op.get_attr("dtype"), flow, grad).write(op.inputs[1], grad)
    return [None, None, written.flow]


def _write_grad(op: Operation, flow: Tensor) -> list:
    value = _gradient_array(op, op.get_attr("T"), flow, flow).read(op.inputs[1])
    value.set_shape(op.inputs[2].shape)  # as TF's tf.gradients gives every gradient its input's shape
    return [None, None, value, flow]


def _gather_grad(op: Operation, grad: Tensor) -> list:
    flow = op.inputs[2]
    scattered = _gradient_array(op, op.get_attr("dtype"), flow, grad).scatter(op.inputs[1], grad)
    return [None, None, scattered.flow]


def _scatter_grad(op: Operation, flow: Tensor) -> list:
    value = _gradient_array(op, op.get_attr("T"), flow, flow).gather(op.inputs[1])
    value.set_shape(op.inputs[2].shape)
    return [None, None, value, flow]


def _concat_grad(op: Operation, grad: Tensor, lengths_grad: Tensor) -> list:
    flow = op.inputs[1]
    split = _gradient_array(op, op.get_attr("dtype"), flow, grad).split(grad, op.outputs[1])
    return [None, split.flow]


def _split_grad(op: Operation, flow: Tensor) -> list:
    value = _gradient_array(op, op.get_attr("T"), flow, flow).concat()
    value.set_shape(op.inputs[1].shape)
    return [None, value, None, flow]


register_op("TensorArrayV3", infer=_tensor_array_infer, kernel=_tensor_array_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True, bind=_tensor_array_bind)
register_op("TensorArrayWriteV3", infer=_write_infer, kernel=_write_kernel, grad=_write_grad, stateful=True)
register_op("TensorArrayReadV3", infer=_read_infer, kernel=_read_kernel, grad=_read_grad, stateful=True)
register_op("TensorArrayGatherV3", infer=_gather_infer, kernel=_gather_kernel, grad=_gather_grad, stateful=True,
            bind=lambda op: {"element_shape": runtime_shape(op._attrs["element_shape"])})
register_op("TensorArrayScatterV3", infer=_scatter_infer, kernel=_scatter_kernel, grad=_scatter_grad,
            stateful=True)
register_op("TensorArrayConcatV3", infer=_concat_infer, kernel=_concat_kernel, grad=_concat_grad, stateful=True,
            bind=lambda op: {"element_shape_except0": runtime_shape(op._attrs["element_shape_except0"])})
register_op("TensorArraySplitV3", infer=_split_infer, kernel=_split_kernel, grad=_split_grad, stateful=True)
register_op("TensorArraySizeV3", infer=_size_infer, kernel=_size_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("TensorArrayCloseV3", infer=_close_infer, kernel=_close_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("TensorArrayGradV3", infer=_grad_infer, kernel=_grad_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("TensorArrayGradWithShape", infer=_grad_infer, kernel=_grad_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)


# ------------------------------------------------------------ the Python class
def _int32_input(value: Any, param: str, op_type: str) -> Tensor:
    """An int32 input of a TensorArray op, refused in TF's words when it is not an integer."""
    if isinstance(value, (bool, int, float, list, tuple, np.ndarray, np.generic)):
        array = np.asarray(value)
        if array.dtype.kind not in "iu":
            first = array.reshape(-1)[0].item() if array.size else value
            raise TypeError(f"Expected int32 passed to parameter '{param}' of op '{op_type}', got {value!r} of type "
                            f"'{type(value).__name__}' instead. Error: Expected int32, but got {first!r} of type "
                            f"'{type(first).__name__}'.")
        return convert_to_tensor(array.astype(np.int32), name=param)
    return convert_to_tensor(value, name=param)


def _create(op_type: str, inputs: list[Any], attrs: dict[str, Any], name: str | None,
            int32_params: dict[int, str] | None = None) -> Operation:
    """Creates `op_type` as TensorFlow's op builder does: in a scope of the op's name, where its
    Python inputs become constants named after their parameters ("TensorArrayReadV3/index")."""
    graph = get_default_graph()
    with graph.name_scope(name or op_type) as scope:
        for i, param in (int32_params or {}).items():
            inputs[i] = _int32_input(inputs[i], param, op_type)
        return graph.create_op(op_type, inputs, attrs, name=scope)


class TensorArray:
    """TF1's `tf.TensorArray`: a list of tensors for while loops, built on TensorArrayV3.

    Every method that writes returns a new TensorArray object holding the new flow; the old one
    still names the same array (TF1's semantics). The objects derived from one array share its
    static element shape, which writes refine while `infer_shape` holds. `tf.while_loop` carries
    a TensorArray as its flow.
    """

    _is_caudal_tensor_array = True

    def __init__(self, dtype: Any, size: Any = None, dynamic_size: bool | None = None,
                 clear_after_read: bool | None = None, tensor_array_name: str | None = None,
                 handle: Tensor | None = None, flow: Tensor | None = None, infer_shape: bool = True,
                 element_shape: Any = None, colocate_with_first_write_call: bool = True, name: str | None = None):
        if handle is not None:
            if tensor_array_name:
                raise ValueError("Cannot provide both `handle` and `tensor_array_name` arguments at the same time.")
            if not isinstance(handle, Tensor):
                raise TypeError(f"Expected `handle` to be a Tensor, but got `{handle}` of type `{type(handle)}` "
                                "instead.")
            for both, value in (("a `handle` and `size`", size), ("`handle` and `element_shape`", element_shape),
                                ("`handle` and `dynamic_size`", dynamic_size),
                                ("`handle` and `clear_after_read`", clear_after_read)):
                if value is not None:
                    raise ValueError(f"Cannot provide both {both} arguments at the same time.")
        elif size is None:
            raise ValueError("Argument `size` must be provided if handle is not provided.")
        self._dtype = dtypes_lib.as_dtype(dtype).base_dtype
        self._dynamic_size = bool(dynamic_size)
        self._element_shape = [as_shape(element_shape)]  # shared by every object of this array
        self._infer_shape = infer_shape
        self._size = size
        self._colocate_with_first_write_call = colocate_with_first_write_call
        graph = handle.graph if handle is not None else get_default_graph()
        with graph.as_default(), graph.name_scope(name or "TensorArray") as scope:
            if handle is not None:
                if flow is None:
                    raise ValueError("flow must not be None if handle is not None.")
                self._handle, self._flow = handle, flow
                return
            size_tensor = _int32_input(size, "size", "TensorArrayV3")
            attrs = {"dtype": self._dtype, "element_shape": self._element_shape[0],
                     "dynamic_size": self._dynamic_size,
                     "clear_after_read": True if clear_after_read is None else bool(clear_after_read),
                     "identical_element_shapes": bool(infer_shape), "tensor_array_name": tensor_array_name or ""}
            op = graph.create_op("TensorArrayV3", [size_tensor], attrs, name=scope)
            self._handle, self._flow = op.outputs

    # ------------------------------------------------------------ properties
    @property
    def flow(self) -> Tensor:
        """The flow tensor: what orders this array's operations (and what while_loop carries)."""
        return self._flow

    @property
    def dtype(self) -> dtypes_lib.DType:
        return self._dtype

    @property
    def handle(self) -> Tensor:
        return self._handle

    @property
    def element_shape(self) -> TensorShape:
        """The static shape of the elements as known so far."""
        return self._element_shape[0]

    @property
    def dynamic_size(self) -> bool:
        return self._dynamic_size

    def _with_flow(self, flow: Tensor) -> TensorArray:
        """This array with another flow (what while_loop and every write return)."""
        result = TensorArray(self._dtype, handle=self._handle, flow=flow, infer_shape=self._infer_shape,
                             colocate_with_first_write_call=self._colocate_with_first_write_call)
        result._dynamic_size = self._dynamic_size
        result._size = self._size
        result._element_shape = self._element_shape
        return result

    def _check_element_shape(self, shape: TensorShape) -> None:
        if not shape.is_compatible_with(self.element_shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected {self.element_shape} ")
        if self._infer_shape:
            self._element_shape[0] = self.element_shape.merge_with(shape)

    def _value(self, value: Any) -> Tensor:
        return convert_to_tensor(value, preferred_dtype=self._dtype, name="value")

    # --------------------------------------------------------------- methods
    def identity(self) -> TensorArray:
        """The same array behind an Identity of the flow (for control dependencies)."""
        from caudal.ops.control_ops import identity

        return self._with_flow(identity(self._flow))

    def grad(self, source: str, flow: Tensor | None = None, name: str | None = None) -> TensorArray:
        """The gradient array of this array for gradient source `source` (TensorArrayGradV3)."""
        from caudal.ops.control_ops import identity

        flow = self._flow if flow is None else flow
        graph = self._handle.graph
        with graph.as_default(), graph.name_scope(name or "TensorArrayGrad"):
            op = _create("TensorArrayGradV3", [self._handle, flow], {"source": source}, name)
            with graph.control_dependencies([op.outputs[0]]):
                flow = identity(flow, name="gradient_flow")
            result = TensorArray(self._dtype, handle=op.outputs[0], flow=flow, infer_shape=self._infer_shape,
                                 colocate_with_first_write_call=False)
        result._element_shape = self._element_shape
        return result

    def read(self, index: Any, name: str | None = None) -> Tensor:
        """The element at `index` (cleared after the read unless `clear_after_read=False`)."""
        op = _create("TensorArrayReadV3", [self._handle, index, self._flow], {"dtype": self._dtype}, name,
                     {1: "index"})
        value = op.outputs[0]
        value.set_shape(self.element_shape)
        return value

    def write(self, index: Any, value: Any, name: str | None = None) -> TensorArray:
        """Writes `value` at `index`; returns the TensorArray with the new flow."""
        with get_default_graph().name_scope(name or "TensorArrayWrite"):
            value = self._value(value)
            self._check_element_shape(value.shape)
            op = _create("TensorArrayWriteV3", [self._handle, index, value, self._flow],
                         {"T": value.dtype.base_dtype}, name, {1: "index"})
            return self._with_flow(op.outputs[0])

    def stack(self, name: str | None = None) -> Tensor:
        """All elements stacked along a new first axis."""
        from caudal.ops.array_ops import range as range_

        with get_default_graph().name_scope(name or "TensorArrayStack"):
            value = self.gather(range_(0, self.size()), name=name)
            if self.element_shape.ndims is not None and not self._dynamic_size and self._size is not None:
                size = _static_int(self._size)
                value.set_shape(TensorShape([size]).concatenate(self.element_shape))
        return value

    def gather(self, indices: Any, name: str | None = None) -> Tensor:
        """The elements at `indices`, stacked along a new first axis."""
        element = self.element_shape
        op = _create("TensorArrayGatherV3", [self._handle, indices, self._flow],
                     {"dtype": self._dtype, "element_shape": element}, name, {1: "indices"})
        value = op.outputs[0]
        if element.ndims is not None:
            value.set_shape(TensorShape([None]).concatenate(element))
        return value

    def concat(self, name: str | None = None) -> Tensor:
        """All elements concatenated along their first axis."""
        element = self.element_shape
        if element.ndims == 0:
            raise ValueError("TensorArray.concat needs elements of rank 1 or more, but the element shape is ()")
        rest = element[1:] if element.ndims is not None else unknown_shape()
        op = _create("TensorArrayConcatV3", [self._handle, self._flow],
                     {"dtype": self._dtype, "element_shape_except0": rest}, name)
        value = op.outputs[0]
        if element.ndims is not None:
            first = None
            size = _static_int(self.size()) if self._infer_shape else None
            if size is not None and element[0].value is not None:
                first = size * element[0].value
            value.set_shape(TensorShape([first]).concatenate(rest))
        return value

    def unstack(self, value: Any, name: str | None = None) -> TensorArray:
        """Writes the slices of `value` along its first axis at indices 0, 1, ..."""
        from caudal.ops.array_ops import range as range_
        from caudal.ops.array_ops import shape

        with get_default_graph().name_scope(name or "TensorArrayUnstack"):
            value = self._value(value) if not isinstance(value, Tensor) else value
            count = shape(value)[0]
            return self.scatter(range_(0, count), value, name=name)

    def scatter(self, indices: Any, value: Any, name: str | None = None) -> TensorArray:
        """Writes the slices of `value` along its first axis at `indices`."""
        with get_default_graph().name_scope(name or "TensorArrayScatter"):
            value = self._value(value)
            if value.shape.ndims is not None and value.shape.ndims > 0:
                self._check_element_shape(value.shape[1:])
            op = _create("TensorArrayScatterV3", [self._handle, indices, value, self._flow],
                         {"T": value.dtype.base_dtype}, name, {1: "indices"})
            return self._with_flow(op.outputs[0])

    def split(self, value: Any, lengths: Any, name: str | None = None) -> TensorArray:
        """Writes consecutive pieces of `value` (along its first axis) of the given `lengths`."""
        from caudal.ops.math_ops import cast

        with get_default_graph().name_scope(name or "TensorArraySplit"):
            value = convert_to_tensor(value, dtype=self._dtype, name="value")
            lengths = cast(lengths, dtypes_lib.int64)
            known = constant_value(lengths)
            if value.shape.ndims is not None and known is not None and np.ndim(known) == 1 and np.size(known) \
                    and known.max() == known.min():
                self._check_element_shape(TensorShape([int(known[0])]).concatenate(value.shape[1:]))
            op = _create("TensorArraySplitV3", [self._handle, value, lengths, self._flow],
                         {"T": value.dtype.base_dtype}, name)
            return self._with_flow(op.outputs[0])

    def size(self, name: str | None = None) -> Tensor:
        """The number of elements: the given size for a fixed-size array, else TensorArraySizeV3."""
        if not self._dynamic_size and self._size is not None:
            return convert_to_tensor(self._size, dtype=dtypes_lib.int32)
        return _create("TensorArraySizeV3", [self._handle, self._flow], {}, name).outputs[0]

    def close(self, name: str | None = None) -> Operation:
        """An op that closes the array: any later use of it fails."""
        return _create("TensorArrayCloseV3", [self._handle], {}, name)

    def __repr__(self) -> str:
        return f"<TensorArray handle={self._handle.name} flow={self._flow.name} dtype={self._dtype.name}>"


def _static_int(value: Any) -> int | None:
    if isinstance(value, Tensor):
        known = constant_value(value)
        return None if known is None or np.ndim(known) else int(known)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
