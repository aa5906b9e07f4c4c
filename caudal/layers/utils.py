"""Helpers shared by the layers: initializer arguments, `smart_cond`, conv arithmetic."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal.framework.constant_value import constant_value
from caudal.framework.tensor import Tensor


def get_initializer(initializer: Any) -> Any:
    """None keeps get_variable's default (glorot uniform); an initializer class is instantiated."""
    if isinstance(initializer, type):
        return initializer()
    return initializer


def smart_cond(pred: Any, true_fn: Callable, false_fn: Callable) -> Any:
    """`true_fn()` or `false_fn()` when `pred` is known now, else a tf.cond on it."""
    if isinstance(pred, Tensor):
        value = constant_value(pred)
        if value is None:
            from caudal.ops.cond_ops import cond

            return cond(pred, true_fn, false_fn)
        pred = bool(value)
    elif hasattr(pred, "_as_graph_element"):
        from caudal.framework.convert import convert_to_tensor
        from caudal.ops.cond_ops import cond

        return cond(convert_to_tensor(pred), true_fn, false_fn)
    return true_fn() if pred else false_fn()


def normalize_tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    """An int or a sequence of n ints, as a tuple of n ints."""
    if isinstance(value, int):
        return (value,) * n
    result = tuple(int(v) for v in value)
    if len(result) != n:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received: {value}")
    return result


def normalize_padding(padding: str) -> str:
    padding = padding.upper()
    if padding not in ("VALID", "SAME"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: {padding}")
    return padding


def normalize_data_format(data_format: str | None) -> str:
    data_format = (data_format or "channels_last").lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', 'channels_last'. "
                         f"Received: {data_format}")
    return data_format


def conv_output_length(length: int | None, filter_size: int, padding: str, stride: int, dilation: int = 1) -> Any:
    if length is None:
        return None
    dilated = (filter_size - 1) * dilation + 1
    if padding == "SAME":
        out = length
    else:
        out = length - dilated + 1
    return (out + stride - 1) // stride
