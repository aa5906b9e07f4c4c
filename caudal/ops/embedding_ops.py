"""`tf.nn.embedding_lookup_sparse` and `tf.nn.safe_embedding_lookup_sparse`, built from public ops
as TF 2.21 builds them (the feature columns' embeddings and linear weights go through them):

- without weights, one unpartitioned table and no `max_norm`, the rows are combined straight
  from the table by SparseSegmentSum/Mean/SqrtN over the ids; otherwise the distinct ids are
  looked up (`embedding_lookup`, with its partitions and `max_norm`) and combined by position;
- with weights, each row is scaled by its weight and summed per segment (SegmentSum); "mean"
  divides by the sum of the weights and "sqrtn" by the root of the sum of their squares
  (DivNoNan, so an all-zero row stays zero);
- the safe version flattens ids of rank > 2 to [rows, last], drops ids < 0 (and, unless the
  combiner is "sum", weights <= 0), fills empty rows with `default_id` (or 0) and, without
  a `default_id`, zeroes their result, then restores the leading dimensions.
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.framework.sparse_tensor import SparseTensor
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import Dimension, dimension_value, unknown_shape

__all__ = ["embedding_lookup_sparse", "safe_embedding_lookup_sparse"]

_SEGMENT_OPS = {"sum": "sparse_segment_sum", "mean": "sparse_segment_mean", "sqrtn": "sparse_segment_sqrt_n"}


def _as_params(params: Any) -> list:
    if hasattr(params, "_get_variable_list"):
        params = list(params._get_variable_list())
    return list(params) if isinstance(params, (list, tuple)) else [params]


def embedding_lookup_sparse(params: Any, sp_ids: Any, sp_weights: Any, partition_strategy: str = "mod",
                            name: str | None = None, combiner: str | None = None, max_norm: Any = None,
                            allow_fast_lookup: bool = False) -> Tensor:
    """`tf.nn.embedding_lookup_sparse`: for each row of the SparseTensor `sp_ids`, its embeddings
    combined by `combiner` ("mean" by default), weighted by `sp_weights` when given."""
    from caudal.ops import sparse_segment_ops
    from caudal.ops.array_ops import concat, expand_dims, rank, reshape, shape
    from caudal.ops.constant_ops import ones
    from caudal.ops.gather_ops import gather
    from caudal.ops.index_ops import segment_sum
    from caudal.ops.math_ops import cast, multiply, pow, sqrt
    from caudal.ops.nn_ops import embedding_lookup
    from caudal.ops.sort_ops import unique

    if combiner is None:
        combiner = "mean"
    if combiner not in ("mean", "sqrtn", "sum"):
        raise ValueError(f"combiner must be one of 'mean', 'sqrtn' or 'sum', got {combiner}")
    params = _as_params(params)
    if not isinstance(sp_ids, SparseTensor):
        raise TypeError(f"sp_ids must be SparseTensor, got {type(sp_ids)}")
    ignore_weights = sp_weights is None
    if not ignore_weights:
        if not isinstance(sp_weights, SparseTensor):
            raise TypeError(f"sp_weights must be either None or SparseTensor,got {type(sp_weights)}")
        sp_ids.values.shape.assert_is_compatible_with(sp_weights.values.shape)
        sp_ids.indices.shape.assert_is_compatible_with(sp_weights.indices.shape)
        sp_ids.dense_shape.shape.assert_is_compatible_with(sp_weights.dense_shape.shape)
    graph = get_default_graph()
    with graph.name_scope(name or "embedding_lookup_sparse") as scope:
        segment_ids = convert_to_tensor(sp_ids.indices[:, 0], name="segment_ids")
        ids = sp_ids.values
        if len(params) == 1 and max_norm is None and (allow_fast_lookup or ignore_weights):
            idx = ids
            embeddings = convert_to_tensor(params[0], name="params")
        else:
            ids, idx = unique(ids)
            embeddings = embedding_lookup(params, ids, partition_strategy=partition_strategy, max_norm=max_norm)
        if ignore_weights:
            if segment_ids.dtype.base_dtype not in (dtypes_lib.int32, dtypes_lib.int64):
                segment_ids = cast(segment_ids, dtypes_lib.int32)
            reduce = getattr(sparse_segment_ops, _SEGMENT_OPS[combiner])
            return reduce(embeddings, idx, segment_ids, name=scope)
        if segment_ids.dtype.base_dtype != dtypes_lib.int32:
            segment_ids = cast(segment_ids, dtypes_lib.int32)
        weights = sp_weights.values
        embeddings = gather(embeddings, idx)
        original_dtype = embeddings.dtype.base_dtype
        if original_dtype in (dtypes_lib.float16, dtypes_lib.bfloat16):
            embeddings = cast(embeddings, dtypes_lib.float32)
        if weights.dtype.base_dtype != embeddings.dtype.base_dtype:
            weights = cast(weights, embeddings.dtype.base_dtype)
        ones_shape = expand_dims(rank(embeddings) - 1, 0)
        weights_shape = shape(weights)
        bcast_weights_shape = concat([weights_shape, ones(ones_shape, dtype=weights_shape.dtype)], 0)
        original_weights_shape = weights.shape
        weights = reshape(weights, bcast_weights_shape)
        if embeddings.shape.ndims is not None:
            weights.set_shape(original_weights_shape.concatenate([1] * (embeddings.shape.ndims - 1)))
        embeddings = multiply(embeddings, weights)
        if combiner == "sum":
            embeddings = segment_sum(embeddings, segment_ids, name=scope)
        elif combiner == "mean":
            embeddings = segment_sum(embeddings, segment_ids)
            weight_sum = segment_sum(weights, segment_ids)
            embeddings = sparse_segment_ops.div_no_nan(embeddings, weight_sum, name=scope)
        else:
            embeddings = segment_sum(embeddings, segment_ids)
            weight_sum = segment_sum(pow(weights, 2), segment_ids)
            embeddings = sparse_segment_ops.div_no_nan(embeddings, sqrt(weight_sum), name=scope)
        if embeddings.dtype.base_dtype != original_dtype:
            embeddings = cast(embeddings, original_dtype)
        return embeddings


def _prune(sparse_ids: SparseTensor, sparse_weights: SparseTensor | None,
           keep: Tensor) -> tuple[SparseTensor, SparseTensor | None]:
    from caudal.ops.sparse_rows_ops import sparse_retain

    ids = sparse_retain(sparse_ids, keep)
    weights = sparse_retain(sparse_weights, keep) if sparse_weights is not None else None
    return ids, weights


def safe_embedding_lookup_sparse(embedding_weights: Any, sparse_ids: Any, sparse_weights: Any = None,
                                 combiner: str = "mean", default_id: Any = None, name: str | None = None,
                                 partition_strategy: str = "div", max_norm: Any = None,
                                 allow_fast_lookup: bool = False) -> Tensor:
    """`tf.nn.safe_embedding_lookup_sparse`: embedding_lookup_sparse that tolerates invalid ids
    (< 0), non-positive weights (unless summing) and empty rows (zeros, or `default_id`'s row),
    for ids of any rank >= 2: the result has the ids' leading dimensions and the embedding's."""
    from caudal.ops.array_ops import concat, reshape, shape, size, stack
    from caudal.ops.array_ops import slice as slice_
    from caudal.ops.comparison_ops import greater, greater_equal, logical_and, where
    from caudal.ops.constant_ops import ones_like, zeros_like
    from caudal.ops.gather_ops import gather
    from caudal.ops.manip_ops import tile
    from caudal.ops.math_ops import cast
    from caudal.ops.reduction_ops import reduce_prod
    from caudal.ops.sparse_rows_ops import sparse_fill_empty_rows, sparse_reshape

    if embedding_weights is None:
        raise ValueError(f"Missing embedding_weights {embedding_weights}.")
    weights_list = _as_params(embedding_weights)
    if len(weights_list) < 1:
        raise ValueError(f"Missing embedding_weights {weights_list}.")
    dtype = sparse_weights.dtype if sparse_weights is not None else None
    weights_list = [convert_to_tensor(w, dtype=dtype) for w in weights_list]
    graph = get_default_graph()
    with graph.name_scope(name or "embedding_lookup") as scope:
        original_shape = sparse_ids.dense_shape
        original_rank_dim = dimension_value(sparse_ids.dense_shape.shape[0])
        original_rank = size(original_shape) if original_rank_dim is None else original_rank_dim
        sparse_ids = sparse_reshape(sparse_ids, [reduce_prod(slice_(original_shape, [0], [original_rank - 1])),
                                                 gather(original_shape, original_rank - 1)])
        if sparse_weights is not None:
            sparse_weights = SparseTensor(sparse_ids.indices, sparse_weights.values, sparse_ids.dense_shape)
        keep = greater_equal(sparse_ids.values, 0)
        if sparse_weights is not None:
            keep = logical_and(keep, ones_like(sparse_weights.values, dtype=dtypes_lib.bool_))
        sparse_ids, sparse_weights = _prune(sparse_ids, sparse_weights, keep)
        if combiner != "sum" and sparse_weights is not None:
            sparse_ids, sparse_weights = _prune(sparse_ids, sparse_weights, greater(sparse_weights.values, 0))
        sparse_ids, is_row_empty = sparse_fill_empty_rows(sparse_ids, default_id or 0)
        if sparse_weights is not None:
            sparse_weights, _ = sparse_fill_empty_rows(sparse_weights, 1.0)
        result = embedding_lookup_sparse(weights_list, sparse_ids, sparse_weights, combiner=combiner,
                                         partition_strategy=partition_strategy,
                                         name=None if default_id is None else scope, max_norm=max_norm,
                                         allow_fast_lookup=allow_fast_lookup)
        if default_id is None:
            is_row_empty = tile(reshape(is_row_empty, [-1, 1]), stack([1, shape(result)[1]]))
            result = where(is_row_empty, zeros_like(result), result, name=scope)
        final = reshape(result, concat([slice_(cast(original_shape, dtypes_lib.int32), [0], [original_rank - 1]),
                                        slice_(shape(result), [1], [-1])], 0))
        leading = unknown_shape(None if original_rank_dim is None else (Dimension(original_rank_dim) - 1).value)
        final.set_shape(leading.concatenate(result.shape[1:]))
        return final
