"""Kernels the jax backend runs in place of portable kernels that cannot be traced, or trace badly.

`install()` (called when the backend is first made) adds them to the op
definitions as `variants["jax"]`; each takes the portable kernel's
parameters and gives its results. Run-time checks that a NumPy kernel makes
with `if` on values (an index out of range, a failed assertion) are recorded
with `jax_trace.current_trace().check(...)`: the compiled function returns a
flag, and a run whose flag is set raises the NumPy kernel's error and
changes nothing.
"""
from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from caudal import errors
from caudal.backends.jax_trace import current_trace, is_static
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.registry import get_op_def

__all__ = ["install", "VARIANTS"]

VARIANTS: dict[str, Any] = {}


def variant(*op_types: str) -> Any:
    def register(fn: Any) -> Any:
        for op_type in op_types:
            VARIANTS[op_type] = fn
        return fn

    return register


def install() -> None:
    """Adds every variant to its op definition (once; loading lazily registered op families)."""
    if "Conv2D" not in VARIANTS:
        _install_conv()
    for op_type, fn in VARIANTS.items():
        op_def = get_op_def(op_type)
        op_def.variants.setdefault("jax", fn)


# ------------------------------------------------------------------ random
@variant("TruncatedNormal")
def _truncated_normal(ctx: Any, shape: Any, *, dtype: dtypes_lib.DType, op: Any) -> Any:
    draw = jnp.float64 if dtype is dtypes_lib.float64 else jnp.float32
    dims = tuple(int(d) for d in shape)
    return ctx.random_stream(op).truncated_normal(dims, draw).astype(dtype.as_numpy_dtype)


# --------------------------------------------------------------- variables
@variant("IsVariableInitialized")
def _is_variable_initialized(ctx: Any, *, var: str) -> Any:
    """Known when the plan is compiled (which variables have values is part of its signature), so a
    tf.cond on it routes statically and its untaken branch reads nothing."""
    return np.asarray(ctx.has(var))


# ------------------------------------------------------------------ checks
@variant("Assert")
def _assert(ctx: Any, condition: Any, *data: Any, summarize: int, op: Any) -> None:
    from caudal.ops.cond_ops import _assert_kernel

    def make_error(*values: Any) -> Exception:
        try:
            _assert_kernel(None, False, *values, summarize=summarize, op=op)
        except Exception as e:  # noqa: BLE001 - the NumPy kernel's own error
            return e
        raise AssertionError("unreachable")

    _check(_xp(condition).logical_not(_xp(condition).all(condition)), make_error, *data)


# ------------------------------------------------------------- helpers
def _xp(*values: Any) -> Any:
    """NumPy when every value is known while tracing, else jax.numpy."""
    return np if all(is_static(v) for v in values) else jnp


def _stand_in(value: Any) -> Any:
    """A zero-cost NumPy array of `value`'s shape and dtype, for a NumPy kernel that reads only
    its shape to word an error."""
    return np.broadcast_to(np.zeros((), np.dtype(value.dtype)), value.shape)


def _numpy_error(op_type: str, *args: Any, **kwargs: Any) -> Exception:
    """The error op_type's portable kernel raises for these NumPy arguments."""
    try:
        with np.errstate(all="ignore"):
            get_op_def(op_type).kernel(np, *args, **kwargs)
    except Exception as e:  # noqa: BLE001 - the NumPy kernel's own error
        return e
    return errors.InternalError(None, None, f"The jax kernel of {op_type} found an error its NumPy kernel does not")


def _check(bad: Any, make_error: Any, *payload: Any) -> None:
    """Raises now when `bad` is known (while tracing, or outside any trace); else the run checks it."""
    trace = current_trace()
    if is_static(bad) and not bool(bad):
        return
    if trace is None or (is_static(bad) and all(is_static(p) for p in payload)):
        if bool(bad):
            raise make_error(*[np.asarray(p) for p in payload])
        return
    trace.check(bad, make_error, *payload)


def _needs_static(value: Any, what: str) -> Any:
    if not is_static(value):
        raise TypeError(f"{what} must be known when the plan is compiled")
    return np.asarray(value)


# -------------------------------------------------------- gather, scatter
@variant("GatherV2")
def _gather(xp: Any, params: Any, indices: Any, axis: Any, *, batch_dims: int) -> Any:
    a = int(_needs_static(axis, "the axis")) % params.ndim
    size = params.shape[a]
    ops = _xp(indices)
    _check(ops.any((indices < 0) | (indices >= size)),
           lambda i: _numpy_error("GatherV2", _stand_in(params), i, np.asarray(axis), batch_dims=batch_dims),
           indices)
    b = batch_dims + indices.ndim if batch_dims < 0 else batch_dims
    if not b:
        return jnp.take(params, indices, axis=a, mode="clip")
    # TF's batch_dims: one gather per position of the first b dimensions params and indices share
    batch = params.shape[:b]
    out_rest = params.shape[b:a] + indices.shape[b:] + params.shape[a + 1:]
    if not math.prod(batch):
        return jnp.zeros(batch + out_rest, params.dtype)
    flat_params = jnp.reshape(params, (-1,) + params.shape[b:])
    flat_indices = jnp.reshape(indices, (-1,) + indices.shape[b:])
    parts = jax.vmap(lambda p, i: jnp.take(p, i, axis=a - b, mode="clip"))(flat_params, flat_indices)
    return jnp.reshape(parts, batch + out_rest)


@variant("GatherNd")
def _gather_nd(xp: Any, params: Any, indices: Any) -> Any:
    k = indices.shape[-1]
    if k > params.ndim:
        raise _numpy_error("GatherNd", _stand_in(params), _stand_in(indices))
    flat = indices.reshape(math.prod(indices.shape[:-1]), k)
    ops = _xp(indices)
    limits = np.asarray(params.shape[:k], np.int64)
    _check(ops.any((flat < 0) | (flat >= limits)), lambda i: _numpy_error("GatherNd", _stand_in(params), i),
           indices)
    if k == 0:
        rows = jnp.broadcast_to(params[None], (flat.shape[0],) + params.shape)
    else:
        rows = params[tuple(jnp.clip(flat[:, d], 0, params.shape[d] - 1) for d in range(k))]
    return jnp.reshape(rows, indices.shape[:-1] + params.shape[k:])


@variant("ScatterNd")
def _scatter_nd(xp: Any, indices: Any, updates: Any, shape: Any) -> Any:
    out_shape = tuple(int(d) for d in _needs_static(shape, "the shape"))
    k = indices.shape[-1]
    if updates.shape != indices.shape[:-1] + out_shape[k:]:
        raise _numpy_error("ScatterNd", _stand_in(indices), _stand_in(updates), np.asarray(shape))
    flat = indices.reshape(math.prod(indices.shape[:-1]), k)
    ops = _xp(indices)
    limits = np.asarray(out_shape[:k], np.int64)
    _check(ops.any((flat < 0) | (flat >= limits)),
           lambda i: _numpy_error("ScatterNd", i, _stand_in(updates), np.asarray(shape)), indices)
    rows = jnp.reshape(updates, (flat.shape[0],) + out_shape[k:])
    if k == 0:
        return jnp.sum(rows, axis=0, dtype=rows.dtype)
    return jnp.zeros(out_shape, updates.dtype).at[tuple(flat[:, d] for d in range(k))].add(rows, mode="drop")


@variant("UnsortedSegmentSum")
def _unsorted_segment_sum(xp: Any, data: Any, segment_ids: Any, num_segments: Any) -> Any:
    """Rows with an id outside [0, num_segments) are dropped, as TF's CPU kernel does."""
    n = int(_needs_static(num_segments, "num_segments"))
    ids = segment_ids.reshape(-1)
    flat = jnp.reshape(data, (ids.shape[0],) + data.shape[segment_ids.ndim:])
    ids = jnp.where((ids >= 0) & (ids < n), ids, n)
    return jax.ops.segment_sum(flat, ids, num_segments=n + 1)[:n].astype(data.dtype)


@variant("SegmentSum")
def _segment_sum(xp: Any, data: Any, segment_ids: Any) -> Any:
    """The number of segments is a value: the ids must be known when the plan is compiled."""
    from caudal.ops.index_ops import _segment_count

    ids = _needs_static(segment_ids, "segment ids (the output's size)")
    count = _segment_count(np, _stand_in(data), ids)
    return jax.ops.segment_sum(data, jnp.asarray(ids), num_segments=count).astype(data.dtype)


@variant("DynamicStitch")
def _dynamic_stitch(xp: Any, *inputs: Any, N: int) -> Any:  # noqa: N803 - TF's attr name
    """Later entries win. The output's size is a value: the indices must be known when compiling."""
    from caudal.ops.index_ops import _stitch_operands

    indices = [_needs_static(i, "stitch indices (the output's size)") for i in inputs[:N]]
    data = inputs[N:]
    flat, _, count = _stitch_operands(np, tuple(indices) + tuple(_stand_in(d) for d in data), N)
    rest = data[0].shape[indices[0].ndim:]
    rows = jnp.concatenate([jnp.reshape(d, (-1,) + rest) for d in data])
    positions, last_in_reversed = np.unique(flat[::-1], return_index=True)
    source = np.zeros(count, np.int64)
    source[positions] = len(flat) - 1 - last_in_reversed
    found = np.zeros(count, bool)
    found[positions] = True
    picked = jnp.take(rows, source, axis=0) if len(flat) else jnp.zeros((count,) + rest, rows.dtype)
    mask = found.reshape((count,) + (1,) * len(rest))
    return jnp.where(mask, picked, jnp.zeros_like(picked))


# ------------------------------------------------------------- nn
@variant("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_xent(xp: Any, features: Any, labels: Any) -> tuple[Any, Any]:
    from caudal.ops.nn_loss_ops import _log_softmax_rows

    classes = features.shape[1]
    ops = _xp(labels)
    _check(ops.any((labels < 0) | (labels >= classes)),
           lambda lab: _numpy_error("SparseSoftmaxCrossEntropyWithLogits", _stand_in(features), lab), labels)
    log_probs = _log_softmax_rows(jnp, features)
    picked = jnp.take_along_axis(log_probs, jnp.clip(labels, 0, classes - 1)[:, None].astype(np.int64), axis=1)
    backprop = jnp.exp(log_probs) - (labels[:, None] == jnp.arange(classes)).astype(log_probs.dtype)
    return (-picked[:, 0]).astype(features.dtype), backprop.astype(features.dtype)


@variant("TopKV2")
def _top_k(xp: Any, input: Any, k: Any, *, index_type: Any) -> tuple:  # noqa: A002 - TF's input name
    """Largest first; equal values keep their original order (lower index first)."""
    k_value = int(_needs_static(k, "k"))
    n = input.shape[-1]
    if k_value < 0 or n < k_value:
        raise _numpy_error("TopKV2", _stand_in(input), np.asarray(k), index_type=index_type)
    if input.dtype.kind == "f" or input.dtype.kind in "iu":
        values, indices = lax.top_k(input, k_value)
        return values, indices.astype(index_type.as_numpy_dtype)
    raise TypeError(f"top_k of {input.dtype} on the jax backend")


# ------------------------------------------------------------- math
@variant("FloorDiv")
def _floor_div(xp: Any, x: Any, y: Any) -> Any:
    if np.dtype(x.dtype).kind in "iu":
        _check(_xp(y).any(y == 0), lambda: _numpy_error("FloorDiv", np.ones(1, x.dtype), np.zeros(1, y.dtype)))
        return jnp.floor_divide(x, jnp.where(y == 0, jnp.ones_like(y), y))
    return jnp.floor_divide(x, y)


@variant("CheckNumerics")
def _check_numerics(xp: Any, tensor: Any, *, message: Any) -> Any:
    has_nan, has_inf = jnp.any(jnp.isnan(tensor)), jnp.any(jnp.isinf(tensor))

    def make_error(nan: Any, inf: Any) -> Exception:
        witness = np.array([np.nan] * bool(nan) + [np.inf] * bool(inf), np.dtype(tensor.dtype))
        return _numpy_error("CheckNumerics", witness, message=message)

    _check(jnp.logical_or(has_nan, has_inf), make_error, has_nan, has_inf)
    return tensor


# ------------------------------------------------------- convolutions
def _install_conv() -> None:
    from caudal.backends import jax_conv
    from caudal.ops import conv_ops, pooling_ops

    for fwd, bin_, bfil, prefix in (("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "conv2d"),
                                    ("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
                                     "DepthwiseConv2dNativeBackpropFilter", "depthwise_conv2d")):
        VARIANTS[fwd] = conv_ops._forward_kernel(getattr(jax_conv, prefix))
        VARIANTS[bin_] = conv_ops._backprop_input_kernel(getattr(jax_conv, prefix + "_backprop_input"))
        VARIANTS[bfil] = conv_ops._backprop_filter_kernel(getattr(jax_conv, prefix + "_backprop_filter"))
    VARIANTS["MaxPool"] = pooling_ops._max_pool_kernel(jax_conv)
    VARIANTS["MaxPoolGrad"] = pooling_ops._max_pool_grad_kernel(jax_conv)
    VARIANTS["AvgPool"] = pooling_ops._avg_pool_kernel(jax_conv)
    VARIANTS["AvgPoolGrad"] = pooling_ops._avg_pool_grad_kernel(jax_conv)
