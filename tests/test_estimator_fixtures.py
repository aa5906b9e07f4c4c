"""The pre-made Estimators against TensorFlow 2.15's (tests/fixtures/make_estimator_fixtures.py): a model_dir
TF wrote resumes in caudal, which evaluates and predicts TF's values from it, trains on to TF's variables and
metrics, and writes the same checkpoint names and training summaries."""
import os
import shutil

import numpy as np
import pytest

import caudal as tf
import caudal.estimator as estimator
import caudal.feature_column as fc

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "estimator")
BATCH = 8
MORE_STEPS = 4


def _columns(kind):
    x = fc.numeric_column("x", shape=[2])
    z = fc.numeric_column("z")
    return [x, fc.bucketized_column(z, boundaries=[-1.0, 0.0, 1.0])] if kind == "bucketized" else [x, z]


MODELS = {
    "dnn_classifier": (lambda d, c: estimator.DNNClassifier([4, 3], _columns("numeric"), model_dir=d, n_classes=3,
                                                            config=c), "y3"),
    "linear_regressor": (lambda d, c: estimator.LinearRegressor(_columns("numeric"), model_dir=d, config=c), "yreg"),
    "linear_classifier": (lambda d, c: estimator.LinearClassifier(_columns("bucketized"), model_dir=d,
                                                                  weight_column="w", config=c), "y2"),
    "dnn_linear_combined_regressor": (lambda d, c: estimator.DNNLinearCombinedRegressor(
        model_dir=d, linear_feature_columns=[fc.numeric_column("z")],
        dnn_feature_columns=[fc.numeric_column("x", shape=[2])], dnn_hidden_units=[3], config=c), "yreg"),
    "baseline_classifier": (lambda d, c: estimator.BaselineClassifier(model_dir=d, n_classes=3, config=c), "y3"),
}


def _config():
    return estimator.RunConfig(tf_random_seed=7, save_checkpoints_steps=100, save_summary_steps=1,
                               log_step_count_steps=1)


def _load(name):
    records = np.load(os.path.join(HERE, name, "records.npz"))
    features = {k: records["data/" + k] for k in ("x", "z", "w")}
    return records, features


def _inputs(records, features, label_key):
    labels = records["data/" + label_key]
    inputs = estimator.inputs
    return (inputs.numpy_input_fn(features, labels, batch_size=BATCH, num_epochs=None, shuffle=False),
            inputs.numpy_input_fn(features, labels, batch_size=BATCH, num_epochs=1, shuffle=False),
            inputs.numpy_input_fn(features, batch_size=BATCH, num_epochs=1, shuffle=False))


def _resumed(name, tmp_path):
    model_dir = str(tmp_path / name)
    shutil.copytree(os.path.join(HERE, name, "model_dir"), model_dir)
    make, label_key = MODELS[name]
    return make(model_dir, _config()), label_key


def _assert_metrics(metrics, records, prefix):
    names = [str(n) for n in records["metric_names"]]
    assert sorted(metrics) == sorted(names)
    for key in names:
        np.testing.assert_allclose(metrics[key], records[prefix + key], rtol=2e-6, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_tf_model_dir_evaluates_and_predicts_tfs_values(name, tmp_path):
    records, features = _load(name)
    model, label_key = _resumed(name, tmp_path)
    _, eval_input, predict_input = _inputs(records, features, label_key)
    assert model.get_variable_names() == [str(n) for n in records["variable_names"]]
    _assert_metrics(model.evaluate(eval_input), records, "metrics/")
    batches = list(model.predict(predict_input, yield_single_examples=False))
    keys = [str(k) for k in records["prediction_keys"]]
    assert sorted(batches[0]) == keys
    for key in keys:
        got = np.concatenate([b[key] for b in batches])
        want = records["predictions/" + key]
        if want.dtype.kind == "S":
            assert got.dtype == object and got.astype(bytes).tolist() == want.tolist(), key
        else:
            assert got.dtype == want.dtype, key
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_tf_model_dir_trains_on_to_tfs_variables(name, tmp_path):
    records, features = _load(name)
    model, label_key = _resumed(name, tmp_path)
    train_input, eval_input, _ = _inputs(records, features, label_key)
    model.train(train_input, steps=MORE_STEPS)
    names = model.get_variable_names()
    assert names == [str(n) for n in records["variable_names"]]
    for var in names:
        np.testing.assert_allclose(model.get_variable_value(var), records["after/" + var], rtol=1e-5, atol=1e-6,
                                   err_msg=var)
    _assert_metrics(model.evaluate(eval_input), records, "after_metrics/")


@pytest.mark.parametrize("name", ["dnn_classifier", "linear_classifier", "dnn_linear_combined_regressor"])
def test_fresh_training_writes_tfs_variable_names_and_summaries(name, tmp_path):
    records, features = _load(name)
    make, label_key = MODELS[name]
    model = make(str(tmp_path / "m"), _config())
    train_input, _, _ = _inputs(records, features, label_key)
    model.train(train_input, steps=5)
    assert model.get_variable_names() == [str(n) for n in records["variable_names"]]
    for var in records["variable_names"]:
        assert model.get_variable_value(str(var)).shape == records["variables/" + str(var)].shape
    tags = set()
    for filename in os.listdir(model.model_dir):
        if filename.startswith("events.out"):
            for event in tf.train.summary_iterator(os.path.join(model.model_dir, filename)):
                tags.update(v.tag for v in event.summary.value)
    with open(os.path.join(HERE, name, "summary_tags.txt")) as f:
        assert sorted(tags) == f.read().split()
