"""`tf.nn` functions TensorFlow writes in Python from other ops; so are they here.

`xw_plus_b`, `relu_layer`, `zero_fraction`, `normalize_moments`,
`sufficient_statistics`, `weighted_moments`, `log_poisson_loss`,
`batch_norm_with_global_normalization`, and the rank-dispatching
`convolution`, `atrous_conv2d`, `avg_pool_v2`, `max_pool_v2` (1-D and 2-D: caudal has no 3-D
convolutions or pooling, so rank-5 inputs are a NotImplementedError). They
build TF's ops in TF's name scopes and raise TF's errors; no op type is
registered here.
"""
from __future__ import annotations

import math
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor
from caudal.ops import array_ops, math_ops, reduction_ops
from caudal.ops.math_composites import zero_fraction

__all__ = ["atrous_conv2d", "avg_pool_v2", "batch_norm_with_global_normalization", "convolution", "log_poisson_loss",
           "max_pool_v2", "normalize_moments", "relu_layer", "sufficient_statistics", "weighted_moments", "xw_plus_b",
           "zero_fraction"]


def _scope(name: str | None, default: str) -> Any:
    return get_default_graph().name_scope(name or default)


def xw_plus_b(x: Any, weights: Any, biases: Any, name: str | None = None) -> Tensor:
    """matmul(x, weights) + biases, the sum named after the scope ("xw_plus_b")."""
    from caudal.ops.nn_ops import bias_add

    with _scope(name, "xw_plus_b") as scope:
        product = math_ops.matmul(x, weights)
        return bias_add(product, biases, name=scope)


def relu_layer(x: Any, weights: Any, biases: Any, name: str | None = None) -> Tensor:
    """relu(matmul(x, weights) + biases), the relu named after the scope ("relu_layer")."""
    from caudal.ops.nn_ops import bias_add, relu

    with _scope(name, "relu_layer") as scope:
        summed = bias_add(math_ops.matmul(x, weights), biases)
        return relu(summed, name=scope)


def normalize_moments(counts: Any, mean_ss: Any, variance_ss: Any, shift: Any,
                      name: str | None = None) -> tuple[Tensor, Tensor]:
    """(mean, variance) from the count and the (shifted) sums `sufficient_statistics` returns."""
    from caudal.ops.special_math_ops import reciprocal

    with _scope(name, "normalize"):
        divisor = reciprocal(counts, name="divisor")
        if shift is not None:
            shifted_mean = math_ops.multiply(mean_ss, divisor, name="shifted_mean")
            mean = math_ops.add(shifted_mean, shift, name="mean")
        else:
            shifted_mean = math_ops.multiply(mean_ss, divisor, name="mean")
            mean = shifted_mean
        variance = math_ops.subtract(math_ops.multiply(variance_ss, divisor), math_ops.square(shifted_mean),
                                     name="variance")
        return mean, variance


def sufficient_statistics(x: Any, axes: Any, shift: Any = None, keep_dims: Any = None, name: str | None = None,
                          keepdims: Any = None) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
    """(count, sum of x - shift, sum of (x - shift)^2, shift) over `axes`; the count is a constant
    when x's shape is fully known, else the product of the run-time sizes, as in TF."""
    from caudal.ops.gather_ops import gather
    from caudal.ops.special_math_ops import squared_difference

    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
    keep = bool(keep_dims if keepdims is None else keepdims)
    axes = list(axes)
    with _scope(name, "sufficient_statistics"):
        x = convert_to_tensor(x, name="x")
        shape = x.get_shape()
        if shape.is_fully_defined():
            count = 1
            for axis in axes:
                count *= shape.as_list()[axis]
            counts = convert_to_tensor(count, dtype=x.dtype.base_dtype, name="count")
        else:
            dims = gather(math_ops.cast(array_ops.shape(x), x.dtype.base_dtype), axes)
            counts = reduction_ops.reduce_prod(dims, name="count")
        if shift is not None:
            shift = convert_to_tensor(shift, name="shift")
            m_ss = math_ops.subtract(x, shift)
            v_ss = squared_difference(x, shift)
        else:
            m_ss = x
            v_ss = math_ops.square(x)
        m_ss = reduction_ops.reduce_sum(m_ss, axes, keepdims=keep, name="mean_ss")
        v_ss = reduction_ops.reduce_sum(v_ss, axes, keepdims=keep, name="var_ss")
        return counts, m_ss, v_ss, shift


def weighted_moments(x: Any, axes: Any, frequency_weights: Any, name: str | None = None, keep_dims: Any = None,
                     keepdims: Any = None) -> tuple[Tensor, Tensor]:
    """Mean and variance over `axes` with each element counted `frequency_weights` times (broadcast);
    float16 is computed in float32, and the variance's gradient does not flow through the mean."""
    from caudal.ops.constant_ops import zeros_like
    from caudal.ops.control_ops import stop_gradient
    from caudal.ops.special_math_ops import reciprocal, squared_difference

    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keepdims' and 'keep_dims'.")
    keep = bool(keep_dims if keepdims is None else keepdims)
    with _scope(name, "weighted_moments"):
        x = convert_to_tensor(x, name="x")
        weights = convert_to_tensor(frequency_weights, name="frequency_weights")
        needs_cast = x.dtype.base_dtype == dtypes_lib.float16
        if needs_cast:
            x = math_ops.cast(x, dtypes_lib.float32)
        if weights.dtype.base_dtype != x.dtype.base_dtype:
            weights = math_ops.cast(weights, x.dtype.base_dtype)
        weighted_sum = reduction_ops.reduce_sum(weights * x, axes, name="weighted_input_sum", keepdims=True)
        broadcast_weights = weights + zeros_like(x)
        weight_sum = reduction_ops.reduce_sum(broadcast_weights, axes, name="sum_of_weights", keepdims=True)
        divisor = reciprocal(weight_sum, name="inv_weight_sum")
        mean = math_ops.multiply(weighted_sum, divisor)
        distsq = reduction_ops.reduce_sum(weights * squared_difference(x, stop_gradient(mean)), axes,
                                          name="weighted_distsq", keepdims=True)
        variance = math_ops.multiply(distsq, divisor)
        if not keep:
            mean = array_ops.squeeze(mean, axis=axes)
            variance = array_ops.squeeze(variance, axis=axes)
        if needs_cast:
            mean = math_ops.cast(mean, dtypes_lib.float16)
            variance = math_ops.cast(variance, dtypes_lib.float16)
        return mean, variance


def log_poisson_loss(targets: Any, log_input: Any, compute_full_loss: bool = False,
                     name: str | None = None) -> Tensor:
    """exp(log_input) - log_input * targets, plus Stirling's approximation of log(targets!) for targets
    above 1 when `compute_full_loss`. Shapes must be compatible (ValueError otherwise, as in TF)."""
    from caudal.ops.comparison_ops import greater_equal, less_equal, logical_and, where
    from caudal.ops.constant_ops import ones_like, zeros_like

    with _scope(name, "log_poisson_loss"):
        log_input = convert_to_tensor(log_input, name="log_input")
        targets = convert_to_tensor(targets, name="targets")
        if not targets.get_shape().is_compatible_with(log_input.get_shape()):
            raise ValueError(f"`log_input` and `targets` must have the same shape, received ({log_input.get_shape()} "
                             f"vs {targets.get_shape()}).")
        result = math_ops.exp(log_input) - log_input * targets
        if compute_full_loss:
            dtype = targets.dtype.base_dtype
            point_five = convert_to_tensor(0.5, dtype=dtype)
            two_pi = convert_to_tensor(2 * math.pi, dtype=dtype)
            stirling = (targets * math_ops.log(targets)) - targets + point_five * math_ops.log(two_pi * targets)
            zeros = zeros_like(targets, dtype=dtype)
            ones = ones_like(targets, dtype=dtype)
            small = logical_and(greater_equal(targets, zeros), less_equal(targets, ones))
            result += where(small, zeros, stirling)
        return result


def batch_norm_with_global_normalization(t: Any = None, m: Any = None, v: Any = None, beta: Any = None,
                                         gamma: Any = None, variance_epsilon: Any = None,
                                         scale_after_normalization: Any = None, name: str | None = None,
                                         input: Any = None, mean: Any = None,  # noqa: A002 - TF's name
                                         variance: Any = None) -> Tensor:
    """`batch_normalization(t, m, v, beta, gamma if scale_after_normalization else None, variance_epsilon)`."""
    from caudal.ops.normalization_ops import batch_normalization

    t = input if t is None else t
    m = mean if m is None else m
    v = variance if v is None else v
    return batch_normalization(t, m, v, beta, gamma if scale_after_normalization else None, variance_epsilon, name)


def _spatial_rank(input: Any, data_format: Any, what: str) -> tuple[Tensor, int]:  # noqa: A002
    x = convert_to_tensor(input, name="input")
    if x.shape.ndims is not None:
        n = x.shape.ndims - 2
    elif data_format is not None:
        n = len(data_format) - 2
    else:
        raise ValueError("`input` must have a static shape or `data_format` must be given. Received: "
                         f"input.shape={x.shape} and data_format={data_format}")
    if not 1 <= n <= 3:
        raise ValueError(f"`input.shape.rank` must be 3, 4 or 5. Received: input.shape={x.shape} of rank {n + 2}.")
    if n == 3:
        raise NotImplementedError(f"{what}: caudal has no 3-D ops (rank-5 inputs)")
    return x, n


def _pool_v2(kind: str, input: Any, ksize: Any, strides: Any, padding: Any, data_format: Any,  # noqa: A002
             name: str | None) -> Tensor:
    from caudal.ops import pooling_ops
    from caudal.ops.conv_ops import get_sequence

    x, n = _spatial_rank(input, data_format, f"tf.nn.{kind}_pool_v2")
    channel_index = n + 1 if data_format is None else (1 if data_format.startswith("NC") else n + 1)
    ksize = get_sequence(ksize, n, channel_index, "ksize")
    strides = get_sequence(strides, n, channel_index, "strides")
    if n == 1:
        pool = pooling_ops.avg_pool1d if kind == "avg" else pooling_ops.max_pool1d
        return pool(x, ksize=ksize, strides=strides, padding=padding, data_format=data_format or "NWC", name=name)
    pool = pooling_ops.avg_pool if kind == "avg" else pooling_ops.max_pool
    return pool(x, ksize=ksize, strides=strides, padding=padding, data_format=data_format or "NHWC", name=name)


def avg_pool_v2(input: Any, ksize: Any, strides: Any, padding: Any, data_format: Any = None,  # noqa: A002
                name: str | None = None) -> Tensor:
    """Average pooling of a rank-3 (1-D) or rank-4 (2-D) input, chosen by its rank."""
    return _pool_v2("avg", input, ksize, strides, padding, data_format, name)


def max_pool_v2(input: Any, ksize: Any, strides: Any, padding: Any, data_format: Any = None,  # noqa: A002
                name: str | None = None) -> Tensor:
    """Max pooling of a rank-3 (1-D) or rank-4 (2-D) input, chosen by its rank."""
    return _pool_v2("max", input, ksize, strides, padding, data_format, name)


def convolution(input: Any, filter: Any = None, padding: Any = None, strides: Any = None,  # noqa: A002
                dilation_rate: Any = None, name: str | None = None, data_format: Any = None, filters: Any = None,
                dilations: Any = None) -> Tensor:
    """TF1 `tf.nn.convolution`: conv1d or conv2d by the filter's rank, in a "convolution" scope whose
    name the convolution op takes; `dilation_rate` dilates (Conv2D's `dilations`)."""
    from caudal.ops import conv_ops

    filter = conv_ops._pick(filters, "filters", filter, "filter")
    dilation_rate = conv_ops._pick(dilations, "dilations", dilation_rate, "dilation_rate")
    w = convert_to_tensor(filter, name="filters")
    x = convert_to_tensor(input, name="input")
    if w.shape.ndims is not None:
        n = w.shape.ndims - 2
    elif x.shape.ndims is not None:
        n = x.shape.ndims - 2
    else:
        raise ValueError("When `num_spatial_dims` is not set, one of `input.shape.rank` or `filters.shape.rank` "
                         f"must be known. Received: input.shape={x.shape} of rank {x.shape.rank} and "
                         f"filters.shape={w.shape} of rank {w.shape.rank}")
    if n not in (1, 2, 3):
        raise ValueError(f"`num_spatial_dims` must be 1, 2, or 3. Received: num_spatial_dims={n}.")
    if n == 3:
        raise NotImplementedError("tf.nn.convolution: caudal has no 3-D convolutions (Conv3D)")
    channel_index = 1 if data_format is not None and data_format.startswith("NC") else n + 1
    dilation_list = conv_ops.get_sequence(dilation_rate, n, channel_index, "dilations")
    stride_list = conv_ops.get_sequence(strides, n, channel_index, "strides")
    with _scope(name, "convolution") as scope:
        if n == 1:
            spatial = 1 if channel_index == 1 else 0
            return conv_ops.conv1d(x, w, stride=stride_list[spatial + 1], padding=padding, data_format=data_format,
                                   dilations=dilation_list[spatial + 1], name=scope)
        return conv_ops.conv2d(x, w, strides=stride_list, padding=padding, data_format=data_format or "NHWC",
                               dilations=dilation_list, name=scope)


def atrous_conv2d(value: Any, filters: Any, rate: int, padding: Any, name: str | None = None) -> Tensor:
    """A 2-D convolution dilated by `rate` in both spatial dimensions (`convolution` with `dilation_rate`)."""
    return convolution(value, filters, padding=padding, dilation_rate=[int(rate), int(rate)], name=name)
