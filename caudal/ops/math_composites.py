"""Math and linear-algebra functions TensorFlow writes in Python from other ops; so are they here.

`tf.scalar_mul`, `tf.math.log_sigmoid`, `tf.math.accumulate_n`,
`tf.math.reduce_variance` / `reduce_std`, `tf.math.zero_fraction`,
`tf.math.polyval`, `tf.math.is_non_decreasing` / `is_strictly_increasing`,
`tf.norm` (vector norms and the Frobenius, 1 and inf matrix norms),
`tf.linalg.matvec`, `tf.linalg.adjoint`, `tf.linalg.logdet`. Each
builds the ops TF builds, in TF's name scope, and raises TF's errors for
arguments TF refuses. They register no op type.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor
from caudal.ops import array_ops, linalg_ops, math_ops, reduction_ops
from caudal.ops.nn_activation_ops import softplus

__all__ = ["accumulate_n", "adjoint", "is_non_decreasing", "is_strictly_increasing", "log_sigmoid", "logdet", "matvec",
           "norm", "polyval", "reduce_std", "reduce_variance", "scalar_mul", "zero_fraction"]


def _scope(name: str | None, default: str) -> Any:
    return get_default_graph().name_scope(name or default)


def scalar_mul(scalar: Any, x: Any, name: str | None = None) -> Tensor:
    """`scalar * x` (a Mul) for a 0-d `scalar` converted to x's dtype; another shape is a ValueError, as in TF."""
    x = convert_to_tensor(x)
    scalar = convert_to_tensor(scalar, dtype=x.dtype.base_dtype, name="scalar")
    shape = scalar.get_shape()
    if shape.ndims != 0:
        raise ValueError(f"The input scalar must be a 0-D value. Received shape {shape}.")
    return math_ops.multiply(scalar, x, name=name)


def log_sigmoid(x: Any, name: str | None = None) -> Tensor:
    """log(sigmoid(x)), computed as -softplus(-x) in a "LogSigmoid" scope, as TF does."""
    with _scope(name, "LogSigmoid") as scope:
        x = convert_to_tensor(x, name="x")
        return math_ops.negative(softplus(-x), name=scope)


def accumulate_n(inputs: Any, shape: Any = None, tensor_dtype: Any = None, name: str | None = None) -> Tensor:
    """The sum of a list of tensors of one dtype and shape: TF 2's `accumulate_n` is `add_n` after its checks."""
    from caudal.framework.tensor_shape import TensorShape, as_shape
    from caudal.ops.control_ops import identity

    def input_error() -> ValueError:
        return ValueError("inputs must be a list of at least one Tensor with the same dtype and shape")

    if not inputs or not isinstance(inputs, (list, tuple)):
        raise input_error()
    inputs = [convert_to_tensor(t) for t in inputs]
    if not all(t.dtype == inputs[0].dtype for t in inputs):
        raise input_error()
    merged = as_shape(shape) if shape is not None else TensorShape(None)
    for t in inputs:
        merged = merged.merge_with(t.get_shape())
    if tensor_dtype is not None and dtypes_lib.as_dtype(tensor_dtype) != inputs[0].dtype:
        raise TypeError(f"The `tensor_dtype` argument is {dtypes_lib.as_dtype(tensor_dtype)}, but `input` is of "
                        f"type {inputs[0].dtype}. These must be equal. Try casting the input to the desired type.")
    if len(inputs) == 1:
        return inputs[0] if name is None else identity(inputs[0], name=name)
    return math_ops.add_n(inputs, name=name)


def reduce_variance(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """The mean squared deviation from the mean over `axis`; integer tensors are a TypeError, as in TF."""
    with get_default_graph().name_scope(name or "reduce_variance"):
        x = convert_to_tensor(input_tensor)
        means = reduction_ops.reduce_mean(x, axis=axis, keepdims=True)
        if means.dtype.is_integer:
            raise TypeError(f"Input must be either real or complex. Received integer type {means.dtype}.")
        squared_deviations = math_ops.square(x - means)
        return reduction_ops.reduce_mean(squared_deviations, axis=axis, keepdims=keepdims)


def reduce_std(input_tensor: Any, axis: Any = None, keepdims: bool = False, name: str | None = None) -> Tensor:
    """The square root of `reduce_variance`."""
    with get_default_graph().name_scope(name or "reduce_std"):
        x = convert_to_tensor(input_tensor)
        return math_ops.sqrt(reduce_variance(x, axis=axis, keepdims=keepdims))


def zero_fraction(value: Any, name: str | None = None) -> Tensor:
    """The fraction of zeros in `value`, a float32 scalar."""
    from caudal.ops.control_ops import identity
    from caudal.ops.reduction_extra_ops import count_nonzero

    with _scope(name, "zero_fraction"):
        value = convert_to_tensor(value, name="value")
        size = array_ops.size(value, out_type=dtypes_lib.int64)
        zeros = size - count_nonzero(value, dtype=dtypes_lib.int64)
        fraction = math_ops.cast(zeros, dtypes_lib.float32) / math_ops.cast(size, dtypes_lib.float32)
        return identity(fraction, name="fraction")


def polyval(coeffs: Any, x: Any, name: str | None = None) -> Tensor:
    """coeffs[0] * x**(n-1) + ... + coeffs[n-1] by Horner's rule; no coefficients give zeros_like(x)."""
    from caudal.ops.constant_ops import zeros_like

    if not isinstance(coeffs, list):
        raise ValueError(f"Argument coeffs must be list type. Received type {type(coeffs)}.")
    with _scope(name, "polyval") as scope:
        x = convert_to_tensor(x, name="x")
        if not coeffs:
            return zeros_like(x, name=scope)
        terms = [convert_to_tensor(c, name=f"coeffs_{i}") for i, c in enumerate(coeffs)]
        result = terms[0]
        for term in terms[1:]:
            result = term + result * x
        return result


def _monotonic(x: Any, compare: Any, name: str | None, default: str) -> Tensor:
    from caudal.framework_extras import is_numeric_tensor

    with _scope(name, default):
        x = array_ops.reshape(convert_to_tensor(x), [-1])
        if not is_numeric_tensor(x):
            raise TypeError(f"Expected x to be numeric, instead found: {x}")
        return reduction_ops.reduce_all(compare(x[1:], x[:-1]))


def is_non_decreasing(x: Any, name: str | None = None) -> Tensor:
    """Whether the elements of `x`, read in row-major order, never decrease (True for fewer than two)."""
    from caudal.ops.comparison_ops import greater_equal

    return _monotonic(x, greater_equal, name, "is_non_decreasing")


def is_strictly_increasing(x: Any, name: str | None = None) -> Tensor:
    """Whether the elements of `x`, read in row-major order, always increase (True for fewer than two)."""
    from caudal.ops.comparison_ops import greater

    return _monotonic(x, greater, name, "is_strictly_increasing")


def matvec(a: Any, b: Any, transpose_a: bool = False, adjoint_a: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, name: str | None = None) -> Tensor:
    """The matrix-vector product a @ b over batches: matmul with b as a column, then squeezed."""
    with _scope(name, "MatVec"):
        product = math_ops.matmul(a, array_ops.expand_dims(b, -1), transpose_a=transpose_a, adjoint_a=adjoint_a,
                                  a_is_sparse=a_is_sparse, b_is_sparse=b_is_sparse)
        return array_ops.squeeze(product, axis=-1)


def adjoint(matrix: Any, name: str | None = None) -> Tensor:
    """The conjugate transpose of the innermost two dimensions."""
    with _scope(name, "adjoint"):
        matrix = convert_to_tensor(matrix, name="matrix")
        return linalg_ops.matrix_transpose(matrix, conjugate=True)


def logdet(matrix: Any, name: str | None = None) -> Tensor:
    """log(det(matrix)) of Hermitian positive definite matrices, from their Cholesky factor."""
    with _scope(name, "logdet"):
        chol = linalg_ops.cholesky(matrix)
        return 2.0 * reduction_ops.reduce_sum(math_ops.log(linalg_ops.matrix_diag_part(chol)), axis=[-1])


_MATRIX_NORMS = ["euclidean", "fro", 1, 2, np.inf]
_VECTOR_NORMS = ["euclidean", 1, 2, np.inf]


def norm(tensor: Any, ord: Any = "euclidean", axis: Any = None, keepdims: Any = None,  # noqa: A002
         name: str | None = None, keep_dims: Any = None) -> Tensor:
    """TF1 `tf.norm`: vector norms (euclidean, 1, inf, any p > 0) over `axis` (all elements when None)
    and matrix norms over a pair of axes (fro/euclidean, 1, inf). The matrix 2-norm needs singular
    values, which caudal does not compute: it is a NotImplementedError."""
    if keepdims is not None and keep_dims is not None:
        raise ValueError("Cannot specify both 'keep_dims' and 'keepdims'")
    keep = bool(keep_dims if keepdims is None else keepdims)
    is_matrix_norm = isinstance(axis, (tuple, list)) and len(axis) == 2
    if is_matrix_norm:
        axis = tuple(axis)
        if not isinstance(axis[0], int) or not isinstance(axis[1], int) or axis[0] == axis[1]:
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
        if ord not in _MATRIX_NORMS:
            raise ValueError(f"'ord' must be a supported matrix norm in {_MATRIX_NORMS}, got {ord}")
    else:
        if not (isinstance(axis, int) or axis is None):
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
        if (not np.isreal(ord) or ord <= 0) and ord not in _VECTOR_NORMS:
            raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
        if axis is not None:
            axis = (axis,)
    with _scope(name, "norm"):
        tensor = convert_to_tensor(tensor)
        if ord in ("fro", "euclidean", 2, 2.0):
            if is_matrix_norm and ord in (2, 2.0):
                raise NotImplementedError("tf.norm: the matrix 2-norm needs singular values (Svd), which caudal "
                                          "does not implement")
            axes = None if axis is None else list(axis)
            result = math_ops.sqrt(reduction_ops.reduce_sum(tensor * tensor, axes, keepdims=True))
        else:
            result = math_ops.abs(tensor)
            if ord == 1:
                result = reduction_ops.reduce_sum(result, None if axis is None else axis[0], keepdims=True)
                if is_matrix_norm:
                    result = reduction_ops.reduce_max(result, axis[-1], keepdims=True)
            elif ord == np.inf:
                if is_matrix_norm:
                    result = reduction_ops.reduce_sum(result, axis[1], keepdims=True)
                result = reduction_ops.reduce_max(result, None if axis is None else axis[0], keepdims=True)
            else:
                axes = None if axis is None else list(axis)
                summed = reduction_ops.reduce_sum(math_ops.pow(result, ord), axes, keepdims=True)
                result = math_ops.pow(summed, 1.0 / ord)
        if not keep:
            result = array_ops.squeeze(result, None if axis is None else list(axis))
        return result

