"""`tf.train`: optimizers, the global step, checkpoints and the training loop (monitored sessions, hooks)."""
from caudal.train.adadelta import AdadeltaOptimizer
from caudal.train.adagrad import AdagradOptimizer
from caudal.train.adam import AdamOptimizer
from caudal.train.ftrl import FtrlOptimizer
from caudal.train.gradient_descent import GradientDescentOptimizer
from caudal.train.learning_rate_decay import (
    cosine_decay,
    cosine_decay_restarts,
    exponential_decay,
    inverse_time_decay,
    linear_cosine_decay,
    natural_exp_decay,
    piecewise_constant,
    piecewise_constant_decay,
    polynomial_decay,
)
from caudal.train.momentum import MomentumOptimizer
from caudal.train.moving_averages import ExponentialMovingAverage
from caudal.train.optimizer import Optimizer
from caudal.train.proximal_adagrad import ProximalAdagradOptimizer
from caudal.train.proximal_gradient_descent import ProximalGradientDescentOptimizer
from caudal.train.rmsprop import RMSPropOptimizer
from caudal.train.training_util import (
    create_global_step,
    get_global_step,
    get_or_create_global_step,
    global_step,
)

__all__ = ["write_graph", "Optimizer", "GradientDescentOptimizer", "create_global_step", "get_global_step",
           "get_or_create_global_step", "global_step", "AdadeltaOptimizer", "AdagradOptimizer", "AdamOptimizer",
           "FtrlOptimizer", "MomentumOptimizer", "ProximalAdagradOptimizer", "ProximalGradientDescentOptimizer",
           "RMSPropOptimizer", "ExponentialMovingAverage", "cosine_decay", "cosine_decay_restarts",
           "exponential_decay", "inverse_time_decay", "linear_cosine_decay", "natural_exp_decay", "piecewise_constant",
           "piecewise_constant_decay", "polynomial_decay"]


# Checkpoint and meta-graph names load protobuf, so they are imported on first use.
_LAZY = {
    "Saver": "caudal.train.saver", "SaverDef": "caudal.train.saver",
    "export_meta_graph": "caudal.train.meta_graph", "import_meta_graph": "caudal.train.meta_graph",
    "latest_checkpoint": "caudal.checkpoint.state", "get_checkpoint_state": "caudal.checkpoint.state",
    "checkpoint_exists": "caudal.checkpoint.state", "generate_checkpoint_state_proto": "caudal.checkpoint.state",
    "update_checkpoint_state": "caudal.checkpoint.state", "get_checkpoint_mtimes": "caudal.checkpoint.state",
    "remove_checkpoint": "caudal.checkpoint.state", "CheckpointState": "caudal.checkpoint.state",
    "NewCheckpointReader": "caudal.checkpoint.reader", "load_checkpoint": "caudal.checkpoint.reader",
    "load_variable": "caudal.checkpoint.reader", "list_variables": "caudal.checkpoint.reader",
    "init_from_checkpoint": "caudal.checkpoint.reader",
    "summary_iterator": "caudal.summary.writer",
    # tf.train.Example and its parts (protos with TF's fields)
    "Example": "caudal.proto.example_pb2", "SequenceExample": "caudal.proto.example_pb2",
    "Features": "caudal.proto.feature_pb2", "Feature": "caudal.proto.feature_pb2",
    "BytesList": "caudal.proto.feature_pb2", "FloatList": "caudal.proto.feature_pb2",
    "Int64List": "caudal.proto.feature_pb2", "FeatureList": "caudal.proto.feature_pb2",
    "FeatureLists": "caudal.proto.feature_pb2",
    # the training loop: monitored sessions, hooks, Supervisor
    "MonitoredTrainingSession": "caudal.train.monitored_session",
    "MonitoredSession": "caudal.train.monitored_session",
    "SingularMonitoredSession": "caudal.train.monitored_session", "SessionCreator": "caudal.train.monitored_session",
    "ChiefSessionCreator": "caudal.train.monitored_session", "WorkerSessionCreator": "caudal.train.monitored_session",
    "Scaffold": "caudal.train.scaffold",
    "SessionManager": "caudal.train.session_manager",
    "Supervisor": "caudal.train.supervisor",
    "Coordinator": "caudal.train.coordinator", "LooperThread": "caudal.train.coordinator",
    "SessionRunHook": "caudal.train.session_run_hook", "SessionRunArgs": "caudal.train.session_run_hook",
    "SessionRunContext": "caudal.train.session_run_hook", "SessionRunValues": "caudal.train.session_run_hook",
    "SecondOrStepTimer": "caudal.train.basic_session_run_hooks",
    "LoggingTensorHook": "caudal.train.basic_session_run_hooks",
    "StopAtStepHook": "caudal.train.basic_session_run_hooks",
    "CheckpointSaverListener": "caudal.train.basic_session_run_hooks",
    "CheckpointSaverHook": "caudal.train.basic_session_run_hooks",
    "StepCounterHook": "caudal.train.basic_session_run_hooks",
    "NanLossDuringTrainingError": "caudal.train.basic_session_run_hooks",
    "NanTensorHook": "caudal.train.basic_session_run_hooks",
    "SummarySaverHook": "caudal.train.basic_session_run_hooks",
    "GlobalStepWaiterHook": "caudal.train.basic_session_run_hooks",
    "FinalOpsHook": "caudal.train.basic_session_run_hooks", "FeedFnHook": "caudal.train.basic_session_run_hooks",
    "SummaryWriterCache": "caudal.train.basic_session_run_hooks",
    # distributed execution (gRPC is imported only when a server starts or a session connects)
    "ClusterSpec": "caudal.runtime.distributed.cluster", "Server": "caudal.runtime.distributed.server",
    "ServerDef": "caudal.proto.tensorflow_server_pb2", "ClusterDef": "caudal.proto.cluster_pb2",
    "JobDef": "caudal.proto.cluster_pb2",
    "replica_device_setter": "caudal.train.device_setter",
    # queue-based input pipelines
    "QueueRunner": "caudal.train.queue_runner", "add_queue_runner": "caudal.train.queue_runner",
    "start_queue_runners": "caudal.train.queue_runner",
    "match_filenames_once": "caudal.train.input", "limit_epochs": "caudal.train.input",
    "input_producer": "caudal.train.input", "string_input_producer": "caudal.train.input",
    "range_input_producer": "caudal.train.input", "slice_input_producer": "caudal.train.input",
    "batch": "caudal.train.input", "maybe_batch": "caudal.train.input", "batch_join": "caudal.train.input",
    "maybe_batch_join": "caudal.train.input", "shuffle_batch": "caudal.train.input",
    "maybe_shuffle_batch": "caudal.train.input", "shuffle_batch_join": "caudal.train.input",
    "maybe_shuffle_batch_join": "caudal.train.input",
    "SyncReplicasOptimizer": "caudal.train.sync_replicas_optimizer",  # synchronous between-graph replicas
    # TF 0.12's name of tf.summary.FileWriter (deprecated: it warns once)
    "SummaryWriter": "caudal.train.summary_io",
}
__all__ += sorted(_LAZY)


def __getattr__(name: str) -> object:
    """`tf.train.write_graph` and the checkpoint names load protobuf, so they are imported on first use."""
    if name == "write_graph":
        from caudal.framework.graph_io import write_graph

        globals()["write_graph"] = write_graph
        return write_graph
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'caudal.train' has no attribute {name!r}")
