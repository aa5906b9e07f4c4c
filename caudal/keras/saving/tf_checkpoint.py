"""Keras weights as an object-based TF checkpoint, the format `save_weights(path)` writes in TF-Keras 2.x.

Each variable is stored under its path in the model's object graph, as TensorFlow names it:
`layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`, `optimizer/iter/...`, and optimizer slots as
`<variable path>/.OPTIMIZER_SLOT/optimizer/m/...`; the graph itself is the `_CHECKPOINTABLE_OBJECT_GRAPH`
entry (a TrackableObjectGraph proto). Children of a functional or Sequential model are
`layer_with_weights-<j>` and `layer-<i>`; those of a layer are the attribute names that hold its
variables and sublayers (`kernel`, `cell`, `forward_layer`, ...). Loading walks the stored graph
breadth-first and matches the same paths; a checkpoint without an object graph (a TF1 Saver's) is
matched by variable name.
"""
from __future__ import annotations

import collections
import os
from typing import Any

import numpy as np

from caudal.keras import backend as K

__all__ = ["save_checkpoint", "load_checkpoint", "OBJECT_GRAPH_KEY"]

OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
_VALUE = ".ATTRIBUTES/VARIABLE_VALUE"


class _Node:
    def __init__(self, obj: Any):
        self.obj = obj
        self.children: list[tuple[str, _Node]] = []
        self.slots: list[tuple[_Node, str, _Node]] = []


def _is_variable(value: Any) -> bool:
    import caudal as tf

    return isinstance(value, tf.Variable)


def _layer_children(layer: Any) -> list[tuple[str, Any]]:
    """(attribute name, variable or sublayer) for the weights and sublayers a layer holds, in attribute order."""
    from caudal.keras.engine.base_layer import Layer

    found: list[tuple[str, Any]] = []
    wanted = {id(w) for w in layer._trainable_weights + layer._non_trainable_weights}
    wanted |= {id(sub) for sub in layer._tracked_layers}
    seen: set[int] = set()
    for name, value in vars(layer).items():
        if name.startswith("_") or id(value) in seen:
            continue
        if (_is_variable(value) or isinstance(value, Layer)) and id(value) in wanted:
            found.append((name, value))
            seen.add(id(value))
    return found


def _model_children(model: Any) -> list[tuple[str, Any]]:
    if getattr(model, "_is_graph_network", False):
        children = []
        layers = list(model._tracked_layers)
        if type(model).__name__ == "Sequential":
            layers = list(model.layers)
        with_weights = 0
        for i, layer in enumerate(layers):
            if layer.weights:
                children.append((f"layer_with_weights-{with_weights}", layer))
                with_weights += 1
            children.append((f"layer-{i}", layer))
        return children
    return _layer_children(model)


def _build_graph(model: Any) -> tuple[list[_Node], dict[int, _Node]]:
    """The object graph of `model` (and its optimizer), nodes in breadth-first order."""
    from caudal.keras.engine.training import Model
    from caudal.keras.optimizers import OptimizerV2

    by_id: dict[int, _Node] = {}
    order: list[_Node] = []

    def node_for(obj: Any) -> tuple[_Node, bool]:
        existing = by_id.get(id(obj))
        if existing is not None:
            return existing, False
        created = _Node(obj)
        by_id[id(obj)] = created
        order.append(created)
        return created, True

    root, _ = node_for(model)
    queue = collections.deque([root])
    while queue:
        node = queue.popleft()
        obj = node.obj
        if isinstance(obj, Model):
            children = _model_children(obj)
            if obj is model and isinstance(obj.optimizer, OptimizerV2):
                children.append(("optimizer", obj.optimizer))
        elif isinstance(obj, OptimizerV2):
            children = []
            if obj._iterations is not None:
                children.append(("iter", obj._iterations))
            children += [(name, value) for name, value in sorted(obj._hyper.items()) if _is_variable(value)]
        elif _is_variable(obj):
            children = []
        else:
            children = _layer_children(obj)
        for name, child in children:
            child_node, new = node_for(child)
            node.children.append((name, child_node))
            if new:
                queue.append(child_node)
    optimizer = getattr(model, "optimizer", None)
    if isinstance(optimizer, OptimizerV2):
        opt_node = by_id[id(optimizer)]
        for slot_name in optimizer.get_slot_names():
            for node in list(order):
                slots = optimizer._slots.get(id(node.obj), {}) if _is_variable(node.obj) else {}
                if slot_name in slots:
                    slot_node, _ = node_for(slots[slot_name])
                    opt_node.slots.append((node, slot_name, slot_node))
    return order, by_id


def _paths(order: list[_Node]) -> dict[int, str]:
    paths: dict[int, str] = {id(order[0]): ""}
    queue = collections.deque([order[0]])
    while queue:
        node = queue.popleft()
        for name, child in node.children:
            if id(child) not in paths:
                prefix = paths[id(node)]
                paths[id(child)] = f"{prefix}/{name}" if prefix else name
                queue.append(child)
    return paths


def save_checkpoint(model: Any, prefix: str) -> None:
    """Writes the model's (and optimizer's) variables and the object graph at `prefix`."""
    from caudal.checkpoint.bundle import BundleWriter
    from caudal.checkpoint.state import update_checkpoint_state
    from caudal.proto import trackable_object_graph_pb2

    order, _ = _build_graph(model)
    paths = _paths(order)
    index = {id(node): i for i, node in enumerate(order)}
    keys: dict[int, str] = {}
    for node in order:
        if _is_variable(node.obj) and id(node) in paths:
            keys[id(node)] = f"{paths[id(node)]}/{_VALUE}"
    for node in order:
        for original, slot_name, slot_node in node.slots:
            keys[id(slot_node)] = f"{paths[id(original)]}/.OPTIMIZER_SLOT/{paths[id(node)]}/{slot_name}/{_VALUE}"
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    for node in order:
        proto = graph.nodes.add()
        for name, child in node.children:
            proto.children.add(node_id=index[id(child)], local_name=name)
        if node is order[0]:
            proto.children.add(node_id=0, local_name="root")
        for original, slot_name, slot_node in node.slots:
            proto.slot_variables.add(original_variable_node_id=index[id(original)], slot_name=slot_name,
                                     slot_variable_node_id=index[id(slot_node)])
        if id(node) in keys:
            proto.attributes.add(name="VARIABLE_VALUE", full_name=node.obj.op.name, checkpoint_key=keys[id(node)])
        proto.has_checkpoint_values.value = id(node) in keys or bool(node.children or node.slots)
    variables = [node.obj for node in order if id(node) in keys]
    values = K.batch_get_value(variables)
    entries = sorted([(keys[id(node)], value, node.obj.dtype.base_dtype) for node, value in
                      zip([n for n in order if id(n) in keys], values)], key=lambda e: e[0])
    with BundleWriter(prefix) as writer:
        writer.add(OBJECT_GRAPH_KEY, np.array(graph.SerializeToString(), dtype=object))
        for key, value, dtype in entries:
            writer.add(key, value, dtype=dtype)
    directory = os.path.dirname(prefix) or "."
    update_checkpoint_state(directory, prefix, all_model_checkpoint_paths=[prefix], save_relative_paths=True)


def _stored_paths(graph: Any) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """(path -> checkpoint key of each variable node, (variable path, slot name) -> key), breadth-first."""
    paths: dict[int, str] = {0: ""}
    queue = collections.deque([0])
    while queue:
        index = queue.popleft()
        for child in graph.nodes[index].children:
            if child.node_id not in paths:
                prefix = paths[index]
                paths[child.node_id] = f"{prefix}/{child.local_name}" if prefix else child.local_name
                queue.append(child.node_id)
    variables: dict[str, str] = {}
    slots: dict[tuple[str, str], str] = {}
    for index, path in paths.items():
        node = graph.nodes[index]
        for attribute in node.attributes:
            if attribute.name == "VARIABLE_VALUE":
                variables[path] = attribute.checkpoint_key
        for slot in node.slot_variables:
            original = paths.get(slot.original_variable_node_id)
            for attribute in graph.nodes[slot.slot_variable_node_id].attributes:
                if attribute.name == "VARIABLE_VALUE" and original is not None:
                    slots[(original, slot.slot_name)] = attribute.checkpoint_key
    return variables, slots


def load_checkpoint(model: Any, prefix: str) -> int:
    """Assigns the checkpoint's values to the model's variables (and optimizer's, when it has them);
    returns how many variables were restored."""
    from caudal.checkpoint.reader import CheckpointReader
    from caudal.proto import trackable_object_graph_pb2

    reader = CheckpointReader(prefix)
    pairs: list[tuple[Any, Any]] = []
    if reader.has_tensor(OBJECT_GRAPH_KEY):
        graph = trackable_object_graph_pb2.TrackableObjectGraph()
        raw = reader.get_tensor(OBJECT_GRAPH_KEY)
        graph.ParseFromString(raw.item() if isinstance(raw, np.ndarray) else raw)
        stored, stored_slots = _stored_paths(graph)
        order, _ = _build_graph(model)
        paths = _paths(order)
        for node in order:
            path = paths.get(id(node))
            if _is_variable(node.obj) and path in stored:
                pairs.append((node.obj, reader.get_tensor(stored[path])))
            for original, slot_name, slot_node in node.slots:
                key = stored_slots.get((paths[id(original)], slot_name))
                if key is not None:
                    pairs.append((slot_node.obj, reader.get_tensor(key)))
    else:
        names = reader.get_variable_to_shape_map()
        for variable in model.weights:
            if variable.op.name in names:
                pairs.append((variable, reader.get_tensor(variable.op.name)))
    for variable, value in pairs:
        expected = tuple(variable.shape.as_list())
        if expected != tuple(np.shape(value)):
            raise ValueError(f"Received incompatible tensor with shape {tuple(np.shape(value))} when attempting to "
                             f"restore variable with shape {expected} and name {variable.name}.")
    K.batch_set_value(pairs)
    return len(pairs)
