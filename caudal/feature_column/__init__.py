"""`tf.feature_column` (TF1): feature columns, `input_layer`, `linear_model` and
`make_parse_example_spec`, as TF 2.21's `tf.compat.v1.feature_column` has them. Re-exports only."""
from caudal.feature_column._base import _CategoricalColumn, _DenseColumn, _FeatureColumn, _LazyBuilder
from caudal.feature_column._categorical_columns import (
    CrossedColumn,
    HashedCategoricalColumn,
    IdentityCategoricalColumn,
    VocabularyFileCategoricalColumn,
    VocabularyListCategoricalColumn,
    WeightedCategoricalColumn,
    categorical_column_with_hash_bucket,
    categorical_column_with_identity,
    categorical_column_with_vocabulary_file,
    categorical_column_with_vocabulary_list,
    crossed_column,
    weighted_categorical_column,
)
from caudal.feature_column._dense_columns import (
    BucketizedColumn,
    EmbeddingColumn,
    IndicatorColumn,
    NumericColumn,
    _SharedEmbeddingColumn,
    bucketized_column,
    embedding_column,
    indicator_column,
    numeric_column,
    shared_embedding_columns,
)
from caudal.feature_column._layers import input_layer, linear_model, make_parse_example_spec

__all__ = ["bucketized_column", "categorical_column_with_hash_bucket", "categorical_column_with_identity",
           "categorical_column_with_vocabulary_file", "categorical_column_with_vocabulary_list", "crossed_column",
           "embedding_column", "indicator_column", "input_layer", "linear_model", "make_parse_example_spec",
           "numeric_column", "shared_embedding_columns", "weighted_categorical_column", "BucketizedColumn",
           "CrossedColumn", "EmbeddingColumn", "HashedCategoricalColumn", "IdentityCategoricalColumn",
           "IndicatorColumn", "NumericColumn", "VocabularyFileCategoricalColumn", "VocabularyListCategoricalColumn",
           "WeightedCategoricalColumn", "_CategoricalColumn", "_DenseColumn", "_FeatureColumn", "_LazyBuilder",
           "_SharedEmbeddingColumn"]
