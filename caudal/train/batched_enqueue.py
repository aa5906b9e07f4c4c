"""Queue runners' record pipelines run a batch of records per Session run.

The TF1 input pipeline `reader.read(filename_queue) -> parse_single_example -> decode -> normalise ->
queue.enqueue` makes a queue runner run its enqueue op once per record. TensorFlow runs those steps in
C++ at a few microseconds each; a caudal run of that op costs over a hundred. So a runner whose enqueue
op is such a pipeline runs it batched, as TF's map vectorization does for `tf.data`: up to
`RECORDS_PER_RUN` records are read in one run (`ReaderReadUpToV2`, which stops at the end of a file as
TF's does), and one more run puts them through a copy of the pipeline whose ops take the whole batch
(the batchable ops of `caudal.data.vectorize`) into `QueueEnqueueManyV2`. The copies live in a graph of
their own, so the user's graph is unchanged; the reader and queue ops are copied with their names and
attributes, which makes them the Session's same reader and queues.

A pipeline qualifies when its enqueue op is `QueueEnqueueV2` into a FIFO or random-shuffle queue, every
component is computed from the record of one `ReaderReadV2` through batchable ops and constants, and
nothing has control inputs or state. Any other enqueue op runs once per element as before.

What differs from TF: a runner thread takes up to `RECORDS_PER_RUN` records at a time, so with several
threads the records interleave in batches (TF's threads interleave unpredictably record by record). A
batch whose batched run fails other than by the queue closing is put through the original enqueue op
one record at a time (the reader's outputs fed), so an error is raised for the record that causes it,
with TF's message; the records after it in that batch are dropped.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal import errors
from caudal.data.vectorize import copy_batched
from caudal.framework import dtypes
from caudal.framework.graph import Graph
from caudal.framework.tensor_shape import TensorShape

__all__ = ["RECORDS_PER_RUN", "BatchedEnqueue", "batched_enqueue"]

RECORDS_PER_RUN = 128
_QUEUES = frozenset(["FIFOQueueV2", "RandomShuffleQueueV2"])
_READERS = frozenset(["TFRecordReaderV2", "TextLineReaderV2", "FixedLengthRecordReaderV2", "WholeFileReaderV2",
                      "IdentityReaderV2"])
_CLOSED = (errors.OutOfRangeError, errors.CancelledError)


def _pipeline_ops(enqueue_op: Any) -> list[Any] | None:
    """The ops between the enqueue op's components and their sources, in graph order; None when an op has
    control inputs."""
    seen: set[Any] = set()
    stack = [t.op for t in enqueue_op.inputs[1:]]
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        if op._control_inputs:
            return None
        seen.add(op)
        stack.extend(t.op for t in op.inputs)
    return sorted(seen, key=lambda op: op._id)


def _no_inputs(op: Any, types: frozenset) -> bool:
    return op.type in types and not op.inputs and not op._control_inputs


class BatchedEnqueue:
    """Runs the batched form of one enqueue op in a Session (see the module docstring)."""

    def __init__(self, enqueue_op: Any, read_op: Any, graph: Graph, read_outputs: tuple, records: tuple,
                 enqueue_many: Any):
        self._enqueue_op, self._read_op = enqueue_op, read_op
        self.graph = graph
        self._read_outputs, self._records, self._enqueue_many = read_outputs, records, enqueue_many
        self._per_record: dict[Any, Any] = {}

    def __call__(self, sess: Any) -> None:
        if sess._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        keys, values = sess._execute(self._read_outputs, (), [])
        try:
            sess._execute((self._enqueue_many,), self._records, [keys, values])
        except _CLOSED:
            raise
        except (errors.OpError, ValueError):
            self._one_record_at_a_time(sess, keys, values)

    def _one_record_at_a_time(self, sess: Any, keys: Any, values: Any) -> None:
        run = self._per_record.get(sess)
        if run is None:
            run = self._per_record[sess] = sess.make_callable(self._enqueue_op, feed_list=list(self._read_op.outputs))
        for key, value in zip(keys, values):
            run(key, value)


def batched_enqueue(enqueue_op: Any) -> BatchedEnqueue | None:
    """The batched form of `enqueue_op`, or None when it is not a record pipeline that qualifies."""
    if enqueue_op.type != "QueueEnqueueV2" or enqueue_op._control_inputs:
        return None
    queue_op = enqueue_op.inputs[0].op
    ops = _pipeline_ops(enqueue_op)
    if not _no_inputs(queue_op, _QUEUES) or ops is None:
        return None
    reads = [op for op in ops if op.type == "ReaderReadV2"]
    if len(reads) != 1:
        return None
    read = reads[0]
    reader_op, filenames_op = read.inputs[0].op, read.inputs[1].op
    if not _no_inputs(reader_op, _READERS) or not _no_inputs(filenames_op, _QUEUES):
        return None
    graph = Graph()
    mapped: dict[Any, tuple[Any, bool]] = {}

    def copy(op: Any) -> Any:
        """The same resource op (name and attributes) in `graph`: the Session's same reader or queue."""
        attrs = {k: v for k, v in op._attrs.items() if k != "_output_shapes"}
        return graph.create_op(op.type, [], attrs, op.name).outputs[0]

    with graph.as_default():
        count = graph.create_op("Const", [], {"dtype": dtypes.int64, "value": np.asarray(RECORDS_PER_RUN, np.int64)},
                                "records_per_run").outputs[0]
        read_up_to = graph.create_op("ReaderReadUpToV2", [copy(reader_op), copy(filenames_op), count], {},
                                     read.name + "_batched")
        records = tuple(graph.create_op("Placeholder", [], {"dtype": dtypes.string, "shape": TensorShape([None])},
                                        f"{read.name}_batched_{i}").outputs[0] for i in range(2))
        for old, new in zip(read.outputs, records):
            mapped[old] = (new, True)
        for op in ops:
            if op not in (read, reader_op, filenames_op) and not copy_batched(graph, op, mapped):
                return None
        components = [mapped[t] for t in enqueue_op.inputs[1:]]
        if not all(b for _, b in components):
            return None
        attrs = {k: v for k, v in enqueue_op._attrs.items() if k != "_output_shapes"}
        enqueue_many = graph.create_op("QueueEnqueueManyV2", [copy(queue_op)] + [t for t, _ in components], attrs,
                                       enqueue_op.name + "_batched")
    return BatchedEnqueue(enqueue_op, read, graph, tuple(read_up_to.outputs), records, enqueue_many)
