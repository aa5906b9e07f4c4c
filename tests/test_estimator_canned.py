"""The pre-made Estimators beyond the TF fixtures: TF's metric and prediction keys by head, label
vocabularies, weights, label dimensions, optimizers by name, instance or callable, batch norm and dropout,
the serving signatures TF exports, and TF's errors for bad arguments and bad labels."""
import numpy as np
import pytest

import caudal as tf
import caudal.estimator as estimator
import caudal.feature_column as fc

RNG = np.random.RandomState(0)
X = RNG.uniform(-1, 1, (40, 2)).astype(np.float32)
BINARY = (X[:, 0] > X[:, 1]).astype(np.int64).reshape(-1, 1)
COLUMNS = [fc.numeric_column("x", shape=[2])]


def inputs(labels, epochs=None, batch=10, **extra):
    return estimator.inputs.numpy_input_fn(dict(x=X, **extra), labels, batch_size=batch, num_epochs=epochs,
                                           shuffle=False)


def predict_input():
    return estimator.inputs.numpy_input_fn({"x": X[:5]}, batch_size=5, shuffle=False)


def test_binary_classifier_reports_tfs_metrics_and_predictions_with_a_vocabulary(tmp_path):
    labels = np.where(BINARY == 1, "yes", "no")
    e = estimator.DNNClassifier([4], COLUMNS, model_dir=str(tmp_path), label_vocabulary=["no", "yes"],
                                optimizer="Adam", config=estimator.RunConfig(tf_random_seed=1))
    e.train(inputs(labels), steps=30)
    metrics = e.evaluate(inputs(labels, epochs=1))
    assert sorted(metrics) == ["accuracy", "accuracy_baseline", "auc", "auc_precision_recall", "average_loss",
                               "global_step", "label/mean", "loss", "precision", "prediction/mean", "recall"]
    assert metrics["accuracy"] > 0.8
    np.testing.assert_allclose(metrics["label/mean"], BINARY.mean(), rtol=1e-6)
    np.testing.assert_allclose(metrics["accuracy_baseline"], max(BINARY.mean(), 1 - BINARY.mean()), rtol=1e-6)
    first = next(e.predict(predict_input()))
    assert sorted(first) == ["all_class_ids", "all_classes", "class_ids", "classes", "logistic", "logits",
                             "probabilities"]
    assert first["all_classes"].tolist() == [b"no", b"yes"] and first["all_class_ids"].tolist() == [0, 1]
    assert first["classes"].tolist() == [[b"no", b"yes"][int(first["class_ids"][0])]]
    np.testing.assert_allclose(first["probabilities"].sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(first["logistic"][0], first["probabilities"][1], rtol=1e-6)
    assert {"dnn/head/beta1_power", "dnn/hiddenlayer_0/kernel/t_0/Adam_1"} <= set(e.get_variable_names())


def test_multi_class_metrics_predictions_and_thresholds_of_classes(tmp_path):
    labels = np.digitize(X[:, 0], [-0.3, 0.3]).reshape(-1, 1)
    e = estimator.LinearClassifier(COLUMNS, model_dir=str(tmp_path), n_classes=3, optimizer="SGD")
    e.train(inputs(labels), steps=20)
    assert sorted(e.evaluate(inputs(labels, epochs=1))) == ["accuracy", "average_loss", "global_step", "loss"]
    first = next(e.predict(predict_input()))
    assert sorted(first) == ["all_class_ids", "all_classes", "class_ids", "classes", "logits", "probabilities"]
    assert first["all_classes"].tolist() == [b"0", b"1", b"2"]
    assert first["classes"].tolist() == [str(first["class_ids"][0]).encode()]


def test_weights_change_the_loss_as_a_weighted_sum(tmp_path):
    e = estimator.BaselineRegressor(model_dir=str(tmp_path), weight_column="w")
    y = np.arange(40, dtype=np.float32).reshape(-1, 1)
    weights = np.where(np.arange(40) < 20, 1.0, 0.0).astype(np.float32).reshape(-1, 1)
    e.train(estimator.inputs.numpy_input_fn({"x": X, "w": weights}, y, batch_size=10, num_epochs=1,
                                            shuffle=False), steps=1)
    metrics = e.evaluate(estimator.inputs.numpy_input_fn({"x": X, "w": weights}, y, batch_size=40, num_epochs=1,
                                                         shuffle=False))
    bias = e.get_variable_value("baseline/bias")[0]
    expected = np.sum(weights[:, 0] * (y[:, 0] - bias) ** 2)
    np.testing.assert_allclose(metrics["loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(metrics["average_loss"], expected / weights.sum(), rtol=1e-5)
    np.testing.assert_allclose(metrics["label/mean"], y[:20].mean(), rtol=1e-6)


def test_regressor_with_label_dimension_two(tmp_path):
    y = np.stack([X[:, 0] + X[:, 1], X[:, 0] - X[:, 1]], axis=1)
    e = estimator.DNNRegressor([5], COLUMNS, model_dir=str(tmp_path), label_dimension=2,
                               optimizer=lambda: tf.train.AdamOptimizer(0.05),
                               config=estimator.RunConfig(tf_random_seed=1))
    e.train(inputs(y), steps=60)
    metrics = e.evaluate(inputs(y, epochs=1))
    assert sorted(metrics) == ["average_loss", "global_step", "label/mean", "loss", "prediction/mean"]
    assert metrics["average_loss"] < 0.2
    assert next(e.predict(predict_input()))["predictions"].shape == (2,)


def test_batch_norm_and_dropout_use_tfs_names(tmp_path):
    e = estimator.DNNRegressor([3], COLUMNS, model_dir=str(tmp_path), batch_norm=True, dropout=0.1)
    e.train(inputs(BINARY.astype(np.float32)), steps=2)
    names = e.get_variable_names()
    assert [n for n in names if "batchnorm" in n] == [
        "dnn/hiddenlayer_0/batchnorm_0/beta", "dnn/hiddenlayer_0/batchnorm_0/beta/t_0/Adagrad",
        "dnn/hiddenlayer_0/batchnorm_0/gamma", "dnn/hiddenlayer_0/batchnorm_0/gamma/t_0/Adagrad",
        "dnn/hiddenlayer_0/batchnorm_0/moving_mean", "dnn/hiddenlayer_0/batchnorm_0/moving_variance"]
    assert not np.all(e.get_variable_value("dnn/hiddenlayer_0/batchnorm_0/moving_mean") == 0)


def test_combined_and_baseline_classifiers_train_and_predict(tmp_path):
    combined = estimator.DNNLinearCombinedClassifier(
        model_dir=str(tmp_path / "c"), linear_feature_columns=COLUMNS, dnn_feature_columns=COLUMNS,
        dnn_hidden_units=[3], n_classes=3)
    labels = np.digitize(X[:, 0], [-0.3, 0.3]).reshape(-1, 1)
    combined.train(inputs(labels), steps=3)
    assert {"dnn/hiddenlayer_0/kernel/Adagrad", "linear/linear_model/x/weights/Ftrl_1"} <= set(
        combined.get_variable_names())
    assert combined.get_variable_value("global_step") == 3
    baseline = estimator.BaselineClassifier(model_dir=str(tmp_path / "b"))
    baseline.train(inputs(BINARY), steps=50)
    np.testing.assert_allclose(next(baseline.predict(predict_input()))["logistic"][0], BINARY.mean(), atol=0.05)


def test_classifier_export_has_tfs_signatures(tmp_path):
    e = estimator.LinearClassifier(COLUMNS, model_dir=str(tmp_path / "m"))
    e.train(inputs(BINARY), steps=5)
    spec = fc.make_parse_example_spec(COLUMNS)
    receiver_fn = estimator.export.build_parsing_serving_input_receiver_fn(spec)
    path = e.export_saved_model(str(tmp_path / "export"), receiver_fn)
    examples = [tf.train.Example(features=tf.train.Features(feature={"x": tf.train.Feature(
        float_list=tf.train.FloatList(value=row))})).SerializeToString() for row in X[:5]]
    expected = np.stack([p["probabilities"] for p in e.predict(predict_input())])
    with tf.Graph().as_default(), tf.Session() as sess:
        meta_graph = tf.saved_model.loader.load(sess, ["serve"], path.decode())
        signatures = meta_graph.signature_def
        assert sorted(signatures) == ["classification", "predict", "regression", "serving_default"]
        assert signatures["serving_default"].method_name == "tensorflow/serving/classify"
        assert signatures["regression"].method_name == "tensorflow/serving/regress"
        assert sorted(signatures["predict"].outputs) == ["all_class_ids", "all_classes", "class_ids", "classes",
                                                         "logistic", "logits", "probabilities"]
        scores = sess.run(signatures["serving_default"].outputs["scores"].name,
                          {signatures["serving_default"].inputs["inputs"].name: examples})
    np.testing.assert_allclose(scores, expected, rtol=1e-6)


def test_parse_example_specs():
    spec = estimator.classifier_parse_example_spec(COLUMNS, label_key="label", weight_column="w")
    assert sorted(spec) == ["label", "w", "x"]
    assert spec["label"] == tf.FixedLenFeature((1,), tf.int64, None)
    regression = estimator.regressor_parse_example_spec(COLUMNS, "y", label_dimension=2)
    assert regression["y"] == tf.FixedLenFeature((2,), tf.float32, None)
    with pytest.raises(ValueError, match="label should not be used as feature. label_key: x"):
        estimator.classifier_parse_example_spec(COLUMNS, label_key="x")
    with pytest.raises(ValueError, match="weight_column should not be used as feature. weight_column: x"):
        estimator.classifier_parse_example_spec(COLUMNS, label_key="y", weight_column="x")


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("make, error, message", [
    (lambda: estimator.DNNClassifier([2], COLUMNS, n_classes=1), ValueError, "n_classes must be > 2: 1."),
    (lambda: estimator.DNNClassifier([2], COLUMNS, loss_reduction="none"), ValueError,
     "Invalid loss_reduction: none"),
    (lambda: estimator.LinearClassifier(COLUMNS, label_vocabulary="ab"), TypeError,
     "label_vocabulary should be a list or tuple. Given type: <class 'str'>"),
    (lambda: estimator.LinearClassifier(COLUMNS, n_classes=3, label_vocabulary="abc"), ValueError,
     "label_vocabulary should be a list or a tuple. Given type: <class 'str'>"),
    (lambda: estimator.DNNRegressor([2], COLUMNS, label_dimension=0), ValueError, "Invalid label_dimension 0."),
    (lambda: estimator.DNNLinearCombinedRegressor(), ValueError,
     "Either linear_feature_columns or dnn_feature_columns must be defined."),
])
def test_constructor_errors(make, error, message):
    with pytest.raises(error) as info:
        make()
    assert str(info.value) == message


@pytest.mark.parametrize("make, labels, error, message", [
    (lambda d: estimator.DNNClassifier([2], COLUMNS, model_dir=d, optimizer="Nadam"), BINARY, ValueError,
     "Unsupported optimizer name: Nadam. Supported names are: ('Adagrad', 'Adam', 'Ftrl', 'RMSProp', 'SGD')"),
    (lambda d: estimator.DNNClassifier([2], COLUMNS, model_dir=d, optimizer=3), BINARY, ValueError,
     "The given object is not an Optimizer instance. Given: 3"),
    (lambda d: estimator.DNNClassifier([2], COLUMNS, model_dir=d), BINARY.astype(np.float32), ValueError,
     None),
    (lambda d: estimator.DNNClassifier([2], COLUMNS, model_dir=d, n_classes=3), BINARY.astype(np.float32),
     ValueError, "Labels dtype should be integer. Instead got <dtype: 'float32'>."),
    (lambda d: estimator.DNNClassifier([2], COLUMNS, model_dir=d, n_classes=3, label_vocabulary=["a", "b", "c"]),
     BINARY, ValueError, "Labels dtype should be string if there is a vocabulary. Instead got <dtype: 'int64'>"),
    (lambda d: estimator.DNNRegressor([2], COLUMNS, model_dir=d), np.ones((40, 2), np.float32), ValueError,
     "Mismatched label shape. Expected labels dimension=1.  Received 2. Suggested Fix:If your classifier "
     "expects one-hot encoding label,check your n_classes argument to the estimator and/or the shape of your "
     "label. Otherwise, check the shape of your label."),
    (lambda d: estimator.DNNLinearCombinedRegressor(model_dir=d, dnn_feature_columns=COLUMNS), BINARY, ValueError,
     "dnn_hidden_units must be defined when dnn_feature_columns is specified."),
])
def test_errors_while_building_the_training_graph(tmp_path, make, labels, error, message):
    e = make(str(tmp_path))
    if message is None:
        e.train(inputs(labels), steps=1)
        assert e.get_variable_value("global_step") == 1
        return
    with pytest.raises(error) as info:
        e.train(inputs(labels), steps=1)
    assert str(info.value) == message


def test_labels_out_of_range_fail_the_run(tmp_path):
    e = estimator.DNNClassifier([2], COLUMNS, model_dir=str(tmp_path), n_classes=3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Labels must <= n_classes - 1"):
        e.train(inputs(BINARY * 5), steps=1)


def test_features_must_be_a_dict(tmp_path):
    e = estimator.LinearRegressor(COLUMNS, model_dir=str(tmp_path))
    with pytest.raises(ValueError, match="features should be a dictionary of `Tensor`s. Given type: "):
        e.train(estimator.inputs.numpy_input_fn(X, BINARY, shuffle=False), steps=1)


def test_experimental_logit_fn_helpers():
    with pytest.raises(ValueError, match="^units must be an int.  Given type: <class 'float'>$"):
        estimator.experimental.dnn_logit_fn_builder(1.5, [2], COLUMNS, tf.nn.relu, None)
    features = {"x": tf.constant(X)}
    with tf.variable_scope("linear"):
        logits = estimator.experimental.call_logit_fn(
            estimator.experimental.linear_logit_fn_builder(2, COLUMNS), features, "train", None, None)
    assert logits.shape.as_list() == [40, 2]
    assert {v.op.name for v in tf.global_variables()} == {"linear/linear_model/x/weights",
                                                          "linear/linear_model/bias_weights"}
    with pytest.raises(ValueError, match="logit_fn should return a Tensor or a dictionary mapping strings to "
                                         "Tensors.  logit_fn returned: 3"):
        estimator.experimental.call_logit_fn(lambda features: 3, features, "train", None, None)


def test_categorical_and_embedding_columns_use_tfs_checkpoint_names(tmp_path):
    """Names TF 2.15 gives the same three models (recorded by hand with its Estimators)."""
    words = np.array([b"a", b"b"] * 20)
    category = fc.categorical_column_with_vocabulary_list("c", ["a", "b"])
    dense = [fc.numeric_column("x", shape=[2]), fc.embedding_column(category, 2)]
    data = estimator.inputs.numpy_input_fn({"x": X, "c": words}, BINARY, batch_size=8, num_epochs=None,
                                           shuffle=False)
    dnn = estimator.DNNClassifier([3], dense, model_dir=str(tmp_path / "d"), optimizer="Adam",
                                  activation_fn=tf.nn.tanh)
    dnn.train(data, steps=1)
    assert dnn.get_variable_names() == [
        "dnn/head/beta1_power", "dnn/head/beta2_power", "dnn/hiddenlayer_0/bias", "dnn/hiddenlayer_0/bias/t_0/Adam",
        "dnn/hiddenlayer_0/bias/t_0/Adam_1", "dnn/hiddenlayer_0/kernel", "dnn/hiddenlayer_0/kernel/t_0/Adam",
        "dnn/hiddenlayer_0/kernel/t_0/Adam_1", "dnn/input_from_feature_columns/input_layer/c_embedding/"
        "embedding_weights", "dnn/input_from_feature_columns/input_layer/c_embedding/embedding_weights/t_0/Adam",
        "dnn/input_from_feature_columns/input_layer/c_embedding/embedding_weights/t_0/Adam_1", "dnn/logits/bias",
        "dnn/logits/bias/t_0/Adam", "dnn/logits/bias/t_0/Adam_1", "dnn/logits/kernel", "dnn/logits/kernel/t_0/Adam",
        "dnn/logits/kernel/t_0/Adam_1", "global_step"]
    linear = estimator.LinearClassifier([fc.numeric_column("x", shape=[2]), category], model_dir=str(tmp_path / "l"),
                                        optimizer="Adam")
    linear.train(data, steps=1)
    assert linear.get_variable_names() == [
        "global_step", "linear/head/beta1_power", "linear/head/beta2_power", "linear/linear_model/bias_weights",
        "linear/linear_model/bias_weights/part_0/Adam", "linear/linear_model/bias_weights/part_0/Adam_1",
        "linear/linear_model/c/weights", "linear/linear_model/c/weights/part_0/Adam",
        "linear/linear_model/c/weights/part_0/Adam_1", "linear/linear_model/x/weights",
        "linear/linear_model/x/weights/part_0/Adam", "linear/linear_model/x/weights/part_0/Adam_1"]
    combined = estimator.DNNLinearCombinedClassifier(model_dir=str(tmp_path / "c"), linear_feature_columns=[category],
                                                     dnn_feature_columns=[fc.embedding_column(category, 2)],
                                                     dnn_hidden_units=[2])
    combined.train(data, steps=1)
    assert combined.get_variable_names() == [
        "dnn/hiddenlayer_0/bias", "dnn/hiddenlayer_0/bias/Adagrad", "dnn/hiddenlayer_0/kernel",
        "dnn/hiddenlayer_0/kernel/Adagrad", "dnn/input_from_feature_columns/input_layer/c_embedding/embedding_weights",
        "dnn/input_from_feature_columns/input_layer/c_embedding/embedding_weights/Adagrad", "dnn/logits/bias",
        "dnn/logits/bias/Adagrad", "dnn/logits/kernel", "dnn/logits/kernel/Adagrad", "global_step",
        "linear/linear_model/bias_weights", "linear/linear_model/bias_weights/Ftrl",
        "linear/linear_model/bias_weights/Ftrl_1", "linear/linear_model/c/weights",
        "linear/linear_model/c/weights/Ftrl", "linear/linear_model/c/weights/Ftrl_1"]


@pytest.mark.parametrize("make", [
    lambda: estimator.DNNClassifier([2], COLUMNS, input_layer_partitioner=lambda shape, dtype: [1, 1]),
    lambda: estimator.LinearRegressor(COLUMNS, partitioner=lambda shape, dtype: [1, 1]),
    lambda: estimator.DNNLinearCombinedRegressor(linear_feature_columns=COLUMNS,
                                                 input_layer_partitioner=lambda shape, dtype: [1, 1]),
])
def test_partitioners_are_refused(make):
    with pytest.raises(NotImplementedError, match="caudal's pre-made Estimators do not support partitioners"):
        make()
