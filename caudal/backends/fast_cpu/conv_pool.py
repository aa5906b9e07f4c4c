"""`_FusedConv2DMaxPool` on numba: a CNN's first layer, a convolution over few input channels with
its bias and ReLU followed by a max pooling, in one pass that never writes the convolution's output.

Such a layer (MNIST's one channel, RGB's three) is bound by memory, not arithmetic: LeNet's first
layer reads 0.4 MB of images and writes a 12.8 MB convolution output that the pooling reads again
(oneDNN's convolution 1.2 ms and pooling 0.6 ms of a training step on a 2-core Xeon). The loop in
`_conv_pool_kernels` computes each row of windows' values in a per-thread scratch row and pools
them there, writing only the pooled values and the argmax workspace (oneDNN's format, which
`_MaxPoolGradWithWorkspace` reads). The plan runs the pair this way only where nothing reads the
convolution's output but for its shape (`caudal.runtime.fusion.conv_max_pools`): this kernel then
returns, in its place, a read-only array of zeros of that shape (`SHAPE_ONLY`), which the pooling's
gradient reads only the shape of. Where the loop does not apply (more input channels, strides,
dilations, windows that do not tile, other dtypes or layouts, numba not loaded, or the loop could
not be built: warned once) the convolution and the pooling run as `_FusedConv2D` and
`_MaxPoolWithWorkspace`, and the real output is returned.

The layer's filter and bias gradients (`_FusedConv2DMaxPoolGrad`, where its input needs no gradient:
`caudal.runtime.fusion.conv_max_pool_grads`) are one more loop over the pooled gradient, the pooled
values and the workspace: it never writes the 12.8 MB convolution-sized gradient that the pooling's
gradient would and oneDNN's filter gradient would read again (those kernels, with the ReluGrad and the
bias's Sum, took 2.1 ms of LeNet's step; the loop 0.7 ms). Where the workspace is not oneDNN's (a
NumPy fallback's) or the loop does not apply, the four ops' fast_cpu kernels run.

The loops are compiled for each filter size, channel counts and window (numba literals; see
`_conv_pool_kernels`), on first use in a process or loaded from numba's cache.
"""
from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from caudal.backends.fast_cpu import loops
from caudal.backends.fast_cpu.onednn_pool import SHAPE_ONLY
from caudal.framework import threads as thread_policy
from caudal.ops._conv_kernels import spatial_geometry
from caudal.ops.pooling_ops import conv_max_pool_grad_of_kernels, conv_max_pool_of_kernels
from caudal.runtime.fusion import FEW_INPUT_CHANNELS

__all__ = ["VARIANTS", "MAX_IN_CHANNELS"]

MAX_IN_CHANNELS = FEW_INPUT_CHANNELS  # the loop's taps are unrolled over kh * kw * channels: a first layer's few
_entries: dict[tuple, Any] = {}  # (kernel, literals) -> the compiled specialization's entry point
_failed = ""  # why the loop could not be compiled or loaded, once it could not
_unfused = conv_max_pool_of_kernels("fast_cpu", "numpy")
_unfused_grad = conv_max_pool_grad_of_kernels("fast_cpu", "numpy")


def _launch(kernel: Any, args: tuple, literals: tuple, flops: float) -> None:
    """kernel(*args, *literals) on the threads `flops` deserve: the first call of a specialization
    through numba's dispatcher (which compiles it, or loads it from the cache), later ones through
    its entry point (the dispatcher types literal arguments again at each call: 15 ms)."""
    key = (kernel, literals)
    loops._use_threads(loops._threads_for_flops(flops))
    with loops._launch_lock:
        entry = _entries.get(key)
        if entry is not None:
            entry(*args, *literals)
            return
        start = time.perf_counter()
        kernel(*args, *literals)
        elapsed = time.perf_counter() - start
        if elapsed > 1.0 and not loops._reported_compile:
            loops._report_compile(elapsed)
        for signature, compiled in kernel.overloads.items():
            if tuple(getattr(t, "literal_value", None) for t in signature[-len(literals):]) == literals:
                _entries[key] = compiled.entry_point


def _loop_layout(x: Any, filter_shape: tuple, strides: list, padding: str, data_format: str, dilations: list,
                 ksize: list, pool_strides: list, pool_padding: str) -> tuple | None:
    """(hc, wc, ho, wo, top, left, conv_top, conv_left): the convolution's output size, the pooled
    size, the windows' padding before the convolution's output and the convolution's before its input,
    where the loops apply to a layer of this input and filter shape (see the module docstring), else
    None; x must be a float32 ndarray for them, which the caller checks."""
    if (loops._kernel_module is None or _failed or not thread_policy.openmp_usable() or data_format != "NHWC"
            or padding not in ("SAME", "VALID") or pool_padding not in ("SAME", "VALID")
            or list(strides) != [1, 1, 1, 1] or list(dilations) != [1, 1, 1, 1]
            or list(ksize) != list(pool_strides) or ksize[0] != 1 or ksize[3] != 1 or ksize[1] * ksize[2] >= 256
            or x.ndim != 4 or len(filter_shape) != 4 or x.shape[3] != filter_shape[2]
            or not 0 < x.shape[3] <= MAX_IN_CHANNELS or min(x.shape) == 0 or min(filter_shape) == 0):
        return None
    (kh, kw), (ph, pw) = filter_shape[:2], ksize[1:3]
    try:
        (hc, wc), ((conv_top, _), (conv_left, _)) = spatial_geometry(x.shape[1:3], (kh, kw), (1, 1), (1, 1), padding)
        (ho, wo), ((top, _), (left, _)) = spatial_geometry((hc, wc), (ph, pw), (ph, pw), (1, 1), pool_padding)
    except ValueError:  # a VALID window larger than its input: the ops' kernels raise TF's error
        return None
    if min(hc, wc, ho, wo) <= 0:
        return None
    return hc, wc, ho, wo, top, left, conv_top, conv_left


def _padded_input(x: np.ndarray, filter_shape: tuple, ksize: list, layout: tuple) -> np.ndarray:
    """x zero-padded as the loops read it (`_conv_pool_kernels`): from the first window's first row and
    column, ho * ph + kh - 1 rows and wo * pw + kw - 1 columns."""
    n, h, width, cin = x.shape
    _, _, ho, wo, top, left, conv_top, conv_left = layout
    rows, cols = ho * ksize[1] + filter_shape[0] - 1, wo * ksize[2] + filter_shape[1] - 1
    row0, col0 = top + conv_top, left + conv_left
    xpad = np.zeros((n, rows, cols, cin), np.float32)
    xpad[:, row0:row0 + h, col0:col0 + width] = x[:, :max(0, min(h, rows - row0)), :max(0, min(width, cols - col0))]
    return xpad


def _aligned(a: np.ndarray) -> np.ndarray:
    """`a`, or a C-ordered, aligned, writable copy (the compiled specializations take such arrays:
    numba types the others apart)."""
    return a if a.flags.c_contiguous and a.flags.aligned and a.flags.writeable else np.array(a, order="C")


def _run_loop(kernel_name: str, args: tuple, literals: tuple, flops: float) -> bool:
    """`_launch` of the loop `kernel_name`; False, with one warning in the process, where numba cannot
    build it (an LLVM or typing error at its first call must never stop a program)."""
    global _failed
    try:
        from caudal.backends.fast_cpu import _conv_pool_kernels as fused

        _launch(getattr(fused, kernel_name), args, literals, flops)
    except Exception as error:
        _failed = f"{type(error).__name__}: {error}"
        warnings.warn(f"caudal: the fast_cpu loop of a convolution layer and its pooling could not be loaded "
                      f"({_failed}); such layers run as two ops", RuntimeWarning, stacklevel=3)
        return False
    return True


def conv_max_pool(xp: Any, x: Any, w: Any, bias: Any, *, strides: list, padding: str, explicit_paddings: list,
                  data_format: str, dilations: list, ksize: list, pool_strides: list, pool_padding: str) -> tuple:
    """_FusedConv2DMaxPool (see the module docstring): (SHAPE_ONLY of the convolution's shape, the
    pooled values, the workspace) from the loop, else the two ops' fast_cpu kernels' results."""
    attrs = dict(strides=strides, padding=padding, explicit_paddings=explicit_paddings, data_format=data_format,
                 dilations=dilations, ksize=ksize, pool_strides=pool_strides, pool_padding=pool_padding)
    layout = (_loop_layout(x, w.shape, strides, padding, data_format, dilations, ksize, pool_strides, pool_padding)
              if loops._is_f32(x, w, bias) and w.ndim == 4 and bias.shape == (w.shape[-1],) else None)
    if layout is None:
        return _unfused(xp, x, w, bias, **attrs)
    hc, wc, ho, wo, top, left = layout[:6]
    n, cin = x.shape[0], x.shape[3]
    kh, kw, _, c = w.shape
    ph, pw = int(ksize[1]), int(ksize[2])
    xpad = _padded_input(x, w.shape, ksize, layout)
    y = np.empty((n, ho, wo, c), np.float32)
    workspace = np.empty(y.size, np.uint8)
    scratch = np.empty((loops._numba.config.NUMBA_NUM_THREADS, ph, wo * pw, c), np.float32)
    if not _run_loop("conv_relu_max_pool", (xpad, _aligned(w), _aligned(bias), top, left, hc, wc, y,
                                            workspace.reshape(y.shape), scratch),
                     (kh, kw, cin, c, ph, pw), 2.0 * n * hc * wc * kh * kw * cin * c):
        return _unfused(xp, x, w, bias, **attrs)
    return np.broadcast_to(SHAPE_ONLY, (n, hc, wc, c)), y, workspace


def conv_max_pool_grad(xp: Any, x: Any, conv_output: Any, grad: Any, pooled: Any, workspace: Any, *,
                       filter_shape: list, strides: list, padding: str, explicit_paddings: list, data_format: str,
                       dilations: list, ksize: list, pool_strides: list, pool_padding: str) -> tuple:
    """_FusedConv2DMaxPoolGrad: (the filter gradient, the bias gradient) of a layer `conv_max_pool`
    ran, from the loop where the workspace is oneDNN's (one byte per pooled value, as the loop and
    oneDNN's pooling write it), else from the four ops' fast_cpu kernels."""
    attrs = dict(filter_shape=filter_shape, strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                 data_format=data_format, dilations=dilations, ksize=ksize, pool_strides=pool_strides,
                 pool_padding=pool_padding)
    sizes = tuple(int(d) for d in filter_shape)
    layout = (_loop_layout(x, sizes, strides, padding, data_format, dilations, ksize, pool_strides, pool_padding)
              if loops._is_f32(x, grad, pooled) and len(sizes) == 4 else None)
    if layout is not None:
        ho, wo = layout[2:4]
        kh, kw, cin, c = sizes
        expected = (x.shape[0], ho, wo, c)
        if (grad.shape != expected or pooled.shape != expected or type(workspace) is not np.ndarray
                or workspace.dtype != np.uint8 or workspace.size != grad.size
                or getattr(conv_output, "shape", None) != (x.shape[0], *layout[:2], c)):
            layout = None
    if layout is None:
        return _unfused_grad(xp, x, conv_output, grad, pooled, workspace, **attrs)
    ph, pw = int(ksize[1]), int(ksize[2])
    threads = loops._numba.config.NUMBA_NUM_THREADS
    taps = kh * kw * cin
    parts = np.zeros((threads, taps + 1, c), np.float64)
    # each thread's scratch rows at least a page apart, so that the threads never write the same lines
    rows = max(ph * pw, taps + 1, -(-4096 // (4 * c)))
    windows, sums = np.empty((threads, rows, c), np.float32), np.empty((threads, rows, c), np.float32)
    if not _run_loop("conv_max_pool_grads", (_padded_input(x, sizes, ksize, layout), _aligned(grad),
                                             _aligned(pooled), _aligned(workspace.reshape(grad.shape)), parts,
                                             windows, sums),
                     (kh, kw, cin, c, ph, pw), 2.0 * grad.size * ph * pw * (taps + 1)):
        return _unfused_grad(xp, x, conv_output, grad, pooled, workspace, **attrs)
    total = parts.sum(axis=0)
    return total[:taps].astype(np.float32).reshape(sizes), total[taps].astype(np.float32)


VARIANTS = {"_FusedConv2DMaxPool": conv_max_pool, "_FusedConv2DMaxPoolGrad": conv_max_pool_grad}
