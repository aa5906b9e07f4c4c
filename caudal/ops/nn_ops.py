"""Core neural-network ops: Softmax, LogSoftmax, Relu (with TF's fused ReluGrad), BiasAdd (with
BiasAddGrad), InTopKV2, and `dropout` and `embedding_lookup` built from public ops as in TF.

Other activations live in `nn_activation_ops`, cross-entropies in `nn_loss_ops`, normalization
in `normalization_ops`.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.random_seed import op_seed_attrs
from caudal.framework.registry import NOT_DIFFERENTIABLE, get_op_def, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules
from caudal.ops.reduction_ops import sum_by_product

__all__ = ["softmax", "log_softmax", "relu", "bias_add", "dropout", "embedding_lookup", "in_top_k"]


def _softmax_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _rules.FLOAT, "logits")
    if ctx.shape(0).ndims == 0:
        raise ValueError("Shape must be at least rank 1 but is rank 0")
    return [(dtype, ctx.shape(0))]


def _softmax_kernel(xp: Any, logits: Any) -> Any:
    shifted = logits - xp.max(logits, axis=-1, keepdims=True)
    e = xp.exp(shifted)
    return e / xp.sum(e, axis=-1, keepdims=True)


def _softmax_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.math_ops import multiply, subtract
    from caudal.ops.reduction_ops import reduce_sum

    y = op.outputs[0]
    return [multiply(subtract(grad, reduce_sum(multiply(grad, y), -1, keepdims=True)), y)]


def _log_softmax_kernel(xp: Any, logits: Any) -> Any:
    shifted = logits - xp.max(logits, axis=-1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def _log_softmax_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.math_ops import exp, multiply, subtract
    from caudal.ops.reduction_ops import reduce_sum

    softmax_y = exp(op.outputs[0])
    return [subtract(grad, multiply(reduce_sum(grad, -1, keepdims=True), softmax_y))]


def row_max_numpy(x: Any) -> Any:
    """`x.max(axis=-1, keepdims=True)` of a NumPy array. NumPy reduces a short last axis one row at a
    time, which costs far more than the arithmetic (128 rows of 10 logits: ~25 us); for a matrix whose
    rows are at most 32 long the maximum is taken down the columns of its transpose instead (~5 us).
    The maximum is exact either way."""
    if x.ndim == 2 and 1 <= x.shape[1] <= 32 and x.shape[0] > 1:
        return np.ascontiguousarray(x.T).max(axis=0)[:, None]
    return x.max(axis=-1, keepdims=True)


def _softmax_numpy(xp: Any, logits: Any) -> Any:
    e = np.exp(logits - row_max_numpy(logits))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def _log_softmax_numpy(xp: Any, logits: Any) -> Any:
    shifted = logits - row_max_numpy(logits)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


register_op("Softmax", infer=_softmax_infer, kernel=_softmax_kernel, variants={"numpy": _softmax_numpy},
            grad=_softmax_grad)
register_op("LogSoftmax", infer=_softmax_infer, kernel=_log_softmax_kernel, variants={"numpy": _log_softmax_numpy},
            grad=_log_softmax_grad)


def _last_axis_op(op_type: str, logits: Any, axis: Any, name: str | None, dim: Any) -> Tensor:
    """Softmax ops work on the last axis; another axis is swapped there and back, as in TF."""
    if axis is not None and dim is not None:
        raise ValueError("Cannot specify both 'axis' and 'dim'")
    axis = dim if axis is None else axis
    logits = convert_to_tensor(logits, name="logits")
    rank = logits.shape.ndims
    if axis is None or axis == -1 or (rank is not None and axis == rank - 1):
        return apply_op(op_type, [logits], {"T": logits.dtype.base_dtype}, name or op_type)
    if rank is None:
        raise ValueError(f"{op_type} over axis {axis} needs a tensor of known rank")
    from caudal.ops.array_ops import transpose

    axis = _rules.normalize_axis(axis, rank)
    perm = list(range(rank))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    with get_default_graph().name_scope(name or op_type):
        swapped = apply_op(op_type, [transpose(logits, perm)], {"T": logits.dtype.base_dtype}, op_type)
        return transpose(swapped, perm)


def softmax(logits: Any, axis: Any = None, name: str | None = None, dim: Any = None) -> Tensor:
    """exp(logits) / sum(exp(logits)) along `axis` (default: the last)."""
    return _last_axis_op("Softmax", logits, axis, name, dim)


def log_softmax(logits: Any, axis: Any = None, name: str | None = None, dim: Any = None) -> Tensor:
    return _last_axis_op("LogSoftmax", logits, axis, name, dim)


# --------------------------------------------------------------------- Relu
def _relu_grad(op: Any, grad: Tensor) -> list:
    return [apply_op("ReluGrad", [grad, op.outputs[0]], {"T": grad.dtype.base_dtype})]


def _relu_grad_kernel(xp: Any, gradients: Any, features: Any) -> Any:
    """The gradient passes where the output is positive; at 0 it is 0, as in TF."""
    return gradients * (features > 0)


def _relu_grad_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.constant_ops import zeros_like

    return [apply_op("ReluGrad", [grad, op.inputs[1]], {"T": grad.dtype.base_dtype}),
            zeros_like(op.inputs[1])]


def _relu_inplace(xp: Any, x: Any) -> Any:
    if type(x) is np.ndarray and x.ndim:
        return np.maximum(x, 0, out=x)
    return xp.maximum(x, 0)


def _relu_grad_inplace(xp: Any, gradients: Any, features: Any) -> Any:
    if type(gradients) is np.ndarray and gradients.shape == features.shape and gradients.dtype.kind == "f":
        return np.multiply(gradients, features > 0, out=gradients)
    return _relu_grad_kernel(xp, gradients, features)


register_op("Relu", infer=_rules.unary(_rules.REAL), kernel=lambda xp, x: xp.maximum(x, 0),
            grad=_relu_grad, fresh=True, inplace=_relu_inplace)
register_op("ReluGrad", infer=_rules.binary(_rules.REAL), kernel=_relu_grad_kernel, grad=_relu_grad_grad,
            fresh=True, inplace=_relu_grad_inplace)


def relu(features: Any, name: str | None = None) -> Tensor:
    x = convert_to_tensor(features, name="features")
    return apply_op("Relu", [x], {"T": x.dtype.base_dtype}, name or "Relu")


def require_rank(shape: TensorShape, rank: int) -> TensorShape:
    """`shape` with the given rank, or ValueError in TF's shape-function words."""
    if shape.ndims is not None and shape.ndims != rank:
        raise ValueError(f"Shape must be rank {rank} but is rank {shape.ndims}")
    return shape if shape.ndims is not None else unknown_shape(rank)


# ------------------------------------------------------------------ BiasAdd
def _channel_axis(data_format: Any, rank: int) -> int:
    fmt = data_format.decode() if isinstance(data_format, bytes) else data_format
    return 1 if fmt == "NCHW" else rank - 1


def _bias_add_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1), ("value", "bias"))
    _rules.check_dtype(ctx, 0, _rules.NUMERIC - {dtypes_lib.bool_}, "value")
    value, bias = ctx.shape(0), require_rank(ctx.shape(1), 1)
    if value.ndims is None:
        return [(dtype, unknown_shape())]
    if value.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {value.ndims}")
    axis = _channel_axis(ctx.attrs["data_format"], value.ndims)
    channels, size = value[axis].value, bias[0].value
    if channels is not None and size is not None and channels != size:
        raise ValueError(f"Dimensions must be equal, but are {channels} and {size}")
    dims = value.as_list()
    dims[axis] = channels if channels is not None else size
    return [(dtype, TensorShape(dims))]


def _bias_add_kernel(xp: Any, value: Any, bias: Any, *, data_format: Any) -> Any:
    axis = _channel_axis(data_format, value.ndim)
    if axis != value.ndim - 1:
        bias = bias.reshape((-1,) + (1,) * (value.ndim - 1 - axis))
    return value + bias


def _bias_add_inplace(xp: Any, value: Any, bias: Any, *, data_format: Any) -> Any:
    if type(value) is np.ndarray and value.dtype == bias.dtype:
        axis = _channel_axis(data_format, value.ndim)
        if axis != value.ndim - 1:
            bias = bias.reshape((-1,) + (1,) * (value.ndim - 1 - axis))
        return np.add(value, bias, out=value)
    return _bias_add_kernel(xp, value, bias, data_format=data_format)


def _bias_add_grad(op: Any, grad: Tensor) -> list:
    data_format = op.get_attr("data_format")
    return [grad, apply_op("BiasAddGrad", [grad], {"T": grad.dtype.base_dtype, "data_format": data_format})]


def _bias_add_grad_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _rules.NUMERIC - {dtypes_lib.bool_}, "out_backprop")
    shape = ctx.shape(0)
    if shape.ndims is None:
        return [(dtype, unknown_shape(1))]
    if shape.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {shape.ndims}")
    return [(dtype, TensorShape([shape[_channel_axis(ctx.attrs["data_format"], shape.ndims)].value]))]


def _bias_add_grad_kernel(xp: Any, out_backprop: Any, *, data_format: Any) -> Any:
    axis = _channel_axis(data_format, out_backprop.ndim)
    axes = tuple(i for i in range(out_backprop.ndim) if i != axis)
    return xp.sum(out_backprop, axis=axes, dtype=out_backprop.dtype)


def _bias_add_grad_numpy(xp: Any, out_backprop: Any, *, data_format: Any) -> Any:
    """BiasAddGrad on NumPy: one BLAS product with ones where `sum_by_product` applies."""
    axis = _channel_axis(data_format, out_backprop.ndim)
    total = sum_by_product(out_backprop, tuple(i for i in range(out_backprop.ndim) if i != axis))
    return total if total is not None else _bias_add_grad_kernel(xp, out_backprop, data_format=data_format)


def _bias_add_grad_grad(op: Any, grad: Tensor) -> list:
    """Spreads the bias-shaped gradient over out_backprop's shape along the channel axis."""
    from caudal.ops.array_ops import broadcast_to, reshape, shape

    out_backprop = op.inputs[0]
    rank = out_backprop.shape.ndims
    if rank is None:
        raise NotImplementedError(f"The gradient of {op.name} needs an input of known rank")
    axis = _channel_axis(op.get_attr("data_format"), rank)
    dims = [1] * rank
    dims[axis] = -1
    return [broadcast_to(reshape(grad, dims), shape(out_backprop))]


register_op("BiasAdd", infer=_bias_add_infer, kernel=_bias_add_kernel, grad=_bias_add_grad, fresh=True,
            inplace=_bias_add_inplace)
register_op("BiasAddGrad", infer=_bias_add_grad_infer, kernel=_bias_add_grad_kernel,
            variants={"numpy": _bias_add_grad_numpy}, grad=_bias_add_grad_grad)


def bias_add(value: Any, bias: Any, data_format: str | None = None, name: str | None = None) -> Tensor:
    """value + bias along the channel axis: the last for "N...C" formats (default), axis 1 for
    "NC..." formats, which TF records as data_format "NCHW"."""
    if data_format is None or (data_format.startswith("N") and data_format.endswith("C")):
        data_format = "NHWC"
    elif data_format.startswith("NC"):
        data_format = "NCHW"
    else:
        raise ValueError(f"data_format must be of the form `N...C` or `NC...`. Received: "
                         f"data_format={data_format}")
    with get_default_graph().name_scope(name or "BiasAdd") as scope:
        value = convert_to_tensor(value, name="input")
        bias = convert_to_tensor(bias, dtype=value.dtype.base_dtype, name="bias")
        return apply_op("BiasAdd", [value, bias], {"T": value.dtype.base_dtype, "data_format": data_format},
                        scope)


# ------------------------------------------------------------------ dropout
def _noise_shape(x: Tensor, noise_shape: Any) -> Tensor:
    """The shape of the random mask: x's, or `noise_shape` with unknown entries taken from x."""
    from caudal.ops.array_ops import shape
    from caudal.ops.constant_ops import constant

    if noise_shape is None:
        if x.shape.is_fully_defined():
            return constant(np.array(x.shape.as_list(), np.int32), name="Shape")
        return shape(x)
    if isinstance(noise_shape, Tensor):
        return noise_shape
    dims = noise_shape.as_list() if isinstance(noise_shape, TensorShape) else list(noise_shape)
    if None in dims and x.shape.ndims == len(dims):
        dims = [x.shape[i].value if d is None else d for i, d in enumerate(dims)]
    if None in dims:
        raise ValueError(f"noise_shape {noise_shape} has unknown dimensions that x ({x.shape}) cannot fill")
    return constant(np.array(dims, np.int32), name="noise_shape")


def _bad_rate(rate: Any) -> ValueError:
    return ValueError(f"`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate={rate}")


def dropout(x: Any, keep_prob: Any = None, noise_shape: Any = None, seed: int | None = None,
            name: str | None = None, rate: Any = None) -> Tensor:
    """TF1 `tf.nn.dropout`: zeroes each element with probability `rate` (= 1 - `keep_prob`) and
    scales the kept ones by 1 / (1 - rate). Like TF it draws a uniform mask of `noise_shape`
    (which broadcasts against x), keeps where mask >= rate, and returns x unchanged for a
    Python rate of 0. Exactly one of `keep_prob` and `rate` must be given."""
    from caudal.ops.comparison_ops import greater_equal, where_v2
    from caudal.ops.constant_ops import constant
    from caudal.ops.math_ops import multiply, realdiv, subtract

    if keep_prob is not None and rate is not None:
        raise ValueError("Cannot specify both 'keep_prob' and 'rate'.")
    if keep_prob is not None:
        if isinstance(keep_prob, numbers.Real) and not isinstance(keep_prob, bool):
            rate = 1 - keep_prob
        else:
            rate = subtract(1.0, convert_to_tensor(keep_prob, dtype_hint=dtypes_lib.float32, name="keep_prob"))
    if rate is None:
        raise ValueError(f"`rate` must be provided. Received: rate={rate}")
    python_rate = isinstance(rate, numbers.Real) and not isinstance(rate, bool)
    if python_rate and not 0 <= rate < 1:
        raise _bad_rate(rate)
    with get_default_graph().name_scope(name or "dropout"):
        x = convert_to_tensor(x, name="x")
        dtype = x.dtype.base_dtype
        if not dtype.is_floating:
            raise ValueError("`x.dtype` must be a floating point tensor as `x` will be scaled. "
                             f"Received: x_dtype={dtype!r}")
        if python_rate:
            if rate == 0:
                return x
            scaled = multiply(x, constant(1 / (1 - rate), dtype=dtype, name="Const"))
            threshold = constant(rate, dtype=dtype, name="GreaterEqual/y")
        else:
            threshold = convert_to_tensor(rate, dtype=dtype, name="rate")
            if threshold.shape.ndims not in (None, 0):
                raise _bad_rate(rate)
            if threshold.shape.ndims is None:
                # The rate must be a scalar, as TF asserts; saying so statically spares the
                # gradient a run-time broadcast check.
                from caudal.ops.array_ops import reshape

                threshold = reshape(threshold, [])
            scaled = realdiv(x, subtract(constant(1, dtype=dtype, name="Const"), threshold))
        shape_t = _noise_shape(x, noise_shape)
        with get_default_graph().name_scope("random_uniform"):
            uniform = apply_op("RandomUniform", [shape_t], dict(op_seed_attrs(seed), dtype=dtype, T=shape_t.dtype),
                               "RandomUniform")
        keep = greater_equal(uniform, threshold)
        return where_v2(keep, scaled, constant(0, dtype=dtype, name="Const_1"))



# ------------------------------------------- dropout's forward pass, and its gradient at a ReLU, as one op each
def _dropout_infer(ctx: InferContext) -> list:
    return [(ctx.dtype(0), ctx.shape(0)), (dtypes_lib.bool_, ctx.shape(0))]


def _kernels_of(backends: tuple[str, ...]) -> Any:
    """`kernel_of(op_type)`: the kernel the backends `backends` run for an op type (its portable kernel
    where none is named; see OpDef.kernel_for), looked up once."""
    kernels: dict[str, Any] = {}

    def kernel_of(op_type: str) -> Any:
        found = kernels.get(op_type)
        if found is None:
            found = kernels[op_type] = get_op_def(op_type).kernel_for(*backends)
        return found

    return kernel_of


def dropout_of_kernels(*backends: str) -> Any:
    """The kernel of `_Dropout` made of the kernels the backends `backends` run for its three ops, in
    the order the unfused plan runs them."""
    kernel_of = _kernels_of(backends)

    def kernel(xp: Any, x: Any, scale: Any, uniform: Any, rate: Any, zero: Any, *, scale_op: str) -> tuple:
        keep = kernel_of("GreaterEqual")(xp, uniform, rate)
        return kernel_of("SelectV2")(xp, keep, kernel_of(scale_op)(xp, x, scale), zero), keep

    return kernel


def dropout_relu_grad_of_kernels(*backends: str) -> Any:
    """The kernel of `_DropoutReluGrad` made of the kernels the backends `backends` run for its three ops,
    in the order the unfused plan runs them."""
    kernel_of = _kernels_of(backends)

    def kernel(xp: Any, grad: Any, keep: Any, scale: Any, zero: Any, features: Any, *, scale_op: str) -> Any:
        passed = kernel_of("SelectV2")(xp, keep, grad, zero)
        return kernel_of("ReluGrad")(xp, kernel_of(scale_op)(xp, passed, scale), features)

    return kernel


# The forward pass of `dropout`, SelectV2(GreaterEqual(uniform, rate), x * scale (or x / scale), 0), with
# the mask its gradient reads: a plan runs the pattern as this op on a backend with its own variant (see
# caudal.runtime.fusion). Its portable and NumPy kernels are the three ops in turn.
register_op("_Dropout", infer=_dropout_infer, kernel=dropout_of_kernels(),
            variants={"numpy": dropout_of_kernels("numpy")}, grad=NOT_DIFFERENTIABLE, fresh=True)
# The gradient of a dropout applied to a ReLU's output, ReluGrad(SelectV2(mask, grad, 0) * scale (or
# / scale), features), run as one op in the same way.
register_op("_DropoutReluGrad", infer=lambda ctx: [(ctx.dtype(0), ctx.shape(0))],
            kernel=dropout_relu_grad_of_kernels(), variants={"numpy": dropout_relu_grad_of_kernels("numpy")},
            grad=NOT_DIFFERENTIABLE, fresh=True)


def dropout_relu_grad_sum_of_kernels(*backends: str) -> Any:
    """The kernel of `_DropoutReluGradSum` made of the kernels the backends `backends` run for
    `_DropoutReluGrad`'s three ops and the Sum of its result over the leading axis."""
    kernel_of = _kernels_of(backends)
    relu_grad = dropout_relu_grad_of_kernels(*backends)

    def kernel(xp: Any, grad: Any, keep: Any, scale: Any, zero: Any, features: Any, *, scale_op: str) -> tuple:
        result = relu_grad(xp, grad, keep, scale, zero, features, scale_op=scale_op)
        return result, kernel_of("Sum")(xp, result, np.array([0], np.int32), keep_dims=False)

    return kernel


def _dropout_relu_grad_sum_infer(ctx: InferContext) -> list:
    matrix = require_rank(ctx.shape(0), 2)
    return [(ctx.dtype(0), matrix), (ctx.dtype(0), TensorShape(matrix.dims[1:]))]


# `_DropoutReluGrad` of a matrix and the Sum of its rows (a dense layer's bias gradient), run as one op
# where a backend has its own kernel (caudal.runtime.fusion.sums_of_dropout_relu_grads).
register_op("_DropoutReluGradSum", infer=_dropout_relu_grad_sum_infer,
            kernel=dropout_relu_grad_sum_of_kernels(), variants={"numpy": dropout_relu_grad_sum_of_kernels("numpy")},
            grad=NOT_DIFFERENTIABLE, fresh=True)


# ---------------------------------------------------------- embedding_lookup
def _clip_rows(embeddings: Tensor, ids: Tensor, max_norm: Any) -> Tensor:
    """Rescales each embedding whose L2 norm exceeds max_norm down to max_norm."""
    from caudal.ops.math_ops import maximum, multiply, rsqrt, square
    from caudal.ops.reduction_ops import reduce_sum

    if max_norm is None:
        return embeddings
    if embeddings.shape.ndims is None or ids.shape.ndims is None:
        raise ValueError("embedding_lookup with max_norm needs ids and params of known rank")
    axes = list(range(ids.shape.ndims, embeddings.shape.ndims))
    dtype = embeddings.dtype.base_dtype
    limit = convert_to_tensor(max_norm, dtype=dtype, name="max_norm")
    squared_norm = reduce_sum(square(embeddings), axes, keepdims=True)
    # max_norm / max(norm, max_norm), with no infinite slope at a zero norm.
    return multiply(embeddings, multiply(limit, rsqrt(maximum(squared_norm, square(limit)))))


def embedding_lookup(params: Any, ids: Any, partition_strategy: str = "mod", name: str | None = None,
                     validate_indices: bool = True, max_norm: Any = None) -> Tensor:
    """Rows of `params` at `ids`. `params` may be a list of partitions of one table, split by
    `partition_strategy` "mod" (id i lives in partition i % n at row i // n) or "div"
    (contiguous blocks, the first `rows % n` partitions one row longer), looked up as TF does: the
    ids split by partition (DynamicPartition), one gather per partition (so each partition's
    gradient is an IndexedSlices of its own rows), the rows put back in id order (DynamicStitch)."""
    from caudal.ops.control_ops import identity
    from caudal.ops.gather_ops import gather

    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}. Must be one of `mod` or `div`.")
    partitions = list(params) if isinstance(params, (list, tuple)) else [params]
    if not partitions:
        raise ValueError("Argument `params` must not be empty.")
    with get_default_graph().name_scope(name or "embedding_lookup") as scope:
        partitions = [convert_to_tensor(p, name="params") for p in partitions]
        ids = convert_to_tensor(ids, name="ids")
        if len(partitions) == 1:
            rows = gather(partitions[0], ids, name=scope)
            return identity(_clip_rows(rows, ids, max_norm))
        dtypes = {p.dtype.base_dtype for p in partitions}
        if len(dtypes) > 1:
            raise ValueError(f"All partitions of params must have the same dtype, got {sorted(d.name for d in dtypes)}")
        return _partitioned_lookup(partitions, ids, partition_strategy, max_norm, scope)


def _partitioned_lookup(partitions: list[Tensor], ids: Tensor, strategy: str, max_norm: Any, scope: str) -> Tensor:
    """TF's lookup in a table split into `partitions` (see `embedding_lookup`)."""
    from caudal.ops.array_ops import concat, reshape, shape, size, stack
    from caudal.ops.array_ops import range as range_
    from caudal.ops.comparison_ops import less, where
    from caudal.ops.gather_ops import gather
    from caudal.ops.index_ops import dynamic_partition, dynamic_stitch
    from caudal.ops.math_ops import cast, floordiv, floormod, maximum, subtract
    from caudal.ops.reduction_ops import reduce_sum

    n = len(partitions)
    flat_ids = reshape(ids, [-1])
    original_indices = range_(size(flat_ids))
    if strategy == "mod":
        assignments, new_ids = floormod(flat_ids, n), floordiv(flat_ids, n)
    else:
        rows = [p.shape[0].value if p.shape.ndims else None for p in partitions]
        if None not in rows:
            total = convert_to_tensor(sum(rows), dtype=flat_ids.dtype.base_dtype)
        else:
            total = reduce_sum(cast(stack([shape(p)[0] for p in partitions]), flat_ids.dtype.base_dtype))
        per_partition, extras = floordiv(total, n), floormod(total, n)
        assignments = maximum(floordiv(flat_ids, per_partition + 1),
                              floordiv(subtract(flat_ids, extras), per_partition))
        new_ids = where(less(assignments, extras), floormod(flat_ids, per_partition + 1),
                        floormod(subtract(flat_ids, extras), per_partition))
    assignments = cast(assignments, dtypes_lib.int32)
    gather_ids = dynamic_partition(new_ids, assignments, n)
    positions = dynamic_partition(original_indices, assignments, n)
    found = [_clip_rows(gather(p, pids), pids, max_norm) for p, pids in zip(partitions, gather_ids, strict=True)]
    stitched = dynamic_stitch(positions, found, name=scope)
    element_shape = partitions[0].shape[1:]
    if max_norm is None:
        for p in partitions[1:]:
            element_shape = element_shape.merge_with(p.shape[1:])
    else:
        element_shape = stitched.shape[1:]
    if element_shape.is_fully_defined():
        element_dims = convert_to_tensor(element_shape.as_list(), dtype=dtypes_lib.int32)
    else:
        element_dims = (shape(partitions[0]) if max_norm is None else shape(stitched))[1:]
    result = reshape(stitched, concat([shape(ids), element_dims], 0))
    result.set_shape(ids.shape.concatenate(element_shape))
    return result


# ----------------------------------------------------------------- InTopKV2
def _in_top_k_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.float32]), "predictions")
    _rules.check_same_dtype(ctx, (1, 2), ("targets", "k"))
    _rules.check_dtype(ctx, 1, _rules.INDEX, "targets")
    predictions, targets = require_rank(ctx.shape(0), 2), require_rank(ctx.shape(1), 1)
    require_rank(ctx.shape(2), 0)
    batch = predictions[0] if predictions.ndims is not None else None
    if batch is not None and targets.ndims is not None:
        if not batch.is_compatible_with(targets[0]):
            raise ValueError(f"Dimensions must be equal, but are {batch.value} and {targets[0].value}")
        return [(dtypes_lib.bool_, TensorShape([batch.value if batch.value is not None else targets[0].value]))]
    return [(dtypes_lib.bool_, TensorShape([None]))]


def _in_top_k_kernel(xp: Any, predictions: Any, targets: Any, k: Any) -> Any:
    """True where fewer than k classes score strictly higher than the target (ties count in its
    favour). A target out of range, or a row with a non-finite score, gives False, as in TF."""
    if predictions.shape[0] != targets.shape[0]:
        raise InvalidArgumentError(None, None, f"First dimension of predictions {predictions.shape[0]} must match "
                                               f"length of targets {targets.shape[0]}")
    classes = predictions.shape[1]
    valid = (targets >= 0) & (targets < classes)
    target_score = xp.take_along_axis(predictions, xp.clip(targets, 0, max(classes - 1, 0))[:, None].astype(np.int64),
                                      axis=1) if classes else xp.zeros((len(targets), 1), predictions.dtype)
    higher = xp.sum(predictions > target_score, axis=1)
    finite = xp.all(xp.isfinite(predictions), axis=1)
    return valid & finite & (higher < k)


register_op("InTopKV2", infer=_in_top_k_infer, kernel=_in_top_k_kernel, grad=NOT_DIFFERENTIABLE)


def in_top_k(predictions: Any, targets: Any, k: Any, name: str | None = None) -> Tensor:
    """Whether each target is among the k highest predictions of its row (InTopKV2)."""
    with get_default_graph().name_scope(name or "in_top_k"):
        predictions = convert_to_tensor(predictions, name="predictions")
        targets = convert_to_tensor(targets, name="targets")
        k_t = convert_to_tensor(k, dtype=targets.dtype.base_dtype, name="k")
        return apply_op("InTopKV2", [predictions, targets, k_t], {"T": targets.dtype.base_dtype}, "InTopKV2")
