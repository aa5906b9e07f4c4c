"""Linear algebra: Einsum, MatrixInverse, MatrixDeterminant, Cholesky, MatrixSolve, Diag,
DiagPart, MatrixDiagV3, MatrixDiagPartV3, MatrixSetDiagV3 and MatrixBandPart, with the
composite wrappers tensordot, matrix_transpose, eye, trace and linspace.

Matrix ops work on the last two dimensions and batch over the others, as in TF.
"""
from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, unknown_shape
from caudal.ops import _rules
from caudal.ops.math_ops import matmul, multiply, negative

__all__ = ["einsum", "tensordot", "matrix_transpose", "matrix_inverse", "matrix_determinant", "cholesky",
           "matrix_solve", "eye", "diag", "diag_part", "matrix_diag", "matrix_diag_part", "matrix_set_diag",
           "matrix_band_part", "trace", "linspace", "lin_space"]

_LINALG_TYPES = frozenset([dtypes_lib.float16, dtypes_lib.float32, dtypes_lib.float64, dtypes_lib.complex64,
                           dtypes_lib.complex128])
_DIAG_TYPES = frozenset([dtypes_lib.bfloat16, dtypes_lib.float16, dtypes_lib.float32, dtypes_lib.float64,
                         dtypes_lib.int32, dtypes_lib.int64, dtypes_lib.complex64, dtypes_lib.complex128])


def _invalid_argument(message: str) -> Exception:
    from caudal.errors import InvalidArgumentError

    return InvalidArgumentError(None, None, message)


def _check_equal(a: Any, b: Any) -> None:
    if a is not None and b is not None and a != b:
        raise ValueError(f"Dimensions must be equal, but are {a} and {b}")


# ------------------------------------------------------------------ Einsum
def _split_terms(equation: str, count: int) -> tuple[list[list[str]], list[str]]:
    """Each input's subscripts and the output's, as label lists where '...' is one token."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != count:
        raise ValueError(f"Expecting {len(terms)} inputs for equation '{equation}', got {count}")

    def tokens(term: str) -> list[str]:
        parts = term.split("...")
        if len(parts) > 2:
            raise ValueError(f"Unable to parse einsum equation '{equation}': more than one ellipsis")
        bad = [c for c in "".join(parts) if not c.isalpha()]
        if bad:
            raise ValueError(f"Invalid character {bad[0]!r} in einsum equation '{equation}'")
        return list(parts[0]) + (["...", *parts[1]] if len(parts) == 2 else [])

    inputs = [tokens(t) for t in terms]
    if arrow:
        output = tokens(rhs)
    else:
        labels = [t for term in inputs for t in term if t != "..."]
        output = (["..."] if any("..." in term for term in inputs) else []) + \
            sorted(t for t in set(labels) if labels.count(t) == 1)
    known = {t for term in inputs for t in term}
    for t in output:
        if t not in known:
            raise ValueError(f"Output subscript {t!r} does not appear in the inputs of '{equation}'")
    return inputs, output


def _einsum_infer(ctx: InferContext) -> list:
    n = len(ctx.inputs)
    dtype = _rules.check_same_dtype(ctx, range(n), [f"inputs[{i}]" for i in range(n)])
    inputs, output = _split_terms(ctx.attrs["equation"], n)
    sizes: dict[str, int | None] = {}
    ellipsis: TensorShape | None = TensorShape([])
    for i, term in enumerate(inputs):
        shape = ctx.shape(i)
        if shape.ndims is None:
            if "..." in term:
                ellipsis = None
            continue
        labels = [t for t in term if t != "..."]
        if shape.ndims < len(labels) or ("..." not in term and shape.ndims != len(labels)):
            raise ValueError(f"Input {i} of einsum '{ctx.attrs['equation']}' has rank {shape.ndims} but its "
                             f"subscripts name {len(labels)} dimensions")
        dims = shape.as_list()
        extra = len(dims) - len(labels)
        position = term.index("...") if "..." in term else len(term)
        own = dims[position:position + extra]
        named = dims[:position] + dims[position + extra:]
        for label, size in zip(labels, named, strict=True):
            _check_equal(sizes.get(label), size)
            sizes[label] = size if size is not None else sizes.get(label)
        if ellipsis is not None:
            ellipsis = _rules.broadcast_shapes(ellipsis, TensorShape(own))
    if "..." in output and ellipsis is None:
        return [(dtype, unknown_shape())]
    dims: list[int | None] = []
    for t in output:
        dims.extend(ellipsis.as_list() if t == "..." else [sizes.get(t)])
    return [(dtype, TensorShape(dims))]


def _einsum_kernel(xp: Any, *inputs: Any, equation: str) -> Any:
    return xp.einsum(equation, *inputs, optimize=len(inputs) > 2)


def _einsum_grad(op: Any, grad: Tensor) -> list:
    """Each operand's gradient is an einsum of the output gradient with the other operands.

    Labels of the operand that appear nowhere else are restored by one more operand of ones
    shaped like it; broadcast ellipsis dimensions are summed back to the operand's shape.
    """
    from caudal.ops._broadcast import sum_to_shape_of
    from caudal.ops.array_ops import transpose
    from caudal.ops.constant_ops import ones_like

    equation = op.get_attr("equation")
    operands = list(op.inputs)
    inputs, output = _split_terms(equation, len(operands))
    grads = []
    for i, (x, term) in enumerate(zip(operands, inputs, strict=True)):
        labels = [t for t in term if t != "..."]
        if len(set(labels)) != len(labels):
            raise ValueError(f"The gradient of einsum '{equation}' is not available: operand {i} repeats a "
                             "subscript")
        others = [j for j in range(len(operands)) if j != i]
        elsewhere = set(output).union(*(inputs[j] for j in others))
        terms = [output] + [inputs[j] for j in others]
        args = [grad] + [operands[j] for j in others]
        if any(t not in elsewhere for t in term):
            terms.append(term)
            args.append(ones_like(x))
        # The gradient is computed with the broadcast '...' dimensions first; an operand without
        # them sums them away.
        broadcast = any("..." in t for t in terms)
        target = ["..."] + labels if broadcast else term
        g = einsum(",".join("".join(t) for t in terms) + "->" + "".join(target), *args)
        if broadcast and "..." not in term:
            g = _sum_leading(g, len(labels))
        if "..." in term:
            if x.shape.ndims is None:
                raise ValueError(f"The gradient of einsum '{equation}' needs the rank of operand {i}")
            rank = x.shape.ndims
            position = term.index("...")
            extra = rank - len(labels)
            front = list(range(position, position + extra)) + \
                [d for d in range(rank) if not position <= d < position + extra]
            g = sum_to_shape_of(g, transpose(x, front))
            g = transpose(g, np.argsort(front).astype(np.int32))
        grads.append(g)
    return grads


def _sum_leading(g: Tensor, kept: int) -> Tensor:
    """Sums g over all but its last `kept` dimensions."""
    from caudal.ops.array_ops import range as range_op
    from caudal.ops.array_ops import rank
    from caudal.ops.math_ops import subtract
    from caudal.ops.reduction_ops import reduce_sum

    if g.shape.ndims is not None:
        return reduce_sum(g, list(range(g.shape.ndims - kept)))
    return reduce_sum(g, range_op(0, subtract(rank(g), kept)))


register_op("Einsum", infer=_einsum_infer, kernel=_einsum_kernel, grad=_einsum_grad)


def einsum(equation: str, *inputs: Any, **kwargs: Any) -> Tensor:
    """`tf.einsum(equation, *inputs, name=None)`: NumPy-style Einstein summation (op Einsum).

    Subscripts are letters; '...' broadcasts; without '->' the output takes the labels that
    appear once, sorted. Gradients are available unless an operand repeats a subscript.
    """
    name = kwargs.pop("name", None)
    kwargs.pop("optimize", None)
    if kwargs:
        raise TypeError(f"Invalid keyword arguments for this function: {', '.join(sorted(kwargs))}")
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    with get_default_graph().name_scope(name or "einsum"):
        tensors = [convert_to_tensor(t, name=f"input_{i}") for i, t in enumerate(inputs)]
        return apply_op("Einsum", tensors, {"equation": equation, "N": len(tensors),
                                            "T": tensors[0].dtype.base_dtype}, "Einsum")


# --------------------------------------------------------------- tensordot
def _tensordot_axes(a: Tensor, b: Tensor, axes: Any) -> tuple[list[int], list[int]]:
    ra, rb = a.shape.ndims, b.shape.ndims
    value = constant_value(axes) if isinstance(axes, Tensor) else axes
    if value is None:
        raise ValueError("tensordot needs `axes` known when the graph is built")
    if np.ndim(value) == 0:
        n = int(value)
        if n < 0:
            raise ValueError(f"'axes' must be at least 0, got {n}")
        if ra is None or rb is None:
            raise ValueError("tensordot with an integer `axes` needs the ranks of `a` and `b`")
        if n > ra or n > rb:
            raise ValueError(f"'axes' must not be larger than the number of dimensions of tensor {a}")
        return list(range(ra - n, ra)), list(range(n))
    if len(value) != 2:
        raise ValueError("'axes' must be an integer or have length 2")
    a_axes, b_axes = (list(np.reshape(v, -1).astype(int)) for v in value)
    if len(a_axes) != len(b_axes):
        raise ValueError(f"Different number of contraction axes 'a' and 'b', {len(a_axes)} != {len(b_axes)}")
    if (ra is None and any(v < 0 for v in a_axes)) or (rb is None and any(v < 0 for v in b_axes)):
        raise ValueError("tensordot with negative axes needs the ranks of `a` and `b`")
    return [v % ra if ra else v for v in a_axes], [v % rb if rb else v for v in b_axes]


def tensordot(a: Any, b: Any, axes: Any, name: str | None = None) -> Tensor:
    """Sums the products of `a` and `b` over the given axes (an int n: the last n of `a` with the
    first n of `b`; or a pair of axis lists), as a transpose, reshape and MatMul like TF."""
    from caudal.ops.array_ops import concat, reshape, transpose

    with get_default_graph().name_scope(name or "Tensordot"):
        a = convert_to_tensor(a, name="a")
        b = convert_to_tensor(b, name="b")
        a_axes, b_axes = _tensordot_axes(a, b, axes)
        if a.shape.ndims is None or b.shape.ndims is None:
            raise ValueError("tensordot needs the ranks of `a` and `b`")
        a_free = [d for d in range(a.shape.ndims) if d not in a_axes]
        b_free = [d for d in range(b.shape.ndims) if d not in b_axes]
        for i, j in zip(a_axes, b_axes, strict=True):
            _check_equal(a.shape[i].value, b.shape[j].value)

        def matrix(x: Tensor, rows: list[int], cols: list[int]) -> Tensor:
            perm = rows + cols
            if perm != list(range(len(perm))):
                x = transpose(x, np.array(perm, dtype=np.int32))
            dims = [x.shape[d].value for d in range(len(perm))]
            sizes = [int(np.prod(dims[:len(rows)])) if None not in dims[:len(rows)] else -1,
                     int(np.prod(dims[len(rows):])) if None not in dims[len(rows):] else -1]
            if sizes.count(-1) > 1:
                return reshape(x, _flat_sizes(x, len(rows)))
            return x if x.shape.as_list() == sizes else reshape(x, sizes)

        product = matmul(matrix(a, a_free, a_axes), matrix(b, b_axes, b_free))
        free_dims = [a.shape[d].value for d in a_free] + [b.shape[d].value for d in b_free]
        if None not in free_dims:
            return product if product.shape.as_list() == free_dims else reshape(product, free_dims)
        return reshape(product, concat([_shape_dims(a, a_free), _shape_dims(b, b_free)], 0))


def _shape_dims(x: Tensor, dims: list[int]) -> Tensor:
    """The sizes of x's dimensions `dims`, as a 1-D int32 tensor."""
    from caudal.ops.array_ops import shape
    from caudal.ops.gather_ops import gather

    return gather(shape(x), np.array(dims, dtype=np.int32))


def _flat_sizes(x: Tensor, split: int) -> Tensor:
    """[prod(shape[:split]), prod(shape[split:])] of x, computed when the graph runs."""
    from caudal.ops.array_ops import stack
    from caudal.ops.reduction_ops import reduce_prod

    rank = x.shape.ndims
    return stack([reduce_prod(_shape_dims(x, list(range(split)))),
                  reduce_prod(_shape_dims(x, list(range(split, rank))))])


# ------------------------------------------------------------ transposes
def matrix_transpose(a: Any, name: str = "matrix_transpose", conjugate: bool = False) -> Tensor:
    """Swaps the last two dimensions (`tf.linalg.matrix_transpose`); a needs rank >= 2."""
    from caudal.ops.array_ops import concat, rank, transpose
    from caudal.ops.array_ops import range as range_op
    from caudal.ops.math_ops import subtract

    with get_default_graph().name_scope(name):
        a = convert_to_tensor(a, name="a")
        if conjugate and a.dtype.base_dtype.is_complex:
            raise TypeError("matrix_transpose(conjugate=True) of a complex tensor needs the Conj op, "
                            "which caudal does not have")
        ndims = a.shape.ndims
        if ndims is not None:
            if ndims < 2:
                raise ValueError(f"Argument `a` should be a (batch) matrix with rank >= 2.  Received `a` = {a} "
                                 f"with shape: {a.shape}")
            perm: Any = np.array(list(range(ndims - 2)) + [ndims - 1, ndims - 2], dtype=np.int32)
        else:
            r = rank(a)
            perm = concat([range_op(0, subtract(r, 2)), subtract(r, 1)[None], subtract(r, 2)[None]], 0)
        return transpose(a, perm)


# ------------------------------------------- inverse, determinant, solve
def _square_infer(ctx: InferContext) -> TensorShape:
    _rules.check_dtype(ctx, 0, _LINALG_TYPES, "input")
    shape = ctx.shape(0)
    if shape.ndims is not None:
        if shape.ndims < 2:
            raise ValueError(f"Shape must be at least rank 2 but is rank {shape.ndims}")
        _check_equal(shape[-2].value, shape[-1].value)
    return shape


def _batch_shape(shape: TensorShape) -> TensorShape:
    return shape[:-2] if shape.ndims is not None else unknown_shape()


def _inverse_kernel(xp: Any, x: Any, *, adjoint: bool) -> Any:
    if adjoint:
        x = xp.conj(xp.swapaxes(x, -1, -2))
    try:
        return xp.linalg.inv(x)
    except np.linalg.LinAlgError:
        raise _invalid_argument("Input is not invertible.") from None


def _inverse_grad(op: Any, grad: Tensor) -> list:
    """d inv(A) = -inv(A) dA inv(A), transposed back onto A."""
    c = op.outputs[0]
    if op.get_attr("adjoint"):
        return [negative(matmul(c, matmul(grad, c, adjoint_a=True)))]
    return [negative(matmul(c, matmul(grad, c, adjoint_b=True), adjoint_a=True))]


def _determinant_grad(op: Any, grad: Tensor) -> list:
    """d det(A) / dA = det(A) inv(A)^T."""
    from caudal.ops.array_ops import expand_dims

    scale = expand_dims(expand_dims(multiply(grad, op.outputs[0]), -1), -1)
    return [multiply(scale, matrix_inverse(op.inputs[0], adjoint=True))]


def _cholesky_kernel(xp: Any, x: Any) -> Any:
    """The lower factor; like TF, a matrix that is not positive definite gives NaNs, not an error."""
    try:
        return xp.linalg.cholesky(x)
    except np.linalg.LinAlgError:
        flat = x.reshape((-1,) + x.shape[-2:])
        nan_lower = xp.tril(xp.full(x.shape[-2:], xp.nan, dtype=x.dtype))
        factors = []
        for matrix in flat:  # only on failure: find which matrices of the batch failed
            try:
                factors.append(xp.linalg.cholesky(matrix))
            except np.linalg.LinAlgError:
                factors.append(nan_lower)
        return xp.stack(factors).reshape(x.shape) if factors else xp.zeros_like(x)


def _cholesky_grad(op: Any, grad: Tensor) -> list:
    """For A = L L^T: dA = sym(L^-T Phi(L^T dL) L^-1), Phi keeping the lower triangle with the
    diagonal halved and sym(M) = (M + M^T) / 2."""
    from caudal.ops.math_ops import add, subtract

    factor = op.outputs[0]
    inverse = matrix_inverse(factor)
    middle = matmul(factor, grad, adjoint_a=True)
    half = convert_to_tensor(0.5, dtype=grad.dtype.base_dtype)
    phi = subtract(matrix_band_part(middle, -1, 0), multiply(half, matrix_band_part(middle, 0, 0)))
    full = matmul(matmul(inverse, phi, adjoint_a=True), inverse)
    return [multiply(half, add(full, matrix_transpose(full)))]


def _solve_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1), ("matrix", "rhs"))
    matrix = _square_infer(ctx)
    rhs = ctx.shape(1)
    if rhs.ndims is not None and rhs.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {rhs.ndims}")
    if matrix.ndims is None or rhs.ndims is None:
        return [(dtype, unknown_shape() if rhs.ndims is None else rhs)]
    _check_equal(matrix[-1].value, rhs[-2].value)
    batch = _batch_shape(matrix).merge_with(_batch_shape(rhs))
    return [(dtype, batch.concatenate([matrix[-2].value, rhs[-1].value]))]


def _solve_kernel(xp: Any, matrix: Any, rhs: Any, *, adjoint: bool) -> Any:
    if adjoint:
        matrix = xp.conj(xp.swapaxes(matrix, -1, -2))
    try:
        return xp.linalg.solve(matrix, rhs)
    except np.linalg.LinAlgError:
        raise _invalid_argument("Input matrix is not invertible.") from None


def _solve_grad(op: Any, grad: Tensor) -> list:
    """X = A^-1 B: dB = A^-T G and dA = -dB X^T (mirrored for adjoint=True)."""
    a = op.inputs[0]
    x = op.outputs[0]
    adjoint = op.get_attr("adjoint")
    grad_rhs = matrix_solve(a, grad, adjoint=not adjoint)
    if adjoint:
        return [negative(matmul(x, grad_rhs, adjoint_b=True)), grad_rhs]
    return [negative(matmul(grad_rhs, x, adjoint_b=True)), grad_rhs]


register_op("MatrixInverse", infer=lambda ctx: [(ctx.dtype(0), _square_infer(ctx))], kernel=_inverse_kernel,
            grad=_inverse_grad)
register_op("MatrixDeterminant", infer=lambda ctx: [(ctx.dtype(0), _batch_shape(_square_infer(ctx)))],
            kernel=lambda xp, x: xp.linalg.det(x).astype(x.dtype, copy=False), grad=_determinant_grad)
register_op("Cholesky", infer=lambda ctx: [(ctx.dtype(0), _square_infer(ctx))], kernel=_cholesky_kernel,
            grad=_cholesky_grad)
register_op("MatrixSolve", infer=_solve_infer, kernel=_solve_kernel, grad=_solve_grad)


def matrix_inverse(input: Any, adjoint: bool = False, name: str | None = None) -> Tensor:  # noqa: A002
    """The inverse of each square matrix (of its adjoint if `adjoint`); a singular matrix is an
    InvalidArgumentError "Input is not invertible." at run time, as in TF."""
    x = convert_to_tensor(input, name="input")
    return apply_op("MatrixInverse", [x], {"adjoint": bool(adjoint), "T": x.dtype.base_dtype},
                    name or "MatrixInverse")


def matrix_determinant(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """The determinant of each square matrix: shape [..., M, M] -> [...]."""
    x = convert_to_tensor(input, name="input")
    return apply_op("MatrixDeterminant", [x], {"T": x.dtype.base_dtype}, name or "MatrixDeterminant")


def cholesky(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """The lower Cholesky factor of each matrix, reading only its lower triangle."""
    x = convert_to_tensor(input, name="input")
    return apply_op("Cholesky", [x], {"T": x.dtype.base_dtype}, name or "Cholesky")


def matrix_solve(matrix: Any, rhs: Any, adjoint: bool = False, name: str | None = None) -> Tensor:
    """Solves matrix @ X = rhs (matrix^H @ X = rhs if `adjoint`), batched without broadcasting."""
    a = convert_to_tensor(matrix, name="matrix")
    b = convert_to_tensor(rhs, dtype=a.dtype.base_dtype if not isinstance(rhs, Tensor) else None, name="rhs")
    return apply_op("MatrixSolve", [a, b], {"adjoint": bool(adjoint), "T": a.dtype.base_dtype},
                    name or "MatrixSolve")


# --------------------------------------------------------- Diag, DiagPart
def _diag_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _DIAG_TYPES, "diagonal")
    shape = ctx.shape(0)
    return [(dtype, shape.concatenate(shape) if shape.ndims is not None else unknown_shape())]


def _diag_part_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _DIAG_TYPES, "input")
    shape = ctx.shape(0)
    if shape.ndims is None:
        return [(dtype, unknown_shape())]
    if shape.ndims % 2 or shape.ndims == 0:
        raise ValueError(f"Input must have even and non-zero rank, input rank is {shape.ndims}")
    half = shape.ndims // 2
    dims = []
    for a, b in zip(shape.as_list()[:half], shape.as_list()[half:], strict=True):
        _check_equal(a, b)
        dims.append(a if a is not None else b)
    return [(dtype, TensorShape(dims))]


def _diag_part_kernel(xp: Any, x: Any) -> Any:
    half = x.shape[:x.ndim // 2]
    if half != x.shape[x.ndim // 2:]:
        raise _invalid_argument(f"Invalid shape {list(x.shape)}: dimensions must match in pairs")
    n = int(np.prod(half))
    return xp.diagonal(xp.reshape(x, (n, n))).reshape(half)


register_op("Diag", infer=_diag_infer, grad=lambda op, grad: [diag_part(grad)],
            kernel=lambda xp, x: xp.reshape(xp.diag(xp.reshape(x, (-1,))), x.shape + x.shape))
register_op("DiagPart", infer=_diag_part_infer, kernel=_diag_part_kernel, grad=lambda op, grad: [diag(grad)])


def diag(diagonal: Any, name: str | None = None) -> Tensor:
    """`tf.diag` (op Diag): for rank-k input, the rank-2k tensor with it on the diagonal."""
    x = convert_to_tensor(diagonal, name="diagonal")
    return apply_op("Diag", [x], {"T": x.dtype.base_dtype}, name or "Diag")


def diag_part(input: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """`tf.diag_part` (op DiagPart): the inverse of `diag`."""
    x = convert_to_tensor(input, name="input")
    return apply_op("DiagPart", [x], {"T": x.dtype.base_dtype}, name or "DiagPart")


# ------------------------------------------------- diagonal bands (V3 ops)
_ALIGNMENTS = ("RIGHT_LEFT", "LEFT_RIGHT", "LEFT_LEFT", "RIGHT_RIGHT")


def _band(k: Any) -> tuple[int, int]:
    values = [int(v) for v in np.reshape(k, -1)]
    if not 1 <= len(values) <= 2:
        raise ValueError(f"k must have one or two elements, got {len(values)}")
    low, high = values[0], values[-1]
    if low > high:
        raise ValueError(f"lower_diag_index must not be larger than upper_diag_index: {low} > {high}")
    return low, high


def _diagonal_lengths(rows: int, cols: int, low: int, high: int) -> np.ndarray:
    """Length of each diagonal d = high, high - 1, ..., low of a rows x cols matrix."""
    d = np.arange(high, low - 1, -1)
    return np.maximum(np.minimum(rows + np.minimum(d, 0), cols - np.maximum(d, 0)), 0)


def _offsets(rows: int, cols: int, low: int, high: int, width: int, align: str) -> np.ndarray:
    """Where each diagonal starts in its padded row: right-aligned ones are padded at the front."""
    d = np.arange(high, low - 1, -1)
    superdiagonal_right = align.startswith("RIGHT")
    subdiagonal_right = align.endswith("RIGHT")
    right = np.where(d > 0, superdiagonal_right, np.where(d < 0, subdiagonal_right, superdiagonal_right))
    return np.where(right, width - _diagonal_lengths(rows, cols, low, high), 0)


def _band_index(rows: int, cols: int, low: int, high: int, width: int, align: str) -> tuple:
    """For each (row, col): whether it lies in the band, and its (diagonal, position) in the packed form."""
    r = np.arange(rows)[:, None]
    c = np.arange(cols)[None, :]
    d = c - r
    inside = (d >= low) & (d <= high)
    j = np.clip(high - d, 0, high - low)
    p = np.minimum(r, c) + _offsets(rows, cols, low, high, width, align)[j]
    inside &= p < width
    return inside, j, np.clip(p, 0, max(width - 1, 0))


def _packed(diagonal: Any, low: int, high: int) -> Any:
    return diagonal[..., None, :] if low == high else diagonal


def _diag_part_v3_kernel(xp: Any, x: Any, k: Any, padding_value: Any, *, align: str) -> Any:
    low, high = _band(k)
    rows, cols = x.shape[-2:]
    width = int(max(min(rows + min(high, 0), cols - max(low, 0)), 0))
    lengths = _diagonal_lengths(rows, cols, low, high)
    q = np.arange(width)[None, :] - _offsets(rows, cols, low, high, width, align)[:, None]
    d = np.arange(high, low - 1, -1)[:, None]
    valid = (q >= 0) & (q < lengths[:, None])
    row_index = np.clip(q + np.maximum(-d, 0), 0, max(rows - 1, 0))
    col_index = np.clip(q + np.maximum(d, 0), 0, max(cols - 1, 0))
    if x.size == 0:
        gathered = xp.zeros(x.shape[:-2] + valid.shape, dtype=x.dtype)
    else:
        gathered = x[..., row_index, col_index]
    out = xp.where(valid, gathered, xp.asarray(padding_value, dtype=x.dtype))
    return out[..., 0, :] if low == high else out


def _diag_v3_kernel(xp: Any, diagonal: Any, k: Any, num_rows: Any, num_cols: Any, padding_value: Any, *,
                    align: str) -> Any:
    low, high = _band(k)
    packed = _packed(diagonal, low, high)
    rows, cols = _diag_output_size(packed.shape[-1], low, high, int(num_rows), int(num_cols))
    inside, j, p = _band_index(rows, cols, low, high, packed.shape[-1], align)
    gathered = packed[..., j, p] if packed.shape[-1] else xp.zeros(packed.shape[:-2] + inside.shape, diagonal.dtype)
    return xp.where(inside, gathered, xp.asarray(padding_value, dtype=diagonal.dtype))


def _set_diag_v3_kernel(xp: Any, x: Any, diagonal: Any, k: Any, *, align: str) -> Any:
    low, high = _band(k)
    packed = _packed(diagonal, low, high)
    rows, cols = x.shape[-2:]
    width = int(max(min(rows + min(high, 0), cols - max(low, 0)), 0))
    if packed.shape[-1] != width or packed.shape[-2] != high - low + 1:
        raise _invalid_argument(f"diagonal must have shape [..., {high - low + 1}, {width}] for k=({low}, "
                                f"{high}) and input shape {list(x.shape)}, got {list(diagonal.shape)}")
    inside, j, p = _band_index(rows, cols, low, high, width, align)
    gathered = packed[..., j, p] if width else x
    return xp.where(inside, gathered, x)


def _diag_output_size(width: int, low: int, high: int, rows: int, cols: int) -> tuple[int, int]:
    """TF's rule: unspecified sizes are the smallest that fit; both unspecified gives a square."""
    min_rows = width - min(high, 0)
    min_cols = width + max(low, 0)
    if rows == -1 and cols == -1:
        rows = cols = max(min_rows, min_cols)
    elif rows == -1:
        rows = min_rows
    elif cols == -1:
        cols = min_cols
    if rows < min_rows and cols < min_cols:
        raise ValueError(f"The number of rows or columns is too small for the diagonals: {rows} x {cols}")
    return rows, cols


def _band_value(ctx: InferContext, index: int) -> tuple[int, int] | None:
    value = ctx.value(index)
    return _band(value) if value is not None else None


def _diag_v3_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 4), ("diagonal", "padding_value"))
    if ctx.attrs["align"] not in _ALIGNMENTS:
        raise ValueError(f"align must be one of {', '.join(_ALIGNMENTS)}, got {ctx.attrs['align']!r}")
    band, shape = _band_value(ctx, 1), ctx.shape(0)
    rows, cols = ctx.value(2), ctx.value(3)
    if band is None or shape.ndims is None or rows is None or cols is None:
        return [(dtype, unknown_shape())]
    low, high = band
    keep = 1 if low == high else 2
    batch, width = shape[:-keep], shape[-1].value
    if width is None:
        return [(dtype, batch.concatenate([None, None]))]
    return [(dtype, batch.concatenate(list(_diag_output_size(width, low, high, int(rows), int(cols)))))]


def _diag_part_v3_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 2), ("input", "padding_value"))
    band, shape = _band_value(ctx, 1), ctx.shape(0)
    if shape.ndims is not None and shape.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {shape.ndims}")
    if band is None or shape.ndims is None:
        return [(dtype, unknown_shape())]
    low, high = band
    rows, cols = shape[-2].value, shape[-1].value
    width = None if rows is None or cols is None else max(min(rows + min(high, 0), cols - max(low, 0)), 0)
    tail = [width] if low == high else [high - low + 1, width]
    return [(dtype, shape[:-2].concatenate(tail))]


def _set_diag_v3_infer(ctx: InferContext) -> list:
    dtype = _rules.check_same_dtype(ctx, (0, 1), ("input", "diagonal"))
    shape = ctx.shape(0)
    if shape.ndims is not None and shape.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {shape.ndims}")
    return [(dtype, shape)]


def _diag_v3_grad(op: Any, grad: Tensor) -> list:
    k = op.inputs[1]
    return [matrix_diag_part(grad, k=k, align=op.get_attr("align")), None, None, None, None]


def _diag_part_v3_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.constant_ops import zeros_like

    x, k = op.inputs[0], op.inputs[1]
    return [matrix_set_diag(zeros_like(x), grad, k=k, align=op.get_attr("align")), None, None]


def _set_diag_v3_grad(op: Any, grad: Tensor) -> list:
    from caudal.ops.constant_ops import zeros_like

    _, diagonal, k = op.inputs
    align = op.get_attr("align")
    return [matrix_set_diag(grad, zeros_like(diagonal), k=k, align=align),
            matrix_diag_part(grad, k=k, align=align), None]


register_op("MatrixDiagV3", infer=_diag_v3_infer, kernel=_diag_v3_kernel, grad=_diag_v3_grad)
register_op("MatrixDiagPartV3", infer=_diag_part_v3_infer, kernel=_diag_part_v3_kernel, grad=_diag_part_v3_grad)
register_op("MatrixSetDiagV3", infer=_set_diag_v3_infer, kernel=_set_diag_v3_kernel, grad=_set_diag_v3_grad)


def _int32(value: Any, name: str) -> Tensor:
    return convert_to_tensor(value, dtype=dtypes_lib.int32, name=name)


def matrix_diag(diagonal: Any, name: str = "diag", k: Any = 0, num_rows: Any = -1, num_cols: Any = -1,
                padding_value: Any = 0, align: str = "RIGHT_LEFT") -> Tensor:
    """Batched matrices with `diagonal` on diagonal k, or on the band k = (low, high) given as
    [..., high - low + 1, max_len] rows packed per `align` (op MatrixDiagV3)."""
    with get_default_graph().name_scope(name) as scope:
        d = convert_to_tensor(diagonal, name="diagonal")
        inputs = [d, _int32(k, "k"), _int32(num_rows, "num_rows"), _int32(num_cols, "num_cols"),
                  convert_to_tensor(padding_value, dtype=d.dtype.base_dtype, name="padding_value")]
        return apply_op("MatrixDiagV3", inputs, {"T": d.dtype.base_dtype, "align": align}, scope[:-1] + "/")


def matrix_diag_part(input: Any, name: str = "diag_part", k: Any = 0, padding_value: Any = 0,  # noqa: A002
                     align: str = "RIGHT_LEFT") -> Tensor:
    """Diagonal k (or the band k = (low, high), shorter diagonals padded per `align`) of each
    matrix (op MatrixDiagPartV3)."""
    with get_default_graph().name_scope(name) as scope:
        x = convert_to_tensor(input, name="input")
        inputs = [x, _int32(k, "k"), convert_to_tensor(padding_value, dtype=x.dtype.base_dtype, name="padding_value")]
        return apply_op("MatrixDiagPartV3", inputs, {"T": x.dtype.base_dtype, "align": align}, scope[:-1] + "/")


def matrix_set_diag(input: Any, diagonal: Any, name: str = "set_diag", k: Any = 0,  # noqa: A002
                    align: str = "RIGHT_LEFT") -> Tensor:
    """`input` with diagonal k (or the band k) replaced by `diagonal` (op MatrixSetDiagV3)."""
    with get_default_graph().name_scope(name) as scope:
        x = convert_to_tensor(input, name="input")
        d = convert_to_tensor(diagonal, dtype=x.dtype.base_dtype, name="diagonal")
        return apply_op("MatrixSetDiagV3", [x, d, _int32(k, "k")], {"T": x.dtype.base_dtype, "align": align},
                        scope[:-1] + "/")


# ---------------------------------------------------------- MatrixBandPart
def _band_part_infer(ctx: InferContext) -> list:
    _rules.check_same_dtype(ctx, (1, 2), ("num_lower", "num_upper"))
    _rules.check_dtype(ctx, 1, _rules.INDEX, "num_lower")
    shape = ctx.shape(0)
    if shape.ndims is not None and shape.ndims < 2:
        raise ValueError(f"Shape must be at least rank 2 but is rank {shape.ndims}")
    return [(ctx.dtype(0), shape)]


def _band_part_kernel(xp: Any, x: Any, num_lower: Any, num_upper: Any) -> Any:
    rows, cols = x.shape[-2:]
    lower, upper = int(num_lower), int(num_upper)
    if lower > rows or upper > cols:
        raise _invalid_argument(f"num_lower must be at most {rows} and num_upper at most {cols}, got {lower} "
                                f"and {upper}")
    below = np.arange(rows)[:, None] - np.arange(cols)[None, :]
    keep = ((lower < 0) | (below <= lower)) & ((upper < 0) | (-below <= upper))
    return xp.where(keep, x, xp.zeros((), dtype=x.dtype))


register_op("MatrixBandPart", infer=_band_part_infer, kernel=_band_part_kernel,
            grad=lambda op, grad: [matrix_band_part(grad, op.inputs[1], op.inputs[2]), None, None])


def matrix_band_part(input: Any, num_lower: Any, num_upper: Any, name: str | None = None) -> Tensor:  # noqa: A002
    """Keeps the num_lower subdiagonals and num_upper superdiagonals of each matrix (negative:
    all of them) and zeroes the rest; band_part(x, -1, 0) is the lower triangle."""
    x = convert_to_tensor(input, name="input")
    index_dtype = next((v.dtype.base_dtype for v in (num_lower, num_upper) if isinstance(v, Tensor)),
                       dtypes_lib.int64)
    lower = convert_to_tensor(num_lower, dtype=index_dtype, name="num_lower")
    upper = convert_to_tensor(num_upper, dtype=index_dtype, name="num_upper")
    return apply_op("MatrixBandPart", [x, lower, upper], {"T": x.dtype.base_dtype, "Tindex": index_dtype},
                    name or "MatrixBandPart")


# ---------------------------------------------------------- composites
def eye(num_rows: Any, num_columns: Any = None, batch_shape: Any = None, dtype: Any = dtypes_lib.float32,
        name: str | None = None) -> Tensor:
    """Identity matrices [*batch_shape, num_rows, num_columns] (square when num_columns is None)."""
    from caudal.ops.array_ops import concat, stack
    from caudal.ops.constant_ops import ones
    from caudal.ops.math_ops import minimum

    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    with get_default_graph().name_scope(name or "eye"):
        cols = num_rows if num_columns is None else num_columns
        batch = [] if batch_shape is None else batch_shape
        static = all(isinstance(v, (int, np.integer)) for v in [num_rows, cols, *np.reshape(batch, -1)]) \
            and not isinstance(batch, Tensor)
        if static:
            size: Any = list(np.reshape(batch, -1).astype(int)) + [builtins.min(int(num_rows), int(cols))]
        else:
            length = minimum(_int32(num_rows, "num_rows"), _int32(cols, "num_columns"))
            size = concat([_int32(batch, "batch_shape"), stack([length])], 0)
        return matrix_diag(ones(size, dtype=dtype), num_rows=num_rows, num_cols=cols)


def trace(x: Any, name: str | None = None) -> Tensor:
    """The sum of the main diagonal of each matrix in x: shape [..., M, N] -> [...]."""
    from caudal.ops.reduction_ops import reduce_sum

    with get_default_graph().name_scope(name or "Trace") as scope:
        x = convert_to_tensor(x, name="x")
        return reduce_sum(matrix_diag_part(x), [-1], name=scope[:-1] + "/")


def linspace(start: Any, stop: Any, num: Any, name: str | None = None, axis: int = 0) -> Tensor:
    """`num` evenly spaced values from start to stop inclusive (TF 2's linspace, which TF1 programs
    get too): start and stop broadcast, and the values run along the new dimension `axis`. The
    last value is exactly `stop`; the result is differentiable in start and stop."""
    from caudal.ops.array_ops import concat, expand_dims, rank, reshape, shape
    from caudal.ops.array_ops import range as range_op
    from caudal.ops.comparison_ops import equal, greater, logical_and, where_v2
    from caudal.ops.constant_ops import ones, zeros_like
    from caudal.ops.math_ops import add, cast, maximum, realdiv, subtract

    with get_default_graph().name_scope(name or "linspace"):
        start = convert_to_tensor(start, name="start")
        stop = convert_to_tensor(stop, name="stop")
        if not start.dtype.base_dtype.is_floating:
            start = cast(start, dtypes_lib.float64)
        dtype = start.dtype.base_dtype
        stop = cast(stop, dtype)
        num_t = convert_to_tensor(num, dtype_hint=dtypes_lib.int32, name="num")
        span = subtract(stop, start)
        start_b = add(start, zeros_like(span))
        ndims = start_b.shape.ndims
        if axis != 0 and ndims is None:
            raise ValueError("linspace with axis != 0 needs the rank of start and stop")
        position = axis % (ndims + 1) if ndims is not None else 0
        steps = range_op(0, num_t)
        fractions = realdiv(cast(steps, dtype), cast(maximum(subtract(num_t, 1), 1), dtype))
        trailing = ones([ndims - position], dtypes_lib.int32) if ndims is not None else \
            ones(rank(start_b)[None], dtypes_lib.int32)
        fractions = reshape(fractions, concat([shape(fractions), trailing], 0))
        # The last value is exactly `stop`, except that a single value is `start`.
        last = logical_and(equal(steps, subtract(num_t, 1)), greater(steps, 0))
        last = reshape(last, concat([shape(steps), trailing], 0))
        start_e = expand_dims(start_b, position)
        stop_e = expand_dims(add(stop, zeros_like(span)), position)
        values = add(start_e, multiply(expand_dims(span, position), fractions))
        return where_v2(last, stop_e, values)


lin_space = linspace
