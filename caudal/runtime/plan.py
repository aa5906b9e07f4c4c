"""Execution plans: what one `Session.run` signature needs, pruned, ordered and compiled.

A Plan is built once per (fetches, feeds) and cached by the Session. Building it

1. prunes the graph to the ancestors of the fetches, stopping at fed tensors
   (an iterative walk: deep graphs exist);
2. orders the ops topologically (creation order, which already is one unless
   a control input was added to an existing op afterwards); a plan with
   `tf.while_loop` frames is read back as nested loops (`caudal.runtime.frames`);
3. turns variable references into reads placed just before each consumer, so
   a read sees every assign that the control dependencies put before it;
4. binds each kernel (the backend's variant where it has one) with its attrs
   and computes, for every intermediate value, where it is dead;
5. on NumPy, lets an op with an in-place kernel (`x + b`, `relu`, ReluGrad)
   write into its first input when that input is a fresh array that dies
   there and that nothing else can see (see `_donate_buffers`);
6. writes all of this as one Python function, e.g.

       def plan(ctx, feed_0):
           t0 = k0(xp, feed_0, c1)
           t1 = ctx.read('Variable')
           t2 = k2(xp, t0, t1); del t0, t1
           t3 = feed_0
           while True:
               t4 = k5(xp, t3, c6)
               if not t4: break
               t3, = k8(xp, t3, c9),
           t10 = t3
           return (t2, t10)

   so a run costs one call per op and nothing else. A loop frame becomes a
   Python `while`; tf.cond's Switch and Merge become conditional expressions
   over the DEAD marker. When a kernel raises, the traceback's line number in
   this function names the failing op.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor
from caudal.runtime import frames, fusion, last_writes
from caudal.runtime.dead import DEAD
from caudal.runtime.feeds import missing_feed_message
from caudal.runtime.fused_emission import Call as _Call
from caudal.runtime.fused_emission import FusedEmission
from caudal.runtime.shape_memo import ShapeKeys

__all__ = ["DEAD", "Plan", "build_plan", "prune_and_order"]

_REF_PRODUCERS = frames.REF_PRODUCERS
# Ops whose output is their input: the plan passes the value along without a call.
_ALIASES = frozenset(["Identity", "StopGradient", "Snapshot"])
_FRAME_OPS = frozenset(["Enter", "Exit", "NextIteration", "LoopCond"])
# A loop's history keeps DEAD for iterations where the value was on an untaken cond branch:
# pushing takes a dead value, and what is popped may be dead.
_TAKES_DEAD = {"TensorListPushBack": frozenset([1]), "_Send": frozenset([0])}
_GIVES_DEAD = frozenset(["TensorListPopBack"])
# Ops whose in-place kernel may write into either input: their operands commute bit for bit.
_COMMUTATIVE = frozenset(["AddV2", "Mul"])
# Between tasks, a _Send sends a dead value as dead, and a _Recv the master marked `may_be_dead`
# (its sender is downstream of a Switch) gives it.
_FOLD_LIMIT = 1 << 16


_MERGE_INDEX = tuple(np.array(i, np.int32) for i in range(64))


def _merge(*inputs: Any) -> tuple[Any, Any]:
    """Merge: the live input and its index (DEAD, DEAD when none is live)."""
    for index, value in enumerate(inputs):
        if value is not DEAD:
            return value, _MERGE_INDEX[index]
    return DEAD, DEAD


class Plan:
    """A compiled run signature: call `function(ctx, *feed_values)` to get the fetched values."""

    __slots__ = ("function", "source", "step_ops", "first_step_line", "writes_variables", "stateful", "ops",
                 "feeds", "fetches", "may_be_dead", "loops")

    def __init__(self) -> None:
        self.function: Any = None
        self.source = ""
        self.step_ops: list[Operation | None] = []
        self.first_step_line = 0
        self.writes_variables = False
        self.stateful = False
        self.may_be_dead = False
        self.ops: list[Operation] = []
        self.feeds: tuple[Tensor, ...] = ()
        self.fetches: tuple[Any, ...] = ()
        self.loops: list[frames.Loop] = []

    def op_at_line(self, lineno: int) -> Operation | None:
        index = lineno - self.first_step_line
        if 0 <= index < len(self.step_ops):
            return self.step_ops[index]
        return None


def _prune(targets: list[Operation], fed: set[Tensor], restrict: set[Operation] | None = None) -> list[Operation]:
    """The ops the targets need, sorted by creation (only ops in `restrict` when it is given: the
    others ran before, their values are fed and their control dependents may run)."""
    needed: set[Operation] = set()
    stack = list(targets)
    while stack:
        op = stack.pop()
        if op in needed:
            continue
        needed.add(op)
        for t in op._inputs:
            if t in fed:
                continue
            producer = t._op
            if producer._type in _REF_PRODUCERS:
                continue  # read (or written) in place, never a step of its own
            if producer not in needed and (restrict is None or producer in restrict):
                stack.append(producer)
        for c in op._control_inputs:
            if (c not in needed and c._type not in _REF_PRODUCERS and not _all_outputs_fed(c, fed)
                    and (restrict is None or c in restrict)):
                stack.append(c)
    return sorted(needed, key=lambda o: o._id)


def _all_outputs_fed(op: Operation, fed: set[Tensor]) -> bool:
    """Whether every output of `op` is fed: as in TF, its control dependents then wait on the feed,
    and the op itself does not run (a control dependency on a fed placeholder)."""
    return bool(op._outputs) and all(t in fed for t in op._outputs)


def _topological(ordered: list[Operation], fed: set[Tensor]) -> list[Operation]:
    """`ordered` (creation order) if it is already topological, else a Kahn order."""
    position = {op: i for i, op in enumerate(ordered)}
    for op in ordered:
        here = position[op]
        for t in op._inputs:
            p = position.get(t._op)
            if p is not None and p > here:
                return frames.topological_order(ordered, fed)
        for c in op._control_inputs:
            p = position.get(c)
            if p is not None and p > here:
                return frames.topological_order(ordered, fed)
    return ordered


def prune_and_order(fetches: tuple[Any, ...], feeds: tuple[Tensor, ...], restrict: set[Operation] | None = None
                    ) -> tuple[list[Operation], list[Any], list[frames.Loop]]:
    """(the ops the run of `fetches` needs, the same as items in run order, its loops).

    An item is an Operation or a `frames.Loop`. With `restrict`, only the ops in it are
    considered (a part of a larger plan whose other ops ran before, see `build_plan`).
    Raises InvalidArgumentError for an unfed placeholder the fetches need.
    """
    fed = set(feeds)
    targets: list[Operation] = []
    for f in fetches:
        if isinstance(f, Tensor):
            if f not in fed and f._op._type not in _REF_PRODUCERS:
                targets.append(f._op)
        else:
            targets.append(f)
    ops = _prune(targets, fed, restrict)
    for op in ops:
        if op._type == "Placeholder":
            raise InvalidArgumentError(None, op, missing_feed_message(op))
    loops: list[frames.Loop] = []
    if any(op._type in _FRAME_OPS for op in ops):
        items, loops = frames.analyse(ops, fed)
        _check_loop_boundaries(loops, fetches, feeds)
    else:
        items = _topological(ops, fed)
    return ops, items, loops


def _after_writes(ops: list[Operation]) -> dict[str, set[Operation]]:
    """For each variable that an op of `ops` takes by reference (Assign, AssignAdd, the optimizers'
    Apply ops, ...), the ops of `ops` that depend on such an op, by data or control edges."""
    in_plan = set(ops)
    after: dict[str, set[Operation]] = {}
    for op in ops:
        for i in op._op_def.ref_inputs:
            if i >= len(op._inputs) or op._inputs[i]._op._type not in _REF_PRODUCERS:
                continue
            seen = after.setdefault(op._inputs[i]._op._name, set())
            stack = [op]
            while stack:
                current = stack.pop()
                for nxt in [c for t in current._outputs for c in t._consumers] + current._control_outputs:
                    if nxt in in_plan and nxt not in seen:
                        seen.add(nxt)
                        stack.append(nxt)
    return after


def build_plan(fetches: tuple[Any, ...], feeds: tuple[Tensor, ...], backend: Any,
               restrict: set[Operation] | None = None, dead_feeds: frozenset[Tensor] = frozenset()) -> Plan:
    """Compiles the run of `fetches` (Tensors or Operations) given values for `feeds` for `backend`.

    A compiled backend runs the host part of a plan as such a plan: `restrict` holds its ops
    (see `prune_and_order`) and `dead_feeds` the feeds whose value is DEAD in this run.
    """
    fed = set(feeds)
    plan = Plan()
    ops, items, plan.loops = prune_and_order(fetches, feeds, restrict)
    backend = getattr(backend, "host", backend)  # a compiled backend runs such Python plans on its host
    emitter = _Emitter(backend, fed, feeds, dead_feeds)
    emitter.after_writes = _after_writes(ops)
    emitter.fused = fusion.broadcast_reductions(ops, fetches, feeds)
    emitter.absorbed = {part for parts in emitter.fused.values() for part in parts}
    if not plan.loops:
        emitter.find_fusions(items, fetches, feeds)
    emitter.emit_items(items)
    results = [emitter.value_of(f) if isinstance(f, Tensor) else "None" for f in fetches]
    lines, levels, step_ops = emitter.lines, emitter.levels, emitter.step_ops
    if getattr(backend, "inplace_plans", False):
        _donate_buffers(lines, levels, emitter.calls, results, emitter.env, emitter.headers, emitter.variant_names)
    lines, step_ops = _insert_frees(lines, levels, step_ops, emitter.headers, results)
    if emitter.writes_variables:
        last_writes.mark_last_fallible_line(lines, step_ops)
    header = f"def plan(ctx{''.join(f', feed_{i}' for i in range(len(feeds)))}):"
    body = lines + [f"    return ({', '.join(results)}{',' if results else ''})"]
    source = header + "\n" + "\n".join(body) + "\n"
    code = compile(source, f"<caudal plan {len(ops)} ops>", "exec")
    exec(code, emitter.env)
    plan.function = emitter.env["plan"]
    plan.source = source
    plan.ops = ops
    plan.step_ops = step_ops
    plan.first_step_line = 2
    plan.feeds = feeds
    plan.fetches = fetches
    plan.may_be_dead = bool(emitter.dead_ops)
    plan.writes_variables = emitter.writes_variables
    plan.stateful = emitter.stateful
    return plan


def _check_loop_boundaries(loops: list[frames.Loop], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...]) -> None:
    """Tensors inside a loop exist once per iteration: they can be neither fetched nor fed."""
    inside = {op for loop in loops for op in loop.members}
    for f in fetches:
        op = f._op if isinstance(f, Tensor) else f
        if op in inside:
            raise InvalidArgumentError(None, op, f"Cannot fetch {getattr(f, 'name', op.name)}: it is inside a "
                                                 "while loop (fetch the loop's outputs instead)")
    for t in feeds:
        for consumer in t._consumers:
            if consumer in inside and t._op not in inside and consumer._type != "Enter":
                raise InvalidArgumentError(None, consumer, f"Cannot feed {t.name}: it is used inside a while loop")


class _Emitter(FusedEmission):
    """Writes the lines of one plan function; see the module docstring."""

    def __init__(self, backend: Any, fed: set[Tensor], feeds: tuple[Tensor, ...],
                 dead_feeds: frozenset[Tensor] = frozenset()):
        self.backend = backend
        # The backends whose kernel variants this one runs, its own first (see OpDef.kernel_for).
        self.variant_names: tuple[str, ...] = getattr(backend, "variant_names", (backend.name,))
        self.inplace_plans: bool = getattr(backend, "inplace_plans", False)
        self.fed = fed
        self.dead_feeds = dead_feeds
        self.env: dict[str, Any] = {"xp": backend.xp}
        self.names: dict[Tensor, str] = {t: f"feed_{i}" for i, t in enumerate(feeds)}
        # The `read` Identities of variables (alias -> variable name), and for each variable that an op
        # of the plan takes by reference (writes), the ops that run after such an op (see `input_of`).
        self.variable_reads: dict[Tensor, str] = {}
        self.after_writes: dict[str, set[Operation]] = {}
        self.lines: list[str] = []
        self.levels: list[int] = []
        self.step_ops: list[Operation | None] = []
        self.headers: set[int] = set()  # lines that open a block
        self.calls: list[_Call] = []
        self.constants = _Constants()
        self.computed: dict[Any, list[str]] = {}  # (block, op type, argument names, attrs) -> output names
        self.dead_ops: set[Operation] = set()  # ops whose outputs may be dead (an untaken cond branch)
        self.live_expr: dict[Operation, str] = {}  # for those: an expression that is DEAD when they did not run
        self.level = 1
        self.block = 0  # the innermost open loop, for merging subexpressions only within one block
        self.counter = 0
        self.writes_variables = False
        self.stateful = False
        self.fused: dict[Operation, fusion.Parts] = {}  # ops run as one call with the ops they absorb
        self.conv_fusions: dict[Operation, fusion.ConvParts] = {}
        self.pooled_relu_grads: dict[Operation, Operation] = {}  # ReluGrad -> the MaxPoolGrad it reads
        self.pooled_sums: dict[Operation, Operation] = {}  # Sum -> the ReluGrad whose pooled input it sums
        self.masked: dict[Operation, str] = {}  # a pooled ReluGrad -> its pooled result's name
        self.dropouts: dict[Operation, fusion.DropoutParts] = {}  # SelectV2 -> its GreaterEqual and scaling
        self.dropout_relu_grads: dict[Operation, fusion.DropoutParts] = {}  # ReluGrad -> its SelectV2 and scaling
        self.relu_grad_sums: dict[Operation, Operation] = {}  # one of those ReluGrads -> the Sum of its rows
        self.pool_pairs: dict[Operation, Operation] = {}  # MaxPoolGrad -> its MaxPool
        self.conv_pools: dict[Operation, Operation] = {}  # a fused conv layer's Relu -> the MaxPool run with it
        # the ReluGrad of such a layer -> its Conv2DBackpropFilter and bias gradient, run with it
        self.conv_pool_grads: dict[Operation, tuple[Operation, Operation]] = {}
        self.relu_pool_sums: dict[Operation, Operation] = {}  # a pooled ReluGrad -> the bias gradient run with it
        self.paired_pools: set[Operation] = set()
        self.workspaces: dict[Operation, str] = {}  # a paired MaxPool -> its workspace's name
        self.absorbed: set[Operation] = set()
        self.shape_keys = ShapeKeys(self.env)  # values computed from shapes alone, remembered per shape

    # ------------------------------------------------------------ helpers
    def fresh(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    def add(self, line: str, op: Operation | None, header: bool = False) -> None:
        if header:
            self.headers.add(len(self.lines))
        self.lines.append("    " * self.level + line)
        self.levels.append(self.level)
        self.step_ops.append(op)

    def value_of(self, t: Tensor) -> str:
        name = self.names.get(t)
        if name is not None:
            return name
        if t._op._type in _REF_PRODUCERS:
            # A read of the variable at this point of the run, just before its consumer.
            name = self.fresh()
            self.add(f"{name} = ctx.read({t._op._name!r})", t._op)
            return name
        raise AssertionError(f"{t.name} is used before it is computed")

    def input_of(self, t: Tensor, consumer: Operation) -> str:
        """The value `consumer` gets for its input `t`. A variable's `read` Identity is read where the
        Identity is, early, as TF's executor runs it as soon as it can; but a consumer that runs after
        an op writing the variable (a Fill of the global step after the optimizer incremented it, a
        moving average after the update) reads it again just before it runs: TF's Identity forwards
        the variable's buffer, so such a consumer sees the write."""
        variable = self.variable_reads.get(t)
        if variable is not None and consumer in self.after_writes.get(variable, ()):
            name = self.fresh()
            self.add(f"{name} = ctx.read({variable!r})", t._op)
            return name
        return self.value_of(t)

    def may_be_dead(self, t: Tensor) -> bool:
        if t in self.fed:
            return t in self.dead_feeds
        return t._op in self.dead_ops

    # -------------------------------------------------------------- items
    def emit_items(self, items: list[Any]) -> None:
        i = 0
        while i < len(items):
            item = items[i]
            run = self.group_run(items, i)
            if run:
                self.emit_group(run)
                i += len(run)
                continue
            if isinstance(item, frames.Loop):
                self.emit_loop(item)
            else:
                self.emit_op(item)
            i += 1

    def emit_loop(self, loop: frames.Loop) -> None:
        """A frame as a Python `while`: loop variables are names rebound at the end of each pass."""
        dead_inputs = [t for t in loop.inputs if self.may_be_dead(t)]
        exits = [v for v in loop.vars if v.exit is not None]
        exit_names = [self.fresh() for _ in exits]
        guarded = bool(dead_inputs)
        if guarded:
            # A loop on an untaken cond branch does not run; its outputs are dead.
            self.env["DEAD"] = DEAD
            if exit_names:
                self.add(f"{' = '.join(exit_names)} = DEAD", None)
            guard = " or ".join(f"{self.value_of(t)} is DEAD" for t in dead_inputs)
            self.add(f"if not ({guard}):", None, header=True)
            self.level += 1
            for v in exits:
                self.dead_ops.add(v.exit)
        for enter in loop.invariants:
            self.names[enter._outputs[0]] = self.value_of(enter._inputs[0])
        var_names = []
        for v in loop.vars:
            name = self.fresh()
            self.add(f"{name} = {self.value_of(v.enter._inputs[0])}", v.enter)
            var_names.append(name)
            for t in (v.enter._outputs[0], v.merge._outputs[0]):
                self.names[t] = name
            self.env["ONE"] = _MERGE_INDEX[1]
            self.names[v.merge._outputs[1]] = "ONE"
            if v.switch is not None:
                self.names[v.switch._outputs[0]] = self.names[v.switch._outputs[1]] = name
        outer_block = self.block
        self.block = id(loop)
        self.add("while True:", loop.loop_cond, header=True)
        self.level += 1
        self.emit_items(loop.cond_items)
        predicate = self.value_of(loop.loop_cond._inputs[0])
        self.names[loop.loop_cond._outputs[0]] = predicate
        test = predicate
        source = loop.loop_cond._inputs[0]
        last = self.lines[-1].strip() if self.lines else ""
        if (len(source._consumers) == 1 and source._op._op_def.expression is not None
                and last.startswith(f"{predicate} = ") and self.step_ops[-1] is source._op):
            # The predicate is needed only here: test its expression directly.
            test = f"({last[len(predicate) + 3:]})"
            self.lines.pop()
            self.levels.pop()
            self.step_ops.pop()
        self.add(f"if not {test}: break", loop.loop_cond)
        self.emit_items(loop.body_items)
        if var_names:
            nexts = [self.value_of(v.next._inputs[0]) for v in loop.vars]
            self.add(f"{', '.join(var_names)}, = {', '.join(nexts)},", loop.vars[0].next)
        self.level -= 1
        self.block = outer_block
        for v, name in zip(exits, exit_names):
            self.add(f"{name} = {var_names[loop.vars.index(v)]}", v.exit)
            self.names[v.exit._outputs[0]] = name
        if guarded:
            self.level -= 1

    def emit_op(self, op: Operation) -> None:
        if op in self.absorbed:
            return  # computed by the fused call that uses it
        if self.emit_fused(op):
            return
        op_def = op._op_def
        fed = self.fed
        ref_inputs = op_def.ref_inputs
        takes_dead = _TAKES_DEAD.get(op._type, ())
        dead_inputs = [t for i, t in enumerate(op._inputs)
                       if i not in ref_inputs and i not in takes_dead and self.may_be_dead(t)]
        dead_controls = [c for c in op._control_inputs if c in self.dead_ops]
        is_merge = op._type == "Merge"
        guarded = bool(dead_inputs or dead_controls) and not is_merge
        if guarded or op._type == "Switch" or (is_merge and op._inputs and all(map(self.may_be_dead, op._inputs))):
            self.dead_ops.add(op)
            self.env["DEAD"] = DEAD
        guard = " or ".join([f"{self.value_of(t)} is DEAD" for t in dead_inputs]
                            + [f"{self.live_expr[c]} is DEAD" for c in dead_controls])
        index = op._id
        names = self.names

        if op._type == "Const":
            env_name = self.constants.name_for(op._attrs["value"], f"c{index}")
            self.env[env_name] = op._attrs["value"]
            if dead_controls:
                name = self.fresh()
                self.add(f"{name} = DEAD if {guard} else {env_name}", op)
                names[op._outputs[0]] = self.live_expr[op] = name
            else:
                names[op._outputs[0]] = env_name
            return
        if op._type == "NoOp":
            if guarded:
                name = self.fresh()
                self.add(f"{name} = DEAD if {guard} else True", op)
                self.live_expr[op] = name
            return
        if op._type in _ALIASES and op._outputs[0] not in fed:
            source = op._inputs[0]
            if source._op._type in _REF_PRODUCERS and source not in fed:
                expression = f"ctx.read({source._op._name!r})"
                self.variable_reads[op._outputs[0]] = source._op._name
            else:
                expression = self.value_of(source)
            if dead_controls or expression.startswith("ctx."):
                name = self.fresh()
                self.add(f"{name} = DEAD if {guard} else {expression}" if guard else f"{name} = {expression}", op)
                names[op._outputs[0]] = name
            else:
                names[op._outputs[0]] = expression
            if op in self.dead_ops:
                self.live_expr[op] = names[op._outputs[0]]
            return
        if op_def.control_flow:
            self.emit_control_flow(op, guard if guarded else "")
            return
        if not guarded:
            folded = _fold_constant_op(op, names, self.env, fed)
            if folded is not None:
                env_name = self.constants.name_for(folded, f"c{index}")
                self.env[env_name] = folded
                names[op._outputs[0]] = env_name
                return
        args = ["ctx" if op_def.stateful else "xp"]
        for i, t in enumerate(op._inputs):
            if i in ref_inputs:
                continue
            args.append(self.input_of(t, op))
        kwargs = op_def.kernel_kwargs(op)
        mergeable = not (op_def.stateful or guarded or op._control_inputs or op in self.dead_ops)
        key = _call_key(self.block, op, args, kwargs) if mergeable else None
        if key is not None and key in self.computed:
            # The same op on the same values was already computed: reuse its outputs.
            for t, name in zip(op._outputs, self.computed[key], strict=True):
                if t not in fed:
                    names[t] = name
            return
        if (op_def.expression is not None and (self.level > 1 or op._outputs[0].shape.rank == 0)
                and not guarded and self.inplace_plans):
            # Inside a loop, or on scalars (NumPy's scalar operators: 0.04 us where np.add takes 0.8),
            # an operator expression costs a fraction of a kernel call.
            outputs = [self.fresh()]
            names[op._outputs[0]] = outputs[0]
            operands = [self._scalar_constant(a) for a in args[1:]]
            self.add(f"{outputs[0]} = {op_def.expression.format(*operands)}", op)
            if key is not None:
                self.computed[key] = outputs
            return
        shape_sources = (self.shape_keys.sources_of(op, args[1:])
                         if mergeable and self.level == 1 and op._outputs and not op_def.ref_inputs
                         and not any(t in fed for t in op._outputs) else None)
        kernel_name = f"k{index}"
        self.env[kernel_name] = op_def.kernel_for(*self.variant_names)
        for j, (attr, value) in enumerate(kwargs.items()):
            attr_name = f"a{index}_{j}"
            self.env[attr_name] = value
            args.append(f"{attr}={attr_name}")
        outputs = []
        for t in op._outputs:
            outputs.append(self.fresh())
            if t not in fed:
                names[t] = outputs[-1]
        if key is not None:
            self.computed[key] = outputs
        call = f"{kernel_name}({', '.join(args)})"
        if shape_sources is not None:
            self.add(self.shape_keys.call_line(op, shape_sources, names, ", ".join(outputs), call), op)
            return
        self.calls.append(_Call(len(self.lines), op, kernel_name, args[1:], outputs, guarded))
        if not outputs:
            if guarded:
                name = self.fresh()
                self.add(f"{name} = DEAD if {guard} else ({call}, True)[1]", op)
                self.live_expr[op] = name
            else:
                self.add(call, op)
        else:
            target = ", ".join(outputs)
            if guarded:
                self.add(f"{target} = {self._dead_value(len(outputs))} if {guard} else {call}", op)
            else:
                self.add(f"{target} = {call}", op)
            if op in self.dead_ops:
                self.live_expr[op] = outputs[0]
        if op._type in _GIVES_DEAD or (op._type == "_Recv" and op._attrs.get("may_be_dead")):
            self.dead_ops.add(op)
            self.env["DEAD"] = DEAD
            self.live_expr.setdefault(op, outputs[0])
        if op_def.stateful:
            self.stateful = True
            if op_def.ref_inputs:
                self.writes_variables = True

    def _scalar_constant(self, name: str) -> str:
        """A 0-d constant as a NumPy scalar, whose arithmetic with the scalars a loop counter
        holds costs a fraction of a 0-d array's (same values); other names as they are."""
        value = self.env.get(name) if name.startswith("c") else None
        if not (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biufc"):
            return name
        scalar = "s" + name
        self.env[scalar] = value[()]
        return scalar

    def _dead_value(self, n: int) -> str:
        if n == 1:
            return "DEAD"
        name = f"DEAD{n}"
        self.env[name] = (DEAD,) * n
        return name

    def emit_control_flow(self, op: Operation, guard: str) -> None:
        """tf.cond's Switch and Merge outside loop frames (frames are written by `emit_loop`)."""
        outputs = [self.fresh() for _ in op._outputs]
        for t, name in zip(op._outputs, outputs):
            if t not in self.fed:
                self.names[t] = name
        target = ", ".join(outputs)
        if op._type == "Switch":
            data, pred = (self.value_of(t) for t in op._inputs)
            expression = f"(DEAD, {data}) if {pred} else ({data}, DEAD)"
        elif op._type == "Merge":
            self.env["merge"] = _merge
            expression = f"merge({', '.join(self.value_of(t) for t in op._inputs)})"
        else:
            raise InvalidArgumentError(None, op, f"{op.type} node {op.name} is not part of a while loop")
        if guard:
            expression = f"{self._dead_value(len(outputs))} if {guard} else ({expression})"
        self.add(f"{target} = {expression}", op)
        self.calls.append(_Call(len(self.lines) - 1, op, "", [], outputs, True))
        if op in self.dead_ops:
            self.live_expr[op] = outputs[0]


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
    static = op._outputs[0].shape.num_elements()
    if static is not None and static > _FOLD_LIMIT:
        return None  # a large result is computed at run time, not kept alive by the cached plan
    try:
        with np.errstate(all="ignore"):
            result = op_def.kernel(np, *values, **op_def.kernel_kwargs(op))
    except Exception:
        return None  # the error is raised at run time, naming the op
    if not isinstance(result, (np.ndarray, np.generic, int, float, bool, complex)):
        return None
    if np.size(result) > _FOLD_LIMIT:
        return None
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


def _call_key(block: int, op: Operation, args: list[str], kwargs: dict[str, Any]) -> Any:
    """What identifies the values a pure kernel call returns: its block, op type, arguments and attrs
    (None when an attr cannot be compared). Common subexpressions, such as the scale that every
    dropout layer computes from the same fed keep_prob, are then computed once."""
    try:
        return (block, op._type, tuple(args), tuple((k, type(v), _hashable(v)) for k, v in kwargs.items()))
    except TypeError:
        return None


_VALUE = re.compile(r"\bt\d+\b")
_TARGETS = re.compile(r"\s*(t\d+(?:, t\d+)*),? = ")


def _definitions(lines: list[str]) -> dict[str, int]:
    """Name -> the first line that assigns it."""
    defined_at: dict[str, int] = {}
    for i, line in enumerate(lines):
        match = _TARGETS.match(line)
        if match:
            for name in match.group(1).split(", "):
                defined_at.setdefault(name, i)
    return defined_at


def _donate_buffers(lines: list[str], levels: list[int], calls: list[_Call], results: list[str],
                    env: dict[str, Any], headers: frozenset[int] | set[int] = frozenset(),
                    variant_names: tuple[str, ...] = ()) -> None:
    """Switches calls to their op's in-place kernel where the first argument may be overwritten
    (the backend's own in-place variant where it has one, `OpDef.inplace_for`; else NumPy's, also
    ahead of a backend's own variant: writing in place was as fast as numba's threads on the bias
    and ReLU passes, and much faster where their variants hand small arrays to NumPy).

    A value may be overwritten by the call that uses it last when it was returned by a `fresh`
    op (so no variable, feed, constant or other value shares its memory), is not fetched, and
    every other use of it is by a fresh op too (an op that could return a view of it, or keep
    it, would see the write). The in-place call's result is fresh in turn, so `conv + b` then
    `relu` write into the convolution's output. `x + y` and `x * y` may write into y instead
    (a gradient accumulated over a loop's passes). The value, its other uses and the call must be
    in one block, in that order: inside a loop that is one pass of its body (the matmul and
    bias add of an RNN cell), since a loop variable or a value from outside the loop is used
    again by the next pass.
    """
    defined_at = _definitions(lines)
    enclosing, _ = _enclosing_blocks(levels, headers)
    uses: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        for name in set(_VALUE.findall(line)):
            if defined_at.get(name) != i:
                uses.setdefault(name, []).append(i)
    call_at = {call.line: call for call in calls}
    fetched = set(results)
    fresh: set[str] = set()

    def may_overwrite(name: str, call: _Call) -> bool:
        if name not in fresh:
            return False
        block = enclosing[call.line]
        start = defined_at[name]
        others = [i for i in uses[name] if i != call.line]
        return (name not in fetched and enclosing[start] == block
                and all(start < i < call.line and enclosing[i] == block for i in others)
                and all(i in call_at and call_at[i].op._op_def.fresh for i in others))

    for call in calls:
        op_def = call.op._op_def
        inplace = op_def.inplace_for(*variant_names)
        if inplace is not None and call.args:
            name = f"{call.kernel_name}_inplace"
            if may_overwrite(call.args[0], call):
                env[name] = inplace
            elif call.op._type in _COMMUTATIVE and len(call.args) == 2 and may_overwrite(call.args[1], call):
                env[name] = _into_second(inplace)
            if name in env:
                lines[call.line] = lines[call.line].replace(f"{call.kernel_name}(", f"{name}(", 1)
        if op_def.fresh:
            # A guarded call's outputs are DEAD (never written) or fresh.
            fresh.update(call.outputs)


def _into_second(inplace: Any) -> Any:
    """A commutative op's in-place kernel, writing into its second input: x + y computed as y + x,
    the same numbers."""
    def kernel(xp: Any, x: Any, y: Any) -> Any:
        return inplace(xp, y, x)

    return kernel


def _enclosing_blocks(levels: list[int], headers: frozenset[int] | set[int]
                      ) -> tuple[list[tuple[int, ...]], dict[int, int]]:
    """(for each line, the header lines of the blocks around it, outermost first; for each header,
    the last line of its block)."""
    enclosing: list[tuple[int, ...]] = []
    open_blocks: list[int] = []
    block_end: dict[int, int] = {}
    for i, level in enumerate(levels):
        while open_blocks and levels[open_blocks[-1]] >= level:
            open_blocks.pop()
        enclosing.append(tuple(open_blocks))
        for h in open_blocks:
            block_end[h] = i
        if i in headers:
            open_blocks.append(i)
    return enclosing, block_end


def _insert_frees(lines: list[str], levels: list[int], step_ops: list[Any], headers: set[int],
                  results: list[str]) -> tuple[list[str], list[Any]]:
    """Adds `del` statements after the last use of each intermediate value.

    In straight-line code the `del` goes on the last use's line (so line numbers still map
    to ops). A value used inside a loop that it was not computed in is freed after that loop.
    """
    enclosing, block_end = _enclosing_blocks(levels, headers)
    defined_at = _definitions(lines)
    last_use: dict[str, int] = {}
    for i, line in enumerate(lines):
        for name in _VALUE.findall(line):
            last_use[name] = i
    keep = set(results)
    inline: dict[int, list[str]] = {}
    after: dict[int, list[tuple[int, str]]] = {}
    for name, u in last_use.items():
        if name in keep:
            continue
        d = defined_at.get(name, u)
        outer = set(enclosing[d])
        extra = [h for h in enclosing[u] if h not in outer]
        if extra:
            h = extra[0]
            after.setdefault(block_end[h], []).append((levels[h], name))
        elif lines[u].endswith(": break"):
            after.setdefault(u, []).append((levels[u], name))
        else:
            inline.setdefault(u, []).append(name)
    new_lines: list[str] = []
    new_ops: list[Any] = []
    for i, line in enumerate(lines):
        if i in inline:
            line = line + "; del " + ", ".join(sorted(inline[i]))
        new_lines.append(line)
        new_ops.append(step_ops[i])
        if i in after:
            by_level: dict[int, list[str]] = {}
            for level, name in after[i]:
                by_level.setdefault(level, []).append(name)
            for level in sorted(by_level, reverse=True):
                new_lines.append("    " * level + "del " + ", ".join(sorted(by_level[level])))
                new_ops.append(None)
    return new_lines, new_ops
