"""`tf.contrib.learn.datasets.mnist`: TF1's MNIST reader (the same module as the tutorials' `input_data`)."""
from caudal.examples.tutorials.mnist.input_data import (
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
