"""Fault tolerance of between-graph training (slow): a ps task and two workers running
tests/distributed_trainer.py on 127.0.0.1, one of them SIGKILLed and restarted mid-training. Every
process has a hard timeout and is killed by its PID.

- a non-chief worker killed: the chief goes on; restarted, the worker rejoins the training where it
  is (it waits for the model, which is initialized, and never initializes it);
- the ps killed: the workers' runs fail with UnavailableError (their monitored sessions log it and
  create new sessions); restarted, the ps has no variables, the chief restores them from the newest
  checkpoint and training reaches its last step;
- the chief killed: restarted, it restores the newest checkpoint and finishes.

In each, the last checkpoint loads and holds the last step, and the global step after a restore is
the checkpoint's (no update is applied twice from a checkpoint).
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

import caudal as tf
from tests.distributed_cluster import Process, kill_all, loopback_cluster, trainer

pytestmark = pytest.mark.slow

LAST_STEP = 400


def _steps(process: Process, word: str = "step") -> list[int]:
    return [int(m.group(1)) for line in process.lines_with(f"{word} ")
            for m in [re.match(rf"^{word} (\d+)$", line)] if m]


def _wait_for_step(process: Process, at_least: int, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = _steps(process)
        if steps and steps[-1] >= at_least:
            return steps[-1]
        time.sleep(0.05)
    raise AssertionError(f"no step {at_least} from pid {process.pid}; output:\n{process.output()}")


def _newest_checkpoint_step(directory: str) -> int:
    path = tf.train.latest_checkpoint(directory)
    return int(tf.train.NewCheckpointReader(path).get_tensor("global_step")) if path else -1


def _newest_checkpoint_number(directory: str) -> int:
    """The step in the newest checkpoint's name: the global step the saving hook read, which the
    other worker's updates may have passed by the time the saver read the variable."""
    path = tf.train.latest_checkpoint(directory)
    return int(path.rsplit("-", 1)[1]) if path else -1


def _assert_final_checkpoint(directory: str) -> None:
    reader = tf.train.NewCheckpointReader(tf.train.latest_checkpoint(directory))
    assert reader.get_tensor("global_step") >= LAST_STEP
    assert abs(float(reader.get_tensor("b"))) > 0


@pytest.fixture
def cluster(tmp_path: Any) -> Iterator[dict[str, Any]]:
    spec = loopback_cluster(ps=1, worker=2)
    state: dict[str, Any] = {"spec": spec, "dir": str(tmp_path / "ckpt"), "processes": []}

    def start(job: str, index: int) -> Process:
        process = trainer(spec, job, index, "--checkpoint_dir", state["dir"], "--last_step", str(LAST_STEP),
                          "--step_sleep", "0.02", "--save_steps", "20")
        state["processes"].append(process)
        process.wait_for_line(f"serving {job}:{index}")
        return process

    state["start"] = start
    try:
        yield state
    finally:
        kill_all(state["processes"])


def test_a_killed_worker_leaves_the_others_training_and_rejoins(cluster: dict[str, Any]) -> None:
    cluster["start"]("ps", 0)
    chief = cluster["start"]("worker", 0)
    worker = cluster["start"]("worker", 1)
    _wait_for_step(worker, 60)
    worker.kill()
    killed_at = _steps(chief)[-1]
    assert _wait_for_step(chief, killed_at + 40) > killed_at  # the chief goes on alone
    restarted = cluster["start"]("worker", 1)
    rejoined = _wait_for_step(restarted, 1)
    first_session = [int(s) for s in re.findall(r"session at step (\d+)", restarted.output())]
    assert first_session and first_session[0] > killed_at  # the model was not initialized again
    assert rejoined > killed_at
    assert chief.wait(120) == 0 and restarted.wait(120) == 0
    assert "done at step" in chief.output()
    _assert_final_checkpoint(cluster["dir"])


def test_a_killed_ps_fails_the_steps_and_the_chief_restores_after_its_restart(cluster: dict[str, Any]) -> None:
    ps = cluster["start"]("ps", 0)
    chief = cluster["start"]("worker", 0)
    worker = cluster["start"]("worker", 1)
    _wait_for_step(chief, 100)
    ps.kill()
    checkpoint_step = _newest_checkpoint_step(cluster["dir"])
    checkpoint_number = _newest_checkpoint_number(cluster["dir"])
    assert checkpoint_step >= checkpoint_number >= 20
    chief.wait_for_line("is unavailable")  # the UnavailableError, logged by the monitored session
    cluster["start"]("ps", 0)
    restored = [int(s) for s in re.findall(r"session at step (\d+)", chief.output())]
    deadline = time.monotonic() + 60
    while len(restored) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        restored = [int(s) for s in re.findall(r"session at step (\d+)", chief.output())]
    assert len(restored) >= 2, chief.output()
    saved = [int(s) for s in re.findall(r"Saving checkpoints for (\d+) into", chief.output())]
    loaded = [int(s) for s in re.findall(r"Restoring parameters from \S*ckpt-(\d+)", chief.output())]
    # The chief restores the newest checkpoint written before the ps died (none can be written while
    # it is down); the other worker may train between that restore and the chief's announcement.
    assert loaded and loaded[0] >= checkpoint_number and loaded[0] in saved, chief.output()
    assert restored[1] >= max(loaded[0], checkpoint_step)
    assert chief.wait(120) == 0, chief.output()
    assert "done at step" in chief.output()
    worker.kill()
    _assert_final_checkpoint(cluster["dir"])


def test_a_killed_chief_resumes_from_the_checkpoint_directory(cluster: dict[str, Any]) -> None:
    cluster["start"]("ps", 0)
    chief = cluster["start"]("worker", 0)
    worker = cluster["start"]("worker", 1)
    _wait_for_step(chief, 100)
    chief.kill()
    checkpoint_step = _newest_checkpoint_step(cluster["dir"])
    assert checkpoint_step >= 20
    restarted = cluster["start"]("worker", 0)
    restarted.wait_for_line("session at step")
    first = int(re.search(r"session at step (\d+)", restarted.output()).group(1))
    assert first >= checkpoint_step  # restored from the checkpoint (the other worker may have stepped since)
    assert restarted.wait(120) == 0, restarted.output()
    assert "done at step" in restarted.output()
    worker.wait(120)
    _assert_final_checkpoint(cluster["dir"])
