"""`input_layer`, `linear_model` and `make_parse_example_spec` of TF 2.21's
`tf.compat.v1.feature_column`, with TF's variable names, so TensorFlow checkpoints restore:

- `input_layer`: in a variable scope `input_layer` (made unique), each dense column, sorted by
  name, in its own scope (its name, or a shared embedding's collection name) gives
  [batch, num_elements]; the outputs are concatenated. Embeddings live in
  `input_layer/<column>/embedding_weights`;
- `linear_model`: a weighted sum per column, sorted by name: dense columns times
  `linear_model/<column>/weights` [num_elements, units], categorical ones through
  `safe_embedding_lookup_sparse` of `linear_model/<column>/weights` [num_buckets, units] with
  `sparse_combiner`; summed (AddN) with the bias `linear_model/bias_weights` [units]. All weights
  start at zero. As TF's keras-style layers do, the column names are made unique in the caller's
  variable scope (a second model in the same scope gets `linear_model_1/a_1/weights`), and the
  ops sit under `<unique linear_model>/linear_model/`;
- the variables join GLOBAL_VARIABLES, MODEL_VARIABLES, TRAINABLE_VARIABLES when trainable,
  and `weight_collections`.
"""
from __future__ import annotations

from typing import Any

from caudal.feature_column._base import (
    _CategoricalColumn,
    _DenseColumn,
    _FeatureColumn,
    _LazyBuilder,
    _normalize_feature_columns,
    _shape_of,
    _verify_static_batch_size_equality,
)
from caudal.framework.graph import GraphKeys, get_default_graph
from caudal.framework.tensor import Tensor

__all__ = ["input_layer", "linear_model", "make_parse_example_spec"]


def _weight_collections(weight_collections: Any) -> list:
    collections = list(weight_collections or [])
    for key in (GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES):
        if key not in collections:
            collections.append(key)
    return collections


def _flatten_to_batch(tensor: Tensor, num_elements: int) -> Tensor:
    from caudal.ops.array_ops import reshape, shape

    return reshape(tensor, shape=(shape(tensor)[0], num_elements))


def input_layer(features: Any, feature_columns: Any, weight_collections: Any = None, trainable: bool = True,
                cols_to_vars: dict | None = None, cols_to_output_tensors: dict | None = None) -> Tensor:
    """`tf.feature_column.input_layer`: the dense [batch, sum of column sizes] float32 input of a
    model from `features` ({key: Tensor or SparseTensor}) and dense columns."""
    from caudal.ops.array_ops import concat
    from caudal.variable_scope import get_variable_scope, variable_scope

    feature_columns = _normalize_feature_columns(feature_columns)
    for column in feature_columns:
        if not isinstance(column, _DenseColumn):
            raise ValueError("Items of feature_columns must be a _DenseColumn. You can wrap a categorical column with "
                             f"an embedding_column or indicator_column. Given: {column}")
    collections = _weight_collections(weight_collections)
    graph = get_default_graph()
    with variable_scope(None, default_name="input_layer", values=list(features.values())):
        builder = _LazyBuilder(features)
        outputs, ordered = [], []
        for column in sorted(feature_columns, key=lambda c: c.name):
            ordered.append(column)
            with variable_scope(None, default_name=column._var_scope_name):
                tensor = column._get_dense_tensor(builder, weight_collections=collections, trainable=trainable)
                output = _flatten_to_batch(tensor, column._variable_shape.num_elements())
                outputs.append(output)
                if cols_to_vars is not None:
                    cols_to_vars[column] = graph.get_collection(GraphKeys.GLOBAL_VARIABLES,
                                                                scope=get_variable_scope().name)
                if cols_to_output_tensors is not None:
                    cols_to_output_tensors[column] = output
        _verify_static_batch_size_equality(outputs, ordered)
        if len(outputs) == 1:  # TF's concat of one tensor: an Identity in a `concat` scope
            from caudal.ops.constant_ops import constant
            from caudal.ops.control_ops import identity

            with graph.name_scope("concat"):
                constant(1, name="concat_dim")
                return identity(outputs[0], name="concat")
        return concat(outputs, 1)


def _strip_leading_scopes(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _weighted_sum(column: Any, builder: _LazyBuilder, sparse_combiner: str, weight: Any,
                  collections: list, trainable: bool) -> Tensor:
    """One column's contribution: dense input times `weight`, or a lookup of its ids in `weight`."""
    from caudal.ops.embedding_ops import safe_embedding_lookup_sparse
    from caudal.ops.math_ops import matmul
    from caudal.ops.sparse_rows_ops import sparse_reshape

    if isinstance(column, _CategoricalColumn):
        pair = column._get_sparse_tensors(builder, weight_collections=collections, trainable=trainable)
        ids = sparse_reshape(pair.id_tensor, [_shape_of(pair.id_tensor)[0], -1])
        weights = pair.weight_tensor
        if weights is not None:
            weights = sparse_reshape(weights, [_shape_of(weights)[0], -1])
        return safe_embedding_lookup_sparse(weight, ids, sparse_weights=weights, combiner=sparse_combiner,
                                            name="weighted_sum")
    tensor = column._get_dense_tensor(builder, weight_collections=collections, trainable=trainable)
    tensor = _flatten_to_batch(tensor, column._variable_shape.num_elements())
    return matmul(tensor, weight, name="weighted_sum")


def linear_model(features: Any, feature_columns: Any, units: int = 1, sparse_combiner: str = "sum",
                 weight_collections: Any = None, trainable: bool = True, cols_to_vars: dict | None = None) -> Tensor:
    """`tf.feature_column.linear_model`: [batch, units] predictions `sum of weighted columns + bias`,
    categorical columns counted as indicators (combined by `sparse_combiner`)."""
    from caudal.init_ops import zeros_initializer
    from caudal.ops.math_ops import add_n
    from caudal.ops.nn_ops import bias_add
    from caudal.variable_scope import get_variable, variable_scope

    graph = get_default_graph()
    with variable_scope(None, "linear_model") as scope:
        model_name = _strip_leading_scopes(scope.name)
    feature_columns = _normalize_feature_columns(feature_columns)
    collections = _weight_collections(weight_collections)
    layer_names = {}
    for column in sorted(feature_columns, key=lambda c: c.name):
        with variable_scope(None, default_name=column._var_scope_name) as scope:
            layer_names[column] = _strip_leading_scopes(scope.name)
    found: dict = {}
    with graph.name_scope(model_name), variable_scope(model_name):
        for column in feature_columns:
            if not isinstance(column, (_DenseColumn, _CategoricalColumn)):
                raise ValueError("Items of feature_columns must be either a _DenseColumn or _CategoricalColumn. "
                                 f"Given: {column}")
        builder = _LazyBuilder(features)
        sums, ordered = [], []
        for column in sorted(feature_columns, key=lambda c: layer_names[c]):
            ordered.append(column)
            with variable_scope(layer_names[column]) as column_scope:
                if isinstance(column, _CategoricalColumn):
                    shape: Any = (column._num_buckets, units)
                else:
                    shape = [column._variable_shape.num_elements(), units]
                weight = get_variable("weights", shape=shape, initializer=zeros_initializer(), trainable=trainable,
                                      collections=collections)
                sums.append(_weighted_sum(column, builder, sparse_combiner, weight, collections, trainable))
                found[column] = graph.get_collection(GraphKeys.GLOBAL_VARIABLES, scope=column_scope.name)
        _verify_static_batch_size_equality(sums, ordered)
        no_bias = add_n(sums, name="weighted_sum_no_bias")
        bias = get_variable("bias_weights", shape=[units], initializer=zeros_initializer(), trainable=trainable,
                            collections=collections)
        predictions = bias_add(no_bias, bias, name="weighted_sum")
        found["bias"] = [bias]
    if cols_to_vars is not None:
        cols_to_vars.update(found)
    return predictions


def make_parse_example_spec(feature_columns: Any) -> dict:
    """`tf.feature_column.make_parse_example_spec`: {feature key: FixedLenFeature or VarLenFeature}
    of every column's inputs, for `tf.parse_example`; one key with two specs is an error."""
    result: dict = {}
    for column in feature_columns:
        if not isinstance(column, _FeatureColumn):
            raise ValueError(f"All feature_columns must be _FeatureColumn instances. Given: {column}")
        config = column._parse_example_spec
        for key, value in config.items():
            if key in result and value != result[key]:
                raise ValueError(f"feature_columns contain different parse_spec for key {key}. Given {value} and "
                                 f"{result[key]}")
        result.update(config)
    return result
