"""A 1000-iteration tf.while_loop per Session.run: milliseconds per run, against TensorFlow.

The loop variables are an int32 counter and a float32 vector of 100 elements, fed
at each run: `while i < 1000: i, v = i + 1, v * 0.999 + 0.001`, so a run is
dominated by the cost of one loop iteration (a few tiny ops), i.e. by the
executor rather than by arithmetic; milliseconds per run are microseconds per
iteration. Each contestant runs in fresh processes, alternately (in turn first
and second), `--rounds` times; a round's figure is the median of `--runs` timed
runs after `--warmup` untimed ones, and the median round is reported, with the
ratio caudal/TF of the medians and the median of the per-round ratios. Both
final vectors must equal NumPy's float32 loop, and each other, to 1e-5.

    python benchmarks/while_loop.py                       # caudal only
    python benchmarks/while_loop.py --tf /path/to/python  # and TensorFlow, same program

With `--tf`, the same program source (PROGRAM below) runs in TensorFlow's
`tf.compat.v1` (disable_v2_behavior, so TF1's frame-op loops) in a subprocess of
that interpreter: caudal never imports TensorFlow. Target: caudal/TF <= 0.5.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ITERATIONS = 1000
SIZE = 100

# The program, written once for both frameworks; `tf` is caudal or tensorflow.compat.v1.
PROGRAM = r'''
def build(tf, iterations, size):
    v0 = tf.placeholder(tf.float32, [size], name="v0")

    def body(i, v):
        return i + 1, v * 0.999 + 0.001

    _, v = tf.while_loop(lambda i, v: i < iterations, body, [tf.constant(0), v0])
    return v0, v


def run(tf, iterations, size, warmup, runs):
    import time

    import numpy as np

    start_vector = np.linspace(-1, 1, size, dtype=np.float32)
    with tf.Graph().as_default():
        v0, v = build(tf, iterations, size)
        with tf.Session() as sess:
            for _ in range(warmup):
                result = sess.run(v, {v0: start_vector})
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                result = sess.run(v, {v0: start_vector})
                times.append(time.perf_counter() - start)
    return {"ms_per_run": 1000 * float(np.median(times)), "min_ms": 1000 * min(times),
            "vector": np.asarray(result, np.float32).tolist()}
'''

CHILD_MAIN = r'''
import json, sys
result = run(tf, *map(int, sys.argv[1:5]))
result["version"] = getattr(tf, "__version__", "")
print(json.dumps(result))
'''

CAUDAL_SCRIPT = f"import sys\nsys.path.insert(0, {ROOT!r})\nimport caudal as tf\n" + PROGRAM + CHILD_MAIN

TF_SCRIPT = r'''
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow.compat.v1 as tf
tf.disable_v2_behavior()
''' + PROGRAM + CHILD_MAIN


def reference_vector() -> np.ndarray:
    """The loop written directly in NumPy, in float32."""
    v = np.linspace(-1, 1, SIZE, dtype=np.float32)
    for _ in range(ITERATIONS):
        v = v * np.float32(0.999) + np.float32(0.001)
    return v


def run_child(python: str, script: str, warmup: int, runs: int) -> dict:
    """One round in a fresh process of `python`: its figures, from the JSON line it prints last."""
    out = subprocess.run([python, "-c", script, str(ITERATIONS), str(SIZE), str(warmup), str(runs)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{python} failed (exit status {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def profile_caudal(warmup: int, runs: int) -> None:
    import cProfile
    import pstats

    sys.path.insert(0, ROOT)
    import caudal as tf

    namespace: dict = {}
    exec(PROGRAM, namespace)
    profiler = cProfile.Profile()
    profiler.enable()
    namespace["run"](tf, ITERATIONS, SIZE, warmup, runs)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def check_vector(name: str, vector: list[float], expected: np.ndarray) -> bool:
    got = np.asarray(vector, np.float32)
    if got.shape == expected.shape and np.allclose(got, expected, rtol=1e-5, atol=1e-5):
        return True
    diff = float(np.max(np.abs(got - expected))) if got.shape == expected.shape else float("nan")
    print(f"MISMATCH: {name}'s vector differs (shape {got.shape}, max abs diff {diff:.3g})")
    return False


def _rounds(results: list[dict]) -> str:
    return ", ".join(f"{r['ms_per_run']:.2f}" for r in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tf", metavar="PYTHON", help="a Python interpreter with TensorFlow, to compare with")
    parser.add_argument("--rounds", type=int, default=5,
                        help="fresh processes per framework, run alternately (default 5)")
    parser.add_argument("--runs", type=int, default=50, help="timed Session.run calls per round (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs before them (default 5)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of caudal's runs, in this process")
    args = parser.parse_args()
    if args.profile:
        profile_caudal(args.warmup, args.runs)
        return 0
    contestants = {"caudal": (sys.executable, CAUDAL_SCRIPT)}
    if args.tf:
        contestants["TF"] = (args.tf, TF_SCRIPT)
    results: dict[str, list[dict]] = {name: [] for name in contestants}
    order = list(contestants)
    for round_ in range(max(args.rounds, 1)):
        for name in order if round_ % 2 == 0 else order[::-1]:
            python, script = contestants[name]
            results[name].append(run_child(python, script, args.warmup, args.runs))

    print(f"{ITERATIONS} iterations of a while_loop over an int32 counter and a float32[{SIZE}] vector, per run")
    medians = {}
    for name, rounds in results.items():
        medians[name] = statistics.median(r["ms_per_run"] for r in rounds)
        label = name if name == "caudal" else f"TF {rounds[0]['version']}"
        print(f"{label + ':':12s} {medians[name]:8.2f} ms per run (min {min(r['min_ms'] for r in rounds):.2f})  "
              f"rounds {_rounds(rounds)}")
    ok = True
    expected = reference_vector()
    for name, rounds in results.items():
        ok &= all(check_vector(name, r["vector"], expected) for r in rounds)
    if args.tf:
        paired = statistics.median(c["ms_per_run"] / t["ms_per_run"]
                                   for c, t in zip(results["caudal"], results["TF"], strict=True))
        print(f"ratio caudal/TF: {medians['caudal'] / medians['TF']:.2f} of the medians; {paired:.2f} median of "
              f"the paired rounds (target <= 0.5)")
        ok &= check_vector("caudal (against TF)", results["caudal"][0]["vector"],
                           np.asarray(results["TF"][0]["vector"], np.float32))
    if ok:
        print("vectors: " + ("caudal and TF agree with" if args.tf else "caudal agrees with")
              + " NumPy's float32 loop to 1e-5")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
