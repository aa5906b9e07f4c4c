"""`FastCpuBackend`: the NumPy backend with the `fast_cpu` kernel variants installed.

Loading happens once per process, when the first `fast_cpu` Session starts:
each kernel module in `KERNEL_MODULES` is imported, its `prepare()` (when it
has one: finding the library, the numba cache directory, compiling) is
called, and its `VARIANTS` are added to the op definitions as
`variants["fast_cpu"]` (its `INPLACE_VARIANTS`, kernels that may write into
their first input, as `inplace_variants["fast_cpu"]`; its `GROUP_VARIANTS`, kernels for a run of
nodes, as `group_variants["fast_cpu"]`). A module that raises while loading is skipped with
one `RuntimeWarning` naming the reason; its ops then run their NumPy
variants. Loading that takes over a second (a first-ever numba compilation)
is reported once at INFO level on the `caudal` logger.
"""
from __future__ import annotations

import importlib
import logging
import threading
import time
import warnings
from typing import Any

from caudal.backends import fast_cpu
from caudal.backends.numpy_backend import NumpyBackend
from caudal.framework.registry import get_op_def

__all__ = ["FastCpuBackend", "load_kernels", "loaded_modules"]

_logger = logging.getLogger("caudal")
_lock = threading.Lock()
_loaded: dict[str, Any] | None = None  # module name -> the module, for those that loaded
_failed: dict[str, str] = {}  # module name -> why it did not load


def _load_module(name: str) -> Any:
    module = importlib.import_module(f"caudal.backends.fast_cpu.{name}")
    prepare = getattr(module, "prepare", None)
    if prepare is not None:
        prepare()
    for op_type, kernel in module.VARIANTS.items():
        get_op_def(op_type).variants.setdefault("fast_cpu", kernel)
    for op_type, kernel in getattr(module, "INPLACE_VARIANTS", {}).items():
        get_op_def(op_type).inplace_variants.setdefault("fast_cpu", kernel)
    for op_type, kernel in getattr(module, "GROUP_VARIANTS", {}).items():
        get_op_def(op_type).group_variants.setdefault("fast_cpu", kernel)
    return module


def load_kernels() -> dict[str, Any]:
    """Loads the kernel modules and installs their variants (once per process); the modules that
    loaded, by name. Failures warn once each and leave the ops on NumPy."""
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        loaded: dict[str, Any] = {}
        start = time.perf_counter()
        for name in fast_cpu.KERNEL_MODULES:
            try:
                loaded[name] = _load_module(name)
            except Exception as error:  # a missing or broken library must never stop a program
                _failed[name] = f"{type(error).__name__}: {error}"
                warnings.warn(f"caudal: the fast_cpu kernels of '{name}' could not be loaded ({_failed[name]}); "
                              "their ops run on NumPy", RuntimeWarning, stacklevel=3)
        elapsed = time.perf_counter() - start
        if elapsed > 1.0:
            _logger.info("caudal: loading the fast CPU kernels took %.1f s (a first use compiles them; "
                         "later runs load them from the cache)", elapsed)
        _loaded = loaded
        return loaded


def loaded_modules() -> dict[str, str]:
    """Each kernel module's state: 'loaded', or why it did not load ('' when not tried yet)."""
    states = {name: "" for name in fast_cpu.KERNEL_MODULES}
    states.update({name: "loaded" for name in (_loaded or {})})
    states.update(_failed)
    return states


class FastCpuBackend(NumpyBackend):
    """NumPy plans and arrays; each op runs its `fast_cpu` variant where one loaded, else its NumPy
    variant, else its portable kernel."""

    name = "fast_cpu"
    variant_names: tuple[str, ...] = ("fast_cpu", "numpy")

    def __init__(self) -> None:
        super().__init__()
        self.kernel_modules = load_kernels()

    def random_stream(self, seed: int, seed2: int) -> Any:
        """The numpy backend's stream, with the arrays over its generator's state that fast_cpu's
        RandomUniform loop draws from (`uniform.PcgStream`)."""
        uniform = self.kernel_modules.get("uniform")
        return super().random_stream(seed, seed2) if uniform is None else uniform.PcgStream(seed, seed2)

    def set_intra_op_threads(self, count: int) -> None:
        """Caps BLAS, OpenMP (oneDNN) and numba at `count` threads (process-wide)."""
        super().set_intra_op_threads(count)
        for module in self.kernel_modules.values():
            setter = getattr(module, "set_num_threads", None)
            if setter is not None:
                setter(count)
