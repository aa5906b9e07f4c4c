"""Portable array kernels of the convolution and pooling ops (NHWC layout), and their geometry.

These are pure functions over the array namespace `xp`: they build every
result from slices, pads, stacks and products of their inputs and never write
into an array, so a traced backend (jax) runs them as they are. The NumPy
backend runs faster variants of the same functions (`_conv_kernels_numpy`:
chunked products, scratch buffers, strided additions in place); the op-record
table checks both against the same references.

- A convolution is im2col followed by one matrix product: `patches` stacks
  the KH*KW strided window views of the padded input into an
  (N, Ho, Wo, KH*KW, C) array.
- Its adjoint, `col2im`, puts each window element's values back where that
  element read them (`place`: zeros interleaved for the stride, then padding
  for the offset) and sums the KH*KW contributions. Input gradients of
  convolutions and pooling are col2im of a product or a routing of dy.

Output sizes and padding follow TensorFlow exactly: VALID gives
`ceil((in - effective_k + 1) / stride)`, SAME gives `ceil(in / stride)` with
`max((out - 1) * stride + effective_k - in, 0)` padding split so that the
extra element (if odd) goes after, and EXPLICIT takes the given pairs.
"""
from __future__ import annotations

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


def window_view(x_padded: Any, i: int, j: int, out_hw: tuple[int, int], strides: Sequence[int],
                dilations: Sequence[int] = (1, 1)) -> Any:
    """The (N, Ho, Wo, C) slice of window element (i, j) of every output position."""
    sh, sw = strides
    top, left = i * dilations[0], j * dilations[1]
    return x_padded[:, top:top + sh * (out_hw[0] - 1) + 1:sh, left:left + sw * (out_hw[1] - 1) + 1:sw, :]


def window_elements(k_hw: Sequence[int]) -> list[tuple[int, int]]:
    """The (i, j) of every window element, row-major (TF's order for ties)."""
    return [(i, j) for i in range(k_hw[0]) for j in range(k_hw[1])]


def check_out_backprop(got: Sequence[int], expected: Sequence[int]) -> None:
    if tuple(got) != tuple(expected):
        from caudal.errors import InvalidArgumentError

        raise InvalidArgumentError(None, None, f"Conv2DCustomBackprop: the shape of out_backprop "
                                               f"{list(got)} does not match the computed output "
                                               f"shape {list(expected)}")


def lowest(dtype: Any) -> Any:
    """The padding value that never wins a max: -inf for floats, the minimum for integers."""
    dtype = np.dtype(dtype)
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def tiles(in_hw: Sequence[int], k_hw: Sequence[int], strides: Sequence[int], out_hw: tuple[int, int],
          pads: Pads) -> bool:
    """Whether the windows are disjoint and cover the padded input exactly (a reshape does)."""
    return all(k == s and k * o == size + p[0] + p[1]
               for k, s, o, size, p in zip(k_hw, strides, out_hw, in_hw, pads, strict=True))


def avg_pool_counts(xp: Any, in_hw: Sequence[int], k_hw: Sequence[int], strides: Sequence[int],
                    out_hw: tuple[int, int], pads: Pads, dtype: Any) -> Any:
    """(Ho, Wo, 1): how many input elements (padding excluded) each window covers."""
    counts = []
    for size, k, s, o, (before, _) in zip(in_hw, k_hw, strides, out_hw, pads, strict=True):
        start = np.arange(o) * s - before
        counts.append(np.minimum(start + k, size) - np.maximum(start, 0))
    return xp.asarray(np.multiply.outer(counts[0], counts[1])[:, :, None].astype(dtype))


# ------------------------------------------------------- im2col and col2im
def pad_hw(xp: Any, x: Any, pads: Pads, value: Any = 0) -> Any:
    """x (NHWC) with `pads` rows and columns of `value` around it; x itself when no padding."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    return xp.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=value)


def patches(xp: Any, x: Any, k_hw: Sequence[int], out_hw: tuple[int, int], pads: Pads,
            strides: Sequence[int], dilations: Sequence[int]) -> Any:
    """The windows of x as an (N, Ho, Wo, KH*KW, C) array."""
    padded = pad_hw(xp, x, pads)
    views = [window_view(padded, i, j, out_hw, strides, dilations) for i, j in window_elements(k_hw)]
    return xp.stack(views, axis=3)


def place(xp: Any, value: Any, i: int, j: int, padded_hw: tuple[int, int], strides: Sequence[int],
          dilations: Sequence[int] = (1, 1)) -> Any:
    """The adjoint of `window_view`: an (N, Hp, Wp, C) array of zeros holding `value`
    (N, Ho, Wo, C) where window element (i, j) of each output position reads."""
    n, ho, wo, c = value.shape
    sh, sw = strides
    if sh > 1 or sw > 1:
        # stride - 1 zeros after each row and column, the trailing ones cut.
        spread = xp.pad(value[:, :, None, :, None, :], ((0, 0), (0, 0), (0, sh - 1), (0, 0), (0, sw - 1), (0, 0)))
        value = spread.reshape(n, ho * sh, wo * sw, c)[:, :max(ho - 1, 0) * sh + 1, :max(wo - 1, 0) * sw + 1, :]
    top, left = i * dilations[0], j * dilations[1]
    return xp.pad(value, ((0, 0), (top, padded_hw[0] - top - value.shape[1]),
                          (left, padded_hw[1] - left - value.shape[2]), (0, 0)))


def col2im(xp: Any, cols: Any, in_shape: Sequence[int], k_hw: Sequence[int], out_hw: tuple[int, int],
           pads: Pads, strides: Sequence[int], dilations: Sequence[int]) -> Any:
    """The adjoint of `patches`: sums (N, Ho, Wo, KH*KW, C) window values back onto an NHWC input."""
    n, h, w, c = in_shape
    (top, bottom), (left, right) = pads
    padded_hw = (h + top + bottom, w + left + right)
    total = xp.zeros((n,) + padded_hw + (c,), dtype=cols.dtype)
    for k, (i, j) in enumerate(window_elements(k_hw)):
        total = total + place(xp, cols[:, :, :, k, :], i, j, padded_hw, strides, dilations)
    return total[:, top:top + h, left:left + w, :]


# ------------------------------------------------------------------ Conv2D
def conv2d(xp: Any, x: Any, w: Any, strides: Sequence[int], dilations: Sequence[int], padding: str,
           explicit: Sequence[int] = ()) -> Any:
    """NHWC convolution (cross-correlation) of x with an HWIO filter: im2col, then one product."""
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    k = kh * kw * c
    cols = patches(xp, x, (kh, kw), out_hw, pads, strides, dilations)
    out = xp.matmul(cols.reshape(n * out_hw[0] * out_hw[1], k), w.reshape(k, o))
    return out.reshape(n, out_hw[0], out_hw[1], o)


def conv2d_backprop_input(xp: Any, in_shape: Sequence[int], w: Any, dy: Any, strides: Sequence[int],
                          dilations: Sequence[int], padding: str, explicit: Sequence[int] = ()) -> Any:
    """The gradient of `conv2d` with respect to x, for an input of shape `in_shape`: the window
    values dy @ w.T, summed back onto the input by col2im."""
    n, h, wd, c = in_shape
    kh, kw, _, o = w.shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], o))
    cols = xp.matmul(dy.reshape(n * out_hw[0] * out_hw[1], o), w.reshape(kh * kw * c, o).T)
    cols = cols.reshape(n, out_hw[0], out_hw[1], kh * kw, c)
    return col2im(xp, cols, in_shape, (kh, kw), out_hw, pads, strides, dilations)


def conv2d_backprop_filter(xp: Any, x: Any, filter_shape: Sequence[int], dy: Any, strides: Sequence[int],
                           dilations: Sequence[int], padding: str, explicit: Sequence[int] = ()) -> Any:
    """The gradient of `conv2d` with respect to its HWIO filter of shape `filter_shape`: the
    patches' transpose times dy."""
    n, h, wd, c = x.shape
    kh, kw, _, o = filter_shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], o))
    m, k = n * out_hw[0] * out_hw[1], kh * kw * c
    cols = patches(xp, x, (kh, kw), out_hw, pads, strides, dilations)
    return xp.matmul(cols.reshape(m, k).T, dy.reshape(m, o)).reshape(kh, kw, c, o)


# --------------------------------------------------------- depthwise Conv2D
def depthwise_conv2d(xp: Any, x: Any, w: Any, strides: Sequence[int], dilations: Sequence[int],
                     padding: str, explicit: Sequence[int] = (), patches: Any = patches) -> Any:
    """Each input channel c convolved with its own M filters w[:, :, c, :]; output channel c*M + m."""
    n, h, wd, c = x.shape
    kh, kw, _, mult = w.shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    cols = patches(xp, x, (kh, kw), out_hw, pads, strides, dilations)
    out = xp.einsum("nhwkc,kcm->nhwcm", cols, w.reshape(kh * kw, c, mult))
    return out.reshape(n, out_hw[0], out_hw[1], c * mult)


def depthwise_conv2d_backprop_input(xp: Any, in_shape: Sequence[int], w: Any, dy: Any, strides: Sequence[int],
                                    dilations: Sequence[int], padding: str, explicit: Sequence[int] = (),
                                    col2im: Any = col2im) -> Any:
    n, h, wd, c = in_shape
    kh, kw, _, mult = w.shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], c * mult))
    dy5 = dy.reshape(n, out_hw[0], out_hw[1], c, mult)
    cols = xp.einsum("nhwcm,kcm->nhwkc", dy5, w.reshape(kh * kw, c, mult))
    return col2im(xp, cols, in_shape, (kh, kw), out_hw, pads, strides, dilations)


def depthwise_conv2d_backprop_filter(xp: Any, x: Any, filter_shape: Sequence[int], dy: Any,
                                     strides: Sequence[int], dilations: Sequence[int], padding: str,
                                     explicit: Sequence[int] = (), patches: Any = patches) -> Any:
    n, h, wd, c = x.shape
    kh, kw, _, mult = filter_shape
    out_hw, pads = spatial_geometry((h, wd), (kh, kw), strides, dilations, padding, explicit)
    check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], c * mult))
    cols = patches(xp, x, (kh, kw), out_hw, pads, strides, dilations)
    dy5 = dy.reshape(n, out_hw[0], out_hw[1], c, mult)
    return xp.einsum("nhwkc,nhwcm->kcm", cols, dy5).reshape(kh, kw, c, mult)


# ------------------------------------------------------------------ pooling
def max_pool(xp: Any, x: Any, k_hw: Sequence[int], strides: Sequence[int], padding: str,
             explicit: Sequence[int] = ()) -> Any:
    n, h, w, c = x.shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding, explicit)
    padded = pad_hw(xp, x, pads, lowest(x.dtype))
    views = [window_view(padded, i, j, out_hw, strides) for i, j in window_elements(k_hw)]
    return xp.max(xp.stack(views), axis=0)


def first_max_masks(xp: Any, padded: Any, y: Any, k_hw: Sequence[int], out_hw: tuple[int, int],
                    strides: Sequence[int]) -> Any:
    """Yields (i, j, mask): mask marks the outputs whose FIRST maximum (row-major) is element (i, j)."""
    taken = xp.zeros(y.shape, dtype=bool)
    for i, j in window_elements(k_hw):
        hit = (window_view(padded, i, j, out_hw, strides) == y) & ~taken
        taken = taken | hit
        yield i, j, hit


def max_pool_grad(xp: Any, x: Any, y: Any, dy: Any, k_hw: Sequence[int], strides: Sequence[int],
                  padding: str, explicit: Sequence[int] = ()) -> Any:
    """Routes each output gradient to the first maximum of its window, as TF's CPU kernel does."""
    n, h, w, c = x.shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding, explicit)
    padded = pad_hw(xp, x, pads, lowest(x.dtype))
    padded_hw = (padded.shape[1], padded.shape[2])
    zeros = xp.zeros_like(dy)
    total = xp.zeros((n,) + padded_hw + (c,), dtype=dy.dtype)
    for i, j, hit in first_max_masks(xp, padded, y, k_hw, out_hw, strides):
        total = total + place(xp, xp.where(hit, dy, zeros), i, j, padded_hw, strides)
    (top, _), (left, _) = pads
    return total[:, top:top + h, left:left + w, :]


def max_pool_grad_grad(xp: Any, x: Any, y: Any, ddx: Any, k_hw: Sequence[int], strides: Sequence[int],
                       padding: str, explicit: Sequence[int] = ()) -> Any:
    """For each window, the value of `ddx` (input-shaped) at the window's first maximum."""
    n, h, w, c = x.shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding, explicit)
    padded = pad_hw(xp, x, pads, lowest(x.dtype))
    ddx_padded = pad_hw(xp, ddx, pads)
    out = xp.zeros(y.shape, dtype=ddx.dtype)
    for i, j, hit in first_max_masks(xp, padded, y, k_hw, out_hw, strides):
        out = out + xp.where(hit, window_view(ddx_padded, i, j, out_hw, strides), xp.zeros_like(out))
    return out


def avg_pool(xp: Any, x: Any, k_hw: Sequence[int], strides: Sequence[int], padding: str) -> Any:
    """Window means; SAME windows at the border divide by their count of real elements, as TF does."""
    n, h, w, c = x.shape
    out_hw, pads = spatial_geometry((h, w), k_hw, strides, (1, 1), padding)
    padded = pad_hw(xp, x, pads)
    views = [window_view(padded, i, j, out_hw, strides) for i, j in window_elements(k_hw)]
    total = xp.sum(xp.stack(views), axis=0, dtype=x.dtype)
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
    padded_hw = (h + top + bottom, w + left + right)
    total = xp.zeros((n,) + padded_hw + (c,), dtype=dy.dtype)
    for i, j in window_elements(k_hw):
        total = total + place(xp, share, i, j, padded_hw, strides)
    return total[:, top:top + h, left:left + w, :]
