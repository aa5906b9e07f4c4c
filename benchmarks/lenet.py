"""LeNet-style CNN training step: milliseconds per step and peak memory, against TensorFlow.

Three 3x3 SAME conv + ReLU + 2x2 max-pool layers (1 -> 32 -> 64 -> 128 channels),
dropout, dense 2048 -> 512 -> 10, softmax cross-entropy, RMSProp(0.001, 0.9), on
batches of 128 28x28x1 images fed through placeholders. Each framework runs in
fresh processes, alternately, `--rounds` times; a round's figure is the median
of STEPS timed steps after WARMUP steps, and the median round is reported (the
machine's drift then affects both alike). Peak memory is the process's
ru_maxrss. The first line names the OpenBLAS kernels NumPy uses: an
OPENBLAS_CORETYPE older than the CPU (Haswell on an AVX-512 machine) halves
the speed of every matrix product, TensorFlow's oneDNN kernels are not
affected.

    python benchmarks/lenet.py                       # caudal only
    python benchmarks/lenet.py --tf /path/to/python  # and TensorFlow, same model
    python benchmarks/lenet.py --backend jax         # caudal on jax against the step by hand in JAX
    python benchmarks/lenet.py --profile             # caudal's step: milliseconds per op type

With `--tf`, the same model source (MODEL below) runs in TensorFlow's
`tf.compat.v1` in a subprocess of that interpreter: caudal never imports
TensorFlow. Target (this project): caudal's step time and peak memory at
most TensorFlow 2.21's on the same machine.
"""
from __future__ import annotations

import os
import sys

import _fresh_rounds

BATCH = 128
WARMUP = 3
STEPS = 15

# The model, written once for both frameworks. `tf` is caudal or tensorflow.compat.v1;
# `dropout(x, rate)` and `xent(labels, logits)` are each framework's tf.nn.dropout and
# softmax_cross_entropy_with_logits_v2.
MODEL = r'''
def build(tf, dropout, xent):
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 28, 28, 1], name="x")
    labels = tf.placeholder(tf.float32, [None, 10], name="labels")
    h = x
    channels = [1, 32, 64, 128]
    for i in range(3):
        w = tf.Variable(tf.truncated_normal([3, 3, channels[i], channels[i + 1]], stddev=0.1), name=f"conv{i}_w")
        b = tf.Variable(tf.constant(0.1, shape=[channels[i + 1]]), name=f"conv{i}_b")
        h = tf.nn.relu(tf.nn.conv2d(h, w, strides=[1, 1, 1, 1], padding="SAME") + b)
        h = tf.nn.max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    h = tf.reshape(h, [-1, 4 * 4 * 128])
    h = dropout(h, 0.25)
    w1 = tf.Variable(tf.truncated_normal([2048, 512], stddev=0.02), name="fc1_w")
    b1 = tf.Variable(tf.constant(0.1, shape=[512]), name="fc1_b")
    h = dropout(tf.nn.relu(tf.matmul(h, w1) + b1), 0.5)
    w2 = tf.Variable(tf.truncated_normal([512, 10], stddev=0.05), name="fc2_w")
    b2 = tf.Variable(tf.constant(0.1, shape=[10]), name="fc2_b")
    logits = tf.matmul(h, w2) + b2
    loss = tf.reduce_mean(xent(labels, logits))
    train = tf.train.RMSPropOptimizer(0.001, 0.9).minimize(loss)
    return x, labels, loss, train


def run(tf, dropout, xent, batch, warmup, steps):
    import resource
    import time

    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.random((batch, 28, 28, 1), dtype=np.float32)
    onehot = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]
    with tf.Graph().as_default():
        x, labels, loss, train = build(tf, dropout, xent)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            feed = {x: images, labels: onehot}
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
tf.disable_v2_behavior()

def dropout(x, rate):
    return tf.nn.dropout(x, rate=rate)

def xent(labels, logits):
    return tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
''' + MODEL + r'''
result = run(tf, dropout, xent, *map(int, sys.argv[1:4]))
result["version"] = tf.__version__
print(json.dumps(result))
'''


def caudal_dropout(x, rate):
    import caudal as tf

    return tf.nn.dropout(x, rate=rate)


def caudal_xent(labels, logits):
    import caudal as tf

    return tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)


def run_caudal() -> dict:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import caudal as tf

    namespace: dict = {}
    exec(MODEL, namespace)
    return namespace["run"](tf, caudal_dropout, caudal_xent, BATCH, WARMUP, STEPS)


def profile_ops(steps: int = 20) -> None:
    """`--profile`: caudal's step, milliseconds per op type (see _op_profile.py)."""
    import time

    import _op_profile
    import numpy as np

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import caudal as tf

    _op_profile.install()
    namespace: dict = {}
    exec(MODEL, namespace)
    rng = np.random.default_rng(0)
    images = rng.random((BATCH, 28, 28, 1), dtype=np.float32)
    onehot = np.eye(10, dtype=np.float32)[rng.integers(0, 10, BATCH)]
    with tf.Graph().as_default():
        x, labels, loss, train = namespace["build"](tf, caudal_dropout, caudal_xent)
        with tf.Session() as sess:
            print(f"backend: {sess._backend.name}")
            sess.run(tf.global_variables_initializer())
            feed = {x: images, labels: onehot}
            for _ in range(WARMUP):
                sess.run(train, feed)
            _op_profile.start()
            times = []
            for _ in range(steps):
                start = time.perf_counter()
                sess.run(train, feed)
                times.append(time.perf_counter() - start)
    print(_op_profile.report(steps, 1000 * sum(times) / steps))


def main() -> None:
    if "--profile" in sys.argv:
        profile_ops()
        return
    if "--jax-child" in sys.argv or "--backend" in sys.argv:
        # caudal on the jax backend against the same step written with jax.jit (benchmarks/_jax_lenet.py)
        import argparse

        import _jax_lenet

        parser = argparse.ArgumentParser(description=_jax_lenet.__doc__.splitlines()[0])
        parser.add_argument("--backend", choices=["numpy", "jax"], default="numpy")
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--jax-child", choices=["caudal-jax", "jax"], help=argparse.SUPPRESS)
        args = parser.parse_args()
        if args.jax_child:
            sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
            _jax_lenet.child(args.jax_child, MODEL, BATCH, WARMUP, STEPS)
            return
        if args.backend == "jax":
            _jax_lenet.compare(__file__, args.rounds)
            return
        sys.argv = [a for a in sys.argv if a not in ("--backend", "numpy")]
    mine = _fresh_rounds.main(__file__, __doc__.splitlines()[0], run_caudal, TF_SCRIPT,
                              [str(BATCH), str(WARMUP), str(STEPS)])
    if mine is not None:
        flops = step_flops()
        peak, source = sgemm_peak_gflops()
        reached = flops / (mine["ms_per_step"] / 1000) / 1e9
        print(f"LeNet step: {flops / 1e9:.2f} GFLOP; caudal reaches {reached:.0f} GFLOP/s, "
              f"{reached / peak:.0%} of the machine's measured peak ({peak:.0f} GFLOP/s: a 4096^3 float32 "
              f"product in {source}, all cores)")


def step_flops() -> float:
    """Multiply-adds x 2 of the step's convolutions and products: forward, filter gradients, and the
    input gradients of every layer but the first."""
    total = 0.0
    size, channels = 28, [1, 32, 64, 128]
    for i in range(3):
        forward = 2.0 * BATCH * size * size * 9 * channels[i] * channels[i + 1]
        total += forward * (2 if i == 0 else 3)
        size = (size + 1) // 2
    for fan_in, fan_out in ((2048, 512), (512, 10)):
        total += 3 * 2.0 * BATCH * fan_in * fan_out
    return total


def sgemm_peak_gflops(n: int = 4096, repeats: int = 3) -> tuple[float, str]:
    """The best of `repeats` n^3 float32 products, in GFLOP/s, on the faster of NumPy's BLAS and
    oneDNN's sgemm (where the fast extra is installed: the kernels the step's products and
    convolutions run on), and which one that was."""
    import time

    import numpy as np

    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    products = {"NumPy's BLAS": lambda: a @ a}
    try:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
        from caudal.backends.fast_cpu import onednn_lib

        lib = onednn_lib.load()
        onednn_lib.set_num_threads(0)
        out = np.empty_like(a)
        products["oneDNN's sgemm"] = lambda: lib.dll.dnnl_sgemm(b"N", b"N", n, n, n, 1.0, a.ctypes.data, n,
                                                                 a.ctypes.data, n, 0.0, out.ctypes.data, n)
    except (ImportError, OSError):
        pass
    best: dict[str, float] = {}
    for name, product in products.items():
        seconds = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            product()
            seconds = min(seconds, time.perf_counter() - start)
        best[name] = 2.0 * n ** 3 / seconds / 1e9
    source = max(best, key=best.get)
    return best[source], source


if __name__ == "__main__":
    main()
