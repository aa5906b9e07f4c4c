"""TF1's MNIST tutorial reader (`tensorflow.examples.tutorials.mnist.input_data`), offline.

`read_data_sets` reads the four MNIST IDX files from `train_dir` and returns
`Datasets(train, validation, test)` of `DataSet` objects with the old
tutorial's semantics. Nothing is downloaded (`source_url` is accepted and
ignored): when `train_dir` lacks the training files, the 10,000 real MNIST
images bundled with caudal are split deterministically instead (see
`read_data_sets`), with a one-time notice on stderr.
"""
from __future__ import annotations

import collections
import os
from typing import Any

import numpy as np

from caudal.datasets import mnist_files
from caudal.framework import dtypes, random_seed

Datasets = collections.namedtuple("Datasets", ["train", "validation", "test"])

# With the bundled sample, validation takes at most this many of the 8,000 training-pool
# images, so that at least 7,000 remain to train on (TF's default would take 5,000).
BUNDLED_MAX_VALIDATION = 1_000

_IMAGE_PIXELS = 28 * 28


def dense_to_one_hot(labels_dense: np.ndarray, num_classes: int) -> np.ndarray:
    """Class indices [N] -> one-hot float64 [N, num_classes], as TF's tutorial returns them."""
    labels_dense = np.asarray(labels_dense)
    one_hot = np.zeros((labels_dense.shape[0], num_classes))
    one_hot[np.arange(labels_dense.shape[0]), labels_dense.astype(np.intp)] = 1
    return one_hot


def extract_images(f: Any) -> np.ndarray:
    """A gzip IDX image file object -> uint8 [N, rows, cols, 1], like TF's `extract_images`."""
    name = getattr(f, "name", "<stream>")
    return mnist_files.parse_images(mnist_files.decompress(f, name), name)[..., np.newaxis]


def extract_labels(f: Any, one_hot: bool = False, num_classes: int = 10) -> np.ndarray:
    """A gzip IDX label file object -> uint8 [N] (float64 [N, num_classes] if one_hot), like TF's."""
    name = getattr(f, "name", "<stream>")
    labels = mnist_files.parse_labels(mnist_files.decompress(f, name), name)
    return dense_to_one_hot(labels, num_classes) if one_hot else labels


class DataSet:
    """TF1's tutorial `DataSet`: in-memory images and labels served by `next_batch`.

    `dtype` float32 scales pixels into [0, 1] (multiplying by 1/255, as TF does);
    uint8 keeps 0-255. `reshape` flattens [N, rows, cols, 1] images into
    [N, rows * cols]. `fake_data=True` makes TF's placeholder dataset of 10,000
    examples whose batches are lists of all-ones 784-pixel images.

    Shuffling follows TF's seeding (`np.random.seed` of the op seed when `seed`
    is given, else of the graph seed) but with a generator owned by this
    DataSet rather than NumPy's global one, so for a given seed the batches are
    TF's while other NumPy code neither disturbs nor is disturbed by them.
    """

    def __init__(self, images: Any, labels: Any, fake_data: bool = False, one_hot: bool = False,
                 dtype: Any = dtypes.float32, reshape: bool = True, seed: int | None = None) -> None:
        seed1, seed2 = random_seed.get_seed(seed)
        self._rng = np.random.RandomState(seed1 if seed is None else seed2)
        dtype = dtypes.as_dtype(dtype).base_dtype
        if dtype not in (dtypes.uint8, dtypes.float32):
            raise TypeError(f"Invalid image dtype {dtype!r}, expected uint8 or float32")
        self.one_hot = one_hot
        if fake_data:
            self._num_examples = 10000
        else:
            images, labels = np.asarray(images), np.asarray(labels)
            if images.shape[0] != labels.shape[0]:
                raise ValueError(f"images.shape: {images.shape} labels.shape: {labels.shape}")
            self._num_examples = images.shape[0]
            if reshape:
                if images.ndim != 4 or images.shape[3] != 1:
                    raise ValueError(f"reshape=True needs images of shape [N, rows, cols, 1], got {images.shape}")
                images = images.reshape(images.shape[0], images.shape[1] * images.shape[2])
            if dtype == dtypes.float32:
                images = np.multiply(images.astype(np.float32), 1.0 / 255.0)
        self._images = images
        self._labels = labels
        self._epochs_completed = 0
        self._index_in_epoch = 0

    @property
    def images(self) -> Any:
        return self._images

    @property
    def labels(self) -> Any:
        return self._labels

    @property
    def num_examples(self) -> int:
        return self._num_examples

    @property
    def epochs_completed(self) -> int:
        return self._epochs_completed

    def _shuffle(self) -> None:
        order = np.arange(self._num_examples)
        self._rng.shuffle(order)
        self._images = self._images[order]
        self._labels = self._labels[order]

    def next_batch(self, batch_size: int, fake_data: bool = False, shuffle: bool = True) -> tuple[Any, Any]:
        """The next `batch_size` examples, with TF's epoch semantics.

        The data is shuffled before the very first batch. A batch that crosses the
        end of an epoch is the epoch's remaining examples followed by the first
        ones of the next epoch, which is re-shuffled first; `epochs_completed`
        counts up when such a batch is drawn (a batch ending exactly on the
        boundary leaves the increment to the next call, as in TF).
        """
        if fake_data:
            fake_image = [1] * _IMAGE_PIXELS
            fake_label = [1] + [0] * 9 if self.one_hot else 0
            return [fake_image for _ in range(batch_size)], [fake_label for _ in range(batch_size)]
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._shuffle()
        if start + batch_size > self._num_examples:
            self._epochs_completed += 1
            rest = self._num_examples - start
            images_rest, labels_rest = self._images[start:], self._labels[start:]
            if shuffle:
                self._shuffle()
            self._index_in_epoch = batch_size - rest
            end = self._index_in_epoch
            return (np.concatenate((images_rest, self._images[:end]), axis=0),
                    np.concatenate((labels_rest, self._labels[:end]), axis=0))
        self._index_in_epoch += batch_size
        return self._images[start:start + batch_size], self._labels[start:start + batch_size]


def read_data_sets(train_dir: str | os.PathLike | None, fake_data: bool = False, one_hot: bool = False,
                   dtype: Any = dtypes.float32, reshape: bool = True, validation_size: int = 5000,
                   seed: int | None = None, source_url: str | None = None) -> Datasets:
    """TF1's `input_data.read_data_sets`: `Datasets(train, validation, test)`.

    Reads train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
    t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz from `train_dir`;
    the first `validation_size` training examples form the validation set
    (a ValueError unless 0 <= validation_size <= number of training examples).
    Labels are uint8 digits, or float64 one-hot rows of 10 when `one_hot`.

    Offline fallback: without the training files, the bundled 10,000 real MNIST
    images are used: test = the last 2,000; the first 8,000 form the training
    pool, of which validation = the first min(validation_size, 1,000) (capped
    so that at least 7,000 images remain to train on) and train = the rest.
    With training files but no t10k files, test = all 10,000 bundled images
    (which are the t10k files). `source_url` is ignored: nothing is downloaded.
    """
    del source_url  # offline: the files are read from train_dir or the bundled sample
    if fake_data:
        def fake() -> DataSet:
            return DataSet([], [], fake_data=True, one_hot=one_hot, dtype=dtype, seed=seed)
        return Datasets(train=fake(), validation=fake(), test=fake())

    (train_images, train_labels), (test_images, test_labels), from_bundle = mnist_files.load_splits(train_dir)
    if not 0 <= validation_size <= len(train_images):
        raise ValueError(f"Validation size should be between 0 and {len(train_images)}. "
                         f"Received: {validation_size}.")
    if from_bundle:
        validation_size = min(validation_size, BUNDLED_MAX_VALIDATION)
    if one_hot:
        train_labels = dense_to_one_hot(train_labels, mnist_files.NUM_CLASSES)
        test_labels = dense_to_one_hot(test_labels, mnist_files.NUM_CLASSES)
    train_images, test_images = train_images[..., np.newaxis], test_images[..., np.newaxis]

    options = dict(dtype=dtype, reshape=reshape, seed=seed)
    return Datasets(
        train=DataSet(train_images[validation_size:], train_labels[validation_size:], **options),
        validation=DataSet(train_images[:validation_size], train_labels[:validation_size], **options),
        test=DataSet(test_images, test_labels, **options),
    )


def load_mnist(train_dir: str | os.PathLike = "MNIST-data") -> Datasets:
    """TF's `load_mnist` shortcut: `read_data_sets(train_dir)` with the defaults."""
    return read_data_sets(train_dir)


__all__ = ["Datasets", "DataSet", "read_data_sets", "load_mnist", "dense_to_one_hot", "extract_images",
           "extract_labels"]
