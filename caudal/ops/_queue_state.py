"""The run-time state of TF1's queues: one object per queue per Session (`caudal.ops.queue_ops` has the ops).

An element is a tuple of arrays, one per component. The four kinds differ in
their container: FIFO (and PaddingFIFO, which pads when it batches) keep a
deque; RandomShuffle a list it takes uniformly random elements from, keeping
`min_after_dequeue` elements back until the queue is closed; Priority a heap
kept with the C++ standard library's heap algorithm, so elements of equal
priority leave in TensorFlow's order.

Blocking follows TensorFlow: an enqueue adds elements while there is room and
waits for room for the rest; a dequeue takes what it may and waits for the
rest. Waiting is `ctx.wait` (caudal.runtime.resources): the Session's lock is
released meanwhile, so runs that enqueue and runs that dequeue interleave.
Closing lets pending enqueues finish first (`cancel_pending_enqueues`
cancels them instead); enqueues after a close raise CancelledError, and a
dequeue the closed queue can no longer serve raises OutOfRangeError with
TensorFlow's message.

Every change logs its undo with `ctx.on_rollback`, so a run that fails
leaves the queue as it was: elements it dequeued go back where they were,
elements it enqueued are taken out. The undo is exact when no other run
changed the queue since (the queue's `version` tells); otherwise dequeued
elements go back to the front (random queue: anywhere) and enqueued ones
still in the queue are removed.
"""
from __future__ import annotations

import collections
import itertools
from typing import Any

import numpy as np

from caudal import errors

__all__ = ["QueueState", "FIFOQueueState", "PaddingFIFOQueueState", "RandomShuffleQueueState",
           "PriorityQueueState", "new_resource_name", "shape_text", "tf_type_name"]

_resource_ids = itertools.count()

_ENQUEUE_CANCELLED = "Enqueue operation was cancelled"
_DEQUEUE_CANCELLED = "Dequeue operation was cancelled"

# TensorFlow's DataTypeString names where they differ from the Python ones.
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def new_resource_name(op_name: str) -> str:
    """TF's name for an unshared queue: `_<n>_<node name>`, with n counting resources made in this process."""
    return f"_{next(_resource_ids)}_{op_name}"


def tf_type_name(dtype: Any) -> str:
    return _TF_TYPE_NAMES.get(dtype.name, dtype.name)


def shape_text(dims: Any) -> str:
    """A shape as TF's errors print it: `[2,3]`, `[?,2]`, `[]`."""
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def _compatible(dims: tuple | None, shape: tuple) -> bool:
    if dims is None:
        return True
    return len(dims) == len(shape) and all(d is None or d == s for d, s in zip(dims, shape))


class QueueState:
    """One queue in one Session: its elements and whether it is closed.

    `dtypes` are the components' numpy dtypes, `shapes` their static shapes
    (tuples, None for a component without one; `None` for no shapes at all).
    """

    kind = "FIFOQueue"
    op_types = ("FIFOQueue", "FIFOQueueV2")

    def __init__(self, name: str, dtypes: list[np.dtype], tf_dtypes: list[Any], shapes: list[tuple] | None,
                 capacity: int):
        self.name = name
        self.dtypes = dtypes
        self.tf_dtypes = tf_dtypes
        self.shapes = shapes
        self.capacity = capacity if capacity >= 0 else 2**31 - 1
        self.closed = False
        self.closing = False  # a close waits for the pending enqueues
        self.cancellations = 0  # closes that cancelled pending enqueues
        self.pending_enqueues = 0
        self.waiting_enqueues: collections.deque = collections.deque()  # their turns, first come first served
        self.version = 0
        self.checked_ops: dict[Any, bool] = {}  # enqueue op -> its static types and shapes fit this queue

    # ------------------------------------------------ container (per kind)
    def __len__(self) -> int:
        raise NotImplementedError

    def available(self) -> int:
        """How many elements a dequeue may take now."""
        return len(self)

    def _push(self, elements: list[tuple]) -> Any:
        """Adds `elements` at the back; returns what an exact undo needs."""
        raise NotImplementedError

    def _take(self, count: int) -> tuple[list[tuple], Any]:
        """Removes `count` elements; returns them and what an exact undo needs."""
        raise NotImplementedError

    def _put_back(self, elements: list[tuple], record: Any, exact: bool) -> None:
        raise NotImplementedError

    def _remove(self, elements: list[tuple], record: Any, exact: bool) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ checks
    def check_element(self, element: tuple, op: Any) -> None:
        if self.shapes is None:
            return
        for i, (value, dims) in enumerate(zip(element, self.shapes)):
            if not _compatible(dims, np.shape(value)):
                raise errors.InvalidArgumentError(
                    None, op, f"Shape mismatch in tuple component {i}. Expected {shape_text(dims)}, got "
                              f"{shape_text(np.shape(value))}")

    def check_batch(self, components: tuple, op: Any) -> int:
        """The number of elements in an enqueue_many batch, after TF's checks."""
        first = np.shape(components[0])
        size = first[0] if first else None
        for i, value in enumerate(components):
            shape = np.shape(value)
            if self.shapes is not None:
                dims = self.shapes[i]
                expected = None if dims is None else (size,) + tuple(dims)
                if not shape or not _compatible(expected, shape):
                    shown = "?" if size is None else size
                    text = "[" + ",".join([str(shown)] + ["?" if d is None else str(d) for d in dims or ()]) + "]"
                    raise errors.InvalidArgumentError(
                        None, op, f"Shape mismatch in tuple component {i}. Expected {text}, got {shape_text(shape)}")
            elif not shape or shape[0] != size:
                raise errors.InvalidArgumentError(
                    None, op, f"All input tensors must have the same size in the 0th dimension. Component {i} has "
                              f"{shape[0] if shape else 0}, and should have {size}")
        return size

    def check_batchable(self, op: Any) -> None:
        if self.shapes is None or any(dims is None or None in dims for dims in self.shapes):
            raise errors.InvalidArgumentError(
                None, op, f"{self.kind}'s DequeueMany and DequeueUpTo require the components to have specified "
                          "shapes.")

    # ---------------------------------------------------------- blocking
    def _closed_error(self, op: Any) -> errors.OpError:
        return errors.CancelledError(None, op, f"{self.kind} '{self.name}' is closed.")

    def enqueue(self, ctx: Any, elements: list[tuple], op: Any) -> None:
        """Adds `elements` in order, waiting for room; enqueues that wait are served in the order
        they came, as TF's queues serve them. See the module docstring."""
        if self.closed or self.closing:
            raise self._closed_error(op)
        if not self.waiting_enqueues and len(elements) <= self.capacity - len(self):  # no wait: the common case
            record = self._push(elements)
            self.version += 1
            ctx.on_rollback(self._undo_push(ctx, elements, record, self.version))
            ctx.notify()
            return
        cancellations = self.cancellations
        remaining = elements
        turn = object()
        self.waiting_enqueues.append(turn)
        self.pending_enqueues += 1
        try:
            while remaining:
                room = self.capacity - len(self)
                if room > 0 and self.waiting_enqueues[0] is turn:
                    added, remaining = remaining[:room], remaining[room:]
                    record = self._push(added)
                    self.version += 1
                    ctx.on_rollback(self._undo_push(ctx, added, record, self.version))
                    ctx.notify()
                    continue
                ctx.wait(lambda: self.cancellations != cancellations
                         or (self.waiting_enqueues[0] is turn and len(self) < self.capacity), _ENQUEUE_CANCELLED)
                if self.cancellations != cancellations:
                    raise errors.CancelledError(None, op, _ENQUEUE_CANCELLED)
        finally:
            self.waiting_enqueues.remove(turn)
            self.pending_enqueues -= 1
            ctx.notify()

    def dequeue(self, ctx: Any, count: int, op: Any, up_to: bool = False) -> list[tuple]:
        """Takes `count` elements (fewer from a closed queue with `up_to`), waiting for them."""
        taken: list[tuple] = []
        while len(taken) < count:
            wanted = count - len(taken)
            if self.closed and len(self) < wanted:
                if up_to and (taken or len(self)):
                    if len(self):
                        self._take_now(ctx, len(self), taken)
                    break
                raise errors.OutOfRangeError(
                    None, op, f"{self.kind} '{self.name}' is closed and has insufficient elements (requested "
                              f"{wanted}, current size {len(self)})")
            available = self.available()
            if available >= wanted or (available > 0 and available >= self._most_available()):
                self._take_now(ctx, min(available, wanted), taken)
                continue
            # Wake when all that is wanted is there, or as much as the queue can ever offer (a
            # batch larger than the queue is taken as it arrives): not once per element.
            enough = min(wanted, self._most_available())
            ctx.wait(lambda enough=enough: self.closed or self.available() >= enough, _DEQUEUE_CANCELLED)
        return taken

    def _most_available(self) -> int:
        """The most elements a dequeue of an open queue can find at once."""
        return max(self.capacity - getattr(self, "min_after_dequeue", 0), 1)

    def _take_now(self, ctx: Any, count: int, taken: list[tuple]) -> None:
        elements, record = self._take(count)
        taken.extend(elements)
        self.version += 1
        ctx.on_rollback(self._undo_take(ctx, elements, record, self.version))
        ctx.notify()

    def close(self, ctx: Any, cancel_pending_enqueues: bool, op: Any) -> None:
        if self.closed or self.closing:
            raise errors.CancelledError(None, op, f"Queue '{self.name}' is already closed.")
        if cancel_pending_enqueues and self.pending_enqueues:
            self.cancellations += 1
            ctx.on_rollback(self._undo_cancel)
        self.closing = True
        ctx.on_rollback(self._undo_closing)
        ctx.notify()
        ctx.wait(lambda: self.pending_enqueues == 0, f"Queue '{self.name}' close was cancelled")
        self.closed = True
        self.closing = False
        ctx.notify()

    # -------------------------------------------------------------- undo
    def _undo_push(self, ctx: Any, added: list[tuple], record: Any, version: int) -> Any:
        def undo() -> None:
            exact = self.version == version
            self._remove(added, record, exact)
            self.version = version - 1 if exact else self.version + 1
            ctx.notify()
        return undo

    def _undo_take(self, ctx: Any, taken: list[tuple], record: Any, version: int) -> Any:
        def undo() -> None:
            exact = self.version == version
            self._put_back(taken, record, exact)
            self.version = version - 1 if exact else self.version + 1
            ctx.notify()
        return undo

    def _undo_cancel(self) -> None:
        self.cancellations -= 1

    def _undo_closing(self) -> None:
        self.closing = False
        self.closed = False


class FIFOQueueState(QueueState):
    """First in, first out."""

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.items: collections.deque = collections.deque()

    def __len__(self) -> int:
        return len(self.items)

    def _push(self, elements: list[tuple]) -> Any:
        self.items.extend(elements)

    def _take(self, count: int) -> tuple[list[tuple], Any]:
        popleft = self.items.popleft
        return [popleft() for _ in range(count)], None

    def _put_back(self, elements: list[tuple], record: Any, exact: bool) -> None:
        self.items.extendleft(reversed(elements))

    def _remove(self, elements: list[tuple], record: Any, exact: bool) -> None:
        if exact:
            for _ in elements:
                self.items.pop()
            return
        gone = {id(e) for e in elements}
        self.items = collections.deque(e for e in self.items if id(e) not in gone)


class PaddingFIFOQueueState(FIFOQueueState):
    """A FIFO queue whose components may have unknown dimensions; batches are padded (`pad_batch`)."""

    kind = "PaddingFIFOQueue"
    op_types = ("PaddingFIFOQueue", "PaddingFIFOQueueV2")

    def check_batchable(self, op: Any) -> None:
        return None


class RandomShuffleQueueState(QueueState):
    """Elements leave in a uniformly random order; `min_after_dequeue` stay until the queue is closed."""

    kind = "RandomShuffleQueue"
    op_types = ("RandomShuffleQueue", "RandomShuffleQueueV2")

    def __init__(self, *args: Any, min_after_dequeue: int, seed: int, seed2: int):
        super().__init__(*args)
        self.items: list[tuple] = []
        self.min_after_dequeue = min_after_dequeue
        self.seed = (seed, seed2)
        # TF: seed == seed2 == 0 means a nondeterministic order.
        self.random = np.random.default_rng([seed, seed2] if seed or seed2 else None)

    def __len__(self) -> int:
        return len(self.items)

    def available(self) -> int:
        return len(self.items) - (0 if self.closed else self.min_after_dequeue)

    def _push(self, elements: list[tuple]) -> Any:
        self.items.extend(elements)

    def _take(self, count: int) -> tuple[list[tuple], Any]:
        items = self.items
        state = self.random.bit_generator.state
        size = len(items)
        # One draw per element, uniform over the elements left at that point.
        picks = (self.random.random(count) * np.arange(size, size - count, -1)).astype(np.int64).tolist()
        taken = []
        for index in picks:
            taken.append(items[index])
            last = items.pop()
            if index < len(items):
                items[index] = last
        return taken, (picks, state)

    def _put_back(self, elements: list[tuple], record: Any, exact: bool) -> None:
        items = self.items
        if not exact:
            items.extend(elements)
            return
        picks, state = record
        for index, element in zip(reversed(picks), reversed(elements)):
            if index < len(items):
                items.append(items[index])
                items[index] = element
            else:
                items.append(element)
        self.random.bit_generator.state = state

    def _remove(self, elements: list[tuple], record: Any, exact: bool) -> None:
        if exact:
            del self.items[len(self.items) - len(elements):]
            return
        gone = {id(e) for e in elements}
        self.items = [e for e in self.items if id(e) not in gone]


class PriorityQueueState(QueueState):
    """The element of lowest priority (component 0, an int64 scalar) leaves first."""

    kind = "PriorityQueue"
    op_types = ("PriorityQueue", "PriorityQueueV2")

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.heap: list[tuple[int, tuple]] = []

    def __len__(self) -> int:
        return len(self.heap)

    def check_element(self, element: tuple, op: Any) -> None:
        if np.shape(element[0]) != ():
            raise errors.InvalidArgumentError(
                None, op, f"Expected the priority element to be a scalar, but received shape: "
                          f"{shape_text(np.shape(element[0]))}")
        super().check_element(element, op)

    def _push(self, elements: list[tuple]) -> Any:
        before = list(self.heap)
        for element in elements:
            self.heap.append((int(element[0]), element))
            _push_heap(self.heap)
        return before

    def _take(self, count: int) -> tuple[list[tuple], Any]:
        before = list(self.heap)
        taken = []
        for _ in range(count):
            _pop_heap(self.heap)
            taken.append(self.heap.pop()[1])
        return taken, before

    def _put_back(self, elements: list[tuple], record: Any, exact: bool) -> None:
        if exact:
            self.heap[:] = record
        else:
            self._push(elements)

    def _remove(self, elements: list[tuple], record: Any, exact: bool) -> None:
        if exact:
            self.heap[:] = record
            return
        gone = {id(e) for e in elements}
        kept = [e for _, e in self.heap if id(e) not in gone]
        self.heap = []
        self._push(kept)


# The heap of std::priority_queue with TF's comparison (a greater priority sorts first in the
# max-heap, so the least priority is at the top): libstdc++'s push_heap and pop_heap.
def _before(a: tuple, b: tuple) -> bool:
    return a[0] > b[0]


def _sift_up(heap: list, hole: int, top: int, value: tuple) -> None:
    parent = (hole - 1) // 2
    while hole > top and _before(heap[parent], value):
        heap[hole] = heap[parent]
        hole = parent
        parent = (hole - 1) // 2
    heap[hole] = value


def _push_heap(heap: list) -> None:
    _sift_up(heap, len(heap) - 1, 0, heap[-1])


def _pop_heap(heap: list) -> None:
    """Moves the top to the end; the rest stays a heap."""
    last = len(heap) - 1
    value = heap[last]
    heap[last] = heap[0]
    length, hole, child = last, 0, 0
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if _before(heap[child], heap[child - 1]):
            child -= 1
        heap[hole] = heap[child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        heap[hole] = heap[child - 1]
        hole = child - 1
    _sift_up(heap, hole, 0, value)
