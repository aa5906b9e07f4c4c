"""Convolutions: Conv2D, DepthwiseConv2dNative, their input and filter backprops, and the
TF1 wrappers built on them (conv1d, conv2d_transpose, separable_conv2d).

Op type and attr names are TensorFlow's (`strides`, `padding`, `explicit_paddings`,
`data_format`, `dilations`, `use_cudnn_on_gpu`), so GraphDefs line up. Padding
follows TF exactly (see `caudal.ops._conv_kernels`). Each backprop op has its own
gradient, written with these ops, so second derivatives work as in TF.
NCHW inputs are accepted on CPU, as TF 2.21 does; the kernels transpose them to
NHWC and back.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _conv_kernels as K
from caudal.ops import _conv_kernels_numpy as KN
from caudal.ops import _rules

__all__ = ["conv1d", "conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "conv2d_transpose",
           "depthwise_conv2d", "depthwise_conv2d_native", "depthwise_conv2d_native_backprop_input",
           "depthwise_conv2d_native_backprop_filter", "separable_conv2d"]

CONV_TYPES = frozenset([dtypes_lib.float16, dtypes_lib.bfloat16, dtypes_lib.float32, dtypes_lib.float64,
                        dtypes_lib.int32])
FLOAT_TYPES = frozenset([dtypes_lib.float16, dtypes_lib.bfloat16, dtypes_lib.float32, dtypes_lib.float64])


# ------------------------------------------------------- argument handling
def get_sequence(value: Any, n: int, channel_index: int, name: str) -> list[int]:
    """TF's expansion of an int or a list of length 1, n or n+2 to n+2 entries (1 at N and C)."""
    if value is None:
        value = 1
    if isinstance(value, (int, np.integer)):
        value = [int(value)]
    value = [int(v) for v in value]
    if len(value) == n + 2:
        return value
    if len(value) == 1:
        value = value * n
    elif len(value) != n:
        raise ValueError(f"{name} should be of length 1, {n} or {n + 2}. Received: {name}={value} of length "
                         f"{len(value)}")
    if channel_index == 1:
        return [1, 1] + value
    return [1] + value + [1]


def check_data_format(data_format: Any, allowed: Sequence[str] = ("NHWC", "NCHW")) -> str:
    data_format = data_format.decode() if isinstance(data_format, bytes) else (data_format or allowed[0])
    if data_format not in allowed:
        raise ValueError(f"Invalid data_format: {data_format!r}; expected one of {', '.join(allowed)}")
    return data_format


def convert_padding(padding: Any, data_format: str, op_type: str) -> tuple[str, list[int]]:
    """(padding, explicit_paddings): a string stays, a list of 4 [before, after] pairs is EXPLICIT."""
    if isinstance(padding, bytes):
        padding = padding.decode()
    if isinstance(padding, str):
        padding = padding.upper()
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"Attr 'padding' of '{op_type}' Op passed string '{padding}' not in: \"SAME\", "
                             f"\"VALID\", \"EXPLICIT\".")
        return padding, []
    pairs = [list(p) for p in padding]
    if len(pairs) != 4 or any(len(p) != 2 for p in pairs):
        raise ValueError(f"When padding is a list, it must be of length 4 (pairs of ints). Got: {padding}")
    batch, channel = (0, 3) if data_format == "NHWC" else (0, 1)
    if pairs[batch] != [0, 0] or pairs[channel] != [0, 0]:
        raise ValueError(f'"padding" for the batch and channel dimensions must be [0, 0] with data_format '
                         f'{data_format}. Got: {padding}')
    return "EXPLICIT", [int(v) for p in pairs for v in p]


def spatial(values: Sequence[int], data_format: str) -> tuple[int, int]:
    """The (H, W) entries of a 4-entry attr."""
    return (values[1], values[2]) if data_format == "NHWC" else (values[2], values[3])


def explicit_nhwc(explicit: Sequence[int], data_format: str) -> list[int]:
    """explicit_paddings reordered to NHWC ([N pair, H pair, W pair, C pair])."""
    if not explicit or data_format == "NHWC":
        return list(explicit)
    e = list(explicit)
    return e[0:2] + e[4:6] + e[6:8] + e[2:4]


def to_nhwc(x: Any, data_format: str) -> Any:
    return x.transpose(0, 2, 3, 1) if data_format == "NCHW" else x


def from_nhwc(x: Any, data_format: str) -> Any:
    return x.transpose(0, 3, 1, 2) if data_format == "NCHW" else x


def shape_nhwc(shape: Sequence[Any], data_format: str) -> list[Any]:
    s = list(shape)
    return [s[0], s[2], s[3], s[1]] if data_format == "NCHW" else s


def shape_from_nhwc(shape: Sequence[Any], data_format: str) -> list[Any]:
    s = list(shape)
    return [s[0], s[3], s[1], s[2]] if data_format == "NCHW" else s


def infer_error(ctx: InferContext, message: str) -> ValueError:
    """A shape error; the graph adds the node, its input shapes and the user's line, as TF does."""
    return ValueError(message)


def rank4(ctx: InferContext, i: int) -> list[int | None]:
    shape = ctx.shape(i)
    if shape.ndims is None:
        return [None] * 4
    if shape.ndims != 4:
        raise infer_error(ctx, f"Shape must be rank 4 but is rank {shape.ndims}")
    return shape.as_list()


def sizes_value(ctx: InferContext, i: int) -> list[int | None]:
    """A 4-entry shape given as a tensor (input_sizes, filter_sizes), as far as it is known."""
    value = ctx.shape_value(i)
    if value.ndims is None:
        return [None] * 4
    if value.ndims != 4:
        raise infer_error(ctx, f"{ctx.type} needs a shape of 4 entries, got {value.ndims}")
    return value.as_list()


def check_strides(ctx: InferContext, name: str = "strides") -> None:
    values = list(ctx.attrs[name])
    data_format = ctx.attrs["data_format"]
    if len(values) != 4:
        raise infer_error(ctx, f"{name} must have 4 entries, got {len(values)}")
    batch, channel = (values[0], values[3]) if data_format == "NHWC" else (values[0], values[1])
    if batch != 1 or channel != 1:
        raise infer_error(ctx, f"Current implementation does not yet support {name} in the batch and depth "
                               f"dimensions")
    if min(values) < 1:
        raise infer_error(ctx, f"{name} must be positive, got {values}")


def output_hw(ctx: InferContext, in_hw: Sequence[int | None], k_hw: Sequence[int | None],
              strides: Sequence[int], dilations: Sequence[int]) -> list[int | None]:
    """Static output (Ho, Wo); None where an input size is unknown."""
    padding = ctx.attrs["padding"]
    explicit = explicit_nhwc(ctx.attrs.get("explicit_paddings", []), ctx.attrs["data_format"])
    result: list[int | None] = []
    for axis in range(2):
        if in_hw[axis] is None or (k_hw[axis] is None and padding != "SAME"):
            result.append(None)
            continue
        pair = (explicit[2 + 2 * axis], explicit[3 + 2 * axis]) if padding == "EXPLICIT" else (0, 0)
        try:
            out, _, _ = K.output_size(in_hw[axis], k_hw[axis] or 1, strides[axis], dilations[axis], padding, pair)
        except ValueError as e:
            raise infer_error(ctx, str(e)) from None
        result.append(out)
    return result


def _merge(ctx: InferContext, a: int | None, b: int | None, what: str) -> int | None:
    if a is not None and b is not None and a != b:
        raise infer_error(ctx, f"Dimensions must be equal, but are {a} and {b} ({what})")
    return a if a is not None else b


# ------------------------------------------------------------- op families
class _Family:
    """Conv2D or DepthwiseConv2dNative with its two backprops: op types and kernels."""

    def __init__(self, forward: str, backprop_input: str, backprop_filter: str, depthwise: bool):
        self.forward = forward
        self.backprop_input = backprop_input
        self.backprop_filter = backprop_filter
        self.depthwise = depthwise

    def out_channels(self, ctx: InferContext, in_channels: int | None, filter_shape: list) -> int | None:
        if self.depthwise:
            _merge(ctx, in_channels, filter_shape[2], "input depth vs filter in_channels")
            c = in_channels if in_channels is not None else filter_shape[2]
            return None if c is None or filter_shape[3] is None else c * filter_shape[3]
        return filter_shape[3]


CONV2D = _Family("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", depthwise=False)
DEPTHWISE = _Family("DepthwiseConv2dNative", "DepthwiseConv2dNativeBackpropInput",
                    "DepthwiseConv2dNativeBackpropFilter", depthwise=True)


def _geometry(ctx: InferContext, family: _Family, x_shape: list, w_shape: list) -> list:
    """The static NCHW/NHWC output shape of the forward op, given input and filter shapes."""
    data_format = ctx.attrs["data_format"]
    check_strides(ctx)
    check_strides(ctx, "dilations")
    n, h, w, c = shape_nhwc(x_shape, data_format)
    if not family.depthwise and c is not None and w_shape[2] is not None and c != w_shape[2]:
        if c % w_shape[2]:
            raise infer_error(ctx, f"Depth of input ({c}) is not a multiple of input depth of filter "
                                   f"({w_shape[2]})")
        raise infer_error(ctx, f"Grouped convolutions (input depth {c}, filter depth {w_shape[2]}) are not "
                               f"supported")
    ho, wo = output_hw(ctx, (h, w), w_shape[:2], spatial(ctx.attrs["strides"], data_format),
                       spatial(ctx.attrs["dilations"], data_format))
    return shape_from_nhwc([n, ho, wo, family.out_channels(ctx, c, w_shape)], data_format)


def _forward_infer(family: _Family):
    def infer(ctx: InferContext) -> list:
        dtype = _rules.check_same_dtype(ctx, (0, 1), ("input", "filter"))
        _rules.check_dtype(ctx, 0, CONV_TYPES if not family.depthwise else FLOAT_TYPES, "input")
        out = _geometry(ctx, family, rank4(ctx, 0), rank4(ctx, 1))
        return [(dtype, TensorShape(out))]

    return infer


def _backprop_input_infer(family: _Family):
    def infer(ctx: InferContext) -> list:
        _rules.check_dtype(ctx, 0, _rules.INDEX, "input_sizes")
        dtype = _rules.check_same_dtype(ctx, (1, 2), ("filter", "out_backprop"))
        sizes = sizes_value(ctx, 0)
        expected = _geometry(ctx, family, sizes, rank4(ctx, 1))
        got = rank4(ctx, 2)
        for a, b in zip(expected, got, strict=True):
            _merge(ctx, a, b, "out_backprop vs the computed output shape")
        return [(dtype, TensorShape(sizes))]

    return infer


def _backprop_filter_infer(family: _Family):
    def infer(ctx: InferContext) -> list:
        _rules.check_dtype(ctx, 1, _rules.INDEX, "filter_sizes")
        dtype = _rules.check_same_dtype(ctx, (0, 2), ("input", "out_backprop"))
        sizes = sizes_value(ctx, 1)
        expected = _geometry(ctx, family, rank4(ctx, 0), sizes)
        got = rank4(ctx, 2)
        for a, b in zip(expected, got, strict=True):
            _merge(ctx, a, b, "out_backprop vs the computed output shape")
        return [(dtype, TensorShape(sizes))]

    return infer


def _kernel_args(strides: Sequence[int], dilations: Sequence[int], padding: str, explicit: Sequence[int],
                 data_format: str) -> tuple:
    return (spatial(strides, data_format), spatial(dilations, data_format), padding,
            explicit_nhwc(explicit, data_format))


def _forward_kernel(compute: Any):
    def kernel(xp: Any, x: Any, w: Any, *, strides: list, padding: str, explicit_paddings: list,
               data_format: str, dilations: list) -> Any:
        args = _kernel_args(strides, dilations, padding, explicit_paddings, data_format)
        return from_nhwc(compute(xp, to_nhwc(x, data_format), w, *args), data_format)

    return kernel


def _backprop_input_kernel(compute: Any):
    def kernel(xp: Any, input_sizes: Any, w: Any, dy: Any, *, strides: list, padding: str,
               explicit_paddings: list, data_format: str, dilations: list) -> Any:
        args = _kernel_args(strides, dilations, padding, explicit_paddings, data_format)
        in_shape = shape_nhwc([int(d) for d in input_sizes], data_format)
        return from_nhwc(compute(xp, in_shape, w, to_nhwc(dy, data_format), *args), data_format)

    return kernel


def _backprop_filter_kernel(compute: Any):
    def kernel(xp: Any, x: Any, filter_sizes: Any, dy: Any, *, strides: list, padding: str,
               explicit_paddings: list, data_format: str, dilations: list) -> Any:
        args = _kernel_args(strides, dilations, padding, explicit_paddings, data_format)
        sizes = [int(d) for d in filter_sizes]
        return compute(xp, to_nhwc(x, data_format), sizes, to_nhwc(dy, data_format), *args)

    return kernel


def _attrs_of(op: Any) -> dict[str, Any]:
    names = ("strides", "padding", "explicit_paddings", "data_format", "dilations", "use_cudnn_on_gpu")
    return {k: op._attrs[k] for k in names if k in op._attrs}


def _shape_of(x: Tensor) -> Any:
    from caudal.ops.array_ops import shape

    return np.array(x.shape.as_list(), np.int32) if x.shape.is_fully_defined() else shape(x)


def _make(op_type: str, inputs: list[Tensor], dtype: Any, attrs: dict[str, Any], name: str | None) -> Tensor:
    return apply_op(op_type, inputs, dict(attrs, T=dtype), name or op_type)


def _forward_grad(family: _Family):
    def grad(op: Any, dy: Tensor) -> list:
        x, w = op.inputs
        attrs = _attrs_of(op)
        dtype = dy.dtype.base_dtype
        sizes_x = convert_to_tensor(_shape_of(x))
        sizes_w = convert_to_tensor(_shape_of(w))
        return [_make(family.backprop_input, [sizes_x, w, dy], dtype, attrs, None),
                _make(family.backprop_filter, [x, sizes_w, dy], dtype, attrs, None)]

    return grad


def _backprop_input_grad(family: _Family):
    def grad(op: Any, g: Tensor) -> list:
        _, w, dy = op.inputs
        attrs = _attrs_of(op)
        dtype = g.dtype.base_dtype
        sizes_w = convert_to_tensor(_shape_of(w))
        return [None, _make(family.backprop_filter, [g, sizes_w, dy], dtype, attrs, None),
                _make(family.forward, [g, w], dtype, attrs, None)]

    return grad


def _backprop_filter_grad(family: _Family):
    def grad(op: Any, g: Tensor) -> list:
        x, _, dy = op.inputs
        attrs = _attrs_of(op)
        dtype = g.dtype.base_dtype
        sizes_x = convert_to_tensor(_shape_of(x))
        return [_make(family.backprop_input, [sizes_x, g, dy], dtype, attrs, None), None,
                _make(family.forward, [x, g], dtype, attrs, None)]

    return grad


_COMPUTE = {CONV2D: ("conv2d", "conv2d_backprop_input", "conv2d_backprop_filter"),
            DEPTHWISE: ("depthwise_conv2d", "depthwise_conv2d_backprop_input", "depthwise_conv2d_backprop_filter")}
for _family, (_fwd, _bin, _bfil) in _COMPUTE.items():
    # The portable kernels (caudal.ops._conv_kernels), and NumPy's chunked, in-place variants.
    register_op(_family.forward, infer=_forward_infer(_family), kernel=_forward_kernel(getattr(K, _fwd)),
                variants={"numpy": _forward_kernel(getattr(KN, _fwd))}, grad=_forward_grad(_family), fresh=True)
    register_op(_family.backprop_input, infer=_backprop_input_infer(_family),
                kernel=_backprop_input_kernel(getattr(K, _bin)),
                variants={"numpy": _backprop_input_kernel(getattr(KN, _bin))},
                grad=_backprop_input_grad(_family), fresh=True)
    register_op(_family.backprop_filter, infer=_backprop_filter_infer(_family),
                kernel=_backprop_filter_kernel(getattr(K, _bfil)),
                variants={"numpy": _backprop_filter_kernel(getattr(KN, _bfil))},
                grad=_backprop_filter_grad(_family), fresh=True)


# -------------------------------------------------------------- _FusedConv2D
FUSED_OPS = (("BiasAdd",), ("BiasAdd", "Relu"))  # the fused_ops lists _FusedConv2D runs here


def _fused_ops(fused_ops: Sequence[Any]) -> tuple[str, ...]:
    ops = tuple(op.decode() if isinstance(op, bytes) else str(op) for op in fused_ops)
    if ops not in FUSED_OPS:
        raise ValueError(f"_FusedConv2D: fused_ops {list(ops)} is not supported (only {[list(f) for f in FUSED_OPS]})")
    return ops


def _fused_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1, 2), ("input", "filter", "bias"))
    _rules.check_dtype(ctx, 0, CONV_TYPES, "input")
    _fused_ops(ctx.attrs.get("fused_ops", ()))
    return [(dtype, TensorShape(_geometry(ctx, CONV2D, rank4(ctx, 0), rank4(ctx, 1))))]


def _fused_kernel(forward: Any, in_place: bool):
    def kernel(xp: Any, x: Any, w: Any, bias: Any, *, strides: list, padding: str, explicit_paddings: list,
               data_format: str, dilations: list, fused_ops: list) -> Any:
        ops = _fused_ops(fused_ops)
        y = forward(xp, x, w, strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                    data_format=data_format, dilations=dilations)
        b = xp.reshape(bias, (1, 1, 1, -1) if data_format == "NHWC" else (1, -1, 1, 1))
        if not in_place:
            y = y + b
            return xp.maximum(y, xp.zeros_like(y)) if ops[-1] == "Relu" else y
        np.add(y, b, out=y)
        if ops[-1] == "Relu":
            np.maximum(y, 0, out=y)
        return y

    return kernel


# TF's grappler op for Conv2D followed by BiasAdd (and Relu): a plan runs the pattern as this op on a
# backend with its own variant (see caudal.runtime.fusion). Its portable and NumPy kernels are the
# three ops in turn, the reference for the fused variants.
register_op("_FusedConv2D", infer=_fused_infer,
            kernel=_fused_kernel(_forward_kernel(K.conv2d), in_place=False),
            variants={"numpy": _fused_kernel(_forward_kernel(KN.conv2d), in_place=True)},
            grad=NOT_DIFFERENTIABLE, fresh=True)


# ------------------------------------------------------------ public wrappers
def _conv_attrs(op_type: str, strides: Any, padding: Any, data_format: Any, dilations: Any,
                use_cudnn_on_gpu: bool | None = None) -> dict[str, Any]:
    data_format = check_data_format(data_format)
    channel_index = 3 if data_format == "NHWC" else 1
    padding, explicit = convert_padding(padding, data_format, op_type)
    attrs: dict[str, Any] = {"strides": get_sequence(strides, 2, channel_index, "strides"), "padding": padding,
                             "explicit_paddings": explicit, "data_format": data_format,
                             "dilations": get_sequence(dilations, 2, channel_index, "dilations")}
    if use_cudnn_on_gpu is not None:
        attrs["use_cudnn_on_gpu"] = bool(use_cudnn_on_gpu)
    return attrs


def _pick(new: Any, new_name: str, old: Any, old_name: str) -> Any:
    """TF's deprecated-argument lookup: one of two names for the same argument."""
    if new is not None and old is not None:
        raise ValueError(f"Cannot specify both '{new_name}' and '{old_name}'")
    return new if new is not None else old


def conv2d(input: Any, filter: Any = None, strides: Any = None, padding: Any = None,  # noqa: A002
           use_cudnn_on_gpu: bool = True, data_format: str = "NHWC", dilations: Any = (1, 1, 1, 1),
           name: str | None = None, filters: Any = None) -> Tensor:
    """`tf.nn.conv2d` (TF1): a Conv2D op. `padding` is "SAME", "VALID" or four [before, after] pairs;
    `strides`/`dilations` are an int or lists of 1, 2 or 4 entries, as in TF."""
    filter = _pick(filters, "filters", filter, "filter")
    x = convert_to_tensor(input, name="input")
    w = convert_to_tensor(filter, dtype=x.dtype.base_dtype, name="filter")
    attrs = _conv_attrs("Conv2D", strides, padding, data_format, dilations, use_cudnn_on_gpu)
    return _make("Conv2D", [x, w], x.dtype.base_dtype, attrs, name)


def conv2d_backprop_input(input_sizes: Any, filter: Any = None, out_backprop: Any = None,  # noqa: A002
                          strides: Any = None, padding: Any = None, use_cudnn_on_gpu: bool = True,
                          data_format: str = "NHWC", dilations: Any = (1, 1, 1, 1), name: str | None = None,
                          filters: Any = None) -> Tensor:
    """`tf.nn.conv2d_backprop_input`: the gradient of conv2d with respect to its input."""
    filter = _pick(filters, "filters", filter, "filter")
    w = convert_to_tensor(filter, name="filter")
    dy = convert_to_tensor(out_backprop, dtype=w.dtype.base_dtype, name="out_backprop")
    sizes = convert_to_tensor(input_sizes, dtype_hint=dtypes_lib.int32, name="input_sizes")
    attrs = _conv_attrs("Conv2DBackpropInput", strides, padding, data_format, dilations, use_cudnn_on_gpu)
    return _make("Conv2DBackpropInput", [sizes, w, dy], w.dtype.base_dtype, attrs, name)


def conv2d_backprop_filter(input: Any, filter_sizes: Any, out_backprop: Any, strides: Any,  # noqa: A002
                           padding: Any, use_cudnn_on_gpu: bool = True, data_format: str = "NHWC",
                           dilations: Any = (1, 1, 1, 1), name: str | None = None) -> Tensor:
    """`tf.nn.conv2d_backprop_filter`: the gradient of conv2d with respect to its filter."""
    x = convert_to_tensor(input, name="input")
    dy = convert_to_tensor(out_backprop, dtype=x.dtype.base_dtype, name="out_backprop")
    sizes = convert_to_tensor(filter_sizes, dtype_hint=dtypes_lib.int32, name="filter_sizes")
    attrs = _conv_attrs("Conv2DBackpropFilter", strides, padding, data_format, dilations, use_cudnn_on_gpu)
    return _make("Conv2DBackpropFilter", [x, sizes, dy], x.dtype.base_dtype, attrs, name)


def conv2d_transpose(value: Any = None, filter: Any = None, output_shape: Any = None,  # noqa: A002
                     strides: Any = None, padding: str = "SAME", data_format: str = "NHWC",
                     name: str | None = None, input: Any = None, filters: Any = None,  # noqa: A002
                     dilations: Any = None) -> Tensor:
    """`tf.nn.conv2d_transpose` (TF1): a Conv2DBackpropInput named "conv2d_transpose" whose
    input_sizes is `output_shape`; the filter is [h, w, out_channels, in_channels]."""
    value = _pick(input, "input", value, "value")
    filter = _pick(filters, "filters", filter, "filter")
    data_format = check_data_format(data_format)
    channel = 3 if data_format == "NHWC" else 1
    with get_default_graph().name_scope(name or "conv2d_transpose") as scope:
        value = convert_to_tensor(value, name="value")
        w = convert_to_tensor(filter, dtype=value.dtype.base_dtype, name="filter")
        in_c = value.shape[channel].value if value.shape.ndims == 4 else None
        w_shape = w.shape.as_list() if w.shape.ndims == 4 else [None] * 4
        if in_c is not None and w_shape[3] is not None and in_c != w_shape[3]:
            raise ValueError(f"input channels does not match filter's input channels, {in_c} != {w_shape[3]}")
        sizes = convert_to_tensor(output_shape, dtype_hint=dtypes_lib.int32, name="input_sizes")
        if sizes.shape.ndims is not None and sizes.shape.as_list() not in ([4], [None]):
            raise ValueError(f"output_shape must have shape (4,), got {sizes.shape}")
        known = constant_value(sizes)
        if known is not None and w_shape[2] is not None and int(known[channel]) != w_shape[2]:
            raise ValueError(f"output_shape does not match filter's output channels, {int(known[channel])} != "
                             f"{w_shape[2]}")
        attrs = _conv_attrs("Conv2DBackpropInput", strides, padding, data_format, dilations, True)
        return _make("Conv2DBackpropInput", [sizes, w, value], value.dtype.base_dtype, attrs, scope)


def conv1d(value: Any = None, filters: Any = None, stride: Any = None, padding: Any = None,
           use_cudnn_on_gpu: bool | None = None, data_format: str | None = None, name: str | None = None,
           input: Any = None, dilations: Any = None) -> Tensor:  # noqa: A002
    """`tf.nn.conv1d` (TF1): expands NWC (or NCW) input and [w, in, out] filters to 2-D, runs
    Conv2D (named "conv1d") and squeezes the added dimension, as TF does."""
    from caudal.ops.array_ops import expand_dims, squeeze

    value = _pick(input, "input", value, "value")
    if data_format in (None, "NHWC", "NWC"):
        data_format, spatial_dim, channel_index = "NHWC", -3, 2
    elif data_format in ("NCHW", "NCW"):
        data_format, spatial_dim, channel_index = "NCHW", -2, 1
    else:
        raise ValueError(f"`data_format` must be 'NWC' or 'NCW'. Received: data_format={data_format}")
    strides = [1] + get_sequence(stride, 1, channel_index, "stride")
    dilation_list = [1] + get_sequence(dilations, 1, channel_index, "dilations")
    with get_default_graph().name_scope(name or "conv1d") as scope:
        value = expand_dims(value, spatial_dim)
        filters = expand_dims(filters, 0)
        attrs = _conv_attrs("Conv2D", strides, padding, data_format, dilation_list,
                            True if use_cudnn_on_gpu is None else use_cudnn_on_gpu)
        result = _make("Conv2D", [value, convert_to_tensor(filters, dtype=value.dtype.base_dtype)],
                       value.dtype.base_dtype, attrs, scope)
        return squeeze(result, [spatial_dim])


def depthwise_conv2d_native(input: Any, filter: Any, strides: Any, padding: Any,  # noqa: A002
                            data_format: str = "NHWC", dilations: Any = (1, 1, 1, 1),
                            name: str | None = None) -> Tensor:
    """`tf.nn.depthwise_conv2d_native`: channel c is convolved with filter[:, :, c, :] (M outputs each)."""
    x = convert_to_tensor(input, name="input")
    w = convert_to_tensor(filter, dtype=x.dtype.base_dtype, name="filter")
    attrs = _conv_attrs("DepthwiseConv2dNative", strides, padding, data_format, dilations)
    return _make("DepthwiseConv2dNative", [x, w], x.dtype.base_dtype, attrs, name)


def depthwise_conv2d_native_backprop_input(input_sizes: Any, filter: Any, out_backprop: Any,  # noqa: A002
                                           strides: Any, padding: Any, data_format: str = "NHWC",
                                           dilations: Any = (1, 1, 1, 1), name: str | None = None) -> Tensor:
    w = convert_to_tensor(filter, name="filter")
    dy = convert_to_tensor(out_backprop, dtype=w.dtype.base_dtype, name="out_backprop")
    sizes = convert_to_tensor(input_sizes, dtype_hint=dtypes_lib.int32, name="input_sizes")
    attrs = _conv_attrs("DepthwiseConv2dNativeBackpropInput", strides, padding, data_format, dilations)
    return _make("DepthwiseConv2dNativeBackpropInput", [sizes, w, dy], w.dtype.base_dtype, attrs, name)


def depthwise_conv2d_native_backprop_filter(input: Any, filter_sizes: Any, out_backprop: Any,  # noqa: A002
                                            strides: Any, padding: Any, data_format: str = "NHWC",
                                            dilations: Any = (1, 1, 1, 1), name: str | None = None) -> Tensor:
    x = convert_to_tensor(input, name="input")
    dy = convert_to_tensor(out_backprop, dtype=x.dtype.base_dtype, name="out_backprop")
    sizes = convert_to_tensor(filter_sizes, dtype_hint=dtypes_lib.int32, name="filter_sizes")
    attrs = _conv_attrs("DepthwiseConv2dNativeBackpropFilter", strides, padding, data_format, dilations)
    return _make("DepthwiseConv2dNativeBackpropFilter", [x, sizes, dy], x.dtype.base_dtype, attrs, name)


def _rate(rate: Any, dilations: Any) -> Any:
    rate = _pick(dilations, "dilations", rate, "rate")
    return 1 if rate is None else rate


def depthwise_conv2d(input: Any, filter: Any, strides: Any, padding: Any, rate: Any = None,  # noqa: A002
                     name: str | None = None, data_format: str | None = None, dilations: Any = None) -> Tensor:
    """`tf.nn.depthwise_conv2d` (TF1): a DepthwiseConv2dNative named "depthwise". A `rate` above 1
    is passed as the op's `dilations` attr (TF builds SpaceToBatchND/BatchToSpaceND around the
    op instead; the values are the same)."""
    with get_default_graph().name_scope(name or "depthwise") as scope:
        return depthwise_conv2d_native(input, filter, strides, padding, data_format or "NHWC",
                                       _rate(rate, dilations), name=scope)


def separable_conv2d(input: Any, depthwise_filter: Any, pointwise_filter: Any, strides: Any,  # noqa: A002
                     padding: Any, rate: Any = None, name: str | None = None, data_format: str | None = None,
                     dilations: Any = None) -> Tensor:
    """`tf.nn.separable_conv2d` (TF1): DepthwiseConv2dNative "depthwise" followed by a 1x1 VALID
    Conv2D with `pointwise_filter`, named like the scope, as TF composes it."""
    data_format = data_format or "NHWC"
    with get_default_graph().name_scope(name or "separable_conv2d") as scope:
        x = convert_to_tensor(input, name="input")
        depthwise_filter = convert_to_tensor(depthwise_filter, dtype=x.dtype.base_dtype, name="depthwise_filter")
        pointwise_filter = convert_to_tensor(pointwise_filter, dtype=x.dtype.base_dtype, name="pointwise_filter")
        pw = pointwise_filter.shape
        if pw.ndims is not None:
            if pw.ndims != 4:
                raise ValueError(f"Shape must be rank 4 but is rank {pw.ndims}")
            if pw[0].value not in (None, 1) or pw[1].value not in (None, 1):
                raise ValueError(f"Dimension must be 1 but is {pw[0].value if pw[0].value != 1 else pw[1].value}")
        depthwise = depthwise_conv2d_native(x, depthwise_filter, strides, padding, data_format,
                                            _rate(rate, dilations), name="depthwise")
        return conv2d(depthwise, pointwise_filter, [1, 1, 1, 1], "VALID", data_format=data_format, name=scope)

