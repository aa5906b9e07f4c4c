"""`tf.estimator.Estimator`: train, evaluate, predict and export a model given by a `model_fn`, as TF's.

Each call builds a fresh graph: the global step, the features from
`input_fn`, the model from `model_fn(features, labels, mode, params,
config)` (called with the arguments its signature names), then runs it in a
monitored session restored from the newest checkpoint in `model_dir`:

- `train` runs `[train_op, loss]` under TF's default hooks (NanTensorHook,
  LoggingTensorHook of `loss` and `step` every `log_step_count_steps`,
  StepCounterHook and summaries through MonitoredTrainingSession, and on the
  chief a CheckpointSaverHook with the `saving_listeners`) until the input
  ends or `steps`/`max_steps` is reached. An Estimator already at
  `max_steps` returns at once.
- `evaluate` adds the `loss` mean to the model's `eval_metric_ops`, runs
  their update ops over the input (or `steps` batches), writes the values
  to `model_dir/eval` (`eval_<name>`) and returns them with `global_step`.
  Without a checkpoint it evaluates freshly initialized variables, as
  TF 2.x does.
- `predict` yields the predictions one example (or one batch) at a time.
- `export_saved_model` is in `caudal/estimator/_export.py`.
"""
from __future__ import annotations

import copy
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from caudal.estimator import model_fn as model_fn_lib
from caudal.estimator.mode_keys import ModeKeys
from caudal.estimator.run_config import RunConfig, TaskType, get_default_session_config
from caudal.estimator.warm_starting import default_warm_start_settings, warm_start
from caudal.train.device_setter import STANDARD_PS_OPS, replica_device_setter
from caudal.train.session_run_hook import SessionRunHook

__all__ = ["Estimator"]

_logger = logging.getLogger("caudal")


def _check_hooks_type(hooks: Any) -> list:
    hooks = list(hooks or [])
    for hook in hooks:
        if not isinstance(hook, SessionRunHook):
            raise TypeError(f"Hooks must be a SessionRunHook, given: {hook}")
    return hooks


def _check_listeners_type(saving_listeners: Any) -> list:
    from caudal.train.basic_session_run_hooks import CheckpointSaverListener

    listeners = list(saving_listeners or [])
    for listener in listeners:
        if not isinstance(listener, CheckpointSaverListener):
            raise TypeError(f"saving_listeners must be a list of CheckpointSaverListener, given: {listener}")
    return listeners


def _load_global_step_from_checkpoint_dir(checkpoint_dir: str) -> int:
    from caudal.checkpoint.reader import NewCheckpointReader
    from caudal.checkpoint.state import latest_checkpoint

    try:
        return int(NewCheckpointReader(latest_checkpoint(checkpoint_dir)).get_tensor("global_step"))
    except Exception:  # noqa: BLE001 - TF starts from 0 whenever the step cannot be read
        return 0


def _check_checkpoint_available(model_dir: str) -> None:
    from caudal.checkpoint.state import latest_checkpoint

    if not latest_checkpoint(model_dir):
        raise ValueError(f"Could not find trained model in model_dir: {model_dir}.")


class _DatasetInitializerHook(SessionRunHook):
    """Initializes the iterator of a Dataset an input_fn returned, when the session is created."""

    def __init__(self, iterator: Any):
        self._iterator = iterator

    def begin(self) -> None:
        self._initializer = self._iterator.initializer

    def after_create_session(self, session: Any, coord: Any) -> None:
        session.run(self._initializer)


def _is_dataset(value: Any) -> bool:
    module = type(value).__module__
    if not module.startswith("caudal.data"):
        return False
    from caudal.data.dataset_ops import DatasetV1

    return isinstance(value, DatasetV1)


def parse_input_fn_result(result: Any) -> tuple[Any, Any, list]:
    """(features, labels, input hooks) from what an input_fn returned: a Dataset (read through an
    initializable iterator), a `(features, labels)` pair, or features alone."""
    hooks = []
    if _is_dataset(result):
        iterator = result.make_initializable_iterator()
        hooks.append(_DatasetInitializerHook(iterator))
        result = iterator.get_next()
    if isinstance(result, (list, tuple)):
        if len(result) != 2:
            raise ValueError("input_fn should return (features, labels) as a len 2 tuple.")
        return result[0], result[1], hooks
    return result, None, hooks


def _has_dataset_or_queue_runner(features: Any) -> bool:
    from caudal.framework.graph import GraphKeys, get_default_graph
    from caudal.framework.tensor import Tensor

    values = features.values() if isinstance(features, dict) else [features]
    if any(isinstance(t, Tensor) and t.op.type == "IteratorGetNext" for t in values):
        return True
    return bool(get_default_graph().get_collection(GraphKeys.QUEUE_RUNNERS))


def _assert_members_are_not_overridden(obj: Any) -> None:
    allowed = {"model_fn", "_create_and_assert_global_step", "_export_all_saved_models", "latest_checkpoint"}
    members = {m for m in dir(Estimator) if not m.startswith("__")}
    overridden = [m for m in (members & set(type(obj).__dict__)) - allowed
                  if getattr(Estimator, m) != getattr(type(obj), m)]
    if overridden:
        raise ValueError(f"Subclasses of Estimator cannot override members of Estimator. {type(obj)} does override "
                         f"{overridden}")


def _replica_device_setter(config: RunConfig) -> Any:
    """TF's default `device_fn` in a cluster with ps tasks: `replica_device_setter` placing the variables
    on the ps tasks round-robin and everything else on this task; None without ps tasks."""
    if config.num_ps_replicas <= 0:
        return None
    worker_device = f"/job:{config.task_type}/task:{config.task_id}" if config.task_type else "/job:worker"
    return replica_device_setter(ps_tasks=config.num_ps_replicas, worker_device=worker_device, merge_devices=True,
                                 ps_ops=list(STANDARD_PS_OPS), cluster=config.cluster_spec)


def _config_with_model_dir(config: Any, model_dir: Any) -> RunConfig:
    """TF's `maybe_overwrite_model_dir_and_session_config`: the config, with the model_dir (a new temporary
    directory, logged, when neither names one) and a default session config."""
    if config is None:
        config = RunConfig()
        _logger.info("Using default config.")
    if not isinstance(config, RunConfig):
        raise ValueError(f"config must be an instance of `RunConfig`, but provided {config}.")
    if config.session_config is None:
        config = config.replace(session_config=get_default_session_config())
    model_dir = os.fspath(model_dir) if hasattr(model_dir, "__fspath__") else model_dir
    if model_dir is not None and config.model_dir is not None and config.model_dir != model_dir:
        raise ValueError("`model_dir` are set both in constructor and `RunConfig`, but with different values. In "
                         f"constructor: '{model_dir}', in `RunConfig`: '{config.model_dir}' ")
    if model_dir:
        config = config.replace(model_dir=model_dir)
    elif config.model_dir is None:
        model_dir = tempfile.mkdtemp()
        _logger.warning("Using temporary folder as model directory: %s", model_dir)
        config = config.replace(model_dir=model_dir)
    return config


def _verify_and_create_loss_metric(eval_metric_ops: dict, loss: Any) -> dict:
    from caudal.ops.metrics_impl import mean

    if model_fn_lib.LOSS_METRIC_KEY in eval_metric_ops:
        raise ValueError(f'Metric with name "{model_fn_lib.LOSS_METRIC_KEY}" is not allowed, because Estimator '
                         "already defines a default metric with the same name.")
    eval_metric_ops[model_fn_lib.LOSS_METRIC_KEY] = mean(loss)
    return eval_metric_ops


def _extract_metric_update_ops(eval_dict: dict) -> tuple[Any, dict]:
    """(one op grouping every update op, the value tensors), in name order so the graph is always the same."""
    from caudal.ops.control_ops import group

    update_ops = []
    value_ops = {}
    for name, value in sorted(eval_dict.items()):
        value_ops[name] = value[0]
        update_ops.append(value[1])
    return (group(*update_ops) if update_ops else None), value_ops


class Estimator:
    """`tf.estimator.Estimator(model_fn, model_dir=None, config=None, params=None, warm_start_from=None)`.

    See the module docstring for what train/evaluate/predict do.
    `warm_start_from` (a checkpoint, a SavedModel directory or a
    `WarmStartSettings`) initializes the variables of a model that has no
    checkpoint of its own yet.
    """

    def __init__(self, model_fn: Callable, model_dir: str | None = None, config: RunConfig | None = None,
                 params: dict | None = None, warm_start_from: Any = None):
        _assert_members_are_not_overridden(self)
        self._config = _config_with_model_dir(config, model_dir)
        self._model_dir = self._config.model_dir
        self._session_config = self._config.session_config
        _logger.info("Using config: %s", str(vars(self._config)))
        self._device_fn = self._config.device_fn or _replica_device_setter(self._config)
        if model_fn is None:
            raise ValueError("model_fn must be provided to Estimator.")
        model_fn_lib.verify_model_fn_args(model_fn, params)
        self._model_fn = model_fn
        self._params = copy.deepcopy(params or {})
        self._warm_start_settings = default_warm_start_settings(warm_start_from)

    # ------------------------------------------------------------------ properties
    @property
    def model_dir(self) -> str:
        return self._model_dir

    @property
    def config(self) -> RunConfig:
        return copy.deepcopy(self._config)

    @property
    def params(self) -> dict:
        return copy.deepcopy(self._params)

    @property
    def model_fn(self) -> Callable:
        """The model_fn bound to this Estimator: `model_fn(features, labels, mode, config)`."""

        def public_model_fn(features: Any, labels: Any, mode: str, config: Any) -> Any:
            return self._call_model_fn(features, labels, mode, config)

        return public_model_fn

    def get_variable_value(self, name: str) -> Any:
        """The value of variable `name` in the newest checkpoint (ValueError if there is none)."""
        from caudal.checkpoint.reader import load_variable

        _check_checkpoint_available(self.model_dir)
        return load_variable(self.model_dir, name)

    def get_variable_names(self) -> list[str]:
        """The names of the variables in the newest checkpoint, sorted."""
        from caudal.checkpoint.reader import list_variables

        _check_checkpoint_available(self.model_dir)
        return [name for name, _ in list_variables(self.model_dir)]

    def latest_checkpoint(self) -> str | None:
        from caudal.checkpoint.state import latest_checkpoint

        return latest_checkpoint(self.model_dir)

    def eval_dir(self, name: str | None = None) -> str:
        return os.path.join(self._model_dir, "eval" if not name else "eval_" + name)

    # ------------------------------------------------------------------ building blocks
    def _create_global_step(self, graph: Any) -> Any:
        from caudal.train.training_util import create_global_step

        return create_global_step(graph)

    def _create_and_assert_global_step(self, graph: Any) -> Any:
        from caudal.train.training_util import get_global_step

        step = self._create_global_step(graph)
        assert step is get_global_step()
        assert step.dtype.is_integer
        return step

    def _call_input_fn(self, input_fn: Callable, mode: str) -> Any:
        from caudal.framework.graph import get_default_graph

        names = model_fn_lib.fn_args(input_fn)
        kwargs: dict[str, Any] = {}
        if "mode" in names:
            kwargs["mode"] = mode
        if "params" in names:
            kwargs["params"] = self.params
        if "config" in names:
            kwargs["config"] = self.config
        with get_default_graph().device("/cpu:0"):
            return input_fn(**kwargs)

    def _get_features_and_labels_from_input_fn(self, input_fn: Callable, mode: str) -> tuple[Any, Any, list]:
        return parse_input_fn_result(self._call_input_fn(input_fn, mode))

    def _call_model_fn(self, features: Any, labels: Any, mode: str, config: Any) -> model_fn_lib.EstimatorSpec:
        names = model_fn_lib.fn_args(self._model_fn)
        kwargs: dict[str, Any] = {}
        if "labels" in names:
            kwargs["labels"] = labels
        elif labels is not None:
            raise ValueError("model_fn does not take labels, but input_fn returns labels.")
        if "mode" in names:
            kwargs["mode"] = mode
        if "params" in names:
            kwargs["params"] = self.params
        if "config" in names:
            kwargs["config"] = config
        _logger.info("Calling model_fn.")
        spec = self._model_fn(features=features, **kwargs)
        _logger.info("Done calling model_fn.")
        if not isinstance(spec, model_fn_lib.EstimatorSpec):
            raise ValueError("model_fn should return an EstimatorSpec.")
        return spec

    def _maybe_warm_start(self, checkpoint_path: str | None) -> None:
        if not checkpoint_path and self._warm_start_settings:
            _logger.info("Warm-starting with WarmStartSettings: %s", self._warm_start_settings)
            warm_start(*self._warm_start_settings)

    # ------------------------------------------------------------------ train
    def train(self, input_fn: Callable, hooks: list | None = None, steps: int | None = None,
              max_steps: int | None = None, saving_listeners: list | None = None) -> Estimator:
        """Trains until the input ends, `steps` more steps, or the global step reaches `max_steps`."""
        if self.config.task_type in (TaskType.EVALUATOR, TaskType.PS):
            raise ValueError("Train has been called wrong configuration. Please use tf.estimator.train_and_evaluate "
                             f"which calls proper API according to given configuration. Current configuration: "
                             f"{self.config}.")
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        if max_steps is not None and max_steps <= _load_global_step_from_checkpoint_dir(self._model_dir):
            _logger.info("Skipping training since max_steps has already saved.")
            return self
        hooks = _check_hooks_type(hooks)
        if steps is not None or max_steps is not None:
            from caudal.train.basic_session_run_hooks import StopAtStepHook

            hooks.append(StopAtStepHook(steps, max_steps))
        saving_listeners = _check_listeners_type(saving_listeners)
        loss = self._train_model(input_fn, hooks, saving_listeners)
        _logger.info("Loss for final step: %s.", loss)
        return self

    def _train_model(self, input_fn: Callable, hooks: list, saving_listeners: list) -> Any:
        from caudal.framework.graph import Graph
        from caudal.framework.random_seed import set_random_seed
        from caudal.train.training_util import _get_or_create_global_step_read, get_global_step

        worker_hooks: list = []
        graph = Graph()
        with graph.as_default(), graph.device(self._device_fn):
            set_random_seed(self._config.tf_random_seed)
            global_step_tensor = self._create_and_assert_global_step(graph)
            if global_step_tensor is not None:
                _get_or_create_global_step_read(graph)
            features, labels, input_hooks = self._get_features_and_labels_from_input_fn(input_fn, ModeKeys.TRAIN)
            worker_hooks.extend(input_hooks)
            spec = self._call_model_fn(features, labels, ModeKeys.TRAIN, self.config)
            return self._train_with_estimator_spec(spec, worker_hooks, hooks, get_global_step(graph),
                                                   saving_listeners)

    def _train_with_estimator_spec(self, spec: model_fn_lib.EstimatorSpec, worker_hooks: list, hooks: list,
                                   global_step_tensor: Any, saving_listeners: list) -> Any:
        from caudal.checkpoint.state import latest_checkpoint
        from caudal.framework.graph import GraphKeys, get_default_graph
        from caudal.ops.summary_ops import scalar
        from caudal.train import basic_session_run_hooks as hooks_lib
        from caudal.train.monitored_session import MonitoredTrainingSession
        from caudal.train.saver import Saver

        graph = get_default_graph()
        if self._warm_start_settings and not latest_checkpoint(self._model_dir):
            _logger.info("Warm-starting with WarmStartSettings: %s", self._warm_start_settings)
            warm_start(*self._warm_start_settings)
        if not any(x.op.name == "loss" for x in graph.get_collection(GraphKeys.SUMMARIES)):
            scalar("loss", spec.loss)
        graph.add_to_collection(GraphKeys.LOSSES, spec.loss)
        worker_hooks.extend(hooks)
        worker_hooks.append(hooks_lib.NanTensorHook(spec.loss))
        if self._config.log_step_count_steps is not None:
            worker_hooks.append(hooks_lib.LoggingTensorHook({"loss": spec.loss, "step": global_step_tensor},
                                                            every_n_iter=self._config.log_step_count_steps))
        worker_hooks.extend(spec.training_hooks)
        if not (spec.scaffold.saver or graph.get_collection(GraphKeys.SAVERS)):
            graph.add_to_collection(GraphKeys.SAVERS, Saver(
                sharded=True, max_to_keep=self._config.keep_checkpoint_max,
                keep_checkpoint_every_n_hours=self._config.keep_checkpoint_every_n_hours, defer_build=True,
                save_relative_paths=True))
        chief_hooks: list = []
        saver_hooks = [h for h in worker_hooks + list(spec.training_chief_hooks)
                       if isinstance(h, hooks_lib.CheckpointSaverHook)]
        if (self._config.save_checkpoints_secs or self._config.save_checkpoints_steps) and not saver_hooks:
            chief_hooks = [hooks_lib.CheckpointSaverHook(
                self._model_dir, save_secs=self._config.save_checkpoints_secs,
                save_steps=self._config.save_checkpoints_steps, scaffold=spec.scaffold,
                save_graph_def=self._config.checkpoint_save_graph_def)]
            saver_hooks = [chief_hooks[0]]
        if saving_listeners:
            if not saver_hooks:
                raise ValueError("There should be a CheckpointSaverHook to use saving_listeners. Please set one of "
                                 "the RunConfig.save_checkpoints_steps or RunConfig.save_checkpoints_secs.")
            for listener in saving_listeners:
                if listener not in saver_hooks[0]._listeners:
                    saver_hooks[0]._listeners.append(listener)
        save_summary_steps = self._config.save_summary_steps
        log_step_count_steps = self._config.log_step_count_steps
        cluster = self._config.cluster_spec
        if cluster and TaskType.WORKER in cluster.jobs and TaskType.MASTER in cluster.jobs:
            save_summary_steps, log_step_count_steps = 0, None
            if self._config.task_type == TaskType.WORKER and self._config.task_id == 0:
                if self._config.save_summary_steps and self._config.save_summary_steps > 0:
                    worker_hooks.append(hooks_lib.SummarySaverHook(save_steps=self._config.save_summary_steps,
                                                                   output_dir=self._config.model_dir,
                                                                   scaffold=spec.scaffold))
                if self._config.log_step_count_steps and self._config.log_step_count_steps > 0:
                    worker_hooks.append(hooks_lib.StepCounterHook(every_n_steps=self._config.log_step_count_steps,
                                                                  output_dir=self._config.model_dir))
        with MonitoredTrainingSession(
                master=self._config.master, is_chief=self._config.is_chief, checkpoint_dir=self._model_dir,
                scaffold=spec.scaffold, hooks=worker_hooks,
                chief_only_hooks=tuple(chief_hooks) + tuple(spec.training_chief_hooks), save_checkpoint_secs=0,
                save_summaries_steps=save_summary_steps, config=self._session_config,
                max_wait_secs=self._config.session_creation_timeout_secs, log_step_count_steps=log_step_count_steps,
                save_graph_def=self._config.checkpoint_save_graph_def) as session:
            loss = None
            steps_done = 0
            while not session.should_stop():
                steps_done += 1
                _, loss = session.run([spec.train_op, spec.loss])
        if steps_done == 0:
            _logger.warning("Training with estimator made no steps. Perhaps input is empty or misspecified.")
        return loss

    # ------------------------------------------------------------------ evaluate
    def evaluate(self, input_fn: Callable, steps: int | None = None, hooks: list | None = None,
                 checkpoint_path: str | None = None, name: str | None = None) -> dict:
        """The metrics over the input (until it ends, or `steps` batches), with `global_step`; also written
        to `eval_dir(name)`."""
        from caudal.checkpoint.state import latest_checkpoint
        from caudal.estimator._evaluation import StopAfterNEvalsHook
        from caudal.framework.graph import Graph

        hooks = _check_hooks_type(hooks)
        if steps is not None:
            if steps <= 0:
                raise ValueError(f"Must specify steps > 0, given: {steps}")
            hooks.append(StopAfterNEvalsHook(num_evals=steps))
        if not checkpoint_path:
            latest_path = latest_checkpoint(self._model_dir)
            if not latest_path:
                _logger.info("Could not find trained model in model_dir: %s, running initialization to evaluate.",
                             self._model_dir)
            checkpoint_path = latest_path
        with Graph().as_default():
            scaffold, update_op, eval_dict, all_hooks = self._evaluate_build_graph(input_fn, hooks, checkpoint_path)
            return self._evaluate_run(checkpoint_path, scaffold, update_op, eval_dict, all_hooks,
                                      self.eval_dir(name))

    def _evaluate_build_graph(self, input_fn: Callable, hooks: list, checkpoint_path: str | None) -> tuple:
        from caudal.estimator._evaluation import get_or_create_eval_step
        from caudal.framework.graph import get_default_graph
        from caudal.framework.random_seed import set_random_seed
        from caudal.ops.control_ops import group
        from caudal.train.scaffold import Scaffold
        from caudal.train.training_util import get_global_step

        set_random_seed(self._config.tf_random_seed)
        self._create_and_assert_global_step(get_default_graph())
        features, labels, input_hooks = self._get_features_and_labels_from_input_fn(input_fn, ModeKeys.EVAL)
        spec = self._call_model_fn(features, labels, ModeKeys.EVAL, self.config)
        eval_metric_ops = _verify_and_create_loss_metric(spec.eval_metric_ops, spec.loss)
        update_op, eval_dict = _extract_metric_update_ops(eval_metric_ops)
        global_step_tensor = get_global_step(get_default_graph())
        self._maybe_warm_start(checkpoint_path)
        if "global_step" in eval_dict:
            raise ValueError("Metric with name `global_step` is not allowed, because Estimator already defines a "
                             "default metric with the same name.")
        eval_dict["global_step"] = global_step_tensor
        all_hooks = list(input_hooks) + list(hooks) + list(spec.evaluation_hooks or [])
        scaffold = spec.scaffold
        if scaffold and scaffold.local_init_op:
            get_or_create_eval_step()
            scaffold = Scaffold(local_init_op=group(scaffold.local_init_op, Scaffold.default_local_init_op()),
                                copy_from_scaffold=scaffold)
        return scaffold, update_op, eval_dict, all_hooks

    def _evaluate_run(self, checkpoint_path: str | None, scaffold: Any, update_op: Any, eval_dict: dict,
                      all_hooks: list, output_dir: str) -> dict:
        from caudal.estimator._evaluation import evaluate_once, write_checkpoint_path_to_summary, write_dict_to_summary

        results = evaluate_once(checkpoint_path=checkpoint_path, master=self._config.evaluation_master,
                                scaffold=scaffold, eval_ops=update_op, final_ops=eval_dict, hooks=all_hooks,
                                config=self._session_config)
        current_global_step = results["global_step"]
        write_dict_to_summary(output_dir, results, current_global_step)
        if checkpoint_path:
            write_checkpoint_path_to_summary(output_dir, checkpoint_path, current_global_step)
        return results

    # ------------------------------------------------------------------ predict
    def predict(self, input_fn: Callable, predict_keys: Any = None, hooks: list | None = None,
                checkpoint_path: str | None = None, yield_single_examples: bool = True) -> Iterator[Any]:
        """Yields predictions (a dict per example, or per batch without `yield_single_examples`) until the
        input ends."""
        from caudal.checkpoint.state import latest_checkpoint
        from caudal.framework.graph import Graph
        from caudal.framework.random_seed import set_random_seed
        from caudal.train.monitored_session import ChiefSessionCreator, MonitoredSession

        hooks = _check_hooks_type(hooks)
        if not checkpoint_path:
            checkpoint_path = latest_checkpoint(self._model_dir)
        if not checkpoint_path:
            _logger.info("Could not find trained model in model_dir: %s, running initialization to predict.",
                         self._model_dir)
        graph = Graph()
        with graph.as_default():
            set_random_seed(self._config.tf_random_seed)
            self._create_and_assert_global_step(graph)
            features, _, input_hooks = parse_input_fn_result(self._call_input_fn(input_fn, ModeKeys.PREDICT))
            if not _has_dataset_or_queue_runner(features):
                _logger.warning("Input graph does not use tf.data.Dataset or contain a QueueRunner. That means "
                                "predict yields forever. This is probably a mistake.")
            spec = self._call_model_fn(features, None, ModeKeys.PREDICT, self.config)
            self._maybe_warm_start(checkpoint_path)
            predictions = self._extract_keys(spec.predictions, predict_keys)
            all_hooks = list(input_hooks) + list(hooks) + list(spec.prediction_hooks or [])
            creator = ChiefSessionCreator(checkpoint_filename_with_path=checkpoint_path, master=self._config.master,
                                          scaffold=spec.scaffold, config=self._session_config)
            with MonitoredSession(session_creator=creator, hooks=all_hooks) as session:
                while not session.should_stop():
                    values = session.run(predictions)
                    if not yield_single_examples:
                        yield values
                    elif not isinstance(predictions, dict):
                        yield from values
                    else:
                        for i in range(self._extract_batch_length(values)):
                            yield {key: value[i] for key, value in values.items()}

    def _extract_batch_length(self, values: dict) -> int:
        batch_length = None
        for key, value in values.items():
            batch_length = batch_length or value.shape[0]
            if value.shape[0] != batch_length:
                raise ValueError(f"Batch length of predictions should be same. {key} has different batch length "
                                 "than others.")
        return batch_length

    def _extract_keys(self, predictions: Any, predict_keys: Any) -> Any:
        if not predict_keys:
            return predictions
        if not isinstance(predictions, dict):
            raise ValueError("predict_keys argument is not valid in case of non-dict predictions.")
        existing_keys = predictions.keys()
        chosen = {key: value for key, value in predictions.items() if key in predict_keys}
        if not chosen:
            raise ValueError(f"Expected to run at least one output from {existing_keys}, provided {predict_keys}.")
        return chosen

    # ------------------------------------------------------------------ export
    def export_saved_model(self, export_dir_base: str, serving_input_receiver_fn: Callable,
                           assets_extra: dict | None = None, as_text: bool = False,
                           checkpoint_path: str | None = None, experimental_mode: str = ModeKeys.PREDICT) -> bytes:
        """Writes the PREDICT graph with the newest checkpoint's variables as a SavedModel in
        `export_dir_base/<timestamp>` and returns that path (bytes, as TF)."""
        if not serving_input_receiver_fn:
            raise ValueError("An input_receiver_fn must be defined.")
        return self._export_all_saved_models(export_dir_base, {experimental_mode: serving_input_receiver_fn},
                                             assets_extra=assets_extra, as_text=as_text,
                                             checkpoint_path=checkpoint_path, strip_default_attrs=True)

    def export_savedmodel(self, export_dir_base: str, serving_input_receiver_fn: Callable,
                          assets_extra: dict | None = None, as_text: bool = False,
                          checkpoint_path: str | None = None, strip_default_attrs: bool = False) -> bytes:
        """The older name of `export_saved_model` (TF 1.x), with its `strip_default_attrs` default of False."""
        if not serving_input_receiver_fn:
            raise ValueError("An input_receiver_fn must be defined.")
        return self._export_all_saved_models(export_dir_base, {ModeKeys.PREDICT: serving_input_receiver_fn},
                                             assets_extra=assets_extra, as_text=as_text,
                                             checkpoint_path=checkpoint_path, strip_default_attrs=strip_default_attrs)

    def experimental_export_all_saved_models(self, export_dir_base: str, input_receiver_fn_map: dict,
                                             assets_extra: dict | None = None, as_text: bool = False,
                                             checkpoint_path: str | None = None) -> bytes:
        """`export_saved_model` with receiver fns by mode; caudal exports the PREDICT mode only."""
        return self._export_all_saved_models(export_dir_base, input_receiver_fn_map, assets_extra=assets_extra,
                                             as_text=as_text, checkpoint_path=checkpoint_path,
                                             strip_default_attrs=True)

    def _export_all_saved_models(self, export_dir_base: str, input_receiver_fn_map: dict,
                                 assets_extra: dict | None = None, as_text: bool = False,
                                 checkpoint_path: str | None = None, strip_default_attrs: bool = True) -> bytes:
        from caudal.estimator._export import export_all_saved_models

        return export_all_saved_models(self, export_dir_base, input_receiver_fn_map, assets_extra, as_text,
                                       checkpoint_path, strip_default_attrs)
