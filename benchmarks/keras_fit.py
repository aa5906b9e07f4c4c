"""tf.keras `fit` end to end, against TF-Keras 2.x under TensorFlow 2.21 in graph mode.

The MNIST MLP (784-512-256-10, ReLU, softmax; Adam, sparse categorical crossentropy, accuracy) trains for
`--epochs` (3) epochs of batch 128 with `fit(..., verbose=0)` on the bundled MNIST sample (8,000 training
images, flattened to 784 floats in [0, 1]). The wall time of `fit` (and, separately, of building and
compiling the model) is measured in a fresh child process: caudal's in this interpreter's, TF-Keras's in
the `--tf` interpreter's (TensorFlow 2.21 with `tf_keras`, run with TF_USE_LEGACY_KERAS=1 and
`tf.compat.v1.disable_v2_behavior()`, the graph-mode Keras caudal matches), alternately, `--rounds` times.
Printed: each framework's median round and the ratio. Target (issue 11): caudal's fit time <= 1.0x.

    python benchmarks/keras_fit.py                          # caudal only
    python benchmarks/keras_fit.py --tf /path/to/python     # and TF-Keras, alternately
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

RUN = r'''
def run(tf, keras, adam, data_path, epochs, samples):
    import time
    import numpy as np

    data = np.load(data_path)
    x, y = data["x"][:samples], data["y"][:samples]
    start = time.perf_counter()
    model = keras.Sequential([keras.layers.Dense(512, activation="relu", input_shape=(784,)),
                              keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    built = time.perf_counter()
    history = model.fit(x, y, batch_size=128, epochs=epochs, verbose=0)
    done = time.perf_counter()
    return {"build_s": built - start, "fit_s": done - built, "loss": history.history["loss"][-1],
            "accuracy": history.history["acc"][-1]}
'''

CAUDAL_CHILD = RUN + r'''
import json, sys
import caudal as tf
print(json.dumps(run(tf, tf.keras, tf.keras.optimizers.Adam, sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
'''

TF_CHILD = RUN + r'''
import json, os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf
tf.compat.v1.disable_v2_behavior()
tf.compat.v1.logging.set_verbosity(tf.compat.v1.logging.ERROR)
result = run(tf, tf.keras, tf.keras.optimizers.legacy.Adam, sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
result["version"] = tf.__version__
print(json.dumps(result))
'''


def _write_data(path: str) -> None:
    import numpy as np

    import caudal as tf

    (x_train, y_train), _ = tf.keras.datasets.mnist.load_data()
    np.savez(path, x=(x_train.reshape(-1, 784) / 255.0).astype(np.float32), y=y_train.astype(np.int64))


def _child(python: str, script: str, data_path: str, epochs: int, samples: int) -> dict:
    out = subprocess.run([python, "-c", script, data_path, str(epochs), str(samples)], check=True,
                         capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    return json.loads(out.stdout.strip().splitlines()[-1])


def _seconds(results: list[dict]) -> str:
    return ", ".join(f"{r['fit_s']:.2f}" for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tf", metavar="PYTHON", help="a Python interpreter with TensorFlow 2.21 and tf_keras")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per framework (default 3)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=8000, help="training images used (default: all 8,000)")
    args = parser.parse_args()
    print(f"OpenBLAS kernels: OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset: detected)')}")
    with tempfile.TemporaryDirectory() as tmp:
        data_path = os.path.join(tmp, "mnist.npz")
        _write_data(data_path)
        mine, theirs = [], []
        for _ in range(max(args.rounds, 1)):
            mine.append(_child(sys.executable, CAUDAL_CHILD, data_path, args.epochs, args.samples))
            if args.tf:
                theirs.append(_child(args.tf, TF_CHILD, data_path, args.epochs, args.samples))
    fit = statistics.median(r["fit_s"] for r in mine)
    build = statistics.median(r["build_s"] for r in mine)
    print(f"caudal:   fit {fit:7.2f} s  (build+compile {build:.2f} s; rounds: {_seconds(mine)}; final loss "
          f"{mine[0]['loss']:.4f}, acc {mine[0]['accuracy']:.4f})")
    if theirs:
        tf_fit = statistics.median(r["fit_s"] for r in theirs)
        tf_build = statistics.median(r["build_s"] for r in theirs)
        print(f"TF-Keras: fit {tf_fit:7.2f} s  (build+compile {tf_build:.2f} s; rounds: {_seconds(theirs)}; final "
              f"loss {theirs[0]['loss']:.4f}, acc {theirs[0]['accuracy']:.4f}; TensorFlow {theirs[0]['version']})")
        print(f"ratio:    {fit / tf_fit:7.2f}  caudal / TF-Keras fit time (target <= 1.0)")


if __name__ == "__main__":
    main()
