"""tf.contrib.layers' convolutions and pooling: `convolution` (1-D and 2-D), `conv2d`, `conv2d_transpose`,
`separable_conv2d`, `max_pool2d`, `avg_pool2d`, with TF 1.15's scopes, defaults and variable names.

Defaults differ from tf.layers: padding 'SAME' for convolutions ('VALID',
stride 2 for pooling), a ReLU activation, Xavier-initialized `weights` and
zero `biases` (`Conv/weights`, `Conv/biases`, `Conv2d_transpose/weights`,
`SeparableConv2d/depthwise_weights`), all model variables. Data formats are
TF's strings ('NHWC', 'NCHW', ...).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal import init_ops
from caudal.contrib._arg_scope import add_arg_scope
from caudal.contrib._initializers import xavier_initializer
from caudal.contrib._layers_utils import (
    add_variable_to_collections,
    build_variable_getter,
    collect_named_outputs,
    get_variable_collections,
)
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import name_scope
from caudal.framework.tensor import Tensor
from caudal.ops.nn_ops import relu
from caudal.variable_scope import variable_scope

__all__ = ["convolution", "convolution1d", "convolution2d", "conv1d", "conv2d", "convolution2d_transpose",
           "conv2d_transpose", "separable_convolution2d", "separable_conv2d", "max_pool2d", "avg_pool2d"]

_CONV_DATA_FORMATS = (None, "NWC", "NCW", "NHWC", "NCHW", "NDHWC", "NCDHW")
_WEIGHTS_AND_BIASES = {"bias": "biases", "kernel": "weights"}


def _check_2d_format(data_format: Any) -> None:
    if data_format not in ("NCHW", "NHWC"):
        raise ValueError("data_format has to be either NCHW or NHWC.")


def _layers_format(data_format: str | None) -> str:
    return "channels_first" if data_format and data_format.startswith("NC") else "channels_last"


def _finish(outputs: Tensor, normalizer_fn: Callable | None, normalizer_params: dict | None,
            activation_fn: Callable | None, outputs_collections: Any, alias: str) -> Tensor:
    if normalizer_fn is not None:
        outputs = normalizer_fn(outputs, **(normalizer_params or {}))
    if activation_fn is not None:
        outputs = activation_fn(outputs)
    return collect_named_outputs(outputs_collections, alias, outputs)


@add_arg_scope
def convolution(inputs: Any, num_outputs: int, kernel_size: Any, stride: Any = 1, padding: str = "SAME",
                data_format: str | None = None, rate: Any = 1, activation_fn: Callable | None = relu,
                normalizer_fn: Callable | None = None, normalizer_params: dict | None = None,
                weights_initializer: Any = xavier_initializer(), weights_regularizer: Any = None,
                biases_initializer: Any = init_ops.zeros_initializer(), biases_regularizer: Any = None,
                reuse: Any = None, variables_collections: Any = None, outputs_collections: Any = None,
                trainable: bool = True, scope: Any = None, conv_dims: int | None = None) -> Tensor:
    """An N-D convolution chosen by the rank of `inputs` (3: 1-D, 4: 2-D) in variable scope `Conv`:
    `weights` [k..., in, num_outputs] and `biases`, then the normalizer and the activation."""
    from caudal.layers.convolutional import Conv1D, Conv2D

    if data_format not in _CONV_DATA_FORMATS:
        raise ValueError(f"Invalid data_format: {data_format!r}")
    with variable_scope(scope, "Conv", [inputs], reuse=reuse,
                        custom_getter=build_variable_getter(_WEIGHTS_AND_BIASES)) as sc:
        inputs = convert_to_tensor(inputs)
        input_rank = inputs.get_shape().ndims
        if conv_dims is not None and conv_dims + 2 != input_rank:
            raise ValueError(f"Convolution expects input with rank {conv_dims + 2}, got {input_rank}")
        if input_rank == 3:
            layer_class: Any = Conv1D
        elif input_rank == 4:
            layer_class = Conv2D
        else:
            raise ValueError("Convolution not supported for input with rank", input_rank)
        layer = layer_class(filters=num_outputs, kernel_size=kernel_size, strides=stride, padding=padding,
                            data_format=_layers_format(data_format), dilation_rate=rate, activation=None,
                            use_bias=not normalizer_fn and biases_initializer is not None,
                            kernel_initializer=weights_initializer, bias_initializer=biases_initializer,
                            kernel_regularizer=weights_regularizer, bias_regularizer=biases_regularizer,
                            trainable=trainable, name=sc.name, dtype=inputs.dtype.base_dtype, _scope=sc,
                            _reuse=reuse)
        outputs = layer.apply(inputs)
        add_variable_to_collections(layer.kernel, variables_collections, "weights")
        if layer.use_bias:
            add_variable_to_collections(layer.bias, variables_collections, "biases")
        return _finish(outputs, normalizer_fn, normalizer_params, activation_fn, outputs_collections, sc.name)


@add_arg_scope
def convolution1d(inputs: Any, num_outputs: int, kernel_size: Any, stride: Any = 1, padding: str = "SAME",
                  data_format: str | None = None, rate: Any = 1, activation_fn: Callable | None = relu,
                  normalizer_fn: Callable | None = None, normalizer_params: dict | None = None,
                  weights_initializer: Any = xavier_initializer(), weights_regularizer: Any = None,
                  biases_initializer: Any = init_ops.zeros_initializer(), biases_regularizer: Any = None,
                  reuse: Any = None, variables_collections: Any = None, outputs_collections: Any = None,
                  trainable: bool = True, scope: Any = None) -> Tensor:
    """`convolution` of a rank-3 input ([batch, width, channels] for 'NWC')."""
    return convolution(inputs, num_outputs, kernel_size, stride, padding, data_format, rate, activation_fn,
                       normalizer_fn, normalizer_params, weights_initializer, weights_regularizer,
                       biases_initializer, biases_regularizer, reuse, variables_collections, outputs_collections,
                       trainable, scope, conv_dims=1)


@add_arg_scope
def convolution2d(inputs: Any, num_outputs: int, kernel_size: Any, stride: Any = 1, padding: str = "SAME",
                  data_format: str | None = None, rate: Any = 1, activation_fn: Callable | None = relu,
                  normalizer_fn: Callable | None = None, normalizer_params: dict | None = None,
                  weights_initializer: Any = xavier_initializer(), weights_regularizer: Any = None,
                  biases_initializer: Any = init_ops.zeros_initializer(), biases_regularizer: Any = None,
                  reuse: Any = None, variables_collections: Any = None, outputs_collections: Any = None,
                  trainable: bool = True, scope: Any = None) -> Tensor:
    """`convolution` of a rank-4 input: `Conv/weights` [kh, kw, in, num_outputs], `Conv/biases`; `rate` is
    the dilation."""
    return convolution(inputs, num_outputs, kernel_size, stride, padding, data_format, rate, activation_fn,
                       normalizer_fn, normalizer_params, weights_initializer, weights_regularizer,
                       biases_initializer, biases_regularizer, reuse, variables_collections, outputs_collections,
                       trainable, scope, conv_dims=2)


@add_arg_scope
def convolution2d_transpose(inputs: Any, num_outputs: int, kernel_size: Any, stride: Any = 1,
                            padding: str = "SAME", data_format: str = "NHWC",
                            activation_fn: Callable | None = relu, normalizer_fn: Callable | None = None,
                            normalizer_params: dict | None = None, weights_initializer: Any = xavier_initializer(),
                            weights_regularizer: Any = None, biases_initializer: Any = init_ops.zeros_initializer(),
                            biases_regularizer: Any = None, reuse: Any = None, variables_collections: Any = None,
                            outputs_collections: Any = None, trainable: bool = True, scope: Any = None) -> Tensor:
    """The transpose of a 2-D convolution in variable scope `Conv2d_transpose`: `weights`
    [kh, kw, num_outputs, in] and `biases`."""
    from caudal.layers.convolutional import Conv2DTranspose

    with variable_scope(scope, "Conv2d_transpose", [inputs], reuse=reuse,
                        custom_getter=build_variable_getter(_WEIGHTS_AND_BIASES)) as sc:
        _check_2d_format(data_format)
        inputs = convert_to_tensor(inputs)
        layer = Conv2DTranspose(filters=num_outputs, kernel_size=kernel_size, strides=stride, padding=padding,
                                data_format=_layers_format(data_format), activation=None,
                                use_bias=not normalizer_fn and biases_initializer is not None,
                                kernel_initializer=weights_initializer, bias_initializer=biases_initializer,
                                kernel_regularizer=weights_regularizer, bias_regularizer=biases_regularizer,
                                trainable=trainable, name=sc.name, dtype=inputs.dtype.base_dtype, _scope=sc,
                                _reuse=reuse)
        outputs = layer.apply(inputs)
        add_variable_to_collections(layer.kernel, variables_collections, "weights")
        if layer.bias is not None:
            add_variable_to_collections(layer.bias, variables_collections, "biases")
        return _finish(outputs, normalizer_fn, normalizer_params, activation_fn, outputs_collections, sc.name)


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    pair = tuple(int(v) for v in value)
    if len(pair) != 2:
        raise ValueError(f"Must be a list with 2 elements: {value}")
    return pair  # type: ignore[return-value]


@add_arg_scope
def separable_convolution2d(inputs: Any, num_outputs: int | None, kernel_size: Any, depth_multiplier: int = 1,
                            stride: Any = 1, padding: str = "SAME", data_format: str = "NHWC", rate: Any = 1,
                            activation_fn: Callable | None = relu, normalizer_fn: Callable | None = None,
                            normalizer_params: dict | None = None, weights_initializer: Any = xavier_initializer(),
                            pointwise_initializer: Any = None, weights_regularizer: Any = None,
                            biases_initializer: Any = init_ops.zeros_initializer(), biases_regularizer: Any = None,
                            reuse: Any = None, variables_collections: Any = None, outputs_collections: Any = None,
                            trainable: bool = True, scope: Any = None) -> Tensor:
    """A depthwise then a 1x1 pointwise convolution in variable scope `SeparableConv2d` (`depthwise_weights`
    [kh, kw, in, depth_multiplier], `pointwise_weights`, `biases`); with `num_outputs=None`, the depthwise
    convolution alone (and `in * depth_multiplier` biases)."""
    from caudal.layers.convolutional import SeparableConv2D

    _check_2d_format(data_format)
    rename = {"bias": "biases", "depthwise_kernel": "depthwise_weights", "pointwise_kernel": "pointwise_weights"}
    with variable_scope(scope, "SeparableConv2d", [inputs], reuse=reuse,
                        custom_getter=build_variable_getter(rename)) as sc:
        inputs = convert_to_tensor(inputs)
        if pointwise_initializer is None:
            pointwise_initializer = weights_initializer
        df = _layers_format(data_format)
        if num_outputs is not None:
            layer = SeparableConv2D(filters=num_outputs, kernel_size=kernel_size, strides=stride, padding=padding,
                                    data_format=df, dilation_rate=_pair(rate), activation=None,
                                    depth_multiplier=depth_multiplier,
                                    use_bias=not normalizer_fn and biases_initializer is not None,
                                    depthwise_initializer=weights_initializer,
                                    pointwise_initializer=pointwise_initializer, bias_initializer=biases_initializer,
                                    depthwise_regularizer=weights_regularizer,
                                    pointwise_regularizer=weights_regularizer, bias_regularizer=biases_regularizer,
                                    trainable=trainable, name=sc.name, dtype=inputs.dtype.base_dtype, _scope=sc,
                                    _reuse=reuse)
            outputs = layer.apply(inputs)
            add_variable_to_collections(layer.depthwise_kernel, variables_collections, "weights")
            add_variable_to_collections(layer.pointwise_kernel, variables_collections, "weights")
            if layer.bias is not None:
                add_variable_to_collections(layer.bias, variables_collections, "biases")
            return _finish(outputs, normalizer_fn, normalizer_params, activation_fn, outputs_collections, sc.name)
        outputs = _depthwise_only(inputs, kernel_size, depth_multiplier, stride, padding, data_format, rate,
                                  normalizer_fn, normalizer_params, weights_initializer, weights_regularizer,
                                  biases_initializer, biases_regularizer, variables_collections, trainable)
        return _finish(outputs, None, None, activation_fn, outputs_collections, sc.name)


def _depthwise_only(inputs: Tensor, kernel_size: Any, depth_multiplier: int, stride: Any, padding: str,
                    data_format: str, rate: Any, normalizer_fn: Callable | None, normalizer_params: dict | None,
                    weights_initializer: Any, weights_regularizer: Any, biases_initializer: Any,
                    biases_regularizer: Any, variables_collections: Any, trainable: bool) -> Tensor:
    from caudal.contrib._variables import model_variable
    from caudal.ops.conv_ops import depthwise_conv2d
    from caudal.ops.nn_ops import bias_add

    dtype = inputs.dtype.base_dtype
    kernel_h, kernel_w = _pair(kernel_size)
    stride_h, stride_w = _pair(stride)
    shape = inputs.get_shape()
    if shape.ndims is None or shape.ndims < 4:
        raise ValueError(f"rank of shape must be at least 4 not: {shape.ndims}")
    channels_first = data_format.startswith("NC")
    num_filters_in = shape[1 if channels_first else -1].value
    if num_filters_in is None:
        raise ValueError("Number of in_channels must be known.")
    depthwise_weights = model_variable("depthwise_weights", shape=[kernel_h, kernel_w, num_filters_in,
                                                                   depth_multiplier],
                                       dtype=dtype, initializer=weights_initializer, regularizer=weights_regularizer,
                                       trainable=trainable,
                                       collections=get_variable_collections(variables_collections, "weights"))
    strides = [1, 1, stride_h, stride_w] if channels_first else [1, stride_h, stride_w, 1]
    outputs = depthwise_conv2d(inputs, depthwise_weights, strides, padding, rate=_pair(rate),
                               data_format=data_format)
    num_outputs = depth_multiplier * num_filters_in
    if normalizer_fn is not None:
        return normalizer_fn(outputs, **(normalizer_params or {}))
    if biases_initializer is not None:
        biases = model_variable("biases", shape=[num_outputs], dtype=dtype, initializer=biases_initializer,
                                regularizer=biases_regularizer, trainable=trainable,
                                collections=get_variable_collections(variables_collections, "biases"))
        outputs = bias_add(outputs, biases, data_format=data_format)
    return outputs


def _pool2d(kind: str, inputs: Any, kernel_size: Any, stride: Any, padding: str, data_format: str,
            outputs_collections: Any, scope: str | None) -> Tensor:
    from caudal.layers.utils import normalize_padding, normalize_tuple
    from caudal.ops.pooling_ops import avg_pool, max_pool

    _check_2d_format(data_format)
    with name_scope(scope, "MaxPool2D" if kind == "max" else "AvgPool2D", [inputs]) as sc:
        inputs = convert_to_tensor(inputs)
        window = normalize_tuple(kernel_size, 2, "pool_size")
        steps = normalize_tuple(stride, 2, "strides")
        padding = normalize_padding(padding)
        if data_format == "NCHW":
            ksize, strides = [1, 1, *window], [1, 1, *steps]
        else:
            ksize, strides = [1, *window, 1], [1, *steps, 1]
        pool = max_pool if kind == "max" else avg_pool
        outputs = pool(inputs, ksize, strides, padding, data_format=data_format)
        return collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def max_pool2d(inputs: Any, kernel_size: Any, stride: Any = 2, padding: str = "VALID", data_format: str = "NHWC",
               outputs_collections: Any = None, scope: str | None = None) -> Tensor:
    """2-D max pooling under the name scope `MaxPool2D` (stride 2 and 'VALID' padding by default)."""
    return _pool2d("max", inputs, kernel_size, stride, padding, data_format, outputs_collections, scope)


@add_arg_scope
def avg_pool2d(inputs: Any, kernel_size: Any, stride: Any = 2, padding: str = "VALID", data_format: str = "NHWC",
               outputs_collections: Any = None, scope: str | None = None) -> Tensor:
    """2-D average pooling under the name scope `AvgPool2D` (stride 2 and 'VALID' padding by default)."""
    return _pool2d("avg", inputs, kernel_size, stride, padding, data_format, outputs_collections, scope)


conv1d = convolution1d
conv2d = convolution2d
conv2d_transpose = convolution2d_transpose
separable_conv2d = separable_convolution2d
