"""The one shared helper that sums a broadcast gradient back to an input's shape.

When the input's shape is fully known (the usual case, e.g. a bias added to a
`[None, n]` batch), the reduction axes are found while the graph is built and
the gradient costs one Sum (and at most one Reshape). Otherwise TF's
`BroadcastGradientArgs` op computes them at run time.
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from caudal.framework import dtypes
from caudal.framework.graph import InferContext, get_default_graph, make_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules


def _bga_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1), ("s0", "s1"))
    return [(dtype, TensorShape([None])), (dtype, TensorShape([None]))]


def broadcast_reduction_axes(s0: Any, s1: Any) -> tuple[np.ndarray, np.ndarray]:
    """The axes along which each of two broadcast shapes must be summed."""
    return _reduction_axes(_rules.int_tuple(s0), _rules.int_tuple(s1))


@functools.lru_cache(maxsize=1024)
def _reduction_axes(s0: tuple[int, ...], s1: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Memoized: a training loop asks the same question every step. The arrays are read-only."""
    s0 = list(s0)
    s1 = list(s1)
    rank = max(len(s0), len(s1))
    p0 = [1] * (rank - len(s0)) + s0
    p1 = [1] * (rank - len(s1)) + s1
    r0: list[int] = []
    r1: list[int] = []
    for i, (a, b) in enumerate(zip(p0, p1)):
        if a == b:
            if a == 1:
                r0.append(i)
                r1.append(i)
            continue
        if a == 1:
            r0.append(i)
        elif b == 1:
            r1.append(i)
        else:
            from caudal.errors import InvalidArgumentError

            raise InvalidArgumentError(None, None, f"Incompatible shapes: {s0} vs. {s1}")
    axes0 = np.array(r0, dtype=np.int32)
    axes1 = np.array(r1, dtype=np.int32)
    axes0.flags.writeable = False
    axes1.flags.writeable = False
    return axes0, axes1


def _bga_kernel(xp: Any, s0: Any, s1: Any) -> tuple[Any, Any]:
    r0, r1 = broadcast_reduction_axes(s0, s1)
    if s0.dtype != np.int32:
        return r0.astype(s0.dtype), r1.astype(s0.dtype)
    return r0, r1


register_op("BroadcastGradientArgs", infer=_bga_infer, kernel=_bga_kernel, grad=NOT_DIFFERENTIABLE)


# Ops whose output has the run-time shape of input 0.
_SHAPE_OF_INPUT = frozenset([
    "Identity", "StopGradient", "Snapshot", "Cast", "Neg", "Abs", "Sign", "Square", "Sqrt", "Rsqrt", "Exp",
    "Log", "Log1p", "Expm1", "Reciprocal", "Floor", "Ceil", "Round", "Rint", "Sigmoid", "Tanh", "Relu", "Relu6",
    "Elu", "Selu", "Softplus", "Softsign", "LeakyRelu", "ZerosLike", "OnesLike", "IsNan", "IsInf", "IsFinite",
    "LogicalNot", "BiasAdd"])
# Broadcasting elementwise ops: the output has an input's shape when the other input fits into it.
_ELEMENTWISE_BINARY = frozenset([
    "AddV2", "Add", "Sub", "Mul", "RealDiv", "Div", "Maximum", "Minimum", "Pow", "SquaredDifference",
    "Greater", "GreaterEqual", "Less", "LessEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr"])
# Random ops whose input 0 is the shape of the result.
_RANDOM_OF_SHAPE = frozenset(["RandomUniform", "RandomStandardNormal", "TruncatedNormal"])


def _fits_statically(small: Tensor, big: Tensor) -> bool:
    """Whether the static shapes prove that `small` broadcasts into `big` without changing big's
    shape: no more dimensions, and each of small's is 1 or equal to big's known one."""
    rank = big.shape.ndims
    if rank is None or small.shape.ndims is None or small.shape.ndims > rank:
        return False
    big_dims = big.shape.as_list()[rank - small.shape.ndims:]
    return all(s == 1 or (s is not None and s == b) for b, s in zip(big_dims, small.shape.as_list()))


def shape_source(t: Tensor) -> Tensor:
    """The tensor whose run-time shape `t` provably has, found by walking back through
    shape-preserving ops (`t` itself when nothing is known). Two tensors with the same source
    have the same shape in every run, even where the static shapes hold unknown dimensions:
    dropout's mask, drawn with `shape(x)`, and `relu(matmul(x, W) + b)` have one source."""
    while True:
        op = t.op
        if op.type in _SHAPE_OF_INPUT and op.inputs:
            t = op.inputs[0]
        elif op.type in _ELEMENTWISE_BINARY and len(op.inputs) == 2:
            a, b = op.inputs
            if _fits_statically(b, a):
                t = a
            elif _fits_statically(a, b):
                t = b
            else:
                return t
        elif op.type in _RANDOM_OF_SHAPE and op.inputs[0].op.type == "Shape":
            t = op.inputs[0].op.inputs[0]
        else:
            return t


def never_broadcast(x: Tensor, others: tuple[Tensor, ...]) -> bool:
    """True when the shapes prove that broadcasting x against `others` leaves x's shape unchanged:
    each other operand fits statically into x (`matmul(x, W) + b` with b of shape [n]), or has x's
    rank and the same `shape_source` (dropout's select between x and its mask)."""
    if x.shape.ndims is None:
        return False
    for other in others:
        if _fits_statically(other, x):
            continue
        if other.shape.ndims == x.shape.ndims and shape_source(other) is shape_source(x):
            continue
        return False
    return True


def sum_to_shape_of(grad: Tensor, x: Tensor, others: tuple[Tensor, ...] = ()) -> Tensor:
    """Sums `grad` (shaped like x broadcast against `others`) down to x's shape.

    Passing the other operands lets the static shapes prove that no reduction is needed.
    """
    from caudal.ops.array_ops import reshape, shape
    from caudal.ops.reduction_ops import reduce_sum

    if others and never_broadcast(x, others):
        return grad
    x_shape = x.shape
    g_shape = grad.shape
    if x_shape.is_fully_defined() and g_shape.ndims is not None:
        xs = x_shape.as_list()
        gs = g_shape.as_list()
        if xs == gs:
            return grad
        extra = len(gs) - len(xs)
        if extra >= 0:
            padded = [1] * extra + xs
            axes = [i for i, (xd, gd) in enumerate(zip(padded, gs)) if i < extra or (xd == 1 and gd != 1)]
            if not axes:
                return grad
            summed = reduce_sum(grad, axes, keepdims=False)
            kept = [padded[i] for i in range(len(gs)) if i not in axes]
            if kept != xs:
                summed = reshape(summed, xs)
            return summed
    with get_default_graph().name_scope("BroadcastGradientArgs_reduce"):
        sx = shape(x)
        sg = shape(grad)
        r0 = make_op("BroadcastGradientArgs", [sx, sg], {"T": dtypes.int32}).outputs[0]
        return reshape(reduce_sum(grad, r0, keepdims=False), sx)
