"""`tf.metrics` over the top k predicted classes: `precision_at_k`, `precision_at_top_k`,
`recall_at_k`, `recall_at_top_k`, `average_precision_at_k` and the deprecated `sparse_*` aliases.

TF counts these with its set ops over the last axis (SetSize of DenseToDense/DenseToSparse set
operations). caudal has no set ops; it counts the same sets with comparisons: each row of ids is
the values along the last axis (dense labels: all of them, -1 included, as in TF; SparseTensor
labels: the values present), and an id counts once however often it repeats. Labels may be a
dense int64 tensor or a SparseTensor(-Value). Accumulators are float64 (`precision_at_2/
true_positive_at_2`, ...); `value` is tp / (tp + fp) (or fn), NaN before any data, as in TF.

One difference: TF's set sizes have no static shape, so a weights shape that cannot broadcast is
reported when the graph runs (InvalidArgumentError); here the static shapes are usually known and
the same check fails while the graph is built (ValueError with TF's message).
"""
from __future__ import annotations

from typing import Any, NamedTuple

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import control_dependencies, name_scope
from caudal.framework.tensor import Tensor
from caudal.ops.metrics_impl import collect, div_no_nan, metric_variable, read_variable
from caudal.variables import assign_add

__all__ = ["precision_at_k", "precision_at_top_k", "recall_at_k", "recall_at_top_k", "average_precision_at_k",
           "sparse_precision_at_k", "sparse_average_precision_at_k"]


# ------------------------------------------------------------ id sets
class _IdRows(NamedTuple):
    """Rows of id sets along the last axis: `ids` (int64) and which entries are present (`present`,
    None when all are)."""
    ids: Tensor
    present: Tensor | None


class _SparseLabels(NamedTuple):
    """Sparse labels whose values were replaced (out-of-range classes cleaned)."""
    indices: Any
    values: Any
    dense_shape: Any


def _is_sparse(value: Any) -> bool:
    """A SparseTensor, SparseTensorValue or any other (indices, values, dense_shape) triple."""
    return all(hasattr(value, attr) for attr in ("indices", "values", "dense_shape")) and not isinstance(value, Tensor)


def _check_id_dtype(ids: Tensor) -> None:
    if ids.dtype.base_dtype != dtypes_lib.int64:
        raise TypeError(f"Types don't match, {dtypes_lib.int64} vs {ids.dtype.base_dtype}.")


def _labels_as_rows(labels: Any) -> _IdRows:
    """Dense labels as they are; a SparseTensor scattered into a dense id tensor and a mask."""
    from caudal.ops.comparison_ops import greater
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.index_ops import scatter_nd
    from caudal.ops.math_ops import cast

    if not _is_sparse(labels):
        labels = convert_to_tensor(labels)
        _check_id_dtype(labels)
        return _IdRows(labels, None)
    indices = convert_to_tensor(labels.indices, dtype=dtypes_lib.int64)
    values = convert_to_tensor(labels.values)
    _check_id_dtype(values)
    dense_shape = convert_to_tensor(labels.dense_shape, dtype=dtypes_lib.int64)
    ids = scatter_nd(indices, values, dense_shape)
    present = greater(scatter_nd(indices, cast(ones_like(values), dtypes_lib.int32), dense_shape), 0)
    return _IdRows(ids, present)


def _map_rows(rows: _IdRows, fn: Any) -> _IdRows:
    return _IdRows(fn(rows.ids), None if rows.present is None else fn(rows.present))


def _first_occurrences(rows: _IdRows) -> Tensor:
    """Whether each entry is present and no earlier present entry of its row holds the same id."""
    from caudal.ops.array_ops import expand_dims, shape
    from caudal.ops.array_ops import range as range_
    from caudal.ops.comparison_ops import equal, less, logical_and, logical_not
    from caudal.ops.reduction_ops import reduce_any

    ids = rows.ids
    positions = range_(shape(ids)[-1])
    earlier = less(expand_dims(positions, 0), expand_dims(positions, 1))  # [i, j]: j < i
    same = logical_and(equal(expand_dims(ids, -1), expand_dims(ids, -2)), earlier)
    if rows.present is not None:
        same = logical_and(same, expand_dims(rows.present, -2))
    first = logical_not(reduce_any(same, -1))
    return first if rows.present is None else logical_and(first, rows.present)


def _found_in(a: _IdRows, b: _IdRows) -> Tensor:
    """Whether each entry of `a` is among the present ids of the same row of `b`."""
    from caudal.ops.array_ops import expand_dims
    from caudal.ops.comparison_ops import equal, logical_and
    from caudal.ops.reduction_ops import reduce_any

    matches = equal(expand_dims(a.ids, -1), expand_dims(b.ids, -2))
    if b.present is not None:
        matches = logical_and(matches, expand_dims(b.present, -2))
    return reduce_any(matches, -1)


def _count(mask: Tensor) -> Tensor:
    from caudal.ops.math_ops import cast
    from caudal.ops.reduction_ops import reduce_sum

    return reduce_sum(cast(mask, dtypes_lib.int32), -1)


def _intersection_size(a: _IdRows, b: _IdRows) -> Tensor:
    from caudal.ops.comparison_ops import logical_and

    return _count(logical_and(_first_occurrences(a), _found_in(a, b)))


def _difference_size(a: _IdRows, b: _IdRows) -> Tensor:
    """The size of each row of a - b."""
    from caudal.ops.comparison_ops import logical_and, logical_not

    return _count(logical_and(_first_occurrences(a), logical_not(_found_in(a, b))))


def _select_class_id(rows: _IdRows, class_id: int) -> _IdRows:
    """Only the entries equal to `class_id` stay present."""
    from caudal.ops.comparison_ops import equal, logical_and

    selected = equal(rows.ids, convert_to_tensor(class_id, dtype=dtypes_lib.int64))
    return _IdRows(rows.ids, selected if rows.present is None else logical_and(rows.present, selected))


def _maybe_expand_labels(labels: Any, predictions: Tensor) -> _IdRows:
    """Labels with a trailing axis of 1 added when their rank is one less than the predictions'."""
    from caudal.ops.array_ops import expand_dims, rank
    from caudal.ops.comparison_ops import equal
    from caudal.ops.cond_ops import cond

    with name_scope(None, "expand_labels", [predictions]):
        rows = _labels_as_rows(labels)
        predictions_rank = predictions.shape.ndims
        labels_rank = rows.ids.shape.ndims
        if labels_rank is not None and predictions_rank is not None:
            if predictions_rank == labels_rank:
                return rows
            if predictions_rank == labels_rank + 1:
                return _map_rows(rows, lambda t: expand_dims(t, -1))
            raise ValueError(f"Unexpected labels shape {rows.ids.shape} for predictions shape {predictions.shape}. "
                             "Predictions rank should be the same rank as labels rank or labels rank plus one .")
        needs_axis = equal(rank(predictions), rank(rows.ids) + 1)
        return _map_rows(rows, lambda t: cond(needs_axis, lambda: expand_dims(t, -1), lambda: t))


def _at_k_name(name: str, k: int | None = None, class_id: int | None = None) -> str:
    name = f"{name}_at_{k}" if k is not None else f"{name}_at_k"
    return f"{name}_class{class_id}" if class_id is not None else name


# ------------------------------------------------------------ counts
def _weighted(counts: Tensor, weights: Any) -> Tensor:
    """The float64 counts, times the weights after TF's broadcast check."""
    from caudal.ops.math_ops import cast, multiply
    from caudal.ops.weights_broadcast_ops import assert_broadcastable

    counts = cast(counts, dtypes_lib.float64)
    if weights is None:
        return counts
    with control_dependencies([assert_broadcastable(weights, counts)]):
        return multiply(counts, cast(weights, dtypes_lib.float64))


def _true_positives(labels: _IdRows, predictions_idx: _IdRows, class_id: int | None, weights: Any,
                    name: str | None = None) -> Tensor:
    with name_scope(name, "true_positives", [predictions_idx.ids, labels.ids]):
        if class_id is not None:
            labels, predictions_idx = _select_class_id(labels, class_id), _select_class_id(predictions_idx, class_id)
        return _weighted(_intersection_size(predictions_idx, labels), weights)


def _false_positives(labels: _IdRows, predictions_idx: _IdRows, class_id: int | None, weights: Any) -> Tensor:
    with name_scope(None, "false_positives", [predictions_idx.ids, labels.ids]):
        if class_id is not None:
            labels, predictions_idx = _select_class_id(labels, class_id), _select_class_id(predictions_idx, class_id)
        return _weighted(_difference_size(predictions_idx, labels), weights)


def _false_negatives(labels: _IdRows, predictions_idx: _IdRows, class_id: int | None, weights: Any) -> Tensor:
    with name_scope(None, "false_negatives", [predictions_idx.ids, labels.ids]):
        if class_id is not None:
            labels, predictions_idx = _select_class_id(labels, class_id), _select_class_id(predictions_idx, class_id)
        return _weighted(_difference_size(labels, predictions_idx), weights)


def _streaming_count(counter: Any, kind: str, labels: _IdRows, predictions_idx: _IdRows, k: int | None,
                     class_id: int | None, weights: Any) -> tuple[Any, Tensor]:
    """A float64 accumulator named after the count (`true_positive_at_2`) and its update op."""
    from caudal.ops.math_ops import cast
    from caudal.ops.reduction_ops import reduce_sum

    with name_scope(None, _at_k_name(kind, k, class_id=class_id), [predictions_idx.ids, labels.ids]) as scope:
        counts = counter(labels, predictions_idx, class_id, weights)
        batch_total = cast(reduce_sum(counts), dtypes_lib.float64)
        variable = metric_variable([], dtypes_lib.float64, name=scope)
        return variable, assign_add(variable, batch_total, name="update")


def _ratio_at_top_k(kind: str, labels: Any, predictions_idx: Any, k: int | None, class_id: int | None,
                    weights: Any, metrics_collections: Any, updates_collections: Any,
                    name: str | None) -> tuple[Tensor, Tensor]:
    """tp / (tp + fp) for precision, tp / (tp + fn) for recall, over the given top-k ids."""
    from caudal.ops.math_ops import add, cast, divide

    with name_scope(name, _at_k_name(kind, k, class_id=class_id), [predictions_idx, labels, weights]) as scope:
        predictions_idx = convert_to_tensor(predictions_idx)
        label_rows = _maybe_expand_labels(labels, predictions_idx)
        top_k = _IdRows(cast(predictions_idx, dtypes_lib.int64), None)
        tp, tp_update = _streaming_count(_true_positives, "true_positive", label_rows, top_k, k, class_id, weights)
        if kind == "precision":
            other, other_update = _streaming_count(_false_positives, "false_positive", label_rows, top_k, k,
                                                   class_id, weights)
        else:
            other, other_update = _streaming_count(_false_negatives, "false_negative", label_rows, top_k, k,
                                                   class_id, weights)
        tp, other = read_variable(tp), read_variable(other)
        value = divide(tp, add(tp, other), name=scope)
        collect(metrics_collections, value)
        update = divide(tp_update, add(tp_update, other_update), name="update")
        collect(updates_collections, update)
        return value, update


def precision_at_top_k(labels: Any, predictions_idx: Any, k: int | None = None, class_id: int | None = None,
                       weights: Any = None, metrics_collections: Any = None, updates_collections: Any = None,
                       name: str | None = None) -> tuple[Tensor, Tensor]:
    """Precision of the given top-k class ids [..., k] against `labels` ([..., num_labels] or one
    rank lower); with `class_id`, only that class counts."""
    return _ratio_at_top_k("precision", labels, predictions_idx, k, class_id, weights, metrics_collections,
                           updates_collections, name)


def recall_at_top_k(labels: Any, predictions_idx: Any, k: int | None = None, class_id: int | None = None,
                    weights: Any = None, metrics_collections: Any = None, updates_collections: Any = None,
                    name: str | None = None) -> tuple[Tensor, Tensor]:
    """Recall of the given top-k class ids [..., k] against `labels`; dense labels outside the
    classes (such as -1) count as false negatives, as in TF."""
    return _ratio_at_top_k("recall", labels, predictions_idx, k, class_id, weights, metrics_collections,
                           updates_collections, name)


def _top_k_then(kind: str, labels: Any, predictions: Any, k: int, class_id: int | None, weights: Any,
                metrics_collections: Any, updates_collections: Any, name: str | None) -> tuple[Tensor, Tensor]:
    from caudal.ops.sort_ops import top_k

    with name_scope(name, _at_k_name(kind, k, class_id=class_id), [predictions, labels, weights]) as scope:
        _, top_k_idx = top_k(predictions, k)
        return _ratio_at_top_k(kind, labels, top_k_idx, k, class_id, weights, metrics_collections,
                               updates_collections, scope)


def precision_at_k(labels: Any, predictions: Any, k: int, class_id: int | None = None, weights: Any = None,
                   metrics_collections: Any = None, updates_collections: Any = None,
                   name: str | None = None) -> tuple[Tensor, Tensor]:
    """Precision of the k highest-scoring classes of `predictions` [..., num_classes]."""
    return _top_k_then("precision", labels, predictions, k, class_id, weights, metrics_collections,
                       updates_collections, name)


def recall_at_k(labels: Any, predictions: Any, k: int, class_id: int | None = None, weights: Any = None,
                metrics_collections: Any = None, updates_collections: Any = None,
                name: str | None = None) -> tuple[Tensor, Tensor]:
    """Recall of the k highest-scoring classes of `predictions` [..., num_classes]."""
    return _top_k_then("recall", labels, predictions, k, class_id, weights, metrics_collections,
                       updates_collections, name)


def sparse_precision_at_k(labels: Any, predictions: Any, k: int, class_id: int | None = None, weights: Any = None,
                          metrics_collections: Any = None, updates_collections: Any = None,
                          name: str | None = None) -> tuple[Tensor, Tensor]:
    """Deprecated alias of `precision_at_k`."""
    return precision_at_k(labels, predictions, k, class_id, weights, metrics_collections, updates_collections, name)


# ------------------------------------------------------ average precision
def _num_relevant(labels: _IdRows, k: int) -> Tensor:
    """min(k, number of labels) per row: the labels >= 0 of dense labels, the distinct present ids
    of sparse ones."""
    from caudal.ops.comparison_ops import greater_equal
    from caudal.ops.math_ops import minimum

    if k < 1:
        raise ValueError(f"Invalid k={k}")
    with name_scope(None, "num_relevant", [labels.ids]) as scope:
        if labels.present is not None:
            return minimum(_count(_first_occurrences(labels)), k, name=scope)
        return minimum(_count(greater_equal(labels.ids, 0)), k, name=scope)


def _average_precision(labels: Any, predictions_idx: Tensor) -> Tensor:
    """Per row: the sum of precision@i over the ranks i whose prediction is relevant, divided by
    the number of relevant items (float64)."""
    from caudal.ops.array_ops import expand_dims
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.math_ops import cast, divide, multiply
    from caudal.ops.reduction_ops import reduce_sum
    from caudal.ops.scan_ops import cumsum

    with name_scope(None, "average_precision", [predictions_idx]) as scope:
        predictions_idx = cast(predictions_idx, dtypes_lib.int64, name="predictions_idx")
        if predictions_idx.shape.ndims == 0:
            raise ValueError("The rank of `predictions_idx` must be at least 1.")
        k = predictions_idx.shape.as_list()[-1]
        if k is None:
            raise ValueError("The last dimension of predictions_idx must be set. Currently, it is None.")
        labels = _maybe_expand_labels(labels, predictions_idx)
        per_k = _IdRows(expand_dims(predictions_idx, -1, name="predictions_idx_per_k"), None)
        labels_per_k = _map_rows(labels, lambda t: expand_dims(t, -2))
        relevant = _true_positives(labels_per_k, per_k, None, None, name="relevant_per_k")
        tp_per_k = cumsum(relevant, axis=-1, name="tp_per_k")
        retrieved_per_k = cumsum(ones_like(relevant), axis=-1, name="retrieved_per_k")
        precision_per_k = divide(tp_per_k, retrieved_per_k, name="precision_per_k")
        relevant_precision = multiply(precision_per_k, relevant, name="relevant_precision_per_k")
        precision_sum = reduce_sum(relevant_precision, axis=(-1,), name="precision_sum")
        num_relevant = cast(_num_relevant(labels, k), dtypes_lib.float64)
        return divide(precision_sum, num_relevant, name=scope)


def _clean_out_of_range(labels: Any, num_classes: Tensor) -> Any:
    """Labels >= num_classes become -1 (values of a SparseTensor, entries of a dense tensor), under
    a cond on the largest label, as in TF."""
    from caudal.ops.comparison_ops import greater_equal, where_v2
    from caudal.ops.cond_ops import cond
    from caudal.ops.constant_ops import ones_like
    from caudal.ops.reduction_ops import reduce_max

    sparse = _is_sparse(labels)
    values = convert_to_tensor(labels.values if sparse else labels)
    max_label = reduce_max(values)
    cleaned = cond(greater_equal(max_label, num_classes),
                   lambda: where_v2(greater_equal(values, num_classes), -1 * ones_like(values), values),
                   lambda: values)
    return _SparseLabels(labels.indices, cleaned, labels.dense_shape) if sparse else cleaned


def average_precision_at_k(labels: Any, predictions: Any, k: int, weights: Any = None,
                           metrics_collections: Any = None, updates_collections: Any = None,
                           name: str | None = None) -> tuple[Tensor, Tensor]:
    """Mean average precision@k: per example, the average precision of the k highest-scoring
    classes (labels >= num_classes ignored), averaged over examples (weighted); float64
    accumulators `average_precision_at_k/total` and `.../max` (named `max_1`, as in TF, because the
    Max op takes `max`)."""
    from caudal.ops.array_ops import shape, size
    from caudal.ops.math_ops import cast, multiply
    from caudal.ops.reduction_ops import reduce_sum
    from caudal.ops.sort_ops import top_k
    from caudal.ops.weights_broadcast_ops import broadcast_weights

    if k < 1:
        raise ValueError(f"Invalid k={k}. `k` should be >= 1.")
    with name_scope(name, _at_k_name("average_precision", k), [predictions, labels, weights]) as scope:
        _, predictions_idx = top_k(predictions, k)
        labels = _clean_out_of_range(labels, cast(shape(predictions)[-1], dtypes_lib.int64))
        average_precision = _average_precision(labels, predictions_idx)
        if weights is not None:
            weights = broadcast_weights(cast(weights, dtypes_lib.float64), average_precision)
            average_precision = multiply(average_precision, weights)
        with name_scope(None, "max", [average_precision]) as max_scope:
            max_var = metric_variable([], dtypes_lib.float64, name=max_scope)
            if weights is None:
                batch_max = cast(size(average_precision, name="batch_max"), dtypes_lib.float64)
            else:
                batch_max = reduce_sum(weights, name="batch_max")
            max_update = assign_add(max_var, batch_max, name="update")
        with name_scope(None, "total", [average_precision]) as total_scope:
            total_var = metric_variable([], dtypes_lib.float64, name=total_scope)
            batch_total = reduce_sum(average_precision, name="batch_total")
            total_update = assign_add(total_var, batch_total, name="update")
        value = div_no_nan(read_variable(total_var), read_variable(max_var), name="mean")
        collect(metrics_collections, value)
        update = div_no_nan(total_update, max_update, name=scope)
        collect(updates_collections, update)
        return value, update


def sparse_average_precision_at_k(labels: Any, predictions: Any, k: int, weights: Any = None,
                                  metrics_collections: Any = None, updates_collections: Any = None,
                                  name: str | None = None) -> tuple[Tensor, Tensor]:
    """Deprecated alias of `average_precision_at_k`."""
    return average_precision_at_k(labels, predictions, k, weights, metrics_collections, updates_collections, name)
