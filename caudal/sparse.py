"""`tf.sparse` (TF1): SparseTensor and the sparse ops caudal has. Re-exports only.

`tf.sparse.placeholder` is TF1's `tf.sparse_placeholder`; caudal exposes it here only (the
top-level name is not wired)."""
from caudal.framework.sparse_tensor import SparseTensor
from caudal.ops.sparse_ops import placeholder, reorder, to_dense

__all__ = ["SparseTensor", "placeholder", "reorder", "to_dense"]
