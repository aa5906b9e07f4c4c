"""Placement and partitioning of one run signature across the tasks of a cluster.

Placement follows TF's placer for a cluster of one-CPU tasks:

- an op's device names its task (`/job:ps/task:1`); a job without a task means the session's own
  task when the job is the session's job, else the job's first task; no job means the session's
  task (the task its `grpc://` target is). A job or task the cluster does not have is TF's
  InvalidArgumentError "Cannot assign a device for operation ...". Device types are ignored:
  every task runs its ops on its CPU;
- an op that takes a variable by reference (Assign, the optimizers' Apply ops, ...) runs where
  the variable is, and so does an op whose `_class` attr names another (`loc:@W`), as TF
  colocates them.

Partitioning cuts every edge between two tasks into a `_Send` on the producer's task and a
`_Recv` on the consumer's (one pair per tensor and receiving task, so a tensor crosses once per
run however many ops there use it; a variable is read when its consumer runs, as a local read
would be), and every control edge between tasks into a dummy constant sent the same way. Fed
tensors become Placeholders of the tasks that consume them. Each task's nodes are written in one
order shared by all tasks (each `_Send` right after its producer, each `_Recv` right before its
first consumer), so partitions that run their ops in that order never wait on each other in a
cycle. Receives whose sends follow one another on their task with nothing between that waits are
marked as one transfer group, pulled in one request (a training step's variable reads from a ps
task, its gradients back). A `tf.while_loop` must keep its body on one task.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from caudal import errors
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.device_spec import DeviceSpec
from caudal.framework.graph import Operation
from caudal.framework.graph_io import _input_name, attr_value_from_python, node_def_of
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops.sendrecv_ops import TRANSFER_GROUP_ATTR
from caudal.runtime import frames
from caudal.runtime.distributed.worker import task_device

__all__ = ["DistributedPlan", "Partition", "place", "build_distributed_plan"]

_REF_PRODUCERS = frames.REF_PRODUCERS
Task = tuple  # (job name, task index)


class Partition:
    """The part of a run one task does: its GraphDef, the feeds it takes and the fetches it gives."""

    __slots__ = ("task", "graph_def", "feeds", "fetches", "graph_handle")

    def __init__(self, task: Task):
        self.task = task
        self.graph_def: Any = None
        self.feeds: list[tuple[str, int]] = []  # (feed node name, index into the run's feed values)
        self.fetches: list[tuple[str, int]] = []  # (tensor name, index into the run's fetches)
        self.graph_handle = ""


class DistributedPlan:
    """A run signature split by task; `fed_fetches` are fetches answered from the feeds."""

    __slots__ = ("partitions", "fed_fetches", "fetch_count", "registered", "relay")

    def __init__(self, partitions: list[Partition], fed_fetches: list[tuple[int, int]], fetch_count: int):
        self.partitions = partitions
        self.fed_fetches = fed_fetches
        self.fetch_count = fetch_count
        self.registered = False
        self.relay: Any = None  # (pre stages, local stage, post stages) of caudal.runtime.distributed.relay


# ------------------------------------------------------------------ placement
def _devices(cluster: Any) -> list[str]:
    return [task_device(job, i) for job in sorted(cluster.jobs) for i in cluster.task_indices(job)]


def _requested_task(op: Operation, cluster: Any, default: Task) -> Task | None:
    """The task `op`'s device names, None when it names no job; a task the cluster lacks raises."""
    if not op._device:
        return None
    try:
        spec = DeviceSpec.from_string(op._device)
    except ValueError as e:
        raise errors.InvalidArgumentError(None, op, f"Malformed device specification '{op._device}' in node "
                                                    f"{op.name}: {e}") from None
    if spec.job is None:
        return None
    if spec.job in cluster.jobs:
        indices = cluster.task_indices(spec.job)
        if spec.task is None:
            if spec.job == default[0] and default[1] in indices:
                return default
            if indices:
                return (spec.job, indices[0])
        elif spec.task in indices:
            return (spec.job, spec.task)
    raise errors.InvalidArgumentError(
        None, op, f"Cannot assign a device for operation {op.name}: {{{{node {op.name}}}}} was explicitly "
                  f"assigned to {op._device} but available devices are [ {', '.join(_devices(cluster))} ]. "
                  "Make sure the device specification refers to a valid device.")


def place(ops: list[Operation], cluster: Any, default: Task) -> dict[Operation, Task]:
    """The task of every op (see the module docstring)."""
    parent: dict[Operation, Operation] = {}

    def find(op: Operation) -> Operation:
        root = op
        while parent.get(root, root) is not root:
            root = parent[root]
        while op is not root:
            parent[op], op = root, parent[op]
        return root

    def union(a: Operation, b: Operation) -> None:
        ra, rb = find(a), find(b)
        if ra is not rb:
            if ra._type in _REF_PRODUCERS and rb._type not in _REF_PRODUCERS:
                ra, rb = rb, ra
            parent[ra] = rb  # a variable stays the root of its group

    members = list(ops)
    graph = ops[0]._graph if ops else None
    for op in ops:
        for i in op._op_def.ref_inputs:
            if i < len(op._inputs):
                union(op, op._inputs[i]._op)
        located = op._attrs.get("_class")
        if located and graph is not None:
            for entry in located if isinstance(located, (list, tuple)) else [located]:
                entry = entry.decode() if isinstance(entry, bytes) else str(entry)
                target = graph._get_operation_by_name_unsafe(entry[5:]) if entry.startswith("loc:@") else None
                if target is not None and target is not op:
                    if target not in parent:
                        members.append(target)
                    union(op, target)
    requested: dict[Operation, Task] = {}
    for op in members:
        task = _requested_task(op, cluster, default)
        if task is None:
            continue
        root = find(op)
        if root not in requested or op is root:
            requested[root] = task
    return {op: requested.get(find(op), default) for op in ops}


# --------------------------------------------------------------- partitioning
def _prune(targets: list[Operation], fed: set[Tensor]) -> set[Operation]:
    """The ops the targets need (variables included), stopping at fed tensors."""
    needed: set[Operation] = set()
    stack = list(targets)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for t in op._inputs:
            if t not in fed and t._op not in needed:
                stack.append(t._op)
        for c in op._control_inputs:
            if c not in needed and not (c._outputs and all(t in fed for t in c._outputs)):
                stack.append(c)
    return needed


def _ordered(needed: set[Operation], fed: set[Tensor]) -> list[Operation]:
    ordered = sorted(needed, key=lambda o: o._id)
    position = {op: i for i, op in enumerate(ordered)}
    for op in ordered:
        for t in op._inputs:
            if t not in fed and position[t._op] > position[op] and not (op._type == "Merge"
                                                                         and t._op._type == "NextIteration"):
                return frames.topological_order(ordered, fed)
        for c in op._control_inputs:
            if position.get(c, -1) > position[op]:
                return frames.topological_order(ordered, fed)
    return ordered


def _in_loop(op: Operation) -> bool:
    context = op._control_flow_context
    while context is not None:
        if type(context).__name__ == "WhileContext":
            return True
        context = getattr(context, "outer", None)
    return False


def _may_be_dead(order: list[Operation], fed: set[Tensor], needed: set[Operation]) -> set[Operation]:
    """Ops whose outputs may be dead (downstream of a Switch), conservatively."""
    dead: set[Operation] = set()

    def dead_input(t: Tensor) -> bool:
        return t not in fed and t._op in dead

    for op in order:
        if op._type == "Switch" or op._type == "TensorListPopBack":
            dead.add(op)
        elif op._type == "Merge":
            if op._inputs and all(dead_input(t) for t in op._inputs):
                dead.add(op)
        elif (any(dead_input(t) for i, t in enumerate(op._inputs) if i not in op._op_def.ref_inputs)
              or any(c in dead for c in op._control_inputs if c in needed)):
            dead.add(op)
    return dead


_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-/]")


class _Names:
    """Names for the nodes partitioning adds, clear of the graph's own."""

    def __init__(self, graph: Any):
        self._graph = graph
        self._used: set[str] = set()

    def make(self, base: str) -> str:
        base = _UNSAFE.sub("_", base)
        name, suffix = base, 0
        while name in self._used or self._graph._get_operation_by_name_unsafe(name) is not None:
            suffix += 1
            name = f"{base}_{suffix}"
        self._used.add(name)
        return name


def _node(name: str, op_type: str, inputs: list[str], attrs: dict[str, tuple[Any, str]], device: str) -> Any:
    from caudal.proto import node_def_pb2

    node = node_def_pb2.NodeDef(name=name, op=op_type, device=device)
    node.input.extend(inputs)
    for key, (value, kind) in attrs.items():
        node.attr[key].CopyFrom(attr_value_from_python(value, kind))
    return node


def _check_loop_edge(producer: Operation, consumer: Operation, src: Task, dst: Task) -> None:
    if (_in_loop(consumer) and consumer._type != "Enter") or (_in_loop(producer) and producer._type != "Exit"):
        raise errors.UnimplementedError(
            None, consumer, f"{consumer.name} on {task_device(*dst)} uses {producer.name} on {task_device(*src)} "
                            "inside a tf.while_loop: caudal runs a loop on one task, so place the loop's ops on "
                            "one device")


def build_distributed_plan(fetches: tuple[Any, ...], feeds: tuple[Tensor, ...], cluster: Any, default: Task,
                           incarnation: Any) -> DistributedPlan:
    """Places and partitions the run of `fetches` given `feeds`; `incarnation(task)` is a task's."""
    from caudal.proto import graph_pb2

    fed = set(feeds)
    feed_index = {t: i for i, t in enumerate(feeds)}
    targets: list[Operation] = []
    fed_fetches: list[tuple[int, int]] = []
    for i, f in enumerate(fetches):
        if isinstance(f, Tensor):
            if f in fed:
                fed_fetches.append((i, feed_index[f]))
            else:
                targets.append(f._op)
        else:
            targets.append(f)
    needed = _prune(targets, fed)
    order = _ordered(needed, fed)
    for op in order:
        if op._type == "Placeholder":
            from caudal.runtime.feeds import missing_feed_message

            raise errors.InvalidArgumentError(None, op, missing_feed_message(op))
    task_of = place(order, cluster, default)
    _run_signals_where_they_wait(order, needed, set(targets), task_of)
    position = {op: i for i, op in enumerate(order)}
    dead = _may_be_dead(order, fed, needed)
    names = _Names(order[0]._graph if order else None)

    # Where each cut edge is first needed on its receiving task.
    first_use: dict[tuple[Any, Task], int] = {}
    feeds_of: dict[tuple[Tensor, Task], str] = {}
    for op in order:
        dst = task_of[op]
        for t in op._inputs:
            if t in fed:
                if (t, dst) not in feeds_of:
                    feeds_of[(t, dst)] = names.make(f"_recv_{t.name.replace(':', '_')}")
            elif task_of[t._op] != dst:
                _check_loop_edge(t._op, op, task_of[t._op], dst)
                first_use.setdefault((t, dst), position[op])
        for c in op._control_inputs:
            if c in needed and task_of[c] != dst:
                first_use.setdefault((c, dst), position[op])

    nodes: dict[Task, list[tuple[tuple, Any]]] = {}
    partitions: dict[Task, Partition] = {}

    def partition(task: Task) -> Partition:
        if task not in partitions:
            partitions[task] = Partition(task)
            nodes[task] = []
        return partitions[task]

    for (t, task), name in feeds_of.items():
        partition(task).feeds.append((name, feed_index[t]))
        nodes[task].append(((-1.0, feed_index[t]), _node(
            name, "Placeholder", [], {"dtype": (t.dtype.base_dtype, "type"), "shape": (t.shape, "shape")},
            task_device(*task))))
    recv_of: dict[tuple[Any, Task], str] = {}
    # (tensor_name, recv_device) -> the order keys of its _Send and _Recv, and the _Recv NodeDef
    transfers: dict[tuple[str, str], tuple[tuple, tuple, Any]] = {}
    for (item, dst), first in first_use.items():
        is_control = isinstance(item, Operation)
        producer = item if is_control else item._op
        src = task_of[producer]
        partition(src)
        partition(dst)
        send_device, recv_device = task_device(*src), task_device(*dst)
        tag = f"^{producer.name}" if is_control else item.name
        base = (producer.name if is_control else item.name.replace(":", "_")) + f"_{dst[0]}_{dst[1]}"
        if is_control:
            dtype = dtypes_lib.int32
            const = names.make(f"_ctrl_{base}")
            nodes[src].append(((float(position[producer]), 2), _node(
                const, "Const", ["^" + producer.name],
                {"dtype": (dtype, "type"), "value": (_ZERO, "tensor")}, send_device)))
            source, send_key = const, (float(position[producer]), 3)
            shape = _SCALAR
        else:
            dtype = item.dtype.base_dtype
            source = _input_name(item)
            late = producer._type in _REF_PRODUCERS  # read the variable when its consumer runs
            send_key = (first - 0.5, 0) if late else (float(position[producer]), 2)
            shape = item.shape
        transfer = {"tensor_name": (tag, "string"), "send_device": (send_device, "string"),
                    "send_device_incarnation": (incarnation(src), "int"), "recv_device": (recv_device, "string"),
                    "client_terminated": (False, "bool")}
        nodes[src].append((send_key, _node(names.make(f"_send_{base}"), "_Send", [source],
                                           {"T": (dtype, "type"), **transfer}, send_device)))
        recv = names.make(f"_recv_{base}")
        recv_of[(item, dst)] = recv
        recv_node = _node(recv, "_Recv", [], {"tensor_type": (dtype, "type"), **transfer, "shape": (shape, "shape"),
                                              "may_be_dead": (producer in dead, "bool")}, recv_device)
        transfers[(tag, recv_device)] = (send_key, (first - 0.5, 1), recv_node)
        nodes[dst].append(((first - 0.5, 1), recv_node))

    for op in order:
        task = task_of[op]
        partition(task)
        node = node_def_of(op)
        del node.input[:]
        for t in op._inputs:
            if t in fed:
                node.input.append(feeds_of[(t, task)])
            elif task_of[t._op] != task:
                node.input.append(recv_of[(t, task)])
            else:
                node.input.append(_input_name(t))
        for c in op._control_inputs:
            if c not in needed:
                continue
            node.input.append("^" + (c.name if task_of[c] == task else recv_of[(c, task)]))
        nodes[task].append(((float(position[op]), 1), node))

    for i, f in enumerate(fetches):
        if isinstance(f, Tensor) and f not in fed:
            partition(task_of[f._op]).fetches.append((f.name, i))
    ordered = {task: sorted(entries, key=lambda entry: entry[0]) for task, entries in nodes.items()}
    may_wait = {op.name for op in order if op._op_def.stateful and not _NEVER_WAITS.match(op._type)}
    _group_transfers(ordered, may_wait, transfers)
    for task, part in partitions.items():
        graph_def = graph_pb2.GraphDef()
        for _, node in ordered[task]:
            graph_def.node.add().CopyFrom(node)
        part.graph_def = graph_def
    return DistributedPlan(sorted(partitions.values(), key=lambda p: p.task), fed_fetches, len(fetches))


def _run_signals_where_they_wait(order: list[Operation], needed: set[Operation], targets: set[Operation],
                                 task_of: dict[Operation, Task]) -> None:
    """Moves a NoOp that is only run (a target such as `minimize`'s train op, nothing in the run
    waiting on it) and whose control inputs are all on one other task to that task: it signals
    nothing anyone sees, so it runs where its inputs finish instead of waiting for them over the
    wire."""
    waited_on = {c for op in order for c in op._control_inputs}
    for op in order:
        if op._type != "NoOp" or op not in targets or op in waited_on or op._inputs:
            continue
        tasks = {task_of[c] for c in op._control_inputs if c in needed}
        if len(tasks) == 1:
            task_of[op] = tasks.pop()


# Stateful ops that never wait: variables and their updates (what a ps task runs between the sends of
# a training step). Any other stateful op may wait (queues, readers, accumulators, py_func).
_NEVER_WAITS = re.compile(r"(VariableV2|VarHandleOp|ReadVariableOp|Assign(Add|Sub)?(VariableOp)?"
                          r"|(Resource)?(Sparse)?Apply\w+|(Resource)?Scatter\w+|CountUpTo)$")


def _group_transfers(ordered: dict[Task, list[tuple[tuple, Any]]], may_wait: set[str],
                     transfers: dict[tuple[str, str], tuple[tuple, tuple, Any]]) -> None:
    """Marks the receives that may be pulled in one request (`TRANSFER_GROUP_ATTR`).

    Every task runs its nodes in the shared order. A receiver that waits for a whole group at the
    first of its receives (order key `first`) waits for the sender to reach the group's last send.
    So a group holds sends one task makes to one other task in its order with nothing between them
    that could wait for the receiver past `first`: no stateful op that may wait (a queue, a reader,
    ...), and no _Recv except of a tensor the receiver sends before `first` (the gradients a ps
    applies between the updates it signals back). Groups of one stay single RecvTensor calls."""
    def key_of(node: Any) -> tuple[str, str]:
        return node.attr["tensor_name"].s.decode(), node.attr["recv_device"].s.decode()

    groups: list[list[Any]] = []
    for task_nodes in ordered.values():
        # recv_device -> [the group's _Recv nodes, its earliest receive key, the keys of the sends
        # the sender received from that device since the group began]
        open_groups: dict[str, list[Any]] = {}
        for _, node in task_nodes:
            if node.op == "_Send":
                _, recv_key, recv = transfers[key_of(node)]
                recv_device = node.attr["recv_device"].s.decode()
                group = open_groups.get(recv_device)
                if group is not None:
                    first = min(group[1], recv_key)
                    if all(sent < first for sent in group[2]):
                        group[0].append(recv)
                        group[1] = first
                        continue
                open_groups[recv_device] = [[recv], recv_key, []]
                groups.append(open_groups[recv_device][0])
            elif node.op == "_Recv":
                send_device = node.attr["send_device"].s.decode()
                for device in list(open_groups):
                    if device == send_device:
                        open_groups[device][2].append(transfers[key_of(node)][0])
                    else:
                        del open_groups[device]
            elif node.name in may_wait:
                open_groups.clear()
    for number, group in enumerate(g for g in groups if len(g) > 1):
        for recv in group:
            recv.attr[TRANSFER_GROUP_ATTR].i = number + 1


_ZERO = np.zeros((), np.int32)
_ZERO.flags.writeable = False
_SCALAR = TensorShape([])
