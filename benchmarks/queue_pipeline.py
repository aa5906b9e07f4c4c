"""Queue-based input pipeline throughput (TF <= 1.3 style), caudal against TensorFlow.

Examples per second of

    string_input_producer -> TFRecordReader -> parse_single_example (decode_raw, normalise)
        -> shuffle_batch(128, min_after_dequeue=1000, num_threads=--threads)

run by queue runner threads under a Coordinator, over the bundled MNIST sample (10,000 images) written
once as a TFRecord file of tf.train.Examples. Each round runs in a fresh child process: caudal in this
interpreter, TensorFlow's `compat.v1` in the `--tf` interpreter (the same program source), alternately,
`--rounds` times; a round times `--batches` batches after the first (which waits for the shuffle queue
to fill). Target: caudal >= 1.0x TensorFlow's rate.

    python benchmarks/queue_pipeline.py                       # caudal only
    python benchmarks/queue_pipeline.py --tf /path/to/python  # and TensorFlow, with the ratio
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

BATCH = 128

PIPELINE = r'''
def rate(tf, path, batches, threads):
    import time

    files = tf.train.string_input_producer([path], seed=1)
    _, record = tf.TFRecordReader().read(files)
    features = tf.parse_single_example(record, {"image_raw": tf.FixedLenFeature([], tf.string),
                                                "label": tf.FixedLenFeature([], tf.int64)})
    image = tf.cast(tf.decode_raw(features["image_raw"], tf.uint8), tf.float32) / 255.0
    image.set_shape([784])
    images, labels = tf.train.shuffle_batch([image, features["label"]], 128, capacity=1000 + 3 * 128,
                                            min_after_dequeue=1000, num_threads=threads, seed=1)
    with tf.Session() as sess:
        coord = tf.train.Coordinator()
        runners = tf.train.start_queue_runners(sess, coord)
        sess.run(images)
        start = time.perf_counter()
        for _ in range(batches):
            x, y = sess.run([images, labels])
        elapsed = time.perf_counter() - start
        coord.request_stop()
        coord.join(runners, stop_grace_period_secs=10)
    assert x.shape == (128, 784) and 0.0 <= x.min() and x.max() <= 1.0 and y.shape == (128,)
    return batches * 128 / elapsed
'''

TF_CHILD = PIPELINE + r'''
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
tf.logging.set_verbosity(tf.logging.ERROR)
print(json.dumps({"rate": rate(tf, sys.argv[1], int(sys.argv[2]), int(sys.argv[3])), "version": tf.__version__}))
'''


def _write_records(path: str) -> None:
    import numpy as np

    import caudal as tf
    from caudal.examples.tutorials.mnist import input_data

    data = input_data.read_data_sets(None).train
    images = (np.asarray(data.images).reshape(-1, 784) * 255).round().astype(np.uint8)
    with tf.python_io.TFRecordWriter(path) as writer:
        for image, label in zip(images, data.labels):
            example = tf.train.Example(features=tf.train.Features(feature={
                "image_raw": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image.tobytes()])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)]))}))
            writer.write(example.SerializeToString())


def _caudal_rate(path: str, batches: int, threads: int) -> float:
    namespace: dict = {}
    exec(PIPELINE, namespace)
    import caudal as tf

    return namespace["rate"](tf, path, batches, threads)


def _child(command: list[str]) -> dict:
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tf", metavar="PYTHON", help="a Python interpreter with TensorFlow, to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=100, help="batches of 128 timed per round")
    parser.add_argument("--threads", type=int, default=2, help="shuffle_batch's num_threads")
    parser.add_argument("--child", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({"rate": _caudal_rate(args.child, args.batches, args.threads)}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mnist.tfrecord")
        _write_records(path)
        mine, ref, version = [], [], ""
        for _ in range(max(args.rounds, 1)):
            mine.append(_child([sys.executable, os.path.abspath(__file__), "--child", path, "--batches",
                                str(args.batches), "--threads", str(args.threads)])["rate"])
            if args.tf:
                result = _child([args.tf, "-c", TF_CHILD, path, str(args.batches), str(args.threads)])
                ref.append(result["rate"])
                version = result["version"]
    print(f"caudal:        {_median(mine):9.0f} examples/s  rounds " + ", ".join(f"{r:.0f}" for r in mine))
    if args.tf:
        print(f"TF {version}: {_median(ref):9.0f} examples/s  rounds " + ", ".join(f"{r:.0f}" for r in ref))
        print(f"ratio caudal/TF: {_median(mine) / _median(ref):.2f}  (target >= 1.0)")


if __name__ == "__main__":
    main()
