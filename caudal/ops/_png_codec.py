"""PNG files in NumPy and zlib: writing every PNG, and reading the 16-bit color PNGs that Pillow
can only give at 8 bits.

The writer chooses each row's filter as libpng does (the smallest sum of the filtered bytes read
as signed values, over None, Sub, Up, Average and Paeth), so its files are about as small as
TensorFlow's. The reader handles non-interlaced files; rows filtered with Average or Paeth are
undone pixel by pixel, which is slow for large images but exact.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from caudal.errors import InvalidArgumentError

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE_OF_CHANNELS = {1: 0, 2: 4, 3: 2, 4: 6}
_CHANNELS_OF_COLOR_TYPE = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _paeth_predictor(left: np.ndarray, up: np.ndarray, up_left: np.ndarray) -> np.ndarray:
    estimate = left + up - up_left
    to_left, to_up, to_up_left = np.abs(estimate - left), np.abs(estimate - up), np.abs(estimate - up_left)
    return np.where((to_left <= to_up) & (to_left <= to_up_left), left, np.where(to_up <= to_up_left, up, up_left))


def _filtered_rows(rows: np.ndarray, bpp: int) -> np.ndarray:
    """Each row of `rows` (uint8 [height, bytes]) with the filter that gives the smallest sum of
    absolute signed bytes, as libpng's default heuristic; the filter type byte first."""
    raw = rows.astype(np.int16)
    left = np.zeros_like(raw)
    left[:, bpp:] = raw[:, :-bpp]
    up = np.zeros_like(raw)
    up[1:] = raw[:-1]
    up_left = np.zeros_like(raw)
    up_left[1:, bpp:] = raw[:-1, :-bpp]
    candidates = np.stack([raw, raw - left, raw - up, raw - (left + up) // 2,
                           raw - _paeth_predictor(left, up, up_left)]).astype(np.uint8)
    signed_sums = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)
    choice = np.argmin(signed_sums, axis=0)
    chosen = candidates[choice, np.arange(rows.shape[0])]
    return np.concatenate([choice.astype(np.uint8)[:, None], chosen], axis=1)


def encode(image: np.ndarray, compression: int) -> bytes:
    """The PNG file of a [height, width, channels] uint8 or uint16 array (1 to 4 channels)."""
    height, width, channels = image.shape
    depth = 16 if image.dtype == np.uint16 else 8
    header = struct.pack(">IIBBBBB", width, height, depth, _COLOR_TYPE_OF_CHANNELS[channels], 0, 0, 0)
    samples = image.astype(">u2") if depth == 16 else image
    rows = np.ascontiguousarray(samples).view(np.uint8).reshape(height, width * channels * depth // 8)
    data = _filtered_rows(rows, channels * depth // 8)
    return (SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(data.tobytes(), compression))
            + _chunk(b"IEND", b""))


def header(data: bytes) -> tuple[int, int, int, int, int] | None:
    """(width, height, bit depth, color type, interlace) from the IHDR chunk, or None."""
    if len(data) < 33 or data[12:16] != b"IHDR":
        return None
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", data[16:29])
    return width, height, depth, color_type, interlace


def _unfilter(filtered: np.ndarray, bpp: int) -> np.ndarray:
    """Undoes the per-row filters of `filtered` (uint8 [height, 1 + row bytes])."""
    kinds = filtered[:, 0]
    rows = filtered[:, 1:].astype(np.int32)
    out = np.zeros_like(rows)
    previous = np.zeros(rows.shape[1], np.int32)
    for y, kind in enumerate(kinds):
        row = rows[y]
        if kind == 0:
            current = row
        elif kind == 1:
            current = np.cumsum(row.reshape(-1, bpp), axis=0).reshape(-1) & 0xFF
        elif kind == 2:
            current = (row + previous) & 0xFF
        elif kind in (3, 4):
            current = row.copy()
            zero = np.zeros(bpp, np.int32)
            for x in range(0, row.shape[0], bpp):
                left = current[x - bpp:x] if x else zero
                up = previous[x:x + bpp]
                if kind == 3:
                    predicted = (left + up) >> 1
                else:
                    predicted = _paeth_predictor(left, up, previous[x - bpp:x] if x else zero)
                current[x:x + bpp] = (current[x:x + bpp] + predicted) & 0xFF
        else:
            raise InvalidArgumentError(None, None, f"Invalid PNG data, size {filtered.size}")
        out[y] = current
        previous = current
    return out.astype(np.uint8)


def decode_16bit(data: bytes) -> np.ndarray:
    """The uint16 [height, width, channels] pixels of a non-interlaced 16-bit PNG."""
    width, height, _, color_type, _ = header(data)
    channels = _CHANNELS_OF_COLOR_TYPE[color_type]
    idat = bytearray()
    position = 8
    while position + 8 <= len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        if kind == b"IDAT":
            idat += data[position + 8:position + 8 + length]
        elif kind == b"IEND":
            break
        position += 12 + length
    row_bytes = width * channels * 2
    try:
        raw = np.frombuffer(zlib.decompress(bytes(idat)), np.uint8)
        filtered = raw[:height * (row_bytes + 1)].reshape(height, row_bytes + 1)
    except (zlib.error, ValueError):
        raise InvalidArgumentError(None, None, f"Invalid PNG data, size {len(data)}") from None
    rows = _unfilter(filtered, channels * 2)
    return rows.view(">u2").astype(np.uint16).reshape(height, width, channels)
