"""Tensor's Python operators: the nodes they build, as TF1 builds them, for Tensors and Variables alike."""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default():
        yield


def _node(t):
    return t.op.type, t.op.name, [i.op.name for i in t.op.inputs]


def test_binary_operators_convert_python_numbers_inside_their_name_scope():
    x = tf.constant([1.0, 2.0], name="x")
    assert _node(x + 1) == ("AddV2", "add", ["x", "add/y"])
    assert _node(x - 1) == ("Sub", "sub", ["x", "sub/y"])
    assert _node(x * 2) == ("Mul", "mul", ["x", "mul/y"])
    assert _node(x / 2) == ("RealDiv", "truediv", ["x", "truediv/y"])
    assert _node(x // 2) == ("FloorDiv", "floordiv", ["x", "floordiv/y"])
    assert _node(x % 2) == ("FloorMod", "mod", ["x", "mod/y"])
    assert _node(x ** 2) == ("Pow", "pow", ["x", "pow/y"])
    assert (x + 1).op.inputs[1].dtype == tf.float32


def test_reflected_operators_put_the_python_number_first():
    x = tf.constant([1.0, 2.0], name="x")
    assert _node(1 - x) == ("Sub", "sub", ["sub/x", "x"])
    assert _node(2 / x) == ("RealDiv", "truediv", ["truediv/x", "x"])
    assert _node(2 ** x) == ("Pow", "pow", ["pow/x", "x"])
    assert _node(np.float32(3) * x) == ("Mul", "mul", ["mul/x", "x"])
    result = np.array([1.0, 2.0], dtype=np.float32) + x  # NumPy defers to the Tensor
    assert isinstance(result, tf.Tensor) and _node(result) == ("AddV2", "add", ["add/x", "x"])


def test_comparisons_logic_matmul_unary_and_indexing():
    x = tf.constant([[1.0, 2.0]], name="x")
    b = tf.constant([True, False], name="b")
    assert _node(x < 2) == ("Less", "Less", ["x", "y"])  # the op's own name, TF's `y` constant
    assert [_node(c)[:2] for c in (x > 1, x <= 1, x >= 1)] == \
        [("Greater", "Greater"), ("LessEqual", "LessEqual"), ("GreaterEqual", "GreaterEqual")]
    assert [_node(b & b), _node(b | b), _node(~b)] == \
        [("LogicalAnd", "and", ["b", "b"]), ("LogicalOr", "or", ["b", "b"]), ("LogicalNot", "LogicalNot", ["b"])]
    assert _node(b ^ b) == ("LogicalAnd", "xor", ["xor/LogicalOr", "xor/LogicalNot"])
    assert _node(x @ tf.transpose(x))[:2] == ("MatMul", "matmul")
    assert [_node(-x), _node(abs(x))] == [("Neg", "Neg", ["x"]), ("Abs", "Abs", ["x"])]
    sliced = x[0, 1:]
    assert _node(sliced)[:2] == ("StridedSlice", "strided_slice") and sliced.shape.as_list() == [1]
    assert _node(x.__div__(2)) == ("RealDiv", "truediv", ["x", "truediv/y"])


def test_equality_stays_identity_and_truth_and_iteration_are_refused():
    x = tf.constant([1, 2])
    assert (x == x) is True and (x != tf.constant([1, 2])) is True
    assert len({x, x}) == 1
    with pytest.raises(TypeError, match="as a Python `bool` is not allowed"):
        bool(x)
    with pytest.raises(TypeError, match="only iterable when eager execution"):
        iter(x)


def test_variables_share_the_tensor_operator_methods():
    v = tf.Variable([1.0, 2.0], name="v")
    for name in ("__add__", "__radd__", "__getitem__", "__lt__", "__neg__", "__matmul__", "__div__"):
        assert getattr(tf.Variable, name) is getattr(tf.Tensor, name)
    assert _node(v + 1) == ("AddV2", "add", ["v/read", "add/y"])
    assert _node(1 + v) == ("AddV2", "add_1", ["add_1/x", "v/read"])
    assert _node(v[1]) == ("StridedSlice", "strided_slice", ["v/read", "strided_slice/stack",
                                                                  "strided_slice/stack_1", "strided_slice/stack_2"])
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(v[1] * 2 - 1) == 3.0
