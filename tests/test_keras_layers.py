"""tf.keras layers against TF-Keras 2.21 (graph mode): outputs, gradients, weight names and static shapes on
fixed weights (tests/fixtures/keras/layers.npz, made by make_keras_fixtures.py), layers in plain TF1
programs, and the errors of bad inputs."""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import caudal as tf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "fixtures"))

import keras_cases as cases  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures", "keras")
k = tf.keras


@pytest.fixture(scope="module")
def layer_data():
    with np.load(os.path.join(FIXTURES, "layers.npz")) as data:
        arrays = dict(data)
    with open(os.path.join(FIXTURES, "layers.json")) as f:
        return arrays, json.load(f)


@pytest.fixture(autouse=True)
def fresh_graph():
    k.backend.clear_session()
    yield
    k.backend.clear_session()


def _flat(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


ALL_CASES = {**{name: (b, [s], d, kw) for name, (b, s, d, kw) in cases.LAYER_CASES.items()},
             **{name: (b, shapes, "float32", kw) for name, (b, shapes, kw) in cases.MERGE_CASES.items()}}


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_layer_matches_tf_keras(name, layer_data):
    arrays, meta = layer_data
    builder, shapes, dtype, kwargs = ALL_CASES[name]
    placeholders = [tf.placeholder(dtype, s) for s in shapes]
    layer = builder(k)
    outputs = _flat(layer(placeholders if len(shapes) > 1 else placeholders[0], **kwargs))
    weights = layer.weights
    assert [w.name for w in weights] == meta[name]["weights"]
    assert [o.shape.as_list() for o in outputs] == meta[name]["outputs"]
    session = k.backend.get_session()
    layer.set_weights([arrays[f"{name}/w{i}"] for i in range(len(weights))])
    coefs = [arrays[f"{name}/c{i}"] for i in range(len(outputs))]
    loss = tf.add_n([tf.reduce_sum(o * c) for o, c in zip(outputs, coefs)])
    float_inputs = [p for p in placeholders if p.dtype.is_floating]
    grads = [tf.convert_to_tensor(g) if g is not None else None for g in tf.gradients(loss, float_inputs + weights)]
    feed = {p: arrays[f"{name}/x{i}"] for i, p in enumerate(placeholders)}
    present = [g for g in grads if g is not None]
    values, grad_values = session.run([outputs, present], feed)
    for i, value in enumerate(values):
        np.testing.assert_allclose(value, arrays[f"{name}/out{i}"], rtol=1e-5, atol=1e-5)
    grad_values = iter(grad_values)
    for j, grad in enumerate(grads):
        key = f"{name}/grad_x{j}" if j < len(float_inputs) else f"{name}/grad_w{j - len(float_inputs)}"
        got = next(grad_values) if grad is not None else np.zeros_like(arrays[key])
        np.testing.assert_allclose(got, arrays[key], rtol=1e-5, atol=1e-5)
    if layer.updates:
        session.run(layer.updates, feed)
        for i, value in enumerate(session.run(weights)):
            np.testing.assert_allclose(value, arrays[f"{name}/after{i}"], rtol=1e-5, atol=1e-6)


def test_layers_in_a_plain_tf1_program_train_with_tf_train():
    x = tf.placeholder(tf.float32, [None, 3])
    y = tf.placeholder(tf.float32, [None, 1])
    hidden = k.layers.Dense(4, activation="relu")(x)
    prediction = k.layers.Dense(1)(hidden)
    assert [v.name for v in tf.global_variables()] == ["dense/kernel:0", "dense/bias:0", "dense_1/kernel:0",
                                                       "dense_1/bias:0"]
    assert tf.trainable_variables() == tf.global_variables()
    loss = tf.reduce_mean(tf.square(prediction - y))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    data = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    target = data.sum(axis=1, keepdims=True)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: data, y: target})
        for _ in range(30):
            sess.run(train, {x: data, y: target})
        assert sess.run(loss, {x: data, y: target}) < first / 2


def test_a_layer_reused_keeps_its_variables_and_layers_in_a_scope_carry_it():
    dense = k.layers.Dense(2)
    a, b = tf.placeholder(tf.float32, [None, 3]), tf.placeholder(tf.float32, [None, 3])
    dense(a)
    dense(b)
    assert len(tf.global_variables()) == 2
    with tf.variable_scope("tower"):
        inner = k.layers.Dense(1)
        inner(a)
    assert inner.kernel.name == "tower/dense_1/kernel:0"
    assert [layer.name for layer in (k.layers.Conv2D(1, 1), k.layers.LeakyReLU(), k.layers.ReLU(),
                                     k.layers.MaxPooling2D(), k.layers.Conv2D(1, 1))] == [
        "conv2d", "leaky_re_lu", "re_lu", "max_pooling2d", "conv2d_1"]


def test_dropout_and_batch_normalization_follow_the_learning_phase():
    x = tf.placeholder(tf.float32, [None, 100])
    dropped = k.layers.Dropout(0.5)(x)
    normalized = k.layers.BatchNormalization()(x)
    phase = k.backend.learning_phase()
    assert phase.name == "keras_learning_phase:0"
    data = np.random.default_rng(1).normal(3.0, 2.0, size=(8, 100)).astype(np.float32)
    session = k.backend.get_session()
    np.testing.assert_array_equal(session.run(dropped, {x: data}), data)
    trained = session.run(dropped, {x: data, phase: True})
    assert 0.3 < np.mean(trained == 0) < 0.7
    np.testing.assert_allclose(trained[trained != 0], 2 * data[trained != 0], rtol=1e-6)
    inference = session.run(normalized, {x: data})
    np.testing.assert_allclose(inference, data / np.sqrt(1 + 1e-3), rtol=1e-5)
    training = session.run(normalized, {x: data, phase: True})
    np.testing.assert_allclose(training.mean(axis=0), 0, atol=1e-4)


def test_set_learning_phase_fixes_the_training_argument():
    k.backend.set_learning_phase(1)
    x = tf.placeholder(tf.float32, [None, 50])
    dropped = k.layers.Dropout(0.5)(x)
    assert k.backend.learning_phase() == 1
    value = k.backend.get_session().run(dropped, {x: np.ones((4, 50), np.float32)})
    assert (value == 0).any()


def test_embedding_mask_reaches_the_lstm():
    tokens = k.Input((4,), dtype="int32")
    embedded = k.layers.Embedding(5, 2, mask_zero=True)(tokens)
    outputs = k.layers.LSTM(2, return_sequences=True)(embedded)
    model = k.Model(tokens, outputs)
    values = model.predict(np.array([[1, 2, 0, 0], [3, 0, 0, 0]], np.int32))
    np.testing.assert_array_equal(values[0, 2], values[0, 1])
    np.testing.assert_array_equal(values[1, 3], values[1, 0])


def test_wrong_rank_and_shape_errors_are_keras_messages():
    with pytest.raises(ValueError, match=r'Input 0 of layer "dense" is incompatible with the layer: expected '
                                         r"min_ndim=2, found ndim=1\. Full shape received: \(Dimension\(None\),\)"):
        k.layers.Dense(2)(tf.placeholder(tf.float32, [None]))
    with pytest.raises(ValueError, match=r'Input 0 of layer "conv2d" is incompatible with the layer: expected '
                                         r"min_ndim=4, found ndim=3"):
        k.layers.Conv2D(2, 3)(tf.placeholder(tf.float32, [None, 5, 5]))
    with pytest.raises(ValueError, match=r'Input 0 of layer "lstm" is incompatible with the layer: expected '
                                         r"ndim=3, found ndim=2"):
        k.layers.LSTM(2)(tf.placeholder(tf.float32, [None, 5]))
    with pytest.raises(ValueError, match=r'Input 0 of layer "max_pooling2d" is incompatible with the layer: '
                                         r"expected ndim=4, found ndim=3"):
        k.layers.MaxPooling2D()(tf.placeholder(tf.float32, [None, 4, 4]))
    dense = k.layers.Dense(2)
    dense(tf.placeholder(tf.float32, [None, 3]))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 3, but received input "
                                         r"with shape \(None, 4\)"):
        dense(tf.placeholder(tf.float32, [None, 4]))


def test_merge_and_reshape_errors_are_keras_messages():
    with pytest.raises(ValueError, match=r"A `Concatenate` layer requires inputs with matching shapes except for "
                                         r"the concatenation axis\. Received: input_shape=\[\(None, 3, 4\), "
                                         r"\(None, 5, 4\)\]"):
        k.layers.Concatenate()([k.Input((3, 4)), k.Input((5, 4))])
    with pytest.raises(ValueError, match=r"Inputs have incompatible shapes\. Received shapes \(3,\) and \(4,\)"):
        k.layers.Add()([k.Input((3,)), k.Input((4,))])
    with pytest.raises(ValueError, match=r"A merge layer should be called on a list of inputs\. Received: "
                                         r"input_shape=\(None, 3\) \(not a list of shapes\)"):
        k.layers.Add()(k.Input((3,)))
    with pytest.raises(ValueError, match=r"total size of new array must be unchanged, input_shape = \[3, 2\], "
                                         r"output_shape = \[7\]"):
        k.layers.Reshape((7,))(k.Input((3, 2)))
    with pytest.raises(ValueError, match="Unknown activation function: 'nosuch'"):
        k.layers.Dense(2, activation="nosuch")
    with pytest.raises(ValueError, match="Unknown initializer: 'nosuch'"):
        k.layers.Dense(2, kernel_initializer="nosuch")
    with pytest.raises(TypeError, match="Keyword argument not understood: units_"):
        k.layers.Dense(2, units_=3)


def test_layer_configs_round_trip_and_match_tf_keras_defaults():
    dense = k.layers.Dense(3, kernel_regularizer="l2", activity_regularizer=k.regularizers.l1(0.1))
    dense(k.Input((4,)))
    config = dense.get_config()
    assert config["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 0.009999999776482582}}
    assert config["kernel_initializer"] == {"class_name": "GlorotUniform", "config": {"seed": None,
                                                                                       "dtype": "float32"}}
    assert config["activation"] == "linear"
    clone = k.layers.deserialize(k.layers.serialize(dense))
    assert clone.get_config() == {**config, "name": "dense"}
    lstm = k.layers.LSTM(3)
    assert lstm.get_config()["recurrent_initializer"] == {"class_name": "Orthogonal",
                                                          "config": {"gain": 1.0, "seed": None, "dtype": "float32"}}
    assert k.layers.Embedding(10, 4).get_config()["batch_input_shape"] == (None, None)
    assert k.layers.LeakyReLU().get_config()["alpha"] == 0.30000001192092896


def test_orthogonal_initializer_gives_orthonormal_rows_or_columns():
    tall = k.initializers.Orthogonal(gain=2.0)([6, 3])
    wide = k.initializers.get("orthogonal")([3, 12])
    t, w = k.backend.get_session().run([tall, wide])
    np.testing.assert_allclose(t.T @ t, 4 * np.eye(3), atol=1e-5)
    np.testing.assert_allclose(w @ w.T, np.eye(3), atol=1e-5)


def test_named_activations_initializers_constraints():
    assert k.activations.get(None) is k.activations.linear
    assert k.activations.serialize(k.activations.get("relu")) == "relu"
    assert k.initializers.serialize(k.initializers.get("he_normal")) == {"class_name": "HeNormal",
                                                                         "config": {"seed": None}}
    assert k.initializers.get("uniform").get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None,
                                                          "dtype": "float32"}
    assert k.constraints.serialize(k.constraints.get("max_norm")) == {"class_name": "MaxNorm",
                                                                       "config": {"max_value": 2, "axis": 0}}
    w = tf.constant([[3.0, 0.0], [4.0, -1.0]])
    session = k.backend.get_session()
    np.testing.assert_allclose(session.run(k.constraints.MaxNorm(1.0)(w)), [[0.6, 0.0], [0.8, -1.0]], atol=1e-6)
    np.testing.assert_allclose(session.run(k.constraints.NonNeg()(w)), [[3.0, 0.0], [4.0, 0.0]])
    with pytest.raises(ValueError, match="Unknown constraint: 'nope'"):
        k.constraints.get("nope")
