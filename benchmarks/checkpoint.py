"""Saving and restoring ~100 MB of float32 variables with tf.train.Saver: caudal, and TensorFlow with --tf.

    python benchmarks/checkpoint.py [--mb 100] [--repeats 5] [--tf /work/tfref/bin/python] [--against DIR]

Both run the same program (10 variables, no meta graph, best of `repeats`
after one warm-up save and restore) in their own process and directory;
the figures are seconds per save and per restore, and caudal's time
divided by TensorFlow's. `--against DIR` also runs the caudal checkout in DIR (an older
commit, e.g. `git worktree add /tmp/before REV`), alternating with this one `--rounds` times,
to see what a change to saving costs.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

PROGRAM = r'''
import json, os, sys, time
import numpy as np
backend, directory, megabytes, repeats = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
if backend == "tf":
    import tensorflow.compat.v1 as tf
    tf.disable_v2_behavior()
else:
    import caudal as tf
count = 10
size = int(megabytes * 1e6 / 4 / count)
rng = np.random.default_rng(0)
variables = [tf.Variable(rng.standard_normal(size, dtype=np.float32), name=f"v{i}") for i in range(count)]
saver = tf.train.Saver()
prefix = os.path.join(directory, "model")
saves, restores = [], []
with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for i in range(repeats + 1):
        start = time.perf_counter()
        saver.save(sess, prefix, write_meta_graph=False)
        middle = time.perf_counter()
        saver.restore(sess, prefix)
        end = time.perf_counter()
        if i:
            saves.append(middle - start)
            restores.append(end - middle)
print(json.dumps({"save": min(saves), "restore": min(restores),
                  "bytes": os.path.getsize(prefix + ".data-00000-of-00001")}))
'''


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(python: str, backend: str, megabytes: float, repeats: int, repo: str = REPO) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        env["PYTHONPATH"] = repo + os.pathsep + env.get("PYTHONPATH", "")
        result = subprocess.run([python, "-c", PROGRAM, backend, directory, str(megabytes), str(repeats)],
                                capture_output=True, text=True, env=env)
        if result.returncode:
            raise RuntimeError(f"{backend} benchmark failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=100.0, help="megabytes of float32 variables")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tf", default=None, help="a Python with TensorFlow, to measure it in the same run")
    parser.add_argument("--against", default=None, help="another caudal checkout to compare this one with")
    parser.add_argument("--rounds", type=int, default=3, help="alternations with --against")
    args = parser.parse_args()
    if args.against:
        _compare_checkouts(args)
        return
    ours = _run(sys.executable, "caudal", args.mb, args.repeats)
    print(f"caudal     save {ours['save']:.3f} s   restore {ours['restore']:.3f} s   "
          f"({ours['bytes'] / 1e6:.0f} MB)")
    if args.tf:
        theirs = _run(args.tf, "tf", args.mb, args.repeats)
        print(f"tensorflow save {theirs['save']:.3f} s   restore {theirs['restore']:.3f} s   "
              f"({theirs['bytes'] / 1e6:.0f} MB)")
        print(f"ratio caudal/tensorflow: save {ours['save'] / theirs['save']:.2f}   "
              f"restore {ours['restore'] / theirs['restore']:.2f}")


def _compare_checkouts(args: argparse.Namespace) -> None:
    here, there = [], []
    for _ in range(args.rounds):
        here.append(_run(sys.executable, "caudal", args.mb, args.repeats))
        there.append(_run(sys.executable, "caudal", args.mb, args.repeats, os.path.abspath(args.against)))
    for name, results in (("this checkout", here), (args.against, there)):
        print(f"{name:<20} save {min(r['save'] for r in results):.3f} s   "
              f"restore {min(r['restore'] for r in results):.3f} s   (best of {args.rounds} rounds)")
    print(f"ratio this/against: save {min(r['save'] for r in here) / min(r['save'] for r in there):.2f}   "
          f"restore {min(r['restore'] for r in here) / min(r['restore'] for r in there):.2f}")


if __name__ == "__main__":
    main()
