"""tf.keras models and training against TF-Keras 2.21 (graph mode): fit histories with a fixed order, evaluate,
predict and the *_on_batch methods on fixed initial weights (tests/fixtures/keras/fit.*), `summary()` text,
the progress bar, tf.data and generator input, subclassed models, and the errors of bad input."""
from __future__ import annotations

import json
import os
import re
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
def fit_data():
    with np.load(os.path.join(FIXTURES, "fit.npz")) as data:
        arrays = dict(data)
    with open(os.path.join(FIXTURES, "fit.json")) as f:
        return arrays, json.load(f)


@pytest.fixture(autouse=True)
def fresh_graph():
    k.backend.clear_session()
    yield
    k.backend.clear_session()


def _flat(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


@pytest.mark.parametrize("name", sorted(cases.FIT_CASES))
def test_fit_history_evaluate_predict_match_tf_keras(name, fit_data):
    arrays, meta = fit_data
    builder, make_data = cases.FIT_CASES[name]
    expected = meta[name]
    model = builder(k)
    data = make_data(cases.fit_rng(name))
    model.set_weights([arrays[f"{name}/w{i}"] for i in range(len(model.get_weights()))])
    history = model.fit(shuffle=False, verbose=0, **data)
    assert model.metrics_names == expected["metrics_names"]
    assert history.epoch == expected["epoch"]
    assert {key: value for key, value in history.params.items() if key != "verbose"} == expected["params"]
    assert sorted(history.history) == sorted(expected["history"])
    for key, values in expected["history"].items():
        np.testing.assert_allclose(history.history[key], values, rtol=1e-5, atol=1e-6, err_msg=key)
    evaluated = model.evaluate(data["x"], data["y"], verbose=0, batch_size=data["batch_size"])
    np.testing.assert_allclose(_flat(evaluated), expected["evaluate"], rtol=1e-5, atol=1e-6)
    for i, prediction in enumerate(_flat(model.predict(data["x"], batch_size=data["batch_size"]))):
        np.testing.assert_allclose(prediction, arrays[f"{name}/predict{i}"], rtol=1e-5, atol=1e-6)
    for i, weight in enumerate(model.get_weights()):
        np.testing.assert_allclose(weight, arrays[f"{name}/final{i}"], rtol=1e-5, atol=1e-6)
    if name == "mlp_adam":
        x, y = data["x"][:5], data["y"][:5]
        np.testing.assert_allclose([model.train_on_batch(x, y) for _ in range(2)], expected["train_on_batch"],
                                   rtol=1e-5)
        np.testing.assert_allclose(model.test_on_batch(x, y), expected["test_on_batch"], rtol=1e-5)
        np.testing.assert_allclose(model.predict_on_batch(x), arrays[f"{name}/predict_on_batch"], rtol=1e-5)


@pytest.mark.parametrize("name", sorted(cases.SUMMARY_CASES))
def test_summary_text_matches_tf_keras(name):
    with open(os.path.join(FIXTURES, "summaries.json")) as f:
        expected = json.load(f)[name]
    lines: list[str] = []
    cases.SUMMARY_CASES[name](k).summary(print_fn=lines.append)
    assert lines == expected


def _mlp(compile_model=True):
    model = k.Sequential([k.layers.Dense(4, activation="relu", input_shape=(3,)), k.layers.Dense(2,
                                                                                                 activation="softmax")])
    if compile_model:
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=10):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype(np.float32), np.eye(2, dtype=np.float32)[rng.integers(0, 2, n)]


def test_progress_bar_and_epoch_lines(capsys):
    x, y = _data()
    model = _mlp()
    model.fit(x, y, batch_size=4, epochs=2, validation_split=0.2, verbose=1)
    out = capsys.readouterr().out
    assert out.startswith("Train on 8 samples, validate on 2 samples\nEpoch 1/2\n")
    assert re.search(r"\r8/8 \[==============================\] - \d+s \d+(us|ms|s)/sample - loss: \d\.\d{4} - acc: "
                     r"\d\.\d{4}(e[+-]\d+)? - val_loss: \d\.\d{4} - val_acc: \d\.\d{4}(e[+-]\d+)?\n", out)
    assert "4/8 [==============>...............] - ETA: " in out
    model.fit(x, y, batch_size=4, epochs=1, verbose=2)
    out = capsys.readouterr().out
    assert re.fullmatch(r"Train on 10 samples\n10/10 - \d+s - loss: \d\.\d{4} - acc: \d\.\d{4}(e[+-]\d+)? - "
                        r"\d+(us|ms|s)/epoch - \d+(us|ms|s)/sample\n", out)
    model.fit(x, y, verbose=0)
    model.evaluate(x, y)
    assert capsys.readouterr().out == ""


def test_fit_before_compile_and_bad_compile_arguments():
    x, y = _data()
    model = _mlp(compile_model=False)
    message = "You must compile your model before training/testing. Use `model.compile(optimizer, loss)`."
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y), lambda: model.train_on_batch(x, y),
                 lambda: model.test_on_batch(x, y)):
        with pytest.raises(RuntimeError, match=re.escape(message)):
            call()
    assert model.predict(x).shape == (10, 2)
    with pytest.raises(ValueError, match=r"Unknown loss function: 'nosuchloss'\. Please ensure you are using a "
                                         r"`keras.utils.custom_object_scope`"):
        model.compile("sgd", "nosuchloss")
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'nosuchopt'\. Please ensure"):
        model.compile("nosuchopt", "mse")
    with pytest.raises(ValueError, match=r"Unknown metric function: 'nosuchmetric'\."):
        model.compile("sgd", "mse", metrics=["nosuchmetric"])


def test_data_errors_are_keras_messages():
    x, y = _data()
    model = _mlp()
    with pytest.raises(ValueError, match=re.escape("Error when checking input: expected dense_input to have shape "
                                                   "(3,) but got array with shape (5,)")):
        model.fit(np.ones((4, 5)), y[:4], verbose=0)
    with pytest.raises(ValueError, match=re.escape("Error when checking input: expected dense_input to have 2 "
                                                   "dimensions, but got array with shape (3, 3, 1)")):
        model.predict(np.ones((3, 3, 1)))
    with pytest.raises(ValueError, match=re.escape("A target array with shape (10, 3) was passed for an output of "
                                                   "shape (None, 2) while using as loss `categorical_crossentropy`. "
                                                   "This loss expects targets to have the same shape as the output.")):
        model.fit(x, np.ones((10, 3)), verbose=0)
    with pytest.raises(ValueError, match=re.escape("Input arrays should have the same number of samples as target "
                                                   "arrays. Found 10 input samples and 4 target samples.")):
        model.fit(x, y[:4], verbose=0)
    with pytest.raises(ValueError, match="`categorical_crossentropy` expects targets to be binary matrices"):
        model.fit(x, np.zeros((10, 1)), verbose=0)
    with pytest.raises(ValueError, match="`class_weight` must contain all classes in the data"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_functional_model_errors():
    with pytest.raises(ValueError, match=r"Input tensors to a Functional model must come from `tf.keras.Input`\. "
                                         r"Received inputs=.* \(missing previous layer metadata\)\."):
        k.Model(tf.placeholder(tf.float32, [None, 3]), k.layers.Dense(2)(k.Input((3,))))
    with pytest.raises(ValueError, match=r'Graph disconnected: cannot obtain value for tensor .*input_\d.* at layer '
                                         r'"dense_1"\. The following previous layers were accessed without issue: '
                                         r"\[\]"):
        k.Model(k.Input((3,)), k.layers.Dense(2)(k.Input((3,))))
    with pytest.raises(ValueError, match="This model has not yet been built"):
        k.Sequential([k.layers.Dense(2)]).summary()


def test_multi_input_model_takes_dicts_and_reports_per_output_names():
    a, b = k.Input((2,), name="a"), k.Input((3,), name="b")
    merged = k.layers.concatenate([a, b])
    out1 = k.layers.Dense(1, name="first")(merged)
    out2 = k.layers.Dense(1, name="second")(merged)
    model = k.Model(inputs=[a, b], outputs=[out1, out2])
    model.compile("sgd", {"first": "mse", "second": "mae"}, metrics={"second": ["mse"]})
    assert model.metrics_names == ["loss", "first_loss", "second_loss", "second_mean_squared_error"]
    rng = np.random.default_rng(2)
    xa, xb = rng.normal(size=(6, 2)), rng.normal(size=(6, 3))
    ya, yb = rng.normal(size=(6, 1)), rng.normal(size=(6, 1))
    history = model.fit({"a": xa, "b": xb}, {"first": ya, "second": yb}, epochs=2, verbose=0)
    assert sorted(history.history) == ["first_loss", "loss", "second_loss", "second_mean_squared_error"]
    with pytest.raises(ValueError, match=r"No data provided for \"b\"\. Need data for each key in: \['a', 'b'\]"):
        model.predict({"a": xa})
    with pytest.raises(ValueError, match=r"Unknown entries in loss dictionary: \['third'\]"):
        model.compile("sgd", {"third": "mse"})


def test_subclassed_model_builds_on_its_first_data():
    class TwoLayers(k.Model):
        def __init__(self):
            super().__init__()
            self.hidden = k.layers.Dense(4, activation="relu")
            self.out = k.layers.Dense(1)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    model = TwoLayers()
    assert model.name == "two_layers"
    model.compile(k.optimizers.SGD(0.05), "mse")
    rng = np.random.default_rng(3)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, batch_size=8, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first / 2
    assert [w.name for w in model.weights] == ["two_layers/dense/kernel:0", "two_layers/dense/bias:0",
                                               "two_layers/dense_1/kernel:0", "two_layers/dense_1/bias:0"]
    assert model.predict(x[:2]).shape == (2, 1)
    assert model.inputs[0].name == "input_1:0" and model.output_names == ["output_1"]
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    assert lines[4] == " dense (Dense)               multiple                  16        "
    with pytest.raises(NotImplementedError, match="Saving the model to HDF5 format requires the model to be a "
                                                  "Functional model or a Sequential model"):
        model.save("never.h5")


def test_fit_on_a_dataset_with_steps_and_on_generators():
    x, y = _data(12)
    model = _mlp()
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(4).repeat()
    history = model.fit(dataset, steps_per_epoch=3, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert history.params["steps"] == 3
    assert len(model.predict(tf.data.Dataset.from_tensor_slices(x).batch(5))) == 12
    evaluated = model.evaluate(tf.data.Dataset.from_tensor_slices((x, y)).batch(6), verbose=0)
    np.testing.assert_allclose(evaluated, model.evaluate(x, y, batch_size=6, verbose=0), rtol=1e-5)

    def batches():
        while True:
            for start in range(0, 12, 4):
                yield x[start:start + 4], y[start:start + 4]

    history = model.fit_generator(batches(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(history.history["acc"]) == 2

    class Batches(k.utils.Sequence):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return x[index * 4:(index + 1) * 4], y[index * 4:(index + 1) * 4]

    history = model.fit(Batches(), epochs=1, verbose=0, validation_data=Batches())
    assert sorted(history.history) == ["acc", "loss", "val_acc", "val_loss"]
    np.testing.assert_allclose(model.evaluate_generator(Batches()), model.evaluate(x, y, batch_size=4, verbose=0),
                               rtol=1e-5)
    with pytest.raises(ValueError, match=r"`steps_per_epoch=None` is only valid for a generator based on the "
                                         r"`keras.utils.Sequence` class"):
        model.fit_generator(batches())
    with pytest.raises(ValueError, match="The `batch_size` argument must not be specified for the given input type"):
        model.fit(dataset, batch_size=4, steps_per_epoch=1, verbose=0)


def test_a_tf_train_optimizer_and_keras_optimizer_defaults():
    x, y = _data()
    model = _mlp(compile_model=False)
    model.compile(tf.train.GradientDescentOptimizer(0.1), "categorical_crossentropy")
    model.fit(x, y, verbose=0, epochs=2)
    assert isinstance(model.optimizer, k.optimizers.TFOptimizer)
    assert k.optimizers.get("adam").get_config() == {"name": "Adam", "learning_rate": 0.001, "decay": 0.0,
                                                     "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
                                                     "amsgrad": False}
    assert k.optimizers.get("sgd").get_config() == {"name": "SGD", "learning_rate": 0.01, "decay": 0.0,
                                                    "momentum": 0.0, "nesterov": False}
    assert k.optimizers.get("rmsprop").get_config()["rho"] == 0.9
    assert k.optimizers.get("Adagrad").get_config()["initial_accumulator_value"] == 0.1
    assert k.optimizers.legacy.Adam is k.optimizers.Adam


def test_optimizer_learning_rate_is_a_variable_and_iterations_count_steps():
    x, y = _data()
    model = _mlp()
    model.fit(x, y, batch_size=5, verbose=0)
    assert k.backend.get_value(model.optimizer.iterations) == 2
    assert [w.name for w in model.optimizer.weights][:2] == ["training/Adam/iter:0", "training/Adam/dense/kernel/m:0"]
    k.backend.set_value(model.optimizer.lr, 0.5)
    assert k.backend.get_value(model.optimizer.learning_rate) == 0.5
    before = model.get_weights()[0]
    model.train_on_batch(x, y)
    assert np.abs(model.get_weights()[0] - before).max() > 0.05


def test_sequential_built_from_data_and_pop():
    model = k.Sequential()
    model.add(k.layers.Dense(3))
    model.add(k.layers.Dense(1))
    model.compile("sgd", "mse")
    x = np.ones((4, 5), np.float32)
    model.fit(x, np.ones((4, 1)), verbose=0)
    assert model.inputs[0].name == "dense_input:0"
    assert model.layers[0].kernel.shape.as_list() == [5, 3]
    model.pop()
    assert len(model.layers) == 1 and model.output_shape == (None, 3)
    assert k.Sequential([k.layers.Dense(2, input_shape=(3,))]).predict(np.ones((2, 3))).shape == (2, 2)
