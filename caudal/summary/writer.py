"""`tf.summary.FileWriter`, `tf.summary.FileWriterCache` and `tf.train.summary_iterator`.

A FileWriter writes TensorBoard event files the way TF1's does:

- the file is `<logdir>/events.out.tfevents.<10-digit seconds>.<hostname><suffix>`,
  created when the writer is; its first record is an Event with
  `file_version: "brain.Event:2"` and a whole-second wall time;
- every record is a serialized `Event` in TFRecord framing (`records.py`);
- events go through a queue of at most `max_queue` pending events to a
  background thread, which writes them and flushes the file at least every
  `flush_secs` seconds; `flush()` waits until everything queued is on disk;
- a graph is written as a GraphDef with `_output_shapes` (`add_shapes=True`),
  and a graph given to the constructor also as a MetaGraphDef holding it;
- a summary value's `metadata` is kept only the first time its tag is
  written, as TF1's writer does;
- after `close()`, adding events warns and does nothing until `reopen()`,
  which starts a new file;
- writers still open when the program exits are flushed then (caudal's
  addition: nothing queued is lost).

One deliberate difference: when `reopen()` happens within the second the
previous file was named after, TF1 truncates that file; caudal takes the next
free second for the new name instead, so no event is lost.
"""
from __future__ import annotations

import atexit
import os
import queue
import socket
import threading
import time
import warnings
import weakref
from collections.abc import Iterator
from typing import Any

from caudal.proto import event_pb2, meta_graph_pb2, summary_pb2
from caudal.summary.records import TFRecordWriter, tf_record_iterator

__all__ = ["FileWriter", "FileWriterCache", "EventFileWriter", "summary_iterator"]

FILE_VERSION = "brain.Event:2"
_WRITER_NAME = "caudal.summary.writer"


def _as_message(value: Any, cls: type, what: str) -> Any:
    """Our message `cls` for one of ours, TensorFlow's equivalent, or serialized bytes."""
    if isinstance(value, cls):
        return value
    if isinstance(value, bytes):
        return cls.FromString(value)
    if hasattr(value, "SerializeToString"):
        return cls.FromString(value.SerializeToString())
    raise TypeError(f"{what} must be a {cls.__name__} proto or its serialized bytes, got {type(value).__name__}")


_OPEN_WRITERS: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _flush_open_writers() -> None:
    """Writes what open writers still hold when the program ends (their thread is a daemon)."""
    for writer in list(_OPEN_WRITERS):
        try:
            writer.flush()
        except Exception:  # noqa: BLE001 - nothing to report to at exit
            pass


class _Closed:
    """The queue item that stops the worker thread."""


_CLOSE = _Closed()


class EventFileWriter:
    """Writes Event protos to one new event file in `logdir` from a background thread."""

    def __init__(self, logdir: str, max_queue: int = 10, flush_secs: float = 120, filename_suffix: str | None = None):
        self._logdir = os.fspath(logdir)
        try:
            os.makedirs(self._logdir, exist_ok=True)
        except PermissionError:
            from caudal.errors import PermissionDeniedError

            raise PermissionDeniedError(None, None, f"{self._logdir}; Permission denied") from None
        except FileExistsError:
            from caudal.errors import FailedPreconditionError

            raise FailedPreconditionError(None, None, f"{self._logdir}; Not a directory") from None
        seconds = int(time.time())
        host = socket.gethostname()
        suffix = filename_suffix or ""
        path = os.path.join(self._logdir, f"events.out.tfevents.{seconds:010d}.{host}{suffix}")
        while os.path.exists(path):  # see the module docstring: never truncate an earlier file
            seconds += 1
            path = os.path.join(self._logdir, f"events.out.tfevents.{seconds:010d}.{host}{suffix}")
        self._records = TFRecordWriter(path)
        first = event_pb2.Event(wall_time=float(seconds), file_version=FILE_VERSION)
        first.source_metadata.writer = _WRITER_NAME
        self._records.write(first.SerializeToString())
        self._records.flush()
        self._flush_secs = float(flush_secs)
        self._queue: queue.Queue = queue.Queue(max(int(max_queue), 1))
        self._error: BaseException | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="caudal-event-writer", daemon=True)
        self._thread.start()
        _OPEN_WRITERS.add(self)

    @property
    def path(self) -> str:
        return self._records.path

    def get_logdir(self) -> str:
        return self._logdir

    def add_event(self, event: Any) -> None:
        """Queues an Event (blocks while `max_queue` events are pending)."""
        self._raise_worker_error()
        if self._closed:
            return
        self._queue.put(_as_message(event, event_pb2.Event, "event").SerializeToString())

    def flush(self) -> None:
        """Returns once every queued event is written and the file flushed."""
        if self._closed:
            return
        self._queue.join()
        self._raise_worker_error()
        with self._lock:
            self._records.flush()

    def close(self) -> None:
        """Writes what is queued, flushes and closes the file; later events are ignored."""
        if self._closed:
            return
        self._queue.put(_CLOSE)
        self._thread.join()
        self._closed = True
        try:
            self._records.sync()  # the last record is on the disk before close returns
        except OSError:
            pass
        self._records.close()
        _OPEN_WRITERS.discard(self)
        self._raise_worker_error()

    @property
    def closed(self) -> bool:
        return self._closed

    def _raise_worker_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        next_flush = time.monotonic() + self._flush_secs
        while True:
            try:
                item = self._queue.get(timeout=max(next_flush - time.monotonic(), 0.0))
            except queue.Empty:
                item = None
            try:
                if item is _CLOSE:
                    with self._lock:
                        self._records.flush()
                    return
                with self._lock:
                    if item is not None:
                        self._records.write(item)
                    if time.monotonic() >= next_flush:
                        self._records.flush()
                        next_flush = time.monotonic() + self._flush_secs
            except BaseException as error:  # kept for the user's thread
                self._error = error
            finally:
                if item is not None:
                    self._queue.task_done()


class FileWriter:
    """`tf.summary.FileWriter(logdir, graph=None, max_queue=10, flush_secs=120, graph_def=None,
    filename_suffix=None, session=None)`: writes summaries, graphs and session logs for TensorBoard.

    `session` is accepted for TF1 compatibility; events are always written by
    this writer's own thread (TF would write through summary ops of that
    session instead). See the module docstring for the file format.
    """

    def __init__(self, logdir: str, graph: Any = None, max_queue: int = 10, flush_secs: float = 120,
                 graph_def: Any = None, filename_suffix: str | None = None, session: Any = None):
        self._logdir = os.fspath(logdir)
        self._max_queue = max_queue
        self._flush_secs = flush_secs
        self._filename_suffix = filename_suffix
        self._event_writer: EventFileWriter | None = EventFileWriter(self._logdir, max_queue, flush_secs,
                                                                     filename_suffix)
        self._seen_summary_tags: set[str] = set()
        if graph is not None or graph_def is not None:
            written = self._graph_def_of(graph, graph_def)  # built once for both events
            self.add_graph(None, graph_def=written)
            self.add_meta_graph(meta_graph_pb2.MetaGraphDef(graph_def=written))

    # ------------------------------------------------------------- events
    def get_logdir(self) -> str:
        return self._logdir

    def _writer(self) -> EventFileWriter | None:
        if self._event_writer is None or self._event_writer.closed:
            warnings.warn("Attempting to use a closed FileWriter: the event is dropped. Call reopen() to write "
                          "to a new event file.", stacklevel=3)
            return None
        return self._event_writer

    def add_event(self, event: Any) -> None:
        """Writes an Event proto (ours or TensorFlow's, or its bytes) as given."""
        writer = self._writer()
        if writer is not None:
            writer.add_event(event)

    def _add_event(self, event: event_pb2.Event, step: Any) -> None:
        event.wall_time = time.time()
        if step is not None:
            event.step = int(step)
        self.add_event(event)

    def add_summary(self, summary: Any, global_step: Any = None) -> None:
        """Writes a Summary (a proto or the bytes a summary op returns) at `global_step`.

        A value's `metadata` is written only the first time its tag is seen, as in TF1.
        """
        if isinstance(summary, bytes):
            summary = summary_pb2.Summary.FromString(summary)
        else:  # a copy: the caller's proto stays as it is
            summary = summary_pb2.Summary.FromString(
                _as_message(summary, summary_pb2.Summary, "summary").SerializeToString())
        for value in summary.value:
            if not value.HasField("metadata"):
                continue
            if value.tag in self._seen_summary_tags:
                value.ClearField("metadata")
            else:
                self._seen_summary_tags.add(value.tag)
        self._add_event(event_pb2.Event(summary=summary), global_step)

    def add_session_log(self, session_log: Any, global_step: Any = None) -> None:
        """Writes a SessionLog (START, STOP, CHECKPOINT) at `global_step`."""
        self._add_event(event_pb2.Event(session_log=_as_message(session_log, event_pb2.SessionLog, "session_log")),
                        global_step)

    @staticmethod
    def _graph_def_of(graph: Any, graph_def: Any) -> Any:
        from caudal.framework.graph import Graph
        from caudal.framework.graph_io import as_graph_def_proto

        if isinstance(graph, Graph):
            return graph.as_graph_def(add_shapes=True)
        source = graph if graph is not None else graph_def
        if source is None:
            raise ValueError("add_graph needs a Graph or a GraphDef")
        return as_graph_def_proto(source, "graph")

    def add_graph(self, graph: Any, global_step: Any = None, graph_def: Any = None) -> None:
        """Writes a Graph (as a GraphDef with output shapes) or a GraphDef, for TensorBoard's graph view."""
        graph_def = self._graph_def_of(graph, graph_def)
        self._add_event(event_pb2.Event(graph_def=graph_def.SerializeToString()), global_step)

    def add_meta_graph(self, meta_graph_def: Any, global_step: Any = None) -> None:
        """Writes a MetaGraphDef."""
        meta = _as_message(meta_graph_def, meta_graph_pb2.MetaGraphDef, "meta_graph_def")
        self._add_event(event_pb2.Event(meta_graph_def=meta.SerializeToString()), global_step)

    def add_run_metadata(self, run_metadata: Any, tag: str, global_step: Any = None) -> None:
        """Writes a RunMetadata under `tag` (TensorBoard shows it with the graph)."""
        serialized = run_metadata if isinstance(run_metadata, bytes) else run_metadata.SerializeToString()
        tagged = event_pb2.TaggedRunMetadata(tag=tag, run_metadata=serialized)
        self._add_event(event_pb2.Event(tagged_run_metadata=tagged), global_step)

    # ------------------------------------------------------------ lifecycle
    def flush(self) -> None:
        """Blocks until every event added so far is written to disk."""
        if self._event_writer is not None:
            self._event_writer.flush()

    def close(self) -> None:
        """Flushes and closes the event file; `reopen()` starts a new one."""
        if self._event_writer is not None:
            self._event_writer.close()

    def reopen(self) -> None:
        """After `close()`, opens a new event file in the same directory; a no-op while open."""
        if self._event_writer is None or self._event_writer.closed:
            self._event_writer = EventFileWriter(self._logdir, self._max_queue, self._flush_secs,
                                                 self._filename_suffix)

    @property
    def event_file_path(self) -> str | None:
        """The path of the event file being written (caudal's addition)."""
        return self._event_writer.path if self._event_writer is not None else None

    def __enter__(self) -> FileWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class FileWriterCache:
    """`tf.summary.FileWriterCache`: one FileWriter per log directory, shared."""

    _writers: dict[str, FileWriter] = {}
    _lock = threading.RLock()

    @staticmethod
    def get(logdir: str) -> FileWriter:
        """The cached FileWriter for `logdir`, created with the default graph on first use."""
        from caudal.framework.graph import get_default_graph

        with FileWriterCache._lock:
            writer = FileWriterCache._writers.get(logdir)
            if writer is None:
                writer = FileWriter(logdir, graph=get_default_graph())
                FileWriterCache._writers[logdir] = writer
            return writer

    @staticmethod
    def clear() -> None:
        """Closes and forgets every cached writer."""
        with FileWriterCache._lock:
            for writer in FileWriterCache._writers.values():
                writer.close()
            FileWriterCache._writers = {}


def summary_iterator(path: str | os.PathLike) -> Iterator[event_pb2.Event]:
    """`tf.train.summary_iterator`: the Event protos of an event file, in order.

    A corrupted or truncated record raises `caudal.errors.DataLossError` naming the file.
    """
    from google.protobuf.message import DecodeError

    for record in tf_record_iterator(path):
        try:
            yield event_pb2.Event.FromString(record)
        except DecodeError:
            from caudal.errors import DataLossError

            raise DataLossError(None, None, f"{os.fspath(path)}: a record is not an Event proto") from None
