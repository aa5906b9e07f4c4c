"""Records: Example parsing (ParseExampleV2, ParseSequenceExampleV2), DecodeRaw, DecodeCSV,
SerializeTensor and ParseTensor, and the
string ops (StringSplit, StringSplitV2, StringToNumber, StringLength), against values worked out
by hand and with NumPy. TensorFlow's own values for these ops are checked in
tests/test_parsing_ops.py and tests/test_string_ops.py."""
import numpy as np

import caudal as tf
from caudal.proto import example_pb2, feature_pb2
from tests.ops.record import OpRecord


def strings(*values):
    array = np.empty((len(values),), dtype=object)
    array[:] = list(values)
    return array


def example(**features):
    proto = example_pb2.Example()
    for key, values in features.items():
        feature = proto.features.feature[key]
        if isinstance(values[0], bytes) if values else False:
            feature.bytes_list.value.extend(values)
        elif values and isinstance(values[0], float):
            feature.float_list.value.extend(values)
        else:
            feature.int64_list.value.extend(values)
    return proto.SerializeToString()


def sequence_example():
    proto = example_pb2.SequenceExample()
    proto.context.feature["n"].int64_list.value.append(2)
    steps = proto.feature_lists.feature_list["x"].feature
    for values in ([1.0, 2.0], [3.0, 4.0]):
        steps.add(float_list=feature_pb2.FloatList(value=values))
    words = proto.feature_lists.feature_list["w"].feature
    words.add(bytes_list=feature_pb2.BytesList(value=[b"a", b"b"]))
    words.add(bytes_list=feature_pb2.BytesList(value=[b"c"]))
    return proto.SerializeToString()


BATCH = strings(example(a=[1.0, 2.0], v=[5, 6, 7], s=[b"x"]), example(a=[3.0, 4.0], v=[8]), example(a=[0.5, 0.25]))
BATCH_FEATURES = {"a": tf.FixedLenFeature([2], tf.float32), "v": tf.VarLenFeature(tf.int64),
                  "s": tf.FixedLenFeature([], tf.string, default_value="?"),
                  "q": tf.FixedLenSequenceFeature([], tf.int64, allow_missing=True, default_value=-1)}


def _parse_batch(serialized):
    out = tf.parse_example(serialized, BATCH_FEATURES)
    return [out["a"], out["v"].indices, out["v"].values, out["v"].dense_shape, out["s"], out["q"]]


def _parse_batch_ref(serialized):
    return [np.array([[1.0, 2.0], [3.0, 4.0], [0.5, 0.25]], np.float32),
            np.array([[0, 0], [0, 1], [0, 2], [1, 0]], np.int64), np.array([5, 6, 7, 8], np.int64),
            np.array([3, 3], np.int64), strings(b"x", b"?", b"?"), np.zeros((3, 0), np.int64)]


def _parse_single(serialized):
    out = tf.parse_single_example(serialized, {"a": tf.FixedLenFeature([1, 2], tf.float32),
                                               "v": tf.VarLenFeature(tf.int64)})
    return [out["a"], out["v"].indices, out["v"].values, out["v"].dense_shape]


def _parse_sequence(serialized):
    context, lists = tf.parse_single_sequence_example(
        serialized, {"n": tf.FixedLenFeature([], tf.int64)},
        {"x": tf.FixedLenSequenceFeature([2], tf.float32), "w": tf.VarLenFeature(tf.string)})
    return [context["n"], lists["x"], lists["w"].indices, lists["w"].values, lists["w"].dense_shape]


def tensor_proto():
    """TF's SerializeTensor bytes of float32 [[1.5, -2.0, 0.25]]: dtype, shape, then the values."""
    return (b"\x08\x01\x12\x08\x12\x02\x08\x01\x12\x02\x08\x03\x22\x0c"
            + np.array([1.5, -2.0, 0.25], "<f4").tobytes())


def _raw_ref(data, dtype):
    return np.stack([np.frombuffer(d, dtype=dtype) for d in data]).astype(np.dtype(dtype).newbyteorder("="))


def _csv_ref(records):
    rows = [r.decode().split(",") for r in records]
    return [np.array([int(r[0]) if r[0] else -1 for r in rows], np.int32),
            np.array([float(r[1]) if r[1] else 0.5 for r in rows], np.float32),
            strings(*[r[2].encode() or b"z" for r in rows])]


def _sparse_parts(sparse):
    return [sparse.indices, sparse.values, sparse.dense_shape]


SENTENCES = strings(b"the cat  sat", b"", b"on a mat")

# SerializeTensor's one output is a scalar string, which a Session returns as bytes; its kernel keeps
# it a 0-d object array (NULs intact), as the summary ops do.
COVERED_ELSEWHERE = {"SerializeTensor": "tests/test_string_ops.py (TF's bytes, and parse_tensor reading them back)"}

RECORDS = [
    OpRecord("parse_example_batch", _parse_batch, _parse_batch_ref, [BATCH], static_full=False),
    OpRecord("parse_single_example", _parse_single,
             lambda s: [np.array([[1.0, 2.0]], np.float32), np.array([[0], [1], [2]], np.int64),
                        np.array([5, 6, 7], np.int64), np.array([3], np.int64)],
             [np.array(BATCH[0], dtype=object)], static_full=False),
    OpRecord("parse_single_sequence_example", _parse_sequence,
             lambda s: [np.int64(2), np.array([[1.0, 2.0], [3.0, 4.0]], np.float32),
                        np.array([[0, 0], [0, 1], [1, 0]], np.int64), strings(b"a", b"b", b"c"),
                        np.array([2, 2], np.int64)],
             [np.array(sequence_example(), dtype=object)], static_full=False),
    OpRecord("decode_raw_int16", lambda b: tf.decode_raw(b, tf.int16), lambda b: _raw_ref(b, "<i2"),
             [strings(b"\x01\x00\xff\xff", b"\x00\x80\x02\x00")], static_full=False),
    OpRecord("decode_raw_float64_big_endian", lambda b: tf.decode_raw(b, tf.float64, little_endian=False),
             lambda b: _raw_ref(b, ">f8"), [strings(np.array([1.5, -3.0], ">f8").tobytes())], static_full=False),
    OpRecord("parse_tensor", lambda s: tf.io.parse_tensor(s, tf.float32),
             lambda s: np.array([[1.5, -2.0, 0.25]], np.float32), [np.array(tensor_proto(), dtype=object)],
             static_full=False),
    OpRecord("decode_csv", lambda r: tf.decode_csv(r, [[-1], [0.5], ["z"]]), _csv_ref,
             [strings(b"1,2.5,a", b",,b", b"-4,1e2,")]),
    OpRecord("string_split", lambda s: _sparse_parts(tf.string_split(s)),
             lambda s: [np.array([[0, 0], [0, 1], [0, 2], [2, 0], [2, 1], [2, 2]], np.int64),
                        strings(b"the", b"cat", b"sat", b"on", b"a", b"mat"), np.array([3, 3], np.int64)],
             [SENTENCES], static_full=False),
    OpRecord("strings_split_sep", lambda s: _sparse_parts(tf.strings.split(s, sep=" ")),
             lambda s: [np.array([[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [2, 0], [2, 1], [2, 2]], np.int64),
                        strings(b"the", b"cat", b"", b"sat", b"", b"on", b"a", b"mat"), np.array([3, 4], np.int64)],
             [SENTENCES], static_full=False),
    OpRecord("strings_to_number_int64", lambda s: tf.strings.to_number(s, out_type=tf.int64),
             lambda s: np.array([12, -3, 0], np.int64), [strings(b"12", b"-3", b" 0")]),
    OpRecord("strings_to_number_float32", lambda s: tf.strings.to_number(s),
             lambda s: np.array([[1.5, -2.0], [1000.0, 0.25]], np.float32),
             [np.array([[b"1.5", b"-2"], [b"1e3", b".25"]], dtype=object)]),
    OpRecord("strings_length", lambda s: [tf.strings.length(s), tf.strings.length(s, unit="UTF8_CHAR")],
             lambda s: [np.array([3, 0, 6], np.int32), np.array([3, 0, 5], np.int32)],
             [strings(b"abc", b"", "h\u00e9llo".encode())]),
]
