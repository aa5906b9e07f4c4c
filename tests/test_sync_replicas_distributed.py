"""tf.train.SyncReplicasOptimizer across processes: 1 ps and 2 workers on 127.0.0.1, each task running
tests/distributed_sync_trainer.py under MonitoredTrainingSession with the optimizer's hook."""
from __future__ import annotations

import collections
import json
import os
import re

import pytest

from tests import distributed_cluster as dc

pytestmark = pytest.mark.slow

LAST_STEP = 30


def _task(cluster: dict, job: str, index: int, *args: str) -> dc.Process:
    config = json.dumps({"cluster": cluster, "task": {"type": job, "index": index}})
    return dc.Process([os.path.join(dc.REPO, "tests", "distributed_sync_trainer.py"), "--last_step",
                       str(LAST_STEP), *args], timeout=60, env={"TF_CONFIG": config})


def test_two_workers_train_in_step_and_the_global_step_counts_aggregations() -> None:
    cluster = dc.loopback_cluster(ps=1, worker=2)
    processes: list[dc.Process] = []
    try:
        processes.append(_task(cluster, "ps", 0))
        # No initial tokens: the chief's first step waits for the other worker's gradient, so both
        # workers take part (a worker that found the model uninitialized would wait 30 s to retry).
        chief = _task(cluster, "worker", 0, "--num_tokens", "0")
        processes.append(chief)
        chief.wait_for_line("session ready", timeout=30)
        worker = _task(cluster, "worker", 1)
        processes.append(worker)
        assert chief.wait(40) == 0, chief.output()
        assert worker.wait(40) == 0, worker.output()
    finally:
        dc.kill_all(processes)
    finals = [int(re.search(r"done at step (\d+)", p.output()).group(1)) for p in (chief, worker)]
    assert finals[0] == finals[1] >= LAST_STEP
    steps = {name: [(int(t), float(v)) for t, v in re.findall(r"step (\d+) loss (\S+)", p.output())]
             for name, p in (("chief", chief), ("worker", worker))}
    assert steps["chief"] and steps["worker"], (chief.output(), worker.output())
    # Each aggregation increments the global step once and puts two tokens of it in the queue
    # (tokens_per_step = max(total_num_replicas, replicas_to_aggregate)): the tokens the workers took
    # are 1, 2, ... with no gap, none more than twice.
    tokens = collections.Counter(t for run in steps.values() for t, _ in run)
    assert sorted(tokens) == list(range(1, max(tokens) + 1))
    assert max(tokens.values()) <= 2 and max(tokens) <= finals[0]
    assert steps["chief"][0][0] == 1  # the chief's first step waited for the first update, which needed the worker
    losses = [v for _, v in sorted(steps["chief"] + steps["worker"])]
    assert sum(losses[-4:]) / 4 < 0.05 * sum(losses[:4]) / 4
