"""TensorFlow's immutable sorted table (the `.index` file of a V2 checkpoint).

The layout is the LevelDB SSTable that TensorFlow's `table` library writes:

    [data block]*  [metaindex block]  [index block]  [footer: 48 bytes]

- A block is a run of entries, each `varint shared | varint unshared |
  varint value_length | key[shared:] | value`, where `shared` is the length of
  the prefix common with the previous key. Every `restart_interval` entries
  (16) an entry stores its whole key, and the block ends with the offsets of
  those restart entries (uint32 each) and their count (uint32).
- Each block on disk is followed by a 5-byte trailer: the compression type
  (0: none, 1: snappy) and the masked CRC32C of the block plus that byte.
- The index block maps, for each data block, a key >= every key of the
  block and < every key of the next (TF's shortest separator) to the block's
  handle (`varint offset | varint size`). The metaindex block is empty.
- The footer holds the metaindex and index handles, zero-padded to 40 bytes,
  then the magic number 0xdb4775248b80fb57 (little-endian).

Keys are compared as bytes. A data block is closed once its size estimate
reaches 256 KiB, as TensorFlow's default table options do, so the bytes
written equal TensorFlow's for the same entries.
"""
from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO, NoReturn

from caudal.checkpoint.crc import crc32c, extend, mask, unmask
from caudal.errors import DataLossError

__all__ = ["TableWriter", "TableReader", "TABLE_MAGIC", "BLOCK_SIZE", "RESTART_INTERVAL"]

TABLE_MAGIC = 0xDB4775248B80FB57
BLOCK_SIZE = 262144
RESTART_INTERVAL = 16
FOOTER_SIZE = 48
_TRAILER_SIZE = 5
_NO_COMPRESSION = 0
_SNAPPY_COMPRESSION = 1


def put_varint(out: bytearray, value: int) -> None:
    """Appends `value` (unsigned) as a base-128 varint."""
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def get_varint(data: bytes | memoryview, pos: int) -> tuple[int, int]:
    """(value, position after it) of the varint at `pos`; IndexError past the end."""
    result = 0
    shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _shortest_separator(start: bytes, limit: bytes) -> bytes:
    """A short key k with start <= k < limit (LevelDB's bytewise rule)."""
    common = 0
    bound = min(len(start), len(limit))
    while common < bound and start[common] == limit[common]:
        common += 1
    if common >= bound:
        return start  # one is a prefix of the other
    byte = start[common]
    if byte < 0xFF and byte + 1 < limit[common]:
        return start[:common] + bytes([byte + 1])
    return start


def _short_successor(key: bytes) -> bytes:
    """A short key >= `key`: its first byte that is not 0xff, incremented, ends it."""
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


class _BlockBuilder:
    def __init__(self, restart_interval: int = RESTART_INTERVAL):
        self.restart_interval = restart_interval
        self.reset()

    def reset(self) -> None:
        self.buffer = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last_key = b""

    def empty(self) -> bool:
        return not self.buffer

    def size_estimate(self) -> int:
        return len(self.buffer) + 4 * len(self.restarts) + 4

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.counter < self.restart_interval:
            bound = min(len(key), len(self.last_key))
            while shared < bound and key[shared] == self.last_key[shared]:
                shared += 1
        else:
            self.restarts.append(len(self.buffer))
            self.counter = 0
        buffer = self.buffer
        put_varint(buffer, shared)
        put_varint(buffer, len(key) - shared)
        put_varint(buffer, len(value))
        buffer += key[shared:]
        buffer += value
        self.last_key = key
        self.counter += 1

    def finish(self) -> bytes:
        self.buffer += struct.pack(f"<{len(self.restarts)}I", *self.restarts)
        self.buffer += struct.pack("<I", len(self.restarts))
        return bytes(self.buffer)


class TableWriter:
    """Writes a table to a binary file object; keys must be added in increasing byte order."""

    def __init__(self, file: BinaryIO, block_size: int = BLOCK_SIZE):
        self._file = file
        self._offset = 0
        self._block_size = block_size
        self._data = _BlockBuilder()
        self._index = _BlockBuilder(restart_interval=1)
        self._last_key: bytes | None = None
        self._pending_handle: bytes | None = None
        self._finished = False

    def add(self, key: bytes, value: bytes) -> None:
        if self._finished:
            raise ValueError("add() after finish()")
        if self._last_key is not None and key <= self._last_key:
            raise ValueError(f"Table keys must be added in increasing order: {key!r} after {self._last_key!r}")
        if self._pending_handle is not None:
            self._index.add(_shortest_separator(self._last_key, key), self._pending_handle)
            self._pending_handle = None
        self._data.add(key, value)
        self._last_key = key
        if self._data.size_estimate() >= self._block_size:
            self._flush()

    def _flush(self) -> None:
        if self._data.empty():
            return
        self._pending_handle = self._write_block(self._data)

    def _write_block(self, block: _BlockBuilder) -> bytes:
        contents = block.finish()
        block.reset()
        handle = bytearray()
        put_varint(handle, self._offset)
        put_varint(handle, len(contents))
        trailer = bytes([_NO_COMPRESSION])
        checksum = mask(extend(crc32c(contents), trailer))
        self._file.write(contents)
        self._file.write(trailer + struct.pack("<I", checksum))
        self._offset += len(contents) + _TRAILER_SIZE
        return bytes(handle)

    def finish(self) -> int:
        """Writes the remaining blocks and the footer; returns the file's size."""
        self._flush()
        self._finished = True
        metaindex_handle = self._write_block(_BlockBuilder())
        if self._pending_handle is not None:
            self._index.add(_short_successor(self._last_key), self._pending_handle)
            self._pending_handle = None
        index_handle = self._write_block(self._index)
        footer = bytearray(metaindex_handle + index_handle)
        footer += bytes(40 - len(footer))
        footer += struct.pack("<Q", TABLE_MAGIC)
        self._file.write(footer)
        self._offset += len(footer)
        return self._offset


class TableReader:
    """Reads a whole table held in memory; every block's checksum is verified.

    `filename` is only used in error messages: a damaged table raises
    DataLossError naming it.
    """

    def __init__(self, data: bytes, filename: str = "<table>"):
        self._data = data
        self._filename = filename
        if len(data) < FOOTER_SIZE:
            self._corrupt("file is too short to be an sstable")
        footer = data[-FOOTER_SIZE:]
        if struct.unpack("<Q", footer[40:])[0] != TABLE_MAGIC:
            self._corrupt("not an sstable (bad magic number)")
        try:
            _, pos = get_varint(footer, 0)
            _, pos = get_varint(footer, pos)  # the metaindex block: nothing we need
            offset, pos = get_varint(footer, pos)
            size, _ = get_varint(footer, pos)
        except (IndexError, ValueError):
            self._corrupt("bad block handle in the footer")
        self._index = self._block(offset, size)

    def _corrupt(self, what: str) -> NoReturn:
        raise DataLossError(None, None, f"Unable to read file ({self._filename}). Perhaps the file is corrupt or was "
                                        f"produced by a newer version of TensorFlow with format changes: {what}")

    def _block(self, offset: int, size: int) -> bytes:
        end = offset + size
        if offset < 0 or end + _TRAILER_SIZE > len(self._data):
            self._corrupt("block handle points past the end of the file")
        contents = self._data[offset:end]
        kind = self._data[end]
        stored = struct.unpack("<I", self._data[end + 1:end + 5])[0]
        if extend(crc32c(contents), bytes([kind])) != unmask(stored):
            self._corrupt("block checksum mismatch")
        if kind == _SNAPPY_COMPRESSION:
            try:
                return snappy_decompress(contents)
            except (IndexError, ValueError):
                self._corrupt("bad snappy-compressed block")
        if kind != _NO_COMPRESSION:
            self._corrupt(f"unknown block compression type {kind}")
        return contents

    def _entries(self, block: bytes) -> Iterator[tuple[bytes, bytes]]:
        try:
            num_restarts = struct.unpack("<I", block[-4:])[0]
            limit = len(block) - 4 - 4 * num_restarts
            if limit < 0:
                self._corrupt("bad block contents")
            pos = 0
            key = b""
            while pos < limit:
                shared, pos = get_varint(block, pos)
                unshared, pos = get_varint(block, pos)
                value_length, pos = get_varint(block, pos)
                if shared > len(key) or pos + unshared + value_length > limit:
                    self._corrupt("bad entry in block")
                key = key[:shared] + block[pos:pos + unshared]
                pos += unshared
                yield key, block[pos:pos + value_length]
                pos += value_length
        except (IndexError, ValueError, struct.error):
            self._corrupt("bad entry in block")

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) in key order."""
        for _, handle in self._entries(self._index):
            try:
                offset, pos = get_varint(handle, 0)
                size, _ = get_varint(handle, pos)
            except (IndexError, ValueError):
                self._corrupt("bad block handle in the index")
            yield from self._entries(self._block(offset, size))


def snappy_decompress(data: bytes) -> bytes:
    """Decodes a raw snappy block (tables written with snappy compression)."""
    length, pos = get_varint(data, 0)
    out = bytearray()
    size = len(data)
    while pos < size:
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal
            n = tag >> 2
            if n >= 60:
                extra = n - 59
                n = int.from_bytes(data[pos:pos + extra], "little")
                pos += extra
            n += 1
            out += data[pos:pos + n]
            pos += n
            continue
        if kind == 1:
            n = ((tag >> 2) & 7) + 4
            distance = ((tag >> 5) << 8) | data[pos]
            pos += 1
        elif kind == 2:
            n = (tag >> 2) + 1
            distance = int.from_bytes(data[pos:pos + 2], "little")
            pos += 2
        else:
            n = (tag >> 2) + 1
            distance = int.from_bytes(data[pos:pos + 4], "little")
            pos += 4
        if distance == 0 or distance > len(out):
            raise ValueError("bad snappy copy offset")
        start = len(out) - distance
        for i in range(n):  # copies may overlap their own output
            out.append(out[start + i])
    if len(out) != length:
        raise ValueError("snappy length mismatch")
    return bytes(out)
