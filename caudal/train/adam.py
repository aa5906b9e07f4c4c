"""`tf.train.AdamOptimizer` (Kingma & Ba), as TF1 builds it.

Slots `m` and `v` are named `<var>/Adam` and `<var>/Adam_1`; the running powers
of beta1 and beta2 are two non-slot variables, `beta1_power` and `beta2_power`,
created next to the first variable by name and multiplied by beta1 / beta2
after every update (in `_finish`), so step t uses beta^t.
"""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import Operation
from caudal.framework.tensor import Tensor
from caudal.train.optimizer import Optimizer

__all__ = ["AdamOptimizer"]


class AdamOptimizer(Optimizer):
    """lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t); m, v moving moments; var -= lr_t m / (sqrt(v) + eps)."""

    def __init__(self, learning_rate: Any = 0.001, beta1: Any = 0.9, beta2: Any = 0.999, epsilon: Any = 1e-8,
                 use_locking: bool = False, name: str = "Adam"):
        super().__init__(use_locking, name)
        self._lr = learning_rate
        self._beta1 = beta1
        self._beta2 = beta2
        self._epsilon = epsilon
        self._lr_t: Tensor | None = None
        self._beta1_t: Tensor | None = None
        self._beta2_t: Tensor | None = None
        self._epsilon_t: Tensor | None = None

    def _get_beta_accumulators(self) -> tuple[Any, Any]:
        return self._get_non_slot_variable("beta1_power"), self._get_non_slot_variable("beta2_power")

    def _create_slots(self, var_list: list[Any]) -> None:
        first_var = min(var_list, key=lambda v: v.name)
        self._create_non_slot_variable(self._call_if_callable(self._beta1), "beta1_power", first_var)
        self._create_non_slot_variable(self._call_if_callable(self._beta2), "beta2_power", first_var)
        for v in var_list:
            self._zeros_slot(v, "m", self._name)
            self._zeros_slot(v, "v", self._name)

    def _prepare(self) -> None:
        self._lr_t = self._hyper_tensor(self._lr, "learning_rate")
        self._beta1_t = self._hyper_tensor(self._beta1, "beta1")
        self._beta2_t = self._hyper_tensor(self._beta2, "beta2")
        self._epsilon_t = self._hyper_tensor(self._epsilon, "epsilon")

    def _apply_dense(self, grad: Tensor, var: Any) -> Operation:
        beta1_power, beta2_power = self._get_beta_accumulators()
        return self._fused_apply("ApplyAdam", var, [self.get_slot(var, "m"), self.get_slot(var, "v")],
                                 [beta1_power.value(), beta2_power.value(), self._lr_t, self._beta1_t,
                                  self._beta2_t, self._epsilon_t, grad], use_nesterov=False)

    def _apply_sparse(self, grad: Any, var: Any) -> Operation:
        """TF1's sparse Adam: every row's m and v decay (m *= beta1, v *= beta2), the rows of `grad` add
        (1 - beta1) g and (1 - beta2) g^2 (ScatterAdd), and every row of var moves by its m / (sqrt(v) + eps)."""
        from caudal.framework.graph import get_default_graph
        from caudal.ops.control_ops import group
        from caudal.ops.math_ops import cast, sqrt
        from caudal.ops.state_ops import scatter_add
        from caudal.variables import assign, assign_sub

        graph = get_default_graph()
        dtype = var.dtype.base_dtype
        beta1_power, beta2_power = (cast(p, dtype) for p in self._get_beta_accumulators())
        lr_t, beta1_t, beta2_t, epsilon_t = (cast(t, dtype) for t in
                                             (self._lr_t, self._beta1_t, self._beta2_t, self._epsilon_t))
        lr = lr_t * sqrt(1 - beta2_power) / (1 - beta1_power)
        m = self.get_slot(var, "m")
        m_scaled_g_values = grad.values * (1 - beta1_t)
        m_t = assign(m, m * beta1_t, use_locking=self._use_locking)
        with graph.control_dependencies([m_t]):
            m_t = scatter_add(m, grad.indices, m_scaled_g_values, use_locking=self._use_locking)
        v = self.get_slot(var, "v")
        v_scaled_g_values = (grad.values * grad.values) * (1 - beta2_t)
        v_t = assign(v, v * beta2_t, use_locking=self._use_locking)
        with graph.control_dependencies([v_t]):
            v_t = scatter_add(v, grad.indices, v_scaled_g_values, use_locking=self._use_locking)
        var_update = assign_sub(var, lr * m_t / (sqrt(v_t) + epsilon_t), use_locking=self._use_locking)
        return group(var_update, m_t, v_t)

    def _finish(self, update_ops: list[Any], name_scope: str) -> Operation:
        from caudal.framework.graph import get_default_graph
        from caudal.ops.control_ops import group
        from caudal.variables import assign

        graph = get_default_graph()
        beta1_power, beta2_power = self._get_beta_accumulators()
        with graph.control_dependencies(update_ops), graph.colocate_with(beta1_power.op):
            # The powers' reads are ordered after the updates by the control dependencies of the products.
            update_beta1 = assign(beta1_power, beta1_power * self._beta1_t, use_locking=self._use_locking)
            update_beta2 = assign(beta2_power, beta2_power * self._beta2_t, use_locking=self._use_locking)
        return group(*update_ops, update_beta1, update_beta2, name=name_scope)
