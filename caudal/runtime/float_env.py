"""The floating-point environment a plan runs in: NumPy's floating-point errors ignored (TF raises
none; an overflow gives inf), and denormal floats flushed to zero, as TensorFlow's kernels compute
(its executor runs each kernel with the CPU's flush-to-zero and denormals-are-zero modes set).

Flushing matters for speed as much as for matching TF's values: arithmetic on denormals is up to
a hundred times slower, and training drives some values there (Adam's second moments, the
gradients of saturated units). A small MLP trained with Adam ran 3x slower after about 600 steps
without it. The modes live in the SSE control register (MXCSR) of the calling thread, which
glibc's `fegetenv`/`fesetenv` read and write on x86-64 (called through ctypes, about 2 us a run);
they are set for the run and the thread's own environment is restored after it, so NumPy code
outside a Session is unaffected. Threads of BLAS, oneDNN and numba keep their own environment.
Elsewhere (another libc, another CPU) only the NumPy error state is set.
`CAUDAL_FLUSH_DENORMALS=0` turns flushing off.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import sys
import threading
from typing import Any

import numpy as np

__all__ = ["kernel_environment"]

_FLUSH_TO_ZERO = 1 << 15
_DENORMALS_ARE_ZERO = 1 << 6


class _FEnv(ctypes.Structure):
    """glibc's x86-64 fenv_t: the x87 environment (28 bytes), then MXCSR."""

    _fields_ = [("x87", ctypes.c_byte * 28), ("mxcsr", ctypes.c_uint)]


def _load_fenv() -> tuple[Any, Any] | None:
    if os.environ.get("CAUDAL_FLUSH_DENORMALS", "1") == "0":
        return None
    if not sys.platform.startswith("linux") or platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        get, set_ = libm.fegetenv, libm.fesetenv
    except (OSError, AttributeError):
        return None
    get.argtypes = set_.argtypes = [ctypes.c_void_p]
    get.restype = set_.restype = ctypes.c_int
    probe = _FEnv()
    if ctypes.sizeof(_FEnv) != 32 or get(ctypes.addressof(probe)) != 0:
        return None
    return get, set_


_FENV = _load_fenv()
_local = threading.local()


class _ThreadEnvironment:
    """One thread's manager: NumPy errors ignored and denormals flushed for the outermost run of
    the thread, its own environment restored when that run ends (a nested run changes nothing)."""

    __slots__ = ("_errstate", "_saved", "_flushed", "_saved_at", "_flushed_at", "_restore", "_depth")

    def __init__(self) -> None:
        self._errstate: list[Any] = []
        self._saved, self._flushed = _FEnv(), _FEnv()
        self._saved_at, self._flushed_at = ctypes.addressof(self._saved), ctypes.addressof(self._flushed)
        self._restore = False
        self._depth = 0

    def __enter__(self) -> None:
        errstate = np.errstate(all="ignore")  # one use each (NumPy 2 refuses a second)
        errstate.__enter__()
        self._errstate.append(errstate)
        self._depth += 1
        if _FENV is not None and self._depth == 1:
            _FENV[0](self._saved_at)
            mode = self._saved.mxcsr | _FLUSH_TO_ZERO | _DENORMALS_ARE_ZERO
            self._restore = mode != self._saved.mxcsr
            if self._restore:
                ctypes.memmove(self._flushed_at, self._saved_at, 32)
                self._flushed.mxcsr = mode
                _FENV[1](self._flushed_at)

    def __exit__(self, *exc: Any) -> None:
        self._depth -= 1
        if self._depth == 0 and self._restore:
            _FENV[1](self._saved_at)
            self._restore = False
        self._errstate.pop().__exit__(*exc)


def kernel_environment() -> _ThreadEnvironment:
    """The calling thread's manager for running a plan (`with kernel_environment(): ...`)."""
    try:
        return _local.environment
    except AttributeError:
        environment = _local.environment = _ThreadEnvironment()
        return environment
