"""Records: shapes and layout (reshape, transpose, concat, stack, slicing, gather, ...)."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, integers, uniform


def _one_hot(indices, depth, axis=-1):
    out = (indices[..., None] == np.arange(depth)).astype(np.float32)
    return np.moveaxis(out, -1, axis) if axis != -1 else out


RECORDS = [
    OpRecord("constant_identity", tf.identity, lambda x: x, [uniform(2, 3)]),
    OpRecord("stop_gradient_value", tf.stop_gradient, lambda x: x, [uniform(2, 3)], grad=False),
    OpRecord("placeholder_with_default", lambda x: tf.placeholder_with_default(x, [2, 3]), lambda x: x,
             [uniform(2, 3)], dynamic=False),
    OpRecord("identity_n", lambda a, b: tf.get_default_graph().create_op(
        "IdentityN", [a, b], {"T": [a.dtype, b.dtype]}).outputs, lambda a, b: (a, b),
             [uniform(2), integers(3)]),
    OpRecord("reshape", lambda x: tf.reshape(x, [3, 4]), lambda x: x.reshape(3, 4), [uniform(2, 6)]),
    OpRecord("reshape_infer_dim", lambda x: tf.reshape(x, [-1, 2]), lambda x: x.reshape(-1, 2), [uniform(2, 6)]),
    OpRecord("reshape_to_scalar", lambda x: tf.reshape(x, []), lambda x: x.reshape(()), [uniform(1, 1)]),
    OpRecord("transpose_default", tf.transpose, np.transpose, [uniform(2, 3, 4)]),
    OpRecord("transpose_perm", lambda x: tf.transpose(x, [1, 2, 0]), lambda x: np.transpose(x, (1, 2, 0)),
             [uniform(2, 3, 4)]),
    OpRecord("expand_dims", lambda x: tf.expand_dims(x, 1), lambda x: np.expand_dims(x, 1), [uniform(2, 3)]),
    OpRecord("expand_dims_negative", lambda x: tf.expand_dims(x, -1), lambda x: x[..., None], [uniform(2, 3)]),
    OpRecord("squeeze_all", tf.squeeze, np.squeeze, [uniform(1, 3, 1, 2)], static_full=True),
    OpRecord("squeeze_axis", lambda x: tf.squeeze(x, [0]), lambda x: np.squeeze(x, 0), [uniform(1, 3, 1)]),
    OpRecord("concat_axis0", lambda a, b: tf.concat([a, b], 0), lambda a, b: np.concatenate([a, b], 0),
             [uniform(2, 3), uniform(4, 3)]),
    OpRecord("concat_axis_neg", lambda a, b, c: tf.concat([a, b, c], -1),
             lambda a, b, c: np.concatenate([a, b, c], -1), [uniform(2, 1), uniform(2, 3), uniform(2, 2)]),
    OpRecord("stack", lambda a, b: tf.stack([a, b]), lambda a, b: np.stack([a, b]), [uniform(2, 3), uniform(2, 3)]),
    OpRecord("stack_axis1", lambda a, b: tf.stack([a, b], axis=1), lambda a, b: np.stack([a, b], 1),
             [uniform(2, 3), uniform(2, 3)]),
    OpRecord("unstack", lambda x: tf.unstack(x, num=3), lambda x: tuple(x), [uniform(3, 2)], dynamic=False),
    OpRecord("unstack_axis1", lambda x: tf.unstack(x, num=2, axis=1), lambda x: (x[:, 0], x[:, 1]),
             [uniform(3, 2)], dynamic=False),
    OpRecord("shape", tf.shape, lambda x: np.array(x.shape, np.int32), [uniform(2, 3)], grad=False),
    OpRecord("shape_int64", lambda x: tf.shape(x, out_type=tf.int64), lambda x: np.array(x.shape, np.int64),
             [uniform(2, 3)], grad=False),
    OpRecord("size", tf.size, lambda x: np.array(x.size, np.int32), [uniform(2, 3)], grad=False),
    OpRecord("rank", tf.rank, lambda x: np.array(x.ndim, np.int32), [uniform(2, 3)], grad=False),
    OpRecord("range_limit", lambda: tf.range(5), lambda: np.arange(5, dtype=np.int32), []),
    OpRecord("range_start_limit_delta", lambda: tf.range(2, 11, 3), lambda: np.arange(2, 11, 3, dtype=np.int32), []),
    OpRecord("range_float", lambda: tf.range(0.0, 1.0, 0.25), lambda: np.arange(0, 1, 0.25, dtype=np.float32), []),
    OpRecord("range_tensor_limit", lambda n: tf.range(n), lambda n: np.arange(n, dtype=np.int32),
             [np.array(4, np.int32)], static_full=False),
    OpRecord("fill", lambda: tf.fill([2, 3], 7.0), lambda: np.full((2, 3), 7.0, np.float32), []),
    OpRecord("fill_dynamic_dims", lambda d, v: tf.fill(d, v), lambda d, v: np.full(d, v),
             [np.array([2, 2], np.int32), uniform()], static_full=False),
    OpRecord("zeros", lambda: tf.zeros([2, 3]), lambda: np.zeros((2, 3), np.float32), []),
    OpRecord("zeros_int32", lambda: tf.zeros([4], tf.int32), lambda: np.zeros(4, np.int32), []),
    OpRecord("zeros_large_uses_fill", lambda: tf.zeros([40, 40]), lambda: np.zeros((40, 40), np.float32), []),
    OpRecord("ones", lambda: tf.ones([3]), lambda: np.ones(3, np.float32), []),
    OpRecord("zeros_like", tf.zeros_like, np.zeros_like, [uniform(2, 3)]),
    OpRecord("ones_like", tf.ones_like, np.ones_like, [uniform(2, 3)]),
    OpRecord("ones_like_dtype", lambda x: tf.ones_like(x, dtype=tf.int32), lambda x: np.ones(x.shape, np.int32),
             [uniform(2, 3)]),
    OpRecord("one_hot", lambda i: tf.one_hot(i, 4), lambda i: _one_hot(i, 4), [integers(5, low=0, high=4)]),
    OpRecord("one_hot_out_of_range_is_zero", lambda i: tf.one_hot(i, 3), lambda i: _one_hot(i, 3),
             [np.array([0, 5, -1, 2], np.int32)]),
    OpRecord("one_hot_uint8_values", lambda i: tf.one_hot(i, 3, on_value=5, off_value=-1),
             lambda i: np.where(_one_hot(i, 3) > 0, 5, -1).astype(np.int32), [np.array([1, 0], np.uint8)]),
    OpRecord("one_hot_axis0", lambda i: tf.one_hot(i, 3, axis=0), lambda i: _one_hot(i, 3, 0),
             [np.array([1, 2], np.int64)]),
    OpRecord("broadcast_to", lambda x: tf.broadcast_to(x, [3, 4]), lambda x: np.broadcast_to(x, (3, 4)),
             [uniform(1, 4)]),
    OpRecord("slice", lambda x: tf.slice(x, [1, 0], [2, -1]), lambda x: x[1:3, :], [uniform(4, 3)]),
    OpRecord("pad_constant", lambda x: tf.get_default_graph().create_op(
        "Pad", [x, tf.constant([[1, 0], [0, 2]])], {"T": x.dtype}).outputs[0],
             lambda x: np.pad(x, [(1, 0), (0, 2)]), [uniform(2, 3)]),
    OpRecord("getitem_slices", lambda x: x[1:, ::2], lambda x: x[1:, ::2], [uniform(4, 5)]),
    OpRecord("getitem_index_newaxis_ellipsis", lambda x: x[1, None, ...], lambda x: x[1, None, ...],
             [uniform(3, 4, 2)]),
    OpRecord("getitem_negative_steps", lambda x: x[::-1, -2], lambda x: x[::-1, -2], [uniform(4, 3)]),
    OpRecord("getitem_ellipsis_last", lambda x: x[..., 0], lambda x: x[..., 0], [uniform(2, 3, 4)]),
    OpRecord("getitem_tensor_index", lambda x, i: x[i], lambda x, i: x[i], [uniform(4, 2), np.array(2, np.int32)],
             static_full=False),
    OpRecord("strided_slice_masks", lambda x: tf.strided_slice(x, [0, 1], [3, 0], [1, 1], end_mask=2),
             lambda x: x[0:3, 1:], [uniform(4, 3)]),
    OpRecord("gather", lambda p, i: tf.gather(p, i), lambda p, i: p[i],
             [uniform(5, 3), np.array([4, 0, 0, 2], np.int32)]),
    OpRecord("gather_axis1", lambda p, i: tf.gather(p, i, axis=1), lambda p, i: p[:, i],
             [uniform(2, 5, 3), np.array([[4, 0], [1, 1]], np.int32)]),
    OpRecord("unsorted_segment_sum", lambda d, s: tf.unsorted_segment_sum(d, s, 3),
             lambda d, s: np.stack([d[s == k].sum(0) for k in range(3)]),
             [uniform(5, 2), np.array([0, 2, 0, 1, 2], np.int32)], const=(1,)),
    OpRecord("boolean_mask", tf.boolean_mask, lambda x, m: x[m],
             [uniform(4, 2), np.array([True, False, True, True])], static_full=False, dynamic=False),
]

RECORDS += [
    OpRecord("shape_n", lambda a, b: tf.shape_n([a, b]), lambda a, b: (np.array(a.shape, np.int32),
                                                                       np.array(b.shape, np.int32)),
             [uniform(2, 3), uniform(4)], grad=False),
]
