"""tf.train optimizers: values after 10 steps match TensorFlow's (tests/fixtures/optimizers.json), plus
slot names and the Optimizer API (get_slot, variables, minimize, apply_gradients, errors)."""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import caudal as tf

FIXTURE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "optimizers.json").read_text())
SETTINGS = FIXTURE["settings"]


def problem_arrays() -> dict:
    """The same arrays as tests/fixtures/make_optimizer_fixtures.py."""
    rng = np.random.RandomState(1234)
    return {name: rng.uniform(-1, 1, shape).astype(np.float32)
            for name, shape in [("x", (4, 3)), ("y", (4, 2)), ("w", (3, 2)), ("b", (2,))]}


def build_loss(arrays: dict) -> tuple:
    x, y = tf.constant(arrays["x"]), tf.constant(arrays["y"])
    w = tf.Variable(arrays["w"], name="w")
    b = tf.Variable(arrays["b"], name="b")
    loss = tf.reduce_mean(tf.square(tf.tanh(tf.matmul(x, w) + b) - y)) + 0.05 * tf.reduce_sum(w * w)
    return loss, w, b


def make_optimizer(setting: str) -> tf.train.Optimizer:
    kwargs = dict(SETTINGS[setting]["kwargs"])
    if kwargs.get("learning_rate") == "lr_tensor":
        kwargs["learning_rate"] = tf.constant(0.05)
    return getattr(tf.train, SETTINGS[setting]["class"])(**kwargs)


@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_ten_steps_match_tensorflow(setting: str) -> None:
    expected = FIXTURE["results"][setting]
    with tf.Graph().as_default():
        loss, w, b = build_loss(problem_arrays())
        opt = make_optimizer(setting)
        step = tf.train.get_or_create_global_step()
        train = opt.minimize(loss, global_step=step)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = []
            for _ in range(FIXTURE["steps"]):
                losses.append(sess.run(loss))
                sess.run(train)
            np.testing.assert_allclose(losses, expected["losses"], rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(sess.run(w), expected["w"], rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(sess.run(b), expected["b"], rtol=1e-5, atol=1e-5)
            assert sess.run(step) == expected["global_step"]
            assert opt.get_slot_names() == expected["slot_names"]
            for key, slot_expected in expected["slots"].items():
                var_name, slot_name = key.split(":")
                slot = opt.get_slot({"w": w, "b": b}[var_name], slot_name)
                assert slot.op.name == slot_expected["name"]
                assert not slot.trainable
                np.testing.assert_allclose(sess.run(slot), slot_expected["value"], rtol=1e-5, atol=1e-5)
            names = {v.op.name: v for v in opt.variables()}
            assert sorted(names) == expected["variables"]
            for name, value in expected["non_slot"].items():
                np.testing.assert_allclose(sess.run(names[name]), value, rtol=1e-5)


def test_initial_slot_values_follow_tensorflow() -> None:
    with tf.Graph().as_default():
        w = tf.Variable(np.zeros([2, 2], np.float32), name="w")
        loss = tf.reduce_sum(w * w)
        opts = {
            "rms": tf.train.RMSPropOptimizer(0.1, momentum=0.9, centered=True),
            "adagrad": tf.train.AdagradOptimizer(0.1),
            "ftrl": tf.train.FtrlOptimizer(0.1, initial_accumulator_value=0.25, name="F"),
            "adam": tf.train.AdamOptimizer(0.1, beta1=0.8, beta2=0.95),
        }
        for opt in opts.values():
            opt.minimize(loss)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            rms = opts["rms"]
            assert [rms.get_slot(w, n).op.name for n in ("rms", "mg", "momentum")] == \
                ["w/RMSProp", "w/RMSProp_1", "w/RMSProp_2"]
            np.testing.assert_array_equal(sess.run(rms.get_slot(w, "rms")), np.ones([2, 2]))
            np.testing.assert_array_equal(sess.run(rms.get_slot(w, "mg")), np.zeros([2, 2]))
            np.testing.assert_allclose(sess.run(opts["adagrad"].get_slot(w, "accumulator")), np.full([2, 2], 0.1))
            assert opts["ftrl"].get_slot(w, "accum").op.name == "w/F"
            np.testing.assert_allclose(sess.run(opts["ftrl"].get_slot(w, "accum")), np.full([2, 2], 0.25))
            beta1_power, beta2_power = opts["adam"]._get_beta_accumulators()
            assert (beta1_power.op.name, beta2_power.op.name) == ("beta1_power", "beta2_power")
            np.testing.assert_allclose(sess.run([beta1_power, beta2_power]), [0.8, 0.95], rtol=1e-6)


def test_adam_beta_powers_advance_each_step() -> None:
    with tf.Graph().as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        opt = tf.train.AdamOptimizer(0.1)
        train = opt.minimize(tf.reduce_sum(w * w))
        beta1_power, beta2_power = opt._get_beta_accumulators()
        assert beta1_power in opt.variables() and not beta1_power.trainable
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(3):
                sess.run(train)
            np.testing.assert_allclose(sess.run([beta1_power, beta2_power]), [0.9 ** 4, 0.999 ** 4], rtol=1e-6)


def test_get_slot_for_unknown_names_and_variables_is_none() -> None:
    with tf.Graph().as_default():
        w = tf.Variable([1.0], name="w")
        other = tf.Variable([1.0], name="other")
        opt = tf.train.MomentumOptimizer(0.1, 0.9)
        opt.minimize(tf.reduce_sum(w), var_list=[w])
        assert opt.get_slot(w, "momentum").op.name == "w/Momentum"
        assert opt.get_slot(w, "nope") is None
        assert opt.get_slot(other, "momentum") is None
        assert opt.get_slot_names() == ["momentum"]
        assert [v.op.name for v in opt.variables()] == ["w/Momentum"]


def test_minimize_with_var_list_leaves_other_variables_alone() -> None:
    with tf.Graph().as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        b = tf.Variable([3.0], name="b")
        train = tf.train.AdagradOptimizer(0.5).minimize(tf.reduce_sum(w * w) + tf.reduce_sum(b * b), var_list=[w])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            assert sess.run(b).tolist() == [3.0]
            assert not np.allclose(sess.run(w), [1.0, 2.0])


def test_compute_and_apply_gradients() -> None:
    with tf.Graph().as_default():
        w = tf.Variable([1.0, -2.0], name="w")
        opt = tf.train.MomentumOptimizer(0.1, 0.5, use_nesterov=True)
        grads_and_vars = opt.compute_gradients(tf.reduce_sum(w * w))
        assert [v for _, v in grads_and_vars] == [w]
        clipped = [(tf.clip_by_value(g, -1.0, 1.0), v) for g, v in grads_and_vars]
        step = tf.train.get_or_create_global_step()
        train = opt.apply_gradients(clipped, global_step=step)
        assert train.name == "Momentum"
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            sess.run(train)
            # Nesterov by hand: accum = 0.5 accum + g; w -= 0.1 g + 0.1 * 0.5 accum, g clipped to [-1, 1].
            value, accum = np.array([1.0, -2.0]), np.zeros(2)
            for _ in range(2):
                g = np.clip(2 * value, -1, 1)
                accum = 0.5 * accum + g
                value = value - 0.1 * g - 0.05 * accum
            np.testing.assert_allclose(sess.run(w), value, rtol=1e-6)
            assert sess.run(step) == 2


def test_learning_rate_through_placeholder_and_callable() -> None:
    with tf.Graph().as_default():
        w = tf.Variable([1.0], name="w")
        lr = tf.placeholder(tf.float32, [])
        train = tf.train.RMSPropOptimizer(lr).minimize(tf.reduce_sum(w * w))
        w2 = tf.Variable([1.0], name="w2")
        train2 = tf.train.MomentumOptimizer(lambda: tf.constant(0.5), 0.0).minimize(tf.reduce_sum(w2 * w2))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {lr: 0.0})
            assert sess.run(w).tolist() == [1.0]
            sess.run(train, {lr: 0.1})
            # ms: 1 -> 1.3 (the lr=0 run still moves it) -> 1.3 + (4 - 1.3) * 0.1 = 1.57; w -= 0.1 * 2 / sqrt(ms)
            np.testing.assert_allclose(sess.run(w), [1.0 - 0.2 / np.sqrt(1.57)], rtol=1e-6)
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(train)
            sess.run(train2)
            np.testing.assert_allclose(sess.run(w2), [0.0])


def test_no_gradients_is_a_value_error() -> None:
    with tf.Graph().as_default():
        w = tf.Variable([1.0], name="w")
        opt = tf.train.AdamOptimizer()
        with pytest.raises(ValueError, match="No gradients provided for any variable"):
            opt.minimize(tf.constant(1.0))
        with pytest.raises(ValueError, match="No gradients provided for any variable"):
            opt.apply_gradients([(None, w)])
        with pytest.raises(ValueError, match="No variables provided"):
            opt.apply_gradients([])
        with pytest.raises(ValueError, match="Must specify the optimizer name"):
            tf.train.MomentumOptimizer(0.1, 0.9, name="")


@pytest.mark.parametrize("make, message", [
    (lambda: tf.train.FtrlOptimizer(0.1, learning_rate_power=0.5), "learning_rate_power 0.500000 needs to be"),
    (lambda: tf.train.FtrlOptimizer(0.1, l1_regularization_strength=-1.0), "l1_regularization_strength"),
    (lambda: tf.train.FtrlOptimizer(0.1, initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda: tf.train.AdagradOptimizer(0.1, initial_accumulator_value=0.0), "must be positive: 0.0"),
    (lambda: tf.train.ProximalAdagradOptimizer(0.1, initial_accumulator_value=0.0), "must be positive"),
])
def test_bad_hyperparameters(make, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_fused_ops_in_the_graph_follow_tensorflow_names() -> None:
    with tf.Graph().as_default() as g:
        w = tf.Variable([1.0], name="w")
        tf.train.RMSPropOptimizer(0.1, centered=True).minimize(tf.reduce_sum(w * w))
        tf.train.FtrlOptimizer(0.1, l2_shrinkage_regularization_strength=0.1).minimize(tf.reduce_sum(w * w))
        names = {op.name: op.type for op in g.get_operations()}
        assert names["RMSProp/update_w/ApplyCenteredRMSProp"] == "ApplyCenteredRMSProp"
        assert names["Ftrl/update_w/ApplyFtrlV2"] == "ApplyFtrlV2"
        apply_op = g.get_operation_by_name("RMSProp/update_w/ApplyCenteredRMSProp")
        assert [t.op.name for t in apply_op.inputs[:4]] == ["w", "w/RMSProp_1", "w/RMSProp", "w/RMSProp_2"]


def test_a_failed_update_changes_nothing() -> None:
    with tf.Graph().as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        grad = tf.placeholder(tf.float32, None)
        opt = tf.train.AdamOptimizer(0.1)
        train = opt.apply_gradients([(grad, w)])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=r"var and grad do not have the same shape\[2\] \[3\]"):
                sess.run(train, {grad: [1.0, 2.0, 3.0]})
            assert sess.run(w).tolist() == [1.0, 2.0]
            assert sess.run(opt.get_slot(w, "m")).tolist() == [0.0, 0.0]
            beta1_power, _ = opt._get_beta_accumulators()
            np.testing.assert_allclose(sess.run(beta1_power), 0.9)


def test_uninitialized_slot_is_a_failed_precondition() -> None:
    with tf.Graph().as_default():
        w = tf.Variable([1.0], name="w")
        train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(tf.reduce_sum(w * w))
        with tf.Session() as sess:
            sess.run(w.initializer)
            with pytest.raises(tf.errors.FailedPreconditionError, match="w/Momentum"):
                sess.run(train)
            assert sess.run(w).tolist() == [1.0]


def test_float64_variables() -> None:
    with tf.Graph().as_default():
        w = tf.Variable(np.array([1.0, -1.0]), name="w")
        train = tf.train.AdamOptimizer(0.1).minimize(tf.reduce_sum(w * w))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            value = sess.run(w)
            assert value.dtype == np.float64
            np.testing.assert_allclose(value, [0.9, -0.9], rtol=1e-6)
