"""oneDNN kernels of max and average pooling and their gradients, for the `fast_cpu` backend.

`VARIANTS` maps MaxPool, MaxPoolGrad, AvgPool and AvgPoolGrad (and the
workspace pair below) to kernels with the parameters of their NumPy variants
(`caudal.ops.pooling_ops`), NHWC or NCHW, SAME, VALID or (MaxPool) EXPLICIT
padding. They run oneDNN's pooling
primitives, as TensorFlow 2.21 does for these ops in a graph on an x86 CPU
(its `_MklNative*Pool*` kernels), so the results are TF's:

- MaxPool: each window starts from the lowest float32 and takes an element
  only when it is strictly greater, so a NaN is never taken and a window of
  NaN or -inf elements gives -3.4028235e38. MaxPoolGrad runs the forward
  pooling again to find each window's argmax (the first element of that
  rule; the window's first element when none is taken) and sends the
  gradient there. The NumPy variants follow TF's Eigen kernels instead, which
  TF runs when oneDNN is off and in constant folding: a NaN that comes first
  in its window wins there. Both agree wherever no window holds a NaN or only
  -inf.
- AvgPool divides by the count of real elements of each window, as TF.
- `_MaxPoolWithWorkspace` and `_MaxPoolGradWithWorkspace`, which a plan runs
  for a MaxPool and its MaxPoolGrad (`caudal.runtime.fusion.max_pool_pairs`),
  pass oneDNN's argmax workspace from the pooling to its gradient, which then
  does not pool x again; a workspace of the wrong size (NumPy's empty one) is
  never read. Where the windows tile the input (NHWC), the gradient is one
  numba pass over that workspace once numba is loaded
  (`loops.max_pool_grad_from_workspace`).

Everything else runs the op's NumPy variant: dtypes other than float32, empty
tensors, windows or strides over the batch or channels, shapes the geometry
rejects (so errors are the NumPy variant's). Non-contiguous inputs are copied
first. Plans are cached with the convolutions' (`onednn`), per shape and
thread count; a shape oneDNN cannot pool is remembered and runs on NumPy.
Results are fresh arrays the caller owns.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from caudal.backends.fast_cpu import loops, onednn
from caudal.backends.fast_cpu.onednn_lib import (
    ARG_DIFF_DST,
    ARG_DIFF_SRC,
    ARG_DST,
    ARG_SRC,
    ARG_WORKSPACE,
    POOLING_AVG_EXCLUDE_PADDING,
    POOLING_MAX,
    QUERY_DIFF_DST_MD,
    QUERY_DIFF_SRC_MD,
    QUERY_DST_MD,
    QUERY_SRC_MD,
    QUERY_WORKSPACE_MD,
    DnnlError,
    Library,
)
from caudal.framework import threads as thread_policy
from caudal.ops._conv_kernels import spatial_geometry
from caudal.ops.conv_ops import explicit_nhwc
from caudal.ops.pooling_ops import relu_max_pool_grad_of_kernels

__all__ = ["VARIANTS", "prepare", "SHAPE_ONLY"]

prepare = onednn.prepare
_numpy_variant = onednn.numpy_variant
_usable = onednn.usable
_relu_max_pool_grad_kernels = relu_max_pool_grad_of_kernels("fast_cpu", "numpy")


def _geometry(in_shape: Sequence[int], ksize: Sequence[int], strides: Sequence[int], padding: str,
              explicit_paddings: Sequence[int], data_format: str) -> tuple[tuple[int, ...], tuple] | None:
    """(the pooled shape, oneDNN's (strides, kernel, dilation, pad_l, pad_r)), or None when the window
    moves over the batch or channels or TF's geometry rejects the shapes."""
    if data_format not in ("NHWC", "NCHW") or len(ksize) != 4 or len(strides) != 4:
        return None
    h_axis = 1 if data_format == "NHWC" else 2
    c_axis = 3 if data_format == "NHWC" else 1
    if ksize[0] != 1 or ksize[c_axis] != 1 or strides[0] != 1 or strides[c_axis] != 1:
        return None
    k = (int(ksize[h_axis]), int(ksize[h_axis + 1]))
    s = (int(strides[h_axis]), int(strides[h_axis + 1]))
    in_hw = (in_shape[h_axis], in_shape[h_axis + 1])
    try:
        out_hw, ((top, _), (left, _)) = spatial_geometry(in_hw, k, s, (1, 1), padding,
                                                          explicit_nhwc(explicit_paddings, data_format))
    except ValueError:
        return None
    if min(out_hw) <= 0 or min(k) <= 0 or min(s) <= 0:
        return None
    # oneDNN's right padding is what makes (in + left + right - k) / s + 1 the pooled size
    right = tuple((o - 1) * st + kk - size - lo for o, st, kk, size, lo in zip(out_hw, s, k, in_hw, (top, left)))
    n, c = in_shape[0], in_shape[c_axis]
    out_shape = (n, *out_hw, c) if data_format == "NHWC" else (n, c, *out_hw)
    return out_shape, (s, k, (0, 0), (top, left), right)


def _md(lib: Library, shape: Sequence[int], data_format: str) -> Any:
    return lib.strided_md(*onednn.activation_layout(shape, data_format))


def _flops(elements: int) -> float:
    """The flops `onednn.run_plan` sizes threads by, for a memory-bound pass over `elements` values."""
    return float(elements * thread_policy.ELEMENT_FLOPS)


def _pool(op_type: str, algorithm: int, x: Any, attrs: dict) -> Any:
    found = _geometry(x.shape, attrs["ksize"], attrs["strides"], attrs["padding"],
                      attrs.get("explicit_paddings", ()), attrs["data_format"]) if _usable(x) else None
    if found is None:
        return _numpy_variant(op_type)(np, x, **attrs)
    out_shape, geometry = found
    data_format = attrs["data_format"]
    x = onednn.contiguous(x)
    y = np.empty(out_shape, np.float32)

    def build(lib: Library) -> onednn.Plan:
        x_md, y_md = _md(lib, x.shape, data_format), _md(lib, out_shape, data_format)
        primitive = lib.pooling_forward(algorithm, x_md.handle, y_md.handle, geometry)
        return onednn.Plan(lib, primitive, [(ARG_SRC, QUERY_SRC_MD, x_md, False),
                                            (ARG_DST, QUERY_DST_MD, y_md, True)])

    if not onednn.run_plan((op_type, x.shape, data_format, geometry), build, [x, y], _flops(x.size)):
        return _numpy_variant(op_type)(np, x, **attrs)
    return y


def max_pool(xp: Any, x: Any, *, ksize: list, strides: list, padding: str, explicit_paddings: list,
             data_format: str) -> Any:
    """MaxPool on oneDNN (see the module docstring for NaN and -inf)."""
    return _pool("MaxPool", POOLING_MAX, x, dict(ksize=ksize, strides=strides, padding=padding,
                                                  explicit_paddings=explicit_paddings, data_format=data_format))


def avg_pool(xp: Any, x: Any, *, ksize: list, strides: list, padding: str, data_format: str) -> Any:
    """AvgPool on oneDNN: window sums over the count of their real elements."""
    return _pool("AvgPool", POOLING_AVG_EXCLUDE_PADDING, x, dict(ksize=ksize, strides=strides, padding=padding,
                                                                  data_format=data_format))


def max_pool_grad(xp: Any, x: Any, y: Any, dy: Any, *, ksize: list, strides: list, padding: str,
                  explicit_paddings: list, data_format: str) -> Any:
    """MaxPoolGrad on oneDNN: the forward pooling of x finds each argmax again, the backward one sends
    dy there. `y` (the forward's result) is only checked for its shape."""
    attrs = dict(ksize=ksize, strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                 data_format=data_format)
    found = _geometry(x.shape, ksize, strides, padding, explicit_paddings, data_format) if _usable(x, y, dy) else None
    if found is None or y.shape != found[0] or dy.shape != found[0]:
        return _numpy_variant("MaxPoolGrad")(xp, x, y, dy, **attrs)
    out_shape, geometry = found
    x, dy = onednn.contiguous(x), onednn.contiguous(dy)
    dx = np.empty(x.shape, np.float32)

    def build(lib: Library) -> onednn.Plan:
        x_md, y_md = _md(lib, x.shape, data_format), _md(lib, out_shape, data_format)
        backward = lib.pooling_backward(POOLING_MAX, x_md.handle, y_md.handle, geometry)
        forward = lib.hinted_forward(backward)
        plan = onednn.Plan(lib)
        kept = plan.add(forward, [(ARG_SRC, QUERY_SRC_MD, x_md, False)],
                        private=[(ARG_DST, QUERY_DST_MD), (ARG_WORKSPACE, QUERY_WORKSPACE_MD)])
        plan.add(backward, [(ARG_DIFF_DST, QUERY_DIFF_DST_MD, y_md, False),
                            (ARG_DIFF_SRC, QUERY_DIFF_SRC_MD, x_md, True)],
                 shared={ARG_WORKSPACE: kept[ARG_WORKSPACE]})
        return plan

    key = ("MaxPoolGrad", x.shape, data_format, geometry)
    if not onednn.run_plan(key, build, [x, dy, dx], _flops(x.size)):
        return _numpy_variant("MaxPoolGrad")(xp, x, y, dy, **attrs)
    return dx


class _Borrowed:
    """A memory descriptor a primitive owns, where a port expects an owned one."""

    def __init__(self, handle: int):
        self.handle = handle


def _workspace_bytes(out_shape: Sequence[int], geometry: tuple) -> int:
    """The size of oneDNN's max-pooling workspace: an argmax per pooled value, one byte for windows of
    fewer than 256 elements, else four (checked against the primitive's when a plan is built)."""
    kernel = geometry[1]
    return int(np.prod(out_shape)) * (1 if kernel[0] * kernel[1] < 256 else 4)


def max_pool_with_workspace(xp: Any, x: Any, *, ksize: list, strides: list, padding: str,
                            explicit_paddings: list, data_format: str) -> tuple[Any, Any]:
    """_MaxPoolWithWorkspace: MaxPool, and the workspace in which oneDNN keeps each window's argmax
    for `max_pool_grad_with_workspace` (empty where the pooling ran on NumPy)."""
    attrs = dict(ksize=ksize, strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                 data_format=data_format)
    found = _geometry(x.shape, ksize, strides, padding, explicit_paddings, data_format) if _usable(x) else None
    if found is None:
        return _numpy_variant("MaxPool")(xp, x, **attrs), np.zeros(0, np.uint8)
    out_shape, geometry = found
    x = onednn.contiguous(x)
    y = np.empty(out_shape, np.float32)
    workspace = np.empty(_workspace_bytes(out_shape, geometry), np.uint8)

    def build(lib: Library) -> onednn.Plan:
        x_md, y_md = _md(lib, x.shape, data_format), _md(lib, out_shape, data_format)
        primitive = lib.pooling_forward(POOLING_MAX, x_md.handle, y_md.handle, geometry, training=True)
        ws_md = primitive.query_md(QUERY_WORKSPACE_MD)
        if lib.md_size(ws_md) != workspace.nbytes:
            raise DnnlError("dnnl_memory_desc_get_size", 3)  # a workspace of another kind: not handled here
        return onednn.Plan(lib, primitive, [(ARG_SRC, QUERY_SRC_MD, x_md, False),
                                            (ARG_DST, QUERY_DST_MD, y_md, True),
                                            (ARG_WORKSPACE, QUERY_WORKSPACE_MD, _Borrowed(ws_md), True)])

    if not onednn.run_plan(("_MaxPoolWithWorkspace", x.shape, data_format, geometry), build, [x, y, workspace],
                           _flops(x.size)):
        return _numpy_variant("MaxPool")(xp, x, **attrs), np.zeros(0, np.uint8)
    return y, workspace


# What `conv_pool` gives for a convolution's output that the plan reads only the shape of:
# `np.broadcast_to(SHAPE_ONLY, shape)`, read-only zeros that hold no memory.
SHAPE_ONLY = np.zeros((), np.float32)


def max_pool_grad_with_workspace(xp: Any, x: Any, y: Any, dy: Any, workspace: Any, *, ksize: list, strides: list,
                                 padding: str, explicit_paddings: list, data_format: str) -> Any:
    """_MaxPoolGradWithWorkspace: MaxPoolGrad from the argmax `max_pool_with_workspace` kept, without
    pooling x again (`max_pool_grad` where there is no workspace). It reads only x's shape, but for
    that fallback, which a SHAPE_ONLY x never reaches (its workspace is oneDNN's, made by numba's
    loop, which then also runs the gradient)."""
    attrs = dict(ksize=ksize, strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                 data_format=data_format)
    found = _geometry(x.shape, ksize, strides, padding, explicit_paddings, data_format) if _usable(x, y, dy) else None
    if (found is None or y.shape != found[0] or dy.shape != found[0] or type(workspace) is not np.ndarray
            or workspace.nbytes != _workspace_bytes(found[0], found[1])):
        return _pool_grad_of_values(xp, x, y, dy, attrs)
    out_shape, geometry = found
    dy = onednn.contiguous(dy)
    if data_format == "NHWC":
        dx = loops.max_pool_grad_from_workspace(dy, workspace, x.shape, geometry[1], geometry[0], geometry[3])
        if dx is not None:
            return dx
    dx = np.empty(x.shape, np.float32)

    def build(lib: Library) -> onednn.Plan:
        x_md, y_md = _md(lib, x.shape, data_format), _md(lib, out_shape, data_format)
        backward = lib.pooling_backward(POOLING_MAX, x_md.handle, y_md.handle, geometry)
        ws_md = backward.query_md(QUERY_WORKSPACE_MD)
        return onednn.Plan(lib, backward, [(ARG_DIFF_DST, QUERY_DIFF_DST_MD, y_md, False),
                                           (ARG_WORKSPACE, QUERY_WORKSPACE_MD, _Borrowed(ws_md), False),
                                           (ARG_DIFF_SRC, QUERY_DIFF_SRC_MD, x_md, True)])

    key = ("_MaxPoolGradWithWorkspace", x.shape, data_format, geometry)
    if not onednn.run_plan(key, build, [dy, workspace, dx], _flops(x.size)):
        return _pool_grad_of_values(xp, x, y, dy, attrs)
    return dx


def relu_max_pool_grad(xp: Any, x: Any, y: Any, dy: Any, workspace: Any, *, ksize: list, strides: list,
                       padding: str, explicit_paddings: list, data_format: str) -> tuple:
    """_ReluMaxPoolGrad: `max_pool_grad_with_workspace` of ReluGrad(dy, y) and that gradient's sums per
    channel, in one numba pass where the windows tile the input (`loops.max_pool_grad_from_workspace`),
    else ReluGrad's, this module's and Sum's fast_cpu kernels in turn."""
    attrs = dict(ksize=ksize, strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                 data_format=data_format)
    found = _geometry(x.shape, ksize, strides, padding, explicit_paddings, data_format) if _usable(x, y, dy) else None
    if (found is not None and data_format == "NHWC" and y.shape == found[0] and dy.shape == found[0]
            and type(workspace) is np.ndarray and workspace.nbytes == _workspace_bytes(found[0], found[1])):
        geometry = found[1]
        result = loops.max_pool_grad_from_workspace(onednn.contiguous(dy), workspace, x.shape, geometry[1], geometry[0],
                                                    geometry[3], relu_of=y)
        if result is not None:
            return result
    return _relu_max_pool_grad_kernels(xp, x, y, dy, workspace, **attrs)


def _pool_grad_of_values(xp: Any, x: Any, y: Any, dy: Any, attrs: dict) -> Any:
    """`max_pool_grad`, which reads x's values: never of a SHAPE_ONLY x."""
    if getattr(x, "base", None) is SHAPE_ONLY:
        raise RuntimeError("_MaxPoolGradWithWorkspace: the pooling's input was not kept and its workspace cannot "
                           "be read here")
    return max_pool_grad(xp, x, y, dy, **attrs)


def avg_pool_grad(xp: Any, orig_input_shape: Any, grad: Any, *, ksize: list, strides: list, padding: str,
                  data_format: str) -> Any:
    """AvgPoolGrad on oneDNN: each gradient, over its window's count of real elements, spread over them."""
    attrs = dict(ksize=ksize, strides=strides, padding=padding, data_format=data_format)
    x_shape = tuple(int(d) for d in np.asarray(orig_input_shape).reshape(-1))
    found = None
    if _usable(grad) and len(x_shape) == 4 and min(x_shape) > 0:
        found = _geometry(x_shape, ksize, strides, padding, (), data_format)
    if found is None or grad.shape != found[0]:
        return _numpy_variant("AvgPoolGrad")(xp, orig_input_shape, grad, **attrs)
    out_shape, geometry = found
    grad = onednn.contiguous(grad)
    dx = np.empty(x_shape, np.float32)

    def build(lib: Library) -> onednn.Plan:
        x_md, y_md = _md(lib, x_shape, data_format), _md(lib, out_shape, data_format)
        backward = lib.pooling_backward(POOLING_AVG_EXCLUDE_PADDING, x_md.handle, y_md.handle, geometry)
        return onednn.Plan(lib, backward, [(ARG_DIFF_DST, QUERY_DIFF_DST_MD, y_md, False),
                                           (ARG_DIFF_SRC, QUERY_DIFF_SRC_MD, x_md, True)])

    if not onednn.run_plan(("AvgPoolGrad", x_shape, data_format, geometry), build, [grad, dx], _flops(dx.size)):
        return _numpy_variant("AvgPoolGrad")(xp, orig_input_shape, grad, **attrs)
    return dx


VARIANTS: dict[str, Callable] = {"MaxPool": max_pool, "MaxPoolGrad": max_pool_grad, "AvgPool": avg_pool,
                                 "AvgPoolGrad": avg_pool_grad, "_MaxPoolWithWorkspace": max_pool_with_workspace,
                                 "_MaxPoolGradWithWorkspace": max_pool_grad_with_workspace,
                                 "_ReluMaxPoolGrad": relu_max_pool_grad}
