"""The jax backend: choosing it, compiled plans (compile counts, donation, constants as arguments),
random keys, the atomic-run rule, bad input, host parts of plans, tf.cond and while loops, placement.

Run with `pytest -m jax` (needs the jax extra: `pip install "caudal[jax]"`).
"""
from __future__ import annotations

import logging
import os
import subprocess
import sys

import numpy as np
import pytest

import caudal as tf
from caudal import errors

pytestmark = pytest.mark.jax
jax = pytest.importorskip("jax")


def _config(backend: str = "jax") -> tf.ConfigProto:
    config = tf.ConfigProto()
    config.experimental.executor_type = backend
    return config


def _session(graph: tf.Graph | None = None, backend: str = "jax") -> tf.Session:
    return tf.Session(graph=graph, config=_config(backend))


def _plan(sess: tf.Session, fetch: object):
    """The plan of the run that fetched `fetch` (alone)."""
    fetch = getattr(fetch, "op", fetch) if not isinstance(fetch, tf.Tensor) else fetch
    return next(p for p in sess._plans.values() if fetch in p.fetches)


def _kinds(plan) -> list[str]:
    return [type(stage).__name__ for stage in plan.stages]


def _mlp(batch_size: int | None = None):
    x = tf.placeholder(tf.float32, [batch_size, 4], name="x")
    w = tf.Variable(np.linspace(-1, 1, 12).reshape(4, 3).astype(np.float32), name="w")
    b = tf.Variable(np.zeros(3, np.float32), name="b")
    loss = tf.reduce_mean(tf.square(tf.nn.relu(tf.matmul(x, w) + b) - 0.5))
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
    return x, w, loss, train


# ----------------------------------------------------------------- choosing
def test_the_environment_variable_and_the_config_choose_jax(monkeypatch) -> None:
    monkeypatch.setenv("CAUDAL_BACKEND", "jax")
    with tf.Session() as sess:
        assert sess._backend.name == "jax"
        assert sess.run(tf.constant(2.0) * 3.0) == 6.0
    with tf.Session(config=_config("numpy")) as sess:
        assert sess._backend.name == "numpy"


def test_selecting_jax_without_jax_says_how_to_install_it() -> None:
    code = ("import sys\n"
            "sys.modules['jax'] = None\n"
            "import caudal as tf\n"
            "config = tf.ConfigProto()\n"
            "config.experimental.executor_type = 'jax'\n"
            "try:\n"
            "    tf.Session(config=config)\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert 'The jax backend needs jax: pip install "caudal[jax]"' in result.stdout


# ---------------------------------------------------------- compiled plans
def test_a_training_step_is_one_compiled_function_compiled_once_per_batch_size(caplog) -> None:
    x, w, loss, train = _mlp()
    with _session() as sess:
        sess.run(tf.global_variables_initializer())
        with caplog.at_level(logging.DEBUG, logger="caudal"):
            for _ in range(3):
                sess.run(train, {x: np.ones((8, 4), np.float32)})
            plan = _plan(sess, train)
            assert _kinds(plan) == ["DeviceStage"]
            stage = plan.stages[0]
            assert stage.compiles == 1
            sess.run(train, {x: np.ones((5, 4), np.float32)})
            assert stage.compiles == 2
            sess.run(train, {x: np.ones((8, 4), np.float32)})
            sess.run(train, {x: np.ones((5, 4), np.float32)})
            assert stage.compiles == 2
    compiled = [r.getMessage() for r in caplog.records if "compiled a stage" in r.getMessage()]
    assert len(compiled) == 2
    assert "(8, 4), 'float32'" in compiled[0] and "(5, 4), 'float32'" in compiled[1]


def test_training_matches_the_numpy_backend() -> None:
    results = {}
    feed = np.linspace(0, 1, 32, dtype=np.float32).reshape(8, 4)
    for backend in ("numpy", "jax"):
        with tf.Graph().as_default() as graph:
            x, w, loss, train = _mlp()
            with _session(graph, backend) as sess:
                sess.run(tf.global_variables_initializer())
                losses = [sess.run([loss, train], {x: feed})[0] for _ in range(4)]
                results[backend] = (losses, sess.run(w))
    np.testing.assert_allclose(results["jax"][0], results["numpy"][0], rtol=1e-5)
    np.testing.assert_allclose(results["jax"][1], results["numpy"][1], rtol=1e-5, atol=1e-6)


def test_written_variables_are_donated_and_stay_on_the_device() -> None:
    x, w, loss, train = _mlp()
    with _session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {x: np.ones((2, 4), np.float32)})
        before = sess._store.variables["w"]
        assert isinstance(before, jax.Array)
        sess.run(train, {x: np.ones((2, 4), np.float32)})
        after = sess._store.variables["w"]
        assert before.is_deleted() and not after.is_deleted()
        assert _plan(sess, train).stages[0].donate
        value = sess.run(w)
        assert type(value) is np.ndarray and value.flags.writeable and value.dtype == np.float32


def test_fetched_arrays_belong_to_the_caller() -> None:
    v = tf.Variable(np.arange(3, dtype=np.float32))
    doubled = v * 2
    with _session() as sess:
        sess.run(v.initializer)
        first = sess.run(doubled)
        first[0] = 100
        np.testing.assert_array_equal(sess.run(doubled), [0, 2, 4])
        held = sess.run(v)
        held[1] = 7
        np.testing.assert_array_equal(sess.run(v), [0, 1, 2])


def test_large_constants_are_arguments_not_compiled_code() -> None:
    big = np.arange(100 * 100, dtype=np.float32).reshape(100, 100) / 7.0
    x = tf.placeholder(tf.float32, [100])
    y = tf.tensordot(tf.constant(big), x, 1) + tf.constant([1.0])
    with _session() as sess:
        np.testing.assert_allclose(sess.run(y, {x: np.ones(100, np.float32)}), big.sum(1) + 1, rtol=1e-5)
        stage = _plan(sess, y).stages[0]
        assert [t.op.type for t in stage.constants] == ["Const"] and stage.constants[0].shape == (100, 100)
        text = stage._jitted.lower([], [], [], [], [np.ones(100, np.float32)], stage._constant_values, ()).as_text()
    assert "tensor<100x100xf32>" in text  # an argument of the compiled function
    assert len(text) < 20000  # its 10,000 values are not written into the program


def test_float32_products_run_at_full_precision_unless_told_otherwise(monkeypatch) -> None:
    x = tf.placeholder(tf.float32, [2, 3])
    y = tf.matmul(x, tf.constant(np.ones((3, 2), np.float32)))
    with _session() as sess:
        assert sess._backend.matmul_precision == "highest"
        sess.run(y, {x: np.ones((2, 3), np.float32)})
        stage = _plan(sess, y).stages[0]
        hlo = stage._jitted.lower([], [], [], [], [np.ones((2, 3), np.float32)], [], ()).as_text()
    assert "HIGHEST" in hlo
    monkeypatch.setenv("CAUDAL_JAX_MATMUL_PRECISION", "tensorfloat32")
    with _session() as sess:
        assert sess._backend.matmul_precision == "tensorfloat32"
        np.testing.assert_array_equal(sess.run(y, {x: np.ones((2, 3), np.float32)}), np.full((2, 2), 3.0))


# ----------------------------------------------------------- random numbers
def _draws(seed: int | None, runs: int = 2) -> list[np.ndarray]:
    with tf.Graph().as_default() as graph:
        if seed is not None:
            tf.set_random_seed(seed)
        r = tf.random_uniform([5])
        with _session(graph) as sess:
            return [sess.run(r) for _ in range(runs)]


def test_seeded_draws_repeat_across_sessions_and_each_run_draws_new_numbers() -> None:
    first, second = _draws(7), _draws(7)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(_draws(8)[0], first[0])
    unseeded = _draws(None), _draws(None)
    assert not np.array_equal(unseeded[0][0], unseeded[1][0])


def test_no_draw_is_compiled_in_as_a_constant() -> None:
    """The random values depend on the key argument: the same compiled function, called with two
    keys, draws two sets of numbers (and the function holds no constant of the draws' size)."""
    tf.set_random_seed(1)
    r = tf.random_normal([64]) * 2.0 + tf.truncated_normal([64])
    with _session() as sess:
        a, b = sess.run(r), sess.run(r)
        stage = _plan(sess, r).stages[0]
        assert stage.compiles == 1 and len(stage.randoms) == 2
        key_values = [sess._store.resources[("jax_random", op.name)].key for op in stage.randoms]
        jaxpr = jax.make_jaxpr(stage._traced, static_argnums=(6,))([], [], [], key_values, [], [], ())
    assert not np.array_equal(a, b)
    assert all(np.size(c) < 64 for c in jaxpr.consts)


def test_dropout_masks_differ_between_runs_and_match_their_gradient() -> None:
    tf.set_random_seed(3)
    x = tf.Variable(np.ones((4, 6), np.float32))
    y = tf.nn.dropout(x, keep_prob=0.5)
    grad = tf.gradients(tf.reduce_sum(y), x)[0]
    with _session() as sess:
        sess.run(x.initializer)
        runs = [sess.run([y, grad]) for _ in range(3)]
    for value, g in runs:
        np.testing.assert_array_equal(value, g)  # the mask drawn once per run, used by both
    assert not np.array_equal(runs[0][0], runs[1][0])


# ------------------------------------------------------------ failed runs
def test_a_failed_check_on_the_device_changes_nothing() -> None:
    x, w, loss, train = _mlp()
    ok = tf.placeholder(tf.bool, [])
    with tf.control_dependencies([train]):
        checked = tf.Assert(ok, [loss])
    tf.set_random_seed(5)
    noise = tf.random_uniform([3])
    with _session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {x: np.ones((2, 4), np.float32)}
        sess.run([checked, noise], {**feed, ok: True})
        w_before = sess.run(w)
        key_before = sess._store.resources[("jax_random", noise.op.name)].key
        with pytest.raises(errors.InvalidArgumentError, match=r"assertion failed: \[0\.\d+"):
            sess.run([checked, noise], {**feed, ok: False})
        np.testing.assert_array_equal(sess.run(w), w_before)
        assert sess._store.resources[("jax_random", noise.op.name)].key is key_before
        assert _kinds(_plan(sess, checked)) == ["DeviceStage"]
        sess.run([checked, noise], {**feed, ok: True})
        assert not np.array_equal(sess.run(w), w_before)


def test_an_index_out_of_range_raises_numpys_error_and_changes_nothing() -> None:
    table = tf.Variable(np.arange(6, dtype=np.float32).reshape(3, 2))
    ids = tf.placeholder(tf.int32, [2])
    rows = tf.gather(tf.assign_add(table, tf.ones([3, 2])), ids)
    messages = {}
    for backend in ("numpy", "jax"):
        with _session(backend=backend) as sess:
            sess.run(table.initializer)
            np.testing.assert_array_equal(sess.run(rows, {ids: [2, 0]}), [[5, 6], [1, 2]])
            with pytest.raises(errors.InvalidArgumentError) as info:
                sess.run(rows, {ids: [1, 3]})
            messages[backend] = info.value.message.split("\n")[0]
            np.testing.assert_array_equal(sess.run(table), np.arange(6).reshape(3, 2) + 1)
    assert messages["jax"] == messages["numpy"] == "indices = 3 is not in [0, 3)"


def test_a_failed_check_inside_a_while_loop_gives_numpys_error_and_changes_nothing() -> None:
    """The loop stays compiled (it carries one flag for its checks); a run whose flag is set runs the
    stage again on the host, whose NumPy kernels raise the error."""
    table = tf.Variable(np.arange(10, dtype=np.float32).reshape(5, 2))
    ids = tf.placeholder(tf.int32, [3])
    total_so_far = tf.Variable(0.0)

    def body(i, acc):
        return i + 1, acc + tf.reduce_sum(tf.gather(table, tf.gather(ids, i)))

    step = tf.assign_add(total_so_far, tf.while_loop(lambda i, acc: i < 3, body, [0, 0.0])[1])
    with _session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(step, {ids: [0, 4, 2]}) == 27.0
        with pytest.raises(errors.InvalidArgumentError, match=r"^indices = 7 is not in \[0, 5\)"):
            sess.run(step, {ids: [0, 7, 2]})
        assert sess.run(total_so_far) == 27.0
        assert sess.run(step, {ids: [1, 1, 1]}) == 42.0
        assert _kinds(_plan(sess, step)) == ["DeviceStage"]


def test_reading_an_uninitialized_variable_is_tfs_error() -> None:
    v = tf.Variable(1.0, name="never_set")
    with _session() as sess:
        with pytest.raises(errors.FailedPreconditionError, match="Attempting to use uninitialized value never_set"):
            sess.run(v + 1)


# --------------------------------------------------------------- bad feeds
@pytest.mark.parametrize("value", [np.ones((3, 5), np.float32), [["a", "b", "c", "d"]]], ids=["shape", "dtype"])
def test_a_bad_feed_is_refused_before_compiling_with_numpys_error(value: object) -> None:
    x, w, loss, train = _mlp(batch_size=None)
    messages = {}
    for backend in ("numpy", "jax"):
        with _session(backend=backend) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(loss, {x: np.ones((2, 4), np.float32)})
            with pytest.raises(ValueError) as info:
                sess.run(loss, {x: value})
            messages[backend] = str(info.value)
            if backend == "jax":
                assert _plan(sess, loss).stages[0].compiles == 1
    assert messages["jax"] == messages["numpy"]


# ------------------------------------------------------------- host parts
def test_py_func_splits_the_plan_and_gives_numpys_result() -> None:
    x = tf.placeholder(tf.float32, [3])
    y = tf.py_func(lambda v: (v ** 2).astype(np.float32), [x * 2.0], tf.float32)
    z = tf.reduce_sum(y) + 1.0
    with _session() as sess:
        assert sess.run(z, {x: [1, 2, 3]}) == pytest.approx(57.0)
        assert _kinds(_plan(sess, z)) == ["DeviceStage", "HostStage", "DeviceStage"]


def test_an_op_that_cannot_be_compiled_runs_on_the_host_and_is_named(caplog) -> None:
    """A kernel that needs a value (here np.asarray of its input) is found while tracing; it runs on
    the host from then on, and the debug log names it."""
    from caudal.framework.graph import apply_op
    from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
    from caudal.framework.tensor_shape import TensorShape

    if not _has_op("JaxTestNeedsValues"):
        register_op("JaxTestNeedsValues", infer=lambda ctx: [(ctx.dtype(0), TensorShape(None))],
                    kernel=lambda xp, x: xp.asarray(np.asarray(x)[np.asarray(x) > 0]), grad=NOT_DIFFERENTIABLE)
    x = tf.placeholder(tf.float32, [4])
    y = tf.reduce_sum(apply_op("JaxTestNeedsValues", [x * 1.0], {}, "positive") * 2.0)
    with _session() as sess, caplog.at_level(logging.DEBUG, logger="caudal"):
        assert sess.run(y, {x: [1, -2, 3, -4]}) == 8.0
        assert sess.run(y, {x: [5, 1, -1, 0]}) == 12.0
        plan = _plan(sess, y)
        assert [op.name for op in plan.host_ops] == ["positive"]
        assert _kinds(plan) == ["DeviceStage", "HostStage", "DeviceStage"]
    assert any("positive runs on the host" in r.getMessage() for r in caplog.records)


def _has_op(op_type: str) -> bool:
    from caudal.framework.registry import has_op

    return has_op(op_type)


def test_value_dependent_shapes_run_on_the_host() -> None:
    x = tf.placeholder(tf.float32, [6])
    masked = tf.boolean_mask(x * 2.0, x > 0)
    values, index = tf.unique(tf.cast(x, tf.int32))
    with _session() as sess:
        got = sess.run([tf.reduce_sum(masked), values, index], {x: [1, -1, 2, 2, -3, 1]})
    assert got[0] == 12.0
    np.testing.assert_array_equal(got[1], [1, -1, 2, -3])
    np.testing.assert_array_equal(got[2], [0, 1, 2, 2, 3, 0])


def test_summaries_and_print_run_on_the_host(capsys) -> None:
    x = tf.placeholder(tf.float32, [2])
    y = tf.Print(x * 3.0, [x], "x is ")
    summary = tf.summary.scalar("total", tf.reduce_sum(y))
    with _session() as sess:
        value, serialized = sess.run([y, summary], {x: [1.0, 2.0]})
    np.testing.assert_array_equal(value, [3.0, 6.0])
    assert tf.Summary.FromString(serialized).value[0].simple_value == 9.0
    assert "x is [1 2]" in capsys.readouterr().err


def test_save_and_restore_with_variables_on_the_device(tmp_path) -> None:
    v = tf.Variable(np.arange(4, dtype=np.float64), name="v")
    step = tf.assign_add(v, tf.ones([4], tf.float64))
    saver = tf.train.Saver()
    with _session() as sess:
        sess.run(v.initializer)
        sess.run(step)
        path = saver.save(sess, str(tmp_path / "model"))
        sess.run(step)
        saver.restore(sess, path)
        np.testing.assert_array_equal(sess.run(v), [1, 2, 3, 4])
        sess.run(step)
        np.testing.assert_array_equal(sess.run(v), [2, 3, 4, 5])
        assert sess.run(v).dtype == np.float64


def test_a_dataset_iterator_feeds_a_compiled_step() -> None:
    data = tf.data.Dataset.from_tensor_slices(np.arange(12, dtype=np.float32).reshape(6, 2)).batch(2)
    batch = data.make_one_shot_iterator().get_next()
    total = tf.Variable(0.0)
    add = tf.assign_add(total, tf.reduce_sum(batch * 2.0))
    with _session() as sess:
        sess.run(total.initializer)
        for _ in range(3):
            sess.run(add)
        assert sess.run(total) == 132.0
        assert _kinds(_plan(sess, add)) == ["HostStage", "DeviceStage"]
        with pytest.raises(errors.OutOfRangeError):
            sess.run(add)
        assert sess.run(total) == 132.0


def test_int64_and_float64_keep_their_dtypes() -> None:
    a = tf.placeholder(tf.int64, [2])
    b = tf.placeholder(tf.float64, [2])
    with _session() as sess:
        big, precise = sess.run([a * 3, b / 3.0], {a: [2 ** 40, -5], b: [1.0, 2.0]})
    assert big.dtype == np.int64 and big[0] == 3 * 2 ** 40
    assert precise.dtype == np.float64 and precise[0] == 1.0 / 3.0


# ------------------------------------------------------------ control flow
def test_cond_on_a_fed_predicate_runs_only_the_taken_side_effects(capsys) -> None:
    pred = tf.placeholder(tf.bool, [])
    counter = tf.Variable(0.0)
    x = tf.constant([1.0, 2.0])

    def taken() -> tf.Tensor:
        return tf.Print(x * 2.0, [tf.constant(7)], "true branch ") + tf.assign_add(counter, 1.0)

    result = tf.cond(pred, taken, lambda: x - 1.0)
    with _session() as sess:
        sess.run(counter.initializer)
        np.testing.assert_array_equal(sess.run(result, {pred: False}), [0.0, 1.0])
        assert sess.run(counter) == 0.0
        assert "true branch" not in capsys.readouterr().err
        np.testing.assert_array_equal(sess.run(result, {pred: True}), [3.0, 5.0])
        assert sess.run(counter) == 1.0
        assert "true branch [7]" in capsys.readouterr().err


def test_fetching_a_tensor_of_the_untaken_branch_is_tfs_error() -> None:
    pred = tf.placeholder(tf.bool, [])
    _, switch_true = _switch(tf.constant(1.0), pred)
    with _session() as sess:
        assert sess.run(switch_true * 2.0, {pred: True}) == 2.0
        with pytest.raises(errors.InvalidArgumentError, match="Retval\\[0\\] does not have value"):
            sess.run(switch_true * 2.0, {pred: False})


def _switch(data: tf.Tensor, pred: tf.Tensor) -> tuple:
    from caudal.ops.cond_ops import switch

    return switch(data, pred)


def test_a_while_loop_is_one_lax_while_loop() -> None:
    n = tf.placeholder(tf.int32, [])
    steps, _ = tf.while_loop(lambda s, m: m > 1,
                             lambda s, m: (s + 1, tf.where(tf.equal(m % 2, 0), m // 2, 3 * m + 1)), [0, n])
    with _session() as sess:
        assert sess.run(steps, {n: 27}) == 111
        assert sess.run(steps, {n: 1}) == 0
        plan = _plan(sess, steps)
        assert _kinds(plan) == ["DeviceStage"] and plan.stages[0].compiles == 1
        jaxpr = str(jax.make_jaxpr(plan.stages[0]._traced, static_argnums=(6,))([], [], [], [], [np.int32(3)], [], ()))
    assert "while[" in jaxpr


def test_nested_loops_and_a_gradient_through_a_loop() -> None:
    x = tf.placeholder(tf.float32, [])

    def outer(i, acc):
        inner = tf.while_loop(lambda j, a: j < i, lambda j, a: (j + 1, a * x), [0, 1.0])[1]
        return i + 1, acc + inner

    total = tf.while_loop(lambda i, acc: i < 4, outer, [0, 0.0])[1]  # 1 + x + x^2 + x^3
    grad = tf.gradients(total, x)[0]
    results = {}
    for backend in ("numpy", "jax"):
        with _session(backend=backend) as sess:
            results[backend] = sess.run([total, grad], {x: 2.0})
    np.testing.assert_allclose(results["numpy"], [15.0, 17.0], rtol=1e-6)
    np.testing.assert_allclose(results["jax"], results["numpy"], rtol=1e-6)


def test_tensor_array_loops_match_numpy() -> None:
    x = tf.placeholder(tf.float32, [3, 2])
    mapped = tf.map_fn(lambda row: row * 2.0 + 1.0, x)
    scanned = tf.scan(lambda acc, row: acc + row, x)
    feed = {x: np.arange(6, dtype=np.float32).reshape(3, 2)}
    results = {}
    for backend in ("numpy", "jax"):
        with _session(backend=backend) as sess:
            results[backend] = sess.run([mapped, scanned], feed)
    for got, want in zip(results["jax"], results["numpy"]):
        np.testing.assert_array_equal(got, want)


# ----------------------------------------------------------- devices
def test_devices_are_reported_as_jax_sees_them(monkeypatch) -> None:
    from caudal.python.client import device_lib

    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    monkeypatch.setenv("CAUDAL_BACKEND", "jax")
    with tf.Session() as sess:
        names = [d.name for d in sess.list_devices()]
    assert names[0] == "/job:localhost/replica:0/task:0/device:CPU:0"
    assert len(names) == 1 + len(gpus)
    assert [d.name for d in device_lib.list_local_devices()] == \
        ["/device:CPU:0"] + [f"/device:GPU:{i}" for i in range(len(gpus))]
    assert tf.test.is_gpu_available() == bool(gpus)
    assert tf.test.gpu_device_name() == ("/device:GPU:0" if gpus else "")
    monkeypatch.setenv("CAUDAL_BACKEND", "numpy")
    assert not tf.test.is_gpu_available() and tf.test.gpu_device_name() == ""
    assert [d.device_type for d in device_lib.list_local_devices()] == ["CPU"]


def test_tf_device_places_ops_on_the_device_jax_has() -> None:
    """With two (host) devices, ops placed on /cpu:1 run in a stage of their own on that device."""
    code = (
        "import numpy as np, caudal as tf\n"
        "config = tf.ConfigProto(log_device_placement=True)\n"
        "config.experimental.executor_type = 'jax'\n"
        "x = tf.placeholder(tf.float32, [3])\n"
        "with tf.device('/cpu:1'):\n"
        "    y = x * 2.0\n"
        "with tf.device('/gpu:0'):\n"
        "    z = y + 1.0\n"
        "with tf.Session(config=config) as sess:\n"
        "    print(sess.run(z, {x: [1, 2, 3]}).tolist())\n"
        "    plan = next(iter(sess._plans.values()))\n"
        "    print([None if s.device is None else s.device.id for s in plan.stages])\n")
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2] == "[3.0, 5.0, 7.0]"
    assert lines[-1] == "[1, None]"  # z's /gpu:0 is not there: jax's default device (CPU 0)
    placement = dict(line.split(": ", 1) for line in lines[:-2])
    assert placement["mul"] == "(Mul): /job:localhost/replica:0/task:0/device:CPU:1"
    assert placement["add"] == "(AddV2): /job:localhost/replica:0/task:0/device:CPU:0"
