"""The deep-MNIST CNN (the network of mnist_cnn.py, written with tf.layers) as an Estimator `model_fn`,
trained with `tf.estimator.train_and_evaluate`: TF 1.x's "CNN with Estimators" tutorial.

Two 5x5 convolutions (32 and 64 filters) with 2x2 max-pooling, a 1024-unit dense layer, dropout 0.4 in
training and Adam (1e-3) on batches of 50 from `numpy_input_fn`. A checkpoint is saved every
`--steps / 3` steps and each is evaluated on the test images (accuracy and loss in `model_dir/eval`,
training loss and accuracy summaries in `model_dir`, for TensorBoard). 1,500 steps on the bundled
10,000-image sample reach 0.984 test accuracy on its 2,000 test images (seed 0; 0.986 at step 500).

    python -m caudal.examples.mnist_estimator [--data_dir DIR] [--model_dir DIR] [--steps N]
"""
from __future__ import annotations

import argparse
import tempfile
from typing import Any

import numpy as np

import caudal as tf
import caudal.estimator  # noqa: F401 - loads tf.estimator
from caudal.examples.tutorials.mnist import input_data


def cnn_model_fn(features: dict, labels: Any, mode: str) -> Any:
    """The model_fn: logits of the deep-MNIST network; predictions, loss, Adam and accuracy by mode."""
    training = mode == tf.estimator.ModeKeys.TRAIN
    input_layer = tf.reshape(features["x"], [-1, 28, 28, 1])
    conv1 = tf.layers.conv2d(input_layer, filters=32, kernel_size=[5, 5], padding="same", activation=tf.nn.relu)
    pool1 = tf.layers.max_pooling2d(conv1, pool_size=[2, 2], strides=2)
    conv2 = tf.layers.conv2d(pool1, filters=64, kernel_size=[5, 5], padding="same", activation=tf.nn.relu)
    pool2 = tf.layers.max_pooling2d(conv2, pool_size=[2, 2], strides=2)
    dense = tf.layers.dense(tf.layers.flatten(pool2), units=1024, activation=tf.nn.relu)
    dropout = tf.layers.dropout(dense, rate=0.4, training=training)
    logits = tf.layers.dense(dropout, units=10)
    classes = tf.argmax(logits, axis=1)
    predictions = {"classes": classes, "probabilities": tf.nn.softmax(logits, name="softmax_tensor")}
    if mode == tf.estimator.ModeKeys.PREDICT:
        return tf.estimator.EstimatorSpec(mode=mode, predictions=predictions)
    loss = tf.losses.sparse_softmax_cross_entropy(labels=labels, logits=logits)
    accuracy = tf.metrics.accuracy(labels=labels, predictions=classes, name="accuracy")
    if mode == tf.estimator.ModeKeys.TRAIN:
        tf.summary.scalar("train_accuracy", tf.reduce_mean(tf.cast(tf.equal(classes, tf.cast(labels, tf.int64)),
                                                                   tf.float32)))
        train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=tf.train.get_global_step())
        return tf.estimator.EstimatorSpec(mode=mode, loss=loss, train_op=train_op)
    return tf.estimator.EstimatorSpec(mode=mode, loss=loss, eval_metric_ops={"accuracy": accuracy})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_dir", default="/tmp/tensorflow/mnist/input_data",
                        help="directory with the MNIST .gz files; the bundled sample is used if they are absent")
    parser.add_argument("--model_dir", default=None, help="checkpoints and summaries (default: a new temporary "
                                                          "directory)")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch_size", type=int, default=50)
    parser.add_argument("--eval_examples", type=int, default=None, help="test images to evaluate (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv)
    np.random.seed(args.seed)
    mnist = input_data.read_data_sets(args.data_dir, seed=args.seed)
    model_dir = args.model_dir or tempfile.mkdtemp(prefix="mnist_estimator_")
    config = tf.estimator.RunConfig(tf_random_seed=args.seed, save_checkpoints_steps=max(args.steps // 3, 1),
                                    log_step_count_steps=max(args.steps // 10, 1))
    classifier = tf.estimator.Estimator(model_fn=cnn_model_fn, model_dir=model_dir, config=config)
    train_input_fn = tf.estimator.inputs.numpy_input_fn(
        x={"x": mnist.train.images}, y=mnist.train.labels.astype(np.int32), batch_size=args.batch_size,
        num_epochs=None, shuffle=True)
    test_images, test_labels = mnist.test.images, mnist.test.labels.astype(np.int32)
    if args.eval_examples:
        test_images, test_labels = test_images[:args.eval_examples], test_labels[:args.eval_examples]
    eval_input_fn = tf.estimator.inputs.numpy_input_fn(x={"x": test_images}, y=test_labels, batch_size=200,
                                                       num_epochs=1, shuffle=False)
    metrics, _ = tf.estimator.train_and_evaluate(
        classifier, tf.estimator.TrainSpec(train_input_fn, max_steps=args.steps),
        tf.estimator.EvalSpec(eval_input_fn, steps=None, throttle_secs=0))
    accuracy = float(metrics["accuracy"])
    print(f"test accuracy: {accuracy:.4f} (global step {metrics['global_step']}, model_dir {model_dir})")
    return accuracy


if __name__ == "__main__":
    main()
