"""RecvTensorResponse bytes written and read without protobuf objects equal protobuf's own."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("grpc")

from caudal.proto import worker_pb2  # noqa: E402
from caudal.runtime.distributed import tensor_coding  # noqa: E402
from caudal.runtime.distributed.tensor_coding import tensor_from_proto, tensor_to_proto  # noqa: E402
from caudal.runtime.plan import DEAD  # noqa: E402

VALUES = [
    np.arange(12, dtype=np.float32).reshape(3, 4),
    np.random.default_rng(0).standard_normal([200, 300]),            # float64, a 480 KB payload
    np.float32(2.5), np.array(7, np.int64), np.array([True, False, True]),
    np.arange(6, dtype=np.int8).reshape(1, 2, 3), np.array([1 + 2j, 3 - 1j], np.complex64),
    np.arange(10, dtype=np.uint16)[::2],                              # not contiguous
    np.zeros([0, 3], np.float32),                                     # empty: through protobuf
    np.array([b"a", b"bc"], dtype=object),                            # strings: through protobuf
]


def _protobuf_response(value: Any) -> worker_pb2.RecvTensorResponse:
    if value is DEAD:
        return worker_pb2.RecvTensorResponse(is_dead=True)
    return worker_pb2.RecvTensorResponse(tensor=tensor_to_proto(value))


def _assert_value(got: Any, expected: Any) -> None:
    expected = np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("index", range(len(VALUES)))
def test_a_response_is_protobufs_bytes_and_reads_back(index: int) -> None:
    value = VALUES[index]
    data = tensor_coding.encode_recv_tensor_response(value)
    assert data == _protobuf_response(value).SerializeToString()
    _assert_value(tensor_coding.decode_recv_tensor_response(data), value)
    _assert_value(tensor_from_proto(worker_pb2.RecvTensorResponse.FromString(data).tensor), value)


def test_a_group_response_holds_each_value_and_dead_ones() -> None:
    values = VALUES[:4] + [DEAD] + VALUES[8:]
    data = tensor_coding.encode_recv_tensors_response(values)
    expected = worker_pb2.RecvTensorsResponse(tensor=[_protobuf_response(v) for v in values])
    assert data == expected.SerializeToString()
    decoded = tensor_coding.decode_recv_tensors_response(data)
    assert len(decoded) == len(values) and decoded[4] is DEAD
    for got, value in zip(decoded, values):
        if value is not DEAD:
            _assert_value(got, value)


def test_read_arrays_view_the_message_aligned_and_read_only() -> None:
    for shift in range(8):  # whatever offset the payload lands at in the message
        value = np.arange(5 + shift, dtype=np.float64)
        got = tensor_coding.decode_recv_tensors_response(
            tensor_coding.encode_recv_tensors_response([np.zeros(shift, np.int8) + 1, value]))[1]
        assert got.ctypes.data % 8 == 0 and not got.flags.writeable
        np.testing.assert_array_equal(got, value)


def test_bytes_with_fields_this_reader_does_not_know_go_through_protobuf() -> None:
    proto = tensor_to_proto(np.arange(3, dtype=np.int32))
    proto.version_number = 7
    data = worker_pb2.RecvTensorResponse(tensor=proto, send_start_micros=12).SerializeToString()
    np.testing.assert_array_equal(tensor_coding.decode_recv_tensor_response(data), [0, 1, 2])
