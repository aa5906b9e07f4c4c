"""TFRecord files: the framing of TensorFlow's event files, `tf.io.TFRecordWriter` and checkpoints' kin.

Each record is

    uint64  length            (little-endian)
    uint32  masked_crc32c(length bytes)
    byte    data[length]
    uint32  masked_crc32c(data)

where `masked_crc32c(x) = ((crc >> 15) | (crc << 17)) + 0xa282ead8` (mod 2**32) of
the CRC-32C (Castagnoli) checksum, as TensorFlow's record writer computes it.
Reading checks both checksums and raises `caudal.errors.DataLossError`, naming
the file and the offset, on a mismatch or a truncated record.
"""
from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import Any, BinaryIO

import google_crc32c

__all__ = ["masked_crc32c", "encode_record", "TFRecordWriter", "tf_record_iterator", "read_records"]

_MASK_DELTA = 0xA282EAD8
_LENGTH = struct.Struct("<Q")
_CRC = struct.Struct("<I")
_HEADER_SIZE = _LENGTH.size + _CRC.size
_FOOTER_SIZE = _CRC.size


def masked_crc32c(data: bytes) -> int:
    """The masked CRC-32C TFRecord stores for `data`."""
    crc = google_crc32c.value(bytes(data))
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def encode_record(data: bytes) -> bytes:
    """One framed record: length, its masked CRC, the data, the data's masked CRC."""
    data = bytes(data)
    length = _LENGTH.pack(len(data))
    return length + _CRC.pack(masked_crc32c(length)) + data + _CRC.pack(masked_crc32c(data))


class TFRecordWriter:
    """Writes framed records to `path` (created or truncated), like `tf.io.TFRecordWriter` without compression."""

    def __init__(self, path: str | os.PathLike, options: Any = None):
        if options not in (None, "") and getattr(options, "compression_type", options) not in (None, "", 0):
            raise NotImplementedError("caudal writes uncompressed TFRecord files only")
        self._path = os.fspath(path)
        self._file: BinaryIO | None = open(self._path, "wb")  # noqa: SIM115 - closed by close()

    @property
    def path(self) -> str:
        return self._path

    def write(self, record: bytes) -> None:
        if self._file is None:
            raise ValueError(f"TFRecordWriter for {self._path} is closed")
        self._file.write(encode_record(record))

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> TFRecordWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _data_loss(path: str, message: str) -> Exception:
    from caudal.errors import DataLossError

    return DataLossError(None, None, f"{path}: {message}")


def read_records(stream: BinaryIO, path: str) -> Iterator[bytes]:
    """The records of an open binary stream, checked; `path` names the file in errors."""
    offset = 0
    while True:
        header = stream.read(_HEADER_SIZE)
        if not header:
            return
        if len(header) < _HEADER_SIZE:
            raise _data_loss(path, f"truncated record at {offset}: header of {len(header)} of {_HEADER_SIZE} bytes")
        length_bytes = header[:_LENGTH.size]
        (length_crc,) = _CRC.unpack_from(header, _LENGTH.size)
        if masked_crc32c(length_bytes) != length_crc:
            raise _data_loss(path, f"corrupted record at {offset}: the length's checksum does not match"
                             + (" (Is this even a TFRecord file?)" if offset == 0 else ""))
        (length,) = _LENGTH.unpack(length_bytes)
        data = stream.read(length)
        footer = stream.read(_FOOTER_SIZE)
        if len(data) < length or len(footer) < _FOOTER_SIZE:
            raise _data_loss(path, f"truncated record at {offset}: {length} data bytes expected")
        if masked_crc32c(data) != _CRC.unpack(footer)[0]:
            raise _data_loss(path, f"corrupted record at {offset}: the data's checksum does not match")
        yield data
        offset += _HEADER_SIZE + length + _FOOTER_SIZE


def tf_record_iterator(path: str | os.PathLike, options: Any = None) -> Iterator[bytes]:
    """`tf.io.tf_record_iterator`: the data of each record of the file at `path`, in order."""
    if options not in (None, "") and getattr(options, "compression_type", options) not in (None, "", 0):
        raise NotImplementedError("caudal reads uncompressed TFRecord files only")
    path = os.fspath(path)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        from caudal.errors import NotFoundError

        raise NotFoundError(None, None, f"{path}; No such file or directory") from None
    with stream:
        yield from read_records(stream, path)
