"""Keras pooling layers: Max/AveragePooling1D/2D (a 1-D pool is a 2-D pool over a width of 1) and the
global poolings (GlobalAveragePooling1D honours a mask)."""
from __future__ import annotations

from typing import Any

import caudal as tf
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.keras import backend as K
from caudal.keras.engine.base_layer import Layer
from caudal.keras.engine.input_spec import InputSpec
from caudal.keras.utils import conv_utils

__all__ = ["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D",
           "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D"]


class _Pooling1D(Layer):
    _MODE = "max"

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str = "channels_last", **kwargs: Any):
        super().__init__(**kwargs)
        strides = pool_size if strides is None else strides
        self.pool_size = conv_utils.normalize_tuple(pool_size, 1, "pool_size")
        self.strides = conv_utils.normalize_tuple(strides, 1, "strides", allow_zero=True)
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs: Tensor) -> Tensor:
        axis = 2 if self.data_format == "channels_last" else 3
        expanded = tf.expand_dims(inputs, axis)
        pooled = K.pool2d(expanded, self.pool_size + (1,), strides=self.strides + (1,), padding=self.padding,
                          data_format=self.data_format, pool_mode=self._MODE)
        return tf.squeeze(pooled, [axis])

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = TensorShape(input_shape).as_list()
        steps = dims[1] if self.data_format == "channels_last" else dims[2]
        length = conv_utils.conv_output_length(steps, self.pool_size[0], self.padding, self.strides[0])
        if self.data_format == "channels_first":
            return TensorShape([dims[0], dims[1], length])
        return TensorShape([dims[0], length, dims[2]])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"strides": self.strides, "pool_size": self.pool_size, "padding": self.padding,
                       "data_format": self.data_format})
        return config


class _Pooling2D(Layer):
    _MODE = "max"

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        strides = pool_size if strides is None else strides
        self.pool_size = conv_utils.normalize_tuple(pool_size, 2, "pool_size")
        self.strides = conv_utils.normalize_tuple(strides, 2, "strides", allow_zero=True)
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs: Tensor) -> Tensor:
        return K.pool2d(inputs, self.pool_size, strides=self.strides, padding=self.padding,
                        data_format=self.data_format, pool_mode=self._MODE)

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = TensorShape(input_shape).as_list()
        rows, cols = (dims[2], dims[3]) if self.data_format == "channels_first" else (dims[1], dims[2])
        rows = conv_utils.conv_output_length(rows, self.pool_size[0], self.padding, self.strides[0])
        cols = conv_utils.conv_output_length(cols, self.pool_size[1], self.padding, self.strides[1])
        if self.data_format == "channels_first":
            return TensorShape([dims[0], dims[1], rows, cols])
        return TensorShape([dims[0], rows, cols, dims[3]])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding, "strides": self.strides,
                       "data_format": self.data_format})
        return config


class MaxPooling1D(_Pooling1D):
    _MODE = "max"


class AveragePooling1D(_Pooling1D):
    _MODE = "avg"


class MaxPooling2D(_Pooling2D):
    _MODE = "max"


class AveragePooling2D(_Pooling2D):
    _MODE = "avg"


class _GlobalPooling(Layer):
    _RANK = 1

    def __init__(self, data_format: str = "channels_last", keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self._RANK + 2)

    def _axes(self) -> list[int]:
        spatial = list(range(1, self._RANK + 1))
        return spatial if self.data_format == "channels_last" else [a + 1 for a in spatial]

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = TensorShape(input_shape).as_list()
        axes = self._axes()
        if self.keepdims:
            return TensorShape([1 if i in axes else d for i, d in enumerate(dims)])
        return TensorShape([d for i, d in enumerate(dims) if i not in axes])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling1D(_GlobalPooling):
    def __init__(self, data_format: str = "channels_last", **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self.supports_masking = True

    def call(self, inputs: Tensor, mask: Any = None) -> Tensor:
        steps_axis = 1 if self.data_format == "channels_last" else 2
        if mask is not None:
            mask = tf.cast(mask, inputs.dtype.base_dtype)
            mask = tf.expand_dims(mask, 2 if self.data_format == "channels_last" else 1)
            inputs = inputs * mask
            return K.sum(inputs, axis=steps_axis, keepdims=self.keepdims) / tf.reduce_sum(
                mask, axis=steps_axis, keepdims=self.keepdims)
        return K.mean(inputs, axis=steps_axis, keepdims=self.keepdims)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


class GlobalMaxPooling1D(_GlobalPooling):
    def call(self, inputs: Tensor) -> Tensor:
        return K.max(inputs, axis=1 if self.data_format == "channels_last" else 2, keepdims=self.keepdims)


class GlobalAveragePooling2D(_GlobalPooling):
    _RANK = 2

    def call(self, inputs: Tensor) -> Tensor:
        return K.mean(inputs, axis=self._axes(), keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling):
    _RANK = 2

    def call(self, inputs: Tensor) -> Tensor:
        return K.max(inputs, axis=self._axes(), keepdims=self.keepdims)


MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
