"""`tf.while_loop` with TF1's semantics, built from TF1's frame ops.

The loop is built as TensorFlow 1.x builds it, with the same node names
(`while/Enter`, `while/Merge`, `while/LoopCond`, `while/Switch`,
`while/Identity`, `while/NextIteration`, `while/Exit`), so a GraphDef holding
a caudal loop runs in TensorFlow and TensorFlow's loops import into caudal.
The plan compiler reads the frame back as a loop (`caudal.runtime.frames`)
and runs it as a Python `while`: the frame ops cost nothing per iteration.

While `cond` and `body` are traced, a WhileContext is the graph's control
flow context: a tensor from outside enters the frame once, through a
constant Enter (a loop invariant), and ops that depend on nothing that
changes per iteration get the loop's pivot as a control input, so they run
once per iteration as in TF. A variable's reference passes into the frame
unchanged, so `v.read_value()` and `tf.assign(v, ...)` in the body act on the
variable's current value in every iteration; `v + 1` uses the snapshot
`v/read`, read once when the loop starts, as in TF.

A finished loop can grow loop variables later (`add_loop_var`): the gradient
of a loop adds an iteration counter and TensorList histories of the values
its backward pass needs (`caudal.ops.while_grad`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, InferContext, Operation, get_default_graph
from caudal.framework.registry import EXECUTOR, NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, as_shape
from caudal.ops import _rules
from caudal.ops._control_flow import ControlFlowContext
from caudal.util import nest

__all__ = ["while_loop", "WhileContext", "enter", "exit", "next_iteration", "loop_cond"]


# ----------------------------------------------------------- frame ops
def _loop_cond_infer(ctx: InferContext) -> list:
    if ctx.dtype(0) is not dtypes_lib.bool_:
        raise TypeError(f"Input 'input' of 'LoopCond' Op has type {ctx.dtype(0).name} that does not match "
                        "expected type of bool.")
    if ctx.shape(0).ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {ctx.shape(0).ndims}")
    return [(dtypes_lib.bool_, TensorShape([]))]


def _no_gradient_for_imported_loop(op: Operation, *grads: Tensor) -> list:
    raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type}): caudal "
                      "differentiates the loops tf.while_loop builds, not loops imported from a GraphDef")


register_op("Enter", infer=_rules.same_as_input(), kernel=EXECUTOR, grad=NOT_DIFFERENTIABLE)
register_op("Exit", infer=_rules.same_as_input(), kernel=EXECUTOR, grad=_no_gradient_for_imported_loop)
register_op("NextIteration", infer=_rules.same_as_input(), kernel=EXECUTOR, grad=NOT_DIFFERENTIABLE)
register_op("LoopCond", infer=_loop_cond_infer, kernel=EXECUTOR, grad=NOT_DIFFERENTIABLE)


def enter(data: Tensor, frame_name: str, is_constant: bool = False, parallel_iterations: int = 10,
          name: str = "Enter") -> Tensor:
    """`data` made available inside frame `frame_name` (each iteration, when `is_constant`)."""
    return data.graph.create_op("Enter", [data], {"T": data.dtype.base_dtype, "frame_name": frame_name,
                                                  "is_constant": is_constant,
                                                  "parallel_iterations": parallel_iterations}, name).outputs[0]


def exit(data: Tensor, name: str = "Exit") -> Tensor:  # noqa: A001
    """`data` leaving its frame (the last value of a loop variable)."""
    return data.graph.create_op("Exit", [data], {"T": data.dtype.base_dtype}, name).outputs[0]


def next_iteration(data: Tensor, name: str = "NextIteration") -> Tensor:
    """`data` as the value of a loop variable in the next iteration."""
    return data.graph.create_op("NextIteration", [data], {"T": data.dtype.base_dtype}, name).outputs[0]


def loop_cond(pred: Tensor, name: str = "LoopCond") -> Tensor:
    """The loop's predicate: its Switches forward values to the body while it holds."""
    return pred.graph.create_op("LoopCond", [pred], {}, name).outputs[0]


# ------------------------------------------------------------ context
class _LoopVar:
    """The frame ops of one loop variable."""

    __slots__ = ("enter", "merge", "switch", "identity", "next", "exit", "invariant")

    def __init__(self, enter_t: Tensor, merge_t: Tensor, invariant: TensorShape):
        self.enter = enter_t
        self.merge = merge_t
        self.switch: tuple[Tensor, Tensor] | None = None
        self.identity: Tensor | None = None
        self.next: Tensor | None = None
        self.exit: Tensor | None = None
        self.invariant = invariant


class WhileContext(ControlFlowContext):
    """The loop being built, or built: its frame, loop variables, invariants and pivot."""

    def __init__(self, name: str, parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
                 maximum_iterations: Tensor | None = None):
        graph = get_default_graph()
        self.graph = graph
        self.name = name  # the loop's name scope, ending in "/"
        self.frame_name = name + "while_context"
        self.parallel_iterations = parallel_iterations
        self.back_prop = back_prop
        self.swap_memory = swap_memory
        self.maximum_iterations = maximum_iterations
        self.outer = graph._state.control_flow_context
        self.pivot: Tensor | None = None
        self.loop_cond: Tensor | None = None
        self.vars: list[_LoopVar] = []
        self.invariants: dict[Tensor, Tensor] = {}
        self.grad_state: Any = None  # set on a backward loop: what it is the gradient of
        self.history: dict[Tensor, Tensor] = {}  # forward value -> Exit of its TensorList history
        self.count: Tensor | None = None  # Exit of the iteration counter, once a gradient needs it

    # ----------------------------------------------------- membership
    def needs_pivot(self, inputs: list[Tensor]) -> bool:
        """TF's rule: an op of the loop that depends on nothing that changes per iteration waits
        for the pivot, so that it runs once per iteration."""
        for t in inputs:
            if t.dtype.is_ref_dtype:
                continue
            op = t.op
            if not (op.type == "Enter" and op._attrs.get("is_constant") and op._control_flow_context is self):
                return False
        return True

    def route(self, tensor: Tensor) -> Tensor:
        """`tensor` as seen inside this loop: outside tensors enter once, as loop invariants."""
        op = tensor.op
        if self.contains(op) or tensor.dtype.is_ref_dtype:
            return tensor
        if self.grad_state is not None and self.grad_state.forward.contains(op):
            return self.grad_state.forward_value(tensor)
        found = self.invariants.get(tensor)
        if found is not None:
            return found
        source = self._from_outer(tensor)
        found = self._in_frame(lambda: enter(source, self.frame_name, True, self.parallel_iterations))
        self.invariants[tensor] = found
        return found

    def _from_outer(self, tensor: Tensor) -> Tensor:
        """`tensor` as seen in the context that holds this loop."""
        if self.outer is None:
            return tensor
        state = self.graph._state
        saved = state.control_flow_context
        state.control_flow_context = self.outer
        try:
            with self.graph.control_dependencies(None):
                return self.outer.route(tensor)
        finally:
            state.control_flow_context = saved

    def _in_frame(self, build: Callable[[], Any], context: Any = "self") -> Any:
        """Runs `build` with no routing and no outer control dependencies; its ops join this frame
        (or `context`)."""
        graph = self.graph
        state = graph._state
        saved = state.control_flow_context
        first = len(graph._ops)
        state.control_flow_context = None
        try:
            with graph.control_dependencies(None):
                result = build()
        finally:
            state.control_flow_context = saved
        owner = self if context == "self" else context
        for op in graph._ops[first:]:
            op._control_flow_context = owner
            if owner is not None and owner.pivot is not None and not op._inputs and not op._control_inputs:
                op._add_control_input(owner.pivot.op)  # a constant of the frame runs in every iteration
        return result

    # -------------------------------------------------------- building
    def build(self, cond: Callable, body: Callable, loop_vars: Any, shape_invariants: Any = None,
              return_same_structure: bool = False) -> Any:
        """TF1's BuildLoop: Enter/Merge per variable, cond, LoopCond, Switch/Identity, body,
        NextIteration, Exit."""
        graph = self.graph
        flat = nest.flatten(loop_vars)
        tensors = [_loop_value(v) for v in flat]
        if shape_invariants is not None:
            invariants = [as_shape(s) for s in nest.flatten(shape_invariants)]
            if len(invariants) != len(tensors):
                raise ValueError(f"shape_invariants has {len(invariants)} shapes for {len(tensors)} loop variables")
        else:
            invariants = [_default_invariant(v, t) for v, t in zip(flat, tensors)]
        for t, shape in zip(tensors, invariants):
            if not shape.is_compatible_with(t.shape) or (shape.ndims is not None and t.shape.ndims is None):
                raise ValueError(f"The shape invariant specified for {t.name} is not compatible with the initial "
                                 f"shape of the loop variable. It enters the loop with shape {t.shape}, but the "
                                 f"specified shape invariant is {shape}.")
        tensors = [self._from_outer(t) for t in tensors]
        entered = []
        for t, shape in zip(tensors, invariants):
            e = self._in_frame(lambda t=t: enter(t, self.frame_name, False, self.parallel_iterations))
            e._shape = shape
            entered.append(e)
        for e, shape in zip(entered, invariants):
            m = self._in_frame(lambda e=e: graph.create_op("Merge", [e, e], {"T": e.dtype.base_dtype, "N": 2},
                                                           "Merge").outputs[0])
            m._shape = shape
            self.vars.append(_LoopVar(e, m, shape))
        state = graph._state
        saved = state.control_flow_context
        state.control_flow_context = self
        try:
            self.pivot = self.vars[0].merge
            packed = _pack(loop_vars, flat, [v.merge for v in self.vars])
            self.loop_cond = loop_cond(convert_to_tensor(cond(*packed)))
            for v in self.vars:
                switch_op = graph.create_op("Switch", [v.merge, self.loop_cond], {"T": v.merge.dtype.base_dtype},
                                            "Switch")
                v.switch = (switch_op.outputs[0], switch_op.outputs[1])
            for v in self.vars:
                v.identity = graph.create_op("Identity", [v.switch[1]], {"T": v.merge.dtype.base_dtype},
                                             "Identity").outputs[0]
            self.pivot = self.vars[0].identity
            packed = _pack(loop_vars, flat, [v.identity for v in self.vars])
            result = body(*packed)
            if not nest.is_sequence(result):
                result = [result]
            nest.assert_same_structure(list(packed), list(result))
            results = [_loop_value(r, v.merge.dtype.base_dtype) for r, v in zip(nest.flatten(result), self.vars)]
            for v, r, initial in zip(self.vars, results, tensors):
                if r.dtype.base_dtype != v.merge.dtype.base_dtype:
                    raise TypeError(f"Loop variable {initial.name} enters the loop with type "
                                    f"{v.merge.dtype.base_dtype.name}, but has type {r.dtype.base_dtype.name} "
                                    "after one iteration.")
                if not v.invariant.is_compatible_with(r.shape) or (v.invariant.ndims is not None
                                                                   and r.shape.ndims is None):
                    raise ValueError(f"Input tensor '{initial.name}' enters the loop with shape {initial.shape}, "
                                     f"but has shape {r.shape} after one iteration. To allow the shape to vary "
                                     "across iterations, use the `shape_invariants` argument of tf.while_loop to "
                                     "specify a less-specific shape.")
                v.next = self._in_frame(lambda r=r: next_iteration(r))
                v.merge.op._update_input(1, v.next)
        finally:
            state.control_flow_context = saved
        user_vars = self.vars[:len(tensors)]  # the body may have added loop variables (histories) of its own
        for v in user_vars:
            v.exit = self._in_frame(lambda v=v: exit(v.switch[0]), context=self.outer)
            v.exit._shape = v.invariant
        packed = _pack(result, nest.flatten(result), [v.exit for v in user_vars])
        if len(user_vars) == 1 and not return_same_structure:
            return packed[0]
        return packed

    def add_loop_var(self, initial: Tensor, name: str = "Enter") -> tuple[Tensor, Callable[[Tensor], Tensor]]:
        """A new loop variable of a loop whose predicate exists: (its value in the body, a function
        that takes its next value and returns its Exit). `initial` comes from outside the loop."""
        graph = self.graph
        source = self._from_outer(initial)
        with graph.name_scope(self.name or None):
            e = self._in_frame(lambda: enter(source, self.frame_name, False, self.parallel_iterations, name=name))
            e._shape = TensorShape(None) if initial.dtype.base_dtype not in (dtypes_lib.variant,) else e.shape
            m = self._in_frame(lambda: graph.create_op("Merge", [e, e], {"T": e.dtype.base_dtype, "N": 2},
                                                       "Merge").outputs[0])
            switch_op = self._in_frame(lambda: graph.create_op("Switch", [m, self.loop_cond],
                                                               {"T": m.dtype.base_dtype}, "Switch"))
            ident = self._in_frame(lambda: graph.create_op("Identity", [switch_op.outputs[1]],
                                                           {"T": m.dtype.base_dtype}, "Identity").outputs[0])
        var = _LoopVar(e, m, e.shape)
        var.switch = (switch_op.outputs[0], switch_op.outputs[1])
        var.identity = ident
        self.vars.append(var)

        def finish(next_value: Tensor) -> Tensor:
            with graph.name_scope(self.name or None):
                var.next = self._in_frame(lambda: next_iteration(next_value))
                m.op._update_input(1, var.next)
                var.exit = self._in_frame(lambda: exit(var.switch[0]), context=self.outer)
            return var.exit

        return ident, finish


def _is_tensor_array(value: Any) -> bool:
    return getattr(value, "_is_caudal_tensor_array", False)


def _loop_value(value: Any, dtype: Any = None) -> Tensor:
    """The tensor a loop variable carries: a TensorArray travels as its flow."""
    if _is_tensor_array(value):
        return value.flow
    if isinstance(value, Tensor):
        return value
    if dtype is not None:
        try:
            return convert_to_tensor(value, dtype=dtype)
        except (TypeError, ValueError):
            pass
    return convert_to_tensor(value)


def _default_invariant(value: Any, tensor: Tensor) -> TensorShape:
    if _is_tensor_array(value):
        return TensorShape([])
    return tensor.shape


def _pack(loop_vars: Any, flat: list[Any], tensors: list[Tensor]) -> Any:
    """`tensors` in the structure of `loop_vars`, with TensorArrays rebuilt around their new flows."""
    values = [v._with_flow(t) if _is_tensor_array(v) else t for v, t in zip(flat, tensors)]
    return nest.pack_sequence_as(loop_vars, values)


def while_loop(cond: Callable, body: Callable, loop_vars: Any, shape_invariants: Any = None,
               parallel_iterations: int = 10, back_prop: bool = True, swap_memory: bool = False,
               name: str | None = None, maximum_iterations: Any = None, return_same_structure: bool = False) -> Any:
    """`tf.while_loop`: repeats `body` while `cond` holds and returns the final loop variables.

    `loop_vars` is any nested structure of tensors and TensorArrays; `cond` and `body` take them
    unpacked (a single list or tuple is passed as separate arguments) and `body` returns the
    same structure. A loop variable whose shape changes needs a `shape_invariants` entry.
    `maximum_iterations` adds TF's iteration counter to the loop. `parallel_iterations` and
    `swap_memory` are accepted; iterations run one after another. The result has the structure
    of `loop_vars` (a single tensor for a one-element list, unless `return_same_structure`).
    """
    if not callable(cond):
        raise TypeError("'cond' must be callable.")
    if not callable(body):
        raise TypeError("'body' must be callable.")
    if parallel_iterations < 1:
        raise TypeError("'parallel_iterations' must be a positive integer.")
    graph = get_default_graph()
    with graph.name_scope(name or "while") as scope:
        if not isinstance(loop_vars, (list, tuple)) or not loop_vars:
            raise ValueError("'loop_vars' must be provided.")
        try_to_pack = len(loop_vars) == 1 and not return_same_structure
        if maximum_iterations is not None:
            maximum_iterations = convert_to_tensor(maximum_iterations, name="maximum_iterations")
            if maximum_iterations.shape.ndims not in (None, 0):
                raise ValueError(f"'maximum_iterations' must be a scalar. Received shape: "
                                 f"{maximum_iterations.shape}")
            base = maximum_iterations.dtype.base_dtype
            if not (base.is_integer or base.is_floating):
                raise TypeError(f"'maximum_iterations' must be a number, but is a tensor of dtype {base.name}")
            from caudal.ops.comparison_ops import less, logical_and
            from caudal.ops.constant_ops import constant

            counter = constant(0, dtype=base, name="iteration_counter")
            user_cond, user_body = cond, body
            if try_to_pack:
                loop_vars = (counter, loop_vars[0])

                def cond(i: Tensor, lv: Any) -> Tensor:
                    return logical_and(less(i, maximum_iterations), user_cond(lv))

                def body(i: Tensor, lv: Any) -> Any:
                    return (i + 1, user_body(lv))
            else:
                loop_vars = (counter, loop_vars)

                def cond(i: Tensor, lv: Any) -> Tensor:
                    return logical_and(less(i, maximum_iterations), user_cond(*lv))

                def body(i: Tensor, lv: Any) -> Any:
                    return (i + 1, user_body(*lv))
            if shape_invariants is not None:
                shape_invariants = (TensorShape([]), shape_invariants)
        context = WhileContext(scope, parallel_iterations, back_prop, swap_memory, maximum_iterations)
        if context.outer is None:
            graph.add_to_collection(GraphKeys.WHILE_CONTEXT, context)
        result = context.build(cond, body, loop_vars, shape_invariants, return_same_structure)
        if maximum_iterations is not None:
            return result[1]
        return result
