"""Tensor bundles: TensorFlow's V2 checkpoint files, `PREFIX.index` + `PREFIX.data-00000-of-00001`.

The data file holds the tensors' bytes one after another, in the order they
were added, with no padding: numbers little-endian in their natural width
(bool 1 byte, bfloat16 and half 2 bytes, complex as (real, imag) pairs). A
string tensor is stored as the varint64 length of each element, then the
masked CRC32C of those lengths taken as little-endian uint32s, then the
elements' bytes.

The index file is a table (`caudal.checkpoint.table`) mapping "" to a
`BundleHeaderProto` (number of shards, endianness, format version 1) and each
tensor name to a `BundleEntryProto`: dtype, shape, shard, offset, size and
the masked CRC32C of the entry's bytes. For a string tensor that checksum
covers the uint32 lengths, the stored length checksum and the elements.

Writing is crash safe: both files are written under temporary names, made
durable (fsync) and renamed into place through the prefix's commit journal
(`caudal.checkpoint.durable`), so a process killed at any moment leaves the
previous bundle of the same prefix or the new one, and a failure leaves the
previous one. Opening a prefix finishes a commit that a killed process left
half done; the next save of the prefix removes its temporary files. A
checksum mismatch on reading raises DataLossError naming the file.
"""
from __future__ import annotations

import math
import os
import struct
from typing import Any, BinaryIO

import numpy as np

from caudal.checkpoint import durable
from caudal.checkpoint.crc import crc32c, extend, mask, unmask
from caudal.checkpoint.table import TableReader, TableWriter, get_varint, put_varint
from caudal.errors import (
    DataLossError,
    InvalidArgumentError,
    NotFoundError,
    UnimplementedError,
)
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor_shape import TensorShape
from caudal.framework.tensor_util import shape_from_proto, shape_to_proto
from caudal.proto import tensor_bundle_pb2, versions_pb2

__all__ = ["BundleWriter", "BundleReader", "data_filename", "index_filename", "BUNDLE_VERSION"]

BUNDLE_VERSION = 1
_CHUNK = 1 << 22  # checksums of large tensors are computed 4 MiB at a time
_WRITE_CHUNK = 1 << 24  # large tensors are written 16 MiB at a time, each handed to the disk at once


def _valid_dtype(enum: int) -> bool:
    if not 0 < enum < 100:
        return False
    try:
        dtypes_lib.as_dtype(enum)
    except (TypeError, ValueError, KeyError):
        return False
    return True


def data_filename(prefix: str, shard: int, num_shards: int) -> str:
    """`PREFIX.data-SSSSS-of-NNNNN`."""
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def index_filename(prefix: str) -> str:
    return f"{prefix}.index"


def _chunked_crc(view: memoryview, crc: int = 0) -> int:
    """The CRC32C of a byte view, extending `crc`, without copying it whole."""
    for start in range(0, len(view), _CHUNK):
        crc = extend(crc, bytes(view[start:start + _CHUNK]))
    return crc


def _byte_view(array: np.ndarray) -> memoryview:
    return memoryview(array).cast("B") if array.size else memoryview(b"")


def _numpy_layout(dtype: dtypes_lib.DType) -> np.dtype:
    """The little-endian NumPy dtype of one element on disk."""
    if dtype is dtypes_lib.bfloat16:
        return np.dtype("<u2")
    if dtype in (dtypes_lib.resource, dtypes_lib.variant):
        raise UnimplementedError(None, None, f"Saving or restoring {dtype.name} tensors is not supported")
    return np.dtype(dtype.as_numpy_dtype).newbyteorder("<")


def _encode_numeric(value: Any, dtype: dtypes_lib.DType) -> np.ndarray:
    if dtype is dtypes_lib.bfloat16:
        from caudal.framework.tensor_util import _bfloat16_bits

        return np.ascontiguousarray(_bfloat16_bits(np.asarray(value, dtype=np.float32)), dtype="<u2")
    return np.ascontiguousarray(value, dtype=_numpy_layout(dtype))


def _as_bytes(element: Any) -> bytes:
    if isinstance(element, bytes):
        return element
    if isinstance(element, str):
        return element.encode("utf-8")
    if isinstance(element, (np.bytes_, bytearray, memoryview)):
        return bytes(element)
    raise InvalidArgumentError(None, None, f"Cannot save {element!r} as an element of a string tensor")


def _encode_strings(value: Any) -> tuple[bytes, int]:
    """The bytes of a string tensor on disk, and their entry checksum (unmasked)."""
    elements = [_as_bytes(e) for e in np.asarray(value, dtype=object).reshape(-1)]
    lengths = bytearray()
    for e in elements:
        put_varint(lengths, len(e))
    length_crc = crc32c(struct.pack(f"<{len(elements)}I", *[len(e) & 0xFFFFFFFF for e in elements]))
    stored = struct.pack("<I", mask(length_crc))
    body = b"".join(elements)
    entry_crc = extend(extend(length_crc, stored), body)
    return bytes(lengths) + stored + body, entry_crc


class BundleWriter:
    """Writes one bundle (one shard) at `prefix`: `add` tensors, then `finish` (or `abort`).

    Also a context manager that finishes on success and aborts on an exception.
    """

    def __init__(self, prefix: str):
        self._prefix = os.fspath(prefix)
        self._data_path = data_filename(self._prefix, 0, 1)
        self._index_path = index_filename(self._prefix)
        self._data_tmp = durable.temporary_name(self._data_path)
        self._index_tmp = durable.temporary_name(self._index_path)
        directory = os.path.dirname(self._prefix)
        if directory and not os.path.isdir(directory):
            try:
                os.mkdir(directory)  # the immediate parent only, as TensorFlow's BundleWriter
            except OSError:
                pass
        try:
            durable.recover(self._prefix)
            durable.remove_stale_temporaries(self._prefix)
            durable.remove_abandoned_temporaries(directory)
        except OSError as e:
            raise _os_error(e, self._prefix) from None
        try:
            self._file: BinaryIO | None = open(self._data_tmp, "wb")  # noqa: SIM115 - closed in finish/abort
        except FileNotFoundError:
            raise NotFoundError(None, None, f"{os.path.dirname(self._data_tmp) or '.'}; No such file or directory") \
                from None
        except OSError as e:
            raise _os_error(e, self._data_tmp) from None
        durable.lock_while_writing(self._file)
        self._entries: dict[bytes, tensor_bundle_pb2.BundleEntryProto] = {}
        self._offset = 0

    @property
    def prefix(self) -> str:
        return self._prefix

    def add(self, name: str | bytes, value: Any, dtype: Any = None) -> None:
        """Appends tensor `name` (a NumPy array or array-like of `dtype`, else of its own dtype)."""
        if self._file is None:
            raise ValueError("BundleWriter is closed")
        key = name.encode("utf-8") if isinstance(name, str) else bytes(name)
        if not key:
            raise InvalidArgumentError(None, None, "Adding the empty key is not allowed (it holds the header)")
        if key in self._entries:
            raise InvalidArgumentError(None, None, f"Adding duplicate key: {key.decode('utf-8', 'replace')}")
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
        if dtype is None:
            dtype = dtypes_lib.string if array.dtype.kind in "OSU" else dtypes_lib.as_dtype(array.dtype)
        dtype = dtypes_lib.as_dtype(dtype).base_dtype
        entry = tensor_bundle_pb2.BundleEntryProto(dtype=dtype.as_datatype_enum, offset=self._offset)
        entry.shape.CopyFrom(shape_to_proto(TensorShape(list(array.shape))))
        entry.shape.SetInParent()
        try:
            if dtype is dtypes_lib.string:
                data, crc = _encode_strings(array)
                self._file.write(data)
                size = len(data)
            else:
                view = _byte_view(_encode_numeric(array, dtype))
                crc = 0
                for start in range(0, len(view), _WRITE_CHUNK):  # the disk writes one chunk while we do the next
                    chunk = view[start:start + _WRITE_CHUNK]
                    crc = _chunked_crc(chunk, crc)
                    self._file.write(chunk)
                    durable.start_writeback(self._file, self._offset + start, len(chunk))
                size = len(view)
        except OSError as e:
            raise _os_error(e, self._data_tmp) from None
        entry.size = size
        entry.crc32c = mask(crc)
        self._offset += size
        self._entries[key] = entry

    def finish(self) -> None:
        """Writes the index, makes both files durable and commits them (data first, then index)."""
        if self._file is None:
            raise ValueError("BundleWriter is closed")
        try:
            durable.fsync_file(self._file)
            self._file.close()
            self._file = None
            durable._step("data-written")
            header = tensor_bundle_pb2.BundleHeaderProto(
                num_shards=1, endianness=tensor_bundle_pb2.BundleHeaderProto.LITTLE,
                version=versions_pb2.VersionDef(producer=BUNDLE_VERSION))
            write_index(self._index_tmp, header, self._entries)
            durable._step("index-written")
        except BaseException as e:
            self.abort()
            if isinstance(e, OSError):
                raise _os_error(e, self._index_tmp) from None
            raise
        try:
            durable.commit_renames(self._prefix, [(self._data_tmp, self._data_path),
                                                  (self._index_tmp, self._index_path)])
        except BaseException as e:
            if not os.path.exists(durable.journal_filename(self._prefix)):
                self.abort()  # not committed: the previous bundle stands
            if isinstance(e, OSError):
                raise _os_error(e, self._index_path) from None
            raise

    def abort(self) -> None:
        """Closes and removes the temporary files; a previous bundle at the prefix is untouched."""
        if self._file is not None:
            self._file.close()
            self._file = None
        for path in (self._data_tmp, self._index_tmp):
            try:
                os.remove(path)
            except OSError:
                pass

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.abort()


def write_index(path: str, header: tensor_bundle_pb2.BundleHeaderProto,
                entries: dict[bytes, tensor_bundle_pb2.BundleEntryProto]) -> None:
    """Writes an index table (the header under "" and the entries in key order) and fsyncs it."""
    with open(path, "wb") as f:
        table = TableWriter(f)
        table.add(b"", header.SerializeToString())
        for key in sorted(entries):
            table.add(key, entries[key].SerializeToString())
        table.finish()
        durable.fsync_file(f)


def _os_error(error: OSError, path: str) -> Exception:
    from caudal.errors import FailedPreconditionError, PermissionDeniedError, ResourceExhaustedError, UnknownError

    text = f"{path}; {error.strerror or error}"
    if isinstance(error, FileNotFoundError):
        return NotFoundError(None, None, text)
    if isinstance(error, PermissionError):
        return PermissionDeniedError(None, None, text)
    if isinstance(error, IsADirectoryError):
        return FailedPreconditionError(None, None, text)
    if getattr(error, "errno", None) == 28:  # ENOSPC
        return ResourceExhaustedError(None, None, text)
    return UnknownError(None, None, text)


class BundleReader:
    """Reads the bundle at `prefix`: `entries` (name -> BundleEntryProto), `read(name)`.

    The index is read and checked when the reader is made; tensors are read
    (and their checksums verified) on request. Close it, or use it as a
    context manager, to release the data files.
    """

    def __init__(self, prefix: str):
        self._prefix = os.fspath(prefix)
        self._index_path = index_filename(self._prefix)
        try:
            durable.recover(self._prefix)
        except OSError:
            pass
        self._redirect = durable.pending_renames(os.path.abspath(self._prefix))
        try:
            with open(self._resolve(self._index_path), "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise NotFoundError(None, None, "Unsuccessful TensorSliceReader constructor: Failed to find any "
                                            f"matching files for {self._prefix}") from None
        except OSError as e:
            raise _os_error(e, self._index_path) from None
        table = TableReader(data, self._index_path)
        self.header: tensor_bundle_pb2.BundleHeaderProto | None = None
        self.entries: dict[str, tensor_bundle_pb2.BundleEntryProto] = {}
        from google.protobuf.message import DecodeError

        for key, value in table.items():
            try:
                if not key:
                    self.header = tensor_bundle_pb2.BundleHeaderProto.FromString(value)
                else:
                    self.entries[key.decode("utf-8", "surrogateescape")] = \
                        tensor_bundle_pb2.BundleEntryProto.FromString(value)
            except DecodeError:
                raise DataLossError(None, None, f"Unable to read file ({self._index_path}): bad proto for "
                                                f"entry {key!r}") from None
        if self.header is None:
            raise DataLossError(None, None, f"Unable to read file ({self._index_path}): no bundle header entry")
        if self.header.endianness != tensor_bundle_pb2.BundleHeaderProto.LITTLE:
            raise UnimplementedError(None, None, f"Checkpoint {self._prefix} is big-endian; reading big-endian "
                                                 "bundles is not supported")
        if self.header.version.min_consumer > BUNDLE_VERSION:
            raise InvalidArgumentError(None, None, f"Checkpoint {self._prefix} needs bundle format version "
                                                   f">= {self.header.version.min_consumer}; caudal reads version "
                                                   f"{BUNDLE_VERSION}")
        if self.header.num_shards < 1:
            raise DataLossError(None, None, f"Unable to read file ({self._index_path}): the bundle header names "
                                            f"{self.header.num_shards} shards")
        for name, entry in self.entries.items():
            self._check_entry(name, entry)
        self._files: dict[int, BinaryIO] = {}

    @property
    def prefix(self) -> str:
        return self._prefix

    def _check_entry(self, name: str, entry: tensor_bundle_pb2.BundleEntryProto) -> None:
        """A crafted entry (bad dtype, negative dimension, shard or extent) is DataLossError naming it."""
        problem = None
        if not _valid_dtype(entry.dtype):
            problem = f"an invalid dtype ({entry.dtype})"
        elif any(d.size < 0 for d in entry.shape.dim):
            problem = f"a negative dimension in its shape {[d.size for d in entry.shape.dim]}"
        elif not 0 <= entry.shard_id < self.header.num_shards:
            problem = f"shard {entry.shard_id} of {self.header.num_shards}"
        elif entry.offset < 0 or entry.size < 0:
            problem = f"offset {entry.offset} and size {entry.size}"
        if problem is not None:
            raise DataLossError(None, None, f"Unable to read file ({self._index_path}): the entry of tensor {name} "
                                            f"has {problem}")

    def _check_extent(self, name: str, entry: tensor_bundle_pb2.BundleEntryProto, f: BinaryIO) -> None:
        """The entry's bytes lie inside its data file (checked before anything is allocated for them)."""
        length = os.fstat(f.fileno()).st_size
        if entry.offset + entry.size > length:
            raise DataLossError(None, None, f"Unable to read {name} from {self.data_path(entry.shard_id)}: "
                                            f"expected {entry.size} bytes at offset {entry.offset}, the file has "
                                            f"{length} (the file is truncated)")

    def _resolve(self, path: str) -> str:
        """Where `path` lies now: its temporary name while a committed save is unfinished (read-only directory)."""
        return self._redirect.get(os.path.abspath(path), path) if self._redirect else path

    @property
    def num_shards(self) -> int:
        return self.header.num_shards

    def data_path(self, shard: int) -> str:
        return data_filename(self._prefix, shard, self.header.num_shards)

    def has(self, name: str) -> bool:
        return name in self.entries

    def entry(self, name: str) -> tensor_bundle_pb2.BundleEntryProto:
        try:
            return self.entries[name]
        except KeyError:
            raise NotFoundError(None, None, f"Key {name} not found in checkpoint") from None

    def dtype(self, name: str) -> dtypes_lib.DType:
        return dtypes_lib.as_dtype(self.entry(name).dtype)

    def shape(self, name: str) -> list[int]:
        return shape_from_proto(self.entry(name).shape).as_list()

    def _file(self, shard: int) -> BinaryIO:
        f = self._files.get(shard)
        if f is None:
            path = self.data_path(shard)
            try:
                f = open(self._resolve(path), "rb", buffering=0)  # noqa: SIM115 - closed in close()
            except FileNotFoundError:
                raise NotFoundError(None, None, f"{path}; No such file or directory") from None
            except OSError as e:
                raise _os_error(e, path) from None
            self._files[shard] = f
        return f

    def read(self, name: str) -> np.ndarray:
        """The tensor `name` as a new NumPy array (strings: an object array of bytes)."""
        entry = self.entry(name)
        if entry.slices:
            raise UnimplementedError(None, None, f"Tensor {name} is stored as slices (a partitioned variable); "
                                                 "reading sliced tensors is not supported")
        dtype = dtypes_lib.as_dtype(entry.dtype)
        shape = tuple(d.size for d in entry.shape.dim)
        count = math.prod(shape)
        f = self._file(entry.shard_id)
        if dtype is dtypes_lib.string:
            if count > entry.size:  # every element takes at least one byte (its length)
                raise DataLossError(None, None, f"Unable to read string tensor {name} from "
                                                f"{self.data_path(entry.shard_id)}: {entry.size} bytes stored for "
                                                f"{count} elements")
            self._check_extent(name, entry, f)
            f.seek(entry.offset)
            data = f.read(entry.size)
            return self._decode_strings(name, entry, data, shape)
        layout = _numpy_layout(dtype)
        if count * layout.itemsize != entry.size:
            raise DataLossError(None, None, f"Unable to read {name} from {self.data_path(entry.shard_id)}: "
                                            f"{entry.size} bytes stored for a {dtype.name} tensor of shape "
                                            f"{list(shape)}")
        self._check_extent(name, entry, f)
        f.seek(entry.offset)
        array = np.empty(count, dtype=layout)
        view = _byte_view(array)
        got = f.readinto(view) if count else 0
        if got != entry.size:
            raise DataLossError(None, None, f"Unable to read {name} from {self.data_path(entry.shard_id)}: "
                                            f"expected {entry.size} bytes at offset {entry.offset}, got {got} "
                                            "(the file is truncated)")
        self._check(entry, _chunked_crc(view))
        if dtype is dtypes_lib.bfloat16:
            from caudal.framework.tensor_util import _from_bfloat16_bits

            return _from_bfloat16_bits(array).reshape(shape)
        native = np.dtype(dtype.as_numpy_dtype)
        if layout != native:
            array = array.astype(native)
        return array.reshape(shape)

    def _check(self, entry: tensor_bundle_pb2.BundleEntryProto, crc: int) -> None:
        if crc != unmask(entry.crc32c):
            raise DataLossError(
                None, None, f"TensorBundle at {self._prefix} shard {entry.shard_id} ({entry.size} bytes): Checksum "
                            f"does not match: stored {entry.crc32c} vs. calculated on the restored bytes {mask(crc)} "
                            f"(file {self.data_path(entry.shard_id)})")

    def _decode_strings(self, name: str, entry: Any, data: bytes, shape: tuple[int, ...]) -> np.ndarray:
        count = math.prod(shape)
        path = self.data_path(entry.shard_id)
        try:
            lengths = []
            pos = 0
            for _ in range(count):
                length, pos = get_varint(data, pos)
                lengths.append(length)
            stored = struct.unpack("<I", data[pos:pos + 4])[0]
        except (IndexError, ValueError, struct.error):
            raise DataLossError(None, None, f"Unable to read string tensor {name} from {path}: truncated "
                                            "lengths") from None
        pos += 4
        length_crc = crc32c(struct.pack(f"<{count}I", *[n & 0xFFFFFFFF for n in lengths]))
        if length_crc != unmask(stored):
            raise DataLossError(None, None, f"The length checksum does not match for string tensor {name} in "
                                            f"{path}: expected {stored}, got {mask(length_crc)}")
        body = data[pos:]
        if len(body) != sum(lengths):
            raise DataLossError(None, None, f"Unable to read string tensor {name} from {path}: truncated data")
        self._check(entry, extend(extend(length_crc, data[pos - 4:pos]), body))
        result = np.empty(count, dtype=object)
        start = 0
        for i, length in enumerate(lengths):
            result[i] = body[start:start + length]
            start += length
        return result.reshape(shape)

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files = {}

    def __enter__(self) -> BundleReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass
