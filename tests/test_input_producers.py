"""tf.train's input producers and batchers run as pipelines: epochs, shuffling, the batch functions'
options, their summaries, and CountUpTo, which counts the epochs."""
from __future__ import annotations

import time

import numpy as np
import pytest

import caudal as tf
from caudal.ops.counter_ops import count_up_to
from caudal.train import input as inputs
from caudal.train.coordinator import Coordinator
from caudal.train.queue_runner import start_queue_runners


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


class Pipeline:
    """A Session with the graph's queue runners started (and stopped on exit)."""

    def __enter__(self) -> tf.Session:
        self.sess = tf.Session()
        self.sess.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
        self.coord = Coordinator()
        self.threads = start_queue_runners(self.sess, self.coord)
        return self.sess

    def __exit__(self, *exc) -> None:
        self.coord.request_stop()
        self.coord.join(self.threads, stop_grace_period_secs=5)
        self.sess.close()


def _drain(sess, fetch) -> list:
    out = []
    while True:
        try:
            out.append(sess.run(fetch))
        except tf.errors.OutOfRangeError:
            return out


def test_string_input_producer_shuffles_each_epoch_and_ends():
    names = [f"file{i}" for i in range(6)]
    q = inputs.string_input_producer(names, num_epochs=3, seed=7)
    name = q.dequeue()
    with Pipeline() as sess:
        got = [v.decode() for v in _drain(sess, name)]
    epochs = [got[:6], got[6:12], got[12:]]
    assert all(sorted(e) == names for e in epochs)
    assert epochs[0] != epochs[1] or epochs[1] != epochs[2]
    assert tf.get_collection(tf.GraphKeys.LOCAL_VARIABLES)[0].name == "input_producer/limit_epochs/epochs:0"


def test_a_seeded_pipeline_repeats_in_a_new_session():
    q = inputs.string_input_producer([f"f{i}" for i in range(10)], seed=3)
    batched = inputs.shuffle_batch([q.dequeue()], 4, capacity=20, min_after_dequeue=5, seed=9)
    shuffle_queue = tf.get_collection(tf.GraphKeys.QUEUE_RUNNERS)[1].queue
    runs = []
    for _ in range(2):
        with Pipeline() as sess:
            while sess.run(shuffle_queue.size()) < 20:  # what a batch draws from depends on timing until full
                time.sleep(0.005)
            runs.append(sess.run(batched).tolist())
    assert runs[0] == runs[1]


def test_slice_input_producer_keeps_rows_together():
    images = tf.constant(np.arange(12).reshape(6, 2))
    labels = tf.constant(np.arange(6) * 10)
    image, label = inputs.slice_input_producer([images, labels], num_epochs=1, seed=2)
    batched = inputs.batch([image, label], 3)
    with Pipeline() as sess:
        batches = _drain(sess, batched)
    rows = np.concatenate([b[0] for b in batches])
    tags = np.concatenate([b[1] for b in batches])
    assert sorted(tags.tolist()) == [0, 10, 20, 30, 40, 50]
    np.testing.assert_array_equal(rows[:, 0] * 5, tags)


def test_batch_join_and_shuffle_batch_join_take_from_every_list():
    lists = [[tf.constant(1), tf.constant("one")], [tf.constant(2), tf.constant("two")]]
    joined = inputs.batch_join(lists, 8)
    shuffled = inputs.shuffle_batch_join(lists, 8, capacity=20, min_after_dequeue=4, seed=1)
    with Pipeline() as sess:
        for numbers, words in (sess.run(joined), sess.run(shuffled)):
            assert set(numbers.tolist()) <= {1, 2}
            assert [{1: b"one", 2: b"two"}[n] for n in numbers] == words.tolist()


def test_maybe_shuffle_batch_with_a_fed_condition_keeps_what_it_says():
    keep = tf.placeholder_with_default(True, [])
    counter = tf.Variable(0)
    value = tf.assign_add(counter, 1)
    batched = inputs.maybe_shuffle_batch([value], 4, capacity=30, min_after_dequeue=2,
                                         keep_input=keep, seed=4)
    with Pipeline() as sess:
        got = sess.run(batched)
    assert len(set(got.tolist())) == 4


def test_maybe_batch_with_a_vector_keeps_the_chosen_rows():
    batched = inputs.maybe_batch([tf.constant([1, 2, 3, 4])], tf.constant([True, False, False, True]), 4,
                                 enqueue_many=True)
    with Pipeline() as sess:
        np.testing.assert_array_equal(sess.run(batched), [1, 4, 1, 4])


def test_a_smaller_final_batch_and_dynamic_padding():
    lengths = inputs.range_input_producer(5, num_epochs=1, shuffle=False)
    n = lengths.dequeue()
    padded = inputs.batch([tf.range(n)], 2, dynamic_pad=True, allow_smaller_final_batch=True)
    assert padded.shape.as_list() == [None, None]
    with Pipeline() as sess:
        batches = _drain(sess, padded)
    assert [b.shape for b in batches] == [(2, 1), (2, 3), (1, 4)]
    np.testing.assert_array_equal(batches[1], [[0, 1, 0], [0, 1, 2]])


def test_dict_inputs_come_back_as_dicts():
    batched = inputs.batch({"b": tf.constant(2.0), "a": tf.constant([1, 2])}, 3)
    assert sorted(batched) == ["a", "b"] and batched["a"].shape.as_list() == [3, 2]
    single = inputs.batch({"only": tf.constant(1)}, 2)
    with Pipeline() as sess:
        assert sess.run(batched["b"]).tolist() == [2.0, 2.0, 2.0]
        assert sess.run(single)["only"].tolist() == [1, 1]


def test_the_fullness_summaries_are_written():
    q = inputs.string_input_producer(["a"], capacity=8, shuffle=False)
    inputs.shuffle_batch([q.dequeue()], 2, capacity=10, min_after_dequeue=4)
    merged = tf.summary.merge_all()
    from caudal.proto import summary_pb2

    with Pipeline() as sess:
        summary = summary_pb2.Summary.FromString(sess.run(merged))
    tags = {v.tag: v.simple_value for v in summary.value}
    assert set(tags) == {"input_producer/fraction_of_8_full", "shuffle_batch/fraction_over_4_of_6_full"}
    assert all(0.0 <= v <= 1.0 for v in tags.values())


def test_limit_epochs_counts_with_a_local_variable():
    limited = inputs.limit_epochs(tf.constant([1, 2]), num_epochs=2)
    assert inputs.limit_epochs(limited, None) is limited
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        sess.run(limited)
        sess.run(limited)
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(limited)


def test_count_up_to_of_an_int32_variable_and_its_errors():
    v = tf.Variable(5)
    step = count_up_to(v, 7, name="step")
    assert step.name == "step:0" and step.dtype == tf.int32
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert [sess.run(step), sess.run(step)] == [5, 6]
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 7"):
            sess.run(step)
        assert sess.run(v) == 7
    with pytest.raises(TypeError, match="has DataType float32 not in list of allowed values: int32, int64"):
        tf.Variable(1.0).count_up_to(2)
    with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
        tf.Variable([1]).count_up_to(2)
    with pytest.raises(TypeError, match="requires a variable"):
        count_up_to(tf.constant(1), 2)


def test_producer_and_batcher_errors():
    x = tf.constant([1.0, 2.0])
    with pytest.raises(ValueError, match="string_input_producer requires a non-null input tensor"):
        inputs.string_input_producer([])
    with pytest.raises(ValueError, match="num_epochs must be > 0 not 0."):
        inputs.limit_epochs(x, 0)
    with pytest.raises(ValueError, match="Expected at least one tensor in slice_input_producer"):
        inputs.slice_input_producer([])
    with pytest.raises(ValueError, match="Either `input_tensor` must have a fully defined shape"):
        inputs.input_producer(tf.placeholder(tf.float32, [None, None]))
    with pytest.raises(ValueError, match="capacity 5 must be bigger than min_after_dequeue 5."):
        inputs.shuffle_batch([x], 2, capacity=5, min_after_dequeue=5)
    with pytest.raises(ValueError, match="`keep_input` cannot be a vector when `enqueue_many=False`."):
        inputs.maybe_batch([x], tf.constant([True, False]), 2)
    with pytest.raises(ValueError, match="`keep_input` must be 0 or 1 dimensions."):
        inputs.maybe_batch([x], tf.constant([[True]]), 2, enqueue_many=True)
    with pytest.raises(ValueError, match="`keep_input` dimensions must be known at graph construction."):
        inputs.maybe_batch([x], tf.placeholder(tf.bool), 2)
    with pytest.raises(TypeError, match="Expected types to be consistent: float32 vs. int32."):
        inputs.batch_join([[x], [tf.constant([1, 2])]], 2)
    with pytest.raises(ValueError, match="Expected at least one set of tensors"):
        inputs.batch_join([], 2)
    with pytest.raises(ValueError, match="All dictionaries in tensors_list must have the same keys"):
        inputs.batch_join([{"a": x}, {"b": x}], 2)
    with pytest.raises(ValueError, match="Cannot infer Tensor's rank"):
        inputs.batch([tf.placeholder(tf.float32)], 2)
    with pytest.raises(ValueError, match="Expected at least one tensor in batch()"):
        inputs.batch([], 2)
    with pytest.raises(TypeError, match="does not take SparseTensors"):
        inputs.batch([tf.SparseTensor([[0]], [1.0], [3])], 2)


def test_an_empty_file_list_fails_when_the_runner_enqueues():
    names = tf.placeholder_with_default(tf.constant([], tf.string), [None])
    q = inputs.string_input_producer(names)
    with tf.Session() as sess:
        coord = Coordinator()
        threads = start_queue_runners(sess, coord)
        with pytest.raises(tf.errors.InvalidArgumentError, match="string_input_producer requires a non-null input"):
            coord.join(threads, stop_grace_period_secs=5)
        assert sess.run(q.size()) == 0


def test_match_filenames_once_is_a_local_variable_of_the_matching_files(tmp_path):
    for name in ("b.txt", "a.txt", "c.bin"):
        (tmp_path / name).write_text("x")
    files = inputs.match_filenames_once(str(tmp_path / "*.txt"))
    assert files in tf.get_collection(tf.GraphKeys.LOCAL_VARIABLES)
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sorted(sess.run(files).tolist()) == [str(tmp_path / "a.txt").encode(), str(tmp_path / "b.txt").encode()]
