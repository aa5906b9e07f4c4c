"""`tf.keras.backend` neural-network functions: activations, crossentropies, convolutions, pooling.

The crossentropies follow TF-Keras: an `output` made by a Softmax (or, for the binary one, a Sigmoid) op
is replaced by that op's input and the loss computed from logits; otherwise probabilities are clipped to
[epsilon, 1 - epsilon] (categorical ones rescaled to sum to 1 first).
"""
from __future__ import annotations

from typing import Any

import numpy as np

import caudal as tf
from caudal.framework.tensor import Tensor
from caudal.keras._backend_math import int_shape, ndim, reshape
from caudal.keras.backend_config import epsilon, image_data_format

__all__ = [
    "relu", "elu", "softmax", "softplus", "softsign", "sigmoid", "hard_sigmoid", "tanh", "dropout",
    "l2_normalize", "in_top_k", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "binary_crossentropy", "conv1d", "conv2d", "conv2d_transpose", "separable_conv2d", "depthwise_conv2d",
    "pool2d", "bias_add", "resize_images", "batch_normalization", "normalize_batch_in_training",
]


def _constant(value: Any, dtype: Any) -> Tensor:
    return tf.constant(value, dtype=dtype)


def relu(x: Any, alpha: float = 0.0, max_value: Any = None, threshold: float = 0.0) -> Tensor:
    """max(x, 0) with Keras's options: `alpha` slope below the threshold, `max_value` cap, `threshold`."""
    x = tf.convert_to_tensor(x)
    dtype = x.dtype.base_dtype
    negative_part = None
    if alpha != 0.0:
        if max_value is None and threshold == 0:
            return tf.nn.leaky_relu(x, alpha=alpha)
        negative_part = tf.nn.relu(-x + threshold) if threshold != 0 else tf.nn.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = x * tf.cast(tf.greater(x, threshold), dtype=dtype)
    elif max_value == 6:
        x = tf.nn.relu6(x)
        clip_max = False
    else:
        x = tf.nn.relu(x)
    if clip_max:
        x = tf.clip_by_value(x, _constant(0, dtype), _constant(max_value, dtype))
    if negative_part is not None:
        x -= _constant(alpha, dtype) * negative_part
    return x


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    result = tf.nn.elu(x)
    if alpha == 1:
        return result
    return tf.where_v2(x > 0, result, alpha * result)


def softmax(x: Any, axis: int = -1) -> Tensor:
    x = tf.convert_to_tensor(x)
    if x.shape.ndims is not None and x.shape.ndims <= 1:
        raise ValueError(f"Cannot apply softmax to a tensor that is 1D. Received input: {x}")
    return tf.nn.softmax(x, axis=axis)


def softplus(x: Any) -> Tensor:
    return tf.nn.softplus(x)


def softsign(x: Any) -> Tensor:
    return tf.nn.softsign(x)


def sigmoid(x: Any) -> Tensor:
    return tf.sigmoid(x)


def hard_sigmoid(x: Any) -> Tensor:
    """clip(0.2 * x + 0.5, 0, 1)."""
    x = tf.convert_to_tensor(x)
    dtype = x.dtype.base_dtype
    return tf.clip_by_value(tf.add(tf.multiply(x, _constant(0.2, dtype)), _constant(0.5, dtype)), 0.0, 1.0)


def tanh(x: Any) -> Tensor:
    return tf.tanh(x)


def dropout(x: Any, level: float, noise_shape: Any = None, seed: int | None = None) -> Tensor:
    if seed is None:
        seed = int(np.random.randint(10e6))
    return tf.nn.dropout(x, rate=level, noise_shape=noise_shape, seed=seed)


def l2_normalize(x: Any, axis: Any = None) -> Tensor:
    return tf.nn.l2_normalize(x, axis=axis)


def in_top_k(predictions: Any, targets: Any, k: int) -> Tensor:
    return tf.nn.in_top_k(predictions, targets, k)


def _logits_of(output: Tensor, op_type: str) -> Tensor | None:
    """The input of `output`'s op when that op is `op_type` (Softmax, Sigmoid): Keras computes the loss
    from these logits to avoid collapsing to zero."""
    if isinstance(output, Tensor) and output.op.type == op_type and len(output.op.inputs) == 1:
        return output.op.inputs[0]
    return None


def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1) -> Tensor:
    target, output = tf.convert_to_tensor(target), tf.convert_to_tensor(output)
    target.shape.assert_is_compatible_with(output.shape)
    logits = _logits_of(output, "Softmax")
    if logits is not None:
        output, from_logits = logits, True
    if from_logits:
        return tf.nn.softmax_cross_entropy_with_logits_v2(labels=target, logits=output, axis=axis)
    output = output / tf.reduce_sum(output, axis, True)
    eps = _constant(epsilon(), output.dtype.base_dtype)
    output = tf.clip_by_value(output, eps, 1.0 - eps)
    return -tf.reduce_sum(target * tf.log(output), axis)


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1) \
        -> Tensor:
    target, output = tf.convert_to_tensor(target), tf.convert_to_tensor(output)
    target = tf.cast(target, "int64")
    logits = _logits_of(output, "Softmax")
    if logits is not None:
        output, from_logits = logits, True
    if not from_logits:
        eps = _constant(epsilon(), output.dtype.base_dtype)
        output = tf.log(tf.clip_by_value(output, eps, 1 - eps))
    output_rank = output.shape.ndims
    if output_rank is not None:
        axis %= output_rank
        if axis != output_rank - 1:
            perm = list(range(axis)) + list(range(axis + 1, output_rank)) + [axis]
            output = tf.transpose(output, perm=perm)
    elif axis != -1:
        raise ValueError(f"Cannot compute sparse categorical crossentropy with `axis={axis}` on an output tensor "
                         "with unknown rank")
    output_shape = tf.shape(output)
    target_rank = target.shape.ndims
    update_shape = target_rank is not None and output_rank is not None and target_rank != output_rank - 1
    if update_shape:
        target = tf.reshape(target, [-1])
        output = tf.reshape(output, [-1, output_shape[-1]])
    result = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)
    if update_shape and output_rank >= 3:
        result = tf.reshape(result, output_shape[:-1])
    return result


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Tensor:
    target, output = tf.convert_to_tensor(target), tf.convert_to_tensor(output)
    logits = _logits_of(output, "Sigmoid")
    if logits is not None:
        output, from_logits = logits, True
    if from_logits:
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    eps = _constant(epsilon(), output.dtype.base_dtype)
    output = tf.clip_by_value(output, eps, 1.0 - eps)
    bce = target * tf.log(output + epsilon())
    bce += (1 - target) * tf.log(1 - output + epsilon())
    return -bce


def _data_format(data_format: str | None) -> str:
    data_format = data_format or image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Unknown data_format: {data_format}")
    return data_format


def _padding(padding: str) -> str:
    if padding == "same":
        return "SAME"
    if padding == "valid":
        return "VALID"
    raise ValueError(f"Invalid padding: {padding}")


def conv1d(x: Any, kernel: Any, strides: int = 1, padding: str = "valid", data_format: str | None = None,
           dilation_rate: int = 1) -> Tensor:
    """A 1-D convolution; 'causal' padding pads `dilation * (width - 1)` zeros on the left."""
    data_format = _data_format(data_format)
    if padding == "causal":
        left = dilation_rate * (kernel.shape.as_list()[0] - 1)
        x = tf.pad(x, [[0, 0], [left, 0], [0, 0]] if data_format == "channels_last" else [[0, 0], [0, 0], [left, 0]])
        padding = "valid"
    return tf.nn.conv1d(x, kernel, stride=strides, padding=_padding(padding),
                        data_format="NWC" if data_format == "channels_last" else "NCW", dilations=dilation_rate)


def _nhwc(data_format: str) -> str:
    return "NHWC" if data_format == "channels_last" else "NCHW"


def _four(values: Any, data_format: str) -> list[int]:
    values = tuple(values)
    return [1, *values, 1] if data_format == "channels_last" else [1, 1, *values]


def conv2d(x: Any, kernel: Any, strides: Any = (1, 1), padding: str = "valid", data_format: str | None = None,
           dilation_rate: Any = (1, 1)) -> Tensor:
    data_format = _data_format(data_format)
    return tf.nn.conv2d(x, kernel, strides=_four(strides, data_format), padding=_padding(padding),
                        data_format=_nhwc(data_format), dilations=_four(dilation_rate, data_format))


def conv2d_transpose(x: Any, kernel: Any, output_shape: Any, strides: Any = (1, 1), padding: str = "valid",
                     data_format: str | None = None, dilation_rate: Any = (1, 1)) -> Tensor:
    data_format = _data_format(data_format)
    if tuple(dilation_rate) != (1, 1):
        raise ValueError(f"caudal's K.conv2d_transpose supports dilation_rate (1, 1) only; got {dilation_rate}")
    if output_shape[0] is None:
        output_shape = (tf.shape(x)[0],) + tuple(output_shape[1:])
    if isinstance(output_shape, (tuple, list)):
        output_shape = tf.stack(list(output_shape))
    return tf.nn.conv2d_transpose(x, kernel, output_shape, _four(strides, data_format), padding=_padding(padding),
                                  data_format=_nhwc(data_format))


def separable_conv2d(x: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = (1, 1),
                     padding: str = "valid", data_format: str | None = None, dilation_rate: Any = (1, 1)) -> Tensor:
    data_format = _data_format(data_format)
    return tf.nn.separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=_four(strides, data_format),
                                  padding=_padding(padding), rate=tuple(dilation_rate), data_format=_nhwc(data_format))


def depthwise_conv2d(x: Any, depthwise_kernel: Any, strides: Any = (1, 1), padding: str = "valid",
                     data_format: str | None = None, dilation_rate: Any = (1, 1)) -> Tensor:
    data_format = _data_format(data_format)
    return tf.nn.depthwise_conv2d(x, depthwise_kernel, strides=_four(strides, data_format), padding=_padding(padding),
                                  rate=tuple(dilation_rate), data_format=_nhwc(data_format))


def pool2d(x: Any, pool_size: Any, strides: Any = (1, 1), padding: str = "valid", data_format: str | None = None,
           pool_mode: str = "max") -> Tensor:
    data_format = _data_format(data_format)
    if len(pool_size) != 2:
        raise ValueError("`pool_size` must be a tuple of 2 integers.")
    if len(strides) != 2:
        raise ValueError("`strides` must be a tuple of 2 integers.")
    if pool_mode == "max":
        pool = tf.nn.max_pool
    elif pool_mode == "avg":
        pool = tf.nn.avg_pool
    else:
        raise ValueError(f"Invalid pooling mode: {pool_mode}")
    return pool(x, _four(pool_size, data_format), _four(strides, data_format), padding=_padding(padding),
                data_format=_nhwc(data_format))


def bias_add(x: Any, bias: Any, data_format: str | None = None) -> Tensor:
    data_format = _data_format(data_format)
    bias_shape = int_shape(bias)
    if len(bias_shape) != 1 and len(bias_shape) != ndim(x) - 1:
        raise ValueError(f"Unexpected bias dimensions {len(bias_shape)}, expect to be 1 or {ndim(x) - 1} dimensions")
    if len(bias_shape) == 1:
        return tf.nn.bias_add(x, bias, data_format="NCHW" if data_format == "channels_first" else "NHWC")
    if ndim(x) in (3, 4, 5):
        if data_format == "channels_first":
            return x + reshape(bias, (1, bias_shape[-1]) + tuple(bias_shape[:-1]))
        return x + reshape(bias, (1,) + tuple(bias_shape))
    return tf.nn.bias_add(x, bias)


def resize_images(x: Any, height_factor: int, width_factor: int, data_format: str,
                  interpolation: str = "nearest") -> Tensor:
    """Upsampling by integer factors with nearest-neighbour or bilinear resizing, as UpSampling2D does it."""
    if data_format == "channels_first":
        rows, cols = 2, 3
    elif data_format == "channels_last":
        rows, cols = 1, 2
    else:
        raise ValueError(f"Invalid `data_format` argument: {data_format}")
    static = x.shape[rows:cols + 1]
    size = tf.constant(static.as_list(), dtype="int32") if static.is_fully_defined() else tf.shape(x)[rows:cols + 1]
    size = size * tf.constant(np.array([height_factor, width_factor], dtype="int32"))
    if data_format == "channels_first":
        x = tf.transpose(x, [0, 2, 3, 1])
    if interpolation == "nearest":
        with tf.name_scope("resize"):
            x = tf.image.resize_nearest_neighbor(x, size, half_pixel_centers=True)
    elif interpolation == "bilinear":
        with tf.name_scope("resize"):
            x = tf.image.resize_bilinear(x, size, half_pixel_centers=True)
    else:
        raise ValueError('`interpolation` argument should be one of: "nearest", "bilinear". '
                         f'Received: "{interpolation}".')
    if data_format == "channels_first":
        x = tf.transpose(x, [0, 3, 1, 2])
    return x


def batch_normalization(x: Any, mean: Any, var: Any, beta: Any, gamma: Any, axis: int = -1,
                        epsilon: float = 1e-3) -> Tensor:
    return tf.nn.batch_normalization(x, mean, var, beta, gamma, epsilon)


def normalize_batch_in_training(x: Any, gamma: Any, beta: Any, reduction_axes: Any, epsilon: float = 1e-3) -> tuple:
    mean, variance = tf.nn.moments(x, list(reduction_axes))
    normed = tf.nn.batch_normalization(x, mean, variance, beta, gamma, epsilon)
    return normed, mean, variance

