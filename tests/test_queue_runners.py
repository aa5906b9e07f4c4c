"""tf.train.QueueRunner and start_queue_runners: threads that fill queues, stop with the Coordinator,
report failures to it, close their queue when their input ends, and end when the Session closes;
no thread or open file is left behind by sessions that ran a pipeline."""
from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

import caudal as tf
from caudal.ops.queue_ops import FIFOQueue
from caudal.ops.reader_ops import TextLineReader
from caudal.train.coordinator import Coordinator
from caudal.train.input import batch, string_input_producer
from caudal.train.queue_runner import QueueRunner, add_queue_runner, start_queue_runners


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def test_threads_fill_the_queue_until_the_coordinator_stops():
    q = FIFOQueue(10, tf.int32, shapes=[[]])
    counter = tf.Variable(0)
    enqueue = q.enqueue([tf.assign_add(counter, 1)])
    runner = QueueRunner(q, [enqueue] * 2)
    add_queue_runner(runner)
    with tf.Session() as sess:
        sess.run(counter.initializer)
        coord = Coordinator()
        threads = start_queue_runners(sess, coord)
        assert len(threads) == 3  # two enqueue threads and the one that closes the queue on stop
        assert runner.create_threads(sess, coord) == []  # still running for this session
        taken = sess.run(q.dequeue_many(20))
        coord.request_stop()
        coord.join(threads, stop_grace_period_secs=5)
        assert sorted(taken.tolist()) == list(range(1, 21))
        assert all(not t.is_alive() for t in threads)
        assert sess.run(q.is_closed())  # the stop closed the queue, cancelling the blocked enqueues


def test_the_last_thread_to_see_its_input_end_closes_the_queue():
    source = FIFOQueue(10, tf.int32, shapes=[[]])
    target = FIFOQueue(10, tf.int32, shapes=[[]])
    runner = QueueRunner(target, [target.enqueue([source.dequeue() * 10])] * 2)
    with tf.Session() as sess:
        sess.run(source.enqueue_many([[1, 2, 3]]))
        sess.run(source.close())
        threads = runner.create_threads(sess, start=True)
        for t in threads:
            t.join(5)
        assert sorted(sess.run(target.dequeue_up_to(10)).tolist()) == [10, 20, 30]
        with pytest.raises(tf.errors.OutOfRangeError, match="is closed and has insufficient elements"):
            sess.run(target.dequeue())
        assert runner.exceptions_raised == []


def test_a_failing_enqueue_stops_the_coordinator_and_join_raises_it():
    q = FIFOQueue(10, tf.float32, shapes=[[]])
    x = tf.Variable(3.0)
    checked = tf.check_numerics(tf.log(tf.assign_sub(x, 1.0)), "bad value")  # log(2), log(1), log(0): -inf
    failing = q.enqueue([checked])
    healthy = FIFOQueue(10, tf.float32, shapes=[[]])
    add_queue_runner(QueueRunner(q, [failing]))
    add_queue_runner(QueueRunner(healthy, [healthy.enqueue([1.0])] * 2))
    with tf.Session() as sess:
        sess.run(x.initializer)
        coord = Coordinator()
        threads = start_queue_runners(sess, coord)
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad value"):
            coord.join(threads, stop_grace_period_secs=5)
        assert coord.should_stop()
        assert all(not t.is_alive() for t in threads)


def test_without_a_coordinator_the_error_is_kept_and_raised_in_the_thread(caplog):
    q = FIFOQueue(10, tf.float32, shapes=[[]])
    flag = tf.placeholder_with_default(False, [])
    with tf.control_dependencies([tf.Assert(flag, ["enqueue refused"])]):
        refused = q.enqueue([2.0])
    runner = QueueRunner(q, [refused])
    hook_errors = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: hook_errors.append(args.exc_value)
    try:
        with tf.Session() as sess:
            threads = runner.create_threads(sess, start=True)
            for t in threads:
                t.join(5)
    finally:
        threading.excepthook = old_hook
    assert len(runner.exceptions_raised) == 1
    assert isinstance(runner.exceptions_raised[0], tf.errors.InvalidArgumentError)
    assert hook_errors == runner.exceptions_raised
    assert "Exception in QueueRunner" in caplog.text


def test_threads_end_when_the_session_closes():
    q = FIFOQueue(2, tf.int32, shapes=[[]])
    runner = QueueRunner(q, [q.enqueue([1])] * 3)
    sess = tf.Session()
    errors = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)
    try:
        threads = runner.create_threads(sess, start=True, daemon=True)
        time.sleep(0.05)  # the queue is full: every thread waits in its enqueue
        sess.close()
        for t in threads:
            t.join(5)
    finally:
        threading.excepthook = old_hook
    assert all(not t.is_alive() for t in threads)
    assert errors and all(isinstance(e, tf.errors.CancelledError) for e in errors)


def test_start_queue_runners_checks_its_session():
    FIFOQueue(2, tf.int32)
    with pytest.raises(ValueError, match="Cannot start queue runners: No default session is registered"):
        start_queue_runners()
    with pytest.raises(TypeError, match="sess must be a `tf.Session` object"):
        start_queue_runners(sess=object())

    class MonitoredSession:  # a monitored session starts its own runners
        pass
    assert start_queue_runners(sess=MonitoredSession()) == []


def test_queue_runner_arguments():
    q = FIFOQueue(2, tf.int32)
    with pytest.raises(ValueError, match="Must provide queue and enqueue_ops."):
        QueueRunner(q, [])
    with pytest.raises(TypeError, match="must be a tuple of tf.error types, but saw: <class 'ValueError'>"):
        QueueRunner(q, [tf.no_op()], queue_closed_exception_types=(ValueError,))
    with pytest.raises(NotImplementedError, match="QueueRunnerDef protos are not supported"):
        QueueRunner(queue_runner_def=object())
    runner = QueueRunner(q, [tf.no_op()], queue_closed_exception_types=(tf.errors.OutOfRangeError,
                                                                         tf.errors.CancelledError))
    assert runner.queue_closed_exception_types == (tf.errors.OutOfRangeError, tf.errors.CancelledError)
    assert runner.name == q.name and runner.close_op.type == "QueueCloseV2"
    assert not runner.close_op.get_attr("cancel_pending_enqueues")
    assert runner.cancel_op.get_attr("cancel_pending_enqueues")


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def _run_pipelines(directory, sessions: int) -> None:
    names = []
    for i in range(3):
        path = os.path.join(directory, f"lines{i}.txt")
        with open(path, "w") as f:
            f.write("".join(f"{i} {j}\n" for j in range(50)))
        names.append(path)
    with tf.Graph().as_default():
        files = string_input_producer(names, seed=1)
        _, line = TextLineReader().read(files)
        lines = batch([line], 8, num_threads=2, capacity=16)
        for _ in range(sessions):
            with tf.Session() as sess:
                coord = Coordinator()
                threads = start_queue_runners(sess, coord)
                assert sess.run(lines).shape == (8,)
                coord.request_stop()
                coord.join(threads, stop_grace_period_secs=5)


@pytest.mark.parametrize("sessions", [pytest.param(100, id="100"), pytest.param(1000, id="1000",
                                                                                   marks=pytest.mark.slow)])
def test_no_thread_or_file_is_left_behind(tmp_path, sessions):
    _run_pipelines(tmp_path, 3)  # warm up: plans, lazy imports, logging handlers
    threads, files = threading.active_count(), _open_files()
    _run_pipelines(tmp_path, sessions)
    assert threading.active_count() == threads
    assert _open_files() <= files


def test_batch_dequeues_what_the_threads_enqueue():
    q = string_input_producer(["a", "b"], shuffle=False)
    batched = batch([q.dequeue()], 4)
    with tf.Session() as sess:
        coord = Coordinator()
        threads = start_queue_runners(sess, coord)
        np.testing.assert_array_equal(sess.run(batched), [b"a", b"b", b"a", b"b"])
        coord.request_stop()
        coord.join(threads)
