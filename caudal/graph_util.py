"""`tf.graph_util`: freezing and pruning GraphDefs, as TF1's graph_util does.

- `convert_variables_to_constants` replaces each variable node the outputs
  need by a Const holding its value in the session; the `read` Identities
  stay, so the frozen graph has the same tensor names.
- `extract_sub_graph` keeps the nodes the destinations depend on (data and
  control inputs), in their original order.
- `remove_training_nodes` drops CheckNumerics and splices out Identity nodes
  that no control edge involves.
"""
from __future__ import annotations

from typing import Any

from caudal.framework.graph_io import as_graph_def_proto, import_graph_def
from caudal.framework.tensor_util import make_tensor_proto
from caudal.proto import graph_pb2, node_def_pb2

__all__ = ["convert_variables_to_constants", "extract_sub_graph", "remove_training_nodes",
           "tensor_shape_from_node_def_name", "must_run_on_cpu", "import_graph_def"]

_VARIABLE_OPS = ("Variable", "VariableV2", "VarHandleOp")


def _node_name(input_name: str) -> str:
    """The node an input string refers to: "^a" -> "a", "a:1" -> "a"."""
    name = input_name[1:] if input_name.startswith("^") else input_name
    node, sep, index = name.rpartition(":")
    return node if sep and index.isdigit() else name


def extract_sub_graph(graph_def: Any, dest_nodes: list[str]) -> graph_pb2.GraphDef:
    """The part of `graph_def` that `dest_nodes` (node names) depend on, in the original order."""
    graph_def = as_graph_def_proto(graph_def)
    if isinstance(dest_nodes, str):
        raise TypeError("dest_nodes must be a list.")
    by_name = {node.name: node for node in graph_def.node}
    for name in dest_nodes:
        if name not in by_name:
            raise AssertionError(f"{name!r} is not in graph")
    keep: set[str] = set()
    stack = list(dest_nodes)
    while stack:
        name = stack.pop()
        if name in keep:
            continue
        keep.add(name)
        stack.extend(_node_name(i) for i in by_name[name].input)
    result = graph_pb2.GraphDef()
    result.versions.CopyFrom(graph_def.versions)
    result.library.CopyFrom(graph_def.library)
    result.node.extend(node for node in graph_def.node if node.name in keep)
    return result


def convert_variables_to_constants(sess: Any, input_graph_def: Any, output_node_names: list[str],
                                   variable_names_whitelist: list[str] | None = None,
                                   variable_names_blacklist: list[str] | None = None) -> graph_pb2.GraphDef:
    """A copy of the graph needed for `output_node_names` with variables replaced by Consts of their
    values in `sess`. The whitelist/blacklist (variable node names) pick which variables convert."""
    graph_def = extract_sub_graph(input_graph_def, output_node_names)
    to_convert = []
    for node in graph_def.node:
        if node.op not in _VARIABLE_OPS:
            continue
        if variable_names_whitelist is not None and node.name not in variable_names_whitelist:
            continue
        if variable_names_blacklist is not None and node.name in variable_names_blacklist:
            continue
        to_convert.append(node.name)
    values = sess.run([f"{name}:0" for name in to_convert]) if to_convert else []
    found = dict(zip(to_convert, values, strict=True))
    result = graph_pb2.GraphDef()
    result.versions.CopyFrom(graph_def.versions)
    result.library.CopyFrom(graph_def.library)
    for node in graph_def.node:
        if node.name in found:
            dtype = node.attr["dtype"]
            const = node_def_pb2.NodeDef(name=node.name, op="Const", device=node.device)
            const.attr["dtype"].CopyFrom(dtype)
            const.attr["value"].tensor.CopyFrom(make_tensor_proto(found[node.name], dtype=dtype.type))
            result.node.add().CopyFrom(const)
        else:
            result.node.add().CopyFrom(node)
    return result


def remove_training_nodes(input_graph: Any, protected_nodes: list[str] | None = None) -> graph_pb2.GraphDef:
    """Drops CheckNumerics nodes and bypasses Identity nodes, except protected ones and those a
    control edge starts from or ends at."""
    graph_def = as_graph_def_proto(input_graph, "input_graph")
    protected = set(protected_nodes or ())
    dropped = {n.name for n in graph_def.node if n.op == "CheckNumerics" and n.name not in protected}
    nodes = []
    for node in graph_def.node:
        if node.name in dropped:
            continue
        copy = node_def_pb2.NodeDef()
        copy.CopyFrom(node)
        del copy.input[:]
        copy.input.extend(i for i in node.input if _node_name(i) not in dropped)
        nodes.append(copy)
    in_control_edges: set[str] = set()
    for node in nodes:
        controls = [i[1:] for i in node.input if i.startswith("^")]
        if controls:
            in_control_edges.add(node.name)
            in_control_edges.update(controls)
    bypass = {n.name: n.input[0] for n in nodes
              if n.op == "Identity" and n.name not in protected and n.name not in in_control_edges}
    result = graph_pb2.GraphDef()
    result.versions.CopyFrom(graph_def.versions)
    result.library.CopyFrom(graph_def.library)
    for node in nodes:
        if node.name in bypass:
            continue
        rewired = []
        for text in node.input:
            control = text.startswith("^")
            name = text[1:] if control else text
            while name in bypass:
                name = bypass[name]
                control = control or name.startswith("^")
                name = name.lstrip("^")
            rewired.append("^" + name if control else name)
        del node.input[:]
        node.input.extend(rewired)
        result.node.add().CopyFrom(node)
    return result


def tensor_shape_from_node_def_name(graph: Any, input_name: str) -> Any:
    """The static shape of the tensor `input_name` ("node" means "node:0") in `graph`."""
    name = input_name if ":" in input_name else input_name + ":0"
    return graph.get_tensor_by_name(name).shape


def must_run_on_cpu(node: Any, pin_variables_on_cpu: bool = False) -> bool:
    """Whether TF1 pins `node` (Operation or NodeDef) to the CPU: string or int32 Consts, int32
    DynamicStitch and Cast from int32, and variables when `pin_variables_on_cpu`."""
    from caudal.framework import dtypes

    node_def = node.node_def if hasattr(node, "node_def") else node
    if pin_variables_on_cpu and node_def.op in _VARIABLE_OPS:
        return True
    checks = {"Const": "dtype", "DynamicStitch": "T", "ParallelDynamicStitch": "T", "Cast": "SrcT"}
    attr = checks.get(node_def.op)
    if attr is None or attr not in node_def.attr:
        return False
    pinned = (dtypes.int32, dtypes.string) if node_def.op == "Const" else (dtypes.int32,)
    return node_def.attr[attr].type in [d.as_datatype_enum for d in pinned]
