"""The oneDNN convolution kernels of the fast_cpu backend against the NumPy variants they replace."""
from __future__ import annotations

import ctypes.util
import threading

import numpy as np
import pytest

from caudal.errors import InvalidArgumentError
from caudal.framework.registry import get_op_def
from tests.onednn_fixtures import require_onednn

onednn_lib = require_onednn()

from caudal.backends.fast_cpu import onednn  # noqa: E402

pytestmark = pytest.mark.fast_cpu

FAMILIES = {
    "conv2d": ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"),
    "depthwise": ("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
                  "DepthwiseConv2dNativeBackpropFilter"),
}


def _attrs(strides=(1, 1), dilations=(1, 1), padding="SAME", explicit=(), data_format="NHWC"):
    def four(pair):
        return [1, pair[0], pair[1], 1] if data_format == "NHWC" else [1, 1, pair[0], pair[1]]

    return dict(strides=four(strides), padding=padding, explicit_paddings=list(explicit), data_format=data_format,
                dilations=four(dilations))


def _numpy(op_type, *args, **attrs):
    return get_op_def(op_type).variants["numpy"](np, *args, **attrs)


def _close(got, want):
    assert got.shape == want.shape and got.dtype == want.dtype
    scale = float(np.max(np.abs(want))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * scale)


def _check_family(family, x_shape, k_shape, **attrs):
    """Runs the three kernels of `family` on random inputs; each must match its NumPy variant."""
    forward, backprop_input, backprop_filter = FAMILIES[family]
    rng = np.random.default_rng(sum(x_shape) + sum(k_shape))
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(k_shape).astype(np.float32)
    y = onednn.VARIANTS[forward](np, x, w, **attrs)
    _close(y, _numpy(forward, x, w, **attrs))
    dy = rng.standard_normal(y.shape).astype(np.float32)
    sizes_x, sizes_w = np.array(x_shape, np.int32), np.array(k_shape, np.int32)
    _close(onednn.VARIANTS[backprop_input](np, sizes_x, w, dy, **attrs),
           _numpy(backprop_input, sizes_x, w, dy, **attrs))
    _close(onednn.VARIANTS[backprop_filter](np, x, sizes_w, dy, **attrs),
           _numpy(backprop_filter, x, sizes_w, dy, **attrs))


@pytest.fixture(autouse=True)
def empty_cache():
    onednn.clear_cache()
    yield
    onednn.clear_cache()


def _used_onednn(count: int) -> None:
    info = onednn.cache_info()
    assert info["entries"] == count and info["failures"] == 0, info


CASES = [
    # (x shape NHWC, filter shape, attrs)
    ((4, 9, 11, 3), (3, 3, 3, 5), {}),
    ((1, 8, 8, 1), (3, 3, 1, 1), {}),  # batch 1, one channel
    ((2, 7, 9, 4), (3, 3, 4, 6), {"strides": (2, 2)}),  # stride 2, odd sizes: TF's asymmetric SAME split
    ((2, 7, 9, 4), (3, 3, 4, 6), {"strides": (2, 2), "padding": "VALID"}),
    ((2, 10, 10, 3), (3, 3, 3, 4), {"dilations": (2, 2)}),
    ((2, 11, 12, 3), (3, 2, 3, 4), {"dilations": (2, 3), "padding": "VALID"}),
    ((2, 8, 9, 3), (3, 3, 3, 4), {"padding": "EXPLICIT", "explicit": [0, 0, 1, 2, 0, 3, 0, 0]}),
    ((3, 9, 8, 2), (5, 4, 2, 3), {"strides": (3, 2), "padding": "SAME"}),
    ((2, 6, 6, 8), (1, 1, 8, 16), {"padding": "VALID"}),
    ((2, 5, 5, 3), (5, 5, 3, 2), {"padding": "VALID"}),  # the window covers the whole input
]


@pytest.mark.parametrize("x_shape, k_shape, options", CASES)
def test_conv2d_kernels_match_numpy(x_shape, k_shape, options):
    _check_family("conv2d", x_shape, k_shape, **_attrs(**options))
    _used_onednn(3)


@pytest.mark.parametrize("x_shape, k_shape, options", CASES)
def test_depthwise_kernels_match_numpy(x_shape, k_shape, options):
    k_shape = k_shape[:2] + (x_shape[3], 2)
    _check_family("depthwise", x_shape, k_shape, **_attrs(**options))
    _used_onednn(3)


@pytest.mark.parametrize("family", ["conv2d", "depthwise"])
@pytest.mark.parametrize("options", [{}, {"strides": (2, 2)}, {"padding": "VALID", "dilations": (2, 2)},
                                     {"padding": "EXPLICIT", "explicit": [0, 0, 0, 0, 2, 1, 0, 1]}])
def test_nchw_matches_numpy(family, options):
    x_shape, k_shape = (2, 3, 9, 10), ((3, 3, 3, 4) if family == "conv2d" else (3, 3, 3, 2))
    _check_family(family, x_shape, k_shape, **_attrs(data_format="NCHW", **options))
    _used_onednn(3)


def test_lenet_shapes_match_numpy():
    for x_shape, k_shape in [((8, 28, 28, 1), (3, 3, 1, 32)), ((8, 14, 14, 32), (3, 3, 32, 64)),
                             ((8, 7, 7, 64), (3, 3, 64, 128))]:
        _check_family("conv2d", x_shape, k_shape, **_attrs())
    _used_onednn(9)


def test_non_contiguous_inputs_are_copied_and_match():
    rng = np.random.default_rng(1)
    attrs = _attrs(strides=(2, 2))
    x = rng.standard_normal((2, 3, 9, 7)).astype(np.float32).transpose(0, 2, 3, 1)  # an NHWC view of NCHW data
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32).transpose(1, 2, 3, 0)
    assert not x.flags.c_contiguous and not w.flags.c_contiguous
    y = onednn.VARIANTS["Conv2D"](np, x, w, **attrs)
    _close(y, _numpy("Conv2D", x, w, **attrs))
    dy = rng.standard_normal((2, 10, y.shape[2], 4)).astype(np.float32)[:, ::2]  # every other row
    assert not dy.flags.c_contiguous and dy.shape == y.shape
    sizes_x, sizes_w = np.array(x.shape, np.int32), np.array(w.shape, np.int32)
    _close(onednn.VARIANTS["Conv2DBackpropInput"](np, sizes_x, w, dy, **attrs),
           _numpy("Conv2DBackpropInput", sizes_x, w, dy, **attrs))
    _close(onednn.VARIANTS["Conv2DBackpropFilter"](np, x, sizes_w, dy, **attrs),
           _numpy("Conv2DBackpropFilter", x, sizes_w, dy, **attrs))
    _used_onednn(3)


@pytest.mark.parametrize("family", ["conv2d", "depthwise"])
def test_float64_runs_on_numpy_with_the_same_result(family):
    forward, backprop_input, backprop_filter = FAMILIES[family]
    rng = np.random.default_rng(2)
    attrs = _attrs(strides=(2, 2))
    x = rng.standard_normal((2, 7, 7, 3))
    w = rng.standard_normal((3, 3, 3, 2))
    y = onednn.VARIANTS[forward](np, x, w, **attrs)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, _numpy(forward, x, w, **attrs))
    sizes_x, sizes_w = np.array(x.shape, np.int32), np.array(w.shape, np.int32)
    np.testing.assert_array_equal(onednn.VARIANTS[backprop_input](np, sizes_x, w, y, **attrs),
                                  _numpy(backprop_input, sizes_x, w, y, **attrs))
    np.testing.assert_array_equal(onednn.VARIANTS[backprop_filter](np, x, sizes_w, y, **attrs),
                                  _numpy(backprop_filter, x, sizes_w, y, **attrs))
    assert onednn.cache_info()["entries"] == 0


@pytest.mark.parametrize("family", ["conv2d", "depthwise"])
def test_zero_batch_runs_on_numpy(family):
    forward, backprop_input, backprop_filter = FAMILIES[family]
    attrs = _attrs()
    x = np.zeros((0, 5, 5, 3), np.float32)
    w = np.ones((3, 3, 3, 2), np.float32)
    y = onednn.VARIANTS[forward](np, x, w, **attrs)
    want = _numpy(forward, x, w, **attrs)
    assert y.shape == want.shape and y.dtype == np.float32
    sizes_x, sizes_w = np.array(x.shape, np.int32), np.array(w.shape, np.int32)
    assert onednn.VARIANTS[backprop_input](np, sizes_x, w, y, **attrs).shape == (0, 5, 5, 3)
    dw = onednn.VARIANTS[backprop_filter](np, x, sizes_w, y, **attrs)
    np.testing.assert_array_equal(dw, _numpy(backprop_filter, x, sizes_w, y, **attrs))
    assert onednn.cache_info()["entries"] == 0


def test_a_mismatched_out_backprop_raises_the_numpy_variants_error():
    w = np.ones((3, 3, 2, 4), np.float32)
    dy = np.ones((1, 4, 4, 4), np.float32)  # SAME on 5x5 gives 5x5
    with pytest.raises(InvalidArgumentError, match="the shape of out_backprop"):
        onednn.VARIANTS["Conv2DBackpropInput"](np, np.array([1, 5, 5, 2]), w, dy, **_attrs())
    with pytest.raises(InvalidArgumentError, match="the shape of out_backprop"):
        onednn.VARIANTS["Conv2DBackpropFilter"](np, np.ones((1, 5, 5, 2), np.float32), np.array([3, 3, 2, 4]), dy,
                                                **_attrs())


def test_a_window_larger_than_the_input_raises_tfs_error():
    x = np.ones((1, 2, 2, 1), np.float32)
    w = np.ones((3, 3, 1, 1), np.float32)
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 3 from 2"):
        onednn.VARIANTS["Conv2D"](np, x, w, **_attrs(padding="VALID"))


def test_results_are_fresh_arrays():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    first = onednn.VARIANTS["Conv2D"](np, x, w, **_attrs())
    kept = first.copy()
    second = onednn.VARIANTS["Conv2D"](np, x * 2, w, **_attrs())
    assert not np.shares_memory(first, second)
    np.testing.assert_array_equal(first, kept)
    dw = onednn.VARIANTS["Conv2DBackpropFilter"](np, x, np.array(w.shape), first, **_attrs())
    dw_again = onednn.VARIANTS["Conv2DBackpropFilter"](np, x, np.array(w.shape), first, **_attrs())
    assert not np.shares_memory(dw, dw_again)
    _used_onednn(2)


def test_the_primitive_cache_is_bounded_and_reuses_entries(monkeypatch):
    monkeypatch.setattr(onednn, "CACHE_SIZE", 4)
    w = np.ones((3, 3, 2, 2), np.float32)
    for size in range(5, 12):
        onednn.VARIANTS["Conv2D"](np, np.ones((1, size, size, 2), np.float32), w, **_attrs())
    assert onednn.cache_info() == {"entries": 4, "failures": 0, "capacity": 4}
    built = []
    real = onednn.Plan
    monkeypatch.setattr(onednn, "Plan", lambda *args: built.append(1) or real(*args))
    onednn.VARIANTS["Conv2D"](np, np.ones((1, 11, 11, 2), np.float32), w, **_attrs())  # cached: no new plan
    assert built == []
    onednn.VARIANTS["Conv2D"](np, np.ones((1, 5, 5, 2), np.float32), w, **_attrs())  # evicted: built again
    assert built == [1] and onednn.cache_info()["entries"] == 4


def test_a_primitive_that_cannot_be_created_runs_on_numpy_and_is_not_retried(monkeypatch):
    calls = []

    def refuse(self, *args):
        calls.append(1)
        raise onednn_lib.DnnlError("dnnl_convolution_forward_primitive_desc_create", 3)

    monkeypatch.setattr(onednn_lib.Library, "convolution_forward", refuse)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    for _ in range(3):
        np.testing.assert_array_equal(onednn.VARIANTS["Conv2D"](np, x, w, **_attrs()),
                                      _numpy("Conv2D", x, w, **_attrs()))
    assert calls == [1]
    assert onednn.cache_info()["failures"] == 1


def test_dnnl_errors_name_the_function_and_status():
    error = onednn_lib.DnnlError("dnnl_primitive_create", 3)
    assert str(error) == "dnnl_primitive_create failed with dnnl_unimplemented"
    assert "status 42" in str(onednn_lib.DnnlError("dnnl_stream_wait", 42))


def test_concurrent_calls_from_threads_match():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 10, 10, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 8)).astype(np.float32)
    want = _numpy("Conv2D", x, w, **_attrs())
    results = []

    def work():
        for _ in range(5):
            results.append(onednn.VARIANTS["Conv2D"](np, x, w, **_attrs()))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20
    for result in results:
        _close(result, want)


def test_strided_descriptors_are_onednns_plain_tags():
    lib = onednn_lib.load()
    for shape, strides, tag in [((2, 3, 5, 7), (105, 1, 21, 3), "acdb"),  # NHWC
                                ((2, 3, 5, 7), (105, 35, 7, 1), "abcd"),  # NCHW
                                ((4, 3, 2, 5), (1, 4, 60, 12), "cdba"),  # HWIO
                                ((3, 2, 1, 4, 5), (2, 1, 6, 30, 6), "decab")]:  # depthwise [KH, KW, C, M]
        assert lib.md_equal(lib.strided_md(shape, strides).handle, lib.tagged_md(shape, tag).handle), tag


def test_library_is_oneDNN_3_and_cached():
    lib = onednn_lib.load()
    assert lib.version[0] == 3
    assert onednn_lib.load() is lib
    assert onednn.prepare() is lib


def test_a_missing_library_raises_a_clear_error(monkeypatch):
    monkeypatch.setattr(onednn_lib, "_library", None)
    monkeypatch.setattr(onednn_lib, "find_library_path", lambda: None)
    with pytest.raises(OSError, match=r"oneDNN \(libdnnl.so.3\) was not found .*pip install onednn-cpu-gomp"):
        onednn_lib.load()
    monkeypatch.setattr(onednn_lib, "find_library_path", lambda: "/nonexistent/libdnnl.so.3")
    with pytest.raises(OSError, match="oneDNN could not be loaded from /nonexistent/libdnnl.so.3"):
        onednn_lib.load()


def test_a_major_version_other_than_3_is_refused():
    onednn_lib.check_version((3, 2, 0), "libdnnl.so.3")
    with pytest.raises(ImportError, match=r"libdnnl.so.2 is oneDNN 2.7.1; caudal's fast_cpu kernels need oneDNN 3.x"):
        onednn_lib.check_version((2, 7, 1), "libdnnl.so.2")


def test_a_library_that_is_not_onednn_is_refused():
    libc = ctypes.util.find_library("c")
    if libc is None:
        pytest.skip("no libc to load")
    with pytest.raises(ImportError, match="is not a oneDNN 3.x library: it has no dnnl_version"):
        onednn_lib.open_library(libc)


def test_set_num_threads_sets_openmps_count():
    try:
        onednn.set_num_threads(1)
        assert onednn_lib.max_threads() == 1
        seen = []
        thread = threading.Thread(target=lambda: seen.append((onednn_lib.apply_num_threads(),
                                                              onednn_lib.max_threads())))
        thread.start()
        thread.join()
        assert seen == [(1, 1)]
        with pytest.raises(ValueError, match="the thread count must be 0 or positive, got -1"):
            onednn.set_num_threads(-1)
    finally:
        onednn.set_num_threads(0)


def test_threads_are_sized_to_each_convolutions_work(monkeypatch):
    from caudal.framework import threads

    monkeypatch.setattr(threads, "_cap", 2)
    kernel = onednn.VARIANTS["Conv2D"]
    attrs = dict(strides=[1, 1, 1, 1], padding="SAME", explicit_paddings=[], data_format="NHWC",
                 dilations=[1, 1, 1, 1])
    small = np.ones((1, 4, 4, 2), np.float32), np.ones((3, 3, 2, 2), np.float32)
    kernel(np, *small, **attrs)
    assert onednn_lib.max_threads() == 1  # 576 flops
    large = np.ones((64, 16, 16, 64), np.float32), np.ones((3, 3, 64, 64), np.float32)
    kernel(np, *large, **attrs)
    assert onednn_lib.max_threads() == 2  # 2^28 flops
    monkeypatch.setattr(threads, "_enabled", False)  # as CAUDAL_THREAD_POLICY=library
    onednn.set_num_threads(1)
    try:
        kernel(np, *large, **attrs)
        assert onednn_lib.max_threads() == 1  # the count set_num_threads gave, as the library's own
    finally:
        onednn.set_num_threads(0)


# ------------------------------------------------------ the fastest of oneDNN's implementations
def _conv_descriptors(lib):
    x_md, _, w_any, y_md = onednn._CONV2D._mds(lib, (2, 8, 8, 4), (3, 3, 4, 6), (2, 8, 8, 6), "NHWC")
    return x_md, w_any, y_md, ([1, 1], [0, 0], [1, 1], [1, 1])


def test_the_library_creates_each_of_onednns_implementations_in_turn_but_the_reference():
    lib = onednn.load()
    x_md, w_any, y_md, geometry = _conv_descriptors(lib)
    names = []
    with lib.primitive_cache_off():
        for k in range(16):
            lib.implementation = k
            try:
                names.append(lib.convolution_forward(x_md.handle, w_any.handle, y_md.handle, geometry).implementation)
            except onednn_lib.NoImplementation:
                break
    assert lib.implementation == 0  # one primitive each time it is set
    assert len(names) == len(set(names)) > 1 and not any(name.startswith("ref") for name in names)
    assert lib.convolution_forward(x_md.handle, w_any.handle, y_md.handle, geometry).implementation == names[0]


def test_the_primitive_cache_is_back_on_after_the_block():
    lib = onednn.load()
    capacity = ctypes.c_int()
    lib.dll.dnnl_get_primitive_cache_capacity(ctypes.byref(capacity))
    with pytest.raises(RuntimeError):
        with lib.primitive_cache_off():
            inside = ctypes.c_int()
            lib.dll.dnnl_get_primitive_cache_capacity(ctypes.byref(inside))
            assert inside.value == 0
            raise RuntimeError
    after = ctypes.c_int()
    lib.dll.dnnl_get_primitive_cache_capacity(ctypes.byref(after))
    assert after.value == capacity.value > 0


def test_a_large_convolution_runs_the_fastest_implementation_and_matches_numpy(monkeypatch):
    monkeypatch.setattr(onednn, "TUNE_FLOPS", 0)  # every plan is a large one
    chosen = []
    real_fastest = onednn._fastest

    def spy(plan, build, arrays):
        best = real_fastest(plan, build, arrays)
        chosen.append(best)
        return best

    monkeypatch.setattr(onednn, "_fastest", spy)
    runs = []
    real_run = onednn.Plan.run
    monkeypatch.setattr(onednn.Plan, "run", lambda self, arrays: runs.append(self) or real_run(self, arrays))
    _check_family("conv2d", (4, 9, 11, 3), (3, 3, 3, 5), **_attrs())
    assert len(chosen) == 3 and len(set(map(id, runs))) > 6  # several implementations of each convolution ran
    assert set(map(id, chosen)) == {id(plan) for plan in onednn._cache.values()}
    for plan in chosen:
        assert all(not step[0].implementation.startswith("ref") for step in plan.steps)
    runs.clear()
    _check_family("conv2d", (4, 9, 11, 3), (3, 3, 3, 5), **_attrs())  # the chosen plans, from the cache
    assert len(chosen) == 3 and [id(plan) for plan in runs] == [id(plan) for plan in chosen]


def test_small_convolutions_are_not_timed(monkeypatch):
    monkeypatch.setattr(onednn, "_fastest", lambda *args: pytest.fail("a small plan was timed"))
    _check_family("conv2d", (4, 9, 11, 3), (3, 3, 3, 5), **_attrs())
