"""The global step: `get_or_create_global_step`, `get_global_step`, `global_step`."""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import Graph, GraphKeys, get_default_graph

GLOBAL_STEP_NAME = "global_step"


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
