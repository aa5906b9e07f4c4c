"""tf.contrib.framework: arg_scope / add_arg_scope, slim's variable helpers, restoring from checkpoints.

Error messages and the argument lists of decorated functions are TF 1.15's (checked with tf-slim 1.1.0, its
contrib.framework code, on TF 2.21).
"""
import os

import numpy as np
import pytest

import caudal as tf

framework = tf.contrib.framework
layers = tf.contrib.layers


@framework.add_arg_scope
def scoped(value, a=1, b=2, c=3):
    return (value, a, b, c)


@framework.add_arg_scope
def other(value, a=10):
    return (value, a)


def undecorated(value, a=1):
    return value


def test_arg_scope_sets_defaults_and_explicit_arguments_win():
    assert scoped(0) == (0, 1, 2, 3)
    with framework.arg_scope([scoped], a=5, b=6):
        assert scoped(0) == (0, 5, 6, 3)
        assert scoped(0, b=7) == (0, 5, 7, 3)
        assert other(0) == (0, 10)
    assert scoped(0) == (0, 1, 2, 3)


def test_arg_scope_nesting_updates_outer_arguments_and_restores_them():
    with framework.arg_scope([scoped, other], a=5):
        with framework.arg_scope([scoped], b=6) as inner:
            assert scoped(0) == (0, 5, 6, 3)
            assert other(0) == (0, 5)
            with framework.arg_scope([scoped], a=9):
                assert scoped(0) == (0, 9, 6, 3)
            assert scoped(0) == (0, 5, 6, 3)
        assert scoped(0) == (0, 5, 2, 3)
        assert framework.current_arg_scope()[framework.arg_scope_func_key(scoped)] == {"a": 5}
    assert framework.current_arg_scope() == {}
    with framework.arg_scope(inner):
        assert scoped(0) == (0, 5, 6, 3)
    assert scoped(0) == (0, 1, 2, 3)


def test_arg_scope_on_layers_shares_keys_between_slim_and_contrib_layers():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, 6, 6, 3])
        with framework.arg_scope([layers.conv2d], padding="VALID", activation_fn=None):
            with framework.arg_scope([tf.contrib.slim.conv2d], stride=2):
                net = layers.conv2d(images, 2, 3)
            other_net = tf.contrib.slim.conv2d(images, 2, 3, padding="SAME")
        assert net.shape.as_list() == [None, 2, 2, 2] and net.op.type == "BiasAdd"
        assert other_net.shape.as_list() == [None, 6, 6, 2]


def test_arg_scoped_arguments_and_has_arg_scope():
    assert framework.arg_scoped_arguments(scoped) == ("a", "b", "c")
    # TF 1.15 lists these for conv2d (a function without local variables).
    assert framework.arg_scoped_arguments(layers.conv2d) == (
        "stride", "padding", "data_format", "rate", "activation_fn", "normalizer_fn", "normalizer_params",
        "weights_initializer", "weights_regularizer", "biases_initializer", "biases_regularizer", "reuse",
        "variables_collections", "outputs_collections", "trainable", "scope")
    assert framework.arg_scoped_arguments(layers.fully_connected)[0] == "activation_fn"
    assert framework.has_arg_scope(layers.batch_norm) and framework.has_arg_scope(framework.model_variable)
    assert not framework.has_arg_scope(undecorated)
    with pytest.raises(AssertionError):
        framework.arg_scoped_arguments(undecorated)


def test_arg_scope_errors():
    with pytest.raises(ValueError) as info:
        with framework.arg_scope([undecorated], a=2):
            pass
    assert str(info.value) == f"('%s is not decorated with @add_arg_scope', ('{__name__}', 'undecorated'))"
    with pytest.raises(TypeError) as info:
        with framework.arg_scope(scoped, a=2):
            pass
    assert str(info.value) == "list_ops_or_scope must either be a list/tuple or reused scope (i.e. dict)"
    with pytest.raises(ValueError) as info:
        with framework.arg_scope({}, a=2):
            pass
    assert str(info.value) == "When attempting to re-use a scope by suppling adictionary, kwargs must be empty."
    assert framework.current_arg_scope() == {}


def test_model_variable_and_variable_collections():
    with tf.Graph().as_default():
        with tf.variable_scope("block"):
            weights = framework.model_variable("weights", shape=[2, 3], initializer=tf.ones_initializer(),
                                               regularizer=layers.l2_regularizer(0.5))
            plain = framework.variable("plain", shape=[2], collections=["mine"])
            frozen = framework.model_variable("frozen", shape=[], trainable=False)
        assert weights.name == "block/weights:0" and weights.dtype.base_dtype == tf.float32
        assert framework.get_model_variables() == [weights, frozen]
        assert tf.get_collection("mine") == [plain] and plain not in tf.global_variables()
        assert framework.get_trainable_variables() == [weights, plain]
        assert [t.name for t in tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)] == \
            ["block/weights/Regularizer/l2_regularizer:0"]
        local = framework.local_variable([1, 2], name="counter")
        global_var = framework.global_variable(0.5, name="g")
        assert framework.get_local_variables() == [local] and not global_var.trainable
        framework.add_model_variable(global_var)
        framework.add_model_variable(global_var)
        assert framework.get_model_variables() == [weights, frozen, global_var]
        with framework.arg_scope([framework.model_variable], initializer=tf.zeros_initializer(), trainable=False):
            scoped = framework.model_variable("scoped", shape=[1])
        assert not scoped.trainable


def test_variable_with_custom_getter_receives_reuse():
    seen = {}

    def getter(name, reuse=None, **kwargs):
        seen["name"], seen["reuse"] = name, reuse
        return tf.get_variable(name, **kwargs)

    with tf.Graph().as_default():
        with tf.variable_scope("s", reuse=tf.AUTO_REUSE):
            framework.variable("v", shape=[1], custom_getter=getter)
        assert seen == {"name": "v", "reuse": tf.AUTO_REUSE}


def _build_named_variables():
    with tf.variable_scope("conv1"):
        a = framework.model_variable("weights", shape=[1])
        b = framework.model_variable("biases", shape=[1])
    with tf.variable_scope("conv2"):
        c = framework.model_variable("weights", shape=[1])
    with tf.variable_scope("logits"):
        d = framework.model_variable("weights", shape=[1])
    return a, b, c, d


def test_get_variables_to_restore_include_exclude_and_getters():
    with tf.Graph().as_default():
        a, b, c, d = _build_named_variables()
        assert framework.get_variables_to_restore() == [a, b, c, d]
        assert framework.get_variables_to_restore(include=["conv"]) == [a, b, c]
        assert framework.get_variables_to_restore(exclude=["logits"]) == [a, b, c]
        assert framework.get_variables_to_restore(include=["conv1", "logits"], exclude=["conv1/biases"]) == [a, d]
        assert framework.get_variables("conv1") == [a, b]
        assert framework.get_variables(suffix="weights") == [a, c, d]
        assert framework.get_variables_by_suffix("biases") == [b]
        assert framework.get_variables_by_name("weights") == [a, c, d]
        assert framework.get_variables_by_name("weights", scope="conv2") == [c]
        with tf.variable_scope("conv1") as scope:
            assert framework.get_variables(scope) == [a, b]
        assert framework.get_unique_variable("conv1/weights") is a
        assert framework.get_variable_full_name(a) == "conv1/weights"
        assert framework.filter_variables([a, b, c, d], include_patterns=["weights"], exclude_patterns=["conv2"]) \
            == [a, d]
        assert framework.filter_variables([a, b], include_patterns=["conv1/w"], reg_search=False) == [a]


@pytest.mark.parametrize("call, error, message", [
    (lambda: framework.get_variables_to_restore(include="conv1"), TypeError,
     "include is provided but is not a list or a tuple."),
    (lambda: framework.get_variables_to_restore(exclude="conv1"), TypeError,
     "exclude is provided but is not a list or a tuple."),
    (lambda: framework.get_unique_variable("nope"), ValueError, "Couldn't find variable nope"),
    (lambda: framework.get_unique_variable("conv"), ValueError,
     "Variable conv does not uniquely identify a variable"),
    (lambda: framework.assign_from_checkpoint_fn("/nowhere/model.ckpt", []), ValueError, "var_list cannot be empty"),
    (lambda: framework.assign_from_values({"missing": 1.0}), ValueError, "Variable missing wasn't found"),
    (lambda: framework.assert_global_step(tf.constant([1, 2])), TypeError,
     "Existing \"global_step\" is not scalar: (2,)"),
    (lambda: framework.assert_global_step(3), TypeError, "Existing \"global_step\" must be a Variable or Tensor: 3."),
])
def test_variable_helper_errors(call, error, message):
    with tf.Graph().as_default():
        _build_named_variables()
        with pytest.raises(error) as info:
            call()
        assert str(info.value) == message


def _save_checkpoint(path):
    with tf.Graph().as_default():
        with tf.variable_scope("net"):
            w = framework.model_variable("weights", initializer=np.arange(6, dtype=np.float32).reshape(2, 3))
            b = framework.model_variable("biases", initializer=np.array([7.0, 8.0, 9.0], np.float32))
        saver = tf.train.Saver([w, b])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return saver.save(sess, path)


def test_assign_from_checkpoint_fn_restores_and_skips_missing(tmp_path):
    path = _save_checkpoint(os.path.join(str(tmp_path), "model.ckpt"))
    with tf.Graph().as_default():
        with tf.variable_scope("net"):
            w = framework.model_variable("weights", shape=[2, 3])
            extra = framework.model_variable("extra", shape=[1], initializer=tf.constant_initializer(5.0))
            column = framework.variable("column", shape=[3, 1], collections=["columns"])
        strict = framework.assign_from_checkpoint_fn(path, [w])
        lenient = framework.assign_from_checkpoint_fn(path, framework.get_variables_to_restore(),
                                                      ignore_missing_vars=True)
        reshaped = framework.assign_from_checkpoint_fn(path, {"net/biases": column}, reshape_variables=True)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            strict(sess)
            np.testing.assert_array_equal(sess.run(w), np.arange(6).reshape(2, 3))
            sess.run(tf.global_variables_initializer())
            lenient(sess)
            np.testing.assert_array_equal(sess.run(w), np.arange(6).reshape(2, 3))
            np.testing.assert_array_equal(sess.run(extra), [5.0])
            reshaped(sess)
            np.testing.assert_array_equal(sess.run(column), [[7.0], [8.0], [9.0]])
        assert framework.assign_from_checkpoint_fn(path, [extra], ignore_missing_vars=True) is None


def test_assign_from_checkpoint_and_values_give_op_and_feed(tmp_path):
    path = _save_checkpoint(os.path.join(str(tmp_path), "model.ckpt"))
    with tf.Graph().as_default():
        with tf.variable_scope("net"):
            w = framework.model_variable("weights", shape=[2, 3])
            b = framework.model_variable("biases", shape=[3])
        op, feed = framework.assign_from_checkpoint(path, {"net/weights": w, "net/biases": b})
        values_op, values_feed = framework.assign_from_values({"net/biases": [1.0, 2.0, 3.0]})
        with tf.Session() as sess:
            sess.run(op, feed)
            np.testing.assert_array_equal(sess.run(b), [7.0, 8.0, 9.0])
            framework.assign_from_values_fn({"net/weights": np.ones(6)})(sess)
            np.testing.assert_array_equal(sess.run(w), np.ones((2, 3)))
            sess.run(values_op, values_feed)
            np.testing.assert_array_equal(sess.run(b), [1.0, 2.0, 3.0])
        with pytest.raises(ValueError) as info:
            framework.assign_from_checkpoint(path, {"net/other": w})
        assert str(info.value) == "Checkpoint is missing variable [net/other]"


def test_global_step_nest_and_checkpoint_names():
    with tf.Graph().as_default():
        assert framework.get_global_step() is None
        step = framework.get_or_create_global_step()
        assert step.op.name == "global_step" and framework.get_global_step() is step
        assert framework.assert_or_get_global_step() is step
    assert framework.nest.flatten({"b": [1, 2], "a": 3}) == [3, 1, 2]
    assert framework.load_variable is tf.train.load_variable
    assert framework.list_variables is tf.train.list_variables
