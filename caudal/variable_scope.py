"""`tf.variable_scope` and `tf.get_variable`, with TF1's naming and sharing rules.

Each graph has a store of variables made by `get_variable` (keyed by full
name), the current VariableScope, and a count of opened scope names so that
`default_name` scopes are made unique (`dense`, `dense_1`, ...). A string
scope also opens a name scope (uniquified: `foo_1` on re-entry); a
VariableScope object re-enters its original name scope.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import Graph, GraphKeys, get_default_graph
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import as_shape

__all__ = ["VariableScope", "variable_scope", "get_variable", "get_variable_scope", "AUTO_REUSE"]


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


class VariableScope:
    """Defaults for `get_variable` within a scope: reuse, initializer, regularizer, dtype."""

    def __init__(self, reuse: Any, name: str = "", initializer: Any = None, regularizer: Any = None,
                 caching_device: Any = None, partitioner: Any = None, custom_getter: Any = None,
                 name_scope: str = "", dtype: Any = dtypes_lib.float32, use_resource: Any = None,
                 constraint: Any = None):
        self._name = name
        self._reuse = reuse
        self._initializer = initializer
        self._regularizer = regularizer
        self._caching_device = caching_device
        self._partitioner = partitioner
        self._custom_getter = custom_getter
        self._name_scope = name_scope
        self._dtype = dtypes_lib.as_dtype(dtype)
        self._use_resource = use_resource
        self._constraint = constraint

    @property
    def name(self) -> str:
        return self._name

    @property
    def original_name_scope(self) -> str:
        return self._name_scope

    @property
    def reuse(self) -> Any:
        return self._reuse

    @property
    def initializer(self) -> Any:
        return self._initializer

    @property
    def regularizer(self) -> Any:
        return self._regularizer

    @property
    def dtype(self) -> dtypes_lib.DType:
        return self._dtype

    @property
    def custom_getter(self) -> Any:
        return self._custom_getter

    @property
    def caching_device(self) -> Any:
        return self._caching_device

    @property
    def partitioner(self) -> Any:
        return self._partitioner

    @property
    def use_resource(self) -> Any:
        return self._use_resource

    @property
    def constraint(self) -> Any:
        return self._constraint

    def reuse_variables(self) -> None:
        self._reuse = True

    def set_initializer(self, initializer: Any) -> None:
        self._initializer = initializer

    def set_regularizer(self, regularizer: Any) -> None:
        self._regularizer = regularizer

    def set_dtype(self, dtype: Any) -> None:
        self._dtype = dtypes_lib.as_dtype(dtype)

    def set_custom_getter(self, custom_getter: Any) -> None:
        self._custom_getter = custom_getter

    def set_caching_device(self, caching_device: Any) -> None:
        self._caching_device = caching_device

    def set_partitioner(self, partitioner: Any) -> None:
        self._partitioner = partitioner

    def get_variable(self, var_store: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        return get_variable(name, *args, **kwargs)

    def get_collection(self, name: str) -> list[Any]:
        scope = self._name + "/" if self._name else ""
        return get_default_graph().get_collection(name, scope)

    def global_variables(self) -> list[Any]:
        return self.get_collection(GraphKeys.GLOBAL_VARIABLES)

    def trainable_variables(self) -> list[Any]:
        return self.get_collection(GraphKeys.TRAINABLE_VARIABLES)

    def local_variables(self) -> list[Any]:
        return self.get_collection(GraphKeys.LOCAL_VARIABLES)

    def __repr__(self) -> str:
        return f"<VariableScope name={self._name!r} reuse={self._reuse}>"


class _VariableStore:
    """Per-graph: variables by name, the current scope, and how often each scope name was opened."""

    def __init__(self) -> None:
        self.variables: dict[str, Any] = {}
        self.current_scope = VariableScope(False)
        self.scope_counts: dict[str, int] = {}

    def open_scope(self, name: str) -> None:
        self.scope_counts[name] = self.scope_counts.get(name, 0) + 1

    def close_subscopes(self, name: str) -> None:
        prefix = name + "/"
        for key in list(self.scope_counts):
            if key.startswith(prefix):
                self.scope_counts[key] = 0


def _store(graph: Graph | None = None) -> _VariableStore:
    graph = graph or get_default_graph()
    store = getattr(graph, "_variable_store", None)
    if store is None:
        store = _VariableStore()
        graph._variable_store = store
    return store


def get_variable_scope() -> VariableScope:
    return _store().current_scope


def _unique_scope_name(prefix: str) -> str:
    store = _store()
    current = store.current_scope.name
    full = f"{current}/{prefix}" if current else prefix
    if store.scope_counts.get(full, 0) == 0:
        return prefix
    index = 1
    while store.scope_counts.get(f"{full}_{index}", 0) > 0:
        index += 1
    return f"{prefix}_{index}"


class variable_scope:  # noqa: N801 - TF's name
    """`with tf.variable_scope(name_or_scope, default_name=None, values=None, ...) as scope:`."""

    def __init__(self, name_or_scope: Any, default_name: str | None = None, values: Any = None,
                 initializer: Any = None, regularizer: Any = None, caching_device: Any = None,
                 partitioner: Any = None, custom_getter: Any = None, reuse: Any = None, dtype: Any = None,
                 use_resource: Any = None, constraint: Any = None, auxiliary_name_scope: bool = True):
        if name_or_scope is None and default_name is None:
            raise TypeError("If default_name is None then name_or_scope is required")
        if reuse is False:
            reuse = None
        if name_or_scope is None and reuse is True:
            raise ValueError("reuse=True cannot be used without a name_or_scope")
        if not (name_or_scope is None or isinstance(name_or_scope, (str, VariableScope))):
            raise TypeError("VariableScope: name_or_scope must be a string or VariableScope.")
        self._name_or_scope = name_or_scope
        self._default_name = default_name
        self._values = values
        self._overrides = {"initializer": initializer, "regularizer": regularizer,
                           "caching_device": caching_device, "partitioner": partitioner,
                           "custom_getter": custom_getter, "dtype": dtype, "use_resource": use_resource,
                           "constraint": constraint}
        self._reuse = reuse
        self._auxiliary_name_scope = auxiliary_name_scope
        self._graph: Graph | None = None
        self._name_scope_cm: Any = None
        self._graph_cm: Any = None
        self._old_scope: VariableScope | None = None
        self._old_counts: dict[str, int] | None = None
        self._new_name = ""

    def __enter__(self) -> VariableScope:
        from caudal.framework.graph import _graph_of

        self._graph = _graph_of(self._values) if self._values else get_default_graph()
        self._graph_cm = self._graph.as_default()
        self._graph_cm.__enter__()
        store = _store(self._graph)
        old = store.current_scope
        self._old_scope = old
        target = self._name_or_scope
        if isinstance(target, VariableScope):
            self._new_name = target.name
            if self._auxiliary_name_scope:
                self._name_scope_cm = self._graph.name_scope(target.original_name_scope or None)
                name_scope_str = self._name_scope_cm.__enter__()
            else:
                name_scope_str = target.original_name_scope
            reuse = True if old.reuse is True else (self._reuse if self._reuse is not None else target.reuse)
            new = VariableScope(reuse, target.name, target.initializer, target.regularizer, target.caching_device,
                                target.partitioner, target.custom_getter, name_scope_str or target.original_name_scope,
                                target.dtype, target.use_resource, target.constraint)
            self._old_counts = dict(store.scope_counts)
        else:
            relative = target if target is not None else _unique_scope_name(self._default_name)
            self._new_name = f"{old.name}/{relative}" if old.name else relative
            if self._auxiliary_name_scope:
                # TF opens the name scope of the name as given (a default name made unique by the
                # graph), which can differ from the variable scope's unique name.
                self._name_scope_cm = self._graph.name_scope(target if target is not None else self._default_name)
                name_scope_str = self._name_scope_cm.__enter__()
            else:
                name_scope_str = self._new_name + "/"
            reuse = True if old.reuse is True else (self._reuse if self._reuse is not None else old.reuse)
            new = VariableScope(reuse, self._new_name, old.initializer, old.regularizer, old.caching_device,
                                old.partitioner, old.custom_getter, name_scope_str, old.dtype, old.use_resource,
                                old.constraint)
        for key, value in self._overrides.items():
            if value is not None:
                setattr(new, "_" + key, dtypes_lib.as_dtype(value) if key == "dtype" else value)
        store.open_scope(self._new_name)
        store.current_scope = new
        return new

    def __exit__(self, *exc: Any) -> None:
        store = _store(self._graph)
        store.current_scope = self._old_scope
        if self._old_counts is not None:
            store.scope_counts = self._old_counts
        else:
            store.close_subscopes(self._new_name)
        if self._name_scope_cm is not None:
            self._name_scope_cm.__exit__(*exc)
        self._graph_cm.__exit__(*exc)


def variable_op_scope(values: Any, name_or_scope: Any, default_name: str | None = None, **kwargs: Any) -> Any:
    return variable_scope(name_or_scope, default_name=default_name, values=values, **kwargs)


def _default_initializer(name: str, dtype: dtypes_lib.DType) -> Any:
    from caudal import init_ops

    if dtype.is_floating:
        return init_ops.GlorotUniform()
    if dtype.is_integer or dtype.is_unsigned or dtype.is_bool or dtype is dtypes_lib.string:
        return init_ops.Zeros()
    raise ValueError(f"An initializer for variable {name} of {dtype.name} is required")


def get_variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None,
                 regularizer: Any = None, trainable: bool | None = None, collections: Any = None,
                 caching_device: Any = None, partitioner: Any = None, validate_shape: bool = True,
                 use_resource: Any = None, custom_getter: Any = None, constraint: Any = None,
                 synchronization: Any = None, aggregation: Any = None) -> Any:
    """Gets the variable `scope/name`, or creates it; sharing follows the scope's `reuse`.

    As in TF, a value initializer (an array, a list, a number or a Tensor) gives the
    variable its dtype and shape: `shape` must then be None, and a `dtype` that
    differs from the value's is an error. Otherwise the dtype is `dtype`, or the
    scope's (float32 by default).
    """
    scope = get_variable_scope()
    full_name = f"{scope.name}/{name}" if scope.name else name
    graph = get_default_graph()
    if dtype is not None:
        dtype = dtypes_lib.as_dtype(dtype).base_dtype
        if initializer is not None and not callable(initializer):
            from caudal.framework.convert import convert_to_tensor

            with graph.name_scope(None):
                init_dtype = convert_to_tensor(initializer).dtype.base_dtype
            if init_dtype != dtype:
                raise ValueError(f"Initializer type '<dtype: {init_dtype.name!r}>' and explicit dtype "
                                 f"'<dtype: {dtype.name!r}>' don't match.")
    getter_kwargs = dict(shape=shape, dtype=dtype if dtype is not None else scope.dtype.base_dtype,
                         initializer=initializer if initializer is not None else scope.initializer,
                         regularizer=regularizer, trainable=trainable, collections=collections,
                         validate_shape=validate_shape, constraint=constraint)
    getters = [g for g in (scope.custom_getter, custom_getter) if g is not None]
    getter: Callable = _true_getter
    for custom in getters:
        getter = _wrap_getter(custom, getter)
    return getter(full_name, **getter_kwargs)


def _wrap_getter(custom: Callable, inner: Callable) -> Callable:
    def wrapped(name: str, *args: Any, **kwargs: Any) -> Any:
        return custom(inner, name, *args, **kwargs)

    return wrapped


def _needs_no_arguments(fn: Callable) -> bool:
    """Whether `fn` can be called with no arguments (every parameter has a default or is variadic)."""
    import inspect

    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.default is not inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in parameters)


_INVALID_INITIALIZER = ("The initializer passed is not valid. It should be a callable with no arguments and the "
                        "shape should not be provided or an instance of `tf.keras.initializers.*' and `shape` "
                        "should be fully defined.")


def _true_getter(name: str, shape: Any = None, dtype: Any = dtypes_lib.float32, initializer: Any = None,
                 regularizer: Any = None, trainable: bool | None = None, collections: Any = None,
                 validate_shape: bool = True, constraint: Any = None, **ignored: Any) -> Any:
    from caudal.variables import Variable

    scope = get_variable_scope()
    store = _store()
    reuse = scope.reuse
    from_value = initializer is not None and not callable(initializer)
    if shape is not None and from_value:
        raise ValueError("If initializer is a constant, do not specify shape.")
    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    shape = as_shape(shape) if shape is not None else None
    existing = store.variables.get(name)
    if existing is not None:
        if reuse is not True and reuse is not AUTO_REUSE:
            raise ValueError(f"Variable {name} already exists, disallowed. Did you mean to set reuse=True or "
                             f"reuse=tf.AUTO_REUSE in VarScope?")
        found = existing.get_shape()
        if shape is not None and not shape.is_compatible_with(found):
            raise ValueError(f"Trying to share variable {name}, but specified shape {shape} and found shape "
                             f"{found}.")
        if dtype != existing.dtype.base_dtype:
            raise ValueError(f"Trying to share variable {name}, but specified dtype {dtype.name} and found dtype "
                             f"{existing.dtype.name}.")
        return existing
    if reuse is True:
        raise ValueError(f"Variable {name} does not exist, or was not created with tf.get_variable(). Did you mean "
                         f"to set reuse=tf.AUTO_REUSE in VarScope?")
    if initializer is None:
        if shape is None:
            raise ValueError(f"Variable {name} did not get an initializer, so its `shape` argument must be "
                             f"specified.")
        initializer = _default_initializer(name, dtype)
    variable_dtype: Any = None
    if from_value:
        init_value: Any = initializer
    else:
        if isinstance(initializer, type):
            initializer = initializer(dtype=dtype)
        if shape is not None and shape.is_fully_defined():
            dims = shape.as_list()

            def init_value() -> Tensor:
                return initializer(dims, dtype=dtype, partition_info=None)

            variable_dtype = dtype
        elif _needs_no_arguments(initializer):
            init_value = initializer
        else:
            raise ValueError(_INVALID_INITIALIZER)
    graph = get_default_graph()
    with graph.name_scope(None):
        variable = Variable(initial_value=init_value, name=name, trainable=trainable, collections=collections,
                            dtype=variable_dtype, validate_shape=validate_shape, constraint=constraint)
    store.variables[name] = variable
    if regularizer is None:
        regularizer = scope.regularizer
    if regularizer is not None:
        with graph.name_scope(None), graph.name_scope(name + "/Regularizer/"):
            loss = regularizer(variable)
        if loss is not None:
            graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return variable


def get_local_variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None,
                       regularizer: Any = None, trainable: bool = False, collections: Any = None,
                       **kwargs: Any) -> Any:
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return get_variable(name, shape, dtype, initializer, regularizer, False, collections, **kwargs)


def no_regularizer(_: Any) -> None:
    return None

