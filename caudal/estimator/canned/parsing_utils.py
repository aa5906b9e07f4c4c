"""`tf.estimator.classifier_parse_example_spec` and `regressor_parse_example_spec`: the parsing spec of
the feature columns plus the label (and weight) features."""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes

__all__ = ["classifier_parse_example_spec", "regressor_parse_example_spec"]


def _add_label_and_weight(parsing_spec: dict, label_key: str, label_spec: Any, weight_column: Any) -> dict:
    from caudal.feature_column._dense_columns import NumericColumn, numeric_column

    if label_key in parsing_spec:
        raise ValueError(f"label should not be used as feature. label_key: {label_key}, features: "
                         f"{parsing_spec.keys()}")
    parsing_spec[label_key] = label_spec
    if weight_column is None:
        return parsing_spec
    if isinstance(weight_column, str):
        weight_column = numeric_column(weight_column)
    if not isinstance(weight_column, NumericColumn):
        raise ValueError("weight_column should be an instance of tf.feature_column.numeric_column. Given type: "
                         f"{type(weight_column)} value: {weight_column}")
    if weight_column.key in parsing_spec:
        raise ValueError(f"weight_column should not be used as feature. weight_column: {weight_column.key}, "
                         f"features: {parsing_spec.keys()}")
    parsing_spec.update(weight_column._parse_example_spec)
    return parsing_spec


def classifier_parse_example_spec(feature_columns: Any, label_key: str, label_dtype: Any = dtypes.int64,
                                  label_default: Any = None, weight_column: Any = None) -> dict:
    """The columns' parsing spec with the label as `FixedLenFeature((1,), label_dtype, label_default)`."""
    from caudal.feature_column import make_parse_example_spec
    from caudal.ops.parsing_ops import FixedLenFeature

    return _add_label_and_weight(make_parse_example_spec(feature_columns), label_key,
                                 FixedLenFeature((1,), label_dtype, label_default), weight_column)


def regressor_parse_example_spec(feature_columns: Any, label_key: str, label_dtype: Any = dtypes.float32,
                                 label_default: Any = None, label_dimension: int = 1,
                                 weight_column: Any = None) -> dict:
    """The columns' parsing spec with the label as `FixedLenFeature((label_dimension,), label_dtype, ...)`."""
    from caudal.feature_column import make_parse_example_spec
    from caudal.ops.parsing_ops import FixedLenFeature

    return _add_label_and_weight(make_parse_example_spec(feature_columns), label_key,
                                 FixedLenFeature((label_dimension,), label_dtype, label_default), weight_column)
