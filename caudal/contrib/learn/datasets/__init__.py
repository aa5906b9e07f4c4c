"""`tf.contrib.learn.datasets`: `mnist` and `load_dataset`, with the offline MNIST reader of
`caudal.examples.tutorials.mnist.input_data`."""
from __future__ import annotations

from typing import Any

from caudal.contrib.learn.datasets import mnist

__all__ = ["mnist", "load_dataset", "DATASETS"]

DATASETS = {"mnist": mnist.load_mnist}

# TF 1.15 also named these; their data (CSV files inside TF's package, a download) is not bundled with caudal.
_NOT_BUNDLED = ("iris", "boston", "dbpedia")


def load_dataset(name: str, size: str = "small", test_with_fake_data: bool = False) -> Any:
    """The data set `name` ('mnist': `read_data_sets("MNIST-data")`, offline)."""
    if name in _NOT_BUNDLED:
        raise NotImplementedError(f"The {name} dataset is not bundled with caudal; only mnist is.")
    if name not in DATASETS:
        raise ValueError(f"Name of dataset is not found: {name}")
    return DATASETS[name]()
