"""tf.while_loop: TF1 semantics, frame ops in GraphDefs, gradients, and bad input."""
from __future__ import annotations

import collections
import re

import numpy as np
import pytest

import caudal as tf
from caudal.ops import list_ops


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed_dict)


# ------------------------------------------------------------------ values
def test_counter_and_vector_loop():
    x = tf.placeholder(tf.float32, [3])
    i, v = tf.while_loop(lambda i, v: i < 5, lambda i, v: (i + 1, v * 2.0 + 1.0), [0, x])
    got_i, got_v = _run([i, v], {x: [1.0, 2.0, 3.0]})
    assert got_i == 5
    expected = np.array([1.0, 2.0, 3.0], np.float32)
    for _ in range(5):
        expected = expected * 2 + 1
    np.testing.assert_allclose(got_v, expected)
    assert v.dtype == tf.float32 and v.shape.as_list() == [3]


def test_single_loop_var_is_returned_unpacked_and_zero_iterations():
    r = tf.while_loop(lambda i: i < 10, lambda i: i + 3, [0])
    assert isinstance(r, tf.Tensor)
    assert _run(r) == 12
    n = tf.placeholder(tf.int32, [])
    none_run = tf.while_loop(lambda i: i < n, lambda i: i + 1, [n])
    assert _run(none_run, {n: 4}) == 4


def test_return_same_structure_keeps_the_list():
    r = tf.while_loop(lambda i: i < 3, lambda i: [i + 1], [0], return_same_structure=True)
    assert isinstance(r, list) and len(r) == 1
    assert _run(r) == [3]


def test_collatz_steps_of_a_fed_number():
    n = tf.placeholder(tf.int32, [])

    def body(steps, m):
        return steps + 1, tf.where(tf.equal(m % 2, 0), m // 2, 3 * m + 1)

    steps, _ = tf.while_loop(lambda steps, m: m > 1, body, [0, n])
    with tf.Session() as sess:
        assert sess.run(steps, {n: 27}) == 111
        assert sess.run(steps, {n: 1}) == 0
        assert sess.run(steps, {n: 6}) == 8


def test_nested_structures_namedtuples_and_dicts():
    Pair = collections.namedtuple("Pair", "a b")
    start = (tf.constant(0), Pair(tf.constant(1.0), [tf.constant(2.0), tf.constant(3.0)]), {"k": tf.constant(4)})

    def body(i, pair, d):
        return i + 1, Pair(pair.a * 2.0, [pair.b[0] + 1.0, pair.b[1]]), {"k": d["k"] + i}

    result = tf.while_loop(lambda i, pair, d: i < 3, body, start)
    assert isinstance(result[1], Pair) and isinstance(result[2], dict)
    got = _run(result)
    assert got[0] == 3 and got[1].a == 8.0 and got[1].b == [5.0, 3.0] and got[2] == {"k": 7}


def test_loop_invariant_enters_once_and_tf_node_names():
    w = tf.constant(2.0, name="w")
    x = tf.placeholder(tf.float32, [], name="x")
    tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * w), [0, x])
    ops = {op.name: op for op in tf.get_default_graph().get_operations()}
    for name in ["while/Enter", "while/Enter_1", "while/Merge", "while/Merge_1", "while/LoopCond", "while/Switch",
                 "while/Switch_1", "while/Identity", "while/Identity_1", "while/NextIteration",
                 "while/NextIteration_1", "while/Exit", "while/Exit_1"]:
        assert name in ops, name
    assert ops["while/Enter"].get_attr("frame_name") == "while/while_context"
    assert ops["while/Enter"].get_attr("is_constant") is False
    assert ops["while/Enter"].get_attr("parallel_iterations") == 10
    invariants = [op for op in ops.values() if op.type == "Enter" and op.get_attr("is_constant")]
    assert [op.inputs[0].name for op in invariants] == ["w:0"]
    assert [t.name for t in ops["while/Merge"].inputs] == ["while/Enter:0", "while/NextIteration:0"]
    assert ops["while/add/y"].control_inputs == [ops["while/Identity"]]


def test_shape_invariants_let_a_vector_grow():
    v0 = tf.constant([1.0])
    _, v = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, tf.concat([v, v], 0)), [0, v0],
                         shape_invariants=[tf.TensorShape([]), tf.TensorShape([None])])
    assert v.shape.as_list() == [None]
    np.testing.assert_array_equal(_run(v), np.ones(8, np.float32))


def test_maximum_iterations():
    i = tf.while_loop(lambda i: i < 100, lambda i: i + 1, [0], maximum_iterations=7)
    assert _run(i) == 7
    limit = tf.placeholder(tf.int32, [])
    a, b = tf.while_loop(lambda a, b: a < 100, lambda a, b: (a + 1, b * 2), (0, 1), maximum_iterations=limit)
    assert _run([a, b], {limit: 4}) == [4, 16]
    # As in TF, the counter wraps the loop variables in a tuple, so a list must come back as a list.
    with pytest.raises(TypeError, match="don't have the same sequence type"):
        tf.while_loop(lambda a, b: a < 100, lambda a, b: (a + 1, b * 2), [0, 1], maximum_iterations=3)
    ops = [op.name for op in tf.get_default_graph().get_operations()]
    assert "while/iteration_counter" in ops


def test_reading_and_assigning_a_variable_in_the_body():
    v = tf.Variable(1.0)
    # read_value() reads the variable each iteration; the assign is seen by the next read.
    _, total = tf.while_loop(lambda i, t: i < 3,
                             lambda i, t: (i + 1, t + tf.assign_add(v, 1.0) * 0.0 + v.read_value()), [0, 0.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(total) == 2.0 + 3.0 + 4.0
        assert sess.run(v) == 4.0


def test_tf_assign_in_body_and_snapshot_read():
    v = tf.Variable(10.0)
    _, out = tf.while_loop(lambda i, t: i < 4, lambda i, t: (i + 1, t + (v + 0.0)), [0, 0.0])
    count = tf.Variable(0)
    counted = tf.while_loop(lambda i: i < 5, lambda i: tf.tuple([i + 1], control_inputs=[tf.assign_add(count, 1)])[0],
                            [0])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(out) == 40.0
        assert sess.run(counted) == 5
        assert sess.run(count) == 5


def test_variables_created_in_the_body_are_created_once():
    x = tf.placeholder(tf.float32, [2, 3])

    def body(i, h):
        with tf.variable_scope("cell", reuse=tf.AUTO_REUSE):
            w = tf.get_variable("w", [3, 3], initializer=tf.ones_initializer())
        return i + 1, tf.matmul(h, w)

    _, out = tf.while_loop(lambda i, h: i < 2, body, [0, x])
    assert [v.name for v in tf.global_variables()] == ["cell/w:0"]
    np.testing.assert_allclose(_run(out, {x: np.ones((2, 3))}), np.full((2, 3), 9.0))


def test_nested_loops():
    n = tf.placeholder(tf.int32, [])

    def outer(i, acc):
        _, inner = tf.while_loop(lambda j, s: j < i, lambda j, s: (j + 1, s + tf.cast(i * j, tf.float32)), [0, acc])
        return i + 1, inner

    _, total = tf.while_loop(lambda i, acc: i < n, outer, [0, 0.0])
    assert _run(total, {n: 6}) == sum(i * j for i in range(6) for j in range(i))


def test_cond_inside_loop_and_loop_inside_cond():
    c = tf.placeholder(tf.float32, [])
    _, y = tf.while_loop(lambda i, v: i < 4,
                         lambda i, v: (i + 1, tf.cond(tf.equal(i % 2, 0), lambda: v * c, lambda: v + c)), [0, c])
    assert _run(y, {c: 2.0}) == 14.0
    p = tf.placeholder(tf.bool, [])
    v = tf.Variable(0)
    z = tf.cond(p, lambda: tf.while_loop(lambda i: i < 10, lambda i: i + 2, [0]),
                lambda: tf.while_loop(lambda i: i < 3, lambda i: i + tf.assign_add(v, 1), [0]))
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(z, {p: True}) == 10
        assert sess.run(v) == 0  # the untaken branch's loop, and its assign, never ran
        assert sess.run(z, {p: False}) == 3
        assert sess.run(v) == 2


def test_plan_is_reused_and_each_session_has_its_own_state():
    v = tf.Variable(0)
    loop = tf.while_loop(lambda i: i < 3, lambda i: i + tf.assign_add(v, 1) * 0 + 1, [0])
    first, second = tf.Session(), tf.Session()
    for sess in (first, second):
        sess.run(v.initializer)
    assert first.run(loop) == 3 and first.run(loop) == 3
    assert first.run(v) == 6 and second.run(v) == 0
    assert len(first._plans) == 3


# --------------------------------------------------------------- gradients
def test_gradient_of_initial_value_and_captured_tensor():
    x = tf.placeholder(tf.float32, [3])
    w = tf.constant(2.0)
    _, v = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * w + 1.0), [0, x])
    gx, gw = tf.gradients(v, [x, w])
    xs = np.array([1.0, 2.0, 3.0], np.float32)
    got_gx, got_gw = _run([gx, gw], {x: xs})
    np.testing.assert_allclose(got_gx, [8.0, 8.0, 8.0])
    assert got_gw == pytest.approx(float(np.sum(3 * 4 * xs + 2 * 2 + 1)))


def test_newton_iteration_gradient_matches_the_analytic_one():
    a = tf.placeholder(tf.float64, [])
    _, root = tf.while_loop(lambda i, x: i < 30, lambda i, x: (i + 1, x - (x * x - a) / (2.0 * x)), [0, a])
    grad = tf.gradients(root, a)[0]
    for value in [2.0, 9.0, 0.5]:
        got_root, got_grad = _run([root, grad], {a: value})
        assert got_root == pytest.approx(np.sqrt(value))
        assert got_grad == pytest.approx(0.5 / np.sqrt(value), rel=1e-9)


def test_rnn_like_recurrence_looped_equals_unrolled_in_values_and_gradients():
    steps, batch, units = 50, 3, 5
    rng = np.random.RandomState(0)
    inputs = tf.constant(rng.randn(steps, batch, units).astype(np.float32) * 0.5)
    w = tf.Variable(rng.randn(units, units).astype(np.float32) * 0.4)
    b = tf.Variable(np.zeros(units, np.float32) + 0.1)
    h0 = tf.placeholder(tf.float32, [batch, units])

    def cell(h, x):
        return tf.tanh(tf.matmul(h, w) + x + b)

    _, looped = tf.while_loop(lambda t, h: t < steps, lambda t, h: (t + 1, cell(h, tf.gather(inputs, t))), [0, h0])
    unrolled = h0
    for t in range(steps):
        unrolled = cell(unrolled, inputs[t])
    loss_looped = tf.reduce_sum(tf.square(looped))
    loss_unrolled = tf.reduce_sum(tf.square(unrolled))
    grads_looped = tf.gradients(loss_looped, [w, b, h0])
    grads_unrolled = tf.gradients(loss_unrolled, [w, b, h0])
    feed = {h0: rng.randn(batch, units).astype(np.float32)}
    got_looped = _run([looped] + grads_looped, feed)
    got_unrolled = _run([unrolled] + grads_unrolled, feed)
    for a, b_ in zip(got_looped, got_unrolled):
        np.testing.assert_allclose(a, b_, rtol=1e-5, atol=1e-6)


def test_gradient_through_nested_loops():
    n = tf.placeholder(tf.float64, [])

    def outer(i, acc):
        _, inner = tf.while_loop(lambda j, s: j < 3, lambda j, s: (j + 1, s * n), [0, acc])
        return i + 1, inner

    _, result = tf.while_loop(lambda i, acc: i < 2, outer, [0, tf.constant(1.0, tf.float64)])
    grad = tf.gradients(result, n)[0]
    got, got_grad = _run([result, grad], {n: 1.5})
    assert got == pytest.approx(1.5 ** 6)
    assert got_grad == pytest.approx(6 * 1.5 ** 5)


def test_gradient_through_cond_inside_loop():
    c = tf.placeholder(tf.float32, [])
    _, y = tf.while_loop(lambda i, v: i < 4,
                         lambda i, v: (i + 1, tf.cond(tf.equal(i % 2, 0), lambda: v * c, lambda: v + c)), [0, c])
    grad = tf.gradients(y, c)[0]
    assert _run(grad, {c: 2.0}) == pytest.approx(3 * 4 + 2 * 2 + 1)  # y = c^3 + c^2 + c


def test_gradient_of_variable_used_in_body_and_training_step():
    w = tf.Variable(0.5)
    x = tf.placeholder(tf.float32, [])
    _, y = tf.while_loop(lambda i, v: i < 4, lambda i, v: (i + 1, v * w), [0, x])
    loss = tf.square(y - 1.0)
    train = tf.train.GradientDescentOptimizer(0.02).minimize(loss)
    with tf.Session() as sess:
        sess.run(w.initializer)
        for _ in range(100):
            sess.run(train, {x: 2.0})
        assert sess.run(y, {x: 2.0}) == pytest.approx(1.0, abs=1e-3)


def test_back_prop_false_and_second_order_gradients():
    x = tf.placeholder(tf.float32, [])
    _, y = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), [0, x], back_prop=False)
    assert tf.gradients(y, x) == [None]
    _, z = tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), [0, x])
    first = tf.gradients(z, x)[0]
    with pytest.raises(TypeError, match="Second-order gradient for while loops not supported."):
        tf.gradients(first, x)


def test_gradient_with_zero_iterations_is_the_identity():
    x = tf.placeholder(tf.float32, [])
    n = tf.placeholder(tf.int32, [])
    _, y = tf.while_loop(lambda i, v: i < n, lambda i, v: (i + 1, v * v), [0, x])
    grad = tf.gradients(y, x)[0]
    with tf.Session() as sess:
        assert sess.run(grad, {x: 3.0, n: 0}) == 1.0
        assert sess.run(grad, {x: 3.0, n: 2}) == pytest.approx(4 * 3.0 ** 3)


# --------------------------------------------------------------- bad input
def _line_of(pattern: str) -> int:
    with open(__file__) as f:
        for number, line in enumerate(f, 1):
            if pattern in line:
                return number
    raise AssertionError(pattern)


def test_cond_returning_a_non_boolean():
    with pytest.raises(TypeError) as info:
        tf.while_loop(lambda i: tf.cast(i, tf.float32), lambda i: i + 1, [0])  # non-boolean cond
    message = str(info.value)
    assert "Input 'input' of 'LoopCond' Op has type float32 that does not match expected type of bool." in message
    assert "while/LoopCond" in message
    assert f"test_while_loop.py:{_line_of('# non-boolean cond')}" in message


def test_cond_returning_a_non_scalar():
    with pytest.raises(ValueError) as info:
        tf.while_loop(lambda i: tf.constant([True, False]), lambda i: i + 1, [0])  # non-scalar cond
    message = str(info.value)
    assert "Shape must be rank 0 but is rank 1" in message and "while/LoopCond" in message
    assert f"test_while_loop.py:{_line_of('# non-scalar cond')}" in message


def test_body_returning_another_structure():
    with pytest.raises(ValueError, match="The two structures don't have the same nested structure"):
        tf.while_loop(lambda i, j: i < 3, lambda i, j: (i + 1,), [0, 1])
    with pytest.raises(ValueError, match="is a sequence, while substructure"):
        tf.while_loop(lambda i, j: i < 3, lambda i, j: (i + 1, [j]), [0, 1])


def test_body_returning_another_dtype():
    with pytest.raises(TypeError, match=re.escape("enters the loop with type int32, but has type float32 after "
                                                  "one iteration")):
        tf.while_loop(lambda i: i < 3, lambda i: tf.cast(i, tf.float32) + 1, [0])


def test_shape_change_without_invariant():
    with pytest.raises(ValueError, match=re.escape(
            "enters the loop with shape (1,), but has shape (2,) after one iteration. To allow the shape to vary "
            "across iterations, use the `shape_invariants` argument of tf.while_loop to specify a less-specific "
            "shape.")):
        tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, tf.concat([v, v], 0)), [0, tf.constant([1.0])])
    with pytest.raises(ValueError, match="The shape invariant specified for .* is not compatible with the initial "
                                         "shape of the loop variable"):
        tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v), [0, tf.constant([1.0])],
                      shape_invariants=[tf.TensorShape([]), tf.TensorShape([2])])


def test_maximum_iterations_of_a_wrong_shape_or_dtype():
    with pytest.raises(ValueError, match=re.escape("'maximum_iterations' must be a scalar. Received shape: (2,)")):
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, [0], maximum_iterations=[2, 3])
    with pytest.raises(TypeError, match="'maximum_iterations' must be a number"):
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, [0], maximum_iterations=tf.constant("3"))
    with pytest.raises(TypeError, match="'maximum_iterations' must be a number"):
        tf.while_loop(lambda i: i < 3, lambda i: i + 1, [0], maximum_iterations=tf.constant(True))


def test_bad_arguments():
    with pytest.raises(TypeError, match="'cond' must be callable."):
        tf.while_loop(1, lambda i: i, [0])
    with pytest.raises(TypeError, match="'body' must be callable."):
        tf.while_loop(lambda i: i < 1, 1, [0])
    with pytest.raises(ValueError, match="'loop_vars' must be provided."):
        tf.while_loop(lambda i: i < 1, lambda i: i, [])
    with pytest.raises(TypeError, match="'parallel_iterations' must be a positive integer."):
        tf.while_loop(lambda i: i < 1, lambda i: i, [0], parallel_iterations=0)


def test_failing_iteration_changes_nothing_and_names_the_op():
    v = tf.Variable(0.0)
    x = tf.placeholder(tf.float32, [])

    def body(i, t):
        bumped = tf.assign_add(v, 1.0)
        check = tf.Assert(i < 3, [i])
        with tf.control_dependencies([check, bumped]):
            return i + 1, t + tf.random_uniform([], seed=1)

    loop = tf.while_loop(lambda i, t: i < 5, body, [0, x])
    draw = tf.random_uniform([], seed=2)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(loop, {x: 0.0})
        assert "assertion failed" in str(info.value) and "while/Assert" in str(info.value)
        assert sess.run(v) == 0.0  # the three assign_adds before the failure were rolled back
    with tf.Session() as fresh:
        expected_draw = fresh.run(draw)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run([loop, draw], {x: 0.0})
        assert sess.run(draw) == expected_draw  # the failed run's draws were rolled back too


def test_fetching_or_feeding_inside_a_loop_is_refused():
    x = tf.placeholder(tf.float32, [])
    inner = []

    def body(i, v):
        inner.append(v * 2.0)
        return i + 1, inner[-1]

    tf.while_loop(lambda i, v: i < 3, body, [0, x])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="inside a while loop"):
            sess.run(inner[0], {x: 1.0})


# ----------------------------------------------------------- graph files
def test_loop_round_trips_through_a_graph_def():
    n = tf.placeholder(tf.int32, [], name="n")
    x = tf.placeholder(tf.float32, [None], name="x")
    _, out = tf.while_loop(lambda i, v: i < n, lambda i, v: (i + 1, tf.cond(i > 1, lambda: v * 2.0, lambda: v - 1.0)),
                           [0, x])
    tf.identity(out, name="output")
    graph_def = tf.get_default_graph().as_graph_def()
    expected = _run("output:0", {n: 5, x: [1.0, 2.0]})
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run("output:0", {"n:0": 5, "x:0": [1.0, 2.0]}), expected)
    np.testing.assert_allclose(expected, [(1.0 - 2) * 8, (2.0 - 2) * 8])


def test_tensor_list_ops():
    empty = list_ops.empty_tensor_list([2], tf.float32)
    one = list_ops.tensor_list_push_back(empty, tf.constant([1.0, 2.0]))
    two = list_ops.tensor_list_push_back(one, tf.constant([3.0, 4.0]))
    rest, last = list_ops.tensor_list_pop_back(two, tf.float32, [2])
    stacked = list_ops.tensor_list_stack(two, tf.float32, [2])
    length = list_ops.tensor_list_length(two)
    got = _run([last, stacked, length, list_ops.tensor_list_length(rest), list_ops.tensor_list_stack(empty, tf.float32,
                                                                                                     [2])])
    np.testing.assert_array_equal(got[0], [3.0, 4.0])
    np.testing.assert_array_equal(got[1], [[1.0, 2.0], [3.0, 4.0]])
    assert got[2] == 2 and got[3] == 1 and got[4].shape == (0, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Trying to pop from an empty list."):
        _run(list_ops.tensor_list_pop_back(empty, tf.float32)[1])


def test_gradient_of_a_loop_inside_a_cond_branch():
    x = tf.placeholder(tf.float32, [])
    p = tf.placeholder(tf.bool, [])
    y = tf.cond(p, lambda: tf.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), [0, x])[1],
                lambda: x * 2.0)
    grad = tf.gradients(y, x)[0]
    with tf.Session() as sess:
        assert sess.run([y, grad], {x: 2.0, p: True}) == [16.0, 32.0]
        assert sess.run([y, grad], {x: 2.0, p: False}) == [4.0, 2.0]
