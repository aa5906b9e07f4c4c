"""`tf.contrib.seq2seq`: contrib 1.15's sequence_loss (re-exports only)."""
from caudal.ops.seq2seq_ops import sequence_loss

__all__ = ["sequence_loss"]
