"""`tf.map_fn`, `tf.scan`, `tf.foldl` and `tf.foldr` as TF1 builds them: one `tf.while_loop` over
TensorArrays.

Each unstacks its (possibly nested) `elems` along the first axis into TensorArrays,
runs a while loop that reads element `i`, calls `fn` and, for map_fn and scan,
writes the result into output TensorArrays, which are stacked afterwards. The loop
carries TF's `maximum_iterations` counter, so graphs have TF's node names
(`map/while/...`, `scan/TensorArrayStack/...`). Gradients are the loop's
gradient through the TensorArray ops; `back_prop=False` gives none.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import Dimension, TensorShape, dimension_value
from caudal.ops.tensor_array_ops import TensorArray
from caudal.ops.while_ops import while_loop
from caudal.util import nest

__all__ = ["map_fn", "scan", "foldl", "foldr"]


def _check_callable(fn: Any, what: str) -> None:
    if not callable(fn):
        raise TypeError(f"{what}: `fn` must be callable, but got {fn!r} of type {type(fn).__name__}.")


def _length(elems_flat: list[Tensor]) -> Any:
    """The number of elements: the static first dimension of the first input, or its run-time size."""
    from caudal.ops.array_ops import shape

    first = elems_flat[0]
    n = dimension_value(first.shape[0]) if first.shape.ndims else None
    return n if n is not None else shape(first)[0]


def _static_length(elems_flat: list[Tensor]) -> Dimension:
    """The first dimension all inputs share (ValueError when two known ones differ)."""
    n = Dimension(dimension_value(elems_flat[0].shape.with_rank_at_least(1)[0]))
    for t in elems_flat[1:]:
        n.assert_is_compatible_with(Dimension(dimension_value(t.shape.with_rank_at_least(1)[0])))
    return n


def _unstacked(elem: Tensor, n: Any, element_shape: Any = None) -> TensorArray:
    return TensorArray(elem.dtype, size=n, dynamic_size=False, infer_shape=True,
                       element_shape=element_shape).unstack(elem)


def map_fn(fn: Callable, elems: Any, dtype: Any = None, parallel_iterations: int | None = None,
           back_prop: bool = True, swap_memory: bool = False, infer_shape: bool = True, name: str | None = None,
           fn_output_signature: Any = None) -> Any:
    """TF1's `tf.map_fn`: `fn` applied to the slices of `elems` along axis 0, the results stacked.

    `elems` is a tensor or a nested structure of tensors with the same first dimension; `fn`
    takes one slice of that structure. Its result has the structure and dtypes of `elems`
    unless `dtype` (or `fn_output_signature`) gives others (a dtype or a structure of dtypes).
    """
    _check_callable(fn, "map_fn")
    signature = dtype if fn_output_signature is None else fn_output_signature
    parallel_iterations = parallel_iterations or 10
    elems_flat = nest.flatten(elems)
    if not elems_flat:
        raise ValueError(f"elems must be a Tensor or (possibly nested) sequence of Tensors. Got {elems}, which does "
                         "not contain any Tensors.")
    graph = get_default_graph()
    with graph.name_scope(name or "map"):
        elems_flat = [convert_to_tensor(e, name="elem") for e in elems_flat]
        if elems_flat[0].shape.ndims == 0:
            raise ValueError("Elements in elems must be 1+ dimensional Tensors, not scalars")
        n_static = _static_length(elems_flat)
        n = n_static.value if n_static.value is not None else _length(elems_flat)
        inputs = [_unstacked(e, n) for e in elems_flat]
        if signature is None:
            out_dtypes = [e.dtype for e in elems_flat]
            out_structure = elems
        else:
            out_dtypes = [dtypes_lib.as_dtype(d).base_dtype for d in nest.flatten(signature)]
            out_structure = signature
        from caudal.ops.constant_ops import constant

        i = constant(0)
        outputs = [TensorArray(d, size=n, dynamic_size=False, infer_shape=infer_shape) for d in out_dtypes]

        def compute(i: Tensor, arrays: list[TensorArray]) -> tuple:
            value = nest.pack_sequence_as(elems, [ta.read(i) for ta in inputs])
            result = fn(value)
            nest.assert_same_structure(out_structure, result)
            arrays = [ta.write(i, r) for ta, r in zip(arrays, nest.flatten(result))]
            return i + 1, arrays

        _, arrays = while_loop(lambda i, _: i < n, compute, (i, outputs), parallel_iterations=parallel_iterations,
                               back_prop=back_prop, swap_memory=swap_memory, maximum_iterations=n)
        results = [ta.stack() for ta in arrays]
        for r in results:
            r.set_shape(TensorShape([n_static]).concatenate(r.shape[1:]))
        return nest.pack_sequence_as(out_structure, results)


def scan(fn: Callable, elems: Any, initializer: Any = None, parallel_iterations: int = 10, back_prop: bool = True,
         swap_memory: bool = False, infer_shape: bool = True, reverse: bool = False, name: str | None = None) -> Any:
    """TF1's `tf.scan`: the running results of `a = fn(a, x)` over the slices `x` of `elems`.

    Without `initializer` the first slice starts the accumulator (and is the first result);
    `reverse` scans from the last slice to the first. `elems` and `initializer` may be nested
    structures; the result has the structure of the accumulator.
    """
    _check_callable(fn, "scan")
    in_nested = nest.is_sequence(elems)
    elems_flat = nest.flatten(elems) if in_nested else [elems]

    def pack_input(values: list) -> Any:
        return nest.pack_sequence_as(elems, values) if in_nested else values[0]

    template = elems if initializer is None else initializer
    out_nested = nest.is_sequence(template)

    def flatten_output(value: Any) -> list:
        return nest.flatten(value) if out_nested else [value]

    def pack_output(values: list) -> Any:
        return nest.pack_sequence_as(template, values) if out_nested else values[0]

    graph = get_default_graph()
    with graph.name_scope(name or "scan"):
        elems_flat = [convert_to_tensor(e, name="elem") for e in elems_flat]
        n = _length(elems_flat)
        inputs = [_unstacked(e, n, e.shape[1:] if e.shape.ndims else None) for e in elems_flat]
        if initializer is None:
            accumulators = [ta.read(n - 1 if reverse else 0) for ta in inputs]
            start = 1
        else:
            accumulators = [convert_to_tensor(a) for a in flatten_output(initializer)]
            start = 0
        outputs = [TensorArray(a.dtype, size=n, element_shape=a.shape if infer_shape else None, dynamic_size=False,
                               infer_shape=infer_shape) for a in accumulators]
        if initializer is None:
            outputs = [ta.write(n - 1 if reverse else 0, a) for ta, a in zip(outputs, accumulators)]

        def compute(i: Tensor, accumulated: list, arrays: list[TensorArray]) -> tuple:
            x = pack_input([ta.read(i) for ta in inputs])
            result = fn(pack_output(accumulated), x)
            nest.assert_same_structure(template, result)
            flat = flatten_output(result)
            arrays = [ta.write(i, r) for ta, r in zip(arrays, flat)]
            return (i - 1 if reverse else i + 1), flat, arrays

        if reverse:
            first = n - 1 - start

            def cond(i: Tensor, *_: Any) -> Tensor:
                return i >= 0
        else:
            first = start

            def cond(i: Tensor, *_: Any) -> Tensor:
                return i < n
        _, _, arrays = while_loop(cond, compute, (first, accumulators, outputs),
                                  parallel_iterations=parallel_iterations, back_prop=back_prop,
                                  swap_memory=swap_memory, maximum_iterations=n)
        results = [ta.stack() for ta in arrays]
        n_static = _static_length(elems_flat)
        for r in results:
            r.set_shape(TensorShape([n_static]).concatenate(r.shape[1:]))
        return pack_output(results)


def _fold(fn: Callable, elems: Any, initializer: Any, parallel_iterations: int, back_prop: bool, swap_memory: bool,
          name: str | None, default_name: str, from_right: bool) -> Any:
    """foldl and foldr: `a = fn(a, x)` over the slices of `elems`, first to last or last to first."""
    _check_callable(fn, default_name)
    graph = get_default_graph()
    with graph.name_scope(name or default_name):
        elems_flat = [convert_to_tensor(e, name="elem") for e in nest.flatten(elems)]
        n = _length(elems_flat)
        arrays = nest.pack_sequence_as(elems, [_unstacked(e, n) for e in elems_flat])
        from caudal.ops.constant_ops import constant

        def read(i: Any) -> Any:
            return nest.map_structure(lambda ta: ta.read(i), arrays)

        if from_right:
            if initializer is None:
                i = n - 1
                a = read(i)
            else:
                i, a = n, initializer

            def compute(i: Tensor, a: Any) -> list:
                i -= 1
                return [i, fn(a, read(i))]

            def cond(i: Tensor, a: Any) -> Tensor:
                return i > 0
        else:
            if initializer is None:
                a, i = read(0), constant(1)
            else:
                a, i = initializer, constant(0)

            def compute(i: Tensor, a: Any) -> list:
                a = fn(a, read(i))
                return [i + 1, a]

            def cond(i: Tensor, a: Any) -> Tensor:
                return i < n
        _, result = while_loop(cond, compute, [i, a], parallel_iterations=parallel_iterations, back_prop=back_prop,
                               swap_memory=swap_memory, maximum_iterations=n)
        return result


def foldl(fn: Callable, elems: Any, initializer: Any = None, parallel_iterations: int = 10, back_prop: bool = True,
          swap_memory: bool = False, name: str | None = None) -> Any:
    """TF1's `tf.foldl`: `a = fn(a, x)` over the slices `x` of `elems` along axis 0, first to last;
    returns the final `a`. Without `initializer` the first slice is the start value."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name, "foldl", False)


def foldr(fn: Callable, elems: Any, initializer: Any = None, parallel_iterations: int = 10, back_prop: bool = True,
          swap_memory: bool = False, name: str | None = None) -> Any:
    """TF1's `tf.foldr`: `a = fn(a, x)` over the slices of `elems` from last to first; returns the
    final `a`. Without `initializer` the last slice is the start value."""
    return _fold(fn, elems, initializer, parallel_iterations, back_prop, swap_memory, name, "foldr", True)
