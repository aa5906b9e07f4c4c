"""The default backend: kernels run on NumPy arrays, on the CPU.

Kernels are functional, so every step allocates fresh arrays of the same
sizes as the step before, and frees the old ones. glibc serves allocations
above its mmap threshold (128 KiB at first) with fresh pages from the kernel,
and every page then faults on first touch: for a small MLP this costs more
than the arithmetic. When the first Session is created, caudal raises the
mmap threshold to 32 MiB and the trim threshold to 128 MiB (glibc only), so
freed buffers are reused from the heap. This is process-wide and helps any
NumPy code in the process; set CAUDAL_TUNE_MALLOC=0 to leave glibc as it is.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from typing import Any

import numpy as np

from caudal.framework import threads
from caudal.framework.resource import Resource

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 128 << 20
_malloc_tuned = False


def tune_malloc() -> bool:
    """Raises glibc's mmap and trim thresholds once per process; False where it does not apply."""
    global _malloc_tuned
    if _malloc_tuned:
        return True
    if os.environ.get("CAUDAL_TUNE_MALLOC", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc (musl has no mallopt)
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _malloc_tuned = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    return _malloc_tuned


class DeviceAttributes:
    """What `Session.list_devices()` reports for one device."""

    def __init__(self, name: str, device_type: str, memory_limit_bytes: int):
        self.name = name
        self.device_type = device_type
        self.memory_limit_bytes = memory_limit_bytes

    def __repr__(self) -> str:
        return f"_DeviceAttributes({self.name}, {self.device_type}, {self.memory_limit_bytes})"


class NumpyRandomStream(Resource):
    """One random op's stream in one Session: a NumPy PCG64 generator keyed by the op's seeds.

    With a seed (graph or op level) a new Session repeats the numbers, as in TF;
    without one each Session draws fresh entropy. Random kernels ask it for
    primitive draws only (the methods below) and build everything else
    (scaling, truncation, sampling, dtypes) from them with `xp`, so another
    backend supplies its own stream with the same methods.
    """

    __slots__ = ("generator",)

    def __init__(self, seed: int, seed2: int):
        if seed or seed2:
            entropy = [seed & 0xFFFFFFFFFFFFFFFF, seed2 & 0xFFFFFFFFFFFFFFFF]
            self.generator = np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
        else:
            self.generator = np.random.default_rng()

    def uniform(self, shape: tuple[int, ...], dtype: Any) -> Any:
        """Values in [0, 1) of float `dtype` (float32 or float64)."""
        return self.generator.random(shape, dtype=dtype)

    def normal(self, shape: tuple[int, ...], dtype: Any) -> Any:
        """Standard normal values of float `dtype` (float32 or float64)."""
        return self.generator.standard_normal(shape, dtype=dtype)

    def integers(self, low: Any, high: Any, shape: tuple[int, ...], dtype: Any) -> Any:
        """Integers in [low, high) of integer `dtype`."""
        return self.generator.integers(low, high, shape, dtype=dtype)

    def permutation(self, n: int) -> Any:
        """A random ordering of range(n)."""
        return self.generator.permutation(n)

    def snapshot(self) -> Any:
        return self.generator.bit_generator.state

    def restore(self, snapshot: Any) -> None:
        self.generator.bit_generator.state = snapshot


class NumpyBackend:
    """Array namespace `numpy`; plans run as compiled Python calling each op's `numpy` variant
    where it has one (else its portable kernel), and write into dead fresh buffers in place."""

    name = "numpy"
    xp: Any = np
    variant_names: tuple[str, ...] = ("numpy",)  # see OpDef.kernel_for
    inplace_plans = True  # plans may write into dead fresh buffers (runtime.plan._donate_buffers)

    def __init__(self) -> None:
        tune_malloc()

    def random_stream(self, seed: int, seed2: int) -> NumpyRandomStream:
        return NumpyRandomStream(seed, seed2)

    @staticmethod
    def kept(value: Any, feeds: list[Any]) -> Any:
        """`value` as a variable may keep it: a copy when it shares memory with a fed array (the
        caller may change that array later). NumPy scalars share memory with nothing."""
        if type(value) is np.ndarray:
            for fed in feeds:
                if np.may_share_memory(value, fed):
                    return value.copy()
        return value

    def list_devices(self) -> list[DeviceAttributes]:
        return [DeviceAttributes("/job:localhost/replica:0/task:0/device:CPU:0", "CPU", 0)]

    def set_intra_op_threads(self, count: int) -> None:
        """Caps the BLAS and OpenMP thread pools NumPy's kernels use at `count` threads (see
        caudal.framework.threads for how many of them a kernel uses).

        TF gives each Session its own pools; caudal's pools are the libraries' own, so
        the cap is process-wide and the last Session created with a nonzero
        `intra_op_parallelism_threads` sets it.
        """
        from threadpoolctl import threadpool_limits

        threads.set_cap(count)
        threadpool_limits(limits=count)


class PortableBackend(NumpyBackend):
    """NumPy arrays and the portable kernels only: no backend variants, no in-place writes.

    It runs what a traced backend (jax) would run, on NumPy, so the portable
    kernels are checked against the same references as the variants
    (tests/test_portable_kernels.py). Random streams are NumPy's: seeded
    programs draw the numbers they draw on `numpy`.
    """

    name = "portable"
    variant_names: tuple[str, ...] = ()
    inplace_plans = False
