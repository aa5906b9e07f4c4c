"""Run-time transformations that hold elements: batch, padded_batch, unbatch, shuffle, prefetch, cache."""
from __future__ import annotations

import itertools
import os
import queue
import threading
import weakref
from typing import Any

import numpy as np

from caudal import errors
from caudal.data.pipeline import (
    BatchingIterator,
    DatasetValue,
    ElementIterator,
    Env,
    RepeatValue,
    SlicesValue,
    slice_sparse,
)

__all__ = ["BatchValue", "PaddedBatchValue", "UnbatchValue", "ShuffleValue", "PrefetchValue", "CacheValue"]


def _shape_text(shape: tuple) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _stack(values: list[Any], component: int) -> Any:
    first = values[0]
    if hasattr(first, "dense_shape"):
        return _stack_sparse(values)
    try:
        return np.stack(values)
    except ValueError:
        shape = np.shape(first)
        for value in values:
            if np.shape(value) != shape:
                raise errors.InvalidArgumentError(
                    None, None, f"Cannot add tensor to the batch: number of elements does not match. Shapes are: "
                                f"[tensor]: {_shape_text(shape)}, [batch]: {_shape_text(np.shape(value))}") from None
        raise


def _stack_sparse(values: list[Any]) -> Any:
    """Sparse elements batched: a leading index, and each dimension the largest of the elements'."""
    from caudal.framework.sparse_tensor import SparseTensorValue

    ranks = {len(v.dense_shape) for v in values}
    if len(ranks) > 1:
        raise errors.InvalidArgumentError(None, None, "Cannot batch sparse tensors of different ranks")
    indices = []
    for b, v in enumerate(values):
        rows = np.asarray(v.indices, np.int64).reshape(len(v.indices), len(v.dense_shape))
        indices.append(np.concatenate([np.full((len(rows), 1), b, np.int64), rows], axis=1))
    dense_shape = np.max(np.stack([np.asarray(v.dense_shape, np.int64) for v in values]), axis=0)
    return SparseTensorValue(np.concatenate(indices), np.concatenate([np.asarray(v.values) for v in values]),
                             np.concatenate([[len(values)], dense_shape]).astype(np.int64))


class _BatchIterator(ElementIterator):
    __slots__ = ("_input", "_size", "_drop", "_done")

    def __init__(self, input: ElementIterator, size: int, drop_remainder: bool):
        self._input, self._size, self._drop = input, size, drop_remainder
        self._done = False

    def _collect(self) -> list[tuple] | None:
        if self._done:
            return None
        elements = []
        get_next = self._input.get_next
        for _ in range(self._size):
            element = get_next()
            if element is None:
                self._done = True
                break
            elements.append(element)
        if not elements or (self._drop and len(elements) < self._size):
            return None
        return elements

    def get_next(self) -> tuple | None:
        input = self._input
        if isinstance(input, BatchingIterator) and input.batchable:
            if self._done:
                return None
            batch = input.get_batch(self._size)
            if batch is None or len(batch[0]) < self._size:
                self._done = True
                if batch is None or self._drop:
                    return None
            return batch
        elements = self._collect()
        if elements is None:
            return None
        return tuple(_stack(list(column), i) for i, column in enumerate(zip(*elements)))


class BatchValue(DatasetValue):
    def __init__(self, input: DatasetValue, batch_size: int, drop_remainder: bool):
        if batch_size <= 0:
            raise errors.InvalidArgumentError(None, None, f"Batch size must be greater than zero, got {batch_size}")
        self.input, self.batch_size, self.drop_remainder = input, batch_size, drop_remainder

    def iterator(self, env: Env) -> ElementIterator:
        return _BatchIterator(self.input.iterator(env), self.batch_size, self.drop_remainder)


class _PaddedBatchIterator(_BatchIterator):
    __slots__ = ("_shapes", "_values")

    def __init__(self, input: ElementIterator, size: int, drop_remainder: bool, shapes: list[list[int]],
                 values: list[Any]):
        super().__init__(input, size, drop_remainder)
        self._shapes, self._values = shapes, values

    def get_next(self) -> tuple | None:
        elements = self._collect()
        if elements is None:
            return None
        batch = []
        for c, column in enumerate(zip(*elements)):
            padded = list(self._shapes[c])
            ranks = {np.ndim(v) for v in column}
            if ranks != {len(padded)}:
                raise errors.InvalidArgumentError(
                    None, None, f"All elements in a batch must have the same rank as the padded shape for "
                                f"component{c}: expected rank {len(padded)} but got element with rank "
                                f"{min(ranks - {len(padded)})}")
            for d, size in enumerate(padded):
                largest = max(np.shape(v)[d] for v in column)
                if size < 0:
                    padded[d] = largest
                elif largest > size:
                    raise errors.DataLossError(
                        None, None, "Attempted to pad to a smaller size than the input element.")
            first = np.asarray(column[0])
            out = np.full([len(column)] + padded, self._values[c], dtype=first.dtype)
            for b, value in enumerate(column):
                value = np.asarray(value)
                out[(b,) + tuple(slice(0, n) for n in value.shape)] = value
            batch.append(out)
        return tuple(batch)


class PaddedBatchValue(DatasetValue):
    """`padded_batch`: each component padded to its padded shape (-1: the batch's largest) with its value."""

    def __init__(self, input: DatasetValue, batch_size: int, padded_shapes: list[Any], padding_values: list[Any],
                 drop_remainder: bool):
        if batch_size <= 0:
            raise errors.InvalidArgumentError(None, None, f"Batch size must be greater than zero, got {batch_size}")
        self.input, self.batch_size, self.drop_remainder = input, batch_size, drop_remainder
        self.padded_shapes = [[int(d) for d in np.reshape(s, [-1])] for s in padded_shapes]
        self.padding_values = [v[()] if isinstance(v, np.ndarray) else v for v in padding_values]

    def iterator(self, env: Env) -> ElementIterator:
        return _PaddedBatchIterator(self.input.iterator(env), self.batch_size, self.drop_remainder,
                                    self.padded_shapes, self.padding_values)


class _UnbatchIterator(ElementIterator):
    __slots__ = ("_input", "_current", "_i", "_n")

    def __init__(self, input: ElementIterator):
        self._input = input
        self._current: tuple | None = None
        self._i = self._n = 0

    def get_next(self) -> tuple | None:
        while self._i >= self._n:
            batch = self._input.get_next()
            if batch is None:
                return None
            sizes = {int(v.dense_shape[0]) if hasattr(v, "dense_shape") else np.shape(v)[0] for v in batch}
            if len(sizes) > 1:
                raise errors.InvalidArgumentError(None, None, "Input element must have the same batch size in "
                                                              "each component.")
            self._current, self._i, self._n = batch, 0, sizes.pop()
        i = self._i
        self._i += 1
        return tuple(slice_sparse(v, i) if hasattr(v, "dense_shape") else v[i, ...] for v in self._current)


class UnbatchValue(DatasetValue):
    def __init__(self, input: DatasetValue):
        self.input = input

    def iterator(self, env: Env) -> ElementIterator:
        return _UnbatchIterator(self.input.iterator(env))


class _ShuffleIterator(ElementIterator):
    """TF's buffer: filled to `buffer_size`, then each element is taken from a random slot and replaced
    by the next input element; once the input ends the buffer drains in random order."""

    __slots__ = ("_take", "_buffer", "_size", "_rng", "_input_done", "_draws")

    def __init__(self, take: Any, buffer_size: int, rng: np.random.Generator):
        self._take, self._size, self._rng = take, buffer_size, rng
        self._buffer: list[Any] = []
        self._input_done = False
        self._draws: list[float] = []

    def _slot(self, n: int) -> int:
        """A uniform slot in [0, n): uniform numbers are drawn 512 at a time (one NumPy call per draw
        would cost more than the rest of the shuffle)."""
        draws = self._draws
        if not draws:
            draws.extend(self._rng.random(512).tolist())
        return int(draws.pop() * n)

    def _next_item(self) -> Any:
        buffer = self._buffer
        while not self._input_done and len(buffer) < self._size:
            item = self._take()
            if item is None:
                self._input_done = True
                break
            buffer.append(item)
        if not buffer:
            return None
        j = self._slot(len(buffer))
        item = buffer[j]
        if not self._input_done:
            replacement = self._take()
            if replacement is not None:
                buffer[j] = replacement
                return item
            self._input_done = True
        buffer[j] = buffer[-1]
        buffer.pop()
        return item

    def get_next(self) -> tuple | None:
        return self._next_item()


class _ShuffledSlicesIterator(_ShuffleIterator, BatchingIterator):
    """The shuffle of array slices (repeated or not) with the same buffer algorithm run over row numbers:
    the same order, and batches gathered with one NumPy call per component."""

    __slots__ = ("_components",)

    def __init__(self, components: tuple, rows: Any, buffer_size: int, rng: np.random.Generator):
        super().__init__(lambda: next(rows, None), buffer_size, rng)
        self._components = components

    def get_next(self) -> tuple | None:
        i = self._next_item()
        return None if i is None else tuple([c[i, ...] for c in self._components])

    def get_batch(self, n: int) -> tuple | None:
        rows = []
        for _ in range(n):
            i = self._next_item()
            if i is None:
                break
            rows.append(i)
        if not rows:
            return None
        index = np.array(rows, dtype=np.intp)
        return tuple([c[index] for c in self._components])


def _row_numbers(dataset: DatasetValue) -> Any:
    """The row numbers a dense slices dataset (possibly repeated) yields, or None for other datasets."""
    count = 1
    if isinstance(dataset, RepeatValue) and isinstance(dataset.input, SlicesValue):
        count, dataset = dataset.count, dataset.input
    if not isinstance(dataset, SlicesValue) or not dataset.dense:
        return None
    n = dataset.n
    if count < 0:
        return itertools.chain.from_iterable(itertools.repeat(range(n))) if n else iter(())
    return itertools.chain.from_iterable(itertools.repeat(range(n), count))


class ShuffleValue(DatasetValue):
    """`shuffle(buffer_size, seed, reshuffle_each_iteration)`: each pass (a `repeat` epoch) draws a new
    order unless reshuffle_each_iteration is False; with seeds, the orders are the same in every session."""

    def __init__(self, input: DatasetValue, buffer_size: int, seed: int, seed2: int, reshuffle: bool):
        if buffer_size <= 0:
            raise errors.InvalidArgumentError(None, None, "buffer_size must be greater than zero.")
        self.input, self.buffer_size, self.reshuffle = input, buffer_size, reshuffle
        if seed == 0 and seed2 == 0:
            seed, seed2 = (int(x) for x in np.random.SeedSequence().generate_state(2))
        self.seed, self.seed2 = seed, seed2
        self._passes = 0
        self._lock = threading.Lock()

    def iterator(self, env: Env) -> ElementIterator:
        with self._lock:
            epoch = self._passes if self.reshuffle else 0
            self._passes += 1
        key = [self.seed & (2**64 - 1), ((self.seed2 << 20) + epoch) & (2**64 - 1)]
        rng = np.random.Generator(np.random.Philox(key=key))
        rows = _row_numbers(self.input)
        if rows is not None:
            source = self.input.input if isinstance(self.input, RepeatValue) else self.input
            return _ShuffledSlicesIterator(source.components, rows, self.buffer_size, rng)
        return _ShuffleIterator(self.input.iterator(env).get_next, self.buffer_size, rng)


_FAILED = object()


def _put(items: queue.Queue, stop: threading.Event, item: Any) -> bool:
    while not stop.is_set():
        try:
            items.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _fill(input: ElementIterator, items: queue.Queue, stop: threading.Event) -> None:
    """The prefetch thread: it holds the upstream iterator and the queue, never the consumer, so the
    consumer's finalizer can stop it once the pipeline is dropped (re-initialised, Session closed)."""
    while not stop.is_set():
        try:
            element = input.get_next()
        except BaseException as e:  # handed to the consumer, which raises it
            if not _put(items, stop, (_FAILED, e)):
                return
            continue
        if not _put(items, stop, element) or element is None:
            return


class _PrefetchIterator(ElementIterator):
    """A background thread keeps up to `buffer_size` elements ready; errors travel with the elements."""

    __slots__ = ("_queue", "_done", "__weakref__")

    def __init__(self, input: ElementIterator, buffer_size: int):
        self._queue: queue.Queue = queue.Queue(maxsize=buffer_size)
        self._done = False
        stop = threading.Event()
        thread = threading.Thread(target=_fill, args=(input, self._queue, stop), name="caudal-prefetch", daemon=True)
        weakref.finalize(self, stop.set)
        thread.start()

    def get_next(self) -> tuple | None:
        if self._done:
            return None
        item = self._queue.get()
        if item is None:
            self._done = True
            return None
        if type(item) is tuple and item and item[0] is _FAILED:
            raise item[1]
        return item


class PrefetchValue(DatasetValue):
    def __init__(self, input: DatasetValue, buffer_size: int):
        self.input = input
        self.buffer_size = buffer_size if buffer_size > 0 else 2  # AUTOTUNE (-1): a small fixed buffer

    def iterator(self, env: Env) -> ElementIterator:
        return _PrefetchIterator(self.input.iterator(env), self.buffer_size)


class _CachingIterator(ElementIterator):
    __slots__ = ("_input", "_cache", "_elements")

    def __init__(self, input: ElementIterator, cache: CacheValue):
        self._input, self._cache = input, cache
        self._elements: list[tuple] = []

    def get_next(self) -> tuple | None:
        element = self._input.get_next()
        if element is None:
            self._cache._complete(self._elements)
            return None
        self._elements.append(element)
        return element


class _CachedIterator(ElementIterator):
    __slots__ = ("_elements", "_i")

    def __init__(self, elements: list[tuple]):
        self._elements, self._i = elements, 0

    def get_next(self) -> tuple | None:
        if self._i >= len(self._elements):
            return None
        self._i += 1
        return self._elements[self._i - 1]


class CacheValue(DatasetValue):
    """`cache(filename)`: the first complete pass is kept (in memory, or in `filename` when given, which
    later pipelines and later programs read instead of the input)."""

    def __init__(self, input: DatasetValue, filename: str):
        self.input, self.filename = input, filename
        self._elements: list[tuple] | None = None

    def _complete(self, elements: list[tuple]) -> None:
        if self._elements is None:
            self._elements = elements
            if self.filename:
                _write_cache_file(self.filename, elements)

    def iterator(self, env: Env) -> ElementIterator:
        if self._elements is None and self.filename and os.path.exists(self.filename + ".index"):
            self._elements = _read_cache_file(self.filename)
        if self._elements is not None:
            return _CachedIterator(self._elements)
        return _CachingIterator(self.input.iterator(env), self)


def _write_cache_file(filename: str, elements: list[tuple]) -> None:
    """Elements as NumPy `.npz` columns (no pickling: strings are stored as fixed-width bytes); the
    index file is written last, and atomically, so a half-written cache is never read."""
    columns = {}
    for c, column in enumerate(zip(*elements)) if elements else []:
        stacked = [np.asarray(v) for v in column]
        for i, value in enumerate(stacked):
            if value.dtype == object:
                value = value.astype(bytes)
            columns[f"c{c}_{i}"] = value
    directory = os.path.dirname(os.path.abspath(filename))
    os.makedirs(directory, exist_ok=True)
    data_path = filename + ".data-00000-of-00001"
    with open(data_path + ".tmp", "wb") as f:
        np.savez(f, **columns)
        f.flush()
        os.fsync(f.fileno())
    os.replace(data_path + ".tmp", data_path)
    with open(filename + ".index.tmp", "w") as f:
        f.write(f"{len(elements)} {len(elements[0]) if elements else 0}\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(filename + ".index.tmp", filename + ".index")


def _read_cache_file(filename: str) -> list[tuple]:
    with open(filename + ".index") as f:
        count, width = (int(x) for x in f.read().split())
    with np.load(filename + ".data-00000-of-00001", allow_pickle=False) as data:
        columns = [[data[f"c{c}_{i}"] for i in range(count)] for c in range(width)]
    restored = [[v.astype(object) if v.dtype.kind == "S" else v for v in column] for column in columns]
    return [tuple(column[i] for column in restored) for i in range(count)]
