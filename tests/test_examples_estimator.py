"""The Estimator examples: Iris with a pre-made DNNClassifier (train, evaluate, predict, export and reload) and
the deep-MNIST CNN as a custom model_fn under train_and_evaluate. Short runs by default, full runs marked slow."""
import os

import pytest

from caudal.examples import iris_dnn, mnist_estimator


def test_iris_short_run_learns_and_the_export_reloads(tmp_path):
    result = iris_dnn.main(["--steps", "200", "--model_dir", str(tmp_path)])
    assert result["accuracy"] >= 0.9
    assert result["classes"] == [1, 2]
    assert result["reload_matches"]
    assert os.path.dirname(result["export_dir"]) == os.path.join(str(tmp_path), "export")


@pytest.mark.slow
def test_iris_reaches_its_accuracy(tmp_path):
    assert iris_dnn.main(["--model_dir", str(tmp_path)])["accuracy"] >= 0.93


def test_mnist_estimator_short_run_learns_and_writes_checkpoints_and_summaries(tmp_path):
    model_dir = str(tmp_path / "model")
    accuracy = mnist_estimator.main(["--data_dir", "/nonexistent/mnist", "--model_dir", model_dir, "--steps", "30",
                                     "--eval_examples", "400"])
    assert accuracy >= 0.5
    files = os.listdir(model_dir)
    assert "model.ckpt-30.index" in files and "graph.pbtxt" in files and "eval" in files
    assert any(name.startswith("events.out.tfevents") for name in files)


@pytest.mark.slow
def test_mnist_estimator_reaches_its_accuracy(tmp_path):
    assert mnist_estimator.main(["--data_dir", "/nonexistent/mnist", "--model_dir", str(tmp_path)]) >= 0.97
