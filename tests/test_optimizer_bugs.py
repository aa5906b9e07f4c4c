"""Regression tests: optimizers on scalar variables, the dtype `get_variable` takes from a value initializer,
and the names TF gives optimizer and moving-average variables (and the update ops).

The expected values and names were recorded with TensorFlow 2.21 (`tf.compat.v1` with v2 behaviour disabled)
by running this module's builders, which take the `tf` module as an argument, with TensorFlow: run
`python tests/test_optimizer_bugs.py` where TensorFlow (and pytest, and caudal) is installed to print them
again. The trajectories and names are kept in tests/optimizer_recorded.py.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np
import pytest

import caudal
from tests.optimizer_recorded import EXPECTED_NAMES, EXPECTED_SCALARS

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
    expected = EXPECTED_SCALARS[setting][dtype_name]
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
            np.testing.assert_allclose(sess.run(s), EXPECTED_SCALARS["Adam"]["float32"]["values"][-1], rtol=2e-6)
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
    assert optimizer_names(caudal, optimizer, context) == EXPECTED_NAMES[f"{optimizer}:{context}"]


@pytest.mark.parametrize("context", EMA_CONTEXTS)
def test_moving_average_names_are_tensorflows(context: str) -> None:
    assert ema_names(caudal, context) == EXPECTED_NAMES[f"ExponentialMovingAverage:{context}"]


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


def _record(tf: Any) -> None:
    """Prints the expected tables, computed with `tf` (TensorFlow's compat.v1 module)."""
    import pprint
    import textwrap

    scalars = {s: {d: scalar_trajectory(tf, s, d) for d in SCALAR_DTYPES} for s in sorted(SCALAR_SETTINGS)}
    names = {f"{o}:{c}": optimizer_names(tf, o, c) for o in sorted(NAME_OPTIMIZERS) for c in NAME_CONTEXTS}
    names.update({f"ExponentialMovingAverage:{c}": ema_names(tf, c) for c in EMA_CONTEXTS})
    def number(x: float, dtype_name: str) -> str:  # the shortest text that gives the same value in its dtype
        return str(np.float32(x)) if dtype_name == "float32" else repr(x)

    print("EXPECTED_SCALARS = {")
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
    print("EXPECTED_NAMES = {")
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
