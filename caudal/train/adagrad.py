"""`tf.train.AdagradOptimizer`: accum += grad^2; var -= lr * grad / sqrt(accum) (TF's ApplyAdagrad)."""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor
from caudal.train.optimizer import Optimizer

__all__ = ["AdagradOptimizer"]


class AdagradOptimizer(Optimizer):
    """Adagrad with the slot `accumulator` (`<var>/Adagrad`), initialised to `initial_accumulator_value`."""

    def __init__(self, learning_rate: Any, initial_accumulator_value: float = 0.1, use_locking: bool = False,
                 name: str = "Adagrad"):
        if initial_accumulator_value <= 0.0:
            raise ValueError(f"initial_accumulator_value must be positive: {initial_accumulator_value}")
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._initial_accumulator_value = initial_accumulator_value
        self._learning_rate_tensor: Tensor | None = None

    def _create_slots(self, var_list: list[Any]) -> None:
        from caudal import init_ops

        for v in var_list:
            init = init_ops.Constant(self._initial_accumulator_value, dtype=v.dtype.base_dtype)
            self._get_or_make_slot(v, init, "accumulator", self._name)

    def _prepare(self) -> None:
        self._learning_rate_tensor = self._hyper_tensor(self._learning_rate, "learning_rate")

    def _apply_dense(self, grad: Tensor, var: Any) -> Operation:
        return self._fused_apply("ApplyAdagrad", var, [self.get_slot(var, "accumulator")],
                                 [self._learning_rate_tensor, grad], update_slots=True)

    def _apply_sparse(self, grad: Any, var: Any) -> Operation:
        return self._fused_apply("SparseApplyAdagrad", var, [self.get_slot(var, "accumulator")],
                                 [self._learning_rate_tensor, grad.values], indices=grad.indices, update_slots=True)
