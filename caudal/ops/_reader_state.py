"""The run-time state of TF1's readers: one object per reader per Session (`caudal.ops.reader_ops` has the ops).

A reader takes work units (file names) from a queue of strings and turns
each into records, as TensorFlow's ReaderBase does: a read starts the next
work unit when none is in progress, and a work unit that yields no record
(an empty file) is finished at once and the next one started. Keys are
TensorFlow's: `file:line` (1-based) for text lines, `file:index` for fixed
length records, `file:offset` for TFRecords, the file name for whole files,
the work unit itself for the identity reader.

A reader's position is plain data (`_position`: the work unit, counters and
the place in the file); open files are only a cache of it. So a run that
fails puts the position back (if no other run read meanwhile) and closes the
file; the next read reopens it there. One run reads a reader at a time: a
read that waits for a work unit keeps others out (`busy`), as TensorFlow's
reader mutex does.
"""
from __future__ import annotations

import io
import zlib
from typing import Any

import numpy as np

from caudal import errors
from caudal.summary.records import _open, iter_tfrecord_file

__all__ = ["ReaderState", "WholeFileReaderState", "TextLineReaderState", "FixedLengthRecordReaderState",
           "TFRecordReaderState", "IdentityReaderState", "READ_CANCELLED"]

READ_CANCELLED = "Read operation was cancelled"


def _path(work: bytes) -> str:
    return work.decode("utf-8", "surrogateescape")


def _c_escape(data: bytes) -> str:
    """Bytes as TF's CEscape writes them: printable ASCII as is, the rest as octal escapes."""
    out = []
    for byte in data:
        char = chr(byte)
        if char in "\\'\"":
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append({10: "\\n", 13: "\\r", 9: "\\t"}.get(byte, f"\\{byte:03o}"))
    return "".join(out)


# ------------------------------------------------------------------ ReaderBaseState, by hand
def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    if result >= 1 << 63:
        result -= 1 << 64
    return result, pos


def encode_state(started: int, finished: int, produced: int, work: bytes) -> bytes:
    """TF's ReaderBaseState message: fields 1-3 varints, 4 bytes; zero fields left out."""
    out = b""
    for number, value in ((1, started), (2, finished), (3, produced)):
        if value:
            out += bytes([number << 3]) + _varint(value)
    if work:
        out += bytes([(4 << 3) | 2]) + _varint(len(work)) + work
    return out


def decode_state(data: bytes) -> dict:
    fields = {1: 0, 2: 0, 3: 0, 4: b""}
    pos = 0
    while pos < len(data):
        key, pos = _read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if number in (1, 2, 3) and wire == 0:
            fields[number], pos = _read_varint(data, pos)
        elif number == 4 and wire == 2:
            length, pos = _read_varint(data, pos)
            if length < 0 or pos + length > len(data):
                raise ValueError("truncated bytes")
            fields[4], pos = data[pos:pos + length], pos + length
        else:
            raise ValueError(f"unexpected field {number}")
    return fields


def _state_text(fields: dict) -> str:
    lines = [f"{name}: {fields[n]}" for n, name in ((1, "work_started"), (2, "work_finished"),
                                                     (3, "num_records_produced")) if fields[n]]
    if fields[4]:
        lines.append(f'current_work: "{_c_escape(fields[4])}"')
    return "".join(line + "\n" for line in lines)


# ------------------------------------------------------------------ readers
class ReaderState:
    """What every reader keeps: the current work unit and TF's three counters."""

    kind = "ReaderBase"
    supports_serialize = False
    one_record_per_work = False  # the work unit ends with its record, not at the next read

    def __init__(self, name: str):
        self.name = name
        self.work = b""
        self.work_started = 0
        self.work_finished = 0
        self.produced = 0
        self.busy = False
        self.version = 0
        self._file: Any = None  # the open file of the work unit in progress, a cache of the position
        self._at: Any = None  # where in the work unit the next record starts (kind-specific)

    @property
    def in_progress(self) -> bool:
        return self.work_finished < self.work_started

    # ------------------------------------------------------ per kind
    def _start(self, op: Any) -> None:
        """Begins `self.work`: sets the position to its first record."""
        self._at = None

    def _next(self, op: Any) -> tuple[bytes, bytes] | None:
        """The next (key, value) of the work unit, or None at its end."""
        raise NotImplementedError

    def _close(self) -> None:
        file, self._file = self._file, None
        if file is not None and hasattr(file, "close"):
            file.close()

    # ------------------------------------------------------ reading
    def read(self, ctx: Any, queue: Any, count: int, op: Any) -> list[tuple[bytes, bytes]]:
        """Up to `count` records of one work unit (at least one), taking work units from `queue`."""
        if self.busy:
            ctx.wait(lambda: not self.busy, READ_CANCELLED)
        self._log_undo(ctx)
        self.busy = True
        try:
            records: list[tuple[bytes, bytes]] = []
            while not records:
                if not self.in_progress:
                    self._take_work(ctx, queue, op)
                while len(records) < count:
                    record = self._next(op)
                    if record is None:
                        self._finish()
                        break
                    records.append(record)
                    if self.one_record_per_work:
                        self._finish()
                        break
            self.produced += len(records)
            return records
        finally:
            self.busy = False
            ctx.notify()

    def _take_work(self, ctx: Any, queue: Any, op: Any) -> None:
        if len(queue.dtypes) != 1 or queue.dtypes[0].kind != "O":
            raise errors.InvalidArgumentError(None, op, "Expected queue with single string component")
        element = queue.dequeue(ctx, 1, op)[0]
        work = np.asarray(element[0])[()]
        if np.ndim(element[0]) != 0:
            raise errors.InvalidArgumentError(None, op, f"Expected to dequeue a one-element string tuple, got "
                                                        f"shape {list(np.shape(element[0]))}")
        self.work = work if isinstance(work, bytes) else str(work).encode()
        self.work_started += 1
        self._close()
        self._start(op)

    def _finish(self) -> None:
        self._close()
        self._at = None
        self.work_finished += 1

    # ------------------------------------------------------ state
    def position(self) -> tuple:
        return self.work, self.work_started, self.work_finished, self.produced, self._at

    def set_position(self, position: tuple) -> None:
        self._close()
        self.work, self.work_started, self.work_finished, self.produced, self._at = position

    def _log_undo(self, ctx: Any) -> None:
        """Puts the position back if the run fails and no other run used the reader since."""
        before = self.position()
        self.version += 1
        version = self.version

        def undo() -> None:
            if self.version == version:
                self.set_position(before)
                self.version -= 1
        ctx.on_rollback(undo)

    def reset(self, ctx: Any) -> None:
        self._log_undo(ctx)
        self.set_position((b"", 0, 0, 0, None))

    def serialize(self, op: Any) -> bytes:
        if not self.supports_serialize:
            raise errors.UnimplementedError(None, op, "Reader SerializeState")
        return encode_state(self.work_started, self.work_finished, self.produced, self.work)

    def restore(self, ctx: Any, data: bytes, op: Any) -> None:
        if not self.supports_serialize:
            raise errors.UnimplementedError(None, op, "Reader RestoreState")
        where = f"{self.kind} '{self.name}'"
        try:
            fields = decode_state(data)
        except ValueError:
            raise errors.InvalidArgumentError(None, op, f"Could not parse state for {where}: "
                                                        f"{_c_escape(data)}") from None
        if min(fields[1], fields[2], fields[3]) < 0:
            raise errors.InvalidArgumentError(None, op, f"Unexpected negative value when restoring in {where}: "
                                                        f"{_state_text(fields)}")
        if fields[1] > fields[2]:
            raise errors.InvalidArgumentError(None, op, f"Inconsistent work started vs. finished when restoring "
                                                        f"in {where}: {_state_text(fields)}")
        self._log_undo(ctx)
        self.set_position((fields[4], fields[1], fields[2], fields[3], None))


class WholeFileReaderState(ReaderState):
    """One record per file: key the file name, value its bytes."""

    kind = "WholeFileReader"
    supports_serialize = True
    one_record_per_work = True

    def _next(self, op: Any) -> tuple[bytes, bytes] | None:
        with _opened(_path(self.work), op) as f:
            return self.work, f.read()


class IdentityReaderState(ReaderState):
    """One record per work unit: the work unit as key and value."""

    kind = "IdentityReader"
    supports_serialize = True
    one_record_per_work = True

    def _next(self, op: Any) -> tuple[bytes, bytes] | None:
        return self.work, self.work


def _opened(path: str, op: Any) -> Any:
    try:
        return _open(path, "rb")
    except errors.OpError as e:
        raise type(e)(None, op, e.message) from None


class TextLineReaderState(ReaderState):
    """One record per line, without its newline (and a carriage return before it); the first
    `skip_header_lines` lines of each file are skipped. Position: (line number, byte offset)."""

    kind = "TextLineReader"

    def __init__(self, name: str, skip_header_lines: int):
        super().__init__(name)
        self.skip_header_lines = skip_header_lines

    def _start(self, op: Any) -> None:
        self._file = _opened(_path(self.work), op)
        line = 0
        while line < self.skip_header_lines and self._file.readline():
            line += 1
        self._at = (line, self._file.tell())

    def _next(self, op: Any) -> tuple[bytes, bytes] | None:
        line, offset = self._at
        if self._file is None:
            self._file = _opened(_path(self.work), op)
            self._file.seek(offset)
        text = self._file.readline()
        if not text:
            return None
        self._at = (line + 1, self._file.tell())
        if text.endswith(b"\n"):
            text = text[:-1]
        if text.endswith(b"\r"):
            text = text[:-1]
        return self.work + b":" + str(line + 1).encode(), text


class FixedLengthRecordReaderState(ReaderState):
    """Records of `record_bytes` bytes every `hop_bytes` (default `record_bytes`) bytes between a header
    and a footer; `encoding` "ZLIB" or "GZIP" reads a compressed file. Position: (index, offset)."""

    kind = "FixedLengthRecordReader"

    def __init__(self, name: str, header_bytes: int, record_bytes: int, footer_bytes: int, hop_bytes: int,
                 encoding: str):
        super().__init__(name)
        self.header_bytes = header_bytes
        self.record_bytes = record_bytes
        self.footer_bytes = footer_bytes
        self.hop_bytes = hop_bytes or record_bytes
        self.encoding = encoding
        self._end = 0

    def _load(self, op: Any) -> None:
        path = _path(self.work)
        if self.encoding:
            with _opened(path, op) as f:
                wbits = zlib.MAX_WBITS + (16 if self.encoding == "GZIP" else 0)
                try:
                    data = zlib.decompress(f.read(), wbits)
                except zlib.error as e:
                    raise errors.DataLossError(None, op, f"{path}: {e}") from None
            self._file = io.BytesIO(data)
            size = len(data)
        else:
            self._file = _opened(path, op)
            size = self._file.seek(0, 2)
        self._end = size - self.footer_bytes

    def _start(self, op: Any) -> None:
        self._load(op)
        self._at = (0, self.header_bytes)

    def _next(self, op: Any) -> tuple[bytes, bytes] | None:
        if self._file is None:
            self._load(op)
        index, offset = self._at
        if offset + self.record_bytes > self._end:
            return None
        self._file.seek(offset)
        value = self._file.read(self.record_bytes)
        self._at = (index + 1, offset + self.hop_bytes)
        return self.work + b":" + str(index).encode(), value


class TFRecordReaderState(ReaderState):
    """The records of TFRecord files (checked, optionally ZLIB/GZIP compressed), keyed by their offset.
    Position: (records read, offset of the next one)."""

    kind = "TFRecordReader"

    def __init__(self, name: str, compression_type: str):
        super().__init__(name)
        self.compression_type = compression_type

    def _records(self, skip: int, op: Any) -> Any:
        records = iter_tfrecord_file(_path(self.work), self.compression_type)
        try:
            for _ in range(skip):
                next(records)
        except StopIteration:
            pass
        except errors.OpError as e:
            raise type(e)(None, op, e.message) from None
        return records

    def _start(self, op: Any) -> None:
        self._at = (0, 0)
        self._file = self._records(0, op)

    def _next(self, op: Any) -> tuple[bytes, bytes] | None:
        count, offset = self._at
        if self._file is None:
            self._file = self._records(count, op)
        try:
            data = next(self._file)
        except StopIteration:
            return None
        except errors.OpError as e:
            self._file = None  # the generator is finished; a retry reopens the file at this record
            raise type(e)(None, op, e.message) from None
        self._at = (count + 1, offset + 16 + len(data))
        return self.work + b":" + str(offset).encode(), data
