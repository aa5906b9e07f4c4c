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
from caudal.ops.pooling_ops import conv_max_pool_of_kernels
from caudal.runtime.fusion import FEW_INPUT_CHANNELS

__all__ = ["VARIANTS", "MAX_IN_CHANNELS"]

MAX_IN_CHANNELS = FEW_INPUT_CHANNELS  # the loop's taps are unrolled over kh * kw * channels: a first layer's few
_F32 = np.dtype(np.float32)
_entries: dict[tuple, Any] = {}  # (kernel, literals) -> the compiled specialization's entry point
_failed = ""  # why the loop could not be compiled or loaded, once it could not
_unfused = conv_max_pool_of_kernels("fast_cpu", "numpy")


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


def conv_max_pool(xp: Any, x: Any, w: Any, bias: Any, *, strides: list, padding: str, explicit_paddings: list,
                  data_format: str, dilations: list, ksize: list, pool_strides: list, pool_padding: str) -> tuple:
    """_FusedConv2DMaxPool (see the module docstring): (SHAPE_ONLY of the convolution's shape, the
    pooled values, the workspace) from the loop, else the two ops' fast_cpu kernels' results."""
    attrs = dict(strides=strides, padding=padding, explicit_paddings=explicit_paddings, data_format=data_format,
                 dilations=dilations, ksize=ksize, pool_strides=pool_strides, pool_padding=pool_padding)
    global _failed
    kernels = loops._kernel_module
    if (kernels is None or _failed or not thread_policy.openmp_usable() or data_format != "NHWC"
            or padding not in ("SAME", "VALID") or pool_padding not in ("SAME", "VALID")
            or list(strides) != [1, 1, 1, 1] or list(dilations) != [1, 1, 1, 1]
            or list(ksize) != list(pool_strides) or ksize[0] != 1 or ksize[3] != 1
            or not all(type(a) is np.ndarray and a.dtype == _F32 for a in (x, w, bias))
            or x.ndim != 4 or w.ndim != 4 or bias.shape != (w.shape[3],) or x.shape[3] != w.shape[2]
            or not 0 < x.shape[3] <= MAX_IN_CHANNELS or min(x.shape) == 0 or min(w.shape) == 0
            or ksize[1] * ksize[2] >= 256):
        return _unfused(xp, x, w, bias, **attrs)
    n, h, width, cin = x.shape
    kh, kw, _, c = w.shape
    ph, pw = int(ksize[1]), int(ksize[2])
    try:
        (hc, wc), ((conv_top, _), (conv_left, _)) = spatial_geometry((h, width), (kh, kw), (1, 1), (1, 1), padding)
        (ho, wo), ((top, _), (left, _)) = spatial_geometry((hc, wc), (ph, pw), (ph, pw), (1, 1), pool_padding)
    except ValueError:  # a VALID window larger than its input: the ops' kernels raise TF's error
        return _unfused(xp, x, w, bias, **attrs)
    if min(hc, wc, ho, wo) <= 0:
        return _unfused(xp, x, w, bias, **attrs)
    rows, cols = ho * ph + kh - 1, wo * pw + kw - 1
    row0, col0 = top + conv_top, left + conv_left
    xpad = np.zeros((n, rows, cols, cin), np.float32)
    xpad[:, row0:row0 + h, col0:col0 + width] = x[:, :max(0, min(h, rows - row0)), :max(0, min(width, cols - col0))]
    y = np.empty((n, ho, wo, c), np.float32)
    workspace = np.empty(y.size, np.uint8)
    scratch = np.empty((loops._numba.config.NUMBA_NUM_THREADS, ph, wo * pw, c), np.float32)
    # the compiled specialization takes C-ordered, aligned, writable arrays (numba types them apart)
    w = w if w.flags.c_contiguous and w.flags.aligned and w.flags.writeable else np.array(w, order="C")
    bias = bias if bias.flags.c_contiguous and bias.flags.aligned and bias.flags.writeable else np.array(bias)
    try:
        from caudal.backends.fast_cpu import _conv_pool_kernels as fused

        _launch(fused.conv_relu_max_pool, (xpad, w, bias, top, left, hc, wc, y, workspace.reshape(y.shape),
                                           scratch), (kh, kw, cin, c, ph, pw), 2.0 * n * hc * wc * kh * kw * cin * c)
    except Exception as error:  # a loop numba cannot build must never stop a program
        _failed = f"{type(error).__name__}: {error}"
        warnings.warn(f"caudal: the fast_cpu loop of a convolution layer and its pooling could not be loaded "
                      f"({_failed}); such layers run as two ops", RuntimeWarning, stacklevel=2)
        return _unfused(xp, x, w, bias, **attrs)
    return np.broadcast_to(SHAPE_ONLY, (n, hc, wc, c)), y, workspace


VARIANTS = {"_FusedConv2DMaxPool": conv_max_pool}
