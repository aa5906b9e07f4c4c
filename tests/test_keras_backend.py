"""tf.keras.backend: the Keras session, learning phase, names and settings, K.function, and the tensor
functions; tf.keras.utils, losses and stateful metrics used on their own."""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf

k = tf.keras
K = tf.keras.backend


@pytest.fixture(autouse=True)
def fresh_graph():
    K.clear_session()
    yield
    K.clear_session()


def test_get_session_uses_the_default_session_or_its_own_and_initializes_keras_variables():
    v = K.variable(np.array([1.0, 2.0]), name="v")
    assert v.name == "v:0" and K.dtype(v) == "float32"
    own = K.get_session()
    assert own is K.get_session()
    np.testing.assert_array_equal(own.run(v), [1.0, 2.0])
    with tf.Session() as sess:
        assert K.get_session() is sess
        np.testing.assert_array_equal(K.get_value(v), [1.0, 2.0])
    other = tf.Session()
    K.set_session(other)
    assert K.get_session() is other
    K.manual_variable_initialization(True)
    try:
        w = K.variable(3.0)
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value Variable"):
            K.get_value(w)
    finally:
        K.manual_variable_initialization(False)


def test_clear_session_resets_names_graph_and_learning_phase():
    k.layers.Dense(1)
    graph = tf.get_default_graph()
    K.set_learning_phase(1)
    K.clear_session()
    assert tf.get_default_graph() is not graph
    assert k.layers.Dense(1).name == "dense"
    assert tf.get_default_graph().get_operation_by_name("keras_learning_phase").type == "PlaceholderWithDefault"
    assert K.learning_phase() is K.symbolic_learning_phase()
    assert K.get_uid("x") == 1 and K.get_uid("x") == 2
    with K.learning_phase_scope(0):
        assert K.learning_phase() == 0
    assert K.learning_phase().name == "keras_learning_phase:0"
    with pytest.raises(ValueError, match="Expected learning phase to be 0 or 1."):
        K.set_learning_phase(2)


def test_settings_floatx_epsilon_image_data_format():
    assert (K.floatx(), K.epsilon(), K.image_data_format(), K.backend()) == ("float32", 1e-7, "channels_last",
                                                                            "tensorflow")
    K.set_epsilon(1e-5)
    K.set_floatx("float64")
    try:
        assert K.epsilon() == 1e-5 and K.variable(1.0).dtype.base_dtype == tf.float64
        with pytest.raises(ValueError, match="Unknown `floatx` value: int3"):
            K.set_floatx("int3")
    finally:
        K.set_epsilon(1e-7)
        K.set_floatx("float32")
    with pytest.raises(ValueError, match="Unknown `data_format`: NHWC"):
        K.set_image_data_format("NHWC")


def test_function_runs_outputs_then_updates():
    x = K.placeholder(shape=(None, 2))
    counter = K.variable(0.0)
    total = K.sum(x)
    f = K.function([x], [total, x * 2], updates=[K.update_add(counter, total)])
    out_total, doubled = f([np.ones((3, 2))])
    assert out_total == 6.0
    np.testing.assert_array_equal(doubled, np.full((3, 2), 2.0))
    f([np.array([[1.0, 2.0]])])
    assert K.get_value(counter) == 9.0
    K.set_value(counter, 5)
    K.batch_set_value([(counter, 7.0)])
    assert K.batch_get_value([counter]) == [7.0]
    assert K.eval(K.constant([1, 2]) * 2).tolist() == [2.0, 4.0]
    assert K.is_keras_tensor(k.Input((2,))) and not K.is_keras_tensor(x)
    with pytest.raises(ValueError, match="Unexpectedly found an instance of type"):
        K.is_keras_tensor(np.ones(2))


def _run(value):
    return K.get_session().run(value)


def test_math_functions_match_numpy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2, 3, 4)).astype(np.float32)
    b = rng.normal(size=(4, 5)).astype(np.float32)
    c = rng.normal(size=(2, 4, 5)).astype(np.float32)
    np.testing.assert_allclose(_run(K.dot(a, b)), a @ b, rtol=1e-5)
    np.testing.assert_allclose(_run(K.batch_dot(a, c, axes=(2, 1))), np.einsum("bij,bjk->bik", a, c), rtol=1e-5)
    np.testing.assert_allclose(_run(K.batch_dot(a[:, 0], c[:, :, 0], axes=1)),
                               np.sum(a[:, 0] * c[:, :, 0], axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_allclose(_run(K.mean(a, axis=1, keepdims=True)), a.mean(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(_run(K.var(a, axis=-1)), a.var(axis=-1), rtol=1e-5)
    np.testing.assert_allclose(_run(K.std(a)), a.std(), rtol=1e-5)
    np.testing.assert_allclose(_run(K.sqrt(K.constant([-1.0, 4.0]))), [0.0, 2.0])
    np.testing.assert_allclose(_run(K.clip(a, 0.5, 0.2)), np.clip(a, 0.5, 0.5))
    np.testing.assert_array_equal(_run(K.repeat_elements(K.constant([[1, 2], [3, 4]]), 2, axis=1)),
                                  [[1, 1, 2, 2], [3, 3, 4, 4]])
    np.testing.assert_array_equal(_run(K.repeat(K.constant([[1, 2]]), 3)).shape, (1, 3, 2))
    np.testing.assert_array_equal(_run(K.one_hot(K.constant([0, 2], dtype="int32"), 3)),
                                  [[1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(_run(K.relu(K.constant([-2.0, 0.5, 8.0]), alpha=0.1, max_value=6.0)),
                               [-0.2, 0.5, 6.0], rtol=1e-6)
    np.testing.assert_allclose(_run(K.relu(K.constant([0.5, 2.0]), threshold=1.0)), [0.0, 2.0])
    np.testing.assert_allclose(_run(K.hard_sigmoid(K.constant([-5.0, 0.0, 1.0]))), [0.0, 0.5, 0.7], rtol=1e-6)
    np.testing.assert_allclose(_run(K.switch(K.constant([True, False]), K.constant([1.0, 2.0]),
                                             K.constant([3.0, 4.0]))), [1.0, 4.0])
    np.testing.assert_allclose(_run(K.batch_flatten(K.constant(a))), a.reshape(2, -1))
    np.testing.assert_allclose(_run(K.permute_dimensions(K.constant(a), (2, 0, 1))), a.transpose(2, 0, 1))
    np.testing.assert_allclose(_run(K.spatial_2d_padding(K.constant(np.ones((1, 2, 2, 1))))).shape, (1, 4, 4, 1))
    np.testing.assert_allclose(_run(K.in_train_phase(K.constant(1.0), K.constant(2.0), training=0)), 2.0)


def test_crossentropies_use_the_logits_of_a_softmax_and_clip_probabilities():
    logits = K.constant([[2.0, -1.0, 0.5], [0.0, 30.0, -30.0]])
    target = K.constant([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    probabilities = K.softmax(logits)
    from_logits = K.categorical_crossentropy(target, logits, from_logits=True)
    via_softmax = K.categorical_crossentropy(target, probabilities)
    np.testing.assert_allclose(_run(via_softmax), _run(from_logits), rtol=1e-6)
    assert _run(via_softmax)[1] == pytest.approx(60.0, rel=1e-4)
    clipped = K.categorical_crossentropy(target, K.constant([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]))
    np.testing.assert_allclose(_run(clipped), [-np.log(np.float32(1 - 1e-7)), -np.log(1e-7)], rtol=1e-4,
                               atol=1e-7)
    sparse = K.sparse_categorical_crossentropy(K.constant([0, 2], dtype="int64"), probabilities)
    np.testing.assert_allclose(_run(sparse), _run(from_logits), rtol=1e-6)
    binary = K.binary_crossentropy(K.constant([1.0, 0.0]), K.sigmoid(K.constant([3.0, -2.0])))
    np.testing.assert_allclose(_run(binary), np.log1p(np.exp([-3.0, -2.0])), rtol=1e-5)


def test_rnn_runs_a_step_function_over_time():
    inputs = K.constant(np.arange(12, dtype=np.float32).reshape(2, 3, 2))

    def step(x, states):
        total = states[0] + K.sum(x, axis=1, keepdims=True)
        return total, [total]

    last, outputs, states = K.rnn(step, inputs, [K.zeros((2, 1))])
    np.testing.assert_allclose(_run(outputs)[:, :, 0], [[1, 6, 15], [13, 30, 51]])
    np.testing.assert_allclose(_run(last), [[15], [51]])
    last_back, _, _ = K.rnn(step, inputs, [K.zeros((2, 1))], go_backwards=True, unroll=True)
    np.testing.assert_allclose(_run(last_back), [[15], [51]])


def test_utils_to_categorical_and_normalize():
    np.testing.assert_array_equal(k.utils.to_categorical([0, 2, 1]), [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert k.utils.to_categorical([[1], [0]], 3).shape == (2, 3)
    assert k.utils.to_categorical([1, 0], dtype="int32").dtype == np.int32
    np.testing.assert_allclose(k.utils.normalize(np.array([[3.0, 4.0], [0.0, 0.0]])), [[0.6, 0.8], [0.0, 0.0]])


def test_loss_objects_and_functions():
    y_true = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    y_pred = np.array([[0.2, 0.8], [0.4, 0.6]], np.float32)
    mse = k.losses.MeanSquaredError()
    assert _run(mse(y_true, y_pred)) == pytest.approx(np.mean((y_true - y_pred) ** 2), rel=1e-6)
    weighted = k.losses.MeanSquaredError()(y_true, y_pred, sample_weight=[1.0, 0.0])
    assert _run(weighted) == pytest.approx(np.mean((y_true[0] - y_pred[0]) ** 2) / 2, rel=1e-6)
    summed = k.losses.CategoricalCrossentropy(reduction="sum")(y_true, y_pred)
    assert _run(summed) == pytest.approx(-np.log(0.8) - np.log(0.4), rel=1e-5)
    assert k.losses.get("mse") is k.losses.mean_squared_error
    assert k.losses.serialize(k.losses.MeanSquaredError()) == {
        "class_name": "MeanSquaredError", "config": {"reduction": "auto", "name": "mean_squared_error",
                                                     "fn": "mean_squared_error"}}
    np.testing.assert_allclose(_run(k.losses.huber(y_true, y_pred)), [0.02, 0.18], rtol=1e-5)
    with pytest.raises(ValueError, match="Invalid Reduction Key: mean"):
        k.losses.MeanSquaredError(reduction="mean")


def test_stateful_metrics_accumulate_and_reset():
    accuracy = k.metrics.CategoricalAccuracy()
    y_true = K.placeholder(shape=(None, 3))
    y_pred = K.placeholder(shape=(None, 3))
    result = accuracy(y_true, y_pred)
    eye = np.eye(3, dtype=np.float32)
    run = K.function([y_true, y_pred], [result])
    assert run([eye, eye]) == [1.0]
    assert run([eye[:1], eye[1:2]]) == [0.75]
    accuracy.reset_states()
    assert run([eye[:1], eye[2:3]]) == [0.0]
    assert accuracy.name == "categorical_accuracy" and [v.name for v in accuracy.variables] == ["total:0", "count:0"]
    assert accuracy.variables[0] not in tf.global_variables()
    mean = k.metrics.Mean()
    value = mean(K.constant([1.0, 3.0]), sample_weight=K.constant([3.0, 1.0]))
    assert _run(value) == pytest.approx(1.5)
    precision = k.metrics.Precision()
    recall = k.metrics.Recall(thresholds=[0.3, 0.7])
    labels, scores = K.constant([1.0, 0.0, 1.0, 1.0]), K.constant([0.8, 0.6, 0.4, 0.9])
    p_value, r_value = _run([precision(labels, scores), recall(labels, scores)])
    assert p_value == pytest.approx(2 / 3) and r_value.tolist() == pytest.approx([1.0, 2 / 3])
