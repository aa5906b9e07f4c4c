"""`tf.contrib.learn.python.learn.datasets.mnist`: TF1's MNIST reader, as `tf.contrib.learn.datasets.mnist`."""
from caudal.contrib.learn.datasets.mnist import (
    DataSet,
    Datasets,
    dense_to_one_hot,
    extract_images,
    extract_labels,
    load_mnist,
    read_data_sets,
)

__all__ = ["DataSet", "Datasets", "dense_to_one_hot", "extract_images", "extract_labels", "load_mnist",
           "read_data_sets"]
