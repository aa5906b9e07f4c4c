"""The master of a `tf.Session("grpc://host:port")`: it lives in the client's process.

On creation it asks the target task for its ServerDef (the cluster, and which task the target
is: ops without a job run there). For each run signature it places and partitions the plan
(caudal.runtime.distributed.partition), opens a worker session on each task it uses
(CreateWorkerSession) and registers each partition there once (RegisterGraph); the handles are
cached with the plan. Each `Session.run` is then one RunGraph per task, all started at once with
the same random step id, feeds going to the tasks that consume them and fetches coming back from
the tasks that produce them; tasks pass tensors to each other directly (_Send/_Recv). A partition
of a server in this process runs in the calling thread, without gRPC.

A run fails with the first error that is not a consequence of another (a task's failure cancels
the receives waiting for it): an op's error, or UnavailableError when a task cannot be reached,
or AbortedError when a task restarted and no longer knows the session (TF's "Session ... is not
found"); the monitored session recovers from the last two by creating a new session.

Reaching a task waits until it answers, at most `connect_timeout` seconds (30, or
$CAUDAL_GRPC_CONNECT_TIMEOUT, or the session's ConfigProto.operation_timeout_in_ms when set),
then raises UnavailableError; so a session whose target does not listen fails within that time.
"""
from __future__ import annotations

import os
import random
import threading
from typing import Any

from caudal import errors
from caudal.framework.device_spec import DeviceSpec
from caudal.framework.tensor import Tensor
from caudal.runtime.distributed import rpc
from caudal.runtime.distributed.cluster import ClusterSpec
from caudal.runtime.distributed.partition import DistributedPlan, Partition, build_distributed_plan
from caudal.runtime.distributed.relay import relay_stages
from caudal.runtime.distributed.worker import task_device

__all__ = ["RemoteMaster", "parse_target", "connect_timeout", "reset"]

_SCHEME = "grpc://"
# Whether runs whose tasks all trade tensors with this process's task alone relay them (relay.py).
RELAY = True
CONNECT_TIMEOUT_SECS = 30.0


def parse_target(target: str) -> str:
    """The "host:port" of a `grpc://host:port` target; other targets are TF's NotFoundError."""
    if isinstance(target, bytes):
        target = target.decode()
    if not target.startswith(_SCHEME) or not target[len(_SCHEME):]:
        raise errors.NotFoundError(None, None, f"No session factory registered for the given session options: "
                                               f"{{target: \"{target}\"}} Registered factories are "
                                               "{DIRECT_SESSION, GRPC_SESSION}.")
    return target[len(_SCHEME):]


def connect_timeout(config: Any) -> float:
    """How long reaching a task may take (see the module docstring)."""
    if config is not None and config.operation_timeout_in_ms > 0:
        return config.operation_timeout_in_ms / 1000.0
    return float(os.environ.get("CAUDAL_GRPC_CONNECT_TIMEOUT", CONNECT_TIMEOUT_SECS))


def _names_task(spec: DeviceSpec, job: str, index: int) -> bool:
    return spec.job in (None, job) and spec.task in (None, index)


def _matches(spec: DeviceSpec, device: DeviceSpec) -> bool:
    """Whether the fully named `device` is one that the partial `spec` names."""
    return all(getattr(spec, field) in (None, getattr(device, field))
               for field in ("job", "replica", "task", "device_type", "device_index"))


def _cluster_of(target: str, timeout: float) -> tuple[Any, ClusterSpec, tuple[str, int]]:
    client = rpc.worker_client(parse_target(target))
    server_def = client.get_server_def(timeout=timeout)
    return client, ClusterSpec(server_def.cluster), (server_def.job_name, server_def.task_index)


class RemoteMaster:
    """Runs a Session's plans on the cluster of its `grpc://` target (see the module docstring)."""

    def __init__(self, target: str, graph: Any, config: Any):
        self._timeout = connect_timeout(config)
        _, self.cluster, self.task = _cluster_of(target, self._timeout)
        self._graph = graph
        self._config = config
        self.handle = f"{random.getrandbits(64):016x}"
        self._plans: dict[Any, DistributedPlan] = {}
        self._plans_version = graph._mutation_version
        self._tasks: dict[tuple[str, int], tuple[Any, int]] = {}
        self._lock = threading.Lock()
        self._running: dict[int, _StepCleanup] = {}  # the steps in flight, cancelled by close()

    # ------------------------------------------------------------ tasks
    def _task(self, task: tuple[str, int]) -> tuple[Any, int]:
        """The client and incarnation of a task, opening this session's worker session there first."""
        found = self._tasks.get(task)
        if found is None:
            client = rpc.worker_client(self.cluster.task_address(*task))
            status = client.get_status(timeout=self._timeout)
            client.create_worker_session(self.handle, timeout=self._timeout)
            found = self._tasks[task] = (client, status[0].incarnation if status else 0)
        return found

    def _plan(self, fetch_list: tuple[Any, ...], feeds: tuple[Tensor, ...]) -> DistributedPlan:
        key = (fetch_list, feeds)
        if self._plans_version != self._graph._mutation_version:
            self._plans = {}
            self._plans_version = self._graph._mutation_version
        plan = self._plans.get(key)
        if plan is not None and plan.registered:
            return plan
        with self._lock:
            plan = self._plans.get(key)
            if plan is None:
                plan = build_distributed_plan(fetch_list, feeds, self.cluster, self.task,
                                              lambda task: self._task(task)[1])
                if RELAY and isinstance(self._task(self.task)[0], rpc.LocalWorkerClient):
                    stages = relay_stages(plan.partitions, self.task, lambda task: task_device(*task), Partition)
                    if stages is not None:
                        plan.relay = stages
                        plan.partitions = [s.partition for s in (*stages[0], stages[1], *stages[2])]
                self._plans[key] = plan
            if not plan.registered:
                for part in plan.partitions:
                    if not part.graph_handle:
                        client = self._task(part.task)[0]
                        part.graph_handle = client.register_graph(self.handle, part.graph_def, self._config,
                                                                  source=self._graph, timeout=self._timeout)
                plan.registered = True
        return plan

    # -------------------------------------------------------------- runs
    def execute(self, fetch_list: tuple[Any, ...], feeds: tuple[Tensor, ...], feed_values: list[Any]) -> list[Any]:
        """The values of `fetch_list`, computed across the cluster."""
        plan = self._plan(fetch_list, feeds)
        results: list[Any] = [None] * plan.fetch_count
        for i, j in plan.fed_fetches:
            results[i] = rpc._owned(feed_values[j])
        step_id = random.getrandbits(63)
        on_failure = self._running[step_id] = _StepCleanup(self, step_id, plan)
        try:
            return self._execute_step(plan, results, step_id, on_failure, feed_values)
        finally:
            self._running.pop(step_id, None)

    def _execute_step(self, plan: DistributedPlan, results: list[Any], step_id: int, on_failure: _StepCleanup,
                      feed_values: list[Any]) -> list[Any]:
        if plan.relay is not None:
            return self._execute_relayed(plan.relay, results, step_id, on_failure, feed_values)
        remote, local = [], []
        for part in plan.partitions:
            client = self._tasks[part.task][0]
            try:
                call = client.run_graph_async(self.handle, part.graph_handle, step_id,
                                              [(name, feed_values[j]) for name, j in part.feeds],
                                              [name for name, _ in part.fetches], on_failure)
            except errors.OpError as e:
                on_failure()
                call = _raiser(e)
            (local if isinstance(client, rpc.LocalWorkerClient) else remote).append((part, call))
        outcomes: dict[int, Any] = {}
        threads = [threading.Thread(target=_collect, args=(call, outcomes, id(part)), daemon=True)
                   for part, call in local[1:]]
        for thread in threads:
            thread.start()
        for part, call in local[:1] + remote:
            _collect(call, outcomes, id(part))
        for thread in threads:
            thread.join()
        failures = [outcome for outcome in outcomes.values() if isinstance(outcome, BaseException)]
        if failures:
            raise _root_error(failures)
        for part in plan.partitions:
            for (_, index), value in zip(part.fetches, outcomes[id(part)]):
                results[index] = value
        return results

    def _execute_relayed(self, stages: tuple, results: list[Any], step_id: int, on_failure: _StepCleanup,
                         feed_values: list[Any]) -> list[Any]:
        """A relayed run (caudal.runtime.distributed.relay): the pre stages, the local stage in this
        thread, the post stages; the tensors between them pass through here."""
        pre, local, post = stages
        relayed: dict[int, Any] = {}
        for group in (pre, [local], post):
            calls = []
            for stage in group:
                part = stage.partition
                feeds = [(name, feed_values[j]) for name, j in part.feeds]
                feeds += [(name, relayed[slot]) for name, slot in stage.relay_feeds]
                try:
                    call = self._tasks[part.task][0].run_graph_async(
                        self.handle, part.graph_handle, step_id, feeds, stage.fetch_names, on_failure,
                        len(stage.relay_fetches),
                        deferred=len(group) == 1)
                except errors.OpError as e:
                    on_failure()
                    call = _raiser(e)
                calls.append((stage, call))
            outcomes: dict[int, Any] = {}
            for stage, call in calls:
                _collect(call, outcomes, id(stage))
            failures = [outcome for outcome in outcomes.values() if isinstance(outcome, BaseException)]
            if failures:  # each failed call has started the step's cleanup (on_failure)
                raise _root_error(failures)
            for stage, _ in calls:
                values = outcomes[id(stage)]
                count = len(stage.partition.fetches)
                for (_, index), value in zip(stage.partition.fetches, values[:count]):
                    results[index] = value
                for (_, slot), value in zip(stage.relay_fetches, values[count:]):
                    relayed[slot] = value
        return results

    def list_devices(self) -> list[Any]:
        """The devices of every task, or, when the session's ConfigProto has `device_filters`, of the
        tasks those name (TF's sessions ignore the devices no filter matches)."""
        from caudal.backends.numpy_backend import DeviceAttributes

        filters = [DeviceSpec.from_string(f) for f in getattr(self._config, "device_filters", ())]
        devices = []
        for job in self.cluster.jobs:
            for index in self.cluster.task_indices(job):
                if filters and not any(_names_task(f, job, index) for f in filters):
                    continue
                for attrs in self._task((job, index))[0].get_status(timeout=self._timeout):
                    name = DeviceSpec.from_string(attrs.name)
                    if not filters or any(_matches(f, name) for f in filters):
                        devices.append(DeviceAttributes(attrs.name, attrs.device_type, attrs.memory_limit))
        return devices

    def close(self) -> None:
        """Cancels the steps still running, as TF's session close does (their receives wake with
        CancelledError, so no thread waits for a step that will not finish: the chief queue runner of
        a SyncReplicasOptimizer waiting on its accumulators), then deletes this session's worker
        sessions (their partitions); unreachable tasks are skipped."""
        for cleanup in list(self._running.values()):
            cleanup.cancel()
        tasks, self._tasks, self._plans = self._tasks, {}, {}
        for client, _ in tasks.values():
            try:
                client.delete_worker_session(self.handle, timeout=1.0)
            except errors.OpError:
                pass


class _StepCleanup:
    """Called when a partition of a step fails: tells every task of the step, at once and once, to
    wake what waits for the step (receives whose sender will never send)."""

    def __init__(self, master: RemoteMaster, step_id: int, plan: DistributedPlan):
        self._clients = [master._tasks[part.task][0] for part in plan.partitions]
        self._step_id = step_id
        self._done = False
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        threading.Thread(target=self._cleanup, daemon=True).start()

    def cancel(self) -> None:
        """Cleans the step up now, in this thread (a closing session's steps)."""
        with self._lock:
            self._done = True
        self._cleanup()

    def _cleanup(self) -> None:
        for client in self._clients:
            try:
                client.cleanup_graph(self._step_id, timeout=2.0)
            except errors.OpError:
                pass


def _raiser(error: errors.OpError) -> Any:
    def result() -> list[Any]:
        raise error

    return result


def _collect(call: Any, outcomes: dict[int, Any], key: int) -> None:
    try:
        outcomes[key] = call()
    except BaseException as e:  # noqa: BLE001 - every partition's outcome is gathered, then the run decides
        outcomes[key] = e


def _root_error(failures: list[BaseException]) -> BaseException:
    """The error that caused the others: not a cancellation when there is one."""
    for failure in failures:
        if not isinstance(failure, errors.CancelledError):
            return failure
    return failures[0]


def reset(target: str, containers: list[str] | None, config: Any) -> None:
    """`Session.reset(target, containers)`: every task of the target's cluster drops the variables of
    `containers` (the default container when None or empty) and closes its sessions."""
    timeout = connect_timeout(config)
    _, cluster, _ = _cluster_of(target, timeout)
    for job in cluster.jobs:
        for index in cluster.task_indices(job):
            rpc.worker_client(cluster.task_address(job, index)).cleanup_all(list(containers or []), timeout=timeout)
