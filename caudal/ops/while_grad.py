"""The gradient of a `tf.while_loop`: a second loop that undoes the first, one iteration at a time.

`tf.gradients` treats a loop as one node (`loop_gradient` below). Its gradient
is a backward loop that runs as many iterations as the forward loop ran. Each
backward iteration differentiates the forward body once (the body's own ops'
gradients, built by `tf.gradients` inside the backward loop), taking the
gradients of the body's outputs and giving those of its inputs; gradients of
tensors captured from outside the loop are summed over the iterations.

The body's gradient needs the values the forward body computed in the matching
iteration. When a gradient op inside the backward loop uses a forward tensor,
the backward loop's context routes it here (`GradLoopState.forward_value`):
the forward loop gets a new loop variable that pushes the tensor onto a
TensorList every iteration, and the backward loop pops it, so the last
iteration's value comes back first. Constants and loop invariants need no
history. Nested loops work the same way one level down: the inner loop's
histories are values of the outer loop, so the outer loop keeps lists of them.

As in TensorFlow 1.x, gradients of gradient loops (second derivatives through
a loop) are not supported, and a loop built with `back_prop=False` passes no
gradient.
"""
from __future__ import annotations

from typing import Any

from caudal.framework.tensor import Tensor
from caudal.ops.while_ops import WhileContext

__all__ = ["loop_gradient", "loop_inputs", "loop_outputs", "GradLoopState"]


def _differentiable(t: Tensor) -> bool:
    base = t.dtype.base_dtype
    return base.is_floating or base.is_complex


def loop_inputs(loop: WhileContext) -> list[Tensor]:
    """What enters the loop from outside: initial values of loop variables, then invariants."""
    return [v.enter.op.inputs[0] for v in loop.vars] + [e.op.inputs[0] for e in loop.invariants.values()]


def loop_outputs(loop: WhileContext) -> list[Tensor]:
    return [v.exit for v in loop.vars if v.exit is not None]


class GradLoopState:
    """What a backward loop knows of the forward loop it undoes."""

    def __init__(self, forward: WhileContext, backward: WhileContext):
        self.forward = forward
        self.backward = backward
        self._values: dict[Tensor, Tensor] = {}

    def forward_value(self, t: Tensor) -> Tensor:
        """The value forward tensor `t` had in the forward iteration the current backward one undoes."""
        found = self._values.get(t)
        if found is not None:
            return found
        op = t.op
        backward = self.backward
        if op.type == "Enter" and op.get_attr("is_constant"):
            value = backward.route(op.inputs[0])
        elif op.type == "Const":
            from caudal.ops.constant_ops import constant

            value = backward._in_frame(lambda: constant(op.get_attr("value"), dtype=t.dtype.base_dtype))
        else:
            from caudal.ops.list_ops import tensor_list_pop_back

            history = history_of(self.forward, t)
            current, finish = backward.add_loop_var(history, name="history")
            rest, value = backward._in_frame(lambda: tensor_list_pop_back(current, t.dtype.base_dtype, t.shape))
            finish(rest)
            value.set_shape(t.shape)
        self._values[t] = value
        return value


def history_of(loop: WhileContext, t: Tensor) -> Tensor:
    """The Exit of a loop variable collecting `t` (a tensor of `loop`) from every iteration."""
    found = loop.history.get(t)
    if found is not None:
        return found
    from caudal.ops.list_ops import empty_tensor_list, tensor_list_push_back

    empty = loop._in_frame(lambda: empty_tensor_list(t.shape, t.dtype.base_dtype), context=loop.outer) \
        if loop.outer is None else _in_outer(loop, lambda: empty_tensor_list(t.shape, t.dtype.base_dtype))
    current, finish = loop.add_loop_var(empty, name="history")
    pushed = loop._in_frame(lambda: tensor_list_push_back(current, t))
    found = loop.history[t] = finish(pushed)
    return found


def _in_outer(loop: WhileContext, build: Any) -> Any:
    """Builds ops in the context that holds `loop` (a branch or a loop body), routed as there."""
    graph = loop.graph
    state = graph._state
    saved = state.control_flow_context
    state.control_flow_context = loop.outer
    try:
        with graph.control_dependencies(None):
            return build()
    finally:
        state.control_flow_context = saved


def iteration_count(loop: WhileContext) -> Tensor:
    """The Exit of a counter of the loop's iterations."""
    if loop.count is None:
        from caudal.framework import dtypes as dtypes_lib
        from caudal.ops.constant_ops import constant

        zero = _in_outer(loop, lambda: constant(0, dtypes_lib.int32, name="f_count"))
        current, finish = loop.add_loop_var(zero, name="f_count")
        one = loop._in_frame(lambda: constant(1, dtypes_lib.int32))
        step = loop._in_frame(lambda: current + one)
        loop.count = finish(step)
    return loop.count


def loop_gradient(loop: WhileContext, inputs: list[Tensor], outputs: list[Tensor],
                  output_grads: list[Tensor | None]) -> list[Tensor | None]:
    """Gradients of `inputs` (`loop_inputs(loop)`) given those of `outputs` (`loop_outputs(loop)`,
    None where none arrives)."""
    if loop.grad_state is not None:
        raise TypeError("Second-order gradient for while loops not supported.")
    if not loop.back_prop:
        return [None] * len(inputs)
    from caudal.autodiff.gradients import gradients_within
    from caudal.ops.comparison_ops import greater
    from caudal.ops.constant_ops import zeros_like

    exits = dict(zip(outputs, output_grads))
    n_loop_vars = len(inputs) - len(loop.invariants)
    variables = [k for k, v in enumerate(loop.vars[:n_loop_vars]) if _differentiable(v.merge) and v.exit is not None]
    position = {source: n_loop_vars + i for i, source in enumerate(loop.invariants)}
    invariants = [(source, entered) for source, entered in list(loop.invariants.items())
                  if _differentiable(entered)]
    if not variables and not invariants:
        return [None] * len(inputs)
    count = iteration_count(loop)
    graph = loop.graph
    start = [exits.get(loop.vars[k].exit) for k in variables]
    start = [g if g is not None else zeros_like(loop.vars[k].exit) for g, k in zip(start, variables)]
    totals = [zeros_like(source) for source, _ in invariants]
    n_vars = len(variables)

    def cond(remaining: Tensor, *rest: Tensor) -> Tensor:
        return greater(remaining, 0)

    def body(remaining: Tensor, *rest: Tensor) -> list[Tensor]:
        grads, sums = rest[:n_vars], rest[n_vars:]
        ys = [loop.vars[k].next.op.inputs[0] for k in variables]
        xs = [loop.vars[k].merge for k in variables] + [entered for _, entered in invariants]
        found = gradients_within(loop, ys, xs, list(grads))
        new_grads = [g if g is not None else zeros_like(old) for g, old in zip(found[:n_vars], grads)]
        new_sums = [total + g if g is not None else total for g, total in zip(found[n_vars:], sums)]
        return [remaining - 1] + new_grads + new_sums

    with graph.name_scope(loop.name.rstrip("/").rsplit("/", 1)[-1] if loop.name else "while") as scope:
        backward = WhileContext(scope, loop.parallel_iterations, True, loop.swap_memory)
        backward.grad_state = GradLoopState(loop, backward)
        result = backward.build(cond, body, [count] + start + totals, return_same_structure=True)
    grads_out: list[Tensor | None] = [None] * len(inputs)
    for k, g in zip(variables, result[1:1 + n_vars]):
        grads_out[k] = g
    for (source, _), total in zip(invariants, result[1 + n_vars:]):
        grads_out[position[source]] = total
    return grads_out
