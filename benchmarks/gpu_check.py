"""The jax backend on a machine with a GPU: checks, then the speed figures issue 12 asks for.

    pip install -e ".[jax]" "jax[cuda12]"      # jax with CUDA
    python benchmarks/gpu_check.py [--quick]

Checks (each prints PASS or FAIL; the exit status is 1 when one fails):

- jax sees a GPU, and with CAUDAL_BACKEND=jax `tf.test.is_gpu_available()`,
  `tf.test.gpu_device_name()`, `device_lib.list_local_devices()` and
  `Session.list_devices()` say so;
- a plan runs on the GPU (its variables live there), `tf.device('/cpu:0')`
  puts a stage on the CPU;
- MLP and CNN training steps on the GPU give the NumPy backend's losses and
  weights (float32 products at full precision);
- seeded random draws repeat across sessions and change between runs.

Then the benchmarks (not pass/fail, figures to report): `mlp.py --backend
jax` (caudal-on-jax against the hand-written JAX step and against the NumPy
backend; target: <= 1.1x, first call <= 1.5x, >= 5x faster than NumPy) and
`lenet.py --backend jax` (same targets against the hand-written step).
`--quick` runs fewer blocks and rounds.
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

import caudal as tf  # noqa: E402

RESULTS: list[tuple[str, bool]] = []


def check(name: str):
    def run(fn):
        try:
            fn()
            RESULTS.append((name, True))
            print(f"PASS  {name}")
        except Exception:  # noqa: BLE001 - report every failure and go on
            RESULTS.append((name, False))
            print(f"FAIL  {name}")
            traceback.print_exc()
        return fn

    return run


def _config(backend: str) -> tf.ConfigProto:
    config = tf.ConfigProto()
    config.experimental.executor_type = backend
    return config


def devices_are_reported() -> None:
    import jax

    from caudal.python.client import device_lib

    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    assert gpus, f"jax sees no GPU: {jax.devices()}"
    os.environ["CAUDAL_BACKEND"] = "jax"
    try:
        assert tf.test.is_gpu_available(), "tf.test.is_gpu_available() is False"
        assert tf.test.gpu_device_name() == "/device:GPU:0", tf.test.gpu_device_name()
        names = [d.name for d in device_lib.list_local_devices()]
        assert names == ["/device:CPU:0"] + [f"/device:GPU:{i}" for i in range(len(gpus))], names
        with tf.Session() as sess:
            assert any(d.device_type == "GPU" for d in sess.list_devices())
    finally:
        del os.environ["CAUDAL_BACKEND"]
    print(f"      {len(gpus)} GPU(s): {', '.join(d.device_kind for d in gpus)}")


def plans_run_on_the_gpu_and_cpu_placement_is_honoured() -> None:
    with tf.Graph().as_default() as graph:
        v = tf.Variable(np.ones((256, 256), np.float32))
        step = tf.assign(v, tf.matmul(v, v) / 256.0)
        with tf.device("/cpu:0"):
            on_cpu = tf.reduce_sum(v) * 2.0
        with tf.Session(graph=graph, config=_config("jax")) as sess:
            sess.run(v.initializer)
            sess.run(step)
            value = sess._store.variables[v.op.name]
            assert next(iter(value.devices())).platform == "gpu", value.devices()
            assert sess.run(on_cpu) == 2.0 * 256 * 256
            plan = next(p for p in sess._plans.values() if on_cpu in p.fetches)
            assert [s.device.platform for s in plan.stages if getattr(s, "device", None) is not None] == ["cpu"]


def _mlp(backend: str) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    x_value = rng.random((64, 100), dtype=np.float32)
    y_value = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 100])
        y = tf.placeholder(tf.float32, [None, 10])
        h = x
        for i, (n_in, n_out) in enumerate([(100, 64), (64, 32), (32, 10)]):
            w = tf.Variable(rng.normal(0, 0.2, (n_in, n_out)).astype(np.float32))
            h = tf.matmul(h, w) + tf.Variable(np.full(n_out, 0.1, np.float32))
            h = tf.nn.relu(h) if i < 2 else h
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=h))
        train = tf.train.MomentumOptimizer(0.05, 0.9).minimize(loss)
        with tf.Session(graph=graph, config=_config(backend)) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], {x: x_value, y: y_value})[0] for _ in range(5)]
            return [np.array(losses)] + sess.run(tf.trainable_variables())


def _cnn(backend: str) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    images = rng.random((16, 14, 14, 3), dtype=np.float32)
    labels = rng.integers(0, 5, 16)
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None, 14, 14, 3])
        w1 = tf.Variable(rng.normal(0, 0.2, (3, 3, 3, 8)).astype(np.float32))
        h = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, w1, [1, 1, 1, 1], "SAME")), [1, 2, 2, 1], [1, 2, 2, 1],
                           "SAME")
        w2 = tf.Variable(rng.normal(0, 0.2, (3, 3, 8, 6)).astype(np.float32))
        h = tf.nn.avg_pool(tf.nn.conv2d(h, w2, [1, 2, 2, 1], "VALID"), [1, 2, 2, 1], [1, 1, 1, 1], "SAME")
        w3 = tf.Variable(rng.normal(0, 0.2, (3 * 3 * 6, 5)).astype(np.float32))
        logits = tf.matmul(tf.reshape(h, [-1, 3 * 3 * 6]), w3)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
        train = tf.train.RMSPropOptimizer(0.01, momentum=0.9).minimize(loss)
        with tf.Session(graph=graph, config=_config(backend)) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train], {x: images})[0] for _ in range(3)]
            return [np.array(losses)] + sess.run(tf.trainable_variables())


def training_matches_numpy() -> None:
    for model in (_mlp, _cnn):
        for got, want in zip(model("jax"), model("numpy"), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=model.__name__)


def random_draws() -> None:
    def draws() -> list[np.ndarray]:
        with tf.Graph().as_default() as graph:
            tf.set_random_seed(3)
            r = tf.random_normal([1000])
            with tf.Session(graph=graph, config=_config("jax")) as sess:
                return [sess.run(r), sess.run(r)]

    first, second = draws(), draws()
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], first[1])
    assert abs(float(np.mean(first[0]))) < 0.15 and abs(float(np.std(first[0])) - 1) < 0.15


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer benchmark blocks and rounds")
    args = parser.parse_args()
    import jax

    print(f"jax {jax.__version__}; devices: {jax.devices()}")
    check("devices are reported")(devices_are_reported)
    if not RESULTS[-1][1]:
        print("no GPU: the remaining checks need one")
        return 1
    check("plans run on the GPU; /cpu:0 placement honoured")(plans_run_on_the_gpu_and_cpu_placement_is_honoured)
    check("MLP and CNN training steps match the NumPy backend")(training_matches_numpy)
    check("random draws: seeds repeat, runs differ")(random_draws)
    print("\n== benchmarks/mlp.py --backend jax")
    import mlp

    mlp.main_jax(blocks=8 if args.quick else 20)
    print("\n== benchmarks/lenet.py --backend jax")
    import _jax_lenet

    _jax_lenet.compare(os.path.join(HERE, "lenet.py"), rounds=1 if args.quick else 3)
    failed = [name for name, ok in RESULTS if not ok]
    print(f"\n{len(RESULTS) - len(failed)}/{len(RESULTS)} checks passed" + (f"; failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
