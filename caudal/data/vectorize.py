"""Vectorized `map`: one call of a dataset function on a chunk of elements instead of one call each.

The function's graph is copied op by op into a graph whose arguments have a leading batch dimension,
as TensorFlow's map vectorization does with its per-op converters. Only ops whose batched form equals
the stack of their per-element results are copied: element-wise math (with broadcasting that cannot
reach the batch dimension), `Cast`, `DecodeRaw`, and `ParseExampleV2` of one serialized Example into
fixed-shape dense features. A function with any other op touching an element, a stateful op, or a
sparse component is not vectorized and runs element by element as before.

A chunk whose elements differ in shape, or whose batched call raises, is computed element by element,
so errors are raised for the element that causes them, with the per-element message.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

from caudal.data import structure
from caudal.data.pipeline import ElementIterator
from caudal.errors import OpError
from caudal.framework.graph import Graph
from caudal.framework.registry import get_op_def
from caudal.framework.tensor_shape import as_shape
from caudal.runtime.plan import build_plan
from caudal.runtime.resources import RunContext

__all__ = ["BatchedFunction", "copy_batched", "vectorize", "VectorizedMapIterator"]

_UNARY = frozenset([
    "Cast", "Identity", "StopGradient", "Neg", "Abs", "Sign", "Square", "Sqrt", "Rsqrt", "Exp", "Expm1", "Log",
    "Log1p", "Sigmoid", "Tanh", "Relu", "Relu6", "Elu", "Selu", "Softplus", "Softsign", "Floor", "Ceil", "Round",
    "Rint", "Reciprocal", "Inv", "LogicalNot", "IsNan", "IsInf", "IsFinite", "Sin", "Cos", "Tan", "Erf"])
_BINARY = frozenset([
    "Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "DivNoNan", "FloorDiv", "FloorMod", "TruncateDiv", "Mod", "Pow",
    "Maximum", "Minimum", "SquaredDifference", "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual",
    "LogicalAnd", "LogicalOr"])

CHUNK = 128


def _rank(tensor: Any) -> int | None:
    return tensor.shape.ndims


def _dims(shape: Any) -> list | None:
    shape = as_shape(shape)
    return None if shape.ndims is None else shape.as_list()


def _batchable(op: Any, batched: list[bool]) -> bool:
    """Whether `op`, with these inputs batched, computes the stack of its per-element results."""
    kind = op.type
    if kind in _UNARY:
        return True
    if kind in _BINARY:
        ranks = [_rank(t) for t in op.inputs]
        if None in ranks:
            return False
        if all(batched):
            return ranks[0] == ranks[1]
        element_rank = ranks[batched.index(True)]
        return ranks[batched.index(False)] <= element_rank
    if kind == "DecodeRaw":
        return True
    if kind == "ParseExampleV2":
        shapes = [_dims(s) for s in op._attrs.get("dense_shapes", [])]
        return (batched[0] and not any(batched[1:]) and _rank(op.inputs[0]) == 0
                and int(op._attrs.get("num_sparse", 0)) == 0 and not op._attrs.get("ragged_value_types")
                and all(s is not None and None not in s for s in shapes))
    return False


def copy_batched(graph: Graph, op: Any, mapped: dict[Any, tuple[Any, bool]]) -> bool:
    """Copies `op` into `graph` on its inputs' copies in `mapped` ({tensor: (copy, batched)}) and maps its
    outputs, batched when an input is; False (nothing copied) when `op` is stateful or cannot take its
    batched inputs."""
    if get_op_def(op.type).stateful:
        return False
    inputs = [mapped[t] for t in op.inputs]
    batched = [b for _, b in inputs]
    if any(batched) and not _batchable(op, batched):
        return False
    attrs = {k: v for k, v in op._attrs.items() if k != "_output_shapes"}
    copy = graph.create_op(op.type, [t for t, _ in inputs], attrs, op.name)
    for old, new in zip(op.outputs, copy.outputs):
        mapped[old] = (new, any(batched))
    return True


class BatchedFunction:
    """A dataset function's graph with batched arguments, and how to call it on stacked elements."""

    def __init__(self, graph: Graph, arguments: list[Any], captures: list[Any], outputs: list[Any],
                 batched_outputs: list[bool]):
        self.graph, self.arguments, self.captures = graph, arguments, captures
        self.outputs, self.batched_outputs = outputs, batched_outputs
        self._plans: dict[str, Any] = {}

    def __call__(self, env: Any, columns: list[np.ndarray], captured: tuple) -> list[np.ndarray]:
        plan = self._plans.get(env.backend.name)
        if plan is None:
            plan = self._plans[env.backend.name] = build_plan(tuple(self.outputs),
                                                              tuple(self.arguments + self.captures), env.backend)
        ctx = RunContext(env.backend, {}, env.store_for(self), None, [])
        try:
            with np.errstate(all="ignore"):
                return list(plan.function(ctx, *columns, *captured))
        except OpError:
            raise
        except Exception as e:
            from caudal.runtime.session import _as_op_error

            raise _as_op_error(e, plan, sys.exc_info()[2]) from e


def vectorize(function: Any) -> BatchedFunction | None:
    """The batched form of a traced dataset function, or None when it has an op that cannot be batched."""
    specs = structure.flatten(function.input_specs)
    if function.dataset is not None or any(s.sparse or s.shape.ndims is None for s in specs):
        return None
    if any(s.sparse for s in structure.flatten(function.output_specs)):
        return None
    graph = Graph()
    graph.seed = function.graph.seed
    mapped: dict[Any, tuple[Any, bool]] = {}
    arguments = set(function.arguments)
    inner_captures = set(function._inner_captures)
    new_arguments, new_captures = {}, {}
    with graph.as_default():
        for op in function.graph.get_operations():
            if op._control_inputs:
                return None
            out = op.outputs[0] if op.outputs else None
            if out in arguments:
                shape = [None] + out.shape.as_list()
                new = graph.create_op("Placeholder", [], {"dtype": out.dtype, "shape": as_shape(shape)},
                                      op.name)._outputs[0]
                mapped[out] = (new, True)
                new_arguments[out] = new
                continue
            if out in inner_captures:
                new = graph.create_op("Placeholder", [], dict(op._attrs), op.name)._outputs[0]
                mapped[out] = (new, False)
                new_captures[out] = new
                continue
            if not copy_batched(graph, op, mapped):
                return None
    outputs = [mapped[t] for t in function.outputs]
    return BatchedFunction(graph, [new_arguments[a] for a in function.arguments],
                           [new_captures[c] for c in function._inner_captures],
                           [t for t, _ in outputs], [b for _, b in outputs])


class VectorizedMapIterator(ElementIterator):
    """`map` over chunks: up to CHUNK input elements are stacked and mapped in one call, then handed out
    one by one (rows of the results)."""

    __slots__ = ("_input", "_env", "_function", "_batched", "_captured", "_ready", "_pending", "_done")

    def __init__(self, input: ElementIterator, env: Any, function: Any, batched: BatchedFunction, captured: tuple):
        self._input, self._env, self._function = input, env, function
        self._batched, self._captured = batched, captured
        self._ready: list[tuple] = []
        self._pending: list[tuple] = []  # inputs of a chunk computed one at a time
        self._done = False

    def _fill(self) -> None:
        elements = []
        while len(elements) < CHUNK:
            element = self._input.get_next()
            if element is None:
                self._done = True
                break
            elements.append(element)
        if not elements:
            return
        try:
            columns = [np.stack(column) for column in zip(*elements)]
            outputs = self._batched(self._env, columns, self._captured)
        except (ValueError, OpError):
            self._pending = elements[::-1]
            return
        n = len(elements)
        rows = [[out[i, ...] for i in range(n)] if batched else [out] * n
                for out, batched in zip(outputs, self._batched.batched_outputs)]
        self._ready = list(zip(*rows))[::-1]

    def get_next(self) -> tuple | None:
        if not self._ready and not self._pending and not self._done:
            self._fill()
        if self._ready:
            return self._ready.pop()
        if self._pending:
            return self._function(self._env, self._pending.pop(), self._captured)
        return None
