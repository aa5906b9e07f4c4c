"""`tf.train.Server`: one task of a cluster, serving TF's WorkerService over gRPC.

`Server(server_or_cluster_def, job_name=None, task_index=None, protocol=None, config=None,
start=True)` takes a ServerDef, a ClusterSpec, a ClusterDef or a dict, as TF does: `job_name` and
`task_index` may be left out when the cluster leaves one choice, the protocol is "grpc". The
server binds the port of its own task's address on all interfaces, as TF does, and its `target`
is `grpc://<the task's address>`. A job or task the cluster does not name is TF's
InternalError ('Job "foo" was not defined in cluster'), an address without a port TF's
InvalidArgumentError, and a port that is in use TF's UnknownError "Could not start gRPC server".

`create_local_server()` starts a one-task cluster (job "localhost") on a free port. `join()`
blocks until the server stops; `stop()` (caudal's, as TF 2's servers have none for gRPC) stops it
and frees its port.
"""
from __future__ import annotations

import threading
from typing import Any

from caudal import errors
from caudal.framework import threads
from caudal.runtime.distributed.cluster import ClusterSpec

__all__ = ["Server"]

# The started servers not yet stopped: referenced here so that gRPC's server, which stops when its
# Python object is collected, keeps serving a task whose program dropped its Server.
_SERVING: set[Server] = set()


def _make_server_def(server_or_cluster_def: Any, job_name: str | None, task_index: int | None,
                     protocol: str | None, config: Any) -> Any:
    from caudal.proto import cluster_pb2, tensorflow_server_pb2

    if isinstance(server_or_cluster_def, tensorflow_server_pb2.ServerDef):
        server_def = tensorflow_server_pb2.ServerDef()
        server_def.CopyFrom(server_or_cluster_def)
        if job_name is not None:
            server_def.job_name = job_name
        if task_index is not None:
            server_def.task_index = task_index
        if protocol is not None:
            server_def.protocol = protocol
    else:
        if not isinstance(server_or_cluster_def, (ClusterSpec, cluster_pb2.ClusterDef, dict)):
            raise TypeError("Could not convert `server_or_cluster_def` to a `tf.train.ServerDef` or "
                            "`tf.train.ClusterSpec`.")
        cluster_spec = ClusterSpec(server_or_cluster_def)
        if job_name is None:
            if len(cluster_spec.jobs) != 1:
                raise ValueError("Must specify an explicit `job_name`.")
            job_name = cluster_spec.jobs[0]
        if task_index is None:
            indices = cluster_spec.task_indices(job_name) if job_name in cluster_spec.jobs else []
            if len(indices) != 1:
                raise ValueError("Must specify an explicit `task_index`.")
            task_index = indices[0]
        server_def = tensorflow_server_pb2.ServerDef(cluster=cluster_spec.as_cluster_def(), job_name=job_name,
                                                     task_index=task_index, protocol=protocol or "grpc")
    if config is not None:
        server_def.default_session_config.MergeFrom(config)
    return server_def


def _own_address(server_def: Any) -> str:
    jobs = {job.name: job for job in server_def.cluster.job}
    job = jobs.get(server_def.job_name)
    if job is None:
        raise errors.InternalError(None, None, f'Job "{server_def.job_name}" was not defined in cluster')
    if server_def.task_index not in job.tasks:
        raise errors.InternalError(None, None, f"Task {server_def.task_index} was not defined in job "
                                               f'"{server_def.job_name}"')
    return job.tasks[server_def.task_index]


class Server:
    """`tf.train.Server` (see the module docstring)."""

    def __init__(self, server_or_cluster_def: Any, job_name: str | None = None, task_index: int | None = None,
                 protocol: str | None = None, config: Any = None, start: bool = True):
        self._server_def = _make_server_def(server_or_cluster_def, job_name, task_index, protocol, config)
        if self._server_def.protocol != "grpc":
            raise errors.NotFoundError(None, None, "No server factory registered for the given ServerDef: "
                                                   f"{self._server_def}\nThe available server factories are: "
                                                   "[ GRPC_SERVER ]")
        address = _own_address(self._server_def)
        host, sep, port_text = address.rpartition(":")
        if not sep or not port_text.isdigit():
            raise errors.InvalidArgumentError(None, None, f'Could not parse port for local server from "{address}".')
        port = self._server_def.port or int(port_text)
        from caudal.runtime.distributed import rpc
        from caudal.runtime.distributed.worker import WorkerService

        self._service = WorkerService(self._server_def)
        self._grpc, bound = rpc.serve(self._service, f"0.0.0.0:{port}")
        if port == 0:
            address = f"{host}:{bound}"
            for job in self._server_def.cluster.job:
                if job.name == self._server_def.job_name:
                    job.tasks[self._server_def.task_index] = address
            self._service.server_def = self._server_def
            self._service.cluster = ClusterSpec(self._server_def.cluster)
        self._address = address
        self._started = False
        self._stopped = threading.Event()
        rpc.register_local(address, self._service)
        threads.serving_tasks()
        if start:
            self.start()

    @property
    def server_def(self) -> Any:
        """The ServerDef of this server (the bound port filled in for a local server)."""
        return self._server_def

    @property
    def target(self) -> str:
        """`grpc://host:port`, what `tf.Session` takes to run on this server's cluster."""
        return "grpc://" + self._address

    def start(self) -> None:
        """Starts serving (a server made with `start=False`). As in TF, a started server serves until
        it is stopped or the process ends, whether or not the program keeps this object."""
        if not self._started:
            self._grpc.start()
            self._started = True
            _SERVING.add(self)

    def join(self) -> None:
        """Blocks until the server stops (for a parameter server: forever, as in TF)."""
        self._stopped.wait()

    def stop(self, grace: float | None = None) -> None:
        """Stops serving and frees the port; sessions on it get UnavailableError."""
        from caudal.runtime.distributed import rpc

        if self._stopped.is_set():
            return
        self._service.stop()
        rpc.unregister_local(self._service)
        self._grpc.stop(grace).wait()
        self._stopped.set()
        _SERVING.discard(self)

    @staticmethod
    def create_local_server(config: Any = None, start: bool = True) -> Server:
        """A one-task server (job "localhost") on a free port."""
        return Server({"localhost": ["localhost:0"]}, protocol="grpc", config=config, start=start)
