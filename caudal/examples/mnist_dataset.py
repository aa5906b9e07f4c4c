"""The deep-MNIST CNN (the network of mnist_cnn.py) fed by tf.data from TFRecord files.

The example first writes the MNIST images as `tf.train.Example` records (train.tfrecords and
test.tfrecords in --records_dir, from the MNIST files or the bundled 10,000-image sample), then trains
from `TFRecordDataset -> map(parse) -> shuffle -> batch -> repeat -> prefetch`, and evaluates on the test
records through the same feedable iterator: `Iterator.from_string_handle` switches between the training
and the test pipelines by the handle fed to each run. 1,500 steps of 50 reach >= 0.97 test accuracy.

    python -m caudal.examples.mnist_dataset [--data_dir DIR] [--records_dir DIR] [--steps N]
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

import caudal as tf
from caudal.examples._mnist_common import Progress, parse_args, seed_everything
from caudal.examples.mnist_cnn import deepnn
from caudal.examples.tutorials.mnist import input_data


def write_records(images: np.ndarray, labels: np.ndarray, path: str) -> None:
    """Each image (uint8 pixels, row-major) and its label as one serialized tf.train.Example."""
    pixels = np.asarray(images).reshape(len(images), -1)
    with tf.python_io.TFRecordWriter(path) as writer:
        for image, label in zip(pixels, labels):
            example = tf.train.Example(features=tf.train.Features(feature={
                "image_raw": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image.tobytes()])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)]))}))
            writer.write(example.SerializeToString())


def parse(record: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    features = tf.parse_single_example(record, {"image_raw": tf.FixedLenFeature([], tf.string),
                                                "label": tf.FixedLenFeature([], tf.int64)})
    image = tf.cast(tf.decode_raw(features["image_raw"], tf.uint8), tf.float32) / 255.0
    image.set_shape([784])
    return image, features["label"]


def main(argv: list[str] | None = None) -> float:
    import argparse

    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--records_dir", default=None)
    known, rest = extra.parse_known_args(argv)
    args = parse_args(rest, steps=1500, batch_size=50, description=__doc__)
    tf.reset_default_graph()
    seed_everything(tf, args.seed)
    mnist = input_data.read_data_sets(args.data_dir, dtype=tf.uint8, seed=args.seed)
    records_dir = known.records_dir or tempfile.mkdtemp(prefix="mnist_records_")
    os.makedirs(records_dir, exist_ok=True)
    train_path, test_path = os.path.join(records_dir, "train.tfrecords"), os.path.join(records_dir, "test.tfrecords")
    write_records(mnist.train.images, mnist.train.labels, train_path)
    write_records(mnist.test.images, mnist.test.labels, test_path)

    train = (tf.data.TFRecordDataset(train_path).map(parse, num_parallel_calls=2)
             .shuffle(5000, seed=args.seed).batch(args.batch_size).repeat().prefetch(1))
    test = tf.data.TFRecordDataset(test_path).map(parse).batch(500)
    handle = tf.placeholder(tf.string, shape=[])
    iterator = tf.data.Iterator.from_string_handle(handle, train.output_types, train.output_shapes)
    x, y_ = iterator.get_next()
    train_iterator = train.make_one_shot_iterator()
    test_iterator = test.make_initializable_iterator()

    y_conv, keep_prob = deepnn(x)
    cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels=y_, logits=y_conv)
    train_step = tf.train.AdamOptimizer(1e-3).minimize(cross_entropy)
    correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(y_conv, 1), y_), tf.float32))

    progress = Progress(args.steps, args.log_every)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        train_handle, test_handle = sess.run([train_iterator.string_handle(), test_iterator.string_handle()])
        for step in range(1, args.steps + 1):
            loss, _ = sess.run([cross_entropy, train_step], {handle: train_handle, keep_prob: 0.5})
            progress(step, loss)
        sess.run(test_iterator.initializer)
        right = 0.0
        while True:
            try:
                right += sess.run(correct, {handle: test_handle, keep_prob: 1.0})
            except tf.errors.OutOfRangeError:
                break
    test_accuracy = right / mnist.test.num_examples
    print(f"test accuracy: {test_accuracy:.4f}")
    return test_accuracy


if __name__ == "__main__":
    main()
