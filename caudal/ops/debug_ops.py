"""Debugging ops: CheckNumerics and `add_check_numerics_ops` fail a run when a float tensor holds NaN or
Inf; `tf.Print` prints tensors when it runs."""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, apply_op, get_default_graph
from caudal.framework.registry import register_op
from caudal.framework.resource import Resource
from caudal.framework.tensor import Tensor
from caudal.ops import _rules

__all__ = ["check_numerics", "add_check_numerics_ops", "Print"]


def _check_numerics_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _rules.FLOAT, "tensor")
    return [(dtype, ctx.shape(0))]


def _check_numerics_kernel(xp: Any, tensor: Any, *, message: Any) -> Any:
    has_nan = bool(xp.any(xp.isnan(tensor)))
    has_inf = bool(xp.any(xp.isinf(tensor)))
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


# -------------------------------------------------------------------- Print
def _print_infer(ctx: InferContext) -> list:
    return [(ctx.inputs[0].dtype.base_dtype, ctx.shape(0))]


def _print_format(value: Any, summarize: int) -> str:
    """TF's layout: `[1 2 3...]`, strings as text, nested brackets for higher ranks."""
    array = np.asarray(value)
    if array.dtype == object:
        array = np.array([v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in array.reshape(-1)],
                         dtype=object).reshape(array.shape)
    if array.ndim == 0:
        item = array.item()
        return f"[{item:g}]" if isinstance(item, float) else f"[{item}]"
    flat = array.reshape(-1)
    shown = [f"{v:g}" if isinstance(v, (float, np.floating)) else str(v) for v in flat[:summarize]]
    more = "..." if flat.size > summarize else ""
    return "[" + " ".join(shown) + more + "]"


class _PrintCount(Resource):
    """How often one `tf.Print` op has printed in a Session (for `first_n`)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def snapshot(self) -> int:
        return self.value

    def restore(self, snapshot: int) -> None:
        self.value = snapshot


def _print_kernel(ctx: Any, input: Any, *data: Any, message: str, first_n: int, summarize: int, op: Any) -> Any:
    """Prints `message` and the data tensors to stderr, and passes `input` on."""
    import sys

    printed = ctx.resource(("print", op.name), _PrintCount)
    if first_n < 0 or printed.value < first_n:
        printed.value += 1
        sys.stderr.write(message + "".join(_print_format(d, summarize) for d in data) + "\n")
        sys.stderr.flush()
    return input


register_op("Print", infer=_print_infer, kernel=_print_kernel, stateful=True,
            grad=lambda op, grad: [grad] + [None] * (len(op.inputs) - 1))


def Print(input_: Any, data: Any, message: str | None = None, first_n: int | None = None,  # noqa: N802
          summarize: int | None = None, name: str | None = None) -> Tensor:
    """TF1 `tf.Print`: an identity on `input_` that prints `message` and `data` to stderr when it runs
    (the first `first_n` times; `summarize` elements of each tensor, 3 by default)."""
    from caudal.framework.graph import make_op

    value = convert_to_tensor(input_)
    tensors = [convert_to_tensor(d) for d in (data or [])]
    attrs = {"T": value.dtype.base_dtype, "U": [t.dtype.base_dtype for t in tensors], "message": message or "",
             "first_n": -1 if first_n is None else first_n, "summarize": 3 if summarize is None else summarize}
    return make_op("Print", [value] + tensors, attrs, name or "Print").outputs[0]
