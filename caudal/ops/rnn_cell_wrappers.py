"""TF1's RNN cell wrappers: `DropoutWrapper`, `ResidualWrapper`, `DeviceWrapper`.

A wrapper is a cell around a cell: it calls the wrapped cell's own `__call__`, so it adds no
variable scope of its own and the variables keep the wrapped cell's names.
"""
from __future__ import annotations

import hashlib
import numbers
from typing import Any

from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops.rnn_cell_impl import LSTMStateTuple, RNNCell, assert_like_rnncell
from caudal.util import nest

__all__ = ["DropoutWrapper", "ResidualWrapper", "DeviceWrapper"]


class _RNNCellWrapper(RNNCell):
    """A cell around `cell`: calls the cell's own `__call__` (so no scope of its own)."""

    def __init__(self, cell: Any, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        assert_like_rnncell("cell", cell)
        self.cell = cell

    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> Any:
        return self._call_wrapped_cell(inputs, state, cell_call_fn=self.cell.__call__, scope=scope)

    def _call_wrapped_cell(self, inputs: Any, state: Any, cell_call_fn: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def call(self, inputs: Any, state: Any, **kwargs: Any) -> Any:
        return self._call_wrapped_cell(inputs, state, cell_call_fn=self.cell.call, **kwargs)

    @property
    def wrapped_cell(self) -> Any:
        return self.cell

    @property
    def state_size(self) -> Any:
        return self.cell.state_size

    @property
    def output_size(self) -> Any:
        return self.cell.output_size

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return self.cell.zero_state(batch_size, dtype)

    def build(self, inputs_shape: Any) -> None:
        self.cell.build(inputs_shape)
        self.built = True

    @property
    def trainable_weights(self) -> list[Any]:
        return list(self.cell.trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Any]:
        if self.trainable:
            return list(self.cell.non_trainable_weights)
        return list(self.cell.trainable_weights) + list(self.cell.non_trainable_weights)

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def weights(self) -> list[Any]:
        return self.trainable_weights + self.non_trainable_weights

    variables = weights


def _default_dropout_state_filter_visitor(substate: Any) -> Any:
    if isinstance(substate, LSTMStateTuple):
        return LSTMStateTuple(c=False, h=True)
    if getattr(substate, "_is_caudal_tensor_array", False):
        return False
    return True


def _get_traverse_shallow_structure(traverse_fn: Any, structure: Any) -> Any:
    """TF's nest.get_traverse_shallow_structure: a structure of bools saying which parts to visit."""
    to_traverse = traverse_fn(structure)
    if not nest.is_sequence(structure):
        if not isinstance(to_traverse, bool):
            raise TypeError(f"traverse_fn returned structure: {to_traverse} for non-structure: {structure}")
        return to_traverse
    children = [structure[k] for k in sorted(structure)] if isinstance(structure, dict) else list(structure)
    if isinstance(to_traverse, bool):
        if not to_traverse:
            return False
        level = [_get_traverse_shallow_structure(traverse_fn, child) for child in children]
    elif not nest.is_sequence(to_traverse):
        raise TypeError(f"traverse_fn returned a non-bool scalar: {to_traverse} for input: {structure}")
    else:
        level = []
        for flag, child in zip(to_traverse, children):
            if not isinstance(flag, bool):
                raise TypeError(f"traverse_fn didn't return a depth=1 structure of bools.  saw: {to_traverse}  "
                                f"for structure: {structure}")
            level.append(_get_traverse_shallow_structure(traverse_fn, child) if flag else False)
    if isinstance(structure, dict):
        return type(structure)(zip(sorted(structure), level))
    return type(structure)(*level) if hasattr(type(structure), "_fields") else type(structure)(level)


def _map_up_to(shallow: Any, fn: Any, *structures: Any) -> Any:
    """fn(leaf of `shallow`'s index, the matching subtrees of `structures`), up to `shallow`'s leaves."""
    counter = [0]

    def walk(shape: Any, *values: Any) -> Any:
        if not nest.is_sequence(shape) or isinstance(shape, TensorShape):
            index = counter[0]
            counter[0] += 1
            return fn(index, *values)
        children = [list(v) if not isinstance(v, dict) else [v[k] for k in sorted(v)] for v in values]
        shape_children = list(shape) if not isinstance(shape, dict) else [shape[k] for k in sorted(shape)]
        results = [walk(*parts) for parts in zip(shape_children, *children)]
        if isinstance(shape, dict):
            return type(shape)(zip(sorted(shape), results))
        return type(shape)(*results) if hasattr(type(shape), "_fields") else type(shape)(results)

    return walk(shallow, *structures)


class DropoutWrapper(_RNNCellWrapper):
    """Dropout on a cell's inputs, outputs and (except an LSTM's `c`) new states. With
    `variational_recurrent`, one mask per run call is used at every time step (Gal & Ghahramani)."""

    def __init__(self, cell: Any, input_keep_prob: Any = 1.0, output_keep_prob: Any = 1.0,
                 state_keep_prob: Any = 1.0, variational_recurrent: bool = False, input_size: Any = None,
                 dtype: Any = None, seed: int | None = None, dropout_state_filter_visitor: Any = None, **kwargs: Any):
        super().__init__(cell, dtype=dtype, **kwargs)
        if dropout_state_filter_visitor is not None and not callable(dropout_state_filter_visitor):
            raise TypeError("dropout_state_filter_visitor must be callable")
        self._dropout_state_filter = dropout_state_filter_visitor or _default_dropout_state_filter_visitor
        with get_default_graph().name_scope("DropoutWrapperInit"):
            for prob, attr in [(input_keep_prob, "input_keep_prob"), (state_keep_prob, "state_keep_prob"),
                               (output_keep_prob, "output_keep_prob")]:
                tensor = convert_to_tensor(prob)
                known = constant_value(tensor)
                if known is not None:
                    known = float(known)
                    if known < 0 or known > 1:
                        raise ValueError(f"Parameter {attr} must be between 0 and 1: {int(known)}")
                    setattr(self, "_" + attr, known)
                else:
                    setattr(self, "_" + attr, tensor)
        self._variational_recurrent = variational_recurrent
        self._input_size = input_size
        self._seed = seed
        self._recurrent_input_noise = None
        self._recurrent_state_noise = None
        self._recurrent_output_noise = None
        if variational_recurrent:
            if dtype is None:
                raise ValueError("When variational_recurrent=True, dtype must be provided")
            from caudal.ops.array_ops import concat
            from caudal.ops.random_ops import random_uniform

            def batch_noise(size: Any, inner_seed: int | None) -> Tensor:
                shape = concat(([1], TensorShape(size).as_list()), 0)
                return random_uniform(shape, seed=inner_seed, dtype=dtype)

            if not isinstance(self._input_keep_prob, numbers.Real) or self._input_keep_prob < 1.0:
                if input_size is None:
                    raise ValueError("When variational_recurrent=True and input_keep_prob < 1.0 or is unknown, "
                                     "input_size must be provided")
                self._recurrent_input_noise = _map_up_to(
                    input_size, lambda i, s: batch_noise(s, self._gen_seed("input", i)), input_size)
            self._recurrent_state_noise = _map_up_to(
                cell.state_size, lambda i, s: batch_noise(s, self._gen_seed("state", i)), cell.state_size)
            self._recurrent_output_noise = _map_up_to(
                cell.output_size, lambda i, s: batch_noise(s, self._gen_seed("output", i)), cell.output_size)

    def _gen_seed(self, salt_prefix: str, index: int) -> int | None:
        """TF's per-tensor seeds: the first 8 hex digits of md5(str(seed) + salt), as a 31-bit int."""
        if self._seed is None:
            return None
        text = (str(self._seed) + f"{salt_prefix}_{index}").encode("utf-8")
        return int(hashlib.md5(text).hexdigest()[:8], 16) & 0x7FFFFFFF

    def _variational_recurrent_dropout_value(self, index: int, value: Tensor, noise: Tensor, keep_prob: Any) -> Tensor:
        from caudal.ops.math_ops import divide
        from caudal.ops.special_math_ops import floor

        binary = floor(keep_prob + noise)
        result = divide(value, keep_prob) * binary
        result.set_shape(value.shape)
        return result

    def _dropout(self, values: Any, salt_prefix: str, recurrent_noise: Any, keep_prob: Any,
                 shallow_filtered_substructure: Any = None) -> Any:
        from caudal.ops.nn_ops import dropout

        if shallow_filtered_substructure is None:
            shallow_filtered_substructure = values
        if not self._variational_recurrent:
            def drop(i: int, do_dropout: Any, v: Any) -> Any:
                if not isinstance(do_dropout, bool) or do_dropout:
                    return dropout(v, rate=1.0 - keep_prob, seed=self._gen_seed(salt_prefix, i))
                return v

            return _map_up_to(shallow_filtered_substructure, drop, shallow_filtered_substructure, values)

        def drop_variational(i: int, do_dropout: Any, v: Any, n: Any) -> Any:
            if not isinstance(do_dropout, bool) or do_dropout:
                return self._variational_recurrent_dropout_value(i, v, n, keep_prob)
            return v

        return _map_up_to(shallow_filtered_substructure, drop_variational, shallow_filtered_substructure, values,
                          recurrent_noise)

    def _call_wrapped_cell(self, inputs: Any, state: Any, cell_call_fn: Any, **kwargs: Any) -> Any:
        def should_dropout(p: Any) -> bool:
            return (not isinstance(p, float)) or p < 1

        if should_dropout(self._input_keep_prob):
            inputs = self._dropout(inputs, "input", self._recurrent_input_noise, self._input_keep_prob)
        output, new_state = cell_call_fn(inputs, state, **kwargs)
        if should_dropout(self._state_keep_prob):
            shallow = _get_traverse_shallow_structure(self._dropout_state_filter, new_state)
            new_state = self._dropout(new_state, "state", self._recurrent_state_noise, self._state_keep_prob, shallow)
        if should_dropout(self._output_keep_prob):
            output = self._dropout(output, "output", self._recurrent_output_noise, self._output_keep_prob)
        return output, new_state


class ResidualWrapper(_RNNCellWrapper):
    """The cell's outputs plus its inputs (or `residual_fn(inputs, outputs)`)."""

    def __init__(self, cell: Any, residual_fn: Any = None, **kwargs: Any):
        super().__init__(cell, **kwargs)
        self._residual_fn = residual_fn

    def _call_wrapped_cell(self, inputs: Any, state: Any, cell_call_fn: Any, **kwargs: Any) -> Any:
        outputs, new_state = cell_call_fn(inputs, state, **kwargs)

        def default_residual_fn(inputs: Any, outputs: Any) -> Any:
            nest.assert_same_structure(inputs, outputs)
            nest.map_structure(lambda i, o: i.shape.assert_is_compatible_with(o.shape), inputs, outputs)
            return nest.map_structure(lambda i, o: i + o, inputs, outputs)

        return (self._residual_fn or default_residual_fn)(inputs, outputs), new_state


class DeviceWrapper(_RNNCellWrapper):
    """Runs the cell (and builds its zero state) on `device`."""

    def __init__(self, cell: Any, device: Any, **kwargs: Any):
        super().__init__(cell, **kwargs)
        self._device = device

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        graph = get_default_graph()
        with graph.name_scope(type(self).__name__ + "ZeroState"), graph.device(self._device):
            return self.cell.zero_state(batch_size, dtype)

    def _call_wrapped_cell(self, inputs: Any, state: Any, cell_call_fn: Any, **kwargs: Any) -> Any:
        with get_default_graph().device(self._device):
            return cell_call_fn(inputs, state, **kwargs)

