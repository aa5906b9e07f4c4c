"""`tf.train.ProximalGradientDescentOptimizer`: a gradient step, then the L1/L2 proximal map (FOBOS)."""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor
from caudal.train.optimizer import Optimizer

__all__ = ["ProximalGradientDescentOptimizer"]


class ProximalGradientDescentOptimizer(Optimizer):
    """prox = var - lr grad; var = sign(prox) max(|prox| - lr l1, 0) / (1 + lr l2). No slots."""

    def __init__(self, learning_rate: Any, l1_regularization_strength: Any = 0.0,
                 l2_regularization_strength: Any = 0.0, use_locking: bool = False,
                 name: str = "ProximalGradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._l1_regularization_strength = l1_regularization_strength
        self._l2_regularization_strength = l2_regularization_strength
        self._tensors: list[Tensor] = []

    def _prepare(self) -> None:
        self._tensors = [self._hyper_tensor(self._learning_rate, "learning_rate"),
                         self._hyper_tensor(self._l1_regularization_strength, "l1_regularization_strength"),
                         self._hyper_tensor(self._l2_regularization_strength, "l2_regularization_strength")]

    def _apply_dense(self, grad: Tensor, var: Any) -> Operation:
        # TF passes the float32 hyperparameters uncast: a float16 or float64 variable is a TypeError.
        return self._fused_apply("ApplyProximalGradientDescent", var, [], [*self._tensors, grad], cast_inputs=False)

    def _apply_sparse(self, grad: Any, var: Any) -> Operation:
        return self._fused_apply("SparseApplyProximalGradientDescent", var, [], [*self._tensors, grad.values],
                                 cast_inputs=False, indices=grad.indices)
