"""TF1's queues: `tf.FIFOQueue`, `tf.PaddingFIFOQueue`, `tf.RandomShuffleQueue`, `tf.PriorityQueue`
and `tf.QueueBase`, with TensorFlow's op types (`FIFOQueueV2`, ..., `QueueEnqueueV2`,
`QueueDequeueManyV2`, `QueueCloseV2`, `QueueSizeV2`, `QueueIsClosedV2`), node names and static shapes.

A queue op's output is a `resource` handle whose value is the queue's state in
the running Session (`caudal.ops._queue_state`), made the first time a run
needs it and kept at once (not at the end of the run), so runs that wait on a
queue and runs that feed it see the same one. Queues with the same
`shared_name` are one queue in a Session (on a server task, one queue for every client session
there, as TF shares them); otherwise each queue node has its own.

How runs share queues without deadlocks: every queue op is stateful, so its
run holds the Session's lock; a run that must wait (dequeue from an empty
queue, enqueue into a full one, close with pending enqueues) waits through
`ctx.wait`, which releases that lock until the queue changes, so the run
that would wake it can take the lock (see caudal.runtime.resources). A wait
ends with CancelledError when the Session closes and DeadlineExceededError
after `RunOptions(timeout_in_ms=...)`. Unlike TensorFlow, a run that fails
leaves its queues as they were (elements it dequeued are put back, elements
it enqueued taken out), as every other failed run in caudal does.
"""
from __future__ import annotations

import functools
import hashlib
from typing import Any

import numpy as np

from caudal import errors
from caudal.framework import dtypes as dtypes_lib
from caudal.framework import random_seed
from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, name_scope
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import Dimension, TensorShape, as_shape, unknown_shape
from caudal.ops import _queue_state as state

__all__ = ["QueueBase", "FIFOQueue", "PaddingFIFOQueue", "RandomShuffleQueue", "PriorityQueue", "QUEUE_OP_TYPES",
           "queue_of"]

QUEUE_OP_TYPES = ["FIFOQueueV2", "PaddingFIFOQueueV2", "RandomShuffleQueueV2", "PriorityQueueV2", "QueueEnqueueV2",
                  "QueueEnqueueManyV2", "QueueDequeueV2", "QueueDequeueManyV2", "QueueDequeueUpToV2", "QueueCloseV2",
                  "QueueSizeV2", "QueueIsClosedV2"]

_STATE_CLASSES = {
    "FIFOQueueV2": state.FIFOQueueState,
    "PaddingFIFOQueueV2": state.PaddingFIFOQueueState,
    "RandomShuffleQueueV2": state.RandomShuffleQueueState,
    "PriorityQueueV2": state.PriorityQueueState,
}


# ------------------------------------------------------------------ the queue ops
def _queue_infer(ctx: InferContext) -> list:
    attrs = ctx.attrs
    attrs.setdefault("shapes", [])
    attrs.setdefault("capacity", -1)
    attrs.setdefault("container", "")
    attrs.setdefault("shared_name", "")
    if ctx.type == "RandomShuffleQueueV2":
        attrs.setdefault("min_after_dequeue", 0)
        attrs.setdefault("seed", 0)
        attrs.setdefault("seed2", 0)
    return [(dtypes_lib.resource, TensorShape([]))]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _queue_bind(op: Operation) -> dict:
    attrs = op._attrs
    shared = _text(attrs.get("shared_name") or "")
    types = [dtypes_lib.as_dtype(t) for t in attrs["component_types"]]
    shapes = [as_shape(s) for s in attrs.get("shapes") or []]
    if op.type == "PriorityQueueV2":
        types = [dtypes_lib.int64] + types
        shapes = [TensorShape([])] + shapes if shapes else shapes
    dims = [tuple(s.as_list()) if s.ndims is not None else None for s in shapes] or None
    return {"key": ("queue", shared or op.name), "shared": shared, "types": types, "dims": dims}


def _queue_kernel(ctx: Any, *, key: tuple, shared: str, types: list, dims: Any, op: Any) -> Any:
    resources = ctx.store.shared_resources() if shared else ctx.store.resources
    queue = resources.get(key)
    if queue is None:
        # Kept at once, not at the end of this run: other runs may wait on it meanwhile. A queue
        # made by a run that fails is empty, as if it had not been made.
        queue = resources[key] = _make_queue(op, shared, types, dims)
    elif shared:
        _check_shared(queue, op, types, dims)
    return queue


def _make_queue(op: Any, shared: str, types: list, dims: Any) -> state.QueueState:
    attrs = op._attrs
    name = shared or state.new_resource_name(op.name)
    args = (name, [np.dtype(object) if t is dtypes_lib.string else np.dtype(t.as_numpy_dtype) for t in types], types,
            dims, int(attrs.get("capacity", -1)))
    if op.type == "RandomShuffleQueueV2":
        return state.RandomShuffleQueueState(*args, min_after_dequeue=int(attrs["min_after_dequeue"]),
                                             seed=int(attrs["seed"]), seed2=int(attrs["seed2"]))
    return _STATE_CLASSES[op.type](*args)


def _shapes_text(dims: Any) -> str:
    return "[" + ", ".join(state.shape_text(d) for d in dims or []) + "]"


def _check_shared(queue: state.QueueState, op: Any, types: list, dims: Any) -> None:
    """TF's checks that a queue node matches the shared queue it names."""
    if op.type not in queue.op_types:
        raise errors.InvalidArgumentError(None, op, f"Expected {queue.kind}, found {op.type}")
    if [t.base_dtype for t in types] != [t.base_dtype for t in queue.tf_dtypes]:
        have = ", ".join(state.tf_type_name(t) for t in queue.tf_dtypes)
        want = ", ".join(state.tf_type_name(t) for t in types)
        raise errors.InvalidArgumentError(None, op, f"Shared queue '{queue.name}' has component types {have} but "
                                                    f"requested component types were {want}")
    capacity = int(op._attrs.get("capacity", -1))
    if (capacity if capacity >= 0 else 2**31 - 1) != queue.capacity:
        raise errors.InvalidArgumentError(None, op, f"Shared queue '{queue.name}' has capacity {queue.capacity} but "
                                                    f"requested capacity was {capacity}")
    if (dims or None) != (queue.shapes or None):
        raise errors.InvalidArgumentError(None, op, f"Shared queue '{queue.name}' has component shapes "
                                                    f"{_shapes_text(queue.shapes)} but requested component shapes "
                                                    f"were {_shapes_text(dims)}")


for _type in _STATE_CLASSES:
    register_op(_type, infer=_queue_infer, kernel=_queue_kernel, bind=_queue_bind, grad=NOT_DIFFERENTIABLE,
                stateful=True)


def queue_of(handle: Any, op: Any) -> state.QueueState:
    if isinstance(handle, np.ndarray) and handle.dtype == object and handle.ndim == 0:
        handle = handle[()]  # a handle picked from a stack of handles (QueueBase.from_list)
    if not isinstance(handle, state.QueueState):
        raise errors.InvalidArgumentError(None, op, "Input 'handle' is not a queue handle")
    return handle


def _check_handle(ctx: InferContext) -> None:
    if ctx.dtype(0) is not dtypes_lib.resource:
        raise TypeError(f"Input 'handle' of '{ctx.type}' Op has type {ctx.dtype(0).name} that does not match "
                        "expected type of resource.")


def _handle_shapes(handle: Tensor) -> list[TensorShape] | None:
    """The component shapes of the queue behind `handle`, when its node is a queue op."""
    op = handle.op
    if op.type not in _STATE_CLASSES:
        return None
    shapes = [as_shape(s) for s in op._attrs.get("shapes") or []]
    if not shapes:
        return None
    return [TensorShape([])] + shapes if op.type == "PriorityQueueV2" else shapes


# ------------------------------------------------------------------ enqueue
def _enqueue_infer(ctx: InferContext) -> list:
    _check_handle(ctx)
    ctx.attrs.setdefault("timeout_ms", -1)
    ctx.attrs["Tcomponents"] = [ctx.dtype(i) for i in range(1, len(ctx.inputs))]
    return []


def _check_types(queue: state.QueueState, components: tuple, op: Any) -> None:
    if len(components) != len(queue.dtypes):
        raise errors.InvalidArgumentError(
            None, op, f"Expected {len(queue.dtypes)} components in tuple but got {len(components)}")
    for i, (value, tf_dtype) in enumerate(zip(components, queue.tf_dtypes)):
        expected, got = queue.dtypes[i], np.asarray(value).dtype
        if got != expected and not (expected.kind == "O" and got.kind in "OSU"):
            raise errors.InvalidArgumentError(None, op, f"Type mismatch in tuple component {i}. Expected "
                                                        f"{state.tf_type_name(tf_dtype)}, got "
                                                        f"{got}")


def _statically_checked(queue: state.QueueState, op: Any) -> bool:
    """Whether every value `op` enqueues has `queue`'s dtypes by the static dtypes of its inputs and its
    shapes by their fully known static shapes, so that the run-time check is only that each value's
    shape is the one declared (`set_shape` promises a shape that the kernel may not keep, and TF's
    queue checks it): decided once per queue and op."""
    known = queue.checked_ops.get(op)
    if known is None:
        values = op._inputs[1:]
        known = (queue.shapes is not None and len(values) == len(queue.dtypes)
                 and [t.dtype.base_dtype for t in values] == [t.base_dtype for t in queue.tf_dtypes]
                 and all(t.shape.is_fully_defined() and tuple(t.shape.as_list()) == dims
                         for t, dims in zip(values, queue.shapes)))
        queue.checked_ops[op] = known
    return known


def _enqueue_kernel(ctx: Any, handle: Any, *components: Any, op: Any) -> None:
    queue = queue_of(handle, op)
    element = tuple([np.asarray(c) for c in components])
    if ctx.feeds:
        element = tuple([ctx.keep(c) for c in element])
    if not _statically_checked(queue, op) or any(c.shape != dims for c, dims in zip(element, queue.shapes)):
        _check_types(queue, element, op)
        queue.check_element(element, op)
    queue.enqueue(ctx, [element], op)


def _enqueue_many_kernel(ctx: Any, handle: Any, *components: Any, op: Any) -> None:
    queue = queue_of(handle, op)
    batch = tuple([ctx.keep(np.asarray(c)) for c in components])
    _check_types(queue, batch, op)
    size = queue.check_batch(batch, op)
    elements = list(zip(*[[c[j, ...] for j in range(size)] for c in batch])) if batch else []
    if elements and isinstance(queue, state.PriorityQueueState):
        for element in elements:
            queue.check_element(element, op)
    queue.enqueue(ctx, elements, op)


register_op("QueueEnqueueV2", infer=_enqueue_infer, kernel=_enqueue_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("QueueEnqueueManyV2", infer=_enqueue_infer, kernel=_enqueue_many_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)


# ------------------------------------------------------------------ dequeue
def _dequeue_infer(ctx: InferContext) -> list:
    _check_handle(ctx)
    ctx.attrs.setdefault("timeout_ms", -1)
    types = [dtypes_lib.as_dtype(t) for t in ctx.attrs["component_types"]]
    shapes = _handle_shapes(ctx.inputs[0]) or [unknown_shape() for _ in types]
    if ctx.type == "QueueDequeueV2":
        return list(zip(types, shapes))
    if ctx.dtype(1) is not dtypes_lib.int32:
        raise TypeError(f"Input 'n' of '{ctx.type}' Op has type {ctx.dtype(1).name} that does not match expected "
                        "type of int32.")
    n = ctx.value(1)
    if n is not None and int(n) < 0:
        raise ValueError(f"Input 'n' must be >= 0, but is {int(n)} for '{ctx.name}'")
    batch = Dimension(int(n) if n is not None and ctx.type == "QueueDequeueManyV2" else None)
    return [(t, TensorShape([batch]).concatenate(s) if s.ndims is not None else unknown_shape())
            for t, s in zip(types, shapes)]


def _zeros(dtype: np.dtype, shape: tuple) -> np.ndarray:
    if dtype.kind == "O":
        return np.full(shape, b"", dtype=object)
    return np.zeros(shape, dtype)


def _batch(queue: state.QueueState, elements: list[tuple]) -> tuple:
    """Stacks elements into one array per component; a padding queue pads each to the largest shape."""
    out = []
    padding = isinstance(queue, state.PaddingFIFOQueueState)
    for i, dtype in enumerate(queue.dtypes):
        values = [e[i] for e in elements]
        if not values:
            dims = queue.shapes[i] if queue.shapes else ()
            out.append(np.empty((0,) + tuple(d or 0 for d in dims or ()), dtype))
        elif padding and any(np.shape(v) != np.shape(values[0]) for v in values):
            shape = tuple(max(sizes) for sizes in zip(*(np.shape(v) for v in values)))
            batch = _zeros(dtype, (len(values),) + shape)
            for j, v in enumerate(values):
                batch[(j,) + tuple(slice(0, s) for s in np.shape(v))] = v
            out.append(batch)
        else:
            out.append(np.stack(values).astype(dtype, copy=False))
    return tuple(out)


def _single(values: tuple) -> Any:
    return values[0] if len(values) == 1 else values


def _dequeue_kernel(ctx: Any, handle: Any, *, op: Any) -> Any:
    queue = queue_of(handle, op)
    element = queue.dequeue(ctx, 1, op)[0]
    return _single(element)


def _dequeue_many_kernel(ctx: Any, handle: Any, n: Any, *, op: Any) -> Any:
    queue = queue_of(handle, op)
    count = int(n)
    if count < 0:
        raise errors.InvalidArgumentError(None, op, f"DequeueMany requested {count} < 0 elements")
    queue.check_batchable(op)
    return _single(_batch(queue, queue.dequeue(ctx, count, op, up_to=op.type == "QueueDequeueUpToV2")))


register_op("QueueDequeueV2", infer=_dequeue_infer, kernel=_dequeue_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("QueueDequeueManyV2", infer=_dequeue_infer, kernel=_dequeue_many_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)
register_op("QueueDequeueUpToV2", infer=_dequeue_infer, kernel=_dequeue_many_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)


# ------------------------------------------------------------------ close, size, is_closed
def _close_infer(ctx: InferContext) -> list:
    _check_handle(ctx)
    ctx.attrs.setdefault("cancel_pending_enqueues", False)
    return []


def _close_kernel(ctx: Any, handle: Any, *, cancel_pending_enqueues: bool, op: Any) -> None:
    queue_of(handle, op).close(ctx, bool(cancel_pending_enqueues), op)


def _size_kernel(ctx: Any, handle: Any, *, op: Any) -> Any:
    return np.asarray(len(queue_of(handle, op)), np.int32)


def _is_closed_kernel(ctx: Any, handle: Any, *, op: Any) -> Any:
    return np.asarray(queue_of(handle, op).closed)


def _scalar_infer(dtype: dtypes_lib.DType) -> Any:
    def infer(ctx: InferContext) -> list:
        _check_handle(ctx)
        return [(dtype, TensorShape([]))]
    return infer


register_op("QueueCloseV2", infer=_close_infer, kernel=_close_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("QueueSizeV2", infer=_scalar_infer(dtypes_lib.int32), kernel=_size_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)
register_op("QueueIsClosedV2", infer=_scalar_infer(dtypes_lib.bool_), kernel=_is_closed_kernel,
            grad=NOT_DIFFERENTIABLE, stateful=True)


# ------------------------------------------------------------------ the Python classes
def _as_type_list(dtypes: Any) -> list[dtypes_lib.DType]:
    if not isinstance(dtypes, (list, tuple)):
        dtypes = [dtypes]
    return [dtypes_lib.as_dtype(t) for t in dtypes]


def _as_shape_list(shapes: Any, dtypes: list, unknown_dim_allowed: bool = False,
                   unknown_rank_allowed: bool = False) -> list[TensorShape] | None:
    """TF's reading of a queue's `shapes`: None, one shape, or one per component."""
    del dtypes
    if unknown_dim_allowed and (not isinstance(shapes, (list, tuple)) or not shapes
                                or any(s is None or isinstance(s, int) for s in shapes)):
        raise ValueError("When providing partial shapes, a list of shapes must be provided.")
    if shapes is None:
        return None
    if isinstance(shapes, TensorShape):
        shapes = [shapes]
    if not isinstance(shapes, (tuple, list)):
        raise TypeError(f"Shapes must be a TensorShape or a list or tuple of TensorShapes, got {type(shapes)} "
                        "instead.")
    if all(s is None or isinstance(s, int) for s in shapes):
        shapes = [shapes]  # a single shape
    shapes = [as_shape(s) for s in shapes]
    if not unknown_dim_allowed and any(not s.is_fully_defined() for s in shapes):
        raise ValueError(f"All shapes must be fully defined: {shapes}")
    if not unknown_rank_allowed and any(s.ndims is None for s in shapes):
        raise ValueError(f"All shapes must have a defined rank: {shapes}")
    return shapes


def _as_name_list(names: Any, dtypes: list) -> list[str] | None:
    if names is None:
        return None
    if not isinstance(names, (list, tuple)):
        names = [names]
    if len(names) != len(dtypes):
        raise ValueError(f"List of names must have the same length as the list of dtypes, received "
                         f"len(names)={len(names)},len(dtypes)={len(dtypes)}")
    return list(names)


def _common_shape(a: TensorShape, b: TensorShape) -> TensorShape:
    """The most specific shape both fit: their common dimensions, unknown where they differ."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return unknown_shape()
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


class QueueBase:
    """`tf.QueueBase(dtypes, shapes, names, queue_ref)`: the methods every queue has.

    Each method adds one op named after the queue (`<queue>_enqueue`,
    `<queue>_DequeueMany`, ...) unless `name` is given, as TF1 does.
    """

    def __init__(self, dtypes: Any, shapes: Any, names: Any, queue_ref: Tensor):
        self._dtypes = dtypes
        if shapes is not None:
            if len(shapes) != len(dtypes):
                raise ValueError(f"Queue shapes must have the same length as dtypes, received "
                                 f"len(shapes)={len(shapes)}, len(dtypes)={len(dtypes)}")
            self._shapes = [as_shape(s) for s in shapes]
        else:
            self._shapes = [unknown_shape() for _ in dtypes]
        if names is not None:
            if len(names) != len(dtypes):
                raise ValueError(f"Queue names must have the same length as dtypes, received "
                                 f"len(names)={len(names)},len {len(dtypes)}")
            self._names = list(names)
        else:
            self._names = None
        self._queue_ref = queue_ref
        self._name = queue_ref.op.name.split("/")[-1]

    @staticmethod
    def from_list(index: Any, queues: list[QueueBase]) -> QueueBase:
        """A queue chosen at run time by `index` among `queues` (same dtypes and names)."""
        if not queues or not isinstance(queues, list) or not all(isinstance(q, QueueBase) for q in queues):
            raise TypeError("A list of queues expected")
        dtypes = queues[0].dtypes
        if not all(dtypes == q.dtypes for q in queues[1:]):
            raise TypeError("Queues do not have matching component dtypes.")
        names = queues[0].names
        if not all(names == q.names for q in queues[1:]):
            raise TypeError("Queues do not have matching component names.")
        shapes = [functools.reduce(_common_shape, column) for column in zip(*[q.shapes for q in queues])]
        from caudal.ops.array_ops import stack
        from caudal.ops.gather_ops import gather

        selected = gather(stack([q.queue_ref for q in queues]), index)
        return QueueBase(dtypes=dtypes, shapes=shapes, names=names, queue_ref=selected)

    @property
    def queue_ref(self) -> Tensor:
        return self._queue_ref

    @property
    def name(self) -> str:
        return self._queue_ref.op.name

    @property
    def dtypes(self) -> list[dtypes_lib.DType]:
        return self._dtypes

    @property
    def shapes(self) -> list[TensorShape]:
        return self._shapes

    @property
    def names(self) -> list[str] | None:
        return self._names

    # ------------------------------------------------------------ building
    def _check_enqueue_dtypes(self, vals: Any) -> list[Tensor]:
        if isinstance(vals, dict):
            if not self._names:
                raise ValueError("Queue must have names to enqueue a dictionary")
            if sorted(self._names, key=str) != sorted(vals.keys(), key=str):
                raise ValueError(f"Keys in dictionary to enqueue do not match names of Queue.  Dictionary: "
                                 f"{sorted(vals.keys())},Queue: {sorted(self._names)}")
            vals = [vals[k] for k in self._names]
        else:
            if self._names:
                raise ValueError("You must enqueue a dictionary in a Queue with names")
            if not isinstance(vals, (list, tuple)):
                vals = [vals]
        return [convert_to_tensor(v, dtype=dtype, name=f"component_{i}")
                for i, (v, dtype) in enumerate(zip(vals, self._dtypes))]

    def _scope_values(self, vals: Any) -> list:
        values = list(vals.values()) if isinstance(vals, dict) else list(vals) if isinstance(vals, (list, tuple)) \
            else [vals]
        return [self._queue_ref] + values

    def _dequeue_result(self, outputs: list[Tensor]) -> Any:
        if self._names:
            return dict(zip(self._names, outputs))
        return outputs[0] if len(outputs) == 1 else outputs

    def enqueue(self, vals: Any, name: str | None = None) -> Operation:
        """An op adding one element (a tensor, a list or tuple of them, or a dict by names); it waits for room."""
        with name_scope(name, f"{self._name}_enqueue", self._scope_values(vals)) as scope:
            tensors = self._check_enqueue_dtypes(vals)
            for value, shape in zip(tensors, self._shapes):
                value.shape.assert_is_compatible_with(shape)
            return self._queue_ref.graph.create_op("QueueEnqueueV2", [self._queue_ref] + tensors,
                                                   {"timeout_ms": -1}, name=scope)

    def enqueue_many(self, vals: Any, name: str | None = None) -> Operation:
        """An op adding the slices along dimension 0 of each component, as many elements."""
        with name_scope(name, f"{self._name}_EnqueueMany", self._scope_values(vals)) as scope:
            tensors = self._check_enqueue_dtypes(vals)
            batch_dim = tensors[0].shape.with_rank_at_least(1)[0]
            for value, shape in zip(tensors, self._shapes):
                value_shape = value.shape.with_rank_at_least(1)
                batch_dim = batch_dim.merge_with(value_shape[0])
                value.shape[1:].assert_is_compatible_with(shape)
            return self._queue_ref.graph.create_op("QueueEnqueueManyV2", [self._queue_ref] + tensors,
                                                   {"timeout_ms": -1}, name=scope)

    def _dequeue_op(self, op_type: str, name: str, n: Any = None) -> Operation:
        attrs = {"component_types": list(self._dtypes), "timeout_ms": -1}
        graph = self._queue_ref.graph
        if n is None:
            op = graph.create_op(op_type, [self._queue_ref], attrs, name=name)
        else:
            with name_scope(name, None, [self._queue_ref]) as scope:
                n = convert_to_tensor(n, dtype=dtypes_lib.int32, name="n")
                op = graph.create_op(op_type, [self._queue_ref, n], attrs, name=scope)
        return op

    def dequeue(self, name: str | None = None) -> Any:
        """One element; the op waits for one, and raises OutOfRangeError once the queue is closed and empty."""
        op = self._dequeue_op("QueueDequeueV2", name or f"{self._name}_Dequeue")
        for output, shape in zip(op.outputs, self._shapes):
            output.set_shape(shape)
        return self._dequeue_result(list(op.outputs))

    def dequeue_many(self, n: Any, name: str | None = None) -> Any:
        """`n` elements stacked along a new dimension 0; waits for `n`."""
        op = self._dequeue_op("QueueDequeueManyV2", name or f"{self._name}_DequeueMany", n)
        batch = constant_value(op.inputs[1])
        batch_dim = Dimension(None if batch is None else int(batch))
        for output, shape in zip(op.outputs, self._shapes):
            output.set_shape(TensorShape([batch_dim]).concatenate(shape))
        return self._dequeue_result(list(op.outputs))

    def dequeue_up_to(self, n: Any, name: str | None = None) -> Any:
        """Like dequeue_many, but a closed queue gives what it has left (at least one element)."""
        op = self._dequeue_op("QueueDequeueUpToV2", name or f"{self._name}_DequeueUpTo", n)
        for output, shape in zip(op.outputs, self._shapes):
            output.set_shape(TensorShape([None]).concatenate(shape))
        return self._dequeue_result(list(op.outputs))

    def close(self, cancel_pending_enqueues: bool = False, name: str | None = None) -> Operation:
        """An op closing the queue: no more enqueues; pending ones finish unless `cancel_pending_enqueues`."""
        return self._queue_ref.graph.create_op(
            "QueueCloseV2", [self._queue_ref], {"cancel_pending_enqueues": bool(cancel_pending_enqueues)},
            name=name or f"{self._name}_Close")

    def is_closed(self, name: str | None = None) -> Tensor:
        return self._queue_ref.graph.create_op("QueueIsClosedV2", [self._queue_ref], {},
                                               name=name or f"{self._name}_Is_Closed").outputs[0]

    def size(self, name: str | None = None) -> Tensor:
        """The number of elements in the queue (int32)."""
        return self._queue_ref.graph.create_op("QueueSizeV2", [self._queue_ref], {},
                                               name=name or f"{self._name}_Size").outputs[0]


def _queue_ref(op_type: str, attrs: dict, name: str) -> Tensor:
    from caudal.framework.graph import get_default_graph

    return get_default_graph().create_op(op_type, [], attrs, name=name).outputs[0]


def _base_attrs(dtypes: list, shapes: list | None, capacity: int, shared_name: str | None) -> dict:
    return {"component_types": list(dtypes), "shapes": list(shapes or []), "capacity": int(capacity),
            "container": "", "shared_name": shared_name or ""}


class FIFOQueue(QueueBase):
    """`tf.FIFOQueue(capacity, dtypes, shapes=None, names=None, shared_name=None, name="fifo_queue")`."""

    def __init__(self, capacity: int, dtypes: Any, shapes: Any = None, names: Any = None,
                 shared_name: str | None = None, name: str = "fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = _as_name_list(names, dtypes)
        ref = _queue_ref("FIFOQueueV2", _base_attrs(dtypes, shapes, capacity, shared_name), name)
        super().__init__(dtypes, shapes, names, ref)


class PaddingFIFOQueue(QueueBase):
    """`tf.PaddingFIFOQueue(capacity, dtypes, shapes, ...)`: shapes may hold unknown dimensions;
    dequeue_many pads each component to the largest shape in the batch (zeros, empty strings)."""

    def __init__(self, capacity: int, dtypes: Any, shapes: Any, names: Any = None, shared_name: str | None = None,
                 name: str = "padding_fifo_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes, unknown_dim_allowed=True)
        names = _as_name_list(names, dtypes)
        if len(dtypes) != len(shapes):
            raise ValueError(f"Shapes must be provided for all components, but received {len(dtypes)} dtypes and "
                             f"{len(shapes)} shapes.")
        ref = _queue_ref("PaddingFIFOQueueV2", _base_attrs(dtypes, shapes, capacity, shared_name), name)
        super().__init__(dtypes, shapes, names, ref)


class RandomShuffleQueue(QueueBase):
    """`tf.RandomShuffleQueue(capacity, min_after_dequeue, dtypes, shapes=None, names=None, seed=None, ...)`.

    Dequeues take uniformly random elements and leave `min_after_dequeue`
    behind until the queue is closed. The seeds follow TF1's rules (a shared
    queue without an op seed derives its seed2 from the graph seed and
    `shared_name`); the order itself comes from NumPy's generator, not TF's.
    """

    def __init__(self, capacity: int, min_after_dequeue: int, dtypes: Any, shapes: Any = None, names: Any = None,
                 seed: int | None = None, shared_name: str | None = None, name: str = "random_shuffle_queue"):
        dtypes = _as_type_list(dtypes)
        shapes = _as_shape_list(shapes, dtypes)
        names = _as_name_list(names, dtypes)
        seed1, seed2 = random_seed.get_seed(seed)
        if seed1 is None and seed2 is None:
            seed1, seed2 = 0, 0
        elif seed is None and shared_name is not None:
            digest = hashlib.md5((str(seed1) + shared_name).encode("utf-8")).hexdigest()
            seed2 = int(digest[:8], 16) & 0x7FFFFFFF
        attrs = _base_attrs(dtypes, shapes, capacity, shared_name)
        attrs.update(min_after_dequeue=int(min_after_dequeue), seed=int(seed1), seed2=int(seed2))
        ref = _queue_ref("RandomShuffleQueueV2", attrs, name)
        super().__init__(dtypes, shapes, names, ref)


class PriorityQueue(QueueBase):
    """`tf.PriorityQueue(capacity, types, shapes=None, names=None, ...)`: elements are `(priority, *values)`
    with an int64 scalar priority; the least priority leaves first (ties in TF's heap order)."""

    def __init__(self, capacity: int, types: Any, shapes: Any = None, names: Any = None,
                 shared_name: str | None = None, name: str = "priority_queue"):
        types = _as_type_list(types)
        shapes = _as_shape_list(shapes, types)
        ref = _queue_ref("PriorityQueueV2", _base_attrs(types, shapes, capacity, shared_name), name)
        priority_dtypes = [dtypes_lib.int64] + types
        priority_shapes = [TensorShape([])] + shapes if shapes else shapes
        super().__init__(priority_dtypes, priority_shapes, names, ref)
