"""MNIST-sized MLP training step: caudal against the same step written by hand in NumPy (or JAX).

784-200-100-60-30-10 with ReLU, dropout (keep 0.75) after each hidden layer,
softmax cross-entropy and Adam(0.003), batch 100, float32. Both versions run
in this process on the same random batches, in alternating timed blocks after
warm-up. Printed: the median block of each, their ratio, and the median of the
per-block ratios (each caudal block against the NumPy block next to it, which
drift on a shared machine affects least). Target (issue 3): ratio <= 1.15.

    python benchmarks/mlp.py                  # caudal (numpy backend) against NumPy by hand
    python benchmarks/mlp.py --backend jax    # caudal on jax against the step written with jax.jit
    python benchmarks/mlp.py --jax PYTHON     # caudal (default backend) against jax.jit run by PYTHON
    python benchmarks/mlp.py --profile        # caudal's step (default backend): milliseconds per op type

With `--backend jax` the contestants are caudal on the jax backend, the same
step written by hand in JAX (one `jax.jit` of forward, `jax.grad` and Adam,
parameters donated), and caudal on the NumPy backend; each block ends when
its device work has finished. Also printed: each one's first call (tracing
and compilation included). Targets (issue 12): caudal-on-jax at most 1.1x the
hand-written step, its first call at most 1.5x; on a GPU, at least 5x faster
than the NumPy backend.

With `--jax PYTHON` (an interpreter with jax, such as a scratch virtual
environment), caudal on its default backend (`fast_cpu` when the fast extra is
installed) runs here and the hand-written `jax.jit` step in a child process of
PYTHON, in alternating blocks (30 each, `--blocks`) of 300 timed steps after
0.45 s of untimed ones; the child waits on a pipe while caudal runs. Printed: the ratio
of the medians, and the median and quartiles of the paired blocks' ratios.
Target (issue 16): caudal at most 1.0x.
Both are timed in their steady state: jax's figure leaves out its first call
(XLA's compilation), and caudal first runs the steps after which fast_cpu has
loaded numba's loops (rent or buy, `caudal.backends.fast_cpu.loops.LOAD_SECONDS`:
about 2,000 steps of this model, which a training run of a few epochs passes);
its step time before that is printed too.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

SIZES = [784, 200, 100, 60, 30, 10]
BATCH = 100
KEEP = 0.75
LR = 0.003
BLOCKS = 30
# With --jax: alternating blocks of each contestant, each of JAX_STEPS timed steps after WARM_STEPS
# untimed ones that take WARM_S seconds at least.
JAX_BLOCKS = 30
JAX_STEPS = 300
WARM_STEPS = 50
WARM_S = 0.45
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


def time_interleaved(steps: dict, batches, syncs: dict | None = None, blocks: int = BLOCKS) -> dict[str, list[float]]:
    """Milliseconds per step of each contestant in each block. Blocks alternate between the
    contestants, in turn first and second, so that the machine's drift affects both alike.
    `syncs[name]()`, when given, waits for the contestant's queued device work at the end of a block."""
    syncs = syncs or {}
    for name, step in steps.items():
        for x, y in batches[:10]:
            step(x, y)
        syncs.get(name, lambda: None)()
    per_step: dict[str, list[float]] = {name: [] for name in steps}
    order = list(steps)
    for block in range(blocks):
        for name in order if block % 2 == 0 else order[::-1]:
            step = steps[name]
            sync = syncs.get(name, lambda: None)
            start = time.perf_counter()
            for i in range(STEPS_PER_BLOCK):
                x, y = batches[(block * STEPS_PER_BLOCK + i) % len(batches)]
                step(x, y)
            sync()
            per_step[name].append((time.perf_counter() - start) / STEPS_PER_BLOCK * 1000)
    return per_step


def caudal_step(backend: str = "numpy", with_sync: bool = False):
    import caudal as tf  # here, so that the jax contestant's interpreter needs jax alone

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
    optimizer = tf.train.AdamOptimizer(LR)
    train = optimizer.minimize(loss)
    config = tf.ConfigProto()
    config.experimental.executor_type = backend
    sess = tf.Session(config=config)
    sess.run(tf.global_variables_initializer())

    def step(xb: np.ndarray, yb: np.ndarray) -> None:
        sess.run(train, {x: xb, y_: yb, keep_prob: KEEP})

    if not with_sync:
        return step
    beta1_power = optimizer._get_beta_accumulators()[0]

    def sync() -> None:
        sess.run(beta1_power)  # written by the same compiled call as every other variable: waits for it

    return step, sync


def jax_step():
    """The same forward pass, gradient (jax.grad), dropout (jax.random) and Adam update, in one
    `jax.jit` that donates the parameters and Adam's moments; float32 products at full precision,
    as caudal computes them (on GPUs, jax's default would be TensorFloat-32)."""
    import functools

    import jax
    import jax.numpy as jnp

    layers = [(jnp.asarray(w), jnp.asarray(b)) for w, b in initial_weights()]
    state = {"params": layers, "m": jax.tree_util.tree_map(jnp.zeros_like, layers),
             "v": jax.tree_util.tree_map(jnp.zeros_like, layers), "t": jnp.zeros((), jnp.float32),
             "key": jax.random.PRNGKey(2)}

    def loss_fn(params, key, xb, yb):
        h = xb
        for i, (w, b) in enumerate(params):
            h = h @ w + b
            if i < len(params) - 1:
                key, sub = jax.random.split(key)
                keep = jax.random.uniform(sub, h.shape) < KEEP
                h = jnp.where(keep, jax.nn.relu(h) / KEEP, 0.0)
        return jnp.mean(-jnp.sum(yb * jax.nn.log_softmax(h), axis=1))

    @functools.partial(jax.jit, donate_argnums=(0, 1, 2))
    def update(params, m, v, t, key, xb, yb):
        key, sub = jax.random.split(key)
        with jax.default_matmul_precision("highest"):  # as caudal computes float32 products
            loss, grads = jax.value_and_grad(loss_fn)(params, sub, xb, yb)
        t = t + 1
        lr_t = LR * jnp.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        m = jax.tree_util.tree_map(lambda mi, g: mi + (1 - 0.9) * (g - mi), m, grads)
        v = jax.tree_util.tree_map(lambda vi, g: vi + (1 - 0.999) * (g * g - vi), v, grads)
        params = jax.tree_util.tree_map(lambda p, mi, vi: p - lr_t * mi / (jnp.sqrt(vi) + 1e-8), params, m, v)
        return params, m, v, t, key, loss

    def step(xb: np.ndarray, yb: np.ndarray) -> None:
        (state["params"], state["m"], state["v"], state["t"], state["key"], _) = update(
            state["params"], state["m"], state["v"], state["t"], state["key"], xb, yb)

    def sync() -> None:
        jax.block_until_ready(state["params"])

    return step, sync


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


def first_call_ms(make, batch) -> tuple:
    """(step, sync, milliseconds of the first step including its tracing and compilation)."""
    step, sync = make()
    start = time.perf_counter()
    step(*batch)
    sync()
    return step, sync, (time.perf_counter() - start) * 1000


def main_jax(blocks: int = BLOCKS) -> dict:
    """caudal on jax, the hand-written JAX step and caudal on NumPy; returns the figures it prints."""
    import jax

    batches = make_batches(50)
    contestants = {"caudal-jax": lambda: caudal_step("jax", with_sync=True), "jax": jax_step,
                   "caudal-numpy": lambda: caudal_step("numpy", with_sync=True)}
    steps, syncs, first = {}, {}, {}
    for name in ("jax", "caudal-jax", "jax", "caudal-jax"):
        # Alternately, twice each: jax's own caches (primitives' lowering rules, ...) warm up in the
        # first pair, so the second pair's first calls compare the compilations alone.
        steps[name], syncs[name], first[name] = first_call_ms(contestants[name], batches[0])
    steps["caudal-numpy"], syncs["caudal-numpy"], first["caudal-numpy"] = first_call_ms(
        contestants["caudal-numpy"], batches[0])
    times = time_interleaved(steps, batches, syncs, blocks)
    medians = {name: statistics.median(t) for name, t in times.items()}
    paired = statistics.median(c / j for c, j in zip(times["caudal-jax"], times["jax"], strict=True))
    print(f"device: {jax.devices()[0].device_kind} ({jax.default_backend()})")
    for name in ("caudal-jax", "jax", "caudal-numpy"):
        print(f"{name:13s} {medians[name]:8.3f} ms per training step (median of {blocks} blocks); "
              f"first call {first[name]:8.1f} ms")
    step_ratio = medians["caudal-jax"] / medians["jax"]
    compile_ratio = first["caudal-jax"] / first["jax"]
    speedup = medians["caudal-numpy"] / medians["caudal-jax"]
    print(f"ratio caudal-jax/jax: step {step_ratio:.2f} of the medians, {paired:.2f} median of the paired blocks "
          f"(target <= 1.1); first call {compile_ratio:.2f} (target <= 1.5)")
    print(f"caudal-jax is {speedup:.1f}x as fast as caudal-numpy (target on a GPU: >= 5)")
    return {"caudal_jax_ms": medians["caudal-jax"], "jax_ms": medians["jax"], "numpy_ms": medians["caudal-numpy"],
            "step_ratio": step_ratio, "paired_ratio": paired, "first_call_ratio": compile_ratio,
            "speedup_over_numpy": speedup, "first_call_ms": first}


def jax_server() -> None:
    """`--jax-server`: the hand-written JAX step in this (scratch) interpreter, warmed up; then, for each
    block number read from stdin, that block's steps, answering milliseconds per step on stdout."""
    import sys

    step, sync = jax_step()
    batches = make_batches(50)
    for x, y in batches[:10]:
        step(x, y)
    sync()
    print("ready", flush=True)
    for line in sys.stdin:
        print(_block_ms(step, sync, batches, int(line)), flush=True)


def _block_ms(step, sync, batches, block: int) -> float:
    """Milliseconds per step of one block of `step` (numbered `block`: which batches it takes), after
    untimed steps (`WARM_STEPS`, and for `WARM_S` at least). Right after the other contestant's block
    the caches hold its data, idle cores are slow to wake on a VM (a 25 ms pause made the next steps
    19% slower), and caudal's thread policy, which samples the machine's busy time over 0.2 s windows
    (caudal.framework.threads), sees that block as another process keeping a core busy and runs its
    mid-sized kernels on one thread (the MLP step 0.89-1.09x jax's with a 50-step warm-up, 0.88x
    with its windows idle): none of that is the steady state of a training loop on an idle machine."""
    i = 0
    start = time.perf_counter()
    while i < WARM_STEPS or time.perf_counter() - start < WARM_S:
        step(*batches[(block + i) % len(batches)])
        i += 1
    sync()
    start = time.perf_counter()
    for i in range(JAX_STEPS):
        step(*batches[(block * JAX_STEPS + i) % len(batches)])
    sync()
    return (time.perf_counter() - start) / JAX_STEPS * 1000


def main_against_jax(python: str, blocks: int) -> None:
    """caudal on its default backend against the hand-written `jax.jit` step run by `python` (an
    interpreter with jax, e.g. a scratch virtual environment) in a child process: blocks of steps
    alternate between the two (the child waits on a pipe while caudal runs, and caudal while it
    runs), each pair in turn first, so that the machine's drift, which moved 30-50% within minutes
    on a shared 2-core VM, affects both alike."""
    import subprocess

    batches = make_batches(50)
    backend = _default_backend()
    step = caudal_step(backend)
    if backend == "fast_cpu":
        before = statistics.median(time_interleaved({"caudal": step}, batches, blocks=BLOCKS)["caudal"])
        steps = _steps_until_loops_load(step, batches)
        print(f"caudal (fast_cpu) before numba's loops load: {before:7.3f} ms per training step; "
              f"they loaded after {steps} more steps")
    for x, y in batches[:10]:
        step(x, y)
    child = subprocess.Popen([python, __file__, "--jax-server"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError("the jax child did not start")

        def jax_block(block: int) -> float:
            child.stdin.write(f"{block}\n")
            child.stdin.flush()
            return float(child.stdout.readline())

        contestants = {"caudal": lambda block: _block_ms(step, lambda: None, batches, block), "jax": jax_block}
        times: dict[str, list[float]] = {"caudal": [], "jax": []}
        for block in range(blocks):
            for name in ("caudal", "jax") if block % 2 == 0 else ("jax", "caudal"):
                times[name].append(contestants[name](block))
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
    mine, theirs = statistics.median(times["caudal"]), statistics.median(times["jax"])
    paired = statistics.median(c / j for c, j in zip(times["caudal"], times["jax"], strict=True))
    quartiles = statistics.quantiles([c / j for c, j in zip(times["caudal"], times["jax"], strict=True)], n=4)
    print(f"caudal ({backend}): {mine:7.3f} ms per training step (median of {blocks} blocks of {JAX_STEPS})")
    print(f"jax.jit by hand:   {theirs:7.3f} ms per training step ({python})")
    print(f"ratio caudal/jax: {mine / theirs:.2f} of the medians; {paired:.2f} median of the paired blocks "
          f"(quartiles {quartiles[0]:.2f}-{quartiles[2]:.2f}; target <= 1.0)")


def _steps_until_loops_load(step, batches, limit: int = 10_000) -> int:
    """Runs `step` until fast_cpu has loaded numba's loops (at most `limit` steps); returns how many ran."""
    from caudal.backends.fast_cpu import loops

    count = 0
    while not loops.loaded() and count < limit:
        step(*batches[count % len(batches)])
        count += 1
    return count


def profile_ops(steps: int = 1000) -> None:
    """`--profile`: caudal's steady step on its default backend (on fast_cpu, once numba's loops have
    loaded), milliseconds per op type (_op_profile.py)."""
    import _op_profile

    _op_profile.install()
    backend = _default_backend()
    step = caudal_step(backend)
    batches = make_batches(50)
    for x, y in batches[:20]:
        step(x, y)
    if backend == "fast_cpu":
        _steps_until_loops_load(step, batches)
    _op_profile.start()
    start = time.perf_counter()
    for i in range(steps):
        step(*batches[i % len(batches)])
    print(_op_profile.report(steps, 1000 * (time.perf_counter() - start) / steps))


def _default_backend() -> str:
    from caudal import backends

    return backends.default_backend_name()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["numpy", "jax"], default="numpy",
                        help="jax: caudal on the jax backend against the step written with jax.jit")
    parser.add_argument("--blocks", type=int, default=BLOCKS, help=f"timed blocks per contestant ({BLOCKS})")
    parser.add_argument("--jax", metavar="PYTHON",
                        help="an interpreter with jax: caudal (default backend) against the step written with jax.jit")
    parser.add_argument("--jax-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="caudal's step: milliseconds per op type")
    args = parser.parse_args()
    if args.profile:
        profile_ops()
        return
    if args.jax_server:
        jax_server()
        return
    if args.jax:
        main_against_jax(args.jax, args.blocks if args.blocks != BLOCKS else JAX_BLOCKS)
        return
    if args.backend == "jax":
        main_jax(args.blocks)
        return
    batches = make_batches(50)
    times = time_interleaved({"caudal": caudal_step(), "numpy": numpy_step()}, batches, blocks=args.blocks)
    caudal_ms, numpy_ms = statistics.median(times["caudal"]), statistics.median(times["numpy"])
    paired = statistics.median(c / n for c, n in zip(times["caudal"], times["numpy"], strict=True))
    print(f"caudal: {caudal_ms:7.2f} ms per training step (median of {args.blocks} blocks)")
    print(f"numpy:  {numpy_ms:7.2f} ms per training step (hand-written)")
    print(f"ratio:  {caudal_ms / numpy_ms:7.2f}  of the medians; {paired:.2f} median of the paired blocks "
          f"(target <= 1.15)")


if __name__ == "__main__":
    main()
