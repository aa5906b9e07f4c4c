"""Loop structure of a pruned plan: TF1's frame ops read back as nested loops.

`tf.while_loop` builds TF1's frame ops (as TensorFlow does, so GraphDefs go
both ways):

    Enter ─> Merge ─> [cond ops] ─> LoopCond ─┐
               ▲       │                       ▼
               │       └──────────────────> Switch ─:0─> Exit
               │                               └──:1─> Identity ─> [body ops]
               └──────── NextIteration <──────────────────────────────┘

A backend does not interpret these ops one by one. `analyse` finds, for the
ops of one plan, which frame each op runs in (TF's rule: an Enter opens its
child frame, an Exit returns to the parent, every other op runs in the frame
of its inputs) and turns every frame into a `Loop`: its loop variables
(Enter, Merge, Switch, NextIteration, Exit per variable), its loop
invariants (constant Enters), its LoopCond, and its other ops split into the
part that computes the predicate and the body that runs only when it holds,
each in a topological order in which nested loops are single items. The
NumPy plan compiler writes a Loop as a Python `while`; a compiled backend
can lower the same structure to its own loop primitive.
"""
from __future__ import annotations

import heapq
from typing import Any

from caudal.errors import InvalidArgumentError
from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor

__all__ = ["Loop", "LoopVar", "analyse", "topological_order", "REF_PRODUCERS"]

REF_PRODUCERS = frozenset(["VariableV2"])


class LoopVar:
    """One loop variable: the ops that carry it into, around and out of the loop."""

    __slots__ = ("enter", "merge", "switch", "next", "exit")

    def __init__(self, enter: Operation, merge: Operation, next_iteration: Operation):
        self.enter = enter
        self.merge = merge
        self.next = next_iteration
        self.switch: Operation | None = None
        self.exit: Operation | None = None


class Loop:
    """One frame of a plan: see the module docstring."""

    __slots__ = ("frame", "parent", "depth", "vars", "invariants", "loop_cond", "cond_items", "body_items",
                 "members", "first_id")

    def __init__(self, frame: str, parent: Loop | None):
        self.frame = frame
        self.parent = parent
        self.depth = 0 if parent is None else parent.depth + 1
        self.vars: list[LoopVar] = []
        self.invariants: list[Operation] = []
        self.loop_cond: Operation | None = None
        self.cond_items: list[Any] = []
        self.body_items: list[Any] = []
        self.members: list[Operation] = []
        self.first_id = 1 << 62

    @property
    def inputs(self) -> list[Tensor]:
        """The tensors of the enclosing frame that enter this loop."""
        return [v.enter._inputs[0] for v in self.vars] + [e._inputs[0] for e in self.invariants]

    def __repr__(self) -> str:
        return f"Loop({self.frame!r}, {len(self.vars)} vars)"


def _is_back_edge(producer: Operation, consumer: Operation) -> bool:
    return consumer._type == "Merge" and producer._type == "NextIteration"


def _data_producers(op: Operation, members: set[Operation], fed: set[Tensor]) -> list[Operation]:
    result = []
    for t in op._inputs:
        producer = t._op
        if t in fed or producer not in members or _is_back_edge(producer, op):
            continue
        result.append(producer)
    return result


def topological_order(ops: list[Operation], fed: set[Tensor]) -> list[Operation]:
    """Topological order of `ops` (creation order among the ready ones), loop back edges ignored;
    raises InvalidArgumentError on any other cycle."""
    return _kahn(ops, set(ops), fed)


def _kahn(ops: list[Operation], members: set[Operation], fed: set[Tensor]) -> list[Operation]:
    """Topological order of `ops` (creation order among the ready ones), loop back edges ignored."""
    pending: dict[Operation, int] = {}
    users: dict[Operation, list[Operation]] = {op: [] for op in ops}
    for op in ops:
        deps = set(_data_producers(op, members, fed))
        deps.update(c for c in op._control_inputs if c in members)
        pending[op] = len(deps)
        for d in deps:
            users[d].append(op)
    ready = [(op._id, op) for op in ops if pending[op] == 0]
    heapq.heapify(ready)
    order: list[Operation] = []
    while ready:
        _, op = heapq.heappop(ready)
        order.append(op)
        for user in users[op]:
            pending[user] -= 1
            if pending[user] == 0:
                heapq.heappush(ready, (user._id, user))
    if len(order) != len(ops):
        raise InvalidArgumentError(None, None, "Graph has a cycle among the ops this run needs")
    return order


class _Frames:
    """What `analyse` knows about one plan's frames."""

    def __init__(self, members: set[Operation], fed: set[Tensor], frame_of: dict[Operation, Loop | None],
                 exits: dict[Loop, list[Operation]], children: dict[Loop | None, list[Loop]]):
        self.members = members
        self.fed = fed
        self.frame_of = frame_of
        self.exits = exits
        self.children = children
        self._all: dict[Loop, list[Operation]] = {}

    def all_members(self, loop: Loop) -> list[Operation]:
        """The ops of `loop` and of the loops nested in it, with their Exits."""
        found = self._all.get(loop)
        if found is None:
            found = list(loop.members) + self.exits.get(loop, [])
            for child in self.children.get(loop, []):
                found.extend(self.all_members(child))
            self._all[loop] = found
        return found

    def item_map(self, ops: list[Operation], children: list[Loop]) -> dict[Operation, Any]:
        """Op -> the item it belongs to: itself, or the child loop it is part of."""
        item_of: dict[Operation, Any] = {op: op for op in ops}
        for child in children:
            for op in self.all_members(child):
                item_of[op] = child
        return item_of


def analyse(ops: list[Operation], fed: set[Tensor]) -> tuple[list[Any], list[Loop]]:
    """(the top-level items in run order, every loop) for the pruned `ops`.

    An item is an Operation or a Loop. Raises InvalidArgumentError for frame ops
    that do not form a loop.
    """
    members = set(ops)
    order = _kahn(ops, members, fed)
    frame_of: dict[Operation, Loop | None] = {}
    loops: dict[tuple[Any, str], Loop] = {}
    for op in order:
        producers = _data_producers(op, members, fed)
        if op._type == "Merge" and not producers:
            producers = [t._op for t in op._inputs if t._op in members and t not in fed]
        source_frames = [frame_of[p] for p in producers]
        if not source_frames:
            source_frames = [frame_of[c] for c in op._control_inputs if c in members]
        frame = max(source_frames, key=lambda f: -1 if f is None else f.depth, default=None)
        if op._type == "Enter":
            key = (frame, op._attrs["frame_name"])
            loop = loops.get(key)
            if loop is None:
                loop = loops[key] = Loop(op._attrs["frame_name"], frame)
            frame = loop
        elif op._type == "Exit":
            if frame is None:
                raise InvalidArgumentError(None, op, f"Exit node {op.name} is not inside a while loop")
            frame = frame.parent
        frame_of[op] = frame
        if frame is not None and op._type != "Exit":
            frame.members.append(op)
            frame.first_id = min(frame.first_id, op._id)
    exits: dict[Loop, list[Operation]] = {}
    for op in order:
        if op._type == "Exit":
            exits.setdefault(frame_of[op._inputs[0]._op], []).append(op)
    children: dict[Loop | None, list[Loop]] = {}
    for loop in loops.values():
        children.setdefault(loop.parent, []).append(loop)
    frames = _Frames(members, fed, frame_of, exits, children)
    for loop in sorted(loops.values(), key=lambda loop: -loop.depth):
        _structure(loop, frames)  # inner loops first: an outer body reaches past them through their Exits
    root = [op for op in order if frame_of[op] is None and op._type != "Exit"]
    top = _items(root, children.get(None, []), frames)
    return top, list(loops.values())


def _structure(loop: Loop, frames: _Frames) -> None:
    members = frames.members
    structural: set[Operation] = set()
    cond_ops = [op for op in loop.members if op._type == "LoopCond"]
    if len(cond_ops) != 1:
        raise InvalidArgumentError(None, loop.members[0], f"While loop frame {loop.frame!r} needs exactly one "
                                                          f"LoopCond, found {len(cond_ops)}")
    loop.loop_cond = cond_ops[0]
    structural.add(loop.loop_cond)
    by_merge: dict[Operation, LoopVar] = {}
    for op in loop.members:
        if op._type == "Enter" and op._attrs.get("is_constant", False):
            loop.invariants.append(op)
            structural.add(op)
        elif op._type == "Merge":
            sources = {t._op._type: t._op for t in op._inputs if t._op in members}
            if "NextIteration" in sources and "Enter" in sources:
                var = LoopVar(sources["Enter"], op, sources["NextIteration"])
                by_merge[op] = var
                loop.vars.append(var)
                structural.update((var.enter, op, var.next))
    for op in loop.members:
        if op._type == "Switch" and op._inputs[1]._op is loop.loop_cond:
            var = by_merge.get(op._inputs[0]._op)
            if var is None:
                raise InvalidArgumentError(None, op, f"Switch {op.name} of loop {loop.frame!r} does not take a "
                                                     "loop variable")
            var.switch = op
            structural.add(op)
    for op in loop.members:
        if op._type in ("Enter", "NextIteration") and op not in structural:
            raise InvalidArgumentError(None, op, f"{op.type} node {op.name} is not part of a loop variable of "
                                                 f"frame {loop.frame!r}")
    switches = {v.switch: v for v in loop.vars if v.switch is not None}
    for op in frames.exits.get(loop, []):
        var = switches.get(op._inputs[0]._op)
        if var is None or op._inputs[0]._value_index != 0:
            raise InvalidArgumentError(None, op, f"Exit node {op.name} does not leave loop {loop.frame!r} "
                                                 "through a loop Switch")
        var.exit = op
    rest = [op for op in loop.members if op not in structural]
    children = frames.children.get(loop, [])
    # The body: whatever runs after the predicate, i.e. depends on a loop Switch's true output.
    item_of = frames.item_map(rest, children)
    body: set[Any] = set()
    stack = [v.switch for v in loop.vars if v.switch is not None]
    while stack:
        op = stack.pop()
        consumers = [c for t in op._outputs for c in t._consumers] + list(op._control_outputs)
        for c in consumers:
            item = item_of.get(c)
            if item is None or item in body:
                continue
            body.add(item)
            if isinstance(item, Loop):
                stack.extend(v.exit for v in item.vars if v.exit is not None)
            else:
                stack.append(item)
    loop.cond_items = _items([op for op in rest if op not in body], [c for c in children if c not in body], frames)
    loop.body_items = _items([op for op in rest if op in body], [c for c in children if c in body], frames)


def _items(ops: list[Operation], children: list[Loop], frames: _Frames) -> list[Any]:
    """`ops` of one frame and its child loops, in a topological order (creation order for ties)."""
    item_of = frames.item_map(ops, children)
    items: list[Any] = list(ops) + list(children)
    key = {id(item): (item.first_id if isinstance(item, Loop) else item._id) for item in items}
    deps: dict[int, set[int]] = {id(item): set() for item in items}
    users: dict[int, list[Any]] = {id(item): [] for item in items}
    for item in items:
        sources = frames.all_members(item) if isinstance(item, Loop) else [item]
        for op in sources:
            producers = _data_producers(op, frames.members, frames.fed)
            producers += [c for c in op._control_inputs if c in frames.members]
            for p in producers:
                dep = item_of.get(p)
                if dep is None or dep is item or id(dep) in deps[id(item)]:
                    continue
                deps[id(item)].add(id(dep))
                users[id(dep)].append(item)
    pending = {k: len(v) for k, v in deps.items()}
    ready = [(key[id(item)], id(item), item) for item in items if pending[id(item)] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, _, item = heapq.heappop(ready)
        order.append(item)
        for user in users[id(item)]:
            pending[id(user)] -= 1
            if pending[id(user)] == 0:
                heapq.heappush(ready, (key[id(user)], id(user), user))
    if len(order) != len(items):
        raise InvalidArgumentError(None, None, "Graph has a cycle among the ops this run needs")
    return order
