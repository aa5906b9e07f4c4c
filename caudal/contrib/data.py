"""`tf.contrib.data` (TF 1.4-1.12): the dataset transformations that later moved to `tf.data.experimental`."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal.data import Dataset, Iterator, TextLineDataset, TFRecordDataset  # noqa: F401
from caudal.data.batching import (  # noqa: F401
    ignore_errors,
    map_and_batch,
    parallel_interleave,
    shuffle_and_repeat,
    unbatch,
)


def batch_and_drop_remainder(batch_size: Any) -> Callable:
    """`tf.contrib.data.batch_and_drop_remainder`: `batch(batch_size, drop_remainder=True)`."""
    return lambda dataset: dataset.batch(batch_size, drop_remainder=True)


def padded_batch_and_drop_remainder(batch_size: Any, padded_shapes: Any, padding_values: Any = None) -> Callable:
    """`tf.contrib.data.padded_batch_and_drop_remainder`."""
    return lambda dataset: dataset.padded_batch(batch_size, padded_shapes, padding_values, drop_remainder=True)
