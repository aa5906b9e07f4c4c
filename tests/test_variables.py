"""tf.Variable, get_variable/variable_scope, initializers, and per-session state."""
import numpy as np
import pytest

import caudal as tf


def test_values_are_per_session():
    v = tf.Variable(1)
    assign = v.assign(3)
    init = tf.global_variables_initializer()
    s1, s2 = tf.Session(), tf.Session()
    s1.run(init)
    s2.run(init)
    s1.run(assign)
    assert s1.run(v) == 3 and s2.run(v) == 1


def test_names_follow_tf():
    a = tf.Variable(1.0)
    b = tf.Variable(2.0)
    c = tf.Variable(3.0, name="weights")
    with tf.name_scope("layer"):
        d = tf.Variable(4.0)
    assert [a.name, b.name, c.name, d.name] == ["Variable:0", "Variable_1:0", "weights:0", "layer/Variable:0"]
    assert a.op.type == "VariableV2"
    assert a.initializer.name == "Variable/Assign"
    assert a.value().name == "Variable/read:0"
    assert a.initial_value.name == "Variable/initial_value:0"
    assert a.dtype == tf.float32._as_ref and a.dtype.base_dtype == tf.float32


def test_initial_value_forms():
    from_array = tf.Variable(np.arange(3, dtype=np.float64))
    from_tensor = tf.Variable(tf.ones([2]) * 3)
    from_callable = tf.Variable(lambda: tf.zeros([2, 2]), name="cb")
    with_dtype = tf.Variable([1, 2], dtype=tf.float32)
    assert from_array.dtype.base_dtype == tf.float64
    assert from_callable.initial_value.name.startswith("cb/Initializer/")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(from_array), [0, 1, 2])
        np.testing.assert_array_equal(sess.run(from_tensor), [3, 3])
        np.testing.assert_array_equal(sess.run(from_callable), np.zeros((2, 2)))
        assert sess.run(with_dtype).dtype == np.float32


def test_validate_shape_false_lets_the_shape_change():
    v = tf.Variable([1.0], validate_shape=False)
    x = tf.placeholder(tf.float32)
    grow = tf.assign(v, x, validate_shape=False)
    assert v.shape.ndims is None
    with tf.Session() as sess:
        sess.run(v.initializer)
        sess.run(grow, {x: [1.0, 2.0, 3.0]})
        np.testing.assert_array_equal(sess.run(v), [1, 2, 3])


def test_assign_add_sub_and_functional_forms():
    v = tf.Variable(10.0)
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(v.assign_add(2.0)) == 12.0
        assert sess.run(v.assign_sub(5.0)) == 7.0
        assert sess.run(tf.assign(v, 1.0)) == 1.0
        assert sess.run(tf.assign_add(v, 1.0)) == 2.0
        assert sess.run(tf.assign_sub(v, 0.5)) == 1.5
        assert v.eval(session=sess) == 1.5


def test_read_value_and_initialized_value():
    w = tf.Variable(2.0)
    w2 = tf.Variable(w.initialized_value() * 3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(w2) == 6.0
        assert sess.run(w.read_value()) == 2.0


def test_load_sets_value_without_new_ops():
    v = tf.Variable([0.0, 0.0])
    with tf.Session() as sess:
        before = len(tf.get_default_graph().get_operations())
        v.load([4.0, 5.0], sess)
        np.testing.assert_array_equal(sess.run(v), [4.0, 5.0])
        assert len(tf.get_default_graph().get_operations()) == before


def test_collections_and_trainable():
    a = tf.Variable(1.0)
    b = tf.Variable(1.0, trainable=False)
    c = tf.Variable(1.0, collections=[tf.GraphKeys.LOCAL_VARIABLES])
    assert tf.global_variables() == [a, b]
    # As in TF1, trainable (the default) adds the variable to TRAINABLE_VARIABLES whatever its collections.
    assert tf.trainable_variables() == [a, c]
    assert tf.local_variables() == [c]
    with tf.variable_scope("s"):
        d = tf.get_variable("d", [])
    assert tf.global_variables("s") == [d]


def test_initializers_report_and_is_initialized():
    a = tf.Variable(1.0, name="a")
    b = tf.Variable(2.0, name="b")
    with tf.Session() as sess:
        assert sorted(sess.run(tf.report_uninitialized_variables())) == [b"a", b"b"]
        sess.run(tf.variables_initializer([a]))
        assert list(sess.run(tf.report_uninitialized_variables())) == [b"b"]
        assert sess.run(tf.is_variable_initialized(a)) and not sess.run(tf.is_variable_initialized(b))
        sess.run(tf.global_variables_initializer())
        assert sess.run(tf.report_uninitialized_variables()).shape == (0,)
        sess.run(tf.variables_initializer([]))


def test_operators_on_variables():
    v = tf.Variable(3.0)
    exprs = [v + 1, 1 + v, v - 1, 1 - v, v * 2, 2 * v, v / 2, 6 / v, v // 2, v % 2, v ** 2, 2 ** v, -v, abs(-v),
             v < 4, v >= 3]
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(exprs) == [4, 4, 2, -2, 6, 6, 1.5, 2, 1, 1, 9, 8, -3, 3, True, True]


def test_get_variable_and_scopes():
    with tf.variable_scope("model"):
        w = tf.get_variable("w", [2, 3])
        with tf.variable_scope("inner"):
            b = tf.get_variable("b", [3], initializer=tf.zeros_initializer())
    assert w.name == "model/w:0" and b.name == "model/inner/b:0"
    with tf.variable_scope("model", reuse=True):
        assert tf.get_variable("w", [2, 3]) is w
        with pytest.raises(ValueError, match="Variable model/missing does not exist"):
            tf.get_variable("missing", [1])
    with pytest.raises(ValueError, match="Variable model/w already exists, disallowed"):
        with tf.variable_scope("model"):
            tf.get_variable("w", [2, 3])
    with pytest.raises(ValueError, match=r"Trying to share variable model/w, but specified shape \(4, 3\)"):
        with tf.variable_scope("model", reuse=True):
            tf.get_variable("w", [4, 3])


def test_auto_reuse_and_reuse_variables():
    def layer():
        with tf.variable_scope("shared", reuse=tf.AUTO_REUSE):
            return tf.get_variable("k", [1])

    assert layer() is layer()
    with tf.variable_scope("s") as scope:
        first = tf.get_variable("x", [])
        scope.reuse_variables()
        assert tf.get_variable("x", []) is first


def test_reentering_a_scope_object_keeps_name_scope():
    with tf.variable_scope("outer") as scope:
        pass
    with tf.variable_scope(scope):
        v = tf.get_variable("v", [])
        c = tf.constant(1.0, name="c")
    assert v.name == "outer/v:0"
    assert c.name == "outer/c:0"
    with tf.variable_scope("outer"):
        c2 = tf.constant(1.0, name="c")
    assert c2.name == "outer_1/c:0"


def test_default_name_scopes_are_uniquified():
    with tf.variable_scope(None, default_name="dense"):
        a = tf.get_variable("kernel", [1])
    with tf.variable_scope(None, default_name="dense"):
        b = tf.get_variable("kernel", [1])
    assert [a.name, b.name] == ["dense/kernel:0", "dense_1/kernel:0"]


def test_scope_initializer_regularizer_and_default_glorot():
    with tf.variable_scope("s", initializer=tf.constant_initializer(0.5)):
        a = tf.get_variable("a", [2])
    b = tf.get_variable("b", [100, 50])
    c = tf.get_variable("c", [3], dtype=tf.int32)
    with tf.variable_scope("r", regularizer=lambda w: tf.reduce_sum(w) * 0.0 + 7.0):
        tf.get_variable("d", [2])
    reg = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(reg) == 1 and reg[0].name.startswith("r/d/Regularizer/")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(a), [0.5, 0.5])
        # float32 rounding of min + (max - min) * u may reach the bound itself, as in TF.
        limit = np.float32(np.sqrt(6.0 / 150))
        values = sess.run(b)
        assert np.abs(values).max() <= limit and values.std() > limit / 3
        np.testing.assert_array_equal(sess.run(c), [0, 0, 0])
        assert sess.run(reg[0]) == 7.0


@pytest.mark.parametrize("initializer, check", [
    (tf.zeros_initializer(), lambda v: np.all(v == 0)),
    (tf.ones_initializer(), lambda v: np.all(v == 1)),
    (tf.constant_initializer([1, 2, 3, 4, 5, 6]), lambda v: np.array_equal(v.reshape(-1), np.arange(1, 7))),
    (tf.random_uniform_initializer(-0.1, 0.1, seed=1), lambda v: np.abs(v).max() <= 0.1),
    (tf.random_normal_initializer(0.0, 0.01, seed=1), lambda v: np.abs(v.mean()) < 0.01 and v.std() < 0.02),
    (tf.truncated_normal_initializer(0.0, 1.0, seed=1), lambda v: np.abs(v).max() <= 2.0),
    (tf.glorot_uniform_initializer(seed=1), lambda v: np.abs(v).max() <= np.sqrt(6 / 5)),
    (tf.glorot_normal_initializer(seed=1), lambda v: np.abs(v).max() <= 2 * np.sqrt(2 / 5) / 0.8796),
    (tf.variance_scaling_initializer(2.0, "fan_in", "uniform", seed=1), lambda v: np.abs(v).max() <= np.sqrt(3.0)),
])
def test_initializers(initializer, check):
    v = tf.get_variable("v", [2, 3], initializer=initializer)
    with tf.Session() as sess:
        sess.run(v.initializer)
        value = sess.run(v)
    assert value.shape == (2, 3) and value.dtype == np.float32
    assert check(value)


def test_variance_scaling_statistics():
    v = tf.get_variable("big", [400, 300], initializer=tf.variance_scaling_initializer(2.0, "fan_in", seed=3))
    with tf.Session() as sess:
        sess.run(v.initializer)
        value = sess.run(v)
    assert abs(value.std() - np.sqrt(2.0 / 400)) < 0.003


def test_global_step():
    step = tf.train.get_or_create_global_step()
    assert step.name == "global_step:0" and step.dtype.base_dtype == tf.int64
    assert tf.train.get_or_create_global_step() is step
    assert tf.train.get_global_step() is step
    assert step not in tf.trainable_variables()
    with tf.Session() as sess:
        sess.run(step.initializer)
        assert tf.train.global_step(sess, step) == 0


def test_a_default_named_variable_scope_opens_the_name_scope_of_its_default_name():
    # Recorded from TF 2.21: the name scope is the default name made unique by the graph, which
    # can differ from the variable scope's own unique name.
    with tf.Graph().as_default():
        seen = []
        with tf.variable_scope(None, default_name="x") as scope:
            seen.append((scope.name, tf.constant(1, name="c").name))
        with tf.name_scope("x_1"):
            seen.append(tf.constant(1, name="c").name)
        with tf.variable_scope(None, default_name="x") as scope:
            seen.append((scope.name, tf.constant(1, name="c").name, tf.get_variable("v", [1]).name))
        with tf.variable_scope(None, default_name="x") as scope:
            seen.append((scope.name, tf.constant(1, name="c").name))
        with tf.variable_scope("x") as scope:
            seen.append((scope.name, tf.constant(1, name="c").name))
    assert seen == [("x", "x/c:0"), "x_1/c:0", ("x_1", "x_2/c:0", "x_1/v:0"), ("x_2", "x_3/c:0"), ("x", "x_4/c:0")]
