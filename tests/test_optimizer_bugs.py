"""Regression tests: optimizers on scalar variables, the dtype `get_variable` takes from a value initializer,
and the names TF gives optimizer and moving-average variables (and the update ops).

The expected values and names were recorded with TensorFlow 2.21 (`tf.compat.v1` with v2 behaviour disabled)
by running this module's builders, which take the `tf` module as an argument, with TensorFlow: run
`python tests/test_optimizer_bugs.py` where TensorFlow (and pytest, and caudal) is installed to print them
again.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np
import pytest

import caudal

# ------------------------------------------------------------------------------------- scalar variables
SCALAR_SETTINGS: dict[str, tuple[str, dict]] = {
    "Momentum": ("MomentumOptimizer", dict(learning_rate=0.1, momentum=0.9)),
    "MomentumNesterov": ("MomentumOptimizer", dict(learning_rate=0.1, momentum=0.9, use_nesterov=True)),
    "Adam": ("AdamOptimizer", dict(learning_rate=0.1)),
    "Adagrad": ("AdagradOptimizer", dict(learning_rate=0.1)),
    "Adadelta": ("AdadeltaOptimizer", dict(learning_rate=1.0)),
    "RMSProp": ("RMSPropOptimizer", dict(learning_rate=0.1)),
    "RMSPropMomentum": ("RMSPropOptimizer", dict(learning_rate=0.1, momentum=0.5)),
    "RMSPropCentered": ("RMSPropOptimizer", dict(learning_rate=0.1, momentum=0.5, centered=True)),
    "Ftrl": ("FtrlOptimizer", dict(learning_rate=0.1)),
    "FtrlL1L2": ("FtrlOptimizer", dict(learning_rate=0.1, l1_regularization_strength=0.01,
                                       l2_regularization_strength=0.1)),
    "FtrlShrinkage": ("FtrlOptimizer", dict(learning_rate=0.1, learning_rate_power=-0.3,
                                            l2_shrinkage_regularization_strength=0.1)),
    "GradientDescent": ("GradientDescentOptimizer", dict(learning_rate=0.1)),
    "ProximalGradientDescent": ("ProximalGradientDescentOptimizer",
                                dict(learning_rate=0.1, l1_regularization_strength=0.01,
                                     l2_regularization_strength=0.1)),
    "ProximalAdagrad": ("ProximalAdagradOptimizer", dict(learning_rate=0.1, l1_regularization_strength=0.01,
                                                         l2_regularization_strength=0.1)),
}
SCALAR_DTYPES = ("float16", "float32", "float64")


def scalar_trajectory(tf: Any, setting: str, dtype_name: str, steps: int = 5) -> dict:
    """Minimizes (3 v - 1)^2 for a scalar variable v = 0.3: v after each step, and the slots at the end."""
    cls, kwargs = SCALAR_SETTINGS[setting]
    dtype = getattr(tf, dtype_name)
    with tf.Graph().as_default():
        v = tf.Variable(0.3, dtype=dtype, name="v")
        loss = tf.square(tf.constant(3.0, dtype) * v - tf.constant(1.0, dtype))
        opt = getattr(tf.train, cls)(**kwargs)
        try:
            train = opt.minimize(loss)
        except Exception as e:  # noqa: BLE001 - the error itself is the expected result
            return {"error": [type(e).__name__, str(e)]}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            values = []
            for _ in range(steps):
                sess.run(train)
                value = sess.run(v)
                assert np.shape(value) == () and value.dtype == np.dtype(dtype_name)
                values.append(float(value))
            slots = {name: float(sess.run(opt.get_slot(v, name))) for name in opt.get_slot_names()}
            return {"values": values, "slots": slots}


def _close(dtype_name: str) -> dict:
    return {"float16": dict(rtol=3e-3, atol=3e-3), "float32": dict(rtol=2e-6, atol=1e-6),
            "float64": dict(rtol=1e-12, atol=1e-12)}[dtype_name]


@pytest.mark.parametrize("dtype_name", SCALAR_DTYPES)
@pytest.mark.parametrize("setting", sorted(SCALAR_SETTINGS))
def test_optimizer_minimizes_a_scalar_variable_as_tensorflow(setting: str, dtype_name: str) -> None:
    expected = _EXPECTED_SCALARS[setting][dtype_name]
    got = scalar_trajectory(caudal, setting, dtype_name)
    if "error" in expected:  # TF's message; caudal goes on to name the node and the line that made it
        assert "error" in got, got
        assert got["error"][0] == expected["error"][0] and got["error"][1].startswith(expected["error"][1])
        return
    assert "error" not in got, got
    np.testing.assert_allclose(got["values"], expected["values"], **_close(dtype_name))
    assert sorted(got["slots"]) == sorted(expected["slots"])
    for name, value in expected["slots"].items():
        np.testing.assert_allclose(got["slots"][name], value, **_close(dtype_name))


def test_scalar_and_vector_variables_in_one_minimize() -> None:
    """Both take the same steps as when each is alone (the scalar path only changes the array rank)."""
    tf = caudal
    with tf.Graph().as_default():
        s = tf.Variable(0.3, name="s")
        w = tf.Variable([0.3, -0.2], name="w")
        loss = tf.square(3.0 * s - 1.0) + tf.reduce_sum(tf.square(3.0 * w - 1.0))
        train = tf.train.AdamOptimizer(0.1).minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(5):
                sess.run(train)
            np.testing.assert_allclose(sess.run(s), _EXPECTED_SCALARS["Adam"]["float32"]["values"][-1], rtol=2e-6)
            assert sess.run(w).shape == (2,) and sess.run(s).shape == ()
            np.testing.assert_allclose(sess.run(w)[0], sess.run(s), rtol=1e-6)


@pytest.mark.parametrize("optimizer", ["Adam", "Momentum", "Ftrl", "GradientDescent", "ProximalGradientDescent"])
@pytest.mark.parametrize("var_shape, grad_shape", [((), (1,)), ((1,), ()), ((2, 3), (3, 2))])
def test_gradient_of_another_shape_is_tensorflows_error(optimizer: str, var_shape: tuple,
                                                        grad_shape: tuple) -> None:
    tf = caudal
    cls, kwargs = SCALAR_SETTINGS[optimizer]
    grad_name = "delta" if "GradientDescent" in optimizer else "grad"
    v = tf.Variable(np.ones(var_shape, np.float32), name="v")
    g = tf.placeholder(tf.float32)
    train = getattr(tf.train, cls)(**kwargs).apply_gradients([(g, v)])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = {x.op.name: sess.run(x) for x in tf.global_variables()}
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(train, {g: np.ones(grad_shape, np.float32)})
        shapes = " ".join("[" + ",".join(map(str, shape)) + "]" for shape in (var_shape, grad_shape))
        assert f"var and {grad_name} do not have the same shape{shapes}" in str(info.value)
        for x in tf.global_variables():
            np.testing.assert_array_equal(sess.run(x), before[x.op.name])


# ----------------------------------------------------------------------- get_variable's dtype
def initializer_dtype_cases(tf: Any) -> dict[str, Any]:
    """get_variable / Variable calls whose dtype comes (or not) from the initial value."""
    def scoped(dtype: Any, make: Any) -> Any:
        with tf.variable_scope("s", dtype=dtype):
            return make()

    return {
        "get_variable numpy float64": lambda: tf.get_variable("b", initializer=np.array([1.0, 2.0], np.float64)),
        "get_variable numpy float16": lambda: tf.get_variable("b", initializer=np.array([1.0, 2.0], np.float16)),
        "get_variable numpy int64": lambda: tf.get_variable("b", initializer=np.array([1, 2], np.int64)),
        "get_variable numpy scalar float64": lambda: tf.get_variable("b", initializer=np.float64(3.0)),
        "get_variable list": lambda: tf.get_variable("b", initializer=[1.0, 2.0]),
        "get_variable int list": lambda: tf.get_variable("b", initializer=[1, 2]),
        "get_variable float": lambda: tf.get_variable("b", initializer=1.5),
        "get_variable int": lambda: tf.get_variable("b", initializer=3),
        "get_variable tensor float64": lambda: tf.get_variable("b", initializer=tf.constant([1.0, 2.0], tf.float64)),
        "get_variable numpy float64, dtype float64": lambda: tf.get_variable(
            "b", initializer=np.array([1.0, 2.0]), dtype=tf.float64),
        "get_variable numpy float64, dtype 'float64'": lambda: tf.get_variable(
            "b", initializer=np.array([1.0, 2.0]), dtype="float64"),
        "get_variable numpy float64 in a float16 scope": lambda: scoped(
            tf.float16, lambda: tf.get_variable("b", initializer=np.array([1.0, 2.0]))),
        "get_variable list in a float64 scope": lambda: scoped(
            tf.float64, lambda: tf.get_variable("b", initializer=[1.0, 2.0])),
        "get_variable zeros_initializer in a float64 scope": lambda: scoped(
            tf.float64, lambda: tf.get_variable("b", shape=[2], initializer=tf.zeros_initializer())),
        "get_variable callable without arguments": lambda: tf.get_variable(
            "b", initializer=lambda: np.array([1.0, 2.0])),
        "get_variable scope initializer numpy float64": lambda: _in_scope_with_initializer(tf),
        "Variable numpy float64": lambda: tf.Variable(np.array([1.0, 2.0])),
        "Variable list": lambda: tf.Variable([1.0, 2.0]),
        "Variable float": lambda: tf.Variable(0.3),
        "Variable numpy float64, dtype float32": lambda: tf.Variable(np.array([1.0, 2.0]), dtype=tf.float32),
        "Variable list, dtype float64": lambda: tf.Variable([1.0, 2.0], dtype=tf.float64),
        "Variable int, dtype float32": lambda: tf.Variable(3, dtype=tf.float32),
        "Variable numpy int64": lambda: tf.Variable(np.array([1, 2])),
        "Variable numpy float64, dtype int32": lambda: tf.Variable(np.array([1.5, 2.0]), dtype=tf.int32),
        "Variable callable numpy float64": lambda: tf.Variable(lambda: np.array([1.0, 2.0])),
    }


def _in_scope_with_initializer(tf: Any) -> Any:
    with tf.variable_scope("s", initializer=np.array([1.0, 2.0])):
        return tf.get_variable("b")


def run_dtype_case(tf: Any, make: Any) -> list:
    """[dtype name, shape, value as a list]."""
    with tf.Graph().as_default():
        v = make()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            value = sess.run(v)
        return [v.dtype.name, list(v.shape.as_list()), np.asarray(value).tolist(), str(np.asarray(value).dtype)]


DTYPE_EXPECTED = {
    "get_variable numpy float64": ["float64_ref", [2], [1.0, 2.0], "float64"],
    "get_variable numpy float16": ["float16_ref", [2], [1.0, 2.0], "float16"],
    "get_variable numpy int64": ["int64_ref", [2], [1, 2], "int64"],
    "get_variable numpy scalar float64": ["float64_ref", [], 3.0, "float64"],
    "get_variable list": ["float32_ref", [2], [1.0, 2.0], "float32"],
    "get_variable int list": ["int32_ref", [2], [1, 2], "int32"],
    "get_variable float": ["float32_ref", [], 1.5, "float32"],
    "get_variable int": ["int32_ref", [], 3, "int32"],
    "get_variable tensor float64": ["float64_ref", [2], [1.0, 2.0], "float64"],
    "get_variable numpy float64, dtype float64": ["float64_ref", [2], [1.0, 2.0], "float64"],
    "get_variable numpy float64, dtype 'float64'": ["float64_ref", [2], [1.0, 2.0], "float64"],
    "get_variable numpy float64 in a float16 scope": ["float64_ref", [2], [1.0, 2.0], "float64"],
    "get_variable list in a float64 scope": ["float32_ref", [2], [1.0, 2.0], "float32"],
    "get_variable zeros_initializer in a float64 scope": ["float64_ref", [2], [0.0, 0.0], "float64"],
    "get_variable callable without arguments": ["float64_ref", [2], [1.0, 2.0], "float64"],
    "get_variable scope initializer numpy float64": ["float64_ref", [2], [1.0, 2.0], "float64"],
    "Variable numpy float64": ["float64_ref", [2], [1.0, 2.0], "float64"],
    "Variable list": ["float32_ref", [2], [1.0, 2.0], "float32"],
    "Variable float": ["float32_ref", [], 0.30000001192092896, "float32"],
    "Variable numpy float64, dtype float32": ["float32_ref", [2], [1.0, 2.0], "float32"],
    "Variable list, dtype float64": ["float64_ref", [2], [1.0, 2.0], "float64"],
    "Variable int, dtype float32": ["float32_ref", [], 3.0, "float32"],
    "Variable numpy int64": ["int64_ref", [2], [1, 2], "int64"],
    "Variable numpy float64, dtype int32": ["int32_ref", [2], [1, 2], "int32"],
    "Variable callable numpy float64": ["float64_ref", [2], [1.0, 2.0], "float64"],
}


@pytest.mark.parametrize("case", sorted(DTYPE_EXPECTED))
def test_variable_dtype_follows_the_initial_value_as_tensorflow(case: str) -> None:
    assert run_dtype_case(caudal, initializer_dtype_cases(caudal)[case]) == DTYPE_EXPECTED[case]


def dtype_error_cases(tf: Any) -> dict[str, Any]:
    def share(first: Any, second: Any) -> Any:
        first()
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            return second()

    return {
        "numpy float64, dtype float32": lambda: tf.get_variable("b", initializer=np.array([1.0, 2.0]),
                                                                dtype=tf.float32),
        "list, dtype float64": lambda: tf.get_variable("b", initializer=[1.0, 2.0], dtype=tf.float64),
        "float, dtype float64": lambda: tf.get_variable("b", initializer=1.5, dtype=tf.float64),
        "int, dtype float32": lambda: tf.get_variable("b", initializer=3, dtype=tf.float32),
        "tensor float64, dtype float32": lambda: tf.get_variable(
            "b", initializer=tf.constant([1.0, 2.0], tf.float64), dtype=tf.float32),
        "numpy with a shape": lambda: tf.get_variable("b", shape=[2], initializer=np.array([1.0, 2.0])),
        "tensor with a shape": lambda: tf.get_variable("b", shape=[2], initializer=tf.constant([1.0, 2.0])),
        "no initializer, no shape": lambda: tf.get_variable("b"),
        "initializer, shape not fully defined": lambda: tf.get_variable("b", shape=[None, 2]),
        "share with another dtype": lambda: share(lambda: tf.get_variable("b", [2]),
                                                  lambda: tf.get_variable("b", [2], dtype=tf.float64)),
        "share a float64 variable with the default dtype": lambda: share(
            lambda: tf.get_variable("b", initializer=np.array([1.0, 2.0])), lambda: tf.get_variable("b")),
    }


DTYPE_ERRORS = {
    "numpy float64, dtype float32": "Initializer type '<dtype: 'float64'>' and explicit dtype '<dtype: 'float32'>' "
                                    "don't match.",
    "list, dtype float64": "Initializer type '<dtype: 'float32'>' and explicit dtype '<dtype: 'float64'>' don't "
                           "match.",
    "float, dtype float64": "Initializer type '<dtype: 'float32'>' and explicit dtype '<dtype: 'float64'>' don't "
                            "match.",
    "int, dtype float32": "Initializer type '<dtype: 'int32'>' and explicit dtype '<dtype: 'float32'>' don't match.",
    "tensor float64, dtype float32": "Initializer type '<dtype: 'float64'>' and explicit dtype '<dtype: 'float32'>' "
                                     "don't match.",
    "numpy with a shape": "If initializer is a constant, do not specify shape.",
    "tensor with a shape": "If initializer is a constant, do not specify shape.",
    "no initializer, no shape": "Variable b did not get an initializer, so its `shape` argument must be specified.",
    "initializer, shape not fully defined": "The initializer passed is not valid. It should be a callable with no "
                                            "arguments and the shape should not be provided or an instance of "
                                            "`tf.keras.initializers.*' and `shape` should be fully defined.",
    "share with another dtype": "Trying to share variable b, but specified dtype float64 and found dtype "
                                "float32_ref.",
    "share a float64 variable with the default dtype": "Trying to share variable b, but specified dtype float32 and "
                                                       "found dtype float64_ref.",
}


@pytest.mark.parametrize("case", sorted(DTYPE_ERRORS))
def test_get_variable_dtype_and_shape_errors_are_tensorflows(case: str) -> None:
    tf = caudal
    with tf.Graph().as_default():
        with pytest.raises(ValueError) as info:
            dtype_error_cases(tf)[case]()
        assert str(info.value) == DTYPE_ERRORS[case]


def test_checkpoint_of_a_variable_from_a_float64_array_holds_float64(tmp_path: Any) -> None:
    tf = caudal
    value = np.array([0.1, 1e-300, 3.0], np.float64)  # 1e-300 and 0.1 would not survive float32
    with tf.Graph().as_default():
        b = tf.get_variable("b", initializer=value)
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            path = saver.save(sess, os.path.join(str(tmp_path), "model"))
    reader = tf.train.NewCheckpointReader(path)
    assert reader.get_variable_to_dtype_map()["b"] == tf.float64
    saved = reader.get_tensor("b")
    assert saved.dtype == np.float64
    np.testing.assert_array_equal(saved, value)
    assert b.dtype.base_dtype == tf.float64
    # A graph that declares the variable the same way restores it.
    with tf.Graph().as_default():
        b = tf.get_variable("b", initializer=np.zeros(3, np.float64))
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
            np.testing.assert_array_equal(sess.run(b), value)


# -------------------------------------------------------------------------------------------- names
NAME_OPTIMIZERS: dict[str, tuple[str, dict]] = {
    "GradientDescent": ("GradientDescentOptimizer", dict(learning_rate=0.1)),
    "Momentum": ("MomentumOptimizer", dict(learning_rate=0.1, momentum=0.9)),
    "Adam": ("AdamOptimizer", dict(learning_rate=0.1)),
    "Adagrad": ("AdagradOptimizer", dict(learning_rate=0.1)),
    "Adadelta": ("AdadeltaOptimizer", dict(learning_rate=0.1)),
    "RMSProp": ("RMSPropOptimizer", dict(learning_rate=0.1)),
    "RMSPropCentered": ("RMSPropOptimizer", dict(learning_rate=0.1, momentum=0.5, centered=True)),
    "Ftrl": ("FtrlOptimizer", dict(learning_rate=0.1)),
    "FtrlShrinkage": ("FtrlOptimizer", dict(learning_rate=0.1, l2_shrinkage_regularization_strength=0.1)),
    "FtrlNamedSlots": ("FtrlOptimizer", dict(learning_rate=0.1, accum_name="acc", linear_name="lin")),
    "ProximalGradientDescent": ("ProximalGradientDescentOptimizer", dict(learning_rate=0.1)),
    "ProximalAdagrad": ("ProximalAdagradOptimizer", dict(learning_rate=0.1)),
}
NAME_CONTEXTS = ("plain", "name_scope", "variable_scope", "named", "minimize_name", "global_step", "two",
                 "two_same", "variables_in_scope")


def optimizer_names(tf: Any, optimizer: str, context: str) -> dict:
    """Names after `minimize` in `context`, in creation order: every global variable, the ops of minimize
    that write (Apply*, Assign*) or group (NoOp) outside the gradients, and the returned training ops."""
    cls, kwargs = NAME_OPTIMIZERS[optimizer]

    def make(**extra: Any) -> Any:
        return getattr(tf.train, cls)(**kwargs, **extra)

    graph = tf.Graph()
    with graph.as_default():
        with tf.variable_scope("outer") if context == "variables_in_scope" else contextlib.nullcontext():
            w = tf.Variable(np.ones([2, 2], np.float32), name="w")
            b = tf.Variable(np.zeros([2], np.float32), name="b")
            with tf.name_scope("model"):
                loss = tf.reduce_sum(tf.square(tf.matmul(tf.ones([1, 2]), w) + b))
            first = len(graph.get_operations())
            if context == "plain" or context == "variables_in_scope":
                trains = [make().minimize(loss)]
            elif context == "name_scope":
                with tf.name_scope("train"):
                    trains = [make().minimize(loss)]
            elif context == "variable_scope":
                with tf.variable_scope("outer"):
                    trains = [make().minimize(loss)]
            elif context == "named":
                trains = [make(name="my_opt").minimize(loss)]
            elif context == "minimize_name":
                trains = [make().minimize(loss, name="train")]
            elif context == "global_step":
                step = tf.train.get_or_create_global_step()
                with tf.name_scope("train"):
                    trains = [make().minimize(loss, global_step=step)]
            elif context == "two":
                trains = [make().minimize(loss, var_list=[w]), make().minimize(loss, var_list=[b])]
            else:  # two_same
                trains = [make().minimize(loss), make().minimize(loss)]
        ops = [op.name for op in graph.get_operations()[first:]
               if "gradients" not in op.name and (op.type.startswith(("Apply", "Assign")) or op.type == "NoOp")]
        return {"variables": " ".join(v.op.name for v in tf.global_variables()), "ops": " ".join(ops),
                "train_ops": " ".join(t.name for t in trains)}


def ema_names(tf: Any, context: str) -> dict:
    """Names after ExponentialMovingAverage.apply in `context`."""
    graph = tf.Graph()
    with graph.as_default():
        w = tf.Variable(np.ones([2, 2], np.float32), name="w")
        b = tf.Variable(np.zeros([2], np.float32), name="b")
        loss = tf.reduce_sum(tf.square(w), name="loss")
        if context == "plain":
            tf.train.ExponentialMovingAverage(0.9).apply([w, b])
        elif context == "name_scope":
            with tf.name_scope("train"):
                tf.train.ExponentialMovingAverage(0.9).apply([w, b])
        elif context == "variable_scope":
            with tf.variable_scope("outer"):
                tf.train.ExponentialMovingAverage(0.9).apply([w, b])
        elif context == "named":
            tf.train.ExponentialMovingAverage(0.9, name="avg").apply([w, b])
        elif context == "two":
            tf.train.ExponentialMovingAverage(0.9).apply([w])
            tf.train.ExponentialMovingAverage(0.9).apply([w, b])
        elif context == "tensor":
            tf.train.ExponentialMovingAverage(0.9).apply([loss])
        elif context == "tensor_zero_debias_in_variable_scope":
            with tf.variable_scope("outer"):
                tf.train.ExponentialMovingAverage(0.9, zero_debias=True).apply([loss])
        else:  # num_updates
            step = tf.train.get_or_create_global_step()
            with tf.name_scope("train"):
                tf.train.ExponentialMovingAverage(0.9, num_updates=step).apply([w, b])
        return {"variables": " ".join(v.op.name for v in tf.global_variables())}


EMA_CONTEXTS = ("plain", "name_scope", "variable_scope", "named", "two", "tensor",
                "tensor_zero_debias_in_variable_scope", "num_updates")


@pytest.mark.parametrize("context", NAME_CONTEXTS)
@pytest.mark.parametrize("optimizer", sorted(NAME_OPTIMIZERS))
def test_optimizer_variable_and_op_names_are_tensorflows(optimizer: str, context: str) -> None:
    assert optimizer_names(caudal, optimizer, context) == _EXPECTED_NAMES[f"{optimizer}:{context}"]


@pytest.mark.parametrize("context", EMA_CONTEXTS)
def test_moving_average_names_are_tensorflows(context: str) -> None:
    assert ema_names(caudal, context) == _EXPECTED_NAMES[f"ExponentialMovingAverage:{context}"]


def test_slots_follow_the_variable_scope_rules_as_tensorflow() -> None:
    """Slots are made by get_variable: reuse, re-entered scopes, custom getters and regularizers apply."""
    tf = caudal

    def model() -> tuple:
        w = tf.Variable(np.ones([2], np.float32), name="w")
        return w, tf.reduce_sum(w * w)

    with tf.Graph().as_default():
        _, loss = model()
        with tf.variable_scope("outer", reuse=True), pytest.raises(ValueError) as info:
            tf.train.AdamOptimizer(0.1).minimize(loss)
        assert str(info.value) == ("Variable outer/w/Adam/ does not exist, or was not created with "
                                   "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in VarScope?")
    with tf.Graph().as_default():
        _, loss = model()
        with tf.variable_scope("outer"):
            tf.train.AdamOptimizer(0.1).minimize(loss)
        with tf.variable_scope("outer"), pytest.raises(ValueError) as info:
            tf.train.AdamOptimizer(0.1).minimize(loss)
        assert str(info.value).startswith("Variable outer/w/Adam/ already exists, disallowed.")
    with tf.Graph().as_default():
        _, loss = model()
        with tf.variable_scope("outer", reuse=tf.AUTO_REUSE):
            tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
            tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
        assert [v.op.name for v in tf.global_variables()] == ["w", "outer/w/Momentum", "outer/w/Momentum_1"]
    with tf.Graph().as_default():
        _, loss = model()
        with tf.variable_scope("outer", regularizer=lambda v: tf.reduce_sum(v)):
            tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
        assert [t.name for t in tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)] == \
            ["outer/w/Momentum//Regularizer/Sum:0"]
    with tf.Graph().as_default():
        with tf.variable_scope("outer", custom_getter=lambda getter, name, *a, **k: getter(name + "_c", *a, **k)):
            _, loss = model()
            tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
        assert [v.op.name for v in tf.global_variables()] == ["outer/w", "outer/outer/w/Momentum/_c"]


def test_adam_non_slot_variables_keep_their_values_in_a_name_scope() -> None:
    """`train/beta1_power` is the variable Adam updates: beta1^t after t steps."""
    tf = caudal
    with tf.Graph().as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        with tf.name_scope("train"):
            opt = tf.train.AdamOptimizer(0.1, beta1=0.8, beta2=0.9)
            train = opt.minimize(tf.reduce_sum(w * w))
        powers = {v.op.name: v for v in opt.variables() if "power" in v.op.name}
        assert sorted(powers) == ["train/beta1_power", "train/beta2_power"]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            np.testing.assert_allclose(sess.run(powers["train/beta1_power"]), 0.8 ** 4, rtol=1e-6)
            np.testing.assert_allclose(sess.run(powers["train/beta2_power"]), 0.9 ** 4, rtol=1e-6)


def test_average_name_before_apply_is_tensorflows() -> None:
    tf = caudal
    w = tf.Variable(1.0, name="w")
    first = tf.train.ExponentialMovingAverage(0.9)
    assert first.average_name(w) == "w/ExponentialMovingAverage"
    with tf.name_scope("s"):
        assert first.average_name(w) == "s/w/ExponentialMovingAverage"
    first.apply([w])
    second = tf.train.ExponentialMovingAverage(0.9)
    assert second.average_name(w) == "w/ExponentialMovingAverage_1"
    with tf.variable_scope("outer"):
        second.apply([w])
    assert second.average_name(w) == "outer/w/ExponentialMovingAverage"


def test_assign_values_are_named_under_the_assign_op() -> None:
    tf = caudal
    v = tf.Variable([1.0, 2.0], name="v")
    tf.assign(v, [5.0, 6.0])
    v.assign_add([1.0, 1.0])
    tf.assign_sub(v, [1.0, 2.0], name="foo")
    with tf.name_scope("s"):
        v.assign_sub([1.0, 1.0], name="bar")
    names = [op.name for op in tf.get_default_graph().get_operations()[4:]]
    assert names == ["Assign/value", "Assign", "AssignAdd/value", "AssignAdd", "foo/value", "foo", "s/bar/value",
                     "s/bar"]


# ------------------------------------------------------------------------------- recorded values
# Recorded with TensorFlow 2.21 by `_record` below.
_EXPECTED_SCALARS = {
    'Adadelta': {
        'float16': {'values': [0.300048828125, 0.300048828125, 0.300048828125, 0.300048828125, 0.300048828125],
                    'slots': {'accum': 0.08056640625, 'accum_update': 0.0}},
        'float32': {'values': [0.30044723, 0.30089715, 0.30134684, 0.30179483, 0.3022402],
                    'slots': {'accum': 0.07692467, 'accum_update': 4.5398412e-08}},
        'float64': {'values': [0.3004472134166031, 0.3008971329695511, 0.3013468191717683,
                               0.3017947931627572, 0.3022401727073944],
                    'slots': {'accum': 0.0769247725933569, 'accum_update': 4.539843693620921e-08}},
    },
    'Adagrad': {
        'float16': {'values': [0.388427734375, 0.305908203125, 0.34375, 0.329345703125, 0.334716796875],
                    'slots': {'accumulator': 1.7197265625}},
        'float32': {'values': [0.3884652, 0.30590504, 0.34389892, 0.32941765, 0.3347768],
                    'slots': {'accumulator': 1.7296907}},
        'float64': {'values': [0.3884651750111721, 0.305905024941427, 0.34389894557323875,
                               0.3294176447183654, 0.33477680196572673],
                    'slots': {'accumulator': 1.7296901785463357}},
    },
    'Adam': {
        'float16': {'values': [0.39990234375, 0.36328125, 0.31298828125, 0.28759765625, 0.295166015625],
                    'slots': {'m': -0.02374267578125, 'v': 0.00281524658203125}},
        'float32': {'values': [0.39999998, 0.36338976, 0.31324288, 0.28750107, 0.29490626],
                    'slots': {'m': -0.023108386, 'v': 0.0028975592}},
        'float64': {'values': [0.3999999487851765, 0.3633897560657135, 0.31324289543444456,
                               0.2875010915893684, 0.29490626680224774],
                    'slots': {'m': -0.02310835714558629, 'v': 0.0028975563660316984}},
    },
    'Ftrl': {
        'float16': {'values': [0.2481689453125, 0.33984375, 0.33251953125, 0.33349609375, 0.33349609375],
                    'slots': {'accum': 2.818359375, 'linear': -5.6015625}},
        'float32': {'values': [0.24858943, 0.33996433, 0.3328327, 0.33337113, 0.33333045],
                    'slots': {'accum': 2.801143, 'linear': -5.578824}},
        'float64': {'values': [0.24858945377512512, 0.3399643403600504, 0.33283267831071517,
                               0.3333711260383061, 0.33333048049694153],
                    'slots': {'accum': 2.8011421772035203, 'linear': -5.578823200010253}},
    },
    'FtrlL1L2': {
        'float16': {'values': [0.2396240234375, 0.331298828125, 0.333251953125, 0.333251953125, 0.333251953125],
                    'slots': {'accum': 3.306640625, 'linear': -6.140625}},
        'float32': {'values': [0.24003671, 0.3317474, 0.33330616, 0.3333329, 0.3333333],
                    'slots': {'accum': 3.2809954, 'linear': -6.114506}},
        'float64': {'values': [0.2400367368087866, 0.3317474359235851, 0.33330618404712536,
                               0.33333286855846184, 0.33333332537674537],
                    'slots': {'accum': 3.280993716830414, 'linear': -6.11450426847538}},
    },
    'FtrlShrinkage': {
        'float16': {'values': [0.1778564453125, 0.324462890625, 0.32958984375, 0.32958984375, 0.329345703125],
                    'slots': {'accum': 8.3203125, 'linear': -6.22265625}},
        'float32': {'values': [0.17836675, 0.32462847, 0.32949793, 0.32966444, 0.32967013],
                    'slots': {'accum': 8.274424, 'linear': -6.2144246}},
        'float64': {'values': [0.1783667916854287, 0.3246284881054502, 0.32949797423973615,
                               0.32966440886129306, 0.3296701253222231],
                    'slots': {'accum': 8.274418088399337, 'linear': -6.2144233540216485}},
    },
    'GradientDescent': {
        'float16': {'values': [0.35986328125, 0.311767578125, 0.350341796875, 0.31982421875, 0.34423828125],
                    'slots': {}},
        'float32': {'values': [0.35999998, 0.31200004, 0.35039997, 0.31968004, 0.34425598],
                    'slots': {}},
        'float64': {'values': [0.3600000008940697, 0.3119999985694884, 0.3504000017166139,
                               0.3196799981689452, 0.3442560018310548],
                    'slots': {}},
    },
    'Momentum': {
        'float16': {'values': [0.35986328125, 0.365478515625, 0.3125, 0.302490234375, 0.34912109375],
                    'slots': {'momentum': -0.4658203125}},
        'float32': {'values': [0.35999998, 0.366, 0.3126, 0.30186003, 0.348846],
                    'slots': {'momentum': -0.46985966}},
        'float64': {'values': [0.3600000008940697, 0.3659999979436397, 0.31259999797046195,
                               0.301860003477037, 0.34884600327452986],
                    'slots': {'momentum': -0.4698599909734692}},
    },
    'MomentumNesterov': {
        'float16': {'values': [0.41357421875, 0.1881103515625, 0.611328125, -0.193359375, 1.333984375],
                    'slots': {'momentum': -6.4375}},
        'float32': {'values': [0.41399997, 0.1867201, 0.61426544, -0.19924504, 1.3451235],
                    'slots': {'momentum': -6.5080843}},
        'float64': {'values': [0.414000000268221, 0.18671999685108645, 0.6142656100634339,
                               -0.1992453392649427, 1.3451241733348258],
                    'slots': {'momentum': -6.508087715849589}},
    },
    'ProximalAdagrad': {
        'float16': {'error': ['TypeError',
                               "Input 'lr' of 'ApplyProximalAdagrad' Op has type float32 that does not match "
                               "type float16 of argument 'var'."
                              ]},
        'float32': {'values': [0.38136783, 0.2990554, 0.34448674, 0.32542133, 0.33313912],
                    'slots': {'accumulator': 1.6488495}},
        'float64': {'error': ['TypeError',
                               "Input 'lr' of 'ApplyProximalAdagrad' Op has type float32 that does not match "
                               "type float64 of argument 'var'."
                              ]},
    },
    'ProximalGradientDescent': {
        'float16': {'error': ['TypeError',
                               "Input 'alpha' of 'ApplyProximalGradientDescent' Op has type float32 that does "
                               "not match type float16 of argument 'var'."
                              ]},
        'float32': {'values': [0.35544553, 0.3115283, 0.34631425, 0.318761, 0.34058538],
                    'slots': {}},
        'float64': {'error': ['TypeError',
                               "Input 'alpha' of 'ApplyProximalGradientDescent' Op has type float32 that does "
                               "not match type float64 of argument 'var'."
                              ]},
    },
    'RMSProp': {
        'float16': {'values': [0.36181640625, 0.306640625, 0.360107421875, 0.304443359375, 0.36669921875],
                    'slots': {'momentum': -0.06231689453125, 'rms': 0.69970703125}},
        'float32': {'values': [0.36201736, 0.30663288, 0.36019105, 0.30429742, 0.36673877],
                    'slots': {'momentum': -0.06244134, 'rms': 0.70060295}},
        'float64': {'values': [0.3620173687209296, 0.3066328457825916, 0.36019107321290056,
                               0.30429734589668267, 0.3667388068080216],
                    'slots': {'momentum': -0.062441460911338974, 'rms': 0.7006031921732743}},
    },
    'RMSPropCentered': {
        'float16': {'values': [0.36181640625, 0.33740234375, 0.3173828125, 0.34130859375, 0.335693359375],
                    'slots': {'mg': -0.007720947265625, 'momentum': 0.00555419921875, 'rms': 0.642578125}},
        'float32': {'values': [0.36213696, 0.33759698, 0.31665343, 0.34173727, 0.3354369],
                    'slots': {'mg': -0.0072478335, 'momentum': 0.006300362, 'rms': 0.6445837}},
        'float64': {'values': [0.3621369780883382, 0.33759697550972756, 0.3166534075312208,
                               0.3417372698772639, 0.3354369284178599],
                    'slots': {'mg': -0.007247861253599254,
                              'momentum': 0.006300341459404021, 'rms': 0.6445837909670099}},
    },
    'RMSPropMomentum': {
        'float16': {'values': [0.36181640625, 0.33740234375, 0.317138671875, 0.341796875, 0.335205078125],
                    'slots': {'momentum': 0.0066680908203125, 'rms': 0.6435546875}},
        'float32': {'values': [0.36201736, 0.33764154, 0.3166885, 0.3416826, 0.3354576],
                    'slots': {'momentum': 0.0062250057, 'rms': 0.64436764}},
        'float64': {'values': [0.3620173687209296, 0.3376415301430564, 0.3166885373065019,
                               0.3416825863081567, 0.33545756561600365],
                    'slots': {'momentum': 0.006225020692153006, 'rms': 0.6443675842595061}},
    },
}
_EXPECTED_NAMES = {
    'Adadelta:plain': {
        'variables': 'w b w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1',
        'ops': 'w/Adadelta/Assign w/Adadelta_1/Assign b/Adadelta/Assign b/Adadelta_1/Assign '
            'Adadelta/update_w/ApplyAdadelta Adadelta/update_b/ApplyAdadelta Adadelta',
        'train_ops': 'Adadelta',
    },
    'Adadelta:name_scope': {
        'variables': 'w b w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1',
        'ops': 'w/Adadelta/Assign w/Adadelta_1/Assign b/Adadelta/Assign b/Adadelta_1/Assign '
            'train/Adadelta/update_w/ApplyAdadelta train/Adadelta/update_b/ApplyAdadelta train/Adadelta',
        'train_ops': 'train/Adadelta',
    },
    'Adadelta:variable_scope': {
        'variables': 'w b outer/w/Adadelta outer/w/Adadelta_1 outer/b/Adadelta outer/b/Adadelta_1',
        'ops': 'outer/w/Adadelta/Assign outer/w/Adadelta_1/Assign outer/b/Adadelta/Assign outer/b/Adadelta_1/Assign '
            'outer/Adadelta/update_w/ApplyAdadelta outer/Adadelta/update_b/ApplyAdadelta outer/Adadelta',
        'train_ops': 'outer/Adadelta',
    },
    'Adadelta:named': {
        'variables': 'w b w/my_opt w/my_opt_1 b/my_opt b/my_opt_1',
        'ops': 'w/my_opt/Assign w/my_opt_1/Assign b/my_opt/Assign b/my_opt_1/Assign my_opt/update_w/ApplyAdadelta '
            'my_opt/update_b/ApplyAdadelta my_opt',
        'train_ops': 'my_opt',
    },
    'Adadelta:minimize_name': {
        'variables': 'w b w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1',
        'ops': 'w/Adadelta/Assign w/Adadelta_1/Assign b/Adadelta/Assign b/Adadelta_1/Assign '
            'train/update_w/ApplyAdadelta train/update_b/ApplyAdadelta train',
        'train_ops': 'train',
    },
    'Adadelta:global_step': {
        'variables': 'w b global_step w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1',
        'ops': 'global_step/Assign w/Adadelta/Assign w/Adadelta_1/Assign b/Adadelta/Assign b/Adadelta_1/Assign '
            'train/Adadelta/update_w/ApplyAdadelta train/Adadelta/update_b/ApplyAdadelta train/Adadelta/update '
            'train/Adadelta',
        'train_ops': 'train/Adadelta',
    },
    'Adadelta:two': {
        'variables': 'w b w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1',
        'ops': 'w/Adadelta/Assign w/Adadelta_1/Assign Adadelta/update_w/ApplyAdadelta Adadelta b/Adadelta/Assign '
            'b/Adadelta_1/Assign Adadelta_1/update_b/ApplyAdadelta Adadelta_1',
        'train_ops': 'Adadelta Adadelta_1',
    },
    'Adadelta:two_same': {
        'variables': 'w b w/Adadelta w/Adadelta_1 b/Adadelta b/Adadelta_1 w/Adadelta_2 w/Adadelta_3 b/Adadelta_2 '
            'b/Adadelta_3',
        'ops': 'w/Adadelta/Assign w/Adadelta_1/Assign b/Adadelta/Assign b/Adadelta_1/Assign '
            'Adadelta/update_w/ApplyAdadelta Adadelta/update_b/ApplyAdadelta Adadelta w/Adadelta_2/Assign '
            'w/Adadelta_3/Assign b/Adadelta_2/Assign b/Adadelta_3/Assign Adadelta_1/update_w/ApplyAdadelta '
            'Adadelta_1/update_b/ApplyAdadelta Adadelta_1',
        'train_ops': 'Adadelta Adadelta_1',
    },
    'Adadelta:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/Adadelta outer/outer/w/Adadelta_1 outer/outer/b/Adadelta '
            'outer/outer/b/Adadelta_1',
        'ops': 'outer/outer/w/Adadelta/Assign outer/outer/w/Adadelta_1/Assign outer/outer/b/Adadelta/Assign '
            'outer/outer/b/Adadelta_1/Assign outer/Adadelta/update_outer/w/ApplyAdadelta '
            'outer/Adadelta/update_outer/b/ApplyAdadelta outer/Adadelta',
        'train_ops': 'outer/Adadelta',
    },
    'Adagrad:plain': {
        'variables': 'w b w/Adagrad b/Adagrad',
        'ops': 'w/Adagrad/Assign b/Adagrad/Assign Adagrad/update_w/ApplyAdagrad Adagrad/update_b/ApplyAdagrad '
            'Adagrad',
        'train_ops': 'Adagrad',
    },
    'Adagrad:name_scope': {
        'variables': 'w b w/Adagrad b/Adagrad',
        'ops': 'w/Adagrad/Assign b/Adagrad/Assign train/Adagrad/update_w/ApplyAdagrad '
            'train/Adagrad/update_b/ApplyAdagrad train/Adagrad',
        'train_ops': 'train/Adagrad',
    },
    'Adagrad:variable_scope': {
        'variables': 'w b outer/w/Adagrad outer/b/Adagrad',
        'ops': 'outer/w/Adagrad/Assign outer/b/Adagrad/Assign outer/Adagrad/update_w/ApplyAdagrad '
            'outer/Adagrad/update_b/ApplyAdagrad outer/Adagrad',
        'train_ops': 'outer/Adagrad',
    },
    'Adagrad:named': {
        'variables': 'w b w/my_opt b/my_opt',
        'ops': 'w/my_opt/Assign b/my_opt/Assign my_opt/update_w/ApplyAdagrad my_opt/update_b/ApplyAdagrad my_opt',
        'train_ops': 'my_opt',
    },
    'Adagrad:minimize_name': {
        'variables': 'w b w/Adagrad b/Adagrad',
        'ops': 'w/Adagrad/Assign b/Adagrad/Assign train/update_w/ApplyAdagrad train/update_b/ApplyAdagrad train',
        'train_ops': 'train',
    },
    'Adagrad:global_step': {
        'variables': 'w b global_step w/Adagrad b/Adagrad',
        'ops': 'global_step/Assign w/Adagrad/Assign b/Adagrad/Assign train/Adagrad/update_w/ApplyAdagrad '
            'train/Adagrad/update_b/ApplyAdagrad train/Adagrad/update train/Adagrad',
        'train_ops': 'train/Adagrad',
    },
    'Adagrad:two': {
        'variables': 'w b w/Adagrad b/Adagrad',
        'ops': 'w/Adagrad/Assign Adagrad/update_w/ApplyAdagrad Adagrad b/Adagrad/Assign '
            'Adagrad_1/update_b/ApplyAdagrad Adagrad_1',
        'train_ops': 'Adagrad Adagrad_1',
    },
    'Adagrad:two_same': {
        'variables': 'w b w/Adagrad b/Adagrad w/Adagrad_1 b/Adagrad_1',
        'ops': 'w/Adagrad/Assign b/Adagrad/Assign Adagrad/update_w/ApplyAdagrad Adagrad/update_b/ApplyAdagrad '
            'Adagrad w/Adagrad_1/Assign b/Adagrad_1/Assign Adagrad_1/update_w/ApplyAdagrad '
            'Adagrad_1/update_b/ApplyAdagrad Adagrad_1',
        'train_ops': 'Adagrad Adagrad_1',
    },
    'Adagrad:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/Adagrad outer/outer/b/Adagrad',
        'ops': 'outer/outer/w/Adagrad/Assign outer/outer/b/Adagrad/Assign outer/Adagrad/update_outer/w/ApplyAdagrad '
            'outer/Adagrad/update_outer/b/ApplyAdagrad outer/Adagrad',
        'train_ops': 'outer/Adagrad',
    },
    'Adam:plain': {
        'variables': 'w b beta1_power beta2_power w/Adam w/Adam_1 b/Adam b/Adam_1',
        'ops': 'beta1_power/Assign beta2_power/Assign w/Adam/Assign w/Adam_1/Assign b/Adam/Assign b/Adam_1/Assign '
            'Adam/update_w/ApplyAdam Adam/update_b/ApplyAdam Adam/Assign Adam/Assign_1 Adam',
        'train_ops': 'Adam',
    },
    'Adam:name_scope': {
        'variables': 'w b train/beta1_power train/beta2_power w/Adam w/Adam_1 b/Adam b/Adam_1',
        'ops': 'train/beta1_power/Assign train/beta2_power/Assign w/Adam/Assign w/Adam_1/Assign b/Adam/Assign '
            'b/Adam_1/Assign train/Adam/update_w/ApplyAdam train/Adam/update_b/ApplyAdam train/Adam/Assign '
            'train/Adam/Assign_1 train/Adam',
        'train_ops': 'train/Adam',
    },
    'Adam:variable_scope': {
        'variables': 'w b outer/beta1_power outer/beta2_power outer/w/Adam outer/w/Adam_1 outer/b/Adam outer/b/Adam_1',
        'ops': 'outer/beta1_power/Assign outer/beta2_power/Assign outer/w/Adam/Assign outer/w/Adam_1/Assign '
            'outer/b/Adam/Assign outer/b/Adam_1/Assign outer/Adam/update_w/ApplyAdam '
            'outer/Adam/update_b/ApplyAdam outer/Adam/Assign outer/Adam/Assign_1 outer/Adam',
        'train_ops': 'outer/Adam',
    },
    'Adam:named': {
        'variables': 'w b beta1_power beta2_power w/my_opt w/my_opt_1 b/my_opt b/my_opt_1',
        'ops': 'beta1_power/Assign beta2_power/Assign w/my_opt/Assign w/my_opt_1/Assign b/my_opt/Assign '
            'b/my_opt_1/Assign my_opt/update_w/ApplyAdam my_opt/update_b/ApplyAdam my_opt/Assign my_opt/Assign_1 '
            'my_opt',
        'train_ops': 'my_opt',
    },
    'Adam:minimize_name': {
        'variables': 'w b beta1_power beta2_power w/Adam w/Adam_1 b/Adam b/Adam_1',
        'ops': 'beta1_power/Assign beta2_power/Assign w/Adam/Assign w/Adam_1/Assign b/Adam/Assign b/Adam_1/Assign '
            'train/update_w/ApplyAdam train/update_b/ApplyAdam train/Assign train/Assign_1 train',
        'train_ops': 'train',
    },
    'Adam:global_step': {
        'variables': 'w b global_step train/beta1_power train/beta2_power w/Adam w/Adam_1 b/Adam b/Adam_1',
        'ops': 'global_step/Assign train/beta1_power/Assign train/beta2_power/Assign w/Adam/Assign w/Adam_1/Assign '
            'b/Adam/Assign b/Adam_1/Assign train/Adam/update_w/ApplyAdam train/Adam/update_b/ApplyAdam '
            'train/Adam/Assign train/Adam/Assign_1 train/Adam/update train/Adam',
        'train_ops': 'train/Adam',
    },
    'Adam:two': {
        'variables': 'w b beta1_power beta2_power w/Adam w/Adam_1 beta1_power_1 beta2_power_1 b/Adam b/Adam_1',
        'ops': 'beta1_power/Assign beta2_power/Assign w/Adam/Assign w/Adam_1/Assign Adam/update_w/ApplyAdam '
            'Adam/Assign Adam/Assign_1 Adam beta1_power_1/Assign beta2_power_1/Assign b/Adam/Assign '
            'b/Adam_1/Assign Adam_1/update_b/ApplyAdam Adam_1/Assign Adam_1/Assign_1 Adam_1',
        'train_ops': 'Adam Adam_1',
    },
    'Adam:two_same': {
        'variables': 'w b beta1_power beta2_power w/Adam w/Adam_1 b/Adam b/Adam_1 beta1_power_1 beta2_power_1 w/Adam_2 '
            'w/Adam_3 b/Adam_2 b/Adam_3',
        'ops': 'beta1_power/Assign beta2_power/Assign w/Adam/Assign w/Adam_1/Assign b/Adam/Assign b/Adam_1/Assign '
            'Adam/update_w/ApplyAdam Adam/update_b/ApplyAdam Adam/Assign Adam/Assign_1 Adam beta1_power_1/Assign '
            'beta2_power_1/Assign w/Adam_2/Assign w/Adam_3/Assign b/Adam_2/Assign b/Adam_3/Assign '
            'Adam_1/update_w/ApplyAdam Adam_1/update_b/ApplyAdam Adam_1/Assign Adam_1/Assign_1 Adam_1',
        'train_ops': 'Adam Adam_1',
    },
    'Adam:variables_in_scope': {
        'variables': 'outer/w outer/b outer/beta1_power outer/beta2_power outer/outer/w/Adam outer/outer/w/Adam_1 '
            'outer/outer/b/Adam outer/outer/b/Adam_1',
        'ops': 'outer/beta1_power/Assign outer/beta2_power/Assign outer/outer/w/Adam/Assign '
            'outer/outer/w/Adam_1/Assign outer/outer/b/Adam/Assign outer/outer/b/Adam_1/Assign '
            'outer/Adam/update_outer/w/ApplyAdam outer/Adam/update_outer/b/ApplyAdam outer/Adam/Assign '
            'outer/Adam/Assign_1 outer/Adam',
        'train_ops': 'outer/Adam',
    },
    'Ftrl:plain': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign Ftrl/update_w/ApplyFtrl '
            'Ftrl/update_b/ApplyFtrl Ftrl',
        'train_ops': 'Ftrl',
    },
    'Ftrl:name_scope': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign train/Ftrl/update_w/ApplyFtrl '
            'train/Ftrl/update_b/ApplyFtrl train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'Ftrl:variable_scope': {
        'variables': 'w b outer/w/Ftrl outer/w/Ftrl_1 outer/b/Ftrl outer/b/Ftrl_1',
        'ops': 'outer/w/Ftrl/Assign outer/w/Ftrl_1/Assign outer/b/Ftrl/Assign outer/b/Ftrl_1/Assign '
            'outer/Ftrl/update_w/ApplyFtrl outer/Ftrl/update_b/ApplyFtrl outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'Ftrl:named': {
        'variables': 'w b w/my_opt w/my_opt_1 b/my_opt b/my_opt_1',
        'ops': 'w/my_opt/Assign w/my_opt_1/Assign b/my_opt/Assign b/my_opt_1/Assign my_opt/update_w/ApplyFtrl '
            'my_opt/update_b/ApplyFtrl my_opt',
        'train_ops': 'my_opt',
    },
    'Ftrl:minimize_name': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign train/update_w/ApplyFtrl '
            'train/update_b/ApplyFtrl train',
        'train_ops': 'train',
    },
    'Ftrl:global_step': {
        'variables': 'w b global_step w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'global_step/Assign w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign '
            'train/Ftrl/update_w/ApplyFtrl train/Ftrl/update_b/ApplyFtrl train/Ftrl/update train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'Ftrl:two': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign Ftrl/update_w/ApplyFtrl Ftrl b/Ftrl/Assign b/Ftrl_1/Assign '
            'Ftrl_1/update_b/ApplyFtrl Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'Ftrl:two_same': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1 w/Ftrl_2 w/Ftrl_3 b/Ftrl_2 b/Ftrl_3',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign Ftrl/update_w/ApplyFtrl '
            'Ftrl/update_b/ApplyFtrl Ftrl w/Ftrl_2/Assign w/Ftrl_3/Assign b/Ftrl_2/Assign b/Ftrl_3/Assign '
            'Ftrl_1/update_w/ApplyFtrl Ftrl_1/update_b/ApplyFtrl Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'Ftrl:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/Ftrl outer/outer/w/Ftrl_1 outer/outer/b/Ftrl outer/outer/b/Ftrl_1',
        'ops': 'outer/outer/w/Ftrl/Assign outer/outer/w/Ftrl_1/Assign outer/outer/b/Ftrl/Assign '
            'outer/outer/b/Ftrl_1/Assign outer/Ftrl/update_outer/w/ApplyFtrl outer/Ftrl/update_outer/b/ApplyFtrl '
            'outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'FtrlNamedSlots:plain': {
        'variables': 'w b w/acc w/lin b/acc b/lin',
        'ops': 'w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign Ftrl/update_w/ApplyFtrl Ftrl/update_b/ApplyFtrl '
            'Ftrl',
        'train_ops': 'Ftrl',
    },
    'FtrlNamedSlots:name_scope': {
        'variables': 'w b w/acc w/lin b/acc b/lin',
        'ops': 'w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign train/Ftrl/update_w/ApplyFtrl '
            'train/Ftrl/update_b/ApplyFtrl train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'FtrlNamedSlots:variable_scope': {
        'variables': 'w b outer/w/acc outer/w/lin outer/b/acc outer/b/lin',
        'ops': 'outer/w/acc/Assign outer/w/lin/Assign outer/b/acc/Assign outer/b/lin/Assign '
            'outer/Ftrl/update_w/ApplyFtrl outer/Ftrl/update_b/ApplyFtrl outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'FtrlNamedSlots:named': {
        'variables': 'w b w/acc w/lin b/acc b/lin',
        'ops': 'w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign my_opt/update_w/ApplyFtrl '
            'my_opt/update_b/ApplyFtrl my_opt',
        'train_ops': 'my_opt',
    },
    'FtrlNamedSlots:minimize_name': {
        'variables': 'w b w/acc w/lin b/acc b/lin',
        'ops': 'w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign train/update_w/ApplyFtrl '
            'train/update_b/ApplyFtrl train',
        'train_ops': 'train',
    },
    'FtrlNamedSlots:global_step': {
        'variables': 'w b global_step w/acc w/lin b/acc b/lin',
        'ops': 'global_step/Assign w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign train/Ftrl/update_w/ApplyFtrl'
            ' train/Ftrl/update_b/ApplyFtrl train/Ftrl/update train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'FtrlNamedSlots:two': {
        'variables': 'w b w/acc w/lin b/acc b/lin',
        'ops': 'w/acc/Assign w/lin/Assign Ftrl/update_w/ApplyFtrl Ftrl b/acc/Assign b/lin/Assign '
            'Ftrl_1/update_b/ApplyFtrl Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'FtrlNamedSlots:two_same': {
        'variables': 'w b w/acc w/lin b/acc b/lin w/acc_1 w/lin_1 b/acc_1 b/lin_1',
        'ops': 'w/acc/Assign w/lin/Assign b/acc/Assign b/lin/Assign Ftrl/update_w/ApplyFtrl Ftrl/update_b/ApplyFtrl '
            'Ftrl w/acc_1/Assign w/lin_1/Assign b/acc_1/Assign b/lin_1/Assign Ftrl_1/update_w/ApplyFtrl '
            'Ftrl_1/update_b/ApplyFtrl Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'FtrlNamedSlots:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/acc outer/outer/w/lin outer/outer/b/acc outer/outer/b/lin',
        'ops': 'outer/outer/w/acc/Assign outer/outer/w/lin/Assign outer/outer/b/acc/Assign outer/outer/b/lin/Assign '
            'outer/Ftrl/update_outer/w/ApplyFtrl outer/Ftrl/update_outer/b/ApplyFtrl outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'FtrlShrinkage:plain': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign Ftrl/update_w/ApplyFtrlV2 '
            'Ftrl/update_b/ApplyFtrlV2 Ftrl',
        'train_ops': 'Ftrl',
    },
    'FtrlShrinkage:name_scope': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign train/Ftrl/update_w/ApplyFtrlV2 '
            'train/Ftrl/update_b/ApplyFtrlV2 train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'FtrlShrinkage:variable_scope': {
        'variables': 'w b outer/w/Ftrl outer/w/Ftrl_1 outer/b/Ftrl outer/b/Ftrl_1',
        'ops': 'outer/w/Ftrl/Assign outer/w/Ftrl_1/Assign outer/b/Ftrl/Assign outer/b/Ftrl_1/Assign '
            'outer/Ftrl/update_w/ApplyFtrlV2 outer/Ftrl/update_b/ApplyFtrlV2 outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'FtrlShrinkage:named': {
        'variables': 'w b w/my_opt w/my_opt_1 b/my_opt b/my_opt_1',
        'ops': 'w/my_opt/Assign w/my_opt_1/Assign b/my_opt/Assign b/my_opt_1/Assign my_opt/update_w/ApplyFtrlV2 '
            'my_opt/update_b/ApplyFtrlV2 my_opt',
        'train_ops': 'my_opt',
    },
    'FtrlShrinkage:minimize_name': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign train/update_w/ApplyFtrlV2 '
            'train/update_b/ApplyFtrlV2 train',
        'train_ops': 'train',
    },
    'FtrlShrinkage:global_step': {
        'variables': 'w b global_step w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'global_step/Assign w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign '
            'train/Ftrl/update_w/ApplyFtrlV2 train/Ftrl/update_b/ApplyFtrlV2 train/Ftrl/update train/Ftrl',
        'train_ops': 'train/Ftrl',
    },
    'FtrlShrinkage:two': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign Ftrl/update_w/ApplyFtrlV2 Ftrl b/Ftrl/Assign b/Ftrl_1/Assign '
            'Ftrl_1/update_b/ApplyFtrlV2 Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'FtrlShrinkage:two_same': {
        'variables': 'w b w/Ftrl w/Ftrl_1 b/Ftrl b/Ftrl_1 w/Ftrl_2 w/Ftrl_3 b/Ftrl_2 b/Ftrl_3',
        'ops': 'w/Ftrl/Assign w/Ftrl_1/Assign b/Ftrl/Assign b/Ftrl_1/Assign Ftrl/update_w/ApplyFtrlV2 '
            'Ftrl/update_b/ApplyFtrlV2 Ftrl w/Ftrl_2/Assign w/Ftrl_3/Assign b/Ftrl_2/Assign b/Ftrl_3/Assign '
            'Ftrl_1/update_w/ApplyFtrlV2 Ftrl_1/update_b/ApplyFtrlV2 Ftrl_1',
        'train_ops': 'Ftrl Ftrl_1',
    },
    'FtrlShrinkage:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/Ftrl outer/outer/w/Ftrl_1 outer/outer/b/Ftrl outer/outer/b/Ftrl_1',
        'ops': 'outer/outer/w/Ftrl/Assign outer/outer/w/Ftrl_1/Assign outer/outer/b/Ftrl/Assign '
            'outer/outer/b/Ftrl_1/Assign outer/Ftrl/update_outer/w/ApplyFtrlV2 '
            'outer/Ftrl/update_outer/b/ApplyFtrlV2 outer/Ftrl',
        'train_ops': 'outer/Ftrl',
    },
    'GradientDescent:plain': {
        'variables': 'w b',
        'ops': 'GradientDescent/update_w/ApplyGradientDescent GradientDescent/update_b/ApplyGradientDescent '
            'GradientDescent',
        'train_ops': 'GradientDescent',
    },
    'GradientDescent:name_scope': {
        'variables': 'w b',
        'ops': 'train/GradientDescent/update_w/ApplyGradientDescent '
            'train/GradientDescent/update_b/ApplyGradientDescent train/GradientDescent',
        'train_ops': 'train/GradientDescent',
    },
    'GradientDescent:variable_scope': {
        'variables': 'w b',
        'ops': 'outer/GradientDescent/update_w/ApplyGradientDescent '
            'outer/GradientDescent/update_b/ApplyGradientDescent outer/GradientDescent',
        'train_ops': 'outer/GradientDescent',
    },
    'GradientDescent:named': {
        'variables': 'w b',
        'ops': 'my_opt/update_w/ApplyGradientDescent my_opt/update_b/ApplyGradientDescent my_opt',
        'train_ops': 'my_opt',
    },
    'GradientDescent:minimize_name': {
        'variables': 'w b',
        'ops': 'train/update_w/ApplyGradientDescent train/update_b/ApplyGradientDescent train',
        'train_ops': 'train',
    },
    'GradientDescent:global_step': {
        'variables': 'w b global_step',
        'ops': 'global_step/Assign train/GradientDescent/update_w/ApplyGradientDescent '
            'train/GradientDescent/update_b/ApplyGradientDescent train/GradientDescent/update '
            'train/GradientDescent',
        'train_ops': 'train/GradientDescent',
    },
    'GradientDescent:two': {
        'variables': 'w b',
        'ops': 'GradientDescent/update_w/ApplyGradientDescent GradientDescent '
            'GradientDescent_1/update_b/ApplyGradientDescent GradientDescent_1',
        'train_ops': 'GradientDescent GradientDescent_1',
    },
    'GradientDescent:two_same': {
        'variables': 'w b',
        'ops': 'GradientDescent/update_w/ApplyGradientDescent GradientDescent/update_b/ApplyGradientDescent '
            'GradientDescent GradientDescent_1/update_w/ApplyGradientDescent '
            'GradientDescent_1/update_b/ApplyGradientDescent GradientDescent_1',
        'train_ops': 'GradientDescent GradientDescent_1',
    },
    'GradientDescent:variables_in_scope': {
        'variables': 'outer/w outer/b',
        'ops': 'outer/GradientDescent/update_outer/w/ApplyGradientDescent '
            'outer/GradientDescent/update_outer/b/ApplyGradientDescent outer/GradientDescent',
        'train_ops': 'outer/GradientDescent',
    },
    'Momentum:plain': {
        'variables': 'w b w/Momentum b/Momentum',
        'ops': 'w/Momentum/Assign b/Momentum/Assign Momentum/update_w/ApplyMomentum Momentum/update_b/ApplyMomentum '
            'Momentum',
        'train_ops': 'Momentum',
    },
    'Momentum:name_scope': {
        'variables': 'w b w/Momentum b/Momentum',
        'ops': 'w/Momentum/Assign b/Momentum/Assign train/Momentum/update_w/ApplyMomentum '
            'train/Momentum/update_b/ApplyMomentum train/Momentum',
        'train_ops': 'train/Momentum',
    },
    'Momentum:variable_scope': {
        'variables': 'w b outer/w/Momentum outer/b/Momentum',
        'ops': 'outer/w/Momentum/Assign outer/b/Momentum/Assign outer/Momentum/update_w/ApplyMomentum '
            'outer/Momentum/update_b/ApplyMomentum outer/Momentum',
        'train_ops': 'outer/Momentum',
    },
    'Momentum:named': {
        'variables': 'w b w/my_opt b/my_opt',
        'ops': 'w/my_opt/Assign b/my_opt/Assign my_opt/update_w/ApplyMomentum my_opt/update_b/ApplyMomentum my_opt',
        'train_ops': 'my_opt',
    },
    'Momentum:minimize_name': {
        'variables': 'w b w/Momentum b/Momentum',
        'ops': 'w/Momentum/Assign b/Momentum/Assign train/update_w/ApplyMomentum train/update_b/ApplyMomentum train',
        'train_ops': 'train',
    },
    'Momentum:global_step': {
        'variables': 'w b global_step w/Momentum b/Momentum',
        'ops': 'global_step/Assign w/Momentum/Assign b/Momentum/Assign train/Momentum/update_w/ApplyMomentum '
            'train/Momentum/update_b/ApplyMomentum train/Momentum/update train/Momentum',
        'train_ops': 'train/Momentum',
    },
    'Momentum:two': {
        'variables': 'w b w/Momentum b/Momentum',
        'ops': 'w/Momentum/Assign Momentum/update_w/ApplyMomentum Momentum b/Momentum/Assign '
            'Momentum_1/update_b/ApplyMomentum Momentum_1',
        'train_ops': 'Momentum Momentum_1',
    },
    'Momentum:two_same': {
        'variables': 'w b w/Momentum b/Momentum w/Momentum_1 b/Momentum_1',
        'ops': 'w/Momentum/Assign b/Momentum/Assign Momentum/update_w/ApplyMomentum Momentum/update_b/ApplyMomentum '
            'Momentum w/Momentum_1/Assign b/Momentum_1/Assign Momentum_1/update_w/ApplyMomentum '
            'Momentum_1/update_b/ApplyMomentum Momentum_1',
        'train_ops': 'Momentum Momentum_1',
    },
    'Momentum:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/Momentum outer/outer/b/Momentum',
        'ops': 'outer/outer/w/Momentum/Assign outer/outer/b/Momentum/Assign '
            'outer/Momentum/update_outer/w/ApplyMomentum outer/Momentum/update_outer/b/ApplyMomentum '
            'outer/Momentum',
        'train_ops': 'outer/Momentum',
    },
    'ProximalAdagrad:plain': {
        'variables': 'w b w/ProximalAdagrad b/ProximalAdagrad',
        'ops': 'w/ProximalAdagrad/Assign b/ProximalAdagrad/Assign ProximalAdagrad/update_w/ApplyProximalAdagrad '
            'ProximalAdagrad/update_b/ApplyProximalAdagrad ProximalAdagrad',
        'train_ops': 'ProximalAdagrad',
    },
    'ProximalAdagrad:name_scope': {
        'variables': 'w b w/ProximalAdagrad b/ProximalAdagrad',
        'ops': 'w/ProximalAdagrad/Assign b/ProximalAdagrad/Assign '
            'train/ProximalAdagrad/update_w/ApplyProximalAdagrad '
            'train/ProximalAdagrad/update_b/ApplyProximalAdagrad train/ProximalAdagrad',
        'train_ops': 'train/ProximalAdagrad',
    },
    'ProximalAdagrad:variable_scope': {
        'variables': 'w b outer/w/ProximalAdagrad outer/b/ProximalAdagrad',
        'ops': 'outer/w/ProximalAdagrad/Assign outer/b/ProximalAdagrad/Assign '
            'outer/ProximalAdagrad/update_w/ApplyProximalAdagrad '
            'outer/ProximalAdagrad/update_b/ApplyProximalAdagrad outer/ProximalAdagrad',
        'train_ops': 'outer/ProximalAdagrad',
    },
    'ProximalAdagrad:named': {
        'variables': 'w b w/my_opt b/my_opt',
        'ops': 'w/my_opt/Assign b/my_opt/Assign my_opt/update_w/ApplyProximalAdagrad '
            'my_opt/update_b/ApplyProximalAdagrad my_opt',
        'train_ops': 'my_opt',
    },
    'ProximalAdagrad:minimize_name': {
        'variables': 'w b w/ProximalAdagrad b/ProximalAdagrad',
        'ops': 'w/ProximalAdagrad/Assign b/ProximalAdagrad/Assign train/update_w/ApplyProximalAdagrad '
            'train/update_b/ApplyProximalAdagrad train',
        'train_ops': 'train',
    },
    'ProximalAdagrad:global_step': {
        'variables': 'w b global_step w/ProximalAdagrad b/ProximalAdagrad',
        'ops': 'global_step/Assign w/ProximalAdagrad/Assign b/ProximalAdagrad/Assign '
            'train/ProximalAdagrad/update_w/ApplyProximalAdagrad '
            'train/ProximalAdagrad/update_b/ApplyProximalAdagrad train/ProximalAdagrad/update '
            'train/ProximalAdagrad',
        'train_ops': 'train/ProximalAdagrad',
    },
    'ProximalAdagrad:two': {
        'variables': 'w b w/ProximalAdagrad b/ProximalAdagrad',
        'ops': 'w/ProximalAdagrad/Assign ProximalAdagrad/update_w/ApplyProximalAdagrad ProximalAdagrad '
            'b/ProximalAdagrad/Assign ProximalAdagrad_1/update_b/ApplyProximalAdagrad ProximalAdagrad_1',
        'train_ops': 'ProximalAdagrad ProximalAdagrad_1',
    },
    'ProximalAdagrad:two_same': {
        'variables': 'w b w/ProximalAdagrad b/ProximalAdagrad w/ProximalAdagrad_1 b/ProximalAdagrad_1',
        'ops': 'w/ProximalAdagrad/Assign b/ProximalAdagrad/Assign ProximalAdagrad/update_w/ApplyProximalAdagrad '
            'ProximalAdagrad/update_b/ApplyProximalAdagrad ProximalAdagrad w/ProximalAdagrad_1/Assign '
            'b/ProximalAdagrad_1/Assign ProximalAdagrad_1/update_w/ApplyProximalAdagrad '
            'ProximalAdagrad_1/update_b/ApplyProximalAdagrad ProximalAdagrad_1',
        'train_ops': 'ProximalAdagrad ProximalAdagrad_1',
    },
    'ProximalAdagrad:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/ProximalAdagrad outer/outer/b/ProximalAdagrad',
        'ops': 'outer/outer/w/ProximalAdagrad/Assign outer/outer/b/ProximalAdagrad/Assign '
            'outer/ProximalAdagrad/update_outer/w/ApplyProximalAdagrad '
            'outer/ProximalAdagrad/update_outer/b/ApplyProximalAdagrad outer/ProximalAdagrad',
        'train_ops': 'outer/ProximalAdagrad',
    },
    'ProximalGradientDescent:plain': {
        'variables': 'w b',
        'ops': 'ProximalGradientDescent/update_w/ApplyProximalGradientDescent '
            'ProximalGradientDescent/update_b/ApplyProximalGradientDescent ProximalGradientDescent',
        'train_ops': 'ProximalGradientDescent',
    },
    'ProximalGradientDescent:name_scope': {
        'variables': 'w b',
        'ops': 'train/ProximalGradientDescent/update_w/ApplyProximalGradientDescent '
            'train/ProximalGradientDescent/update_b/ApplyProximalGradientDescent train/ProximalGradientDescent',
        'train_ops': 'train/ProximalGradientDescent',
    },
    'ProximalGradientDescent:variable_scope': {
        'variables': 'w b',
        'ops': 'outer/ProximalGradientDescent/update_w/ApplyProximalGradientDescent '
            'outer/ProximalGradientDescent/update_b/ApplyProximalGradientDescent outer/ProximalGradientDescent',
        'train_ops': 'outer/ProximalGradientDescent',
    },
    'ProximalGradientDescent:named': {
        'variables': 'w b',
        'ops': 'my_opt/update_w/ApplyProximalGradientDescent my_opt/update_b/ApplyProximalGradientDescent my_opt',
        'train_ops': 'my_opt',
    },
    'ProximalGradientDescent:minimize_name': {
        'variables': 'w b',
        'ops': 'train/update_w/ApplyProximalGradientDescent train/update_b/ApplyProximalGradientDescent train',
        'train_ops': 'train',
    },
    'ProximalGradientDescent:global_step': {
        'variables': 'w b global_step',
        'ops': 'global_step/Assign train/ProximalGradientDescent/update_w/ApplyProximalGradientDescent '
            'train/ProximalGradientDescent/update_b/ApplyProximalGradientDescent '
            'train/ProximalGradientDescent/update train/ProximalGradientDescent',
        'train_ops': 'train/ProximalGradientDescent',
    },
    'ProximalGradientDescent:two': {
        'variables': 'w b',
        'ops': 'ProximalGradientDescent/update_w/ApplyProximalGradientDescent ProximalGradientDescent '
            'ProximalGradientDescent_1/update_b/ApplyProximalGradientDescent ProximalGradientDescent_1',
        'train_ops': 'ProximalGradientDescent ProximalGradientDescent_1',
    },
    'ProximalGradientDescent:two_same': {
        'variables': 'w b',
        'ops': 'ProximalGradientDescent/update_w/ApplyProximalGradientDescent '
            'ProximalGradientDescent/update_b/ApplyProximalGradientDescent ProximalGradientDescent '
            'ProximalGradientDescent_1/update_w/ApplyProximalGradientDescent '
            'ProximalGradientDescent_1/update_b/ApplyProximalGradientDescent ProximalGradientDescent_1',
        'train_ops': 'ProximalGradientDescent ProximalGradientDescent_1',
    },
    'ProximalGradientDescent:variables_in_scope': {
        'variables': 'outer/w outer/b',
        'ops': 'outer/ProximalGradientDescent/update_outer/w/ApplyProximalGradientDescent '
            'outer/ProximalGradientDescent/update_outer/b/ApplyProximalGradientDescent '
            'outer/ProximalGradientDescent',
        'train_ops': 'outer/ProximalGradientDescent',
    },
    'RMSProp:plain': {
        'variables': 'w b w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'RMSProp/update_w/ApplyRMSProp RMSProp/update_b/ApplyRMSProp RMSProp',
        'train_ops': 'RMSProp',
    },
    'RMSProp:name_scope': {
        'variables': 'w b w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'train/RMSProp/update_w/ApplyRMSProp train/RMSProp/update_b/ApplyRMSProp train/RMSProp',
        'train_ops': 'train/RMSProp',
    },
    'RMSProp:variable_scope': {
        'variables': 'w b outer/w/RMSProp outer/w/RMSProp_1 outer/b/RMSProp outer/b/RMSProp_1',
        'ops': 'outer/w/RMSProp/Assign outer/w/RMSProp_1/Assign outer/b/RMSProp/Assign outer/b/RMSProp_1/Assign '
            'outer/RMSProp/update_w/ApplyRMSProp outer/RMSProp/update_b/ApplyRMSProp outer/RMSProp',
        'train_ops': 'outer/RMSProp',
    },
    'RMSProp:named': {
        'variables': 'w b w/my_opt w/my_opt_1 b/my_opt b/my_opt_1',
        'ops': 'w/my_opt/Assign w/my_opt_1/Assign b/my_opt/Assign b/my_opt_1/Assign my_opt/update_w/ApplyRMSProp '
            'my_opt/update_b/ApplyRMSProp my_opt',
        'train_ops': 'my_opt',
    },
    'RMSProp:minimize_name': {
        'variables': 'w b w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign b/RMSProp/Assign b/RMSProp_1/Assign train/update_w/ApplyRMSProp '
            'train/update_b/ApplyRMSProp train',
        'train_ops': 'train',
    },
    'RMSProp:global_step': {
        'variables': 'w b global_step w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1',
        'ops': 'global_step/Assign w/RMSProp/Assign w/RMSProp_1/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'train/RMSProp/update_w/ApplyRMSProp train/RMSProp/update_b/ApplyRMSProp train/RMSProp/update '
            'train/RMSProp',
        'train_ops': 'train/RMSProp',
    },
    'RMSProp:two': {
        'variables': 'w b w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign RMSProp/update_w/ApplyRMSProp RMSProp b/RMSProp/Assign '
            'b/RMSProp_1/Assign RMSProp_1/update_b/ApplyRMSProp RMSProp_1',
        'train_ops': 'RMSProp RMSProp_1',
    },
    'RMSProp:two_same': {
        'variables': 'w b w/RMSProp w/RMSProp_1 b/RMSProp b/RMSProp_1 w/RMSProp_2 w/RMSProp_3 b/RMSProp_2 b/RMSProp_3',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'RMSProp/update_w/ApplyRMSProp RMSProp/update_b/ApplyRMSProp RMSProp w/RMSProp_2/Assign '
            'w/RMSProp_3/Assign b/RMSProp_2/Assign b/RMSProp_3/Assign RMSProp_1/update_w/ApplyRMSProp '
            'RMSProp_1/update_b/ApplyRMSProp RMSProp_1',
        'train_ops': 'RMSProp RMSProp_1',
    },
    'RMSProp:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/RMSProp outer/outer/w/RMSProp_1 outer/outer/b/RMSProp '
            'outer/outer/b/RMSProp_1',
        'ops': 'outer/outer/w/RMSProp/Assign outer/outer/w/RMSProp_1/Assign outer/outer/b/RMSProp/Assign '
            'outer/outer/b/RMSProp_1/Assign outer/RMSProp/update_outer/w/ApplyRMSProp '
            'outer/RMSProp/update_outer/b/ApplyRMSProp outer/RMSProp',
        'train_ops': 'outer/RMSProp',
    },
    'RMSPropCentered:plain': {
        'variables': 'w b w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'b/RMSProp_2/Assign RMSProp/update_w/ApplyCenteredRMSProp RMSProp/update_b/ApplyCenteredRMSProp '
            'RMSProp',
        'train_ops': 'RMSProp',
    },
    'RMSPropCentered:name_scope': {
        'variables': 'w b w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'b/RMSProp_2/Assign train/RMSProp/update_w/ApplyCenteredRMSProp '
            'train/RMSProp/update_b/ApplyCenteredRMSProp train/RMSProp',
        'train_ops': 'train/RMSProp',
    },
    'RMSPropCentered:variable_scope': {
        'variables': 'w b outer/w/RMSProp outer/w/RMSProp_1 outer/w/RMSProp_2 outer/b/RMSProp outer/b/RMSProp_1 '
            'outer/b/RMSProp_2',
        'ops': 'outer/w/RMSProp/Assign outer/w/RMSProp_1/Assign outer/w/RMSProp_2/Assign outer/b/RMSProp/Assign '
            'outer/b/RMSProp_1/Assign outer/b/RMSProp_2/Assign outer/RMSProp/update_w/ApplyCenteredRMSProp '
            'outer/RMSProp/update_b/ApplyCenteredRMSProp outer/RMSProp',
        'train_ops': 'outer/RMSProp',
    },
    'RMSPropCentered:named': {
        'variables': 'w b w/my_opt w/my_opt_1 w/my_opt_2 b/my_opt b/my_opt_1 b/my_opt_2',
        'ops': 'w/my_opt/Assign w/my_opt_1/Assign w/my_opt_2/Assign b/my_opt/Assign b/my_opt_1/Assign '
            'b/my_opt_2/Assign my_opt/update_w/ApplyCenteredRMSProp my_opt/update_b/ApplyCenteredRMSProp my_opt',
        'train_ops': 'my_opt',
    },
    'RMSPropCentered:minimize_name': {
        'variables': 'w b w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'b/RMSProp_2/Assign train/update_w/ApplyCenteredRMSProp train/update_b/ApplyCenteredRMSProp train',
        'train_ops': 'train',
    },
    'RMSPropCentered:global_step': {
        'variables': 'w b global_step w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2',
        'ops': 'global_step/Assign w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign b/RMSProp/Assign '
            'b/RMSProp_1/Assign b/RMSProp_2/Assign train/RMSProp/update_w/ApplyCenteredRMSProp '
            'train/RMSProp/update_b/ApplyCenteredRMSProp train/RMSProp/update train/RMSProp',
        'train_ops': 'train/RMSProp',
    },
    'RMSPropCentered:two': {
        'variables': 'w b w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign RMSProp/update_w/ApplyCenteredRMSProp RMSProp'
            ' b/RMSProp/Assign b/RMSProp_1/Assign b/RMSProp_2/Assign RMSProp_1/update_b/ApplyCenteredRMSProp '
            'RMSProp_1',
        'train_ops': 'RMSProp RMSProp_1',
    },
    'RMSPropCentered:two_same': {
        'variables': 'w b w/RMSProp w/RMSProp_1 w/RMSProp_2 b/RMSProp b/RMSProp_1 b/RMSProp_2 w/RMSProp_3 w/RMSProp_4 '
            'w/RMSProp_5 b/RMSProp_3 b/RMSProp_4 b/RMSProp_5',
        'ops': 'w/RMSProp/Assign w/RMSProp_1/Assign w/RMSProp_2/Assign b/RMSProp/Assign b/RMSProp_1/Assign '
            'b/RMSProp_2/Assign RMSProp/update_w/ApplyCenteredRMSProp RMSProp/update_b/ApplyCenteredRMSProp '
            'RMSProp w/RMSProp_3/Assign w/RMSProp_4/Assign w/RMSProp_5/Assign b/RMSProp_3/Assign '
            'b/RMSProp_4/Assign b/RMSProp_5/Assign RMSProp_1/update_w/ApplyCenteredRMSProp '
            'RMSProp_1/update_b/ApplyCenteredRMSProp RMSProp_1',
        'train_ops': 'RMSProp RMSProp_1',
    },
    'RMSPropCentered:variables_in_scope': {
        'variables': 'outer/w outer/b outer/outer/w/RMSProp outer/outer/w/RMSProp_1 outer/outer/w/RMSProp_2 '
            'outer/outer/b/RMSProp outer/outer/b/RMSProp_1 outer/outer/b/RMSProp_2',
        'ops': 'outer/outer/w/RMSProp/Assign outer/outer/w/RMSProp_1/Assign outer/outer/w/RMSProp_2/Assign '
            'outer/outer/b/RMSProp/Assign outer/outer/b/RMSProp_1/Assign outer/outer/b/RMSProp_2/Assign '
            'outer/RMSProp/update_outer/w/ApplyCenteredRMSProp outer/RMSProp/update_outer/b/ApplyCenteredRMSProp '
            'outer/RMSProp',
        'train_ops': 'outer/RMSProp',
    },
    'ExponentialMovingAverage:plain': {
        'variables': 'w b w/ExponentialMovingAverage b/ExponentialMovingAverage',
    },
    'ExponentialMovingAverage:name_scope': {
        'variables': 'w b w/ExponentialMovingAverage b/ExponentialMovingAverage',
    },
    'ExponentialMovingAverage:variable_scope': {
        'variables': 'w b outer/w/ExponentialMovingAverage outer/b/ExponentialMovingAverage',
    },
    'ExponentialMovingAverage:named': {
        'variables': 'w b w/avg b/avg',
    },
    'ExponentialMovingAverage:two': {
        'variables': 'w b w/ExponentialMovingAverage w/ExponentialMovingAverage_1 b/ExponentialMovingAverage',
    },
    'ExponentialMovingAverage:tensor': {
        'variables': 'w b loss/ExponentialMovingAverage',
    },
    'ExponentialMovingAverage:tensor_zero_debias_in_variable_scope': {
        'variables': 'w b outer/loss/ExponentialMovingAverage outer/outer/loss/ExponentialMovingAverage/biased '
            'outer/outer/loss/ExponentialMovingAverage/local_step',
    },
    'ExponentialMovingAverage:num_updates': {
        'variables': 'w b global_step w/ExponentialMovingAverage b/ExponentialMovingAverage',
    },
}


def _record(tf: Any) -> None:
    """Prints the expected tables, computed with `tf` (TensorFlow's compat.v1 module)."""
    import pprint
    import textwrap

    scalars = {s: {d: scalar_trajectory(tf, s, d) for d in SCALAR_DTYPES} for s in sorted(SCALAR_SETTINGS)}
    names = {f"{o}:{c}": optimizer_names(tf, o, c) for o in sorted(NAME_OPTIMIZERS) for c in NAME_CONTEXTS}
    names.update({f"ExponentialMovingAverage:{c}": ema_names(tf, c) for c in EMA_CONTEXTS})
    def number(x: float, dtype_name: str) -> str:  # the shortest text that gives the same value in its dtype
        return str(np.float32(x)) if dtype_name == "float32" else repr(x)

    print("_EXPECTED_SCALARS = {")
    for setting, by_dtype in scalars.items():
        print(f"    {setting!r}: {{")
        for dtype_name, result in by_dtype.items():
            if "error" in result:
                print(f"        {dtype_name!r}: {{'error': [{result['error'][0]!r},")
                for line in textwrap.wrap(result["error"][1], 80, drop_whitespace=False):
                    print(f"                               {line!r}")
                print("                              ]},")
                continue
            values = [number(x, dtype_name) for x in result["values"]]
            slots = ", ".join(f"{k!r}: {number(x, dtype_name)}" for k, x in result["slots"].items())
            line = f"        {dtype_name!r}: {{'values': [{', '.join(values)}],"
            if len(line) > 116:
                print(f"        {dtype_name!r}: {{'values': [{', '.join(values[:3])},")
                line = f"                               {', '.join(values[3:])}],"
            print(line)
            line = f"                    'slots': {{{slots}}}}},"
            if len(line) > 116:
                line = line.replace(", '", ",\n                              '", 1)
            print(line)
        print("    },")
    print("}")
    print("_EXPECTED_NAMES = {")
    for key, fields in names.items():
        print(f"    {key!r}: {{")
        for field, text in fields.items():
            lines = textwrap.wrap(text, 100, break_long_words=False, drop_whitespace=False) or [""]
            print(f"        {field!r}: " + "\n            ".join(repr(line) for line in lines) + ",")
        print("    },")
    print("}")
    print("DTYPE_EXPECTED =", pprint.pformat({k: run_dtype_case(tf, f) for k, f in
                                              initializer_dtype_cases(tf).items()}, width=116, sort_dicts=False))
    errors = {}
    for key, make in dtype_error_cases(tf).items():
        with tf.Graph().as_default():
            try:
                make()
            except ValueError as e:
                errors[key] = str(e).split(" Originally defined at")[0]
    print("DTYPE_ERRORS =", pprint.pformat(errors, width=116, sort_dicts=False))


if __name__ == "__main__":
    import tensorflow.compat.v1 as tensorflow_v1

    tensorflow_v1.disable_v2_behavior()
    _record(tensorflow_v1)
