"""TF1's queue-based input producers and batchers: `tf.train.string_input_producer`, `input_producer`,
`range_input_producer`, `slice_input_producer`, `limit_epochs`, `match_filenames_once`, and
`batch`, `shuffle_batch`, `batch_join`, `shuffle_batch_join` with their `maybe_` forms.

Each builds the graph TF1 builds, with its node names: a queue (FIFOQueue,
PaddingFIFOQueue with `dynamic_pad`, RandomShuffleQueue for the shuffling
ones), an enqueue op per thread or per input list, a QueueRunner for them in
the QUEUE_RUNNERS collection (started by `tf.train.start_queue_runners`), a
scalar summary of how full the queue is (`fraction_of_<capacity>_full`, or
`fraction_over_<min_after_dequeue>_of_<capacity - min_after_dequeue>_full`),
and the dequeue op named after the scope (`batch`, `shuffle_batch`, ...).

`num_epochs` counts passes with a local variable `epochs` (initialise it with
`tf.local_variables_initializer()`): once it reaches `num_epochs` the enqueue
raises OutOfRangeError, the runner closes the queue, and the consumer gets
OutOfRangeError after the last element (or the last, smaller batch with
`allow_smaller_final_batch`). SparseTensors are not batched here (TF stores
them in a SparseTensorsMap); passing one raises a TypeError.
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, control_dependencies, name_scope
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import as_shape
from caudal.ops.queue_ops import FIFOQueue, PaddingFIFOQueue, RandomShuffleQueue
from caudal.train.queue_runner import QueueRunner, add_queue_runner

__all__ = ["match_filenames_once", "limit_epochs", "input_producer", "string_input_producer",
           "range_input_producer", "slice_input_producer", "batch", "maybe_batch", "batch_join", "maybe_batch_join",
           "shuffle_batch", "maybe_shuffle_batch", "shuffle_batch_join", "maybe_shuffle_batch_join"]


def match_filenames_once(pattern: Any, name: str | None = None) -> Any:
    """A local variable holding the files matching `pattern`, computed when it is initialised."""
    from caudal.ops.io_ops import matching_files
    from caudal.variables import Variable

    with name_scope(name, "matching_filenames", [pattern]) as scope:
        return Variable(matching_files(pattern), name=scope, trainable=False, validate_shape=False,
                        collections=[GraphKeys.LOCAL_VARIABLES])


def limit_epochs(tensor: Any, num_epochs: int | None = None, name: str | None = None) -> Tensor:
    """`tensor`, which raises OutOfRangeError after it was computed `num_epochs` times (a local
    counter `epochs` counts them); `tensor` itself when `num_epochs` is None."""
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError(f"num_epochs must be > 0 not {num_epochs}.")
    from caudal.ops.control_ops import identity
    from caudal.variables import Variable

    with name_scope(name, "limit_epochs", [tensor]) as scope:
        zero = convert_to_tensor(0, dtype=dtypes_lib.int64)
        epochs = Variable(zero, name="epochs", trainable=False, collections=[GraphKeys.LOCAL_VARIABLES])
        counter = epochs.count_up_to(num_epochs)
        with control_dependencies([counter]):
            return identity(tensor, name=scope)


def _fraction_summary(name: str, value: Tensor) -> None:
    from caudal.ops.summary_ops import scalar

    scalar(name, value)


def _fraction_full(queue: Any, capacity: int) -> Tensor:
    from caudal.ops.math_ops import cast

    return cast(queue.size(), dtypes_lib.float32) * (1.0 / capacity)


def input_producer(input_tensor: Any, element_shape: Any = None, num_epochs: int | None = None,
                   shuffle: bool = True, seed: int | None = None, capacity: int = 32,
                   shared_name: str | None = None, summary_name: str | None = None, name: str | None = None,
                   cancel_op: Any = None) -> FIFOQueue:
    """A FIFOQueue a QueueRunner fills with the rows of `input_tensor`, `num_epochs` times (forever when
    None), in a new random order each pass when `shuffle`."""
    from caudal.ops.random_ops import random_shuffle

    with name_scope(name, "input_producer", [input_tensor]):
        input_tensor = convert_to_tensor(input_tensor, name="input_tensor")
        element_shape = input_tensor.shape[1:].merge_with(as_shape(element_shape) if element_shape is not None
                                                          else input_tensor.shape[1:])
        if not element_shape.is_fully_defined():
            raise ValueError("Either `input_tensor` must have a fully defined shape or `element_shape` must be "
                             "specified")
        if shuffle:
            input_tensor = random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        queue = FIFOQueue(capacity=capacity, dtypes=[input_tensor.dtype.base_dtype], shapes=[element_shape],
                          shared_name=shared_name, name=name)
        enqueue = queue.enqueue_many([input_tensor])
        add_queue_runner(QueueRunner(queue, [enqueue], cancel_op=cancel_op))
        if summary_name is not None:
            _fraction_summary(summary_name, _fraction_full(queue, capacity))
        return queue


def string_input_producer(string_tensor: Any, num_epochs: int | None = None, shuffle: bool = True,
                          seed: int | None = None, capacity: int = 32, shared_name: str | None = None,
                          name: str | None = None, cancel_op: Any = None) -> FIFOQueue:
    """A queue of the strings (file names) of `string_tensor`, for a reader; see input_producer.
    An empty `string_tensor` fails its assertion when the runner first enqueues."""
    from caudal.ops.array_ops import size
    from caudal.ops.comparison_ops import greater
    from caudal.ops.cond_ops import Assert
    from caudal.ops.control_ops import identity

    not_null_err = "string_input_producer requires a non-null input tensor"
    if not isinstance(string_tensor, Tensor) and not _has_items(string_tensor):
        raise ValueError(not_null_err)
    with name_scope(name, "input_producer", [string_tensor]) as scope:
        string_tensor = convert_to_tensor(string_tensor, dtype=dtypes_lib.string)
        with control_dependencies([Assert(greater(size(string_tensor), 0), [not_null_err])]):
            string_tensor = identity(string_tensor)
        return input_producer(input_tensor=string_tensor, element_shape=[], num_epochs=num_epochs, shuffle=shuffle,
                              seed=seed, capacity=capacity, shared_name=shared_name, name=scope,
                              summary_name=f"fraction_of_{capacity}_full", cancel_op=cancel_op)


def _has_items(value: Any) -> bool:
    try:
        return len(value) > 0
    except TypeError:
        return bool(value)


def range_input_producer(limit: Any, num_epochs: int | None = None, shuffle: bool = True, seed: int | None = None,
                         capacity: int = 32, shared_name: str | None = None, name: str | None = None) -> FIFOQueue:
    """A queue of the integers 0 .. limit-1 (int32); see input_producer."""
    from caudal.ops.array_ops import range as range_

    with name_scope(name, "input_producer", [limit]) as scope:
        return input_producer(range_(limit), [], num_epochs, shuffle, seed, capacity, shared_name,
                              f"fraction_of_{capacity}_full", scope)


def slice_input_producer(tensor_list: Any, num_epochs: int | None = None, shuffle: bool = True,
                         seed: int | None = None, capacity: int = 32, shared_name: str | None = None,
                         name: str | None = None) -> list[Tensor]:
    """One row of each tensor of `tensor_list` (the same row of each), a row index taken from a
    range_input_producer over their first dimension."""
    from caudal.ops.array_ops import shape
    from caudal.ops.gather_ops import gather

    with name_scope(name, "input_producer", tensor_list):
        tensors = [convert_to_tensor(t) for t in tensor_list]
        if not tensors:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        range_size = shape(tensors[0])[0]
        queue = range_input_producer(range_size, num_epochs=num_epochs, shuffle=shuffle, seed=seed,
                                     capacity=capacity, shared_name=shared_name)
        index = queue.dequeue()
        return [gather(t, index) for t in tensors]


# ------------------------------------------------------------------ batching
def _as_tensor_list(tensors: Any) -> Any:
    if isinstance(tensors, dict):
        return [tensors[k] for k in sorted(tensors, key=str)]
    return tensors


def _as_tensor_list_list(tensors_list: Any) -> list:
    if not tensors_list:
        raise ValueError("Expected at least one set of tensors")
    if isinstance(tensors_list[0], dict):
        keys = set(tensors_list[0])
        if any(set(t) != keys for t in tensors_list[1:]):
            raise ValueError("All dictionaries in tensors_list must have the same keys")
        return [_as_tensor_list(t) for t in tensors_list]
    return list(tensors_list)


def _as_original_type(original: Any, dequeued: Any) -> Any:
    if isinstance(original, dict):
        if len(original) == 1:
            dequeued = [dequeued]  # a queue of one component dequeues a tensor, not a list
        return {k: dequeued[i] for i, k in enumerate(sorted(original, key=str))}
    return dequeued


def _validate(tensor_list: Any, what: str = "batch()") -> list[Tensor]:
    from caudal.framework.sparse_tensor import SparseTensor

    if any(isinstance(t, SparseTensor) for t in tensor_list):
        raise TypeError("caudal's queue batching does not take SparseTensors; batch their dense parts, or use "
                        "tf.data")
    tensors = [convert_to_tensor(t) for t in tensor_list]
    if not tensors:
        raise ValueError(f"Expected at least one tensor in {what}.")
    return tensors


def _validate_keep_input(keep_input: Any, enqueue_many: bool) -> Tensor:
    keep_input = convert_to_tensor(keep_input)
    if keep_input.shape.ndims is None:
        raise ValueError("`keep_input` dimensions must be known at graph construction.")
    if not enqueue_many and keep_input.shape.ndims == 1:
        raise ValueError("`keep_input` cannot be a vector when `enqueue_many=False`.")
    if keep_input.shape.ndims > 1:
        raise ValueError("`keep_input` must be 0 or 1 dimensions.")
    return keep_input


def _dtypes(tensor_list_list: list) -> list:
    types = [t.dtype for t in tensor_list_list[0]]
    for other in tensor_list_list[1:]:
        other_types = [t.dtype for t in other]
        if other_types != types:
            raise TypeError(f"Expected types to be consistent: {', '.join(x.name for x in types)} vs. "
                            f"{', '.join(x.name for x in other_types)}.")
    return types


def _shapes(tensor_list_list: list, shapes: Any, enqueue_many: bool) -> Any:
    """The queue's shapes: given, or those of the first list (TF merges none of the others)."""
    if shapes is not None:
        return shapes
    for tensors in tensor_list_list:
        for t in tensors[:len(tensor_list_list[0])]:
            if t.shape.ndims is None:
                raise ValueError(f"Cannot infer Tensor's rank: {t}")
    first = tensor_list_list[0]
    return [t.shape.with_rank_at_least(1)[1:].as_list() if enqueue_many else t.shape.as_list() for t in first]


def _select_which_to_enqueue(tensor_list: list, keep_input: Tensor) -> list[Tensor]:
    from caudal.ops.index_ops import dynamic_partition
    from caudal.ops.math_ops import cast

    select = cast(keep_input, dtypes_lib.int32)
    return [dynamic_partition(t, select, num_partitions=2)[1] for t in tensor_list]


def _enqueue_op(queue: Any, tensors: list, enqueue_many: bool, keep_input: Tensor) -> Any:
    """The enqueue op of one list; with a scalar `keep_input` it runs only when that holds."""
    enqueue = queue.enqueue_many if enqueue_many else queue.enqueue
    if keep_input.shape.ndims == 1:
        return enqueue(_select_which_to_enqueue(tensors, keep_input))
    known = constant_value(keep_input)
    if known is not None:
        if bool(known):
            return enqueue(tensors)
        from caudal.ops.control_ops import no_op

        return no_op()
    from caudal.ops.cond_ops import cond
    from caudal.ops.control_ops import no_op

    return cond(keep_input, lambda: enqueue(tensors), no_op)


def _dequeue(queue: Any, batch_size: Any, allow_smaller_final_batch: bool, scope: str) -> Any:
    if allow_smaller_final_batch:
        return queue.dequeue_up_to(batch_size, name=scope)
    return queue.dequeue_many(batch_size, name=scope)


def _batch(tensors: Any, batch_size: Any, keep_input: Any, num_threads: int = 1, capacity: int = 32,
           enqueue_many: bool = False, shapes: Any = None, dynamic_pad: bool = False,
           allow_smaller_final_batch: bool = False, shared_name: str | None = None, name: str | None = None) -> Any:
    tensor_list = _as_tensor_list(tensors)
    with name_scope(name, "batch", list(tensor_list) + [keep_input]) as scope:
        tensor_list = _validate(tensor_list)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes([tensor_list])
        shapes = _shapes([tensor_list], shapes, enqueue_many)
        queue_class = PaddingFIFOQueue if dynamic_pad else FIFOQueue
        queue = queue_class(capacity=capacity, dtypes=types, shapes=shapes, shared_name=shared_name)
        enqueue = _enqueue_op(queue, tensor_list, enqueue_many, keep_input)
        add_queue_runner(QueueRunner(queue, [enqueue] * num_threads))
        _fraction_summary(f"fraction_of_{capacity}_full", _fraction_full(queue, capacity))
        return _as_original_type(tensors, _dequeue(queue, batch_size, allow_smaller_final_batch, scope))


def _batch_join(tensors_list: Any, batch_size: Any, keep_input: Any, capacity: int = 32, enqueue_many: bool = False,
                shapes: Any = None, dynamic_pad: bool = False, allow_smaller_final_batch: bool = False,
                shared_name: str | None = None, name: str | None = None) -> Any:
    lists = _as_tensor_list_list(tensors_list)
    with name_scope(name, "batch_join", [t for tl in lists for t in tl] + [keep_input]) as scope:
        lists = [_validate(tl, "batch_join()") for tl in lists]
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes(lists)
        shapes = _shapes(lists, shapes, enqueue_many)
        queue_class = PaddingFIFOQueue if dynamic_pad else FIFOQueue
        queue = queue_class(capacity=capacity, dtypes=types, shapes=shapes, shared_name=shared_name)
        add_queue_runner(QueueRunner(queue, [_enqueue_op(queue, tl, enqueue_many, keep_input) for tl in lists]))
        _fraction_summary(f"fraction_of_{capacity}_full", _fraction_full(queue, capacity))
        return _as_original_type(tensors_list[0], _dequeue(queue, batch_size, allow_smaller_final_batch, scope))


def _shuffle_fraction(queue: Any, capacity: int, min_after_dequeue: int) -> None:
    from caudal.ops.math_ops import cast, maximum

    full = cast(maximum(0, queue.size() - min_after_dequeue), dtypes_lib.float32) * (
        1.0 / (capacity - min_after_dequeue))
    _fraction_summary(f"fraction_over_{min_after_dequeue}_of_{capacity - min_after_dequeue}_full", full)


def _check_capacity(capacity: int, min_after_dequeue: int) -> None:
    if capacity <= min_after_dequeue:
        raise ValueError(f"capacity {capacity} must be bigger than min_after_dequeue {min_after_dequeue}.")


def _shuffle_batch(tensors: Any, batch_size: Any, capacity: int, min_after_dequeue: int, keep_input: Any,
                   num_threads: int = 1, seed: int | None = None, enqueue_many: bool = False, shapes: Any = None,
                   allow_smaller_final_batch: bool = False, shared_name: str | None = None,
                   name: str | None = None) -> Any:
    tensor_list = _as_tensor_list(tensors)
    with name_scope(name, "shuffle_batch", list(tensor_list) + [keep_input]) as scope:
        _check_capacity(capacity, min_after_dequeue)
        tensor_list = _validate(tensor_list)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes([tensor_list])
        shapes = _shapes([tensor_list], shapes, enqueue_many)
        queue = RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue, seed=seed, dtypes=types,
                                   shapes=shapes, shared_name=shared_name)
        enqueue = _enqueue_op(queue, tensor_list, enqueue_many, keep_input)
        add_queue_runner(QueueRunner(queue, [enqueue] * num_threads))
        _shuffle_fraction(queue, capacity, min_after_dequeue)
        return _as_original_type(tensors, _dequeue(queue, batch_size, allow_smaller_final_batch, scope))


def _shuffle_batch_join(tensors_list: Any, batch_size: Any, capacity: int, min_after_dequeue: int, keep_input: Any,
                        seed: int | None = None, enqueue_many: bool = False, shapes: Any = None,
                        allow_smaller_final_batch: bool = False, shared_name: str | None = None,
                        name: str | None = None) -> Any:
    lists = _as_tensor_list_list(tensors_list)
    with name_scope(name, "shuffle_batch_join", [t for tl in lists for t in tl] + [keep_input]) as scope:
        lists = [_validate(tl, "batch_join()") for tl in lists]
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = _dtypes(lists)
        shapes = _shapes(lists, shapes, enqueue_many)
        queue = RandomShuffleQueue(capacity=capacity, min_after_dequeue=min_after_dequeue, seed=seed, dtypes=types,
                                   shapes=shapes, shared_name=shared_name)
        add_queue_runner(QueueRunner(queue, [_enqueue_op(queue, tl, enqueue_many, keep_input) for tl in lists]))
        _shuffle_fraction(queue, capacity, min_after_dequeue)
        return _as_original_type(tensors_list[0], _dequeue(queue, batch_size, allow_smaller_final_batch, scope))


def batch(tensors: Any, batch_size: Any, num_threads: int = 1, capacity: int = 32, enqueue_many: bool = False,
          shapes: Any = None, dynamic_pad: bool = False, allow_smaller_final_batch: bool = False,
          shared_name: str | None = None, name: str | None = None) -> Any:
    """`tf.train.batch`: batches of `batch_size` of `tensors` (a list or dict), filled by `num_threads`
    threads; `dynamic_pad` pads components of unknown dimensions to the longest in the batch."""
    return _batch(tensors, batch_size, True, num_threads=num_threads, capacity=capacity, enqueue_many=enqueue_many,
                  shapes=shapes, dynamic_pad=dynamic_pad, allow_smaller_final_batch=allow_smaller_final_batch,
                  shared_name=shared_name, name=name)


def maybe_batch(tensors: Any, keep_input: Any, batch_size: Any, num_threads: int = 1, capacity: int = 32,
                enqueue_many: bool = False, shapes: Any = None, dynamic_pad: bool = False,
                allow_smaller_final_batch: bool = False, shared_name: str | None = None,
                name: str | None = None) -> Any:
    """`tf.train.maybe_batch`: batch, enqueueing only the inputs for which `keep_input` holds."""
    return _batch(tensors, batch_size, keep_input, num_threads=num_threads, capacity=capacity,
                  enqueue_many=enqueue_many, shapes=shapes, dynamic_pad=dynamic_pad,
                  allow_smaller_final_batch=allow_smaller_final_batch, shared_name=shared_name, name=name)


def batch_join(tensors_list: Any, batch_size: Any, capacity: int = 32, enqueue_many: bool = False, shapes: Any = None,
               dynamic_pad: bool = False, allow_smaller_final_batch: bool = False, shared_name: str | None = None,
               name: str | None = None) -> Any:
    """`tf.train.batch_join`: one queue filled by one thread per list of `tensors_list`."""
    return _batch_join(tensors_list, batch_size, True, capacity=capacity, enqueue_many=enqueue_many, shapes=shapes,
                       dynamic_pad=dynamic_pad, allow_smaller_final_batch=allow_smaller_final_batch,
                       shared_name=shared_name, name=name)


def maybe_batch_join(tensors_list: Any, keep_input: Any, batch_size: Any, capacity: int = 32,
                     enqueue_many: bool = False, shapes: Any = None, dynamic_pad: bool = False,
                     allow_smaller_final_batch: bool = False, shared_name: str | None = None,
                     name: str | None = None) -> Any:
    return _batch_join(tensors_list, batch_size, keep_input, capacity=capacity, enqueue_many=enqueue_many,
                       shapes=shapes, dynamic_pad=dynamic_pad, allow_smaller_final_batch=allow_smaller_final_batch,
                       shared_name=shared_name, name=name)


def shuffle_batch(tensors: Any, batch_size: Any, capacity: int, min_after_dequeue: int, num_threads: int = 1,
                  seed: int | None = None, enqueue_many: bool = False, shapes: Any = None,
                  allow_smaller_final_batch: bool = False, shared_name: str | None = None,
                  name: str | None = None) -> Any:
    """`tf.train.shuffle_batch`: batches drawn at random from a RandomShuffleQueue that keeps
    `min_after_dequeue` elements to mix (`capacity` must be larger)."""
    return _shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, True, num_threads=num_threads, seed=seed,
                          enqueue_many=enqueue_many, shapes=shapes,
                          allow_smaller_final_batch=allow_smaller_final_batch, shared_name=shared_name, name=name)


def maybe_shuffle_batch(tensors: Any, batch_size: Any, capacity: int, min_after_dequeue: int, keep_input: Any,
                        num_threads: int = 1, seed: int | None = None, enqueue_many: bool = False,
                        shapes: Any = None, allow_smaller_final_batch: bool = False,
                        shared_name: str | None = None, name: str | None = None) -> Any:
    return _shuffle_batch(tensors, batch_size, capacity, min_after_dequeue, keep_input, num_threads=num_threads,
                          seed=seed, enqueue_many=enqueue_many, shapes=shapes,
                          allow_smaller_final_batch=allow_smaller_final_batch, shared_name=shared_name, name=name)


def shuffle_batch_join(tensors_list: Any, batch_size: Any, capacity: int, min_after_dequeue: int,
                       seed: int | None = None, enqueue_many: bool = False, shapes: Any = None,
                       allow_smaller_final_batch: bool = False, shared_name: str | None = None,
                       name: str | None = None) -> Any:
    """`tf.train.shuffle_batch_join`: shuffle_batch over several input lists, one thread each."""
    return _shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, True, seed=seed,
                               enqueue_many=enqueue_many, shapes=shapes,
                               allow_smaller_final_batch=allow_smaller_final_batch, shared_name=shared_name,
                               name=name)


def maybe_shuffle_batch_join(tensors_list: Any, batch_size: Any, capacity: int, min_after_dequeue: int,
                             keep_input: Any, seed: int | None = None, enqueue_many: bool = False,
                             shapes: Any = None, allow_smaller_final_batch: bool = False,
                             shared_name: str | None = None, name: str | None = None) -> Any:
    return _shuffle_batch_join(tensors_list, batch_size, capacity, min_after_dequeue, keep_input, seed=seed,
                               enqueue_many=enqueue_many, shapes=shapes,
                               allow_smaller_final_batch=allow_smaller_final_batch, shared_name=shared_name,
                               name=name)
