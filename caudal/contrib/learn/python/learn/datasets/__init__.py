"""`tf.contrib.learn.python.learn.datasets`: the same names as `tf.contrib.learn.datasets`."""
from caudal.contrib.learn.datasets import DATASETS, load_dataset
from caudal.contrib.learn.python.learn.datasets import mnist

__all__ = ["DATASETS", "load_dataset", "mnist"]
