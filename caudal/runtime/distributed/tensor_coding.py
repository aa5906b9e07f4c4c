"""The bytes of the messages that carry tensors, written and read without protobuf message objects.

A received tensor is most of a step's traffic (a ps task's variables, a worker's gradients).
Through protobuf objects its bytes would be copied five times on the way out (`tobytes`, into
the TensorProto, into the response, into the list, by serialization) and twice on the way in.
These functions write the same wire bytes that `RecvTensorResponse.SerializeToString()` gives
(TensorFlow's grpc tensor coding does the same in C++), copying a tensor's memory once, and read
them back as arrays that view the received buffer; RunGraph's feeds (`RunGraphRequest.send`) and
fetches (`RunGraphResponse.recv`) are coded the same way, its other fields by protobuf. Anything
but a plain number array (strings, resources, empty arrays, a TensorProto with other fields) goes
through the protobuf classes.

The messages (caudal/proto/worker.proto, tensor.proto, tensor_shape.proto), by field number:
RecvTensorsResponse{1: repeated RecvTensorResponse}, RecvTensorResponse{1: TensorProto tensor,
2: bool is_dead}, TensorProto{1: DataType dtype, 2: TensorShapeProto tensor_shape, 4: bytes
tensor_content}, TensorShapeProto{2: repeated Dim}, Dim{1: int64 size}; RunGraphRequest{3: repeated
NamedTensorProto send, ...}, RunGraphResponse{1: repeated NamedTensorProto recv, ...},
NamedTensorProto{1: string name, 2: TensorProto tensor}.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor_util import MakeNdarray, make_tensor_proto, shape_to_proto
from caudal.proto import tensor_pb2, worker_pb2
from caudal.runtime.plan import DEAD

__all__ = ["tensor_to_proto", "tensor_from_proto", "encode_recv_tensor_response", "encode_recv_tensors_response",
           "decode_recv_tensor_response", "decode_recv_tensors_response", "encode_run_graph_request",
           "decode_run_graph_request", "encode_run_graph_response", "decode_run_graph_response"]

_LEN = 2  # the wire type of length-delimited fields
_DEAD_RESPONSE = bytes([2 << 3, 1])  # RecvTensorResponse{is_dead: true}
_SIMPLE_DTYPES = {np.dtype(t): dtypes_lib.as_dtype(t).as_datatype_enum
                  for t in (np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64, np.uint8,
                            np.uint16, np.uint32, np.uint64, np.bool_, np.complex64, np.complex128)}
_NUMPY_DTYPES = {enum: dtype for dtype, enum in _SIMPLE_DTYPES.items()}


def tensor_to_proto(value: Any) -> tensor_pb2.TensorProto:
    """A TensorProto of `value`: numbers as raw little-endian bytes (`tensor_content`), as TF sends."""
    array = np.asarray(value)
    if array.dtype in _SIMPLE_DTYPES and array.dtype.byteorder in "=|<":
        proto = tensor_pb2.TensorProto(dtype=dtypes_lib.as_dtype(array.dtype).as_datatype_enum,
                                       tensor_shape=shape_to_proto(list(array.shape)))
        proto.tensor_content = np.ascontiguousarray(array).tobytes()
        return proto
    return make_tensor_proto(array)


def tensor_from_proto(proto: tensor_pb2.TensorProto) -> Any:
    """The array a TensorProto holds (read-only when it is a view of the message's bytes)."""
    if proto.tensor_content:
        np_dtype = np.dtype(dtypes_lib.as_dtype(proto.dtype).as_numpy_dtype)
        if np_dtype in _SIMPLE_DTYPES:
            array = np.frombuffer(proto.tensor_content, dtype=np_dtype)
            return array.reshape([d.size for d in proto.tensor_shape.dim])
    return MakeNdarray(proto)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload_size: int) -> bytes:
    return _varint(number << 3 | _LEN) + _varint(payload_size)


def _tensor_parts(value: Any) -> list[Any]:
    """The TensorProto of `value` as byte strings and buffers to join."""
    array = np.asarray(value)
    enum = _SIMPLE_DTYPES.get(array.dtype)
    if enum is None or array.dtype.byteorder not in "=|<" or array.size == 0:
        return [tensor_to_proto(value).SerializeToString()]
    dims = b"".join(_field(2, len(size)) + size for size in (b"\x08" + _varint(d) if d else b"" for d in array.shape))
    data = memoryview(np.ascontiguousarray(array)).cast("B")
    return [b"\x08" + _varint(enum) + _field(2, len(dims)) + dims + _field(4, data.nbytes), data]


def _size(parts: list[Any]) -> int:
    return sum(len(part) if isinstance(part, bytes) else part.nbytes for part in parts)


def _response_parts(value: Any) -> list[Any]:
    if value is DEAD:
        return [_DEAD_RESPONSE]
    tensor = _tensor_parts(value)
    return [_field(1, _size(tensor))] + tensor


def encode_recv_tensor_response(value: Any) -> bytes:
    """The bytes of RecvTensorResponse for `value` (DEAD: `is_dead`)."""
    return b"".join(_response_parts(value))


def encode_recv_tensors_response(values: list[Any]) -> bytes:
    """The bytes of RecvTensorsResponse for `values`."""
    parts: list[Any] = []
    for value in values:
        response = _response_parts(value)
        parts.append(_field(1, _size(response)))
        parts.extend(response)
    return b"".join(parts)


def _read_varint(data: memoryview, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _fields(data: memoryview, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(field number, wire type, value or payload start, payload end) of the message in data[start:end]."""
    fields = []
    at = start
    while at < end:
        key, at = _read_varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _read_varint(data, at)
            fields.append((number, wire, value, at))
        elif wire == _LEN:
            size, at = _read_varint(data, at)
            fields.append((number, wire, at, at + size))
            at += size
        else:  # fixed-width fields: none of these messages has one
            raise ValueError(f"unexpected wire type {wire}")
    return fields


def _decode_tensor(data: memoryview, start: int, end: int) -> Any:
    enum, dims, content = 0, [], None
    for number, wire, begin, stop in _fields(data, start, end):
        if number == 1 and wire == 0:
            enum = begin
        elif number == 2 and wire == _LEN:
            for dim_number, dim_wire, dim_start, dim_end in _fields(data, begin, stop):
                if dim_number != 2 or dim_wire != _LEN:
                    content = None
                    break
                size = 0
                for size_number, size_wire, value, _ in _fields(data, dim_start, dim_end):
                    if size_number == 1 and size_wire == 0:
                        size = value
                dims.append(size)
        elif number == 4 and wire == _LEN:
            content = (begin, stop)
        else:
            content = None
            break
    dtype = _NUMPY_DTYPES.get(enum)
    if dtype is None or content is None:
        return tensor_from_proto(tensor_pb2.TensorProto.FromString(data[start:end].tobytes()))
    array = np.frombuffer(data[content[0]:content[1]], dtype=dtype)
    if array.ctypes.data % dtype.alignment:
        array = array.copy()  # BLAS and NumPy's fast loops want aligned memory
        array.flags.writeable = False
    return array.reshape(dims)


def _decode_response(data: memoryview, start: int, end: int) -> Any:
    tensor = None
    for number, wire, begin, stop in _fields(data, start, end):
        if number == 2 and wire == 0 and begin:
            return DEAD
        if number == 1 and wire == _LEN:
            tensor = (begin, stop)
    if tensor is None:
        return tensor_from_proto(worker_pb2.RecvTensorResponse.FromString(data[start:end].tobytes()).tensor)
    return _decode_tensor(data, *tensor)


def decode_recv_tensor_response(data: bytes) -> Any:
    """The value a RecvTensorResponse's bytes hold (DEAD when `is_dead`); arrays are read-only."""
    view = memoryview(data)
    return _decode_response(view, 0, len(view))


def decode_recv_tensors_response(data: bytes) -> list[Any]:
    """The values a RecvTensorsResponse's bytes hold, in order."""
    view = memoryview(data)
    return [_decode_response(view, start, end) for number, wire, start, end in _fields(view, 0, len(view))
            if number == 1 and wire == _LEN]


# ------------------------------------------------------------------ RunGraph
def _named_tensors(number: int, items: list[tuple[str, Any]]) -> list[Any]:
    """Field `number` of a message, a NamedTensorProto for each (name, value)."""
    parts: list[Any] = []
    for name, value in items:
        encoded = name.encode()
        tensor = _tensor_parts(value)
        named = [_field(1, len(encoded)) + encoded + _field(2, _size(tensor))] + tensor
        parts.append(_field(number, _size(named)))
        parts.extend(named)
    return parts


def _split_named(data: memoryview, number: int) -> tuple[bytes, list[tuple[str, Any]]]:
    """The bytes of every field but `number` (a message protobuf can parse), and the (name, value) of
    each NamedTensorProto in field `number`."""
    rest: list[Any] = []
    named: list[tuple[str, Any]] = []
    field_start = 0  # each field's key starts where the one before it ends
    for field, wire, begin, end in _fields(data, 0, len(data)):
        if field == number and wire == _LEN:
            name, tensor = "", (begin, begin)  # no tensor field: an empty TensorProto
            for inner, inner_wire, inner_begin, inner_end in _fields(data, begin, end):
                if inner == 1 and inner_wire == _LEN:
                    name = bytes(data[inner_begin:inner_end]).decode()
                elif inner == 2 and inner_wire == _LEN:
                    tensor = (inner_begin, inner_end)
            named.append((name, _decode_tensor(data, *tensor)))
        else:
            rest.append(data[field_start:end])
        field_start = end
    return b"".join(rest), named


def encode_run_graph_request(request: worker_pb2.RunGraphRequest, feeds: list[tuple[str, Any]]) -> bytes:
    """The bytes of `request` with `feeds` as its `send` tensors."""
    return b"".join([request.SerializeToString(), *_named_tensors(3, feeds)])


def decode_run_graph_request(data: bytes) -> tuple[worker_pb2.RunGraphRequest, list[tuple[str, Any]]]:
    """A RunGraphRequest's bytes as (the request without `send`, its (name, value) feeds)."""
    rest, feeds = _split_named(memoryview(data), 3)
    return worker_pb2.RunGraphRequest.FromString(rest), feeds


def encode_run_graph_response(values: list[tuple[str, Any]], status_code: int = 0, message: str = "") -> bytes:
    """The bytes of a RunGraphResponse: the fetched (name, value)s, or an error's code and message."""
    status = worker_pb2.RunGraphResponse(status_code=status_code, status_error_message=message)
    return b"".join([*_named_tensors(1, values), status.SerializeToString()])


def decode_run_graph_response(data: bytes) -> tuple[worker_pb2.RunGraphResponse, list[Any]]:
    """A RunGraphResponse's bytes as (the response without `recv`, the fetched values in order)."""
    rest, values = _split_named(memoryview(data), 1)
    return worker_pb2.RunGraphResponse.FromString(rest), [value for _, value in values]
