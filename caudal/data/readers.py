"""Datasets of files: `TextLineDataset`, `TFRecordDataset`, `FixedLengthRecordDataset`, and
`Dataset.list_files`. Records are read lazily, file after file; "GZIP" and "ZLIB" files are read
through Python's gzip and zlib, as TensorFlow writes them."""
from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from caudal import errors
from caudal.data import pipeline, structure
from caudal.data.dataset_ops import DatasetV1, _source, register_dataset_op
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor

__all__ = ["TextLineDataset", "TFRecordDataset", "FixedLengthRecordDataset", "list_files"]

_DEFAULT_BUFFER = 256 * 1024


def _names(filenames: Any) -> list[str]:
    flat = np.asarray(filenames, dtype=object).reshape(-1)
    return [f.decode() if isinstance(f, bytes) else str(f) for f in flat]


def _compression(value: Any) -> str:
    value = np.asarray(value, dtype=object).reshape(()).item() if not isinstance(value, str) else value
    value = value.decode() if isinstance(value, bytes) else (value or "")
    if value not in ("", "GZIP", "ZLIB"):
        raise errors.InvalidArgumentError(None, None, f"Unsupported compression_type: {value}.")
    return value


def _open(path: str, compression: str, buffer_size: int) -> io.BufferedIOBase:
    try:
        raw = open(path, "rb", buffering=max(buffer_size, 1))  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from None
    except IsADirectoryError:
        raise errors.FailedPreconditionError(None, None, f"{path}; Is a directory") from None
    if compression == "GZIP":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "ZLIB":
        return _ZlibReader(raw)
    return raw


class _ZlibReader(io.RawIOBase):
    """A readable stream over a zlib-compressed file (what TF's "ZLIB" compression writes)."""

    def __init__(self, raw: Any):
        self._raw = raw
        self._inflate = zlib.decompressobj()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._pending) < n:
            chunk = self._raw.read(1 << 16)
            if not chunk:
                self._pending += self._inflate.flush()
                break
            self._pending += self._inflate.decompress(chunk)
        if n < 0:
            data, self._pending = self._pending, b""
        else:
            data, self._pending = self._pending[:n], self._pending[n:]
        return data

    def close(self) -> None:
        self._raw.close()
        super().close()


class _FileRecordsIterator(pipeline.ElementIterator):
    __slots__ = ("_files", "_records", "_read")

    def __init__(self, files: list[str], read: Any):
        self._files = list(reversed(files))
        self._records: Iterator[bytes] | None = None
        self._read = read

    def get_next(self) -> tuple | None:
        while True:
            if self._records is None:
                if not self._files:
                    return None
                self._records = self._read(self._files.pop())
            try:
                record = next(self._records)
            except StopIteration:
                self._records = None
                continue
            except errors.OpError:
                self._records = None  # a damaged file ends there; the next call goes on with the next file
                raise
            return (np.array(record, dtype=object),)


class _FileRecordsValue(pipeline.DatasetValue):
    def __init__(self, files: list[str], read: Any):
        self.files, self.read = files, read

    def iterator(self, env: pipeline.Env) -> pipeline.ElementIterator:
        return _FileRecordsIterator(self.files, self.read)


def _text_lines(compression: str, buffer_size: int) -> Any:
    def read(path: str) -> Iterator[bytes]:
        with _open(path, compression, buffer_size) as stream:
            for line in stream:
                if line.endswith(b"\n"):
                    line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
                yield line
    return read


def _tfrecords(compression: str, buffer_size: int) -> Any:
    from caudal.summary.records import iter_tfrecord_file

    def read(path: str) -> Iterator[bytes]:
        return iter_tfrecord_file(path, compression, buffer_size)
    return read


def _fixed_length(record_bytes: int, header_bytes: int, footer_bytes: int, compression: str,
                  buffer_size: int) -> Any:
    def read(path: str) -> Iterator[bytes]:
        with _open(path, compression, buffer_size) as stream:
            data = stream.read()
        body = len(data) - header_bytes - footer_bytes
        if body < 0 or body % record_bytes:
            raise errors.InvalidArgumentError(
                None, None, f"Excluding the header ({header_bytes} bytes) and footer ({footer_bytes} bytes), input "
                            f"file \"{path}\" has body length {max(body, 0)}, which is not an exact multiple of the "
                            f"record length ({record_bytes} bytes).")
        for start in range(header_bytes, header_bytes + body, record_bytes):
            yield data[start:start + record_bytes]
    return read


register_dataset_op("TextLineDataset", lambda ctx, op, files, compression, buffer: _FileRecordsValue(
    _names(files), _text_lines(_compression(compression), int(buffer))))
register_dataset_op("TFRecordDataset", lambda ctx, op, files, compression, buffer: _FileRecordsValue(
    _names(files), _tfrecords(_compression(compression), int(buffer))))
register_dataset_op("FixedLengthRecordDatasetV2", lambda ctx, op, files, header, record, footer, buffer, compression:
                    _FileRecordsValue(_names(files), _fixed_length(int(record), int(header), int(footer),
                                                                   _compression(compression), int(buffer))))

_LINE_SPECS = structure.ComponentSpec(dtypes_lib.string, [])


def _filenames_tensor(filenames: Any) -> Any:
    tensor = convert_to_tensor(filenames, dtype=dtypes_lib.string, name="filenames")
    if tensor.shape.ndims not in (None, 0, 1):
        raise ValueError(f"`filenames` must be a `tf.Tensor` of rank 0 or 1, but got shape {tensor.shape}.")
    return tensor


def _string(value: Any, name: str) -> Any:
    return convert_to_tensor("" if value is None else value, dtype=dtypes_lib.string, name=name)


def _int64(value: Any, name: str) -> Any:
    return convert_to_tensor(value, dtype=dtypes_lib.int64, name=name)


class _FileDataset(DatasetV1):
    """A dataset of file records; with `num_parallel_reads`, the files' records interleave (one from each
    of that many files in turn), as TensorFlow reads them."""

    def __init__(self, filenames: Any, make: Any, num_parallel_reads: Any = None):
        tensor = _filenames_tensor(filenames)
        if num_parallel_reads is None:
            inner = make(tensor)
        else:
            files = DatasetV1.from_tensor_slices(tensor)
            inner = files.interleave(make, cycle_length=num_parallel_reads, block_length=1)
        super().__init__(inner._variant_tensor, inner._specs)


class TextLineDataset(_FileDataset):
    """`tf.data.TextLineDataset(filenames, compression_type, buffer_size, num_parallel_reads)`: the lines
    of the files, without their line endings."""

    def __init__(self, filenames: Any, compression_type: Any = None, buffer_size: Any = None,
                 num_parallel_reads: Any = None):
        def make(names: Any) -> DatasetV1:
            return _source("TextLineDataset", [names, _string(compression_type, "compression_type"),
                                               _int64(buffer_size or _DEFAULT_BUFFER, "buffer_size")], _LINE_SPECS)
        super().__init__(filenames, make, num_parallel_reads)


class TFRecordDataset(_FileDataset):
    """`tf.data.TFRecordDataset(filenames, compression_type, buffer_size, num_parallel_reads)`: the records
    of TFRecord files, checked (a damaged record raises DataLossError naming file and offset)."""

    def __init__(self, filenames: Any, compression_type: Any = None, buffer_size: Any = None,
                 num_parallel_reads: Any = None):
        def make(names: Any) -> DatasetV1:
            return _source("TFRecordDataset", [names, _string(compression_type, "compression_type"),
                                               _int64(buffer_size or _DEFAULT_BUFFER, "buffer_size")], _LINE_SPECS)
        super().__init__(filenames, make, num_parallel_reads)


class FixedLengthRecordDataset(_FileDataset):
    """`tf.data.FixedLengthRecordDataset(filenames, record_bytes, header_bytes, footer_bytes, buffer_size,
    compression_type, num_parallel_reads)`: fixed-size records between a header and a footer."""

    def __init__(self, filenames: Any, record_bytes: Any, header_bytes: Any = None, footer_bytes: Any = None,
                 buffer_size: Any = None, compression_type: Any = None, num_parallel_reads: Any = None):
        def make(names: Any) -> DatasetV1:
            inputs = [names, _int64(header_bytes or 0, "header_bytes"), _int64(record_bytes, "record_bytes"),
                      _int64(footer_bytes or 0, "footer_bytes"), _int64(buffer_size or _DEFAULT_BUFFER, "buffer_size"),
                      _string(compression_type, "compression_type")]
            return _source("FixedLengthRecordDatasetV2", inputs, _LINE_SPECS)
        super().__init__(filenames, make, num_parallel_reads)


def list_files(file_pattern: Any, shuffle: bool | None = None, seed: int | None = None) -> DatasetV1:
    """`Dataset.list_files`: the files matching the glob pattern(s), shuffled unless `shuffle=False`; no
    match raises InvalidArgumentError when the iterator is initialised, as TF's."""
    from caudal.framework.graph import control_dependencies
    from caudal.ops.array_ops import size
    from caudal.ops.comparison_ops import greater
    from caudal.ops.cond_ops import Assert
    from caudal.ops.control_ops import identity
    from caudal.ops.io_ops import matching_files

    pattern = convert_to_tensor(file_pattern, dtype=dtypes_lib.string, name="file_pattern")
    matches = matching_files(pattern)
    found = greater(size(matches), 0)
    with control_dependencies([Assert(found, ["No files matched pattern: ", pattern], name="assert_not_empty")]):
        matches = identity(matches)
    dataset = DatasetV1.from_tensor_slices(matches)
    if shuffle is None or shuffle:
        dataset = dataset.shuffle(size(matches, out_type=dtypes_lib.int64), seed=seed)
    return dataset
