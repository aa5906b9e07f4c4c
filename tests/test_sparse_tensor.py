"""SparseTensor: construction with TF's conversions and checks, static shapes, Session fetches and
feeds, sparse_placeholder, and the run-time checks of SparseToDense (messages from TF 2.21)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import caudal as tf
from caudal.framework.sparse_tensor import convert_to_tensor_or_sparse_tensor, is_sparse
from tests.records_fixtures import assert_same


def test_construction_converts_to_int64_in_a_sparse_tensor_scope():
    with tf.Graph().as_default() as graph:
        sp = tf.SparseTensor([[0, 1], [2, 3]], [1.0, 2.0], [3, 4])
        assert [op.name for op in graph.get_operations()] == [
            "SparseTensor/indices", "SparseTensor/values", "SparseTensor/dense_shape"]
        assert (sp.indices.dtype, sp.values.dtype, sp.dense_shape.dtype) == (tf.int64, tf.float32, tf.int64)
        assert sp.dtype is tf.float32 and sp.op is sp.values.op and sp.graph is graph
        assert sp.shape.as_list() == [3, 4] and sp.get_shape().as_list() == [3, 4]
        assert str(sp).startswith('SparseTensor(indices=Tensor("SparseTensor/indices:0", shape=(2, 2)')
        tf.SparseTensor([[0]], [1], [2])
        assert graph.get_operations()[-1].name == "SparseTensor_1/dense_shape"


def test_static_shape_from_a_partly_known_dense_shape():
    with tf.Graph().as_default():
        sp = tf.SparseTensor(tf.placeholder(tf.int64, [None, None]), tf.placeholder(tf.string, [None]),
                             tf.placeholder(tf.int64, [None]))
        assert sp.shape.ndims is None
        rows = tf.placeholder(tf.int64, [])
        sp = tf.SparseTensor(tf.placeholder(tf.int64, [None, 2]), [1.0], tf.stack([rows, 5]))
        assert sp.shape.as_list() == [None, 5]
        sp.set_shape([4, None])
        assert sp.shape.as_list() == [4, 5]
        with pytest.raises(ValueError, match="is not compatible with supplied shape"):
            sp.set_shape([4, 6])


@pytest.mark.parametrize("build, error, message", [
    (lambda: tf.SparseTensor([0, 1], [1.0], [3]), ValueError, "Shape (2,) must have rank 2"),
    (lambda: tf.SparseTensor([[0, 1]], [[1.0]], [3, 4]), ValueError, "Shape (1, 1) must have rank 1"),
    (lambda: tf.SparseTensor([[0, 1]], [1.0, 2.0], [3, 4]), ValueError, "Dimensions 1 and 2 are not compatible"),
    (lambda: tf.SparseTensor([[0, 1]], [1.0], [3, 4, 5]), ValueError, "Dimensions 2 and 3 are not compatible"),
    # TF names the element (0.5); caudal's conversion names the whole value.
    (lambda: tf.SparseTensor([[0.5, 1]], [1.0], [3, 4]), TypeError, "Expected int64, got [[0.5, 1]]"),
    (lambda: tf.SparseTensor(tf.placeholder(tf.int32, [None, 2]), [1], [2, 2]), ValueError,
     "indices: Tensor conversion requested dtype int64 for Tensor with dtype int32"),
])
def test_bad_parts_are_tfs_errors(build, error, message):
    with tf.Graph().as_default(), pytest.raises(error, match=re.escape(message)):
        build()


def test_session_run_gives_sparse_tensor_values_in_any_structure():
    with tf.Graph().as_default(), tf.Session() as sess:
        sp = tf.SparseTensor([[0, 1], [2, 3]], [1.0, 2.0], [3, 4])
        value = sess.run(sp)
        assert isinstance(value, tf.SparseTensorValue)
        assert value.indices.dtype == np.int64 and value.dense_shape.dtype == np.int64
        both = sess.run([sp, {"a": sp, "b": sp.values}])
        assert_same(both[0], value)
        assert_same(both[1]["a"], value)
        assert_same(sp.eval(session=sess), value)
        with sess.as_default():
            assert_same(sp.eval(), value)


def test_feeding_a_sparse_placeholder_with_values_or_tuples():
    with tf.Graph().as_default() as graph:
        sp = tf.sparse.placeholder(tf.float32, shape=[3, 4], name="sp")
        assert [op.name for op in graph.get_operations()] == ["sp/shape_default", "sp/shape", "sp/values",
                                                              "sp/indices"]
        assert sp.shape.as_list() == [3, 4] and sp.indices.shape.as_list() == [None, 2]
        dense = tf.sparse.to_dense(sp)
        expected = np.zeros((3, 4), np.float32)
        expected[0, 0], expected[1, 2] = 5.0, 6.0
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(dense, {sp: ([[0, 0], [1, 2]], [5.0, 6.0], [3, 4])}), expected)
            value = tf.SparseTensorValue(np.array([[0, 0], [1, 2]]), np.array([5.0, 6.0]), np.array([3, 4]))
            np.testing.assert_array_equal(sess.run(dense, {sp: value}), expected)
            np.testing.assert_array_equal(sess.make_callable(dense, [sp])(value), expected)
            for bad in (3, ([[0, 0]], [5.0])):
                with pytest.raises(TypeError, match="must be a tf.SparseTensorValue or an \\(indices, values, "
                                                    "dense_shape\\) tuple"):
                    sess.run(dense, {sp: bad})


def test_sparse_placeholder_without_shape():
    with tf.Graph().as_default():
        sp = tf.sparse.placeholder(tf.int64)
        assert sp.shape.ndims is None and sp.indices.shape.as_list() == [None, None]
        assert sp.dense_shape.shape.as_list() == [None]
        with tf.Session() as sess:
            got = sess.run(tf.sparse.to_dense(sp, default_value=-1), {sp: ([[1]], [7], [3])})
        np.testing.assert_array_equal(got, [-1, 7, -1])


def test_from_value_and_helpers():
    value = tf.SparseTensorValue([[0, 0]], [2.0], [1, 2])
    with tf.Graph().as_default(), tf.Session() as sess:
        sp = tf.SparseTensor.from_value(value)
        assert tf.SparseTensor.from_value(sp) is sp
        assert is_sparse(value) and is_sparse(sp) and not is_sparse(np.zeros(2))
        assert convert_to_tensor_or_sparse_tensor(value).dense_shape.dtype is tf.int64
        with pytest.raises(ValueError, match="Sparse dtype: requested = int32, actual = float32"):
            convert_to_tensor_or_sparse_tensor(sp, dtype=tf.int32)
        np.testing.assert_array_equal(sess.run(tf.sparse.to_dense(sp.with_values([4.0]))), [[4.0, 0.0]])
        with pytest.raises(TypeError, match="Neither a SparseTensor nor SparseTensorValue"):
            tf.SparseTensor.from_value([1, 2])
        with pytest.raises(TypeError, match="'SparseTensor' object is not iterable"):
            list(sp)


# ------------------------------------------------------------------ SparseToDense at run time
def _run_sparse_to_dense(indices, shape, values, validate_indices=True):
    with tf.Graph().as_default(), tf.Session() as sess:
        i, s, v = tf.placeholder(tf.int64), tf.placeholder(tf.int64), tf.placeholder(tf.float32)
        dense = tf.sparse_to_dense(i, s, v, default_value=-1.0, validate_indices=validate_indices)
        return sess.run(dense, {i: indices, s: shape, v: values})


@pytest.mark.parametrize("indices, shape, values, validate, message", [
    ([[1, 0], [0, 0]], [2, 2], [1.0, 2.0], True,
     "indices[1] = [0,0] is out of order. Many sparse ops require sorted indices.\n"
     "    Use `tf.sparse.reorder` to create a correctly ordered copy.\n\n"),
    ([[0, 0], [0, 0]], [2, 2], [1.0, 2.0], True, "indices[1] = [0,0] is repeated"),
    ([[0, 0], [2, 0]], [2, 2], [1.0, 2.0], True, "indices[1] = [2,0] is out of bounds: need 0 <= index < [2,2]"),
    ([[0, -1]], [2, 2], [1.0], True, "indices[0] = [0,-1] is out of bounds: need 0 <= index < [2,2]"),
    ([[0, 0], [2, 0]], [2, 2], [1.0, 2.0], False, "Indices are not valid (out of bounds).  Shape: [2,2]"),
    ([[0, 0], [1, 1]], [2, 2], [1.0, 2.0, 3.0], True, "sparse_values has incorrect shape [3], should be [] or [2]"),
    ([[0, 0, 0]], [2, 2], [1.0], True, "output_shape has incorrect number of elements: 2 should be: 3"),
    ([2, 1], [4], [1.0, 2.0], True, "indices[1] = [1] is out of order."),
])
def test_sparse_to_dense_checks_are_tfs(indices, shape, values, validate, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(message)):
        _run_sparse_to_dense(indices, shape, values, validate)


def test_sparse_to_dense_without_validation_keeps_the_last_of_repeated_and_unordered_entries():
    np.testing.assert_array_equal(_run_sparse_to_dense([[1, 0], [0, 0]], [2, 2], [1.0, 2.0], False),
                                  [[2.0, -1.0], [1.0, -1.0]])
    np.testing.assert_array_equal(_run_sparse_to_dense([[0, 0], [0, 0]], [2, 2], [1.0, 2.0], False),
                                  [[2.0, -1.0], [-1.0, -1.0]])
    np.testing.assert_array_equal(_run_sparse_to_dense(1, [3], 5.0), [-1.0, 5.0, -1.0])


def test_sparse_to_dense_static_rules():
    with tf.Graph().as_default():
        assert tf.sparse_to_dense([[0, 0]], [2, 3], [1.0]).shape.as_list() == [2, 3]
        unknown = tf.sparse_to_dense(tf.placeholder(tf.int32, [None, 2]), tf.placeholder(tf.int32, [2]), [1.0])
        assert unknown.shape.as_list() == [None, None]
        with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
            tf.sparse_to_dense([[0, 0]], [[2, 2]], [1.0])
        with pytest.raises(TypeError, match="'sparse_indices' has DataType float32 not in list"):
            tf.sparse_to_dense([[0.0, 0.0]], [2, 2], [1.0])
        names = [op.name for op in tf.get_default_graph().get_operations()][:5]
        assert names == ["SparseToDense/sparse_indices", "SparseToDense/output_shape", "SparseToDense/sparse_values",
                         "SparseToDense/default_value", "SparseToDense"]


def test_sparse_to_dense_of_strings_defaults_to_empty_strings():
    with tf.Graph().as_default(), tf.Session() as sess:
        sp = tf.SparseTensor([[0, 1]], ["a"], [2, 2])
        assert tf.sparse.to_dense(sp, default_value="z").shape.as_list() == [2, 2]
        np.testing.assert_array_equal(sess.run(tf.sparse.to_dense(sp)), [[b"", b"a"], [b"", b""]])
        np.testing.assert_array_equal(sess.run(tf.sparse_tensor_to_dense(sp, "z")), [[b"z", b"a"], [b"z", b"z"]])
        with pytest.raises(TypeError, match="Input must be a SparseTensor."):
            tf.sparse.to_dense(tf.constant([1.0]))


def test_reorder_keeps_a_known_shape_as_a_constant_and_an_unknown_one_as_an_identity():
    with tf.Graph().as_default() as graph, tf.Session() as sess:
        sp = tf.SparseTensor([[1, 0], [0, 2], [0, 1]], [1.0, 2.0, 3.0], [2, 3])
        reordered = tf.sparse.reorder(sp)
        assert reordered.dense_shape.op.name == "SparseTensor_1/dense_shape" and reordered.shape.as_list() == [2, 3]
        assert_same(sess.run(reordered), tf.SparseTensorValue(np.array([[0, 1], [0, 2], [1, 0]]),
                                                             np.array([3.0, 2.0, 1.0], np.float32), np.array([2, 3])))
        unknown = tf.SparseTensor(tf.placeholder(tf.int64, [None, 2]), [1.0, 2.0], tf.placeholder(tf.int64, [2]))
        assert tf.sparse.reorder(unknown).dense_shape.op.type == "Identity"
        assert graph.get_operations()[-2].type == "SparseReorder"
