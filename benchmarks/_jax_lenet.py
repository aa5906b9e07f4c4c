"""`lenet.py --backend jax`: caudal's LeNet step on the jax backend against the same step written by hand
in JAX with `jax.jit`.

Each contestant runs in fresh processes, alternately, `--rounds` times. A round reports its first step
(tracing and compilation included), the median of STEPS timed steps after WARMUP steps (each step
waits for its device work), and the final loss; the median round is printed with the ratios. Targets
(issue 12): caudal-on-jax's step at most 1.1x the hand-written one's, its first call at most 1.5x.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

CHANNELS = [1, 32, 64, 128]


def _timed(step: Any, sync: Any, warmup: int, steps: int) -> dict:
    start = time.perf_counter()
    step()
    sync()
    first = time.perf_counter() - start
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    times.sort()
    return {"first_ms": 1000 * first, "ms_per_step": 1000 * times[len(times) // 2], "min_ms": 1000 * times[0]}


def _data(batch: int) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.random((batch, 28, 28, 1), dtype=np.float32)
    onehot = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]
    return images, onehot


def run_caudal_jax(model: str, batch: int, warmup: int, steps: int) -> dict:
    """lenet.py's MODEL, built by caudal and run on the jax backend."""
    import caudal as tf

    namespace: dict = {}
    exec(model, namespace)
    images, onehot = _data(batch)
    with tf.Graph().as_default():
        x, labels, loss, train = namespace["build"](tf, lambda h, rate: tf.nn.dropout(h, rate=rate),
                                                    lambda y, logits: tf.nn.softmax_cross_entropy_with_logits_v2(
                                                        labels=y, logits=logits))
        probe = tf.trainable_variables()[-1]
        config = tf.ConfigProto()
        config.experimental.executor_type = "jax"
        with tf.Session(config=config) as sess:
            sess.run(tf.global_variables_initializer())
            feed = {x: images, labels: onehot}
            result = _timed(lambda: sess.run(train, feed), lambda: sess.run(probe), warmup, steps)
            result["loss"] = float(sess.run(loss, feed))
    return result


def run_jax(batch: int, warmup: int, steps: int) -> dict:
    """The same model and RMSProp(0.001, decay 0.9) step (TF1's: mean square starts at 1), by hand;
    float32 products and convolutions at full precision, as caudal computes them."""
    import jax
    import jax.numpy as jnp
    from jax import lax

    key = jax.random.PRNGKey(0)
    params = []
    for i in range(3):
        key, sub = jax.random.split(key)
        w = jax.random.truncated_normal(sub, -2, 2, (3, 3, CHANNELS[i], CHANNELS[i + 1])) * 0.1
        params.append((w, jnp.full((CHANNELS[i + 1],), 0.1, jnp.float32)))
    for n_in, n_out, stddev in ((2048, 512, 0.02), (512, 10, 0.05)):
        key, sub = jax.random.split(key)
        params.append((jax.random.truncated_normal(sub, -2, 2, (n_in, n_out)) * stddev,
                       jnp.full((n_out,), 0.1, jnp.float32)))
    state = {"params": params, "ms": jax.tree_util.tree_map(jnp.ones_like, params),
             "mom": jax.tree_util.tree_map(jnp.zeros_like, params), "key": key}

    def dropout(h: Any, rate: float, k: Any) -> Any:
        keep = jax.random.uniform(k, h.shape) >= rate
        return jnp.where(keep, h / (1 - rate), 0.0)

    def loss_fn(params: Any, k: Any, x: Any, y: Any) -> Any:
        h = x
        for w, b in params[:3]:
            h = lax.conv_general_dilated(h, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
            h = jax.nn.relu(h + b)
            h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")
        k1, k2 = jax.random.split(k)
        h = dropout(h.reshape(-1, 4 * 4 * 128), 0.25, k1)
        h = dropout(jax.nn.relu(h @ params[3][0] + params[3][1]), 0.5, k2)
        logits = h @ params[4][0] + params[4][1]
        return jnp.mean(-jnp.sum(y * jax.nn.log_softmax(logits), axis=1))

    def update(params: Any, ms: Any, mom: Any, k: Any, x: Any, y: Any) -> tuple:
        k, sub = jax.random.split(k)
        with jax.default_matmul_precision("highest"):  # as caudal computes float32 products
            loss, grads = jax.value_and_grad(loss_fn)(params, sub, x, y)
        ms = jax.tree_util.tree_map(lambda s, g: 0.9 * s + 0.1 * g * g, ms, grads)
        mom = jax.tree_util.tree_map(lambda m, g, s: 0.0 * m + 0.001 * g / jnp.sqrt(s + 1e-10), mom, grads, ms)
        params = jax.tree_util.tree_map(lambda p, m: p - m, params, mom)
        return params, ms, mom, k, loss

    update = jax.jit(update, donate_argnums=(0, 1, 2))
    images, onehot = _data(batch)
    last = {}

    def step() -> None:
        state["params"], state["ms"], state["mom"], state["key"], last["loss"] = update(
            state["params"], state["ms"], state["mom"], state["key"], images, onehot)

    result = _timed(step, lambda: jax.block_until_ready(state["params"]), warmup, steps)
    result["loss"] = float(last["loss"])
    return result


def child(which: str, model: str, batch: int, warmup: int, steps: int) -> None:
    result = run_caudal_jax(model, batch, warmup, steps) if which == "caudal-jax" else run_jax(batch, warmup, steps)
    import jax

    result["device"] = f"{jax.devices()[0].device_kind} ({jax.default_backend()})"
    print(json.dumps(result))


def compare(script: str, rounds: int) -> dict:
    """Alternating fresh-process rounds of both contestants; prints and returns the medians."""
    results: dict[str, list[dict]] = {"caudal-jax": [], "jax": []}
    for _ in range(max(rounds, 1)):
        for which in results:
            out = subprocess.run([sys.executable, os.path.abspath(script), "--jax-child", which], check=True,
                                 capture_output=True, text=True)
            results[which].append(json.loads(out.stdout.strip().splitlines()[-1]))
    summary = {}
    for which, rows in results.items():
        steps = sorted(r["ms_per_step"] for r in rows)
        firsts = sorted(r["first_ms"] for r in rows)
        summary[which] = {"ms_per_step": steps[len(steps) // 2], "first_ms": firsts[len(firsts) // 2],
                          "loss": rows[0]["loss"]}
    print(f"device: {results['jax'][0]['device']}")
    for which, row in summary.items():
        per_round = ", ".join(f"{r['ms_per_step']:.1f}" for r in results[which])
        print(f"{which:11s} {row['ms_per_step']:8.2f} ms/step  first call {row['first_ms']:8.1f} ms  "
              f"loss {row['loss']:.4f}  rounds {per_round}")
    step_ratio = summary["caudal-jax"]["ms_per_step"] / summary["jax"]["ms_per_step"]
    first_ratio = summary["caudal-jax"]["first_ms"] / summary["jax"]["first_ms"]
    print(f"ratio caudal-jax/jax: step {step_ratio:.2f} (target <= 1.1); first call {first_ratio:.2f} "
          "(target <= 1.5)")
    return {"step_ratio": step_ratio, "first_call_ratio": first_ratio, **summary}
