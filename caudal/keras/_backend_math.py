"""`tf.keras.backend` tensor functions: shapes, reductions, elementwise math, manipulation, random numbers.

Each builds the graph TF-Keras builds: reductions take `keepdims`, booleans are cast to floatx before a
mean, `dot` of N-D tensors contracts the last axis of `x` with the second-to-last of `y`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import caudal as tf
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor import Tensor
from caudal.keras.backend_config import floatx

__all__ = [
    "shape", "int_shape", "ndim", "dtype", "zeros", "ones", "eye", "zeros_like", "ones_like", "identity", "cast",
    "update", "update_add", "update_sub", "moving_average_update", "dot", "batch_dot", "transpose", "gather", "max",
    "min", "sum", "prod", "cumsum", "cumprod", "var", "std", "mean", "any", "all", "argmax", "argmin", "square",
    "abs", "sqrt", "exp", "log", "logsumexp", "round", "sign", "pow", "clip", "equal", "not_equal", "greater",
    "greater_equal", "less", "less_equal", "maximum", "minimum", "sin", "cos", "concatenate", "reshape",
    "permute_dimensions", "repeat_elements", "repeat", "arange", "tile", "flatten", "batch_flatten", "expand_dims",
    "squeeze", "temporal_padding", "spatial_2d_padding", "stack", "one_hot", "reverse", "gradients",
    "stop_gradient", "switch", "random_normal", "random_uniform", "random_bernoulli", "truncated_normal",
    "map_fn", "foldl", "foldr", "is_sparse", "to_dense",
]


def _to_tensor(x: Any, dtype: Any) -> Tensor:
    return tf.convert_to_tensor(x, dtype=dtype)


def shape(x: Any) -> Tensor:
    return tf.shape(x)


def int_shape(x: Any) -> tuple | None:
    """The static shape as a tuple of ints and Nones (None when the rank is unknown)."""
    try:
        dims = x.shape.as_list() if hasattr(x.shape, "as_list") else list(x.shape)
    except ValueError:
        return None
    return tuple(dims)


def ndim(x: Any) -> int | None:
    return x.shape.ndims


def dtype(x: Any) -> str:
    return x.dtype.base_dtype.name


def is_sparse(tensor: Any) -> bool:
    return isinstance(tensor, tf.SparseTensor)


def to_dense(tensor: Any) -> Tensor:
    return tf.sparse_tensor_to_dense(tensor) if is_sparse(tensor) else tensor


def zeros(shape: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    return tf.zeros(shape, dtype=dtype or floatx(), name=name)


def ones(shape: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    return tf.ones(shape, dtype=dtype or floatx(), name=name)


def eye(size: int, dtype: Any = None, name: str | None = None) -> Tensor:
    return tf.eye(size, dtype=dtype or floatx(), name=name)


def zeros_like(x: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    return tf.zeros_like(x, dtype=dtype, name=name)


def ones_like(x: Any, dtype: Any = None, name: str | None = None) -> Tensor:
    return tf.ones_like(x, dtype=dtype, name=name)


def identity(x: Any, name: str | None = None) -> Tensor:
    return tf.identity(x, name=name)


def cast(x: Any, dtype: Any) -> Tensor:
    return tf.cast(x, dtype)


def update(x: Any, new_x: Any) -> Tensor:
    return tf.assign(x, new_x)


def update_add(x: Any, increment: Any) -> Tensor:
    return tf.assign_add(x, increment)


def update_sub(x: Any, decrement: Any) -> Tensor:
    return tf.assign_sub(x, decrement)


def moving_average_update(x: Any, value: Any, momentum: float) -> Tensor:
    """x = x * momentum + value * (1 - momentum), zero-debiased, as Keras's graph mode does it."""
    from caudal.train.moving_averages import assign_moving_average

    return assign_moving_average(x, value, momentum, zero_debias=True)


def _static_or_dynamic(x: Tensor) -> tuple:
    dynamic = tf.unstack(tf.shape(x))
    return tuple(s if s is not None else d for s, d in zip(int_shape(x), dynamic))


def dot(x: Any, y: Any) -> Tensor:
    """np.dot's contraction: the last axis of `x` with the second-to-last of `y` (a matmul for 2-D)."""
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    if ndim(x) is not None and (ndim(x) > 2 or ndim(y) > 2):
        x_shape = _static_or_dynamic(x)
        y_shape = _static_or_dynamic(y)
        y_perm = list(range(ndim(y)))
        y_perm = [y_perm.pop(-2)] + y_perm
        xt = tf.reshape(x, [-1, x_shape[-1]])
        yt = tf.reshape(tf.transpose(y, perm=y_perm), [y_shape[-2], -1])
        return tf.reshape(tf.matmul(xt, yt), x_shape[:-1] + y_shape[:-2] + y_shape[-1:])
    return tf.matmul(x, y)


def batch_dot(x: Any, y: Any, axes: Any = None) -> Tensor:
    """Per-sample dot products of two batches, contracting `axes` (default: the last axis of `x` with the
    second-to-last of `y`, or the last of both for 2-D `y`); a rank-1 result gets a trailing axis."""
    x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
    x_ndim, y_ndim = ndim(x), ndim(y)
    if x_ndim < 2 or y_ndim < 2:
        raise ValueError(f"Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes "
                         f"{int_shape(x)} and {int_shape(y)}.")
    if axes is None:
        axes = [x_ndim - 1, y_ndim - 2] if y_ndim > 2 else [x_ndim - 1, y_ndim - 1]
    if isinstance(axes, int):
        axes = [axes, axes]
    a0, a1 = (a % n for a, n in zip(axes, (x_ndim, y_ndim)))
    if a0 == 0 or a1 == 0:
        raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy "
                         f"batch dimension to your inputs using K.expand_dims(x, 0). Received axes={axes}")
    # Move the contracted axes to the end of x and to position 1 of y, then use batched matmul.
    x_perm = [i for i in range(x_ndim) if i != a0] + [a0]
    y_perm = [0, a1] + [i for i in range(1, y_ndim) if i != a1]
    xt = tf.transpose(x, x_perm) if x_perm != list(range(x_ndim)) else x
    yt = tf.transpose(y, y_perm) if y_perm != list(range(y_ndim)) else y
    xs, ys = _static_or_dynamic(xt), _static_or_dynamic(yt)
    x_rest, y_rest = xs[1:-1], ys[2:]
    x3 = tf.reshape(xt, [xs[0], -1, xs[-1]])
    y3 = tf.reshape(yt, [ys[0], ys[1], -1])
    result = tf.matmul(x3, y3)
    result = tf.reshape(result, (xs[0],) + tuple(x_rest) + tuple(y_rest))
    if ndim(result) == 1:
        result = tf.expand_dims(result, 1)
    return result


def transpose(x: Any) -> Tensor:
    return tf.transpose(x)


def gather(reference: Any, indices: Any) -> Tensor:
    return tf.gather(reference, indices)


def _bool_to_float(x: Any) -> Tensor:
    x = tf.convert_to_tensor(x)
    return tf.cast(x, floatx()) if x.dtype.base_dtype == dtypes_lib.bool_ else x


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001 - Keras's name
    return tf.reduce_max(x, axis, keepdims=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return tf.reduce_min(x, axis, keepdims=keepdims)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return tf.reduce_sum(x, axis, keepdims=keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return tf.reduce_prod(x, axis, keepdims=keepdims)


def cumsum(x: Any, axis: int = 0) -> Tensor:
    return tf.cumsum(x, axis=axis)


def cumprod(x: Any, axis: int = 0) -> Tensor:
    return tf.cumprod(x, axis=axis)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The variance: the mean squared deviation from the mean (booleans as floatx)."""
    x = _bool_to_float(x)
    centered = x - tf.reduce_mean(x, axis, keepdims=True)
    return tf.reduce_mean(tf.square(tf.abs(centered)), axis, keepdims=keepdims)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return tf.sqrt(var(x, axis=axis, keepdims=keepdims))


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return tf.reduce_mean(_bool_to_float(x), axis, keepdims=keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return tf.reduce_any(tf.cast(x, dtypes_lib.bool_), axis, keepdims=keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return tf.reduce_all(tf.cast(x, dtypes_lib.bool_), axis, keepdims=keepdims)


def argmax(x: Any, axis: int = -1) -> Tensor:
    return tf.argmax(x, axis)


def argmin(x: Any, axis: int = -1) -> Tensor:
    return tf.argmin(x, axis)


def square(x: Any) -> Tensor:
    return tf.square(x)


def abs(x: Any) -> Tensor:  # noqa: A001
    return tf.abs(x)


def sqrt(x: Any) -> Tensor:
    """sqrt(max(x, 0)), as Keras clips negative inputs."""
    x = tf.convert_to_tensor(x)
    zero = _to_tensor(0.0, x.dtype.base_dtype)
    return tf.sqrt(tf.maximum(x, zero))


def exp(x: Any) -> Tensor:
    return tf.exp(x)


def log(x: Any) -> Tensor:
    return tf.log(x)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    return tf.reduce_logsumexp(x, axis, keepdims=keepdims)


def round(x: Any) -> Tensor:  # noqa: A001
    return tf.round(x)


def sign(x: Any) -> Tensor:
    return tf.sign(x)


def pow(x: Any, a: Any) -> Tensor:  # noqa: A001
    return tf.pow(x, a)


def clip(x: Any, min_value: Any, max_value: Any) -> Tensor:
    """clip_by_value; a max below the min is raised to the min, None means unbounded."""
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)) and max_value < min_value:
        max_value = min_value
    min_value = -np.inf if min_value is None else min_value
    max_value = np.inf if max_value is None else max_value
    return tf.clip_by_value(x, min_value, max_value)


def equal(x: Any, y: Any) -> Tensor:
    return tf.equal(x, y)


def not_equal(x: Any, y: Any) -> Tensor:
    return tf.not_equal(x, y)


def greater(x: Any, y: Any) -> Tensor:
    return tf.greater(x, y)


def greater_equal(x: Any, y: Any) -> Tensor:
    return tf.greater_equal(x, y)


def less(x: Any, y: Any) -> Tensor:
    return tf.less(x, y)


def less_equal(x: Any, y: Any) -> Tensor:
    return tf.less_equal(x, y)


def maximum(x: Any, y: Any) -> Tensor:
    return tf.maximum(x, y)


def minimum(x: Any, y: Any) -> Tensor:
    return tf.minimum(x, y)


def sin(x: Any) -> Tensor:
    return tf.sin(x)


def cos(x: Any) -> Tensor:
    return tf.cos(x)


def concatenate(tensors: Any, axis: int = -1) -> Tensor:
    if axis < 0:
        rank = ndim(tf.convert_to_tensor(tensors[0]))
        axis = axis % rank if rank else 0
    return tf.concat(list(tensors), axis)


def reshape(x: Any, shape: Any) -> Tensor:
    return tf.reshape(x, shape)


def permute_dimensions(x: Any, pattern: Any) -> Tensor:
    return tf.transpose(x, perm=list(pattern))


def repeat_elements(x: Any, rep: int, axis: int) -> Tensor:
    """Each slice along `axis` repeated `rep` times in place (np.repeat)."""
    x = tf.convert_to_tensor(x)
    static = x.shape.as_list()
    if static[axis] is not None:
        pieces = tf.split(x, static[axis], axis=axis)
        return concatenate([p for p in pieces for _ in range(rep)], axis)
    expanded = tf.expand_dims(x, axis + 1)
    multiples = [1] * (len(static) + 1)
    multiples[axis + 1] = rep
    tiled = tf.tile(expanded, multiples)
    scale = np.ones(len(static), dtype=np.int32)
    scale[axis] = rep
    result = tf.reshape(tiled, tf.shape(x) * scale)
    result.set_shape(static)
    return result


def repeat(x: Any, n: Any) -> Tensor:
    """[batch, dim] -> [batch, n, dim]."""
    x = tf.convert_to_tensor(x)
    if ndim(x) != 2:
        raise ValueError(f"K.repeat expects a 2D tensor, got shape {int_shape(x)}")
    return tf.tile(tf.expand_dims(x, 1), tf.stack([1, n, 1]))


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = "int32") -> Tensor:
    if stop is None and isinstance(start, (int, float)) and start < 0:
        start = 0
    result = tf.range(start, limit=stop, delta=step, name="arange")
    return result if dtype == "int32" else tf.cast(result, dtype)


def tile(x: Any, n: Any) -> Tensor:
    if isinstance(n, int):
        n = [n]
    return tf.tile(x, n)


def flatten(x: Any) -> Tensor:
    return tf.reshape(x, [-1])


def batch_flatten(x: Any) -> Tensor:
    return tf.reshape(x, tf.stack([-1, prod(shape(x)[1:])]))


def expand_dims(x: Any, axis: int = -1) -> Tensor:
    return tf.expand_dims(x, axis)


def squeeze(x: Any, axis: int) -> Tensor:
    return tf.squeeze(x, [axis])


def temporal_padding(x: Any, padding: Any = (1, 1)) -> Tensor:
    return tf.pad(x, [[0, 0], [padding[0], padding[1]], [0, 0]])


def spatial_2d_padding(x: Any, padding: Any = ((1, 1), (1, 1)), data_format: str | None = None) -> Tensor:
    from caudal.keras.backend_config import image_data_format

    data_format = data_format or image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Unknown data_format: {data_format}")
    if data_format == "channels_first":
        pattern = [[0, 0], [0, 0], list(padding[0]), list(padding[1])]
    else:
        pattern = [[0, 0], list(padding[0]), list(padding[1]), [0, 0]]
    return tf.pad(x, pattern)


def stack(x: Any, axis: int = 0) -> Tensor:
    return tf.stack(x, axis=axis)


def one_hot(indices: Any, num_classes: int) -> Tensor:
    return tf.one_hot(indices, depth=num_classes, axis=-1)


def reverse(x: Any, axes: Any) -> Tensor:
    if isinstance(axes, int):
        axes = [axes]
    return tf.reverse(x, axes)


def gradients(loss: Any, variables: Any) -> list:
    return tf.gradients(loss, variables, colocate_gradients_with_ops=True)


def stop_gradient(variables: Any) -> Any:
    if isinstance(variables, (list, tuple)):
        return [tf.stop_gradient(v) for v in variables]
    return tf.stop_gradient(variables)


def switch(condition: Any, then_expression: Any, else_expression: Any) -> Tensor:
    """A tf.cond for a scalar condition (callables called on their branch only), else an elementwise
    select with the condition broadcast to the expressions' rank."""
    condition = tf.convert_to_tensor(condition)
    if condition.dtype.base_dtype != dtypes_lib.bool_:
        condition = tf.cast(condition, "bool")
    cond_ndim = ndim(condition)
    if not cond_ndim:
        then_fn = then_expression if callable(then_expression) else (lambda: then_expression)
        else_fn = else_expression if callable(else_expression) else (lambda: else_expression)
        return tf.cond(condition, then_fn, else_fn)
    if callable(then_expression):
        then_expression = then_expression()
    if callable(else_expression):
        else_expression = else_expression()
    expr_ndim = ndim(tf.convert_to_tensor(then_expression))
    if cond_ndim > expr_ndim:
        raise ValueError("Rank of `condition` should be less than or equal to rank of `then_expression` and "
                         f"`else_expression`. ndim(condition)={cond_ndim}, ndim(then_expression)={expr_ndim}")
    if cond_ndim > 1:
        cond_shape = tf.concat([tf.shape(condition), [1] * (expr_ndim - cond_ndim)], axis=0)
        condition = tf.reshape(condition, cond_shape)
        expr_shape = tf.shape(then_expression)
        condition = tf.tile(condition, tf.where_v2(expr_shape - cond_shape > 0, expr_shape, tf.ones_like(expr_shape)))
    return tf.where_v2(condition, then_expression, else_expression)


def _seed(seed: int | None) -> int:
    return int(np.random.randint(10e6)) if seed is None else seed


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                  seed: int | None = None) -> Tensor:
    return tf.random_normal(shape, mean=mean, stddev=stddev, dtype=dtype or floatx(), seed=_seed(seed))


def random_uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
                   seed: int | None = None) -> Tensor:
    return tf.random_uniform(shape, minval=minval, maxval=maxval, dtype=dtype or floatx(), seed=_seed(seed))


def random_bernoulli(shape: Any, p: float = 0.0, dtype: Any = None, seed: int | None = None) -> Tensor:
    dtype = dtype or floatx()
    draws = tf.random_uniform(shape, dtype=dtype, seed=_seed(seed))
    return tf.where_v2(draws <= p, tf.ones(shape, dtype=dtype), tf.zeros(shape, dtype=dtype))


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: int | None = None) -> Tensor:
    return tf.truncated_normal(shape, mean, stddev, dtype=dtype or floatx(), seed=_seed(seed))


def map_fn(fn: Any, elems: Any, name: str | None = None, dtype: Any = None) -> Any:
    return tf.map_fn(fn, elems, name=name, dtype=dtype)


def foldl(fn: Any, elems: Any, initializer: Any = None, name: str | None = None) -> Any:
    return tf.foldl(fn, elems, initializer=initializer, name=name)


def foldr(fn: Any, elems: Any, initializer: Any = None, name: str | None = None) -> Any:
    return tf.foldr(fn, elems, initializer=initializer, name=name)

