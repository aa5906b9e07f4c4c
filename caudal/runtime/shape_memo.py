"""Values a plan computes from tensor shapes alone, remembered per shape.

Gradients compute many small values from the shapes of the forward pass's tensors: the gradient of
`reduce_mean` takes the input's Size, casts it, divides, reshapes and broadcasts it, seven kernel
calls on every step for a value that changes only when the batch size does. TF's Grappler folds
such chains where the shapes are static; a plan of caudal remembers them per runtime shape instead:
an op is *shape-derived* when it is Shape, Size, Rank or ShapeN, or a pure op whose inputs are
constants and shape-derived values. Each such call becomes

    t47 = m110[u1] if (u1 := t44.shape) in m110 else remember(m110, u1, k110(xp, t46, ...))

so a step with a shape seen before makes a dictionary lookup where it made a call. The key is the
shapes of the tensors the value derives from, as the Shape kernel reads them (NumPy's `np.shape`).
Remembered arrays are made read-only and no call writes into them (the plan never lets an in-place
kernel take a value that is not a fresh kernel result, see `plan._donate_buffers`); a fetched one
is copied as every fetched array is. Large results (`tf.zeros(tf.shape(x))`) are computed on each
run and not kept.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor

__all__ = ["SHAPE_OPS", "ShapeKeys", "remember"]

# Ops whose outputs depend on their inputs' shapes alone.
SHAPE_OPS = frozenset(["Shape", "Size", "Rank", "ShapeN"])
# Arrays of more values than this are not remembered.
MAX_REMEMBERED_SIZE = 1024
# A plan's call remembers values for at most this many different shapes; then it starts again.
MAX_SHAPES = 64


def remember(memo: dict, key: Any, value: Any) -> Any:
    """`value` (a kernel's result, a tuple for several outputs), kept in `memo` under `key` when all
    its parts are small NumPy values (arrays made read-only); returns it."""
    parts = value if type(value) is tuple else (value,)
    for part in parts:
        if isinstance(part, np.ndarray):
            if part.size > MAX_REMEMBERED_SIZE:
                return value
        elif not isinstance(part, (np.generic, int, float, bool)):
            return value
    for part in parts:
        if isinstance(part, np.ndarray):
            part.flags.writeable = False
    if len(memo) >= MAX_SHAPES:
        memo.clear()
    memo[key] = value
    return value


class ShapeKeys:
    """For one plan: which tensors are shape-derived (and from which tensors' shapes), and the names
    of the shape keys its lines define."""

    def __init__(self, env: dict[str, Any]) -> None:
        self.env = env
        self.sources: dict[Tensor, frozenset[Tensor]] = {}  # shape-derived tensor -> tensors whose shapes give it
        self.key_names: dict[Tensor, str] = {}  # source tensor -> the name its shape is kept in

    def sources_of(self, op: Operation, args: list[str]) -> frozenset[Tensor] | None:
        """The tensors whose shapes alone give `op`'s outputs, or None when they depend on more.
        `args` are the names of its inputs' values (constants are named `c...`)."""
        if op._type in SHAPE_OPS:
            return frozenset(op._inputs) if op._inputs else None
        found: set[Tensor] = set()
        for t, name in zip(op._inputs, args, strict=True):
            derived = self.sources.get(t)
            if derived is not None:
                found |= derived
            elif not (name.startswith("c") and name in self.env):
                return None
        return frozenset(found) if found else None

    def call_line(self, op: Operation, sources: frozenset[Tensor], value_names: dict[Tensor, str],
                  target: str, call: str) -> str:
        """The plan line that gives `target` (the op's output names) from the memo of `op`'s call,
        making the call where this shape was not seen; defines the keys it is the first to use."""
        self.env.setdefault("remember", remember)
        self.env.setdefault("ndarray", np.ndarray)
        self.env.setdefault("np_shape", np.shape)
        memo = f"m{op._id}"
        self.env[memo] = {}
        plain, first = [], []
        for source in sorted(sources, key=lambda t: value_names[t]):
            name = self.key_names.get(source)
            if name is None:
                name = self.key_names[source] = f"u{len(self.key_names)}"
                value = value_names[source]
                first.append(f"({name} := ({value}.shape if type({value}) is ndarray else np_shape({value})))")
            else:
                first.append(name)
            plain.append(name)
        key = plain[0] if len(plain) == 1 else f"({', '.join(plain)})"
        test = first[0] if len(first) == 1 else f"({', '.join(first)})"
        for t in op._outputs:
            self.sources[t] = sources
        return f"{target} = {memo}[{key}] if {test} in {memo} else remember({memo}, {key}, {call})"
