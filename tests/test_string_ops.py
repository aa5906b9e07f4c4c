"""decode_raw, decode_csv, serialize_tensor/parse_tensor and the string ops (string_split,
strings.split, to_number, join, length), against values, static shapes and error messages recorded
from TensorFlow 2.21."""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf
from tests.records_fixtures import assert_same, decode, expected, static_shapes


def _check_error(error: dict, build) -> None:
    kind = getattr(tf.errors, error["type"], None) or {"ValueError": ValueError, "TypeError": TypeError}[error["type"]]
    with tf.Graph().as_default(), pytest.raises(kind) as info:
        out = build()
        with tf.Session() as sess:
            sess.run(out)
    message = info.value.message if isinstance(info.value, tf.errors.OpError) else str(info.value)
    assert error["message"] in message, (message, error["message"])


def _run(build):
    with tf.Graph().as_default():
        out = build()
        with tf.Session() as sess:
            return out, sess.run(out)


# ------------------------------------------------------------------ decode_raw
@pytest.mark.parametrize("entry", expected()["decode_raw"], ids=lambda e: e["case"])
def test_decode_raw_matches_tensorflow(entry):
    out, got = _run(lambda: tf.decode_raw(tf.constant(decode(entry["input"])), tf.as_dtype(entry["out_type"]),
                                          little_endian=entry["little_endian"]))
    assert static_shapes(out) == entry["static"]
    assert_same(got, decode(entry["result"]))


@pytest.mark.parametrize("entry", expected()["decode_raw_errors"], ids=lambda e: e["case"])
def test_decode_raw_of_bad_lengths_is_tfs_error(entry):
    """A length that is not a multiple of the type's size, or strings of different lengths."""
    _check_error(entry["error"], lambda: tf.decode_raw(tf.constant(decode(entry["input"])),
                                                       tf.as_dtype(entry["out_type"])))


def test_decode_raw_takes_tf1s_bytes_argument():
    _, got = _run(lambda: tf.decode_raw(bytes=[b"\x01\x02"], out_type=tf.uint8))
    np.testing.assert_array_equal(got, [[1, 2]])
    with tf.Graph().as_default(), pytest.raises(ValueError, match="Cannot specify both 'input_bytes' and 'bytes'"):
        tf.decode_raw([b"a"], tf.uint8, bytes=[b"b"])


# ------------------------------------------------------------------ decode_csv
def _csv_kwargs(kwargs: dict) -> dict:
    kwargs = dict(kwargs)
    defaults = []
    for default in kwargs["record_defaults"]:
        if default == "REQUIRED_INT32":
            defaults.append(tf.constant([], tf.int32))
        else:
            defaults.append([getattr(np, v["np"])(v["value"]) if isinstance(v, dict) else v for v in default])
    kwargs["record_defaults"] = defaults
    return kwargs


@pytest.mark.parametrize("entry", expected()["decode_csv"], ids=lambda e: e["case"])
def test_decode_csv_matches_tensorflow(entry):
    out, got = _run(lambda: tf.decode_csv(tf.constant(decode(entry["input"])), **_csv_kwargs(entry["kwargs"])))
    assert static_shapes(out) == entry["static"]
    assert_same(got, decode(entry["result"]))


@pytest.mark.parametrize("entry", expected()["decode_csv_errors"], ids=lambda e: e["case"])
def test_decode_csv_bad_records_are_tfs_errors(entry):
    """Wrong numbers of fields, unparseable numbers, missing required fields, bad quoting."""
    _check_error(entry["error"], lambda: tf.decode_csv(tf.constant(decode(entry["input"])),
                                                       **_csv_kwargs(entry["kwargs"])))


@pytest.mark.parametrize("entry", expected()["decode_csv_build_errors"], ids=lambda e: e["case"])
def test_decode_csv_bad_arguments_are_tfs_errors(entry):
    _check_error(entry["error"], lambda: tf.decode_csv(tf.constant([b"1,2"]), **_csv_kwargs(entry["kwargs"])))


def test_decode_csv_node_names():
    with tf.Graph().as_default() as graph:
        tf.decode_csv(tf.placeholder(tf.string, [None]), [[1.0], [""], [0]])
        assert [op.name for op in graph.get_operations()][1:] == [
            "DecodeCSV/record_defaults_0", "DecodeCSV/record_defaults_1", "DecodeCSV/record_defaults_2", "DecodeCSV"]


# ------------------------------------------------------------------ splitting
@pytest.mark.parametrize("entry", expected()["string_split"], ids=lambda e: e["case"])
def test_string_split_matches_tensorflow(entry):
    out, got = _run(lambda: tf.string_split(tf.constant(decode(entry["input"])), entry["delimiter"],
                                            skip_empty=entry["skip_empty"]))
    assert static_shapes(out) == entry["static"]
    assert_same(got, decode(entry["result"]))


@pytest.mark.parametrize("entry", expected()["strings_split"], ids=lambda e: e["case"])
def test_strings_split_matches_tensorflow(entry):
    out, got = _run(lambda: tf.strings.split(tf.constant(decode(entry["input"])), sep=entry["sep"],
                                             maxsplit=entry["maxsplit"]))
    assert static_shapes(out) == entry["static"]
    assert_same(got, decode(entry["result"]))


def test_split_node_names_and_rank_check():
    with tf.Graph().as_default() as graph:
        tf.string_split(tf.placeholder(tf.string, [None]))
        tf.strings.split(tf.placeholder(tf.string, [None]), sep=",")
        assert [op.name for op in graph.get_operations() if op.type != "Placeholder"] == [
            "StringSplit/Const", "StringSplit/StringSplit", "StringSplit_1/Const", "StringSplit_1/StringSplitV2"]
        with pytest.raises(ValueError, match="must have rank 1"):
            tf.string_split(tf.constant(b"a b"))


# ------------------------------------------------------------------ numbers, join, length
@pytest.mark.parametrize("entry", expected()["to_number"], ids=lambda e: e["case"])
def test_to_number_matches_tensorflow(entry):
    _, got = _run(lambda: tf.strings.to_number(tf.constant(decode(entry["input"])),
                                               out_type=tf.as_dtype(entry["out_type"])))
    assert_same(got, decode(entry["result"]))


@pytest.mark.parametrize("entry", expected()["to_number_errors"], ids=lambda e: e["case"])
def test_to_number_of_unparseable_strings_is_tfs_error(entry):
    _check_error(entry["error"], lambda: tf.strings.to_number(tf.constant(decode(entry["input"])),
                                                              out_type=tf.as_dtype(entry["out_type"])))


def test_join_and_length_match_tensorflow():
    _, joined = _run(lambda: tf.strings.join([tf.constant([b"a", b"b"]), tf.constant(b"-"),
                                              tf.constant([b"x", b"yz"])], separator="+"))
    assert_same(joined, decode(expected()["join"]))
    _, lengths = _run(lambda: tf.strings.length(tf.constant(np.array(
        [[b"abc", b""], ["h\u00e9llo".encode(), b"x"]], dtype=object))))
    assert_same(lengths, decode(expected()["length"]))
    _, chars = _run(lambda: tf.strings.length(tf.constant(["h\u00e9llo".encode()]), unit="UTF8_CHAR"))
    assert_same(chars, decode(expected()["length_utf8"]))
    with tf.Graph().as_default(), pytest.raises(ValueError, match="Value for attr 'unit' of \"WORD\""):
        tf.strings.length(tf.constant([b"a"]), unit="WORD")


def test_join_of_different_shapes_fails_when_built():
    """TF: "Dimension 0 in both shapes must be equal, but are 2 and 3"; caudal's StringJoin (the
    checkpoint ops' op) says the shapes are not compatible."""
    with tf.Graph().as_default(), pytest.raises(ValueError, match=r"Shapes \(2,\) and \(3,\) are not compatible"):
        tf.strings.join([tf.constant([b"a", b"b"]), tf.constant([b"x", b"y", b"z"])])


# ------------------------------------------------------------------ serialize_tensor / parse_tensor
@pytest.mark.parametrize("entry", expected()["serialize_tensor"], ids=lambda e: e["value"]["dtype"])
def test_serialize_tensor_writes_tensorflows_bytes_and_parse_tensor_reads_them(entry):
    value = decode(entry["value"])
    out, got = _run(lambda: tf.io.serialize_tensor(tf.constant(value)))
    assert out.shape.as_list() == [] and got == decode(entry["serialized"])
    out, back = _run(lambda: tf.io.parse_tensor(decode(entry["serialized"]), tf.as_dtype(value.dtype)))
    assert out.shape.ndims is None
    assert_same(back, value)


@pytest.mark.parametrize("entry", expected()["parse_tensor_errors"], ids=lambda e: e["case"])
def test_parse_tensor_of_bad_bytes_or_another_dtype_is_tfs_error(entry):
    _check_error(entry["error"], lambda: tf.io.parse_tensor(tf.constant(decode(entry["input"])),
                                                            tf.as_dtype(entry["out_type"])))
