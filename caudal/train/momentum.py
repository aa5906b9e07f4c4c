"""`tf.train.MomentumOptimizer`: accum = momentum * accum + grad; var -= lr * accum (TF's ApplyMomentum)."""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor
from caudal.train.optimizer import Optimizer

__all__ = ["MomentumOptimizer"]


class MomentumOptimizer(Optimizer):
    """Momentum (optionally Nesterov) with one slot, `momentum`, named `<var>/Momentum`.

    With `use_nesterov=True` the update is var -= lr * grad + lr * momentum * accum,
    with accum already updated, as TF computes it.
    """

    def __init__(self, learning_rate: Any, momentum: Any, use_locking: bool = False, name: str = "Momentum",
                 use_nesterov: bool = False):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._momentum = momentum
        self._use_nesterov = use_nesterov
        self._learning_rate_tensor: Tensor | None = None
        self._momentum_tensor: Tensor | None = None

    def _create_slots(self, var_list: list[Any]) -> None:
        for v in var_list:
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper_tensor(self._learning_rate, "learning_rate")
        self._momentum_tensor = self._hyper_tensor(self._momentum, "momentum")

    def _apply_dense(self, grad: Tensor, var: Any) -> Operation:
        return self._fused_apply("ApplyMomentum", var, [self.get_slot(var, "momentum")],
                                 [self._learning_rate_tensor, grad, self._momentum_tensor],
                                 use_nesterov=self._use_nesterov)

    def _apply_sparse(self, grad: Any, var: Any) -> Operation:
        return self._fused_apply("SparseApplyMomentum", var, [self.get_slot(var, "momentum")],
                                 [self._learning_rate_tensor, grad.values, self._momentum_tensor],
                                 indices=grad.indices, use_nesterov=self._use_nesterov)
