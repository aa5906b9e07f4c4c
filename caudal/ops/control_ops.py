"""Identity, NoOp, StopGradient and the grouping helpers `group`, `tuple`, `with_dependencies`."""
from __future__ import annotations

import builtins
from typing import Any

from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, apply_op, get_default_graph
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.ops import _rules

__all__ = ["identity", "no_op", "group", "tuple", "stop_gradient", "with_dependencies"]


register_op("Identity", infer=_rules.same_as_input(), kernel=lambda xp, x: x, grad=lambda op, grad: [grad])
register_op("StopGradient", infer=_rules.same_as_input(), kernel=lambda xp, x: x, grad=NOT_DIFFERENTIABLE)
register_op("NoOp", infer=lambda ctx: [], kernel=lambda xp: None, grad=NOT_DIFFERENTIABLE)


def _identity_n_infer(ctx: InferContext) -> list:
    return [(ctx.dtype(i), ctx.shape(i)) for i in builtins.range(len(ctx.inputs))]


register_op("IdentityN", infer=_identity_n_infer, kernel=lambda xp, *xs: xs, grad=lambda op, *grads: list(grads))


def identity(input: Any, name: str | None = None) -> Tensor:
    """Returns a tensor with the same value; on a variable, reads it at this point of the run."""
    x = convert_to_tensor(input)
    return apply_op("Identity", [x], {"T": x.dtype.base_dtype}, name or "Identity")


def stop_gradient(input: Any, name: str | None = None) -> Tensor:
    """The same value, but gradients do not flow through it."""
    x = convert_to_tensor(input)
    return apply_op("StopGradient", [x], {"T": x.dtype.base_dtype}, name or "StopGradient")


def no_op(name: str | None = None) -> Operation:
    return get_default_graph().create_op("NoOp", [], {}, name or "NoOp")


def _as_op(value: Any) -> Operation:
    if hasattr(value, "_as_graph_element") and not isinstance(value, (Tensor, Operation)):
        value = value._as_graph_element()
    if isinstance(value, Tensor):
        return value.op
    if isinstance(value, Operation):
        return value
    raise TypeError(f"Expected a Tensor or Operation, got {value!r}")


def group(*inputs: Any, name: str | None = None) -> Operation:
    """An op that runs all `inputs` (tensors or ops) and outputs nothing."""
    ops: list[Operation] = []
    for value in inputs:
        if isinstance(value, (list, builtins.tuple)):
            ops.extend(_as_op(v) for v in value)
        elif value is not None:
            ops.append(_as_op(value))
    graph = ops[0].graph if ops else get_default_graph()
    with graph.as_default(), graph.control_dependencies(ops):
        return no_op(name=name or "group_deps")


def with_dependencies(dependencies: Any, output_tensor: Any, name: str | None = None) -> Tensor:
    """`output_tensor`'s value, produced only after `dependencies` ran."""
    with get_default_graph().name_scope(name or "control_dependency") as scope:
        with get_default_graph().control_dependencies(dependencies):
            if isinstance(output_tensor, Operation):
                return group(output_tensor, name=scope[:-1] + "/")
            output = convert_to_tensor(output_tensor)
            return apply_op("Identity", [output], {"T": output.dtype.base_dtype}, scope[:-1] + "/")


def tuple(tensors: Any, name: str | None = None, control_inputs: Any = None) -> list[Any]:  # noqa: A001
    """Identities of `tensors` that are ready only when all of them are."""
    with get_default_graph().name_scope(name or "tuple"):
        gating = [t for t in tensors if t is not None]
        if control_inputs:
            gating = gating + list(control_inputs)
        gate = group(*gating)
        return [with_dependencies([gate], t) if isinstance(t, Tensor) else t for t in tensors]
