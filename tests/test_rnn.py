"""The RNN drivers (dynamic_rnn, static_rnn, their bidirectional forms, raw_rnn) and reverse_sequence.

TensorFlow's numbers come from tests/fixtures/make_rnn_fixtures.py, whose case builders run here
unchanged under caudal: each case must give TF's variable names, outputs, final states and
gradients (w.r.t. the input and every weight) to 1e-5. A TF checkpoint of a two-layer LSTM
classifier restores into the same program and gives TF's logits, before and after an Adam step.
"""
from __future__ import annotations

import os
import re

import numpy as np
import pytest

import caudal as tf
from caudal.util import nest
from tests.fixtures import make_rnn_fixtures as fixtures

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "rnn")
CASES = np.load(os.path.join(FIXTURES, "cases.npz"))
cells = tf.nn.rnn_cell


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed_dict)


# ------------------------------------------------------ TensorFlow's numbers
@pytest.mark.parametrize("name", sorted(fixtures.CASES))
def test_case_matches_tensorflow(name):
    x, flat, variables = fixtures.build_case(tf, cells, tf.nn, nest.flatten, name)
    names = [v.op.name for v in variables]
    assert names == list(CASES[f"{name}/names"])
    count = len([k for k in CASES.files if k.startswith(f"{name}/value")])
    assert len(flat) == count
    coefs = [CASES[f"{name}/coef{i}"] for i in range(count)]
    _, grads = fixtures.loss_and_gradients(tf, x, flat, variables, coefs)
    feed = {x: CASES[f"{name}/x"]}
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for variable, var_name in zip(variables, names):
            variable.load(CASES[f"{name}/w:{var_name}"], sess)
        values, grad_values = sess.run([flat, grads], feed)
    for i, value in enumerate(values):
        expected = CASES[f"{name}/value{i}"]
        assert value.dtype == expected.dtype and value.shape == expected.shape
        static = [None if d < 0 else int(d) for d in CASES[f"{name}/shape{i}"]]
        assert flat[i].shape.as_list() == static, f"static shape of value {i}"
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-5, err_msg=f"value {i}")
    np.testing.assert_allclose(grad_values[0], CASES[f"{name}/grad:x"], rtol=1e-5, atol=1e-5)
    for grad, var_name in zip(grad_values[1:], names):
        np.testing.assert_allclose(grad, CASES[f"{name}/grad:{var_name}"], rtol=1e-5, atol=1e-5, err_msg=var_name)


def test_tensorflow_checkpoint_restores_into_the_same_program():
    expected = np.load(os.path.join(FIXTURES, "lstm_model", "checkpoint.npz"))
    x, y, lengths, logits, loss, train = fixtures.checkpoint_model(tf, cells, tf.nn)
    assert sorted(v.op.name for v in tf.global_variables()) == list(expected["variables"])
    saver = tf.train.Saver()
    eval_feed = {x: expected["eval_x"], lengths: expected["eval_lengths"]}
    train_feed = {x: expected["train_x"], y: expected["train_y"], lengths: expected["train_lengths"]}
    with tf.Session() as sess:
        saver.restore(sess, os.path.join(FIXTURES, "lstm_model", "model"))
        np.testing.assert_allclose(sess.run(logits, eval_feed), expected["eval_logits"], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(sess.run(loss, train_feed), expected["loss_before_step"], rtol=1e-5)
        sess.run(train, train_feed)  # the Adam slots and beta powers came from the checkpoint too
        np.testing.assert_allclose(sess.run(loss, train_feed), expected["loss_after_step"], rtol=1e-5)
        np.testing.assert_allclose(sess.run(logits, eval_feed), expected["eval_logits_after_step"],
                                   rtol=1e-5, atol=1e-5)


def test_caudal_checkpoint_of_an_rnn_restores_in_a_fresh_program(tmp_path):
    def program():
        x = tf.placeholder(tf.float32, [2, 3, 4])
        outputs, _ = tf.nn.dynamic_rnn(cells.GRUCell(5), x, dtype=tf.float32)
        return x, outputs

    value = np.random.default_rng(0).uniform(-1, 1, (2, 3, 4)).astype(np.float32)
    x, outputs = program()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(outputs, {x: value})
        path = tf.train.Saver().save(sess, str(tmp_path / "gru"))
    with tf.Graph().as_default():
        x, outputs = program()
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
            np.testing.assert_array_equal(sess.run(outputs, {x: value}), before)


# ----------------------------------------------------------- dynamic_rnn
def _lstm_reference(x, kernel, bias, units, forget_bias=1.0, lengths=None):
    """BasicLSTMCell over [batch, time, depth] in NumPy, with TF's sequence_length rules."""
    batch, time, _ = x.shape
    c = np.zeros((batch, units), x.dtype)
    h = np.zeros((batch, units), x.dtype)
    outputs = np.zeros((batch, time, units), x.dtype)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    for t in range(time):
        z = np.concatenate([x[:, t], h], 1) @ kernel + bias
        i, j, f, o = np.split(z, 4, axis=1)
        new_c = c * sigmoid(f + forget_bias) + sigmoid(i) * np.tanh(j)
        new_h = np.tanh(new_c) * sigmoid(o)
        live = np.ones(batch, bool) if lengths is None else t < np.asarray(lengths)
        c = np.where(live[:, None], new_c, c)
        h = np.where(live[:, None], new_h, h)
        outputs[:, t] = np.where(live[:, None], new_h, 0)
    return outputs, c, h


def test_dynamic_rnn_with_unknown_batch_and_time_and_a_fed_sequence_length():
    x = tf.placeholder(tf.float32, [None, None, 3])
    lengths = tf.placeholder(tf.int32, [None])
    cell = cells.BasicLSTMCell(4, forget_bias=0.5)
    outputs, state = tf.nn.dynamic_rnn(cell, x, sequence_length=lengths, dtype=tf.float32, swap_memory=True,
                                       parallel_iterations=1)
    assert outputs.shape.as_list() == [None, None, 4]
    assert isinstance(state, cells.LSTMStateTuple) and state.c.shape.as_list() == [None, 4]
    value = np.random.default_rng(1).uniform(-1, 1, (3, 5, 3)).astype(np.float32)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        kernel, bias = sess.run(cell.variables)
        for feed_lengths in ([5, 2, 0], [1, 1, 1], [5, 5, 5]):
            got, got_state = sess.run([outputs, state], {x: value, lengths: feed_lengths})
            ref, ref_c, ref_h = _lstm_reference(value, kernel, bias, 4, 0.5, feed_lengths)
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got_state.c, ref_c, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got_state.h, ref_h, rtol=1e-5, atol=1e-6)
        short = sess.run(outputs, {x: value[:, :2], lengths: [2, 1, 2]})
        assert short.shape == (3, 2, 4)


def test_dynamic_rnn_graph_is_tf1s_loop():
    x = tf.placeholder(tf.float32, [2, 3, 4])
    outputs, state = tf.nn.dynamic_rnn(cells.BasicLSTMCell(5), x, sequence_length=[3, 1], dtype=tf.float32)
    names = {op.name for op in tf.get_default_graph().get_operations()}
    assert {"rnn/transpose", "rnn/sequence_length", "rnn/CheckSeqLen", "rnn/time", "rnn/while/LoopCond",
            "rnn/while/basic_lstm_cell/MatMul", "rnn/while/Select", "rnn/transpose_1"} <= names
    assert outputs.op.name == "rnn/transpose_1"
    arrays = [op for op in tf.get_default_graph().get_operations() if op.type == "TensorArrayV3"]
    assert sorted(op.get_attr("tensor_array_name") for op in arrays) == ["rnn/dynamic_rnn/input_0",
                                                                         "rnn/dynamic_rnn/output_0"]
    assert state.c.op.type == "Exit"


def test_dynamic_rnn_trains_a_sum_with_adam():
    rng = np.random.default_rng(3)
    data = rng.uniform(-1, 1, (64, 6, 1)).astype(np.float32)
    target = data.sum(axis=(1, 2))[:, None]
    x = tf.placeholder(tf.float32, [None, 6, 1])
    _, state = tf.nn.dynamic_rnn(cells.GRUCell(8), x, dtype=tf.float32)
    prediction = tf.layers.dense(state, 1)
    loss = tf.reduce_mean(tf.square(prediction - target))
    train = tf.train.AdamOptimizer(0.05).minimize(loss)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        first = sess.run(loss, {x: data})
        for _ in range(150):
            sess.run(train, {x: data})
        assert sess.run(loss, {x: data}) < 0.1 * first


def test_nested_inputs_and_a_cell_with_tuple_output():
    class PairCell(cells.RNNCell):
        """Adds the two inputs to the state; outputs (state, -state)."""

        @property
        def state_size(self):
            return 2

        @property
        def output_size(self):
            return (2, 2)

        def call(self, inputs, state):
            new = state + inputs[0] + inputs[1]
            return (new, -new), new

    a = tf.constant(np.ones((2, 3, 2), np.float32))
    b = tf.constant(np.full((2, 3, 2), 2.0, np.float32))
    (plus, minus), state = tf.nn.dynamic_rnn(PairCell(), (a, b), sequence_length=[3, 2], dtype=tf.float32)
    got_plus, got_minus, got_state = _run([plus, minus, state])
    np.testing.assert_array_equal(got_plus[:, :, 0], [[3, 6, 9], [3, 6, 0]])
    np.testing.assert_array_equal(got_minus, -got_plus)
    np.testing.assert_array_equal(got_state[:, 0], [9, 6])


def test_static_rnn_outputs_a_list_and_shares_its_variables():
    inputs = [tf.placeholder(tf.float32, [2, 3]) for _ in range(4)]
    outputs, state = tf.nn.static_rnn(cells.BasicLSTMCell(5), inputs, dtype=tf.float32)
    assert isinstance(outputs, list) and len(outputs) == 4
    assert [v.op.name for v in tf.global_variables()] == ["rnn/basic_lstm_cell/kernel", "rnn/basic_lstm_cell/bias"]
    assert outputs[0].op.name.startswith("rnn/basic_lstm_cell/") and outputs[3].shape.as_list() == [2, 5]
    assert tf.contrib.rnn.static_rnn is tf.nn.static_rnn


def test_static_rnn_with_sequence_length_matches_dynamic_rnn():
    value = np.random.default_rng(2).uniform(-1, 1, (3, 4, 2)).astype(np.float32)
    x = tf.constant(value)
    dynamic, dynamic_state = tf.nn.dynamic_rnn(cells.GRUCell(3), x, sequence_length=[4, 0, 2], dtype=tf.float32,
                                               scope="d")
    static, static_state = tf.nn.static_rnn(cells.GRUCell(3), tf.unstack(x, axis=1), sequence_length=[4, 0, 2],
                                            dtype=tf.float32, scope="s")
    copy = [tf.assign(s, d) for d, s in zip(tf.trainable_variables("d"), tf.trainable_variables("s"))]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(copy)
        got = sess.run([dynamic, tf.stack(static, 1), dynamic_state, static_state])
    np.testing.assert_allclose(got[0], got[1], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got[2], got[3], rtol=1e-6, atol=1e-7)
    assert not got[0][1].any()


def test_bidirectional_dynamic_rnn_reverses_within_each_length():
    value = np.arange(2 * 3 * 1, dtype=np.float32).reshape(2, 3, 1)

    class Echo(cells.RNNCell):
        @property
        def state_size(self):
            return 1

        @property
        def output_size(self):
            return 1

        def call(self, inputs, state):
            return inputs, state + inputs

    (fw, bw), (fw_state, bw_state) = tf.nn.bidirectional_dynamic_rnn(Echo(), Echo(), tf.constant(value),
                                                                     sequence_length=[3, 2], dtype=tf.float32)
    got_fw, got_bw, got_fw_state, got_bw_state = _run([fw, bw, fw_state, bw_state])
    np.testing.assert_array_equal(got_fw[..., 0], [[0, 1, 2], [3, 4, 0]])
    np.testing.assert_array_equal(got_bw[..., 0], [[0, 1, 2], [3, 4, 0]])
    np.testing.assert_array_equal(got_fw_state[:, 0], [3, 7])
    np.testing.assert_array_equal(got_bw_state[:, 0], [3, 7])


def test_static_bidirectional_rnn_concatenates_forward_and_backward():
    inputs = [tf.ones([2, 3]) for _ in range(3)]
    outputs, fw_state, bw_state = tf.nn.static_bidirectional_rnn(cells.GRUCell(2), cells.BasicRNNCell(4), inputs,
                                                                 dtype=tf.float32)
    assert len(outputs) == 3 and outputs[0].shape.as_list() == [2, 6]
    assert fw_state.shape.as_list() == [2, 2] and bw_state.shape.as_list() == [2, 4]
    names = [v.op.name for v in tf.global_variables()]
    assert "bidirectional_rnn/fw/gru_cell/gates/kernel" in names
    assert "bidirectional_rnn/bw/basic_rnn_cell/kernel" in names


def test_raw_rnn_without_emit_structure_and_with_loop_state():
    inputs = tf.constant(np.ones((3, 2, 1), np.float32))  # time major
    cell = cells.BasicRNNCell(2, activation=tf.identity)

    def loop_fn(time, cell_output, cell_state, loop_state):
        finished = tf.fill([2], time >= 3)
        state = cell.zero_state(2, tf.float32) if cell_output is None else cell_state
        loop_state = tf.constant(0) if loop_state is None else loop_state + 1
        next_input = tf.cond(tf.reduce_all(finished), lambda: tf.zeros([2, 1]),
                             lambda: tf.gather(inputs, tf.minimum(time, 2)))
        return finished, next_input, state, cell_output, loop_state

    emit_ta, final_state, final_loop_state = tf.nn.raw_rnn(cell, loop_fn)
    emitted, steps = _run([emit_ta.stack(), final_loop_state])
    assert emitted.shape == (3, 2, 2) and steps == 3
    assert final_state.shape.as_list() == [2, 2]


def test_gradients_of_dynamic_rnn_match_central_differences():
    rng = np.random.default_rng(5)
    value = rng.uniform(-1, 1, (2, 3, 2))
    x = tf.placeholder(tf.float64, [2, 3, 2])
    outputs, state = tf.nn.dynamic_rnn(cells.LSTMCell(3, use_peepholes=True, num_proj=2), x,
                                       sequence_length=[3, 2], dtype=tf.float64)
    loss = tf.reduce_sum(tf.sin(outputs)) + tf.reduce_sum(state.c * state.c)
    grad = tf.gradients(loss, x)[0]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run(grad, {x: value})
        numeric = np.zeros_like(value)
        for index in np.ndindex(*value.shape):
            step = np.zeros_like(value)
            step[index] = 1e-6
            numeric[index] = (sess.run(loss, {x: value + step}) - sess.run(loss, {x: value - step})) / 2e-6
    np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-8)
    assert not got[1, 2].any()  # past the second sequence's length


# -------------------------------------------------------------- bad input
def _lstm_run(inputs, **kwargs):
    kwargs.setdefault("dtype", tf.float32)
    return tf.nn.dynamic_rnn(cells.BasicLSTMCell(4), inputs, **kwargs)


BAD_INPUT = [
    ("rank 2 input", lambda: _lstm_run(tf.zeros([2, 3])), ValueError,
     "Shape (3, 2) must have rank at least 3"),
    ("rank 2 time-major input", lambda: _lstm_run(tf.zeros([2, 3]), time_major=True), ValueError,
     "Shape (2, 3) must have rank at least 3"),
    ("rank 1 input", lambda: _lstm_run(tf.zeros([3])), ValueError,
     'Input tensor should have rank >= 2. Received input=Tensor("zeros:0", shape=(3,), dtype=float32) of rank 1'),
    ("unknown depth", lambda: _lstm_run(tf.placeholder(tf.float32, [2, 3, None])), ValueError,
     "Input size (depth of inputs) must be accessible via shape inference, but saw value None for "
     'input=Tensor("rnn/transpose:0", shape=(3, 2, ?), dtype=float32).'),
    ("no dtype", lambda: _lstm_run(tf.zeros([2, 3, 5]), dtype=None), ValueError,
     "If no initial_state is provided, argument `dtype` must be specified"),
    ("sequence_length of rank 2", lambda: _lstm_run(tf.zeros([2, 3, 5]), sequence_length=tf.constant([[1], [2]])),
     ValueError, "Argument sequence_length must be a vector of length batch_size. Received "
                 'sequence_length=Tensor("Const:0", shape=(2, 1), dtype=int32) of shape: (2, 1)'),
    ("sequence_length of the wrong batch size", lambda: _lstm_run(tf.zeros([2, 3, 5]), sequence_length=[1, 2, 3]),
     ValueError, "Dimension 0 in both shapes must be equal, but are 3 and 2. Shapes are [3] and [2]."),
    ("batch sizes differ", lambda: tf.nn.dynamic_rnn(cells.GRUCell(3), (tf.zeros([2, 3, 5]), tf.zeros([4, 3, 5])),
                                                     dtype=tf.float32), ValueError,
     "Batch_size is not the same for all the elements in the input. Received batch size=4 for "
     'input=Tensor("rnn/transpose_1:0", shape=(3, 4, 5), dtype=float32).'),
    ("time steps differ", lambda: tf.nn.dynamic_rnn(cells.GRUCell(3), (tf.zeros([2, 3, 5]), tf.zeros([2, 4, 5])),
                                                    dtype=tf.float32), ValueError,
     "Time steps is not the same for all the elements in the input in a batch. Received time steps=4 for "
     'input=Tensor("rnn/transpose_1:0", shape=(4, 2, 5), dtype=float32).'),
    ("state of a plain tensor", lambda: _lstm_run(tf.zeros([2, 3, 5]), initial_state=tf.zeros([2, 4])), TypeError,
     "You are attempting to use Python control flow in a layer that was not declared to be dynamic. Pass "
     "`dynamic=True` to the class constructor.\nEncountered error:"),
    ("state of a plain tuple", lambda: _lstm_run(tf.zeros([2, 3, 5]),
                                                 initial_state=(tf.zeros([2, 4]), tf.zeros([2, 4]))), TypeError,
     "don't have the same"),
    ("state with three parts", lambda: _lstm_run(tf.zeros([2, 3, 5]), initial_state=(tf.zeros([2, 4]),) * 3),
     ValueError, "too many values to unpack (expected 2)"),
    ("state of the wrong size", lambda: _lstm_run(tf.zeros([2, 3, 5]), initial_state=cells.LSTMStateTuple(
        tf.zeros([2, 3]), tf.zeros([2, 3]))), ValueError, "Dimensions must be equal, but are 8 and 9"),
    ("multi cell state not a tuple", lambda: tf.nn.dynamic_rnn(
        cells.MultiRNNCell([cells.GRUCell(4), cells.GRUCell(4)]), tf.zeros([2, 3, 5]), initial_state=tf.zeros([2, 4])),
     ValueError, 'Expected state to be a tuple of length 2, but received: Tensor("rnn/while/Identity_3:0", '
                 "shape=(2, 4), dtype=float32)"),
    ("not a cell", lambda: tf.nn.dynamic_rnn(3, tf.zeros([2, 3, 5]), dtype=tf.float32), TypeError,
     "The argument 'cell' (3) is not an RNNCell: 'output_size' property is missing, 'state_size' property is "
     "missing, either 'zero_state' or 'get_initial_state' method is required, is not callable."),
    ("backward cell not a cell", lambda: tf.nn.bidirectional_dynamic_rnn(cells.GRUCell(3), None, tf.zeros([2, 3, 5]),
                                                                         dtype=tf.float32), TypeError,
     "The argument 'cell_bw' (None) is not an RNNCell"),
    ("integer inputs", lambda: tf.nn.dynamic_rnn(cells.BasicLSTMCell(4), tf.zeros([2, 3, 5], tf.int32),
                                                 dtype=tf.int32), ValueError,
     "RNN cell only supports floating point inputs, but saw dtype: <dtype: 'int32'>"),
    ("static_rnn of a tensor", lambda: tf.nn.static_rnn(cells.GRUCell(3), tf.zeros([2, 3, 5]), dtype=tf.float32),
     TypeError, 'Argument `inputs` must be a sequence. Received: Tensor("zeros:0", shape=(2, 3, 5), dtype=float32)'),
    ("static_rnn of nothing", lambda: tf.nn.static_rnn(cells.GRUCell(3), [], dtype=tf.float32), ValueError,
     "Argument `inputs` must not be empty."),
    ("static_rnn sequence_length of rank 2", lambda: tf.nn.static_rnn(
        cells.GRUCell(3), [tf.zeros([2, 5])], sequence_length=[[1], [2]], dtype=tf.float32), ValueError,
     'Argument `sequence_length` must be a vector of length 2. Received sequence_length=Tensor('
     '"rnn/sequence_length:0", shape=(2, 1), dtype=int32).'),
    ("static_rnn sequence_length of the wrong batch size", lambda: tf.nn.static_rnn(
        cells.GRUCell(3), [tf.zeros([2, 5])], sequence_length=[1, 2, 3], dtype=tf.float32), ValueError,
     "Dimension 0 in both shapes must be equal, but are 3 and 2. Shapes are [3] and [2]."),
    ("static_rnn unknown depth", lambda: tf.nn.static_rnn(cells.GRUCell(3), [tf.placeholder(tf.float32, [2, None])],
                                                          dtype=tf.float32), ValueError,
     'Input size (dimension 0 of input Tensor("Placeholder:0", shape=(2, ?), dtype=float32)) must be accessible '
     "via shape inference, but saw value None."),
    ("static_rnn batch sizes differ", lambda: tf.nn.static_rnn(cells.GRUCell(3), [tf.zeros([2, 5]), tf.zeros([3, 5])],
                                                               dtype=tf.float32), ValueError,
     "Dimensions 2 and 3 are not compatible"),
    ("raw_rnn loop_fn not callable", lambda: tf.nn.raw_rnn(cells.GRUCell(3), 3), TypeError,
     "Argument `loop_fn` must be a callable. Received: 3."),
]


@pytest.mark.parametrize("build,error,message", [case[1:] for case in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_raises_tensorflows_error(build, error, message):
    with pytest.raises(error) as raised:
        build()
    assert message in str(raised.value)


def test_a_cell_whose_input_depth_changes_between_calls():
    cell = cells.BasicLSTMCell(4)
    tf.nn.dynamic_rnn(cell, tf.zeros([2, 3, 5]), dtype=tf.float32)
    with pytest.raises(ValueError, match=re.escape("Dimensions must be equal, but are 11 and 9 for "
                                                   "'rnn/while/basic_lstm_cell/MatMul_1'")):
        tf.nn.dynamic_rnn(cell, tf.zeros([2, 3, 7]), dtype=tf.float32)
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 11 and 9"):
        tf.nn.static_rnn(cells.BasicLSTMCell(4), [tf.zeros([2, 5]), tf.zeros([2, 7])], dtype=tf.float32,
                         scope="static")


def test_a_fed_sequence_length_of_the_wrong_size_fails_the_run_and_changes_nothing():
    lengths = tf.placeholder(tf.int32, [None])
    outputs, _ = tf.nn.dynamic_rnn(cells.GRUCell(3), tf.ones([2, 3, 5]), sequence_length=lengths, dtype=tf.float32)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(outputs))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(tf.trainable_variables())
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expected shape for Tensor rnn/sequence_length:0 is "):
            sess.run(train, {lengths: [1, 2, 3]})
        for old, new in zip(before, sess.run(tf.trainable_variables())):
            np.testing.assert_array_equal(old, new)
        # TF's loop runs min(time, max length) steps: lengths past the time axis are allowed
        assert sess.run(outputs, {lengths: [5, 1]}).shape == (2, 3, 3)


# ------------------------------------------------------------ reverse_sequence
def test_reverse_sequence_and_its_gradient():
    x = tf.constant(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    r = tf.reverse_sequence(x, [1, 3], seq_axis=1, batch_axis=0)
    assert r.op.type == "ReverseSequence" and r.op.get_attr("seq_dim") == 1 and r.op.get_attr("batch_dim") == 0
    assert r.op.inputs[1].op.name == "ReverseSequence/seq_lengths"
    grad = tf.gradients(r, x, grad_ys=x)[0]
    got, got_grad = _run([r, grad])
    np.testing.assert_array_equal(got[1, :, 0], [20, 16, 12])
    np.testing.assert_array_equal(got[0], np.arange(12).reshape(3, 4))
    np.testing.assert_array_equal(got_grad[1, :, 0], [20, 16, 12])
    unknown = tf.reverse_sequence(tf.placeholder(tf.float32, [None, None, 4]), tf.placeholder(tf.int32, [None]), 1)
    assert unknown.shape.as_list() == [None, None, 4]


@pytest.mark.parametrize("lengths,seq_axis,batch_axis,error,message", [
    ([1, 3, 2], 1, 0, ValueError, "Dimensions must be equal, but are 2 and 3"),
    ([[1, 3]], 1, 0, ValueError, "Shape must be rank 1 but is rank 2"),
    ([1, 3], 1, 1, ValueError, "seq_dim and batch_dim must not be the same: 1"),
    ([1, 3], 3, 0, ValueError, "seq_dim must be < input rank: 3 vs. 3"),
    ([1, 3], 1, 5, ValueError, "batch_dim must be < input rank: 5 vs. 3"),
    ([1.0, 2.0], 1, 0, TypeError, "Value passed to parameter 'seq_lengths' has DataType float32 not in list of "
                                  "allowed values: int32, int64"),
])
def test_reverse_sequence_rejects_bad_arguments(lengths, seq_axis, batch_axis, error, message):
    with pytest.raises(error, match=re.escape(message)):
        tf.reverse_sequence(tf.zeros([2, 3, 4]), lengths, seq_axis=seq_axis, batch_axis=batch_axis)


@pytest.mark.parametrize("lengths,message", [([1, 4], "seq_lens(1) > input.dims(1)"), ([1, -1], "seq_lens(1) < 0"),
                                             ([1, 2, 3], "Length of seq_lens != input.dims(0), (3 vs. 2)")])
def test_reverse_sequence_checks_fed_lengths(lengths, message):
    fed = tf.placeholder(tf.int32, [None])
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(message)):
        sess.run(tf.reverse_sequence(tf.zeros([2, 3, 4]), fed, 1, 0), {fed: lengths})
