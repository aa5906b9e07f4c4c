"""The `jax` backend: each plan compiled by XLA through jax, on the CPU or on a GPU jax sees.

Install it with `pip install "caudal[jax]"` (jax with CUDA for GPUs), then
choose it for a whole program with `CAUDAL_BACKEND=jax`, or per Session with
`config.experimental.executor_type = "jax"`. Importing this module imports
jax and enables its 64-bit types (`jax_enable_x64`), so float64 and int64
tensors keep their dtypes; `import caudal` never imports it (the registry's
factory does, when a Session first asks for the backend).

A plan becomes one or a few jitted functions (`caudal.backends.jax_plan`);
ops run their `jax` kernel variants (`caudal.backends.jax_kernels`) or their
portable kernels traced with `jax.numpy`. Variable values stay on the device
between runs, as jax arrays in the Session's store; fetched values come back
as NumPy arrays the caller owns.

Precision: matrix products and convolutions of float32 run at full float32
precision (`jax.default_matmul_precision("highest")`), so results match the
NumPy backend's on GPUs too. `CAUDAL_JAX_MATMUL_PRECISION=tensorfloat32` (or
`bfloat16_3x`, `default`) trades that for the speed of TensorFloat-32 on
GPUs that have it, which TensorFlow uses by default there.

Placement: ops run on jax's default device (the first GPU when jax has one,
else the CPU). A plan whose ops all ask for one device with `tf.device`
(`/gpu:0`, `/cpu:0`, `/device:GPU:1`, ...) runs there when jax has that
device, and on the default device otherwise, as TF's soft placement does.
"""
from __future__ import annotations

import os
import re
import weakref
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from caudal.backends.numpy_backend import DeviceAttributes, NumpyBackend
from caudal.framework.resource import Resource

__all__ = ["JaxBackend", "JaxRandomStream", "local_devices"]

jax.config.update("jax_enable_x64", True)

_DEVICE = re.compile(r"(?:device:)?(cpu|gpu|xla_gpu|xla_cpu)(?::(\d+|\*))?$", re.IGNORECASE)


class JaxRandomStream(Resource):
    """One random op's stream in one Session on the jax backend: a jax PRNG key.

    With a seed (graph or op level) the key derives from `(seed, seed2)`, so a
    new Session repeats the numbers, as TF's seed rules say; without one each
    Session starts from fresh entropy. A run passes the key into the compiled
    function and keeps the key it returns (one split per draw), so every run
    draws new numbers; a failed run puts the old key back (`restore`).
    """

    __slots__ = ("key",)

    def __init__(self, seed: int, seed2: int):
        if seed or seed2:
            sequence = np.random.SeedSequence([seed & 0xFFFFFFFFFFFFFFFF, seed2 & 0xFFFFFFFFFFFFFFFF])
        else:
            sequence = np.random.SeedSequence()
        self.key = jnp.asarray(sequence.generate_state(2, np.uint32))

    def snapshot(self) -> Any:
        return self.key

    def restore(self, snapshot: Any) -> None:
        self.key = snapshot


def _memory_limit(device: Any) -> int:
    try:
        stats = device.memory_stats() or {}
    except Exception:  # noqa: BLE001 - some platforms have no memory statistics
        stats = {}
    return int(stats.get("bytes_limit", 0))


def local_devices() -> list[DeviceAttributes]:
    """The devices jax sees, named as TensorFlow names them: the host CPU, then each GPU."""
    found = [DeviceAttributes("/job:localhost/replica:0/task:0/device:CPU:0", "CPU", _memory_limit(
        jax.devices("cpu")[0]))]
    for i, device in enumerate(_gpus()):
        attributes = DeviceAttributes(f"/job:localhost/replica:0/task:0/device:GPU:{i}", "GPU",
                                      _memory_limit(device))
        attributes.description = f"device: {i}, name: {device.device_kind}"
        found.append(attributes)
    return found


def _gpus() -> list[Any]:
    try:
        return list(jax.devices("gpu"))
    except RuntimeError:  # no GPU backend in this jax
        return []


def resolve_device(spec: str) -> Any:
    """The jax device a TF device string names (`/gpu:0`, `/device:CPU:0`, a full name), or None
    when it names no device type or one jax does not have."""
    if not spec:
        return None
    last = spec.rstrip("/").split("/")[-1]
    match = _DEVICE.match(last)
    if match is None:
        return None
    kind = match.group(1).lower().replace("xla_", "")
    index = match.group(2)
    devices = _gpus() if kind == "gpu" else list(jax.devices("cpu"))
    position = 0 if index in (None, "*") else int(index)
    return devices[position] if position < len(devices) else None


class JaxBackend:
    """Plans compiled by XLA through jax; host parts run on NumPy (see the module docstring)."""

    name = "jax"
    xp: Any = jnp

    def __init__(self) -> None:
        from caudal.backends import jax_kernels

        jax_kernels.install()
        self.host = NumpyBackend()
        self.default_device = jax.devices()[0]
        self.matmul_precision = os.environ.get("CAUDAL_JAX_MATMUL_PRECISION") or "highest"
        self._kwargs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._devices: dict[str, Any] = {}

    def device_for(self, spec: str) -> Any:
        """Where an op placed on `spec` runs: "device" (jax's default device) or another jax device."""
        from caudal.backends.jax_plan import DEVICE

        if not spec:
            return DEVICE
        found = self._devices.get(spec)
        if found is None:
            device = resolve_device(spec)
            found = self._devices[spec] = DEVICE if device is None or device == self.default_device else device
        return found

    def device_name(self, device: Any, host: bool = False) -> str:
        """TF's full name of a jax device (None: the default device; `host`: the host CPU)."""
        if host:
            return "/job:localhost/replica:0/task:0/device:CPU:0"
        device = device or self.default_device
        kind = "GPU" if device.platform == "gpu" else "CPU"
        same = _gpus() if kind == "GPU" else list(jax.devices("cpu"))
        return f"/job:localhost/replica:0/task:0/device:{kind}:{same.index(device)}"

    def build_plan(self, fetches: tuple[Any, ...], feeds: tuple[Any, ...]) -> Any:
        from caudal.backends.jax_plan import build_jax_plan

        return build_jax_plan(fetches, feeds, self)

    def kernel_kwargs(self, op: Any) -> dict[str, Any]:
        """The op's kernel keyword arguments, computed once per op."""
        found = self._kwargs.get(op)
        if found is None:
            found = self._kwargs[op] = op._op_def.kernel_kwargs(op)
        return found

    def random_stream(self, seed: int, seed2: int) -> JaxRandomStream:
        return JaxRandomStream(seed, seed2)

    @staticmethod
    def kept(value: Any, feeds: list[Any]) -> Any:
        return NumpyBackend.kept(value, feeds)

    def list_devices(self) -> list[DeviceAttributes]:
        return local_devices()
