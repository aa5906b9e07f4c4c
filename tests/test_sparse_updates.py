"""IndexedSlices gradients and the sparse updates of tf.train optimizers, against TensorFlow's values
(tests/fixtures/sparse_updates.json, written by make_sparse_update_fixtures.py with TF 2.21).

- `tf.gradients` of a gathered variable is an IndexedSlices (TF's node names), fetched as an
  IndexedSlicesValue, summed into a Tensor where one is needed, joined when all contributions are
  IndexedSlices;
- each optimizer trains an embedding table through `tf.gather` as TF does: only looked-up rows
  move (Momentum and RMSProp leave the others where they are), ids repeating within a step;
- each SparseApply op (and ScatterSub) gives TF's values with a repeated index, on every backend;
- their bad inputs raise TF's errors and change nothing.
"""
from __future__ import annotations

import json
import pathlib
import warnings
import weakref
from typing import Any

import numpy as np
import pytest

import caudal as tf
from caudal.backends import fast_cpu
from tests.session_fixtures import session_on

FIXTURE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "sparse_updates.json").read_text())
BACKENDS = ["portable", "numpy"] + (["fast_cpu"] if fast_cpu.installed() else [])
SETTINGS = FIXTURE["settings"]  # name -> (optimizer class, kwargs, dtype)


def table(dtype: str) -> np.ndarray:
    """The embedding table of make_sparse_update_fixtures.py."""
    return np.random.RandomState(7).uniform(-1, 1, (6, 3)).astype(dtype)


def build(setting: str) -> tuple:
    cls, kwargs, dtype = SETTINGS[setting]
    ids = tf.placeholder(tf.int32, [None], name="ids")
    emb = tf.Variable(table(dtype), name="emb")
    rows = tf.gather(emb, ids)
    loss = tf.reduce_sum(rows * np.array([1.0, -2.0, 0.5], dtype)) + 0.5 * tf.reduce_sum(tf.square(rows))
    opt = getattr(tf.train, cls)(**kwargs)
    return ids, opt.minimize(loss), emb, opt


# ------------------------------------------------------------------------ optimizers
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_optimizer_updates_the_looked_up_rows_as_tensorflow(setting: str, backend: str) -> None:
    """The table after every step and the slots at the end, as TF's."""
    expected = FIXTURE["optimizers"][setting]
    rtol = 1e-5 if SETTINGS[setting][2] == "float32" else 1e-10
    with tf.Graph().as_default():
        ids, train, emb, opt = build(setting)
        with session_on(backend) as sess:
            sess.run(tf.global_variables_initializer())
            for step, (step_ids, want) in enumerate(zip(FIXTURE["steps"], expected["tables"], strict=True)):
                sess.run(train, {ids: step_ids})
                np.testing.assert_allclose(sess.run(emb), want, rtol=rtol, atol=rtol, err_msg=f"step {step}")
            assert opt.get_slot_names() == sorted(expected["slots"])
            for name, want in expected["slots"].items():
                np.testing.assert_allclose(sess.run(opt.get_slot(emb, name)), want, rtol=rtol, atol=rtol,
                                           err_msg=name)


def test_rows_no_step_looked_up_never_move() -> None:
    """Row 4 is looked up in step 5 only: before that, Momentum leaves it exactly as it started."""
    with tf.Graph().as_default():
        ids, train, emb, _ = build("momentum")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for step_ids in FIXTURE["steps"][:4]:
                sess.run(train, {ids: step_ids})
            np.testing.assert_array_equal(sess.run(emb)[4], table("float32")[4])


def test_sparse_update_ops_in_the_graph() -> None:
    with tf.Graph().as_default() as graph:
        build("momentum")
        types = [op.type for op in graph.get_operations()]
        assert "SparseApplyMomentum" in types and "ApplyMomentum" not in types
        assert "Unique" in types  # repeated ids are summed before the update, as TF does
    with tf.Graph().as_default() as graph:
        build("gd")
        types = [op.type for op in graph.get_operations()]
        assert "ScatterSub" in types and "Unique" not in types


def test_apply_gradients_takes_an_indexed_slices_made_by_hand() -> None:
    with tf.Graph().as_default():
        var = tf.Variable(np.ones((4, 2), np.float32))
        grad = tf.IndexedSlices(tf.constant([[1.0, 2.0], [3.0, 4.0]]), tf.constant([2, 2]), tf.constant([4, 2]))
        train = tf.train.MomentumOptimizer(0.5, 0.9).apply_gradients([(grad, var)])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train)
            np.testing.assert_allclose(sess.run(var), [[1, 1], [1, 1], [-1, -2], [1, 1]])


def test_apply_gradients_refuses_other_gradients() -> None:
    with tf.Graph().as_default():
        var = tf.Variable(np.ones(2, np.float32))
        with pytest.raises(TypeError, match="Gradient must be convertible to a Tensor or IndexedSlices, or None"):
            tf.train.GradientDescentOptimizer(0.1).apply_gradients([("not a gradient", var)])


def test_clip_by_global_norm_keeps_indexed_slices() -> None:
    with tf.Graph().as_default():
        emb = tf.Variable(np.ones((4, 2), np.float32))
        w = tf.Variable(np.ones(2, np.float32))
        loss = tf.reduce_sum(tf.gather(emb, [0, 3]) * w)
        grads = tf.gradients(loss, [emb, w])
        clipped, norm = tf.clip_by_global_norm(grads, 1.0)
        assert isinstance(clipped[0], tf.IndexedSlices) and isinstance(clipped[1], tf.Tensor)
        by_value = tf.clip_by_value(grads[0], -0.5, 0.5)
        by_norm = tf.clip_by_norm(grads[0], 1.0)
        assert isinstance(by_value, tf.IndexedSlices) and isinstance(by_norm, tf.IndexedSlices)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            (rows, _), n, v, b = sess.run([clipped, norm, by_value, by_norm])
            np.testing.assert_allclose(n, np.sqrt(4 + 2 * 4), rtol=1e-6)  # rows of ones, then w's [2, 2]
            np.testing.assert_allclose(rows.values, np.ones((2, 2)) / np.sqrt(12), rtol=1e-6)
            np.testing.assert_array_equal(rows.indices, [0, 3])
            np.testing.assert_allclose(v.values, np.full((2, 2), 0.5))
            np.testing.assert_allclose(b.values, np.full((2, 2), 0.5), rtol=1e-6)


# ------------------------------------------------------------------------ IndexedSlices
def test_gradient_of_a_gather_is_an_indexed_slices() -> None:
    with tf.Graph().as_default():
        emb = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3))
        loss = tf.reduce_sum(tf.gather(emb, [0, 2, 2]) * tf.constant([1.0, 2.0, 3.0]))
        grad, = tf.gradients(loss, emb)
        assert isinstance(grad, tf.IndexedSlices)
        assert grad.values.name == "gradients/GatherV2_grad/Reshape:0"
        assert grad.indices.name == "gradients/GatherV2_grad/Reshape_1:0"
        assert grad.dense_shape.name == "gradients/GatherV2_grad/Shape:0"
        assert grad.dtype == tf.float32 and grad.shape.as_list() == [4, 3]
        assert str(grad).startswith("IndexedSlices(indices=Tensor(\"gradients/GatherV2_grad/Reshape_1:0\"")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            value = sess.run(grad)
            assert isinstance(value, tf.IndexedSlicesValue)
            np.testing.assert_array_equal(value.values, [[1, 2, 3]] * 3)
            np.testing.assert_array_equal(value.indices, [0, 2, 2])
            np.testing.assert_array_equal(value.dense_shape, [4, 3])
            np.testing.assert_array_equal(sess.run(tf.convert_to_tensor(grad)), [[1, 2, 3], [0, 0, 0], [2, 4, 6],
                                                                                [0, 0, 0]])
            negated = sess.run(-grad)
            np.testing.assert_array_equal(negated.values, -value.values)


def test_contributions_join_or_sum() -> None:
    with tf.Graph().as_default():
        emb = tf.Variable(np.ones((4, 3), np.float32))
        two_gathers = tf.reduce_sum(tf.gather(emb, [2])) + tf.reduce_sum(tf.gather(emb, [1, 2]))
        joined, = tf.gradients(two_gathers, emb)
        assert isinstance(joined, tf.IndexedSlices)
        with_dense = two_gathers + tf.reduce_sum(emb)
        summed, = tf.gradients(with_dense, emb)
        assert isinstance(summed, tf.Tensor)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            value = sess.run(joined)
            assert sorted(value.indices.tolist()) == [1, 2, 2]
            np.testing.assert_array_equal(sess.run(summed), [[1] * 3, [2] * 3, [3] * 3, [1] * 3])


def test_gradient_through_another_op_is_dense() -> None:
    """A gather of a computed tensor: the tensor's own op receives the summed rows."""
    with tf.Graph().as_default():
        x = tf.Variable(np.ones((3, 2), np.float32))
        loss = tf.reduce_sum(tf.gather(x * 2.0, [0, 0]))
        grad, = tf.gradients(loss, x)
        assert isinstance(grad, tf.Tensor)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(grad), [[4, 4], [0, 0], [0, 0]])


def test_fetching_without_dense_shape_and_in_structures() -> None:
    with tf.Graph().as_default():
        slices = tf.IndexedSlices(tf.constant([[1.0]]), tf.constant([0]))
        with tf.Session() as sess:
            got = sess.run({"g": slices, "list": [slices]})
            assert got["g"].dense_shape is None and got["list"][0].indices.tolist() == [0]
        with pytest.raises(ValueError, match="Tensor conversion requested for IndexedSlices for argument `value` "
                                             "without dense_shape"):
            tf.convert_to_tensor(slices)
        with pytest.raises(ValueError, match="Incompatible tensor conversion requested to `dtype` int32"):
            tf.convert_to_tensor(tf.IndexedSlices(tf.constant([[1.0]]), tf.constant([0]), tf.constant([2, 1])),
                                 dtype=tf.int32)
        assert tf.convert_to_tensor_or_indexed_slices(slices) is slices


def test_densifying_an_unknown_shape_warns_as_tensorflow() -> None:
    with tf.Graph().as_default():
        shape = tf.placeholder(tf.int32, [2])
        slices = tf.IndexedSlices(tf.constant([[1.0, 2.0]]), tf.constant([1]), shape)
        with pytest.warns(UserWarning, match="to a dense Tensor of unknown shape. This may consume a large amount"):
            dense = tf.convert_to_tensor(slices)
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(dense, {shape: [3, 2]}), [[0, 0], [1, 2], [0, 0]])
    with tf.Graph().as_default(), warnings.catch_warnings():
        warnings.simplefilter("error")
        emb = tf.Variable(np.ones((4, 3), np.float32))
        grad, = tf.gradients(tf.reduce_sum(tf.gather(emb, [1]) * 2.0), emb)
        tf.convert_to_tensor(grad)  # a known dense shape: no warning


def test_numeric_gradient_check_reads_indexed_slices() -> None:
    with tf.Graph().as_default(), tf.Session():
        x = tf.placeholder(tf.float64, [4, 2])
        y = tf.gather(x, [3, 1, 3]) * 2.0
        theoretical, numerical = tf.test.compute_gradient(x, [4, 2], y, [3, 2],
                                                          x_init_value=np.arange(8.0).reshape(4, 2))
        np.testing.assert_allclose(theoretical, numerical, atol=1e-6)


# ------------------------------------------------------------------------ the ops
OP_CASES = FIXTURE["op_cases"]  # case -> (slot count, scalars (None: grad, then indices), attrs)
_DEFAULT_ATTRS = {"use_nesterov": False, "update_slots": True, "multiply_linear_by_lr": False}


def op_arrays() -> dict:
    """The inputs of make_sparse_update_fixtures.py's op runs."""
    rng = np.random.RandomState(11)
    return {"var": rng.uniform(-1, 1, (5, 3)).astype(np.float32),
            "slot_a": rng.uniform(0.1, 1, (5, 3)).astype(np.float32),
            "slot_b": rng.uniform(0.1, 1, (5, 3)).astype(np.float32),
            "slot_c": rng.uniform(0.1, 1, (5, 3)).astype(np.float32),
            "grad": rng.uniform(-1, 1, (3, 3)).astype(np.float32),
            "indices": np.array([3, 0, 3], np.int32)}


def op_type(case: str) -> str:
    for name in sorted(_KERNEL_ATTRS, key=len, reverse=True):
        if case.startswith(name):
            return name
    raise KeyError(case)


_KERNEL_ATTRS = {"SparseApplyMomentum": ("use_nesterov",), "SparseApplyAdagrad": ("update_slots",),
                 "SparseApplyAdadelta": (), "SparseApplyRMSProp": (), "SparseApplyCenteredRMSProp": (),
                 "SparseApplyFtrl": ("multiply_linear_by_lr",), "SparseApplyFtrlV2": ("multiply_linear_by_lr",),
                 "SparseApplyProximalGradientDescent": (), "SparseApplyProximalAdagrad": ()}


def sparse_apply(case: str, arrays: dict, grad: tf.Tensor | None = None, indices: tf.Tensor | None = None) -> tuple:
    """(update op, variable, slots) of `case` on variables holding `arrays`."""
    n_slots, scalars, attrs = OP_CASES[case]
    kind = op_type(case)
    var = tf.Variable(arrays["var"], name="var")
    slots = [tf.Variable(arrays[f"slot_{k}"], name=f"slot_{k}") for k in "abc"[:n_slots]]
    inputs = []
    for s in scalars:
        if s is None:
            inputs += [tf.constant(arrays["grad"]) if grad is None else grad,
                       tf.constant(arrays["indices"]) if indices is None else indices]
        else:
            inputs.append(tf.constant(np.float32(s)))
    op_attrs = {"T": tf.float32, "Tindices": inputs[[i for i, s in enumerate(scalars) if s is None][0] + 1].dtype,
                "use_locking": False}
    op_attrs.update({name: attrs.get(name, _DEFAULT_ATTRS[name]) for name in _KERNEL_ATTRS[kind]})
    out = var.graph.create_op(kind, [var._ref()] + [s._ref() for s in slots] + inputs, op_attrs, kind)
    return out.outputs[0], var, slots


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(OP_CASES))
def test_sparse_apply_op_as_tensorflow(case: str, backend: str) -> None:
    """One run with index 3 named twice: updated twice, in order, as TF's kernels do."""
    expected = FIXTURE["ops"][case]
    with tf.Graph().as_default():
        out, var, slots = sparse_apply(case, op_arrays())
        with session_on(backend) as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_allclose(sess.run(out), expected["var"], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(sess.run(var), expected["var"], rtol=1e-5, atol=1e-6)
            for slot, want in zip(slots, expected["slots"], strict=True):
                np.testing.assert_allclose(sess.run(slot), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_scatter_sub_adds_up_repeated_indices(backend: str) -> None:
    with tf.Graph().as_default():
        var = tf.Variable(np.ones((3, 2), np.float32))
        out = tf.scatter_sub(var, [1, 1, 0], np.arange(6, dtype=np.float32).reshape(3, 2))
        assert out.op.type == "ScatterSub"
        with session_on(backend) as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(out), [[-3, -4], [-1, -3], [1, 1]])
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = 3 is not in \[0, 3\)"):
                sess.run(tf.scatter_sub(var, [3], [[1.0, 1.0]]))
            np.testing.assert_array_equal(sess.run(var), [[-3, -4], [-1, -3], [1, 1]])


# ------------------------------------------------------------------------ bad inputs
RUN_ERRORS = {  # what TF 2.21 says when the run fails
    "index_out_of_range": ({"indices": [0, 9]}, "Index 9 at offset 1 in indices is out of range"),
    "negative_index": ({"indices": [-1, 0]}, "Index -1 at offset 0 in indices is out of range"),
    "grad_rows": ({"grad": np.ones((3, 3), np.float32)}, "grad must be the same size as indices in the first "
                                                         "dimension."),
    "grad_columns": ({"grad": np.ones((2, 2), np.float32)}, "var and grad must match in dimension 1"),
    "indices_matrix": ({"indices": [[0, 1]]}, "indices must be one-dimensional"),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(RUN_ERRORS))
def test_bad_inputs_fail_the_run_and_change_nothing(case: str, backend: str) -> None:
    feed, message = RUN_ERRORS[case]
    arrays = op_arrays()
    with tf.Graph().as_default():
        grad = tf.placeholder(tf.float32, None)
        indices = tf.placeholder(tf.int32, None)
        out, var, slots = sparse_apply("SparseApplyMomentum", arrays, grad, indices)
        with session_on(backend) as sess:
            sess.run(tf.global_variables_initializer())
            values = {grad: feed.get("grad", np.ones((2, 3), np.float32)), indices: feed.get("indices", [0, 1])}
            with pytest.raises(tf.errors.InvalidArgumentError, match=message):
                sess.run(out, values)
            np.testing.assert_array_equal(sess.run(var), arrays["var"])
            np.testing.assert_array_equal(sess.run(slots[0]), arrays["slot_a"])


def momentum_op(var: tf.Variable, accum: tf.Variable, lr: tf.Tensor, grad: tf.Tensor, indices: tf.Tensor) -> tf.Tensor:
    """A SparseApplyMomentum node (momentum 0.9), built as TF's gen_training_ops builds it."""
    return var.graph.create_op("SparseApplyMomentum", [var._ref(), accum._ref(), lr, grad, indices, tf.constant(0.9)],
                               {"T": tf.float32, "Tindices": tf.int32, "use_locking": False, "use_nesterov": False},
                               "SparseApplyMomentum").outputs[0]


def test_slot_of_another_shape_fails_the_run() -> None:
    with tf.Graph().as_default():
        var = tf.Variable(np.ones((4, 3), np.float32))
        accum = tf.Variable(np.ones((5, 3), np.float32), validate_shape=False)
        out = momentum_op(var, accum, tf.constant(0.1), tf.constant(np.ones((2, 3), np.float32)), tf.constant([0, 1]))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(tf.errors.InvalidArgumentError,
                               match=r"var and accum do not have the same shape\[4,3\] \[5,3\]"):
                sess.run(out)
            np.testing.assert_array_equal(sess.run(var), np.ones((4, 3)))


def test_hyperparameter_that_is_not_a_scalar_fails_the_run() -> None:
    with tf.Graph().as_default():
        lr = tf.placeholder(tf.float32, None)
        var = tf.Variable(np.ones((4, 3), np.float32))
        accum = tf.Variable(np.ones((4, 3), np.float32))
        out = momentum_op(var, accum, lr, tf.constant(np.ones((2, 3), np.float32)), tf.constant([0, 1]))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"lr is not a scalar : \[2\]"):
                sess.run(out, {lr: [0.1, 0.2]})


BUILD_ERRORS = {  # what TF 2.21 says when the node is built: (grad, indices), message
    "indices_matrix": ((np.ones((2, 3), np.float32), [[0, 1]]), "Shape must be rank 1 but is rank 2"),
    "grad_rows": ((np.ones((3, 3), np.float32), [0, 1]), "Dimensions must be equal, but are 2 and 3"),
    "grad_columns": ((np.ones((2, 2), np.float32), [0, 1]),
                     r"Dimension 1 in both shapes must be equal, but are 3 and 2. Shapes are \[4,3\] and \[\?,2\]."),
    "grad_rank": ((np.ones(2, np.float32), [0, 1]), "Shapes must be equal rank, but are 2 and 1"),
}


@pytest.mark.parametrize("case", sorted(BUILD_ERRORS))
def test_bad_static_shapes_fail_where_the_node_is_built(case: str) -> None:
    (grad, indices), message = BUILD_ERRORS[case]
    with tf.Graph().as_default() as graph:
        var = tf.Variable(np.ones((4, 3), np.float32))
        accum = tf.Variable(np.ones((4, 3), np.float32))
        with pytest.raises(ValueError, match=message):
            momentum_op(var, accum, tf.constant(0.1), tf.constant(grad), tf.constant(indices))
        assert not [op for op in graph.get_operations() if op.type == "SparseApplyMomentum"]


@pytest.mark.jax
def test_optimizer_on_the_jax_backend() -> None:
    pytest.importorskip("jax")
    test_optimizer_updates_the_looked_up_rows_as_tensorflow("rmsprop_momentum", "jax")
    test_optimizer_updates_the_looked_up_rows_as_tensorflow("adam", "jax")


# ------------------------------------------------------------------------ in place, and only where safe
def _stored(sess: tf.Session, variable: tf.Variable) -> np.ndarray:
    return sess._store.variables[variable.op.name]


def test_a_sparse_step_changes_the_table_in_place() -> None:
    """No copy of the table per step (a step costs its rows); what was fetched before stays as it was."""
    with tf.Graph().as_default():
        ids, train, emb, _ = build("momentum")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {ids: [0]})  # the first update may copy (the initial value's array)
            table_before, fetched = weakref.ref(_stored(sess, emb)), sess.run(emb)  # (a weak reference: a
            sess.run(train, {ids: [1, 2]})                                          # strong one would share it)
            assert _stored(sess, emb) is table_before()
            assert not np.array_equal(sess.run(emb), fetched)
            np.testing.assert_array_equal(fetched[1:3], table("float32")[1:3])


def test_a_failed_run_puts_the_changed_rows_back() -> None:
    with tf.Graph().as_default():
        table_var = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3))
        first = tf.scatter_sub(table_var, [1, 1], np.ones((2, 3), np.float32))
        with tf.control_dependencies([first]):
            second = tf.scatter_add(table_var, [0, 9], np.ones((2, 3), np.float32))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.scatter_add(table_var, [3], np.zeros((1, 3), np.float32)))  # an array of its own
            stored = weakref.ref(_stored(sess, table_var))
            sess.run(first)
            assert _stored(sess, table_var) is stored()  # in place
            expected = np.arange(12, dtype=np.float32).reshape(4, 3)
            expected[1] -= 2
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = 9 is not in \[0, 4\)"):
                sess.run(second)  # `first` changes row 1 in place again, then `second` fails
            assert _stored(sess, table_var) is stored()
            np.testing.assert_array_equal(sess.run(table_var), expected)


def test_an_array_another_variable_shares_is_copied() -> None:
    with tf.Graph().as_default():
        source = tf.Variable(np.zeros((3, 2), np.float32))
        copy = tf.Variable(np.ones((3, 2), np.float32))
        share = tf.assign(copy, source)  # both variables now hold one array
        update = tf.scatter_add(source, [2], [[5.0, 5.0]])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(share)
            sess.run(update)
            np.testing.assert_array_equal(sess.run(copy), np.zeros((3, 2)))
            np.testing.assert_array_equal(sess.run(source), [[0, 0], [0, 0], [5, 5]])


def test_a_value_read_before_the_update_keeps_its_values() -> None:
    """A snapshot read earlier in the run and used after the update holds the array: the update copies."""
    with tf.Graph().as_default():
        var = tf.Variable(np.zeros((3, 2), np.float32))
        snapshot = tf.identity(var)
        with tf.control_dependencies([snapshot]):
            update = tf.scatter_add(var, [0], [[1.0, 1.0]])
        with tf.control_dependencies([update]):
            later = snapshot * 1.0
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(tf.scatter_add(var, [1], [[0.0, 0.0]]))
            np.testing.assert_array_equal(sess.run(later), np.zeros((3, 2)))
            np.testing.assert_array_equal(sess.run(var), [[1, 1], [0, 0], [0, 0]])


# ------------------------------------------------------------------------ fast_cpu's row loop
@pytest.mark.skipif(not fast_cpu.installed(), reason="the fast extra is not installed")
@pytest.mark.parametrize("ids_dtype", [np.int32, np.int64])
def test_rows_added_on_numba_are_numpys_to_the_bit(ids_dtype: Any) -> None:
    """ScatterAdd, ScatterSub and UnsortedSegmentSum on fast_cpu (numba loaded) against the numpy backend,
    with repeated ids, an id out of range (UnsortedSegmentSum drops it) and a float64 table (NumPy's)."""
    pytest.importorskip("numba")
    from caudal.backends.fast_cpu import loops

    loops._kernels()
    rng = np.random.default_rng(3)
    rows = (rng.standard_normal((40, 5)) * rng.choice([1e-4, 1.0, 1e4], (40, 5))).astype(np.float32)
    ids = np.minimum(rng.zipf(1.5, 40), 12).astype(ids_dtype) - 1
    segment_ids = ids.copy()
    segment_ids[3] = 99
    got = {}
    for backend in ("numpy", "fast_cpu"):
        with tf.Graph().as_default():
            table = tf.Variable(rng.standard_normal((12, 5)).astype(np.float32) if backend == "numpy"
                                else got["numpy"][0], name="table")
            wide = tf.Variable(np.ones((12, 5)), name="wide")  # float64: NumPy's scatter
            add = tf.scatter_add(table, ids, rows)
            with tf.control_dependencies([add]):
                sub = tf.scatter_sub(table, ids[::-1], rows * 3)
            sums = tf.unsorted_segment_sum(rows, segment_ids, 12)
            wide_sub = tf.scatter_sub(wide, ids, rows.astype(np.float64))
            with session_on(backend) as sess:
                sess.run(tf.global_variables_initializer())
                start = sess.run(table)
                got[backend] = (start, sess.run(sub), sess.run(sums), sess.run(wide_sub))
    for a, b in zip(got["numpy"][1:], got["fast_cpu"][1:], strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8))


def test_gradient_helpers_of_contrib_scale_and_summarise_the_rows() -> None:
    """optimize_loss's and slim's gradient multipliers scale an IndexedSlices' rows and keep it sparse, as TF."""
    from caudal.contrib import layers, slim

    with tf.Graph().as_default():
        emb = tf.Variable(np.ones((5, 2), np.float32), name="emb")
        ids = tf.placeholder(tf.int32, [None])
        loss = tf.reduce_sum(tf.square(tf.gather(emb, ids)))
        grads = tf.train.GradientDescentOptimizer(0.1).compute_gradients(loss)
        scaled = slim.learning.multiply_gradients(grads, {emb: 3.0})
        assert isinstance(scaled[0][0], tf.IndexedSlices)
        assert len(slim.learning.add_gradients_summaries(scaled)) == 2
        train = layers.optimize_loss(loss, tf.train.get_or_create_global_step(), 0.1, "SGD",
                                     gradient_multipliers={emb: 2.0}, summaries=["gradients", "gradient_norm"])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_allclose(sess.run(scaled[0][0], {ids: [1]}).values, [[6.0, 6.0]])
            sess.run(train, {ids: [1, 1]})  # row 1: 1 - 0.1 * 2 * (2 + 2)
            np.testing.assert_allclose(sess.run(emb), [[1, 1], [0.2, 0.2], [1, 1], [1, 1], [1, 1]], rtol=1e-6)


# ------------------------------------------------------------------------ partitioned tables
def partitions() -> list[np.ndarray]:
    """The partitions of make_sparse_update_fixtures.py: 7 rows split 3, 2, 2."""
    table = np.random.RandomState(5).uniform(-1, 1, (7, 2)).astype(np.float32)
    return [table[:3], table[3:5], table[5:]]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(FIXTURE["partitioned"]))
def test_lookup_across_partitions_as_tensorflow(case: str, backend: str) -> None:
    """Each partition's gradient is an IndexedSlices of its own rows, so Momentum moves only rows looked up."""
    strategy, norm = case.split("_")
    expected = FIXTURE["partitioned"][case]
    with tf.Graph().as_default():
        parts = [tf.Variable(p, name=f"part_{i}") for i, p in enumerate(partitions())]
        ids = tf.placeholder(tf.int32, [None], name="ids")
        rows = tf.nn.embedding_lookup(parts, ids, partition_strategy=strategy,
                                      max_norm=None if norm == "None" else float(norm))
        loss = tf.reduce_sum(rows * np.array([1.0, -3.0], np.float32))
        grads = tf.gradients(loss, parts)
        assert all(isinstance(g, tf.IndexedSlices) for g in grads)
        train = tf.train.MomentumOptimizer(0.1, 0.9).minimize(loss)
        with session_on(backend) as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_allclose(sess.run(rows, {ids: [6, 0, 3]}), expected["looked_up"], rtol=1e-6)
            for step, (step_ids, want) in enumerate(zip(FIXTURE["partition_steps"], expected["tables"], strict=True)):
                sess.run(train, {ids: step_ids})
                for p, w in zip(parts, want, strict=True):
                    np.testing.assert_allclose(sess.run(p), w, rtol=1e-5, atol=1e-6, err_msg=f"step {step}")


@pytest.mark.skipif(not fast_cpu.installed(), reason="the fast extra is not installed")
def test_no_rows_to_add_on_numba() -> None:
    pytest.importorskip("numba")
    from caudal.backends.fast_cpu import loops

    loops._kernels()
    with tf.Graph().as_default():
        var = tf.Variable(np.ones((3, 2), np.float32))
        nothing = tf.scatter_add(var, np.zeros(0, np.int32), np.zeros((0, 2), np.float32))
        sums = tf.unsorted_segment_sum(np.zeros((0, 2), np.float32), np.zeros(0, np.int32), 3)
        with session_on("fast_cpu") as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(nothing), np.ones((3, 2)))
            np.testing.assert_array_equal(sess.run(sums), np.zeros((3, 2)))


# ------------------------------------------------------------------------ tf.keras Embedding
KERAS_FIXTURE = json.loads((pathlib.Path(__file__).parent / "fixtures" / "keras_embedding_updates.json").read_text())


@pytest.mark.parametrize("setting", sorted(KERAS_FIXTURE["settings"]))
def test_keras_embedding_updates_as_tf_keras(setting: str) -> None:
    """SGD (with momentum), RMSprop with momentum and Adadelta update only the rows a batch looked up,
    the others as their dense update (every row's moments decay), as TF-Keras's graph-mode optimizers."""
    keras = tf.keras
    cls, kwargs = KERAS_FIXTURE["settings"][setting]
    with tf.Graph().as_default(), tf.Session() as sess:
        keras.backend.set_session(sess)
        table = np.random.RandomState(3).uniform(-1, 1, (6, 3)).astype(np.float32)
        model = keras.Sequential([
            keras.layers.Embedding(6, 3, input_length=2, embeddings_initializer=keras.initializers.Constant(table)),
            keras.layers.Flatten(), keras.layers.Dense(1, kernel_initializer="ones", use_bias=False)])
        model.compile(optimizer=getattr(keras.optimizers, cls)(**kwargs), loss="mse")
        for step, ((x, y), want) in enumerate(zip(KERAS_FIXTURE["steps"], KERAS_FIXTURE["tables"][setting],
                                                  strict=True)):
            model.train_on_batch(np.array(x, np.int32), np.array(y, np.float32))
            np.testing.assert_allclose(model.layers[0].get_weights()[0], want, rtol=1e-5, atol=1e-6,
                                       err_msg=f"step {step}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_scatter_update_replaces_rows(backend: str) -> None:
    with tf.Graph().as_default():
        var = tf.Variable(np.zeros((4, 2), np.float32))
        out = tf.scatter_update(var, [1, 3], [[1.0, 2.0], [3.0, 4.0]])
        assert out.op.type == "ScatterUpdate" and out.op.get_attr("use_locking") is True
        with session_on(backend) as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(out), [[0, 0], [1, 2], [0, 0], [3, 4]])
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = 4 is not in \[0, 4\)"):
                sess.run(tf.scatter_update(var, [4], [[9.0, 9.0]]))
            np.testing.assert_array_equal(sess.run(var), [[0, 0], [1, 2], [0, 0], [3, 4]])
