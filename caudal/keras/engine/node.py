"""Keras's call graph: a `Node` per layer call, and the Keras history and mask of each tensor.

caudal's Tensors have fixed slots, so what TF-Keras stores as `tensor._keras_history` and
`tensor._keras_mask` lives here in weak dictionaries keyed by the tensor: the entry goes when the
tensor goes.
"""
from __future__ import annotations

import json
import weakref
from typing import Any, NamedTuple

import numpy as np

from caudal.framework.tensor import Tensor
from caudal.util import nest

__all__ = ["KerasHistory", "Node", "keras_history", "set_keras_history", "keras_mask", "set_keras_mask",
           "is_keras_tensor"]


class KerasHistory(NamedTuple):
    layer: Any
    node_index: int
    tensor_index: int


_HISTORY: weakref.WeakKeyDictionary[Tensor, KerasHistory] = weakref.WeakKeyDictionary()
_MASKS: weakref.WeakKeyDictionary[Tensor, Any] = weakref.WeakKeyDictionary()


def keras_history(tensor: Any) -> KerasHistory | None:
    if not isinstance(tensor, Tensor):
        return None
    return _HISTORY.get(tensor)


def set_keras_history(tensor: Tensor, history: KerasHistory) -> None:
    _HISTORY[tensor] = history


def is_keras_tensor(value: Any) -> bool:
    return keras_history(value) is not None


def keras_mask(tensor: Any) -> Any:
    if not isinstance(tensor, Tensor):
        return None
    return _MASKS.get(tensor)


def set_keras_mask(tensor: Any, mask: Any) -> None:
    if isinstance(tensor, Tensor):
        if mask is None:
            _MASKS.pop(tensor, None)
        else:
            _MASKS[tensor] = mask


class Node:
    """One call of `layer`: its arguments (Keras tensors among them) and its outputs.

    Creating a node appends it to the layer's inbound nodes, to the outbound nodes of the layers that
    made its inputs, and gives each output its Keras history (layer, node index, output index).
    """

    def __init__(self, layer: Any, call_args: Any = None, call_kwargs: Any = None, outputs: Any = None):
        self.layer = layer
        self.call_args = list(call_args) if call_args is not None else []
        self.call_kwargs = dict(call_kwargs) if call_kwargs is not None else {}
        self.outputs = outputs if outputs is not None else []
        self.is_input = not self.call_args and not self.call_kwargs
        self._flat_arguments = nest.flatten((self.call_args, list(self.call_kwargs.values())))
        self._single_positional_tensor = (not self.call_kwargs and len(self.call_args) == 1
                                          and isinstance(self.call_args[0], Tensor))
        self._keras_inputs: list[Tensor] = []
        self._keras_input_positions: list[int] = []
        for i, value in enumerate(self._flat_arguments):
            if is_keras_tensor(value):
                self._keras_inputs.append(value)
                self._keras_input_positions.append(i)
        layer._inbound_nodes.append(self)
        for tensor in self._keras_inputs:
            inbound = keras_history(tensor).layer
            if inbound is not None:
                inbound._outbound_nodes.append(self)
        node_index = len(layer._inbound_nodes) - 1
        for i, tensor in enumerate(nest.flatten(self.outputs)):
            set_keras_history(tensor, KerasHistory(layer, node_index, i))

    @property
    def keras_inputs(self) -> list[Tensor]:
        return self._keras_inputs

    @property
    def parent_nodes(self) -> list[Node]:
        parents = []
        for tensor in self._keras_inputs:
            history = keras_history(tensor)
            if history.layer is not None:
                parents.append(history.layer._inbound_nodes[history.node_index])
        return parents

    def iterate_inbound(self) -> Any:
        for tensor in self._keras_inputs:
            history = keras_history(tensor)
            yield history.layer, history.node_index, history.tensor_index, tensor

    def map_arguments(self, tensor_dict: dict[int, list]) -> tuple[list, dict]:
        """The call's arguments with each Keras input replaced by the value computed for it."""
        if self._single_positional_tensor:
            return [tensor_dict[id(self._keras_inputs[0])].pop()], {}
        flat = list(self._flat_arguments)
        for tensor, position in zip(self._keras_inputs, self._keras_input_positions):
            flat[position] = tensor_dict[id(tensor)].pop()
        args, kwarg_values = nest.pack_sequence_as((self.call_args, list(self.call_kwargs.values())), flat)
        return list(args), dict(zip(self.call_kwargs.keys(), kwarg_values))

    def serialize(self, make_node_key: Any, node_conversion_map: dict) -> list:
        """The node's entry in a functional config: [layer name, node index, tensor index, kwargs] for each
        tensor of the first argument (a list of them for a list argument)."""
        args, kwargs = self.call_args, dict(self.call_kwargs)
        first = args[0] if args else None
        extra = dict(zip(self.layer._call_arg_names()[1:], args[1:]))
        extra.update(kwargs)

        def plain(value: Any) -> Any:
            history = keras_history(value)
            if history is not None:
                key = make_node_key(history.layer.name, history.node_index)
                return [history.layer.name, node_conversion_map.get(key, 0), history.tensor_index]
            if isinstance(value, np.ndarray):
                return value.tolist()
            return value

        extra = nest.map_structure(plain, extra)
        try:
            json.dumps(extra)
        except TypeError:
            raise TypeError(f"Layer {self.layer.name} was passed non-JSON-serializable arguments. Arguments had "
                            f"types: {nest.map_structure(type, extra)}. They cannot be serialized out when saving "
                            "the model.") from None

        def entry(tensor: Any) -> list:
            history = keras_history(tensor)
            if history is None:
                return ["_CONSTANT_VALUE", -1, plain(tensor), extra]
            key = make_node_key(history.layer.name, history.node_index)
            return [history.layer.name, node_conversion_map.get(key, 0), history.tensor_index, extra]

        if isinstance(first, (list, tuple)):
            return [entry(t) for t in first]
        return [entry(first)]

    @property
    def input_tensors(self) -> Any:
        if self.is_input:
            return [self.outputs]
        return self.call_args[0]

    @property
    def output_tensors(self) -> Any:
        if self.is_input:
            return [self.outputs]
        return self.outputs

    @property
    def input_shapes(self) -> Any:
        from caudal.keras._backend_math import int_shape

        shapes = nest.map_structure(int_shape, self.input_tensors)
        if isinstance(shapes, list) and len(shapes) == 1 and not self.is_input:
            return shapes[0]
        return shapes

    @property
    def output_shapes(self) -> Any:
        from caudal.keras._backend_math import int_shape

        return nest.map_structure(int_shape, self.output_tensors)

    @property
    def inbound_layers(self) -> Any:
        if self.is_input:
            return []
        layers = [keras_history(t).layer for t in self._keras_inputs]
        return layers[0] if len(layers) == 1 else layers
