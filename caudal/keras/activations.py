"""`tf.keras.activations`: activation functions by name, as Keras resolves them (None is `linear`)."""
from __future__ import annotations

import math
from typing import Any

import caudal as tf
from caudal.framework.tensor import Tensor
from caudal.keras import _backend_nn as K_nn
from caudal.keras.utils.generic_utils import deserialize_keras_object

__all__ = ["softmax", "elu", "selu", "softplus", "softsign", "swish", "relu", "gelu", "tanh", "sigmoid",
           "exponential", "hard_sigmoid", "linear", "get", "serialize", "deserialize"]


def softmax(x: Any, axis: int = -1) -> Tensor:
    return K_nn.softmax(x, axis=axis)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    return K_nn.elu(x, alpha)


def selu(x: Any) -> Tensor:
    return tf.nn.selu(x)


def softplus(x: Any) -> Tensor:
    return tf.nn.softplus(x)


def softsign(x: Any) -> Tensor:
    return tf.nn.softsign(x)


def swish(x: Any) -> Tensor:
    return tf.nn.swish(x)


def relu(x: Any, alpha: float = 0.0, max_value: Any = None, threshold: float = 0.0) -> Tensor:
    return K_nn.relu(x, alpha=alpha, max_value=max_value, threshold=threshold)


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """x * Phi(x), or its tanh approximation."""
    x = tf.convert_to_tensor(x)
    if approximate:
        coeff = tf.cast(0.044715, x.dtype)
        return 0.5 * x * (1.0 + tf.tanh(tf.cast(math.sqrt(2.0 / math.pi), x.dtype) * (x + coeff * tf.pow(x, 3))))
    return 0.5 * x * (1.0 + tf.erf(x / tf.cast(math.sqrt(2.0), x.dtype)))


def tanh(x: Any) -> Tensor:
    return tf.tanh(x)


def sigmoid(x: Any) -> Tensor:
    return tf.sigmoid(x)


def exponential(x: Any) -> Tensor:
    return tf.exp(x)


def hard_sigmoid(x: Any) -> Tensor:
    return K_nn.hard_sigmoid(x)


def linear(x: Any) -> Any:
    return x


_BY_NAME = {fn.__name__: fn for fn in (softmax, elu, selu, softplus, softsign, swish, relu, gelu, tanh, sigmoid,
                                       exponential, hard_sigmoid, linear)}


def serialize(activation: Any) -> Any:
    """The activation's name (a function), or its config (a layer such as LeakyReLU)."""
    if hasattr(activation, "get_config"):
        return {"class_name": type(activation).__name__, "config": activation.get_config()}
    name = getattr(activation, "__name__", None)
    if name in _BY_NAME and _BY_NAME[name] is activation:
        return name
    if name is not None:
        from caudal.keras.utils.generic_utils import get_registered_name

        return get_registered_name(activation)
    raise ValueError(f"Unknown activation function '{activation}' cannot be serialized due to invalid function "
                     "name. Make sure to use an activation name that matches the references defined in "
                     "activations.py or use `tf.keras.utils.register_keras_serializable` to register any custom "
                     "activations.")


def deserialize(name: Any, custom_objects: dict | None = None) -> Any:
    objects = dict(_BY_NAME)
    if isinstance(name, dict):
        from caudal.keras.layers import advanced_activations

        objects.update({n: getattr(advanced_activations, n) for n in advanced_activations.__all__})
    return deserialize_keras_object(name, module_objects=objects, custom_objects=custom_objects,
                                    printable_module_name="activation function")


def get(identifier: Any) -> Any:
    """A function from None (linear), a name, a config dict or a callable; ValueError otherwise."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret activation function identifier: {identifier}")
