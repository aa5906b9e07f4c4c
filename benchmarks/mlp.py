"""MNIST-sized MLP training step: caudal against the same step written by hand in NumPy.

784-200-100-60-30-10 with ReLU, dropout (keep 0.75) after each hidden layer,
softmax cross-entropy and Adam(0.003), batch 100, float32. Both versions run
in this process on the same random batches, in alternating timed blocks after
warm-up. Printed: the median block of each, their ratio, and the median of the
per-block ratios (each caudal block against the NumPy block next to it, which
drift on a shared machine affects least). Target (issue 3): ratio <= 1.15.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

import caudal as tf

SIZES = [784, 200, 100, 60, 30, 10]
BATCH = 100
KEEP = 0.75
LR = 0.003
BLOCKS = 30
STEPS_PER_BLOCK = 30


def make_batches(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    batches = []
    for _ in range(n):
        x = rng.random((BATCH, 784), dtype=np.float32)
        labels = rng.integers(0, 10, BATCH)
        y = np.zeros((BATCH, 10), np.float32)
        y[np.arange(BATCH), labels] = 1
        batches.append((x, y))
    return batches


def initial_weights() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    return [((rng.standard_normal((a, b)) * 0.1).astype(np.float32), np.full(b, 0.1, np.float32))
            for a, b in zip(SIZES[:-1], SIZES[1:])]


def time_interleaved(steps: dict, batches) -> dict[str, list[float]]:
    """Milliseconds per step of each contestant in each block. Blocks alternate between the
    contestants, in turn first and second, so that the machine's drift affects both alike."""
    for step in steps.values():
        for x, y in batches[:10]:
            step(x, y)
    per_step: dict[str, list[float]] = {name: [] for name in steps}
    order = list(steps)
    for block in range(BLOCKS):
        for name in order if block % 2 == 0 else order[::-1]:
            step = steps[name]
            start = time.perf_counter()
            for i in range(STEPS_PER_BLOCK):
                x, y = batches[(block * STEPS_PER_BLOCK + i) % len(batches)]
                step(x, y)
            per_step[name].append((time.perf_counter() - start) / STEPS_PER_BLOCK * 1000)
    return per_step


def caudal_step():
    tf.reset_default_graph()
    tf.set_random_seed(0)
    x = tf.placeholder(tf.float32, [None, 784])
    y_ = tf.placeholder(tf.float32, [None, 10])
    keep_prob = tf.placeholder(tf.float32)
    hidden = x
    layers = initial_weights()
    for i, (w, b) in enumerate(layers):
        W = tf.Variable(w)
        B = tf.Variable(b)
        hidden = tf.matmul(hidden, W) + B
        if i < len(layers) - 1:
            hidden = tf.nn.dropout(tf.nn.relu(hidden), keep_prob)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=hidden))
    train = tf.train.AdamOptimizer(LR).minimize(loss)
    sess = tf.Session()
    sess.run(tf.global_variables_initializer())

    def step(xb: np.ndarray, yb: np.ndarray) -> None:
        sess.run(train, {x: xb, y_: yb, keep_prob: KEEP})

    return step


def numpy_step():
    """The same forward, backward and Adam update, written directly in NumPy."""
    rng = np.random.default_rng(2)
    params = [p for layer in initial_weights() for p in layer]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = np.float32(0.9), np.float32(0.999), np.float32(1e-8)
    state = {"t": 0}

    def step(xb: np.ndarray, yb: np.ndarray) -> None:
        activations = [xb]
        masks = []
        h = xb
        n_layers = len(params) // 2
        for i in range(n_layers):
            W, b = params[2 * i], params[2 * i + 1]
            h = h @ W + b
            if i < n_layers - 1:
                h = np.maximum(h, 0)
                mask = (rng.random(h.shape, dtype=np.float32) < KEEP) / np.float32(KEEP)
                masks.append(mask)
                h = h * mask
                activations.append(h)
        shifted = h - h.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        probs = e / e.sum(axis=1, keepdims=True)
        grad = (probs - yb) / np.float32(BATCH)
        grads = [None] * len(params)
        for i in reversed(range(n_layers)):
            grads[2 * i] = activations[i].T @ grad
            grads[2 * i + 1] = grad.sum(axis=0)
            if i > 0:
                grad = grad @ params[2 * i].T
                grad = grad * masks[i - 1] * (activations[i] > 0)
        state["t"] += 1
        t = state["t"]
        lr_t = np.float32(LR * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t))
        for p, g, mi, vi in zip(params, grads, m, v):
            mi += (1 - beta1) * (g - mi)
            vi += (1 - beta2) * (g * g - vi)
            p -= lr_t * mi / (np.sqrt(vi) + eps)

    return step


def main() -> None:
    batches = make_batches(50)
    times = time_interleaved({"caudal": caudal_step(), "numpy": numpy_step()}, batches)
    caudal_ms, numpy_ms = statistics.median(times["caudal"]), statistics.median(times["numpy"])
    paired = statistics.median(c / n for c, n in zip(times["caudal"], times["numpy"], strict=True))
    print(f"caudal: {caudal_ms:7.2f} ms per training step (median of {BLOCKS} blocks)")
    print(f"numpy:  {numpy_ms:7.2f} ms per training step (hand-written)")
    print(f"ratio:  {caudal_ms / numpy_ms:7.2f}  of the medians; {paired:.2f} median of the paired blocks "
          f"(target <= 1.15)")


if __name__ == "__main__":
    main()
