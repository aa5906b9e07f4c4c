"""`tf.estimator.WarmStartSettings` and `tf.compat.v1.train.warm_start`: variables initialized from another
checkpoint (through `tf.train.init_from_checkpoint`) when a model starts without one of its own."""
from __future__ import annotations

import collections
import logging
import os
from typing import Any

__all__ = ["WarmStartSettings", "VocabInfo", "warm_start", "default_warm_start_settings"]

_logger = logging.getLogger("caudal")


class VocabInfo(collections.namedtuple("VocabInfo", ["new_vocab", "new_vocab_size", "num_oov_buckets", "old_vocab",
                                                     "old_vocab_size", "backup_initializer", "axis"])):
    """`tf.estimator.VocabInfo`: how to remap an embedding's rows between vocabularies. caudal keeps the
    fields; warm-starting with a vocabulary remap is not supported (warm_start raises NotImplementedError)."""

    def __new__(cls, new_vocab: Any, new_vocab_size: int, num_oov_buckets: int, old_vocab: Any,
                old_vocab_size: int = -1, backup_initializer: Any = None, axis: int = 0) -> VocabInfo:
        return super().__new__(cls, new_vocab, new_vocab_size, num_oov_buckets, old_vocab, old_vocab_size,
                               backup_initializer, axis)


class WarmStartSettings(collections.namedtuple("WarmStartSettings", [
        "ckpt_to_initialize_from", "vars_to_warm_start", "var_name_to_vocab_info", "var_name_to_prev_var_name"])):
    """`tf.estimator.WarmStartSettings(ckpt_to_initialize_from, vars_to_warm_start='.*',
    var_name_to_vocab_info=None, var_name_to_prev_var_name=None)`.

    `vars_to_warm_start` is a regular expression over the trainable
    variables, a list of variable names (over all global variables) or of
    Variables; `var_name_to_prev_var_name` renames variables on the way in.
    """

    def __new__(cls, ckpt_to_initialize_from: Any, vars_to_warm_start: Any = ".*",
                var_name_to_vocab_info: dict | None = None,
                var_name_to_prev_var_name: dict | None = None) -> WarmStartSettings:
        if not ckpt_to_initialize_from:
            raise ValueError("`ckpt_to_initialize_from` MUST be set in WarmStartSettings")
        return super().__new__(cls, ckpt_to_initialize_from, vars_to_warm_start, var_name_to_vocab_info or {},
                               var_name_to_prev_var_name or {})


def default_warm_start_settings(warm_start_from: Any) -> WarmStartSettings | None:
    """Estimator's `warm_start_from`: None, a WarmStartSettings, or a checkpoint path or SavedModel directory."""
    if warm_start_from is None:
        return None
    if isinstance(warm_start_from, (str, bytes, os.PathLike)):
        path = os.fsdecode(warm_start_from)
        if os.path.exists(os.path.join(path, "variables", "variables.index")):
            _logger.info("Warm-starting from a SavedModel")
            return WarmStartSettings(ckpt_to_initialize_from=os.path.join(path, "variables", "variables"))
        return WarmStartSettings(ckpt_to_initialize_from=path)
    if isinstance(warm_start_from, WarmStartSettings):
        return warm_start_from
    raise ValueError(f"warm_start_from must be a string or a WarmStartSettings, instead got {type(warm_start_from)}")


def _grouped_variables(vars_to_warm_start: Any) -> dict[str, Any]:
    from caudal.framework.graph import GraphKeys, get_default_graph
    from caudal.variables import Variable

    graph = get_default_graph()
    if isinstance(vars_to_warm_start, str) or vars_to_warm_start is None:
        _logger.info("Warm-starting variables only in TRAINABLE_VARIABLES.")
        variables = graph.get_collection(GraphKeys.TRAINABLE_VARIABLES, scope=vars_to_warm_start)
    elif isinstance(vars_to_warm_start, list):
        if all(isinstance(v, str) for v in vars_to_warm_start):
            variables = []
            for name in vars_to_warm_start:
                variables += graph.get_collection(GraphKeys.GLOBAL_VARIABLES, scope=name)
        elif all(isinstance(v, Variable) for v in vars_to_warm_start):
            variables = vars_to_warm_start
        else:
            raise ValueError("If `vars_to_warm_start` is a list, it must be all `Variable` or all `str`.  Given "
                             f"types are {[type(v) for v in vars_to_warm_start]}")
    else:
        raise ValueError(f"`vars_to_warm_start must be a `list` or `str`.  Given type is {type(vars_to_warm_start)}")
    return {v.op.name: v for v in variables}


def warm_start(ckpt_to_initialize_from: Any, vars_to_warm_start: Any = ".*", var_name_to_vocab_info: Any = None,
               var_name_to_prev_var_name: Any = None) -> None:
    """`tf.compat.v1.train.warm_start`: the chosen variables' initializers read `ckpt_to_initialize_from`
    instead (under their own names or `var_name_to_prev_var_name[name]`). Names given for renaming that
    match no chosen variable are a ValueError, as in TF."""
    from caudal.checkpoint.reader import init_from_checkpoint

    _logger.info("Warm-starting from: %s", ckpt_to_initialize_from)
    if var_name_to_vocab_info:
        raise NotImplementedError("caudal's warm_start does not remap vocabularies (var_name_to_vocab_info).")
    grouped = _grouped_variables(vars_to_warm_start)
    renames = var_name_to_prev_var_name or {}
    assignment: dict[str, Any] = {}
    used = set()
    count = 0
    for var_name, variable in grouped.items():
        prev_name = renames.get(var_name)
        if prev_name:
            used.add(var_name)
        if vars_to_warm_start:
            count += 1
            _logger.debug("Warm-starting variable: %s; prev_var_name: %s", var_name, prev_name or "Unchanged")
            tensor_name = prev_name or var_name
            if tensor_name in assignment:
                init_from_checkpoint(ckpt_to_initialize_from, assignment)
                assignment.clear()
            assignment[tensor_name] = variable
    if assignment:
        init_from_checkpoint(ckpt_to_initialize_from, assignment)
    _logger.info("Warm-started %d variables.", count)
    not_used = set(renames) - used
    if not_used:
        raise ValueError(f"You provided the following variables in var_name_to_prev_var_name that were not used: "
                         f"{not_used}.  Perhaps you misspelled them?  Here is the list of viable variable names: "
                         f"{grouped.keys()}")
