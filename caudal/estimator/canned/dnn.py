"""`tf.estimator.DNNClassifier` and `DNNRegressor` (TF 1.x's v1 classes): a feed-forward network on the
`input_layer` of the feature columns, with TF's variable names and summaries.

Under the variable scope `dnn`: the input layer (`input_from_feature_columns/input_layer/...`), then per
hidden layer `hiddenlayer_<i>/kernel` (Glorot-uniform) and `bias` (zeros), `activation_fn`, dropout
(`rate=dropout`, training only) and batch normalization (`hiddenlayer_<i>/batchnorm_<i>`, momentum
0.999), and `logits/kernel`, `logits/bias`. Each layer's activations get the summaries
`dnn/<layer>/fraction_of_zero_values` and `dnn/<layer>/activation`. The default optimizer is Adagrad
with learning rate 0.05; slots are checkpointed under TF's names (`_checkpoint_names`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal.estimator.canned import head as head_lib
from caudal.estimator.canned._checkpoint_names import add_saver_with_tf_slot_names
from caudal.estimator.canned.optimizers import get_optimizer_instance
from caudal.estimator.estimator import Estimator
from caudal.estimator.mode_keys import ModeKeys
from caudal.ops.losses_impl import Reduction
from caudal.ops.nn_ops import relu

__all__ = ["DNNClassifier", "DNNRegressor", "dnn_logit_fn_builder"]

_LEARNING_RATE = 0.05


def add_layer_summary(value: Any, tag: str) -> None:
    """The `<tag>/fraction_of_zero_values` scalar and `<tag>/activation` histogram of a layer's output."""
    from caudal.ops.math_composites import zero_fraction
    from caudal.ops.summary_ops import histogram, scalar

    scalar(f"{tag}/fraction_of_zero_values", zero_fraction(value))
    histogram(f"{tag}/activation", value)


def _dense(inputs: Any, units: int, activation: Callable | None) -> Any:
    """A dense layer whose `kernel` and `bias` are made directly in the current variable scope."""
    from caudal.framework import dtypes
    from caudal.init_ops import glorot_uniform_initializer, zeros_initializer
    from caudal.ops.math_ops import matmul
    from caudal.ops.nn_ops import bias_add
    from caudal.variable_scope import get_variable

    input_dim = inputs.get_shape().as_list()[-1]
    if input_dim is None:
        raise ValueError("The last dimension of the inputs to `Dense` should be defined. Found `None`.")
    kernel = get_variable("kernel", [input_dim, units], dtype=dtypes.float32,
                          initializer=glorot_uniform_initializer())
    bias = get_variable("bias", [units], dtype=dtypes.float32, initializer=zeros_initializer())
    outputs = bias_add(matmul(inputs, kernel), bias)
    return activation(outputs) if activation is not None else outputs


def _input_layer(features: dict, feature_columns: Any) -> Any:
    from caudal.feature_column import input_layer
    from caudal.variable_scope import variable_scope

    with variable_scope("input_from_feature_columns"):
        return input_layer(features=features, feature_columns=feature_columns)


def dnn_logit_fn_builder(units: int, hidden_units: Any, feature_columns: Any, activation_fn: Callable,
                         dropout: float | None, input_layer_partitioner: Any = None,
                         batch_norm: bool = False) -> Callable:
    """`tf.estimator.experimental.dnn_logit_fn_builder`: `logit_fn(features, mode)` of the network above,
    to be called inside the variable scope `dnn`."""
    if not isinstance(units, int):
        raise ValueError(f"units must be an int.  Given type: {type(units)}")
    check_no_partitioner(input_layer_partitioner)

    def dnn_logit_fn(features: dict, mode: str) -> Any:
        from caudal.layers.core import dropout as dropout_layer
        from caudal.layers.normalization import batch_normalization
        from caudal.variable_scope import variable_scope

        is_training = mode == ModeKeys.TRAIN
        net = _input_layer(features, feature_columns)
        for layer_id, num_units in enumerate(hidden_units):
            with variable_scope(f"hiddenlayer_{layer_id}") as scope:
                net = _dense(net, num_units, activation_fn)
                if dropout is not None and is_training:
                    net = dropout_layer(net, rate=dropout, training=True)
                if batch_norm:
                    net = batch_normalization(net, momentum=0.999, trainable=True, training=is_training,
                                              name=f"batchnorm_{layer_id}")
            add_layer_summary(net, scope.name)
        with variable_scope("logits") as scope:
            logits = _dense(net, units, None)
        add_layer_summary(logits, scope.name)
        return logits

    return dnn_logit_fn


def check_no_partitioner(partitioner: Any) -> None:
    """caudal's variables are not partitioned: a partitioner (which would change TF's checkpoint) is refused."""
    if partitioner is not None:
        raise NotImplementedError("caudal's pre-made Estimators do not support partitioners "
                                  "(input_layer_partitioner, partitioner).")


def _validate_features(features: Any) -> None:
    if not isinstance(features, dict):
        raise ValueError(f"features should be a dictionary of `Tensor`s. Given type: {type(features)}")


def _dnn_model_fn(features: Any, labels: Any, mode: str, head: Any, hidden_units: Any, feature_columns: Any,
                  optimizer: Any = "Adagrad", activation_fn: Callable = relu, dropout: float | None = None,
                  input_layer_partitioner: Any = None, config: Any = None, batch_norm: bool = False) -> Any:
    from caudal.variable_scope import variable_scope

    optimizer = get_optimizer_instance(optimizer, learning_rate=_LEARNING_RATE)
    _validate_features(features)
    with variable_scope("dnn", values=tuple(features.values())):
        logit_fn = dnn_logit_fn_builder(units=head.logits_dimension, hidden_units=hidden_units,
                                        feature_columns=feature_columns, activation_fn=activation_fn,
                                        dropout=dropout, input_layer_partitioner=input_layer_partitioner,
                                        batch_norm=batch_norm)
        logits = logit_fn(features=features, mode=mode)
        spec = head.create_estimator_spec(features=features, mode=mode, labels=labels, optimizer=optimizer,
                                          logits=logits)
    if mode == ModeKeys.TRAIN:
        add_saver_with_tf_slot_names(optimizer, "t_0/", config)
    return spec


class DNNClassifier(Estimator):
    """`tf.estimator.DNNClassifier(hidden_units, feature_columns, model_dir=None, n_classes=2,
    weight_column=None, label_vocabulary=None, optimizer='Adagrad', activation_fn=tf.nn.relu, dropout=None,
    input_layer_partitioner=None, config=None, warm_start_from=None, loss_reduction=SUM, batch_norm=False)`."""

    def __init__(self, hidden_units: Any, feature_columns: Any, model_dir: str | None = None, n_classes: int = 2,
                 weight_column: Any = None, label_vocabulary: Any = None, optimizer: Any = "Adagrad",
                 activation_fn: Callable = relu, dropout: float | None = None, input_layer_partitioner: Any = None,
                 config: Any = None, warm_start_from: Any = None, loss_reduction: str = Reduction.SUM,
                 batch_norm: bool = False):
        check_no_partitioner(input_layer_partitioner)
        head = head_lib.binary_logistic_or_multi_class_head(n_classes, weight_column, label_vocabulary,
                                                            loss_reduction)

        def _model_fn(features: Any, labels: Any, mode: str, config: Any) -> Any:
            return _dnn_model_fn(features=features, labels=labels, mode=mode, head=head, hidden_units=hidden_units,
                                 feature_columns=tuple(feature_columns or []), optimizer=optimizer,
                                 activation_fn=activation_fn, dropout=dropout,
                                 input_layer_partitioner=input_layer_partitioner, config=config,
                                 batch_norm=batch_norm)

        super().__init__(model_fn=_model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)


class DNNRegressor(Estimator):
    """`tf.estimator.DNNRegressor(hidden_units, feature_columns, model_dir=None, label_dimension=1,
    weight_column=None, optimizer='Adagrad', activation_fn=tf.nn.relu, dropout=None,
    input_layer_partitioner=None, config=None, warm_start_from=None, loss_reduction=SUM, batch_norm=False)`."""

    def __init__(self, hidden_units: Any, feature_columns: Any, model_dir: str | None = None, label_dimension: int = 1,
                 weight_column: Any = None, optimizer: Any = "Adagrad", activation_fn: Callable = relu,
                 dropout: float | None = None, input_layer_partitioner: Any = None, config: Any = None,
                 warm_start_from: Any = None, loss_reduction: str = Reduction.SUM, batch_norm: bool = False):
        check_no_partitioner(input_layer_partitioner)
        head = head_lib.regression_head(label_dimension=label_dimension, weight_column=weight_column,
                                        loss_reduction=loss_reduction)

        def _model_fn(features: Any, labels: Any, mode: str, config: Any) -> Any:
            return _dnn_model_fn(features=features, labels=labels, mode=mode, head=head, hidden_units=hidden_units,
                                 feature_columns=tuple(feature_columns or []), optimizer=optimizer,
                                 activation_fn=activation_fn, dropout=dropout,
                                 input_layer_partitioner=input_layer_partitioner, config=config,
                                 batch_norm=batch_norm)

        super().__init__(model_fn=_model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)
