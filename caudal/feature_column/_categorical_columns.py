"""The categorical feature columns of TF 2.21's `tf.compat.v1.feature_column`; each gives its ids
as a SparseTensor (a dense feature loses its "missing" entries first: "" or -1):

- `categorical_column_with_hash_bucket`: `Fingerprint64(value) % hash_bucket_size` (integers
  hashed as their decimal text), TF's StringToHashBucketFast;
- `categorical_column_with_vocabulary_list` / `_file`: the value's position in the vocabulary
  (a HashTableV2 filled by `tables_initializer()`), else `default_value`, or one of
  `num_oov_buckets` hash buckets after the vocabulary;
- `categorical_column_with_identity`: the integer value itself (`default_value` when out of range);
- `weighted_categorical_column`: another column's ids with per-id weights from a second feature;
- `crossed_column`: the hashed crosses of string features and categorical columns (TF's
  SparseCross with hash_key 0xDECAFCAFFE by default).
"""
from __future__ import annotations

import collections
import logging
import os
from typing import Any

from caudal.feature_column._base import (
    IdWeightPair,
    _assert_key_is_string,
    _assert_string_or_int,
    _CategoricalColumn,
    _FeatureColumn,
    _LazyBuilder,
    _sparse_cast,
    _to_sparse_input_and_drop_ignore_values,
)
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import get_default_graph
from caudal.framework.sparse_tensor import SparseTensor, convert_to_tensor_or_sparse_tensor

__all__ = ["categorical_column_with_hash_bucket", "categorical_column_with_vocabulary_file",
           "categorical_column_with_vocabulary_list", "categorical_column_with_identity",
           "weighted_categorical_column", "crossed_column", "HashedCategoricalColumn",
           "VocabularyFileCategoricalColumn", "VocabularyListCategoricalColumn", "IdentityCategoricalColumn",
           "WeightedCategoricalColumn", "CrossedColumn"]

_logger = logging.getLogger("caudal")


def _var_len_spec(key: str, dtype: Any) -> dict:
    from caudal.ops.parsing_ops import VarLenFeature

    return {key: VarLenFeature(dtype)}


def _check_compatible(key: str, column_dtype: Any, tensor: Any) -> None:
    if column_dtype.is_integer != tensor.dtype.is_integer:
        raise ValueError(f"Column dtype and SparseTensors dtype must be compatible. key: {key}, column dtype: "
                         f"{column_dtype}, tensor dtype: {tensor.dtype}")


class _SingleKeyCategorical(_CategoricalColumn):
    """A categorical column of one feature `key`, transformed once into its ids."""

    @property
    def name(self) -> str:
        return self.key

    def _get_sparse_tensors(self, inputs: _LazyBuilder, weight_collections: Any = None,
                            trainable: Any = None) -> IdWeightPair:
        return IdWeightPair(inputs.get(self), None)


# ----------------------------------------------------------------- hash bucket
class HashedCategoricalColumn(_SingleKeyCategorical, collections.namedtuple(
        "HashedCategoricalColumn", ("key", "hash_bucket_size", "dtype"))):
    """`categorical_column_with_hash_bucket`'s column."""

    @property
    def _parse_example_spec(self) -> dict:
        return _var_len_spec(self.key, self.dtype)

    def _transform_feature(self, inputs: _LazyBuilder) -> SparseTensor:
        from caudal.ops.categorical_ops import as_string, string_to_hash_bucket_fast

        tensor = _to_sparse_input_and_drop_ignore_values(inputs.get(self.key))
        _assert_string_or_int(tensor.dtype, prefix=f"column_name: {self.key} input_tensor")
        _check_compatible(self.key, self.dtype, tensor)
        values = tensor.values if self.dtype == dtypes_lib.string else as_string(tensor.values)
        ids = string_to_hash_bucket_fast(values, self.hash_bucket_size, name="lookup")
        return SparseTensor(tensor.indices, ids, tensor.dense_shape)

    @property
    def _num_buckets(self) -> int:
        return self.hash_bucket_size


def categorical_column_with_hash_bucket(key: str, hash_bucket_size: int,
                                        dtype: Any = dtypes_lib.string) -> HashedCategoricalColumn:
    """`tf.feature_column.categorical_column_with_hash_bucket`: ids by hashing the values."""
    if hash_bucket_size is None:
        raise ValueError(f"hash_bucket_size must be set. key: {key}")
    if hash_bucket_size < 1:
        raise ValueError(f"hash_bucket_size must be at least 1. hash_bucket_size: {hash_bucket_size}, key: {key}")
    _assert_key_is_string(key)
    dtype = dtypes_lib.as_dtype(dtype)
    _assert_string_or_int(dtype, prefix=f"column_name: {key}")
    return HashedCategoricalColumn(key, hash_bucket_size, dtype)


# ------------------------------------------------------------------ vocabulary
def _lookup_key_tensor(key: str, column_dtype: Any, tensor: Any) -> tuple[Any, Any]:
    """The input ready for a vocabulary table: checked, and integers as int64."""
    _check_compatible(key, column_dtype, tensor)
    _assert_string_or_int(tensor.dtype, prefix=f"column_name: {key} input_tensor")
    if tensor.dtype.is_integer:
        return dtypes_lib.int64, _sparse_cast(tensor, dtypes_lib.int64)
    return column_dtype, tensor


class VocabularyFileCategoricalColumn(_SingleKeyCategorical, collections.namedtuple(
        "VocabularyFileCategoricalColumn", ("key", "vocabulary_file", "vocabulary_size", "num_oov_buckets", "dtype",
                                            "default_value", "file_format"))):
    """`categorical_column_with_vocabulary_file`'s column: ids are line numbers in the file."""

    def __new__(cls, key: str, vocabulary_file: str, vocabulary_size: int, num_oov_buckets: int, dtype: Any,
                default_value: int, file_format: Any = None) -> VocabularyFileCategoricalColumn:
        return super().__new__(cls, key, vocabulary_file, vocabulary_size, num_oov_buckets, dtype, default_value,
                               file_format)

    @property
    def _parse_example_spec(self) -> dict:
        return _var_len_spec(self.key, self.dtype)

    def _transform_feature(self, inputs: _LazyBuilder) -> SparseTensor:
        from caudal.ops.lookup_tables import index_table_from_file

        tensor = _to_sparse_input_and_drop_ignore_values(inputs.get(self.key))
        key_dtype, tensor = _lookup_key_tensor(self.key, self.dtype, tensor)
        with get_default_graph()._outside_control_flow():
            table = index_table_from_file(vocabulary_file=self.vocabulary_file, num_oov_buckets=self.num_oov_buckets,
                                          vocab_size=self.vocabulary_size, default_value=self.default_value,
                                          key_dtype=key_dtype, name=f"{self.key}_lookup")
        return table.lookup(tensor)

    @property
    def _num_buckets(self) -> int:
        return self.vocabulary_size + self.num_oov_buckets


def categorical_column_with_vocabulary_file(key: str, vocabulary_file: str, vocabulary_size: int | None = None,
                                            num_oov_buckets: int = 0, default_value: int | None = None,
                                            dtype: Any = dtypes_lib.string) -> VocabularyFileCategoricalColumn:
    """`tf.feature_column.categorical_column_with_vocabulary_file`: ids from a vocabulary file,
    one entry per line (`vocabulary_size` defaults to the number of lines)."""
    if not vocabulary_file:
        raise ValueError(f"Missing vocabulary_file in {key}.")
    if vocabulary_size is None:
        if not os.path.exists(vocabulary_file):
            raise ValueError(f"vocabulary_file in {key} does not exist.")
        with open(vocabulary_file, "rb") as f:
            vocabulary_size = sum(1 for _ in f)
        _logger.info("vocabulary_size = %d in %s is inferred from the number of elements in the vocabulary_file %s.",
                     vocabulary_size, key, vocabulary_file)
    if vocabulary_size < 1:
        raise ValueError(f"Invalid vocabulary_size in {key}.")
    if num_oov_buckets:
        if default_value is not None:
            raise ValueError(f"Can't specify both num_oov_buckets and default_value in {key}.")
        if num_oov_buckets < 0:
            raise ValueError(f"Invalid num_oov_buckets {num_oov_buckets} in {key}.")
    dtype = dtypes_lib.as_dtype(dtype)
    _assert_string_or_int(dtype, prefix=f"column_name: {key}")
    _assert_key_is_string(key)
    return VocabularyFileCategoricalColumn(key=key, vocabulary_file=vocabulary_file,
                                           vocabulary_size=vocabulary_size,
                                           num_oov_buckets=0 if num_oov_buckets is None else num_oov_buckets,
                                           default_value=-1 if default_value is None else default_value,
                                           dtype=dtype, file_format=None)


class VocabularyListCategoricalColumn(_SingleKeyCategorical, collections.namedtuple(
        "VocabularyListCategoricalColumn", ("key", "vocabulary_list", "dtype", "default_value", "num_oov_buckets"))):
    """`categorical_column_with_vocabulary_list`'s column: ids are positions in the list."""

    @property
    def _parse_example_spec(self) -> dict:
        return _var_len_spec(self.key, self.dtype)

    def _transform_feature(self, inputs: _LazyBuilder) -> SparseTensor:
        from caudal.ops.lookup_tables import index_table_from_tensor

        tensor = _to_sparse_input_and_drop_ignore_values(inputs.get(self.key))
        key_dtype, tensor = _lookup_key_tensor(self.key, self.dtype, tensor)
        with get_default_graph()._outside_control_flow():
            table = index_table_from_tensor(vocabulary_list=tuple(self.vocabulary_list),
                                            default_value=self.default_value, num_oov_buckets=self.num_oov_buckets,
                                            dtype=key_dtype, name=f"{self.key}_lookup")
        return table.lookup(tensor)

    @property
    def _num_buckets(self) -> int:
        return len(self.vocabulary_list) + self.num_oov_buckets


def _vocabulary_dtype(vocabulary_list: Any) -> Any:
    import numpy as np

    array = np.array(vocabulary_list)
    if array.dtype.kind in "US":
        return dtypes_lib.string
    return dtypes_lib.as_dtype(array.dtype)


def categorical_column_with_vocabulary_list(key: str, vocabulary_list: Any, dtype: Any = None,
                                            default_value: int = -1,
                                            num_oov_buckets: int = 0) -> VocabularyListCategoricalColumn:
    """`tf.feature_column.categorical_column_with_vocabulary_list`: ids from an in-memory vocabulary."""
    if vocabulary_list is None or len(vocabulary_list) < 1:
        raise ValueError(f"vocabulary_list {vocabulary_list} must be non-empty, column_name: {key}")
    if len(set(vocabulary_list)) != len(vocabulary_list):
        raise ValueError(f"Duplicate keys in vocabulary_list {vocabulary_list}, column_name: {key}")
    vocabulary_dtype = _vocabulary_dtype(vocabulary_list)
    if num_oov_buckets:
        if default_value != -1:
            raise ValueError(f"Can't specify both num_oov_buckets and default_value in {key}.")
        if num_oov_buckets < 0:
            raise ValueError(f"Invalid num_oov_buckets {num_oov_buckets} in {key}.")
    _assert_string_or_int(vocabulary_dtype, prefix=f"column_name: {key} vocabulary")
    if dtype is None:
        dtype = vocabulary_dtype
    else:
        dtype = dtypes_lib.as_dtype(dtype)
        if dtype.is_integer != vocabulary_dtype.is_integer:
            raise ValueError(f"dtype {dtype} and vocabulary dtype {vocabulary_dtype} do not match, column_name: {key}")
    _assert_string_or_int(dtype, prefix=f"column_name: {key}")
    _assert_key_is_string(key)
    return VocabularyListCategoricalColumn(key=key, vocabulary_list=tuple(vocabulary_list), dtype=dtype,
                                           default_value=default_value, num_oov_buckets=num_oov_buckets)


# -------------------------------------------------------------------- identity
class IdentityCategoricalColumn(_SingleKeyCategorical, collections.namedtuple(
        "IdentityCategoricalColumn", ("key", "number_buckets", "default_value"))):
    """`categorical_column_with_identity`'s column: the integer values are the ids."""

    @property
    def _parse_example_spec(self) -> dict:
        return _var_len_spec(self.key, dtypes_lib.int64)

    def _transform_feature(self, inputs: _LazyBuilder) -> SparseTensor:
        from caudal.ops.array_ops import shape
        from caudal.ops.comparison_ops import logical_or, where_v2
        from caudal.ops.constant_ops import fill
        from caudal.ops.math_ops import cast

        tensor = _to_sparse_input_and_drop_ignore_values(inputs.get(self.key))
        if not tensor.dtype.is_integer:
            raise ValueError(f"Invalid input, not integer. key: {self.key} dtype: {tensor.dtype}")
        values = tensor.values
        if values.dtype.base_dtype != dtypes_lib.int64:
            values = cast(values, dtypes_lib.int64, name="values")
        if self.default_value is not None:
            values = cast(tensor.values, dtypes_lib.int64, name="values")
            num_buckets = cast(self.number_buckets, dtypes_lib.int64, name="num_buckets")
            zero = cast(0, dtypes_lib.int64, name="zero")
            values = where_v2(logical_or(values < zero, values >= num_buckets, name="out_of_range"),
                              fill(dims=shape(values), value=cast(self.default_value, dtypes_lib.int64),
                                   name="default_values"), values)
        return SparseTensor(indices=tensor.indices, values=values, dense_shape=tensor.dense_shape)

    @property
    def _num_buckets(self) -> int:
        return self.number_buckets


def categorical_column_with_identity(key: str, num_buckets: int,
                                     default_value: int | None = None) -> IdentityCategoricalColumn:
    """`tf.feature_column.categorical_column_with_identity`: integer features in [0, num_buckets)
    used as ids; others become `default_value`, or stay as they are when it is None."""
    if num_buckets < 1:
        raise ValueError(f"num_buckets {num_buckets} < 1, column_name {key}")
    if default_value is not None and (default_value < 0 or default_value >= num_buckets):
        raise ValueError(f"default_value {default_value} not in range [0, {num_buckets}), column_name {key}")
    _assert_key_is_string(key)
    return IdentityCategoricalColumn(key=key, number_buckets=num_buckets, default_value=default_value)


# -------------------------------------------------------------------- weighted
class WeightedCategoricalColumn(_CategoricalColumn, collections.namedtuple(
        "WeightedCategoricalColumn", ("categorical_column", "weight_feature_key", "dtype"))):
    """`weighted_categorical_column`'s column: another column's ids, weighted by a feature."""

    @property
    def name(self) -> str:
        return f"{self.categorical_column.name}_weighted_by_{self.weight_feature_key}"

    @property
    def _parse_example_spec(self) -> dict:
        from caudal.ops.parsing_ops import VarLenFeature

        config = dict(self.categorical_column._parse_example_spec)
        if self.weight_feature_key in config:
            raise ValueError(f"Parse config {config[self.weight_feature_key]} already exists for "
                             f"{self.weight_feature_key}.")
        config[self.weight_feature_key] = VarLenFeature(self.dtype)
        return config

    @property
    def _num_buckets(self) -> int:
        return self.categorical_column._num_buckets

    def _transform_feature(self, inputs: _LazyBuilder) -> tuple:
        weights = inputs.get(self.weight_feature_key)
        weights = convert_to_tensor_or_sparse_tensor(weights)
        if self.dtype != weights.dtype.base_dtype:
            raise ValueError(f"Bad dtype, expected {self.dtype}, but got {weights.dtype}.")
        if not isinstance(weights, SparseTensor):
            weights = _to_sparse_input_and_drop_ignore_values(weights, ignore_value=0.0)
        if not weights.dtype.is_floating:
            weights = _sparse_cast(weights, dtypes_lib.float32)
        return inputs.get(self.categorical_column), weights

    def _get_sparse_tensors(self, inputs: _LazyBuilder, weight_collections: Any = None,
                            trainable: Any = None) -> IdWeightPair:
        ids, weights = inputs.get(self)
        return IdWeightPair(ids, weights)


def weighted_categorical_column(categorical_column: Any, weight_feature_key: str,
                                dtype: Any = dtypes_lib.float32) -> WeightedCategoricalColumn:
    """`tf.feature_column.weighted_categorical_column`: `categorical_column`'s ids, each with the
    weight at the same position of feature `weight_feature_key`."""
    dtype = None if dtype is None else dtypes_lib.as_dtype(dtype)
    if dtype is None or not (dtype.is_integer or dtype.is_floating):
        raise ValueError(f"dtype {dtype} is not convertible to float.")
    return WeightedCategoricalColumn(categorical_column=categorical_column, weight_feature_key=weight_feature_key,
                                     dtype=dtype)


# --------------------------------------------------------------------- crossed
def _leaf_keys(cross: CrossedColumn) -> list:
    keys = []
    for key in cross.keys:
        keys.extend(_leaf_keys(key) if isinstance(key, CrossedColumn) else [key])
    return keys


class CrossedColumn(_CategoricalColumn, collections.namedtuple("CrossedColumn",
                                                               ("keys", "hash_bucket_size", "hash_key"))):
    """`crossed_column`'s column: hashed combinations of its keys' features."""

    @property
    def name(self) -> str:
        names = [key.name if isinstance(key, _FeatureColumn) else key for key in _leaf_keys(self)]
        return "_X_".join(sorted(names))

    @property
    def _parse_example_spec(self) -> dict:
        from caudal.ops.parsing_ops import VarLenFeature

        config: dict = {}
        for key in self.keys:
            if isinstance(key, _FeatureColumn):
                config.update(key._parse_example_spec)
            else:
                config.update({key: VarLenFeature(dtypes_lib.string)})
        return config

    def _transform_feature(self, inputs: _LazyBuilder) -> SparseTensor:
        from caudal.ops.categorical_ops import sparse_cross_hashed

        tensors = []
        for key in _leaf_keys(self):
            if isinstance(key, str):
                tensors.append(inputs.get(key))
                continue
            pair = key._get_sparse_tensors(inputs)
            if pair.weight_tensor is not None:
                raise ValueError("crossed_column does not support weight_tensor, but the given column populates "
                                 f"weight_tensor. Given column: {key.name}")
            tensors.append(pair.id_tensor)
        return sparse_cross_hashed(inputs=tensors, num_buckets=self.hash_bucket_size, hash_key=self.hash_key)

    @property
    def _num_buckets(self) -> int:
        return self.hash_bucket_size

    def _get_sparse_tensors(self, inputs: _LazyBuilder, weight_collections: Any = None,
                            trainable: Any = None) -> IdWeightPair:
        return IdWeightPair(inputs.get(self), None)


def crossed_column(keys: Any, hash_bucket_size: int, hash_key: int | None = None) -> CrossedColumn:
    """`tf.feature_column.crossed_column`: ids for combinations of string features (by key) and
    categorical columns (not hashed ones), hashed into `hash_bucket_size` buckets."""
    if not hash_bucket_size or hash_bucket_size < 1:
        raise ValueError(f"hash_bucket_size must be > 1. hash_bucket_size: {hash_bucket_size}")
    if not keys or len(keys) < 2:
        raise ValueError(f"keys must be a list with length > 1. Given: {keys}")
    for key in keys:
        if not isinstance(key, (str, _CategoricalColumn)):
            raise ValueError("Unsupported key type. All keys must be either string, or categorical column except "
                             f"HashedCategoricalColumn. Given: {key}")
        if isinstance(key, HashedCategoricalColumn):
            raise ValueError("categorical_column_with_hash_bucket is not supported for crossing. Hashing before "
                             "crossing will increase probability of collision. Instead, use the feature name as a "
                             f"string. Given: {key}")
    return CrossedColumn(keys=tuple(keys), hash_bucket_size=hash_bucket_size, hash_key=hash_key)
