"""TF's lookup-table ops, with each table a Session resource (caudal.runtime.resources):

- HashTableV2: makes (once per Session, keyed by `shared_name`, else the node's name) an empty,
  uninitialized table and outputs it as a resource handle;
- LookupTableImportV2: fills a table from key and value tensors (what `KeyValueTensorInitializer`
  runs); InitializeTableFromTextFileV2: from the lines of a text file (the whole line or a
  delimited column as key or value, or the line number plus `offset`), reading at most
  `vocab_size` lines. As in TF, a key given two different values fails ("HashTable has
  different value for same key"), and initializing an initialized table keeps its contents,
  failing only when the number of entries differs (TF compares no more);
- LookupTableFindV2: each key's value, or `default_value` (a scalar, or one per key); "Table not
  initialized." before an initializer ran; LookupTableSizeV2: the number of entries (0 before
  initialization).

A run that fails leaves its tables as they were (the resource's snapshot). The file reader
follows TF's: lines end at "\\n" (a trailing "\\r" is dropped), an empty line is an error naming
its position (byte offset + 1), integers may carry surrounding spaces. None of the ops is
differentiable.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal import errors
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import InferContext, Operation
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.resource import Resource
from caudal.framework.tensor_shape import TensorShape

__all__ = ["TableResource", "WHOLE_LINE", "LINE_NUMBER"]

WHOLE_LINE = -2
LINE_NUMBER = -1


def _key_of(value: Any, dtype: dtypes_lib.DType) -> Any:
    """A hashable Python key for one element of a `dtype` tensor."""
    if dtype is dtypes_lib.string:
        return value if isinstance(value, bytes) else str(value).encode()
    if dtype.is_integer:
        return int(value)
    if dtype.is_bool:
        return bool(value)
    return float(value)


def _dims(shape: Any) -> str:
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


def _shown(key: Any) -> str:
    return key.decode(errors="replace") if isinstance(key, bytes) else str(key)


class TableResource(Resource):
    """One table's contents in one Session; writes replace the dict, so a snapshot is a reference."""

    __slots__ = ("key_dtype", "value_dtype", "entries", "initialized")

    def __init__(self, key_dtype: dtypes_lib.DType, value_dtype: dtypes_lib.DType):
        self.key_dtype = key_dtype
        self.value_dtype = value_dtype
        self.entries: dict = {}
        self.initialized = False

    def snapshot(self) -> Any:
        return self.entries, self.initialized

    def restore(self, snapshot: Any) -> None:
        self.entries, self.initialized = snapshot

    def initialize(self, pairs: list[tuple[Any, Any]], op: Any) -> None:
        """Fills the table from (key, value) pairs, with TF's checks. Like TF, a table already
        initialized only compares the number of entries and keeps its contents."""
        if self.initialized:
            if len(pairs) != len(self.entries):
                raise errors.FailedPreconditionError(None, op, "Table was already initialized with different data.")
            return
        entries: dict = {}
        for key, value in pairs:
            found = entries.get(key, _MISSING)
            if found is _MISSING:
                entries[key] = value
            elif found != value:
                raise errors.FailedPreconditionError(None, op, f"HashTable has different value for same key. Key "
                                                               f"{_shown(key)} has {_shown(found)} and trying to "
                                                               f"add value {_shown(value)}")
        self.entries = entries
        self.initialized = True


_MISSING = object()


# ------------------------------------------------------------------ HashTableV2
def _hash_table_infer(ctx: InferContext) -> list:
    for attr, default in (("container", ""), ("shared_name", ""), ("use_node_name_sharing", False)):
        ctx.attrs.setdefault(attr, default)
    return [(dtypes_lib.resource, TensorShape([]))]


def _hash_table_bind(op: Operation) -> dict:
    shared = op._attrs.get("shared_name") or ""
    shared = shared.decode() if isinstance(shared, bytes) else shared
    return {"key": ("table", shared or op.name)}


def _hash_table_kernel(ctx: Any, *, key: tuple, key_dtype: Any, value_dtype: Any) -> TableResource:
    return ctx.resource(key, lambda: TableResource(key_dtype, value_dtype))


register_op("HashTableV2", infer=_hash_table_infer, kernel=_hash_table_kernel, bind=_hash_table_bind,
            grad=NOT_DIFFERENTIABLE, stateful=True)


# --------------------------------------------------------- LookupTableImportV2
def _import_infer(ctx: InferContext) -> list:
    return []


def _import_kernel(ctx: Any, table: TableResource, keys: Any, values: Any, *, op: Any) -> tuple:
    keys, values = np.asarray(keys), np.asarray(values)
    if keys.shape != values.shape:
        raise errors.InvalidArgumentError(None, op, f"Expected shape {list(keys.shape)} for value, got "
                                                    f"{list(values.shape)}")
    pairs = [(_key_of(k, table.key_dtype), _key_of(v, table.value_dtype))
             for k, v in zip(keys.reshape(-1), values.reshape(-1))]
    table.initialize(pairs, op)
    return ()


register_op("LookupTableImportV2", infer=_import_infer, kernel=_import_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)


# ------------------------------------------------ InitializeTableFromTextFileV2
def _text_file_infer(ctx: InferContext) -> list:
    for attr, default in (("vocab_size", -1), ("delimiter", "\t"), ("offset", 0)):
        ctx.attrs.setdefault(attr, default)
    return []


def _read_lines(filename: str, op: Any) -> list[tuple[bytes, int]]:
    """(line, position of its first byte + 1) for every line, TF's way."""
    try:
        with open(filename, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, op, f"{filename}; No such file or directory") from None
    lines, at = [], 0
    while at < len(data):
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        line = data[at:end]
        lines.append((line[:-1] if line.endswith(b"\r") else line, at + 1))
        at = end + 1
    return lines


def _parse_field(text: bytes, dtype: dtypes_lib.DType, line_number: int, op: Any) -> Any:
    if dtype is dtypes_lib.string:
        return text
    stripped = text.strip()
    try:
        if dtype.is_integer:
            value = int(stripped)
            info = np.iinfo(dtype.as_numpy_dtype)
            if not info.min <= value <= info.max:
                raise ValueError
            return value
        return float(stripped)
    except ValueError:
        raise errors.InvalidArgumentError(None, op, f"Field {text.decode(errors='replace')} in line {line_number} "
                                                    f"is not a valid {dtype.name}.") from None


def _field(line: bytes, fields: list, index: int, dtype: dtypes_lib.DType, number: int, offset: int,
           op: Any) -> Any:
    """The key or value column `index` of one line (the line number plus `offset` for LINE_NUMBER)."""
    if index == LINE_NUMBER:
        return number + offset
    return _parse_field(line if index == WHOLE_LINE else fields[index], dtype, number, op)


def _text_file_kernel(ctx: Any, table: TableResource, filename: Any, *, key_index: int, value_index: int,
                      vocab_size: int, delimiter: str, offset: int, op: Any) -> tuple:
    name = np.asarray(filename).item()
    name = name.decode() if isinstance(name, bytes) else str(name)
    delim = delimiter.encode() if isinstance(delimiter, str) else delimiter
    pairs = []
    lines = _read_lines(name, op)
    wanted = len(lines) if vocab_size < 0 else min(vocab_size, len(lines))
    columns_needed = max(key_index, value_index) + 1
    for number, (line, position) in enumerate(lines[:wanted]):
        if not line:
            raise errors.InvalidArgumentError(None, op, f"Invalid content in {name}: empty line found at position "
                                                        f"{position}.")
        fields = line.split(delim) if columns_needed > 0 else [line]
        if len(fields) < columns_needed:
            raise errors.InvalidArgumentError(None, op, f"Invalid number of columns in {name} line {number} "
                                                        f"({line.decode(errors='replace')}) : expected at least "
                                                        f"{columns_needed} got {len(fields)}")
        pairs.append((_field(line, fields, key_index, table.key_dtype, number, offset, op),
                      _field(line, fields, value_index, table.value_dtype, number, offset, op)))
    if vocab_size > 0 and len(lines) < vocab_size:
        raise errors.InvalidArgumentError(None, op, f"Invalid vocab_size in {name}: expected {vocab_size} but got "
                                                    f"{len(lines)}")
    table.initialize(pairs, op)
    return ()


register_op("InitializeTableFromTextFileV2", infer=_text_file_infer, kernel=_text_file_kernel,
            grad=NOT_DIFFERENTIABLE, stateful=True)


# ----------------------------------------------------------- LookupTableFindV2
def _find_infer(ctx: InferContext) -> list:
    return [(ctx.dtype(2), ctx.shape(1))]


def _find_kernel(xp: Any, table: TableResource, keys: Any, default_value: Any) -> Any:
    """Each key's value; a missing key takes the default (a scalar, or one per key)."""
    if not table.initialized:
        raise errors.FailedPreconditionError(None, None, "Table not initialized.")
    keys = np.asarray(keys)
    default = np.asarray(default_value)
    if default.ndim and default.shape != keys.shape:
        raise errors.InvalidArgumentError(None, None, f"Expected shape [] or {_dims(keys.shape)} for default value, "
                                                      f"got {_dims(default.shape)}")
    entries, key_dtype = table.entries, table.key_dtype
    found = [entries.get(_key_of(k, key_dtype), _MISSING) for k in keys.reshape(-1)]
    fills = [default.item()] * len(found) if not default.ndim else default.reshape(-1).tolist()
    out = np.empty(keys.shape, dtype=default.dtype)
    out.reshape(-1)[:] = [fill if v is _MISSING else v for v, fill in zip(found, fills)]
    return out


register_op("LookupTableFindV2", infer=_find_infer, kernel=_find_kernel, grad=NOT_DIFFERENTIABLE)


# ----------------------------------------------------------- LookupTableSizeV2
def _size_infer(ctx: InferContext) -> list:
    return [(dtypes_lib.int64, TensorShape([]))]


def _size_kernel(xp: Any, table: TableResource) -> Any:
    return np.int64(len(table.entries))


register_op("LookupTableSizeV2", infer=_size_infer, kernel=_size_kernel, grad=NOT_DIFFERENTIABLE)
