"""A plan for the jax backend: its ops split into compiled device stages and NumPy host stages.

`build_jax_plan` prunes and orders the ops of one run signature as the NumPy
plan does (`caudal.runtime.plan.prune_and_order`), then gives every item (an
op, or a whole while loop) a kind: `host` for ops that must run in Python
(strings, dataset variants and other resource handles; `py_func`, `Print`,
summaries, checkpoints, file ops; ops whose output shape depends on values:
one-argument `tf.where`, `unique`, `dynamic_partition`; and any op whose
kernel could not be traced), else the device it runs on. TensorArrays and
TensorLists are compiled (`jax_arrays`), all the ops of one of them together
or none. A loop holding any host op runs on the host as a whole.

Items then get a level: the longest chain of kind changes that leads to
them (reads and writes of one variable in run order). The items of one
level and kind form a stage; stages run level by level, so a run alternates
between compiled parts and host parts no more often than its data
dependencies force. Compiled items then move to the latest level their
successors allow, so values computed from shapes stay in the stage that
uses them (known while tracing); a stage's outputs that were known while
tracing reach later stages as known values too. A plan with no host op is
one device stage: one call of one jitted function.

A device stage (`DeviceStage`) is `jax.jit` of one function

    (written variables, read variables, random keys, inputs, large constants)
        -> (outputs, their liveness, new written variables, new keys, check flags)

traced by `caudal.backends.jax_trace.Trace`. The written variables are
donated when no host stage follows (their old buffers are reused); jax
compiles it once per set of input shapes and dtypes, and each new
compilation is logged at debug level on the `caudal` logger. Constants of
more than `STATIC_LIMIT` elements are arguments (uploaded once per plan),
not part of the compiled code. Random ops draw from jax keys kept as
Session resources (`JaxRandomStream`), passed in and returned each run, so
every run draws new numbers and a failed run leaves them as they were.

A host stage is a NumPy plan of its ops (`build_plan` with `restrict`), run
with the Session's run context on the NumPy backend; values cross between
stages as NumPy arrays (to the host) and device arrays (to the device), and
a value on an untaken tf.cond branch crosses as DEAD.

When tracing finds an op it cannot compile, the op joins the plan's host
ops, the stages not yet run are split again and the run goes on: nothing
has run twice, and later runs use the new split.
"""
from __future__ import annotations

import logging
import sys
from typing import Any

import jax
import numpy as np

from caudal import errors
from caudal.backends import jax_arrays, jax_trace
from caudal.framework import dtypes as dtypes_lib
from caudal.runtime import frames
from caudal.runtime.plan import DEAD, build_plan, prune_and_order

__all__ = ["JaxPlan", "build_jax_plan", "RANDOM_OPS", "HOST_OPS", "written_variables"]

_LOG = logging.getLogger("caudal")
HOST = "host"
DEVICE = "device"

# Op types that run on the host whatever their dtypes: side effects in Python, and outputs whose
# shape depends on input values.
HOST_OPS = frozenset([
    "PyFunc", "PyFuncStateless", "Print", "Where", "Unique", "DynamicPartition", "SaveV2", "RestoreV2",
    "MergeV2Checkpoints", "ReadFile", "WriteFile", "MatchingFiles", "ScalarSummary", "HistogramSummary",
    "ImageSummary", "AudioSummaryV2", "TensorSummaryV2", "MergeSummary", "ShardedFilename",
])
_HOST_DTYPES = frozenset([dtypes_lib.string, dtypes_lib.variant, dtypes_lib.resource])
_HANDLE_DTYPES = frozenset([dtypes_lib.variant, dtypes_lib.resource])
# Ops that may hold TensorArray handles and TensorLists in compiled parts (see jax_arrays).
_HANDLE_OPS = jax_arrays.ARRAY_OPS | jax_arrays.LIST_OPS | frozenset(
    ["TensorListPushBack", "Enter", "Exit", "Merge", "Switch", "NextIteration", "Identity", "LoopCond"])
# Random ops draw from a jax key on the device; others (candidate samplers) fall back when they cannot.
RANDOM_OPS = frozenset(["RandomUniform", "RandomStandardNormal", "TruncatedNormal", "RandomUniformInt",
                        "RandomShuffle", "Multinomial", "UniformCandidateSampler", "LogUniformCandidateSampler"])


def written_variables(op: Any) -> tuple[str, ...]:
    """The variables (by store name) that `op` writes: the variable and slots it takes by reference."""
    op_def = op._op_def
    if not op_def.stateful or not op_def.ref_inputs or op._type == "IsVariableInitialized":
        return ()
    kwargs = op_def.bind(op) if op_def.bind is not None else {}
    names = [kwargs["var"]] if "var" in kwargs else []
    return tuple(names) + tuple(kwargs.get("slots", ()))


def _variables_used(op: Any) -> set[str]:
    """The variables `op` reads or writes."""
    names = {t._op._name for t in op._inputs if t._op._type == "VariableV2"}
    names.update(written_variables(op))
    return names


def item_ops(item: Any) -> list[Any]:
    """The ops of an item: the op itself, or every op of a loop (nested loops and exits included)."""
    if not isinstance(item, frames.Loop):
        return [item]
    found = list(item.members) + [v.exit for v in item.vars if v.exit is not None]
    for inner in item.cond_items + item.body_items:
        if isinstance(inner, frames.Loop):
            found.extend(item_ops(inner))
    return found


class JaxPlan:
    """The jax backend's plan of one run signature; the Session calls `function(ctx, *feed_values)`."""

    def __init__(self, backend: Any, fetches: tuple[Any, ...], feeds: tuple[Any, ...]):
        self.backend = backend
        self.fetches = fetches
        self.feeds = feeds
        self.ops, self.items, self.loops = prune_and_order(fetches, feeds)
        self.host_ops: dict[Any, str] = {}  # ops found not to trace, and why
        self.stateful = True  # runs hold the Session's lock: donated buffers must not be read meanwhile
        self.writes_variables = True
        self.may_be_dead = any(op._type == "Switch" for op in self.ops)
        self.fetch_tensors = [f for f in fetches if hasattr(f, "_value_index")]
        self._components = _handle_components(self.ops)
        self.stages = self._settled_partition()
        self.function = self._run

    def op_at_line(self, lineno: int) -> Any:
        return None  # errors are named with their op where they happen

    def device_of(self, op: Any) -> str:
        """The full name of the device `op` runs on in this plan (for log_device_placement)."""
        for stage in self.stages:
            if op in stage.ops:
                return self.backend.device_name(getattr(stage, "device", None), host=isinstance(stage, HostStage))
        return self.backend.device_name(None)  # feeds, constants, variables: where the compiled parts run

    @property
    def device_stages(self) -> list[DeviceStage]:
        return [s for s in self.stages if isinstance(s, DeviceStage)]

    # ------------------------------------------------------------ partition
    def _host_by_itself(self, op: Any) -> bool:
        if op in self.host_ops or op._type in HOST_OPS:
            return True
        handles_allowed = op._type in _HANDLE_OPS
        for t in list(op._inputs) + list(op._outputs):
            dtype = t.dtype.base_dtype
            if dtype in _HOST_DTYPES and not (handles_allowed and dtype in _HANDLE_DTYPES):
                return True
        return False

    def _kind(self, op: Any) -> str:
        component = self._components.get(op)
        if component is not None:
            # The ops that share a TensorArray or TensorList run on the host together, or compiled.
            if any(self._host_by_itself(member) for member in component):
                return HOST
        elif self._host_by_itself(op):
            return HOST
        return self.backend.device_for(op._device)

    def _settled_partition(self) -> list[Any]:
        """The stages of the whole plan, once every TensorArray's ops are in one compiled stage and
        every TensorList's in compiled stages (or all of them on the host)."""
        while True:
            stages = self._partition(self.items, set(self.feeds))
            split = self._split_components(stages)
            if not split:
                return stages
            for op in split:
                self.host_ops.setdefault(op, "its TensorArray or TensorList is also used by a host part of the plan")

    def _split_components(self, stages: list[Any]) -> list[Any]:
        """The ops of TensorArrays and TensorLists that cannot stay compiled: used by host parts too,
        an array in more than one compiled stage, or a handle or list fetched."""
        stage_of = {op: stage for stage in stages for op in stage.ops}
        fetched = {f._op for f in self.fetch_tensors if f.dtype.base_dtype in _HANDLE_DTYPES}
        split = []
        for component in {id(c): c for c in self._components.values()}.values():
            places = {id(stage_of[op]) for op in component if op in stage_of}
            kinds = {type(stage_of[op]) for op in component if op in stage_of}
            if DeviceStage not in kinds:
                continue
            arrays = any(op._type in jax_arrays.ARRAY_OPS for op in component)
            if HostStage in kinds or (arrays and len(places) > 1) or component & fetched:
                split.extend(op for op in component if op not in self.host_ops)
        return split

    def _partition(self, items: list[Any], available: set[Any]) -> list[Any]:
        """Stages for `items` (in run order), whose other inputs are in `available` or constants."""
        kind_of: dict[Any, str] = {}
        producer: dict[Any, Any] = {}  # op -> its item
        for item in items:
            ops = item_ops(item)
            kinds = {self._kind(op) for op in ops}
            # A loop runs in one place: on the host when any of its ops must, else on one device.
            kind_of[id(item)] = HOST if HOST in kinds else kinds.pop() if len(kinds) == 1 else DEVICE
            for op in ops:
                producer[op] = item
        level: dict[int, int] = {}
        preds: dict[int, list[Any]] = {}  # item -> the items it waits for
        # Reads and writes of one variable keep their order (the NumPy plan's: run order), as if each
        # depended on the writes, and each write on the reads, before it.
        last_write: dict[str, Any] = {}
        reads_since: dict[str, list[Any]] = {}
        placed = []
        for item in items:
            if not isinstance(item, frames.Loop) and item._type == "Const":
                continue
            kind = kind_of[id(item)]
            members = set(item_ops(item))
            writes = {name for op in members for name in written_variables(op)}
            reads = {name for op in members for name in _variables_used(op)} - writes
            before = [last_write[name] for name in reads | writes if name in last_write]
            before += [r for name in writes for r in reads_since.get(name, ())]
            for op in members:
                sources = [t._op for t in op._inputs if t not in available] + list(op._control_inputs)
                # A constant is no item of its own, but waits for its control inputs (a tf.cond pivot).
                sources += [c for t in op._inputs if t._op._type == "Const" for c in t._op._control_inputs]
                for src in sources:
                    p = producer.get(src)
                    if p is not None and src not in members and id(p) in level:
                        before.append(p)
            before = [p for p in before if p is not item]
            preds[id(item)] = before
            level[id(item)] = max((level[id(p)] + (kind_of[id(p)] != kind) for p in before), default=0)
            placed.append(item)
            for name in writes:
                last_write[name] = item
                reads_since[name] = []
            for name in reads:
                reads_since.setdefault(name, []).append(item)
        self._as_late_as_possible(placed, level, preds, kind_of)
        self._gather_arrays(placed, level, preds, kind_of)
        groups: dict[tuple[int, str], list[Any]] = {}
        for item in placed:
            groups.setdefault((level[id(item)], kind_of[id(item)]), []).append(item)
        order = sorted(groups, key=lambda key: (key[0], key[1] != HOST, str(key[1])))
        stages: list[Any] = []
        for key in order:
            stage_items = groups[key]
            if key[1] == HOST:
                stages.append(HostStage(self, stage_items))
            else:
                stages.append(DeviceStage(self, stage_items, None if key[1] == DEVICE else key[1]))
        self._connect(stages, available)
        return stages

    @staticmethod
    def _as_late_as_possible(items: list[Any], level: dict[int, int], preds: dict[int, list[Any]],
                             kind_of: dict[int, str]) -> None:
        """Moves each compiled item to the latest level its successors allow: shape arithmetic and
        other inputs of a later stage join that stage, where their values are still known while
        tracing (a TensorArray's size), instead of crossing stages as arguments."""
        succs: dict[int, list[Any]] = {}
        for item in items:
            for p in preds[id(item)]:
                succs.setdefault(id(p), []).append(item)
        for item in reversed(items):
            kind = kind_of[id(item)]
            after = succs.get(id(item))
            if kind == HOST or not after:
                continue
            latest = min(level[id(c)] - (kind_of[id(c)] != kind) for c in after)
            if latest > level[id(item)]:
                level[id(item)] = latest

    def _gather_arrays(self, items: list[Any], level: dict[int, int], preds: dict[int, list[Any]],
                       kind_of: dict[int, str]) -> None:
        """Moves the compiled items of each TensorArray to the latest level among them where their
        successors allow, so that an array's ops share one stage (a TensorArray made before a host
        op the loop that uses it waits for, as dynamic_rnn's sequence-length check)."""
        succs: dict[int, list[Any]] = {}
        for item in items:
            for p in preds[id(item)]:
                succs.setdefault(id(p), []).append(item)
        item_of = {op: item for item in items for op in item_ops(item)}
        seen: set[int] = set()
        for component in self._components.values():
            if id(component) in seen or not any(op._type in jax_arrays.ARRAY_OPS for op in component):
                continue
            seen.add(id(component))
            members = {id(item_of[op]): item_of[op] for op in component if op in item_of}
            compiled = [item for item in members.values() if kind_of[id(item)] != HOST]
            if len({kind_of[id(item)] for item in compiled}) != 1:
                continue
            target = max((level[id(item)] for item in compiled), default=0)
            changed = True
            while changed:
                changed = False
                for item in compiled:
                    if level[id(item)] >= target:
                        continue
                    kind = kind_of[id(item)]
                    if all(level[id(c)] >= target + (kind_of[id(c)] != kind) for c in succs.get(id(item), ())):
                        level[id(item)] = target
                        changed = True

    def _connect(self, stages: list[Any], available: set[Any]) -> None:
        """Each stage's inputs (values made by earlier stages or fed) and outputs (values later
        stages or the fetches need)."""
        made_in: dict[Any, Any] = {}
        for stage in stages:
            for op in stage.ops:
                for t in op._outputs:
                    made_in[t] = stage
        needed: dict[Any, set[Any]] = {id(s): set() for s in stages}
        for stage in stages:
            inputs = []
            seen: set[Any] = set()
            for op in stage.ops:
                for t in op._inputs:
                    source = made_in.get(t)
                    if t in seen or source is stage or t._op._type == "VariableV2":
                        continue
                    if t._op._type == "Const" and t not in available:
                        continue  # a constant is read where it is used (unless it is fed)
                    if source is None and t not in available:
                        continue  # produced inside a loop of this stage (an Exit's input, ...)
                    seen.add(t)
                    inputs.append(t)
                    if source is not None:
                        needed[id(source)].add(t)
            stage.inputs = inputs
        for t in self.fetch_tensors:
            source = made_in.get(t)
            if source is not None:
                needed[id(source)].add(t)
        for stage in stages:
            stage.outputs = sorted(needed[id(stage)], key=lambda t: (t._op._id, t._value_index))
        # Control edges between stages carry whether their source ran (it may be on an untaken branch).
        # (A source outside these stages ran in an earlier stage of this run, before a re-split.)
        stage_of = {op: stage for stage in stages for op in stage.ops}
        for stage in stages:
            for op in stage.ops + stage.const_ops:
                for c in op._control_inputs:
                    source = stage_of.get(c)
                    if source is stage or c in stage.control_inputs:
                        continue
                    stage.control_inputs.append(c)
                    if source is not None and c not in source.control_outputs:
                        source.control_outputs.append(c)
        last_host = max((i for i, s in enumerate(stages) if isinstance(s, HostStage)), default=-1)
        for i, stage in enumerate(stages):
            if isinstance(stage, DeviceStage):
                stage.finish(donate=i > last_host)

    # ------------------------------------------------------------------ run
    def _run(self, ctx: Any, *feed_values: Any) -> tuple:
        ctx.backend = self.backend.host
        ctx.xp = np
        run = _RunState(dict(zip(self.feeds, feed_values)))
        env = run.env
        stages = self.stages
        i = 0
        while i < len(stages):
            stage = stages[i]
            try:
                stage.run(ctx, run)
            except jax_trace.HostOnly as e:
                if e.op is None or e.op in self.host_ops:
                    raise errors.InternalError(None, e.op, f"The jax backend cannot run {e}") from e
                _LOG.debug("caudal jax backend: %s runs on the host: %s", e.op.name, e.reason)
                self.host_ops[e.op] = e.reason
                self.stages = self._settled_partition()
                remaining = [item for s in stages[i:] for item in s.items]
                stages = stages[:i] + self._partition(remaining, set(env) | set(self.feeds))
                continue
            i += 1
        results = []
        for f in self.fetches:
            if not hasattr(f, "_value_index"):
                results.append(None)
                continue
            value = env.get(f, env)
            if value is env:
                op = f._op
                value = ctx.read(op._name) if op._type == "VariableV2" else op._attrs["value"]
            results.append(value)
        on_device = [i for i, v in enumerate(results) if isinstance(v, jax.Array)]
        if on_device:
            fetched = jax.device_get([results[i] for i in on_device])
            for i, value in zip(on_device, fetched):
                results[i] = value
        return tuple(results)


class HostStage:
    """Ops run as a NumPy plan, with the Session's run context."""

    def __init__(self, plan: JaxPlan, items: list[Any]):
        self.plan = plan
        self.items = items
        self.ops = [op for item in items for op in item_ops(item)]
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self.control_inputs: list[Any] = []
        self.control_outputs: list[Any] = []
        self.variables = sorted({name for op in self.ops for name in _variables_used(op)})
        self.written = sorted({name for op in self.ops for name in written_variables(op)})
        # Constants this stage reads: they are part of its NumPy plan (with their control inputs).
        self.const_ops = sorted({t._op for op in self.ops for t in op._inputs if t._op._type == "Const"},
                                key=lambda op: op._id)
        self._plans: dict[Any, Any] = {}

    def _plan_for(self, dead: frozenset, skipped: frozenset) -> tuple[Any, tuple]:
        """The NumPy plan of this stage when the `dead` inputs are DEAD and the `skipped` ops do not
        run (a control input of theirs did not): their outputs are fed as DEAD."""
        found = self._plans.get((dead, skipped))
        if found is None:
            restrict = (set(self.ops) | set(self.const_ops)) - skipped
            feeds = tuple(self.inputs) + tuple(t for op in self.ops + self.const_ops if op in skipped
                                               for t in op._outputs)
            targets = [item for item in self.items if not isinstance(item, frames.Loop) and item not in skipped]
            targets += [v.exit for item in self.items if isinstance(item, frames.Loop) for v in item.vars
                        if v.exit is not None]
            liveness = tuple(op._outputs[0] for op in self.control_outputs if op._outputs)
            plan = build_plan(tuple(self.outputs) + liveness + tuple(targets), feeds, self.plan.backend.host,
                              restrict, dead | frozenset(feeds[len(self.inputs):]))
            found = self._plans[(dead, skipped)] = (plan, feeds[len(self.inputs):])
        return found

    def run(self, ctx: Any, run: _RunState) -> None:
        env, not_run = run.env, run.not_run
        values = [env[t] for t in self.inputs]
        dead = frozenset(t for t, v in zip(self.inputs, values) if v is DEAD)
        on_device = [i for i, v in enumerate(values) if isinstance(v, jax.Array)]
        if on_device:
            for i, value in zip(on_device, jax.device_get([values[i] for i in on_device])):
                values[i] = value
        skipped = frozenset(op for op in self.ops + self.const_ops if any(c in not_run for c in op._control_inputs))
        plan, dead_feeds = self._plan_for(dead, skipped)
        values += [DEAD] * len(dead_feeds)
        # Host kernels see NumPy arrays: variables on the device are viewed (read-only) for this stage,
        # and get their device array back unless the stage wrote them.
        variables = ctx.variables
        viewed = {}
        for name in self.variables:
            value = variables.get(name)
            if isinstance(value, jax.Array):
                view = variables[name] = np.asarray(value)
                viewed[name] = (value, view)
        try:
            with np.errstate(all="ignore"):
                results = plan.function(ctx, *values)
        except Exception as e:
            from caudal.runtime.session import _as_op_error

            raise _as_op_error(e, plan, sys.exc_info()[2]) from e
        finally:
            variables = ctx.variables
            for name, (value, view) in viewed.items():
                if variables.get(name) is view:
                    variables[name] = value
            for name in self.written:
                value = variables.get(name)
                if isinstance(value, np.ndarray) and not value.flags.writeable:
                    variables[name] = value.copy()  # a view of a device buffer that may be donated later
        for t, value in zip(self.outputs, results):
            env[t] = value
        n = len(self.outputs)
        for op, value in zip((op for op in self.control_outputs if op._outputs), results[n:]):
            if value is DEAD:
                not_run.add(op)


class DeviceStage:
    """Ops compiled into one jitted function; see the module docstring."""

    def __init__(self, plan: JaxPlan, items: list[Any], device: Any = None):
        self.plan = plan
        self.backend = plan.backend
        self.items = items
        self.device = device  # a jax device named with tf.device, or None: jax's default device
        self.ops = [op for item in items for op in item_ops(item)]
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self.control_inputs: list[Any] = []
        self.control_outputs: list[Any] = []
        self.const_ops = sorted({t._op for op in self.ops for t in op._inputs if t._op._type == "Const"},
                                key=lambda op: op._id)
        written: set[str] = set()
        used: set[str] = set()
        for op in self.ops:
            written.update(written_variables(op))
            used.update(_variables_used(op))
        self.written = sorted(written)
        # Variables an `Assign(validate_shape=False)` may give another shape: their old values are not
        # donated, so a run that fails can still leave them as they were.
        reshaped = {name for op in self.ops if op._type == "Assign" and not op._attrs.get("validate_shape", True)
                    for name in written_variables(op)}
        self.donated = [n for n in self.written if n not in reshaped]
        self.kept = [n for n in self.written if n in reshaped]
        self.read = sorted(used - written)
        self.randoms = sorted((op for op in self.ops if op._type in RANDOM_OPS), key=lambda op: op._id)
        self.constants = sorted({t for op in self.ops for t in op._inputs
                                 if t._op._type == "Const" and np.size(t._op._attrs["value"]) > jax_trace.STATIC_LIMIT
                                 and t.dtype.base_dtype not in _HOST_DTYPES}, key=lambda t: t._op._id)
        self._constant_values: list[Any] | None = None
        self.compiles = 0
        self._check_makers: list[Any] = []
        self._host_twin: HostStage | None = None
        self.known_outputs: set[int] = set()  # outputs known while tracing (from shapes): passed as such
        self.donate = False
        self._jitted: Any = None
        self._seen = 0

    def finish(self, donate: bool) -> None:
        self.donate = donate and bool(self.donated)
        self._jitted = jax.jit(self._traced, donate_argnums=(0,) if self.donate else (), static_argnums=(6, 7))

    # -------------------------------------------------------------- tracing
    def _traced(self, donated: list[Any], kept: list[Any], read: list[Any], keys: list[Any], inputs: list[Any],
                constants: list[Any], not_run: tuple[Any, ...], known: tuple[Any, ...] = ()) -> tuple:
        variables = dict(zip(self.donated, donated))
        variables.update(zip(self.kept, kept))
        variables.update(zip(self.read, read))
        env = {t: DEAD if v is None else v for t, v in zip(self.inputs, inputs)}
        for value in known:  # inputs known while tracing: values computed from shapes in earlier stages
            env[self.inputs[value.position]] = value.array
        key_by_name = {op._name: k for op, k in zip(self.randoms, keys)}
        trace = jax_trace.Trace(self.backend, env, variables, key_by_name, dict(zip(self.constants, constants)),
                                not_run)
        with jax.default_matmul_precision(self.backend.matmul_precision):
            trace.run_items(self.items)
        values, lives = [], []
        for t in self.outputs:
            v = trace.value(t)
            if v is DEAD:
                values.append(None)
                lives.append(None)
            elif type(v) is jax_trace.Cond:
                values.append(v.value)
                lives.append(v.live)
            else:
                values.append(v)
                lives.append(None)
        new_donated = [variables.get(n) for n in self.donated]
        new_kept = [variables.get(n) for n in self.kept]
        flags: Any = None
        payloads: list[Any] = []
        if trace.checks:
            import jax.numpy as jnp

            flags = jnp.stack([jnp.asarray(bad).reshape(()) for bad, _, _ in trace.checks])
            failed = jnp.any(flags)
            new_donated = [new if old is None or new is None else jnp.where(failed, old, new)
                           for new, old in zip(new_donated, donated)]
            payloads = [list(payload) for _, _, payload in trace.checks]
            first = len(self._check_makers)
            self._check_makers.extend(make for _, make, _ in trace.checks)
            payloads.append(np.arange(first, len(self._check_makers)))
        new_keys = [trace.keys[op._name] for op in self.randoms]
        ran = [trace.op_live.get(op, True) for op in self.control_outputs]
        self.known_outputs = {i for i, v in enumerate(values) if v is not None and jax_trace.is_static(v)
                              and np.size(v) <= _KNOWN_LIMIT}
        return values, lives, new_donated, new_kept, new_keys, flags, payloads, ran

    # ------------------------------------------------------------------ run
    def _on_host(self) -> HostStage:
        """This stage's ops as a host stage with the same inputs and outputs."""
        if self._host_twin is None:
            twin = HostStage(self.plan, self.items)
            twin.inputs, twin.outputs = self.inputs, self.outputs
            twin.control_inputs, twin.control_outputs = self.control_inputs, self.control_outputs
            self._host_twin = twin
        return self._host_twin

    def _keys(self, ctx: Any) -> list[Any]:
        keys = []
        backend = self.backend
        for op in self.randoms:
            attrs = op._attrs
            seed, seed2 = attrs.get("seed", 0), attrs.get("seed2", 0)
            stream = ctx.resource(("jax_random", op._name), lambda s=seed, s2=seed2: backend.random_stream(s, s2))
            keys.append(stream)
        return keys

    def run(self, ctx: Any, run: _RunState) -> None:
        env, not_run = run.env, run.not_run
        variables = ctx.variables
        donated = [variables.get(n) for n in self.donated]
        kept = [variables.get(n) for n in self.kept]
        read = [variables.get(n) for n in self.read]
        streams = self._keys(ctx) if self.randoms else []
        inputs = [None if v is DEAD else v for v in (env[t] for t in self.inputs)]
        known = tuple(_Known(i, inputs[i]) for i, t in enumerate(self.inputs) if t in run.known)
        for value in known:
            inputs[value.position] = None
        if self._constant_values is None:
            self._constant_values = [jax.device_put(t._op._attrs["value"], self.device) for t in self.constants]
        skipped = tuple(op for op in self.control_inputs if op in not_run)
        if self.device is not None:
            donated, kept, read, inputs = jax.device_put((donated, kept, read, inputs), self.device)
        keys = [s.key for s in streams]
        if self.device is not None:
            keys = jax.device_put(keys, self.device)
        out = self._jitted(donated, kept, read, keys, inputs, self._constant_values, skipped, known)
        size = self._jitted._cache_size()
        if size != self._seen:
            self._seen = size
            self.compiles += 1
            _LOG.debug("caudal jax backend: compiled a stage of %d ops for inputs %s", len(self.ops),
                       [(tuple(np.shape(v)), str(getattr(v, "dtype", type(v).__name__))) for v in inputs])
        values, lives, new_donated, new_kept, new_keys, flags, payloads, ran = out
        if flags is not None:
            failed = np.asarray(flags)
            if failed.any():
                # The donated variables came back unchanged: their old buffers are gone from the store.
                for name, value in zip(self.donated, new_donated):
                    if value is not None:
                        ctx.store.variables[name] = variables[name] = value
                k = int(np.argmax(failed))
                make, op = self._check_makers[int(np.asarray(payloads[-1])[k])]
                if make is jax_trace.RERUN:
                    # A check in a while loop failed: this stage runs again on the host, whose NumPy
                    # kernels raise the error (or, should they find nothing wrong, give the results).
                    self._on_host().run(ctx, run)
                    return
                error = make(*jax.device_get(payloads[k]))
                raise jax_trace.op_error(error, op)
        for name, value in zip(self.donated + self.kept, new_donated + new_kept):
            if value is not None:
                variables[name] = value
        for stream, key in zip(streams, new_keys):
            stream.key = key
        for i, (t, value, live) in enumerate(zip(self.outputs, values, lives)):
            if value is None or (live is not None and not bool(live)):
                env[t] = DEAD
            elif i in self.known_outputs:
                env[t] = np.asarray(value)  # known while tracing: later stages know it too
                run.known.add(t)
            else:
                env[t] = value
        for op, live in zip(self.control_outputs, ran):
            if not bool(live):
                not_run.add(op)


_KNOWN_LIMIT = 64  # outputs of at most this many elements known while tracing are passed on as known


class _RunState:
    """What one run's stages share: tensor values, ops that did not run, tensors known from shapes."""

    __slots__ = ("env", "not_run", "known")

    def __init__(self, env: dict[Any, Any]):
        self.env = env
        self.not_run: set[Any] = set()  # ops of finished stages that did not run (untaken tf.cond branches)
        self.known: set[Any] = set()


class _Known:
    """A stage input known while tracing (a size computed from shapes): part of the compiled
    function's signature, so a new value compiles anew."""

    __slots__ = ("position", "array", "_key")

    def __init__(self, position: int, value: Any):
        self.position = position
        self.array = np.asarray(value)
        self._key = (position, self.array.dtype.str, self.array.shape, self.array.tobytes())

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Known) and other._key == self._key


def _handle_components(ops: list[Any]) -> dict[Any, frozenset]:
    """Op -> the ops that share TensorArrays or TensorLists with it: connected by resource and variant
    tensors (handles, lists), and gradient arrays joined to their forward arrays."""
    members = set(ops)
    parent: dict[Any, Any] = {}

    def find(op: Any) -> Any:
        root = op
        while parent.get(root, root) is not root:
            root = parent[root]
        while op is not root:  # path compression
            parent[op], op = root, parent[op]
        return root

    def union(a: Any, b: Any) -> None:
        ra, rb = find(a), find(b)
        if ra is not rb:
            parent[ra] = rb

    involved = set()
    for op in ops:
        for t in op._outputs:
            if t.dtype.base_dtype in _HANDLE_DTYPES:
                involved.add(op)
                for consumer in t._consumers:
                    if consumer in members:
                        involved.add(consumer)
                        union(op, consumer)
    groups: dict[Any, set] = {}
    for op in involved:
        if op._type in jax_arrays.ARRAY_OPS or op._type in jax_arrays.LIST_OPS or op._type == "TensorListPushBack":
            groups.setdefault(find(op), set())
    for op in involved:
        root = find(op)
        if root in groups:
            groups[root].add(op)
    return {op: frozenset(group) for group in groups.values() for op in group}


def build_jax_plan(fetches: tuple[Any, ...], feeds: tuple[Any, ...], backend: Any) -> JaxPlan:
    """The jax backend's plan for fetching `fetches` given `feeds` (see JaxPlan)."""
    return JaxPlan(backend, fetches, feeds)

