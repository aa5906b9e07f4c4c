"""The WorkerService of one task: its variables, the partitions registered on it, and the rendezvous.

- Variables placed on this task live here, in one dict shared by every session of the cluster
  that uses them (between-graph replication: every worker's session reads and updates the same
  values). A run writes them directly, as TF's kernels do: there is no copy to commit, so
  asynchronous updates from several workers interleave op by op, and a distributed run that
  fails keeps the writes it made (a local Session's runs are all-or-nothing; TF's distributed
  runs are not). `CleanupAll` (what `Session.reset` sends) drops the variables of the given
  containers and closes every worker session, as TF's reset closes the sessions.
- A registered partition is a GraphDef imported into a Graph of its own (for a client in this
  process, made with the client's own attrs, so dataset functions and py_funcs work), with a plan
  per (feeds, fetches); the resources of a session's runs (random streams, iterators, ...) belong
  to its worker session, as a local Session's do, except queues and accumulators made under a
  `shared_name`: those are the task's, one for every session (SyncReplicasOptimizer's gradient
  accumulators and token queue on a ps task), as TF's resource manager shares them.
- Runs whose plan is stateful hold the task's lock, as a local Session's do, except while a
  `_Recv` waits for its tensor (so two workers' steps interleave at their receives) and while a
  kernel waits in `ctx.wait` (queues).
- The rendezvous holds what `_Send`s left for this step until the receiving task pulls it; a
  failed step, or a CleanupGraph for it, wakes its pending receives with the error.
"""
from __future__ import annotations

import collections
import random
import sys
import threading
from typing import Any

import numpy as np

from caudal import errors
from caudal.framework.graph import Graph
from caudal.framework.graph_io import import_graph_def
from caudal.runtime.plan import DEAD, build_plan
from caudal.runtime.resources import ResourceStore, RunContext

__all__ = ["WorkerService", "task_device"]

_ABORTED_STEPS_KEPT = 4096


def task_device(job: str, task: int) -> str:
    """The (one) device of a task: its CPU."""
    return f"/job:{job}/replica:0/task:{task}/device:CPU:0"


class _Slot:
    __slots__ = ("event", "value", "error")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.value: Any = None
        self.error: errors.OpError | None = None


class Rendezvous:
    """Tensors sent in a step, waiting for their receiver: (step_id, key) -> value."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[tuple[int, str], _Slot] = {}
        self._aborted: collections.OrderedDict[int, errors.OpError] = collections.OrderedDict()
        self._closed: errors.OpError | None = None

    def _slot(self, step_id: int, key: str) -> _Slot:
        slot = self._slots.get((step_id, key))
        if slot is None:
            slot = self._slots[(step_id, key)] = _Slot()
            error = self._closed or self._aborted.get(step_id)
            if error is not None:
                slot.error = error
                slot.event.set()
        return slot

    def send(self, step_id: int, key: str, value: Any) -> None:
        with self._lock:
            slot = self._slot(step_id, key)
            if slot.error is None:
                slot.value = value
                slot.event.set()
            else:
                self._slots.pop((step_id, key), None)  # the step was cancelled: nobody will take it

    def recv(self, step_id: int, key: str) -> Any:
        with self._lock:
            slot = self._slot(step_id, key)
        slot.event.wait()
        with self._lock:
            self._slots.pop((step_id, key), None)
        if slot.error is not None:
            raise slot.error
        return slot.value

    def abort(self, step_id: int, error: errors.OpError) -> None:
        """Fails the step's pending and future receives with `error`; drops what it sent."""
        with self._lock:
            if step_id not in self._aborted:
                self._aborted[step_id] = error
                while len(self._aborted) > _ABORTED_STEPS_KEPT:
                    self._aborted.popitem(last=False)
            for (step, key), slot in list(self._slots.items()):
                if step == step_id:
                    if slot.event.is_set() and slot.error is None:
                        del self._slots[(step, key)]  # sent but never received
                    else:
                        slot.error = error
                        slot.event.set()

    def aborted(self, step_id: int) -> bool:
        return step_id in self._aborted

    def close(self, error: errors.OpError) -> None:
        with self._lock:
            self._closed = error
            for slot in self._slots.values():
                if not slot.event.is_set():
                    slot.error = error
                    slot.event.set()
            self._slots.clear()


class _Step:
    """What the _Send/_Recv kernels of one run on this task see (`ctx.step[STEP_KEY]`).

    Every tensor the partition receives is asked for when the step starts (TF's executor starts
    its _Recv ops at once too), so the transfers overlap; a _Recv then waits for its own."""

    __slots__ = ("service", "step_id", "holds_lock", "pending")

    def __init__(self, service: WorkerService, step_id: int, holds_lock: bool,
                 receives: list[tuple[str, list[str]]]):
        self.service = service
        self.step_id = step_id
        self.holds_lock = holds_lock
        self.pending: dict[str, Any] = {}
        for device, keys in receives:
            client = service.client_for_device(device)
            if len(keys) == 1:
                self.pending[keys[0]] = client.recv_tensor_async(step_id, keys[0])
            else:
                self.pending.update(zip(keys, client.recv_tensors_async(step_id, keys)))

    def send(self, key: str, value: Any) -> None:
        self.service.rendezvous.send(self.step_id, key, value)

    def recv(self, send_device: str, key: str) -> Any:
        wait = self.pending.pop(key, None)
        if wait is None:
            wait = self.service.client_for_device(send_device).recv_tensor_async(self.step_id, key)
        if self.holds_lock:
            self.service.lock.release()
        try:
            return wait()
        finally:
            if self.holds_lock:
                self.service.lock.acquire()


def _copy_partition(graph_def: Any, source: Graph) -> Graph:
    """The partition as a Graph, from a client in this process: its nodes are made with the attrs of
    the client's own ops (Python values a GraphDef cannot carry: dataset functions, py_func
    tokens), the nodes partitioning added with the GraphDef's. So everything a local Session runs
    runs in the partitions of servers in the client's process."""
    from caudal.framework.graph_io import _split_input, attr_value_to_python

    graph = Graph()
    created: dict[str, Any] = {}
    back_edges: list[tuple[Any, int, str]] = []
    with graph.as_default():
        for node in graph_def.node:
            original = source._get_operation_by_name_unsafe(node.name)
            if original is not None and original.type == node.op:
                attrs = dict(original._attrs)
            else:
                attrs = {key: attr_value_to_python(value) for key, value in node.attr.items()}
            inputs, controls, pending = [], [], []
            for position, text in enumerate(node.input):
                name, index, control = _split_input(text)
                if control:
                    controls.append(created[name])
                elif name in created:
                    inputs.append(created[name].outputs[index])
                else:  # a loop's NextIteration, made after its Merge
                    pending.append((position, text))
            for position, _ in pending:
                inputs.insert(position, inputs[0])
            op = graph.create_op(node.op, inputs, attrs, name=node.name + "/", control_inputs=controls)
            op._set_device(node.device)
            if pending:
                output = op.outputs[0]
                if output.shape.ndims is not None:
                    output._shape = type(output.shape)([None] * output.shape.ndims)
                back_edges.extend((op, position, text) for position, text in pending)
            created[node.name] = op
        for op, position, text in back_edges:
            name, index, _ = _split_input(text)
            op._update_input(position, created[name].outputs[index])
    return graph


def _recv_key(op: Any) -> str:
    from caudal.ops.sendrecv_ops import rendezvous_key

    attrs = op._attrs
    return rendezvous_key(attrs["send_device"], attrs["send_device_incarnation"], attrs["recv_device"],
                          attrs["tensor_name"])


def _receives(graph: Graph) -> list[tuple[str, list[str]]]:
    """What a step of the partition asks for when it starts: (sending device, rendezvous keys), one
    entry per transfer group (pulled in one request) and per receive outside a group."""
    from caudal.ops.sendrecv_ops import TRANSFER_GROUP_ATTR

    receives: list[tuple[str, list[str]]] = []
    groups: dict[tuple[str, int], list[str]] = {}
    for op in graph.get_operations():
        if op.type == "_Recv":
            device, group = op._attrs["send_device"], op._attrs.get(TRANSFER_GROUP_ATTR, 0)
            if not group:
                receives.append((device, [_recv_key(op)]))
            elif (device, group) in groups:
                groups[(device, group)].append(_recv_key(op))
            else:
                groups[(device, group)] = [_recv_key(op)]
                receives.append((device, groups[(device, group)]))
    return receives


class _WorkerSession:
    """What one client session keeps on this task: its partitions, and its resources (random streams,
    iterators, ...: shared by its partitions, as a local Session's are by its plans). Its variables
    are the task's."""

    __slots__ = ("partitions", "store")

    def __init__(self, service: WorkerService):
        self.partitions: dict[str, _Partition] = {}
        self.store = ResourceStore()
        self.store.variables = service.variables  # shared by every session of the cluster
        self.store.task_resources = service.resources  # queues and accumulators with a shared_name


class _Partition:
    """A registered graph: the imported partition and its plans."""

    def __init__(self, service: WorkerService, session: _WorkerSession, graph_def: Any, config: Any,
                 source: Graph | None = None):
        from caudal.runtime.session import _backend_for

        if source is not None:
            self.graph = _copy_partition(graph_def, source)
        else:
            self.graph = Graph()
            with self.graph.as_default():
                import_graph_def(graph_def, name="")
        self.backend = _backend_for(config)
        self.store = session.store
        self._run_state_changed = service.changed  # for kernels that wait (queues)
        self._service = service
        self._plans: dict[tuple, tuple] = {}
        self._plans_lock = threading.Lock()
        # What a run runs: everything the master put here, i.e. every op nothing else here uses.
        self.targets = [op for op in self.graph.get_operations()
                        if op.type not in ("Placeholder", "VariableV2") and not op._control_outputs
                        and not any(t._consumers for t in op.outputs)]
        self.receives = _receives(self.graph)
        for op in self.graph.get_operations():
            if op.type == "VariableV2":
                service.containers[op.name] = op._attrs.get("container", "") or ""

    @property
    def _closed(self) -> bool:
        return self._service.stopped

    def plan_for(self, feed_names: tuple[str, ...], fetch_names: tuple[str, ...]) -> tuple:
        key = (feed_names, fetch_names)
        found = self._plans.get(key)
        if found is None:
            with self._plans_lock:
                graph = self.graph
                try:
                    feeds = tuple(graph.as_graph_element(n if ":" in n else n + ":0") for n in feed_names)
                    fetches = tuple(graph.as_graph_element(n) for n in fetch_names)
                except (KeyError, ValueError) as e:
                    raise errors.InvalidArgumentError(None, None, f"RunGraph names a tensor that the registered "
                                                                  f"graph does not hold: {e}") from None
                order = sorted(range(len(feeds)), key=lambda i: (feeds[i]._op._id, feeds[i]._value_index))
                plan = build_plan(fetches + tuple(self.targets), tuple(feeds[i] for i in order), self.backend)
                found = self._plans[key] = (plan, order, len(fetches))
        return found


class WorkerService:
    """The service behind one `tf.train.Server` (see the module docstring)."""

    def __init__(self, server_def: Any):
        from caudal.runtime.distributed.cluster import ClusterSpec

        self.server_def = server_def
        self.job_name = server_def.job_name
        self.task_index = server_def.task_index
        self.device = task_device(self.job_name, self.task_index)
        self.incarnation = random.getrandbits(63) or 1
        self.cluster = ClusterSpec(server_def.cluster)
        self.variables: dict[str, Any] = {}
        self.resources: dict[Any, Any] = {}  # resources with a shared_name, shared by every session
        self.containers: dict[str, str] = {}
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.rendezvous = Rendezvous()
        self.stopped = False
        self._sessions: dict[str, _WorkerSession] = {}
        self._sessions_lock = threading.Lock()
        self._graph_counter = 0

    # ------------------------------------------------------------ tasks
    def client_for_device(self, device: str) -> Any:
        """The client of the task that `device` ("/job:J/replica:0/task:T/device:CPU:0") names."""
        from caudal.framework.device_spec import DeviceSpec
        from caudal.runtime.distributed.rpc import worker_client

        spec = DeviceSpec.from_string(device)
        try:
            address = self.cluster.task_address(spec.job, spec.task or 0)
        except ValueError as e:
            raise errors.InvalidArgumentError(None, None, f"No task for device {device}: {e}") from None
        return worker_client(address)

    def get_status(self) -> list[Any]:
        from caudal.proto import device_attributes_pb2

        return [device_attributes_pb2.DeviceAttributes(name=self.device, device_type="CPU",
                                                        memory_limit=268435456, incarnation=self.incarnation)]

    # ---------------------------------------------------------- sessions
    def create_worker_session(self, handle: str) -> None:
        with self._sessions_lock:
            if handle not in self._sessions:
                self._sessions[handle] = _WorkerSession(self)

    def delete_worker_session(self, handle: str) -> None:
        self._sessions.pop(handle, None)  # no lock: a collected Session may call this from anywhere

    def _session(self, handle: str) -> _WorkerSession:
        found = self._sessions.get(handle)
        if found is None:
            raise errors.AbortedError(None, None, f"Session {handle} is not found.")
        return found

    def register_graph(self, handle: str, graph_def: Any, config: Any, source: Graph | None = None) -> str:
        """Registers a partition; `source` is the client's Graph when the client is in this process."""
        session = self._session(handle)
        try:
            partition = _Partition(self, session, graph_def, config, source)
        except errors.OpError:
            raise
        except (ValueError, TypeError, KeyError) as e:
            hint = "" if source is not None else (
                " (a GraphDef from another process cannot carry tf.data functions or py_func: place those ops on "
                "the task of the session's target)")
            raise errors.InvalidArgumentError(None, None, f"Cannot register the graph on {self.device}: {e}{hint}") \
                from None
        with self._sessions_lock:
            self._graph_counter += 1
            graph_handle = f"{self.incarnation:016x}{self._graph_counter:08x}"
            session.partitions[graph_handle] = partition
        return graph_handle

    def deregister_graph(self, handle: str, graph_handle: str) -> None:
        with self._sessions_lock:
            session = self._sessions.get(handle)
            if session is not None:
                session.partitions.pop(graph_handle, None)

    # -------------------------------------------------------------- runs
    def run_graph(self, handle: str, graph_handle: str, step_id: int, feeds: list[tuple[str, Any]],
                  fetch_names: list[str]) -> list[Any]:
        """Runs a registered partition for one step; the fetched values in `fetch_names`' order."""
        partition = self._session(handle).partitions.get(graph_handle)
        if partition is None:
            raise errors.AbortedError(None, None, f"Graph handle is not found: {graph_handle}. Possibly, this "
                                                  "worker just restarted.")
        try:
            plan, order, fetch_count = partition.plan_for(tuple(name for name, _ in feeds), tuple(fetch_names))
            values = [feeds[i][1] for i in order]
            if plan.stateful:
                with self.lock:
                    results = self._call(plan, partition, step_id, values, True)
            else:
                results = self._call(plan, partition, step_id, values, False)
        except errors.OpError as e:
            self.rendezvous.abort(step_id, errors.CancelledError(
                None, None, f"Step {step_id} was cancelled: a partition on {self.device} failed: {e.message}"))
            raise
        results = results[:fetch_count]
        if plan.may_be_dead:
            for i, value in enumerate(results):
                if value is DEAD:
                    raise errors.InvalidArgumentError(
                        None, None, f"Retval[{i}] does not have value: {fetch_names[i]} is on a tf.cond branch "
                                    "that was not taken")
        return list(results)

    def _call(self, plan: Any, partition: _Partition, step_id: int, values: list[Any], holds_lock: bool) -> tuple:
        from caudal.ops.sendrecv_ops import STEP_KEY
        from caudal.runtime.session import _as_op_error

        ctx = RunContext(partition.backend, self.variables, partition.store, partition, values)
        ctx.step = {STEP_KEY: _Step(self, step_id, holds_lock, partition.receives)}
        ctx.cancelled = lambda: self.rendezvous.aborted(step_id)  # a kernel waiting in a cancelled step stops
        try:
            with np.errstate(all="ignore"):
                results = plan.function(ctx, *values)
        except Exception as e:
            ctx.rollback()
            error = _as_op_error(e, plan, sys.exc_info()[2])
            if not isinstance(error, errors.OpError):
                error = errors.InternalError(None, None, f"{type(e).__name__}: {e}")
            raise error from e
        ctx.commit()
        return results

    def recv_tensor(self, step_id: int, key: str) -> Any:
        return self.rendezvous.recv(step_id, key)

    def cleanup_graph(self, step_id: int) -> None:
        self.rendezvous.abort(step_id, errors.CancelledError(None, None, f"Step {step_id} was cancelled."))
        with self.changed:  # kernels of the step waiting in ctx.wait (queues, accumulators) see it
            self.changed.notify_all()

    def cleanup_all(self, containers: list[str]) -> None:
        """Drops the variables of `containers` (the default container when empty) and closes every
        worker session."""
        wanted = set(containers) if containers else {""}
        with self.lock:
            for name in [n for n in self.variables if self.containers.get(n, "") in wanted]:
                del self.variables[name]
            if "" in wanted:  # queues and accumulators are made in the default container
                self.resources.clear()
        with self._sessions_lock:
            self._sessions.clear()

    def stop(self) -> None:
        self.stopped = True
        self.rendezvous.close(errors.CancelledError(None, None, f"The server of {self.device} was stopped."))
        with self.changed:
            self.changed.notify_all()
