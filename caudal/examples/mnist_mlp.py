"""MNIST with five ReLU layers (200-100-60-30-10), dropout and Adam, as in the
"TensorFlow without a PhD" tutorial.

    python -m caudal.examples.mnist_mlp [--data_dir DIR] [--steps N]
"""
from __future__ import annotations

import caudal as tf
from caudal.examples._mnist_common import Progress, evaluate, parse_args, seed_everything
from caudal.examples.tutorials.mnist import input_data

LAYERS = [200, 100, 60, 30]


def build(x: tf.Tensor, keep_prob: tf.Tensor) -> tf.Tensor:
    """Logits of the 784-200-100-60-30-10 network; dropout after each hidden layer."""
    fan_in = 784
    hidden = x
    for width in LAYERS:
        W = tf.Variable(tf.truncated_normal([fan_in, width], stddev=0.1))
        b = tf.Variable(tf.ones([width]) / 10)
        hidden = tf.nn.dropout(tf.nn.relu(tf.matmul(hidden, W) + b), keep_prob)
        fan_in = width
    W = tf.Variable(tf.truncated_normal([fan_in, 10], stddev=0.1))
    b = tf.Variable(tf.zeros([10]))
    return tf.matmul(hidden, W) + b


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv, steps=3000, batch_size=100, description=__doc__)
    tf.reset_default_graph()
    seed_everything(tf, args.seed)
    mnist = input_data.read_data_sets(args.data_dir, one_hot=True, seed=args.seed)

    x = tf.placeholder(tf.float32, [None, 784])
    y_ = tf.placeholder(tf.float32, [None, 10])
    keep_prob = tf.placeholder(tf.float32)
    step_ph = tf.placeholder(tf.int32)
    logits = build(x, keep_prob)
    cross_entropy = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=logits))
    # A learning rate decaying from 0.003 towards 0.0001, as in the tutorial.
    learning_rate = 0.0001 + tf.train.exponential_decay(0.003, step_ph, 2000, 1 / 2.718281828)
    train_step = tf.train.AdamOptimizer(learning_rate).minimize(cross_entropy)
    correct = tf.equal(tf.argmax(logits, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))

    progress = Progress(args.steps, args.log_every)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, args.steps + 1):
            batch_xs, batch_ys = mnist.train.next_batch(args.batch_size)
            loss, _ = sess.run([cross_entropy, train_step],
                               {x: batch_xs, y_: batch_ys, keep_prob: 0.75, step_ph: step})
            progress(step, loss)
        test_accuracy = evaluate(sess, accuracy, x, y_, mnist.test, extra_feed={keep_prob: 1.0})
    print(f"test accuracy: {test_accuracy:.4f}")
    return test_accuracy


if __name__ == "__main__":
    main()
