"""Argument checks and output-size arithmetic of Keras's convolution and pooling layers."""
from __future__ import annotations

from typing import Any

from caudal.keras.backend_config import image_data_format

__all__ = ["normalize_tuple", "normalize_data_format", "normalize_padding", "conv_output_length",
           "deconv_output_length", "convert_data_format"]


def normalize_tuple(value: Any, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """An int or n ints as a tuple of n positive (or non-negative) ints; Keras's ValueError otherwise."""
    message = f"The `{name}` argument must be a tuple of {n} integers. Received: {value}"
    if isinstance(value, int):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(values) != n:
            raise ValueError(message)
        for item in values:
            try:
                int(item)
            except (ValueError, TypeError):
                raise ValueError(message + f"including element {item} of type {type(item)}") from None
    bad = {v for v in values if (v < 0 if allow_zero else v <= 0)}
    if bad:
        raise ValueError(message + f" including {bad} that does not satisfy the requirement "
                                   f"`{'>= 0' if allow_zero else '> 0'}`.")
    return tuple(int(v) for v in values)


def normalize_data_format(value: str | None) -> str:
    if value is None:
        value = image_data_format()
    data_format = value.lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f'The `data_format` argument must be one of "channels_first", "channels_last". Received: '
                         f"{value}")
    return data_format


def normalize_padding(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return value
    padding = value.lower()
    if padding not in ("valid", "same", "causal"):
        raise ValueError('The `padding` argument must be a list/tuple or one of "valid", "same" (or "causal", only for '
                         f"`Conv1D). Received: {padding}")
    return padding


def conv_output_length(length: Any, filter_size: int, padding: str, stride: int, dilation: int = 1) -> Any:
    if length is None:
        return None
    dilated = filter_size + (filter_size - 1) * (dilation - 1)
    if padding in ("same", "causal"):
        out = length
    elif padding == "valid":
        out = length - dilated + 1
    else:
        out = length + dilated - 1
    return (out + stride - 1) // stride


def deconv_output_length(length: Any, filter_size: int, padding: str, output_padding: Any = None, stride: int = 0,
                         dilation: int = 1) -> Any:
    if length is None:
        return None
    filter_size = filter_size + (filter_size - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(filter_size - stride, 0)
        if padding == "full":
            return length * stride - (stride + filter_size - 2)
        return length * stride
    pad = {"same": filter_size // 2, "valid": 0, "full": filter_size - 1}[padding]
    return (length - 1) * stride + filter_size - 2 * pad + output_padding


def convert_data_format(data_format: str, ndim: int) -> str:
    names = {("channels_last", 3): "NWC", ("channels_last", 4): "NHWC", ("channels_last", 5): "NDHWC",
             ("channels_first", 3): "NCW", ("channels_first", 4): "NCHW", ("channels_first", 5): "NCDHW"}
    if (data_format, ndim) not in names:
        raise ValueError(f"Input rank not supported: {ndim}. Expected values are [3, 4, 5]")
    return names[(data_format, ndim)]
