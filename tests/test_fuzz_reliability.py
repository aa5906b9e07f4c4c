"""Property-based fuzzing of the inputs caudal reads from outside: GraphDefs, feeds, checkpoint indexes and event
records. Every outcome is a result or a typed error (a `caudal.errors` class, or the ValueError/TypeError that
TensorFlow documents for a bad GraphDef or feed), within a time and memory bound, with nothing changed.

The default suite runs a few examples of each (deterministic, a few seconds in all); `pytest -m slow` runs many
more, with fresh random examples each time.
"""
from __future__ import annotations

import os
import struct
import tempfile
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import caudal as tf
from caudal import errors
from caudal.checkpoint.bundle import BundleWriter, write_index
from caudal.checkpoint.crc import masked_crc32c
from caudal.proto import attr_value_pb2, graph_pb2, tensor_bundle_pb2, versions_pb2

_FAST = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                 suppress_health_check=list(HealthCheck))
_SLOW = settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
_TIME_LIMIT_S = 5.0
_MEMORY_LIMIT = 256 << 20


def _bounded(call):
    """Runs `call()`; the outcome (its result, or the typed error it raised), checked for time and memory."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        try:
            outcome = call()
        except (errors.OpError, ValueError, TypeError) as e:
            assert type(e) not in (OverflowError, MemoryError, IndexError, KeyError), repr(e)
            outcome = e
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < _TIME_LIMIT_S
    assert peak < _MEMORY_LIMIT, f"peak {peak} bytes"
    return outcome


def _both(strategy_args: dict):
    """Registers a property as a fast test and a slow one."""
    def decorate(fn):
        fast = _FAST(given(**strategy_args)(fn))
        slow = pytest.mark.slow(_SLOW(given(**strategy_args)(fn)))
        return fast, slow
    return decorate


# ------------------------------------------------------------------ GraphDefs
_DTYPES = [tf.float32, tf.int32, tf.int64, tf.bool, tf.string, tf.float64]
_NAMES = ["a", "b", "c", "d", "e"]


@st.composite
def _attr_values(draw):
    kind = draw(st.sampled_from(["type", "i", "f", "b", "s", "shape", "tensor", "list_i", "list_type", "empty"]))
    value = attr_value_pb2.AttrValue()
    if kind == "type":
        value.type = draw(st.sampled_from([d.as_datatype_enum for d in _DTYPES] + [0, 101, 999]))
    elif kind == "i":
        value.i = draw(st.integers(-3, 5))
    elif kind == "f":
        value.f = draw(st.floats(allow_nan=True, width=32))
    elif kind == "b":
        value.b = draw(st.booleans())
    elif kind == "s":
        value.s = draw(st.binary(max_size=4))
    elif kind == "shape":
        if draw(st.booleans()):
            value.shape.unknown_rank = True
        for size in draw(st.lists(st.integers(-3, 4), max_size=3)):
            value.shape.dim.add().size = size
    elif kind == "tensor":
        tensor = value.tensor
        tensor.dtype = draw(st.sampled_from([d.as_datatype_enum for d in _DTYPES]))
        for size in draw(st.lists(st.sampled_from([-1, 0, 1, 3, 1 << 40]), max_size=3)):
            tensor.tensor_shape.dim.add().size = size
        if draw(st.booleans()):
            tensor.float_val.append(1.0)
            tensor.int_val.append(2)
        if draw(st.booleans()):
            tensor.tensor_content = draw(st.binary(max_size=16))
    elif kind == "list_i":
        value.list.i.extend(draw(st.lists(st.integers(-2, 4), max_size=3)))
    elif kind == "list_type":
        value.list.type.extend(draw(st.lists(st.sampled_from([1, 3, 9]), max_size=3)))
    return value


_OPS = {"Const": ["dtype", "value"], "Placeholder": ["dtype", "shape"], "Identity": ["T"], "Add": ["T"],
        "MatMul": ["T", "transpose_a", "transpose_b"], "Cast": ["SrcT", "DstT", "Truncate"],
        "Reshape": ["T", "Tshape"], "Fill": ["T", "index_type"], "AddN": ["N", "T"], "NoOp": [],
        "ConcatV2": ["N", "T", "Tidx"], "Unknown_Op": ["T"]}


@st.composite
def _graph_defs(draw):
    graph_def = graph_pb2.GraphDef()
    count = draw(st.integers(1, 5))
    for i in range(count):
        node = graph_def.node.add()
        node.name = draw(st.sampled_from(_NAMES[:count] + ["a"])) if draw(st.integers(0, 9)) == 0 else _NAMES[i]
        node.op = draw(st.sampled_from(sorted(_OPS)))
        for key in _OPS[node.op]:
            if draw(st.integers(0, 5)):
                node.attr[key].CopyFrom(draw(_attr_values()))
        for _ in range(draw(st.integers(0, 3))):
            source = draw(st.sampled_from(_NAMES[:count] + ["zz"]))
            node.input.append(draw(st.sampled_from([source, f"{source}:1", f"^{source}", f"{source}:0"])))
    return graph_def


def _graph_state(graph):
    return [op.name for op in graph.get_operations()], dict(graph._names_in_use)


def _import_graph_def(graph_def):
    graph = tf.Graph()
    with graph.as_default():
        tf.constant(0.0, name="a")
        before = _graph_state(graph)
        outcome = _bounded(lambda: tf.import_graph_def(graph_def, name=""))
        if isinstance(outcome, Exception):
            assert isinstance(outcome, (ValueError, errors.NotFoundError)), repr(outcome)
            assert _graph_state(graph) == before
            return
        imported = [op for op in graph.get_operations() if op.name not in before[0]]
        fetches = [t for op in imported if op.type != "Placeholder" for t in op.outputs]
        with tf.Session(graph=graph) as sess:
            for tensor in fetches:
                _bounded(lambda t=tensor: sess.run(t))


test_fuzz_graph_defs, test_fuzz_graph_defs_slow = _both({"graph_def": _graph_defs()})(_import_graph_def)


# ------------------------------------------------------------------ feeds
_FEED_VALUES = st.recursive(
    st.one_of(st.integers(-(2 ** 70), 2 ** 70), st.floats(), st.booleans(), st.binary(max_size=3),
              st.text(max_size=3), st.none()),
    lambda children: st.lists(children, max_size=3), max_leaves=8)


def _feed(dtype_index: int, shape: list[int | None] | None, value) -> None:
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(_DTYPES[dtype_index], shape, name="x")
        y = tf.identity(x)
        with tf.Session(graph=graph) as sess:
            outcome = _bounded(lambda: sess.run(y, {x: value}))
    if isinstance(outcome, Exception):
        assert isinstance(outcome, (ValueError, TypeError, errors.InvalidArgumentError)), repr(outcome)
        assert "x:0" in str(outcome) or isinstance(outcome, errors.OpError), str(outcome)
    else:
        assert isinstance(outcome, (np.ndarray, np.generic, bytes))


test_fuzz_feeds, test_fuzz_feeds_slow = _both({
    "dtype_index": st.integers(0, len(_DTYPES) - 1),
    "shape": st.one_of(st.none(), st.lists(st.sampled_from([None, 0, 1, 2, 3]), max_size=3)),
    "value": _FEED_VALUES})(_feed)


# ------------------------------------------------------------------ checkpoint indexes
_DIMENSIONS = st.sampled_from([0, 1, 2, 3, 64, -1, -5, 1 << 31, 1 << 40, (1 << 63) - 1])


@st.composite
def _entries(draw):
    entry = tensor_bundle_pb2.BundleEntryProto(
        dtype=draw(st.sampled_from([1, 2, 3, 7, 9, 10, 14, 19, 20, 21, 0, 99, 101, 1000])),
        shard_id=draw(st.sampled_from([0, 0, 1, -1])), offset=draw(st.sampled_from([0, 4, 63, 64, 1 << 40, -1])),
        size=draw(_DIMENSIONS), crc32c=draw(st.integers(0, 2 ** 32 - 1)))
    for size in draw(st.lists(_DIMENSIONS, max_size=3)):
        entry.shape.dim.add().size = size
    return entry


def _read_all(prefix: str) -> list:
    reader = tf.train.NewCheckpointReader(prefix)
    values = []
    for name in sorted(reader.get_variable_to_shape_map()):
        try:
            values.append(reader.get_tensor(name))
        except errors.OpError as e:
            values.append(e)
    reader.debug_string()
    reader.get_variable_to_dtype_map()
    return values


def _snapshot(directory: str) -> dict[str, bytes]:
    return {name: open(os.path.join(directory, name), "rb").read() for name in sorted(os.listdir(directory))}


def _crafted_index(num_shards: int, entries: list, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        prefix = os.path.join(directory, "ckpt")
        header = tensor_bundle_pb2.BundleHeaderProto(num_shards=num_shards,
                                                     version=versions_pb2.VersionDef(producer=1))
        write_index(prefix + ".index", header, {f"v{i}".encode(): e for i, e in enumerate(entries)})
        with open(prefix + ".data-00000-of-00001", "wb") as f:
            f.write(data)
        before = _snapshot(directory)
        outcome = _bounded(lambda: _read_all(prefix))
        assert not isinstance(outcome, (ValueError, TypeError)), repr(outcome)
        assert _snapshot(directory) == before


test_fuzz_checkpoint_entries, test_fuzz_checkpoint_entries_slow = _both({
    "num_shards": st.sampled_from([1, 1, 0, 2, -1]), "entries": st.lists(_entries(), min_size=1, max_size=3),
    "data": st.binary(max_size=80)})(_crafted_index)

_VALID_INDEX: dict[str, bytes] = {}


def _valid_checkpoint() -> dict[str, bytes]:
    if not _VALID_INDEX:
        with tempfile.TemporaryDirectory() as directory:
            prefix = os.path.join(directory, "ckpt")
            with BundleWriter(prefix) as writer:
                writer.add("a", np.arange(12, dtype=np.float32).reshape(3, 4))
                writer.add("s", np.array([b"xy", b"", b"hello"], dtype=object))
                writer.add("b", np.array(True))
            _VALID_INDEX.update(_snapshot(directory))
    return _VALID_INDEX


def _damaged_index(edits: list[tuple[int, int]], cut: int | None) -> None:
    files = _valid_checkpoint()
    with tempfile.TemporaryDirectory() as directory:
        for name, content in files.items():
            content = bytearray(content)
            if name.endswith(".index"):
                for position, byte in edits:
                    content[position % len(content)] = byte
                if cut is not None:
                    del content[cut % (len(content) + 1):]
            with open(os.path.join(directory, name), "wb") as f:
                f.write(content)
        before = _snapshot(directory)
        outcome = _bounded(lambda: _read_all(os.path.join(directory, "ckpt")))
        assert not isinstance(outcome, (ValueError, TypeError)), repr(outcome)
        assert _snapshot(directory) == before


test_fuzz_damaged_index, test_fuzz_damaged_index_slow = _both({
    "edits": st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)), max_size=4),
    "cut": st.one_of(st.none(), st.integers(0, 10 ** 6))})(_damaged_index)


# ------------------------------------------------------------------ event records
def _record(length: int, crc_ok: bool, body: bytes) -> bytes:
    header = struct.pack("<Q", length)
    crc = masked_crc32c(header) if crc_ok else 0
    footer = struct.pack("<I", masked_crc32c(body[:length]))
    return header + struct.pack("<I", crc) + body + footer


def _event_file(records: list[tuple[int, bool, bytes]], tail: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "events.out.tfevents.1.fuzz")
        with open(path, "wb") as f:
            for length, crc_ok, body in records:
                f.write(_record(length, crc_ok, body))
            f.write(tail)
        outcome = _bounded(lambda: list(tf.train.summary_iterator(path)))
        if isinstance(outcome, Exception):
            assert isinstance(outcome, errors.DataLossError), repr(outcome)
            assert path in str(outcome)


test_fuzz_event_records, test_fuzz_event_records_slow = _both({
    "records": st.lists(st.tuples(st.one_of(st.integers(0, 12), st.sampled_from([1 << 31, 1 << 62, (1 << 64) - 1])),
                                  st.booleans(), st.binary(max_size=12)), max_size=4),
    "tail": st.binary(max_size=20)})(_event_file)
