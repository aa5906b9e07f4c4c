"""`tf.contrib.rnn`: TF1 contrib's names for the RNN cells and static drivers (re-exports only)."""
from caudal.ops.rnn import static_bidirectional_rnn, static_rnn, static_state_saving_rnn
from caudal.ops.rnn_cell_contrib import LayerNormBasicLSTMCell
from caudal.ops.rnn_cell_impl import (
    BasicLSTMCell,
    BasicRNNCell,
    GRUCell,
    LayerRNNCell,
    LSTMCell,
    LSTMStateTuple,
    MultiRNNCell,
    RNNCell,
)
from caudal.ops.rnn_cell_wrappers import DeviceWrapper, DropoutWrapper, ResidualWrapper

__all__ = ["BasicLSTMCell", "BasicRNNCell", "DeviceWrapper", "DropoutWrapper", "GRUCell", "LSTMCell", "LSTMStateTuple",
           "LayerNormBasicLSTMCell", "LayerRNNCell", "MultiRNNCell", "RNNCell", "ResidualWrapper",
           "static_bidirectional_rnn", "static_rnn", "static_state_saving_rnn"]
