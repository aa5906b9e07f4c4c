"""Pooling: MaxPool, AvgPool, their gradients (MaxPoolGrad, MaxPoolGradGrad, AvgPoolGrad) and the
TF1 wrappers (max_pool, avg_pool, their 1-D and 2-D forms).

As in TensorFlow: MaxPoolGrad routes each output gradient to the FIRST maximum of its
window (row-major order), AvgPool with SAME padding divides by the number of real
(unpadded) elements of each window, and NCHW is accepted on CPU.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _conv_kernels as K
from caudal.ops import _conv_kernels_numpy as KN
from caudal.ops import _rules
from caudal.ops.conv_ops import (
    CONV2D,
    CONV_TYPES,
    _geometry,
    check_data_format,
    convert_padding,
    explicit_nhwc,
    from_nhwc,
    get_sequence,
    infer_error,
    output_hw,
    rank4,
    shape_from_nhwc,
    shape_nhwc,
    sizes_value,
    spatial,
    to_nhwc,
)

__all__ = ["max_pool", "avg_pool", "max_pool1d", "avg_pool1d", "max_pool2d", "avg_pool2d"]

AVG_TYPES = frozenset([dtypes_lib.float16, dtypes_lib.bfloat16, dtypes_lib.float32, dtypes_lib.float64])


# ------------------------------------------------------------- shape rules
def _check_window(ctx: InferContext, name: str) -> None:
    values = list(ctx.attrs[name])
    if len(values) != 4:
        raise infer_error(ctx, f"{name} must have 4 entries, got {len(values)}")
    batch, depth = (values[0], values[3]) if ctx.attrs["data_format"] == "NHWC" else (values[0], values[1])
    if batch != 1 or depth != 1:
        raise infer_error(ctx, f"Pooling is only supported over the spatial dimensions ({name}={values})")
    if min(values) < 1:
        raise infer_error(ctx, f"{name} must be positive, got {values}")


def _pooled_shape(ctx: InferContext, in_shape: list) -> list:
    _check_window(ctx, "ksize")
    _check_window(ctx, "strides")
    data_format = ctx.attrs["data_format"]
    n, h, w, c = shape_nhwc(in_shape, data_format)
    ho, wo = output_hw(ctx, (h, w), spatial(ctx.attrs["ksize"], data_format),
                       spatial(ctx.attrs["strides"], data_format), (1, 1))
    return shape_from_nhwc([n, ho, wo, c], data_format)


def _pool_infer(allowed: frozenset):
    def infer(ctx: InferContext) -> list:
        dtype = _rules.check_dtype(ctx, 0, allowed, "value")
        return [(dtype, TensorShape(_pooled_shape(ctx, rank4(ctx, 0))))]

    return infer


def _max_pool_grad_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1, 2), ("orig_input", "orig_output", "grad"))
    _rules.check_dtype(ctx, 0, _rules.REAL, "orig_input")
    x = rank4(ctx, 0)
    _pooled_shape(ctx, x)
    out_shape = x if ctx.type == "MaxPoolGrad" else rank4(ctx, 1)
    return [(dtype, TensorShape(out_shape))]


def _avg_pool_grad_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.int32]), "orig_input_shape")
    dtype = _rules.check_dtype(ctx, 1, AVG_TYPES, "grad")
    sizes = sizes_value(ctx, 0)
    _pooled_shape(ctx, sizes)
    return [(dtype, TensorShape(sizes))]


# ----------------------------------------------------------------- kernels
def _window_args(ksize: Sequence[int], strides: Sequence[int], data_format: str) -> tuple:
    return spatial(ksize, data_format), spatial(strides, data_format)


def _max_pool_kernel(impl: Any) -> Any:
    def kernel(xp: Any, x: Any, *, ksize: list, strides: list, padding: str, explicit_paddings: list,
               data_format: str) -> Any:
        k_hw, s_hw = _window_args(ksize, strides, data_format)
        explicit = explicit_nhwc(explicit_paddings, data_format)
        return from_nhwc(impl.max_pool(xp, to_nhwc(x, data_format), k_hw, s_hw, padding, explicit), data_format)

    return kernel


def _max_pool_grad_kernel(impl: Any) -> Any:
    def kernel(xp: Any, x: Any, y: Any, dy: Any, *, ksize: list, strides: list, padding: str,
               explicit_paddings: list, data_format: str) -> Any:
        k_hw, s_hw = _window_args(ksize, strides, data_format)
        explicit = explicit_nhwc(explicit_paddings, data_format)
        dx = impl.max_pool_grad(xp, to_nhwc(x, data_format), to_nhwc(y, data_format), to_nhwc(dy, data_format),
                                k_hw, s_hw, padding, explicit)
        return from_nhwc(dx, data_format)

    return kernel


def _max_pool_grad_grad_kernel(impl: Any) -> Any:
    def kernel(xp: Any, x: Any, y: Any, ddx: Any, *, ksize: list, strides: list, padding: str,
               data_format: str) -> Any:
        k_hw, s_hw = _window_args(ksize, strides, data_format)
        out = impl.max_pool_grad_grad(xp, to_nhwc(x, data_format), to_nhwc(y, data_format),
                                      to_nhwc(ddx, data_format), k_hw, s_hw, padding)
        return from_nhwc(out, data_format)

    return kernel


def _avg_pool_kernel(impl: Any) -> Any:
    def kernel(xp: Any, x: Any, *, ksize: list, strides: list, padding: str, data_format: str) -> Any:
        k_hw, s_hw = _window_args(ksize, strides, data_format)
        return from_nhwc(impl.avg_pool(xp, to_nhwc(x, data_format), k_hw, s_hw, padding), data_format)

    return kernel


def _avg_pool_grad_kernel(impl: Any) -> Any:
    def kernel(xp: Any, orig_input_shape: Any, dy: Any, *, ksize: list, strides: list, padding: str,
               data_format: str) -> Any:
        k_hw, s_hw = _window_args(ksize, strides, data_format)
        in_shape = shape_nhwc([int(d) for d in orig_input_shape], data_format)
        dx = impl.avg_pool_grad(xp, in_shape, to_nhwc(dy, data_format), k_hw, s_hw, padding)
        return from_nhwc(dx, data_format)

    return kernel


# --------------------------------------------------------------- gradients
def _pool_attrs(op: Any, grad: Tensor) -> dict[str, Any]:
    attrs = {k: op._attrs[k] for k in ("ksize", "strides", "padding", "data_format")}
    attrs["T"] = grad.dtype.base_dtype
    return attrs


def _max_pool_grad(op: Any, grad: Tensor) -> list:
    x, y = op.inputs[0], op.outputs[0]
    attrs = dict(_pool_attrs(op, grad), explicit_paddings=list(op._attrs["explicit_paddings"]))
    return [apply_op("MaxPoolGrad", [x, y, grad], attrs)]


def _max_pool_grad_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.constant_ops import zeros_like

    if op._attrs["padding"] == "EXPLICIT":
        raise ValueError("MaxPoolGradGrad supports SAME and VALID padding only, as in TensorFlow")
    x, y, _ = op.inputs
    return [zeros_like(x), zeros_like(y), apply_op("MaxPoolGradGrad", [x, y, grad], _pool_attrs(op, grad))]


def _max_pool_grad_grad_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.constant_ops import zeros_like

    x, y, _ = op.inputs
    attrs = dict(_pool_attrs(op, grad), explicit_paddings=[])
    return [zeros_like(x), zeros_like(y), apply_op("MaxPoolGrad", [x, y, grad], attrs)]


def _avg_pool_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.conv_ops import _shape_of

    sizes = convert_to_tensor(_shape_of(op.inputs[0]))
    return [apply_op("AvgPoolGrad", [sizes, grad], _pool_attrs(op, grad))]


def _avg_pool_grad_grad(op: Any, grad: Tensor) -> list:
    return [None, apply_op("AvgPool", [grad], _pool_attrs(op, grad))]


# Each kernel twice: portable (caudal.ops._conv_kernels), and NumPy's in-place variant.
register_op("MaxPool", infer=_pool_infer(_rules.REAL), kernel=_max_pool_kernel(K),
            variants={"numpy": _max_pool_kernel(KN)}, grad=_max_pool_grad, fresh=True)
register_op("MaxPoolGrad", infer=_max_pool_grad_infer, kernel=_max_pool_grad_kernel(K),
            variants={"numpy": _max_pool_grad_kernel(KN)}, grad=_max_pool_grad_grad, fresh=True)
register_op("MaxPoolGradGrad", infer=_max_pool_grad_infer, kernel=_max_pool_grad_grad_kernel(K),
            variants={"numpy": _max_pool_grad_grad_kernel(KN)}, grad=_max_pool_grad_grad_grad)
register_op("AvgPool", infer=_pool_infer(AVG_TYPES), kernel=_avg_pool_kernel(K),
            variants={"numpy": _avg_pool_kernel(KN)}, grad=_avg_pool_grad)
register_op("AvgPoolGrad", infer=_avg_pool_grad_infer, kernel=_avg_pool_grad_kernel(K),
            variants={"numpy": _avg_pool_grad_kernel(KN)}, grad=_avg_pool_grad_grad)


# ------------------------------------------------------------ public wrappers
def _pool(op_type: str, value: Any, ksize: Any, strides: Any, padding: Any, data_format: Any, name: str,
          n: int = 2) -> Tensor:
    data_format = check_data_format(data_format)
    channel_index = 3 if data_format == "NHWC" else 1
    attrs: dict[str, Any] = {"ksize": get_sequence(ksize, n, channel_index, "ksize"),
                             "strides": get_sequence(strides, n, channel_index, "strides"),
                             "data_format": data_format}
    padding, explicit = convert_padding(padding, data_format, op_type)
    if op_type == "AvgPool" and padding == "EXPLICIT":
        raise ValueError("Attr 'padding' of 'AvgPool' Op passed EXPLICIT padding; only SAME and VALID are "
                         "supported")
    attrs["padding"] = padding
    if op_type == "MaxPool":
        attrs["explicit_paddings"] = explicit
    x = convert_to_tensor(value, name="input")
    attrs["T"] = x.dtype.base_dtype
    return apply_op(op_type, [x], attrs, name)


def _pool_in_scope(op_type: str, value: Any, ksize: Any, strides: Any, padding: Any, data_format: Any,
                   name: str | None, default: str) -> Tensor:
    with get_default_graph().name_scope(name or default) as scope:
        return _pool(op_type, value, ksize, strides, padding, data_format, scope)


def max_pool(value: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC",
             name: str | None = None, input: Any = None) -> Tensor:  # noqa: A002
    """`tf.nn.max_pool` (TF1): the maximum of each window; op "MaxPool"."""
    value = _pick_input(input, value)
    return _pool_in_scope("MaxPool", value, ksize, strides, padding, data_format, name, "MaxPool")


def avg_pool(value: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC",
             name: str | None = None, input: Any = None) -> Tensor:  # noqa: A002
    """`tf.nn.avg_pool` (TF1): the mean of each window's real elements; op "AvgPool"."""
    value = _pick_input(input, value)
    return _pool_in_scope("AvgPool", value, ksize, strides, padding, data_format, name, "AvgPool")


def max_pool2d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC",  # noqa: A002
               name: str | None = None) -> Tensor:
    """`tf.nn.max_pool2d`: MaxPool named "MaxPool2d"."""
    return _pool_in_scope("MaxPool", input, ksize, strides, padding, data_format, name, "MaxPool2d")


def avg_pool2d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NHWC",  # noqa: A002
               name: str | None = None) -> Tensor:
    """`tf.nn.avg_pool2d`: AvgPool named "AvgPool2D"."""
    return _pool_in_scope("AvgPool", input, ksize, strides, padding, data_format, name, "AvgPool2D")


def _pool1d(op_type: str, input: Any, ksize: Any, strides: Any, padding: Any, data_format: str,  # noqa: A002
            name: str | None, default: str) -> Tensor:
    """Pools NWC (or NCW) input by adding a unit height, pooling in 2-D, and squeezing it, as TF does."""
    from caudal.ops.array_ops import expand_dims, squeeze

    if data_format in ("NWC", "NHWC", None):
        data_format, expand_axis, channel_index = "NHWC", 1, 2
    elif data_format in ("NCW", "NCHW"):
        data_format, expand_axis, channel_index = "NCHW", 2, 1
    else:
        raise ValueError(f"`data_format` must be 'NWC' or 'NCW'. Received: data_format={data_format}")
    ksize = [1] + get_sequence(ksize, 1, channel_index, "ksize")
    strides = [1] + get_sequence(strides, 1, channel_index, "strides")
    with get_default_graph().name_scope(name or default) as scope:
        expanded = expand_dims(input, expand_axis)
        pooled = _pool(op_type, expanded, ksize, strides, padding, data_format, scope)
        return squeeze(pooled, [expand_axis])


def max_pool1d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NWC",  # noqa: A002
               name: str | None = None) -> Tensor:
    """`tf.nn.max_pool1d`: MaxPool over a unit-height 2-D view, in scope "MaxPool1d"."""
    return _pool1d("MaxPool", input, ksize, strides, padding, data_format, name, "MaxPool1d")


def avg_pool1d(input: Any, ksize: Any, strides: Any, padding: Any, data_format: str = "NWC",  # noqa: A002
               name: str | None = None) -> Tensor:
    """`tf.nn.avg_pool1d`: AvgPool over a unit-height 2-D view, in scope "AvgPool1D"."""
    return _pool1d("AvgPool", input, ksize, strides, padding, data_format, name, "AvgPool1D")


def _pick_input(input: Any, value: Any) -> Any:  # noqa: A002
    if input is not None and value is not None:
        raise ValueError("Cannot specify both 'input' and 'value'")
    return value if input is None else input


# ------------------------------------------------ max pooling that keeps its argmax for the gradient
def _workspace_pool_infer(ctx: InferContext) -> list:
    return _pool_infer(_rules.REAL)(ctx) + [(dtypes_lib.uint8, TensorShape([None]))]


def _workspace_grad_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1, 2), ("orig_input", "orig_output", "grad"))
    _rules.check_dtype(ctx, 0, _rules.REAL, "orig_input")
    _rules.check_dtype(ctx, 3, frozenset([dtypes_lib.uint8]), "workspace")
    x = rank4(ctx, 0)
    _pooled_shape(ctx, x)
    return [(dtype, TensorShape(x))]


def _workspace_pool_kernel(impl: Any) -> Any:
    pool = _max_pool_kernel(impl)

    def kernel(xp: Any, x: Any, *, ksize: list, strides: list, padding: str, explicit_paddings: list,
               data_format: str) -> Any:
        y = pool(xp, x, ksize=ksize, strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                 data_format=data_format)
        return y, xp.zeros((0,), dtype=xp.uint8)  # no workspace: the gradient finds the argmax again

    return kernel


def _workspace_grad_kernel(impl: Any) -> Any:
    grad = _max_pool_grad_kernel(impl)

    def kernel(xp: Any, x: Any, y: Any, dy: Any, workspace: Any, *, ksize: list, strides: list, padding: str,
               explicit_paddings: list, data_format: str) -> Any:
        return grad(xp, x, y, dy, ksize=ksize, strides=strides, padding=padding,
                    explicit_paddings=explicit_paddings, data_format=data_format)

    return kernel


# MaxPool and MaxPoolGrad of the same window on the same values, as a plan pairs them on a backend with
# its own variants (fast_cpu: oneDNN's argmax workspace, written by the pooling and read by its
# gradient; see caudal.runtime.fusion). Their NumPy and portable kernels keep no workspace.
register_op("_MaxPoolWithWorkspace", infer=_workspace_pool_infer, kernel=_workspace_pool_kernel(K),
            variants={"numpy": _workspace_pool_kernel(KN)}, grad=NOT_DIFFERENTIABLE, fresh=True)
register_op("_MaxPoolGradWithWorkspace", infer=_workspace_grad_infer, kernel=_workspace_grad_kernel(K),
            variants={"numpy": _workspace_grad_kernel(KN)}, grad=NOT_DIFFERENTIABLE, fresh=True)


# ------------------------------------------------ a ReLU's gradient through a max pooling, with its sums
def _relu_pool_grad_infer(ctx: InferContext) -> list:
    (dtype, x_shape), = _workspace_grad_infer(ctx)
    return [(dtype, x_shape), (dtype, TensorShape([x_shape.dims[3] if x_shape.rank == 4 else None]))]


def relu_max_pool_grad_of_kernels(*backends: str) -> Any:
    """The kernel of `_ReluMaxPoolGrad` made of the kernels the backends `backends` run for ReluGrad
    (on the pooled values), `_MaxPoolGradWithWorkspace` and the Sum per channel (NHWC)."""
    from caudal.framework.registry import get_op_def

    found: list = []  # the three kernels, looked up at the first call

    def kernel(xp: Any, x: Any, y: Any, dy: Any, workspace: Any, *, ksize: list, strides: list, padding: str,
               explicit_paddings: list, data_format: str) -> tuple:
        if not found:
            found.extend(get_op_def(op).kernel_for(*backends)
                         for op in ("ReluGrad", "_MaxPoolGradWithWorkspace", "Sum"))
        relu_grad, pool_grad, total = found
        masked = relu_grad(xp, dy, y)
        dx = pool_grad(xp, x, y, masked, workspace, ksize=ksize, strides=strides, padding=padding,
                       explicit_paddings=explicit_paddings, data_format=data_format)
        return dx, total(xp, masked, (0, 1, 2), keep_dims=False)

    return kernel


# The gradient of Relu(h) pooled by a MaxPool with respect to h, MaxPoolGrad(x, y, ReluGrad(dy, y)) from
# the pooling's workspace, and the sums per channel of ReluGrad(dy, y) (the layer's bias gradient), as a
# plan runs them on a backend with its own kernel (caudal.runtime.fusion.relu_max_pool_grads; NHWC).
register_op("_ReluMaxPoolGrad", infer=_relu_pool_grad_infer, kernel=relu_max_pool_grad_of_kernels(),
            variants={"numpy": relu_max_pool_grad_of_kernels("numpy")}, grad=NOT_DIFFERENTIABLE, fresh=True)


# ------------------------------------------------ a convolution layer and its max pooling as one op
def _conv_max_pool_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1, 2), ("input", "filter", "bias"))
    _rules.check_dtype(ctx, 0, CONV_TYPES, "input")
    dims = _geometry(ctx, CONV2D, rank4(ctx, 0), rank4(ctx, 1))
    conv_shape = TensorShape(dims)
    pooled = [dims[0], None, None, dims[3]]
    for axis in (1, 2):
        if dims[axis] is not None:
            try:
                pooled[axis] = K.output_size(dims[axis], ctx.attrs["ksize"][axis], ctx.attrs["pool_strides"][axis],
                                             1, ctx.attrs["pool_padding"])[0]
            except ValueError as e:
                raise infer_error(ctx, str(e)) from None
    return [(dtype, conv_shape), (dtype, TensorShape(pooled)), (dtypes_lib.uint8, TensorShape([None]))]


def conv_max_pool_of_kernels(*backends: str) -> Any:
    """The kernel of `_FusedConv2DMaxPool` made of the kernels the backends `backends` run for
    `_FusedConv2D` (its bias and ReLU) and `_MaxPoolWithWorkspace` (NHWC)."""
    from caudal.framework.registry import get_op_def

    found: list = []  # (the conv kernel, the pooling kernel), looked up at the first call

    def kernel(xp: Any, x: Any, w: Any, bias: Any, *, strides: list, padding: str, explicit_paddings: list,
               data_format: str, dilations: list, ksize: list, pool_strides: list, pool_padding: str) -> tuple:
        if not found:
            found.extend(get_op_def(op).kernel_for(*backends) for op in ("_FusedConv2D", "_MaxPoolWithWorkspace"))
        conv, pool = found
        h = conv(xp, x, w, bias, strides=strides, padding=padding, explicit_paddings=explicit_paddings,
                 data_format=data_format, dilations=dilations, fused_ops=["BiasAdd", "Relu"])
        y, workspace = pool(xp, h, ksize=ksize, strides=pool_strides, padding=pool_padding, explicit_paddings=[],
                            data_format=data_format)
        return h, y, workspace

    return kernel


# `_FusedConv2D` with ReLU (NHWC) and the `_MaxPoolWithWorkspace` of its result, which a plan runs as
# one op on a backend with its own kernel (caudal.runtime.fusion.conv_max_pools); its results are the
# convolution's (which such a kernel may give as a read-only array of zeros of its shape, where the
# plan reads only its shape: so the op is not `fresh`, and no later op writes into its results), the
# pooled values and the workspace.
register_op("_FusedConv2DMaxPool", infer=_conv_max_pool_infer, kernel=conv_max_pool_of_kernels(),
            variants={"numpy": conv_max_pool_of_kernels("numpy")}, grad=NOT_DIFFERENTIABLE)


# ------------------------------------------------ that layer's filter and bias gradients as one op
def _conv_max_pool_grad_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1, 2, 3), ("input", "conv_output", "grad", "pooled"))
    _rules.check_dtype(ctx, 0, CONV_TYPES, "input")
    _rules.check_dtype(ctx, 4, frozenset([dtypes_lib.uint8]), "workspace")
    shape = [int(d) for d in ctx.attrs["filter_shape"]]
    if len(shape) != 4:
        raise infer_error(ctx, f"{ctx.type} needs a filter shape of 4 entries, got {len(shape)}")
    return [(dtype, TensorShape(shape)), (dtype, TensorShape(shape[3:]))]


def conv_max_pool_grad_of_kernels(*backends: str) -> Any:
    """The kernel of `_FusedConv2DMaxPoolGrad` made of the kernels the backends `backends` run for
    ReluGrad (on the pooled values), `_MaxPoolGradWithWorkspace`, Conv2DBackpropFilter and the bias
    gradient's Sum over the pooled gradient: (filter gradient, bias gradient)."""
    from caudal.framework.registry import get_op_def

    found: list = []  # the four kernels, looked up at the first call

    def kernel(xp: Any, x: Any, conv_output: Any, grad: Any, pooled: Any, workspace: Any, *, filter_shape: list,
               strides: list, padding: str, explicit_paddings: list, data_format: str, dilations: list,
               ksize: list, pool_strides: list, pool_padding: str) -> tuple:
        if not found:
            found.extend(get_op_def(op).kernel_for(*backends)
                         for op in ("ReluGrad", "_MaxPoolGradWithWorkspace", "Conv2DBackpropFilter", "Sum"))
        relu_grad, pool_grad, filter_grad, total = found
        masked = relu_grad(xp, grad, pooled)
        conv_grad = pool_grad(xp, conv_output, pooled, masked, workspace, ksize=ksize, strides=pool_strides,
                              padding=pool_padding, explicit_paddings=[], data_format=data_format)
        filter_gradient = filter_grad(xp, x, filter_shape, conv_grad, strides=strides, padding=padding,
                                      explicit_paddings=explicit_paddings, data_format=data_format,
                                      dilations=dilations)
        return filter_gradient, total(xp, masked, (0, 1, 2), keep_dims=False)

    return kernel


# The gradients of `_FusedConv2DMaxPool`'s filter and bias from the pooled gradient: ReluGrad(grad,
# pooled), routed to each window's maximum by the workspace, then Conv2DBackpropFilter over the input
# and the per-channel sum (NHWC), as a plan runs them on a backend with its own kernel
# (caudal.runtime.fusion.conv_max_pool_grads), which need not write the convolution-sized gradient.
register_op("_FusedConv2DMaxPoolGrad", infer=_conv_max_pool_grad_infer, kernel=conv_max_pool_grad_of_kernels(),
            variants={"numpy": conv_max_pool_grad_of_kernels("numpy")}, grad=NOT_DIFFERENTIABLE, fresh=True)
