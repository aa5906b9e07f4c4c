"""The benchmark programs' caudal parts still run (a benchmark is not run by the suite, so a change of a
name it uses would otherwise go unnoticed until someone times it)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks")


def test_queue_pipeline_child_runs(tmp_path) -> None:
    sys.path.insert(0, BENCHMARKS)
    try:
        import queue_pipeline
    finally:
        sys.path.remove(BENCHMARKS)
    path = str(tmp_path / "mnist.tfrecord")
    queue_pipeline._write_records(path)
    out = subprocess.run([sys.executable, os.path.join(BENCHMARKS, "queue_pipeline.py"), "--child", path,
                          "--batches", "3", "--threads", "2"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1])["rate"] > 0


def test_checkpoint_benchmark_runs(tmp_path) -> None:
    out = subprocess.run([sys.executable, os.path.join(BENCHMARKS, "checkpoint.py"), "--mb", "1", "--repeats", "1"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "caudal     save" in out.stdout
