"""`tf.scatter_add`, `tf.scatter_sub` and `tf.scatter_update`: the ScatterAdd, ScatterSub and
ScatterUpdate ops, which add rows of `updates` into (or subtract them from, or put them in place of
the rows of) a TF1 reference variable at `indices` (repeated indices add up; for ScatterUpdate the
last one wins) and yield the variable's new value.

As in TF, indices outside [0, rows) fail the run with InvalidArgumentError
(`indices[1] = 5 is not in [0, 3)`), and a scalar `updates` is added at every index.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules
from caudal.ops._scatter import last_rows, rows_to_change, scatter_add_rows
from caudal.ops.variable_ops import bind_variable

__all__ = ["scatter_add", "scatter_sub", "scatter_update", "checked_rows"]


def _merge_dims(expected: TensorShape, updates: TensorShape) -> None:
    if expected.ndims is None or updates.ndims is None:
        return
    if expected.ndims != updates.ndims:
        raise ValueError(f"Shapes must be equal rank, but are {updates.ndims} and {expected.ndims}")
    for i, (e, u) in enumerate(zip(expected.as_list(), updates.as_list(), strict=True)):
        if e is not None and u is not None and e != u:
            raise ValueError(f"Dimension {i} in both shapes must be equal, but are {u} and {e}. Shapes are "
                             f"{_text(updates)} and {_text(expected)}.")


def _text(shape: TensorShape) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _scatter_infer(ctx: InferContext) -> list:
    ref = ctx.inputs[0]
    if not ref.dtype.is_ref_dtype:
        raise TypeError(f"'{ctx.type}' requires a variable (a reference) as its first input, got {ref.name}")
    _rules.check_dtype(ctx, 1, _rules.INDEX, "indices")
    if ctx.dtype(2) != ref.dtype.base_dtype:
        raise TypeError(f"Input 'updates' of '{ctx.type}' Op has type {ctx.dtype(2).name} that does not match "
                        f"type {ref.dtype.base_dtype.name} of argument 'ref'.")
    ref_shape, indices, updates = ref.shape, ctx.shape(1), ctx.shape(2)
    if updates.ndims != 0 and ref_shape.ndims is not None and indices.ndims is not None:
        if ref_shape.ndims == 0:
            raise ValueError("Shape must be at least rank 1 but is rank 0")
        _merge_dims(indices.concatenate(ref_shape[1:]), updates)
    return [(ref.dtype, ref_shape)]


def checked_rows(xp: Any, current: Any, indices: Any, updates: Any, op: Any) -> tuple[Any, Any]:
    """The flat indices (m,) after TF's range check, and updates as (m, ...) rows."""
    rows = current.shape[0]
    flat = xp.reshape(indices, (-1,))
    outside = np.flatnonzero((np.asarray(flat) < 0) | (np.asarray(flat) >= rows))
    if outside.size:
        i = int(outside[0])
        raise InvalidArgumentError(None, op, f"indices[{i}] = {int(np.asarray(flat)[i])} is not in [0, {rows})")
    row_shape = tuple(current.shape[1:])
    if np.ndim(updates) == 0:
        updates = xp.broadcast_to(updates, (flat.shape[0],) + row_shape)
    return flat, xp.reshape(updates, (flat.shape[0],) + row_shape)


def _scatter_kernel(sign: int) -> Any:
    """The portable kernel of ScatterAdd (sign 1) or ScatterSub (-1)."""
    def kernel(ctx: Any, indices: Any, updates: Any, *, var: str, op: Any) -> Any:
        xp = ctx.xp
        current = ctx.read(var)
        flat, rows = checked_rows(xp, current, indices, updates, op)
        total = scatter_add_rows(xp, rows, flat, current.shape[0])
        updated = current + total if sign > 0 else current - total
        ctx.write(var, updated)
        return updated

    return kernel


def _scatter_numpy(sign: int) -> Any:
    """The NumPy kernel of ScatterAdd (sign 1) or ScatterSub (-1): `np.add.at` / `np.subtract.at`, in
    place in the variable's array where the run may change it (`rows_to_change`)."""
    at = np.add.at if sign > 0 else np.subtract.at

    def kernel(ctx: Any, indices: Any, updates: Any, *, var: str, op: Any) -> Any:
        flat, rows = checked_rows(np, ctx.read(var), indices, updates, op)
        updated = rows_to_change(ctx, var, flat)
        at(updated, flat, rows)
        ctx.write(var, updated)
        return updated

    return kernel


for _op_type, _sign in (("ScatterAdd", 1), ("ScatterSub", -1)):
    register_op(_op_type, infer=_scatter_infer, kernel=_scatter_kernel(_sign),
                variants={"numpy": _scatter_numpy(_sign)}, grad=NOT_DIFFERENTIABLE, stateful=True,
                ref_inputs=(0,), bind=lambda op: {"var": bind_variable(op)["var"]})


def _scatter_update_kernel(ctx: Any, indices: Any, updates: Any, *, var: str, op: Any) -> Any:
    """ScatterUpdate: the rows at `indices` replaced by `updates` (of a repeated index, the last wins)."""
    xp = ctx.xp
    current = ctx.read(var)
    flat, rows = checked_rows(xp, current, indices, updates, op)
    if not flat.shape[0]:
        return current
    found = scatter_add_rows(xp, xp.ones((flat.shape[0],), dtype=current.dtype), flat, current.shape[0]) > 0
    found = xp.reshape(found, (current.shape[0],) + (1,) * (current.ndim - 1))
    updated = xp.where(found, last_rows(xp, rows, flat, current.shape[0]), current)
    ctx.write(var, updated)
    return updated


def _scatter_update_numpy(ctx: Any, indices: Any, updates: Any, *, var: str, op: Any) -> Any:
    flat, rows = checked_rows(np, ctx.read(var), indices, updates, op)
    updated = rows_to_change(ctx, var, flat)
    updated[flat] = rows
    ctx.write(var, updated)
    return updated


register_op("ScatterUpdate", infer=_scatter_infer, kernel=_scatter_update_kernel,
            variants={"numpy": _scatter_update_numpy}, grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0,),
            bind=lambda op: {"var": bind_variable(op)["var"]})


def _scatter(op_type: str, ref: Any, indices: Any, updates: Any, use_locking: bool, name: str | None) -> Tensor:
    from caudal.variables import _ref_tensor

    ref_t = _ref_tensor(ref)
    graph = ref_t.graph
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        indices_t = convert_to_tensor(indices, name="indices")
        updates_t = convert_to_tensor(updates, dtype_hint=ref_t.dtype.base_dtype, name="updates")
        return graph.create_op(op_type, [ref_t, indices_t, updates_t],
                               {"T": ref_t.dtype.base_dtype, "Tindices": indices_t.dtype.base_dtype,
                                "use_locking": bool(use_locking)}, scope)._outputs[0]


def scatter_add(ref: Any, indices: Any, updates: Any, use_locking: bool = False, name: str | None = None) -> Tensor:
    """`tf.scatter_add`: adds `updates` to the rows of variable `ref` at `indices`; yields the new
    value (a reference, as in TF1)."""
    return _scatter("ScatterAdd", ref, indices, updates, use_locking, name)


def scatter_sub(ref: Any, indices: Any, updates: Any, use_locking: bool = False, name: str | None = None) -> Tensor:
    """`tf.scatter_sub`: subtracts `updates` from the rows of variable `ref` at `indices`; yields the
    new value (a reference, as in TF1)."""
    return _scatter("ScatterSub", ref, indices, updates, use_locking, name)


def scatter_update(ref: Any, indices: Any, updates: Any, use_locking: bool = True, name: str | None = None) -> Tensor:
    """`tf.scatter_update`: replaces the rows of variable `ref` at `indices` with `updates`; yields the
    new value (a reference, as in TF1)."""
    return _scatter("ScatterUpdate", ref, indices, updates, use_locking, name)
