"""MNIST "Deep MNIST for experts": two 5x5 convolutions with 2x2 max-pooling (32 and 64
filters), a 1024-unit dense layer, dropout and Adam.

    python -m caudal.examples.mnist_cnn [--data_dir DIR] [--steps N]
"""
from __future__ import annotations

import caudal as tf
from caudal.examples._mnist_common import Progress, evaluate, parse_args, seed_everything
from caudal.examples.tutorials.mnist import input_data


def weight_variable(shape: list[int]) -> tf.Variable:
    return tf.Variable(tf.truncated_normal(shape, stddev=0.1))


def bias_variable(shape: list[int]) -> tf.Variable:
    return tf.Variable(tf.constant(0.1, shape=shape))


def conv2d(x: tf.Tensor, W: tf.Variable) -> tf.Tensor:
    return tf.nn.conv2d(x, W, strides=[1, 1, 1, 1], padding="SAME")


def max_pool_2x2(x: tf.Tensor) -> tf.Tensor:
    return tf.nn.max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")


def deepnn(x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Logits and the keep_prob placeholder of the tutorial's network."""
    x_image = tf.reshape(x, [-1, 28, 28, 1])
    h_conv1 = tf.nn.relu(conv2d(x_image, weight_variable([5, 5, 1, 32])) + bias_variable([32]))
    h_pool1 = max_pool_2x2(h_conv1)
    h_conv2 = tf.nn.relu(conv2d(h_pool1, weight_variable([5, 5, 32, 64])) + bias_variable([64]))
    h_pool2 = max_pool_2x2(h_conv2)
    h_pool2_flat = tf.reshape(h_pool2, [-1, 7 * 7 * 64])
    h_fc1 = tf.nn.relu(tf.matmul(h_pool2_flat, weight_variable([7 * 7 * 64, 1024])) + bias_variable([1024]))
    keep_prob = tf.placeholder(tf.float32)
    h_fc1_drop = tf.nn.dropout(h_fc1, keep_prob)
    y_conv = tf.matmul(h_fc1_drop, weight_variable([1024, 10])) + bias_variable([10])
    return y_conv, keep_prob


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv, steps=1500, batch_size=50, description=__doc__)
    tf.reset_default_graph()
    seed_everything(tf, args.seed)
    mnist = input_data.read_data_sets(args.data_dir, seed=args.seed)

    x = tf.placeholder(tf.float32, [None, 784])
    y_ = tf.placeholder(tf.int64, [None])
    y_conv, keep_prob = deepnn(x)
    cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels=y_, logits=y_conv)
    train_step = tf.train.AdamOptimizer(1e-3).minimize(cross_entropy)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(y_conv, 1), y_), tf.float32))

    progress = Progress(args.steps, args.log_every)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, args.steps + 1):
            batch_xs, batch_ys = mnist.train.next_batch(args.batch_size)
            loss, _ = sess.run([cross_entropy, train_step], {x: batch_xs, y_: batch_ys, keep_prob: 0.5})
            progress(step, loss)
        test_accuracy = evaluate(sess, accuracy, x, y_, mnist.test, extra_feed={keep_prob: 1.0})
    print(f"test accuracy: {test_accuracy:.4f}")
    return test_accuracy


if __name__ == "__main__":
    main()
