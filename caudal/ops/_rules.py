"""Shared pieces of op definitions: dtype checks, static shape rules, and reading small integer
inputs (shapes, axes) in kernels."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from caudal.framework import dtypes
from caudal.framework.dtypes import DType
from caudal.framework.graph import InferContext
from caudal.framework.tensor_shape import TensorShape, unknown_shape

FLOAT = dtypes.FLOATING
FLOAT_COMPLEX = dtypes.FLOATING | dtypes.COMPLEX
NUMERIC = dtypes.NUMERIC
REAL = dtypes.REAL
INTEGER = dtypes.INTEGER
SIGNED = dtypes.FLOATING | dtypes.COMPLEX | dtypes.SIGNED_INTEGER
ANY = dtypes.ALL
INDEX = frozenset([dtypes.int32, dtypes.int64])

_ORDER = [dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64, dtypes.int8, dtypes.int16,
          dtypes.int32, dtypes.int64, dtypes.uint8, dtypes.uint16, dtypes.uint32, dtypes.uint64,
          dtypes.complex64, dtypes.complex128, dtypes.bool_, dtypes.string]


def _names(allowed: Iterable[DType]) -> str:
    return ", ".join(t.name for t in _ORDER if t in allowed)


def check_dtype(ctx: InferContext, i: int, allowed: frozenset, param: str = "x") -> DType:
    """The base dtype of input i, or TypeError in TF's words if it is not allowed."""
    dtype = ctx.dtype(i)
    if dtype not in allowed:
        raise TypeError(f"Value passed to parameter '{param}' has DataType {dtype.name} not in list of "
                        f"allowed values: {_names(allowed)}")
    return dtype


def check_same_dtype(ctx: InferContext, indices: Iterable[int], names: Iterable[str]) -> DType:
    """All listed inputs share one dtype; TypeError naming both otherwise."""
    indices = list(indices)
    names = list(names)
    first = ctx.dtype(indices[0])
    for i, name in zip(indices[1:], names[1:]):
        if ctx.dtype(i) != first:
            raise TypeError(f"Input '{name}' of '{ctx.type}' Op has type {ctx.dtype(i).name} that does not "
                            f"match type {first.name} of argument '{names[0]}'.")
    return first


def broadcast_shapes(a: TensorShape, b: TensorShape) -> TensorShape:
    """Static NumPy-style broadcasting; ValueError when known dimensions clash."""
    if a.ndims is None or b.ndims is None:
        return unknown_shape()
    da, db = a.as_list(), b.as_list()
    rank = max(len(da), len(db))
    da = [1] * (rank - len(da)) + da
    db = [1] * (rank - len(db)) + db
    result: list[int | None] = []
    for x, y in zip(da, db):
        if x == 1:
            result.append(y)
        elif y == 1:
            result.append(x)
        elif x is None:
            result.append(y)
        elif y is None:
            result.append(x)
        elif x == y:
            result.append(x)
        else:
            raise ValueError(f"Dimensions must be equal, but are {x} and {y}")
    return TensorShape(result)


def unary(allowed: frozenset = NUMERIC, out_dtype: DType | None = None) -> Callable:
    """Rule of an elementwise unary op: same shape, same (or given) dtype."""

    def infer(ctx: InferContext) -> list[tuple[DType, TensorShape]]:
        dtype = check_dtype(ctx, 0, allowed)
        return [(out_dtype or dtype, ctx.shape(0))]

    return infer


def binary(allowed: frozenset = NUMERIC, out_dtype: DType | None = None) -> Callable:
    """Rule of a broadcasting binary op over two inputs of one dtype."""

    def infer(ctx: InferContext) -> list[tuple[DType, TensorShape]]:
        dtype = check_same_dtype(ctx, (0, 1), ("x", "y"))
        check_dtype(ctx, 0, allowed)
        return [(out_dtype or dtype, broadcast_shapes(ctx.shape(0), ctx.shape(1)))]

    return infer


def same_as_input(index: int = 0) -> Callable:
    def infer(ctx: InferContext) -> list[tuple[DType, TensorShape]]:
        return [(ctx.dtype(index), ctx.shape(index))]

    return infer


def normalize_axis(axis: int, rank: int, op_name: str = "") -> int:
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for a tensor of rank {rank}"
                         + (f" in {op_name}" if op_name else ""))
    return axis % rank


def attr_dtype(ctx: InferContext, name: str) -> DType:
    return dtypes.as_dtype(ctx.attrs[name]).base_dtype



def int_tuple(value: Any) -> tuple[int, ...]:
    """A shape or axes input (a 0-d or 1-d integer array) as a tuple of ints, at kernel speed."""
    if type(value) is np.ndarray and value.ndim <= 1:
        return tuple(value.tolist()) if value.ndim else (value.tolist(),)
    return tuple(np.reshape(value, -1).tolist())
