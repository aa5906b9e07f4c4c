"""Scans: Cumsum and Cumprod along one axis, optionally exclusive and/or reversed.

Like TensorFlow, an out-of-range axis is an InvalidArgumentError when the op runs
("ScanOp: Expected scan axis in the range [-r, r), but got a").
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.ops import _rules

__all__ = ["cumsum", "cumprod"]

_SCAN_TYPES = _rules.NUMERIC - {dtypes_lib.bool_, dtypes_lib.string}


def _scan_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _SCAN_TYPES)
    _rules.check_dtype(ctx, 1, _rules.INDEX, "axis")
    axis_shape = ctx.shape(1)
    if axis_shape.ndims is not None and axis_shape.ndims != 0:
        raise ValueError(f"Shape must be rank 0 but is rank {axis_shape.ndims} for '{ctx.name}'")
    return [(dtype, ctx.shape(0))]


def _scan_kernel(accumulate: str, identity: int) -> Any:
    def kernel(xp: Any, x: Any, axis: Any, *, exclusive: bool, reverse: bool) -> Any:
        a = int(axis)
        rank = x.ndim
        if not -rank <= a < rank:
            from caudal.errors import InvalidArgumentError

            raise InvalidArgumentError(None, None, f"ScanOp: Expected scan axis in the range [{-rank}, {rank}), "
                                                   f"but got {a}")
        a %= rank
        values = xp.flip(x, axis=a) if reverse else x
        result = getattr(xp, accumulate)(values, axis=a, dtype=x.dtype)
        if exclusive and x.shape[a] > 0:
            pad_shape = list(x.shape)
            pad_shape[a] = 1
            head = xp.full(pad_shape, identity, dtype=x.dtype)
            kept = xp.take(result, xp.arange(x.shape[a] - 1), axis=a)
            result = xp.concatenate([head, kept], axis=a)
        return xp.flip(result, axis=a) if reverse else result

    return kernel


def _cumsum_grad(op: Any, grad: Tensor) -> list:
    """The transpose of a scan is the same scan run the other way."""
    axis = op.inputs[1]
    return [cumsum(grad, axis, exclusive=op.get_attr("exclusive"), reverse=not op.get_attr("reverse")), None]


def _cumprod_grad(op: Any, grad: Tensor) -> list:
    """d/dx_i of sum_j g_j p_j is (sum over the j that include x_i of g_j p_j) / x_i, as in TF.

    Like TF's, this divides by x, so it is not finite where x has zeros.
    """
    from caudal.ops.math_ops import multiply, realdiv

    x, axis = op.inputs
    exclusive, reverse = op.get_attr("exclusive"), op.get_attr("reverse")
    products = cumprod(x, axis, exclusive=exclusive, reverse=reverse)
    summed = cumsum(multiply(products, grad), axis, exclusive=exclusive, reverse=not reverse)
    return [realdiv(summed, x), None]


register_op("Cumsum", infer=_scan_infer, kernel=_scan_kernel("cumsum", 0), grad=_cumsum_grad)
register_op("Cumprod", infer=_scan_infer, kernel=_scan_kernel("cumprod", 1), grad=_cumprod_grad)


def _scan(op_type: str, default_name: str, x: Any, axis: Any, exclusive: bool, reverse: bool,
          name: str | None) -> Tensor:
    with get_default_graph().name_scope(name or default_name) as scope:
        x = convert_to_tensor(x, name="x")
        axis_t = convert_to_tensor(axis, dtype_hint=dtypes_lib.int32, name="axis")
        return apply_op(op_type, [x, axis_t], {"T": x.dtype.base_dtype, "Tidx": axis_t.dtype.base_dtype,
                                               "exclusive": bool(exclusive), "reverse": bool(reverse)},
                        scope[:-1] + "/")


def cumsum(x: Any, axis: Any = 0, exclusive: bool = False, reverse: bool = False,
           name: str | None = None) -> Tensor:
    """Running sum along `axis`: `exclusive` leaves out each element itself (starting at 0),
    `reverse` runs from the end; both together give [b + c, c, 0] for [a, b, c]."""
    return _scan("Cumsum", "Cumsum", x, axis, exclusive, reverse, name)


def cumprod(x: Any, axis: Any = 0, exclusive: bool = False, reverse: bool = False,
            name: str | None = None) -> Tensor:
    """Running product along `axis`; `exclusive` starts at 1, `reverse` runs from the end."""
    return _scan("Cumprod", "Cumprod", x, axis, exclusive, reverse, name)
