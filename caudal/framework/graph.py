"""`Graph` and `Operation`, with TF1's naming, scopes, collections and default-graph stack.

A Graph owns its Operations in creation order, an index by name, the name,
control-dependency and device stacks, collections, and two counters: `version`
(bumps on every new op) and `_mutation_version` (bumps when an existing op
changes, e.g. a control input is added). Execution plans depend only on the
ancestors of what they fetch, which adding ops never changes, so plans are
cached against `_mutation_version`.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework import tensor_shape
from caudal.framework.default_session import has_default_session, run_with_default_session
from caudal.framework.registry import get_op_def
from caudal.framework.tensor import Tensor

__all__ = ["Graph", "Operation", "GraphKeys", "get_default_graph", "reset_default_graph",
           "name_scope", "control_dependencies", "device"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_VALID_OP_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$")
_VALID_SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


def _user_frame() -> tuple[str, int] | None:
    """The (file, line) of the first caller outside this package: where the user built the op."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) or "/examples/" in filename:
            return filename, frame.f_lineno
        frame = frame.f_back
    return None


class InferContext:
    """What an op's shape and dtype rule sees: its name, inputs and attrs."""

    __slots__ = ("name", "type", "inputs", "attrs")

    def __init__(self, name: str, type: str, inputs: list[Tensor], attrs: dict[str, Any]):
        self.name = name
        self.type = type
        self.inputs = inputs
        self.attrs = attrs

    def dtype(self, i: int) -> dtypes_lib.DType:
        return self.inputs[i].dtype.base_dtype

    def shape(self, i: int) -> tensor_shape.TensorShape:
        return self.inputs[i].shape

    def value(self, i: int) -> Any:
        """The input's value if it is known when the graph is built, else None."""
        from caudal.framework.constant_value import constant_value

        return constant_value(self.inputs[i])

    def shape_value(self, i: int) -> tensor_shape.TensorShape:
        """Reads a shape-valued input (like Reshape's `shape`) as a partial TensorShape."""
        from caudal.framework.constant_value import constant_value_as_shape

        return constant_value_as_shape(self.inputs[i])


class Operation:
    """A node of the graph: an op type, inputs, control inputs, attrs and outputs."""

    __slots__ = ("_graph", "_name", "_type", "_op_def", "_inputs", "_control_inputs", "_attrs",
                 "_outputs", "_device", "_id", "_traceback", "_control_outputs", "_gradient_override",
                 "_control_flow_context", "_control_flow_pred", "__weakref__")

    def __init__(self, graph: Graph, op_type: str, name: str, inputs: list[Tensor],
                 control_inputs: list[Operation], attrs: dict[str, Any], device: str, op_id: int):
        self._graph = graph
        self._name = name
        self._type = op_type
        self._op_def = get_op_def(op_type)
        self._inputs = tuple(inputs)
        self._control_inputs = list(control_inputs)
        self._attrs = attrs
        self._device = device
        self._id = op_id
        self._outputs: tuple[Tensor, ...] = ()
        self._traceback = _user_frame()
        self._control_outputs: list[Operation] = []
        self._gradient_override: str | None = None
        self._control_flow_context: Any = None
        self._control_flow_pred: Any = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def type(self) -> str:
        return self._type

    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        return self._inputs

    @property
    def outputs(self) -> tuple[Tensor, ...]:
        return self._outputs

    @property
    def control_inputs(self) -> list[Operation]:
        return list(self._control_inputs)

    @property
    def device(self) -> str:
        return self._device

    @property
    def node_def(self) -> Any:
        from caudal.framework.graph_io import node_def_of

        return node_def_of(self)

    @property
    def traceback(self) -> list[tuple[str, int]]:
        return [self._traceback] if self._traceback else []

    def _set_device(self, device_name: str) -> None:
        self._device = device_name or ""

    def get_attr(self, name: str) -> Any:
        try:
            return self._attrs[name]
        except KeyError:
            raise ValueError(f"Operation '{self._name}' has no attr named '{name}'.") from None

    @property
    def attrs(self) -> dict[str, Any]:
        return dict(self._attrs)

    def values(self) -> tuple[Tensor, ...]:
        return self._outputs

    def _add_control_input(self, op: Operation) -> None:
        if op not in self._control_inputs:
            self._control_inputs.append(op)
            op._control_outputs.append(self)
            self._graph._mutation_version += 1

    def _update_input(self, index: int, tensor: Tensor) -> None:
        """Replaces input `index` (a loop's Merge gets its NextIteration this way, after the body)."""
        old = self._inputs[index]
        if self in old._consumers:
            old._consumers.remove(self)
        self._inputs = self._inputs[:index] + (tensor,) + self._inputs[index + 1:]
        tensor._consumers.append(self)
        self._graph._mutation_version += 1

    def run(self, feed_dict: Any = None, session: Any = None) -> None:
        """Runs this op in `session` or the default session."""
        run_with_default_session(self, feed_dict, session)

    def _as_graph_element(self) -> Operation:
        return self

    def where_defined(self) -> str:
        """'file:line' of the user code that created this op, for error messages."""
        if self._traceback is None:
            return "<unknown>"
        return f"{self._traceback[0]}:{self._traceback[1]}"

    def __repr__(self) -> str:
        return f"<tf.Operation '{self._name}' type={self._type}>"

    __str__ = __repr__


class GraphKeys:
    """Standard collection names, as in TF1."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    METRIC_VARIABLES = "metric_variables"
    MODEL_VARIABLES = "model_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    SUMMARIES = "summaries"
    QUEUE_RUNNERS = "queue_runners"
    TABLE_INITIALIZERS = "table_initializer"
    ASSET_FILEPATHS = "asset_filepaths"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    REGULARIZATION_LOSSES = "regularization_losses"
    CONCATENATED_VARIABLES = "concatenated_variables"
    SAVERS = "savers"
    WEIGHTS = "weights"
    BIASES = "biases"
    ACTIVATIONS = "activations"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    SAVEABLE_OBJECTS = "saveable_objects"
    RESOURCES = "resources"
    LOCAL_RESOURCES = "local_resources"
    TRAINABLE_RESOURCE_VARIABLES = "trainable_resource_variables"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    READY_OP = "ready_op"
    READY_FOR_LOCAL_INIT_OP = "ready_for_local_init_op"
    SUMMARY_OP = "summary_op"
    GLOBAL_STEP = "global_step"
    EVAL_STEP = "eval_step"
    TRAIN_OP = "train_op"
    COND_CONTEXT = "cond_context"
    WHILE_CONTEXT = "while_context"
    VARIABLES = GLOBAL_VARIABLES


class Graph:
    """A TensorFlow computation: Operations and the Tensors between them."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._ops: list[Operation] = []
        self._ops_by_name: dict[str, Operation] = {}
        self._names_in_use: dict[str, int] = {}
        self._version = 0
        self._mutation_version = 0
        self._finalized = False
        self._collections: dict[str, list[Any]] = {}
        self._thread_local = threading.local()
        self._seed: int | None = None
        self._gradient_override_map: dict[str, str] = {}
        self._container = ""
        self._unfeedable: set[Tensor] = set()
        self._unfetchable: set[Any] = set()
        self._constant_cache: dict[Tensor, Any] = {}
        self._serialized_graph_defs: dict[bool, tuple[tuple[int, int], bytes]] = {}

    # Per-thread builder state, as in TF: each thread has its own scopes.
    @property
    def _state(self) -> Any:
        state = self._thread_local
        if not hasattr(state, "name_stack"):
            state.name_stack = ""
            state.control_stack = []
            state.device_stack = []
            state.colocation_stack = []
            state.control_flow_context = None
        return state

    @property
    def version(self) -> int:
        return self._version

    @property
    def finalized(self) -> bool:
        return self._finalized

    @property
    def seed(self) -> int | None:
        return self._seed

    @seed.setter
    def seed(self, seed: int | None) -> None:
        self._seed = seed

    @property
    def _last_id(self) -> int:
        return len(self._ops)

    @property
    def building_function(self) -> bool:
        return False

    def finalize(self) -> None:
        """Makes the graph read-only: adding an op afterwards raises RuntimeError."""
        self._finalized = True

    def _unsafe_unfinalize(self) -> None:
        self._finalized = False

    def as_default(self) -> contextlib.AbstractContextManager[Graph]:
        return _default_graph_stack.get_controller(self)

    # ----------------------------------------------------------------- names
    def get_name_scope(self) -> str:
        return self._state.name_stack

    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """`name` made unique in this graph (`add`, `add_1`, ...), inside the current scope.

        Uniqueness is case-insensitive, as in TF.
        """
        stack = self._state.name_stack
        if stack:
            name = f"{stack}/{name}"
        key = name.lower()
        count = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = count + 1
        if count > 0:
            base_key = key
            while key in self._names_in_use:
                key = f"{base_key}_{count}"
                count += 1
            if mark_as_used:
                self._names_in_use[key] = 1
            name = f"{name}_{count - 1}"
        return name

    @contextlib.contextmanager
    def name_scope(self, name: str | None) -> Iterator[str]:
        """Opens a name scope; TF's rules for None, "" and a trailing "/" apply."""
        state = self._state
        old_stack = state.name_stack
        if not name:
            new_stack = ""
            returned = ""
        elif name.endswith("/"):
            new_stack = name[:-1]
            if new_stack and not _VALID_SCOPE_NAME.match(new_stack):
                raise ValueError(f"'{name}' is not a valid scope name")
            returned = name
        else:
            if not _VALID_SCOPE_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid scope name")
            new_stack = self.unique_name(name)
            returned = new_stack + "/"
        state.name_stack = new_stack
        try:
            yield returned
        finally:
            state.name_stack = old_stack

    # ---------------------------------------------------------------- devices
    @contextlib.contextmanager
    def device(self, device_name_or_function: Any) -> Iterator[None]:
        """Ops created inside record this device (a string, or a function of the op)."""
        stack = self._state.device_stack
        stack.append(device_name_or_function)
        try:
            yield
        finally:
            stack.pop()

    def _current_device(self, op: Operation | None = None, device: str = "") -> str:
        """The device of a new op, as TF applies the device stack: innermost first, a string filling
        the fields not set yet, a function given the op with the device so far, `None` stopping."""
        for spec in reversed(self._state.device_stack):
            if spec is None:
                break
            if callable(spec):
                if op is not None:
                    op._device = device
                    device = _device_string(spec(op))
            else:
                device = _merge_device(_device_string(spec), device)
        return device

    @contextlib.contextmanager
    def container(self, container_name: str) -> Iterator[None]:
        """Stateful ops created inside (variables) with an empty `container` attr get this one, as in TF:
        `Session.reset(target, [container_name])` then clears them."""
        saved = self._container
        self._container = container_name
        try:
            yield
        finally:
            self._container = saved

    @contextlib.contextmanager
    def colocate_with(self, op: Any, ignore_existing: bool = False) -> Iterator[None]:
        """Ops created inside take the device of `op` (an Operation, Tensor or Variable), as TF's
        colocation does: the device functions outside are suspended, `tf.device` inside applies on top;
        `ignore_existing` drops the colocations outside."""
        if op is None and not ignore_existing:
            raise ValueError("Trying to reset colocation (op is None) but ignore_existing is not True")
        target = _colocation_op(op)
        state = self._state
        saved_devices, saved_colocation = state.device_stack, state.colocation_stack
        state.device_stack = []
        if ignore_existing:
            state.colocation_stack = []
        if target is not None:
            state.colocation_stack = state.colocation_stack + [target]
        try:
            yield
        finally:
            state.device_stack, state.colocation_stack = saved_devices, saved_colocation

    # ---------------------------------------------------- control dependencies
    @contextlib.contextmanager
    def control_dependencies(self, control_inputs: Any) -> Iterator[None]:
        """Ops created inside run after `control_inputs`; `None` clears the outer ones."""
        state = self._state
        if control_inputs is None:
            saved = state.control_stack
            state.control_stack = []
            try:
                yield
            finally:
                state.control_stack = saved
            return
        ops = []
        for c in control_inputs:
            if hasattr(c, "_as_graph_element") and not isinstance(c, (Tensor, Operation)):
                c = c._as_graph_element()
            if isinstance(c, Tensor):
                c = c.op
            elif not isinstance(c, Operation):
                raise TypeError(f"Control input must be Operation or Tensor: {c}")
            if c.graph is not self:
                raise ValueError(f"Control input {c.name} must be from the same graph.")
            ops.append(c)
        state.control_stack.append(ops)
        try:
            yield
        finally:
            state.control_stack.pop()

    @contextlib.contextmanager
    def _outside_control_flow(self) -> Iterator[None]:
        """TF's init_scope within one graph: no control dependencies and no cond or loop context,
        so that variables made inside a loop body or a branch are created and initialized once."""
        state = self._state
        saved = state.control_flow_context
        state.control_flow_context = None
        try:
            with self.control_dependencies(None):
                yield
        finally:
            state.control_flow_context = saved

    def _current_control_inputs(self, inputs: list[Tensor]) -> list[Operation]:
        stack = self._state.control_stack
        if not stack:
            return []
        input_ops = {t.op for t in inputs}
        result: list[Operation] = []
        for ops in stack:
            for op in ops:
                if op not in input_ops and op not in result:
                    result.append(op)
        return result

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map: dict[str, str]) -> Iterator[None]:
        saved = dict(self._gradient_override_map)
        self._gradient_override_map.update(op_type_map)
        try:
            yield
        finally:
            self._gradient_override_map = saved

    # ---------------------------------------------------------- building ops
    def create_op(self, op_type: str, inputs: list[Tensor], attrs: dict[str, Any] | None = None,
                  name: str | None = None, control_inputs: list[Operation] | None = None) -> Operation:
        """Adds an op: checks inputs, runs the static rule, records scope, device, source line."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        op_def = get_op_def(op_type)
        for t in inputs:
            if not isinstance(t, Tensor):
                raise TypeError(f"Input to {op_type} must be a Tensor, got {type(t).__name__}")
            if t.graph is not self:
                raise ValueError(
                    f"Tensor {t.name} must be from the same graph as the op being created "
                    f"({op_type}). Tensors from another graph cannot be mixed.")
        attrs = dict(attrs) if attrs else {}
        if self._container and op_def.stateful and "container" in attrs and not attrs["container"]:
            attrs["container"] = self._container
        with self._lock:
            if name is not None and not name.endswith("/") and not _VALID_OP_NAME.match(name.split("/")[-1] or "x"):
                raise ValueError(f"'{name}' is not a valid node name")
            op_name = name[:-1] if name and name.endswith("/") else self.unique_name(name or op_type)
        flow = self._state.control_flow_context
        if flow is not None:
            # Outside tensors reach a branch or loop through a Switch or Enter named after this op
            # (`cond/mul/Switch`, `while/mul/Enter`), as in TF.
            with self.name_scope(op_name + "/"):
                inputs = [t if i in op_def.ref_inputs else flow.route(t) for i, t in enumerate(inputs)]
        with self._lock:
            ctx = InferContext(op_name, op_type, list(inputs), attrs)
            try:
                output_specs = op_def.infer(ctx)
            except (TypeError, ValueError) as e:
                raise type(e)(_annotate(str(e), op_name, op_type, inputs)) from None
            controls = self._current_control_inputs(list(inputs))
            if control_inputs:
                for c in control_inputs:
                    if c not in controls:
                        controls.append(c)
            if flow is not None and flow.needs_pivot(inputs) and flow.pivot.op not in controls:
                controls.append(flow.pivot.op)  # ops that nothing else ties to a branch or loop run with it
            op = Operation(self, op_type, op_name, list(inputs), controls, attrs, "", len(self._ops))
            op._control_flow_context = flow
            colocation = self._state.colocation_stack
            base = next((c._device for c in reversed(colocation) if c._device), "") if colocation else ""
            op._device = self._current_device(op, base)
            if self._gradient_override_map:
                op._gradient_override = self._gradient_override_map.get(op_type)
            op._outputs = tuple(Tensor(op, i, dtype, shape) for i, (dtype, shape) in enumerate(output_specs))
            for t in inputs:
                t._consumers.append(op)
            for c in controls:
                c._control_outputs.append(op)
            self._ops.append(op)
            self._ops_by_name[op_name] = op
            self._version += 1
        return op

    # -------------------------------------------------------------- lookups
    def get_operations(self) -> list[Operation]:
        return list(self._ops)

    def get_operation_by_name(self, name: str) -> Operation:
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=False, allow_operation=True)

    def get_tensor_by_name(self, name: str) -> Tensor:
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name).__name__}.")
        return self.as_graph_element(name, allow_tensor=True, allow_operation=False)

    def _get_operation_by_name_unsafe(self, name: str) -> Operation | None:
        return self._ops_by_name.get(name)

    def as_graph_element(self, obj: Any, allow_tensor: bool = True, allow_operation: bool = True) -> Any:
        """Resolves a Tensor, Operation, Variable or name to an element of this graph."""
        if hasattr(obj, "_as_graph_element") and not isinstance(obj, (Tensor, Operation)):
            obj = obj._as_graph_element()
        if isinstance(obj, str):
            if ":" in obj and allow_tensor:
                op_name, _, index = obj.rpartition(":")
                try:
                    out_index = int(index)
                except ValueError:
                    raise ValueError(f"The name {obj!r} looks a like a Tensor name, but is not a valid one. "
                                     "Tensor names must be of the form \"<op_name>:<output_index>\".") from None
                op = self._ops_by_name.get(op_name)
                if op is None:
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not exist. "
                                   f"The operation, {op_name!r}, does not exist in the graph.")
                if out_index >= len(op.outputs):
                    raise KeyError(f"The name {obj!r} refers to a Tensor which does not exist. The operation, "
                                   f"{op_name!r}, exists but only has {len(op.outputs)} outputs.")
                return op.outputs[out_index]
            if ":" in obj:
                raise ValueError(f"Name {obj!r} appears to refer to a Tensor, not a Operation.")
            op = self._ops_by_name.get(obj)
            if op is None:
                raise KeyError(f"The name {obj!r} refers to an Operation not in the graph.")
            if allow_operation:
                return op
            raise ValueError(f"The name {obj!r} refers to an Operation, not a Tensor. Tensor names must be "
                             "of the form \"<op_name>:<output_index>\".")
        if isinstance(obj, Tensor) and allow_tensor:
            if obj.graph is not self:
                raise ValueError(f"Tensor {obj} is not an element of this graph.")
            return obj
        if isinstance(obj, Operation) and allow_operation:
            if obj.graph is not self:
                raise ValueError(f"Operation {obj} is not an element of this graph.")
            return obj
        kinds = " or ".join(k for k, ok in (("Tensor", allow_tensor), ("Operation", allow_operation)) if ok)
        raise TypeError(f"Can not convert a {type(obj).__name__} into a {kinds}.")

    # ----------------------------------------------------------- collections
    def add_to_collection(self, name: str, value: Any) -> None:
        """Appends `value` to collection `name`; a finalized graph refuses it, as in TF."""
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names: Any, value: Any) -> None:
        if isinstance(names, str):
            names = [names]
        for name in dict.fromkeys(names):
            self.add_to_collection(name, value)

    def get_collection_ref(self, name: str) -> list[Any]:
        return self._collections.setdefault(name, [])

    def get_collection(self, name: str, scope: str | None = None) -> list[Any]:
        """A copy of the collection; with `scope`, only items whose name matches it (re.match)."""
        items = self._collections.get(name, [])
        if scope is None:
            return list(items)
        pattern = re.compile(scope)
        return [item for item in items if hasattr(item, "name") and pattern.match(item.name)]

    def get_all_collection_keys(self) -> list[str]:
        return [k for k, v in self._collections.items() if isinstance(v, list)]

    def clear_collection(self, name: str) -> None:
        self._collections.pop(name, None)

    # --------------------------------------------------------------- feeding
    def prevent_feeding(self, tensor: Tensor) -> None:
        self._unfeedable.add(tensor)

    def is_feedable(self, tensor: Tensor) -> bool:
        return tensor not in self._unfeedable

    def prevent_fetching(self, op: Operation) -> None:
        self._unfetchable.add(op)

    def is_fetchable(self, tensor_or_op: Any) -> bool:
        op = tensor_or_op.op if isinstance(tensor_or_op, Tensor) else tensor_or_op
        return op not in self._unfetchable

    def as_graph_def(self, from_version: Any = None, add_shapes: bool = False) -> Any:
        """The GraphDef of this graph (a new message each call).

        A finalized graph cannot change, yet a training loop asks for its GraphDef several times
        (graph.pbtxt, the event file, each checkpoint's meta graph): it is built once and later
        calls parse its serialized bytes, which is many times faster than building it again.
        """
        from caudal.framework.graph_io import graph_to_graph_def
        from caudal.proto import graph_pb2

        if not self._finalized:
            return graph_to_graph_def(self, add_shapes=add_shapes)
        version = (self._version, self._mutation_version)
        cached = self._serialized_graph_defs.get(add_shapes)
        if cached is not None and cached[0] == version:
            return graph_pb2.GraphDef.FromString(cached[1])
        graph_def = graph_to_graph_def(self, add_shapes=add_shapes)
        self._serialized_graph_defs[add_shapes] = (version, graph_def.SerializeToString())
        return graph_def

    def __repr__(self) -> str:
        return f"<caudal.Graph with {len(self._ops)} ops at {id(self):#x}>"


def _device_string(spec: Any) -> str:
    """A device as a string: a DeviceSpec's canonical form, "" for None."""
    if not spec:
        return ""
    return spec.to_string() if hasattr(spec, "to_string") else str(spec)


def _colocation_op(item: Any) -> Operation | None:
    """The Operation to colocate with: an Operation, a Tensor's op, a Variable's op."""
    if item is None or isinstance(item, Operation):
        return item
    if isinstance(item, Tensor):
        return item.op
    op = getattr(item, "op", None)
    if isinstance(op, Operation):
        return op
    raise TypeError(f"'op' must be an Operation, a Tensor or a Variable, got {type(item).__name__}")


def _merge_device(outer: str, inner: str) -> str:
    """Inner device fields override outer ones, as TF merges device specs."""
    if not outer:
        return inner
    if not inner:
        return outer
    fields: dict[str, str] = {}
    order: list[str] = []
    for spec in (outer, inner):
        for part in spec.strip("/").split("/"):
            if not part:
                continue
            key = part.split(":")[0] if part.split(":")[0] in ("job", "replica", "task", "device") else "device"
            if part.lower().startswith(("cpu", "gpu", "tpu")):
                key = "device"
            if key not in fields:
                order.append(key)
            fields[key] = part
    return "/" + "/".join(fields[k] for k in order)


def _annotate(message: str, op_name: str, op_type: str, inputs: list[Tensor]) -> str:
    shapes = ", ".join(_shape_str(t.shape) for t in inputs)
    where = _user_frame()
    location = f" (created at {where[0]}:{where[1]})" if where else ""
    return f"{message} for '{op_name}' (op: '{op_type}') with input shapes: {shapes}.{location}"


def _shape_str(shape: tensor_shape.TensorShape) -> str:
    if shape.ndims is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


class _DefaultGraphStack(threading.local):
    """Per-thread stack of default graphs, over one global default graph."""

    _global_default: Graph | None = None

    def __init__(self) -> None:
        self.stack: list[Graph] = []

    def get_default(self) -> Graph:
        if self.stack:
            return self.stack[-1]
        if _DefaultGraphStack._global_default is None:
            _DefaultGraphStack._global_default = Graph()
        return _DefaultGraphStack._global_default

    def reset(self) -> None:
        if self.stack:
            raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. If you "
                                 "need a cleared graph, exit the nesting and create a new graph.")
        _DefaultGraphStack._global_default = Graph()

    @contextlib.contextmanager
    def get_controller(self, graph: Graph) -> Iterator[Graph]:
        self.stack.append(graph)
        try:
            yield graph
        finally:
            if self.stack and self.stack[-1] is graph:
                self.stack.pop()
            else:
                self.stack.remove(graph)


_default_graph_stack = _DefaultGraphStack()


def get_default_graph() -> Graph:
    return _default_graph_stack.get_default()


def reset_default_graph() -> None:
    """Clears the default graph stack and starts a fresh global default graph."""
    if has_default_session():
        raise AssertionError("Do not use tf.reset_default_graph() to clear nested graphs. If you "
                             "need a cleared graph, exit the nesting and create a new graph.")
    _default_graph_stack.reset()


def _graph_of(values: Any) -> Graph:
    """The graph the given tensors/ops live in, else the default graph."""
    if values:
        for v in values:
            if isinstance(v, (Tensor, Operation)):
                return v.graph
            graph = getattr(v, "graph", None)
            if isinstance(graph, Graph):
                return graph
    return get_default_graph()


@contextlib.contextmanager
def name_scope(name: str | None, default_name: str | None = None, values: Any = None) -> Iterator[str]:
    """TF1's `tf.name_scope(name, default_name=None, values=None)`."""
    if name is None and default_name is None and values is not None:
        raise TypeError("If default_name is None then name is required")
    n = default_name if name is None else name
    graph = _graph_of(values)
    with graph.as_default(), graph.name_scope(n) as scope:
        yield scope


def control_dependencies(control_inputs: Any) -> contextlib.AbstractContextManager[None]:
    return get_default_graph().control_dependencies(control_inputs)


def device(device_name_or_function: Any) -> contextlib.AbstractContextManager[None]:
    return get_default_graph().device(device_name_or_function)


def add_to_collection(name: str, value: Any) -> None:
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names: Any, value: Any) -> None:
    get_default_graph().add_to_collections(names, value)


def get_collection(key: str, scope: str | None = None) -> list[Any]:
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key: str) -> list[Any]:
    return get_default_graph().get_collection_ref(key)


def op_scope(values: Any, name: str, default_name: str | None = None) -> Any:
    return name_scope(name, default_name, values)


def container(container_name: str) -> contextlib.AbstractContextManager[None]:
    return get_default_graph().container(container_name)


def make_op(op_type: str, inputs: list[Tensor], attrs: dict[str, Any] | None = None,
            name: str | None = None) -> Operation:
    """Creates an op in the graph of its inputs (or the default graph)."""
    graph = inputs[0].graph if inputs else get_default_graph()
    return graph.create_op(op_type, inputs, attrs, name)


def apply_op(op_type: str, inputs: list[Tensor], attrs: dict[str, Any] | None = None,
             name: str | None = None) -> Tensor:
    """Creates a single-output op and returns its output Tensor."""
    return make_op(op_type, inputs, attrs, name)._outputs[0]

