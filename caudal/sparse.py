"""`tf.sparse` (TF1): SparseTensor and the sparse ops caudal has. Re-exports only.

`tf.sparse.placeholder` is TF1's `tf.sparse_placeholder`; caudal exposes it here only (the
top-level name is not wired)."""
from caudal.framework.sparse_tensor import SparseTensor
from caudal.ops.categorical_ops import sparse_cross as cross
from caudal.ops.categorical_ops import sparse_cross_hashed as cross_hashed
from caudal.ops.sparse_ops import placeholder, reorder, to_dense
from caudal.ops.sparse_rows_ops import fill_empty_rows, reshape, retain
from caudal.ops.sparse_segment_ops import segment_mean, segment_sqrt_n, segment_sum

__all__ = ["SparseTensor", "cross", "cross_hashed", "fill_empty_rows", "placeholder", "reorder", "reshape", "retain",
           "segment_mean", "segment_sqrt_n", "segment_sum", "to_dense"]
