"""`tf.ConditionalAccumulator`: gradients of one shape, summed (or averaged) as they arrive, with TF's op
types (`ResourceConditionalAccumulator`, `ResourceAccumulatorApplyGradient`, `ResourceAccumulatorTakeGradient`,
`ResourceAccumulatorNumAccumulated`, `ResourceAccumulatorSetGlobalStep`).

The accumulator keeps a global step (0 at first): `apply_grad(grad, local_step)` adds `grad` unless
`local_step` is older than the global step (a stale gradient is dropped silently), the first gradient
fixing the shape when none was given; `take_grad(n)` waits until `n` gradients arrived, returns their
mean ("MEAN") or sum ("SUM"), empties the accumulator and increments its global step. The state lives in
the Session like a queue's, and waiting releases the Session's lock the same way
(caudal.ops.queue_ops); a run that fails leaves the accumulator as it was.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal import errors
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, get_default_graph, name_scope
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, as_shape, unknown_shape
from caudal.ops._queue_state import shape_text

__all__ = ["ConditionalAccumulatorBase", "ConditionalAccumulator", "ACCUMULATOR_OP_TYPES"]

ACCUMULATOR_OP_TYPES = ["ResourceConditionalAccumulator", "ResourceAccumulatorApplyGradient",
                        "ResourceAccumulatorTakeGradient", "ResourceAccumulatorNumAccumulated",
                        "ResourceAccumulatorSetGlobalStep"]

_NUMBER_TYPES = [dtypes_lib.as_dtype(n) for n in (
    "float32", "float64", "int32", "uint8", "int16", "int8", "complex64", "int64", "bfloat16", "uint16",
    "complex128", "float16", "uint32", "uint64")]
_NUMBER_TYPE_NAMES = ("float32, float64, int32, uint8, int16, int8, complex64, int64, qint8, quint8, qint32, "
                      "bfloat16, qint16, quint16, uint16, complex128, float16, uint32, uint64")


class AccumulatorState:
    """One accumulator in one Session: the running sum, how many gradients it holds, the global step."""

    def __init__(self, name: str, dtype: np.dtype, dims: tuple | None, mean: bool):
        self.name = name
        self.dtype = dtype
        self.dims = dims  # None: fixed by the first gradient
        self.mean = mean
        self.total: Any = None
        self.count = 0
        self.global_step = 0
        self.version = 0

    def _log_undo(self, ctx: Any) -> None:
        before = (self.dims, self.total, self.count, self.global_step)
        self.version += 1
        version = self.version

        def undo() -> None:
            if self.version == version:
                self.dims, self.total, self.count, self.global_step = before
                self.version -= 1
        ctx.on_rollback(undo)

    def apply(self, ctx: Any, local_step: int, gradient: Any, op: Any) -> None:
        shape = np.shape(gradient)
        if self.dims is not None and (len(self.dims) != len(shape) or any(
                d is not None and d != s for d, s in zip(self.dims, shape))):
            raise errors.InvalidArgumentError(None, op, f"Shape mismatch: expected {shape_text(self.dims)}, got "
                                                        f"{shape_text(shape)}")
        if local_step < self.global_step:
            return  # a stale gradient
        self._log_undo(ctx)
        self.dims = tuple(shape)
        value = np.asarray(gradient, self.dtype)
        self.total = value.copy() if self.total is None else self.total + value
        self.count += 1
        ctx.notify()

    def take(self, ctx: Any, required: int, op: Any) -> Any:
        if required <= 0:
            raise errors.InvalidArgumentError(None, op, f"Argument num_required must be positive, but was {required}")
        if self.count < required:
            ctx.wait(lambda: self.count >= required, "TakeGrad operation was cancelled")
        self._log_undo(ctx)
        total = self.total
        result = total / self.count if self.mean else total
        self.total = None
        self.count = 0
        self.global_step += 1
        return np.asarray(result, self.dtype)

    def set_global_step(self, ctx: Any, step: int) -> None:
        self._log_undo(ctx)
        self.global_step = step
        ctx.notify()


# ------------------------------------------------------------------ ops
def _accumulator_infer(ctx: InferContext) -> list:
    dtype = dtypes_lib.as_dtype(ctx.attrs["dtype"])
    if dtype not in _NUMBER_TYPES:
        raise TypeError(f"Value passed to parameter 'dtype' has DataType {dtype.name} not in list of allowed values: "
                        f"{_NUMBER_TYPE_NAMES}")
    reduction = ctx.attrs.setdefault("reduction_type", "MEAN")
    if reduction not in ("MEAN", "SUM"):
        raise ValueError(f"Attr 'reduction_type' of 'ResourceConditionalAccumulator' Op passed string '{reduction}' "
                         'not in: "MEAN", "SUM".')
    ctx.attrs.setdefault("container", "")
    ctx.attrs.setdefault("shared_name", "")
    ctx.attrs.setdefault("shape", unknown_shape())
    return [(dtypes_lib.resource, TensorShape([2]))]  # TF's handle shape, from the days of string handles


def _accumulator_bind(op: Operation) -> dict:
    shared = op._attrs.get("shared_name") or ""
    shared = shared.decode() if isinstance(shared, bytes) else shared
    shape = as_shape(op._attrs["shape"])
    dtype = dtypes_lib.as_dtype(op._attrs["dtype"])
    return {"key": ("accumulator", shared or op.name), "name": shared or op.name, "shared": bool(shared),
            "dims": None if shape.ndims is None else tuple(shape.as_list()),
            "np_dtype": np.dtype(dtype.as_numpy_dtype), "mean": op._attrs["reduction_type"] in ("MEAN", b"MEAN")}


def _accumulator_kernel(ctx: Any, *, key: tuple, name: str, dims: Any, np_dtype: Any, mean: bool,
                        shared: bool) -> Any:
    resources = ctx.store.shared_resources() if shared else ctx.store.resources
    accumulator = resources.get(key)
    if accumulator is None:
        accumulator = resources[key] = AccumulatorState(name, np_dtype, dims, mean)  # kept at once
    return accumulator


register_op("ResourceConditionalAccumulator", infer=_accumulator_infer, kernel=_accumulator_kernel,
            bind=_accumulator_bind, grad=NOT_DIFFERENTIABLE, stateful=True)


def _accumulator_of(handle: Any, op: Any) -> AccumulatorState:
    if not isinstance(handle, AccumulatorState):
        raise errors.InvalidArgumentError(None, op, "Input 'handle' is not an accumulator handle")
    return handle


def _check_input(ctx: InferContext, i: int, name: str, dtype: dtypes_lib.DType) -> None:
    if ctx.dtype(i) is not dtype:
        raise TypeError(f"Input '{name}' of '{ctx.type}' Op has type {ctx.dtype(i).name} that does not match "
                        f"expected type of {dtype.name}.")


def _handle_shape(handle: Tensor) -> TensorShape:
    op = handle.op
    if op.type == "ResourceConditionalAccumulator":
        return as_shape(op._attrs["shape"])
    return unknown_shape()


def _apply_infer(ctx: InferContext) -> list:
    _check_input(ctx, 0, "handle", dtypes_lib.resource)
    _check_input(ctx, 1, "local_step", dtypes_lib.int64)
    ctx.attrs["dtype"] = ctx.dtype(2)
    return []


def _apply_kernel(ctx: Any, handle: Any, local_step: Any, gradient: Any, *, op: Any) -> None:
    _accumulator_of(handle, op).apply(ctx, int(local_step), gradient, op)


def _take_infer(ctx: InferContext) -> list:
    _check_input(ctx, 0, "handle", dtypes_lib.resource)
    _check_input(ctx, 1, "num_required", dtypes_lib.int32)
    return [(dtypes_lib.as_dtype(ctx.attrs["dtype"]), _handle_shape(ctx.inputs[0]))]


def _take_kernel(ctx: Any, handle: Any, num_required: Any, *, op: Any) -> Any:
    return _accumulator_of(handle, op).take(ctx, int(num_required), op)


def _num_infer(ctx: InferContext) -> list:
    _check_input(ctx, 0, "handle", dtypes_lib.resource)
    return [(dtypes_lib.int32, TensorShape([]))]


def _num_kernel(ctx: Any, handle: Any, *, op: Any) -> Any:
    return np.asarray(_accumulator_of(handle, op).count, np.int32)


def _set_step_infer(ctx: InferContext) -> list:
    _check_input(ctx, 0, "handle", dtypes_lib.resource)
    _check_input(ctx, 1, "new_global_step", dtypes_lib.int64)
    return []


def _set_step_kernel(ctx: Any, handle: Any, new_global_step: Any, *, op: Any) -> None:
    _accumulator_of(handle, op).set_global_step(ctx, int(new_global_step))


register_op("ResourceAccumulatorApplyGradient", infer=_apply_infer, kernel=_apply_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)
register_op("ResourceAccumulatorTakeGradient", infer=_take_infer, kernel=_take_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)
register_op("ResourceAccumulatorNumAccumulated", infer=_num_infer, kernel=_num_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)
register_op("ResourceAccumulatorSetGlobalStep", infer=_set_step_infer, kernel=_set_step_kernel,
            grad=NOT_DIFFERENTIABLE, stateful=True)


# ------------------------------------------------------------------ the Python classes
def _as_int64(value: Any) -> Tensor:
    from caudal.ops.math_ops import cast

    return cast(convert_to_tensor(value), dtypes_lib.int64)


class ConditionalAccumulatorBase:
    """`tf.ConditionalAccumulatorBase(dtype, shape, accumulator_ref)`: what every accumulator has."""

    def __init__(self, dtype: Any, shape: Any, accumulator_ref: Tensor):
        self._dtype = dtypes_lib.as_dtype(dtype)
        self._shape = as_shape(shape) if shape is not None else unknown_shape()
        self._accumulator_ref = accumulator_ref
        self._name = accumulator_ref.op.name.split("/")[-1]

    @property
    def accumulator_ref(self) -> Tensor:
        return self._accumulator_ref

    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> dtypes_lib.DType:
        return self._dtype

    def num_accumulated(self, name: str | None = None) -> Tensor:
        """The number of gradients accumulated since the last take_grad (int32)."""
        return self._accumulator_ref.graph.create_op(
            "ResourceAccumulatorNumAccumulated", [self._accumulator_ref], {},
            name=name or f"{self._name}_NumAccumulated").outputs[0]

    def set_global_step(self, new_global_step: Any, name: str | None = None) -> Operation:
        """An op setting the global step; gradients of older local steps are dropped from then on."""
        step = _as_int64(new_global_step)
        return self._accumulator_ref.graph.create_op("ResourceAccumulatorSetGlobalStep",
                                                     [self._accumulator_ref, step], {},
                                                     name=name or "ResourceAccumulatorSetGlobalStep")


class ConditionalAccumulator(ConditionalAccumulatorBase):
    """`tf.ConditionalAccumulator(dtype, shape=None, shared_name=None, name="conditional_accumulator",
    reduction_type="MEAN")`: see the module docstring."""

    def __init__(self, dtype: Any, shape: Any = None, shared_name: str | None = None,
                 name: str = "conditional_accumulator", reduction_type: str = "MEAN"):
        shape = as_shape(shape) if shape is not None else unknown_shape()
        ref = get_default_graph().create_op(
            "ResourceConditionalAccumulator", [],
            {"dtype": dtypes_lib.as_dtype(dtype), "shape": shape, "container": "", "shared_name": shared_name or "",
             "reduction_type": reduction_type}, name=name).outputs[0]
        super().__init__(dtype, shape, ref)

    def apply_grad(self, grad: Any, local_step: Any = 0, name: str | None = None) -> Operation:
        """An op adding `grad` unless `local_step` is older than the accumulator's global step."""
        grad = convert_to_tensor(grad, self._dtype)
        grad.shape.assert_is_compatible_with(self._shape)
        step = _as_int64(local_step)
        return self._accumulator_ref.graph.create_op("ResourceAccumulatorApplyGradient",
                                                     [self._accumulator_ref, step, grad], {},
                                                     name=name or "ResourceAccumulatorApplyGradient")

    def take_grad(self, num_required: Any, name: str | None = None) -> Tensor:
        """The mean (or sum) of the gradients, once `num_required` arrived; empties the accumulator and
        increments its global step."""
        with name_scope(name, "ResourceAccumulatorTakeGradient", [self._accumulator_ref]) as scope:
            required = convert_to_tensor(num_required, dtypes_lib.int32, name="num_required")
            out = self._accumulator_ref.graph.create_op("ResourceAccumulatorTakeGradient",
                                                        [self._accumulator_ref, required],
                                                        {"dtype": self._dtype}, name=scope).outputs[0]
        out.set_shape(self._shape)
        return out
