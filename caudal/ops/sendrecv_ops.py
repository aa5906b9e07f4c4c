"""`_Send` and `_Recv`: the ends of an edge between two tasks of a distributed run.

The master of a distributed Session (caudal.runtime.distributed) cuts every edge whose ends are
placed on different tasks and puts a `_Send` on the producing task's partition and a `_Recv` on
the consuming one, with TensorFlow's op types and attrs (`tensor_name`, `send_device`,
`send_device_incarnation`, `recv_device`, `client_terminated`; a _Recv also carries the static
`shape` the master knew, so the partition keeps its static shapes). The kernels reach the
step's rendezvous through `ctx.step[STEP_KEY]`, which the worker running the partition puts
there: a send leaves the value in the sending task's rendezvous, a receive pulls it from there
(the RecvTensor RPC), so the tensor crosses the wire once. A value on a tf.cond branch that was
not taken travels as "dead", and the receiving side's ops do not run either.

They are internal ops: a program never builds them, and they exist only in partition graphs.
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor_shape import TensorShape, unknown_shape

__all__ = ["STEP_KEY", "TRANSFER_GROUP_ATTR", "rendezvous_key"]

# Where a worker puts the step (its rendezvous and its way to other tasks) in `ctx.step`.
STEP_KEY = "caudal.distributed.step"
# caudal's attr ("_"-prefixed, as TF's internal attrs are) on the _Recvs of a partition that the
# worker pulls from their sending task in one request: those with the same nonzero number.
TRANSFER_GROUP_ATTR = "_transfer_group"


def rendezvous_key(send_device: str, incarnation: int, recv_device: str, tensor_name: str) -> str:
    """TF's rendezvous key: "src_device;src_incarnation (hex);dst_device;tensor_name;frame:iteration"."""
    return f"{send_device};{incarnation & 0xFFFFFFFFFFFFFFFF:016x};{recv_device};{tensor_name};0:0"


def _send_infer(ctx: Any) -> list:
    return []


def _send_kernel(ctx: Any, value: Any, *, tensor_name: str, send_device: str, send_device_incarnation: int,
                 recv_device: str) -> None:
    key = rendezvous_key(send_device, send_device_incarnation, recv_device, tensor_name)
    ctx.step[STEP_KEY].send(key, value)


def _recv_infer(ctx: Any) -> list:
    shape = ctx.attrs.get("shape")
    return [(dtypes_lib.as_dtype(ctx.attrs["tensor_type"]),
             shape if isinstance(shape, TensorShape) else unknown_shape())]


def _recv_kernel(ctx: Any, *, tensor_name: str, send_device: str, send_device_incarnation: int,
                 recv_device: str) -> Any:
    key = rendezvous_key(send_device, send_device_incarnation, recv_device, tensor_name)
    return ctx.step[STEP_KEY].recv(send_device, key)


register_op("_Send", infer=_send_infer, kernel=_send_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("_Recv", infer=_recv_infer, kernel=_recv_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
