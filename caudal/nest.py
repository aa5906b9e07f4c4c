"""`tf.nest`: caudal's structure utilities (lists, tuples, dicts, namedtuples) under TF's names."""
# ruff: noqa: F401
from caudal.util.nest import assert_same_structure, flatten, map_structure, pack_sequence_as
from caudal.util.nest import is_sequence as is_nested
