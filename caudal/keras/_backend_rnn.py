"""`tf.keras.backend.rnn`: iterates a step function over the time axis, as TF-Keras's graph mode does.

Not unrolled, the loop is a `tf.while_loop` over TensorArrays (inputs unstacked along time, one output
written per step); unrolled, a Python loop over the static time steps. A mask keeps the previous output
and states where it is False. Returns (last_output, outputs, new_states), outputs batch-major unless
`time_major`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import caudal as tf
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor import Tensor
from caudal.util import nest

__all__ = ["rnn"]


def _swap_batch_time(x: Tensor) -> Tensor:
    axes = list(range(x.shape.ndims))
    axes[0], axes[1] = 1, 0
    return tf.transpose(x, axes)


def _expand_mask(mask_t: Tensor, like: Tensor, fixed_dim: int = 1) -> Tensor:
    """The boolean mask tiled to the shape of `like` past its first `fixed_dim` axes."""
    for _ in range(like.shape.ndims - mask_t.shape.ndims):
        mask_t = tf.expand_dims(mask_t, -1)
    multiples = [1] * fixed_dim + like.shape.as_list()[fixed_dim:]
    return tf.tile(mask_t, multiples)


def rnn(step_function: Callable, inputs: Any, initial_states: Any, go_backwards: bool = False, mask: Any = None,
        constants: Any = None, unroll: bool = False, input_length: Any = None, time_major: bool = False,
        zero_output_for_mask: bool = False, return_all_outputs: bool = True) -> tuple:
    """Runs `step_function(input_t, states + constants) -> (output_t, new_states)` along the time axis."""
    if not time_major:
        inputs = nest.map_structure(_swap_batch_time, inputs)
    flat_inputs = nest.flatten(inputs)
    time_steps = flat_inputs[0].shape[0].value
    batch = flat_inputs[0].shape[1].value
    time_steps_t = tf.shape(flat_inputs[0])[0]
    for value in flat_inputs:
        value.shape.with_rank_at_least(3)
    if mask is not None:
        if mask.dtype.base_dtype != dtypes_lib.bool_:
            mask = tf.cast(mask, tf.bool)
        if mask.shape.ndims == 2:
            mask = tf.expand_dims(mask, -1)
        if not time_major:
            mask = _swap_batch_time(mask)
    constants = list(constants or [])
    states = tuple(initial_states)

    if unroll:
        if not time_steps:
            raise ValueError("Unrolling requires a fixed number of timesteps.")
        per_input = [tf.unstack(t) for t in flat_inputs]
        if go_backwards:
            per_input = [list(reversed(p)) for p in per_input]
        mask_list = None
        if mask is not None:
            mask_list = tf.unstack(mask)
            if go_backwards:
                mask_list.reverse()
        outputs_list: list[Tensor] = []
        for i in range(time_steps):
            step_input = nest.pack_sequence_as(inputs, [p[i] for p in per_input])
            output, new_states = step_function(step_input, tuple(states) + tuple(constants))
            if mask_list is not None:
                mask_t = mask_list[i]
                previous = outputs_list[-1] if outputs_list else tf.zeros_like(output)
                output = tf.where_v2(_expand_mask(mask_t, output), output, previous)
                flat_old, flat_new = nest.flatten(states), nest.flatten(new_states)
                new_states = nest.pack_sequence_as(states, [
                    tf.where_v2(_expand_mask(mask_t, old), new, old) for old, new in zip(flat_old, flat_new)])
            states = new_states
            outputs_list.append(output)
        last_output = outputs_list[-1]
        outputs = tf.stack(outputs_list)
        new_states = states
        if mask_list is not None and zero_output_for_mask:
            last_output = tf.where_v2(_expand_mask(mask_list[-1], last_output), last_output,
                                      tf.zeros_like(last_output))
            outputs = tf.where_v2(_expand_mask(mask, outputs, fixed_dim=2), outputs, tf.zeros_like(outputs))
    else:
        input_arrays = tuple(
            tf.TensorArray(dtype=value.dtype.base_dtype, size=time_steps_t, tensor_array_name=f"input_ta_{i}")
            .unstack(tf.reverse(value, [0]) if go_backwards else value)
            for i, value in enumerate(flat_inputs))
        time_zero = nest.pack_sequence_as(inputs, [value[0] for value in flat_inputs])
        output_zero, _ = step_function(time_zero, tuple(initial_states) + tuple(constants))
        flat_output_zero = nest.flatten(output_zero)
        output_arrays = tuple(
            tf.TensorArray(dtype=out.dtype.base_dtype, size=time_steps_t, element_shape=out.shape,
                           tensor_array_name=f"output_ta_{i}")
            for i, out in enumerate(flat_output_zero))
        time = tf.constant(0, dtype="int32", name="time")

        def cond(time: Tensor, *_: Any) -> Tensor:
            return time < time_steps_t

        if mask is not None:
            mask_array = tf.TensorArray(dtype=tf.bool, size=time_steps_t, tensor_array_name="mask_ta").unstack(
                tf.reverse(mask, [0]) if go_backwards else mask)
            flat_zero_output = tuple(tf.zeros_like(o) for o in flat_output_zero)

            def masked_body(time: Tensor, arrays: tuple, previous: tuple, *step_states: Tensor) -> tuple:
                step_input = nest.pack_sequence_as(inputs, [a.read(time) for a in input_arrays])
                mask_t = mask_array.read(time)
                output, new_states = step_function(step_input, tuple(step_states) + tuple(constants))
                flat_output = nest.flatten(output)
                fallback = flat_zero_output if zero_output_for_mask else previous
                flat_output = tuple(tf.where_v2(_expand_mask(mask_t, o, fixed_dim=mask_t.shape.ndims), o, f)
                                    for o, f in zip(flat_output, fallback))
                flat_new = nest.flatten(new_states)
                for old, new in zip(step_states, flat_new):
                    new.set_shape(old.shape)
                flat_new = tuple(tf.where_v2(_expand_mask(mask_t, new, fixed_dim=mask_t.shape.ndims), new, old)
                                 for new, old in zip(flat_new, step_states))
                arrays = tuple(a.write(time, o) for a, o in zip(arrays, flat_output))
                return (time + 1, arrays, flat_output) + tuple(flat_new)

            final = tf.while_loop(cond, masked_body, (time, output_arrays, flat_zero_output) + states,
                                  parallel_iterations=32, swap_memory=True)
            new_states = final[3:]
        else:
            def body(time: Tensor, arrays: tuple, *step_states: Tensor) -> tuple:
                step_input = nest.pack_sequence_as(inputs, [a.read(time) for a in input_arrays])
                output, new_states = step_function(step_input, tuple(step_states) + tuple(constants))
                flat_new = nest.flatten(new_states)
                for old, new in zip(step_states, flat_new):
                    if isinstance(new, Tensor):
                        new.set_shape(old.shape)
                arrays = tuple(a.write(time, o) for a, o in zip(arrays, nest.flatten(output)))
                return (time + 1, arrays) + tuple(flat_new)

            final = tf.while_loop(cond, body, (time, output_arrays) + states, parallel_iterations=32,
                                  swap_memory=True)
            new_states = final[2:]
        stacked = tuple(a.stack() for a in final[1])
        last_output = nest.pack_sequence_as(output_zero, [o[-1] for o in stacked])
        outputs = nest.pack_sequence_as(output_zero, list(stacked))

    def fix_shape(value: Any) -> Any:
        if isinstance(value, Tensor):
            dims = value.shape.as_list()
            dims[0] = time_steps
            dims[1] = batch
            value.set_shape(dims)
        return value

    outputs = nest.map_structure(fix_shape, outputs)
    if not time_major:
        outputs = nest.map_structure(_swap_batch_time, outputs)
    return last_output, outputs, list(new_states)
