"""Encoders behind the summary kernels: histograms, PNG images and WAV audio.

Each function reproduces what TensorFlow's summary kernels put in a `Summary`:

- `histogram_buckets`: TensorFlow's default bucket limits (powers of 1.1 from
  1e-12 to 1e20, mirrored for negatives, with -DBL_MAX, 0 and DBL_MAX), a value counted
  in the first bucket whose limit is greater than it, and runs of empty
  buckets collapsed to the last one of each run;
- `image_to_uint8`: the per-image normalisation of float images (affine map
  to [0, 255], or to [1, 255] around 128 when there are negative values,
  truncated, computed in the input dtype; pixels with a non-finite channel
  painted `bad_color`);
- `encode_png`: an 8-bit PNG written here with zlib, gray, gray+alpha, RGB or
  RGBA;
- `encode_wav`: 16-bit PCM WAV of float samples in [-1, 1], scaled by 32768,
  rounded and clamped, as TensorFlow's `AudioSummaryV2` writes them.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["DEFAULT_BUCKET_LIMITS", "histogram_buckets", "image_to_uint8", "encode_png", "encode_wav"]

_DBL_MAX = float(np.finfo(np.float64).max)


def _default_bucket_limits() -> np.ndarray:
    positive = []
    value = 1e-12
    while value < 1e20:
        positive.append(value)
        value *= 1.1
    negative = [-v for v in reversed(positive)]
    limits = np.array([-_DBL_MAX] + negative + [0.0] + positive + [_DBL_MAX], dtype=np.float64)
    limits.flags.writeable = False
    return limits


DEFAULT_BUCKET_LIMITS = _default_bucket_limits()


def histogram_buckets(values: np.ndarray) -> dict:
    """The fields of TensorFlow's `HistogramProto` for finite `values` (any shape).

    min/max/sum/sum_squares are accumulated in float64 in element order, like
    TensorFlow's `Histogram::Add`; an empty input gives min=DBL_MAX,
    max=-DBL_MAX and one empty bucket.
    """
    flat = np.asarray(values, dtype=np.float64).reshape(-1)
    limits = DEFAULT_BUCKET_LIMITS
    counts = np.bincount(np.searchsorted(limits, flat, side="right"), minlength=len(limits)).astype(np.float64)
    if flat.size:
        low, high = float(flat.min()), float(flat.max())
        total = float(np.cumsum(flat)[-1])  # sequential, like TF's running sum
        squares = float(np.cumsum(flat * flat)[-1])
    else:
        low, high, total, squares = _DBL_MAX, -_DBL_MAX, 0.0, 0.0
    nonempty = counts != 0
    keep = nonempty.copy()
    keep[:-1] |= nonempty[1:]  # an empty bucket stays when the next one is not empty
    keep[-1] = True
    return {"min": low, "max": high, "num": float(flat.size), "sum": total, "sum_squares": squares,
            "bucket_limit": limits[keep].tolist(), "bucket": counts[keep].tolist()}


def image_to_uint8(image: np.ndarray, bad_color: np.ndarray) -> np.ndarray:
    """One [height, width, depth] image as uint8, the way TensorFlow's ImageSummary converts it.

    uint8 images are kept. Float images are scaled per image from the range of
    their finite values: all non-negative -> `x * 255 / max`; some negative ->
    `x * 127 / max(|min|, |max|) + 128`; a range below 1e-6 gives zeros. The
    product is computed in the image's dtype and truncated to uint8. A pixel
    with any non-finite channel becomes the first `depth` entries of `bad_color`.
    """
    if image.dtype == np.uint8:
        return image
    dtype = image.dtype.type
    as_float32 = image.astype(np.float32)
    finite = np.isfinite(as_float32)
    if finite.any():
        low = np.float32(as_float32[finite].min())
        high = np.float32(as_float32[finite].max())
    else:
        low, high = np.float32(np.inf), np.float32(-np.inf)
    with np.errstate(all="ignore"):
        if low < 0:
            peak = max(abs(low), abs(high))
            scale = np.float32(0.0) if peak < 1e-6 else np.float32(127.0) / peak
            offset = np.float32(128.0)
        else:
            scale = np.float32(0.0) if high < 1e-6 else np.float32(255.0) / high
            offset = np.float32(0.0)
        scaled = image * dtype(scale) + dtype(offset)
        scaled = np.where(finite, scaled, 0)
        pixels = np.clip(np.trunc(scaled), 0, 255).astype(np.uint8)
    bad_pixel = ~finite.all(axis=-1)
    if bad_pixel.any():
        depth = image.shape[-1]
        pixels[bad_pixel] = np.asarray(bad_color, dtype=np.uint8).reshape(-1)[:depth]
    return pixels


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


_PNG_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG color type


def encode_png(pixels: np.ndarray) -> bytes:
    """A [height, width, channels] uint8 array (1, 2, 3 or 4 channels) as PNG bytes.

    Rows use filter type 0 and the image data is compressed with zlib; the
    result is a plain 8-bit, non-interlaced PNG any decoder reads.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width, channels = pixels.shape
    if channels not in _PNG_COLOR_TYPE:
        raise ValueError(f"PNG images have 1 to 4 channels, got {channels}")
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPE[channels], 0, 0, 0)
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 1:] = pixels.reshape(height, width * channels)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(rows.tobytes())) + _png_chunk(b"IEND", b""))


def encode_wav(samples: np.ndarray, sample_rate: float) -> bytes:
    """[frames, channels] float samples as a 16-bit PCM WAV file.

    A sample x becomes `x * 32768` rounded half away from zero and clamped to
    [-32768, 32767] (NaN gives 0); the header's rate is the sample rate rounded
    to an integer.
    """
    frames, channels = samples.shape
    with np.errstate(all="ignore"):
        scaled = np.asarray(samples, dtype=np.float32).astype(np.float64) * 32768.0
        rounded = np.copysign(np.floor(np.abs(scaled) + 0.5), scaled)  # halves away from zero
    pcm = np.clip(np.nan_to_num(rounded), -32768, 32767).astype("<i2")
    data = pcm.tobytes()
    rate = int(round(float(sample_rate)))
    block_align = 2 * channels
    header = (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
              + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block_align, block_align, 16)
              + b"data" + struct.pack("<I", len(data)))
    return header + data
