"""`tf.distribute.cluster_resolver`: where a task learns its cluster and its own role.

`TFConfigClusterResolver` reads the `TF_CONFIG` environment variable, the JSON every launcher of
TF jobs sets (caudal's own `python -m caudal.distribute.launch`, Kubernetes operators, Slurm
scripts):

    {"cluster": {"ps": ["host0:2222"], "worker": ["host1:2222", "host2:2222"]},
     "task": {"type": "worker", "index": 1}, "rpc_layer": "grpc"}

with TF's readings: no `cluster` is an empty ClusterSpec; `task_type`/`task_id`/`rpc_layer`
given to the constructor win over TF_CONFIG's; `master()` is the task's address (with
`rpc_layer://` when there is one), "" for a cluster of one task or without a task, or
TF_CONFIG's `session_master` when set. A TF_CONFIG that is not JSON raises json's
JSONDecodeError (a ValueError), as in TF; a task the cluster does not have raises ClusterSpec's
ValueError when its address is asked for.
"""
from __future__ import annotations

import json
import os
from typing import Any

from caudal.runtime.distributed.cluster import ClusterSpec

__all__ = ["ClusterResolver", "SimpleClusterResolver", "TFConfigClusterResolver"]

_ENV = "TF_CONFIG"


def _load_tf_config() -> dict[str, Any]:
    return json.loads(os.environ.get(_ENV, "{}"))


def _tf_config_value(key: str, default: Any = None) -> Any:
    return _load_tf_config().get(key, default)


def format_master_url(master: str, rpc_layer: str | None = None) -> str:
    return f"{rpc_layer}://{master}" if rpc_layer else master


class ClusterResolver:
    """The interface: `cluster_spec()`, `master(task_type, task_id, rpc_layer)`, the task's identity."""

    task_type: Any = None
    task_id: Any = None
    rpc_layer: Any = None
    environment: Any = None

    def cluster_spec(self) -> ClusterSpec:
        raise NotImplementedError()

    def master(self, task_type: str | None = None, task_id: int | None = None, rpc_layer: str | None = None) -> str:
        raise NotImplementedError()

    def num_accelerators(self, task_type: str | None = None, task_id: int | None = None,
                         config_proto: Any = None) -> dict[str, int]:
        """caudal runs on CPUs: no accelerators."""
        return {}


class SimpleClusterResolver(ClusterResolver):
    """`SimpleClusterResolver(cluster_spec, master='', task_type=None, task_id=None, environment='',
    num_accelerators=None, rpc_layer=None)`: answers what it was given."""

    def __init__(self, cluster_spec: ClusterSpec, master: str = "", task_type: str | None = None,
                 task_id: int | None = None, environment: str = "", num_accelerators: Any = None,
                 rpc_layer: str | None = None):
        if not isinstance(cluster_spec, ClusterSpec):
            raise TypeError("cluster_spec must be a `tf.train.ClusterSpec`.")
        self._cluster_spec = cluster_spec
        if not isinstance(master, str):
            raise TypeError("master must be a string.")
        self._master = master
        self.task_type = task_type
        self.task_id = task_id
        self.environment = environment
        self._num_accelerators = num_accelerators or {}
        self.rpc_layer = rpc_layer

    def cluster_spec(self) -> ClusterSpec:
        return self._cluster_spec

    def master(self, task_type: str | None = None, task_id: int | None = None, rpc_layer: str | None = None) -> str:
        if task_type is not None and task_id is not None:
            master = self._cluster_spec.task_address(task_type, task_id)
        else:
            master = self._master
        return format_master_url(master, rpc_layer=rpc_layer or self.rpc_layer)

    def num_accelerators(self, task_type: str | None = None, task_id: int | None = None,
                         config_proto: Any = None) -> dict[str, int]:
        return dict(self._num_accelerators)


class TFConfigClusterResolver(ClusterResolver):
    """`TFConfigClusterResolver(task_type=None, task_id=None, rpc_layer=None, environment=None)`."""

    def __init__(self, task_type: str | None = None, task_id: int | None = None, rpc_layer: str | None = None,
                 environment: str | None = None):
        self._task_type = task_type
        self._task_id = task_id
        self._rpc_layer = rpc_layer
        self._environment = environment

    @property
    def task_type(self) -> str | None:
        if self._task_type is not None:
            return str(self._task_type)
        task = _tf_config_value("task", {})
        return str(task["type"]) if "type" in task else None

    @task_type.setter
    def task_type(self, value: str | None) -> None:
        self._task_type = value

    @property
    def task_id(self) -> int | None:
        if self._task_id is not None:
            return int(self._task_id)
        task = _tf_config_value("task", {})
        return int(task["index"]) if "index" in task else None

    @task_id.setter
    def task_id(self, value: int | None) -> None:
        self._task_id = value

    @property
    def environment(self) -> str | None:
        return self._environment

    @property
    def rpc_layer(self) -> str | None:
        return self._rpc_layer if self._rpc_layer is not None else _tf_config_value("rpc_layer")

    @rpc_layer.setter
    def rpc_layer(self, value: str | None) -> None:
        self._rpc_layer = value

    def cluster_spec(self) -> ClusterSpec:
        """The cluster TF_CONFIG describes (an empty one when it names none)."""
        config = _load_tf_config()
        return ClusterSpec(config["cluster"]) if "cluster" in config else ClusterSpec({})

    def master(self, task_type: str | None = None, task_id: int | None = None, rpc_layer: str | None = None) -> str:
        """The address of the task (this one by default), "" when the cluster has a single task."""
        session_master = _tf_config_value("session_master")
        if session_master is not None:
            return session_master
        cluster = self.cluster_spec()
        if not cluster.jobs or (len(cluster.jobs) == 1 and len(cluster.job_tasks(cluster.jobs[0])) == 1):
            return ""
        task_type = task_type if task_type is not None else self.task_type
        task_id = task_id if task_id is not None else self.task_id
        if task_type is None or task_id is None:
            return ""
        return format_master_url(cluster.task_address(task_type, task_id), rpc_layer or self.rpc_layer)

