"""TensorFlow's deprecated top-level names: each works as TF's and warns once, in TF's words.

Two kinds:

- names TF 1.15 still has but deprecates (`tf.to_float`, `tf.arg_max`,
  `tf.initialize_all_variables`, ...): the date and instructions are TF's
  (as TF 2.21's `tf.compat.v1` prints them);
- the pre-1.0 spellings that tutorials still use and TF 1.0 removed
  (`tf.mul`, `tf.sub`, `tf.neg`, `tf.pack`, `tf.unpack`, `tf.select`,
  `tf.concat_v2`, `tf.scalar_summary`, `tf.histogram_summary`,
  `tf.image_summary`, `tf.audio_summary`, `tf.merge_summary`,
  `tf.merge_all_summaries`), with TF 0.12's signatures and deprecation texts
  where it had them. The old summary functions take the tag as given (no
  name scope in it) and build TF's summary ops in a scope named after the op
  type (`ScalarSummary`, `HistogramSummary`, ...), as TF 0.12 did.
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, get_default_graph, make_op, name_scope
from caudal.framework.tensor import Tensor
from caudal.framework_extras import tables_initializer
from caudal.ops import array_ops, clip_ops, comparison_ops, math_ops, random_ops, reduction_ops, summary_ops
from caudal.util.deprecation import deprecated_alias
from caudal.util.deprecation import warn_deprecated as _warn

__all__ = ["all_variables", "arg_max", "arg_min", "audio_summary", "batch_gather", "clip_by_average_norm",
           "concat_v2", "div", "histogram_summary", "image_summary", "initialize_all_tables",
           "initialize_all_variables", "initialize_local_variables", "initialize_variables", "merge_all_summaries",
           "merge_summary", "mul", "multinomial", "neg", "pack", "scalar_summary", "select", "sub", "to_bfloat16",
           "to_complex64", "to_complex128", "to_double", "to_float", "to_int32", "to_int64", "unpack"]

_USE_CAST = "Use `tf.cast` instead."


# ------------------------------------------------------- helpers they wrap
def _to_bfloat16(x: Any, name: str = "ToBFloat16") -> Tensor:
    return math_ops.cast(x, dtypes_lib.bfloat16, name=name)


def _to_complex64(x: Any, name: str = "ToComplex64") -> Tensor:
    return math_ops.cast(x, dtypes_lib.complex64, name=name)


def _to_complex128(x: Any, name: str = "ToComplex128") -> Tensor:
    return math_ops.cast(x, dtypes_lib.complex128, name=name)


def _arg_max(input: Any, dimension: Any, output_type: Any = dtypes_lib.int64,  # noqa: A002 - TF's name
             name: str | None = None) -> Tensor:
    return reduction_ops.argmax(input, axis=dimension, output_type=output_type, name=name)


def _arg_min(input: Any, dimension: Any, output_type: Any = dtypes_lib.int64,  # noqa: A002 - TF's name
             name: str | None = None) -> Tensor:
    return reduction_ops.argmin(input, axis=dimension, output_type=output_type, name=name)


def _variables() -> Any:
    import caudal.variables

    return caudal.variables


# ------------------------------------------------ TF 1.x deprecated names
to_float = deprecated_alias(math_ops.to_float, "to_float", None, _USE_CAST)
to_double = deprecated_alias(math_ops.to_double, "to_double", None, _USE_CAST)
to_int32 = deprecated_alias(math_ops.to_int32, "to_int32", None, _USE_CAST)
to_int64 = deprecated_alias(math_ops.to_int64, "to_int64", None, _USE_CAST)
to_bfloat16 = deprecated_alias(_to_bfloat16, "to_bfloat16", None, _USE_CAST, math_ops.__name__)
to_complex64 = deprecated_alias(_to_complex64, "to_complex64", None, _USE_CAST, math_ops.__name__)
to_complex128 = deprecated_alias(_to_complex128, "to_complex128", None, _USE_CAST, math_ops.__name__)
arg_max = deprecated_alias(_arg_max, "arg_max", None, "Use `tf.math.argmax` instead", reduction_ops.__name__)
arg_min = deprecated_alias(_arg_min, "arg_min", None, "Use `tf.math.argmin` instead", reduction_ops.__name__)
div = deprecated_alias(math_ops.div, "div", None, "Deprecated in favor of operator or tf.math.divide.")
multinomial = deprecated_alias(random_ops.multinomial, "multinomial", None, "Use `tf.random.categorical` instead.")
clip_by_average_norm = deprecated_alias(
    clip_ops.clip_by_average_norm, "clip_by_average_norm", None,
    "clip_by_average_norm is deprecated in TensorFlow 2.0. Please use clip_by_norm(t, clip_norm * "
    "tf.cast(tf.size(t), tf.float32), name) instead.")
initialize_all_tables = deprecated_alias(tables_initializer, "initialize_all_tables", None,
                                         "Use `tf.tables_initializer` instead.")


def batch_gather(params: Any, indices: Any, name: str | None = None) -> Tensor:
    """For each index position, the slice of `params` along axis rank(indices) - 1 picked from the same
    batch entry (TF's `batch_gather`, in a "BatchGather" scope; indices of unknown rank are a
    ValueError, as in TF). Built as one gather from `params` with its batch dimensions flattened, so
    an index outside [0, params.shape[k]) is not caught."""
    from caudal.ops.gather_ops import gather
    from caudal.ops.reduction_ops import reduce_prod

    _warn("batch_gather", array_ops.__name__, "2017-10-25", "`tf.batch_gather` is deprecated, please use "
          "`tf.gather` with `batch_dims=tf.rank(indices) - 1` instead.")
    with name_scope(name, "BatchGather", [params, indices]):
        indices = convert_to_tensor(indices, name="indices")
        params = convert_to_tensor(params, name="params")
        if indices.shape.ndims is None:
            raise ValueError("batch_gather does not allow indices with unknown shape.")
        k = indices.shape.ndims - 1
        index_shape = array_ops.shape(indices, out_type=indices.dtype.base_dtype)
        params_shape = array_ops.shape(params, out_type=indices.dtype.base_dtype)
        batches = reduce_prod(index_shape[:k])
        offsets = array_ops.range(batches) * params_shape[k]
        offsets = array_ops.reshape(offsets, array_ops.concat([index_shape[:k], [1]], 0))
        flat_params = array_ops.reshape(params, array_ops.concat([[-1], params_shape[k + 1:]], 0))
        flat = gather(flat_params, array_ops.reshape(indices + offsets, [-1]))
        return array_ops.reshape(flat, array_ops.concat([index_shape, params_shape[k + 1:]], 0))


def all_variables() -> list[Any]:
    _warn("all_variables", "caudal.variables", "2017-03-02", "Please use tf.global_variables instead.")
    return _variables().global_variables()


def initialize_all_variables() -> Any:
    _warn("initialize_all_variables", "caudal.variables", "2017-03-02",
          "Use `tf.global_variables_initializer` instead.")
    return _variables().global_variables_initializer()


def initialize_local_variables() -> Any:
    _warn("initialize_local_variables", "caudal.variables", "2017-03-02",
          "Use `tf.local_variables_initializer` instead.")
    return _variables().local_variables_initializer()


def initialize_variables(var_list: Any, name: str = "init") -> Any:
    _warn("initialize_variables", "caudal.variables", "2017-03-02", "Use `tf.variables_initializer` instead.")
    return _variables().variables_initializer(var_list, name=name)


# ----------------------------------------------------- pre-1.0 spellings
mul = deprecated_alias(math_ops.multiply, "mul", "2016-12-30",
                       "`tf.mul(x, y)` is deprecated, please use `tf.multiply(x, y)` or `x * y`")
sub = deprecated_alias(math_ops.subtract, "sub", "2016-12-30",
                       "`tf.sub(x, y)` is deprecated, please use `tf.subtract(x, y)` or `x - y`")
neg = deprecated_alias(math_ops.negative, "neg", "2016-12-30",
                       "`tf.neg(x)` is deprecated, please use `tf.negative(x)` or `-x`")


def pack(values: Any, axis: int = 0, name: str = "pack") -> Tensor:
    """TF 0.12's name of `tf.stack`."""
    _warn("pack", array_ops.__name__, "2016-12-14",
          "This op will be removed after the deprecation date. Please switch to tf.stack().")
    return array_ops.stack(values, axis=axis, name=name)


def unpack(value: Any, num: int | None = None, axis: int = 0, name: str = "unpack") -> list[Tensor]:
    """TF 0.12's name of `tf.unstack`."""
    _warn("unpack", array_ops.__name__, "2016-12-14",
          "This op will be removed after the deprecation date. Please switch to tf.unstack().")
    return array_ops.unstack(value, num=num, axis=axis, name=name)


def select(condition: Any, t: Any, e: Any, name: str | None = None) -> Tensor:
    """TF 0.12's `tf.select`: the TF1 `tf.where(condition, t, e)` (a Select op)."""
    _warn("select", comparison_ops.__name__, None, "Use `tf.where` instead.")
    return comparison_ops.where(condition, t, e, name=name)


def concat_v2(values: Any, axis: Any, name: str = "concat_v2") -> Tensor:
    """TF 0.12's `tf.concat_v2(values, axis)`: `tf.concat` with the arguments in TF 1.0's order."""
    _warn("concat_v2", array_ops.__name__, None, "Use `tf.concat` instead.")
    return array_ops.concat(values, axis, name=name)


def _summary(op_type: str, default_name: str, inputs: list[Any], input_names: list[str], attrs: dict[str, Any],
             collections: Any, name: str | None) -> Tensor:
    with name_scope(name, default_name, inputs) as scope:
        tensors = [convert_to_tensor(value, name=input_name) for value, input_name in zip(inputs, input_names)]
        tensors[0] = convert_to_tensor(tensors[0], dtype=dtypes_lib.string)
        full_attrs = dict(attrs)
        if "T" in full_attrs:
            full_attrs["T"] = tensors[1].dtype.base_dtype
        result = make_op(op_type, tensors, full_attrs, name=scope)._outputs[0]
    for key in [GraphKeys.SUMMARIES] if collections is None else collections:
        result.graph.add_to_collection(key, result)
    return result


def scalar_summary(tags: Any, values: Any, collections: Any = None, name: str | None = None) -> Tensor:
    """A ScalarSummary of `values` under `tags` (same shape: one summary value per tag)."""
    _warn("scalar_summary", __name__, "2016-11-30",
          "Please switch to tf.summary.scalar. Note that tf.summary.scalar uses the node name instead of the tag. "
          "This means that TensorFlow will automatically de-duplicate summary names based on the scope they are "
          "created in. Also, passing a tensor or list of tags to a scalar summary op is no longer supported.")
    return _summary("ScalarSummary", "ScalarSummary", [tags, values], ["tags", "values"], {"T": None}, collections,
                    name)


def histogram_summary(tag: Any, values: Any, collections: Any = None, name: str | None = None) -> Tensor:
    """A HistogramSummary of `values` under `tag`."""
    _warn("histogram_summary", __name__, "2016-11-30",
          "Please switch to tf.summary.histogram. Note that tf.summary.histogram uses the node name instead of the "
          "tag. This means that TensorFlow will automatically de-duplicate summary names based on the scope they "
          "are created in.")
    return _summary("HistogramSummary", "HistogramSummary", [tag, values], ["tag", "values"], {"T": None},
                    collections, name)


def image_summary(tag: Any, tensor: Any, max_images: int = 3, collections: Any = None,
                  name: str | None = None) -> Tensor:
    """An ImageSummary of the first `max_images` images of `tensor` under `tag`."""
    _warn("image_summary", __name__, "2016-11-30",
          "Please switch to tf.summary.image. Note that tf.summary.image uses the node name instead of the tag. "
          "This means that TensorFlow will automatically de-duplicate summary names based on the scope they are "
          "created in. Also, the max_images argument was renamed to max_outputs.")
    attrs = {"max_images": int(max_images), "T": None, "bad_color": summary_ops._BAD_COLOR.copy()}
    return _summary("ImageSummary", "ImageSummary", [tag, tensor], ["tag", "tensor"], attrs, collections, name)


def audio_summary(tag: Any, tensor: Any, sample_rate: Any, max_outputs: int = 3, collections: Any = None,
                  name: str | None = None) -> Tensor:
    """An AudioSummaryV2 of the first `max_outputs` clips of `tensor` under `tag`."""
    _warn("audio_summary", __name__, "2016-11-30",
          "Please switch to tf.summary.audio. Note that tf.summary.audio uses the node name instead of the tag. "
          "This means that TensorFlow will automatically de-duplicate summary names based on the scope they are "
          "created in.")
    with name_scope(name, "AudioSummary", [tag, tensor]) as scope:
        rate = convert_to_tensor(sample_rate, dtype=dtypes_lib.float32, name="sample_rate")
        tag_tensor = convert_to_tensor(tag, dtype=dtypes_lib.string, name="tag")
        tensor = convert_to_tensor(tensor, name="tensor")
        result = make_op("AudioSummaryV2", [tag_tensor, tensor, rate], {"max_outputs": int(max_outputs)},
                         name=scope)._outputs[0]
    for key in [GraphKeys.SUMMARIES] if collections is None else collections:
        result.graph.add_to_collection(key, result)
    return result


def merge_summary(inputs: Any, collections: Any = None, name: str | None = None) -> Tensor:
    """A MergeSummary of serialized summaries (TF 0.12's `tf.merge_summary`)."""
    _warn("merge_summary", __name__, "2016-11-30", "Please switch to tf.summary.merge.")
    return _merge(inputs, collections, name)


def _merge(inputs: Any, collections: Any, name: str | None) -> Tensor:
    with name_scope(name, "MergeSummary", inputs):
        tensors = [convert_to_tensor(t) for t in inputs]
        result = make_op("MergeSummary", tensors, {"N": len(tensors)}, name=name)._outputs[0]
    for key in collections or []:
        result.graph.add_to_collection(key, result)
    return result


def merge_all_summaries(key: str = GraphKeys.SUMMARIES) -> Tensor | None:
    """Merges the summaries of collection `key`, or None when it is empty."""
    _warn("merge_all_summaries", __name__, "2016-11-30", "Please switch to tf.summary.merge_all.")
    summaries = get_default_graph().get_collection(key)
    if not summaries:
        return None
    return _merge(summaries, None, None)
