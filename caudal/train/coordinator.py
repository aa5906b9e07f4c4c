"""`tf.train.Coordinator` and `tf.train.LooperThread`: stopping a set of threads together, as TF1 does.

A Coordinator holds one stop flag and the first exception reported to it.
`request_stop(ex)` sets the flag (an exception of a "clean stop" type,
`OutOfRangeError` by default, is not kept); `join()` waits for the
registered threads, then raises the kept exception, or a RuntimeError
naming threads still alive after the grace period.
"""
from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from caudal import errors

__all__ = ["Coordinator", "LooperThread"]

_logger = logging.getLogger("caudal")


class Coordinator:
    """`tf.train.Coordinator(clean_stop_exception_types=None)`: a stop flag shared by threads."""

    def __init__(self, clean_stop_exception_types: Any = None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_stop_exception_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info_to_raise: Any = None
        self._joined = False
        self._registered_threads: set[threading.Thread] = set()

    def _filter_exception(self, ex: Any) -> Any:
        error = ex[1] if isinstance(ex, tuple) else ex
        return None if isinstance(error, self._clean_stop_exception_types) else ex

    def request_stop(self, ex: Any = None) -> None:
        """Asks every thread to stop; `ex` (an exception or an exc_info tuple) is kept for `join()`.

        After `join()`, reporting an exception raises it at once.
        """
        with self._lock:
            ex = self._filter_exception(ex)
            if self._joined:
                if isinstance(ex, tuple):
                    raise ex[1]
                if ex is not None:
                    raise sys.exc_info()[1] or ex
            if self._stop_event.is_set():
                return
            if ex and self._exc_info_to_raise is None:
                if isinstance(ex, tuple):
                    _logger.info("Error reported to Coordinator: %s", ex[1], exc_info=ex)
                    self._exc_info_to_raise = ex
                else:
                    _logger.info("Error reported to Coordinator: %s, %s", type(ex), ex)
                    info = sys.exc_info()
                    self._exc_info_to_raise = info if info[1] is ex else (type(ex), ex, ex.__traceback__)
            self._stop_event.set()

    def clear_stop(self) -> None:
        """Clears the stop flag and the kept exception, so the threads may be started again."""
        with self._lock:
            self._joined = False
            self._exc_info_to_raise = None
            self._stop_event.clear()

    def should_stop(self) -> bool:
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self) -> Iterator[None]:
        """A context in which any exception is reported with `request_stop` instead of raised."""
        try:
            yield
        except BaseException:  # noqa: BLE001 - TF reports every exception, SystemExit included
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout: float | None = None) -> bool:
        """Waits until a stop is requested (at most `timeout` seconds); True if it was."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread: threading.Thread) -> None:
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads: Any = None, stop_grace_period_secs: float = 120, ignore_live_threads: bool = False) -> None:
        """Waits for `threads` and the registered threads to end, once a stop was requested.

        Raises the exception reported with `request_stop`, else a RuntimeError
        naming the threads alive `stop_grace_period_secs` after the stop
        (only logged with `ignore_live_threads`).
        """
        with self._lock:
            waiting = set(self._registered_threads)
            if threads is not None:
                waiting |= set(threads)
            threads = list(waiting)
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(1.0):
            pass
        deadline = time.monotonic() + stop_grace_period_secs
        pause = 0.001
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            time.sleep(pause)
            pause = min(pause * 2, max(deadline - time.monotonic(), 0.001))
        stragglers = [t.name for t in threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            if self._exc_info_to_raise:
                raise self._exc_info_to_raise[1]
            if stragglers:
                if ignore_live_threads:
                    _logger.info("Coordinator stopped with threads still running: %s", " ".join(stragglers))
                else:
                    raise RuntimeError("Coordinator stopped with threads still running: " + " ".join(stragglers))

    @property
    def joined(self) -> bool:
        return self._joined

    def raise_requested_exception(self) -> None:
        """Raises the exception reported with `request_stop`, if any."""
        with self._lock:
            if self._exc_info_to_raise:
                raise self._exc_info_to_raise[1]


class LooperThread(threading.Thread):
    """`tf.train.LooperThread(coord, timer_interval_secs, target=None, args=None, kwargs=None)`.

    A daemon thread that calls `run_loop()` (or `target`) every
    `timer_interval_secs` seconds, the first time at once, until the
    coordinator stops; with `timer_interval_secs=None` it loops without
    pausing. An exception stops the coordinator.
    """

    def __init__(self, coord: Coordinator, timer_interval_secs: float | None, target: Callable | None = None,
                 args: Any = None, kwargs: Any = None):
        if not isinstance(coord, Coordinator):
            raise ValueError(f"'coord' argument must be a Coordinator: {coord}")
        super().__init__()
        self.daemon = True
        self._coord = coord
        self._timer_interval_secs = timer_interval_secs
        self._target = target
        if self._target:
            self._args = args or ()
            self._kwargs = kwargs or {}
        elif args or kwargs:
            raise ValueError("'args' and 'kwargs' argument require that you also pass 'target'")
        self._coord.register_thread(self)

    @staticmethod
    def loop(coord: Coordinator, timer_interval_secs: float | None, target: Callable, args: Any = None,
             kwargs: Any = None) -> LooperThread:
        """Starts a LooperThread calling `target(*args, **kwargs)` and returns it."""
        looper = LooperThread(coord, timer_interval_secs, target=target, args=args, kwargs=kwargs)
        looper.start()
        return looper

    def run(self) -> None:
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._timer_interval_secs is None:
                while not self._coord.should_stop():
                    self.run_loop()
            else:
                next_time = time.time()
                while not self._coord.wait_for_stop(max(next_time - time.time(), 0.0)):
                    next_time += self._timer_interval_secs
                    self.run_loop()
            self.stop_loop()

    def start_loop(self) -> None:
        """Called once when the thread starts."""

    def stop_loop(self) -> None:
        """Called once when the loop ends."""

    def run_loop(self) -> None:
        """Called every `timer_interval_secs`; calls `target` by default."""
        if self._target:
            self._target(*self._args, **self._kwargs)
