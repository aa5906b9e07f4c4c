"""Session.run: fetch structures, feeds, plans, ownership of results, default sessions, threads."""
import collections
import threading

import numpy as np
import pytest

import caudal as tf


def test_fetch_structures_are_rebuilt():
    a = tf.constant(1.0)
    b = tf.constant([2, 3])
    Pair = collections.namedtuple("Pair", ["x", "y"])
    with tf.Session() as sess:
        result = sess.run({"a": a, "nested": [b, (a, {"deep": b})], "pair": Pair(a, b)})
    assert result["a"] == 1.0
    np.testing.assert_array_equal(result["nested"][0], [2, 3])
    assert result["nested"][1][0] == 1.0
    np.testing.assert_array_equal(result["nested"][1][1]["deep"], [2, 3])
    assert isinstance(result["nested"][1], tuple)
    assert isinstance(result["pair"], Pair) and result["pair"].x == 1.0


def test_ordered_dict_type_is_kept():
    a = tf.constant(1)
    with tf.Session() as sess:
        result = sess.run(collections.OrderedDict([("z", a), ("a", a)]))
    assert isinstance(result, collections.OrderedDict)
    assert list(result) == ["z", "a"]


def test_fetch_by_name_and_operation():
    a = tf.constant(3.0, name="three")
    init = tf.no_op(name="nothing")
    with tf.Session() as sess:
        assert sess.run("three:0") == 3.0
        assert sess.run("nothing") is None
        assert sess.run(init) is None
        assert sess.run([a, init]) == [3.0, None]


def test_duplicate_fetches_run_once_and_give_equal_values():
    v = tf.Variable(0)
    inc = tf.assign_add(v, 1)
    with tf.Session() as sess:
        sess.run(v.initializer)
        first, second = sess.run([inc, inc])
        assert first == second == 1
        assert sess.run(v) == 1


def test_scalar_results_are_numpy_scalars_and_arrays_are_copies():
    a = tf.constant([1.0, 2.0])
    v = tf.Variable([5.0, 6.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        s = sess.run(tf.reduce_sum(a))
        assert isinstance(s, np.float32)
        got = sess.run(a)
        got[0] = 100.0
        np.testing.assert_array_equal(sess.run(a), [1.0, 2.0])
        held = sess.run(v)
        held += 1
        np.testing.assert_array_equal(sess.run(v), [5.0, 6.0])


def test_later_run_never_changes_an_array_the_user_holds():
    v = tf.Variable([1.0, 1.0])
    add = tf.assign_add(v, [1.0, 1.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        held = sess.run(v)
        sess.run(add)
        np.testing.assert_array_equal(held, [1.0, 1.0])
        np.testing.assert_array_equal(sess.run(v), [2.0, 2.0])


def test_fed_array_is_copied_so_later_mutation_does_not_reach_variables():
    x = tf.placeholder(tf.float32, [2])
    v = tf.Variable([0.0, 0.0])
    set_v = tf.assign(v, x)
    value = np.array([1.0, 2.0], np.float32)
    with tf.Session() as sess:
        sess.run(set_v, {x: value})
        value[0] = 99.0
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_feeds_by_tensor_and_by_name_and_on_non_placeholders():
    x = tf.placeholder(tf.float32, [None], name="x")
    c = tf.constant(10.0)
    y = x * c
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y, {x: [1, 2]}), [10, 20])
        np.testing.assert_array_equal(sess.run(y, {"x:0": [3]}), [30])
        np.testing.assert_array_equal(sess.run(y, {x: [1], c: 2.0}), [2])
        # Feeding an intermediate tensor cuts the graph there.
        assert sess.run(y * 1.0, {y: [7.0]})[0] == 7.0


def test_feed_converts_to_the_placeholder_dtype():
    x = tf.placeholder(tf.float32)
    with tf.Session() as sess:
        out = sess.run(x * 2, {x: [1, 2]})
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [2, 4])


def test_placeholder_with_default_uses_default_or_feed():
    d = tf.placeholder_with_default(tf.constant([1.0, 2.0]), shape=[None])
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(d), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(d, {d: [5.0, 6.0, 7.0]}), [5, 6, 7])


def test_plans_are_cached_per_signature():
    x = tf.placeholder(tf.float32)
    y = x + 1
    with tf.Session() as sess:
        sess.run(y, {x: 1})
        sess.run(y, {x: 2})
        assert len(sess._plans) == 1
        sess.run([y, x], {x: 2})
        assert len(sess._plans) == 2


def test_plan_cache_is_invalidated_when_a_control_input_is_added():
    v = tf.Variable(0)
    inc = tf.assign_add(v, 1)
    read = v.read_value()
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(read) == 0
        read.op._add_control_input(inc.op)
        assert sess.run(read) == 1


def test_pruning_runs_only_what_fetches_need():
    v = tf.Variable(0)
    inc = tf.assign_add(v, 1)
    unrelated = tf.constant(2) * 3
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(unrelated)
        assert sess.run(v) == 0
        sess.run(inc)
        assert sess.run(v) == 1


def test_control_dependencies_order_reads_after_writes():
    v = tf.Variable(1.0)
    assign = v.assign(5.0)
    with tf.control_dependencies([assign]):
        after = v.read_value()
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(after) == 5.0


def test_group_and_tuple():
    a = tf.Variable(0)
    b = tf.Variable(0)
    both = tf.group(tf.assign(a, 1), tf.assign(b, 2))
    assert both.type == "NoOp"
    x = tf.constant(1.0)
    y = tf.constant(2.0)
    tx, ty = tf.tuple([x, y])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(both) is None
        assert sess.run([a, b]) == [1, 2]
        assert sess.run([tx, ty]) == [1.0, 2.0]


def test_session_context_manager_sets_defaults_and_closes():
    c = tf.constant(4.0)
    with tf.Session() as sess:
        assert tf.get_default_session() is sess
        assert c.eval() == 4.0
    assert tf.get_default_session() is None
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session."):
        sess.run(c)


def test_interactive_session_is_default_until_closed():
    c = tf.constant(2.0)
    sess = tf.InteractiveSession()
    assert tf.get_default_session() is sess
    assert c.eval() == 2.0
    op = tf.no_op()
    op.run()
    sess.close()
    assert tf.get_default_session() is None


def test_as_default_and_eval_with_explicit_session():
    c = tf.constant(1.5)
    sess = tf.Session()
    with sess.as_default():
        assert c.eval() == 1.5
    assert c.eval(session=sess) == 1.5
    with pytest.raises(ValueError, match="No default session is registered"):
        c.eval()
    sess.close()


def test_session_with_explicit_graph():
    g = tf.Graph()
    with g.as_default():
        c = tf.constant(7)
    with tf.Session(graph=g) as sess:
        assert sess.graph is g
        assert sess.run(c) == 7


def test_make_callable():
    x = tf.placeholder(tf.float32, [])
    y = x * 3
    with tf.Session() as sess:
        run = sess.make_callable([y], feed_list=[x])
        assert run(2.0) == [6.0]


def test_concurrent_runs_from_threads_are_safe():
    v = tf.Variable(0)
    inc = tf.assign_add(v, 1)
    x = tf.placeholder(tf.float32, [None])
    y = tf.reduce_sum(x * 2.0)
    sess = tf.Session()
    sess.run(v.initializer)
    errors = []

    def worker(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            for _ in range(200):
                sess.run(inc)
                data = rng.random(5).astype(np.float32)
                assert np.isclose(sess.run(y, {x: data}), 2 * data.sum(), rtol=1e-5)
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sess.run(v) == 800
    sess.close()


def test_list_devices_reports_the_cpu():
    with tf.Session() as sess:
        devices = sess.list_devices()
    assert devices[0].device_type == "CPU"
