"""CRC32C (Castagnoli) checksums, plain and masked, as TensorFlow's file formats store them.

A stored checksum is "masked" (rotated right by 15 bits, plus 0xa282ead8) so
that checksumming data that itself contains checksums stays well behaved;
tables, tensor bundles and TFRecords all store masked values. The work is
done by `google-crc32c` (hardware accelerated where the CPU allows).
"""
from __future__ import annotations

import google_crc32c

__all__ = ["crc32c", "extend", "mask", "unmask", "masked_crc32c"]

_MASK_DELTA = 0xA282EAD8


def crc32c(data: bytes | bytearray | memoryview) -> int:
    """The CRC32C of `data`."""
    return google_crc32c.value(bytes(data) if isinstance(data, memoryview) and not data.contiguous else data)


def extend(crc: int, data: bytes | bytearray | memoryview) -> int:
    """The CRC32C of the bytes that gave `crc` followed by `data`."""
    return google_crc32c.extend(crc, data)


def mask(crc: int) -> int:
    """The masked form of `crc`, as stored in files."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def unmask(masked: int) -> int:
    """The CRC a stored (masked) checksum stands for."""
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def masked_crc32c(data: bytes | bytearray | memoryview) -> int:
    """`mask(crc32c(data))`."""
    return mask(crc32c(data))
