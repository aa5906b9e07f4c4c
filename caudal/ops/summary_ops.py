"""Summary ops and `tf.summary` (TF1): each op's kernel returns a serialized `Summary` protobuf.

The op types and attrs are TensorFlow's (`ScalarSummary`, `HistogramSummary`,
`ImageSummary`, `AudioSummaryV2`, `TensorSummaryV2`, `MergeSummary`), so a
GraphDef with summaries lines up with TensorFlow's, and the bytes each kernel
produces are what TensorFlow's kernel produces: the same tags, values,
histogram buckets, image pixels (PNG) and audio samples (16-bit WAV); see
`caudal/ops/_summary_encoding.py`. None is differentiable. Errors found in the
values (NaN in a histogram, a badly shaped image) are InvalidArgumentErrors at
run time with TensorFlow's messages, as in TensorFlow.

The public functions build nodes the way TF1's `tf.summary.*` does: inside a
name scope named after the summary (prefixed `family/` with a family), whose
name, without the trailing slash, is the tag (prefixed `family/` again with a
family); the tag is a Const named `tag` (`tags` for scalars) in that scope;
the summary joins the `summaries` collection unless `collections` says
otherwise.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, InferContext, get_default_graph, make_op, name_scope
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.ops import _summary_encoding as encoding

__all__ = ["scalar", "histogram", "image", "audio", "text", "tensor_summary", "merge", "merge_all",
           "summary_scope", "clean_tag"]


_REAL_TYPES = (dtypes_lib.float32, dtypes_lib.float64, dtypes_lib.int32, dtypes_lib.uint8, dtypes_lib.int16,
               dtypes_lib.int8, dtypes_lib.int64, dtypes_lib.bfloat16, dtypes_lib.uint16, dtypes_lib.float16,
               dtypes_lib.uint32, dtypes_lib.uint64)
_IMAGE_TYPES = (dtypes_lib.uint8, dtypes_lib.float32, dtypes_lib.float16, dtypes_lib.float64)
_BAD_COLOR = np.array([255, 0, 0, 255], dtype=np.uint8)


def _summary_pb2() -> Any:
    from caudal.proto import summary_pb2

    return summary_pb2


# ------------------------------------------------------------ shared pieces
def _check_type(ctx: InferContext, i: int, allowed: tuple, param: str) -> dtypes_lib.DType:
    dtype = ctx.dtype(i)
    if dtype not in allowed:
        names = ", ".join(t.name for t in allowed)
        raise TypeError(f"Value passed to parameter '{param}' has DataType {dtype.name} not in list of "
                        f"allowed values: {names}")
    return dtype


def _check_string(ctx: InferContext, i: int, param: str) -> None:
    if ctx.dtype(i) is not dtypes_lib.string:
        raise TypeError(f"Input '{param}' of '{ctx.type}' Op has type {ctx.dtype(i).name} that does not match "
                        f"expected type of string.")


_SCALAR_STRING = [(dtypes_lib.string, [])]


def _shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _text_of(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _serialized(summary: Any) -> np.ndarray:
    """A scalar string value holding the serialized summary (0-d object array, never stripped of NULs)."""
    result = np.empty((), dtype=object)
    result[()] = summary.SerializeToString()
    return result


def _invalid(op: Any, message: str) -> Exception:
    from caudal.errors import InvalidArgumentError

    return InvalidArgumentError(None, op, message)


# ------------------------------------------------------------ ScalarSummary
def _scalar_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "tags")
    _check_type(ctx, 1, _REAL_TYPES, "values")
    return _SCALAR_STRING


def _scalar_kernel(xp: Any, tags: Any, values: Any, *, op: Any) -> np.ndarray:
    tags = np.asarray(tags, dtype=object)
    values = np.asarray(values)
    if tags.shape != values.shape:
        single = f" (tag '{_text_of(tags.reshape(-1)[0])}')" if tags.size == 1 else ""
        raise _invalid(op, f"tags and values are not the same shape: {_shape_text(tags.shape)} != "
                           f"{_shape_text(values.shape)}{single}")
    summary = _summary_pb2().Summary()
    for tag, value in zip(tags.reshape(-1), values.reshape(-1)):
        summary.value.add(tag=_text_of(tag), simple_value=float(value))
    return _serialized(summary)


register_op("ScalarSummary", infer=_scalar_infer, kernel=_scalar_kernel, grad=NOT_DIFFERENTIABLE)


# --------------------------------------------------------- HistogramSummary
def _histogram_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "tag")
    _check_type(ctx, 1, _REAL_TYPES, "values")
    return _SCALAR_STRING


def _histogram_kernel(xp: Any, tag: Any, values: Any, *, op: Any) -> np.ndarray:
    flat = np.asarray(values).reshape(-1)
    if flat.dtype.kind == "f":
        bad = ~np.isfinite(flat)
        if bad.any():
            first = flat[int(np.argmax(bad))]
            if np.isnan(first):
                raise _invalid(op, f"Nan in summary histogram for: {op.name}")
            raise _invalid(op, f"Infinity in Histogram for: {op.name}")
    summary_pb2 = _summary_pb2()
    summary = summary_pb2.Summary()
    summary.value.add(tag=_text_of(np.asarray(tag, dtype=object).item()),
                      histo=summary_pb2.HistogramProto(**encoding.histogram_buckets(flat)))
    return _serialized(summary)


register_op("HistogramSummary", infer=_histogram_infer, kernel=_histogram_kernel, grad=NOT_DIFFERENTIABLE)


# ------------------------------------------------------------- ImageSummary
def _image_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "tag")
    _check_type(ctx, 1, _IMAGE_TYPES, "tensor")
    return _SCALAR_STRING


def _numbered_tags(base: str, kind: str, count: int, max_outputs: int) -> list[str]:
    """`base/kind` when at most one output is asked for, else `base/kind/0`, `base/kind/1`, ..."""
    if max_outputs == 1:
        return [f"{base}/{kind}"] * count
    return [f"{base}/{kind}/{i}" for i in range(count)]


def _image_kernel(xp: Any, tag: Any, tensor: Any, *, max_images: int, bad_color: Any, op: Any) -> np.ndarray:
    images = np.asarray(tensor)
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise _invalid(op, f"Tensor must be 4-D with last dim 1, 3, or 4, not {_shape_text(images.shape)}")
    bad = np.asarray(bad_color, dtype=np.uint8).reshape(-1)
    if bad.size < images.shape[-1]:
        raise _invalid(op, f"bad_color must have at least {images.shape[-1]} values, got {bad.size}")
    summary_pb2 = _summary_pb2()
    summary = summary_pb2.Summary()
    count = min(images.shape[0], max_images)
    base = _text_of(np.asarray(tag, dtype=object).item())
    for i, image_tag in enumerate(_numbered_tags(base, "image", count, max_images)):
        pixels = encoding.image_to_uint8(images[i], bad)
        height, width, depth = pixels.shape
        summary.value.add(tag=image_tag, image=summary_pb2.Summary.Image(
            height=height, width=width, colorspace=depth, encoded_image_string=encoding.encode_png(pixels)))
    return _serialized(summary)


register_op("ImageSummary", infer=_image_infer, kernel=_image_kernel, grad=NOT_DIFFERENTIABLE)


# ----------------------------------------------------------- AudioSummaryV2
def _audio_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "tag")
    for i, param in ((1, "tensor"), (2, "sample_rate")):
        if ctx.dtype(i) is not dtypes_lib.float32:
            raise TypeError(f"Input '{param}' of 'AudioSummaryV2' Op has type {ctx.dtype(i).name} that does not "
                            f"match expected type of float32.")
    return _SCALAR_STRING


def _audio_kernel(xp: Any, tag: Any, tensor: Any, sample_rate: Any, *, max_outputs: int, op: Any) -> np.ndarray:
    clips = np.asarray(tensor)
    if clips.ndim not in (2, 3):
        raise _invalid(op, f"Tensor must be 3-D or 2-D, got: {_shape_text(clips.shape)}")
    rate = np.asarray(sample_rate)
    if rate.size != 1:
        raise _invalid(op, "sample_rate must be rank-0 or contain a single value")
    rate = float(rate.reshape(-1)[0])
    if clips.ndim == 2:
        clips = clips[:, :, None]
    summary_pb2 = _summary_pb2()
    summary = summary_pb2.Summary()
    count = min(clips.shape[0], max_outputs)
    base = _text_of(np.asarray(tag, dtype=object).item())
    for i, audio_tag in enumerate(_numbered_tags(base, "audio", count, max_outputs)):
        frames, channels = clips[i].shape
        summary.value.add(tag=audio_tag, audio=summary_pb2.Summary.Audio(
            sample_rate=rate, num_channels=channels, length_frames=frames,
            encoded_audio_string=encoding.encode_wav(clips[i], rate), content_type="audio/wav"))
    return _serialized(summary)


register_op("AudioSummaryV2", infer=_audio_infer, kernel=_audio_kernel, grad=NOT_DIFFERENTIABLE)


# ---------------------------------------------------------- TensorSummaryV2
def _tensor_summary_infer(ctx: InferContext) -> list:
    _check_string(ctx, 0, "tag")
    _check_string(ctx, 2, "serialized_summary_metadata")
    return _SCALAR_STRING


def _tensor_summary_kernel(xp: Any, tag: Any, tensor: Any, serialized_summary_metadata: Any, *,
                           op: Any) -> np.ndarray:
    from caudal.framework.tensor_util import make_tensor_proto

    summary = _summary_pb2().Summary()
    value = summary.value.add(tag=_text_of(np.asarray(tag, dtype=object).item()))
    value.metadata.SetInParent()
    try:
        value.metadata.MergeFromString(bytes(np.asarray(serialized_summary_metadata, dtype=object).item()))
    except Exception:
        raise _invalid(op, "Could not parse serialized_summary_metadata") from None
    value.tensor.CopyFrom(make_tensor_proto(np.asarray(tensor)))
    return _serialized(summary)


register_op("TensorSummaryV2", infer=_tensor_summary_infer, kernel=_tensor_summary_kernel, grad=NOT_DIFFERENTIABLE)


# ------------------------------------------------------------- MergeSummary
def _merge_infer(ctx: InferContext) -> list:
    if not ctx.inputs:
        raise ValueError("List argument 'inputs' to 'MergeSummary' Op with length 0 shorter than minimum length 1.")
    types = [ctx.dtype(i) for i in range(len(ctx.inputs))]
    if any(t is not dtypes_lib.string for t in types):
        raise TypeError(f"Tensors in list passed to 'inputs' of 'MergeSummary' Op have types "
                        f"[{', '.join(t.name for t in types)}] that do not match expected type string.")
    return _SCALAR_STRING


def _merge_kernel(xp: Any, *inputs: Any, op: Any) -> np.ndarray:
    summary_pb2 = _summary_pb2()
    merged = summary_pb2.Summary()
    seen: set[str] = set()
    for array in inputs:
        for serialized in np.asarray(array, dtype=object).reshape(-1):
            part = summary_pb2.Summary()
            try:
                part.ParseFromString(bytes(serialized))
            except Exception:
                raise _invalid(op, "Could not parse one of the summary inputs") from None
            for value in part.value:
                if value.tag in seen:
                    raise _invalid(op, f"Duplicate tag {value.tag} found in summary inputs ")
                seen.add(value.tag)
                merged.value.add().CopyFrom(value)
    return _serialized(merged)


register_op("MergeSummary", infer=_merge_infer, kernel=_merge_kernel, grad=NOT_DIFFERENTIABLE)


# ------------------------------------------------------------- tf.summary.*
_INVALID_TAG_CHARACTERS = re.compile(r"[^-/\w\.]")


def clean_tag(name: str | None) -> str | None:
    """A summary name as TF1 cleans it: characters outside `[-/\\w.]` become `_`, leading `/` go."""
    if name is None:
        return None
    cleaned = _INVALID_TAG_CHARACTERS.sub("_", name).lstrip("/")
    if cleaned != name:
        import logging

        logging.getLogger(__name__).info("Summary name %s is illegal; using %s instead.", name, cleaned)
    return cleaned


@contextlib.contextmanager
def summary_scope(name: str, family: str | None = None, default_name: str | None = None,
                  values: Any = None) -> Iterator[tuple[str, str]]:
    """(tag, scope) of a TF1 summary: the scope `[family/]name`, the tag `[family/]` + the scope's name."""
    name = clean_tag(name)
    family = clean_tag(family)
    base = name if family is None else f"{family}/{name}"
    with name_scope(base, default_name, values) as scope:
        tag = scope.rstrip("/") if family is None else f"{family}/{scope.rstrip('/')}"
        yield tag, scope


def _collect(value: Tensor, collections: Any, default: list[str]) -> None:
    keys = default if collections is None else collections
    graph = value.graph
    for key in keys:
        graph.add_to_collection(key, value)


def _summary_node(op_type: str, inputs: list[Tensor], attrs: dict[str, Any], scope: str) -> Tensor:
    """The summary op itself, named after its scope (without the trailing slash)."""
    return make_op(op_type, inputs, attrs, name=scope)._outputs[0]


def _tag_const(tag: str, name: str) -> Tensor:
    from caudal.ops.constant_ops import constant

    return constant(tag, dtype=dtypes_lib.string, name=name)


def scalar(name: str, tensor: Any, collections: list[str] | None = None, family: str | None = None) -> Tensor:
    """`tf.summary.scalar`: a `ScalarSummary` whose value is the scalar `tensor` (any real dtype).

    A non-scalar tensor fails at run time ("tags and values are not the same shape"), as in TF.
    """
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        tags = _tag_const(tag, "tags")
        values = convert_to_tensor(tensor, name="values")
        result = _summary_node("ScalarSummary", [tags, values], {"T": values.dtype.base_dtype}, scope)
    _collect(result, collections, [GraphKeys.SUMMARIES])
    return result


def histogram(name: str, values: Any, collections: list[str] | None = None, family: str | None = None) -> Tensor:
    """`tf.summary.histogram`: a `HistogramSummary` of every element of `values` in TF's default buckets.

    NaN or infinite values fail at run time with InvalidArgumentError, as in TF.
    """
    with summary_scope(name, family, values=[values]) as (tag, scope):
        tag_tensor = _tag_const(tag, "tag")
        values = convert_to_tensor(values, name="values")
        result = _summary_node("HistogramSummary", [tag_tensor, values], {"T": values.dtype.base_dtype}, scope)
    _collect(result, collections, [GraphKeys.SUMMARIES])
    return result


def image(name: str, tensor: Any, max_outputs: int = 3, collections: list[str] | None = None,
          family: str | None = None) -> Tensor:
    """`tf.summary.image`: PNG images of the first `max_outputs` of a [batch, height, width, 1|3|4] tensor.

    Tags are `tag/image` when `max_outputs` is 1, else `tag/image/0`, `tag/image/1`, ...; float images
    are rescaled per image as TF does (see `_summary_encoding.image_to_uint8`).
    """
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        tag_tensor = _tag_const(tag, "tag")
        tensor = convert_to_tensor(tensor, name="tensor")
        attrs = {"max_images": int(max_outputs), "T": tensor.dtype.base_dtype, "bad_color": _BAD_COLOR.copy()}
        result = _summary_node("ImageSummary", [tag_tensor, tensor], attrs, scope)
    _collect(result, collections, [GraphKeys.SUMMARIES])
    return result


def audio(name: str, tensor: Any, sample_rate: Any, max_outputs: int = 3, collections: list[str] | None = None,
          family: str | None = None) -> Tensor:
    """`tf.summary.audio`: 16-bit WAV clips of the first `max_outputs` of a [batch, frames(, channels)] tensor.

    Samples are float32 in [-1, 1]; tags are `tag/audio` when `max_outputs` is 1, else `tag/audio/i`.
    """
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        rate = convert_to_tensor(sample_rate, dtype=dtypes_lib.float32, name="sample_rate")
        tag_tensor = _tag_const(tag, "tag")
        tensor = convert_to_tensor(tensor, name="tensor")
        result = _summary_node("AudioSummaryV2", [tag_tensor, tensor, rate], {"max_outputs": int(max_outputs)},
                               scope)
    _collect(result, collections, [GraphKeys.SUMMARIES])
    return result


def _metadata_bytes(metadata: Any) -> bytes:
    if isinstance(metadata, bytes):
        return metadata
    return metadata.SerializeToString()  # ours or TensorBoard's SummaryMetadata


def tensor_summary(name: str, tensor: Any, summary_description: str | None = None,
                   collections: list[str] | None = None, summary_metadata: Any = None, family: str | None = None,
                   display_name: str | None = None) -> Tensor:
    """`tf.summary.tensor_summary`: a `TensorSummaryV2` holding the whole tensor as a TensorProto.

    `summary_metadata` (a SummaryMetadata, ours or TensorBoard's, or its bytes) names the plugin;
    `summary_description` and `display_name` are set on it when given.
    """
    metadata = _summary_pb2().SummaryMetadata()
    if summary_metadata is not None:
        metadata.MergeFromString(_metadata_bytes(summary_metadata))
    if summary_description is not None:
        metadata.summary_description = summary_description
    if display_name is not None:
        metadata.display_name = display_name
    with summary_scope(name, family, values=[tensor]) as (tag, scope):
        tag_tensor = _tag_const(tag, "tag")
        tensor = convert_to_tensor(tensor, name="tensor")
        meta_tensor = _tag_const(metadata.SerializeToString(), "serialized_summary_metadata")
        result = _summary_node("TensorSummaryV2", [tag_tensor, tensor, meta_tensor],
                               {"T": tensor.dtype.base_dtype}, scope)
    _collect(result, collections, [GraphKeys.SUMMARIES])
    return result


def text(name: str, tensor: Any, collections: list[str] | None = None) -> Tensor:
    """`tf.summary.text`: a string tensor as a tensor summary for TensorBoard's text plugin.

    A tensor of another dtype is a ValueError, as in TF.
    """
    tensor = convert_to_tensor(tensor) if not isinstance(tensor, Tensor) else tensor
    if tensor.dtype.base_dtype is not dtypes_lib.string:
        raise ValueError(f"Expected tensor {tensor.name} to have dtype string, got <dtype: '{tensor.dtype.name}'>")
    metadata = _summary_pb2().SummaryMetadata()
    metadata.plugin_data.plugin_name = "text"
    return tensor_summary(name, tensor, summary_metadata=metadata, collections=collections)


def merge(inputs: list[Any], collections: list[str] | None = None, name: str | None = None) -> Tensor:
    """`tf.summary.merge`: one `MergeSummary` of serialized summaries; duplicate tags fail at run time.

    The node is `Merge/MergeSummary` (or `name/name`); it joins `collections` only when given.
    """
    with name_scope(name, "Merge", inputs):
        tensors = [convert_to_tensor(t) for t in inputs]
        result = make_op("MergeSummary", tensors, {"N": len(tensors)}, name=name)._outputs[0]
    _collect(result, collections, [])
    return result


def merge_all(key: str = GraphKeys.SUMMARIES, scope: str | None = None, name: str | None = None) -> Tensor | None:
    """`tf.summary.merge_all`: merges the summaries in collection `key` (matching `scope`), or None if none."""
    summaries = get_default_graph().get_collection(key, scope=scope)
    if not summaries:
        return None
    return merge(summaries, name=name)
