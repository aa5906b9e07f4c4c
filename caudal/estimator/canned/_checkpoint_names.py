"""The checkpoint names TensorFlow's pre-made Estimators give optimizer slots.

TF 1.15 and 2.x build the DNN and Linear models from partitioned (Keras)
variables, and their optimizer slots are saved as `<variable>/t_0/<slot>`
(DNNClassifier, DNNRegressor) and `<variable>/part_0/<slot>`
(LinearClassifier, LinearRegressor), e.g. `dnn/hiddenlayer_0/kernel/t_0/Adagrad`
and `linear/linear_model/x/weights/part_0/Ftrl_1`; the DNNLinearCombined and
Baseline Estimators save them as `<variable>/<slot>`. caudal's variables are
not partitioned, so the DNN and Linear model_fns add a Saver that writes
and reads the slots under TF's names: a model_dir moves both ways.
"""
from __future__ import annotations

from typing import Any

__all__ = ["add_saver_with_tf_slot_names"]


def add_saver_with_tf_slot_names(optimizer: Any, infix: str, config: Any) -> None:
    """Puts in the SAVERS collection a Saver naming each slot of `optimizer` `<primary>/<infix><slot>`, with
    the Estimator's default saver settings."""
    from caudal.framework.graph import GraphKeys, get_default_graph
    from caudal.train.saver import Saver
    from caudal.variables import global_variables

    graph = get_default_graph()
    renamed = {}
    for slots in optimizer._slots.values():
        for (primary_graph, primary), slot in slots.items():
            if primary_graph is graph:
                suffix = slot.op.name.rsplit(primary + "/", 1)[-1]
                renamed[slot.op.name] = f"{primary}/{infix}{suffix}"
    var_list = {renamed.get(v.op.name, v.op.name): v for v in global_variables()}
    keep_max = config.keep_checkpoint_max if config is not None else 5
    keep_hours = config.keep_checkpoint_every_n_hours if config is not None else 10000
    graph.add_to_collection(GraphKeys.SAVERS, Saver(var_list=var_list, sharded=True, max_to_keep=keep_max,
                                                    keep_checkpoint_every_n_hours=keep_hours,
                                                    save_relative_paths=True))
