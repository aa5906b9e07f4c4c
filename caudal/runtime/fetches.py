"""Flattening `Session.run` fetches and rebuilding the result in the caller's structure.

A fetch is a Tensor, an Operation (its value is None), a name ("x:0" for a
tensor, "x" for an op), anything with `_as_graph_element` (Variables), a
SparseTensor (its value is a SparseTensorValue of its three arrays), an
IndexedSlices (an IndexedSlicesValue; its dense_shape None where it has none), or a
list, tuple, namedtuple or dict of those, nested. Each distinct graph element
is run once even if it appears several times.
"""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import Graph, Operation
from caudal.framework.indexed_slices import IndexedSlices, IndexedSlicesValue
from caudal.framework.sparse_tensor import SparseTensor, SparseTensorValue
from caudal.framework.tensor import Tensor


class FetchStructure:
    """The unique graph elements of `fetches`, and how to put their values back in place."""

    __slots__ = ("unique", "_template", "_index")

    def __init__(self, fetches: Any, graph: Graph):
        if type(fetches) in (Tensor, Operation) and fetches.graph is graph and not graph._unfetchable:
            self._index = {}
            self._template = 0
            self.unique = (fetches,)
            return
        self._index: dict[Any, int] = {}
        unique: list[Any] = []
        self._template = self._flatten(fetches, graph, unique)
        self.unique = tuple(unique)

    def _flatten(self, fetch: Any, graph: Graph, unique: list[Any]) -> Any:
        if isinstance(fetch, (Tensor, Operation)) or isinstance(fetch, str):
            return self._leaf(fetch, graph, unique)
        if isinstance(fetch, SparseTensor):
            parts = (fetch.indices, fetch.values, fetch.dense_shape)
            return ("namedtuple", SparseTensorValue, [self._leaf(t, graph, unique) for t in parts])
        if isinstance(fetch, IndexedSlices):
            parts = [self._leaf(t, graph, unique) for t in (fetch.values, fetch.indices)]
            if fetch.dense_shape is not None:
                parts.append(self._leaf(fetch.dense_shape, graph, unique))
            return ("indexed_slices", IndexedSlicesValue, parts)
        if isinstance(fetch, dict):
            return ("dict", type(fetch), [(k, self._flatten(v, graph, unique)) for k, v in fetch.items()])
        if isinstance(fetch, tuple) and hasattr(fetch, "_fields"):
            return ("namedtuple", type(fetch), [self._flatten(v, graph, unique) for v in fetch])
        if isinstance(fetch, (list, tuple)):
            return ("list" if isinstance(fetch, list) else "tuple", type(fetch),
                    [self._flatten(v, graph, unique) for v in fetch])
        if fetch is None:
            raise TypeError(f"Fetch argument None has invalid type {type(None)}")
        if hasattr(fetch, "_as_graph_element"):
            return self._leaf(fetch, graph, unique)
        raise TypeError(f"Fetch argument {fetch!r} has invalid type {type(fetch)}, must be a string or Tensor. "
                        "(Can not convert a " + type(fetch).__name__ + " into a Tensor or Operation.)")

    def _leaf(self, fetch: Any, graph: Graph, unique: list[Any]) -> Any:
        if (type(fetch) is Tensor or type(fetch) is Operation) and fetch.graph is graph:
            element = fetch  # what as_graph_element would return, without its checks of other kinds
        else:
            try:
                element = graph.as_graph_element(fetch, allow_tensor=True, allow_operation=True)
            except (TypeError, ValueError, KeyError) as e:
                message = e.args[0] if e.args else str(e)
                kind = "Tensor" if not isinstance(fetch, Operation) else "Operation"
                raise ValueError(f"Fetch argument {fetch!r} cannot be interpreted as a {kind}. ({message})") \
                    from None
        if graph._unfetchable and not graph.is_fetchable(element):
            raise ValueError(f"Operation {element.name!r} has been marked as not fetchable.")
        position = self._index.get(element)
        if position is None:
            position = len(unique)
            self._index[element] = position
            unique.append(element)
        return position

    def build(self, values: list[Any]) -> Any:
        return self._build(self._template, values)

    def _build(self, template: Any, values: list[Any]) -> Any:
        if isinstance(template, int):
            return values[template]
        kind, cls, items = template
        if kind == "dict":
            result = cls() if cls is not dict else {}
            for key, sub in items:
                result[key] = self._build(sub, values)
            return result
        built = [self._build(sub, values) for sub in items]
        if kind == "namedtuple":
            return cls(*built)
        if kind == "indexed_slices":
            return cls(*built, *([None] * (3 - len(built))))
        if kind == "list":
            return built if cls is list else cls(built)
        return tuple(built) if cls is tuple else cls(built)
