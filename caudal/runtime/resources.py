"""Run state: the resource store a Session owns, and the context one run sees.

Everything a run can change lives in one `ResourceStore` per Session:

- variable values (variable name -> array). Arrays are not written in
  place: a write replaces the entry, so a run that writes works on a copy of
  the dict and the Session swaps it in only when the run succeeded. The one
  exception is a sparse update (ScatterAdd, ScatterSub, the SparseApply ops),
  which would otherwise copy a whole embedding table to change a few rows:
  it changes the rows in place where `RunContext.writable` finds that nothing
  but the variable itself refers to the array, and logs the old rows to put
  back if the run fails;
- resources: mutable objects kept between runs under a key (random streams,
  `tf.Print` counters, and later dataset iterators, queues, accumulators).
  Each implements `snapshot()` and `restore(snapshot)`. The first time a run
  touches one, its snapshot goes into the run's undo log; if the run raises,
  every touched resource is restored and resources the run created are
  dropped;
- step resources: objects that live for one run only (TensorArrays, the
  stacks of a gradient loop), in `RunContext.step`; they vanish with the run.

So "a `Session.run` that raises changes nothing" holds for every kind of
state (for a run that waited, from its wait on; see below), and two Sessions
on one graph share nothing.

Blocking runs. A queue's dequeue waits for another run to enqueue, so a run
may have to wait for another one. Stateful runs hold the Session's lock, and a
kernel that must wait calls `ctx.wait(ready, ...)`, which waits on a condition
of that lock: the lock is released while the run waits (the enqueuing run can
take it) and taken again before `ready()` is checked, so a waiting run never
blocks the run it waits for. Kernels that change what others wait for call
`ctx.notify()`. A run about to wait first makes its variable writes so far
visible (TF's writes are visible at once), so a run that starts meanwhile reads
them: two enqueues of `assign_add(counter, 1)` waiting on a full queue give
two values, not one twice; those writes stay if the run later fails. While a
run waits, other runs may commit: on waking, it takes their variable values
for every variable it has not written since, so its commit loses nothing they
wrote. Resources that other
runs may change while a run waits (queues, readers) are not snapshotted:
their kernels log an undo action per change (`ctx.on_rollback`), which a
failed run carries out in reverse order. A wait raises `CancelledError` when
the Session is closed and `DeadlineExceededError` past the run's deadline
(`RunOptions.timeout_in_ms`).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from operator import is_
from typing import Any

import numpy as np

from caudal import errors
from caudal.framework.resource import Resource

__all__ = ["ResourceStore", "RunContext"]


class ResourceStore:
    """All state of one Session: variable values and keyed resources.

    Resources made under a `shared_name` (queues, accumulators) are found through
    `shared_resources()`: on a server task, the task's own dict (`task_resources`), which every
    client session there shares, as TF's resource manager shares them; elsewhere `resources`."""

    __slots__ = ("variables", "resources", "task_resources")

    def __init__(self) -> None:
        self.variables: dict[str, Any] = {}
        self.resources: dict[Any, Resource] = {}
        self.task_resources: dict[Any, Any] | None = None

    def shared_resources(self) -> dict[Any, Any]:
        """Where resources with a `shared_name` live (see the class docstring)."""
        return self.resources if self.task_resources is None else self.task_resources

    def clear(self) -> None:
        self.variables = {}
        self.resources = {}


def _count_of_one_entry() -> int:
    """`sys.getrefcount` of an array one dict entry alone holds, read as `RunContext.writable` reads it:
    what the interpreter counts for the local and the call's argument varies between versions (3.14
    borrows references it does not count), so it is measured once rather than assumed."""
    entries = {"probe": np.empty(1)}
    value = entries.get("probe")
    return sys.getrefcount(value)


_ONE_ENTRY = _count_of_one_entry()


def _count_of_one_listed_entry() -> int:
    """What `RunContext.unshared` sums for an array that one dict entry and one list entry hold."""
    entries = {"probe": np.empty(1)}
    return sum(map(sys.getrefcount, [entries["probe"]]))


_ONE_LISTED_ENTRY = _count_of_one_listed_entry()


class RunContext:
    """What stateful kernels see during one run.

    `read`/`write`/`has` reach variable values; `resource` the Session's
    resources; `step` holds what lives for this run only; `backend` makes
    backend-specific state such as random streams.
    """

    __slots__ = ("xp", "backend", "variables", "store", "session", "feeds", "step", "deadline", "cancelled",
                 "rest_cannot_fail", "_undo", "_created", "_rollbacks")

    def __init__(self, backend: Any, variables: dict[str, Any], store: ResourceStore, session: Any,
                 feeds: list[Any]):
        self.xp = backend.xp
        self.backend = backend
        self.variables = variables
        self.store = store
        self.session = session
        self.feeds = feeds  # the caller's arrays: a kernel that keeps an input must copy these
        self._undo: dict[int, tuple[Resource, Any]] | None = None  # made by the first resource touched
        self._created: dict[Any, Resource] | None = None
        self._rollbacks: list[Callable[[], None]] | None = None
        self.deadline: float | None = None  # time.monotonic() past which a wait raises DeadlineExceeded
        self.cancelled: Callable[[], bool] | None = None  # whether this run was cancelled (a server task's step)
        # Set by the plan before its last op that can fail when nothing after it can (see
        # caudal.runtime.last_writes): that op's kernel may change the arrays `writable` gives in place
        # without logging their old values.
        self.rest_cannot_fail = False

    def __getattr__(self, name: str) -> Any:
        if name == "step":  # made on first use: most runs hold no per-run resource
            self.step = {}
            return self.step
        raise AttributeError(name)

    # ---------------------------------------------------------- variables
    def read(self, name: str) -> Any:
        try:
            return self.variables[name]
        except KeyError:
            raise errors.FailedPreconditionError(
                None, None, f"Attempting to use uninitialized value {name}") from None

    def write(self, name: str, value: Any) -> None:
        self.variables[name] = value

    def has(self, name: str) -> bool:
        return name in self.variables

    def holds(self, checks: tuple[tuple[str, tuple | None, bool], ...]) -> bool:
        """Whether, for each (name, shape, required), variable `name` holds a value of `shape` (None: of
        any shape), or, where not `required`, no value yet."""
        for name, shape, required in checks:
            value = self.variables.get(name)
            if value is None:
                if required:
                    return False
            elif shape is not None and np.shape(value) != shape:
                return False
        return True

    def writable(self, name: str) -> Any:
        """The array of variable `name` when this run may change it in place, else None: a NumPy array
        that owns its memory and that nothing refers to but the variable dicts (no value of this run,
        fetch, feed, queue element, other variable or view holds it; counted by reference count). A
        kernel that changes it logs an undo action (`on_rollback`) that puts the old values back, unless
        the rest of the run cannot fail (`rest_cannot_fail`)."""
        value = self.variables.get(name)
        if type(value) is not np.ndarray or value.base is not None or not value.flags.writeable:
            return None
        holders = _ONE_ENTRY  # self.variables' entry (with `value` here and getrefcount's argument)
        if self.store.variables is not self.variables and self.store.variables.get(name) is value:
            holders += 1
        return value if sys.getrefcount(value) == holders else None

    def holds_each(self, names: tuple[str, ...], values: list[Any]) -> bool:
        """Whether each variable of `names` holds the very object at the same place in `values`."""
        return all(map(is_, map(self.variables.get, names), values))

    def unshared(self, names: tuple[str, ...], values: list[Any]) -> bool:
        """Whether nothing but the variable dicts and the list `values` refers to any of `values`, the
        objects the variables `names` hold (`holds_each`): `writable`'s count for many values at once,
        whose sum reaches its least only where each count does."""
        least = len(values) * _ONE_LISTED_ENTRY
        if self.store.variables is not self.variables:
            least += sum(map(is_, map(self.store.variables.get, names), values))
        return sum(map(sys.getrefcount, values)) == least

    def keep(self, value: Any) -> Any:
        """`value` as a kernel that keeps it (Assign) must store it: a copy when it shares memory
        with a feed, since kernels use feeds as given and the caller may change its array later."""
        return self.backend.kept(value, self.feeds) if self.feeds else value

    # ---------------------------------------------------------- resources
    def resource(self, key: Any, create: Callable[[], Resource]) -> Any:
        """The resource under `key`, made by `create()` if this Session has none yet."""
        created = self._created
        if created is None:
            created = self._created = {}
            self._undo = {}
        found = created.get(key)
        if found is not None:
            return found
        found = self.store.resources.get(key)
        if found is None:
            found = created[key] = create()
            return found
        undo = self._undo
        if id(found) not in undo:
            undo[id(found)] = (found, found.snapshot())
        return found

    def random_stream(self, op: Any) -> Any:
        """The random stream of a random op in this Session (keyed by the op's name, seeded by its
        seeds), made by the backend: kernels ask it for primitive draws (`uniform`, `normal`,
        `integers`, `permutation`). A run that fails puts it back as it was."""
        attrs = op._attrs
        seed, seed2 = attrs.get("seed", 0), attrs.get("seed2", 0)
        return self.resource(("random", op._name), lambda: self.backend.random_stream(seed, seed2))

    def on_rollback(self, undo: Callable[[], None]) -> None:
        """Calls `undo()` if this run fails; undo actions run last registered first."""
        if self._rollbacks is None:
            self._rollbacks = []
        self._rollbacks.append(undo)

    # ----------------------------------------------------------- waiting
    def wait(self, ready: Callable[[], bool], cancelled: str) -> None:
        """Waits until `ready()` holds, with the Session's lock released meanwhile (see the module
        docstring). Raises CancelledError(`cancelled`) when the Session closes or the run is cancelled
        (a step on a server task whose session closed), and DeadlineExceededError past this run's
        deadline."""
        session = self.session
        condition = session._run_state_changed
        if self.variables is not self.store.variables and not ready():
            # Writes so far become visible before waiting, as TF's are at once: a run that starts
            # meanwhile reads them (two waiting `assign_add`s never give the same value).
            self.store.variables = self.variables
            self.variables = dict(self.variables)
        base = self.store.variables
        deadline = self.deadline
        while True:
            if session._closed or (self.cancelled is not None and self.cancelled()):
                raise errors.CancelledError(None, None, cancelled)
            if ready():
                break
            if deadline is None:
                condition.wait()
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise errors.DeadlineExceededError(None, None, "Timed out waiting for notification")
                condition.wait(remaining)
        current = self.store.variables
        if current is not base:
            self._rebase(base, current)

    def notify(self) -> None:
        """Wakes the runs waiting in this Session: something they may wait for changed."""
        session = self.session
        if session is not None:
            condition = session._run_state_changed
            if condition._waiters:  # most changes find no run waiting
                condition.notify_all()

    def _rebase(self, base: dict[str, Any], current: dict[str, Any]) -> None:
        """Takes the values other runs committed while this one waited, except where it wrote."""
        mine = self.variables
        if mine is base:  # a run that writes no variable reads the committed dict itself
            self.variables = current
            return
        missing = object()
        for name, value in current.items():
            if mine.get(name, missing) is base.get(name, missing):
                mine[name] = value

    # ------------------------------------------------------------- ending
    def commit(self) -> None:
        """Keeps the resources this run created; touched ones keep their new state."""
        if self._created:
            self.store.resources.update(self._created)
        self._undo = self._created = self._rollbacks = None

    def rollback(self) -> None:
        """Puts every resource this run touched back as it was; forgets the ones it created."""
        for resource, snapshot in (self._undo or {}).values():
            resource.restore(snapshot)
        for undo in reversed(self._rollbacks or ()):
            undo()
        self._undo = self._created = self._rollbacks = None
