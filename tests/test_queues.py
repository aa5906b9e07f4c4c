"""Queues as Session state: blocking between concurrent runs, rollback of failed runs, timeouts,
cancellation when the Session closes, and the checks of bad input."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import caudal as tf
from caudal.ops.queue_ops import FIFOQueue, PaddingFIFOQueue, PriorityQueue, QueueBase, RandomShuffleQueue
from caudal.ops.reader_ops import IdentityReader


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def _later(seconds: float, fn) -> threading.Thread:
    def run():
        time.sleep(seconds)
        fn()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _in_thread(fn) -> tuple[threading.Thread, list]:
    box: list = []

    def run():
        try:
            box.append(fn())
        except Exception as e:  # noqa: BLE001 - the test looks at it
            box.append(e)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def test_dequeue_waits_for_an_enqueue_of_another_thread():
    q = FIFOQueue(2, tf.int32, shapes=[[]])
    x = tf.placeholder(tf.int32, [])
    enqueue = q.enqueue([x])
    with tf.Session() as sess:
        thread = _later(0.1, lambda: sess.run(enqueue, {x: 7}))
        assert sess.run(q.dequeue()) == 7
        thread.join()


def test_enqueue_waits_for_room_and_a_large_batch_passes_through_a_small_queue():
    q = FIFOQueue(3, tf.int32, shapes=[[]])
    enqueue = q.enqueue_many([tf.range(10)])
    with tf.Session() as sess:
        thread, box = _in_thread(lambda: sess.run(enqueue))
        got = sess.run(q.dequeue_many(10))  # more than the capacity: taken as it arrives
        thread.join()
        assert box == [None]
        np.testing.assert_array_equal(got, np.arange(10))


def test_a_shuffled_batch_larger_than_the_queue_is_taken_as_it_arrives():
    q = RandomShuffleQueue(5, 2, tf.int32, shapes=[[]], seed=1)
    enqueue = q.enqueue_many([tf.range(12)])
    with tf.Session() as sess:
        thread, box = _in_thread(lambda: sess.run(enqueue))
        got = sess.run(q.dequeue_many(10))  # at most 3 at a time: 2 stay behind until the queue closes
        thread.join(5)
        assert box == [None] and sess.run(q.size()) == 2
        assert len(set(got.tolist())) == 10 and set(got.tolist()) <= set(range(12))


def test_a_waiting_run_releases_the_session_and_keeps_the_writes_of_others():
    q = FIFOQueue(2, tf.float32, shapes=[[]])
    counter = tf.Variable(0.0)
    total = tf.Variable(0.0)
    x = tf.placeholder(tf.float32, [])
    with tf.control_dependencies([q.enqueue([x])]):
        produce = tf.assign_add(counter, 1.0)
    consume = tf.assign_add(total, q.dequeue())
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        thread, box = _in_thread(lambda: [sess.run(consume) for _ in range(3)])
        for value in (1.0, 2.0, 3.0):
            time.sleep(0.02)
            sess.run(produce, {x: value})
        thread.join(10)
        assert box == [[1.0, 3.0, 6.0]]
        assert sess.run([counter, total]) == [3.0, 6.0]  # the consumer's commits kept the producer's writes


def test_a_failed_run_puts_dequeued_elements_back_in_order():
    q = FIFOQueue(5, tf.int32, shapes=[[]])
    flag = tf.placeholder(tf.bool, [])
    taken = q.dequeue_many(2)
    with tf.control_dependencies([tf.Assert(flag, [taken])]):
        checked = tf.identity(taken)
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2, 3]]))
        with pytest.raises(tf.errors.InvalidArgumentError, match="assertion failed"):
            sess.run(checked, {flag: False})
        assert sess.run(q.size()) == 3
        np.testing.assert_array_equal(sess.run(q.dequeue_many(3)), [1, 2, 3])


def test_a_failed_run_takes_its_enqueued_elements_out():
    q = FIFOQueue(5, tf.int32, shapes=[[]])
    flag = tf.placeholder(tf.bool, [])
    with tf.control_dependencies([q.enqueue_many([[8, 9]])]):
        failing = tf.Assert(flag, [flag])
    with tf.Session() as sess:
        sess.run(q.enqueue([1]))
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(failing, {flag: False})
        np.testing.assert_array_equal(sess.run(q.dequeue_many(1)), [1])
        assert sess.run(q.size()) == 0


def test_a_failed_run_leaves_a_random_queue_as_it_was():
    def draws(fail_first: bool) -> list:
        with tf.Graph().as_default():
            q = RandomShuffleQueue(20, 0, tf.int32, shapes=[[]], seed=11)
            flag = tf.placeholder(tf.bool, [])
            taken = q.dequeue_many(3)
            with tf.control_dependencies([tf.Assert(flag, [taken])]):
                checked = tf.identity(taken)
            with tf.Session() as sess:
                sess.run(q.enqueue_many([tf.range(10)]))
                if fail_first:
                    with pytest.raises(tf.errors.InvalidArgumentError):
                        sess.run(checked, {flag: False})
                return [sess.run(checked, {flag: True}).tolist() for _ in range(3)]
    clean = draws(False)
    assert draws(True) == clean
    assert sorted(sum(clean, [])) == sorted(set(sum(clean, [])))


def test_a_failed_run_leaves_a_priority_queue_in_order():
    q = PriorityQueue(10, [tf.string], shapes=[[]])
    flag = tf.placeholder(tf.bool, [])
    taken = q.dequeue()
    with tf.control_dependencies([tf.Assert(flag, [taken[0]])]):
        checked = tf.identity(taken[1])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[3, 1, 2, 1, 5, 1], ["c", "a1", "b", "a2", "e", "a3"]]))
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(checked, {flag: False})
        assert [sess.run(checked, {flag: True}) for _ in range(6)] == [b"a1", b"a3", b"a2", b"b", b"c", b"e"]


def test_random_queue_seeds_repeat_per_session():
    q = RandomShuffleQueue(20, 2, tf.int32, shapes=[[]], seed=4)
    fill = q.enqueue_many([tf.range(12)])
    batch = q.dequeue_many(5)
    runs = []
    for _ in range(2):
        with tf.Session() as sess:
            sess.run(fill)
            runs.append(sess.run(batch).tolist())
    assert runs[0] == runs[1] and runs[0] != list(range(5))


def test_timeout_raises_deadline_exceeded_and_keeps_what_the_run_took():
    q = FIFOQueue(5, tf.int32, shapes=[[]])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2]]))
        start = time.monotonic()
        with pytest.raises(tf.errors.DeadlineExceededError, match="Timed out waiting for notification"):
            sess.run(q.dequeue_many(3), options=tf.RunOptions(timeout_in_ms=100))
        assert 0.05 < time.monotonic() - start < 5
        assert sess.run(q.size()) == 2
    config = tf.ConfigProto(operation_timeout_in_ms=50)
    with tf.Session(config=config) as sess:
        with pytest.raises(tf.errors.DeadlineExceededError):
            sess.run(q.dequeue())


def test_closing_the_session_cancels_waiting_dequeues_and_enqueues():
    q = FIFOQueue(1, tf.int32, shapes=[[]])
    other = FIFOQueue(1, tf.int32, shapes=[[]])
    sess = tf.Session()
    sess.run(other.enqueue([1]))
    waiting_dequeue, dequeued = _in_thread(lambda: sess.run(q.dequeue()))
    waiting_enqueue, enqueued = _in_thread(lambda: sess.run(other.enqueue([2])))
    time.sleep(0.1)
    sess.close()
    waiting_dequeue.join(5)
    waiting_enqueue.join(5)
    assert isinstance(dequeued[0], tf.errors.CancelledError)
    assert "Dequeue operation was cancelled" in str(dequeued[0])
    assert isinstance(enqueued[0], tf.errors.CancelledError)
    assert "Enqueue operation was cancelled" in str(enqueued[0])


def test_close_lets_pending_enqueues_finish_unless_it_cancels_them():
    q = FIFOQueue(2, tf.int32, shapes=[[]])
    enqueue = q.enqueue_many([[1, 2, 3]])
    with tf.Session() as sess:
        pending, box = _in_thread(lambda: sess.run(enqueue))
        time.sleep(0.05)
        closing, closed = _in_thread(lambda: sess.run(q.close()))
        time.sleep(0.05)
        assert not sess.run(q.is_closed())  # the close waits for the pending enqueue
        np.testing.assert_array_equal(sess.run(q.dequeue_up_to(5)), [1, 2, 3])
        pending.join(5)
        closing.join(5)
        assert box == [None] and closed == [None]
        assert sess.run(q.is_closed())
    with tf.Session() as sess:
        pending, box = _in_thread(lambda: sess.run(enqueue))
        time.sleep(0.05)
        sess.run(q.close(cancel_pending_enqueues=True))
        pending.join(5)
        assert isinstance(box[0], tf.errors.CancelledError) and "Enqueue operation was cancelled" in str(box[0])
        assert sess.run(q.size()) == 0  # the cancelled run took its two elements out again
        with pytest.raises(tf.errors.CancelledError, match="is closed"):
            sess.run(q.enqueue([4]))


def test_dequeue_up_to_gives_the_rest_of_a_closed_queue():
    q = FIFOQueue(5, tf.int32, shapes=[[]])
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2]]))
        waiting, box = _in_thread(lambda: sess.run(q.dequeue_up_to(4)))
        time.sleep(0.05)
        sess.run(q.close())
        waiting.join(5)
        np.testing.assert_array_equal(box[0], [1, 2])
        with pytest.raises(tf.errors.OutOfRangeError, match=r"requested 4, current size 0"):
            sess.run(q.dequeue_up_to(4))


def test_two_sessions_have_their_own_queues():
    q = FIFOQueue(5, tf.int32, shapes=[[]])
    first, second = tf.Session(), tf.Session()
    first.run(q.enqueue([1]))
    assert first.run(q.size()) == 1 and second.run(q.size()) == 0
    first.close()
    second.close()


def test_queues_with_one_shared_name_are_one_queue_in_a_session():
    a = FIFOQueue(5, tf.int32, shared_name="shared")
    b = FIFOQueue(5, tf.int32, shared_name="shared")
    with tf.Session() as sess:
        sess.run(a.enqueue([3]))
        assert sess.run(b.dequeue()) == 3


def test_from_list_chooses_a_queue_at_run_time():
    queues = [FIFOQueue(3, tf.int32, shapes=[[]]), FIFOQueue(3, tf.int32, shapes=[[]])]
    index = tf.placeholder(tf.int32, [])
    chosen = QueueBase.from_list(index, queues)
    with tf.Session() as sess:
        sess.run(queues[1].enqueue([5]))
        assert sess.run(chosen.size(), {index: 1}) == 1
        assert sess.run(chosen.dequeue(), {index: 1}) == 5
        sess.run(chosen.enqueue([6]), {index: 0})
        assert sess.run(queues[0].dequeue()) == 6
    assert chosen.shapes == [tf.TensorShape([])]


def test_padding_queue_pads_strings_and_numbers():
    q = PaddingFIFOQueue(5, [tf.int32, tf.string], shapes=[[None], [None]])
    with tf.Session() as sess:
        sess.run(q.enqueue([[1], ["a"]]))
        sess.run(q.enqueue([[1, 2, 3], ["a", "b"]]))
        numbers, strings = sess.run(q.dequeue_many(2))
    np.testing.assert_array_equal(numbers, [[1, 0, 0], [1, 2, 3]])
    assert strings.tolist() == [[b"a", b""], [b"a", b"b"]]


def test_queue_graphs_round_trip_through_a_graph_def():
    q = FIFOQueue(4, [tf.float32, tf.int32], shapes=[[2], []], name="q")
    q.enqueue_many([[[1.0, 2.0], [3.0, 4.0]], [5, 6]], name="fill")
    q.dequeue_many(2, name="take")
    graph_def = tf.get_default_graph().as_graph_def()
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        graph = tf.get_default_graph()
        take = [graph.get_tensor_by_name("take:0"), graph.get_tensor_by_name("take:1")]
        assert take[0].shape.as_list() == [2, 2]
        with tf.Session() as sess:
            sess.run(graph.get_operation_by_name("fill"))
            values, labels = sess.run(take)
    np.testing.assert_array_equal(values, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(labels, [5, 6])


# ------------------------------------------------------------------ bad input
def test_enqueue_of_the_wrong_dtype_fails_when_built():
    q = FIFOQueue(3, tf.float32, shapes=[[2]])
    with pytest.raises(ValueError, match="Tensor conversion requested dtype float32 for Tensor with dtype int32"):
        q.enqueue(tf.constant([1, 2]))
    with pytest.raises(ValueError, match=r"Shapes \(3,\) and \(2,\) are incompatible"):
        q.enqueue([[1.0, 2.0, 3.0]])


def test_enqueue_of_the_wrong_shape_fails_when_run():
    q = FIFOQueue(3, tf.float32, shapes=[[2]])
    x = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Shape mismatch in tuple component 0. Expected \[2\], got \[3\]"):
            sess.run(q.enqueue([x]), {x: [1.0, 2.0, 3.0]})
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"Shape mismatch in tuple component 0. Expected \[\?,2\], got \[\]"):
            sess.run(q.enqueue_many([x]), {x: 1.0})
        assert sess.run(q.size()) == 0


def test_an_enqueue_with_too_few_components_fails_when_run():
    q = FIFOQueue(3, [tf.float32, tf.int32])
    enqueue = tf.get_default_graph().create_op("QueueEnqueueV2", [q.queue_ref, tf.constant(1.0)], {})
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expected 2 components in tuple but got 1"):
            sess.run(enqueue)


def test_a_queue_op_given_another_resource_fails_when_run():
    reader = IdentityReader()
    dequeue = tf.get_default_graph().create_op("QueueDequeueV2", [reader.reader_ref],
                                               {"component_types": [tf.string]})
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Input 'handle' is not a queue handle"):
            sess.run(dequeue.outputs[0])
    with pytest.raises(TypeError, match="Input 'handle' of 'QueueSizeV2' Op has type float32"):
        tf.get_default_graph().create_op("QueueSizeV2", [tf.constant(1.0)], {})


def test_dequeue_many_of_a_negative_count():
    q = FIFOQueue(3, tf.int32, shapes=[[]])
    n = tf.placeholder(tf.int32, [])
    with pytest.raises(ValueError, match="Input 'n' must be >= 0, but is -1"):
        q.dequeue_many(-1)
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="DequeueMany requested -2 < 0 elements"):
            sess.run(q.dequeue_many(n), {n: -2})


def test_dequeue_from_a_closed_empty_queue():
    q = RandomShuffleQueue(5, 2, tf.int32, shapes=[[]], name="shuffled")
    with tf.Session() as sess:
        sess.run(q.enqueue_many([[1, 2, 3]]))
        sess.run(q.close())
        assert sorted(sess.run(q.dequeue_many(3)).tolist()) == [1, 2, 3]  # a closed queue keeps none back
        with pytest.raises(tf.errors.OutOfRangeError, match=r"RandomShuffleQueue '_\d+_shuffled' is closed and has "
                                                            r"insufficient elements \(requested 1, current size 0\)"):
            sess.run(q.dequeue())
        with pytest.raises(tf.errors.CancelledError, match=r"Queue '_\d+_shuffled' is already closed."):
            sess.run(q.close())


def test_constructor_errors():
    with pytest.raises(TypeError, match="Shapes must be a TensorShape or a list or tuple of TensorShapes"):
        FIFOQueue(3, tf.int32, shapes=5)
    with pytest.raises(ValueError, match="All shapes must have a defined rank"):
        PaddingFIFOQueue(3, [tf.int32], shapes=[tf.TensorShape(None)])
    with pytest.raises(ValueError, match="Shapes must be provided for all components, but received 2 dtypes and 1"):
        PaddingFIFOQueue(3, [tf.int32, tf.int32], shapes=[[None]])
    with pytest.raises(TypeError, match="A list of queues expected"):
        QueueBase.from_list(0, [])
    with pytest.raises(TypeError, match="Queues do not have matching component names."):
        QueueBase.from_list(0, [FIFOQueue(3, tf.int32, names="a"), FIFOQueue(3, tf.int32, names="b")])
