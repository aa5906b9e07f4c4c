"""tf.keras callbacks in `fit`: ModelCheckpoint, EarlyStopping, ReduceLROnPlateau, TensorBoard, CSVLogger,
LearningRateScheduler, LambdaCallback and custom Callback subclasses, with TF-Keras's hook order and logs."""
from __future__ import annotations

import csv
import glob
import os

import numpy as np
import pytest

import caudal as tf

k = tf.keras


@pytest.fixture(autouse=True)
def fresh_graph():
    k.backend.clear_session()
    yield
    k.backend.clear_session()


def _model(lr=0.05):
    model = k.Sequential([k.layers.Dense(4, activation="tanh", input_shape=(3,)), k.layers.Dense(1)])
    model.compile(k.optimizers.SGD(lr), "mse", metrics=["mae"])
    return model


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, x.sum(axis=1, keepdims=True)


def test_custom_callback_sees_hooks_in_order_with_logs():
    events = []

    class Recorder(k.callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append(("train_begin", sorted(self.params)))

        def on_epoch_begin(self, epoch, logs=None):
            events.append(("epoch_begin", epoch))

        def on_train_batch_end(self, batch, logs=None):
            events.append(("batch_end", batch, logs["size"], sorted(logs)))

        def on_test_begin(self, logs=None):
            events.append(("test_begin",))

        def on_epoch_end(self, epoch, logs=None):
            events.append(("epoch_end", epoch, sorted(logs)))

        def on_train_end(self, logs=None):
            events.append(("train_end", self.model.stop_training))

    x, y = _data(10)
    _model().fit(x, y, batch_size=6, epochs=1, validation_data=(x[:3], y[:3]), callbacks=[Recorder()], verbose=0)
    assert events == [
        ("train_begin", ["batch_size", "do_validation", "epochs", "metrics", "samples", "steps", "verbose"]),
        ("epoch_begin", 0), ("batch_end", 0, 6, ["batch", "loss", "mean_absolute_error", "size"]),
        ("batch_end", 1, 4, ["batch", "loss", "mean_absolute_error", "size"]), ("test_begin",),
        ("epoch_end", 0, ["loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"]),
        ("train_end", False)]


def test_model_checkpoint_saves_the_best_epochs_only(tmp_path, capsys):
    x, y = _data()
    path = str(tmp_path / "best.h5")
    checkpoint = k.callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True, verbose=1)
    model = _model()
    model.fit(x, y, epochs=3, batch_size=4, callbacks=[checkpoint], verbose=0)
    out = capsys.readouterr().out
    assert "\nEpoch 1: loss improved from inf to " in out and f"saving model to {path}" in out
    assert os.path.exists(path) and checkpoint.best < np.inf
    restored = k.models.load_model(path)
    np.testing.assert_allclose(restored.predict(x), model.predict(x), rtol=1e-5)
    weights_path = str(tmp_path / "w_{epoch:02d}.h5")
    model.fit(x, y, epochs=2, callbacks=[k.callbacks.ModelCheckpoint(weights_path, save_weights_only=True)],
              verbose=0)
    assert sorted(os.listdir(tmp_path)) == ["best.h5", "w_01.h5", "w_02.h5"]
    worse = k.callbacks.ModelCheckpoint(str(tmp_path / "never.h5"), monitor="val_loss", save_best_only=True,
                                        verbose=1)
    model.fit(x, y, epochs=1, callbacks=[worse], verbose=0)
    assert not os.path.exists(tmp_path / "never.h5")


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = _data()
    model = _model(lr=0.5)

    class Diverge(k.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["loss"] = [1.0, 0.5, 0.7, 0.8, 0.9, 1.0][epoch]

    stopper = k.callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    snapshots = []
    record = k.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    history = model.fit(x, y, epochs=6, callbacks=[Diverge(), stopper, record], verbose=0)
    assert history.epoch == [0, 1, 2, 3] and stopper.stopped_epoch == 3 and stopper.best == 0.5
    for got, want in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(got, want)
    assert k.callbacks.EarlyStopping(monitor="val_acc").monitor_op is np.greater


def test_reduce_lr_on_plateau_and_learning_rate_scheduler(capsys):
    x, y = _data()
    model = _model()
    plateau = k.callbacks.ReduceLROnPlateau(monitor="constant", factor=0.5, patience=1, min_lr=0.01, verbose=1)

    class Constant(k.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["constant"] = 1.0

    history = model.fit(x, y, epochs=4, callbacks=[Constant(), plateau], verbose=0)
    # Each epoch logs the rate it trained with, then halves it (never below min_lr).
    np.testing.assert_allclose(history.history["lr"], [0.05, 0.05, 0.025, 0.0125], rtol=1e-6)
    assert k.backend.get_value(model.optimizer.lr) == np.float32(0.01)
    assert "ReduceLROnPlateau reducing learning rate to 0.02500000037252903." in capsys.readouterr().out
    scheduler = k.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1), verbose=1)
    history = model.fit(x, y, epochs=3, callbacks=[scheduler], verbose=0)
    np.testing.assert_allclose(history.history["lr"], [0.1, 0.05, 1 / 30], rtol=1e-6)
    assert "\nEpoch 2: LearningRateScheduler setting learning rate to 0.05.\n" in capsys.readouterr().out
    with pytest.raises(ValueError, match='The output of the "schedule" function should be float'):
        model.fit(x, y, callbacks=[k.callbacks.LearningRateScheduler(lambda epoch: "fast")], verbose=0)


def test_csv_logger_writes_keras_rows(tmp_path):
    x, y = _data()
    path = str(tmp_path / "log.csv")
    history = _model().fit(x, y, epochs=2, validation_split=0.25, callbacks=[k.callbacks.CSVLogger(path)], verbose=0)
    with open(path) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"]
    assert [row[0] for row in rows[1:]] == ["0", "1"]
    assert float(rows[2][1]) == history.history["loss"][1]
    _model().fit(x, y, epochs=1, callbacks=[k.callbacks.CSVLogger(path, append=True)], verbose=0)
    with open(path) as f:
        assert len(list(csv.reader(f))) == 4


def test_tensorboard_writes_the_graph_and_epoch_scalars(tmp_path):
    x, y = _data()
    logdir = str(tmp_path / "tb")
    board = k.callbacks.TensorBoard(logdir, histogram_freq=1)
    history = _model().fit(x, y, epochs=2, validation_split=0.25, callbacks=[board], verbose=0)
    files = glob.glob(os.path.join(logdir, "events.out.tfevents.*"))
    assert len(files) == 1
    events = list(tf.summary.summary_iterator(files[0]))
    kinds = [e.WhichOneof("what") for e in events]
    assert kinds[:3] == ["file_version", "graph_def", "meta_graph_def"]
    scalars = {(e.step, v.tag): v.simple_value for e in events for v in e.summary.value if v.HasField("simple_value")}
    assert scalars[(1, "epoch_val_loss")] == pytest.approx(history.history["val_loss"][1])
    assert {tag for _, tag in scalars} == {"epoch_loss", "epoch_mean_absolute_error", "epoch_val_loss",
                                           "epoch_val_mean_absolute_error"}
    histograms = {v.tag for e in events for v in e.summary.value if v.HasField("histo")}
    assert histograms == {"dense/kernel_0", "dense/bias_0", "dense_1/kernel_0", "dense_1/bias_0"}


def test_terminate_on_nan_and_lambda_batch_hooks():
    x, y = _data()
    seen = []
    model = _model(lr=1e20)
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[
        k.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(batch)),
        k.callbacks.TerminateOnNaN()])
    assert len(history.epoch) < 3 or not np.isfinite(history.history["loss"][-1])
    assert seen[:2] == [0, 1]


def test_tensorboard_itself_reads_the_keras_log(tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x, y = _data()
    logdir = str(tmp_path / "tb")
    history = _model().fit(x, y, epochs=3, callbacks=[k.callbacks.TensorBoard(logdir)], verbose=0)
    accumulator = event_accumulator.EventAccumulator(logdir, size_guidance={event_accumulator.SCALARS: 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    assert sorted(tags["scalars"]) == ["epoch_loss", "epoch_mean_absolute_error"] and tags["graph"] is True
    losses = accumulator.Scalars("epoch_loss")
    assert [s.step for s in losses] == [0, 1, 2]
    np.testing.assert_allclose([s.value for s in losses], history.history["loss"], rtol=1e-6)
    assert "sequential/dense/MatMul" not in {node.name for node in accumulator.Graph().node}
    assert "dense/MatMul" in {node.name for node in accumulator.Graph().node}
