"""Execution plans: what one `Session.run` signature needs, pruned, ordered and compiled.

A Plan is built once per (fetches, feeds) and cached by the Session. Building it

1. prunes the graph to the ancestors of the fetches, stopping at fed tensors
   (an iterative walk: deep graphs exist);
2. orders the ops topologically (creation order, which already is one unless
   a control input was added to an existing op afterwards);
3. turns variable references into reads placed just before each consumer, so
   a read sees every assign that the control dependencies put before it;
4. binds each kernel with its attrs and computes, for every intermediate
   value, the step after which it is dead;
5. on NumPy, lets an op with an in-place kernel (`x + b`, `relu`, ReluGrad)
   write into its first input when that input is a fresh array that dies
   there and that nothing else can see (see `_donate_buffers`);
6. writes all of this as one straight-line Python function, e.g.

       def plan(ctx, feed_0):
           t0 = k0(xp, feed_0, c1)
           t1 = ctx.read('Variable')
           t2 = k2(xp, t0, t1)
           del t0, t1
           return (t2,)

   so a run costs one call per op and nothing else. When a kernel raises,
   the traceback's line number in this function names the failing op.
"""
from __future__ import annotations

import heapq
import re
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor
from caudal.ops.cond_ops import DEAD
from caudal.ops.constant_ops import missing_feed_message

_REF_PRODUCERS = frozenset(["VariableV2"])
# Ops whose output is their input: the plan passes the value along without a call.
_ALIASES = frozenset(["Identity", "StopGradient", "Snapshot"])
_FOLD_LIMIT = 1 << 16


class Plan:
    """A compiled run signature: call `function(ctx, *feed_values)` to get the fetched values."""

    __slots__ = ("function", "source", "step_ops", "first_step_line", "writes_variables", "ops",
                 "feeds", "fetches", "may_be_dead")

    def __init__(self) -> None:
        self.function: Any = None
        self.source = ""
        self.step_ops: list[Operation] = []
        self.first_step_line = 0
        self.writes_variables = False
        self.may_be_dead = False
        self.ops: list[Operation] = []
        self.feeds: tuple[Tensor, ...] = ()
        self.fetches: tuple[Any, ...] = ()

    def op_at_line(self, lineno: int) -> Operation | None:
        index = lineno - self.first_step_line
        if 0 <= index < len(self.step_ops):
            return self.step_ops[index]
        return None


def _prune(targets: list[Operation], fed: set[Tensor]) -> list[Operation]:
    """The ops the targets need, in a topological order."""
    needed: set[Operation] = set()
    stack = list(targets)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        ref_inputs = op._op_def.ref_inputs
        for i, t in enumerate(op._inputs):
            if t in fed:
                continue
            producer = t._op
            if producer._type in _REF_PRODUCERS:
                continue  # read (or written) in place, never a step of its own
            if i in ref_inputs and producer._type in _REF_PRODUCERS:
                continue
            if producer not in needed:
                stack.append(producer)
        for c in op._control_inputs:
            if c not in needed and c._type not in _REF_PRODUCERS:
                stack.append(c)
    ordered = sorted(needed, key=lambda o: o._id)
    position = {op: i for i, op in enumerate(ordered)}
    for op in ordered:
        for t in op._inputs:
            p = position.get(t._op)
            if p is not None and p > position[op]:
                return _kahn(ordered)
        for c in op._control_inputs:
            p = position.get(c)
            if p is not None and p > position[op]:
                return _kahn(ordered)
    return ordered


def _kahn(ops: list[Operation]) -> list[Operation]:
    """Topological order preferring creation order; raises on a cycle."""
    members = set(ops)
    pending: dict[Operation, int] = {}
    users: dict[Operation, list[Operation]] = {op: [] for op in ops}
    for op in ops:
        deps = {t._op for t in op._inputs if t._op in members} | {c for c in op._control_inputs if c in members}
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


def build_plan(fetches: tuple[Any, ...], feeds: tuple[Tensor, ...], xp: Any) -> Plan:
    """Compiles the run of `fetches` (Tensors or Operations) given values for `feeds`."""
    fed = set(feeds)
    targets: list[Operation] = []
    for f in fetches:
        if isinstance(f, Tensor):
            if f not in fed and f._op._type not in _REF_PRODUCERS:
                targets.append(f._op)
        else:
            targets.append(f)
    ops = _prune(targets, fed)
    for op in ops:
        if op._type == "Placeholder":
            raise InvalidArgumentError(None, op, missing_feed_message(op))

    names: dict[Tensor, str] = {}
    env: dict[str, Any] = {"xp": xp}
    for i, t in enumerate(feeds):
        names[t] = f"feed_{i}"
    lines: list[str] = []
    step_ops: list[Operation] = []
    calls: list[_Call] = []
    constants = _Constants()
    computed: dict[Any, list[str]] = {}  # (op type, argument names, attrs) -> output names
    plan = Plan()
    counter = 0

    def fresh() -> str:
        nonlocal counter
        counter += 1
        return f"t{counter}"

    def value_of(t: Tensor) -> str:
        name = names.get(t)
        if name is not None:
            return name
        if t._op._type in _REF_PRODUCERS:
            # A read of the variable at this point of the run, just before its consumer.
            name = fresh()
            lines.append(f"{name} = ctx.read({t._op._name!r})")
            step_ops.append(t._op)
            return name
        raise AssertionError(f"{t.name} is used before it is computed")

    dead_ops: set[Operation] = set()  # ops whose outputs may be dead (an untaken cond branch)
    live_expr: dict[Operation, str] = {}  # for those: an expression that is DEAD when they did not run

    def may_be_dead(t: Tensor) -> bool:
        return t not in fed and t._op in dead_ops

    for index, op in enumerate(ops):
        op_def = op._op_def
        ref_inputs = op_def.ref_inputs
        dead_inputs = [t for i, t in enumerate(op._inputs) if i not in ref_inputs and may_be_dead(t)]
        dead_controls = [c for c in op._control_inputs if c in dead_ops]
        is_merge = op._type == "Merge"
        guarded = bool(dead_inputs or dead_controls) and not is_merge
        if guarded or op._type == "Switch" or (is_merge and op._inputs and all(map(may_be_dead, op._inputs))):
            dead_ops.add(op)
            env["DEAD"] = DEAD
        guard = " or ".join([f"{value_of(t)} is DEAD" for t in dead_inputs]
                            + [f"{live_expr[c]} is DEAD" for c in dead_controls])

        if op._type == "Const":
            env_name = constants.name_for(op._attrs["value"], f"c{index}")
            env[env_name] = op._attrs["value"]
            if dead_controls:
                name = fresh()
                lines.append(f"{name} = DEAD if {guard} else {env_name}")
                step_ops.append(op)
                names[op._outputs[0]] = live_expr[op] = name
            else:
                names[op._outputs[0]] = env_name
            continue
        if op._type == "NoOp":
            if guarded:
                name = fresh()
                lines.append(f"{name} = DEAD if {guard} else True")
                step_ops.append(op)
                live_expr[op] = name
            continue
        if op._type in _ALIASES and op._outputs[0] not in fed:
            source = op._inputs[0]
            if source._op._type in _REF_PRODUCERS and source not in fed:
                expression = f"ctx.read({source._op._name!r})"
            else:
                expression = value_of(source)
            if dead_controls or expression.startswith("ctx."):
                name = fresh()
                lines.append(f"{name} = DEAD if {guard} else {expression}" if guard else f"{name} = {expression}")
                step_ops.append(op)
                names[op._outputs[0]] = name
            else:
                names[op._outputs[0]] = expression
            if op in dead_ops:
                live_expr[op] = names[op._outputs[0]]
            continue
        if not guarded:
            folded = _fold_constant_op(op, names, env, fed)
            if folded is not None:
                env_name = constants.name_for(folded, f"c{index}")
                env[env_name] = folded
                names[op._outputs[0]] = env_name
                continue
        args = ["ctx" if op_def.stateful else "xp"]
        for i, t in enumerate(op._inputs):
            if i in ref_inputs:
                continue
            args.append(value_of(t))
        kwargs = op_def.kernel_kwargs(op)
        mergeable = not (op_def.stateful or guarded or op._control_inputs or op in dead_ops)
        key = _call_key(op, args, kwargs) if mergeable else None
        if key is not None and key in computed:
            # The same op on the same values was already computed: reuse its outputs.
            for t, name in zip(op._outputs, computed[key], strict=True):
                if t not in fed:
                    names[t] = name
            continue
        kernel_name = f"k{index}"
        env[kernel_name] = op_def.kernel
        for j, (attr, value) in enumerate(kwargs.items()):
            attr_name = f"a{index}_{j}"
            env[attr_name] = value
            args.append(f"{attr}={attr_name}")
        outputs = []
        for t in op._outputs:
            outputs.append(fresh())
            if t not in fed:
                names[t] = outputs[-1]
        calls.append(_Call(len(lines), op, kernel_name, args[1:], outputs, guarded))
        if key is not None:
            computed[key] = outputs
        call = f"{kernel_name}({', '.join(args)})"
        if not outputs:
            if guarded:
                name = fresh()
                lines.append(f"{name} = DEAD if {guard} else ({call}, True)[1]")
                live_expr[op] = name
            else:
                lines.append(call)
        else:
            target = ", ".join(outputs)
            if guarded:
                dead_value = "DEAD"
                if len(outputs) > 1:
                    dead_value = f"DEAD{len(outputs)}"
                    env[dead_value] = (DEAD,) * len(outputs)
                lines.append(f"{target} = {dead_value} if {guard} else {call}")
            else:
                lines.append(f"{target} = {call}")
            if op in dead_ops:
                live_expr[op] = outputs[0]
        step_ops.append(op)
        if _writes(op):
            plan.writes_variables = True
    plan.may_be_dead = bool(dead_ops)

    results = []
    for f in fetches:
        if isinstance(f, Tensor):
            results.append(value_of(f))
        else:
            results.append("None")
    if xp is np:
        _donate_buffers(lines, calls, results, env)
    _insert_frees(lines, names, results)
    header = f"def plan(ctx{''.join(f', feed_{i}' for i in range(len(feeds)))}):"
    body = lines + [f"return ({', '.join(results)}{',' if results else ''})"]
    source = header + "\n" + "\n".join("    " + line for line in body) + "\n"
    code = compile(source, f"<caudal plan {len(ops)} ops>", "exec")
    exec(code, env)
    plan.function = env["plan"]
    plan.source = source
    plan.ops = ops
    plan.step_ops = step_ops
    plan.first_step_line = 2
    plan.feeds = feeds
    plan.fetches = fetches
    return plan


def _fold_constant_op(op: Operation, names: dict[Tensor, str], env: dict[str, Any], fed: set[Tensor]) -> Any:
    """The value of a pure single-output op whose inputs are all plan constants, else None."""
    op_def = op._op_def
    if op_def.stateful or len(op._outputs) != 1 or op._outputs[0] in fed or op._control_inputs:
        return None
    values = []
    for t in op._inputs:
        name = names.get(t)
        if name is None or not name.startswith("c"):
            return None
        values.append(env[name])
    if any(getattr(v, "size", 1) > _FOLD_LIMIT for v in values):
        return None
    try:
        with np.errstate(all="ignore"):
            result = op_def.kernel(np, *values, **op_def.kernel_kwargs(op))
    except Exception:
        return None  # the error is raised at run time, naming the op
    result = np.asarray(result)
    result.flags.writeable = False
    return result


class _Constants:
    """Gives equal small constants one name, so that ops on them can be recognised as the same."""

    def __init__(self) -> None:
        self.by_value: dict[Any, str] = {}

    def name_for(self, value: Any, name: str) -> str:
        if not isinstance(value, np.ndarray) or value.size > 64 or value.dtype.kind not in "biufc":
            return name
        return self.by_value.setdefault((value.dtype.str, value.shape, value.tobytes()), name)


def _hashable(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    hash(value)
    return value


def _call_key(op: Operation, args: list[str], kwargs: dict[str, Any]) -> Any:
    """What identifies the values a pure kernel call returns: its op type, arguments and attrs
    (None when an attr cannot be compared). Common subexpressions, such as the scale that every
    dropout layer computes from the same fed keep_prob, are then computed once."""
    try:
        return (op._type, tuple(args), tuple((k, type(v), _hashable(v)) for k, v in kwargs.items()))
    except TypeError:
        return None


class _Call:
    """One kernel call of a plan: its line, op, kernel name, data arguments and output names."""

    __slots__ = ("line", "op", "kernel_name", "args", "outputs", "guarded")

    def __init__(self, line: int, op: Operation, kernel_name: str, args: list[str], outputs: list[str],
                 guarded: bool):
        self.line = line
        self.op = op
        self.kernel_name = kernel_name
        self.args = args
        self.outputs = outputs
        self.guarded = guarded


_VALUE = re.compile(r"\bt\d+\b")
_TARGETS = re.compile(r"(t\d+(?:, t\d+)*) = ")


def _donate_buffers(lines: list[str], calls: list[_Call], results: list[str], env: dict[str, Any]) -> None:
    """Switches calls to their op's in-place kernel where the first argument may be overwritten.

    A value may be overwritten by the call that uses it last when it was returned by a `fresh`
    op (so no variable, feed, constant or other value shares its memory), is not fetched, and
    every other use of it is by a fresh op too (an op that could return a view of it, or keep
    it, would see the write). The in-place call's result is fresh in turn, so `conv + b` then
    `relu` write into the convolution's output.
    """
    defined_at: dict[str, int] = {}
    for i, line in enumerate(lines):
        match = _TARGETS.match(line)
        if match:
            for name in match.group(1).split(", "):
                defined_at[name] = i
    uses: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        for name in set(_VALUE.findall(line)):
            if defined_at.get(name) != i:
                uses.setdefault(name, []).append(i)
    call_at = {call.line: call for call in calls}
    fetched = set(results)
    fresh: set[str] = set()
    for call in calls:
        op_def = call.op._op_def
        if op_def.inplace is not None and not call.guarded and call.args and call.args[0] in fresh:
            first = call.args[0]
            others = [i for i in uses[first] if i != call.line]
            if (first not in fetched and all(i < call.line for i in others)
                    and all(i in call_at and call_at[i].op._op_def.fresh for i in others)):
                name = f"{call.kernel_name}_inplace"
                env[name] = op_def.inplace
                lines[call.line] = lines[call.line].replace(f"{call.kernel_name}(", f"{name}(", 1)
        if op_def.fresh and not call.guarded:
            fresh.update(call.outputs)


def _writes(op: Operation) -> bool:
    """Ops that update variables: anything stateful with a reference input."""
    return op._op_def.stateful and bool(op._op_def.ref_inputs)


def _insert_frees(lines: list[str], names: dict[Tensor, str], results: list[str]) -> None:
    """Adds `del` statements after the last use of each intermediate value (same line, so
    line numbers still map to ops)."""
    token = re.compile(r"\bt\d+\b")
    last_use: dict[str, int] = {}
    for i, line in enumerate(lines):
        for name in token.findall(line):
            last_use[name] = i
    keep = set(results)
    frees: dict[int, list[str]] = {}
    for name, i in last_use.items():
        if name not in keep:
            frees.setdefault(i, []).append(name)
    for i in sorted(frees, reverse=True):
        lines[i] = lines[i] + "; del " + ", ".join(sorted(frees[i]))

