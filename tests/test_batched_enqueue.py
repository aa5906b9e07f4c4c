"""Queue runners run a record pipeline (reader -> parse -> decode -> enqueue) a batch of records at a time,
with the values, order and errors of running its enqueue op once per record; and waiting enqueues are
served in turn, each seeing the variable writes of those before it."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import caudal as tf
from caudal.ops.queue_ops import FIFOQueue
from caudal.summary.records import TFRecordWriter
from caudal.train import batched_enqueue as batching
from caudal.train.coordinator import Coordinator
from caudal.train.queue_runner import QueueRunner, add_queue_runner, start_queue_runners


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def _example(pixels: bytes, label: int) -> bytes:
    return tf.train.Example(features=tf.train.Features(feature={
        "image_raw": tf.train.Feature(bytes_list=tf.train.BytesList(value=[pixels])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label]))})).SerializeToString()


def _write(path, records) -> str:
    with TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    return str(path)


def _pipeline(paths, pixels: int = 4):
    files = tf.train.string_input_producer(paths, num_epochs=1, shuffle=False)
    _, record = tf.TFRecordReader().read(files)
    features = tf.parse_single_example(record, {"image_raw": tf.FixedLenFeature([], tf.string),
                                                "label": tf.FixedLenFeature([], tf.int64)})
    image = tf.cast(tf.decode_raw(features["image_raw"], tf.uint8), tf.float32) / 255.0
    image.set_shape([pixels])
    return image, features["label"]


def _drain(images, labels, init=None):
    taken_images, taken_labels = [], []
    init = tf.local_variables_initializer() if init is None else init
    with tf.Session() as sess:
        sess.run(init)
        coord = Coordinator()
        threads = start_queue_runners(sess, coord)
        try:
            while True:
                x, y = sess.run([images, labels])
                taken_images.append(x)
                taken_labels.append(y)
        except tf.errors.OutOfRangeError:
            pass
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=10)
    return np.concatenate(taken_images), np.concatenate(taken_labels)


def test_a_record_pipeline_is_batched_and_gives_every_record_in_order(tmp_path, monkeypatch):
    batched_runs = []
    run = batching.BatchedEnqueue.__call__
    monkeypatch.setattr(batching.BatchedEnqueue, "__call__", lambda self, sess: (batched_runs.append(1),
                                                                                  run(self, sess))[1])
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (300, 4), dtype=np.uint8)
    first = _write(tmp_path / "a.tfrecord", [_example(p.tobytes(), i) for i, p in enumerate(pixels[:200])])
    second = _write(tmp_path / "b.tfrecord", [_example(p.tobytes(), 200 + i) for i, p in enumerate(pixels[200:])])
    image, label = _pipeline([first, second])
    images, labels = tf.train.batch([image, label], 32, num_threads=1, allow_smaller_final_batch=True)
    runner = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)[-1]
    assert batching.batched_enqueue(runner.enqueue_ops[0]) is not None
    got_images, got_labels = _drain(images, labels)
    assert 3 <= len(batched_runs) <= 4  # 128 + 72 records of the first file, 100 of the second, the end
    np.testing.assert_array_equal(got_labels, np.arange(300))
    np.testing.assert_allclose(got_images, pixels.astype(np.float32) / 255.0, rtol=1e-7)


def test_several_threads_give_every_record_once(tmp_path):
    path = _write(tmp_path / "a.tfrecord", [_example(bytes([i % 256] * 4), i) for i in range(1000)])
    image, label = _pipeline([path])
    images, labels = tf.train.shuffle_batch([image, label], 50, capacity=400, min_after_dequeue=100,
                                            num_threads=3, seed=1, allow_smaller_final_batch=True)
    got_images, got_labels = _drain(images, labels)
    assert sorted(got_labels.tolist()) == list(range(1000))
    np.testing.assert_allclose(got_images[:, 0], (got_labels % 256) / 255.0, rtol=1e-6)


def test_a_bad_record_fails_as_it_would_one_record_at_a_time(tmp_path):
    records = [_example(bytes([i] * 4), i) for i in range(10)]
    records[6] = _example(bytes([6] * 5), 6)  # one byte too many for the static shape
    path = _write(tmp_path / "a.tfrecord", records)
    image, label = _pipeline([path])
    queue = FIFOQueue(100, [tf.float32, tf.int64], shapes=[[4], []])
    runner = QueueRunner(queue, [queue.enqueue([image, label])])
    add_queue_runner(runner)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        coord = Coordinator()
        threads = start_queue_runners(sess, coord)
        try:
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"Shape mismatch in tuple component 0\. "
                                                                     r"Expected \[4\], got \[5\]"):
                coord.join(threads, stop_grace_period_secs=10)
        finally:
            coord.request_stop()
        assert sess.run(queue.size()) == 6  # the records before the bad one
        np.testing.assert_array_equal(sess.run(queue.dequeue_many(6))[1], np.arange(6))


def test_pipelines_that_are_not_batchable_run_one_record_at_a_time(tmp_path):
    path = _write(tmp_path / "a.tfrecord", [_example(bytes([i] * 4), i) for i in range(20)])
    image, label = _pipeline([path])
    noisy = image + tf.random_uniform([4])  # a stateful op in the pipeline
    queue = FIFOQueue(100, [tf.float32, tf.int64], shapes=[[4], []])
    assert batching.batched_enqueue(queue.enqueue([noisy, label])) is None
    assert batching.batched_enqueue(queue.enqueue([image, tf.constant(1, tf.int64)])) is None  # one not per record
    assert batching.batched_enqueue(queue.enqueue([tf.constant([1.0] * 4), tf.constant(1, tf.int64)])) is None


def test_the_users_graph_is_unchanged(tmp_path):
    path = _write(tmp_path / "a.tfrecord", [_example(bytes([i] * 4), i) for i in range(5)])
    image, label = _pipeline([path])
    images, labels = tf.train.batch([image, label], 5, num_threads=1)
    init = tf.local_variables_initializer()
    before = [op.name for op in tf.get_default_graph().get_operations()]
    _, got = _drain(images, labels, init)
    assert got.tolist() == [0, 1, 2, 3, 4]
    assert [op.name for op in tf.get_default_graph().get_operations()] == before


def test_waiting_enqueues_are_served_in_turn_and_see_earlier_writes():
    queue = FIFOQueue(1, tf.int32, shapes=[[]])
    counter = tf.Variable(0)
    enqueue = queue.enqueue([tf.assign_add(counter, 1)])
    with tf.Session() as sess:
        sess.run(counter.initializer)
        sess.run(queue.enqueue([0]))
        state = sess._store.resources[("queue", queue.name)]
        threads = []
        for waiting in (1, 2, 3):
            threads.append(threading.Thread(target=sess.run, args=(enqueue,)))
            threads[-1].start()
            deadline = time.monotonic() + 10
            while len(state.waiting_enqueues) < waiting and time.monotonic() < deadline:
                time.sleep(0.005)
        assert len(state.waiting_enqueues) == 3
        assert sess.run(queue.dequeue_many(4)).tolist() == [0, 1, 2, 3]
        for thread in threads:
            thread.join(10)
        assert sess.run(counter) == 3


def test_a_closed_session_is_refused_as_by_one_record_runs(tmp_path):
    path = _write(tmp_path / "a.tfrecord", [_example(bytes([i] * 4), i) for i in range(5)])
    image, label = _pipeline([path])
    queue = FIFOQueue(100, [tf.float32, tf.int64], shapes=[[4], []])
    batched = batching.batched_enqueue(queue.enqueue([image, label]))
    sess = tf.Session()
    sess.run(tf.local_variables_initializer())
    sess.close()
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session."):
        batched(sess)
