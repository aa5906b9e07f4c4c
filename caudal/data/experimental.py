"""`tf.data.experimental`: the transformations TF1 programs pass to `Dataset.apply`."""
from caudal.data.batching import (  # noqa: F401
    AUTOTUNE,
    ignore_errors,
    map_and_batch,
    parallel_interleave,
    shuffle_and_repeat,
    unbatch,
)


def get_structure(dataset_or_iterator: object) -> object:
    """The element structure (ComponentSpecs) of a dataset or iterator."""
    return dataset_or_iterator.element_spec
