"""Bad inputs to an Estimator fail with TF's errors and leave model_dir as it was: a model_fn without a
train_op, a feature column whose key the input lacks, a model_dir holding an incompatible checkpoint; and
a training process killed with SIGKILL resumes from its last checkpoint."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import caudal as tf
import caudal.estimator as estimator
import caudal.feature_column as fc

X = np.random.RandomState(1).uniform(-1, 1, (32, 2)).astype(np.float32)
Y = (X[:, :1] > 0).astype(np.int64)


def train_input():
    return estimator.inputs.numpy_input_fn({"x": X}, Y, batch_size=8, num_epochs=None, shuffle=False)


def snapshot(model_dir):
    """Every file of model_dir with its bytes."""
    found = {}
    for root, _, files in os.walk(model_dir):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, model_dir)] = f.read()
    return found


@pytest.fixture
def trained_dir(tmp_path):
    model_dir = str(tmp_path / "model")
    estimator.DNNClassifier([4], [fc.numeric_column("x", shape=[2])], model_dir=model_dir).train(
        train_input(), steps=3)
    return model_dir


def test_model_fn_without_train_op_in_train_mode(tmp_path):
    def model_fn(features, labels, mode):
        w = tf.get_variable("w", [2, 1])
        loss = tf.reduce_mean(tf.matmul(features["x"], w))
        return estimator.EstimatorSpec(mode, loss=loss)

    e = estimator.Estimator(model_fn, model_dir=str(tmp_path / "model"))
    with pytest.raises(ValueError, match="^Missing train_op.$"):
        e.train(train_input(), steps=1)
    assert not os.path.exists(e.model_dir) or not os.listdir(e.model_dir)


def test_feature_column_key_missing_from_the_input(trained_dir):
    before = snapshot(trained_dir)
    e = estimator.DNNClassifier([4], [fc.numeric_column("x", shape=[2]), fc.numeric_column("age")],
                                model_dir=trained_dir)
    with pytest.raises(ValueError, match="^Feature age is not in features dictionary.$"):
        e.train(train_input(), steps=1)
    with pytest.raises(ValueError, match="^Feature age is not in features dictionary.$"):
        e.evaluate(estimator.inputs.numpy_input_fn({"x": X}, Y, shuffle=False))
    assert snapshot(trained_dir) == before


def test_incompatible_checkpoint_names_the_shapes_and_changes_nothing(trained_dir):
    before = snapshot(trained_dir)
    wider = estimator.DNNClassifier([5], [fc.numeric_column("x", shape=[2])], model_dir=trained_dir)
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        wider.train(train_input(), steps=1)
    message = str(info.value)
    assert message.startswith("Restoring from checkpoint failed. This is most likely due to a mismatch between the "
                              "current graph and the graph from the checkpoint.")
    assert "Assign requires shapes of both tensors to match. lhs shape= [5] rhs shape= [4]" in message
    with pytest.raises(tf.errors.InvalidArgumentError, match="lhs shape= \\[5\\] rhs shape= \\[4\\]"):
        wider.evaluate(estimator.inputs.numpy_input_fn({"x": X}, Y, shuffle=False))
    with pytest.raises(tf.errors.InvalidArgumentError, match="lhs shape= \\[5\\] rhs shape= \\[4\\]"):
        next(wider.predict(estimator.inputs.numpy_input_fn({"x": X}, shuffle=False)))
    after = snapshot(trained_dir)
    assert {k: v for k, v in after.items() if not k.startswith("eval")} == before


def test_checkpoint_missing_a_variable(trained_dir):
    deeper = estimator.DNNClassifier([4, 2], [fc.numeric_column("x", shape=[2])], model_dir=trained_dir)
    with pytest.raises(tf.errors.NotFoundError, match="Restoring from checkpoint failed. This is most likely due to "
                                                      "a Variable name or other graph key that is missing"):
        deeper.train(train_input(), steps=1)
    with pytest.raises(ValueError, match="Could not load all requested variables from checkpoint. Please make sure "
                                         "your model_fn does not expect variables that were not saved in the "
                                         "checkpoint.\n\nEncountered error with mode `infer` while restoring "
                                         "checkpoint from: "):
        deeper.export_saved_model(os.path.join(trained_dir, "export"),
                                  estimator.export.build_raw_serving_input_receiver_fn({"x": tf.constant(X)}))


_TRAINER = """
import sys, time
import numpy as np
import caudal as tf
import caudal.estimator as estimator

class Slow(tf.train.SessionRunHook):
    def after_run(self, run_context, run_values):
        time.sleep(0.01)

def model_fn(features, labels, mode):
    w = tf.get_variable("w", [2, 1])
    loss = tf.losses.mean_squared_error(labels, tf.matmul(features["x"], w))
    return estimator.EstimatorSpec(mode, loss=loss, train_op=tf.train.GradientDescentOptimizer(0.01).minimize(
        loss, global_step=tf.train.get_global_step()))

x = np.random.RandomState(0).uniform(size=(64, 2)).astype(np.float32)
input_fn = estimator.inputs.numpy_input_fn({"x": x}, x[:, :1] * 2, batch_size=8, num_epochs=None, shuffle=False)
config = estimator.RunConfig(save_checkpoints_steps=10, keep_checkpoint_max=3)
estimator.Estimator(model_fn, model_dir=sys.argv[1], config=config).train(input_fn, steps=100000, hooks=[Slow()])
"""


def test_training_killed_by_sigkill_resumes_from_its_last_checkpoint(tmp_path):
    script = tmp_path / "trainer.py"
    script.write_text(_TRAINER)
    model_dir = str(tmp_path / "model")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd()] + sys.path))
    process = subprocess.Popen([sys.executable, str(script), model_dir], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            latest = tf.train.latest_checkpoint(model_dir) if os.path.isdir(model_dir) else None
            if latest and int(latest.rsplit("-", 1)[1]) >= 30:
                break
            assert process.poll() is None, "the trainer ended before it was killed"
            time.sleep(0.1)
        else:
            pytest.fail("no checkpoint at step 30 within the time limit")
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    def model_fn(features, labels, mode):
        w = tf.get_variable("w", [2, 1])
        loss = tf.losses.mean_squared_error(labels, tf.matmul(features["x"], w))
        return estimator.EstimatorSpec(mode, loss=loss, train_op=tf.train.GradientDescentOptimizer(0.01).minimize(
            loss, global_step=tf.train.get_global_step()))

    x = np.random.RandomState(0).uniform(size=(64, 2)).astype(np.float32)
    resumed = estimator.Estimator(model_fn, model_dir=model_dir)
    last = int(resumed.latest_checkpoint().rsplit("-", 1)[1])
    assert last >= 30 and last % 10 == 0
    weights = tf.train.load_variable(model_dir, "w")
    resumed.train(estimator.inputs.numpy_input_fn({"x": x}, x[:, :1] * 2, batch_size=8, num_epochs=None,
                                                  shuffle=False), steps=5)
    assert resumed.get_variable_value("global_step") == last + 5
    assert not np.array_equal(resumed.get_variable_value("w"), weights)
