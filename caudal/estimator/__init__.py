"""`tf.estimator` (TF1): Estimator, EstimatorSpec, RunConfig, train_and_evaluate, the pre-made estimators,
input functions and export helpers.

`import caudal` does not load this package; `tf.estimator` (or `import caudal.estimator`) does.
"""
import importlib

from caudal.estimator import export, inputs
from caudal.estimator.estimator import Estimator
from caudal.estimator.exporter import BestExporter, Exporter, FinalExporter, LatestExporter
from caudal.estimator.mode_keys import ModeKeys
from caudal.estimator.model_fn import EstimatorSpec
from caudal.estimator.run_config import RunConfig
from caudal.estimator.training import EvalSpec, TrainSpec, train_and_evaluate
from caudal.estimator.warm_starting import VocabInfo, WarmStartSettings
from caudal.train.basic_session_run_hooks import (
    CheckpointSaverHook,
    CheckpointSaverListener,
    FeedFnHook,
    FinalOpsHook,
    GlobalStepWaiterHook,
    LoggingTensorHook,
    NanLossDuringTrainingError,
    NanTensorHook,
    SecondOrStepTimer,
    StepCounterHook,
    StopAtStepHook,
    SummarySaverHook,
)
from caudal.train.session_run_hook import SessionRunArgs, SessionRunContext, SessionRunHook, SessionRunValues

# The pre-made estimators use tf.feature_column: loaded on first use.
_CANNED = {
    "BaselineClassifier": "caudal.estimator.canned.baseline",
    "BaselineRegressor": "caudal.estimator.canned.baseline",
    "DNNClassifier": "caudal.estimator.canned.dnn",
    "DNNRegressor": "caudal.estimator.canned.dnn",
    "LinearClassifier": "caudal.estimator.canned.linear",
    "LinearRegressor": "caudal.estimator.canned.linear",
    "DNNLinearCombinedClassifier": "caudal.estimator.canned.dnn_linear_combined",
    "DNNLinearCombinedRegressor": "caudal.estimator.canned.dnn_linear_combined",
    "classifier_parse_example_spec": "caudal.estimator.canned.parsing_utils",
    "regressor_parse_example_spec": "caudal.estimator.canned.parsing_utils",
}
_SUBMODULES = {"experimental": "caudal.estimator.experimental"}

__all__ = ["Estimator", "EstimatorSpec", "ModeKeys", "RunConfig", "TrainSpec", "EvalSpec", "train_and_evaluate",
           "WarmStartSettings", "VocabInfo", "Exporter", "LatestExporter", "FinalExporter", "BestExporter", "export",
           "inputs", "CheckpointSaverHook", "CheckpointSaverListener", "FeedFnHook", "FinalOpsHook",
           "GlobalStepWaiterHook", "LoggingTensorHook", "NanLossDuringTrainingError", "NanTensorHook",
           "SecondOrStepTimer", "StepCounterHook", "StopAtStepHook", "SummarySaverHook", "SessionRunArgs",
           "SessionRunContext", "SessionRunHook", "SessionRunValues", "experimental"] + sorted(_CANNED)


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        value = importlib.import_module(_SUBMODULES[name])
        globals()[name] = value
        return value
    module = _CANNED.get(name)
    if module is None:
        raise AttributeError(f"module 'caudal.estimator' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
