"""What a dataset is at run time: a `DatasetValue` (the value of a dataset op's variant tensor) makes
element iterators; an iterator's `get_next()` returns one element, a flat tuple of arrays (a
`SparseTensorValue` for a sparse component), or None at the end of the sequence.

Errors are per element, as in TensorFlow: an iterator that raises keeps its position, so the next
`get_next()` goes on with the next element (a `map` function failing on one record does not end the
pipeline; a batch being built when it fails is dropped).

This module holds sources and element-wise transformations; batching, shuffling, prefetching and caching
are in `pipeline_buffers.py`, file readers in `readers.py`.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from caudal import errors
from caudal.runtime.resources import ResourceStore

__all__ = ["Env", "DatasetValue", "ElementIterator"]


class Env:
    """What the iterators of one initialised pipeline share: the backend, the function resources
    (random streams) and the thread pools of parallel maps."""

    def __init__(self, backend: Any):
        self.backend = backend
        self._stores: dict[Any, ResourceStore] = {}
        self._pools: dict[int, ThreadPoolExecutor] = {}

    def store_for(self, function: Any) -> ResourceStore:
        store = self._stores.get(function)
        if store is None:
            store = self._stores[function] = ResourceStore()
        return store

    def pool(self, workers: int) -> ThreadPoolExecutor:
        pool = self._pools.get(workers)
        if pool is None:
            pool = self._pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="caudal-data")
        return pool

    def __del__(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)


class ElementIterator:
    """Yields the elements of one pass over a dataset."""

    __slots__ = ()

    def get_next(self) -> tuple | None:
        raise NotImplementedError


class BatchingIterator(ElementIterator):
    """An iterator that can also hand out several consecutive elements at once, stacked: `batch` asks it
    for `get_batch(n)` instead of stacking n elements itself (slices of arrays, shuffled or repeated, are
    gathered with one NumPy call instead of n)."""

    __slots__ = ()

    @property
    def batchable(self) -> bool:
        return True

    def get_batch(self, n: int) -> tuple | None:
        """Up to `n` next elements stacked along a new first axis (fewer only at the end); None at the end."""
        raise NotImplementedError


class DatasetValue:
    """A dataset at run time: it makes iterators over its elements."""

    def iterator(self, env: Env) -> ElementIterator:
        raise NotImplementedError


# ------------------------------------------------------------------ sources
class _ListIterator(ElementIterator):
    __slots__ = ("_elements", "_i")

    def __init__(self, elements: list[tuple]):
        self._elements = elements
        self._i = 0

    def get_next(self) -> tuple | None:
        i = self._i
        if i >= len(self._elements):
            return None
        self._i = i + 1
        return self._elements[i]


class TensorsValue(DatasetValue):
    """`from_tensors`: one element."""

    def __init__(self, components: tuple):
        self.components = components

    def iterator(self, env: Env) -> ElementIterator:
        return _ListIterator([self.components])


def slice_sparse(value: Any, i: int) -> Any:
    """Row `i` of a SparseTensorValue, one rank lower."""
    from caudal.framework.sparse_tensor import SparseTensorValue

    rows = value.indices[:, 0] == i
    return SparseTensorValue(np.ascontiguousarray(value.indices[rows, 1:]), value.values[rows],
                             np.asarray(value.dense_shape[1:], np.int64))


class _SliceIterator(ElementIterator):
    __slots__ = ("_components", "_n", "_i", "_sparse")

    def __init__(self, components: tuple, n: int):
        self._components = components
        self._n = n
        self._i = 0
        self._sparse = any(hasattr(c, "dense_shape") for c in components)

    def get_next(self) -> tuple | None:
        i = self._i
        if i >= self._n:
            return None
        self._i = i + 1
        if self._sparse:
            return tuple(slice_sparse(c, i) if hasattr(c, "dense_shape") else c[i, ...] for c in self._components)
        return tuple([c[i, ...] for c in self._components])


class _DenseSliceIterator(BatchingIterator):
    __slots__ = ("_components", "_n", "_i")

    def __init__(self, components: tuple, n: int):
        self._components = components
        self._n = n
        self._i = 0

    def get_next(self) -> tuple | None:
        i = self._i
        if i >= self._n:
            return None
        self._i = i + 1
        return tuple([c[i, ...] for c in self._components])

    def get_batch(self, n: int) -> tuple | None:
        i = self._i
        if i >= self._n:
            return None
        self._i = end = min(i + n, self._n)
        return tuple([c[i:end] for c in self._components])


class SlicesValue(DatasetValue):
    """`from_tensor_slices`: the rows of the components along their first dimension."""

    def __init__(self, components: tuple):
        sizes = [int(c.dense_shape[0]) if hasattr(c, "dense_shape") else np.shape(c)[0] for c in components]
        if len(set(sizes)) > 1:
            raise errors.InvalidArgumentError(
                None, None, "Expected all components to have the same size in dimension 0, but got sizes "
                            + ", ".join(map(str, sizes)))
        self.components = components
        self.n = sizes[0]

    @property
    def dense(self) -> bool:
        return not any(hasattr(c, "dense_shape") for c in self.components)

    def iterator(self, env: Env) -> ElementIterator:
        if self.dense:
            return _DenseSliceIterator(self.components, self.n)
        return _SliceIterator(self.components, self.n)


class _RangeIterator(ElementIterator):
    __slots__ = ("_next", "_stop", "_step", "_dtype")

    def __init__(self, start: int, stop: int, step: int, dtype: Any):
        self._next, self._stop, self._step, self._dtype = start, stop, step, dtype

    def get_next(self) -> tuple | None:
        value = self._next
        if (self._step > 0 and value >= self._stop) or (self._step < 0 and value <= self._stop):
            return None
        self._next = value + self._step
        return (self._dtype.type(value),)


class RangeValue(DatasetValue):
    """`Dataset.range(start, stop, step)`."""

    def __init__(self, start: int, stop: int, step: int, dtype: Any = np.int64):
        if step == 0:
            raise errors.InvalidArgumentError(None, None, "step must be a non-zero integer.")
        self.start, self.stop, self.step, self.dtype = start, stop, step, np.dtype(dtype)

    def iterator(self, env: Env) -> ElementIterator:
        return _RangeIterator(self.start, self.stop, self.step, self.dtype)


class _ZipIterator(ElementIterator):
    __slots__ = ("_iterators",)

    def __init__(self, iterators: list[ElementIterator]):
        self._iterators = iterators

    def get_next(self) -> tuple | None:
        element: list[Any] = []
        for it in self._iterators:
            part = it.get_next()
            if part is None:
                return None
            element.extend(part)
        return tuple(element)


class ZipValue(DatasetValue):
    def __init__(self, inputs: list[DatasetValue]):
        self.inputs = inputs

    def iterator(self, env: Env) -> ElementIterator:
        return _ZipIterator([d.iterator(env) for d in self.inputs])


class _ConcatenateIterator(ElementIterator):
    __slots__ = ("_env", "_second", "_current", "_on_second")

    def __init__(self, env: Env, first: DatasetValue, second: DatasetValue):
        self._env, self._second = env, second
        self._current = first.iterator(env)
        self._on_second = False

    def get_next(self) -> tuple | None:
        element = self._current.get_next()
        if element is None and not self._on_second:
            self._on_second = True
            self._current = self._second.iterator(self._env)
            element = self._current.get_next()
        return element


class ConcatenateValue(DatasetValue):
    def __init__(self, first: DatasetValue, second: DatasetValue):
        self.first, self.second = first, second

    def iterator(self, env: Env) -> ElementIterator:
        return _ConcatenateIterator(env, self.first, self.second)


# ----------------------------------------------------- element-wise transformations
class _MapIterator(ElementIterator):
    __slots__ = ("_input", "_call")

    def __init__(self, input: ElementIterator, call: Callable[[tuple], tuple]):
        self._input, self._call = input, call

    def get_next(self) -> tuple | None:
        element = self._input.get_next()
        if element is None:
            return None
        return self._call(element)


class _ParallelMapIterator(ElementIterator):
    """Keeps up to `parallelism` calls in flight on a thread pool and returns results in input order,
    so functions that release the GIL (NumPy, file reads, decoding) overlap."""

    __slots__ = ("_input", "_call", "_pool", "_pending", "_parallelism", "_exhausted")

    def __init__(self, input: ElementIterator, call: Callable[[tuple], tuple], pool: ThreadPoolExecutor,
                 parallelism: int):
        self._input, self._call, self._pool = input, call, pool
        self._pending: list[Any] = []
        self._parallelism = parallelism
        self._exhausted = False

    def get_next(self) -> tuple | None:
        pending = self._pending
        while not self._exhausted and len(pending) < self._parallelism:
            element = self._input.get_next()
            if element is None:
                self._exhausted = True
                break
            pending.append(self._pool.submit(self._call, element))
        if not pending:
            return None
        return pending.pop(0).result()


class MapValue(DatasetValue):
    """`map(fn, num_parallel_calls)`."""

    def __init__(self, input: DatasetValue, function: Any, captured: tuple, parallelism: int = 1):
        self.input, self.function, self.captured, self.parallelism = input, function, captured, parallelism

    def iterator(self, env: Env) -> ElementIterator:
        function, captured = self.function, self.captured

        def call(element: tuple) -> tuple:
            return function(env, element, captured)

        upstream = self.input.iterator(env)
        batched = function.vectorized()
        if batched is not None:
            from caudal.data.vectorize import VectorizedMapIterator

            return VectorizedMapIterator(upstream, env, function, batched, captured)
        if self.parallelism > 1:
            return _ParallelMapIterator(upstream, call, env.pool(self.parallelism), self.parallelism)
        return _MapIterator(upstream, call)


class _FilterIterator(ElementIterator):
    __slots__ = ("_input", "_keep")

    def __init__(self, input: ElementIterator, keep: Callable[[tuple], bool]):
        self._input, self._keep = input, keep

    def get_next(self) -> tuple | None:
        while True:
            element = self._input.get_next()
            if element is None or self._keep(element):
                return element


class FilterValue(DatasetValue):
    def __init__(self, input: DatasetValue, predicate: Any, captured: tuple):
        self.input, self.predicate, self.captured = input, predicate, captured

    def iterator(self, env: Env) -> ElementIterator:
        predicate, captured = self.predicate, self.captured
        return _FilterIterator(self.input.iterator(env), lambda e: bool(predicate(env, e, captured)[0]))


class _FlatMapIterator(ElementIterator):
    __slots__ = ("_env", "_input", "_make", "_current")

    def __init__(self, env: Env, input: ElementIterator, make: Callable[[tuple], DatasetValue]):
        self._env, self._input, self._make = env, input, make
        self._current: ElementIterator | None = None

    def get_next(self) -> tuple | None:
        while True:
            if self._current is not None:
                element = self._current.get_next()
                if element is not None:
                    return element
                self._current = None
            source = self._input.get_next()
            if source is None:
                return None
            self._current = self._make(source).iterator(self._env)


class FlatMapValue(DatasetValue):
    def __init__(self, input: DatasetValue, function: Any, captured: tuple):
        self.input, self.function, self.captured = input, function, captured

    def iterator(self, env: Env) -> ElementIterator:
        function, captured = self.function, self.captured
        return _FlatMapIterator(env, self.input.iterator(env), lambda e: function(env, e, captured))


class _InterleaveIterator(ElementIterator):
    """TF's order: `cycle_length` slots visited in turn, `block_length` elements from each; a slot whose
    dataset ends is emptied and the turn passes on; an empty slot takes the next input element's dataset
    when its turn comes."""

    __slots__ = ("_env", "_input", "_make", "_cycle", "_block", "_slot", "_taken", "_input_done", "_open")

    def __init__(self, env: Env, input: ElementIterator, make: Callable[[tuple], DatasetValue],
                 cycle_length: int, block_length: int):
        self._env, self._input, self._make = env, input, make
        self._cycle: list[ElementIterator | None] = [None] * cycle_length
        self._block = block_length
        self._slot = 0
        self._taken = 0
        self._input_done = False
        self._open = 0

    def _advance(self) -> None:
        self._slot = (self._slot + 1) % len(self._cycle)
        self._taken = 0

    def get_next(self) -> tuple | None:
        cycle = self._cycle
        while not self._input_done or self._open > 0:
            current = cycle[self._slot]
            if current is not None:
                element = current.get_next()
                if element is not None:
                    self._taken += 1
                    if self._taken == self._block:
                        self._advance()
                    return element
                cycle[self._slot] = None
                self._open -= 1
                self._advance()
            elif not self._input_done:
                source = self._input.get_next()
                if source is None:
                    self._input_done = True
                else:
                    cycle[self._slot] = self._make(source).iterator(self._env)
                    self._open += 1
            else:
                self._advance()
        return None


class InterleaveValue(DatasetValue):
    def __init__(self, input: DatasetValue, function: Any, captured: tuple, cycle_length: int, block_length: int):
        self.input, self.function, self.captured = input, function, captured
        self.cycle_length, self.block_length = cycle_length, block_length

    def iterator(self, env: Env) -> ElementIterator:
        function, captured = self.function, self.captured
        return _InterleaveIterator(env, self.input.iterator(env), lambda e: function(env, e, captured),
                                   self.cycle_length, self.block_length)


# --------------------------------------------------------- counting transformations
class _TakeIterator(ElementIterator):
    __slots__ = ("_input", "_left")

    def __init__(self, input: ElementIterator, count: int):
        self._input, self._left = input, count

    def get_next(self) -> tuple | None:
        if self._left == 0:
            return None
        element = self._input.get_next()
        if element is not None and self._left > 0:
            self._left -= 1
        return element


class TakeValue(DatasetValue):
    def __init__(self, input: DatasetValue, count: int):
        self.input, self.count = input, count

    def iterator(self, env: Env) -> ElementIterator:
        return _TakeIterator(self.input.iterator(env), self.count)


class _SkipIterator(ElementIterator):
    __slots__ = ("_input", "_skip")

    def __init__(self, input: ElementIterator, count: int):
        self._input, self._skip = input, count

    def get_next(self) -> tuple | None:
        while self._skip != 0:
            if self._input.get_next() is None:
                self._skip = 0
                return None
            self._skip -= 1
        return self._input.get_next()


class SkipValue(DatasetValue):
    def __init__(self, input: DatasetValue, count: int):
        self.input, self.count = input, count

    def iterator(self, env: Env) -> ElementIterator:
        return _SkipIterator(self.input.iterator(env), self.count)


class _RepeatIterator(BatchingIterator):
    """`count` passes (-1: forever); a pass that yields nothing ends it, as TF's does."""

    __slots__ = ("_env", "_dataset", "_left", "_current", "_produced")

    def __init__(self, env: Env, dataset: DatasetValue, count: int):
        self._env, self._dataset, self._left = env, dataset, count
        self._current = dataset.iterator(env) if count != 0 else None
        self._produced = False

    def get_next(self) -> tuple | None:
        while self._current is not None:
            element = self._current.get_next()
            if element is not None:
                self._produced = True
                return element
            if self._left > 0:
                self._left -= 1
            if self._left == 0 or not self._produced:
                self._current = None
                return None
            self._produced = False
            self._current = self._dataset.iterator(self._env)
        return None

    @property
    def batchable(self) -> bool:
        current = self._current
        return isinstance(current, BatchingIterator) and current.batchable

    def get_batch(self, n: int) -> tuple | None:
        parts: list[tuple] = []
        have = 0
        while have < n and self._current is not None:
            part = self._current.get_batch(n - have)
            if part is not None:
                parts.append(part)
                have += len(part[0])
                self._produced = True
                continue
            if self._left > 0:
                self._left -= 1
            if self._left == 0 or not self._produced:
                self._current = None
                break
            self._produced = False
            self._current = self._dataset.iterator(self._env)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else tuple(np.concatenate(column) for column in zip(*parts))


class RepeatValue(DatasetValue):
    def __init__(self, input: DatasetValue, count: int):
        self.input, self.count = input, count

    def iterator(self, env: Env) -> ElementIterator:
        return _RepeatIterator(env, self.input, self.count)


class _ShardIterator(ElementIterator):
    __slots__ = ("_input", "_num", "_index", "_position")

    def __init__(self, input: ElementIterator, num_shards: int, index: int):
        self._input, self._num, self._index = input, num_shards, index
        self._position = 0

    def get_next(self) -> tuple | None:
        while True:
            element = self._input.get_next()
            if element is None:
                return None
            position = self._position
            self._position += 1
            if position % self._num == self._index:
                return element


class ShardValue(DatasetValue):
    def __init__(self, input: DatasetValue, num_shards: int, index: int):
        if num_shards <= 0:
            raise errors.InvalidArgumentError(None, None, f"Number of shards must be greater than zero "
                                                          f"(currently num_shards = {num_shards}).")
        if not 0 <= index < num_shards:
            raise errors.InvalidArgumentError(None, None, f"Index must be between 0 and {num_shards - 1} "
                                                          f"(currently index = {index}).")
        self.input, self.num_shards, self.index = input, num_shards, index

    def iterator(self, env: Env) -> ElementIterator:
        return _ShardIterator(self.input.iterator(env), self.num_shards, self.index)


class _GeneratorIterator(ElementIterator):
    __slots__ = ("_generator", "_check")

    def __init__(self, generator: Any, check: Callable[[Any], tuple]):
        self._generator, self._check = generator, check

    def get_next(self) -> tuple | None:
        try:
            value = next(self._generator)
        except StopIteration:
            return None
        return self._check(value)


class GeneratorValue(DatasetValue):
    """`from_generator`: a fresh generator per pass, each element checked against the declared types."""

    def __init__(self, make: Callable[[], Any], check: Callable[[Any], tuple]):
        self.make, self.check = make, check

    def iterator(self, env: Env) -> ElementIterator:
        return _GeneratorIterator(iter(self.make()), self.check)

