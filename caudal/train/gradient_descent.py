"""`tf.train.GradientDescentOptimizer`: var -= learning_rate * grad."""
from __future__ import annotations

from typing import Any

from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor
from caudal.ops.math_ops import cast
from caudal.train.optimizer import Optimizer


class GradientDescentOptimizer(Optimizer):
    """Plain gradient descent; the learning rate may be a float, a Tensor or a callable."""

    def __init__(self, learning_rate: Any, use_locking: bool = False, name: str = "GradientDescent"):
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate
        self._learning_rate_tensor: Tensor | None = None

    def _prepare(self) -> None:
        self._learning_rate_tensor = convert_to_tensor(self._call_if_callable(self._learning_rate),
                                                       name="learning_rate")

    def _apply_dense(self, grad: Tensor, var: Any) -> Operation:
        lr = cast(self._learning_rate_tensor, var.dtype.base_dtype)
        return var.graph.create_op("ApplyGradientDescent", [var._ref(), lr, grad],
                                   {"T": var.dtype.base_dtype, "use_locking": self._use_locking},
                                   "ApplyGradientDescent")

    def _apply_sparse_duplicate_indices(self, grad: Any, var: Any) -> Any:
        """var[indices] -= lr * values, repeated indices adding up (TF's ScatterSub; no deduplication)."""
        from caudal.ops.state_ops import scatter_sub

        lr = cast(self._learning_rate_tensor, var.dtype.base_dtype)
        return scatter_sub(var, grad.indices, grad.values * lr, use_locking=self._use_locking).op
