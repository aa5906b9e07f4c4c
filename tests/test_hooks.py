"""The stock session hooks (tf.train.*Hook), SecondOrStepTimer and the global step read the hooks use.

Whole-loop behaviour is compared with TensorFlow 2.21's through the scenarios of
tests/fixtures/monitored_scenarios.py (recorded in tests/fixtures/monitored_session/).
"""
from __future__ import annotations

import glob
import importlib.util
import json
import logging
import os
import sys
import threading
import time
from typing import Any

import pytest

import caudal as tf
from caudal.train import basic_session_run_hooks as hooks_lib
from caudal.train.training_util import _get_or_create_global_step_read

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def _scenarios() -> Any:
    spec = importlib.util.spec_from_file_location("monitored_scenarios",
                                                  os.path.join(FIXTURES, "monitored_scenarios.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["monitored_scenarios"] = module
    spec.loader.exec_module(module)
    return module


scenarios = _scenarios()


@pytest.fixture(autouse=True)
def closed_writers():
    yield
    tf.summary.FileWriterCache.clear()


@pytest.mark.parametrize("name", ["listeners_and_stock_hooks", "nan_loss"])
def test_scenario_observes_what_tensorflow_does(name: str, tmp_path: Any) -> None:
    got = json.loads(json.dumps(scenarios.SCENARIOS[name](tf, "caudal", str(tmp_path))))
    with open(os.path.join(FIXTURES, "monitored_session", f"{name}.json")) as f:
        assert got == json.load(f)


def test_nan_loss_error_is_tensorflows() -> None:
    assert issubclass(tf.train.NanLossDuringTrainingError, RuntimeError)
    assert str(tf.train.NanLossDuringTrainingError()) == "NaN loss during training."


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: Any) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(hooks_lib, "time", fake)
    return fake


def test_second_or_step_timer_by_steps_and_by_seconds(clock: FakeClock) -> None:
    timer = tf.train.SecondOrStepTimer(every_steps=3)
    assert timer.should_trigger_for_step(5) and timer.last_triggered_step() is None
    assert timer.update_last_triggered_step(5) == (None, None)
    assert [s for s in range(5, 12) if timer.should_trigger_for_step(s)] == [8, 9, 10, 11]
    clock.now += 2.5
    assert timer.update_last_triggered_step(8) == (2.5, 3)
    by_time = tf.train.SecondOrStepTimer(every_secs=10)
    by_time.update_last_triggered_step(0)
    assert not by_time.should_trigger_for_step(100)
    clock.now += 10
    assert by_time.should_trigger_for_step(1) and not by_time.should_trigger_for_step(0)
    by_time.reset()
    assert by_time.last_triggered_step() is None and by_time.should_trigger_for_step(0)


def model() -> tuple[Any, Any, Any]:
    x = tf.get_variable("x", [], initializer=tf.ones_initializer())
    step = tf.train.get_or_create_global_step()
    loss = tf.square(x, name="loss")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    return step, loss, train


def test_global_step_read_gives_the_step_from_before_the_run() -> None:
    step, _, train = model()
    read = _get_or_create_global_step_read()
    assert read.name == "global_step/add:0" and _get_or_create_global_step_read() is read
    assert tf.get_collection("global_step_read_op_cache") == [read]
    increment = [op for op in step.op.outputs[0].consumers() if op.type == "AssignAdd"][0]
    assert read.op in increment.control_inputs
    with tf.Session() as sess:
        assert sess.run(read) == 0  # the initial value while the step is uninitialized
        sess.run(tf.global_variables_initializer())
        assert [tuple(int(v) for v in sess.run([read, step, train])[:2]) for _ in range(3)] == [(0, 1), (1, 2), (2, 3)]


def test_global_step_read_is_none_without_a_global_step() -> None:
    assert _get_or_create_global_step_read() is None


def test_step_counter_hook_writes_steps_per_second(tmp_path: Any) -> None:
    _, _, train = model()
    writer = tf.summary.FileWriter(str(tmp_path))
    hook = tf.train.StepCounterHook(every_n_steps=4, summary_writer=writer)
    with tf.train.MonitoredSession(hooks=[hook, tf.train.StopAtStepHook(last_step=13)]) as sess:
        while not sess.should_stop():
            sess.run(train)
    writer.close()
    found = [(event.step, value.tag, value.simple_value)
             for path in glob.glob(os.path.join(str(tmp_path), "events.*"))
             for event in tf.train.summary_iterator(path) for value in event.summary.value]
    assert [(s, tag) for s, tag, _ in found] == [(5, "global_step/sec"), (9, "global_step/sec"),
                                                (13, "global_step/sec")]
    assert all(rate > 0 for _, _, rate in found)


def test_step_counter_hook_every_n_secs(clock: FakeClock, tmp_path: Any, caplog: Any) -> None:
    _, _, train = model()
    hook = tf.train.StepCounterHook(every_n_steps=None, every_n_secs=5)
    with caplog.at_level(logging.INFO, logger="caudal"):
        with tf.train.MonitoredSession(hooks=[hook]) as sess:
            for _ in range(4):  # steps 1..4 at 1000, 1002, 1004, 1006 s: triggers at steps 1 and 4
                sess.run(train)
                clock.now += 2
    assert [r.getMessage() for r in caplog.records if "/sec" in r.getMessage()] == ["global_step/sec: 0.5"]


def test_logging_tensor_hook_every_n_secs_and_at_end(clock: FakeClock, caplog: Any) -> None:
    step, loss, train = model()
    every_5s = tf.train.LoggingTensorHook({"step": step}, every_n_secs=5)
    at_end = tf.train.LoggingTensorHook([loss], at_end=True)
    with caplog.at_level(logging.INFO, logger="caudal"):
        with tf.train.MonitoredSession(hooks=[every_5s, at_end]) as sess:
            for _ in range(4):
                sess.run(train)
                clock.now += 3
    messages = [r.getMessage() for r in caplog.records if r.name == "caudal" and " = " in r.getMessage()]
    # A list of tensors is logged under the tensors' own str(), as TF does.
    assert messages == ["step = 1", "step = 3 (6.000 sec)", 'Tensor("loss:0", shape=(), dtype=float32) = 0.16777213']


def test_summary_saver_hook_with_summary_op_list(tmp_path: Any) -> None:
    _, loss, train = model()
    first = tf.summary.scalar("first", loss)
    second = tf.summary.scalar("second", loss * 2.0)
    writer = tf.summary.FileWriter(str(tmp_path))
    hook = tf.train.SummarySaverHook(save_steps=2, summary_writer=writer, summary_op=[first, second])
    with tf.train.MonitoredSession(hooks=[hook, tf.train.StopAtStepHook(last_step=5)]) as sess:
        while not sess.should_stop():
            sess.run(train)
    writer.close()
    summaries = [(event.step, [v.tag for v in event.summary.value])
                 for path in glob.glob(os.path.join(str(tmp_path), "events.*"))
                 for event in tf.train.summary_iterator(path) if event.HasField("summary")]
    assert summaries == [(1, ["first"]), (1, ["second"]), (3, ["first"]), (3, ["second"]),
                         (5, ["first"]), (5, ["second"])]


def test_checkpoint_saver_hook_by_seconds_and_saver_errors(clock: FakeClock, tmp_path: Any) -> None:
    _, _, train = model()
    hook = tf.train.CheckpointSaverHook(str(tmp_path), save_secs=10)
    hook.begin()
    with tf.Session() as raw, pytest.raises(RuntimeError) as info:
        hook.after_create_session(raw, None)
    assert str(info.value) == ("No items in collection savers. Please add a saver to the collection or provide a "
                               "saver or scaffold.")
    saver = tf.train.Saver(max_to_keep=10)
    tf.add_to_collection(tf.GraphKeys.SAVERS, saver)
    tf.add_to_collection(tf.GraphKeys.SAVERS, saver)
    with tf.Session() as raw, pytest.raises(RuntimeError) as info:
        hook.after_create_session(raw, None)
    assert str(info.value) == ("More than one item in collection savers. Please indicate which one to use by passing "
                               "it to the constructor.")
    tf.get_default_graph().clear_collection(tf.GraphKeys.SAVERS)
    directory = str(tmp_path / "by_seconds")
    hook = tf.train.CheckpointSaverHook(directory, save_secs=10, saver=saver, checkpoint_basename="m.ckpt",
                                        save_graph_def=False)
    with tf.train.MonitoredSession(hooks=[hook]) as sess:
        for _ in range(6):
            sess.run(train)
            clock.now += 4
    # Saved when created (t=1000), at the first step ending 10 s later (step 4 at t=1012) and at the end.
    assert [os.path.basename(p) for p in saver.last_checkpoints] == ["m.ckpt-0", "m.ckpt-4", "m.ckpt-6"]
    assert not os.path.exists(os.path.join(directory, "graph.pbtxt"))
    assert not glob.glob(os.path.join(directory, "*.meta"))


def test_global_step_waiter_hook_waits_for_another_worker() -> None:
    step, _, train = model()
    jump = tf.assign(step, 5)

    class OtherWorker(tf.train.SessionRunHook):
        def after_create_session(self, session: Any, coord: Any) -> None:
            def later() -> None:
                time.sleep(0.3)
                session.run(jump)

            threading.Thread(target=later).start()

    with tf.train.MonitoredSession(hooks=[OtherWorker(), tf.train.GlobalStepWaiterHook(4)]) as sess:
        start = time.time()
        sess.run(train)
        waited = time.time() - start
        assert sess.run(step) == 6
    assert waited >= 0.3


def test_final_ops_hook_warns_and_reraises_out_of_range(caplog: Any) -> None:
    class ExhaustedSession:
        def run(self, fetches: Any, feed_dict: Any = None) -> Any:
            raise tf.errors.OutOfRangeError(None, None, "End of sequence")

    final = tf.train.FinalOpsHook(tf.constant(1.0), final_ops_feed_dict=None)
    with caplog.at_level(logging.WARNING, logger="caudal"), pytest.raises(tf.errors.OutOfRangeError):
        final.end(ExhaustedSession())
    assert "An OutOfRangeError or StopIteration exception is raised by the code in FinalOpsHook" in caplog.text
    assert final.final_ops_values is None


def test_feed_fn_hook_and_hook_fetch_structures() -> None:
    a = tf.placeholder(tf.float32, [], name="a")
    doubled = a * 2.0
    seen = []

    class Fetcher(tf.train.SessionRunHook):
        def before_run(self, run_context: Any) -> Any:
            return tf.train.SessionRunArgs({"pair": [a, doubled], "name": "a:0"})

        def after_run(self, run_context: Any, run_values: Any) -> None:
            seen.append((run_values.results["pair"][0], run_values.results["pair"][1], run_values.results["name"]))

    feeds = iter([1.0, 2.0])
    with tf.train.MonitoredSession(hooks=[tf.train.FeedFnHook(lambda: {a: next(feeds)}), Fetcher()]) as sess:
        assert sess.run(doubled) == 2.0
        assert sess.run({"x": doubled}) == {"x": 4.0}
    assert seen == [(1.0, 2.0, 1.0), (2.0, 4.0, 2.0)]


def test_session_run_args_and_values_are_tfs_namedtuples() -> None:
    args = tf.train.SessionRunArgs("f")
    assert args == ("f", None, None) and args._fields == ("fetches", "feed_dict", "options")
    assert tf.train.SessionRunValues(1, 2, 3).run_metadata == 3
    context = tf.train.SessionRunContext(original_args=args, session="s")
    assert (context.original_args, context.session, context.stop_requested) == (args, "s", False)
    context.request_stop()
    assert context.stop_requested
    hook = tf.train.SessionRunHook()
    assert hook.before_run(context) is None and hook.begin() is None and hook.end(None) is None
    assert tf.train.SummaryWriterCache is tf.summary.FileWriterCache


def test_global_step_read_collection_must_hold_one_tensor() -> None:
    model()
    tf.add_to_collection("global_step_read_op_cache", tf.constant(1))
    tf.add_to_collection("global_step_read_op_cache", tf.constant(2))
    with pytest.raises(RuntimeError, match="^There are multiple items in collection global_step_read_op_cache. "
                                           "There should be only one.$"):
        _get_or_create_global_step_read()


def test_session_creator_must_implement_create_session() -> None:
    creator = tf.train.SessionCreator()
    with pytest.raises(NotImplementedError, match="^create_session is not implemented for "):
        creator.create_session()
