"""`tf.layers` convolutions: Conv1D, Conv2D, Conv2DTranspose, SeparableConv2D, and functional forms.

Variables follow TF1: `conv2d/kernel` shaped [kh, kw, in, filters] and
`conv2d/bias`; separable convolutions have `depthwise_kernel` and
`pointwise_kernel`. Padding is 'valid' (default) or 'same'.
"""
from __future__ import annotations

from typing import Any

from caudal import init_ops
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.layers.base import Layer
from caudal.layers.utils import (
    conv_output_length,
    get_initializer,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
)


class _Conv(Layer):
    """N-D convolution (N = 1 or 2) over channels_last or channels_first inputs."""

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = None, bias_initializer: Any = init_ops.Zeros(),
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any):
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        self.rank = rank
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.activation = activation
        self.use_bias = use_bias
        self.kernel_initializer = get_initializer(kernel_initializer)
        self.bias_initializer = get_initializer(bias_initializer)
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self.kernel: Any = None
        self.bias: Any = None

    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def _input_channels(self, input_shape: TensorShape) -> int:
        channels = TensorShape(input_shape)[self._channel_axis()].value
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
        return channels

    def build(self, input_shape: TensorShape) -> None:
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight("kernel", list(self.kernel_size) + [channels, self.filters],
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._build_bias()

    def _build_bias(self) -> None:
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.filters], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _nn_format(self) -> str:
        if self.rank == 1:
            return "NCW" if self.data_format == "channels_first" else "NWC"
        return "NCHW" if self.data_format == "channels_first" else "NHWC"

    def call(self, inputs: Tensor) -> Tensor:
        from caudal import nn

        if self.rank == 1:
            outputs = nn.conv1d(inputs, self.kernel, stride=self.strides[0], padding=self.padding,
                                data_format=self._nn_format(), dilations=self.dilation_rate[0])
        else:
            outputs = nn.conv2d(inputs, self.kernel, strides=[1, 1, *self.strides] if self.data_format ==
                                "channels_first" else [1, *self.strides, 1], padding=self.padding,
                                data_format=self._nn_format(),
                                dilations=[1, 1, *self.dilation_rate] if self.data_format == "channels_first"
                                else [1, *self.dilation_rate, 1])
        return self._finish(outputs)

    def _finish(self, outputs: Tensor) -> Tensor:
        from caudal import nn

        if self.use_bias:
            if self.rank == 1 and self.data_format == "channels_first":
                from caudal.ops.array_ops import reshape

                outputs = outputs + reshape(self.bias, [1, self.filters, 1])
            else:
                outputs = nn.bias_add(outputs, self.bias,
                                      data_format="NCHW" if self.data_format == "channels_first" else "NHWC")
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = TensorShape(input_shape).as_list()
        spatial = dims[2:] if self.data_format == "channels_first" else dims[1:-1]
        out = [conv_output_length(d, k, self.padding, s, r)
               for d, k, s, r in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)]
        if self.data_format == "channels_first":
            return TensorShape([dims[0], self.filters] + out)
        return TensorShape([dims[0]] + out + [self.filters])


class Conv1D(_Conv):
    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = 1, **kwargs: Any):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate, **kwargs)


class Conv2D(_Conv):
    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = (1, 1), **kwargs: Any):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate, **kwargs)


class Conv2DTranspose(Conv2D):
    """The gradient of a Conv2D with respect to its input; kernel [kh, kw, filters, in]."""

    def build(self, input_shape: TensorShape) -> None:
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight("kernel", list(self.kernel_size) + [self.filters, channels],
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._build_bias()

    def _output_size(self, length: Any, kernel: int, stride: int) -> Any:
        if self.padding == "VALID":
            return length * stride + max(kernel - stride, 0)
        return length * stride

    def call(self, inputs: Tensor) -> Tensor:
        from caudal import nn
        from caudal.ops.array_ops import shape, stack

        dynamic = shape(inputs)
        static = inputs.shape.as_list()
        if self.data_format == "channels_first":
            h_axis, w_axis = 2, 3
        else:
            h_axis, w_axis = 1, 2
        height = static[h_axis] if static[h_axis] is not None else dynamic[h_axis]
        width = static[w_axis] if static[w_axis] is not None else dynamic[w_axis]
        out_h = self._output_size(height, self.kernel_size[0], self.strides[0])
        out_w = self._output_size(width, self.kernel_size[1], self.strides[1])
        if self.data_format == "channels_first":
            output_shape = stack([dynamic[0], self.filters, out_h, out_w])
            strides = [1, 1, *self.strides]
        else:
            output_shape = stack([dynamic[0], out_h, out_w, self.filters])
            strides = [1, *self.strides, 1]
        outputs = nn.conv2d_transpose(inputs, self.kernel, output_shape, strides, padding=self.padding,
                                      data_format=self._nn_format())
        known = [static[0], None, None, None]
        spatial = [out_h if isinstance(out_h, int) else None, out_w if isinstance(out_w, int) else None]
        if self.data_format == "channels_first":
            known[1:] = [self.filters] + spatial
        else:
            known[1:] = spatial + [self.filters]
        outputs.set_shape(known)
        return self._finish(outputs)


class SeparableConv2D(Conv2D):
    """Depthwise convolution then a 1x1 pointwise convolution (tf.nn.separable_conv2d)."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                 data_format: str = "channels_last", dilation_rate: Any = (1, 1), depth_multiplier: int = 1,
                 depthwise_initializer: Any = None, pointwise_initializer: Any = None,
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None, **kwargs: Any):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, **kwargs)
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = get_initializer(depthwise_initializer)
        self.pointwise_initializer = get_initializer(pointwise_initializer)
        self.depthwise_regularizer = depthwise_regularizer
        self.pointwise_regularizer = pointwise_regularizer

    def build(self, input_shape: TensorShape) -> None:
        channels = self._input_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", list(self.kernel_size) + [channels, self.depth_multiplier],
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", [1, 1, channels * self.depth_multiplier, self.filters],
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer)
        self._build_bias()

    def call(self, inputs: Tensor) -> Tensor:
        from caudal import nn

        if self.data_format == "channels_first":
            strides = [1, 1, *self.strides]
        else:
            strides = [1, *self.strides, 1]
        outputs = nn.separable_conv2d(inputs, self.depthwise_kernel, self.pointwise_kernel, strides=strides,
                                      padding=self.padding, rate=self.dilation_rate,
                                      data_format=self._nn_format())
        return self._finish(outputs)


def _functional(cls: type, inputs: Any, name: str | None, reuse: Any, **kwargs: Any) -> Tensor:
    return cls(name=name, _reuse=reuse, **kwargs).apply(inputs)


def conv1d(inputs: Any, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
           data_format: str = "channels_last", dilation_rate: Any = 1, activation: Any = None,
           use_bias: bool = True, kernel_initializer: Any = None, bias_initializer: Any = init_ops.Zeros(),
           kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
           kernel_constraint: Any = None, bias_constraint: Any = None, trainable: bool = True,
           name: str | None = None, reuse: Any = None) -> Tensor:
    return _functional(Conv1D, inputs, name, reuse, filters=filters, kernel_size=kernel_size, strides=strides,
                       padding=padding, data_format=data_format, dilation_rate=dilation_rate,
                       activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                       bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                       bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                       kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable)


def conv2d(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
           data_format: str = "channels_last", dilation_rate: Any = (1, 1), activation: Any = None,
           use_bias: bool = True, kernel_initializer: Any = None, bias_initializer: Any = init_ops.Zeros(),
           kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
           kernel_constraint: Any = None, bias_constraint: Any = None, trainable: bool = True,
           name: str | None = None, reuse: Any = None) -> Tensor:
    """Functional `Conv2D`: variables `<name>/kernel` [kh, kw, in, filters] and `<name>/bias`."""
    return _functional(Conv2D, inputs, name, reuse, filters=filters, kernel_size=kernel_size, strides=strides,
                       padding=padding, data_format=data_format, dilation_rate=dilation_rate,
                       activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                       bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                       bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                       kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable)


def conv2d_transpose(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                     data_format: str = "channels_last", activation: Any = None, use_bias: bool = True,
                     kernel_initializer: Any = None, bias_initializer: Any = init_ops.Zeros(),
                     kernel_regularizer: Any = None, bias_regularizer: Any = None,
                     activity_regularizer: Any = None, kernel_constraint: Any = None, bias_constraint: Any = None,
                     trainable: bool = True, name: str | None = None, reuse: Any = None) -> Tensor:
    return _functional(Conv2DTranspose, inputs, name, reuse, filters=filters, kernel_size=kernel_size,
                       strides=strides, padding=padding, data_format=data_format, activation=activation,
                       use_bias=use_bias, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                       kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                       activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                       bias_constraint=bias_constraint, trainable=trainable)


def separable_conv2d(inputs: Any, filters: int, kernel_size: Any, strides: Any = (1, 1), padding: str = "valid",
                     data_format: str = "channels_last", dilation_rate: Any = (1, 1), depth_multiplier: int = 1,
                     activation: Any = None, use_bias: bool = True, depthwise_initializer: Any = None,
                     pointwise_initializer: Any = None, bias_initializer: Any = init_ops.Zeros(),
                     depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                     bias_regularizer: Any = None, activity_regularizer: Any = None, trainable: bool = True,
                     name: str | None = None, reuse: Any = None) -> Tensor:
    return _functional(SeparableConv2D, inputs, name, reuse, filters=filters, kernel_size=kernel_size,
                       strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation_rate,
                       depth_multiplier=depth_multiplier, activation=activation, use_bias=use_bias,
                       depthwise_initializer=depthwise_initializer, pointwise_initializer=pointwise_initializer,
                       bias_initializer=bias_initializer, depthwise_regularizer=depthwise_regularizer,
                       pointwise_regularizer=pointwise_regularizer, bias_regularizer=bias_regularizer,
                       activity_regularizer=activity_regularizer, trainable=trainable)


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution2DTranspose = Deconvolution2D = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
convolution2d = conv2d
