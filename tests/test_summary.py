"""tf.summary ops: tags, values, histogram buckets, PNG and WAV bytes, merging, collections.

The expected numbers were produced by TensorFlow 2.21 (`tf.compat.v1.summary`)
on the same inputs and are kept here as constants; TensorFlow is not needed.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

import caudal as tf
import caudal.summary  # noqa: F401 - registers the summary ops before any test looks them up
from caudal.errors import InvalidArgumentError
from caudal.framework.registry import get_op_def
from caudal.ops._summary_encoding import DEFAULT_BUCKET_LIMITS, encode_png
from caudal.proto import summary_pb2

DBL_MAX = float(np.finfo(np.float64).max)


def run_summary(tensor: tf.Tensor, feed: dict | None = None) -> summary_pb2.Summary:
    with tf.Session() as sess:
        return summary_pb2.Summary.FromString(sess.run(tensor, feed))


def decode_png(data: bytes) -> np.ndarray:
    """A small PNG reader for 8-bit, non-interlaced images (all five row filters)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, f"bad CRC in chunk {kind!r}"
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color_type, _, _, interlace = header
    assert depth == 8 and interlace == 0
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color_type]
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.int32)
    for y in range(height):
        kind, row = raw[y * (stride + 1)], np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        prior = out[y - 1] if y else np.zeros(stride, np.int32)
        for x in range(stride):
            left = out[y, x - channels] if x >= channels else 0
            up = prior[x]
            upper_left = prior[x - channels] if x >= channels and y else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = left
            elif kind == 2:
                predictor = up
            elif kind == 3:
                predictor = (left + up) // 2
            else:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
            out[y, x] = (row[x] + predictor) & 0xFF
    return out.astype(np.uint8).reshape(height, width, channels)


# ---------------------------------------------------------------- scalars
def test_scalar_tag_is_the_scope_name():
    with tf.name_scope("outer"):
        first = tf.summary.scalar("loss", tf.constant(1.5))
        second = tf.summary.scalar("loss", 2.0)
        family = tf.summary.scalar("loss", tf.constant(2.5), family="fam")
    odd = tf.summary.scalar("bad name!?", 3.0)
    lead = tf.summary.scalar("/lead", 3.0)
    spaced = tf.summary.scalar("fam2", 3.0, family="a b")
    assert [first.name, second.name, family.name] == ["outer/loss:0", "outer/loss_1:0", "outer/fam/loss:0"]
    assert [t.name for t in second.op.inputs] == ["outer/loss_1/tags:0", "outer/loss_1/values:0"]
    assert first.op.type == "ScalarSummary" and first.dtype == tf.string and first.shape.as_list() == []
    tags = [run_summary(t).value[0].tag for t in (first, second, family, odd, lead, spaced)]
    assert tags == ["outer/loss", "outer/loss_1", "fam/outer/fam/loss", "bad_name__", "lead", "a_b/a_b/fam2"]
    assert run_summary(family).value[0].simple_value == 2.5


def test_scalar_accepts_real_dtypes_only():
    assert run_summary(tf.summary.scalar("i", tf.constant(3))).value[0].simple_value == 3.0
    assert run_summary(tf.summary.scalar("d", tf.constant(0.1, tf.float64))).value[0].simple_value == \
        pytest.approx(0.1)
    with pytest.raises(TypeError, match="Value passed to parameter 'values' has DataType bool not in list of "
                                        "allowed values: float32, float64, int32, uint8"):
        tf.summary.scalar("b", tf.constant(True))


def test_scalar_of_a_vector_fails_at_run_time_like_tf():
    summary = tf.summary.scalar("v", tf.constant([1.0, 2.0]))
    with pytest.raises(InvalidArgumentError, match=r"tags and values are not the same shape: \[\] != \[2\] "
                                                   r"\(tag 'v'\)") as info:
        run_summary(summary)
    assert info.value.op is summary.op


def test_collections():
    a = tf.summary.scalar("a", 1.0)
    b = tf.summary.scalar("b", 1.0, collections=[])
    c = tf.summary.scalar("c", 1.0, collections=["x", "y"])
    assert tf.get_collection(tf.GraphKeys.SUMMARIES) == [a]
    assert tf.get_collection("x") == [c] and tf.get_collection("y") == [c]
    assert b not in tf.get_collection(tf.GraphKeys.SUMMARIES)


def test_summary_ops_are_not_differentiable():
    for op_type in ("ScalarSummary", "HistogramSummary", "ImageSummary", "AudioSummaryV2", "TensorSummaryV2",
                    "MergeSummary"):
        assert not get_op_def(op_type).differentiable


# -------------------------------------------------------------- histograms
# tf.summary.histogram("h", [-3, -1, 0, 0.5, 1, 2, 100, 1e-13] as float32) in TensorFlow 2.21.
TF_HISTOGRAM = {
    "min": -3.0, "max": 100.0, "num": 8.0, "sum": 99.5000000000001, "sum_squares": 10015.25,
    "bucket_limit": [-3.1665833053880363, -2.8787120958073054, -1.0089710279437536, -0.917246389039776, 0.0,
                     1e-12, 0.47069243095356195, 0.51776167404891815, 0.917246389039776, 1.0089710279437536,
                     1.9661990955585713, 2.1628190051144287, 97.88757810018231, 107.67633591020055, DBL_MAX],
    "bucket": [0, 1, 0, 1, 0, 2, 0, 1, 0, 1, 0, 1, 0, 1, 0],
}

# tf.summary.histogram of [-1e25, 1e25, -1e19, 5e-13, -5e-13] (float32).
TF_HISTOGRAM_EXTREMES = {
    "min": -9.9999995620235262e+24, "max": 9.9999995620235262e+24, "num": 5.0,
    "sum": -9.9999999805064479e+18, "sum_squares": 1.9999998248104142e+50,
    "bucket_limit": [-DBL_MAX, -9.9207756218597835e+19, -1.0072126775812549e+19, -9.1564788871023155e+18, -1e-12,
                     0.0, 1e-12, 9.9207756218597835e+19, DBL_MAX],
    "bucket": [0, 1, 0, 1, 0, 1, 1, 0, 1],
}


def _histogram_fields(histo: summary_pb2.HistogramProto) -> dict:
    return {"min": histo.min, "max": histo.max, "num": histo.num, "sum": histo.sum,
            "sum_squares": histo.sum_squares, "bucket_limit": list(histo.bucket_limit), "bucket": list(histo.bucket)}


@pytest.mark.parametrize("values, expected", [
    ([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 100.0, 1e-13], TF_HISTOGRAM),
    ([-1e25, 1e25, -1e19, 5e-13, -5e-13], TF_HISTOGRAM_EXTREMES),
])
def test_histogram_matches_tensorflow(values, expected):
    with tf.name_scope("outer"):
        summary = tf.summary.histogram("h", tf.constant(np.array(values, np.float32)))
    assert summary.op.type == "HistogramSummary" and [t.name for t in summary.op.inputs][0] == "outer/h/tag:0"
    value = run_summary(summary).value[0]
    assert value.tag == "outer/h"
    got = _histogram_fields(value.histo)
    for key in ("bucket_limit", "bucket", "min", "max", "num"):
        assert got[key] == expected[key], key
    assert got["sum"] == pytest.approx(expected["sum"], rel=1e-15)
    assert got["sum_squares"] == pytest.approx(expected["sum_squares"], rel=1e-15)


def test_histogram_of_integers_and_of_nothing():
    ints = run_summary(tf.summary.histogram("hint", tf.constant([[1, 2], [3, 3]]))).value[0].histo
    assert (ints.min, ints.max, ints.num, ints.sum, ints.sum_squares) == (1, 3, 4, 9, 23)
    assert list(ints.bucket_limit) == [0.917246389039776, 1.0089710279437536, 1.9661990955585713,
                                       2.1628190051144287, 2.8787120958073054, 3.1665833053880363, DBL_MAX]
    assert list(ints.bucket) == [0, 1, 0, 1, 0, 2, 0]
    empty = run_summary(tf.summary.histogram("he", tf.constant([], tf.float32))).value[0].histo
    assert (empty.min, empty.max, empty.num) == (DBL_MAX, -DBL_MAX, 0)
    assert list(empty.bucket_limit) == [DBL_MAX] and list(empty.bucket) == [0]


def test_default_buckets():
    limits = DEFAULT_BUCKET_LIMITS
    assert len(limits) == 1551 and limits[0] == -DBL_MAX and limits[-1] == DBL_MAX
    assert limits[775] == 0.0 and limits[776] == 1e-12 and np.all(np.diff(limits) > 0)


def test_histogram_rejects_nan_and_infinity_at_run_time():
    nan = tf.summary.histogram("hn", tf.constant([1.0, np.nan]))
    inf = tf.summary.histogram("hi", tf.constant([1.0, -np.inf]))
    with pytest.raises(InvalidArgumentError, match="^Nan in summary histogram for: hn"):
        run_summary(nan)
    with pytest.raises(InvalidArgumentError, match="^Infinity in Histogram for: hi"):
        run_summary(inf)


# ------------------------------------------------------------------ images
# Pixels TensorFlow 2.21's ImageSummary writes for 6-pixel grayscale images (float32 inputs).
TF_FLOAT_IMAGES = {
    "pos": ([0.0, 0.1, 0.5, 1.0, 2.0, 0.3], [0, 12, 63, 127, 255, 38]),
    "pos_small": ([0.0, 0.1, 0.2, 0.3, 0.25, 0.001], [0, 84, 169, 254, 212, 0]),
    "neg": ([-1.0, -0.5, 0.0, 0.5, 0.25, 0.1], [1, 64, 128, 191, 159, 140]),
    "neg2": ([-4.0, -0.5, 0.0, 0.5, 1.0, 2.0], [1, 112, 128, 143, 159, 191]),
    "zeros": ([0.0] * 6, [0] * 6),
    "nan": ([np.nan, 0.5, 1.0, np.inf, -np.inf, 0.25], [255, 127, 255, 255, 255, 63]),
    "allneg": ([-1.0, -2.0, -3.0, -0.5, -0.1, -0.01], [85, 43, 1, 106, 123, 127]),
    "half": ([0.5 / 255, 1.5 / 255, 2.5 / 255, 3.5 / 255, 254.5 / 255, 1.0], [0, 1, 2, 3, 254, 255]),
}


@pytest.mark.parametrize("case", sorted(TF_FLOAT_IMAGES))
def test_float_image_pixels_match_tensorflow(case):
    values, pixels = TF_FLOAT_IMAGES[case]
    summary = tf.summary.image(case, tf.constant(np.array(values, np.float32).reshape(1, 2, 3, 1)), max_outputs=1)
    value = run_summary(summary).value[0]
    assert value.tag == f"{case}/image"
    assert (value.image.height, value.image.width, value.image.colorspace) == (2, 3, 1)
    np.testing.assert_array_equal(decode_png(value.image.encoded_image_string).reshape(-1), pixels)


def test_float16_image_is_scaled_in_half_precision():
    values = np.array([0.0, 0.1, 0.2, 0.3, 0.25, 0.001], np.float16).reshape(1, 2, 3, 1)
    png = run_summary(tf.summary.image("h", tf.constant(values), max_outputs=1)).value[0].image.encoded_image_string
    np.testing.assert_array_equal(decode_png(png).reshape(-1), [0, 85, 170, 255, 212, 0])  # TF's values


def test_non_finite_pixels_take_the_bad_color():
    rgb = np.array([np.nan, 0.5, 1.0, np.inf, -np.inf, 0.25], np.float32).reshape(1, 2, 1, 3)
    png = run_summary(tf.summary.image("rgb", tf.constant(rgb), max_outputs=1)).value[0].image.encoded_image_string
    np.testing.assert_array_equal(decode_png(png), [[[255, 0, 0]], [[255, 0, 0]]])
    rgba = np.tile(np.array([np.nan, 0.5, 1.0, np.inf, -np.inf, 0.25], np.float32).reshape(1, 6, 1, 1), (1, 1, 1, 4))
    png = run_summary(tf.summary.image("rgba", tf.constant(rgba), max_outputs=1)).value[0].image.encoded_image_string
    np.testing.assert_array_equal(decode_png(png).reshape(6, 4), [[255, 0, 0, 255], [127] * 4, [255] * 4,
                                                                  [255, 0, 0, 255], [255, 0, 0, 255], [63] * 4])


def test_images_are_scaled_one_by_one_and_tagged_by_index():
    batch = np.stack([np.full((2, 2, 1), 1.0), np.full((2, 2, 1), 0.5)]).astype(np.float32)
    batch[1, 0, 0, 0] = 0.25
    summary = run_summary(tf.summary.image("batch", tf.constant(batch), max_outputs=3))
    assert [v.tag for v in summary.value] == ["batch/image/0", "batch/image/1"]
    np.testing.assert_array_equal(decode_png(summary.value[0].image.encoded_image_string).reshape(-1), [255] * 4)
    np.testing.assert_array_equal(decode_png(summary.value[1].image.encoded_image_string).reshape(-1),
                                  [127, 255, 255, 255])
    one = run_summary(tf.summary.image("one", tf.zeros([5, 2, 2, 4], tf.uint8), max_outputs=2))
    assert [v.tag for v in one.value] == ["one/image/0", "one/image/1"]
    assert run_summary(tf.summary.image("none", tf.zeros([0, 2, 2, 3]))).value == []


def test_uint8_images_keep_their_pixels():
    rng = np.random.default_rng(0)
    for channels in (1, 3, 4):
        pixels = rng.integers(0, 256, (2, 5, 7, channels)).astype(np.uint8)
        summary = tf.summary.image(f"u{channels}", tf.constant(pixels), max_outputs=2)
        node = summary.op
        assert node.type == "ImageSummary" and node.get_attr("max_images") == 2
        assert node.get_attr("T") == tf.uint8 and list(node.get_attr("bad_color")) == [255, 0, 0, 255]
        values = run_summary(summary).value
        for i, value in enumerate(values):
            assert (value.image.height, value.image.width, value.image.colorspace) == (5, 7, channels)
            np.testing.assert_array_equal(decode_png(value.image.encoded_image_string), pixels[i])


def test_png_encoder_writes_gray_alpha_too():
    pixels = np.arange(2 * 3 * 2, dtype=np.uint8).reshape(2, 3, 2)
    np.testing.assert_array_equal(decode_png(encode_png(pixels)), pixels)


def test_image_errors():
    with pytest.raises(TypeError, match="Value passed to parameter 'tensor' has DataType int32 not in list of "
                                        "allowed values: uint8, float32, float16, float64"):
        tf.summary.image("i", tf.zeros([1, 2, 2, 1], tf.int32))
    for shape in ([2, 2, 3], [1, 2, 2, 2], [1, 2, 2, 5]):
        bad = tf.summary.image("bad", tf.zeros(shape))
        with pytest.raises(InvalidArgumentError, match=r"^Tensor must be 4-D with last dim 1, 3, or 4, not \["
                                                       + ",".join(map(str, shape)) + r"\]"):
            run_summary(bad)


# ------------------------------------------------------------------- audio
def test_audio_wav_matches_tensorflow():
    summary = tf.summary.audio("aud", [[0.0, 0.5, -0.5, 1.0, -1.0]], 8000)
    assert summary.op.type == "AudioSummaryV2"
    assert [t.name for t in summary.op.inputs] == ["aud/tag:0", "aud/tensor:0", "aud/sample_rate:0"]
    value = run_summary(summary).value[0]
    assert value.tag == "aud/audio/0"
    audio = value.audio
    assert (audio.sample_rate, audio.num_channels, audio.length_frames, audio.content_type) == \
        (8000, 1, 5, "audio/wav")
    # The exact bytes TensorFlow 2.21 writes.
    assert audio.encoded_audio_string == (
        b"RIFF.\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00\x02\x00\x10\x00"
        b"data\n\x00\x00\x00\x00\x00\x00@\x00\xc0\xff\x7f\x00\x80")


def test_audio_rounding_channels_and_rate():
    samples = np.array([[1.5, 2.5, -1.5, -2.5, 0.5, -0.5, 32767.5, np.nan, np.inf, -np.inf]], np.float32) / 32768
    wav = run_summary(tf.summary.audio("a", tf.constant(samples), 8000, max_outputs=1)).value[0]
    assert wav.tag == "a/audio"
    assert struct.unpack("<10h", wav.audio.encoded_audio_string[44:]) == \
        (2, 3, -2, -3, 1, -1, 32767, 0, 32767, -32768)  # TF's samples
    stereo = run_summary(tf.summary.audio("s", tf.constant([[[0.3, -0.3], [0.1, 0.2]]]), 16000.5)).value[0].audio
    assert (stereo.num_channels, stereo.length_frames, stereo.sample_rate) == (2, 2, 16000.5)
    assert stereo.encoded_audio_string == (
        b"RIFF,\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x02\x00\x80>\x00\x00\x00\xfa\x00\x00\x04\x00\x10\x00"
        b"data\x08\x00\x00\x00f&\x9a\xd9\xcd\x0c\x9a\x19")
    rate = run_summary(tf.summary.audio("r", tf.constant([[0.3]]), 16000.7)).value[0].audio.encoded_audio_string
    assert struct.unpack("<II", rate[24:32]) == (16001, 32002)


def test_audio_errors():
    with pytest.raises(TypeError, match="Input 'tensor' of 'AudioSummaryV2' Op has type float64"):
        tf.summary.audio("a", tf.zeros([1, 2], tf.float64), 10)
    flat = tf.summary.audio("flat", tf.constant([0.3, 0.1]), 16000)
    with pytest.raises(InvalidArgumentError, match=r"^Tensor must be 3-D or 2-D, got: \[2\]"):
        run_summary(flat)
    rates = tf.summary.audio("rates", tf.zeros([1, 2]), tf.constant([10.0, 2.0]))
    with pytest.raises(InvalidArgumentError, match="^sample_rate must be rank-0 or contain a single value"):
        run_summary(rates)


# ------------------------------------------------------------ text, tensor
def test_text_summary():
    summary = tf.summary.text("tx", tf.constant([["a", "b"]]))
    assert summary.op.type == "TensorSummaryV2"
    assert [t.name for t in summary.op.inputs][::2] == ["tx/tag:0", "tx/serialized_summary_metadata:0"]
    value = run_summary(summary).value[0]
    assert value.tag == "tx" and value.metadata.plugin_data.plugin_name == "text"
    assert value.metadata.plugin_data.content == b""
    assert value.tensor.dtype == tf.string.as_datatype_enum
    assert [d.size for d in value.tensor.tensor_shape.dim] == [1, 2] and list(value.tensor.string_val) == [b"a", b"b"]
    with pytest.raises(ValueError, match="to have dtype string, got <dtype: 'float32'>"):
        tf.summary.text("bad", tf.constant(1.0))


def test_tensor_summary():
    summary = tf.summary.tensor_summary("ten", [1.0, 2.0], summary_description="two numbers", display_name="Ten")
    value = run_summary(summary).value[0]
    assert value.tag == "ten" and value.HasField("metadata")
    assert value.metadata.summary_description == "two numbers" and value.metadata.display_name == "Ten"
    np.testing.assert_array_equal(tf.make_ndarray(value.tensor), [1.0, 2.0])
    assert value.tensor.tensor_content == b"\x00\x00\x80?\x00\x00\x00@"  # as TF writes it


# ------------------------------------------------------------------ merging
def test_merge_and_merge_all():
    scalar = tf.summary.scalar("x", 1.0)
    with tf.name_scope("sc"):
        hist = tf.summary.histogram("y", [1.0], family="f")
    merged = tf.summary.merge_all()
    assert merged.name == "Merge/MergeSummary:0" and merged.op.get_attr("N") == 2
    assert [v.tag for v in run_summary(merged).value] == ["x", "f/sc/f/y"]
    scoped = tf.summary.merge_all(scope="sc")
    assert list(scoped.op.inputs) == [hist] and scoped.name == "Merge_1/MergeSummary:0"
    named = tf.summary.merge([scalar, hist], collections=["merged"], name="mm")
    assert named.name == "mm/mm:0" and tf.get_collection("merged") == [named]
    assert merged not in tf.get_collection(tf.GraphKeys.SUMMARIES)
    assert tf.summary.merge_all(key="nothing") is None and tf.summary.merge_all(scope="nowhere") is None
    nested = tf.summary.merge([merged, tf.summary.scalar("z", 2.0, collections=[])])
    assert [v.tag for v in run_summary(nested).value] == ["x", "f/sc/f/y", "z"]


def test_merge_errors():
    scalar = tf.summary.scalar("loss", 1.0)
    duplicate = tf.summary.merge([scalar, scalar])
    with pytest.raises(InvalidArgumentError, match="^Duplicate tag loss found in summary inputs"):
        run_summary(duplicate)
    garbage = tf.summary.merge([scalar, tf.constant("garbage")])
    with pytest.raises(InvalidArgumentError, match="^Could not parse one of the summary inputs"):
        run_summary(garbage)
    with pytest.raises(TypeError, match=r"have types \[float32\] that do not match expected type string"):
        tf.summary.merge([tf.constant(1.0)])
    with pytest.raises(ValueError, match="length 0 shorter than minimum length 1"):
        tf.summary.merge([])


def test_summaries_of_fed_values_and_graph_def():
    images = tf.placeholder(tf.float32, [None, 2, 2, 1])
    loss = tf.placeholder(tf.float32, [])
    merged = tf.summary.merge([tf.summary.scalar("loss", loss), tf.summary.image("im", images)])
    with tf.Session() as sess:
        for step in range(3):
            summary = summary_pb2.Summary.FromString(
                sess.run(merged, {loss: step * 0.5, images: np.full((1, 2, 2, 1), step, np.float32)}))
            assert summary.value[0].simple_value == step * 0.5
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    assert nodes["loss"].op == "ScalarSummary" and nodes["loss"].input == ["loss/tags", "Placeholder_1"]
    assert nodes["im"].attr["max_images"].i == 3 and nodes["im"].attr["T"].type == tf.float32.as_datatype_enum
    assert nodes["Merge/MergeSummary"].attr["N"].i == 2
    graph_def = merged.graph.as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        again = tf.get_default_graph().get_tensor_by_name("Merge/MergeSummary:0")
        with tf.Session() as sess:
            fed = {"Placeholder:0": np.ones((1, 2, 2, 1), np.float32), "Placeholder_1:0": 4.0}
            assert summary_pb2.Summary.FromString(sess.run(again, fed)).value[0].simple_value == 4.0
