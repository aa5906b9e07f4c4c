"""fast_cpu kernels of the ops that add rows at indices: ScatterAdd, ScatterSub and UnsortedSegmentSum
(the sum of an IndexedSlices' rows, and so of a deduplicated embedding gradient).

NumPy runs them with `np.add.at`, which costs about 5 ns a value (a word2vec step's three
scatters of 128-row gradients into 128-wide tables: about 0.3 ms of a 0.65 ms step). Here one
numba loop adds the rows in order on one thread (`loops.add_rows_at`), so repeated indices add up in
the same order and the values are NumPy's to the bit. The kernels take `loops`' two helpers as
arguments (`variants(add_rows_at, numpy_scatter)`) so that this module imports nothing of it: until
numba is loaded (`loops.LOAD_SECONDS`), and for anything but float32, the NumPy variants run,
their time counting towards loading it.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from caudal.framework.registry import get_op_def
from caudal.ops._scatter import rows_to_change
from caudal.ops.state_ops import checked_rows

__all__ = ["variants"]

_F32 = np.dtype(np.float32)


def _scatter(op_type: str, sign: float, add_rows_at: Callable, numpy_scatter: Callable) -> Callable:
    """ScatterAdd (sign 1) or ScatterSub (-1): TF's checks, then the rows added in place where the run
    may change the variable (`rows_to_change`)."""
    numpy_kernel = get_op_def(op_type).variants["numpy"]
    at = np.add.at if sign > 0 else np.subtract.at

    def kernel(ctx: Any, indices: Any, updates: Any, *, var: str, op: Any) -> Any:
        current = ctx.read(var)
        if type(current) is not np.ndarray or current.dtype != _F32 or np.asarray(updates).dtype != _F32:
            del current
            return numpy_scatter(numpy_kernel, ctx, indices, updates, var=var, op=op)
        flat, rows = checked_rows(np, current, indices, updates, op)
        del current  # (a reference held here would make the variable look shared to `rows_to_change`)
        target = rows_to_change(ctx, var, flat)
        width = math.prod(target.shape[1:])
        matrix = target.reshape(target.shape[0], width) if target.flags.c_contiguous else None
        if matrix is None or not add_rows_at(matrix, flat, np.ascontiguousarray(rows.reshape(flat.size, width)),
                                             sign):
            numpy_scatter(at, target, flat, rows)
        ctx.write(var, target)
        return target

    return kernel


def _unsorted_segment_sum(add_rows_at: Callable, numpy_scatter: Callable) -> Callable:
    """UnsortedSegmentSum: rows whose id is outside [0, num_segments) are dropped, as TF's CPU kernel does."""
    numpy_kernel = get_op_def("UnsortedSegmentSum").variants["numpy"]

    def kernel(xp: Any, data: Any, segment_ids: Any, num_segments: Any) -> Any:
        n = int(num_segments)
        if type(data) is not np.ndarray or data.dtype != _F32 or n < 0 or segment_ids.ndim == 0:
            return numpy_scatter(numpy_kernel, xp, data, segment_ids, num_segments)
        ids = segment_ids.reshape(-1)
        width = math.prod(data.shape[segment_ids.ndim:])
        rows = np.ascontiguousarray(data.reshape((ids.size, width)))
        out = np.zeros((n, width), _F32)
        if not add_rows_at(out, ids, rows, 1.0):
            return numpy_scatter(numpy_kernel, xp, data, segment_ids, num_segments)
        return out.reshape((n,) + data.shape[segment_ids.ndim:])

    return kernel


def variants(add_rows_at: Callable, numpy_scatter: Callable) -> dict[str, Callable]:
    """{op type: fast_cpu kernel}, over `loops.add_rows_at` and `loops.numpy_scatter`."""
    return {"ScatterAdd": _scatter("ScatterAdd", 1.0, add_rows_at, numpy_scatter),
            "ScatterSub": _scatter("ScatterSub", -1.0, add_rows_at, numpy_scatter),
            "UnsortedSegmentSum": _unsorted_segment_sum(add_rows_at, numpy_scatter)}
