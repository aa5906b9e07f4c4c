"""`tf.strings` (TF1): the string ops caudal has. Re-exports only; `split` returns a SparseTensor,
as TF1's does."""
from caudal.ops.categorical_ops import as_string
from caudal.ops.categorical_ops import string_to_hash_bucket_fast as to_hash_bucket_fast
from caudal.ops.regex_ops import regex_full_match, regex_replace
from caudal.ops.string_ops import join, length, split, to_number

__all__ = ["as_string", "join", "length", "regex_full_match", "regex_replace", "split", "to_hash_bucket_fast",
           "to_number"]
