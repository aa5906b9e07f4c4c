"""Image decoding and encoding against TensorFlow 2.21's decodings of the files in
tests/fixtures/images/ (PNG, GIF and BMP exactly; JPEG exactly with dct_method
"INTEGER_ACCURATE", and within a small bound with TF's default fast IDCT, which Pillow does not
offer), TF's static shapes and error messages, and Pillow as an optional dependency."""
from __future__ import annotations

import builtins
import subprocess
import sys

import numpy as np
import pytest

import caudal as tf
from caudal.ops import _image_codecs
from tests import image_fixtures as fixtures

DECODED = fixtures.decoded()
FUNCTIONS = {"DecodePng": tf.image.decode_png, "DecodeJpeg": tf.image.decode_jpeg, "DecodeBmp": tf.image.decode_bmp,
             "DecodeImage": tf.image.decode_image}


def _build(op: str, contents: tf.Tensor, channels: int, dtype: str, extra: str) -> tf.Tensor:
    if op == "DecodeGif":
        return tf.image.decode_gif(contents)
    kwargs = {"channels": channels}
    if op in ("DecodePng", "DecodeImage"):
        kwargs["dtype"] = getattr(tf, dtype)
    if op == "DecodeImage" and extra == "noexpand":
        kwargs["expand_animations"] = False
    if op == "DecodeJpeg" and extra:
        kwargs.update({"ratio": 2, "dct_method": "INTEGER_ACCURATE"} if extra == "ratio2" else {"dct_method": extra})
    return FUNCTIONS[op](contents, **kwargs)


def _decodings(exact: bool) -> list[str]:
    keys = [k for k in DECODED if k.split("|")[0] not in ("source", "encoded")]
    # TF decodes JPEG with the fast integer IDCT unless dct_method asks for the accurate one.
    fast_jpeg = [k for k in keys if k.startswith(("rgb.jpg", "rgb444.jpg", "progressive.jpg", "gray.jpg"))
                 and "INTEGER_ACCURATE" not in k and "ratio2" not in k]
    return [k for k in keys if k not in fast_jpeg] if exact else fast_jpeg


def _run_decodings(keys: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    results = {}
    with tf.Graph().as_default(), tf.Session() as sess:
        contents = tf.placeholder(tf.string, [])
        tensors = {}
        for key in keys:
            name, op, channels, dtype, extra = key.split("|")
            tensors[key] = _build(op, contents, int(channels), dtype, extra)
        for key in keys:
            name = key.split("|")[0]
            got = sess.run(tensors[key], {contents: fixtures.file_bytes(name)})
            assert tensors[key].shape.is_compatible_with(got.shape), key
            results[key] = (got, DECODED[key])
    return results


def test_png_gif_bmp_and_accurate_jpeg_decode_exactly_as_tf() -> None:
    results = _run_decodings(_decodings(exact=True))
    assert len(results) > 350
    for key, (got, want) in results.items():
        assert got.dtype == want.dtype and got.shape == want.shape, key
        np.testing.assert_array_equal(got, want, err_msg=key)


def test_jpeg_with_tf_default_fast_idct_is_within_a_few_levels() -> None:
    """Pillow decodes with libjpeg's accurate IDCT; TF's default is the fast one: on these files
    the uint8 values differ by at most 5 levels, by about 1 on average (scaled alike for uint16
    and float32)."""
    results = _run_decodings(_decodings(exact=False))
    assert len(results) > 70
    for key, (got, want) in results.items():
        assert got.dtype == want.dtype and got.shape == want.shape, key
        level = {"uint8": 1.0, "uint16": 256.0, "float32": 1 / 255}[key.split("|")[3]]
        difference = np.abs(got.astype(np.float64) - want.astype(np.float64)) / level
        assert difference.max() <= 5.0001 and difference.mean() < 1.5, key


def test_static_shapes_are_tfs() -> None:
    with tf.Graph().as_default():
        contents = tf.constant(fixtures.file_bytes("rgb8.png"))
        assert tf.image.decode_png(contents).shape.as_list() == [None, None, None]
        assert tf.image.decode_png(contents, channels=3).shape.as_list() == [None, None, 3]
        assert tf.image.decode_jpeg(contents, channels=1).shape.as_list() == [None, None, 1]
        assert tf.image.decode_gif(contents).shape.as_list() == [None, None, None, 3]
        assert tf.image.decode_bmp(contents, channels=4).shape.as_list() == [None, None, 4]
        assert tf.image.decode_image(contents).shape.ndims is None
        assert tf.image.decode_image(contents, channels=3, expand_animations=False).shape.as_list() == [None, None, 3]
        image = tf.image.decode_image(contents, dtype=tf.float32)
        assert image.op.name == "decode_image_2/DecodeImage" and image.dtype == tf.float32
        as_int = tf.image.decode_image(contents, dtype=tf.int32)
        assert as_int.dtype == tf.int32 and as_int.op.inputs[0].op.inputs[0].dtype == tf.uint16
        assert tf.image.decode_png(contents, dtype=tf.uint16).dtype == tf.uint16
    with tf.Graph().as_default():
        assert tf.image.decode_png(b"data").op.inputs[0].op.name == "DecodePng/contents"


def test_decode_image_in_another_dtype_converts_as_convert_image_dtype() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        value = sess.run(tf.image.decode_image(fixtures.file_bytes("rgb16.png"), dtype=tf.int32))
    expected = DECODED["rgb16.png|DecodeImage|0|uint16|"].astype(np.int32) * 32768
    np.testing.assert_array_equal(value, expected)


def _decode_error(build, data: bytes) -> str:
    with tf.Graph().as_default(), tf.Session() as sess:
        contents = tf.placeholder(tf.string, None)
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(build(contents), {contents: data})
    return info.value.message.split("\n\t [[")[0]  # without the node and where it was built


@pytest.mark.parametrize("data, message", [
    (b"not an image", "Unknown image file format. One of JPEG, JPEG XL, PNG, GIF, BMP, WebP required."),
    (b"", "Input is empty."),
    (b"\x89PNG\r\n\x1a\nxxxx", "Invalid PNG. Failed to initialize decoder."),
    (b"\xff\xd8\xff\xe0garbage", "jpeg::Uncompress failed. Invalid JPEG data or crop window."),
    (b"GIF89a\x01", "Invalid GIF data (size 7), "),
])
def test_bytes_that_are_not_an_image(data: bytes, message: str) -> None:
    for build in (tf.image.decode_png, tf.image.decode_jpeg, tf.image.decode_image):
        assert _decode_error(build, data).startswith(message)


def test_png_data_that_does_not_decompress() -> None:
    broken = bytearray(fixtures.file_bytes("rgb8.png"))
    start = broken.index(b"IDAT") + 4
    broken[start:start + 20] = b"\x00" * 20
    assert _decode_error(tf.image.decode_png, bytes(broken)) == f"Invalid PNG data, size {len(broken)}"
    broken16 = bytearray(fixtures.file_bytes("rgb16.png"))
    start = broken16.index(b"IDAT") + 4
    broken16[start:start + 20] = b"\x00" * 20
    assert _decode_error(tf.image.decode_png, bytes(broken16)) == f"Invalid PNG data, size {len(broken16)}"


@pytest.mark.parametrize("build, name, message", [
    (lambda c: tf.image.decode_png(c, channels=2), "rgb8.png", "`channels` must be 0, 1, 3 or 4 but got 2"),
    (lambda c: tf.image.decode_image(c, channels=5), "rgb8.png", "`channels` must be 0, 1, 3 or 4 but got 5"),
    (lambda c: tf.image.decode_jpeg(c, channels=4), "rgb.jpg", "JPEG does not support 4 channels"),
    (lambda c: tf.image.decode_image(c, channels=1), "anim.gif", "channels must be 0 or 3 for GIF, got 1"),
    (lambda c: tf.image.decode_bmp(c, channels=1), "rgb24.bmp", "`channels` must be 0, 3 or 4 for BMP, but got 1"),
    (lambda c: tf.image.decode_jpeg(c, ratio=3), "rgb.jpg", "ratio must be 1, 2, 4, or 8, got 3"),
    (lambda c: tf.image.decode_jpeg(c, dct_method="FLOAT"), "rgb.jpg",
     "dct_method must be one of {'', 'INTEGER_FAST', 'INTEGER_ACCURATE'}"),
    (tf.image.decode_png, "anim.gif",
     "Got 2 frames, but animated gifs can only be decoded by tf.io.decode_gif or tf.io.decode_image"),
    (tf.image.decode_png, "rgb24.bmp", "Trying to decode BMP format using a wrong op. Use `decode_bmp` or "
                                       "`decode_image` instead. Op used: DecodePng"),
    (tf.image.decode_bmp, "rgb8.png", "Trying to decode PNG format using DecodeBmp op. Use `decode_png` or "
                                      "`decode_image` instead."),
    (tf.image.decode_bmp, "rgb.jpg", "Trying to decode JPEG format using DecodeBmp op. Use `decode_jpeg` or "
                                     "`decode_image` instead."),
    (tf.image.decode_bmp, "anim.gif", "Trying to decode GIF format using DecodeBmp op. Use `decode_gif` or "
                                      "`decode_image` instead."),
])
def test_channels_and_ops_a_format_does_not_allow(build, name: str, message: str) -> None:
    assert _decode_error(build, fixtures.file_bytes(name)) == message


def test_single_frame_gif_through_decode_png_and_first_frame_only() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        single = sess.run(tf.image.decode_png(fixtures.file_bytes("single.gif")))
        first = sess.run(tf.image.decode_image(fixtures.file_bytes("anim.gif"), expand_animations=False))
    np.testing.assert_array_equal(single, DECODED["single.gif|DecodePng|0|uint8|"])
    np.testing.assert_array_equal(first, DECODED["anim.gif|DecodeGif|0|uint8|"][0])


def test_contents_must_be_a_scalar_string() -> None:
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
            tf.image.decode_png([b"x"])
        with pytest.raises(ValueError, match="channels must be non-negative, got -1"):
            tf.image.decode_jpeg(b"x", channels=-1)
        with pytest.raises(TypeError, match="Value passed to parameter 'dtype' has DataType float32 not in list of "
                                            "allowed values: uint8, uint16"):
            tf.image.decode_png(b"x", dtype=tf.float32)
    message = _decode_error(tf.image.decode_png, np.array([fixtures.file_bytes("rgb8.png")], dtype=object))
    assert message == "`contents` must be scalar but got shape[1]"


# ---------------------------------------------------------------- encoders
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_encode_png_round_trips(dtype, channels: int) -> None:
    rng = np.random.default_rng(channels)
    image = rng.integers(0, np.iinfo(dtype).max + 1, (7, 9, channels)).astype(dtype)
    image[2:5, 1:6] = image[0, 0]
    with tf.Graph().as_default(), tf.Session() as sess:
        encoded = tf.image.encode_png(image, compression=9)
        assert encoded.shape.as_list() == [] and encoded.dtype == tf.string
        data = sess.run(encoded)
        decoded = sess.run(tf.image.decode_png(data, dtype=tf.as_dtype(dtype)))
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    np.testing.assert_array_equal(decoded, image)


def test_encode_png_of_a_batch_gives_one_string_per_image() -> None:
    images = np.random.default_rng(1).integers(0, 256, (2, 3, 4, 5, 3)).astype(np.uint8)
    with tf.Graph().as_default(), tf.Session() as sess:
        encoded = tf.image.encode_png(images)
        assert encoded.shape.as_list() == [2, 3]
        values = sess.run(encoded)
        assert values.shape == (2, 3)
        again = sess.run(tf.image.decode_png(values[1, 2]))
    np.testing.assert_array_equal(again, images[1, 2])


def test_encode_png_errors() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(TypeError, match="Value passed to parameter 'image' has DataType float32 not in list"):
            tf.image.encode_png(np.zeros((2, 2, 3), np.float32))
        with pytest.raises(ValueError, match="Shape must be at least rank 3 but is rank 2"):
            tf.image.encode_png(np.zeros((2, 2), np.uint8))
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"image must have 1, 2, 3, or 4 channels, got 5"):
            sess.run(tf.image.encode_png(np.zeros((2, 2, 5), np.uint8)))
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"compression should be in \[-1,9\], got 12"):
            sess.run(tf.image.encode_png(np.zeros((2, 2, 3), np.uint8), compression=12))


def test_encode_jpeg_decodes_to_what_tf_encoder_gives() -> None:
    photo = DECODED["source|rgb.jpg"]
    with tf.Graph().as_default(), tf.Session() as sess:
        for quality in (50, 95):
            data = sess.run(tf.image.encode_jpeg(photo, quality=quality))
            decoded = sess.run(tf.image.decode_jpeg(data, dct_method="INTEGER_ACCURATE"))
            np.testing.assert_array_equal(decoded, DECODED[f"encoded|q{quality}"])
        gray = sess.run(tf.image.encode_jpeg(photo[..., :1], format="grayscale"))
        assert sess.run(tf.image.decode_jpeg(gray)).shape == (16, 24, 1)
        centimeters = sess.run(tf.image.encode_jpeg(photo, density_unit="cm", x_density=20, y_density=40))
        assert centimeters[6:18] == b"JFIF\x00\x01\x01\x02\x00\x14\x00\x28"
        progressive = sess.run(tf.image.encode_jpeg(photo, progressive=True, chroma_downsampling=False))
        assert b"\xff\xc2" in progressive


def test_encode_jpeg_errors() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(ValueError, match="Shape must be rank 3 but is rank 2"):
            tf.image.encode_jpeg(np.zeros((2, 2), np.uint8))
        with pytest.raises(ValueError, match="Attr 'format' of 'EncodeJpeg' Op passed string 'cmyk' not in"):
            tf.image.encode_jpeg(np.zeros((2, 2, 3), np.uint8), format="cmyk")
        with pytest.raises(ValueError, match="Attr 'density_unit' of 'EncodeJpeg' Op passed string 'mm' not in"):
            tf.image.encode_jpeg(np.zeros((2, 2, 3), np.uint8), density_unit="mm")
        for image, kwargs, message in [
                (np.zeros((2, 2, 2), np.uint8), {}, r"image must have 1 or 3 channels, got \[2,2,2\]"),
                (np.zeros((2, 2, 3), np.uint8), {"quality": 101}, r"quality must be in \[0,100\], got 101"),
                (np.zeros((2, 2, 3), np.uint8), {"format": "grayscale"},
                 r"format grayscale expects 1 channels, got \[2,2,3\]"),
                (np.zeros((2, 2, 1), np.uint8), {"format": "rgb"}, r"format rgb expects 3 channels, got \[2,2,1\]")]:
            with pytest.raises(tf.errors.InvalidArgumentError, match=message):
                sess.run(tf.image.encode_jpeg(image, **kwargs))


# ---------------------------------------------------------------- Pillow is optional
def test_import_caudal_imports_neither_pillow_nor_the_image_modules() -> None:
    code = ("import sys, caudal as tf\n"
            "loaded = [m for m in sys.modules if m.startswith('PIL') or m.startswith('caudal.ops.image')\n"
            "          or m.startswith('caudal.ops._image') or m in ('caudal.image', 'caudal.ops.io_ops',\n"
            "                                                          'caudal.ops.script_ops')]\n"
            "assert not loaded, loaded\n"
            "tf.image.decode_png\n"
            "assert 'PIL' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.fixture
def without_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def blocked(name: str, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", blocked)


def test_without_pillow_the_kernel_says_how_to_install_it(without_pillow: None) -> None:
    with pytest.raises(ImportError, match=r'needs Pillow: pip install "caudal\[image\]"'):
        _image_codecs.decode(fixtures.file_bytes("rgb.jpg"), "DecodeJpeg", 0)
    with tf.Graph().as_default(), tf.Session() as sess:
        decoded = tf.image.decode_png(fixtures.file_bytes("rgb8.png"))
        with pytest.raises(tf.errors.OpError, match=r'ImportError: .*pip install "caudal\[image\]"'):
            sess.run(decoded)
        with pytest.raises(tf.errors.OpError, match=r'ImportError: .*pip install "caudal\[image\]"'):
            sess.run(tf.image.encode_jpeg(np.zeros((2, 2, 3), np.uint8)))
        # What needs no Pillow still works: BMP, GIF, 16-bit color PNG, and PNG encoding.
        bmp = sess.run(tf.image.decode_image(fixtures.file_bytes("rgb24.bmp")))
        gif = sess.run(tf.image.decode_gif(fixtures.file_bytes("anim.gif")))
        rgb16 = sess.run(tf.image.decode_png(fixtures.file_bytes("rgb16.png"), dtype=tf.uint16))
        sess.run(tf.image.encode_png(np.zeros((2, 2, 3), np.uint8)))
    np.testing.assert_array_equal(bmp, DECODED["rgb24.bmp|DecodeImage|0|uint8|"])
    np.testing.assert_array_equal(gif, DECODED["anim.gif|DecodeGif|0|uint8|"])
    np.testing.assert_array_equal(rgb16, DECODED["rgb16.png|DecodePng|0|uint16|"])


def test_graph_defs_round_trip_and_attrs_left_at_their_defaults_are_filled_in() -> None:
    with tf.Graph().as_default() as graph:
        image = tf.image.decode_png(tf.constant(fixtures.file_bytes("rgb8.png"), name="data"), name="decoded")
        tf.image.resize_bilinear(tf.expand_dims(image, 0), [3, 4], name="resized")
    graph_def = graph.as_graph_def()
    for node in graph_def.node:
        if node.op == "DecodePng":
            del node.attr["channels"]
            del node.attr["dtype"]
    with tf.Graph().as_default() as imported, tf.Session() as sess:
        tf.import_graph_def(graph_def, name="")
        decoded = imported.get_tensor_by_name("decoded:0")
        assert decoded.op.get_attr("channels") == 0 and decoded.op.get_attr("dtype") == tf.uint8
        resized = sess.run(imported.get_tensor_by_name("resized:0"))
    with tf.Graph().as_default(), tf.Session() as sess:
        expected = sess.run(tf.image.resize_bilinear(DECODED["rgb8.png|DecodePng|0|uint8|"][None], [3, 4]))
    np.testing.assert_array_equal(resized, expected)
