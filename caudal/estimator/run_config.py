"""`tf.estimator.RunConfig`: where and how often an Estimator saves, logs and seeds, and the cluster it is in.

The cluster comes from the `TF_CONFIG` environment variable, read as TF reads
it: `{"cluster": {job: [addresses]}, "task": {"type": ..., "index": ...},
"model_dir": ..., "session_master": ..., "eval_session_master": ...}`. Without
a cluster the task is the only worker, the chief, with a local master.
"""
from __future__ import annotations

import copy
import inspect
import json
import logging
import os
from typing import Any

from caudal.runtime.distributed.cluster import ClusterSpec

__all__ = ["RunConfig", "TaskType", "get_default_session_config"]

_logger = logging.getLogger("caudal")
_USE_DEFAULT = object()
_DEFAULT_REPLACEABLE_LIST = [
    "model_dir", "tf_random_seed", "save_summary_steps", "save_checkpoints_steps", "save_checkpoints_secs",
    "session_config", "keep_checkpoint_max", "keep_checkpoint_every_n_hours", "log_step_count_steps",
    "train_distribute", "device_fn", "protocol", "eval_distribute", "experimental_distribute",
    "experimental_max_worker_delay_secs", "session_creation_timeout_secs", "checkpoint_save_graph_def",
]
_SAVE_CKPT_ERR = "`save_checkpoints_steps` and `save_checkpoints_secs` cannot be both set."
_LOCAL_MASTER = ""
_GRPC_SCHEME = "grpc://"


class TaskType:
    MASTER = "master"
    PS = "ps"
    WORKER = "worker"
    CHIEF = "chief"
    EVALUATOR = "evaluator"


def get_default_session_config() -> Any:
    """The session config an Estimator uses when none is given: `ConfigProto(allow_soft_placement=True)`."""
    from caudal.proto.config_pb2 import ConfigProto

    return ConfigProto(allow_soft_placement=True)


def _distributed_session_config(task_type: str, task_id: int) -> Any:
    """TF's session config of a task in a cluster (when none is given): its sessions see the ps tasks
    and its own task only (a ps task: every task); None for an evaluator. TF also sets a graph
    rewriter option, which caudal's ConfigProto does not model."""
    from caudal.proto.config_pb2 import ConfigProto

    filters = {TaskType.MASTER: ["/job:ps", "/job:master"], TaskType.CHIEF: ["/job:ps", "/job:chief"],
               TaskType.WORKER: ["/job:ps", f"/job:worker/task:{task_id}"],
               TaskType.PS: ["/job:ps", "/job:worker", "/job:chief", "/job:master"]}.get(task_type)
    if filters is None:
        return None
    return ConfigProto(allow_soft_placement=True, device_filters=filters)


def _path_to_str(path: Any) -> Any:
    return os.fspath(path) if hasattr(path, "__fspath__") else path


def _get_model_dir(tf_config: dict, model_dir: str | None) -> str | None:
    if model_dir == "":
        raise ValueError("model_dir should be non-empty.")
    in_tf_config = tf_config.get("model_dir")
    if in_tf_config == "":
        raise ValueError("model_dir in TF_CONFIG should be non-empty.")
    if in_tf_config:
        if model_dir and in_tf_config != model_dir:
            raise ValueError("`model_dir` provided in RunConfig construct, if set, must have the same value as the "
                             f"model_dir in TF_CONFIG. model_dir: {model_dir}\nTF_CONFIG[\"model_dir\"]: "
                             f"{in_tf_config}.\n")
        _logger.info("Using model_dir in TF_CONFIG: %s", in_tf_config)
    return model_dir or in_tf_config


def _validate_task_type_and_task_id(cluster_spec: ClusterSpec, task_env: dict, chief_task_type: str) -> tuple:
    if chief_task_type not in cluster_spec.jobs:
        raise ValueError(f'If "cluster" is set in TF_CONFIG, it must have one "{chief_task_type}" node.')
    if len(cluster_spec.job_tasks(chief_task_type)) > 1:
        raise ValueError(f'The "cluster" in TF_CONFIG must have only one "{chief_task_type}" node.')
    task_type = task_env.get("type")
    task_id = task_env.get("index")
    if not task_type:
        raise ValueError('If "cluster" is set in TF_CONFIG, task type must be set.')
    if task_id is None:
        raise ValueError('If "cluster" is set in TF_CONFIG, task index must be set.')
    task_id = int(task_id)
    if task_id < 0:
        raise ValueError("Task index must be non-negative number.")
    if task_type == TaskType.EVALUATOR:
        return task_type, task_id
    if task_type not in cluster_spec.jobs:
        raise ValueError(f"{task_type} is not a valid task_type in the cluster_spec:\n{cluster_spec}\n\nNote that "
                         "these values may be coming from the TF_CONFIG environment variable.")
    if not 0 <= task_id < len(cluster_spec.job_tasks(task_type)):
        raise ValueError(f"{task_id} is not a valid task_id for task_type {task_type} in the cluster_spec:\n"
                         f"{cluster_spec}\n\nNote that these values may be coming from the TF_CONFIG environment "
                         "variable.")
    return task_type, task_id


def _session_master(cluster_spec: ClusterSpec, task_type: str, task_id: int, tf_config: dict) -> str:
    if "session_master" in tf_config:
        return tf_config["session_master"]
    jobs = cluster_spec.jobs
    if len(jobs) == 1 and len(cluster_spec.job_tasks(jobs[0])) == 1:
        return _LOCAL_MASTER
    return _GRPC_SCHEME + str(cluster_spec.job_tasks(task_type)[task_id])


def _eval_session_master(task_type: str, tf_config: dict) -> str:
    if task_type == TaskType.EVALUATOR:
        return tf_config.get("eval_session_master", _LOCAL_MASTER)
    return _LOCAL_MASTER


def _count_workers(cluster_spec: ClusterSpec, chief_task_type: str) -> int:
    jobs = cluster_spec.as_dict()
    return len(jobs.get(TaskType.WORKER, [])) + len(jobs.get(chief_task_type, []))


def _global_id_in_cluster(cluster_spec: ClusterSpec, task_type: str, task_id: int, chief_task_type: str) -> int:
    """The task's rank: the chief first, then the other jobs sorted by name, parameter servers last."""
    ordered = [chief_task_type] + [t for t in sorted(cluster_spec.jobs) if t not in (chief_task_type, TaskType.PS)]
    if TaskType.PS in cluster_spec.jobs:
        ordered.append(TaskType.PS)
    next_id = 0
    for job in ordered:
        if job == task_type:
            return next_id + task_id
        next_id += len(cluster_spec.job_tasks(job))
    raise RuntimeError(f"Internal Error: `task_type` ({task_type}) is not in cluster_spec ({cluster_spec}).")


def _validate_properties(config: RunConfig) -> None:
    from caudal.proto.config_pb2 import ConfigProto

    def check(name: str, condition: Any, message: str) -> None:
        value = getattr(config, name)
        if value is not None and not condition(value):
            raise ValueError(message)

    def takes_only_op(fn: Any) -> bool:
        try:
            return callable(fn) and set(inspect.signature(fn).parameters) == {"op"}
        except (TypeError, ValueError):
            return False

    check("model_dir", lambda d: d, "model_dir should be non-empty")
    check("save_summary_steps", lambda s: s >= 0, "save_summary_steps should be >= 0")
    check("save_checkpoints_steps", lambda s: s >= 0, "save_checkpoints_steps should be >= 0")
    check("save_checkpoints_secs", lambda s: s >= 0, "save_checkpoints_secs should be >= 0")
    check("session_config", lambda c: isinstance(c, ConfigProto), "session_config must be instance of ConfigProto")
    check("keep_checkpoint_max", lambda k: k >= 0, "keep_checkpoint_max should be >= 0")
    check("keep_checkpoint_every_n_hours", lambda h: h > 0, "keep_checkpoint_every_n_hours should be > 0")
    check("log_step_count_steps", lambda n: n > 0, "log_step_count_steps should be > 0")
    check("tf_random_seed", lambda s: isinstance(s, int), "tf_random_seed must be integer.")
    check("experimental_max_worker_delay_secs", lambda d: isinstance(d, int),
          "experimental_max_worker_delay_secs must be an integer if set.")
    check("session_creation_timeout_secs", lambda t: t > 0, "session_creation_timeout_secs should be > 0")
    check("device_fn", takes_only_op, 'device_fn must be callable with exactly one argument "op".')
    check("protocol", lambda p: p in (None, "grpc", "grpc+verbs"), "protocol should be grpc or grpc+verbs")


class RunConfig:
    """`tf.estimator.RunConfig(model_dir=None, tf_random_seed=None, save_summary_steps=100,
    save_checkpoints_steps=None, save_checkpoints_secs=600, session_config=None, keep_checkpoint_max=5,
    keep_checkpoint_every_n_hours=10000, log_step_count_steps=100, train_distribute=None, device_fn=None,
    protocol=None, eval_distribute=None, experimental_distribute=None, experimental_max_worker_delay_secs=None,
    session_creation_timeout_secs=7200, checkpoint_save_graph_def=True)`.

    Checkpoints are saved every 600 seconds unless `save_checkpoints_steps`
    is given (giving both is a ValueError). `replace(**kwargs)` returns a
    copy with some properties changed. Distribution strategies are not
    supported: `train_distribute`/`eval_distribute` must be None.
    """

    def __init__(self, model_dir: str | None = None, tf_random_seed: int | None = None, save_summary_steps: int = 100,
                 save_checkpoints_steps: Any = _USE_DEFAULT, save_checkpoints_secs: Any = _USE_DEFAULT,
                 session_config: Any = None, keep_checkpoint_max: int = 5,
                 keep_checkpoint_every_n_hours: float = 10000, log_step_count_steps: int = 100,
                 train_distribute: Any = None, device_fn: Any = None, protocol: str | None = None,
                 eval_distribute: Any = None, experimental_distribute: Any = None,
                 experimental_max_worker_delay_secs: int | None = None,
                 session_creation_timeout_secs: int = 7200, checkpoint_save_graph_def: bool = True):
        if save_checkpoints_steps is _USE_DEFAULT and save_checkpoints_secs is _USE_DEFAULT:
            save_checkpoints_steps, save_checkpoints_secs = None, 600
        elif save_checkpoints_secs is _USE_DEFAULT:
            save_checkpoints_secs = None
        elif save_checkpoints_steps is _USE_DEFAULT:
            save_checkpoints_steps = None
        elif save_checkpoints_steps is not None and save_checkpoints_secs is not None:
            raise ValueError(_SAVE_CKPT_ERR)
        if train_distribute is not None or eval_distribute is not None or experimental_distribute is not None:
            raise NotImplementedError("caudal's Estimator does not support distribution strategies "
                                      "(train_distribute, eval_distribute, experimental_distribute).")
        tf_config = json.loads(os.environ.get("TF_CONFIG", "{}"))
        if tf_config:
            _logger.info("TF_CONFIG environment variable: %s", tf_config)
        model_dir = _get_model_dir(tf_config, _path_to_str(model_dir))
        RunConfig._replace(
            self, allowed_properties_list=_DEFAULT_REPLACEABLE_LIST, model_dir=model_dir,
            tf_random_seed=tf_random_seed, save_summary_steps=save_summary_steps,
            save_checkpoints_steps=save_checkpoints_steps, save_checkpoints_secs=save_checkpoints_secs,
            session_config=session_config, keep_checkpoint_max=keep_checkpoint_max,
            keep_checkpoint_every_n_hours=keep_checkpoint_every_n_hours, log_step_count_steps=log_step_count_steps,
            train_distribute=train_distribute, device_fn=device_fn, protocol=protocol,
            eval_distribute=eval_distribute, experimental_distribute=experimental_distribute,
            experimental_max_worker_delay_secs=experimental_max_worker_delay_secs,
            session_creation_timeout_secs=session_creation_timeout_secs,
            checkpoint_save_graph_def=checkpoint_save_graph_def)
        self._init_distributed_setting_from_environment_var(tf_config)
        if not self._session_config and self._cluster_spec:
            RunConfig._replace(self, allowed_properties_list=_DEFAULT_REPLACEABLE_LIST,
                               session_config=_distributed_session_config(self._task_type, self._task_id))

    def _init_distributed_setting_from_environment_var(self, tf_config: dict) -> None:
        service = tf_config.get("service")
        if service is not None and not isinstance(service, dict):
            raise TypeError(f'If "service" is set in TF_CONFIG, it must be a dict. Given {type(service)}')
        self._service = service
        self._cluster_spec = ClusterSpec(tf_config.get("cluster", {}))
        task_env = tf_config.get("task", {})
        if self._cluster_spec and TaskType.MASTER in self._cluster_spec.jobs:
            self._init_with_master(tf_config, task_env)
        elif self._cluster_spec:
            self._task_type, self._task_id = _validate_task_type_and_task_id(self._cluster_spec, task_env,
                                                                             TaskType.CHIEF)
            self._evaluation_master = _eval_session_master(self._task_type, tf_config)
            if self._task_type != TaskType.EVALUATOR:
                self._master = _session_master(self._cluster_spec, self._task_type, self._task_id, tf_config)
                self._num_ps_replicas = len(self._cluster_spec.as_dict().get(TaskType.PS, []))
                self._num_worker_replicas = _count_workers(self._cluster_spec, TaskType.CHIEF)
                self._global_id_in_cluster = _global_id_in_cluster(self._cluster_spec, self._task_type,
                                                                   self._task_id, TaskType.CHIEF)
            else:
                self._cluster_spec = ClusterSpec({})
                self._master = _LOCAL_MASTER
                self._num_ps_replicas = 0
                self._num_worker_replicas = 0
                self._global_id_in_cluster = None
            self._is_chief = self._task_type == TaskType.CHIEF
        else:
            self._task_type = task_env.get("type", TaskType.WORKER)
            self._task_id = int(task_env.get("index", 0))
            self._global_id_in_cluster = 0
            if self._task_type != TaskType.WORKER:
                raise ValueError('If "cluster" is not set in TF_CONFIG, task type must be WORKER.')
            if self._task_id != 0:
                raise ValueError('If "cluster" is not set in TF_CONFIG, task index must be 0.')
            self._master = tf_config.get("session_master", _LOCAL_MASTER)
            self._evaluation_master = tf_config.get("eval_session_master", _LOCAL_MASTER)
            self._is_chief = True
            self._num_ps_replicas = 0
            self._num_worker_replicas = 1

    def _init_with_master(self, tf_config: dict, task_env: dict) -> None:
        if TaskType.CHIEF in self._cluster_spec.jobs:
            raise ValueError("If `master` node exists in `cluster`, job `chief` is not supported.")
        self._task_type, self._task_id = _validate_task_type_and_task_id(self._cluster_spec, task_env,
                                                                         TaskType.MASTER)
        if self._task_type == TaskType.EVALUATOR:
            raise ValueError("If `master` node exists in `cluster`, task_type `evaluator` is not supported.")
        self._global_id_in_cluster = _global_id_in_cluster(self._cluster_spec, self._task_type, self._task_id,
                                                           TaskType.MASTER)
        self._master = _session_master(self._cluster_spec, self._task_type, self._task_id, tf_config)
        self._evaluation_master = _eval_session_master(self._task_type, tf_config)
        self._num_ps_replicas = len(self._cluster_spec.as_dict().get(TaskType.PS, []))
        self._num_worker_replicas = _count_workers(self._cluster_spec, TaskType.MASTER)
        self._is_chief = self._task_type == TaskType.MASTER

    cluster_spec = property(lambda self: self._cluster_spec)
    device_fn = property(lambda self: self._device_fn)
    evaluation_master = property(lambda self: self._evaluation_master)
    is_chief = property(lambda self: self._is_chief)
    master = property(lambda self: self._master)
    num_ps_replicas = property(lambda self: self._num_ps_replicas)
    num_worker_replicas = property(lambda self: self._num_worker_replicas)
    task_id = property(lambda self: self._task_id)
    task_type = property(lambda self: self._task_type)
    global_id_in_cluster = property(lambda self: self._global_id_in_cluster)
    experimental_max_worker_delay_secs = property(lambda self: self._experimental_max_worker_delay_secs)
    tf_random_seed = property(lambda self: self._tf_random_seed)
    save_summary_steps = property(lambda self: self._save_summary_steps)
    save_checkpoints_secs = property(lambda self: self._save_checkpoints_secs)
    save_checkpoints_steps = property(lambda self: self._save_checkpoints_steps)
    session_config = property(lambda self: self._session_config)
    checkpoint_save_graph_def = property(lambda self: self._checkpoint_save_graph_def)
    keep_checkpoint_max = property(lambda self: self._keep_checkpoint_max)
    keep_checkpoint_every_n_hours = property(lambda self: self._keep_checkpoint_every_n_hours)
    session_creation_timeout_secs = property(lambda self: self._session_creation_timeout_secs)
    log_step_count_steps = property(lambda self: self._log_step_count_steps)
    model_dir = property(lambda self: self._model_dir)
    service = property(lambda self: self._service)
    train_distribute = property(lambda self: self._train_distribute)
    eval_distribute = property(lambda self: self._eval_distribute)
    protocol = property(lambda self: self._protocol)

    def replace(self, **kwargs: Any) -> RunConfig:
        """A copy with the given properties replaced; an unknown property is a ValueError, as in TF."""
        return RunConfig._replace(copy.deepcopy(self), allowed_properties_list=_DEFAULT_REPLACEABLE_LIST, **kwargs)

    @staticmethod
    def _replace(config: RunConfig, allowed_properties_list: list[str] | None = None, **kwargs: Any) -> RunConfig:
        allowed = allowed_properties_list or []
        for key, value in kwargs.items():
            if key not in allowed:
                raise ValueError(f"Replacing {key} is not supported. Allowed properties are {allowed}.")
            setattr(config, "_" + key, value)
        steps, secs = config._save_checkpoints_steps, config._save_checkpoints_secs
        if "save_checkpoints_steps" in kwargs and "save_checkpoints_secs" in kwargs:
            if steps is not None and secs is not None:
                raise ValueError(_SAVE_CKPT_ERR)
        elif "save_checkpoints_steps" in kwargs and steps is not None:
            config._save_checkpoints_secs = None
        elif "save_checkpoints_secs" in kwargs and secs is not None:
            config._save_checkpoints_steps = None
        _validate_properties(config)
        return config

    def __repr__(self) -> str:
        return str(vars(self))
