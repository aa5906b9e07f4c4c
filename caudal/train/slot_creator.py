"""Slot variables: the per-variable state of optimizers and moving averages, named as TF1 names them.

A slot of `primary` is made by `get_variable` in a fresh variable scope whose
default name is `<primary op name>/<name>`, opened inside the current variable
scope. So the slot is `w/Adam`, a second one `w/Adam_1`, and under
`tf.variable_scope("outer")` it is `outer/w/Adam` (`outer/outer/w/Adam` when `w`
itself is `outer/w`), exactly as in TensorFlow. Name scopes (`tf.name_scope`)
do not change slot names. Being made by `get_variable`, slots follow the scope's
reuse, custom getter and regularizer, as TF's do; they are colocated with their
primary (the same device, which a `replica_device_setter` does not choose again).
"""
from __future__ import annotations

from typing import Any

from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import as_shape

__all__ = ["create_slot", "create_slot_with_initializer", "create_zeros_slot"]


def _slot_variable(val: Any, validate_shape: bool, shape: Any, dtype: Any) -> Any:
    """`get_variable("")` in the current (slot) scope: the variable takes the scope's own name."""
    from caudal.variable_scope import get_variable, get_variable_scope

    scope = get_variable_scope()
    partitioner = scope.partitioner
    scope.set_partitioner(None)
    try:
        # A value initializer takes no shape; an initializer function is called with it.
        return get_variable("", initializer=val, trainable=False, shape=shape if callable(val) else None,
                            dtype=dtype, validate_shape=validate_shape)
    finally:
        scope.set_partitioner(partitioner)


def create_slot(primary: Any, val: Tensor, name: str) -> Any:
    """A slot of `primary` named `<primary>/<name>`, starting at the Tensor `val` (its dtype and shape)."""
    from caudal.variable_scope import variable_scope

    validate_shape = val.get_shape().is_fully_defined()
    with variable_scope(None, default_name=primary.op.name + "/" + name), primary.graph.colocate_with(primary.op):
        return _slot_variable(val, validate_shape, None, None)


def create_slot_with_initializer(primary: Any, initializer: Any, shape: Any, dtype: Any, name: str) -> Any:
    """A slot of `primary` named `<primary>/<name>`: `initializer(shape, dtype=dtype)`."""
    from caudal.variable_scope import variable_scope

    shape = as_shape(shape)
    with variable_scope(None, default_name=primary.op.name + "/" + name), primary.graph.colocate_with(primary.op):
        return _slot_variable(initializer, shape.is_fully_defined(), shape, dtype)


def create_zeros_slot(primary: Any, name: str, dtype: Any = None) -> Any:
    """A slot of `primary` named `<primary>/<name>`, zeros of its shape (read at run time when not static)."""
    from caudal import init_ops

    dtype = (dtype or primary.dtype).base_dtype
    shape = primary.get_shape()
    if shape.is_fully_defined():
        return create_slot_with_initializer(primary, init_ops.Zeros(), shape, dtype, name)
    from caudal.ops.array_ops import shape as shape_of
    from caudal.ops.constant_ops import zeros
    from caudal.variables import Variable

    value = primary.initialized_value() if isinstance(primary, Variable) else primary
    return create_slot(primary, zeros(shape_of(value), dtype=dtype), name)
