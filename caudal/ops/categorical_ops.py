"""The ops that turn raw features into category ids, as TF's feature columns use them:

- StringToHashBucketFast (`tf.string_to_hash_bucket_fast`): farmhash `Fingerprint64` of each
  string modulo `num_buckets` (caudal.ops._farmhash, checked against TF's values);
- AsString (`tf.as_string`): numbers and bools as text, with TF's printf-style formats
  (`%d`, `%f` with `precision`, `%e` when `scientific`, `%g` when `shortest`, `width` and `fill`);
- Bucketize (`math_ops._bucketize`): the index of the first boundary greater than each value,
  compared in float32 as TF's kernel compares (float64 for double inputs);
- SparseCross (`tf.sparse.cross`, `tf.sparse.cross_hashed`): per batch row, every combination
  of one feature from each input (the last input varying fastest); hashed, each combination is
  `FingerprintCat64` folded over the features' hashes (Fingerprint64 of strings, the int64
  value of integers) starting from `hash_key`, modulo `num_buckets` (or 2**63 - 1 when 0).
  Sparse inputs come first, then dense ones, whatever order the caller gave.

None of them is differentiable.
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph, make_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.sparse_tensor import SparseTensor
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules
from caudal.ops._farmhash import fingerprint64, fingerprint_cat64

__all__ = ["string_to_hash_bucket_fast", "as_string", "bucketize", "sparse_cross", "sparse_cross_hashed"]

_STRING = frozenset([dtypes_lib.string])
_INT64_MAX = (1 << 63) - 1
_MASK64 = (1 << 64) - 1
DEFAULT_HASH_KEY = 0xDECAFCAFFE


def _check_min(op_type: str, attr: str, value: int, minimum: int) -> None:
    if value < minimum:
        raise ValueError(f"Attr '{attr}' of '{op_type}' Op passed {value} less than minimum {minimum}.")


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


# ------------------------------------------------------- StringToHashBucketFast
def _hash_bucket_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _STRING, "input")
    return [(dtypes_lib.int64, ctx.shape(0))]


def _hash_bucket_kernel(xp: Any, input: Any, *, num_buckets: int) -> Any:
    strings = np.asarray(input, dtype=object)
    buckets = np.fromiter((fingerprint64(_as_bytes(s)) % num_buckets for s in strings.reshape(-1)),
                          dtype=np.int64, count=strings.size)
    return xp.asarray(buckets.reshape(strings.shape))


register_op("StringToHashBucketFast", infer=_hash_bucket_infer, kernel=_hash_bucket_kernel,
            grad=NOT_DIFFERENTIABLE)


def string_to_hash_bucket_fast(input: Any, num_buckets: int, name: str | None = None) -> Tensor:
    """`tf.string_to_hash_bucket_fast`: `Fingerprint64(s) % num_buckets` for every string, int64."""
    _check_min("StringToHashBucketFast", "num_buckets", int(num_buckets), 1)
    with get_default_graph().name_scope(name or "StringToHashBucketFast") as scope:
        strings = convert_to_tensor(input, dtype=dtypes_lib.string, name="input")
        return apply_op("StringToHashBucketFast", [strings], {"num_buckets": int(num_buckets)}, scope)


# ------------------------------------------------------------------ AsString
_AS_STRING_TYPES = (dtypes_lib.INTEGER | dtypes_lib.FLOATING | frozenset([dtypes_lib.bool_, dtypes_lib.string])) - \
    frozenset([dtypes_lib.bfloat16])


def _as_string_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _AS_STRING_TYPES, "input")
    return [(dtypes_lib.string, ctx.shape(0))]


def _as_string_format(kind: str, precision: int, scientific: bool, shortest: bool, width: int, fill: str) -> str:
    spec = "%" + fill + (str(width) if width > -1 else "")
    if kind == "f":
        return spec + (f".{precision}" if precision > -1 else "") + ("e" if scientific else "g" if shortest else "f")
    return spec + "d"


def _as_string_kernel(xp: Any, input: Any, *, precision: int, scientific: bool, shortest: bool, width: int,
                      fill: str) -> Any:
    if len(fill) > 1:
        raise InvalidArgumentError(None, None, "Fill string must be one or fewer characters")
    if scientific and shortest:
        raise InvalidArgumentError(None, None, "Cannot select both scientific and shortest notation")
    values = np.asarray(input)
    out = np.empty(values.shape, dtype=object)
    flat = out.reshape(-1)
    if values.dtype == object:
        flat[:] = list(values.reshape(-1))
    elif values.dtype == np.bool_:
        flat[:] = [b"true" if v else b"false" for v in values.reshape(-1)]
    else:
        fmt = _as_string_format("f" if values.dtype.kind == "f" else "d", precision, scientific, shortest, width,
                                fill)
        as_python = float if values.dtype.kind == "f" else int
        flat[:] = [(fmt % as_python(v)).encode() for v in values.reshape(-1)]
    return out


register_op("AsString", infer=_as_string_infer, kernel=_as_string_kernel, grad=NOT_DIFFERENTIABLE)


def as_string(input: Any, precision: int = -1, scientific: bool = False, shortest: bool = False, width: int = -1,
              fill: str = "", name: str | None = None) -> Tensor:
    """`tf.as_string`: each element as text ("true"/"false" for bools, `%f` for floats by default);
    a `fill` of more than one character, or both notations, fail when the op runs, as in TF."""
    with get_default_graph().name_scope(name or "AsString") as scope:
        x = convert_to_tensor(input, name="input")
        return apply_op("AsString", [x], {"T": x.dtype.base_dtype, "precision": int(precision),
                                          "scientific": bool(scientific), "shortest": bool(shortest),
                                          "width": int(width), "fill": fill}, scope)


# ------------------------------------------------------------------ Bucketize
_BUCKETIZE_TYPES = frozenset([dtypes_lib.int32, dtypes_lib.int64, dtypes_lib.float32, dtypes_lib.float64])


def _bucketize_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _BUCKETIZE_TYPES, "input")
    return [(dtypes_lib.int32, ctx.shape(0))]


def _bucketize_kernel(xp: Any, input: Any, *, boundaries: list) -> Any:
    if any(a > b for a, b in zip(boundaries, boundaries[1:])):
        raise InvalidArgumentError(None, None, "Expected sorted boundaries")
    values = np.asarray(input)
    compare = np.float64 if values.dtype == np.float64 else np.float32
    edges = np.asarray(boundaries, dtype=np.float32).astype(compare)
    return xp.asarray(np.searchsorted(edges, values.astype(compare), side="right").astype(np.int32))


register_op("Bucketize", infer=_bucketize_infer, kernel=_bucketize_kernel, grad=NOT_DIFFERENTIABLE)


def bucketize(input: Any, boundaries: Any, name: str | None = None) -> Tensor:
    """TF's `math_ops._bucketize`: for each value, how many `boundaries` are <= it (int32); unsorted
    boundaries fail when the op runs, as in TF."""
    if not isinstance(boundaries, (list, tuple)):
        raise TypeError(f"Expected list for 'boundaries' argument to 'bucketize' Op, not {boundaries}.")
    edges = [float(b) for b in boundaries]
    with get_default_graph().name_scope(name or "Bucketize") as scope:
        x = convert_to_tensor(input, name="input")
        return apply_op("Bucketize", [x], {"T": x.dtype.base_dtype, "boundaries": edges}, scope)


# ------------------------------------------------------------------ SparseCross
def _sparse_cross_infer(ctx: InferContext) -> list:
    n = ctx.attrs["N"]
    dense = len(ctx.attrs["dense_types"])
    for i in range(n):
        _rules.check_dtype(ctx, i, frozenset([dtypes_lib.int64]), "indices")
        ctx.shape(i).with_rank(2)
        ctx.shape(n + i).with_rank(1)
        _rules.check_dtype(ctx, 2 * n + i, frozenset([dtypes_lib.int64]), "shapes")
        ctx.shape(2 * n + i).with_rank(1)
    for i in range(dense):
        ctx.shape(3 * n + i).with_rank(2)
    out = ctx.attrs["out_type"]
    return [(dtypes_lib.int64, TensorShape([None, 2])), (out, TensorShape([None])),
            (dtypes_lib.int64, TensorShape([2]))]


def _sparse_rows(indices: np.ndarray, values: np.ndarray, shape: np.ndarray, position: int) -> list:
    """The values of one sparse input grouped by batch row, checked as TF checks them."""
    if indices.ndim != 2 or indices.shape[1] != 2:
        raise InvalidArgumentError(None, None, f"Expected D2 of index to be 2 got {indices.shape[-1]} at position "
                                               f"{position}")
    if values.shape[0] != indices.shape[0]:
        raise InvalidArgumentError(None, None, f"Expected size of values to be {indices.shape[0]} got "
                                               f"{values.shape[0]} at position {position}")
    rows: list[list] = [[] for _ in range(int(shape[0]))]
    for row, value in zip(indices[:, 0], values):
        rows[int(row)].append(value)
    return rows


def _cross_feature(value: Any, hashed: bool) -> Any:
    if isinstance(value, (bytes, str)):
        data = _as_bytes(value)
        return fingerprint64(data) if hashed else data
    return int(value) & _MASK64 if hashed else str(int(value)).encode()


def _sparse_cross_kernel(xp: Any, *inputs: Any, N: int, dense_types: list, hashed_output: bool,  # noqa: N803
                         num_buckets: int, hash_key: int, out_type: Any) -> tuple[Any, Any, Any]:
    shapes = [np.asarray(inputs[2 * N + i]) for i in range(N)]
    denses = [np.asarray(inputs[3 * N + i]) for i in range(len(dense_types))]
    for i, dense in enumerate(denses):
        if dense.ndim != 2:
            raise InvalidArgumentError(None, None, f"Dense inputs should be a matrix but received shape "
                                                   f"{list(dense.shape)} at position {i}")
    batch = int(shapes[0][0]) if N else (denses[0].shape[0] if denses else 0)
    for i, shape in enumerate(shapes):
        if int(shape[0]) != batch:
            raise InvalidArgumentError(None, None, f"Expected batch size {batch} got {int(shape[0])} at position {i}")
    for i, dense in enumerate(denses):
        if dense.shape[0] != batch:
            raise InvalidArgumentError(None, None, f"Expected batch size {batch} got {dense.shape[0]} at dense "
                                                   f"tensor {i}")
    columns = [_sparse_rows(np.asarray(inputs[i]), np.asarray(inputs[N + i]), shapes[i], i) for i in range(N)]
    columns += [[list(row) for row in dense] for dense in denses]
    indices, values, widest = [], [], 0
    modulus = num_buckets if num_buckets > 0 else _INT64_MAX
    for b in range(batch):
        features = [[_cross_feature(v, hashed_output) for v in column[b]] for column in columns]
        count = 0
        for combination in itertools.product(*features):
            if hashed_output:
                hashed = hash_key
                for feature in combination:
                    hashed = fingerprint_cat64(hashed, feature)
                values.append(hashed % modulus)
            else:
                values.append(b"_X_".join(combination))
            indices.append((b, count))
            count += 1
        widest = max(widest, count)
    out_indices = np.array(indices, dtype=np.int64).reshape(-1, 2)
    if hashed_output:
        out_values = np.array(values, dtype=np.int64)
    else:
        out_values = np.empty((len(values),), dtype=object)
        out_values[:] = values
    return xp.asarray(out_indices), out_values, xp.asarray(np.array([batch, widest], dtype=np.int64))


register_op("SparseCross", infer=_sparse_cross_infer, kernel=_sparse_cross_kernel, grad=NOT_DIFFERENTIABLE)


def _sparse_cross(inputs: Any, hashed_output: bool, num_buckets: int, hash_key: int | None,
                  name: str | None) -> SparseTensor:
    from caudal.ops.math_ops import cast

    if not isinstance(inputs, (tuple, list)):
        raise TypeError("Inputs must be a list")
    if not all(isinstance(i, (SparseTensor, Tensor)) for i in inputs):
        raise TypeError("All inputs must be SparseTensors")
    sparse = [i for i in inputs if isinstance(i, SparseTensor)]
    dense = [i for i in inputs if not isinstance(i, SparseTensor)]
    values = [sp.values for sp in sparse]
    internal = dtypes_lib.string
    for i, v in enumerate(values):
        if v.dtype.base_dtype != dtypes_lib.string:
            values[i] = cast(v, dtypes_lib.int64)
            internal = dtypes_lib.int64
    for i, d in enumerate(dense):
        if d.dtype.base_dtype != dtypes_lib.string:
            dense[i] = cast(d, dtypes_lib.int64)
            internal = dtypes_lib.int64
    out_type = dtypes_lib.int64 if hashed_output else dtypes_lib.string
    attrs = {"N": len(sparse), "hashed_output": bool(hashed_output), "num_buckets": int(num_buckets),
             "hash_key": int(hash_key or DEFAULT_HASH_KEY), "sparse_types": [v.dtype.base_dtype for v in values],
             "dense_types": [d.dtype.base_dtype for d in dense], "out_type": out_type, "internal_type": internal}
    op = make_op("SparseCross", [sp.indices for sp in sparse] + values + [sp.dense_shape for sp in sparse] + dense,
                 attrs, name or "SparseCross")
    return SparseTensor(*op.outputs)


def sparse_cross(inputs: Any, name: str | None = None) -> SparseTensor:
    """`tf.sparse.cross`: the batchwise crosses of the inputs' features as "a_X_b" strings."""
    return _sparse_cross(inputs, False, 0, None, name)


def sparse_cross_hashed(inputs: Any, num_buckets: int = 0, hash_key: int | None = None,
                        name: str | None = None) -> SparseTensor:
    """`tf.sparse.cross_hashed`: the batchwise crosses of the inputs' features, each hashed with
    TF's FingerprintCat64 chain from `hash_key` (TF's default key when None), modulo `num_buckets`."""
    return _sparse_cross(inputs, True, num_buckets, hash_key, name)
