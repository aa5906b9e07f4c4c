"""tf.estimator.Estimator with a custom model_fn: train / evaluate / predict as TF runs them (steps and
max_steps, resuming from model_dir, hooks and listeners, what input_fn may return), and TF's errors."""
import logging
import os

import numpy as np
import pytest

import caudal as tf
import caudal.estimator as estimator
from caudal.estimator import EstimatorSpec, ModeKeys

X = np.linspace(0, 1, 20, dtype=np.float32).reshape(-1, 1)
Y = 3 * X + 1


def linear_model_fn(features, labels, mode, params):
    x = features["x"] if isinstance(features, dict) else features
    w = tf.get_variable("w", [1, 1], initializer=tf.zeros_initializer())
    b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
    prediction = tf.matmul(tf.cast(x, tf.float32), w) + b
    if mode == ModeKeys.PREDICT:
        return EstimatorSpec(mode, predictions={"y": prediction, "x": tf.cast(x, tf.float32)})
    loss = tf.losses.mean_squared_error(tf.cast(labels, tf.float32), prediction)
    train_op = tf.train.GradientDescentOptimizer(params.get("lr", 0.1)).minimize(
        loss, global_step=tf.train.get_global_step())
    mae = tf.metrics.mean_absolute_error(tf.cast(labels, tf.float32), prediction)
    return EstimatorSpec(mode, loss=loss, train_op=train_op, eval_metric_ops={"mae": mae})


def train_input(batch_size=5, num_epochs=None):
    return estimator.inputs.numpy_input_fn({"x": X}, Y, batch_size=batch_size, num_epochs=num_epochs, shuffle=False)


def make(tmp_path, **config):
    return estimator.Estimator(linear_model_fn, model_dir=str(tmp_path / "model"), params={"lr": 0.5},
                               config=estimator.RunConfig(**config) if config else None)


# ------------------------------------------------------------------ train / evaluate / predict
def test_train_evaluate_predict_round_trip(tmp_path):
    e = make(tmp_path)
    assert e.train(train_input(), steps=100) is e
    assert e.get_variable_names() == ["b", "global_step", "w"]
    assert e.get_variable_value("global_step") == 100
    w, b = e.get_variable_value("w")[0, 0], e.get_variable_value("b")[0]
    assert abs(w - 3) < 0.3 and abs(b - 1) < 0.2
    metrics = e.evaluate(train_input(num_epochs=1))
    assert sorted(metrics) == ["global_step", "loss", "mae"]
    assert metrics["global_step"] == 100 and isinstance(metrics["global_step"], np.int64)
    assert isinstance(metrics["loss"], np.float32) and metrics["loss"] < 0.05
    predictions = list(e.predict(estimator.inputs.numpy_input_fn({"x": X[:3]}, batch_size=2, shuffle=False)))
    assert len(predictions) == 3 and sorted(predictions[0]) == ["x", "y"]
    np.testing.assert_allclose([p["y"][0] for p in predictions], w * X[:3, 0] + b, rtol=1e-5)
    batches = list(e.predict(estimator.inputs.numpy_input_fn({"x": X[:3]}, batch_size=2, shuffle=False),
                             predict_keys=["y"], yield_single_examples=False))
    assert [sorted(b) for b in batches] == [["y"], ["y"]] and [len(b["y"]) for b in batches] == [2, 1]


def test_model_dir_holds_tf_layout_and_eval_summaries(tmp_path):
    e = make(tmp_path)
    e.train(train_input(), steps=3)
    e.evaluate(train_input(num_epochs=1), name="validation")
    files = set(os.listdir(e.model_dir))
    assert {"checkpoint", "graph.pbtxt", "model.ckpt-0.index", "model.ckpt-3.index", "model.ckpt-3.meta",
            "eval_validation"} <= files
    assert tf.train.latest_checkpoint(e.model_dir) == e.latest_checkpoint()
    assert e.latest_checkpoint().endswith("model.ckpt-3")
    with open(os.path.join(e.model_dir, "checkpoint")) as f:
        assert 'model_checkpoint_path: "model.ckpt-3"' in f.read()
    events = [os.path.join(e.eval_dir("validation"), n) for n in os.listdir(e.eval_dir("validation"))]
    values = {v.tag: v for path in events for ev in tf.train.summary_iterator(path) for v in ev.summary.value}
    assert sorted(values) == ["checkpoint_path", "loss", "mae"]
    assert values["checkpoint_path"].tensor.string_val == [e.latest_checkpoint().encode()]
    training = [n for n in files if n.startswith("events.out")]
    tags = {v.tag for n in training for ev in tf.train.summary_iterator(os.path.join(e.model_dir, n))
            for v in ev.summary.value}
    assert "loss" in tags


def test_steps_accumulate_and_max_steps_stops_or_skips(tmp_path, caplog):
    e = make(tmp_path)
    e.train(train_input(), steps=4)
    e.train(train_input(), steps=3)
    assert e.get_variable_value("global_step") == 7
    e.train(train_input(), max_steps=10)
    assert e.get_variable_value("global_step") == 10
    before = e.get_variable_value("w")
    with caplog.at_level(logging.INFO, logger="caudal"):
        e.train(train_input(), max_steps=10)
    assert "Skipping training since max_steps has already saved." in caplog.text
    np.testing.assert_array_equal(e.get_variable_value("w"), before)


def test_training_stops_when_the_input_ends_and_resumes_from_the_checkpoint(tmp_path):
    e = make(tmp_path)
    e.train(train_input(batch_size=6, num_epochs=1))
    assert e.get_variable_value("global_step") == 4
    e.train(train_input(batch_size=6, num_epochs=2))
    assert e.get_variable_value("global_step") == 4 + 7


def test_logging_of_loss_and_step_and_final_loss(tmp_path, caplog):
    e = make(tmp_path, log_step_count_steps=2)
    with caplog.at_level(logging.INFO, logger="caudal"):
        e.train(train_input(), steps=3)
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("loss = ") and line.endswith("step = 1") for line in lines)
    assert any(line.startswith("Loss for final step: ") for line in lines)
    assert "Saving checkpoints for 3 into " + os.path.join(e.model_dir, "model.ckpt.") in lines


def test_save_checkpoints_steps_and_keep_checkpoint_max(tmp_path):
    e = make(tmp_path, save_checkpoints_steps=2, keep_checkpoint_max=2)
    e.train(train_input(), steps=7)
    state = tf.train.get_checkpoint_state(e.model_dir)
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == ["model.ckpt-6", "model.ckpt-7"]


def test_hooks_and_saving_listeners_are_called(tmp_path):
    calls = []

    class Hook(tf.train.SessionRunHook):
        def begin(self):
            calls.append("begin")

        def end(self, session):
            calls.append("end")

    class Listener(tf.train.CheckpointSaverListener):
        def after_save(self, session, global_step_value):
            calls.append(("saved", int(global_step_value)))

    make(tmp_path).train(train_input(), steps=2, hooks=[Hook()], saving_listeners=[Listener()])
    assert calls == ["begin", ("saved", 0), ("saved", 2), "end"]


def test_input_fn_may_return_features_only_a_pair_or_a_dataset(tmp_path):
    def dataset_input():
        return tf.data.Dataset.from_tensor_slices(({"x": X}, Y)).batch(5)

    e = make(tmp_path)
    e.train(dataset_input)
    assert e.get_variable_value("global_step") == 4
    metrics = e.evaluate(dataset_input, steps=2)
    assert metrics["global_step"] == 4

    def features_only_model_fn(features, mode):
        x = features["x"]
        v = tf.get_variable("v", [], initializer=tf.ones_initializer())
        return EstimatorSpec(mode, predictions=x * v)

    predictor = estimator.Estimator(features_only_model_fn, model_dir=str(tmp_path / "p"))
    outputs = list(predictor.predict(lambda: tf.data.Dataset.from_tensor_slices({"x": X[:4]}).batch(3)))
    np.testing.assert_allclose(np.array(outputs), X[:4])


def test_model_fn_gets_only_the_arguments_it_names(tmp_path):
    seen = {}

    def model_fn(features, labels, mode, config, params):
        seen.update(mode=mode, config=config, params=params)
        return linear_model_fn(features, labels, mode, {"lr": 0.1})

    e = estimator.Estimator(model_fn, model_dir=str(tmp_path), params={"units": 3})
    e.train(train_input(), steps=1)
    assert seen["mode"] == "train" and seen["params"] == {"units": 3}
    assert isinstance(seen["config"], estimator.RunConfig) and seen["config"].model_dir == str(tmp_path)
    assert e.params == {"units": 3} and e.params is not e.params
    assert e.config.model_dir == e.model_dir == str(tmp_path)


def test_temporary_model_dir_is_made_and_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="caudal"):
        e = estimator.Estimator(linear_model_fn, params={})
    assert os.path.isdir(e.model_dir)
    assert f"Using temporary folder as model directory: {e.model_dir}" in caplog.text


def test_evaluate_without_a_checkpoint_runs_initialization(tmp_path, caplog):
    e = make(tmp_path)
    with caplog.at_level(logging.INFO, logger="caudal"):
        metrics = e.evaluate(train_input(num_epochs=1))
    assert metrics["global_step"] == 0
    np.testing.assert_allclose(metrics["loss"], np.mean(Y ** 2), rtol=1e-5)
    assert (f"Could not find trained model in model_dir: {e.model_dir}, running initialization to evaluate."
            in caplog.text)
    assert not [n for n in os.listdir(e.model_dir) if n.startswith("model.ckpt")]


def test_evaluate_steps_and_a_given_checkpoint(tmp_path):
    e = make(tmp_path, save_checkpoints_steps=5)
    e.train(train_input(), steps=10)
    first = os.path.join(e.model_dir, "model.ckpt-5")
    metrics = e.evaluate(train_input(num_epochs=None), steps=3, checkpoint_path=first)
    assert metrics["global_step"] == 5


def test_warm_start_from_another_model_dir_with_renames(tmp_path):
    source = make(tmp_path / "a")
    source.train(train_input(), steps=20)

    def renamed_model_fn(features, labels, mode):
        w = tf.get_variable("weight", [1, 1], initializer=tf.zeros_initializer())
        prediction = tf.matmul(features["x"], w)
        loss = tf.losses.mean_squared_error(labels, prediction)
        return EstimatorSpec(mode, loss=loss, train_op=tf.assign_add(tf.train.get_global_step(), 1))

    settings = estimator.WarmStartSettings(source.model_dir, vars_to_warm_start=".*",
                                           var_name_to_prev_var_name={"weight": "w"})
    e = estimator.Estimator(renamed_model_fn, model_dir=str(tmp_path / "b"), warm_start_from=settings)
    e.train(train_input(), steps=1)
    np.testing.assert_array_equal(e.get_variable_value("weight"), source.get_variable_value("w"))
    assert e.get_variable_value("global_step") == 1


def test_optimizer_instance_trains_in_two_graphs(tmp_path):
    optimizer = tf.train.AdamOptimizer(0.05)

    def model_fn(features, labels, mode):
        w = tf.get_variable("w", [1, 1])
        loss = tf.losses.mean_squared_error(labels, tf.matmul(features["x"], w))
        return EstimatorSpec(mode, loss=loss, train_op=optimizer.minimize(loss, tf.train.get_global_step()))

    e = estimator.Estimator(model_fn, model_dir=str(tmp_path))
    e.train(train_input(), steps=2)
    e.train(train_input(), steps=2)
    assert e.get_variable_value("global_step") == 4
    assert {"w/Adam", "w/Adam_1", "beta1_power"} <= set(e.get_variable_names())


# ------------------------------------------------------------------ errors
def test_estimator_spec_errors_by_mode():
    loss = tf.constant(1.0)
    with pytest.raises(ValueError, match="^Missing train_op.$"):
        EstimatorSpec(ModeKeys.TRAIN, loss=loss)
    with pytest.raises(ValueError, match="^Missing loss.$"):
        EstimatorSpec(ModeKeys.EVAL)
    with pytest.raises(ValueError, match="^Missing predictions.$"):
        EstimatorSpec(ModeKeys.PREDICT)
    with pytest.raises(ValueError, match="Loss must be scalar, given: "):
        EstimatorSpec(ModeKeys.EVAL, loss=tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="loss must be Tensor, given: 1.0"):
        EstimatorSpec(ModeKeys.EVAL, loss=1.0)
    with pytest.raises(TypeError, match="train_op must be Operation or Tensor, given: 3"):
        EstimatorSpec(ModeKeys.TRAIN, loss=loss, train_op=3)
    with pytest.raises(TypeError, match="Values of eval_metric_ops must be \\(metric_value, update_op\\) tuples"):
        EstimatorSpec(ModeKeys.EVAL, loss=loss, eval_metric_ops={"m": loss})
    with pytest.raises(TypeError, match="All hooks must be SessionRunHook instances, given: 1"):
        EstimatorSpec(ModeKeys.EVAL, loss=loss, evaluation_hooks=[1])
    with pytest.raises(TypeError, match="scaffold must be tf.train.Scaffold. Given: x"):
        EstimatorSpec(ModeKeys.EVAL, loss=loss, scaffold="x")
    other = tf.Graph()
    with other.as_default():
        foreign = tf.constant(2.0)
    with pytest.raises(ValueError, match='loss with "Const:0" must be from the default graph'):
        EstimatorSpec(ModeKeys.EVAL, loss=foreign)
    spec = EstimatorSpec(ModeKeys.EVAL, loss=tf.reshape(loss, [1]))
    assert spec.loss.shape.ndims == 0 and spec.predictions == {} and spec.training_hooks == ()
    with pytest.raises(ValueError, match="mode of EstimatorSpec cannot be changed."):
        spec._replace(mode=ModeKeys.TRAIN)
    predict = EstimatorSpec(ModeKeys.PREDICT, predictions={"p": loss})
    assert list(predict.export_outputs) == ["serving_default"]


def test_model_fn_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="model_fn must be provided to Estimator."):
        estimator.Estimator(None)
    with pytest.raises(ValueError, match=r"model_fn \(.*\) must include features argument."):
        estimator.Estimator(lambda x, labels: None, model_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"does not include params argument, but params \({'a': 1}\) is passed"):
        estimator.Estimator(lambda features, labels: None, model_dir=str(tmp_path), params={"a": 1})
    with pytest.raises(ValueError, match=r"has following not expected args: \['other'\]"):
        estimator.Estimator(lambda features, other: None, model_dir=str(tmp_path))
    with pytest.raises(ValueError, match="config must be an instance of `RunConfig`, but provided 3."):
        estimator.Estimator(linear_model_fn, config=3, params={})
    with pytest.raises(ValueError, match="`model_dir` are set both in constructor and `RunConfig`"):
        estimator.Estimator(linear_model_fn, model_dir="/a", config=estimator.RunConfig(model_dir="/b"),
                            params={})


def test_train_and_input_errors(tmp_path):
    e = make(tmp_path)
    with pytest.raises(ValueError, match="Can not provide both steps and max_steps."):
        e.train(train_input(), steps=1, max_steps=2)
    with pytest.raises(ValueError, match="Must specify steps > 0, given: 0"):
        e.train(train_input(), steps=0)
    with pytest.raises(ValueError, match="Must specify max_steps > 0, given: -1"):
        e.train(train_input(), max_steps=-1)
    with pytest.raises(TypeError, match="Hooks must be a SessionRunHook, given: 1"):
        e.train(train_input(), steps=1, hooks=[1])
    with pytest.raises(TypeError, match="saving_listeners must be a list of CheckpointSaverListener, given: 2"):
        e.train(train_input(), steps=1, saving_listeners=[2])
    with pytest.raises(ValueError, match=r"input_fn should return \(features, labels\) as a len 2 tuple."):
        e.train(lambda: ({"x": tf.constant(X)}, tf.constant(Y), 3), steps=1)
    with pytest.raises(ValueError, match="Must specify steps > 0, given: 0"):
        e.evaluate(train_input(), steps=0)
    with pytest.raises(ValueError, match="model_fn should return an EstimatorSpec."):
        estimator.Estimator(lambda features, labels, mode: None, model_dir=str(tmp_path / "x")).train(
            train_input(), steps=1)
    with pytest.raises(ValueError, match="model_fn does not take labels, but input_fn returns labels."):
        estimator.Estimator(lambda features, mode: None, model_dir=str(tmp_path / "y")).train(train_input(), steps=1)
    assert not os.path.exists(str(tmp_path / "model"))


def test_saving_listeners_need_a_checkpoint_saver(tmp_path):
    e = make(tmp_path, save_checkpoints_secs=None, save_checkpoints_steps=None)
    with pytest.raises(ValueError, match="There should be a CheckpointSaverHook to use saving_listeners."):
        e.train(train_input(), steps=1, saving_listeners=[tf.train.CheckpointSaverListener()])


def test_no_checkpoint_errors(tmp_path):
    e = make(tmp_path)
    message = f"Could not find trained model in model_dir: {e.model_dir}."
    with pytest.raises(ValueError, match=message):
        e.get_variable_value("w")
    with pytest.raises(ValueError, match=message):
        e.get_variable_names()
    assert e.latest_checkpoint() is None


def test_predict_key_errors(tmp_path):
    e = make(tmp_path)
    e.train(train_input(), steps=1)
    with pytest.raises(ValueError, match=r"Expected to run at least one output from .*, provided \['nope'\]."):
        next(e.predict(train_input(num_epochs=1), predict_keys=["nope"]))


def test_metric_named_loss_or_global_step_is_refused(tmp_path):
    def model_fn(features, labels, mode):
        spec = linear_model_fn(features, labels, mode, {})
        return spec._replace(eval_metric_ops={"loss": tf.metrics.mean(spec.loss)})

    e = estimator.Estimator(model_fn, model_dir=str(tmp_path))
    with pytest.raises(ValueError, match='Metric with name "loss" is not allowed, because Estimator already defines'):
        e.evaluate(train_input(num_epochs=1))


def test_subclasses_cannot_override_estimator_members(tmp_path):
    class Custom(estimator.Estimator):
        def train(self, *args, **kwargs):
            return None

    with pytest.raises(ValueError, match=r"Subclasses of Estimator cannot override members of Estimator. .* does "
                                         r"override \['train'\]"):
        Custom(linear_model_fn, model_dir=str(tmp_path), params={})


def test_one_run_config_serves_several_estimators_unchanged(tmp_path):
    config = estimator.RunConfig(tf_random_seed=3)
    first = estimator.Estimator(linear_model_fn, model_dir=str(tmp_path / "a"), config=config, params={})
    second = estimator.Estimator(linear_model_fn, model_dir=str(tmp_path / "b"), config=config, params={})
    assert config.model_dir is None and config.session_config is None
    assert (first.model_dir, second.model_dir) == (str(tmp_path / "a"), str(tmp_path / "b"))
    assert first.config.session_config.allow_soft_placement


TF_1_ESTIMATOR_NAMES = [  # dir(tf.compat.v1.estimator) of TF 2.15, less what caudal leaves out (see below)
    "BaselineClassifier", "BaselineRegressor", "BestExporter", "CheckpointSaverHook", "CheckpointSaverListener",
    "DNNClassifier", "DNNLinearCombinedClassifier", "DNNLinearCombinedRegressor", "DNNRegressor", "Estimator",
    "EstimatorSpec", "EvalSpec", "Exporter", "FeedFnHook", "FinalExporter", "FinalOpsHook", "GlobalStepWaiterHook",
    "LatestExporter", "LinearClassifier", "LinearRegressor", "LoggingTensorHook", "ModeKeys",
    "NanLossDuringTrainingError", "NanTensorHook", "RunConfig", "SecondOrStepTimer", "SessionRunArgs",
    "SessionRunContext", "SessionRunHook", "SessionRunValues", "StepCounterHook", "StopAtStepHook",
    "SummarySaverHook", "TrainSpec", "VocabInfo", "WarmStartSettings", "classifier_parse_example_spec",
    "experimental", "export", "inputs", "regressor_parse_example_spec", "train_and_evaluate"]
NOT_PROVIDED = ["BaselineEstimator", "BinaryClassHead", "DNNEstimator", "DNNLinearCombinedEstimator", "Head",
                "LinearEstimator", "LogisticRegressionHead", "MultiClassHead", "MultiHead", "MultiLabelHead",
                "PoissonRegressionHead", "ProfilerHook", "RegressionHead", "add_metrics", "tpu"]


def test_namespace_has_tfs_v1_estimator_names():
    assert sorted(estimator.__all__) == sorted(TF_1_ESTIMATOR_NAMES)
    for name in TF_1_ESTIMATOR_NAMES:
        assert getattr(estimator, name) is not None
    for name in NOT_PROVIDED:
        assert not hasattr(estimator, name)
    assert sorted(estimator.inputs.__all__) == ["numpy_input_fn", "pandas_input_fn"]
    assert sorted(estimator.export.__all__) == [
        "ClassificationOutput", "ExportOutput", "PredictOutput", "RegressionOutput", "ServingInputReceiver",
        "TensorServingInputReceiver", "build_parsing_serving_input_receiver_fn", "build_raw_serving_input_receiver_fn"]
    assert sorted(estimator.experimental.__all__) == ["call_logit_fn", "dnn_logit_fn_builder",
                                                      "linear_logit_fn_builder"]


def test_predictions_of_different_batch_lengths(tmp_path):
    def model_fn(features, mode):
        v = tf.get_variable("v", [])
        return EstimatorSpec(mode, predictions={"a": features["x"] * v, "b": tf.constant([1.0])})

    e = estimator.Estimator(model_fn, model_dir=str(tmp_path))
    with pytest.raises(ValueError, match="^Batch length of predictions should be same. b has different batch "
                                         "length than others.$"):
        list(e.predict(estimator.inputs.numpy_input_fn({"x": X}, batch_size=4, shuffle=False)))
