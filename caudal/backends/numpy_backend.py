"""The default backend: kernels run on NumPy arrays, on the CPU."""
from __future__ import annotations

from typing import Any

import numpy as np


class DeviceAttributes:
    """What `Session.list_devices()` reports for one device."""

    def __init__(self, name: str, device_type: str, memory_limit_bytes: int):
        self.name = name
        self.device_type = device_type
        self.memory_limit_bytes = memory_limit_bytes

    def __repr__(self) -> str:
        return f"_DeviceAttributes({self.name}, {self.device_type}, {self.memory_limit_bytes})"


class NumpyBackend:
    """Array namespace `numpy`; plans are interpreted op by op in compiled Python."""

    name = "numpy"
    xp: Any = np

    def list_devices(self) -> list[DeviceAttributes]:
        return [DeviceAttributes("/job:localhost/replica:0/task:0/device:CPU:0", "CPU", 0)]
