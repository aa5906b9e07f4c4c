"""Convolution and pooling for the jax backend, on XLA's convolutions and window reductions.

Each function has the signature of its portable counterpart in
`caudal.ops._conv_kernels` (NHWC input, HWIO filter, geometry checked and
padded as TensorFlow does, by the same `spatial_geometry`), so the op
modules' kernel factories wrap them as they wrap the portable ones. The
gradients are the exact adjoints, taken with `jax.vjp` of the forward
computation (XLA turns them into convolutions and select-and-scatter):

- max pooling routes each gradient to the first maximum of its window in
  row-major order (the window reduction's `>=` selection), as TF's kernel;
- MaxPoolGradGrad keeps its portable kernel (first-maximum masks, traced),
  since XLA's window selection does not promise the first of equal maxima;
- average pooling divides SAME windows at the border by their count of real
  elements.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from caudal.ops._conv_kernels import avg_pool_counts, check_out_backprop, lowest, spatial_geometry

_NHWC = ("NHWC", "HWIO", "NHWC")


def _conv(x: Any, w: Any, strides: Sequence[int], dilations: Sequence[int], pads: Any, groups: int = 1) -> Any:
    return lax.conv_general_dilated(x, w, window_strides=tuple(strides), padding=tuple(pads),
                                    rhs_dilation=tuple(dilations), dimension_numbers=_NHWC,
                                    feature_group_count=groups)


def conv2d(xp: Any, x: Any, w: Any, strides: Sequence[int], dilations: Sequence[int], padding: str,
           explicit: Sequence[int] = ()) -> Any:
    """NHWC cross-correlation with an HWIO filter."""
    _, pads = spatial_geometry(x.shape[1:3], w.shape[:2], strides, dilations, padding, explicit)
    return _conv(x, w, strides, dilations, pads)


def conv2d_backprop_input(xp: Any, in_shape: Sequence[int], w: Any, dy: Any, strides: Sequence[int],
                          dilations: Sequence[int], padding: str, explicit: Sequence[int] = ()) -> Any:
    n, h, wd, c = in_shape
    out_hw, pads = spatial_geometry((h, wd), w.shape[:2], strides, dilations, padding, explicit)
    check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], w.shape[3]))
    _, adjoint = jax.vjp(lambda x: _conv(x, w, strides, dilations, pads), jnp.zeros(tuple(in_shape), dy.dtype))
    return adjoint(dy)[0]


def conv2d_backprop_filter(xp: Any, x: Any, filter_shape: Sequence[int], dy: Any, strides: Sequence[int],
                           dilations: Sequence[int], padding: str, explicit: Sequence[int] = ()) -> Any:
    n = x.shape[0]
    out_hw, pads = spatial_geometry(x.shape[1:3], filter_shape[:2], strides, dilations, padding, explicit)
    check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], filter_shape[3]))
    _, adjoint = jax.vjp(lambda w: _conv(x, w, strides, dilations, pads), jnp.zeros(tuple(filter_shape), dy.dtype))
    return adjoint(dy)[0]


def _depthwise(x: Any, w: Any, strides: Sequence[int], dilations: Sequence[int], pads: Any) -> Any:
    kh, kw, c, mult = w.shape
    return _conv(x, w.reshape(kh, kw, 1, c * mult), strides, dilations, pads, groups=c)


def depthwise_conv2d(xp: Any, x: Any, w: Any, strides: Sequence[int], dilations: Sequence[int],
                     padding: str, explicit: Sequence[int] = ()) -> Any:
    """Each input channel c convolved with its own filters w[:, :, c, :]; output channel c*M + m."""
    _, pads = spatial_geometry(x.shape[1:3], w.shape[:2], strides, dilations, padding, explicit)
    return _depthwise(x, w, strides, dilations, pads)


def depthwise_conv2d_backprop_input(xp: Any, in_shape: Sequence[int], w: Any, dy: Any, strides: Sequence[int],
                                    dilations: Sequence[int], padding: str, explicit: Sequence[int] = ()) -> Any:
    n, h, wd, c = in_shape
    out_hw, pads = spatial_geometry((h, wd), w.shape[:2], strides, dilations, padding, explicit)
    check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], c * w.shape[3]))
    _, adjoint = jax.vjp(lambda x: _depthwise(x, w, strides, dilations, pads), jnp.zeros(tuple(in_shape), dy.dtype))
    return adjoint(dy)[0]


def depthwise_conv2d_backprop_filter(xp: Any, x: Any, filter_shape: Sequence[int], dy: Any,
                                     strides: Sequence[int], dilations: Sequence[int], padding: str,
                                     explicit: Sequence[int] = ()) -> Any:
    n, c = x.shape[0], x.shape[3]
    out_hw, pads = spatial_geometry(x.shape[1:3], filter_shape[:2], strides, dilations, padding, explicit)
    check_out_backprop(dy.shape, (n, out_hw[0], out_hw[1], c * filter_shape[3]))
    _, adjoint = jax.vjp(lambda w: _depthwise(x, w, strides, dilations, pads),
                         jnp.zeros(tuple(filter_shape), dy.dtype))
    return adjoint(dy)[0]


# ------------------------------------------------------------------ pooling
def _window(k_hw: Sequence[int], strides: Sequence[int]) -> tuple[tuple, tuple]:
    return (1, k_hw[0], k_hw[1], 1), (1, strides[0], strides[1], 1)


def _max_pool(x: Any, k_hw: Sequence[int], strides: Sequence[int], pads: Any) -> Any:
    dims, steps = _window(k_hw, strides)
    init = np.asarray(lowest(x.dtype), x.dtype)
    return lax.reduce_window(x, init, lax.max, dims, steps, ((0, 0),) + tuple(pads) + ((0, 0),))


def max_pool(xp: Any, x: Any, k_hw: Sequence[int], strides: Sequence[int], padding: str,
             explicit: Sequence[int] = ()) -> Any:
    _, pads = spatial_geometry(x.shape[1:3], k_hw, strides, (1, 1), padding, explicit)
    return _max_pool(x, k_hw, strides, pads)


def max_pool_grad(xp: Any, x: Any, y: Any, dy: Any, k_hw: Sequence[int], strides: Sequence[int],
                  padding: str, explicit: Sequence[int] = ()) -> Any:
    """Each output gradient routed to the first maximum of its window."""
    _, pads = spatial_geometry(x.shape[1:3], k_hw, strides, (1, 1), padding, explicit)
    _, adjoint = jax.vjp(lambda v: _max_pool(v, k_hw, strides, pads), x)
    return adjoint(dy.astype(x.dtype))[0].astype(dy.dtype)


def _avg_pool(x: Any, k_hw: Sequence[int], strides: Sequence[int], pads: Any, out_hw: Any) -> Any:
    dims, steps = _window(k_hw, strides)
    total = lax.reduce_window(x, np.asarray(0, x.dtype), lax.add, dims, steps, ((0, 0),) + tuple(pads) + ((0, 0),))
    if tuple(pads) == ((0, 0), (0, 0)):
        return total / jnp.asarray(k_hw[0] * k_hw[1], x.dtype)
    return total / avg_pool_counts(jnp, x.shape[1:3], k_hw, strides, out_hw, pads, x.dtype)


def avg_pool(xp: Any, x: Any, k_hw: Sequence[int], strides: Sequence[int], padding: str) -> Any:
    """Window means; SAME windows at the border divide by their count of real elements."""
    out_hw, pads = spatial_geometry(x.shape[1:3], k_hw, strides, (1, 1), padding)
    return _avg_pool(x, k_hw, strides, pads, out_hw)


def avg_pool_grad(xp: Any, in_shape: Sequence[int], dy: Any, k_hw: Sequence[int], strides: Sequence[int],
                  padding: str) -> Any:
    out_hw, pads = spatial_geometry(tuple(in_shape)[1:3], k_hw, strides, (1, 1), padding)
    _, adjoint = jax.vjp(lambda v: _avg_pool(v, k_hw, strides, pads, out_hw), jnp.zeros(tuple(in_shape), dy.dtype))
    return adjoint(dy)[0]
