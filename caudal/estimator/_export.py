"""`Estimator.export_saved_model`: the serving graph and a checkpoint's variables as a SavedModel.

As TF: the SavedModel is built in `export_dir_base/temp-<timestamp>`, from
a fresh graph holding the global step, the receiver's placeholders and the
model_fn's PREDICT graph, with the variables restored from the checkpoint
(the newest in model_dir, else the warm-start checkpoint); one signature per
export output (TF's logs name the ones left out), tag `serve`, the local
init op as main op; `assets_extra` files are copied to `assets.extra/`,
and the directory is renamed to `export_dir_base/<timestamp>` at the end.
"""
from __future__ import annotations

import logging
import os
import shutil
from typing import Any

from caudal.estimator.mode_keys import ModeKeys

__all__ = ["export_all_saved_models"]

_logger = logging.getLogger("caudal")


def export_all_saved_models(estimator: Any, export_dir_base: str, input_receiver_fn_map: dict,
                            assets_extra: dict | None, as_text: bool, checkpoint_path: str | None,
                            strip_default_attrs: bool) -> bytes:
    from caudal.checkpoint.state import latest_checkpoint
    from caudal.estimator.export.export import get_temp_export_dir, get_timestamped_export_dir
    from caudal.saved_model.builder import SavedModelBuilder

    if not checkpoint_path:
        checkpoint_path = estimator.latest_checkpoint()
    if not checkpoint_path:
        settings = estimator._warm_start_settings
        if not settings:
            raise ValueError(f"Couldn't find trained model at {estimator.model_dir}.")
        checkpoint_path = settings.ckpt_to_initialize_from
        if os.path.isdir(checkpoint_path):
            checkpoint_path = latest_checkpoint(checkpoint_path)
    unsupported = [mode for mode in input_receiver_fn_map
                   if mode in (ModeKeys.TRAIN, ModeKeys.EVAL) and input_receiver_fn_map[mode]]
    if unsupported:
        raise NotImplementedError(f"caudal exports the PREDICT mode only; got receiver functions for {unsupported}.")
    if not input_receiver_fn_map.get(ModeKeys.PREDICT):
        raise ValueError(f"No valid modes for exporting found. Got {input_receiver_fn_map.keys()}.")
    export_dir = get_timestamped_export_dir(export_dir_base)
    temp_export_dir = get_temp_export_dir(export_dir)
    builder = SavedModelBuilder(os.fsdecode(temp_export_dir))
    _add_meta_graph_for_predict(estimator, builder, input_receiver_fn_map[ModeKeys.PREDICT], checkpoint_path,
                                strip_default_attrs)
    builder.save(as_text)
    if assets_extra:
        extra_dir = os.path.join(temp_export_dir, b"assets.extra")
        for dest_relative, source in assets_extra.items():
            destination = os.path.join(extra_dir, os.fsencode(dest_relative))
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            shutil.copyfile(source, destination)
    os.rename(temp_export_dir, export_dir)
    return export_dir


def _add_meta_graph_for_predict(estimator: Any, builder: Any, input_receiver_fn: Any, checkpoint_path: str,
                                strip_default_attrs: bool) -> None:
    from caudal import errors
    from caudal.estimator.export.export import build_all_signature_defs, get_export_outputs
    from caudal.framework.graph import Graph, GraphKeys
    from caudal.framework.random_seed import set_random_seed
    from caudal.runtime.session import Session
    from caudal.saved_model.constants import SERVING
    from caudal.train.saver import Saver
    from caudal.train.scaffold import Scaffold

    graph = Graph()
    with graph.as_default():
        estimator._create_and_assert_global_step(graph)
        set_random_seed(estimator._config.tf_random_seed)
        receiver = input_receiver_fn()
        spec = estimator._call_model_fn(features=receiver.features, labels=getattr(receiver, "labels", None),
                                        mode=ModeKeys.PREDICT, config=estimator.config)
        export_outputs = get_export_outputs(spec.export_outputs, spec.predictions)
        signature_def_map = build_all_signature_defs(receiver.receiver_tensors, export_outputs,
                                                     getattr(receiver, "receiver_tensors_alternatives", None),
                                                     serving_only=True)
        with Session(config=estimator._session_config) as session:
            local_init_op = spec.scaffold.local_init_op
            if local_init_op is None:
                local_init_op = Scaffold.default_local_init_op()
            saver = spec.scaffold.saver or Saver(sharded=True)
            try:
                saver.restore(session, checkpoint_path)
            except errors.NotFoundError as e:
                raise ValueError("Could not load all requested variables from checkpoint. Please make sure your "
                                 "model_fn does not expect variables that were not saved in the checkpoint.\n\n"
                                 f"Encountered error with mode `{ModeKeys.PREDICT}` while restoring checkpoint from: "
                                 f"`{checkpoint_path}`. Full Traceback:\n\n{e}") from None
            builder.add_meta_graph_and_variables(
                session, [SERVING], signature_def_map=signature_def_map,
                assets_collection=graph.get_collection(GraphKeys.ASSET_FILEPATHS), main_op=local_init_op,
                saver=saver, strip_default_attrs=strip_default_attrs)
