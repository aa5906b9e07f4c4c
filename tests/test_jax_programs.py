"""Whole programs on the jax backend: the seed programs, training steps against the NumPy backend,
and the MNIST tutorials reaching their accuracy.

Run with `pytest -m jax`.
"""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf
from tests import test_seed_programs

pytestmark = pytest.mark.jax
pytest.importorskip("jax")

NO_DATA = ["--data_dir", "/nonexistent/mnist"]


def _config(backend: str) -> tf.ConfigProto:
    config = tf.ConfigProto()
    config.experimental.executor_type = backend
    return config


@pytest.mark.parametrize("test", ["test_basics", "test_bisection", "test_perceptron", "test_circle_learns"])
def test_seed_programs_on_jax(monkeypatch, test: str) -> None:
    """tests/test_seed_programs.py's checks, the programs run unchanged with CAUDAL_BACKEND=jax."""
    monkeypatch.setenv("CAUDAL_BACKEND", "jax")
    getattr(test_seed_programs, test)()


def _mlp_steps(backend: str, steps: int = 3) -> list[np.ndarray]:
    """ReLU layers with biases, softmax cross-entropy and Adam, from fixed weights: the loss of each
    step and the final weights."""
    rng = np.random.default_rng(0)
    x_value = rng.random((32, 20), dtype=np.float32)
    y_value = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 32)]
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 20])
        y = tf.placeholder(tf.float32, [None, 4])
        h = x
        for i, (n_in, n_out) in enumerate([(20, 16), (16, 8), (8, 4)]):
            w = tf.Variable(rng.normal(0, 0.3, (n_in, n_out)).astype(np.float32), name=f"w{i}")
            h = tf.nn.bias_add(tf.matmul(h, w), tf.Variable(tf.fill([n_out], 0.1), name=f"b{i}"))
            if i < 2:
                h = tf.nn.relu(h)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=h))
        train = tf.train.AdamOptimizer(0.01).minimize(loss)
        with tf.Session(graph=graph, config=_config(backend)) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], {x: x_value, y: y_value})[0] for _ in range(steps)]
            return [np.array(losses)] + sess.run(tf.trainable_variables())


def _cnn_steps(backend: str, steps: int = 3) -> list[np.ndarray]:
    """SAME and VALID convolutions, max and average pooling, a dense layer and RMSProp with momentum."""
    rng = np.random.default_rng(1)
    images = rng.random((6, 10, 10, 2), dtype=np.float32)
    labels = rng.integers(0, 3, 6)
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 10, 10, 2])
        w1 = tf.Variable(rng.normal(0, 0.2, (3, 3, 2, 8)).astype(np.float32))
        h = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, w1, [1, 1, 1, 1], "SAME")), [1, 2, 2, 1], [1, 2, 2, 1],
                           "SAME")
        w2 = tf.Variable(rng.normal(0, 0.2, (2, 2, 8, 6)).astype(np.float32))
        h = tf.nn.avg_pool(tf.nn.conv2d(h, w2, [1, 2, 2, 1], "VALID"), [1, 2, 2, 1], [1, 1, 1, 1], "SAME")
        w3 = tf.Variable(rng.normal(0, 0.2, (24, 3)).astype(np.float32))
        logits = tf.matmul(tf.reshape(h, [-1, 2 * 2 * 6]), w3)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        train = tf.train.RMSPropOptimizer(0.01, momentum=0.9).minimize(loss)
        with tf.Session(graph=graph, config=_config(backend)) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], {x: images})[0] for _ in range(steps)]
            return [np.array(losses)] + sess.run(tf.trainable_variables())


@pytest.mark.parametrize("model", [_mlp_steps, _cnn_steps], ids=["mlp", "cnn"])
def test_training_steps_match_the_numpy_backend(model) -> None:
    on_jax, on_numpy = model("jax"), model("numpy")
    assert len(on_jax) == len(on_numpy)
    for j, n in zip(on_jax, on_numpy):
        assert j.dtype == n.dtype and j.shape == n.shape
        np.testing.assert_allclose(j, n, rtol=1e-5, atol=1e-5)


def test_mnist_softmax_reaches_the_numpy_backends_accuracy(monkeypatch) -> None:
    """The beginners' tutorial (zero initial weights, so both backends train the same model): the
    same test accuracy, to a prediction or two of the 10,000."""
    from caudal.examples import mnist_softmax

    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")
    on_numpy = mnist_softmax.main(NO_DATA + ["--steps", "300"])
    monkeypatch.setenv("CAUDAL_BACKEND", "jax")
    on_jax = mnist_softmax.main(NO_DATA + ["--steps", "300"])
    assert on_numpy >= 0.85
    assert abs(on_jax - on_numpy) <= 0.0003


def test_mnist_cnn_short_run_learns_on_jax(monkeypatch) -> None:
    from caudal.examples import mnist_cnn

    monkeypatch.setenv("CAUDAL_BACKEND", "jax")
    assert mnist_cnn.main(NO_DATA + ["--steps", "60"]) >= 0.5


def test_mnist_mlp_reaches_its_accuracy_on_jax(monkeypatch) -> None:
    """The full MLP tutorial (3000 steps; dropout draws from jax keys): the accuracy the NumPy
    backend's run must reach (tests/test_examples.py)."""
    from caudal.examples import mnist_mlp

    monkeypatch.setenv("CAUDAL_BACKEND", "jax")
    assert mnist_mlp.main(NO_DATA) >= 0.94


def test_mnist_lstm_short_run_learns_on_jax(monkeypatch) -> None:
    """dynamic_rnn's forward and backward loops compiled (TensorArrays, TensorList histories)."""
    from caudal.examples import mnist_lstm

    monkeypatch.setenv("CAUDAL_BACKEND", "jax")
    assert mnist_lstm.main(NO_DATA + ["--steps", "80"]) >= 0.6
