"""`tf.train.ClusterSpec`: the jobs of a cluster and the network address of each task.

Matches TensorFlow's class: a job's tasks are a list (indices 0..n-1) or a dict
from task index to address (sparse indices); `jobs` keeps the order the jobs
were given in, `as_cluster_def` sorts jobs by name and tasks by index, and the
lookups raise ValueError with TF's messages for an unknown job or task.
"""
from __future__ import annotations

from typing import Any

__all__ = ["ClusterSpec"]

_TYPE_ERROR = ("`cluster` must be a dictionary mapping one or more job names to lists of network addresses, "
               "or a `ClusterDef` protocol buffer")


class ClusterSpec:
    """`tf.train.ClusterSpec(cluster)`: `cluster` is a dict, a ClusterDef or a ClusterSpec."""

    def __init__(self, cluster: Any):
        from caudal.proto import cluster_pb2

        self._cluster_spec: dict[str, dict[int, Any]] = {}
        if isinstance(cluster, dict):
            for job_name, tasks in cluster.items():
                if isinstance(tasks, (list, tuple)):
                    job_tasks = dict(enumerate(tasks))
                elif isinstance(tasks, dict):
                    job_tasks = {int(i): address for i, address in tasks.items()}
                else:
                    raise TypeError(f"The tasks for job {job_name!r} must be a list or a dictionary from integers "
                                    "to strings.")
                self._cluster_spec[job_name] = job_tasks
            self._make_cluster_def()
        elif isinstance(cluster, cluster_pb2.ClusterDef):
            self._cluster_def = cluster
            for job in cluster.job:
                self._cluster_spec[job.name] = {i: address for i, address in sorted(job.tasks.items())}
        elif isinstance(cluster, ClusterSpec):
            self._cluster_def = cluster_pb2.ClusterDef()
            self._cluster_def.MergeFrom(cluster.as_cluster_def())
            for job in self._cluster_def.job:
                self._cluster_spec[job.name] = {i: address for i, address in sorted(job.tasks.items())}
        else:
            raise TypeError(_TYPE_ERROR)

    def _make_cluster_def(self) -> None:
        from caudal.proto import cluster_pb2

        self._cluster_def = cluster_pb2.ClusterDef()
        for job_name, tasks in sorted(self._cluster_spec.items()):
            if not isinstance(job_name, (str, bytes)):
                raise TypeError(f"Job name {job_name!r} must be bytes or unicode")
            job = self._cluster_def.job.add()
            job.name = job_name.decode() if isinstance(job_name, bytes) else job_name
            for index, address in sorted(tasks.items()):
                if not isinstance(address, (str, bytes)):
                    raise TypeError(f"Task address {address!r} must be bytes or unicode")
                job.tasks[index] = address.decode() if isinstance(address, bytes) else address

    # ------------------------------------------------------------ queries
    def __bool__(self) -> bool:
        return bool(self._cluster_spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClusterSpec) and self._cluster_spec == other._cluster_spec

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._cluster_def.SerializeToString(deterministic=True))

    def __str__(self) -> str:
        return repr(self)

    def __repr__(self) -> str:
        return f"ClusterSpec({self.as_dict()!r})"

    @property
    def jobs(self) -> list[str]:
        """The job names, in the order they were given."""
        return list(self._cluster_spec)

    def _job(self, job_name: str) -> dict[int, Any]:
        try:
            return self._cluster_spec[job_name]
        except KeyError:
            raise ValueError(f"No such job in cluster: {job_name!r}") from None

    def num_tasks(self, job_name: str) -> int:
        return len(self._job(job_name))

    def task_indices(self, job_name: str) -> list[int]:
        return sorted(self._job(job_name))

    def task_address(self, job_name: str, task_index: int) -> Any:
        job = self._job(job_name)
        try:
            return job[task_index]
        except KeyError:
            raise ValueError(f"No task with index {task_index!r} in job {job_name!r}") from None

    def job_tasks(self, job_name: str) -> list[Any]:
        """The addresses of the job's tasks by index, None where an index has no task."""
        job = self._job(job_name)
        if not job:
            return []
        tasks: list[Any] = [None] * (max(job) + 1)
        for index, address in job.items():
            tasks[index] = address
        return tasks

    def as_dict(self) -> dict[str, Any]:
        """Job -> list of addresses when the indices are 0..n-1, else job -> {index: address}."""
        result: dict[str, Any] = {}
        for job_name in self.jobs:
            indices = self.task_indices(job_name)
            if indices and indices[-1] + 1 == len(indices):
                result[job_name] = [self.task_address(job_name, i) for i in indices]
            else:
                result[job_name] = {i: self.task_address(job_name, i) for i in indices}
        return result

    def as_cluster_def(self) -> Any:
        """The ClusterDef protocol buffer (jobs sorted by name, tasks by index)."""
        return self._cluster_def
