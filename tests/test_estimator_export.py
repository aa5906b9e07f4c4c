"""Estimator.export_saved_model (TF's timestamped SavedModel, signatures per export output, reload through
tf.saved_model.loader.load), the serving input receivers and export outputs, and train_and_evaluate with
exporters, with TF's errors."""
import os

import numpy as np
import pytest

import caudal as tf
import caudal.estimator as estimator
from caudal.estimator import EstimatorSpec, ModeKeys
from caudal.estimator.export import (
    ClassificationOutput,
    PredictOutput,
    RegressionOutput,
    ServingInputReceiver,
    TensorServingInputReceiver,
)

X = np.linspace(-1, 1, 24, dtype=np.float32).reshape(-1, 2)
Y = (X[:, :1] * 2 - X[:, 1:] + 0.5).astype(np.float32)


def model_fn(features, labels, mode):
    w = tf.get_variable("w", [2, 1], initializer=tf.zeros_initializer())
    prediction = tf.matmul(features["x"], w)
    if mode == ModeKeys.PREDICT:
        return EstimatorSpec(mode, predictions={"y": prediction},
                             export_outputs={"regress": PredictOutput({"y": prediction})})
    loss = tf.losses.mean_squared_error(labels, prediction)
    train_op = tf.train.GradientDescentOptimizer(0.3).minimize(loss, global_step=tf.train.get_global_step())
    return EstimatorSpec(mode, loss=loss, train_op=train_op)


def train_input(num_epochs=None):
    return estimator.inputs.numpy_input_fn({"x": X}, Y, batch_size=4, num_epochs=num_epochs, shuffle=False)


def trained(tmp_path, steps=20):
    e = estimator.Estimator(model_fn, model_dir=str(tmp_path / "model"))
    e.train(train_input(), steps=steps)
    return e


def serving_fn():
    return estimator.export.build_raw_serving_input_receiver_fn({"x": tf.placeholder(tf.float32, [None, 2])})


def test_export_writes_a_timestamped_saved_model_that_reloads_and_predicts(tmp_path):
    e = trained(tmp_path)
    extra = tmp_path / "notes.txt"
    extra.write_text("hello")
    path = e.export_saved_model(str(tmp_path / "export"), serving_fn(), assets_extra={"docs/notes.txt": str(extra)})
    assert isinstance(path, bytes)
    name = os.path.basename(path.decode())
    assert name.isdigit() and len(name) == 10 and os.listdir(tmp_path / "export") == [name]
    assert sorted(os.listdir(path.decode())) == ["assets.extra", "saved_model.pb", "variables"]
    assert (tmp_path / "export" / name / "assets.extra" / "docs" / "notes.txt").read_text() == "hello"
    expected = np.concatenate([p["y"] for p in e.predict(estimator.inputs.numpy_input_fn(
        {"x": X}, batch_size=24, shuffle=False), yield_single_examples=False)])
    with tf.Graph().as_default(), tf.Session() as sess:
        meta_graph = tf.saved_model.loader.load(sess, [tf.saved_model.SERVING], path.decode())
        assert sorted(meta_graph.signature_def) == ["regress", "serving_default"]
        signature = meta_graph.signature_def["serving_default"]
        assert signature.method_name == "tensorflow/serving/predict"
        assert list(signature.inputs) == ["x"] and list(signature.outputs) == ["y"]
        got = sess.run(signature.outputs["y"].name, {signature.inputs["x"].name: X})
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_export_savedmodel_and_as_text(tmp_path):
    e = trained(tmp_path, steps=2)
    path = e.export_savedmodel(str(tmp_path / "export"), serving_fn(), as_text=True)
    assert "saved_model.pbtxt" in os.listdir(path.decode())


def test_export_errors(tmp_path):
    e = estimator.Estimator(model_fn, model_dir=str(tmp_path / "model"))
    with pytest.raises(ValueError, match="An input_receiver_fn must be defined."):
        e.export_saved_model(str(tmp_path / "export"), None)
    with pytest.raises(ValueError, match=f"Couldn't find trained model at {e.model_dir}."):
        e.export_saved_model(str(tmp_path / "export"), serving_fn())
    assert not os.path.exists(tmp_path / "export")


def test_default_predict_output_and_classification_signatures(tmp_path):
    def classifier_fn(features, labels, mode):
        logits = tf.layers.dense(features["x"], 3)
        probabilities = tf.nn.softmax(logits)
        classes = tf.constant([[b"a", b"b", b"c"]])
        if mode == ModeKeys.PREDICT:
            output = ClassificationOutput(scores=probabilities, classes=tf.tile(classes, [tf.shape(logits)[0], 1]))
            return EstimatorSpec(mode, predictions={"p": probabilities},
                                 export_outputs={"serving_default": output, "regress": RegressionOutput(logits[:, 0]),
                                                 "predict": PredictOutput(probabilities)})
        loss = tf.losses.sparse_softmax_cross_entropy(tf.zeros_like(labels[:, 0], tf.int32), logits)
        return EstimatorSpec(mode, loss=loss, train_op=tf.assign_add(tf.train.get_global_step(), 1))

    e = estimator.Estimator(classifier_fn, model_dir=str(tmp_path / "m"))
    e.train(train_input(), steps=1)
    spec = {"x": tf.FixedLenFeature([2], tf.float32)}
    path = e.export_saved_model(str(tmp_path / "export"),
                                estimator.export.build_parsing_serving_input_receiver_fn(spec))
    example = tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=[0.5, -0.5]))})).SerializeToString()
    with tf.Graph().as_default(), tf.Session() as sess:
        meta_graph = tf.saved_model.loader.load(sess, [tf.saved_model.SERVING], path.decode())
        assert sorted(meta_graph.signature_def) == ["predict", "regress", "serving_default"]
        classify = meta_graph.signature_def["serving_default"]
        assert classify.method_name == "tensorflow/serving/classify"
        assert list(classify.inputs) == ["inputs"] and sorted(classify.outputs) == ["classes", "scores"]
        assert classify.inputs["inputs"].name == "input_example_tensor:0"
        assert list(meta_graph.signature_def["predict"].outputs) == ["output"]
        scores, classes = sess.run([classify.outputs["scores"].name, classify.outputs["classes"].name],
                                   {"input_example_tensor:0": [example, example]})
    assert scores.shape == (2, 3) and classes.tolist() == [[b"a", b"b", b"c"]] * 2


def test_signatures_a_receiver_cannot_serve_are_left_out(tmp_path, caplog):
    import logging

    def fn(features, mode):
        v = tf.get_variable("v", [])
        y = tf.reduce_sum(features["x"], axis=1) * v
        if mode == ModeKeys.TRAIN:
            return EstimatorSpec(mode, loss=tf.identity(v), train_op=tf.assign_add(tf.train.get_global_step(), 1))
        return EstimatorSpec(mode, predictions=y, export_outputs={
            "serving_default": PredictOutput(y), "regression": RegressionOutput(y)})

    e = estimator.Estimator(fn, model_dir=str(tmp_path / "m"))
    e.train(lambda: {"x": tf.constant(X)}, steps=1)
    with caplog.at_level(logging.INFO, logger="caudal"):
        path = e.export_saved_model(str(tmp_path / "export"), serving_fn())
    assert "Signatures EXCLUDED from export because they cannot be be served via TensorFlow Serving APIs:" \
        in caplog.text
    assert "'regression' : Regression signatures can only accept a single tensor input of type tf.string." \
        in caplog.text
    with tf.Graph().as_default(), tf.Session() as sess:
        assert list(tf.saved_model.loader.load(sess, ["serve"], path.decode()).signature_def) == ["serving_default"]


def test_receivers_and_outputs_check_their_arguments():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    receiver = ServingInputReceiver(x, x)
    assert receiver.features == {"feature": x} and receiver.receiver_tensors == {"input": x}
    assert TensorServingInputReceiver(x, {"x": x}).features is x
    with pytest.raises(ValueError, match="^features must be defined.$"):
        ServingInputReceiver(None, x)
    with pytest.raises(ValueError, match="^feature y must be a Tensor, SparseTensor, or RaggedTensor.$"):
        ServingInputReceiver({"y": 3}, x)
    with pytest.raises(ValueError, match="^receiver_tensor keys must be strings: 1.$"):
        ServingInputReceiver(x, {1: x})
    with pytest.raises(ValueError, match="^receiver_tensors_alternatives must be a dict: 3.$"):
        ServingInputReceiver(x, x, receiver_tensors_alternatives=3)
    with pytest.raises(ValueError, match="^Classification scores must be a float32 Tensor; got 1$"):
        ClassificationOutput(scores=1)
    with pytest.raises(ValueError, match="^Classification classes must be a string Tensor; got "):
        ClassificationOutput(classes=x)
    with pytest.raises(ValueError, match="^Cannot create a ClassificationOutput with empty arguments."):
        ClassificationOutput()
    with pytest.raises(ValueError, match="^Regression output value must be a float32 Tensor; got 2$"):
        RegressionOutput(2)
    with pytest.raises(ValueError, match="^Prediction output value must be a Tensor; got 3.$"):
        PredictOutput({"a": 3})
    with pytest.raises(ValueError, match="^Prediction output key must be a string; got 1.$"):
        PredictOutput({1: x})
    assert list(PredictOutput(x).outputs) == ["output"]
    with pytest.raises(ValueError, match="Multiple `export_outputs` were provided, but none of them are specified as "
                                         "the default."):
        EstimatorSpec(ModeKeys.PREDICT, predictions=x, export_outputs={"a": PredictOutput(x), "b": PredictOutput(x)})
    with pytest.raises(TypeError, match="Values in `export_outputs` must be ExportOutput objects"):
        EstimatorSpec(ModeKeys.PREDICT, predictions=x, export_outputs={"a": x})


# ------------------------------------------------------------------ train_and_evaluate
def test_train_and_evaluate_evaluates_after_each_checkpoint_and_exports(tmp_path):
    config = estimator.RunConfig(save_checkpoints_steps=5)
    e = estimator.Estimator(model_fn, model_dir=str(tmp_path / "model"), config=config)
    evaluated = []

    class CountEvaluations(tf.train.SessionRunHook):
        def end(self, session):
            evaluated.append(int(session.run(tf.train.get_global_step())))

    exporters = [estimator.LatestExporter("latest", serving_fn(), exports_to_keep=1),
                 estimator.FinalExporter("final", serving_fn())]
    metrics, exports = estimator.train_and_evaluate(
        e, estimator.TrainSpec(train_input(), max_steps=12),
        estimator.EvalSpec(train_input(num_epochs=1), steps=None, exporters=exporters, throttle_secs=0,
                           hooks=[CountEvaluations()]))
    assert evaluated == [5, 10, 12]
    assert metrics["global_step"] == 12 and sorted(metrics) == ["global_step", "loss"]
    assert len(exports) == 2 and all(isinstance(p, bytes) for p in exports)
    assert len(os.listdir(os.path.join(e.model_dir, "export", "latest"))) == 1
    assert os.listdir(os.path.join(e.model_dir, "export", "final")) == [os.path.basename(exports[1].decode())]
    assert "eval" in os.listdir(e.model_dir)


def test_train_and_evaluate_spec_errors(tmp_path):
    with pytest.raises(TypeError, match="`input_fn` must be callable, given: 3"):
        estimator.TrainSpec(3)
    with pytest.raises(ValueError, match="Must specify max_steps > 0, given: 0"):
        estimator.TrainSpec(train_input(), max_steps=0)
    with pytest.raises(ValueError, match="Must specify steps > 0, given: 0"):
        estimator.EvalSpec(train_input(), steps=0)
    with pytest.raises(TypeError, match="`name` must be string, given: 1"):
        estimator.EvalSpec(train_input(), name=1)
    with pytest.raises(ValueError, match="Must specify throttle_secs >= 0, given: -1"):
        estimator.EvalSpec(train_input(), throttle_secs=-1)
    with pytest.raises(TypeError, match="`exporters` must be an Exporter, an iterable of Exporter, or `None`"):
        estimator.EvalSpec(train_input(), exporters=[3])
    with pytest.raises(ValueError, match="`exporters` must have unique names."):
        estimator.EvalSpec(train_input(), exporters=[estimator.FinalExporter("a", serving_fn())] * 2)
    with pytest.raises(ValueError, match="`exports_to_keep`, if provided, must be a positive number. Got 0"):
        estimator.LatestExporter("a", serving_fn(), exports_to_keep=0)
    e = estimator.Estimator(model_fn, model_dir=str(tmp_path))
    with pytest.raises(TypeError, match="`eval_spec` must have type `tf.estimator.EvalSpec`. Got: "):
        estimator.train_and_evaluate(e, estimator.TrainSpec(train_input()), None)
    with pytest.raises(TypeError, match="`train_spec` must have type `tf.estimator.TrainSpec`. Got: "):
        estimator.train_and_evaluate(e, None, estimator.EvalSpec(train_input()))
    with pytest.raises(TypeError, match="`estimator` must have type `tf.estimator.Estimator`. Got: "):
        estimator.train_and_evaluate(None, estimator.TrainSpec(train_input()), estimator.EvalSpec(train_input()))


def test_best_exporter_exports_only_improvements(tmp_path):
    e = trained(tmp_path, steps=2)
    exporter = estimator.BestExporter(serving_input_receiver_fn=serving_fn(), exports_to_keep=None)
    base = str(tmp_path / "best")
    checkpoint = e.latest_checkpoint()
    first = exporter.export(e, base, checkpoint, {"loss": 1.0, "global_step": 2}, False)
    assert first is not None
    assert exporter.export(e, base, checkpoint, {"loss": 2.0, "global_step": 3}, False) is None
    better = exporter.export(e, base, checkpoint, {"loss": 0.5, "global_step": 4}, False)
    assert better is not None and better != first
    assert len(os.listdir(base)) == 2
    with pytest.raises(ValueError, match=r"compare_fn \(.*\) must include current_eval_result argument."):
        estimator.BestExporter(compare_fn=lambda best_eval_result: True)
