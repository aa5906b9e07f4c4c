"""`tf.distribute` (TF1's parts): `tf.distribute.cluster_resolver`, and the one-machine launcher
`python -m caudal.distribute.launch`. Importing it imports no gRPC."""
from caudal.distribute import cluster_resolver

__all__ = ["cluster_resolver"]
