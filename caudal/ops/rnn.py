"""TF1's RNN drivers: `tf.nn.dynamic_rnn`, `bidirectional_dynamic_rnn`, `raw_rnn`, `static_rnn`,
`static_bidirectional_rnn`, built as TensorFlow 1.x builds them.

`dynamic_rnn` is a `tf.while_loop` over time: the inputs (time major) are unstacked into
TensorArrays, each iteration reads step `t`, runs the cell and writes its output, and the
outputs are stacked after the loop. With `sequence_length`, a batch entry past its length gets
a zero output and keeps its last state (TF's `_rnn_step` with Selects), and the loop stops at
the longest length. `static_rnn` calls the cell once per element of a Python list, sharing the
variables; with `sequence_length`, each step is TF's pair of conds. Every op is an ordinary op,
so gradients come from the ops' own gradients and the loop's (`caudal.ops.while_grad`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, as_shape, dimension_value
from caudal.ops.rnn_cell_impl import _concat, assert_like_rnncell
from caudal.util import nest
from caudal.variable_scope import variable_scope

__all__ = ["dynamic_rnn", "bidirectional_dynamic_rnn", "raw_rnn", "static_rnn", "static_bidirectional_rnn",
           "static_state_saving_rnn"]


def _is_tensor_array(value: Any) -> bool:
    return getattr(value, "_is_caudal_tensor_array", False)


def _transpose_batch_time(x: Tensor) -> Tensor:
    """Swaps the first two axes of `x` (batch major <-> time major); rank < 2 stays as it is."""
    from caudal.ops.array_ops import concat, rank, transpose
    from caudal.ops.array_ops import range as range_

    static = x.shape
    if static.ndims is not None and static.ndims < 2:
        return x
    x_t = transpose(x, concat(([1, 0], range_(2, rank(x))), axis=0))
    dims = static.as_list() if static.ndims is not None else None
    if dims is not None:
        x_t.set_shape(TensorShape([dims[1], dims[0]] + dims[2:]))
    else:
        x_t.set_shape(TensorShape(None))
    return x_t


def _best_effort_input_batch_size(flat_input: list[Tensor]) -> Any:
    """The batch size (axis 1 of time-major inputs): a Python int where known, else a tensor."""
    from caudal.ops.array_ops import shape

    for input_ in flat_input:
        static = input_.shape
        if static.ndims is None:
            continue
        if static.ndims < 2:
            raise ValueError(f"Input tensor should have rank >= 2. Received input={input_} of rank {static.ndims}")
        batch_size = static[1].value
        if batch_size is not None:
            return batch_size
    return shape(flat_input[0])[1]


def _infer_state_dtype(explicit_dtype: Any, state: Any) -> Any:
    if explicit_dtype is not None:
        return explicit_dtype
    if nest.is_sequence(state):
        inferred = [element.dtype for element in nest.flatten(state)]
        if not inferred:
            raise ValueError(f"Unable to infer dtype from argument state={state}.")
        if not all(d == inferred[0] for d in inferred):
            raise ValueError(f"Argument state={state} has tensors of different inferred dtypes. Unable to infer a "
                             f"single representative dtype. Dtypes received: {inferred}")
        return inferred[0]
    return state.dtype


def _maybe_tensor_shape_from_tensor(shape: Any) -> Any:
    if isinstance(shape, Tensor):
        from caudal.framework.constant_value import constant_value

        return as_shape(constant_value(shape))
    return shape


def _check_sequence_length_batch(sequence_length: Tensor, zero_output: Any) -> None:
    """TF finds a static `sequence_length` of the wrong batch size in the Select of the first
    step; this reports the same shape error where it is detected, at the driver's call."""
    length = sequence_length.shape[0].value if sequence_length.shape.ndims == 1 else None
    for zero in nest.flatten(zero_output):
        batch = zero.shape[0].value if zero.shape.ndims else None
        if length is not None and batch is not None and length != batch:
            raise ValueError(f"Dimension 0 in both shapes must be equal, but are {length} and {batch}. Shapes are "
                             f"[{length}] and [{batch}].")


def _rnn_step(time: Any, sequence_length: Tensor, min_sequence_length: Tensor, max_sequence_length: Tensor,
              zero_output: Any, state: Any, call_cell: Callable, state_size: Any,
              skip_conditionals: bool = False) -> tuple[Any, Any]:
    """One step of a sequence-length-aware RNN (TF's `_rnn_step`): past an entry's length, its
    output is zero and its state is copied through. Without `skip_conditionals`, conds skip the
    cell when every entry is done and the Selects when none is."""
    from caudal.ops.comparison_ops import greater_equal, less, where
    from caudal.ops.cond_ops import cond

    flat_state = nest.flatten(state)
    flat_zero_output = nest.flatten(zero_output)
    copy_cond = greater_equal(time, sequence_length)

    def copy_one_through(output: Any, new_output: Any) -> Any:
        if _is_tensor_array(output) or output.shape.ndims == 0:
            return new_output
        return where(copy_cond, output, new_output)

    def copy_some_through(flat_new_output: list, flat_new_state: list) -> list:
        return ([copy_one_through(z, n) for z, n in zip(flat_zero_output, flat_new_output)]
                + [copy_one_through(s, n) for s, n in zip(flat_state, flat_new_state)])

    def call_and_check() -> tuple[list, list]:
        new_output, new_state = call_cell()
        nest.assert_same_structure(zero_output, new_output)
        nest.assert_same_structure(state, new_state)
        return nest.flatten(new_output), nest.flatten(new_state)

    def maybe_copy_some_through() -> list:
        flat_new_output, flat_new_state = call_and_check()
        return cond(less(time, min_sequence_length), lambda: flat_new_output + flat_new_state,
                    lambda: copy_some_through(flat_new_output, flat_new_state))

    if skip_conditionals:
        flat_new_output, flat_new_state = call_and_check()
        final = copy_some_through(flat_new_output, flat_new_state)
    else:
        final = cond(greater_equal(time, max_sequence_length), lambda: flat_zero_output + flat_state,
                     maybe_copy_some_through)
    if len(final) != len(flat_zero_output) + len(flat_state):
        raise ValueError("Internal error: state and output were not concatenated correctly.")
    final_output = final[:len(flat_zero_output)]
    final_state = final[len(flat_zero_output):]
    for output, zero in zip(final_output, flat_zero_output):
        output.set_shape(zero.shape)
    for substate, old in zip(final_state, flat_state):
        if not _is_tensor_array(substate):
            substate.set_shape(old.shape)
    return (nest.pack_sequence_as(zero_output, final_output), nest.pack_sequence_as(state, final_state))


def _reverse_seq(input_seq: list, lengths: Any) -> list:
    """A list of (nested) time steps reversed, each batch entry within its own length."""
    from caudal.ops.array_ops import stack, unstack
    from caudal.ops.sequence_ops import reverse_sequence

    if lengths is None:
        return list(reversed(input_seq))
    flat_input_seq = tuple(nest.flatten(input_) for input_ in input_seq)
    flat_results: list[list] = [[] for _ in range(len(input_seq))]
    for sequence in zip(*flat_input_seq):
        input_shape = TensorShape(None) if sequence[0].shape.ndims is None else \
            TensorShape([None] * sequence[0].shape.ndims)
        for input_ in sequence:
            input_shape.assert_is_compatible_with(input_.shape)
            input_.set_shape(input_shape)
        reversed_steps = unstack(reverse_sequence(stack(sequence), lengths, 0, 1))
        for r, flat_result in zip(reversed_steps, flat_results):
            r.set_shape(input_shape)
            flat_result.append(r)
    return [nest.pack_sequence_as(input_, flat) for input_, flat in zip(input_seq, flat_results)]


def _initial_state(cell: Any, initial_state: Any, batch_size: Any, dtype: Any) -> Any:
    if initial_state is not None:
        return initial_state
    if not dtype:
        raise ValueError("If no initial_state is provided, argument `dtype` must be specified")
    if getattr(cell, "get_initial_state", None) is not None:
        return cell.get_initial_state(inputs=None, batch_size=batch_size, dtype=dtype)
    return cell.zero_state(batch_size, dtype)


# ------------------------------------------------------------- dynamic_rnn
def dynamic_rnn(cell: Any, inputs: Any, sequence_length: Any = None, initial_state: Any = None, dtype: Any = None,
                parallel_iterations: int | None = None, swap_memory: bool = False, time_major: bool = False,
                scope: Any = None) -> tuple[Any, Any]:
    """TF1's `tf.nn.dynamic_rnn`: runs `cell` over the time axis of `inputs` in a while loop.

    `inputs` is a tensor (or nested tuple of tensors) `[batch, time, ...]`, or `[time, batch, ...]`
    with `time_major`. Returns `(outputs, final_state)`, outputs in the same major order. With
    `sequence_length` (a `[batch]` vector), outputs past each entry's length are zero and its
    state stays the one at its last step. `parallel_iterations` and `swap_memory` are accepted
    (iterations run one after another). Variables live in the scope `scope` (default "rnn").
    """
    from caudal.ops.array_ops import shape, stack
    from caudal.ops.comparison_ops import equal
    from caudal.ops.cond_ops import Assert
    from caudal.ops.control_ops import identity
    from caudal.ops.math_ops import cast
    from caudal.ops.reduction_ops import reduce_all

    assert_like_rnncell("cell", cell)
    graph = get_default_graph()
    with variable_scope(scope or "rnn"):
        flat_input = nest.flatten(inputs)
        if not time_major:
            flat_input = [convert_to_tensor(input_) for input_ in flat_input]
            flat_input = tuple(_transpose_batch_time(input_) for input_ in flat_input)
        parallel_iterations = parallel_iterations or 32
        if sequence_length is not None:
            sequence_length = cast(sequence_length, dtypes_lib.int32)
            if sequence_length.shape.ndims not in (None, 1):
                raise ValueError("Argument sequence_length must be a vector of length batch_size. Received "
                                 f"sequence_length={sequence_length} of shape: {sequence_length.shape}")
            sequence_length = identity(sequence_length, name="sequence_length")
        batch_size = _best_effort_input_batch_size(flat_input)
        state = _initial_state(cell, initial_state, batch_size, dtype)
        if sequence_length is not None:
            x_shape = shape(sequence_length)
            packed_shape = stack([batch_size])
            check = Assert(reduce_all(equal(x_shape, packed_shape)),
                           [f"Expected shape for Tensor {sequence_length.name} is ", packed_shape,
                            " but saw shape: ", x_shape])
            with graph.control_dependencies([check]):
                sequence_length = identity(sequence_length, name="CheckSeqLen")
        inputs = nest.pack_sequence_as(inputs, flat_input)
        outputs, final_state = _dynamic_rnn_loop(cell, inputs, state, parallel_iterations=parallel_iterations,
                                                 swap_memory=swap_memory, sequence_length=sequence_length,
                                                 dtype=dtype)
        if not time_major:
            outputs = nest.map_structure(_transpose_batch_time, outputs)
        return outputs, final_state


def _dynamic_rnn_loop(cell: Any, inputs: Any, initial_state: Any, parallel_iterations: int, swap_memory: bool,
                      sequence_length: Tensor | None = None, dtype: Any = None) -> tuple[Any, Any]:
    """The loop of dynamic_rnn over time-major `inputs` (TF's `_dynamic_rnn_loop`)."""
    from caudal.ops.array_ops import shape
    from caudal.ops.comparison_ops import less
    from caudal.ops.constant_ops import constant, zeros
    from caudal.ops.math_ops import maximum, minimum
    from caudal.ops.reduction_ops import reduce_max, reduce_min
    from caudal.ops.tensor_array_ops import TensorArray
    from caudal.ops.while_ops import while_loop

    state = initial_state
    state_size = cell.state_size
    flat_input = nest.flatten(inputs)
    flat_output_size = nest.flatten(cell.output_size)
    time_steps = shape(flat_input[0])[0]
    batch_size = _best_effort_input_batch_size(flat_input)
    inputs_got_shape = tuple(input_.shape.with_rank_at_least(3) for input_ in flat_input)
    const_time_steps, const_batch_size = inputs_got_shape[0].as_list()[:2]
    for input_, got in zip(flat_input, inputs_got_shape):
        if not got[2:].is_fully_defined():
            raise ValueError("Input size (depth of inputs) must be accessible via shape inference, but saw value "
                             f"None for input={input_}.")
        if const_time_steps != got[0].value:
            raise ValueError("Time steps is not the same for all the elements in the input in a batch. Received "
                             f"time steps={got[0].value} for input={input_}.")
        if const_batch_size != got[1].value:
            raise ValueError("Batch_size is not the same for all the elements in the input. Received batch "
                             f"size={got[1].value} for input={input_}.")

    def create_zero_arrays(size: Any) -> Tensor:
        return zeros(_concat(batch_size, size), _infer_state_dtype(dtype, state))

    flat_zero_output = tuple(create_zero_arrays(output) for output in flat_output_size)
    zero_output = nest.pack_sequence_as(cell.output_size, flat_zero_output)
    if sequence_length is not None:
        _check_sequence_length_batch(sequence_length, zero_output)
        min_sequence_length = reduce_min(sequence_length)
        max_sequence_length = reduce_max(sequence_length)
    else:
        max_sequence_length = time_steps
    time = constant(0, dtype=dtypes_lib.int32, name="time")
    graph = get_default_graph()
    with graph.name_scope("dynamic_rnn") as base_name:
        pass

    def create_ta(name: str, element_shape: Any, ta_dtype: Any) -> Any:
        return TensorArray(dtype=ta_dtype, size=time_steps, element_shape=element_shape,
                           tensor_array_name=base_name + name)

    output_ta = tuple(
        create_ta(f"output_{i}", TensorShape([const_batch_size]).concatenate(
            as_shape(_maybe_tensor_shape_from_tensor(out_size))), _infer_state_dtype(dtype, state))
        for i, out_size in enumerate(flat_output_size))
    input_ta = tuple(create_ta(f"input_{i}", input_.shape[1:], input_.dtype) for i, input_ in enumerate(flat_input))
    input_ta = tuple(ta.unstack(input_) for ta, input_ in zip(input_ta, flat_input))

    def time_step(time: Tensor, output_ta_t: tuple, state: Any) -> tuple:
        input_t = tuple(ta.read(time) for ta in input_ta)
        for input_, got in zip(input_t, inputs_got_shape):
            input_.set_shape(got[1:])
        input_t = nest.pack_sequence_as(inputs, input_t)

        def call_cell() -> Any:
            return cell(input_t, state)

        if sequence_length is not None:
            output, new_state = _rnn_step(time=time, sequence_length=sequence_length,
                                          min_sequence_length=min_sequence_length,
                                          max_sequence_length=max_sequence_length, zero_output=zero_output,
                                          state=state, call_cell=call_cell, state_size=state_size,
                                          skip_conditionals=True)
        else:
            output, new_state = call_cell()
        output = nest.flatten(output)
        output_ta_t = tuple(ta.write(time, out) for ta, out in zip(output_ta_t, output))
        return (time + 1, output_ta_t, new_state)

    loop_bound = minimum(time_steps, maximum(1, max_sequence_length))
    _, output_final_ta, final_state = while_loop(
        cond=lambda time, *_: less(time, loop_bound), body=time_step, loop_vars=(time, output_ta, state),
        parallel_iterations=parallel_iterations, maximum_iterations=time_steps, swap_memory=swap_memory)
    final_outputs = tuple(ta.stack() for ta in output_final_ta)
    for output, output_size in zip(final_outputs, flat_output_size):
        static = _concat([const_time_steps, const_batch_size], output_size, static=True)
        output.set_shape(TensorShape(static))
    return nest.pack_sequence_as(cell.output_size, final_outputs), final_state


def bidirectional_dynamic_rnn(cell_fw: Any, cell_bw: Any, inputs: Any, sequence_length: Any = None,
                              initial_state_fw: Any = None, initial_state_bw: Any = None, dtype: Any = None,
                              parallel_iterations: int | None = None, swap_memory: bool = False,
                              time_major: bool = False, scope: Any = None) -> tuple[Any, Any]:
    """TF1's `tf.nn.bidirectional_dynamic_rnn`: a forward dynamic_rnn (scope `fw`) and one over the
    inputs reversed within each sequence length (scope `bw`), whose outputs are reversed back.
    Returns `((output_fw, output_bw), (output_state_fw, output_state_bw))`."""
    from caudal.ops.manip_ops import reverse
    from caudal.ops.sequence_ops import reverse_sequence

    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    time_axis, batch_axis = (0, 1) if time_major else (1, 0)

    def reverse_time(input_: Any, seq_lengths: Any) -> Tensor:
        if seq_lengths is not None:
            return reverse_sequence(input=input_, seq_lengths=seq_lengths, seq_axis=time_axis, batch_axis=batch_axis)
        return reverse(input_, axis=[time_axis])

    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, output_state_fw = dynamic_rnn(cell_fw, inputs, sequence_length=sequence_length,
                                                     initial_state=initial_state_fw, dtype=dtype,
                                                     parallel_iterations=parallel_iterations,
                                                     swap_memory=swap_memory, time_major=time_major, scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            inputs_reverse = nest.map_structure(lambda x: reverse_time(x, sequence_length), inputs)
            tmp, output_state_bw = dynamic_rnn(cell_bw, inputs_reverse, sequence_length=sequence_length,
                                               initial_state=initial_state_bw, dtype=dtype,
                                               parallel_iterations=parallel_iterations, swap_memory=swap_memory,
                                               time_major=time_major, scope=bw_scope)
    output_bw = reverse_time(tmp, sequence_length)
    return (output_fw, output_bw), (output_state_fw, output_state_bw)


# ----------------------------------------------------------------- raw_rnn
def raw_rnn(cell: Any, loop_fn: Callable, parallel_iterations: int | None = None, swap_memory: bool = False,
            scope: Any = None) -> tuple[Any, Any, Any]:
    """TF1's `tf.nn.raw_rnn`: a while loop whose inputs, finishing and emitted values come from
    `loop_fn(time, cell_output, cell_state, loop_state)`. Returns `(emit_ta, final_state,
    final_loop_state)`; `emit_ta` holds TensorArrays of the emitted values."""
    from caudal.framework.tensor_shape import Dimension
    from caudal.ops.array_ops import shape
    from caudal.ops.comparison_ops import logical_not, logical_or, where
    from caudal.ops.constant_ops import constant, zeros
    from caudal.ops.reduction_ops import reduce_all
    from caudal.ops.tensor_array_ops import TensorArray
    from caudal.ops.while_ops import while_loop

    assert_like_rnncell("cell", cell)
    if not callable(loop_fn):
        raise TypeError(f"Argument `loop_fn` must be a callable. Received: {loop_fn}.")
    parallel_iterations = parallel_iterations or 32
    with variable_scope(scope or "rnn"):
        time = constant(0, dtype=dtypes_lib.int32)
        elements_finished, next_input, initial_state, emit_structure, init_loop_state = loop_fn(time, None, None, None)
        flat_input = nest.flatten(next_input)
        loop_state = init_loop_state if init_loop_state is not None else constant(0, dtype=dtypes_lib.int32)
        input_shapes = [input_.shape for input_ in flat_input]
        static_batch = input_shapes[0][0] if input_shapes[0].ndims else Dimension(None)
        for input_shape in input_shapes:
            static_batch.assert_is_compatible_with(input_shape[0] if input_shape.ndims else Dimension(None))
        batch_size: Any = dimension_value(static_batch)
        const_batch_size = batch_size
        if batch_size is None:
            batch_size = shape(flat_input[0])[0]
        nest.assert_same_structure(initial_state, cell.state_size)
        state = nest.pack_sequence_as(initial_state, [convert_to_tensor(s) for s in nest.flatten(initial_state)])
        flat_state = nest.flatten(state)
        if emit_structure is not None:
            flat_emit_structure = nest.flatten(emit_structure)
            flat_emit_size = [emit.shape if emit.shape.is_fully_defined() else shape(emit)
                              for emit in flat_emit_structure]
            flat_emit_dtypes = [emit.dtype for emit in flat_emit_structure]
        else:
            emit_structure = cell.output_size
            flat_emit_size = nest.flatten(emit_structure)
            flat_emit_dtypes = [flat_state[0].dtype] * len(flat_emit_size)
        flat_emit_ta = [
            TensorArray(dtype=dtype_i, dynamic_size=True, size=0, name=f"rnn_output_{i}",
                        element_shape=TensorShape([const_batch_size]).concatenate(
                            as_shape(_maybe_tensor_shape_from_tensor(size_i))))
            for i, (dtype_i, size_i) in enumerate(zip(flat_emit_dtypes, flat_emit_size))]
        emit_ta = nest.pack_sequence_as(emit_structure, flat_emit_ta)
        flat_zero_emit = [zeros(_concat(batch_size, size_i), dtype_i)
                          for size_i, dtype_i in zip(flat_emit_size, flat_emit_dtypes)]
        zero_emit = nest.pack_sequence_as(emit_structure, flat_zero_emit)

        def condition(unused_time: Any, elements_finished: Tensor, *_: Any) -> Tensor:
            return logical_not(reduce_all(elements_finished))

        def body(time: Tensor, elements_finished: Tensor, current_input: Any, emit_ta: Any, state: Any,
                 loop_state: Any) -> tuple:
            next_output, cell_state = cell(current_input, state)
            nest.assert_same_structure(state, cell_state)
            nest.assert_same_structure(cell.output_size, next_output)
            next_time = time + 1
            next_finished, next_input, next_state, emit_output, next_loop_state = loop_fn(
                next_time, next_output, cell_state, loop_state)
            nest.assert_same_structure(state, next_state)
            nest.assert_same_structure(current_input, next_input)
            nest.assert_same_structure(emit_ta, emit_output)
            loop_state = loop_state if next_loop_state is None else next_loop_state

            def copy_some_through(current: Any, candidate: Any) -> Any:
                def copy_fn(cur_i: Any, cand_i: Any) -> Any:
                    if _is_tensor_array(cur_i) or cur_i.shape.ndims == 0:
                        return cand_i
                    return where(elements_finished, cur_i, cand_i)

                return nest.map_structure(copy_fn, current, candidate)

            emit_output = copy_some_through(zero_emit, emit_output)
            next_state = copy_some_through(state, next_state)
            emit_ta = nest.map_structure(lambda ta, emit: ta.write(time, emit), emit_ta, emit_output)
            elements_finished = logical_or(elements_finished, next_finished)
            return (next_time, elements_finished, next_input, emit_ta, next_state, loop_state)

        returned = while_loop(condition, body,
                              loop_vars=[time, elements_finished, next_input, emit_ta, state, loop_state],
                              parallel_iterations=parallel_iterations, swap_memory=swap_memory)
        emit_ta, final_state, final_loop_state = returned[-3:]
        if init_loop_state is None:
            final_loop_state = None
        return emit_ta, final_state, final_loop_state


# -------------------------------------------------------------- static_rnn
def static_rnn(cell: Any, inputs: Any, initial_state: Any = None, dtype: Any = None, sequence_length: Any = None,
               scope: Any = None) -> tuple[list, Any]:
    """TF1's `tf.nn.static_rnn`: the cell applied to each element of the list `inputs` (each
    `[batch, ...]`), unrolled in the graph. Returns `(outputs, state)`, outputs a list. With
    `sequence_length`, outputs past each length are zero and the state is copied through."""
    from caudal.ops.array_ops import shape
    from caudal.ops.constant_ops import zeros
    from caudal.ops.math_ops import cast
    from caudal.ops.reduction_ops import reduce_max, reduce_min

    assert_like_rnncell("cell", cell)
    if not nest.is_sequence(inputs):
        raise TypeError(f"Argument `inputs` must be a sequence. Received: {inputs}")
    if not inputs:
        raise ValueError("Argument `inputs` must not be empty.")
    outputs = []
    with variable_scope(scope or "rnn") as varscope:
        first_input = inputs
        while nest.is_sequence(first_input):
            first_input = first_input[0]
        if first_input.shape.ndims != 1:
            input_shape = first_input.shape.with_rank_at_least(2)
            fixed_batch_size = input_shape[0]
            for flat_input in nest.flatten(inputs):
                input_shape = flat_input.shape.with_rank_at_least(2)
                fixed_batch_size.assert_is_compatible_with(input_shape[0])
                for i, size in enumerate(input_shape[1:].dims):
                    if dimension_value(size) is None:
                        raise ValueError(f"Input size (dimension {i} of input {flat_input}) must be accessible via "
                                         "shape inference, but saw value None.")
        else:
            fixed_batch_size = first_input.shape.with_rank_at_least(1)[0]
        batch_size: Any = dimension_value(fixed_batch_size)
        if not batch_size:
            batch_size = shape(first_input)[0]
        state = _initial_state(cell, initial_state, batch_size, dtype)
        if sequence_length is not None:
            sequence_length = convert_to_tensor(sequence_length, name="sequence_length")
            if sequence_length.shape.ndims not in (None, 1):
                raise ValueError(f"Argument `sequence_length` must be a vector of length {batch_size}. Received "
                                 f"sequence_length={sequence_length}.")

            def create_zero_output(output_size: Any) -> Tensor:
                output = zeros(_concat(batch_size, output_size), _infer_state_dtype(dtype, state))
                output.set_shape(TensorShape(_concat(dimension_value(fixed_batch_size), output_size, static=True)))
                return output

            flat_zero_output = tuple(create_zero_output(size) for size in nest.flatten(cell.output_size))
            zero_output = nest.pack_sequence_as(cell.output_size, flat_zero_output)
            sequence_length = cast(sequence_length, dtypes_lib.int32)
            _check_sequence_length_batch(sequence_length, zero_output)
            min_sequence_length = reduce_min(sequence_length)
            max_sequence_length = reduce_max(sequence_length)
        for time, input_ in enumerate(inputs):
            if time > 0:
                varscope.reuse_variables()

            def call_cell(input_: Any = input_, state: Any = state) -> Any:
                return cell(input_, state)

            if sequence_length is not None:
                output, state = _rnn_step(time=time, sequence_length=sequence_length,
                                          min_sequence_length=min_sequence_length,
                                          max_sequence_length=max_sequence_length, zero_output=zero_output,
                                          state=state, call_cell=call_cell, state_size=cell.state_size)
            else:
                output, state = call_cell()
            outputs.append(output)
        return outputs, state


def static_state_saving_rnn(cell: Any, inputs: Any, state_saver: Any, state_name: Any, sequence_length: Any = None,
                            scope: Any = None) -> tuple[list, Any]:
    """TF1's `tf.nn.static_state_saving_rnn`: static_rnn whose initial state comes from
    `state_saver.state(name)` and whose final state is saved with `state_saver.save_state`."""
    from caudal.ops.control_ops import identity

    state_size = cell.state_size
    state_is_tuple = nest.is_sequence(state_size)
    if state_is_tuple != nest.is_sequence(state_name):
        raise ValueError("Argument `state_name` should be the same type as `cell.state_size`. Received: "
                         f"state_name={state_name!s}, cell.state_size={state_size!s}.")
    if state_is_tuple:
        names = nest.flatten(state_name)
        if len(names) != len(nest.flatten(state_size)):
            raise ValueError("Number of elements in argument `state_name` and `cell.state_size` are mismatched. "
                             f"Received state_name={state_name} with {len(names)} elements and "
                             f"cell.state_size={cell.state_size} with {len(nest.flatten(state_size))} elements.")
        initial_state = nest.pack_sequence_as(state_size, [state_saver.state(s) for s in names])
    else:
        initial_state = state_saver.state(state_name)
    outputs, state = static_rnn(cell, inputs, initial_state=initial_state, sequence_length=sequence_length,
                                scope=scope)
    if state_is_tuple:
        save_state = [state_saver.save_state(name, sub) for name, sub in zip(nest.flatten(state_name),
                                                                           nest.flatten(state))]
    else:
        save_state = [state_saver.save_state(state_name, state)]
    with get_default_graph().control_dependencies(save_state):
        last_output = outputs[-1]
        outputs[-1] = nest.pack_sequence_as(last_output, [identity(o) for o in nest.flatten(last_output)])
        if state_is_tuple:
            state = nest.pack_sequence_as(state, [identity(s) for s in nest.flatten(state)])
        else:
            state = identity(state)
    return outputs, state


def static_bidirectional_rnn(cell_fw: Any, cell_bw: Any, inputs: Any, initial_state_fw: Any = None,
                             initial_state_bw: Any = None, dtype: Any = None, sequence_length: Any = None,
                             scope: Any = None) -> tuple[list, Any, Any]:
    """TF1's `tf.nn.static_bidirectional_rnn`: forward and backward static_rnns (scopes `fw`, `bw`);
    each output is the concatenation [forward, backward] along axis 1. Returns
    `(outputs, output_state_fw, output_state_bw)`."""
    from caudal.ops.array_ops import concat

    assert_like_rnncell("cell_fw", cell_fw)
    assert_like_rnncell("cell_bw", cell_bw)
    if not nest.is_sequence(inputs):
        raise TypeError(f"Argument `inputs` must be a sequence. Received: {inputs}")
    if not inputs:
        raise ValueError("Argument `inputs` must not be empty.")
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            output_fw, output_state_fw = static_rnn(cell_fw, inputs, initial_state_fw, dtype, sequence_length,
                                                    scope=fw_scope)
        with variable_scope("bw") as bw_scope:
            reversed_inputs = _reverse_seq(inputs, sequence_length)
            tmp, output_state_bw = static_rnn(cell_bw, reversed_inputs, initial_state_bw, dtype, sequence_length,
                                              scope=bw_scope)
    output_bw = _reverse_seq(tmp, sequence_length)
    flat_outputs = tuple(concat([fw, bw], 1) for fw, bw in zip(nest.flatten(output_fw), nest.flatten(output_bw)))
    return nest.pack_sequence_as(output_fw, flat_outputs), output_state_fw, output_state_bw
