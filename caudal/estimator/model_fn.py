"""`tf.estimator.EstimatorSpec`: what a `model_fn` returns, validated as TF validates it.

By mode, TRAIN needs `loss` and `train_op`, EVAL needs `loss`, PREDICT
needs `predictions` (and gets a default `PredictOutput` export output).
A loss of shape `[1]` is reshaped to a scalar; every tensor must come from
the default graph (the graph the Estimator built for this call).
"""
from __future__ import annotations

import collections
import inspect
import logging
from typing import Any

from caudal.estimator.mode_keys import ModeKeys
from caudal.framework.graph import Operation, get_default_graph
from caudal.framework.tensor import Tensor

__all__ = ["EstimatorSpec", "LOSS_METRIC_KEY", "AVERAGE_LOSS_METRIC_KEY", "fn_args", "verify_model_fn_args",
           "call_logit_fn"]

_logger = logging.getLogger("caudal")
LOSS_METRIC_KEY = "loss"
AVERAGE_LOSS_METRIC_KEY = "average_loss"
_VALID_MODEL_FN_ARGS = {"features", "labels", "mode", "params", "self", "config"}
_DEFAULT_GRAPH_ERROR = ('{0} with "{1}" must be from the default graph. Possible causes of this error include: \n\n'
                        "1) {0} was created outside the context of the default graph.\n\n"
                        "2) The object passed through to EstimatorSpec was not created in the most recent call to "
                        '"model_fn".')


def fn_args(fn: Any) -> tuple[str, ...]:
    """The names of `fn`'s parameters (a bound method's without `self`; a callable object's `__call__`'s)."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return ()
    return tuple(name for name, p in parameters.items()
                 if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD))


def _check_is_tensor(x: Any, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be Tensor, given: {x}")
    return x


def _validate_train_op(train_op: Any, mode: str) -> Any:
    from caudal.variables import Variable

    if train_op is None:
        if mode == ModeKeys.TRAIN:
            raise ValueError("Missing train_op.")
        return None
    if not isinstance(train_op, (Operation, Tensor, Variable)):
        raise TypeError(f"train_op must be Operation or Tensor, given: {train_op}")
    if isinstance(train_op, Variable):
        train_op = train_op.op
    if train_op.graph is not get_default_graph():
        raise ValueError(_DEFAULT_GRAPH_ERROR.format("train_op", train_op.name))
    return train_op


def _validate_loss(loss: Any, mode: str) -> Any:
    from caudal.framework.tensor_shape import TensorShape
    from caudal.ops.array_ops import reshape

    if loss is None:
        if mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
            raise ValueError("Missing loss.")
        return None
    loss = _check_is_tensor(loss, "loss")
    shape = loss.get_shape()
    if shape.num_elements() not in (None, 1):
        raise ValueError(f"Loss must be scalar, given: {loss}")
    if not shape.is_compatible_with(TensorShape([])):
        loss = reshape(loss, [])
    if loss.graph is not get_default_graph():
        raise ValueError(_DEFAULT_GRAPH_ERROR.format("loss", loss.name))
    return loss


def _validate_predictions(predictions: Any, mode: str) -> Any:
    if predictions is None:
        if mode == ModeKeys.PREDICT:
            raise ValueError("Missing predictions.")
        return {}
    graph = get_default_graph()
    if isinstance(predictions, dict):
        predictions = {k: _check_is_tensor(v, f"predictions[{k}]") for k, v in predictions.items()}
        for key, value in predictions.items():
            if value.graph is not graph:
                raise ValueError(_DEFAULT_GRAPH_ERROR.format("prediction values", f"{key}: {value.name}"))
        return predictions
    predictions = _check_is_tensor(predictions, "predictions")
    if predictions.graph is not graph:
        raise ValueError(_DEFAULT_GRAPH_ERROR.format("prediction values", predictions.name))
    return predictions


def _validate_hooks(hooks: Any) -> tuple:
    from caudal.train.session_run_hook import SessionRunHook

    hooks = tuple(hooks or [])
    for hook in hooks:
        if not isinstance(hook, SessionRunHook):
            raise TypeError(f"All hooks must be SessionRunHook instances, given: {hook}")
    return hooks


def _validate_eval_metric_ops(eval_metric_ops: Any) -> dict:
    if eval_metric_ops is None:
        return {}
    if not isinstance(eval_metric_ops, dict):
        raise TypeError(f"eval_metric_ops must be a dict, given: {eval_metric_ops}")
    for key, value in eval_metric_ops.items():
        if not isinstance(value, tuple) or len(value) != 2:
            raise TypeError(f"Values of eval_metric_ops must be (metric_value, update_op) tuples, given: {value} for "
                            f"key: {key}")
    graph = get_default_graph()
    for key, value in eval_metric_ops.items():
        for part in value:
            if getattr(part, "graph", graph) is not graph:
                raise ValueError(_DEFAULT_GRAPH_ERROR.format("eval_metric_ops", f"{key}: {part.name}"))
    return eval_metric_ops


def _validate_scaffold(scaffold: Any) -> Any:
    from caudal.train.scaffold import Scaffold

    scaffold = scaffold or Scaffold()
    if not isinstance(scaffold, Scaffold):
        raise TypeError(f"scaffold must be tf.train.Scaffold. Given: {scaffold}")
    return scaffold


class EstimatorSpec(collections.namedtuple("EstimatorSpec", [
        "mode", "predictions", "loss", "train_op", "eval_metric_ops", "export_outputs", "training_chief_hooks",
        "training_hooks", "scaffold", "evaluation_hooks", "prediction_hooks"])):
    """`tf.estimator.EstimatorSpec(mode, predictions=None, loss=None, train_op=None, eval_metric_ops=None,
    export_outputs=None, training_chief_hooks=None, training_hooks=None, scaffold=None, evaluation_hooks=None,
    prediction_hooks=None)`, validated (see the module docstring); hooks become tuples, a missing scaffold a
    default `tf.train.Scaffold()`."""

    def __new__(cls, mode: str, predictions: Any = None, loss: Any = None, train_op: Any = None,
                eval_metric_ops: Any = None, export_outputs: Any = None, training_chief_hooks: Any = None,
                training_hooks: Any = None, scaffold: Any = None, evaluation_hooks: Any = None,
                prediction_hooks: Any = None) -> EstimatorSpec:
        from caudal.estimator.export.export import get_export_outputs

        train_op = _validate_train_op(train_op, mode)
        loss = _validate_loss(loss, mode)
        predictions = _validate_predictions(predictions, mode)
        if mode == ModeKeys.PREDICT:
            export_outputs = get_export_outputs(export_outputs, predictions)
        return super().__new__(
            cls, mode=mode, predictions=predictions, loss=loss, train_op=train_op,
            eval_metric_ops=_validate_eval_metric_ops(eval_metric_ops), export_outputs=export_outputs,
            training_chief_hooks=_validate_hooks(training_chief_hooks), training_hooks=_validate_hooks(training_hooks),
            scaffold=_validate_scaffold(scaffold), evaluation_hooks=_validate_hooks(evaluation_hooks),
            prediction_hooks=_validate_hooks(prediction_hooks))

    def _replace(self, **kwargs: Any) -> EstimatorSpec:
        """A new, validated spec with some fields replaced; the mode cannot change."""
        if "mode" in kwargs and self.mode != kwargs["mode"]:
            raise ValueError("mode of EstimatorSpec cannot be changed.")
        fields = {name: kwargs.pop(name, value) for name, value in zip(self._fields, self)}
        return EstimatorSpec(**fields)


def verify_model_fn_args(model_fn: Any, params: Any) -> None:
    """TF's checks of a model_fn's parameters: it takes `features`, takes `params` when params are given,
    and nothing outside features/labels/mode/params/config."""
    args = set(fn_args(model_fn))
    if "features" not in args:
        raise ValueError(f"model_fn ({model_fn}) must include features argument.")
    if params is not None and "params" not in args:
        raise ValueError(f"model_fn ({model_fn}) does not include params argument, but params ({params}) is passed "
                         "to Estimator.")
    if params is None and "params" in args:
        _logger.warning("Estimator's model_fn (%s) includes params argument, but params are not passed to "
                        "Estimator.", model_fn)
    non_valid_args = list(args - _VALID_MODEL_FN_ARGS)
    if non_valid_args:
        raise ValueError(f"model_fn ({model_fn}) has following not expected args: {non_valid_args}")


def call_logit_fn(logit_fn: Any, features: Any, mode: str, params: Any, config: Any) -> Any:
    """`tf.estimator.experimental.call_logit_fn`: calls `logit_fn` with the arguments it takes; it must return
    a Tensor or a dict of str to Tensor."""
    names = fn_args(logit_fn)
    kwargs = {name: value for name, value in (("mode", mode), ("params", params), ("config", config))
              if name in names}
    result = logit_fn(features=features, **kwargs)
    valid_dict = isinstance(result, dict) and all(isinstance(k, str) and isinstance(v, Tensor)
                                                  for k, v in result.items())
    if not (valid_dict or isinstance(result, Tensor)):
        raise ValueError("logit_fn should return a Tensor or a dictionary mapping strings to Tensors.  logit_fn "
                         f"returned: {result}")
    return result
