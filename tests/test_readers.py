"""Readers as Session state: records of several threads, failed runs, compressed files, state
round trips, and the checks of bad input."""
from __future__ import annotations

import gzip
import threading
import zlib

import pytest

import caudal as tf
from caudal.ops.queue_ops import FIFOQueue
from caudal.ops.reader_ops import (
    FixedLengthRecordReader,
    IdentityReader,
    TextLineReader,
    TFRecordReader,
    WholeFileReader,
)
from caudal.summary.records import TFRecordOptions, TFRecordWriter


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def _files(sess, paths) -> FIFOQueue:
    queue = FIFOQueue(50, tf.string, shapes=[[]])
    sess.run(queue.enqueue_many([[str(p) for p in paths]]))
    sess.run(queue.close())
    return queue


def _write_lines(tmp_path, count: int, lines: int) -> list:
    paths = []
    for i in range(count):
        path = tmp_path / f"part{i}.txt"
        path.write_text("".join(f"{i}-{j}\n" for j in range(lines)))
        paths.append(path)
    return paths


def test_a_failed_run_rereads_the_same_record(tmp_path):
    paths = _write_lines(tmp_path, 2, 2)
    flag = tf.placeholder(tf.bool, [])
    with tf.Session() as sess:
        files = _files(sess, paths)
        reader = TextLineReader()
        key, value = reader.read(files)
        with tf.control_dependencies([tf.Assert(flag, [key])]):
            checked = tf.identity(value)
        assert sess.run(checked, {flag: True}) == b"0-0"
        assert sess.run(checked, {flag: True}) == b"0-1"
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(checked, {flag: False})  # ends part0, starts part1, reads 1-0: all taken back
        assert sess.run([reader.num_records_produced(), reader.num_work_units_completed(), files.size()]) == [2, 0, 1]
        assert [sess.run(checked, {flag: True}) for _ in range(2)] == [b"1-0", b"1-1"]


def test_threads_sharing_a_reader_get_every_record_once(tmp_path):
    paths = _write_lines(tmp_path, 6, 20)
    with tf.Session() as sess:
        files = _files(sess, paths)
        key, _ = TextLineReader().read(files)
        seen: list = []
        lock = threading.Lock()

        def read_all():
            while True:
                try:
                    k = sess.run(key)
                except tf.errors.OutOfRangeError:
                    return
                with lock:
                    seen.append(k)
        threads = [threading.Thread(target=read_all) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
    expected = {f"{p}:{j}".encode() for p in paths for j in range(1, 21)}
    assert len(seen) == len(expected) and set(seen) == expected


def test_compressed_tfrecord_and_fixed_length_files(tmp_path):
    gz = tmp_path / "records.gz"
    with TFRecordWriter(str(gz), TFRecordOptions("GZIP")) as writer:
        for record in (b"first", b"second"):
            writer.write(record)
    zlib_fixed = tmp_path / "fixed.zlib"
    zlib_fixed.write_bytes(zlib.compress(b"HH" + bytes(range(12)) + b"F"))
    gzip_fixed = tmp_path / "fixed.gz"
    gzip_fixed.write_bytes(gzip.compress(bytes(range(8))))
    with tf.Session() as sess:
        records = TFRecordReader(options=TFRecordOptions(TFRecordOptions.compression_type_map[2]))
        pair = records.read(_files(sess, [gz]))
        got = [sess.run(pair) for _ in range(2)]
        assert [v for _, v in got] == [b"first", b"second"]
        assert [k for k, _ in got] == [f"{gz}:0".encode(), f"{gz}:21".encode()]
        reader = FixedLengthRecordReader(4, header_bytes=2, footer_bytes=1, encoding="ZLIB")
        fixed = reader.read(_files(sess, [zlib_fixed]))
        assert [sess.run(fixed.value) for _ in range(3)] == [bytes(range(0, 4)), bytes(range(4, 8)),
                                                             bytes(range(8, 12))]
        fixed_gz = FixedLengthRecordReader(4, encoding="GZIP").read_up_to(_files(sess, [gzip_fixed]), 5)
        assert sess.run(fixed_gz.values).tolist() == [bytes(range(4)), bytes(range(4, 8))]


def test_a_corrupted_tfrecord_names_the_file(tmp_path):
    path = tmp_path / "bad.tfr"
    with TFRecordWriter(str(path)) as writer:
        writer.write(b"fine")
        writer.write(b"spoiled")
    data = bytearray(path.read_bytes())
    data[-6] ^= 0xFF  # a byte of the second record's data
    path.write_bytes(bytes(data))
    with tf.Session() as sess:
        pair = TFRecordReader().read(_files(sess, [path]))
        assert sess.run(pair.value) == b"fine"
        for _ in range(2):  # the failed read is taken back: the next one fails the same way
            with pytest.raises(tf.errors.DataLossError, match=f"{path}: corrupted record at 32"):
                sess.run(pair.value)


def test_whole_file_state_round_trip(tmp_path):
    paths = [tmp_path / "one", tmp_path / "two"]
    for p in paths:
        p.write_bytes(p.name.encode())
    state = tf.placeholder(tf.string, [])
    with tf.Session() as sess:
        reader = WholeFileReader()
        pair = reader.read(_files(sess, paths))
        assert sess.run(pair.value) == b"one"
        saved = sess.run(reader.serialize_state())
        assert sess.run(pair.value) == b"two"
        sess.run(reader.restore_state(state), {state: saved})
        assert sess.run([reader.num_records_produced(), reader.num_work_units_completed()]) == [1, 1]
        sess.run(reader.reset())
        assert sess.run(reader.serialize_state()) == b""


def test_read_up_to_stays_within_one_file(tmp_path):
    paths = _write_lines(tmp_path, 2, 3)
    with tf.Session() as sess:
        keys, values = TextLineReader().read_up_to(_files(sess, paths), 5)
        assert sess.run(values).tolist() == [b"0-0", b"0-1", b"0-2"]
        assert sess.run(values).tolist() == [b"1-0", b"1-1", b"1-2"]
        with pytest.raises(tf.errors.OutOfRangeError, match="is closed and has insufficient elements"):
            sess.run(keys)


# ------------------------------------------------------------------ bad input
def test_bad_fixed_length_sizes_fail_when_the_reader_is_made():
    cases = [({"record_bytes": 0}, "record_bytes must be > 0 not 0"),
             ({"record_bytes": 4, "header_bytes": -1}, "header_bytes must be >= 0 not -1"),
             ({"record_bytes": 4, "encoding": "BZIP2"}, "Unsupported encoding: BZIP2")]
    for kwargs, message in cases:
        reader = FixedLengthRecordReader(**kwargs)
        with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match=message):
            sess.run(reader.num_records_produced())


def test_bad_reads(tmp_path):
    number = tf.placeholder(tf.int64, [])
    ints = FIFOQueue(3, tf.int32, shapes=[[]])
    with tf.Session() as sess:
        reader = TextLineReader()
        with pytest.raises(tf.errors.InvalidArgumentError, match="num_records must be > 0 but got 0"):
            sess.run(reader.read_up_to(_files(sess, [tmp_path]), number).keys, {number: 0})
        sess.run(ints.enqueue([1]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expected queue with single string component"):
            sess.run(IdentityReader().read(ints).key)
        with pytest.raises(tf.errors.NotFoundError, match="missing; No such file or directory"):
            sess.run(WholeFileReader().read(_files(sess, [tmp_path / "missing"])).value)
        with pytest.raises(tf.errors.UnimplementedError, match="Reader SerializeState"):
            sess.run(reader.serialize_state())
        with pytest.raises(tf.errors.UnimplementedError, match="Reader RestoreState"):
            sess.run(reader.restore_state(b""))
        with pytest.raises(tf.errors.InvalidArgumentError, match="Could not parse state for IdentityReader"):
            sess.run(IdentityReader().restore_state(b"\x0a"))
    queue = FIFOQueue(3, tf.string)
    not_a_reader = tf.get_default_graph().create_op("ReaderNumRecordsProducedV2", [queue.queue_ref], {})
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                             match="Input 'reader_handle' is not a reader handle"):
        sess.run(not_a_reader.outputs[0])
    with pytest.raises(TypeError, match="Input 'num_records' of 'ReaderReadUpToV2' Op has type int32"):
        tf.get_default_graph().create_op("ReaderReadUpToV2", [IdentityReader().reader_ref, queue.queue_ref,
                                                              tf.constant(1)], {})
    with pytest.raises(TypeError, match="Input 'queue_handle' of 'ReaderReadV2' Op has type string"):
        IdentityReader().read(tf.constant("not a queue"))


def test_parsed_records_keep_their_trailing_zero_bytes(tmp_path):
    """A feature's bytes that end in zeros (MNIST pixels) decode to all their values."""
    path = tmp_path / "images.tfr"
    pixels = bytes([7, 3, 0, 0, 0])
    with TFRecordWriter(str(path)) as writer:
        writer.write(tf.train.Example(features=tf.train.Features(feature={
            "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[pixels]))})).SerializeToString())
    with tf.Session() as sess:
        _, record = TFRecordReader().read(_files(sess, [path]))
        image = tf.parse_single_example(record, {"image": tf.FixedLenFeature([], tf.string)})["image"]
        assert sess.run(tf.decode_raw(image, tf.uint8)).tolist() == [7, 3, 0, 0, 0]
