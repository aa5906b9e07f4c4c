"""The one GNU OpenMP pool that oneDNN and numba's loops share, seen from fresh interpreters: a
process forked after the fast_cpu kernels started its threads runs NumPy's kernels instead
(libgomp's pool does not survive a fork: oneDNN would wait for ever, numba's OpenMP layer would end
the process), and numba's start does not leave oneDNN's thread count wrong. The fork happens in a
fresh interpreter that has not loaded gRPC, and the child is killed on a timeout."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tests.onednn_fixtures import require_onednn

pytest.importorskip("numba")
require_onednn()

pytestmark = pytest.mark.fast_cpu

SCRIPT = textwrap.dedent(r'''
    import os, signal, sys, time
    import numpy as np
    import caudal as tf

    rng = np.random.default_rng(0)
    images = rng.random((16, 16, 16, 8), dtype=np.float32) - 0.5
    left = rng.random((512, 512), dtype=np.float32)
    x = tf.placeholder(tf.float32, [16, 16, 16, 8])
    w = tf.Variable(rng.random((3, 3, 8, 16), dtype=np.float32) - 0.5)
    h = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(x, w, [1, 1, 1, 1], "SAME")), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    big = tf.Variable(rng.random((512, 512), dtype=np.float32))
    product = tf.matmul(tf.constant(left), big)  # 2^28 flops: on both of oneDNN's threads
    wide = tf.Variable(tf.ones([1 << 20]))  # an update of 2^20 values: numba's loop
    loss = tf.reduce_sum(h) + tf.reduce_sum(product) * 1e-6 + tf.reduce_sum(wide * wide)
    train = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    config = tf.ConfigProto()
    config.experimental.executor_type = "fast_cpu"
    sess = tf.Session(config=config)
    sess.run(tf.global_variables_initializer())
    fetches = [h, product, tf.nn.conv2d_backprop_filter(x, [3, 3, 8, 16], h * 0 + 1, [1, 2, 2, 1], "SAME")]
    sess.run(train, {x: images})
    before = sess.run(fetches, {x: images})
    from caudal.backends.fast_cpu import loops
    assert loops._kernel_module is not None, "numba's loops did not run in the parent"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            after = sess.run(fetches, {x: images})
            ok = all(np.allclose(a, b, rtol=1e-5, atol=1e-4) for a, b in zip(before[:2], after[:2]))
            ok = ok and np.allclose(before[2], after[2], rtol=1e-5, atol=1e-3)
            old = sess.run(wide)
            sess.run(train, {x: images})
            ok = ok and np.allclose(sess.run(wide), old - 0.01 * 2 * old, rtol=1e-6)
            os.write(write, b"same" if ok else b"different")
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("child hung")
        sys.exit(1)
    print("child:", os.read(read, 100).decode() or "no answer", "status", status)
''')


def test_a_forked_child_runs_numpy_kernels_and_warns_once() -> None:
    result = _run_fresh(SCRIPT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "child: same status 0" in result.stdout, result.stdout + result.stderr
    assert result.stderr.count("forked after its parent started OpenMP threads") == 1, result.stderr


def _run_fresh(source: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_THREADING_LAYER", "OMP_WAIT_POLICY",
                                                              "GOMP_SPINCOUNT", "CAUDAL_THREAD_POLICY")}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=120, env=env)


def test_numbas_start_does_not_leave_onednns_thread_count_stale() -> None:
    """numba's OpenMP layer sets the starting thread's OpenMP count when it starts; oneDNN's next
    kernel must set its own count again rather than trust the one it applied before."""
    result = _run_fresh(textwrap.dedent("""
        import numpy as np
        from caudal.backends.fast_cpu import loops, onednn_lib
        onednn_lib.load()
        onednn_lib.apply_thread_count(1)
        values = np.ones(1 << 21, np.float32)
        loops.INPLACE_VARIANTS["ReluGrad"](np, values, values)
        assert loops._kernel_module is not None
        onednn_lib.apply_thread_count(1)
        print("threads", onednn_lib.max_threads())
    """))
    assert result.returncode == 0 and "threads 1" in result.stdout, result.stdout + result.stderr
