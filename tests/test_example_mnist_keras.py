"""The tf.keras MNIST example: a short run learns and its model reloads from the .h5 file with the same
accuracy; the full run (slow) reaches its accuracy on the bundled sample."""
import pytest

from caudal.examples import mnist_keras

NO_DATA = ["--data_dir", "/nonexistent/mnist"]


def test_mnist_keras_short_run_learns_and_reloads(tmp_path, capsys):
    path = tmp_path / "cnn.h5"
    result = mnist_keras.main(NO_DATA + ["--epochs", "1", "--train_size", "640", "--batch_size", "64",
                                         "--save", str(path)])
    assert result["test_accuracy"] >= 0.5
    assert result["reloaded_accuracy"] == result["test_accuracy"]
    assert result["reloaded_loss"] == pytest.approx(result["test_loss"], rel=1e-6)
    assert path.exists()
    out = capsys.readouterr().out
    assert 'Model: "sequential"' in out and "Train on 576 samples, validate on 64 samples" in out
    assert "576/576 [==============================] - " in out and " - val_acc: " in out


@pytest.mark.slow
def test_mnist_keras_reaches_its_accuracy():
    result = mnist_keras.main(NO_DATA + ["--verbose", "0"])
    assert result["test_accuracy"] >= 0.97
    assert result["reloaded_accuracy"] == result["test_accuracy"]
