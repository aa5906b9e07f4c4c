"""Bad input: the error type, its message, and that nothing changed."""
import re

import numpy as np
import pytest

import caudal as tf
from caudal import errors


def test_error_classes_have_tf_codes_and_hierarchy():
    assert tf.errors is errors
    for cls in (errors.InvalidArgumentError, errors.FailedPreconditionError, errors.NotFoundError,
                errors.OutOfRangeError, errors.ResourceExhaustedError, errors.UnimplementedError,
                errors.InternalError, errors.DataLossError, errors.CancelledError, errors.UnknownError,
                errors.DeadlineExceededError, errors.AlreadyExistsError, errors.PermissionDeniedError,
                errors.UnauthenticatedError, errors.AbortedError, errors.UnavailableError):
        assert issubclass(cls, errors.OpError)
    assert errors.InvalidArgumentError.error_code == errors.INVALID_ARGUMENT == 3
    assert errors.DataLossError.error_code == 15
    e = errors.NotFoundError(None, None, "missing thing")
    assert str(e) == "missing thing" and e.message == "missing thing" and e.op is None


def _op_count() -> int:
    return len(tf.get_default_graph().get_operations())


def test_mixing_dtypes_is_a_type_error_naming_both():
    a = tf.constant([2.5, 2])
    b = tf.constant([3, 6])
    before = _op_count()
    with pytest.raises(TypeError, match=r"type int32 that does not match type float32"):
        tf.add(a, b)
    assert _op_count() == before


def test_dtype_error_names_the_op_and_the_user_line():
    a = tf.constant(1.0)
    b = tf.constant(1)
    with pytest.raises(TypeError) as info:
        tf.multiply(a, b)
    message = str(info.value)
    assert "'Mul'" in message
    assert "test_errors.py" in message


def test_python_scalar_that_does_not_fit_the_dtype():
    x = tf.constant([1, 2])
    with pytest.raises(TypeError, match="Expected int32, got 2.5"):
        x + 2.5


def test_incompatible_matmul_shapes_fail_at_build():
    a = tf.constant(np.ones((2, 3), np.float32))
    b = tf.constant(np.ones((4, 5), np.float32))
    before = _op_count()
    with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 3 and 4.*MatMul.*\[2,3\], \[4,5\]"):
        tf.matmul(a, b)
    assert _op_count() == before


def test_incompatible_add_shapes_fail_at_build():
    with pytest.raises(ValueError, match=r"Dimensions must be equal, but are 3 and 4"):
        tf.add(tf.constant([1, 2, 3]), tf.constant([1, 2, 3, 4]))


def test_unfed_placeholder_in_tf_words_with_location():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = x * 2
    with tf.Session() as sess:
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(y)
    message = str(info.value)
    assert "You must feed a value for placeholder tensor 'x' with dtype float and shape [?,2]" in message
    assert "test_errors.py" in message


def test_unfed_placeholder_of_unknown_shape():
    x = tf.placeholder(tf.int32, name="counts")
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError,
                                             match="placeholder tensor 'counts' with dtype int32\n"):
        sess.run(x + 1)


def test_feed_of_wrong_shape_names_tensor_and_both_shapes():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    v = tf.Variable(1.0)
    step = tf.assign_add(v, tf.reduce_sum(x))
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(ValueError, match=re.escape("Cannot feed value of shape (3,) for Tensor 'x:0', which "
                                                       "has shape (?, 2)")):
            sess.run(step, {x: [1.0, 2.0, 3.0]})
        assert sess.run(v) == 1.0


def test_feed_not_convertible_to_dtype():
    x = tf.placeholder(tf.float32, [2], name="x")
    with tf.Session() as sess, pytest.raises(ValueError, match=r"Tensor 'x:0' of dtype float32"):
        sess.run(x, {x: ["a", "b"]})


def test_feed_value_cannot_be_a_tensor():
    x = tf.placeholder(tf.float32)
    with tf.Session() as sess, pytest.raises(TypeError, match="The value of a feed cannot be a tf.Tensor"):
        sess.run(x, {x: tf.constant(1.0)})


def test_feed_key_that_is_not_a_tensor():
    x = tf.placeholder(tf.float32)
    with tf.Session() as sess, pytest.raises(TypeError, match="Cannot interpret feed_dict key as Tensor"):
        sess.run(x, {"nonexistent:0": 1.0})


def test_uninitialized_variable_names_the_variable():
    v = tf.Variable([1.0, 2.0], name="weights")
    with tf.Session() as sess:
        with pytest.raises(errors.FailedPreconditionError, match="Attempting to use uninitialized value weights"):
            sess.run(v * 2)
        with pytest.raises(errors.FailedPreconditionError, match="weights"):
            sess.run(v)


def test_fetch_from_another_graph():
    other = tf.Graph()
    with other.as_default():
        foreign = tf.constant(1.0)
    tf.constant(2.0)
    with tf.Session() as sess, pytest.raises(ValueError, match="is not an element of this graph"):
        sess.run(foreign)


def test_mixing_tensors_of_two_graphs_in_one_op():
    other = tf.Graph()
    with other.as_default():
        foreign = tf.constant(1.0)
    with pytest.raises(ValueError, match="must be from the same graph"):
        tf.add(tf.constant(1.0), foreign)


def test_unknown_fetch_names():
    tf.constant(1.0, name="c")
    with tf.Session() as sess:
        with pytest.raises(ValueError, match="The name 'nope:0' refers to a Tensor which does not exist"):
            sess.run("nope:0")
        with pytest.raises(ValueError, match="refers to an Operation not in the graph"):
            sess.run("nope")
        with pytest.raises(ValueError, match="only has 1 outputs"):
            sess.run("c:3")
        with pytest.raises(TypeError, match="Fetch argument None has invalid type"):
            sess.run(None)
        with pytest.raises(TypeError, match="invalid type"):
            sess.run(3.5)


def test_run_on_closed_session():
    c = tf.constant(1.0)
    sess = tf.Session()
    sess.close()
    with pytest.raises(RuntimeError, match="Attempted to use a closed Session."):
        sess.run(c)
    sess.close()


def test_failed_run_leaves_every_variable_unchanged():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    x = tf.placeholder(tf.float32, [None])
    update_a = tf.assign_add(a, 10.0)
    with tf.control_dependencies([update_a]):
        # Runs after a's update; fails at run time when x has an unexpected length.
        bad = tf.assign(b, tf.reshape(x, []))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(errors.InvalidArgumentError) as info:
            sess.run(bad, {x: [1.0, 2.0]})
        assert "Reshape" in str(info.value)
        assert sess.run([a, b]) == [1.0, 2.0]
        sess.run(bad, {x: [5.0]})
        assert sess.run([a, b]) == [11.0, 5.0]


def test_runtime_kernel_error_names_node_and_creation_line():
    x = tf.placeholder(tf.float32, [None, None])
    y = tf.matmul(x, x, name="square_it")
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError) as info:
        sess.run(y, {x: np.ones((2, 3))})
    message = str(info.value)
    assert "square_it" in message and "test_errors.py" in message
    assert info.value.op is y.op


def test_assign_of_wrong_shape_at_run_time():
    v = tf.Variable([1.0, 2.0])
    x = tf.placeholder(tf.float32)
    assign = tf.assign(v, x)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(errors.InvalidArgumentError,
                           match=r"Assign requires shapes of both tensors to match. lhs shape= \[2\] rhs shape= \[3\]"):
            sess.run(assign, {x: [1.0, 2.0, 3.0]})
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])


def test_assign_of_wrong_static_shape_fails_at_build():
    v = tf.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match="incompatible"):
        v.assign([1.0, 2.0, 3.0])


def test_tensor_refuses_bool_iteration_and_len():
    t = tf.constant([1, 2])
    with pytest.raises(TypeError, match="Using a `tf.Tensor` as a Python `bool` is not allowed"):
        bool(t)
    with pytest.raises(TypeError, match="only iterable when eager execution"):
        iter(t)
    with pytest.raises(TypeError, match="len is not well defined"):
        len(t)


def test_finalized_graph_refuses_new_ops():
    g = tf.Graph()
    with g.as_default():
        tf.constant(1)
        g.finalize()
        with pytest.raises(RuntimeError, match="Graph is finalized"):
            tf.constant(2)
        assert len(g.get_operations()) == 1


def test_bad_dtype_for_op_lists_allowed_types():
    with pytest.raises(TypeError, match="Value passed to parameter 'x' has DataType int32 not in list of allowed "
                                        "values: bfloat16, float16, float32, float64, complex64, complex128"):
        tf.exp(tf.constant(1))


def test_integer_division_by_zero():
    x = tf.placeholder(tf.int32)
    with tf.Session() as sess, pytest.raises(errors.InvalidArgumentError, match="Integer division by zero"):
        sess.run(tf.floordiv(x, 0), {x: 3})


def test_optimizer_without_gradients():
    v = tf.Variable(1.0)
    loss = tf.stop_gradient(v * 2.0)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        tf.train.GradientDescentOptimizer(0.1).minimize(loss)


def test_reshape_to_incompatible_static_size():
    with pytest.raises(ValueError, match=r"Cannot reshape a tensor with 6 elements to shape \[4\]"):
        tf.reshape(tf.constant(np.zeros((2, 3))), [4])
