"""`tf.layers` pooling: MaxPooling1D/2D, AveragePooling1D/2D, and functional forms."""
from __future__ import annotations

from typing import Any

from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.layers.base import Layer
from caudal.layers.utils import conv_output_length, normalize_data_format, normalize_padding, normalize_tuple


class _Pooling(Layer):
    def __init__(self, rank: int, kind: str, pool_size: Any, strides: Any, padding: str = "valid",
                 data_format: str = "channels_last", name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.rank = rank
        self.kind = kind
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs: Tensor) -> Tensor:
        from caudal import nn
        from caudal.ops.array_ops import expand_dims, squeeze

        pool = nn.max_pool if self.kind == "max" else nn.avg_pool
        first = self.data_format == "channels_first"
        if self.rank == 1:
            # A 1-D pool is a 2-D pool over a height of 1, as TF builds it.
            axis = 2 if first else 1
            expanded = expand_dims(inputs, axis)
            window = [1, 1, 1, self.pool_size[0]] if first else [1, 1, self.pool_size[0], 1]
            steps = [1, 1, 1, self.strides[0]] if first else [1, 1, self.strides[0], 1]
            pooled = pool(expanded, window, steps, self.padding, data_format="NCHW" if first else "NHWC")
            return squeeze(pooled, [axis])
        window = [1, 1, *self.pool_size] if first else [1, *self.pool_size, 1]
        steps = [1, 1, *self.strides] if first else [1, *self.strides, 1]
        return pool(inputs, window, steps, self.padding, data_format="NCHW" if first else "NHWC")

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = TensorShape(input_shape).as_list()
        first = self.data_format == "channels_first"
        spatial = dims[2:] if first else dims[1:-1]
        out = [conv_output_length(d, k, self.padding, s) for d, k, s in zip(spatial, self.pool_size, self.strides)]
        return TensorShape([dims[0], dims[1]] + out if first else [dims[0]] + out + [dims[-1]])


class MaxPooling1D(_Pooling):
    def __init__(self, pool_size: Any, strides: Any, padding: str = "valid", data_format: str = "channels_last",
                 name: str | None = None, **kwargs: Any):
        super().__init__(1, "max", pool_size, strides, padding, data_format, name, **kwargs)


class AveragePooling1D(_Pooling):
    def __init__(self, pool_size: Any, strides: Any, padding: str = "valid", data_format: str = "channels_last",
                 name: str | None = None, **kwargs: Any):
        super().__init__(1, "avg", pool_size, strides, padding, data_format, name, **kwargs)


class MaxPooling2D(_Pooling):
    def __init__(self, pool_size: Any, strides: Any, padding: str = "valid", data_format: str = "channels_last",
                 name: str | None = None, **kwargs: Any):
        super().__init__(2, "max", pool_size, strides, padding, data_format, name, **kwargs)


class AveragePooling2D(_Pooling):
    def __init__(self, pool_size: Any, strides: Any, padding: str = "valid", data_format: str = "channels_last",
                 name: str | None = None, **kwargs: Any):
        super().__init__(2, "avg", pool_size, strides, padding, data_format, name, **kwargs)


def max_pooling1d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                  data_format: str = "channels_last", name: str | None = None) -> Tensor:
    return MaxPooling1D(pool_size, strides, padding, data_format, name).apply(inputs)


def average_pooling1d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                      data_format: str = "channels_last", name: str | None = None) -> Tensor:
    return AveragePooling1D(pool_size, strides, padding, data_format, name).apply(inputs)


def max_pooling2d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                  data_format: str = "channels_last", name: str | None = None) -> Tensor:
    return MaxPooling2D(pool_size, strides, padding, data_format, name).apply(inputs)


def average_pooling2d(inputs: Any, pool_size: Any, strides: Any, padding: str = "valid",
                      data_format: str = "channels_last", name: str | None = None) -> Tensor:
    return AveragePooling2D(pool_size, strides, padding, data_format, name).apply(inputs)


MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
