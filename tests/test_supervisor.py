"""tf.train.Supervisor (TF1's older training loop) and tf.train.Coordinator / LooperThread."""
from __future__ import annotations

import glob
import os
import threading
import time
from typing import Any

import pytest

import caudal as tf


def model() -> tuple[Any, Any, Any]:
    x = tf.get_variable("x", [], initializer=tf.ones_initializer())
    step = tf.train.get_or_create_global_step()
    loss = tf.square(x, name="loss")
    tf.summary.scalar("loss_summary", loss)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    return step, loss, train


def events(directory: str) -> list[tuple[int, str, Any]]:
    found = []
    for path in sorted(glob.glob(os.path.join(directory, "events.out.tfevents.*"))):
        for event in tf.train.summary_iterator(path):
            kind = event.WhichOneof("what")
            detail: Any = None
            if kind == "summary":
                detail = tuple(v.tag for v in event.summary.value)
            elif kind == "session_log":
                detail = event.session_log.status
            found.append((event.step, kind, detail))
    return found


def test_managed_session_trains_saves_and_stops_its_threads(tmp_path: Any, monkeypatch: Any) -> None:
    from caudal.train import supervisor

    ran: list[str] = []  # each service runs once as soon as it starts, then every hour here
    for service in (supervisor.SVSummaryThread, supervisor.SVStepCounterThread, supervisor.SVTimerCheckpointThread):
        def run_loop(self: Any, original: Any = service.run_loop) -> None:
            original(self)
            ran.append(type(self).__name__)

        monkeypatch.setattr(service, "run_loop", run_loop)
    step, loss, train = model()
    logdir = str(tmp_path)
    sv = tf.train.Supervisor(logdir=logdir, save_model_secs=3600, save_summaries_secs=3600)
    assert tf.get_default_graph().finalized and sv.global_step is step and sv.is_chief
    assert sv.save_path == os.path.join(logdir, "model.ckpt") and sv.summary_op is not None
    services = []
    with sv.managed_session() as sess:
        services = [t for t in threading.enumerate() if isinstance(t, tf.train.LooperThread)]
        assert len(services) == 3
        for _ in range(10):
            if sv.should_stop():
                break
            sess.run(train)
        final_step = sess.run(step)
        deadline = time.monotonic() + 30  # a loaded machine may not have scheduled them yet
        while len(set(ran)) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(set(ran)) == 3
    assert final_step == 10
    assert not any(t.is_alive() for t in services)
    assert os.path.exists(os.path.join(logdir, "graph.pbtxt"))
    # The checkpoint thread saved once, as soon as it started (before or during the loop).
    saved = int(tf.train.latest_checkpoint(logdir).rsplit("-", 1)[1])
    assert 0 <= saved <= 10
    found = events(logdir)
    kinds = [kind for _, kind, _ in found]
    assert kinds[:3] == ["file_version", "graph_def", "meta_graph_def"]
    assert (0, "session_log", tf.SessionLog.START) in found
    assert found[-1][1:] == ("session_log", tf.SessionLog.STOP)
    assert any(kind == "summary" and detail == ("loss_summary",) for _, kind, detail in found)
    assert any(kind == "summary" and detail == ("global_step/sec",) for _, kind, detail in found)
    assert any(kind == "session_log" and detail == tf.SessionLog.CHECKPOINT for _, kind, detail in found)


def test_second_supervisor_restores_from_logdir(tmp_path: Any) -> None:
    logdir = str(tmp_path)
    with tf.Graph().as_default():
        step, _, train = model()
        sv = tf.train.Supervisor(logdir=logdir, save_model_secs=0, save_summaries_secs=0)
        with sv.managed_session() as sess:
            for _ in range(4):
                sess.run(train)
            sv.saver.save(sess, sv.save_path, global_step=step)
    with tf.Graph().as_default():
        step, _, train = model()
        sv = tf.train.Supervisor(logdir=logdir, save_model_secs=0, save_summaries_secs=0)
        with sv.managed_session() as sess:
            assert sess.run(step) == 4
            assert sess.run(tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)[0]) == pytest.approx(0.8 ** 4)


def test_managed_session_swallows_out_of_range_and_reraises_other_errors(tmp_path: Any) -> None:
    model()
    sv = tf.train.Supervisor(logdir=str(tmp_path), save_model_secs=0, save_summaries_secs=0)
    with sv.managed_session():
        raise tf.errors.OutOfRangeError(None, None, "input exhausted")
    assert sv.should_stop()
    with pytest.raises(ValueError, match="broken step"):
        with sv.managed_session():
            raise ValueError("broken step")


def test_loop_calls_its_target_until_stop(tmp_path: Any) -> None:
    model()
    sv = tf.train.Supervisor(logdir=str(tmp_path), save_model_secs=0, save_summaries_secs=0)
    calls = []
    with sv.managed_session():
        looper = sv.loop(0.01, calls.append, args=(1,))
        time.sleep(0.2)
    assert not looper.is_alive() and len(calls) >= 3


def test_summary_computed_writes_at_the_current_step(tmp_path: Any) -> None:
    step, loss, train = model()
    summary = tf.summary.scalar("manual", loss)
    sv = tf.train.Supervisor(logdir=str(tmp_path), save_model_secs=0, save_summaries_secs=0, summary_op=None)
    with sv.managed_session() as sess:
        sess.run(train)
        sv.summary_computed(sess, sess.run(summary))
    assert (1, "summary", ("manual",)) in events(str(tmp_path))


def test_worker_supervisor_needs_variables_on_devices() -> None:
    model()
    with pytest.raises(ValueError) as info:
        tf.train.Supervisor(is_chief=False)
    assert str(info.value).startswith("When using replicas, all Variables must have their device set: ")


def test_supervisor_without_logdir_runs_no_services() -> None:
    step, _, train = model()
    sv = tf.train.Supervisor(logdir=None)
    assert sv.summary_writer is None and sv.save_path is None
    with sv.managed_session() as sess:
        sess.run(train)
        assert sess.run(step) == 1


# -------------------------------------------------------------- Coordinator
def test_coordinator_join_raises_the_reported_exception() -> None:
    coord = tf.train.Coordinator()

    def worker() -> None:
        with coord.stop_on_exception():
            raise ValueError("worker failed")

    threads = [threading.Thread(target=worker)]
    threads[0].start()
    assert coord.wait_for_stop(10)
    with pytest.raises(ValueError, match="worker failed"):
        coord.join(threads)
    assert coord.joined
    coord.clear_stop()
    assert not coord.should_stop() and not coord.joined


def test_coordinator_clean_stop_and_stragglers() -> None:
    coord = tf.train.Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "done"))
    coord.raise_requested_exception()  # OutOfRangeError is a clean stop: nothing kept
    coord.join([])
    blocker = threading.Event()
    coord = tf.train.Coordinator()
    straggler = threading.Thread(target=blocker.wait, name="straggler")
    straggler.start()
    coord.request_stop()
    with pytest.raises(RuntimeError, match="^Coordinator stopped with threads still running: straggler$"):
        coord.join([straggler], stop_grace_period_secs=0.05)
    coord.clear_stop()
    coord.request_stop()
    coord.join([straggler], stop_grace_period_secs=0.01, ignore_live_threads=True)
    blocker.set()
    straggler.join()


def test_looper_thread_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="^'coord' argument must be a Coordinator: None$"):
        tf.train.LooperThread(None, 1)
    with pytest.raises(ValueError, match="^'args' and 'kwargs' argument require that you also pass 'target'$"):
        tf.train.LooperThread(tf.train.Coordinator(), 1, args=(1,))
    coord = tf.train.Coordinator()
    calls = []
    looper = tf.train.LooperThread.loop(coord, None, lambda: (calls.append(1), coord.request_stop()))
    coord.join([looper])
    assert calls == [1]


def test_coordinator_raises_an_error_reported_after_join() -> None:
    coord = tf.train.Coordinator()
    coord.request_stop()
    coord.join([])
    with pytest.raises(KeyError, match="late"):
        coord.request_stop((KeyError, KeyError("late"), None))
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "clean"))  # a clean stop is not raised
