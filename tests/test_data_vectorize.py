"""Vectorized map: functions of batchable ops run once per chunk, with the same elements and errors as
element by element."""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf
from caudal.data import structure
from caudal.data.function import DatasetFunction

D = tf.data.Dataset


def _function(fn, dtype, shape):
    return DatasetFunction(fn, structure.ComponentSpec(dtype, shape), "map")


def _drain(dataset):
    nxt = dataset.make_one_shot_iterator().get_next()
    out = []
    with tf.Session() as sess:
        while True:
            try:
                out.append(sess.run(nxt))
            except tf.errors.OutOfRangeError:
                return out
            except tf.errors.OpError as e:
                out.append(type(e).__name__ + ": " + e.message.split("\n")[0])


def _example(pixels, label):
    return tf.train.Example(features=tf.train.Features(feature={
        "raw": tf.train.Feature(bytes_list=tf.train.BytesList(value=[bytes(pixels)])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label]))})).SerializeToString()


def _parse(record):
    features = tf.parse_single_example(record, {"raw": tf.FixedLenFeature([], tf.string),
                                                "label": tf.FixedLenFeature([], tf.int64)})
    return tf.cast(tf.decode_raw(features["raw"], tf.uint8), tf.float32) / 255.0, features["label"] * 2


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default():
        yield


def test_which_functions_are_batched():
    assert _function(_parse, tf.string, []).vectorized() is not None
    assert _function(lambda x: tf.square(x) + tf.constant([1.0, 2.0]), tf.float32, [2]).vectorized() is not None
    # a constant of the element's rank plus one would broadcast against the batch axis
    assert _function(lambda x: x + tf.ones([3, 2]), tf.float32, [2]).vectorized() is None
    assert _function(lambda x: tf.reshape(x, [2, 1]), tf.float32, [2]).vectorized() is None
    assert _function(lambda x: x + tf.random_uniform([2]), tf.float32, [2]).vectorized() is None
    assert _function(lambda x: tf.reduce_sum(x), tf.float32, [2]).vectorized() is None
    varlen = {"v": tf.VarLenFeature(tf.int64)}
    assert _function(lambda r: tf.parse_single_example(r, varlen)["v"], tf.string, []).vectorized() is None


def test_batched_map_gives_the_elements_of_the_per_element_map():
    records = [_example((np.arange(i, i + 4) % 256).tolist(), i) for i in range(300)]
    batched = _drain(D.from_tensor_slices(records).map(_parse))
    expected = [((np.arange(i, i + 4) % 256).astype(np.float32) / 255.0, 2 * i) for i in range(300)]
    assert len(batched) == 300
    for (image, label), (want_image, want_label) in zip(batched, expected):
        np.testing.assert_allclose(image, want_image, rtol=1e-6)
        assert label == want_label


def test_a_chunk_with_a_bad_element_falls_back_to_per_element_errors():
    records = [_example([1, 2], 0), _example([3, 4], 1), b"not an example", _example([5, 6], 3)]
    got = _drain(D.from_tensor_slices(records).map(_parse))
    assert [g[1] for g in got if not isinstance(g, str)] == [0, 2, 6]
    assert got[2] == "InvalidArgumentError: Could not parse example input, value: 'not an example'"


def test_elements_of_different_shapes_are_mapped_one_by_one():
    records = [_example([1, 2], 0), _example([3, 4, 5], 1)]
    got = _drain(D.from_tensor_slices(records).map(_parse))
    assert [g[0].shape for g in got] == [(2,), (3,)]


def test_captured_tensors_reach_the_batched_function():
    scale = tf.placeholder(tf.float32, [])
    it = D.from_tensor_slices(np.arange(5, dtype=np.float32)).map(lambda x: x * scale + 1.0) \
        .make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as sess:
        sess.run(it.initializer, {scale: 10.0})
        assert [float(sess.run(nxt)) for _ in range(5)] == [1.0, 11.0, 21.0, 31.0, 41.0]
