"""TFRecord files: the framing of event files and of `tf.io.TFRecordWriter` / `tf.data.TFRecordDataset`.

Each record is

    uint64  length            (little-endian)
    uint32  masked_crc32c(length bytes)
    byte    data[length]
    uint32  masked_crc32c(data)

where `masked_crc32c(x) = ((crc >> 15) | (crc << 17)) + 0xa282ead8` (mod 2**32) of
the CRC-32C (Castagnoli) checksum, as TensorFlow's record writer computes it.
A file is either those records as they are ("") or one GZIP or ZLIB stream of
them, as TensorFlow's `TFRecordOptions(compression_type=...)` writes it.

Reading checks both checksums. As in TensorFlow, a damaged record raises
`caudal.errors.DataLossError` with TF's words ("corrupted record at N", the
offset of the length or of the data whose checksum failed; "truncated record
at N' failed with ..."), here preceded by the file's path; a header cut short
at the end of a file ends it, as TF's reader treats it; a missing file raises
`NotFoundError` ("PATH; No such file or directory").
"""
from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import google_crc32c

__all__ = ["masked_crc32c", "encode_record", "TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter",
           "tf_record_iterator", "iter_tfrecord_file", "read_records"]

_MASK_DELTA = 0xA282EAD8
_LENGTH = struct.Struct("<Q")
_CRC = struct.Struct("<I")
_HEADER_SIZE = _LENGTH.size + _CRC.size
_FOOTER_SIZE = _CRC.size
# TF's default buffer sizes: 256 KiB for reading, writing and zlib's buffers.
_DEFAULT_BUFFER_SIZE = 256 * 1024


def masked_crc32c(data: bytes) -> int:
    """The masked CRC-32C TFRecord stores for `data`."""
    crc = google_crc32c.value(bytes(data))
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def encode_record(data: bytes) -> bytes:
    """One framed record: length, its masked CRC, the data, the data's masked CRC."""
    data = bytes(data)
    length = _LENGTH.pack(len(data))
    return length + _CRC.pack(masked_crc32c(length)) + data + _CRC.pack(masked_crc32c(data))


# ------------------------------------------------------------------ options
class TFRecordCompressionType:
    """`tf.io.TFRecordCompressionType`: NONE, ZLIB, GZIP (0, 1, 2, as in TF)."""

    NONE = 0
    ZLIB = 1
    GZIP = 2


class TFRecordOptions:
    """`tf.io.TFRecordOptions`: the compression of a TFRecord file and its zlib settings.

    `compression_type` is None, "", "ZLIB", "GZIP" or a TFRecordCompressionType value;
    anything else is TF's ValueError. The zlib settings left None take TF's defaults
    (window_bits 15, compression_level -1 (zlib's default), mem_level 9, strategy 0).
    """

    compression_type_map = {
        TFRecordCompressionType.ZLIB: "ZLIB",
        TFRecordCompressionType.GZIP: "GZIP",
        TFRecordCompressionType.NONE: "",
    }

    def __init__(self, compression_type: Any = None, flush_mode: int | None = None,
                 input_buffer_size: int | None = None, output_buffer_size: int | None = None,
                 window_bits: int | None = None, compression_level: int | None = None,
                 compression_method: int | None = None, mem_level: int | None = None,
                 compression_strategy: int | None = None):
        if compression_type not in (None, "", "ZLIB", "GZIP") and compression_type not in self.compression_type_map:
            raise ValueError(f'Not a valid compression_type: "{compression_type}"')
        self.compression_type = compression_type
        self.flush_mode = flush_mode
        self.input_buffer_size = input_buffer_size
        self.output_buffer_size = output_buffer_size
        self.window_bits = window_bits
        self.compression_level = compression_level
        self.compression_method = compression_method
        self.mem_level = mem_level
        self.compression_strategy = compression_strategy

    @classmethod
    def get_compression_type_string(cls, options: Any) -> str:
        """"", "ZLIB" or "GZIP" for a TFRecordOptions, a compression-type string or value, or None."""
        if not options:
            return ""
        if isinstance(options, TFRecordOptions):
            return cls.get_compression_type_string(options.compression_type)
        if isinstance(options, int) and not isinstance(options, bool) and options in cls.compression_type_map:
            return cls.compression_type_map[options]
        if options in ("ZLIB", "GZIP"):
            return options
        raise ValueError(f'Not a valid compression_type: "{options}"')

    def __repr__(self) -> str:
        return f"TFRecordOptions(compression_type={self.compression_type!r})"


def _options_of(options: Any) -> TFRecordOptions:
    if isinstance(options, TFRecordOptions):
        return options
    return TFRecordOptions(compression_type=TFRecordOptions.get_compression_type_string(options))


def _wbits(compression: str, window_bits: int | None) -> int:
    bits = zlib.MAX_WBITS if window_bits is None else int(window_bits)
    return bits + 16 if compression == "GZIP" else bits


# ------------------------------------------------------------------ writing
def _not_found(path: str) -> Exception:
    from caudal.errors import NotFoundError

    return NotFoundError(None, None, f"{path}; No such file or directory")


def _open(path: str, mode: str, buffering: int = -1) -> BinaryIO:
    """`open`, with TF's errors for a missing file or directory and for a directory."""
    try:
        return open(path, mode, buffering=buffering)  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise _not_found(path) from None
    except IsADirectoryError:
        from caudal.errors import FailedPreconditionError

        raise FailedPreconditionError(None, None, f"{path}; Is a directory") from None
    except PermissionError:
        from caudal.errors import PermissionDeniedError

        raise PermissionDeniedError(None, None, f"{path}; Permission denied") from None
    except OSError as e:
        from caudal.errors import ResourceExhaustedError, UnknownError

        error = ResourceExhaustedError if e.errno == 28 else UnknownError  # 28: ENOSPC
        raise error(None, None, f"{path}; {e.strerror or e}") from None


class TFRecordWriter:
    """`tf.io.TFRecordWriter(path, options=None)`: writes records to `path` (created or truncated).

    `options` is a TFRecordOptions or a compression-type string; a GZIP or ZLIB file is one
    stream that `close()` finishes. Writing or flushing a closed writer raises TF's
    FailedPreconditionError("Writer is closed.")."""

    def __init__(self, path: str | os.PathLike, options: Any = None):
        self._path = os.fspath(path)
        opts = _options_of(options)
        self._compression = TFRecordOptions.get_compression_type_string(opts)
        self._compressor: Any = None
        if self._compression:
            level = -1 if opts.compression_level is None else int(opts.compression_level)
            self._compressor = zlib.compressobj(
                level, zlib.DEFLATED if opts.compression_method is None else int(opts.compression_method),
                _wbits(self._compression, opts.window_bits), 9 if opts.mem_level is None else int(opts.mem_level),
                zlib.Z_DEFAULT_STRATEGY if opts.compression_strategy is None else int(opts.compression_strategy))
        self._file: BinaryIO | None = _open(self._path, "wb")

    @property
    def path(self) -> str:
        return self._path

    def _checked_file(self) -> BinaryIO:
        if self._file is None:
            from caudal.errors import FailedPreconditionError

            raise FailedPreconditionError(None, None, "Writer is closed.")
        return self._file

    def write(self, record: bytes | str) -> None:
        """Appends one record (bytes, or a str written as UTF-8)."""
        if isinstance(record, str):
            record = record.encode("utf-8")
        elif not isinstance(record, (bytes, bytearray, memoryview)):
            raise TypeError(f"write(): incompatible function arguments: record must be bytes, "
                            f"got {type(record).__name__}")
        file = self._checked_file()
        framed = encode_record(record)
        file.write(self._compressor.compress(framed) if self._compressor is not None else framed)

    def flush(self) -> None:
        """Pushes what was written to the file (a compressed stream is flushed to a byte boundary)."""
        file = self._checked_file()
        if self._compressor is not None:
            file.write(self._compressor.flush(zlib.Z_SYNC_FLUSH))
        file.flush()

    def sync(self) -> None:
        """Flushes, then forces the file's bytes to the disk (fsync), so they survive a crash."""
        self.flush()
        os.fsync(self._checked_file().fileno())

    def close(self) -> None:
        """Finishes the file; closing twice is fine."""
        if self._file is not None:
            if self._compressor is not None:
                self._file.write(self._compressor.flush(zlib.Z_FINISH))
                self._compressor = None
            self._file.close()
            self._file = None

    def __enter__(self) -> TFRecordWriter:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


# ------------------------------------------------------------------ reading
def _data_loss(path: str, message: str) -> Exception:
    from caudal.errors import DataLossError

    return DataLossError(None, None, f"{path}: {message}")


class _InflatingStream:
    """`read(n)` over the decompressed bytes of a GZIP or ZLIB file, reading `chunk` bytes at a time."""

    def __init__(self, raw: BinaryIO, compression: str, chunk: int, path: str):
        self._raw = raw
        self._inflater = zlib.decompressobj(_wbits(compression, None))
        self._chunk = chunk
        self._path = path
        self._pending = bytearray()
        self._finished = False

    def _inflate_more(self) -> None:
        inflater = self._inflater
        while True:
            if inflater.unconsumed_tail:
                data = inflater.unconsumed_tail
            elif inflater.eof:
                self._finished = True
                return
            else:
                data = self._raw.read(self._chunk)
                if not data:
                    self._finished = True
                    return
            try:
                out = inflater.decompress(data, self._chunk)
            except zlib.error as e:
                raise _data_loss(self._path, _inflate_message(e)) from None
            if out:
                self._pending += out
                return

    def read(self, n: int) -> bytes:
        while len(self._pending) < n and not self._finished:
            self._inflate_more()
        out = bytes(self._pending[:n])
        del self._pending[:n]
        return out


def _inflate_message(error: zlib.error) -> str:
    """TF's words for a zlib failure: "inflate() failed with error -3: incorrect header check"."""
    text = str(error)
    if text.startswith("Error ") and " while decompressing data: " in text:
        code, _, reason = text[len("Error "):].partition(" while decompressing data: ")
        return f"inflate() failed with error {code}: {reason}"
    return f"inflate() failed: {text}"


_READ_STEP = 1 << 24


def _read_at_most(stream: Any, n: int) -> bytes:
    """`stream.read(n)`, in steps of 16 MiB, so that a forged record length allocates only what the file holds."""
    if n <= _READ_STEP:
        return stream.read(n)
    parts = []
    remaining = n
    while remaining:
        part = stream.read(min(remaining, _READ_STEP))
        parts.append(part)
        remaining -= len(part)
        if len(part) < min(remaining + len(part), _READ_STEP):
            break
    return b"".join(parts)


def read_records(stream: Any, path: str) -> Iterator[bytes]:
    """The records of an open binary stream (anything with `read(n)`), checked; `path` names the
    file in errors. Offsets count bytes of the uncompressed records, as TF's do."""
    offset = 0
    short_read = "EOF reached" if isinstance(stream, _InflatingStream) else "Read less bytes than requested"
    while True:
        header = stream.read(_HEADER_SIZE)
        if len(header) < _HEADER_SIZE:
            return  # TF's reader takes a header cut short for the end of the file
        length_bytes = header[:_LENGTH.size]
        (length_crc,) = _CRC.unpack_from(header, _LENGTH.size)
        if masked_crc32c(length_bytes) != length_crc:
            raise _data_loss(path, f"corrupted record at {offset}"
                             + (" (Is this even a TFRecord file?)" if offset == 0 else ""))
        (length,) = _LENGTH.unpack(length_bytes)
        body = _read_at_most(stream, length + _FOOTER_SIZE)
        if len(body) < length + _FOOTER_SIZE:
            raise _data_loss(path, f"truncated record at {offset}' failed with {short_read}")
        data = body[:length]
        if masked_crc32c(data) != _CRC.unpack_from(body, length)[0]:
            raise _data_loss(path, f"corrupted record at {offset + _HEADER_SIZE}")
        yield data
        offset += _HEADER_SIZE + length + _FOOTER_SIZE


def iter_tfrecord_file(path: str, compression_type: str = "", buffer_size: int | None = None) -> Iterator[bytes]:
    """The records of the TFRecord file at `path`, one bytes object each, read lazily.

    `compression_type` is "", "ZLIB" or "GZIP" (None is ""); `buffer_size` is the number of
    file bytes read at a time (TF's default, 256 KiB, when None or 0). Raises `NotFoundError`
    for a missing file (when iteration starts) and `DataLossError` naming the file and the
    offset for a corrupted or truncated record, after yielding the records before it."""
    path = os.fspath(path)
    compression = TFRecordOptions.get_compression_type_string(compression_type or "")
    if buffer_size is not None and buffer_size < 0:
        from caudal.errors import InvalidArgumentError

        raise InvalidArgumentError(None, None, "`buffer_size` must be >= 0 (0 == default)")
    chunk = int(buffer_size) if buffer_size else _DEFAULT_BUFFER_SIZE
    with _open(path, "rb", buffering=max(chunk, 2) if not compression else 0) as raw:
        stream: Any = _InflatingStream(raw, compression, chunk, path) if compression else raw
        yield from read_records(stream, path)


def tf_record_iterator(path: str | os.PathLike, options: Any = None) -> Iterator[bytes]:
    """`tf.io.tf_record_iterator(path, options=None)`: the data of each record of the file at
    `path`, in order. `options` is a TFRecordOptions, a compression-type string or a
    TFRecordCompressionType value. A missing file raises NotFoundError when called, as TF's."""
    opts = _options_of(options)
    path = os.fspath(path)
    if not os.path.exists(path):
        raise _not_found(path)
    return iter_tfrecord_file(path, TFRecordOptions.get_compression_type_string(opts), opts.input_buffer_size)
