"""GIF and BMP decoding in NumPy, as TensorFlow's decoders read those formats.

GIF: every frame is drawn on a canvas of the screen's size; a frame starts as a copy of the
previous one (black for the first), and its pixels are painted inside its box except those
with the frame's transparent index. The LZW data is decoded in Python (GIFs are small).

BMP: TF reads the pixel offset, width, height and bits per pixel from the header and the pixels
as they are (1, 3 or 4 bytes each, BGR order, rows padded to 4 bytes, bottom-up unless the
height is negative); palettes and compression are not interpreted.
"""
from __future__ import annotations

import struct

import numpy as np

from caudal.errors import InvalidArgumentError


def _gif_error(data: bytes, reason: str) -> InvalidArgumentError:
    return InvalidArgumentError(None, None, f"Invalid GIF data (size {len(data)}), {reason}")


def _lzw_decode(min_code_size: int, payload: bytes, count: int) -> bytearray:
    clear = 1 << min_code_size
    end = clear + 1
    out = bytearray()
    table: list[bytes] = []
    code_size = min_code_size + 1
    previous: bytes | None = None
    bits = nbits = 0
    position = 0

    def reset() -> None:
        nonlocal table, code_size, previous
        table = [bytes([i]) for i in range(clear)] + [b"", b""]
        code_size = min_code_size + 1
        previous = None

    reset()
    while len(out) < count:
        while nbits < code_size and position < len(payload):
            bits |= payload[position] << nbits
            nbits += 8
            position += 1
        if nbits < code_size:
            break
        code = bits & ((1 << code_size) - 1)
        bits >>= code_size
        nbits -= code_size
        if code == clear:
            reset()
            continue
        if code == end:
            break
        if code < len(table):
            entry = table[code]
            if previous is not None:
                table.append(previous + entry[:1])
        elif previous is not None and code == len(table):
            entry = previous + previous[:1]
            table.append(entry)
        else:
            raise ValueError("corrupt LZW data")
        out += entry
        previous = entry
        if len(table) == (1 << code_size) and code_size < 12:
            code_size += 1
    return out


def _deinterlace(rows: np.ndarray) -> np.ndarray:
    height = rows.shape[0]
    order = [y for start, step in ((0, 8), (4, 8), (2, 4), (1, 2)) for y in range(start, height, step)]
    out = np.empty_like(rows)
    out[order] = rows
    return out


def _color_table(data: bytes, position: int, flags: int) -> tuple[np.ndarray | None, int]:
    if not flags & 0x80:
        return None, position
    size = 3 * (2 << (flags & 7))
    if position + size > len(data):
        raise _gif_error(data, "the color table is truncated")
    return np.frombuffer(data, np.uint8, size, position).reshape(-1, 3), position + size


def decode_gif(data: bytes, first_frame_only: bool = False) -> np.ndarray:
    """The frames of a GIF as uint8 [frames, height, width, 3]."""
    if len(data) < 13:
        raise _gif_error(data, "the header is truncated")
    width, height, flags = struct.unpack("<HHB", data[6:11])
    global_colors, position = _color_table(data, 13, flags)
    frames: list[np.ndarray] = []
    transparent: int | None = None
    while position < len(data):
        marker = data[position]
        position += 1
        if marker == 0x3B:
            break
        if marker == 0x21:
            label = data[position] if position < len(data) else None
            position += 1
            first_block = True
            while position < len(data) and data[position]:
                size = data[position]
                if label == 0xF9 and first_block and size >= 4:
                    packed, index = data[position + 1], data[position + 4]
                    transparent = index if packed & 1 else None
                first_block = False
                position += size + 1
            position += 1
            continue
        if marker != 0x2C:
            raise _gif_error(data, f"unexpected block 0x{marker:02x}")
        if position + 9 > len(data):
            raise _gif_error(data, "an image descriptor is truncated")
        left, top, frame_width, frame_height, frame_flags = struct.unpack("<HHHHB", data[position:position + 9])
        local_colors, position = _color_table(data, position + 9, frame_flags)
        colors = local_colors if local_colors is not None else global_colors
        if colors is None:
            raise _gif_error(data, "a frame has no color table")
        if position >= len(data):
            raise _gif_error(data, "image data is missing")
        min_code_size = data[position]
        position += 1
        payload = bytearray()
        while position < len(data) and data[position]:
            payload += data[position + 1:position + 1 + data[position]]
            position += data[position] + 1
        position += 1
        count = frame_width * frame_height
        try:
            indices = _lzw_decode(min_code_size, bytes(payload), count)
        except ValueError as error:
            raise _gif_error(data, str(error)) from None
        indices = np.frombuffer(bytes(indices.ljust(count, b"\x00")), np.uint8).reshape(frame_height, frame_width)
        if frame_flags & 0x40:
            indices = _deinterlace(indices)
        canvas = frames[-1].copy() if frames else np.zeros((height, width, 3), np.uint8)
        bottom, right = min(top + frame_height, height), min(left + frame_width, width)
        box = indices[:max(bottom - top, 0), :max(right - left, 0)]
        painted = np.take(colors, np.minimum(box, len(colors) - 1), axis=0)
        if transparent is not None:
            keep = (box == transparent)[..., None]
            painted = np.where(keep, canvas[top:bottom, left:right], painted)
        canvas[top:bottom, left:right] = painted
        frames.append(canvas)
        transparent = None
        if first_frame_only:
            break
    if not frames:
        raise _gif_error(data, "the file holds no image")
    return np.stack(frames)


def decode_bmp(data: bytes, channels: int) -> np.ndarray:
    """The uint8 [height, width, channels] pixels of a BMP (`channels` 0: the file's own)."""
    if len(data) < 32:
        raise InvalidArgumentError(None, None, "Incomplete bmp content, requires at least 32 bytes to find the "
                                               f"header size, width, height, and bpp, got {len(data)} bytes")
    (offset,) = struct.unpack("<i", data[10:14])
    width, height = struct.unpack("<ii", data[18:26])
    (bpp,) = struct.unpack("<h", data[28:30])
    image_channels = bpp // 8
    if image_channels not in (1, 3, 4):
        raise InvalidArgumentError(None, None, "Number of channels inherent in the image must be 1, 3 or 4, was "
                                               f"{image_channels}")
    if width <= 0:
        raise InvalidArgumentError(None, None, "Width must be positive")
    if height == 0:
        raise InvalidArgumentError(None, None, "Height must be nonzero")
    if offset < 0:
        raise InvalidArgumentError(None, None, "header size must be nonnegative")
    rows = abs(height)
    row_size = (image_channels * width + 3) // 4 * 4
    difference = len(data) - offset - row_size * rows
    if difference != 0:
        raise InvalidArgumentError(None, None, "Input size should match (header_size + row_size * abs_height) but "
                                               f"they differ by {difference}")
    pixels = np.frombuffer(data, np.uint8, row_size * rows, offset).reshape(rows, row_size)
    pixels = pixels[:, :width * image_channels].reshape(rows, width, image_channels)
    if height > 0:
        pixels = pixels[::-1]
    if image_channels == 1:
        gray = pixels
        rgb = np.repeat(gray, 3, axis=2)
        alpha = None
    else:
        gray = None
        rgb = pixels[..., 2::-1]
        alpha = pixels[..., 3:] if image_channels == 4 else None
    wanted = channels or image_channels
    if wanted == 1:
        return np.ascontiguousarray(gray)
    if wanted == 3:
        return np.ascontiguousarray(rgb)
    if alpha is None:
        alpha = np.full(rgb.shape[:2] + (1,), 255, np.uint8)
    return np.concatenate([rgb, alpha], axis=2)
