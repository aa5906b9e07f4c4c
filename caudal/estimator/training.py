"""`tf.estimator.train_and_evaluate`, `TrainSpec` and `EvalSpec`.

Without a cluster in `TF_CONFIG` this is TF's local executor: one `train`
call up to `max_steps`, with a saving listener that evaluates (and runs the
exporters) after every checkpoint but the first, at most once per
`throttle_secs`, and once more at the end if the last checkpoint was not
evaluated. It returns `(metrics of the last evaluation, export results)`.
An `evaluator` task evaluates each new checkpoint of `model_dir` until
`max_steps`.

With a cluster in `TF_CONFIG` each task does what TF's training executor
does for its type: a `ps` task starts its `tf.train.Server` and serves until
it is stopped; `chief`, `worker` and `master` tasks start theirs, then train
through it (the Estimator places its variables on the ps tasks with
`replica_device_setter`; the chief initialises, restores and saves, the
workers wait for it); worker `i` first waits `min(60, 5 (i + 1))` seconds
(`RunConfig(experimental_max_worker_delay_secs=...)` lowers the 60), and a
`master` also evaluates after its checkpoints as the local executor does.
These tasks return None, as TF's do.
"""
from __future__ import annotations

import collections
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from caudal.estimator.exporter import Exporter
from caudal.train.basic_session_run_hooks import CheckpointSaverListener, SecondOrStepTimer
from caudal.train.session_run_hook import SessionRunHook

__all__ = ["TrainSpec", "EvalSpec", "train_and_evaluate"]

_logger = logging.getLogger("caudal")


def _validate_input_fn(input_fn: Any) -> None:
    if not callable(input_fn):
        raise TypeError(f"`input_fn` must be callable, given: {input_fn}")


def _validate_hooks(hooks: Any) -> tuple:
    hooks = tuple(hooks or [])
    for hook in hooks:
        if not isinstance(hook, SessionRunHook):
            raise TypeError(f"All hooks must be `SessionRunHook` instances, given: {hook}")
    return hooks


def _validate_saving_listeners(saving_listeners: Any) -> tuple:
    saving_listeners = tuple(saving_listeners or [])
    for listener in saving_listeners:
        if not isinstance(listener, CheckpointSaverListener):
            raise TypeError(f"All saving_listeners must be `CheckpointSaverListener` instances, given: {listener}")
    return saving_listeners


def _validate_exporters(exporters: Any) -> tuple:
    if not exporters:
        return ()
    if isinstance(exporters, Exporter):
        exporters = [exporters]
    names: list[str] = []
    try:
        for exporter in exporters:
            if not isinstance(exporter, Exporter):
                raise TypeError
            if not exporter.name:
                raise ValueError("An Exporter cannot have a name that is `None` or empty. All exporter names: "
                                 f"{[e.name for e in exporters]}")
            if not isinstance(exporter.name, str):
                raise ValueError(f"An Exporter must have a string name. Given: {type(exporter.name)}")
            if exporter.name in names:
                raise ValueError("`exporters` must have unique names. Such a name cannot be `None`. All exporter "
                                 f"names: {[e.name for e in exporters]}")
            names.append(exporter.name)
    except TypeError:
        raise TypeError(f"`exporters` must be an Exporter, an iterable of Exporter, or `None`, found {exporters}."
                        ) from None
    return tuple(exporters)


class TrainSpec(collections.namedtuple("TrainSpec", ["input_fn", "max_steps", "hooks", "saving_listeners"])):
    """`tf.estimator.TrainSpec(input_fn, max_steps=None, hooks=None, saving_listeners=None)`."""

    def __new__(cls, input_fn: Callable, max_steps: int | None = None, hooks: Any = None,
                saving_listeners: Any = None) -> TrainSpec:
        _validate_input_fn(input_fn)
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        return super().__new__(cls, input_fn=input_fn, max_steps=max_steps, hooks=_validate_hooks(hooks),
                               saving_listeners=_validate_saving_listeners(saving_listeners))


class EvalSpec(collections.namedtuple("EvalSpec", ["input_fn", "steps", "name", "hooks", "exporters",
                                                   "start_delay_secs", "throttle_secs"])):
    """`tf.estimator.EvalSpec(input_fn, steps=100, name=None, hooks=None, exporters=None, start_delay_secs=120,
    throttle_secs=600)`."""

    def __new__(cls, input_fn: Callable, steps: int | None = 100, name: str | None = None, hooks: Any = None,
                exporters: Any = None, start_delay_secs: float = 120, throttle_secs: float = 600) -> EvalSpec:
        _validate_input_fn(input_fn)
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be string, given: {name}")
        if start_delay_secs < 0:
            raise ValueError(f"Must specify start_delay_secs >= 0, given: {start_delay_secs}")
        if throttle_secs < 0:
            raise ValueError(f"Must specify throttle_secs >= 0, given: {throttle_secs}")
        return super().__new__(cls, input_fn=input_fn, steps=steps, name=name, hooks=_validate_hooks(hooks),
                               exporters=_validate_exporters(exporters), start_delay_secs=start_delay_secs,
                               throttle_secs=throttle_secs)


def _assert_eval_spec(eval_spec: Any) -> None:
    if not isinstance(eval_spec, EvalSpec):
        raise TypeError(f"`eval_spec` must have type `tf.estimator.EvalSpec`. Got: {type(eval_spec)}")


class _EvalResult(collections.namedtuple("EvalResult", ["status", "metrics", "checkpoint_path"])):
    def __new__(cls, status: str, metrics: dict | None = None, checkpoint_path: str | None = None) -> _EvalResult:
        return super().__new__(cls, status, metrics, checkpoint_path)


_EVALUATED, _MISSING_CHECKPOINT, _NO_NEW_CHECKPOINT = "evaluated", "missing checkpoint", "no new checkpoint"


class _Evaluator:
    """Evaluates the newest checkpoint (once per checkpoint) and runs the exporters on the result."""

    def __init__(self, estimator: Any, eval_spec: EvalSpec, max_training_steps: int | None):
        self._estimator = estimator
        self._eval_spec = eval_spec
        self._previous_ckpt_path: str | None = None
        self._last_warning_time = 0.0
        self._max_training_steps = max_training_steps

    def evaluate_and_export(self) -> tuple[_EvalResult, list]:
        latest = self._estimator.latest_checkpoint()
        if not latest:
            self._log_err_msg("Estimator is not trained yet. Will start an evaluation when a checkpoint is ready.")
            return _EvalResult(_MISSING_CHECKPOINT), []
        if latest == self._previous_ckpt_path:
            self._log_err_msg("No new checkpoint ready for evaluation. Skip the current evaluation pass as "
                              "evaluation results are expected to be same for the same checkpoint.")
            return _EvalResult(_NO_NEW_CHECKPOINT), []
        metrics = self._estimator.evaluate(input_fn=self._eval_spec.input_fn, steps=self._eval_spec.steps,
                                           name=self._eval_spec.name, checkpoint_path=latest,
                                           hooks=self._eval_spec.hooks)
        result = _EvalResult(_EVALUATED, metrics=metrics, checkpoint_path=latest)
        is_final = bool(self._max_training_steps) and metrics["global_step"] >= self._max_training_steps
        export_base = os.path.join(str(self._estimator.model_dir), "export")
        exports = [exporter.export(estimator=self._estimator, export_path=os.path.join(export_base, exporter.name),
                                   checkpoint_path=latest, eval_result=metrics, is_the_final_export=is_final)
                   for exporter in self._eval_spec.exporters]
        self._last_warning_time = 0.0
        self._previous_ckpt_path = latest
        return result, exports

    def _log_err_msg(self, message: str) -> None:
        now = time.time()
        if now - self._last_warning_time > 600:
            _logger.warning(message)
            self._last_warning_time = now


class _NewCheckpointListenerForEvaluate(CheckpointSaverListener):
    """Evaluates after each checkpoint save but the first (at most once per `throttle_secs`), and at the end."""

    def __init__(self, evaluator: _Evaluator, eval_throttle_secs: float):
        self._evaluator = evaluator
        self._eval_throttle_secs = eval_throttle_secs
        self.eval_result: _EvalResult | None = None
        self.export_results: list | None = None

    def begin(self) -> None:
        self._timer = SecondOrStepTimer(every_secs=self._eval_throttle_secs)
        self._is_first_run = True

    def after_save(self, session: Any, global_step_value: int) -> None:
        if self._is_first_run:
            self._is_first_run = False
            return
        if self._timer.should_trigger_for_step(global_step_value):
            self._evaluate(global_step_value)
        else:
            _logger.info("Skip the current checkpoint eval due to throttle secs (%s secs).", self._eval_throttle_secs)

    def end(self, session: Any, global_step_value: int) -> None:
        if global_step_value != self._timer.last_triggered_step():
            self._evaluate(global_step_value)

    def _evaluate(self, global_step_value: int) -> None:
        self._timer.update_last_triggered_step(global_step_value)
        self.eval_result, self.export_results = self._evaluator.evaluate_and_export()
        if self.eval_result.status != _EVALUATED:
            raise RuntimeError(f"There was no new checkpoint after the training. Eval status: "
                               f"{self.eval_result.status}")


def _run_local(estimator: Any, train_spec: TrainSpec, eval_spec: EvalSpec) -> tuple[Any, Any]:
    config = estimator.config
    _logger.info("Start train and evaluate loop. The evaluate will happen after every checkpoint. Checkpoint "
                 "frequency is determined based on RunConfig arguments: save_checkpoints_steps %s or "
                 "save_checkpoints_secs %s.", config.save_checkpoints_steps, config.save_checkpoints_secs)
    evaluator = _Evaluator(estimator, eval_spec, train_spec.max_steps)
    listener = _NewCheckpointListenerForEvaluate(evaluator, eval_spec.throttle_secs)
    estimator.train(input_fn=train_spec.input_fn, max_steps=train_spec.max_steps, hooks=list(train_spec.hooks),
                    saving_listeners=train_spec.saving_listeners + (listener,))
    result = listener.eval_result or _EvalResult(_MISSING_CHECKPOINT)
    return result.metrics, listener.export_results


def _run_evaluator(estimator: Any, train_spec: TrainSpec, eval_spec: EvalSpec) -> None:
    if eval_spec.start_delay_secs:
        _logger.info("Waiting %f secs before starting eval.", eval_spec.start_delay_secs)
        time.sleep(eval_spec.start_delay_secs)
    evaluator = _Evaluator(estimator, eval_spec, train_spec.max_steps)
    latest: _EvalResult | None = None
    while True:
        if latest is not None and latest.status == _EVALUATED:
            global_step = latest.metrics.get("global_step")
            if global_step and train_spec.max_steps and global_step >= train_spec.max_steps:
                _logger.info("Exiting evaluation, global_step=%s >= train max_steps=%s", global_step,
                             train_spec.max_steps)
                return
        start = time.time()
        latest, _ = evaluator.evaluate_and_export()
        remaining = eval_spec.throttle_secs - (time.time() - start)
        if remaining > 0:
            _logger.info("Waiting %f secs before starting next eval run.", remaining)
            time.sleep(remaining)


def train_and_evaluate(estimator: Any, train_spec: TrainSpec, eval_spec: EvalSpec) -> Any:
    """`tf.estimator.train_and_evaluate(estimator, train_spec, eval_spec)`: see the module docstring."""
    from caudal.estimator.estimator import Estimator
    from caudal.estimator.run_config import TaskType

    _assert_eval_spec(eval_spec)
    if not isinstance(estimator, Estimator):
        raise TypeError(f"`estimator` must have type `tf.estimator.Estimator`. Got: {type(estimator)}")
    if not isinstance(train_spec, TrainSpec):
        raise TypeError(f"`train_spec` must have type `tf.estimator.TrainSpec`. Got: {type(train_spec)}")
    config = estimator.config
    if config.task_type == TaskType.EVALUATOR and config.task_id > 0:
        raise ValueError("For distributed training, there can only be one `evaluator` task (with task id 0).  "
                         f"Given task id {config.task_id}")
    if not config.cluster_spec and config.task_type != TaskType.EVALUATOR:
        _logger.info("Running training and evaluation locally (non-distributed).")
        return _run_local(estimator, train_spec, eval_spec)
    if not config.task_type:
        raise ValueError("`estimator.config` must have task_type set. This usually means TF_CONFIG environment is "
                         "not set correctly.")
    if config.task_type == "local":
        raise ValueError("`task.type` in TF_CONFIG cannot be `local`. Leaving `cluster` and `task` properties in "
                         "TF_CONFIG absent triggers train and evaluate `Estimator` locally (non-distributed).")
    tasks = {TaskType.CHIEF: _run_chief, TaskType.WORKER: _run_worker, TaskType.MASTER: _run_master,
             TaskType.PS: _run_ps, TaskType.EVALUATOR: _run_evaluator}
    run = tasks.get(config.task_type)
    if run is None:
        raise ValueError(f"Task type {config.task_type} is not supported. Supported task types are "
                         f"{sorted(tasks)}")
    run(estimator, train_spec, eval_spec)
    return None


_MAX_DELAY_SECS = 60
_DELAY_SECS_PER_WORKER = 5
_TRAINER_JOBS = ("chief", "master", "worker")


def _start_std_server(config: Any) -> Any:
    """This task's `tf.train.Server`, started; None for a cluster of one trainer (TF starts none then)."""
    if not config.cluster_spec or not config.task_type or config.task_id is None:
        raise RuntimeError("Could not start server; be sure to specify cluster_spec, task_type, and task in "
                           "RunConfig or set the TF_CONFIG environment variable.")
    if not config.master:
        jobs = config.cluster_spec.jobs
        if len(jobs) == 1 and len(config.cluster_spec.job_tasks(jobs[0])) == 1 and config.task_type in _TRAINER_JOBS:
            _logger.info("Skip starting Tensorflow server as there is only one node in the cluster.")
            return None
        raise RuntimeError("Could not start server; be sure to specify master in RunConfig or set the TF_CONFIG "
                           "environment variable.")
    from caudal.proto.config_pb2 import ConfigProto
    from caudal.runtime.distributed.server import Server

    _logger.info("Start Tensorflow server.")
    server = Server(config.cluster_spec, job_name=config.task_type, task_index=config.task_id,
                    config=ConfigProto(log_device_placement=False), start=False, protocol=config.protocol)
    server.start()
    return server


def _start_distributed_training(estimator: Any, train_spec: TrainSpec, saving_listeners: tuple = ()) -> None:
    from caudal.estimator.run_config import TaskType

    config = estimator.config
    _start_std_server(config)  # before the delay, so the other tasks can reach this one meanwhile
    delay = 0
    if config.task_type == TaskType.WORKER:
        most = _MAX_DELAY_SECS
        if config.experimental_max_worker_delay_secs is not None:
            most = int(config.experimental_max_worker_delay_secs)
        delay = min(most, (config.task_id + 1) * _DELAY_SECS_PER_WORKER)
    if delay > 0:
        _logger.info("Waiting %d secs before starting training.", delay)
        time.sleep(delay)
    estimator.train(input_fn=train_spec.input_fn, max_steps=train_spec.max_steps, hooks=list(train_spec.hooks),
                    saving_listeners=saving_listeners)


def _run_chief(estimator: Any, train_spec: TrainSpec, eval_spec: EvalSpec) -> None:
    _start_distributed_training(estimator, train_spec, train_spec.saving_listeners)


def _run_worker(estimator: Any, train_spec: TrainSpec, eval_spec: EvalSpec) -> None:
    _start_distributed_training(estimator, train_spec)


def _run_master(estimator: Any, train_spec: TrainSpec, eval_spec: EvalSpec) -> None:
    """Trains as the chief and evaluates (and exports) after its checkpoints, as the local executor does."""
    evaluator = _Evaluator(estimator, eval_spec, train_spec.max_steps)
    listener = _NewCheckpointListenerForEvaluate(evaluator, eval_spec.throttle_secs)
    _start_distributed_training(estimator, train_spec, train_spec.saving_listeners + (listener,))


def _run_ps(estimator: Any, train_spec: TrainSpec, eval_spec: EvalSpec) -> None:
    """Serves this parameter server's variables until the process is stopped."""
    _start_std_server(estimator.config).join()
