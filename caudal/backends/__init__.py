"""Backends by name: the array namespace and kernels a Session runs its plans with.

A backend object has `name` (the key `OpDef.kernel_for` looks variants up
by), `xp` (its array namespace), `random_stream(seed, seed2)` (a random
stream resource, see `caudal.backends.numpy_backend.NumpyRandomStream`) and
`list_devices()`.

- `numpy` (the default): NumPy arrays; each op runs its `numpy` variant when
  it has one (in-place and `out=` paths, BLAS tricks, scratch buffers), and
  plans write into dead fresh buffers (`inplace` kernels);
- `portable`: NumPy arrays, but only the portable kernels, the ones a traced
  backend (jax) would run; no variants, no in-place writes. It is the
  reference the op-record table checks the variants against;
- `jax` (the `caudal[jax]` extra): plans compiled by XLA through jax, on the
  CPU or a GPU (`caudal.backends.jax_backend`);
- `fast_cpu` (the `caudal[fast]` extra; the default when installed): NumPy
  plans with oneDNN convolutions and numba loops (`caudal.backends.fast_cpu`).

A Session picks its backend from `config.experimental.executor_type` when
that names one, else from the environment variable `CAUDAL_BACKEND`, else
`fast_cpu` when its extra is installed, else `numpy`. Factories are called
when a Session starts, so registering a backend imports nothing: `import
caudal` never loads an optional extra.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

__all__ = ["register_backend", "get_backend", "backend_names", "default_backend_name", "ENV_VAR"]

ENV_VAR = "CAUDAL_BACKEND"
DEFAULT = "numpy"

_FACTORIES: dict[str, Callable[[], Any]] = {}


def register_backend(name: str, factory: Callable[[], Any]) -> None:
    """Makes `factory()` the backend called `name`; refuses a name taken already."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"A backend name must be a non-empty string, got {name!r}")
    if name in _FACTORIES:
        raise KeyError(f"Backend {name!r} is already registered")
    if not callable(factory):
        raise TypeError(f"The factory of backend {name!r} must be callable")
    _FACTORIES[name] = factory


def backend_names() -> list[str]:
    """The registered backend names, sorted."""
    return sorted(_FACTORIES)


def get_backend(name: str, source: str = "") -> Any:
    """A new backend object of the backend called `name`.

    Raises ValueError naming the known backends when there is none by that name;
    `source` says where the name came from, for that message.
    """
    factory = _FACTORIES.get(name)
    if factory is None:
        where = f" (from {source})" if source else ""
        raise ValueError(f"Unknown caudal backend {name!r}{where}; known backends: {', '.join(backend_names())}")
    return factory()


def default_backend_name() -> str:
    """The backend a Session uses when its config names none: $CAUDAL_BACKEND, else `fast_cpu` when
    the `fast` extra is installed, else `numpy`."""
    name = os.environ.get(ENV_VAR)
    if name:
        return name
    from caudal.backends import fast_cpu

    return "fast_cpu" if fast_cpu.installed() else DEFAULT


def _numpy() -> Any:
    from caudal.backends.numpy_backend import NumpyBackend

    return NumpyBackend()


def _portable() -> Any:
    from caudal.backends.numpy_backend import PortableBackend

    return PortableBackend()


def _jax() -> Any:
    try:
        import jax  # noqa: F401
    except ImportError:
        raise ImportError('The jax backend needs jax: pip install "caudal[jax]" (for GPUs, jax with CUDA: '
                          'pip install "jax[cuda12]")') from None
    from caudal.backends.jax_backend import JaxBackend

    return JaxBackend()


def _fast_cpu() -> Any:
    from caudal.backends.fast_cpu.backend import FastCpuBackend

    return FastCpuBackend()


register_backend("numpy", _numpy)
register_backend("portable", _portable)
register_backend("jax", _jax)
register_backend("fast_cpu", _fast_cpu)
