"""TF1's RNN cells (`tf.nn.rnn_cell.*`, `tf.contrib.rnn.*`), with TF's variable names.

A cell is a layer (`caudal.layers.Layer`) mapping `(inputs, state)` to `(output, new_state)`.
It makes its variables on its first call, with `get_variable` inside its own variable scope,
opened as TensorFlow 1.x opens it: the `scope` argument of the first call if given, otherwise
a unique `snake_case(class name)` scope inside the current one. So a BasicLSTMCell run by
`dynamic_rnn` owns `rnn/basic_lstm_cell/kernel` (shape `[input depth + units, 4 * units]`,
gates in the order i, j, f, o) and `rnn/basic_lstm_cell/bias`, and the cells of a MultiRNNCell
live in `.../multi_rnn_cell/cell_<i>/`: TF1 checkpoints of RNN models restore as they are.

Cells that subclass `RNNCell` directly and call `tf.get_variable` in `call` work as in TF: their
variables are tracked through a custom getter. The wrappers are in `rnn_cell_wrappers.py`.
"""
from __future__ import annotations

import collections
import inspect
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, get_default_graph
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, as_shape
from caudal.layers.base import Layer
from caudal.util import nest
from caudal.variable_scope import VariableScope, get_variable_scope, variable_scope

__all__ = ["RNNCell", "LayerRNNCell", "BasicRNNCell", "BasicLSTMCell", "LSTMCell", "GRUCell", "LSTMStateTuple",
           "MultiRNNCell", "assert_like_rnncell"]

_WEIGHTS = "kernel"
_BIAS = "bias"


# ------------------------------------------------------------------ helpers
def _hasattr(obj: Any, name: str) -> bool:
    try:
        getattr(obj, name)
    except AttributeError:
        return False
    return True


def assert_like_rnncell(cell_name: str, cell: Any) -> None:
    """TF's check that `cell` has what an RNN driver needs; TypeError naming what is missing."""
    conditions = [_hasattr(cell, "output_size"), _hasattr(cell, "state_size"),
                  _hasattr(cell, "get_initial_state") or _hasattr(cell, "zero_state"), callable(cell)]
    problems = ["'output_size' property is missing", "'state_size' property is missing",
                "either 'zero_state' or 'get_initial_state' method is required", "is not callable"]
    if not all(conditions):
        missing = ", ".join(p for p, ok in zip(problems, conditions) if not ok)
        raise TypeError(f"The argument {cell_name!r} ({cell}) is not an RNNCell: {missing}.")


def _check_supported_dtypes(dtype: Any) -> None:
    if dtype is None:
        return
    dtype = dtypes_lib.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_complex):
        raise ValueError(f"RNN cell only supports floating point inputs, but saw dtype: {dtype}")


def _check_rnn_cell_input_dtypes(values: Any) -> None:
    for t in nest.flatten(values):
        _check_supported_dtypes(t.dtype)


def _as_static_list(value: Any) -> list | None:
    """An int, TensorShape or Tensor size as a list of dims (None entries where unknown)."""
    if isinstance(value, Tensor):
        known = constant_value(value)
        return None if known is None else [int(v) for v in known.reshape(-1)]
    shape = as_shape(value) if not isinstance(value, TensorShape) else value
    return shape.as_list() if shape.ndims is not None else None


def _concat(prefix: Any, suffix: Any, static: bool = False) -> Any:
    """TF's rnn `_concat`: `prefix` + `suffix` sizes (ints, TensorShapes or Tensors) as a 1-D int32
    tensor, or as a static list of dims with `static`."""
    from caudal.ops.array_ops import concat, expand_dims
    from caudal.ops.constant_ops import constant

    def part(value: Any, what: str) -> tuple[Any, Any]:
        if isinstance(value, Tensor):
            static_value = _as_static_list(value)
            if value.shape.ndims == 0:
                value = expand_dims(value, 0)
            elif value.shape.ndims != 1:
                raise ValueError(f"{what} tensor must be either a scalar or vector, but saw tensor: {value}")
            return value, static_value
        shape = TensorShape(value) if not isinstance(value, TensorShape) else value
        static_value = shape.as_list() if shape.ndims is not None else None
        dynamic = constant(shape.as_list(), dtype=dtypes_lib.int32) if shape.is_fully_defined() else None
        return dynamic, static_value

    p, p_static = part(prefix, "prefix")
    s, s_static = part(suffix, "suffix")
    if static:
        shape = TensorShape(p_static).concatenate(TensorShape(s_static))
        return shape.as_list() if shape.ndims is not None else None
    if p is None or s is None:
        raise ValueError(f"Provided a prefix or suffix of None: {prefix} and {suffix}")
    return concat((p, s), 0)


def _zero_state_tensors(state_size: Any, batch_size: Any, dtype: Any) -> Any:
    from caudal.ops.constant_ops import zeros

    def zeros_of(size: Any) -> Tensor:
        value = zeros(_concat(batch_size, size), dtype=dtype)
        value.set_shape(TensorShape(_concat(batch_size, size, static=True)))
        return value

    return nest.map_structure(zeros_of, state_size)


def _last_dim(shape: Any) -> int | None:
    shape = TensorShape(shape) if not isinstance(shape, TensorShape) else shape
    if shape.ndims is None or shape.ndims == 0:
        return None
    return shape[-1].value


def _shape_tuple(shape: TensorShape) -> tuple:
    return tuple(shape.as_list()) if shape.ndims is not None else ()


def _layer_names(graph: Any) -> dict[str, int]:
    names = getattr(graph, "_caudal_rnn_layer_names", None)
    if names is None:
        names = graph._caudal_rnn_layer_names = {}
    return names


# ------------------------------------------------------------------ RNNCell
class RNNCell(Layer):
    """TF1's abstract RNN cell: `state_size`, `output_size`, `zero_state`, and
    `(output, new_state) = cell(inputs, state, scope=None)` running `call`."""

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None, **kwargs: Any):
        super().__init__(trainable=trainable, name=name, dtype=dtype, **kwargs)
        if dtype is not None:
            self.dtype = dtypes_lib.as_dtype(dtype).base_dtype
        self._is_tf_rnn_cell = True
        self._rnncell_scope: VariableScope | None = None
        self._current_scope: VariableScope | None = None
        names = _layer_names(get_default_graph())
        count = names.get(self._base_name, 0)
        names[self._base_name] = count + 1
        self._layer_name = name or (self._base_name if count == 0 else f"{self._base_name}_{count}")

    # ---------------------------------------------------------- calling
    def __call__(self, inputs: Any, state: Any, scope: Any = None) -> Any:
        """Runs the cell in its variable scope, tracking variables `call` gets with get_variable."""
        if scope is not None:
            with variable_scope(scope, custom_getter=self._rnn_get_variable) as entered:
                return self._layer_call(inputs, state, scope=entered)
        if self._rnncell_scope is None:
            self._rnncell_scope = get_variable_scope()
        with _reenter(self._rnncell_scope, custom_getter=self._rnn_get_variable):
            return self._layer_call(inputs, state)

    def _set_scope(self, scope: Any = None) -> None:
        if self._scope is None:
            if self._reuse:
                with variable_scope(scope if scope is not None else self._base_name) as captured:
                    self._scope = captured
            else:
                with variable_scope(scope, default_name=self._base_name) as captured:
                    self._scope = captured

    def _layer_call(self, inputs: Any, state: Any, scope: Any = None) -> Any:
        """TF1's tf.layers call path: the layer's scope, build on first call, then `call`."""
        graph = get_default_graph()
        self._set_scope(scope)
        reuse = True if self.built else self._reuse
        with variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False) as current:
            self._current_scope = current
            with graph.name_scope(current.original_name_scope or None):
                inputs = nest.map_structure(lambda x: x if isinstance(x, Tensor) else convert_to_tensor(x),
                                            inputs)
                self._check_input_rank(inputs)
                if not self.built:
                    if self.dtype is None:
                        self.dtype = nest.flatten(inputs)[0].dtype.base_dtype
                    self.build(nest.map_structure(lambda x: x.shape, inputs))
                    self.built = True
                kwargs = {"scope": current} if self._call_takes_scope() else {}
                try:
                    return self.call(inputs, state, **kwargs)
                except TypeError as error:
                    if str(error).startswith("Tensor objects are only iterable"):
                        raise TypeError("You are attempting to use Python control flow in a layer that was not "
                                        "declared to be dynamic. Pass `dynamic=True` to the class constructor.\n"
                                        f'Encountered error:\n"""\n{error}\n"""') from None
                    raise

    _input_ndim: int | None = None

    def _check_input_rank(self, inputs: Any) -> None:
        if self._input_ndim is None or not isinstance(inputs, Tensor):
            return
        ndim = inputs.shape.ndims
        if ndim is not None and ndim != self._input_ndim:
            dims = ", ".join(f"Dimension({d})" for d in inputs.shape.as_list())
            raise ValueError(f"Input 0 of layer {self._layer_name} is incompatible with the layer: expected "
                             f"ndim={self._input_ndim}, found ndim={ndim}. Full shape received: ({dims})")

    def _call_takes_scope(self) -> bool:
        found = getattr(self, "_call_has_scope_arg", None)
        if found is None:
            try:
                found = "scope" in inspect.signature(self.call).parameters
            except (TypeError, ValueError):
                found = False
            self._call_has_scope_arg = found
        return found

    def _rnn_get_variable(self, getter: Any, *args: Any, **kwargs: Any) -> Any:
        variable = getter(*args, **kwargs)
        trainable = any(variable is v for v in get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES))
        if trainable and all(variable is not v for v in self._trainable_weights):
            self._trainable_weights.append(variable)
        elif not trainable and all(variable is not v for v in self._non_trainable_weights):
            self._non_trainable_weights.append(variable)
        return variable

    def call(self, inputs: Any, state: Any) -> Any:
        raise NotImplementedError("Abstract method")

    # ------------------------------------------------------------ sizes
    @property
    def state_size(self) -> Any:
        raise NotImplementedError("Abstract method")

    @property
    def output_size(self) -> Any:
        raise NotImplementedError("Abstract method")

    def build(self, _: Any) -> None:
        self.built = True

    def add_variable(self, *args: Any, **kwargs: Any) -> Any:
        return self.add_weight(*args, **kwargs)

    def get_initial_state(self, inputs: Any = None, batch_size: Any = None, dtype: Any = None) -> Any:
        if inputs is not None:
            inputs = convert_to_tensor(inputs, name="inputs")
            if batch_size is not None:
                static = constant_value(batch_size) if isinstance(batch_size, Tensor) else batch_size
                if inputs.shape[0].value != static:
                    raise ValueError("batch size from input tensor is different from the input param. Input "
                                     f"tensor batch: {inputs.shape[0].value}, batch_size: {batch_size}")
            if dtype is not None and inputs.dtype != dtype:
                raise ValueError("dtype from input tensor is different from the input param. Input tensor "
                                 f"dtype: {inputs.dtype}, dtype: {dtype}")
            from caudal.ops.array_ops import shape

            batch_size = inputs.shape[0].value or shape(inputs)[0]
            dtype = inputs.dtype
        if batch_size is None or dtype is None:
            raise ValueError("batch_size and dtype cannot be None while constructing initial state: "
                             f"batch_size={batch_size}, dtype={dtype}")
        return self.zero_state(batch_size, dtype)

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        """Zeros of shape `[batch_size] + s` for each `s` in `state_size` (TF's structure)."""
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            return _zero_state_tensors(self.state_size, batch_size, dtype)

    def get_config(self) -> dict[str, Any]:
        return super().get_config()


class _reenter:  # noqa: N801 - a context manager
    """Enters a captured VariableScope as TF1 does: a new name scope named after its last part
    (uniquified where it is opened), the scope's variables, and a custom getter."""

    def __init__(self, scope: VariableScope, custom_getter: Any = None):
        self._scope = scope
        self._custom_getter = custom_getter
        self._name_scope: Any = None
        self._variable_scope: Any = None

    def __enter__(self) -> VariableScope:
        last = self._scope.name.split("/")[-1]
        if last:
            self._name_scope = get_default_graph().name_scope(last)
            self._name_scope.__enter__()
        self._variable_scope = variable_scope(self._scope, custom_getter=self._custom_getter,
                                              auxiliary_name_scope=False)
        return self._variable_scope.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._variable_scope.__exit__(*exc)
        if self._name_scope is not None:
            self._name_scope.__exit__(*exc)


class LayerRNNCell(RNNCell):
    """A cell that makes its variables in `build` (with `add_variable`), as tf.layers do."""

    def __call__(self, inputs: Any, state: Any, scope: Any = None, *args: Any, **kwargs: Any) -> Any:
        return self._layer_call(inputs, state, scope=scope)


def _activation(activation: Any) -> Any:
    from caudal.ops.math_ops import tanh

    if not activation:
        return tanh
    if isinstance(activation, str):
        from caudal import nn
        from caudal.ops import math_ops

        found = getattr(nn, activation, None) or getattr(math_ops, activation, None)
        if found is None:
            raise ValueError(f"Unknown activation function: {activation}")
        return found
    return activation


def _input_depth(cell: Layer, inputs_shape: Any) -> int:
    depth = _last_dim(inputs_shape)
    if depth is None:
        raise ValueError(f"Expected inputs.shape[-1] to be known, saw shape: {_shape_tuple(TensorShape(inputs_shape))}")
    return depth


# ------------------------------------------------------------------- cells
class BasicRNNCell(LayerRNNCell):
    """output = new_state = activation([inputs, state] @ kernel + bias)."""

    _input_ndim = 2

    def __init__(self, num_units: int, activation: Any = None, reuse: Any = None, name: str | None = None,
                 dtype: Any = None, **kwargs: Any):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self._num_units = num_units
        self._activation = _activation(activation)

    @property
    def state_size(self) -> int:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def build(self, inputs_shape: Any) -> None:
        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self.dtype)
        from caudal.init_ops import zeros_initializer

        self._kernel = self.add_variable(_WEIGHTS, shape=[depth + self._num_units, self._num_units])
        self._bias = self.add_variable(_BIAS, shape=[self._num_units], initializer=zeros_initializer(dtype=self.dtype))
        self.built = True

    def call(self, inputs: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        from caudal.ops.array_ops import concat
        from caudal.ops.math_ops import matmul
        from caudal.ops.nn_ops import bias_add

        _check_rnn_cell_input_dtypes([inputs, state])
        gate_inputs = bias_add(matmul(concat([inputs, state], 1), self._kernel), self._bias)
        output = self._activation(gate_inputs)
        return output, output

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_units": self._num_units, "reuse": self._reuse}


class GRUCell(LayerRNNCell):
    """TF1's GRU: gates r, u = sigmoid([x, h] @ gates/kernel + gates/bias) (bias starting at 1),
    candidate c = activation([x, r * h] @ candidate/kernel + candidate/bias), h' = u h + (1 - u) c."""

    _input_ndim = 2

    def __init__(self, num_units: int, activation: Any = None, reuse: Any = None, kernel_initializer: Any = None,
                 bias_initializer: Any = None, name: str | None = None, dtype: Any = None, **kwargs: Any):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self._num_units = num_units
        self._activation = _activation(activation)
        self._kernel_initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    @property
    def state_size(self) -> int:
        return self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def build(self, inputs_shape: Any) -> None:
        from caudal.init_ops import constant_initializer, zeros_initializer

        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self.dtype)
        units = self._num_units
        self._gate_kernel = self.add_variable(f"gates/{_WEIGHTS}", shape=[depth + units, 2 * units],
                                              initializer=self._kernel_initializer)
        self._gate_bias = self.add_variable(
            f"gates/{_BIAS}", shape=[2 * units],
            initializer=self._bias_initializer if self._bias_initializer is not None
            else constant_initializer(1.0, dtype=self.dtype))
        self._candidate_kernel = self.add_variable(f"candidate/{_WEIGHTS}", shape=[depth + units, units],
                                                   initializer=self._kernel_initializer)
        self._candidate_bias = self.add_variable(
            f"candidate/{_BIAS}", shape=[units],
            initializer=self._bias_initializer if self._bias_initializer is not None
            else zeros_initializer(dtype=self.dtype))
        self.built = True

    def call(self, inputs: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
        from caudal.ops.array_ops import concat
        from caudal.ops.manip_ops import split
        from caudal.ops.math_ops import matmul, sigmoid
        from caudal.ops.nn_ops import bias_add

        _check_rnn_cell_input_dtypes([inputs, state])
        gate_inputs = bias_add(matmul(concat([inputs, state], 1), self._gate_kernel), self._gate_bias)
        value = sigmoid(gate_inputs)
        r, u = split(value=value, num_or_size_splits=2, axis=1)
        r_state = r * state
        candidate = bias_add(matmul(concat([inputs, r_state], 1), self._candidate_kernel), self._candidate_bias)
        c = self._activation(candidate)
        new_h = u * state + (1 - u) * c
        return new_h, new_h

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_units": self._num_units, "reuse": self._reuse}


_LSTMStateTupleBase = collections.namedtuple("LSTMStateTuple", ("c", "h"))


class LSTMStateTuple(_LSTMStateTupleBase):
    """An LSTM's state `(c, h)`: the cell state, then the output (hidden) state."""

    __slots__ = ()

    @property
    def dtype(self) -> Any:
        c, h = self
        if c.dtype != h.dtype:
            raise TypeError(f"Inconsistent internal state: {c.dtype} vs {h.dtype}")
        return c.dtype


class BasicLSTMCell(LayerRNNCell):
    """TF1's basic LSTM: [i, j, f, o] = split([x, h] @ kernel + bias, 4);
    c' = c sigmoid(f + forget_bias) + sigmoid(i) activation(j); h' = activation(c') sigmoid(o)."""

    _input_ndim = 2

    def __init__(self, num_units: int, forget_bias: float = 1.0, state_is_tuple: bool = True, activation: Any = None,
                 reuse: Any = None, name: str | None = None, dtype: Any = None, **kwargs: Any):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation)

    @property
    def state_size(self) -> Any:
        return LSTMStateTuple(self._num_units, self._num_units) if self._state_is_tuple else 2 * self._num_units

    @property
    def output_size(self) -> int:
        return self._num_units

    def build(self, inputs_shape: Any) -> None:
        from caudal.init_ops import zeros_initializer

        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self.dtype)
        self._kernel = self.add_variable(_WEIGHTS, shape=[depth + self._num_units, 4 * self._num_units])
        self._bias = self.add_variable(_BIAS, shape=[4 * self._num_units],
                                       initializer=zeros_initializer(dtype=self.dtype))
        self.built = True

    def call(self, inputs: Tensor, state: Any) -> tuple[Tensor, Any]:
        from caudal.ops.array_ops import concat
        from caudal.ops.constant_ops import constant
        from caudal.ops.manip_ops import split
        from caudal.ops.math_ops import add, matmul, multiply, sigmoid
        from caudal.ops.nn_ops import bias_add

        _check_rnn_cell_input_dtypes([inputs, state])
        one = constant(1, dtype=dtypes_lib.int32)
        if self._state_is_tuple:
            c, h = state
        else:
            c, h = split(value=state, num_or_size_splits=2, axis=one)
        gate_inputs = bias_add(matmul(concat([inputs, h], 1), self._kernel), self._bias)
        i, j, f, o = split(value=gate_inputs, num_or_size_splits=4, axis=one)
        forget_bias = constant(self._forget_bias, dtype=f.dtype)
        new_c = add(multiply(c, sigmoid(add(f, forget_bias))), multiply(sigmoid(i), self._activation(j)))
        new_h = multiply(self._activation(new_c), sigmoid(o))
        new_state = LSTMStateTuple(new_c, new_h) if self._state_is_tuple else concat([new_c, new_h], 1)
        return new_h, new_state

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_units": self._num_units, "forget_bias": self._forget_bias,
                "state_is_tuple": self._state_is_tuple, "reuse": self._reuse}


class LSTMCell(LayerRNNCell):
    """TF1's full LSTM: optional peepholes (`w_f_diag`, `w_i_diag`, `w_o_diag`), cell clipping,
    a projection of the output (`projection/kernel`, `num_proj`) with optional clipping."""

    _input_ndim = 2

    def __init__(self, num_units: int, use_peepholes: bool = False, cell_clip: float | None = None,
                 initializer: Any = None, num_proj: int | None = None, proj_clip: float | None = None,
                 num_unit_shards: int | None = None, num_proj_shards: int | None = None, forget_bias: float = 1.0,
                 state_is_tuple: bool = True, activation: Any = None, reuse: Any = None, name: str | None = None,
                 dtype: Any = None, **kwargs: Any):
        super().__init__(_reuse=reuse, name=name, dtype=dtype, **kwargs)
        _check_supported_dtypes(self.dtype)
        if num_unit_shards is not None or num_proj_shards is not None:
            raise NotImplementedError("caudal does not partition variables: num_unit_shards and num_proj_shards "
                                      "(deprecated in TF1) are not supported")
        self._num_units = num_units
        self._use_peepholes = use_peepholes
        self._cell_clip = cell_clip
        self._initializer = initializer
        self._num_proj = num_proj
        self._proj_clip = proj_clip
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = _activation(activation)
        if num_proj:
            self._state_size: Any = (LSTMStateTuple(num_units, num_proj) if state_is_tuple else num_units + num_proj)
            self._output_size = num_proj
        else:
            self._state_size = LSTMStateTuple(num_units, num_units) if state_is_tuple else 2 * num_units
            self._output_size = num_units

    @property
    def state_size(self) -> Any:
        return self._state_size

    @property
    def output_size(self) -> int:
        return self._output_size

    def build(self, inputs_shape: Any) -> None:
        from caudal.init_ops import zeros_initializer

        depth = _input_depth(self, inputs_shape)
        _check_supported_dtypes(self.dtype)
        h_depth = self._num_units if self._num_proj is None else self._num_proj
        self._kernel = self.add_variable(_WEIGHTS, shape=[depth + h_depth, 4 * self._num_units],
                                         initializer=self._initializer)
        self._bias = self.add_variable(_BIAS, shape=[4 * self._num_units],
                                       initializer=zeros_initializer(dtype=self.dtype))
        if self._use_peepholes:
            self._w_f_diag = self.add_variable("w_f_diag", shape=[self._num_units], initializer=self._initializer)
            self._w_i_diag = self.add_variable("w_i_diag", shape=[self._num_units], initializer=self._initializer)
            self._w_o_diag = self.add_variable("w_o_diag", shape=[self._num_units], initializer=self._initializer)
        if self._num_proj is not None:
            self._proj_kernel = self.add_variable(f"projection/{_WEIGHTS}", shape=[self._num_units, self._num_proj],
                                                  initializer=self._initializer)
        self.built = True

    def call(self, inputs: Tensor, state: Any) -> tuple[Tensor, Any]:
        from caudal.ops.array_ops import concat, slice
        from caudal.ops.clip_ops import clip_by_value
        from caudal.ops.manip_ops import split
        from caudal.ops.math_ops import matmul, sigmoid
        from caudal.ops.nn_ops import bias_add

        _check_rnn_cell_input_dtypes([inputs, state])
        num_proj = self._num_units if self._num_proj is None else self._num_proj
        if self._state_is_tuple:
            c_prev, m_prev = state
        else:
            c_prev = slice(state, [0, 0], [-1, self._num_units])
            m_prev = slice(state, [0, self._num_units], [-1, num_proj])
        input_size = inputs.shape.with_rank(2)[1].value
        if input_size is None:
            raise ValueError("Could not infer input size from inputs.get_shape()[-1]")
        lstm_matrix = bias_add(matmul(concat([inputs, m_prev], 1), self._kernel), self._bias)
        i, j, f, o = split(value=lstm_matrix, num_or_size_splits=4, axis=1)
        act = self._activation
        if self._use_peepholes:
            c = (sigmoid(f + self._forget_bias + self._w_f_diag * c_prev) * c_prev
                 + sigmoid(i + self._w_i_diag * c_prev) * act(j))
        else:
            c = sigmoid(f + self._forget_bias) * c_prev + sigmoid(i) * act(j)
        if self._cell_clip is not None:
            c = clip_by_value(c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            m = sigmoid(o + self._w_o_diag * c) * act(c)
        else:
            m = sigmoid(o) * act(c)
        if self._num_proj is not None:
            m = matmul(m, self._proj_kernel)
            if self._proj_clip is not None:
                m = clip_by_value(m, -self._proj_clip, self._proj_clip)
        new_state = LSTMStateTuple(c, m) if self._state_is_tuple else concat([c, m], 1)
        return m, new_state

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_units": self._num_units, "use_peepholes": self._use_peepholes,
                "cell_clip": self._cell_clip, "num_proj": self._num_proj, "proj_clip": self._proj_clip,
                "forget_bias": self._forget_bias, "state_is_tuple": self._state_is_tuple, "reuse": self._reuse}


# ------------------------------------------------------------- MultiRNNCell
class MultiRNNCell(RNNCell):
    """Cells run one after another; cell i lives in variable scope `cell_<i>` of the multi cell."""

    def __init__(self, cells: Any, state_is_tuple: bool = True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        if not nest.is_sequence(cells):
            raise TypeError(f"cells must be a list or tuple, but saw: {cells}.")
        self._cells = cells
        self._state_is_tuple = state_is_tuple
        if not state_is_tuple and any(nest.is_sequence(c.state_size) for c in cells):
            raise ValueError("Some cells return tuples of states, but the flag state_is_tuple is not set.  State "
                             f"sizes are: {[c.state_size for c in cells]}")

    @property
    def state_size(self) -> Any:
        if self._state_is_tuple:
            return tuple(cell.state_size for cell in self._cells)
        return sum(cell.state_size for cell in self._cells)

    @property
    def output_size(self) -> Any:
        return self._cells[-1].output_size

    def zero_state(self, batch_size: Any, dtype: Any) -> Any:
        with get_default_graph().name_scope(type(self).__name__ + "ZeroState"):
            if self._state_is_tuple:
                return tuple(cell.zero_state(batch_size, dtype) for cell in self._cells)
            return super().zero_state(batch_size, dtype)

    @property
    def trainable_weights(self) -> list[Any]:
        if not self.trainable:
            return []
        weights: list[Any] = []
        for cell in self._cells:
            if isinstance(cell, Layer):
                weights += cell.trainable_weights
        return weights

    @property
    def non_trainable_weights(self) -> list[Any]:
        weights: list[Any] = []
        for cell in self._cells:
            if isinstance(cell, Layer):
                weights += cell.non_trainable_weights
        if not self.trainable:
            trainable: list[Any] = []
            for cell in self._cells:
                if isinstance(cell, Layer):
                    trainable += cell.trainable_weights
            return trainable + weights
        return weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def weights(self) -> list[Any]:
        return self.trainable_weights + self.non_trainable_weights

    variables = weights

    def call(self, inputs: Any, state: Any) -> tuple[Any, Any]:
        from caudal.ops.array_ops import concat, slice

        position = 0
        current = inputs
        new_states = []
        for i, cell in enumerate(self._cells):
            with variable_scope(f"cell_{i}"):
                if self._state_is_tuple:
                    if not nest.is_sequence(state):
                        raise ValueError(f"Expected state to be a tuple of length {len(self.state_size)}, but "
                                         f"received: {state}")
                    cell_state = state[i]
                else:
                    cell_state = slice(state, [0, position], [-1, cell.state_size])
                    position += cell.state_size
                current, new_state = cell(current, cell_state)
                new_states.append(new_state)
        return current, (tuple(new_states) if self._state_is_tuple else concat(new_states, 1))
