"""tf.contrib.layers' `batch_norm` and `layer_norm`, with TF 1.15's three batch-norm paths.

`batch_norm` (decay 0.999, epsilon 0.001, `center` but no `scale` by default)
makes `BatchNorm/beta`, `gamma` when `scale`, and the non-trainable
`moving_mean` and `moving_variance`, all model variables. As in TF 1.15:

- with the default `updates_collections` (UPDATE_OPS) and no zero-debiasing,
  the tf.layers BatchNormalization layer does the work (fused for 4-D inputs),
  except for 2-D inputs with `fused` not False, which take the fused path;
- `updates_collections=None` (update in place, the moving averages assigned
  before the output is returned) and `zero_debias_moving_mean` take the
  fused path for 2-D and 4-D inputs (2-D ones reshaped to [-1, 1, 1, C]) and
  the moments path otherwise; `fused=False` always takes the moments path.

`is_training` may be a bool or a bool tensor; with a tensor both branches are
built and a tf.cond picks one at run time.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal import init_ops
from caudal.contrib._arg_scope import add_arg_scope
from caudal.contrib._layers_utils import (
    add_variable_to_collections,
    build_variable_getter,
    collect_named_outputs,
    constant_value,
    get_variable_collections,
    smart_cond,
)
from caudal.framework import dtypes
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, get_default_graph
from caudal.framework.tensor import Tensor
from caudal.variable_scope import get_variable_scope, variable_scope

__all__ = ["batch_norm", "layer_norm"]


def _moving_variables(params_shape: Any, dtype: Any, param_initializers: dict, variables_collections: Any
                      ) -> tuple[Any, Any]:
    from caudal.contrib._variables import model_variable

    with variable_scope(get_variable_scope()) as local_scope:
        local_scope.set_partitioner(None)
        moving_mean = model_variable(
            "moving_mean", shape=params_shape, dtype=dtype,
            initializer=param_initializers.get("moving_mean", init_ops.zeros_initializer()), trainable=False,
            collections=get_variable_collections(variables_collections, "moving_mean"))
        moving_variance = model_variable(
            "moving_variance", shape=params_shape, dtype=dtype,
            initializer=param_initializers.get("moving_variance", init_ops.ones_initializer()), trainable=False,
            collections=get_variable_collections(variables_collections, "moving_variance"))
    return moving_mean, moving_variance


def _moving_average_updates(moving_mean: Any, moving_variance: Any, mean: Tensor, variance: Tensor, decay: float,
                            zero_debias_moving_mean: bool) -> tuple[Tensor, Tensor]:
    from caudal.train.moving_averages import assign_moving_average

    update_mean = assign_moving_average(moving_mean, mean, decay, zero_debias=zero_debias_moving_mean)
    update_variance = assign_moving_average(moving_variance, variance, decay, zero_debias=False)
    return update_mean, update_variance


def _fused_batch_norm(inputs: Any, decay: float, center: bool, scale: bool, epsilon: float,
                      activation_fn: Callable | None, param_initializers: dict | None,
                      param_regularizers: dict | None, updates_collections: Any, is_training: Any, reuse: Any,
                      variables_collections: Any, outputs_collections: Any, trainable: bool, data_format: str,
                      zero_debias_moving_mean: bool, scope: Any) -> Tensor:
    from caudal.contrib._variables import model_variable
    from caudal.ops.array_ops import reshape, shape
    from caudal.ops.constant_ops import constant
    from caudal.ops.control_ops import identity
    from caudal.ops.normalization_ops import fused_batch_norm

    if data_format not in ("NCHW", "NHWC"):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    with variable_scope(scope, "BatchNorm", [inputs], reuse=reuse) as sc:
        inputs = convert_to_tensor(inputs)
        original_shape = inputs.get_shape()
        original_inputs = inputs
        original_rank = original_shape.ndims
        if original_rank is None:
            raise ValueError(f"Inputs {inputs.name} has undefined rank")
        if original_rank not in (2, 4):
            raise ValueError(f"Inputs {inputs.name} has unsupported rank. Expected 2 or 4 but got {original_rank}")
        if original_rank == 2:
            channels = original_shape[-1].value
            if channels is None:
                raise ValueError("`C` dimension must be known but is None")
            inputs = reshape(inputs, [-1, channels, 1, 1] if data_format == "NCHW" else [-1, 1, 1, channels])
        inputs_shape = inputs.get_shape()
        params_shape = inputs_shape[-1:] if data_format == "NHWC" else inputs_shape[1:2]
        if not params_shape.is_fully_defined():
            raise ValueError(f"Inputs {inputs.name} has undefined `C` dimension {params_shape}.")
        variable_dtype = dtypes.float32
        param_initializers = param_initializers or {}
        param_regularizers = param_regularizers or {}
        if center:
            beta = model_variable("beta", shape=params_shape, dtype=variable_dtype,
                                  initializer=param_initializers.get("beta", init_ops.zeros_initializer()),
                                  regularizer=param_regularizers.get("beta"),
                                  collections=get_variable_collections(variables_collections, "beta"),
                                  trainable=trainable)
        else:
            beta = constant(0.0, dtype=variable_dtype, shape=params_shape.as_list())
        if scale:
            gamma = model_variable("gamma", shape=params_shape, dtype=variable_dtype,
                                   initializer=param_initializers.get("gamma", init_ops.ones_initializer()),
                                   regularizer=param_regularizers.get("gamma"),
                                   collections=get_variable_collections(variables_collections, "gamma"),
                                   trainable=trainable)
        else:
            gamma = constant(1.0, dtype=variable_dtype, shape=params_shape.as_list())
        moving_mean, moving_variance = _moving_variables(params_shape, variable_dtype, param_initializers,
                                                         variables_collections)

        def training() -> tuple:
            return fused_batch_norm(inputs, gamma, beta, epsilon=epsilon, data_format=data_format)

        def inference() -> tuple:
            return fused_batch_norm(inputs, gamma, beta, mean=moving_mean, variance=moving_variance,
                                    epsilon=epsilon, is_training=False, data_format=data_format)

        outputs, mean, variance = smart_cond(is_training, training, inference)
        is_training_value = constant_value(is_training)
        if is_training_value is None or is_training_value:
            if updates_collections is None:
                def force_updates() -> Tensor:
                    updates = _moving_average_updates(moving_mean, moving_variance, mean, variance, decay,
                                                      zero_debias_moving_mean)
                    with get_default_graph().control_dependencies(list(updates)):
                        return identity(outputs)

                outputs = smart_cond(is_training, force_updates, lambda: outputs)
            else:
                update_mean, update_variance = smart_cond(
                    is_training,
                    lambda: _moving_average_updates(moving_mean, moving_variance, mean, variance, decay,
                                                    zero_debias_moving_mean),
                    lambda: (moving_mean.value(), moving_variance.value()))
                graph = get_default_graph()
                graph.add_to_collections(updates_collections, update_mean)
                graph.add_to_collections(updates_collections, update_variance)
        outputs.set_shape(inputs_shape)
        if original_rank == 2:
            outputs = reshape(outputs, shape(original_inputs))
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


@add_arg_scope
def batch_norm(inputs: Any, decay: float = 0.999, center: bool = True, scale: bool = False, epsilon: float = 0.001,
               activation_fn: Callable | None = None, param_initializers: dict | None = None,
               param_regularizers: dict | None = None, updates_collections: Any = GraphKeys.UPDATE_OPS,
               is_training: Any = True, reuse: Any = None, variables_collections: Any = None,
               outputs_collections: Any = None, trainable: bool = True, batch_weights: Any = None,
               fused: bool | None = None, data_format: str = "NHWC", zero_debias_moving_mean: bool = False,
               scope: Any = None, renorm: bool = False, renorm_clipping: Any = None, renorm_decay: float = 0.99,
               adjustment: Any = None) -> Tensor:
    """Batch normalization over all axes but the channel axis ('NHWC': the last, 'NCHW': axis 1).

    While training, the moving averages move by `decay` towards the batch statistics: the update ops join
    `updates_collections` (run them with the train op) or, when it is None, run before the output. Not
    supported: `batch_weights`, and `renorm`/`adjustment` (NotImplementedError).
    """
    if batch_weights is not None:
        raise NotImplementedError("batch_norm with batch_weights is not supported")
    if fused is None:
        fused = True
    inputs = convert_to_tensor(inputs)
    rank = inputs.get_shape().ndims
    possible_to_fuse = not renorm and rank in (2, 4) and adjustment is None
    if fused and possible_to_fuse and (zero_debias_moving_mean or rank == 2 or
                                       updates_collections != GraphKeys.UPDATE_OPS):
        return _fused_batch_norm(inputs, decay, center, scale, epsilon, activation_fn, param_initializers,
                                 param_regularizers, updates_collections, is_training, reuse, variables_collections,
                                 outputs_collections, trainable, data_format, zero_debias_moving_mean, scope)
    if data_format not in ("NCHW", "NHWC"):
        raise ValueError("data_format has to be either NCHW or NHWC.")
    with variable_scope(scope, "BatchNorm", [inputs], reuse=reuse, custom_getter=build_variable_getter()) as sc:
        if updates_collections == GraphKeys.UPDATE_OPS and not zero_debias_moving_mean:
            outputs = _batch_norm_layer(inputs, sc, decay, center, scale, epsilon, param_initializers,
                                        param_regularizers, is_training, reuse, variables_collections, trainable,
                                        fused, data_format, renorm, renorm_clipping, renorm_decay, adjustment)
        else:
            if renorm:
                raise ValueError("renorm is not supported with batch_weights, updates_collections or "
                                 "zero_debias_moving_mean")
            outputs = _batch_norm_moments(inputs, decay, center, scale, epsilon, param_initializers,
                                          updates_collections, is_training, variables_collections, trainable,
                                          data_format, zero_debias_moving_mean)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)


def _batch_norm_layer(inputs: Tensor, sc: Any, decay: float, center: bool, scale: bool, epsilon: float,
                      param_initializers: dict | None, param_regularizers: dict | None, is_training: Any,
                      reuse: Any, variables_collections: Any, trainable: bool, fused: bool, data_format: str,
                      renorm: bool, renorm_clipping: Any, renorm_decay: float, adjustment: Any) -> Tensor:
    """The tf.layers BatchNormalization path (the moving-average updates go to UPDATE_OPS)."""
    from caudal.layers.normalization import BatchNormalization

    axis = 1 if data_format == "NCHW" else -1
    param_initializers = param_initializers or {}
    param_regularizers = param_regularizers or {}
    rank = inputs.get_shape().ndims
    layer = BatchNormalization(
        axis=axis, momentum=decay, epsilon=epsilon, center=center, scale=scale,
        beta_initializer=param_initializers.get("beta", init_ops.zeros_initializer()),
        gamma_initializer=param_initializers.get("gamma", init_ops.ones_initializer()),
        moving_mean_initializer=param_initializers.get("moving_mean", init_ops.zeros_initializer()),
        moving_variance_initializer=param_initializers.get("moving_variance", init_ops.ones_initializer()),
        beta_regularizer=param_regularizers.get("beta"), gamma_regularizer=param_regularizers.get("gamma"),
        trainable=trainable, renorm=renorm, renorm_clipping=renorm_clipping, renorm_momentum=renorm_decay,
        adjustment=adjustment, name=sc.name, _scope=sc, _reuse=reuse,
        # TF1's layer falls back to the moments kernel where the fused one cannot run.
        fused=bool(fused) and rank == 4)
    outputs = layer.apply(inputs, training=is_training)
    add_variable_to_collections(layer.moving_mean, variables_collections, "moving_mean")
    add_variable_to_collections(layer.moving_variance, variables_collections, "moving_variance")
    if layer.beta is not None:
        add_variable_to_collections(layer.beta, variables_collections, "beta")
    if layer.gamma is not None:
        add_variable_to_collections(layer.gamma, variables_collections, "gamma")
    return outputs


def _batch_norm_moments(inputs: Tensor, decay: float, center: bool, scale: bool, epsilon: float,
                        param_initializers: dict | None, updates_collections: Any, is_training: Any,
                        variables_collections: Any, trainable: bool, data_format: str,
                        zero_debias_moving_mean: bool) -> Tensor:
    """The moments path: batch statistics from tf.nn.moments, updates as `updates_collections` says."""
    from caudal.contrib._variables import model_variable
    from caudal.ops.array_ops import reshape
    from caudal.ops.control_ops import identity
    from caudal.ops.normalization_ops import batch_normalization, moments

    inputs_shape = inputs.get_shape()
    rank = inputs_shape.ndims
    if rank is None:
        raise ValueError(f"Inputs {inputs.name} has undefined rank.")
    dtype = inputs.dtype.base_dtype
    if data_format == "NCHW":
        moments_axes = [0] + list(range(2, rank))
        params_shape = inputs_shape[1:2]
        broadcast_shape: list[Any] | None = [1, inputs_shape[1].value] + [1] * (rank - 2)
    else:
        moments_axes = list(range(rank - 1))
        params_shape = inputs_shape[-1:]
        broadcast_shape = None
    if not params_shape.is_fully_defined():
        raise ValueError(f"Inputs {inputs.name} has undefined channels dimension {params_shape}.")
    param_initializers = param_initializers or {}
    beta = gamma = None
    if center:
        beta = model_variable("beta", shape=params_shape, dtype=dtype,
                              initializer=param_initializers.get("beta", init_ops.zeros_initializer()),
                              collections=get_variable_collections(variables_collections, "beta"),
                              trainable=trainable)
    if scale:
        gamma = model_variable("gamma", shape=params_shape, dtype=dtype,
                               initializer=param_initializers.get("gamma", init_ops.ones_initializer()),
                               collections=get_variable_collections(variables_collections, "gamma"),
                               trainable=trainable)
    moving_mean, moving_variance = _moving_variables(params_shape, dtype, param_initializers, variables_collections)
    is_training_value = constant_value(is_training)
    if is_training_value is None or is_training_value:
        if data_format == "NCHW":
            mean, variance = moments(inputs, moments_axes, keep_dims=True)
            mean, variance = reshape(mean, [-1]), reshape(variance, [-1])
        else:
            mean, variance = moments(inputs, moments_axes)

        def moving_values() -> tuple[Tensor, Tensor]:
            return moving_mean.value(), moving_variance.value()

        if updates_collections is None:
            def force_updates() -> tuple[Tensor, Tensor]:
                updates = _moving_average_updates(moving_mean, moving_variance, mean, variance, decay,
                                                  zero_debias_moving_mean)
                with get_default_graph().control_dependencies(list(updates)):
                    return identity(mean), identity(variance)

            mean, variance = smart_cond(is_training, force_updates, moving_values)
        else:
            update_mean, update_variance = smart_cond(
                is_training,
                lambda: _moving_average_updates(moving_mean, moving_variance, mean, variance, decay,
                                                zero_debias_moving_mean),
                moving_values)
            graph = get_default_graph()
            graph.add_to_collections(updates_collections, update_mean)
            graph.add_to_collections(updates_collections, update_variance)
            batch_mean, batch_variance = mean, variance
            mean, variance = smart_cond(is_training, lambda: (batch_mean, batch_variance), moving_values)
    else:
        mean, variance = moving_mean.value(), moving_variance.value()
    offset: Any = beta
    factor: Any = gamma
    if broadcast_shape is not None:
        mean, variance = reshape(mean, broadcast_shape), reshape(variance, broadcast_shape)
        offset = reshape(beta, broadcast_shape) if beta is not None else None
        factor = reshape(gamma, broadcast_shape) if gamma is not None else None
    outputs = batch_normalization(inputs, mean, variance, offset, factor, epsilon)
    outputs.set_shape(inputs_shape)
    return outputs


@add_arg_scope
def layer_norm(inputs: Any, center: bool = True, scale: bool = True, activation_fn: Callable | None = None,
               reuse: Any = None, variables_collections: Any = None, outputs_collections: Any = None,
               trainable: bool = True, begin_norm_axis: int = 1, begin_params_axis: int = -1,
               scope: Any = None) -> Tensor:
    """Normalizes over the axes from `begin_norm_axis` on (epsilon 1e-12, 1e-3 for float16), then scales and
    shifts by `LayerNorm/gamma` and `LayerNorm/beta` shaped like the axes from `begin_params_axis` on."""
    from caudal.contrib._variables import model_variable
    from caudal.ops.normalization_ops import batch_normalization, moments

    with variable_scope(scope, "LayerNorm", [inputs], reuse=reuse) as sc:
        inputs = convert_to_tensor(inputs)
        inputs_shape = inputs.get_shape()
        rank = inputs_shape.ndims
        if rank is None:
            raise ValueError(f"Inputs {inputs.name} has undefined rank.")
        dtype = inputs.dtype.base_dtype
        if begin_norm_axis < 0:
            begin_norm_axis = rank + begin_norm_axis
        if begin_params_axis >= rank or begin_norm_axis >= rank:
            raise ValueError(f"begin_params_axis ({begin_params_axis}) and begin_norm_axis ({begin_norm_axis}) "
                             f"must be < rank(inputs) ({rank})")
        params_shape = inputs_shape[begin_params_axis:]
        if not params_shape.is_fully_defined():
            raise ValueError(f"Inputs {inputs.name}: shape(inputs)[{begin_params_axis}:] is not fully defined: "
                             f"{inputs_shape}")
        beta = gamma = None
        if center:
            beta = model_variable("beta", shape=params_shape, dtype=dtype, initializer=init_ops.zeros_initializer(),
                                  collections=get_variable_collections(variables_collections, "beta"),
                                  trainable=trainable)
        if scale:
            gamma = model_variable("gamma", shape=params_shape, dtype=dtype, initializer=init_ops.ones_initializer(),
                                   collections=get_variable_collections(variables_collections, "gamma"),
                                   trainable=trainable)
        mean, variance = moments(inputs, list(range(begin_norm_axis, rank)), keep_dims=True)
        variance_epsilon = 1e-3 if dtype == dtypes.float16 else 1e-12
        outputs = batch_normalization(inputs, mean, variance, offset=beta, scale=gamma,
                                      variance_epsilon=variance_epsilon)
        outputs.set_shape(inputs_shape)
        if activation_fn is not None:
            outputs = activation_fn(outputs)
        return collect_named_outputs(outputs_collections, sc.name, outputs)
