"""Checkpoint I/O ops: SaveV2, RestoreV2, MergeV2Checkpoints, and the string ops a sharded Saver uses
(ShardedFilename, StringJoin, StaticRegexFullMatch).

They carry TensorFlow's op type names, inputs and attrs, so a Saver graph
written by TensorFlow (in a `.meta` file) runs in caudal, and ours runs in
TensorFlow. The kernels are stateful (they touch files): SaveV2 writes a
tensor bundle (atomically: temporary files renamed into place), RestoreV2
reads tensors back, checking dtypes and checksums; MergeV2Checkpoints joins
the bundles of several shards into one.
"""
from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError, NotFoundError, UnimplementedError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, make_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape

__all__ = ["save_v2", "restore_v2", "merge_v2_checkpoints", "sharded_filename", "string_join",
           "static_regex_full_match", "compile_re2"]


def _text(value: Any) -> str:
    item = np.asarray(value, dtype=object).reshape(-1)
    if item.size != 1:
        raise InvalidArgumentError(None, None, f"Expected a scalar string, got shape {list(np.shape(value))}")
    item = item[0]
    return item.decode("utf-8") if isinstance(item, bytes) else str(item)


def _texts(value: Any) -> list[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in np.asarray(value, dtype=object).reshape(-1)]


def _check_string(ctx: InferContext, index: int, what: str, rank: int) -> None:
    if ctx.dtype(index) is not dtypes_lib.string:
        raise TypeError(f"Input '{what}' of '{ctx.type}' Op has type {ctx.dtype(index).name} that does not match "
                        "expected type of string.")
    ndims = ctx.shape(index).ndims
    if ndims is not None and ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {ndims} for '{ctx.name}' (op: '{ctx.type}')")


# ---------------------------------------------------------------- SaveV2
def _save_v2_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "prefix", 0)
    _check_string(ctx, 1, "tensor_names", 1)
    _check_string(ctx, 2, "shape_and_slices", 1)
    dtypes = [dtypes_lib.as_dtype(d) for d in ctx.attrs["dtypes"]]
    got = [t.dtype.base_dtype for t in ctx.inputs[3:]]
    if dtypes != got:
        raise TypeError(f"'{ctx.type}' dtypes attr {[d.name for d in dtypes]} does not match its tensors' dtypes "
                        f"{[d.name for d in got]}")
    return []


def _save_v2_kernel(ctx: Any, prefix: Any, tensor_names: Any, shape_and_slices: Any, *tensors: Any,
                    dtypes: list) -> None:
    from caudal.checkpoint.bundle import BundleWriter

    names = _texts(tensor_names)
    slices = _texts(shape_and_slices)
    if len(names) != len(tensors) or len(slices) != len(tensors):
        raise InvalidArgumentError(None, None, f"Expected {len(tensors)} tensor names and shape-and-slices, got "
                                               f"{len(names)} and {len(slices)}")
    if any(slices):
        raise UnimplementedError(None, None, "SaveV2 of tensor slices (partitioned variables) is not supported")
    writer = BundleWriter(_text(prefix))
    try:
        for name, value, dtype in zip(names, tensors, dtypes):
            writer.add(name, value, dtype)
    except BaseException:
        writer.abort()
        raise
    writer.finish()


register_op("SaveV2", infer=_save_v2_infer, kernel=_save_v2_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)


def save_v2(prefix: Any, tensor_names: Any, shape_and_slices: Any, tensors: list[Any],
            name: str | None = None) -> Any:
    """`tf.raw_ops.SaveV2`: writes `tensors` under `tensor_names` as the V2 checkpoint `prefix`."""
    tensors = [t if isinstance(t, Tensor) else convert_to_tensor(t) for t in tensors]
    inputs = [convert_to_tensor(prefix, dtype=dtypes_lib.string),
              convert_to_tensor(tensor_names, dtype=dtypes_lib.string),
              convert_to_tensor(shape_and_slices, dtype=dtypes_lib.string)] + tensors
    return make_op("SaveV2", inputs, {"dtypes": [t.dtype.base_dtype for t in tensors]}, name or "SaveV2")


# ------------------------------------------------------------- RestoreV2
def _restore_v2_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "prefix", 0)
    _check_string(ctx, 1, "tensor_names", 1)
    _check_string(ctx, 2, "shape_and_slices", 1)
    slices = ctx.value(2)
    result = []
    for i, dtype in enumerate(ctx.attrs["dtypes"]):
        shape = unknown_shape()
        if slices is not None and i < len(slices.reshape(-1)):
            spec = slices.reshape(-1)[i]
            spec = spec.decode() if isinstance(spec, bytes) else str(spec)
            if spec:
                shape = TensorShape(_parse_slice_spec(spec)[1])
        result.append((dtypes_lib.as_dtype(dtype), shape))
    return result


def _parse_slice_spec(spec: str) -> tuple[list[int], list[int], list[slice]]:
    """("4 5 0,2:-") -> (full shape, slice shape, index): TF's "shape_and_slice" strings."""
    parts = spec.strip().split(" ")
    try:
        full = [int(p) for p in parts[:-1]]
        extents = parts[-1].split(":")
        if len(extents) != len(full):
            raise ValueError
        index = []
        shape = []
        for dim, extent in zip(full, extents):
            if extent == "-":
                index.append(slice(0, dim))
                shape.append(dim)
            else:
                start, length = (int(x) for x in extent.split(","))
                index.append(slice(start, start + length))
                shape.append(length)
    except ValueError:
        raise InvalidArgumentError(None, None, f"Unable to parse shape and slice spec {spec!r}") from None
    return full, shape, index


def _restore_v2_kernel(ctx: Any, prefix: Any, tensor_names: Any, shape_and_slices: Any, *,
                       dtypes: list) -> Any:
    from caudal.checkpoint.bundle import BundleReader

    names = _texts(tensor_names)
    slices = _texts(shape_and_slices)
    if len(names) != len(dtypes) or len(slices) != len(dtypes):
        raise InvalidArgumentError(None, None, f"Expected {len(dtypes)} tensor names and shape-and-slices, got "
                                               f"{len(names)} and {len(slices)}")
    with BundleReader(_text(prefix)) as reader:
        missing = [n for n in names if not reader.has(n)]
        if missing:
            raise NotFoundError(None, None, "\n".join(f"Key {n} not found in checkpoint" for n in missing))
        results = []
        for name, spec, dtype in zip(names, slices, dtypes):
            dtype = dtypes_lib.as_dtype(dtype)
            stored = reader.dtype(name)
            if stored != dtype:
                raise InvalidArgumentError(None, None, f"tensor_name = {name}; expected dtype {dtype.name} does not "
                                                       f"equal original dtype {stored.name}")
            value = reader.read(name)
            if spec:
                full, _, index = _parse_slice_spec(spec)
                if list(value.shape) != full:
                    raise InvalidArgumentError(None, None, f"tensor_name = {name}; shape in shape_and_slice spec "
                                                           f"{full} does not match the shape stored in checkpoint: "
                                                           f"{list(value.shape)}")
                value = np.ascontiguousarray(value[tuple(index)])
            results.append(value)
    return results[0] if len(results) == 1 else tuple(results)


register_op("RestoreV2", infer=_restore_v2_infer, kernel=_restore_v2_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)


def restore_v2(prefix: Any, tensor_names: Any, shape_and_slices: Any, dtypes: list[Any],
               name: str | None = None) -> list[Tensor]:
    """`tf.raw_ops.RestoreV2`: one tensor per name, read from the V2 checkpoint `prefix`."""
    inputs = [convert_to_tensor(prefix, dtype=dtypes_lib.string),
              convert_to_tensor(tensor_names, dtype=dtypes_lib.string),
              convert_to_tensor(shape_and_slices, dtype=dtypes_lib.string)]
    op = make_op("RestoreV2", inputs, {"dtypes": [dtypes_lib.as_dtype(d).base_dtype for d in dtypes]},
                 name or "RestoreV2")
    return list(op.outputs)


# ---------------------------------------------------- MergeV2Checkpoints
def _merge_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "checkpoint_prefixes", 1)
    _check_string(ctx, 1, "destination_prefix", 0)
    return []


def _merge_kernel(ctx: Any, checkpoint_prefixes: Any, destination_prefix: Any, *, delete_old_dirs: bool,
                  allow_missing_files: bool = False) -> None:
    from caudal.checkpoint.bundle import _os_error

    destination = _text(destination_prefix)
    try:
        merge_bundles(_texts(checkpoint_prefixes), destination, delete_old_dirs, allow_missing_files)
    except OSError as e:  # a full disk, no permission: the old checkpoint at the destination stands
        raise _os_error(e, e.filename or destination) from None


def merge_bundles(prefixes: list[str], destination: str, delete_old_dirs: bool = True,
                  allow_missing_files: bool = False) -> None:
    """Joins the bundles at `prefixes` into one at `destination` (shard i = the i-th bundle).

    Data files are moved, not copied, and the merged index written durably;
    the moves and the index's rename are committed together through the
    destination's journal (`caudal.checkpoint.durable`), so a process killed
    meanwhile leaves the old checkpoint at `destination` or the new one. Then
    the old index files (and, with `delete_old_dirs`, their emptied
    directories) are removed.
    """
    from caudal.checkpoint import durable
    from caudal.checkpoint.bundle import BundleReader, data_filename, index_filename, write_index
    from caudal.proto import tensor_bundle_pb2, versions_pb2

    readers = []
    for prefix in prefixes:
        if allow_missing_files and not os.path.exists(index_filename(prefix)):
            continue
        readers.append(BundleReader(prefix))
    if not readers:
        raise InvalidArgumentError(None, None, "MergeV2Checkpoints: none of the checkpoint prefixes exists")
    num_shards = sum(r.num_shards for r in readers)
    entries: dict[bytes, Any] = {}
    moves = []
    shard = 0
    for reader in readers:
        for name, entry in reader.entries.items():
            key = name.encode("utf-8", "surrogateescape")
            if key in entries:
                raise InvalidArgumentError(None, None, f"Duplicate tensor keyed by {name} encountered, when "
                                                       "merging prefix: " + reader.prefix)
            merged = tensor_bundle_pb2.BundleEntryProto()
            merged.CopyFrom(entry)
            merged.shard_id = entry.shard_id + shard
            entries[key] = merged
        for i in range(reader.num_shards):
            moves.append((reader.data_path(i), data_filename(destination, shard + i, num_shards)))
        shard += reader.num_shards
        reader.close()
    header = tensor_bundle_pb2.BundleHeaderProto(num_shards=num_shards,
                                                 endianness=tensor_bundle_pb2.BundleHeaderProto.LITTLE,
                                                 version=versions_pb2.VersionDef(producer=1))
    durable.recover(destination)
    durable.remove_stale_temporaries(destination)
    tmp = durable.temporary_name(index_filename(destination))
    try:
        write_index(tmp, header, entries)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    renames = [(s, t) for s, t in moves if os.path.abspath(s) != os.path.abspath(t)]
    durable.commit_renames(destination, renames + [(tmp, index_filename(destination))])
    for reader in readers:
        if os.path.abspath(reader.prefix) != os.path.abspath(destination):
            try:
                os.remove(index_filename(reader.prefix))
            except OSError:
                pass
            if delete_old_dirs:
                try:
                    os.rmdir(os.path.dirname(reader.prefix))
                except OSError:
                    pass  # not empty, or not ours: left alone as TF does


register_op("MergeV2Checkpoints", infer=_merge_infer, kernel=_merge_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)


def merge_v2_checkpoints(checkpoint_prefixes: Any, destination_prefix: Any, delete_old_dirs: bool = True,
                         allow_missing_files: bool = False, name: str | None = None) -> Any:
    """`tf.raw_ops.MergeV2Checkpoints`."""
    inputs = [convert_to_tensor(checkpoint_prefixes, dtype=dtypes_lib.string),
              convert_to_tensor(destination_prefix, dtype=dtypes_lib.string)]
    return make_op("MergeV2Checkpoints", inputs, {"delete_old_dirs": delete_old_dirs,
                                                  "allow_missing_files": allow_missing_files},
                   name or "MergeV2Checkpoints")


# ---------------------------------------------------------- string ops
def _sharded_filename_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "basename", 0)
    return [(dtypes_lib.string, TensorShape([]))]


def _sharded_filename_kernel(xp: Any, basename: Any, shard: Any, num_shards: Any) -> Any:
    return np.array(f"{_text(basename)}-{int(shard):05d}-of-{int(num_shards):05d}".encode(), dtype=object)


register_op("ShardedFilename", infer=_sharded_filename_infer, kernel=_sharded_filename_kernel,
            grad=NOT_DIFFERENTIABLE)


def sharded_filename(basename: Any, shard: Any, num_shards: Any, name: str | None = None) -> Tensor:
    """`BASENAME-SSSSS-of-NNNNN` (TF's ShardedFilename)."""
    return apply_op("ShardedFilename", [convert_to_tensor(basename, dtype=dtypes_lib.string),
                                        convert_to_tensor(shard, dtype=dtypes_lib.int32),
                                        convert_to_tensor(num_shards, dtype=dtypes_lib.int32)], {},
                    name or "ShardedFilename")


def _string_join_infer(ctx: InferContext) -> list:
    shape = TensorShape([])
    for i in range(len(ctx.inputs)):
        _check_string(ctx, i, "inputs", ctx.shape(i).ndims if ctx.shape(i).ndims is not None else 0)
        if ctx.shape(i).ndims:
            shape = ctx.shape(i) if shape.ndims == 0 else shape.merge_with(ctx.shape(i))
    return [(dtypes_lib.string, shape)]


def _string_join_kernel(xp: Any, *inputs: Any, separator: str) -> Any:
    arrays = [np.asarray(x, dtype=object) for x in inputs]
    shape = np.broadcast_shapes(*[a.shape for a in arrays])
    sep = separator.encode("utf-8") if isinstance(separator, str) else separator
    result = np.empty(shape, dtype=object)
    broadcast = [np.broadcast_to(a, shape) for a in arrays]
    for index in np.ndindex(*shape):
        parts = [b[index] for b in broadcast]
        result[index] = sep.join(p if isinstance(p, bytes) else str(p).encode() for p in parts)
    return result


register_op("StringJoin", infer=_string_join_infer, kernel=_string_join_kernel, grad=NOT_DIFFERENTIABLE)


def string_join(inputs: list[Any], separator: str = "", name: str | None = None) -> Tensor:
    """`tf.strings.join`: elementwise concatenation of string tensors (scalars broadcast)."""
    tensors = [convert_to_tensor(x, dtype=dtypes_lib.string) for x in inputs]
    return apply_op("StringJoin", tensors, {"N": len(tensors), "separator": separator}, name or "StringJoin")


@functools.lru_cache(maxsize=256)
def compile_re2(pattern: str) -> Any:
    """`pattern` compiled by RE2 (the `google-re2` package), TensorFlow's regex engine.

    RE2 matches in time linear in the input, so no pattern (`(a+)+$`) can
    hang the process; its syntax is TF's (no backreferences, `.` does not
    match a newline). A bad pattern is InvalidArgumentError with TF's text.
    """
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as e:
        reason = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise InvalidArgumentError(None, None, f"Invalid pattern: {pattern}, error: {reason}") from None


def _regex_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "input", ctx.shape(0).ndims if ctx.shape(0).ndims is not None else 0)
    pattern = ctx.attrs["pattern"]
    try:
        compile_re2(pattern.decode("utf-8") if isinstance(pattern, bytes) else pattern)
    except InvalidArgumentError as e:
        raise ValueError(e.message) from None
    return [(dtypes_lib.bool_, ctx.shape(0))]


def _regex_kernel(xp: Any, input: Any, *, pattern: str) -> Any:
    regex = compile_re2(pattern.decode("utf-8") if isinstance(pattern, bytes) else pattern)
    values = np.asarray(input, dtype=object)
    flat = [regex.fullmatch(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)) is not None
            for v in values.reshape(-1)]
    return np.array(flat, dtype=bool).reshape(values.shape)


register_op("StaticRegexFullMatch", infer=_regex_infer, kernel=_regex_kernel, grad=NOT_DIFFERENTIABLE)


def static_regex_full_match(input: Any, pattern: str, name: str | None = None) -> Tensor:
    """Whether each string matches `pattern` entirely (TF's StaticRegexFullMatch, on RE2: linear time)."""
    return apply_op("StaticRegexFullMatch", [convert_to_tensor(input, dtype=dtypes_lib.string)],
                    {"pattern": pattern}, name or "StaticRegexFullMatch")
