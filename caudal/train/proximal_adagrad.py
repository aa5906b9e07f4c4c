"""`tf.train.ProximalAdagradOptimizer`: Adagrad's per-coordinate rate, then the L1/L2 proximal map."""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor
from caudal.train.optimizer import Optimizer

__all__ = ["ProximalAdagradOptimizer"]


class ProximalAdagradOptimizer(Optimizer):
    """accum += g^2; rate = lr / sqrt(accum); prox = var - rate g;
    var = sign(prox) max(|prox| - rate l1, 0) / (1 + rate l2). Slot `accumulator` (`<var>/ProximalAdagrad`)."""

    def __init__(self, learning_rate: Any, initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: Any = 0.0, l2_regularization_strength: Any = 0.0,
                 use_locking: bool = False, name: str = "ProximalAdagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._tensors: list[Tensor] = []

    def _create_slots(self, var_list: list[Any]) -> None:
        from caudal.ops.constant_ops import constant

        for v in var_list:
            # As TF: a constant made in the caller's name scope is the slot's initial value.
            value = constant(self._initial_accumulator_value, shape=v.get_shape(), dtype=v.dtype.base_dtype)
            self._get_or_make_slot(v, value, "accumulator", self._name)

    def _prepare(self) -> None:
        self._tensors = [self._hyper_tensor(self._learning_rate, "learning_rate"),
                         self._hyper_tensor(self._l1_regularization_strength, "l1_regularization_strength"),
                         self._hyper_tensor(self._l2_regularization_strength, "l2_regularization_strength")]

    def _apply_dense(self, grad: Tensor, var: Any) -> Operation:
        # TF passes the float32 hyperparameters uncast: a float16 or float64 variable is a TypeError.
        return self._fused_apply("ApplyProximalAdagrad", var, [self.get_slot(var, "accumulator")],
                                 [*self._tensors, grad], cast_inputs=False)

    def _apply_sparse(self, grad: Any, var: Any) -> Operation:
        return self._fused_apply("SparseApplyProximalAdagrad", var, [self.get_slot(var, "accumulator")],
                                 [*self._tensors, grad.values], cast_inputs=False, indices=grad.indices)
