"""`tf.estimator.DNNLinearCombinedClassifier` and `DNNLinearCombinedRegressor` (TF 1.x's v1 classes):
the sum of a DNN's logits (variable scope `dnn`, as `DNNClassifier`) and a linear model's (scope `linear`,
as `LinearClassifier`), each part trained by its own optimizer on its own variables: Adagrad with
learning rate 0.001 and FTRL with `min(0.005, 1/sqrt(number of linear columns))` by default. The global
step is incremented once per step after both updates. The linear logits get the summaries
`linear/linear/fraction_of_zero_values` and `linear/linear/activation`.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from caudal.estimator.canned import head as head_lib
from caudal.estimator.canned.dnn import add_layer_summary, check_no_partitioner, dnn_logit_fn_builder
from caudal.estimator.canned.linear import linear_logit_fn_builder
from caudal.estimator.canned.optimizers import get_optimizer_instance
from caudal.estimator.estimator import Estimator
from caudal.ops.losses_impl import Reduction
from caudal.ops.nn_ops import relu

__all__ = ["DNNLinearCombinedClassifier", "DNNLinearCombinedRegressor"]

_DNN_LEARNING_RATE = 0.001
_LINEAR_LEARNING_RATE = 0.005


def _linear_learning_rate(num_linear_feature_columns: int) -> float:
    return min(_LINEAR_LEARNING_RATE, 1.0 / math.sqrt(num_linear_feature_columns))


def _validate_feature_columns(linear_feature_columns: Any, dnn_feature_columns: Any) -> list:
    feature_columns = list(linear_feature_columns or []) + list(dnn_feature_columns or [])
    if not feature_columns:
        raise ValueError("Either linear_feature_columns or dnn_feature_columns must be defined.")
    return feature_columns


def _dnn_linear_combined_model_fn(features: Any, labels: Any, mode: str, head: Any,
                                  linear_feature_columns: Any = None, linear_optimizer: Any = "Ftrl",
                                  dnn_feature_columns: Any = None, dnn_optimizer: Any = "Adagrad",
                                  dnn_hidden_units: Any = None, dnn_activation_fn: Callable = relu,
                                  dnn_dropout: float | None = None, input_layer_partitioner: Any = None,
                                  config: Any = None, batch_norm: bool = False,
                                  linear_sparse_combiner: str = "sum") -> Any:
    from caudal.framework.graph import GraphKeys, get_default_graph
    from caudal.ops.control_ops import group
    from caudal.train.training_util import get_global_step
    from caudal.variable_scope import variable_scope
    from caudal.variables import assign_add

    if not isinstance(features, dict):
        raise ValueError(f"features should be a dictionary of `Tensor`s. Given type: {type(features)}")
    if not linear_feature_columns and not dnn_feature_columns:
        raise ValueError("Either linear_feature_columns or dnn_feature_columns must be defined.")
    graph = get_default_graph()
    dnn_logits = linear_logits = None
    if dnn_feature_columns:
        dnn_optimizer = get_optimizer_instance(dnn_optimizer, learning_rate=_DNN_LEARNING_RATE)
        if not dnn_hidden_units:
            raise ValueError("dnn_hidden_units must be defined when dnn_feature_columns is specified.")
        with variable_scope("dnn", values=tuple(features.values())) as scope:
            dnn_scope = scope.name
            logit_fn = dnn_logit_fn_builder(units=head.logits_dimension, hidden_units=dnn_hidden_units,
                                            feature_columns=dnn_feature_columns, activation_fn=dnn_activation_fn,
                                            dropout=dnn_dropout, input_layer_partitioner=input_layer_partitioner,
                                            batch_norm=batch_norm)
            dnn_logits = logit_fn(features=features, mode=mode)
    if linear_feature_columns:
        linear_optimizer = get_optimizer_instance(linear_optimizer,
                                                  learning_rate=_linear_learning_rate(len(linear_feature_columns)))
        with variable_scope("linear", values=tuple(features.values())) as scope:
            linear_scope = scope.name
            logit_fn = linear_logit_fn_builder(units=head.logits_dimension, feature_columns=linear_feature_columns,
                                               sparse_combiner=linear_sparse_combiner)
            linear_logits = logit_fn(features=features)
            add_layer_summary(linear_logits, scope.name)
    if dnn_logits is not None and linear_logits is not None:
        logits = dnn_logits + linear_logits
    else:
        logits = dnn_logits if dnn_logits is not None else linear_logits

    def _train_op_fn(loss: Any) -> Any:
        train_ops = []
        global_step = get_global_step()
        if dnn_logits is not None:
            train_ops.append(dnn_optimizer.minimize(
                loss, var_list=graph.get_collection(GraphKeys.TRAINABLE_VARIABLES, scope=dnn_scope)))
        if linear_logits is not None:
            train_ops.append(linear_optimizer.minimize(
                loss, var_list=graph.get_collection(GraphKeys.TRAINABLE_VARIABLES, scope=linear_scope)))
        train_op = group(*train_ops)
        with graph.control_dependencies([train_op]):
            return assign_add(global_step, 1).op

    return head.create_estimator_spec(features=features, mode=mode, labels=labels, train_op_fn=_train_op_fn,
                                      logits=logits)


class DNNLinearCombinedClassifier(Estimator):
    """`tf.estimator.DNNLinearCombinedClassifier(model_dir=None, linear_feature_columns=None,
    linear_optimizer='Ftrl', dnn_feature_columns=None, dnn_optimizer='Adagrad', dnn_hidden_units=None,
    dnn_activation_fn=tf.nn.relu, dnn_dropout=None, n_classes=2, weight_column=None, label_vocabulary=None,
    input_layer_partitioner=None, config=None, warm_start_from=None, loss_reduction=SUM, batch_norm=False,
    linear_sparse_combiner='sum')`."""

    def __init__(self, model_dir: str | None = None, linear_feature_columns: Any = None,
                 linear_optimizer: Any = "Ftrl", dnn_feature_columns: Any = None, dnn_optimizer: Any = "Adagrad",
                 dnn_hidden_units: Any = None, dnn_activation_fn: Callable = relu, dnn_dropout: float | None = None,
                 n_classes: int = 2, weight_column: Any = None, label_vocabulary: Any = None,
                 input_layer_partitioner: Any = None, config: Any = None, warm_start_from: Any = None,
                 loss_reduction: str = Reduction.SUM, batch_norm: bool = False,
                 linear_sparse_combiner: str = "sum"):
        self._feature_columns = _validate_feature_columns(linear_feature_columns, dnn_feature_columns)
        check_no_partitioner(input_layer_partitioner)
        head = head_lib.binary_logistic_or_multi_class_head(n_classes, weight_column, label_vocabulary,
                                                            loss_reduction)

        def _model_fn(features: Any, labels: Any, mode: str, config: Any) -> Any:
            return _dnn_linear_combined_model_fn(
                features=features, labels=labels, mode=mode, head=head,
                linear_feature_columns=linear_feature_columns, linear_optimizer=linear_optimizer,
                dnn_feature_columns=dnn_feature_columns, dnn_optimizer=dnn_optimizer,
                dnn_hidden_units=dnn_hidden_units, dnn_activation_fn=dnn_activation_fn, dnn_dropout=dnn_dropout,
                input_layer_partitioner=input_layer_partitioner, config=config, batch_norm=batch_norm,
                linear_sparse_combiner=linear_sparse_combiner)

        super().__init__(model_fn=_model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)


class DNNLinearCombinedRegressor(Estimator):
    """`tf.estimator.DNNLinearCombinedRegressor(model_dir=None, linear_feature_columns=None,
    linear_optimizer='Ftrl', dnn_feature_columns=None, dnn_optimizer='Adagrad', dnn_hidden_units=None,
    dnn_activation_fn=tf.nn.relu, dnn_dropout=None, label_dimension=1, weight_column=None,
    input_layer_partitioner=None, config=None, warm_start_from=None, loss_reduction=SUM, batch_norm=False,
    linear_sparse_combiner='sum')`."""

    def __init__(self, model_dir: str | None = None, linear_feature_columns: Any = None,
                 linear_optimizer: Any = "Ftrl", dnn_feature_columns: Any = None, dnn_optimizer: Any = "Adagrad",
                 dnn_hidden_units: Any = None, dnn_activation_fn: Callable = relu, dnn_dropout: float | None = None,
                 label_dimension: int = 1, weight_column: Any = None, input_layer_partitioner: Any = None,
                 config: Any = None, warm_start_from: Any = None, loss_reduction: str = Reduction.SUM,
                 batch_norm: bool = False, linear_sparse_combiner: str = "sum"):
        self._feature_columns = _validate_feature_columns(linear_feature_columns, dnn_feature_columns)
        check_no_partitioner(input_layer_partitioner)
        head = head_lib.regression_head(label_dimension=label_dimension, weight_column=weight_column,
                                        loss_reduction=loss_reduction)

        def _model_fn(features: Any, labels: Any, mode: str, config: Any) -> Any:
            return _dnn_linear_combined_model_fn(
                features=features, labels=labels, mode=mode, head=head,
                linear_feature_columns=linear_feature_columns, linear_optimizer=linear_optimizer,
                dnn_feature_columns=dnn_feature_columns, dnn_optimizer=dnn_optimizer,
                dnn_hidden_units=dnn_hidden_units, dnn_activation_fn=dnn_activation_fn, dnn_dropout=dnn_dropout,
                input_layer_partitioner=input_layer_partitioner, config=config, batch_norm=batch_norm,
                linear_sparse_combiner=linear_sparse_combiner)

        super().__init__(model_fn=_model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)
