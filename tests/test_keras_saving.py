"""Keras saving: HDF5 files and TF-format weights written by TF-Keras 2.21 load in caudal (fixtures in
tests/fixtures/keras/saved/), caudal's own round trips (model files, weights in both formats, JSON), and the
errors: a missing or truncated file, h5py absent, mismatched weights, and nothing half-written."""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import caudal as tf

HERE = os.path.dirname(os.path.abspath(__file__))
SAVED = os.path.join(HERE, "fixtures", "keras", "saved")
k = tf.keras


@pytest.fixture(autouse=True)
def fresh_graph():
    k.backend.clear_session()
    yield
    k.backend.clear_session()


@pytest.fixture(scope="module")
def expected():
    with np.load(os.path.join(SAVED, "expected.npz")) as data:
        return dict(data)


@pytest.mark.parametrize("name", ["seq_cnn", "rnn"])
def test_tf_keras_model_files_load_predict_and_keep_training(name, expected):
    x, y = expected[f"{name}/x"], expected[f"{name}/y"]
    model = k.models.load_model(os.path.join(SAVED, f"{name}.h5"))
    np.testing.assert_allclose(model.predict(x), expected[f"{name}/predict"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected[f"{name}/evaluate"], rtol=1e-5)
    assert type(model.optimizer).__name__ in ("Adam", "RMSprop")
    # The optimizer state was restored: one more epoch gives TF-Keras's loss.
    loss = model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0).history["loss"][0]
    np.testing.assert_allclose(loss, float(expected[f"{name}/after_fit"]), rtol=1e-5)


@pytest.mark.parametrize("name", ["seq_cnn", "rnn"])
def test_tf_keras_tf_format_weights_load(name, expected):
    model = k.models.load_model(os.path.join(SAVED, f"{name}.h5"), compile=False)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    assert model.load_weights(os.path.join(SAVED, f"{name}_tf", "ckpt")) is None
    np.testing.assert_allclose(model.predict(expected[f"{name}/x"]), expected[f"{name}/predict"], rtol=1e-5,
                               atol=1e-6)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    model.load_weights(os.path.join(SAVED, f"{name}_tf"))
    np.testing.assert_allclose(model.predict(expected[f"{name}/x"]), expected[f"{name}/predict"], rtol=1e-5,
                               atol=1e-6)


def test_tf_keras_weights_h5_loads(expected):
    model = k.models.load_model(os.path.join(SAVED, "seq_cnn.h5"), compile=False)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    model.load_weights(os.path.join(SAVED, "seq_cnn_weights.h5"))
    np.testing.assert_allclose(model.predict(expected["seq_cnn/x"]), expected["seq_cnn/predict"], rtol=1e-5)


def _functional():
    a, b = k.Input((3,), name="a"), k.Input((2,), name="b")
    h = k.layers.Dense(4, activation="relu")(k.layers.concatenate([a, b]))
    out = k.layers.Dense(1, kernel_regularizer="l2")(k.layers.Dropout(0.3)(h))
    model = k.Model([a, b], out)
    model.compile(k.optimizers.Adam(0.01), "mse", metrics=["mae"])
    return model


def _data():
    rng = np.random.default_rng(4)
    return [rng.normal(size=(8, 3)).astype(np.float32), rng.normal(size=(8, 2)).astype(np.float32)], \
        rng.normal(size=(8, 1)).astype(np.float32)


def test_model_save_and_load_model_round_trip(tmp_path):
    x, y = _data()
    model = _functional()
    model.fit(x, y, epochs=2, verbose=0)
    path = str(tmp_path / "m.h5")
    model.save(path)
    restored = k.models.load_model(path)
    np.testing.assert_allclose(restored.predict(x), model.predict(x), rtol=1e-6)
    assert restored.get_config() == model.get_config()
    for a, b in zip(restored.optimizer.get_weights(), model.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)
    import h5py

    with h5py.File(path, "r") as f:
        assert json.loads(f.attrs["model_config"])["class_name"] == "Functional"
        assert json.loads(f.attrs["training_config"])["optimizer_config"]["class_name"] == "Adam"
        assert [n.decode() if isinstance(n, bytes) else n for n in f["model_weights"].attrs["layer_names"]] == [
            "a", "b", "concatenate", "dense", "dropout", "dense_1"]
        assert "dense/dense/kernel:0" in f["model_weights"]
        assert f["optimizer_weights/training/Adam/iter:0"][()] == 2


def test_weights_round_trip_in_both_formats_and_by_name(tmp_path):
    x, y = _data()
    model = _functional()
    model.fit(x, y, verbose=0)
    for path in (str(tmp_path / "w.h5"), str(tmp_path / "tf" / "ckpt")):
        model.save_weights(path)
        other = _functional()
        other.load_weights(path)
        np.testing.assert_allclose(other.predict(x), model.predict(x), rtol=1e-6)
    assert sorted(os.listdir(tmp_path / "tf")) == ["checkpoint", "ckpt.data-00000-of-00001", "ckpt.index"]
    reader = tf.train.load_checkpoint(str(tmp_path / "tf" / "ckpt"))
    keys = reader.get_variable_to_shape_map()
    assert keys["layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE"] == [5, 4]
    assert "layer_with_weights-1/bias/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE" in keys
    partial = k.Sequential([k.layers.Dense(4, input_shape=(5,), name="dense"), k.layers.Dense(7, name="other")])
    partial.load_weights(str(tmp_path / "w.h5"), by_name=True)
    np.testing.assert_array_equal(partial.layers[0].get_weights()[0], model.get_layer("dense").get_weights()[0])


def test_to_json_and_custom_objects():
    class Scale(k.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

        def get_config(self):
            config = super().get_config()
            config["factor"] = self.factor
            return config

    inputs = k.Input((3,))
    model = k.Model(inputs, k.layers.Lambda(lambda t: t + 1.0)(Scale(3.0)(inputs)))
    text = model.to_json()
    assert json.loads(text)["config"]["layers"][1]["class_name"] == "Scale"
    with pytest.raises(ValueError, match="Unknown layer: 'Scale'"):
        k.models.model_from_json(text)
    clone = k.models.model_from_json(text, custom_objects={"Scale": Scale})
    np.testing.assert_allclose(clone.predict(np.ones((1, 3), np.float32)), [[4.0, 4.0, 4.0]])
    sequential = k.Sequential([k.layers.Dense(2, input_shape=(3,)), k.layers.Activation("relu")])
    layers = k.models.model_from_json(sequential.to_json()).get_config()["layers"]
    assert [layer["class_name"] for layer in layers] == ["InputLayer", "Dense", "Activation"]
    assert layers[2]["config"]["activation"] == "relu"


def test_load_errors_missing_truncated_and_mismatched(tmp_path):
    with pytest.raises(OSError, match="No file or directory found at .*missing.h5"):
        k.models.load_model(str(tmp_path / "missing.h5"))
    truncated = tmp_path / "truncated.h5"
    with open(os.path.join(SAVED, "seq_cnn.h5"), "rb") as f:
        truncated.write_bytes(f.read()[:2000])
    with pytest.raises(OSError, match="Unable to (synchronously )?open file"):
        k.models.load_model(str(truncated))
    model = k.Sequential([k.layers.Dense(3, input_shape=(2,))])
    with pytest.raises(ValueError, match="Layer count mismatch when loading weights from file. Model expected 1 "
                                         "layers, found 3 saved layers."):
        model.load_weights(os.path.join(SAVED, "seq_cnn_weights.h5"))
    with pytest.raises(ValueError, match='save_weights got save_format="tf"/"tensorflow", but the filepath'):
        model.save_weights(str(tmp_path / "w.h5"), save_format="tf")
    with pytest.raises(ValueError, match="Unknown format. Received: `save_format`=pickle"):
        model.save_weights(str(tmp_path / "w"), save_format="pickle")


def test_a_failed_save_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    model = k.Sequential([k.layers.Dense(3, input_shape=(2,))])
    path = str(tmp_path / "m.h5")
    model.save(path)
    before = open(path, "rb").read()
    from caudal.keras.saving import hdf5_format

    def broken(f, model):
        f.create_group("partial")
        raise OSError("disk full")

    monkeypatch.setattr(hdf5_format, "save_weights_to_hdf5_group", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["m.h5"]


def test_without_h5py_the_error_says_how_to_install(tmp_path, monkeypatch):
    model = k.Sequential([k.layers.Dense(3, input_shape=(2,))])
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"`save_model\(\)` using h5 format requires h5py, which is not "
                                          r"installed\. Install it with `pip install caudal\[h5\]`"):
        model.save(str(tmp_path / "m.h5"))
    with pytest.raises(ImportError, match=r"requires h5py"):
        k.models.load_model(os.path.join(SAVED, "seq_cnn.h5"))
    model.save_weights(str(tmp_path / "tf_format"))
    assert os.path.exists(str(tmp_path / "tf_format.index"))
