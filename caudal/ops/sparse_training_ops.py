"""TF's `SparseApply*` ops: an optimizer's update of only the rows of a variable (and of its slots)
that an IndexedSlices gradient names, as TF1's optimizers apply a gather's gradient.

Each op takes the inputs of its dense Apply op (caudal.ops.training_ops) in TF's
order, with the gradient's rows (`grad`, [N, ...]) and their row numbers
(`indices`, [N]); rows not named keep their values, slots included. So a
Momentum or RMSProp step leaves an embedding row that no example of the batch
looked up where it was, where the dense update would move it by its
accumulated momentum. The update of a row is the dense op's, computed by the
dense op's own kernel on the rows read at `indices` and written back there.
An index named twice is updated twice, in order, as TF's CPU kernels do (the
optimizers sum duplicate rows first, so they name each row once). On NumPy the
rows change in place, as in TF, where nothing else refers to the variable's
array (`caudal.ops._scatter.rows_to_change`): a step costs the rows it
updates, not a copy of the table, and a failed run puts the old rows back.

Before anything is written the kernel checks what TF checks, with TF's
messages: `indices` a vector, every index in [0, rows) ("Index 7 at offset 1
in indices is out of range"), as many gradient rows as indices, the rows'
shape the variable's, slots of the variable's shape and scalar
hyperparameters.
"""
from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework.graph import InferContext
from caudal.framework.registry import NOT_DIFFERENTIABLE, get_op_def, register_op
from caudal.ops import _rules
from caudal.ops._scatter import place_rows, rows_to_change
from caudal.ops.training_ops import _INPUT_NAMES, _apply_infer_with, _not_same_shape, bind_slots
from caudal.ops.variable_ops import bind_variable

__all__ = ["SPARSE_OPS"]

# Sparse op type -> (dense op type, number of reference inputs, TF's input names).
SPARSE_OPS: dict[str, tuple[str, int, list[str]]] = {
    "SparseApplyMomentum": ("ApplyMomentum", 2, "var accum lr grad indices momentum".split()),
    "SparseApplyAdagrad": ("ApplyAdagrad", 2, "var accum lr grad indices".split()),
    "SparseApplyAdadelta": ("ApplyAdadelta", 3, "var accum accum_update lr rho epsilon grad indices".split()),
    "SparseApplyRMSProp": ("ApplyRMSProp", 3, "var ms mom lr rho momentum epsilon grad indices".split()),
    "SparseApplyCenteredRMSProp": ("ApplyCenteredRMSProp", 4,
                                   "var mg ms mom lr rho momentum epsilon grad indices".split()),
    "SparseApplyFtrl": ("ApplyFtrl", 3, "var accum linear grad indices lr l1 l2 lr_power".split()),
    "SparseApplyFtrlV2": ("ApplyFtrlV2", 3, "var accum linear grad indices lr l1 l2 l2_shrinkage lr_power".split()),
    "SparseApplyProximalGradientDescent": ("ApplyProximalGradientDescent", 1,
                                           "var alpha l1 l2 grad indices".split()),
    "SparseApplyProximalAdagrad": ("ApplyProximalAdagrad", 2, "var accum lr l1 l2 grad indices".split()),
}
_INPUT_NAMES.update({op_type: names for op_type, (_, _, names) in SPARSE_OPS.items()})


def _shape_text(dims: list[Any]) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def _sparse_infer_with(n_refs: int, names: list[str]) -> Any:
    """The dense op's checks (reference inputs, dtypes, slot shapes, scalar hyperparameters), then TF's
    checks of `indices` (a vector) and `grad` (one row per index, rows shaped as the variable's)."""
    grad_at, indices_at = names.index("grad"), names.index("indices")
    scalars = tuple(i for i in range(n_refs, len(names)) if i not in (grad_at, indices_at))
    dense = _apply_infer_with(n_refs, scalars)

    def infer(ctx: InferContext) -> list:
        result = dense(ctx)
        _rules.check_dtype(ctx, indices_at, _rules.INDEX, "indices")
        where = f"for '{ctx.name}' (op: '{ctx.type}')"
        indices, grad, var = ctx.shape(indices_at), ctx.shape(grad_at), ctx.inputs[0].shape
        if indices.ndims is not None and indices.ndims != 1:
            raise ValueError(f"Shape must be rank 1 but is rank {indices.ndims} {where}")
        if grad.ndims == 0:
            raise ValueError(f"Shape must be at least rank 1 but is rank 0 {where}")
        if indices.ndims == 1 and grad.ndims is not None:
            n, rows = indices.dims[0], grad.dims[0]
            if n is not None and rows is not None and n != rows:
                raise ValueError(f"Dimensions must be equal, but are {n} and {rows} {where}")
        if var.ndims is not None and grad.ndims is not None:
            if var.ndims != grad.ndims:
                raise ValueError(f"Shapes must be equal rank, but are {var.ndims} and {grad.ndims} {where}")
            for d in range(1, var.ndims):
                a, b = var.dims[d], grad.dims[d]
                if a is not None and b is not None and a != b:
                    raise ValueError(f"Dimension {d} in both shapes must be equal, but are {a} and {b}. Shapes are "
                                     f"{_shape_text(var.as_list())} and {_shape_text([None] + grad.as_list()[1:])}. "
                                     f"{where}")
        return result

    return infer


class _Rows:
    """A run context over the variables' values as they stand between rounds (`values`, by name): reads
    give the rows at `indices` (distinct), writes are kept in order for the caller to put back."""

    __slots__ = ("xp", "_values", "_indices", "written")

    def __init__(self, xp: Any, values: dict[str, Any], indices: Any):
        self.xp = xp
        self._values = values
        self._indices = indices
        self.written: list[tuple[str, Any]] = []

    def read(self, name: str) -> Any:
        return self.xp.take(self._values[name], self._indices, axis=0)

    def write(self, name: str, value: Any) -> None:
        self.written.append((name, value))


def _rounds(indices: np.ndarray) -> list[np.ndarray | None]:
    """Positions of `indices` in rounds that each name a row at most once: the k-th time a row is named
    goes to round k, so rounds taken in turn update every row in the order of its indices. Distinct
    indices (what the optimizers give) are one round, None: all of them."""
    if indices.size == 0:
        return []
    order = np.argsort(indices, kind="stable")
    ranked = indices[order]
    repeats = ranked[1:] == ranked[:-1]
    if not repeats.any():
        return [None]
    starts = np.flatnonzero(np.concatenate(([True], ~repeats)))
    occurrence = np.arange(indices.size) - np.repeat(starts, np.diff(np.append(starts, indices.size)))
    rounds = np.empty(indices.size, np.int64)
    rounds[order] = occurrence
    return [np.flatnonzero(rounds == k) for k in range(int(rounds.max()) + 1)]


class _SparseKernel:
    """The kernel of one SparseApply op, over its dense op's portable kernel or NumPy variant (other
    backends run the NumPy one: a sparse update touches few rows): the keyword-only parameters are
    the dense kernel's, so the plan binds the same attrs."""

    def __init__(self, op_type: str, dense_kernel: Any, on_numpy: bool):
        _, n_refs, names = SPARSE_OPS[op_type]
        self.dense_kernel = dense_kernel
        self.on_numpy = on_numpy
        self.names = names[n_refs:]  # the inputs the kernel receives, in order
        self.grad_at = self.names.index("grad")
        self.indices_at = self.names.index("indices")
        self.scalars = [i for i in range(len(self.names)) if i not in (self.grad_at, self.indices_at)]
        params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_ONLY),
                  inspect.Parameter("inputs", inspect.Parameter.VAR_POSITIONAL)]
        dense_params = inspect.signature(dense_kernel).parameters.values()
        params += [p for p in dense_params if p.kind is inspect.Parameter.KEYWORD_ONLY]
        self.__signature__ = inspect.Signature(params)

    def __call__(self, ctx: Any, *inputs: Any, var: str, op: Any, **kwargs: Any) -> Any:
        xp = ctx.xp
        slots = kwargs.get("slots", ())
        names = (*slots, var)
        indices, grad = inputs[self.indices_at], inputs[self.grad_at]
        value = ctx.read(var)
        flat = self._check(op, value, [ctx.read(name) for name in slots], inputs, indices, grad)
        if flat.size == 0:
            return value
        rows_shape = (flat.size,) + tuple(value.shape[1:])
        del value  # (a reference held here would make the variable look shared to `rows_to_change`)
        grad = xp.reshape(grad, rows_shape)
        dense_inputs = [x for i, x in enumerate(inputs) if i != self.indices_at]
        grad_at = self.grad_at - (self.indices_at < self.grad_at)
        if self.on_numpy:  # the rows change in place: in the variables' own arrays where the run may
            current = {name: rows_to_change(ctx, name, flat) for name in names}
        else:
            current = {name: ctx.read(name) for name in names}
        for positions in _rounds(flat):
            rows = flat if positions is None else flat[positions]
            view = _Rows(xp, current, rows)
            dense_inputs[grad_at] = grad if positions is None else xp.take(grad, positions, axis=0)
            self.dense_kernel(view, *dense_inputs, var=var, op=op, **kwargs)
            for name, new_rows in view.written:
                if self.on_numpy:
                    current[name][rows] = new_rows
                else:
                    current[name] = place_rows(xp, current[name], rows, new_rows)
        for name in names:
            ctx.write(name, current[name])
        return current[var]

    def _check(self, op: Any, value: Any, slot_values: list[Any], inputs: tuple, indices: Any,
               grad: Any) -> np.ndarray:
        """The indices as a NumPy vector, after TF's checks of the inputs (InvalidArgumentError)."""
        for i in self.scalars:
            shape = tuple(getattr(inputs[i], "shape", ()))
            if shape:
                raise InvalidArgumentError(None, op, f"{self.names[i]} is not a scalar : {_shape_text(list(shape))}")
        var_shape = tuple(value.shape)
        if not var_shape:
            raise InvalidArgumentError(None, op, "var must be at least 1 dimensional")
        for index, slot in enumerate(slot_values, 1):
            if tuple(slot.shape) != var_shape:
                raise _not_same_shape(op, index, var_shape, tuple(slot.shape))
        if len(getattr(indices, "shape", ())) != 1:
            raise InvalidArgumentError(None, op, "indices must be one-dimensional")
        flat = np.asarray(indices).astype(np.int64, copy=False)
        grad_shape = tuple(getattr(grad, "shape", ()))
        if not grad_shape or grad_shape[0] != flat.size:
            raise InvalidArgumentError(None, op, "grad must be the same size as indices in the first dimension.")
        for d in range(1, len(var_shape)):
            if d >= len(grad_shape) or grad_shape[d] != var_shape[d]:
                raise InvalidArgumentError(None, op, f"var and grad must match in dimension {d}")
        if math.prod(grad_shape) != flat.size * math.prod(var_shape[1:]):
            raise InvalidArgumentError(None, op, f"var and grad must match in dimension {len(var_shape)}")
        if flat.size and (flat.min() < 0 or flat.max() >= var_shape[0]):
            i = int(np.flatnonzero((flat < 0) | (flat >= var_shape[0]))[0])
            raise InvalidArgumentError(None, op, f"Index {int(flat[i])} at offset {i} in indices is out of range")
        return flat


for _op_type, (_dense_type, _n_refs, _names) in SPARSE_OPS.items():
    _dense = get_op_def(_dense_type)
    register_op(_op_type, infer=_sparse_infer_with(_n_refs, _names),
                kernel=_SparseKernel(_op_type, _dense.kernel, on_numpy=False),
                variants={"numpy": _SparseKernel(_op_type, _dense.variants["numpy"], on_numpy=True)},
                grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=tuple(range(_n_refs)),
                bind=bind_slots if _n_refs > 1 else bind_variable)
