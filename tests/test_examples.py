"""The MNIST tutorials train to their accuracy on the bundled sample (see each example's docstring).

The full runs are marked slow; a short run of each checks that training really lowers the loss.
"""
import pytest

from caudal.examples import mnist_cnn, mnist_layers, mnist_lstm, mnist_mlp, mnist_softmax

NO_DATA = ["--data_dir", "/nonexistent/mnist"]


def test_softmax_reaches_its_accuracy():
    assert mnist_softmax.main(NO_DATA) >= 0.87


def test_mlp_short_run_learns():
    assert mnist_mlp.main(NO_DATA + ["--steps", "200"]) >= 0.80


@pytest.mark.slow
def test_mlp_reaches_its_accuracy():
    assert mnist_mlp.main(NO_DATA) >= 0.94


@pytest.mark.slow
def test_cnn_reaches_its_accuracy():
    assert mnist_cnn.main(NO_DATA) >= 0.97


@pytest.mark.slow
def test_layers_cnn_reaches_its_accuracy():
    assert mnist_layers.main(NO_DATA) >= 0.97


@pytest.mark.slow
def test_dataset_cnn_reaches_its_accuracy(tmp_path):
    from caudal.examples import mnist_dataset

    assert mnist_dataset.main(NO_DATA + ["--records_dir", str(tmp_path)]) >= 0.97


def test_dataset_cnn_short_run_learns_from_the_records_it_wrote(tmp_path):
    from caudal.examples import mnist_dataset

    assert mnist_dataset.main(NO_DATA + ["--records_dir", str(tmp_path), "--steps", "60"]) >= 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test.tfrecords", "train.tfrecords"]


def test_cnn_short_runs_learn():
    assert mnist_cnn.main(NO_DATA + ["--steps", "60"]) >= 0.5
    assert mnist_layers.main(NO_DATA + ["--steps", "60"]) >= 0.5


@pytest.mark.slow
def test_lstm_reaches_its_accuracy():
    assert mnist_lstm.main(NO_DATA) >= 0.95


def test_lstm_short_run_learns():
    assert mnist_lstm.main(NO_DATA + ["--steps", "80"]) >= 0.6


def test_char_rnn_short_run_learns():
    from caudal.examples import char_rnn

    result = char_rnn.main(["--steps", "150"])
    # 150 steps take the loss from log(94) = 4.54 past the unigram plateau (~3.2) to about 2.5-2.8
    assert result["first_loss"] > result["uniform_entropy"] - 0.1
    assert result["final_loss"] < result["uniform_entropy"] - 1.5
    assert result["sample"].startswith(char_rnn.PRIME) and "\n" not in result["sample"]
