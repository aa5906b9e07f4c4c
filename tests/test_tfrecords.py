"""TFRecord files: compression, options, the dataset reader `iter_tfrecord_file`, and damaged files,
against files and messages recorded from TensorFlow 2.21 (tests/fixtures/records/)."""
from __future__ import annotations

import os
import re

import pytest

import caudal as tf
from caudal.summary.records import TFRecordCompressionType, TFRecordOptions, iter_tfrecord_file, tf_record_iterator
from tests.records_fixtures import DIRECTORY, decode, expected

RECORDS = decode(expected()["records"])
FILES = {"": "plain.tfrecord", "GZIP": "gzip.tfrecord", "ZLIB": "zlib.tfrecord"}


@pytest.mark.parametrize("compression", ["", "GZIP", "ZLIB"])
def test_files_written_by_tensorflow_read_back(compression):
    path = os.path.join(DIRECTORY, FILES[compression])
    assert list(iter_tfrecord_file(path, compression)) == RECORDS
    assert list(tf.python_io.tf_record_iterator(path, compression)) == RECORDS
    assert b"" in RECORDS  # an empty record is among them


@pytest.mark.parametrize("options", [TFRecordOptions("GZIP"), "GZIP", TFRecordCompressionType.GZIP,
                                     tf.io.TFRecordOptions(compression_type=TFRecordCompressionType.GZIP)])
def test_iterator_options_may_be_options_strings_or_compression_values(options):
    assert list(tf_record_iterator(os.path.join(DIRECTORY, "gzip.tfrecord"), options)) == RECORDS


@pytest.mark.parametrize("compression", ["", "GZIP", "ZLIB"])
def test_writer_makes_tensorflows_bytes(tmp_path, compression):
    path = tmp_path / "out.tfrecord"
    with tf.io.TFRecordWriter(str(path), TFRecordOptions(compression_type=compression)) as writer:
        for record in RECORDS:
            writer.write(record)
    assert path.read_bytes() == open(os.path.join(DIRECTORY, FILES[compression]), "rb").read()


@pytest.mark.parametrize("compression", ["", "GZIP", "ZLIB"])
def test_flush_between_records_keeps_the_file_readable(tmp_path, compression):
    path = str(tmp_path / "flushed.tfrecord")
    writer = tf.python_io.TFRecordWriter(path, compression)
    writer.write(RECORDS[0])
    writer.flush()
    assert list(iter_tfrecord_file(path, compression))[:1] == RECORDS[:1]
    for record in RECORDS[1:]:
        writer.write(record)
    writer.close()
    writer.close()
    assert list(iter_tfrecord_file(path, compression)) == RECORDS


def test_zlib_settings_are_used(tmp_path):
    path = str(tmp_path / "level.tfrecord")
    with tf.io.TFRecordWriter(path, TFRecordOptions("ZLIB", compression_level=9, window_bits=10, mem_level=5)) as w:
        w.write(b"a" * 100)
    header = open(path, "rb").read()[:2]
    assert header[0] == 0x28 and header[1] >> 6 == 3  # zlib header: a 1 KiB window, the best compression
    assert list(tf_record_iterator(path, "ZLIB")) == [b"a" * 100]


@pytest.mark.parametrize("buffer_size", [1, 7, 64, None, 0])
def test_iter_tfrecord_file_buffer_sizes(buffer_size):
    for compression, name in FILES.items():
        assert list(iter_tfrecord_file(os.path.join(DIRECTORY, name), compression, buffer_size)) == RECORDS


def test_compression_type_strings():
    get = TFRecordOptions.get_compression_type_string
    assert [get(v) for v in (None, "", "ZLIB", "GZIP", 0, 1, 2)] == ["", "", "ZLIB", "GZIP", "", "ZLIB", "GZIP"]
    assert get(TFRecordOptions("GZIP")) == "GZIP" and get(TFRecordOptions()) == ""
    assert get(TFRecordOptions(TFRecordCompressionType.ZLIB)) == "ZLIB"
    assert (TFRecordCompressionType.NONE, TFRecordCompressionType.ZLIB, TFRecordCompressionType.GZIP) == (0, 1, 2)
    options = TFRecordOptions()
    assert (options.compression_type, options.flush_mode, options.input_buffer_size, options.output_buffer_size,
            options.window_bits, options.compression_level) == (None,) * 6


@pytest.mark.parametrize("bad", ["gzip", "NONE", 3])
def test_invalid_compression_type_is_tfs_value_error(bad):
    with pytest.raises(ValueError, match=re.escape(f'Not a valid compression_type: "{bad}"')):
        TFRecordOptions(bad)
    with pytest.raises(ValueError, match=re.escape(f'Not a valid compression_type: "{bad}"')):
        TFRecordOptions.get_compression_type_string(bad)


DAMAGED = sorted(expected()["damaged"])


@pytest.mark.parametrize("case", DAMAGED)
def test_damaged_files_fail_as_in_tensorflow_naming_the_file(tmp_path, case):
    entry = expected()["damaged"][case]
    path = str(tmp_path / f"{case}.tfrecord")
    with open(path, "wb") as f:
        f.write(decode(entry["file"]))
    got = []
    reader = iter_tfrecord_file(path, entry["compression"])
    if entry["error"] is None:
        got = list(reader)
        assert got == RECORDS[:entry["records_before"]]
        return
    with pytest.raises(tf.errors.DataLossError) as info:
        for record in reader:
            got.append(record)
    assert got == RECORDS[:entry["records_before"]]
    assert info.value.message == f"{path}: {entry['error']['message']}"
    with pytest.raises(tf.errors.DataLossError, match=re.escape(entry["error"]["message"])):
        list(tf_record_iterator(path, entry["compression"]))


def test_reading_an_uncompressed_file_as_zlib_is_tfs_inflate_error():
    path = os.path.join(DIRECTORY, "plain.tfrecord")
    with pytest.raises(tf.errors.DataLossError,
                       match=re.escape(f"{path}: inflate() failed with error -3: incorrect header check")):
        list(iter_tfrecord_file(path, "ZLIB"))


def test_missing_file_is_tfs_not_found(tmp_path):
    path = str(tmp_path / "missing.tfrecord")
    message = re.escape(f"{path}; No such file or directory")
    with pytest.raises(tf.errors.NotFoundError, match=message):
        tf_record_iterator(path)  # raised when called, as TF's iterator
    reader = iter_tfrecord_file(path)
    with pytest.raises(tf.errors.NotFoundError, match=message):
        next(reader)
    with pytest.raises(tf.errors.NotFoundError, match=re.escape(f"{tmp_path}/no/dir.tfrecord; No such file")):
        tf.io.TFRecordWriter(str(tmp_path / "no" / "dir.tfrecord"))


def test_directory_is_tfs_failed_precondition(tmp_path):
    with pytest.raises(tf.errors.FailedPreconditionError, match=re.escape(f"{tmp_path}; Is a directory")):
        next(iter_tfrecord_file(str(tmp_path)))


def test_negative_buffer_size_is_invalid():
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape("`buffer_size` must be >= 0")):
        next(iter_tfrecord_file(os.path.join(DIRECTORY, "plain.tfrecord"), "", -1))


def test_closed_writer_is_tfs_failed_precondition(tmp_path):
    writer = tf.io.TFRecordWriter(str(tmp_path / "w.tfrecord"))
    writer.write("text is written as UTF-8")
    writer.close()
    for call in (lambda: writer.write(b"x"), writer.flush):
        with pytest.raises(tf.errors.FailedPreconditionError, match="Writer is closed."):
            call()
    assert list(tf_record_iterator(str(tmp_path / "w.tfrecord"))) == [b"text is written as UTF-8"]


def test_writer_refuses_non_bytes(tmp_path):
    with tf.io.TFRecordWriter(str(tmp_path / "w.tfrecord")) as writer, \
            pytest.raises(TypeError, match="record must be bytes, got int"):
        writer.write(3)


def test_namespaces_hold_the_same_names():
    for name in ("TFRecordWriter", "TFRecordOptions", "TFRecordCompressionType", "tf_record_iterator"):
        assert getattr(tf.io, name) is getattr(tf.python_io, name)
    assert tf.io.parse_example is tf.parse_example and tf.io.decode_csv is tf.decode_csv
    assert tf.io.VarLenFeature is tf.VarLenFeature and tf.io.decode_raw is tf.decode_raw
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        tf.io.nothing  # noqa: B018
