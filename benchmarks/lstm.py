"""The mnist_lstm training step: milliseconds per step and peak memory, against TensorFlow.

A 128-unit BasicLSTMCell reads batches of 128 28x28 images row by row (28 time steps of 28
inputs) through tf.nn.dynamic_rnn; a dense layer on the last output gives 10 logits; sparse
softmax cross-entropy; Adam(0.001). Each framework runs in fresh processes, alternately,
`--rounds` times; a round's figure is the median of STEPS timed steps after WARMUP steps, and
the median round is reported. Peak memory is the process's ru_maxrss.

    python benchmarks/lstm.py                       # caudal only
    python benchmarks/lstm.py --tf /path/to/python  # and TensorFlow, same model
    python benchmarks/lstm.py --profile             # cProfile of caudal's timed steps

With `--tf`, the same model source (MODEL below) runs in TensorFlow's `tf.compat.v1` in a
subprocess of that interpreter (TF1's cell from tensorflow.python.ops.rnn_cell_impl, since TF
2.21 routes tf.compat.v1.nn.rnn_cell to Keras 3): caudal never imports TensorFlow. Target
(issue 8): caudal's step time at most TensorFlow 2.21's, and its peak memory at most TF's.
"""
from __future__ import annotations

import os
import sys

import _fresh_rounds

BATCH = 128
WARMUP = 3
STEPS = 20

# The model, written once for both frameworks. `tf` is caudal or tensorflow.compat.v1, `cells`
# holds the TF1 RNN cells and `rnn` the drivers (caudal: tf.nn.rnn_cell and tf.nn).
MODEL = r'''
def build(tf, cells, rnn):
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 28, 28], name="x")
    labels = tf.placeholder(tf.int64, [None], name="labels")
    cell = cells.BasicLSTMCell(128, forget_bias=1.0)
    outputs, state = rnn.dynamic_rnn(cell, x, dtype=tf.float32)
    w = tf.get_variable("softmax_w", [128, 10])
    b = tf.get_variable("softmax_b", [10], initializer=tf.zeros_initializer())
    logits = tf.matmul(state.h, w) + b
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    train = tf.train.AdamOptimizer(0.001).minimize(loss)
    return x, labels, loss, train


def run(tf, cells, rnn, batch, warmup, steps):
    import resource
    import time

    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.random((batch, 28, 28), dtype=np.float32)
    classes = rng.integers(0, 10, batch).astype(np.int64)
    with tf.Graph().as_default():
        x, labels, loss, train = build(tf, cells, rnn)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            feed = {x: images, labels: classes}
            for _ in range(warmup):
                sess.run(train, feed)
            times = []
            for _ in range(steps):
                start = time.perf_counter()
                sess.run(train, feed)
                times.append(time.perf_counter() - start)
            final_loss = float(sess.run(loss, feed))
    return {"ms_per_step": 1000 * float(np.median(times)), "min_ms": 1000 * min(times),
            "loss": final_loss, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
'''

TF_SCRIPT = r'''
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow.compat.v1 as tf
from tensorflow.python.ops import rnn, rnn_cell_impl
tf.disable_v2_behavior()
tf.get_logger().setLevel("ERROR")
''' + MODEL + r'''
result = run(tf, rnn_cell_impl, rnn, *map(int, sys.argv[1:4]))
result["version"] = tf.__version__
print(json.dumps(result))
'''


def run_caudal() -> dict:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import caudal as tf

    namespace: dict = {}
    exec(MODEL, namespace)
    return namespace["run"](tf, tf.nn.rnn_cell, tf.nn, BATCH, WARMUP, STEPS)


def main() -> None:
    _fresh_rounds.main(__file__, __doc__.splitlines()[0], run_caudal, TF_SCRIPT, [str(BATCH), str(WARMUP), str(STEPS)])


if __name__ == "__main__":
    main()
