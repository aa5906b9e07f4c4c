"""Records: the ops feature columns use. StringToHashBucketFast, AsString, Bucketize, SparseCross
(caudal.ops.categorical_ops), SparseReshape, SparseFillEmptyRows and its gradient op
(sparse_rows_ops), SparseSegmentSum/Mean/SqrtN, their gradient ops and DivNoNan
(sparse_segment_ops), each against a NumPy or plain-Python reference. TensorFlow's own values for
the hashes, crosses and messages are checked in tests/test_feature_column_ops.py; the table ops
there too."""
import itertools

import numpy as np

import caudal as tf
from caudal.framework.graph import make_op
from caudal.ops import categorical_ops, sparse_rows_ops, sparse_segment_ops
from caudal.ops._farmhash import fingerprint64, fingerprint_cat64
from tests.ops.record import OpRecord, positive, uniform

WORDS = np.array([[b"apple", b""], [b"kiwi", b"a much longer string than sixteen bytes"]], dtype=object)
INDICES = np.array([[0, 0], [1, 0], [1, 1], [3, 1]], np.int64)


def _hash_reference(strings, buckets):
    flat = [fingerprint64(bytes(s)) % buckets for s in np.asarray(strings).reshape(-1)]
    return np.array(flat, np.int64).reshape(np.shape(strings))


def _cross_reference(indices, values, shape, dense, num_buckets):
    rows = [[] for _ in range(int(shape[0]))]
    for (row, _), value in zip(indices, values):
        rows[int(row)].append(fingerprint64(bytes(value)))
    out_indices, out_values = [], []
    for b, row in enumerate(rows):
        columns = [row, [int(v) & ((1 << 64) - 1) for v in dense[b]]]
        for k, combination in enumerate(itertools.product(*columns)):
            hashed = categorical_ops.DEFAULT_HASH_KEY
            for feature in combination:
                hashed = fingerprint_cat64(hashed, feature)
            out_indices.append([b, k])
            out_values.append(hashed % num_buckets)
    widest = max(len(rows[b]) * len(dense[b]) for b in range(len(rows)))
    return [np.array(out_indices, np.int64).reshape(-1, 2), np.array(out_values, np.int64),
            np.array([len(rows), widest], np.int64)]


def _cross(indices, values, shape, dense):
    result = categorical_ops.sparse_cross_hashed([tf.SparseTensor(indices, values, shape), dense], num_buckets=50)
    return [result.indices, result.values, result.dense_shape]


def _fill_reference(indices, values, dense_shape, default):
    rows = int(dense_shape[0])
    out_indices, out_values, reverse = [], [], np.zeros(len(values), np.int64)
    for r in range(rows):
        members = [i for i in range(len(values)) if indices[i][0] == r]
        if not members:
            out_indices.append([r] + [0] * (indices.shape[1] - 1))
            out_values.append(default)
        for i in members:
            reverse[i] = len(out_values)
            out_indices.append(list(indices[i]))
            out_values.append(values[i])
    empty = np.array([not any(indices[:, 0] == r) for r in range(rows)])
    return [np.array(out_indices, np.int64), np.array(out_values, values.dtype), empty, reverse]


def _fill(indices, values, dense_shape, default):
    filled, empty = sparse_rows_ops.sparse_fill_empty_rows(tf.SparseTensor(indices, values, dense_shape), default)
    reverse = filled.indices.op.outputs[3]
    return [filled.indices, filled.values, empty, reverse]


def _fill_grad_reference(reverse, grads):
    visited = np.zeros(len(grads), bool)
    visited[reverse] = True
    return [grads[reverse], grads[~visited].sum()]


def _reshape_reference(indices, shape, new_shape):
    out_shape = np.array(new_shape, np.int64)
    known = np.prod([d for d in out_shape if d != -1])
    out_shape[out_shape == -1] = np.prod(shape) // known
    linear = np.ravel_multi_index(tuple(indices.T), tuple(shape))
    return [np.stack(np.unravel_index(linear, tuple(out_shape)), axis=1).astype(np.int64), out_shape]


def _segment_reference(kind):
    def reference(data, indices, segment_ids):
        rows = int(segment_ids[-1]) + 1
        out = np.zeros((rows,) + data.shape[1:], data.dtype)
        for s in range(rows):
            chosen = indices[segment_ids == s]
            if chosen.size:
                total = data[chosen].sum(axis=0)
                scale = {"sum": 1.0, "mean": chosen.size, "sqrtn": np.sqrt(chosen.size)}[kind]
                out[s] = total / scale
        return out
    return reference


def _segment_grad_reference(kind):
    def reference(grad, indices, segment_ids, dim0):
        out = np.zeros((int(dim0),) + grad.shape[1:], grad.dtype)
        counts = np.bincount(segment_ids, minlength=grad.shape[0])
        for i, s in zip(indices, segment_ids):
            scale = {"sum": 1.0, "mean": counts[s], "sqrtn": np.sqrt(counts[s])}[kind]
            out[i] += grad[s] / scale
        return out
    return reference


def _segment_grad(kind):
    def build(grad, indices, segment_ids, dim0):
        return sparse_segment_ops._grad_op(kind, grad, indices, segment_ids, dim0)
    return build


def _div_no_nan_reference(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y == 0, np.zeros_like(x), x / np.where(y == 0, 1, y)).astype(x.dtype)


SEGMENT_DATA = uniform(5, 3, dtype=np.float64)
SEGMENT_INDICES = np.array([0, 2, 2, 4, 1, 3], np.int32)
SEGMENT_IDS = np.array([0, 0, 2, 2, 2, 4], np.int64)

RECORDS = [
    OpRecord("string_to_hash_bucket_fast", lambda s: categorical_ops.string_to_hash_bucket_fast(s, 1000),
             lambda s: _hash_reference(s, 1000), [WORDS]),
    OpRecord("as_string_int64", categorical_ops.as_string, lambda x: np.array([str(v).encode() for v in x], object),
             [np.array([0, -7, 123456789012], np.int64)]),
    OpRecord("as_string_float_precision", lambda x: categorical_ops.as_string(x, precision=3),
             lambda x: np.array([b"%.3f" % v for v in x], object), [np.array([1.5, -0.125, 2.0], np.float32)]),
    OpRecord("as_string_bool", categorical_ops.as_string, lambda x: np.array([b"true", b"false"], object),
             [np.array([True, False])]),
    OpRecord("bucketize_float", lambda x: categorical_ops.bucketize(x, [0.0, 1.0, 2.5]),
             lambda x: np.searchsorted(np.float32([0.0, 1.0, 2.5]), x, side="right").astype(np.int32),
             [np.array([[-1.0, 0.0, 0.5], [1.0, 2.5, 9.0]], np.float32)]),
    OpRecord("bucketize_int64", lambda x: categorical_ops.bucketize(x, [0, 10]),
             lambda x: np.searchsorted([0, 10], x, side="right").astype(np.int32),
             [np.array([-3, 0, 9, 10, 11], np.int64)]),
    OpRecord("sparse_cross_hashed", _cross, lambda i, v, s, d: _cross_reference(i, v, s, d, 50),
             [INDICES, np.array([b"a", b"b", b"c", b"d"], object), np.array([4, 2], np.int64),
              np.array([[1, 2], [3, 4], [5, 6], [7, 8]], np.int64)], static_full=False),
    OpRecord("sparse_reshape", lambda i, s, n: list(make_op("SparseReshape", [i, s, n], {}).outputs),
             _reshape_reference, [INDICES, np.array([4, 2], np.int64), np.array([2, -1], np.int64)],
             static_full=False),
    OpRecord("sparse_fill_empty_rows", _fill, _fill_reference,
             [INDICES, uniform(4), np.array([6, 2], np.int64), np.float32(-1.5)], static_full=False),
    OpRecord("sparse_fill_empty_rows_strings", _fill, _fill_reference,
             [INDICES, np.array([b"w", b"x", b"y", b"z"], object), np.array([5, 2], np.int64),
              np.array(b"?", object)], static_full=False),
    OpRecord("sparse_fill_empty_rows_grad",
             lambda r, g: list(make_op("SparseFillEmptyRowsGrad", [r, g], {"T": g.dtype.base_dtype}).outputs),
             _fill_grad_reference, [np.array([1, 2, 4], np.int64), uniform(6, dtype=np.float64)], const=(0,),
             grad=False, static_full=False),
    *[OpRecord(f"sparse_segment_{kind}", lambda d, i, s, op=op: op(d, i, s), _segment_reference(kind),
               [SEGMENT_DATA, SEGMENT_INDICES, SEGMENT_IDS], const=(1, 2), static_full=False)
      for kind, op in (("sum", sparse_segment_ops.sparse_segment_sum),
                       ("mean", sparse_segment_ops.sparse_segment_mean),
                       ("sqrtn", sparse_segment_ops.sparse_segment_sqrt_n))],
    OpRecord("sparse_segment_mean_float32_int64_indices",
             lambda d, i, s: sparse_segment_ops.sparse_segment_mean(d, i, s), _segment_reference("mean"),
             [uniform(3, 2), np.array([2, 2, 0], np.int64), np.array([1, 1, 3], np.int32)], const=(1, 2),
             static_full=False),
    *[OpRecord(f"sparse_segment_{kind}_grad", _segment_grad(kind), _segment_grad_reference(kind),
               [uniform(5, 2, dtype=np.float64), SEGMENT_INDICES, SEGMENT_IDS, np.int32(6)], const=(1, 2, 3),
               grad=False)
      for kind in ("sum", "mean", "sqrtn")],
    OpRecord("div_no_nan", sparse_segment_ops.div_no_nan, _div_no_nan_reference,
             [uniform(2, 3, dtype=np.float64), np.array([[0.5, 0.0, -2.0], [1.5, 0.0, 3.0]])], grad=(0,)),
    OpRecord("div_no_nan_broadcast", sparse_segment_ops.div_no_nan, _div_no_nan_reference,
             [uniform(2, 3), positive(3)]),
]

COVERED_ELSEWHERE = {op: "tests/test_feature_column_ops.py (tables are Session resources)" for op in [
    "HashTableV2", "LookupTableImportV2", "InitializeTableFromTextFileV2", "LookupTableFindV2", "LookupTableSizeV2"]}
