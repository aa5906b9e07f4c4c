"""Relayed stages: a run whose cross-task tensors pass through the master, two RPCs per remote task.

In between-graph training each worker's client hosts the worker's own server, and a step's other
partitions are parameter-server parts that read variables for the worker and apply what it sends
back. Partitioned as TF does it, a step then costs three calls per ps task: RunGraph on the ps, the
worker pulling the variables, the ps pulling the gradients (each pull a long wait on the other
side). When the master runs in the process of the one task that trades tensors with all the
others, it can carry them itself instead:

1. each remote partition is split into a *pre* stage (what does not depend on a tensor from the
   local task) and a *post* stage (the rest); the pre stage's `_Send`s become fetches and the post
   stage's `_Recv`s become Placeholders;
2. a run calls RunGraph on every pre stage, feeds their fetched tensors to the local partition
   (whose `_Recv`s are Placeholders and whose `_Send`s are fetches), runs it in the caller's
   thread, then calls RunGraph on every post stage with the local partition's tensors as feeds.

The split applies only where nothing of a post stage goes back to the local task, every remote
partition trades tensors with the local task alone, no transferred tensor may be dead (a tf.cond
branch), and the post stage needs of its pre stage only variables, constants, feeds and their
reads (those nodes are copied into it, so a variable is read when its update runs, as in one
partition). Otherwise the run keeps TF's partitions and pulls.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Stage", "relay_stages"]

# Nodes a post stage may copy from its pre stage: handles, constants and reads, cheap and stateless.
_COPYABLE = frozenset(["VariableV2", "Variable", "VarHandleOp", "Const", "Placeholder", "Identity",
                       "ReadVariableOp"])


class Stage:
    """One RunGraph of a relayed run: a partition (its task, GraphDef, handle, user feeds and fetches)
    and the relayed tensors it takes (`relay_feeds`: Placeholder name, slot) and gives
    (`relay_fetches`: tensor name, slot); `fetch_names` are what its RunGraph asks for, the user's
    fetches first."""

    __slots__ = ("partition", "relay_feeds", "relay_fetches", "fetch_names")

    def __init__(self, partition: Any):
        self.partition = partition
        self.relay_feeds: list[tuple[str, int]] = []
        self.relay_fetches: list[tuple[str, int]] = []
        self.fetch_names: list[str] = []


def _producer(name: str) -> str:
    return name.lstrip("^").split(":")[0]


def _tensor(name: str) -> str:
    """A NodeDef input as a tensor name ("x" is "x:0")."""
    return name if ":" in name else name + ":0"


def _attr(node: Any, key: str) -> str:
    return node.attr[key].s.decode()


def _placeholder(recv: Any) -> Any:
    from caudal.proto import node_def_pb2

    node = node_def_pb2.NodeDef(name=recv.name, op="Placeholder", device=recv.device)
    node.attr["dtype"].type = recv.attr["tensor_type"].type
    node.attr["shape"].CopyFrom(recv.attr["shape"])
    return node


def _clone(node: Any, inputs: Any) -> Any:
    """A copy of `node` whose inputs are `inputs`."""
    clone = type(node)()
    clone.CopyFrom(node)
    del clone.input[:]
    clone.input.extend(inputs)
    return clone


def _graph(nodes: list[Any]) -> Any:
    from caudal.proto import graph_pb2

    graph_def = graph_pb2.GraphDef()
    for node in nodes:
        graph_def.node.add().CopyFrom(node)
    return graph_def


def _split(part: Any, local_device: str) -> tuple[list[Any], list[Any], dict, dict] | None:
    """A remote partition's (pre nodes, post nodes, {transfer key: pre fetch}, {transfer key: post
    Placeholder}), or None when it cannot be split."""
    nodes = list(part.graph_def.node)
    by_name = {n.name: n for n in nodes}
    post: set[str] = set()
    for node in nodes:
        if node.op == "_Recv":
            if _attr(node, "send_device") != local_device or node.attr["may_be_dead"].b:
                return None
            post.add(node.name)
        elif node.op == "_Send" and _attr(node, "recv_device") != local_device:
            return None
    changed = True
    while changed:
        changed = False
        for node in nodes:
            if node.name not in post and any(_producer(i) in post for i in node.input):
                post.add(node.name)
                changed = True
    sends = [n for n in nodes if n.op == "_Send"]
    if any(n.name in post for n in sends):
        return None
    fetched = {(_attr(n, "tensor_name"), local_device): _tensor(n.input[0]) for n in sends}
    pre = [n for n in nodes if n.name not in post and n.op != "_Send"]
    copies: dict[str, Any] = {}

    def copy(name: str) -> bool:
        if name in copies:
            return True
        node = by_name[name]
        if node.op not in _COPYABLE or any(not i.startswith("^") and not copy(_producer(i)) for i in node.input):
            return False
        copies[name] = _clone(node, [i for i in node.input if not i.startswith("^")])
        return True

    post_nodes: list[Any] = []
    fed: dict[tuple[str, str], str] = {}
    for node in nodes:
        if node.name not in post:
            continue
        if node.op == "_Recv":
            fed[(_attr(node, "tensor_name"), _attr(node, "recv_device"))] = node.name
            post_nodes.append(_placeholder(node))
            continue
        inputs = []
        for i in node.input:
            source = _producer(i)
            if source in post:
                inputs.append(i)
            elif i.startswith("^"):
                continue  # the pre stage has run before this one
            elif copy(source):
                inputs.append(i)
            else:
                return None
        post_nodes.append(_clone(node, inputs))
    return pre, list(copies.values()) + post_nodes, fetched, fed


def relay_stages(partitions: list[Any], local_task: tuple, device_of: Any,
                 make_partition: Any) -> tuple[list[Stage], Stage, list[Stage]] | None:
    """(pre stages, the local stage, post stages) of a partitioned run, or None where the run cannot
    be relayed (see the module docstring). `device_of(task)` is a task's device name and
    `make_partition(task)` a new empty Partition."""
    local = [p for p in partitions if p.task == local_task]
    remote = [p for p in partitions if p.task != local_task]
    if len(local) != 1 or not remote:
        return None
    local_device = device_of(local_task)
    slots: dict[tuple[str, str], int] = {}  # transfer (tensor_name attr, receiving device) -> slot
    pre_stages, post_stages = [], []
    post_fed: list[tuple[Stage, dict]] = []
    for part in remote:
        split = _split(part, local_device)
        if split is None:
            return None
        pre_nodes, post_nodes, fetched, fed = split
        user_feeds = dict(part.feeds)
        for nodes, stages in ((pre_nodes, pre_stages), (post_nodes, post_stages)):
            names = {n.name for n in nodes}
            stage_part = make_partition(part.task)
            stage_part.graph_def = _graph(nodes)
            stage_part.feeds = [(name, j) for name, j in user_feeds.items() if name in names]
            stage_part.fetches = [(name, j) for name, j in part.fetches if _producer(name) in names]
            stage = Stage(stage_part)
            if stages is pre_stages:
                for key, tensor in fetched.items():
                    stage.relay_fetches.append((tensor, slots.setdefault(key, len(slots))))
            else:
                post_fed.append((stage, fed))
            if stages is post_stages and nodes:
                stages.append(stage)
            elif stages is pre_stages and (stage.relay_fetches or stage_part.fetches
                                           or any(n.op not in _COPYABLE for n in nodes)):
                stages.append(stage)
    # The local partition: its _Recvs from the pre stages become Placeholders, its _Sends fetches.
    [part] = local
    local_part = make_partition(local_task)
    local_part.feeds, local_part.fetches = list(part.feeds), list(part.fetches)
    local_stage = Stage(local_part)
    nodes = []
    for node in part.graph_def.node:
        if node.op == "_Recv":
            slot = slots.get((_attr(node, "tensor_name"), local_device))
            if slot is None:
                return None
            local_stage.relay_feeds.append((node.name, slot))
            nodes.append(_placeholder(node))
        elif node.op == "_Send":
            key = (_attr(node, "tensor_name"), _attr(node, "recv_device"))
            local_stage.relay_fetches.append((_tensor(node.input[0]), slots.setdefault(key, len(slots))))
        else:
            nodes.append(node)
    local_part.graph_def = _graph(nodes)
    for stage, fed in post_fed:
        for key, name in fed.items():
            if key not in slots:
                return None
            stage.relay_feeds.append((name, slots[key]))
    for stage in (*pre_stages, local_stage, *post_stages):
        stage.fetch_names = [name for name, _ in stage.partition.fetches] + [name for name, _ in stage.relay_fetches]
    return pre_stages, local_stage, post_stages
