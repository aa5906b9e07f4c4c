"""Op patterns a plan runs as one call, with the values and errors of the separate ops.

A gradient that sums a broadcast result back to an input's shape, where the static shapes
cannot prove that nothing was broadcast (`sum_to_shape_of` in `caudal/ops/_broadcast.py`, e.g.
`x * y` with an unknown batch size), is the five ops

    sx = Shape(x); sg = Shape(grad); r = BroadcastGradientArgs(sx, sg)[0]
    result = Reshape(Sum(grad, r, keep_dims=False), sx)

which in the usual case, where the shapes agree, return `grad` itself. Inside a loop (the
gradient of an RNN cell has eight of them per time step) the five calls cost more than the
arithmetic around them. `broadcast_reductions` finds the patterns whose intermediate values
nothing else uses, and `broadcast_reduction_kernel` runs one as a single call: `grad` itself
when both shapes are equal and hold no 1 (where the five ops return it unchanged too), else
the same five kernels in turn, so values, dtypes and errors are the same.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor

__all__ = ["broadcast_reductions", "broadcast_reduction_kernel"]

# (Shape of x, Shape of grad, BroadcastGradientArgs, Sum): the ops a fused Reshape absorbs.
Parts = tuple[Operation, Operation, Operation, Operation]


def broadcast_reductions(ops: list[Operation], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...]
                         ) -> dict[Operation, Parts]:
    """The Reshape ops of `ops` (a pruned plan) that end a broadcast reduction, with the ops they
    absorb: only where those ops are used by nothing else in the plan, are neither fetched nor
    fed, and take part in no control dependency."""
    members = set(ops)
    fed = set(feeds)
    fetched = {f._op if isinstance(f, Tensor) else f for f in fetches}

    def users(t: Tensor) -> set[Operation]:
        return {c for c in t._consumers if c in members}

    found: dict[Operation, Parts] = {}
    for reshape in ops:
        if reshape._type != "Reshape" or reshape._control_inputs or len(reshape._inputs) != 2:
            continue
        summed, shape_x_out = reshape._inputs
        total, shape_x = summed._op, shape_x_out._op
        if total._type != "Sum" or shape_x._type != "Shape" or total._attrs.get("keep_dims"):
            continue
        grad, axes = total._inputs
        bga = axes._op
        if bga._type != "BroadcastGradientArgs" or axes._value_index != 0 or bga._inputs[0] is not shape_x_out:
            continue
        shape_g = bga._inputs[1]._op
        if shape_g._type != "Shape" or shape_g._inputs[0] is not grad:
            continue
        parts = (shape_x, shape_g, bga, total)
        if any(p not in members or p in fetched or p._control_inputs or p._control_outputs
               or any(t in fed for t in p._outputs) for p in parts):
            continue
        if (users(shape_x_out) != {bga, reshape} or users(shape_g._outputs[0]) != {bga}
                or users(bga._outputs[0]) != {total} or users(bga._outputs[1]) or users(summed) != {reshape}):
            continue
        found[reshape] = parts
    return found


def broadcast_reduction_kernel(parts: Parts, reshape: Operation, kernel_of: Callable[[Operation], Callable]
                               ) -> Callable[[Any, Any, Any], Any]:
    """One call `(xp, grad, x) -> result` for a pattern `broadcast_reductions` found, running the
    kernels `kernel_of` binds for its ops."""
    shape_x, shape_g, bga, total = parts
    shape_x_kernel, shape_g_kernel = kernel_of(shape_x), kernel_of(shape_g)
    bga_kernel, sum_kernel, reshape_kernel = kernel_of(bga), kernel_of(total), kernel_of(reshape)
    shape_x_kwargs = shape_x._op_def.kernel_kwargs(shape_x)
    shape_g_kwargs = shape_g._op_def.kernel_kwargs(shape_g)
    bga_kwargs = bga._op_def.kernel_kwargs(bga)
    sum_kwargs = total._op_def.kernel_kwargs(total)
    reshape_kwargs = reshape._op_def.kernel_kwargs(reshape)

    def reduce_to_shape_of(xp: Any, grad: Any, x: Any) -> Any:
        if type(grad) is np.ndarray and type(x) is np.ndarray and grad.shape == x.shape and 1 not in grad.shape:
            return grad  # no axis to sum: Sum and Reshape return their input
        sx = shape_x_kernel(xp, x, **shape_x_kwargs)
        axes = bga_kernel(xp, sx, shape_g_kernel(xp, grad, **shape_g_kwargs), **bga_kwargs)[0]
        return reshape_kernel(xp, sum_kernel(xp, grad, axes, **sum_kwargs), sx, **reshape_kwargs)

    return reduce_to_shape_of
