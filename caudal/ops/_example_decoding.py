"""Reading serialized `tf.train.Example` and `SequenceExample` protos into the arrays that the
ParseExampleV2 and ParseSequenceExampleV2 kernels return, with TF's checks and error messages.

Features are read with the `caudal.proto` messages (the wire format is TF's). A scalar input is
parsed as TF's single-example path does (its messages name no example); a vector as its batch path
("Name: <example name or <unknown>>, ..."). Dense shapes whose first dimension is -1 are
variable-length (FixedLenSequenceFeature): each example's values are cut into blocks of the rest of
the shape and padded to the longest, with the default as padding.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib

__all__ = ["parse_examples", "parse_sequence_example"]

# dtype -> (the Feature list that holds it, TF's name of it in messages)
_KINDS = {
    dtypes_lib.float32: ("float_list", "float"),
    dtypes_lib.int64: ("int64_list", "int64"),
    dtypes_lib.string: ("bytes_list", "string"),
}
_KIND_NAMES = {kind: name for kind, name in _KINDS.values()}


def _error(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(None, None, message)


def _numpy_dtype(dtype: dtypes_lib.DType) -> Any:
    return object if dtype is dtypes_lib.string else dtype.as_numpy_dtype


def _as_array(values: Any, dtype: dtypes_lib.DType) -> np.ndarray:
    if dtype is dtypes_lib.string:
        array = np.empty((len(values),), dtype=object)
        array[:] = [bytes(v) for v in values]
        return array
    return np.asarray(values, dtype=dtype.as_numpy_dtype)


def _values(feature: Any) -> tuple[str | None, Any]:
    """The list kind set in a Feature (None when it has none) and its values."""
    kind = feature.WhichOneof("kind")
    return kind, (getattr(feature, kind).value if kind is not None else ())


def _shape_str(dims: Any) -> str:
    return "[" + ",".join("?" if d < 0 else str(int(d)) for d in dims) + "]"


def _text(data: bytes) -> str:
    return bytes(data).decode("utf-8", "replace")


def _example_class() -> Any:
    from caudal.proto.example_pb2 import Example

    return Example


def _decode(message_class: Any, data: bytes, error: str) -> Any:
    """The parsed message; `error` is the message of the InvalidArgumentError otherwise, `{value}` in it
    standing for the data as text (formatted only then: this runs once per Example)."""
    from google.protobuf.message import DecodeError

    try:
        return message_class.FromString(bytes(data))
    except (DecodeError, RuntimeError, ValueError):
        raise _error(error.replace("{value}", _text(data))) from None


# ------------------------------------------------------------------ Examples
def parse_examples(serialized: np.ndarray, names: np.ndarray, sparse_keys: list[str], sparse_types: list[Any],
                   dense_keys: list[str], dense_types: list[Any], dense_shapes: list[list[int]],
                   dense_defaults: list[np.ndarray]) -> tuple[list, list, list, list]:
    """ParseExampleV2's outputs for a scalar or a vector of serialized Examples: sparse indices,
    values and shapes, and dense values, in the order of the keys."""
    single = serialized.ndim == 0
    flat = serialized.reshape(-1)
    example_class = _example_class()
    name_list = [_text(n) for n in np.asarray(names).reshape(-1)] if np.size(names) else []
    examples = [_decode(example_class, data, "Could not parse example input, value: '{value}'")
                for data in flat]

    def where(i: int, key: str) -> str:
        return f"Key: {key}." if single else f"Name: {_name(name_list, i)}, Key: {key}, Index: {i}."

    sparse_out = []
    for key, dtype in zip(sparse_keys, sparse_types):
        kind_wanted, type_name = _KINDS[dtype]
        rows = []
        for i, example in enumerate(examples):
            feature = example.features.feature.get(key)
            kind, values = _values(feature) if feature is not None else (None, ())
            if kind is not None and kind != kind_wanted:
                raise _error(f"{where(i, key)}  Data types don't match. Expected type: {type_name}, "
                             f"Actual type: {_KIND_NAMES[kind]}")
            rows.append(_as_array(values, dtype))
        sparse_out.append(_sparse_of_rows(rows, dtype, single))
    dense_out = []
    for key, dtype, shape, default in zip(dense_keys, dense_types, dense_shapes, dense_defaults):
        dense_out.append(_dense_of_examples(examples, key, dtype, [int(d) for d in shape], np.asarray(default),
                                            single, where, name_list))
    return ([s[0] for s in sparse_out], [s[1] for s in sparse_out], [s[2] for s in sparse_out], dense_out)


def _name(names: list[str], i: int) -> str:
    return names[i] if i < len(names) and names[i] else "<unknown>"


def _sparse_of_rows(rows: list[np.ndarray], dtype: dtypes_lib.DType, single: bool) -> tuple:
    """indices, values and dense shape of one value list per example (one row when `single`)."""
    lengths = [len(r) for r in rows]
    longest = max(lengths, default=0)
    values = np.concatenate(rows) if rows else np.zeros((0,), _numpy_dtype(dtype))
    if values.dtype != np.dtype(_numpy_dtype(dtype)):
        values = values.astype(_numpy_dtype(dtype))
    positions = np.concatenate([np.arange(n, dtype=np.int64) for n in lengths]) if rows else np.zeros(0, np.int64)
    if single:
        return positions.reshape(-1, 1), values, np.array([longest], np.int64)
    batch = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    return np.stack([batch, positions], axis=1), values, np.array([len(rows), longest], np.int64)


def _dense_when_all_present(examples: list[Any], key: str, kind: str, block: int, dtype: dtypes_lib.DType,
                            shape: list[int]) -> np.ndarray | None:
    """The dense batch when every Example has the feature with the right kind and count (the common
    case: one array made from all values at once), else None for the checking path below."""
    values: list[Any] = []
    for example in examples:
        feature = example.features.feature.get(key)
        if feature is None or feature.WhichOneof("kind") != kind:
            return None
        found = getattr(feature, kind).value
        if len(found) != block:
            return None
        values.extend(found)
    out = _as_array(values, dtype)
    return out.reshape([len(examples)] + shape)


def _dense_of_examples(examples: list[Any], key: str, dtype: dtypes_lib.DType, shape: list[int],
                       default: np.ndarray, single: bool, where: Any, names: list[str]) -> np.ndarray:
    kind_wanted, type_name = _KINDS[dtype]
    variable = bool(shape) and shape[0] < 0
    block = int(np.prod(shape[1:] if variable else shape, dtype=np.int64))
    if not variable:
        fast = _dense_when_all_present(examples, key, kind_wanted, block, dtype, shape)
        if fast is not None:
            return fast[0] if single else fast
    rows: list[np.ndarray | None] = []
    for i, example in enumerate(examples):
        feature = example.features.feature.get(key)
        if feature is None:
            rows.append(None)
            continue
        kind, values = _values(feature)
        if kind is not None and kind != kind_wanted:
            raise _error(f"{where(i, key)}  Data types don't match. Data type: {_KIND_NAMES[kind]} but expected "
                         f"type: {type_name}")
        count = len(values)
        if variable:
            if block and count % block:
                if single:
                    raise _error(f"Error while parsing feature with key {key}: number of elements should be "
                                 f"divisible by {block}, found {count} instead")
                raise _error(f"{where(i, key)}  Number of {type_name} values is not a multiple of stride length. "
                             f"Saw {count} values but output shape is: {_shape_str(shape)}")
        elif count != block:
            if single:
                detail = ("Parsing bytes_list failed." if dtype is dtypes_lib.string
                          else f"Some {kind_wanted} slice was not parsed.")
                raise _error(f"Key: {key}.  Can't parse serialized Example: {detail}")
            raise _error(f"{where(i, key)}  Number of {type_name} values != expected.  Values size: {count} but "
                         f"output shape: {_shape_str(shape)}")
        rows.append(_as_array(values, dtype))
    if variable:
        rest = shape[1:]
        blocks = [0 if r is None else (len(r) // block if block else 0) for r in rows]
        longest = max(blocks, default=0)
        out = np.full([len(rows), longest] + rest, default.reshape(()) if default.size == 1 else _zero(dtype),
                      dtype=_numpy_dtype(dtype))
        for i, (row, count) in enumerate(zip(rows, blocks)):
            if count:
                out[i, :count] = row.reshape([count] + rest)
        return out[0] if single else out
    out = np.empty([len(rows)] + shape, dtype=_numpy_dtype(dtype))
    for i, row in enumerate(rows):
        if row is None:
            if default.size == 0:
                prefix = "" if single else f"Name: {_name(names, i)}, "
                raise _error(f"{prefix}Feature: {key} (data type: {type_name}) is required but could not be found.")
            out[i, ...] = default.reshape(shape)  # `out[i] = a 0-d array` would store the array as one object
        else:
            out[i, ...] = row.reshape(shape)
    return out[0] if single else out


def _zero(dtype: dtypes_lib.DType) -> Any:
    return b"" if dtype is dtypes_lib.string else 0


# ------------------------------------------------------------------ SequenceExamples
def parse_sequence_example(serialized: Any, debug_name: Any, context_sparse_keys: list[str],
                           context_sparse_types: list[Any], context_dense_keys: list[str],
                           context_dense_types: list[Any], context_dense_shapes: list[list[int]],
                           context_dense_defaults: list[np.ndarray], list_sparse_keys: list[str],
                           list_sparse_types: list[Any], list_dense_keys: list[str], list_dense_types: list[Any],
                           list_dense_shapes: list[list[int]], missing_assumed_empty: np.ndarray) -> tuple:
    """ParseSequenceExampleV2's outputs for one serialized SequenceExample (a scalar): context
    sparse indices, values and shapes, context dense values, feature-list sparse indices, values
    and shapes, feature-list dense values and their lengths (the number of steps)."""
    from caudal.proto.example_pb2 import SequenceExample

    name = _text(np.asarray(debug_name).reshape(()).item()) if np.size(debug_name) else ""
    shown = name or "<unknown>"
    example = _decode(SequenceExample, np.asarray(serialized).reshape(()).item(),
                      f"Invalid protocol message input, example id: {shown}")
    context = example.context.feature
    context_sparse = []
    for key, dtype in zip(context_sparse_keys, context_sparse_types):
        context_sparse.append(_sparse_of_rows([_context_values(context, key, dtype, shown)], dtype, single=True))
    context_dense = []
    for key, dtype, shape, default in zip(context_dense_keys, context_dense_types, context_dense_shapes,
                                          context_dense_defaults):
        shape = [int(d) for d in shape]
        size = int(np.prod(shape, dtype=np.int64))
        if key in context:
            values = _context_values(context, key, dtype, shown)
        else:
            values = np.asarray(default).reshape(-1)
        if values.shape[0] != size:
            raise _error(f"Inconsistent max number of elements for feature {key}: expected {size}, but found "
                         f"{values.shape[0]}")
        context_dense.append(_as_array(values, dtype).reshape(shape))
    lists = example.feature_lists.feature_list
    list_sparse = []
    for key, dtype in zip(list_sparse_keys, list_sparse_types):
        steps = _list_steps(lists, key, dtype, shown)
        indices, values, shape = _sparse_of_rows(steps, dtype, single=False)
        list_sparse.append((indices, values, shape))
    list_dense, list_lengths = [], []
    for key, dtype, shape, assumed_empty in zip(list_dense_keys, list_dense_types, list_dense_shapes,
                                                np.asarray(missing_assumed_empty).reshape(-1)):
        shape = [int(d) for d in shape]
        size = int(np.prod(shape, dtype=np.int64))
        if key not in lists:
            if not assumed_empty:
                raise _error(f"Name: {shown}, Feature list '{key}' is required but could not be found.  Did you mean "
                             "to include it in feature_list_dense_missing_assumed_empty or "
                             "feature_list_dense_defaults?")
            steps = []
        else:
            steps = _list_steps(lists, key, dtype, shown)
        for index, step in enumerate(steps):
            if step.shape[0] != size:
                raise _error(f"Name: {shown}, Key: {key}, Index: {index}.  Number of values != expected.  values "
                             f"size: {step.shape[0]} but output shape: {_shape_str(shape)}")
        stacked = (np.stack([s.reshape(shape) for s in steps]) if steps
                   else np.zeros([0] + shape, dtype=_numpy_dtype(dtype)))
        if dtype is dtypes_lib.string and not steps:
            stacked = np.full([0] + shape, b"", dtype=object)
        list_dense.append(stacked)
        list_lengths.append(np.array(len(steps), np.int64))
    return context_sparse, context_dense, list_sparse, list_dense, list_lengths


def _context_values(context: Any, key: str, dtype: dtypes_lib.DType, shown: str) -> np.ndarray:
    kind_wanted, type_name = _KINDS[dtype]
    feature = context.get(key)
    kind, values = _values(feature) if feature is not None else (None, ())
    if kind is not None and kind != kind_wanted:
        raise _error(f"Name: {shown}, Context feature: {key}.  Data types don't match. Expected type: {type_name}")
    return _as_array(values, dtype)


def _list_steps(lists: Any, key: str, dtype: dtypes_lib.DType, shown: str) -> list[np.ndarray]:
    kind_wanted, type_name = _KINDS[dtype]
    feature_list = lists.get(key)
    if feature_list is None:
        return []
    steps = []
    for index, feature in enumerate(feature_list.feature):
        kind, values = _values(feature)
        if kind is not None and kind != kind_wanted:
            raise _error(f"Name: {shown}, Feature list: {key}, Index: {index}.  Data types don't match. "
                         f"Expected type: {type_name}")
        steps.append(_as_array(values, dtype))
    return steps
