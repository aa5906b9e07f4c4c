"""NumPy variants of the convolution and pooling kernels (`register_op(..., variants={"numpy": ...})`).

Same parameters and results as the portable kernels in `_conv_kernels`, faster on NumPy:

- im2col copies one strided (N, Ho, Wo, KH, KW*C) window view when channels are
  many (long runs of memory), into a per-thread scratch buffer that the product
  consumes inside the same call (no page faults of a fresh multi-megabyte
  buffer every step);
- convolutions and their gradients run per chunk of images whose im2col
  matrix is about 2 MB, so the copy that builds it and the product that reads
  it meet in cache (`image_chunks`), with the products written into the
  output (`out=`);
- col2im and input gradients add each window element's slab into a strided
  view of a zero buffer the kernel allocated (`+=`), instead of padding and
  summing whole arrays;
- pooling combines the windows pairwise into its own buffer, and uses a
  reshape when the windows tile the input.

Buffers are filled in place, but only buffers the kernel allocated itself:
inputs are never written, and every kernel returns a fresh array.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from caudal.framework import threads
from caudal.ops import _conv_kernels as portable
from caudal.ops._conv_kernels import (
    Pads,
    avg_pool_counts,
    check_out_backprop,
    lowest,
    spatial_geometry,
    tiles,
    window_view,
)


def pad_hw(xp: Any, x: Any, pads: Pads, value: Any = 0) -> Any:
    """x (NHWC) with `pads` rows and columns of `value` around it; x itself when no padding."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    out = np.full((n, h + top + bottom, w + left + right, c), value, dtype=x.dtype)
    out[:, top:top + h, left:left + w, :] = x
    return out


# ---------------------------------------------------------------- im2col
def patches(xp: Any, x: Any, k_hw: Sequence[int], out_hw: tuple[int, int], pads: Pads,
            strides: Sequence[int], dilations: Sequence[int]) -> Any:
    """The windows of x as an (N, Ho, Wo, KH*KW, C) array (one copy, into the scratch buffer)."""
    padded = pad_hw(xp, x, pads)
    kh, kw = k_hw
    if kh == kw == 1:
        view = window_view(padded, 0, 0, out_hw, strides, dilations)
        return view[:, :, :, None, :]
    n, c = x.shape[0], x.shape[3]
    shape = (n, out_hw[0], out_hw[1], kh * kw, c)
    if dilations[1] == 1 and c >= 8 and padded.flags.c_contiguous:
        # The KW window elements of one window row lie side by side in memory, KW*C values in a
        # row: one copy of an (N, Ho, Wo, KH, KW*C) window view moves them in long runs, twice as
        # fast as stacking KH*KW views of C values each.
        s0, s1, s2, s3 = padded.strides
        windows = np.lib.stride_tricks.as_strided(
            padded, shape=(n, out_hw[0], out_hw[1], kh, kw * c),
            strides=(s0, strides[0] * s1, strides[1] * s2, dilations[0] * s1, s3), writeable=False)
        out = _scratch(shape, x.dtype)
        np.copyto(out.reshape(windows.shape), windows)
        return out
    views = [window_view(padded, i, j, out_hw, strides, dilations) for i in range(kh) for j in range(kw)]
    return np.stack(views, axis=3, out=_scratch(shape, x.dtype))


_SCRATCH = threading.local()


def _scratch(shape: tuple[int, ...], dtype: Any) -> Any:
    """A per-thread buffer for a kernel's intermediate matrix (patches, or the slabs of an input
    gradient), which never outlives the kernel call that fills it.

    Reusing it spares the page faults of a fresh multi-megabyte allocation on every call.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.nbytes < nbytes:
        buf = _SCRATCH.buf = np.empty(nbytes, np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def col2im(xp: Any, cols: Any, in_shape: Sequence[int], k_hw: Sequence[int], out_hw: tuple[int, int],
           pads: Pads, strides: Sequence[int], dilations: Sequence[int]) -> Any:
    """The adjoint of `patches`: sums (N, Ho, Wo, KH*KW, C) window values back onto an NHWC input."""
    n, h, w, c = in_shape
    (top, bottom), (left, right) = pads
    kh, kw = k_hw
    buf = np.zeros((n, h + top + bottom, w + left + right, c), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            target = window_view(buf, i, j, out_hw, strides, dilations)
            target += cols[:, :, :, i * kw + j, :]
    return buf[:, top:top + h, left:left + w, :]


# ------------------------------------------------------------------ Conv2D
_CHUNK_BYTES = 2 << 20


def image_chunks(n: int, per_image_bytes: int) -> list[tuple[int, int]]:
    """Batch ranges whose im2col matrices are about 2 MB each: the copy that builds a chunk's
    matrix and the product that reads it then meet in cache, not in memory (25% faster for a
    14x14x32 -> 64 convolution of 128 images)."""
    step = max(1, min(n, _CHUNK_BYTES // max(per_image_bytes, 1)))
    return [(start, min(start + step, n)) for start in range(0, n, step)]


def conv2d(xp: Any, x: Any, w: Any, strides: Sequence[int], dilations: Sequence[int], padding: str,
           explicit: Sequence[int] = ()) -> Any:
    """NHWC convolution (cross-correlation) of x with an HWIO filter."""
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    k = kh * kw * c
    threads.blas_threads_for(2.0 * n * out_hw[0] * out_hw[1] * k * o)
    chunks = image_chunks(n, out_hw[0] * out_hw[1] * k * x.dtype.itemsize)
    if len(chunks) == 1:
        cols = patches(xp, x, (kh, kw), out_hw, pads, strides, dilations)
        out = np.matmul(cols.reshape(n * out_hw[0] * out_hw[1], k), w.reshape(k, o))
        return out.reshape(n, out_hw[0], out_hw[1], o)
    out = np.empty((n, out_hw[0], out_hw[1], o), np.result_type(x, w))
    for start, stop in chunks:
        cols = patches(xp, x[start:stop], (kh, kw), out_hw, pads, strides, dilations)
        np.matmul(cols.reshape(-1, k), w.reshape(k, o), out=out[start:stop].reshape(-1, o))
    return out


def conv2d_backprop_input(xp: Any, in_shape: Sequence[int], w: Any, dy: Any, strides: Sequence[int],
                          dilations: Sequence[int], padding: str, explicit: Sequence[int] = ()) -> Any:
    """The gradient of `conv2d` with respect to x, for an input of shape `in_shape`.

    One batched product gives, per window element k, the contiguous (N*Ho*Wo, C) slab
    dy @ w[k].T; the slabs are then added into the input at their offsets, per chunk of
    images, so that the slabs are still in cache when they are added.
    """
    n, h, wd, c = in_shape
    kh, kw, _, o = w.shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], o))
    dtype = np.result_type(dy, w)
    per_image = out_hw[0] * out_hw[1]
    threads.blas_threads_for(2.0 * n * per_image * kh * kw * c * o)
    (top, bottom), (left, right) = pads
    buf = np.zeros((n, h + top + bottom, wd + left + right, c), dtype=dtype)
    taps = w.reshape(kh * kw, c, o).transpose(0, 2, 1)
    for start, stop in image_chunks(n, kh * kw * per_image * c * np.dtype(dtype).itemsize):
        m = (stop - start) * per_image
        slabs = np.matmul(dy[start:stop].reshape(1, m, o), taps, out=_scratch((kh * kw, m, c), dtype))
        part = buf[start:stop]
        for i in range(kh):
            for j in range(kw):
                target = window_view(part, i, j, out_hw, strides, dilations)
                target += slabs[i * kw + j].reshape(stop - start, out_hw[0], out_hw[1], c)
    return buf[:, top:top + h, left:left + wd, :]


def conv2d_backprop_filter(xp: Any, x: Any, filter_shape: Sequence[int], dy: Any, strides: Sequence[int],
                           dilations: Sequence[int], padding: str, explicit: Sequence[int] = ()) -> Any:
    """The gradient of `conv2d` with respect to its HWIO filter of shape `filter_shape`: the
    patches' transpose times dy, summed over chunks of images (see `image_chunks`)."""
    n, h, wd, c = x.shape
    kh, kw, _, o = filter_shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], o))
    k = kh * kw * c
    threads.blas_threads_for(2.0 * n * out_hw[0] * out_hw[1] * k * o)
    total = np.zeros((k, o), dtype=np.result_type(x, dy)) if n == 0 else None
    for start, stop in image_chunks(n, out_hw[0] * out_hw[1] * k * x.dtype.itemsize):
        cols = patches(xp, x[start:stop], (kh, kw), out_hw, pads, strides, dilations)
        m = (stop - start) * out_hw[0] * out_hw[1]
        part = _tall_gram(cols.reshape(m, k), dy[start:stop].reshape(m, o))
        total = part if total is None else np.add(total, part, out=total)
    return total.reshape(kh, kw, c, o)


def _tall_gram(a: Any, b: Any, block: int = 8192) -> Any:
    """a.T @ b for tall a and b. A small result (few input channels, as in a first layer)
    is summed over row blocks: one product with a huge inner dimension and a tiny
    output scales badly over BLAS threads, and collapses when cores are busy."""
    m = a.shape[0]
    if a.shape[1] * b.shape[1] > 64 * 64 or m <= 2 * block:
        return np.matmul(a.T, b)
    total = np.matmul(a[:block].T, b[:block])
    for start in range(block, m, block):
        total += np.matmul(a[start:start + block].T, b[start:start + block])
    return total


# --------------------------------------------------------- depthwise Conv2D
def depthwise_conv2d(xp: Any, x: Any, w: Any, strides: Sequence[int], dilations: Sequence[int],
                     padding: str, explicit: Sequence[int] = ()) -> Any:
    return portable.depthwise_conv2d(xp, x, w, strides, dilations, padding, explicit, patches=patches)


def depthwise_conv2d_backprop_input(xp: Any, in_shape: Sequence[int], w: Any, dy: Any, strides: Sequence[int],
                                    dilations: Sequence[int], padding: str, explicit: Sequence[int] = ()) -> Any:
    return portable.depthwise_conv2d_backprop_input(xp, in_shape, w, dy, strides, dilations, padding, explicit,
                                                    col2im=col2im)


def depthwise_conv2d_backprop_filter(xp: Any, x: Any, filter_shape: Sequence[int], dy: Any,
                                     strides: Sequence[int], dilations: Sequence[int], padding: str,
                                     explicit: Sequence[int] = ()) -> Any:
    return portable.depthwise_conv2d_backprop_filter(xp, x, filter_shape, dy, strides, dilations, padding,
                                                     explicit, patches=patches)


# ------------------------------------------------------------------ pooling
def _reduce_tiles(combine: Any, padded: Any, k_hw: Sequence[int], out_hw: tuple[int, int]) -> Any:
    """Combines disjoint windows that tile `padded`: first along rows, then along columns.

    Pairwise ufunc calls over reshaped views are several times faster in NumPy
    than a reduction over two inner axes.
    """
    n, _, _, c = padded.shape
    tiled = padded.reshape(n, out_hw[0], k_hw[0], out_hw[1], k_hw[1], c)
    rows = tiled[:, :, 0]
    for i in range(1, k_hw[0]):
        rows = combine(rows, tiled[:, :, i], out=None if i == 1 else rows)
    out = rows[:, :, :, 0]
    for j in range(1, k_hw[1]):
        out = combine(out, rows[:, :, :, j], out=None if j == 1 else out)
    return out if k_hw[1] > 1 else out.copy()


def max_pool(xp: Any, x: Any, k_hw: Sequence[int], strides: Sequence[int], padding: str,
             explicit: Sequence[int] = ()) -> Any:
    n, h, w, c = x.shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding, explicit)
    padded = pad_hw(xp, x, pads, lowest(x.dtype))
    if tiles((h, w), k_hw, strides, out_hw, pads):
        return _reduce_tiles(np.maximum, padded, k_hw, out_hw)
    out = None
    for i in range(k_hw[0]):
        for j in range(k_hw[1]):
            view = window_view(padded, i, j, out_hw, strides)
            out = view.copy() if out is None else np.maximum(out, view, out=out)
    return out


def _first_max_masks(padded: Any, y: Any, k_hw: Sequence[int], out_hw: tuple[int, int],
                     strides: Sequence[int]) -> Any:
    """Yields (i, j, mask): mask marks the outputs whose FIRST maximum (row-major) is element (i, j)."""
    taken = None
    for i in range(k_hw[0]):
        for j in range(k_hw[1]):
            hit = window_view(padded, i, j, out_hw, strides) == y
            if taken is None:
                taken = hit.copy()
            else:
                hit &= ~taken
                taken |= hit
            yield i, j, hit


def max_pool_grad(xp: Any, x: Any, y: Any, dy: Any, k_hw: Sequence[int], strides: Sequence[int],
                  padding: str, explicit: Sequence[int] = ()) -> Any:
    """Routes each output gradient to the first maximum of its window, as TF's CPU kernel does."""
    n, h, w, c = x.shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding, explicit)
    padded = pad_hw(xp, x, pads, lowest(x.dtype))
    if tiles((h, w), k_hw, strides, out_hw, pads):
        return _max_pool_grad_tiles(padded, y, dy, k_hw, out_hw, pads, (h, w))
    disjoint = all(k <= s for k, s in zip(k_hw, strides, strict=True))
    buf = np.zeros(padded.shape, dtype=dy.dtype)
    zero = dy.dtype.type(0)
    for i, j, hit in _first_max_masks(padded, y, k_hw, out_hw, strides):
        target = window_view(buf, i, j, out_hw, strides)
        if disjoint:
            np.multiply(dy, hit, out=target)
        else:
            target += np.where(hit, dy, zero)
    (top, _), (left, _) = pads
    return buf[:, top:top + h, left:left + w, :]


def _max_pool_grad_tiles(padded: Any, y: Any, dy: Any, k_hw: Sequence[int], out_hw: tuple[int, int],
                         pads: Pads, in_hw: Sequence[int]) -> Any:
    """MaxPoolGrad for windows that tile the input: one broadcast comparison finds every maximum,
    a pass over the window elements keeps only the first of each window, one product routes dy."""
    n, _, _, c = padded.shape
    kh, kw = k_hw
    tiled = padded.reshape(n, out_hw[0], kh, out_hw[1], kw, c)
    hit = tiled == y[:, :, None, :, None, :]
    if kh * kw > 1:
        taken = hit[:, :, 0, :, 0, :].copy()
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    element = hit[:, :, i, :, j, :]
                    element &= ~taken
                    taken |= element
    dx = np.multiply(hit, dy[:, :, None, :, None, :]).reshape(padded.shape)
    (top, _), (left, _) = pads
    return dx[:, top:top + in_hw[0], left:left + in_hw[1], :]


def max_pool_grad_grad(xp: Any, x: Any, y: Any, ddx: Any, k_hw: Sequence[int], strides: Sequence[int],
                       padding: str, explicit: Sequence[int] = ()) -> Any:
    """For each window, the value of `ddx` (input-shaped) at the window's first maximum."""
    n, h, w, c = x.shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding, explicit)
    padded = pad_hw(xp, x, pads, lowest(x.dtype))
    ddx_padded = pad_hw(xp, ddx, pads)
    out = np.zeros(y.shape, dtype=ddx.dtype)
    for i, j, hit in _first_max_masks(padded, y, k_hw, out_hw, strides):
        out += np.where(hit, window_view(ddx_padded, i, j, out_hw, strides), ddx.dtype.type(0))
    return out


def avg_pool(xp: Any, x: Any, k_hw: Sequence[int], strides: Sequence[int], padding: str) -> Any:
    """Window means; SAME windows at the border divide by their count of real elements, as TF does."""
    n, h, w, c = x.shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding)
    padded = pad_hw(xp, x, pads)
    if tiles((h, w), k_hw, strides, out_hw, pads):
        total = _reduce_tiles(np.add, padded, k_hw, out_hw)
    else:
        total = None
        for i in range(k_hw[0]):
            for j in range(k_hw[1]):
                view = window_view(padded, i, j, out_hw, strides)
                total = view.copy() if total is None else np.add(total, view, out=total)
    if pads == ((0, 0), (0, 0)):
        return total / x.dtype.type(k_hw[0] * k_hw[1])
    return total / avg_pool_counts(np, (h, w), k_hw, strides, out_hw, pads, x.dtype)


def avg_pool_grad(xp: Any, in_shape: Sequence[int], dy: Any, k_hw: Sequence[int], strides: Sequence[int],
                  padding: str) -> Any:
    """Spreads each output gradient evenly over the real elements of its window."""
    n, h, w, c = in_shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding)
    if pads == ((0, 0), (0, 0)):
        share = dy / dy.dtype.type(k_hw[0] * k_hw[1])
    else:
        share = dy / avg_pool_counts(np, (h, w), k_hw, strides, out_hw, pads, dy.dtype)
    (top, bottom), (left, right) = pads
    if tiles((h, w), k_hw, strides, out_hw, pads):
        spread = np.broadcast_to(share[:, :, None, :, None, :],
                                 (n, out_hw[0], k_hw[0], out_hw[1], k_hw[1], c))
        padded = spread.reshape(n, h + top + bottom, w + left + right, c)
        return padded[:, top:top + h, left:left + w, :]
    buf = np.zeros((n, h + top + bottom, w + left + right, c), dtype=dy.dtype)
    for i in range(k_hw[0]):
        for j in range(k_hw[1]):
            target = window_view(buf, i, j, out_hw, strides)
            target += share
    return buf[:, top:top + h, left:left + w, :]
