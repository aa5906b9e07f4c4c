"""String ops: StringSplit (`tf.string_split`), StringSplitV2 (`tf.strings.split`), StringToNumber
(`tf.strings.to_number`) and StringLength (`tf.strings.length`); `tf.strings.join` is the
StringJoin op the checkpoint ops define.

- StringSplit splits each string of a vector at every character of `delimiter` (into single
  characters when it is empty), dropping empty tokens when `skip_empty`;
- StringSplitV2 splits as Python's `bytes.split(sep, maxsplit)`: runs of whitespace (ends
  trimmed) when `sep` is empty, else at each occurrence of `sep`, keeping empty tokens;

both return a SparseTensor `[batch, longest]` of the tokens. StringToNumber parses each string
as TF does (surrounding whitespace allowed; an integer type refuses fractions, overflow and
trailing text) and fails with "StringToNumberOp could not correctly convert string: ...".
None of them is differentiable.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph, make_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.sparse_tensor import SparseTensor
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules
from caudal.ops.checkpoint_ops import string_join

__all__ = ["string_split", "split", "to_number", "string_to_number", "join", "string_join", "length"]

_STRING = frozenset([dtypes_lib.string])


def _graph_of(value: Any) -> Any:
    return value.graph if isinstance(value, Tensor) else get_default_graph()


def _sparse_of_tokens(xp: Any, rows: list[list[bytes]]) -> tuple[Any, Any, Any]:
    lengths = [len(r) for r in rows]
    values = np.empty((sum(lengths),), dtype=object)
    values[:] = [token for row in rows for token in row]
    batch = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    positions = np.concatenate([np.arange(n, dtype=np.int64) for n in lengths]) if rows else np.zeros(0, np.int64)
    indices = np.stack([batch, positions], axis=1) if rows else np.zeros((0, 2), np.int64)
    return xp.asarray(indices), values, xp.asarray(np.array([len(rows), max(lengths, default=0)], np.int64))


def _split_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _STRING, "input")
    _rules.check_dtype(ctx, 1, _STRING, "delimiter" if ctx.type == "StringSplit" else "sep")
    ctx.shape(0).with_rank(1)
    ctx.shape(1).with_rank(0)
    return [(dtypes_lib.int64, TensorShape([None, 2])), (dtypes_lib.string, TensorShape([None])),
            (dtypes_lib.int64, TensorShape([2]))]


def _check_vector(strings: Any) -> np.ndarray:
    array = np.asarray(strings)
    if array.ndim != 1:
        raise InvalidArgumentError(None, None, f"input must be a vector, got shape: {list(array.shape)}")
    return array


# ------------------------------------------------------------------ StringSplit
def _string_split_kernel(xp: Any, input: Any, delimiter: Any, *, skip_empty: bool) -> tuple[Any, Any, Any]:
    strings = _check_vector(input)
    delim = bytes(np.asarray(delimiter).item())
    rows = []
    for s in strings:
        s = bytes(s)
        if not delim:
            rows.append([s[i:i + 1] for i in range(len(s))])
            continue
        tokens = re.split(b"[" + re.escape(delim) + b"]", s) if s else []
        rows.append([t for t in tokens if t] if skip_empty else tokens)
    return _sparse_of_tokens(xp, rows)


register_op("StringSplit", infer=_split_infer, kernel=_string_split_kernel, grad=NOT_DIFFERENTIABLE)


def string_split(source: Any, delimiter: Any = " ", skip_empty: bool = True, name: str | None = None,
                 sep: Any = None, result_type: str = "SparseTensor") -> SparseTensor:
    """`tf.string_split` (TF1): a SparseTensor `[batch, longest]` of the tokens of each string of
    the vector `source`, split at any character of `delimiter` (`sep` is its newer name)."""
    if sep is not None:
        delimiter = sep
    if result_type != "SparseTensor":
        raise ValueError("caudal's string_split returns SparseTensors only (result_type='SparseTensor')")
    graph = _graph_of(source)
    with graph.as_default(), graph.name_scope(name or "StringSplit"):
        delimiter_t = convert_to_tensor(delimiter, dtype=dtypes_lib.string)
        source_t = convert_to_tensor(source, dtype=dtypes_lib.string)
        op = make_op("StringSplit", [source_t, delimiter_t], {"skip_empty": bool(skip_empty)}, "StringSplit")
    return SparseTensor(*op.outputs)


# ------------------------------------------------------------------ StringSplitV2
def _string_split_v2_kernel(xp: Any, input: Any, sep: Any, *, maxsplit: int) -> tuple[Any, Any, Any]:
    strings = _check_vector(input)
    separator = bytes(np.asarray(sep).item())
    rows = []
    for s in strings:
        s = bytes(s)
        if separator:
            rows.append(s.split(separator, maxsplit))
        else:
            rows.append(s.split(None, maxsplit))
    return _sparse_of_tokens(xp, rows)


register_op("StringSplitV2", infer=_split_infer, kernel=_string_split_v2_kernel, grad=NOT_DIFFERENTIABLE)


def split(input: Any = None, sep: Any = None, maxsplit: int = -1, result_type: str = "SparseTensor",
          source: Any = None, name: str | None = None) -> SparseTensor:
    """`tf.strings.split` (TF1): the tokens of each string of a vector as a SparseTensor
    `[batch, longest]`, split as `bytes.split(sep, maxsplit)` (whitespace when `sep` is None or "")."""
    if source is not None:
        if input is not None:
            raise ValueError("Cannot specify both 'input' and 'source'.")
        input = source
    if result_type != "SparseTensor":
        raise ValueError("caudal's strings.split returns SparseTensors only (result_type='SparseTensor')")
    graph = _graph_of(input)
    with graph.as_default(), graph.name_scope(name or "StringSplit"):
        sep_t = convert_to_tensor("" if sep is None else sep, dtype=dtypes_lib.string)
        input_t = convert_to_tensor(input, dtype=dtypes_lib.string)
        op = make_op("StringSplitV2", [input_t, sep_t], {"maxsplit": int(maxsplit)}, "StringSplitV2")
    return SparseTensor(*op.outputs)


# ------------------------------------------------------------------ StringToNumber
_NUMBER_TYPES = frozenset([dtypes_lib.float32, dtypes_lib.float64, dtypes_lib.int32, dtypes_lib.int64])
_INTEGER = re.compile(rb"\s*[+-]?\d+\s*\Z")
_FLOAT = re.compile(rb"\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf(inity)?|nan)\s*\Z",
                    re.IGNORECASE)


def _to_number_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _STRING, "string_tensor")
    out_type = dtypes_lib.as_dtype(ctx.attrs["out_type"])
    if out_type not in _NUMBER_TYPES:
        raise TypeError(f"Value for attr 'out_type' of {out_type.name} is not in the list of allowed values: "
                        "float, double, int32, int64")
    return [(out_type, ctx.shape(0))]


def parse_number(text: bytes, out_type: dtypes_lib.DType) -> Any:
    """`text` as a number of `out_type`, or None when TF would refuse it."""
    if out_type.is_integer:
        if not _INTEGER.match(text):
            return None
        value = int(text)
        return value if out_type.min <= value <= out_type.max else None
    if not _FLOAT.match(text):
        return None
    return float(text.decode("ascii"))


def _to_number_kernel(xp: Any, string_tensor: Any, *, out_type: Any) -> Any:
    out_type = dtypes_lib.as_dtype(out_type)
    strings = np.asarray(string_tensor)
    out = np.empty(strings.shape, dtype=out_type.as_numpy_dtype)
    flat = out.reshape(-1)
    for i, s in enumerate(strings.reshape(-1)):
        value = parse_number(bytes(s), out_type)
        if value is None:
            raise InvalidArgumentError(None, None, "StringToNumberOp could not correctly convert string: "
                                                   f"{bytes(s).decode('utf-8', 'replace')}")
        flat[i] = value
    return xp.asarray(out)


register_op("StringToNumber", infer=_to_number_infer, kernel=_to_number_kernel, grad=NOT_DIFFERENTIABLE)


def to_number(string_tensor: Any, out_type: Any = dtypes_lib.float32, name: str | None = None) -> Tensor:
    """`tf.strings.to_number` / `tf.string_to_number`: each string parsed as a number of `out_type`."""
    graph = _graph_of(string_tensor)
    with graph.as_default(), graph.name_scope(name or "StringToNumber") as scope:
        strings = convert_to_tensor(string_tensor, dtype=dtypes_lib.string, name="string_tensor")
        return apply_op("StringToNumber", [strings], {"out_type": dtypes_lib.as_dtype(out_type).base_dtype}, scope)


string_to_number = to_number


# StringJoin is registered with the checkpoint ops (the Saver builds it); `join` is its function.
join = string_join


# ------------------------------------------------------------------ StringLength
def _length_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _STRING, "input")
    if ctx.attrs["unit"] not in ("BYTE", "UTF8_CHAR"):
        raise ValueError(f"Value for attr 'unit' of \"{ctx.attrs['unit']}\" is not in the list of allowed values: "
                         "\"BYTE\", \"UTF8_CHAR\"")
    return [(dtypes_lib.int32, ctx.shape(0))]


def _length_kernel(xp: Any, input: Any, *, unit: str) -> Any:
    strings = np.asarray(input)
    if unit == "BYTE":
        counts = [len(s) for s in strings.reshape(-1)]
    else:  # UTF8_CHAR: every byte that does not continue a character starts one
        counts = [sum(1 for b in bytes(s) if b & 0xC0 != 0x80) for s in strings.reshape(-1)]
    return xp.asarray(np.array(counts, np.int32).reshape(strings.shape))


register_op("StringLength", infer=_length_infer, kernel=_length_kernel, grad=NOT_DIFFERENTIABLE)


def length(input: Any, name: str | None = None, unit: str = "BYTE") -> Tensor:
    """`tf.strings.length`: the length of each string in bytes (`unit="BYTE"`) or in UTF-8
    characters (`unit="UTF8_CHAR"`), int32."""
    x = convert_to_tensor(input, dtype=dtypes_lib.string)
    return apply_op("StringLength", [x], {"unit": unit}, name or "StringLength")
