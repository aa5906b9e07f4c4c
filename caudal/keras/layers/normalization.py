"""Keras BatchNormalization and LayerNormalization, as TF-Keras 2.x computes them in graph mode.

BatchNormalization on 4-D inputs normalized on axis 3 (or 1) uses the fused op: in training, the batch
statistics normalize and the moving variance moves towards the batch variance with Bessel's correction;
on other inputs, `tf.nn.moments` (the biased variance) and `tf.nn.batch_normalization`. With `training`
left out the learning phase decides (a tf.cond), and the moving averages are always updated, with
momentum 1 outside training. A layer that is not trainable normalizes with the moving statistics.
The updates are `layer.updates`, run by `fit`; in a plain TF1 program, run them with the train op.
"""
from __future__ import annotations

from typing import Any

import caudal as tf
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.keras import backend as K
from caudal.keras import constraints, initializers, regularizers
from caudal.keras.engine.base_layer import Layer
from caudal.keras.engine.input_spec import InputSpec
from caudal.layers.utils import smart_cond

__all__ = ["BatchNormalization", "LayerNormalization"]


def _ser(module: Any, value: Any) -> Any:
    return module.serialize(value) if value is not None else None


def _validate_axis(axis: Any, input_shape: TensorShape) -> list[int]:
    rank = input_shape.ndims
    if not rank:
        raise ValueError(f"Input has undefined rank. Received: input_shape={input_shape}")
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    for i, a in enumerate(axes):
        if a < 0:
            axes[i] = a + rank
    for a in axes:
        if a < 0 or a >= rank:
            raise ValueError(f"Invalid value for `axis` argument. Expected 0 <= axis < inputs.rank (with inputs.rank="
                             f"{rank}). Received: axis={tuple(axes)}")
    if len(axes) != len(set(axes)):
        raise ValueError(f"Duplicate axis: {tuple(axes)}")
    return axes


class BatchNormalization(Layer):
    def __init__(self, axis: Any = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, fused: Any = None, **kwargs: Any):
        for unsupported in ("renorm", "virtual_batch_size", "adjustment"):
            if kwargs.pop(unsupported, None):
                raise ValueError(f"caudal's Keras BatchNormalization does not support `{unsupported}`")
        kwargs.pop("renorm_clipping", None)
        kwargs.pop("renorm_momentum", None)
        kwargs.pop("synchronized", None)
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.fused = fused
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        input_shape = TensorShape(input_shape)
        self.axis = _validate_axis(self.axis, input_shape)
        rank = input_shape.ndims
        if self.fused is None:
            self.fused = rank in (4, 5)
        elif self.fused and rank not in (4, 5):
            raise ValueError("Batch normalization layers with `fused=True` only support 4D or 5D input tensors. "
                             f"Received tensor with shape: {tuple(input_shape)}")
        if self.fused:
            formats = {(1, 4): "NCHW", (3, 4): "NHWC", (1, 5): "NCDHW", (4, 5): "NDHWC"}
            key = (self.axis[0], rank) if len(self.axis) == 1 else None
            if key in formats:
                self._data_format = formats[key]
            elif rank == 5:
                self.fused = False
            else:
                raise ValueError("Unsupported axis. The use of `fused=True` is only possible with `axis=1` or "
                                 f"`axis=3` for 4D input tensors. Received: axis={tuple(self.axis)}")
        axis_to_dim = {a: input_shape[a].value for a in self.axis}
        for dim in axis_to_dim.values():
            if dim is None:
                raise ValueError(f"Input has undefined `axis` dimension. Received input with shape "
                                 f"{tuple(input_shape)} and axis={tuple(self.axis)}")
        self.input_spec = InputSpec(ndim=rank, axes=axis_to_dim)
        if len(axis_to_dim) == 1:
            param_shape: Any = (list(axis_to_dim.values())[0],)
        else:
            param_shape = [axis_to_dim.get(i, 1) for i in range(rank)]
        self._param_shape = param_shape
        param_dtype = "float32" if self._compute_dtype in ("float16", "bfloat16") else self._compute_dtype
        self.gamma = self.add_weight("gamma", shape=param_shape, dtype=param_dtype, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                                     trainable=True) if self.scale else None
        self.beta = self.add_weight("beta", shape=param_shape, dtype=param_dtype, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                                    trainable=True) if self.center else None
        self.moving_mean = self.add_weight("moving_mean", shape=param_shape, dtype=param_dtype,
                                           initializer=self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape=param_shape, dtype=param_dtype,
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.built = True

    def _assign_moving_average(self, variable: Any, value: Any, momentum: Any) -> Any:
        with tf.name_scope("AssignMovingAvg") as scope:
            decay = tf.convert_to_tensor(1.0 - momentum, name="decay")
            if decay.dtype.base_dtype != variable.dtype.base_dtype:
                decay = tf.cast(decay, variable.dtype.base_dtype)
            delta = (variable - tf.cast(value, variable.dtype.base_dtype)) * decay
            return tf.assign_sub(variable, delta, name=scope)

    def _training_value(self, training: Any) -> Any:
        if training is None:
            training = K.learning_phase()
        if isinstance(training, int):
            training = bool(training)
        if not self.trainable:
            training = False
        return training

    def call(self, inputs: Tensor, training: Any = None, mask: Any = None) -> Tensor:
        inputs = tf.cast(inputs, self._compute_dtype)
        training = self._training_value(training)
        if self.fused:
            return self._fused_call(inputs, training)
        return self._plain_call(inputs, training)

    def _parameters(self) -> tuple[Any, Any]:
        gamma = self.gamma if self.scale else K.constant(1.0, shape=self._param_shape)
        beta = self.beta if self.center else K.constant(0.0, shape=self._param_shape)
        return gamma, beta

    def _fused_call(self, inputs: Tensor, training: Any) -> Tensor:
        gamma, beta = self._parameters()

        def train() -> tuple:
            return tf.nn.fused_batch_norm(inputs, gamma, beta, mean=self.moving_mean, variance=self.moving_variance,
                                          epsilon=self.epsilon, is_training=True, data_format=self._data_format)

        def infer() -> tuple:
            return tf.nn.fused_batch_norm(inputs, gamma, beta, mean=self.moving_mean, variance=self.moving_variance,
                                          epsilon=self.epsilon, is_training=False, data_format=self._data_format)

        output, mean, variance = smart_cond(training, train, infer)
        known = training if isinstance(training, bool) else None
        if known is None or known:
            momentum = smart_cond(training, lambda: tf.constant(self.momentum),
                                  lambda: tf.constant(1.0)) if known is None else tf.convert_to_tensor(self.momentum)
            self.add_update(self._assign_moving_average(self.moving_mean, mean, momentum))
            self.add_update(self._assign_moving_average(self.moving_variance, variance, momentum))
        return output

    def _plain_call(self, inputs: Tensor, training: Any) -> Tensor:
        shape = inputs.shape
        rank = shape.ndims
        reduction_axes = [i for i in range(rank) if i not in self.axis]
        broadcast_shape = [1] * rank
        broadcast_shape[self.axis[0]] = shape[self.axis[0]].value

        def broadcast(value: Any) -> Any:
            if value is not None and len(value.shape) != rank and reduction_axes != list(range(rank - 1)):
                return tf.reshape(value, broadcast_shape)
            return value

        scale, offset = broadcast(self.gamma), broadcast(self.beta)
        known = training if isinstance(training, bool) else None
        if known is False:
            mean, variance = self.moving_mean, self.moving_variance
        else:
            batch_mean, batch_variance = tf.nn.moments(tf.cast(inputs, self.moving_mean.dtype.base_dtype),
                                                       reduction_axes, keep_dims=len(self.axis) > 1)
            mean = smart_cond(training, lambda: batch_mean, lambda: tf.convert_to_tensor(self.moving_mean))
            variance = smart_cond(training, lambda: batch_variance,
                                  lambda: tf.convert_to_tensor(self.moving_variance))
            self.add_update(smart_cond(training,
                                       lambda: self._assign_moving_average(self.moving_mean, mean, self.momentum),
                                       lambda: tf.convert_to_tensor(self.moving_mean)))
            self.add_update(smart_cond(
                training, lambda: self._assign_moving_average(self.moving_variance, variance, self.momentum),
                lambda: tf.convert_to_tensor(self.moving_variance)))
        dtype = inputs.dtype.base_dtype
        mean, variance = tf.cast(mean, dtype), tf.cast(variance, dtype)
        offset = tf.cast(offset, dtype) if offset is not None else None
        scale = tf.cast(scale, dtype) if scale is not None else None
        outputs = tf.nn.batch_normalization(inputs, broadcast(mean), broadcast(variance), offset, scale, self.epsilon)
        outputs.set_shape(shape)
        return outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale, "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": _ser(regularizers, self.beta_regularizer),
            "gamma_regularizer": _ser(regularizers, self.gamma_regularizer),
            "beta_constraint": _ser(constraints, self.beta_constraint),
            "gamma_constraint": _ser(constraints, self.gamma_constraint)})
        return config


class LayerNormalization(Layer):
    """Normalizes each sample over `axis` (the last by default), then scales by gamma and shifts by beta."""

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None, gamma_constraint: Any = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        input_shape = TensorShape(input_shape)
        self.axis = _validate_axis(self.axis, input_shape)
        param_shape = [input_shape[a].value for a in self.axis]
        self.gamma = self.add_weight("gamma", shape=param_shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                                     trainable=True) if self.scale else None
        self.beta = self.add_weight("beta", shape=param_shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                                    trainable=True) if self.center else None
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        shape = inputs.shape
        rank = shape.ndims
        broadcast_shape = [1] * rank
        for a in self.axis:
            broadcast_shape[a] = shape[a].value

        def broadcast(value: Any) -> Any:
            if value is not None and len(value.shape) != rank and self.axis != [rank - 1]:
                return tf.reshape(value, broadcast_shape)
            return value

        mean, variance = tf.nn.moments(inputs, self.axis, keep_dims=True)
        outputs = tf.nn.batch_normalization(inputs, mean, variance, offset=broadcast(self.beta),
                                            scale=broadcast(self.gamma), variance_epsilon=self.epsilon)
        outputs.set_shape(shape)
        return outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": _ser(regularizers, self.beta_regularizer),
            "gamma_regularizer": _ser(regularizers, self.gamma_regularizer),
            "beta_constraint": _ser(constraints, self.beta_constraint),
            "gamma_constraint": _ser(constraints, self.gamma_constraint)})
        return config
