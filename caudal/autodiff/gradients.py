"""`tf.gradients`: reverse-mode differentiation by adding gradient ops to the graph.

The walk is TF's, without recursion: find the ops between `xs` and `ys`,
count for every op how many gradient contributions it waits for, then
process ops whose contributions have all arrived, calling each op's gradient
function inside a `gradients/<op>_grad` name scope. Several contributions to
one tensor are summed with AddN. Unconnected `xs` get None, integer tensors
never receive a gradient, and ops listed in `stop_gradients` (or StopGradient
ops) pass none on.

A gradient may be an IndexedSlices (a gather's, along axis 0), as in TF:
Identity passes one on as it is, contributions that are all IndexedSlices are
joined (their rows and indices concatenated), and everything else receives
the dense tensor (`convert_to_tensor`), so `tf.gradients` of a variable read
only by gathers is an IndexedSlices.
"""
from __future__ import annotations

import collections
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import Operation, get_default_graph
from caudal.framework.indexed_slices import IndexedSlices
from caudal.framework.registry import NOT_DIFFERENTIABLE, get_gradient_function
from caudal.framework.tensor import Tensor

__all__ = ["gradients", "hessians", "UnconnectedGradients"]


class UnconnectedGradients:
    NONE = "none"
    ZERO = "zero"


def _differentiable_dtype(dtype: dtypes_lib.DType) -> bool:
    base = dtype.base_dtype
    return base.is_floating or base.is_complex or base in (dtypes_lib.resource, dtypes_lib.variant)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _to_x_tensor(x: Any) -> Tensor:
    """Variables are differentiated through their reference tensor, which every read consumes."""
    from caudal.variables import Variable

    if isinstance(x, Variable):
        return x._ref()
    return convert_to_tensor(x)


def _reachable_from(xs: list[Tensor]) -> set[Operation]:
    reached: set[Operation] = set()
    stack = [x.op for x in xs]
    while stack:
        op = stack.pop()
        if op in reached:
            continue
        reached.add(op)
        for t in op.outputs:
            stack.extend(c for c in t._consumers if c not in reached)
    return reached


def _between(ys: list[Tensor], xs: list[Tensor]) -> set[Operation]:
    """Ops on some path from an x to a y."""
    forward = _reachable_from(xs)
    between: set[Operation] = set()
    stack = [y.op for y in ys]
    seen: set[Operation] = set()
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if op in forward:
            between.add(op)
            stack.extend(t.op for t in op.inputs)
    return between


def gradients(ys: Any, xs: Any, grad_ys: Any = None, name: str = "gradients",
              colocate_gradients_with_ops: bool = False, gate_gradients: bool = False,
              aggregation_method: Any = None, stop_gradients: Any = None,
              unconnected_gradients: str = UnconnectedGradients.NONE) -> list[Tensor | None]:
    """d(sum of ys)/d(x) for each x, as new graph nodes; None where x does not reach ys."""
    ys = [convert_to_tensor(y) for y in _as_list(ys)]
    xs = [_to_x_tensor(x) for x in _as_list(xs)]
    grad_ys = _as_list(grad_ys) if grad_ys is not None else [None] * len(ys)
    if len(grad_ys) != len(ys):
        raise ValueError(f"Passed {len(grad_ys)} grad_ys for {len(ys)} ys")
    stop_ops = {_to_x_tensor(t).op for t in _as_list(stop_gradients)} if stop_gradients is not None else set()
    graph = ys[0].graph if ys else get_default_graph()
    with graph.as_default(), graph.name_scope(name):
        results = _backprop(ys, xs, grad_ys, stop_ops, None)
        if unconnected_gradients == UnconnectedGradients.ZERO:
            from caudal.ops.constant_ops import zeros_like

            results = [zeros_like(x) if g is None else g for g, x in zip(results, xs)]
        return results


def gradients_within(loop: Any, ys: list[Tensor], xs: list[Tensor], grad_ys: list[Tensor]) -> list[Tensor | None]:
    """The gradients of one iteration of `loop`'s body: `ys` and `xs` are tensors of its frame.
    Used by the gradient of a while loop; loops nested in the body count as single nodes."""
    return [_dense(g) for g in _backprop(ys, xs, grad_ys, set(), loop)]


class _LoopNode:
    """A while loop seen from outside by the gradient walk: what enters it and what leaves it."""

    __slots__ = ("loop", "inputs", "outputs")

    def __init__(self, loop: Any):
        from caudal.ops.while_grad import loop_inputs, loop_outputs

        self.loop = loop
        self.inputs = loop_inputs(loop)
        self.outputs = loop_outputs(loop)


def _loop_of(op: Operation, base: Any) -> Any:
    """The outermost while loop holding `op` below `base` (the loop whose body is being
    differentiated, or None), or None when `op` is an op of `base` itself."""
    context = op._control_flow_context
    if op._type == "Exit":
        context = op._inputs[0]._op._control_flow_context
    found = None
    while context is not None and context is not base:
        if hasattr(context, "frame_name"):
            found = context
        context = context.outer
    return found


def _backprop(ys: list[Tensor], xs: list[Tensor], grad_ys: list[Any], stop_ops: set[Operation],
              base: Any) -> list[Tensor | None]:
    between = _between(ys, xs)
    if base is not None:
        between = {op for op in between if base.contains(op)}  # one iteration of base's body, nothing around it
    nodes: dict[Operation, Any] = {}  # op -> its node: itself, or the loop it is part of
    loops: dict[Any, _LoopNode] = {}
    for op in between:
        loop = _loop_of(op, base) if op._control_flow_context is not base or op._type == "Exit" else None
        if loop is None:
            nodes[op] = op
        else:
            node = loops.get(loop)
            if node is None:
                node = loops[loop] = _LoopNode(loop)
            nodes[op] = node
    members = set(nodes.values())

    def node_of(t: Tensor) -> Any:
        return nodes.get(t._op)

    def inputs_of(node: Any) -> Any:
        return node.inputs if isinstance(node, _LoopNode) else node._inputs

    def outputs_of(node: Any) -> Any:
        return node.outputs if isinstance(node, _LoopNode) else node._outputs

    # Pending count: the number of consumers that will send a gradient back.
    pending: collections.Counter[Any] = collections.Counter()
    for node in members:
        if node.__class__ is Operation and node._type == "NextIteration":
            continue  # the body's gradient covers one iteration: nothing flows back over the loop's edge
        for t in inputs_of(node):
            producer = node_of(t)
            if producer is not None and producer is not node:
                pending[producer] += 1
    grads: dict[Tensor, list[Tensor]] = collections.defaultdict(list)
    for i, (y, gy) in enumerate(zip(ys, grad_ys)):
        if gy is None:
            if y.dtype.base_dtype.is_complex:
                raise TypeError(f"Gradients of complex tensors ({y}) must set grad_ys (y.dtype = "
                                f"{y.dtype.name})")
            from caudal.ops.constant_ops import ones_like

            gy = ones_like(y, name=f"grad_ys_{i}") if not y.shape.is_fully_defined() else \
                _filled_ones(y, f"grad_ys_{i}")
        else:
            gy = convert_to_tensor(gy, dtype=y.dtype.base_dtype)
        grads[y].append(gy)
    starts = []
    for y in ys:
        node = node_of(y) or y.op
        if node not in starts:
            starts.append(node)
    ready = collections.deque(node for node in starts if pending[node] == 0)
    queued = set(ready)
    while ready:
        node = ready.popleft()
        node_inputs = inputs_of(node)
        out_grads = [_aggregate(grads.get(t), t) for t in outputs_of(node)]
        feeds_back = any(node_of(t) is not None and node_of(t) is not node for t in node_inputs)
        if node in members and feeds_back and any(g is not None for g in out_grads):
            if isinstance(node, _LoopNode):
                from caudal.ops.while_grad import loop_gradient

                in_grads = loop_gradient(node.loop, node.inputs, node.outputs, [_dense(g) for g in out_grads])
            elif node not in stop_ops:
                in_grads = _call_gradient(node, out_grads)
            else:
                in_grads = [None] * len(node_inputs)
            for t, g in zip(node_inputs, in_grads):
                if g is not None and _differentiable_dtype(t.dtype):
                    if isinstance(g, Tensor) and t.dtype.base_dtype is not dtypes_lib.resource \
                            and g.shape.is_compatible_with(t.shape):
                        g.set_shape(t.shape)  # as TF: a gradient has its input's static shape
                    grads[t].append(g)
        for t in node_inputs:
            producer = node_of(t)
            if producer is not None and producer is not node:
                pending[producer] -= 1
                if pending[producer] == 0 and producer not in queued:
                    queued.add(producer)
                    ready.append(producer)
    return [_aggregate(grads.get(x), x) for x in xs]


def _filled_ones(y: Tensor, name: str) -> Tensor:
    from caudal.ops.constant_ops import ones

    return ones(y.shape.as_list(), dtype=y.dtype.base_dtype, name=name)


def _aggregate(contributions: list[Any] | None, t: Tensor) -> Tensor | IndexedSlices | None:
    """The sum of a tensor's gradient contributions: AddN of Tensors (IndexedSlices among them made
    dense), or, when all are IndexedSlices, one IndexedSlices of all their rows (as TF)."""
    if not contributions:
        return None
    if len(contributions) == 1:
        return contributions[0]
    from caudal.ops.math_ops import add_n

    if not all(isinstance(g, IndexedSlices) for g in contributions):
        return add_n(contributions)
    from caudal.ops.array_ops import concat

    return IndexedSlices(concat([g.values for g in contributions], axis=0),
                         concat([g.indices for g in contributions], axis=0), contributions[0].dense_shape)


# Ops whose gradient function takes an IndexedSlices as it is (GatherV2's sums its rows without TF's
# warning); every other one receives the dense tensor.
_PASSES_INDEXED_SLICES = frozenset(["Identity", "ReadVariableOp", "GatherV2"])


def _dense(g: Any) -> Any:
    """`g`, or the dense tensor of an IndexedSlices."""
    return convert_to_tensor(g) if isinstance(g, IndexedSlices) else g


def _call_gradient(op: Operation, out_grads: list[Tensor | None]) -> list[Tensor | None]:
    if op._type == "Switch" and op._inputs[1]._op._type == "LoopCond":
        return [out_grads[1], None]  # inside one iteration, a loop's Switch passes its value to the body
    if op._type == "Merge" and any(t._op._type == "NextIteration" for t in op._inputs):
        return [None] * len(op._inputs)  # a loop variable's value at the start of the iteration
    grad_fn = get_gradient_function(op)
    if grad_fn is NOT_DIFFERENTIABLE:
        return [None] * len(op.inputs)
    if any(g is None for g in out_grads):
        from caudal.ops.constant_ops import zeros_like

        out_grads = [g if g is not None else zeros_like(t) for g, t in zip(out_grads, op.outputs)]
    with op.graph.name_scope(op.name + "_grad"):
        if op._type not in _PASSES_INDEXED_SLICES:
            out_grads = [_dense(g) for g in out_grads]
        in_grads = grad_fn(op, *out_grads)
    in_grads = list(in_grads) if isinstance(in_grads, (list, tuple)) else [in_grads]
    if len(in_grads) != len(op.inputs):
        raise ValueError(f"Num gradients {len(in_grads)} generated for op {op.type} do not match num inputs "
                         f"{len(op.inputs)}")
    return in_grads


def hessians(ys: Any, xs: Any, name: str = "hessians", colocate_gradients_with_ops: bool = False,
             gate_gradients: bool = False, aggregation_method: Any = None) -> list[Tensor]:
    """Second derivatives d^2(sum ys)/dx^2 for each x of fully known shape, shaped x.shape + x.shape."""
    from caudal.ops.array_ops import reshape, stack, unstack

    xs = [_to_x_tensor(x) for x in _as_list(xs)]
    results = []
    with get_default_graph().name_scope(name):
        for x in xs:
            if not x.shape.is_fully_defined():
                raise ValueError(f"hessians needs a fully defined shape for {x.name}, got {x.shape}")
            first = gradients(ys, x)[0]
            if first is None:
                raise ValueError(f"{x.name} is not connected to ys")
            n = x.shape.num_elements()
            rows = []
            for component in unstack(reshape(first, [n]), num=n):
                second = gradients(component, x)[0]
                if second is None:
                    from caudal.ops.constant_ops import zeros_like

                    second = zeros_like(x)
                rows.append(reshape(second, [n]))
            dims = x.shape.as_list()
            results.append(reshape(stack(rows), dims + dims))
    return results
