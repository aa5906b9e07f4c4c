"""TensorProto <-> NumPy: `tf.make_tensor_proto` and `tf.make_ndarray`.

The encoding follows TensorFlow's choices, so protos written by either side
read the same: a numeric array of more than one element whose dtype TF packs
(floats, ints except uint16, bfloat16) goes into `tensor_content` as
little-endian bytes; everything else (scalars, bool, uint16, complex,
strings) goes into the typed `*_val` field. On reading, a `*_val` list
shorter than the shape is padded with its last element, and an empty one
means zeros, as in TF.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import to_numpy
from caudal.framework.tensor_shape import TensorShape, as_shape
from caudal.proto import tensor_pb2, tensor_shape_pb2

__all__ = ["make_tensor_proto", "MakeNdarray", "make_ndarray", "tensor_proto_values", "shape_to_proto",
           "shape_from_proto"]

_D = dtypes_lib

# dtypes whose multi-element arrays TF writes as raw tensor_content.
_CONTENT_TYPES = frozenset([_D.float32, _D.float64, _D.int32, _D.uint8, _D.int16, _D.int8, _D.int64,
                            _D.bfloat16, _D.float16, _D.uint32, _D.uint64])

# The typed field holding each dtype's elements.
_VALUE_FIELD = {
    _D.float32: "float_val", _D.float64: "double_val", _D.int32: "int_val", _D.uint8: "int_val",
    _D.int16: "int_val", _D.int8: "int_val", _D.uint16: "int_val", _D.int64: "int64_val",
    _D.uint32: "uint32_val", _D.uint64: "uint64_val", _D.bool_: "bool_val", _D.string: "string_val",
    _D.complex64: "scomplex_val", _D.complex128: "dcomplex_val", _D.float16: "half_val",
    _D.bfloat16: "half_val",
}


def shape_to_proto(shape: Any) -> tensor_shape_pb2.TensorShapeProto:
    """A TensorShapeProto: unknown dims are -1, an unknown rank sets `unknown_rank`."""
    return as_shape(shape).as_proto()


def shape_from_proto(proto: tensor_shape_pb2.TensorShapeProto) -> TensorShape:
    if proto.unknown_rank:
        return TensorShape(None)
    return TensorShape([None if d.size < 0 else d.size for d in proto.dim])


def _bfloat16_bits(array: np.ndarray) -> np.ndarray:
    """float32 values rounded (to nearest even) to bfloat16, as uint16 bit patterns."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    nan = np.isnan(np.asarray(array, dtype=np.float32))
    return np.where(nan, 0x7FC0, rounded).astype(np.uint16)


def _from_bfloat16_bits(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


def make_tensor_proto(values: Any, dtype: Any = None, shape: Any = None, verify_shape: bool = False,
                      allow_broadcast: bool = False) -> tensor_pb2.TensorProto:
    """`tf.make_tensor_proto`: a TensorProto of `values` with TF's dtype inference and layout.

    With `shape`, a single value is broadcast (stored once); fewer values than
    the shape holds are stored as given and padded with the last on reading.
    """
    if isinstance(values, tensor_pb2.TensorProto):
        return values
    if type(values).__name__ == "TensorProto" and hasattr(values, "SerializeToString"):
        return tensor_pb2.TensorProto.FromString(values.SerializeToString())
    if isinstance(values, np.ndarray) and values.size > 1 and values.ndim and not any(values.strides):
        # one value repeated (a broadcast view, e.g. an imported Const): stored once, never materialised
        return make_tensor_proto(values[(0,) * values.ndim].reshape(1), dtype,
                                 values.shape if shape is None else shape)
    dtype = _D.as_dtype(dtype).base_dtype if dtype is not None else None
    if dtype is _D.bfloat16:
        array = np.asarray(to_numpy(values, _D.float32))
    else:
        array = np.asarray(to_numpy(values, dtype))
    if dtype is None:
        dtype = _D.as_dtype(array.dtype)
    if shape is None:
        dims = list(array.shape)
        same_size = True
    else:
        dims = [int(d) for d in as_shape(shape).as_list()]
        size = int(np.prod(dims, dtype=np.int64))
        same_size = size == array.size
        if allow_broadcast:
            if array.shape not in ((1,), ()) and array.size != size:
                raise TypeError(f"Expected Tensor's shape: {tuple(dims)}, but got {array.shape}.")
        else:
            if verify_shape and array.shape != tuple(dims):
                raise TypeError(f"Expected Tensor's shape: {tuple(dims)}, but got {array.shape}.")
            if array.size > size:
                raise ValueError(f"Too many elements provided. Takes at most {size}, but got {array.size}")
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum, tensor_shape=shape_to_proto(dims))
    field = _VALUE_FIELD.get(dtype)
    if field is None:
        raise TypeError(f"Unsupported dtype for a TensorProto: {dtype.name}")
    if same_size and dtype in _CONTENT_TYPES and array.size > 1:
        if dtype is _D.bfloat16:
            proto.tensor_content = _bfloat16_bits(array).astype("<u2").tobytes()
        else:
            proto.tensor_content = np.ascontiguousarray(array, dtype=np.dtype(dtype.as_numpy_dtype).newbyteorder("<")
                                                        ).tobytes()
        return proto
    flat = array.reshape(-1)
    if dtype is _D.string:
        proto.string_val.extend(v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in flat)
    elif dtype is _D.float16:
        proto.half_val.extend(flat.astype(np.float16).view(np.uint16).tolist())
    elif dtype is _D.bfloat16:
        proto.half_val.extend(_bfloat16_bits(flat).tolist())
    elif dtype.is_complex:
        pairs = np.stack([flat.real, flat.imag], axis=-1).reshape(-1)
        getattr(proto, field).extend(pairs.tolist())
    else:
        getattr(proto, field).extend(flat.tolist())
    return proto


def MakeNdarray(tensor: Any) -> np.ndarray:
    """`tf.make_ndarray`: the NumPy array a TensorProto holds (strings as bytes objects), a new writable one."""
    return tensor_proto_values(tensor, lazy=False)


def tensor_proto_values(tensor: Any, lazy: bool = True) -> np.ndarray:
    """A TensorProto's values; with `lazy`, one value repeated over many elements is a read-only zero-stride
    view (GraphDef import: a 57-byte Const declaring billions of elements costs nothing until used)."""
    if not isinstance(tensor, tensor_pb2.TensorProto) and hasattr(tensor, "SerializeToString"):
        tensor = tensor_pb2.TensorProto.FromString(tensor.SerializeToString())
    dtype = _D.as_dtype(tensor.dtype).base_dtype
    shape = [d.size for d in tensor.tensor_shape.dim]
    if any(d < 0 for d in shape):
        raise ValueError(f"A TensorProto's shape has a negative dimension: {shape}")
    count = math.prod(shape)
    if dtype is _D.string:
        values = np.empty(len(tensor.string_val), dtype=object)
        values[:] = list(tensor.string_val)
        return _fill(values, count, np.object_, b"", shape, lazy)
    field = _VALUE_FIELD.get(dtype)
    if field is None:
        raise TypeError(f"Unsupported dtype for a TensorProto: {dtype.name}")
    np_dtype = np.dtype(dtype.as_numpy_dtype)
    if tensor.tensor_content:
        if dtype is _D.bfloat16:
            bits = np.frombuffer(tensor.tensor_content, dtype="<u2")
            return _from_bfloat16_bits(bits).reshape(shape)
        return np.frombuffer(tensor.tensor_content, dtype=np_dtype.newbyteorder("<")).astype(np_dtype).reshape(shape)
    raw = getattr(tensor, field)
    if dtype is _D.float16:
        values = np.array(list(raw), dtype=np.uint16).view(np.float16)
    elif dtype is _D.bfloat16:
        values = _from_bfloat16_bits(np.array(list(raw), dtype=np.uint16))
    elif dtype.is_complex:
        parts = np.array(list(raw), dtype=np.float64).reshape(-1, 2)
        values = (parts[:, 0] + 1j * parts[:, 1]).astype(np_dtype)
    else:
        values = np.array(list(raw), dtype=np_dtype)
    return _fill(values, count, values.dtype, 0, shape, lazy)


# A proto holding one value for more elements than this is read as a read-only broadcast view, not copied.
_LAZY_FILL_ELEMENTS = 1 << 16


def _fill(values: np.ndarray, count: int, np_dtype: Any, zero: Any, shape: list[int], lazy: bool) -> np.ndarray:
    """`values` extended to `count` elements with its last (zeros when empty), as TF reads, shaped `shape`.

    With `lazy`, one value (or none) repeated over many elements costs no
    memory: a zero-stride view, so a 57-byte GraphDef declaring a huge Const
    imports instantly; the repeated values are made only where a kernel uses them.
    """
    if values.size == count:
        return values.reshape(shape)
    if values.size > count:
        return values[:count].reshape(shape)
    if lazy and values.size <= 1 and count > _LAZY_FILL_ELEMENTS:
        one = values[-1:] if values.size else np.full(1, zero, dtype=np_dtype)
        try:
            return np.broadcast_to(one.reshape(()), shape)
        except ValueError:
            raise ValueError(f"A TensorProto's shape {shape} has too many elements") from None
    if count > np.iinfo(np.intp).max // max(np.dtype(np_dtype).itemsize, 1):
        raise ValueError(f"A TensorProto's shape {shape} has too many elements")
    return _fill_flat(values, count, np_dtype, zero).reshape(shape)


def _fill_flat(values: np.ndarray, count: int, np_dtype: Any, zero: Any) -> np.ndarray:
    if values.size == 0:
        result = np.empty(count, dtype=np_dtype)
        result[...] = zero
        return result
    result = np.empty(count, dtype=values.dtype)
    result[:values.size] = values
    result[values.size:] = values[-1]
    return result


make_ndarray = MakeNdarray
