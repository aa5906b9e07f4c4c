"""`tf.count_up_to` / `Variable.count_up_to`: the CountUpTo op, which increments a scalar integer
variable and yields its value before the increment, or raises OutOfRangeError ("Reached limit of N")
once the variable has reached `limit`. TF1's epoch counters (`tf.train.limit_epochs`) are built on it."""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal import errors
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import InferContext
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops.variable_ops import bind_variable

__all__ = ["count_up_to"]


def _count_up_to_infer(ctx: InferContext) -> list:
    ref = ctx.inputs[0]
    if not ref.dtype.is_ref_dtype:
        raise TypeError(f"'CountUpTo' requires a variable (a reference) as its first input, got {ref.name}")
    dtype = ref.dtype.base_dtype
    if dtype not in (dtypes_lib.int32, dtypes_lib.int64):
        raise TypeError(f"Value passed to parameter 'ref' has DataType {dtype.name} not in list of allowed values: "
                        "int32, int64")
    if ref.shape.ndims is not None and ref.shape.ndims != 0:
        raise ValueError(f"Shape must be rank 0 but is rank {ref.shape.ndims}")
    ctx.attrs["T"] = dtype
    return [(dtype, TensorShape([]))]


def _count_up_to_kernel(ctx: Any, *, limit: int, var: str, op: Any) -> Any:
    before = np.asarray(ctx.read(var))
    if np.ndim(before) != 0:
        raise errors.InvalidArgumentError(None, op, f"Not a scalar: {list(np.shape(before))}")
    if before >= limit:
        raise errors.OutOfRangeError(None, op, f"Reached limit of {limit}")
    ctx.write(var, np.asarray(before + 1, before.dtype))
    return before


register_op("CountUpTo", infer=_count_up_to_infer, kernel=_count_up_to_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True, ref_inputs=(0,), bind=bind_variable)


def count_up_to(ref: Any, limit: int, name: str | None = None) -> Tensor:
    """`tf.count_up_to(ref, limit)`: increments the int32/int64 scalar variable `ref` until `limit`."""
    variable = getattr(ref, "_variable", ref)
    op = variable.graph.create_op("CountUpTo", [variable], {"limit": int(limit)}, name=name or "CountUpTo")
    return op.outputs[0]
