"""The dense feature columns of TF 2.21's `tf.compat.v1.feature_column`:

- `numeric_column`: the feature cast to float32 (after `normalizer_fn`), `shape` per example;
- `bucketized_column`: the bucket of each value (TF's Bucketize) as one-hot floats, or as
  categorical ids `bucket + (len(boundaries) + 1) * position` for linear models and crosses;
- `indicator_column`: a categorical column as a multi-hot vector (weights summed when weighted);
- `embedding_column`: a categorical column through an `embedding_weights` variable
  [num_buckets, dimension] (truncated normal with stddev 1/sqrt(dimension) by default) and
  `safe_embedding_lookup_sparse` with its combiner;
- `shared_embedding_columns`: several categorical columns sharing one such variable, found
  through the graph collection named `shared_embedding_collection_name`.
"""
from __future__ import annotations

import collections
import math
from typing import Any

import numpy as np

from caudal.feature_column._base import (
    IdWeightPair,
    _assert_key_is_string,
    _CategoricalColumn,
    _check_default_value,
    _check_shape,
    _DenseColumn,
    _LazyBuilder,
)
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import GraphKeys, get_default_graph
from caudal.framework.sparse_tensor import SparseTensor
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, dimension_value

__all__ = ["numeric_column", "bucketized_column", "indicator_column", "embedding_column",
           "shared_embedding_columns", "NumericColumn", "BucketizedColumn", "IndicatorColumn", "EmbeddingColumn",
           "_SharedEmbeddingColumn"]


# --------------------------------------------------------------------- numeric
class NumericColumn(_DenseColumn, collections.namedtuple(
        "NumericColumn", ("key", "shape", "default_value", "dtype", "normalizer_fn"))):
    """`numeric_column`'s column: a FixedLenFeature of `shape`, float32 values."""

    @property
    def name(self) -> str:
        return self.key

    @property
    def _parse_example_spec(self) -> dict:
        from caudal.ops.parsing_ops import FixedLenFeature

        return {self.key: FixedLenFeature(self.shape, self.dtype, self.default_value)}

    def _transform_feature(self, inputs: _LazyBuilder) -> Tensor:
        from caudal.ops.math_ops import cast

        tensor = inputs.get(self.key)
        if isinstance(tensor, SparseTensor):
            raise ValueError("The corresponding Tensor of numerical column must be a Tensor. SparseTensor is not "
                             f"supported. key: {self.key}")
        if self.normalizer_fn is not None:
            tensor = self.normalizer_fn(tensor)
        return cast(tensor, dtypes_lib.float32)

    @property
    def _variable_shape(self) -> TensorShape:
        return TensorShape(self.shape)

    def _get_dense_tensor(self, inputs: _LazyBuilder, weight_collections: Any = None, trainable: Any = None) -> Tensor:
        return inputs.get(self)


def numeric_column(key: str, shape: Any = (1,), default_value: Any = None, dtype: Any = dtypes_lib.float32,
                   normalizer_fn: Any = None) -> NumericColumn:
    """`tf.feature_column.numeric_column`: a real-valued feature of `shape` per example."""
    shape = _check_shape(shape, key)
    dtype = dtypes_lib.as_dtype(dtype)
    if not (dtype.is_integer or dtype.is_floating):
        raise ValueError(f"dtype must be convertible to float. dtype: {dtype}, key: {key}")
    default_value = _check_default_value(shape, default_value, dtype, key)
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise TypeError(f"normalizer_fn must be a callable. Given: {normalizer_fn}")
    _assert_key_is_string(key)
    return NumericColumn(key, shape=shape, default_value=default_value, dtype=dtype, normalizer_fn=normalizer_fn)


# ------------------------------------------------------------------ bucketized
class BucketizedColumn(_DenseColumn, _CategoricalColumn, collections.namedtuple(
        "BucketizedColumn", ("source_column", "boundaries"))):
    """`bucketized_column`'s column: dense one-hot buckets, or categorical bucket ids."""

    @property
    def name(self) -> str:
        return f"{self.source_column.name}_bucketized"

    @property
    def _parse_example_spec(self) -> dict:
        return self.source_column._parse_example_spec

    def _transform_feature(self, inputs: _LazyBuilder) -> Tensor:
        from caudal.ops.categorical_ops import bucketize

        return bucketize(inputs.get(self.source_column), boundaries=list(self.boundaries))

    @property
    def _variable_shape(self) -> TensorShape:
        return TensorShape(tuple(self.source_column.shape) + (len(self.boundaries) + 1,))

    def _get_dense_tensor(self, inputs: _LazyBuilder, weight_collections: Any = None, trainable: Any = None) -> Tensor:
        from caudal.ops.array_ops import one_hot
        from caudal.ops.math_ops import cast

        return one_hot(cast(inputs.get(self), dtypes_lib.int64), depth=len(self.boundaries) + 1, on_value=1.0,
                       off_value=0.0)

    @property
    def _num_buckets(self) -> int:
        return (len(self.boundaries) + 1) * self.source_column.shape[0]

    def _get_sparse_tensors(self, inputs: _LazyBuilder, weight_collections: Any = None,
                            trainable: Any = None) -> IdWeightPair:
        from caudal.ops.array_ops import expand_dims, reshape, shape, stack, transpose
        from caudal.ops.array_ops import range as range_
        from caudal.ops.manip_ops import tile
        from caudal.ops.math_ops import cast

        input_tensor = inputs.get(self)
        batch_size = shape(input_tensor)[0]
        source_dimension = self.source_column.shape[0]
        i1 = reshape(tile(expand_dims(range_(0, batch_size), 1), [1, source_dimension]), (-1,))
        i2 = tile(range_(0, source_dimension), [batch_size])
        bucket_indices = reshape(input_tensor, (-1,)) + (len(self.boundaries) + 1) * i2
        indices = cast(transpose(stack((i1, i2))), dtypes_lib.int64)
        dense_shape = cast(stack([batch_size, source_dimension]), dtypes_lib.int64)
        return IdWeightPair(SparseTensor(indices=indices, values=bucket_indices, dense_shape=dense_shape), None)


def bucketized_column(source_column: Any, boundaries: Any) -> BucketizedColumn:
    """`tf.feature_column.bucketized_column`: a numeric column split at sorted `boundaries`."""
    if not isinstance(source_column, NumericColumn):
        raise ValueError(f"source_column must be a column generated with numeric_column(). Given: {source_column}")
    if len(source_column.shape) > 1:
        raise ValueError(f"source_column must be one-dimensional column. Given: {source_column}")
    if not boundaries:
        raise ValueError("boundaries must not be empty.")
    if not isinstance(boundaries, (list, tuple)):
        raise ValueError("boundaries must be a sorted list.")
    for i in range(len(boundaries) - 1):
        if boundaries[i] >= boundaries[i + 1]:
            raise ValueError("boundaries must be a sorted list.")
    return BucketizedColumn(source_column, tuple(boundaries))


# ------------------------------------------------------------------- indicator
class IndicatorColumn(_DenseColumn, collections.namedtuple("IndicatorColumn", ("categorical_column",))):
    """`indicator_column`'s column: counts (or summed weights) of each id, [1, num_buckets] per example."""

    @property
    def name(self) -> str:
        return f"{self.categorical_column.name}_indicator"

    def _transform_feature(self, inputs: _LazyBuilder) -> Tensor:
        from caudal.ops.array_ops import concat, expand_dims, one_hot
        from caudal.ops.index_ops import scatter_nd
        from caudal.ops.math_ops import cast
        from caudal.ops.reduction_ops import reduce_sum
        from caudal.ops.sparse_ops import sparse_tensor_to_dense

        pair = self.categorical_column._get_sparse_tensors(inputs)
        size = int(self._variable_shape[-1])
        ids, weights = pair.id_tensor, pair.weight_tensor
        if weights is not None:
            positions = concat([ids.indices[:, :-1], expand_dims(cast(ids.values, dtypes_lib.int64), 1)], 1)
            shape = concat([ids.dense_shape[:-1], np.array([size], np.int64)], 0)
            return scatter_nd(positions, weights.values, shape)
        dense_ids = sparse_tensor_to_dense(ids, default_value=-1)
        return reduce_sum(one_hot(dense_ids, depth=size, on_value=1.0, off_value=0.0), axis=[-2])

    @property
    def _parse_example_spec(self) -> dict:
        return self.categorical_column._parse_example_spec

    @property
    def _variable_shape(self) -> TensorShape:
        return TensorShape([1, self.categorical_column._num_buckets])

    def _get_dense_tensor(self, inputs: _LazyBuilder, weight_collections: Any = None, trainable: Any = None) -> Tensor:
        return inputs.get(self)


def indicator_column(categorical_column: Any) -> IndicatorColumn:
    """`tf.feature_column.indicator_column`: a multi-hot representation of a categorical column."""
    if not isinstance(categorical_column, _CategoricalColumn):
        raise ValueError(f"Unsupported input type. Input must be a CategoricalColumn. Given: {categorical_column}")
    return IndicatorColumn(categorical_column)


# ------------------------------------------------------------------- embedding
def _restore_from_checkpoint(variable: Any, ckpt_to_load_from: Any, tensor_name_in_ckpt: Any) -> None:
    from caudal.checkpoint.reader import init_from_checkpoint

    init_from_checkpoint(ckpt_to_load_from, {tensor_name_in_ckpt: variable})


def _lookup(column: Any, embedding_weights: Any, pair: IdWeightPair) -> Tensor:
    """The embeddings of the pair's ids through TF's safe lookup (or the plain one when asked and
    the ids are at most 2-D), named `<column name>_weights`."""
    from caudal.ops.embedding_ops import embedding_lookup_sparse, safe_embedding_lookup_sparse

    rank = dimension_value(pair.id_tensor.dense_shape.shape[0])
    name = f"{column.name}_weights"
    if not column.use_safe_embedding_lookup and rank is not None and rank <= 2:
        return embedding_lookup_sparse(embedding_weights, pair.id_tensor, pair.weight_tensor,
                                       combiner=column.combiner, name=name, max_norm=column.max_norm)
    return safe_embedding_lookup_sparse(embedding_weights, pair.id_tensor, pair.weight_tensor,
                                        combiner=column.combiner, name=name, max_norm=column.max_norm)


class EmbeddingColumn(_DenseColumn, collections.namedtuple(
        "EmbeddingColumn", ("categorical_column", "dimension", "combiner", "initializer", "ckpt_to_load_from",
                            "tensor_name_in_ckpt", "max_norm", "trainable", "use_safe_embedding_lookup"))):
    """`embedding_column`'s column: ids looked up in `embedding_weights` and combined per example."""

    def __new__(cls, categorical_column: Any, dimension: int, combiner: str, initializer: Any,
                ckpt_to_load_from: Any, tensor_name_in_ckpt: Any, max_norm: Any, trainable: bool,
                use_safe_embedding_lookup: bool = True) -> EmbeddingColumn:
        return super().__new__(cls, categorical_column, dimension, combiner, initializer, ckpt_to_load_from,
                               tensor_name_in_ckpt, max_norm, trainable, use_safe_embedding_lookup)

    @property
    def name(self) -> str:
        return f"{self.categorical_column.name}_embedding"

    @property
    def _parse_example_spec(self) -> dict:
        return self.categorical_column._parse_example_spec

    def _transform_feature(self, inputs: _LazyBuilder) -> Any:
        return inputs.get(self.categorical_column)

    @property
    def _variable_shape(self) -> TensorShape:
        return TensorShape([self.dimension])

    def _get_dense_tensor(self, inputs: _LazyBuilder, weight_collections: Any = None, trainable: Any = None) -> Tensor:
        from caudal.variable_scope import get_variable

        pair = self.categorical_column._get_sparse_tensors(inputs, weight_collections, trainable)
        if weight_collections and GraphKeys.GLOBAL_VARIABLES not in weight_collections:
            weight_collections.append(GraphKeys.GLOBAL_VARIABLES)
        embedding_weights = get_variable(name="embedding_weights",
                                         shape=(self.categorical_column._num_buckets, self.dimension),
                                         dtype=dtypes_lib.float32, initializer=self.initializer,
                                         trainable=bool(self.trainable and (trainable is None or trainable)),
                                         collections=weight_collections)
        if self.ckpt_to_load_from is not None:
            _restore_from_checkpoint(embedding_weights, self.ckpt_to_load_from, self.tensor_name_in_ckpt)
        return _lookup(self, embedding_weights, pair)


def _check_embedding_arguments(dimension: Any, ckpt_to_load_from: Any, tensor_name_in_ckpt: Any) -> None:
    if dimension is None or dimension < 1:
        raise ValueError(f"Invalid dimension {dimension}.")
    if (ckpt_to_load_from is None) != (tensor_name_in_ckpt is None):
        raise ValueError("Must specify both `ckpt_to_load_from` and `tensor_name_in_ckpt` or none of them.")


def _default_initializer(dimension: int) -> Any:
    from caudal.init_ops import truncated_normal_initializer

    return truncated_normal_initializer(mean=0.0, stddev=1 / math.sqrt(dimension))


def embedding_column(categorical_column: Any, dimension: int, combiner: str = "mean", initializer: Any = None,
                     ckpt_to_load_from: Any = None, tensor_name_in_ckpt: Any = None, max_norm: Any = None,
                     trainable: bool = True, use_safe_embedding_lookup: bool = True) -> EmbeddingColumn:
    """`tf.feature_column.embedding_column`: a dense `dimension`-vector per example from a
    categorical column, through a trainable embedding table."""
    _check_embedding_arguments(dimension, ckpt_to_load_from, tensor_name_in_ckpt)
    if initializer is not None and not callable(initializer):
        raise ValueError(f"initializer must be callable if specified. Embedding of column_name: "
                         f"{categorical_column.name}")
    if initializer is None:
        initializer = _default_initializer(dimension)
    return EmbeddingColumn(categorical_column=categorical_column, dimension=dimension, combiner=combiner,
                           initializer=initializer, ckpt_to_load_from=ckpt_to_load_from,
                           tensor_name_in_ckpt=tensor_name_in_ckpt, max_norm=max_norm, trainable=trainable,
                           use_safe_embedding_lookup=use_safe_embedding_lookup)


# ------------------------------------------------------------ shared embedding
class _SharedEmbeddingColumn(_DenseColumn, collections.namedtuple(
        "_SharedEmbeddingColumn", ("categorical_column", "dimension", "combiner", "initializer",
                                   "shared_embedding_collection_name", "ckpt_to_load_from", "tensor_name_in_ckpt",
                                   "max_norm", "trainable", "use_safe_embedding_lookup"))):
    """One of `shared_embedding_columns`: its variable scope is the shared collection's name, and
    the first column built creates the variable that the others find in that collection."""

    @property
    def name(self) -> str:
        return f"{self.categorical_column.name}_shared_embedding"

    @property
    def _var_scope_name(self) -> str:
        return self.shared_embedding_collection_name

    @property
    def _parse_example_spec(self) -> dict:
        return self.categorical_column._parse_example_spec

    def _transform_feature(self, inputs: _LazyBuilder) -> Any:
        return inputs.get(self.categorical_column)

    @property
    def _variable_shape(self) -> TensorShape:
        return TensorShape([self.dimension])

    def _get_dense_tensor(self, inputs: _LazyBuilder, weight_collections: Any = None, trainable: Any = None) -> Tensor:
        from caudal.variable_scope import get_variable

        graph = get_default_graph()
        with graph.name_scope(self.name):
            pair = self.categorical_column._get_sparse_tensors(inputs, weight_collections, trainable)
            shape = (self.categorical_column._num_buckets, self.dimension)
            shared = graph.get_collection(self.shared_embedding_collection_name)
            if shared:
                if len(shared) > 1:
                    raise ValueError(f"Collection {shared} can only contain one variable. Suggested fix A: Choose a "
                                     "unique name for this collection. Suggested fix B: Do not add any variables to "
                                     "this collection. The feature_column library already adds a variable under "
                                     "the hood.")
                embedding_weights = shared[0]
                if embedding_weights.get_shape() != TensorShape(shape):
                    raise ValueError(f"Shared embedding collection {self.shared_embedding_collection_name} contains "
                                     f"variable {embedding_weights.name} of unexpected shape "
                                     f"{embedding_weights.get_shape()}. Expected shape is {shape}. Suggested fix A: "
                                     "Choose a unique name for this collection. Suggested fix B: Do not add any "
                                     "variables to this collection. The feature_column library already adds a "
                                     "variable under the hood.")
            else:
                embedding_weights = get_variable(name="embedding_weights", shape=shape, dtype=dtypes_lib.float32,
                                                 initializer=self.initializer,
                                                 trainable=bool(self.trainable and (trainable is None or trainable)),
                                                 collections=weight_collections)
                graph.add_to_collection(self.shared_embedding_collection_name, embedding_weights)
            if self.ckpt_to_load_from is not None:
                _restore_from_checkpoint(embedding_weights, self.ckpt_to_load_from, self.tensor_name_in_ckpt)
            return _lookup(self, embedding_weights, pair)


def _innermost(column: Any) -> Any:
    from caudal.feature_column._categorical_columns import WeightedCategoricalColumn

    while isinstance(column, WeightedCategoricalColumn):
        column = column.categorical_column
    return column


def shared_embedding_columns(categorical_columns: Any, dimension: int, combiner: str = "mean",
                             initializer: Any = None, shared_embedding_collection_name: str | None = None,
                             ckpt_to_load_from: Any = None, tensor_name_in_ckpt: Any = None, max_norm: Any = None,
                             trainable: bool = True, use_safe_embedding_lookup: bool = True) -> list:
    """`tf.feature_column.shared_embedding_columns`: one embedding column per categorical column, all
    reading one [num_buckets, dimension] variable; the columns must be of one kind and size."""
    _check_embedding_arguments(dimension, ckpt_to_load_from, tensor_name_in_ckpt)
    if initializer is not None and not callable(initializer):
        raise ValueError("initializer must be callable if specified.")
    if initializer is None:
        initializer = _default_initializer(dimension)
    ordered = sorted(categorical_columns, key=lambda c: c.name)
    first = ordered[0]
    num_buckets = first._num_buckets  # as in TF, a column without ids fails here (AttributeError)
    base = _innermost(first)
    for column in ordered[1:]:
        inner = _innermost(column)
        if not isinstance(inner, type(base)):
            raise ValueError("To use shared_embedding_column, all categorical_columns must have the same type, or be "
                             "weighted_categorical_column or sequence column of the same type. Given column: "
                             f"{base} of type: {type(base)} does not match given column: {inner} of type: "
                             f"{type(inner)}")
        if num_buckets != inner._num_buckets:
            raise ValueError("To use shared_embedding_column, all categorical_columns must have the same number of "
                             f"buckets. ven column: {base} with buckets: {num_buckets} does  not match column: "
                             f"{inner} with buckets: {inner._num_buckets}")
    if not shared_embedding_collection_name:
        shared_embedding_collection_name = "_".join(c.name for c in ordered) + "_shared_embedding"
    return [_SharedEmbeddingColumn(column, dimension, combiner, initializer, shared_embedding_collection_name,
                                   ckpt_to_load_from, tensor_name_in_ckpt, max_norm, trainable,
                                   use_safe_embedding_lookup)
            for column in categorical_columns]

