"""`tf.contrib.learn.python`: the package path `tf.contrib.learn.python.learn.datasets.mnist`."""
from caudal.contrib.learn.python import learn

__all__ = ["learn"]
