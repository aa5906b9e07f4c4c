"""`Session`, `InteractiveSession` and the default-session stack.

A Session holds a graph, a backend (chosen by name: `config.experimental.executor_type`,
else $CAUDAL_BACKEND, else numpy; see caudal.backends), a resource store (variable values,
random streams and every other piece of run state: caudal.runtime.resources)
and a cache of compiled Plans. `run`:

- flattens `fetches` (tensor, op, name, Variable, list, tuple, dict,
  namedtuple, nested) and remembers how to rebuild the structure;
- checks and converts feeds (TF's dtype conversion, static shape check; a
  SparseTensor key is fed as its three tensors);
- finds or builds the Plan for this (fetches, feeds) signature;
- runs it against a copy of the variable values when the plan writes
  state, and commits the copy (and the resources the run touched) only if
  the whole run succeeded, so a failed run changes nothing;
- returns arrays the caller owns.

Runs that change state are serialized by a lock; read-only runs proceed
concurrently on the variable values they started with. A stateful run that
must wait for another (a dequeue from an empty queue) releases the lock while
it waits (`RunContext.wait`, on the condition `_run_state_changed`), so the
run it waits for can proceed; `RunOptions.timeout_in_ms` (else the config's
`operation_timeout_in_ms`) bounds the wait, and closing the Session cancels it.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Any

import numpy as np

from caudal import errors
from caudal.framework.graph import Graph, get_default_graph
from caudal.framework.sparse_tensor import SparseTensor
from caudal.framework.tensor import Tensor
from caudal.runtime import float_env
from caudal.runtime.feeds import convert_feed_value, sparse_feed_items
from caudal.runtime.fetches import FetchStructure
from caudal.runtime.plan import DEAD, Plan, build_plan
from caudal.runtime.resources import ResourceStore, RunContext

__all__ = ["Session", "InteractiveSession", "get_default_session"]


class BaseSession:
    """The common machinery of Session and InteractiveSession."""

    def __init__(self, target: str = "", graph: Graph | None = None, config: Any = None):
        self._graph = graph if graph is not None else get_default_graph()
        if not isinstance(self._graph, Graph):
            raise TypeError(f"graph must be a tf.Graph, but got {type(self._graph)}")
        self._target = target
        self._config = config
        self._backend = _backend_for(config)
        self._placement_log = None
        if config is not None:
            from caudal.runtime.session_config import configure

            self._placement_log = configure(config)
        self._store = ResourceStore()
        self._plans: dict[Any, Plan] = {}
        self._plans_version = self._graph._mutation_version
        self._write_lock = threading.RLock()
        self._run_state_changed = threading.Condition(self._write_lock)
        self._closed = False
        self._default_session_cm: Any = None
        self._default_graph_cm: Any = None
        # A `grpc://host:port` target runs the plans on that server's cluster (caudal.runtime.distributed).
        self._remote = _remote_master(target, self._graph, config) if target else None

    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def graph_def(self) -> Any:
        return self._graph.as_graph_def()

    @property
    def sess_str(self) -> str:
        return self._target

    def list_devices(self) -> list[Any]:
        if self._remote is not None:
            return self._remote.list_devices()
        return self._backend.list_devices()

    @staticmethod
    def reset(target: str, containers: list[str] | None = None, config: Any = None) -> None:
        """`tf.Session.reset`: on a `grpc://` target, every task of its cluster drops the variables of
        `containers` (the default container when None) and closes its sessions. Local sessions own
        their variables, so there is nothing to reset for `target=''`."""
        if target:
            from caudal.runtime.distributed.master import reset

            reset(target, containers, config)

    def close(self) -> None:
        """Releases the session; its variable values are gone, runs waiting in it are cancelled.
        Closing twice is fine."""
        self._closed = True
        remote, self._remote = getattr(self, "_remote", None), None
        if remote is not None:
            remote.close()
        with self._write_lock:
            self._run_state_changed.notify_all()
            self._store.clear()
        self._plans = {}

    def as_default(self) -> Any:
        return _default_session_stack.get_controller(self)

    # ------------------------------------------------------------------ run
    def run(self, fetches: Any, feed_dict: Any = None, options: Any = None, run_metadata: Any = None) -> Any:
        """Runs the ops needed for `fetches` and returns their values in the same structure."""
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        structure = FetchStructure(fetches, self._graph)
        feeds, feed_values = self._convert_feeds(feed_dict)
        values = self._execute(structure.unique, feeds, feed_values, self._deadline(options))
        return structure.build(values)

    def _deadline(self, options: Any) -> float | None:
        """When waits of this run give up: RunOptions.timeout_in_ms, else the config's
        operation_timeout_in_ms (milliseconds; none when not positive)."""
        timeout_ms = getattr(options, "timeout_in_ms", 0) if options is not None else 0
        if timeout_ms <= 0 and self._config is not None:
            timeout_ms = self._config.operation_timeout_in_ms
        return time.monotonic() + timeout_ms / 1000.0 if timeout_ms > 0 else None

    def make_callable(self, fetches: Any, feed_list: Any = None, accept_options: bool = False) -> Any:
        """A function running `fetches` with positional feed values for `feed_list`."""
        structure = FetchStructure(fetches, self._graph)
        feed_keys = list(feed_list or [])
        sparse = any(isinstance(k, SparseTensor) for k in feed_keys)
        parts = [p for k in feed_keys for p in ((k.indices, k.values, k.dense_shape) if isinstance(k, SparseTensor)
                                                 else (k,))]
        feed_tensors = tuple(self._feed_key(k) for k in parts)

        def runner(*feed_args: Any, **kwargs: Any) -> Any:
            if self._closed:
                raise RuntimeError("Attempted to use a closed Session.")
            if len(feed_args) != len(feed_keys):
                raise ValueError(f"Expected {len(feed_keys)} feed values, got {len(feed_args)}")
            if sparse:
                feed_args = tuple(v for k, a in zip(feed_keys, feed_args)
                                  for _, v in (sparse_feed_items(k, a) if isinstance(k, SparseTensor) else ((k, a),)))
            values = [convert_feed_value(t, v) for t, v in zip(feed_tensors, feed_args)]
            return structure.build(self._execute(structure.unique, feed_tensors, values,
                                                 self._deadline(kwargs.get("options"))))

        return runner

    def _execute(self, fetch_list: tuple[Any, ...], feeds: tuple[Tensor, ...], feed_values: list[Any],
                 deadline: float | None = None) -> list[Any]:
        if self._remote is not None:
            return self._remote.execute(fetch_list, feeds, feed_values)
        plan = self._plan(fetch_list, feeds)
        store = self._store
        if plan.stateful:
            with self._write_lock:
                variables = dict(store.variables) if plan.writes_variables else store.variables
                ctx = RunContext(self._backend, variables, store, self, feed_values)
                ctx.deadline = deadline
                try:
                    results = self._call_plan(plan, ctx, feed_values)
                except BaseException:
                    ctx.rollback()
                    raise
                store.variables = ctx.variables
                ctx.commit()
        else:
            ctx = RunContext(self._backend, store.variables, store, self, feed_values)
            results = self._call_plan(plan, ctx, feed_values)
        if plan.may_be_dead:
            for i, value in enumerate(results):
                if value is DEAD:
                    raise errors.InvalidArgumentError(
                        None, None, f"Retval[{i}] does not have value: {fetch_list[i].name} is on a tf.cond "
                                    "branch that was not taken")
        return [_owned(v) for v in results]

    def _call_plan(self, plan: Plan, ctx: RunContext, feed_values: list[Any]) -> tuple:
        environment = float_env.enter()  # NumPy errors ignored, denormals flushed (as TF's kernels)
        try:
            return plan.function(ctx, *feed_values)
        except Exception as e:
            raise _as_op_error(e, plan, sys.exc_info()[2]) from e
        finally:
            float_env.leave(environment)

    def _plan(self, fetch_list: tuple[Any, ...], feeds: tuple[Tensor, ...]) -> Plan:
        if self._plans_version != self._graph._mutation_version:
            self._plans = {}
            self._plans_version = self._graph._mutation_version
        key = (fetch_list, feeds)
        plan = self._plans.get(key)
        if plan is None:
            # A compiled backend (jax) builds its own kind of plan, with the same interface.
            builder = getattr(self._backend, "build_plan", None)
            plan = builder(fetch_list, feeds) if builder else build_plan(fetch_list, feeds, self._backend)
            self._plans[key] = plan
            if self._placement_log is not None:
                self._placement_log.log(plan.ops, feeds, getattr(plan, "device_of", None))
        return plan

    # ---------------------------------------------------------------- feeds
    def _feed_key(self, key: Any) -> Tensor:
        if type(key) is Tensor and key._op._graph is self._graph and not self._graph._unfeedable:
            return key
        try:
            element = self._graph.as_graph_element(key, allow_tensor=True, allow_operation=False)
        except (KeyError, ValueError, TypeError) as e:
            raise TypeError(f"Cannot interpret feed_dict key as Tensor: {e}") from None
        if not self._graph.is_feedable(element):
            raise ValueError(f"Tensor {element.name} may not be fed.")
        return element

    def _convert_feeds(self, feed_dict: Any) -> tuple[tuple[Tensor, ...], list[Any]]:
        if not feed_dict:
            return (), []
        if len(feed_dict) == 1:
            key, value = next(iter(feed_dict.items()))
            if not isinstance(key, SparseTensor):
                tensor = self._feed_key(key)
                return (tensor,), [convert_feed_value(tensor, value)]
        pairs = []
        for key, value in feed_dict.items():
            items = sparse_feed_items(key, value) if isinstance(key, SparseTensor) else ((key, value),)
            for part, part_value in items:
                tensor = self._feed_key(part)
                pairs.append((tensor, convert_feed_value(tensor, part_value)))
        pairs.sort(key=lambda pair: (pair[0]._op._id, pair[0]._value_index))
        return tuple(p[0] for p in pairs), [p[1] for p in pairs]

    # -------------------------------------------------------- with-blocks
    def __enter__(self) -> BaseSession:
        self._default_graph_cm = self._graph.as_default()
        self._default_graph_cm.__enter__()
        self._default_session_cm = self.as_default()
        self._default_session_cm.__enter__()
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, tb: Any) -> None:
        self._default_session_cm.__exit__(exc_type, exc_value, tb)
        self._default_graph_cm.__exit__(exc_type, exc_value, tb)
        self._default_session_cm = None
        self._default_graph_cm = None
        self.close()

    def __del__(self) -> None:
        store = getattr(self, "_store", None)
        if store is not None:
            store.clear()
        remote = getattr(self, "_remote", None)
        if remote is not None and not sys.is_finalizing():
            try:
                remote.close()  # the worker sessions on the cluster's tasks
            except Exception:  # noqa: BLE001 - a collected session must not raise
                pass


class Session(BaseSession):
    """`tf.Session(target='', graph=None, config=None)`."""


class InteractiveSession(BaseSession):
    """A Session that makes itself (and its graph) the default when created, for shells."""

    def __init__(self, target: str = "", graph: Graph | None = None, config: Any = None):
        super().__init__(target, graph, config)
        self._default_session_cm = self.as_default()
        self._default_session_cm.__enter__()
        self._default_graph_cm = self._graph.as_default()
        self._default_graph_cm.__enter__()

    def close(self) -> None:
        super().close()
        if self._default_session_cm is not None:
            try:
                self._default_graph_cm.__exit__(None, None, None)
                self._default_session_cm.__exit__(None, None, None)
            except (ValueError, IndexError):
                pass
            self._default_session_cm = None
            self._default_graph_cm = None


# TensorFlow's own executor names: a TF program may set them; they choose no caudal backend.
_TF_EXECUTOR_TYPES = frozenset(["DEFAULT", "SINGLE_THREADED_EXECUTOR"])


def _backend_for(config: Any) -> Any:
    """The backend `config.experimental.executor_type` names, else $CAUDAL_BACKEND's, else the default
    (`fast_cpu` when the `fast` extra is installed, else `numpy`); a nonzero
    `config.intra_op_parallelism_threads` caps the backend's thread pools."""
    from caudal import backends

    if config is not None:
        from caudal.proto import config_pb2

        if not isinstance(config, config_pb2.ConfigProto):
            raise TypeError(f"config must be a tf.ConfigProto, but got {type(config)}")
        name = config.experimental.executor_type
        if name and name not in _TF_EXECUTOR_TYPES:
            backend = backends.get_backend(name, "ConfigProto.experimental.executor_type")
        else:
            backend = backends.get_backend(backends.default_backend_name(), f"${backends.ENV_VAR}")
        threads = config.intra_op_parallelism_threads
        if threads > 0 and hasattr(backend, "set_intra_op_threads"):
            backend.set_intra_op_threads(threads)
        return backend
    return backends.get_backend(backends.default_backend_name(), f"${backends.ENV_VAR}")


def _remote_master(target: Any, graph: Graph, config: Any) -> Any:
    """The master of a session on a `grpc://host:port` target; any other target is TF's NotFoundError."""
    from caudal.runtime.distributed.master import RemoteMaster, parse_target

    parse_target(target)
    return RemoteMaster(target, graph, config)


def _owned(value: Any) -> Any:
    """A value the caller owns: arrays are copied, 0-d arrays become NumPy scalars."""
    if type(value) is np.ndarray:
        if value.ndim == 0:
            return value[()]
        return value.copy()
    return value


def _as_op_error(error: Exception, plan: Plan, tb: Any) -> Exception:
    """Names the op that failed, and where the user created it."""
    op = None
    while tb is not None:
        if tb.tb_frame.f_code is plan.function.__code__:
            op = plan.op_at_line(tb.tb_lineno)
        tb = tb.tb_next
    if op is None:
        return error
    location = f"\n\t [[{{{{node {op.name}}}}}]] (op '{op.type}' defined at {op.where_defined()})"
    if isinstance(error, errors.OpError):
        return type(error)(None, error.op or op, error.message + location)
    if isinstance(error, (ValueError, TypeError, IndexError, ArithmeticError, KeyError)):
        return errors.InvalidArgumentError(None, op, f"{type(error).__name__}: {error}{location}")
    return errors.InternalError(None, op, f"{type(error).__name__}: {error}{location}")


class _DefaultSessionStack(threading.local):
    def __init__(self) -> None:
        self.stack: list[BaseSession] = []

    def get_default(self) -> BaseSession | None:
        return self.stack[-1] if self.stack else None

    def get_controller(self, session: BaseSession) -> Any:
        stack = self.stack

        class _Controller:
            def __enter__(self_inner) -> BaseSession:
                stack.append(session)
                return session

            def __exit__(self_inner, *exc: Any) -> None:
                if stack and stack[-1] is session:
                    stack.pop()
                elif session in stack:
                    stack.remove(session)

        return _Controller()


_default_session_stack = _DefaultSessionStack()


def get_default_session() -> BaseSession | None:
    return _default_session_stack.get_default()


def _run_with_default_session(fetch: Any, feed_dict: Any, session: BaseSession | None) -> Any:
    """`Tensor.eval()` / `Operation.run()`."""
    if session is None:
        session = get_default_session()
        if session is None:
            raise ValueError("Cannot evaluate tensor using `eval()`: No default session is registered. Use "
                             "`with sess.as_default()` or pass an explicit session to `eval(session=sess)`")
    if fetch.graph is not session.graph:
        raise ValueError("Cannot use the given session to evaluate tensor: the tensor's graph is different "
                         "from the session's graph.")
    return session.run(fetch, feed_dict)
