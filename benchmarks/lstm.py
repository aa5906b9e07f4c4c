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

import argparse
import json
import os
import subprocess
import sys

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


def run_caudal_process() -> dict:
    """caudal's figures from a fresh process, as TensorFlow's are (peak memory is per process)."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child"], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_tensorflow(python: str) -> dict:
    out = subprocess.run([python, "-c", TF_SCRIPT, str(BATCH), str(WARMUP), str(STEPS)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(results: list[dict]) -> dict:
    """The median round's step time, the fastest step seen, the largest peak memory."""
    times = sorted(r["ms_per_step"] for r in results)
    return {"ms_per_step": times[len(times) // 2], "min_ms": min(r["min_ms"] for r in results),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results), "loss": results[0]["loss"],
            "version": results[0].get("version", "")}


def _rounds(results: list[dict]) -> str:
    return ", ".join(f"{r['ms_per_step']:.1f}" for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tf", metavar="PYTHON", help="a Python interpreter with TensorFlow, to compare with")
    parser.add_argument("--rounds", type=int, default=3,
                        help="fresh processes per framework, run alternately (default 3)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of caudal's timed steps")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_caudal()))
        return
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        run_caudal()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    print(f"OpenBLAS kernels: OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset: detected)')}")
    mine_rounds, ref_rounds = [], []
    for _ in range(max(args.rounds, 1)):
        mine_rounds.append(run_caudal_process())
        if args.tf:
            ref_rounds.append(run_tensorflow(args.tf))
    mine = _summary(mine_rounds)
    print(f"caudal:     {mine['ms_per_step']:7.1f} ms/step (min {mine['min_ms']:.1f})  "
          f"peak RSS {mine['peak_rss_mb']:6.0f} MB  loss {mine['loss']:.4f}  "
          f"rounds {_rounds(mine_rounds)}")
    if args.tf:
        ref = _summary(ref_rounds)
        print(f"TF {ref['version']}: {ref['ms_per_step']:7.1f} ms/step (min {ref['min_ms']:.1f})  "
              f"peak RSS {ref['peak_rss_mb']:6.0f} MB  loss {ref['loss']:.4f}  "
              f"rounds {_rounds(ref_rounds)}")
        print(f"ratio caudal/TF: time {mine['ms_per_step'] / ref['ms_per_step']:.2f}  "
              f"memory {mine['peak_rss_mb'] / ref['peak_rss_mb']:.2f}")


if __name__ == "__main__":
    main()
