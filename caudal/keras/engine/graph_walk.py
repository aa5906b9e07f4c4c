"""Which ops depend on given tensors: Keras runs a layer's updates and losses only for the inputs they
depend on."""
from __future__ import annotations

from typing import Any

from caudal.framework.tensor import Tensor

__all__ = ["reachable_ops"]


def reachable_ops(tensors: Any) -> set:
    """Every op downstream of `tensors` (through data inputs and control edges)."""
    found: set = set()
    stack = [t.op for t in tensors if isinstance(t, Tensor)]
    stack += [consumer for t in tensors if isinstance(t, Tensor) for consumer in t.consumers()]
    while stack:
        op = stack.pop()
        if op in found:
            continue
        found.add(op)
        for output in op.outputs:
            stack.extend(output.consumers())
        stack.extend(op._control_outputs)
    return found
