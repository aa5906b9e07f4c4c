"""TF1's readers: `tf.WholeFileReader`, `tf.TextLineReader`, `tf.FixedLengthRecordReader`,
`tf.TFRecordReader`, `tf.IdentityReader` and `tf.ReaderBase`, with TensorFlow's op types
(`WholeFileReaderV2`, ..., `ReaderReadV2`, `ReaderReadUpToV2`, `ReaderNumRecordsProducedV2`,
`ReaderNumWorkUnitsCompletedV2`, `ReaderSerializeStateV2`, `ReaderRestoreStateV2`, `ReaderResetV2`).

A reader op's output is a `resource` handle whose value is the reader's state
in the running Session (`caudal.ops._reader_state`), kept from the first run
that needs it. `read(queue)` takes file names from `queue` (a queue of
strings) as it needs them, so it waits like a dequeue when the queue is empty
and raises the queue's OutOfRangeError once it is closed and drained.

Differences from TensorFlow: a run that fails leaves the reader where it was
and the file name it took back in the queue (TensorFlow moves on to the next
file), and a restore_state that fails leaves the state as it was (TensorFlow
resets it). Only the whole-file and identity readers serialize their state,
as in TensorFlow.
"""
from __future__ import annotations

import collections
from typing import Any

import numpy as np

from caudal import errors
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, get_default_graph, name_scope
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _reader_state as state
from caudal.ops import queue_ops

__all__ = ["ReaderBase", "WholeFileReader", "TextLineReader", "FixedLengthRecordReader", "TFRecordReader",
           "IdentityReader", "READER_OP_TYPES"]

READER_OP_TYPES = ["WholeFileReaderV2", "TextLineReaderV2", "FixedLengthRecordReaderV2", "TFRecordReaderV2",
                   "IdentityReaderV2", "ReaderReadV2", "ReaderReadUpToV2", "ReaderNumRecordsProducedV2",
                   "ReaderNumWorkUnitsCompletedV2", "ReaderSerializeStateV2", "ReaderRestoreStateV2", "ReaderResetV2"]

ReaderReadV2 = collections.namedtuple("ReaderReadV2", ["key", "value"])
ReaderReadUpToV2 = collections.namedtuple("ReaderReadUpToV2", ["keys", "values"])

# Each reader op's attrs and their defaults.
_READER_ATTRS: dict[str, dict[str, Any]] = {
    "WholeFileReaderV2": {},
    "IdentityReaderV2": {},
    "TextLineReaderV2": {"skip_header_lines": 0},
    "FixedLengthRecordReaderV2": {"header_bytes": 0, "footer_bytes": 0, "hop_bytes": 0, "encoding": ""},
    "TFRecordReaderV2": {"compression_type": ""},
}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _reader_infer(ctx: InferContext) -> list:
    ctx.attrs.setdefault("container", "")
    ctx.attrs.setdefault("shared_name", "")
    for attr, default in _READER_ATTRS[ctx.type].items():
        ctx.attrs.setdefault(attr, default)
    if ctx.type == "FixedLengthRecordReaderV2" and "record_bytes" not in ctx.attrs:
        raise ValueError("FixedLengthRecordReaderV2 needs the attr record_bytes")
    return [(dtypes_lib.resource, TensorShape([]))]


def _reader_bind(op: Operation) -> dict:
    shared = _text(op._attrs.get("shared_name") or "")
    return {"key": ("reader", shared or op.name), "name": shared or op.name}


def _make_reader(op: Any, name: str) -> state.ReaderState:
    attrs = op._attrs
    if op.type == "WholeFileReaderV2":
        return state.WholeFileReaderState(name)
    if op.type == "IdentityReaderV2":
        return state.IdentityReaderState(name)
    if op.type == "TextLineReaderV2":
        return state.TextLineReaderState(name, int(attrs["skip_header_lines"]))
    if op.type == "TFRecordReaderV2":
        return state.TFRecordReaderState(name, _text(attrs["compression_type"]))
    sizes = {attr: int(attrs[attr]) for attr in ("header_bytes", "record_bytes", "footer_bytes", "hop_bytes")}
    for attr, value in sizes.items():
        if attr == "record_bytes" and value <= 0:
            raise errors.InvalidArgumentError(None, op, f"record_bytes must be > 0 not {value}")
        if value < 0:
            raise errors.InvalidArgumentError(None, op, f"{attr} must be >= 0 not {value}")
    encoding = _text(attrs["encoding"])
    if encoding not in ("", "ZLIB", "GZIP"):
        raise errors.InvalidArgumentError(None, op, f"Unsupported encoding: {encoding}")
    return state.FixedLengthRecordReaderState(name, sizes["header_bytes"], sizes["record_bytes"],
                                              sizes["footer_bytes"], sizes["hop_bytes"], encoding)


def _reader_kernel(ctx: Any, *, key: tuple, name: str, op: Any) -> state.ReaderState:
    resources = ctx.store.resources
    reader = resources.get(key)
    if reader is None:
        reader = resources[key] = _make_reader(op, name)  # kept at once, as queues are
    return reader


for _type in _READER_ATTRS:
    register_op(_type, infer=_reader_infer, kernel=_reader_kernel, bind=_reader_bind, grad=NOT_DIFFERENTIABLE,
                stateful=True)


def _reader_of(handle: Any, op: Any) -> state.ReaderState:
    if not isinstance(handle, state.ReaderState):
        raise errors.InvalidArgumentError(None, op, "Input 'reader_handle' is not a reader handle")
    return handle


def _check_resources(ctx: InferContext, count: int) -> None:
    for i, param in list(enumerate(("reader_handle", "queue_handle")))[:count]:
        if ctx.dtype(i) is not dtypes_lib.resource:
            raise TypeError(f"Input '{param}' of '{ctx.type}' Op has type {ctx.dtype(i).name} that does not match "
                            "expected type of resource.")


def _read_infer(ctx: InferContext) -> list:
    _check_resources(ctx, 2)
    if ctx.type == "ReaderReadV2":
        return [(dtypes_lib.string, TensorShape([])), (dtypes_lib.string, TensorShape([]))]
    if ctx.dtype(2) is not dtypes_lib.int64:
        raise TypeError(f"Input 'num_records' of 'ReaderReadUpToV2' Op has type {ctx.dtype(2).name} that does not "
                        "match expected type of int64.")
    return [(dtypes_lib.string, TensorShape([None])), (dtypes_lib.string, TensorShape([None]))]


def _strings(values: list[bytes]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _read_kernel(ctx: Any, reader: Any, queue: Any, *, op: Any) -> tuple:
    records = _reader_of(reader, op).read(ctx, queue_ops.queue_of(queue, op), 1, op)
    key, value = records[0]
    return np.array(key, dtype=object), np.array(value, dtype=object)


def _read_up_to_kernel(ctx: Any, reader: Any, queue: Any, num_records: Any, *, op: Any) -> tuple:
    count = int(num_records)
    if count <= 0:
        raise errors.InvalidArgumentError(None, op, f"num_records must be > 0 but got {count}")
    records = _reader_of(reader, op).read(ctx, queue_ops.queue_of(queue, op), count, op)
    return _strings([k for k, _ in records]), _strings([v for _, v in records])


register_op("ReaderReadV2", infer=_read_infer, kernel=_read_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("ReaderReadUpToV2", infer=_read_infer, kernel=_read_up_to_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)


def _scalar_infer(dtype: Any) -> Any:
    def infer(ctx: InferContext) -> list:
        _check_resources(ctx, 1)
        return [(dtype, TensorShape([]))]
    return infer


def _num_records_kernel(ctx: Any, reader: Any, *, op: Any) -> Any:
    return np.asarray(_reader_of(reader, op).produced, np.int64)


def _num_work_units_kernel(ctx: Any, reader: Any, *, op: Any) -> Any:
    return np.asarray(_reader_of(reader, op).work_finished, np.int64)


def _serialize_kernel(ctx: Any, reader: Any, *, op: Any) -> Any:
    return np.array(_reader_of(reader, op).serialize(op), dtype=object)


def _no_outputs_infer(ctx: InferContext) -> list:
    _check_resources(ctx, 1)
    if ctx.type == "ReaderRestoreStateV2" and ctx.dtype(1) is not dtypes_lib.string:
        raise TypeError(f"Input 'state' of 'ReaderRestoreStateV2' Op has type {ctx.dtype(1).name} that does not "
                        "match expected type of string.")
    return []


def _restore_kernel(ctx: Any, reader: Any, serialized: Any, *, op: Any) -> None:
    data = np.asarray(serialized)[()]
    _reader_of(reader, op).restore(ctx, data if isinstance(data, bytes) else str(data).encode(), op)


def _reset_kernel(ctx: Any, reader: Any, *, op: Any) -> None:
    _reader_of(reader, op).reset(ctx)


register_op("ReaderNumRecordsProducedV2", infer=_scalar_infer(dtypes_lib.int64), kernel=_num_records_kernel,
            grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("ReaderNumWorkUnitsCompletedV2", infer=_scalar_infer(dtypes_lib.int64), kernel=_num_work_units_kernel,
            grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("ReaderSerializeStateV2", infer=_scalar_infer(dtypes_lib.string), kernel=_serialize_kernel,
            grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("ReaderRestoreStateV2", infer=_no_outputs_infer, kernel=_restore_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)
register_op("ReaderResetV2", infer=_no_outputs_infer, kernel=_reset_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)


# ------------------------------------------------------------------ the Python classes
def _queue_ref(queue: Any) -> Tensor:
    return queue if isinstance(queue, Tensor) else queue.queue_ref


class ReaderBase:
    """`tf.ReaderBase(reader_ref, supports_serialize=False)`: the methods every reader has."""

    def __init__(self, reader_ref: Tensor, supports_serialize: bool = False):
        self._reader_ref = reader_ref
        self._supports_serialize = supports_serialize

    @property
    def reader_ref(self) -> Tensor:
        return self._reader_ref

    @property
    def supports_serialize(self) -> bool:
        return self._supports_serialize

    def _op(self, op_type: str, inputs: list[Tensor], name: str | None) -> Operation:
        return self._reader_ref.graph.create_op(op_type, [self._reader_ref] + inputs, {}, name=name or op_type)

    def read(self, queue: Any, name: str | None = None) -> ReaderReadV2:
        """`(key, value)` of the next record; takes a work unit (a file name) from `queue` when needed."""
        op = self._op("ReaderReadV2", [_queue_ref(queue)], name)
        return ReaderReadV2(*op.outputs)

    def read_up_to(self, queue: Any, num_records: Any, name: str | None = None) -> ReaderReadUpToV2:
        """`(keys, values)`: up to `num_records` records of one work unit, at least one."""
        with name_scope(name, "ReaderReadUpToV2", [self._reader_ref]) as scope:
            count = convert_to_tensor(num_records, dtype=dtypes_lib.int64, name="num_records")
            op = self._reader_ref.graph.create_op("ReaderReadUpToV2", [self._reader_ref, _queue_ref(queue), count],
                                                  {}, name=scope)
        return ReaderReadUpToV2(*op.outputs)

    def num_records_produced(self, name: str | None = None) -> Tensor:
        return self._op("ReaderNumRecordsProducedV2", [], name).outputs[0]

    def num_work_units_completed(self, name: str | None = None) -> Tensor:
        return self._op("ReaderNumWorkUnitsCompletedV2", [], name).outputs[0]

    def serialize_state(self, name: str | None = None) -> Tensor:
        """The reader's state as a string (UnimplementedError at run time unless `supports_serialize`)."""
        return self._op("ReaderSerializeStateV2", [], name).outputs[0]

    def restore_state(self, state: Any, name: str | None = None) -> Operation:
        with name_scope(name, "ReaderRestoreStateV2", [self._reader_ref]) as scope:
            value = convert_to_tensor(state, dtype=dtypes_lib.string, name="state")
            return self._reader_ref.graph.create_op("ReaderRestoreStateV2", [self._reader_ref, value], {},
                                                    name=scope)

    def reset(self, name: str | None = None) -> Operation:
        """An op putting the reader back to its initial state."""
        return self._op("ReaderResetV2", [], name)


def _reader_ref(op_type: str, attrs: dict, name: str | None) -> Tensor:
    attrs = dict(attrs, container="", shared_name="")
    return get_default_graph().create_op(op_type, [], attrs, name=name or op_type).outputs[0]


class WholeFileReader(ReaderBase):
    """`tf.WholeFileReader(name=None)`: each file is one record, keyed by its name."""

    def __init__(self, name: str | None = None):
        super().__init__(_reader_ref("WholeFileReaderV2", {}, name), supports_serialize=True)


class IdentityReader(ReaderBase):
    """`tf.IdentityReader(name=None)`: each work unit is one record, as both key and value."""

    def __init__(self, name: str | None = None):
        super().__init__(_reader_ref("IdentityReaderV2", {}, name), supports_serialize=True)


class TextLineReader(ReaderBase):
    """`tf.TextLineReader(skip_header_lines=None, name=None)`: one record per line, keyed `file:line`."""

    def __init__(self, skip_header_lines: int | None = None, name: str | None = None):
        super().__init__(_reader_ref("TextLineReaderV2", {"skip_header_lines": int(skip_header_lines or 0)}, name))


class FixedLengthRecordReader(ReaderBase):
    """`tf.FixedLengthRecordReader(record_bytes, header_bytes=None, footer_bytes=None, hop_bytes=None,
    name=None, encoding=None)`: records of `record_bytes` bytes, keyed `file:index`."""

    def __init__(self, record_bytes: int, header_bytes: int | None = None, footer_bytes: int | None = None,
                 hop_bytes: int | None = None, name: str | None = None, encoding: str | None = None):
        attrs = {"header_bytes": int(header_bytes or 0), "record_bytes": int(record_bytes),
                 "footer_bytes": int(footer_bytes or 0), "hop_bytes": int(hop_bytes or 0),
                 "encoding": encoding or ""}
        super().__init__(_reader_ref("FixedLengthRecordReaderV2", attrs, name))


class TFRecordReader(ReaderBase):
    """`tf.TFRecordReader(name=None, options=None)`: the records of TFRecord files, keyed `file:offset`;
    `options` (a TFRecordOptions or compression type) says how the files are compressed."""

    def __init__(self, name: str | None = None, options: Any = None):
        from caudal.summary.records import TFRecordOptions

        compression = TFRecordOptions.get_compression_type_string(options)
        super().__init__(_reader_ref("TFRecordReaderV2", {"compression_type": compression}, name))
