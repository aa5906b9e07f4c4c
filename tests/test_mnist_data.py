"""MNIST offline: IDX reading, TF1's tutorial `input_data` and `tf.keras.datasets.mnist.load_data`."""
import gzip
import os
import subprocess
import sys

import numpy as np
import pytest

import caudal as tf
from caudal.datasets import mnist_files
from caudal.examples.tutorials.mnist import input_data
from caudal.keras.datasets import mnist as keras_mnist

ROWS, COLS = 4, 3


def idx_bytes(magic, dims, payload):
    header = b"".join(int(v).to_bytes(4, "big") for v in (magic, *dims))
    return header + np.asarray(payload, dtype=np.uint8).tobytes()


def write_gz(path, raw):
    with gzip.open(path, "wb") as f:
        f.write(raw)
    return str(path)


def make_examples(count, start=0):
    """Images whose every pixel is the example's id (mod 256); labels id % 10."""
    ids = np.arange(start, start + count)
    images = np.repeat((ids % 256).astype(np.uint8), ROWS * COLS).reshape(count, ROWS, COLS)
    return images, (ids % 10).astype(np.uint8)


def write_pair(directory, prefix, images, labels):
    write_gz(directory / f"{prefix}-images-idx3-ubyte.gz", idx_bytes(2051, images.shape, images))
    write_gz(directory / f"{prefix}-labels-idx1-ubyte.gz", idx_bytes(2049, labels.shape, labels))


@pytest.fixture
def mnist_dir(tmp_path):
    """20 training and 6 test examples of 4x3 pixels; ids 0-19 train, 100-105 test."""
    write_pair(tmp_path, "train", *make_examples(20))
    write_pair(tmp_path, "t10k", *make_examples(6, start=100))
    return tmp_path


# ---- IDX files -------------------------------------------------------------------------------------------

def test_read_back_small_files(mnist_dir):
    images, labels = mnist_files.read_pair(mnist_dir / mnist_files.TRAIN_IMAGES, mnist_dir / mnist_files.TRAIN_LABELS)
    want_images, want_labels = make_examples(20)
    assert images.dtype == np.uint8 and labels.dtype == np.uint8
    np.testing.assert_array_equal(images, want_images)
    np.testing.assert_array_equal(labels, want_labels)
    with open(mnist_dir / mnist_files.TEST_IMAGES, "rb") as f:
        assert input_data.extract_images(f).shape == (6, ROWS, COLS, 1)
    with open(mnist_dir / mnist_files.TEST_LABELS, "rb") as f:
        np.testing.assert_array_equal(input_data.extract_labels(f, one_hot=True), np.eye(10)[[0, 1, 2, 3, 4, 5]])


@pytest.mark.parametrize("reader, raw, match", [
    (mnist_files.read_images, idx_bytes(2049, (2, 2, 2), np.zeros(8)), "Invalid magic number 2049 in MNIST image"),
    (mnist_files.read_labels, idx_bytes(2051, (2,), np.zeros(2)), "Invalid magic number 2051 in MNIST label"),
    (mnist_files.read_images, idx_bytes(2051, (3, 2, 2), np.zeros(11)), "truncated"),
    (mnist_files.read_labels, idx_bytes(2049, (5,), np.zeros(4)), "truncated"),
    (mnist_files.read_images, idx_bytes(2051, (1, 2, 2), np.zeros(6)), "corrupt"),
    (mnist_files.read_labels, b"\x00\x00\x08", "truncated"),
    (mnist_files.read_labels, idx_bytes(2049, (2,), [3, 12]), "not a digit"),
])
def test_bad_contents_name_the_file(tmp_path, reader, raw, match):
    path = write_gz(tmp_path / "bad.gz", raw)
    with pytest.raises(ValueError, match=match) as info:
        reader(path)
    assert path in str(info.value)


def test_truncated_gzip_stream_names_the_file(tmp_path):
    images, _ = make_examples(50)
    path = write_gz(tmp_path / "cut.gz", idx_bytes(2051, images.shape, images))
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupt or truncated") as info:
        mnist_files.read_images(path)
    assert path in str(info.value)


def test_not_gzip_names_the_file(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_bytes(idx_bytes(2049, (1,), [0]))
    with pytest.raises(ValueError, match="corrupt or truncated") as info:
        mnist_files.read_labels(path)
    assert str(path) in str(info.value)


def test_mismatched_counts_name_both_files(tmp_path):
    write_pair(tmp_path, "train", make_examples(5)[0], make_examples(4)[1])
    with pytest.raises(ValueError, match="5 images.*4 labels") as info:
        input_data.read_data_sets(tmp_path)
    assert mnist_files.TRAIN_IMAGES in str(info.value) and mnist_files.TRAIN_LABELS in str(info.value)


def test_half_a_pair_is_file_not_found(tmp_path):
    write_gz(tmp_path / mnist_files.TRAIN_IMAGES, idx_bytes(2051, (1, 1, 1), [0]))
    with pytest.raises(FileNotFoundError, match=mnist_files.TRAIN_LABELS):
        input_data.read_data_sets(tmp_path)


# ---- read_data_sets from files ---------------------------------------------------------------------------

def test_read_data_sets_from_files(mnist_dir):
    data = input_data.read_data_sets(mnist_dir, validation_size=5)
    assert isinstance(data, input_data.Datasets)
    assert [d.num_examples for d in data] == [15, 5, 6]
    assert data.train.images.shape == (15, ROWS * COLS) and data.train.images.dtype == np.float32
    # validation is the first 5 training examples, train the rest, in file order before any batch
    np.testing.assert_array_equal(data.validation.labels, np.arange(5) % 10)
    np.testing.assert_array_equal(data.train.images[:, 0], np.arange(5, 20, dtype=np.float32) * np.float32(1 / 255))
    assert data.test.labels.dtype == np.uint8
    np.testing.assert_array_equal(data.test.labels, np.arange(100, 106) % 10)


def test_float_scaling_uint8_and_no_reshape(mnist_dir):
    raw = make_examples(20)[0]
    scaled = input_data.read_data_sets(mnist_dir, validation_size=0).train.images
    np.testing.assert_array_equal(scaled, raw.reshape(20, -1).astype(np.float32) * (1.0 / 255.0))
    assert 0.0 <= scaled.min() and scaled.max() <= 1.0
    kept = input_data.read_data_sets(mnist_dir, dtype=tf.uint8, reshape=False, validation_size=0).train
    assert kept.images.dtype == np.uint8 and kept.images.shape == (20, ROWS, COLS, 1)
    np.testing.assert_array_equal(kept.images[..., 0], raw)
    with pytest.raises(TypeError, match="Invalid image dtype"):
        input_data.read_data_sets(mnist_dir, dtype=tf.float64, validation_size=0)


def test_one_hot(mnist_dir):
    data = input_data.read_data_sets(mnist_dir, one_hot=True, validation_size=5)
    assert data.train.labels.shape == (15, 10) and data.train.labels.dtype == np.float64
    np.testing.assert_array_equal(data.train.labels.argmax(axis=1), np.arange(5, 20) % 10)
    np.testing.assert_array_equal(data.train.labels.sum(axis=1), np.ones(15))


@pytest.mark.parametrize("size", [-1, 21])
def test_validation_size_out_of_range(mnist_dir, size):
    with pytest.raises(ValueError, match=f"Validation size should be between 0 and 20. Received: {size}."):
        input_data.read_data_sets(mnist_dir, validation_size=size)


def test_missing_test_files_use_the_bundled_t10k(tmp_path):
    write_pair(tmp_path, "train", *make_examples(20))
    data = input_data.read_data_sets(tmp_path, validation_size=0, dtype=tf.uint8, reshape=False)
    np.testing.assert_array_equal(data.test.images[..., 0], mnist_files.bundled_sample()[0])


# ---- bundled fallback ------------------------------------------------------------------------------------

def test_bundled_sample_is_real_mnist():
    images, labels = mnist_files.bundled_sample()
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert sorted(np.unique(labels)) == list(range(10))
    images[0] = 0  # callers get their own copy
    assert mnist_files.bundled_sample()[0][0].any()


def test_read_data_sets_fallback_split(tmp_path):
    images, labels = mnist_files.bundled_sample()
    data = input_data.read_data_sets(tmp_path / "empty", dtype=tf.uint8, reshape=False)
    assert [d.num_examples for d in data] == [7000, 1000, 2000]
    np.testing.assert_array_equal(data.test.images[..., 0], images[8000:])
    np.testing.assert_array_equal(data.validation.labels, labels[:1000])
    np.testing.assert_array_equal(data.train.labels, labels[1000:8000])
    again = input_data.read_data_sets(tmp_path / "empty", dtype=tf.uint8, reshape=False)
    for first, second in zip(data, again, strict=True):
        np.testing.assert_array_equal(first.images, second.images)


@pytest.mark.parametrize("size, sizes", [(300, [7700, 300, 2000]), (0, [8000, 0, 2000]), (8000, [7000, 1000, 2000])])
def test_fallback_validation_size(tmp_path, size, sizes):
    data = input_data.read_data_sets(tmp_path, validation_size=size)
    assert [d.num_examples for d in data] == sizes


def test_fallback_validation_size_beyond_pool(tmp_path):
    with pytest.raises(ValueError, match="between 0 and 8000. Received: 8001."):
        input_data.read_data_sets(tmp_path, validation_size=8001)


# ---- next_batch ------------------------------------------------------------------------------------------

def id_dataset(n, seed=None):
    """A DataSet whose labels are the example ids and whose single pixel is the id too."""
    ids = np.arange(n, dtype=np.uint8)
    return input_data.DataSet(ids.reshape(n, 1, 1, 1), ids, dtype=tf.uint8, seed=seed)


def test_every_example_once_per_epoch():
    data = id_dataset(10, seed=1)
    stream = []
    for _ in range(20):
        images, labels = data.next_batch(3)
        assert len(labels) == 3
        np.testing.assert_array_equal(images[:, 0], labels)  # images and labels stay paired
        stream.extend(labels.tolist())
    for epoch in range(6):
        assert sorted(stream[10 * epoch:10 * epoch + 10]) == list(range(10))
    assert data.epochs_completed == 5


def test_epoch_boundary_batch():
    data = id_dataset(10, seed=3)
    first = [data.next_batch(3)[1] for _ in range(3)]
    assert data.epochs_completed == 0
    left = sorted(set(range(10)) - set(np.concatenate(first).tolist()))
    boundary = data.next_batch(3)[1]
    assert data.epochs_completed == 1
    assert boundary[0] == left[0]
    # the rest of the batch is the start of the re-shuffled new epoch
    np.testing.assert_array_equal(boundary[1:], data.labels[:2])


def test_batch_ending_on_the_boundary_counts_the_epoch_on_the_next_call():
    data = id_dataset(10)
    data.next_batch(5), data.next_batch(5)
    assert data.epochs_completed == 0
    assert len(data.next_batch(5)[1]) == 5
    assert data.epochs_completed == 1


def test_no_shuffle_keeps_order():
    data = id_dataset(10)
    batches = [data.next_batch(3, shuffle=False)[1].tolist() for _ in range(4)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 0, 1]]


def test_first_shuffle_uses_tf_seeding():
    order = np.arange(10)
    np.random.RandomState(42).shuffle(order)  # TF seeds NumPy with the op seed, then shuffles arange(N)
    np.testing.assert_array_equal(id_dataset(10, seed=42).next_batch(10)[1], order)


def test_seed_reproducibility(tmp_path):
    def batches(seed):
        train = input_data.read_data_sets(tmp_path, seed=seed).train
        return [train.next_batch(2500)[1] for _ in range(4)]

    for a, b in zip(batches(7), batches(7), strict=True):
        np.testing.assert_array_equal(a, b)
    assert any((a != b).any() for a, b in zip(batches(7), batches(8), strict=True))


def test_graph_seed_makes_unseeded_datasets_reproducible():
    def first_batch():
        with tf.Graph().as_default():
            tf.set_random_seed(5)
            return id_dataset(50).next_batch(50)[1]

    np.testing.assert_array_equal(first_batch(), first_batch())


def test_fake_data():
    data = input_data.read_data_sets("unused", fake_data=True, one_hot=True)
    assert [d.num_examples for d in data] == [10000] * 3
    images, labels = data.train.next_batch(4, fake_data=True)
    assert images == [[1] * 784] * 4 and labels == [[1] + [0] * 9] * 4
    plain = input_data.read_data_sets("unused", fake_data=True).validation
    assert plain.next_batch(2, fake_data=True)[1] == [0, 0]


# ---- keras.datasets.mnist --------------------------------------------------------------------------------

def test_keras_load_data_from_directory(mnist_dir):
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data(mnist_dir)
    np.testing.assert_array_equal(x_train, make_examples(20)[0])
    np.testing.assert_array_equal(y_test, make_examples(6, start=100)[1])
    assert x_train.dtype == y_train.dtype == x_test.dtype == np.uint8


def test_keras_load_data_from_npz(tmp_path):
    x_train, y_train = make_examples(7)
    x_test, y_test = make_examples(3, start=50)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    (a, b), (c, d) = keras_mnist.load_data(str(path))
    for got, want in ((a, x_train), (b, y_train), (c, x_test), (d, y_test)):
        np.testing.assert_array_equal(got, want)


def test_keras_bad_npz_names_the_file(tmp_path):
    partial = tmp_path / "partial.npz"
    np.savez(partial, x_train=np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="lacks the arrays") as info:
        keras_mnist.load_data(partial)
    assert str(partial) in str(info.value)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="not a readable .npz") as info:
        keras_mnist.load_data(broken)
    assert str(broken) in str(info.value)


@pytest.mark.parametrize("path", [None, "no-such-dir", "no-such-file.npz"])
def test_keras_load_data_fallback(tmp_path, monkeypatch, path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    images, labels = mnist_files.bundled_sample()
    (x_train, y_train), (x_test, y_test) = keras_mnist.load_data(path)
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert y_train.dtype == y_test.dtype == np.uint8
    np.testing.assert_array_equal(x_train, images[:8000])
    np.testing.assert_array_equal(y_test, labels[8000:])


# ---- the stderr notice -----------------------------------------------------------------------------------

def test_notice_printed_once(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mnist_files, "_notice_printed", False)
    input_data.read_data_sets(tmp_path)
    keras_mnist.load_data()
    input_data.read_data_sets(tmp_path)
    err = capsys.readouterr().err
    assert err.count("bundled 10,000-image sample") == 1
    assert repr(str(tmp_path)) in err


def test_notice_printed_once_per_process(tmp_path):
    script = ("import caudal as tf\n"
              "from caudal.examples.tutorials.mnist import input_data\n"
              f"input_data.read_data_sets({str(tmp_path)!r})\n"
              "tf.keras.datasets.mnist.load_data()\n"
              "tf.keras.datasets.mnist.load_data()\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.stderr.count("bundled 10,000-image sample") == 1
    assert result.stdout == ""
