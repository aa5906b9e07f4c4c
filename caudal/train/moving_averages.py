"""`tf.train.ExponentialMovingAverage` and `assign_moving_average`, with TF1's names and collections.

`apply(var_list)` creates one shadow variable per input, a slot named
`<var op name>/<ema name>` (`w/ExponentialMovingAverage`) within the current
variable scope (see `slot_creator`), and returns an op
that moves every shadow towards its input:
shadow -= (1 - decay) * (shadow - value). A Variable's shadow starts at the
variable's initial value and the variable joins MOVING_AVERAGE_VARIABLES; a
Tensor's shadow starts at zero and, with `zero_debias`, is debiased as in Adam.
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, Operation, get_default_graph, name_scope
from caudal.framework.tensor import Tensor

__all__ = ["ExponentialMovingAverage", "assign_moving_average"]

_FLOATS = (dtypes_lib.float16, dtypes_lib.float32, dtypes_lib.float64)


def assign_moving_average(variable: Any, value: Any, decay: Any, zero_debias: bool = True,
                          name: str | None = None) -> Tensor:
    """variable -= (1 - decay) * (variable - value); returns the new value.

    With `zero_debias`, a `biased` and a `local_step` variable are created under
    the variable's name and the result is biased / (1 - decay ^ local_step).
    """
    from caudal.ops.math_ops import cast
    from caudal.variables import assign_sub

    with name_scope(name, "AssignMovingAvg", [variable, value, decay]) as scope:
        dtype = variable.dtype.base_dtype
        one_minus_decay = convert_to_tensor(1.0 - convert_to_tensor(decay), name="decay")
        one_minus_decay = cast(one_minus_decay, dtype)
        value = convert_to_tensor(value)
        if zero_debias:
            return _zero_debias(variable, value, one_minus_decay, scope)
        return assign_sub(variable, (variable.value() - value) * one_minus_decay, name=scope)


def _zero_debias(variable: Any, value: Tensor, one_minus_decay: Tensor, scope: str) -> Tensor:
    from caudal import init_ops
    from caudal.ops.math_ops import pow
    from caudal.variable_scope import get_variable, variable_scope
    from caudal.variables import assign, assign_add, assign_sub

    graph = get_default_graph()
    dtype = variable.dtype.base_dtype
    with variable_scope(variable.op.name), graph.control_dependencies(None):
        biased = get_variable(_unique_in_scope("biased"), shape=variable.get_shape(),
                              dtype=dtype, initializer=init_ops.Zeros(), trainable=False)
        local_step = get_variable(_unique_in_scope("local_step"), shape=[], dtype=dtype,
                                  initializer=init_ops.Zeros(), trainable=False)
    update_biased = assign_sub(biased, (biased.value() - value) * one_minus_decay)
    update_step = assign_add(local_step, 1)
    bias_factor = 1 - pow(1.0 - one_minus_decay, update_step)
    return assign(variable, update_biased / bias_factor, name=scope)


def _unique_in_scope(name: str) -> str:
    """`name`, or `name_1`, `name_2`, ... when `<variable scope>/<name>` already names a global variable
    (just `name` when the scope reuses variables), as TF picks them."""
    from caudal.variable_scope import get_variable_scope

    scope = get_variable_scope()
    if scope.reuse:
        return name
    prefix = scope.name
    taken = {v.op.name for v in get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES)}
    if f"{prefix}/{name}" not in taken:
        return name
    index = 1
    while f"{prefix}/{name}_{index}" in taken:
        index += 1
    return f"{name}_{index}"


class ExponentialMovingAverage:
    """Maintains moving averages of variables (or tensors) with exponential decay.

    With `num_updates`, the decay used is min(decay, (1 + num_updates) / (10 + num_updates)).
    """

    def __init__(self, decay: Any, num_updates: Any = None, zero_debias: bool = False,
                 name: str = "ExponentialMovingAverage"):
        self._decay = decay
        self._num_updates = num_updates
        self._zero_debias = zero_debias
        self._name = name
        self._averages: dict[Any, Any] = {}

    @property
    def name(self) -> str:
        return self._name

    def apply(self, var_list: Any = None) -> Operation:
        """Creates the shadow variables (once per input) and returns the op updating all of them."""
        from caudal.ops.control_ops import group
        from caudal.ops.math_ops import cast, minimum
        from caudal.train import slot_creator
        from caudal.variables import Variable, trainable_variables

        var_list = trainable_variables() if var_list is None else list(var_list)
        graph = get_default_graph()
        debiased: set[Any] = set()
        for var in var_list:
            if var.dtype.base_dtype not in _FLOATS:
                raise TypeError(f"The variables must be half, float, or double: {var.name}")
            if var in self._averages:
                continue
            with graph.control_dependencies(None):
                if isinstance(var, Variable):
                    average = slot_creator.create_slot(var, var.initialized_value(), self._name)
                    graph.add_to_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, var)
                else:
                    average = slot_creator.create_zeros_slot(var, self._name)
                    if self._zero_debias:
                        debiased.add(average)
            self._averages[var] = average
        with name_scope(self._name) as scope:
            decay = convert_to_tensor(self._decay, name="decay")
            if self._num_updates is not None:
                num_updates = cast(self._num_updates, dtypes_lib.float32, name="num_updates")
                decay = minimum(decay, (1.0 + num_updates) / (10.0 + num_updates))
            updates = [assign_moving_average(self._averages[var], var, decay,
                                             zero_debias=self._averages[var] in debiased)
                       for var in var_list]
            return group(*updates, name=scope)

    def average(self, var: Any) -> Any:
        """The shadow variable of `var`, or None."""
        return self._averages.get(var)

    def average_name(self, var: Any) -> str:
        """The name of `var`'s shadow variable; before `apply`, TF's guess: `<var op name>/<ema name>` made
        unique in the graph within the current name scope (without taking the name)."""
        if var in self._averages:
            return self._averages[var].op.name
        return get_default_graph().unique_name(f"{var.op.name}/{self._name}", mark_as_used=False)

    def variables_to_restore(self, moving_avg_variables: Any = None) -> dict[str, Any]:
        """{name in the checkpoint: variable} restoring each averaged variable from its shadow's value.

        Averaged variables (trainable and MOVING_AVERAGE_VARIABLES by default) map from their
        average's name; every other global variable maps from its own name.
        """
        from caudal.variables import global_variables, moving_average_variables, trainable_variables

        if moving_avg_variables is None:
            moving_avg_variables = trainable_variables() + moving_average_variables()
        averaged = list(dict.fromkeys(moving_avg_variables))
        name_map = {self.average_name(v): v for v in averaged}
        averaged_set = set(averaged)
        for v in global_variables():
            if v not in averaged_set and v.op.name not in name_map:
                name_map[v.op.name] = v
        return name_map
