"""`tf.contrib.rnn.LayerNormBasicLSTMCell`: TF1 contrib's LSTM with layer normalization.

As in contrib (TensorFlow 1.15; TensorFlow 2.x no longer ships it), the cell is a plain
RNNCell that makes its variables with `get_variable` in `call`, inside its own scope:
`kernel` [input depth + units, 4 * units] (and `bias` only without layer normalization), then
per normalized value a `gamma` and `beta` of shape [units] in the scopes `input`, `transform`,
`forget`, `output` (the gates i, j, f, o) and `state` (the new cell state). Normalization is
contrib's `layer_norm` over the last axis with epsilon 1e-12; `dropout_keep_prob` drops the
candidate `g = activation(j)` (recurrent dropout without memory loss, Semeniuta et al.).
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor import Tensor
from caudal.ops.rnn_cell_impl import LSTMStateTuple, RNNCell
from caudal.variable_scope import get_variable, variable_scope

__all__ = ["LayerNormBasicLSTMCell"]


class LayerNormBasicLSTMCell(RNNCell):
    """contrib's layer-normalized basic LSTM: [i, j, f, o] = split([x, h] @ kernel, 4), each
    normalized; c' = norm(c sigmoid(f + forget_bias) + sigmoid(i) dropout(activation(j)));
    h' = activation(c') sigmoid(o)."""

    def __init__(self, num_units: int, forget_bias: float = 1.0, input_size: Any = None, activation: Any = None,
                 layer_norm: bool = True, norm_gain: float = 1.0, norm_shift: float = 0.0,
                 dropout_keep_prob: Any = 1.0, dropout_prob_seed: int | None = None, reuse: Any = None):
        super().__init__(_reuse=reuse)
        from caudal.ops.math_ops import tanh

        self._num_units = num_units
        self._activation = activation or tanh
        self._forget_bias = forget_bias
        self._keep_prob = dropout_keep_prob
        self._seed = dropout_prob_seed
        self._layer_norm = layer_norm
        self._norm_gain = norm_gain
        self._norm_shift = norm_shift

    @property
    def state_size(self) -> LSTMStateTuple:
        return LSTMStateTuple(self._num_units, self._num_units)

    @property
    def output_size(self) -> int:
        return self._num_units

    def _norm(self, inp: Tensor, scope: str, dtype: Any = dtypes_lib.float32) -> Tensor:
        from caudal.init_ops import constant_initializer
        from caudal.ops.normalization_ops import batch_normalization, moments

        shape = inp.shape[-1:]
        with variable_scope(scope):
            gamma = get_variable("gamma", shape=shape, initializer=constant_initializer(self._norm_gain), dtype=dtype)
            beta = get_variable("beta", shape=shape, initializer=constant_initializer(self._norm_shift), dtype=dtype)
        mean, variance = moments(inp, [1], keep_dims=True)
        return batch_normalization(inp, mean, variance, offset=beta, scale=gamma, variance_epsilon=1e-12)

    def _linear(self, args: Tensor) -> Tensor:
        from caudal.ops.math_ops import matmul
        from caudal.ops.nn_ops import bias_add

        out_size = 4 * self._num_units
        weights = get_variable("kernel", [args.shape[-1].value, out_size], dtype=args.dtype)
        out = matmul(args, weights)
        if not self._layer_norm:
            out = bias_add(out, get_variable("bias", [out_size], dtype=args.dtype))
        return out

    def call(self, inputs: Tensor, state: Any) -> tuple[Tensor, LSTMStateTuple]:
        from caudal.ops.array_ops import concat
        from caudal.ops.manip_ops import split
        from caudal.ops.math_ops import sigmoid
        from caudal.ops.nn_ops import dropout

        c, h = state
        args = concat([inputs, h], 1)
        dtype = args.dtype
        i, j, f, o = split(value=self._linear(args), num_or_size_splits=4, axis=1)
        if self._layer_norm:
            i = self._norm(i, "input", dtype=dtype)
            j = self._norm(j, "transform", dtype=dtype)
            f = self._norm(f, "forget", dtype=dtype)
            o = self._norm(o, "output", dtype=dtype)
        g = self._activation(j)
        if not isinstance(self._keep_prob, float) or self._keep_prob < 1:
            g = dropout(g, self._keep_prob, seed=self._seed)
        new_c = c * sigmoid(f + self._forget_bias) + sigmoid(i) * g
        if self._layer_norm:
            new_c = self._norm(new_c, "state", dtype=dtype)
        new_h = self._activation(new_c) * sigmoid(o)
        return new_h, LSTMStateTuple(new_c, new_h)
