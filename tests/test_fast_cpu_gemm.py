"""MatMul on oneDNN's sgemm and, for large products, its matmul primitive (fast_cpu) against the NumPy
variant they replace."""
from __future__ import annotations

import numpy as np
import pytest

from caudal.framework.registry import get_op_def
from tests.onednn_fixtures import require_onednn

require_onednn()

from caudal.backends.fast_cpu import gemm, onednn_lib  # noqa: E402

pytestmark = pytest.mark.fast_cpu


@pytest.fixture(autouse=True)
def prepared() -> None:
    from caudal.backends.fast_cpu import backend

    backend.load_kernels()  # what the first fast_cpu Session does (it prepares gemm once)
    gemm.prepare()


def _flag(x: np.ndarray, transposed: bool) -> bytes:
    """The sgemm flag of an operand handed over where it lies (an F-contiguous one as its transpose)."""
    return b"T" if transposed == bool(x.flags.c_contiguous) else b"N"


@pytest.fixture(params=["ctypes", "numba"])
def sgemm_calls(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list:
    """The (transa, transb, M, N, K) of each product run on oneDNN's sgemm: through ctypes (before numba
    has loaded) or from numba's `sgemm_product` (after)."""
    from caudal.backends.fast_cpu import loops
    from caudal.framework import threads

    monkeypatch.setattr(threads, "others_idle", lambda: False)  # every product here has one thread
    calls: list = []
    real = gemm._sgemm
    monkeypatch.setattr(gemm, "_sgemm", lambda *args: (calls.append(args[:5]), real(*args))[1])
    if request.param == "ctypes":
        monkeypatch.setattr(loops, "_kernel_module", None)
        return calls
    pytest.importorskip("numba")
    kernels = loops._kernels()
    product = kernels.sgemm_product

    def spy(address, a, b, transpose_a, transpose_b, out):
        status = product(address, a, b, transpose_a, transpose_b, out)
        if status == 0:
            k = a.shape[0] if transpose_a else a.shape[1]
            calls.append((_flag(a, transpose_a), _flag(b, transpose_b), *out.shape, k))
        return status

    monkeypatch.setattr(kernels, "sgemm_product", spy)
    return calls


def _numpy(a, b, **attrs):
    return get_op_def("MatMul").variants["numpy"](np, a, b, **attrs)


def _operands(m: int, k: int, n: int, transpose_a: bool, transpose_b: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if transpose_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if transpose_b else (k, n)).astype(np.float32)
    return a, b


@pytest.mark.parametrize("transpose_a", [False, True])
@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("layout", ["c", "transposed view", "strided"])
def test_products_match_numpy(transpose_a, transpose_b, layout, sgemm_calls):
    a, b = _operands(128, 156, 512, transpose_a, transpose_b)
    if layout == "transposed view":
        a, b = np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T
    elif layout == "strided":
        a = np.repeat(a, 2, axis=1)[:, ::2]
    attrs = dict(transpose_a=transpose_a, transpose_b=transpose_b)
    got = gemm.matmul(np, a, b, **attrs)
    assert got.dtype == np.float32 and got.shape == (128, 512) and got.flags.c_contiguous and got.flags.owndata
    np.testing.assert_allclose(got, _numpy(a, b, **attrs), rtol=1e-5, atol=1e-4)
    assert len(sgemm_calls) == 1


@pytest.fixture
def primitive_keys(monkeypatch: pytest.MonkeyPatch) -> list:
    """The layouts of the products run on oneDNN's matmul primitive."""
    from caudal.backends.fast_cpu import onednn

    keys: list = []
    real = onednn.run_plan
    monkeypatch.setattr(onednn, "run_plan", lambda key, *args: (keys.append(key[1:]), real(key, *args))[1])
    return keys


@pytest.mark.parametrize("transpose_a", [False, True])
@pytest.mark.parametrize("transpose_b", [False, True])
@pytest.mark.parametrize("layout", ["c", "transposed view", "strided"])
def test_large_products_run_the_matmul_primitive_and_match_numpy(transpose_a, transpose_b, layout, sgemm_calls,
                                                                 primitive_keys):
    a, b = _operands(96, 700, 1024, transpose_a, transpose_b, seed=3)  # 2^27.0 flops
    if layout == "transposed view":
        a, b = np.ascontiguousarray(a.T).T, np.ascontiguousarray(b.T).T
    elif layout == "strided":
        b = np.repeat(b, 2, axis=0)[::2]
    attrs = dict(transpose_a=transpose_a, transpose_b=transpose_b)
    got = gemm.matmul(np, a, b, **attrs)
    assert got.dtype == np.float32 and got.shape == (96, 1024) and got.flags.c_contiguous
    np.testing.assert_allclose(got, _numpy(a, b, **attrs), rtol=1e-5, atol=1e-3)
    assert sgemm_calls == [] and len(primitive_keys) == 1
    (shape_a, strides_a), (shape_b, strides_b) = primitive_keys[0]
    assert shape_a == (96, 700) and shape_b == (700, 1024)
    # each operand is read where it lies: a transposed operand by its strides, not copied
    assert (strides_a == (1, 96)) == (transpose_a != (layout == "transposed view"))


def test_a_product_the_primitive_cannot_run_falls_back_to_sgemm(sgemm_calls, monkeypatch):
    from caudal.backends.fast_cpu import onednn

    monkeypatch.setattr(onednn, "run_plan", lambda *args: False)
    a, b = _operands(96, 700, 1024, False, True, seed=4)
    got = gemm.matmul(np, a, b, transpose_a=False, transpose_b=True)
    np.testing.assert_allclose(got, a @ b.T, rtol=1e-5, atol=1e-3)
    assert sgemm_calls == [(b"N", b"T", 96, 1024, 700)]


def test_small_products_and_other_dtypes_run_numpy(sgemm_calls):
    a, b = _operands(4, 5, 6, False, False)
    np.testing.assert_array_equal(gemm.matmul(np, a, b, transpose_a=False, transpose_b=False), a @ b)
    a64, b64 = (x.astype(np.float64) for x in _operands(128, 156, 512, False, False))
    np.testing.assert_array_equal(gemm.matmul(np, a64, b64, transpose_a=False, transpose_b=False), a64 @ b64)
    assert sgemm_calls == []


def test_products_too_small_for_ctypes_run_sgemm_from_numba(sgemm_calls, request):
    a, b = _operands(100, 30, 10, False, True)  # a dense layer's 60 KFLOP product: 1.2 us from numba, 1.9 NumPy
    assert gemm.MIN_NUMBA_FLOPS <= 2 * 100 * 30 * 10 < gemm.MIN_FLOPS
    np.testing.assert_allclose(gemm.matmul(np, a, b, transpose_a=False, transpose_b=True), a @ b.T, rtol=1e-5,
                               atol=1e-5)
    from_numba = request.node.callspec.params["sgemm_calls"] == "numba"
    assert sgemm_calls == ([(b"N", b"T", 100, 10, 30)] if from_numba else [])


def test_mismatched_inner_dimensions_raise_the_numpy_variants_error(sgemm_calls):
    a, b = _operands(128, 156, 512, False, False)
    with pytest.raises(ValueError) as ours:
        gemm.matmul(np, a, b[:100], transpose_a=False, transpose_b=False)
    with pytest.raises(ValueError) as numpys:
        _numpy(a, b[:100], transpose_a=False, transpose_b=False)
    assert str(ours.value) == str(numpys.value)
    assert sgemm_calls == []


def test_a_session_on_fast_cpu_runs_matmul_on_onednn(sgemm_calls):
    import caudal as tf

    config = tf.ConfigProto()
    config.experimental.executor_type = "fast_cpu"
    a, b = _operands(64, 300, 200, False, False)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 300])
        w = tf.constant(b)
        y = tf.matmul(x, w)
        dw = tf.gradients(tf.reduce_sum(y * y), w)[0]
        with tf.Session(config=config) as sess:
            got, got_dw = sess.run([y, dw], {x: a})
    np.testing.assert_allclose(got, a @ b, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(got_dw, a.T @ (2 * (a @ b)), rtol=1e-4, atol=1e-3)
    assert len(sgemm_calls) == 2  # the product and its weight gradient (x's is pruned)


@pytest.mark.parametrize("count", [1, 2])
def test_products_run_on_the_onednn_threads_the_policy_gives(sgemm_calls, monkeypatch, count):
    from caudal.framework import threads

    monkeypatch.setattr(threads, "_blas_single", False)
    a, b = _operands(128, 156, 512, False, False)  # an LSTM step's 20 MFLOP product
    monkeypatch.setattr(threads, "threads_for", lambda flops: count)
    np.testing.assert_allclose(gemm.matmul(np, a, b, transpose_a=False, transpose_b=False), a @ b, rtol=1e-5,
                               atol=1e-4)
    assert sgemm_calls == [(b"N", b"N", 128, 512, 156)]
    assert onednn_lib.max_threads() == count
    assert threads.blas_is_single() == (count > 1)  # one pool of threads once oneDNN's run in parallel


def test_the_library_thread_policy_leaves_products_to_numpy(sgemm_calls, monkeypatch):
    from caudal.framework import threads

    a, b = _operands(128, 156, 512, False, False)
    monkeypatch.setattr(threads, "enabled", lambda: False)
    np.testing.assert_array_equal(gemm.matmul(np, a, b, transpose_a=False, transpose_b=False),
                                  _numpy(a, b, transpose_a=False, transpose_b=False))
    assert sgemm_calls == []


def test_after_a_threaded_convolution_numpys_blas_keeps_one_thread(monkeypatch):
    from threadpoolctl import threadpool_info

    from caudal.backends.fast_cpu import onednn
    from caudal.framework import threads

    monkeypatch.setattr(threads, "_blas_single", False)
    monkeypatch.setattr(threads, "threads_for", lambda flops: 2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    attrs = dict(strides=[1, 1, 1, 1], padding="SAME", explicit_paddings=[], data_format="NHWC",
                 dilations=[1, 1, 1, 1])
    onednn.VARIANTS["Conv2D"](np, x, w, **attrs)
    assert threads.blas_is_single()
    assert all(info["num_threads"] == 1 for info in threadpool_info() if info["user_api"] == "blas")
    threads.blas_threads_for(1e12)
    assert all(info["num_threads"] == 1 for info in threadpool_info() if info["user_api"] == "blas")


@pytest.mark.parametrize("preset", [{}, {"OMP_WAIT_POLICY": "PASSIVE"}, {"GOMP_SPINCOUNT": "0"}])
def test_openmp_threads_spin_briefly_unless_the_user_chose(monkeypatch, preset):
    import os

    from caudal.framework import threads

    monkeypatch.setattr(threads, "others_busy_recently", lambda: False)
    for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in preset.items():
        monkeypatch.setenv(name, value)
    threads.bound_openmp_waits()
    if preset:
        assert {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")} == {
            "OMP_WAIT_POLICY": preset.get("OMP_WAIT_POLICY"), "GOMP_SPINCOUNT": preset.get("GOMP_SPINCOUNT")}
    else:
        assert (os.environ["OMP_WAIT_POLICY"], os.environ["GOMP_SPINCOUNT"]) == ("ACTIVE", threads.SPIN_COUNT)


def test_openmp_threads_sleep_at_once_when_other_processes_keep_the_machine_busy(monkeypatch):
    import os

    from caudal.framework import threads

    monkeypatch.setattr(threads, "others_busy_recently", lambda: True)
    for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        monkeypatch.delenv(name, raising=False)
    threads.bound_openmp_waits()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE" and "GOMP_SPINCOUNT" not in os.environ
