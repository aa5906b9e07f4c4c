"""`tf.manip` (TF 1.x): array manipulation ops under their `tf.manip` names; re-exports only."""
# ruff: noqa: F401
from caudal.ops.array_ops import reshape
from caudal.ops.index_ops import gather_nd, scatter_nd
from caudal.ops.manip_ops import reverse, tile
