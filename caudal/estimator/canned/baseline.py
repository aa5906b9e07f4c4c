"""`tf.estimator.BaselineClassifier` and `BaselineRegressor` (TF 1.x's v1 classes): logits that ignore
the features, one trained bias `baseline/bias` per output (so a classifier learns the label distribution,
a regressor the label mean). The default optimizer is FTRL with learning rate 0.3.
"""
from __future__ import annotations

from typing import Any

from caudal.estimator.canned import head as head_lib
from caudal.estimator.canned.optimizers import get_optimizer_instance
from caudal.estimator.estimator import Estimator
from caudal.ops.losses_impl import Reduction

__all__ = ["BaselineClassifier", "BaselineRegressor"]

_LEARNING_RATE = 0.3


def _weight_column_key(weight_column: Any) -> str | None:
    from caudal.feature_column._dense_columns import NumericColumn

    if weight_column is None or isinstance(weight_column, str):
        return weight_column
    if not isinstance(weight_column, NumericColumn):
        raise TypeError(f"Weight column must be either a string or _NumericColumn. Given type: {type(weight_column)}.")
    return weight_column.key


def _baseline_logits(features: dict, num_outputs: int, weight_column: Any) -> Any:
    """`bias * ones([batch_size, num_outputs])`, the batch size taken from the features (checked equal)."""
    import numpy as np

    from caudal.framework.graph import get_default_graph
    from caudal.init_ops import zeros_initializer
    from caudal.ops.array_ops import shape
    from caudal.ops.check_ops import _binary_assert
    from caudal.ops.comparison_ops import equal
    from caudal.ops.constant_ops import ones
    from caudal.ops.math_ops import multiply
    from caudal.variable_scope import get_variable, variable_scope

    weight_key = _weight_column_key(weight_column)
    size_checks = []
    batch_size = None
    for key, feature in features.items():
        if key == weight_key:
            continue
        first_dim = shape(feature)[0]
        if batch_size is None:
            batch_size = first_dim
        else:
            size_checks.append(_binary_assert("==", "assert_equal", equal, np.equal, batch_size, first_dim, None,
                                              None, None, None))
    with get_default_graph().control_dependencies(size_checks):
        with variable_scope("baseline"):
            bias = get_variable("bias", shape=[num_outputs], initializer=zeros_initializer())
            return multiply(bias, ones([batch_size, num_outputs]))


def _baseline_model_fn(features: Any, labels: Any, mode: str, head: Any, optimizer: Any,
                       weight_column: Any = None, config: Any = None) -> Any:
    from caudal.train.training_util import get_global_step

    logits = _baseline_logits(features, head.logits_dimension, weight_column)

    def train_op_fn(loss: Any) -> Any:
        opt = get_optimizer_instance(optimizer, learning_rate=_LEARNING_RATE)
        return opt.minimize(loss, global_step=get_global_step())

    return head.create_estimator_spec(features=features, mode=mode, logits=logits, labels=labels,
                                      train_op_fn=train_op_fn)


class BaselineClassifier(Estimator):
    """`tf.estimator.BaselineClassifier(model_dir=None, n_classes=2, weight_column=None, label_vocabulary=None,
    optimizer='Ftrl', config=None, loss_reduction=SUM)`."""

    def __init__(self, model_dir: str | None = None, n_classes: int = 2, weight_column: Any = None,
                 label_vocabulary: Any = None, optimizer: Any = "Ftrl", config: Any = None,
                 loss_reduction: str = Reduction.SUM):
        head = head_lib.binary_logistic_or_multi_class_head(n_classes, weight_column, label_vocabulary,
                                                            loss_reduction)

        def _model_fn(features: Any, labels: Any, mode: str, config: Any) -> Any:
            return _baseline_model_fn(features=features, labels=labels, mode=mode, head=head, optimizer=optimizer,
                                      weight_column=weight_column, config=config)

        super().__init__(model_fn=_model_fn, model_dir=model_dir, config=config)


class BaselineRegressor(Estimator):
    """`tf.estimator.BaselineRegressor(model_dir=None, label_dimension=1, weight_column=None, optimizer='Ftrl',
    config=None, loss_reduction=SUM)`."""

    def __init__(self, model_dir: str | None = None, label_dimension: int = 1, weight_column: Any = None,
                 optimizer: Any = "Ftrl", config: Any = None, loss_reduction: str = Reduction.SUM):
        head = head_lib.regression_head(label_dimension=label_dimension, weight_column=weight_column,
                                        loss_reduction=loss_reduction)

        def _model_fn(features: Any, labels: Any, mode: str, config: Any) -> Any:
            return _baseline_model_fn(features=features, labels=labels, mode=mode, head=head, optimizer=optimizer,
                                      weight_column=weight_column, config=config)

        super().__init__(model_fn=_model_fn, model_dir=model_dir, config=config)
