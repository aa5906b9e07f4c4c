"""`tf.reverse_sequence`: the ReverseSequence op, which reverses the first `seq_lengths[b]`
elements of each batch entry `b` along the sequence axis (the bidirectional RNNs use it)."""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules

__all__ = ["reverse_sequence"]


def _reverse_sequence_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 1, _rules.INDEX, "seq_lengths")
    x, lengths = ctx.shape(0), ctx.shape(1)
    seq_dim, batch_dim = ctx.attrs["seq_dim"], ctx.attrs["batch_dim"]
    if lengths.ndims is not None and lengths.ndims != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {lengths.ndims}")
    if x.ndims is None:
        return [(ctx.dtype(0), unknown_shape())]
    if seq_dim == batch_dim:
        raise ValueError(f"seq_dim and batch_dim must not be the same: {seq_dim}")
    if seq_dim >= x.ndims:
        raise ValueError(f"seq_dim must be < input rank: {seq_dim} vs. {x.ndims}")
    if batch_dim >= x.ndims:
        raise ValueError(f"batch_dim must be < input rank: {batch_dim} vs. {x.ndims}")
    dims = x.as_list()
    if batch_dim >= 0 and lengths.ndims == 1:
        batch, count = dims[batch_dim], lengths[0].value
        if batch is not None and count is not None and batch != count:
            raise ValueError(f"Dimensions must be equal, but are {batch} and {count}")
        if batch is None:
            dims[batch_dim] = count
    return [(ctx.dtype(0), TensorShape(dims))]


def _reverse_sequence_kernel(xp: Any, x: Any, seq_lengths: Any, *, seq_dim: int, batch_dim: int) -> Any:
    rank = x.ndim
    if not 0 <= batch_dim < rank:
        raise InvalidArgumentError(None, None, f"Invalid batch_dim {batch_dim}")
    if not 0 <= seq_dim < rank:
        raise InvalidArgumentError(None, None, f"Invalid seq_dim {seq_dim}")
    lengths = np.asarray(seq_lengths).astype(np.int64).reshape(-1)
    if lengths.shape[0] != x.shape[batch_dim]:
        raise InvalidArgumentError(None, None, f"Length of seq_lens != input.dims({batch_dim}), "
                                               f"({lengths.shape[0]} vs. {x.shape[batch_dim]})")
    time = x.shape[seq_dim]
    for b, length in enumerate(lengths):
        if length < 0:
            raise InvalidArgumentError(None, None, f"seq_lens({b}) < 0")
        if length > time:
            raise InvalidArgumentError(None, None, f"seq_lens({b}) > input.dims({seq_dim})")
    steps = np.arange(time)[None, :]
    index = np.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)  # [batch, time]
    if batch_dim > seq_dim:
        index = index.T
    shape = [1] * rank
    shape[batch_dim] = lengths.shape[0]
    shape[seq_dim] = time
    return xp.take_along_axis(x, xp.asarray(index.reshape(shape)), axis=seq_dim)


def _reverse_sequence_grad(op: Any, grad: Tensor) -> list:
    return [reverse_sequence(grad, op.inputs[1], seq_axis=op.get_attr("seq_dim"),
                             batch_axis=op.get_attr("batch_dim")), None]


register_op("ReverseSequence", infer=_reverse_sequence_infer, kernel=_reverse_sequence_kernel,
            grad=_reverse_sequence_grad)


def _renamed(new: Any, old: Any, new_name: str, old_name: str) -> Any:
    if old is not None:
        if new is not None and new != old:
            raise ValueError(f"Cannot specify both '{new_name}' and '{old_name}'.")
        return old
    return new


def reverse_sequence(input: Any, seq_lengths: Any, seq_axis: int | None = None, batch_axis: int | None = None,
                     name: str | None = None, seq_dim: int | None = None, batch_dim: int | None = None) -> Tensor:
    """TF's `tf.reverse_sequence`: for each `b`, the slice `input[b]` (along `batch_axis`) has its
    first `seq_lengths[b]` elements along `seq_axis` reversed; the rest is copied. `seq_dim` and
    `batch_dim` are TF1's older names of the axes; `batch_axis` defaults to 0."""
    seq_axis = _renamed(seq_axis, seq_dim, "seq_axis", "seq_dim")
    batch_axis = _renamed(batch_axis, batch_dim, "batch_axis", "batch_dim")
    if seq_axis is None:
        raise TypeError("reverse_sequence() missing required argument: 'seq_axis'")
    batch_axis = 0 if batch_axis is None else batch_axis
    graph = get_default_graph()
    with graph.name_scope(name or "ReverseSequence") as scope:
        x = convert_to_tensor(input, name="input")
        lengths = convert_to_tensor(seq_lengths, name="seq_lengths")
        if lengths.dtype.base_dtype not in (dtypes_lib.int32, dtypes_lib.int64):
            raise TypeError(f"Value passed to parameter 'seq_lengths' has DataType {lengths.dtype.base_dtype.name} "
                            "not in list of allowed values: int32, int64")
        return apply_op("ReverseSequence", [x, lengths],
                        {"seq_dim": int(seq_axis), "batch_dim": int(batch_axis), "T": x.dtype.base_dtype,
                         "Tlen": lengths.dtype.base_dtype}, scope)
