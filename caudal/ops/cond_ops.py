"""`tf.cond` and `tf.case` with TF1's Switch/Merge semantics: only the taken branch runs.

`Switch(data, pred)` forwards `data` to output 1 when pred is true and to
output 0 otherwise; the other output is *dead* (the executor's DEAD marker,
caudal.runtime.plan). An op with a dead input (or a
dead control input) does not run and its outputs are dead, so the untaken
branch, side effects included, never executes. `Merge(inputs)` forwards the
one live input and its index.

While a branch function runs, a CondContext is active on the graph: every
tensor the branch uses from outside is routed through a Switch (one per
tensor and branch), and ops without inputs get the branch's pivot as a
control input, so that everything built in the branch depends on the
predicate.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, get_default_graph
from caudal.framework.registry import EXECUTOR, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import unknown_shape
from caudal.ops._control_flow import ControlFlowContext

__all__ = ["cond", "case", "switch", "merge", "Assert"]


# ------------------------------------------------------------------ Switch
def _switch_infer(ctx: InferContext) -> list:
    if ctx.dtype(1) is not dtypes_lib.bool_:
        raise TypeError(f"Switch predicate must be bool, got {ctx.dtype(1).name}")
    if ctx.shape(1).ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {ctx.shape(1).ndims}")
    spec = (ctx.inputs[0].dtype.base_dtype, ctx.shape(0))
    return [spec, spec]


def _switch_grad(op: Operation, false_grad: Tensor, true_grad: Tensor) -> list:
    """The live branch's gradient reaches the input; the other one is dead."""
    return [merge([false_grad, true_grad])[0], None]


register_op("Switch", infer=_switch_infer, kernel=EXECUTOR, grad=_switch_grad)


def switch(data: Any, pred: Any, name: str | None = None) -> tuple[Tensor, Tensor]:
    """(output_false, output_true): `data` on the side `pred` selects, dead on the other."""
    data = convert_to_tensor(data, name="data")
    pred = convert_to_tensor(pred, name="pred")
    graph = data.graph
    op = graph.create_op("Switch", [data, pred], {"T": data.dtype.base_dtype}, name or "Switch")
    return op.outputs[0], op.outputs[1]


# ------------------------------------------------------------------- Merge
def _merge_infer(ctx: InferContext) -> list:
    n = len(ctx.inputs)
    dtype = ctx.dtype(0)
    shape = ctx.shape(0)
    for i in range(1, n):
        if ctx.dtype(i) != dtype:
            raise TypeError(f"Merge inputs must share a dtype: {dtype.name} and {ctx.dtype(i).name}")
        shape = shape if shape == ctx.shape(i) else _most_specific_common(shape, ctx.shape(i))
    return [(dtype, shape), (dtypes_lib.int32, [])]


def _most_specific_common(a: Any, b: Any) -> Any:
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return unknown_shape()
    return [x if x == y else None for x, y in zip(a.as_list(), b.as_list())]


def _merge_grad(op: Operation, grad: Tensor, _: Tensor) -> list:
    """Routes the gradient back to the input that was live, through a Switch on the predicate."""
    pred = op._control_flow_pred
    if pred is None:
        raise LookupError(f"No gradient for Merge '{op.name}' outside a tf.cond")
    false_grad, true_grad = switch(grad, pred)
    return [false_grad, true_grad]


register_op("Merge", infer=_merge_infer, kernel=EXECUTOR, grad=_merge_grad)


def merge(inputs: list[Any], name: str | None = None) -> tuple[Tensor, Tensor]:
    """(value of the live input, its index)."""
    tensors = [convert_to_tensor(t) for t in inputs]
    op = tensors[0].graph.create_op("Merge", tensors, {"T": tensors[0].dtype.base_dtype, "N": len(tensors)},
                                    name or "Merge")
    return op.outputs[0], op.outputs[1]


# ------------------------------------------------------------------ Assert
def _assert_kernel(ctx: Any, condition: Any, *data: Any, summarize: int, op: Any) -> None:
    if not bool(condition):
        from caudal.errors import InvalidArgumentError

        shown = " ".join(f"[{_summary(d, summarize)}]" for d in data)
        raise InvalidArgumentError(None, op, f"assertion failed: {shown}")


def _element_text(value: Any) -> str:
    """One element as TF's Assert prints it: floats with six significant digits, bools as 0/1."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.6g}"
    return str(value)


def _summary(value: Any, summarize: int) -> str:
    """TF's Tensor::SummarizeValue: the first `summarize` elements, nested brackets for rank > 1
    (`[1 2][3...]`), and "..." when elements were left out."""
    array = np.asarray(value)
    flat = array.reshape(-1)
    limit = flat.size if summarize < 0 else min(summarize, flat.size)
    if array.ndim == 0:
        return _element_text(flat[0])
    pieces: list[str] = []
    printed = [0]

    def one_dim(dim: int) -> None:
        if printed[0] >= limit:
            return
        if dim == array.ndim - 1:
            for i in range(array.shape[dim]):
                if printed[0] >= limit:
                    if dim != 0:
                        pieces.append("...")
                    return
                if i > 0:
                    pieces.append(" ")
                pieces.append(_element_text(flat[printed[0]]))
                printed[0] += 1
            return
        for _ in range(array.shape[dim]):
            opened = printed[0] < limit
            if opened:
                pieces.append("[")
            one_dim(dim + 1)
            if printed[0] < limit or opened:
                pieces.append("]")

    one_dim(0)
    if flat.size > limit:
        pieces.append("...")
    return "".join(pieces)


register_op("Assert", infer=lambda ctx: [], kernel=_assert_kernel,
            grad=lambda op, *grads: [None] * len(op.inputs), stateful=True)


def Assert(condition: Any, data: Any, summarize: int | None = None, name: str | None = None) -> Operation:  # noqa: N802
    """`tf.Assert`: an op that raises InvalidArgumentError, showing `data`, when `condition` is false."""
    condition = convert_to_tensor(condition, name="condition")
    tensors = [convert_to_tensor(d) for d in data]
    return condition.graph.create_op("Assert", [condition] + tensors,
                                     {"T": [t.dtype.base_dtype for t in tensors], "summarize": summarize or 3},
                                     name or "Assert")


# ------------------------------------------------------------ CondContext
class CondContext(ControlFlowContext):
    """The branch being built: its predicate, pivot, and the Switches made for outside tensors."""

    def __init__(self, pred: Tensor, pivot: Tensor, branch: int, outer: CondContext | None):
        self.pred = pred
        self.pivot = pivot
        self.branch = branch
        self.outer = outer
        self.ops: set[Operation] = set()
        self._switched: dict[Tensor, Tensor] = {}

    def needs_pivot(self, inputs: list[Tensor]) -> bool:
        """Input-less ops of a branch run only with it."""
        return not any(not t.dtype.is_ref_dtype for t in inputs)

    def route(self, tensor: Tensor) -> Tensor:
        """`tensor` as seen inside this branch: through a Switch when it comes from outside."""
        if self.contains(tensor.op) or tensor is self.pivot:
            return tensor
        if tensor.dtype.is_ref_dtype:
            return tensor  # variables are read where used; the consumer depends on the pivot instead
        routed = self._switched.get(tensor)
        if routed is None:
            graph = tensor.graph
            state = graph._state
            saved = state.control_flow_context
            state.control_flow_context = self.outer
            try:
                source = self.outer.route(tensor) if self.outer is not None else tensor
                with graph.control_dependencies(None):
                    routed = switch(source, self.pred)[self.branch]
            finally:
                state.control_flow_context = saved
            self._switched[tensor] = routed
        return routed


def cond(pred: Any, true_fn: Callable | None = None, false_fn: Callable | None = None, strict: bool = False,
         name: str | None = None, fn1: Callable | None = None, fn2: Callable | None = None) -> Any:
    """Runs `true_fn()` if `pred` else `false_fn()`; only the taken branch's ops execute.

    Both functions must return the same structure (a tensor, a list/tuple of tensors,
    or an Operation); single-element lists are unpacked unless `strict`.
    """
    true_fn = true_fn if true_fn is not None else fn1
    false_fn = false_fn if false_fn is not None else fn2
    if not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    graph = get_default_graph()
    with graph.name_scope(name or "cond"):
        pred_t = convert_to_tensor(pred, name="pred")
        if pred_t.dtype.base_dtype is not dtypes_lib.bool_:
            raise TypeError(f"pred must be a bool tensor, got {pred_t.dtype.name}")
        p_false, p_true = switch(pred_t, pred_t)
        from caudal.ops.control_ops import identity

        pivot_true = identity(p_true, name="switch_t")
        pivot_false = identity(p_false, name="switch_f")
        pred_id = identity(pred_t, name="pred_id")
        outer = graph._state.control_flow_context
        results = []
        for branch, fn, pivot in ((1, true_fn, pivot_true), (0, false_fn, pivot_false)):
            context = CondContext(pred_id, pivot, branch, outer)
            graph._state.control_flow_context = context
            try:
                raw = fn()
                flat, structure = _flatten(raw)
                arrays = [value if getattr(value, "_is_caudal_tensor_array", False) else None for value in flat]
                flat = [_branch_output(context, value.flow if array is not None else value)
                        for value, array in zip(flat, arrays)]
            finally:
                graph._state.control_flow_context = outer
            results.append((flat, structure))
            if branch == 1:
                true_arrays = arrays
        (true_flat, true_structure), (false_flat, false_structure) = results
        if true_structure != false_structure:
            raise ValueError("true_fn and false_fn must return the same structure, got "
                             f"{true_structure} and {false_structure}")
        merged = []
        for (t_value, t_is_op), (f_value, f_is_op) in zip(true_flat, false_flat):
            if t_value.dtype.base_dtype != f_value.dtype.base_dtype:
                raise ValueError(f"Outputs of true_fn and false_fn must have the same type: "
                                 f"{t_value.dtype.name}, {f_value.dtype.name}")
            value, _ = merge([f_value, t_value], name="Merge")
            value.op._control_flow_pred = pred_id
            merged.append(value.op if (t_is_op and f_is_op) else value)
        # A TensorArray travels through the cond as its flow, as through a while loop.
        merged = [array._with_flow(value) if array is not None else value
                  for value, array in zip(merged, true_arrays)]
        return _unflatten(merged, true_structure, strict)


def _branch_output(context: CondContext, value: Any) -> tuple[Tensor, bool]:
    """A branch result as a tensor of this branch: outside tensors are routed, ops become the pivot."""
    from caudal.ops.control_ops import identity

    if isinstance(value, Operation):
        with value.graph.control_dependencies([value]):
            return identity(context.pivot), True
    tensor = convert_to_tensor(value)
    if not context.contains(tensor.op):
        tensor = context.route(tensor)
    return tensor, False


def _flatten(value: Any) -> tuple[list[Any], Any]:
    if isinstance(value, (list, tuple)):
        flat: list[Any] = []
        structure = []
        for item in value:
            sub_flat, sub_structure = _flatten(item)
            flat.extend(sub_flat)
            structure.append(sub_structure)
        return flat, (type(value).__name__, tuple(structure))
    if isinstance(value, dict):
        flat = []
        structure = []
        for key in sorted(value):
            sub_flat, sub_structure = _flatten(value[key])
            flat.extend(sub_flat)
            structure.append((key, sub_structure))
        return flat, ("dict", tuple(structure))
    if value is None:
        raise ValueError("A cond branch must return a tensor, an operation or a structure of them, not None")
    return [value], "leaf"


def _unflatten(flat: list[Any], structure: Any, strict: bool) -> Any:
    items = iter(flat)

    def build(node: Any) -> Any:
        if node == "leaf":
            return next(items)
        kind, children = node
        if kind == "dict":
            return {key: build(child) for key, child in children}
        built = [build(child) for child in children]
        return tuple(built) if kind == "tuple" else built

    result = build(structure)
    if not strict and isinstance(result, (list, tuple)) and len(result) == 1:
        return result[0]
    return result


def case(pred_fn_pairs: Any, default: Callable | None = None, exclusive: bool = False, strict: bool = False,
         name: str = "case") -> Any:
    """The function of the first true predicate (in order), else `default`, as nested conds.

    With `exclusive=True`, more than one true predicate is an InvalidArgumentError at run time.
    """
    if isinstance(pred_fn_pairs, dict):
        pairs = list(pred_fn_pairs.items())
    else:
        pairs = list(pred_fn_pairs)
    for pred, fn in pairs:
        if not callable(fn):
            raise TypeError(f"fn for pred {pred} must be callable.")
    if default is None:
        if not pairs:
            raise ValueError("case needs at least one pred/fn pair or a default")
        *pairs, (_, default) = pairs
    graph = get_default_graph()
    with graph.name_scope(name):
        preds = [convert_to_tensor(p) for p, _ in pairs]
        if exclusive and len(preds) > 1:
            from caudal.ops.array_ops import stack
            from caudal.ops.comparison_ops import less_equal
            from caudal.ops.control_ops import with_dependencies
            from caudal.ops.math_ops import cast
            from caudal.ops.reduction_ops import reduce_sum

            count = reduce_sum(cast(stack(preds), dtypes_lib.int32))
            check = Assert(less_equal(count, 1), [count], name="exclusive_check")
            preds = [with_dependencies([check], p) for p in preds]
        fn = default
        for pred, branch_fn in reversed(list(zip(preds, [f for _, f in pairs]))):
            fn = _bind_cond(pred, branch_fn, fn, strict)
        return fn()


def _bind_cond(pred: Tensor, true_fn: Callable, false_fn: Callable, strict: bool) -> Callable:
    return lambda: cond(pred, true_fn, false_fn, strict=strict)
