"""The `fast_cpu` backend's seam: how it is chosen, how kernel modules plug in, what happens when
one fails to load, and the thread cap from `ConfigProto.intra_op_parallelism_threads`. The kernels
themselves are checked in tests/test_fast_cpu_onednn.py and tests/test_fast_cpu_loops.py."""
from __future__ import annotations

import sys
import types
import warnings

import numpy as np
import pytest

import caudal as tf
from caudal.backends import fast_cpu
from caudal.backends.fast_cpu import backend as fast_backend
from caudal.framework.registry import get_op_def


@pytest.fixture
def fresh_loader(monkeypatch):
    """A loader that has loaded nothing yet; the op definitions' variants restored afterwards."""
    monkeypatch.setattr(fast_backend, "_loaded", None)
    monkeypatch.setattr(fast_backend, "_failed", {})
    for op_type in ("Relu", "Conv2D"):
        op_def = get_op_def(op_type)
        # without the fast_cpu variants an earlier fast_cpu Session of this process installed
        monkeypatch.setattr(op_def, "variants", {k: v for k, v in op_def.variants.items() if k != "fast_cpu"})
    return monkeypatch


def _config(executor_type: str) -> tf.ConfigProto:
    config = tf.ConfigProto()
    config.experimental.executor_type = executor_type
    return config


def _conv_relu(backend: str) -> np.ndarray:
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 5, 5, 3])
        w = tf.Variable(np.linspace(-0.5, 0.7, 3 * 3 * 3 * 4, dtype=np.float32).reshape(3, 3, 3, 4))
        y = tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME") + 0.1)
        with tf.Session(config=_config(backend)) as sess:
            sess.run(w.initializer)
            return sess.run(y, {x: np.linspace(-1, 1, 2 * 5 * 5 * 3, dtype=np.float32).reshape(2, 5, 5, 3)})


def test_fast_cpu_is_the_default_when_the_extra_is_installed(monkeypatch) -> None:
    monkeypatch.delenv("CAUDAL_BACKEND", raising=False)
    monkeypatch.setattr(fast_cpu, "installed", lambda: True)
    from caudal import backends

    assert backends.default_backend_name() == "fast_cpu"
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")
    assert backends.default_backend_name() == "numpy"


def test_a_kernel_module_plugs_in_ahead_of_the_numpy_variants(fresh_loader) -> None:
    calls = []
    numpy_conv = get_op_def("Conv2D").variants["numpy"]

    def conv(xp, x, w, **attrs):
        calls.append(x.shape)
        return numpy_conv(xp, x, w, **attrs)

    def relu(xp, x):
        calls.append("relu")
        return np.maximum(x, 0)

    module = types.ModuleType("caudal.backends.fast_cpu.fake_kernels")
    module.VARIANTS = {"Conv2D": conv, "Relu": relu}
    module.prepare = lambda: calls.append("prepared")
    fresh_loader.setitem(sys.modules, module.__name__, module)
    fresh_loader.setattr(fast_cpu, "KERNEL_MODULES", ("fake_kernels",))
    result = _conv_relu("fast_cpu")
    # The fast Conv2D runs ahead of NumPy's; the ReLU writes into its dead input with NumPy's
    # in-place kernel, ahead of the fast one.
    assert calls == ["prepared", (2, 5, 5, 3)]
    np.testing.assert_allclose(result, _conv_relu("numpy"), rtol=1e-6)
    assert fast_backend.loaded_modules() == {"fake_kernels": "loaded"}


def test_a_module_that_fails_to_load_warns_once_and_its_ops_run_on_numpy(fresh_loader) -> None:
    fresh_loader.setattr(fast_cpu, "KERNEL_MODULES", ("no_such_kernels",))
    with pytest.warns(RuntimeWarning, match=r"the fast_cpu kernels of 'no_such_kernels' could not be loaded "
                                            r"\(ModuleNotFoundError: .*\); their ops run on NumPy"):
        result = _conv_relu("fast_cpu")
    np.testing.assert_allclose(result, _conv_relu("numpy"), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(_conv_relu("fast_cpu"), result)  # no second warning
    assert fast_backend.loaded_modules()["no_such_kernels"].startswith("ModuleNotFoundError")


def test_a_kernel_module_whose_library_is_broken_warns_and_falls_back(fresh_loader) -> None:
    module = types.ModuleType("caudal.backends.fast_cpu.broken_kernels")

    def prepare():
        raise OSError("libbroken.so: cannot open shared object file")

    module.prepare = prepare
    module.VARIANTS = {"Conv2D": lambda *a, **k: pytest.fail("a module that failed to load was used")}
    fresh_loader.setitem(sys.modules, module.__name__, module)
    fresh_loader.setattr(fast_cpu, "KERNEL_MODULES", ("broken_kernels",))
    with pytest.warns(RuntimeWarning, match="OSError: libbroken.so: cannot open shared object file"):
        result = _conv_relu("fast_cpu")
    np.testing.assert_allclose(result, _conv_relu("numpy"), rtol=1e-6)
    assert "fast_cpu" not in get_op_def("Conv2D").variants


def test_intra_op_parallelism_threads_caps_the_blas_pool() -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = threadpoolctl.threadpool_info()
    blas = [pool for pool in before if pool["user_api"] == "blas"]
    if not blas:
        pytest.skip("NumPy's BLAS is not one threadpoolctl controls")
    try:
        config = tf.ConfigProto(intra_op_parallelism_threads=1)
        config.experimental.executor_type = "numpy"
        with tf.Session(config=config) as sess:
            assert sess.run(tf.constant(2.0) * 3.0) == 6.0
        after = [pool for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]
        assert all(pool["num_threads"] == 1 for pool in after)
    finally:
        threadpoolctl.threadpool_limits(limits={pool["prefix"]: pool["num_threads"] for pool in blas})


def test_products_run_on_threads_sized_to_their_work(monkeypatch) -> None:
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from caudal.framework import threads

    if not [pool for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]:
        pytest.skip("NumPy's BLAS is not one threadpoolctl controls")
    monkeypatch.setattr(threads, "_cap", 2)
    monkeypatch.setattr(threads, "_blas_threads", 0)
    monkeypatch.setattr(threads, "_blas_single", False)  # as in a process where fast_cpu never loaded

    def blas_threads() -> int:
        counts = {controller.get_num_threads() for controller in threads._blas_controllers()}
        assert len(counts) == 1, counts
        return counts.pop()

    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [None, None])
        product = tf.matmul(a, a)
        with tf.Session(config=_config("numpy")) as sess:
            np.testing.assert_array_equal(sess.run(product, {a: np.ones([8, 8])}), np.full([8, 8], 8.0))
            assert blas_threads() == 1
            # 2 * 512^3 flops > PARALLEL_FLOPS
            np.testing.assert_array_equal(sess.run(product, {a: np.ones([512, 512])}), np.full([512, 512], 512.0))
            assert blas_threads() == 2
    monkeypatch.setattr(threads, "_enabled", False)  # as CAUDAL_THREAD_POLICY=library
    assert not threads.enabled()
    threads.blas_threads_for(1.0)  # leaves the library alone
    assert blas_threads() == 2


def test_a_thread_cap_must_be_positive() -> None:
    from caudal.framework import threads

    with pytest.raises(ValueError, match="A thread count must be positive, got 0"):
        threads.set_cap(0)


def test_the_thread_policy_reads_its_environment_once() -> None:
    import os
    import subprocess

    code = ("from caudal.framework import threads\n"
            "assert not threads.enabled() and threads.PARALLEL_FLOPS == 4096\n"
            "assert threads.threads_for(4096) == threads.cap() and threads.threads_for(4095) == 1\n")
    env = dict(os.environ, CAUDAL_THREAD_POLICY="library", CAUDAL_PARALLEL_FLOPS="4096")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)


def test_a_fast_cpu_session_imports_numba_only_when_a_loop_kernel_runs() -> None:
    import subprocess

    if not fast_cpu.installed():
        pytest.skip("the fast extra is not installed")
    code = ("import sys, numpy as np, caudal as tf\n"
            "config = tf.ConfigProto()\n"
            "config.experimental.executor_type = 'fast_cpu'\n"
            "x = tf.placeholder(tf.float32, [1, 256, 256, 1])\n"
            "big = tf.placeholder(tf.float32, [1, 1024, 1024, 1])\n"
            "with tf.Session(config=config) as sess:\n"
            "    ones = np.ones([1, 256, 256, 1])\n"
            "    sess.run(tf.nn.max_pool(x + 1, [1, 2, 2, 1], [1, 2, 2, 1], 'VALID'), {x: ones})\n"
            "    sess.run(tf.gradients(tf.reduce_sum(tf.square(tf.nn.relu(x * 2))), x), {x: ones})\n"
            "    assert 'numba' not in sys.modules  # a 2^16 in-place pass is not worth loading it\n"
            "    sess.run(tf.gradients(tf.reduce_sum(tf.square(tf.nn.relu(big * 2))), big),\n"
            "             {big: np.ones([1, 1024, 1024, 1])})\n"
            "from caudal.backends.fast_cpu import backend\n"
            "assert 'numba' in sys.modules or backend.loaded_modules()['loops'] != 'loaded'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
