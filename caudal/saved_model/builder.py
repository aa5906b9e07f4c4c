"""`tf.saved_model.builder.SavedModelBuilder` and `simple_save`: TF1's SavedModel writer.

A SavedModel directory holds `saved_model.pb` (one or more MetaGraphDefs, each tagged, with its
signatures), `variables/variables.{index,data-*}` (a sharded V2 checkpoint of the first meta graph's
variables, shared by all) and `assets/` (files the graph reads, such as vocabularies). The meta graph
is what `Saver.export_meta_graph` writes; `saved_model.pb` is written last, under a temporary name and
renamed, so a directory with a `saved_model.pb` always has its variables.
"""
from __future__ import annotations

import os
import shutil
from typing import Any

from caudal.checkpoint.state import atomic_write
from caudal.framework.graph import GraphKeys, get_default_graph
from caudal.proto import meta_graph_pb2, saved_model_pb2
from caudal.saved_model import constants
from caudal.saved_model.signature_def_utils import predict_signature_def

__all__ = ["SavedModelBuilder", "simple_save"]


def _check_tensor_info(info: meta_graph_pb2.TensorInfo) -> None:
    if info.WhichOneof("encoding") is None:
        raise AssertionError(f"Invalid `tensor_info`: {info}. All TensorInfo protos used in the SignatureDefs must "
                             "have one of the 'encoding' fields (e.g., name or coo_sparse) set.")
    if not info.dtype:
        raise AssertionError(f"Invalid `tensor_info`: {info}. All TensorInfo protos used in the SignatureDefs must "
                             "have the dtype field set.")


class SavedModelBuilder:
    """Builds a SavedModel in `export_dir`, which must not exist or be empty."""

    def __init__(self, export_dir: str | os.PathLike):
        self._export_dir = os.fspath(export_dir)
        if os.path.exists(self._export_dir):
            if os.listdir(self._export_dir):
                raise AssertionError(f"Export directory {self._export_dir} already exists, and isn't empty. Please "
                                     "choose a different export directory, or delete all the contents of the "
                                     "specified directory.")
        else:
            os.makedirs(self._export_dir)
        self._saved_model = saved_model_pb2.SavedModel(
            saved_model_schema_version=constants.SAVED_MODEL_SCHEMA_VERSION)
        self._has_saved_variables = False

    # ------------------------------------------------------------------ parts
    def _validate_signature_def_map(self, signature_def_map: dict[str, Any]) -> None:
        for _key, signature in signature_def_map.items():
            for info in list(signature.inputs.values()) + list(signature.outputs.values()):
                _check_tensor_info(info)
        for reserved in (constants.INIT_OP_SIGNATURE_KEY, constants.TRAIN_OP_SIGNATURE_KEY):
            if reserved in signature_def_map:
                raise KeyError(f"SignatureDef map key \"{reserved}\" is reserved for initialization. Please use a "
                               "different key.")

    def _add_main_op(self, main_op: Any) -> None:
        if main_op is None:
            return
        graph = get_default_graph()
        for key in (constants.MAIN_OP_KEY, constants.LEGACY_INIT_OP_KEY):
            if graph.get_collection(key):
                raise ValueError(f"Graph already contains one or more main ops under the collection {key}.")
        if not hasattr(main_op, "node_def") or hasattr(main_op, "value_index"):
            raise TypeError(f"Expected {main_op} to be an Operation but got type {type(main_op)} instead.")
        graph.add_to_collection(constants.MAIN_OP_KEY, main_op)

    def _asset_file_defs(self, assets_collection: Any) -> list[meta_graph_pb2.AssetFileDef]:
        """Copies each asset file into assets/ and describes it (the tensor holding its path, its file name)."""
        from caudal.framework.constant_value import constant_value
        from caudal.saved_model.utils import build_tensor_info

        defs = []
        for tensor in assets_collection or []:
            path = constant_value(tensor)
            path = path.item() if hasattr(path, "item") else path
            path = path.decode() if isinstance(path, bytes) else path
            if not path:
                raise ValueError(f"Asset filepath tensor {tensor} in is invalid.")
            filename = os.path.basename(path)
            directory = os.path.join(self._export_dir, constants.ASSETS_DIRECTORY)
            os.makedirs(directory, exist_ok=True)
            target = os.path.join(directory, filename)
            if not os.path.exists(target):
                shutil.copyfile(path, target)
            defs.append(meta_graph_pb2.AssetFileDef(tensor_info=build_tensor_info(tensor), filename=filename))
        return defs

    def _maybe_create_saver(self, saver: Any) -> Any:
        if saver is not None:
            return saver
        from caudal.proto import saver_pb2
        from caudal.train.saver import Saver

        return Saver(sharded=True, write_version=saver_pb2.SaverDef.V2, allow_empty=True)

    def _tag_and_add(self, meta_graph: meta_graph_pb2.MetaGraphDef, tags: Any, signature_def_map: dict[str, Any],
                     asset_defs: list[meta_graph_pb2.AssetFileDef]) -> None:
        if tags is None or isinstance(tags, str):
            tags = [tags] if tags else []
        meta_graph.meta_info_def.tags.extend(tags)
        for key, signature in signature_def_map.items():
            meta_graph.signature_def[key].CopyFrom(signature)
        meta_graph.asset_file_def.extend(asset_defs)
        self._saved_model.meta_graphs.add().CopyFrom(meta_graph)

    # ------------------------------------------------------------------ API
    def add_meta_graph_and_variables(self, sess: Any, tags: Any, signature_def_map: dict[str, Any] | None = None,
                                     assets_collection: Any = None, legacy_init_op: Any = None,
                                     clear_devices: bool = False, main_op: Any = None,
                                     strip_default_attrs: bool = False, saver: Any = None) -> None:
        """The current graph, tagged, with its signatures; its variables' values in `sess` saved once."""
        if self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has already been saved. Please invoke "
                                 "`add_meta_graph()` instead.")
        signature_def_map = signature_def_map or {}
        self._validate_signature_def_map(signature_def_map)
        asset_defs = self._asset_file_defs(assets_collection)
        self._add_main_op(main_op or legacy_init_op)
        variables_dir = os.path.join(self._export_dir, constants.VARIABLES_DIRECTORY)
        os.makedirs(variables_dir, exist_ok=True)
        saver = self._maybe_create_saver(saver)
        saver.save(sess, os.path.join(variables_dir, constants.VARIABLES_FILENAME), write_meta_graph=False,
                   write_state=False)
        meta_graph = saver.export_meta_graph(clear_devices=clear_devices, strip_default_attrs=strip_default_attrs)
        self._tag_and_add(meta_graph, tags, signature_def_map, asset_defs)
        self._has_saved_variables = True

    def add_meta_graph(self, tags: Any, signature_def_map: dict[str, Any] | None = None,
                       assets_collection: Any = None, legacy_init_op: Any = None, clear_devices: bool = False,
                       main_op: Any = None, strip_default_attrs: bool = False, saver: Any = None) -> None:
        """Another meta graph (say, for serving) over the variables `add_meta_graph_and_variables` saved."""
        if not self._has_saved_variables:
            raise AssertionError("Graph state including variables and assets has not been saved yet. Please invoke "
                                 "`add_meta_graph_and_variables()` first.")
        signature_def_map = signature_def_map or {}
        self._validate_signature_def_map(signature_def_map)
        asset_defs = self._asset_file_defs(assets_collection)
        self._add_main_op(main_op or legacy_init_op)
        saver = self._maybe_create_saver(saver)
        meta_graph = saver.export_meta_graph(clear_devices=clear_devices, strip_default_attrs=strip_default_attrs)
        self._tag_and_add(meta_graph, tags, signature_def_map, asset_defs)

    def save(self, as_text: bool = False) -> bytes:
        """Writes saved_model.pb (or .pbtxt with `as_text`) and returns its path."""
        if as_text:
            from google.protobuf import text_format

            path = os.path.join(self._export_dir, constants.SAVED_MODEL_FILENAME_PBTXT)
            atomic_write(path, text_format.MessageToString(self._saved_model))
        else:
            path = os.path.join(self._export_dir, constants.SAVED_MODEL_FILENAME_PB)
            atomic_write(path, self._saved_model.SerializeToString(deterministic=True))
        return path.encode()


def simple_save(session: Any, export_dir: str | os.PathLike, inputs: dict[str, Any], outputs: dict[str, Any],
                legacy_init_op: Any = None) -> None:
    """`tf.saved_model.simple_save`: the serving meta graph with one predict signature `serving_default`,
    and the table initializers as its main op, as TF's."""
    signature_def_map = {constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY: predict_signature_def(inputs, outputs)}
    builder = SavedModelBuilder(export_dir)
    graph = session.graph
    builder.add_meta_graph_and_variables(
        session, tags=[constants.SERVING], signature_def_map=signature_def_map,
        assets_collection=graph.get_collection(GraphKeys.ASSET_FILEPATHS), main_op=legacy_init_op, clear_devices=True)
    builder.save()
