"""Event files: TFRecord framing, FileWriter, summary_iterator, and reading caudal's logs with TensorBoard."""
from __future__ import annotations

import glob
import os
import re
import socket
import struct
import time
import warnings

import numpy as np
import pytest

import caudal as tf
import caudal.summary  # noqa: F401 - registers the summary ops
from caudal.errors import DataLossError
from caudal.proto import config_pb2, event_pb2, summary_pb2
from caudal.summary.records import TFRecordWriter, encode_record, masked_crc32c, tf_record_iterator
from caudal.summary.writer import FileWriter, FileWriterCache, summary_iterator


def events_of(path: str) -> list[event_pb2.Event]:
    return list(summary_iterator(path))


def only_file(logdir: str) -> str:
    files = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
    assert len(files) == 1, files
    return files[0]


def scalar_summary(tag: str, value: float) -> summary_pb2.Summary:
    return summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])


# ----------------------------------------------------------------- records
def test_masked_crc32c():
    # CRC-32C("123456789") is 0xE3069283, the standard check value; the mask rotates and adds.
    crc = 0xE3069283
    assert masked_crc32c(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def test_record_bytes():
    record = encode_record(b"abc")
    assert len(record) == 8 + 4 + 3 + 4
    assert record[:8] == struct.pack("<Q", 3)
    assert struct.unpack("<I", record[8:12])[0] == masked_crc32c(record[:8])
    assert record[12:15] == b"abc"
    assert struct.unpack("<I", record[15:])[0] == masked_crc32c(b"abc")
    # The bytes TensorFlow 2.21's tf.io.TFRecordWriter writes for b"abc".
    assert record.hex() == "0300000000000000" + "b099490e" + "616263" + "6e57f121"


def test_record_writer_and_reader_round_trip(tmp_path):
    path = tmp_path / "data.tfrecord"
    payloads = [b"", b"x", bytes(range(256)) * 5]
    with TFRecordWriter(path) as writer:
        for payload in payloads:
            writer.write(payload)
    assert list(tf_record_iterator(path)) == payloads


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:20] + bytes([data[20] ^ 1]) + data[21:], "corrupted record at 12"),
    (lambda data: data[:4] + bytes([data[4] ^ 1]) + data[5:], "corrupted record at 0"),
    (lambda data: data[:-3], "truncated record at 28' failed with Read less bytes than requested"),
    (lambda data: data[:-18 - 5], "truncated record at 0' failed with Read less bytes than requested"),
])
def test_damaged_records_raise_data_loss_naming_the_file(tmp_path, damage, message):
    path = tmp_path / "damaged.tfrecord"
    with TFRecordWriter(path) as writer:
        writer.write(b"first record")  # 12 + 12 + 4 bytes
        writer.write(b"second")  # 12 + 6 + 4 bytes
    data = (tmp_path / "damaged.tfrecord").read_bytes()
    assert len(data) == 28 + 22
    (tmp_path / "damaged.tfrecord").write_bytes(damage(data))
    with pytest.raises(DataLossError, match=re.escape(str(path)) + ": " + message):
        list(tf_record_iterator(path))


def test_corrupted_event_file(tmp_path):
    with FileWriter(str(tmp_path)) as writer:
        writer.add_summary(scalar_summary("loss", 1.0), 1)
    path = only_file(str(tmp_path))
    data = bytearray(open(path, "rb").read())
    data[-6] ^= 0xFF
    open(path, "wb").write(bytes(data))
    with pytest.raises(DataLossError, match=re.escape(path) + ": corrupted record at"):
        events_of(path)
    with pytest.raises(tf.errors.NotFoundError):
        list(summary_iterator(str(tmp_path / "missing")))


# -------------------------------------------------------------- FileWriter
def test_file_name_and_first_event(tmp_path):
    before = int(time.time())
    writer = FileWriter(str(tmp_path / "run"), filename_suffix=".sfx")
    path = writer.event_file_path
    assert os.path.exists(path)  # created with the writer, like TF's
    name = os.path.basename(path)
    match = re.fullmatch(r"events\.out\.tfevents\.(\d{10})\.(.+)\.sfx", name)
    assert match and match.group(2) == socket.gethostname()
    assert before <= int(match.group(1)) <= int(time.time())
    assert writer.get_logdir() == str(tmp_path / "run")
    writer.close()
    (first,) = events_of(path)
    assert first.file_version == "brain.Event:2" and first.wall_time == int(match.group(1))
    assert first.source_metadata.writer


def test_events_written(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        x = tf.constant(1.0, name="x")
        summary = tf.summary.scalar("x", x)
        with tf.Session() as sess:
            serialized = sess.run(summary)
    writer = FileWriter(str(tmp_path), graph)
    writer.add_summary(serialized, 3)
    writer.add_summary(scalar_summary("proto", 2.0), np.int64(4))
    writer.add_session_log(tf.SessionLog(status=tf.SessionLog.START), 5)
    writer.add_run_metadata(config_pb2.RunMetadata(), "step1", 6)
    writer.add_event(event_pb2.Event(wall_time=1.0, step=7, file_version="custom"))
    writer.close()
    events = events_of(writer.event_file_path)
    kinds = [e.WhichOneof("what") for e in events]
    assert kinds == ["file_version", "graph_def", "meta_graph_def", "summary", "summary", "session_log",
                     "tagged_run_metadata", "file_version"]
    graph_def = tf.GraphDef.FromString(events[1].graph_def)
    assert [(n.name, n.op) for n in graph_def.node] == [("x", "Const"), ("x_1/tags", "Const"),
                                                        ("x_1", "ScalarSummary")]
    assert "_output_shapes" in graph_def.node[0].attr  # written with add_shapes=True, like TF
    assert tf.MetaGraphDef.FromString(events[2].meta_graph_def).graph_def == graph_def
    assert events[3].step == 3 and events[3].summary.value[0].tag == "x_1"
    assert events[4].step == 4 and events[4].summary.value[0].simple_value == 2.0
    assert events[5].step == 5 and events[5].session_log.status == tf.SessionLog.START
    assert events[6].step == 6 and events[6].tagged_run_metadata.tag == "step1"
    assert events[7].step == 7 and events[7].wall_time == 1.0
    assert all(e.wall_time > 1e9 for e in events[:7])


def test_add_graph_takes_a_graph_def(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        tf.constant(1.0, name="c")
    with FileWriter(str(tmp_path)) as writer:
        writer.add_graph(graph.as_graph_def(), global_step=2)
        writer.add_graph(graph)
    events = events_of(writer.event_file_path)
    assert [e.WhichOneof("what") for e in events] == ["file_version", "graph_def", "graph_def"]
    assert events[1].step == 2 and tf.GraphDef.FromString(events[1].graph_def).node[0].name == "c"


def test_plugin_metadata_is_written_once_per_tag(tmp_path):
    with tf.Graph().as_default():
        text = tf.summary.text("notes", tf.constant("hello"))
        with tf.Session() as sess:
            serialized = sess.run(text)
    with FileWriter(str(tmp_path)) as writer:
        writer.add_summary(serialized, 1)
        writer.add_summary(serialized, 2)
    events = events_of(writer.event_file_path)
    assert events[1].summary.value[0].metadata.plugin_data.plugin_name == "text"
    assert not events[2].summary.value[0].HasField("metadata")


def test_flush_and_background_flushing(tmp_path):
    writer = FileWriter(str(tmp_path / "manual"), flush_secs=1000)
    writer.add_summary(scalar_summary("a", 1.0), 1)
    writer.flush()
    assert len(events_of(writer.event_file_path)) == 2
    writer.close()
    timed = FileWriter(str(tmp_path / "timed"), flush_secs=0.05)
    timed.add_summary(scalar_summary("b", 1.0), 1)
    deadline = time.time() + 5
    while len(events_of(timed.event_file_path)) < 2 and time.time() < deadline:
        time.sleep(0.02)
    assert len(events_of(timed.event_file_path)) == 2  # written without flush() or close()
    timed.close()


def test_a_small_queue_keeps_every_event(tmp_path):
    with FileWriter(str(tmp_path), max_queue=1) as writer:
        for step in range(200):
            writer.add_summary(scalar_summary("s", float(step)), step)
    events = events_of(writer.event_file_path)[1:]
    assert [e.step for e in events] == list(range(200))
    assert [e.summary.value[0].simple_value for e in events] == [float(s) for s in range(200)]


def test_close_and_reopen(tmp_path):
    writer = FileWriter(str(tmp_path))
    writer.add_summary(scalar_summary("before", 1.0), 1)
    writer.close()
    first = writer.event_file_path
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        writer.add_summary(scalar_summary("dropped", 1.0), 2)
    assert any("closed FileWriter" in str(w.message) for w in caught)
    writer.close()  # closing twice is fine
    writer.reopen()
    writer.reopen()  # a no-op while open
    writer.add_summary(scalar_summary("after", 1.0), 3)
    writer.close()
    second = writer.event_file_path
    assert first != second and sorted(glob.glob(os.path.join(str(tmp_path), "events.*"))) == sorted([first, second])
    assert [e.summary.value[0].tag for e in events_of(first)[1:]] == ["before"]
    assert [e.summary.value[0].tag for e in events_of(second)[1:]] == ["after"]
    assert events_of(second)[0].file_version == "brain.Event:2"


def test_file_writer_cache(tmp_path):
    logdir = str(tmp_path)
    try:
        first = FileWriterCache.get(logdir)
        assert FileWriterCache.get(logdir) is first
        path = first.event_file_path
    finally:
        FileWriterCache.clear()
    assert [e.WhichOneof("what") for e in events_of(path)] == ["file_version", "graph_def", "meta_graph_def"]
    assert tf.summary.FileWriterCache is FileWriterCache and tf.summary.FileWriter is FileWriter


def test_public_names():
    assert tf.Summary is summary_pb2.Summary and tf.summary.Summary is summary_pb2.Summary
    assert tf.Event is event_pb2.Event and tf.SessionLog is event_pb2.SessionLog
    assert tf.summary.summary_iterator is summary_iterator


# ----------------------------------------------------- TensorBoard reads it
def _train_and_log(logdir: str) -> list[float]:
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(32, 4)).astype(np.float32)
    targets = inputs @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32)
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        y = tf.placeholder(tf.float32, [None, 1], name="y")
        with tf.name_scope("model"):
            w = tf.Variable(tf.zeros([4, 1]), name="w")
            prediction = tf.matmul(x, w)
        loss = tf.reduce_mean(tf.square(prediction - y), name="mse")
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        tf.summary.scalar("loss", loss)
        tf.summary.histogram("weights", w)
        tf.summary.image("input", tf.reshape(x[:1], [1, 2, 2, 1]), max_outputs=1)
        merged = tf.summary.merge_all()
        losses = []
        with tf.Session() as sess, FileWriter(logdir, sess.graph) as writer:
            sess.run(tf.global_variables_initializer())
            for step in range(5):
                summary, loss_value, _ = sess.run([merged, loss, train], {x: inputs, y: targets})
                writer.add_summary(summary, step)
                losses.append(float(loss_value))
    return losses


def test_tensorboard_reads_a_training_log(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    logdir = str(tmp_path / "train")
    losses = _train_and_log(logdir)
    accumulator = event_accumulator.EventAccumulator(logdir, size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0, event_accumulator.IMAGES: 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    assert tags["scalars"] == ["loss"] and tags["histograms"] == ["weights"] and tags["images"] == ["input/image"]
    assert tags["graph"] is True and tags["meta_graph"] is True
    scalars = accumulator.Scalars("loss")
    assert [s.step for s in scalars] == list(range(5))
    np.testing.assert_allclose([s.value for s in scalars], losses, rtol=1e-6)
    assert losses[-1] < losses[0]
    histograms = accumulator.Histograms("weights")
    assert [h.step for h in histograms] == list(range(5))
    assert all(h.histogram_value.num == 4 for h in histograms)
    assert histograms[0].histogram_value.min == 0 and histograms[0].histogram_value.max == 0
    images = accumulator.Images("input/image")
    assert [i.step for i in images] == list(range(5))
    assert images[0].width == 2 and images[0].height == 2 and images[0].encoded_image_string.startswith(b"\x89PNG")
    graph_def = accumulator.Graph()
    ops = {node.name: node.op for node in graph_def.node}
    assert ops["model/w"] == "VariableV2" and ops["mse"] == "Mean" and ops["Merge/MergeSummary"] == "MergeSummary"
    assert ops["weights"] == "HistogramSummary" and ops["input"] == "ImageSummary"
