"""`padded_batch` and the transformations of `tf.data.experimental` that TF1 programs `apply`."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from caudal.data import pipeline, structure
from caudal.data.dataset_ops import AUTOTUNE, DatasetV1, register_dataset_op
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, as_shape

__all__ = ["padded_batch", "unbatch", "shuffle_and_repeat", "map_and_batch", "ignore_errors",
           "parallel_interleave", "AUTOTUNE"]


def _padded_shape(value: Any, spec: structure.ComponentSpec) -> tuple[Tensor, TensorShape]:
    """The padded shape as an int64 vector (-1: pad to the batch's largest) and as a static shape."""
    if isinstance(value, Tensor):
        tensor = convert_to_tensor(value, dtype=dtypes_lib.int64)
        known = constant_value(tensor)
        if known is not None:
            static = TensorShape([None if d < 0 else int(d) for d in known])
        elif tensor.shape.ndims == 1 and tensor.shape[0].value is not None:
            static = TensorShape([None] * int(tensor.shape[0]))
        else:
            static = TensorShape(None)
    elif isinstance(value, (list, tuple)) and any(isinstance(d, Tensor) for d in value):
        return _padded_shape(convert_to_tensor(value, dtype=dtypes_lib.int64, name="padded_shape"), spec)
    else:
        static = as_shape(value)
        if static.ndims is None:
            raise ValueError("Padded shape must have a known rank")
        tensor = convert_to_tensor(np.array([-1 if d is None else d for d in static.as_list()], np.int64),
                                   dtype=dtypes_lib.int64, name="padded_shape")
    if spec.shape.ndims is not None and static.ndims is not None:
        if spec.shape.ndims != static.ndims or not all(
                p is None or s is None or s <= p for s, p in zip(spec.shape.as_list(), static.as_list())):
            raise ValueError(f"The padded shape {structure.shape_text(static)} is not compatible with the shape "
                             f"{structure.shape_text(spec.shape)} of the corresponding input component.")
    return tensor, static


def _default_padding(spec: structure.ComponentSpec) -> Any:
    return b"" if spec.dtype is dtypes_lib.string else np.zeros((), spec.dtype.as_numpy_dtype)


def padded_batch(dataset: DatasetV1, batch_size: Any, padded_shapes: Any = None, padding_values: Any = None,
                 drop_remainder: bool = False) -> DatasetV1:
    """`Dataset.padded_batch`: batches whose components are padded to `padded_shapes`."""
    specs = dataset._specs
    flat_specs = structure.flatten(specs)
    if any(s.sparse for s in flat_specs):
        raise TypeError("padded_batch is only supported for datasets that produce tensor elements; got a "
                        "SparseTensor component")
    if padded_shapes is None:
        for s in flat_specs:
            if s.shape.ndims is None:
                raise ValueError("You must provide `padded_shapes` argument because component has unknown rank.")
        flat_shapes = [s.shape for s in flat_specs]
    elif len(flat_specs) == 1 and not isinstance(specs, (tuple, dict)):
        flat_shapes = [padded_shapes]
    else:
        structure.assert_same_structure(specs, padded_shapes)
        flat_shapes = structure.flatten(padded_shapes)
    if padding_values is None:
        flat_values = [_default_padding(s) for s in flat_specs]
    elif not isinstance(padding_values, (tuple, dict)) and len(flat_specs) > 1:
        flat_values = [padding_values] * len(flat_specs)
    elif len(flat_specs) == 1 and not isinstance(specs, (tuple, dict)):
        flat_values = [padding_values]
    else:
        structure.assert_same_structure(specs, padding_values)
        flat_values = structure.flatten(padding_values)
    shape_tensors, value_tensors, out_specs = [], [], []
    size = convert_to_tensor(batch_size, dtype=dtypes_lib.int64, name="batch_size")
    drop = convert_to_tensor(drop_remainder, dtype=dtypes_lib.bool_, name="drop_remainder")
    static_size, static_drop = constant_value(size), constant_value(drop)
    batch_dim = int(static_size) if static_drop is not None and bool(static_drop) and static_size is not None else None
    for spec, shape, value in zip(flat_specs, flat_shapes, flat_values):
        tensor, static = _padded_shape(shape, spec)
        shape_tensors.append(tensor)
        pad = convert_to_tensor(value, dtype=spec.dtype, name="padding_value")
        if pad.shape.ndims not in (None, 0):
            raise ValueError(f"Padding value should be a scalar, but is not: {value}")
        value_tensors.append(pad)
        out_specs.append(spec.with_shape(TensorShape([batch_dim]).concatenate(static)))
    return dataset._derived("PaddedBatchDatasetV2", [dataset._variant_tensor, size] + shape_tensors + value_tensors
                            + [drop], structure.pack(specs, out_specs), {"N": len(flat_specs)})


def unbatch() -> Callable[[DatasetV1], DatasetV1]:
    """`tf.data.experimental.unbatch()`: for `dataset.apply`."""
    return lambda dataset: dataset.unbatch()


def shuffle_and_repeat(buffer_size: Any, count: Any = None, seed: int | None = None) -> Callable:
    """`tf.data.experimental.shuffle_and_repeat`: a new order in each of `count` passes."""
    return lambda dataset: dataset.shuffle(buffer_size, seed=seed, reshuffle_each_iteration=True).repeat(count)


def map_and_batch(map_func: Callable, batch_size: Any, num_parallel_batches: int | None = None,
                  drop_remainder: bool = False, num_parallel_calls: int | None = None) -> Callable:
    """`tf.data.experimental.map_and_batch`: `map` then `batch`, the same elements as the fused op."""
    calls = num_parallel_calls if num_parallel_calls is not None else (
        num_parallel_batches * 1 if num_parallel_batches else None)
    return lambda dataset: dataset.map(map_func, num_parallel_calls=calls).batch(batch_size, drop_remainder)


def parallel_interleave(map_func: Callable, cycle_length: int, block_length: int = 1, sloppy: bool = False,
                        buffer_output_elements: int | None = None, prefetch_input_elements: int | None = None
                        ) -> Callable:
    """`tf.data.experimental.parallel_interleave`: `interleave`'s elements in its deterministic order."""
    return lambda dataset: dataset.interleave(map_func, cycle_length=cycle_length, block_length=block_length)


class _IgnoreErrorsIterator(pipeline.ElementIterator):
    __slots__ = ("_input",)

    def __init__(self, input: pipeline.ElementIterator):
        self._input = input

    def get_next(self) -> tuple | None:
        from caudal.errors import OpError

        while True:
            try:
                return self._input.get_next()
            except OpError:
                continue


class _IgnoreErrorsValue(pipeline.DatasetValue):
    def __init__(self, input: pipeline.DatasetValue):
        self.input = input

    def iterator(self, env: pipeline.Env) -> pipeline.ElementIterator:
        return _IgnoreErrorsIterator(self.input.iterator(env))


register_dataset_op("IgnoreErrorsDataset", lambda ctx, op, input: _IgnoreErrorsValue(input))


def ignore_errors() -> Callable[[DatasetV1], DatasetV1]:
    """`tf.data.experimental.ignore_errors()`: elements whose making raised an error are dropped."""
    return lambda dataset: dataset._derived("IgnoreErrorsDataset", [dataset._variant_tensor], dataset._specs)
