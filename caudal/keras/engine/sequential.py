"""`tf.keras.Sequential`: a plain stack of layers, each with one input and one output.

With an input shape on the first layer (or an `InputLayer` first), the model is a functional graph at
once, its input named `<first layer>_input`; otherwise it is built from the first data or input shape
it sees. `layers` leaves out the InputLayer; the config lists it first, as TF-Keras 2.x does.
"""
from __future__ import annotations

from typing import Any

from caudal.keras import backend as K
from caudal.keras.engine import training
from caudal.keras.engine.base_layer import Layer
from caudal.keras.engine.functional import Functional
from caudal.keras.engine.input_layer import Input, InputLayer
from caudal.keras.engine.node import keras_history
from caudal.util import nest

__all__ = ["Sequential"]

_SINGLE_OUTPUT = ("All layers in a Sequential model should have a single output tensor. For multi-output layers, "
                  "use the functional API.")


class Sequential(Functional):
    def __init__(self, layers: Any = None, name: str | None = None):
        training.Model.__init__(self, name=name or K.unique_object_name("sequential", zero_based=True))
        self.supports_masking = True
        self._graph_initialized = False
        self._nodes_by_depth = {}
        self._network_nodes = set()
        if layers:
            for layer in layers if isinstance(layers, (list, tuple)) else [layers]:
                self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        layers = list(self._tracked_layers)
        if layers and isinstance(layers[0], InputLayer):
            return layers[1:]
        return layers

    def add(self, layer: Any) -> None:
        """Appends a layer; with a known input, calls it on the current output."""
        history = keras_history(layer)
        if history is not None and isinstance(history.layer, InputLayer):
            layer = history.layer
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Received: layer={layer} of type "
                            f"{type(layer)}.")
        if any(existing.name == layer.name for existing in self._tracked_layers):
            raise ValueError(f'All layers added to a Sequential model should have unique names. Name "{layer.name}" '
                             "is already the name of a layer in this model. Update the `name` argument to pass a "
                             "unique name.")
        self.built = False
        if not self._tracked_layers:
            self._tracked_layers.append(layer)
            if isinstance(layer, InputLayer):
                self._initialize(list(nest.flatten(layer._inbound_nodes[-1].outputs)))
            elif getattr(layer, "_batch_input_shape", None) is not None:
                dtype = layer._dtype or K.floatx()
                placeholder = Input(batch_shape=layer._batch_input_shape, dtype=dtype, name=f"{layer.name}_input")
                outputs = nest.flatten(layer(placeholder))
                if len(outputs) != 1:
                    raise ValueError(_SINGLE_OUTPUT)
                self._initialize([placeholder], outputs)
            return
        self._tracked_layers.append(layer)
        if self.outputs:
            output = layer(self.outputs[0])
            if len(nest.flatten(output)) != 1:
                raise ValueError(_SINGLE_OUTPUT)
            self._initialize(self.inputs, [output])

    def _initialize(self, inputs: list, outputs: list | None = None) -> None:
        layers = list(self._tracked_layers)
        self._init_graph_network(inputs, outputs if outputs is not None else inputs)
        tracked = list(self._tracked_layers)
        object.__setattr__(self, "_tracked_layers", tracked + [layer for layer in layers if layer not in tracked])
        self._graph_initialized = True

    def pop(self) -> None:
        """Removes the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        self._tracked_layers.pop()
        if not self.layers:
            self.outputs = None
            self.inputs = None if not self._tracked_layers else self.inputs
            self.built = False
            self._graph_initialized = bool(self._tracked_layers)
        elif self._graph_initialized:
            self.layers[-1]._outbound_nodes = []
            self._initialize(self.inputs, [self.layers[-1].output])

    def _build_from_inputs(self, placeholder: Any) -> None:
        """Builds the graph from a first input (a placeholder made from data), named `<first layer>_input`."""
        if self._graph_initialized and self.outputs:
            return
        if not self.layers:
            raise ValueError("The Sequential model has no layers to build.")
        shape = tuple(placeholder.shape.as_list())
        inputs = Input(batch_shape=shape, dtype=placeholder.dtype.base_dtype.name, name=f"{self.layers[0].name}_input")
        output = inputs
        for layer in self.layers:
            output = layer(output)
            if len(nest.flatten(output)) != 1:
                raise ValueError(_SINGLE_OUTPUT)
        layers = list(self._tracked_layers)
        self._init_graph_network([inputs], [output])
        object.__setattr__(self, "_tracked_layers", list(self._tracked_layers) +
                           [layer for layer in layers if layer not in self._tracked_layers])
        self._graph_initialized = True

    def build(self, input_shape: Any = None) -> None:
        if self._graph_initialized and self.outputs:
            self.built = True
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        shape = tuple(input_shape.as_list()) if hasattr(input_shape, "as_list") else tuple(input_shape)
        self._build_from_inputs(Input(batch_shape=shape))

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        if not self.outputs:
            self._build_from_inputs(inputs)
        return super().call(inputs, training=training, mask=mask)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.outputs and args:
            self._build_from_inputs(args[0])
        return super().__call__(*args, **kwargs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = input_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self) -> dict[str, Any]:
        from caudal.keras.layers.serialization import serialize_layer

        return {"name": self.name, "layers": [serialize_layer(layer) for layer in self._tracked_layers]}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Sequential:
        from caudal.keras.layers.serialization import deserialize_layer

        if "name" in config:
            name, layer_configs = config["name"], config["layers"]
        else:
            name, layer_configs = None, config
        model = cls(name=name)
        for layer_config in layer_configs:
            model.add(deserialize_layer(layer_config, custom_objects=custom_objects))
        if not model.inputs and config.get("build_input_shape"):
            model.build(config["build_input_shape"])
        return model
