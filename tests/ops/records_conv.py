"""Records: conv1d, conv2d (and its backprops, conv2d_transpose), depthwise and separable convolutions.

The references loop over output positions and window elements directly, with
TF's padding rule written out here: no im2col, nothing shared with caudal.
"""
import math

import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, integers, uniform


def _pads(size, k, stride, dilation, padding, axis):
    """(output size, padding before) of one spatial axis."""
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        out = math.ceil(size / stride)
        return out, max((out - 1) * stride + eff - size, 0) // 2
    if padding == "VALID":
        return (size - eff) // stride + 1, 0
    before, after = padding[1 + axis]
    return (size + before + after - eff) // stride + 1, before


def _positions(x_shape, w_shape, strides, padding, dilations):
    """Yields (i, j, a, b, r, c): output (i, j) reads input (r, c) through window element (a, b)."""
    _, h, w, _ = x_shape
    kh, kw = w_shape[:2]
    ho, top = _pads(h, kh, strides[0], dilations[0], padding, 0)
    wo, left = _pads(w, kw, strides[1], dilations[1], padding, 1)
    for i in range(ho):
        for j in range(wo):
            for a in range(kh):
                for b in range(kw):
                    r = i * strides[0] - top + a * dilations[0]
                    c = j * strides[1] - left + b * dilations[1]
                    if 0 <= r < h and 0 <= c < w:
                        yield i, j, a, b, r, c


def _out_hw(x_shape, w_shape, strides, padding, dilations):
    return (_pads(x_shape[1], w_shape[0], strides[0], dilations[0], padding, 0)[0],
            _pads(x_shape[2], w_shape[1], strides[1], dilations[1], padding, 1)[0])


def ref_conv2d(x, w, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    ho, wo = _out_hw(x.shape, w.shape, strides, padding, dilations)
    out = np.zeros((x.shape[0], ho, wo, w.shape[3]), np.float64)
    for i, j, a, b, r, c in _positions(x.shape, w.shape, strides, padding, dilations):
        out[:, i, j, :] += x[:, r, c, :].astype(np.float64) @ w[a, b]
    return out.astype(x.dtype)


def ref_conv2d_backprop_input(x_shape, w, dy, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    dx = np.zeros(x_shape, np.float64)
    for i, j, a, b, r, c in _positions(x_shape, w.shape, strides, padding, dilations):
        dx[:, r, c, :] += dy[:, i, j, :] @ w[a, b].T
    return dx.astype(w.dtype)


def ref_conv2d_backprop_filter(x, w_shape, dy, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    dw = np.zeros(w_shape, np.float64)
    for i, j, a, b, r, c in _positions(x.shape, w_shape, strides, padding, dilations):
        dw[a, b] += x[:, r, c, :].T @ dy[:, i, j, :]
    return dw.astype(x.dtype)


def ref_depthwise(x, w, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    n, _, _, ch = x.shape
    mult = w.shape[3]
    ho, wo = _out_hw(x.shape, w.shape, strides, padding, dilations)
    out = np.zeros((n, ho, wo, ch, mult), np.float64)
    for i, j, a, b, r, c in _positions(x.shape, w.shape, strides, padding, dilations):
        out[:, i, j] += x[:, r, c, :, None] * w[a, b]
    return out.reshape(n, ho, wo, ch * mult).astype(x.dtype)


def ref_depthwise_backprop_input(x_shape, w, dy, strides=(1, 1), padding="VALID"):
    n, _, _, ch = x_shape
    dy5 = dy.reshape(dy.shape[:3] + (ch, w.shape[3]))
    dx = np.zeros(x_shape, np.float64)
    for i, j, a, b, r, c in _positions(x_shape, w.shape, strides, padding, (1, 1)):
        dx[:, r, c, :] += (dy5[:, i, j] * w[a, b]).sum(-1)
    return dx.astype(w.dtype)


def ref_depthwise_backprop_filter(x, w_shape, dy, strides=(1, 1), padding="VALID"):
    ch, mult = w_shape[2:]
    dy5 = dy.reshape(dy.shape[:3] + (ch, mult))
    dw = np.zeros(w_shape, np.float64)
    for i, j, a, b, r, c in _positions(x.shape, w_shape, strides, padding, (1, 1)):
        dw[a, b] += (x[:, r, c, :, None] * dy5[:, i, j]).sum(0)
    return dw.astype(x.dtype)


def _nchw(x):
    return x.transpose(0, 3, 1, 2)


def _nhwc(x):
    return x.transpose(0, 2, 3, 1)


EXPLICIT = [[0, 0], [1, 2], [0, 1], [0, 0]]

def _fused_conv2d(x, w, b, fused_ops):
    """TF's grappler op for Conv2D + BiasAdd (+ Relu), stride 2, SAME; plans make it (caudal.runtime.fusion)."""
    from caudal.framework.graph import apply_op

    return apply_op("_FusedConv2D", [x, w, b], dict(T=x.dtype, strides=[1, 2, 2, 1], padding="SAME",
                                                     explicit_paddings=[], data_format="NHWC",
                                                     dilations=[1, 1, 1, 1], fused_ops=fused_ops), "FusedConv2D")


RECORDS = [
    OpRecord("conv2d_valid", lambda x, w: tf.nn.conv2d(x, w, [1, 1, 1, 1], "VALID"), ref_conv2d,
             [uniform(2, 5, 5, 3), uniform(3, 3, 3, 4)], rtol=1e-4, atol=1e-5),
    OpRecord("conv2d_same_stride2_odd_padding", lambda x, w: tf.nn.conv2d(x, w, 2, "SAME"),
             lambda x, w: ref_conv2d(x, w, (2, 2), "SAME"), [uniform(2, 6, 7, 2), uniform(4, 3, 2, 3)],
             rtol=1e-4, atol=1e-5),
    OpRecord("conv2d_same_stride_1x2", lambda x, w: tf.nn.conv2d(x, w, [1, 2], "SAME"),
             lambda x, w: ref_conv2d(x, w, (1, 2), "SAME"), [uniform(1, 5, 6, 2), uniform(2, 2, 2, 3)],
             rtol=1e-4, atol=1e-5),
    OpRecord("conv2d_dilated", lambda x, w: tf.nn.conv2d(x, w, 1, "SAME", dilations=2),
             lambda x, w: ref_conv2d(x, w, (1, 1), "SAME", (2, 2)), [uniform(1, 7, 6, 2), uniform(3, 3, 2, 2)],
             rtol=1e-4, atol=1e-5),
    OpRecord("conv2d_explicit_padding", lambda x, w: tf.nn.conv2d(x, w, 1, EXPLICIT),
             lambda x, w: ref_conv2d(x, w, (1, 1), EXPLICIT), [uniform(1, 5, 5, 3), uniform(3, 3, 3, 2)],
             rtol=1e-4, atol=1e-5),
    OpRecord("conv2d_nchw", lambda x, w: tf.nn.conv2d(x, w, 2, "SAME", data_format="NCHW"),
             lambda x, w: _nchw(ref_conv2d(_nhwc(x), w, (2, 2), "SAME")),
             [uniform(2, 3, 5, 5), uniform(3, 3, 3, 4)], rtol=1e-4, atol=1e-5),
    OpRecord("conv2d_1x1_legacy_filters_arg", lambda x, w: tf.nn.conv2d(x, filters=w, strides=1, padding="SAME"),
             ref_conv2d, [uniform(2, 3, 4, 5), uniform(1, 1, 5, 3)], rtol=1e-4, atol=1e-5),
    OpRecord("conv2d_int32", lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"),
             lambda x, w: ref_conv2d(x.astype(np.int64), w, (1, 1), "SAME").astype(np.int32),
             [integers(1, 4, 4, 2), integers(3, 3, 2, 2)]),
    OpRecord("fused_conv2d_bias_relu", lambda x, w, b: _fused_conv2d(x, w, b, ["BiasAdd", "Relu"]),
             lambda x, w, b: np.maximum(ref_conv2d(x, w, (2, 2), "SAME") + b, 0),
             [uniform(2, 6, 7, 3), uniform(3, 3, 3, 4), uniform(4)], grad=False, rtol=1e-4, atol=1e-5),
    OpRecord("fused_conv2d_bias", lambda x, w, b: _fused_conv2d(x, w, b, ["BiasAdd"]),
             lambda x, w, b: ref_conv2d(x, w, (2, 2), "SAME") + b,
             [uniform(1, 5, 5, 2), uniform(2, 2, 2, 3), uniform(3)], grad=False, rtol=1e-4, atol=1e-5),
    OpRecord("conv2d_backprop_input",
             lambda s, w, dy: tf.nn.conv2d_backprop_input(s, w, dy, [1, 2, 2, 1], "SAME"),
             lambda s, w, dy: ref_conv2d_backprop_input(tuple(s), w, dy, (2, 2), "SAME"),
             [np.array([2, 5, 6, 3], np.int32), uniform(3, 3, 3, 4), uniform(2, 3, 3, 4)], const=(0,),
             rtol=1e-4, atol=1e-5),
    OpRecord("conv2d_backprop_filter",
             lambda x, s, dy: tf.nn.conv2d_backprop_filter(x, s, dy, [1, 1, 1, 1], "VALID", dilations=[1, 2, 1, 1]),
             lambda x, s, dy: ref_conv2d_backprop_filter(x, tuple(s), dy, (1, 1), "VALID", (2, 1)),
             [uniform(2, 6, 5, 3), np.array([2, 3, 3, 2], np.int32), uniform(2, 4, 3, 2)], const=(1,),
             rtol=1e-4, atol=1e-5),
    OpRecord("conv2d_transpose",
             lambda v, w: tf.nn.conv2d_transpose(v, w, [2, 7, 7, 3], [1, 2, 2, 1], "SAME"),
             lambda v, w: ref_conv2d_backprop_input((2, 7, 7, 3), w, v, (2, 2), "SAME"),
             [uniform(2, 4, 4, 5), uniform(3, 3, 3, 5)], rtol=1e-4, atol=1e-5),
    OpRecord("conv2d_transpose_nchw",
             lambda v, w: tf.nn.conv2d_transpose(v, w, [1, 2, 6, 5], [1, 1, 2, 2], "VALID", data_format="NCHW"),
             lambda v, w: _nchw(ref_conv2d_backprop_input((1, 6, 5, 2), w, _nhwc(v), (2, 2), "VALID")),
             [uniform(1, 3, 2, 2), uniform(3, 2, 2, 3)], rtol=1e-4, atol=1e-5),
    OpRecord("conv1d_same_stride2", lambda x, w: tf.nn.conv1d(x, w, 2, "SAME"),
             lambda x, w: ref_conv2d(x[:, None], w[None], (1, 2), "SAME")[:, 0],
             [uniform(2, 9, 3), uniform(3, 3, 4)], rtol=1e-4, atol=1e-5),
    OpRecord("conv1d_ncw", lambda x, w: tf.nn.conv1d(x, w, 1, "VALID", data_format="NCW"),
             lambda x, w: ref_conv2d(x.transpose(0, 2, 1)[:, None], w[None])[:, 0].transpose(0, 2, 1),
             [uniform(2, 3, 6), uniform(2, 3, 2)], rtol=1e-4, atol=1e-5),
    OpRecord("depthwise_conv2d_same", lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME"),
             lambda x, w: ref_depthwise(x, w, (1, 1), "SAME"), [uniform(2, 5, 4, 3), uniform(3, 3, 3, 2)],
             rtol=1e-4, atol=1e-5),
    OpRecord("depthwise_conv2d_valid_stride2", lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "VALID"),
             lambda x, w: ref_depthwise(x, w, (2, 2), "VALID"), [uniform(1, 6, 7, 2), uniform(2, 3, 2, 3)],
             rtol=1e-4, atol=1e-5),
    OpRecord("depthwise_conv2d_rate2", lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME", rate=[2, 2]),
             lambda x, w: ref_depthwise(x, w, (1, 1), "SAME", (2, 2)), [uniform(1, 6, 6, 2), uniform(2, 2, 2, 1)],
             rtol=1e-4, atol=1e-5),
    OpRecord("depthwise_conv2d_native_nchw",
             lambda x, w: tf.nn.depthwise_conv2d_native(x, w, [1, 1, 1, 1], "VALID", data_format="NCHW"),
             lambda x, w: _nchw(ref_depthwise(_nhwc(x), w)), [uniform(1, 2, 4, 4), uniform(2, 2, 2, 2)],
             rtol=1e-4, atol=1e-5),
    OpRecord("depthwise_backprop_input",
             lambda s, w, dy: tf.nn.depthwise_conv2d_native_backprop_input(s, w, dy, [1, 2, 2, 1], "SAME"),
             lambda s, w, dy: ref_depthwise_backprop_input(tuple(s), w, dy, (2, 2), "SAME"),
             [np.array([1, 5, 4, 2], np.int32), uniform(3, 3, 2, 2), uniform(1, 3, 2, 4)], const=(0,),
             rtol=1e-4, atol=1e-5),
    OpRecord("depthwise_backprop_filter",
             lambda x, s, dy: tf.nn.depthwise_conv2d_native_backprop_filter(x, s, dy, [1, 1, 1, 1], "VALID"),
             lambda x, s, dy: ref_depthwise_backprop_filter(x, tuple(s), dy),
             [uniform(2, 4, 5, 2), np.array([2, 2, 2, 3], np.int32), uniform(2, 3, 4, 6)], const=(1,),
             rtol=1e-4, atol=1e-5),
    OpRecord("separable_conv2d",
             lambda x, dw, pw: tf.nn.separable_conv2d(x, dw, pw, [1, 1, 1, 1], "SAME"),
             lambda x, dw, pw: ref_conv2d(ref_depthwise(x, dw, (1, 1), "SAME"), pw),
             [uniform(2, 5, 5, 3), uniform(3, 3, 3, 2), uniform(1, 1, 6, 4)], rtol=1e-4, atol=1e-5),
]
