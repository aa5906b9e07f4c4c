"""Keras core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Lambda, Masking,
ActivityRegularization, as TF-Keras builds them in graph mode."""
from __future__ import annotations

import base64
import inspect
import marshal
import types
from typing import Any

import numpy as np

import caudal as tf
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.keras import activations, constraints, initializers, regularizers
from caudal.keras import backend as K
from caudal.keras.engine.base_layer import Layer
from caudal.keras.engine.input_spec import InputSpec
from caudal.keras.engine.node import set_keras_mask
from caudal.layers.utils import smart_cond

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute", "RepeatVector", "Lambda", "Masking",
           "ActivityRegularization"]


def _serialize(module: Any, value: Any) -> Any:
    return module.serialize(value) if value is not None else None


class Dense(Layer):
    """activation(inputs @ kernel + bias); inputs of rank > 2 are contracted on their last axis (tensordot)."""

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        self.units = int(units) if not isinstance(units, int) else units
        if self.units < 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: "
                             f"units={units}")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        dtype = dtypes_lib.as_dtype(self._compute_dtype)
        if not (dtype.is_floating or dtype.is_complex):
            raise TypeError(f"A Dense layer can only be built with a floating-point dtype. Received: dtype={dtype}")
        input_shape = TensorShape(input_shape)
        last_dim = input_shape[-1].value
        if last_dim is None:
            raise ValueError("The last dimension of the inputs to a Dense layer should be defined. Found None. Full "
                             f"input shape received: {input_shape}")
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last_dim})
        self.kernel = self.add_weight("kernel", shape=[last_dim, self.units], initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      dtype=self._compute_dtype, trainable=True)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=[self.units], initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        dtype=self._compute_dtype, trainable=True)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        if inputs.dtype.base_dtype != self.kernel.dtype.base_dtype:
            inputs = tf.cast(inputs, self.kernel.dtype.base_dtype)
        rank = inputs.shape.ndims
        if rank == 2 or rank is None:
            outputs = tf.matmul(inputs, self.kernel)
        else:
            outputs = tf.tensordot(inputs, self.kernel, [[rank - 1], [0]])
            outputs.set_shape(inputs.shape.as_list()[:-1] + [self.units])
        if self.use_bias:
            outputs = tf.nn.bias_add(outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        input_shape = TensorShape(input_shape)
        if input_shape[-1].value is None:
            raise ValueError("The last dimension of the input shape of a Dense layer should be defined. Found None. "
                             f"Received: input_shape={input_shape}")
        return input_shape[:-1].concatenate([self.units])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _serialize(regularizers, self.kernel_regularizer),
            "bias_regularizer": _serialize(regularizers, self.bias_regularizer),
            "activity_regularizer": _serialize(regularizers, self.activity_regularizer),
            "kernel_constraint": _serialize(constraints, self.kernel_constraint),
            "bias_constraint": _serialize(constraints, self.bias_constraint)})
        return config


class Activation(Layer):
    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs: Tensor) -> Tensor:
        return self.activation(inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Drops a fraction `rate` of the inputs (scaling the rest by 1 / (1 - rate)) in the training phase; a
    `training` left out means the learning phase (a tf.cond on `keras_learning_phase`)."""

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(rate, (int, float)) and not 0 <= rate <= 1:
            raise ValueError(f"Invalid value {rate} received for `rate`, expected a value between 0 and 1.")
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True

    def _get_noise_shape(self, inputs: Tensor) -> Any:
        if self.noise_shape is None:
            return None
        concrete = tf.shape(inputs)
        return tf.stack([concrete[i] if value is None else value for i, value in enumerate(self.noise_shape)])

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if isinstance(self.rate, (int, float)) and self.rate == 0:
            return tf.identity(inputs)
        if training is None:
            training = K.learning_phase()

        def dropped() -> Tensor:
            return tf.nn.dropout(inputs, noise_shape=self._get_noise_shape(inputs), seed=self.seed, rate=self.rate)

        return smart_cond(training, dropped, lambda: tf.identity(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config


class Flatten(Layer):
    """Flattens all axes but the batch axis (channels_first inputs are moved to channels_last first)."""

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        from caudal.keras.utils.conv_utils import normalize_data_format

        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs: Tensor) -> Tensor:
        if self.data_format == "channels_first":
            rank = inputs.shape.ndims
            if rank and rank > 1:
                inputs = tf.transpose(inputs, [0] + list(range(2, rank)) + [1])
        shape = inputs.shape
        if shape.ndims == 1:
            return tf.expand_dims(inputs, axis=1)
        batch = shape[0].value
        rest = shape[1:]
        if rest.is_fully_defined():
            target: Any = tf.constant([-1, int(np.prod(rest.as_list()))])
        elif batch is not None:
            target = tf.constant([int(batch), -1])
        else:
            target = [tf.shape(inputs)[0], -1]
        return tf.reshape(inputs, target)

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = TensorShape(input_shape).as_list()
        if not dims:
            return TensorShape([1])
        rest = dims[1:]
        return TensorShape([dims[0], int(np.prod(rest)) if all(d is not None for d in rest) else None])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes to (batch,) + target_shape; one entry of target_shape may be -1."""

    def __init__(self, target_shape: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    @staticmethod
    def _fix_unknown_dimension(input_shape: list, output_shape: list) -> list:
        output_shape = list(output_shape)
        message = (f"total size of new array must be unchanged, input_shape = {input_shape}, "
                   f"output_shape = {output_shape}")
        known, unknown = 1, None
        for index, dim in enumerate(output_shape):
            if dim < 0:
                if unknown is None:
                    unknown = index
                else:
                    raise ValueError(f"There must be at most one unknown dimension in output_shape. Received: "
                                     f"output_shape={output_shape}.")
            else:
                known *= dim
        original = int(np.prod(input_shape, dtype=int))
        if unknown is not None:
            if known == 0 or original % known != 0:
                raise ValueError(message)
            output_shape[unknown] = original // known
        elif original != known:
            raise ValueError(message)
        return output_shape

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = TensorShape(input_shape).as_list()
        if None in dims[1:]:
            return TensorShape([dims[0]] + [d if d != -1 else None for d in self.target_shape])
        return TensorShape([dims[0]] + self._fix_unknown_dimension(dims[1:], list(self.target_shape)))

    def call(self, inputs: Tensor) -> Tensor:
        result = tf.reshape(inputs, [tf.shape(inputs)[0]] + list(self.target_shape))
        result.set_shape(self.compute_output_shape(inputs.shape))
        return result

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Permute(Layer):
    """Permutes the non-batch axes; `dims` are 1-based."""

    def __init__(self, dims: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must "
                             f"be consecutive and start from 1. Received dims={dims}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs: Tensor) -> Tensor:
        return tf.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = TensorShape(input_shape).as_list()
        return TensorShape([dims[0]] + [dims[d] for d in self.dims])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """[batch, features] -> [batch, n, features]."""

    def __init__(self, n: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.n = n
        if not isinstance(n, int):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs: Tensor) -> Tensor:
        return K.repeat(inputs, self.n)

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        dims = TensorShape(input_shape).as_list()
        return TensorShape([dims[0], self.n, dims[1]])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["n"] = self.n
        return config


def func_dump(func: Any) -> tuple[str, Any, Any]:
    """A function as Keras stores it in a Lambda config: base64 of its marshalled code, defaults, closure."""
    code = marshal.dumps(func.__code__)
    raw = base64.encodebytes(code).decode("ascii")
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return raw, func.__defaults__, closure


def func_load(code: Any, defaults: Any = None, closure: Any = None, globs: Any = None) -> Any:
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
        if isinstance(defaults, list):
            defaults = tuple(defaults)

    def cell(value: Any) -> Any:
        return (lambda: value).__closure__[0]

    if closure is not None:
        closure = tuple(cell(c) for c in closure)
    raw = base64.decodebytes(code.encode("ascii"))
    loaded = marshal.loads(raw)
    return types.FunctionType(loaded, globs if globs is not None else globals(), name=loaded.co_name,
                              argdefs=defaults, closure=closure)


class Lambda(Layer):
    """Wraps a function of the inputs as a layer (`arguments` are extra keyword arguments)."""

    def __init__(self, function: Any, output_shape: Any = None, mask: Any = None, arguments: Any = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.arguments = arguments or {}
        self.function = function
        self.mask = mask
        self._output_shape = output_shape
        self.supports_masking = mask is not None
        signature = inspect.signature(function).parameters
        self._fn_expects_training_arg = "training" in signature
        self._fn_expects_mask_arg = "mask" in signature

    def call(self, inputs: Any, mask: Any = None, training: Any = None) -> Any:
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._output_shape is None:
            raise NotImplementedError("We could not automatically infer the shape of the Lambda's output. Please "
                                      "specify `output_shape` for this Lambda.")
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        return TensorShape([TensorShape(input_shape)[0].value] + list(self._output_shape))

    def _serialize_function(self, value: Any) -> tuple[Any, str, Any]:
        if isinstance(value, types.FunctionType):
            return func_dump(value), "lambda", value.__module__
        if callable(value) and hasattr(value, "__name__"):
            return value.__name__, "function", value.__module__
        return value, "raw", None

    def get_config(self) -> dict[str, Any]:
        function, function_type, module = self._serialize_function(self.function)
        config = super().get_config()
        config.update({"function": function, "function_type": function_type, "module": module})
        output_shape, output_type, output_module = self._serialize_function(self._output_shape) \
            if callable(self._output_shape) else (self._output_shape, "raw", None)
        config.update({"output_shape": output_shape, "output_shape_type": output_type,
                       "output_shape_module": output_module})
        if self.mask is not None:
            mask, mask_type, mask_module = self._serialize_function(self.mask)
            config.update({"mask": mask, "mask_type": mask_type, "mask_module": mask_module})
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Lambda:
        import sys

        from caudal.keras.utils.generic_utils import get_custom_objects

        config = dict(config)
        objects = dict(get_custom_objects())
        objects.update(custom_objects or {})

        def load(prefix: str, key: str) -> Any:
            value = config.pop(key)
            kind = config.pop(f"{prefix}_type", "raw")
            module = config.pop(f"{prefix}_module", None) if prefix != "function" else config.pop("module", None)
            if kind == "function":
                if value in objects:
                    return objects[value]
                found = getattr(sys.modules.get(module or "", None), value, None) if module else None
                if found is None:
                    raise ValueError(f"Unknown function: '{value}'. Please ensure you are using a "
                                     "`keras.utils.custom_object_scope` and that this object is included in the scope. "
                                     "See https://www.tensorflow.org/guide/keras/save_and_serialize"
                                     "#registering_the_custom_object for details.")
                return found
            if kind == "lambda":
                globs = dict(vars(sys.modules[module])) if module in sys.modules else {}
                globs.update(objects)
                globs.setdefault("tf", tf)
                return func_load(value, globs=globs)
            return value

        function = load("function", "function")
        output_shape = load("output_shape", "output_shape") if "output_shape" in config else None
        if isinstance(output_shape, list):
            output_shape = tuple(output_shape)
        mask = load("mask", "mask") if "mask" in config else None
        return cls(function=function, output_shape=output_shape, mask=mask, **config)


class Masking(Layer):
    """Marks timesteps whose every feature equals `mask_value` as masked (and zeroes them)."""

    def __init__(self, mask_value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.mask_value = mask_value

    def compute_mask(self, inputs: Tensor, mask: Any = None) -> Tensor:
        return tf.reduce_any(tf.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs: Tensor) -> Tensor:
        keep = tf.reduce_any(tf.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        outputs = inputs * tf.cast(keep, inputs.dtype.base_dtype)
        set_keras_mask(outputs, tf.squeeze(keep, axis=-1))
        return outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


class ActivityRegularization(Layer):
    """Passes its inputs through and adds l1 * sum|x| + l2 * sum x^2 (per batch element) to the losses."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any):  # noqa: E741
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"l1": self.l1, "l2": self.l2})
        return config
