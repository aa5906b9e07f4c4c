"""Shape-changing ops: Reshape, Transpose, ExpandDims, Squeeze, ConcatV2, Pack/Unpack,
Shape/Size/Rank, Range, OneHot, BroadcastTo and Slice."""
from __future__ import annotations

import builtins
import functools
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor, is_tensor_like, register_pack_builder
from caudal.framework.graph import InferContext, apply_op, get_default_graph, make_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules

__all__ = ["reshape", "transpose", "expand_dims", "squeeze", "concat", "stack", "unstack", "shape",
           "size", "rank", "range", "one_hot", "broadcast_to", "slice"]


def _int_tensor(value: Any, name: str) -> Tensor:
    return convert_to_tensor(value, dtype_hint=dtypes_lib.int32, name=name)


def _shape_of(x: Tensor) -> Any:
    """x's shape as a list when fully known, else a Shape tensor."""
    return x.shape.as_list() if x.shape.is_fully_defined() else shape(x)


# ----------------------------------------------------------------- Reshape
def _reshape_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 1, _rules.INDEX, "shape")
    x = ctx.shape(0)
    target = ctx.shape_value(1)
    if target.ndims is None:
        return [(ctx.dtype(0), target)]
    dims = target.as_list()
    value = ctx.value(1)
    if value is not None:
        wanted = [int(d) for d in np.reshape(value, -1)]
        if wanted.count(-1) > 1:
            raise ValueError(f"Only one input size may be -1, not both {wanted.index(-1)} and "
                             f"{len(wanted) - 1 - wanted[::-1].index(-1)}")
        known = int(np.prod([d for d in wanted if d != -1]))
        total = x.num_elements()
        if total is not None:
            if -1 in wanted:
                if known == 0 or total % known:
                    raise ValueError(f"Cannot reshape a tensor with {total} elements to shape {wanted} "
                                     f"({known} elements)")
                dims = [total // known if d == -1 else d for d in wanted]
            elif known != total:
                raise ValueError(f"Cannot reshape a tensor with {total} elements to shape {wanted} "
                                 f"({known} elements)")
    return [(ctx.dtype(0), TensorShape(dims))]


def _reshape_kernel(xp: Any, x: Any, shape: Any) -> Any:
    dims = _rules.int_tuple(shape)
    if dims == x.shape:
        return x
    return xp.reshape(x, dims)


def _reshape_grad(op: Any, grad: Tensor) -> list:
    return [reshape(grad, _shape_of(op.inputs[0])), None]


register_op("Reshape", infer=_reshape_infer, kernel=_reshape_kernel, grad=_reshape_grad)


def reshape(tensor: Any, shape: Any, name: str | None = None) -> Tensor:
    """Reshapes; one dimension may be -1 and is inferred."""
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    if isinstance(shape, Tensor):
        tensor = convert_to_tensor(tensor, name="tensor")
        return apply_op("Reshape", [tensor, shape], {"T": tensor.dtype.base_dtype, "Tshape": shape.dtype},
                        name or "Reshape")
    with get_default_graph().name_scope(name or "Reshape") as scope:
        tensor = convert_to_tensor(tensor, name="tensor")
        shape_t = _int_tensor(shape, "shape")
        return apply_op("Reshape", [tensor, shape_t], {"T": tensor.dtype.base_dtype, "Tshape": shape_t.dtype},
                        scope[:-1] + "/")


# --------------------------------------------------------------- Transpose
def _transpose_infer(ctx: InferContext) -> list:
    x = ctx.shape(0)
    perm = ctx.value(1)
    if perm is None:
        rank = ctx.shape(1)[0].value if ctx.shape(1).ndims == 1 else x.ndims
        return [(ctx.dtype(0), unknown_shape(rank))]
    perm = [int(p) for p in np.reshape(perm, -1)]
    if x.ndims is not None and len(perm) != x.ndims:
        raise ValueError(f"Dimension must be {x.ndims} but is {len(perm)}")
    if sorted(perm) != list(builtins.range(len(perm))):
        raise ValueError(f"{perm} is not a valid permutation")
    if x.ndims is None:
        return [(ctx.dtype(0), unknown_shape(len(perm)))]
    dims = x.as_list()
    return [(ctx.dtype(0), TensorShape([dims[p] for p in perm]))]


def _transpose_grad(op: Any, grad: Tensor) -> list:
    perm = constant_value(op.inputs[1])
    if perm is not None:
        inverse = np.argsort(np.reshape(perm, -1)).astype(np.int32)
        return [transpose(grad, inverse), None]
    return [apply_op("Transpose", [grad, apply_op("InvertPermutation", [op.inputs[1]], {})],
                     {"T": grad.dtype.base_dtype}), None]


register_op("Transpose", infer=_transpose_infer, grad=_transpose_grad,
            kernel=lambda xp, x, perm: xp.transpose(x, tuple(int(p) for p in perm)))
register_op("InvertPermutation", infer=_rules.same_as_input(), grad=NOT_DIFFERENTIABLE,
            kernel=lambda xp, x: xp.argsort(x).astype(x.dtype))


def transpose(a: Any, perm: Any = None, name: str = "transpose", conjugate: bool = False) -> Tensor:
    """Permutes dimensions; `perm=None` reverses them."""
    with get_default_graph().name_scope(name) as scope:
        a = convert_to_tensor(a, name="a")
        if perm is None:
            if a.shape.ndims is not None:
                perm = np.arange(a.shape.ndims - 1, -1, -1, dtype=np.int32)
            else:
                r = rank(a)
                from caudal.ops.math_ops import subtract

                perm = subtract(subtract(r, 1), range(0, r))
        perm_t = _int_tensor(perm, "perm")
        return apply_op("Transpose", [a, perm_t], {"T": a.dtype.base_dtype, "Tperm": perm_t.dtype},
                        scope[:-1] + "/")


# ------------------------------------------------------ ExpandDims, Squeeze
def _expand_dims_infer(ctx: InferContext) -> list:
    x = ctx.shape(0)
    axis = ctx.value(1)
    if x.ndims is None:
        return [(ctx.dtype(0), unknown_shape())]
    if axis is None:
        return [(ctx.dtype(0), unknown_shape(x.ndims + 1))]
    a = int(np.reshape(axis, -1)[0])
    if not -x.ndims - 1 <= a <= x.ndims:
        raise ValueError(f"Tried to expand dim index {a} for tensor with {x.ndims} dimensions.")
    a = a % (x.ndims + 1)
    dims = x.as_list()
    return [(ctx.dtype(0), TensorShape(dims[:a] + [1] + dims[a:]))]


def _expand_dims_kernel(xp: Any, x: Any, axis: Any) -> Any:
    """x with a dimension of 1 inserted at `axis` (negative counts from the end of the result)."""
    a = _rules.int_tuple(axis)[0]
    if not -x.ndim - 1 <= a <= x.ndim:
        from caudal.errors import InvalidArgumentError

        raise InvalidArgumentError(None, None, f"Tried to expand dim index {a} for tensor with {x.ndim} dimensions.")
    if a < 0:
        a += x.ndim + 1
    return xp.reshape(x, x.shape[:a] + (1,) + x.shape[a:])


def _reshape_back_grad(op: Any, grad: Tensor) -> list:
    return [reshape(grad, _shape_of(op.inputs[0]))] + [None] * (len(op.inputs) - 1)


register_op("ExpandDims", infer=_expand_dims_infer, grad=_reshape_back_grad,
            kernel=_expand_dims_kernel)


def expand_dims(input: Any, axis: Any = None, name: str | None = None, dim: Any = None) -> Tensor:
    if axis is None and dim is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    x = convert_to_tensor(input, name="input")
    axis_t = _int_tensor(axis, "dim")
    return apply_op("ExpandDims", [x, axis_t], {"T": x.dtype.base_dtype, "Tdim": axis_t.dtype},
                    name or "ExpandDims")


def _squeeze_infer(ctx: InferContext) -> list:
    x = ctx.shape(0)
    axes = list(ctx.attrs["squeeze_dims"])
    if x.ndims is None:
        return [(ctx.dtype(0), unknown_shape())]
    dims = x.as_list()
    axes = [_rules.normalize_axis(a, x.ndims, ctx.name) for a in axes]
    for a in axes:
        if dims[a] is not None and dims[a] != 1:
            raise ValueError(f"Can not squeeze dim[{a}], expected a dimension of 1, got {dims[a]}")
    if axes:
        return [(ctx.dtype(0), TensorShape([d for i, d in enumerate(dims) if i not in axes]))]
    if any(d is None for d in dims):
        return [(ctx.dtype(0), unknown_shape())]
    return [(ctx.dtype(0), TensorShape([d for d in dims if d != 1]))]


def _squeeze_kernel(xp: Any, x: Any, *, squeeze_dims: list) -> Any:
    if squeeze_dims:
        return xp.squeeze(x, axis=tuple(squeeze_dims))
    return xp.squeeze(x)


register_op("Squeeze", infer=_squeeze_infer, kernel=_squeeze_kernel, grad=_reshape_back_grad)


def squeeze(input: Any, axis: Any = None, name: str | None = None, squeeze_dims: Any = None) -> Tensor:
    """Removes size-1 dimensions (all of them, or those listed in `axis`)."""
    if axis is not None and squeeze_dims is not None:
        raise ValueError("Cannot specify both 'squeeze_dims' and 'axis'")
    axis = squeeze_dims if axis is None else axis
    if axis is None:
        axis = []
    elif isinstance(axis, int):
        axis = [axis]
    x = convert_to_tensor(input, name="input")
    return apply_op("Squeeze", [x], {"T": x.dtype.base_dtype, "squeeze_dims": [int(a) for a in axis]},
                    name or "Squeeze")


# ------------------------------------------------------------------ Concat
def _concat_infer(ctx: InferContext) -> list:
    n = len(ctx.inputs) - 1
    dtype = _rules.check_same_dtype(ctx, builtins.range(n), [f"values[{i}]" for i in builtins.range(n)])
    axis = ctx.value(n)
    shapes = [ctx.shape(i) for i in builtins.range(n)]
    ranks = {s.ndims for s in shapes if s.ndims is not None}
    if len(ranks) > 1:
        raise ValueError(f"Shape must be rank {min(ranks)} but is rank {max(ranks)}")
    if not ranks:
        return [(dtype, unknown_shape())]
    rank = ranks.pop()
    if axis is None:
        return [(dtype, unknown_shape(rank))]
    a = _rules.normalize_axis(int(axis), rank, ctx.name)
    result: list[int | None] = [None] * rank
    total: int | None = 0
    for s in shapes:
        if s.ndims is None:
            total = None
            continue
        dims = s.as_list()
        for i, d in enumerate(dims):
            if i == a:
                continue
            if result[i] is not None and d is not None and result[i] != d:
                raise ValueError(f"Dimension {i} in both shapes must be equal, but are {result[i]} and {d}")
            result[i] = result[i] if result[i] is not None else d
        total = None if total is None or dims[a] is None else total + dims[a]
    result[a] = total
    return [(dtype, TensorShape(result))]


def _concat_kernel(xp: Any, *inputs: Any) -> Any:
    return xp.concatenate(inputs[:-1], axis=int(inputs[-1]))


def _concat_grad(op: Any, grad: Tensor) -> list:
    values = op.inputs[:-1]
    axis_value = constant_value(op.inputs[-1])
    if len(values) == 1:
        return [grad, None]
    if axis_value is not None and all(v.shape.is_fully_defined() for v in values):
        rank = values[0].shape.ndims
        a = int(axis_value) % rank
        grads = []
        offset = 0
        for v in values:
            dims = v.shape.as_list()
            begin = [0] * rank
            begin[a] = offset
            grads.append(slice(grad, begin, dims))
            offset += dims[a]
        return grads + [None]
    offsets = make_op("ConcatOffset", [op.inputs[-1]] + [shape(v) for v in values], {"N": len(values)}).outputs
    return [slice(grad, off, shape(v)) for off, v in zip(offsets, values)] + [None]


register_op("ConcatV2", infer=_concat_infer, kernel=_concat_kernel, grad=_concat_grad)


def _concat_offset_infer(ctx: InferContext) -> list:
    return [(dtypes_lib.int32, ctx.shape(i)) for i in builtins.range(1, len(ctx.inputs))]


def _concat_offset_kernel(xp: Any, axis: Any, *shapes: Any) -> tuple:
    return _concat_offsets(int(axis), tuple(_rules.int_tuple(s) for s in shapes))


@functools.lru_cache(maxsize=256)
def _concat_offsets(axis: int, shapes: tuple[tuple[int, ...], ...]) -> tuple:
    """Memoized: a gradient loop asks the same question every pass. The arrays are read-only."""
    a = axis % len(shapes[0])
    offsets = []
    running = 0
    for s in shapes:
        offset = np.zeros(len(s), dtype=np.int32)
        offset[a] = running
        running += s[a]
        offset.flags.writeable = False
        offsets.append(offset)
    return tuple(offsets)


register_op("ConcatOffset", infer=_concat_offset_infer, kernel=_concat_offset_kernel, grad=NOT_DIFFERENTIABLE)


def concat(values: Any, axis: Any, name: str = "concat") -> Tensor:
    """Joins tensors along `axis`; a single tensor is returned through an identity."""
    if not isinstance(values, (list, tuple)):
        values = [values]
    if len(values) == 1:
        from caudal.ops.control_ops import identity

        return identity(convert_to_tensor(values[0]), name=name)
    tensors = [convert_to_tensor(v) for v in values]
    axis_t = _int_tensor(axis, "axis")
    return apply_op("ConcatV2", tensors + [axis_t], {"N": len(tensors), "T": tensors[0].dtype.base_dtype,
                                                     "Tidx": axis_t.dtype}, name)


# ------------------------------------------------------------ Pack, Unpack
def _pack_infer(ctx: InferContext) -> list:
    n = len(ctx.inputs)
    dtype = _rules.check_same_dtype(ctx, builtins.range(n), [f"values[{i}]" for i in builtins.range(n)])
    shape_ = ctx.shape(0)
    for i in builtins.range(1, n):
        if not shape_.is_compatible_with(ctx.shape(i)):
            raise ValueError(f"Shapes must be equal rank, but are {shape_.ndims} and {ctx.shape(i).ndims}"
                             if shape_.ndims != ctx.shape(i).ndims else
                             f"Shapes {shape_} and {ctx.shape(i)} are incompatible")
        shape_ = shape_.merge_with(ctx.shape(i))
    if shape_.ndims is None:
        return [(dtype, unknown_shape())]
    a = _rules.normalize_axis(ctx.attrs["axis"], shape_.ndims + 1, ctx.name)
    dims = shape_.as_list()
    return [(dtype, TensorShape(dims[:a] + [n] + dims[a:]))]


def _pack_grad(op: Any, grad: Tensor) -> list:
    return unstack(grad, num=len(op.inputs), axis=op.get_attr("axis"))


register_op("Pack", infer=_pack_infer, grad=_pack_grad,
            kernel=lambda xp, *values, axis: xp.stack(values, axis=axis))


def _unpack_infer(ctx: InferContext) -> list:
    x = ctx.shape(0)
    num = ctx.attrs["num"]
    if x.ndims is None:
        return [(ctx.dtype(0), unknown_shape())] * num
    a = _rules.normalize_axis(ctx.attrs["axis"], x.ndims, ctx.name)
    dims = x.as_list()
    if dims[a] is not None and dims[a] != num:
        raise ValueError(f"Dimension {a} has size {dims[a]}, but num={num}")
    return [(ctx.dtype(0), TensorShape(dims[:a] + dims[a + 1:]))] * num


def _unpack_kernel(xp: Any, value: Any, *, num: int, axis: int) -> tuple:
    if value.shape[axis] != num:
        from caudal.errors import InvalidArgumentError

        raise InvalidArgumentError(None, None, f"Input shape axis {axis} must equal {num}, got shape "
                                               f"{list(value.shape)}")
    moved = xp.moveaxis(value, axis, 0)
    return tuple(moved[i] for i in builtins.range(num))


def _unpack_grad(op: Any, *grads: Tensor) -> list:
    from caudal.ops.constant_ops import zeros_like

    filled = [g if g is not None else zeros_like(t) for g, t in zip(grads, op.outputs)]
    return [stack(filled, axis=op.get_attr("axis"))]


register_op("Unpack", infer=_unpack_infer, kernel=_unpack_kernel, grad=_unpack_grad)


def stack(values: Any, axis: int = 0, name: str = "stack") -> Tensor:
    """Packs equal-shaped tensors along a new `axis`."""
    if not values:
        raise ValueError("stack expects a non-empty list of tensors")
    dtype = next((convert_to_tensor(v).dtype.base_dtype for v in values if is_tensor_like(v)), None)
    tensors = [convert_to_tensor(v, dtype=dtype) for v in values]
    return apply_op("Pack", tensors, {"N": len(tensors), "T": tensors[0].dtype.base_dtype, "axis": axis}, name)


def _autopack(value: Any, dtype: Any = None, name: str = "packed") -> Tensor:
    """Converts a nested list holding Tensors by stacking, as `convert_to_tensor` does in TF."""
    if isinstance(value, (list, tuple)):
        with get_default_graph().name_scope(name) as scope:
            parts = [_autopack(v, dtype, "packed") if isinstance(v, (list, tuple)) else v for v in value]
            tensor_dtype = dtype or next((convert_to_tensor(p).dtype.base_dtype for p in parts
                                          if is_tensor_like(p)), None)
            tensors = [convert_to_tensor(p, dtype=tensor_dtype) for p in parts]
            return apply_op("Pack", tensors, {"N": len(tensors), "T": tensors[0].dtype.base_dtype, "axis": 0},
                            scope[:-1] + "/")
    return convert_to_tensor(value, dtype=dtype)


register_pack_builder(_autopack)  # convert_to_tensor stacks lists that hold Tensors with it


def unstack(value: Any, num: int | None = None, axis: int = 0, name: str = "unstack") -> list[Tensor]:
    """Splits along `axis` into `num` tensors; `num` is inferred from the static shape."""
    value = convert_to_tensor(value)
    if num is None:
        if value.shape.ndims is None:
            raise ValueError(f"Cannot infer argument `num` from shape {value.shape}")
        num = value.shape[axis].value
        if num is None:
            raise ValueError(f"Cannot infer argument `num` from shape {value.shape}")
    op = make_op("Unpack", [value], {"T": value.dtype.base_dtype, "num": num, "axis": axis}, name)
    return list(op.outputs)


# ------------------------------------------------------ Shape, Size, Rank
def _shape_infer(ctx: InferContext) -> list:
    return [(_rules.attr_dtype(ctx, "out_type"), TensorShape([ctx.shape(0).ndims]))]


def _shape_kernel(xp: Any, x: Any, *, out_type: Any) -> Any:
    return np.array(x.shape if type(x) is np.ndarray else np.shape(x), dtype=out_type.as_numpy_dtype)


register_op("Shape", infer=_shape_infer, grad=NOT_DIFFERENTIABLE, kernel=_shape_kernel)
register_op("Size", infer=lambda ctx: [(_rules.attr_dtype(ctx, "out_type"), TensorShape([]))],
            grad=NOT_DIFFERENTIABLE,
            kernel=lambda xp, x, *, out_type: np.array(np.size(x), dtype=out_type.as_numpy_dtype))
register_op("Rank", infer=lambda ctx: [(dtypes_lib.int32, TensorShape([]))], grad=NOT_DIFFERENTIABLE,
            kernel=lambda xp, x: np.array(np.ndim(x), dtype=np.int32))


def shape(input: Any, name: str | None = None, out_type: Any = dtypes_lib.int32) -> Tensor:
    x = convert_to_tensor(input)
    return apply_op("Shape", [x], {"T": x.dtype.base_dtype, "out_type": dtypes_lib.as_dtype(out_type)},
                    name or "Shape")


def _shape_n_infer(ctx: InferContext) -> list:
    out = _rules.attr_dtype(ctx, "out_type")
    return [(out, TensorShape([ctx.shape(i).ndims])) for i in builtins.range(len(ctx.inputs))]


def _shape_n_kernel(xp: Any, *inputs: Any, out_type: Any) -> tuple:
    return tuple(np.array(np.shape(x), dtype=out_type.as_numpy_dtype) for x in inputs)


register_op("ShapeN", infer=_shape_n_infer, kernel=_shape_n_kernel, grad=NOT_DIFFERENTIABLE)


def shape_n(input: Any, out_type: Any = dtypes_lib.int32, name: str | None = None) -> list[Tensor]:
    """The shapes of several tensors, from one ShapeN op."""
    tensors = [convert_to_tensor(x) for x in input]
    op = make_op("ShapeN", tensors, {"N": len(tensors), "T": tensors[0].dtype.base_dtype,
                                     "out_type": dtypes_lib.as_dtype(out_type)}, name or "ShapeN")
    return list(op.outputs)


def size(input: Any, name: str | None = None, out_type: Any = dtypes_lib.int32) -> Tensor:
    x = convert_to_tensor(input)
    return apply_op("Size", [x], {"T": x.dtype.base_dtype, "out_type": dtypes_lib.as_dtype(out_type)},
                    name or "Size")


def rank(input: Any, name: str | None = None) -> Tensor:
    x = convert_to_tensor(input)
    return apply_op("Rank", [x], {"T": x.dtype.base_dtype}, name or "Rank")


# ------------------------------------------------------------------- Range
def _range_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1, 2), ("start", "limit", "delta"))
    start, limit, delta = ctx.value(0), ctx.value(1), ctx.value(2)
    if start is None or limit is None or delta is None:
        return [(dtype, TensorShape([None]))]
    if delta == 0:
        raise ValueError("Requires delta != 0")
    count = builtins.max(int(np.ceil((limit - start) / delta)), 0)
    return [(dtype, TensorShape([count]))]


register_op("Range", infer=_range_infer, grad=NOT_DIFFERENTIABLE,
            kernel=lambda xp, start, limit, delta: xp.arange(start, limit, delta, dtype=np.asarray(start).dtype))


def range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None, name: str = "range") -> Tensor:  # noqa: A001
    """Like Python's range: `range(n)` or `range(start, limit, delta)`."""
    if limit is None:
        start, limit = 0, start
    with get_default_graph().name_scope(name) as scope:
        parts = [start, limit, delta]
        if dtype is None:
            inferred = [convert_to_tensor(p).dtype.base_dtype if isinstance(p, Tensor) else None for p in parts]
            known = [d for d in inferred if d is not None]
            if known:
                order = [dtypes_lib.int32, dtypes_lib.int64, dtypes_lib.float32, dtypes_lib.float64]
                dtype = builtins.max(known, key=lambda d: order.index(d) if d in order else 0)
            elif builtins.any(isinstance(p, float) for p in parts):
                dtype = dtypes_lib.float32
            else:
                dtype = dtypes_lib.int32
        dtype = dtypes_lib.as_dtype(dtype)
        from caudal.ops.math_ops import cast

        tensors = [cast(convert_to_tensor(p, dtype=dtype if not isinstance(p, Tensor) else None, name=n), dtype)
                   for p, n in zip(parts, ("start", "limit", "delta"))]
        return apply_op("Range", tensors, {"Tidx": dtype}, scope[:-1] + "/")


# ------------------------------------------------------------------ OneHot
def _one_hot_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.uint8, dtypes_lib.int8, dtypes_lib.int32,
                                          dtypes_lib.int64]), "indices")
    dtype = _rules.check_same_dtype(ctx, (2, 3), ("on_value", "off_value"))
    depth = ctx.value(1)
    x = ctx.shape(0)
    if x.ndims is None:
        return [(dtype, unknown_shape())]
    axis = ctx.attrs["axis"]
    dims = x.as_list()
    a = len(dims) if axis == -1 else axis
    return [(dtype, TensorShape(dims[:a] + [None if depth is None else int(depth)] + dims[a:]))]


def _one_hot_kernel(xp: Any, indices: Any, depth: Any, on_value: Any, off_value: Any, *, axis: int) -> Any:
    depth = int(depth)
    hot = xp.asarray(indices)[..., None] == xp.arange(depth)
    out = xp.where(hot, on_value, off_value)
    if axis != -1 and axis != out.ndim - 1:
        out = xp.moveaxis(out, -1, axis)
    return out


register_op("OneHot", infer=_one_hot_infer, kernel=_one_hot_kernel, grad=NOT_DIFFERENTIABLE)


def one_hot(indices: Any, depth: Any, on_value: Any = None, off_value: Any = None, axis: Any = None,
            dtype: Any = None, name: str | None = None) -> Tensor:
    """One-hot encoding; out-of-range indices give an all-`off_value` row, as in TF."""
    with get_default_graph().name_scope(name or "one_hot") as scope:
        indices_t = convert_to_tensor(indices, name="indices")
        if dtype is None:
            for v in (on_value, off_value):
                if isinstance(v, Tensor):
                    dtype = v.dtype.base_dtype
                    break
            else:
                dtype = dtypes_lib.float32 if on_value is None and off_value is None else \
                    convert_to_tensor(on_value if on_value is not None else off_value).dtype.base_dtype
        dtype = dtypes_lib.as_dtype(dtype).base_dtype
        on = convert_to_tensor(1 if on_value is None else on_value, dtype=dtype, name="on_value")
        off = convert_to_tensor(0 if off_value is None else off_value, dtype=dtype, name="off_value")
        depth_t = _int_tensor(depth, "depth")
        return apply_op("OneHot", [indices_t, depth_t, on, off],
                        {"T": dtype, "TI": indices_t.dtype.base_dtype, "axis": -1 if axis is None else axis},
                        scope[:-1] + "/")


# ------------------------------------------------------------- BroadcastTo
def _broadcast_to_infer(ctx: InferContext) -> list:
    target = ctx.shape_value(1)
    _rules.broadcast_shapes(ctx.shape(0), target)
    return [(ctx.dtype(0), target)]


def _broadcast_to_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops._broadcast import sum_to_shape_of

    return [sum_to_shape_of(grad, op.inputs[0]), None]


register_op("BroadcastTo", infer=_broadcast_to_infer, grad=_broadcast_to_grad,
            kernel=lambda xp, x, shape: xp.broadcast_to(x, tuple(np.asarray(shape).tolist())))


def broadcast_to(input: Any, shape: Any, name: str | None = None) -> Tensor:
    x = convert_to_tensor(input, name="input")
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    if isinstance(shape, (list, tuple)) and x.shape.is_fully_defined() and list(shape) == x.shape.as_list():
        return x
    shape_t = _int_tensor(shape, "shape")
    return apply_op("BroadcastTo", [x, shape_t], {"T": x.dtype.base_dtype, "Tidx": shape_t.dtype},
                    name or "BroadcastTo")


# ------------------------------------------------------------------- Slice
def _slice_infer(ctx: InferContext) -> list:
    x = ctx.shape(0)
    begin, size_ = ctx.value(1), ctx.value(2)
    if size_ is None:
        n = ctx.shape(2)[0].value if ctx.shape(2).ndims == 1 else x.ndims
        return [(ctx.dtype(0), unknown_shape(n))]
    sizes = [int(s) for s in np.reshape(size_, -1)]
    dims: list[int | None] = []
    for i, s in enumerate(sizes):
        if s == -1:
            if begin is None or x.ndims is None or x.as_list()[i] is None:
                dims.append(None)
            else:
                dims.append(x.as_list()[i] - int(np.reshape(begin, -1)[i]))
        else:
            dims.append(s)
    return [(ctx.dtype(0), TensorShape(dims))]


def _slice_kernel(xp: Any, x: Any, begin: Any, size: Any) -> Any:
    index = tuple(builtins.slice(b, None if s == -1 else b + s)
                  for b, s in zip(_rules.int_tuple(begin), _rules.int_tuple(size)))
    return x[index]


def _slice_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.math_ops import subtract

    x, begin = op.inputs[0], op.inputs[1]
    x_shape = _shape_of(x)
    after = subtract(subtract(x_shape, begin), _shape_of(op.outputs[0]))
    paddings = stack([begin, after], axis=1)
    return [apply_op("Pad", [grad, paddings], {"T": grad.dtype.base_dtype, "Tpaddings": paddings.dtype.base_dtype}),
            None, None]


register_op("Slice", infer=_slice_infer, kernel=_slice_kernel, grad=_slice_grad)


def slice(input_: Any, begin: Any, size: Any, name: str | None = None) -> Tensor:  # noqa: A001
    """`size[i] == -1` takes everything from `begin[i]` on."""
    x = convert_to_tensor(input_)
    begin_t = _int_tensor(begin, "begin")
    size_t = _int_tensor(size, "size")
    return apply_op("Slice", [x, begin_t, size_t], {"T": x.dtype.base_dtype, "Index": begin_t.dtype},
                    name or "Slice")
