"""`tf.contrib.slim` (TF 1.15): re-exports of contrib.layers, contrib.framework's arg scopes and variable
helpers, `losses` (tf.contrib.losses), `learning` (`create_train_op`), with slim's variable names
(`Conv/weights`, `fully_connected/biases`, ...), so checkpoints of TF1 slim models line up."""
from caudal.contrib import _slim_learning as learning
from caudal.contrib import losses
from caudal.contrib._arg_scope import (
    add_arg_scope,
    arg_scope,
    arg_scope_func_key,
    arg_scoped_arguments,
    current_arg_scope,
    has_arg_scope,
)
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
    flatten,
    fully_connected,
    one_hot_encoding,
    repeat,
    softmax,
    stack,
)
from caudal.contrib._layers_norm import batch_norm, layer_norm
from caudal.contrib._regularizers import (
    apply_regularization,
    l1_l2_regularizer,
    l1_regularizer,
    l2_regularizer,
    sum_regularizer,
)
from caudal.contrib._variables import (
    add_model_variable,
    assert_global_step,
    assert_or_get_global_step,
    assign_from_checkpoint,
    assign_from_checkpoint_fn,
    assign_from_values,
    assign_from_values_fn,
    filter_variables,
    get_local_variables,
    get_model_variables,
    get_trainable_variables,
    get_unique_variable,
    get_variable_full_name,
    get_variables,
    get_variables_by_name,
    get_variables_by_suffix,
    get_variables_to_restore,
    global_variable,
    local_variable,
    model_variable,
    variable,
)
from caudal.train.training_util import create_global_step, get_global_step, get_or_create_global_step

__all__ = [
    "learning", "losses", "add_arg_scope", "arg_scope", "arg_scope_func_key", "arg_scoped_arguments",
    "current_arg_scope", "has_arg_scope", "variance_scaling_initializer", "xavier_initializer",
    "xavier_initializer_conv2d", "avg_pool2d", "conv1d", "conv2d", "conv2d_transpose", "convolution",
    "convolution1d", "convolution2d", "convolution2d_transpose", "max_pool2d", "separable_conv2d",
    "separable_convolution2d", "bias_add", "dropout", "flatten", "fully_connected", "one_hot_encoding", "repeat",
    "softmax", "stack", "batch_norm", "layer_norm", "apply_regularization", "l1_l2_regularizer", "l1_regularizer",
    "l2_regularizer", "sum_regularizer", "add_model_variable", "assert_global_step", "assert_or_get_global_step",
    "assign_from_checkpoint", "assign_from_checkpoint_fn", "assign_from_values", "assign_from_values_fn",
    "filter_variables", "get_local_variables", "get_model_variables", "get_trainable_variables",
    "get_unique_variable", "get_variable_full_name", "get_variables", "get_variables_by_name",
    "get_variables_by_suffix", "get_variables_to_restore", "global_variable", "local_variable", "model_variable",
    "variable", "create_global_step", "get_global_step", "get_or_create_global_step",
]
