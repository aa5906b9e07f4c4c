"""Group kernels (OpDef.group_variants): a plan runs consecutive optimizer updates as one call of
their op's group kernel, with the values, writes and errors of the calls one by one; fast_cpu's
group kernels against NumPy's updates."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import caudal as tf
from caudal.errors import InvalidArgumentError
from caudal.framework.registry import get_op_def
from tests.update_fixtures import VariablesContext


@pytest.fixture
def numpy_groups(monkeypatch):
    """On the numpy backend, ApplyGradientDescent and ApplyAdam get a group kernel that calls their
    kernel on each member in turn; returns the number of members of each group call made."""
    sizes: list[int] = []
    for op_type in ("ApplyGradientDescent", "ApplyAdam"):
        op_def = get_op_def(op_type)
        kernel = op_def.kernel_for("numpy")

        def group(ctx, calls, kernel=kernel):
            sizes.append(len(calls))
            return tuple(kernel(ctx, *args, **kwargs) for args, kwargs in calls)

        monkeypatch.setattr(op_def, "group_variants", {**op_def.group_variants, "numpy": group})
    return sizes


def _config(backend: str) -> tf.ConfigProto:
    config = tf.ConfigProto()
    config.experimental.executor_type = backend
    return config


def _train_mlp(optimizer, backend="numpy", steps=3):
    graph = tf.Graph()
    with graph.as_default():
        rng = np.random.default_rng(0)
        x = tf.constant(rng.standard_normal((16, 12)).astype(np.float32))
        y = tf.constant(rng.integers(0, 3, 16))
        hidden = x
        for i, width in enumerate((20, 7, 3)):
            w = tf.Variable(rng.standard_normal((hidden.shape[1].value, width)).astype(np.float32) * 0.3, name=f"w{i}")
            b = tf.Variable(np.full(width, 0.1, np.float32), name=f"b{i}")
            hidden = tf.matmul(hidden, w) + b
            if width != 3:
                hidden = tf.nn.relu(hidden)
        loss = tf.losses.sparse_softmax_cross_entropy(y, hidden)
        train = optimizer().minimize(loss)
        with tf.Session(config=_config(backend)) as sess:
            sess.run(tf.global_variables_initializer())
            losses = [sess.run([loss, train])[0] for _ in range(steps)]
            return losses, sess.run(tf.trainable_variables())


@pytest.mark.parametrize("optimizer", [lambda: tf.train.GradientDescentOptimizer(0.1),
                                       lambda: tf.train.AdamOptimizer(0.01)], ids=["sgd", "adam"])
def test_a_plan_runs_the_updates_of_a_step_as_one_group_call(numpy_groups, optimizer):
    grouped = _train_mlp(optimizer)
    assert numpy_groups == [6, 6, 6]  # three steps, one call for the six variables each
    numpy_groups.clear()
    get_op_def("ApplyGradientDescent").group_variants.pop("numpy")
    get_op_def("ApplyAdam").group_variants.pop("numpy")
    one_by_one = _train_mlp(optimizer)
    assert numpy_groups == []
    np.testing.assert_array_equal(grouped[0], one_by_one[0])
    for got, want in zip(grouped[1], one_by_one[1], strict=True):
        np.testing.assert_array_equal(got, want)


def _two_updates(second_alpha_reads_first: bool):
    """Two GradientDescent updates, the second one's step size either a constant or the value of the
    variable the first one updates."""
    graph = tf.Graph()
    with graph.as_default():
        first = tf.Variable(np.float32(2.0), name="first")
        second = tf.Variable(np.float32(10.0), name="second")
        alpha = first.value() if second_alpha_reads_first else tf.constant(np.float32(0.5))
        one = tf.constant(np.float32(1.0))
        ops = [graph.create_op("ApplyGradientDescent", [var._ref(), a, one], {"T": tf.float32, "use_locking": False},
                               "ApplyGradientDescent") for var, a in ((first, one), (second, alpha))]
        with tf.Session(config=_config("numpy")) as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(ops)
            return [float(v) for v in sess.run([first, second])]


def test_an_update_that_reads_a_variable_an_earlier_update_writes_stays_out_of_its_group(numpy_groups):
    assert _two_updates(False) == [1.0, 9.5] and numpy_groups == [2]
    numpy_groups.clear()
    # The read of `first` is placed as the plan places it without groups (here, where its Identity
    # is, before the first update: TF's executor also runs it as soon as it can).
    assert _two_updates(True) == [1.0, 8.0] and numpy_groups == []
    get_op_def("ApplyGradientDescent").group_variants.pop("numpy")
    assert _two_updates(True) == [1.0, 8.0]


def test_a_failing_member_raises_its_error_and_the_run_commits_nothing(numpy_groups):
    graph = tf.Graph()
    with graph.as_default():
        a = tf.Variable(np.ones(3, np.float32), name="a")
        b = tf.Variable(np.ones(4, np.float32), name="b")
        delta = tf.placeholder(tf.float32, [None])
        half, ones = tf.constant(np.float32(0.5)), tf.ones([3])
        ops = [graph.create_op("ApplyGradientDescent", [v._ref(), half, d], {"T": tf.float32, "use_locking": False},
                               "ApplyGradientDescent") for v, d in ((a, ones), (b, delta))]
        with tf.Session(config=_config("numpy")) as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(InvalidArgumentError, match=r"var and delta do not have the same shape\[4\] \[3\]"):
                sess.run(ops, {delta: np.ones(3, np.float32)})
            assert numpy_groups == [2]
            got_a, got_b = sess.run([a, b])
            np.testing.assert_array_equal(got_a, np.ones(3, np.float32))  # the first update was not committed
            np.testing.assert_array_equal(got_b, np.ones(4, np.float32))
            sess.run(ops, {delta: np.full(4, 2.0, np.float32)})
            np.testing.assert_array_equal(sess.run(b), np.zeros(4, np.float32))


# ------------------------------------------------------------- fast_cpu


def _adam_calls(rng):
    """Adam updates of float32 vectors and matrices of many sizes, one float64 vector, one scalar
    and one with other hyperparameters (which the group kernel cannot share)."""
    f32 = np.float32
    shared = tuple(np.asarray(v, f32) for v in (0.81, 0.998, 0.01, 0.9, 0.999, 1e-7))
    other = tuple(np.asarray(v, f32) for v in (0.5, 0.9, 0.1, 0.8, 0.99, 1e-3))
    values, calls = {}, []
    for i, (shape, dtype, scalars) in enumerate((((140000,), f32, shared), ((3, 5), f32, shared),
                                                 ((10,), np.float64, tuple(s.astype(np.float64) for s in shared)),
                                                 ((), f32, shared), ((300,), f32, other), ((1,), f32, shared),
                                                 ((129, 33), f32, shared))):
        names = (f"var{i}", f"m{i}", f"v{i}")
        values[names[0]] = rng.standard_normal(shape).astype(dtype)
        values[names[1]] = rng.uniform(0, 1, shape).astype(dtype)
        values[names[2]] = rng.uniform(0, 1, shape).astype(dtype)
        grad = rng.standard_normal(shape).astype(dtype)
        calls.append(((*scalars, grad), {"use_nesterov": i % 2 == 1, "var": names[0], "slots": names[1:],
                                         "op": SimpleNamespace(type="ApplyAdam")}))
    return values, tuple(calls)


@pytest.mark.fast_cpu
def test_fast_cpus_group_update_matches_numpys_updates_one_by_one():
    pytest.importorskip("numba")
    from caudal.backends.fast_cpu import loops, updates

    loops._kernels()
    numpy_adam = get_op_def("ApplyAdam").kernel_for("numpy")
    values, calls = _adam_calls(np.random.default_rng(0))
    for _ in range(3):  # the first call also compiles or loads the loop; later ones run the group's own path
        fast, reference = VariablesContext(values), VariablesContext(values)
        results = updates.GROUP_VARIANTS["ApplyAdam"](fast, calls)
        wants = [numpy_adam(reference, *args, **kwargs) for args, kwargs in calls]
        for got, want in zip(results, wants, strict=True):
            assert got.dtype == want.dtype and got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-6)
        for name, want in reference.variables.items():
            np.testing.assert_allclose(fast.variables[name], want, rtol=1e-6)
        for name in values:  # the arrays the run started with are left as they were
            np.testing.assert_array_equal(values[name], _adam_calls(np.random.default_rng(0))[0][name])


@pytest.mark.fast_cpu
def test_fast_cpus_group_update_raises_a_members_error():
    pytest.importorskip("numba")
    from caudal.backends.fast_cpu import loops, updates

    loops._kernels()
    values, calls = _adam_calls(np.random.default_rng(1))
    values["m1"] = np.zeros((3, 6), np.float32)
    with pytest.raises(InvalidArgumentError, match=r"var and m do not have the same shape\[3,5\] \[3,6\]"):
        updates.GROUP_VARIANTS["ApplyAdam"](VariablesContext(values), calls)


@pytest.mark.fast_cpu
@pytest.mark.parametrize("optimizer", [lambda: tf.train.GradientDescentOptimizer(0.1),
                                       lambda: tf.train.MomentumOptimizer(0.1, 0.9),
                                       lambda: tf.train.AdamOptimizer(0.01),
                                       lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5)],
                         ids=["sgd", "momentum", "adam", "rmsprop"])
def test_an_mlp_trains_the_same_with_fast_cpus_group_updates_as_on_numpy(optimizer):
    pytest.importorskip("numba")
    from caudal.backends.fast_cpu import loops

    loops._kernels()  # numba loaded: every float32 update runs its loop, in groups
    fast = _train_mlp(optimizer, "fast_cpu", steps=4)
    numpy = _train_mlp(optimizer, "numpy", steps=4)
    np.testing.assert_allclose(fast[0], numpy[0], rtol=1e-5)
    for got, want in zip(fast[1], numpy[1], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.fast_cpu
@pytest.mark.parametrize("op_type", ["ApplyGradientDescent", "ApplyMomentum", "ApplyAdam", "ApplyRMSProp"])
def test_fast_cpus_group_update_packs_small_variables_and_matches_numpy(op_type):
    """Variables under PACKED_SIZE values that share their hyperparameters are updated by one loop
    over them end to end; each gets its own values, in its own shape."""
    pytest.importorskip("numba")
    from caudal.backends.fast_cpu import loops, updates

    loops._kernels()
    rng = np.random.default_rng(2)
    f32 = np.float32
    scalars, slots, attrs = {
        "ApplyGradientDescent": ((f32(0.1),), (), {}),
        "ApplyMomentum": ((f32(0.1), f32(0.9)), ("accum",), {"use_nesterov": True}),
        "ApplyAdam": ((f32(0.81), f32(0.998), f32(0.01), f32(0.9), f32(0.999), f32(1e-7)), ("m", "v"),
                      {"use_nesterov": False}),
        "ApplyRMSProp": ((f32(0.01), f32(0.9), f32(0.5), f32(1e-10)), ("ms", "mom"), {}),
    }[op_type]
    scalars = tuple(np.asarray(s) for s in scalars)
    grad_index = {"ApplyGradientDescent": 1, "ApplyMomentum": 1, "ApplyAdam": 6, "ApplyRMSProp": 4}[op_type]
    values, calls = {}, []
    for i, shape in enumerate([(7,), (3, 4), (1,), (200, 30), (updates.PACKED_SIZE + 5,), (2, 2, 2)]):
        names = [f"{name}{i}" for name in ("var", *slots)]
        values[names[0]] = rng.standard_normal(shape).astype(f32)
        for name in names[1:]:
            values[name] = rng.uniform(0, 1, shape).astype(f32)
        args = list(scalars)
        args.insert(grad_index, rng.standard_normal(shape).astype(f32))
        kwargs = dict(attrs, var=names[0], op=SimpleNamespace(type=op_type))
        if slots:
            kwargs["slots"] = tuple(names[1:])
        calls.append((tuple(args), kwargs))
    numpy_kernel = get_op_def(op_type).kernel_for("numpy")
    fast, reference = VariablesContext(values), VariablesContext(values)
    # The first call loads the loop one update at a time; the second packs what it reads, the third
    # the results of the second as they lie.
    for _ in range(3):
        results = updates.GROUP_VARIANTS[op_type](fast, tuple(calls))
        for (args, kwargs), got in zip(calls, results, strict=True):
            want = numpy_kernel(reference, *args, **kwargs)
            assert got.shape == want.shape and got is fast.variables[kwargs["var"]]
            np.testing.assert_allclose(got, want, rtol=1e-6)
        for name, want in reference.variables.items():
            assert fast.variables[name].shape == want.shape
            np.testing.assert_allclose(fast.variables[name], want, rtol=1e-6)


@pytest.mark.fast_cpu
def test_later_steps_take_the_packed_results_as_they_lie_and_match_numpy():
    """From the second packed step on the group reads nothing: the views it wrote are its inputs. A
    variable written meanwhile (here `m6`, as an Assign would) is read again, with its new value."""
    pytest.importorskip("numba")
    from caudal.backends.fast_cpu import loops, updates

    loops._kernels()
    numpy_adam = get_op_def("ApplyAdam").kernel_for("numpy")
    values, calls = _adam_calls(np.random.default_rng(4))
    fast, reference = VariablesContext(values), VariablesContext(values)
    adam = next(u for u in updates._UPDATES if u.op_type == "ApplyAdam")
    taken = []
    original = adam._packed_inputs

    def spy(ctx, key, grads):
        names, views = original(ctx, key, grads)
        taken.append((tuple(names[0] for names in key), views is not None))
        return names, views

    adam._packed_inputs = spy
    try:
        for step in range(5):
            if step == 3:
                fast.variables["m6"] = reference.variables["m6"] = np.full((129, 33), 0.25, np.float32)
            taken.append(step)
            updates.GROUP_VARIANTS["ApplyAdam"](fast, calls)
            for args, kwargs in calls:
                numpy_adam(reference, *args, **kwargs)
            for name, want in reference.variables.items():
                np.testing.assert_allclose(fast.variables[name], want, rtol=1e-6, err_msg=f"{name}, step {step}")
    finally:
        del adam._packed_inputs
    steps = {step: [t for t in taken[taken.index(step) + 1:taken.index(step + 1) if step < 4 else None]]
             for step in range(2, 5)}
    # runs of one update each here (the calls' scalars or attrs differ); the scalar var3 runs NumPy's kernel
    assert steps[2] == [(("var1",), True), (("var3",), False), (("var4",), True), (("var5",), True), (("var6",), True)]
    assert steps[3] == [(("var1",), True), (("var3",), False), (("var4",), True), (("var5",), True), (("var6",), False)]
    assert steps[4] == steps[2]


@pytest.mark.fast_cpu
def test_a_packed_gradient_of_another_shape_raises_numpys_error_on_later_steps():
    pytest.importorskip("numba")
    from caudal.backends.fast_cpu import loops, updates

    loops._kernels()
    values, calls = _adam_calls(np.random.default_rng(5))
    ctx = VariablesContext(values)
    for _ in range(2):
        updates.GROUP_VARIANTS["ApplyAdam"](ctx, calls)
    args, kwargs = calls[1]
    wrong = (*args[:-1], np.ones((5, 3), np.float32))
    bad_calls = (calls[0], (wrong, kwargs), *calls[2:])
    before = {name: value.copy() for name, value in ctx.variables.items()}
    with pytest.raises(InvalidArgumentError, match=r"var and grad do not have the same shape\[3,5\] \[5,3\]"):
        updates.GROUP_VARIANTS["ApplyAdam"](ctx, bad_calls)
    assert kwargs["var"] == "var1"
    np.testing.assert_array_equal(ctx.variables["var1"], before["var1"])
