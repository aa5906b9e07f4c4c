"""`device_lib.list_local_devices()`: the devices the backend a Session would use by default runs on.

That backend is the one `$CAUDAL_BACKEND` names, else `numpy` (see
`caudal.backends`): the NumPy backends run on the host CPU only; the jax
backend lists the CPU and every GPU jax sees. Each entry has TensorFlow's
fields (`name` as `/device:GPU:0`, `device_type`, `memory_limit`,
`locality`, `incarnation`, `physical_device_desc`).
"""
from __future__ import annotations

from typing import Any

__all__ = ["LocalDevice", "list_local_devices"]


class LocalDevice:
    """One device, with the fields of TensorFlow's DeviceAttributes."""

    def __init__(self, name: str, device_type: str, memory_limit: int, incarnation: int,
                 physical_device_desc: str = ""):
        self.name = name
        self.device_type = device_type
        self.memory_limit = memory_limit
        self.locality: dict[str, Any] = {}
        self.incarnation = incarnation
        self.physical_device_desc = physical_device_desc

    def __repr__(self) -> str:
        return (f'name: "{self.name}"\ndevice_type: "{self.device_type}"\nmemory_limit: {self.memory_limit}\n'
                f"incarnation: {self.incarnation}\n" + (f'physical_device_desc: "{self.physical_device_desc}"\n'
                                                         if self.physical_device_desc else ""))


def list_local_devices(session_config: Any = None) -> list[LocalDevice]:
    """The default backend's devices, CPU first (`session_config` is accepted, as in TF)."""
    from caudal import backends

    devices = backends.get_backend(backends.default_backend_name(), f"${backends.ENV_VAR}").list_devices()
    found = []
    for i, device in enumerate(devices):
        short = "/" + device.name.rsplit("/", 1)[-1]
        found.append(LocalDevice(short, device.device_type, device.memory_limit_bytes, i + 1,
                                 getattr(device, "description", "")))
    return found
