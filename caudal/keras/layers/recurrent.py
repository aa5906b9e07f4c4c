"""Keras recurrent layers: the RNN layer over a cell, SimpleRNN, LSTM and GRU (TF-Keras 2.x defaults).

The layer runs `K.rnn` (a tf.while_loop over the time axis, or a Python loop with `unroll=True`). Cell
weights live under `<layer>/<cell>/`: `lstm/lstm_cell/kernel:0`, `recurrent_kernel`, `bias`. LSTM gates
are ordered i, f, c, o (recurrent activation sigmoid, forget bias 1); GRU gates z, r, h with
`reset_after=True` (bias of shape (2, 3 * units): input bias, then recurrent bias). `return_sequences`,
`return_state`, `go_backwards`, masks and `initial_state` are supported; `stateful` is not.
"""
from __future__ import annotations

from typing import Any

import caudal as tf
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.keras import activations, constraints, initializers, regularizers
from caudal.keras import backend as K
from caudal.keras.engine.base_layer import Layer
from caudal.keras.engine.input_spec import InputSpec
from caudal.keras.engine.node import is_keras_tensor
from caudal.util import nest

__all__ = ["RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "SimpleRNN", "LSTM", "GRU"]


def _ser(module: Any, value: Any) -> Any:
    return module.serialize(value) if value is not None else None


class _DropoutCell(Layer):
    """Shared by the cells: weights, dropout masks made once per layer call, and the common config."""

    _GATES = 1

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0, recurrent_dropout: float = 0.0, **kwargs: Any):
        if units <= 0:
            raise ValueError(f"Received an invalid value for argument `units`, expected a positive integer, got "
                             f"{units}.")
        super().__init__(**kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self._dropout_mask: Any = None
        self._recurrent_dropout_mask: Any = None

    def _build_kernels(self, input_dim: int) -> None:
        width = self.units * self._GATES
        self.kernel = self.add_weight("kernel", shape=(input_dim, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", shape=(self.units, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)

    def _masks(self, inputs: Tensor, states: Tensor, training: Any) -> tuple[Any, Any]:
        if 0 < self.dropout < 1 and self._dropout_mask is None:
            self._dropout_mask = _dropout_masks(inputs, self.dropout, training, self._GATES)
        if 0 < self.recurrent_dropout < 1 and self._recurrent_dropout_mask is None:
            self._recurrent_dropout_mask = _dropout_masks(states, self.recurrent_dropout, training, self._GATES)
        return self._dropout_mask, self._recurrent_dropout_mask

    def reset_dropout_mask(self) -> None:
        self._dropout_mask = None
        self._recurrent_dropout_mask = None

    def get_initial_state(self, inputs: Any = None, batch_size: Any = None, dtype: Any = None) -> list[Tensor]:
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [tf.zeros(tf.stack([batch_size, size]), dtype=dtype) for size in sizes]

    def _common_config(self) -> dict[str, Any]:
        return {
            "units": self.units, "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _ser(regularizers, self.kernel_regularizer),
            "recurrent_regularizer": _ser(regularizers, self.recurrent_regularizer),
            "bias_regularizer": _ser(regularizers, self.bias_regularizer),
            "kernel_constraint": _ser(constraints, self.kernel_constraint),
            "recurrent_constraint": _ser(constraints, self.recurrent_constraint),
            "bias_constraint": _ser(constraints, self.bias_constraint), "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout}


def _dropout_masks(like: Tensor, rate: float, training: Any, count: int) -> list[Tensor]:
    ones = tf.ones_like(like)

    def dropped() -> Tensor:
        return K.dropout(ones, rate)

    return [K.in_train_phase(dropped, ones, training=training) for _ in range(count)]


class SimpleRNNCell(_DropoutCell):
    """output = activation(x W + b + h U)."""

    def __init__(self, units: int, activation: Any = "tanh", **kwargs: Any):
        super().__init__(units, activation=activation, **kwargs)
        self.state_size = units
        self.output_size = units

    def build(self, input_shape: Any) -> None:
        self._build_kernels(TensorShape(input_shape)[-1].value)
        self.bias = self.add_weight("bias", shape=(self.units,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None
        self.built = True

    def call(self, inputs: Tensor, states: Any, training: Any = None) -> tuple[Tensor, list]:
        previous = states[0] if isinstance(states, (list, tuple)) else states
        dp_mask, rec_mask = self._masks(inputs, previous, training)
        h = K.dot(inputs * dp_mask[0] if dp_mask is not None else inputs, self.kernel)
        if self.bias is not None:
            h = K.bias_add(h, self.bias)
        if rec_mask is not None:
            previous = previous * rec_mask[0]
        output = h + K.dot(previous, self.recurrent_kernel)
        if self.activation is not None:
            output = self.activation(output)
        return output, [output] if isinstance(states, (list, tuple)) else output

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._common_config())
        return config


class LSTMCell(_DropoutCell):
    """Gates i, f, c, o from x W + h U + b; c' = f c + i act(c~); h' = o act(c')."""

    _GATES = 4

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 unit_forget_bias: bool = True, implementation: int = 2, **kwargs: Any):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.implementation = implementation
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape: Any) -> None:
        self._build_kernels(TensorShape(input_shape)[-1].value)
        self.bias = None
        if self.use_bias:
            if self.unit_forget_bias:
                base = self.bias_initializer

                def initializer(shape: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
                    return tf.concat([base((self.units,), dtype=dtype), tf.ones((self.units,), dtype=dtype),
                                      base((self.units * 2,), dtype=dtype)], 0)
            else:
                initializer = self.bias_initializer
            self.bias = self.add_weight("bias", shape=(self.units * 4,), initializer=initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs: Tensor, states: Any, training: Any = None) -> tuple[Tensor, list]:
        h_tm1, c_tm1 = states[0], states[1]
        dp_mask, rec_mask = self._masks(inputs, h_tm1, training)
        if dp_mask is not None:
            inputs = inputs * dp_mask[0]
        z = K.dot(inputs, self.kernel)
        z += K.dot(h_tm1 * rec_mask[0] if rec_mask is not None else h_tm1, self.recurrent_kernel)
        if self.use_bias:
            z = K.bias_add(z, self.bias)
        z0, z1, z2, z3 = tf.split(z, num_or_size_splits=4, axis=1)
        i = self.recurrent_activation(z0)
        f = self.recurrent_activation(z1)
        c = f * c_tm1 + i * self.activation(z2)
        o = self.recurrent_activation(z3)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._common_config())
        config.update({"recurrent_activation": activations.serialize(self.recurrent_activation),
                       "unit_forget_bias": self.unit_forget_bias, "implementation": self.implementation})
        return config


class GRUCell(_DropoutCell):
    """Gates z, r from x W + h U (+ biases); h~ = act(x W_h + r (h U_h)) with reset_after; h' = z h + (1 - z) h~."""

    _GATES = 3

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 implementation: int = 2, reset_after: bool = True, **kwargs: Any):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.implementation = implementation
        self.reset_after = reset_after
        self.state_size = units
        self.output_size = units

    def build(self, input_shape: Any) -> None:
        self._build_kernels(TensorShape(input_shape)[-1].value)
        self.bias = None
        if self.use_bias:
            shape = (3 * self.units,) if not self.reset_after else (2, 3 * self.units)
            self.bias = self.add_weight("bias", shape=shape, initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs: Tensor, states: Any, training: Any = None) -> tuple[Tensor, Any]:
        h_tm1 = states[0] if isinstance(states, (list, tuple)) else states
        dp_mask, rec_mask = self._masks(inputs, h_tm1, training)
        input_bias = recurrent_bias = None
        if self.use_bias:
            if self.reset_after:
                input_bias, recurrent_bias = tf.unstack(self.bias)
            else:
                input_bias = self.bias
        if dp_mask is not None:
            inputs = inputs * dp_mask[0]
        matrix_x = K.dot(inputs, self.kernel)
        if input_bias is not None:
            matrix_x = K.bias_add(matrix_x, input_bias)
        x_z, x_r, x_h = tf.split(matrix_x, 3, axis=-1)
        h_in = h_tm1 * rec_mask[0] if rec_mask is not None else h_tm1
        if self.reset_after:
            matrix_inner = K.dot(h_in, self.recurrent_kernel)
            if recurrent_bias is not None:
                matrix_inner = K.bias_add(matrix_inner, recurrent_bias)
        else:
            matrix_inner = K.dot(h_in, self.recurrent_kernel[:, :2 * self.units])
        recurrent_z, recurrent_r, recurrent_h = tf.split(matrix_inner, [self.units, self.units, -1], axis=-1)
        z = self.recurrent_activation(x_z + recurrent_z)
        r = self.recurrent_activation(x_r + recurrent_r)
        if self.reset_after:
            recurrent_h = r * recurrent_h
        else:
            recurrent_h = K.dot(r * h_in, self.recurrent_kernel[:, 2 * self.units:])
        hh = self.activation(x_h + recurrent_h)
        h = z * h_tm1 + (1 - z) * hh
        return h, [h] if isinstance(states, (list, tuple)) else h

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._common_config())
        config.update({"recurrent_activation": activations.serialize(self.recurrent_activation),
                       "implementation": self.implementation, "reset_after": self.reset_after})
        return config


class RNN(Layer):
    """Runs `cell` over the time axis of a [batch, time, features] input."""

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False, time_major: bool = False,
                 **kwargs: Any):
        if isinstance(cell, (list, tuple)):
            raise ValueError("caudal's Keras RNN takes one cell (stacked cells are not supported)")
        if stateful:
            raise ValueError("caudal's Keras RNN layers do not support `stateful=True`")
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError(f"Argument `cell` should have a `call` method and a `state_size` attribute. Received: "
                             f"cell={cell}")
        kwargs.pop("zero_output_for_mask", None)
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.unroll = unroll
        self.time_major = time_major
        self.supports_masking = True
        self.input_spec = [InputSpec(ndim=3)]
        self._num_constants = 0
        self.zero_output_for_mask = unroll

    @property
    def _state_sizes(self) -> list[int]:
        sizes = self.cell.state_size
        return list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]

    def build(self, input_shape: Any) -> None:
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        input_shape = TensorShape(input_shape)
        dims = input_shape.as_list()
        spec = list(dims)
        spec[0] = None
        spec[1] = None
        self.input_spec = [InputSpec(shape=tuple(spec))] + list(self.input_spec[1:])
        step_shape = dims[1:] if self.time_major else [dims[0]] + dims[2:]
        if not self.cell.built:
            with tf.name_scope(self.cell.name):
                self.cell.build(TensorShape(step_shape))
                self.cell.built = True
        self.built = True

    def __call__(self, inputs: Any, initial_state: Any = None, constants: Any = None, **kwargs: Any) -> Any:
        if isinstance(inputs, list) and initial_state is None:
            inputs, initial_state = inputs[0], inputs[1:] or None
        if initial_state is not None and not isinstance(initial_state, list):
            initial_state = [initial_state]
        if initial_state is None:
            return super().__call__(inputs, **kwargs)
        if is_keras_tensor(initial_state[0]):
            spec = list(self.input_spec[:1]) + [InputSpec(shape=K.int_shape(s)) for s in initial_state]
            self.input_spec = spec
            try:
                return super().__call__([inputs] + list(initial_state), **kwargs)
            finally:
                self.input_spec = self.input_spec[:1]
        kwargs["initial_state"] = initial_state
        return super().__call__(inputs, **kwargs)

    def get_initial_state(self, inputs: Tensor) -> list[Tensor]:
        batch = tf.shape(inputs)[1 if self.time_major else 0]
        return self.cell.get_initial_state(inputs=None, batch_size=batch, dtype=inputs.dtype.base_dtype)

    def call(self, inputs: Any, mask: Any = None, training: Any = None, initial_state: Any = None) -> Any:
        if isinstance(inputs, list):
            inputs, initial_state = inputs[0], inputs[1:]
        if initial_state is None:
            initial_state = self.get_initial_state(inputs)
        if len(initial_state) != len(self._state_sizes):
            raise ValueError(f"Layer has {len(self._state_sizes)} states but was passed {len(initial_state)} initial "
                             f"states. Received: initial_state={initial_state}")
        if mask is not None:
            mask = nest.flatten(mask)[0]
        timesteps = K.int_shape(inputs)[0 if self.time_major else 1]
        if self.unroll and timesteps is None:
            raise ValueError("Cannot unroll a RNN if the time dimension is undefined. \n- If using a Sequential model, "
                             "specify the time dimension by passing an `input_shape` or `batch_input_shape` argument "
                             "to your first layer. If your first layer is an Embedding, you can also use the "
                             "`input_length` argument.\n- If using the functional API, specify the time dimension by "
                             "passing a `shape` or `batch_shape` argument to your Input layer.")
        if hasattr(self.cell, "reset_dropout_mask"):
            self.cell.reset_dropout_mask()
        def step(step_inputs: Tensor, states: Any) -> tuple:
            output, new_states = self.cell(step_inputs, list(states), training=training)
            if not isinstance(new_states, (list, tuple)):
                new_states = [new_states]
            return output, list(new_states)

        last_output, outputs, states = K.rnn(step, inputs, list(initial_state), go_backwards=self.go_backwards,
                                             mask=mask, unroll=self.unroll, input_length=timesteps,
                                             time_major=self.time_major,
                                             zero_output_for_mask=self.zero_output_for_mask)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output] + list(states)
        return output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, list):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self._state_sizes)
        return output_mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        dims = TensorShape(input_shape if not isinstance(input_shape, list) else input_shape[0]).as_list()
        batch, time = (dims[1], dims[0]) if self.time_major else (dims[0], dims[1])
        units = self.cell.output_size
        output = TensorShape([batch, time, units] if self.return_sequences else [batch, units])
        if self.return_state:
            return [output] + [TensorShape([batch, size]) for size in self._state_sizes]
        return output

    def get_config(self) -> dict[str, Any]:
        config = {"return_sequences": self.return_sequences, "return_state": self.return_state,
                  "go_backwards": self.go_backwards, "stateful": False, "unroll": self.unroll,
                  "time_major": self.time_major}
        if type(self) is RNN:
            from caudal.keras.layers.serialization import serialize_layer

            config["cell"] = serialize_layer(self.cell)
        base = Layer.get_config(self)
        base.update(config)
        return base

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> RNN:
        from caudal.keras.layers.serialization import deserialize_layer

        config = dict(config)
        cell = deserialize_layer(config.pop("cell"), custom_objects=custom_objects)
        return cls(cell, **config)


_CELL_KEYS = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
              "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
              "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout", "implementation", "reset_after")
_LAYER_KEYS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "time_major", "name",
               "trainable", "dtype", "input_shape", "batch_input_shape", "batch_size", "input_dim", "weights",
               "zero_output_for_mask")


class _CellLayer(RNN):
    _CELL: type = SimpleRNNCell
    _CELL_NAME = "simple_rnn_cell"

    def __init__(self, units: int, activity_regularizer: Any = None, **kwargs: Any):
        cell_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in _CELL_KEYS}
        if "implementation" in cell_kwargs and cell_kwargs["implementation"] == 0:
            cell_kwargs["implementation"] = 1
        cell = self._CELL(units, dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
                          name=self._CELL_NAME, **cell_kwargs)
        super().__init__(cell, activity_regularizer=regularizers.get(activity_regularizer), **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in _CELL_KEYS and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def get_config(self) -> dict[str, Any]:
        config = RNN.get_config(self)
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        order = {}
        for key in ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                    "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
                    "recurrent_regularizer", "bias_regularizer"):
            if key in cell_config:
                order[key] = cell_config.pop(key)
        order["activity_regularizer"] = _ser(regularizers, self.activity_regularizer)
        order.update(cell_config)
        config.update(order)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> RNN:
        config = dict(config)
        if "implementation" in config and config["implementation"] == 0:
            config["implementation"] = 1
        return cls(**config)


class SimpleRNN(_CellLayer):
    _CELL = SimpleRNNCell
    _CELL_NAME = "simple_rnn_cell"


class LSTM(_CellLayer):
    _CELL = LSTMCell
    _CELL_NAME = "lstm_cell"


class GRU(_CellLayer):
    _CELL = GRUCell
    _CELL_NAME = "gru_cell"
