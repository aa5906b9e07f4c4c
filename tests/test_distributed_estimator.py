"""`tf.estimator.train_and_evaluate` with TF_CONFIG naming a cluster: a ps task serves, the chief and a
worker train through it (variables on the ps by the Estimator's default `replica_device_setter`), an
evaluator evaluates the chief's checkpoints; each task a process on 127.0.0.1, killed by its PID at the
latest after its hard timeout. Also the per-task RunConfig and the errors of an unknown task type."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

import caudal as tf
import caudal.estimator  # noqa: F401
from tests.distributed_cluster import Process, loopback_cluster

TRAINER = "tests/distributed_estimator_trainer.py"


def _task(cluster: dict, job: str, index: int, model_dir: str, max_steps: int) -> Process:
    config = json.dumps({"cluster": cluster, "task": {"type": job, "index": index}})
    return Process([TRAINER, "--model_dir", model_dir, "--max_steps", str(max_steps)], timeout=150,
                   env={"TF_CONFIG": config})


def test_chief_worker_ps_and_evaluator_train_and_evaluate(tmp_path: Any) -> None:
    cluster = loopback_cluster(chief=1, ps=1, worker=1)
    model_dir, max_steps = str(tmp_path / "model"), 200
    ps = _task(cluster, "ps", 0, model_dir, max_steps)
    tasks = {}
    try:
        tasks["chief"] = _task(cluster, "chief", 0, model_dir, max_steps)
        tasks["worker"] = _task(cluster, "worker", 0, model_dir, max_steps)
        tasks["evaluator"] = _task(cluster, "evaluator", 0, model_dir, max_steps)
        for name, task in tasks.items():
            assert task.wait(140) == 0, f"{name}:\n{task.output()}"
        assert ps.process.poll() is None, ps.output()  # a ps serves until it is stopped
    finally:
        for task in (ps, *tasks.values()):
            task.kill()
    chief, worker, evaluator = (tasks[n].output() for n in ("chief", "worker", "evaluator"))
    assert f"task chief:0 master 'grpc://{cluster['chief'][0]}' chief True device filters ['/job:ps', " \
           "'/job:chief']" in chief
    assert f"task worker:0 master 'grpc://{cluster['worker'][0]}' chief False device filters ['/job:ps', " \
           "'/job:worker/task:0']" in worker
    assert "task evaluator:0 master '' chief False device filters None" in evaluator
    assert "train_and_evaluate returned None" in chief and "train_and_evaluate returned None" in worker
    chief_steps = int(re.search(r"steps run: (\d+)", chief).group(1))
    worker_steps = int(re.search(r"steps run: (\d+)", worker).group(1))
    assert chief_steps > 0, chief  # the worker may start after the chief has run every step: it then runs none
    # Both trained the one global step on the ps: together they ran (about) max_steps steps, not twice that.
    final_step = int(tf.train.NewCheckpointReader(tf.train.latest_checkpoint(model_dir)).get_tensor("global_step"))
    assert max_steps <= final_step <= chief_steps + worker_steps <= max_steps + 2, (final_step, chief, worker)
    evaluations = [(int(s), float(a)) for s, a in re.findall(r"evaluated at step (\d+): accuracy ([\d.]+)",
                                                             evaluator)]
    assert evaluations and evaluations[-1][0] >= max_steps and evaluations[-1][1] > 0.9, evaluator


def test_a_master_task_trains_and_evaluates_after_its_checkpoints(tmp_path: Any) -> None:
    cluster = loopback_cluster(master=1, ps=1)
    model_dir, max_steps = str(tmp_path / "model"), 120
    ps = _task(cluster, "ps", 0, model_dir, max_steps)
    master = None
    try:
        master = _task(cluster, "master", 0, model_dir, max_steps)
        assert master.wait(140) == 0, master.output()
    finally:
        for task in (ps, master):
            if task is not None:
                task.kill()
    output = master.output()
    assert f"task master:0 master 'grpc://{cluster['master'][0]}' chief True device filters ['/job:ps', " \
           "'/job:master']" in output
    assert "steps run: 120" in output and "train_and_evaluate returned None" in output
    steps = [int(s) for s, _ in re.findall(r"evaluated at step (\d+): accuracy ([\d.]+)", output)]
    assert steps[-1] == max_steps and float(output.split("accuracy ")[-1].split()[0]) > 0.9, output


def test_the_launcher_runs_an_estimator_cluster_with_an_evaluator(tmp_path: Any) -> None:
    model_dir = str(tmp_path / "model")
    launcher = Process(["-m", "caudal.distribute.launch", "--chief", "--ps", "1", "--workers", "1", "--evaluator",
                        "--timeout", "100", TRAINER, "--model_dir", model_dir, "--max_steps", "150"],
                       timeout=120, group=True)
    try:
        assert launcher.wait(110) == 0, launcher.output()
    finally:
        launcher.kill()
    output = launcher.output()
    for role in ("chief:0", "ps:0", "evaluator:0"):  # the worker may be stopped before it has printed anything
        assert f"[{role}] task {role} " in output, output
    assert launcher.lines_with("[chief:0] train_and_evaluate returned None")
    last = re.findall(r"\[evaluator:0\] evaluated at step (\d+): accuracy ([\d.]+)", output)[-1]
    assert int(last[0]) >= 150 and float(last[1]) > 0.9, output
    assert launcher.lines_with("[evaluator:0] train_and_evaluate returned None")


def test_each_task_gets_tfs_device_function_and_session_config(monkeypatch: Any) -> None:
    cluster = {"chief": ["127.0.0.1:1"], "ps": ["127.0.0.1:2", "127.0.0.1:3"], "worker": ["127.0.0.1:4"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}}))
    estimator = tf.estimator.Estimator(lambda features, labels, mode: None, model_dir="/tmp/unused")
    with tf.Graph().as_default() as graph, graph.device(estimator._device_fn):
        first = tf.get_variable("first", [1])
        second = tf.get_variable("second", [1])
        total = first + second
    assert (first.device, second.device, total.device) == ("/job:ps/task:0", "/job:ps/task:1", "/job:worker/task:0")
    assert list(estimator.config.session_config.device_filters) == ["/job:ps", "/job:worker/task:0"]
    assert estimator.config.session_config.allow_soft_placement
    given = tf.ConfigProto(log_device_placement=True)
    assert tf.estimator.RunConfig(session_config=given).session_config is given
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "ps", "index": 1}}))
    assert list(tf.estimator.RunConfig().session_config.device_filters) == ["/job:ps", "/job:worker", "/job:chief",
                                                                              "/job:master"]
    monkeypatch.delenv("TF_CONFIG")
    local = tf.estimator.Estimator(lambda features, labels, mode: None, model_dir="/tmp/unused")
    assert local._device_fn is None


def test_an_unknown_task_type_is_refused_before_anything_runs(monkeypatch: Any, tmp_path: Any) -> None:
    cluster = {"chief": ["127.0.0.1:1"], "worker": ["127.0.0.1:2"], "trainer": ["127.0.0.1:3"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster, "task": {"type": "trainer", "index": 0}}))
    estimator = tf.estimator.Estimator(lambda features, labels, mode: None, model_dir=str(tmp_path))
    spec = tf.estimator.TrainSpec(lambda: ({"x": tf.constant([1.0])}, tf.constant([1])), max_steps=1)
    eval_spec = tf.estimator.EvalSpec(lambda: ({"x": tf.constant([1.0])}, tf.constant([1])))
    with pytest.raises(ValueError, match=r"^Task type trainer is not supported\. Supported task types are "
                                         r"\['chief', 'evaluator', 'master', 'ps', 'worker'\]$"):
        tf.estimator.train_and_evaluate(estimator, spec, eval_spec)
    assert list(tmp_path.iterdir()) == []
