"""MetaGraphDef files: `tf.train.export_meta_graph` and `tf.train.import_meta_graph`.

A MetaGraphDef is a GraphDef plus what is needed to use it again: the
SaverDef, the graph's collections and `meta_info_def` (the op signatures
the graph uses, TensorFlow's version). Writing one is
caudal.train.meta_graph_export's part, below the Saver, which writes a
`.meta` file with every checkpoint.

`import_meta_graph` imports the GraphDef (under `import_scope`), rebuilds
the collections (the same Variable object in every collection that names
it) and returns a Saver over the imported save/restore nodes, so
`saver.restore(sess, path)` restores into the imported graph, TF-written
`.meta` files included.
"""
from __future__ import annotations

import logging
import os
from typing import Any

from google.protobuf import text_format
from google.protobuf.message import DecodeError

from caudal.framework.graph import GraphKeys, get_default_graph
from caudal.framework.graph_io import _all_or_nothing, import_graph_def
from caudal.proto import graph_pb2, meta_graph_pb2, saver_pb2, variable_pb2
from caudal.train.meta_graph_export import TENSORFLOW_VERSION, export_meta_graph
from caudal.train.saver import Saver, all_saveable_objects
from caudal.variables import Variable

__all__ = ["export_meta_graph", "import_meta_graph", "read_meta_graph_file", "TENSORFLOW_VERSION"]

_logger = logging.getLogger("caudal")

_VARIABLE_COLLECTIONS = (GraphKeys.GLOBAL_VARIABLES, GraphKeys.TRAINABLE_VARIABLES, GraphKeys.LOCAL_VARIABLES,
                         GraphKeys.MODEL_VARIABLES, GraphKeys.MOVING_AVERAGE_VARIABLES, GraphKeys.METRIC_VARIABLES,
                         GraphKeys.CONCATENATED_VARIABLES, GraphKeys.GLOBAL_STEP)


def read_meta_graph_file(filename: str) -> meta_graph_pb2.MetaGraphDef:
    """A MetaGraphDef from a binary (or, failing that, text) file; IOError if it does not exist."""
    if not os.path.exists(filename):
        raise OSError(f"File {filename} does not exist.")
    with open(filename, "rb") as f:
        data = f.read()
    meta_graph = meta_graph_pb2.MetaGraphDef()
    try:
        meta_graph.ParseFromString(data)
        return meta_graph
    except DecodeError:
        pass
    try:
        return text_format.Parse(data.decode("utf-8"), meta_graph_pb2.MetaGraphDef())
    except (text_format.ParseError, UnicodeDecodeError) as e:
        raise DecodeError(f"Cannot parse file {filename}: {e}") from None


def _as_meta_graph(meta_graph_or_file: Any) -> meta_graph_pb2.MetaGraphDef:
    if isinstance(meta_graph_or_file, meta_graph_pb2.MetaGraphDef):
        return meta_graph_or_file
    if type(meta_graph_or_file).__name__ == "MetaGraphDef" and hasattr(meta_graph_or_file, "SerializeToString"):
        return meta_graph_pb2.MetaGraphDef.FromString(meta_graph_or_file.SerializeToString())
    return read_meta_graph_file(os.fspath(meta_graph_or_file))


def _scoped(name: str, import_scope: str | None) -> str:
    return f"{import_scope}/{name}" if import_scope else name


def import_meta_graph(meta_graph_or_file: Any, clear_devices: bool = False, import_scope: str | None = None,
                      **kwargs: Any) -> Any:
    """`tf.train.import_meta_graph`: adds a MetaGraphDef's graph and collections to the default graph.

    Returns a Saver built from the file's SaverDef (restoring into the
    imported nodes), or a new Saver of the imported variables when there is
    no SaverDef, or None when there are no variables either. `kwargs`
    (`input_map`, `return_elements`) go to `import_graph_def`. All or
    nothing: a bad node or collection (a ValueError naming it) leaves the
    graph and its collections as they were.
    """
    meta_graph = _as_meta_graph(meta_graph_or_file)
    graph_def = graph_pb2.GraphDef()
    graph_def.CopyFrom(meta_graph.graph_def)
    if clear_devices:
        for node in graph_def.node:
            node.device = ""
    input_map = kwargs.pop("input_map", None)
    return_elements = kwargs.pop("return_elements", None)
    if kwargs:
        raise TypeError(f"import_meta_graph() got unexpected keyword arguments {sorted(kwargs)}")
    graph = get_default_graph()
    with graph._lock, _all_or_nothing(graph):
        imported = import_graph_def(graph_def, input_map=input_map, return_elements=return_elements,
                                    name=import_scope or "")
        variables: dict[bytes, Variable] = {}  # one Variable object in every collection that names it
        for key in sorted(meta_graph.collection_def):
            try:
                _import_collection(graph, meta_graph, key, import_scope, variables)
            except (DecodeError, KeyError, ValueError, TypeError) as e:
                raise ValueError(f"Collection '{key}' of the MetaGraphDef cannot be imported: {e}") from None
        saver = _saver_of(meta_graph, import_scope)
    if return_elements is not None:
        _logger.debug("import_meta_graph: return_elements %s", imported)
    return saver


def _saver_of(meta_graph: meta_graph_pb2.MetaGraphDef, import_scope: str | None) -> Any:
    if meta_graph.HasField("saver_def"):
        saver_def = saver_pb2.SaverDef()
        saver_def.CopyFrom(meta_graph.saver_def)
        return Saver(saver_def=saver_def, name=import_scope)
    if all_saveable_objects():
        return Saver()
    _logger.info("Saver not created because there are no variables in the graph to restore")
    return None


def _import_collection(graph: Any, meta_graph: meta_graph_pb2.MetaGraphDef, key: str, import_scope: str | None,
                       variables: dict[bytes, Variable]) -> None:
    collection = meta_graph.collection_def[key]
    kind = collection.WhichOneof("kind")
    if key in _VARIABLE_COLLECTIONS and kind == "bytes_list":
        for value in collection.bytes_list.value:
            if value not in variables:
                proto = variable_pb2.VariableDef.FromString(value)
                if proto.is_resource:
                    _logger.warning("Skipping resource variable %s of collection %s", proto.variable_name, key)
                    continue
                variables[value] = Variable.from_proto(proto, import_scope=import_scope)
            graph.add_to_collection(key, variables[value])
    elif key == GraphKeys.SAVERS and kind == "bytes_list":
        for value in collection.bytes_list.value:
            graph.add_to_collection(key, Saver.from_proto(saver_pb2.SaverDef.FromString(value), import_scope))
    elif key in (GraphKeys.COND_CONTEXT, GraphKeys.WHILE_CONTEXT, GraphKeys.QUEUE_RUNNERS):
        _logger.warning("Collection %s is not supported by caudal and was not imported", key)
    elif kind == "node_list":
        for name in collection.node_list.value:
            try:
                graph.add_to_collection(key, graph.as_graph_element(_scoped(name, import_scope)))
            except (KeyError, ValueError):
                _logger.warning("Collection %s names %s, which is not in the graph", key, name)
    elif kind == "bytes_list":
        for value in collection.bytes_list.value:
            graph.add_to_collection(key, value)
    elif kind == "int64_list":
        for value in collection.int64_list.value:
            graph.add_to_collection(key, int(value))
    elif kind == "float_list":
        for value in collection.float_list.value:
            graph.add_to_collection(key, float(value))
    elif kind == "any_list":
        for value in collection.any_list.value:
            graph.add_to_collection(key, value)
