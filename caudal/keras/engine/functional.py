"""Functional models: `tf.keras.Model(inputs, outputs)`, a graph of layer calls (nodes) from Inputs to outputs.

The nodes are ordered by depth as TF-Keras orders them (outputs at depth 0), which fixes `layers`,
`summary()` and the config; calling the model on new tensors replays every node on them. The config
is TF-Keras's: `layers` (class_name, config, name, inbound_nodes), `input_layers`, `output_layers`.
"""
from __future__ import annotations

import collections
from typing import Any

from caudal.framework.tensor import Tensor
from caudal.keras.engine import training
from caudal.keras.engine.base_layer import Layer
from caudal.keras.engine.node import keras_history, set_keras_mask
from caudal.util import nest

__all__ = ["Functional", "reconstruct_from_config", "get_network_config"]


def _make_node_key(layer_name: str, node_index: int) -> str:
    return f"{layer_name}_ib-{node_index}"


def _build_map(outputs: list[Tensor]) -> tuple[list, dict]:
    finished: set = set()
    in_progress: set = set()
    ordered: list = []
    layer_indices: dict = {}

    def visit(tensor: Tensor) -> None:
        layer, node_index, _ = keras_history(tensor)
        node = layer._inbound_nodes[node_index]
        if node in finished:
            return
        if node in in_progress:
            raise ValueError(f"Tensor {tensor} from layer '{layer.name}' is part of a cycle.")
        if layer not in layer_indices:
            layer_indices[layer] = len(layer_indices)
        in_progress.add(node)
        if not node.is_input:
            for inbound in node.keras_inputs:
                visit(inbound)
        finished.add(node)
        in_progress.discard(node)
        ordered.append(node)

    for output in outputs:
        visit(output)
    return ordered, layer_indices


def map_graph_network(inputs: list[Tensor], outputs: list[Tensor]) -> tuple[set, dict, list, dict]:
    """(node keys, nodes by depth, layers in order, layers by depth), as TF-Keras computes them."""
    ordered, layer_indices = _build_map(outputs)
    network_nodes = {_make_node_key(n.layer.name, n.layer._inbound_nodes.index(n)) for n in ordered}
    node_depths: dict = {}
    layer_depths: dict = {}
    for node in reversed(ordered):
        depth = node_depths.setdefault(node, 0)
        depth = max(depth, layer_depths.get(node.layer, 0))
        layer_depths[node.layer] = depth
        node_depths[node] = depth
        for parent in node.parent_nodes:
            node_depths[parent] = max(depth + 1, node_depths.get(parent, 0))
    for tensor in inputs:
        layer = keras_history(tensor).layer
        if layer not in layer_depths:
            layer_depths[layer] = 0
            layer_indices[layer] = -1
            node_depths[layer._inbound_nodes[0]] = 0
            network_nodes.add(_make_node_key(layer.name, 0))
    nodes_by_depth: dict = collections.defaultdict(list)
    for node, depth in node_depths.items():
        nodes_by_depth[depth].append(node)
    layers_by_depth: dict = collections.defaultdict(list)
    for layer, depth in layer_depths.items():
        layers_by_depth[depth].append(layer)
    layers = []
    for depth in sorted(layers_by_depth, reverse=True):
        layers.extend(sorted(layers_by_depth[depth], key=lambda layer: layer_indices[layer]))
    computable = {id(t) for t in inputs}
    complete = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if node.is_input:
                continue
            for tensor in node.keras_inputs:
                if id(tensor) not in computable:
                    raise ValueError(f'Graph disconnected: cannot obtain value for tensor {tensor} at layer '
                                     f'"{node.layer.name}". The following previous layers were accessed without '
                                     f"issue: {complete}")
            for tensor in nest.flatten(node.outputs):
                computable.add(id(tensor))
            complete.append(node.layer.name)
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) != 1:
            raise ValueError(f'The name "{name}" is used {names.count(name)} times in the model. All layer names '
                             "should be unique.")
    return network_nodes, dict(nodes_by_depth), layers, dict(layers_by_depth)


class Functional(training.Model):
    """A model defined by its input and output tensors."""

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None, trainable: bool = True,
                 **kwargs: Any):
        if inputs is None or outputs is None:
            raise ValueError("A functional model needs both `inputs` and `outputs`.")
        super().__init__(name=name or _default_name(), trainable=trainable)
        self._init_graph_network(inputs, outputs)

    def _init_graph_network(self, inputs: Any, outputs: Any) -> None:
        self._nested_inputs = inputs
        self._nested_outputs = outputs
        self.inputs = nest.flatten(inputs)
        self.outputs = nest.flatten(outputs)
        if len({id(i) for i in self.inputs}) != len(self.inputs):
            raise ValueError("The list of inputs passed to the model contains the same input multiple times. All "
                             f"inputs should only appear once. Received inputs={self.inputs}")
        for x in self.inputs:
            if keras_history(x) is None:
                raise ValueError(f"Input tensors to a Functional model must come from `tf.keras.Input`. Received "
                                 f"inputs={x} (missing previous layer metadata).")
        for x in self.outputs:
            if keras_history(x) is None:
                raise ValueError("Output tensors of a Functional model must be the output of a TensorFlow `Layer` "
                                 f"(thus holding past layer metadata). Found: {x}")
        self._is_graph_network = True
        self.built = True
        self._input_layers = [keras_history(x).layer for x in self.inputs]
        self._output_layers = [keras_history(x).layer for x in self.outputs]
        self._input_coordinates = [keras_history(x) for x in self.inputs]
        self._output_coordinates = [keras_history(x) for x in self.outputs]
        nodes, nodes_by_depth, layers, _ = map_graph_network(self.inputs, self.outputs)
        self._network_nodes = nodes
        self._nodes_by_depth = nodes_by_depth
        object.__setattr__(self, "_tracked_layers", list(layers))
        self._compute_tensor_usage_count()
        self.input_names = [layer.name for layer in self._input_layers]
        self.output_names = [layer.name for layer in self._output_layers]
        self._set_output_names()
        from caudal.keras.engine.input_spec import InputSpec

        self._input_spec = [InputSpec(shape=tuple(x.shape.as_list()) if x.shape.ndims is not None else None,
                                      allow_last_axis_squeeze=True) for x in self.inputs]

    def _set_output_names(self) -> None:
        uniquified: list[str] = []
        counts: dict[str, int] = collections.defaultdict(int)
        for name in self.output_names:
            proposed = name
            while proposed in uniquified:
                counts[name] += 1
                proposed = f"{name}_{counts[name]}"
            uniquified.append(proposed)
        self.output_names = uniquified

    def _compute_tensor_usage_count(self) -> None:
        counts: collections.Counter = collections.Counter()
        available = {id(t) for t in self.inputs}
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                ids = [id(t) for t in node.keras_inputs]
                if all(i in available for i in ids) or node.is_input:
                    counts.update(ids)
                    for t in nest.flatten(node.outputs):
                        available.add(id(t))
        for t in self.outputs:
            counts[id(t)] += 1
        self._tensor_usage_count = counts

    @property
    def input(self) -> Any:
        return self.inputs[0] if len(self.inputs) == 1 else list(self.inputs)

    @property
    def output(self) -> Any:
        return self.outputs[0] if len(self.outputs) == 1 else list(self.outputs)

    @property
    def input_shape(self) -> Any:
        shapes = [tuple(x.shape.as_list()) for x in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self) -> Any:
        shapes = [tuple(x.shape.as_list()) for x in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        return self._run_internal_graph(inputs, training=training, mask=mask)

    def _run_internal_graph(self, inputs: Any, training: Any = None, mask: Any = None) -> Any:
        if isinstance(inputs, dict):
            inputs = [inputs[name] for name in self.input_names]
        flat = nest.flatten(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(f'Layer "{self.name}" expects {len(self.inputs)} input(s), but it received {len(flat)} '
                             f"input tensors. Inputs received: {flat}")
        masks = nest.flatten(mask) if mask is not None else [None] * len(flat)
        tensor_dict: dict[int, list] = {}
        for reference, value, value_mask in zip(self.inputs, flat, masks):
            if value_mask is not None:
                set_keras_mask(value, value_mask)
            tensor_dict[id(reference)] = [value] * self._tensor_usage_count[id(reference)]
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                if node.is_input or any(id(t) not in tensor_dict for t in node.keras_inputs):
                    continue
                args, kwargs = node.map_arguments(tensor_dict)
                outputs = node.layer(*args, **kwargs)
                for reference, value in zip(nest.flatten(node.outputs), nest.flatten(outputs)):
                    tensor_dict[id(reference)] = [value] * self._tensor_usage_count[id(reference)]
        results = [tensor_dict[id(x)].pop() for x in self.outputs]
        return nest.pack_sequence_as(self._nested_outputs, results)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self.output_shape

    def get_config(self) -> dict[str, Any]:
        return get_network_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Functional:
        inputs, outputs, layers = reconstruct_from_config(config, custom_objects)
        model = cls(inputs=inputs, outputs=outputs, name=config.get("name"))
        return model


def _default_name() -> str:
    from caudal.keras import backend as K

    return K.unique_object_name("model", zero_based=True)


def get_network_config(network: Any) -> dict[str, Any]:
    """TF-Keras's functional config: each layer with the nodes that belong to the network."""
    from caudal.keras.layers.serialization import serialize_layer

    config: dict[str, Any] = {"name": network.name, "trainable": network.trainable}
    conversion: dict[str, int] = {}
    for layer in network.layers:
        kept = 0
        for original in range(len(layer._inbound_nodes)):
            key = _make_node_key(layer.name, original)
            if key in network._network_nodes:
                conversion[key] = kept
                kept += 1
    layer_configs = []
    for layer in network.layers:
        inbound = []
        for original, node in enumerate(layer._inbound_nodes):
            key = _make_node_key(layer.name, original)
            if key in network._network_nodes and not node.is_input:
                inbound.append(node.serialize(_make_node_key, conversion))
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = inbound
        layer_configs.append(entry)
    config["layers"] = layer_configs
    config["input_layers"] = _coordinates(network._input_coordinates, conversion, network._nested_inputs)
    config["output_layers"] = _coordinates(network._output_coordinates, conversion, network._nested_outputs)
    return config


def _coordinates(coordinates: list, conversion: dict, nested: Any) -> Any:
    entries = []
    for layer, node_index, tensor_index in coordinates:
        key = _make_node_key(layer.name, node_index)
        entries.append([layer.name, conversion.get(key, 0), tensor_index])
    return entries


def reconstruct_from_config(config: dict[str, Any], custom_objects: Any = None) -> tuple[Any, Any, dict]:
    """(inputs, outputs, layers by name) rebuilt from a functional config: layers first, then their nodes in
    order, retrying nodes whose inputs are not made yet."""
    from caudal.keras.layers.serialization import deserialize_layer

    created: dict[str, Layer] = {}
    pending: dict[Layer, list] = {}

    def node_inputs(entry_list: list) -> tuple[Any, dict] | None:
        tensors = []
        kwargs: dict = {}
        for entry in entry_list:
            name, node_index, tensor_index = entry[0], entry[1], entry[2]
            kwargs = entry[3] if len(entry) > 3 else {}
            inbound = created[name]
            if len(inbound._inbound_nodes) <= node_index:
                return None
            output = inbound._inbound_nodes[node_index].outputs
            tensors.append(nest.flatten(output)[tensor_index])
        return (tensors[0] if len(tensors) == 1 else tensors), kwargs

    def process_node(layer: Layer, node_data: list) -> bool:
        found = node_inputs(node_data)
        if found is None:
            return False
        tensors, kwargs = found
        kwargs = {k: _resolve_tensor_kwarg(v, created) for k, v in kwargs.items()}
        layer(tensors, **kwargs)
        return True

    for layer_data in config["layers"]:
        layer = deserialize_layer(layer_data, custom_objects=custom_objects)
        created[layer_data["name"]] = layer
        pending[layer] = list(layer_data.get("inbound_nodes", []))
    while any(pending.values()):
        progressed = False
        for layer_data in config["layers"]:
            layer = created[layer_data["name"]]
            while pending[layer]:
                if process_node(layer, pending[layer][0]):
                    pending[layer].pop(0)
                    progressed = True
                else:
                    break
        if not progressed:
            raise ValueError("Could not rebuild the functional model: some layers' inputs are never created.")

    def tensors_for(entries: list) -> list:
        found = []
        for name, node_index, tensor_index in entries:
            layer = created[name]
            found.append(nest.flatten(layer._inbound_nodes[node_index].outputs)[tensor_index])
        return found

    inputs = tensors_for(config["input_layers"])
    outputs = tensors_for(config["output_layers"])
    return inputs, outputs, created


def _resolve_tensor_kwarg(value: Any, created: dict) -> Any:
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str) and value[0] in created:
        layer = created[value[0]]
        return nest.flatten(layer._inbound_nodes[value[1]].outputs)[value[2]]
    return value

