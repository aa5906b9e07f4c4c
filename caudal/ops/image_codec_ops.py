"""Image codecs as ops: DecodePng, DecodeJpeg, DecodeGif, DecodeBmp, DecodeImage, EncodePng,
EncodeJpeg, with `tf.image.decode_*` / `encode_*` (also reached as `tf.io.*`).

As in TensorFlow every decoder reads the format from the data, so `decode_png` also decodes a
JPEG; the static shapes are TF's: `[?, ?, channels]` (`?` for channels 0), `[?, ?, ?, 3]` for
DecodeGif, and unknown for DecodeImage unless `expand_animations=False`. The kernels are in
`caudal.ops._image_codecs`; Pillow, needed for PNG and JPEG, is imported by them on first use.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _image_codecs, _png_codec, _rules

__all__ = ["decode_png", "decode_jpeg", "decode_gif", "decode_bmp", "decode_image", "encode_png", "encode_jpeg"]

_STRING = frozenset([dtypes_lib.string])


def _contents_bytes(contents: Any) -> bytes:
    if np.ndim(contents) != 0:
        shape = "[" + ",".join(str(d) for d in np.shape(contents)) + "]"
        raise InvalidArgumentError(None, None, f"`contents` must be scalar but got shape{shape}")
    value = np.asarray(contents, dtype=object).item()
    return value.encode() if isinstance(value, str) else bytes(value)


def _check_channels(channels: int) -> None:
    if channels not in (0, 1, 3, 4):
        raise InvalidArgumentError(None, None, f"`channels` must be 0, 1, 3 or 4 but got {channels}")


def _decode_infer(rank: int = 3, fixed_channels: int | None = None) -> Any:
    """Rule of a decoder: a scalar string in, `[?, ?, channels]` (or `[?, ?, ?, 3]`) out."""

    def infer(ctx: InferContext) -> list:
        _rules.check_dtype(ctx, 0, _STRING, "contents")
        contents = ctx.shape(0)
        if contents.ndims not in (None, 0):
            raise ValueError(f"Shape must be rank 0 but is rank {contents.ndims}")
        channels = ctx.attrs.get("channels", 0)
        if channels < 0:
            raise ValueError(f"channels must be non-negative, got {channels}")
        dtype = _rules.attr_dtype(ctx, "dtype") if "dtype" in ctx.attrs else dtypes_lib.uint8
        if ctx.type == "DecodeImage" and ctx.attrs["expand_animations"]:
            return [(dtype, unknown_shape())]
        last = fixed_channels if fixed_channels is not None else (channels or None)
        return [(dtype, TensorShape([None] * (rank - 1) + [last]))]

    return infer


def _decode_png_kernel(xp: Any, contents: Any, *, channels: int, dtype: Any) -> Any:
    _check_channels(channels)
    return _image_codecs.decode(_contents_bytes(contents), "DecodePng", channels, dtypes_lib.as_dtype(dtype).name)


def _decode_jpeg_kernel(xp: Any, contents: Any, *, channels: int, ratio: int, dct_method: Any) -> Any:
    if ratio not in (1, 2, 4, 8):
        raise InvalidArgumentError(None, None, f"ratio must be 1, 2, 4, or 8, got {ratio}")
    if (dct_method.decode() if isinstance(dct_method, bytes) else dct_method) not in (
            "", "INTEGER_FAST", "INTEGER_ACCURATE"):
        raise InvalidArgumentError(None, None, "dct_method must be one of {'', 'INTEGER_FAST', 'INTEGER_ACCURATE'}")
    _check_channels(channels)
    return _image_codecs.decode(_contents_bytes(contents), "DecodeJpeg", channels, ratio=ratio)


def _decode_gif_kernel(xp: Any, contents: Any) -> Any:
    return _image_codecs.decode(_contents_bytes(contents), "DecodeGif", 3)


def _decode_bmp_kernel(xp: Any, contents: Any, *, channels: int) -> Any:
    _check_channels(channels)
    return _image_codecs.decode(_contents_bytes(contents), "DecodeBmp", channels)


def _decode_image_kernel(xp: Any, contents: Any, *, channels: int, dtype: Any, expand_animations: bool) -> Any:
    _check_channels(channels)
    return _image_codecs.decode(_contents_bytes(contents), "DecodeImage", channels, dtypes_lib.as_dtype(dtype).name,
                                expand_animations=expand_animations)


register_op("DecodePng", infer=_decode_infer(), kernel=_decode_png_kernel, grad=NOT_DIFFERENTIABLE)
register_op("DecodeJpeg", infer=_decode_infer(), kernel=_decode_jpeg_kernel, grad=NOT_DIFFERENTIABLE)
register_op("DecodeGif", infer=_decode_infer(4, fixed_channels=3), kernel=_decode_gif_kernel,
            grad=NOT_DIFFERENTIABLE)
register_op("DecodeBmp", infer=_decode_infer(), kernel=_decode_bmp_kernel, grad=NOT_DIFFERENTIABLE)
register_op("DecodeImage", infer=_decode_infer(), kernel=_decode_image_kernel, grad=NOT_DIFFERENTIABLE)


def _decode(op_type: str, contents: Any, attrs: dict[str, Any], name: str | None) -> Tensor:
    with get_default_graph().name_scope(name or op_type) as scope:
        contents = convert_to_tensor(contents, dtype=dtypes_lib.string, name="contents")
        return apply_op(op_type, [contents], attrs, scope)


def decode_png(contents: Any, channels: int = 0, dtype: Any = dtypes_lib.uint8, name: str | None = None) -> Tensor:
    """TF's `tf.image.decode_png`: uint8 or uint16 `[height, width, channels]` (channels 0: the
    file's own; 1: gray; 3: RGB; 4: RGBA). Also decodes JPEG and single-frame GIF data."""
    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    if dtype not in (dtypes_lib.uint8, dtypes_lib.uint16):
        raise TypeError(f"Value passed to parameter 'dtype' has DataType {dtype.name} not in list of allowed "
                        "values: uint8, uint16")
    return _decode("DecodePng", contents, {"channels": int(channels), "dtype": dtype}, name)


def decode_jpeg(contents: Any, channels: int = 0, ratio: int = 1, fancy_upscaling: bool = True,
                try_recover_truncated: bool = False, acceptable_fraction: float = 1.0, dct_method: str = "",
                name: str | None = None) -> Tensor:
    """TF's `tf.image.decode_jpeg`: uint8 `[height, width, channels]`, downscaled by `ratio` (1, 2,
    4 or 8). `fancy_upscaling`, `try_recover_truncated` and `acceptable_fraction` are recorded but
    Pillow decodes with fancy upsampling and fails on truncated data whatever they say."""
    attrs = {"channels": int(channels), "ratio": int(ratio), "fancy_upscaling": bool(fancy_upscaling),
             "try_recover_truncated": bool(try_recover_truncated), "acceptable_fraction": float(acceptable_fraction),
             "dct_method": dct_method}
    return _decode("DecodeJpeg", contents, attrs, name)


def decode_gif(contents: Any, name: str | None = None) -> Tensor:
    """TF's `tf.image.decode_gif`: every frame, uint8 `[frames, height, width, 3]`."""
    return _decode("DecodeGif", contents, {}, name)


def decode_bmp(contents: Any, channels: int = 0, name: str | None = None) -> Tensor:
    """TF's `tf.image.decode_bmp`: uint8 `[height, width, channels]` (channels 0, 3 or 4)."""
    return _decode("DecodeBmp", contents, {"channels": int(channels)}, name)


def decode_image(contents: Any, channels: int | None = None, dtype: Any = dtypes_lib.uint8, name: str | None = None,
                 expand_animations: bool = True) -> Tensor:
    """TF's `tf.image.decode_image`: a BMP, GIF, JPEG or PNG; GIFs are 4-D unless
    `expand_animations=False` (then their first frame). Other dtypes than uint8, uint16 and
    float32 are decoded as uint16 and converted with `convert_image_dtype`."""
    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    with get_default_graph().name_scope(name or "decode_image"):
        channels = 0 if channels is None else int(channels)
        native = (dtypes_lib.float32, dtypes_lib.uint8, dtypes_lib.uint16)
        decode_dtype = dtype if dtype in native else dtypes_lib.uint16
        image = _decode("DecodeImage", contents, {"channels": channels, "dtype": decode_dtype,
                                                  "expand_animations": bool(expand_animations)}, None)
        if decode_dtype != dtype:
            from caudal.ops.image_ops import convert_image_dtype

            image = convert_image_dtype(image, dtype)
        if not expand_animations:
            image.set_shape([None, None, channels or None])
        return image


# ------------------------------------------------------------------ encoders
def _encode_png_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.uint8, dtypes_lib.uint16]), "image")
    image = ctx.shape(0)
    if image.ndims is not None and image.ndims < 3:
        raise ValueError(f"Shape must be at least rank 3 but is rank {image.ndims}")
    return [(dtypes_lib.string, image[:-3] if image.ndims is not None else unknown_shape())]


def _encode_png_kernel(xp: Any, image: Any, *, compression: int) -> Any:
    image = np.asarray(image)
    channels = image.shape[-1]
    if not -1 <= compression <= 9:
        raise InvalidArgumentError(None, None, f"compression should be in [-1,9], got {compression}")
    if channels not in (1, 2, 3, 4):
        raise InvalidArgumentError(None, None, f"image must have 1, 2, 3, or 4 channels, got {channels}")
    if image.shape[-3] == 0 or image.shape[-2] == 0:
        raise InvalidArgumentError(None, None, "image must have a nonzero height and width, got shape "
                                               + "[" + ",".join(str(d) for d in image.shape) + "]")
    out = np.empty(image.shape[:-3], dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = _png_codec.encode(image[index], compression)
    return out


register_op("EncodePng", infer=_encode_png_infer, kernel=_encode_png_kernel, grad=NOT_DIFFERENTIABLE)


def encode_png(image: Any, compression: int = -1, name: str | None = None) -> Tensor:
    """TF's `tf.image.encode_png`: the PNG bytes of a uint8 or uint16 `[..., height, width,
    channels]` image (1 to 4 channels), one string per leading index; `compression` -1 to 9."""
    with get_default_graph().name_scope(name or "EncodePng") as scope:
        image = convert_to_tensor(image, name="image")
        return apply_op("EncodePng", [image], {"compression": int(compression), "T": image.dtype.base_dtype}, scope)


_JPEG_FORMATS = ("", "grayscale", "rgb")


def _encode_jpeg_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.uint8]), "image")
    image = ctx.shape(0)
    if image.ndims is not None and image.ndims != 3:
        raise ValueError(f"Shape must be rank 3 but is rank {image.ndims}")
    return [(dtypes_lib.string, TensorShape([]))]


def _encode_jpeg_kernel(xp: Any, image: Any, *, format: Any, quality: int, progressive: bool, optimize_size: bool,
                        chroma_downsampling: bool, density_unit: Any, x_density: int, y_density: int,
                        xmp_metadata: Any) -> Any:
    text = [v.decode() if isinstance(v, bytes) else v for v in (format, density_unit, xmp_metadata)]
    return np.array(_image_codecs.encode_jpeg(
        np.asarray(image), format=text[0], quality=quality, progressive=progressive, optimize_size=optimize_size,
        chroma_downsampling=chroma_downsampling, density_unit=text[1], x_density=x_density, y_density=y_density,
        xmp_metadata=text[2]), dtype=object)


register_op("EncodeJpeg", infer=_encode_jpeg_infer, kernel=_encode_jpeg_kernel, grad=NOT_DIFFERENTIABLE)


def encode_jpeg(image: Any, format: str = "", quality: int = 95, progressive: bool = False,
                optimize_size: bool = False, chroma_downsampling: bool = True, density_unit: str = "in",
                x_density: int = 300, y_density: int = 300, xmp_metadata: str = "", name: str | None = None) -> Tensor:
    """TF's `tf.image.encode_jpeg` of a uint8 `[height, width, 1 or 3]` image (through Pillow's
    libjpeg, so the bytes may differ from TF's while decoding to nearly the same pixels)."""
    if format not in _JPEG_FORMATS:
        raise ValueError(f"Attr 'format' of 'EncodeJpeg' Op passed string '{format}' not in: \"\", \"grayscale\", "
                         "\"rgb\".")
    if density_unit not in ("in", "cm"):
        raise ValueError(f"Attr 'density_unit' of 'EncodeJpeg' Op passed string '{density_unit}' not in: \"in\", "
                         "\"cm\".")
    attrs = {"format": format, "quality": int(quality), "progressive": bool(progressive),
             "optimize_size": bool(optimize_size), "chroma_downsampling": bool(chroma_downsampling),
             "density_unit": density_unit, "x_density": int(x_density), "y_density": int(y_density),
             "xmp_metadata": xmp_metadata}
    with get_default_graph().name_scope(name or "EncodeJpeg") as scope:
        image = convert_to_tensor(image, dtype=dtypes_lib.uint8, name="image")
        return apply_op("EncodeJpeg", [image], attrs, scope)
