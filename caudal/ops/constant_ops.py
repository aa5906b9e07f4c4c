"""Const, Placeholder, PlaceholderWithDefault, Fill, ZerosLike, OnesLike."""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor, register_constant_builder, to_numpy
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, as_shape, unknown_shape
from caudal.ops import _rules

__all__ = ["constant", "placeholder", "placeholder_with_default", "fill", "zeros", "ones",
           "zeros_like", "ones_like"]

# TensorFlow's own spelling of dtype names in messages ("float", not "float32").
_TF_TYPE_NAMES = {"float32": "float", "float64": "double"}


def tf_type_name(dtype: dtypes_lib.DType) -> str:
    return _TF_TYPE_NAMES.get(dtype.base_dtype.name, dtype.base_dtype.name)


def shape_str(shape: TensorShape) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


# ------------------------------------------------------------------ Const
def _const_infer(ctx: InferContext) -> list:
    value = ctx.attrs["value"]
    return [(ctx.attrs["dtype"], TensorShape(value.shape))]


def _const_kernel(xp: Any, *, value: np.ndarray) -> Any:
    return value


register_op("Const", infer=_const_infer, kernel=_const_kernel, grad=NOT_DIFFERENTIABLE)


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str = "Const",
             verify_shape: bool = False) -> Tensor:
    """`tf.constant`: a Const op. With `shape`, a scalar is filled and a smaller list is
    padded with its last element, as in TF1."""
    dtype = dtypes_lib.as_dtype(dtype).base_dtype if dtype is not None else None
    array = to_numpy(value, dtype)
    if dtype is None:
        dtype = dtypes_lib.as_dtype(array.dtype)
    if shape is not None:
        shape = as_shape(shape)
        if not shape.is_fully_defined():
            raise TypeError(f"Cannot create a constant with a partially known shape {shape}")
        target = tuple(shape.as_list())
        if verify_shape and array.shape != target:
            raise TypeError(f"Expected Tensor's shape: {target}, got {array.shape}.")
        size = int(np.prod(target))
        if array.size == size:
            array = array.reshape(target)
        elif array.size == 1:
            array = np.full(target, array.reshape(-1)[0], dtype=array.dtype)
        elif 0 < array.size < size:
            flat = array.reshape(-1)
            array = np.concatenate([flat, np.full(size - flat.size, flat[-1], dtype=flat.dtype)]).reshape(target)
        else:
            raise TypeError(f"Too many elements provided. Needed at most {size}, but received {array.size}")
    array.flags.writeable = False
    return get_default_graph().create_op("Const", [], {"value": array, "dtype": dtype}, name)._outputs[0]


register_constant_builder(constant)  # convert_to_tensor makes Python values Const nodes with it


# ------------------------------------------------------------ Placeholder
def _placeholder_infer(ctx: InferContext) -> list:
    return [(ctx.attrs["dtype"], ctx.attrs["shape"])]


def _placeholder_kernel(xp: Any, *, dtype: Any, shape: Any) -> Any:
    raise AssertionError("a placeholder that is not fed is caught when the plan is built")


register_op("Placeholder", infer=_placeholder_infer, kernel=_placeholder_kernel, grad=NOT_DIFFERENTIABLE)


def placeholder(dtype: Any, shape: Any = None, name: str | None = None) -> Tensor:
    """`tf.placeholder`: a value that must be fed to `Session.run`."""
    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    shape = unknown_shape() if shape is None else as_shape(shape)
    return get_default_graph().create_op(
        "Placeholder", [], {"dtype": dtype, "shape": shape}, name or "Placeholder")._outputs[0]


def _placeholder_with_default_infer(ctx: InferContext) -> list:
    shape = ctx.attrs["shape"]
    if not shape.is_compatible_with(ctx.shape(0)):
        raise ValueError(f"Shapes {shape} and {ctx.shape(0)} are incompatible")
    return [(ctx.dtype(0), shape)]


def _placeholder_with_default_grad(op: Any, grad: Tensor) -> list:
    return [grad]


register_op("PlaceholderWithDefault", infer=_placeholder_with_default_infer,
            kernel=lambda xp, x: x, grad=_placeholder_with_default_grad)


def placeholder_with_default(input: Any, shape: Any, name: str | None = None) -> Tensor:
    """A placeholder that yields `input` when it is not fed."""
    value = convert_to_tensor(input)
    return apply_op("PlaceholderWithDefault", [value], {"dtype": value.dtype, "shape": as_shape(shape)},
                    name or "PlaceholderWithDefault")


# ------------------------------------------------------------------- Fill
def _fill_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _rules.INDEX, "dims")
    if ctx.shape(1).ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {ctx.shape(1).ndims}")
    return [(ctx.dtype(1), ctx.shape_value(0))]


def _fill_kernel(xp: Any, dims: Any, value: Any) -> Any:
    return xp.full(tuple(int(d) for d in dims), value, dtype=value.dtype)


def _fill_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.reduction_ops import reduce_sum

    return [None, reduce_sum(grad)]


register_op("Fill", infer=_fill_infer, kernel=_fill_kernel, grad=_fill_grad)


def fill(dims: Any, value: Any, name: str | None = None) -> Tensor:
    """`tf.fill`: a tensor of shape `dims` filled with scalar `value`."""
    dims_t = convert_to_tensor(dims, dtype_hint=dtypes_lib.int32)
    value_t = convert_to_tensor(value)
    return apply_op("Fill", [dims_t, value_t], {"T": value_t.dtype.base_dtype, "index_type": dims_t.dtype.base_dtype},
                    name or "Fill")


def _filled(shape: Any, fill_value: int, dtype: Any, name: str) -> Tensor:
    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    if dtype is dtypes_lib.bool_:
        fill_value = bool(fill_value)  # TF fills bools with True/False, not 1/0
    if not isinstance(shape, Tensor):
        try:
            dims = to_numpy(shape, dtypes_lib.int32) if not isinstance(shape, TensorShape) else \
                np.array(shape.as_list(), dtype=np.int32)
        except (TypeError, ValueError):
            dims = None
        if dims is not None and dims.ndim <= 1 and int(np.prod(dims)) < 1000:
            value = np.full(tuple(int(d) for d in dims.reshape(-1)), fill_value, dtype=dtype.as_numpy_dtype)
            if dtype is dtypes_lib.string:
                value = np.full(value.shape, b"", dtype=object)
            return constant(value, dtype=dtype, name=name)
    with get_default_graph().name_scope(name) as scope:
        dims_tensor = convert_to_tensor(shape, dtype_hint=dtypes_lib.int32, name="shape")
        return fill(dims_tensor, constant(fill_value, dtype=dtype), name=scope[:-1] + "/")


def zeros(shape: Any, dtype: Any = dtypes_lib.float32, name: str | None = None) -> Tensor:
    """`tf.zeros`: a Const when small and static, else a Fill."""
    return _filled(shape, 0, dtype, name or "zeros")


def ones(shape: Any, dtype: Any = dtypes_lib.float32, name: str | None = None) -> Tensor:
    """`tf.ones`: a Const when small and static, else a Fill."""
    return _filled(shape, 1, dtype, name or "ones")


register_op("ZerosLike", infer=_rules.same_as_input(), kernel=lambda xp, x: xp.zeros_like(x),
            grad=NOT_DIFFERENTIABLE)
register_op("OnesLike", infer=_rules.same_as_input(), kernel=lambda xp, x: xp.ones_like(x),
            grad=NOT_DIFFERENTIABLE)


def zeros_like(tensor: Any, dtype: Any = None, name: str | None = None, optimize: bool = True) -> Tensor:
    """`tf.zeros_like`, optionally with another dtype."""
    tensor = convert_to_tensor(tensor)
    if dtype is not None and dtypes_lib.as_dtype(dtype).base_dtype != tensor.dtype.base_dtype:
        from caudal.ops.array_ops import shape as shape_op

        return zeros(shape_op(tensor), dtype=dtype, name=name)
    return apply_op("ZerosLike", [tensor], {"T": tensor.dtype.base_dtype}, name or "zeros_like")


def ones_like(tensor: Any, dtype: Any = None, name: str | None = None, optimize: bool = True) -> Tensor:
    """`tf.ones_like`, optionally with another dtype."""
    tensor = convert_to_tensor(tensor)
    if dtype is not None and dtypes_lib.as_dtype(dtype).base_dtype != tensor.dtype.base_dtype:
        from caudal.ops.array_ops import shape as shape_op

        return ones(shape_op(tensor), dtype=dtype, name=name)
    return apply_op("OnesLike", [tensor], {"T": tensor.dtype.base_dtype}, name or "ones_like")
