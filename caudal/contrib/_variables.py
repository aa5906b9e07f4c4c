"""tf.contrib.framework's variable helpers (slim's `model_variable`, `get_variables_to_restore`, ...), as TF 1.15.

`variable` is `tf.get_variable` with the collections given (GLOBAL_VARIABLES by
default); `model_variable` adds GLOBAL_VARIABLES and MODEL_VARIABLES, which is
what slim's layers create. Both are `add_arg_scope`-decorated. The getters
filter collections with TF's rules: `scope` is a regular expression matched
at the start of the name, `suffix` one matched anywhere after it.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from caudal.contrib._arg_scope import add_arg_scope
from caudal.framework.graph import GraphKeys, get_default_graph

__all__ = ["variable", "model_variable", "local_variable", "global_variable", "add_model_variable",
           "get_variables", "get_model_variables", "get_local_variables", "get_trainable_variables",
           "get_variables_to_restore", "get_variables_by_suffix", "get_variables_by_name", "get_unique_variable",
           "get_variable_full_name", "assign_from_values", "assign_from_values_fn", "assign_from_checkpoint",
           "assign_from_checkpoint_fn", "filter_variables", "assert_global_step", "assert_or_get_global_step",
           "assert_scalar"]

_LOG = logging.getLogger("caudal")


@add_arg_scope
def variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None, regularizer: Any = None,
             trainable: bool = True, collections: Any = None, caching_device: Any = None, device: Any = None,
             partitioner: Any = None, custom_getter: Callable | None = None, use_resource: Any = None,
             synchronization: Any = None, aggregation: Any = None) -> Any:
    """Gets or creates `name` with `tf.get_variable` in the given collections (GLOBAL_VARIABLES by default).

    A `custom_getter` is called with the arguments of get_variable and the scope's `reuse`, in place of it.
    """
    from caudal.framework.graph import device as device_scope
    from caudal.variable_scope import get_variable, get_variable_scope

    collections = list(collections if collections is not None else [GraphKeys.GLOBAL_VARIABLES])
    collections = list(dict.fromkeys(collections))
    kwargs: dict[str, Any] = dict(shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                                  trainable=trainable, collections=collections, caching_device=caching_device,
                                  partitioner=partitioner, use_resource=use_resource)
    with device_scope(device or ""):
        if custom_getter is not None:
            return custom_getter(name, reuse=get_variable_scope().reuse, **kwargs)
        return get_variable(name, **kwargs)


@add_arg_scope
def model_variable(name: str, shape: Any = None, dtype: Any = None, initializer: Any = None,
                   regularizer: Any = None, trainable: bool = True, collections: Any = None,
                   caching_device: Any = None, device: Any = None, partitioner: Any = None,
                   custom_getter: Callable | None = None, use_resource: Any = None, synchronization: Any = None,
                   aggregation: Any = None) -> Any:
    """`variable` also added to GLOBAL_VARIABLES and MODEL_VARIABLES (float32 unless `dtype` says otherwise)."""
    from caudal.framework import dtypes

    collections = list(collections or []) + [GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES]
    return variable(name, shape=shape, dtype=dtype if dtype is not None else dtypes.float32,
                    initializer=initializer, regularizer=regularizer, trainable=trainable, collections=collections,
                    caching_device=caching_device, device=device, partitioner=partitioner,
                    custom_getter=custom_getter, use_resource=use_resource)


def local_variable(initial_value: Any, validate_shape: bool = True, name: str | None = None,
                   use_resource: Any = None) -> Any:
    """A non-trainable Variable in LOCAL_VARIABLES only."""
    from caudal.variables import Variable

    return Variable(initial_value, trainable=False, collections=[GraphKeys.LOCAL_VARIABLES],
                    validate_shape=validate_shape, name=name)


def global_variable(initial_value: Any, validate_shape: bool = True, name: str | None = None,
                    use_resource: Any = None) -> Any:
    """A non-trainable Variable in GLOBAL_VARIABLES only."""
    from caudal.variables import Variable

    return Variable(initial_value, trainable=False, collections=[GraphKeys.GLOBAL_VARIABLES],
                    validate_shape=validate_shape, name=name)


def add_model_variable(var: Any) -> None:
    """Adds `var` to MODEL_VARIABLES unless it is there already."""
    graph = get_default_graph()
    if var not in graph.get_collection(GraphKeys.MODEL_VARIABLES):
        graph.add_to_collection(GraphKeys.MODEL_VARIABLES, var)


def get_variables(scope: Any = None, suffix: str | None = None,
                  collection: str = GraphKeys.GLOBAL_VARIABLES) -> list[Any]:
    """The variables of `collection` whose names match `scope` (a regex or a VariableScope) and `suffix`."""
    from caudal.variable_scope import VariableScope

    if isinstance(scope, VariableScope):
        scope = scope.name
    if suffix is not None:
        if ":" not in suffix:
            suffix += ":"
        scope = (scope or "") + ".*" + suffix
    return get_default_graph().get_collection(collection, scope)


def get_model_variables(scope: Any = None, suffix: str | None = None) -> list[Any]:
    return get_variables(scope, suffix, GraphKeys.MODEL_VARIABLES)


def get_local_variables(scope: Any = None, suffix: str | None = None) -> list[Any]:
    return get_variables(scope, suffix, GraphKeys.LOCAL_VARIABLES)


def get_trainable_variables(scope: Any = None, suffix: str | None = None) -> list[Any]:
    return get_variables(scope, suffix, GraphKeys.TRAINABLE_VARIABLES)


def get_variables_to_restore(include: Any = None, exclude: Any = None) -> list[Any]:
    """The global variables under the `include` scopes (all by default) and under none of the `exclude` scopes;
    both must be lists or tuples of scope patterns."""
    if include is None:
        candidates = get_variables()
    else:
        if not isinstance(include, (list, tuple)):
            raise TypeError("include is provided but is not a list or a tuple.")
        candidates = []
        for scope in include:
            candidates += get_variables(scope)
    excluded: set[Any] = set()
    if exclude is not None:
        if not isinstance(exclude, (list, tuple)):
            raise TypeError("exclude is provided but is not a list or a tuple.")
        for scope in exclude:
            excluded |= set(get_variables(scope))
    return [v for v in candidates if v not in excluded]


def get_variables_by_suffix(suffix: str, scope: Any = None) -> list[Any]:
    return get_variables(scope=scope, suffix=suffix)


def get_variables_by_name(given_name: str, scope: Any = None) -> list[Any]:
    """The variables whose last name component is `given_name`."""
    return get_variables(scope=scope, suffix="/" + given_name + ":|^" + given_name + ":")


def get_unique_variable(var_op_name: str) -> Any:
    """The variable whose op name is exactly `var_op_name`."""
    candidates = get_variables(scope=var_op_name)
    if not candidates:
        raise ValueError(f"Couldn't find variable {var_op_name}")
    for candidate in candidates:
        if candidate.op.name == var_op_name:
            return candidate
    raise ValueError(f"Variable {var_op_name} does not uniquely identify a variable")


def get_variable_full_name(var: Any) -> str:
    """The name a checkpoint knows `var` by: the full name of a partition, else the op name."""
    slice_info = getattr(var, "_save_slice_info", None)
    if slice_info:
        return slice_info.full_name
    return var.op.name


def assign_from_values(var_names_to_values: dict[str, Any]) -> tuple[Any, dict[Any, Any]]:
    """(assign op, feed dict) that set each named model variable to its value through a placeholder."""
    import numpy as np

    from caudal.ops.constant_ops import placeholder
    from caudal.ops.control_ops import group
    from caudal.variables import assign

    feed_dict: dict[Any, Any] = {}
    assign_ops = []
    for var_name in var_names_to_values:
        var_value = var_names_to_values[var_name]
        found = get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, var_name)
        if not found:
            raise ValueError(f"Variable {var_name} wasn't found")
        if len(found) > 1:
            raise ValueError(f"Variable {var_name} doesn't uniquely identify a variable")
        var = found[0]
        value = np.asarray(var_value)
        holder = placeholder(var.dtype.base_dtype, shape=var.get_shape(), name="placeholder/" + var.op.name)
        assign_ops.append(assign(var, holder))
        feed_dict[holder] = value.reshape(var.get_shape().as_list())
    return group(*assign_ops), feed_dict


def assign_from_values_fn(var_names_to_values: dict[str, Any]) -> Callable[[Any], None]:
    """A function of a session that runs `assign_from_values`'s op."""
    assign_op, feed_dict = assign_from_values(var_names_to_values)

    def callback(session: Any) -> None:
        session.run(assign_op, feed_dict)

    return callback


def _name_to_variable(var_list: Any) -> dict[str, Any]:
    if isinstance(var_list, dict):
        return dict(var_list)
    return {get_variable_full_name(v): v for v in var_list}


def assign_from_checkpoint(model_path: str, var_list: Any, ignore_missing_vars: bool = False
                           ) -> tuple[Any, dict[Any, Any]]:
    """(assign op, feed dict) that load `var_list` (a list, or a dict checkpoint name -> variable) from the
    checkpoint; a name the checkpoint lacks is an error unless `ignore_missing_vars`."""
    from caudal.checkpoint.reader import NewCheckpointReader
    from caudal.ops.constant_ops import placeholder
    from caudal.ops.control_ops import group
    from caudal.variables import assign

    reader = NewCheckpointReader(model_path)
    grouped: dict[str, list[Any]] = {}
    for name, var in _name_to_variable(var_list).items():
        grouped.setdefault(name, []).extend(var if isinstance(var, (list, tuple)) else [var])
    feed_dict: dict[Any, Any] = {}
    assign_ops = []
    for name, variables in grouped.items():
        if not reader.has_tensor(name):
            if ignore_missing_vars:
                _LOG.warning("Variable %s missing in checkpoint %s", name, model_path)
                continue
            raise ValueError(f"Checkpoint is missing variable [{name}]")
        value = reader.get_tensor(name)
        for var in variables:
            holder = placeholder(var.dtype.base_dtype, shape=var.get_shape(), name="placeholder/" + var.op.name)
            assign_ops.append(assign(var, holder))
            feed_dict[holder] = value.reshape(var.get_shape().as_list())
    return group(*assign_ops), feed_dict


def assign_from_checkpoint_fn(model_path: str, var_list: Any, ignore_missing_vars: bool = False,
                              reshape_variables: bool = False) -> Callable[[Any], None] | None:
    """A function of a session that restores `var_list` from `model_path` with a Saver; with
    `ignore_missing_vars` the names the checkpoint lacks are skipped (None when nothing is left)."""
    from caudal.train.saver import Saver

    if not var_list:
        raise ValueError("var_list cannot be empty")
    if ignore_missing_vars:
        from caudal.checkpoint.reader import NewCheckpointReader

        reader = NewCheckpointReader(model_path)
        available = {}
        for name, var in _name_to_variable(var_list).items():
            if reader.has_tensor(name):
                available[name] = var
            else:
                _LOG.warning("Variable %s missing in checkpoint %s", name, model_path)
        var_list = available
    if not var_list:
        _LOG.warning("No Variables to restore")
        return None
    saver = Saver(var_list, reshape=reshape_variables)

    def callback(session: Any) -> None:
        saver.restore(session, model_path)

    return callback


def filter_variables(var_list: list[Any], include_patterns: Any = None, exclude_patterns: Any = None,
                     reg_search: bool = True) -> list[Any]:
    """The variables whose names match an include pattern (all when None) and no exclude pattern; patterns are
    regexes searched in the name (`reg_search`) or plain substrings."""
    def matches(name: str, pattern: str) -> bool:
        return re.search(pattern, name) is not None if reg_search else pattern in name

    kept = []
    for var in var_list:
        if include_patterns is not None and not any(matches(var.op.name, p) for p in include_patterns):
            continue
        if exclude_patterns is not None and any(matches(var.op.name, p) for p in exclude_patterns):
            continue
        kept.append(var)
    return kept


def assert_global_step(global_step_tensor: Any) -> None:
    """TypeError unless `global_step_tensor` is an integer scalar variable or tensor."""
    from caudal.framework.tensor import Tensor
    from caudal.variables import Variable

    if not isinstance(global_step_tensor, (Variable, Tensor)):
        raise TypeError(f"Existing \"global_step\" must be a Variable or Tensor: {global_step_tensor}.")
    if not global_step_tensor.dtype.base_dtype.is_integer:
        raise TypeError(f"Existing \"global_step\" does not have integer type: {global_step_tensor.dtype}")
    if global_step_tensor.get_shape().ndims != 0 and global_step_tensor.get_shape().is_fully_defined():
        raise TypeError(f"Existing \"global_step\" is not scalar: {global_step_tensor.get_shape()}")


def assert_scalar(tensor: Any, name: str | None = None) -> Any:
    """`tensor` (converted), after checking that its static shape is a scalar's."""
    from caudal.framework.convert import convert_to_tensor

    tensor = convert_to_tensor(tensor, name=name)
    shape = tensor.get_shape()
    if shape.ndims != 0:
        raise ValueError(f"Expected scalar shape for {tensor.name}, saw shape: {shape}.")
    return tensor


def assert_or_get_global_step(graph: Any = None, global_step_tensor: Any = None) -> Any:
    """`global_step_tensor` after checking it, else the graph's global step (or None)."""
    from caudal.train.training_util import get_global_step

    if global_step_tensor is None:
        global_step_tensor = get_global_step(graph)
    else:
        assert_global_step(global_step_tensor)
    return global_step_tensor
