"""`tf.train.FtrlOptimizer`: FTRL-Proximal (McMahan et al., 2013) through TF's ApplyFtrl / ApplyFtrlV2.

Slots `accum` (`<var>/Ftrl`, initial_accumulator_value) and `linear`
(`<var>/Ftrl_1`, zeros). With `l2_shrinkage_regularization_strength > 0` the V2
op adds the shrinkage to the gradient of the linear term only. `beta` adds
beta / (2 lr) to the L2 strength, as TF does.
"""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor
from caudal.train.optimizer import Optimizer

__all__ = ["FtrlOptimizer"]


class FtrlOptimizer(Optimizer):
    """FTRL-Proximal with L1, L2 and L2-shrinkage regularization."""

    def __init__(self, learning_rate: Any, learning_rate_power: float = -0.5, initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0, l2_regularization_strength: float = 0.0,
                 use_locking: bool = False, name: str = "Ftrl", accum_name: str | None = None,
                 linear_name: str | None = None, l2_shrinkage_regularization_strength: float = 0.0,
                 beta: float | None = None):
        super().__init__(use_locking, name)
        checks = [("initial_accumulator_value", initial_accumulator_value),
                  ("l1_regularization_strength", l1_regularization_strength),
                  ("l2_regularization_strength", l2_regularization_strength),
                  ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)]
        if learning_rate_power > 0.0:
            raise ValueError(f"learning_rate_power {learning_rate_power:f} needs to be negative or zero")
        for label, value in checks:
            if value < 0.0:
                raise ValueError(f"{label} {value:f} needs to be positive or zero")
        self._learning_rate = learning_rate
        self._learning_rate_power = learning_rate_power
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._beta = 0.0 if beta is None else beta
        self._l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self._accum_name = accum_name
        self._linear_name = linear_name
        self._tensors: dict[str, Tensor] = {}

    def _create_slots(self, var_list: list[Any]) -> None:
        from caudal.ops.constant_ops import ones

        def accum_initializer(shape: Any, dtype: Any = None, partition_info: Any = None) -> Tensor:
            return ones(shape, dtype=dtype) * self._initial_accumulator_value

        for v in var_list:
            self._get_or_make_slot_with_initializer(v, accum_initializer, v.get_shape(), v.dtype.base_dtype,
                                                    "accum", self._accum_name or self._name)
            self._zeros_slot(v, "linear", self._linear_name or self._name)

    def _prepare(self) -> None:
        from caudal.ops.math_ops import maximum

        learning_rate = self._call_if_callable(self._learning_rate)
        self._tensors = {
            "lr": self._hyper_tensor(learning_rate, "learning_rate"),
            "l1": self._hyper_tensor(self._l1_regularization_strength, "l1_regularization_strength"),
            # l2 + beta / (2 lr), guarding the division as TF does (and with TF's op names).
            "l2": self._hyper_tensor(self._l2_regularization_strength
                                     + self._beta / (2.0 * maximum(learning_rate, 1e-36)),
                                     "adjusted_l2_regularization_strength"),
            "beta": self._hyper_tensor(self._beta, "beta"),
            "l2_shrinkage": self._hyper_tensor(self._l2_shrinkage_regularization_strength,
                                               "l2_shrinkage_regularization_strength"),
            "lr_power": self._hyper_tensor(self._learning_rate_power, "learning_rate_power"),
        }

    def _apply_dense(self, grad: Tensor, var: Any) -> Operation:
        return self._apply("", grad, var, None)

    def _apply_sparse(self, grad: Any, var: Any) -> Operation:
        return self._apply("Sparse", grad.values, var, grad.indices)

    def _apply(self, prefix: str, grad: Tensor, var: Any, indices: Tensor | None) -> Operation:
        t = self._tensors
        slots = [self.get_slot(var, "accum"), self.get_slot(var, "linear")]
        if self._l2_shrinkage_regularization_strength <= 0.0:
            return self._fused_apply(prefix + "ApplyFtrl", var, slots,
                                     [grad, t["lr"], t["l1"], t["l2"], t["lr_power"]], indices=indices,
                                     multiply_linear_by_lr=False)
        return self._fused_apply(prefix + "ApplyFtrlV2", var, slots,
                                 [grad, t["lr"], t["l1"], t["l2"], t["l2_shrinkage"], t["lr_power"]],
                                 indices=indices, multiply_linear_by_lr=False)
