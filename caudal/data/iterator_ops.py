"""TF1's dataset iterators: one-shot, initializable, reinitializable (`from_structure`) and feedable
(`from_string_handle`), with TensorFlow's op types (`IteratorV2`, `MakeIterator`, `OneShotIterator`,
`IteratorGetNext`, `IteratorToStringHandle`, `IteratorFromStringHandleV2`).

An iterator's state is a Session resource (`IteratorResource`): two Sessions iterate independently, and a
run that fails gives back the elements it took (they come again, first, in the next run), so a failed
run does not advance the iterator. `get_next()` past the end raises `OutOfRangeError`, before
initialisation `FailedPreconditionError`, with TensorFlow's messages.
"""
from __future__ import annotations

import collections
import warnings
from typing import Any

import numpy as np

from caudal import errors
from caudal.data import structure
from caudal.data.pipeline import DatasetValue, Env
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, get_default_graph, name_scope
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.resource import Resource
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape

__all__ = ["Iterator", "IteratorResource", "make_one_shot_iterator", "make_initializable_iterator"]

_HANDLE_PREFIX = b"caudal-iterator:"
_NOT_INITIALIZED = ("GetNext() failed because the iterator has not been initialized. Ensure that you have run the "
                    "initializer operation for this iterator before getting the next element.")


class IteratorResource(Resource):
    """One iterator's state in one Session: the running pipeline, and the elements a failed run gave back."""

    __slots__ = ("name", "specs", "_pipeline", "_env", "_pushback", "_log")

    def __init__(self, name: str, specs: Any):
        self.name = name
        self.specs = specs
        self._pipeline: Any = None
        self._env: Env | None = None
        self._pushback: collections.deque = collections.deque()
        self._log: list[tuple] = []

    @property
    def initialized(self) -> bool:
        return self._pipeline is not None

    def initialize(self, dataset: DatasetValue, backend: Any) -> None:
        env = Env(backend)
        self._pipeline = dataset.iterator(env)
        self._env = env
        self._pushback = collections.deque()
        self._log = []  # elements of the new pipeline are not given back to the old one

    def get_next(self, op: Any) -> tuple:
        if self._pipeline is None:
            raise errors.FailedPreconditionError(None, op, _NOT_INITIALIZED)
        if self._pushback:
            return self._pushback.popleft()
        element = self._pipeline.get_next()
        if element is None:
            raise errors.OutOfRangeError(None, op, "End of sequence")
        self._log.append(element)
        return element

    def snapshot(self) -> Any:
        self._log = log = []
        return self._pipeline, self._env, list(self._pushback), log

    def restore(self, snapshot: Any) -> None:
        self._pipeline, self._env, pushback, log = snapshot
        self._pushback = collections.deque(pushback + log)
        self._log = []


# ------------------------------------------------------------------ ops
def _resource_infer(ctx: InferContext) -> list:
    ctx.attrs.setdefault("container", "")
    ctx.attrs.setdefault("shared_name", "")
    return [(dtypes_lib.resource, TensorShape([]))]


def _key(op: Operation) -> tuple:
    shared = op._attrs.get("shared_name") or op.name
    return ("iterator", shared.decode() if isinstance(shared, bytes) else shared)


def _iterator_bind(op: Operation) -> dict:
    return {"key": _key(op), "specs": op._attrs["_specs"].specs}


def _iterator_kernel(ctx: Any, *, key: tuple, specs: Any) -> IteratorResource:
    return ctx.resource(key, lambda: IteratorResource(key[1], specs))


register_op("IteratorV2", infer=_resource_infer, kernel=_iterator_kernel, bind=_iterator_bind,
            grad=NOT_DIFFERENTIABLE, stateful=True)


def _one_shot_bind(op: Operation) -> dict:
    return {"key": _key(op), "specs": op._attrs["_specs"].specs, "factory": op._attrs["dataset_factory"]}


def _one_shot_kernel(ctx: Any, *, key: tuple, specs: Any, factory: Any) -> IteratorResource:
    if key not in ctx.store.resources:
        # Made and kept at once, as TF's one-shot iterator is: a run that fails after it was made
        # gives back its elements to it rather than forgetting it (and starting over next run).
        resource = IteratorResource(key[1], specs)
        resource.initialize(factory.make(ctx), ctx.backend)
        ctx.store.resources[key] = resource
    return ctx.resource(key, lambda: IteratorResource(key[1], specs))


register_op("OneShotIterator", infer=_resource_infer, kernel=_one_shot_kernel, bind=_one_shot_bind,
            grad=NOT_DIFFERENTIABLE, stateful=True)


class _DatasetFactory:
    """The dataset a one-shot iterator makes on first use (TF's `dataset_factory` function)."""

    attr_kind = "func"

    def __init__(self, variant: Tensor):
        self.variant = variant
        self.name = f"_make_dataset_{variant.op.name.replace('/', '_')}"
        self._plans: dict[str, Any] = {}

    def make(self, ctx: Any) -> DatasetValue:
        from caudal.runtime.plan import build_plan
        from caudal.runtime.resources import RunContext

        plan = self._plans.get(ctx.backend.name)
        if plan is None:
            plan = self._plans[ctx.backend.name] = build_plan((self.variant,), (), ctx.backend)
        inner = RunContext(ctx.backend, ctx.variables, ctx.store, ctx.session, [])
        return plan.function(inner)[0]


def _make_iterator_infer(ctx: InferContext) -> list:
    if ctx.dtype(0) is not dtypes_lib.variant or ctx.dtype(1) is not dtypes_lib.resource:
        raise TypeError("MakeIterator takes a dataset (variant) and an iterator (resource)")
    return []


def _make_iterator_kernel(ctx: Any, dataset: DatasetValue, iterator: IteratorResource) -> tuple:
    iterator.initialize(dataset, ctx.backend)
    return ()


register_op("MakeIterator", infer=_make_iterator_infer, kernel=_make_iterator_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)


def _output_specs(specs: Any) -> list[tuple]:
    outputs = []
    for spec in structure.flatten(specs):
        if spec.sparse:
            rank = spec.shape.ndims
            outputs += [(dtypes_lib.int64, TensorShape([None, rank])), (spec.dtype, TensorShape([None])),
                        (dtypes_lib.int64, TensorShape([rank]))]
        else:
            outputs.append((spec.dtype, spec.shape))
    return outputs


def _get_next_infer(ctx: InferContext) -> list:
    if ctx.dtype(0) is not dtypes_lib.resource:
        raise TypeError(f"Input 'iterator' of 'IteratorGetNext' Op has type {ctx.dtype(0).name} that does not "
                        "match expected type of resource.")
    return _output_specs(ctx.attrs["_specs"].specs)


def _types_text(specs: Any) -> str:
    return ", ".join(s.dtype.name for s in structure.flatten(specs))


def _get_next_bind(op: Operation) -> dict:
    specs = op._attrs["_specs"].specs
    flat = structure.flatten(specs)
    return {"specs": specs, "sparse": any(s.sparse for s in flat), "single": len(op._outputs) == 1}


def _get_next_kernel(ctx: Any, iterator: IteratorResource, *, specs: Any, sparse: bool, single: bool,
                     op: Any) -> Any:
    if iterator.specs is not specs and [(s.dtype, s.sparse) for s in structure.flatten(iterator.specs)] != \
            [(s.dtype, s.sparse) for s in structure.flatten(specs)]:
        raise errors.InvalidArgumentError(None, op, f"Expected types [{_types_text(specs)}] but the iterator "
                                                    f"produces [{_types_text(iterator.specs)}]")
    element = iterator.get_next(op)
    if not sparse:
        return element[0] if single else element
    flat: list[Any] = []
    for value in element:
        if hasattr(value, "dense_shape"):
            flat.extend([value.indices, value.values, value.dense_shape])
        else:
            flat.append(value)
    return tuple(flat) if len(flat) > 1 else flat[0]


register_op("IteratorGetNext", infer=_get_next_infer, kernel=_get_next_kernel, bind=_get_next_bind,
            grad=NOT_DIFFERENTIABLE, stateful=True)


def _to_string_handle_infer(ctx: InferContext) -> list:
    return [(dtypes_lib.string, TensorShape([]))]


def _to_string_handle_kernel(ctx: Any, iterator: IteratorResource) -> Any:
    return np.array(_HANDLE_PREFIX + iterator.name.encode(), dtype=object)


register_op("IteratorToStringHandle", infer=_to_string_handle_infer, kernel=_to_string_handle_kernel,
            grad=NOT_DIFFERENTIABLE, stateful=True)


def _from_string_handle_infer(ctx: InferContext) -> list:
    if ctx.dtype(0) is not dtypes_lib.string:
        raise TypeError(f"Input 'string_handle' of 'IteratorFromStringHandleV2' Op has type {ctx.dtype(0).name} "
                        "that does not match expected type of string.")
    return [(dtypes_lib.resource, TensorShape([]))]


def _from_string_handle_kernel(ctx: Any, handle: Any, *, op: Any) -> IteratorResource:
    value = np.asarray(handle, dtype=object).reshape(-1)
    data = value[0] if value.size == 1 else None
    data = data.encode() if isinstance(data, str) else data
    if not isinstance(data, bytes) or not data.startswith(_HANDLE_PREFIX):
        raise errors.InvalidArgumentError(None, op, f"Could not parse an iterator handle from {handle!r}; feed the "
                                                    "value of an iterator's `string_handle()`")
    key = ("iterator", data[len(_HANDLE_PREFIX):].decode())
    if key not in ctx.store.resources and (ctx._created is None or key not in ctx._created):
        raise errors.NotFoundError(None, op, f"Resource {key[1]} of an iterator does not exist in this Session")
    return ctx.resource(key, lambda: None)


register_op("IteratorFromStringHandleV2", infer=_from_string_handle_infer, kernel=_from_string_handle_kernel,
            grad=NOT_DIFFERENTIABLE, stateful=True)


# ------------------------------------------------------------------ the Python API
def _iterator_attrs(specs: Any, **extra: Any) -> dict[str, Any]:
    from caudal.data.dataset_ops import _element_attrs

    attrs = _element_attrs(specs)
    attrs.update(extra)
    return attrs


class Iterator(structure.HasElementStructure):
    """`tf.data.Iterator` (TF1): `get_next()`, `initializer`, `make_initializer`, `string_handle`."""

    def __init__(self, iterator_resource: Tensor, initializer: Operation | None, specs: Any):
        self._iterator_resource = iterator_resource
        self._initializer = initializer
        self._specs = specs
        self._get_next_calls = 0

    @staticmethod
    def from_structure(output_types: Any, output_shapes: Any = None, shared_name: str | None = None,
                       output_classes: Any = None) -> Iterator:
        """An iterator not bound to a dataset: `make_initializer(dataset)` binds (and rebinds) it."""
        specs = structure.specs_from(output_types, output_shapes, output_classes)
        resource = get_default_graph().create_op(
            "IteratorV2", [], _iterator_attrs(specs, shared_name=shared_name or "", container=""),
            "Iterator")._outputs[0]
        return Iterator(resource, None, specs)

    @staticmethod
    def from_string_handle(string_handle: Any, output_types: Any, output_shapes: Any = None,
                           output_classes: Any = None) -> Iterator:
        """The iterator whose `string_handle()` value is fed to `string_handle` (a string placeholder)."""
        specs = structure.specs_from(output_types, output_shapes, output_classes)
        handle = convert_to_tensor(string_handle, dtype=dtypes_lib.string)
        resource = get_default_graph().create_op(
            "IteratorFromStringHandleV2", [handle], _iterator_attrs(specs), "IteratorFromStringHandle")._outputs[0]
        return Iterator(resource, None, specs)

    @property
    def initializer(self) -> Operation:
        if self._initializer is None:
            raise ValueError("The iterator does not have an initializer. This means it was likely created using "
                             "`tf.data.Dataset.make_one_shot_iterator()`. For an initializable iterator, use "
                             "`tf.data.Dataset.make_initializable_iterator()` instead.")
        return self._initializer

    def make_initializer(self, dataset: Any, name: str | None = None) -> Operation:
        """An op that (re)starts this iterator on `dataset`, whose element structure must match."""
        _check_compatible(self._specs, dataset._specs)
        with name_scope(name or "make_initializer"):
            return get_default_graph().create_op("MakeIterator", [dataset._variant_tensor, self._iterator_resource],
                                                 {}, "MakeIterator")

    def get_next(self, name: str | None = None) -> Any:
        """The next element: tensors in the dataset's structure; OutOfRangeError at the end."""
        self._get_next_calls += 1
        if self._get_next_calls == 32:
            warnings.warn("An unusually high number of `Iterator.get_next()` calls was detected. This often "
                          "indicates that `Iterator.get_next()` is being called inside a training loop, which "
                          "will cause gradual slowdown and eventual resource exhaustion.", stacklevel=2)
        op = get_default_graph().create_op("IteratorGetNext", [self._iterator_resource], _iterator_attrs(self._specs),
                                           name or "IteratorGetNext")
        return _element_from_outputs(self._specs, list(op._outputs))

    def string_handle(self, name: str | None = None) -> Tensor:
        """A string scalar naming this iterator, to feed to `Iterator.from_string_handle`."""
        return get_default_graph().create_op("IteratorToStringHandle", [self._iterator_resource], {},
                                             name or "IteratorToStringHandle")._outputs[0]



def _element_from_outputs(specs: Any, outputs: list[Tensor]) -> Any:
    leaves, i = [], 0
    for spec in structure.flatten(specs):
        if spec.sparse:
            from caudal.framework.sparse_tensor import SparseTensor

            leaves.append(SparseTensor(outputs[i], outputs[i + 1], outputs[i + 2]))
            i += 3
        else:
            leaves.append(outputs[i])
            i += 1
    return structure.pack(specs, leaves)


def _check_compatible(expected: Any, got: Any) -> None:
    structure.assert_same_structure(expected, got)
    want, have = structure.flatten(expected), structure.flatten(got)
    if [s.dtype for s in want] != [s.dtype for s in have] or [s.sparse for s in want] != [s.sparse for s in have]:
        raise TypeError(f"Expected output types {structure.types_of(expected)!r} but got dataset with output types "
                        f"{structure.types_of(got)!r}.")
    for a, b in zip(want, have):
        if not a.shape.is_compatible_with(b.shape):
            raise TypeError(f"Expected output shapes compatible with {structure.shapes_of(expected)!r} but got "
                            f"dataset with output shapes {structure.shapes_of(got)!r}.")


def _placeholders_under(tensor: Tensor) -> list[Operation]:
    seen, stack, found = set(), [tensor.op], []
    while stack:
        op = stack.pop()
        if op in seen:
            continue
        seen.add(op)
        if op.type in ("Placeholder", "PlaceholderV2"):
            found.append(op)
        stack.extend(t.op for t in op.inputs)
    return found


def make_one_shot_iterator(dataset: Any) -> Iterator:
    """`tf.compat.v1.data.make_one_shot_iterator`: initialised on first use; it cannot capture placeholders."""
    for op in _placeholders_under(dataset._variant_tensor):
        raise ValueError(f"Cannot capture a placeholder (name:{op.name}, type:{op.type}) by value.")
    attrs = _iterator_attrs(dataset._specs, dataset_factory=_DatasetFactory(dataset._variant_tensor),
                            container="", shared_name="")
    resource = get_default_graph().create_op("OneShotIterator", [], attrs, "OneShotIterator")._outputs[0]
    return Iterator(resource, None, dataset._specs)


def make_initializable_iterator(dataset: Any, shared_name: str | None = None) -> Iterator:
    """`tf.compat.v1.data.make_initializable_iterator`: run `iterator.initializer` (again to restart)."""
    graph = get_default_graph()
    resource = graph.create_op("IteratorV2", [], _iterator_attrs(dataset._specs, shared_name=shared_name or "",
                                                                  container=""), "Iterator")._outputs[0]
    initializer = graph.create_op("MakeIterator", [dataset._variant_tensor, resource], {}, "MakeIterator")
    return Iterator(resource, initializer, dataset._specs)
