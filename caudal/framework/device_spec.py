"""Device names as TensorFlow parses, merges and prints them (`tf.DeviceSpec`).

A device name has up to five fields, `/job:<name>/replica:<n>/task:<n>/device:<TYPE>:<n>`;
the legacy forms `/cpu:0` and `/gpu:1` name the device type and index. Unset fields
are None. `to_string` writes TF's canonical form (`/job:ps/task:0/device:CPU:0`), and
`make_merged_spec(other)` is this spec with the fields `other` sets overriding, as
TF's device functions merge specs.
"""
from __future__ import annotations

from typing import Any

__all__ = ["DeviceSpec", "canonical_device"]

_VALID_DEVICE_TYPES = frozenset(["CPU", "GPU", "TPU", "CUSTOM", "EPU"])


class DeviceSpec:
    """`tf.DeviceSpec(job=None, replica=None, task=None, device_type=None, device_index=None)`."""

    __slots__ = ("_job", "_replica", "_task", "_device_type", "_device_index")

    def __init__(self, job: str | None = None, replica: int | None = None, task: int | None = None,
                 device_type: str | None = None, device_index: int | None = None):
        self._job = None if job is None else str(job)
        self._replica = None if replica is None else int(replica)
        self._task = None if task is None else int(task)
        if device_type is not None:
            device_type = str(device_type)
            if device_type.upper() in ("CPU", "GPU"):
                device_type = device_type.upper()
        self._device_type = device_type
        self._device_index = None if device_index is None else int(device_index)

    @property
    def job(self) -> str | None:
        return self._job

    @property
    def replica(self) -> int | None:
        return self._replica

    @property
    def task(self) -> int | None:
        return self._task

    @property
    def device_type(self) -> str | None:
        return self._device_type

    @property
    def device_index(self) -> int | None:
        return self._device_index

    @classmethod
    def from_string(cls, spec: str) -> DeviceSpec:
        """Parses `spec`; an unknown field is a ValueError with TF's message."""
        job = replica = task = device_type = device_index = None
        for part in (spec or "").split("/"):
            fields = part.split(":")
            count = len(fields)
            if not part:
                continue
            if count == 2 and fields[0] == "job":
                job = fields[1]
            elif count == 2 and fields[0] == "replica":
                replica = int(fields[1])
            elif count == 2 and fields[0] == "task":
                task = int(fields[1])
            elif count in (1, 2) and fields[0].upper() in _VALID_DEVICE_TYPES:
                if device_type is not None:
                    raise ValueError(f"Multiple device types are not allowed while parsing the device spec: {spec}.")
                device_type = fields[0].upper()
                if count == 2 and fields[1] != "*":
                    device_index = int(fields[1])
            elif count == 3 and fields[0] == "device":
                if device_type is not None:
                    raise ValueError(f"Multiple device types are not allowed while parsing the device spec: {spec}.")
                device_type = fields[1]
                if fields[2] != "*":
                    device_index = int(fields[2])
            else:
                raise ValueError(f"Unknown attribute '{fields[0]}' is encountered while parsing the device spec: "
                                 f"'{spec}'.")
        return cls(job, replica, task, device_type, device_index)

    def to_string(self) -> str:
        out = ""
        if self._job is not None:
            out += "/job:" + self._job
        if self._replica is not None:
            out += f"/replica:{self._replica}"
        if self._task is not None:
            out += f"/task:{self._task}"
        if self._device_type is not None:
            index = "*" if self._device_index is None else str(self._device_index)
            out += f"/device:{self._device_type}:{index}"
        return out

    def replace(self, **kwargs: Any) -> DeviceSpec:
        fields = {"job": self._job, "replica": self._replica, "task": self._task,
                  "device_type": self._device_type, "device_index": self._device_index}
        fields.update(kwargs)
        return DeviceSpec(**fields)

    def make_merged_spec(self, dev: DeviceSpec) -> DeviceSpec:
        """This spec with every field that `dev` sets taken from `dev`."""
        return DeviceSpec(
            dev.job if dev.job is not None else self._job,
            dev.replica if dev.replica is not None else self._replica,
            dev.task if dev.task is not None else self._task,
            dev.device_type if dev.device_type is not None else self._device_type,
            dev.device_index if dev.device_index is not None else self._device_index)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self) -> int:
        return hash(self.to_string())

    def __repr__(self) -> str:
        return f"<DeviceSpec(job={self._job}, replica={self._replica}, task={self._task}, " \
               f"device_type={self._device_type}, device_index={self._device_index})>"


def canonical_device(spec: Any) -> str:
    """A device string, DeviceSpec or merge function's result in TF's canonical form."""
    if isinstance(spec, DeviceSpec):
        return spec.to_string()
    return DeviceSpec.from_string(str(spec or "")).to_string()
