"""File datasets: TextLineDataset, FixedLengthRecordDataset, TFRecordDataset (with TensorFlow-written
fixtures), and Dataset.list_files."""
from __future__ import annotations

import gzip
import pathlib
import zlib

import numpy as np
import pytest

import caudal as tf

D = tf.data.Dataset
RECORDS = pathlib.Path(__file__).parent / "fixtures" / "records"


def _drain(dataset, limit=1000):
    nxt = dataset.make_one_shot_iterator().get_next()
    out = []
    with tf.Session() as sess:
        for _ in range(limit):
            try:
                out.append(sess.run(nxt))
            except tf.errors.OutOfRangeError:
                return out
    raise AssertionError("no end")


@pytest.fixture(autouse=True)
def _fresh_graph():
    with tf.Graph().as_default():
        yield


def test_text_lines_of_several_files_without_line_endings(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"first\nsecond\r\n\nlast without newline")
    (tmp_path / "b.txt").write_bytes(b"b1\n")
    files = [str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]
    assert _drain(tf.data.TextLineDataset(files)) == [b"first", b"second", b"", b"last without newline", b"b1"]
    assert tf.data.TextLineDataset(files).output_shapes.as_list() == []


@pytest.mark.parametrize("kind", ["GZIP", "ZLIB"])
def test_compressed_text_lines(tmp_path, kind):
    data = b"x\ny\n"
    path = tmp_path / "c.txt"
    path.write_bytes(gzip.compress(data) if kind == "GZIP" else zlib.compress(data))
    assert _drain(tf.data.TextLineDataset(str(path), compression_type=kind)) == [b"x", b"y"]


def test_missing_file_is_not_found_and_the_next_file_still_reads(tmp_path):
    (tmp_path / "ok.txt").write_bytes(b"ok\n")
    dataset = tf.data.TextLineDataset([str(tmp_path / "missing.txt"), str(tmp_path / "ok.txt")])
    nxt = dataset.make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.NotFoundError, match="missing.txt; No such file or directory"):
            sess.run(nxt)
        assert sess.run(nxt) == b"ok"


def test_fixed_length_records_between_header_and_footer(tmp_path):
    path = tmp_path / "r.bin"
    path.write_bytes(b"HDR" + bytes(range(12)) + b"FT")
    dataset = tf.data.FixedLengthRecordDataset(str(path), record_bytes=4, header_bytes=3, footer_bytes=2)
    got = _drain(dataset.map(lambda r: tf.decode_raw(r, tf.uint8)))
    assert [list(g) for g in got] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


def test_fixed_length_body_not_a_multiple_of_the_record_is_an_error(tmp_path):
    path = tmp_path / "r.bin"
    path.write_bytes(bytes(10))
    nxt = tf.data.FixedLengthRecordDataset(str(path), record_bytes=4).make_one_shot_iterator().get_next()
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="not an exact multiple"):
        sess.run(nxt)


def _write_records(path, records, options=None):
    with tf.io.TFRecordWriter(str(path), options) as writer:
        for r in records:
            writer.write(r)


@pytest.mark.parametrize("kind", ["", "GZIP", "ZLIB"])
def test_tfrecord_dataset_reads_what_the_writer_wrote(tmp_path, kind):
    path = tmp_path / "data.tfrecord"
    records = [b"a", b"", b"ccc" * 1000]
    _write_records(path, records, tf.io.TFRecordOptions(kind) if kind else None)
    assert _drain(tf.data.TFRecordDataset(str(path), compression_type=kind)) == records


def test_tfrecord_dataset_reads_tensorflow_written_fixtures():
    fixtures = sorted(RECORDS.glob("*.tfrecord*"))
    assert fixtures, "tests/fixtures/records holds TensorFlow-written TFRecord files"
    for path in fixtures:
        kind = "GZIP" if "gzip" in path.name.lower() else "ZLIB" if "zlib" in path.name.lower() else ""
        expected = list(tf.io.tf_record_iterator(str(path), tf.io.TFRecordOptions(kind) if kind else None))
        assert _drain(tf.data.TFRecordDataset(str(path), compression_type=kind)) == expected


def test_parallel_reads_interleave_the_files_record_by_record(tmp_path):
    files = []
    for name in "ab":
        files.append(str(tmp_path / f"{name}.tfrecord"))
        _write_records(files[-1], [f"{name}{i}".encode() for i in range(3)])
    got = _drain(tf.data.TFRecordDataset(files, num_parallel_reads=2))
    assert got == [b"a0", b"b0", b"a1", b"b1", b"a2", b"b2"]


def test_corrupt_record_is_data_loss_naming_file_and_offset(tmp_path):
    path = tmp_path / "bad.tfrecord"
    _write_records(path, [b"good", b"record two"])
    data = bytearray(path.read_bytes())
    data[-6] ^= 0xFF  # inside the second record's data
    path.write_bytes(bytes(data))
    nxt = tf.data.TFRecordDataset(str(path)).make_one_shot_iterator().get_next()
    with tf.Session() as sess:
        assert sess.run(nxt) == b"good"
        with pytest.raises(tf.errors.DataLossError) as info:
            sess.run(nxt)
        assert "bad.tfrecord: corrupted record at 32" in info.value.message  # the data's offset, as TF reports it
        with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(nxt)


def test_examples_parsed_in_a_map_batch_into_training_arrays(tmp_path):
    path = tmp_path / "examples.tfrecord"
    rows = np.arange(12, dtype=np.float32).reshape(4, 3)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for i, row in enumerate(rows):
            example = tf.train.Example(features=tf.train.Features(feature={
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=row)),
                "raw": tf.train.Feature(bytes_list=tf.train.BytesList(value=[row.astype(np.uint8).tobytes()])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[i]))}))
            writer.write(example.SerializeToString())

    def parse(record):
        features = tf.parse_single_example(record, {"x": tf.FixedLenFeature([3], tf.float32),
                                                     "raw": tf.FixedLenFeature([], tf.string),
                                                     "label": tf.FixedLenFeature([], tf.int64)})
        return tf.cast(tf.decode_raw(features["raw"], tf.uint8), tf.float32) / 2.0 + features["x"], features["label"]

    dataset = tf.data.TFRecordDataset(str(path)).map(parse).batch(3)
    assert dataset.output_shapes[0].as_list() == [None, 3]
    got = _drain(dataset)
    np.testing.assert_allclose(np.concatenate([g[0] for g in got]), rows * 1.5)
    assert np.concatenate([g[1] for g in got]).tolist() == [0, 1, 2, 3]


def test_list_files_matches_sorted_unless_shuffled_and_fails_on_no_match(tmp_path):
    for name in ["b.txt", "a.txt", "c.log"]:
        (tmp_path / name).write_text(name)
    ordered = D.list_files(str(tmp_path / "*.txt"), shuffle=False)
    assert _drain(ordered) == [str(tmp_path / "a.txt").encode(), str(tmp_path / "b.txt").encode()]
    shuffled = _drain(D.list_files(str(tmp_path / "*"), seed=4))
    assert sorted(shuffled) == sorted(str(tmp_path / n).encode() for n in ["a.txt", "b.txt", "c.log"])
    nothing = D.list_files(str(tmp_path / "*.csv")).make_one_shot_iterator().get_next()
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="No files matched pattern"):
        sess.run(nothing)


def test_var_len_features_batch_as_sparse_tensors_with_the_batch_largest_shape():
    def example(values):
        return tf.train.Example(features=tf.train.Features(feature={
            "v": tf.train.Feature(int64_list=tf.train.Int64List(value=values))})).SerializeToString()

    records = [example([1, 2]), example([]), example([3, 4, 5])]
    features = {"v": tf.VarLenFeature(tf.int64)}
    dataset = D.from_tensor_slices(records).map(lambda r: tf.parse_single_example(r, features)["v"])
    assert dataset.output_classes is tf.SparseTensor
    batches = _drain(dataset.batch(2))
    assert batches[0].indices.tolist() == [[0, 0], [0, 1]] and batches[0].dense_shape.tolist() == [2, 2]
    assert batches[1].values.tolist() == [3, 4, 5] and batches[1].dense_shape.tolist() == [1, 3]
    rows = _drain(dataset.map(lambda v: tf.sparse.to_dense(v)))
    assert [r.tolist() for r in rows] == [[1, 2], [], [3, 4, 5]]
