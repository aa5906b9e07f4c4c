"""`tf.estimator.LinearClassifier` and `LinearRegressor` (TF 1.x's v1 classes): `linear_model` of the
feature columns, with TF's variable names (`linear/linear_model/<column>/weights`,
`linear/linear_model/bias_weights`) and summaries (`linear/bias`, `linear/fraction_of_zero_weights`).

The default optimizer is FTRL with learning rate 0.2 (named 'Ftrl'); with `optimizer=None`, FTRL with
`min(0.2, 1/sqrt(number of columns))`. Slots are checkpointed under TF's names (`_checkpoint_names`).
`LinearSDCA` and partitioners are not supported.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from caudal.estimator.canned import head as head_lib
from caudal.estimator.canned._checkpoint_names import add_saver_with_tf_slot_names
from caudal.estimator.canned.optimizers import get_optimizer_instance
from caudal.estimator.estimator import Estimator
from caudal.estimator.mode_keys import ModeKeys
from caudal.ops.losses_impl import Reduction

__all__ = ["LinearClassifier", "LinearRegressor", "linear_logit_fn_builder"]

_LEARNING_RATE = 0.2


def _default_optimizer(feature_columns: Any) -> Any:
    from caudal.train.ftrl import FtrlOptimizer

    return FtrlOptimizer(learning_rate=min(_LEARNING_RATE, 1.0 / math.sqrt(len(feature_columns))))


def _compute_fraction_of_zero(variables: list) -> Any:
    """The fraction of zeros over all `variables` together (their element counts weighting each)."""
    from caudal.framework import dtypes
    from caudal.framework.graph import name_scope
    from caudal.ops.array_ops import size
    from caudal.ops.control_ops import identity
    from caudal.ops.math_composites import zero_fraction
    from caudal.ops.math_ops import add_n, cast

    with name_scope("zero_fraction"):
        with name_scope("total_size"):
            sizes = [size(v, out_type=dtypes.int64) for v in variables]
            total_size = add_n(sizes)
        with name_scope("total_zero"):
            total_zero = add_n([zero_fraction(v) * cast(s, dtype=dtypes.float32) for v, s in zip(variables, sizes)])
        with name_scope("compute"):
            fraction = total_zero / cast(total_size, dtype=dtypes.float32, name="float32_size")
        return identity(fraction, name="zero_fraction_or_nan")


def linear_logit_fn_builder(units: int, feature_columns: Any, sparse_combiner: str = "sum") -> Callable:
    """`tf.estimator.experimental.linear_logit_fn_builder`: `logit_fn(features)` of `linear_model`, with
    the bias and fraction-of-zero-weights summaries."""

    def linear_logit_fn(features: dict) -> Any:
        from caudal.feature_column import linear_model
        from caudal.ops.summary_ops import histogram, scalar

        cols_to_vars: dict = {}
        logits = linear_model(features=features, feature_columns=feature_columns, units=units,
                              sparse_combiner=sparse_combiner, cols_to_vars=cols_to_vars)
        bias = cols_to_vars.pop("bias")
        variables = [v for column_vars in cols_to_vars.values() for v in column_vars]
        if units > 1:
            histogram("bias", bias[0])
        else:
            scalar("bias", bias[0][0])
        scalar("fraction_of_zero_weights", _compute_fraction_of_zero(variables))
        return logits

    return linear_logit_fn


def _linear_model_fn(features: Any, labels: Any, mode: str, head: Any, feature_columns: Any, optimizer: Any,
                     partitioner: Any, config: Any, sparse_combiner: str = "sum") -> Any:
    from caudal.variable_scope import variable_scope

    if not isinstance(features, dict):
        raise ValueError(f"features should be a dictionary of `Tensor`s. Given type: {type(features)}")
    with variable_scope("linear", values=tuple(features.values())):
        logit_fn = linear_logit_fn_builder(units=head.logits_dimension, feature_columns=feature_columns,
                                           sparse_combiner=sparse_combiner)
        logits = logit_fn(features=features)
        optimizer = get_optimizer_instance(optimizer or _default_optimizer(feature_columns),
                                           learning_rate=_LEARNING_RATE)
        spec = head.create_estimator_spec(features=features, mode=mode, labels=labels, optimizer=optimizer,
                                          logits=logits)
    if mode == ModeKeys.TRAIN:
        add_saver_with_tf_slot_names(optimizer, "part_0/", config)
    return spec


def _check_unsupported(optimizer: Any, partitioner: Any) -> None:
    if type(optimizer).__name__ == "LinearSDCA":
        raise NotImplementedError("caudal's linear Estimators do not support LinearSDCA.")
    from caudal.estimator.canned.dnn import check_no_partitioner

    check_no_partitioner(partitioner)


class LinearClassifier(Estimator):
    """`tf.estimator.LinearClassifier(feature_columns, model_dir=None, n_classes=2, weight_column=None,
    label_vocabulary=None, optimizer='Ftrl', config=None, partitioner=None, warm_start_from=None,
    loss_reduction=SUM, sparse_combiner='sum')`."""

    def __init__(self, feature_columns: Any, model_dir: str | None = None, n_classes: int = 2,
                 weight_column: Any = None, label_vocabulary: Any = None, optimizer: Any = "Ftrl",
                 config: Any = None, partitioner: Any = None, warm_start_from: Any = None,
                 loss_reduction: str = Reduction.SUM, sparse_combiner: str = "sum"):
        _check_unsupported(optimizer, partitioner)
        head = head_lib.binary_logistic_or_multi_class_head(n_classes, weight_column, label_vocabulary,
                                                            loss_reduction)

        def _model_fn(features: Any, labels: Any, mode: str, config: Any) -> Any:
            return _linear_model_fn(features=features, labels=labels, mode=mode, head=head,
                                    feature_columns=tuple(feature_columns or []), optimizer=optimizer,
                                    partitioner=partitioner, config=config, sparse_combiner=sparse_combiner)

        super().__init__(model_fn=_model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)


class LinearRegressor(Estimator):
    """`tf.estimator.LinearRegressor(feature_columns, model_dir=None, label_dimension=1, weight_column=None,
    optimizer='Ftrl', config=None, partitioner=None, warm_start_from=None, loss_reduction=SUM,
    sparse_combiner='sum')`."""

    def __init__(self, feature_columns: Any, model_dir: str | None = None, label_dimension: int = 1,
                 weight_column: Any = None, optimizer: Any = "Ftrl", config: Any = None, partitioner: Any = None,
                 warm_start_from: Any = None, loss_reduction: str = Reduction.SUM, sparse_combiner: str = "sum"):
        _check_unsupported(optimizer, partitioner)
        head = head_lib.regression_head(label_dimension=label_dimension, weight_column=weight_column,
                                        loss_reduction=loss_reduction)

        def _model_fn(features: Any, labels: Any, mode: str, config: Any) -> Any:
            return _linear_model_fn(features=features, labels=labels, mode=mode, head=head,
                                    feature_columns=tuple(feature_columns or []), optimizer=optimizer,
                                    partitioner=partitioner, config=config, sparse_combiner=sparse_combiner)

        super().__init__(model_fn=_model_fn, model_dir=model_dir, config=config, warm_start_from=warm_start_from)
