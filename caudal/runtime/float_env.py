"""The floating-point environment a plan runs in: NumPy's floating-point errors ignored (TF raises
none; an overflow gives inf), and denormal floats flushed to zero, as TensorFlow's kernels compute
(its executor runs each kernel with the CPU's flush-to-zero and denormals-are-zero modes set).

Flushing matters for speed as much as for matching TF's values: arithmetic on denormals is up to
a hundred times slower, and training drives some values there (Adam's second moments, the
gradients of saturated units). A small MLP trained with Adam ran 3x slower after about 600 steps
without it. The modes live in the SSE control register (MXCSR) of the calling thread, which
glibc's `fegetenv`/`fesetenv` read and write on x86-64 (called through ctypes, under 1 us a run);
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

__all__ = ["enter", "leave"]

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
_FLUSH = _FLUSH_TO_ZERO | _DENORMALS_ARE_ZERO
_local = threading.local()


def _numpy_error_switch() -> tuple[Any, Any]:
    """(ignore, restore): set NumPy's error state to ignore-all and put the previous one back.

    NumPy 2 keeps the state in a context variable; setting it directly costs a fifth of entering
    `np.errstate`. Where that variable is not there, `np.errstate` does the same."""
    try:
        from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj
        ignore_all = _make_extobj(all="ignore")
    except (ImportError, AttributeError, TypeError):
        def ignore() -> Any:
            state = np.errstate(all="ignore")
            state.__enter__()
            return state

        def restore(state: Any) -> None:
            state.__exit__(None, None, None)
        return ignore, restore
    set_, reset = _extobj_contextvar.set, _extobj_contextvar.reset
    return (lambda: set_(ignore_all)), reset


_ignore_numpy_errors, _restore_numpy_errors = _numpy_error_switch()


def _thread_fenv() -> tuple[_FEnv, int]:
    try:
        return _local.fenv
    except AttributeError:
        buffer = _FEnv()
        _local.fenv = (buffer, ctypes.addressof(buffer))
        return _local.fenv


def enter() -> tuple[Any, int]:
    """Set the run's environment on the calling thread; returns what `leave` needs to undo it.

    A nested run (a `py_func` that runs a session) finds the modes set and leaves them to the
    outer run."""
    errors = _ignore_numpy_errors()
    if _FENV is None:
        return errors, -1
    buffer, address = _thread_fenv()
    _FENV[0](address)
    mxcsr = buffer.mxcsr
    if mxcsr & _FLUSH == _FLUSH:
        return errors, -1
    buffer.mxcsr = mxcsr | _FLUSH
    _FENV[1](address)
    return errors, mxcsr


def leave(state: tuple[Any, int]) -> None:
    """Put back the environment `enter` found."""
    errors, mxcsr = state
    if mxcsr >= 0:
        buffer, address = _local.fenv
        buffer.mxcsr = mxcsr
        _FENV[1](address)
    _restore_numpy_errors(errors)
