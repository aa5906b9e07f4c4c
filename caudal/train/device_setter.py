"""`tf.train.replica_device_setter`: places variables on parameter-server tasks, the rest on a worker.

The device function TF 1.x returns, with its rules: ops of the `ps_ops` types (variables) get
`ps_device` with the task chosen by `ps_strategy` (round robin by default) when the op's current
device names no other job; every other op gets `worker_device`; the op's own device fields win
(merged) unless `merge_devices=False` and the op already has a device. Strings are TF's canonical
device names (`/job:ps/task:1`, `/job:worker/task:0/device:CPU:0`). Ops made under
`colocate_with` (a variable's initializer and read, optimizer slots) take their variable's device
and never reach the function, so they do not advance the round robin, as in TF.

`GreedyLoadBalancingStrategy(num_tasks, load_fn)` (tf.contrib.training's) puts each variable on
the least loaded task, the load of a variable being its size in bytes (`byte_size_load_fn`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from caudal.framework.device_spec import DeviceSpec

__all__ = ["replica_device_setter", "STANDARD_PS_OPS", "GreedyLoadBalancingStrategy", "byte_size_load_fn"]

STANDARD_PS_OPS = ("Variable", "VariableV2", "AutoReloadVariable", "MutableHashTable", "MutableHashTableV2",
                   "MutableHashTableOfTensors", "MutableHashTableOfTensorsV2", "MutableDenseHashTable",
                   "MutableDenseHashTableV2", "VarHandleOp", "BoostedTreesEnsembleResourceHandleOp",
                   "BoostedTreesQuantileStreamResourceHandleOp", "ResourceConditionalAccumulator",
                   "DecisionTreeResource")

_logger = logging.getLogger("caudal")


class _RoundRobinStrategy:
    """Tasks 0, 1, ..., num_tasks - 1, 0, ... for successive variables."""

    def __init__(self, num_tasks: int):
        self._num_tasks = num_tasks
        self._next_task = 0

    def __call__(self, unused_op: Any) -> int:
        task = self._next_task
        self._next_task = (self._next_task + 1) % self._num_tasks
        return task


class _ReplicaDeviceChooser:
    def __init__(self, ps_tasks: int, ps_device: str, worker_device: str, merge_devices: bool,
                 ps_ops: list[str], ps_strategy: Callable[[Any], int]):
        self._ps_tasks = ps_tasks
        self._ps_device = ps_device
        self._worker_device = worker_device
        self._merge_devices = merge_devices
        self._ps_ops = ps_ops
        self._ps_strategy = ps_strategy

    def device_function(self, op: Any) -> str:
        """The device of `op` (see the module docstring)."""
        if not self._merge_devices and op.device:
            return op.device
        current = DeviceSpec.from_string(op.device or "")
        if self._ps_tasks and self._ps_device and op.type in self._ps_ops:
            ps_device = DeviceSpec.from_string(self._ps_device)
            if ps_device.job and (not current.job or current.job == ps_device.job):
                ps_device = ps_device.replace(task=self._ps_strategy(op))
            return ps_device.make_merged_spec(current).to_string()
        worker_device = DeviceSpec.from_string(self._worker_device or "")
        return worker_device.make_merged_spec(current).to_string()


def replica_device_setter(ps_tasks: int = 0, ps_device: str = "/job:ps", worker_device: str = "/job:worker",
                          merge_devices: bool = True, cluster: Any = None, ps_ops: list[str] | None = None,
                          ps_strategy: Callable[[Any], int] | None = None) -> Callable[[Any], str] | None:
    """A device function for `tf.device` (None when there are no ps tasks, as in TF).

    With `cluster` (a ClusterSpec, ClusterDef or dict), `ps_tasks` is the number of tasks of
    `ps_device`'s job, and None is returned when the cluster has no such job.
    """
    if cluster is not None:
        from caudal.runtime.distributed.cluster import ClusterSpec

        cluster_spec = (cluster if isinstance(cluster, ClusterSpec) else ClusterSpec(cluster)).as_dict()
        ps_job_name = DeviceSpec.from_string(ps_device).job
        if ps_job_name not in cluster_spec or cluster_spec[ps_job_name] is None:
            return None
        ps_tasks = len(cluster_spec[ps_job_name])
    if ps_tasks == 0:
        return None
    if ps_ops is None:
        ps_ops = list(STANDARD_PS_OPS)
    if not merge_devices:
        _logger.warning("DEPRECATION: It is recommended to set merge_devices=true in replica_device_setter")
    if ps_strategy is None:
        ps_strategy = _RoundRobinStrategy(ps_tasks)
    if not callable(ps_strategy):
        raise TypeError("ps_strategy must be callable")
    chooser = _ReplicaDeviceChooser(ps_tasks, ps_device, worker_device, merge_devices, ps_ops, ps_strategy)
    return chooser.device_function


def byte_size_load_fn(op: Any) -> int:
    """The size in bytes of the variable `op` makes (0 when its shape is not fully known)."""
    shape = op.get_attr("shape")
    if not shape.is_fully_defined():
        return 0
    dtype = op.get_attr("dtype")
    return int(np.prod(shape.as_list(), dtype=np.int64)) * dtype.base_dtype.size


class GreedyLoadBalancingStrategy:
    """`tf.contrib.training.GreedyLoadBalancingStrategy(num_tasks, load_fn)`: each variable goes to the
    task with the least load so far (the first such task), and adds its load there."""

    def __init__(self, num_tasks: int, load_fn: Callable[[Any], int]):
        self._num_tasks = num_tasks
        self._load_fn = load_fn
        self._ps_loads = np.zeros(num_tasks)

    def __call__(self, op: Any) -> int:
        task = int(np.argmin(self._ps_loads))
        self._ps_loads[task] += self._load_fn(op)
        return task
