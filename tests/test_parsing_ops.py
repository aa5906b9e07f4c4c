"""Example protos and their parsing: parse_single_example, parse_example, parse_single_sequence_example,
against the serialized bytes, values, static shapes, op types and error messages recorded from
TensorFlow 2.21 (tests/fixtures/records/expected.json)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import caudal as tf
from tests.records_fixtures import (
    assert_same,
    decode,
    expected,
    feature_specs,
    serialized,
    static_shapes,
    string_array,
)

EXAMPLES = expected()["examples"]
SEQUENCE_EXAMPLES = expected()["sequence_examples"]


def _feature(kind: str, values: list) -> tf.train.Feature:
    if kind == "bytes_list":
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
    if kind == "float_list":
        return tf.train.Feature(float_list=tf.train.FloatList(value=values))
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def _features(spec: dict) -> tf.train.Features:
    return tf.train.Features(feature={k: _feature(kind, decode(v)) for k, (kind, v) in spec.items()})


# ------------------------------------------------------------------ protos
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_serialize_to_tensorflows_bytes(name):
    """Deterministic serialization (map entries by key) gives TF's bytes; the default order of a
    map's entries is each protobuf runtime's own, so TF's default bytes parse to the same message."""
    proto = tf.train.Example(features=_features(EXAMPLES[name]["features"]))
    assert proto.SerializeToString(deterministic=True) == decode(EXAMPLES[name]["deterministic"])
    assert tf.train.Example.FromString(decode(EXAMPLES[name]["serialized"])) == proto


@pytest.mark.parametrize("name", sorted(SEQUENCE_EXAMPLES))
def test_sequence_examples_serialize_to_tensorflows_bytes(name):
    entry = SEQUENCE_EXAMPLES[name]
    lists = tf.train.FeatureLists(feature_list={
        k: tf.train.FeatureList(feature=[_feature(kind, v) for v in decode(steps)])
        for k, (kind, steps) in entry["feature_lists"].items()})
    proto = tf.train.SequenceExample(context=_features(entry["context"]), feature_lists=lists)
    assert proto.SerializeToString(deterministic=True) == decode(entry["deterministic"])
    assert tf.train.SequenceExample.FromString(decode(entry["serialized"])) == proto


def test_proto_field_numbers_and_packing_are_tfs():
    from caudal.proto import example_pb2, feature_pb2

    assert example_pb2.Example.DESCRIPTOR.fields_by_name["features"].number == 1
    assert [f.number for f in example_pb2.SequenceExample.DESCRIPTOR.fields] == [1, 2]
    assert [f.number for f in feature_pb2.Feature.DESCRIPTOR.fields] == [1, 2, 3]
    assert feature_pb2.Feature.DESCRIPTOR.oneofs_by_name["kind"] is not None
    assert tf.train.FloatList(value=[1.0, 2.0]).SerializeToString() == b"\x0a\x08" + np.array(
        [1.0, 2.0], "<f4").tobytes()  # packed
    assert tf.train.Int64List(value=[1, 300]).SerializeToString() == b"\x0a\x03\x01\xac\x02"


# ------------------------------------------------------------------ parsing
def _build(kind: str, names, features: dict):
    specs = feature_specs(features)
    if kind == "parse_single_example":
        return tf.parse_single_example(tf.constant(serialized(names)), specs)
    data = string_array([serialized(n) for n in names])
    example_names = [f"ex{i}" for i in range(len(names))] if kind == "parse_example_named" else None
    return tf.parse_example(tf.constant(data, dtype=tf.string, shape=[len(names)]), specs,
                            example_names=example_names)


PARSE = {c["case"]: c for c in expected()["parse"]}
SEQUENCE = {c["case"]: c for c in expected()["sequence"]}


@pytest.mark.parametrize("case", sorted(PARSE))
def test_parse_values_static_shapes_and_ops_match_tensorflow(case):
    entry = PARSE[case]
    with tf.Graph().as_default() as graph:
        out = _build(entry["kind"], entry["names"], entry["features"])
        assert static_shapes(out) == entry["static"]
        assert sorted({op.type for op in graph.get_operations()}) == entry["op_types"]
        with tf.Session() as sess:
            assert_same(sess.run(out), decode(entry["result"]))


@pytest.mark.parametrize("case", sorted(SEQUENCE))
def test_parse_sequence_values_static_shapes_and_ops_match_tensorflow(case):
    entry = SEQUENCE[case]
    with tf.Graph().as_default() as graph:
        out = tf.parse_single_sequence_example(tf.constant(serialized(entry["name"])),
                                               feature_specs(entry["context"]), feature_specs(entry["sequence"]))
        assert static_shapes(list(out)) == entry["static"]
        assert sorted({op.type for op in graph.get_operations()}) == entry["op_types"]
        with tf.Session() as sess:
            assert_same(sess.run(list(out)), decode(entry["result"]))


def test_node_names_follow_tensorflow():
    with tf.Graph().as_default() as graph:
        tf.parse_example(tf.placeholder(tf.string, [None]),
                         {"a": tf.FixedLenFeature([2], tf.float32, default_value=[1, 2]),
                          "b": tf.VarLenFeature(tf.int64),
                          "c": tf.FixedLenSequenceFeature([], tf.int64, allow_missing=True)})
        names = [op.name for op in graph.get_operations()]
    assert names[1:] == ["ParseExample/key_a", "ParseExample/Reshape/shape", "ParseExample/Reshape",
                         "ParseExample/Const", "ParseExample/ParseExampleV2/names",
                         "ParseExample/ParseExampleV2/sparse_keys", "ParseExample/ParseExampleV2/dense_keys",
                         "ParseExample/ParseExampleV2/ragged_keys", "ParseExample/ParseExampleV2"]
    with tf.Graph().as_default() as graph:
        tf.parse_single_example(tf.placeholder(tf.string, []), {"a": tf.FixedLenFeature([2], tf.float32)})
        assert graph.get_operations()[-1].name == "ParseSingleExample/ParseExample/ParseExampleV2"


def test_parse_example_of_a_fed_batch_and_a_graph_def_round_trip():
    data = string_array([serialized("full"), serialized("sparse")])
    with tf.Graph().as_default() as graph:
        batch = tf.placeholder(tf.string, [None], name="batch")
        out = tf.parse_example(batch, {"age": tf.FixedLenFeature([], tf.int64), "big": tf.VarLenFeature(tf.int64)})
        assert out["age"].shape.as_list() == [None]
        with tf.Session() as sess:
            got = sess.run(out, {batch: data})
        graph_def = graph.as_graph_def()
    np.testing.assert_array_equal(got["age"], [25, 7])
    assert_same(got["big"], tf.SparseTensorValue(np.array([[1, 0], [1, 1]]), np.array([2**40, -3]),
                                                 np.array([2, 2])))
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            age, values = sess.run(["ParseExample/ParseExampleV2:3", "ParseExample/ParseExampleV2:1"],
                                   {"batch:0": data})
    np.testing.assert_array_equal(age, [25, 7])
    np.testing.assert_array_equal(values, [2**40, -3])


def test_parse_ops_are_not_differentiable():
    with tf.Graph().as_default():
        default = tf.constant([0.5])
        out = tf.parse_single_example(tf.constant(serialized("partial")),
                                      {"height": tf.FixedLenFeature([1], tf.float32, default_value=default)})
        assert tf.gradients(out["height"], default) == [None]


# ------------------------------------------------------------------ bad input
def _error_case(entry: dict, build) -> None:
    error = entry["error"]
    kind = getattr(tf.errors, error["type"], None) or {"ValueError": ValueError, "TypeError": TypeError}[error["type"]]
    with pytest.raises(kind) as info:
        with tf.Graph().as_default():
            out = build()
            with tf.Session() as sess:
                sess.run(out)
    message = info.value.message if isinstance(info.value, tf.errors.OpError) else str(info.value)
    assert message.startswith(error["message"]) or error["message"] in message, (message, error["message"])


@pytest.mark.parametrize("entry", expected()["parse_errors"], ids=lambda e: e["case"])
def test_parse_errors_match_tensorflow(entry):
    """Missing required features, wrong types, wrong counts, bad blocks, bytes that are no Example."""
    _error_case(entry, lambda: _build(entry["kind"], entry["names"], entry["features"]))


@pytest.mark.parametrize("entry", expected()["sequence_errors"], ids=lambda e: e["case"])
def test_parse_sequence_errors_match_tensorflow(entry):
    _error_case(entry, lambda: tf.parse_single_sequence_example(
        tf.constant(serialized(entry["name"])), feature_specs(entry["context"]), feature_specs(entry["sequence"])))


# caudal's wording where TF's is about a node caudal builds differently (a Reshape's shape function).
BUILD_MESSAGES = {"default_wrong_shape": "Cannot reshape a tensor with 3 elements to shape [2] (2 elements)"}


@pytest.mark.parametrize("entry", expected()["build_errors"], ids=lambda e: e["case"])
def test_badly_built_parses_fail_when_built(entry):
    error = dict(entry["error"])
    error["message"] = BUILD_MESSAGES.get(entry["case"], error["message"])
    _error_case({"error": error}, lambda: _build(entry["kind"], entry["names"], entry["features"]))


def test_parse_single_example_needs_a_scalar():
    with tf.Graph().as_default(), pytest.raises(ValueError, match="Input serialized must be a scalar"):
        tf.parse_single_example(tf.constant([b"a", b"b"]), {"x": tf.VarLenFeature(tf.int64)})


def test_sequence_parse_needs_features_and_sequence_features_need_sequence_specs():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Missing features."):
            tf.parse_single_sequence_example(tf.constant(b""))
        with pytest.raises(ValueError, match="FixedLenFeature is not supported in sequence_features"):
            tf.parse_single_sequence_example(tf.constant(b""), None, {"x": tf.FixedLenFeature([], tf.int64)})


def test_ragged_graphs_are_refused_when_built():
    with tf.Graph().as_default():
        keys = tf.constant(np.zeros((0,), object), dtype=tf.string)
        with pytest.raises(ValueError, match="ragged features is not supported by caudal"):
            tf.get_default_graph().create_op(
                "ParseExampleV2", [tf.constant(b""), keys, keys, keys, keys],
                {"Tdense": [], "num_sparse": 0, "sparse_types": [], "ragged_value_types": [tf.int64],
                 "ragged_split_types": [tf.int64], "dense_shapes": []})


def test_feature_specs_are_tfs_namedtuples():
    assert tf.FixedLenFeature([2], tf.float32) == tf.FixedLenFeature([2], tf.float32, None)
    assert tf.FixedLenSequenceFeature([], tf.int64).allow_missing is False
    assert tf.VarLenFeature(tf.string).dtype is tf.string
    assert re.fullmatch(r"FixedLenFeature\(shape=\[None\], dtype=tf\.int64, default_value=None\)",
                        str(tf.FixedLenFeature([None], tf.int64)))


def test_import_caudal_loads_no_parsing_module_and_no_protobuf():
    import subprocess
    import sys

    code = ("import sys, caudal as tf\n"
            "mine = ['caudal.ops.parsing_ops', 'caudal.ops.sparse_ops', 'caudal.ops.decode_ops', "
            "'caudal.ops.string_ops', 'caudal.proto.example_pb2', 'google.protobuf', 'caudal.summary.records']\n"
            "assert not any(m in sys.modules for m in mine), [m for m in mine if m in sys.modules]\n"
            "tf.parse_example\n"
            "assert 'caudal.ops.parsing_ops' in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
