"""Parsing `tf.train.Example` protos: `tf.parse_example`, `tf.parse_single_example`,
`tf.parse_single_sequence_example`, the feature specs, and the ParseExampleV2 and
ParseSequenceExampleV2 ops that TF 2.21's `compat.v1` functions build.

As in TF, features are taken in sorted key order: VarLenFeatures become sparse outputs (a
SparseTensor per key), FixedLenFeature and FixedLenSequenceFeature dense ones, with their defaults
as inputs of the op (a reshaped `key_<name>` constant; an empty constant for a required feature;
the padding scalar of a sequence feature). A scalar `serialized` parses one example (dense outputs
of the feature's shape, sparse indices `[N, 1]`); a vector parses a batch (a leading batch
dimension, sparse indices `[N, 2]`, missing features filled with defaults and VarLen rows of any
length). The parse ops are not differentiable. `decode_raw` and `decode_csv` live in
`caudal.ops.decode_ops` and are re-exported here, where TF has them.
"""
from __future__ import annotations

import collections
import re
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, get_default_graph, make_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.sparse_tensor import SparseTensor
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, as_shape, unknown_shape
from caudal.ops import _example_decoding, _rules
from caudal.ops.decode_ops import decode_csv, decode_raw

__all__ = ["FixedLenFeature", "VarLenFeature", "FixedLenSequenceFeature", "parse_example",
           "parse_single_example", "parse_single_sequence_example", "decode_raw", "decode_csv"]

_PARSE_TYPES = frozenset([dtypes_lib.float32, dtypes_lib.int64, dtypes_lib.string])


# ------------------------------------------------------------------ feature specs
class VarLenFeature(collections.namedtuple("VarLenFeature", ["dtype"])):
    """`tf.io.VarLenFeature(dtype)`: a feature of any length, parsed into a SparseTensor."""

    __slots__ = ()


class FixedLenFeature(collections.namedtuple("FixedLenFeature", ["shape", "dtype", "default_value"])):
    """`tf.io.FixedLenFeature(shape, dtype, default_value=None)`: exactly prod(shape) values; a
    missing feature takes `default_value`, or is an error when there is none."""

    __slots__ = ()

    def __new__(cls, shape: Any, dtype: Any, default_value: Any = None) -> FixedLenFeature:
        return super().__new__(cls, shape, dtype, default_value)


class FixedLenSequenceFeature(collections.namedtuple(
        "FixedLenSequenceFeature", ["shape", "dtype", "allow_missing", "default_value"])):
    """`tf.io.FixedLenSequenceFeature(shape, dtype, allow_missing=False, default_value=None)`: any
    number of blocks of `shape`; in a batch, shorter rows are padded with `default_value`."""

    __slots__ = ()

    def __new__(cls, shape: Any, dtype: Any, allow_missing: bool = False,
                default_value: Any = None) -> FixedLenSequenceFeature:
        return super().__new__(cls, shape, dtype, allow_missing, default_value)


def _key_name(prefix: str, key: str) -> str:
    return prefix + re.sub(r"[^A-Za-z0-9_.\-/]", "_", key)


def _dtype_of(feature: Any) -> dtypes_lib.DType:
    return dtypes_lib.as_dtype(feature.dtype).base_dtype


class _ParseSpec:
    """The features of one parse, split as the op takes them (keys sorted, as TF sorts them)."""

    def __init__(self, features: dict[str, Any], sequence: bool = False):
        self.sparse_keys: list[str] = []
        self.sparse_types: list[dtypes_lib.DType] = []
        self.dense_keys: list[str] = []
        self.dense_types: list[dtypes_lib.DType] = []
        self.dense_shapes: list[TensorShape] = []
        self.dense_features: list[Any] = []
        for key in sorted(features):
            feature = features[key]
            if isinstance(feature, VarLenFeature):
                self.sparse_keys.append(key)
                self.sparse_types.append(_dtype_of(feature))
            elif isinstance(feature, FixedLenFeature):
                shape = as_shape(feature.shape)
                if shape.ndims is None or not shape.is_fully_defined():
                    if shape.ndims and shape[0].value is None:
                        raise ValueError(f"First dimension of shape for feature {key} unknown. Consider using "
                                         f"FixedLenSequenceFeature. Received feature={feature}.")
                    raise ValueError(f"All dimensions of shape for feature {key} need to be known but received "
                                     f"{shape}.")
                self._dense(key, feature, shape)
            elif isinstance(feature, FixedLenSequenceFeature):
                if not sequence and not feature.allow_missing:
                    raise ValueError("Unsupported: FixedLenSequenceFeature requires allow_missing to be True.")
                shape = as_shape(feature.shape)
                if shape.ndims is None or not shape.is_fully_defined():
                    raise ValueError(f"All dimensions of shape for feature {key} need to be known but received "
                                     f"{shape}.")
                self._dense(key, feature, TensorShape([None]).concatenate(shape) if not sequence else shape)
            else:
                raise ValueError(f"Unsupported feature type: {type(feature).__name__}")

    def _dense(self, key: str, feature: Any, shape: TensorShape) -> None:
        self.dense_keys.append(key)
        self.dense_types.append(_dtype_of(feature))
        self.dense_shapes.append(shape)
        self.dense_features.append(feature)

    def dense_defaults(self) -> list[Tensor]:
        """The defaults the op takes, built as TF builds them (see the module docstring)."""
        from caudal.ops.array_ops import reshape
        from caudal.ops.constant_ops import constant

        defaults = []
        for key, dtype, shape, feature in zip(self.dense_keys, self.dense_types, self.dense_shapes,
                                              self.dense_features):
            value = feature.default_value
            _check_parse_type(dtype, "dense_defaults")
            if shape.ndims and shape[0].value is None:
                if value is None:
                    default = constant(b"" if dtype is dtypes_lib.string else np.zeros((), dtype.as_numpy_dtype))
                else:
                    default = reshape(convert_to_tensor(value, dtype=dtype, name=_key_name("padding_", key)), [])
            elif value is None:
                default = constant(np.zeros((0,), dtype.as_numpy_dtype if dtype is not dtypes_lib.string else object),
                                   dtype=dtype)
            elif isinstance(value, Tensor):
                default = value
            else:
                default = reshape(convert_to_tensor(value, dtype=dtype, name=_key_name("key_", key)),
                                  shape.as_list())
            defaults.append(default)
        return defaults


def _check_parse_type(dtype: dtypes_lib.DType, param: str) -> None:
    if dtype not in _PARSE_TYPES:
        raise TypeError(f"Value passed to parameter '{param}' has DataType {dtype.name} not in list of allowed "
                        "values: float32, int64, string")


def _string_vector(values: list[str], name: str) -> Tensor:
    from caudal.ops.constant_ops import constant

    array = np.empty((len(values),), dtype=object)
    array[:] = [v.encode("utf-8") for v in values]
    return constant(array, dtype=dtypes_lib.string, name=name)


def _keys(array: Any) -> list[str]:
    return [k.decode("utf-8") if isinstance(k, bytes) else str(k) for k in np.asarray(array).reshape(-1)]


def _shape_dims(shape: TensorShape) -> list[int]:
    return [-1 if d is None else int(d) for d in shape.as_list()]


def _single_or_tuple(outputs: list[Any]) -> Any:
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


# ------------------------------------------------------------------ ParseExampleV2
def _parse_example_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.string]), "serialized")
    num_sparse = int(ctx.attrs["num_sparse"])
    sparse_types = list(ctx.attrs["sparse_types"])
    dense_types = [dtypes_lib.as_dtype(t) for t in ctx.attrs["Tdense"]]
    dense_shapes = [as_shape(s) for s in ctx.attrs["dense_shapes"]]
    if ctx.attrs.get("ragged_value_types") or ctx.attrs.get("ragged_split_types"):
        raise ValueError("ParseExampleV2 with ragged features is not supported by caudal")
    if len(sparse_types) != num_sparse:
        raise ValueError(f"len(sparse_types) != num_sparse: {len(sparse_types)} vs. {num_sparse}")
    if len(dense_shapes) != len(dense_types):
        raise ValueError(f"len(dense_shapes) != len(Tdense): {len(dense_shapes)} vs. {len(dense_types)}")
    for i, dtype in enumerate(dense_types):
        _check_parse_type(dtype, "dense_defaults")
        if ctx.dtype(5 + i) != dtype:
            raise TypeError(f"Input 'dense_defaults' of 'ParseExampleV2' Op has type {ctx.dtype(5 + i).name} that "
                            f"does not match expected type of {dtype.name}.")
    rank = ctx.shape(0).ndims
    if rank is not None and rank > 1:
        raise ValueError(f"Shape must be at most rank 1 but is rank {rank}")
    batch = [] if rank == 0 else [ctx.shape(0)[0].value if rank == 1 else None]
    index_width = None if rank is None else rank + 1
    specs = [(dtypes_lib.int64, TensorShape([None, index_width])) for _ in sparse_types]
    specs += [(dtypes_lib.as_dtype(t), TensorShape([None])) for t in sparse_types]
    specs += [(dtypes_lib.int64, TensorShape([index_width])) for _ in sparse_types]
    for dtype, shape in zip(dense_types, dense_shapes):
        specs.append((dtype, unknown_shape() if rank is None else TensorShape(batch).concatenate(shape)))
    return specs


def _parse_example_kernel(xp: Any, serialized: Any, names: Any, sparse_keys: Any, dense_keys: Any,
                          ragged_keys: Any, *dense_defaults: Any, sparse_types: list, Tdense: list,
                          dense_shapes: list) -> Any:
    from caudal.errors import InvalidArgumentError

    serialized = np.asarray(serialized)
    if serialized.ndim > 1:
        raise InvalidArgumentError(None, None, "Expected serialized to be a scalar or vector, got shape: "
                                               f"{list(serialized.shape)}")
    indices, values, shapes, dense = _example_decoding.parse_examples(
        serialized, names, _keys(sparse_keys), [dtypes_lib.as_dtype(t) for t in sparse_types], _keys(dense_keys),
        [dtypes_lib.as_dtype(t) for t in Tdense], [_shape_dims(as_shape(s)) for s in dense_shapes],
        list(dense_defaults))
    return _single_or_tuple(indices + values + shapes + dense)


register_op("ParseExampleV2", infer=_parse_example_infer, kernel=_parse_example_kernel, grad=NOT_DIFFERENTIABLE)


def _parse_example_op(serialized: Tensor, names: Any, spec: _ParseSpec, defaults: list[Tensor]) -> dict[str, Any]:
    graph = serialized.graph
    with graph.name_scope("ParseExampleV2") as scope:
        names_t = convert_to_tensor([] if names is None else names, dtype=dtypes_lib.string, name="names")
        inputs = [serialized, names_t, _string_vector(spec.sparse_keys, "sparse_keys"),
                  _string_vector(spec.dense_keys, "dense_keys"), _string_vector([], "ragged_keys")] + defaults
        op = make_op("ParseExampleV2", inputs,
                     {"Tdense": list(spec.dense_types), "num_sparse": len(spec.sparse_keys),
                      "sparse_types": list(spec.sparse_types), "ragged_value_types": [], "ragged_split_types": [],
                      "dense_shapes": list(spec.dense_shapes)}, scope)
    return _results(op.outputs, spec.sparse_keys, spec.dense_keys)


def _results(outputs: Any, sparse_keys: list[str], dense_keys: list[str]) -> dict[str, Any]:
    n = len(sparse_keys)
    result: dict[str, Any] = {}
    for i, key in enumerate(sparse_keys):
        result[key] = SparseTensor(outputs[i], outputs[n + i], outputs[2 * n + i])
    for i, key in enumerate(dense_keys):
        result[key] = outputs[3 * n + i]
    return result


def parse_example(serialized: Any, features: dict[str, Any], name: str | None = None,
                  example_names: Any = None) -> dict[str, Any]:
    """`tf.parse_example`: a batch (vector) of serialized Examples parsed into a dict of dense
    Tensors `[batch] + shape` and SparseTensors `[batch, longest]`, one per feature key."""
    if not features:
        raise ValueError(f"Argument `features` cannot be None or falsy. Got {features}")
    spec = _ParseSpec(features)
    graph = serialized.graph if isinstance(serialized, Tensor) else get_default_graph()
    with graph.as_default(), graph.name_scope(name or "ParseExample"):
        serialized_t = convert_to_tensor(serialized, dtype=dtypes_lib.string, name="serialized")
        defaults = spec.dense_defaults()
        return _parse_example_op(serialized_t, example_names, spec, defaults)


def parse_single_example(serialized: Any, features: dict[str, Any], name: str | None = None,
                         example_names: Any = None) -> dict[str, Any]:
    """`tf.parse_single_example`: one serialized Example (a scalar) parsed into a dict of dense
    Tensors of each feature's shape and SparseTensors `[length]`. TF 2.21 builds it as one
    ParseExampleV2 op on the scalar."""
    if not features:
        raise ValueError(f"Argument `features` cannot be None or falsy. Got {features}")
    graph = serialized.graph if isinstance(serialized, Tensor) else get_default_graph()
    with graph.as_default(), graph.name_scope(name or "ParseSingleExample"):
        serialized_t = convert_to_tensor(serialized, dtype=dtypes_lib.string, name="serialized")
        if serialized_t.shape.ndims not in (None, 0):
            raise ValueError("Input serialized must be a scalar")
        return parse_example(serialized_t, features, example_names=example_names)


# ------------------------------------------------------------------ ParseSequenceExampleV2
_SEQUENCE_ATTR_LISTS = ("context_sparse_types", "Tcontext_dense", "context_dense_shapes", "feature_list_sparse_types",
                        "feature_list_dense_types", "feature_list_dense_shapes")


def _parse_sequence_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.string]), "serialized")
    if any(ctx.attrs.get(k) for k in ("context_ragged_value_types", "context_ragged_split_types",
                                      "feature_list_ragged_value_types", "feature_list_ragged_split_types")):
        raise ValueError("ParseSequenceExampleV2 with ragged features is not supported by caudal")
    rank = ctx.shape(0).ndims
    if rank not in (0, None):
        raise ValueError("caudal's ParseSequenceExampleV2 parses one SequenceExample (a scalar) at a time; got "
                         f"rank {rank}")
    context_sparse = [dtypes_lib.as_dtype(t) for t in ctx.attrs["context_sparse_types"]]
    context_dense = [dtypes_lib.as_dtype(t) for t in ctx.attrs["Tcontext_dense"]]
    context_shapes = [as_shape(s) for s in ctx.attrs["context_dense_shapes"]]
    list_sparse = [dtypes_lib.as_dtype(t) for t in ctx.attrs["feature_list_sparse_types"]]
    list_dense = [dtypes_lib.as_dtype(t) for t in ctx.attrs["feature_list_dense_types"]]
    list_shapes = [as_shape(s) for s in ctx.attrs["feature_list_dense_shapes"]]
    for i, dtype in enumerate(context_dense):
        if ctx.dtype(9 + i) != dtype:
            raise TypeError(f"Input 'context_dense_defaults' of 'ParseSequenceExampleV2' Op has type "
                            f"{ctx.dtype(9 + i).name} that does not match expected type of {dtype.name}.")
    int64 = dtypes_lib.int64
    specs = [(int64, TensorShape([None, 1])) for _ in context_sparse]
    specs += [(t, TensorShape([None])) for t in context_sparse]
    specs += [(int64, TensorShape([1])) for _ in context_sparse]
    specs += list(zip(context_dense, context_shapes))
    specs += [(int64, TensorShape([None, 2])) for _ in list_sparse]
    specs += [(t, TensorShape([None])) for t in list_sparse]
    specs += [(int64, TensorShape([2])) for _ in list_sparse]
    specs += [(t, TensorShape([None]).concatenate(s)) for t, s in zip(list_dense, list_shapes)]
    specs += [(int64, TensorShape([])) for _ in list_dense]
    return specs


def _parse_sequence_kernel(xp: Any, serialized: Any, debug_name: Any, context_sparse_keys: Any,
                           context_dense_keys: Any, context_ragged_keys: Any, feature_list_sparse_keys: Any,
                           feature_list_dense_keys: Any, feature_list_ragged_keys: Any,
                           feature_list_dense_missing_assumed_empty: Any, *context_dense_defaults: Any,
                           context_sparse_types: list, Tcontext_dense: list, context_dense_shapes: list,
                           feature_list_sparse_types: list, feature_list_dense_types: list,
                           feature_list_dense_shapes: list) -> Any:
    from caudal.errors import InvalidArgumentError

    if np.ndim(serialized) != 0:
        raise InvalidArgumentError(None, None, "caudal's ParseSequenceExampleV2 parses a scalar serialized "
                                               f"SequenceExample; got shape {list(np.shape(serialized))}")
    types = dtypes_lib.as_dtype
    context_sparse, context_dense, list_sparse, list_dense, lengths = _example_decoding.parse_sequence_example(
        serialized, debug_name, _keys(context_sparse_keys), [types(t) for t in context_sparse_types],
        _keys(context_dense_keys), [types(t) for t in Tcontext_dense],
        [_shape_dims(as_shape(s)) for s in context_dense_shapes], list(context_dense_defaults),
        _keys(feature_list_sparse_keys), [types(t) for t in feature_list_sparse_types],
        _keys(feature_list_dense_keys), [types(t) for t in feature_list_dense_types],
        [_shape_dims(as_shape(s)) for s in feature_list_dense_shapes], feature_list_dense_missing_assumed_empty)
    outputs = [s[0] for s in context_sparse] + [s[1] for s in context_sparse] + [s[2] for s in context_sparse]
    outputs += context_dense
    outputs += [s[0] for s in list_sparse] + [s[1] for s in list_sparse] + [s[2] for s in list_sparse]
    outputs += list_dense + lengths
    return _single_or_tuple(outputs)


register_op("ParseSequenceExampleV2", infer=_parse_sequence_infer, kernel=_parse_sequence_kernel,
            grad=NOT_DIFFERENTIABLE)


def parse_single_sequence_example(serialized: Any, context_features: dict[str, Any] | None = None,
                                  sequence_features: dict[str, Any] | None = None, example_name: Any = None,
                                  name: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """`tf.parse_single_sequence_example`: one serialized SequenceExample parsed into
    `(context, feature_lists)` dicts. Context features parse as in `parse_single_example`;
    FixedLenSequenceFeatures give `[steps] + shape` (a missing list is an error unless
    `allow_missing`), VarLenFeatures SparseTensors `[steps, longest]`."""
    context_features = context_features or {}
    sequence_features = sequence_features or {}
    if not context_features and not sequence_features:
        raise ValueError("Missing features.")
    context = _ParseSpec(context_features)
    for key, feature in sequence_features.items():
        if isinstance(feature, FixedLenFeature):
            raise ValueError(f"Unsupported: FixedLenFeature is not supported in sequence_features (key {key}); use "
                             "FixedLenSequenceFeature.")
    lists = _ParseSpec(sequence_features, sequence=True)
    graph = serialized.graph if isinstance(serialized, Tensor) else get_default_graph()
    with graph.as_default(), graph.name_scope(name or "ParseSingleSequenceExample"):
        serialized_t = convert_to_tensor(serialized, dtype=dtypes_lib.string, name="serialized")
        if serialized_t.shape.ndims not in (None, 0):
            raise ValueError("Input serialized must be a scalar")
        with graph.name_scope("ParseSequenceExample"):
            defaults = context.dense_defaults()
            for dtype in lists.dense_types:
                _check_parse_type(dtype, "feature_list_dense_types")
            with graph.name_scope("ParseSequenceExampleV2") as scope:
                debug = convert_to_tensor(b"" if example_name is None else example_name, dtype=dtypes_lib.string,
                                          name="debug_name")
                from caudal.ops.constant_ops import constant

                assumed_empty = constant(np.array([bool(f.allow_missing) for f in lists.dense_features], bool),
                                         dtype=dtypes_lib.bool_, name="feature_list_dense_missing_assumed_empty")
                inputs = [serialized_t, debug, _string_vector(context.sparse_keys, "context_sparse_keys"),
                          _string_vector(context.dense_keys, "context_dense_keys"),
                          _string_vector([], "context_ragged_keys"),
                          _string_vector(lists.sparse_keys, "feature_list_sparse_keys"),
                          _string_vector(lists.dense_keys, "feature_list_dense_keys"),
                          _string_vector([], "feature_list_ragged_keys"), assumed_empty] + defaults
                attrs = {"Ncontext_sparse": len(context.sparse_keys), "Tcontext_dense": list(context.dense_types),
                         "context_sparse_types": list(context.sparse_types), "context_ragged_value_types": [],
                         "context_ragged_split_types": [], "context_dense_shapes": list(context.dense_shapes),
                         "Nfeature_list_sparse": len(lists.sparse_keys), "Nfeature_list_dense": len(lists.dense_keys),
                         "feature_list_dense_types": list(lists.dense_types),
                         "feature_list_sparse_types": list(lists.sparse_types),
                         "feature_list_ragged_value_types": [], "feature_list_ragged_split_types": [],
                         "feature_list_dense_shapes": list(lists.dense_shapes)}
                op = make_op("ParseSequenceExampleV2", inputs, attrs, scope)
    outputs = op.outputs
    n_context = 3 * len(context.sparse_keys) + len(context.dense_keys)
    context_result = _results(outputs[:n_context], context.sparse_keys, context.dense_keys)
    list_result = _results(outputs[n_context:], lists.sparse_keys, lists.dense_keys)
    return context_result, list_result
