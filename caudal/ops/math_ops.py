"""Elementwise arithmetic, AddN, Cast and matrix products.

Binary ops broadcast like NumPy and require both inputs to share a dtype, as
TensorFlow does: `tf.add(float32, int32)` is a TypeError naming both dtypes.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework import threads
from caudal.framework.convert import convert_to_tensor, is_tensor_like
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules
from caudal.ops._broadcast import sum_to_shape_of
from caudal.ops._inplace import binary_into_first, unary_into_first

__all__ = ["add", "subtract", "multiply", "divide", "truediv", "realdiv", "floordiv", "floormod",
           "pow", "negative", "abs", "square", "sqrt", "rsqrt", "exp", "log", "sigmoid", "tanh",
           "sign", "maximum", "minimum", "matmul", "add_n", "cast", "to_float", "to_int32",
           "to_int64", "to_double"]


def _binary_operands(x: Any, y: Any, name_x: str = "x", name_y: str = "y") -> tuple[Tensor, Tensor]:
    """Converts operands the way TF's op wrappers do: a non-Tensor takes the other's dtype."""
    if isinstance(x, Tensor) or not isinstance(y, Tensor):
        x = convert_to_tensor(x, name=name_x)
        y = convert_to_tensor(y, dtype=x.dtype.base_dtype if not isinstance(y, Tensor) else None, name=name_y) \
            if not is_tensor_like(y) else convert_to_tensor(y, name=name_y)
    else:
        y = convert_to_tensor(y, name=name_y)
        x = convert_to_tensor(x, dtype=y.dtype.base_dtype, name=name_x) if not is_tensor_like(x) \
            else convert_to_tensor(x, name=name_x)
    return x, y


def _binary(op_type: str, x: Any, y: Any, name: str | None) -> Tensor:
    """The op named `name` (default: its type); Python operands become constants inside its scope
    (`Add/y`), as TF's op wrappers name them."""
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        return apply_op(op_type, [x, y], {"T": x.dtype.base_dtype}, name or op_type)
    graph = x.graph if isinstance(x, Tensor) else y.graph if isinstance(y, Tensor) else get_default_graph()
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        x, y = _binary_operands(x, y)
        return apply_op(op_type, [x, y], {"T": x.dtype.base_dtype}, scope[:-1] + "/")


def _unary(op_type: str, x: Any, name: str | None) -> Tensor:
    x = convert_to_tensor(x, name="x")
    return apply_op(op_type, [x], {"T": x.dtype.base_dtype}, name or op_type)


# ------------------------------------------------------------ add, sub, mul
def _add_grad(op: Any, grad: Tensor) -> list:
    x, y = op.inputs
    return [sum_to_shape_of(grad, x, (y,)), sum_to_shape_of(grad, y, (x,))]


def _sub_grad(op: Any, grad: Tensor) -> list:
    x, y = op.inputs
    return [sum_to_shape_of(grad, x, (y,)), sum_to_shape_of(negative(grad), y, (x,))]


def _mul_grad(op: Any, grad: Tensor) -> list:
    x, y = op.inputs
    return [sum_to_shape_of(multiply(grad, y), x, (y,)), sum_to_shape_of(multiply(x, grad), y, (x,))]


register_op("AddV2", infer=_rules.binary(_rules.NUMERIC), kernel=lambda xp, x, y: xp.add(x, y), grad=_add_grad,
            fresh=True, inplace=binary_into_first(np.add), expression="{0} + {1}")
register_op("Sub", infer=_rules.binary(_rules.NUMERIC), kernel=lambda xp, x, y: xp.subtract(x, y),
            grad=_sub_grad, fresh=True, inplace=binary_into_first(np.subtract), expression="{0} - {1}")
register_op("Mul", infer=_rules.binary(_rules.NUMERIC), kernel=lambda xp, x, y: xp.multiply(x, y),
            grad=_mul_grad, fresh=True, inplace=binary_into_first(np.multiply), expression="{0} * {1}")


def add(x: Any, y: Any, name: str | None = None) -> Tensor:
    """x + y with broadcasting (op type AddV2, named "Add" as in TF). Strings are not supported."""
    return _binary("AddV2", x, y, name or "Add")


def subtract(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary("Sub", x, y, name)


def multiply(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary("Mul", x, y, name)


# ------------------------------------------------------------------ division
def _realdiv_grad(op: Any, grad: Tensor) -> list:
    x, y = op.inputs
    gx = realdiv(grad, y)
    gy = multiply(grad, realdiv(realdiv(negative(x), y), y))
    return [sum_to_shape_of(gx, x, (y,)), sum_to_shape_of(gy, y, (x,))]


def _realdiv_kernel(xp: Any, x: Any, y: Any) -> Any:
    return xp.true_divide(x, y).astype(x.dtype, copy=False)


register_op("RealDiv", infer=_rules.binary(_rules.NUMERIC), kernel=_realdiv_kernel, grad=_realdiv_grad,
            fresh=True, inplace=binary_into_first(np.true_divide, kinds="fc"))


def _floordiv_kernel(xp: Any, x: Any, y: Any) -> Any:
    if x.dtype.kind in "iu" and not xp.all(y):
        from caudal.errors import InvalidArgumentError

        raise InvalidArgumentError(None, None, "Integer division by zero")
    return xp.floor_divide(x, y)


def _floormod_grad(op: Any, grad: Tensor) -> list:
    x, y = op.inputs
    gy = multiply(negative(grad), floordiv(x, y))
    return [sum_to_shape_of(grad, x, (y,)), sum_to_shape_of(gy, y, (x,))]


register_op("FloorDiv", infer=_rules.binary(_rules.REAL), kernel=_floordiv_kernel, grad=NOT_DIFFERENTIABLE)
register_op("FloorMod", infer=_rules.binary(_rules.REAL), kernel=lambda xp, x, y: xp.mod(x, y),
            grad=_floormod_grad)


def realdiv(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary("RealDiv", x, y, name)


_TRUEDIV_FLOAT = {dtypes_lib.int8: dtypes_lib.float32, dtypes_lib.uint8: dtypes_lib.float32,
                  dtypes_lib.int16: dtypes_lib.float32, dtypes_lib.uint16: dtypes_lib.float32,
                  dtypes_lib.int32: dtypes_lib.float64, dtypes_lib.int64: dtypes_lib.float64}


def truediv(x: Any, y: Any, name: str | None = None) -> Tensor:
    """Python 3 division: integers are cast to float (32-bit for small ints, 64-bit else) first."""
    with get_default_graph().name_scope(name or "truediv") as scope:
        x, y = _binary_operands(x, y)
        if x.dtype.base_dtype != y.dtype.base_dtype:
            raise TypeError(f"x and y must have the same dtype, got {x.dtype.base_dtype.name} != "
                            f"{y.dtype.base_dtype.name}")
        target = _TRUEDIV_FLOAT.get(x.dtype.base_dtype)
        if target is not None:
            x = cast(x, target)
            y = cast(y, target)
        return apply_op("RealDiv", [x, y], {"T": x.dtype.base_dtype}, scope[:-1] + "/")


def divide(x: Any, y: Any, name: str | None = None) -> Tensor:
    """`tf.divide`: truediv."""
    return truediv(x, y, name=name or "truediv")


def div(x: Any, y: Any, name: str | None = None) -> Tensor:
    """TF1 `tf.div`: floor division for integers, real division for floats."""
    x, y = _binary_operands(x, y)
    if x.dtype.base_dtype.is_integer:
        return floordiv(x, y, name=name)
    return realdiv(x, y, name=name)


def floordiv(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary("FloorDiv", x, y, name)


def floormod(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary("FloorMod", x, y, name)


mod = floormod


# ---------------------------------------------------------------------- pow
def _pow_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.comparison_ops import greater, where
    from caudal.ops.constant_ops import zeros_like

    x, y = op.inputs
    z = op.outputs[0]
    gx = multiply(multiply(grad, y), pow(x, subtract(y, 1)))
    safe_log = where(greater(x, 0), log(where(greater(x, 0), x, _ones_like(x))), zeros_like(x))
    gy = multiply(multiply(grad, z), safe_log)
    return [sum_to_shape_of(gx, x, (y,)), sum_to_shape_of(gy, y, (x,))]


def _ones_like(x: Tensor) -> Tensor:
    from caudal.ops.constant_ops import ones_like

    return ones_like(x)


register_op("Pow", infer=_rules.binary(_rules.NUMERIC), kernel=lambda xp, x, y: xp.power(x, y), grad=_pow_grad)


def pow(x: Any, y: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TF's name
    return _binary("Pow", x, y, name)


# --------------------------------------------------------- maximum, minimum
def _select_grad(op: Any, grad: Tensor, x_wins: Tensor) -> list:
    from caudal.ops.comparison_ops import where
    from caudal.ops.constant_ops import zeros_like

    x, y = op.inputs
    zeros = zeros_like(grad)
    gx = where(x_wins, grad, zeros)
    gy = where(x_wins, zeros, grad)
    return [sum_to_shape_of(gx, x, (y,)), sum_to_shape_of(gy, y, (x,))]


def _maximum_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.comparison_ops import greater_equal

    x, y = op.inputs
    return _select_grad(op, grad, greater_equal(x, y))


def _minimum_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.comparison_ops import less_equal

    x, y = op.inputs
    return _select_grad(op, grad, less_equal(x, y))


register_op("Maximum", infer=_rules.binary(_rules.REAL), kernel=lambda xp, x, y: xp.maximum(x, y),
            grad=_maximum_grad, fresh=True, inplace=binary_into_first(np.maximum))
register_op("Minimum", infer=_rules.binary(_rules.REAL), kernel=lambda xp, x, y: xp.minimum(x, y),
            grad=_minimum_grad, fresh=True, inplace=binary_into_first(np.minimum))


def maximum(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary("Maximum", x, y, name)


def minimum(x: Any, y: Any, name: str | None = None) -> Tensor:
    return _binary("Minimum", x, y, name)


# ------------------------------------------------------------- unary math
def _neg_grad(op: Any, grad: Tensor) -> list:
    return [negative(grad)]


def _abs_grad(op: Any, grad: Tensor) -> list:
    return [multiply(grad, sign(op.inputs[0]))]


def _square_grad(op: Any, grad: Tensor) -> list:
    x = op.inputs[0]
    return [multiply(grad, multiply(x, convert_to_tensor(2, dtype=x.dtype.base_dtype)))]


def _sqrt_grad(op: Any, grad: Tensor) -> list:
    y = op.outputs[0]
    return [realdiv(multiply(grad, convert_to_tensor(0.5, dtype=y.dtype.base_dtype)), y)]


def _rsqrt_grad(op: Any, grad: Tensor) -> list:
    y = op.outputs[0]
    return [multiply(grad, multiply(convert_to_tensor(-0.5, dtype=y.dtype.base_dtype),
                                    multiply(y, square(y))))]


def _exp_grad(op: Any, grad: Tensor) -> list:
    return [multiply(grad, op.outputs[0])]


def _log_grad(op: Any, grad: Tensor) -> list:
    return [realdiv(grad, op.inputs[0])]


def _sigmoid_grad(op: Any, grad: Tensor) -> list:
    return [apply_op("SigmoidGrad", [op.outputs[0], grad], {"T": grad.dtype.base_dtype})]


def _tanh_grad(op: Any, grad: Tensor) -> list:
    return [apply_op("TanhGrad", [op.outputs[0], grad], {"T": grad.dtype.base_dtype})]


def _sigmoid_kernel(xp: Any, x: Any) -> Any:
    """exp(min(x, 0)) / (1 + exp(-|x|)): 1 / (1 + exp(-x)) for x >= 0 and exp(x) / (1 + exp(x)) for
    x < 0, so nothing overflows and tiny results keep their precision, with no branch per element
    (a data-dependent `where` is several times slower than the arithmetic)."""
    if x.dtype.kind == "c":
        return 1 / (1 + xp.exp(-x))
    return xp.exp(xp.minimum(x, 0)) / (1 + xp.exp(-xp.abs(x)))


def _sigmoid_numpy(xp: Any, x: Any) -> Any:
    """1 / (1 + exp(-x)) in one buffer, four passes. In float32 and float64 it is as accurate as the
    portable formula (within an ulp or two): where exp(-x) overflows, the true value is below the
    smallest normal float, which TF's kernels flush to zero too. Half precision keeps the portable
    formula, whose exp overflows later."""
    if type(x) is not np.ndarray or x.dtype not in (np.float32, np.float64) or not x.ndim:
        return _sigmoid_kernel(xp, x)  # NumPy gives 0-d results as scalars, which take no `out=`
    result = np.negative(x)
    np.exp(result, out=result)
    result += 1
    np.reciprocal(result, out=result)
    return result


def _sigmoid_grad_numpy(xp: Any, y: Any, dy: Any) -> Any:
    """dy * y * (1 - y), evaluated in that order, in two buffers."""
    if type(y) is not np.ndarray or type(dy) is not np.ndarray or y.dtype != dy.dtype or y.shape != dy.shape:
        return dy * y * (1 - y)
    result = np.multiply(dy, y)
    one_minus_y = np.subtract(1, y, dtype=y.dtype)
    result *= one_minus_y
    return result


def _tanh_grad_numpy(xp: Any, y: Any, dy: Any) -> Any:
    """dy * (1 - y * y) in one buffer."""
    if type(y) is not np.ndarray or type(dy) is not np.ndarray or y.dtype != dy.dtype or y.shape != dy.shape:
        return dy * (1 - y * y)
    result = np.multiply(y, y)
    np.subtract(1, result, out=result)
    result *= dy
    return result


register_op("Neg", infer=_rules.unary(_rules.SIGNED), kernel=lambda xp, x: xp.negative(x), grad=_neg_grad,
            fresh=True, inplace=unary_into_first(np.negative))
register_op("Abs", infer=_rules.unary(_rules.SIGNED), kernel=lambda xp, x: xp.abs(x), grad=_abs_grad)
register_op("Sign", infer=_rules.unary(_rules.SIGNED), kernel=lambda xp, x: xp.sign(x),
            grad=lambda op, grad: [_zeros_like(op.inputs[0])])
register_op("Square", infer=_rules.unary(_rules.NUMERIC), kernel=lambda xp, x: xp.square(x), grad=_square_grad,
            fresh=True, inplace=unary_into_first(np.square))
register_op("Sqrt", infer=_rules.unary(_rules.FLOAT_COMPLEX), kernel=lambda xp, x: xp.sqrt(x), grad=_sqrt_grad,
            fresh=True, inplace=unary_into_first(np.sqrt))
register_op("Rsqrt", infer=_rules.unary(_rules.FLOAT_COMPLEX), kernel=lambda xp, x: 1 / xp.sqrt(x),
            grad=_rsqrt_grad)
register_op("Exp", infer=_rules.unary(_rules.FLOAT_COMPLEX), kernel=lambda xp, x: xp.exp(x), grad=_exp_grad,
            fresh=True, inplace=unary_into_first(np.exp))
register_op("Log", infer=_rules.unary(_rules.FLOAT_COMPLEX), kernel=lambda xp, x: xp.log(x), grad=_log_grad,
            fresh=True, inplace=unary_into_first(np.log))
register_op("Sigmoid", infer=_rules.unary(_rules.FLOAT_COMPLEX), kernel=_sigmoid_kernel, grad=_sigmoid_grad,
            variants={"numpy": _sigmoid_numpy})
register_op("Tanh", infer=_rules.unary(_rules.FLOAT_COMPLEX), kernel=lambda xp, x: xp.tanh(x), grad=_tanh_grad,
            fresh=True, inplace=unary_into_first(np.tanh))


def _zeros_like(x: Tensor) -> Tensor:
    from caudal.ops.constant_ops import zeros_like

    return zeros_like(x)


# SigmoidGrad(y, dy) = dy * y * (1 - y) and TanhGrad(y, dy) = dy * (1 - y^2): TF's fused
# backward ops; their own gradients make second derivatives work.
def _sigmoid_grad_grad(op: Any, grad: Tensor) -> list:
    y, dy = op.inputs
    one = convert_to_tensor(1, dtype=y.dtype.base_dtype)
    two = convert_to_tensor(2, dtype=y.dtype.base_dtype)
    return [multiply(grad, multiply(dy, subtract(one, multiply(two, y)))),
            multiply(grad, multiply(y, subtract(one, y)))]


def _tanh_grad_grad(op: Any, grad: Tensor) -> list:
    y, dy = op.inputs
    minus_two = convert_to_tensor(-2, dtype=y.dtype.base_dtype)
    one = convert_to_tensor(1, dtype=y.dtype.base_dtype)
    return [multiply(grad, multiply(minus_two, multiply(dy, y))), multiply(grad, subtract(one, square(y)))]


register_op("SigmoidGrad", infer=_rules.binary(_rules.FLOAT_COMPLEX),
            kernel=lambda xp, y, dy: dy * y * (1 - y), grad=_sigmoid_grad_grad,
            variants={"numpy": _sigmoid_grad_numpy})
register_op("TanhGrad", infer=_rules.binary(_rules.FLOAT_COMPLEX),
            kernel=lambda xp, y, dy: dy * (1 - y * y), grad=_tanh_grad_grad, variants={"numpy": _tanh_grad_numpy})


def negative(x: Any, name: str | None = None) -> Tensor:
    return _unary("Neg", x, name)


def abs(x: Any, name: str | None = None) -> Tensor:  # noqa: A001 - TF's name
    """|x|; its gradient at 0 is 0, as in TF."""
    return _unary("Abs", x, name)


def sign(x: Any, name: str | None = None) -> Tensor:
    return _unary("Sign", x, name)


def square(x: Any, name: str | None = None) -> Tensor:
    return _unary("Square", x, name)


def sqrt(x: Any, name: str | None = None) -> Tensor:
    return _unary("Sqrt", x, name)


def rsqrt(x: Any, name: str | None = None) -> Tensor:
    return _unary("Rsqrt", x, name)


def exp(x: Any, name: str | None = None) -> Tensor:
    return _unary("Exp", x, name)


def log(x: Any, name: str | None = None) -> Tensor:
    return _unary("Log", x, name)


def sigmoid(x: Any, name: str | None = None) -> Tensor:
    return _unary("Sigmoid", x, name)


def tanh(x: Any, name: str | None = None) -> Tensor:
    return _unary("Tanh", x, name)


# --------------------------------------------------------------------- AddN
def _add_n_infer(ctx: InferContext) -> list:
    n = len(ctx.inputs)
    _rules.check_same_dtype(ctx, range(n), [f"inputs[{i}]" for i in range(n)])
    _rules.check_dtype(ctx, 0, _rules.NUMERIC, "inputs")
    shape = ctx.shape(0)
    for i in range(1, n):
        if not shape.is_compatible_with(ctx.shape(i)):
            raise ValueError(f"Shapes must be equal rank, but are {shape} and {ctx.shape(i)}")
        shape = shape.merge_with(ctx.shape(i))
    return [(ctx.dtype(0), shape)]


def _add_n_kernel(xp: Any, *inputs: Any) -> Any:
    total = inputs[0] + inputs[1] if len(inputs) > 1 else inputs[0]
    for value in inputs[2:]:
        total = total + value
    return total


register_op("AddN", infer=_add_n_infer, kernel=_add_n_kernel,
            grad=lambda op, grad: [grad] * len(op.inputs))


def add_n(inputs: Any, name: str | None = None) -> Tensor:
    """Sums a list of tensors of one shape and dtype."""
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("inputs must be a list of at least one Tensor with the same dtype and shape")
    tensors = [convert_to_tensor(t) for t in inputs]
    if len(tensors) == 1:
        from caudal.ops.control_ops import identity

        return identity(tensors[0], name=name)
    return apply_op("AddN", tensors, {"N": len(tensors), "T": tensors[0].dtype.base_dtype}, name or "AddN")


# --------------------------------------------------------------------- Cast
def _cast_infer(ctx: InferContext) -> list:
    return [(_rules.attr_dtype(ctx, "DstT"), ctx.shape(0))]


def _cast_kernel(xp: Any, x: Any, *, DstT: dtypes_lib.DType) -> Any:
    target = DstT.as_numpy_dtype
    if x.dtype.kind == "c" and np.dtype(target).kind != "c":
        x = xp.real(x)
    return xp.asarray(x).astype(target)


def _cast_grad(op: Any, grad: Tensor) -> list:
    src = op.get_attr("SrcT")
    dst = op.get_attr("DstT")
    differentiable = (dtypes_lib.FLOATING | dtypes_lib.COMPLEX)
    if src in differentiable and dst in differentiable:
        return [cast(grad, src)]
    return [None]


register_op("Cast", infer=_cast_infer, kernel=_cast_kernel, grad=_cast_grad)


def cast(x: Any, dtype: Any, name: str | None = None) -> Tensor:
    """Casts to `dtype`; a no-op (the same tensor) when the dtype already matches, as in TF."""
    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    x = convert_to_tensor(x, name="x")
    if x.dtype.base_dtype == dtype:
        return x
    return apply_op("Cast", [x], {"SrcT": x.dtype.base_dtype, "DstT": dtype, "Truncate": False},
                    name or "Cast")


def to_float(x: Any, name: str = "ToFloat") -> Tensor:
    return cast(x, dtypes_lib.float32, name=name)


def to_double(x: Any, name: str = "ToDouble") -> Tensor:
    return cast(x, dtypes_lib.float64, name=name)


def to_int32(x: Any, name: str = "ToInt32") -> Tensor:
    return cast(x, dtypes_lib.int32, name=name)


def to_int64(x: Any, name: str = "ToInt64") -> Tensor:
    return cast(x, dtypes_lib.int64, name=name)


# ------------------------------------------------------------------- MatMul
def _matmul_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1), ("a", "b"))
    _rules.check_dtype(ctx, 0, _rules.NUMERIC - {dtypes_lib.bool_}, "a")
    a = ctx.shape(0).with_rank(2)
    b = ctx.shape(1).with_rank(2)
    if a.ndims is None or b.ndims is None:
        return [(dtype, TensorShape([None, None]))]
    m, k1 = (a[1], a[0]) if ctx.attrs["transpose_a"] else (a[0], a[1])
    k2, n = (b[1], b[0]) if ctx.attrs["transpose_b"] else (b[0], b[1])
    if k1.value is not None and k2.value is not None and k1.value != k2.value:
        raise ValueError(f"Dimensions must be equal, but are {k1.value} and {k2.value}")
    return [(dtype, TensorShape([m.value, n.value]))]


def _matmul_kernel(xp: Any, a: Any, b: Any, *, transpose_a: bool, transpose_b: bool) -> Any:
    if transpose_a:
        a = a.T
    if transpose_b:
        b = b.T
    return xp.matmul(a, b)


def _matmul_grad(op: Any, grad: Tensor) -> list:
    a, b = op.inputs
    ta, tb = op.get_attr("transpose_a"), op.get_attr("transpose_b")
    if not ta and not tb:
        return [matmul(grad, b, transpose_b=True), matmul(a, grad, transpose_a=True)]
    if not ta and tb:
        return [matmul(grad, b), matmul(grad, a, transpose_a=True)]
    if ta and not tb:
        return [matmul(b, grad, transpose_b=True), matmul(a, grad)]
    return [matmul(b, grad, transpose_a=True, transpose_b=True),
            matmul(grad, a, transpose_a=True, transpose_b=True)]


def _matmul_numpy(xp: Any, a: Any, b: Any, *, transpose_a: bool, transpose_b: bool) -> Any:
    """The product on NumPy's BLAS, with threads sized to its work (caudal.framework.threads)."""
    threads.blas_threads_for(2.0 * a.size * (b.shape[0] if transpose_b else b.shape[-1]))
    return _matmul_kernel(xp, a, b, transpose_a=transpose_a, transpose_b=transpose_b)


register_op("MatMul", infer=_matmul_infer, kernel=_matmul_kernel, grad=_matmul_grad, fresh=True,
            variants={"numpy": _matmul_numpy})


def _batch_matmul_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1), ("x", "y"))
    a, b = ctx.shape(0), ctx.shape(1)
    if a.ndims is None or b.ndims is None:
        return [(dtype, TensorShape(None))]
    if a.ndims < 2 or b.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {min(a.ndims, b.ndims)}")
    m, k1 = (a[-1], a[-2]) if ctx.attrs["adj_x"] else (a[-2], a[-1])
    k2, n = (b[-1], b[-2]) if ctx.attrs["adj_y"] else (b[-2], b[-1])
    if k1.value is not None and k2.value is not None and k1.value != k2.value:
        raise ValueError(f"Dimensions must be equal, but are {k1.value} and {k2.value}")
    batch = _rules.broadcast_shapes(a[:-2], b[:-2])
    return [(dtype, batch.concatenate([m.value, n.value]))]


def _batch_matmul_kernel(xp: Any, x: Any, y: Any, *, adj_x: bool, adj_y: bool) -> Any:
    if adj_x:
        x = xp.conj(xp.swapaxes(x, -1, -2))
    if adj_y:
        y = xp.conj(xp.swapaxes(y, -1, -2))
    return xp.matmul(x, y)


def _batch_matmul_grad(op: Any, grad: Tensor) -> list:
    x, y = op.inputs
    ax, ay = op.get_attr("adj_x"), op.get_attr("adj_y")
    if not ax and not ay:
        gx, gy = _bmm(grad, y, False, True), _bmm(x, grad, True, False)
    elif not ax and ay:
        gx, gy = _bmm(grad, y, False, False), _bmm(grad, x, True, False)
    elif ax and not ay:
        gx, gy = _bmm(y, grad, False, True), _bmm(x, grad, False, False)
    else:
        gx, gy = _bmm(y, grad, True, True), _bmm(grad, x, True, True)
    return [_sum_batch_to(gx, x), _sum_batch_to(gy, y)]


def _bmm(x: Tensor, y: Tensor, adj_x: bool, adj_y: bool) -> Tensor:
    return apply_op("BatchMatMulV2", [x, y], {"T": x.dtype.base_dtype, "adj_x": adj_x, "adj_y": adj_y},
                    "MatMul")


def _sum_batch_to(grad: Tensor, x: Tensor) -> Tensor:
    """Reduces the broadcast batch dimensions of a batched-matmul gradient to x's."""
    from caudal.ops.array_ops import reshape, shape
    from caudal.ops.reduction_ops import reduce_sum

    if x.shape.is_fully_defined() and grad.shape.is_fully_defined():
        if x.shape == grad.shape:
            return grad
        extra = grad.shape.ndims - x.shape.ndims
        gdims, xdims = grad.shape.as_list(), [1] * extra + x.shape.as_list()
        axes = [i for i in range(grad.shape.ndims - 2) if xdims[i] == 1 and gdims[i] != 1]
        return reshape(reduce_sum(grad, axes, keepdims=True), x.shape.as_list()) if axes else \
            reshape(grad, x.shape.as_list())
    return reshape(sum_to_shape_of(grad, x), shape(x))


def _batch_matmul_numpy(xp: Any, x: Any, y: Any, *, adj_x: bool, adj_y: bool) -> Any:
    """The products on NumPy's BLAS, with threads sized to their work (caudal.framework.threads)."""
    if x.ndim >= 2 and y.ndim >= 2:
        n, m = y.shape[-2 if adj_y else -1], x.shape[-1 if adj_x else -2]
        threads.blas_threads_for(2.0 * max(x.size * n, y.size * m))
    return _batch_matmul_kernel(xp, x, y, adj_x=adj_x, adj_y=adj_y)


register_op("BatchMatMulV2", infer=_batch_matmul_infer, kernel=_batch_matmul_kernel, grad=_batch_matmul_grad,
            variants={"numpy": _batch_matmul_numpy})


def matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False, adjoint_a: bool = False,
           adjoint_b: bool = False, a_is_sparse: bool = False, b_is_sparse: bool = False,
           name: str | None = None) -> Tensor:
    """Matrix product; rank > 2 inputs are batched (BatchMatMulV2) with broadcasting."""
    with get_default_graph().name_scope(name or "MatMul") as scope:
        a, b = _binary_operands(a, b, "a", "b")
        op_name = scope[:-1] + "/"
        batched = (a.shape.ndims or 0) > 2 or (b.shape.ndims or 0) > 2
        if batched:
            return apply_op("BatchMatMulV2", [a, b], {"T": a.dtype.base_dtype, "adj_x": transpose_a or adjoint_a,
                                                      "adj_y": transpose_b or adjoint_b}, op_name)
        return apply_op("MatMul", [a, b], {"T": a.dtype.base_dtype, "transpose_a": transpose_a or adjoint_a,
                                           "transpose_b": transpose_b or adjoint_b}, op_name)
