"""tf.data iterators: initializable, reinitializable, feedable; iterator state as a Session resource."""
from __future__ import annotations

import gc
import threading
import time

import numpy as np
import pytest

import caudal as tf

D = tf.data.Dataset


def _drain(sess, nxt, limit=1000, **kwargs):
    out = []
    for _ in range(limit):
        try:
            out.append(sess.run(nxt, **kwargs))
        except tf.errors.OutOfRangeError:
            return out
    raise AssertionError("the iterator did not end")


def test_initializable_iterator_restarts_with_new_placeholder_values():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None])
        it = D.from_tensor_slices(x).map(lambda v: v * 2).make_initializable_iterator()
        nxt = it.get_next()
        with tf.Session() as sess:
            sess.run(it.initializer, {x: [1, 2, 3]})
            assert sess.run(nxt) == 2
            sess.run(it.initializer, {x: [10, 20]})
            assert [float(v) for v in _drain(sess, nxt)] == [20, 40]
            with pytest.raises(tf.errors.OutOfRangeError, match="End of sequence"):
                sess.run(nxt)


def test_a_captured_placeholder_is_read_when_the_iterator_is_initialised():
    with tf.Graph().as_default():
        scale = tf.placeholder(tf.int64, [])
        it = tf.data.make_initializable_iterator(D.range(3).map(lambda v: v * scale))
        nxt = it.get_next()
        with tf.Session() as sess:
            sess.run(it.initializer, {scale: 10})
            assert _drain(sess, nxt) == [0, 10, 20]
            sess.run(it.initializer, {scale: -1})
            assert _drain(sess, nxt) == [0, -1, -2]


def test_reinitializable_iterator_switches_datasets_of_one_structure():
    with tf.Graph().as_default():
        train = D.range(5).map(lambda v: tf.cast(v, tf.float32))
        test = D.from_tensor_slices(tf.constant([7.0, 8.0]))
        it = tf.data.Iterator.from_structure(train.output_types, train.output_shapes)
        nxt = it.get_next()
        init_train, init_test = it.make_initializer(train), it.make_initializer(test)
        with tf.Session() as sess:
            sess.run(init_train)
            assert sess.run(nxt) == 0.0
            sess.run(init_test)
            assert _drain(sess, nxt) == [7.0, 8.0]
            sess.run(init_train)
            assert len(_drain(sess, nxt)) == 5


def test_feedable_iterator_switches_between_train_and_test_by_handle():
    with tf.Graph().as_default():
        train = D.range(100).repeat()
        test = D.range(1000, 1003)
        handle = tf.placeholder(tf.string, shape=[])
        it = tf.data.Iterator.from_string_handle(handle, train.output_types, train.output_shapes)
        nxt = it.get_next()
        train_it = train.make_one_shot_iterator()
        test_it = test.make_initializable_iterator()
        with tf.Session() as sess:
            train_handle, test_handle = sess.run([train_it.string_handle(), test_it.string_handle()])
            assert isinstance(train_handle, bytes) and train_handle != test_handle
            assert [sess.run(nxt, {handle: train_handle}) for _ in range(3)] == [0, 1, 2]
            sess.run(test_it.initializer)
            assert _drain(sess, nxt, feed_dict={handle: test_handle}) == [1000, 1001, 1002]
            assert sess.run(nxt, {handle: train_handle}) == 3
            with pytest.raises(tf.errors.InvalidArgumentError, match="Could not parse an iterator handle"):
                sess.run(nxt, {handle: b"nonsense"})


def test_a_handle_of_another_session_is_not_found():
    with tf.Graph().as_default():
        it = D.range(3).make_initializable_iterator()
        handle = tf.placeholder(tf.string, [])
        nxt = tf.data.Iterator.from_string_handle(handle, tf.int64, []).get_next()
        with tf.Session() as one, tf.Session() as two:
            h = one.run(it.string_handle())
            one.run(it.initializer)
            assert one.run(nxt, {handle: h}) == 0
            fresh = tf.data.Iterator.from_string_handle(handle, tf.int64, []).get_next()
            with pytest.raises(tf.errors.NotFoundError):
                two.run(fresh, {handle: b"caudal-iterator:no-such-iterator"})


def test_two_sessions_iterate_independently():
    with tf.Graph().as_default():
        nxt = D.range(10).make_one_shot_iterator().get_next()
        with tf.Session() as one, tf.Session() as two:
            assert [one.run(nxt) for _ in range(3)] == [0, 1, 2]
            assert [two.run(nxt) for _ in range(2)] == [0, 1]
            assert one.run(nxt) == 3


def test_a_failed_run_does_not_advance_the_iterator():
    with tf.Graph().as_default():
        it = D.range(10).make_initializable_iterator()
        nxt = it.get_next()
        divisor = tf.placeholder(tf.int64, [])
        checked = tf.check_numerics(tf.cast(nxt, tf.float32) / tf.cast(divisor, tf.float32), "division")
        with tf.Session() as sess:
            sess.run(it.initializer)
            assert sess.run(nxt) == 0
            for _ in range(3):
                with pytest.raises(tf.errors.InvalidArgumentError, match="division"):
                    sess.run(checked, {divisor: 0})
            assert sess.run(nxt) == 1


def test_a_failed_run_that_reinitialises_keeps_the_old_position():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.int64, [None])
        it = D.from_tensor_slices(x).make_initializable_iterator()
        nxt = it.get_next()
        bad = tf.check_numerics(tf.constant(np.inf), "boom")
        with tf.Session() as sess:
            sess.run(it.initializer, {x: [1, 2, 3]})
            assert sess.run(nxt) == 1
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run([it.initializer, bad], {x: [100]})
            assert _drain(sess, nxt) == [2, 3]


def test_shared_name_names_the_iterator_in_the_session():
    with tf.Graph().as_default():
        a = D.range(5).make_initializable_iterator(shared_name="shared")
        b = tf.data.Iterator.from_structure(tf.int64, [], shared_name="shared")
        with tf.Session() as sess:
            sess.run(a.initializer)
            assert sess.run(a.get_next()) == 0
            assert sess.run(b.get_next()) == 1


def test_one_shot_iterator_runs_on_first_use_and_ends_with_out_of_range():
    with tf.Graph().as_default():
        nxt = D.from_tensor_slices({"a": [1, 2], "b": [[1.0], [2.0]]}).make_one_shot_iterator().get_next()
        assert set(nxt) == {"a", "b"}
        with tf.Session() as sess:
            got = _drain(sess, nxt)
            assert [g["a"] for g in got] == [1, 2]
            with pytest.raises(tf.errors.OutOfRangeError):
                sess.run(nxt)


def test_shuffle_with_seeds_repeats_across_sessions_and_reshuffles_each_epoch():
    def orders():
        with tf.Graph().as_default():
            nxt = D.range(20).shuffle(20, seed=7).repeat(2).make_one_shot_iterator().get_next()
            with tf.Session() as sess:
                values = _drain(sess, nxt)
        return values[:20], values[20:]

    first, second = orders()
    assert sorted(first) == list(range(20)) and sorted(second) == list(range(20))
    assert first != second and first != list(range(20))
    assert orders() == (first, second)


def test_shuffle_without_reshuffling_repeats_the_order_and_a_buffer_of_one_keeps_it():
    with tf.Graph().as_default():
        same = D.range(10).shuffle(10, seed=1, reshuffle_each_iteration=False).repeat(2)
        ordered = D.range(10).shuffle(1, seed=1)
        with tf.Session() as sess:
            values = _drain(sess, same.make_one_shot_iterator().get_next())
            assert values[:10] == values[10:]
            assert _drain(sess, ordered.make_one_shot_iterator().get_next()) == list(range(10))


def test_shuffle_draws_from_a_buffer_of_the_given_size():
    with tf.Graph().as_default():
        nxt = D.range(100).shuffle(5, seed=3).make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            values = _drain(sess, nxt)
    assert sorted(values) == list(range(100))
    assert all(v <= i + 4 for i, v in enumerate(values))  # never more than buffer_size - 1 ahead


def test_graph_level_seed_makes_shuffle_deterministic():
    def order():
        with tf.Graph().as_default():
            tf.set_random_seed(5)
            nxt = D.range(30).shuffle(30).make_one_shot_iterator().get_next()
            with tf.Session() as sess:
                return _drain(sess, nxt)

    assert order() == order()


def test_file_cache_is_written_once_and_read_by_a_later_pipeline(tmp_path):
    calls = []

    def gen():
        calls.append(1)
        yield from ([b"a", b"bc"], [b"d", b"e"])

    path = str(tmp_path / "cache" / "c")
    for _ in range(2):
        with tf.Graph().as_default():
            dataset = D.from_generator(gen, tf.string, [2]).cache(path).repeat(2)
            with tf.Session() as sess:
                got = _drain(sess, dataset.make_one_shot_iterator().get_next())
        assert [list(g) for g in got] == [[b"a", b"bc"], [b"d", b"e"]] * 2
    assert len(calls) == 1


def test_prefetch_works_ahead_on_a_thread_and_stops_with_the_session():
    made = []

    def gen():
        for i in range(1000):
            made.append(i)
            yield i

    with tf.Graph().as_default():
        nxt = D.from_generator(gen, tf.int64, []).prefetch(3).make_one_shot_iterator().get_next()
        sess = tf.Session()
        assert sess.run(nxt) == 0
        deadline = time.time() + 5
        while len(made) < 4 and time.time() < deadline:
            time.sleep(0.01)
        assert 4 <= len(made) <= 6  # the consumer took one, three wait in the buffer, one may be in hand
        sess.close()
    gc.collect()
    deadline = time.time() + 5
    while any(t.name == "caudal-prefetch" for t in threading.enumerate()) and time.time() < deadline:
        time.sleep(0.02)
    assert not any(t.name == "caudal-prefetch" for t in threading.enumerate())


def test_parallel_map_overlaps_calls_that_release_the_gil():
    def slow(x):
        time.sleep(0.05)
        return x

    with tf.Graph().as_default():
        dataset = D.range(8).map(lambda x: tf.py_func(slow, [x], tf.int64), num_parallel_calls=8)
        nxt = dataset.make_one_shot_iterator().get_next()
        with tf.Session() as sess:
            start = time.perf_counter()
            assert _drain(sess, nxt) == list(range(8))
            elapsed = time.perf_counter() - start
    assert elapsed < 0.3  # serial calls would take 0.4 s


def test_dataset_graphs_export_to_graph_defs():
    with tf.Graph().as_default() as g:
        it = D.range(4).map(lambda x: x + 1).batch(2).make_initializable_iterator()
        it.get_next()
        graph_def = g.as_graph_def()
    ops = {n.op for n in graph_def.node}
    assert {"RangeDataset", "MapDataset", "BatchDatasetV2", "IteratorV2", "MakeIterator", "IteratorGetNext"} <= ops
    map_node = next(n for n in graph_def.node if n.op == "MapDataset")
    assert map_node.attr["f"].func.name.startswith("__inference_Dataset_map_")
    assert [t for t in map_node.attr["output_types"].list.type] == [9]


def test_training_from_a_dataset_matches_training_from_feeds():
    x_data = np.random.RandomState(0).rand(40, 3).astype(np.float32)
    y_data = x_data @ np.array([[1.0], [-2.0], [0.5]], np.float32)

    def train(use_dataset):
        with tf.Graph().as_default():
            if use_dataset:
                x, y = D.from_tensor_slices((x_data, y_data)).batch(10).repeat().make_one_shot_iterator().get_next()
            else:
                x, y = tf.placeholder(tf.float32, [None, 3]), tf.placeholder(tf.float32, [None, 1])
            w = tf.Variable(tf.zeros([3, 1]))
            loss = tf.reduce_mean(tf.square(tf.matmul(x, w) - y))
            step = tf.train.GradientDescentOptimizer(0.5).minimize(loss)
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                for i in range(40):
                    feed = None if use_dataset else {x: x_data[i % 4 * 10:(i % 4 + 1) * 10],
                                                     y: y_data[i % 4 * 10:(i % 4 + 1) * 10]}
                    sess.run(step, feed)
                return sess.run(w)

    np.testing.assert_allclose(train(True), train(False), rtol=1e-6)
