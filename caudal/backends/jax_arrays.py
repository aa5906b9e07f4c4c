"""TensorArrays and TensorLists in compiled parts of a plan (see `caudal.backends.jax_trace`).

TensorArrays. A TensorArray is a resource: its ops take the handle and a
float `flow` that only orders them. While tracing, the handle's value is an
`ArrayRef` (known while tracing) and the array's contents live in the
trace, keyed by the op that made it (`TensorArrayV3`, or for a gradient
array the pair of its forward array and gradient source), as variables
do: a buffer of `size` elements and two masks, which elements hold a value
(`written`) and which were read (`read`). A while loop carries the arrays
its ops touch. The NumPy kernels' checks (an index past the size, a second
write, a read of a cleared element, ...) are run-time checks whose failure
runs the stage again on the host, where the NumPy kernels raise TF's
errors. Arrays that grow (`dynamic_size`), whose elements differ in shape,
or whose size is a value are left to the host.

TensorLists (a while loop's gradient history) are values: a `ListValue`
holds a buffer, a mask of the pushed values that were live (a value on an
untaken tf.cond branch is pushed as DEAD and popped as DEAD) and a length.
A list gets its buffer when it enters the loop that pushes to it: as many
elements as the loop's iteration bound (`tf.while_loop`'s
`maximum_iterations`, which `dynamic_rnn` sets); a loop without one runs
on the host. Element shapes not known from the graph are found by tracing
one iteration of the loop abstractly first (`Trace.run_loop`).
"""
from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.runtime.plan import DEAD

__all__ = ["ArrayRef", "ArrayState", "ListValue", "HANDLERS", "array_key", "list_origin", "LIST_OPS", "ARRAY_OPS"]

ARRAY_OPS = frozenset(["TensorArrayV3", "TensorArrayWriteV3", "TensorArrayReadV3", "TensorArrayGatherV3",
                       "TensorArrayScatterV3", "TensorArraySizeV3", "TensorArrayCloseV3", "TensorArrayGradV3",
                       "TensorArrayGradWithShape"])
LIST_OPS = frozenset(["EmptyTensorList", "TensorListPushBack", "TensorListPopBack", "TensorListLength"])
_FLOW = np.float32(0.0)


class ArrayRef:
    """The value of a TensorArray handle while tracing: which array, and what is known of it."""

    __slots__ = ("key", "dtype", "size", "shape", "clear_after_read", "identical_shapes", "aggregate", "closed")

    def __init__(self, key: Any, dtype: Any, size: int, shape: tuple | None, clear_after_read: bool,
                 identical_shapes: bool, aggregate: bool):
        self.key = key
        self.dtype = dtype
        self.size = size
        self.shape = shape  # the element shape as far as known (None: unknown rank)
        self.clear_after_read = clear_after_read
        self.identical_shapes = identical_shapes
        self.aggregate = aggregate
        self.closed = False


class ArrayState:
    """An array's contents in one trace: its buffer (None until its element shape is known), and
    which elements hold a value and which were read."""

    __slots__ = ("ref", "buffer", "written", "read")

    def __init__(self, ref: ArrayRef, buffer: Any, written: Any, read: Any):
        self.ref = ref
        self.buffer = buffer
        self.written = written
        self.read = read


@jax.tree_util.register_pytree_node_class
class ListValue:
    """A TensorList while tracing: `buffer` (None until allocated), `live` per element, `length`;
    `origin` is the EmptyTensorList op it grew from."""

    __slots__ = ("buffer", "live", "length", "origin")

    def __init__(self, buffer: Any, live: Any, length: Any, origin: Any):
        self.buffer = buffer
        self.live = live
        self.length = length
        self.origin = origin

    def tree_flatten(self) -> tuple:
        return (self.buffer, self.live, self.length), self.origin

    @classmethod
    def tree_unflatten(cls, origin: Any, children: Any) -> ListValue:
        return cls(*children, origin)


def array_key(handle: Any) -> Any:
    """The array a handle tensor names, from the graph: its TensorArrayV3 op, or (forward key, source)
    for a gradient array; None when the graph does not say."""
    for _ in range(64):
        op = handle._op
        if op._type == "TensorArrayV3":
            return op
        if op._type in ("TensorArrayGradV3", "TensorArrayGradWithShape"):
            forward = array_key(op._inputs[0])
            return None if forward is None else (forward, op._attrs["source"])
        if op._type not in ("Enter", "Identity"):
            return None
        handle = op._inputs[0]
    return None


def list_origin(value: Any) -> Any:
    """The EmptyTensorList op a list tensor grew from (through pushes, pops and loop ops), or None."""
    for _ in range(256):
        op = value._op
        if op._type == "EmptyTensorList":
            return op
        if op._type == "Merge":
            value = next((t for t in op._inputs if t._op._type != "NextIteration"), op._inputs[0])
        elif op._type in ("TensorListPushBack", "TensorListPopBack", "Enter", "Exit", "Switch", "Identity"):
            value = op._inputs[0]
        else:
            return None
    return None


def _shape_of(spec: Any) -> tuple | None:
    """A runtime partial shape from a shape input (-1 unknown) or attr, None for an unknown rank."""
    if spec is None:
        return None
    if hasattr(spec, "as_list"):
        return None if spec.ndims is None else tuple(spec.as_list())
    array = np.asarray(spec)
    if array.ndim == 0:
        return None
    return tuple(None if int(d) < 0 else int(d) for d in array.reshape(-1))


def _known(shape: tuple | None) -> bool:
    return shape is not None and None not in shape


def _compatible(partial: tuple | None, shape: tuple) -> bool:
    return partial is None or (len(partial) == len(shape) and all(p is None or p == s for p, s in zip(partial, shape)))


def _where(live: Any, new: Any, old: Any) -> Any:
    return new if live is True else jnp.where(live, new, old)


# ----------------------------------------------------------------- arrays
def _fail_on_host(trace: Any, op: Any, bad: Any = True) -> None:
    """A run-time check of `op` (where it is live): where `bad` holds, the stage runs again on the
    host, whose NumPy kernels raise TF's error."""
    from caudal.backends.jax_trace import RERUN, is_static

    if is_static(bad) and not bool(bad):
        return
    trace.context.op = op
    trace.check(jnp.asarray(bad), RERUN)


def _state(trace: Any, op: Any, handle: Any) -> ArrayState:
    from caudal.backends.jax_trace import HostOnly

    if not isinstance(handle, ArrayRef):
        raise HostOnly(op, "a TensorArray handle that is not known while compiling")
    state = trace.arrays.get(handle.key)
    if state is None:
        raise HostOnly(op, "a TensorArray made outside the compiled part")
    if handle.closed:
        _fail_on_host(trace, op)
    return state


def _allocate(state: ArrayState, shape: tuple, dtype: Any) -> None:
    size = state.ref.size
    state.buffer = jnp.zeros((size,) + shape, dtype)


def _new_array(trace: Any, op: Any, values: list, live: Any) -> list:
    from caudal.backends.jax_trace import HostOnly, is_static

    size = values[0]
    attrs = op._attrs
    if not is_static(size):
        raise HostOnly(op, "a TensorArray's size must be known when the plan is compiled")
    if attrs.get("dynamic_size", False) or trace.loop_depth:
        raise HostOnly(op, "a TensorArray that grows (dynamic_size: its size depends on values), or made "
                           "inside a while loop")
    size = int(size)
    if size < 0:
        _fail_on_host(trace, op)
        size = 0
    dtype = dtypes_lib.as_dtype(attrs["dtype"]).base_dtype
    shape = _shape_of(attrs.get("element_shape"))
    ref = ArrayRef(op, dtype, size, shape, attrs.get("clear_after_read", True),
                   attrs.get("identical_element_shapes", False), False)
    state = ArrayState(ref, None, np.zeros(size, bool), np.zeros(size, bool))
    if _known(shape):
        _allocate(state, shape, dtype.as_numpy_dtype)
    trace.arrays[op] = state
    return [ref, _FLOW]


def _grad_array(trace: Any, op: Any, values: list, live: Any) -> list:
    from caudal.backends.jax_trace import HostOnly, is_static

    handle = values[0]
    forward = _state(trace, op, handle)
    key = (handle.key, op._attrs["source"])
    found = trace.arrays.get(key)
    if found is None:
        prepend = ()
        if op._type == "TensorArrayGradWithShape":
            if not is_static(values[2]):
                raise HostOnly(op, "a gradient array whose shape is a value")
            prepend = tuple(int(d) for d in np.reshape(values[2], -1))
        if forward.buffer is None:
            raise HostOnly(op, "the gradient of a TensorArray whose element shape is not known")
        f = forward.ref
        shape = prepend + tuple(forward.buffer.shape[1:])
        ref = ArrayRef(key, f.dtype, f.size, shape, True, f.identical_shapes, True)
        # Elements the forward array holds (or held) start as zeros; the others as unwritten.
        held = forward.written | (forward.read & f.clear_after_read)
        found = ArrayState(ref, jnp.zeros((f.size,) + shape, f.dtype.as_numpy_dtype), held, np.zeros(f.size, bool))
        trace.arrays[key] = found
    return [found.ref, values[1]]


def _check_dtype(trace: Any, op: Any, ref: ArrayRef, dtype: Any) -> None:
    if dtypes_lib.as_dtype(dtype).base_dtype is not ref.dtype:
        _fail_on_host(trace, op)


def _store(trace: Any, op: Any, state: ArrayState, rows: Any, values: Any, live: Any) -> None:
    """Writes `values` (one per index in `rows`) with TF's checks; adds them in a gradient array."""
    from caudal.backends.jax_trace import HostOnly

    ref = state.ref
    element = tuple(values.shape[1:])
    if not _compatible(ref.shape, element):
        _fail_on_host(trace, op)
        return
    if state.buffer is None:
        if trace.probing is not None:
            trace.probing[ref.key] = (element, values.dtype)
            return
        if trace.loop_depth:
            raise HostOnly(op, "a TensorArray whose element shape is first known inside a while loop")
        _allocate(state, element, values.dtype)
    if tuple(state.buffer.shape[1:]) != element:
        raise HostOnly(op, "a TensorArray whose elements differ in shape")
    if ref.identical_shapes:
        ref.shape = element
    size = ref.size
    if size == 0:
        _fail_on_host(trace, op, rows.shape[0] > 0)
        return
    out = (rows < 0) | (rows >= size)
    safe = jnp.clip(rows, 0, max(size - 1, 0))
    bad = jnp.any(out) | jnp.any(jnp.take(state.read, safe))
    if not ref.aggregate:
        bad = bad | jnp.any(jnp.take(state.written, safe)) | _has_duplicates(rows)
    _fail_on_host(trace, op, bad)
    if ref.aggregate:
        buffer = state.buffer.at[safe].add(values.astype(state.buffer.dtype), mode="drop")
    else:
        buffer = state.buffer.at[safe].set(values.astype(state.buffer.dtype), mode="drop")
    written = jnp.asarray(state.written).at[safe].set(True, mode="drop")
    state.buffer = _where(live, buffer, state.buffer)
    state.written = _where(live, written, state.written)


def _load(trace: Any, op: Any, state: ArrayState, rows: Any, live: Any) -> Any:
    """The elements at `rows`, with TF's checks; cleared afterwards unless the array keeps them."""
    from caudal.backends.jax_trace import HostOnly

    ref = state.ref
    if state.buffer is None:
        if _known(ref.shape):
            _allocate(state, ref.shape, ref.dtype.as_numpy_dtype)
        else:
            raise HostOnly(op, "a read of a TensorArray whose element shape is not known")
    size = ref.size
    if size == 0:
        _fail_on_host(trace, op, rows.shape[0] > 0)
        return jnp.zeros((rows.shape[0],) + tuple(state.buffer.shape[1:]), state.buffer.dtype)
    safe = jnp.clip(rows, 0, size - 1)
    bad = jnp.any((rows < 0) | (rows >= size))
    if ref.clear_after_read:
        bad = bad | jnp.any(jnp.take(state.read, safe)) | _has_duplicates(rows)
    if not _known(ref.shape):
        bad = bad | jnp.any(~jnp.take(jnp.asarray(state.written), safe))
    _fail_on_host(trace, op, bad)
    values = jnp.take(state.buffer, safe, axis=0)
    state.read = _where(live, jnp.asarray(state.read).at[safe].set(True, mode="drop"), state.read)
    return values


def _has_duplicates(rows: Any) -> Any:
    if rows.shape[0] < 2:
        return False
    ordered = jnp.sort(rows)
    return jnp.any(ordered[1:] == ordered[:-1])


def _write(trace: Any, op: Any, values: list, live: Any) -> list:
    handle, index, value, flow = values
    state = _state(trace, op, handle)
    _check_dtype(trace, op, state.ref, op._attrs["T"])
    _store(trace, op, state, jnp.reshape(jnp.asarray(index, np.int64), (1,)), jnp.asarray(value)[None], live)
    return [flow]


def _read(trace: Any, op: Any, values: list, live: Any) -> list:
    handle, index, flow = values
    state = _state(trace, op, handle)
    _check_dtype(trace, op, state.ref, op._attrs["dtype"])
    return [_load(trace, op, state, jnp.reshape(jnp.asarray(index, np.int64), (1,)), live)[0]]


def _gather(trace: Any, op: Any, values: list, live: Any) -> list:
    handle, indices, flow = values
    state = _state(trace, op, handle)
    _check_dtype(trace, op, state.ref, op._attrs["dtype"])
    declared = _shape_of(op._attrs.get("element_shape"))
    ref = state.ref
    if declared is not None and ref.shape is not None:
        if len(declared) != len(ref.shape) or any(a is not None and b is not None and a != b
                                                  for a, b in zip(declared, ref.shape)):
            _fail_on_host(trace, op)  # TF's merge of the two element shapes fails
        else:
            ref.shape = tuple(a if a is not None else b for a, b in zip(declared, ref.shape))
    elif declared is not None:
        ref.shape = declared
    return [_load(trace, op, state, jnp.asarray(indices, np.int64).reshape(-1), live)]


def _scatter(trace: Any, op: Any, values: list, live: Any) -> list:
    handle, indices, value, flow = values
    state = _state(trace, op, handle)
    _check_dtype(trace, op, state.ref, op._attrs["T"])
    rows = jnp.asarray(indices, np.int64).reshape(-1)
    value = jnp.asarray(value)
    if value.ndim == 0 or value.shape[0] != rows.shape[0]:
        _fail_on_host(trace, op)
        return [flow]
    _store(trace, op, state, rows, value, live)
    return [flow]


def _size(trace: Any, op: Any, values: list, live: Any) -> list:
    return [np.int32(_state(trace, op, values[0]).ref.size)]


def _close(trace: Any, op: Any, values: list, live: Any) -> list:
    state = _state(trace, op, values[0])
    if live is True:
        state.ref.closed = True
    return []


# ------------------------------------------------------------------ lists
def _empty_list(trace: Any, op: Any, values: list, live: Any) -> list:
    trace.list_shapes[op] = (_shape_of(values[0]), dtypes_lib.as_dtype(op._attrs["element_dtype"]).as_numpy_dtype)
    return [ListValue(None, None, np.int32(0), op)]


def push(trace: Any, op: Any) -> None:
    """TensorListPushBack, which takes a DEAD value (pushed as not live)."""
    from caudal.backends.jax_trace import Cond, HostOnly, _and

    listed = trace.value(op._inputs[0])
    live: Any = True
    if type(listed) is Cond:
        live, listed = listed.live, listed.value
    if listed is DEAD:
        trace._dead(op)
        return
    for c in op._control_inputs:
        live = _and(live, trace.op_live.get(c, True))
    trace.context.op, trace.context.live = op, live
    value = trace.value(op._inputs[1])
    flag: Any = True
    if value is DEAD:
        flag, value = False, None
    elif type(value) is Cond:
        flag, value = value.live, value.value
    if not isinstance(listed, ListValue):
        raise HostOnly(op, "a TensorList made outside the compiled part")
    if listed.buffer is None:
        if trace.probing is not None and value is not None:
            trace.probing[listed.origin] = (tuple(jnp.shape(value)), jnp.result_type(value))
            trace._set_outputs(op, [ListValue(None, None, listed.length + 1, listed.origin)], live)
            return
        raise HostOnly(op, "a TensorList pushed to outside a while loop with an iteration bound")
    capacity = listed.buffer.shape[0]
    _fail_on_host(trace, op, listed.length >= capacity)
    if value is None:
        value = jnp.zeros(listed.buffer.shape[1:], listed.buffer.dtype)
    elif tuple(jnp.shape(value)) != tuple(listed.buffer.shape[1:]):
        raise HostOnly(op, "a TensorList whose elements differ in shape")
    index = jnp.clip(listed.length, 0, capacity - 1)
    buffer = listed.buffer.at[index].set(jnp.asarray(value, listed.buffer.dtype))
    flags = listed.live.at[index].set(jnp.asarray(flag, bool))
    pushed = ListValue(buffer, flags, listed.length + 1, listed.origin)
    trace._set_outputs(op, [pushed], live)


def _pop(trace: Any, op: Any, values: list, live: Any) -> list:
    from caudal.backends.jax_trace import Cond, HostOnly

    listed = values[0]
    if not isinstance(listed, ListValue):
        raise HostOnly(op, "a TensorList made outside the compiled part")
    _fail_on_host(trace, op, jnp.asarray(listed.length) <= 0)
    if listed.buffer is None:
        return [listed, DEAD]
    index = jnp.clip(listed.length - 1, 0, listed.buffer.shape[0] - 1)
    value = listed.buffer[index]
    rest = ListValue(listed.buffer, listed.live, listed.length - 1, listed.origin)
    return [rest, Cond(value, listed.live[index])]


def _length(trace: Any, op: Any, values: list, live: Any) -> list:
    return [jnp.asarray(values[0].length, np.int32)]


HANDLERS = {
    "TensorArrayV3": _new_array, "TensorArrayWriteV3": _write, "TensorArrayReadV3": _read,
    "TensorArrayGatherV3": _gather, "TensorArrayScatterV3": _scatter, "TensorArraySizeV3": _size,
    "TensorArrayCloseV3": _close, "TensorArrayGradV3": _grad_array, "TensorArrayGradWithShape": _grad_array,
    "EmptyTensorList": _empty_list, "TensorListPopBack": _pop, "TensorListLength": _length,
}
