"""`tf.layers.Dense`, `Flatten`, `Dropout` and their functional forms."""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal import init_ops
from caudal.framework.convert import convert_to_tensor
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.layers.base import Layer
from caudal.layers.utils import get_initializer, smart_cond


class Dense(Layer):
    """outputs = activation(inputs @ kernel + bias); inputs of rank > 2 contract their last axis."""

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True, kernel_initializer: Any = None,
                 bias_initializer: Any = init_ops.Zeros(), kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, trainable: bool = True, name: str | None = None, **kwargs: Any):
        super().__init__(trainable=trainable, name=name, activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
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

    def build(self, input_shape: TensorShape) -> None:
        last = TensorShape(input_shape)[-1].value
        if last is None:
            raise ValueError("The last dimension of the inputs to `Dense` should be defined. Found `None`.")
        self.kernel = self.add_weight("kernel", [last, self.units], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", [self.units], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        from caudal import nn
        from caudal.ops.math_ops import cast, matmul

        inputs = convert_to_tensor(inputs)
        if inputs.dtype.base_dtype != self.kernel.dtype.base_dtype:
            inputs = cast(inputs, self.kernel.dtype.base_dtype)
        rank = inputs.shape.ndims
        if rank is not None and rank > 2:
            from caudal.ops.array_ops import concat, reshape, shape

            flat = reshape(inputs, [-1, inputs.shape[-1].value])
            outputs = matmul(flat, self.kernel)
            outputs = reshape(outputs, concat([shape(inputs)[:-1], [self.units]], 0))
            outputs.set_shape(inputs.shape[:-1].concatenate([self.units]))
        else:
            outputs = matmul(inputs, self.kernel)
        if self.use_bias:
            outputs = nn.bias_add(outputs, self.bias)
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        return TensorShape(input_shape)[:-1].concatenate([self.units])


def dense(inputs: Any, units: int, activation: Any = None, use_bias: bool = True, kernel_initializer: Any = None,
          bias_initializer: Any = init_ops.Zeros(), kernel_regularizer: Any = None, bias_regularizer: Any = None,
          activity_regularizer: Any = None, kernel_constraint: Any = None, bias_constraint: Any = None,
          trainable: bool = True, name: str | None = None, reuse: Any = None) -> Tensor:
    """Functional `Dense`: variables `<name>/kernel` and `<name>/bias` (name defaults to `dense`)."""
    layer = Dense(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                  bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                  bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                  kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, trainable=trainable,
                  name=name, _reuse=reuse, _scope=None)
    return layer.apply(inputs)


class Flatten(Layer):
    """Flattens all but the first (batch) dimension; `channels_first` data is moved to channels_last first."""

    def __init__(self, data_format: str = "channels_last", name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.data_format = data_format

    def call(self, inputs: Tensor) -> Tensor:
        from caudal.ops.array_ops import reshape, shape, stack, transpose

        if self.data_format == "channels_first" and inputs.shape.ndims and inputs.shape.ndims > 2:
            rank = inputs.shape.ndims
            inputs = transpose(inputs, [0] + list(range(2, rank)) + [1])
        dims = inputs.shape.as_list() if inputs.shape.ndims is not None else None
        if dims is not None and all(d is not None for d in dims[1:]):
            flat = int(np.prod(dims[1:])) if len(dims) > 1 else 1
            return reshape(inputs, [-1, flat])
        return reshape(inputs, stack([shape(inputs)[0], -1]))

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = TensorShape(input_shape).as_list()
        rest = dims[1:]
        return TensorShape([dims[0], int(np.prod(rest)) if all(d is not None for d in rest) else None])


def flatten(inputs: Any, name: str | None = None, data_format: str = "channels_last") -> Tensor:
    return Flatten(data_format=data_format, name=name).apply(inputs)


class Dropout(Layer):
    """Drops units with probability `rate` when `training` (a bool or a bool tensor) is true."""

    def __init__(self, rate: float = 0.5, noise_shape: Any = None, seed: int | None = None,
                 name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs: Tensor, training: Any = False) -> Tensor:
        from caudal import nn
        from caudal.ops.control_ops import identity

        def dropped() -> Tensor:
            return nn.dropout(inputs, noise_shape=self.noise_shape, seed=self.seed, rate=self.rate)

        return smart_cond(training, dropped, lambda: identity(inputs))

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        return TensorShape(input_shape)


def dropout(inputs: Any, rate: float = 0.5, noise_shape: Any = None, seed: int | None = None,
            training: Any = False, name: str | None = None) -> Tensor:
    """Functional `Dropout`. Note `rate` is the fraction dropped, unlike tf.nn.dropout's keep_prob."""
    return Dropout(rate, noise_shape=noise_shape, seed=seed, name=name).apply(inputs, training=training)

