"""`tf.decode_raw` (DecodeRaw) and `tf.decode_csv` (DecodeCSV), with TF's semantics and messages.

DecodeRaw reads each string of `bytes` as a vector of `out_type` numbers (little- or big-endian):
the strings must all have one length, a multiple of the type's size; the result has the input's
shape plus that vector's length (unknown statically). DecodeCSV splits each record at
`field_delim` (RFC 4180 quoting when `use_quote_delim`: `"a,b"` is one field, `""` inside it a
quote), keeps the `select_cols` columns when given, and converts each field to its column's type;
an empty field or one equal to `na_value` takes the column's default, and a column whose default
is empty is required. SerializeTensor writes a tensor as a TensorProto (numbers in `tensor_content`,
strings in `string_val`, as TF's kernel writes them) and ParseTensor reads one back, checking its
dtype. None of these ops is differentiable.
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
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules

__all__ = ["decode_raw", "decode_csv", "serialize_tensor", "parse_tensor"]


# ------------------------------------------------------------------ DecodeRaw
_RAW_TYPES = frozenset([dtypes_lib.float16, dtypes_lib.float32, dtypes_lib.float64, dtypes_lib.int32,
                        dtypes_lib.uint16, dtypes_lib.uint8, dtypes_lib.int16, dtypes_lib.int8, dtypes_lib.int64,
                        dtypes_lib.complex64, dtypes_lib.complex128, dtypes_lib.bool_])
# TF's C++ names of the types, as its messages use them.
_CPP_NAMES = {dtypes_lib.float32: "float", dtypes_lib.float64: "double", dtypes_lib.float16: "Eigen::half",
              dtypes_lib.bool_: "bool", dtypes_lib.complex64: "std::complex<float>",
              dtypes_lib.complex128: "std::complex<double>"}


def _decode_raw_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.string]), "bytes")
    out_type = dtypes_lib.as_dtype(ctx.attrs["out_type"])
    if out_type not in _RAW_TYPES:
        raise TypeError(f"Value for attr 'out_type' of {out_type.name} is not in the list of allowed values: "
                        + ", ".join(sorted(t.name for t in _RAW_TYPES)))
    shape = ctx.shape(0)
    return [(out_type, unknown_shape() if shape.ndims is None else shape.concatenate([None]))]


def _decode_raw_kernel(xp: Any, bytes: Any, *, out_type: Any, little_endian: bool) -> Any:
    out_type = dtypes_lib.as_dtype(out_type)
    dtype = np.dtype(out_type.as_numpy_dtype).newbyteorder("<" if little_endian else ">")
    flat = np.asarray(bytes, dtype=object).reshape(-1)  # not bytes_: NumPy drops trailing NULs of those
    size = len(flat[0]) if flat.size else 0
    for i, item in enumerate(flat):
        if len(item) != size:
            raise InvalidArgumentError(None, None, "DecodeRaw requires input strings to all be the same size, but "
                                                   f"element {i} has size {size} != {len(item)}")
    if size % dtype.itemsize:
        name = _CPP_NAMES.get(out_type, out_type.name)
        raise InvalidArgumentError(None, None, f"Input to DecodeRaw has length {size} that is not a multiple of "
                                               f"{dtype.itemsize}, the size of {name}")
    count = size // dtype.itemsize
    data = np.frombuffer(b"".join(flat), dtype=dtype) if flat.size else np.zeros((0,), dtype)
    return xp.asarray(data.astype(dtype.newbyteorder("="), copy=True).reshape(np.shape(bytes) + (count,)))


register_op("DecodeRaw", infer=_decode_raw_infer, kernel=_decode_raw_kernel, grad=NOT_DIFFERENTIABLE)


def decode_raw(input_bytes: Any = None, out_type: Any = None, little_endian: bool = True, name: str | None = None,
               bytes: Any = None) -> Tensor:
    """`tf.decode_raw` / `tf.io.decode_raw`: each string as a vector of `out_type` numbers (TF1's
    older argument name `bytes` is accepted)."""
    if bytes is not None:
        if input_bytes is not None:
            raise ValueError("Cannot specify both 'input_bytes' and 'bytes'.")
        input_bytes = bytes
    if out_type is None:
        raise TypeError("decode_raw() missing required argument: 'out_type'")
    graph = input_bytes.graph if isinstance(input_bytes, Tensor) else get_default_graph()
    with graph.as_default(), graph.name_scope(name or "DecodeRaw") as scope:
        data = convert_to_tensor(input_bytes, dtype=dtypes_lib.string, name="bytes")
        return apply_op("DecodeRaw", [data], {"out_type": dtypes_lib.as_dtype(out_type).base_dtype,
                                              "little_endian": bool(little_endian)}, scope)


# ------------------------------------------------------------------ DecodeCSV
_CSV_TYPES = frozenset([dtypes_lib.float32, dtypes_lib.float64, dtypes_lib.int32, dtypes_lib.int64,
                        dtypes_lib.string])
_TYPE_WORDS = {dtypes_lib.float32: "float", dtypes_lib.float64: "double", dtypes_lib.int32: "int32",
               dtypes_lib.int64: "int64"}
_INTEGER = re.compile(rb"\s*[+-]?\d+\s*\Z")
_QUOTE = ord('"')
_BAD_QUOTED = "Quoted field has to end with quote followed by delim or end"


def _decode_csv_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.string]), "records")
    types = [dtypes_lib.as_dtype(t) for t in ctx.attrs["OUT_TYPE"]]
    for i, dtype in enumerate(types):
        if ctx.dtype(1 + i) != dtype:
            raise TypeError(f"Input 'record_defaults' of 'DecodeCSV' Op has type {ctx.dtype(1 + i).name} that does "
                            f"not match expected type of {dtype.name}.")
        shape = ctx.shape(1 + i)
        if shape.ndims is not None and shape.ndims > 1:
            raise ValueError(f"Shape must be at most rank 1 but is rank {shape.ndims}")
    return [(dtype, ctx.shape(0)) for dtype in types]


def _split_record(record: bytes, delim: int, use_quote_delim: bool) -> list[bytes]:
    """The fields of one record (none for an empty record), quotes removed; an empty field, quoted or
    not, is b"" (missing)."""
    fields: list[bytes] = []
    size = len(record)
    if size == 0:
        return fields
    pos = 0
    while True:
        if use_quote_delim and pos < size and record[pos] == _QUOTE:
            chunk = bytearray()
            pos += 1
            while True:
                if pos >= size:
                    raise InvalidArgumentError(None, None, _BAD_QUOTED)
                if record[pos] == _QUOTE:
                    if pos + 1 < size and record[pos + 1] == _QUOTE:
                        chunk.append(_QUOTE)
                        pos += 2
                        continue
                    pos += 1
                    break
                chunk.append(record[pos])
                pos += 1
            if pos < size and record[pos] != delim:
                raise InvalidArgumentError(None, None, _BAD_QUOTED)
            fields.append(bytes(chunk))
        else:
            end = record.find(bytes([delim]), pos)
            field = record[pos:] if end < 0 else record[pos:end]
            if use_quote_delim and (b'"' in field or b"\r" in field or b"\n" in field):
                raise InvalidArgumentError(None, None, "Unquoted fields cannot have quotes/CRLFs inside")
            fields.append(field)
            pos = size if end < 0 else end
        if pos >= size:
            return fields
        pos += 1  # the delimiter
        if pos == size:
            fields.append(b"")
            return fields


def _convert_field(field: bytes, dtype: dtypes_lib.DType, column: int, record: int) -> Any:
    if dtype is dtypes_lib.string:
        return field
    bad = InvalidArgumentError(None, None, f"Field {column} in record {record} is not a valid {_TYPE_WORDS[dtype]}: "
                                           f"{field.decode('utf-8', 'replace')}")
    if dtype.is_integer:
        if not _INTEGER.match(field):
            raise bad
        value = int(field)
        if not dtype.min <= value <= dtype.max:
            raise bad
        return value
    try:
        text = field.decode("ascii").strip()
        if "_" in text:
            raise ValueError(text)
        return float(text)
    except (UnicodeDecodeError, ValueError):
        raise bad from None


def _decode_csv_kernel(xp: Any, records: Any, *record_defaults: Any, OUT_TYPE: list, field_delim: str,
                       use_quote_delim: bool, na_value: str, select_cols: list) -> Any:
    if len(field_delim) != 1:
        raise InvalidArgumentError(None, None, "field_delim should be only 1 char")
    types = [dtypes_lib.as_dtype(t) for t in OUT_TYPE]
    for i, default in enumerate(record_defaults):
        if np.size(default) > 1:
            raise InvalidArgumentError(None, None, f"There should only be 1 default per field but field {i} has "
                                                   f"{np.size(default)}")
    delim = field_delim.encode("latin-1")[0]
    na = na_value.encode("utf-8")
    selected = list(select_cols or [])
    flat = np.asarray(records).reshape(-1)
    columns = [np.empty(flat.shape, dtype=object if t is dtypes_lib.string else t.as_numpy_dtype) for t in types]
    for r, record in enumerate(flat):
        fields = _split_record(bytes(record), delim, use_quote_delim)
        if selected:
            fields = [fields[c] for c in selected if c < len(fields)]
        if len(fields) != len(types):
            raise InvalidArgumentError(None, None, f"Expect {len(types)} fields but have {len(fields)} in record {r}")
        for c, (field, dtype) in enumerate(zip(fields, types)):
            if not field or (na and field == na):
                default = np.asarray(record_defaults[c]).reshape(-1)
                if default.size == 0:
                    raise InvalidArgumentError(None, None, f"Field {c} is required but missing in record {r}!")
                columns[c][r] = default[0]
            else:
                columns[c][r] = _convert_field(field, dtype, c, r)
    shape = np.shape(records)
    return _single(tuple(xp.asarray(col.reshape(shape)) if col.dtype != object else col.reshape(shape)
                         for col in columns))


def _single(outputs: tuple) -> Any:
    return outputs[0] if len(outputs) == 1 else outputs


register_op("DecodeCSV", infer=_decode_csv_infer, kernel=_decode_csv_kernel, grad=NOT_DIFFERENTIABLE)


def _default_tensor(default: Any, name: str) -> Tensor:
    """A record default as TF converts it: numbers in a Python list take Python's types."""
    if isinstance(default, (list, tuple)):
        default = [v.item() if isinstance(v, np.generic) else v for v in default]
    return convert_to_tensor(default, name=name)


def decode_csv(records: Any, record_defaults: list[Any], field_delim: str = ",", use_quote_delim: bool = True,
               name: str | None = None, na_value: str = "", select_cols: list[int] | None = None) -> list[Tensor]:
    """`tf.decode_csv` / `tf.io.decode_csv`: one Tensor per column (of `records`' shape), typed
    as its `record_defaults` entry (float32, float64, int32, int64 or string; an empty default makes
    the column required)."""
    if select_cols is not None:
        if any(select_cols[i] >= select_cols[i + 1] for i in range(len(select_cols) - 1)):
            raise ValueError("select_cols is not strictly increasing.")
        if select_cols and select_cols[0] < 0:
            raise ValueError("select_cols contains negative values.")
        if len(select_cols) != len(record_defaults):
            raise ValueError("Length of select_cols and record_defaults do not match.")
    graph = records.graph if isinstance(records, Tensor) else get_default_graph()
    with graph.as_default(), graph.name_scope(name or "DecodeCSV") as scope:
        records_t = convert_to_tensor(records, dtype=dtypes_lib.string, name="records")
        defaults = [_default_tensor(d, f"record_defaults_{i}") for i, d in enumerate(record_defaults)]
        for d in defaults:
            if d.dtype.base_dtype not in _CSV_TYPES:
                raise TypeError(f"Value passed to parameter 'record_defaults' has DataType {d.dtype.base_dtype.name} "
                                "not in list of allowed values: float32, float64, int32, int64, string")
        op = make_op("DecodeCSV", [records_t] + defaults,
                     {"OUT_TYPE": [d.dtype.base_dtype for d in defaults], "field_delim": field_delim,
                      "use_quote_delim": bool(use_quote_delim), "na_value": na_value,
                      "select_cols": list(select_cols or [])}, scope)
    return list(op.outputs)



# ------------------------------------------------------------------ SerializeTensor / ParseTensor
def _serialize_tensor_infer(ctx: InferContext) -> list:
    return [(dtypes_lib.string, TensorShape([]))]


def _serialize_tensor_kernel(xp: Any, tensor: Any, *, T: Any) -> Any:
    from caudal.framework.tensor_util import shape_to_proto
    from caudal.proto import tensor_pb2

    dtype = dtypes_lib.as_dtype(T)
    array = np.asarray(tensor)
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum, tensor_shape=shape_to_proto(array.shape))
    if dtype is dtypes_lib.string:
        proto.string_val.extend(bytes(v) for v in array.reshape(-1))
    elif array.size:
        proto.tensor_content = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return np.array(proto.SerializeToString(), dtype=object)


register_op("SerializeTensor", infer=_serialize_tensor_infer, kernel=_serialize_tensor_kernel,
            grad=NOT_DIFFERENTIABLE)


def serialize_tensor(tensor: Any, name: str | None = None) -> Tensor:
    """`tf.io.serialize_tensor`: a scalar string holding `tensor` as a serialized TensorProto."""
    x = convert_to_tensor(tensor)
    return apply_op("SerializeTensor", [x], {"T": x.dtype.base_dtype}, name or "SerializeTensor")


def _parse_tensor_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.string]), "serialized")
    ctx.shape(0).with_rank(0)
    return [(dtypes_lib.as_dtype(ctx.attrs["out_type"]), unknown_shape())]


def _parse_tensor_kernel(xp: Any, serialized: Any, *, out_type: Any) -> Any:
    import base64

    from google.protobuf.message import DecodeError

    from caudal.framework.tensor_util import MakeNdarray
    from caudal.proto import tensor_pb2

    data = bytes(np.asarray(serialized).item())
    try:
        proto = tensor_pb2.TensorProto.FromString(data)
    except DecodeError:
        raise InvalidArgumentError(None, None, "Could not parse `serialized` as TensorProto, base64: "
                                               f"{base64.b64encode(data).decode('ascii')}") from None
    dtype = dtypes_lib.as_dtype(out_type)
    if proto.dtype != dtype.as_datatype_enum:
        found = dtypes_lib.as_dtype(proto.dtype) if proto.dtype else None
        names = [_CPP_NAMES.get(t, t.name) if t is not None else "invalid" for t in (found, dtype)]
        raise InvalidArgumentError(None, None, f"Type mismatch between parsed tensor ({names[0]}) and dtype "
                                               f"({names[1]})")
    value = MakeNdarray(proto)
    return value if dtype is dtypes_lib.string else xp.asarray(value)


register_op("ParseTensor", infer=_parse_tensor_infer, kernel=_parse_tensor_kernel, grad=NOT_DIFFERENTIABLE)


def parse_tensor(serialized: Any, out_type: Any, name: str | None = None) -> Tensor:
    """`tf.io.parse_tensor`: the tensor a serialized TensorProto holds (unknown static shape);
    its dtype must be `out_type`."""
    data = convert_to_tensor(serialized, dtype=dtypes_lib.string)
    return apply_op("ParseTensor", [data], {"out_type": dtypes_lib.as_dtype(out_type).base_dtype},
                    name or "ParseTensor")
