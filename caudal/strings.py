"""`tf.strings` (TF1): the string ops caudal has. Re-exports only; `split` returns a SparseTensor,
as TF1's does."""
from caudal.ops.string_ops import join, length, split, to_number

__all__ = ["join", "length", "split", "to_number"]
