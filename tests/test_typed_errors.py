"""Typed errors on crafted files and bad inputs: checkpoint indexes, event records, log directories, feeds."""
from __future__ import annotations

import os
import struct
import tracemalloc

import numpy as np
import pytest

import caudal as tf
from caudal import errors
from caudal.checkpoint.bundle import BundleWriter, write_index
from caudal.checkpoint.crc import masked_crc32c
from caudal.proto import tensor_bundle_pb2, versions_pb2


def _crafted_checkpoint(directory, entry_fields: dict, shape: list[int], num_shards: int = 1,
                        data: bytes = b"\0" * 64) -> str:
    prefix = os.path.join(str(directory), "crafted")
    header = tensor_bundle_pb2.BundleHeaderProto(num_shards=num_shards, version=versions_pb2.VersionDef(producer=1))
    entry = tensor_bundle_pb2.BundleEntryProto(**{"dtype": 1, "offset": 0, "size": 4, **entry_fields})
    for size in shape:
        entry.shape.dim.add().size = size
    write_index(prefix + ".index", header, {b"v": entry})
    with open(prefix + ".data-00000-of-00001", "wb") as f:
        f.write(data)
    return prefix


@pytest.mark.parametrize("fields, shape, match", [
    ({"dtype": 0}, [], r"the entry of tensor v has an invalid dtype \(0\)"),
    ({"dtype": 1000}, [], r"the entry of tensor v has an invalid dtype \(1000\)"),
    ({}, [-4], r"the entry of tensor v has a negative dimension in its shape \[-4\]"),
    ({"shard_id": 3}, [], r"the entry of tensor v has shard 3 of 1"),
    ({"offset": -1}, [], r"the entry of tensor v has offset -1 and size 4"),
], ids=["dtype0", "dtype1000", "negative-dim", "shard", "offset"])
def test_crafted_index_entries_are_data_loss(tmp_path, fields, shape, match):
    prefix = _crafted_checkpoint(tmp_path, fields, shape)
    for read in (tf.train.NewCheckpointReader, tf.train.list_variables,
                 lambda p: tf.train.load_variable(p, "v")):
        with pytest.raises(errors.DataLossError, match=r"crafted\.index\): " + match):
            read(prefix)


def test_entry_past_the_end_of_the_data_file_allocates_nothing(tmp_path):
    huge = 1 << 40
    prefix = _crafted_checkpoint(tmp_path, {"size": huge * 4}, [huge])
    tracemalloc.start()
    try:
        with pytest.raises(errors.DataLossError, match=r"Unable to read v from .*crafted\.data-00000-of-00001: "
                                                       r"expected 4398046511104 bytes at offset 0, the file has 64"):
            tf.train.load_variable(prefix, "v")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 << 20


def test_shape_whose_size_overflows_int64_is_data_loss(tmp_path):
    prefix = _crafted_checkpoint(tmp_path, {"size": 8}, [1 << 62, 1 << 62])
    with pytest.raises(errors.DataLossError, match=r"8 bytes stored for a float32 tensor of shape "
                                                   r"\[4611686018427387904, 4611686018427387904\]"):
        tf.train.load_variable(prefix, "v")


def test_string_tensor_with_more_elements_than_bytes_is_data_loss(tmp_path):
    prefix = _crafted_checkpoint(tmp_path, {"dtype": tf.string.as_datatype_enum, "size": 16}, [1 << 50])
    with pytest.raises(errors.DataLossError, match=r"Unable to read string tensor v from .*: 16 bytes stored for "
                                                   r"1125899906842624 elements"):
        tf.train.load_variable(prefix, "v")


def test_header_without_shards_is_data_loss(tmp_path):
    prefix = _crafted_checkpoint(tmp_path, {}, [1], num_shards=0)
    with pytest.raises(errors.DataLossError, match=r"the bundle header names 0 shards"):
        tf.train.NewCheckpointReader(prefix)


def test_index_that_is_a_directory_or_missing(tmp_path):
    os.mkdir(tmp_path / "dir.index")
    with pytest.raises(errors.FailedPreconditionError, match=r"dir\.index; Is a directory"):
        tf.train.NewCheckpointReader(str(tmp_path / "dir"))
    with pytest.raises(errors.NotFoundError, match="Failed to find any matching files for"):
        tf.train.NewCheckpointReader(str(tmp_path / "absent"))


def test_data_file_that_is_a_directory(tmp_path):
    prefix = str(tmp_path / "ckpt")
    with BundleWriter(prefix) as writer:
        writer.add("v", np.ones([2], np.float32))
    os.remove(prefix + ".data-00000-of-00001")
    os.mkdir(prefix + ".data-00000-of-00001")
    with pytest.raises(errors.FailedPreconditionError, match=r"ckpt\.data-00000-of-00001; Is a directory"):
        tf.train.load_variable(prefix, "v")


def test_summary_iterator_on_a_directory_is_failed_precondition(tmp_path):
    with pytest.raises(errors.FailedPreconditionError, match="; Is a directory"):
        list(tf.train.summary_iterator(str(tmp_path)))


def _record(length_field: int, body: bytes) -> bytes:
    length = struct.pack("<Q", length_field)
    return length + struct.pack("<I", masked_crc32c(length)) + body


def test_event_record_with_a_forged_length_is_data_loss_without_allocating_it(tmp_path):
    path = str(tmp_path / "events.out.tfevents.1.forged")
    with open(path, "wb") as f:
        f.write(_record(1 << 62, b"\x08\x01" * 8))
    tracemalloc.start()
    try:
        with pytest.raises(errors.DataLossError, match=r"events\.out\.tfevents\.1\.forged: truncated record at 0"):
            list(tf.train.summary_iterator(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20


def test_record_that_is_not_an_event_is_data_loss(tmp_path):
    path = str(tmp_path / "events.out.tfevents.1.junk")
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(b"\xff\xff\xff")
    with pytest.raises(errors.DataLossError, match=r"events\.out\.tfevents\.1\.junk: a record is not an Event"):
        list(tf.train.summary_iterator(path))


def test_file_writer_into_an_unwritable_directory_is_permission_denied(tmp_path, monkeypatch):
    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "makedirs", refuse)  # the tests run as root, where chmod refuses nothing
    with pytest.raises(errors.PermissionDeniedError, match=r"logs; Permission denied"):
        tf.summary.FileWriter(str(tmp_path / "logs"))
    monkeypatch.undo()
    import builtins

    real_open = builtins.open

    def refuse_open(file, mode="r", *args, **kwargs):
        if "tfevents" in os.fspath(file) and "w" in mode:
            raise PermissionError(13, "Permission denied", file)
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", refuse_open)
    with pytest.raises(errors.PermissionDeniedError, match=r"events\.out\.tfevents\..*; Permission denied"):
        tf.summary.FileWriter(str(tmp_path / "logs2"))


def test_list_feed_overflowing_int32_names_the_placeholder():
    with tf.Graph().as_default():
        ids = tf.placeholder(tf.int32, [None], name="ids")
        with tf.Session() as sess:
            with pytest.raises(ValueError, match=r"Cannot feed value of type list for Tensor 'ids:0' of dtype int32: "
                                                 r"out of range"):
                sess.run(ids, {ids: [1, 2 ** 40]})
            assert sess.run(ids, {ids: [1, 2]}).tolist() == [1, 2]
