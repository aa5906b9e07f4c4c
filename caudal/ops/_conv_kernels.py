"""Array kernels shared by the convolution and pooling ops (NHWC layout).

Convolutions are computed as im2col followed by one matrix product: the
windows of the (padded) input are gathered into a `(N*Ho*Wo, KH*KW*C)`
matrix with one copy of a strided window view (or a `stack` of per-element
views when channels are few), so a Conv2D costs one copy and one BLAS call.
Input gradients go the other way (col2im): one product, then KH*KW strided
additions into a zero buffer. Pooling uses a reshape when the
windows tile the input exactly, and KH*KW strided views otherwise.

Output sizes and padding follow TensorFlow exactly: VALID gives
`ceil((in - effective_k + 1) / stride)`, SAME gives `ceil(in / stride)` with
`max((out - 1) * stride + effective_k - in, 0)` padding split so that the
extra element (if odd) goes after, and EXPLICIT takes the given pairs.

Buffers the kernels allocate themselves are filled in place; inputs are
never written. The patch matrix (and an input gradient's slabs) lives in a per-thread scratch buffer: it is
consumed by the product inside the same kernel call, and every kernel
returns a fresh array.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

Pads = tuple[tuple[int, int], tuple[int, int]]


# ------------------------------------------------------------------- geometry
def output_size(in_size: int, k: int, stride: int, dilation: int, padding: str,
                explicit: tuple[int, int] = (0, 0)) -> tuple[int, int, int]:
    """(output size, padding before, padding after) of one spatial dimension, as TF computes them.

    Raises ValueError with TF's message when a VALID/EXPLICIT window does not fit.
    """
    effective = (k - 1) * dilation + 1
    if padding == "SAME":
        out = -(-in_size // stride)
        total = max((out - 1) * stride + effective - in_size, 0)
        return out, total // 2, total - total // 2
    before, after = explicit if padding == "EXPLICIT" else (0, 0)
    span = in_size + before + after - effective
    if span < 0:
        raise ValueError(f"Negative dimension size caused by subtracting {effective} from "
                         f"{in_size + before + after}")
    return span // stride + 1, before, after


def spatial_geometry(in_hw: Sequence[int], k_hw: Sequence[int], strides: Sequence[int],
                     dilations: Sequence[int], padding: str,
                     explicit: Sequence[int] = ()) -> tuple[tuple[int, int], Pads]:
    """((Ho, Wo), ((top, bottom), (left, right))) for an NHWC input of spatial size `in_hw`."""
    pairs = [(explicit[2], explicit[3]), (explicit[4], explicit[5])] if padding == "EXPLICIT" else [(0, 0)] * 2
    ho, top, bottom = output_size(in_hw[0], k_hw[0], strides[0], dilations[0], padding, pairs[0])
    wo, left, right = output_size(in_hw[1], k_hw[1], strides[1], dilations[1], padding, pairs[1])
    return (ho, wo), ((top, bottom), (left, right))


def pad_hw(xp: Any, x: Any, pads: Pads, value: Any = 0) -> Any:
    """x (NHWC) with `pads` rows and columns of `value` around it; x itself when no padding."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    out = xp.full((n, h + top + bottom, w + left + right, c), value, dtype=x.dtype)
    out[:, top:top + h, left:left + w, :] = x
    return out


def window_view(x_padded: Any, i: int, j: int, out_hw: tuple[int, int], strides: Sequence[int],
                dilations: Sequence[int] = (1, 1)) -> Any:
    """The (N, Ho, Wo, C) view of window element (i, j) of every output position."""
    sh, sw = strides
    top, left = i * dilations[0], j * dilations[1]
    return x_padded[:, top:top + sh * (out_hw[0] - 1) + 1:sh, left:left + sw * (out_hw[1] - 1) + 1:sw, :]


# ---------------------------------------------------------------- im2col
def patches(xp: Any, x: Any, k_hw: Sequence[int], out_hw: tuple[int, int], pads: Pads,
            strides: Sequence[int], dilations: Sequence[int]) -> Any:
    """The windows of x as an (N, Ho, Wo, KH*KW, C) array (one copy)."""
    padded = pad_hw(xp, x, pads)
    kh, kw = k_hw
    if kh == kw == 1:
        view = window_view(padded, 0, 0, out_hw, strides, dilations)
        return view[:, :, :, None, :]
    n, c = x.shape[0], x.shape[3]
    shape = (n, out_hw[0], out_hw[1], kh * kw, c)
    if xp is np and dilations[1] == 1 and c >= 8 and padded.flags.c_contiguous:
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
    return xp.stack(views, axis=3, out=_scratch(shape, x.dtype))


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
    buf = xp.zeros((n, h + top + bottom, w + left + right, c), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            target = window_view(buf, i, j, out_hw, strides, dilations)
            target += cols[:, :, :, i * kw + j, :]
    return buf[:, top:top + h, left:left + w, :]


# ------------------------------------------------------------------ Conv2D
_CHUNK_BYTES = 2 << 20


def image_chunks(xp: Any, n: int, per_image_bytes: int) -> list[tuple[int, int]]:
    """Batch ranges whose im2col matrices are about 2 MB each, on NumPy: the copy that builds
    a chunk's matrix and the product that reads it then meet in cache, not in memory (25% faster
    for a 14x14x32 -> 64 convolution of 128 images). One range elsewhere."""
    if xp is not np:
        return [(0, n)]
    step = max(1, min(n, _CHUNK_BYTES // max(per_image_bytes, 1)))
    return [(start, min(start + step, n)) for start in range(0, n, step)]


def conv2d(xp: Any, x: Any, w: Any, strides: Sequence[int], dilations: Sequence[int], padding: str,
           explicit: Sequence[int] = ()) -> Any:
    """NHWC convolution (cross-correlation) of x with an HWIO filter."""
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    k = kh * kw * c
    chunks = image_chunks(xp, n, out_hw[0] * out_hw[1] * k * x.dtype.itemsize)
    if len(chunks) == 1:
        cols = patches(xp, x, (kh, kw), out_hw, pads, strides, dilations)
        out = xp.matmul(cols.reshape(n * out_hw[0] * out_hw[1], k), w.reshape(k, o))
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
    dy @ w[k].T; the slabs are then added into the input at their offsets. On NumPy this
    runs per chunk of images, so that the slabs are still in cache when they are added.
    """
    n, h, wd, c = in_shape
    kh, kw, _, o = w.shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    _check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], o))
    dtype = xp.result_type(dy, w)
    per_image = out_hw[0] * out_hw[1]
    (top, bottom), (left, right) = pads
    buf = xp.zeros((n, h + top + bottom, wd + left + right, c), dtype=dtype)
    taps = w.reshape(kh * kw, c, o).transpose(0, 2, 1)
    for start, stop in image_chunks(xp, n, kh * kw * per_image * c * np.dtype(dtype).itemsize):
        m = (stop - start) * per_image
        slabs = xp.matmul(dy[start:stop].reshape(1, m, o), taps, out=_scratch((kh * kw, m, c), dtype))
        part = buf[start:stop]
        for i in range(kh):
            for j in range(kw):
                target = window_view(part, i, j, out_hw, strides, dilations)
                target += slabs[i * kw + j].reshape(stop - start, out_hw[0], out_hw[1], c)
    return buf[:, top:top + h, left:left + wd, :]


def conv2d_backprop_filter(xp: Any, x: Any, filter_shape: Sequence[int], dy: Any, strides: Sequence[int],
                           dilations: Sequence[int], padding: str, explicit: Sequence[int] = ()) -> Any:
    """The gradient of `conv2d` with respect to its HWIO filter of shape `filter_shape`: the
    patches' transpose times dy, summed over chunks of images on NumPy (see `image_chunks`)."""
    n, h, wd, c = x.shape
    kh, kw, _, o = filter_shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    _check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], o))
    k = kh * kw * c
    total = xp.zeros((k, o), dtype=xp.result_type(x, dy)) if n == 0 else None
    for start, stop in image_chunks(xp, n, out_hw[0] * out_hw[1] * k * x.dtype.itemsize):
        cols = patches(xp, x[start:stop], (kh, kw), out_hw, pads, strides, dilations)
        m = (stop - start) * out_hw[0] * out_hw[1]
        part = _tall_gram(xp, cols.reshape(m, k), dy[start:stop].reshape(m, o))
        total = part if total is None else xp.add(total, part, out=total)
    return total.reshape(kh, kw, c, o)


def _tall_gram(xp: Any, a: Any, b: Any, block: int = 8192) -> Any:
    """a.T @ b for tall a and b. A small result (few input channels, as in a first layer)
    is summed over row blocks: one product with a huge inner dimension and a tiny
    output scales badly over BLAS threads, and collapses when cores are busy."""
    m = a.shape[0]
    if a.shape[1] * b.shape[1] > 64 * 64 or m <= 2 * block:
        return xp.matmul(a.T, b)
    total = xp.matmul(a[:block].T, b[:block])
    for start in range(block, m, block):
        total += xp.matmul(a[start:start + block].T, b[start:start + block])
    return total


# --------------------------------------------------------- depthwise Conv2D
def depthwise_conv2d(xp: Any, x: Any, w: Any, strides: Sequence[int], dilations: Sequence[int],
                     padding: str, explicit: Sequence[int] = ()) -> Any:
    """Each input channel c convolved with its own M filters w[:, :, c, :]; output channel c*M + m."""
    n, h, wd, c = x.shape
    kh, kw, _, mult = w.shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    cols = patches(xp, x, (kh, kw), out_hw, pads, strides, dilations)
    out = xp.einsum("nhwkc,kcm->nhwcm", cols, w.reshape(kh * kw, c, mult))
    return out.reshape(n, out_hw[0], out_hw[1], c * mult)


def depthwise_conv2d_backprop_input(xp: Any, in_shape: Sequence[int], w: Any, dy: Any, strides: Sequence[int],
                                    dilations: Sequence[int], padding: str, explicit: Sequence[int] = ()) -> Any:
    n, h, wd, c = in_shape
    kh, kw, _, mult = w.shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    _check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], c * mult))
    dy5 = dy.reshape(n, out_hw[0], out_hw[1], c, mult)
    cols = xp.einsum("nhwcm,kcm->nhwkc", dy5, w.reshape(kh * kw, c, mult))
    return col2im(xp, cols, in_shape, (kh, kw), out_hw, pads, strides, dilations)


def depthwise_conv2d_backprop_filter(xp: Any, x: Any, filter_shape: Sequence[int], dy: Any,
                                     strides: Sequence[int], dilations: Sequence[int], padding: str,
                                     explicit: Sequence[int] = ()) -> Any:
    n, h, wd, c = x.shape
    kh, kw, _, mult = filter_shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    _check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], c * mult))
    cols = patches(xp, x, (kh, kw), out_hw, pads, strides, dilations)
    dy5 = dy.reshape(n, out_hw[0], out_hw[1], c, mult)
    return xp.einsum("nhwkc,nhwcm->kcm", cols, dy5).reshape(kh, kw, c, mult)


def _check_out_backprop(got: Sequence[int], expected: Sequence[int]) -> None:
    if tuple(got) != tuple(expected):
        from caudal.errors import InvalidArgumentError

        raise InvalidArgumentError(None, None, f"Conv2DCustomBackprop: the shape of out_backprop "
                                               f"{list(got)} does not match the computed output "
                                               f"shape {list(expected)}")


# ------------------------------------------------------------------ pooling
def lowest(dtype: Any) -> Any:
    """The padding value that never wins a max: -inf for floats, the minimum for integers."""
    dtype = np.dtype(dtype)
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def _tiles(in_hw: Sequence[int], k_hw: Sequence[int], strides: Sequence[int], out_hw: tuple[int, int],
           pads: Pads) -> bool:
    """Whether the windows are disjoint and cover the padded input exactly (a reshape does)."""
    return all(k == s and k * o == size + p[0] + p[1]
               for k, s, o, size, p in zip(k_hw, strides, out_hw, in_hw, pads, strict=True))


def _reduce_tiles(xp: Any, combine: Any, padded: Any, k_hw: Sequence[int], out_hw: tuple[int, int]) -> Any:
    """Combines disjoint windows that tile `padded`: first along rows, then along columns.

    Pairwise ufunc calls over reshaped views are several times faster in NumPy
    than a reduction over two inner axes.
    """
    n, _, _, c = padded.shape
    tiles = padded.reshape(n, out_hw[0], k_hw[0], out_hw[1], k_hw[1], c)
    rows = tiles[:, :, 0]
    for i in range(1, k_hw[0]):
        rows = combine(rows, tiles[:, :, i], out=None if i == 1 else rows)
    out = rows[:, :, :, 0]
    for j in range(1, k_hw[1]):
        out = combine(out, rows[:, :, :, j], out=None if j == 1 else out)
    return out if k_hw[1] > 1 else out.copy()


def max_pool(xp: Any, x: Any, k_hw: Sequence[int], strides: Sequence[int], padding: str,
             explicit: Sequence[int] = ()) -> Any:
    n, h, w, c = x.shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding, explicit)
    padded = pad_hw(xp, x, pads, lowest(x.dtype))
    if _tiles((h, w), k_hw, strides, out_hw, pads):
        return _reduce_tiles(xp, xp.maximum, padded, k_hw, out_hw)
    out = None
    for i in range(k_hw[0]):
        for j in range(k_hw[1]):
            view = window_view(padded, i, j, out_hw, strides)
            out = view.copy() if out is None else xp.maximum(out, view, out=out)
    return out


def _first_max_masks(xp: Any, padded: Any, y: Any, k_hw: Sequence[int], out_hw: tuple[int, int],
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
    if _tiles((h, w), k_hw, strides, out_hw, pads):
        return _max_pool_grad_tiles(xp, padded, y, dy, k_hw, out_hw, pads, (h, w))
    disjoint = all(k <= s for k, s in zip(k_hw, strides, strict=True))
    buf = xp.zeros(padded.shape, dtype=dy.dtype)
    zero = dy.dtype.type(0)
    for i, j, hit in _first_max_masks(xp, padded, y, k_hw, out_hw, strides):
        target = window_view(buf, i, j, out_hw, strides)
        if disjoint:
            xp.multiply(dy, hit, out=target)
        else:
            target += xp.where(hit, dy, zero)
    (top, _), (left, _) = pads
    return buf[:, top:top + h, left:left + w, :]


def _max_pool_grad_tiles(xp: Any, padded: Any, y: Any, dy: Any, k_hw: Sequence[int], out_hw: tuple[int, int],
                         pads: Pads, in_hw: Sequence[int]) -> Any:
    """MaxPoolGrad for windows that tile the input: one broadcast comparison finds every maximum,
    a pass over the window elements keeps only the first of each window, one product routes dy."""
    n, _, _, c = padded.shape
    kh, kw = k_hw
    tiles = padded.reshape(n, out_hw[0], kh, out_hw[1], kw, c)
    hit = tiles == y[:, :, None, :, None, :]
    if kh * kw > 1:
        taken = hit[:, :, 0, :, 0, :].copy()
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    element = hit[:, :, i, :, j, :]
                    element &= ~taken
                    taken |= element
    dx = xp.multiply(hit, dy[:, :, None, :, None, :]).reshape(padded.shape)
    (top, _), (left, _) = pads
    return dx[:, top:top + in_hw[0], left:left + in_hw[1], :]


def max_pool_grad_grad(xp: Any, x: Any, y: Any, ddx: Any, k_hw: Sequence[int], strides: Sequence[int],
                       padding: str, explicit: Sequence[int] = ()) -> Any:
    """For each window, the value of `ddx` (input-shaped) at the window's first maximum."""
    n, h, w, c = x.shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding, explicit)
    padded = pad_hw(xp, x, pads, lowest(x.dtype))
    ddx_padded = pad_hw(xp, ddx, pads)
    out = xp.zeros(y.shape, dtype=ddx.dtype)
    for i, j, hit in _first_max_masks(xp, padded, y, k_hw, out_hw, strides):
        out += xp.where(hit, window_view(ddx_padded, i, j, out_hw, strides), ddx.dtype.type(0))
    return out


def avg_pool_counts(xp: Any, in_hw: Sequence[int], k_hw: Sequence[int], strides: Sequence[int],
                    out_hw: tuple[int, int], pads: Pads, dtype: Any) -> Any:
    """(Ho, Wo, 1): how many input elements (padding excluded) each window covers."""
    counts = []
    for size, k, s, o, (before, _) in zip(in_hw, k_hw, strides, out_hw, pads, strict=True):
        start = np.arange(o) * s - before
        counts.append(np.minimum(start + k, size) - np.maximum(start, 0))
    return xp.asarray(np.multiply.outer(counts[0], counts[1])[:, :, None].astype(dtype))


def avg_pool(xp: Any, x: Any, k_hw: Sequence[int], strides: Sequence[int], padding: str) -> Any:
    """Window means; SAME windows at the border divide by their count of real elements, as TF does."""
    n, h, w, c = x.shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding)
    padded = pad_hw(xp, x, pads)
    if _tiles((h, w), k_hw, strides, out_hw, pads):
        total = _reduce_tiles(xp, xp.add, padded, k_hw, out_hw)
    else:
        total = None
        for i in range(k_hw[0]):
            for j in range(k_hw[1]):
                view = window_view(padded, i, j, out_hw, strides)
                total = view.copy() if total is None else xp.add(total, view, out=total)
    if pads == ((0, 0), (0, 0)):
        return total / x.dtype.type(k_hw[0] * k_hw[1])
    return total / avg_pool_counts(xp, (h, w), k_hw, strides, out_hw, pads, x.dtype)


def avg_pool_grad(xp: Any, in_shape: Sequence[int], dy: Any, k_hw: Sequence[int], strides: Sequence[int],
                  padding: str) -> Any:
    """Spreads each output gradient evenly over the real elements of its window."""
    n, h, w, c = in_shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding)
    if pads == ((0, 0), (0, 0)):
        share = dy / dy.dtype.type(k_hw[0] * k_hw[1])
    else:
        share = dy / avg_pool_counts(xp, (h, w), k_hw, strides, out_hw, pads, dy.dtype)
    (top, bottom), (left, right) = pads
    if _tiles((h, w), k_hw, strides, out_hw, pads):
        spread = xp.broadcast_to(share[:, :, None, :, None, :],
                                 (n, out_hw[0], k_hw[0], out_hw[1], k_hw[1], c))
        padded = spread.reshape(n, h + top + bottom, w + left + right, c)
        return padded[:, top:top + h, left:left + w, :]
    buf = xp.zeros((n, h + top + bottom, w + left + right, c), dtype=dy.dtype)
    for i in range(k_hw[0]):
        for j in range(k_hw[1]):
            target = window_view(buf, i, j, out_hw, strides)
            target += share
    return buf[:, top:top + h, left:left + w, :]
