"""tf.data Datasets against element values, static shapes and errors recorded from TensorFlow 2.21
(tests/fixtures/make_data_fixtures.py wrote tests/fixtures/data/expected.json)."""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import caudal as tf

EXPECTED = json.loads((pathlib.Path(__file__).parent / "fixtures" / "data" / "expected.json").read_text())
D = tf.data.Dataset


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode()
    array = np.asarray(value)
    if array.dtype == object:
        return [_plain(v) for v in array.reshape(-1)]
    return array.tolist()


def _shapes(dataset):
    def one(shapes):
        if isinstance(shapes, dict):
            return {k: one(v) for k, v in shapes.items()}
        if isinstance(shapes, tuple):
            return [one(s) for s in shapes]
        return None if shapes.ndims is None else shapes.as_list()

    return one(tf.data.get_output_shapes(dataset))


def _types(dataset):
    types = tf.data.get_output_types(dataset)
    if isinstance(types, dict):
        return {k: v.name for k, v in types.items()}
    if isinstance(types, tuple):
        return [t.name for t in types]
    return types.name


def _elements(dataset, limit=100):
    nxt = tf.data.make_one_shot_iterator(dataset).get_next()
    out = []
    with tf.Session() as sess:
        for _ in range(limit):
            try:
                out.append(_plain(sess.run(nxt)))
            except tf.errors.OutOfRangeError:
                break
    return out


CASES = {
    "batch_remainder": lambda: D.range(10).batch(4),
    "batch_drop": lambda: D.range(10).batch(4, drop_remainder=True),
    "tuple_map": lambda: D.from_tensor_slices((np.arange(6), np.arange(6) * 10.0)).map(lambda a, b: (b, a + 1)),
    "dict_slices": lambda: D.from_tensor_slices({"x": np.arange(6).reshape(3, 2), "y": [b"a", b"b", b"c"]}),
    "from_tensors": lambda: D.from_tensors(([1, 2, 3], "s")),
    "range_args": lambda: D.range(2, 11, 3),
    "range_negative": lambda: D.range(10, 2, -3),
    "zip": lambda: D.zip((D.range(3), D.range(10, 20).map(lambda x: x * 2))),
    "concatenate": lambda: D.range(3).concatenate(D.range(7, 9)),
    "filter": lambda: D.range(12).filter(lambda x: tf.equal(x % 3, 0)),
    "flat_map": lambda: D.range(4).flat_map(lambda x: D.from_tensors(x).repeat(x)),
    "interleave": lambda: D.range(1, 6).interleave(lambda x: D.from_tensors(x).repeat(x), cycle_length=2,
                                                   block_length=2),
    "interleave_cycle3_block1": lambda: D.range(1, 5).interleave(lambda x: D.range(10 * x, 10 * x + x),
                                                                 cycle_length=3, block_length=1),
    "padded_batch": lambda: D.range(1, 6).map(lambda x: tf.fill([x], x)).padded_batch(2, padded_shapes=[None]),
    "padded_batch_fixed": lambda: D.range(1, 4).map(lambda x: (tf.fill([x], x), tf.fill([2, x], "s"))).padded_batch(
        2, padded_shapes=([5], [None, 4]), padding_values=(tf.constant(-1, tf.int64), "pad")),
    "padded_batch_drop": lambda: D.range(1, 6).map(lambda x: tf.fill([x], x)).padded_batch(
        2, padded_shapes=[None], drop_remainder=True),
    "take_skip_repeat": lambda: D.range(5).skip(1).take(3).repeat(2),
    "repeat_empty": lambda: D.range(0).repeat(),
    "shard": lambda: D.range(10).shard(3, 1),
    "unbatch": lambda: D.range(7).batch(3).apply(tf.data.experimental.unbatch()),
    "map_and_batch": lambda: D.range(7).apply(tf.data.experimental.map_and_batch(lambda x: x * x, 3)),
    "cache_repeat": lambda: D.range(3).cache().repeat(2),
    "prefetch": lambda: D.range(5).map(lambda x: x + 1).prefetch(2),
    "parallel_map": lambda: D.range(9).map(lambda x: x * 3, num_parallel_calls=4),
    "map_list_return": lambda: D.range(3).map(lambda x: [x, x + 1]),
    "generator": lambda: D.from_generator(lambda: iter([(1, [1.0]), (2, [2.0, 3.0])]), (tf.int64, tf.float32),
                                          (tf.TensorShape([]), tf.TensorShape([None]))),
    "generator_args": lambda: D.from_generator(lambda n: (i for i in range(n)), tf.int32, tf.TensorShape([]),
                                               args=(4,)),
    "unknown_batch_dim": lambda: D.from_tensor_slices(np.zeros((6, 3), np.float32)).batch(2),
}


def test_every_recorded_case_is_built_here():
    assert set(CASES) == set(EXPECTED) - {"errors"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_elements_shapes_and_types_match_tensorflow(name):
    expected = EXPECTED[name]
    with tf.Graph().as_default():
        dataset = CASES[name]()
        assert _shapes(dataset) == expected["shapes"]
        assert _types(dataset) == expected["types"]
        assert _elements(dataset) == expected["elements"]


def _run_until_end(make_dataset, steps=10):
    with tf.Graph().as_default():
        nxt = tf.data.make_one_shot_iterator(make_dataset()).get_next()
        got = []
        with tf.Session() as sess:
            for _ in range(steps):
                try:
                    got.append(_plain(sess.run(nxt)))
                except tf.errors.OutOfRangeError:
                    got.append("OutOfRange")
                    break
                except tf.errors.OpError as e:
                    got.append({"type": type(e).__name__, "message": e.message.split("\n")[0]})
    return got


RUN_ERRORS = {
    "generator_wrong_dtype": lambda: D.from_generator(lambda: iter([1, "x", 3]), tf.int64),
    "generator_wrong_shape": lambda: D.from_generator(lambda: iter([[1, 2], [1, 2, 3]]), tf.int64, tf.TensorShape([2])),
    "generator_wrong_structure": lambda: D.from_generator(lambda: iter([(1, 2), 3]), (tf.int64, tf.int64)),
    "batch_different_shapes": lambda: D.range(1, 4).map(lambda x: tf.fill([x], x)).batch(2),
    "padded_too_small": lambda: D.range(1, 5).map(lambda x: tf.fill([x], x)).padded_batch(
        2, padded_shapes=[tf.constant(2, tf.int64)]),
}


@pytest.mark.parametrize("name", sorted(RUN_ERRORS))
def test_errors_while_iterating_match_tensorflow_and_iteration_goes_on(name):
    assert _run_until_end(RUN_ERRORS[name]) == EXPECTED["errors"][name]


def test_a_failing_map_call_skips_only_its_element():
    got = _run_until_end(lambda: D.from_tensor_slices([1.0, 0.0, 4.0]).map(lambda x: tf.check_numerics(1.0 / x, "bad")))
    expected = EXPECTED["errors"]["map_error_continues"]
    assert got[0] == expected[0] and got[2:] == expected[2:]
    assert got[1]["type"] == expected[1]["type"] == "InvalidArgumentError"
    assert "bad : Tensor had Inf values" in got[1]["message"]


BUILD_ERRORS = {
    "filter_not_bool": lambda: D.range(3).filter(lambda x: x),
    "no_initializer": lambda: tf.data.Iterator.from_structure(tf.int64).initializer,
    "make_initializer_types": lambda: tf.data.Iterator.from_structure(tf.int64).make_initializer(D.from_tensors(1.0)),
    "one_shot_placeholder": lambda: tf.data.make_one_shot_iterator(D.from_tensors(tf.placeholder(tf.float32))),
    "padded_shape_incompatible": lambda: D.from_tensors(tf.zeros([3])).padded_batch(2, padded_shapes=[2]),
    "concatenate_types": lambda: D.range(3).concatenate(D.from_tensors(1.0)),
}


@pytest.mark.parametrize("name", sorted(BUILD_ERRORS))
def test_errors_while_building_match_tensorflow(name):
    expected = EXPECTED["errors"][name]
    with tf.Graph().as_default():
        with pytest.raises(Exception) as info:
            BUILD_ERRORS[name]()
    assert type(info.value).__name__ == expected["type"]
    assert str(info.value).split("\n")[0] == expected["message"]


def test_get_next_before_initialisation_is_tensorflows_error():
    expected = EXPECTED["errors"]["uninitialized"]
    with tf.Graph().as_default():
        nxt = tf.data.make_initializable_iterator(D.range(3)).get_next()
        with tf.Session() as sess, pytest.raises(tf.errors.FailedPreconditionError) as info:
            sess.run(nxt)
    assert info.value.message.split("\n")[0] == expected["message"]


def _values(dataset):
    with tf.Session() as sess:
        nxt = dataset.make_one_shot_iterator().get_next()
        out = []
        while True:
            try:
                out.append(_plain(sess.run(nxt)))
            except tf.errors.OutOfRangeError:
                return out


def test_ignore_errors_drops_the_elements_that_failed():
    with tf.Graph().as_default():
        dataset = D.from_tensor_slices([1.0, 0.0, 4.0]).map(lambda x: tf.check_numerics(1.0 / x, "bad")).apply(
            tf.data.experimental.ignore_errors())
        assert _values(dataset) == [1.0, 0.25]


def test_contrib_data_spellings_of_tf_1_4_to_1_12():
    with tf.Graph().as_default():
        assert _values(D.range(7).apply(tf.contrib.data.batch_and_drop_remainder(3))) == [[0, 1, 2], [3, 4, 5]]
        assert sorted(_values(D.range(4).apply(tf.contrib.data.shuffle_and_repeat(4, count=2, seed=1)))) == \
            [0, 0, 1, 1, 2, 2, 3, 3]
        padded = D.range(1, 4).map(lambda x: tf.fill([x], x)).apply(
            tf.contrib.data.padded_batch_and_drop_remainder(2, [3]))
        assert _values(padded) == [[[1, 0, 0], [2, 2, 0]]]


def test_a_dataset_of_another_structure_cannot_initialise_an_iterator():
    with tf.Graph().as_default():
        it = tf.data.Iterator.from_structure((tf.int64, tf.int64))
        with pytest.raises(ValueError, match="don't have the same nested structure"):
            it.make_initializer(D.range(3).map(lambda x: {"a": x, "b": x}))


def test_map_functions_take_and_return_nested_structures():
    with tf.Graph().as_default():
        dataset = D.from_tensor_slices({"x": np.arange(3), "pair": (np.arange(3) * 2, np.ones(3))})
        mapped = dataset.map(lambda d: {"sum": d["x"] + d["pair"][0], "rest": (d["pair"][1],)})
        assert _shapes(mapped) == {"rest": [[]], "sum": []}
        assert _values(mapped) == [{"rest": [1.0], "sum": 0}, {"rest": [1.0], "sum": 3}, {"rest": [1.0], "sum": 6}]


def test_map_functions_capture_graph_tensors_and_random_ops_replay_per_initialisation():
    with tf.Graph().as_default():
        offset = tf.constant(100, tf.int64)
        noisy = D.range(4).map(lambda x: (x + offset, tf.random_uniform([], seed=3)))
        it = noisy.make_initializable_iterator()
        nxt = it.get_next()
        with tf.Session() as sess:
            sess.run(it.initializer)
            first = [sess.run(nxt) for _ in range(4)]
            sess.run(it.initializer)
            again = [sess.run(nxt) for _ in range(4)]
        assert [a for a, _ in first] == [100, 101, 102, 103]
        assert first == again and len({b for _, b in first}) == 4
