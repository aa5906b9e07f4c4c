"""Records: gather_nd, scatter_nd, segment_sum, dynamic_partition/stitch, sequence_mask, meshgrid."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, integers, uniform


def _scatter_nd(indices, updates, shape):
    out = np.zeros(shape, updates.dtype)
    k = indices.shape[-1]
    for index, update in zip(indices.reshape(-1, k), updates.reshape((-1,) + tuple(shape[k:])), strict=True):
        out[tuple(index)] += update
    return out


def _segment_sum(data, ids):
    out = np.zeros((ids[-1] + 1,) + data.shape[1:], data.dtype)
    for row, i in zip(data, ids, strict=True):
        out[i] += row
    return out


def _stitch(indices, data):
    size = max(int(np.max(i)) + 1 for i in indices)
    out = np.zeros((size,) + data[0].shape[indices[0].ndim:], data[0].dtype)
    for idx, d in zip(indices, data, strict=True):
        for position, row in zip(idx.reshape(-1), d.reshape((-1,) + out.shape[1:]), strict=True):
            out[position] = row
    return out


_PARTS = np.array([2, 0, 2, 1, 0], np.int32)

RECORDS = [
    OpRecord("gather_nd_elements", lambda p, i: tf.gather_nd(p, i), lambda p, i: p[i[:, 0], i[:, 1]],
             [uniform(3, 4), np.array([[2, 3], [0, 0], [2, 3]], np.int32)]),
    OpRecord("gather_nd_slices", lambda p, i: tf.gather_nd(p, i), lambda p, i: p[i[..., 0]],
             [uniform(4, 2, 3), np.array([[[1], [3]], [[0], [1]]], np.int64)]),
    OpRecord("gather_nd_empty_index_tuple", lambda p, i: tf.gather_nd(p, i), lambda p, i: np.stack([p, p]),
             [uniform(2, 3), np.zeros((2, 0), np.int32)]),
    OpRecord("gather_nd_batch_dims", lambda p, i: tf.gather_nd(p, i, batch_dims=1),
             lambda p, i: np.stack([p[b][i[b, :, 0]] for b in range(2)]),
             [uniform(2, 4, 3), np.array([[[3], [0]], [[1], [1]]], np.int32)], static_full=False),
    OpRecord("scatter_nd_duplicates_sum", lambda i, u: tf.scatter_nd(i, u, [5]),
             lambda i, u: _scatter_nd(i, u, (5,)), [np.array([[1], [3], [1]], np.int32), uniform(3)],
             const=(0,)),
    OpRecord("scatter_nd_slices", lambda i, u: tf.scatter_nd(i, u, [3, 2, 2]),
             lambda i, u: _scatter_nd(i, u, (3, 2, 2)), [np.array([[2, 0], [0, 1]], np.int64), uniform(2, 2)],
             const=(0,)),
    OpRecord("scatter_nd_int", lambda i, u: tf.scatter_nd(i, u, [2, 2]), lambda i, u: _scatter_nd(i, u, (2, 2)),
             [np.array([[1, 1], [0, 1], [1, 1]], np.int32), integers(3)]),
    OpRecord("segment_sum", lambda d, s: tf.segment_sum(d, s), _segment_sum,
             [uniform(5, 3), np.array([0, 0, 1, 3, 3], np.int32)], const=(1,)),
    OpRecord("segment_sum_int64_ids_vector", lambda d, s: tf.segment_sum(d, s), _segment_sum,
             [uniform(4), np.array([0, 1, 1, 2], np.int64)], const=(1,)),
    OpRecord("segment_sum_dynamic_ids", lambda d, s: tf.segment_sum(d, s), _segment_sum,
             [integers(4, 2), np.array([1, 1, 2, 2], np.int32)], static_full=False),
    OpRecord("dynamic_partition", lambda d, p: tf.dynamic_partition(d, p, 3),
             lambda d, p: tuple(d[p == i] for i in range(3)), [uniform(5, 2), _PARTS], static_full=False),
    OpRecord("dynamic_partition_2d_partitions", lambda d, p: tf.dynamic_partition(d, p, 2),
             lambda d, p: (d[p == 0], d[p == 1]), [uniform(2, 3), np.array([[1, 0, 1], [1, 1, 0]], np.int32)],
             static_full=False),
    OpRecord("dynamic_partition_empty_partition", lambda d, p: tf.dynamic_partition(d, p, 4),
             lambda d, p: tuple(d[p == i] for i in range(4)), [uniform(5), _PARTS], static_full=False),
    OpRecord("dynamic_stitch", lambda i0, i1, d0, d1: tf.dynamic_stitch([i0, i1], [d0, d1]),
             lambda i0, i1, d0, d1: _stitch([i0, i1], [d0, d1]),
             [np.array([0, 4, 2], np.int32), np.array([[1], [3]], np.int32), uniform(3, 2), uniform(2, 1, 2)],
             const=(0, 1)),
    OpRecord("dynamic_stitch_later_wins", lambda i0, i1, d0, d1: tf.dynamic_stitch([i0, i1], [d0, d1]),
             lambda i0, i1, d0, d1: _stitch([i0, i1], [d0, d1]),
             [np.array([0, 1], np.int32), np.array([1], np.int32), integers(2), integers(1)], const=(0, 1)),
    OpRecord("sequence_mask", lambda n: tf.sequence_mask(n, 4), lambda n: np.arange(4) < n[:, None],
             [np.array([0, 2, 4], np.int32)]),
    OpRecord("sequence_mask_default_maxlen_float", lambda n: tf.sequence_mask(n, dtype=tf.float32),
             lambda n: (np.arange(n.max()) < n[..., None]).astype(np.float32),
             [np.array([[1, 3], [2, 0]], np.int64)], static_full=False),
    OpRecord("meshgrid_xy", lambda x, y: tf.meshgrid(x, y), lambda x, y: tuple(np.meshgrid(x, y)),
             [uniform(3), uniform(2)]),
    OpRecord("meshgrid_ij_three", lambda x, y, z: tf.meshgrid(x, y, z, indexing="ij"),
             lambda x, y, z: tuple(np.meshgrid(x, y, z, indexing="ij")), [uniform(2), uniform(3), uniform(4)]),
    OpRecord("meshgrid_single", lambda x: tf.meshgrid(x), lambda x: (x,), [integers(3)]),
]
