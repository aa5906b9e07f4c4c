"""Writing MetaGraphDefs: `tf.train.export_meta_graph` (see caudal.train.meta_graph for the format).

Collections are written as TF does: variables (and the other variable
collections) as serialized VariableDefs, savers as SaverDefs, tensors and
ops as node names, numbers and strings as lists. Collections of anything
else are skipped with a warning.

caudal keeps no per-op OpDefs with input signatures, so `stripped_op_list`
lists each op type with its attrs (types and defaults) and statefulness
only; that is what importers use it for (dropping attrs at their defaults).
`save_debug_info` is accepted and writes nothing: caudal records no
GraphDebugInfo.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from google.protobuf import text_format

from caudal.checkpoint.state import atomic_write
from caudal.framework.graph import GraphKeys, Operation, get_default_graph
from caudal.framework.graph_io import _default_value, as_graph_def_proto, attr_value_from_python
from caudal.framework.op_attrs import OP_ATTRS
from caudal.framework.registry import get_op_def, has_op
from caudal.framework.tensor import Tensor
from caudal.proto import graph_pb2, meta_graph_pb2, op_def_pb2, saver_pb2
from caudal.variables import Variable

__all__ = ["export_meta_graph", "register_proto_class", "TENSORFLOW_VERSION"]

_logger = logging.getLogger("caudal")

# What meta_info_def says, as TensorFlow 2.21 writes it.
TENSORFLOW_VERSION = "2.21.0"
TENSORFLOW_GIT_VERSION = "caudal"

_SAVE_AND_RESTORE_OPS = frozenset(["SaveV2", "RestoreV2", "MergeV2Checkpoints", "SaveSlices", "Save",
                                   "RestoreSlice", "Restore"])


def _stripped_op_list(graph_def: graph_pb2.GraphDef) -> op_def_pb2.OpList:
    op_list = op_def_pb2.OpList()
    for op_type in sorted({node.op for node in graph_def.node}):
        op_def = op_list.op.add(name=op_type)
        for attr, spec in OP_ATTRS.get(op_type, {}).items():
            attr_def = op_def.attr.add(name=attr, type=spec[0])
            if len(spec) == 2 and spec[1] is not None:
                attr_def.default_value.CopyFrom(attr_value_from_python(_default_value(spec[0], spec[1]), spec[0]))
        if has_op(op_type) and get_op_def(op_type).stateful:
            op_def.is_stateful = True
    return op_list


def _strip_default_attrs(graph_def: graph_pb2.GraphDef) -> None:
    for node in graph_def.node:
        for attr, spec in OP_ATTRS.get(node.op, {}).items():
            if attr in node.attr and len(spec) == 2 and spec[1] is not None:
                default = attr_value_from_python(_default_value(spec[0], spec[1]), spec[0])
                if node.attr[attr] == default:
                    del node.attr[attr]


def _node_name(name: str) -> str:
    name = name[1:] if name.startswith("^") else name
    return name.split(":")[0]


def _scope_of(name: str) -> str:
    return name.rsplit("/", 1)[0] if "/" in name else ""


def _remove_extraneous_savers(graph_def: graph_pb2.GraphDef, saver_def: saver_pb2.SaverDef | None) -> None:
    """Drops the nodes of every Saver but `saver_def`'s (TF's clear_extraneous_savers)."""
    keep = set()
    if saver_def is not None:
        keep = {_scope_of(_node_name(saver_def.save_tensor_name)) + "/",
                _scope_of(_node_name(saver_def.restore_op_name)) + "/"}
    op_names = {node.name for node in graph_def.node if node.op in _SAVE_AND_RESTORE_OPS}
    scopes = {_scope_of(name) for name in op_names} - op_names
    extraneous = {s + "/" for s in scopes if s} - keep
    kept = [node for node in graph_def.node if not any(node.name.startswith(s) for s in extraneous)]
    del graph_def.node[:]
    graph_def.node.extend(kept)


def _scoped_graph_def(graph_def: graph_pb2.GraphDef, export_scope: str) -> graph_pb2.GraphDef:
    prefix = export_scope.rstrip("/") + "/"
    result = graph_pb2.GraphDef()
    result.versions.CopyFrom(graph_def.versions)
    for node in graph_def.node:
        if not node.name.startswith(prefix):
            continue
        copy = result.node.add()
        copy.CopyFrom(node)
        copy.name = node.name[len(prefix):]
        del copy.input[:]
        for text in node.input:
            control = text.startswith("^")
            body = text[1:] if control else text
            if body.startswith(prefix):
                body = body[len(prefix):]
            copy.input.append(("^" if control else "") + body)
        if "_class" in copy.attr:
            located = b"loc:@" + prefix.encode()
            copy.attr["_class"].list.s[:] = [b"loc:@" + v[len(located):] if v.startswith(located) else v
                                            for v in copy.attr["_class"].list.s]
    return result


def _strip_scope(name: str, export_scope: str | None) -> str | None:
    if not export_scope:
        return name
    prefix = export_scope.rstrip("/") + "/"
    body = name[1:] if name.startswith("^") else name
    if not body.startswith(prefix):
        return None
    return ("^" if name.startswith("^") else "") + body[len(prefix):]


# Classes whose objects a collection holds as protos, written with `to_proto(export_scope)`:
# Variable, and Saver, which caudal.train.saver registers (it imports this module), as
# TensorFlow's saver registers its proto functions.
_PROTO_CLASSES: list[type] = [Variable]


def register_proto_class(cls: type) -> None:
    """Collections of `cls` objects are written as their serialized `to_proto(export_scope)`."""
    if cls not in _PROTO_CLASSES:
        _PROTO_CLASSES.append(cls)


def _add_collection(meta_graph: meta_graph_pb2.MetaGraphDef, key: str, graph: Any,
                    export_scope: str | None) -> None:
    """Writes collection `key` of `graph` into `meta_graph.collection_def`, as TF's add_collection_def."""
    items = graph.get_collection(key)
    if not items:
        return
    collection = meta_graph_pb2.CollectionDef()
    try:
        if any(all(isinstance(v, cls) for v in items) for cls in _PROTO_CLASSES):
            protos = [v.to_proto(export_scope) for v in items]
            collection.bytes_list.value.extend(p.SerializeToString() for p in protos if p is not None)
        elif all(isinstance(v, (Tensor, Operation)) for v in items):
            names = [_strip_scope(v.name, export_scope) for v in items]
            collection.node_list.value.extend(n for n in names if n is not None)
        elif all(isinstance(v, bool) for v in items) or all(isinstance(v, int) for v in items):
            collection.int64_list.value.extend(int(v) for v in items)
        elif all(isinstance(v, float) for v in items):
            collection.float_list.value.extend(items)
        elif all(isinstance(v, (bytes, str)) for v in items):
            collection.bytes_list.value.extend(v.encode("utf-8") if isinstance(v, str) else v for v in items)
        elif all(hasattr(v, "SerializeToString") for v in items):
            collection.bytes_list.value.extend(v.SerializeToString() for v in items)
        else:
            _logger.warning("Issue encountered when serializing %s.\nType is unsupported, or the types of the items "
                            "don't match field type in CollectionDef.", key)
            return
    except Exception as e:  # noqa: BLE001 - TF skips a collection it cannot write, with a warning
        _logger.warning("Issue encountered when serializing %s.\n%s", key, e)
        return
    if collection.WhichOneof("kind") is not None:
        meta_graph.collection_def[key].CopyFrom(collection)


def export_meta_graph(filename: str | None = None, meta_info_def: Any = None, graph_def: Any = None,
                      saver_def: saver_pb2.SaverDef | None = None, collection_list: list[str] | None = None,
                      as_text: bool = False, graph: Any = None, export_scope: str | None = None,
                      clear_devices: bool = False, clear_extraneous_savers: bool = False,
                      strip_default_attrs: bool = False, save_debug_info: bool = False,
                      **kwargs: Any) -> meta_graph_pb2.MetaGraphDef:
    """`tf.train.export_meta_graph`: the MetaGraphDef of `graph` (default graph), written to `filename` if given.

    `graph_def` defaults to the graph's GraphDef with `_output_shapes`;
    `collection_list` to every collection. With `export_scope` only nodes
    and collection items under that scope are written, names made relative
    to it. The file is binary unless `as_text`; it is written atomically.
    """
    if kwargs:
        raise TypeError(f"export_meta_graph() got unexpected keyword arguments {sorted(kwargs)}")
    graph = graph if graph is not None else get_default_graph()
    if graph_def is None:
        graph_def = graph.as_graph_def(add_shapes=True)
    source = as_graph_def_proto(graph_def)
    graph_def = graph_pb2.GraphDef()
    graph_def.CopyFrom(source)
    if export_scope:
        graph_def = _scoped_graph_def(graph_def, export_scope)
    if clear_devices:
        for node in graph_def.node:
            node.device = ""
    if clear_extraneous_savers:
        _remove_extraneous_savers(graph_def, saver_def)
    if strip_default_attrs:
        _strip_default_attrs(graph_def)

    meta_graph = meta_graph_pb2.MetaGraphDef()
    if meta_info_def is not None:
        if not isinstance(meta_info_def, meta_graph_pb2.MetaGraphDef.MetaInfoDef):
            meta_info_def = meta_graph_pb2.MetaGraphDef.MetaInfoDef.FromString(meta_info_def.SerializeToString())
        meta_graph.meta_info_def.CopyFrom(meta_info_def)
    info = meta_graph.meta_info_def
    if not info.tensorflow_version:
        info.tensorflow_version = TENSORFLOW_VERSION
    if not info.tensorflow_git_version:
        info.tensorflow_git_version = TENSORFLOW_GIT_VERSION
    info.stripped_default_attrs = strip_default_attrs
    info.stripped_op_list.CopyFrom(_stripped_op_list(graph_def))
    meta_graph.graph_def.CopyFrom(graph_def)
    if saver_def is not None:
        if not isinstance(saver_def, saver_pb2.SaverDef):
            saver_def = saver_pb2.SaverDef.FromString(saver_def.SerializeToString())
        saver_copy = saver_pb2.SaverDef()
        saver_copy.CopyFrom(saver_def)
        if export_scope:
            for field in ("filename_tensor_name", "save_tensor_name", "restore_op_name"):
                stripped = _strip_scope(getattr(saver_copy, field), export_scope)
                if stripped is not None:
                    setattr(saver_copy, field, stripped)
        meta_graph.saver_def.CopyFrom(saver_copy)
    keys = collection_list if collection_list is not None else graph.get_all_collection_keys()
    for key in keys:
        if clear_extraneous_savers and key == GraphKeys.SAVERS:
            continue
        _add_collection(meta_graph, key, graph, export_scope)
    if filename:
        directory = os.path.dirname(filename)
        if directory:
            os.makedirs(directory, exist_ok=True)
        atomic_write(filename, text_format.MessageToString(meta_graph) if as_text
                     else meta_graph.SerializeToString())
    return meta_graph
