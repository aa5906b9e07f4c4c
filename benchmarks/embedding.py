"""The word2vec tutorial's training step (an embedding table and NCE loss): milliseconds per step and peak
memory, against TensorFlow.

A 50,000 x 128 embedding table looked up by a batch of 128 word ids (`tf.nn.embedding_lookup`), NCE
loss with 64 sampled classes (`tf.nn.nce_loss`, which looks up its weights and biases too), and
`--optimizer` (`sgd`: GradientDescent(1.0) as in TF1's word2vec_basic.py; `momentum`:
Momentum(0.1, 0.9)). Every lookup's gradient is an IndexedSlices, so a step updates the 128 looked-up
rows and the sampled and true classes' rows, not the three 50,000-row tables. Each framework runs in
fresh processes, alternately, `--rounds` times; a round's figure is the median of STEPS timed steps
after WARMUP steps (3,000: the steady state of a training run, after fast_cpu has loaded numba's
loops), and the median round is reported. Peak memory is the process's ru_maxrss.

    python benchmarks/embedding.py                       # caudal only
    python benchmarks/embedding.py --tf /path/to/python  # and TensorFlow, same model
    python benchmarks/embedding.py --optimizer momentum  # Momentum(0.1, 0.9) instead of SGD

With `--tf`, the same model source (MODEL below) runs in TensorFlow's `tf.compat.v1` in a subprocess
of that interpreter: caudal never imports TensorFlow. Target: caudal's step time and peak memory at
most TensorFlow 2.21's.
"""
from __future__ import annotations

import os
import sys

import _fresh_rounds

BATCH = 128
WARMUP = 3000  # the steady state: by then fast_cpu has loaded numba's loops (rent or buy, loops.LOAD_SECONDS)
STEPS = 200
VOCABULARY = 50_000

# The model, written once for both frameworks (`tf` is caudal or tensorflow.compat.v1).
MODEL = r'''
def build(tf, vocabulary, optimizer):
    import math

    tf.set_random_seed(0)
    inputs = tf.placeholder(tf.int32, [None], name="inputs")
    labels = tf.placeholder(tf.int32, [None, 1], name="labels")
    embeddings = tf.Variable(tf.random_uniform([vocabulary, 128], -1.0, 1.0), name="embeddings")
    embed = tf.nn.embedding_lookup(embeddings, inputs)
    nce_weights = tf.Variable(tf.truncated_normal([vocabulary, 128], stddev=1.0 / math.sqrt(128)))
    nce_biases = tf.Variable(tf.zeros([vocabulary]))
    loss = tf.reduce_mean(tf.nn.nce_loss(weights=nce_weights, biases=nce_biases, labels=labels, inputs=embed,
                                         num_sampled=64, num_classes=vocabulary))
    opt = tf.train.GradientDescentOptimizer(1.0) if optimizer == "sgd" else tf.train.MomentumOptimizer(0.1, 0.9)
    return inputs, labels, loss, opt.minimize(loss)


def run(tf, batch, warmup, steps, vocabulary, optimizer):
    import resource
    import time

    import numpy as np

    rng = np.random.default_rng(0)
    # Zipf-like ids, as words are: a few frequent rows, a long tail.
    ids = np.minimum(rng.zipf(1.3, (warmup + steps + 1, batch, 2)), vocabulary) - 1
    with tf.Graph().as_default():
        inputs, labels, loss, train = build(tf, vocabulary, optimizer)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            feeds = [{inputs: ids[i, :, 0].astype(np.int32), labels: ids[i, :, 1:].astype(np.int32)}
                     for i in range(warmup + steps + 1)]
            for i in range(warmup):
                sess.run(train, feeds[i])
            times = []
            for i in range(warmup, warmup + steps):
                start = time.perf_counter()
                sess.run(train, feeds[i])
                times.append(time.perf_counter() - start)
            final_loss = float(sess.run(loss, feeds[-1]))
    return {"ms_per_step": 1000 * float(np.median(times)), "min_ms": 1000 * min(times),
            "loss": final_loss, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
'''

TF_SCRIPT = r'''
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
tf.get_logger().setLevel("ERROR")
''' + MODEL + r'''
batch, warmup, steps, vocabulary = map(int, sys.argv[1:5])
result = run(tf, batch, warmup, steps, vocabulary, sys.argv[5])
result["version"] = tf.__version__
print(json.dumps(result))
'''


OPTIMIZER = ["sgd"]  # set from --optimizer by main()


def run_caudal() -> dict:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import caudal as tf

    namespace: dict = {}
    exec(MODEL, namespace)
    return namespace["run"](tf, BATCH, WARMUP, STEPS, VOCABULARY, OPTIMIZER[0])


def main() -> None:
    if "--optimizer" in sys.argv:
        at = sys.argv.index("--optimizer")
        OPTIMIZER[0] = sys.argv[at + 1] if at + 1 < len(sys.argv) else ""
        del sys.argv[at:at + 2]
    if OPTIMIZER[0] not in ("sgd", "momentum"):
        raise SystemExit(f"--optimizer must be sgd or momentum, got {OPTIMIZER[0]!r}")
    _fresh_rounds.main(__file__, __doc__.splitlines()[0], run_caudal, TF_SCRIPT,
                       [str(BATCH), str(WARMUP), str(STEPS), str(VOCABULARY), OPTIMIZER[0]],
                       ("--optimizer", OPTIMIZER[0]))


if __name__ == "__main__":
    main()
