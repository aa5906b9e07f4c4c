"""tf.data throughput, against TensorFlow and against feeding.

(a) Batches per second of the input pipeline TF1 programs write for MNIST records:
    TFRecordDataset -> map(parse_single_example, decode_raw, normalise) -> shuffle(10000) -> batch(128)
    -> prefetch(1), over the bundled MNIST sample (10,000 images) written once as a TFRecord file.
    caudal runs in this process's children and TensorFlow in a child of the `--tf` interpreter,
    alternately, `--rounds` times; each round times BATCHES batches after the first (which waits for the
    shuffle buffer to fill). Target (issue 9): caudal >= 1.0x TensorFlow's rate.
(b) The MNIST MLP training step (784-256-10, Adam, batch 100) fed by
    `from_tensor_slices(...).shuffle(10000).batch(100).repeat()` against the same step fed by
    `feed_dict` with NumPy batches, in caudal, alternately. Target: the dataset step <= 1.05x the feed step.

    python benchmarks/data_pipeline.py                       # caudal only: (a) and (b)
    python benchmarks/data_pipeline.py --tf /path/to/python  # and TensorFlow for (a)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

BATCHES = 150

PIPELINE = r'''
def rate(tf, path, batches):
    import time

    def parse(record):
        features = tf.parse_single_example(record, {"image_raw": tf.FixedLenFeature([], tf.string),
                                                    "label": tf.FixedLenFeature([], tf.int64)})
        image = tf.cast(tf.decode_raw(features["image_raw"], tf.uint8), tf.float32) / 255.0
        return image, features["label"]

    dataset = tf.data.TFRecordDataset(path).map(parse).shuffle(10000, seed=1).batch(128).repeat().prefetch(1)
    images, labels = tf.data.make_one_shot_iterator(dataset).get_next()
    with tf.Session() as sess:
        sess.run(images)
        start = time.perf_counter()
        for _ in range(batches):
            x, y = sess.run([images, labels])
        elapsed = time.perf_counter() - start
    assert x.shape == (128, 784) and 0.0 <= x.min() and x.max() <= 1.0
    return batches / elapsed
'''


def _write_records(path: str) -> None:
    import numpy as np

    import caudal as tf
    from caudal.examples.tutorials.mnist import input_data

    data = input_data.read_data_sets(None).train
    images = (np.asarray(data.images).reshape(-1, 784) * 255).round().astype(np.uint8)
    with tf.io.TFRecordWriter(path) as writer:
        for image, label in zip(images, data.labels):
            example = tf.train.Example(features=tf.train.Features(feature={
                "image_raw": tf.train.Feature(bytes_list=tf.train.BytesList(value=[image.tobytes()])),
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)]))}))
            writer.write(example.SerializeToString())


def _caudal_rate(path: str) -> float:
    import caudal as tf

    namespace: dict = {}
    exec(PIPELINE, namespace)
    return namespace["rate"](tf, path, BATCHES)


TF_CHILD = PIPELINE + r'''
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
print(json.dumps({"rate": rate(tf, sys.argv[1], int(sys.argv[2])), "version": tf.__version__}))
'''


def _child(command: list[str]) -> dict:
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _mlp_steps(feed: bool, steps: int) -> float:
    """Median milliseconds per training step of the MLP, fed by feed_dict or by a dataset."""
    import numpy as np

    import caudal as tf
    from caudal.examples.tutorials.mnist import input_data

    data = input_data.read_data_sets(None).train
    images, labels = np.asarray(data.images, np.float32).reshape(-1, 784), np.asarray(data.labels, np.int64)
    with tf.Graph().as_default():
        tf.set_random_seed(0)
        if feed:
            x, y = tf.placeholder(tf.float32, [None, 784]), tf.placeholder(tf.int64, [None])
        else:
            dataset = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(10000, seed=0).batch(100).repeat()
            x, y = dataset.make_one_shot_iterator().get_next()
        hidden = tf.layers.dense(x, 256, activation=tf.nn.relu)
        logits = tf.layers.dense(hidden, 10)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        train = tf.train.AdamOptimizer(0.001).minimize(loss)
        rng = np.random.RandomState(0)
        times = []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for step in range(steps + 5):
                if feed:
                    index = rng.randint(0, len(images), 100)
                    start = time.perf_counter()
                    sess.run(train, {x: images[index], y: labels[index]})
                else:
                    start = time.perf_counter()
                    sess.run(train)
                if step >= 5:
                    times.append(time.perf_counter() - start)
    return _median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tf", metavar="PYTHON", help="a Python interpreter with TensorFlow, to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({"rate": _caudal_rate(args.child)}))
        return
    print(f"OpenBLAS kernels: OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset: detected)')}")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mnist.tfrecord")
        _write_records(path)
        mine, ref, version = [], [], ""
        for _ in range(max(args.rounds, 1)):
            mine.append(_child([sys.executable, os.path.abspath(__file__), "--child", path])["rate"])
            if args.tf:
                result = _child([args.tf, "-c", TF_CHILD, path, str(BATCHES)])
                ref.append(result["rate"])
                version = result["version"]
        rounds = ", ".join(f"{r:.0f}" for r in mine)
        print(f"(a) pipeline   caudal: {_median(mine):7.1f} batches/s  rounds {rounds}")
        if args.tf:
            print(f"(a) pipeline   TF {version}: {_median(ref):7.1f} batches/s  rounds "
                  + ", ".join(f"{r:.0f}" for r in ref))
            print(f"(a) ratio caudal/TF rate: {_median(mine) / _median(ref):.2f}  (target >= 1.0)")
    fed, streamed = [], []
    for _ in range(max(args.rounds, 1)):
        fed.append(_mlp_steps(True, 200))
        streamed.append(_mlp_steps(False, 200))
    print(f"(b) MLP step   feed_dict {_median(fed):.3f} ms   dataset {_median(streamed):.3f} ms   "
          f"ratio dataset/feed {_median(streamed) / _median(fed):.2f}  (target <= 1.05)")


if __name__ == "__main__":
    main()
