"""The image codecs behind DecodePng, DecodeJpeg, DecodeGif, DecodeBmp, DecodeImage, EncodePng
and EncodeJpeg: plain functions of bytes and arrays, no graph.

As TensorFlow's decoders, every decode op reads the format from the first bytes and decodes
PNG, JPEG and GIF whatever the op (a 3-D op refuses an animated GIF), while BMP is read only by
DecodeBmp and DecodeImage. JPEG goes through Pillow, an optional dependency imported here on
first use (`pip install "caudal[image]"`); so does PNG, except 16-bit color PNGs, which Pillow
reads only at 8 bits and `_png_codec` reads itself. PNG channel conversions follow libpng's as
TF configures it: gray = (9797 R + 19234 G + 3737 B) / 32768, truncated at 8 bits and rounded
at 16; alpha is dropped or added opaque; 16-bit samples become 8-bit by dropping the low byte
and 8-bit ones become 16-bit times 257.

TF decodes JPEGs with libjpeg's fast integer DCT unless `dct_method="INTEGER_ACCURATE"`;
Pillow always uses the accurate one, so with the default a few values differ from TF's by a
small amount (see tests/test_image_codecs.py for the bound) and with INTEGER_ACCURATE they are
equal.
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.ops import _gif_bmp_codec, _png_codec

_UNKNOWN_FORMAT = "Unknown image file format. One of JPEG, JPEG XL, PNG, GIF, BMP, WebP required."
_GRAY_WEIGHTS = np.array([9797, 19234, 3737], np.int64)


def pillow() -> Any:
    """PIL.Image, or ImportError saying how to install it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError('Decoding PNG and JPEG images and encoding JPEG needs Pillow: pip install "caudal[image]"'
                          ) from None
    return Image


def sniff(data: bytes) -> str:
    """The format TF reads from the first bytes: jpeg, png, gif, bmp or unknown."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(_png_codec.SIGNATURE):
        return "png"
    if data.startswith(b"GIF8"):
        return "gif"
    if data.startswith(b"BM"):
        return "bmp"
    return "unknown"


def _invalid(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(None, None, message)


# ------------------------------------------------------------------ PNG
def _png_pixels(data: bytes) -> tuple[np.ndarray, int]:
    """The file's pixels as [height, width, channels] with their bit depth (8 or 16); palettes are
    expanded to RGB, or RGBA when the file has a tRNS chunk, and a tRNS color adds alpha."""
    info = _png_codec.header(data)
    if info is None:
        raise _invalid("Invalid PNG. Failed to initialize decoder.")
    _, _, depth, color_type, interlace = info
    if depth == 16 and color_type in (2, 4, 6) and not interlace:
        return _png_codec.decode_16bit(data), 16
    image_module = pillow()
    try:
        image = image_module.open(io.BytesIO(data))
        image.load()
    except Exception:
        raise _invalid(f"Invalid PNG data, size {len(data)}") from None
    mode = image.mode
    if mode in ("I;16", "I;16B", "I"):
        pixels = np.asarray(image).astype(np.uint16)[..., None]
        return pixels, 16
    if mode == "1":
        image = image.convert("L")
    elif mode == "P" or mode == "PA":
        image = image.convert("RGBA" if "transparency" in image.info or mode == "PA" else "RGB")
    elif mode in ("L", "RGB") and "transparency" in image.info:
        image = image.convert("LA" if mode == "L" else "RGBA")
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    return pixels, 16 if depth == 16 else 8


def convert_channels(pixels: np.ndarray, depth: int, channels: int, out_depth: int) -> np.ndarray:
    """`pixels` (gray, gray+alpha, RGB or RGBA at `depth` bits) with `channels` channels (0: as they
    are) at `out_depth` bits, as libpng converts them for TF."""
    have = pixels.shape[-1]
    color, alpha = have >= 3, have in (2, 4)
    values = pixels.astype(np.int64)
    if channels in (1, 3) and alpha:
        values = values[..., :-1]
    if channels == 1 and color:
        total = values[..., :3] @ _GRAY_WEIGHTS
        values = ((total + (16384 if depth == 16 else 0)) >> 15)[..., None]
    elif channels in (3, 4) and not color:
        gray = values[..., :1]
        values = np.concatenate([gray, gray, gray] + ([values[..., 1:]] if alpha and channels == 4 else []), axis=-1)
    if channels == 4 and not alpha:
        opaque = np.full(values.shape[:-1] + (1,), (1 << depth) - 1, np.int64)
        values = np.concatenate([values, opaque], axis=-1)
    if depth == 16 and out_depth == 8:
        return (values >> 8).astype(np.uint8)
    if depth == 8 and out_depth == 16:
        return (values * 257).astype(np.uint16)
    return values.astype(np.uint8 if out_depth == 8 else np.uint16)


def decode_png(data: bytes, channels: int, out_depth: int) -> np.ndarray:
    pixels, depth = _png_pixels(data)
    return convert_channels(pixels, depth, channels, out_depth)


# ------------------------------------------------------------------ JPEG
def decode_jpeg(data: bytes, channels: int, ratio: int = 1) -> np.ndarray:
    """uint8 [height, width, channels] (channels 0, 1 or 3; 0: the file's 1 or 3)."""
    image_module = pillow()
    failed = "jpeg::Uncompress failed. Invalid JPEG data or crop window."
    try:
        image = image_module.open(io.BytesIO(data))
        if channels == 1 or ratio > 1:
            width, height = image.size
            image.draft("L" if channels == 1 else image.mode,
                        (-(-width // ratio), -(-height // ratio)))
        image.load()
    except Exception:
        raise _invalid(failed) from None
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if channels == 1 and image.mode != "L":
        image = image.convert("L")
    if channels == 3 and image.mode == "L":
        image = image.convert("RGB")
    pixels = np.asarray(image)
    return pixels[..., None] if pixels.ndim == 2 else pixels


def encode_jpeg(image: np.ndarray, *, format: str, quality: int, progressive: bool, optimize_size: bool,
                chroma_downsampling: bool, density_unit: str, x_density: int, y_density: int,
                xmp_metadata: str) -> bytes:
    """JPEG bytes of a uint8 [height, width, 1 or 3] image, with TF's checks and JFIF density."""
    if image.ndim != 3:
        raise _invalid(f"image must be 3-dimensional{list(image.shape)}")
    channels = image.shape[2]
    shape = "[" + ",".join(str(d) for d in image.shape) + "]"
    if format:
        expected = 1 if format == "grayscale" else 3
        if channels != expected:
            raise _invalid(f"format {format} expects {expected} channels, got {shape}")
    elif channels not in (1, 3):
        raise _invalid(f"image must have 1 or 3 channels, got {shape}")
    if not 0 <= quality <= 100:
        raise _invalid(f"quality must be in [0,100], got {quality}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        from caudal.errors import InternalError

        raise InternalError(None, None, "JPEG encoding failed")
    image_module = pillow()
    picture = image_module.fromarray(np.ascontiguousarray(image[..., 0] if channels == 1 else image))
    options: dict[str, Any] = {"quality": max(quality, 1), "progressive": progressive, "optimize": optimize_size,
                               "dpi": (x_density, y_density)}
    if channels == 3:
        options["subsampling"] = 2 if chroma_downsampling else 0
    if xmp_metadata:
        options["xmp"] = xmp_metadata.encode()
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", **options)
    encoded = bytearray(buffer.getvalue())
    if encoded[6:11] == b"JFIF\x00":
        # APP0: units (1 inch, 2 cm) and densities, as TF writes them.
        encoded[13] = 2 if density_unit == "cm" else 1
        encoded[14:18] = int(x_density).to_bytes(2, "big") + int(y_density).to_bytes(2, "big")
    return bytes(encoded)


# ------------------------------------------------------------------ dispatch
def _refuse_in_decode_bmp(op_type: str, name: str, method: str) -> None:
    if op_type == "DecodeBmp":
        raise _invalid(f"Trying to decode {name} format using DecodeBmp op. Use `{method}` or `decode_image` "
                       "instead.")


def _as_dtype(pixels: np.ndarray, dtype: str) -> np.ndarray:
    """uint8 pixels in the requested dtype, as TF scales them (uint16: x256, float32: /255)."""
    if dtype == "uint16":
        return pixels.astype(np.uint16) * np.uint16(256)
    if dtype == "float32":
        return pixels.astype(np.float32) * np.float32(1.0 / 255)
    return pixels


def decode(data: bytes, op_type: str, channels: int, dtype: str = "uint8", expand_animations: bool = True,
           ratio: int = 1) -> np.ndarray:
    """What op `op_type` (DecodePng, DecodeJpeg, DecodeGif, DecodeBmp, DecodeImage) returns for
    `data`: 3-D, or 4-D for GIFs through DecodeGif and DecodeImage with expand_animations."""
    if not data:
        raise _invalid("Input is empty.")
    if op_type == "DecodeGif":
        channels = 3  # DecodeGif has no channels attr: it always gives RGB
    kind = sniff(data)
    if kind == "unknown":
        raise _invalid(_UNKNOWN_FORMAT)
    if kind == "bmp":
        if channels == 1:
            raise _invalid(f"`channels` must be 0, 3 or 4 for BMP, but got {channels}")
        if op_type not in ("DecodeBmp", "DecodeImage"):
            raise _invalid("Trying to decode BMP format using a wrong op. Use `decode_bmp` or `decode_image` "
                           f"instead. Op used: {op_type}")
        return _as_dtype(_gif_bmp_codec.decode_bmp(data, channels), dtype)
    if kind == "gif":
        if channels not in (0, 3):
            raise _invalid(f"channels must be 0 or 3 for GIF, got {channels}")
        _refuse_in_decode_bmp(op_type, "GIF", "decode_gif")
        single = op_type == "DecodeImage" and not expand_animations
        frames = _gif_bmp_codec.decode_gif(data, first_frame_only=single)
        if op_type in ("DecodePng", "DecodeJpeg"):
            if len(frames) != 1:
                raise _invalid(f"Got {len(frames)} frames, but animated gifs can only be decoded by tf.io.decode_gif "
                               "or tf.io.decode_image")
            return _as_dtype(frames[0], dtype)
        return _as_dtype(frames[0] if single else frames, dtype)
    if kind == "jpeg":
        if channels not in (0, 1, 3):
            raise _invalid("JPEG does not support 4 channels")
        _refuse_in_decode_bmp(op_type, "JPEG", "decode_jpeg")
        pixels = _as_dtype(decode_jpeg(data, channels, ratio), dtype)
    else:
        if _png_codec.header(data) is None:
            raise _invalid("Invalid PNG. Failed to initialize decoder.")
        _refuse_in_decode_bmp(op_type, "PNG", "decode_png")
        if dtype == "float32":
            pixels = decode_png(data, channels, 16).astype(np.float32) * np.float32(1.0 / 65535)
        else:
            pixels = decode_png(data, channels, 16 if dtype == "uint16" else 8)
    return pixels[None] if op_type == "DecodeGif" else pixels
