"""fast_cpu kernels of the optimizer updates ApplyGradientDescent, ApplyMomentum, ApplyAdam and
ApplyRMSProp: one parallel numba loop (`_loop_kernels`) each, launched with `loops`' machinery (numba
loaded when it pays, one launch at a time, threads sized to the arrays), where NumPy's variants make
five to eleven passes. `GROUP_VARIANTS` update the variables of one step in one call.

Each loop writes the new slot and variable values either into new arrays, written to the variables
as the NumPy variants write them, or into the variables' own arrays where the run allows it
(`_in_place`: the rest of the run cannot fail, see caudal.runtime.last_writes, and nothing else
refers to them). Anything the loops do not take (other dtypes, scalars, shapes that do not match)
goes to the NumPy variant, which raises TF's errors.
"""
from __future__ import annotations

import sys
import weakref
from collections.abc import Callable
from operator import is_
from typing import Any

import numpy as np

from caudal.backends.fast_cpu import loops
from caudal.framework import threads as thread_policy

__all__ = ["VARIANTS", "GROUP_VARIANTS", "PACKED_SIZE"]

# A group kernel updates variables of fewer values than this with one loop over them all (see
# `_Update.apply_group`). LeNet's RMSProp: its 3x3x64x128 filter (73,728 values) on its own and the seven
# small variables packed took 0.127 + 0.032 ms of the step, all eight packed 0.090 ms.
PACKED_SIZE = 1 << 17
_F32 = np.dtype(np.float32)


def _read_f32(ctx: Any, var: str, slots: tuple[str, ...], grad: Any) -> list[Any] | None:
    """[variable, slots...] as flat float32 arrays when all can be updated here, else None (the NumPy
    variant then runs, reading them again in the same order, so it raises TF's errors). Once numba
    is loaded every float32 update of a vector or larger runs its loop (a 200-value Adam update takes
    2.6 us there, 6-9 us in NumPy's eleven passes); before, only one that pays for loading it
    (`_loaded_or_worth`)."""
    if not loops._is_f32(grad) or not grad.ndim:
        return None
    unloaded = loops._kernel_module is None
    if unloaded and (grad.size < loops.MIN_ELEMENTWISE_SIZE or not loops._loaded_or_worth(grad.size)):
        return None
    values = []
    for name in (var, *slots):
        value = ctx.read(name)
        if not loops._is_f32(value) or value.shape != grad.shape:
            return None
        values.append(value.reshape(-1))
    return values


def _in_place(ctx: Any, names: tuple[str, ...], grad: Any) -> list[Any] | None:
    """The flat arrays of the variables `names` (the variable and its slots) when the update may change
    them in place, else None: the plan says that nothing after this op can make the run fail
    (`ctx.rest_cannot_fail`, so no run that raises will have changed them), nothing else refers to
    them (`ctx.writable`'s rule), and each is a C-ordered float32 array of the gradient's shape. An RMSProp
    update of a 2048x512 matrix took 0.14 ms in place, 0.37 ms writing new arrays (whose three more
    streams of memory no longer fit the cache)."""
    if not getattr(ctx, "rest_cannot_fail", False) or not loops._is_f32(grad) or not grad.ndim:
        return None
    shape = grad.shape
    arrays = [ctx.read(name) for name in names]
    for array in arrays:  # what `ctx.writable` asks of each, with one count for them all (`ctx.unshared`)
        if (type(array) is not np.ndarray or array.base is not None or array.dtype != _F32 or array.shape != shape
                or not array.flags.c_contiguous or not array.flags.writeable):
            return None
    del array
    return [array.reshape(-1) for array in arrays] if ctx.unshared(names, arrays) else None


class _Update:
    """An Apply op's loop: the op's inputs are its scalar hyperparameters and the gradient at
    `grad_index`; `coefficients(scalars, attrs)` gives the loop's arguments before and after the
    flat gradient (after the variable and slot arrays), computed as the NumPy variant computes them.
    The loop writes the new slot values and the new variable value, in that order, into the arrays
    given last: new ones, written to the variables as the NumPy variants write, or, where `_in_place`
    allows, the variables' own."""

    def __init__(self, op_type: str, loop: str, grad_index: int, attrs: tuple[str, ...],
                 coefficients: Callable[[tuple, dict], tuple[tuple, tuple]]):
        self.op_type = op_type
        self.loop = loop
        self.grad_index = grad_index
        self.attrs = attrs
        self.coefficients = coefficients
        self.numpy_kernel = loops._fallback(op_type)
        # For each run of packed variables (their names): the names in the packed loop's order, weak
        # references to the views of its results last written to them, and the gradients' dtypes and
        # shapes then (see `_update_packed`).
        self._packed_views: dict[tuple, tuple[tuple[str, ...], list[weakref.ref], list[tuple]]] = {}
        # For each group (by the identity of its first call's attrs, a plan constant): what its last run
        # found when it updated every variable in place (see `_apply_steady`).
        self._steady: dict[int, _Steady] = {}

    def split(self, args: tuple) -> tuple[Any, tuple]:
        i = self.grad_index
        return args[i], args[:i] + args[i + 1:]

    def apply(self, ctx: Any, *args: Any, var: str, op: Any, slots: tuple[str, ...] = (), **attrs: Any) -> Any:
        """The op's kernel: the loop where the values allow, else the NumPy variant."""
        grad, scalars = self.split(args)
        names = (var, *slots)
        values = outputs = None
        if loops._scalars_f32(scalars):
            values = _in_place(ctx, names, grad) if loops._kernel_module is not None else None
            if values is not None:
                outputs = values[1:] + values[:1]
            else:
                values = _read_f32(ctx, var, slots, grad)
        if values is None:
            extra = {"slots": slots} if slots else {}
            return loops._numpy_pass(self.numpy_kernel, grad, ctx, *args, var=var, op=op, **extra, **attrs)
        before, after = self.coefficients(scalars, attrs)
        new = None
        if outputs is None:
            new, outputs = _new_arrays(grad.shape, len(names))
        loop = getattr(loops._kernels(), self.loop)
        flat_grad = grad.reshape(-1)
        loops._run_on(loops._threads_for((*values, flat_grad)), loop, *values, *before, flat_grad, *after, *outputs)
        return values[0].reshape(grad.shape) if new is None else _write(ctx, names, new)

    def apply_group(self, ctx: Any, calls: tuple[tuple[tuple, dict], ...]) -> tuple:
        """The op's group kernel (OpDef.group_variants): `apply` on each `(args, kwargs)` in turn, with
        the coefficients computed once for the calls that share their scalars (the same arrays) and
        attrs. Variables of fewer than `PACKED_SIZE` values that share them are updated by one loop
        over their values put end to end (see `_update_packed`), where one call each cost more than
        the arithmetic: the ten Adam updates of benchmarks/mlp.py (10 to 157K values) took 0.29 ms
        one by one, 0.24 as a group and 0.22 with the nine small ones packed (medians of 30
        alternating blocks). Updates in place run last, once every other call of the group has run
        (one of which may raise). A group that ran with every variable in place runs the same way
        next time with fewer steps where nothing changed (`_apply_steady`)."""
        if loops._kernel_module is None or loops._unavailable or not thread_policy.openmp_usable():
            return tuple([self.apply(ctx, *args, **kwargs) for args, kwargs in calls])
        loop = getattr(loops._kernel_module, self.loop)
        if loop not in loops._called:
            return tuple([self.apply(ctx, *args, **kwargs) for args, kwargs in calls])
        steady = self._steady.get(id(calls[0][1])) if calls else None
        if steady is not None and steady.kwargs[0] is calls[0][1]:
            found = self._apply_steady(ctx, loop, calls, steady)
            if found is not None:
                return found
        results: list[Any] = [None] * len(calls)
        blocks = 0  # runs of calls sharing their scalars and attrs
        shared: tuple = ()
        coefficients: tuple[tuple, tuple] | None = None
        packed: list[tuple[int, tuple, dict, Any]] = []  # (index, args, kwargs, gradient)
        # (the variable's and slots' arrays and the gradient, coefficients, [(index, result)])
        in_place: list[tuple[list[Any], tuple[tuple, tuple], list[tuple[int, Any]]]] = []
        with loops._launch_lock:
            for index, (args, kwargs) in enumerate(calls):
                grad, scalars = self.split(args)
                attrs = tuple([kwargs[name] for name in self.attrs])
                if len(shared) != len(scalars) + 1 or shared[-1] != attrs or not all(map(is_, scalars, shared)):
                    self._update_packed(ctx, loop, coefficients, packed, results, in_place)
                    shared = (*scalars, attrs)
                    blocks += 1
                    coefficients = (self.coefficients(scalars, kwargs) if loops._scalars_f32(scalars) else None)
                var, slots = kwargs["var"], kwargs.get("slots", ())
                if coefficients is not None and grad.size < PACKED_SIZE:
                    packed.append((index, args, kwargs, grad))
                    continue
                if coefficients is not None:
                    arrays = _in_place(ctx, (var, *slots), grad)
                    if arrays is not None:
                        in_place.append((arrays + [grad.reshape(-1)], coefficients,
                                         [(index, arrays[0].reshape(grad.shape))]))
                        continue
                values = _read_f32(ctx, var, slots, grad) if coefficients is not None else None
                if values is None:
                    results[index] = loops._numpy_pass(self.numpy_kernel, grad, ctx, *args, **kwargs)
                    continue
                values.append(grad.reshape(-1))
                new, outputs = _new_arrays(grad.shape, len(values) - 1)
                _launch(loop, values, *coefficients, outputs)
                results[index] = _write(ctx, (var, *slots), new)
            packed_key = self._update_packed(ctx, loop, coefficients, packed, results, in_place)
            _run_in_place(loop, in_place, results)
        self._remember_steady(calls, blocks, in_place, packed_key)
        return tuple(results)

    def _remember_steady(self, calls: tuple, blocks: int, in_place: list, packed_key: tuple | None) -> None:
        """Records a group run whose calls all shared their scalars and attrs and all changed their
        variables in place (one by one, and at most one packed loop whose key is `packed_key`), for
        `_apply_steady`; forgets the group's record otherwise."""
        key = id(calls[0][1]) if calls else None
        singles = in_place[:-1] if packed_key is not None else in_place  # the packed loop's entry comes last
        single = tuple([written[0][0] for _, _, written in singles])
        packed_count = len(in_place[-1][2]) if packed_key is not None else 0
        if blocks != 1 or len(single) + packed_count != len(calls):
            self._steady.pop(key, None)
            return
        if len(self._steady) >= 64:  # groups of plans no longer run
            self._steady.clear()
        gi = self.grad_index
        names = tuple([(calls[i][1]["var"], *calls[i][1].get("slots", ())) for i in single])
        packed = tuple([i for i in range(len(calls)) if i not in single])
        self._steady[key] = _Steady(tuple([kwargs for _, kwargs in calls]),
                                    tuple([args[gi].shape for args, _ in calls]), tuple(zip(single, names)), packed,
                                    packed_key)

    def _apply_steady(self, ctx: Any, loop: Any, calls: tuple, steady: _Steady) -> tuple | None:
        """The group's results when it can run as its recorded run did (`_remember_steady`): the same
        attrs objects, gradients of the same shapes, all calls sharing their scalars, and each
        variable still allowed to change in place (the same checks as `_in_place` and
        `_packed_in_place`); else None, having changed nothing. Skips the general path's sorting of
        the calls: 10 us of benchmarks/mlp.py's ten Adam updates."""
        if len(calls) != len(steady.kwargs) or not getattr(ctx, "rest_cannot_fail", False):
            return None
        gi = self.grad_index
        first = calls[0][0]
        before, after = first[:gi], first[gi + 1:]
        for (args, kwargs), expected, shape in zip(calls, steady.kwargs, steady.shapes):
            grad = args[gi]
            if (kwargs is not expected or type(grad) is not np.ndarray or grad.dtype != _F32 or grad.shape != shape
                    or not all(map(is_, args[:gi], before)) or not all(map(is_, args[gi + 1:], after))):
                return None
        scalars = before + after
        if not loops._scalars_f32(scalars):
            return None
        coefficients = self.coefficients(scalars, calls[0][1])
        in_place = []
        for index, names in steady.single:
            grad = calls[index][0][gi]
            arrays = _in_place(ctx, names, grad)
            if arrays is None:
                return None
            in_place.append((arrays + [grad.reshape(-1)], coefficients, [(index, arrays[0].reshape(grad.shape))]))
        if steady.packed:
            grads = [calls[i][0][gi] for i in steady.packed]
            names, views = self._packed_inputs(ctx, steady.packed_key, grads)
            entry = None if views is None else _packed_entry(
                ctx, names, views, _packed_columns(views, len(steady.packed_key[0])), steady.packed, grads,
                coefficients)
            if entry is None:
                return None
            in_place.append(entry)
        results: list[Any] = [None] * len(calls)
        with loops._launch_lock:
            _run_in_place(loop, in_place, results)
        return tuple(results)

    def _update_packed(self, ctx: Any, loop: Any, coefficients: tuple[tuple, tuple] | None,
                       packed: list[tuple[int, tuple, dict, Any]], results: list[Any], in_place: list
                       ) -> tuple | None:
        """Runs the updates gathered in `packed` (all with `coefficients`) as one loop over their values
        put end to end, and empties it. The variables and slots are read and concatenated, except where
        each still holds the view of the last such loop's results that this group wrote for it (kept by
        weak reference in `_packed_views`): those results are then the loop's inputs as they lie (the
        group of benchmarks/mlp.py's ten Adam updates took 88 us a call so, 104 us reading and copying
        them; medians of 40 alternating blocks), and where the run allows changing them in place
        (`_packed_in_place`), its outputs too: the loop then joins `in_place`, the updates run last."""
        if not packed:
            return None
        assert coefficients is not None
        entries = list(packed)
        packed.clear()
        key: tuple | None = tuple([(kwargs["var"], *kwargs.get("slots", ())) for _, _, kwargs, _ in entries])
        grads = [grad for _, _, _, grad in entries]
        names, views = self._packed_inputs(ctx, key, grads)
        if views is not None:
            columns = _packed_columns(views, len(key[0]))
            entry = _packed_entry(ctx, names, views, columns, [index for index, _, _, _ in entries], grads,
                                  coefficients)
            if entry is not None:
                in_place.append(entry)
                return key
        else:
            rows, kept = [], []
            for entry in entries:
                index, args, kwargs, grad = entry
                values = _read_f32(ctx, kwargs["var"], kwargs.get("slots", ()), grad)
                if values is None:
                    results[index] = loops._numpy_pass(self.numpy_kernel, grad, ctx, *args, **kwargs)
                else:
                    rows.append(values)
                    kept.append(entry)
            if not kept:
                return None
            if len(kept) < len(entries):
                key, entries = None, kept
                grads = [grad for _, _, _, grad in entries]
            columns = rows[0] if len(rows) == 1 else [np.concatenate(column) for column in zip(*rows)]
        new = [np.empty(columns[0].size, _F32) for _ in columns]
        _launch(loop, [*columns, np.concatenate(grads, axis=None)], *coefficients, new)
        views = []
        start = 0
        for index, _, kwargs, grad in entries:
            stop = start + grad.size
            # `new` holds the slots' values, then the variable's: written in that order
            written = [column[start:stop].reshape(grad.shape) for column in new]
            for name, value in zip((*kwargs.get("slots", ()), kwargs["var"]), written, strict=True):
                ctx.write(name, value)
            results[index] = written[-1]
            views.extend(written)
            start = stop
        if key is not None:
            self._packed_views[key] = (_flat_names(key), [weakref.ref(view) for view in views],
                                       [(grad.dtype, grad.shape) for grad in grads])
        return None

    def _packed_inputs(self, ctx: Any, key: tuple, grads: list[Any]) -> tuple[tuple[str, ...], list[Any] | None]:
        """(names, views): the views the last packed loop of the variables and slots of `key` wrote, and
        their names (each entry's slots', then its variable's), when each still holds its view and the
        gradients have the dtypes and shapes they had then; else views None."""
        found = self._packed_views.get(key)
        if found is None:
            return (), None
        names, refs, layout = found
        views = [ref() for ref in refs]
        if [(grad.dtype, grad.shape) for grad in grads] != layout or not ctx.holds_each(names, views):
            return names, None
        return names, views


class _Steady:
    """A group run that changed every variable in place (`_Update._remember_steady`): its calls' attrs
    objects, gradient shapes, the (index, variable and slot names) of the calls updated one by one,
    and the indexes and `_packed_views` key of those updated by one packed loop."""

    __slots__ = ("kwargs", "shapes", "single", "packed", "packed_key")

    def __init__(self, kwargs: tuple, shapes: tuple, single: tuple, packed: tuple, packed_key: tuple | None):
        self.kwargs, self.shapes, self.single, self.packed, self.packed_key = kwargs, shapes, single, packed, packed_key


def _reference_counts(arrays: list[Any]) -> list[int]:
    return [sys.getrefcount(array) for array in arrays]


# What `_reference_counts` reads for an array one list entry alone holds (measured: what the
# interpreter counts for locals and arguments varies between versions).
_ONE_LIST_ENTRY = _reference_counts([np.empty(1)])[0]


def _packed_in_place(ctx: Any, names: tuple[str, ...], views: list[Any], columns: list[Any]) -> bool:
    """Whether a packed loop may write its results into `columns`, the arrays whose views the
    variables and slots `names` hold (`views`, see `_packed_inputs`): the rest of the run cannot fail
    (`ctx.rest_cannot_fail`), nothing but the variable dicts and the list `views` holds those views
    (`ctx.unshared`), and nothing but the views and the list `columns` holds the arrays."""
    if not getattr(ctx, "rest_cannot_fail", False) or not ctx.unshared(names, views):
        return False
    return _reference_counts(columns) == [_ONE_LIST_ENTRY + len(views) // len(columns)] * len(columns)


def _packed_columns(views: list[Any], per_entry: int) -> list[Any]:
    """The arrays the views of a packed loop's results lie in (`per_entry` views a call: its slots',
    then its variable's), the variable's first, then the slots'."""
    return [views[-1].base, *[view.base for view in views[-per_entry:-1]]]


def _packed_entry(ctx: Any, names: tuple[str, ...], views: list[Any], columns: list[Any], indexes: Any,
                  grads: list[Any], coefficients: tuple[tuple, tuple]) -> tuple | None:
    """The entry of `_run_in_place` for a packed loop that writes its results into `columns`, the arrays
    the variables' and slots' `views` lie in, where `_packed_in_place` allows it, else None; `indexes`
    are the calls' places in the group."""
    if not _packed_in_place(ctx, names, views, columns):
        return None
    per_entry = len(views) // len(indexes)
    written = [(index, views[(i + 1) * per_entry - 1]) for i, index in enumerate(indexes)]
    return columns + [np.concatenate(grads, axis=None)], coefficients, written


def _run_in_place(loop: Any, in_place: list, results: list[Any]) -> None:
    """Runs each (arrays: the variable's and slots' and the gradient, coefficients, [(index, result)])
    of `in_place`, the loop writing into the arrays it reads, and puts the results at their indexes;
    the caller holds `_launch_lock`."""
    for arrays, (before, after), written in in_place:
        _launch(loop, arrays, before, after, arrays[1:-1] + arrays[:1])
        for index, value in written:
            results[index] = value


def _flat_names(key: tuple) -> tuple[str, ...]:
    """The names of `key`'s variables and slots in the order of the packed loop's views."""
    return tuple([name for var, *slots in key for name in (*slots, var)])


def _new_arrays(shape: tuple, count: int) -> tuple[list[Any], list[Any]]:
    """`count` new float32 arrays of `shape` for a variable and its slots (the variable's first), and
    their flat views in the order a loop writes them (the slots', then the variable's)."""
    new = [np.empty(shape, _F32) for _ in range(count)]
    return new, [a.reshape(-1) for a in new[1:] + new[:1]]


def _launch(loop: Any, arrays: list[Any], before: tuple, after: tuple, outputs: list[Any]) -> None:
    """An update loop on `arrays` (the variable, its slots, the gradient last) writing into `outputs`
    (the new slots, then the new variable), on the threads `_threads_for` gives for the arrays it
    reads; the caller holds `_launch_lock`."""
    loops._use_threads(loops._threads_for(arrays))
    loop(*arrays[:-1], *before, arrays[-1], *after, *outputs)


def _gradient_descent_coefficients(scalars: tuple, attrs: dict) -> tuple[tuple, tuple]:
    """var - alpha * delta."""
    (alpha,) = scalars
    return (alpha[()],), ()


def _momentum_coefficients(scalars: tuple, attrs: dict) -> tuple[tuple, tuple]:
    """accum = accum * momentum + grad; var -= lr * accum (Nesterov: accum * momentum * lr + grad * lr)."""
    lr, momentum = scalars
    return (lr[()],), (momentum[()], np.float32(momentum * lr), bool(attrs["use_nesterov"]))


def _adam_coefficients(scalars: tuple, attrs: dict) -> tuple[tuple, tuple]:
    """m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2);
    var -= lr sqrt(1 - beta2_power) / (1 - beta1_power) * m / (sqrt(v) + epsilon): the loop computes
    the coefficients from the scalars."""
    return tuple([s[()] for s in scalars]), (bool(attrs["use_nesterov"]),)


def _rms_prop_coefficients(scalars: tuple, attrs: dict) -> tuple[tuple, tuple]:
    """ms += (g^2 - ms)(1 - rho); mom = mom * momentum + lr g / sqrt(ms + epsilon); var -= mom."""
    lr, rho, momentum, epsilon = scalars
    return (lr[()], np.float32(1 - rho), momentum[()], epsilon[()]), ()


def _write(ctx: Any, names: tuple[str, ...], new: list[Any]) -> Any:
    """Writes the new slot values (`new[1:]`), then the new variable value (`new[0]`), in the order the
    NumPy variants write; returns the variable's."""
    for name, value in zip(names[1:], new[1:], strict=True):
        ctx.write(name, value)
    ctx.write(names[0], new[0])
    return new[0]


_UPDATES = (
    _Update("ApplyGradientDescent", "gradient_descent_update", 1, (), _gradient_descent_coefficients),
    _Update("ApplyMomentum", "momentum_update", 1, ("use_nesterov",), _momentum_coefficients),
    _Update("ApplyAdam", "adam_update", 6, ("use_nesterov",), _adam_coefficients),
    _Update("ApplyRMSProp", "rms_prop_update", 4, (), _rms_prop_coefficients),
)

VARIANTS: dict[str, Callable] = {u.op_type: loops._guarded(u.apply, u.numpy_kernel) for u in _UPDATES}
# Kernels a plan runs for a run of nodes of one op (OpDef.group_variants).
GROUP_VARIANTS: dict[str, Callable] = {u.op_type: loops._guarded(u.apply_group, loops._one_by_one(u.numpy_kernel))
                                       for u in _UPDATES}
