"""Between-graph training on one machine, caudal against TensorFlow 2.21 with the same cluster.

(a) Steps per second of the MNIST MLP (784-256-10, ReLU, softmax cross-entropy, GradientDescent(0.1),
    batch 100, float32) trained by 1 ps + 2 workers through `grpc://`: the variables on the ps task
    (replica_device_setter), each worker a `tf.Session(server.target)` of its own server running
    asynchronous steps on MNIST batches (the bundled sample). Both workers time STEPS steps after
    WARMUP; the cluster's rate is the sum of theirs. Target (issue 13): caudal >= TensorFlow.
(b) The per-`Session.run` overhead of a remote step on a tiny graph: worker 0 runs `v.assign_add(1.0)`
    with `v` on the ps (one RunGraph on the ps, nothing else), RUNS times after warm-up; microseconds per
    run. Target: caudal <= 1.0x TensorFlow.

Every task is a fresh process (caudal's in this interpreter, TensorFlow's in the `--tf` one) on
127.0.0.1 ports chosen free; the frameworks alternate for `--rounds` rounds and the median round of
each is printed, with the ratios.

    python benchmarks/distributed.py                       # caudal only
    python benchmarks/distributed.py --tf /path/to/python  # and TensorFlow
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

STEPS = 200
WARMUP = 20
RUNS = 500
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TASK = r'''
import json, os, sys, time
import numpy as np
framework, data_path = sys.argv[1], sys.argv[2]
steps, warmup, runs = (int(a) for a in sys.argv[3:6])
if framework == "tf":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
else:
    import caudal as tf
config = json.loads(os.environ["TF_CONFIG"])
cluster = tf.train.ClusterSpec(config["cluster"])
job, index = config["task"]["type"], config["task"]["index"]
server = tf.train.Server(cluster, job_name=job, task_index=index)
if job == "ps":
    print("ready", flush=True)
    server.join()
data = np.load(data_path)
images, labels = data["images"], data["labels"]
with tf.device(tf.train.replica_device_setter(worker_device="/job:worker/task:%d" % index, cluster=cluster)):
    x = tf.placeholder(tf.float32, [None, 784])
    y = tf.placeholder(tf.int64, [None])
    w1 = tf.Variable(tf.truncated_normal([784, 256], stddev=0.05, seed=1), name="w1")
    b1 = tf.Variable(tf.zeros([256]), name="b1")
    w2 = tf.Variable(tf.truncated_normal([256, 10], stddev=0.05, seed=2), name="w2")
    b2 = tf.Variable(tf.zeros([10]), name="b2")
    logits = tf.matmul(tf.nn.relu(tf.matmul(x, w1) + b1), w2) + b2
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    with tf.device("/job:ps/task:0"):
        tiny = tf.Variable(0.0, name="tiny")
        bump = tiny.assign_add(1.0)
init = tf.global_variables_initializer()
ready = tf.report_uninitialized_variables()
sess = tf.Session(server.target)
if index == 0:
    sess.run(init)
while sess.run(ready).size:
    time.sleep(0.05)
batch = 100
def step(i):
    start = (i * batch) % (len(images) - batch)
    return sess.run([train, loss], {x: images[start:start + batch], y: labels[start:start + batch]})[1]
for i in range(warmup):
    step(i)
begin = time.perf_counter()
for i in range(steps):
    last = step(warmup + i)
elapsed = time.perf_counter() - begin
result = {"steps_per_sec": steps / elapsed, "loss": float(last), "version": getattr(tf, "__version__", "")}
if index == 0:
    for _ in range(50):
        sess.run(bump)
    begin = time.perf_counter()
    for _ in range(runs):
        sess.run(bump)
    result["us_per_run"] = (time.perf_counter() - begin) / runs * 1e6
print("result", json.dumps(result), flush=True)
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mnist(path: str) -> None:
    import numpy as np

    sys.path.insert(0, REPO)
    from caudal.examples.tutorials.mnist import input_data

    train = input_data.read_data_sets(None).train
    np.savez(path, images=np.asarray(train.images, np.float32).reshape(-1, 784),
             labels=np.asarray(train.labels, np.int64))


def _round(python: str, framework: str, data: str, steps: int, warmup: int, runs: int) -> dict:
    """One cluster of fresh processes: (a) the summed rate, (b) worker 0's overhead."""
    cluster = {"ps": [f"127.0.0.1:{_free_port()}"], "worker": [f"127.0.0.1:{_free_port()}" for _ in range(2)]}
    env = dict(os.environ, PYTHONPATH=REPO, PYTHONUNBUFFERED="1")
    processes = {}
    try:
        for job, index in (("ps", 0), ("worker", 0), ("worker", 1)):
            env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": job, "index": index}})
            processes[(job, index)] = subprocess.Popen(
                [python, "-c", TASK, framework, data, str(steps), str(warmup), str(runs)], env=dict(env),
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        results = []
        for index in (0, 1):
            out, _ = processes[("worker", index)].communicate(timeout=1800)
            lines = [line for line in out.splitlines() if line.startswith("result ")]
            if not lines:
                raise RuntimeError(f"{framework} worker {index} gave no result:\n{out}")
            results.append(json.loads(lines[-1][len("result "):]))
    finally:
        for process in processes.values():
            process.kill()
            process.wait()
    return {"steps_per_sec": sum(r["steps_per_sec"] for r in results), "us_per_run": results[0]["us_per_run"],
            "loss": results[0]["loss"], "version": results[0]["version"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tf", metavar="PYTHON", help="a Python interpreter with TensorFlow, to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="clusters per framework, run alternately (default 3)")
    parser.add_argument("--steps", type=int, default=STEPS, help=f"timed steps per worker (default {STEPS})")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timed tiny remote runs (default {RUNS})")
    args = parser.parse_args()
    contestants = {"caudal": sys.executable}
    if args.tf:
        contestants["tensorflow"] = args.tf
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "mnist.npz")
        _mnist(data)
        rounds: dict[str, list[dict]] = {name: [] for name in contestants}
        for r in range(args.rounds):
            for name in (list(contestants) if r % 2 == 0 else list(contestants)[::-1]):
                framework = "tf" if name == "tensorflow" else "caudal"
                rounds[name].append(_round(contestants[name], framework, data, args.steps, min(WARMUP, args.steps),
                                           args.runs))
                time.sleep(0.5)
    medians = {}
    for name, results in rounds.items():
        rate = statistics.median(r["steps_per_sec"] for r in results)
        overhead = statistics.median(r["us_per_run"] for r in results)
        medians[name] = (rate, overhead)
        version = f" {results[0]['version']}" if results[0]["version"] else ""
        rates = ", ".join(f"{r['steps_per_sec']:.1f}" for r in results)
        overheads = ", ".join(f"{r['us_per_run']:.0f}" for r in results)
        print(f"{name}{version}: (a) {rate:.1f} steps/s (rounds: {rates}), loss {results[0]['loss']:.3f}; "
              f"(b) {overhead:.0f} us per tiny remote run (rounds: {overheads})")
    if "tensorflow" in medians:
        (rate, overhead), (tf_rate, tf_overhead) = medians["caudal"], medians["tensorflow"]
        print(f"caudal / TensorFlow: throughput {rate / tf_rate:.2f}x (target >= 1.0), "
              f"remote-step overhead {overhead / tf_overhead:.2f}x (target <= 1.0)")


if __name__ == "__main__":
    main()
