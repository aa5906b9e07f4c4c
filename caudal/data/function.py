"""Functions of datasets (`map`, `filter`, `flat_map`, `interleave`, ...): traced once into a graph of their
own, compiled to a plan, called once per element.

As in TensorFlow, the Python function runs once, at graph-building time, on symbolic arguments: one
placeholder per component of the input element. It builds its ops in a `FuncGraph`, and a tensor of the
outer graph that it uses is *captured*: it becomes a placeholder inside, and the outer tensor becomes an
input of the dataset op, so its value is taken when the iterator is initialised (a placeholder fed to the
initializer run, for instance). Each call then runs the function's cached plan with the element's arrays.

Random ops inside a function draw from streams that belong to the iterator that calls it, so every
(re)initialisation of an iterator with op-level seeds replays the same numbers, and two iterators do not
share streams.
"""
from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from caudal import errors
from caudal.data import structure
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import Graph, Operation, get_default_graph
from caudal.framework.tensor import Tensor
from caudal.runtime.plan import build_plan
from caudal.runtime.resources import RunContext

__all__ = ["FuncGraph", "DatasetFunction"]

_FUNCTION_IDS = itertools.count(1)


class FuncGraph(Graph):
    """The graph a dataset function is traced into; tensors of enclosing graphs it uses are captured."""

    def __init__(self, name: str, outer_graph: Graph):
        super().__init__()
        self.name = name
        self.outer_graph = outer_graph
        self.seed = outer_graph.seed
        self.captures: dict[Tensor, Tensor] = {}  # outer tensor -> its placeholder here, in capture order

    @property
    def building_function(self) -> bool:
        return True

    def capture(self, tensor: Tensor) -> Tensor:
        """The placeholder standing for `tensor` of an enclosing graph (made on first use)."""
        if tensor.graph is self:
            return tensor
        inner = self.captures.get(tensor)
        if inner is None:
            inner = Graph.create_op(self, "Placeholder", [],
                                    {"dtype": tensor.dtype.base_dtype, "shape": tensor.shape},
                                    "captured")._outputs[0]
            self.captures[tensor] = inner
        return inner

    def create_op(self, op_type: str, inputs: list[Tensor], attrs: dict[str, Any] | None = None,
                  name: str | None = None, control_inputs: list[Operation] | None = None) -> Operation:
        inputs = [self.capture(t) if isinstance(t, Tensor) and t.graph is not self else t for t in inputs]
        if control_inputs:
            control_inputs = [c for c in control_inputs if c.graph is self]
        return super().create_op(op_type, inputs, attrs, name, control_inputs)


def _as_output(value: Any, graph: FuncGraph) -> Any:
    """A function's return value as a structure of tensors of `graph` (lists count as tuples, as TF's)."""
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, dict):
        return type(value)((k, _as_output(v, graph)) for k, v in value.items())
    if isinstance(value, tuple) and not hasattr(type(value), "_fields"):
        return tuple(_as_output(v, graph) for v in value)
    if isinstance(value, tuple):
        return type(value)(*[_as_output(v, graph) for v in value])
    if value is None:
        raise TypeError("A dataset function returned None; it must return tensors (or a dataset, for flat_map "
                        "and interleave)")
    if isinstance(value, Tensor):
        return graph.capture(value) if value.graph is not graph else value
    if structure.is_sparse(value) or hasattr(value, "_variant_tensor"):
        return value
    return convert_to_tensor(value)


class DatasetFunction:
    """A traced function over dataset elements: its graph, argument and output structures, captures."""

    attr_kind = "func"  # how the function appears in a GraphDef: a function attr naming it

    def __init__(self, fn: Callable, input_specs: Any, kind: str, *, returns_dataset: bool = False):
        if not callable(fn):
            raise TypeError(f"`{kind}` expects a callable, but got {fn!r} of type {type(fn).__name__}")
        outer = get_default_graph()
        fn_name = getattr(fn, "__name__", type(fn).__name__)
        self.name = f"__inference_Dataset_{kind}_{fn_name}_{next(_FUNCTION_IDS)}"
        self.graph = graph = FuncGraph(self.name, outer)
        self.input_specs = input_specs
        with graph.as_default():
            self.arguments: list[Tensor] = []
            args = structure.pack(input_specs, [self._argument(s) for s in structure.flatten(input_specs)])
            result = fn(*args) if type(args) is tuple else fn(args)
            self.dataset = None
            if returns_dataset:
                if not hasattr(result, "_variant_tensor"):
                    raise TypeError(f"`{kind}` must return a Dataset object, but returned "
                                    f"{type(result).__name__}.")
                self.dataset = result
                outputs = result
                flat = [result._variant_tensor]
            else:
                outputs = _as_output(result, graph)
                flat = _flat_tensors(outputs)
        self.output_specs = None if returns_dataset else structure.specs_of(outputs)
        self.outputs = flat
        self.captured = list(graph.captures)  # outer tensors, in the order of their placeholders
        self._inner_captures = [graph.captures[t] for t in self.captured]
        self._plans: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._batched: Any = False  # not tried yet

    def vectorized(self) -> Any:
        """The function on stacked elements (caudal.data.vectorize), or None if it cannot be batched."""
        if self._batched is False:
            from caudal.data.vectorize import vectorize

            self._batched = vectorize(self)
        return self._batched

    def _argument(self, spec: structure.ComponentSpec) -> Any:
        from caudal.ops.constant_ops import placeholder

        if spec.sparse:
            from caudal.framework.sparse_tensor import SparseTensor

            rank = spec.shape.ndims
            indices = placeholder(dtypes_lib.int64, [None, rank], name="arg_indices")
            values = placeholder(spec.dtype, [None], name="arg_values")
            shape = placeholder(dtypes_lib.int64, [rank], name="arg_dense_shape")
            self.arguments.extend([indices, values, shape])
            return SparseTensor(indices, values, shape)
        arg = placeholder(spec.dtype, spec.shape, name="arg")
        self.arguments.append(arg)
        return arg

    def _plan(self, backend: Any) -> Any:
        plan = self._plans.get(backend.name)
        if plan is None:
            with self._lock:
                plan = self._plans.get(backend.name)
                if plan is None:
                    plan = build_plan(tuple(self.outputs), tuple(self.arguments + self._inner_captures), backend)
                    self._plans[backend.name] = plan
        return plan

    def __call__(self, env: Any, element: tuple, captured: tuple) -> Any:
        """The function's flat outputs for one flat input element (a DatasetValue for flat_map's kind)."""
        plan = self._plan(env.backend)
        feeds = list(_flat_values(element)) + list(captured)
        store = env.store_for(self)
        ctx = RunContext(env.backend, {}, store, None, [])
        try:
            with np.errstate(all="ignore"):
                results = plan.function(ctx, *feeds)
        except Exception as e:
            from caudal.runtime.session import _as_op_error

            raise _as_op_error(e, plan, sys.exc_info()[2]) from e
        ctx.commit()
        if self.dataset is not None:
            return results[0]
        return _pack_values(self.output_specs, results)


def _flat_tensors(outputs: Any) -> list[Tensor]:
    flat: list[Tensor] = []
    for leaf in structure.flatten(outputs):
        if structure.is_sparse(leaf):
            flat.extend([leaf.indices, leaf.values, leaf.dense_shape])
        else:
            flat.append(leaf)
    return flat


def _flat_values(element: tuple) -> list[Any]:
    flat: list[Any] = []
    for value in element:
        if hasattr(value, "dense_shape"):
            flat.extend([value.indices, value.values, value.dense_shape])
        else:
            flat.append(value)
    return flat


def _pack_values(specs: Any, results: tuple) -> tuple:
    """The function's results as one flat runtime element (SparseTensorValues re-formed)."""
    flat_specs = structure.flatten(specs)
    if len(flat_specs) == len(results):
        return tuple(results)
    from caudal.framework.sparse_tensor import SparseTensorValue

    element, i = [], 0
    for spec in flat_specs:
        if spec.sparse:
            element.append(SparseTensorValue(*results[i:i + 3]))
            i += 3
        else:
            element.append(results[i])
            i += 1
    return tuple(element)


def check_scalar_bool(function: DatasetFunction) -> None:
    """`filter`'s predicate must return a scalar tf.bool, as TF checks when it traces it."""
    specs = function.output_specs
    if isinstance(specs, (tuple, dict)) or specs.dtype is not dtypes_lib.bool_ or \
            not specs.shape.is_compatible_with([]):
        raise ValueError(f"Invalid `predicate`. `predicate` must return a `tf.bool` scalar tensor, but its return "
                         f"type is {specs}.")


def invalid_element(message: str) -> errors.InvalidArgumentError:
    return errors.InvalidArgumentError(None, None, message)
