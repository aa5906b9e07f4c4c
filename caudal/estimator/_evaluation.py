"""One evaluation pass, as TF's `evaluation._evaluate_once`: run the metric update ops until the input ends
(OutOfRangeError) or N evaluations are done, then read the metric values once.

The local `eval_step` variable (collection EVAL_STEP) counts the update
runs; `_StopAfterNEvalsHook` stops after `steps` of them and logs
`Evaluation [i/N]` as TF does (every run below 20 steps, else every tenth).
Writing the results to `model_dir/eval` is `write_dict_to_summary`.
"""
from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np

from caudal.framework.graph import GraphKeys, get_default_graph
from caudal.train.session_run_hook import SessionRunArgs, SessionRunHook

__all__ = ["evaluate_once", "StopAfterNEvalsHook", "get_or_create_eval_step", "write_dict_to_summary",
           "write_checkpoint_path_to_summary"]

_logger = logging.getLogger("caudal")


def get_or_create_eval_step() -> Any:
    """The int64 local variable `eval_step` (collections LOCAL_VARIABLES and EVAL_STEP), made once per graph."""
    from caudal.framework import dtypes
    from caudal.init_ops import zeros_initializer
    from caudal.variable_scope import get_variable

    eval_steps = get_default_graph().get_collection(GraphKeys.EVAL_STEP)
    if len(eval_steps) == 1:
        return eval_steps[0]
    if len(eval_steps) > 1:
        raise ValueError("Multiple tensors added to tf.GraphKeys.EVAL_STEP")
    return get_variable("eval_step", shape=[], dtype=dtypes.int64, initializer=zeros_initializer(), trainable=False,
                        collections=[GraphKeys.LOCAL_VARIABLES, GraphKeys.EVAL_STEP])


class StopAfterNEvalsHook(SessionRunHook):
    """Requests a stop once `num_evals` evaluation runs are done (never, if None), logging the progress."""

    def __init__(self, num_evals: int | None, log_progress: bool = True):
        self._num_evals = num_evals
        self._evals_completed: Any = None
        self._log_progress = log_progress
        self._log_frequency = 1 if (num_evals is None or num_evals < 20) else math.floor(num_evals / 10.0)

    def _set_evals_completed_tensor(self, updated_eval_step: Any) -> None:
        self._evals_completed = updated_eval_step

    def before_run(self, run_context: Any) -> SessionRunArgs:
        return SessionRunArgs({"evals_completed": self._evals_completed})

    def after_run(self, run_context: Any, run_values: Any) -> None:
        evals_completed = run_values.results["evals_completed"]
        if self._log_progress:
            if self._num_evals is None:
                _logger.info("Evaluation [%d]", evals_completed)
            elif evals_completed % self._log_frequency == 0 or self._num_evals == evals_completed:
                _logger.info("Evaluation [%d/%d]", evals_completed, self._num_evals)
        if self._num_evals is not None and evals_completed >= self._num_evals:
            run_context.request_stop()


def evaluate_once(checkpoint_path: str | None, master: str = "", scaffold: Any = None, eval_ops: Any = None,
                  feed_dict: Any = None, final_ops: Any = None, final_ops_feed_dict: Any = None,
                  hooks: list | None = None, config: Any = None) -> Any:
    """Restores `checkpoint_path` (or initializes, if None), runs `eval_ops` until a hook stops or the input
    ends, and returns the values of `final_ops`."""
    from caudal.ops.control_ops import identity
    from caudal.train.basic_session_run_hooks import FinalOpsHook
    from caudal.train.monitored_session import ChiefSessionCreator, MonitoredSession
    from caudal.variables import assign_add

    eval_step = get_or_create_eval_step()
    hooks = list(hooks or [])
    if eval_ops is not None:
        update_eval_step = assign_add(eval_step, 1, use_locking=True)
        if isinstance(eval_ops, dict):
            eval_ops["update_eval_step"] = update_eval_step
        elif isinstance(eval_ops, (tuple, list)):
            eval_ops = list(eval_ops) + [update_eval_step]
        else:
            eval_ops = [eval_ops, update_eval_step]
        update_ops = list(eval_ops.values()) if isinstance(eval_ops, dict) else eval_ops
        with get_default_graph().control_dependencies(update_ops):
            eval_step_value = identity(eval_step.read_value())
        for hook in hooks:
            if isinstance(hook, StopAfterNEvalsHook):
                hook._set_evals_completed_tensor(eval_step_value)
    _logger.info("Starting evaluation at " + time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime()))
    start = time.time()
    session_creator = ChiefSessionCreator(scaffold=scaffold, checkpoint_filename_with_path=checkpoint_path,
                                          master=master, config=config)
    final_ops_hook = FinalOpsHook(final_ops, final_ops_feed_dict)
    hooks.append(final_ops_hook)
    with MonitoredSession(session_creator=session_creator, hooks=hooks) as session:
        if eval_ops is not None:
            while not session.should_stop():
                session.run(eval_ops, feed_dict)
    _logger.info("Inference Time : %0.5fs", time.time() - start)
    _logger.info("Finished evaluation at " + time.strftime("%Y-%m-%d-%H:%M:%S", time.localtime()))
    return final_ops_hook.final_ops_values


def _dict_to_str(dictionary: dict) -> str:
    return ", ".join(f"{k} = {v!s}" for k, v in sorted(dictionary.items()) if not isinstance(v, bytes))


def write_dict_to_summary(output_dir: str, dictionary: dict, current_global_step: int) -> None:
    """Writes the evaluation results at `current_global_step` as TF does: floats and ints as simple values,
    serialized Summary protos re-tagged `key/i`, arrays as tensor summaries; `global_step` left out."""
    from google.protobuf.message import DecodeError

    from caudal.framework.tensor_util import make_tensor_proto
    from caudal.proto import summary_pb2
    from caudal.summary.writer import FileWriterCache

    _logger.info("Saving dict for global step %d: %s", current_global_step, _dict_to_str(dictionary))
    writer = FileWriterCache.get(output_dir)
    summary = summary_pb2.Summary()
    for key, value in dictionary.items():
        if value is None or key == "global_step":
            continue
        if isinstance(value, (np.float32, float)):
            summary.value.add(tag=key, simple_value=float(value))
        elif isinstance(value, (np.int64, np.int32, int)):
            summary.value.add(tag=key, simple_value=int(value))
        elif isinstance(value, bytes):
            try:
                parsed = summary_pb2.Summary.FromString(value)
            except DecodeError:
                _logger.warning("Skipping summary for %s, cannot parse string to Summary.", key)
                continue
            for i, _ in enumerate(parsed.value):
                parsed.value[i].tag = f"{key}/{i}"
            summary.value.extend(parsed.value)
        elif isinstance(value, np.ndarray):
            entry = summary.value.add()
            entry.tag = key
            entry.node_name = key
            entry.tensor.CopyFrom(make_tensor_proto(value))
            _logger.info("Summary for np.ndarray is not visible in Tensorboard by default. Consider using a "
                         "Tensorboard plugin for visualization (see https://github.com/tensorflow/"
                         "tensorboard-plugin-example/blob/master/README.md for more information).")
        else:
            _logger.warning("Skipping summary for %s, must be a float, np.float32, np.int64, np.int32 or int or "
                            "np.ndarray or a serialized string of Summary.", key)
    writer.add_summary(summary, current_global_step)
    writer.flush()


def write_checkpoint_path_to_summary(output_dir: str, checkpoint_path: str, current_global_step: int) -> None:
    """The string summary `checkpoint_path` TF writes next to each evaluation."""
    from caudal.framework import dtypes
    from caudal.framework.tensor_util import make_tensor_proto
    from caudal.proto import summary_pb2
    from caudal.summary.writer import FileWriterCache

    _logger.info("Saving 'checkpoint_path' summary for global step %d: %s", current_global_step, checkpoint_path)
    summary = summary_pb2.Summary()
    summary.value.add(tag="checkpoint_path", tensor=make_tensor_proto(checkpoint_path, dtype=dtypes.string))
    writer = FileWriterCache.get(output_dir)
    writer.add_summary(summary, current_global_step)
    writer.flush()
