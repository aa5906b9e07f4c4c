"""Keras layer wrappers: TimeDistributed (a layer applied to every timestep) and Bidirectional (an RNN run
forwards and backwards, merged)."""
from __future__ import annotations

from typing import Any

import caudal as tf
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.keras import backend as K
from caudal.keras.engine.base_layer import Layer
from caudal.keras.engine.input_spec import InputSpec

__all__ = ["Wrapper", "TimeDistributed", "Bidirectional"]


class Wrapper(Layer):
    def __init__(self, layer: Layer, **kwargs: Any):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `{type(self).__name__}` layer with a `tf.keras.layers.Layer` "
                             f"instance. Received: {layer}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: Any = None) -> None:
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def get_config(self) -> dict[str, Any]:
        from caudal.keras.layers.serialization import serialize_layer

        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Wrapper:
        from caudal.keras.layers.serialization import deserialize_layer

        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)


class TimeDistributed(Wrapper):
    """Applies `layer` to each timestep of a [batch, time, ...] input (by folding time into the batch); the
    layer's weights are built directly under this wrapper's scope (`time_distributed/kernel:0`)."""

    def __init__(self, layer: Layer, **kwargs: Any):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        input_shape = TensorShape(input_shape)
        if input_shape.ndims is not None and input_shape.ndims < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape ` with at least 3 dimensions, "
                             f"received: {input_shape}")
        dims = input_shape.as_list()
        self.input_spec = InputSpec(shape=[None, None] + dims[2:])
        super().build(TensorShape([dims[0]] + dims[2:]))

    def _child_output_shape(self, input_shape: TensorShape) -> list:
        dims = input_shape.as_list()
        try:
            child = TensorShape(self.layer.compute_output_shape(TensorShape([dims[0]] + dims[2:]))).as_list()
        except NotImplementedError:
            return [None] * (len(dims) - 1)
        return child

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        input_shape = TensorShape(input_shape)
        child = self._child_output_shape(input_shape)
        dims = input_shape.as_list()
        return TensorShape([child[0], dims[1]] + child[1:])

    def call(self, inputs: Tensor, training: Any = None, mask: Any = None) -> Tensor:
        static = inputs.shape.as_list()
        length = static[1] if static[1] is not None else tf.shape(inputs)[1]
        inner = [-1] + [d if d is not None else tf.shape(inputs)[i + 2] for i, d in enumerate(static[2:])]
        flat = tf.reshape(inputs, inner if all(isinstance(d, int) for d in inner) else tf.stack(inner))
        kwargs: dict[str, Any] = {}
        if self.layer._expects_training_arg and training is not None:
            kwargs["training"] = training
        if mask is not None and "mask" in self.layer._call_arg_names():
            kwargs["mask"] = tf.reshape(mask, [-1] + [d if d is not None else -1 for d in mask.shape.as_list()[2:]])
        y = self.layer(flat, **kwargs)
        out_static = self.compute_output_shape(inputs.shape).as_list()
        tail = [d if d is not None else tf.shape(y)[i + 1] for i, d in enumerate(out_static[2:])]
        target = [-1, length] + tail
        y = tf.reshape(y, target if all(isinstance(d, int) for d in target) else tf.stack(target))
        y.set_shape(out_static)
        return y

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask


class Bidirectional(Wrapper):
    """Runs a copy of `layer` forwards and one backwards over time and merges them ('concat', 'sum', 'ave',
    'mul' or None for a list); weights under `bidirectional/forward_<name>/` and `backward_<name>/`."""

    def __init__(self, layer: Layer, merge_mode: Any = "concat", weights: Any = None, backward_layer: Any = None,
                 **kwargs: Any):
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `tf.keras.layers.Layer` instance. Received: "
                             f"{backward_layer}")
        if merge_mode not in ("sum", "mul", "ave", "concat", None):
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                             '{"sum", "mul", "ave", "concat", None}')
        super().__init__(layer, **kwargs)
        self.forward_layer = self._recreate(layer)
        self.backward_layer = self._recreate(layer, go_backwards=True) if backward_layer is None else backward_layer
        self.forward_layer._name = "forward_" + self.forward_layer.name
        self.backward_layer._name = "backward_" + self.backward_layer.name
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError("Forward layer and backward layer should have different `go_backwards` value.")
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec
        if weights:
            half = len(weights) // 2
            self.forward_layer._initial_weights = weights[:half]
            self.backward_layer._initial_weights = weights[half:]

    @staticmethod
    def _recreate(layer: Layer, go_backwards: bool = False) -> Layer:
        config = layer.get_config()
        if go_backwards:
            config["go_backwards"] = not config["go_backwards"]
        return type(layer).from_config(config)

    def build(self, input_shape: Any) -> None:
        with tf.name_scope(self.forward_layer.name):
            self.forward_layer.build(input_shape)
            self.forward_layer.built = True
        with tf.name_scope(self.backward_layer.name):
            self.backward_layer.build(input_shape)
            self.backward_layer.built = True
        self.built = True

    def call(self, inputs: Tensor, training: Any = None, mask: Any = None, initial_state: Any = None) -> Any:
        kwargs: dict[str, Any] = {}
        if training is not None:
            kwargs["training"] = training
        if mask is not None:
            kwargs["mask"] = mask
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(inputs, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(inputs, initial_state=backward_state, **kwargs)
        states: list = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = K.reverse(y_rev, 0 if getattr(self.forward_layer, "time_major", False) else 1)
        if self.merge_mode == "concat":
            output: Any = K.concatenate([y, y_rev])
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (output if self.merge_mode is None else [output]) + states
        return output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        output_mask = (mask[0] if isinstance(mask, list) else mask) if self.return_sequences else None
        if self.return_state:
            count = len(self.forward_layer._state_sizes) * 2
            return [output_mask] * (1 if self.merge_mode is not None else 2) + [None] * count
        return [output_mask, output_mask] if self.merge_mode is None else output_mask

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        return config
