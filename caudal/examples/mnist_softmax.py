"""MNIST softmax regression, the TF1 beginners' tutorial: GradientDescent(0.5), 1000 steps of 100.

    python -m caudal.examples.mnist_softmax [--data_dir DIR] [--steps N]
"""
from __future__ import annotations

import caudal as tf
from caudal.examples._mnist_common import Progress, evaluate, parse_args, seed_everything
from caudal.examples.tutorials.mnist import input_data


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv, steps=1000, batch_size=100, description=__doc__)
    tf.reset_default_graph()
    seed_everything(tf, args.seed)
    mnist = input_data.read_data_sets(args.data_dir, seed=args.seed)

    x = tf.placeholder(tf.float32, [None, 784])
    W = tf.Variable(tf.zeros([784, 10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.matmul(x, W) + b
    y_ = tf.placeholder(tf.int64, [None])
    cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels=y_, logits=y)
    train_step = tf.train.GradientDescentOptimizer(0.5).minimize(cross_entropy)
    correct_prediction = tf.equal(tf.argmax(y, 1), y_)
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    progress = Progress(args.steps, args.log_every)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, args.steps + 1):
            batch_xs, batch_ys = mnist.train.next_batch(args.batch_size)
            loss, _ = sess.run([cross_entropy, train_step], {x: batch_xs, y_: batch_ys})
            progress(step, loss)
        test_accuracy = evaluate(sess, accuracy, x, y_, mnist.test)
    print(f"test accuracy: {test_accuracy:.4f}")
    return test_accuracy


if __name__ == "__main__":
    main()
