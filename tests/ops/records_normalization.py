"""Records: fused_batch_norm (training and inference, NHWC and NCHW, its gradient op through
tf.gradients so second derivatives are checked), moments, batch_normalization, l2_normalize,
and local response normalization with its gradient."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, positive, uniform

EPS = 0.001


def _bn_train(x, scale, offset, axes=(0, 1, 2), eps=EPS):
    shape = [1] * x.ndim
    channel = [i for i in range(x.ndim) if i not in axes][0]
    shape[channel] = -1
    mean, var = x.mean(axes), x.var(axes)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * scale.reshape(shape) + offset.reshape(shape)
    n = x.size // x.shape[channel]
    return y.astype(x.dtype), mean.astype(x.dtype), (var * n / (n - 1)).astype(x.dtype)


def _bn_inference(x, scale, offset, mean, var):
    return ((x - mean) / np.sqrt(var + EPS) * scale + offset).astype(x.dtype)


def _bn_backward(x, scale, offset, dy, training=True):
    axes = (0, 1, 2)
    mean, var = x.mean(axes), x.var(axes)
    inv = 1 / np.sqrt(var + EPS)
    x_hat = (x - mean) * inv
    doffset, dscale = dy.sum(axes), (dy * x_hat).sum(axes)
    n = x.size // x.shape[-1]
    dx = scale * inv * (dy - doffset / n - x_hat * dscale / n)
    return dx.astype(x.dtype), dscale.astype(x.dtype), doffset.astype(x.dtype)


def _fbn_grads(x, scale, offset, dy):
    y = tf.nn.fused_batch_norm(x, scale, offset)[0]
    return tf.gradients(y, [x, scale, offset], grad_ys=dy)


def _fbn_inference_grads(x, scale, offset, mean, var, dy):
    y = tf.nn.fused_batch_norm(x, scale, offset, mean, var, is_training=False)[0]
    return tf.gradients(y, [x, scale, offset], grad_ys=dy)


def _fbn_inference_grads_ref(x, scale, offset, mean, var, dy):
    inv = 1 / np.sqrt(var + EPS)
    return (dy * scale * inv).astype(x.dtype), (dy * (x - mean) * inv).sum((0, 1, 2)).astype(x.dtype), \
        dy.sum((0, 1, 2)).astype(x.dtype)


def _window_sums(v, radius):
    depth = v.shape[-1]
    return np.stack([v[..., max(0, d - radius):d + radius + 1].sum(-1) for d in range(depth)], -1)


def _lrn(x, radius=5, bias=1.0, alpha=1.0, beta=0.5):
    return (x / (bias + alpha * _window_sums(x * x, radius)) ** beta).astype(x.dtype)


def _lrn_backward(x, dy, radius, bias, alpha, beta):
    """dy through the Jacobian of LRN, element by element."""
    norm = bias + alpha * _window_sums(x * x, radius)
    dx = dy * norm ** -beta
    depth = x.shape[-1]
    for k in range(depth):
        for i in range(max(0, k - radius), min(depth, k + radius + 1)):
            dx[..., k] -= dy[..., i] * x[..., i] * beta * norm[..., i] ** (-beta - 1) * alpha * 2 * x[..., k]
    return dx.astype(x.dtype)


def _moments(x, axes, keep=False):
    return x.mean(axes, keepdims=keep), x.var(axes, keepdims=keep)


RECORDS = [
    OpRecord("fused_batch_norm_training", lambda x, s, o: tf.nn.fused_batch_norm(x, s, o)[0],
             lambda x, s, o: _bn_train(x, s, o)[0], [uniform(2, 3, 2, 4), positive(4), uniform(4)], rtol=1e-4,
             atol=1e-5),
    OpRecord("fused_batch_norm_training_statistics", lambda x, s, o: tf.nn.fused_batch_norm(x, s, o),
             _bn_train, [uniform(2, 3, 2, 4), positive(4), uniform(4)], grad=False, rtol=1e-4, atol=1e-5),
    OpRecord("fused_batch_norm_nchw", lambda x, s, o: tf.nn.fused_batch_norm(x, s, o, data_format="NCHW"),
             lambda x, s, o: _bn_train(x, s, o, axes=(0, 2, 3)), [uniform(2, 3, 2, 2), positive(3), uniform(3)],
             grad=False, rtol=1e-4, atol=1e-5),
    OpRecord("fused_batch_norm_nchw_y", lambda x, s, o: tf.nn.fused_batch_norm(x, s, o, data_format="NCHW")[0],
             lambda x, s, o: _bn_train(x, s, o, axes=(0, 2, 3))[0], [uniform(2, 3, 2, 2), positive(3), uniform(3)],
             rtol=1e-4, atol=1e-5),
    OpRecord("fused_batch_norm_running_average",
             lambda x, s, o, m, v: tf.nn.fused_batch_norm(x, s, o, m, v, exponential_avg_factor=0.25),
             lambda x, s, o, m, v: (_bn_train(x, s, o)[0], 0.75 * m + 0.25 * _bn_train(x, s, o)[1],
                                    0.75 * v + 0.25 * _bn_train(x, s, o)[2]),
             [uniform(2, 2, 2, 3), positive(3), uniform(3), uniform(3), positive(3)], grad=False, rtol=1e-4,
             atol=1e-5),
    OpRecord("fused_batch_norm_inference",
             lambda x, s, o, m, v: tf.nn.fused_batch_norm(x, s, o, m, v, is_training=False),
             lambda x, s, o, m, v: (_bn_inference(x, s, o, m, v), m, v),
             [uniform(2, 2, 2, 3), positive(3), uniform(3), uniform(3), positive(3)], grad=(0, 1, 2)),
    OpRecord("fused_batch_norm_grad", _fbn_grads, _bn_backward,
             [uniform(2, 2, 3, 3), positive(3), uniform(3), uniform(2, 2, 3, 3)], grad=(0, 1, 3), rtol=1e-4,
             atol=1e-5, grad_tol=1e-3),
    OpRecord("fused_batch_norm_inference_grad", _fbn_inference_grads, _fbn_inference_grads_ref,
             [uniform(2, 2, 2, 3), positive(3), uniform(3), uniform(3), positive(3), uniform(2, 2, 2, 3)],
             grad=(0, 1, 5)),
    OpRecord("moments", lambda x: tf.nn.moments(x, [0]), lambda x: _moments(x, 0), [uniform(4, 3)]),
    OpRecord("moments_keep_dims", lambda x: tf.nn.moments(x, [0, 1, 2], keep_dims=True),
             lambda x: _moments(x, (0, 1, 2), True), [uniform(2, 3, 2, 2)], rtol=1e-4, atol=1e-5),
    OpRecord("batch_normalization", tf.nn.batch_normalization,
             lambda x, m, v, o, s, eps: (x - m) / np.sqrt(v + eps) * s + o,
             [uniform(4, 3), uniform(3), positive(3), uniform(3), positive(3), np.float32(0.01)], const=(5,),
             rtol=1e-4, atol=1e-5),
    OpRecord("batch_normalization_no_offset_or_scale",
             lambda x, m, v: tf.nn.batch_normalization(x, m, v, None, None, 0.001),
             lambda x, m, v: (x - m) / np.sqrt(v + 0.001), [uniform(4, 3), uniform(3), positive(3)], rtol=1e-4,
             atol=1e-5),
    OpRecord("l2_normalize_axis1", lambda x: tf.nn.l2_normalize(x, 1),
             lambda x: x / np.sqrt((x * x).sum(1, keepdims=True)), [uniform(3, 4)]),
    OpRecord("l2_normalize_all_axes", tf.nn.l2_normalize, lambda x: x / np.sqrt((x * x).sum()), [uniform(3, 4)]),
    OpRecord("l2_normalize_dim0_epsilon", lambda x: tf.nn.l2_normalize(x, dim=0, epsilon=0.5),
             lambda x: x / np.sqrt(np.maximum((x * x).sum(0, keepdims=True), 0.5)),
             [uniform(3, 2, low=-0.3, high=0.3)], grad_tol=1e-3),
    OpRecord("lrn_defaults", tf.nn.lrn, _lrn, [uniform(1, 2, 2, 7)]),
    OpRecord("lrn_params", lambda x: tf.nn.local_response_normalization(x, 2, 1.0, 0.5, 0.75),
             lambda x: _lrn(x, 2, 1.0, 0.5, 0.75), [uniform(2, 1, 2, 6)]),
    OpRecord("lrn_grad", lambda x, dy: tf.gradients(tf.nn.lrn(x, 2, 2.0, 0.3, 0.6), x, grad_ys=dy)[0],
             lambda x, dy: _lrn_backward(x, dy, 2, 2.0, 0.3, 0.6), [uniform(1, 2, 2, 6), uniform(1, 2, 2, 6)],
             grad=False, rtol=1e-4, atol=1e-5),
]
