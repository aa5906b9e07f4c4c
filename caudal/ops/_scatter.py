"""Portable scatters: sums and picks of rows by index, with no write into any array.

The array API has no scatter (NumPy writes with `np.add.at`, jax with
`.at[].add`), so the portable kernels of UnsortedSegmentSum, SegmentSum,
ScatterNd and DynamicStitch select rows by comparing ids with the slot
numbers: an (n, m) table of which of m rows goes to which of n slots. That
costs n*m*row_size work and memory, fine for a reference; the NumPy backend
runs `np.add.at` variants, and a compiled backend registers its own scatter.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _slots(xp: Any, ids: Any, n: int, row_ndim: int) -> Any:
    """(n, m, 1, ...) booleans: whether row j goes to slot i (ids outside [0, n) go nowhere)."""
    hit = ids[None, :] == xp.arange(n, dtype=ids.dtype)[:, None]
    return hit.reshape(hit.shape + (1,) * row_ndim)


def scatter_add_rows(xp: Any, rows: Any, ids: Any, n: int) -> Any:
    """(n, ...) sums: slot i holds the sum of the rows (m, ...) whose id (m,) is i; zeros where none."""
    hit = _slots(xp, ids, n, rows.ndim - 1)
    return xp.sum(xp.where(hit, rows[None], xp.zeros_like(rows[None])), axis=1, dtype=rows.dtype)


def last_rows(xp: Any, rows: Any, ids: Any, n: int) -> Any:
    """(n, ...): slot i holds the last of the rows (m, ...) whose id (m,) is i; zeros where none."""
    m = ids.shape[0]
    if m == 0:
        return xp.zeros((n,) + rows.shape[1:], dtype=rows.dtype)
    hit = ids[None, :] == xp.arange(n, dtype=ids.dtype)[:, None]
    last = (m - 1) - xp.argmax(hit[:, ::-1], axis=1)
    found = xp.any(hit, axis=1).reshape((n,) + (1,) * (rows.ndim - 1))
    picked = xp.take(rows, last, axis=0)
    return xp.where(found, picked, xp.zeros_like(picked))


def place_distinct(xp: Any, values: Any, positions: Any, size: int) -> Any:
    """(size,) zeros holding values[j] (m,) at positions[j] (m distinct ints in [0, size)): each
    position looks its value up in the sorted positions, so there is no n*m table."""
    m = positions.shape[0]
    zeros = xp.zeros((size,), dtype=values.dtype)
    if m == 0:
        return zeros
    order = xp.argsort(positions)
    sorted_positions = xp.take(positions, order)
    everywhere = xp.arange(size, dtype=sorted_positions.dtype)
    slot = xp.clip(xp.searchsorted(sorted_positions, everywhere), 0, m - 1)
    found = xp.take(sorted_positions, slot) == everywhere
    return xp.where(found, xp.take(values, xp.take(order, slot)), zeros)


def place_rows(xp: Any, full: Any, ids: Any, rows: Any) -> Any:
    """(n, ...) `full` with its row ids[j] replaced by rows[j] (m distinct ids in [0, n), m >= 1)."""
    n = full.shape[0]
    hit = ids[None, :] == xp.arange(n, dtype=ids.dtype)[:, None]
    found = xp.any(hit, axis=1).reshape((n,) + (1,) * (full.ndim - 1))
    picked = xp.take(rows, xp.argmax(hit, axis=1), axis=0)
    return xp.where(found, picked, full)


def rows_to_change(ctx: Any, name: str, rows: np.ndarray) -> np.ndarray:
    """The array of variable `name` in which a NumPy kernel changes the rows `rows` in place: the
    variable's own where `ctx.writable` allows (its old rows logged, to be put back if the run fails),
    else a copy. The caller holds no reference to the variable's value when it calls this."""
    writable = getattr(ctx, "writable", None)
    array = writable(name) if writable is not None else None
    if array is None:
        return np.array(ctx.read(name), copy=True)
    old = array[rows]  # (a repeated row is saved, and put back, more than once: with the same values)
    ctx.on_rollback(lambda: array.__setitem__(rows, old))
    return array
