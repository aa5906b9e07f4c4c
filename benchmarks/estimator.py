"""A pre-made Estimator end to end, against TensorFlow 2.15's Estimator.

`DNNClassifier([128, 64])` on the 784 pixels of the bundled MNIST sample (7,000 training images, 10
classes) trains `--steps` steps (2,000) from `numpy_input_fn` batches of 100 (shuffled, repeated), then
evaluates once on the 2,000 test images. The wall time of each (model_dir creation to the evaluation's
result) is measured in a fresh child process: caudal's in this interpreter's, TensorFlow's in the `--tf`
interpreter's (TensorFlow removed Estimators in 2.16: use one with tensorflow 2.15 and tensorflow-estimator
2.15), alternately, `--rounds` times. caudal's bytecode is written first, as a regular install does (see
_bytecode.py). Target: caudal's total time <= 0.5x TensorFlow's.

    python benchmarks/estimator.py                          # caudal only
    python benchmarks/estimator.py --tf /path/to/python     # and TensorFlow 2.15, alternately
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import _bytecode

RUN = r'''
def run(tf, estimator, fc, data_path, model_dir, steps):
    import time
    import numpy as np

    data = np.load(data_path)
    start = time.perf_counter()
    classifier = estimator.DNNClassifier([128, 64], [fc.numeric_column("x", shape=[784])], n_classes=10,
                                         model_dir=model_dir, config=estimator.RunConfig(tf_random_seed=0))
    train_input = estimator.inputs.numpy_input_fn({"x": data["train_x"]}, data["train_y"], batch_size=100,
                                                  num_epochs=None, shuffle=True)
    classifier.train(train_input, steps=steps)
    trained = time.perf_counter()
    eval_input = estimator.inputs.numpy_input_fn({"x": data["test_x"]}, data["test_y"], batch_size=100,
                                                 num_epochs=1, shuffle=False)
    metrics = classifier.evaluate(eval_input)
    done = time.perf_counter()
    assert int(metrics["global_step"]) == steps
    return {"train_s": trained - start, "eval_s": done - trained, "total_s": done - start,
            "accuracy": float(metrics["accuracy"])}
'''

CAUDAL_CHILD = RUN + r'''
import json, sys
import caudal as tf
import caudal.estimator as estimator
import caudal.feature_column as fc
print(json.dumps(run(tf, estimator, fc, sys.argv[1], sys.argv[2], int(sys.argv[3]))))
'''

TF_CHILD = RUN + r'''
import json, os, sys
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf
tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
result = run(tf, tf.compat.v1.estimator, tf.compat.v1.feature_column, sys.argv[1], sys.argv[2], int(sys.argv[3]))
result["version"] = tf.__version__
print(json.dumps(result))
'''


def _write_data(path: str) -> None:
    import numpy as np

    from caudal.examples.tutorials.mnist import input_data

    mnist = input_data.read_data_sets(None)
    np.savez(path, train_x=np.asarray(mnist.train.images, np.float32).reshape(-1, 784),
             train_y=np.asarray(mnist.train.labels, np.int64),
             test_x=np.asarray(mnist.test.images, np.float32).reshape(-1, 784),
             test_y=np.asarray(mnist.test.labels, np.int64))


def _child(python: str, script: str, data_path: str, tmp: str, steps: int) -> dict:
    model_dir = tempfile.mkdtemp(dir=tmp)
    out = subprocess.run([python, "-c", script, data_path, model_dir, str(steps)], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tf", metavar="PYTHON", help="a Python interpreter with TensorFlow 2.15 and its Estimator")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    print(f"OpenBLAS kernels: OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset: detected)')}")
    _bytecode.compile_caudal()
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "mnist.npz")
        _write_data(data_path)
        results: dict[str, list[dict]] = {"caudal": [], "tensorflow": []}
        for round_index in range(args.rounds):
            results["caudal"].append(_child(sys.executable, CAUDAL_CHILD, data_path, tmp, args.steps))
            if args.tf:
                results["tensorflow"].append(_child(args.tf, TF_CHILD, data_path, tmp, args.steps))
            line = ", ".join(f"{name} {r[-1]['total_s']:.2f} s (train {r[-1]['train_s']:.2f}, eval "
                             f"{r[-1]['eval_s']:.2f}, accuracy {r[-1]['accuracy']:.4f})"
                             for name, r in results.items() if r)
            print(f"round {round_index + 1}: {line}", flush=True)
    caudal_total = _median([r["total_s"] for r in results["caudal"]])
    print(f"caudal median: {caudal_total:.2f} s for {args.steps} steps and one evaluation")
    if results["tensorflow"]:
        tf_total = _median([r["total_s"] for r in results["tensorflow"]])
        ratio = caudal_total / tf_total
        print(f"TensorFlow {results['tensorflow'][0]['version']} median: {tf_total:.2f} s")
        print(f"caudal / TensorFlow: {ratio:.2f}x (target <= 0.5x: {'met' if ratio <= 0.5 else 'not met'})")


if __name__ == "__main__":
    main()
