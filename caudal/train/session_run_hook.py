"""`tf.train.SessionRunHook` and the values passed to hooks: SessionRunArgs, SessionRunContext, SessionRunValues.

A MonitoredSession calls its hooks in this order (TF's contract):

    begin()                                   once, while the graph can still change
    after_create_session(session, coord)      after each (re)created session, graph finalized
    before_run(run_context) -> SessionRunArgs  before every run; fetches/feeds join the caller's run
    after_run(run_context, run_values)        after every run, with the requested fetches' values
    end(session)                              when the session closes without an error
"""
from __future__ import annotations

import collections
from typing import Any

__all__ = ["SessionRunHook", "SessionRunArgs", "SessionRunContext", "SessionRunValues"]


class SessionRunHook:
    """`tf.train.SessionRunHook`: extends `MonitoredSession.run` calls. Every method does nothing by default."""

    def begin(self) -> None:
        """Called once before the session is created; the graph may still be changed here."""

    def after_create_session(self, session: Any, coord: Any) -> None:
        """Called when a new session has been created and initialized (the graph is finalized)."""

    def before_run(self, run_context: SessionRunContext) -> SessionRunArgs | None:
        """Called before each run; returns what to add to it (fetches, feeds, options) or None."""
        return None

    def after_run(self, run_context: SessionRunContext, run_values: SessionRunValues) -> None:
        """Called after each successful run; `run_values.results` holds this hook's fetches."""

    def end(self, session: Any) -> None:
        """Called when the monitored session is closed without an error (or ended by OutOfRangeError)."""


class SessionRunArgs(collections.namedtuple("SessionRunArgs", ["fetches", "feed_dict", "options"])):
    """`tf.train.SessionRunArgs(fetches, feed_dict=None, options=None)`: what a hook adds to a run."""

    __slots__ = ()

    def __new__(cls, fetches: Any, feed_dict: Any = None, options: Any = None) -> SessionRunArgs:
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunContext:
    """`tf.train.SessionRunContext`: the caller's run (`original_args`), the raw `session`, and `request_stop()`."""

    def __init__(self, original_args: SessionRunArgs, session: Any):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self) -> SessionRunArgs:
        """The fetches and feeds the caller passed to `MonitoredSession.run`."""
        return self._original_args

    @property
    def session(self) -> Any:
        """The underlying `tf.Session` (runs through it bypass the hooks)."""
        return self._session

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def request_stop(self) -> None:
        """Makes `should_stop()` of the monitored session return True after this run."""
        self._stop_requested = True


class SessionRunValues(collections.namedtuple("SessionRunValues", ["results", "options", "run_metadata"])):
    """`tf.train.SessionRunValues`: a hook's fetched `results`, the run's `options` and `run_metadata`."""

    __slots__ = ()
