"""`tf.train.RMSPropOptimizer`, TF1's version: the mean square starts at ONES, not zeros.

Slots, created in this order per variable: `rms` (`<var>/RMSProp`, ones), `mg`
(centered only, zeros) and `momentum` (zeros), so with `centered=True` `mg` is
`<var>/RMSProp_1` and `momentum` `<var>/RMSProp_2`.
"""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor
from caudal.train.optimizer import Optimizer

__all__ = ["RMSPropOptimizer"]


class RMSPropOptimizer(Optimizer):
    """ms = decay ms + (1 - decay) g^2; mom = momentum mom + lr g / sqrt(ms + eps); var -= mom.

    Centered: mg = decay mg + (1 - decay) g and the denominator is sqrt(ms - mg^2 + eps).
    """

    def __init__(self, learning_rate: Any, decay: Any = 0.9, momentum: Any = 0.0, epsilon: Any = 1e-10,
                 use_locking: bool = False, centered: bool = False, name: str = "RMSProp"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._decay = decay
        self._momentum = momentum
        self._epsilon = epsilon
        self._centered = centered
        self._learning_rate_tensor: Tensor | None = None
        self._decay_tensor: Tensor | None = None
        self._momentum_tensor: Tensor | None = None
        self._epsilon_tensor: Tensor | None = None

    def _create_slots(self, var_list: list[Any]) -> None:
        from caudal import init_ops

        for v in var_list:
            self._get_or_make_slot(v, init_ops.Ones(dtype=v.dtype.base_dtype), "rms", self._name)
            if self._centered:
                self._zeros_slot(v, "mg", self._name)
            self._zeros_slot(v, "momentum", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper_tensor(self._learning_rate, "learning_rate")
        self._decay_tensor = self._hyper_tensor(self._decay, "decay")
        self._momentum_tensor = self._hyper_tensor(self._momentum, "momentum")
        self._epsilon_tensor = self._hyper_tensor(self._epsilon, "epsilon")

    def _apply_dense(self, grad: Tensor, var: Any) -> Operation:
        return self._apply("", grad, var, None)

    def _apply_sparse(self, grad: Any, var: Any) -> Operation:
        return self._apply("Sparse", grad.values, var, grad.indices)

    def _apply(self, prefix: str, grad: Tensor, var: Any, indices: Tensor | None) -> Operation:
        hyper = [self._learning_rate_tensor, self._decay_tensor, self._momentum_tensor, self._epsilon_tensor, grad]
        rms, mom = self.get_slot(var, "rms"), self.get_slot(var, "momentum")
        if self._centered:
            return self._fused_apply(prefix + "ApplyCenteredRMSProp", var, [self.get_slot(var, "mg"), rms, mom],
                                     hyper, indices=indices)
        return self._fused_apply(prefix + "ApplyRMSProp", var, [rms, mom], hyper, indices=indices)
