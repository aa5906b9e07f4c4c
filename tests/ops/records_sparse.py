"""Records: SparseToDense (tf.sparse_to_dense, tf.sparse.to_dense) and SparseReorder (tf.sparse.reorder),
against NumPy scatters and sorts; the gradients of the values and the default."""
import numpy as np

import caudal as tf
from caudal.ops import sparse_ops
from tests.ops.record import OpRecord, uniform

INDICES_2D = np.array([[0, 1], [1, 0], [2, 3]], np.int64)
UNSORTED = np.array([[2, 1], [0, 3], [1, 0], [0, 1]], np.int64)


def _scatter(indices, shape, values, default):
    out = np.full(tuple(shape), default, dtype=np.asarray(values).dtype)
    index = np.asarray(indices).reshape(len(np.atleast_1d(values)) if np.ndim(values) else -1, -1)
    out[tuple(index.T)] = values
    return out


def _reordered(indices, values):
    order = np.lexsort(np.asarray(indices).T[::-1])
    return np.asarray(indices)[order], np.asarray(values)[order]


def _reorder_parts(indices, values):
    reordered = tf.sparse.reorder(tf.SparseTensor(indices, values, [3, 4]))
    return [reordered.indices, reordered.values]


RECORDS = [
    OpRecord("sparse_to_dense_matrix",
             lambda i, s, v, d: tf.sparse_to_dense(i, s, v, d),
             lambda i, s, v, d: _scatter(i, s, v, d),
             [INDICES_2D, np.array([3, 4], np.int64), uniform(3), np.float32(0.5)], const=(0, 1)),
    OpRecord("sparse_to_dense_vector_int32_indices",
             lambda i, s, v, d: tf.sparse_to_dense(i, s, v, d, validate_indices=False),
             lambda i, s, v, d: _scatter(i.reshape(-1, 1), s, v, d),
             [np.array([0, 3, 4], np.int32), np.array([6], np.int32), uniform(3, dtype=np.float64),
              np.float64(-1.0)], const=(0, 1)),
    OpRecord("sparse_to_dense_scalar_value",
             lambda i, s, v, d: tf.sparse_to_dense(i, s, v, d),
             lambda i, s, v, d: _scatter(i, s, np.full(3, v), d),
             [INDICES_2D, np.array([3, 4], np.int64), np.float32(2.5), np.float32(0.0)], const=(0, 1)),
    OpRecord("sparse_to_dense_int_values",
             lambda i, s, v, d: tf.sparse_to_dense(i, s, v, d),
             lambda i, s, v, d: _scatter(i, s, v, d),
             [INDICES_2D, np.array([3, 4], np.int64), np.array([7, -2, 9], np.int32), np.int32(1)], const=(0, 1)),
    OpRecord("sparse_tensor_to_dense_strings",
             lambda v: sparse_ops.sparse_tensor_to_dense(tf.SparseTensor(INDICES_2D, v, [3, 4])),
             lambda v: _scatter(INDICES_2D, [3, 4], v, b""),
             [np.array([b"a", b"bc", b""], dtype=object)]),
    OpRecord("sparse_to_dense_of_sparse_tensor_default",
             lambda v, d: tf.sparse.to_dense(tf.SparseTensor(INDICES_2D, v, [3, 4]), default_value=d),
             lambda v, d: _scatter(INDICES_2D, [3, 4], v, d), [uniform(3), np.float32(-3.0)]),
    OpRecord("sparse_reorder", lambda i, v: _reorder_parts(i, v), lambda i, v: list(_reordered(i, v)),
             [UNSORTED, uniform(4)], const=(0,)),
    OpRecord("sparse_reorder_then_dense",
             lambda i, v: tf.sparse.to_dense(tf.sparse.reorder(tf.SparseTensor(i, v, [3, 4]))),
             lambda i, v: _scatter(*_reordered(i, v)[:1], [3, 4], _reordered(i, v)[1], 0.0),
             [UNSORTED, uniform(4, dtype=np.float64)], const=(0,)),
]
