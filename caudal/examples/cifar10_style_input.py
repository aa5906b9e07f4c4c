"""The CIFAR-10 tutorial's queue input pipeline (TF <= 1.3), on MNIST.

The example writes the MNIST images the way the CIFAR-10 binaries store theirs: fixed-length records of
one label byte followed by the pixels (28x28 here), in five training files and one test file
(--records_dir; the MNIST files or the bundled 10,000-image sample). It then trains a one-hidden-layer
network from the classic pipeline

    string_input_producer -> FixedLengthRecordReader -> decode_raw -> shuffle_batch

whose threads a Coordinator and start_queue_runners run, and evaluates on the test file through a second
pipeline that reads it once (num_epochs=1, batch with allow_smaller_final_batch) until OutOfRangeError.
2,000 steps of 100 reach about 0.955 test accuracy on the bundled sample (the slow test asks for >= 0.94).

    python -m caudal.examples.cifar10_style_input [--data_dir DIR] [--records_dir DIR] [--steps N]
                                                  [--min_after_dequeue N]
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np

import caudal as tf
from caudal.examples._mnist_common import Progress, parse_args, seed_everything
from caudal.examples.tutorials.mnist import input_data
from caudal.ops.reader_ops import FixedLengthRecordReader  # tf.FixedLengthRecordReader

IMAGE_SIZE = 28
LABEL_BYTES = 1
IMAGE_BYTES = IMAGE_SIZE * IMAGE_SIZE
TRAIN_FILES = 5


def write_binaries(images: np.ndarray, labels: np.ndarray, paths: list[str]) -> None:
    """The records (label byte, then the pixels row by row) split evenly over `paths`."""
    records = np.concatenate([np.asarray(labels, np.uint8).reshape(-1, 1),
                              np.asarray(images, np.uint8).reshape(len(images), -1)], axis=1)
    for part, path in zip(np.array_split(records, len(paths)), paths):
        with open(path, "wb") as f:
            f.write(part.tobytes())


def read_record(filename_queue: Any) -> tuple:
    """One example of the queue's files: a [28, 28, 1] float image in [0, 1] and an int32 label."""
    reader = FixedLengthRecordReader(record_bytes=LABEL_BYTES + IMAGE_BYTES)
    _, value = reader.read(filename_queue)
    record = tf.decode_raw(value, tf.uint8)
    label = tf.reshape(tf.cast(tf.strided_slice(record, [0], [LABEL_BYTES]), tf.int32), [])
    pixels = tf.strided_slice(record, [LABEL_BYTES], [LABEL_BYTES + IMAGE_BYTES])
    image = tf.cast(tf.reshape(pixels, [IMAGE_SIZE, IMAGE_SIZE, 1]), tf.float32) / 255.0
    return image, label


def inputs(paths: list[str], batch_size: int, train: bool, seed: int, min_after_dequeue: int = 2000) -> tuple:
    """Shuffled batches of the training files forever (mixed among `min_after_dequeue` examples), or
    the test file once in order."""
    if train:
        queue = tf.train.string_input_producer(paths, seed=seed)
        image, label = read_record(queue)
        return tf.train.shuffle_batch([image, label], batch_size, num_threads=2, seed=seed,
                                      capacity=min_after_dequeue + 3 * batch_size,
                                      min_after_dequeue=min_after_dequeue)
    queue = tf.train.string_input_producer(paths, num_epochs=1, shuffle=False)
    image, label = read_record(queue)
    return tf.train.batch([image, label], batch_size, allow_smaller_final_batch=True)


def network(images: tf.Tensor) -> tf.Tensor:
    flat = tf.reshape(images, [-1, IMAGE_BYTES])
    hidden = tf.layers.dense(flat, 128, activation=tf.nn.relu, name="hidden")
    return tf.layers.dense(hidden, 10, name="logits")


def main(argv: list[str] | None = None) -> float:
    import argparse

    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--records_dir", default=None)
    extra.add_argument("--min_after_dequeue", type=int, default=2000)
    known, rest = extra.parse_known_args(argv)
    args = parse_args(rest, steps=2000, batch_size=100, description=__doc__)
    tf.reset_default_graph()
    seed_everything(tf, args.seed)
    mnist = input_data.read_data_sets(args.data_dir, dtype=tf.uint8, reshape=False, validation_size=0,
                                      seed=args.seed)
    records_dir = known.records_dir or tempfile.mkdtemp(prefix="mnist_binaries_")
    os.makedirs(records_dir, exist_ok=True)
    train_paths = [os.path.join(records_dir, f"data_batch_{i}.bin") for i in range(1, TRAIN_FILES + 1)]
    test_paths = [os.path.join(records_dir, "test_batch.bin")]
    write_binaries(mnist.train.images, mnist.train.labels, train_paths)
    write_binaries(mnist.test.images, mnist.test.labels, test_paths)

    images, labels = inputs(train_paths, args.batch_size, train=True, seed=args.seed,
                            min_after_dequeue=known.min_after_dequeue)
    with tf.variable_scope("model"):
        logits = network(images)
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
    test_images, test_labels = inputs(test_paths, 500, train=False, seed=args.seed)
    with tf.variable_scope("model", reuse=True):
        test_logits = network(test_images)
    correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(test_logits, 1, output_type=tf.int32), test_labels),
                                    tf.float32))

    progress = Progress(args.steps, args.log_every)
    with tf.Session() as sess:
        sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        coord = tf.train.Coordinator()
        threads = tf.train.start_queue_runners(sess, coord)
        try:
            for step in range(1, args.steps + 1):
                value, _ = sess.run([loss, train_op])
                progress(step, value)
            right = 0.0
            while True:
                try:
                    right += sess.run(correct)
                except tf.errors.OutOfRangeError:
                    break
        finally:
            coord.request_stop()
            coord.join(threads, stop_grace_period_secs=10)
    test_accuracy = right / mnist.test.num_examples
    print(f"test accuracy: {test_accuracy:.4f}")
    return test_accuracy


if __name__ == "__main__":
    main()
