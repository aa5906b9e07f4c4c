"""MonitoredTrainingSession, MonitoredSession, Scaffold and SessionManager.

The scenarios of tests/fixtures/monitored_scenarios.py ran under TensorFlow 2.21
(tests/fixtures/make_monitored_session_fixtures.py wrote what they observed to
tests/fixtures/monitored_session/); here caudal runs the same programs and must
observe the same: files, event steps and tags, hook calls, log lines, errors.
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import numpy as np
import pytest

import caudal as tf
from caudal.train import session_manager as session_manager_lib

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _scenarios() -> Any:
    spec = importlib.util.spec_from_file_location("monitored_scenarios",
                                                  os.path.join(FIXTURES, "monitored_scenarios.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["monitored_scenarios"] = module
    spec.loader.exec_module(module)
    return module


scenarios = _scenarios()


def run_scenario(name: str, workdir: str) -> tuple[dict, dict]:
    """(what caudal observed, what TensorFlow observed) for one scenario."""
    got = json.loads(json.dumps(scenarios.SCENARIOS[name](tf, "caudal", workdir)))
    with open(os.path.join(FIXTURES, "monitored_session", f"{name}.json")) as f:
        return got, json.load(f)


@pytest.fixture(autouse=True)
def closed_writers():
    yield
    tf.summary.FileWriterCache.clear()


@pytest.mark.parametrize("name", ["train_and_resume", "defaults", "save_options", "hook_calls", "step_fn"])
def test_scenario_observes_what_tensorflow_does(name: str, tmp_path: Any) -> None:
    got, want = run_scenario(name, str(tmp_path))
    assert got == want


def test_bad_inputs_raise_tensorflows_errors(tmp_path: Any) -> None:
    got, want = run_scenario("bad_inputs", str(tmp_path))
    other_graph = got.pop("logging_other_graph")
    expected = want.pop("logging_other_graph")
    assert other_graph[0] == expected[0] == "ValueError"
    assert other_graph[1].split(" current graph ")[0] == expected[1].split(" current graph ")[0]
    assert re.fullmatch(r".*current graph <caudal\.Graph with \d+ ops at <addr>>\.", other_graph[1])
    assert got == want


def test_resume_continues_from_the_saved_step_and_values(tmp_path: Any) -> None:
    got, _ = run_scenario("train_and_resume", str(tmp_path))
    assert got["runs"] == 25 and got["resumed_at"] == [25] and got["resumed_runs"] == 5
    assert got["resumed_x"] == pytest.approx(0.8 ** 30, abs=1e-5)  # 30 steps of x <- 0.8 x (lr 0.1 on x^2)


def build_regression(seed: int = 0) -> tuple[Any, Any, Any, Any]:
    """y = 3x + 2 learned by SGD, as the TF1 tutorials write it."""
    rng = np.random.RandomState(seed)
    xs = rng.uniform(-1, 1, size=(64, 1)).astype(np.float32)
    x = tf.constant(xs)
    y = 3.0 * x + 2.0
    w = tf.get_variable("w", [1, 1], initializer=tf.zeros_initializer())
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    loss = tf.reduce_mean(tf.square(tf.matmul(x, w) + b - y))
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.5).minimize(loss, global_step=step)
    return loss, train, w, b


def test_documented_training_loop_trains_and_stops_at_last_step(tmp_path: Any) -> None:
    loss, train, w, b = build_regression()
    hooks = [tf.train.StopAtStepHook(last_step=200), tf.train.NanTensorHook(loss)]
    runs = 0
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), hooks=hooks) as sess:
        while not sess.should_stop():
            _, loss_value = sess.run([train, loss])
            runs += 1
    assert runs == 200 and loss_value < 1e-4
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-200")
    assert tf.train.load_variable(str(tmp_path), "w")[0, 0] == pytest.approx(3.0, abs=1e-2)
    assert tf.train.load_variable(str(tmp_path), "global_step") == 200


def test_monitored_session_graph_property_and_already_finalized_graph() -> None:
    step = tf.train.get_or_create_global_step()
    increment = tf.assign_add(step, 1)
    graph = tf.get_default_graph()
    scaffold = tf.train.Scaffold().finalize()
    session = tf.train.MonitoredSession(tf.train.ChiefSessionCreator(scaffold=scaffold))
    assert session.graph is graph and session.run(increment) == 1
    session.close()
    assert session.graph is None
    assert graph.finalized  # it was finalized before the session: it stays so


def test_session_is_recreated_after_aborted_error(tmp_path: Any) -> None:
    step = tf.train.get_or_create_global_step()
    increment = tf.assign_add(step, 1)
    created = []

    class AbortOnce(tf.train.SessionRunHook):
        def __init__(self) -> None:
            self.aborted = False

        def after_create_session(self, session: Any, coord: Any) -> None:
            created.append(int(session.run(step)))

        def after_run(self, run_context: Any, run_values: Any) -> None:
            if not self.aborted and run_context.session.run(step) == 3:
                self.aborted = True
                raise tf.errors.AbortedError(None, None, "preempted")

    hooks = [AbortOnce()]
    with tf.train.MonitoredTrainingSession(checkpoint_dir=str(tmp_path), hooks=hooks, save_checkpoint_steps=2,
                                           save_summaries_steps=None, log_step_count_steps=None) as sess:
        values = [int(sess.run(increment)) for _ in range(4)]
    # The run reaching step 3 was lost; the new session restored the checkpoint at step 2.
    assert created == [0, 2]
    assert values == [1, 2, 3, 4]


def test_singular_monitored_session_does_not_recover() -> None:
    step = tf.train.get_or_create_global_step()

    class Abort(tf.train.SessionRunHook):
        def before_run(self, run_context: Any) -> None:
            raise tf.errors.UnavailableError(None, None, "worker lost")

    with pytest.raises(tf.errors.UnavailableError, match="worker lost"):
        with tf.train.SingularMonitoredSession(hooks=[Abort()]) as sess:
            sess.run(step)


def test_error_reported_to_the_coordinator_is_raised_on_close() -> None:
    step = tf.train.get_or_create_global_step()

    class Reporter(tf.train.SessionRunHook):
        def after_create_session(self, session: Any, coord: Any) -> None:
            self.coord = coord

        def after_run(self, run_context: Any, run_values: Any) -> None:
            self.coord.request_stop(ValueError("input thread failed"))

    session = tf.train.MonitoredSession(hooks=[Reporter()])
    session.run(step)
    assert session.should_stop()
    with pytest.raises(ValueError, match="input thread failed"):
        session.close()


def test_hook_run_options_are_merged_and_seen_by_every_hook() -> None:
    value = tf.constant(1.0)
    seen = []

    class Tracer(tf.train.SessionRunHook):
        def before_run(self, run_context: Any) -> Any:
            return tf.train.SessionRunArgs(None, options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE,
                                                                       timeout_in_ms=50))

    class Watcher(tf.train.SessionRunHook):
        def after_run(self, run_context: Any, run_values: Any) -> None:
            seen.append((run_values.options.trace_level, run_values.options.timeout_in_ms,
                         type(run_values.run_metadata).__name__))

    with tf.train.MonitoredSession(hooks=[Tracer(), Watcher()]) as sess:
        assert sess.run(value, options=tf.RunOptions(timeout_in_ms=100)) == 1.0
    assert seen == [(tf.RunOptions.FULL_TRACE, 100, "RunMetadata")]


def test_worker_gets_only_its_hooks_and_waits_for_a_ready_model() -> None:
    total = tf.constant(2.0) * 3.0
    calls = []

    class Hook(tf.train.SessionRunHook):
        def __init__(self, name: str) -> None:
            self.name = name

        def begin(self) -> None:
            calls.append(self.name)

    with tf.train.MonitoredTrainingSession(is_chief=False, hooks=[Hook("worker")],
                                           chief_only_hooks=[Hook("chief")]) as sess:
        assert sess.run(total) == 6.0
    assert calls == ["worker"]


# ----------------------------------------------------------------- Scaffold
def test_scaffold_builds_the_default_ops_and_collects_them() -> None:
    tf.get_variable("v", [2], initializer=tf.ones_initializer())
    tf.Variable(0, name="local", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    tf.summary.scalar("s", tf.constant(1.0))
    scaffold = tf.train.Scaffold().finalize()
    graph = tf.get_default_graph()
    assert graph.finalized
    for key, value in ((tf.GraphKeys.INIT_OP, scaffold.init_op), (tf.GraphKeys.READY_OP, scaffold.ready_op),
                       (tf.GraphKeys.READY_FOR_LOCAL_INIT_OP, scaffold.ready_for_local_init_op),
                       (tf.GraphKeys.LOCAL_INIT_OP, scaffold.local_init_op),
                       (tf.GraphKeys.SUMMARY_OP, scaffold.summary_op), (tf.GraphKeys.SAVERS, scaffold.saver)):
        assert graph.get_collection(key) == [value]
    assert scaffold.saver.saver_def.sharded
    with tf.Session() as sess:
        assert sorted(sess.run(scaffold.ready_op)) == [b"local", b"v"]
        assert list(sess.run(scaffold.ready_for_local_init_op)) == [b"v"]
        sess.run(scaffold.init_op)
        assert list(sess.run(scaffold.ready_op)) == [b"local"]
        sess.run(scaffold.local_init_op)
        assert sess.run(scaffold.ready_op).size == 0
    with pytest.raises(RuntimeError, match="^Graph is finalized and cannot be modified.$"):
        tf.constant(1.0)
    assert "init_all_tables" in [op.name for op in graph.get_operations()]


def test_scaffold_takes_ops_from_collections_and_from_another_scaffold() -> None:
    v = tf.get_variable("v", [], initializer=tf.zeros_initializer())
    custom_init = tf.assign(v, 5.0).op
    tf.add_to_collection(tf.GraphKeys.INIT_OP, custom_init)
    base = tf.train.Scaffold(init_feed_dict={"a": 1}, local_init_feed_dict={"b": 2})
    copy = tf.train.Scaffold(copy_from_scaffold=base, summary_op=tf.constant(b"", name="no_summary"))
    copy.finalize()
    assert copy.init_op is custom_init and copy.init_feed_dict == {"a": 1} and copy.local_init_feed_dict == {"b": 2}
    assert copy.summary_op.name == "no_summary:0"
    assert tf.train.Scaffold.get_or_default("init_op", tf.GraphKeys.INIT_OP, lambda: None) is custom_init


def test_init_fn_and_init_feed_dict_run_only_when_not_restored(tmp_path: Any) -> None:
    start = tf.placeholder(tf.float32, [], name="start")
    v = tf.get_variable("v", [], initializer=tf.zeros_initializer())
    step = tf.train.get_or_create_global_step()
    init = tf.group(tf.global_variables_initializer(), tf.assign(v, start))
    bump = tf.group(tf.assign_add(v, 1.0), tf.assign_add(step, 1))
    called = []

    def init_fn(scaffold: Any, session: Any) -> None:
        called.append(float(session.run(v)))
        assert isinstance(scaffold, tf.train.Scaffold)

    seen = []
    for _ in range(2):
        scaffold = tf.train.Scaffold(init_op=init, init_feed_dict={start: 7.0}, init_fn=init_fn)
        saver_hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=100, scaffold=scaffold)
        with tf.train.SingularMonitoredSession(hooks=[saver_hook], scaffold=scaffold,
                                               checkpoint_dir=str(tmp_path)) as sess:
            seen.append(float(sess.run(v)))
            sess.run(bump)
    assert called == [7.0]
    assert seen == [7.0, 8.0]  # the second session restored what the first one saved when it ended


# ----------------------------------------------------------- SessionManager
def _model_with_saver() -> tuple[Any, Any, Any]:
    v = tf.get_variable("v", [], initializer=tf.constant_initializer(4.0))
    saver = tf.train.Saver()
    return v, saver, tf.global_variables_initializer()


def test_prepare_session_initializes_or_restores(tmp_path: Any) -> None:
    v, saver, init = _model_with_saver()
    bump = tf.assign_add(v, 1.0)
    manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables())
    sess = manager.prepare_session("", init_op=init, saver=saver, checkpoint_dir=str(tmp_path))
    assert sess.run(bump) == 5.0
    path = saver.save(sess, os.path.join(str(tmp_path), "model"), global_step=3)
    again = manager.prepare_session("", init_op=init, saver=saver, checkpoint_dir=str(tmp_path))
    assert again.run(v) == 5.0 and saver.last_checkpoints == [path]
    by_path = manager.prepare_session("", saver=saver, checkpoint_filename_with_path=path)
    assert by_path.run(v) == 5.0


def test_recover_session_reports_whether_it_restored(tmp_path: Any) -> None:
    v, saver, init = _model_with_saver()
    manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables())
    sess, restored = manager.recover_session("", saver=saver, checkpoint_dir=str(tmp_path))
    assert not restored
    with pytest.raises(tf.errors.FailedPreconditionError):
        sess.run(v)
    sess.run(init)
    saver.save(sess, os.path.join(str(tmp_path), "model"))
    sess, restored = manager.recover_session("", saver=saver, checkpoint_dir=str(tmp_path))
    assert restored and sess.run(v) == 4.0


def test_worker_waits_for_the_chiefs_checkpoint_and_restores_it(tmp_path: Any) -> None:
    """Two sessions in one process share the checkpoint directory: the worker's recover_session waits for
    the chief's first checkpoint (wait_for_checkpoint) and restores it."""
    v, saver, init = _model_with_saver()
    bump = tf.assign_add(v, 10.0)
    manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables(), recovery_wait_secs=0.05)
    result = {}

    def worker() -> None:
        result["session"] = manager.recover_session("", saver=saver, checkpoint_dir=str(tmp_path),
                                                    wait_for_checkpoint=True, max_wait_secs=30)

    thread = threading.Thread(target=worker)
    thread.start()
    time.sleep(0.2)
    assert thread.is_alive()
    chief = manager.prepare_session("", init_op=init, saver=saver, checkpoint_dir=str(tmp_path))
    chief.run(bump)
    saver.save(chief, os.path.join(str(tmp_path), "model"), global_step=1)
    thread.join(30)
    sess, restored = result["session"]
    assert restored and sess.run(v) == 14.0


def test_wait_for_session_returns_once_the_chief_has_initialized(monkeypatch: Any) -> None:
    """A worker polls fresh sessions on the master until the chief has initialized the model there
    (a server's target: its sessions share the variables)."""
    server = tf.train.Server.create_local_server()
    try:
        v, _, init = _model_with_saver()
        made = []
        create = session_manager_lib._create_session

        def counting(master: str, graph: Any, config: Any) -> Any:
            sess = create(master, graph, config)
            made.append(sess)
            return sess

        monkeypatch.setattr(session_manager_lib, "_create_session", counting)
        manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables(), recovery_wait_secs=0.05)
        result = {}
        thread = threading.Thread(target=lambda: result.setdefault(
            "session", manager.wait_for_session(server.target, max_wait_secs=30)))
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive() and len(made) >= 2
        tf.Session(server.target).run(init)
        thread.join(30)
        assert result["session"].run(v) == 4.0
    finally:
        server.stop()


def test_wait_for_session_gives_up_after_max_wait_secs() -> None:
    _model_with_saver()
    manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables(), recovery_wait_secs=0.05)
    start = time.time()
    with pytest.raises(tf.errors.DeadlineExceededError, match="^Session was not ready after waiting 0 secs.$"):
        manager.wait_for_session("", max_wait_secs=0.3)
    assert 0.2 < time.time() - start < 5


def test_local_init_waits_for_ready_for_local_init_op() -> None:
    v, _, init = _model_with_saver()
    local = tf.Variable(0.0, name="local", collections=[tf.GraphKeys.LOCAL_VARIABLES])
    copy = tf.assign(local, v).op
    manager = tf.train.SessionManager(local_init_op=copy, ready_for_local_init_op=tf.report_uninitialized_variables(
        tf.global_variables()), ready_op=tf.report_uninitialized_variables())
    with pytest.raises(RuntimeError) as info:
        manager.prepare_session("", init_op=tf.no_op(name="nothing"))
    assert str(info.value) == ("Init operations did not make model ready for local_init.  Init op: nothing, init fn: "
                               "None, error: Variables not initialized: v")
    sess = manager.prepare_session("", init_op=init)
    assert sess.run(local) == 4.0


# -------------------------------------------------------- a killed trainer
TRAINER = textwrap.dedent("""
    import sys, time
    import caudal as tf

    x = tf.get_variable("x", [], initializer=tf.ones_initializer())
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.01).minimize(tf.square(x), global_step=step)

    class Slow(tf.train.SessionRunHook):
        def after_run(self, run_context, run_values):
            time.sleep(0.01)

    with tf.train.MonitoredTrainingSession(checkpoint_dir=sys.argv[1], save_checkpoint_steps=7,
                                           save_summaries_steps=None, log_step_count_steps=None,
                                           hooks=[Slow()]) as sess:
        while not sess.should_stop():
            sess.run(train)
""")


def test_training_killed_between_checkpoints_resumes_from_the_last_one(tmp_path: Any) -> None:
    script = tmp_path / "trainer.py"
    script.write_text(TRAINER)
    checkpoint_dir = str(tmp_path / "run")
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    process = subprocess.Popen([sys.executable, str(script), checkpoint_dir], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        latest = None
        while time.time() < deadline and process.poll() is None:
            latest = tf.train.latest_checkpoint(checkpoint_dir)
            if latest and int(latest.rsplit("-", 1)[1]) >= 21:
                break
            time.sleep(0.05)
        assert process.poll() is None, process.stderr.read().decode()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    latest = tf.train.latest_checkpoint(checkpoint_dir)
    saved_step = int(latest.rsplit("-", 1)[1])
    assert saved_step >= 21 and saved_step % 7 == 0
    saved_x = tf.train.load_variable(latest, "x")
    assert saved_x == pytest.approx(0.98 ** saved_step, rel=1e-4)

    x = tf.get_variable("x", [], initializer=tf.ones_initializer())
    step = tf.train.get_or_create_global_step()
    train = tf.train.GradientDescentOptimizer(0.01).minimize(tf.square(x), global_step=step)
    final = tf.train.FinalOpsHook({"x": x, "step": step})
    first = []

    class FirstStep(tf.train.SessionRunHook):
        def after_create_session(self, session: Any, coord: Any) -> None:
            first.append((int(session.run(step)), float(session.run(x))))

    with tf.train.MonitoredTrainingSession(checkpoint_dir=checkpoint_dir, save_summaries_steps=None,
                                           log_step_count_steps=None,
                                           hooks=[tf.train.StopAtStepHook(num_steps=3), FirstStep(), final]) as sess:
        while not sess.should_stop():
            sess.run(train)
    assert first == [(saved_step, pytest.approx(saved_x))]
    assert final.final_ops_values["step"] == saved_step + 3
