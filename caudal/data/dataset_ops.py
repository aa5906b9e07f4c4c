"""`tf.data.Dataset` as TF1 programs build it: each dataset is one op in the graph whose output is a
variant tensor; its value at run time is a `DatasetValue` (caudal.data.pipeline) that makes iterators.

Static element types and shapes follow TensorFlow's rules (a batch dimension is unknown unless
`drop_remainder=True`). Functions given to `map`, `filter`, `flat_map` and `interleave` are traced once
into graphs of their own (caudal.data.function); tensors they use from the program's graph become
inputs of the dataset op, so a placeholder they capture is fed when the iterator is initialised.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from caudal import errors
from caudal.data import pipeline, pipeline_buffers, structure
from caudal.data.function import DatasetFunction, _flat_tensors, _pack_values, check_scalar_bool
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, get_default_graph, name_scope
from caudal.framework.random_seed import get_seed
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import Dimension, TensorShape

__all__ = ["Dataset", "DatasetV1", "AUTOTUNE", "register_dataset_op"]

AUTOTUNE = -1


def _variant_infer(ctx: InferContext) -> list:
    return [(dtypes_lib.variant, TensorShape([]))]


def register_dataset_op(op_type: str, build: Callable[..., pipeline.DatasetValue]) -> None:
    """Registers dataset op `op_type`; its kernel returns `build(ctx, op, *input values)`."""
    def kernel(ctx: Any, *inputs: Any, op: Any) -> pipeline.DatasetValue:
        return build(ctx, op, *inputs)

    kernel.__module__ = build.__module__
    register_op(op_type, infer=_variant_infer, kernel=kernel, grad=NOT_DIFFERENTIABLE, stateful=True)


def _scalar(value: Any) -> Any:
    return np.asarray(value).reshape(()).item() if np.ndim(value) == 0 else value


def _int_arg(value: Any, name: str, op: Any) -> int:
    if np.ndim(value) != 0:
        raise errors.InvalidArgumentError(None, op, f"{name} must be a scalar")
    return int(value)


def _flat_components(values: tuple, specs: Any) -> tuple:
    """Inputs of a dataset op (sparse components arrive as three arrays) as runtime component values."""
    return _pack_values(specs, values)


class _Specs:
    """The element structure, kept on the node for its kernel; GraphDefs leave it out (they have
    `output_types` and `output_shapes`)."""

    attr_kind = "internal"
    __slots__ = ("specs",)

    def __init__(self, specs: Any):
        self.specs = specs


def _element_attrs(specs: Any) -> dict[str, Any]:
    flat = structure.flatten(specs)
    return {"output_types": [s.dtype for s in flat], "output_shapes": [s.shape for s in flat],
            "_specs": _Specs(specs)}


# ------------------------------------------------------------- op kernels
def _kept(ctx: Any, values: tuple) -> tuple:
    return tuple(ctx.keep(v) if isinstance(v, np.ndarray) else v for v in values)


register_dataset_op("TensorDataset", lambda ctx, op, *c: pipeline.TensorsValue(
    _flat_components(_kept(ctx, c), op._attrs["_specs"].specs)))
register_dataset_op("TensorSliceDataset", lambda ctx, op, *c: pipeline.SlicesValue(
    _flat_components(_kept(ctx, c), op._attrs["_specs"].specs)))
register_dataset_op("RangeDataset", lambda ctx, op, start, stop, step: pipeline.RangeValue(
    int(start), int(stop), int(step)))
register_dataset_op("ZipDataset", lambda ctx, op, *inputs: pipeline.ZipValue(list(inputs)))
register_dataset_op("ConcatenateDataset", lambda ctx, op, a, b: pipeline.ConcatenateValue(a, b))
register_dataset_op("MapDataset", lambda ctx, op, input, *captured: pipeline.MapValue(
    input, op._attrs["f"], captured))
register_dataset_op("ParallelMapDatasetV2", lambda ctx, op, input, *rest: pipeline.MapValue(
    input, op._attrs["f"], rest[:-1], max(1, int(rest[-1]) if int(rest[-1]) > 0 else 2)))
register_dataset_op("FilterDataset", lambda ctx, op, input, *captured: pipeline.FilterValue(
    input, op._attrs["predicate"], captured))
register_dataset_op("FlatMapDataset", lambda ctx, op, input, *captured: pipeline.FlatMapValue(
    input, op._attrs["f"], captured))
register_dataset_op("InterleaveDataset", lambda ctx, op, input, *rest: pipeline.InterleaveValue(
    input, op._attrs["f"], rest[:-2], _int_arg(rest[-2], "cycle_length", op), _int_arg(rest[-1], "block_length", op)))
register_dataset_op("TakeDataset", lambda ctx, op, input, count: pipeline.TakeValue(input, int(count)))
register_dataset_op("SkipDataset", lambda ctx, op, input, count: pipeline.SkipValue(input, int(count)))
register_dataset_op("RepeatDataset", lambda ctx, op, input, count: pipeline.RepeatValue(input, int(count)))
register_dataset_op("ShardDataset", lambda ctx, op, input, n, i: pipeline.ShardValue(input, int(n), int(i)))
register_dataset_op("BatchDatasetV2", lambda ctx, op, input, size, drop: pipeline_buffers.BatchValue(
    input, int(size), bool(drop)))
register_dataset_op("UnbatchDataset", lambda ctx, op, input: pipeline_buffers.UnbatchValue(input))
register_dataset_op("ShuffleDataset", lambda ctx, op, input, size, seed, seed2: pipeline_buffers.ShuffleValue(
    input, int(size), int(seed), int(seed2), op._attrs["reshuffle_each_iteration"]))
register_dataset_op("PrefetchDataset", lambda ctx, op, input, size: pipeline_buffers.PrefetchValue(
    input, int(size)))
register_dataset_op("CacheDataset", lambda ctx, op, input, filename: pipeline_buffers.CacheValue(
    input, _as_text(filename)))


def _padded_batch(ctx: Any, op: Any, input: Any, size: Any, *rest: Any) -> pipeline.DatasetValue:
    n = op._attrs["N"]
    return pipeline_buffers.PaddedBatchValue(input, int(size), list(rest[:n]), list(rest[n:2 * n]), bool(rest[-1]))


register_dataset_op("PaddedBatchDatasetV2", _padded_batch)


def _as_text(value: Any) -> str:
    value = _scalar(value)
    return value.decode() if isinstance(value, bytes) else str(value)


# ------------------------------------------------------------- the Dataset classes
class DatasetV1(structure.HasElementStructure):
    """`tf.compat.v1.data.Dataset`: a sequence of elements, each a structure of tensors."""

    def __init__(self, variant: Tensor, specs: Any):
        self._variant_tensor = variant
        self._specs = specs

    # ---------------------------------------------------------------- structure

    def __repr__(self) -> str:
        kind = type(self).__name__
        return f"<{kind} shapes: {self.output_shapes}, types: {self.output_types}>"

    def __iter__(self) -> Any:
        raise RuntimeError("__iter__() is only supported inside of tf.function or when eager execution is enabled.")

    # ---------------------------------------------------------------- making ops
    def _derived(self, op_type: str, inputs: list[Tensor], specs: Any, attrs: dict | None = None) -> DatasetV1:
        return _source(op_type, inputs, specs, attrs)

    def _function(self, fn: Callable, kind: str, returns_dataset: bool = False) -> DatasetFunction:
        return DatasetFunction(fn, self._specs, kind, returns_dataset=returns_dataset)

    # ---------------------------------------------------------------- sources
    @staticmethod
    def from_tensors(tensors: Any) -> DatasetV1:
        """One element: `tensors` as they are."""
        with name_scope("tensors"):
            element = structure.normalize(tensors)
            specs = structure.specs_of(element)
            return _source("TensorDataset", _flat_tensors(element), specs)

    @staticmethod
    def from_tensor_slices(tensors: Any) -> DatasetV1:
        """The slices of `tensors` along their first dimension (which all must share)."""
        with name_scope("tensors"):
            element = structure.normalize(tensors)
        first = Dimension(None)
        for leaf in structure.flatten(element):
            if leaf.shape.ndims == 0:
                raise ValueError(f"Unbatching a tensor is only supported for rank >= 1, got {leaf.name} of rank 0")
            if leaf.shape.ndims is not None:
                first = first.merge_with(leaf.shape[0])
        specs = structure.map_structure(
            lambda leaf: structure.ComponentSpec(leaf.dtype, _row_shape(leaf.shape), structure.is_sparse(leaf)),
            element)
        return _source("TensorSliceDataset", _flat_tensors(element), specs)

    @staticmethod
    def range(*args: Any, output_type: Any = dtypes_lib.int64) -> DatasetV1:
        """`range(stop)`, `range(start, stop)`, `range(start, stop, step)`: int64 scalars."""
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid arguments to Dataset.range: {args}")
        start, stop, step = (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) == 3
                                                                     else 1)
        inputs = [convert_to_tensor(v, dtype=dtypes_lib.int64, name=n) for v, n in
                  zip((start, stop, step), ("start", "stop", "step"))]
        specs = structure.ComponentSpec(output_type, [])
        return _source("RangeDataset", inputs, specs)

    @staticmethod
    def zip(datasets: Any) -> DatasetV1:
        """Elements of several datasets side by side, in the structure of `datasets`."""
        flat = structure.flatten(datasets)
        for d in flat:
            if not isinstance(d, DatasetV1):
                raise TypeError(f"The argument to `Dataset.zip()` must be a (nested) structure of `Dataset` "
                                f"objects, got {type(d).__name__}")
        specs = structure.pack(datasets, [d._specs for d in flat])
        return _source("ZipDataset", [d._variant_tensor for d in flat], specs)

    @staticmethod
    def from_generator(generator: Callable, output_types: Any, output_shapes: Any = None,
                       args: Any = None) -> DatasetV1:
        from caudal.data.generator import from_generator

        return from_generator(generator, output_types, output_shapes, args)

    @staticmethod
    def list_files(file_pattern: Any, shuffle: bool | None = None, seed: int | None = None) -> DatasetV1:
        from caudal.data.readers import list_files

        return list_files(file_pattern, shuffle, seed)

    # ---------------------------------------------------------------- transformations
    def map(self, map_func: Callable, num_parallel_calls: int | None = None) -> DatasetV1:
        """`map_func` applied to each element; `num_parallel_calls` calls overlap on threads."""
        function = self._function(map_func, "map")
        captured = function.captured
        if num_parallel_calls is None:
            return self._derived("MapDataset", [self._variant_tensor] + captured, function.output_specs,
                                 {"f": function})
        parallel = convert_to_tensor(num_parallel_calls, dtype=dtypes_lib.int64, name="num_parallel_calls")
        return self._derived("ParallelMapDatasetV2", [self._variant_tensor] + captured + [parallel],
                             function.output_specs, {"f": function})

    def filter(self, predicate: Callable) -> DatasetV1:
        """The elements for which `predicate` returns True (a scalar tf.bool)."""
        function = self._function(predicate, "filter")
        check_scalar_bool(function)
        return self._derived("FilterDataset", [self._variant_tensor] + function.captured, self._specs,
                             {"predicate": function})

    def flat_map(self, map_func: Callable) -> DatasetV1:
        """The elements of the datasets `map_func` returns, one dataset after another."""
        function = self._function(map_func, "flat_map", returns_dataset=True)
        return self._derived("FlatMapDataset", [self._variant_tensor] + function.captured,
                             function.dataset._specs, {"f": function})

    def interleave(self, map_func: Callable, cycle_length: int = AUTOTUNE, block_length: int = 1,
                   num_parallel_calls: int | None = None) -> DatasetV1:
        """`cycle_length` of `map_func`'s datasets at a time, `block_length` elements from each in turn."""
        function = self._function(map_func, "interleave", returns_dataset=True)
        if cycle_length == AUTOTUNE:
            import os

            cycle_length = os.cpu_count() or 1
        inputs = [self._variant_tensor] + function.captured + [
            convert_to_tensor(cycle_length, dtype=dtypes_lib.int64, name="cycle_length"),
            convert_to_tensor(block_length, dtype=dtypes_lib.int64, name="block_length")]
        return self._derived("InterleaveDataset", inputs, function.dataset._specs, {"f": function})

    def batch(self, batch_size: Any, drop_remainder: bool = False) -> DatasetV1:
        """Consecutive elements stacked; the last batch may be smaller unless `drop_remainder`."""
        size = convert_to_tensor(batch_size, dtype=dtypes_lib.int64, name="batch_size")
        drop = convert_to_tensor(drop_remainder, dtype=dtypes_lib.bool_, name="drop_remainder")
        from caudal.framework.constant_value import constant_value

        static_size, static_drop = constant_value(size), constant_value(drop)
        batch_dim = int(static_size) if static_drop is not None and bool(static_drop) and static_size is not None \
            else None
        specs = structure.map_structure(lambda s: s.with_shape(TensorShape([batch_dim]).concatenate(s.shape)),
                                        self._specs)
        return self._derived("BatchDatasetV2", [self._variant_tensor, size, drop], specs)

    def padded_batch(self, batch_size: Any, padded_shapes: Any = None, padding_values: Any = None,
                     drop_remainder: bool = False) -> DatasetV1:
        """Batches of elements padded to `padded_shapes` (None or -1: the batch's longest) with
        `padding_values` (zeros and empty strings by default)."""
        from caudal.data.batching import padded_batch

        return padded_batch(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def shuffle(self, buffer_size: Any, seed: int | None = None,
                reshuffle_each_iteration: bool | None = None) -> DatasetV1:
        """Elements in a random order, drawn from a buffer of `buffer_size` (TF's buffer semantics)."""
        seed1, seed2 = get_seed(seed)
        inputs = [self._variant_tensor, convert_to_tensor(buffer_size, dtype=dtypes_lib.int64, name="buffer_size"),
                  convert_to_tensor(seed1 or 0, dtype=dtypes_lib.int64, name="seed"),
                  convert_to_tensor(seed2 or 0, dtype=dtypes_lib.int64, name="seed2")]
        reshuffle = True if reshuffle_each_iteration is None else bool(reshuffle_each_iteration)
        return self._derived("ShuffleDataset", inputs, self._specs, {"reshuffle_each_iteration": reshuffle})

    def repeat(self, count: Any = None) -> DatasetV1:
        """The dataset `count` times (None or -1: forever)."""
        count = convert_to_tensor(-1 if count is None else count, dtype=dtypes_lib.int64, name="count")
        return self._derived("RepeatDataset", [self._variant_tensor, count], self._specs)

    def take(self, count: Any) -> DatasetV1:
        count = convert_to_tensor(count, dtype=dtypes_lib.int64, name="count")
        return self._derived("TakeDataset", [self._variant_tensor, count], self._specs)

    def skip(self, count: Any) -> DatasetV1:
        count = convert_to_tensor(count, dtype=dtypes_lib.int64, name="count")
        return self._derived("SkipDataset", [self._variant_tensor, count], self._specs)

    def shard(self, num_shards: Any, index: Any) -> DatasetV1:
        """Every `num_shards`-th element, starting at `index`."""
        inputs = [self._variant_tensor, convert_to_tensor(num_shards, dtype=dtypes_lib.int64, name="num_shards"),
                  convert_to_tensor(index, dtype=dtypes_lib.int64, name="index")]
        return self._derived("ShardDataset", inputs, self._specs)

    def prefetch(self, buffer_size: Any) -> DatasetV1:
        """Up to `buffer_size` elements made ahead on a background thread."""
        size = convert_to_tensor(buffer_size, dtype=dtypes_lib.int64, name="buffer_size")
        return self._derived("PrefetchDataset", [self._variant_tensor, size], self._specs)

    def cache(self, filename: Any = "") -> DatasetV1:
        """The first complete pass kept in memory (or in files at `filename`) for the passes after it."""
        name = convert_to_tensor(filename, dtype=dtypes_lib.string, name="filename")
        return self._derived("CacheDataset", [self._variant_tensor, name], self._specs)

    def concatenate(self, dataset: DatasetV1) -> DatasetV1:
        """This dataset's elements, then `dataset`'s (the structures and types must match)."""
        structure.assert_same_structure(self._specs, dataset._specs)
        specs = []
        for a, b in zip(structure.flatten(self._specs), structure.flatten(dataset._specs)):
            if a.dtype != b.dtype or a.sparse != b.sparse:
                raise TypeError(f"Incompatible dataset elements:\n  {self.element_spec!r} vs. \n  "
                                f"{dataset.element_spec!r}")
            specs.append(a.with_shape(_most_specific_compatible_shape(a.shape, b.shape)))
        return self._derived("ConcatenateDataset", [self._variant_tensor, dataset._variant_tensor],
                             structure.pack(self._specs, specs))

    def apply(self, transformation_func: Callable[[DatasetV1], DatasetV1]) -> DatasetV1:
        result = transformation_func(self)
        if not isinstance(result, DatasetV1):
            raise TypeError("`transformation_func` must return a Dataset. Got " + repr(result))
        return result

    def unbatch(self) -> DatasetV1:
        """Each element split along its first dimension into several."""
        for spec in structure.flatten(self._specs):
            if spec.shape.ndims == 0:
                raise ValueError("Cannot unbatch an input with scalar components.")
        specs = structure.map_structure(lambda s: s.with_shape(_row_shape(s.shape)), self._specs)
        return self._derived("UnbatchDataset", [self._variant_tensor], specs)

    def with_options(self, options: Any) -> DatasetV1:
        return self

    # ---------------------------------------------------------------- iterators
    def make_one_shot_iterator(self) -> Any:
        from caudal.data.iterator_ops import make_one_shot_iterator

        return make_one_shot_iterator(self)

    def make_initializable_iterator(self, shared_name: str | None = None) -> Any:
        from caudal.data.iterator_ops import make_initializable_iterator

        return make_initializable_iterator(self, shared_name)


Dataset = DatasetV1


def _row_shape(shape: TensorShape) -> TensorShape:
    return TensorShape(None) if shape.ndims is None else TensorShape(shape.dims[1:])


def _source(op_type: str, inputs: list[Tensor], specs: Any, attrs: dict | None = None) -> DatasetV1:
    attrs = dict(attrs or {})
    attrs.update(_element_attrs(specs))
    variant = get_default_graph().create_op(op_type, inputs, attrs, op_type)._outputs[0]
    return DatasetV1(variant, specs)


def _most_specific_compatible_shape(a: TensorShape, b: TensorShape) -> TensorShape:
    """The shape both `a` and `b` have: unknown where they differ."""
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])
