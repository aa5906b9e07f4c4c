"""`tf.nn`: neural-network ops (re-exports only). The recurrent part (`rnn_cell`, `dynamic_rnn`, ...)
loads on first use, so that `import caudal` does not pay for it."""
import importlib as _importlib
import sys as _sys
import types as _types
from typing import Any as _Any

from caudal.ops.conv_ops import (
    conv1d,
    conv2d,
    conv2d_backprop_filter,
    conv2d_backprop_input,
    conv2d_transpose,
    depthwise_conv2d,
    depthwise_conv2d_native,
    depthwise_conv2d_native_backprop_filter,
    depthwise_conv2d_native_backprop_input,
    separable_conv2d,
)
from caudal.ops.math_ops import sigmoid, tanh
from caudal.ops.nn_activation_ops import crelu, elu, leaky_relu, relu6, selu, softplus, softsign, swish
from caudal.ops.nn_loss_ops import (
    l2_loss,
    sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2,
    sparse_softmax_cross_entropy_with_logits,
    weighted_cross_entropy_with_logits,
)
from caudal.ops.nn_ops import bias_add, dropout, embedding_lookup, in_top_k, log_softmax, relu, softmax
from caudal.ops.normalization_ops import (
    batch_normalization,
    fused_batch_norm,
    l2_normalize,
    local_response_normalization,
    lrn,
    moments,
)
from caudal.ops.pooling_ops import avg_pool, avg_pool1d, avg_pool2d, max_pool, max_pool1d, max_pool2d
from caudal.ops.sort_ops import top_k

__all__ = ["avg_pool", "avg_pool1d", "avg_pool2d", "conv1d", "conv2d", "conv2d_backprop_filter",
           "conv2d_backprop_input", "conv2d_transpose", "depthwise_conv2d", "depthwise_conv2d_native",
           "depthwise_conv2d_native_backprop_filter", "depthwise_conv2d_native_backprop_input", "max_pool",
           "max_pool1d", "max_pool2d", "separable_conv2d",
           "log_softmax", "relu", "sigmoid", "softmax", "tanh",
           "batch_normalization", "bias_add", "crelu", "dropout", "elu", "embedding_lookup", "fused_batch_norm",
           "in_top_k", "l2_loss", "l2_normalize", "leaky_relu", "local_response_normalization", "lrn", "moments",
           "relu6", "selu", "sigmoid_cross_entropy_with_logits", "silu", "softmax_cross_entropy_with_logits",
           "softmax_cross_entropy_with_logits_v2", "softplus", "softsign", "sparse_softmax_cross_entropy_with_logits",
           "swish", "top_k", "weighted_cross_entropy_with_logits", "rnn_cell"]

silu = swish

_LAZY = {name: ("caudal.ops.rnn", name) for name in [
    "bidirectional_dynamic_rnn", "dynamic_rnn", "raw_rnn", "static_bidirectional_rnn", "static_rnn",
    "static_state_saving_rnn"]}
_LAZY.update({name: ("caudal.ops.candidate_sampling_ops", name)
              for name in ["compute_accidental_hits", "log_uniform_candidate_sampler", "uniform_candidate_sampler"]})
_LAZY.update({name: ("caudal.ops.sampled_losses", name) for name in ["nce_loss", "sampled_softmax_loss"]})
_LAZY.update({name: ("caudal.ops.embedding_ops", name)
              for name in ["embedding_lookup_sparse", "safe_embedding_lookup_sparse"]})
_LAZY.update({name: ("caudal.ops.nn_composites", name) for name in [
    "atrous_conv2d", "avg_pool_v2", "batch_norm_with_global_normalization", "convolution", "log_poisson_loss",
    "max_pool_v2", "normalize_moments", "relu_layer", "sufficient_statistics", "weighted_moments", "xw_plus_b",
    "zero_fraction"]})


def __getattr__(name: str) -> _Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'caudal.nn' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    value = getattr(_importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


class _LazyModule(_types.ModuleType):
    """A module that imports `target` on first attribute access and then stands for it."""

    def __init__(self, name: str, target: str):
        super().__init__(name)
        self._target = target

    def __getattr__(self, attribute: str) -> _Any:
        module = _importlib.import_module(self._target)
        self.__dict__.update({k: v for k, v in vars(module).items() if not k.startswith("__")})
        return getattr(module, attribute)


rnn_cell = _LazyModule(__name__ + ".rnn_cell", "caudal.nn_rnn_cell")
_sys.modules[rnn_cell.__name__] = rnn_cell  # `import caudal.nn.rnn_cell` too
