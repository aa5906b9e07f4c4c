"""`tf.estimator.inputs.numpy_input_fn` and `pandas_input_fn`: input functions over in-memory arrays.

TF feeds the rows through a queue filled by feeding threads; caudal reads
them from a `Dataset.from_generator` whose generator replays that queue
(`_QueueReplay`), so the graph holds no copy of the data and the batches
are TF's:

- each feeder walks the rows in order (from a random row when shuffling)
  in chunks of `batch_size`, chunks running on across epoch boundaries,
  and stops after `num_epochs` passes (never, if None);
- without shuffling the queue is first in, first out: batches are the
  chunks, the last one short; with `num_epochs=None` every batch is full
  and has a static batch dimension;
- with shuffling it is a RandomShuffleQueue of `queue_capacity` that keeps
  `queue_capacity / 4` rows until the feeders are done: each batch is drawn
  at random from the rows queued. The draws are seeded by the graph seed
  (TF's feeders start at an unseeded random row, so its runs differ);
- `num_threads` feeders each walk all the rows, as TF's do.

Features are the arrays' own dtypes (float64 stays float64). TF's queue
also writes a `fraction_..._full` summary; caudal has no queue and does not.
"""
from __future__ import annotations

import collections
from typing import Any

import numpy as np

from caudal import errors

__all__ = ["numpy_input_fn", "pandas_input_fn"]

_TARGET_KEY = "__target_key__"


def _indices_for_next_batch(start: int, batch_size: int, epoch_end: int, array_length: int, current_epoch: int,
                            total_epochs: int | None) -> tuple[np.ndarray, int]:
    """The row indices of the next chunk (int64) and the epoch count after it (TF's feeding-function rule)."""
    if total_epochs is not None and current_epoch >= total_epochs:
        raise errors.OutOfRangeError(None, None, f"Already emitted {current_epoch} epochs.")
    indices = np.arange(start, start + batch_size, dtype=np.int64) % array_length
    epoch_ends = np.flatnonzero(indices == epoch_end)
    current_epoch += len(epoch_ends)
    if total_epochs is None or current_epoch < total_epochs:
        return indices, current_epoch
    final_end = epoch_ends[-(current_epoch - total_epochs + 1)]
    return indices[:final_end + 1], total_epochs


class _Feeder:
    """One feeding thread's walk over the rows: `next_chunk()` gives row indices, None once done."""

    def __init__(self, length: int, chunk_size: int, num_epochs: int | None, random_start: bool, seed: Any):
        self._length = length
        self._chunk_size = chunk_size
        self._num_epochs = num_epochs
        self._epoch = 0
        self._position = int(np.random.default_rng(seed).integers(length)) if random_start else 0
        self._epoch_end = (self._position - 1) % length

    def next_chunk(self) -> np.ndarray | None:
        try:
            indices, self._epoch = _indices_for_next_batch(self._position, self._chunk_size, self._epoch_end,
                                                           self._length, self._epoch, self._num_epochs)
        except errors.OutOfRangeError:
            return None
        self._position = (int(indices[-1]) + 1) % self._length
        return indices


class _QueueReplay:
    """The batches TF's feeding queue would give, as a generator function (one fresh pass per call)."""

    yields_fresh_arrays = True  # each batch is gathered anew (`from_generator` need not copy it)

    def __init__(self, columns: list[np.ndarray], batch_size: int, num_epochs: int | None, shuffle: bool,
                 capacity: int, min_after_dequeue: int, num_threads: int, seed: Any):
        self._columns = columns
        self._batch_size = batch_size
        self._num_epochs = num_epochs
        self._shuffle = shuffle
        self._capacity = max(capacity, batch_size)
        self._min_after_dequeue = min_after_dequeue
        self._num_threads = max(num_threads, 1)
        self._seed = seed

    def __call__(self) -> Any:
        length = len(self._columns[0])
        rng = np.random.default_rng(self._seed)
        feeders = [_Feeder(length, self._batch_size, self._num_epochs, self._shuffle,
                           None if self._seed is None else (self._seed, i)) for i in range(self._num_threads)]
        queued = np.zeros(0, dtype=np.int64)
        fill_to = self._capacity if self._shuffle else self._batch_size
        turn = 0
        columns = self._columns
        while True:
            if feeders and len(queued) < fill_to:
                chunks = [queued]
                size = len(queued)
                while feeders and size < fill_to:
                    feeder = feeders[turn % len(feeders)]
                    chunk = feeder.next_chunk()
                    if chunk is None:
                        feeders.remove(feeder)
                        continue
                    turn += 1
                    chunks.append(chunk)
                    size += len(chunk)
                queued = np.concatenate(chunks)
            if not len(queued):
                return
            take = min(self._batch_size, len(queued))
            if self._shuffle:
                picked = rng.choice(len(queued), size=take, replace=False)
                rows = queued[picked]
                kept = np.ones(len(queued), dtype=bool)
                kept[picked] = False
                queued = queued[kept]
            else:
                rows, queued = queued[:take], queued[take:]
            yield tuple([column[rows] for column in columns])


def _graph_seed() -> Any:
    from caudal.framework.random_seed import get_seed

    graph_seed, op_seed = get_seed(None)
    return None if graph_seed is None else (graph_seed, op_seed)


def _batches(columns: list[np.ndarray], batch_size: int, num_epochs: int | None, shuffle: bool, capacity: int,
             min_after_dequeue: int, num_threads: int) -> tuple:
    """The batch tensors, one per column, read from a one-shot iterator over the replayed queue."""
    from caudal.data.generator import from_generator
    from caudal.framework import dtypes
    from caudal.framework.tensor_shape import TensorShape

    def tf_dtype(column: np.ndarray) -> Any:
        return dtypes.string if column.dtype.kind in "USO" else dtypes.as_dtype(column.dtype)

    batch_dim = batch_size if num_epochs is None else None
    replay = _QueueReplay(columns, batch_size, num_epochs, shuffle, capacity, min_after_dequeue, num_threads,
                          _graph_seed())
    dataset = from_generator(replay, output_types=tuple(tf_dtype(c) for c in columns),
                             output_shapes=tuple(TensorShape([batch_dim] + list(c.shape[1:])) for c in columns))
    return dataset.make_one_shot_iterator().get_next()


def _validate_and_convert_features(x: Any) -> collections.OrderedDict:
    if isinstance(x, dict):
        if not x:
            raise ValueError("x cannot be an empty dict")
        return collections.OrderedDict(sorted(x.items(), key=lambda item: item[0]))
    if isinstance(x, np.ndarray):
        if x.size == 0:
            raise ValueError("x cannot be an empty array")
        return collections.OrderedDict({"__direct_np_input__": x})
    raise TypeError(f"x must be a dict or array; got {type(x).__name__}")


def _check_shuffle(shuffle: Any) -> None:
    if not isinstance(shuffle, bool):
        raise ValueError("shuffle must be provided and explicitly set as boolean (it is recommended to set it as "
                         f"True for training); got {shuffle}")


def numpy_input_fn(x: Any, y: Any = None, batch_size: int = 128, num_epochs: int | None = 1, shuffle: Any = None,
                   queue_capacity: int = 1000, num_threads: int = 1) -> Any:
    """`tf.compat.v1.estimator.inputs.numpy_input_fn`: an input_fn giving batches of the arrays of `x` (a dict
    of arrays, or one array) and `y` (an array, a dict of arrays or None); see the module docstring."""
    _check_shuffle(shuffle)

    def input_fn() -> Any:
        data = _validate_and_convert_features(x)
        feature_keys = list(data.keys())
        if y is None:
            target_keys: Any = None
        elif isinstance(y, dict):
            if not y:
                raise ValueError("y cannot be empty dict, use None instead.")
            ordered_y = collections.OrderedDict(sorted(y.items(), key=lambda item: item[0]))
            target_keys = list(ordered_y.keys())
            duplicates = set(feature_keys) & set(target_keys)
            if duplicates:
                raise ValueError(f"{len(duplicates)} duplicate keys are found in both x and y: {duplicates}")
            data.update(ordered_y)
        else:
            target_keys = _TARGET_KEY
            while target_keys in data:
                target_keys += "_n"
            data[target_keys] = y
        if len({np.shape(v)[0] for v in data.values()}) != 1:
            shapes_x = {k: data[k].shape for k in feature_keys}
            if target_keys is None:
                shapes_y = None
            elif isinstance(target_keys, str):
                shapes_y = y.shape
            else:
                shapes_y = {k: data[k].shape for k in target_keys}
            raise ValueError("Length of tensors in x and y is mismatched. All elements in x and y must have the same "
                             f"length.\nShapes in x: {shapes_x}\nShapes in y: {shapes_y}\n")
        columns = [np.asarray(v) for v in data.values()]
        min_after_dequeue = int(queue_capacity / 4) if shuffle else 0
        batch = list(_batches(columns, batch_size, num_epochs, shuffle, queue_capacity, min_after_dequeue,
                              num_threads))
        features = batch[0] if isinstance(x, np.ndarray) else dict(zip(feature_keys, batch[:len(feature_keys)]))
        if target_keys is None:
            return features
        if isinstance(target_keys, str):
            return features, batch[-1]
        return features, dict(zip(target_keys, batch[-len(target_keys):]))

    return input_fn


def pandas_input_fn(x: Any, y: Any = None, batch_size: int = 128, num_epochs: int | None = 1, shuffle: Any = None,
                    queue_capacity: int | None = 1000, num_threads: int = 1, target_column: str = "target") -> Any:
    """`tf.compat.v1.estimator.inputs.pandas_input_fn`: batches of a DataFrame's columns (and of `y`, a Series
    or DataFrame with the same index). pandas is optional: without it this raises TF's TypeError."""
    try:
        import pandas as pd
    except ImportError:
        raise TypeError("pandas_input_fn should not be called without pandas installed") from None
    _check_shuffle(shuffle)
    if not isinstance(target_column, str):
        raise TypeError("target_column must be a string type")
    x = x.copy()
    y_columns: list = []
    if y is not None:
        if target_column in x:
            raise ValueError(f"Cannot use name {target_column} for target column: DataFrame already has a column "
                             f"with that name: {x.columns}")
        if not np.array_equal(x.index, y.index):
            raise ValueError(f"Index for x and y are mismatched.\nIndex for x: {x.index}\nIndex for y: {y.index}\n")
        if isinstance(y, pd.DataFrame):
            y_columns = [(column, column if column not in x else f"{column}_{_unique_suffix()}") for column in list(y)]
            target_column = [renamed for _, renamed in y_columns]
            x[target_column] = y
        else:
            x[target_column] = y
    if queue_capacity is None:
        queue_capacity = 4 * len(x) if shuffle else len(x)
    min_after_dequeue = int(max(queue_capacity / 4, 1)) if shuffle else 0

    def input_fn() -> Any:
        columns = [np.asarray(x.index.values)] + [np.asarray(x[c].values) for c in x.columns]
        batch = list(_batches(columns, batch_size, num_epochs, shuffle, queue_capacity, min_after_dequeue,
                              num_threads))[1:]
        features = dict(zip(list(x.columns), batch))
        if y is None:
            return features
        if isinstance(target_column, list):
            return features, {original: features.pop(renamed) for original, renamed in y_columns}
        return features, features.pop(target_column)

    return input_fn


def _unique_suffix() -> str:
    import uuid

    return str(uuid.uuid4())
