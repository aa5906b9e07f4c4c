"""`tf.contrib.layers` (TF 1.15): slim's layer functions, optimize_loss, summaries, regularizers, initializers.

Re-exports only. The layer functions are `add_arg_scope`-decorated, so
`tf.contrib.framework.arg_scope([layers.conv2d], padding="VALID")` sets their
defaults; their variables are model variables named as TF1 names them
(`fully_connected/weights`, `Conv/biases`, `BatchNorm/moving_mean`, ...).
"""
import functools

from caudal.contrib._initializers import variance_scaling_initializer, xavier_initializer, xavier_initializer_conv2d
from caudal.contrib._layers_conv import (
    avg_pool2d,
    conv1d,
    conv2d,
    conv2d_transpose,
    convolution,
    convolution1d,
    convolution2d,
    convolution2d_transpose,
    max_pool2d,
    separable_conv2d,
    separable_convolution2d,
)
from caudal.contrib._layers_core import (
    bias_add,
    dropout,
    embed_sequence,
    flatten,
    fully_connected,
    one_hot_encoding,
    repeat,
    softmax,
    stack,
)
from caudal.contrib._layers_norm import batch_norm, layer_norm
from caudal.contrib._optimize_loss import (
    OPTIMIZER_CLS_NAMES,
    OPTIMIZER_SUMMARIES,
    optimize_loss,
    summarize_activation,
    summarize_activations,
    summarize_biases,
    summarize_collection,
    summarize_tensor,
    summarize_tensors,
    summarize_variables,
    summarize_weights,
)
from caudal.contrib._regularizers import (
    apply_regularization,
    l1_l2_regularizer,
    l1_regularizer,
    l2_regularizer,
    sum_regularizer,
)
from caudal.ops.nn_activation_ops import relu6 as _nn_relu6
from caudal.ops.nn_ops import relu as _nn_relu

linear = functools.partial(fully_connected, activation_fn=None)
relu = functools.partial(fully_connected, activation_fn=_nn_relu)
relu6 = functools.partial(fully_connected, activation_fn=_nn_relu6)

__all__ = [
    "l1_regularizer", "l2_regularizer", "l1_l2_regularizer", "sum_regularizer", "apply_regularization",
    "xavier_initializer", "xavier_initializer_conv2d", "variance_scaling_initializer",
    "avg_pool2d", "max_pool2d", "conv1d", "conv2d", "conv2d_transpose", "convolution", "convolution1d",
    "convolution2d", "convolution2d_transpose", "separable_conv2d", "separable_convolution2d",
    "bias_add", "dropout", "embed_sequence", "flatten", "fully_connected", "one_hot_encoding", "repeat", "softmax",
    "stack", "batch_norm", "layer_norm", "linear", "relu", "relu6",
    "optimize_loss", "OPTIMIZER_CLS_NAMES", "OPTIMIZER_SUMMARIES", "summarize_activation", "summarize_activations",
    "summarize_biases", "summarize_collection", "summarize_tensor", "summarize_tensors", "summarize_variables",
    "summarize_weights",
]
