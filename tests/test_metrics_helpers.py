"""The pieces `tf.metrics` is built from: TF's check ops, weight broadcasting, the confusion matrix,
ScatterAdd, Assert's message format, control dependencies on fed tensors and static shapes of
slices at tensor indices. Expected messages and shapes were recorded from TensorFlow 2.21."""
from __future__ import annotations

import re

import numpy as np
import pytest

import caudal as tf
from caudal.errors import InvalidArgumentError
from caudal.ops.check_ops import (
    assert_greater,
    assert_greater_equal,
    assert_less,
    assert_less_equal,
    assert_non_negative,
    assert_rank_in,
    assert_type,
)
from caudal.ops.confusion_matrix import confusion_matrix, remove_squeezable_dimensions
from caudal.ops.state_ops import scatter_add
from caudal.ops.weights_broadcast_ops import assert_broadcastable, broadcast_weights


# ------------------------------------------------------------ check ops
def test_comparisons_known_at_build_time_fail_at_once():
    with tf.Graph().as_default():
        x = tf.constant([1, 5], name="x")
        with pytest.raises(InvalidArgumentError) as info:
            assert_less(x, 3, message="too big")
        assert info.value.message == "too big\nCondition x < y did not hold element-wise:\nx (x:0) = \n[1 5]\n" \
                                     "y (assert_less/y:0) = \n3"
        with pytest.raises(InvalidArgumentError, match="Condition x > y did not hold"):
            assert_greater(x, 1)
        with pytest.raises(InvalidArgumentError, match="Condition x <= y did not hold"):
            assert_less_equal(x, 4)
        with pytest.raises(InvalidArgumentError, match="Condition x >= y did not hold"):
            assert_greater_equal(x, 2)
        with pytest.raises(InvalidArgumentError) as info:
            assert_non_negative(tf.constant([1, -1], name="n"), message="negative")
        assert info.value.message == "negative.  \nCondition x >= 0 did not hold element-wise:\nx (n:0) = \n[ 1 -1]"
        assert assert_less(x, 6).type == "Assert"


def test_comparisons_known_at_run_time_fail_when_run():
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [None], name="x")
        check = assert_greater_equal(x, 0.0, message="must be >= 0")
        sess.run(check, {x: [1.0, 2.0]})
        with pytest.raises(InvalidArgumentError, match=re.escape(
                "assertion failed: [must be >= 0] [Condition x >= y did not hold element-wise:] [x (x:0) = ] "
                "[1 -2.5 3...] [y (assert_greater_equal/y:0) = ] [0]")):
            sess.run(check, {x: [1.0, -2.5, 3.0, 4.0]})


def test_assert_rank_in():
    with tf.Graph().as_default(), tf.Session() as sess:
        assert assert_rank_in(tf.ones([2, 3]), (0, 2)).type == "NoOp"
        with pytest.raises(ValueError, match=re.escape(
                "bad.  Tensor x:0 must have rank in (0, 1).  Received rank 2, shape (2, 3)")):
            assert_rank_in(tf.ones([2, 3], name="x"), (0, 1), message="bad")
        x = tf.placeholder(tf.float32, None, name="p")
        check = assert_rank_in(x, (0, 1))
        sess.run(check, {x: [1.0]})
        with pytest.raises(InvalidArgumentError, match=re.escape(
                "assertion failed: [] [Tensor p:0 must have rank in] [0] [1] [Received shape: ] [1 2]")):
            sess.run(check, {x: [[1.0, 2.0]]})


def test_assert_type():
    with tf.Graph().as_default():
        assert assert_type(tf.constant(True), tf.bool).type == "NoOp"
        with pytest.raises(TypeError, match=re.escape("x:0 must be of type tf.bool; got tf.float32")):
            assert_type(tf.constant(1.0, name="x"), tf.bool)


# ------------------------------------------------------- weights broadcast
def test_broadcast_weights():
    with tf.Graph().as_default(), tf.Session() as sess:
        values = tf.zeros([2, 3])
        same = tf.ones([2, 3])
        assert broadcast_weights(same, values) is same
        np.testing.assert_array_equal(sess.run(broadcast_weights(tf.constant([[1.0], [2.0]]), values)),
                                      [[1, 1, 1], [2, 2, 2]])
        np.testing.assert_array_equal(sess.run(broadcast_weights(3.0, values)), np.full((2, 3), 3.0))
        assert assert_broadcastable(tf.constant(2.0), values).name == "assert_broadcastable/static_scalar_check_success"
        assert assert_broadcastable(tf.ones([1, 3]), values).name.endswith("static_dims_check_success")


def test_assert_broadcastable_at_run_time():
    with tf.Graph().as_default(), tf.Session() as sess:
        weights = tf.placeholder(tf.float32, None, name="w")
        values = tf.placeholder(tf.float32, [None, 3], name="v")
        check = assert_broadcastable(weights, values)
        for ok in (2.0, np.ones((1, 3)), np.ones((4, 1)), np.ones((4, 3))):
            sess.run(check, {weights: ok, values: np.zeros((4, 3))})
        with pytest.raises(InvalidArgumentError, match=re.escape(
                "assertion failed: [weights can not be broadcast to values.] [weights.shape=] [w:0] [3] "
                "[values.shape=] [v:0] [4 3] [is_scalar=] [0]")):
            sess.run(check, {weights: np.ones(3), values: np.zeros((4, 3))})
        with pytest.raises(InvalidArgumentError, match=re.escape("[weights.shape=] [w:0] [2 3]")):
            sess.run(check, {weights: np.ones((2, 3)), values: np.zeros((4, 3))})


# ------------------------------------------------------- confusion matrix
def test_confusion_matrix():
    with tf.Graph().as_default(), tf.Session() as sess:
        counts = confusion_matrix([0, 1, 2, 1], [0, 2, 2, 1], 3)
        assert counts.dtype == tf.int32 and counts.shape.as_list() == [3, 3]
        np.testing.assert_array_equal(sess.run(counts), [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
        weighted = confusion_matrix([[0], [1], [2], [1]], [0, 2, 2, 1], weights=[1.0, 2.0, 3.0, 4.0],
                                    dtype=tf.float64)
        got = sess.run(weighted)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, [[1, 0, 0], [0, 4, 2], [0, 0, 3]])
        labels = tf.placeholder(tf.int64, None)
        checked = confusion_matrix(labels, [0, 2, 2, 1], 3)
        with pytest.raises(InvalidArgumentError, match=re.escape("[`labels` out of bound] [Condition x < y")):
            sess.run(checked, {labels: [0, 5, 1, 1]})
        with pytest.raises(InvalidArgumentError, match=re.escape(
                "[`labels` contains negative values.  ] [Condition x >= 0 did not hold element-wise:]")):
            sess.run(checked, {labels: [0, -1, 1, 1]})


def test_remove_squeezable_dimensions():
    with tf.Graph().as_default(), tf.Session() as sess:
        labels, predictions = remove_squeezable_dimensions(tf.ones([4]), tf.ones([4, 1]))
        assert (labels.shape.as_list(), predictions.shape.as_list()) == ([4], [4])
        labels, predictions = remove_squeezable_dimensions(tf.ones([4, 1]), tf.ones([4]))
        assert (labels.shape.as_list(), predictions.shape.as_list()) == ([4], [4])
        labels, predictions = remove_squeezable_dimensions(tf.ones([4, 2]), tf.ones([4]))
        assert (labels.shape.as_list(), predictions.shape.as_list()) == ([4, 2], [4])
        unknown = tf.placeholder(tf.float32, None)
        labels, predictions = remove_squeezable_dimensions(tf.ones([4]), unknown)
        assert sess.run(predictions, {unknown: np.ones((4, 1))}).shape == (4,)
        assert sess.run(predictions, {unknown: np.ones((4,))}).shape == (4,)


# ------------------------------------------------------------ ScatterAdd
@pytest.mark.parametrize("backend", ["numpy", "portable"])
def test_scatter_add(backend):
    config = tf.ConfigProto()
    config.experimental.executor_type = backend
    with tf.Graph().as_default(), tf.Session(config=config) as sess:
        v = tf.Variable(tf.zeros([3, 2]))
        repeated = scatter_add(v, [0, 0, 2], tf.ones([3, 2]))
        assert repeated.op.type == "ScatterAdd" and repeated.dtype.name == "float32_ref"
        nested = scatter_add(v, tf.constant([[0], [2]], tf.int64), tf.ones([2, 1, 2]))
        scalar = scatter_add(v, 1, 5.0)
        outside = scatter_add(v, [1, -1], tf.ones([2, 2]))
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(repeated), [[2, 2], [0, 0], [1, 1]])
        np.testing.assert_array_equal(sess.run(nested), [[3, 3], [0, 0], [2, 2]])
        np.testing.assert_array_equal(sess.run(scalar), [[3, 3], [5, 5], [2, 2]])
        with pytest.raises(InvalidArgumentError, match=re.escape("indices[1] = -1 is not in [0, 3)")):
            sess.run(outside)
        np.testing.assert_array_equal(sess.run(v), [[3, 3], [5, 5], [2, 2]])


def test_scatter_add_bad_arguments():
    with tf.Graph().as_default():
        v = tf.Variable(tf.zeros([3, 2]))
        with pytest.raises(ValueError, match=re.escape(
                "Dimension 1 in both shapes must be equal, but are 3 and 2. Shapes are [2,3] and [2,2].")):
            scatter_add(v, [0, 1], tf.ones([2, 3]))
        with pytest.raises(ValueError, match="Shapes must be equal rank, but are 1 and 2"):
            scatter_add(v, [0, 1], tf.ones([2]))
        with pytest.raises(TypeError, match=re.escape(
                "Value passed to parameter 'indices' has DataType float32 not in list of allowed values: "
                "int32, int64")):
            scatter_add(v, [0.5], tf.ones([1, 2]))
        with pytest.raises(TypeError, match=re.escape(
                "Input 'updates' of 'ScatterAdd' Op has type float64 that does not match type float32 of "
                "argument 'ref'.")):
            scatter_add(v, [0], tf.ones([1, 2], tf.float64))


# --------------------------------------------------- runtime and slicing
def test_assert_message_is_formatted_as_tf():
    with tf.Graph().as_default(), tf.Session() as sess:
        ok = tf.placeholder(tf.bool, None)
        check = tf.Assert(ok, ["msg", tf.constant([[1, 2], [3, 4]]), tf.constant([1.5, 0.25, 3.0, 4.0]),
                               tf.constant(True), tf.constant([[[1.0, 2.0]]]), tf.constant(2.0)], summarize=3)
        with pytest.raises(InvalidArgumentError, match=re.escape(
                "assertion failed: [msg] [[1 2][3...]...] [1.5 0.25 3...] [1] [[[1 2]]] [2]")):
            sess.run(check, {ok: False})


def test_control_dependency_on_a_fed_placeholder():
    """As in TF, the dependents of a fed tensor's op wait on the feed; the op itself does not run."""
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [2])
        with tf.control_dependencies([x]):
            y = tf.constant(3.0) + 1.0
        assert sess.run(y, {x: [1.0, 2.0]}) == 4.0
        with pytest.raises(InvalidArgumentError, match="You must feed a value for placeholder tensor"):
            sess.run(y)


def test_static_shape_of_slices_at_tensor_indices():
    with tf.Graph().as_default():
        i = tf.placeholder(tf.int32, [])
        x = tf.placeholder(tf.float32, [4, None, 3])
        shapes = [t.shape.as_list() if t.shape.ndims is not None else None
                  for t in (tf.constant([1.0, 2.0])[i], x[i], x[:, i], x[i:], x[..., i], x[:, tf.newaxis, i],
                            x[::2, i])]
        assert shapes == [[], [None, 3], [4, 3], [None, None, 3], [4, None], [4, 1, 3], [2, 3]]
