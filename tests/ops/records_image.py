"""Records: the image codecs, the resize ops and their gradient ops, AdjustContrastv2. The
references are TensorFlow 2.21's values from tests/fixtures/images/ (the resize gradients are
checked against central differences in tests/test_image_resize.py)."""
import numpy as np

import caudal as tf
from tests import image_fixtures as fixtures
from tests.ops.record import OpRecord

_DECODED = fixtures.decoded()
_CASES = fixtures.cases()


def _decoded(key):
    return lambda *_: _DECODED[key]


def _resize_record(op, align, half, size, fn):
    case = (op, align, half, size)
    key = fixtures.resize_key("float32", case)
    kwargs = {} if op == "ResizeArea" else {"half_pixel_centers": half}
    return OpRecord(f"{op}_{int(align)}{int(half)}_{size[0]}x{size[1]}",
                    lambda x: fn(x, size, align_corners=align, **kwargs),
                    lambda x: _CASES[f"resize|{key}"], [fixtures.builders.resize_input("float32")], grad=False)


def _resize_grad_record(op, align, half, size, fn):
    case = (op, align, half, size)
    key = fixtures.resize_key("float32", case)

    def build(grad_in, x):
        return tf.gradients(fn(x, size, align_corners=align, half_pixel_centers=half), x, grad_ys=grad_in)[0]

    return OpRecord(f"{op}Grad_{int(align)}{int(half)}_{size[0]}x{size[1]}", build,
                    lambda grad_in, x: _CASES[f"resize_grad|{key}"],
                    [_CASES[f"resize_grad_in|{key}"], fixtures.builders.resize_input("float32")], grad=False)


def _contrast_reference(images, factor):
    mean = images.astype(np.float64).mean(axis=(-3, -2), keepdims=True)
    return ((images - mean) * factor + mean).astype(np.float32)


def _roundtrip_png(image):
    return tf.image.decode_png(tf.image.encode_png(image, compression=9), dtype=tf.uint16)


def _roundtrip_jpeg(image):
    return tf.image.decode_jpeg(tf.image.encode_jpeg(image, quality=95), dct_method="INTEGER_ACCURATE")


_RGBA16 = np.random.default_rng(4).integers(0, 65536, (5, 6, 4)).astype(np.uint16)

RECORDS = [
    OpRecord("decode_png_rgba_to_rgb", lambda c: tf.image.decode_png(c, channels=3),
             _decoded("rgba8.png|DecodePng|3|uint8|"), [fixtures.contents("rgba8.png")], static_full=False),
    OpRecord("decode_png_rgb16_to_gray16", lambda c: tf.image.decode_png(c, channels=1, dtype=tf.uint16),
             _decoded("rgb16.png|DecodePng|1|uint16|"), [fixtures.contents("rgb16.png")], static_full=False),
    OpRecord("decode_jpeg_accurate", lambda c: tf.image.decode_jpeg(c, dct_method="INTEGER_ACCURATE"),
             _decoded("rgb.jpg|DecodeJpeg|0|uint8|INTEGER_ACCURATE"), [fixtures.contents("rgb.jpg")],
             static_full=False),
    OpRecord("decode_gif_two_frames", lambda c: tf.image.decode_gif(c), _decoded("anim.gif|DecodeGif|0|uint8|"),
             [fixtures.contents("anim.gif")], static_full=False),
    OpRecord("decode_bmp_rgba", lambda c: tf.image.decode_bmp(c, channels=4), _decoded("rgb24.bmp|DecodeBmp|4|uint8|"),
             [fixtures.contents("rgb24.bmp")], static_full=False),
    OpRecord("decode_image_gray16_float", lambda c: tf.image.decode_image(c, channels=3, dtype=tf.float32),
             _decoded("gray16.png|DecodeImage|3|float32|"), [fixtures.contents("gray16.png")], static_full=False),
    OpRecord("encode_png_roundtrip_uint16", _roundtrip_png, lambda image: image, [_RGBA16], static_full=False),
    OpRecord("encode_jpeg_roundtrip", _roundtrip_jpeg, lambda image: _DECODED["encoded|q95"],
             [_DECODED["source|rgb.jpg"]], static_full=False),
    OpRecord("adjust_contrast_batch", lambda x, f: tf.image.adjust_contrast(x, f), _contrast_reference,
             [fixtures.builders.image_batch(), np.float32(1.6)], grad=False),
    _resize_record("ResizeBilinear", False, False, [9, 12], tf.image.resize_bilinear),
    _resize_record("ResizeBilinear", False, True, [3, 11], tf.image.resize_bilinear),
    _resize_record("ResizeNearestNeighbor", True, False, [9, 5], tf.image.resize_nearest_neighbor),
    _resize_record("ResizeBicubic", False, False, [3, 4], tf.image.resize_bicubic),
    _resize_record("ResizeBicubic", False, True, [8, 4], tf.image.resize_bicubic),
    _resize_record("ResizeArea", False, False, [9, 12], tf.image.resize_area),
    _resize_grad_record("ResizeBilinear", True, False, [9, 5], tf.image.resize_bilinear),
    _resize_grad_record("ResizeNearestNeighbor", False, True, [8, 4], tf.image.resize_nearest_neighbor),
    _resize_grad_record("ResizeBicubic", False, False, [9, 12], tf.image.resize_bicubic),
]
