"""tf.contrib.layers' dense-network layers: `fully_connected`, `flatten`, `dropout`, `softmax`,
`one_hot_encoding`, `bias_add`, `embed_sequence`, and the combinators `repeat` and `stack`.

As in TF 1.15 they are built on the tf.layers classes inside a variable scope
(`fully_connected`, `Flatten`, `Dropout`, ...) whose custom getter makes every
variable a model variable and renames `kernel`/`bias` to `weights`/`biases`,
so checkpoints written by TF1 slim programs line up name for name.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal import init_ops
from caudal.contrib._arg_scope import add_arg_scope
from caudal.contrib._initializers import xavier_initializer
from caudal.contrib._layers_utils import (
    add_variable_to_collections,
    build_variable_getter,
    collect_named_outputs,
    get_variable_collections,
    last_dimension,
)
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import name_scope
from caudal.framework.tensor import Tensor
from caudal.ops.nn_ops import relu
from caudal.variable_scope import variable_scope

__all__ = ["fully_connected", "flatten", "dropout", "softmax", "one_hot_encoding", "bias_add", "embed_sequence",
           "repeat", "stack"]

_WEIGHTS_AND_BIASES = {"bias": "biases", "kernel": "weights"}


@add_arg_scope
def fully_connected(inputs: Any, num_outputs: int, activation_fn: Callable | None = relu,
                    normalizer_fn: Callable | None = None, normalizer_params: dict | None = None,
                    weights_initializer: Any = xavier_initializer(), weights_regularizer: Any = None,
                    biases_initializer: Any = init_ops.zeros_initializer(), biases_regularizer: Any = None,
                    reuse: Any = None, variables_collections: Any = None, outputs_collections: Any = None,
                    trainable: bool = True, scope: Any = None) -> Tensor:
    """activation_fn(normalizer_fn(inputs @ weights + biases)): variables `<scope>/weights` [in, num_outputs]
    and `<scope>/biases` (none with a normalizer_fn or biases_initializer=None); scope defaults to
    `fully_connected`. The last dimension of `inputs` must be known."""
    from caudal.layers.core import Dense

    if not isinstance(num_outputs, int) or isinstance(num_outputs, bool):
        raise ValueError(f"num_outputs type should be one of [<class 'int'>], got {type(num_outputs)}.")
    with variable_scope(scope, "fully_connected", [inputs], reuse=reuse,
                        custom_getter=build_variable_getter(_WEIGHTS_AND_BIASES)) as sc:
        inputs = convert_to_tensor(inputs)
        layer = Dense(units=num_outputs, activation=None,
                      use_bias=not normalizer_fn and biases_initializer is not None,
                      kernel_initializer=weights_initializer, bias_initializer=biases_initializer,
                      kernel_regularizer=weights_regularizer, bias_regularizer=biases_regularizer,
                      trainable=trainable, name=sc.name, dtype=inputs.dtype.base_dtype, _scope=sc, _reuse=reuse)
        outputs = layer.apply(inputs)
        add_variable_to_collections(layer.kernel, variables_collections, "weights")
        if layer.bias is not None:
            add_variable_to_collections(layer.bias, variables_collections, "biases")
        if normalizer_fn is not None:
            outputs = normalizer_fn(outputs, **(normalizer_params or {}))
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def flatten(inputs: Any, outputs_collections: Any = None, scope: str | None = None) -> Tensor:
    """[batch, ...] -> [batch, k] under the name scope `Flatten`; a 1-D input becomes [n, 1]."""
    from caudal.layers.core import Flatten

    with name_scope(scope, "Flatten", [inputs]) as sc:
        inputs = convert_to_tensor(inputs)
        if inputs.shape.ndims == 1:
            from caudal.ops.array_ops import expand_dims

            with name_scope("flatten"):
                outputs = expand_dims(inputs, 1)
        else:
            outputs = Flatten().apply(inputs)
        return collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def dropout(inputs: Any, keep_prob: Any = 0.5, noise_shape: Any = None, is_training: Any = True,
            outputs_collections: Any = None, scope: str | None = None, seed: int | None = None) -> Tensor:
    """tf.nn.dropout with `keep_prob` when `is_training` (a bool or a bool tensor), identity otherwise."""
    from caudal.layers.core import Dropout

    with variable_scope(scope, "Dropout", [inputs], custom_getter=build_variable_getter()) as sc:
        inputs = convert_to_tensor(inputs)
        rate = 1 - keep_prob
        layer = Dropout(rate=rate, noise_shape=noise_shape, seed=seed, name=sc.name, _scope=sc)
        outputs = layer.apply(inputs, training=is_training)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def softmax(logits: Any, scope: str | None = None) -> Tensor:
    """Softmax over the last axis of logits of rank >= 2 whose last dimension is known (variable scope
    `softmax`)."""
    from caudal.ops.array_ops import reshape, shape
    from caudal.ops.nn_ops import softmax as nn_softmax

    with variable_scope(scope, "softmax", [logits]):
        logits = convert_to_tensor(logits)
        num_logits = last_dimension(logits.get_shape(), min_rank=2)
        logits_2d = reshape(logits, [-1, num_logits])
        predictions = reshape(nn_softmax(logits_2d), shape(logits))
        predictions.set_shape(logits.get_shape())
        return predictions


@add_arg_scope
def one_hot_encoding(labels: Any, num_classes: int, on_value: float = 1.0, off_value: float = 0.0,
                     outputs_collections: Any = None, scope: str | None = None) -> Tensor:
    """tf.one_hot of `labels` (int32 labels are cast to int64 first), float32 by default."""
    from caudal.ops.array_ops import one_hot
    from caudal.ops.math_ops import to_int64

    with name_scope(scope, "OneHotEncoding", [labels, num_classes]) as sc:
        labels = convert_to_tensor(labels)
        if labels.dtype.base_dtype.name == "int32":
            labels = to_int64(labels)
        outputs = one_hot(labels, num_classes, on_value=on_value, off_value=off_value)
        return collect_named_outputs(outputs_collections, sc, outputs)


@add_arg_scope
def bias_add(inputs: Any, activation_fn: Callable | None = None, initializer: Any = init_ops.zeros_initializer(),
             regularizer: Any = None, reuse: Any = None, variables_collections: Any = None,
             outputs_collections: Any = None, trainable: bool = True, data_format: str = "NHWC",
             scope: str | None = None) -> Tensor:
    """inputs + biases over the channel axis (`BiasAdd/biases`, a model variable)."""
    from caudal.contrib._variables import model_variable
    from caudal.ops.nn_ops import bias_add as nn_bias_add

    if data_format not in ("NCHW", "NHWC"):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    with variable_scope(scope, "BiasAdd", [inputs], reuse=reuse) as sc:
        inputs = convert_to_tensor(inputs)
        dtype = inputs.dtype.base_dtype
        shape = inputs.get_shape()
        rank = shape.ndims
        if rank is None:
            raise ValueError("Dims of shape must be known but is None")
        if rank != 4 and data_format == "NCHW":
            raise ValueError("Data format NCHW only supports 4D Tensor")
        channels = shape[1].value if data_format == "NCHW" else shape[-1].value
        if channels is None:
            raise ValueError("`C` dimension must be known but is None")
        biases = model_variable("biases", shape=[channels], dtype=dtype, initializer=initializer,
                                regularizer=regularizer,
                                collections=get_variable_collections(variables_collections, "biases"),
                                trainable=trainable)
        outputs = nn_bias_add(inputs, biases, data_format=data_format)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def embed_sequence(ids: Any, vocab_size: int | None = None, embed_dim: int | None = None, unique: bool = False,
                   initializer: Any = None, regularizer: Any = None, trainable: bool = True,
                   scope: str | None = None, reuse: Any = None) -> Tensor:
    """Embeds int ids [batch, len] into [batch, len, embed_dim] with the model variable
    `EmbedSequence/embeddings` [vocab_size, embed_dim]; `unique` looks each distinct id up once."""
    from caudal.contrib._variables import model_variable
    from caudal.ops.nn_ops import embedding_lookup

    if not (reuse or (vocab_size and embed_dim)):
        raise ValueError(f"Must specify vocab size and embedding dimension when not reusing. Got vocab_size="
                         f"{vocab_size} and embed_dim={embed_dim}")
    with variable_scope(scope, "EmbedSequence", [ids], reuse=reuse):
        shape: Any = [vocab_size, embed_dim]
        if (reuse and vocab_size is None) or embed_dim is None:
            shape = None
        embeddings = model_variable("embeddings", shape=shape, initializer=initializer, regularizer=regularizer,
                                    trainable=trainable)
        if unique:
            return _embedding_lookup_unique(embeddings, ids)
        return embedding_lookup(embeddings, ids)


def _embedding_lookup_unique(params: Any, ids: Any) -> Tensor:
    """Looks each distinct id up once, then gathers the rows back into the shape of `ids`."""
    from caudal.ops.array_ops import concat, reshape, shape
    from caudal.ops.gather_ops import gather
    from caudal.ops.nn_ops import embedding_lookup
    from caudal.ops.sort_ops import unique

    with name_scope(None, "EmbeddingLookupUnique", [params, ids]):
        ids = convert_to_tensor(ids)
        ids_shape = shape(ids)
        flat_ids = reshape(ids, [-1])
        unique_ids, positions = unique(flat_ids)
        unique_embeddings = embedding_lookup(params, unique_ids)
        embeds = gather(unique_embeddings, positions)
        embeds = reshape(embeds, concat([ids_shape, shape(unique_embeddings)[1:]], 0))
        embeds.set_shape(ids.get_shape().concatenate(unique_embeddings.get_shape()[1:]))
        return embeds


def _layer_scope_name(layer: Callable, fallback: str) -> str:
    if hasattr(layer, "__name__"):
        return layer.__name__
    func = getattr(layer, "func", None)
    if func is not None and hasattr(func, "__name__"):
        return func.__name__
    return fallback


def repeat(inputs: Any, repetitions: int, layer: Callable, *args: Any, **kwargs: Any) -> Any:
    """Applies `layer` `repetitions` times in variable scope `Repeat` (or `scope`), the i-th call in scope
    `<scope or layer name>_<i>` (`conv1/conv1_1`, `conv1/conv1_2`, ...)."""
    scope = kwargs.pop("scope", None)
    with variable_scope(scope, "Repeat", [inputs]):
        inputs = convert_to_tensor(inputs)
        if scope is None:
            scope = _layer_scope_name(layer, "repeat")
        outputs = inputs
        for i in range(repetitions):
            kwargs["scope"] = f"{scope}_{i + 1}"
            outputs = layer(outputs, *args, **kwargs)
        return outputs


def stack(inputs: Any, layer: Callable, stack_args: Any, **kwargs: Any) -> Any:
    """Applies `layer` once per entry of `stack_args` (each the extra positional arguments of one call), in
    variable scope `Stack` (or `scope`), the i-th call in scope `<scope or layer name>_<i>`."""
    scope = kwargs.pop("scope", None)
    if not isinstance(stack_args, (list, tuple)):
        raise ValueError("stack_args need to be a list or tuple")
    with variable_scope(scope, "Stack", [inputs]):
        inputs = convert_to_tensor(inputs)
        if scope is None:
            scope = _layer_scope_name(layer, "stack")
        outputs = inputs
        for i, layer_args in enumerate(stack_args):
            kwargs["scope"] = f"{scope}_{i + 1}"
            if not isinstance(layer_args, (list, tuple)):
                layer_args = [layer_args]
            outputs = layer(outputs, *layer_args, **kwargs)
        return outputs
