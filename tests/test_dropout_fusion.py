"""tf.nn.dropout's forward pass as one `_Dropout` call (caudal.runtime.fusion.dropout_selects), and its
gradient at a ReLU's output as one `_DropoutReluGrad` call (`dropout_relu_grads`), on a backend with its
own kernels (fast_cpu): the same values, masks and gradients as the three ops each stands for, bit for
bit; patterns whose parts are needed elsewhere run unfused; and fast_cpu's loops against the NumPy
kernels, including NaN, infinities, -0.0 and a zero scale. A dense layer's bias gradient, the Sum of
that gradient's rows, comes from the same call (`_DropoutReluGradSum`), equal to float32 rounding."""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf
from caudal.framework.registry import get_op_def
from caudal.runtime import fusion
from tests.session_fixtures import count_in_plans, session_on

numba = pytest.importorskip("numba")

from caudal.backends.fast_cpu import loops  # noqa: E402

pytestmark = pytest.mark.fast_cpu


def _assert_same_bits(got_runs, want_runs):
    """Each run's values have the same dtypes, shapes and bytes."""
    for got_run, want_run in zip(got_runs, want_runs, strict=True):
        for got, want in zip(got_run, want_run, strict=True):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def _fused_calls(sess: tf.Session) -> int:
    return count_in_plans(sess, "scale_op=")


def _dropout_and_gradient(backend, rate_kind, features=300, fetch_scaled=False, noise_shape=None):
    """(values of y, the mask and x's gradient, fused calls) of a seeded dropout of a [64, features] x."""
    rng = np.random.default_rng(3)
    x_value = rng.standard_normal((64, features)).astype(np.float32)
    x_value[0, :3] = [np.nan, -0.0, np.inf]
    weights = rng.standard_normal(features).astype(np.float32)
    with tf.Graph().as_default():
        tf.set_random_seed(7)
        x = tf.placeholder(tf.float32, [None, features])
        feeds = {x: x_value}
        if rate_kind == "python":
            y = tf.nn.dropout(x, rate=0.3, noise_shape=noise_shape)
        else:
            keep = tf.placeholder(tf.float32)
            feeds[keep] = 0.75
            y = tf.nn.dropout(x, keep_prob=keep, noise_shape=noise_shape)
        mask = y.op.inputs[0]
        loss = tf.reduce_sum(tf.where(tf.math.is_finite(y), y, tf.zeros_like(y)) * weights)
        dx = tf.gradients(loss, x)[0]
        fetches = [y, mask, dx] + ([y.op.inputs[1]] if fetch_scaled else [])
        with session_on(backend) as sess:
            values = [sess.run(fetches, feeds) for _ in range(2)]  # the second draws the next numbers
            return values, _fused_calls(sess)


@pytest.mark.parametrize("rate_kind", ["python", "tensor"])
def test_a_dropout_runs_as_one_call_with_the_three_ops_values_and_gradient(rate_kind):
    loops._kernels()  # the loop runs once numba is loaded
    fused, calls = _dropout_and_gradient("fast_cpu", rate_kind)
    reference, reference_calls = _dropout_and_gradient("numpy", rate_kind)
    assert (calls, reference_calls) == (1, 0)
    _assert_same_bits(fused, reference)
    assert not np.array_equal(fused[0][1], fused[1][1])  # a new mask each run
    assert 0.6 < fused[0][1].mean() < 0.8


@pytest.mark.parametrize("case", ["scaled value fetched", "noise shape"])
def test_a_dropout_whose_parts_are_needed_or_whose_mask_broadcasts_is_not_fused(case):
    kwargs = {"fetch_scaled": True} if case == "scaled value fetched" else {"noise_shape": [64, 1]}
    got, calls = _dropout_and_gradient("fast_cpu", "python", **kwargs)
    want, _ = _dropout_and_gradient("numpy", "python", **kwargs)
    assert calls == 0
    for got_value, want_value in zip(got[0], want[0], strict=True):
        np.testing.assert_array_equal(got_value, want_value)


def test_a_pattern_with_another_zero_or_an_unseeded_shape_is_not_found():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 8])
        uniform = tf.random_uniform(tf.shape(x))
        keep = uniform >= 0.5
        ones = tf.where_v2(keep, x * 2.0, tf.ones_like(x))  # not +0.0 elsewhere
        other = tf.where_v2(keep, x * 2.0, tf.constant(-0.0))
        drawn_elsewhere = tf.where_v2(tf.random_uniform([4, 8]) >= 0.5, x * 2.0, tf.constant(0.0))
        ops = tf.get_default_graph().get_operations()
        assert fusion.dropout_selects(ops, (ones, other, drawn_elsewhere), ()) == {}


def _three_ops():
    return get_op_def("_Dropout").variants["numpy"]


@pytest.mark.parametrize("size", [loops.MIN_DROPOUT_SIZE - 1, loops.MIN_DROPOUT_SIZE, 70001])
@pytest.mark.parametrize("scale_op", ["Mul", "RealDiv"])
def test_the_loop_gives_the_three_ops_bits(size, scale_op):
    loops._kernels()
    rng = np.random.default_rng(size)
    x = rng.standard_normal(size).astype(np.float32)
    x[:5] = [np.nan, -0.0, np.inf, -np.inf, 1e-42]
    x.view(np.int32)[0] |= 5  # a NaN with a payload
    uniform = rng.random(size, dtype=np.float32)
    uniform[5] = np.float32(0.25)  # equal to the rate: kept
    for scale in (np.float32(0.75), np.float32(0)):  # a zero scale divides by zero, as NumPy does
        args = (x, np.asarray(scale), uniform, np.asarray(np.float32(0.25)), np.zeros((), np.float32))
        with np.errstate(all="ignore"):
            got = loops.VARIANTS["_Dropout"](np, *args, scale_op=scale_op)
            want = _three_ops()(np, *args, scale_op=scale_op)
        for g, w in zip(got, want, strict=True):
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_array_equal(g.view(np.uint8), w.view(np.uint8))
        assert got[1][5]


def test_other_inputs_run_the_three_ops():
    loops._kernels()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 100)).astype(np.float32)
    uniform = rng.random((64, 100), dtype=np.float32)
    scale, rate, zero = np.asarray(np.float32(2)), np.asarray(np.float32(0.5)), np.zeros((), np.float32)
    cases = [(x[:, ::2], scale, uniform[:, ::2], rate, zero),  # strided
             (x.astype(np.float64), scale.astype(np.float64), uniform.astype(np.float64), rate.astype(np.float64),
              zero.astype(np.float64)),
             (x, np.full(100, 2, np.float32), uniform, rate, zero),  # a vector scale
             (x, scale, uniform[:1], rate, zero)]  # a broadcast mask
    for args in cases:
        got = loops.VARIANTS["_Dropout"](np, *args, scale_op="Mul")
        want = _three_ops()(np, *args, scale_op="Mul")
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)


# ------------------------------------------------ the gradient at a ReLU's output: _DropoutReluGrad
def _relu_dropout_gradient(backend, rate_kind, fetch_relu_grad=False):
    """(values of x's gradient through `dropout(relu(1.5 x + 0.25))`, calls with a `scale_op`: the
    fused forward pass and, where fused, the gradient at the ReLU)."""
    rng = np.random.default_rng(5)
    x_value = rng.standard_normal((64, 300)).astype(np.float32)
    x_value[0, :4] = [np.nan, -0.0, np.inf, 0.0]
    weights = rng.standard_normal(300).astype(np.float32)
    with tf.Graph().as_default():
        tf.set_random_seed(11)
        x = tf.placeholder(tf.float32, [None, 300])
        hidden = tf.nn.relu(x * 1.5 + 0.25)
        feeds = {x: x_value}
        if rate_kind == "python":
            y = tf.nn.dropout(hidden, rate=0.3)
        else:
            keep = tf.placeholder(tf.float32)
            feeds[keep] = 0.75
            y = tf.nn.dropout(hidden, keep_prob=keep)
        loss = tf.reduce_sum(tf.where(tf.math.is_finite(y), y, tf.zeros_like(y)) * weights)
        fetches = [tf.gradients(loss, x)[0]]
        if fetch_relu_grad:  # the scaled gradient the ReluGrad reads, needed on its own
            relu_grad = next(op for op in tf.get_default_graph().get_operations() if op.type == "ReluGrad")
            fetches.append(relu_grad.inputs[0])
        with session_on(backend) as sess:
            values = [sess.run(fetches, feeds) for _ in range(2)]  # the second draws the next numbers
            return values, _fused_calls(sess)


@pytest.mark.parametrize("rate_kind", ["python", "tensor"])
def test_a_dropouts_gradient_at_a_relu_runs_as_one_call_with_the_three_ops_bits(rate_kind):
    loops._kernels()
    fused, calls = _relu_dropout_gradient("fast_cpu", rate_kind)
    reference, reference_calls = _relu_dropout_gradient("numpy", rate_kind)
    assert (calls, reference_calls) == (2, 0)
    _assert_same_bits(fused, reference)
    assert not np.array_equal(fused[0][0], fused[1][0])  # a new mask each run


def test_a_dropouts_gradient_needed_on_its_own_is_not_fused():
    loops._kernels()
    got, calls = _relu_dropout_gradient("fast_cpu", "python", fetch_relu_grad=True)
    want, _ = _relu_dropout_gradient("numpy", "python", fetch_relu_grad=True)
    assert calls == 1  # the forward pass alone
    for got_value, want_value in zip(got[0], want[0], strict=True):
        np.testing.assert_array_equal(got_value, want_value)


def test_a_gradient_pattern_with_another_zero_or_a_vector_scale_is_not_found():
    with tf.Graph().as_default():
        grad, features = tf.placeholder(tf.float32, [4, 8]), tf.placeholder(tf.float32, [4, 8])
        keep = tf.placeholder(tf.bool, [4, 8])
        from caudal.framework.graph import make_op

        ones = make_op("ReluGrad", [tf.where_v2(keep, grad, tf.ones_like(grad)) * 2.0, features], {}, "a").outputs[0]
        vector = make_op("ReluGrad", [tf.where_v2(keep, grad, tf.constant(0.0)) * tf.ones([8]), features], {},
                         "b").outputs[0]
        fine = make_op("ReluGrad", [tf.where_v2(keep, grad, tf.constant(0.0)) / 2.0, features], {}, "c").outputs[0]
        found = fusion.dropout_relu_grads(tf.get_default_graph().get_operations(), (ones, vector, fine), ())
        assert list(found) == [fine.op]


def _three_grad_ops():
    return get_op_def("_DropoutReluGrad").variants["numpy"]


@pytest.mark.parametrize("size", [loops.MIN_DROPOUT_SIZE - 1, loops.MIN_DROPOUT_SIZE, 70001])
@pytest.mark.parametrize("scale_op", ["Mul", "RealDiv"])
def test_the_gradient_loop_gives_the_three_ops_bits(size, scale_op):
    loops._kernels()
    rng = np.random.default_rng(size + 1)
    grad = rng.standard_normal(size).astype(np.float32)
    grad[:5] = [np.nan, -0.0, np.inf, -np.inf, 1e-42]
    grad.view(np.int32)[0] |= 5  # a NaN with a payload
    keep = rng.random(size) >= 0.25
    keep[:5] = True
    features = rng.standard_normal(size).astype(np.float32)
    features[:8] = [1.0, 2.0, -1.0, 0.0, 3.0, np.nan, -0.0, np.inf]
    for scale in (np.float32(1 / 0.75), np.float32(0)):  # a zero scale divides by zero, as NumPy does
        args = (grad, keep, np.asarray(scale), np.zeros((), np.float32), features)
        with np.errstate(all="ignore"):
            got = loops.VARIANTS["_DropoutReluGrad"](np, *args, scale_op=scale_op)
            want = _three_grad_ops()(np, *args, scale_op=scale_op)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def test_other_gradient_inputs_run_the_three_ops():
    loops._kernels()
    rng = np.random.default_rng(1)
    grad = rng.standard_normal((64, 100)).astype(np.float32)
    keep = rng.random((64, 100)) >= 0.5
    features = rng.standard_normal((64, 100)).astype(np.float32)
    scale, zero = np.asarray(np.float32(2)), np.zeros((), np.float32)
    cases = [(grad[:, ::2], keep[:, ::2], scale, zero, features[:, ::2]),  # strided
             (grad.astype(np.float64), keep, scale.astype(np.float64), zero.astype(np.float64),
              features.astype(np.float64)),
             (grad, keep, np.full(100, 2, np.float32), zero, features),  # a vector scale
             (grad, keep[:1], scale, zero, features)]  # a broadcast mask
    for args in cases:
        got = loops.VARIANTS["_DropoutReluGrad"](np, *args, scale_op="Mul")
        want = _three_grad_ops()(np, *args, scale_op="Mul")
        np.testing.assert_array_equal(got, want)


# ------------------------------------ with a dense layer's bias gradient: _DropoutReluGradSum
def _dense_dropout_gradients(backend, fetch_sum_only=False):
    """(values of the gradients of w, b and x through `dropout(relu(x @ w + b))`, the calls of
    `_DropoutReluGradSum`'s kernel)."""
    rng = np.random.default_rng(9)
    x_value = rng.standard_normal((50, 20)).astype(np.float32)
    with tf.Graph().as_default():
        tf.set_random_seed(13)
        x = tf.placeholder(tf.float32, [None, 20])
        w = tf.constant(rng.standard_normal((20, 70)).astype(np.float32))
        b = tf.constant(rng.standard_normal(70).astype(np.float32))
        y = tf.nn.dropout(tf.nn.relu(tf.matmul(x, w) + b), rate=0.25)
        loss = tf.reduce_sum(y * rng.standard_normal(70).astype(np.float32))
        fetches = tf.gradients(loss, [b] if fetch_sum_only else [w, b, x])
        with session_on(backend) as sess:
            values = [sess.run(fetches, {x: x_value}) for _ in range(2)]
            kernel = get_op_def("_DropoutReluGradSum").variants.get("fast_cpu")
            sums = sum(f is kernel for plan in sess._plans.values() for f in plan.function.__globals__.values())
            return values, sums


@pytest.mark.parametrize("fetch_sum_only", [False, True])
def test_a_dense_layers_bias_gradient_comes_from_the_dropout_gradients_call(fetch_sum_only):
    loops._kernels()
    fused, calls = _dense_dropout_gradients("fast_cpu", fetch_sum_only)
    reference, reference_calls = _dense_dropout_gradients("numpy", fetch_sum_only)
    assert (calls, reference_calls) == (1, 0)
    for got_run, want_run in zip(fused, reference, strict=True):
        for got, want in zip(got_run, want_run, strict=True):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_the_sums_are_found_for_a_sum_over_the_rows_only():
    with tf.Graph().as_default():
        grad, features = tf.placeholder(tf.float32, [4, 8]), tf.placeholder(tf.float32, [4, 8])
        keep = tf.placeholder(tf.bool, [4, 8])
        from caudal.framework.graph import make_op

        relu_grad = make_op("ReluGrad", [tf.where_v2(keep, grad, tf.constant(0.0)) / 2.0, features], {},
                            "r").outputs[0]
        over_columns = tf.reduce_sum(relu_grad, 1)
        kept_dims = tf.reduce_sum(relu_grad, 0, keepdims=True)
        ops = tf.get_default_graph().get_operations()
        found = fusion.dropout_relu_grads(ops, (relu_grad,), ())
        assert fusion.sums_of_dropout_relu_grads(ops, found, ()) == {}
        over_rows = tf.reduce_sum(relu_grad, 0)
        ops = tf.get_default_graph().get_operations()
        assert fusion.sums_of_dropout_relu_grads(ops, found, ()) == {relu_grad.op: over_rows.op}
        assert over_columns.op not in found and kept_dims.op not in found


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (100, 200), (7, 130)])
@pytest.mark.parametrize("scale_op", ["Mul", "RealDiv"])
def test_the_gradient_and_sums_loop_matches_the_ops(shape, scale_op):
    loops._kernels()
    rng = np.random.default_rng(shape[1])
    grad = rng.standard_normal(shape).astype(np.float32)
    grad.reshape(-1)[:3] = [np.nan, -0.0, np.inf][: grad.size]
    keep = rng.random(shape) >= 0.25
    features = rng.standard_normal(shape).astype(np.float32)
    args = (grad, keep, np.asarray(np.float32(1 / 0.75)), np.zeros((), np.float32), features)
    with np.errstate(all="ignore"):
        got = loops.VARIANTS["_DropoutReluGradSum"](np, *args, scale_op=scale_op)
        want = get_op_def("_DropoutReluGradSum").variants["numpy"](np, *args, scale_op=scale_op)
    np.testing.assert_array_equal(got[0].view(np.uint32), want[0].view(np.uint32))  # the gradient: bit for bit
    assert got[1].dtype == np.float32 and got[1].shape == shape[1:]
    np.testing.assert_allclose(got[1], want[1], rtol=1e-5, atol=1e-6)
    other = (grad.astype(np.float64), keep, np.asarray(1.5), np.zeros(()), features.astype(np.float64))
    with np.errstate(all="ignore"):
        got = loops.VARIANTS["_DropoutReluGradSum"](np, *other, scale_op=scale_op)
        want = get_op_def("_DropoutReluGradSum").variants["numpy"](np, *other, scale_op=scale_op)
    for g, w in zip(got, want, strict=True):  # float64 runs the ops
        np.testing.assert_array_equal(g, w)
