"""`_ReluMaxPoolGrad` on fast_cpu (caudal.backends.fast_cpu.onednn_pool.relu_max_pool_grad): the
gradient of a ReLU through a max pooling from the pooling's workspace and its sums per channel in one
numba pass, against ReluGrad's, the workspace gradient's and Sum's fast_cpu kernels in turn; NaN
gradients pass the mask as in TF; what the pass does not handle runs those kernels."""
from __future__ import annotations

import numpy as np
import pytest

from tests.fast_cpu_loops import loops_loaded, require_fast_extra  # noqa: F401

require_fast_extra()

from caudal.backends.fast_cpu import loops, onednn_pool  # noqa: E402

pytestmark = pytest.mark.fast_cpu


@pytest.fixture
def passes(monkeypatch):
    """The names of the numba loops run."""
    names = []
    run_on = loops._run_on
    monkeypatch.setattr(loops, "_run_on", lambda count, kernel, *args: names.append(kernel.__name__)
                        or run_on(count, kernel, *args))
    return names


def _attrs(window=2, stride=2, padding="SAME"):
    return dict(ksize=[1, window, window, 1], strides=[1, stride, stride, 1], padding=padding, explicit_paddings=[],
                data_format="NHWC")


def _pooled(x, attrs):
    """(pooled values, workspace) of fast_cpu's _MaxPoolWithWorkspace."""
    return onednn_pool.VARIANTS["_MaxPoolWithWorkspace"](np, x, **attrs)


@pytest.mark.parametrize("shape", [(3, 14, 14, 64), (2, 7, 7, 5), (1, 5, 6, 1)])  # LeNet's, odd sizes, one channel
def test_the_pass_matches_the_three_kernels(shape, passes):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(np.float32)
    attrs = _attrs()
    y, workspace = _pooled(x, attrs)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx, sums = onednn_pool.relu_max_pool_grad(np, x, y, dy, workspace, **attrs)
    assert passes[-1] == "relu_max_pool_workspace_grad_nhwc"
    want_dx, want_sums = onednn_pool._relu_max_pool_grad_kernels(np, x, y, dy, workspace, **attrs)
    assert (dx.dtype, sums.dtype, sums.shape) == (np.float32, np.float32, (shape[3],))
    np.testing.assert_array_equal(dx, want_dx)
    np.testing.assert_allclose(sums, want_sums, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sums, (dy * (y > 0)).sum(axis=(0, 1, 2), dtype=np.float64), rtol=1e-5, atol=1e-5)


def test_nan_gradients_pass_the_mask_as_in_tf(passes):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    attrs = _attrs()
    y, workspace = _pooled(x, attrs)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dropped = tuple(np.argwhere(y <= 0)[0])
    dy[dropped] = np.nan  # ReluGrad multiplies by the mask: NaN * 0 is NaN
    dx, sums = onednn_pool.relu_max_pool_grad(np, x, y, dy, workspace, **attrs)
    assert passes[-1] == "relu_max_pool_workspace_grad_nhwc"
    want_dx, want_sums = onednn_pool._relu_max_pool_grad_kernels(np, x, y, dy, workspace, **attrs)
    np.testing.assert_array_equal(dx, want_dx)  # NaN at the window's maximum only
    assert np.isnan(sums).tolist() == [c == dropped[3] for c in range(3)]
    np.testing.assert_allclose(sums, want_sums, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("change", ["overlapping", "numpy_workspace", "float64", "numba_missing"])
def test_what_the_pass_does_not_handle_runs_the_three_kernels(change, monkeypatch, passes):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 7, 7, 4)).astype(np.float64 if change == "float64" else np.float32)
    attrs = _attrs(3, 2, "VALID") if change == "overlapping" else _attrs()
    y, workspace = _pooled(x, attrs)
    if change == "numpy_workspace":
        workspace = np.zeros((0,), np.uint8)  # what the NumPy kernels give
    if change == "numba_missing":
        monkeypatch.setattr(loops, "_kernel_module", None)
    dy = rng.standard_normal(y.shape).astype(x.dtype)
    got = onednn_pool.relu_max_pool_grad(np, x, y, dy, workspace, **attrs)
    assert "relu_max_pool_workspace_grad_nhwc" not in passes
    want = onednn_pool._relu_max_pool_grad_kernels(np, x, y, dy, workspace, **attrs)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == x.dtype
        np.testing.assert_array_equal(g, w)
