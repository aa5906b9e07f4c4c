"""A convolution layer and its max pooling as one `_FusedConv2DMaxPool` call
(caudal.runtime.fusion.conv_max_pools) on fast_cpu, whose numba loop never writes the convolution's
output (caudal.backends.fast_cpu.conv_pool): pooled values and workspace against the two ops'
fast_cpu kernels (bit for bit: the same sums in the same order) and the NumPy reference (to 1e-5) on
odd shapes; gradients and training through it against the NumPy backend; patterns whose
convolution output is read elsewhere run unfused; what the loop does not handle falls back."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import caudal as tf
from caudal.framework.registry import get_op_def
from tests.fast_cpu_loops import loops_loaded, require_fast_extra  # noqa: F401
from tests.session_fixtures import count_in_plans, session_on

require_fast_extra()

from caudal.backends.fast_cpu import conv_pool, loops, onednn_pool  # noqa: E402

pytestmark = pytest.mark.fast_cpu


def _attrs(padding="SAME", window=2, pool_padding="SAME"):
    return dict(strides=[1, 1, 1, 1], padding=padding, explicit_paddings=[], data_format="NHWC",
                dilations=[1, 1, 1, 1], ksize=[1, window, window, 1], pool_strides=[1, window, window, 1],
                pool_padding=pool_padding)


def _inputs(x_shape, w_shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(x_shape).astype(np.float32), rng.standard_normal(w_shape).astype(np.float32),
            (rng.standard_normal(w_shape[3]) * 0.3).astype(np.float32))


CASES = [  # x shape, filter shape, conv padding, window, pool padding
    ((3, 28, 28, 1), (3, 3, 1, 32), "SAME", 2, "SAME"),
    ((1, 7, 9, 3), (5, 3, 3, 5), "SAME", 2, "SAME"),  # odd sizes: the last windows half outside
    ((2, 10, 11, 2), (3, 2, 2, 7), "VALID", 3, "VALID"),  # rows and columns no window covers
    ((2, 7, 7, 1), (3, 3, 1, 9), "SAME", 3, "SAME"),  # windows starting a row before the output
    ((1, 5, 6, 4), (1, 1, 4, 3), "VALID", 2, "SAME"),
]


@pytest.mark.parametrize("x_shape, w_shape, padding, window, pool_padding", CASES)
def test_the_loop_matches_the_two_kernels(x_shape, w_shape, padding, window, pool_padding):
    x, w, bias = _inputs(x_shape, w_shape)
    attrs = _attrs(padding, window, pool_padding)
    shape_only, y, workspace = conv_pool.conv_max_pool(np, x, w, bias, **attrs)
    conv, want_y, want_workspace = conv_pool._unfused(np, x, w, bias, **attrs)
    assert shape_only.base is onednn_pool.SHAPE_ONLY and shape_only.shape == conv.shape
    assert not shape_only.flags.writeable
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(workspace, want_workspace)
    _, reference_y, _ = get_op_def("_FusedConv2DMaxPool").kernel_for("numpy")(np, x, w, bias, **attrs)
    np.testing.assert_allclose(y, reference_y, rtol=1e-5, atol=1e-5)


def test_nan_and_infinities_pool_as_tf_onednn_kernels():
    x, w, bias = _inputs((2, 6, 6, 1), (3, 3, 1, 4), seed=1)
    x[0, :4, :4, 0] = np.nan
    x[1, 2, 2, 0], x[1, 4, 4, 0] = np.inf, -np.inf
    _, y, workspace = conv_pool.conv_max_pool(np, x, w, bias, **_attrs())
    _, want_y, want_workspace = conv_pool._unfused(np, x, w, bias, **_attrs())
    np.testing.assert_array_equal(y, want_y)  # the ReLU of a NaN is 0, as oneDNN's post-op gives
    np.testing.assert_array_equal(workspace, want_workspace)


@pytest.mark.parametrize("change", ["channels", "stride", "float64", "nchw", "numba_missing", "window"])
def test_what_the_loop_does_not_handle_runs_unfused(change, monkeypatch):
    x, w, bias = _inputs((2, 8, 8, 6 if change == "channels" else 2), (3, 3, 6 if change == "channels" else 2, 4))
    attrs = _attrs()
    if change == "stride":
        attrs["strides"] = [1, 2, 2, 1]
    if change == "float64":
        x = x.astype(np.float64)
    if change == "nchw":
        attrs["data_format"] = "NCHW"
        attrs.update(ksize=[1, 1, 2, 2], pool_strides=[1, 1, 2, 2])
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    if change == "numba_missing":
        monkeypatch.setattr(loops, "_kernel_module", None)
    if change == "window":
        attrs["pool_strides"] = [1, 1, 1, 1]  # overlapping windows
    got = conv_pool.conv_max_pool(np, x, w, bias, **attrs)
    want = get_op_def("_FusedConv2DMaxPool").kernel_for("numpy")(np, x, w, bias, **attrs)
    assert got[0].base is not onednn_pool.SHAPE_ONLY and got[0].shape == want[0].shape
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-5)


def test_a_pooling_gradient_never_reads_a_shape_only_input():
    x, w, bias = _inputs((1, 6, 6, 1), (3, 3, 1, 2))
    shape_only, y, _ = conv_pool.conv_max_pool(np, x, w, bias, **_attrs())
    pool_attrs = dict(ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME", explicit_paddings=[],
                      data_format="NHWC")
    with pytest.raises(RuntimeError, match="the pooling's input was not kept"):
        onednn_pool.max_pool_grad_with_workspace(np, shape_only, y, y, np.zeros(3, np.uint8), **pool_attrs)


def _cnn(backend, fetch_conv=False, read_conv=False, steps=3):
    """(fetched values per step, fused calls) of a small CNN's training steps: conv + bias + ReLU + 2x2
    max pooling on one input channel, then a dense layer."""
    rng = np.random.default_rng(4)
    images = rng.random((5, 9, 9, 1), dtype=np.float32)
    labels = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 5)]
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 9, 9, 1])
        w = tf.Variable(rng.standard_normal((3, 3, 1, 6)).astype(np.float32) * 0.5)
        b = tf.Variable(np.full(6, 0.1, np.float32))
        conv = tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME") + b)
        pooled = tf.nn.max_pool(conv, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        dense = tf.Variable(rng.standard_normal((5 * 5 * 6, 3)).astype(np.float32) * 0.1)
        logits = tf.matmul(tf.reshape(pooled, [-1, 5 * 5 * 6]), dense)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits))
        if read_conv:
            loss = loss + 1e-3 * tf.reduce_sum(conv)
        train = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
        fetches = [loss, train] + ([conv] if fetch_conv else [])
        with session_on(backend) as sess:
            sess.run(tf.global_variables_initializer())
            values = [sess.run(fetches, {x: images})[:1] + sess.run([w, b, dense]) for _ in range(steps)]
            values += [sess.run(conv, {x: images})] if fetch_conv else []
            return values, count_in_plans(sess, "pool_strides=") - count_in_plans(sess, "filter_shape=")


@pytest.mark.parametrize("variant", ["plain", "fetch_conv", "read_conv"])
def test_training_through_the_fused_layer_matches_numpy(variant, monkeypatch):
    launches = []
    launch = conv_pool._launch
    monkeypatch.setattr(conv_pool, "_launch",
                        lambda *args: launches.append((args[0].__name__, args[2])) or launch(*args))
    fused, calls = _cnn("fast_cpu", fetch_conv=variant == "fetch_conv", read_conv=variant == "read_conv")
    reference, reference_calls = _cnn("numpy", fetch_conv=variant == "fetch_conv", read_conv=variant == "read_conv")
    assert reference_calls == 0
    assert calls == (1 if variant == "plain" else 0)  # the convolution's output fetched or read: unfused
    # the loops ran at each step: the layer and its pooling, then its filter and bias gradients
    loops_run = [("conv_relu_max_pool", (3, 3, 1, 6, 2, 2)), ("conv_max_pool_grads", (3, 3, 1, 6, 2, 2))]
    assert launches == (loops_run * 3 if variant == "plain" else [])
    for got, want in zip(fused, reference, strict=True):
        for g, r in zip(got if isinstance(got, list) else [got], want if isinstance(want, list) else [want],
                        strict=True):
            np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("channels", [3, 8])
def test_an_inference_plan_pools_in_the_loop_too(channels):
    x_value, w_value, b_value = _inputs((4, 11, 11, channels), (3, 3, channels, 8), seed=5)
    results = {}
    for backend in ("fast_cpu", "numpy"):
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, [None, 11, 11, channels])
            conv = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, w_value, [1, 1, 1, 1], "SAME"), b_value))
            pooled = tf.nn.max_pool(conv, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
            with session_on(backend) as sess:
                results[backend] = sess.run([pooled, tf.shape(conv)], {x: x_value})
                calls = count_in_plans(sess, "pool_strides=")
        assert calls == (1 if backend == "fast_cpu" and channels <= 4 else 0)  # many channels: _FusedConv2D
    np.testing.assert_allclose(results["fast_cpu"][0], results["numpy"][0], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(results["fast_cpu"][1], [4, 11, 11, 8])


def test_a_loop_that_fails_to_build_warns_once_and_runs_the_two_ops(monkeypatch):
    from caudal.backends.fast_cpu import _conv_pool_kernels

    def broken(*args):
        raise RuntimeError("no machine code")

    monkeypatch.setattr(_conv_pool_kernels, "conv_relu_max_pool", broken)
    monkeypatch.setattr(conv_pool, "_entries", {})
    monkeypatch.setattr(conv_pool, "_failed", "")
    x, w, bias = _inputs((2, 6, 6, 1), (3, 3, 1, 4))
    want = conv_pool._unfused(np, x, w, bias, **_attrs())
    with pytest.warns(RuntimeWarning, match="no machine code"):
        got = conv_pool.conv_max_pool(np, x, w, bias, **_attrs())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = conv_pool.conv_max_pool(np, x, w, bias, **_attrs())  # no second warning
    for result in (got, again):
        assert result[0].base is not onednn_pool.SHAPE_ONLY
        for g, r in zip(result, want, strict=True):
            np.testing.assert_array_equal(g, r)
