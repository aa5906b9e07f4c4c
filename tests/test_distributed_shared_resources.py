"""Queues and accumulators with a `shared_name` on a server task are one for every session there, as
TF's resource manager shares them (SyncReplicasOptimizer's gradient accumulators and token queue); and
closing a grpc session cancels its steps still running, as TF's close does."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import caudal as tf
from tests.distributed_cluster import loopback_cluster, server_process


@pytest.fixture(scope="module")
def local_server() -> Iterator[Any]:
    server = tf.train.Server.create_local_server()
    try:
        yield server
    finally:
        server.stop()


def test_shared_queues_and_accumulators_are_the_tasks(local_server: Any) -> None:
    with tf.Graph().as_default():
        shared = tf.FIFOQueue(10, tf.int64, shapes=[], shared_name="tokens", name="shared_q")
        private = tf.FIFOQueue(10, tf.int64, shapes=[], name="private_q")
        accumulator = tf.ConditionalAccumulator(tf.float32, shape=[2], shared_name="w/grad_accum")
        first, second = tf.Session(local_server.target), tf.Session(local_server.target)
        try:
            first.run([shared.enqueue_many([[7, 8]]), private.enqueue(1)])
            first.run(accumulator.apply_grad([1.0, 3.0], local_step=0))
            assert second.run(shared.dequeue()) == 7
            assert second.run(private.size()) == 0  # a queue without shared_name is the session's own
            assert first.run(private.size()) == 1
            second.run(accumulator.apply_grad([3.0, 5.0], local_step=0))
            assert first.run(accumulator.num_accumulated()) == 2
            assert first.run(accumulator.take_grad(2)).tolist() == [2.0, 4.0]
            tf.Session.reset(local_server.target)
        finally:
            first.close()
            second.close()
        with tf.Session(local_server.target) as third:
            assert third.run(shared.size()) == 0  # reset cleared the default container


def test_closing_a_session_cancels_its_running_steps() -> None:
    spec = loopback_cluster(ps=1, worker=1)
    ps = server_process(spec, "ps", 0)
    worker = tf.train.Server(spec, job_name="worker", task_index=0)
    try:
        with tf.Graph().as_default():
            with tf.device("/job:ps/task:0"):
                queue = tf.FIFOQueue(1, tf.float32, shapes=[], shared_name="never_filled")
                value = queue.dequeue()
            doubled = value * 2.0  # on the worker: it waits for the ps's dequeue
            sess = tf.Session(worker.target)
            outcome: list[BaseException] = []

            def run() -> None:
                try:
                    sess.run(doubled)
                except BaseException as e:  # noqa: BLE001 - the test looks at it
                    outcome.append(e)

            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            thread.join(1.0)
            assert thread.is_alive()  # waiting for the dequeue on the ps
            sess.close()
            thread.join(10)
            assert not thread.is_alive()
            assert len(outcome) == 1 and isinstance(outcome[0], tf.errors.CancelledError), outcome
            assert "was cancelled" in str(outcome[0])
    finally:
        worker.stop()
        ps.kill()
