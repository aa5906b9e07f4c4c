"""Dense optimizer updates in place (fast_cpu) at the point of a plan after which nothing can fail
(caudal.runtime.last_writes): which line the plan marks, that the variables' arrays are then
changed in place with the values of the NumPy kernels, and that nothing else sees it: a run that
raises changes nothing, arrays the user gave or other variables share are left as they were."""
from __future__ import annotations

import weakref

import numpy as np
import pytest

import caudal as tf
from caudal.runtime import last_writes

FLAG = "ctx.rest_cannot_fail = "
SIZE = (256, 160)  # above the size below which a group packs small variables into one loop (below)
PACKED_SIZE = 1 << 15


@pytest.fixture(autouse=True)
def _packing_below_the_first_weights():
    """fast_cpu's group kernels pack the variables of fewer than PACKED_SIZE values (w has more)."""
    try:
        from caudal.backends.fast_cpu import updates
    except ImportError:
        yield
        return
    saved, updates.PACKED_SIZE = updates.PACKED_SIZE, PACKED_SIZE
    try:
        yield
    finally:
        updates.PACKED_SIZE = saved


def _session(backend: str) -> tf.Session:
    config = tf.ConfigProto()
    config.experimental.executor_type = backend
    return tf.Session(config=config)


def _model(optimizer, global_step=None):
    """A two-layer regression whose first weight matrix is large enough to be updated on its own."""
    rng = np.random.default_rng(0)
    x = tf.placeholder(tf.float32, [None, SIZE[0]])
    w = tf.Variable(rng.standard_normal(SIZE).astype(np.float32) * 0.05, name="w")
    b = tf.Variable(tf.zeros([SIZE[1]]), name="b")
    v = tf.Variable(rng.standard_normal((SIZE[1], 1)).astype(np.float32) * 0.1, name="v")
    loss = tf.reduce_mean(tf.square(tf.matmul(tf.nn.relu(tf.matmul(x, w) + b), v) - 1.0))
    train = optimizer.minimize(loss, global_step=global_step)
    return x, loss, train


def _batches(steps: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.standard_normal((16, SIZE[0])).astype(np.float32) for _ in range(steps)]


def _plan_lines(sess, fetches, feeds) -> list[str]:
    return sess._plan(tuple(fetches), tuple(feeds)).source.splitlines()


# ----------------------------------------------------------------- the plan's mark
def test_the_update_of_a_training_step_is_its_last_line_that_can_fail():
    with tf.Graph().as_default():
        x, loss, train = _model(tf.train.AdamOptimizer(0.01))
        with _session("numpy") as sess:
            lines = _plan_lines(sess, [train], [x])
    marked = [line for line in lines if FLAG in line]
    # the beta powers' assignments cannot fail while each holds a scalar, or nothing yet
    beta_checks = "ctx.holds((('beta2_power', (), False), ('beta1_power', (), False))); "
    assert len(marked) == 1 and marked[0].strip().startswith(f"{FLAG}{beta_checks}")
    after = lines[lines.index(marked[0]) + 1:]
    # Adam's beta powers are multiplied and assigned after the update: lines that cannot fail.
    assert len(after) == 5 and after[-1].strip() == "return (None,)"
    assert sum("k" in line.split("=")[1][:3] for line in after[:-1] if "=" in line) == 2  # the two Assigns


def test_a_global_step_increment_after_the_update_is_checked_when_the_run_gets_there():
    with tf.Graph().as_default():
        step = tf.train.get_or_create_global_step()
        x, loss, train = _model(tf.train.GradientDescentOptimizer(0.1), global_step=step)
        with _session("numpy") as sess:
            lines = _plan_lines(sess, [train], [x])
    marked = [line for line in lines if FLAG in line]
    assert len(marked) == 1 and f"{FLAG}ctx.holds((('global_step', (), True),)); " in marked[0]


def test_an_op_that_can_fail_after_the_update_takes_the_mark():
    with tf.Graph().as_default():
        x, loss, train = _model(tf.train.AdamOptimizer(0.01))
        checked = tf.debugging.check_numerics(loss, "loss")  # made after the update: runs after it
        with _session("numpy") as sess:
            lines = _plan_lines(sess, [train, checked], [x])
    marked = [line for line in lines if FLAG in line]
    assert len(marked) == 1 and "ApplyAdam" not in marked[0] and "g" not in marked[0].split("; ")[1][:6]
    assert marked[0] == [line for line in lines if "k" in line and "(xp, " in line][-1]


def test_lines_inside_a_block_are_never_marked():
    lines = ["    t1 = k1(xp, feed_0)", "    while True:", "        t2 = k2(xp, t1)"]
    last_writes.mark_last_fallible_line(lines, [None, None, None])
    assert not any(FLAG in line for line in lines)


def test_a_plan_without_writes_is_not_marked():
    with tf.Graph().as_default():
        x, loss, train = _model(tf.train.AdamOptimizer(0.01))
        with _session("numpy") as sess:
            assert not any(FLAG in line for line in _plan_lines(sess, [loss], [x]))


# ------------------------------------------------------------ in place on fast_cpu
fast_cpu = pytest.mark.fast_cpu


@pytest.fixture(autouse=True)
def _loops_loaded(request):
    """numba's loops loaded, as they are after a few seconds of training (before, the NumPy kernels run)."""
    if request.node.get_closest_marker("fast_cpu") is not None:
        pytest.importorskip("numba")
        from caudal.backends.fast_cpu import loops

        loops._kernels()


def _train(backend: str, make, steps: int = 4, extra=None):
    with tf.Graph().as_default():
        x, loss, train = _model(make())
        with _session(backend) as sess:
            sess.run(tf.global_variables_initializer())
            arrays = []
            for batch in _batches(steps):
                sess.run([train] + ([] if extra is None else [extra]), {x: batch})
                # (a reference would forbid writing)
                arrays.append({name: weakref.ref(sess._store.variables[name]) for name in ("w", "b", "v")})
            values = {v.op.name: sess.run(v) for v in tf.global_variables()}
            return values, [{name: ref() for name, ref in step.items()} for step in arrays]


OPTIMIZERS = {"sgd": lambda: tf.train.GradientDescentOptimizer(0.05),
              "momentum": lambda: tf.train.MomentumOptimizer(0.05, 0.9, use_nesterov=True),
              "adam": lambda: tf.train.AdamOptimizer(0.01),
              "rmsprop": lambda: tf.train.RMSPropOptimizer(0.01, momentum=0.5)}


@fast_cpu
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_updates_in_place_give_the_numpy_kernels_values(name):
    fast, fast_arrays = _train("fast_cpu", OPTIMIZERS[name])
    reference, _ = _train("numpy", OPTIMIZERS[name])
    # The first step writes a new array (the initial value is the initializer's constant); the
    # next ones change that array.
    w = [step["w"] for step in fast_arrays]
    assert w[0] is w[1] is w[2] is w[3] is not None
    # The small variables, updated by one packed loop: the second step writes views of its results
    # (the first one runs the loop's first call alone), the next ones change them in place.
    for small in ("b", "v"):
        views = [step[small] for step in fast_arrays]
        assert views[1] is views[2] is views[3] is not None and views[1].base is not None
    assert sorted(fast) == sorted(reference)
    for key, want in reference.items():
        np.testing.assert_allclose(fast[key], want, rtol=1e-4, atol=1e-5, err_msg=key)


def _assigned_elsewhere(name: str, shape) -> tuple:
    """(x, train, the model's variable `name`, a variable `other`, an op assigning the first to it)."""
    x, loss, train = _model(tf.train.AdamOptimizer(0.01))
    variable = [v for v in tf.global_variables() if v.op.name == name][0]
    other = tf.Variable(tf.zeros(shape), name="other", trainable=False)
    return x, train, variable, other, tf.assign(other, variable)


@fast_cpu
@pytest.mark.parametrize("held", ["variable", "base"])
def test_a_packed_update_leaves_the_arrays_others_hold_as_they_were(held):
    """A small variable's value (a view of the packed loop's results) held by another variable that
    was assigned it, or the array it is a view of held elsewhere: the next updates write new arrays."""
    with tf.Graph().as_default():
        x, train, b, other, take_b = _assigned_elsewhere("b", [SIZE[1]])
        with _session("fast_cpu") as sess:
            sess.run(tf.global_variables_initializer())
            batches = _batches(5)
            for batch in batches[:2]:
                sess.run(train, {x: batch})
            value = weakref.ref(sess._store.variables["b"])
            sess.run(train, {x: batches[2]})
            value = value()
            assert value is sess._store.variables["b"] and value.base is not None  # changed in place
            if held == "variable":
                sess.run(take_b)
                kept = sess._store.variables["other"]
                assert kept is value
            else:
                kept = value.base
            before = kept.copy()
            del value
            for batch in batches[3:]:
                sess.run(train, {x: batch})
            np.testing.assert_array_equal(kept, before)
            if held == "variable":
                np.testing.assert_array_equal(sess.run(other), before)
            assert not np.array_equal(sess.run(b), before[:SIZE[1]])


@fast_cpu
def test_a_run_whose_last_op_fails_after_the_update_changes_nothing():
    with tf.Graph().as_default():
        x, loss, train = _model(tf.train.AdamOptimizer(0.01))
        checked = tf.debugging.check_numerics(loss, "loss is not finite")
        with _session("fast_cpu") as sess:
            sess.run(tf.global_variables_initializer())
            batches = _batches(3)
            for batch in batches[:2]:
                sess.run([train, checked], {x: batch})
            before = {k: np.array(v, copy=True) for k, v in sess._store.variables.items()}
            arrays = {k: weakref.ref(v) for k, v in sess._store.variables.items() if isinstance(v, np.ndarray)}
            bad = batches[2].copy()
            bad[0, 0] = np.nan
            with pytest.raises(tf.errors.InvalidArgumentError, match="loss is not finite"):
                sess.run([train, checked], {x: bad})
            for key, value in sess._store.variables.items():
                assert key not in arrays or value is arrays[key](), key
                np.testing.assert_array_equal(value, before[key], err_msg=key)


@fast_cpu
def test_an_update_leaves_the_users_initial_array_and_variables_made_from_it_as_they_were():
    rng = np.random.default_rng(2)
    initial = rng.standard_normal(SIZE).astype(np.float32)
    kept = initial.copy()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, SIZE[0]])
        w = tf.Variable(initial, name="w")
        copy_of_w = tf.Variable(w.initialized_value(), name="copy_of_w", trainable=False)
        loss = tf.reduce_mean(tf.square(tf.matmul(x, w)))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        with _session("fast_cpu") as sess:
            sess.run(tf.global_variables_initializer())
            for batch in _batches(3):
                sess.run(train, {x: batch})
            assert not np.array_equal(sess.run(w), kept)
            np.testing.assert_array_equal(sess.run(copy_of_w), kept)
    np.testing.assert_array_equal(initial, kept)


@fast_cpu
def test_a_group_with_a_failing_update_changes_no_variable_in_place():
    """One call of an update group raises (a variable whose runtime shape no longer matches its
    gradient): the large variable that would have been updated in place keeps its values."""
    rng = np.random.default_rng(3)
    with tf.Graph().as_default():
        big = tf.Variable(rng.standard_normal(SIZE).astype(np.float32), name="big")
        small = tf.Variable(np.ones(4, np.float32), name="small")
        reshape_small = tf.assign(small, np.ones(5, np.float32), validate_shape=False)
        opt = tf.train.GradientDescentOptimizer(0.1)
        train = opt.apply_gradients([(tf.ones(SIZE), big), (tf.ones([4]), small)])
        with _session("fast_cpu") as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            sess.run(train)  # `big` is now updated in place
            array = weakref.ref(sess._store.variables["big"])
            before = array().copy()
            sess.run(reshape_small)
            with pytest.raises(tf.errors.InvalidArgumentError, match="var and delta do not have the same shape"):
                sess.run(train)
            assert sess._store.variables["big"] is array()
            np.testing.assert_array_equal(array(), before)


@fast_cpu
def test_a_later_assign_that_would_fail_on_the_variables_shape_keeps_the_update_apart():
    """The global step holds a value of another shape (assigned without validating it): its increment
    after the update fails, so the update writes new arrays, and the failed run changes nothing."""
    with tf.Graph().as_default():
        step = tf.Variable(0, name="step")
        x, loss, train = _model(tf.train.GradientDescentOptimizer(0.1), global_step=step)
        reshape_step = tf.assign(step, [1, 2], validate_shape=False)
        with _session("fast_cpu") as sess:
            sess.run(tf.global_variables_initializer())
            batches = _batches(3)
            for batch in batches[:2]:
                sess.run(train, {x: batch})
            sess.run(reshape_step)
            before = {k: np.array(v, copy=True) for k, v in sess._store.variables.items()}
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run(train, {x: batches[2]})
            for key, value in sess._store.variables.items():
                np.testing.assert_array_equal(value, before[key], err_msg=key)


@fast_cpu
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_steps_after_the_first_in_place_one_take_the_recorded_way_with_the_same_values(name, monkeypatch):
    """From the step after one that changed every variable in place, a group runs as recorded
    (`_apply_steady`), with the values of the general path."""
    from caudal.backends.fast_cpu import updates

    taken: list[bool] = []
    original = updates._Update._apply_steady

    def spy(self, *args):
        result = original(self, *args)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(updates._Update, "_apply_steady", spy)
    steady, _ = _train("fast_cpu", OPTIMIZERS[name], steps=6)
    assert taken and all(taken[-3:])
    monkeypatch.setattr(updates._Update, "_apply_steady", lambda self, *args: None)
    general, _ = _train("fast_cpu", OPTIMIZERS[name], steps=6)
    for key, want in general.items():
        np.testing.assert_array_equal(steady[key], want, err_msg=key)


@fast_cpu
def test_a_recorded_group_leaves_a_large_variable_others_hold_as_it_was():
    """The large variable, updated on its own in place, held by another variable assigned it: the
    recorded way finds it shared and the step writes a new array, as the general path does."""
    with tf.Graph().as_default():
        x, train, w, other, take_w = _assigned_elsewhere("w", SIZE)
        with _session("fast_cpu") as sess:
            sess.run(tf.global_variables_initializer())
            batches = _batches(6)
            for batch in batches[:4]:
                sess.run(train, {x: batch})
            sess.run(take_w)
            kept = sess._store.variables["other"]
            assert kept is sess._store.variables["w"]
            before = kept.copy()
            for batch in batches[4:]:
                sess.run(train, {x: batch})
            np.testing.assert_array_equal(kept, before)
            np.testing.assert_array_equal(sess.run(other), before)
            assert sess._store.variables["w"] is not kept
            assert not np.array_equal(sess.run(w), before)


@fast_cpu
def test_a_group_whose_calls_differ_in_their_scalars_is_not_recorded(monkeypatch):
    from caudal.backends.fast_cpu import updates

    descent = next(u for u in updates._UPDATES if u.op_type == "ApplyGradientDescent")
    monkeypatch.setattr(descent, "_steady", {})  # the records of other tests' groups
    rng = np.random.default_rng(5)
    with tf.Graph().as_default():
        big = tf.Variable(rng.standard_normal(SIZE).astype(np.float32), name="big")
        small = tf.Variable(np.ones(4, np.float32), name="small")
        lr = tf.placeholder(tf.float32, [])
        train = tf.group(tf.train.GradientDescentOptimizer(lr).apply_gradients([(tf.ones(SIZE), big)]),
                         tf.train.GradientDescentOptimizer(0.5).apply_gradients([(tf.ones([4]), small)]))
        with _session("fast_cpu") as sess:
            sess.run(tf.global_variables_initializer())
            start = sess.run(big)
            for _ in range(4):
                sess.run(train, {lr: 0.25})
            np.testing.assert_allclose(sess.run(big), start - 1.0, rtol=1e-6)
            np.testing.assert_array_equal(sess.run(small), np.ones(4) - 2.0)
    assert not any(len(record.kwargs) == 2 for record in descent._steady.values())
