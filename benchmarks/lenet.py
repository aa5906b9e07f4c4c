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
    python benchmarks/lenet.py --tf PYTHON --alternate [--busy]  # alternating blocks, see below

With `--alternate`, each framework runs in one process that stays up, and blocks of 20 timed
steps alternate between them (15 each), each after 0.45 s of untimed steps (`compare_alternating`):
the drift of the machine between fresh processes, which moved TensorFlow's rounds 22-32 ms, then
affects both alike; printed, the ratio of the medians and the median and quartiles of the paired
blocks' ratios.

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
# --alternate: blocks per framework, timed steps per block, seconds of untimed steps before each.
ALTERNATE_BLOCKS = 15
BLOCK_STEPS = 20
WARM_S = 0.45

# The model, written once for both frameworks. `tf` is caudal or tensorflow.compat.v1;
# `dropout(x, rate)` and `xent(labels, logits)` are each framework's tf.nn.dropout and
# softmax_cross_entropy_with_logits_v2.
MODEL = r'''
import contextlib


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


@contextlib.contextmanager
def training(tf, dropout, xent, batch):
    """(step, loss): functions running one training step and computing the loss, on one batch of
    `batch` random images, in a new graph and session with the variables initialized."""
    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.random((batch, 28, 28, 1), dtype=np.float32)
    onehot = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]
    with tf.Graph().as_default():
        x, labels, loss, train = build(tf, dropout, xent)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            feed = {x: images, labels: onehot}
            yield (lambda: sess.run(train, feed)), (lambda: float(sess.run(loss, feed)))


def timed(step, steps):
    """Seconds of each of `steps` calls of `step`."""
    import time

    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times


def serve(tf, dropout, xent, batch, warm_s, steps):
    """For each line read from stdin, a block: untimed steps for `warm_s` seconds (three at least),
    then `steps` timed ones; prints the block's median milliseconds, and at the end the peak memory."""
    import json
    import resource
    import sys
    import time

    import numpy as np

    with training(tf, dropout, xent, batch) as (step, loss):
        for _ in range(3):
            step()
        print("ready", flush=True)
        for _ in sys.stdin:
            start, count = time.perf_counter(), 0
            while count < 3 or time.perf_counter() - start < warm_s:
                step()
                count += 1
            print(json.dumps({"ms": 1000 * float(np.median(timed(step, steps)))}), flush=True)
        final_loss = loss()
    print(json.dumps({"loss": final_loss, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def run(tf, dropout, xent, batch, warmup, steps):
    import resource

    import numpy as np

    with training(tf, dropout, xent, batch) as (step, loss):
        for _ in range(warmup):
            step()
        times = timed(step, steps)
        final_loss = loss()
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
if sys.argv[1] == "serve":
    serve(tf, dropout, xent, int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]))
else:
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


def serve_caudal() -> None:
    """`--serve`: caudal's side of `--alternate` (MODEL's `serve`)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import caudal as tf

    namespace: dict = {}
    exec(MODEL, namespace)
    namespace["serve"](tf, caudal_dropout, caudal_xent, BATCH, WARM_S, BLOCK_STEPS)


def compare_alternating(tf_python: str, blocks: int, busy: bool) -> None:
    """`--tf PYTHON --alternate`: caudal and TensorFlow each in one process that stays up, started one
    after the other (caudal's implementation timing runs alone), then blocks of `BLOCK_STEPS` timed steps
    alternating between them (each pair in turn first; the other process waits on a pipe meanwhile),
    each after `WARM_S` seconds of untimed steps: the first steps after the other process ran find its
    data in the caches, and caudal's thread policy sees its block as a competing process for 0.2-0.4 s.
    With `busy`, the blocks run again beside one competing CPU-bound process."""
    import contextlib
    import json
    import statistics
    import subprocess

    commands = {"caudal": [sys.executable, os.path.abspath(__file__), "--serve"],
                "TF": [tf_python, "-c", TF_SCRIPT, "serve", str(BATCH), str(WARM_S), str(BLOCK_STEPS)]}
    children = {}
    try:
        for name, command in commands.items():
            children[name] = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            while children[name].stdout.readline().strip() != "ready":
                if children[name].poll() is not None:
                    raise RuntimeError(f"the {name} process ended before its first block")

        def block(name: str) -> float:
            children[name].stdin.write("go\n")
            children[name].stdin.flush()
            return json.loads(children[name].stdout.readline())["ms"]

        print(f"CPU: {_fresh_rounds.cpu_model()}; blocks of {BLOCK_STEPS} steps after {WARM_S} s untimed")
        for condition in ("idle machine", "one competing CPU-bound process")[:2 if busy else 1]:
            with _fresh_rounds.competing_process() if condition != "idle machine" else contextlib.nullcontext():
                times: dict[str, list[float]] = {"caudal": [], "TF": []}
                for i in range(blocks):
                    for name in ("caudal", "TF") if i % 2 == 0 else ("TF", "caudal"):
                        times[name].append(block(name))
            ratios = [c / t for c, t in zip(times["caudal"], times["TF"], strict=True)]
            quartiles = statistics.quantiles(ratios, n=4)
            mine, theirs = statistics.median(times["caudal"]), statistics.median(times["TF"])
            print(f"-- {condition}: caudal {mine:.1f} ms/step, TF {theirs:.1f} ms/step (medians of {blocks} blocks)")
            print(f"ratio caudal/TF: {mine / theirs:.2f} of the medians; {statistics.median(ratios):.2f} median of "
                  f"the paired blocks (quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f})")
        finals = {}
        for name, child in children.items():
            child.stdin.close()
            finals[name] = json.loads(child.stdout.read().strip().splitlines()[-1])
        print(f"peak RSS: caudal {finals['caudal']['peak_rss_mb']:.0f} MB, TF {finals['TF']['peak_rss_mb']:.0f} MB "
              f"(ratio {finals['caudal']['peak_rss_mb'] / finals['TF']['peak_rss_mb']:.2f}); loss caudal "
              f"{finals['caudal']['loss']:.4f}, TF {finals['TF']['loss']:.4f}")
    finally:
        for child in children.values():
            if child.poll() is None:
                child.kill()
            child.wait()


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
    if "--serve" in sys.argv:
        serve_caudal()
        return
    if "--alternate" in sys.argv:
        import argparse

        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        parser.add_argument("--tf", metavar="PYTHON", required=True)
        parser.add_argument("--alternate", action="store_true")
        parser.add_argument("--blocks", type=int, default=ALTERNATE_BLOCKS)
        parser.add_argument("--busy", action="store_true")
        args = parser.parse_args()
        compare_alternating(args.tf, args.blocks, args.busy)
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
