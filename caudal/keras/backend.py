"""`tf.keras.backend` in graph mode: the Keras session, learning phase, names, variables and `K.function`.

The state follows TF-Keras 2.x with v2 behaviour disabled:

- `get_session()` returns the default session when one is active, else a
  session Keras makes for the current default graph (a new one when the
  graph changes); either way, variables Keras made that this session has not
  initialized yet are initialized first (unless
  `manual_variable_initialization(True)`);
- the learning phase of a graph is the `keras_learning_phase`
  placeholder_with_default(False), or the int `set_learning_phase` gave;
- default layer names are unique per graph (`dense`, `dense_1`, ...), and
  `get_uid` counts per graph;
- `clear_session()` resets the default graph, the names and the session.

The math functions (`K.mean`, `K.dot`, `K.conv2d`, `K.rnn`, ...) are defined
in `caudal.keras._backend_math` and `caudal.keras._backend_nn` and re-exported here.
"""
from __future__ import annotations

import collections
import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

import caudal as tf
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import Graph, get_default_graph
from caudal.framework.tensor import Tensor
from caudal.keras._backend_math import *  # noqa: F401,F403 - the public math functions
from caudal.keras._backend_math import __all__ as _MATH_NAMES
from caudal.keras._backend_nn import *  # noqa: F401,F403
from caudal.keras._backend_nn import __all__ as _NN_NAMES
from caudal.keras._backend_rnn import rnn  # noqa: F401 - re-exported
from caudal.keras.backend_config import (  # noqa: F401 - re-exported
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)

_STATE_NAMES = [
    "backend", "clear_session", "get_session", "set_session", "get_graph", "manual_variable_initialization",
    "learning_phase", "set_learning_phase", "learning_phase_scope", "symbolic_learning_phase", "get_uid",
    "reset_uids", "name_scope", "floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format",
    "set_image_data_format", "cast_to_floatx", "variable", "constant", "placeholder", "is_placeholder",
    "is_keras_tensor", "get_value", "batch_get_value", "set_value", "batch_set_value", "eval", "function",
    "track_variable", "unique_object_name", "get_default_session_config", "rnn", "count_params",
    "random_uniform_variable", "random_normal_variable", "print_tensor", "in_train_phase", "in_test_phase",
]
__all__ = _STATE_NAMES + list(_MATH_NAMES) + list(_NN_NAMES)


class _SessionHolder(threading.local):
    session: Any = None


_SESSION = _SessionHolder()
_MANUAL_VAR_INIT = False
# Per-graph state, dropped with the graph.
_OBJECT_NAME_UIDS: weakref.WeakKeyDictionary[Graph, collections.defaultdict] = weakref.WeakKeyDictionary()
_GRAPH_UIDS: weakref.WeakKeyDictionary[Graph, collections.defaultdict] = weakref.WeakKeyDictionary()
_GRAPH_LEARNING_PHASES: weakref.WeakKeyDictionary[Graph, Any] = weakref.WeakKeyDictionary()
_GRAPH_VARIABLES: weakref.WeakKeyDictionary[Graph, list] = weakref.WeakKeyDictionary()
# For each session, the names of the tracked variables already checked for initialization.
_CHECKED_VARIABLES: weakref.WeakKeyDictionary[Any, set] = weakref.WeakKeyDictionary()


def backend() -> str:
    """The backend's name, as Keras reports it."""
    return "tensorflow"


def get_graph() -> Graph:
    return get_default_graph()


# ------------------------------------------------------------------------------------------- names
def get_default_graph_uid_map() -> collections.defaultdict:
    graph = get_default_graph()
    uids = _OBJECT_NAME_UIDS.get(graph)
    if uids is None:
        uids = _OBJECT_NAME_UIDS[graph] = collections.defaultdict(int)
    return uids


def unique_object_name(name: str, name_uid_map: Any = None, avoid_names: Any = None, namespace: str = "",
                       zero_based: bool = False) -> str:
    """`name` made unique among the Keras objects of this graph: zero-based gives `dense`, `dense_1`, ...;
    one-based gives `input_1`, `input_2`, ..."""
    if name_uid_map is None:
        name_uid_map = get_default_graph_uid_map()
    avoid = set() if avoid_names is None else avoid_names
    proposed = None
    while proposed is None or proposed in avoid:
        key = (namespace, name)
        if zero_based:
            number = name_uid_map[key]
            proposed = f"{name}_{number}" if number else name
            name_uid_map[key] += 1
        else:
            name_uid_map[key] += 1
            proposed = f"{name}_{name_uid_map[key]}"
    return proposed


def get_uid(prefix: str = "") -> int:
    """1, 2, 3, ... for each `prefix`, per graph."""
    graph = get_default_graph()
    uids = _GRAPH_UIDS.get(graph)
    if uids is None:
        uids = _GRAPH_UIDS[graph] = collections.defaultdict(int)
    uids[prefix] += 1
    return uids[prefix]


def reset_uids() -> None:
    _GRAPH_UIDS.clear()
    _OBJECT_NAME_UIDS.clear()


@contextlib.contextmanager
def name_scope(name: str) -> Iterator[str]:
    with tf.name_scope(name) as scope:
        yield scope


# -------------------------------------------------------------------------------------- session
def get_default_session_config() -> Any:
    return tf.ConfigProto(allow_soft_placement=True)


def get_session(op_input_list: Any = ()) -> Any:
    """The default session if one is active, else Keras's own session on the default graph; variables that
    Keras tracks and this session has not initialized are initialized first."""
    session = tf.get_default_session()
    if session is None:
        graph = get_default_graph()
        if _SESSION.session is None or _SESSION.session.graph is not graph or _SESSION.session._closed:
            _SESSION.session = tf.Session(graph=graph)
        session = _SESSION.session
    if not _MANUAL_VAR_INIT:
        _initialize_variables(session)
    return session


def set_session(session: Any) -> None:
    """Makes `session` the one Keras uses when no default session is active."""
    _SESSION.session = session


def manual_variable_initialization(value: bool) -> None:
    """With True, `get_session` stops initializing variables: the program does it."""
    global _MANUAL_VAR_INIT
    _MANUAL_VAR_INIT = bool(value)


def track_variable(variable: Any) -> None:
    """Registers a variable Keras made, for `get_session` to initialize."""
    graph = variable.graph
    tracked = _GRAPH_VARIABLES.get(graph)
    if tracked is None:
        tracked = _GRAPH_VARIABLES[graph] = []
    tracked.append(variable)


def _initialize_variables(session: Any) -> None:
    tracked = _GRAPH_VARIABLES.get(session.graph)
    if not tracked:
        return
    checked = _CHECKED_VARIABLES.get(session)
    if checked is None:
        checked = _CHECKED_VARIABLES[session] = set()
    candidates = [v for v in tracked if id(v) not in checked]
    if not candidates:
        return
    with session.graph.as_default():
        flags = session.run([tf.is_variable_initialized(v) for v in candidates])
        missing = [v for v, done in zip(candidates, flags) if not done]
        checked.update(id(v) for v in candidates)
        if missing:
            session.run(tf.variables_initializer(missing))


def clear_session() -> None:
    """Resets the default graph, the layer names and Keras's session; the new graph gets its learning
    phase placeholder at once, as in Keras."""
    if _SESSION.session is not None:
        _SESSION.session.close()
    _SESSION.session = None
    tf.reset_default_graph()
    reset_uids()
    _GRAPH_LEARNING_PHASES.clear()
    _GRAPH_VARIABLES.clear()
    learning_phase()


# ------------------------------------------------------------------------------- learning phase
def symbolic_learning_phase() -> Any:
    """The graph's learning phase: the int `set_learning_phase` gave, else the `keras_learning_phase`
    placeholder_with_default(False), made on first use."""
    graph = get_default_graph()
    phase = _GRAPH_LEARNING_PHASES.get(graph)
    if phase is None:
        with graph.as_default(), graph._outside_control_flow(), graph.name_scope(""):
            phase = tf.placeholder_with_default(False, shape=(), name="keras_learning_phase")
        _GRAPH_LEARNING_PHASES[graph] = phase
    return phase


learning_phase = symbolic_learning_phase


def set_learning_phase(value: int) -> None:
    """Fixes the learning phase of the default graph to 0 (test) or 1 (train)."""
    if value not in (0, 1):
        raise ValueError("Expected learning phase to be 0 or 1.")
    _GRAPH_LEARNING_PHASES[get_default_graph()] = value


@contextlib.contextmanager
def learning_phase_scope(value: int) -> Iterator[None]:
    """The learning phase fixed to `value` inside, restored after."""
    if value not in (0, 1):
        raise ValueError("Expected learning phase to be 0 or 1.")
    graph = get_default_graph()
    previous = _GRAPH_LEARNING_PHASES.get(graph)
    _GRAPH_LEARNING_PHASES[graph] = value
    try:
        yield
    finally:
        if previous is None:
            _GRAPH_LEARNING_PHASES.pop(graph, None)
        else:
            _GRAPH_LEARNING_PHASES[graph] = previous


def in_train_phase(x: Any, alt: Any, training: Any = None) -> Any:
    """`x` in the training phase, `alt` otherwise; callables are called only on their branch."""
    from caudal.layers.utils import smart_cond

    if training is None:
        training = learning_phase()
    if training == 1 or training is True:
        return x() if callable(x) else x
    if training == 0 or training is False:
        return alt() if callable(alt) else alt
    return smart_cond(training, (x if callable(x) else lambda: x), (alt if callable(alt) else lambda: alt))


def in_test_phase(x: Any, alt: Any, training: Any = None) -> Any:
    return in_train_phase(alt, x, training=training)


# ----------------------------------------------------------------------------------- tensors
def cast_to_floatx(x: Any) -> Any:
    if isinstance(x, (Tensor, tf.Variable)):
        return tf.cast(x, dtype=floatx())
    return np.asarray(x, dtype=floatx())


def variable(value: Any, dtype: Any = None, name: str | None = None, constraint: Any = None) -> Any:
    """A tf.Variable holding `value` (floatx by default), tracked for initialization by `get_session`."""
    dtype = dtypes_lib.as_dtype(dtype or floatx())
    v = tf.Variable(np.asarray(value, dtype=dtype.as_numpy_dtype), dtype=dtype, name=name, constraint=constraint)
    track_variable(v)
    return v


def random_uniform_variable(shape: Any, low: float, high: float, dtype: Any = None, name: str | None = None,
                            seed: int | None = None) -> Any:
    dtype = dtypes_lib.as_dtype(dtype or floatx())
    init = tf.random_uniform_initializer(low, high, seed=seed)
    v = tf.Variable(lambda: init(shape, dtype=dtype), dtype=dtype, name=name)
    track_variable(v)
    return v


def random_normal_variable(shape: Any, mean: float, scale: float, dtype: Any = None, name: str | None = None,
                           seed: int | None = None) -> Any:
    dtype = dtypes_lib.as_dtype(dtype or floatx())
    init = tf.random_normal_initializer(mean, scale, seed=seed)
    v = tf.Variable(lambda: init(shape, dtype=dtype), dtype=dtype, name=name)
    track_variable(v)
    return v


def constant(value: Any, dtype: Any = None, shape: Any = None, name: str | None = None) -> Tensor:
    return tf.constant(value, dtype=dtype or floatx(), shape=shape, name=name)


def placeholder(shape: Any = None, ndim: int | None = None, dtype: Any = None, sparse: bool = False,
                name: str | None = None, ragged: bool = False) -> Any:
    """A placeholder of `shape` (or of `ndim` unknown dimensions), floatx by default."""
    if sparse and ragged:
        raise ValueError("Cannot set both sparse and ragged to True when creating a placeholder.")
    dtype = dtype or floatx()
    if not shape and ndim:
        shape = (None,) * ndim
    if sparse:
        from caudal.ops.sparse_ops import sparse_placeholder

        return sparse_placeholder(dtype, shape=shape, name=name)
    return tf.placeholder(dtype, shape=shape, name=name)


def is_placeholder(x: Any) -> bool:
    return isinstance(x, Tensor) and x.op.type == "Placeholder"


def is_keras_tensor(x: Any) -> bool:
    """True for a tensor a Keras layer (or `Input`) returned; ValueError for something not a tensor."""
    from caudal.keras.engine.node import keras_history

    if not isinstance(x, (Tensor, tf.Variable, tf.SparseTensor)):
        raise ValueError(f"Unexpectedly found an instance of type `{type(x)}`. Expected a symbolic tensor "
                         "instance.")
    return isinstance(x, Tensor) and keras_history(x) is not None


def count_params(x: Any) -> int:
    return int(np.prod(x.shape.as_list()))


# --------------------------------------------------------------------------------- values
def eval(x: Any) -> Any:  # noqa: A001 - Keras's name
    return get_value(tf.convert_to_tensor(x) if not isinstance(x, tf.Variable) else x)


def get_value(x: Any) -> Any:
    """The value of a variable or tensor, read in Keras's session."""
    if isinstance(x, np.ndarray):
        return x
    return get_session((x,)).run(x)


def batch_get_value(tensors: Any) -> list:
    if not tensors:
        return []
    return get_session(tensors).run(list(tensors))


def set_value(x: Any, value: Any) -> None:
    batch_set_value([(x, value)])


_ASSIGN_OPS: weakref.WeakKeyDictionary[Any, tuple] = weakref.WeakKeyDictionary()


def _assign_op(variable: Any) -> tuple[Tensor, Any]:
    """One placeholder and Assign per variable, made once, as Keras caches them."""
    found = _ASSIGN_OPS.get(variable)
    if found is None:
        dtype = variable.dtype.base_dtype
        with variable.graph.as_default(), tf.name_scope(None):
            feed = tf.placeholder(dtype, shape=[None] * variable.shape.ndims if variable.shape.ndims is not None
                                  else None, name=f"{variable.op.name.replace('/', '_')}/assign_placeholder")
            op = tf.assign(variable, feed)
        found = _ASSIGN_OPS[variable] = (feed, op)
    return found


def batch_set_value(tuples: Any) -> None:
    """Sets several variables in one run, through placeholders fed with the values."""
    tuples = list(tuples)
    if not tuples:
        return
    ops, feed_dict = [], {}
    for variable, value in tuples:
        value = np.asarray(value, dtype=variable.dtype.base_dtype.as_numpy_dtype)
        if variable.shape.is_fully_defined() and tuple(variable.shape.as_list()) != value.shape:
            value = value.reshape(variable.shape.as_list()) if value.size == variable.shape.num_elements() \
                else value
        feed, op = _assign_op(variable)
        feed_dict[feed] = value
        ops.append(op)
    get_session().run(ops, feed_dict=feed_dict)


def print_tensor(x: Any, message: str = "", summarize: int = 3) -> Tensor:
    """`x`, printing `message` and its value when it is computed."""
    return tf.Print(x, [x], message, summarize=summarize)


# ----------------------------------------------------------------------------------- K.function
class GraphExecutionFunction:
    """Runs `outputs` (and then `updates`) in Keras's session, fed positionally in the order of `inputs`.

    As in Keras, the updates run after the first output is computed; values are converted to each
    placeholder's dtype; the compiled runner is made once per session.
    """

    def __init__(self, inputs: Any, outputs: Any, updates: Any = None, name: str | None = None,
                 **session_kwargs: Any):
        from caudal.util import nest

        updates = updates or []
        if not isinstance(updates, (list, tuple)):
            raise TypeError("`updates` in a TF-Keras backend function should be a list or tuple.")
        self._inputs_structure = inputs
        self.inputs = nest.flatten(inputs)
        self._outputs_structure = outputs
        self.outputs = nest.flatten(outputs)
        self.name = name
        self.feed_dict = session_kwargs.pop("feed_dict", None) or {}
        self.fetches = list(session_kwargs.pop("fetches", None) or [])
        if session_kwargs:
            raise ValueError(f"Invalid argument {sorted(session_kwargs)} passed to K.function with TensorFlow "
                             "backend")
        graph = get_default_graph()
        with graph.control_dependencies(self.outputs[:1]):
            update_ops = []
            for update in updates:
                if isinstance(update, tuple):
                    target, new_value = update
                    update_ops.append(tf.assign(target, new_value))
                else:
                    update_ops.append(update)
            self.updates_op = tf.group(*update_ops) if update_ops else None
        self._runner: Any = None
        self._runner_session: Any = None
        self._input_dtypes = [t.dtype.base_dtype.as_numpy_dtype for t in self.inputs]

    def _make_runner(self, session: Any) -> Any:
        fetches = list(self.outputs) + list(self.fetches)
        if self.updates_op is not None:
            fetches.append(self.updates_op)
        feeds = list(self.inputs) + list(self.feed_dict)
        return session.make_callable(fetches, feed_list=feeds)

    def __call__(self, inputs: Any) -> Any:
        from caudal.util import nest

        inputs = nest.flatten(inputs)
        session = get_session(inputs)
        if self._runner is None or self._runner_session is not session:
            self._runner = self._make_runner(session)
            self._runner_session = session
        values = []
        for value, np_dtype in zip(inputs, self._input_dtypes):
            values.append(value if isinstance(value, np.ndarray) and value.dtype == np_dtype
                          else np.asarray(value, dtype=np_dtype))
        values.extend(self.feed_dict.values())
        fetched = self._runner(*values)
        return nest.pack_sequence_as(self._outputs_structure, list(fetched[:len(self.outputs)]))


def function(inputs: Any, outputs: Any, updates: Any = None, name: str | None = None, **kwargs: Any) \
        -> GraphExecutionFunction:
    """`K.function(inputs, outputs, updates)`: a callable taking a list of input values."""
    return GraphExecutionFunction(inputs, outputs, updates=updates, name=name, **kwargs)
