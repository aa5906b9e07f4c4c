"""Records: einsum, tensordot, matrix inverse/determinant/cholesky/solve, the diagonal family,
band parts, trace, eye and linspace."""
import numpy as np

import caudal as tf
from tests.ops.record import OpRecord, integers, uniform


def well_conditioned(*shape, dtype=np.float32):
    """Random matrices plus a multiple of the identity: safely invertible."""
    def make(rng):
        n = shape[-1]
        return (rng.uniform(-1, 1, shape) + 3 * np.eye(n)).astype(dtype)

    return make


def _spd(a):
    """A symmetric positive definite matrix built from a: a a^T + n I."""
    n = a.shape[-1]
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n, dtype=a.dtype)


def _tf_spd(a):
    n = a.shape.as_list()[-1]
    return tf.matmul(a, tf.matrix_transpose(a)) + n * tf.eye(n, dtype=a.dtype)


def _band(x, lower, upper):
    r = np.arange(x.shape[-2])[:, None]
    c = np.arange(x.shape[-1])[None, :]
    keep = ((lower < 0) | (r - c <= lower)) & ((upper < 0) | (c - r <= upper))
    return np.where(keep, x, 0).astype(x.dtype)


def _diag_part(x, k):
    return np.stack([np.diagonal(m, offset=k) for m in x.reshape((-1,) + x.shape[-2:])]).reshape(
        x.shape[:-2] + (-1,))


def _diag(d, k):
    flat = d.reshape(-1, d.shape[-1])
    n = d.shape[-1] + abs(k)
    return np.stack([np.diag(v, k) for v in flat]).reshape(d.shape[:-1] + (n, n))


RECORDS = [
    OpRecord("einsum_matmul", lambda a, b: tf.einsum("ij,jk->ik", a, b), lambda a, b: a @ b,
             [uniform(2, 3), uniform(3, 4)]),
    OpRecord("einsum_implicit_output", lambda a, b: tf.einsum("ij,jk", a, b), lambda a, b: a @ b,
             [uniform(2, 3), uniform(3, 4)]),
    OpRecord("einsum_batch_outer", lambda a, b: tf.einsum("bi,bj->bij", a, b),
             lambda a, b: np.einsum("bi,bj->bij", a, b), [uniform(2, 3), uniform(2, 4)]),
    OpRecord("einsum_sum_out_label", lambda a, b: tf.einsum("ijk,j->i", a, b),
             lambda a, b: np.einsum("ijk,j->i", a, b), [uniform(2, 3, 4), uniform(3)]),
    OpRecord("einsum_one_operand", lambda a: tf.einsum("ij->j", a), lambda a: a.sum(0), [uniform(3, 4)]),
    OpRecord("einsum_transpose", lambda a: tf.einsum("ijk->kij", a), lambda a: np.einsum("ijk->kij", a),
             [uniform(2, 3, 4)]),
    OpRecord("einsum_ellipsis_broadcast", lambda a, b: tf.einsum("...ij,...jk->...ik", a, b),
             lambda a, b: np.einsum("...ij,...jk->...ik", a, b), [uniform(2, 1, 2, 3), uniform(3, 3, 4)]),
    OpRecord("einsum_inner_ellipsis", lambda a, b: tf.einsum("i...j,j->i...", a, b),
             lambda a, b: np.einsum("i...j,j->i...", a, b), [uniform(2, 3, 4), uniform(4)]),
    OpRecord("einsum_three_operands", lambda a, b, c: tf.einsum("ij,jk,kl->il", a, b, c),
             lambda a, b, c: a @ b @ c, [uniform(2, 3), uniform(3, 4), uniform(4, 2)]),
    OpRecord("einsum_int", lambda a, b: tf.einsum("i,i->", a, b), lambda a, b: np.einsum("i,i->", a, b),
             [integers(5), integers(5)]),
    OpRecord("einsum_diagonal_forward", lambda a: tf.einsum("ii->i", a), lambda a: np.diagonal(a).copy(),
             [uniform(3, 3)], grad=False),
    OpRecord("tensordot_int_axes", lambda a, b: tf.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1),
             [uniform(2, 3), uniform(3, 4)], dynamic=False),
    OpRecord("tensordot_axis_lists", lambda a, b: tf.tensordot(a, b, [[1, 2], [1, 0]]),
             lambda a, b: np.tensordot(a, b, [[1, 2], [1, 0]]), [uniform(2, 3, 4), uniform(4, 3, 5)],
             dynamic=False),
    OpRecord("tensordot_outer", lambda a, b: tf.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0),
             [uniform(2), uniform(3)], dynamic=False),
    OpRecord("matrix_transpose", tf.matrix_transpose, lambda a: np.swapaxes(a, -1, -2), [uniform(2, 3, 4)]),
    OpRecord("linalg_transpose_int", tf.linalg.transpose, lambda a: a.T, [integers(2, 3)]),
    OpRecord("matrix_inverse", tf.matrix_inverse, np.linalg.inv, [well_conditioned(3, 3)], rtol=1e-4, atol=1e-5),
    OpRecord("matrix_inverse_batch_adjoint", lambda a: tf.linalg.inv(a, adjoint=True),
             lambda a: np.linalg.inv(np.swapaxes(a, -1, -2)), [well_conditioned(2, 3, 3, dtype=np.float64)]),
    OpRecord("matrix_determinant", tf.matrix_determinant, np.linalg.det, [well_conditioned(3, 3)], rtol=1e-4),
    OpRecord("matrix_determinant_batch", tf.linalg.det, np.linalg.det, [well_conditioned(2, 4, 4, dtype=np.float64)]),
    OpRecord("cholesky", lambda a: tf.cholesky(_tf_spd(a)), lambda a: np.linalg.cholesky(_spd(a)),
             [uniform(3, 3)], rtol=1e-4, atol=1e-5, dynamic=False),
    OpRecord("cholesky_batch", lambda a: tf.linalg.cholesky(_tf_spd(a)), lambda a: np.linalg.cholesky(_spd(a)),
             [uniform(2, 4, 4, dtype=np.float64)], dynamic=False),
    OpRecord("matrix_solve", tf.matrix_solve, np.linalg.solve, [well_conditioned(3, 3), uniform(3, 2)],
             rtol=1e-4, atol=1e-5),
    OpRecord("matrix_solve_batch_adjoint", lambda a, b: tf.linalg.solve(a, b, adjoint=True),
             lambda a, b: np.linalg.solve(np.swapaxes(a, -1, -2), b),
             [well_conditioned(2, 3, 3, dtype=np.float64), uniform(2, 3, 1, dtype=np.float64)]),
    OpRecord("diag", tf.diag, lambda d: np.diag(d), [uniform(3)]),
    OpRecord("diag_rank2", tf.diag, lambda d: np.diag(d.reshape(-1)).reshape(d.shape + d.shape), [integers(2, 2)]),
    OpRecord("diag_part", tf.diag_part, np.diagonal, [uniform(3, 3)]),
    OpRecord("diag_part_rank4", tf.diag_part,
             lambda x: np.diagonal(x.reshape(6, 6)).reshape(2, 3), [uniform(2, 3, 2, 3)]),
    OpRecord("matrix_diag", tf.matrix_diag, lambda d: _diag(d, 0), [uniform(2, 3)]),
    OpRecord("matrix_diag_k", lambda d: tf.linalg.diag(d, k=1), lambda d: _diag(d, 1), [uniform(2, 3)]),
    OpRecord("matrix_diag_band_shape", lambda d: tf.matrix_diag(d, k=(0, 1), num_rows=3, num_cols=4),
             lambda d: np.array([[d[1, 0], d[0, 0], 0, 0], [0, d[1, 1], d[0, 1], 0], [0, 0, d[1, 2], d[0, 2]]],
                                d.dtype), [uniform(2, 3)]),
    OpRecord("matrix_diag_part", tf.matrix_diag_part, lambda x: _diag_part(x, 0), [uniform(2, 3, 4)]),
    OpRecord("matrix_diag_part_k", lambda x: tf.linalg.diag_part(x, k=-1), lambda x: _diag_part(x, -1),
             [uniform(2, 4, 3)]),
    OpRecord("matrix_diag_part_band_padded", lambda x: tf.matrix_diag_part(x, k=(-1, 2), padding_value=9),
             lambda x: np.array([[9, x[0, 2], x[1, 3]], np.diagonal(x, 1), np.diagonal(x, 0),
                                 [x[1, 0], x[2, 1], 9]], x.dtype), [integers(3, 4)]),
    OpRecord("matrix_diag_part_band_left_right", lambda x: tf.matrix_diag_part(x, k=(-1, 2), align="LEFT_RIGHT"),
             lambda x: np.array([[x[0, 2], x[1, 3], 0], np.diagonal(x, 1), np.diagonal(x, 0),
                                 [0, x[1, 0], x[2, 1]]], x.dtype), [uniform(3, 4)]),
    OpRecord("matrix_set_diag", tf.matrix_set_diag,
             lambda x, d: np.where(np.eye(3, 4, dtype=bool), np.pad(d, [(0, 0), (0, 1)])[:, None, :], x),
             [uniform(2, 3, 4), uniform(2, 3)]),
    OpRecord("matrix_set_diag_band", lambda x, d: tf.linalg.set_diag(x, d, k=(-1, 0)),
             lambda x, d: np.where(np.eye(3, dtype=bool), np.diag(d[0]), np.where(np.eye(3, k=-1, dtype=bool),
                                                                                  np.diag(d[1, :2], -1), x)),
             [uniform(3, 3), uniform(2, 3)]),
    OpRecord("matrix_band_part", lambda x: tf.matrix_band_part(x, 1, 0), lambda x: _band(x, 1, 0),
             [uniform(2, 3, 4)]),
    OpRecord("band_part_upper_all", lambda x: tf.linalg.band_part(x, 0, -1), lambda x: _band(x, 0, -1),
             [uniform(4, 4)]),
    OpRecord("trace", tf.trace, lambda x: np.trace(x, axis1=-2, axis2=-1), [uniform(2, 3, 3)]),
    OpRecord("trace_int", tf.linalg.trace, lambda x: np.trace(x).astype(x.dtype), [integers(3, 4)]),
    OpRecord("eye", lambda: tf.eye(3), lambda: np.eye(3, dtype=np.float32), []),
    OpRecord("eye_batch_rectangular", lambda: tf.eye(2, 3, batch_shape=[2], dtype=tf.int32),
             lambda: np.broadcast_to(np.eye(2, 3, dtype=np.int32), (2, 2, 3)), []),
    OpRecord("linspace", lambda a, b: tf.linspace(a, b, 5), lambda a, b: np.linspace(a, b, 5).astype(a.dtype),
             [np.float32(-1.5), np.float32(2.0)]),
    OpRecord("lin_space_single", lambda a, b: tf.lin_space(a, b, 1), lambda a, b: np.linspace(a, b, 1),
             [np.float64(3.0), np.float64(4.0)]),
    OpRecord("linspace_vector_axis", lambda a, b: tf.linspace(a, b, 4, axis=-1),
             lambda a, b: np.linspace(a, b, 4, axis=-1).astype(a.dtype), [uniform(2), uniform(3, 1)],
             dynamic=False),
    OpRecord("linspace_int_endpoints", lambda a, b: tf.linspace(a, b, 3), lambda a, b: np.linspace(a, b, 3),
             [np.int32(0), np.int32(4)]),
]
