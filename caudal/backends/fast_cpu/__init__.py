"""The `fast_cpu` backend: NumPy plans, with native kernels where the profile says they pay.

The `caudal[fast]` extra installs oneDNN (`onednn-cpu-gomp`, called through
`ctypes`: convolutions, pooling and their gradients, and MatMul on its
sgemm) and numba (multi-threaded loops for the other memory-bound passes:
ReluGrad, bias, the optimizers' in-place updates; pooling where oneDNN is
missing; the row scatters of sparse updates, `scatters`; a first convolution
layer and its max pooling in one pass, `conv_pool`). When either is installed, `fast_cpu` is the
default backend (`$CAUDAL_BACKEND` or `ConfigProto.experimental.executor_type`
still choose another); the NumPy backend stays the reference the tests
compare it with.

The backend runs the same Python plans as `numpy` (in-place writes included)
and binds, for each op, its `fast_cpu` variant when one was installed, else
its `numpy` variant, else the portable kernel. Each kernel module
(`onednn`, `onednn_pool`, `gemm`, `loops`, ...) exports `VARIANTS: {op type: kernel}` with the NumPy
variant's parameters and results, and routes what it does not handle (other
dtypes, odd layouts) to that NumPy variant. A module that fails to load is
reported once with a warning and its ops run on NumPy: a missing or broken
library is never a crash.

Nothing here is imported by `import caudal`; the kernel modules load when
the first `fast_cpu` Session starts (see `backend.py`).
"""
from __future__ import annotations

import importlib.util
import os
import sys

__all__ = ["installed", "onednn_library_path", "KERNEL_MODULES"]

# The kernel modules, in the order their variants are installed (the first one to offer a
# variant of an op wins).
KERNEL_MODULES = ("onednn", "onednn_pool", "gemm", "loops", "updates", "uniform", "conv_pool")


def onednn_library_path() -> str | None:
    """Where the `onednn-cpu-gomp` wheel put libdnnl (under the environment's prefix), if there."""
    for prefix in (sys.prefix, sys.base_prefix):
        path = os.path.join(prefix, "lib", "libdnnl.so.3")
        if os.path.exists(path):
            return path
    return None


def installed() -> bool:
    """Whether any part of the `fast` extra is installed, found without importing it."""
    try:
        if importlib.util.find_spec("numba") is not None:
            return True
    except (ImportError, ValueError):
        pass
    return onednn_library_path() is not None
