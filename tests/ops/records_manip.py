"""Records: split, tile, reverse and the padding ops."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, integers, uniform


def _mirror_pad_grad_reference(grad, paddings, mode):
    """MirrorPad's adjoint, from its definition: input element e receives sum(grad * d pad(x)/d x_e)."""
    shape = tuple(g - p[0] - p[1] for g, p in zip(grad.shape, paddings, strict=True))
    out = np.zeros(shape, grad.dtype)
    for e in np.ndindex(*shape):
        basis = np.zeros(shape)
        basis[e] = 1.0
        out[e] = np.sum(grad * np.pad(basis, paddings, mode=mode))
    return out


def _mirror_pad_grad(g, paddings, mode):
    return tf.get_default_graph().create_op(
        "MirrorPadGrad", [g, tf.constant(paddings)], {"T": g.dtype, "Tpaddings": tf.int32, "mode": mode}).outputs[0]


RECORDS = [
    OpRecord("split_num", lambda x: tf.split(x, 3, axis=1), lambda x: tuple(np.split(x, 3, axis=1)),
             [uniform(2, 6)]),
    OpRecord("split_num_axis0_int", lambda x: tf.split(x, 2), lambda x: tuple(np.split(x, 2)), [integers(4, 3)]),
    OpRecord("split_sizes_with_inferred", lambda x: tf.split(x, [1, -1, 2], axis=-1),
             lambda x: (x[..., :1], x[..., 1:4], x[..., 4:]), [uniform(3, 6)]),
    OpRecord("split_sizes_axis0", lambda x: tf.split(x, [3, 1], 0), lambda x: (x[:3], x[3:]), [uniform(4, 2)]),
    OpRecord("split_sizes_tensor", lambda x, s: tf.split(x, s, axis=1, num=2),
             lambda x, s: (x[:, :s[0]], x[:, s[0]:]), [uniform(2, 5), np.array([2, 3], np.int32)], const=(1,)),
    OpRecord("tile", lambda x: tf.tile(x, [2, 3]), lambda x: np.tile(x, (2, 3)), [uniform(2, 3)]),
    OpRecord("tile_rank3_ones", lambda x: tf.tile(x, [1, 2, 1]), lambda x: np.tile(x, (1, 2, 1)),
             [uniform(2, 1, 3)]),
    OpRecord("tile_tensor_multiples", lambda x, m: tf.tile(x, m), lambda x, m: np.tile(x, m),
             [uniform(2, 2), np.array([3, 1], np.int32)], static_full=False),
    OpRecord("reverse", lambda x: tf.reverse(x, [1]), lambda x: x[:, ::-1], [uniform(3, 4)]),
    OpRecord("reverse_two_axes_negative", lambda x: tf.reverse(x, [0, -1]), lambda x: x[::-1, :, ::-1],
             [uniform(2, 3, 4)]),
    OpRecord("reverse_v2_int", lambda x: tf.reverse_v2(x, [0]), lambda x: x[::-1], [integers(5)]),
    OpRecord("reverse_no_axes", lambda x: tf.reverse(x, np.zeros([0], np.int32)), lambda x: x, [uniform(3)]),
    OpRecord("pad", lambda x: tf.pad(x, [[1, 2], [0, 1]]), lambda x: np.pad(x, [(1, 2), (0, 1)]),
             [uniform(2, 3)]),
    OpRecord("pad_constant_values", lambda x: tf.pad(x, [[1, 0], [2, 1]], constant_values=-3.5),
             lambda x: np.pad(x, [(1, 0), (2, 1)], constant_values=-3.5), [uniform(2, 3)]),
    OpRecord("pad_constant_values_tensor", lambda x, c: tf.pad(x, [[0, 1]], constant_values=c),
             lambda x, c: np.pad(x, [(0, 1)], constant_values=c), [uniform(3), uniform()], grad=(0,)),
    OpRecord("pad_int", lambda x: tf.pad(x, [[2, 0]], constant_values=7),
             lambda x: np.pad(x, [(2, 0)], constant_values=7), [integers(3)]),
    OpRecord("pad_reflect", lambda x: tf.pad(x, [[2, 1], [1, 2]], mode="REFLECT"),
             lambda x: np.pad(x, [(2, 1), (1, 2)], mode="reflect"), [uniform(3, 4)]),
    OpRecord("pad_symmetric_lowercase", lambda x: tf.pad(x, [[3, 1], [0, 2]], mode="symmetric"),
             lambda x: np.pad(x, [(3, 1), (0, 2)], mode="symmetric"), [uniform(3, 2)]),
    OpRecord("pad_reflect_tensor_paddings", lambda x, p: tf.pad(x, p, mode="REFLECT"),
             lambda x, p: np.pad(x, p, mode="reflect"), [uniform(4), np.array([[3, 2]], np.int32)],
             static_full=False),
    OpRecord("mirror_pad_grad_reflect", lambda g: _mirror_pad_grad(g, [[2, 1], [1, 1]], "REFLECT"),
             lambda g: _mirror_pad_grad_reference(g, [(2, 1), (1, 1)], "reflect"), [uniform(6, 5)]),
    OpRecord("mirror_pad_grad_symmetric", lambda g: _mirror_pad_grad(g, [[3, 0]], "SYMMETRIC"),
             lambda g: _mirror_pad_grad_reference(g, [(3, 0)], "symmetric"), [uniform(6)]),
]

# Random manipulations: checked by distribution and seeding, not against a reference.
COVERED_ELSEWHERE = {
    "RandomShuffle": "tests/test_random_extra.py",
    "Multinomial": "tests/test_random_extra.py",
}
