"""MNIST read by an LSTM, the classic TF1 recurrent-network tutorial: each 28x28 image is a
sequence of 28 rows of 28 pixels, read by a 128-unit BasicLSTMCell through tf.nn.dynamic_rnn;
a dense layer maps the last output to the 10 classes; Adam.

    python -m caudal.examples.mnist_lstm [--data_dir DIR] [--steps N]
"""
from __future__ import annotations

import caudal as tf
from caudal.examples._mnist_common import Progress, evaluate, parse_args, seed_everything
from caudal.examples.tutorials.mnist import input_data

TIME_STEPS = 28  # rows
ROW_SIZE = 28  # pixels per row
NUM_UNITS = 128
NUM_CLASSES = 10


def lstm_model(x: tf.Tensor) -> tf.Tensor:
    """Logits of the tutorial's network for a batch of flattened images `x` [batch, 784]."""
    rows = tf.reshape(x, [-1, TIME_STEPS, ROW_SIZE])
    cell = tf.nn.rnn_cell.BasicLSTMCell(NUM_UNITS, forget_bias=1.0)
    outputs, state = tf.nn.dynamic_rnn(cell, rows, dtype=tf.float32)
    return tf.layers.dense(state.h, NUM_CLASSES)


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv, steps=1200, batch_size=128, description=__doc__)
    tf.reset_default_graph()
    seed_everything(tf, args.seed)
    mnist = input_data.read_data_sets(args.data_dir, seed=args.seed)

    x = tf.placeholder(tf.float32, [None, TIME_STEPS * ROW_SIZE])
    y_ = tf.placeholder(tf.int64, [None])
    logits = lstm_model(x)
    loss = tf.losses.sparse_softmax_cross_entropy(labels=y_, logits=logits)
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss)
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y_), tf.float32))

    progress = Progress(args.steps, args.log_every)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, args.steps + 1):
            batch_xs, batch_ys = mnist.train.next_batch(args.batch_size)
            value, _ = sess.run([loss, train_op], {x: batch_xs, y_: batch_ys})
            progress(step, value)
        test_accuracy = evaluate(sess, accuracy, x, y_, mnist.test, batch_size=500)
    print(f"test accuracy: {test_accuracy:.4f}")
    return test_accuracy


if __name__ == "__main__":
    main()
