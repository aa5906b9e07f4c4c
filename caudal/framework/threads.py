"""How many threads a kernel's parallel work runs on: caudal's counterpart of TF's intra-op pool.

A parallel region ends when its slowest thread ends. On an idle machine every
thread runs at once and a large product finishes up to `cores` times sooner;
on a busy one (a laptop with a browser, a shared server) one of the threads
is often descheduled for a whole scheduler time slice (milliseconds), and a
product that takes 0.1 ms on one thread then takes several. OpenBLAS's
threads also spin after each product, taking the core from the Python thread
that runs the next op. Measured on 2-core machines, a small MLP step ran 10-25x
slower beside other work with OpenBLAS's default threads than on one thread.

So caudal sizes the threads to the work and to the machine: a kernel with at
least `PARALLEL_FLOPS` of arithmetic runs on `cap()` threads, where a slice
lost to the scheduler costs a small fraction of the work; one with less than
`IDLE_PARALLEL_FLOPS` on one thread; one in between on `cap()` threads only
while other processes leave the cores idle (together using less than half a
core over the last `LOAD_WINDOW_S`: the machine's busy time from /proc/stat
less this process's own CPU time, sampled at most once per window). A
128x784x512 product ran 1.7x faster on two threads of an idle 2-core machine,
and 1.5x slower beside one busy process. Where /proc/stat is missing the
middle band runs on one thread, and so it does in a process that serves a
`tf.train.Server` (`serving_tasks()`): the cluster's other tasks wait on its
steps rather than leave their cores free, and its gRPC threads need the core
that OpenBLAS's spinning threads would take (an MLP worker with its ps on a
2-core machine ran 166 steps/s so against 121). `cap()` is the number of CPUs this process may run on, or what the
user set: `ConfigProto.intra_op_parallelism_threads` (the last Session
created with a nonzero value; process-wide, where TF's pools are per
Session), else `OMP_NUM_THREADS` / `OPENBLAS_NUM_THREADS` / `MKL_NUM_THREADS`.
NumPy's BLAS is switched through threadpoolctl's handle on the library
(about a microsecond per switch, and only when the count changes); where no
BLAS threadpoolctl knows is loaded, nothing is switched. Once the fast_cpu
backend has run a kernel on several of oneDNN's OpenMP threads, NumPy's BLAS
stays on one (`blas_single_thread`): one pool of threads per process.
`CAUDAL_THREAD_POLICY=library` leaves every library's own threading alone, and
`CAUDAL_PARALLEL_FLOPS` and `CAUDAL_IDLE_PARALLEL_FLOPS` move the thresholds
(all read once per process).
"""
from __future__ import annotations

import os
import threading
import time
from typing import Any

__all__ = ["PARALLEL_FLOPS", "IDLE_PARALLEL_FLOPS", "ELEMENT_FLOPS", "cap", "set_cap", "threads_for",
           "threads_for_pass", "blas_threads_for",
           "blas_single_thread", "blas_is_single", "enabled",
           "others_idle", "others_busy_recently", "serving_tasks", "bound_openmp_waits", "SPIN_COUNT",
           "openmp_usable"]

# About 1 ms of single-core float32 arithmetic on an AVX2/AVX-512 core; $CAUDAL_PARALLEL_FLOPS sets it.
PARALLEL_FLOPS = int(os.environ.get("CAUDAL_PARALLEL_FLOPS", "") or (1 << 27))
# About 20 us: smaller kernels gain less from a second thread than waking it costs. A second thread
# that spins between kernels (oneDNN's and numba's, see `bound_openmp_waits`) wakes cheaply, and
# kernels that use it keep it spinning: in benchmarks/mlp.py's step (products of 0.06 to 31 MFLOP)
# the 4 MFLOP products took 19-22 us on two threads against 24-34 on one, and the 31 MFLOP weight
# gradient 81 us against 126 (its second thread had fallen asleep during the step's one-thread
# kernels); the step ran 0.77-0.79 ms against 0.85-0.88 ms with 2^24 (medians of 40 alternating
# blocks in one process), LSTM, LeNet and Keras MLP steps as fast with either.
IDLE_PARALLEL_FLOPS = min(int(os.environ.get("CAUDAL_IDLE_PARALLEL_FLOPS", "") or (1 << 21)), PARALLEL_FLOPS)
# A memory-bound pass over n elements is sized as n * ELEMENT_FLOPS flops: all cores from 2^21
# elements (8 MB of float32), from 2^15 while other processes leave the cores idle.
ELEMENT_FLOPS = 64
LOAD_WINDOW_S = 0.2
IDLE_BELOW_CORES = 0.5

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


_serving = False


def serving_tasks() -> None:
    """Marks this process as serving a cluster task: the middle band runs on one thread from now on."""
    global _serving
    _serving = True


def threads_for(flops: float) -> int:
    """The threads a kernel of `flops` arithmetic operations runs on."""
    if flops >= PARALLEL_FLOPS:
        return cap()
    if flops < IDLE_PARALLEL_FLOPS or _serving:
        return 1
    return cap() if others_idle() else 1


def threads_for_pass(elements: int) -> int:
    """The threads a memory-bound pass over `elements` values runs on (see ELEMENT_FLOPS)."""
    return threads_for(elements * ELEMENT_FLOPS)


def _read_busy_seconds() -> float | None:
    """CPU seconds all processes have run (every CPU, steal included: a VM's host took them), or None."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if len(fields) < 8 or fields[0] != b"cpu":
        return None
    ticks = [int(x) for x in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / _CLOCK_TICKS


_CLOCK_TICKS = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
_load_lock = threading.Lock()
_load_sample: tuple[float, float, float] | None = None  # (wall, busy, own) at the window's start
_others_idle = False
_next_sample = 0.0


def others_idle() -> bool:
    """Whether other processes left the cores idle over the last window (see the module docstring);
    False until a first window has passed, and where the machine's busy time cannot be read."""
    global _load_sample, _others_idle, _next_sample
    now = time.monotonic()
    if now < _next_sample:
        return _others_idle
    with _load_lock:
        if now < _next_sample:
            return _others_idle
        busy = _read_busy_seconds()
        own = time.process_time()
        if busy is None:
            _others_idle, _next_sample = False, float("inf")
            return False
        if _load_sample is not None:
            wall0, busy0, own0 = _load_sample
            others = ((busy - busy0) - (own - own0)) / max(now - wall0, 1e-9)
            _others_idle = others < IDLE_BELOW_CORES
        _load_sample = (now, busy, own)
        _next_sample = now + LOAD_WINDOW_S
        return _others_idle


def _sample() -> tuple[float, float, float] | None:
    """(wall time, the machine's busy CPU seconds, this process's CPU seconds), or None."""
    busy = _read_busy_seconds()
    return None if busy is None else (time.monotonic(), busy, time.process_time())


_import_sample = _sample()  # when caudal was imported: `others_busy_recently` measures from here


def others_busy_recently(window_s: float = 0.05, longest_s: float = 1.0) -> bool:
    """Whether other processes kept half a core or more busy over the time since caudal was
    imported (at least `window_s`: waits for the rest), or, once that is over `longest_s`, over a
    fresh `window_s`; False where the machine's busy time cannot be read."""
    start = _import_sample
    if start is None or time.monotonic() - start[0] > longest_s:
        start = _sample()
        if start is None:
            return False
    wait = start[0] + window_s - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    now = _sample()
    if now is None:
        return False
    others = ((now[1] - start[1]) - (now[2] - start[2])) / max(now[0] - start[0], 1e-9)
    return others >= IDLE_BELOW_CORES


SPIN_COUNT = "10000"


def bound_openmp_waits() -> None:
    """Chooses how GNU OpenMP's idle threads wait, unless the user did (OMP_WAIT_POLICY or
    GOMP_SPINCOUNT set). It reads both once, when it is loaded: the fast_cpu backend calls this
    before it loads oneDNN or numba's OpenMP threading layer, which share the one libgomp.

    By default the threads spin for GOMP_SPINCOUNT=10000 turns (about 0.65 ms on a 2-core AMD EPYC)
    and then sleep. Threads that sleep at once (PASSIVE) take tens of microseconds to wake, more than
    a 20 MFLOP product gains from a second thread (an LSTM step on two threads ran 1.34x its time on
    one). Measured in fresh processes, an LSTM step ran 16.2 ms with 5,000 turns, 13.0-13.7 with
    10,000, 14.3-14.8 with 20,000, and 17-23 ms sleeping on one thread; a LeNet step ran 35-43 ms with
    10,000 turns against 37-43 ms sleeping, but 62-72 ms against 54-71 ms beside a CPU-bound process,
    whose core the spinning thread takes (20,000 turns: 79-85 ms). Threads spinning without end
    (ACTIVE alone) would take a core from other processes for good; `threads_for` gives kernels under
    2^27 flops a second thread only while other processes leave the cores idle. Where other processes
    keep half a core or more busy at the time (`others_busy_recently`), the threads sleep at once
    (PASSIVE) instead: beside a CPU-bound process a LeNet step ran 50-57 ms sleeping against 57-63 ms
    spinning, alternating fresh processes (an LSTM step 22-23 ms against 18-23)."""
    global _openmp_started
    _openmp_started = True
    if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
        if others_busy_recently():
            os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        else:
            os.environ["OMP_WAIT_POLICY"] = "ACTIVE"
            os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT


_openmp_started = False  # this process loaded GNU OpenMP for caudal's kernels (bound_openmp_waits)
_openmp_inherited = False  # it was forked from one that had
_openmp_fallback_reported = False


def openmp_usable() -> bool:
    """False in a process forked after its parent loaded GNU OpenMP for caudal's kernels. The child
    inherits libgomp's record of the parent's thread pool but not its threads: its next parallel region
    (oneDNN's, even on one thread) waits for them for ever, and numba's OpenMP layer terminates the
    process instead. The fast_cpu backend then runs NumPy's kernels there, and says so once (TF
    sessions do not survive a fork either; caudal's run slower)."""
    global _openmp_fallback_reported
    if not _openmp_inherited:
        return True
    if not _openmp_fallback_reported:
        _openmp_fallback_reported = True
        import logging

        logging.getLogger("caudal").warning(
            "caudal: this process was forked after its parent started OpenMP threads for the fast_cpu "
            "kernels, which cannot run in it; its ops run NumPy's kernels (start processes with the "
            "'spawn' or 'forkserver' method to keep the fast kernels)")
    return False


def _after_fork_in_child() -> None:
    global _openmp_inherited
    _openmp_inherited = _openmp_inherited or _openmp_started


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


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


_blas_single = False


def blas_single_thread() -> None:
    """Keeps NumPy's BLAS on one thread from now on (a no-op once done). The fast_cpu backend calls this
    whenever it runs a product or a convolution on more than one of oneDNN's OpenMP threads: OpenBLAS's
    idle threads spin, and beside OpenMP's they made a LeNet step 1.5-2x slower than with OpenBLAS on
    one thread (see caudal.backends.fast_cpu.gemm)."""
    global _blas_single, _blas_threads
    if not enabled() or _blas_single:
        return
    _blas_single = True
    for controller in _blas_controllers():
        controller.set_num_threads(1)
    _blas_threads = 1


def blas_is_single() -> bool:
    """Whether `blas_single_thread` was called in this process."""
    return _blas_single


def blas_threads_for(flops: float) -> None:
    """Sets NumPy's BLAS to the threads a product of `flops` arithmetic operations runs on."""
    global _blas_threads
    if not enabled():
        return
    count = 1 if _blas_single else threads_for(flops)
    if count != _blas_threads:
        for controller in _blas_controllers():
            controller.set_num_threads(count)
        _blas_threads = count
