"""TF1's RNN cells: one step against NumPy, TF's variable names and scopes, wrappers, and bad input.

Whole sequences against TensorFlow's own numbers are in tests/test_rnn.py (fixtures recorded
with TF 2.21); these tests pin the cell semantics (gate order i, j, f, o, forget bias, GRU's
r/u split, peepholes, clipping, projection) with NumPy references written from the equations.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import caudal as tf

cells = tf.nn.rnn_cell


def sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _run(fetches, feed_dict=None, assign=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for variable, value in (assign or {}).items():
            variable.load(value, sess)
        return sess.run(fetches, feed_dict)


def _uniform(*shape, seed=0):
    return np.random.default_rng(seed).uniform(-0.5, 0.5, shape).astype(np.float32)


# ------------------------------------------------------------- one step
def test_basic_lstm_cell_variables_and_gate_order():
    cell = cells.BasicLSTMCell(4, forget_bias=0.3)
    x, c0, h0 = _uniform(2, 3, seed=1), _uniform(2, 4, seed=2), _uniform(2, 4, seed=3)
    with tf.variable_scope("rnn"):
        output, state = cell(tf.constant(x), cells.LSTMStateTuple(tf.constant(c0), tf.constant(h0)))
    kernel, bias = cell.variables
    assert [v.op.name for v in cell.variables] == ["rnn/basic_lstm_cell/kernel", "rnn/basic_lstm_cell/bias"]
    assert kernel.shape.as_list() == [3 + 4, 16] and bias.shape.as_list() == [16]
    assert cell.trainable_weights == [kernel, bias]
    k, b = _uniform(7, 16, seed=4), _uniform(16, seed=5)
    got_output, got_state = _run([output, state], assign={kernel: k, bias: b})
    i, j, f, o = np.split(np.concatenate([x, h0], 1) @ k + b, 4, axis=1)
    c = c0 * sigmoid(f + 0.3) + sigmoid(i) * np.tanh(j)
    h = np.tanh(c) * sigmoid(o)
    np.testing.assert_allclose(got_state.c, c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_state.h, h, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got_output, got_state.h)
    assert isinstance(got_state, cells.LSTMStateTuple)


def test_basic_lstm_cell_with_a_concatenated_state():
    cell = cells.BasicLSTMCell(3, state_is_tuple=False)
    assert cell.state_size == 6 and cell.output_size == 3
    state = cell.zero_state(2, tf.float32)
    assert state.shape.as_list() == [2, 6]
    output, new_state = cell(tf.ones([2, 5]), state)
    got_output, got_state = _run([output, new_state])
    np.testing.assert_array_equal(got_state[:, 3:], got_output)


def test_lstm_cell_with_peepholes_clipping_and_projection():
    cell = cells.LSTMCell(4, use_peepholes=True, cell_clip=0.2, num_proj=2, proj_clip=0.05, forget_bias=0.5)
    assert cell.state_size == cells.LSTMStateTuple(4, 2) and cell.output_size == 2
    x, c0, m0 = _uniform(3, 2, seed=1), _uniform(3, 4, seed=2), _uniform(3, 2, seed=3)
    output, state = cell(tf.constant(x), (tf.constant(c0), tf.constant(m0)))
    names = [v.op.name for v in cell.variables]
    assert names == ["lstm_cell/kernel", "lstm_cell/bias", "lstm_cell/w_f_diag", "lstm_cell/w_i_diag",
                     "lstm_cell/w_o_diag", "lstm_cell/projection/kernel"]
    values = {v: _uniform(*v.shape.as_list(), seed=10 + n) for n, v in enumerate(cell.variables)}
    k, b, wf, wi, wo, p = values.values()
    got_output, got_state = _run([output, state], assign=values)
    i, j, f, o = np.split(np.concatenate([x, m0], 1) @ k + b, 4, axis=1)
    c = sigmoid(f + 0.5 + wf * c0) * c0 + sigmoid(i + wi * c0) * np.tanh(j)
    c = np.clip(c, -0.2, 0.2)
    m = np.clip((sigmoid(o + wo * c) * np.tanh(c)) @ p, -0.05, 0.05)
    np.testing.assert_allclose(got_state.c, c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_output, m, rtol=1e-5, atol=1e-6)


def test_lstm_cell_initializer_and_concatenated_state():
    cell = cells.LSTMCell(3, initializer=tf.constant_initializer(0.25), state_is_tuple=False, num_proj=2)
    assert cell.state_size == 5
    output, state = cell(tf.ones([1, 2]), cell.zero_state(1, tf.float32))
    kernel, bias, projection = _run(cell.variables)
    assert (kernel == 0.25).all() and (projection == 0.25).all() and (bias == 0).all()
    assert state.shape.as_list() == [1, 5] and output.shape.as_list() == [1, 2]


def test_gru_cell_step_and_initial_biases():
    cell = cells.GRUCell(3)
    x, h0 = _uniform(2, 4, seed=1), _uniform(2, 3, seed=2)
    output, state = cell(tf.constant(x), tf.constant(h0))
    names = [v.op.name for v in cell.variables]
    assert names == ["gru_cell/gates/kernel", "gru_cell/gates/bias", "gru_cell/candidate/kernel",
                     "gru_cell/candidate/bias"]
    gates_bias, candidate_bias = _run([cell.variables[1], cell.variables[3]])
    assert (gates_bias == 1).all() and (candidate_bias == 0).all()
    values = {v: _uniform(*v.shape.as_list(), seed=20 + n) for n, v in enumerate(cell.variables)}
    gk, gb, ck, cb = values.values()
    got = _run(output, assign=values)
    r, u = np.split(sigmoid(np.concatenate([x, h0], 1) @ gk + gb), 2, axis=1)
    candidate = np.tanh(np.concatenate([x, r * h0], 1) @ ck + cb)
    np.testing.assert_allclose(got, u * h0 + (1 - u) * candidate, rtol=1e-5, atol=1e-6)
    assert state is output


def test_basic_rnn_cell_with_an_activation_and_initializers_of_the_gru():
    cell = cells.BasicRNNCell(2, activation=tf.nn.relu)
    x, h0 = _uniform(3, 2, seed=1), _uniform(3, 2, seed=2)
    output, _ = cell(tf.constant(x), tf.constant(h0))
    values = {v: _uniform(*v.shape.as_list(), seed=30 + n) for n, v in enumerate(cell.variables)}
    k, b = values.values()
    np.testing.assert_allclose(_run(output, assign=values), np.maximum(np.concatenate([x, h0], 1) @ k + b, 0),
                               rtol=1e-5, atol=1e-6)
    gru = cells.GRUCell(2, kernel_initializer=tf.ones_initializer(), bias_initializer=tf.constant_initializer(0.5))
    gru(tf.ones([1, 1]), tf.zeros([1, 2]))
    for value in _run(gru.variables):
        assert (value == (0.5 if value.ndim == 1 else 1.0)).all()


def test_float64_cells_make_float64_variables():
    cell = cells.GRUCell(2)
    output, _ = cell(tf.ones([1, 3], tf.float64), tf.zeros([1, 2], tf.float64))
    assert output.dtype == tf.float64 and all(v.dtype.base_dtype == tf.float64 for v in cell.variables)


def test_contrib_layer_norm_basic_lstm_cell():
    cell = tf.contrib.rnn.LayerNormBasicLSTMCell(4, forget_bias=0.5, norm_gain=1.5, norm_shift=0.1)
    x, c0, h0 = _uniform(2, 3, seed=1), _uniform(2, 4, seed=2), _uniform(2, 4, seed=3)
    with tf.variable_scope("rnn"):
        output, state = cell(tf.constant(x), cells.LSTMStateTuple(tf.constant(c0), tf.constant(h0)))
    names = [v.op.name for v in cell.trainable_weights]
    assert names == ["rnn/layer_norm_basic_lstm_cell/kernel"] + [
        f"rnn/layer_norm_basic_lstm_cell/{part}/{param}"
        for part in ("input", "transform", "forget", "output", "state") for param in ("gamma", "beta")]
    kernel = _uniform(7, 16, seed=4)
    got_output, got_state = _run([output, state], assign={cell.trainable_weights[0]: kernel})

    def norm(v):
        return (v - v.mean(1, keepdims=True)) / np.sqrt(v.var(1, keepdims=True) + 1e-12) * 1.5 + 0.1

    i, j, f, o = (norm(v) for v in np.split(np.concatenate([x, h0], 1) @ kernel, 4, axis=1))
    c = norm(c0 * sigmoid(f + 0.5) + sigmoid(i) * np.tanh(j))
    np.testing.assert_allclose(got_state.c, c, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_output, np.tanh(c) * sigmoid(o), rtol=1e-4, atol=1e-5)
    plain = tf.contrib.rnn.LayerNormBasicLSTMCell(3, layer_norm=False, dropout_keep_prob=0.5)
    plain(tf.ones([1, 2]), plain.zero_state(1, tf.float32))
    assert [v.op.name for v in plain.variables] == ["layer_norm_basic_lstm_cell/kernel",
                                                    "layer_norm_basic_lstm_cell/bias"]


# ----------------------------------------------------- sizes and zero state
def test_zero_states_have_tfs_structure_shapes_and_names():
    lstm = cells.BasicLSTMCell(3)
    state = lstm.zero_state(2, tf.float32)
    assert isinstance(state, cells.LSTMStateTuple)
    assert state.c.op.name == "BasicLSTMCellZeroState/zeros" and state.c.shape.as_list() == [2, 3]
    assert state.dtype == tf.float32
    batch = tf.placeholder(tf.int32, [])
    assert lstm.zero_state(batch, tf.float64).h.shape.as_list() == [None, 3]
    multi = cells.MultiRNNCell([cells.GRUCell(2), cells.BasicLSTMCell(4)])
    assert multi.state_size == (2, cells.LSTMStateTuple(4, 4)) and multi.output_size == 4
    gru_state, lstm_state = multi.zero_state(5, tf.float32)
    assert gru_state.op.name == "MultiRNNCellZeroState/GRUCellZeroState/zeros"
    assert lstm_state.c.shape.as_list() == [5, 4]
    flat = cells.MultiRNNCell([cells.GRUCell(2), cells.GRUCell(3)], state_is_tuple=False)
    assert flat.state_size == 5 and flat.zero_state(4, tf.float32).shape.as_list() == [4, 5]
    assert _run(lstm.zero_state(2, tf.float32)).c.tolist() == [[0, 0, 0], [0, 0, 0]]
    initial = cells.GRUCell(3).get_initial_state(inputs=tf.zeros([6, 2]))
    assert initial.shape.as_list() == [6, 3] and initial.dtype == tf.float32
    with pytest.raises(ValueError, match="batch_size and dtype cannot be None while constructing initial state"):
        cells.GRUCell(3).get_initial_state()


def test_lstm_state_tuple_dtype_must_be_consistent():
    state = cells.LSTMStateTuple(tf.zeros([1]), tf.zeros([1], tf.float64))
    with pytest.raises(TypeError, match=re.escape("Inconsistent internal state: <dtype: 'float32'> vs "
                                                  "<dtype: 'float64'>")):
        state.dtype  # noqa: B018


# ------------------------------------------------------ scopes and sharing
def test_each_cell_object_gets_its_own_unique_scope():
    first, second = cells.BasicLSTMCell(2), cells.BasicLSTMCell(2)
    x = tf.ones([1, 3])
    first(x, first.zero_state(1, tf.float32))
    second(x, second.zero_state(1, tf.float32))
    named = cells.GRUCell(2, name="decoder")
    named(x, tf.zeros([1, 2]))
    assert [v.op.name for v in tf.global_variables()] == [
        "basic_lstm_cell/kernel", "basic_lstm_cell/bias", "basic_lstm_cell_1/kernel", "basic_lstm_cell_1/bias",
        "decoder/gates/kernel", "decoder/gates/bias", "decoder/candidate/kernel", "decoder/candidate/bias"]


def test_calling_a_cell_again_reuses_its_variables_and_name_scope():
    cell = cells.BasicRNNCell(3)
    x = tf.ones([2, 3])
    with tf.variable_scope("outer"):
        out1, state = cell(x, cell.zero_state(2, tf.float32), scope="myscope")
        out2, _ = cell(x, state, scope="myscope")
    assert [v.op.name for v in tf.global_variables()] == ["outer/myscope/kernel", "outer/myscope/bias"]
    assert out1.op.name == "outer/myscope/Tanh" and out2.op.name == "outer/myscope/Tanh_1"


def test_reuse_true_cells_share_variables_by_scope():
    x = tf.ones([1, 2])
    with tf.variable_scope("shared"):
        cells.GRUCell(2)(x, tf.zeros([1, 2]))
    with tf.variable_scope("shared"):
        twin = cells.GRUCell(2, reuse=True)
        twin(x, tf.zeros([1, 2]))
    assert len(tf.global_variables()) == 4 and len(twin.variables) == 4
    with pytest.raises(ValueError, match=re.escape("Variable elsewhere/gru_cell/gates/kernel does not exist")):
        with tf.variable_scope("elsewhere"):
            cells.GRUCell(2, reuse=True)(x, tf.zeros([1, 2]))


def test_a_cell_that_calls_get_variable_tracks_its_weights():
    class ScaleCell(cells.RNNCell):
        @property
        def state_size(self):
            return 2

        @property
        def output_size(self):
            return 2

        def call(self, inputs, state):
            scale = tf.get_variable("scale", [2], initializer=tf.ones_initializer())
            count = tf.get_variable("count", [], trainable=False, initializer=tf.zeros_initializer())
            return inputs * scale + count, state

    cell = ScaleCell()
    with tf.variable_scope("rnn"):
        output, _ = cell(tf.ones([1, 2]), tf.zeros([1, 2]))
        cell(tf.ones([1, 2]), tf.zeros([1, 2]))
    assert [v.op.name for v in cell.trainable_weights] == ["rnn/scale_cell/scale"]
    assert [v.op.name for v in cell.non_trainable_weights] == ["rnn/scale_cell/count"]
    assert output.op.name.startswith("rnn/rnn/scale_cell/")


def test_multi_rnn_cell_scopes_weights_and_concatenated_state():
    multi = cells.MultiRNNCell([cells.GRUCell(2), cells.BasicRNNCell(3)], state_is_tuple=False)
    with tf.variable_scope("rnn"):
        output, state = multi(tf.ones([4, 1]), multi.zero_state(4, tf.float32))
    assert [v.op.name for v in multi.trainable_weights] == [
        "rnn/multi_rnn_cell/cell_0/gru_cell/gates/kernel", "rnn/multi_rnn_cell/cell_0/gru_cell/gates/bias",
        "rnn/multi_rnn_cell/cell_0/gru_cell/candidate/kernel", "rnn/multi_rnn_cell/cell_0/gru_cell/candidate/bias",
        "rnn/multi_rnn_cell/cell_1/basic_rnn_cell/kernel", "rnn/multi_rnn_cell/cell_1/basic_rnn_cell/bias"]
    assert multi.variables == multi.trainable_weights
    got_output, got_state = _run([output, state])
    assert got_state.shape == (4, 5)
    np.testing.assert_array_equal(got_state[:, 2:], got_output)


# ---------------------------------------------------------------- wrappers
def test_dropout_wrapper_with_keep_probability_one_adds_no_dropout():
    cell = cells.DropoutWrapper(cells.GRUCell(2))
    output, _ = cell(tf.ones([1, 2]), cell.zero_state(1, tf.float32))
    assert not [op for op in tf.get_default_graph().get_operations() if "dropout" in op.name]
    assert [v.op.name for v in cell.variables] == ["gru_cell/gates/kernel", "gru_cell/gates/bias",
                                                   "gru_cell/candidate/kernel", "gru_cell/candidate/bias"]
    assert cell.wrapped_cell.output_size == cell.output_size == 2


def test_dropout_wrapper_drops_and_scales_outputs_and_states_but_not_lstm_c():
    class Identity(cells.RNNCell):
        @property
        def state_size(self):
            return cells.LSTMStateTuple(1000, 1000)

        @property
        def output_size(self):
            return 1000

        def call(self, inputs, state):
            return inputs, cells.LSTMStateTuple(state.c, state.h)

    cell = cells.DropoutWrapper(Identity(), output_keep_prob=0.25, state_keep_prob=0.5, seed=1)
    ones = tf.ones([2, 1000])
    output, state = cell(ones, cells.LSTMStateTuple(ones, ones))
    got_output, got_state = _run([output, state])
    assert set(np.unique(got_output)) == {0.0, 4.0} and abs((got_output == 0).mean() - 0.75) < 0.03
    assert set(np.unique(got_state.h)) == {0.0, 2.0} and abs((got_state.h == 0).mean() - 0.5) < 0.03
    np.testing.assert_array_equal(got_state.c, 1.0)


def test_dropout_wrapper_fed_keep_probability_and_its_seeds():
    keep = tf.placeholder(tf.float32, [])
    cell = cells.DropoutWrapper(cells.BasicRNNCell(50, activation=tf.identity), input_keep_prob=keep, seed=42)
    output, _ = cell(tf.ones([3, 50]), tf.zeros([3, 50]))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        full = sess.run(output, {keep: 1.0})
        dropped = sess.run(output, {keep: 0.5})
    assert not np.allclose(full, dropped)
    # TF's per-tensor seeds: md5 of str(seed) + "<kind>_<index>"
    assert cell._gen_seed("output", 0) == 1222008005 and cell._gen_seed("state", 1) == 1749902402
    assert cells.DropoutWrapper(cells.GRUCell(1))._gen_seed("input", 0) is None


def test_variational_dropout_uses_one_mask_for_every_time_step():
    class Echo(cells.RNNCell):
        @property
        def state_size(self):
            return 200

        @property
        def output_size(self):
            return 200

        def call(self, inputs, state):
            return inputs, state

    cell = cells.DropoutWrapper(Echo(), input_keep_prob=0.5, output_keep_prob=0.8, variational_recurrent=True,
                                input_size=200, dtype=tf.float32, seed=3)
    outputs, _ = tf.nn.static_rnn(cell, [tf.ones([2, 200])] * 6, dtype=tf.float32)
    outputs = tf.stack(outputs, axis=1)
    with tf.Session() as sess:
        first = sess.run(outputs)
        second = sess.run(outputs)
    kept = first != 0
    for t in range(6):
        np.testing.assert_array_equal(kept[:, t], kept[:, 0])
    np.testing.assert_array_equal(kept[0], kept[1])  # the noise has batch dimension 1
    np.testing.assert_allclose(first[kept], 1 / (0.5 * 0.8), rtol=1e-6)
    assert 0.3 < kept.mean() < 0.5 and (second != 0).any() and not np.array_equal(kept, second != 0)


def test_residual_wrapper_adds_the_inputs_or_applies_residual_fn():
    cell = cells.ResidualWrapper(cells.BasicRNNCell(2, activation=tf.identity))
    x = tf.constant([[1.0, 2.0]])
    output, state = cell(x, tf.zeros([1, 2]))
    got_output, got_state = _run([output, state])
    np.testing.assert_allclose(got_output, got_state + [[1.0, 2.0]], rtol=1e-6)
    custom = cells.ResidualWrapper(cells.GRUCell(2), residual_fn=lambda i, o: o - i)
    assert custom(x, tf.zeros([1, 2]), scope="custom")[0].op.type == "Sub"
    with pytest.raises(ValueError, match=re.escape("Shapes (2, 4) and (2, 3) are incompatible")):
        wide = cells.ResidualWrapper(cells.GRUCell(3))
        wide(tf.zeros([2, 4]), wide.zero_state(2, tf.float32))


def test_device_wrapper_places_the_cell_and_its_zero_state():
    cell = cells.DeviceWrapper(cells.GRUCell(2), "/cpu:0")
    state = cell.zero_state(1, tf.float32)
    output, _ = cell(tf.ones([1, 2]), state)
    assert state.op.name == "DeviceWrapperZeroState/GRUCellZeroState/zeros"
    assert "CPU:0" in state.op.device.upper() and "CPU:0" in output.op.device.upper()


def test_namespaces():
    assert tf.nn.rnn_cell.LSTMCell is tf.contrib.rnn.LSTMCell is tf.compat.v1.nn.rnn_cell.LSTMCell
    import caudal.nn.rnn_cell as rnn_cell_module

    from caudal.contrib import rnn as contrib_rnn

    assert rnn_cell_module.MultiRNNCell is contrib_rnn.MultiRNNCell
    assert issubclass(cells.BasicLSTMCell, tf.layers.Layer)
    assert tf.contrib.rnn.static_bidirectional_rnn is tf.nn.static_bidirectional_rnn


# -------------------------------------------------------------- bad input
BAD_CELLS = [
    ("rank 3 input", lambda: cells.GRUCell(4)(tf.zeros([2, 3, 5]), tf.zeros([2, 4])), ValueError,
     "Input 0 of layer gru_cell is incompatible with the layer: expected ndim=2, found ndim=3. Full shape "
     "received: (Dimension(2), Dimension(3), Dimension(5))"),
    ("unknown depth", lambda: cells.GRUCell(4)(tf.placeholder(tf.float32, [2, None]), tf.zeros([2, 4])), ValueError,
     "Expected inputs.shape[-1] to be known, saw shape: (2, None)"),
    ("integer dtype", lambda: cells.BasicLSTMCell(4, dtype=tf.int32), ValueError,
     "RNN cell only supports floating point inputs, but saw dtype: <dtype: 'int32'>"),
    ("integer inputs", lambda: cells.BasicRNNCell(4)(tf.zeros([2, 3], tf.int32), tf.zeros([2, 4], tf.int32)),
     ValueError, "RNN cell only supports floating point inputs, but saw dtype: <dtype: 'int32'>"),
    ("no cells", lambda: cells.MultiRNNCell([]), ValueError, "Must specify at least one cell for MultiRNNCell."),
    ("cells not a list", lambda: cells.MultiRNNCell(cells.GRUCell(3)), TypeError,
     "cells must be a list or tuple, but saw: <caudal.ops.rnn_cell_impl.GRUCell object"),
    ("tuple states without state_is_tuple", lambda: cells.MultiRNNCell([cells.BasicLSTMCell(3)], state_is_tuple=False),
     ValueError, "Some cells return tuples of states, but the flag state_is_tuple is not set.  State sizes are: "
                 "[LSTMStateTuple(c=3, h=3)]"),
    ("keep probability above 1", lambda: cells.DropoutWrapper(cells.GRUCell(3), output_keep_prob=1.5), ValueError,
     "Parameter output_keep_prob must be between 0 and 1: 1"),
    ("variational without dtype", lambda: cells.DropoutWrapper(cells.GRUCell(3), output_keep_prob=0.5,
                                                                variational_recurrent=True), ValueError,
     "When variational_recurrent=True, dtype must be provided"),
    ("variational without input_size", lambda: cells.DropoutWrapper(
        cells.GRUCell(3), input_keep_prob=0.5, variational_recurrent=True, dtype=tf.float32), ValueError,
     "When variational_recurrent=True and input_keep_prob < 1.0 or is unknown, input_size must be provided"),
    ("state filter not callable", lambda: cells.DropoutWrapper(cells.GRUCell(3), dropout_state_filter_visitor=3),
     TypeError, "dropout_state_filter_visitor must be callable"),
    ("wrapping a non-cell", lambda: cells.ResidualWrapper(3), TypeError,
     "The argument 'cell' (3) is not an RNNCell: 'output_size' property is missing"),
]


@pytest.mark.parametrize("build,error,message", [case[1:] for case in BAD_CELLS], ids=[c[0] for c in BAD_CELLS])
def test_bad_cell_input_raises_tensorflows_error(build, error, message):
    with pytest.raises(error) as raised:
        build()
    assert message in str(raised.value)


def test_multi_rnn_cell_rejects_a_state_that_is_not_a_tuple():
    multi = cells.MultiRNNCell([cells.GRUCell(2), cells.GRUCell(2)])
    with pytest.raises(ValueError, match=re.escape("Expected state to be a tuple of length 2, but received: "
                                                   'Tensor("zeros:0", shape=(1, 2), dtype=float32)')):
        multi(tf.ones([1, 2]), tf.zeros([1, 2]))
