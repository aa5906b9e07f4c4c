"""The numba loops of the fast_cpu backend (caudal.backends.fast_cpu.loops) against the NumPy
variants they replace: pooling and its gradients, Relu/ReluGrad, BiasAdd/BiasAddGrad and the
optimizer updates (`updates`); what they route to NumPy; the cache directory and thread settings."""
from __future__ import annotations

import json
import os
import threading
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("numba")

import caudal as tf  # noqa: E402
from caudal.backends.fast_cpu import loops, uniform, updates  # noqa: E402
from caudal.errors import InvalidArgumentError  # noqa: E402
from caudal.framework.registry import get_op_def  # noqa: E402
from tests.update_fixtures import VariablesContext  # noqa: E402

pytestmark = pytest.mark.fast_cpu

BIG = loops.MIN_ELEMENTWISE_SIZE + 1000


@pytest.fixture
def ran(monkeypatch):
    """The names of the numba loops that ran (through `loops._run_on`)."""
    names: list[str] = []
    run_on = loops._run_on

    def spy(count, kernel, *args):
        names.append(kernel.__name__)
        return run_on(count, kernel, *args)

    monkeypatch.setattr(loops, "_run_on", spy)
    return names


def _numpy(op_type):
    op_def = get_op_def(op_type)
    return op_def.variants.get("numpy", op_def.kernel)


def _close(got, want, rtol=1e-5):
    assert got.shape == want.shape and got.dtype == want.dtype
    scale = float(np.max(np.abs(want))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


def _pool_attrs(k, s, padding, data_format, explicit=()):
    def four(pair):
        return [1, pair[0], pair[1], 1] if data_format == "NHWC" else [1, 1, pair[0], pair[1]]

    return dict(ksize=four(k), strides=four(s), padding=padding, explicit_paddings=list(explicit),
                data_format=data_format)


def _nchw(shape_nhwc, data_format):
    n, h, w, c = shape_nhwc
    return (n, h, w, c) if data_format == "NHWC" else (n, c, h, w)


# (NHWC shape, window, strides): batch 1, one channel, odd sizes with stride 2, overlapping windows.
POOL_CASES = [
    ((2, 28, 28, 8), (2, 2), (2, 2)),
    ((1, 7, 9, 3), (2, 2), (2, 2)),
    ((3, 5, 5, 1), (3, 3), (2, 2)),
    ((2, 9, 7, 4), (3, 3), (1, 1)),
    ((1, 6, 11, 5), (3, 2), (2, 3)),
    ((2, 4, 4, 3), (1, 1), (1, 1)),
    ((1, 5, 5, 2), (5, 5), (1, 1)),
    ((2, 7, 8, 3), (1, 2), (2, 3)),
]


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("shape,k,s", POOL_CASES)
def test_max_pool_and_its_gradient_match_numpy(ran, shape, k, s, padding, data_format):
    rng = np.random.default_rng(sum(shape) + sum(k) + sum(s))
    x = rng.standard_normal(_nchw(shape, data_format)).astype(np.float32)
    attrs = _pool_attrs(k, s, padding, data_format)
    y = loops.VARIANTS["MaxPool"](np, x, **attrs)
    want_y = _numpy("MaxPool")(np, x, **attrs)
    np.testing.assert_array_equal(y, want_y)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    _close(loops.VARIANTS["MaxPoolGrad"](np, x, y, dy, **attrs), _numpy("MaxPoolGrad")(np, x, want_y, dy, **attrs))
    layout = data_format.lower()
    assert ran == [f"max_pool_{layout}", f"max_pool_grad_{layout}"]


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("shape,k,s", POOL_CASES)
def test_max_pool_gradient_goes_to_the_first_maximum_of_tied_windows(shape, k, s, padding, data_format):
    rng = np.random.default_rng(7 + sum(shape))
    x = rng.integers(0, 3, _nchw(shape, data_format)).astype(np.float32)  # many ties in every window
    attrs = _pool_attrs(k, s, padding, data_format)
    y = loops.VARIANTS["MaxPool"](np, x, **attrs)
    dy = rng.uniform(1, 2, y.shape).astype(np.float32)
    _close(loops.VARIANTS["MaxPoolGrad"](np, x, y, dy, **attrs), _numpy("MaxPoolGrad")(np, x, y, dy, **attrs))


def test_a_tied_window_sends_its_gradient_to_the_first_element_row_major_and_padding_never_wins():
    x = np.zeros((1, 3, 3, 1), np.float32)
    x[0, 2, 2, 0] = -1.0
    attrs = _pool_attrs((2, 2), (2, 2), "SAME", "NHWC")
    y = loops.VARIANTS["MaxPool"](np, x, **attrs)
    np.testing.assert_array_equal(y[0, :, :, 0], [[0, 0], [0, -1]])
    dx = loops.VARIANTS["MaxPoolGrad"](np, x, y, np.array([1, 2, 3, 4], np.float32).reshape(1, 2, 2, 1), **attrs)
    # Each window's first element holds its maximum; the last window is x[2, 2] alone (padding around it).
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0, 2], [0, 0, 0], [3, 0, 4]])


EDGES = os.path.join(os.path.dirname(__file__), "fixtures", "pooling_edges", "max_pool_grad.json")


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_max_pool_grad_follows_tensorflow_where_the_maximum_is_a_nan_or_minus_infinity(ran, data_format):
    """TF takes a window's first real element and moves only to a strictly greater one: a NaN
    never takes the gradient unless it comes first, and padding never does (NumPy's variant,
    which compares with the pooled value, drops these gradients)."""
    with open(EDGES) as f:
        records = json.load(f)
    for record in records:
        x = np.array([np.nan if v is None else v for v in record["x"]], np.float32).reshape(record["shape"])
        dy = np.array(record["dy"], np.float32).reshape(record["dy_shape"])
        want = np.array(record["dx"], np.float32).reshape(record["shape"])
        if data_format == "NCHW":
            x, dy, want = (a.transpose(0, 3, 1, 2).copy() for a in (x, dy, want))
        attrs = _pool_attrs((record["k"], record["k"]), (record["k"], record["k"]), record["padding"], data_format)
        y = _numpy("MaxPool")(np, x, **attrs)
        np.testing.assert_array_equal(loops.VARIANTS["MaxPoolGrad"](np, x, y, dy, **attrs), want,
                                      err_msg=record["name"])
    assert ran == [f"max_pool_grad_{data_format.lower()}"] * len(records)


def test_max_pool_with_explicit_padding_matches_numpy(ran):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 5, 3)).astype(np.float32)
    for data_format, explicit in (("NHWC", [0, 0, 1, 2, 2, 0, 0, 0]), ("NCHW", [0, 0, 0, 0, 1, 2, 2, 0])):
        xin = x if data_format == "NHWC" else x.transpose(0, 3, 1, 2).copy()
        attrs = _pool_attrs((3, 3), (2, 1), "EXPLICIT", data_format, explicit)
        y = loops.VARIANTS["MaxPool"](np, xin, **attrs)
        np.testing.assert_array_equal(y, _numpy("MaxPool")(np, xin, **attrs))
        dy = rng.standard_normal(y.shape).astype(np.float32)
        _close(loops.VARIANTS["MaxPoolGrad"](np, xin, y, dy, **attrs), _numpy("MaxPoolGrad")(np, xin, y, dy, **attrs))
    assert ran == ["max_pool_nhwc", "max_pool_grad_nhwc", "max_pool_nchw", "max_pool_grad_nchw"]


def test_max_pool_propagates_nan_like_numpy():
    x = np.arange(2 * 4 * 4 * 2, dtype=np.float32).reshape(2, 4, 4, 2)
    x[0, 1, 1, 0] = np.nan
    attrs = _pool_attrs((2, 2), (2, 2), "VALID", "NHWC")
    np.testing.assert_array_equal(loops.VARIANTS["MaxPool"](np, x, **attrs), _numpy("MaxPool")(np, x, **attrs))


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("shape,k,s", POOL_CASES)
def test_avg_pool_and_its_gradient_match_numpy(ran, shape, k, s, padding, data_format):
    rng = np.random.default_rng(11 + sum(shape) + sum(k) + sum(s))
    x = rng.standard_normal(_nchw(shape, data_format)).astype(np.float32)
    attrs = _pool_attrs(k, s, padding, data_format)
    del attrs["explicit_paddings"]
    y = loops.VARIANTS["AvgPool"](np, x, **attrs)
    _close(y, _numpy("AvgPool")(np, x, **attrs))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    sizes = np.array(x.shape, np.int32)
    _close(loops.VARIANTS["AvgPoolGrad"](np, sizes, dy, **attrs), _numpy("AvgPoolGrad")(np, sizes, dy, **attrs))
    layout = data_format.lower()
    assert ran == [f"avg_pool_{layout}", f"avg_pool_grad_{layout}"]


def test_avg_pool_divides_same_border_windows_by_their_real_elements():
    x = np.ones((1, 3, 3, 1), np.float32)
    attrs = dict(ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME", data_format="NHWC")
    np.testing.assert_array_equal(loops.VARIANTS["AvgPool"](np, x, **attrs), np.ones((1, 2, 2, 1), np.float32))
    dx = loops.VARIANTS["AvgPoolGrad"](np, np.array([1, 3, 3, 1], np.int32), np.ones((1, 2, 2, 1), np.float32),
                                       **attrs)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.5, 1.0]])


def _pool_calls(x, y, dy, data_format="NHWC"):
    attrs = _pool_attrs((2, 2), (2, 2), "SAME", data_format)
    avg_attrs = {key: value for key, value in attrs.items() if key != "explicit_paddings"}
    sizes = np.array(x.shape, np.int32)
    return [("MaxPool", (x,), attrs), ("MaxPoolGrad", (x, y, dy), attrs), ("AvgPool", (x,), avg_attrs),
            ("AvgPoolGrad", (sizes, dy), avg_attrs)]


@pytest.mark.parametrize("case", ["float64", "non-contiguous", "zero batch", "zero channels"])
def test_pooling_routes_what_it_does_not_handle_to_numpy_with_the_same_result(ran, case):
    rng = np.random.default_rng(5)
    base = rng.standard_normal((2, 7, 7, 3))
    if case == "float64":
        x = base
    elif case == "non-contiguous":
        x = base.astype(np.float32)[:, :, :, ::-1]
    elif case == "zero batch":
        x = np.zeros((0, 7, 7, 3), np.float32)
    else:
        x = np.zeros((2, 7, 7, 0), np.float32)
    y = _numpy("MaxPool")(np, x, **_pool_attrs((2, 2), (2, 2), "SAME", "NHWC"))
    dy = np.ones(y.shape, x.dtype)
    if case == "non-contiguous":
        dy = np.ones(y.shape[:3] + (2 * y.shape[3],), x.dtype)[:, :, :, ::2]
    for op_type, inputs, attrs in _pool_calls(x, y, dy):
        got = loops.VARIANTS[op_type](np, *inputs, **attrs)
        want = _numpy(op_type)(np, *inputs, **attrs)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    assert ran == []


def test_pooling_reads_a_transposed_nchw_view_through_numpy():
    x = np.random.default_rng(2).standard_normal((2, 6, 6, 3)).astype(np.float32).transpose(0, 3, 1, 2)
    attrs = _pool_attrs((2, 2), (2, 2), "VALID", "NCHW")
    np.testing.assert_array_equal(loops.VARIANTS["MaxPool"](np, x, **attrs), _numpy("MaxPool")(np, x, **attrs))


def test_pooling_keeps_numpys_error_for_a_window_larger_than_a_valid_input():
    x = np.ones((1, 2, 2, 1), np.float32)
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 3 from 2"):
        loops.VARIANTS["MaxPool"](np, x, **_pool_attrs((3, 3), (1, 1), "VALID", "NHWC"))


def test_max_pool_grad_routes_a_gradient_of_the_wrong_shape_to_numpy(ran):
    x = np.ones((1, 4, 4, 1), np.float32)
    attrs = _pool_attrs((2, 2), (2, 2), "VALID", "NHWC")
    y = loops.VARIANTS["MaxPool"](np, x, **attrs)
    with pytest.raises(ValueError):
        loops.VARIANTS["MaxPoolGrad"](np, x, y, np.ones((1, 3, 3, 1), np.float32), **attrs)
    assert ran == ["max_pool_nhwc"]


# ---------------------------------------------------------------- elementwise
@pytest.mark.parametrize("shape", [(BIG,), (128, 28, 28, 32), (7, 3), (1000,)])
def test_relu_grad_matches_numpy(ran, shape):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    x.reshape(-1)[:4] = [np.nan, -0.0, 0.0, np.inf]
    g.reshape(-1)[4:7] = [np.nan, np.inf, -np.inf]
    with np.errstate(invalid="ignore"):  # inf * 0 in NumPy's variant (also the route of small arrays)
        want = _numpy("ReluGrad")(np, g, x)
        got = loops.VARIANTS["ReluGrad"](np, g, x)
    np.testing.assert_array_equal(got, want)
    assert not np.shares_memory(got, g) and not np.shares_memory(got, x)
    assert ran == (["relu_grad"] if x.size >= loops.MIN_ELEMENTWISE_SIZE else [])


def test_relu_grad_routes_float64_non_contiguous_and_broadcast_inputs_to_numpy(ran):
    x = np.random.default_rng(0).standard_normal((2 * BIG,))
    np.testing.assert_array_equal(loops.VARIANTS["ReluGrad"](np, x, x), x * (x > 0))
    strided = x.astype(np.float32)[::2]
    np.testing.assert_array_equal(loops.VARIANTS["ReluGrad"](np, strided, strided), strided * (strided > 0))
    rows = x.astype(np.float32).reshape(-1, 2)
    np.testing.assert_array_equal(loops.VARIANTS["ReluGrad"](np, rows, rows[:1]), rows * (rows[:1] > 0))
    assert ran == []


def test_the_in_place_relu_grad_loads_numba_only_for_a_pass_that_pays_for_it(ran, monkeypatch):
    monkeypatch.setattr(loops, "_kernel_module", None)
    g, x = np.ones(BIG, np.float32), np.ones(BIG, np.float32)
    assert loops.INPLACE_VARIANTS["ReluGrad"](np, g, x) is g and ran == []
    big = np.ones(loops.MIN_UPDATE_SIZE, np.float32)
    assert loops.INPLACE_VARIANTS["ReluGrad"](np, big, big) is big and ran == ["relu_grad_into"]


def test_an_update_loads_numba_only_when_it_pays_for_it(ran, monkeypatch):
    monkeypatch.setattr(loops, "_kernel_module", None)
    monkeypatch.setattr(loops, "_numpy_seconds", 0.0)
    slots, inputs, attrs = OPTIMIZERS["ApplyRMSProp"]
    for size, loaded in ((BIG, []), (loops.MIN_UPDATE_SIZE, ["rms_prop_update"])):
        fast, _ = _optimizer_contexts(slots, (size,), np.random.default_rng(3))
        grad = np.ones(size, np.float32)
        updates.VARIANTS["ApplyRMSProp"](fast, *inputs(grad), **attrs, var="var", slots=slots,
                                       op=SimpleNamespace(type="ApplyRMSProp"))
        assert ran == loaded
    assert loops._kernel_module is not None


def test_numba_loads_once_numpys_passes_have_taken_as_long_as_loading_it(ran, monkeypatch):
    """Rent or buy: NumPy's time in passes a loop would run counts towards LOAD_SECONDS; small
    passes, and passes once numba is loaded, do not count."""
    monkeypatch.setattr(loops, "_kernel_module", None)
    monkeypatch.setattr(loops, "_numpy_seconds", 0.0)
    slots, inputs, attrs = OPTIMIZERS["ApplyAdam"]
    kwargs = dict(attrs, var="var", slots=slots, op=SimpleNamespace(type="ApplyAdam"))
    small, _ = _optimizer_contexts(slots, (300,), np.random.default_rng(4))
    updates.VARIANTS["ApplyAdam"](small, *inputs(np.ones(300, np.float32)), **kwargs)
    assert loops._numpy_seconds == 0.0
    fast, reference = _optimizer_contexts(slots, (BIG,), np.random.default_rng(5))
    grad = np.full(BIG, 0.5, np.float32)
    updates.VARIANTS["ApplyAdam"](fast, *inputs(grad), **kwargs)
    assert ran == [] and 0.0 < loops._numpy_seconds < loops.LOAD_SECONDS and loops._kernel_module is None
    monkeypatch.setattr(loops, "_numpy_seconds", loops.LOAD_SECONDS)
    updates.VARIANTS["ApplyAdam"](fast, *inputs(grad), **kwargs)
    assert ran == ["adam_update"] and loops._kernel_module is not None
    for _ in range(2):
        _numpy("ApplyAdam")(reference, *inputs(grad), **kwargs)
    _close(fast.variables["var"], reference.variables["var"], rtol=1e-6)
    counted = loops._numpy_seconds
    updates.VARIANTS["ApplyAdam"](fast, *inputs(grad), **kwargs)
    assert loops._numpy_seconds == counted
    # Once loaded, small updates run the loop too (its call costs less than NumPy's passes).
    small_reference = _optimizer_contexts(slots, (300,), np.random.default_rng(4))[0]
    _numpy("ApplyAdam")(small_reference, *inputs(np.ones(300, np.float32)), **kwargs)
    updates.VARIANTS["ApplyAdam"](small, *inputs(np.ones(300, np.float32)), **kwargs)
    _numpy("ApplyAdam")(small_reference, *inputs(np.ones(300, np.float32)), **kwargs)
    assert ran == ["adam_update"] * 3
    _close(small.variables["var"], small_reference.variables["var"], rtol=1e-6)


@pytest.mark.parametrize("shape", [(128, 28, 28, 32), (BIG,), (7, 3)])
def test_the_in_place_relu_grad_writes_into_the_gradient_and_matches_numpy(ran, shape):
    loops._kernels()  # numba loaded: every pass of 2^16 values or more runs the loop
    rng = np.random.default_rng(len(shape) + 10)
    x = rng.standard_normal(shape).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    x.reshape(-1)[:4] = [np.nan, -0.0, 0.0, np.inf]
    g.reshape(-1)[4:7] = [np.nan, np.inf, -np.inf]
    with np.errstate(invalid="ignore"):
        want = _numpy("ReluGrad")(np, g, x)
        got = loops.INPLACE_VARIANTS["ReluGrad"](np, g, x)
    np.testing.assert_array_equal(got, want)
    assert got is g or (x.size < loops.MIN_ELEMENTWISE_SIZE and np.shares_memory(got, g))
    assert ran == (["relu_grad_into"] if x.size >= loops.MIN_ELEMENTWISE_SIZE else [])


def test_plans_of_the_fast_cpu_backend_run_its_in_place_relu_grad(ran):
    """A plan may overwrite ReluGrad's dead gradient: on fast_cpu with the loop, on numpy with NumPy's kernel."""
    from caudal.backends.fast_cpu.backend import load_kernels

    load_kernels()
    loops._kernels()
    op_def = get_op_def("ReluGrad")
    assert op_def.inplace_for("fast_cpu", "numpy") is loops.INPLACE_VARIANTS["ReluGrad"]
    assert op_def.inplace_for("numpy") is op_def.inplace
    values = {}
    xv = np.random.default_rng(2).standard_normal((4, 200, 100)).astype(np.float32)
    for backend in ("numpy", "fast_cpu"):
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, xv.shape)
            loss = tf.reduce_sum(tf.square(tf.nn.relu(x * 2.0)))
            config = tf.ConfigProto()
            config.experimental.executor_type = backend
            with tf.Session(config=config) as sess:
                values[backend] = sess.run(tf.gradients(loss, x)[0], {x: xv})
    np.testing.assert_allclose(values["fast_cpu"], values["numpy"], rtol=1e-6)
    assert ran == ["relu_grad_into"]


def test_relu_and_bias_add_grad_stay_on_numpy():
    """Their NumPy forms (in-place Relu, BLAS BiasAddGrad) were as fast: no loop replaces them."""
    assert "Relu" not in loops.VARIANTS and "BiasAddGrad" not in loops.VARIANTS


@pytest.mark.parametrize("data_format,shape", [("NHWC", (128, 14, 14, 64)), ("NCHW", (16, 64, 14, 14)),
                                               ("NHWC", (BIG // 10, 10)), ("NCHW", (8, 32, 300)),
                                               ("NCHW", (BIG // 10, 10)), (b"NHWC", (4, 3)), ("NHWC", (0, 7, 7, 64))])
def test_bias_add_matches_numpy(ran, data_format, shape):
    rng = np.random.default_rng(sum(shape))
    axis = 1 if data_format == "NCHW" else len(shape) - 1
    value = rng.standard_normal(shape).astype(np.float32)
    bias = rng.standard_normal(shape[axis]).astype(np.float32)
    got = loops.VARIANTS["BiasAdd"](np, value, bias, data_format=data_format)
    np.testing.assert_array_equal(got, _numpy("BiasAdd")(np, value, bias, data_format=data_format))
    assert not np.shares_memory(got, value)
    big = value.size >= loops.MIN_ELEMENTWISE_SIZE
    layout = "middle" if axis == 1 and len(shape) > 2 else "last"
    assert ran == ([f"bias_add_{layout}"] if big else [])


def test_bias_add_routes_float64_and_mismatched_bias_to_numpy(ran):
    value = np.random.default_rng(4).standard_normal((BIG // 8, 8))
    bias = np.arange(8.0)
    np.testing.assert_array_equal(loops.VARIANTS["BiasAdd"](np, value, bias, data_format="NHWC"), value + bias)
    with pytest.raises(ValueError):
        loops.VARIANTS["BiasAdd"](np, value.astype(np.float32), np.ones(3, np.float32), data_format="NHWC")
    assert ran == []


# ------------------------------------------------------------ optimizer updates


def _f32(value):
    return np.asarray(value, np.float32)


OPTIMIZERS = {
    "ApplyGradientDescent": ((), lambda g: (_f32(0.1), g), {}),
    "ApplyMomentum": (("accum",), lambda g: (_f32(0.05), g, _f32(0.9)), {"use_nesterov": False}),
    "ApplyMomentum/nesterov": (("accum",), lambda g: (_f32(0.05), g, _f32(0.9)), {"use_nesterov": True}),
    "ApplyAdam": (("m", "v"), lambda g: (_f32(0.9 ** 3), _f32(0.999 ** 3), _f32(0.001), _f32(0.9), _f32(0.999),
                                         _f32(1e-8), g), {"use_nesterov": False}),
    "ApplyAdam/nesterov": (("m", "v"), lambda g: (_f32(0.81), _f32(0.998), _f32(0.01), _f32(0.9), _f32(0.999),
                                                  _f32(1e-7), g), {"use_nesterov": True}),
    "ApplyRMSProp": (("ms", "mom"), lambda g: (_f32(0.001), _f32(0.9), _f32(0.5), _f32(1e-10), g), {}),
}


def _optimizer_contexts(slots, shape, rng):
    values = {"var": rng.standard_normal(shape).astype(np.float32)}
    for name in slots:
        values[name] = rng.uniform(0, 1, shape).astype(np.float32)
    return VariablesContext(values), VariablesContext(values)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("shape", [(1024, 1030), (BIG,), (300,)])
def test_optimizer_updates_match_numpy_over_several_steps(ran, name, shape):
    loops._kernels()  # numba loaded: every float32 update of a vector or larger runs the loop
    op_type = name.split("/")[0]
    slots, inputs, attrs = OPTIMIZERS[name]
    rng = np.random.default_rng(len(name) + len(shape))
    fast, reference = _optimizer_contexts(slots, shape, rng)
    kwargs = dict(attrs, var="var", op=SimpleNamespace(type=op_type))
    if slots:
        kwargs["slots"] = slots
    for _ in range(4):
        grad = rng.standard_normal(shape).astype(np.float32)
        old = dict(fast.variables)
        before = {key: value.copy() for key, value in old.items()}
        result = updates.VARIANTS[op_type](fast, *inputs(grad), **kwargs)
        want = _numpy(op_type)(reference, *inputs(grad), **kwargs)
        assert result is fast.variables["var"]
        _close(result, want, rtol=1e-6)
        for key in ("var", *slots):
            _close(fast.variables[key], reference.variables[key], rtol=1e-6)
            # A new array is written: the one the run started with is left as it was.
            assert fast.variables[key] is not old[key]
            np.testing.assert_array_equal(old[key], before[key])
    loop = {"ApplyGradientDescent": "gradient_descent_update", "ApplyMomentum": "momentum_update",
            "ApplyAdam": "adam_update", "ApplyRMSProp": "rms_prop_update"}[op_type]
    assert ran == [loop] * 4


def test_an_adam_update_whose_coefficients_divide_by_zero_gives_numpys_values(ran):
    """beta1_power = 1 (beta1 = 1): the step divides by zero, inf or NaN as in the NumPy variant."""
    loops._kernels()
    rng = np.random.default_rng(4)
    values = {"var": rng.standard_normal(BIG).astype(np.float32), "m": np.zeros(BIG, np.float32),
              "v": np.zeros(BIG, np.float32)}
    fast, reference = VariablesContext(values), VariablesContext(values)
    scalars = [_f32(v) for v in (1.0, 0.5, 0.01, 1.0, 0.999, 1e-8)]  # beta1_power, beta2_power, lr, ...
    grad = rng.standard_normal(BIG).astype(np.float32)
    kwargs = dict(use_nesterov=False, var="var", slots=("m", "v"), op=SimpleNamespace(type="ApplyAdam"))
    with np.errstate(all="ignore"):
        got = updates.VARIANTS["ApplyAdam"](fast, *scalars, grad, **kwargs)
        want = _numpy("ApplyAdam")(reference, *scalars, grad, **kwargs)
    assert ran == ["adam_update"] and np.isnan(want).all()  # 0 * inf: m stays 0 with beta1 = 1
    np.testing.assert_array_equal(got, want)
    for name in ("m", "v"):
        np.testing.assert_array_equal(fast.variables[name], reference.variables[name])


def test_optimizer_updates_route_float64_and_scalar_variables_to_numpy(ran):
    rng = np.random.default_rng(9)
    for shape, dtype in (((BIG,), np.float64), ((), np.float32)):
        values = {"var": rng.standard_normal(shape).astype(dtype), "ms": np.ones(shape, dtype),
                  "mom": np.zeros(shape, dtype)}
        fast, reference = VariablesContext(values), VariablesContext(values)
        scalars = [np.asarray(v, dtype) for v in (0.01, 0.9, 0.5, 1e-7)]
        grad = rng.standard_normal(shape).astype(dtype)
        kwargs = dict(var="var", slots=("ms", "mom"), op=SimpleNamespace(type="ApplyRMSProp"))
        got = updates.VARIANTS["ApplyRMSProp"](fast, *scalars, grad, **kwargs)
        np.testing.assert_array_equal(got, _numpy("ApplyRMSProp")(reference, *scalars, grad, **kwargs))
        assert got.dtype == dtype
    assert ran == []


def test_optimizer_update_keeps_numpys_error_for_a_slot_of_another_shape(ran):
    ctx = VariablesContext({"var": np.zeros(BIG, np.float32), "accum": np.zeros(BIG + 1, np.float32)})
    with pytest.raises(InvalidArgumentError, match=r"var and accum do not have the same shape\[66536\] \[66537\]"):
        updates.VARIANTS["ApplyMomentum"](ctx, _f32(0.1), np.zeros(BIG, np.float32), _f32(0.9), use_nesterov=False,
                                        var="var", slots=("accum",), op=SimpleNamespace(type="ApplyMomentum"))
    assert ran == []


def _train(backend, optimizer, steps=3):
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(1)
        rng = np.random.default_rng(0)
        images = tf.constant(rng.standard_normal((8, 28, 28, 1)).astype(np.float32))
        labels = tf.constant(rng.integers(0, 10, 8))
        conv = tf.layers.conv2d(images, 32, 5, padding="same", activation=tf.nn.relu)
        pooled = tf.nn.max_pool(conv, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        pooled = tf.nn.avg_pool(pooled, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
        hidden = tf.layers.dense(tf.reshape(pooled, [8, 7 * 7 * 32]), 128, activation=tf.nn.relu)
        logits = tf.layers.dense(hidden, 10)
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        train = optimizer.minimize(loss)
        config = tf.ConfigProto()
        config.experimental.executor_type = backend
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train])[0] for _ in range(steps)]
            return losses, sess.run(tf.trainable_variables())


@pytest.fixture
def restored_variants(monkeypatch):
    """The fast_cpu loader's state and every op's variants as they were before the test."""
    from caudal.backends.fast_cpu import backend
    from caudal.framework import registry

    monkeypatch.setattr(backend, "_loaded", backend._loaded)
    monkeypatch.setattr(backend, "_failed", dict(backend._failed))
    for op_def in list(registry._REGISTRY.values()):
        monkeypatch.setattr(op_def, "variants", dict(op_def.variants))


@pytest.mark.usefixtures("restored_variants")
@pytest.mark.parametrize("make", [lambda: tf.train.RMSPropOptimizer(0.001, momentum=0.9),
                                  lambda: tf.train.AdamOptimizer(0.001),
                                  lambda: tf.train.MomentumOptimizer(0.01, 0.9, use_nesterov=True)],
                         ids=["rmsprop", "adam", "nesterov"])
def test_a_small_lenet_trains_the_same_on_fast_cpu_as_on_numpy(make):
    fast_losses, fast_weights = _train("fast_cpu", make())
    numpy_losses, numpy_weights = _train("numpy", make())
    np.testing.assert_allclose(fast_losses, numpy_losses, rtol=1e-4)
    for got, want in zip(fast_weights, numpy_weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------- set-up
def test_prepare_puts_the_cache_under_xdg_cache_home(monkeypatch, tmp_path):
    from numba.core import config

    monkeypatch.setattr(config, "CACHE_DIR", config.CACHE_DIR)
    monkeypatch.setattr(loops, "_prepared", False)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    loops.prepare()
    loops._configure_numba()
    expected = str(tmp_path / "caudal" / "numba")
    assert loops.cache_dir() == expected
    assert os.environ["NUMBA_CACHE_DIR"] == expected and config.CACHE_DIR == expected
    assert os.path.isdir(expected)


def test_prepare_keeps_the_users_cache_dir_and_skips_one_it_cannot_create(monkeypatch, tmp_path):
    from numba.core import config

    monkeypatch.setattr(config, "CACHE_DIR", config.CACHE_DIR)
    monkeypatch.setattr(loops, "_prepared", False)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    loops.prepare()
    loops._configure_numba()
    assert config.CACHE_DIR == str(tmp_path / "mine")
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    monkeypatch.setattr(loops, "_prepared", False)
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    loops.prepare()
    loops._configure_numba()
    assert "NUMBA_CACHE_DIR" not in os.environ and config.CACHE_DIR == ""


@pytest.mark.parametrize("vendor, first", [("GNU", "omp"), ("Intel", "workqueue"), ("", "workqueue")])
def test_numbas_omp_layer_comes_first_only_on_onednns_gnu_openmp(monkeypatch, vendor, first):
    from numba.core import config

    monkeypatch.setattr(config, "THREADING_LAYER_PRIORITY", list(config.THREADING_LAYER_PRIORITY))
    monkeypatch.setattr(config, "THREADING_LAYER", config.THREADING_LAYER)
    monkeypatch.setattr(config, "CACHE_DIR", config.CACHE_DIR)
    monkeypatch.delenv("NUMBA_THREADING_LAYER", raising=False)
    monkeypatch.setattr(loops, "_openmp_vendor", lambda: vendor)
    loops._configure_numba()
    assert config.THREADING_LAYER_PRIORITY[0] == first
    assert sorted(config.THREADING_LAYER_PRIORITY) == sorted(loops.THREADING_LAYERS)
    assert loops._openmp_vendor() == vendor


def test_set_num_threads_applies_in_every_thread_and_caps_at_numbas_pool(monkeypatch):
    import numba

    from caudal.framework import threads

    monkeypatch.setattr(threads, "_enabled", False)  # as CAUDAL_THREAD_POLICY=library
    monkeypatch.setattr(loops, "_num_threads", None)
    limit = numba.config.NUMBA_NUM_THREADS
    seen = []

    def run_one():
        ones = np.ones(BIG, np.float32)
        loops.VARIANTS["ReluGrad"](np, ones, ones)
        seen.append(numba.get_num_threads())

    try:
        loops.set_num_threads(1)
        worker = threading.Thread(target=run_one)
        worker.start()
        worker.join()
        assert seen == [1]
        loops.set_num_threads(limit + 100)
        run_one()
        assert seen == [1, limit]
    finally:
        numba.set_num_threads(limit)


@pytest.mark.parametrize("bad", [0, -2, 1.5, "4", True])
def test_set_num_threads_refuses_what_is_not_a_positive_integer(bad):
    with pytest.raises(ValueError, match=f"The number of threads must be a positive integer, got {bad!r}"):
        loops.set_num_threads(bad)


def test_kernels_run_from_several_python_threads_at_once():
    x = np.random.default_rng(8).standard_normal((32, 28, 28, 16)).astype(np.float32)
    attrs = _pool_attrs((2, 2), (2, 2), "SAME", "NHWC")
    want = _numpy("MaxPool")(np, x, **attrs)
    results, errors = [], []

    def work():
        try:
            for _ in range(10):
                results.append(loops.VARIANTS["MaxPool"](np, x, **attrs))
        except Exception as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors and len(results) == 40
    for result in results:
        np.testing.assert_array_equal(result, want)


def test_compile_all_loads_every_kernel():
    assert loops.compile_all() >= 0.0
    import numba

    assert numba.threading_layer() in loops.THREADING_LAYERS


def test_a_slow_first_call_is_reported_once(monkeypatch, caplog):
    ticks = iter(range(0, 100, 2))  # every call seems to take 2 s
    monkeypatch.setattr(loops.time, "perf_counter", lambda: next(ticks))
    monkeypatch.setattr(loops, "_called", set())
    monkeypatch.setattr(loops, "_reported_compile", False)
    first, second = (lambda a: a + 1), (lambda a: a + 2)
    with caplog.at_level("WARNING", logger="caudal"):
        assert loops._run(first, 1) == 2
        assert loops._run(second, 1) == 3
        assert loops._run(first, 1) == 2
    reports = [r for r in caplog.records if "compiling the fast_cpu loop kernels" in r.getMessage()]
    assert len(reports) == 1
    assert "on their first use (2.0 s for the first); later runs load them from the cache in" in reports[0].getMessage()


def test_threads_are_sized_to_the_pass(monkeypatch):
    import numba

    from caudal.framework import threads

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread")
    monkeypatch.setattr(threads, "_cap", 2)
    seen = []

    def kernel(a):
        seen.append(numba.get_num_threads())

    loops._run(kernel, np.ones(16, np.float32))
    loops._run(kernel, np.ones(1 << 21, np.float32))  # 8 MB: every core
    monkeypatch.setattr(threads, "others_idle", lambda: True)
    loops._run(kernel, np.ones(1 << 15, np.float32))  # 128 KB: every core while other processes idle
    monkeypatch.setattr(threads, "others_idle", lambda: False)
    loops._run(kernel, np.ones(1 << 15, np.float32))
    assert seen == [1, 2, 2, 1]


def test_a_numba_that_fails_to_load_warns_once_and_the_ops_run_on_numpy(monkeypatch):
    def broken():
        raise ImportError("numba is broken")

    monkeypatch.setattr(loops, "_kernel_module", None)
    monkeypatch.setattr(loops, "_unavailable", "")
    monkeypatch.setattr(loops, "_configure_numba", broken)
    x = np.random.default_rng(3).standard_normal((2, 6, 6, 3)).astype(np.float32)
    attrs = _pool_attrs((2, 2), (2, 2), "SAME", "NHWC")
    with pytest.warns(RuntimeWarning, match=r"the fast_cpu kernels of 'loops' could not be loaded "
                                            r"\(ImportError: numba is broken\); their ops run on NumPy"):
        got = loops.VARIANTS["MaxPool"](np, x, **attrs)
    np.testing.assert_array_equal(got, _numpy("MaxPool")(np, x, **attrs))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(loops.VARIANTS["MaxPool"](np, x, **attrs), got)


# ------------------------------------------------------------ one-thread twins
def test_a_one_thread_call_runs_the_loops_twin_with_the_same_values(monkeypatch):
    k = loops._kernels()
    twins = k.ONE_THREAD_TWINS
    assert k.dropout_select in twins and k.adam_update not in twins and k.relu_grad_into not in twins
    for kernel, twin in twins.items():
        if kernel.targetoptions.get("parallel"):
            assert twin.py_func.__name__ == kernel.py_func.__name__ + "_one_thread" and twin is not kernel
        else:
            assert twin is kernel  # a loop without threads is its own twin
    twin_calls = []
    twin = twins[k.dropout_select]
    monkeypatch.setitem(twins, k.dropout_select, lambda *args: twin_calls.append(len(args)) or twin(*args))
    rng = np.random.default_rng(2)
    uniform, x = rng.random(5000).astype(np.float32), rng.standard_normal(5000).astype(np.float32)
    results = []
    for count in (1, 2):
        keep, out = np.empty(5000, np.bool_), np.empty(5000, np.float32)
        loops._run_on(count, k.dropout_select, uniform, np.float32(0.3), x, np.float32(0.7), True, keep, out)
        results.append((keep, out))
        assert twin_calls == [7]  # the one-thread call only
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1].view(np.uint32), results[1][1].view(np.uint32))


# ------------------------------------------------------------ softmax cross-entropy
def _xent_inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    features = (rng.standard_normal(shape) * 3).astype(np.float32)
    labels = rng.random(shape).astype(np.float32)
    return features, labels / labels.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (3, 4), (7, 3), (100, 10), (33, 1000)])
def test_softmax_xent_matches_numpy(ran, shape):
    loops._kernels()
    features, labels = _xent_inputs(shape)
    features[0, 0] = 300.0  # far above the rest of its row
    if shape[0] > 2:
        features[1, -1] = -300.0
        features[2, 0] = np.nan  # a NaN row: NaN loss and backprop, as NumPy's
    loss, backprop = loops.VARIANTS["SoftmaxCrossEntropyWithLogits"](np, features, labels)
    want_loss, want_backprop = _numpy("SoftmaxCrossEntropyWithLogits")(np, features, labels)
    assert "softmax_xent_shift" in ran and "softmax_xent_finish" in ran
    assert loss.dtype == backprop.dtype == np.float32 and loss.shape == (shape[0],) and backprop.shape == shape
    np.testing.assert_allclose(loss, want_loss, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(backprop, want_backprop, rtol=1e-5, atol=1e-6)


def test_softmax_xent_of_other_inputs_runs_numpys_kernel(ran):
    loops._kernels()
    features, labels = _xent_inputs((4, 5))
    kernel = loops.VARIANTS["SoftmaxCrossEntropyWithLogits"]
    numpy_kernel = _numpy("SoftmaxCrossEntropyWithLogits")
    for f, lab in [(features.astype(np.float64), labels.astype(np.float64)),  # float64
                   (features, labels[:1]),  # labels broadcast along the batch
                   (np.asfortranarray(features), labels)]:  # not C-ordered
        for got, want in zip(kernel(np, f, lab), numpy_kernel(np, f, lab), strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    infinite = features.copy()
    infinite[0, 1] = np.inf  # inf - inf: NaN, as in NumPy
    with np.errstate(invalid="ignore"):
        wanted = numpy_kernel(np, infinite, labels)
    for got, want in zip(kernel(np, infinite, labels), wanted, strict=True):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert ran == ["softmax_xent_shift", "softmax_xent_finish"]


# ------------------------------------------------------------ random numbers
def _pcg_draw(generator, n, chunks):
    """`n` float32 values of `generator` (NumPy's PCG64) drawn by the loop in `chunks` parts, on copies
    of its state (low word first) written back through `state`."""
    state = generator.bit_generator.state
    pcg, low = state["state"], (1 << 64) - 1
    words = np.array([pcg["state"] & low, pcg["state"] >> 64, pcg["inc"] & low, pcg["inc"] >> 64], np.uint64)
    kept = np.array([state["has_uint32"], state["uinteger"]], np.uint32)
    out = np.empty(n, np.float32)
    loops._kernels().pcg64_uniform_f32(out, words, kept, True, chunks)
    pcg["state"] = (int(words[1]) << 64) | int(words[0])
    state["has_uint32"], state["uinteger"] = int(kept[0]), int(kept[1])
    generator.bit_generator.state = state
    return out


@pytest.mark.parametrize("chunks", [1, 2, 3, 5])
def test_the_pcg64_loop_draws_numpys_float32_numbers_and_leaves_the_same_state(chunks):
    reference = np.random.Generator(np.random.PCG64(np.random.SeedSequence([7, 8])))
    generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence([7, 8])))
    for n in [0, 1, 2, 3, 1, 5, 8, 9, 17, 64, 1001, 9000, 262144, 4]:  # odd sizes leave half a draw for the next
        np.testing.assert_array_equal(_pcg_draw(generator, n, chunks), reference.random(n, dtype=np.float32))
        assert generator.bit_generator.state == reference.bit_generator.state
    np.testing.assert_array_equal(generator.standard_normal(5), reference.standard_normal(5))


def test_a_pcg_stream_draws_from_its_generators_own_state(monkeypatch):
    stream = uniform.PcgStream(3, 4)
    reference = np.random.Generator(np.random.PCG64(np.random.SeedSequence([3, 4])))
    words, kept, low_first = stream.memory()
    loop = loops._kernels().pcg64_uniform_f32
    out = np.empty(1001, np.float32)
    loop(out, words, kept, low_first, 2)  # moves NumPy's generator, the kept half included
    np.testing.assert_array_equal(out, reference.random(1001, dtype=np.float32))
    assert stream.generator.bit_generator.state == reference.bit_generator.state
    snapshot = stream.snapshot()
    stream.generator.random(5, dtype=np.float32)
    stream.restore(snapshot)  # a failed run puts the state back through NumPy: the loop sees it
    loop(out[:4], words, kept, low_first, 1)
    np.testing.assert_array_equal(out[:4], reference.random(4, dtype=np.float32))
    stream.generator = np.random.Generator(np.random.Philox(5))
    assert stream.memory() is None
    monkeypatch.setattr(uniform, "_layout_checked", False)  # a NumPy whose memory did not read as its state
    assert uniform.PcgStream(3, 4).memory() is None


def _dropout_and_uniform(backend, fail=False):
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(3)
        dropped = tf.nn.dropout(tf.ones([128, 300]), rate=0.3)
        uniform = tf.random_uniform([5, 3001])
        small = tf.random_uniform([7])
        config = tf.ConfigProto()
        config.experimental.executor_type = backend
        with tf.Session(config=config) as sess:
            if fail:
                bad = tf.check_numerics(uniform / 0.0, "inf")
                with pytest.raises(InvalidArgumentError):
                    sess.run([dropped, uniform, small, bad])
            return [sess.run([dropped, uniform, small]) for _ in range(3)]


@pytest.mark.parametrize("fail", [False, True], ids=["", "after-a-failed-run"])
def test_random_uniform_on_fast_cpu_draws_the_numpy_backends_numbers(ran, fail):
    loops._kernels()
    fast = _dropout_and_uniform("fast_cpu", fail)
    # the two large draws of each run (the failed one too, whose draws are put back); the small one on NumPy
    assert ran.count("pcg64_uniform_f32") == (8 if fail else 6)
    for got, want in zip(fast, _dropout_and_uniform("numpy"), strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_random_uniform_runs_numpys_draw_where_numpys_memory_is_not_as_checked(ran, monkeypatch):
    loops._kernels()
    monkeypatch.setattr(uniform, "_layout_checked", False)
    fast = _dropout_and_uniform("fast_cpu")
    assert "pcg64_uniform_f32" not in ran
    for got, want in zip(fast, _dropout_and_uniform("numpy"), strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)


def test_random_uniform_of_float64_or_another_generator_runs_numpys_draw(ran):
    loops._kernels()

    from caudal.backends.numpy_backend import NumpyRandomStream

    stream = NumpyRandomStream(1, 2)
    stream.generator = np.random.Generator(np.random.Philox(5))

    class _Ctx:
        def random_stream(self, op):
            return stream

    want = np.random.Generator(np.random.Philox(5)).random((3, BIG), dtype=np.float32)
    got = uniform.VARIANTS["RandomUniform"](_Ctx(), np.array([3, BIG]), dtype=tf.float32, op=None)
    np.testing.assert_array_equal(got, want)
    graph = tf.Graph()
    with graph.as_default():
        values = tf.random_uniform([BIG], dtype=tf.float64, seed=1)
        for backend in ("fast_cpu", "numpy"):
            config = tf.ConfigProto()
            config.experimental.executor_type = backend
            with tf.Session(config=config) as sess:
                drawn = sess.run(values)
                assert drawn.dtype == np.float64
                if backend == "fast_cpu":
                    first = drawn
        np.testing.assert_array_equal(first, drawn)
    assert ran == []


# ------------------------------------------------------------ SelectV2 against +0.0
@pytest.mark.parametrize("size", [BIG, loops.MIN_SELECT_SIZE, 5])
def test_select_against_zero_moves_the_values_bit_for_bit(ran, size):
    loops._kernels()
    rng = np.random.default_rng(size)
    values = rng.standard_normal(size).astype(np.float32)
    values[:4] = [np.nan, -0.0, np.inf, -np.inf]
    values.view(np.int32)[0] |= 5  # a NaN with a payload
    condition = rng.random(size) > 0.4
    condition[:4] = True
    zero = np.zeros((), np.float32)
    numpy = _numpy("SelectV2")
    for x, y in ((values, zero), (zero, values)):
        got = loops.VARIANTS["SelectV2"](np, condition, x, y)
        want = numpy(np, condition, x, y)
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_array_equal(got.view(np.int32), want.view(np.int32))
    assert ran == (["select_or_zero"] * 2 if size >= loops.MIN_SELECT_SIZE else [])


def test_other_selects_run_numpys_variant(ran):
    loops._kernels()
    condition = np.random.default_rng(0).random((4, BIG // 4)) > 0.5
    values = np.random.default_rng(1).standard_normal(condition.shape).astype(np.float32)
    zero = np.zeros((), np.float32)
    cases = [(condition, values, np.ones((), np.float32)),  # not zero
             (condition, values, -zero),  # -0.0
             (condition, values.astype(np.float64), np.zeros((), np.float64)),
             (condition[:, ::2], values[:, ::2], zero),  # strided
             (condition, values, np.zeros(condition.shape[1], np.float32))]  # a vector, broadcast
    for c, x, y in cases:
        np.testing.assert_array_equal(loops.VARIANTS["SelectV2"](np, c, x, y), _numpy("SelectV2")(np, c, x, y))
    assert ran == []
