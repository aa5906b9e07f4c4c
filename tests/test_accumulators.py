"""tf.ConditionalAccumulator as Session state: take_grad waits for the gradients of other runs, a failed
run changes nothing, and the checks of bad input (TF's values and messages: test_queue_fixtures.py)."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import caudal as tf
from caudal.ops.accumulator_ops import ConditionalAccumulator
from caudal.ops.queue_ops import FIFOQueue


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def test_take_grad_waits_for_the_gradients_of_other_workers():
    acc = ConditionalAccumulator(tf.float32, shape=[2])
    grad = tf.placeholder(tf.float32, [2])
    step = tf.placeholder(tf.int64, [])
    apply = acc.apply_grad(grad, local_step=step)
    with tf.Session() as sess:
        workers = [threading.Thread(target=sess.run, args=(apply, {grad: [i, 2.0 * i], step: 0}))
                   for i in (1.0, 3.0)]
        for worker in workers:
            worker.start()
        np.testing.assert_allclose(sess.run(acc.take_grad(2)), [2.0, 4.0])
        for worker in workers:
            worker.join(5)
        sess.run(apply, {grad: [9.0, 9.0], step: 0})  # older than the global step (1 after the take)
        assert sess.run(acc.num_accumulated()) == 0


def test_a_failed_run_leaves_the_accumulator_as_it_was():
    acc = ConditionalAccumulator(tf.float64, shape=[])
    flag = tf.placeholder(tf.bool, [])
    with tf.control_dependencies([acc.apply_grad(5.0), acc.set_global_step(7)]):
        failing = tf.Assert(flag, [flag])
    with tf.Session() as sess:
        sess.run(acc.apply_grad(1.0))
        with pytest.raises(tf.errors.InvalidArgumentError, match="assertion failed"):
            sess.run(failing, {flag: False})
        assert sess.run(acc.num_accumulated()) == 1
        sess.run(acc.apply_grad(3.0, local_step=0))  # still accepted: the global step stayed 0
        assert sess.run(acc.take_grad(2)) == 2.0


def test_accumulators_with_one_shared_name_are_one():
    first = ConditionalAccumulator(tf.float32, shared_name="grads")
    second = ConditionalAccumulator(tf.float32, shared_name="grads")
    with tf.Session() as sess:
        sess.run(first.apply_grad([1.0]))
        assert sess.run(second.num_accumulated()) == 1


def test_closing_the_session_cancels_a_waiting_take():
    acc = ConditionalAccumulator(tf.float32, shape=[])
    sess = tf.Session()
    box = []
    thread = threading.Thread(target=lambda: box.append(pytest.raises(tf.errors.CancelledError,
                                                                      sess.run, acc.take_grad(1))))
    thread.start()
    thread.join(0.1)
    sess.close()
    thread.join(5)
    assert box and "TakeGrad operation was cancelled" in str(box[0].value)


def test_bad_input():
    acc = ConditionalAccumulator(tf.float32, shape=[2])
    graph = tf.get_default_graph()
    with pytest.raises(TypeError, match="Input 'local_step' of 'ResourceAccumulatorApplyGradient' Op has type int32"):
        graph.create_op("ResourceAccumulatorApplyGradient", [acc.accumulator_ref, tf.constant(0),
                                                             tf.constant([1.0, 2.0])], {})
    with pytest.raises(TypeError, match="Input 'num_required' of 'ResourceAccumulatorTakeGradient' Op has type int64"):
        graph.create_op("ResourceAccumulatorTakeGradient", [acc.accumulator_ref, tf.constant(1, tf.int64)],
                        {"dtype": tf.float32})
    with pytest.raises(TypeError, match="Input 'handle' of 'ResourceAccumulatorNumAccumulated' Op has type float32"):
        graph.create_op("ResourceAccumulatorNumAccumulated", [tf.constant(1.0)], {})
    queue = FIFOQueue(2, tf.float32)
    not_an_accumulator = graph.create_op("ResourceAccumulatorNumAccumulated", [queue.queue_ref], {})
    required = tf.placeholder(tf.int32, [])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Input 'handle' is not an accumulator handle"):
            sess.run(not_an_accumulator.outputs[0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="Argument num_required must be positive, but was -1"):
            sess.run(acc.take_grad(required), {required: -1})
