"""CheckNumerics and `add_check_numerics_ops`: fail a run when a float tensor holds NaN or Inf."""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, apply_op, get_default_graph
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.ops import _rules

__all__ = ["check_numerics", "add_check_numerics_ops"]


def _check_numerics_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _rules.FLOAT, "tensor")
    return [(dtype, ctx.shape(0))]


def _check_numerics_kernel(xp: Any, tensor: Any, *, message: Any) -> Any:
    has_nan = bool(np.isnan(tensor).any())
    has_inf = bool(np.isinf(tensor).any())
    if has_nan or has_inf:
        found = "Inf and NaN" if has_nan and has_inf else ("NaN" if has_nan else "Inf")
        text = message.decode() if isinstance(message, bytes) else str(message)
        raise InvalidArgumentError(None, None, f"{text} : Tensor had {found} values")
    return tensor


def _check_numerics_grad(op: Any, grad: Tensor) -> list:
    """The gradient passes through, itself checked, as in TF."""
    message = op.get_attr("message")
    message = message.decode() if isinstance(message, bytes) else message
    return [check_numerics(grad, "Not a number (NaN) or infinity (Inf) values detected in gradient. " + message)]


register_op("CheckNumerics", infer=_check_numerics_infer, kernel=_check_numerics_kernel,
            grad=_check_numerics_grad)


def check_numerics(tensor: Any, message: str, name: str | None = None) -> Tensor:
    """`tensor` unchanged; running it raises InvalidArgumentError "<message> : Tensor had NaN
    values" (or Inf, or Inf and NaN) when it holds any."""
    x = convert_to_tensor(tensor, name="tensor")
    return apply_op("CheckNumerics", [x], {"T": x.dtype.base_dtype, "message": str(message)},
                    name or "CheckNumerics")


_CHECKED_DTYPES = (dtypes_lib.float16, dtypes_lib.float32, dtypes_lib.float64)


def add_check_numerics_ops() -> Operation:
    """Adds a CheckNumerics for every half, float and double output of the default graph's ops,
    each named "<op name>:<output index>" in its message and run after the previous one, and
    returns a group of them, as TF does. Ops inside a `tf.cond` branch are refused, like TF."""
    from caudal.ops.control_ops import group

    graph = get_default_graph()
    previous: list[Operation] = []
    for op in list(graph.get_operations()):
        for output in op.outputs:
            if output.dtype not in _CHECKED_DTYPES:
                continue
            if getattr(op, "_control_flow_context", None) is not None:
                raise ValueError("`tf.add_check_numerics_ops() is not compatible with TensorFlow control flow "
                                 "operations such as `tf.cond()` or `tf.while_loop()`.")
            with graph.control_dependencies(previous):
                previous = [check_numerics(output, message=f"{op.name}:{output.value_index}").op]
    return group(*previous)
