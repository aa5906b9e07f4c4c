"""What makes a recurrent training step cheaper without changing a value: in-place writes inside
one pass of a loop body, and the NumPy variants of the LSTM cell's kernels (Sigmoid, SigmoidGrad,
TanhGrad bit for bit the portable formulas; Split, Slice, ConcatOffset, Shape, Sum,
BroadcastGradientArgs with less work per call)."""
import numpy as np
import pytest

import caudal as tf
from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes
from caudal.framework.graph import make_op
from caudal.framework.registry import get_op_def


def _source(sess):
    (plan,) = sess._plans.values()
    return plan.source


def _loop_lines(source):
    """The lines of the plan's first while loop (indented deeper than the function body)."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "while True:")
    indent = len(lines[start]) - len(lines[start].lstrip())
    body = []
    for line in lines[start + 1:]:
        if len(line) - len(line.lstrip()) <= indent:
            break
        body.append(line)
    return body


W = np.array([[0.5, -0.25], [0.75, 0.1]], np.float32)
B = np.array([0.2, -0.4], np.float32)
H0 = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)


def test_a_loop_body_writes_its_bias_into_the_matmul_output(monkeypatch):
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")  # in-place writes are the NumPy backend's
    h0 = tf.placeholder(tf.float32, [None, 2])
    _, h = tf.while_loop(lambda i, h: i < 3,
                         lambda i, h: (i + 1, tf.tanh(tf.nn.bias_add(tf.matmul(h, tf.constant(W)), tf.constant(B)))),
                         [0, h0])
    with tf.Session() as sess:
        got = sess.run(h, {h0: H0})
        body = _loop_lines(_source(sess))
    expected = H0
    for _ in range(3):
        expected = np.tanh(expected @ W + B)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert sum("_inplace(" in line for line in body) == 2  # the bias add, then the tanh


def test_a_value_from_outside_the_loop_is_not_overwritten_by_a_pass(monkeypatch):
    # m is fresh and dies in the loop, but every pass reads it again.
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")
    x = tf.placeholder(tf.float32, [None, 2])
    m = tf.matmul(x, tf.constant(W))
    _, total = tf.while_loop(lambda i, acc: i < 4,
                             lambda i, acc: (i + 1, acc + tf.nn.bias_add(m, tf.constant(B))),
                             [0, tf.zeros_like(x)])
    with tf.Session() as sess:
        got = sess.run(total, {x: H0})
        body = _loop_lines(_source(sess))
    np.testing.assert_allclose(got, 4 * (H0 @ W + B), rtol=1e-6)
    assert not any("_inplace(" in line for line in body)


def test_a_loop_variable_is_not_overwritten(monkeypatch):
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")
    h0 = tf.placeholder(tf.float32, [None, 2])
    w, b = tf.constant(W), tf.constant(B)
    _, h, s = tf.while_loop(lambda i, h, s: i < 3,
                            lambda i, h, s: (i + 1, tf.matmul(h, w), s + tf.nn.bias_add(h, b)),
                            [0, h0, tf.zeros_like(h0)])
    with tf.Session() as sess:
        got_h, got_s = sess.run([h, s], {h0: H0})
    expected_h, expected_s = H0, np.zeros_like(H0)
    for _ in range(3):
        expected_h, expected_s = expected_h @ W, expected_s + expected_h + B
    np.testing.assert_allclose(got_h, expected_h, rtol=1e-6)
    np.testing.assert_allclose(got_s, expected_s, rtol=1e-6)


def test_a_value_the_gradient_loop_keeps_is_not_overwritten(monkeypatch):
    # z is pushed onto the loop's history for the gradient of z * bias_add(z, b), after the bias add
    # used it: it must not be overwritten.
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")
    h0 = tf.placeholder(tf.float64, [None, 2])
    w = tf.constant(W.astype(np.float64))
    b = tf.constant(B.astype(np.float64))

    def body(i, h):
        z = tf.matmul(h, w)
        return i + 1, tf.tanh(z * tf.nn.bias_add(z, b))

    _, h = tf.while_loop(lambda i, h: i < 3, body, [0, h0])
    loss = tf.reduce_sum(h)
    (grad,) = tf.gradients(loss, [h0])
    with tf.Session() as sess:
        got = sess.run(grad, {h0: H0.astype(np.float64)})

    def forward(h):
        for _ in range(3):
            z = h @ W.astype(np.float64)
            h = np.tanh(z * (z + B))
        return h.sum()

    eps = 1e-6
    expected = np.zeros_like(H0, np.float64)
    for index in np.ndindex(*H0.shape):
        step = np.zeros_like(expected)
        step[index] = eps
        expected[index] = (forward(H0 + step) - forward(H0 - step)) / (2 * eps)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-8)


def _numpy_kernel(op_type):
    return get_op_def(op_type).kernel_for("numpy")


def _special_values(dtype, shape=(37, 33)):
    values = (np.random.default_rng(3).standard_normal(shape) * 30).astype(dtype)
    values.flat[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, -100, 100, -1e-30]
    return values


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sigmoid_on_numpy_is_as_accurate_as_the_portable_formula(dtype):
    x = _special_values(dtype)
    portable = get_op_def("Sigmoid").kernel
    with np.errstate(all="ignore"):
        exact = 1 / (1 + np.exp(-x.astype(np.longdouble)))
        for values, reference in ((x, exact), (x[:, ::3], exact[:, ::3]), (x.T, exact.T)):
            got = _numpy_kernel("Sigmoid")(np, values)
            assert got.dtype == dtype
            ulp = np.spacing(np.abs(reference).astype(dtype)).astype(np.longdouble)
            normal = np.abs(reference) >= np.finfo(dtype).tiny  # below it TF's kernels flush to zero
            want = portable(np, values)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            assert np.all(np.abs(got - reference)[normal] <= 3 * ulp[normal])
            assert np.all(np.abs(got - reference)[normal] <= np.abs(want - reference)[normal] + 2 * ulp[normal])
            assert np.all(got[~normal & ~np.isnan(reference)] <= np.finfo(dtype).tiny)
    tiny = _numpy_kernel("Sigmoid")(np, np.array(-60, dtype))  # 0-d arrays too; tiny results keep their precision
    assert tiny == portable(np, np.array(-60, dtype)) and (tiny > 0 or dtype == np.float16)


def test_sigmoid_of_a_fed_scalar(monkeypatch):
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")
    x = tf.placeholder(tf.float32, [])
    with tf.Session() as sess:
        got = sess.run(tf.sigmoid(x), {x: -3.0})
    np.testing.assert_allclose(got, 1 / (1 + np.exp(3.0)), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_sigmoid_and_tanh_gradients_on_numpy_are_the_portable_formulas_bit_for_bit(dtype):
    x = _special_values(dtype)
    dy = np.random.default_rng(4).standard_normal(x.shape).astype(dtype)
    for op_type, y in (("SigmoidGrad", get_op_def("Sigmoid").kernel(np, x)), ("TanhGrad", np.tanh(x))):
        portable = get_op_def(op_type).kernel(np, y, dy)
        got = _numpy_kernel(op_type)(np, y, dy)
        assert got.dtype == portable.dtype == dtype
        np.testing.assert_array_equal(got, portable)
        # Broadcasting operands take the portable path.
        np.testing.assert_array_equal(_numpy_kernel(op_type)(np, y[:1], dy), get_op_def(op_type).kernel(np, y[:1], dy))


def test_split_returns_views_of_equal_parts_along_any_axis():
    value = np.arange(24, dtype=np.float32).reshape(2, 6, 2)
    kernel = _numpy_kernel("Split")
    for axis in (0, 1, -1):
        parts = kernel(np, np.array(axis, np.int32), value, num_split=2)
        expected = np.split(value, 2, axis=axis)
        assert len(parts) == 2
        for got, want in zip(parts, expected):
            np.testing.assert_array_equal(got, want)
            assert np.shares_memory(got, value)


def test_split_of_an_uneven_dimension_raises_tf_error():
    with pytest.raises(InvalidArgumentError, match="Number of ways to split should evenly divide the split "
                                                   r"dimension, but got split_dim 1 \(size = 5\) and num_split 2"):
        _numpy_kernel("Split")(np, np.array(1, np.int32), np.zeros((2, 5), np.float32), num_split=2)


def test_concat_offsets_are_fresh_answers_per_shape_and_read_only():
    kernel = _numpy_kernel("ConcatOffset")
    first = kernel(np, np.array(1, np.int32), np.array([4, 3], np.int32), np.array([4, 5], np.int32))
    np.testing.assert_array_equal(first[0], [0, 0])
    np.testing.assert_array_equal(first[1], [0, 3])
    assert all(o.dtype == np.int32 and not o.flags.writeable for o in first)
    other = kernel(np, np.array(-2, np.int32), np.array([4, 3], np.int32), np.array([6, 3], np.int32))
    np.testing.assert_array_equal(other[1], [4, 0])


def test_fetched_concat_offsets_belong_to_the_caller():
    first = tf.placeholder(tf.int32, [2])
    second = tf.placeholder(tf.int32, [2])
    offsets = make_op("ConcatOffset", [tf.constant(1), first, second], {"N": 2}).outputs
    feed = {first: [2, 3], second: [2, 4]}
    with tf.Session() as sess:
        got = sess.run(offsets, feed)
        got[1][1] = 99
        np.testing.assert_array_equal(sess.run(offsets, feed)[1], [0, 3])


def test_slice_shape_and_sum_kernels_match_numpy():
    x = np.arange(30, dtype=np.float32).reshape(5, 6)
    sliced = _numpy_kernel("Slice")(np, x, np.array([1, 2], np.int32), np.array([-1, 3], np.int64))
    np.testing.assert_array_equal(sliced, x[1:, 2:5])
    shape = _numpy_kernel("Shape")(np, x, out_type=dtypes.int64)
    assert shape.dtype == np.int64 and shape.tolist() == [5, 6]
    assert _numpy_kernel("Shape")(np, 3.0, out_type=dtypes.int32).shape == (0,)
    assert _numpy_kernel("Sum")(np, x, np.zeros(0, np.int32), keep_dims=True) is x
    np.testing.assert_array_equal(_numpy_kernel("Sum")(np, x, np.array([0], np.int32), keep_dims=True),
                                  x.sum(0, keepdims=True))
    r0, r1 = _numpy_kernel("BroadcastGradientArgs")(np, np.array([5, 1], np.int32), np.array([1, 6], np.int32))
    assert r0.tolist() == [1] and r1.tolist() == [0]


def test_broadcast_gradient_args_of_incompatible_shapes_raises_tf_error():
    with pytest.raises(InvalidArgumentError, match=r"Incompatible shapes: \[5, 2\] vs. \[5, 3\]"):
        _numpy_kernel("BroadcastGradientArgs")(np, np.array([5, 2], np.int32), np.array([5, 3], np.int32))


def test_a_gradient_accumulated_over_passes_is_written_into_the_new_term(monkeypatch):
    # The gradient loop sums the passes' matmul(h, dz) for w: acc + product, written into the
    # product (fresh, and dead after the sum), never into the accumulator.
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")
    h0 = tf.placeholder(tf.float64, [None, 2])
    w = tf.Variable(W.astype(np.float64))
    _, h = tf.while_loop(lambda i, h: i < 3, lambda i, h: (i + 1, tf.tanh(tf.matmul(h, w))), [0, h0])
    (grad,) = tf.gradients(tf.reduce_sum(h), [w])
    with tf.Session() as sess:
        sess.run(w.initializer)
        got = sess.run(grad, {h0: H0.astype(np.float64)})
        plan = max(sess._plans.values(), key=lambda p: len(p.ops))
    written = [op.type for op, line in zip(plan.step_ops, plan.source.splitlines()[1:]) if "_inplace(" in line]
    assert written == ["Tanh", "AddV2"]  # the forward pass's tanh into its matmul, the sum into the product

    def loss(weights):
        value = H0.astype(np.float64)
        for _ in range(3):
            value = np.tanh(value @ weights)
        return value.sum()

    eps = 1e-6
    expected = np.zeros((2, 2))
    for index in np.ndindex(2, 2):
        step = np.zeros((2, 2))
        step[index] = eps
        expected[index] = (loss(W + step) - loss(W - step)) / (2 * eps)
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_in_place_writes_on_a_cond_branch(monkeypatch):
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")
    pred = tf.placeholder(tf.bool, [])
    x = tf.placeholder(tf.float32, [None, 2])
    w = tf.constant(W)
    y = tf.cond(pred, lambda: tf.nn.relu(tf.matmul(x, w)) * tf.matmul(x, w + 1.0), lambda: x - 1.0)
    with tf.Session() as sess:
        taken = sess.run(y, {pred: True, x: H0})
        other = sess.run(y, {pred: False, x: H0})
        source = _source(sess)
    np.testing.assert_allclose(taken, np.maximum(H0 @ W, 0) * (H0 @ (W + 1)), rtol=1e-6)
    np.testing.assert_allclose(other, H0 - 1)
    assert "DEAD if" in source and "_inplace(" in source
