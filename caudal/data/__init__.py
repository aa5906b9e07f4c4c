"""`tf.data` as TF1 programs use it: `Dataset`, its file datasets, and the iterators over them.

`import caudal` does not load this package; `tf.data` loads it on first use.
"""
from caudal.data import batching as _batching  # noqa: F401 - registers padded_batch's ops
from caudal.data import experimental
from caudal.data import generator as _generator  # noqa: F401 - registers GeneratorDataset
from caudal.data.dataset_ops import AUTOTUNE, Dataset, DatasetV1
from caudal.data.iterator_ops import Iterator, make_initializable_iterator, make_one_shot_iterator
from caudal.data.readers import FixedLengthRecordDataset, TextLineDataset, TFRecordDataset

__all__ = ["Dataset", "DatasetV1", "Iterator", "TextLineDataset", "TFRecordDataset", "FixedLengthRecordDataset",
           "experimental", "make_one_shot_iterator", "make_initializable_iterator", "get_output_types",
           "get_output_shapes", "get_output_classes", "AUTOTUNE"]


def get_output_types(dataset_or_iterator: object) -> object:
    """`tf.compat.v1.data.get_output_types`."""
    return dataset_or_iterator.output_types


def get_output_shapes(dataset_or_iterator: object) -> object:
    """`tf.compat.v1.data.get_output_shapes`."""
    return dataset_or_iterator.output_shapes


def get_output_classes(dataset_or_iterator: object) -> object:
    """`tf.compat.v1.data.get_output_classes`."""
    return dataset_or_iterator.output_classes
