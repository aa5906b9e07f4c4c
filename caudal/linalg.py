"""`tf.linalg`: re-exports of the linear algebra ops; no definitions live here."""
# ruff: noqa: F401
from caudal.ops.clip_ops import global_norm
from caudal.ops.linalg_ops import (
    cholesky,
    einsum,
    eye,
    matrix_transpose,
    tensordot,
    trace,
)
from caudal.ops.linalg_ops import diag as tensor_diag
from caudal.ops.linalg_ops import diag_part as tensor_diag_part
from caudal.ops.linalg_ops import matrix_band_part as band_part
from caudal.ops.linalg_ops import matrix_determinant as det
from caudal.ops.linalg_ops import matrix_diag as diag
from caudal.ops.linalg_ops import matrix_diag_part as diag_part
from caudal.ops.linalg_ops import matrix_inverse as inv
from caudal.ops.linalg_ops import matrix_set_diag as set_diag
from caudal.ops.linalg_ops import matrix_solve as solve
from caudal.ops.linalg_ops import matrix_transpose as transpose
from caudal.ops.math_composites import adjoint, logdet, matvec, norm
from caudal.ops.math_ops import matmul
from caudal.ops.normalization_ops import l2_normalize
