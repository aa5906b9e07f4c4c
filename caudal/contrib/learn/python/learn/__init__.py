"""`tf.contrib.learn.python.learn`: holds `datasets` (the MNIST reader)."""
from caudal.contrib.learn.python.learn import datasets

__all__ = ["datasets"]
