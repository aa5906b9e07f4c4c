"""How many threads a kernel's parallel work runs on: caudal's counterpart of TF's intra-op pool.

A parallel region ends when its slowest thread ends. On an idle machine every
thread runs at once and a large product finishes up to `cores` times sooner;
on a busy one (a laptop with a browser, a shared server) one of the threads
is often descheduled for a whole scheduler time slice (milliseconds), and a
product that takes 0.1 ms on one thread then takes several. OpenBLAS's
threads also spin after each product, taking the core from the Python thread
that runs the next op. Measured on 2-core machines, a small MLP step ran 10-25x
slower beside other work with OpenBLAS's default threads than on one thread.

So caudal sizes the threads to the work: a kernel with less than
`PARALLEL_FLOPS` of arithmetic runs on one thread, larger ones on `cap()`
threads, where a slice lost to the scheduler costs a small fraction of the
work. `cap()` is the number of CPUs this process may run on, or what the
user set: `ConfigProto.intra_op_parallelism_threads` (the last Session
created with a nonzero value; process-wide, where TF's pools are per
Session), else `OMP_NUM_THREADS` / `OPENBLAS_NUM_THREADS` / `MKL_NUM_THREADS`.
NumPy's BLAS is switched through threadpoolctl's handle on the library
(about a microsecond per switch, and only when the count changes); where no
BLAS threadpoolctl knows is loaded, nothing is switched.
`CAUDAL_THREAD_POLICY=library` leaves every library's own threading alone, and
`CAUDAL_PARALLEL_FLOPS` moves the threshold (both read once per process).
"""
from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["PARALLEL_FLOPS", "cap", "set_cap", "threads_for", "blas_threads_for", "enabled"]

# About 2 ms of single-core float32 arithmetic on an AVX2/AVX-512 core; $CAUDAL_PARALLEL_FLOPS sets it.
PARALLEL_FLOPS = int(os.environ.get("CAUDAL_PARALLEL_FLOPS", "") or (1 << 27))

_lock = threading.Lock()
_cap: int | None = None
_blas: list[Any] | None = None  # threadpoolctl's controllers of the loaded BLAS libraries
_blas_threads = 0  # the count last set (0: never set)


_enabled: bool | None = None


def enabled() -> bool:
    """False when `CAUDAL_THREAD_POLICY=library` (read once): every library keeps its own threading."""
    global _enabled
    if _enabled is None:
        _enabled = os.environ.get("CAUDAL_THREAD_POLICY", "sized") != "library"
    return _enabled


def _available_cpus() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def cap() -> int:
    """The most threads one kernel uses: set_cap's value, else the environment's, else the CPUs."""
    global _cap
    if _cap is None:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            value = os.environ.get(name, "")
            if value.isdigit() and int(value) > 0:
                _cap = int(value)
                break
        else:
            _cap = _available_cpus()
    return _cap


def set_cap(count: int) -> None:
    """Caps every kernel at `count` threads (intra_op_parallelism_threads)."""
    global _cap, _blas_threads
    if count < 1:
        raise ValueError(f"A thread count must be positive, got {count}")
    _cap = count
    _blas_threads = 0  # switch again at the next product


def threads_for(flops: float) -> int:
    """The threads a kernel of `flops` arithmetic operations runs on."""
    return cap() if flops >= PARALLEL_FLOPS else 1


def _blas_controllers() -> list[Any]:
    global _blas
    if _blas is None:
        with _lock:
            if _blas is None:
                try:
                    from threadpoolctl import ThreadpoolController

                    _blas = list(ThreadpoolController().select(user_api="blas").lib_controllers)
                except Exception:  # threadpoolctl missing or unable to read this process's libraries
                    _blas = []
    return _blas


def blas_threads_for(flops: float) -> None:
    """Sets NumPy's BLAS to the threads a product of `flops` arithmetic operations runs on."""
    global _blas_threads
    if not enabled():
        return
    count = threads_for(flops)
    if count != _blas_threads:
        for controller in _blas_controllers():
            controller.set_num_threads(count)
        _blas_threads = count
