"""The op-record table: each op, its inputs, and a NumPy reference.

A record builds an op from input tensors (`fn`) and states what NumPy says
the result is (`ref`). From each record the suite checks, in
test_op_records.py:

- values and dtype with constant inputs, and that the static shape is fully
  known and equals the runtime shape;
- values with placeholder inputs of unknown shape, and that the static shape
  is compatible with the runtime one;
- for differentiable ops, the gradient of every float input against central
  differences in float64.

Inputs are arrays, or functions of a NumPy Generator returning arrays.
`const` lists inputs that must stay constants (axes, shapes).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np


@dataclasses.dataclass
class OpRecord:
    id: str
    fn: Callable[..., Any]
    ref: Callable[..., Any]
    inputs: list[Any]
    const: tuple[int, ...] = ()
    grad: bool | tuple[int, ...] = True
    rtol: float = 1e-5
    atol: float = 1e-6
    grad_tol: float = 1e-4
    static_full: bool = True
    dynamic: bool = True

    def arrays(self, seed: int = 0) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        return [np.asarray(v(rng) if callable(v) else v) for v in self.inputs]

    def grad_indices(self, arrays: list[np.ndarray]) -> list[int]:
        if self.grad is False:
            return []
        candidates = range(len(arrays)) if self.grad is True else self.grad
        return [i for i in candidates if i not in self.const and arrays[i].dtype.kind == "f"]


def uniform(*shape: int, low: float = -2.0, high: float = 2.0, dtype: Any = np.float32) -> Callable:
    return lambda rng: rng.uniform(low, high, shape).astype(dtype)


def positive(*shape: int, low: float = 0.5, high: float = 2.0, dtype: Any = np.float32) -> Callable:
    return lambda rng: rng.uniform(low, high, shape).astype(dtype)


def away_from_zero(*shape: int, dtype: Any = np.float32) -> Callable:
    """Values in [-2, -0.5] or [0.5, 2]: safe for kinks at zero in numeric gradients."""
    def make(rng: np.random.Generator) -> np.ndarray:
        magnitude = rng.uniform(0.5, 2.0, shape)
        sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
        return (magnitude * sign).astype(dtype)

    return make


def integers(*shape: int, low: int = -5, high: int = 5, dtype: Any = np.int32) -> Callable:
    return lambda rng: rng.integers(low, high, shape).astype(dtype)


def booleans(*shape: int) -> Callable:
    return lambda rng: rng.random(shape) < 0.5


def distinct(*shape: int, dtype: Any = np.float32) -> Callable:
    """A permutation of well-separated values: no ties for max/min/sort gradients."""
    def make(rng: np.random.Generator) -> np.ndarray:
        n = int(np.prod(shape))
        return (rng.permutation(n).reshape(shape) * 0.37 - n * 0.15).astype(dtype)

    return make
