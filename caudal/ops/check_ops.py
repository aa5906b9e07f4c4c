"""TF's graph-mode checks (`check_ops`) that the metrics and `confusion_matrix` use: comparisons,
`assert_non_negative`, `assert_rank_in` and `assert_type`.

As in TF's graph mode, a comparison whose operands are both known at build time is decided then
(InvalidArgumentError with the data lines joined by newlines); otherwise it becomes an Assert op
that fails when run with TF's data (`[message] [Condition x >= y did not hold element-wise:] ...`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import Operation, name_scope
from caudal.framework.tensor import Tensor

__all__ = ["assert_less", "assert_less_equal", "assert_greater", "assert_greater_equal", "assert_non_negative",
           "assert_rank_in", "assert_type"]


def _message_prefix(message: str | None) -> str:
    return f"{message}.  " if message else ""


def _static_value(tensor: Tensor) -> Any:
    """The build-time value, looking through Identity ops (such as `with_dependencies`), as TF's
    constant_value does."""
    while tensor.op.type == "Identity":
        tensor = tensor.op.inputs[0]
    return constant_value(tensor)


def _static_text(item: Any) -> Any:
    if not isinstance(item, Tensor):
        return str(item)
    value = _static_value(item)
    return item if value is None else str(value)


def _binary_assert(symbol: str, default_name: str, op_func: Callable, static_func: Callable, x: Any, y: Any,
                   data: Any, summarize: int | None, message: str | None, name: str | None) -> Operation:
    from caudal.ops.cond_ops import Assert
    from caudal.ops.reduction_ops import reduce_all

    with name_scope(name, default_name, [x, y]):
        x = convert_to_tensor(x, name="x")
        y = convert_to_tensor(y, name="y")
        if data is None:
            data = [f"Condition x {symbol} y did not hold element-wise:", f"x ({x.name}) = ", x,
                    f"y ({y.name}) = ", y]
        if message is not None:
            data = [message] + list(data)
        condition = reduce_all(op_func(x, y))
        x_static, y_static = _static_value(x), _static_value(y)
        if x_static is not None and y_static is not None and not np.all(static_func(x_static, y_static)):
            raise InvalidArgumentError(None, None, "\n".join(str(_static_text(d)) for d in data))
        return Assert(condition, data, summarize=summarize)


def assert_less(x: Any, y: Any, data: Any = None, summarize: int | None = None, message: str | None = None,
                name: str | None = None) -> Operation:
    """An op (or a build-time InvalidArgumentError) checking x < y element-wise."""
    from caudal.ops.comparison_ops import less

    return _binary_assert("<", "assert_less", less, np.less, x, y, data, summarize, message, name)


def assert_less_equal(x: Any, y: Any, data: Any = None, summarize: int | None = None, message: str | None = None,
                      name: str | None = None) -> Operation:
    """An op (or a build-time InvalidArgumentError) checking x <= y element-wise."""
    from caudal.ops.comparison_ops import less_equal

    return _binary_assert("<=", "assert_less_equal", less_equal, np.less_equal, x, y, data, summarize, message,
                          name)


def assert_greater(x: Any, y: Any, data: Any = None, summarize: int | None = None, message: str | None = None,
                   name: str | None = None) -> Operation:
    """An op (or a build-time InvalidArgumentError) checking x > y element-wise."""
    from caudal.ops.comparison_ops import greater

    return _binary_assert(">", "assert_greater", greater, np.greater, x, y, data, summarize, message, name)


def assert_greater_equal(x: Any, y: Any, data: Any = None, summarize: int | None = None,
                         message: str | None = None, name: str | None = None) -> Operation:
    """An op (or a build-time InvalidArgumentError) checking x >= y element-wise."""
    from caudal.ops.comparison_ops import greater_equal

    return _binary_assert(">=", "assert_greater_equal", greater_equal, np.greater_equal, x, y, data, summarize,
                          message, name)


def assert_non_negative(x: Any, data: Any = None, summarize: int | None = None, message: str | None = None,
                        name: str | None = None) -> Operation:
    """TF's `assert_non_negative`: `0 <= x`, reported as `Condition x >= 0`."""
    message = _message_prefix(message)
    with name_scope(name, "assert_non_negative", [x]):
        x = convert_to_tensor(x, name="x")
        if data is None:
            data = [message, "Condition x >= 0 did not hold element-wise:", f"x ({x.name}) = ", x]
        zero = convert_to_tensor(0, dtype=x.dtype.base_dtype)
        return assert_less_equal(zero, x, data=data, summarize=summarize)


def assert_rank_in(x: Any, ranks: Any, data: Any = None, summarize: int | None = None, message: str | None = None,
                   name: str | None = None) -> Operation:
    """TF's `assert_rank_in`: a ValueError when the static rank is known and not in `ranks`, a no-op
    when it is, else an Assert on the run-time rank."""
    from caudal.ops.array_ops import rank, shape
    from caudal.ops.comparison_ops import equal, logical_or
    from caudal.ops.cond_ops import Assert
    from caudal.ops.control_ops import no_op

    with name_scope(name, "assert_rank_in", [x]):
        x = convert_to_tensor(x, name="x")
        rank_tensors = [convert_to_tensor(r, name="rank") for r in ranks]
        message = _message_prefix(message)
        for r in rank_tensors:
            assert_type(r, dtypes_lib.int32)
        if data is None:
            data = [message, f"Tensor {x.name} must have rank in", *rank_tensors, "Received shape: ", shape(x)]
        static_ranks = [constant_value(r) for r in rank_tensors]
        if all(r is not None for r in static_ranks):
            if any(np.ndim(r) != 0 for r in static_ranks):
                raise ValueError("Rank must be a scalar.")
            x_rank = x.shape.ndims
            if x_rank is not None:
                if x_rank not in [int(r) for r in static_ranks]:
                    shown = tuple(int(r) for r in static_ranks)
                    raise ValueError(f"{message}Tensor {x.name} must have rank in {shown}.  Received rank {x_rank}, "
                                     f"shape {x.shape}")
                return no_op(name="static_checks_determined_all_ok")
        actual = rank(x)
        condition = convert_to_tensor(False) if not rank_tensors else equal(rank_tensors[0], actual)
        for r in rank_tensors[1:]:
            condition = logical_or(condition, equal(r, actual))
        return Assert(condition, data, summarize=summarize)


def assert_type(tensor: Any, tf_type: Any, message: str | None = None, name: str | None = None) -> Operation:
    """TF's `assert_type`: a TypeError at build time when the dtype differs, else a no-op."""
    from caudal.ops.control_ops import no_op

    tf_type = dtypes_lib.as_dtype(tf_type)
    with name_scope(name, "assert_type", [tensor]):
        tensor = convert_to_tensor(tensor, name="tensor")
        if tensor.dtype != tf_type:
            raise TypeError(f"{_message_prefix(message)}{tensor.name} must be of type {tf_type!r}; "
                            f"got {tensor.dtype!r}")
        return no_op("statically_determined_correct_type")
