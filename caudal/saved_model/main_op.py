"""`tf.saved_model.main_op`: the op a serving graph runs after its variables are restored."""
from __future__ import annotations

from caudal.framework.graph import GraphKeys, Operation, control_dependencies, get_default_graph
from caudal.ops.control_ops import group
from caudal.variables import local_variables_initializer

__all__ = ["main_op", "main_op_with_restore"]


def main_op() -> Operation:
    """Local variables and lookup tables initialised, as TF's `main_op()`."""
    tables = get_default_graph().get_collection(GraphKeys.TABLE_INITIALIZERS)
    return group(local_variables_initializer(), *tables, name="main_op")


def main_op_with_restore(restore_op_name: str) -> Operation:
    """`main_op()`, then the restore op named `restore_op_name`."""
    with control_dependencies([main_op()]):
        return group(get_default_graph().as_graph_element(restore_op_name), name="main_op_with_restore")
