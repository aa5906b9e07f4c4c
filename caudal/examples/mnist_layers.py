"""The "Deep MNIST" network written with tf.layers (the TF1 layers tutorial): conv2d, max_pooling2d,
dense, dropout with a `training` tensor, Adam.

    python -m caudal.examples.mnist_layers [--data_dir DIR] [--steps N]
"""
from __future__ import annotations

import caudal as tf
from caudal.examples._mnist_common import Progress, evaluate, parse_args, seed_everything
from caudal.examples.tutorials.mnist import input_data


def cnn_model(x: tf.Tensor, training: tf.Tensor) -> tf.Tensor:
    input_layer = tf.reshape(x, [-1, 28, 28, 1])
    conv1 = tf.layers.conv2d(input_layer, filters=32, kernel_size=[5, 5], padding="same", activation=tf.nn.relu)
    pool1 = tf.layers.max_pooling2d(conv1, pool_size=[2, 2], strides=2)
    conv2 = tf.layers.conv2d(pool1, filters=64, kernel_size=[5, 5], padding="same", activation=tf.nn.relu)
    pool2 = tf.layers.max_pooling2d(conv2, pool_size=[2, 2], strides=2)
    pool2_flat = tf.layers.flatten(pool2)
    dense = tf.layers.dense(pool2_flat, units=1024, activation=tf.nn.relu)
    dropout = tf.layers.dropout(dense, rate=0.4, training=training)
    return tf.layers.dense(dropout, units=10)


def main(argv: list[str] | None = None) -> float:
    args = parse_args(argv, steps=1500, batch_size=50, description=__doc__)
    tf.reset_default_graph()
    seed_everything(tf, args.seed)
    mnist = input_data.read_data_sets(args.data_dir, seed=args.seed)

    x = tf.placeholder(tf.float32, [None, 784])
    y_ = tf.placeholder(tf.int64, [None])
    training = tf.placeholder_with_default(False, shape=[])
    logits = cnn_model(x, training)
    loss = tf.losses.sparse_softmax_cross_entropy(labels=y_, logits=logits)
    train_op = tf.train.AdamOptimizer(1e-3).minimize(loss, global_step=tf.train.get_or_create_global_step())
    accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), y_), tf.float32))

    progress = Progress(args.steps, args.log_every)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(1, args.steps + 1):
            batch_xs, batch_ys = mnist.train.next_batch(args.batch_size)
            value, _ = sess.run([loss, train_op], {x: batch_xs, y_: batch_ys, training: True})
            progress(step, value)
        test_accuracy = evaluate(sess, accuracy, x, y_, mnist.test)
    print(f"test accuracy: {test_accuracy:.4f}")
    return test_accuracy


if __name__ == "__main__":
    main()
