"""`arg_scope` and `add_arg_scope` (tf.contrib.framework, slim), with TF 1.15's rules.

A function decorated with `add_arg_scope` takes its keyword defaults from the
innermost `arg_scope` that names it; arguments the caller passes win. Scopes
nest: an inner scope naming the same function updates the outer one's
arguments. Functions are keyed by `str(undecorated function)`, as in TF, so
`slim.conv2d` and `tf.contrib.layers.conv2d` share one entry. The stack of
scopes is global to the process (not per thread), as TF's is.
"""
from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["arg_scope", "add_arg_scope", "current_arg_scope", "has_arg_scope", "arg_scoped_arguments",
           "arg_scope_func_key"]

_ARG_STACK: list[dict[str, dict[str, Any]]] = [{}]
_DECORATED_OPS: dict[str, tuple[str, ...]] = {}


def arg_scope_func_key(op: Any) -> str:
    """The key a function is known by in arg scopes (its `_key_op`, else `str(op)`)."""
    return getattr(op, "_key_op", str(op))


def _name_op(op: Any) -> tuple[str, str]:
    return (op.__module__, op.__name__)


def _kwarg_names(func: Callable) -> tuple[str, ...]:
    """The names of the parameters with defaults (all positional ones when none has a default, as TF).

    TF slices these from the end of `co_varnames`, which also holds the local variables, so for a function
    with locals it lists a shifted range; caudal lists the keyword parameters themselves.
    """
    code = func.__code__
    count = len(func.__defaults__) if func.__defaults__ else 0
    start = code.co_argcount - count if count else 0
    return code.co_varnames[start:code.co_argcount]


def current_arg_scope() -> dict[str, dict[str, Any]]:
    """The innermost scope: function key -> keyword arguments."""
    return _ARG_STACK[-1]


def has_arg_scope(func: Any) -> bool:
    """Whether `func` was decorated with `add_arg_scope`."""
    return arg_scope_func_key(func) in _DECORATED_OPS


def arg_scoped_arguments(func: Any) -> tuple[str, ...]:
    """The names of the keyword arguments an arg scope can set for `func` (an AssertionError when `func` is not
    decorated, as in TF)."""
    assert has_arg_scope(func)
    return _DECORATED_OPS[arg_scope_func_key(func)]


@contextlib.contextmanager
def arg_scope(list_ops_or_scope: Any, **kwargs: Any) -> Iterator[dict[str, dict[str, Any]]]:
    """Sets default keyword arguments of the listed decorated functions; yields the new scope (a dict), which a
    later `arg_scope(scope)` re-enters as it was."""
    if isinstance(list_ops_or_scope, dict):
        if kwargs:
            raise ValueError("When attempting to re-use a scope by suppling adictionary, kwargs must be empty.")
        scope = list_ops_or_scope.copy()
    else:
        if not isinstance(list_ops_or_scope, (list, tuple)):
            raise TypeError("list_ops_or_scope must either be a list/tuple or reused scope (i.e. dict)")
        scope = current_arg_scope().copy()
        for op in list_ops_or_scope:
            key = arg_scope_func_key(op)
            if not has_arg_scope(op):
                # TF passes the name as a second exception argument, so the message reads as a tuple.
                raise ValueError("%s is not decorated with @add_arg_scope", _name_op(op))
            if key in scope:
                merged = scope[key].copy()
                merged.update(kwargs)
                scope[key] = merged
            else:
                scope[key] = kwargs.copy()
    _ARG_STACK.append(scope)
    try:
        yield scope
    finally:
        _ARG_STACK.pop()


def add_arg_scope(func: Callable) -> Callable:
    """Decorates `func` so that `arg_scope` can set its keyword arguments."""
    key = arg_scope_func_key(func)

    @functools.wraps(func)
    def func_with_args(*args: Any, **kwargs: Any) -> Any:
        scoped = current_arg_scope().get(key)
        if scoped is not None:
            merged = scoped.copy()
            merged.update(kwargs)
            kwargs = merged
        return func(*args, **kwargs)

    _DECORATED_OPS[key] = _kwarg_names(func)
    func_with_args._key_op = key  # type: ignore[attr-defined]
    return func_with_args
