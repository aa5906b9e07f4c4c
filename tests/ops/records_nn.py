"""Records: softmax, log_softmax, relu, bias_add, in_top_k, embedding_lookup, _Dropout, _DropoutReluGrad and
_DropoutReluGradSum."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, away_from_zero, integers, uniform


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis, keepdims=True))


def _bias_nchw(x, b):
    return x + b.reshape((-1,) + (1,) * (x.ndim - 2))


def _bias_grad(x, b, dy):
    """BiasAddGrad through tf.gradients: the numeric check then differentiates BiasAddGrad."""
    return tf.gradients(tf.nn.bias_add(x, b), b, grad_ys=dy)[0]


def _in_top_k(predictions, targets, k):
    target_scores = predictions[np.arange(len(targets)), np.clip(targets, 0, predictions.shape[1] - 1)]
    higher = predictions > target_scores[:, None]
    valid = (targets >= 0) & (targets < predictions.shape[1])
    return valid & np.isfinite(predictions).all(1) & (higher.sum(1) < k)


_TIES = np.array([[1, 2, 2, 3], [1, 1, 1, 1], [np.nan, 1, 2, 3], [1, 2, np.inf, 3], [0, 5, 4, 3], [4, 3, 2, 1]],
                 np.float32)


def _mod_partitioned(p0, p1, ids):
    """The table whose row i lives in partition i % 2 at row i // 2."""
    table = np.empty((len(p0) + len(p1),) + p0.shape[1:], p0.dtype)
    table[0::2], table[1::2] = p0, p1
    return table[ids]


def _clipped(params, ids, max_norm):
    rows = params[ids]
    norms = np.sqrt((rows ** 2).sum(-1, keepdims=True))
    return rows * (max_norm / np.maximum(norms, max_norm))


def _dropout_op(x, uniform, scale_op):
    """_Dropout, the forward pass of tf.nn.dropout that plans make (caudal.runtime.fusion)."""
    from caudal.framework.graph import make_op

    inputs = [x, tf.constant(np.float32(0.8)), uniform, tf.constant(np.float32(0.5)), tf.constant(np.float32(0))]
    return make_op("_Dropout", inputs, {"scale_op": scale_op}, "Dropout").outputs


def _dropout_ref(x, uniform, divide):
    keep = uniform >= np.float32(0.5)
    scaled = x / np.float32(0.8) if divide else x * np.float32(0.8)
    return [np.where(keep, scaled, np.float32(0)).astype(np.float32), keep]


def _dropout_relu_grad_op(grad, keep, features, scale_op):
    """_DropoutReluGrad, dropout's gradient at a ReLU's output that plans make (caudal.runtime.fusion)."""
    from caudal.framework.graph import make_op

    inputs = [grad, keep, tf.constant(np.float32(0.8)), tf.constant(np.float32(0)), features]
    return make_op("_DropoutReluGrad", inputs, {"scale_op": scale_op}, "DropoutReluGrad").outputs[0]


def _dropout_relu_grad_ref(grad, keep, features, divide):
    passed = np.where(keep, grad, np.float32(0))
    scaled = passed / np.float32(0.8) if divide else passed * np.float32(0.8)
    return (scaled * (features > 0)).astype(np.float32)


def _dropout_relu_grad_sum_op(grad, keep, features):
    """_DropoutReluGradSum: _DropoutReluGrad and the Sum of its rows, as plans make it (caudal.runtime.fusion)."""
    from caudal.framework.graph import make_op

    inputs = [grad, keep, tf.constant(np.float32(0.8)), tf.constant(np.float32(0)), features]
    return make_op("_DropoutReluGradSum", inputs, {"scale_op": "RealDiv"}, "DropoutReluGradSum").outputs


def _dropout_relu_grad_sum_ref(grad, keep, features):
    result = _dropout_relu_grad_ref(grad, keep, features, True)
    return [result, result.sum(0, dtype=np.float32)]


_KEEP = np.array([[True, False, True, True, False], [False, True, True, False, True]] * 2)

RECORDS = [
    OpRecord("softmax", tf.nn.softmax, _softmax, [uniform(3, 5)]),
    OpRecord("softmax_axis0", lambda x: tf.nn.softmax(x, axis=0), lambda x: _softmax(x, 0), [uniform(3, 5)],
             dynamic=False),
    OpRecord("softmax_legacy_dim", lambda x: tf.nn.softmax(x, dim=0), lambda x: _softmax(x, 0), [uniform(4, 2)],
             dynamic=False),
    OpRecord("softmax_large_logits", tf.nn.softmax, _softmax, [uniform(2, 4, low=-500, high=500)], grad=False),
    OpRecord("log_softmax", tf.nn.log_softmax, _log_softmax, [uniform(3, 5)]),
    OpRecord("relu", tf.nn.relu, lambda x: np.maximum(x, 0), [away_from_zero(4, 3)]),
    OpRecord("relu_int32", tf.nn.relu, lambda x: np.maximum(x, 0), [np.array([-2, 0, 3], np.int32)]),
    OpRecord("nn_sigmoid", tf.nn.sigmoid, lambda x: (1 / (1 + np.exp(-x))).astype(x.dtype), [uniform(4)]),
    OpRecord("nn_tanh", tf.nn.tanh, np.tanh, [uniform(4)]),
    OpRecord("bias_add", tf.nn.bias_add, lambda x, b: x + b, [uniform(3, 4), uniform(4)]),
    OpRecord("bias_add_nhwc_rank4", tf.nn.bias_add, lambda x, b: x + b, [uniform(2, 3, 2, 4), uniform(4)]),
    OpRecord("bias_add_nchw", lambda x, b: tf.nn.bias_add(x, b, data_format="NCHW"), _bias_nchw,
             [uniform(2, 3, 2, 4), uniform(3)]),
    OpRecord("bias_add_ncw", lambda x, b: tf.nn.bias_add(x, b, data_format="NCW"), _bias_nchw,
             [uniform(2, 3, 4), uniform(3)]),
    OpRecord("bias_add_int32", tf.nn.bias_add, lambda x, b: x + b, [integers(2, 3), integers(3)]),
    OpRecord("bias_add_grad", _bias_grad, lambda x, b, dy: dy.sum(0), [uniform(3, 4), uniform(4), uniform(3, 4)]),
    OpRecord("bias_add_grad_nchw", lambda x, b, dy: tf.gradients(tf.nn.bias_add(x, b, data_format="NCHW"), b,
                                                                 grad_ys=dy)[0],
             lambda x, b, dy: dy.sum((0, 2, 3)), [uniform(2, 3, 2, 2), uniform(3), uniform(2, 3, 2, 2)]),
    OpRecord("in_top_k_ties_and_nonfinite", lambda p, t: tf.nn.in_top_k(p, t, 2), lambda p, t: _in_top_k(p, t, 2),
             [_TIES, np.array([1, 1, 1, 3, 2, 1], np.int32)], const=(1,)),
    OpRecord("in_top_k_out_of_range", lambda p, t: tf.nn.in_top_k(p, t, 3), lambda p, t: _in_top_k(p, t, 3),
             [uniform(3, 4), np.array([-1, 4, 2], np.int64)]),
    OpRecord("in_top_k_k1", lambda p, t: tf.nn.in_top_k(p, t, 1), lambda p, t: _in_top_k(p, t, 1),
             [uniform(5, 3), integers(5, low=0, high=3)]),
    OpRecord("embedding_lookup", tf.nn.embedding_lookup, lambda p, ids: p[ids],
             [uniform(5, 3), np.array([[4, 0], [2, 2]], np.int32)], const=(1,)),
    OpRecord("embedding_lookup_mod", lambda p0, p1, ids: tf.nn.embedding_lookup([p0, p1], ids), _mod_partitioned,
             [uniform(3, 2), uniform(2, 2), np.array([0, 3, 4, 1, 3], np.int64)], const=(2,), dynamic=False),
    OpRecord("embedding_lookup_div", lambda p0, p1, ids: tf.nn.embedding_lookup([p0, p1], ids,
                                                                                 partition_strategy="div"),
             lambda p0, p1, ids: np.concatenate([p0, p1])[ids],
             [uniform(3, 2), uniform(2, 2), np.array([4, 0, 3], np.int32)], const=(2,), dynamic=False),
    OpRecord("embedding_lookup_max_norm", lambda p, ids: tf.nn.embedding_lookup(p, ids, max_norm=1.5),
             lambda p, ids: _clipped(p, ids, 1.5), [uniform(4, 3), np.array([3, 1, 1], np.int32)], const=(1,),
             dynamic=False),
    OpRecord("dropout_fused_realdiv", lambda x, u: _dropout_op(x, u, "RealDiv"), lambda x, u: _dropout_ref(x, u, True),
             [uniform(4, 5), uniform(4, 5, low=0, high=1)], grad=False),
    OpRecord("dropout_fused_mul", lambda x, u: _dropout_op(x, u, "Mul"), lambda x, u: _dropout_ref(x, u, False),
             [uniform(3, 2, 2), uniform(3, 2, 2, low=0, high=1)], grad=False),
    OpRecord("dropout_relu_grad_fused_realdiv", lambda g, k, f: _dropout_relu_grad_op(g, k, f, "RealDiv"),
             lambda g, k, f: _dropout_relu_grad_ref(g, k, f, True), [uniform(4, 5), _KEEP, uniform(4, 5)], grad=False),
    OpRecord("dropout_relu_grad_fused_mul", lambda g, k, f: _dropout_relu_grad_op(g, k, f, "Mul"),
             lambda g, k, f: _dropout_relu_grad_ref(g, k, f, False), [uniform(4, 5), _KEEP, uniform(4, 5)],
             grad=False),
    OpRecord("dropout_relu_grad_sum_fused", _dropout_relu_grad_sum_op, _dropout_relu_grad_sum_ref,
             [uniform(4, 5), _KEEP[:4], uniform(4, 5)], grad=False),
]
