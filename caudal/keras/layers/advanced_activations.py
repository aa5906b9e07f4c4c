"""Keras activation layers: LeakyReLU, ReLU, Softmax, ELU, PReLU, ThresholdedReLU."""
from __future__ import annotations

from typing import Any

import numpy as np

import caudal as tf
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.keras import backend as K
from caudal.keras import constraints, initializers, regularizers
from caudal.keras.engine.base_layer import Layer
from caudal.keras.engine.input_spec import InputSpec

__all__ = ["LeakyReLU", "ReLU", "Softmax", "ELU", "PReLU", "ThresholdedReLU"]


def _f32(value: Any) -> float:
    """Keras casts these factors to floatx, so configs show the float32 value."""
    return float(np.float32(value))


class LeakyReLU(Layer):
    def __init__(self, alpha: float = 0.3, **kwargs: Any):
        super().__init__(**kwargs)
        if alpha is None:
            raise ValueError("The alpha value of a Leaky ReLU layer cannot be None. Expecting a float. Received: "
                             f"{alpha}")
        self.supports_masking = True
        self.alpha = _f32(alpha)

    def call(self, inputs: Tensor) -> Tensor:
        return K.relu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ReLU(Layer):
    def __init__(self, max_value: Any = None, negative_slope: float = 0.0, threshold: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: {max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError(f"negative_slope of a ReLU layer cannot be a negative value. Received: {negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError(f"threshold of a ReLU layer cannot be a negative value. Received: {threshold}")
        self.supports_masking = True
        self.max_value = _f32(max_value) if max_value is not None else None
        self.negative_slope = _f32(negative_slope)
        self.threshold = _f32(threshold)

    def call(self, inputs: Tensor) -> Tensor:
        return K.relu(inputs, alpha=self.negative_slope, max_value=self.max_value, threshold=self.threshold)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class Softmax(Layer):
    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.axis = axis

    def call(self, inputs: Tensor, mask: Any = None) -> Tensor:
        if mask is not None:
            adder = (1.0 - tf.cast(mask, inputs.dtype.base_dtype)) * -1e9
            inputs += adder
        if isinstance(self.axis, (tuple, list)):
            if len(self.axis) > 1:
                return tf.exp(inputs - tf.reduce_logsumexp(inputs, axis=self.axis, keepdims=True))
            return K.softmax(inputs, axis=self.axis[0])
        return K.softmax(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        return config


class ELU(Layer):
    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        if alpha is None:
            raise ValueError(f"Alpha of an ELU layer cannot be None, expecting a float. Received: {alpha}")
        self.supports_masking = True
        self.alpha = _f32(alpha)

    def call(self, inputs: Tensor) -> Tensor:
        return K.elu(inputs, self.alpha)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ThresholdedReLU(Layer):
    def __init__(self, theta: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        if theta is None or theta < 0:
            raise ValueError(f"Theta of a Thresholded ReLU layer cannot be None or negative, expecting a float. "
                             f"Received: {theta}")
        self.supports_masking = True
        self.theta = _f32(theta)

    def call(self, inputs: Tensor) -> Tensor:
        dtype = inputs.dtype.base_dtype
        return inputs * tf.cast(tf.greater(inputs, tf.cast(self.theta, dtype)), dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["theta"] = self.theta
        return config


class PReLU(Layer):
    """max(x, 0) + alpha * min(x, 0) with a learned `alpha` per unit (shared along `shared_axes`)."""

    def __init__(self, alpha_initializer: Any = "zeros", alpha_regularizer: Any = None, alpha_constraint: Any = None,
                 shared_axes: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None or isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes) if shared_axes is not None else None
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape: Any) -> None:
        dims = TensorShape(input_shape).as_list()
        param_shape = list(dims[1:])
        if self.shared_axes is not None:
            for axis in self.shared_axes:
                param_shape[axis - 1] = 1
        self.alpha = self.add_weight("alpha", shape=param_shape, initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        axes = {}
        if self.shared_axes:
            for i in range(1, len(dims)):
                if i not in self.shared_axes:
                    axes[i] = dims[i]
        self.input_spec = InputSpec(ndim=len(dims), axes=axes)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        positive = K.relu(inputs)
        negative = -self.alpha * K.relu(-inputs)
        return positive + negative

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"alpha_initializer": initializers.serialize(self.alpha_initializer),
                       "alpha_regularizer": regularizers.serialize(self.alpha_regularizer)
                       if self.alpha_regularizer is not None else None,
                       "alpha_constraint": constraints.serialize(self.alpha_constraint)
                       if self.alpha_constraint is not None else None,
                       "shared_axes": self.shared_axes})
        return config
