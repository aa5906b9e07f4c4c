"""Reductions built from other ops: reduce_logsumexp and count_nonzero.

Both take TF1's legacy spellings (`reduction_indices`, `keep_dims`) and build the
same kind of subgraph as TensorFlow (Max/IsFinite/SelectV2/StopGradient/Sub/Exp/Sum/
Log/AddV2 for logsumexp; NotEqual/Cast/Sum for count_nonzero).
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor
from caudal.ops.reduction_ops import _resolve_axis, reduce_max, reduce_sum

__all__ = ["reduce_logsumexp", "count_nonzero"]


def reduce_logsumexp(input_tensor: Any, axis: Any = None, keepdims: Any = None, name: str | None = None,
                     reduction_indices: Any = None, keep_dims: Any = None) -> Tensor:
    """log(sum(exp(x))) over `axis`, computed stably around the (finite) maximum.

    As in TF: the shift by the maximum is held constant for the gradient, infinite maxima
    are replaced by 0 (so all -inf gives -inf and any +inf gives +inf), and an empty
    reduction gives -inf.
    """
    from caudal.ops.array_ops import reshape, shape
    from caudal.ops.comparison_ops import where_v2
    from caudal.ops.constant_ops import zeros_like
    from caudal.ops.control_ops import stop_gradient
    from caudal.ops.math_ops import add, exp, log, subtract
    from caudal.ops.special_math_ops import is_finite

    axis, keep = _resolve_axis(axis, reduction_indices, keepdims, keep_dims)
    with get_default_graph().name_scope(name or "ReduceLogSumExp") as scope:
        x = convert_to_tensor(input_tensor, name="input_tensor")
        raw_max = reduce_max(x, axis=axis, keepdims=True)
        shift = stop_gradient(where_v2(is_finite(raw_max), raw_max, zeros_like(raw_max)))
        result = log(reduce_sum(exp(subtract(x, shift)), axis=axis, keepdims=keep))
        if not keep:
            target = result.shape.as_list() if result.shape.is_fully_defined() else shape(result)
            shift = reshape(shift, target)
        return add(result, shift, name=scope[:-1] + "/")


def count_nonzero(input_tensor: Any = None, axis: Any = None, keepdims: Any = None, dtype: Any = dtypes_lib.int64,
                  name: str | None = None, reduction_indices: Any = None, keep_dims: Any = None,
                  input: Any = None) -> Tensor:  # noqa: A002 - TF's legacy name
    """The number of non-zero (for bool: true; for strings: non-empty) entries over `axis`,
    counted in int64 and returned as `dtype` (default int64), as in TF."""
    from caudal.ops.comparison_ops import not_equal
    from caudal.ops.math_ops import cast

    if input_tensor is not None and input is not None:
        raise ValueError("Cannot specify both 'input_tensor' and 'input'.")
    input_tensor = input if input_tensor is None else input_tensor
    axis, keep = _resolve_axis(axis, reduction_indices, keepdims, keep_dims)
    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    with get_default_graph().name_scope(name or "count_nonzero"):
        x = convert_to_tensor(input_tensor, name="input")
        if x.dtype.base_dtype == dtypes_lib.bool_:
            flags = cast(x, dtypes_lib.int64)
        else:
            zero = b"" if x.dtype.base_dtype == dtypes_lib.string else 0
            zeros = convert_to_tensor(zero, dtype=x.dtype.base_dtype, name="zeros")
            flags = cast(not_equal(x, zeros), dtypes_lib.int64)
        return cast(reduce_sum(flags, axis=axis, keepdims=keep), dtype)
