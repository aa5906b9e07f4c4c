"""The harness of the training-step benchmarks (lenet.py, lstm.py): each framework runs in fresh processes,
alternately, for `--rounds`; a round reports its median step time, fastest step and peak memory, and the
median round is printed with the ratio to TensorFlow's."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator


def _child_result(command: list[str]) -> dict:
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(results: list[dict]) -> dict:
    """The median round's step time, the fastest step seen, the largest peak memory."""
    times = sorted(r["ms_per_step"] for r in results)
    return {"ms_per_step": times[len(times) // 2], "min_ms": min(r["min_ms"] for r in results),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results), "loss": results[0]["loss"],
            "version": results[0].get("version", "")}


def _rounds(results: list[dict]) -> str:
    return ", ".join(f"{r['ms_per_step']:.1f}" for r in results)


def main(script: str, description: str, run_caudal: Callable[[], dict], tf_script: str,
         tf_args: list[str], child_args: tuple[str, ...] = ()) -> dict | None:
    """Command line of a benchmark script: `--tf PYTHON`, `--rounds N`, `--profile`, `--busy`; caudal's
    summary on the idle machine (None in a child process or when profiling). caudal's child processes
    run the script with `--child` and `child_args`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--tf", metavar="PYTHON", help="a Python interpreter with TensorFlow, to compare with")
    parser.add_argument("--rounds", type=int, default=3,
                        help="fresh processes per framework, run alternately (default 3)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of caudal's timed steps")
    parser.add_argument("--busy", action="store_true",
                        help="measure again with one competing CPU-bound process running (a busy machine)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_caudal()))
        return None
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        run_caudal()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return None
    print(f"OpenBLAS kernels: OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset: detected)')}")
    print(f"CPU: {cpu_model()}")
    idle = _compare(script, tf_script, tf_args, args.tf, args.rounds, "idle machine", child_args)
    if args.busy:
        with competing_process():
            _compare(script, tf_script, tf_args, args.tf, args.rounds, "one competing CPU-bound process", child_args)
    return idle


def cpu_model() -> str:
    """The CPU's model name and its widest vector extension, from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return "unknown"
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    widest = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{model} ({widest}, {os.cpu_count()} logical CPUs)"


@contextlib.contextmanager
def competing_process() -> Iterator[None]:
    """One CPU-bound process (a Python busy loop) running for the duration of the block."""
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        process.kill()
        process.wait()


def _compare(script: str, tf_script: str, tf_args: list[str], tf_python: str | None, rounds: int,
             condition: str, child_args: tuple[str, ...] = ()) -> dict:
    mine_rounds, ref_rounds = [], []
    for _ in range(max(rounds, 1)):
        mine_rounds.append(_child_result([sys.executable, os.path.abspath(script), "--child", *child_args]))
        if tf_python:
            ref_rounds.append(_child_result([tf_python, "-c", tf_script, *tf_args]))
    print(f"-- {condition}")
    mine = _summary(mine_rounds)
    print(f"caudal:     {mine['ms_per_step']:7.1f} ms/step (min {mine['min_ms']:.1f})  "
          f"peak RSS {mine['peak_rss_mb']:6.0f} MB  loss {mine['loss']:.4f}  "
          f"rounds {_rounds(mine_rounds)}")
    if tf_python:
        ref = _summary(ref_rounds)
        print(f"TF {ref['version']}: {ref['ms_per_step']:7.1f} ms/step (min {ref['min_ms']:.1f})  "
              f"peak RSS {ref['peak_rss_mb']:6.0f} MB  loss {ref['loss']:.4f}  "
              f"rounds {_rounds(ref_rounds)}")
        print(f"ratio caudal/TF: time {mine['ms_per_step'] / ref['ms_per_step']:.2f}  "
              f"memory {mine['peak_rss_mb'] / ref['peak_rss_mb']:.2f}")
    return mine
