"""The oneDNN pooling kernels of the fast_cpu backend (caudal.backends.fast_cpu.onednn_pool): against
the NumPy variants on odd geometries, against TensorFlow 2.21's graph kernels where a window holds a
NaN or only -inf, and what they route to NumPy."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from caudal.framework.registry import get_op_def
from tests.onednn_fixtures import require_onednn

require_onednn()

from caudal.backends.fast_cpu import onednn, onednn_lib, onednn_pool  # noqa: E402

pytestmark = pytest.mark.fast_cpu

GRAPH_EDGES = os.path.join(os.path.dirname(__file__), "fixtures", "pooling_edges", "max_pool_graph.json")


def _numpy(op_type):
    return get_op_def(op_type).variants["numpy"]


@pytest.fixture
def plans(monkeypatch):
    """The op types whose oneDNN plans ran."""
    ran: list[str] = []
    real = onednn.run_plan

    def spy(key, build, arrays, flops):
        done = real(key, build, arrays, flops)
        if done:
            ran.append(key[0])
        return done

    monkeypatch.setattr(onednn, "run_plan", spy)
    return ran


def _attrs(k, s, padding, data_format, explicit=None, max_pool=True):
    ksize = [1, k[0], k[1], 1] if data_format == "NHWC" else [1, 1, k[0], k[1]]
    strides = [1, s[0], s[1], 1] if data_format == "NHWC" else [1, 1, s[0], s[1]]
    attrs = dict(ksize=ksize, strides=strides, padding=padding, data_format=data_format)
    if max_pool:
        attrs["explicit_paddings"] = explicit or []
    return attrs


GEOMETRIES = [  # (input NHWC shape, window, strides, padding)
    ((2, 7, 9, 3), (2, 2), (2, 2), "SAME"),
    ((1, 5, 5, 1), (3, 3), (2, 2), "SAME"),  # batch 1, one channel, stride 2 on odd sizes
    ((3, 8, 6, 17), (3, 3), (1, 1), "SAME"),  # overlapping windows
    ((2, 9, 7, 4), (3, 2), (2, 3), "VALID"),  # sizes the strides do not divide
    ((1, 1, 1, 5), (1, 1), (1, 1), "VALID"),
    ((2, 6, 6, 32), (2, 2), (2, 2), "VALID"),
]


@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
@pytest.mark.parametrize("shape,k,s,padding", GEOMETRIES)
def test_pooling_and_gradients_match_numpy(plans, shape, k, s, padding, data_format):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape).astype(np.float32)  # no ties: the first maximum is the maximum
    if data_format == "NCHW":
        x = x.transpose(0, 3, 1, 2).copy()
    for op_type, grad_type, max_pool in (("MaxPool", "MaxPoolGrad", True), ("AvgPool", "AvgPoolGrad", False)):
        attrs = _attrs(k, s, padding, data_format, max_pool=max_pool)
        y = onednn_pool.VARIANTS[op_type](np, x, **attrs)
        want = _numpy(op_type)(np, x, **attrs)
        np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)
        assert y.dtype == np.float32
        dy = rng.standard_normal(y.shape).astype(np.float32)
        if max_pool:
            dx, dx_want = (onednn_pool.VARIANTS[grad_type](np, x, y, dy, **attrs),
                           _numpy(grad_type)(np, x, y, dy, **attrs))
        else:
            sizes = np.array(x.shape, np.int32)
            dx, dx_want = (onednn_pool.VARIANTS[grad_type](np, sizes, dy, **attrs),
                           _numpy(grad_type)(np, sizes, dy, **attrs))
        np.testing.assert_allclose(dx, dx_want, rtol=1e-5, atol=1e-6)
        assert dx.shape == x.shape and dx.dtype == np.float32
    assert plans == ["MaxPool", "MaxPoolGrad", "AvgPool", "AvgPoolGrad"]


def test_max_pool_with_explicit_padding_matches_numpy(plans):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 5, 3)).astype(np.float32)
    attrs = _attrs((3, 3), (2, 1), "EXPLICIT", "NHWC", [0, 0, 1, 2, 2, 0, 0, 0])
    y = onednn_pool.VARIANTS["MaxPool"](np, x, **attrs)
    np.testing.assert_array_equal(y, _numpy("MaxPool")(np, x, **attrs))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    np.testing.assert_allclose(onednn_pool.VARIANTS["MaxPoolGrad"](np, x, y, dy, **attrs),
                               _numpy("MaxPoolGrad")(np, x, y, dy, **attrs), rtol=1e-6)
    assert plans == ["MaxPool", "MaxPoolGrad"]


def test_max_pool_and_its_gradient_follow_tensorflow_graph_kernels_on_nan_and_minus_infinity(plans):
    """TF 2.21 runs a graph's MaxPool and MaxPoolGrad on oneDNN: a NaN is never the maximum, a window
    of NaN or -inf gives the lowest float32, ties go to the first element (recorded from TF)."""
    with open(GRAPH_EDGES) as f:
        records = json.load(f)
    for record in records:
        x = np.array([np.nan if v is None else v for v in record["x"]], np.float32).reshape(record["shape"])
        attrs = dict(ksize=record["ksize"], strides=record["strides"], padding=record["padding"],
                     explicit_paddings=[], data_format="NHWC")
        y = onednn_pool.VARIANTS["MaxPool"](np, x, **attrs)
        np.testing.assert_array_equal(y, np.array(record["y"], np.float32).reshape(y.shape), err_msg=record["name"])
        dy = np.array(record["dy"], np.float32).reshape(record["dy_shape"])
        dx = onednn_pool.VARIANTS["MaxPoolGrad"](np, x, y, dy, **attrs)
        np.testing.assert_array_equal(dx, np.array(record["dx"], np.float32).reshape(x.shape), err_msg=record["name"])
    assert plans == ["MaxPool", "MaxPoolGrad"] * len(records)


def test_inputs_it_does_not_handle_run_the_numpy_variant(plans):
    x64 = np.arange(32, dtype=np.float64).reshape(1, 4, 4, 2)
    attrs = _attrs((2, 2), (2, 2), "VALID", "NHWC")
    np.testing.assert_array_equal(onednn_pool.VARIANTS["MaxPool"](np, x64, **attrs),
                                  _numpy("MaxPool")(np, x64, **attrs))
    assert onednn_pool.VARIANTS["MaxPool"](np, x64, **attrs).dtype == np.float64
    x = x64.astype(np.float32)
    over_channels = dict(attrs, ksize=[1, 2, 2, 2], strides=[1, 2, 2, 2])
    np.testing.assert_array_equal(onednn_pool.VARIANTS["MaxPool"](np, x, **over_channels),
                                  _numpy("MaxPool")(np, x, **over_channels))
    empty = np.zeros((0, 4, 4, 2), np.float32)
    assert onednn_pool.VARIANTS["MaxPool"](np, empty, **attrs).shape == (0, 2, 2, 2)
    assert plans == []


def test_non_contiguous_inputs_are_copied_not_misread(plans):
    rng = np.random.default_rng(5)
    base = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    x = base.transpose(0, 2, 3, 1)  # an NHWC view of NCHW memory
    assert not x.flags.c_contiguous
    attrs = _attrs((2, 2), (2, 2), "SAME", "NHWC")
    y = onednn_pool.VARIANTS["MaxPool"](np, x, **attrs)
    np.testing.assert_array_equal(y, _numpy("MaxPool")(np, np.ascontiguousarray(x), **attrs))
    dy = rng.standard_normal(y.shape).astype(np.float32)[:, ::-1]  # negative strides
    np.testing.assert_array_equal(onednn_pool.VARIANTS["MaxPoolGrad"](np, x, y, dy, **attrs),
                                  _numpy("MaxPoolGrad")(np, np.ascontiguousarray(x), y, np.ascontiguousarray(dy),
                                                        **attrs))
    np.testing.assert_array_equal(x, base.transpose(0, 2, 3, 1))  # inputs untouched
    assert plans == ["MaxPool", "MaxPoolGrad"]


def test_a_pooling_onednn_cannot_create_runs_on_numpy_and_is_not_retried(monkeypatch, plans):
    calls = []

    def refuse(self, *args, **kwargs):
        calls.append(1)
        raise onednn_lib.DnnlError("dnnl_pooling_forward_primitive_desc_create", 3)

    monkeypatch.setattr(onednn_lib.Library, "pooling_forward", refuse)
    onednn.clear_cache()
    x = np.random.default_rng(6).standard_normal((1, 6, 6, 2)).astype(np.float32)
    attrs = _attrs((2, 2), (2, 2), "VALID", "NHWC")
    for _ in range(3):
        np.testing.assert_array_equal(onednn_pool.VARIANTS["MaxPool"](np, x, **attrs),
                                      _numpy("MaxPool")(np, x, **attrs))
    assert calls == [1] and plans == []
    assert onednn.cache_info()["failures"] == 1
    onednn.clear_cache()


def test_results_are_fresh_arrays():
    x = np.random.default_rng(7).standard_normal((1, 4, 4, 2)).astype(np.float32)
    attrs = _attrs((2, 2), (2, 2), "VALID", "NHWC")
    first = onednn_pool.VARIANTS["MaxPool"](np, x, **attrs)
    again = onednn_pool.VARIANTS["MaxPool"](np, x, **attrs)
    assert not np.shares_memory(first, again)
    dx = onednn_pool.VARIANTS["MaxPoolGrad"](np, x, first, first, **attrs)
    dx_again = onednn_pool.VARIANTS["MaxPoolGrad"](np, x, first, first, **attrs)
    assert not np.shares_memory(dx, dx_again)


# ------------------------------------------------------ the argmax workspace a plan keeps
@pytest.mark.parametrize("shape,k,s,padding", GEOMETRIES)
def test_the_gradient_from_the_workspace_matches_the_gradient_that_pools_again(plans, monkeypatch, shape, k, s,
                                                                              padding):
    from caudal.backends.fast_cpu import loops

    monkeypatch.setattr(loops, "_kernel_module", None)  # numba not loaded: oneDNN's backward pooling
    rng = np.random.default_rng(sum(shape) + 1)
    x = rng.integers(-2, 3, shape).astype(np.float32)  # ties
    x.reshape(-1)[:2] = [np.nan, -np.inf]
    attrs = _attrs(k, s, padding, "NHWC")
    y, workspace = onednn_pool.VARIANTS["_MaxPoolWithWorkspace"](np, x, **attrs)
    np.testing.assert_array_equal(y, onednn_pool.VARIANTS["MaxPool"](np, x, **attrs))
    assert workspace.dtype == np.uint8 and workspace.size == y.size
    dy = rng.standard_normal(y.shape).astype(np.float32)
    got = onednn_pool.VARIANTS["_MaxPoolGradWithWorkspace"](np, x, y, dy, workspace, **attrs)
    np.testing.assert_array_equal(got, onednn_pool.VARIANTS["MaxPoolGrad"](np, x, y, dy, **attrs))
    assert plans == ["_MaxPoolWithWorkspace", "MaxPool", "_MaxPoolGradWithWorkspace", "MaxPoolGrad"]


def test_a_gradient_without_a_workspace_pools_again(plans):
    """A workspace of the wrong size (NumPy's empty one, where the pooling ran there) is never read."""
    x = np.random.default_rng(8).standard_normal((2, 6, 6, 3)).astype(np.float32)
    attrs = _attrs((2, 2), (2, 2), "VALID", "NHWC")
    y = onednn_pool.VARIANTS["MaxPool"](np, x, **attrs)
    dy = np.ones(y.shape, np.float32)
    want = _numpy("MaxPoolGrad")(np, x, y, dy, **attrs)
    for workspace in (np.zeros(0, np.uint8), np.zeros(3, np.uint8)):
        got = onednn_pool.VARIANTS["_MaxPoolGradWithWorkspace"](np, x, y, dy, workspace, **attrs)
        np.testing.assert_array_equal(got, want)
    y64, workspace = onednn_pool.VARIANTS["_MaxPoolWithWorkspace"](np, x.astype(np.float64), **attrs)
    assert y64.dtype == np.float64 and workspace.size == 0
    assert plans == ["MaxPool", "MaxPoolGrad", "MaxPoolGrad"]


TILED = [  # windows as long as their strides, covering the input: numba's pass over the workspace
    ((2, 28, 28, 32), (2, 2), "SAME"),
    ((2, 7, 7, 5), (2, 2), "SAME"),  # odd sizes: the last windows reach into the padding
    ((3, 4, 5, 2), (3, 3), "SAME"),  # padding before the first window too
    ((1, 1, 1, 3), (1, 1), "VALID"),
    ((2, 6, 9, 4), (3, 3), "VALID"),
]


@pytest.mark.parametrize("shape,k,padding", TILED)
def test_numbas_gradient_from_the_workspace_matches_onednns_where_windows_tile_the_input(plans, monkeypatch,
                                                                                       shape, k, padding):
    pytest.importorskip("numba")
    from caudal.backends.fast_cpu import loops

    loops._kernels()
    rng = np.random.default_rng(sum(shape))
    x = rng.integers(-2, 3, shape).astype(np.float32)  # ties
    x.reshape(-1)[:3] = [np.nan, -np.inf, np.nan]
    x[-1, :, :, -1] = -np.inf  # windows where nothing is taken
    attrs = _attrs(k, k, padding, "NHWC")
    y, workspace = onednn_pool.VARIANTS["_MaxPoolWithWorkspace"](np, x, **attrs)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    ran = []
    real = loops._run
    monkeypatch.setattr(loops, "_run", lambda kernel, *args: ran.append(kernel.__name__) or real(kernel, *args))
    got = onednn_pool.VARIANTS["_MaxPoolGradWithWorkspace"](np, x, y, dy, workspace, **attrs)
    assert ran == ["max_pool_workspace_grad_nhwc"] and got.shape == x.shape and got.dtype == np.float32
    monkeypatch.setattr(loops, "_kernel_module", None)
    want = onednn_pool.VARIANTS["_MaxPoolGradWithWorkspace"](np, x, y, dy, workspace, **attrs)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, onednn_pool.VARIANTS["MaxPoolGrad"](np, x, y, dy, **attrs))
    assert plans == ["_MaxPoolWithWorkspace", "_MaxPoolGradWithWorkspace", "MaxPoolGrad"]


@pytest.mark.parametrize("shape,k,s,padding,data_format", [
    ((2, 7, 9, 3), (3, 3), (2, 2), "SAME", "NHWC"),  # overlapping windows
    ((2, 9, 7, 4), (2, 2), (2, 2), "VALID", "NHWC"),  # the last row and column lie in no window
    ((2, 6, 6, 4), (2, 2), (2, 2), "VALID", "NCHW"),
])
def test_gradients_where_windows_do_not_tile_the_input_stay_on_onednn(plans, monkeypatch, shape, k, s, padding,
                                                                      data_format):
    pytest.importorskip("numba")
    from caudal.backends.fast_cpu import loops

    loops._kernels()
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    if data_format == "NCHW":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    attrs = _attrs(k, s, padding, data_format)
    y, workspace = onednn_pool.VARIANTS["_MaxPoolWithWorkspace"](np, x, **attrs)
    dy = np.ones(y.shape, np.float32)
    ran = []
    monkeypatch.setattr(loops, "_run", lambda kernel, *args: ran.append(kernel.__name__))
    got = onednn_pool.VARIANTS["_MaxPoolGradWithWorkspace"](np, x, y, dy, workspace, **attrs)
    assert ran == [] and plans == ["_MaxPoolWithWorkspace", "_MaxPoolGradWithWorkspace"]
    np.testing.assert_array_equal(got, _numpy("MaxPoolGrad")(np, x, y, dy, **attrs))
