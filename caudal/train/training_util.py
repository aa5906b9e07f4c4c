"""The global step: `get_or_create_global_step`, `get_global_step`, `global_step`, and the hooks' read of it."""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import Graph, GraphKeys, get_default_graph

GLOBAL_STEP_NAME = "global_step"
GLOBAL_STEP_READ_KEY = "global_step_read_op_cache"
_INCREMENT_TYPES = ("AssignAdd", "AssignSub")


def get_global_step(graph: Graph | None = None) -> Any:
    """The global step variable of `graph`, or None. More than one is an error."""
    graph = graph or get_default_graph()
    found = graph.get_collection(GraphKeys.GLOBAL_STEP)
    if len(found) > 1:
        raise TypeError("Multiple tensors in global_step collection.")
    if found:
        return found[0]
    try:
        return graph.get_tensor_by_name(GLOBAL_STEP_NAME + ":0")
    except KeyError:
        return None


def create_global_step(graph: Graph | None = None) -> Any:
    """Creates the int64 scalar `global_step` variable (zero, not trainable)."""
    from caudal import init_ops
    from caudal.variable_scope import get_variable

    graph = graph or get_default_graph()
    if get_global_step(graph) is not None:
        raise ValueError("global_step already exists.")
    with graph.as_default(), graph.name_scope(None):
        return get_variable(GLOBAL_STEP_NAME, shape=[], dtype=dtypes_lib.int64,
                            initializer=init_ops.Zeros(), trainable=False,
                            collections=[GraphKeys.GLOBAL_VARIABLES, GraphKeys.GLOBAL_STEP])


def get_or_create_global_step(graph: Graph | None = None) -> Any:
    graph = graph or get_default_graph()
    step = get_global_step(graph)
    return step if step is not None else create_global_step(graph)


def global_step(sess: Any, global_step_tensor: Any) -> int:
    """The current value of the global step as a Python int."""
    return int(sess.run(global_step_tensor))


def _get_global_step_read(graph: Graph | None = None) -> Any:
    """The global step read tensor of `graph` (TF's `global_step_read_op_cache` collection), or None."""
    graph = graph or get_default_graph()
    found = graph.get_collection(GLOBAL_STEP_READ_KEY)
    if len(found) > 1:
        raise RuntimeError(f"There are multiple items in collection {GLOBAL_STEP_READ_KEY}. "
                           "There should be only one.")
    return found[0] if found else None


def _get_or_create_global_step_read(graph: Graph | None = None) -> Any:
    """The tensor hooks fetch to learn the global step of a run, as TF builds it (`global_step/add`).

    It is the step's value if initialized, else its initial value, plus 0.
    Like TensorFlow, whose executor reads it as soon as a step starts, it
    gives the value from *before* the run. caudal runs independent ops in
    creation order, so the increments of the step that already exist (an
    optimizer's `AssignAdd`) get the read as a control input. None when the
    graph has no global step.
    """
    from caudal.ops.cond_ops import cond
    from caudal.variables import Variable, is_variable_initialized

    graph = graph or get_default_graph()
    read = _get_global_step_read(graph)
    if read is not None:
        return read
    step = get_global_step(graph)
    if step is None:
        return None
    with graph.as_default(), graph.name_scope(None), graph.name_scope(step.op.name + "/"):
        if isinstance(step, Variable):
            value = cond(is_variable_initialized(step), step.read_value, lambda: step.initial_value)
        else:
            value = step
        read = value + 0
    graph.add_to_collection(GLOBAL_STEP_READ_KEY, read)
    ref = step._ref() if isinstance(step, Variable) else step
    for consumer in list(ref.consumers()):
        if consumer.type in _INCREMENT_TYPES and consumer.inputs[0] is ref and consumer._id < read.op._id:
            consumer._add_control_input(read.op)
    return read
