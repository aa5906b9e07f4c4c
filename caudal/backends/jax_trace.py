"""Tracing one part of a plan with jax: the ops run once, on jax tracers, when jax compiles it.

`Trace` walks the items of a device stage (ops and `frames.Loop`s, in run
order) inside the function that `jax.jit` traces, so its Python cost is paid
once per compilation, not per run. What it does per op:

- values known while tracing (small constants, shapes: `tf.shape(x)` of a
  traced `x` is static) stay NumPy arrays, and a pure op whose inputs are all
  static runs its portable kernel on NumPy, as constant folding does: shape
  arithmetic never reaches XLA. Every other op runs its `jax` variant, or its
  portable kernel, with `jax.numpy` as `xp`; its outputs are cast to the
  dtype the graph says;
- tf.cond: a value on a branch carries its liveness (`Cond`: the value and a
  traced boolean). A Switch on a static predicate routes as the NumPy plan
  does (the untaken side is DEAD and never runs); on a traced predicate both
  sides are computed, each live under its condition, and a Merge selects the
  live input (`jnp.where`). Stateful ops on a branch write, draw and check
  only when live, so the untaken branch changes nothing;
- a while loop becomes `lax.while_loop` over its loop variables and the
  variables and random keys its body changes;
- stateful kernels see a `TraceContext` (`read`, `write`, `has`, `keep`,
  `random_stream`) over the stage's variable values and random keys.

A kernel that cannot be traced (it needs a value, makes a shape from one,
or uses something jax lacks) raises; the trace turns that into `HostOnly`
naming the op, and the plan runs that op on the host instead (see
`caudal.backends.jax_plan`). Errors a kernel raises on purpose (`OpError`s,
from shape checks) are the run's errors, named with the op.
"""
from __future__ import annotations

import threading
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from caudal import errors
from caudal.backends import jax_arrays
from caudal.framework import dtypes as dtypes_lib
from caudal.runtime import frames
from caudal.runtime.plan import DEAD

__all__ = ["Cond", "HostOnly", "Trace", "TraceContext", "STATIC_LIMIT", "op_error", "current_trace", "RERUN"]

# Static results up to this many elements stay NumPy values while tracing (larger ones are traced,
# so XLA does not embed them as constants).
STATIC_LIMIT = 1 << 12
_ALIASES = frozenset(["Identity", "StopGradient", "Snapshot", "LoopCond"])
_MERGE_INDEX = tuple(np.array(i, np.int32) for i in range(64))
_local = threading.local()
# The error maker of a check inside a while loop: the loop carries one flag for all its checks, and a
# run whose flag is set runs its stage again on the host, where the NumPy kernels raise the error.
RERUN: Any = object()


class HostOnly(Exception):
    """`op` cannot run in a compiled part of the plan; `reason` says why."""

    def __init__(self, op: Any, reason: str):
        super().__init__(f"{op.name} ({op.type}): {reason}")
        self.op = op
        self.reason = reason


class Cond:
    """A value on a tf.cond branch: `value`, which counts only where the traced boolean `live` holds."""

    __slots__ = ("value", "live")

    def __init__(self, value: Any, live: Any):
        self.value = value
        self.live = live


def current_trace() -> Trace | None:
    """The Trace running on this thread, for kernels that record run-time checks."""
    return getattr(_local, "trace", None)


def is_static(value: Any) -> bool:
    return not isinstance(value, jax.Array)


def _and(a: Any, b: Any) -> Any:
    if a is True:
        return b
    if b is True:
        return a
    return jnp.logical_and(a, b)


def _or(a: Any, b: Any) -> Any:
    if a is True or b is True:
        return True
    return jnp.logical_or(a, b)


def _location(op: Any) -> str:
    return f"\n\t [[{{{{node {op.name}}}}}]] (op '{op.type}' defined at {op.where_defined()})"


def op_error(error: Exception, op: Any) -> Exception:
    """`error`, raised by `op`'s kernel, as the Session reports kernel errors: naming the op."""
    if isinstance(error, errors.OpError):
        return type(error)(None, error.op or op, error.message + _location(op))
    if isinstance(error, (ValueError, TypeError, IndexError, ArithmeticError, KeyError)):
        return errors.InvalidArgumentError(None, op, f"{type(error).__name__}: {error}{_location(op)}")
    return errors.InternalError(None, op, f"{type(error).__name__}: {error}{_location(op)}")


class TraceStream:
    """A random op's stream while tracing: a jax key, split once per draw (see JaxRandomStream)."""

    __slots__ = ("key", "trace", "name")

    def __init__(self, key: Any, trace: Trace, name: str):
        self.key = key
        self.trace = trace
        self.name = name

    def _next(self) -> Any:
        new_key, sub = jax.random.split(self.key)
        live = self.trace.context.live
        self.key = new_key if live is True else jnp.where(live, new_key, self.key)
        self.trace.keys[self.name] = self.key
        return sub

    def uniform(self, shape: tuple[int, ...], dtype: Any) -> Any:
        return jax.random.uniform(self._next(), shape, dtype)

    def normal(self, shape: tuple[int, ...], dtype: Any) -> Any:
        return jax.random.normal(self._next(), shape, dtype)

    def truncated_normal(self, shape: tuple[int, ...], dtype: Any) -> Any:
        """Standard normal values within two standard deviations."""
        return jax.random.truncated_normal(self._next(), -2.0, 2.0, shape, dtype)

    def integers(self, low: Any, high: Any, shape: tuple[int, ...], dtype: Any) -> Any:
        return jax.random.randint(self._next(), shape, low, high, dtype)

    def permutation(self, n: int) -> Any:
        return jax.random.permutation(self._next(), n)


class TraceContext:
    """What stateful kernels see while a stage is traced: the stage's variables and random keys."""

    def __init__(self, trace: Trace, backend: Any):
        self.trace = trace
        self.backend = backend
        self.xp = jnp
        self.live: Any = True  # where the op being run counts (False never reaches a kernel)
        self.op: Any = None

    def read(self, name: str) -> Any:
        value = self.trace.variables.get(name)
        if value is None:
            raise errors.FailedPreconditionError(None, None, f"Attempting to use uninitialized value {name}")
        return value

    def has(self, name: str) -> bool:
        return self.trace.variables.get(name) is not None

    def write(self, name: str, value: Any) -> None:
        value = jnp.asarray(value)
        if self.live is not True:
            old = self.trace.variables.get(name)
            if old is None or jnp.shape(old) != value.shape:
                raise HostOnly(self.op, "a variable written on a tf.cond branch without a value of the same shape")
            value = jnp.where(self.live, value, old)
        self.trace.variables[name] = value

    def keep(self, value: Any) -> Any:
        return value

    def random_stream(self, op: Any) -> TraceStream:
        stream = self.trace.streams.get(op._name)
        if stream is None:
            raise HostOnly(op, "no random key for this op in the compiled part")
        return stream

    def __getattr__(self, name: str) -> Any:
        # Resources, step resources, the session: host state a compiled part cannot hold.
        raise HostOnly(self.op, f"its kernel uses the run context's {name!r}")


class Trace:
    """One tracing of a device stage: see the module docstring.

    `env` maps tensors to values (NumPy arrays, jax tracers, `Cond`s or DEAD);
    `variables` maps variable names to values (None: not initialized); `keys`
    maps random ops to their keys; `checks` collects run-time checks.
    """

    def __init__(self, backend: Any, env: dict[Any, Any], variables: dict[str, Any], keys: dict[str, Any],
                 big_constants: dict[Any, Any], dead_controls: tuple[Any, ...] = ()):
        self.backend = backend
        self.env = env
        self.variables = variables
        self.keys = keys
        self.streams = {name: TraceStream(key, self, name) for name, key in keys.items()}
        self.big_constants = big_constants
        # Where each op ran (True, False, or a traced boolean); ops of earlier stages that did not run.
        self.op_live: dict[Any, Any] = {op: False for op in dead_controls}
        self.context = TraceContext(self, backend)
        self.checks: list[tuple[Any, Any, tuple]] = []
        self.loop_depth = 0
        self.loop_failed: Any = None  # inside a while loop: whether a check of this iteration failed
        self.loop_checks = 0
        self.arrays: dict[Any, Any] = {}  # TensorArray contents by array (see jax_arrays)
        self.list_shapes: dict[Any, Any] = {}  # EmptyTensorList op -> (declared element shape, dtype)
        self.probing: dict[Any, Any] | None = None  # while a loop is traced for its element shapes

    # --------------------------------------------------------------- checks
    def check(self, bad: Any, make_error: Any, *payload: Any) -> None:
        """Records a run-time check: when `bad` (a traced boolean) holds, the run raises
        `make_error(*payload as NumPy values)` and changes nothing."""
        op = self.context.op
        live = self.context.live
        bad = jnp.asarray(bad, bool) if live is True else jnp.logical_and(live, bad)
        if self.loop_depth:
            self.loop_failed = jnp.logical_or(self.loop_failed, bad)
            self.loop_checks += 1
            return
        self.checks.append((bad, (make_error, op), payload))

    # ---------------------------------------------------------------- values
    def value(self, t: Any) -> Any:
        found = self.env.get(t, self)
        if found is not self:
            return found
        op = t._op
        if op._type == "VariableV2":
            return self.context.read(op._name)
        if op._type == "Const":
            big = self.big_constants.get(t)
            value = big if big is not None else op._attrs["value"]
            live: Any = True
            for c in op._control_inputs:  # a constant on a tf.cond branch depends on its pivot
                live = _and(live, self.op_live.get(c, True))
            value = DEAD if live is False else value if live is True else Cond(value, live)
            self.env[t] = value
            return value
        raise AssertionError(f"{t.name} is used before it is computed")

    # ----------------------------------------------------------------- items
    def run_items(self, items: list[Any]) -> None:
        outer = getattr(_local, "trace", None)
        _local.trace = self
        try:
            for item in items:
                if isinstance(item, frames.Loop):
                    self.run_loop(item)
                else:
                    self.run_op(item)
        finally:
            _local.trace = outer

    def _inputs(self, op: Any) -> tuple[list[Any], Any] | None:
        """(input values without liveness, where the op is live), or None when it does not run."""
        live: Any = True
        for c in op._control_inputs:  # first: an op on an untaken branch reads no variable
            c_live = self.op_live.get(c, True)
            if c_live is False:
                return None
            live = _and(live, c_live)
        values = []
        ref_inputs = op._op_def.ref_inputs
        for i, t in enumerate(op._inputs):
            if i in ref_inputs:
                continue
            v = self.value(t)
            if v is DEAD:
                return None
            if type(v) is Cond:
                live = _and(live, v.live)
                v = v.value
            values.append(v)
        return values, live

    def _set_outputs(self, op: Any, values: list[Any], live: Any) -> None:
        self.op_live[op] = live
        env = self.env
        for t, v in zip(op._outputs, values):
            if live is True or v is DEAD:
                env[t] = v
            elif type(v) is Cond:
                env[t] = Cond(v.value, _and(live, v.live))
            else:
                env[t] = Cond(v, live)

    def _dead(self, op: Any) -> None:
        self.op_live[op] = False
        for t in op._outputs:
            self.env[t] = DEAD

    def run_op(self, op: Any) -> None:
        kind = op._type
        if kind == "Const":
            self.value(op._outputs[0])
            return
        if kind == "Merge":
            self._merge(op)
            return
        if kind in ("Enter", "Exit", "NextIteration"):
            raise HostOnly(op, "a loop op outside the loop structure")
        if kind == "TensorListPushBack":
            try:
                jax_arrays.push(self, op)
            except (HostOnly, errors.OpError):
                raise
            except Exception as e:  # noqa: BLE001 - a case the compiled lists do not cover
                raise HostOnly(op, f"{type(e).__name__}: {e}") from e
            return
        found = self._inputs(op)
        if found is None:
            self._dead(op)
            return
        values, live = found
        if kind == "Switch":
            data, pred = values
            if is_static(pred):
                outputs = [DEAD, data] if bool(pred) else [data, DEAD]
                self._set_outputs(op, outputs, live)
                return
            pred = jnp.asarray(pred, bool)
            self.op_live[op] = live
            self.env[op._outputs[0]] = Cond(data, _and(live, jnp.logical_not(pred)))
            self.env[op._outputs[1]] = Cond(data, _and(live, pred))
            return
        if kind in _ALIASES or kind == "NoOp":
            self._set_outputs(op, values[:1] if op._outputs else [], live)
            return
        handler = jax_arrays.HANDLERS.get(kind)
        if handler is not None:
            self.context.op, self.context.live = op, live
            try:
                outputs = handler(self, op, values, live)
            except (HostOnly, errors.OpError):
                raise
            except Exception as e:  # noqa: BLE001 - a case the compiled arrays do not cover
                raise HostOnly(op, f"{type(e).__name__}: {e}") from e
            self._set_outputs(op, outputs, live)
            return
        self._set_outputs(op, self._call(op, values, live), live)

    def _call(self, op: Any, values: list[Any], live: Any) -> list[Any]:
        op_def = op._op_def
        kwargs = self.backend.kernel_kwargs(op)
        n_out = len(op._outputs)
        static = (not op_def.stateful and all(is_static(v) for v in values)
                  and all(np.size(v) <= STATIC_LIMIT for v in values) and _small_outputs(op))
        context = self.context
        context.op, context.live = op, live
        try:
            if static:
                with np.errstate(all="ignore"):
                    result = op_def.kernel(np, *values, **kwargs)
                outputs = [result] if n_out == 1 else list(result) if n_out else []
                if all(np.size(v) <= STATIC_LIMIT for v in outputs):
                    return [_as_static(v, t) for v, t in zip(outputs, op._outputs)]
            kernel = op_def.kernel_for("jax")
            result = kernel(context if op_def.stateful else jnp, *values, **kwargs)
        except (HostOnly, errors.OpError):
            raise
        except Exception as e:  # noqa: BLE001 - anything a kernel cannot do on tracers
            if static:
                raise op_error(e, op) from e  # NumPy itself refused these values: the run's error
            raise HostOnly(op, f"{type(e).__name__}: {e}") from e
        outputs = [result] if n_out == 1 else list(result) if n_out else []
        if len(outputs) != n_out:
            raise HostOnly(op, f"its kernel returned {len(outputs)} values for {n_out} outputs")
        return [_as_traced(v, t, op) for v, t in zip(outputs, op._outputs)]

    def _merge(self, op: Any) -> None:
        candidates = []
        controls_live: Any = True
        for c in op._control_inputs:
            controls_live = _and(controls_live, self.op_live.get(c, True))
        for index, t in enumerate(op._inputs):
            v = self.value(t)
            if v is DEAD:
                continue
            if type(v) is Cond:
                candidates.append((v.value, v.live, index))
            else:
                candidates.append((v, True, index))
                break  # a live input: the ones after it are never chosen
        if not candidates or controls_live is False:
            self._dead(op)
            return
        value, live, index = candidates[-1]
        index_value: Any = _MERGE_INDEX[index]
        for v, v_live, i in reversed(candidates[:-1]):
            if jnp.shape(v) != jnp.shape(value) or jnp.result_type(v) != jnp.result_type(value):
                raise HostOnly(op, "tf.cond branches of different shapes under a run-time predicate")
            value = jnp.where(v_live, v, value)
            index_value = jnp.where(v_live, _MERGE_INDEX[i], index_value)
            live = _or(live, v_live)
        self._set_outputs(op, [value, index_value], _and(live, controls_live))

    # ----------------------------------------------------------------- loops
    def run_loop(self, loop: frames.Loop) -> None:
        """A frame as `lax.while_loop`, carrying its loop variables (TensorLists included) and the
        variables, random keys and TensorArrays its ops change, and one flag for its checks."""
        live: Any = True
        initial = []
        for t in loop.inputs:
            v = self.value(t)
            if v is DEAD:
                for var in loop.vars:
                    if var.exit is not None:
                        self._dead(var.exit)
                return
            if type(v) is Cond:
                live = _and(live, v.live)
                v = v.value
            initial.append(v)
        n_vars = len(loop.vars)
        for enter, v in zip(loop.invariants, initial[n_vars:]):
            self.env[enter._outputs[0]] = v
        written, randoms, arrays = _loop_state(loop)
        for name in written:
            if self.variables.get(name) is None:
                raise HostOnly(loop.loop_cond, f"variable {name} is written in a while loop before it has a value")
        names = sorted(written)
        streams = sorted(randoms & set(self.streams))
        if len(streams) != len(randoms):
            raise HostOnly(loop.loop_cond, "a random op in the loop has no key in the compiled part")
        keys = self._loop_arrays(loop, arrays)
        values = list(initial[:n_vars])
        if any(isinstance(v, jax_arrays.ListValue) and v.buffer is None for v in values) or any(
                self.arrays[k].buffer is None for k in keys):
            values = self._allocate(loop, values, keys, names, streams)
        carry0 = (jax.tree_util.tree_map(jnp.asarray, values), [self.variables[n] for n in names],
                  [self.streams[n].key for n in streams], jnp.asarray(False), self._array_carry(keys))
        outer_env = self.env
        outer_failed = self.loop_failed
        checks_before = self.loop_checks
        checked_in_predicate = []

        def enter(carry: Any) -> None:
            var_values, variables, random_keys, failed, states = carry
            self.loop_failed = failed
            self.env = dict(outer_env)
            for var, value in zip(loop.vars, var_values):
                for t in (var.enter._outputs[0], var.merge._outputs[0]):
                    self.env[t] = value
                self.env[var.merge._outputs[1]] = _MERGE_INDEX[1]
                if var.switch is not None:
                    self.env[var.switch._outputs[0]] = self.env[var.switch._outputs[1]] = value
            for n, value in zip(names, variables):
                self.variables[n] = value
            for n, key in zip(streams, random_keys):
                self.streams[n].key = self.keys[n] = key
            for k, (buffer, was_written, was_read) in zip(keys, states):
                state = self.arrays[k]
                state.buffer, state.written, state.read = buffer, was_written, was_read

        def predicate(carry: Any) -> Any:
            enter(carry)
            self.run_items(loop.cond_items)
            if self.loop_failed is not carry[3]:
                checked_in_predicate.append(True)
            pred = self.value(loop.loop_cond._inputs[0])
            if type(pred) is Cond:
                pred = jnp.logical_and(pred.live, pred.value)
            return jnp.reshape(jnp.asarray(pred, bool), ())

        def body(carry: Any) -> Any:
            enter(carry)
            self.run_items(loop.cond_items)
            self.run_items(loop.body_items)
            nexts = []
            for var, start in zip(loop.vars, carry[0]):
                v = self.value(var.next._inputs[0])
                if v is DEAD:
                    raise HostOnly(var.next, "a loop variable that is DEAD after an iteration")
                v = jax.tree_util.tree_map(jnp.asarray, v.value if type(v) is Cond else v)
                if self.probing is None and not _same_layout(v, start):
                    raise HostOnly(var.next, "a loop variable that changes shape")
                if self.probing is None:
                    v = jax.tree_util.tree_map(lambda a, b: a.astype(b.dtype), v, start)
                nexts.append(v)
            return (nexts, [jnp.asarray(self.variables[n]) for n in names],
                    [self.streams[n].key for n in streams], self.loop_failed, self._array_carry(keys))

        self.loop_depth += 1
        try:
            final = lax.while_loop(predicate, body, carry0)
            failed = final[3]
            if checked_in_predicate:  # the last test of the predicate, which ended the loop, checks too
                enter(final)
                self.run_items(loop.cond_items)
                failed = self.loop_failed
        finally:
            self.loop_depth -= 1
            self.env = outer_env
            self.loop_failed = outer_failed
        values, var_values, random_keys, _, states = final
        if live is not True:
            var_values = [jnp.where(live, new, old) for new, old in zip(var_values, carry0[1])]
            random_keys = [jnp.where(live, new, old) for new, old in zip(random_keys, carry0[2])]
            states = jax.tree_util.tree_map(lambda new, old: jnp.where(live, new, old), states, carry0[4])
        for n, value in zip(names, var_values):
            self.variables[n] = value
        for n, key in zip(streams, random_keys):
            self.streams[n].key = self.keys[n] = key
        for k, (buffer, was_written, was_read) in zip(keys, states):
            state = self.arrays[k]
            state.buffer, state.written, state.read = buffer, was_written, was_read
        for var, value in zip(loop.vars, values):
            if var.exit is not None:
                self._set_outputs(var.exit, [value], live)
        if self.loop_checks != checks_before:
            context = self.context
            context.op, context.live = loop.loop_cond, live
            self.check(failed, RERUN)

    def _array_carry(self, keys: list[Any]) -> list[Any]:
        return [(jnp.asarray(self.arrays[k].buffer), jnp.asarray(self.arrays[k].written),
                 jnp.asarray(self.arrays[k].read)) for k in keys]

    def _loop_arrays(self, loop: frames.Loop, keys: set[Any]) -> list[Any]:
        """The TensorArrays the loop touches, in a fixed order; gradient arrays the loop's ops make
        are made before it (a gradient array is the same array every iteration)."""
        ordered = sorted(keys, key=lambda k: (isinstance(k, tuple), str(k)))
        for k in ordered:
            if k in self.arrays:
                continue
            if not isinstance(k, tuple) or k[0] not in self.arrays:
                raise HostOnly(loop.loop_cond, "a TensorArray the loop uses is not made before it")
            grad_op = next(op for op in _loop_members(loop) if op._type in ("TensorArrayGradV3",
                                                                             "TensorArrayGradWithShape")
                           and jax_arrays.array_key(op._outputs[0]) == k)
            if grad_op._type == "TensorArrayGradWithShape":
                raise HostOnly(grad_op, "a gradient array with a prepended shape made inside a while loop")
            jax_arrays.HANDLERS["TensorArrayGradV3"](self, grad_op, [self.arrays[k[0]].ref, np.float32(0)], True)
        return ordered

    def _allocate(self, loop: frames.Loop, values: list[Any], keys: list[Any], names: list[str],
                  streams: list[str]) -> list[Any]:
        """Buffers for the loop's TensorLists (as many elements as its iteration bound) and for its
        TensorArrays, of the element shapes the graph declares or, else, one abstract iteration shows."""
        bound = self._iteration_bound(loop)
        if bound is None and any(isinstance(v, jax_arrays.ListValue) and v.buffer is None for v in values):
            raise HostOnly(loop.loop_cond, "a while loop that pushes to a TensorList without an iteration bound")
        found: dict[Any, Any] = {}
        for v in values:
            if isinstance(v, jax_arrays.ListValue) and v.buffer is None:
                declared, dtype = self.list_shapes.get(v.origin, (None, None))
                if declared is not None and None not in declared:
                    found[v.origin] = (declared, dtype)
        missing = [v.origin for v in values if isinstance(v, jax_arrays.ListValue) and v.buffer is None
                   and v.origin not in found] + [k for k in keys if self.arrays[k].buffer is None]
        if missing:
            found.update(self._probe(loop, values, keys, names, streams))
        allocated = []
        for v in values:
            if isinstance(v, jax_arrays.ListValue) and v.buffer is None:
                if v.origin not in found:
                    raise HostOnly(loop.loop_cond, "a TensorList whose element shape is not known")
                shape, dtype = found[v.origin]
                v = jax_arrays.ListValue(jnp.zeros((bound,) + tuple(shape), dtype), jnp.zeros(bound, bool),
                                         v.length, v.origin)
            allocated.append(v)
        for k in keys:
            state = self.arrays[k]
            if state.buffer is None:
                if k not in found:
                    raise HostOnly(loop.loop_cond, "a TensorArray whose element shape is not known")
                shape, dtype = found[k]
                state.buffer = jnp.zeros((state.ref.size,) + tuple(shape), dtype)
        return allocated

    def _probe(self, loop: frames.Loop, values: list[Any], keys: list[Any], names: list[str],
               streams: list[str]) -> dict[Any, Any]:
        """The shapes of what one iteration pushes to unallocated lists and writes to unallocated
        arrays, from an abstract trace of the loop (which changes nothing of this trace)."""
        saved = (dict(self.env), dict(self.variables), dict(self.keys), {n: s.key for n, s in self.streams.items()},
                 list(self.checks), self.loop_failed, self.loop_checks, dict(self.op_live),
                 {k: (a.buffer, a.written, a.read) for k, a in self.arrays.items()}, self.probing)
        self.probing = {}
        self.loop_depth += 1
        try:
            def one_iteration(var_values: Any) -> Any:
                self.env = dict(saved[0])
                for var, value in zip(loop.vars, var_values):
                    for t in (var.enter._outputs[0], var.merge._outputs[0]):
                        self.env[t] = value
                    self.env[var.merge._outputs[1]] = _MERGE_INDEX[1]
                    if var.switch is not None:
                        self.env[var.switch._outputs[0]] = self.env[var.switch._outputs[1]] = value
                self.loop_failed = jnp.asarray(False)
                self.run_items(loop.cond_items)
                self.run_items(loop.body_items)
                return 0

            jax.eval_shape(one_iteration, jax.tree_util.tree_map(jnp.asarray, values))
            return dict(self.probing)
        finally:
            self.loop_depth -= 1
            (self.env, variables, keys, stream_keys, self.checks, self.loop_failed, self.loop_checks,
             self.op_live, states, self.probing) = saved
            self.variables.clear()  # in place: the stage's function reads these dicts when it returns
            self.variables.update(variables)
            self.keys.clear()
            self.keys.update(keys)
            for n, key in stream_keys.items():
                self.streams[n].key = key
            for k, (buffer, was_written, was_read) in states.items():
                array = self.arrays[k]
                array.buffer, array.written, array.read = buffer, was_written, was_read
            for k in [k for k in self.arrays if k not in states]:
                del self.arrays[k]

    def _iteration_bound(self, loop: frames.Loop) -> int | None:
        """A bound on the loop's iterations known while tracing: `i < M` among the conjuncts of its
        predicate, `i` a loop variable that starts at a known value and grows by 1 (tf.while_loop's
        `maximum_iterations` counter)."""
        by_merge = {v.merge._outputs[0]: v for v in loop.vars}
        bounds = []
        stack = [loop.loop_cond._inputs[0]]
        while stack:
            t = stack.pop()
            op = t._op
            if op._type == "LogicalAnd":
                stack.extend(op._inputs)
            elif op._type == "Less":
                var = by_merge.get(op._inputs[0])
                if var is None:
                    continue
                start, limit = self.value(var.enter._inputs[0]), self.value(op._inputs[1])
                if not (_known_number(start) and _known_number(limit) and _steps_by_one(var)):
                    continue
                bounds.append(max(int(limit) - int(start), 0))
        return min(bounds) if bounds else None


def _loop_members(loop: frames.Loop) -> list[Any]:
    found = list(loop.members)
    for item in loop.cond_items + loop.body_items:
        if isinstance(item, frames.Loop):
            found.extend(_loop_members(item))
    return found


def _loop_state(loop: frames.Loop) -> tuple[set[str], set[str], set[Any]]:
    """(the variables the loop's ops write, its random ops' names, the TensorArrays its ops touch)."""
    from caudal.backends.jax_plan import RANDOM_OPS, written_variables

    written: set[str] = set()
    randoms: set[str] = set()
    arrays: set[Any] = set()
    for op in _loop_members(loop):
        written.update(written_variables(op))
        if op._type in RANDOM_OPS:
            randoms.add(op._name)
        if op._type in jax_arrays.ARRAY_OPS and op._type != "TensorArrayV3":
            key = jax_arrays.array_key(op._outputs[0] if op._type.startswith("TensorArrayGrad") else op._inputs[0])
            if key is None:
                raise HostOnly(op, "a TensorArray handle the graph does not trace back to its array")
            arrays.add(key)
    return written, randoms, arrays


def _known_number(value: Any) -> bool:
    return isinstance(value, (np.ndarray, np.generic, int)) and np.size(value) == 1


def _same_layout(value: Any, start: Any) -> bool:
    """Whether two loop values have the same structure and shapes (a TensorList: the same buffer)."""
    leaves, tree = jax.tree_util.tree_flatten(value)
    start_leaves, start_tree = jax.tree_util.tree_flatten(start)
    return tree == start_tree and all(jnp.shape(a) == jnp.shape(b) for a, b in zip(leaves, start_leaves))


def _steps_by_one(var: Any) -> bool:
    """Whether a loop variable's next value is its current value plus a known 1."""
    op = var.next._inputs[0]._op
    if op._type not in ("AddV2", "Add"):
        return False
    sources = []
    for t in op._inputs:
        source = t
        while source._op._type == "Identity":
            source = source._op._inputs[0]
        sources.append(source)
    current = var.switch._outputs[1] if var.switch is not None else None
    ones = [t for t in op._inputs if t._op._type == "Const" and np.asarray(t._op._attrs["value"]).size == 1
            and np.asarray(t._op._attrs["value"]).reshape(()) == 1]
    return current in sources and len(ones) == 1


def _small_outputs(op: Any) -> bool:
    """Whether the op's outputs are known to be small enough to stay static (or of unknown size)."""
    for t in op._outputs:
        dims = t._shape._dims
        if dims is not None and None not in dims and int(np.prod(dims, dtype=np.int64)) > STATIC_LIMIT:
            return False
    return True


def _as_static(value: Any, t: Any) -> Any:
    array = np.asarray(value)
    dtype = t.dtype.base_dtype
    if dtype is not dtypes_lib.string and array.dtype != dtype.as_numpy_dtype:
        array = array.astype(dtype.as_numpy_dtype)
    return array


def _as_traced(value: Any, t: Any, op: Any) -> Any:
    if value is DEAD:
        return value
    if is_static(value):
        if isinstance(value, (np.ndarray, np.generic, int, float, bool, complex)):
            return _as_static(value, t)
        raise HostOnly(op, f"its kernel returned a {type(value).__name__}")
    want = t.dtype.base_dtype.as_numpy_dtype
    return value if value.dtype == want else value.astype(want)
