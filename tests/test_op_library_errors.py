"""Bad input to the manip, index, sort and debug ops: the error type and TF's words, at build
time when the shapes and values are known, at run time otherwise."""
import numpy as np
import pytest

import caudal as tf
from caudal.ops.sort_ops import top_k


@pytest.fixture(autouse=True)
def _fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


X = np.arange(24, dtype=np.float32).reshape(4, 6)


def _unknown(value):
    return tf.placeholder_with_default(value, None)


@pytest.mark.parametrize("build, error, words", [
    (lambda: tf.split(X, 4, axis=1), ValueError, "evenly divisible by 4 but is 6"),
    (lambda: tf.split(X, 2, 2), ValueError, "must be in range [-2, 2)"),
    (lambda: tf.split(X, [-1, -1, 2], 1), ValueError, "size_splits can only have one -1"),
    (lambda: tf.split(X, [1, 2], 1), ValueError, "can't split axis of size 6 into pieces of size [1,2]"),
    (lambda: tf.split(X, tf.placeholder(tf.int32, [None]), 1), ValueError, "Cannot infer argument `num`"),
    (lambda: tf.tile(X, [2]), ValueError, "Shape must be rank 2 but is rank 1"),
    (lambda: tf.reverse(X, [1, 1]), ValueError, "axis 1 specified more than once."),
    (lambda: tf.reverse(X, [2]), ValueError, "'axis'[0] = 2 is out of valid range [0, 1"),
    (lambda: tf.pad(X, [[-1, 0], [0, 0]]), ValueError, "Paddings must be non-negative"),
    (lambda: tf.pad(X, [[1, 0]]), ValueError, "Shape must be rank 1 but is rank 2"),
    (lambda: tf.pad(X, [[1, 0], [0, 0]], mode="foo"), ValueError, 'expected to be one of "CONSTANT"'),
    (lambda: tf.gather_nd(X, [[1, 0, 0]]), ValueError, "indices.shape[-1] must be <= params.rank"),
    (lambda: tf.scatter_nd([[1], [1]], [1.0, 2.0, 3.0], [4]), ValueError, "must match dimensions"),
    (lambda: tf.segment_sum(X, [[0, 0], [1, 1]]), ValueError, "Shape must be rank 1 but is rank 2"),
    (lambda: tf.dynamic_partition(X, [0, 1, 0], 2), ValueError, "Dimensions must be equal, but are 4 and 3"),
    (lambda: tf.dynamic_stitch([[0, 1]], [[1.0, 2.0, 3.0]]), ValueError, "Dimensions must be equal"),
    (lambda: tf.dynamic_stitch([[0], [1]], [[1.0], [2]]), TypeError, "does not match type"),
    (lambda: tf.sequence_mask([1, 2], [3]), ValueError, "Argument `maxlen` must be scalar"),
    (lambda: tf.meshgrid([1, 2], [3], indexing="foo"), ValueError, "must be either 'xy' or 'ij'"),
    (lambda: tf.meshgrid([1, 2], [3], foo=1), TypeError, "'foo' is an invalid keyword argument"),
    (lambda: tf.meshgrid([1, 2], [3.0]), TypeError, "does not match type"),
    (lambda: tf.unique(X), ValueError, "Shape must be rank 1 but is rank 2"),
    (lambda: top_k(X, 7), ValueError, "input must have last dimension >= k = 7 but is 6"),
    (lambda: top_k(X, -1), ValueError, "must be non-negative but is -1"),
    (lambda: top_k(tf.constant(3.0), 1), ValueError, "Shape must be at least rank 1 but is rank 0"),
    (lambda: tf.sort(X, direction="UP"), ValueError, "should be one of ASCENDING, DESCENDING"),
    (lambda: tf.sort(tf.constant([True, False])), TypeError, "DataType bool not in list"),
    (lambda: tf.check_numerics(tf.constant([1, 2]), "m"), TypeError, "DataType int32 not in list"),
])
def test_build_time_errors(build, error, words):
    with pytest.raises(error) as info:
        build()
    assert words in str(info.value)


@pytest.mark.parametrize("build, words", [
    (lambda: tf.split(_unknown(X), 4, axis=1), "Number of ways to split should evenly divide the split dimension"),
    (lambda: tf.split(_unknown(X), tf.placeholder_with_default([1, 2], [None]), 1, num=2),
     "can't split axis of size 6"),
    (lambda: tf.tile(_unknown(X), [2, -1]), "Expected multiples[1] >= 0, but got -1"),
    (lambda: tf.pad(_unknown(X), _unknown(np.array([[-1, 0], [0, 0]], np.int32))), "Paddings must be non-negative"),
    (lambda: tf.pad(X, [[4, 0], [0, 0]], mode="REFLECT"), "paddings must be less than the dimension size: 4, 0"),
    (lambda: tf.pad(_unknown(X), [[5, 0], [0, 0]], mode="SYMMETRIC"), "paddings must be no greater than"),
    (lambda: tf.gather_nd(_unknown(X), [[4, 0]]), "indices[0] = [4, 0] does not index into param shape [4,6]"),
    (lambda: tf.scatter_nd([[5]], [1.0], [4]), "indices[0] = [5] does not index into shape [4]"),
    (lambda: tf.segment_sum(X, [0, 1, 0, 1]), "segment ids are not increasing"),
    (lambda: tf.segment_sum(X, [-1, 0, 0, 1]), "Segment id -1 out of range [0, 2)"),
    (lambda: tf.segment_sum(_unknown(X), [0, 0, 1]), "segment_ids should be the same size as dimension 0"),
    (lambda: tf.dynamic_partition(X, [0, 2, 0, 1], 2), "partitions[1] = 2 is not in [0, 2)"),
    (lambda: tf.dynamic_stitch([[0, -1]], [[1.0, 2.0]]), "indices[1] is out of range"),
    (lambda: top_k(_unknown(X), 7), "input must have at least k columns. Had 6, needed 7"),
    (lambda: tf.expand_dims(_unknown(X), tf.placeholder_with_default(3, [])),
     "Tried to expand dim index 3 for tensor with 2 dimensions."),
    (lambda: tf.check_numerics(tf.constant([1.0, np.nan]), "msg here"), "msg here : Tensor had NaN values"),
    (lambda: tf.check_numerics(tf.constant([1.0, np.inf]), "msg here"), "msg here : Tensor had Inf values"),
    (lambda: tf.check_numerics(tf.constant([np.inf, np.nan]), "m"), "m : Tensor had Inf and NaN values"),
])
def test_run_time_errors(build, words):
    result = build()
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError) as info:
        sess.run(result)
    assert words in str(info.value)


def test_check_numerics_failure_leaves_variables_unchanged():
    v = tf.Variable(1.0)
    x = tf.placeholder(tf.float32, [])
    with tf.control_dependencies([tf.check_numerics(x, "input")]):
        update = tf.assign_add(v, x)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match="input : Tensor had NaN values"):
            sess.run(update, {x: np.nan})
        assert sess.run(v) == 1.0


def test_check_numerics_gradient_is_checked_too():
    x = tf.placeholder(tf.float32, [2])
    y = tf.check_numerics(x, "fwd")
    grad = tf.gradients(y, x, grad_ys=tf.constant([1.0, np.inf]))[0]
    assert grad.op.type == "CheckNumerics"
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError,
                                             match="detected in gradient. fwd : Tensor had Inf values"):
        sess.run(grad, {x: [1.0, 2.0]})


def test_add_check_numerics_ops_names_the_failing_tensor():
    x = tf.placeholder(tf.float32, [2], name="x")
    y = tf.log(x, name="logx")
    tf.cast(x, tf.int32)  # not checked: only half, float and double outputs are
    check = tf.add_check_numerics_ops()
    checks = [op for op in tf.get_default_graph().get_operations() if op.type == "CheckNumerics"]
    assert [op.get_attr("message") for op in checks] == ["x:0", "logx:0"]
    assert checks[1].control_inputs == [checks[0]] and check.type == "NoOp"
    with tf.Session() as sess:
        sess.run([y, check], {x: [1.0, 2.0]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="logx:0 : Tensor had Inf values"):
            sess.run([y, check], {x: [0.0, 2.0]})


def test_add_check_numerics_ops_refuses_cond_branches():
    pred = tf.placeholder(tf.bool, [])
    tf.cond(pred, lambda: tf.constant(1.0) * 2.0, lambda: tf.constant(0.0))
    with pytest.raises(ValueError, match="not compatible with TensorFlow control flow"):
        tf.add_check_numerics_ops()


def test_unique_has_no_gradient_like_tf():
    x = tf.placeholder(tf.float32, [3])
    with pytest.raises(LookupError, match="No gradient defined for operation 'Unique'"):
        tf.gradients(tf.unique(x).y, x)
