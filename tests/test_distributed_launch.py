"""`python -m caudal.distribute.launch`: TF_CONFIG per task, prefixed output, the cluster stopped when the
chief ends or a task fails; and the mnist_distributed example trained by a cluster on 127.0.0.1. Each
launcher runs in its own process group, killed as a whole (by the launcher's PID) at the latest after its
hard timeout."""
from __future__ import annotations

import json
import os
import re
import textwrap
from typing import Any

import numpy as np
import pytest

import caudal as tf
from caudal.distribute import launch
from tests.distributed_cluster import Process


def _launch(*args: str, timeout: float = 120.0) -> Process:
    return Process(["-m", "caudal.distribute.launch", *args], timeout=timeout, group=True)


def test_each_task_gets_tf_config_and_a_failure_stops_the_cluster(tmp_path: Any) -> None:
    script = tmp_path / "task.py"
    script.write_text(textwrap.dedent("""
        import json, os, sys, time
        config = json.loads(os.environ["TF_CONFIG"])
        print("config", json.dumps(config), "pid", os.getpid(), flush=True)
        if config["task"] == {"type": "worker", "index": 1}:
            time.sleep(0.5)
            sys.exit(3)
        time.sleep(60)
    """))
    launcher = _launch("--ps", "1", "--workers", "2", "--grace", "2", str(script), "--flag")
    try:
        assert launcher.wait(60) == 3
    finally:
        launcher.kill()
    configs = {}
    for line in launcher.lines_with(" config "):
        role, text = re.match(r"^\[(\w+:\d)\] config (.*) pid \d+$", line).group(1, 2)
        configs[role] = json.loads(text)
    assert sorted(configs) == ["ps:0", "worker:0", "worker:1"]
    cluster = configs["ps:0"]["cluster"]
    assert sorted(cluster) == ["ps", "worker"] and len(cluster["worker"]) == 2
    addresses = cluster["ps"] + cluster["worker"]
    assert len(set(addresses)) == 3 and all(a.startswith("127.0.0.1:") for a in addresses)
    for role, config in configs.items():
        job, index = role.split(":")
        assert config == {"cluster": cluster, "task": {"type": job, "index": int(index)}}
    assert "[launch] worker:1 ended with status 3: stopping the cluster" in launcher.output()
    for line in launcher.lines_with(" pid "):
        pid = int(line.rsplit(" ", 1)[1])
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_the_chief_ending_stops_the_others_and_gives_its_status(tmp_path: Any) -> None:
    script = tmp_path / "task.py"
    marker = tmp_path / "worker_started"
    script.write_text(textwrap.dedent(f"""
        import json, os, sys, time
        task = json.loads(os.environ["TF_CONFIG"])["task"]
        print("started", flush=True)
        if task["type"] == "chief":
            deadline = time.monotonic() + 30
            while not os.path.exists({str(marker)!r}) and time.monotonic() < deadline:
                time.sleep(0.02)  # the worker has printed its line before the chief ends
            sys.exit(0)
        open({str(marker)!r}, "w").close()
        time.sleep(60)
    """))
    launcher = _launch("--chief", "--workers", "1", "--ps", "0", str(script))
    try:
        assert launcher.wait(60) == 0
    finally:
        launcher.kill()
    assert sorted(line.split("]")[0] + "]" for line in launcher.lines_with("started")) == \
        ["[chief:0]", "[worker:0]"]
    timed_out = _launch("--workers", "1", "--ps", "0", "--timeout", "1", str(script))
    try:
        assert timed_out.wait(60) == 124
    finally:
        timed_out.kill()
    assert "[launch] timed out after 1 s: stopping the cluster" in timed_out.output()


def test_launcher_usage_errors(capsys: Any) -> None:
    with pytest.raises(SystemExit) as raised:
        launch.main(["--ps", "1"])
    assert raised.value.code == 2
    assert "the program to run is missing" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        launch.main(["--workers", "0", "train.py"])
    assert "--workers must be at least 1" in capsys.readouterr().err


def test_mnist_distributed_trains_with_the_launcher(tmp_path: Any) -> None:
    checkpoints = tmp_path / "ckpt"
    launcher = _launch("--ps", "1", "--workers", "2", "--timeout", "150", "-m", "caudal.examples.mnist_distributed",
                       "--train_steps", "60", "--hidden_units", "0", "--checkpoint_dir", str(checkpoints),
                       "--log_every", "10", "--save_checkpoint_steps", "30", timeout=180)
    try:
        assert launcher.wait(170) == 0, launcher.output()
    finally:
        launcher.kill()
    output = launcher.output()
    assert launcher.lines_with("[ps:0] ps 0 serving at grpc://127.0.0.1:")
    # The launcher stops worker 1 when the chief ends; a chief that finishes all the steps before worker 1 has
    # started leaves worker 1 nothing to print, so only the chief's end is certain.
    assert launcher.lines_with("[worker:0] worker 0: done after")
    accuracy = float(re.search(r"\[worker:0\] global step \d+: test accuracy ([\d.]+)", output).group(1))
    assert accuracy > 0.8, output
    reader = tf.train.NewCheckpointReader(tf.train.latest_checkpoint(str(checkpoints)))
    assert reader.get_tensor("global_step") >= 60
    assert np.abs(reader.get_tensor("w")).sum() > 0


def test_mnist_distributed_bad_tf_config(monkeypatch: Any) -> None:
    from caudal.examples import mnist_distributed

    args = mnist_distributed._parse([])
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(json.JSONDecodeError, match="Expecting property name enclosed in double quotes"):
        mnist_distributed.cluster_and_task(args)
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"ps": ["127.0.0.1:1"], "worker": ["127.0.0.1:2"]},
                                                "task": {"type": "worker", "index": 4}}))
    cluster, job, index = mnist_distributed.cluster_and_task(args)
    with pytest.raises(tf.errors.InternalError, match='^Task 4 was not defined in job "worker"$'):
        tf.train.Server(cluster, job_name=job, task_index=index)
    monkeypatch.delenv("TF_CONFIG")
    with pytest.raises(SystemExit, match="give --job_name"):
        mnist_distributed.cluster_and_task(args)
