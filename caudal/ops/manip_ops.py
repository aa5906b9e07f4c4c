"""Manipulations of a tensor's layout: Split, SplitV, Tile, ReverseV2, Pad, PadV2, MirrorPad.

`tf.pad` picks the op as TF does: Pad for zero padding, PadV2 for another
constant, MirrorPad (gradient MirrorPadGrad) for REFLECT and SYMMETRIC.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph, make_op
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import Dimension, TensorShape, unknown_shape
from caudal.ops import _rules

__all__ = ["split", "tile", "reverse", "reverse_v2", "pad"]


def _int_tensor(value: Any, name: str) -> Tensor:
    return convert_to_tensor(value, dtype_hint=dtypes_lib.int32, name=name)


def _shape_of(x: Tensor) -> Any:
    from caudal.ops.array_ops import shape

    return x.shape.as_list() if x.shape.is_fully_defined() else shape(x)


def _split_axis(axis: Any, rank: int) -> int:
    a = int(np.reshape(axis, -1)[0])
    if not -rank <= a < rank:
        raise ValueError(f"Dimension size, given by scalar input {a} must be in range [{-rank}, {rank})")
    return a % rank


# ------------------------------------------------------------------- Split
def _split_infer(ctx: InferContext) -> list:
    num = ctx.attrs["num_split"]
    x = ctx.shape(1)
    axis = ctx.value(0)
    if x.ndims is None:
        return [(ctx.dtype(1), unknown_shape())] * num
    if axis is None:
        return [(ctx.dtype(1), unknown_shape(x.ndims))] * num
    a = _split_axis(axis, x.ndims)
    dims = x.as_list()
    if dims[a] is not None:
        if dims[a] % num:
            raise ValueError(f"Dimension size must be evenly divisible by {num} but is {dims[a]}")
        dims[a] //= num
    return [(ctx.dtype(1), TensorShape(dims))] * num


def _split_kernel(xp: Any, split_dim: Any, value: Any, *, num_split: int) -> tuple:
    a = int(split_dim) % value.ndim
    if value.shape[a] % num_split:
        raise InvalidArgumentError(None, None, f"Number of ways to split should evenly divide the split dimension, "
                                               f"but got split_dim {a} (size = {value.shape[a]}) and num_split "
                                               f"{num_split}")
    size = value.shape[a] // num_split
    prefix = (slice(None),) * a
    # Basic slices, as np.split returns (views on NumPy) at a fraction of its cost per call.
    return tuple(value[prefix + (slice(i * size, (i + 1) * size),)] for i in range(num_split))


def _split_grad(op: Any, *grads: Tensor) -> list:
    from caudal.ops.array_ops import concat

    return [None, concat(list(grads), op.inputs[0])]


register_op("Split", infer=_split_infer, kernel=_split_kernel, grad=_split_grad)


def _resolve_sizes(sizes: list[int], total: int | None) -> list[int | None]:
    """Size splits with their single -1 filled in when the total is known."""
    if sizes.count(-1) > 1:
        raise ValueError("size_splits can only have one -1")
    if total is None:
        return [None if s == -1 else s for s in sizes]
    known = sum(s for s in sizes if s != -1)
    if (-1 in sizes and known > total) or (-1 not in sizes and known != total):
        raise ValueError(f"can't split axis of size {total} into pieces of size [{','.join(map(str, sizes))}]")
    return [total - known if s == -1 else s for s in sizes]


def _split_v_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 1, _rules.INDEX, "size_splits")
    num = ctx.attrs["num_split"]
    x = ctx.shape(0)
    sizes, axis = ctx.value(1), ctx.value(2)
    if x.ndims is None:
        return [(ctx.dtype(0), unknown_shape())] * num
    if axis is None:
        return [(ctx.dtype(0), unknown_shape(x.ndims))] * num
    a = _split_axis(axis, x.ndims)
    dims = x.as_list()
    pieces: list[int | None] = [None] * num
    if sizes is not None:
        pieces = _resolve_sizes([int(s) for s in np.reshape(sizes, -1)], dims[a])
    return [(ctx.dtype(0), TensorShape(dims[:a] + [p] + dims[a + 1:])) for p in pieces]


def _split_v_kernel(xp: Any, value: Any, size_splits: Any, split_dim: Any, *, num_split: int) -> tuple:
    a = int(split_dim) % value.ndim
    try:
        sizes = _resolve_sizes([int(s) for s in size_splits], value.shape[a])
    except ValueError as error:
        raise InvalidArgumentError(None, None, str(error)) from None
    if len(sizes) != num_split:
        raise InvalidArgumentError(None, None, f"size_splits has {len(sizes)} entries, but num_split is {num_split}")
    return tuple(xp.split(value, np.cumsum(sizes)[:-1], axis=a))


def _split_v_grad(op: Any, *grads: Tensor) -> list:
    from caudal.ops.array_ops import concat

    return [concat(list(grads), op.inputs[2]), None, None]


register_op("SplitV", infer=_split_v_infer, kernel=_split_v_kernel, grad=_split_v_grad)


def split(value: Any, num_or_size_splits: Any, axis: Any = 0, num: int | None = None,
          name: str = "split") -> list[Tensor]:
    """Splits `value` along `axis` into `num_or_size_splits` equal parts (op Split), or into
    parts of the listed sizes, one of which may be -1 (op SplitV)."""
    if isinstance(num_or_size_splits, (numbers.Integral, Dimension)):
        count = int(num_or_size_splits)
        with get_default_graph().name_scope(name) as scope:
            axis_t = _int_tensor(axis, "split_dim")
            value_t = convert_to_tensor(value, name="value")
            op = make_op("Split", [axis_t, value_t], {"T": value_t.dtype.base_dtype, "num_split": count},
                         scope[:-1] + "/")
        return list(op.outputs)
    sizes = convert_to_tensor(num_or_size_splits, dtype_hint=dtypes_lib.int32)
    if sizes.shape.ndims == 0:
        raise ValueError(f"Rank-0 tensors are not supported as the num_or_size_splits argument to split. "
                         f"Argument provided: {num_or_size_splits}")
    if num is None:
        num = sizes.shape[0].value if sizes.shape.ndims == 1 else None
        if num is None:
            raise ValueError(f"Cannot infer argument `num` from shape {sizes}")
    with get_default_graph().name_scope(name) as scope:
        value_t = convert_to_tensor(value, name="value")
        axis_t = _int_tensor(axis, "split_dim")
        op = make_op("SplitV", [value_t, sizes, axis_t], {"T": value_t.dtype.base_dtype, "Tlen": sizes.dtype,
                                                          "num_split": int(num)}, scope[:-1] + "/")
    return list(op.outputs)


# -------------------------------------------------------------------- Tile
def _tile_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 1, _rules.INDEX, "multiples")
    x, m_shape = ctx.shape(0), ctx.shape(1)
    if m_shape.ndims is not None and m_shape.ndims != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {m_shape.ndims}")
    length = m_shape[0].value if m_shape.ndims == 1 else None
    if x.ndims is not None and length is not None and x.ndims != length:
        raise ValueError(f"Shape must be rank {x.ndims} but is rank {length}")
    rank = x.ndims if x.ndims is not None else length
    multiples = ctx.value(1)
    if rank is None:
        return [(ctx.dtype(0), unknown_shape())]
    dims = x.as_list() if x.ndims is not None else [None] * rank
    if multiples is None:
        return [(ctx.dtype(0), TensorShape([d if d == 0 else None for d in dims]))]
    tiled = [None if d is None else d * int(m) for d, m in zip(dims, multiples, strict=True)]
    return [(ctx.dtype(0), TensorShape(tiled))]


def _tile_kernel(xp: Any, input: Any, multiples: Any) -> Any:
    for i, m in enumerate(multiples):
        if m < 0:
            raise InvalidArgumentError(None, None, f"Expected multiples[{i}] >= 0, but got {int(m)}")
    return xp.tile(input, tuple(int(m) for m in multiples))


def _tile_grad(op: Any, grad: Tensor) -> list:
    """Views the gradient as [m0, d0, m1, d1, ...] and sums over the copies (even axes)."""
    from caudal.ops.array_ops import range as range_
    from caudal.ops.array_ops import reshape, shape, size, stack, transpose
    from caudal.ops.reduction_ops import reduce_sum

    x, multiples = op.inputs
    m_value = constant_value(multiples)
    if m_value is not None and x.shape.is_fully_defined():
        pairs = [v for m, d in zip(np.reshape(m_value, -1), x.shape.as_list(), strict=True) for v in (int(m), d)]
        summed = reduce_sum(reshape(grad, pairs), list(range(0, len(pairs), 2)))
        return [reshape(summed, x.shape.as_list()), None]
    x_shape = shape(x, out_type=multiples.dtype)
    pairs = reshape(transpose(stack([multiples, x_shape])), [-1])
    summed = reduce_sum(reshape(grad, pairs), range_(0, size(pairs), 2))
    return [reshape(summed, x_shape), None]


register_op("Tile", infer=_tile_infer, kernel=_tile_kernel, grad=_tile_grad)


def tile(input: Any, multiples: Any, name: str | None = None) -> Tensor:
    """Repeats `input` `multiples[i]` times along dimension i."""
    x = convert_to_tensor(input, name="input")
    m = _int_tensor(multiples, "multiples")
    return apply_op("Tile", [x, m], {"T": x.dtype.base_dtype, "Tmultiples": m.dtype}, name or "Tile")


# --------------------------------------------------------------- ReverseV2
def _reverse_axes(axis: Any, rank: int) -> tuple[int, ...]:
    axes = [int(a) for a in np.reshape(axis, -1)]
    seen: set[int] = set()
    for i, a in enumerate(axes):
        if not -rank <= a < rank:
            raise ValueError(f"'axis'[{i}] = {a} is out of valid range [0, {rank - 1}")
        if a % rank in seen:
            raise ValueError(f"axis {a % rank} specified more than once.")
        seen.add(a % rank)
    return tuple(sorted(seen))


def _reverse_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 1, _rules.INDEX, "axis")
    x, axis = ctx.shape(0), ctx.value(1)
    if x.ndims is not None and axis is not None:
        _reverse_axes(axis, x.ndims)
    return [(ctx.dtype(0), x)]


def _reverse_kernel(xp: Any, tensor: Any, axis: Any) -> Any:
    try:
        axes = _reverse_axes(axis, tensor.ndim)
    except ValueError as error:
        raise InvalidArgumentError(None, None, str(error)) from None
    return xp.flip(tensor, axis=axes) if axes else tensor


register_op("ReverseV2", infer=_reverse_infer, kernel=_reverse_kernel,
            grad=lambda op, grad: [reverse(grad, op.inputs[1]), None])


def reverse(tensor: Any, axis: Any, name: str | None = None) -> Tensor:
    """Reverses the listed dimensions (negative axes count from the end)."""
    x = convert_to_tensor(tensor, name="tensor")
    axis_t = _int_tensor(axis, "axis")
    return apply_op("ReverseV2", [x, axis_t], {"T": x.dtype.base_dtype, "Tidx": axis_t.dtype},
                    name or "ReverseV2")


reverse_v2 = reverse


# -------------------------------------------------- Pad, PadV2, MirrorPad
def _padded_shape(ctx: InferContext, sign: int = 1) -> TensorShape:
    """x's shape grown (sign=1) or shrunk (sign=-1) by the paddings input."""
    _rules.check_dtype(ctx, 1, _rules.INDEX, "paddings")
    x, p_shape = ctx.shape(0), ctx.shape(1)
    if p_shape.ndims is not None and p_shape.ndims != 2:
        raise ValueError(f"Shape must be rank 2 but is rank {p_shape.ndims}")
    rows = p_shape[0].value if p_shape.ndims == 2 else None
    if p_shape.ndims == 2 and p_shape[1].value not in (None, 2):
        raise ValueError(f"Dimension 1 in both shapes must be equal, but are {p_shape[1].value} and 2")
    if x.ndims is not None and rows is not None and x.ndims != rows:
        raise ValueError(f"Shape must be rank {rows} but is rank {x.ndims}")
    rank = x.ndims if x.ndims is not None else rows
    paddings = ctx.value(1)
    if rank is None:
        return unknown_shape()
    dims = x.as_list() if x.ndims is not None else [None] * rank
    if paddings is None:
        return unknown_shape(rank)
    if (paddings < 0).any():
        raise ValueError("Paddings must be non-negative")
    return TensorShape([None if d is None else d + sign * int(p[0] + p[1])
                        for d, p in zip(dims, paddings, strict=True)])


def _check_paddings(x: Any, paddings: Any) -> list[tuple[int, int]]:
    paddings = np.asarray(paddings)
    if paddings.shape != (x.ndim, 2):
        raise InvalidArgumentError(None, None, f"The first dimension of paddings must be the rank of inputs"
                                               f"[{paddings.shape[0] if paddings.ndim else 0},2] {list(x.shape)}")
    if (paddings < 0).any():
        bad = paddings[(paddings < 0).any(axis=1)][0]
        raise InvalidArgumentError(None, None, f"Paddings must be non-negative: {bad[0]} {bad[1]}")
    return [(int(a), int(b)) for a, b in paddings]


def _pad_kernel(xp: Any, input: Any, paddings: Any) -> Any:
    return xp.pad(input, _check_paddings(input, paddings))


def _pad_v2_kernel(xp: Any, input: Any, paddings: Any, constant_values: Any) -> Any:
    return xp.pad(input, _check_paddings(input, paddings), constant_values=constant_values)


def _pad_grad(op: Any, grad: Tensor) -> list:
    """The gradient is the slice of `grad` where the input sits."""
    from caudal.ops.array_ops import reshape, slice

    x, paddings = op.inputs[0], op.inputs[1]
    begin = reshape(slice(paddings, [0, 0], [-1, 1]), [-1])
    return [slice(grad, begin, _shape_of(x))] + [None] * (len(op.inputs) - 1)


def _pad_v2_infer(ctx: InferContext) -> list:
    _rules.check_same_dtype(ctx, (0, 2), ("input", "constant_values"))
    if ctx.shape(2).ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {ctx.shape(2).ndims}")
    return [(ctx.dtype(0), _padded_shape(ctx))]


register_op("Pad", infer=lambda ctx: [(ctx.dtype(0), _padded_shape(ctx))], kernel=_pad_kernel, grad=_pad_grad)
register_op("PadV2", infer=_pad_v2_infer, kernel=_pad_v2_kernel, grad=_pad_grad)


def _mirror_sources(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each position of a mirror-padded axis, the input index it copies."""
    offset = 1 if mode == "REFLECT" else 0
    limit = size - offset
    if before > limit or after > limit:
        if mode == "REFLECT":
            raise InvalidArgumentError(None, None, f"paddings must be less than the dimension size: {before}, "
                                                   f"{after} not less than {size}")
        raise InvalidArgumentError(None, None, f"paddings must be no greater than the dimension size: {before}, "
                                               f"{after} greater than {size}")
    position = np.arange(-before, size + after)
    position = np.where(position < 0, -position - 1 + offset, position)
    return np.where(position >= size, 2 * size - 1 - offset - position, position)


def _mode(mode: Any) -> str:
    return mode.decode() if isinstance(mode, bytes) else str(mode)


def _mirror_pad_kernel(xp: Any, input: Any, paddings: Any, *, mode: Any) -> Any:
    out = input
    for axis, (before, after) in enumerate(_check_paddings(input, paddings)):
        if before or after:
            out = xp.take(out, _mirror_sources(input.shape[axis], before, after, _mode(mode)), axis=axis)
    return out


def _mirror_pad_grad_kernel(xp: Any, input: Any, paddings: Any, *, mode: Any) -> Any:
    """Adds each padded position's gradient into the input position it was copied from."""
    out = input
    for axis, (before, after) in enumerate(_check_paddings(input, paddings)):
        if before or after:
            size = input.shape[axis] - before - after
            if size < 0:
                raise InvalidArgumentError(None, None, f"paddings {before}, {after} exceed the gradient's "
                                                       f"dimension {input.shape[axis]}")
            sources = _mirror_sources(size, before, after, _mode(mode))
            fold = (sources[None, :] == np.arange(size)[:, None]).astype(input.dtype)
            out = xp.moveaxis(xp.tensordot(fold, out, axes=([1], [axis])), 0, axis)
    return out


register_op("MirrorPad", infer=lambda ctx: [(ctx.dtype(0), _padded_shape(ctx))], kernel=_mirror_pad_kernel,
            grad=lambda op, grad: [_mirror(grad, op.inputs[1], op.get_attr("mode"), "MirrorPadGrad"), None])
register_op("MirrorPadGrad", infer=lambda ctx: [(ctx.dtype(0), _padded_shape(ctx, -1))],
            kernel=_mirror_pad_grad_kernel,
            grad=lambda op, grad: [_mirror(grad, op.inputs[1], op.get_attr("mode"), "MirrorPad"), None])


def _mirror(x: Tensor, paddings: Tensor, mode: str, op_type: str, name: str | None = None) -> Tensor:
    return apply_op(op_type, [x, paddings], {"T": x.dtype.base_dtype, "Tpaddings": paddings.dtype, "mode": mode},
                    name or op_type)


def pad(tensor: Any, paddings: Any, mode: str = "CONSTANT", name: str | None = None,
        constant_values: Any = 0) -> Tensor:
    """Pads with a constant (Pad when it is a literal 0, PadV2 otherwise), or mirrors the edges
    (MirrorPad): REFLECT leaves out the edge value, SYMMETRIC repeats it. `mode` is case-insensitive."""
    upper = str(mode).upper()
    if upper not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f'Value of argument `mode` expected to be one of "CONSTANT", "REFLECT", or "SYMMETRIC". '
                         f"Received `mode` = {mode}")
    x = convert_to_tensor(tensor, name="tensor")
    if upper != "CONSTANT":
        return _mirror(x, _int_tensor(paddings, "paddings"), upper, "MirrorPad", name)
    attrs = {"T": x.dtype.base_dtype}
    if not isinstance(constant_values, Tensor) and np.all(np.asarray(constant_values) == 0):
        with get_default_graph().name_scope(name or "Pad") as scope:
            paddings_t = _int_tensor(paddings, "paddings")
            return apply_op("Pad", [x, paddings_t], dict(attrs, Tpaddings=paddings_t.dtype), scope[:-1] + "/")
    with get_default_graph().name_scope(name or "PadV2") as scope:
        paddings_t = _int_tensor(paddings, "paddings")
        value = convert_to_tensor(constant_values, dtype=x.dtype.base_dtype, name="constant_values")
        return apply_op("PadV2", [x, paddings_t, value], dict(attrs, Tpaddings=paddings_t.dtype), scope[:-1] + "/")
