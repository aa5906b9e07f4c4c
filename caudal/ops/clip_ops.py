"""Clipping: `clip_by_value`, `clip_by_norm`, `global_norm`, `clip_by_global_norm`, `clip_by_average_norm`.

Built from public ops, as TF 2.x builds them: `clip_by_value` is
`maximum(minimum(t, max), min)`, so its gradient is Minimum's and Maximum's
(a value equal to a bound still gets the gradient; values beyond get zero).
No new op types. An IndexedSlices (a gather's gradient) is clipped through its
rows and stays an IndexedSlices; norms count its rows as they are (a repeated
index's rows are not summed first), as in TF.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import name_scope
from caudal.framework.indexed_slices import IndexedSlices
from caudal.framework.tensor import Tensor

__all__ = ["clip_by_value", "clip_by_norm", "global_norm", "clip_by_global_norm", "clip_by_average_norm"]


def clip_by_value(t: Any, clip_value_min: Any, clip_value_max: Any, name: str | None = None) -> Tensor:
    """min(max(t, clip_value_min), clip_value_max), elementwise; the bounds broadcast but must not grow `t`."""
    from caudal.ops.math_ops import maximum, minimum

    with name_scope(name, "clip_by_value", [t, clip_value_min, clip_value_max]) as scope:
        values = convert_to_tensor(_rows(t), name="t")
        t_min = minimum(values, clip_value_max)
        _check_same_shape(values, t_min)
        t_max = maximum(t_min, clip_value_min, name=scope)
        _check_same_shape(values, t_max)
        return _like(t, t_max)


def _rows(t: Any) -> Any:
    """An IndexedSlices' rows, or `t`."""
    return t.values if isinstance(t, IndexedSlices) else t


def _like(t: Any, values: Tensor) -> Any:
    """`values` as an IndexedSlices with `t`'s indices where `t` is one."""
    return IndexedSlices(values, t.indices, t.dense_shape) if isinstance(t, IndexedSlices) else values


def _check_same_shape(values: Tensor, clipped: Tensor) -> None:
    if not values.shape.is_compatible_with(clipped.shape):
        raise ValueError(f"Shapes {values.shape} and {clipped.shape} are incompatible")


def clip_by_norm(t: Any, clip_norm: Any, axes: Any = None, name: str | None = None) -> Tensor:
    """t * clip_norm / max(l2norm(t, axes), clip_norm): rescales so the L2 norm (over `axes`) is <= clip_norm.

    A zero norm leaves `t` unchanged and its gradient finite, as in TF.
    """
    from caudal.ops.comparison_ops import greater, where
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.control_ops import identity
    from caudal.ops.math_ops import maximum, sqrt
    from caudal.ops.reduction_ops import reduce_sum

    with name_scope(name, "clip_by_norm", [t, clip_norm]) as scope:
        values = convert_to_tensor(_rows(t), name="t")
        l2sum = reduce_sum(values * values, axes, keepdims=True)
        positive = greater(l2sum, 0)
        l2sum_safe = where(positive, l2sum, ones_like(l2sum))
        l2norm = where(positive, sqrt(l2sum_safe), l2sum)
        intermediate = values * clip_norm
        _check_same_shape(values, intermediate)
        return _like(t, identity(intermediate / maximum(l2norm, clip_norm), name=scope))


def _as_list(t_list: Any) -> list[Any]:
    if isinstance(t_list, (str, bytes)) or not isinstance(t_list, Sequence):
        raise TypeError("t_list should be a sequence")
    return list(t_list)


def global_norm(t_list: Any, name: str | None = None) -> Tensor:
    """sqrt(sum of squares of every element of every tensor in `t_list`); None entries are skipped."""
    from caudal.ops.array_ops import stack
    from caudal.ops.math_ops import sqrt
    from caudal.ops.reduction_ops import reduce_sum

    t_list = _as_list(t_list)
    with name_scope(name, "global_norm", [t for t in t_list if t is not None]):
        values = [convert_to_tensor(_rows(t), name=f"t_{i}") if t is not None else None
                  for i, t in enumerate(t_list)]
        sums = [reduce_sum(v * v) for v in values if v is not None]
        if not sums:
            raise ValueError("global_norm needs at least one tensor that is not None")
        total = reduce_sum(stack(sums))
        return sqrt(total, name="global_norm")


def clip_by_global_norm(t_list: Any, clip_norm: Any, use_norm: Any = None,
                        name: str | None = None) -> tuple[list[Any], Tensor]:
    """Scales every tensor by clip_norm / max(global_norm, clip_norm); returns (clipped list, global norm).

    None entries stay None. An infinite or NaN norm makes every clipped value NaN, as in TF.
    """
    from caudal.ops.control_ops import identity
    from caudal.ops.math_ops import cast, minimum

    t_list = _as_list(t_list)
    if use_norm is None:
        use_norm = global_norm(t_list, name)
    with name_scope(name, "clip_by_global_norm", [t for t in t_list if t is not None] + [clip_norm]) as scope:
        use_norm = convert_to_tensor(use_norm)
        clip_norm = convert_to_tensor(clip_norm, dtype=use_norm.dtype.base_dtype, name="clip_norm") \
            if not isinstance(clip_norm, Tensor) else clip_norm
        scale_for_finite = clip_norm * minimum(1.0 / use_norm, 1.0 / clip_norm)
        # (use_norm - use_norm) is 0 for a finite norm and NaN otherwise.
        scale = scale_for_finite + (use_norm - use_norm)
        values = [convert_to_tensor(_rows(t), name=f"t_{i}") if t is not None else None
                  for i, t in enumerate(t_list)]
        # TF names these `<scope>/<scope>/_<i>`; caudal's name check refuses "/_", so `<scope>/<scope>_<i>`.
        base = scope[:-1].rsplit("/", 1)[-1]
        clipped: list[Any] = []
        for i, v in enumerate(values):
            if v is None:
                clipped.append(None)
                continue
            clipped.append(_like(t_list[i], identity(v * cast(scale, v.dtype.base_dtype), name=f"{base}_{i}")))
        return clipped, use_norm


def clip_by_average_norm(t: Any, clip_norm: Any, name: str | None = None) -> Tensor:
    """t * clip_norm / max(l2norm(t) / size(t), clip_norm): clips the L2 norm divided by the element count."""
    from caudal.ops.array_ops import range as range_
    from caudal.ops.array_ops import rank, size
    from caudal.ops.control_ops import identity
    from caudal.ops.math_ops import cast, minimum, rsqrt
    from caudal.ops.reduction_ops import reduce_sum

    with name_scope(name, "clip_by_average_norm", [t, clip_norm]) as scope:
        values = convert_to_tensor(t, name="t")
        n_element = cast(size(values), dtypes_lib.float32)
        l2norm_inv = rsqrt(reduce_sum(values * values, range_(rank(values))))
        return identity(values * clip_norm * minimum(l2norm_inv * n_element, 1.0 / clip_norm), name=scope)
