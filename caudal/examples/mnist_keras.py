"""MNIST with tf.keras: a Sequential CNN (two 3x3 convolutions with max-pooling, dropout, a 128-unit dense
layer), compiled with Adam and sparse categorical crossentropy, trained by `fit` with a validation split and
Keras's progress bar, evaluated, saved to an HDF5 file, reloaded with `load_model`, and evaluated again
(the same accuracy).

    python -m caudal.examples.mnist_keras [--data_dir PATH] [--epochs N] [--train_size N] [--save PATH]

Data: `tf.keras.datasets.mnist.load_data` (the bundled 10,000 images when no MNIST files are given:
8,000 to train on, 2,000 to test). Five epochs reach about 0.97 test accuracy on the bundled sample.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any

import numpy as np

import caudal as tf


def build_model() -> Any:
    layers = tf.keras.layers
    model = tf.keras.Sequential([
        layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(0.25),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", default=None, help="MNIST .gz files or mnist.npz (bundled sample if absent)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--train_size", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--save", default=None, help="where to write the model (.h5); a temporary file otherwise")
    parser.add_argument("--verbose", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    tf.keras.backend.clear_session()
    tf.set_random_seed(args.seed)
    np.random.seed(args.seed)
    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data(args.data_dir)
    if args.train_size is not None:
        x_train, y_train = x_train[:args.train_size], y_train[:args.train_size]
    x_train = (x_train.astype("float32") / 255.0)[..., np.newaxis]
    x_test = (x_test.astype("float32") / 255.0)[..., np.newaxis]

    model = build_model()
    if args.verbose:
        model.summary()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, validation_split=0.1,
                        verbose=args.verbose)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test loss: {test_loss:.4f} - test accuracy: {test_accuracy:.4f}")

    with tempfile.TemporaryDirectory() as scratch:
        path = args.save or os.path.join(scratch, "mnist_cnn.h5")
        model.save(path)
        tf.keras.backend.clear_session()
        restored = tf.keras.models.load_model(path)
        reloaded_loss, reloaded_accuracy = restored.evaluate(x_test, y_test, verbose=0)
    print(f"after load_model: test loss: {reloaded_loss:.4f} - test accuracy: {reloaded_accuracy:.4f}")
    return {"history": history.history, "test_accuracy": float(test_accuracy),
            "reloaded_accuracy": float(reloaded_accuracy), "test_loss": float(test_loss),
            "reloaded_loss": float(reloaded_loss)}


if __name__ == "__main__":
    main()
