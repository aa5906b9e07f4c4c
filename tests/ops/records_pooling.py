"""Records: max_pool, avg_pool (2-D, 1-D), MaxPoolGrad (first maximum wins), MaxPoolGradGrad, AvgPoolGrad.

The references loop over output positions; windows are clipped to the input,
which is what TF's SAME padding amounts to (padding never wins a max and
is not counted in a mean).
"""
import math

import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, distinct, integers, uniform
from tests.ops.records_conv import ref_conv2d, ref_conv2d_backprop_filter


def _windows(shape, k, s, padding):
    """Yields (i, j, rows, cols): the input slices of output (i, j) of an NHWC input."""
    _, h, w, _ = shape
    spans = []
    for size, kk, ss in ((h, k[0], s[0]), (w, k[1], s[1])):
        if padding == "SAME":
            out = math.ceil(size / ss)
            before = max((out - 1) * ss + kk - size, 0) // 2
        else:
            out, before = (size - kk) // ss + 1, 0
        spans.append([(max(o * ss - before, 0), min(o * ss - before + kk, size)) for o in range(out)])
    for i, (r0, r1) in enumerate(spans[0]):
        for j, (c0, c1) in enumerate(spans[1]):
            yield i, j, slice(r0, r1), slice(c0, c1)


def _out_shape(shape, k, s, padding):
    last = list(_windows(shape, k, s, padding))[-1]
    return (shape[0], last[0] + 1, last[1] + 1, shape[3])


def ref_max_pool(x, k=(2, 2), s=(2, 2), padding="VALID"):
    out = np.zeros(_out_shape(x.shape, k, s, padding), x.dtype)
    for i, j, rows, cols in _windows(x.shape, k, s, padding):
        out[:, i, j, :] = x[:, rows, cols, :].max(axis=(1, 2))
    return out


def ref_avg_pool(x, k=(2, 2), s=(2, 2), padding="VALID"):
    out = np.zeros(_out_shape(x.shape, k, s, padding), x.dtype)
    for i, j, rows, cols in _windows(x.shape, k, s, padding):
        out[:, i, j, :] = x[:, rows, cols, :].mean(axis=(1, 2))
    return out


def _first_max(window):
    """(row, col) of the first maximum, in row-major order, of a 2-D window."""
    return np.unravel_index(np.argmax(window), window.shape)


def ref_max_pool_grad(x, dy, k=(2, 2), s=(2, 2), padding="VALID"):
    dx = np.zeros(x.shape, dy.dtype)
    for i, j, rows, cols in _windows(x.shape, k, s, padding):
        for n in range(x.shape[0]):
            for c in range(x.shape[3]):
                a, b = _first_max(x[n, rows, cols, c])
                dx[n, rows.start + a, cols.start + b, c] += dy[n, i, j, c]
    return dx


def ref_max_pool_grad_grad(x, ddx, k=(2, 2), s=(2, 2), padding="VALID"):
    out = np.zeros(_out_shape(x.shape, k, s, padding), ddx.dtype)
    for i, j, rows, cols in _windows(x.shape, k, s, padding):
        for n in range(x.shape[0]):
            for c in range(x.shape[3]):
                a, b = _first_max(x[n, rows, cols, c])
                out[n, i, j, c] = ddx[n, rows.start + a, cols.start + b, c]
    return out


def ref_avg_pool_grad(x_shape, dy, k=(2, 2), s=(2, 2), padding="VALID"):
    dx = np.zeros(x_shape, dy.dtype)
    for i, j, rows, cols in _windows(x_shape, k, s, padding):
        count = (rows.stop - rows.start) * (cols.stop - cols.start)
        dx[:, rows, cols, :] += dy[:, i, j, None, None, :] / count
    return dx


def _nchw(x):
    return x.transpose(0, 3, 1, 2)


def _nhwc(x):
    return x.transpose(0, 2, 3, 1)


def ties(*shape):
    """Small integers as floats: many windows hold their maximum more than once."""
    return lambda rng: rng.integers(0, 3, shape).astype(np.float32)


def _max_pool_backprop(x, dy, ksize, strides, padding):
    """MaxPoolGrad, reached as the gradient of max_pool with `dy` as the output gradient."""
    return tf.gradients(tf.nn.max_pool(x, ksize, strides, padding), x, grad_ys=dy)[0]


def _max_pool_grad_grad(x, dy, ddx, ksize, strides, padding):
    """MaxPoolGradGrad, reached as the gradient of MaxPoolGrad with respect to its `grad` input."""
    return tf.gradients(_max_pool_backprop(x, dy, ksize, strides, padding), dy, grad_ys=ddx)[0]


def _avg_pool_backprop(x, dy, ksize, strides, padding):
    return tf.gradients(tf.nn.avg_pool(x, ksize, strides, padding), x, grad_ys=dy)[0]


def _workspace_pool(x, ksize, strides, padding):
    """_MaxPoolWithWorkspace's pooled result (plans pair MaxPool with its gradient: caudal.runtime.fusion)."""
    from caudal.framework.graph import make_op

    attrs = dict(T=x.dtype, ksize=[1, *ksize, 1], strides=[1, *strides, 1], padding=padding, explicit_paddings=[],
                 data_format="NHWC")
    return make_op("_MaxPoolWithWorkspace", [x], attrs, "MaxPoolWithWorkspace").outputs, attrs


def _workspace_pool_grad(x, dy, ksize, strides, padding):
    """_MaxPoolGradWithWorkspace from the workspace _MaxPoolWithWorkspace returned."""
    from caudal.framework.graph import apply_op

    (pooled, workspace), attrs = _workspace_pool(x, ksize, strides, padding)
    return apply_op("_MaxPoolGradWithWorkspace", [x, pooled, dy, workspace], attrs, "MaxPoolGradWithWorkspace")


def _relu_pool_grad(x, dy, ksize, strides, padding):
    """_ReluMaxPoolGrad's (input gradient, sums per channel) from _MaxPoolWithWorkspace's workspace."""
    from caudal.framework.graph import make_op

    (pooled, workspace), attrs = _workspace_pool(x, ksize, strides, padding)
    return make_op("_ReluMaxPoolGrad", [x, pooled, dy, workspace], attrs, "ReluMaxPoolGrad").outputs


def _ref_relu_pool_grad(x, dy, ksize, strides, padding):
    masked = dy * (ref_max_pool(x, ksize, strides, padding) > 0)
    return ref_max_pool_grad(x, masked, ksize, strides, padding), masked.sum(axis=(0, 1, 2))


def _conv_max_pool(x, w, b, padding, window, pool_padding):
    """_FusedConv2DMaxPool's pooled result (plans run a convolution layer and its pooling as one op)."""
    from caudal.framework.graph import make_op

    attrs = dict(T=x.dtype, strides=[1, 1, 1, 1], padding=padding, explicit_paddings=[], data_format="NHWC",
                 dilations=[1, 1, 1, 1], ksize=[1, window, window, 1], pool_strides=[1, window, window, 1],
                 pool_padding=pool_padding)
    return make_op("_FusedConv2DMaxPool", [x, w, b], attrs, "FusedConv2DMaxPool").outputs[1]


def _ref_conv_max_pool(x, w, b, padding, window, pool_padding):
    conv = np.maximum(ref_conv2d(x, w, (1, 1), padding) + b, 0)
    return ref_max_pool(conv, (window, window), (window, window), pool_padding)


def _conv_max_pool_grads(x, w, b, dy, padding, window, pool_padding, filter_shape):
    """_FusedConv2DMaxPoolGrad's (filter gradient, bias gradient) of a _FusedConv2DMaxPool layer."""
    from caudal.framework.graph import make_op

    attrs = dict(T=x.dtype, strides=[1, 1, 1, 1], padding=padding, explicit_paddings=[], data_format="NHWC",
                 dilations=[1, 1, 1, 1], ksize=[1, window, window, 1], pool_strides=[1, window, window, 1],
                 pool_padding=pool_padding)
    conv, pooled, workspace = make_op("_FusedConv2DMaxPool", [x, w, b], attrs, "FusedConv2DMaxPool").outputs
    attrs["filter_shape"] = list(filter_shape)
    return make_op("_FusedConv2DMaxPoolGrad", [x, conv, dy, pooled, workspace], attrs, "FusedConv2DMaxPoolGrad").outputs


def _ref_conv_max_pool_grads(x, w, b, dy, padding, window, pool_padding):
    """The filter and bias gradients of Relu(conv(x, w) + b) pooled, the pooled gradient `dy` routed to
    each window's first maximum and masked by the ReLU."""
    conv = np.maximum(ref_conv2d(x, w, (1, 1), padding) + b, 0)
    grad = ref_max_pool_grad(conv, dy, (window, window), (window, window), pool_padding) * (conv > 0)
    return ref_conv2d_backprop_filter(x, w.shape, grad, (1, 1), padding), grad.sum(axis=(0, 1, 2))


def _grads_inputs(x_shape, w_shape, pooled_shape):
    return [uniform(*x_shape), uniform(*w_shape), uniform(w_shape[3]), uniform(*pooled_shape)]


RECORDS = [
    OpRecord("conv_relu_max_pool_fused_filter_grad",
             lambda x, w, b, dy: _conv_max_pool_grads(x, w, b, dy, "SAME", 2, "SAME", (3, 3, 1, 5))[0],
             lambda x, w, b, dy: _ref_conv_max_pool_grads(x, w, b, dy, "SAME", 2, "SAME")[0],
             _grads_inputs((2, 7, 9, 1), (3, 3, 1, 5), (2, 4, 5, 5)), rtol=1e-4, atol=1e-5, grad=False),
    OpRecord("conv_relu_max_pool_fused_bias_grad_valid_3x3",
             lambda x, w, b, dy: _conv_max_pool_grads(x, w, b, dy, "VALID", 3, "VALID", (2, 3, 3, 4))[1],
             lambda x, w, b, dy: _ref_conv_max_pool_grads(x, w, b, dy, "VALID", 3, "VALID")[1],
             _grads_inputs((1, 10, 11, 3), (2, 3, 3, 4), (1, 3, 3, 4)), rtol=1e-4, atol=1e-5, grad=False),
    OpRecord("conv_relu_max_pool_fused_filter_grad_valid_3x3",
             lambda x, w, b, dy: _conv_max_pool_grads(x, w, b, dy, "VALID", 3, "VALID", (2, 3, 3, 4))[0],
             lambda x, w, b, dy: _ref_conv_max_pool_grads(x, w, b, dy, "VALID", 3, "VALID")[0],
             _grads_inputs((1, 10, 11, 3), (2, 3, 3, 4), (1, 3, 3, 4)), rtol=1e-4, atol=1e-5, grad=False),
    OpRecord("relu_max_pool_grad_tiles", lambda x, dy: _relu_pool_grad(x, dy, (2, 2), (2, 2), "SAME")[0],
             lambda x, dy: _ref_relu_pool_grad(x, dy, (2, 2), (2, 2), "SAME")[0],
             [distinct(2, 7, 6, 3), uniform(2, 4, 3, 3)], grad=False),
    OpRecord("relu_max_pool_grad_tiles_sums", lambda x, dy: _relu_pool_grad(x, dy, (2, 2), (2, 2), "SAME")[1],
             lambda x, dy: _ref_relu_pool_grad(x, dy, (2, 2), (2, 2), "SAME")[1],
             [distinct(2, 7, 6, 3), uniform(2, 4, 3, 3)], rtol=1e-5, atol=1e-5, grad=False),
    OpRecord("relu_max_pool_grad_overlapping", lambda x, dy: _relu_pool_grad(x, dy, (3, 3), (2, 2), "VALID")[0],
             lambda x, dy: _ref_relu_pool_grad(x, dy, (3, 3), (2, 2), "VALID")[0],
             [distinct(1, 7, 8, 2), uniform(1, 3, 3, 2)], grad=False),
    OpRecord("conv_relu_max_pool_fused", lambda x, w, b: _conv_max_pool(x, w, b, "SAME", 2, "SAME"),
             lambda x, w, b: _ref_conv_max_pool(x, w, b, "SAME", 2, "SAME"),
             [uniform(2, 7, 9, 1), uniform(3, 3, 1, 5), uniform(5)], rtol=1e-4, atol=1e-5, grad=False),
    OpRecord("conv_relu_max_pool_fused_valid_3x3", lambda x, w, b: _conv_max_pool(x, w, b, "VALID", 3, "VALID"),
             lambda x, w, b: _ref_conv_max_pool(x, w, b, "VALID", 3, "VALID"),
             [uniform(1, 10, 11, 3), uniform(2, 3, 3, 4), uniform(4)], rtol=1e-4, atol=1e-5, grad=False),
    OpRecord("max_pool_2x2_tiles", lambda x: tf.nn.max_pool(x, 2, 2, "VALID"), ref_max_pool,
             [distinct(2, 4, 6, 3)]),
    OpRecord("max_pool_3x3_stride2_same", lambda x: tf.nn.max_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
             lambda x: ref_max_pool(x, (3, 3), (2, 2), "SAME"), [distinct(2, 7, 6, 2)]),
    OpRecord("max_pool_2x2_same_odd", lambda x: tf.nn.max_pool(x, 2, 2, "SAME"),
             lambda x: ref_max_pool(x, (2, 2), (2, 2), "SAME"), [distinct(1, 7, 7, 2)]),
    OpRecord("max_pool_valid_remainder", lambda x: tf.nn.max_pool(x, [2, 3], [3, 2], "VALID"),
             lambda x: ref_max_pool(x, (2, 3), (3, 2), "VALID"), [distinct(2, 7, 8, 2)]),
    OpRecord("max_pool_nchw", lambda x: tf.nn.max_pool(x, 2, 1, "SAME", data_format="NCHW"),
             lambda x: _nchw(ref_max_pool(_nhwc(x), (2, 2), (1, 1), "SAME")), [distinct(2, 3, 4, 5)]),
    OpRecord("max_pool_int32", lambda x: tf.nn.max_pool(x, 2, 2, "SAME"),
             lambda x: ref_max_pool(x, (2, 2), (2, 2), "SAME"), [integers(1, 5, 5, 2)]),
    OpRecord("max_pool2d", lambda x: tf.nn.max_pool2d(x, 3, 1, "VALID"),
             lambda x: ref_max_pool(x, (3, 3), (1, 1)), [distinct(1, 4, 5, 2)]),
    OpRecord("max_pool1d_same", lambda x: tf.nn.max_pool1d(x, 3, 2, "SAME"),
             lambda x: ref_max_pool(x[:, None], (1, 3), (1, 2), "SAME")[:, 0], [distinct(2, 9, 3)]),
    OpRecord("max_pool_with_workspace", lambda x: _workspace_pool(x, (3, 3), (2, 2), "SAME")[0][0],
             lambda x: ref_max_pool(x, (3, 3), (2, 2), "SAME"), [distinct(2, 7, 6, 2)], grad=False),
    OpRecord("max_pool_grad_with_workspace", lambda x, dy: _workspace_pool_grad(x, dy, (2, 2), (1, 1), "VALID"),
             lambda x, dy: ref_max_pool_grad(x, dy, (2, 2), (1, 1)), [ties(2, 5, 4, 3), uniform(2, 4, 3, 3)],
             grad=False),
    OpRecord("max_pool_grad_first_max_wins_ties",
             lambda x, dy: _max_pool_backprop(x, dy, 2, 1, "VALID"),
             lambda x, dy: ref_max_pool_grad(x, dy, (2, 2), (1, 1)), [ties(2, 5, 4, 3), uniform(2, 4, 3, 3)],
             grad=(1,)),
    OpRecord("max_pool_grad_same_overlapping",
             lambda x, dy: _max_pool_backprop(x, dy, 3, 2, "SAME"),
             lambda x, dy: ref_max_pool_grad(x, dy, (3, 3), (2, 2), "SAME"), [ties(1, 6, 7, 2), uniform(1, 3, 4, 2)],
             grad=(1,)),
    OpRecord("max_pool_grad_grad",
             lambda x, dy, ddx: _max_pool_grad_grad(x, dy, ddx, 2, 2, "SAME"),
             lambda x, dy, ddx: ref_max_pool_grad_grad(x, ddx, (2, 2), (2, 2), "SAME"),
             [ties(2, 5, 5, 2), uniform(2, 3, 3, 2), uniform(2, 5, 5, 2)], grad=(2,)),
    OpRecord("avg_pool_2x2_tiles", lambda x: tf.nn.avg_pool(x, 2, 2, "VALID"), ref_avg_pool, [uniform(2, 4, 6, 3)]),
    OpRecord("avg_pool_3x3_stride2_same_counts_real_elements",
             lambda x: tf.nn.avg_pool(x, [1, 3, 3, 1], [1, 2, 2, 1], "SAME"),
             lambda x: ref_avg_pool(x, (3, 3), (2, 2), "SAME"), [uniform(2, 6, 7, 2)]),
    OpRecord("avg_pool_2x2_same_odd", lambda x: tf.nn.avg_pool(x, 2, 2, "SAME"),
             lambda x: ref_avg_pool(x, (2, 2), (2, 2), "SAME"), [uniform(1, 7, 7, 2)]),
    OpRecord("avg_pool_valid_remainder", lambda x: tf.nn.avg_pool(x, [3, 2], [2, 3], "VALID"),
             lambda x: ref_avg_pool(x, (3, 2), (2, 3), "VALID"), [uniform(1, 8, 7, 2)]),
    OpRecord("avg_pool_nchw", lambda x: tf.nn.avg_pool(x, 2, 1, "SAME", data_format="NCHW"),
             lambda x: _nchw(ref_avg_pool(_nhwc(x), (2, 2), (1, 1), "SAME")), [uniform(2, 3, 4, 5)]),
    OpRecord("avg_pool2d", lambda x: tf.nn.avg_pool2d(x, 2, 1, "VALID"),
             lambda x: ref_avg_pool(x, (2, 2), (1, 1)), [uniform(1, 4, 5, 2)]),
    OpRecord("avg_pool1d", lambda x: tf.nn.avg_pool1d(x, 2, 2, "SAME"),
             lambda x: ref_avg_pool(x[:, None], (1, 2), (1, 2), "SAME")[:, 0], [uniform(2, 7, 3)]),
    OpRecord("avg_pool_grad_same",
             lambda x, dy: _avg_pool_backprop(x, dy, 3, 2, "SAME"),
             lambda x, dy: ref_avg_pool_grad(x.shape, dy, (3, 3), (2, 2), "SAME"),
             [uniform(2, 5, 6, 2), uniform(2, 3, 3, 2)], grad=(1,)),
    OpRecord("avg_pool_grad_tiles",
             lambda x, dy: _avg_pool_backprop(x, dy, 2, 2, "VALID"),
             lambda x, dy: ref_avg_pool_grad(x.shape, dy), [uniform(1, 4, 4, 3), uniform(1, 2, 2, 3)], grad=(1,)),
]
