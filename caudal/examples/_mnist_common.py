"""Argument parsing and evaluation shared by the MNIST examples."""
from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np


def parse_args(argv: list[str] | None, steps: int, batch_size: int, description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data_dir", default="/tmp/tensorflow/mnist/input_data",
                        help="directory with the MNIST .gz files; the bundled sample is used if they are absent")
    parser.add_argument("--steps", type=int, default=steps, help="training steps")
    parser.add_argument("--batch_size", type=int, default=batch_size)
    parser.add_argument("--log_every", type=int, default=max(steps // 10, 1))
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


class Progress:
    """Prints `step N/M  loss L  (elapsed)` lines while training."""

    def __init__(self, total: int, every: int):
        self.total = total
        self.every = every
        self.start = time.perf_counter()

    def __call__(self, step: int, loss: float, extra: str = "") -> None:
        if step % self.every == 0 or step == self.total:
            elapsed = time.perf_counter() - self.start
            print(f"step {step:5d}/{self.total}  loss {loss:.4f}{extra}  ({elapsed:.1f} s)", flush=True)


def evaluate(sess: Any, accuracy: Any, images_ph: Any, labels_ph: Any, dataset: Any, batch_size: int = 200,
             extra_feed: dict | None = None) -> float:
    """Accuracy over a whole DataSet, in batches, weighted by batch size."""
    correct = 0.0
    n = dataset.num_examples
    for start in range(0, n, batch_size):
        images = dataset.images[start:start + batch_size]
        labels = dataset.labels[start:start + batch_size]
        feed = {images_ph: images, labels_ph: labels}
        feed.update(extra_feed or {})
        correct += float(sess.run(accuracy, feed)) * len(images)
    return correct / n


def seed_everything(tf: Any, seed: int) -> None:
    np.random.seed(seed)
    tf.set_random_seed(seed)
