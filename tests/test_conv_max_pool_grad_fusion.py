"""The filter and bias gradients of a first convolution layer run with its max pooling, as one
`_FusedConv2DMaxPoolGrad` call (caudal.runtime.fusion.conv_max_pool_grads) whose fast_cpu loop never
writes the convolution-sized gradient (caudal.backends.fast_cpu.conv_pool): against the NumPy
reference and the four ops' fast_cpu kernels on odd shapes, with NaN; what the loop does not handle
runs the four kernels; plans fuse the pattern only where nothing else reads the layer's gradient."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import caudal as tf
from caudal.framework.registry import get_op_def
from tests.fast_cpu_loops import loops_loaded, require_fast_extra  # noqa: F401
from tests.session_fixtures import count_in_plans, session_on

require_fast_extra()

from caudal.backends.fast_cpu import conv_pool, loops  # noqa: E402
from tests.test_conv_max_pool_fusion import CASES, _attrs, _inputs  # noqa: E402

pytestmark = pytest.mark.fast_cpu

_REFERENCE_LAYER = get_op_def("_FusedConv2DMaxPool").kernel_for("numpy")
_REFERENCE_GRADS = get_op_def("_FusedConv2DMaxPoolGrad").kernel_for("numpy")


@pytest.fixture
def launches(monkeypatch):
    """The names of the loops `conv_pool` launches."""
    names = []
    launch = conv_pool._launch
    monkeypatch.setattr(conv_pool, "_launch", lambda *args: names.append(args[0].__name__) or launch(*args))
    return names


def _pooled_grad(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _reference(x, w, bias, dy, attrs):
    """The NumPy backend's gradients, from its own forward pass (which keeps the convolution's output)."""
    conv, y, workspace = _REFERENCE_LAYER(np, x, w, bias, **attrs)
    return _REFERENCE_GRADS(np, x, conv, dy, y, workspace, filter_shape=list(w.shape), **attrs)


@pytest.mark.parametrize("x_shape, w_shape, padding, window, pool_padding", CASES)
def test_the_gradient_loop_matches_the_reference(x_shape, w_shape, padding, window, pool_padding, launches):
    x, w, bias = _inputs(x_shape, w_shape)
    attrs = _attrs(padding, window, pool_padding)
    shape_only, y, workspace = conv_pool.conv_max_pool(np, x, w, bias, **attrs)
    dy = _pooled_grad(y.shape)
    got = conv_pool.conv_max_pool_grad(np, x, shape_only, dy, y, workspace, filter_shape=list(w.shape), **attrs)
    assert launches == ["conv_relu_max_pool", "conv_max_pool_grads"]
    assert got[0].dtype == got[1].dtype == np.float32
    assert got[0].shape == w.shape and got[1].shape == bias.shape
    kernels = conv_pool._unfused_grad(np, x, shape_only, dy, y, workspace, filter_shape=list(w.shape), **attrs)
    for want in (_reference(x, w, bias, dy, attrs), kernels):
        np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-4)


def test_nan_gradients_pass_the_relu_mask_as_in_tf(launches):
    x, w, bias = _inputs((2, 8, 8, 1), (3, 3, 1, 4), seed=2)
    attrs = _attrs()
    shape_only, y, workspace = conv_pool.conv_max_pool(np, x, w, bias, **attrs)
    dy = _pooled_grad(y.shape)
    dropped = tuple(np.argwhere(y == 0)[0])
    dy[dropped] = np.nan  # ReluGrad multiplies by the mask: NaN * 0 is NaN, in TF as in NumPy
    got = conv_pool.conv_max_pool_grad(np, x, shape_only, dy, y, workspace, filter_shape=list(w.shape), **attrs)
    want = _reference(x, w, bias, dy, attrs)
    assert launches[-1] == "conv_max_pool_grads"
    assert np.isnan(got[1]).tolist() == [c == dropped[3] for c in range(4)]
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-4)  # NaN where the reference has NaN
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("change", ["numpy_workspace", "numba_missing", "float64", "stride", "window"])
def test_what_the_loop_does_not_handle_runs_the_four_kernels(change, monkeypatch, launches):
    x, w, bias = _inputs((2, 8, 8, 2), (3, 3, 2, 4))
    attrs = _attrs()
    if change == "float64":
        x, w, bias = (a.astype(np.float64) for a in (x, w, bias))
    if change == "stride":
        attrs["strides"] = [1, 2, 2, 1]
    if change == "window":
        attrs["pool_strides"] = [1, 1, 1, 1]  # overlapping windows
    layer = _REFERENCE_LAYER if change == "numpy_workspace" else conv_pool._unfused
    conv, y, workspace = layer(np, x, w, bias, **attrs)  # the convolution's output kept, as the forward falls back
    if change == "numba_missing":
        monkeypatch.setattr(loops, "_kernel_module", None)
    dy = _pooled_grad(y.shape).astype(x.dtype)
    got = conv_pool.conv_max_pool_grad(np, x, conv, dy, y, workspace, filter_shape=list(w.shape), **attrs)
    assert "conv_max_pool_grads" not in launches
    kernels = conv_pool._unfused_grad(np, x, conv, dy, y, workspace, filter_shape=list(w.shape), **attrs)
    for g, k, r in zip(got, kernels, _reference(x, w, bias, dy, attrs), strict=True):
        np.testing.assert_array_equal(g, k)
        assert g.dtype == x.dtype
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-4)


def test_a_gradient_loop_that_fails_to_build_warns_once_and_runs_the_four_kernels(monkeypatch):
    from caudal.backends.fast_cpu import _conv_pool_kernels

    def broken(*args):
        raise RuntimeError("no machine code for the gradient")

    x, w, bias = _inputs((2, 6, 6, 1), (3, 3, 1, 4))
    shape_only, y, workspace = conv_pool.conv_max_pool(np, x, w, bias, **_attrs())
    dy = _pooled_grad(y.shape)
    monkeypatch.setattr(_conv_pool_kernels, "conv_max_pool_grads", broken)
    monkeypatch.setattr(conv_pool, "_entries", {})
    monkeypatch.setattr(conv_pool, "_failed", "")
    args = (np, x, shape_only, dy, y, workspace)
    want = conv_pool._unfused_grad(*args, filter_shape=list(w.shape), **_attrs())
    with pytest.warns(RuntimeWarning, match="no machine code for the gradient"):
        got = conv_pool.conv_max_pool_grad(*args, filter_shape=list(w.shape), **_attrs())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = conv_pool.conv_max_pool_grad(*args, filter_shape=list(w.shape), **_attrs())  # no second warning
    for result in (got, again):
        for g, r in zip(result, want, strict=True):
            np.testing.assert_array_equal(g, r)


def _gradients(backend, wrt):
    """(gradient values, fused gradient calls) of a small CNN's loss: conv + bias + ReLU + 2x2 max
    pooling on one input channel, then a dense layer; `wrt` names what the gradients are taken of."""
    rng = np.random.default_rng(7)
    images = rng.random((4, 10, 10, 1), dtype=np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 10, 10, 1])
        w = tf.constant(rng.standard_normal((3, 3, 1, 5)).astype(np.float32))
        b = tf.constant(np.full(5, 0.05, np.float32))
        pre_activation = tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME") + b
        pooled = tf.nn.max_pool(tf.nn.relu(pre_activation), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        dense = tf.constant(rng.standard_normal((5 * 5 * 5, 2)).astype(np.float32))
        loss = tf.reduce_sum(tf.square(tf.matmul(tf.reshape(pooled, [-1, 5 * 5 * 5]), dense)))
        tensors = dict(w=w, b=b, x=x, pre_activation=pre_activation)
        grads = tf.gradients(loss, [tensors[name] for name in wrt])
        with session_on(backend) as sess:
            return sess.run(grads, {x: images}), count_in_plans(sess, "filter_shape=")


@pytest.mark.parametrize("wrt, fused", [(("w", "b"), 1), (("b",), 0), (("w", "b", "x"), 0),
                                        (("w", "b", "pre_activation"), 0)])
def test_plans_fuse_the_gradients_only_where_nothing_else_reads_the_layers_gradient(wrt, fused):
    got, calls = _gradients("fast_cpu", wrt)
    want, reference_calls = _gradients("numpy", wrt)
    assert (calls, reference_calls) == (fused, 0)
    for g, r in zip(got, want, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-4)
