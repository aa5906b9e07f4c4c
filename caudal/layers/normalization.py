"""`tf.layers.BatchNormalization` and `tf.layers.batch_normalization`, with TF1's semantics.

Variables: `gamma`, `beta` (trainable), `moving_mean`, `moving_variance`
(not trainable). With `training` true (a bool or a bool tensor) the layer
normalizes with the batch's statistics and adds the moving-average updates
`moving -= (moving - batch) * (1 - momentum)` to `tf.GraphKeys.UPDATE_OPS`,
which the training op must depend on, as in TF1. 4-D inputs normalized over
their channel axis use the fused kernel (whose batch variance for the update
is Bessel-corrected, as TF's); other inputs use `tf.nn.moments`.
"""
from __future__ import annotations

from typing import Any

from caudal import init_ops
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.layers.base import Layer
from caudal.layers.utils import get_initializer, smart_cond


class BatchNormalization(Layer):
    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = init_ops.Zeros(), gamma_initializer: Any = init_ops.Ones(),
                 moving_mean_initializer: Any = init_ops.Zeros(), moving_variance_initializer: Any = init_ops.Ones(),
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, renorm: bool = False, renorm_clipping: Any = None,
                 renorm_momentum: float = 0.99, fused: Any = None, trainable: bool = True,
                 virtual_batch_size: Any = None, adjustment: Any = None, name: str | None = None, **kwargs: Any):
        super().__init__(trainable=trainable, name=name, **kwargs)
        if renorm or virtual_batch_size is not None or adjustment is not None:
            raise NotImplementedError("batch renormalization, virtual batches and adjustment are not supported")
        self.axis = axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = get_initializer(beta_initializer)
        self.gamma_initializer = get_initializer(gamma_initializer)
        self.moving_mean_initializer = get_initializer(moving_mean_initializer)
        self.moving_variance_initializer = get_initializer(moving_variance_initializer)
        self.beta_regularizer = beta_regularizer
        self.gamma_regularizer = gamma_regularizer
        self.beta_constraint = beta_constraint
        self.gamma_constraint = gamma_constraint
        self.fused = fused
        self.gamma: Any = None
        self.beta: Any = None

    def build(self, input_shape: TensorShape) -> None:
        shape = TensorShape(input_shape)
        rank = shape.ndims
        if rank is None:
            raise ValueError(f"Input has undefined rank: {shape}")
        self._axis = self.axis % rank
        channels = shape[self._axis].value
        if channels is None:
            raise ValueError(f"Input has undefined `axis` dimension. Input shape: {shape}")
        if self.fused is None:
            self.fused = rank == 4 and self._axis in (1, 3)
        elif self.fused and not (rank == 4 and self._axis in (1, 3)):
            raise ValueError("fused batch normalization needs 4-D inputs normalized over axis 1 or 3")
        self.gamma = self.add_weight("gamma", [channels], initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer, constraint=self.gamma_constraint) \
            if self.scale else None
        self.beta = self.add_weight("beta", [channels], initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer, constraint=self.beta_constraint) \
            if self.center else None
        self.moving_mean = self.add_weight("moving_mean", [channels], initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", [channels],
                                               initializer=self.moving_variance_initializer, trainable=False)

    def _offset_and_scale(self, dtype: Any) -> tuple[Any, Any]:
        from caudal.ops.constant_ops import ones, zeros

        channels = self.moving_mean.shape.as_list()
        gamma = self.gamma if self.gamma is not None else ones(channels, dtype)
        beta = self.beta if self.beta is not None else zeros(channels, dtype)
        return beta, gamma

    def _update(self, variable: Any, value: Tensor, training: Any) -> Any:
        """variable -= (variable - value) * (1 - momentum); a no-op step when not training."""
        from caudal.framework.graph import get_default_graph
        from caudal.ops.math_ops import multiply, subtract
        from caudal.variables import assign_sub

        decay = smart_cond(training, lambda: _constant(1.0 - self.momentum), lambda: _constant(0.0))
        with get_default_graph().name_scope("AssignMovingAvg"):
            delta = multiply(subtract(variable.value(), value), decay)
            return assign_sub(variable, delta)

    def call(self, inputs: Tensor, training: Any = False) -> Tensor:
        if isinstance(training, bool) and not training:
            return self._inference(inputs)
        if self.fused:
            return self._fused_training(inputs, training)
        return self._moments_training(inputs, training)

    def _inference(self, inputs: Tensor) -> Tensor:
        from caudal import nn

        beta, gamma = self._offset_and_scale(inputs.dtype.base_dtype)
        if self.fused:
            out, _, _ = nn.fused_batch_norm(inputs, gamma, beta, mean=self.moving_mean,
                                            variance=self.moving_variance, epsilon=self.epsilon,
                                            data_format=self._data_format(), is_training=False)
            return out
        mean, variance = self._broadcastable(inputs, self.moving_mean.value(), self.moving_variance.value())
        beta_b, gamma_b = self._broadcastable(inputs, beta, gamma)
        return nn.batch_normalization(inputs, mean, variance, beta_b, gamma_b, self.epsilon)

    def _data_format(self) -> str:
        return "NCHW" if self._axis == 1 else "NHWC"

    def _fused_training(self, inputs: Tensor, training: Any) -> Tensor:
        from caudal import nn

        beta, gamma = self._offset_and_scale(inputs.dtype.base_dtype)

        def with_batch_stats() -> tuple:
            return nn.fused_batch_norm(inputs, gamma, beta, epsilon=self.epsilon, data_format=self._data_format(),
                                       is_training=True)

        def with_moving_stats() -> tuple:
            return nn.fused_batch_norm(inputs, gamma, beta, mean=self.moving_mean, variance=self.moving_variance,
                                       epsilon=self.epsilon, data_format=self._data_format(), is_training=False)

        out, mean, variance = smart_cond(training, with_batch_stats, with_moving_stats)
        self.add_update(self._update(self.moving_mean, mean, training))
        self.add_update(self._update(self.moving_variance, variance, training))
        return out

    def _moments_training(self, inputs: Tensor, training: Any) -> Tensor:
        from caudal import nn

        rank = inputs.shape.ndims
        reduction_axes = [i for i in range(rank) if i != self._axis]
        mean, variance = nn.moments(inputs, reduction_axes)
        moving_mean = self.moving_mean.value()
        moving_variance = self.moving_variance.value()
        use_mean = smart_cond(training, lambda: mean, lambda: moving_mean)
        use_variance = smart_cond(training, lambda: variance, lambda: moving_variance)
        self.add_update(self._update(self.moving_mean, mean, training))
        self.add_update(self._update(self.moving_variance, variance, training))
        beta, gamma = self._offset_and_scale(inputs.dtype.base_dtype)
        use_mean, use_variance = self._broadcastable(inputs, use_mean, use_variance)
        beta_b, gamma_b = self._broadcastable(inputs, beta, gamma)
        return nn.batch_normalization(inputs, use_mean, use_variance, beta_b, gamma_b, self.epsilon)

    def _broadcastable(self, inputs: Tensor, *values: Any) -> list[Any]:
        """Per-channel vectors reshaped to broadcast along the normalized axis."""
        from caudal.ops.array_ops import reshape

        rank = inputs.shape.ndims
        if self._axis == rank - 1:
            return list(values)
        shape = [1] * rank
        shape[self._axis] = self.moving_mean.shape[0].value
        return [reshape(v, shape) for v in values]

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        return TensorShape(input_shape)


def _constant(value: float) -> Tensor:
    from caudal.ops.constant_ops import constant

    return constant(value)


def batch_normalization(inputs: Any, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                        center: bool = True, scale: bool = True, beta_initializer: Any = init_ops.Zeros(),
                        gamma_initializer: Any = init_ops.Ones(), moving_mean_initializer: Any = init_ops.Zeros(),
                        moving_variance_initializer: Any = init_ops.Ones(), beta_regularizer: Any = None,
                        gamma_regularizer: Any = None, beta_constraint: Any = None, gamma_constraint: Any = None,
                        training: Any = False, trainable: bool = True, name: str | None = None, reuse: Any = None,
                        renorm: bool = False, renorm_clipping: Any = None, renorm_momentum: float = 0.99,
                        fused: Any = None, virtual_batch_size: Any = None, adjustment: Any = None) -> Tensor:
    """Functional `BatchNormalization`; remember to run the UPDATE_OPS with the train op."""
    layer = BatchNormalization(axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale,
                               beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                               moving_mean_initializer=moving_mean_initializer,
                               moving_variance_initializer=moving_variance_initializer,
                               beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                               beta_constraint=beta_constraint, gamma_constraint=gamma_constraint, renorm=renorm,
                               renorm_clipping=renorm_clipping, renorm_momentum=renorm_momentum, fused=fused,
                               trainable=trainable, virtual_batch_size=virtual_batch_size, adjustment=adjustment,
                               name=name, _reuse=reuse)
    return layer.apply(inputs, training=training)


BatchNorm = BatchNormalization
