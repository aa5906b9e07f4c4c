"""GraphDef interchange: `Graph.as_graph_def`, `tf.import_graph_def`, `tf.train.write_graph`.

Nodes are written as TensorFlow writes them: inputs as `"node"` (output 0),
`"node:i"` and `"^node"` for control inputs; attrs with TF's attr types
(from `caudal.framework.op_attrs` when the op type is known there, else from
the Python value); `_output_shapes` only with `add_shapes=True`; versions
with TF 2.21's producer. Importing re-creates each node through
`Graph.create_op`, so dtypes and static shapes are inferred again, and fills
in attrs the file leaves at TF's defaults.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph_def_checks import check_nodes, expected_input_dtypes, type_string
from caudal.framework.op_attrs import OP_ATTRS
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.framework.tensor_util import make_tensor_proto, shape_from_proto, shape_to_proto, tensor_proto_values
from caudal.proto import attr_value_pb2, graph_pb2, node_def_pb2, variable_pb2

__all__ = ["node_def_of", "graph_to_graph_def", "import_graph_def", "variable_to_proto", "write_graph",
           "attr_value_from_python", "attr_value_to_python", "as_graph_def_proto"]

# The GraphDef version TensorFlow 2.21 writes.
GRAPH_DEF_VERSION = 2474
GRAPH_DEF_VERSION_MIN_CONSUMER = 0


# ------------------------------------------------------------------ attrs
def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def _scalar_attr(proto: Any, kind: str, value: Any) -> None:
    """Sets one (non-list) attr value of TF attr type `kind` on an AttrValue."""
    if kind == "type":
        proto.type = dtypes_lib.as_dtype(value).as_datatype_enum
    elif kind == "shape":
        proto.shape.CopyFrom(shape_to_proto(value))
    elif kind == "tensor":
        proto.tensor.CopyFrom(make_tensor_proto(value))
    elif kind == "int":
        proto.i = int(value)
    elif kind == "float":
        proto.f = float(value)
    elif kind == "bool":
        proto.b = bool(value)
    elif kind == "string":
        proto.s = _as_bytes(value)
    elif kind == "func":
        proto.func.CopyFrom(value if isinstance(value, attr_value_pb2.NameAttrList)
                            else attr_value_pb2.NameAttrList(name=str(getattr(value, "name", value))))
    else:
        raise TypeError(f"Unknown attr type {kind!r}")


def _kind_of(value: Any) -> str:
    """The TF attr type a Python value encodes as, when the op's attr types are not known.

    An object may say itself which kind it is (`attr_kind`, e.g. a dataset function: "func")."""
    declared = getattr(value, "attr_kind", None)
    if declared is not None:
        return declared
    if isinstance(value, dtypes_lib.DType):
        return "type"
    if isinstance(value, TensorShape):
        return "shape"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, (str, bytes)):
        return "string"
    if isinstance(value, np.ndarray):
        return "tensor"
    if isinstance(value, attr_value_pb2.NameAttrList):
        return "func"
    raise TypeError(f"Cannot encode attr value {value!r} of type {type(value).__name__}")


def attr_value_from_python(value: Any, attr_type: str | None = None) -> attr_value_pb2.AttrValue:
    """An AttrValue for `value`; `attr_type` is TF's type string ("int", "list(type)", ...) if known."""
    if isinstance(value, attr_value_pb2.AttrValue):
        return value
    proto = attr_value_pb2.AttrValue()
    is_list = attr_type.startswith("list(") if attr_type else isinstance(value, (list, tuple))
    if is_list:
        items = list(value)
        kind = attr_type[5:-1] if attr_type else (_kind_of(items[0]) if items else None)
        proto.list.SetInParent()
        for item in items:
            if kind == "type":
                proto.list.type.append(dtypes_lib.as_dtype(item).as_datatype_enum)
            elif kind == "shape":
                proto.list.shape.add().CopyFrom(shape_to_proto(item))
            elif kind == "tensor":
                proto.list.tensor.add().CopyFrom(make_tensor_proto(item))
            elif kind == "int":
                proto.list.i.append(int(item))
            elif kind == "float":
                proto.list.f.append(float(item))
            elif kind == "bool":
                proto.list.b.append(bool(item))
            elif kind == "string":
                proto.list.s.append(_as_bytes(item))
            elif kind == "func":
                proto.list.func.add().CopyFrom(item)
            else:
                raise TypeError(f"Unknown attr type {kind!r}")
        return proto
    _scalar_attr(proto, attr_type or _kind_of(value), value)
    return proto


def _decode_string(value: bytes) -> Any:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value


def _readonly(array: np.ndarray) -> np.ndarray:
    """`array` (a fresh one from tensor_proto_values, or a broadcast view) made read-only without copying it."""
    array = np.asarray(array)
    if array.flags.writeable:
        array.flags.writeable = False
    return array


def attr_value_to_python(proto: attr_value_pb2.AttrValue) -> Any:
    """The Python value caudal's ops keep for an AttrValue (DType, TensorShape, str, ndarray, ...)."""
    kind = proto.WhichOneof("value")
    if kind == "list":
        lst = proto.list
        if lst.type:
            return [dtypes_lib.as_dtype(t) for t in lst.type]
        if lst.shape:
            return [shape_from_proto(s) for s in lst.shape]
        if lst.tensor:
            return [_readonly(tensor_proto_values(t)) for t in lst.tensor]
        if lst.s:
            return [_decode_string(s) for s in lst.s]
        if lst.i:
            return [int(i) for i in lst.i]
        if lst.f:
            return [float(f) for f in lst.f]
        if lst.b:
            return [bool(b) for b in lst.b]
        if lst.func:
            return list(lst.func)
        return []
    if kind == "type":
        return dtypes_lib.as_dtype(proto.type)
    if kind == "shape":
        return shape_from_proto(proto.shape)
    if kind == "tensor":
        return _readonly(tensor_proto_values(proto.tensor))
    if kind == "s":
        return _decode_string(proto.s)
    if kind == "i":
        return int(proto.i)
    if kind == "f":
        return float(proto.f)
    if kind == "b":
        return bool(proto.b)
    if kind == "func":
        return proto.func
    if kind == "placeholder":
        return proto.placeholder
    return None


def _default_value(attr_type: str, default: Any) -> Any:
    """An op_attrs default turned into the Python value caudal's ops keep."""
    if default is None:
        return TensorShape(None) if attr_type == "shape" else None
    if attr_type == "type":
        return dtypes_lib.as_dtype(default)
    if attr_type == "list(type)":
        return [dtypes_lib.as_dtype(d) for d in default]
    if attr_type == "shape":
        return TensorShape(default)
    if attr_type == "list(shape)":
        return [TensorShape(d) for d in default]
    if attr_type == "tensor":
        return _readonly(np.asarray(default))
    return list(default) if isinstance(default, list) else default


# ------------------------------------------------------------------ export
def _input_name(tensor: Tensor) -> str:
    return tensor.op.name if tensor.value_index == 0 else f"{tensor.op.name}:{tensor.value_index}"


def node_def_of(op: Any, add_shapes: bool = False) -> node_def_pb2.NodeDef:
    """The NodeDef of an Operation, as TF writes it (`Operation.node_def`)."""
    node = node_def_pb2.NodeDef(name=op.name, op=op.type, device=op.device or "")
    node.input.extend(_input_name(t) for t in op.inputs)
    node.input.extend("^" + c.name for c in op.control_inputs)
    types = OP_ATTRS.get(op.type, {})
    for key, value in op._attrs.items():
        if value is None or getattr(value, "attr_kind", None) == "internal":
            continue  # internal: run-time knowledge of caudal's own, not part of the node
        if key == "_output_shapes" and add_shapes:
            continue
        spec = types.get(key)
        node.attr[key].CopyFrom(attr_value_from_python(value, spec[0] if spec else None))
    if add_shapes:
        node.attr["_output_shapes"].CopyFrom(
            attr_value_from_python([t.shape for t in op.outputs], "list(shape)"))
    return node


def graph_to_graph_def(graph: Any, add_shapes: bool = False) -> graph_pb2.GraphDef:
    """`Graph.as_graph_def()`: every node in creation order, with TF 2.21's versions."""
    graph_def = graph_pb2.GraphDef()
    graph_def.versions.producer = GRAPH_DEF_VERSION
    if GRAPH_DEF_VERSION_MIN_CONSUMER:
        graph_def.versions.min_consumer = GRAPH_DEF_VERSION_MIN_CONSUMER
    for op in graph.get_operations():
        graph_def.node.add().CopyFrom(node_def_of(op, add_shapes))
    return graph_def


def as_graph_def_proto(graph_def: Any, what: str = "graph_def") -> graph_pb2.GraphDef:
    """Our GraphDef for a GraphDef message (also TensorFlow's own class) or its serialized bytes."""
    if isinstance(graph_def, graph_pb2.GraphDef):
        return graph_def
    if isinstance(graph_def, bytes):
        return graph_pb2.GraphDef.FromString(graph_def)
    if type(graph_def).__name__ == "GraphDef" and hasattr(graph_def, "SerializeToString"):
        return graph_pb2.GraphDef.FromString(graph_def.SerializeToString())
    raise TypeError(f"{what} must be a GraphDef proto.")


def variable_to_proto(variable: Any, export_scope: str | None = None) -> variable_pb2.VariableDef | None:
    """`Variable.to_proto`: the VariableDef naming its nodes; None if outside `export_scope`."""
    if export_scope and not variable.name.startswith(export_scope.rstrip("/") + "/"):
        return None

    def strip(name: str) -> str:
        if export_scope and name.startswith(export_scope.rstrip("/") + "/"):
            return name[len(export_scope.rstrip("/")) + 1:]
        return name

    proto = variable_pb2.VariableDef(
        variable_name=strip(variable.name), initializer_name=strip(variable.initializer.name),
        snapshot_name=strip(variable.value().name), trainable=bool(variable.trainable))
    if variable.initial_value is not None:
        proto.initial_value_name = strip(variable.initial_value.name)
    info = variable._get_save_slice_info()
    if info is not None and hasattr(info, "to_proto"):
        proto.save_slice_info_def.CopyFrom(info.to_proto(export_scope))
    return proto


def write_graph(graph_or_graph_def: Any, logdir: str, name: str, as_text: bool = True) -> str:
    """`tf.train.write_graph`: writes a GraphDef as text (.pbtxt) or binary; returns the path."""
    from google.protobuf import text_format

    if hasattr(graph_or_graph_def, "as_graph_def"):
        graph_def = graph_or_graph_def.as_graph_def()
    else:
        graph_def = as_graph_def_proto(graph_or_graph_def, "graph_or_graph_def")
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    data = text_format.MessageToString(graph_def).encode("utf-8") if as_text else graph_def.SerializeToString()
    _durable_replace(path, data)
    return path


def _durable_replace(path: str, data: bytes) -> None:
    """Replaces `path` so that a process killed at any moment leaves the old file or the new one.

    The bytes are fsynced under a temporary name, renamed into place and the
    directory synced; temporary files of killed writes of `path` are removed.
    """
    import glob
    import uuid

    for stale in glob.glob(glob.escape(path) + ".tempstate*"):
        try:
            os.remove(stale)
        except OSError:
            pass
    tmp = f"{path}.tempstate{uuid.uuid4().hex}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ------------------------------------------------------------------ import
def _split_input(name: str) -> tuple[str, int, bool]:
    """("node", index, is_control) for an input string "node", "node:i" or "^node"."""
    if name.startswith("^"):
        return name[1:], -1, True
    node, sep, index = name.rpartition(":")
    if sep and index.isdigit():
        return node, int(index), False
    return name, 0, False


def _tensor_key(name: str) -> str:
    """A tensor name in canonical "node:i" form."""
    node, index, control = _split_input(name)
    return "^" + node if control else f"{node}:{index}"


def _is_back_edge(node: Any, dep: Any) -> bool:
    """A while loop's NextIteration feeding its Merge: the one edge that closes a loop."""
    return node.op == "Merge" and dep.op == "NextIteration"


def _topological_order(nodes: list[Any]) -> list[Any]:
    """Nodes ordered so every input comes first (loops' back edges aside), keeping the file's
    order where it already is; any other cycle is an error."""
    by_name = {n.name: n for n in nodes}
    state: dict[str, int] = {}  # 1: being visited, 2: emitted
    order = []
    for root in nodes:
        if state.get(root.name):
            continue
        stack = [(root, iter(root.input))]
        state[root.name] = 1
        while stack:
            node, pending = stack[-1]
            for text in pending:
                dep = by_name.get(_split_input(text)[0])
                if dep is None or state.get(dep.name) == 2 or _is_back_edge(node, dep):
                    continue
                if state.get(dep.name) == 1:
                    raise ValueError(f"GraphDef has a cycle through node '{dep.name}' that is not a while loop")
                state[dep.name] = 1
                stack.append((dep, iter(dep.input)))
                break
            else:
                stack.pop()
                state[node.name] = 2
                order.append(node)
    return order


def _unique_import_name(graph: Any, name: str) -> str:
    """`name`, or `name_1`, `name_2`, ... if taken; marked as used, as TF's importer does."""
    used = graph._names_in_use
    candidate = name
    suffix = 1
    while candidate.lower() in used or graph._get_operation_by_name_unsafe(candidate) is not None:
        candidate = f"{name}_{suffix}"
        suffix += 1
    used[candidate.lower()] = used.get(candidate.lower(), 0) + 1
    return candidate


@contextlib.contextmanager
def _all_or_nothing(graph: Any) -> Iterator[None]:
    """Removes every op (and name, collection entry, control edge) added inside, if the block fails."""
    count = len(graph._ops)
    names_in_use = dict(graph._names_in_use)
    collections = {key: list(values) for key, values in graph._collections.items()}
    try:
        yield
    except BaseException:
        added = graph._ops[count:]
        if added:
            added_set = set(added)
            del graph._ops[count:]
            for op in added:
                graph._ops_by_name.pop(op.name, None)
                for tensor in op.outputs:
                    graph._constant_cache.pop(tensor, None)
                    graph._unfeedable.discard(tensor)
                graph._unfetchable.discard(op)
            for op in graph._ops:
                if op._control_outputs:
                    op._control_outputs[:] = [c for c in op._control_outputs if c not in added_set]
            graph._mutation_version += 1
        graph._names_in_use.clear()
        graph._names_in_use.update(names_in_use)
        graph._collections.clear()
        graph._collections.update(collections)
        raise


def import_graph_def(graph_def: Any, input_map: dict[str, Any] | None = None,
                     return_elements: list[str] | None = None, name: str | None = None,
                     op_dict: Any = None, producer_op_list: Any = None) -> list[Any] | None:
    """`tf.import_graph_def`: adds the GraphDef's nodes to the default graph under `name/`.

    `input_map` maps GraphDef tensor names to Tensors used in their place;
    `return_elements` names ops ("x") or tensors ("x:0") to return.
    An op type caudal does not implement raises NotFoundError naming it and the node.
    """
    from caudal.errors import NotFoundError
    from caudal.framework.convert import convert_to_tensor
    from caudal.framework.graph import get_default_graph
    from caudal.framework.registry import has_op

    graph_def = as_graph_def_proto(graph_def)
    graph = get_default_graph()
    mapped: dict[str, Tensor] = {}
    for key, value in (input_map or {}).items():
        if not isinstance(key, str):
            raise TypeError("input_map must be a dictionary mapping strings to Tensor objects.")
        mapped[_tensor_key(key)] = value if isinstance(value, Tensor) else convert_to_tensor(value)
    if return_elements is not None and isinstance(return_elements, str):
        raise TypeError("return_elements must be a list of strings.")

    nodes = list(graph_def.node)
    names = {n.name for n in nodes}
    missing_map = [k for k in mapped if _split_input(k)[0] not in names]
    if missing_map:
        raise ValueError(f"Attempted to map inputs that were not found in graph_def: [{', '.join(missing_map)}]")
    for n in nodes:
        if not has_op(n.op):
            raise NotFoundError(None, None, f"Op type not registered '{n.op}' in binary running on caudal "
                                            f"(node '{n.name}'). caudal does not implement this op type.")
        for i in n.input:
            if _split_input(i)[0] not in names:
                raise ValueError(f"Node '{n.name}': Unknown input node '{i}'")
    check_nodes(nodes)

    with graph._lock, _all_or_nothing(graph):
        with graph.name_scope(name if name is not None else "import") as scope:
            prefix = scope[:-1] if scope else ""
            created: dict[str, Any] = {}
            back_edges: list[tuple[Any, int, str]] = []
            for node in _topological_order(nodes):
                created[node.name] = _import_node(graph, node, prefix, created, mapped, back_edges)
            for op, index, source in back_edges:
                name, output, _ = _split_input(source)
                op._update_input(index, created[name].outputs[output])

    if return_elements is None:
        return None
    results = []
    for element in return_elements:
        node_name, index, _ = _split_input(element)
        op = created.get(node_name)
        if ":" in element:
            if op is None or index >= len(op.outputs):
                raise ValueError(f"Requested return tensor '{element}' not found in graph def")
            results.append(op.outputs[index])
        else:
            if op is None:
                raise ValueError(f"Requested return node '{element}' not found in graph def")
            results.append(op)
    return results


def _import_node(graph: Any, node: Any, prefix: str, created: dict[str, Any], mapped: dict[str, Tensor],
                 back_edges: list[tuple[Any, int, str]]) -> Any:
    inputs: list[Tensor] = []
    controls: list[Any] = []
    pending_back_edges = []
    for position, text in enumerate(node.input):
        source, index, control = _split_input(text)
        if node.op == "Merge" and not control and source not in created and f"{source}:{index}" not in mapped:
            pending_back_edges.append((position, text))  # a loop's NextIteration, made after this Merge
            continue
        if control:
            replacement = mapped.get("^" + source)
            controls.append(replacement.op if isinstance(replacement, Tensor) else created[source])
            continue
        replacement = mapped.get(f"{source}:{index}")
        if replacement is not None:
            inputs.append(replacement)
            continue
        op = created[source]
        if index >= len(op.outputs):
            raise ValueError(f"Node '{node.name}': Connecting to invalid output {index} of source node "
                             f"{source} which has {len(op.outputs)} outputs.")
        inputs.append(op.outputs[index])
    if pending_back_edges:
        if not inputs:
            raise ValueError(f"Node '{node.name}': a Merge needs at least one input that is not a back edge")
        for position, _ in pending_back_edges:
            inputs.insert(position, inputs[0])  # stands in until the NextIteration exists
    _check_input_dtypes(node, inputs, [t for t in node.input if not t.startswith("^")])
    try:
        attrs = {key: attr_value_to_python(value) for key, value in node.attr.items()
                 if value.WhichOneof("value") is not None}
    except (ValueError, TypeError) as e:
        raise ValueError(f"Node '{node.name}' (op: '{node.op}'): {e}") from None
    for key, spec in OP_ATTRS.get(node.op, {}).items():
        if key not in attrs and len(spec) == 2:
            attrs[key] = _default_value(spec[0], spec[1])
    full_name = _unique_import_name(graph, f"{prefix}/{node.name}" if prefix else node.name)
    try:
        op = graph.create_op(node.op, inputs, attrs, name=full_name + "/", control_inputs=controls)
    except KeyError as e:
        raise ValueError(f"Node '{node.name}' (op: '{node.op}') is missing attr {e}") from None
    except (IndexError, AttributeError, TypeError, ArithmeticError) as e:
        # a shape or dtype rule met a node its op definition does not describe (e.g. below an attr's minimum)
        raise ValueError(f"Node '{node.name}' (op: '{node.op}') cannot be imported: {type(e).__name__}: {e}") \
            from None
    if node.device:
        op._set_device(node.device)
    if pending_back_edges:
        # The loop variable's shape may change across iterations: keep only its rank.
        output = op.outputs[0]
        if output.shape.ndims is not None:
            output._shape = TensorShape([None] * output.shape.ndims)
        back_edges.extend((op, position, text) for position, text in pending_back_edges)
    return op


def _check_input_dtypes(node: Any, inputs: list[Tensor], sources: list[str]) -> None:
    """Each input's dtype against the node's signature (TF's "Input 0 of node m was passed float ...")."""
    expected = expected_input_dtypes(node)
    if expected is None or len(expected) != len(inputs):
        return
    for i, (tensor, want) in enumerate(zip(inputs, expected)):
        got = tensor.dtype.base_dtype.as_datatype_enum
        if got != (want - 100 if want > 100 else want):
            source, index, _ = _split_input(sources[i])
            raise ValueError(f"Input {i} of node {node.name} was passed {type_string(got)} from {source}:{index} "
                             f"incompatible with expected {type_string(want)}.")
