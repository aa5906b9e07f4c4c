"""`tf.contrib.framework` (TF 1.15): arg scopes, slim's variable helpers, the global step, checkpoint readers,
`nest`. Re-exports only."""
from caudal.contrib._arg_scope import (
    add_arg_scope,
    arg_scope,
    arg_scope_func_key,
    arg_scoped_arguments,
    current_arg_scope,
    has_arg_scope,
)
from caudal.contrib._variables import (
    add_model_variable,
    assert_global_step,
    assert_or_get_global_step,
    assert_scalar,
    assign_from_checkpoint,
    assign_from_checkpoint_fn,
    assign_from_values,
    assign_from_values_fn,
    filter_variables,
    get_local_variables,
    get_model_variables,
    get_trainable_variables,
    get_unique_variable,
    get_variable_full_name,
    get_variables,
    get_variables_by_name,
    get_variables_by_suffix,
    get_variables_to_restore,
    global_variable,
    local_variable,
    model_variable,
    variable,
)
from caudal.train.training_util import create_global_step, get_global_step, get_or_create_global_step
from caudal.util import nest

__all__ = [
    "add_arg_scope", "arg_scope", "arg_scope_func_key", "arg_scoped_arguments", "current_arg_scope", "has_arg_scope",
    "add_model_variable", "assert_global_step", "assert_or_get_global_step", "assert_scalar",
    "assign_from_checkpoint", "assign_from_checkpoint_fn", "assign_from_values", "assign_from_values_fn",
    "filter_variables", "get_local_variables", "get_model_variables", "get_trainable_variables",
    "get_unique_variable", "get_variable_full_name", "get_variables", "get_variables_by_name",
    "get_variables_by_suffix", "get_variables_to_restore", "global_variable", "local_variable", "model_variable",
    "variable", "create_global_step", "get_global_step", "get_or_create_global_step", "nest",
]

_CHECKPOINT_NAMES = ("load_checkpoint", "load_variable", "list_variables", "init_from_checkpoint")
__all__ += list(_CHECKPOINT_NAMES)


def __getattr__(name: str) -> object:
    """The checkpoint readers load protobuf, so they are imported on first use."""
    if name in _CHECKPOINT_NAMES:
        from caudal.checkpoint import reader

        value = getattr(reader, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'caudal.contrib.framework' has no attribute {name!r}")
