"""`tf.train.AdadeltaOptimizer` (Zeiler 2012), TF's ApplyAdadelta with a learning rate."""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor
from caudal.train.optimizer import Optimizer

__all__ = ["AdadeltaOptimizer"]


class AdadeltaOptimizer(Optimizer):
    """Slots `accum` (`<var>/Adadelta`) and `accum_update` (`<var>/Adadelta_1`), both zeros.

    accum = rho accum + (1 - rho) g^2; update = sqrt(accum_update + eps) / sqrt(accum + eps) g;
    accum_update = rho accum_update + (1 - rho) update^2; var -= lr update.
    """

    def __init__(self, learning_rate: Any = 0.001, rho: Any = 0.95, epsilon: Any = 1e-8, use_locking: bool = False,
                 name: str = "Adadelta"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._rho = rho
        self._epsilon = epsilon
        self._lr_t: Tensor | None = None
        self._rho_t: Tensor | None = None
        self._epsilon_t: Tensor | None = None

    def _create_slots(self, var_list: list[Any]) -> None:
        for v in var_list:
            self._zeros_slot(v, "accum", self._name)
            self._zeros_slot(v, "accum_update", self._name)

    def _prepare(self) -> None:
        self._lr_t = self._hyper_tensor(self._lr, "lr")
        self._rho_t = self._hyper_tensor(self._rho, "rho")
        self._epsilon_t = self._hyper_tensor(self._epsilon, "epsilon")

    def _apply_dense(self, grad: Tensor, var: Any) -> Operation:
        return self._fused_apply("ApplyAdadelta", var,
                                 [self.get_slot(var, "accum"), self.get_slot(var, "accum_update")],
                                 [self._lr_t, self._rho_t, self._epsilon_t, grad])

    def _apply_sparse(self, grad: Any, var: Any) -> Operation:
        return self._fused_apply("SparseApplyAdadelta", var,
                                 [self.get_slot(var, "accum"), self.get_slot(var, "accum_update")],
                                 [self._lr_t, self._rho_t, self._epsilon_t, grad.values], indices=grad.indices)
