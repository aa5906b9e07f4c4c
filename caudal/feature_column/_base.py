"""What every feature column shares, as TF 2.21's `tf.compat.v1.feature_column` has it:

- the abstract kinds `_FeatureColumn`, `_DenseColumn` (`_variable_shape`, `_get_dense_tensor`)
  and `_CategoricalColumn` (`_num_buckets`, `_get_sparse_tensors` giving an `IdWeightPair`);
  columns order by their string form, and take their variable scope from their name;
- `_LazyBuilder`: the features a model reads, converted once (rank-1 features get a trailing
  dimension; rank 0 is an error; unknown rank is checked at run time), and each column's
  transformation computed once;
- the checks of the column constructors (keys, dtypes, shapes, default values) with TF's messages,
  `_to_sparse_input_and_drop_ignore_values` (a dense feature as a SparseTensor without its
  "missing" entries: "" for strings, -1 for integers), `_normalize_feature_columns`, and the
  static batch-size check of `input_layer` and `linear_model`.
"""
from __future__ import annotations

import abc
import collections
from collections.abc import Iterator
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import get_default_graph
from caudal.framework.sparse_tensor import SparseTensor, convert_to_tensor_or_sparse_tensor
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import Dimension, TensorShape, dimension_value

__all__ = ["_FeatureColumn", "_DenseColumn", "_CategoricalColumn", "IdWeightPair", "_LazyBuilder"]

IdWeightPair = collections.namedtuple("IdWeightPair", ["id_tensor", "weight_tensor"])


class _FeatureColumn(abc.ABC):
    """A feature column: knows its input features (`_parse_example_spec`) and how to transform them."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The column's name, unique in a model; also its variable scope."""

    def __lt__(self, other: Any) -> bool:
        return str(self) < str(other)

    def __gt__(self, other: Any) -> bool:
        return str(self) > str(other)

    @property
    def _var_scope_name(self) -> str:
        return self.name

    @abc.abstractmethod
    def _transform_feature(self, inputs: _LazyBuilder) -> Any:
        """This column's intermediate tensor, from `inputs.get(...)` of its sources."""

    @property
    @abc.abstractmethod
    def _parse_example_spec(self) -> dict:
        """{feature key: FixedLenFeature or VarLenFeature} for tf.parse_example."""

    @property
    def parse_example_spec(self) -> dict:
        return self._parse_example_spec

    def _reset_config(self) -> None:  # noqa: B027 - TF's hook, a no-op for every built-in column
        """Resets any state kept between calls (none for these columns)."""


class _DenseColumn(_FeatureColumn):
    """A column that gives a dense tensor: `_get_dense_tensor` of shape [batch] + `_variable_shape`."""

    @property
    @abc.abstractmethod
    def _variable_shape(self) -> TensorShape:
        """The shape of one example's output, without the batch dimension."""

    @property
    def variable_shape(self) -> TensorShape:
        return self._variable_shape

    @abc.abstractmethod
    def _get_dense_tensor(self, inputs: _LazyBuilder, weight_collections: Any = None, trainable: Any = None) -> Tensor:
        """The dense tensor of this column (creating its variables if it has any)."""


class _CategoricalColumn(_FeatureColumn):
    """A column of category ids in [0, `_num_buckets`), as a SparseTensor with optional weights."""

    IdWeightPair = IdWeightPair

    @property
    @abc.abstractmethod
    def _num_buckets(self) -> int:
        """The number of distinct ids."""

    @property
    def num_buckets(self) -> int:
        return self._num_buckets

    @abc.abstractmethod
    def _get_sparse_tensors(self, inputs: _LazyBuilder, weight_collections: Any = None,
                            trainable: Any = None) -> IdWeightPair:
        """The ids (and weights, or None) of this column as SparseTensors."""


# -------------------------------------------------------------------- builder
class _LazyBuilder:
    """The features of one model call: raw features by key, and transformed columns, each made once."""

    def __init__(self, features: Any):
        self._features = dict(features)
        self._feature_tensors: dict = {}

    def get(self, key: Any) -> Any:
        """The tensor for a feature key (a str) or a column's transformation (a _FeatureColumn)."""
        if key in self._feature_tensors:
            return self._feature_tensors[key]
        if key in self._features:
            tensor = self._get_raw_feature_as_tensor(key)
            self._feature_tensors[key] = tensor
            return tensor
        if isinstance(key, str):
            raise ValueError(f"Feature {key} is not in features dictionary.")
        if not isinstance(key, _FeatureColumn):
            raise TypeError(f'"key" must be either a "str" or "_FeatureColumn". Provided: {key}')
        transformed = key._transform_feature(self)
        if transformed is None:
            raise ValueError(f"Column {key.name} is not supported.")
        self._feature_tensors[key] = transformed
        return transformed

    def _get_raw_feature_as_tensor(self, key: str) -> Any:
        from caudal.ops.array_ops import expand_dims, rank
        from caudal.ops.check_ops import assert_less
        from caudal.ops.comparison_ops import equal
        from caudal.ops.cond_ops import cond
        from caudal.ops.sparse_rows_ops import sparse_reshape

        feature = convert_to_tensor_or_sparse_tensor(self._features[key])

        def with_trailing_dimension(tensor: Any) -> Any:
            if isinstance(tensor, SparseTensor):
                return sparse_reshape(tensor, [_shape_of(tensor)[0], 1])
            return expand_dims(tensor, -1)

        ndims = feature.shape.ndims
        if ndims is not None:
            if ndims == 0:
                raise ValueError(f"Feature (key: {key}) cannot have rank 0. Given: {feature}")
            return feature if ndims != 1 else with_trailing_dimension(feature)
        if isinstance(feature, SparseTensor):
            raise ValueError(f"Feature (key: {key}) is a SparseTensor of unknown rank; caudal needs its rank to "
                             "know whether it gets a trailing dimension.")
        message = f"Feature (key: {key}) cannot have rank 0. Given: {feature}"
        graph = get_default_graph()
        with graph.control_dependencies([assert_less(0, rank(feature), message=message, name="assert_positive")]):
            return cond(equal(1, rank(feature)), lambda: with_trailing_dimension(feature), lambda: feature)


# ------------------------------------------------------------ helpers, checks
def _assert_key_is_string(key: Any) -> None:
    if not isinstance(key, str):
        raise ValueError(f"key must be a string. Got: type {type(key)}. Given key: {key}.")


def _assert_string_or_int(dtype: Any, prefix: str) -> None:
    if dtype != dtypes_lib.string and not dtype.is_integer:
        raise ValueError(f"{prefix} dtype must be string or integer. dtype: {dtype}.")


def _check_shape(shape: Any, key: str) -> tuple:
    """The column shape as a tuple of positive ints (TF's TypeError/ValueError otherwise)."""
    if shape is None:
        raise ValueError(f"shape must not be None. key: {key}")
    if not isinstance(shape, (list, tuple)):
        shape = [shape]
    shape = tuple(shape)
    for dimension in shape:
        if not isinstance(dimension, int):
            raise TypeError(f"shape dimensions must be integer. shape: {shape}, key: {key}")
        if dimension < 1:
            raise ValueError(f"shape dimensions must be greater than 0. shape: {shape}, key: {key}")
    return shape


def _is_nested(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _flatten(value: Any) -> list:
    return [x for item in value for x in _flatten(item)] if _is_nested(value) else [value]


def _fills(shape: tuple, value: Any) -> Any:
    return tuple(_fills(shape[1:], value) for _ in range(shape[0])) if shape else value


def _as_tuple(value: Any) -> Any:
    return tuple(_as_tuple(v) for v in value) if _is_nested(value) else value


def _shape_matches(value: Any, shape: tuple) -> bool:
    if _is_nested(value) != bool(shape):
        return False
    if not shape:
        return True
    return len(value) == shape[0] and all(_shape_matches(v, shape[1:]) for v in value)


def _check_default_value(shape: tuple, default_value: Any, dtype: Any, key: str) -> Any:
    """A numeric column's default as a nested tuple of `shape`, or TF's errors."""
    if default_value is None:
        return None
    if isinstance(default_value, int):
        return _fills(shape, default_value)
    if isinstance(default_value, float) and dtype.is_floating:
        return _fills(shape, default_value)
    if callable(getattr(default_value, "tolist", None)):
        default_value = default_value.tolist()
    if _is_nested(default_value):
        if not _shape_matches(default_value, shape):
            raise ValueError(f"The shape of default_value must be equal to given shape. default_value: "
                             f"{default_value}, shape: {shape}, key: {key}")
        flat = _flatten(default_value)
        if all(isinstance(v, int) for v in flat):
            return _as_tuple(default_value)
        if any(isinstance(v, float) for v in flat) and dtype.is_floating:
            return _as_tuple(default_value)
    raise TypeError(f"default_value must be compatible with dtype. default_value: {default_value}, dtype: {dtype}, "
                    f"key: {key}")


def _to_sparse_input_and_drop_ignore_values(input_tensor: Any, ignore_value: Any = None) -> SparseTensor:
    """A SparseTensor as it is; a dense tensor as the SparseTensor of its entries that are not
    `ignore_value` ("" for strings, -1 for integers, 0 otherwise by default)."""
    from caudal.ops.array_ops import shape
    from caudal.ops.comparison_ops import not_equal, where
    from caudal.ops.index_ops import gather_nd
    from caudal.ops.math_ops import cast

    input_tensor = convert_to_tensor_or_sparse_tensor(input_tensor)
    if isinstance(input_tensor, SparseTensor):
        return input_tensor
    with get_default_graph().name_scope("to_sparse_input"):
        dtype = input_tensor.dtype.base_dtype
        if ignore_value is None:
            if dtype == dtypes_lib.string:
                ignore_value = ""
            elif dtype.is_integer:
                ignore_value = -1
            else:
                ignore_value = dtype.as_numpy_dtype()
        ignore = cast(ignore_value, dtype, name="ignore_value")
        indices = where(not_equal(input_tensor, ignore), name="indices")
        return SparseTensor(indices=indices, values=gather_nd(input_tensor, indices, name="values"),
                            dense_shape=shape(input_tensor, out_type=dtypes_lib.int64, name="dense_shape"))


def _normalize_feature_columns(feature_columns: Any) -> list:
    """The columns as a list, with TF's checks: no dict, every item a column, not empty, names unique."""
    if isinstance(feature_columns, _FeatureColumn):
        feature_columns = [feature_columns]
    if isinstance(feature_columns, Iterator):
        feature_columns = list(feature_columns)
    if isinstance(feature_columns, dict):
        raise ValueError("Expected feature_columns to be iterable, found dict.")
    for column in feature_columns:
        if not isinstance(column, _FeatureColumn):
            raise ValueError(f"Items of feature_columns must be a _FeatureColumn. Given (type {type(column)}): "
                             f"{column}.")
    if not feature_columns:
        raise ValueError("feature_columns must not be empty.")
    by_name: dict[str, Any] = {}
    for column in feature_columns:
        if column.name in by_name:
            raise ValueError(f"Duplicate feature column name found for columns: {column} and {by_name[column.name]}. "
                             "This usually means that these columns refer to same base feature. Either one must be "
                             "discarded or a duplicated but renamed item must be inserted in features dict.")
        by_name[column.name] = column
    return list(feature_columns)


def _verify_static_batch_size_equality(tensors: list, columns: list) -> None:
    """Every output's static batch size (where known) is the same, as TF checks."""
    expected = None
    first = 0
    for i, tensor in enumerate(tensors):
        batch = Dimension(dimension_value(tensor.shape[0]) if tensor.shape.ndims else None)
        if batch.value is None:
            continue
        if expected is None:
            first, expected = i, batch
        elif not expected.is_compatible_with(batch):
            raise ValueError(f"Batch size (first dimension) of each feature must be same. Batch size of columns "
                             f"({columns[first].name}, {columns[i].name}): ({expected}, {batch})")


def _shape_of(tensor: Any) -> Tensor:
    """`tf.shape` (int32) of a Tensor, or of a SparseTensor's dense shape (a Cast in a `Shape` scope)."""
    from caudal.ops.array_ops import shape
    from caudal.ops.math_ops import cast

    if isinstance(tensor, SparseTensor):
        with get_default_graph().name_scope("Shape"):
            return cast(tensor.dense_shape, dtypes_lib.int32)
    return shape(tensor)


def _sparse_cast(tensor: Any, dtype: Any) -> Any:
    """`tf.cast` of a Tensor, or of a SparseTensor's values."""
    from caudal.ops.math_ops import cast

    if isinstance(tensor, SparseTensor):
        return SparseTensor(tensor.indices, cast(tensor.values, dtype), tensor.dense_shape)
    return cast(tensor, dtype)
