"""`tf.saved_model.loader.load`: a SavedModel's meta graph imported into a Session's graph, its variables
restored and its main op run, as TF1 loads SavedModels written by TensorFlow or caudal."""
from __future__ import annotations

import os
from typing import Any

from caudal.framework.graph import get_default_graph
from caudal.proto import saved_model_pb2
from caudal.saved_model import constants

__all__ = ["load", "maybe_saved_model_directory", "contains_saved_model", "parse_saved_model"]


def parse_saved_model(export_dir: str | os.PathLike) -> saved_model_pb2.SavedModel:
    """The SavedModel proto of `export_dir` (saved_model.pb, else saved_model.pbtxt)."""
    export_dir = os.fspath(export_dir)
    path_pb = os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PB)
    path_txt = os.path.join(export_dir, constants.SAVED_MODEL_FILENAME_PBTXT)
    saved_model = saved_model_pb2.SavedModel()
    if os.path.isfile(path_pb):
        from google.protobuf.message import DecodeError

        with open(path_pb, "rb") as f:
            data = f.read()
        try:
            saved_model.ParseFromString(data)
        except DecodeError as e:
            raise OSError(f"Cannot parse file {path_pb}: {e}.") from e
    elif os.path.isfile(path_txt):
        from google.protobuf import text_format

        with open(path_txt, encoding="utf-8") as f:
            text = f.read()
        try:
            text_format.Parse(text, saved_model)
        except text_format.ParseError as e:
            raise OSError(f"Cannot parse file {path_txt}: {e}.") from e
    else:
        raise OSError(f"SavedModel file does not exist at: {export_dir}{os.path.sep}"
                      f"{{{constants.SAVED_MODEL_FILENAME_PBTXT}|{constants.SAVED_MODEL_FILENAME_PB}}}")
    return saved_model


def maybe_saved_model_directory(export_dir: str | os.PathLike) -> bool:
    """Whether `export_dir` holds a saved_model.pb or saved_model.pbtxt."""
    export_dir = os.fspath(export_dir)
    return any(os.path.isfile(os.path.join(export_dir, name))
               for name in (constants.SAVED_MODEL_FILENAME_PB, constants.SAVED_MODEL_FILENAME_PBTXT))


contains_saved_model = maybe_saved_model_directory


def _meta_graph_with_tags(saved_model: saved_model_pb2.SavedModel, tags: Any) -> Any:
    tags = [tags] if isinstance(tags, str) else list(tags or [])
    available = []
    for meta_graph in saved_model.meta_graphs:
        available.append(set(meta_graph.meta_info_def.tags))
        if set(meta_graph.meta_info_def.tags) == set(tags):
            return meta_graph
    raise RuntimeError(f"MetaGraphDef associated with tags {str(tags).strip('[]')} could not be found in SavedModel, "
                       f"with available tags '{available}'. To inspect available tag-sets in the SavedModel, please "
                       "use the SavedModel CLI: `saved_model_cli`.")


def _main_op(meta_graph: Any, import_scope: str | None) -> Any:
    graph = get_default_graph()
    for key in (constants.MAIN_OP_KEY, constants.LEGACY_INIT_OP_KEY):
        if key in meta_graph.collection_def:
            names = meta_graph.collection_def[key].node_list.value
            if len(names) != 1:
                raise RuntimeError(f"Expected exactly one SavedModel init op. Found {len(names)}: {list(names)}.")
            return graph.get_collection(key)[0]
    signature = meta_graph.signature_def.get(constants.INIT_OP_SIGNATURE_KEY)
    if signature is not None and signature.outputs:
        name = next(iter(signature.outputs.values())).name
        name = f"{import_scope}/{name}" if import_scope else name
        return graph.as_graph_element(name)
    return None


def _asset_feeds(export_dir: str, meta_graph: Any, import_scope: str | None) -> dict[str, str]:
    assets = list(meta_graph.asset_file_def)
    if not assets and constants.ASSETS_KEY in meta_graph.collection_def:
        from caudal.proto import meta_graph_pb2

        for packed in meta_graph.collection_def[constants.ASSETS_KEY].any_list.value:
            if packed.type_url.endswith(".AssetFileDef"):  # TF's package name differs from ours: read the bytes
                assets.append(meta_graph_pb2.AssetFileDef.FromString(packed.value))
    directory = os.path.join(export_dir, constants.ASSETS_DIRECTORY)
    feeds = {}
    for asset in assets:
        name = asset.tensor_info.name
        feeds[f"{import_scope}/{name}" if import_scope else name] = os.path.join(directory, asset.filename)
    return feeds


def load(sess: Any, tags: Any, export_dir: str | os.PathLike, import_scope: str | None = None,
         **saver_kwargs: Any) -> Any:
    """Loads the meta graph tagged `tags` into `sess.graph`, restores its variables into `sess`, runs its
    main op (with asset paths fed); returns the MetaGraphDef."""
    from caudal.train.meta_graph import import_meta_graph

    export_dir = os.fspath(export_dir)
    saved_model = parse_saved_model(export_dir)
    meta_graph = _meta_graph_with_tags(saved_model, tags)
    with sess.graph.as_default():
        saver = import_meta_graph(meta_graph, import_scope=import_scope, **saver_kwargs)
        if saver is not None:
            variables_path = os.path.join(export_dir, constants.VARIABLES_DIRECTORY, constants.VARIABLES_FILENAME)
            saver.restore(sess, variables_path)
        main_op = _main_op(meta_graph, import_scope)
        if main_op is not None:
            sess.run(main_op, feed_dict=_asset_feeds(export_dir, meta_graph, import_scope) or None)
    return meta_graph
