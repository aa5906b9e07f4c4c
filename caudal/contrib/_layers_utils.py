"""Helpers the contrib layers share: slim's variable getter, collections, aliases, `smart_cond`, shape checks."""
from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor

__all__ = ["collect_named_outputs", "append_tensor_alias", "get_tensor_aliases", "convert_collection_to_dict",
           "get_variable_collections", "constant_value", "smart_cond", "last_dimension"]

# TF sets `tensor.aliases`; caudal's Tensor has fixed slots, so the aliases live here, keyed weakly.
_ALIASES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def append_tensor_alias(tensor: Any, alias: str) -> Any:
    """Records `alias` (a trailing '/' dropped) as a name of `tensor`; returns the tensor."""
    if alias.endswith("/"):
        alias = alias[:-1]
    _ALIASES.setdefault(tensor, []).append(alias)
    return tensor


def get_tensor_aliases(tensor: Any) -> list[str]:
    """The aliases recorded for `tensor` (its name when it has none), as slim's `get_tensor_aliases`."""
    aliases = _ALIASES.get(tensor)
    return list(aliases) if aliases else [tensor.name]


def collect_named_outputs(collections: Any, alias: str, outputs: Any) -> Any:
    """Adds `outputs`, aliased `alias`, to `collections` (a name or a list; nothing when empty)."""
    if collections:
        append_tensor_alias(outputs, alias)
        get_default_graph().add_to_collections(collections, outputs)
    return outputs


def convert_collection_to_dict(collection: str, clear_collection: bool = False) -> dict[str, Any]:
    """alias -> tensor for the tensors of `collection` (slim's end points)."""
    graph = get_default_graph()
    result = {}
    for tensor in graph.get_collection(collection):
        for alias in get_tensor_aliases(tensor):
            result[alias] = tensor
    if clear_collection:
        graph.clear_collection(collection)
    return result


def get_variable_collections(variables_collections: Any, name: str) -> Any:
    """The collections for variable `name`: looked up when `variables_collections` is a dict, else itself."""
    if isinstance(variables_collections, dict):
        return variables_collections.get(name, None)
    return variables_collections


def add_variable_to_collections(variable: Any, collections_set: Any, collections_name: str) -> None:
    """Adds `variable` to the collections chosen for `collections_name`, once each."""
    graph = get_default_graph()
    collections = get_variable_collections(collections_set, collections_name) or []
    if isinstance(collections, str):
        collections = [collections]
    for collection in collections:
        if variable not in graph.get_collection(collection):
            graph.add_to_collection(collection, variable)


def model_variable_getter(getter: Callable, name: str, shape: Any = None, dtype: Any = None,
                          initializer: Any = None, regularizer: Any = None, trainable: bool = True,
                          collections: Any = None, caching_device: Any = None, partitioner: Any = None,
                          rename: dict[str, str] | None = None, use_resource: Any = None, **_: Any) -> Any:
    """A custom getter making layer variables model variables, renaming the last name component by `rename`
    (`kernel` -> `weights`, `bias` -> `biases`), as slim's layers do."""
    from caudal.contrib._variables import model_variable

    parts = name.split("/")
    if rename and parts[-1] in rename:
        parts[-1] = rename[parts[-1]]
        name = "/".join(parts)
    return model_variable(name, shape=shape, dtype=dtype, initializer=initializer, regularizer=regularizer,
                          collections=collections, trainable=trainable, caching_device=caching_device,
                          partitioner=partitioner, custom_getter=getter, use_resource=use_resource)


def build_variable_getter(rename: dict[str, str] | None = None) -> Callable:
    """`model_variable_getter` with a fixed `rename` map."""
    def layer_variable_getter(getter: Callable, *args: Any, **kwargs: Any) -> Any:
        kwargs["rename"] = rename
        return model_variable_getter(getter, *args, **kwargs)

    return layer_variable_getter


def constant_value(value_or_tensor_or_var: Any, dtype: Any = None) -> Any:
    """The value of a Python value or a constant tensor; None for a variable or a tensor known only at run time."""
    from caudal.framework.constant_value import constant_value as tensor_constant_value
    from caudal.variables import Variable

    if value_or_tensor_or_var is None:
        raise ValueError("value_or_tensor_or_var cannot be None")
    value = value_or_tensor_or_var
    if isinstance(value, (Tensor, Variable)):
        if dtype and value.dtype != dtype:
            raise ValueError(f"It has the wrong type {value.dtype} instead of {dtype}")
        if isinstance(value, Variable):
            return None
        return tensor_constant_value(value)
    return value


def smart_cond(pred: Any, fn1: Callable, fn2: Callable, name: str | None = None) -> Any:
    """`fn1()` or `fn2()` when `pred` is known while building, else a tf.cond (always one for a Variable)."""
    from caudal.layers.utils import smart_cond as layers_smart_cond
    from caudal.variables import Variable

    if isinstance(pred, Variable):
        from caudal.ops.cond_ops import cond

        return cond(pred.value(), fn1, fn2, name=name)
    if not isinstance(pred, Tensor) and pred not in (0, 1):
        raise TypeError(f"`pred` must be a Tensor, or a Python bool, or 1 or 0. Found instead: {pred}")
    return layers_smart_cond(pred, fn1, fn2)


def last_dimension(shape: Any, min_rank: int = 1) -> int:
    """The last dimension of `shape`, which must be known, of a shape of rank at least `min_rank`."""
    from caudal.framework.tensor_shape import as_shape

    shape = as_shape(shape)
    if shape.ndims is None:
        raise ValueError("dims of shape must be known but is None")
    if shape.ndims < min_rank:
        raise ValueError(f"rank of shape must be at least {min_rank} not: {shape.ndims}")
    value = shape[-1].value
    if value is None:
        raise ValueError(f"dimension -1 of shape must be known but is None: {shape}")
    return value
