"""Small names of TF1's top-level namespace that are aliases or thin wrappers of what caudal has.

- `get_static_value`, `is_tensor`, `dimension_at_index`, `broadcast_static_shape`,
  `floor_div`, `verify_tensor_all_finite`;
- `AggregationMethod` and `UnconnectedGradients` (the values `tf.gradients` takes);
- `NotDifferentiable` / `NoGradient` / `no_gradient`, which declare an op type
  without a gradient for `gradient_override_map` (an op type caudal registers
  already has its gradient decision: a KeyError, as TF gives for a second
  registration);
- `init_scope` (no control dependencies and no cond or loop context, the name
  scope kept, as in TF's graph mode) and `colocate_with` (accepted; caudal runs
  every op on the host, so it places nothing; it warns as TF does);
- the TF2-behaviour switches TF1 programs call: the `disable_*` ones do nothing
  and the `*_enabled` queries say False, because caudal is TF1 graph mode
  only; the `enable_*` ones raise NotImplementedError.
"""
from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator
from typing import Any

from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import Operation, get_default_graph
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import Dimension, TensorShape, as_shape

__all__ = ["AggregationMethod", "NoGradient", "NotDifferentiable", "UnconnectedGradients", "broadcast_static_shape",
           "colocate_with", "control_flow_v2_enabled", "dimension_at_index",
           "disable_control_flow_v2", "disable_resource_variables", "disable_tensor_equality",
           "disable_v2_tensorshape", "enable_control_flow_v2", "enable_resource_variables", "enable_tensor_equality",
           "enable_v2_behavior", "enable_v2_tensorshape", "executing_eagerly_outside_functions", "floor_div",
           "get_static_value", "init_scope", "is_numeric_tensor", "is_tensor",
           "no_gradient", "resource_variables_enabled",
           "tables_initializer", "verify_tensor_all_finite"]


class AggregationMethod:
    """How `tf.gradients` sums the gradients reaching one tensor (caudal always uses AddN)."""

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


class UnconnectedGradients(enum.Enum):
    """What `tf.gradients` returns for an x that ys do not depend on: None, or zeros."""

    NONE = "none"
    ZERO = "zero"


def get_static_value(tensor: Any, partial: bool = False) -> Any:
    """The value of `tensor` when it is known while the graph is built, else None (`tf.get_static_value`)."""
    from caudal.framework.constant_value import constant_value

    return constant_value(tensor)


def is_tensor(x: Any) -> bool:
    """Whether `x` is a Tensor or a Variable (which TF1 counts as tensors too)."""
    from caudal.variables import Variable

    return isinstance(x, (Tensor, Variable))


def is_numeric_tensor(tensor: Any) -> bool:
    """Whether `tensor` is a Tensor of a number type (not bool, string, resource or variant)."""
    if not isinstance(tensor, Tensor):
        return False
    dtype = tensor.dtype.base_dtype
    return dtype.is_floating or dtype.is_integer or dtype.is_complex


def dimension_at_index(shape: Any, index: int) -> Dimension:
    """The Dimension at `index` of `shape`; unknown (Dimension(None)) when the rank is unknown."""
    shape = as_shape(shape)
    if shape.dims is None:
        return Dimension(None)
    return shape.dims[index]


def broadcast_static_shape(shape_x: TensorShape, shape_y: TensorShape) -> TensorShape:
    """The shape two static shapes broadcast to; incompatible ones are a ValueError, as in TF."""
    x, y = as_shape(shape_x), as_shape(shape_y)
    if x.dims is None or y.dims is None:
        return TensorShape(None)
    a, b = x.as_list(), y.as_list()
    rank = max(len(a), len(b))
    a = [1] * (rank - len(a)) + a
    b = [1] * (rank - len(b)) + b
    result: list[int | None] = []
    for p, q in zip(a, b):
        if p == 1:
            result.append(q)
        elif q == 1:
            result.append(p)
        elif p is None or q is None:
            result.append(p if q is None else q)
        elif p == q:
            result.append(p)
        else:
            raise ValueError("Incompatible shapes for broadcasting. Two shapes are compatible if for each dimension "
                             "pair they are either equal or one of them is 1. Received: "
                             f"{_shape_text(x)} and {_shape_text(y)}.")
    return TensorShape(result)


def _shape_text(shape: TensorShape) -> str:
    dims = ["None" if d is None else str(d) for d in shape.as_list()]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def floor_div(x: Any, y: Any, name: str | None = None) -> Tensor:
    """The FloorDiv op (`tf.floor_div`), named "FloorDiv" by default."""
    from caudal.ops.math_ops import floordiv

    with get_default_graph().name_scope(name or "FloorDiv") as scope:
        return floordiv(x, y, name=scope)


def verify_tensor_all_finite(t: Any = None, msg: str | None = None, name: str | None = None, x: Any = None,
                             message: str | None = None) -> Tensor:
    """`t` itself (an Identity) once a CheckNumerics of it with `msg` has run."""
    from caudal.ops.control_ops import identity
    from caudal.ops.debug_ops import check_numerics

    t = x if t is None else t
    msg = message if msg is None else msg
    graph = get_default_graph()
    with graph.name_scope(name or "VerifyFinite"):
        t = convert_to_tensor(t, name="x")
        check = check_numerics(t, message=msg)
        with graph.control_dependencies([check]):
            return identity(t, name="control_dependency")


def NotDifferentiable(op_type: str) -> None:  # noqa: N802 - TF's name
    """Declares that ops of type `op_type` have no gradient (for `gradient_override_map`)."""
    from caudal.framework import registry

    if not isinstance(op_type, str):
        raise TypeError("op_type must be a string")
    if registry.has_op(op_type) or op_type in registry._GRADIENT_OVERRIDES:
        raise KeyError(f"Registering two gradient with name '{op_type}'!")
    registry._GRADIENT_OVERRIDES[op_type] = registry.NOT_DIFFERENTIABLE


NoGradient = NotDifferentiable
no_gradient = NotDifferentiable


@contextlib.contextmanager
def init_scope() -> Iterator[None]:
    """TF's init_scope in graph mode: no control dependencies and no cond or loop context inside;
    the name scope is kept."""
    with get_default_graph()._outside_control_flow():
        yield


@contextlib.contextmanager
def colocate_with(op: Any, ignore_existing: bool = False) -> Iterator[None]:
    """Accepted for TF1 programs; caudal places every op on the host, so nothing is colocated."""
    from caudal.util.deprecation import warn_deprecated

    warn_deprecated("colocate_with", "caudal.framework_extras", None, "Colocations handled automatically by placer.",
                    depth=3)
    if op is not None and not isinstance(op, (Tensor, Operation)) and not hasattr(op, "op"):
        raise TypeError(f"'op' must be an Operation, a Tensor or a Variable, got {type(op).__name__}")
    yield


def tables_initializer(name: str = "init_all_tables") -> Operation:
    """Groups the TABLE_INITIALIZERS collection (a NoOp when it is empty, as caudal has no lookup tables yet)."""
    from caudal.framework.graph import GraphKeys
    from caudal.ops.control_ops import group, no_op

    initializers = get_default_graph().get_collection(GraphKeys.TABLE_INITIALIZERS)
    if initializers:
        return group(*initializers, name=name)
    return no_op(name=name)


def _unavailable(what: str) -> NotImplementedError:
    return NotImplementedError(f"caudal implements TF1 graph mode only; {what} is not available.")


def enable_v2_behavior() -> None:
    raise _unavailable("TF2 behaviour")


def enable_control_flow_v2() -> None:
    raise _unavailable("control flow v2 (functional While/If ops)")


def enable_resource_variables() -> None:
    raise _unavailable("resource variables")


def enable_tensor_equality() -> None:
    raise _unavailable("TF2's element-wise Tensor ==")


def enable_v2_tensorshape() -> None:
    raise _unavailable("TF2's TensorShape (ints instead of Dimensions)")


def disable_control_flow_v2() -> None:
    """caudal builds TF1 control flow (Switch/Merge, frames) already."""


def disable_resource_variables() -> None:
    """caudal's variables are TF1 reference variables already."""


def disable_tensor_equality() -> None:
    """caudal's Tensors compare by identity, as TF1's do."""


def disable_v2_tensorshape() -> None:
    """caudal's TensorShape holds Dimensions, as TF1's does."""


def control_flow_v2_enabled() -> bool:
    return False


def resource_variables_enabled() -> bool:
    return False


def executing_eagerly_outside_functions() -> bool:
    return False

