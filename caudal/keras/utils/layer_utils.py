"""`model.summary()`: TF-Keras's table (column positions, wrapping, totals with their memory size)."""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["print_summary", "count_params"]


def count_params(weights: Any) -> int:
    unique = {id(w): w for w in weights}.values()
    shapes = [[0 if d is None else d for d in w.shape.as_list()] for w in unique]
    return int(sum(np.prod(s) for s in shapes))


def _memory_size(weights: Any) -> int:
    total = 0
    for w in {id(w): w for w in weights}.values():
        dims = w.shape.as_list()
        if None in dims:
            continue
        total += int(np.prod(dims)) * w.dtype.base_dtype.size
    return total


def _readable(size: float) -> str:
    for unit in ["Byte", "KB", "MB", "GB", "TB", "PB"]:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _sequential_like(model: Any) -> bool:
    if type(model).__name__ == "Sequential" or not getattr(model, "_is_graph_network", False):
        return True
    nodes = []
    for depth_nodes in model._nodes_by_depth.values():
        if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and len(depth_nodes[0].keras_inputs) > 1):
            return False
        nodes += depth_nodes
    for layer in model.layers:
        seen = False
        for node in layer._inbound_nodes:
            if node in nodes:
                if seen:
                    return False
                seen = True
    return True


def _print_row(fields: list, positions: list[int], print_fn: Any) -> None:
    left = [str(x) for x in fields]
    while any(left):
        line = ""
        for col in range(len(left)):
            start = positions[col - 1] if col > 0 else 0
            end = positions[col]
            space = 2 if col != len(positions) - 1 else 0
            cutoff = end - start - space
            if col != len(positions) - 1:
                cutoff -= 1
            fit = left[col][:cutoff]
            breaks = [fit.find(x) + len(x) for x in ("),", "},", "],", "',") if fit.find(x) >= 0]
            if breaks:
                cutoff = min(breaks)
                fit = fit[:cutoff]
            if col == 0:
                line += " "
            line += fit
            line += " " * space if space else ""
            left[col] = left[col][cutoff:]
            line += " " * (positions[col] - len(line))
        print_fn(line)


def print_summary(model: Any, line_length: int | None = None, positions: Any = None, print_fn: Any = None,
                  expand_nested: bool = False, show_trainable: bool = False) -> None:
    """Prints the layers' names, classes, output shapes and parameter counts (and, for non-sequential
    graphs, the layers each is connected to), then the parameter totals."""
    print_fn = print_fn or print
    sequential_like = _sequential_like(model)
    relevant_nodes: list = []
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.3, 0.6, 0.70, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        for nodes in model._nodes_by_depth.values():
            relevant_nodes += nodes
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:
        line_length += 11
        positions = list(positions) + [line_length]
        header.append("Trainable")
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    _print_row(header, positions, print_fn)
    print_fn("=" * line_length)
    layers = model.layers
    for layer in layers:
        try:
            output_shape = layer.output_shape
        except AttributeError:
            output_shape = "multiple"
        if sequential_like:
            if not layer.built and not getattr(layer, "_is_graph_network", False):
                params: Any = "0 (unused)"
            else:
                params = layer.count_params()
            fields = [f"{layer.name} ({type(layer).__name__})", output_shape, params]
        else:
            connections = []
            for node in layer._inbound_nodes:
                if relevant_nodes and node not in relevant_nodes:
                    continue
                for inbound, node_index, tensor_index, _ in node.iterate_inbound():
                    connections.append(f"{inbound.name}[{node_index}][{tensor_index}]")
            fields = [f"{layer.name} ({type(layer).__name__})", output_shape, layer.count_params(), connections]
        if show_trainable:
            fields.append("Y" if layer.trainable else "N")
        _print_row(fields, positions, print_fn)
        print_fn(" " * line_length)
    print_fn("=" * line_length)
    trainable = getattr(model, "_compiled", None)
    trainable_weights = trainable.trainable_weights if trainable is not None else model.trainable_weights
    trainable_count = count_params(trainable_weights)
    trainable_size = _memory_size(trainable_weights)
    non_trainable = model.non_trainable_weights
    non_trainable_count = count_params(non_trainable)
    non_trainable_size = _memory_size(non_trainable)
    print_fn(f"Total params: {trainable_count + non_trainable_count} "
             f"({_readable(trainable_size + non_trainable_size)})")
    print_fn(f"Trainable params: {trainable_count} ({_readable(trainable_size)})")
    print_fn(f"Non-trainable params: {non_trainable_count} ({_readable(non_trainable_size)})")
    print_fn("_" * line_length)

