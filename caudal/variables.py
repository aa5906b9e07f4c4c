"""`tf.Variable` (TF1 reference variables) and the variable collection helpers.

A Variable builds, under one name scope, TF1's four nodes: the `VariableV2`
storage node (named exactly like the variable), `initial_value`, the
`Assign` initializer and the `read` snapshot that arithmetic uses. Values
live in each Session, so two sessions see independent values.
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor, register_tensor_conversion_function
from caudal.framework.default_session import run_with_default_session
from caudal.framework.graph import GraphKeys, Operation, apply_op, get_default_graph, name_scope
from caudal.framework.tensor import OVERLOADABLE_OPERATORS, Tensor
from caudal.framework.tensor_shape import TensorShape, as_shape, unknown_shape

__all__ = ["Variable", "global_variables", "trainable_variables", "local_variables", "model_variables",
           "global_variables_initializer", "local_variables_initializer", "variables_initializer",
           "is_variable_initialized", "report_uninitialized_variables", "assign", "assign_add", "assign_sub"]


class Variable:
    """A TF1 variable: state that persists across `Session.run` calls, per session."""

    def __init__(self, initial_value: Any = None, trainable: bool | None = None, collections: Any = None,
                 validate_shape: bool = True, caching_device: Any = None, name: str | None = None,
                 variable_def: Any = None, dtype: Any = None, expected_shape: Any = None,
                 import_scope: str | None = None, constraint: Any = None, use_resource: Any = None,
                 synchronization: Any = None, aggregation: Any = None, shape: Any = None):
        if variable_def is not None:
            self._init_from_graph(variable_def, import_scope)
            return
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        trainable = True if trainable is None else trainable
        if collections is None:
            collections = [GraphKeys.GLOBAL_VARIABLES]
        collections = list(collections)
        if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
            collections.append(GraphKeys.TRAINABLE_VARIABLES)
        init_from_fn = callable(initial_value)
        dtype = dtypes_lib.as_dtype(dtype).base_dtype if dtype is not None else None
        graph = get_default_graph()
        if not init_from_fn and isinstance(initial_value, Tensor) and initial_value.op._control_flow_context:
            raise ValueError(f"Initializer for variable {name or 'Variable'} is from inside a control-flow construct, "
                             "such as a loop or conditional. When creating a variable inside a loop or "
                             "conditional, use a lambda as the initializer.")
        with graph._outside_control_flow(), name_scope(name, "Variable", [] if init_from_fn else [initial_value]) \
                as scope:
            if init_from_fn:
                # As TF: the initializer's ops have no device and are colocated with the variable
                # (`_class: loc:@<variable>`, which does not exist yet), or with what the variable
                # itself is colocated with (an optimizer slot's primary).
                first = len(graph._ops)
                with graph.name_scope("Initializer"), graph.device(None):
                    initial = convert_to_tensor(initial_value(), name="initial_value", dtype=dtype)
                colocation = graph._state.colocation_stack
                groups = sorted({group for c in colocation for group in c._attrs.get("_class") or [f"loc:@{c.name}"]}
                                ) if colocation else [f"loc:@{scope[:-1]}"]
                for op in graph._ops[first:]:
                    op._attrs.setdefault("_class", list(groups))
            else:
                initial = convert_to_tensor(initial_value, name="initial_value", dtype=dtype)
            if shape is not None:
                static = as_shape(shape)
            elif validate_shape:
                static = initial.shape
                if not static.is_fully_defined():
                    raise ValueError(f"initial_value must have a shape specified: {initial}")
            else:
                static = unknown_shape()
            self._variable = graph.create_op(
                "VariableV2", [], {"shape": static, "dtype": initial.dtype.base_dtype, "container": "",
                                   "shared_name": ""}, scope)._outputs[0]
            self._initial_value = initial
            with graph.colocate_with(self._variable.op):  # on the variable's device, as in TF
                self._initializer_op = graph.create_op(
                    "Assign", [self._variable, initial],
                    {"T": initial.dtype.base_dtype, "validate_shape": validate_shape, "use_locking": True},
                    "Assign")
                self._snapshot = apply_op("Identity", [self._variable], {"T": initial.dtype.base_dtype}, "read")
        self._trainable = trainable
        self._constraint = constraint
        self._caching_device = caching_device
        self._save_slice_info = None
        graph.add_to_collections(collections, self)

    def _init_from_graph(self, variable_def: Any, import_scope: str | None) -> None:
        """Rebuilds a Variable around existing nodes (from a VariableDef-like record)."""
        graph = get_default_graph()

        def scoped(name: str) -> str:
            return f"{import_scope}/{name}" if import_scope else name

        self._variable = graph.as_graph_element(scoped(variable_def.variable_name))
        self._initializer_op = graph.as_graph_element(scoped(variable_def.initializer_name))
        self._initial_value = graph.as_graph_element(scoped(variable_def.initial_value_name)) \
            if getattr(variable_def, "initial_value_name", "") else None
        self._snapshot = graph.as_graph_element(scoped(variable_def.snapshot_name))
        self._trainable = getattr(variable_def, "trainable", True)
        self._constraint = None
        self._caching_device = None
        self._save_slice_info = None

    # ------------------------------------------------------------ identity
    @property
    def name(self) -> str:
        return self._variable.name

    @property
    def op(self) -> Operation:
        return self._variable.op

    @property
    def graph(self) -> Any:
        return self._variable.graph

    @property
    def device(self) -> str:
        return self._variable.device

    @property
    def dtype(self) -> dtypes_lib.DType:
        """The reference dtype (`float32_ref`), as in TF1; `.base_dtype` gives float32."""
        return self._variable.dtype

    @property
    def shape(self) -> TensorShape:
        return self._variable.shape

    def get_shape(self) -> TensorShape:
        return self._variable.shape

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def constraint(self) -> Any:
        return self._constraint

    @property
    def initializer(self) -> Operation:
        return self._initializer_op

    @property
    def initial_value(self) -> Tensor:
        return self._initial_value

    def _as_graph_element(self) -> Tensor:
        return self._variable

    def _ref(self) -> Tensor:
        return self._variable

    def ref(self) -> Variable:
        return self

    def experimental_ref(self) -> Variable:
        return self

    # --------------------------------------------------------------- reads
    def value(self) -> Tensor:
        """The snapshot `name/read` that arithmetic on the variable uses."""
        return self._snapshot

    def read_value(self) -> Tensor:
        """A fresh read of the variable, ordered by the control dependencies in force here."""
        return apply_op("Identity", [self._variable], {"T": self.dtype.base_dtype}, "read")

    def initialized_value(self) -> Tensor:
        """The value if initialized, else the initial value (so other initial values may use it)."""
        from caudal.ops.cond_ops import cond

        with get_default_graph().control_dependencies(None):
            return cond(is_variable_initialized(self), self.read_value, lambda: self._initial_value)

    def eval(self, session: Any = None) -> Any:
        return run_with_default_session(self._variable, None, session)

    # -------------------------------------------------------------- writes
    def assign(self, value: Any, use_locking: bool | None = None, name: str | None = None,
               read_value: bool = True) -> Any:
        """An op setting the variable to `value`; running it yields the new value."""
        result = _state_op("Assign", self._variable, value, name, validate_shape=True,
                           use_locking=bool(use_locking))
        return result if read_value else result.op

    def assign_add(self, delta: Any, use_locking: bool | None = None, name: str | None = None,
                   read_value: bool = True) -> Any:
        result = _state_op("AssignAdd", self._variable, delta, name, use_locking=bool(use_locking))
        return result if read_value else result.op

    def assign_sub(self, delta: Any, use_locking: bool | None = None, name: str | None = None,
                   read_value: bool = True) -> Any:
        result = _state_op("AssignSub", self._variable, delta, name, use_locking=bool(use_locking))
        return result if read_value else result.op

    def count_up_to(self, limit: int) -> Tensor:
        """An op incrementing this int32/int64 scalar variable until `limit` (`tf.count_up_to`)."""
        from caudal.ops.counter_ops import count_up_to

        return count_up_to(self, limit)

    def load(self, value: Any, session: Any = None) -> None:
        """Sets the variable's value in `session` (or the default session) without new graph nodes."""
        from caudal.runtime.session import get_default_session

        session = session or get_default_session()
        if session is None:
            raise ValueError("Either session argument should be provided or default session should be "
                             "established")
        session.run(self._initializer_op, {self._initializer_op.inputs[1]: value})

    def set_shape(self, shape: Any) -> None:
        self._variable.set_shape(shape)
        self._snapshot.set_shape(shape)

    # ---------------------------------------------------------- misc
    def _get_save_slice_info(self) -> Any:
        return self._save_slice_info

    def __repr__(self) -> str:
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self.dtype.name}>"

    __hash__ = object.__hash__

    def __iter__(self) -> Any:
        raise TypeError("'Variable' object is not iterable.")

    def __bool__(self) -> bool:
        raise TypeError("Using a `tf.Variable` as a Python `bool` is not allowed.")

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise NotImplementedError(f"Cannot convert a symbolic Variable ({self.name}) to a numpy array.")

    def to_proto(self, export_scope: str | None = None) -> Any:
        from caudal.framework.graph_io import variable_to_proto

        return variable_to_proto(self, export_scope)

    @staticmethod
    def from_proto(variable_def: Any, import_scope: str | None = None) -> Variable:
        return Variable(variable_def=variable_def, import_scope=import_scope)


def _variable_to_tensor(value: Variable, dtype: Any = None, name: str | None = None, as_ref: bool = False) -> Tensor:
    if as_ref:
        return value._variable
    return value._snapshot


register_tensor_conversion_function(Variable, _variable_to_tensor)
for _name in OVERLOADABLE_OPERATORS:
    setattr(Variable, _name, getattr(Tensor, _name))  # a Variable takes part in arithmetic as its value


def _ref_tensor(ref: Any) -> Tensor:
    if isinstance(ref, Variable):
        return ref._variable
    if isinstance(ref, Tensor) and ref.dtype.is_ref_dtype:
        return ref
    raise TypeError(f"'ref' needs to be a Variable (a reference), got {ref!r}")


def _state_op(op_type: str, ref: Any, value: Any, name: str | None, **attrs: Any) -> Tensor:
    """The op `op_type`(ref, value); a value that is not a Tensor becomes `<op name>/value`, as in TF."""
    ref_t = _ref_tensor(ref)
    attrs["T"] = ref_t.dtype.base_dtype
    graph = ref_t.graph
    if isinstance(value, Tensor):
        return graph.create_op(op_type, [ref_t, value], attrs, name or op_type)._outputs[0]
    with graph.as_default(), graph.name_scope(name or op_type) as scope:
        value_t = convert_to_tensor(value, dtype=ref_t.dtype.base_dtype, name="value")
        return graph.create_op(op_type, [ref_t, value_t], attrs, scope)._outputs[0]


def assign(ref: Any, value: Any, validate_shape: bool | None = None, use_locking: bool | None = None,
           name: str | None = None) -> Tensor:
    """`tf.assign`: sets `ref` to `value`. With validate_shape=False the shape may change."""
    return _state_op("Assign", ref, value, name, validate_shape=validate_shape is not False,
                     use_locking=use_locking is not False)


def assign_add(ref: Any, value: Any, use_locking: bool | None = None, name: str | None = None) -> Tensor:
    return _state_op("AssignAdd", ref, value, name, use_locking=bool(use_locking))


def assign_sub(ref: Any, value: Any, use_locking: bool | None = None, name: str | None = None) -> Tensor:
    return _state_op("AssignSub", ref, value, name, use_locking=bool(use_locking))


# ---------------------------------------------------------------- collections
def global_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def trainable_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def moving_average_variables(scope: str | None = None) -> list[Variable]:
    return get_default_graph().get_collection(GraphKeys.MOVING_AVERAGE_VARIABLES, scope)


def variables_initializer(var_list: Any, name: str = "init") -> Operation:
    """One op that runs the initializers of `var_list`."""
    from caudal.ops.control_ops import group, no_op

    if var_list:
        return group(*[v.initializer for v in var_list], name=name)
    return no_op(name=name)


def global_variables_initializer() -> Operation:
    return variables_initializer(global_variables())


initialize_all_variables = global_variables_initializer


def local_variables_initializer() -> Operation:
    return variables_initializer(local_variables(), name="init")


def is_variable_initialized(variable: Any) -> Tensor:
    ref = _ref_tensor(variable)
    return ref.graph.create_op("IsVariableInitialized", [ref], {"dtype": ref.dtype.base_dtype},
                               "IsVariableInitialized")._outputs[0]


def assert_variables_initialized(var_list: Any = None) -> Operation:
    from caudal.ops.control_ops import group

    variables = var_list if var_list is not None else global_variables() + local_variables()
    return group(*[is_variable_initialized(v) for v in variables])


def report_uninitialized_variables(var_list: Any = None, name: str = "report_uninitialized_variables") -> Tensor:
    """A 1-D string tensor naming the variables (of `var_list`) not yet initialized."""
    import numpy as np

    from caudal.ops.array_ops import stack
    from caudal.ops.comparison_ops import logical_not
    from caudal.ops.constant_ops import constant
    from caudal.ops.gather_ops import boolean_mask

    variables = var_list if var_list is not None else global_variables() + local_variables()
    with get_default_graph().name_scope(name) as scope:
        if not variables:
            return constant(np.array([], dtype=object), dtype=dtypes_lib.string, name=scope[:-1] + "/")
        initialized = stack([is_variable_initialized(v) for v in variables])
        names = constant(np.array([v.op.name.encode() for v in variables], dtype=object), dtype=dtypes_lib.string)
        return boolean_mask(names, logical_not(initialized), name=scope[:-1] + "/")
