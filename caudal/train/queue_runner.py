"""`tf.train.QueueRunner`, `tf.train.add_queue_runner` and `tf.train.start_queue_runners`.

A QueueRunner runs each of its enqueue ops in a thread of its own, over and
over, until the op raises one of `queue_closed_exception_types` (the queue
it reads from was closed and drained) or the Coordinator asks to stop. The
last of a runner's threads to see its input end closes the queue, so that
readers downstream get OutOfRangeError once it is drained. Any other error
stops the Coordinator, which re-raises it in `join()` (without a Coordinator
the thread logs it, keeps it in `exceptions_raised` and raises it). With a
Coordinator, one more thread waits for the stop request and then closes the
queue cancelling pending enqueues, so blocked threads end.

The threads run `sess.run(enqueue_op)` concurrently with the caller's own
runs; caudal's Session lets a run that waits on a queue release it to the
others (see caudal.ops.queue_ops).
"""
from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from caudal import errors
from caudal.framework.graph import GraphKeys, add_to_collection, get_default_graph

__all__ = ["QueueRunner", "add_queue_runner", "start_queue_runners"]

_logger = logging.getLogger("caudal")


class QueueRunner:
    """`tf.train.QueueRunner(queue, enqueue_ops, close_op=None, cancel_op=None,
    queue_closed_exception_types=None)`: threads running `enqueue_ops` for `queue`."""

    def __init__(self, queue: Any = None, enqueue_ops: Any = None, close_op: Any = None, cancel_op: Any = None,
                 queue_closed_exception_types: Any = None, queue_runner_def: Any = None,
                 import_scope: str | None = None):
        if queue_runner_def is not None:
            raise NotImplementedError("QueueRunnerDef protos are not supported by caudal")
        del import_scope
        if not queue or not enqueue_ops:
            raise ValueError("Must provide queue and enqueue_ops.")
        if queue_closed_exception_types is not None:
            if (not isinstance(queue_closed_exception_types, tuple) or not queue_closed_exception_types
                    or not all(isinstance(t, type) and issubclass(t, errors.OpError)
                               for t in queue_closed_exception_types)):
                shown = queue_closed_exception_types  # TF formats the tuple with %, so one type shows bare
                if isinstance(shown, tuple) and len(shown) == 1:
                    shown = shown[0]
                raise TypeError("queue_closed_exception_types, when provided, must be a tuple of tf.error types, "
                                f"but saw: {shown}")
        self._queue = queue
        self._enqueue_ops = list(enqueue_ops)
        self._close_op = close_op if close_op is not None else queue.close()
        self._cancel_op = cancel_op if cancel_op is not None else queue.close(cancel_pending_enqueues=True)
        self._queue_closed_exception_types = tuple(queue_closed_exception_types or (errors.OutOfRangeError,))
        self._lock = threading.Lock()
        self._runs_per_session: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._exceptions_raised: list[BaseException] = []
        self._batched: dict[Any, Any] = {}  # enqueue op -> its batched form, or None

    @property
    def queue(self) -> Any:
        return self._queue

    @property
    def enqueue_ops(self) -> list[Any]:
        return self._enqueue_ops

    @property
    def close_op(self) -> Any:
        return self._close_op

    @property
    def cancel_op(self) -> Any:
        return self._cancel_op

    @property
    def queue_closed_exception_types(self) -> tuple:
        return self._queue_closed_exception_types

    @property
    def exceptions_raised(self) -> list[BaseException]:
        """Errors of threads started without a Coordinator (with one, they go to the Coordinator)."""
        return self._exceptions_raised

    @property
    def name(self) -> str:
        """The name of the queue's op."""
        return self._queue.name

    def _run(self, sess: Any, enqueue_op: Any, coord: Any) -> None:
        """Runs `enqueue_op` until its input ends, the coordinator stops, or it fails."""
        counted = True
        try:
            enqueue = self._enqueue_callable(sess, enqueue_op)
            while not (coord is not None and coord.should_stop()):
                try:
                    enqueue()
                except self._queue_closed_exception_types:
                    with self._lock:
                        self._runs_per_session[sess] -= 1
                        counted = False
                        if self._runs_per_session[sess] == 0:
                            try:
                                sess.run(self._close_op)
                            except Exception as e:  # noqa: BLE001 - closing a closed queue is harmless
                                _logger.debug("Ignored exception: %s", e)
                    return
        except Exception as e:
            if coord is not None:
                coord.request_stop(e)
            else:
                _logger.error("Exception in QueueRunner: %s", e)
                with self._lock:
                    self._exceptions_raised.append(e)
                raise
        finally:
            if counted:
                with self._lock:
                    self._runs_per_session[sess] -= 1

    def _enqueue_callable(self, sess: Any, enqueue_op: Any) -> Any:
        """One run of `enqueue_op`, or of its batched form for a record pipeline on a local Session
        (caudal.train.batched_enqueue)."""
        from caudal.runtime.session import BaseSession

        if isinstance(sess, BaseSession) and sess._remote is None and sess.graph is enqueue_op.graph:
            with self._lock:
                if enqueue_op not in self._batched:
                    from caudal.train.batched_enqueue import batched_enqueue

                    self._batched[enqueue_op] = batched_enqueue(enqueue_op)
                batched = self._batched[enqueue_op]
            if batched is not None:
                return lambda: batched(sess)
        return sess.make_callable(enqueue_op)

    def _close_on_stop(self, sess: Any, coord: Any) -> None:
        """Waits for the stop request, then closes the queue, cancelling pending enqueues."""
        coord.wait_for_stop()
        try:
            sess.run(self._cancel_op)
        except Exception as e:  # noqa: BLE001 - the queue or the session may be closed already
            _logger.debug("Ignored exception: %s", e)

    def create_threads(self, sess: Any, coord: Any = None, daemon: bool = False,
                       start: bool = False) -> list[threading.Thread]:
        """One thread per enqueue op (plus one closing the queue on stop, with `coord`); none while
        threads this runner started for `sess` are still running."""
        with self._lock:
            if self._runs_per_session.get(sess, 0) > 0:
                return []
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        threads = [threading.Thread(target=self._run, args=(sess, op, coord),
                                    name=f"QueueRunnerThread-{self.name}-{op.name}") for op in self._enqueue_ops]
        if coord is not None:
            threads.append(threading.Thread(target=self._close_on_stop, args=(sess, coord),
                                            name=f"QueueRunnerThread-{self.name}-close_on_stop"))
        for thread in threads:
            if coord is not None:
                coord.register_thread(thread)
            if daemon:
                thread.daemon = True
            if start:
                thread.start()
        return threads


def add_queue_runner(qr: QueueRunner, collection: str = GraphKeys.QUEUE_RUNNERS) -> None:
    """Adds `qr` to a collection of the default graph (QUEUE_RUNNERS by default)."""
    add_to_collection(collection, qr)


def start_queue_runners(sess: Any = None, coord: Any = None, daemon: bool = True, start: bool = True,
                        collection: str = GraphKeys.QUEUE_RUNNERS) -> list[threading.Thread]:
    """Starts the threads of every QueueRunner in `collection` of the default graph; returns them.

    `sess` defaults to the default session. A MonitoredSession starts its own
    runners, so passing one starts nothing, as in TF.
    """
    if sess is None:
        from caudal.runtime.session import get_default_session

        sess = get_default_session()
        if not sess:
            raise ValueError("Cannot start queue runners: No default session is registered. Use `with "
                             "sess.as_default()` or pass an explicit session to tf.start_queue_runners(sess=sess)")
    from caudal.runtime.session import BaseSession

    if not isinstance(sess, BaseSession):
        if type(sess).__name__ in ("MonitoredSession", "SingularMonitoredSession"):
            return []
        raise TypeError(f"sess must be a `tf.Session` object. Given class: {sess.__class__}")
    runners = get_default_graph().get_collection(collection)
    if not runners:
        _logger.warning("`tf.train.start_queue_runners()` was called when no queue runners were defined. You can "
                        "safely remove the call to this deprecated function.")
    threads: list[threading.Thread] = []
    with sess.graph.as_default():
        for runner in runners:
            threads.extend(runner.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads
