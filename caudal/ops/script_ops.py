"""`tf.py_func` and `tf.numpy_function`: the PyFunc and PyFuncStateless ops, which call a Python
function on NumPy arrays when they run.

As in TensorFlow 2.21's `tf.compat.v1`, the op holds only a `token` attr ("pyfunc_<n>"); the
function lives in a per-process registry keyed by the token, which keeps it as long as the
graph that uses it does. The kernel calls it with one NumPy array per input (a scalar input as
a NumPy scalar, or as `bytes` for a string), converts what it returns as TF does (a str or
bytes becomes a string; a list or tuple gives one output per item; None gives none) and checks
the number of values and each dtype with TF's messages. Exceptions map to TF's errors:
ValueError and TypeError to InvalidArgumentError, StopIteration to OutOfRangeError,
MemoryError to ResourceExhaustedError, NotImplementedError to UnimplementedError, anything
else to UnknownError, the message starting "<ExceptionType>: <text>" followed by the traceback.

Both ops are registered stateful, so a plan never folds or merges them and the function runs
on every run (TF marks only PyFunc stateful). They have no gradient (tf.gradients gives None
through them, as TF). The kernel keeps no state: it can run in any plan, on any thread.
"""
from __future__ import annotations

import functools
import threading
import traceback
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from caudal import errors
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, get_default_graph, make_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor_shape import unknown_shape

__all__ = ["py_func", "numpy_function"]


class _FuncRegistry:
    """Token -> function, per process. Entries are weak: the graph that uses a function holds it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._funcs: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()

    def insert(self, func: Any) -> str:
        with self._lock:
            token = f"pyfunc_{self._next}"
            self._next += 1
            self._funcs[token] = func
        return token

    def get(self, token: str) -> Any:
        return self._funcs.get(token)

    def size(self) -> int:
        return len(self._funcs)


_REGISTRY = _FuncRegistry()


class _Callback:
    """The registered object: a weak-referenceable holder of the user's function."""

    __slots__ = ("func", "__weakref__")

    def __init__(self, func: Callable) -> None:
        self.func = func


# TF's DataTypeString names, used in its messages.
_TF_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _type_name(dtype: dtypes_lib.DType) -> str:
    return _TF_TYPE_NAMES.get(dtype.name, dtype.name)


def _argument(value: Any) -> Any:
    """An input as the function sees it: a fresh, writable array, or a scalar (bytes for strings)."""
    array = np.array(value, copy=True)
    return array[()] if array.ndim == 0 else array


def _as_array(value: Any) -> np.ndarray:
    """A returned value as an array, converted as TF's FuncRegistry does: str and bytes values
    become object arrays of bytes."""
    result = np.asarray(value, order="C")
    if result.dtype.char == "S":
        return result.astype(object) if result is value else np.asarray(value, order="C", dtype=object)
    if result.dtype.char == "U":
        encoded = np.vectorize(lambda item: item.encode("utf8"), otypes=[object])(value)
        return np.asarray(encoded, order="C", dtype=object)
    return result


def _tensor_dtype(array: np.ndarray) -> dtypes_lib.DType:
    """The dtype TF gives a returned array; InternalError for objects that are not strings."""
    if array.dtype == object:
        for item in array.reshape(-1):
            if not isinstance(item, (bytes, str)):
                raise errors.InternalError(None, None, f"Unsupported object type {type(item).__name__}")
        return dtypes_lib.string
    try:
        return dtypes_lib.as_dtype(array.dtype)
    except TypeError:
        raise errors.InternalError(None, None, f"Unsupported numpy type {array.dtype}") from None


def _returned_values(result: Any) -> list[np.ndarray]:
    if isinstance(result, bytes):
        result = [result]
    if isinstance(result, (list, tuple)):
        return [_as_array(item) for item in result]
    array = _as_array(result)
    if array.ndim == 0 and array.dtype == object and array.item() is None:
        return []
    return [array]


_ERROR_TYPES: list[tuple[type[BaseException], type[errors.OpError]]] = [
    ((ValueError, TypeError), errors.InvalidArgumentError), (StopIteration, errors.OutOfRangeError),
    (MemoryError, errors.ResourceExhaustedError), (NotImplementedError, errors.UnimplementedError)]


def _op_error(error: Exception) -> errors.OpError:
    """TF's error for an exception the function raised, its message the exception and traceback."""
    kind = next((e for types, e in _ERROR_TYPES if isinstance(error, types)), errors.UnknownError)
    line = f"{type(error).__name__}: {error}"
    frames = traceback.format_tb(error.__traceback__)
    return kind(None, None, line + "\nTraceback (most recent call last):\n\n" + "\n".join(frames) + "\n" + line)


def _py_func_kernel(ctx: Any, *inputs: Any, token: Any, Tout: list, callback: Any) -> Any:  # noqa: N803 - TF's attr
    token = token.decode() if isinstance(token, bytes) else token
    try:
        if callback is None:
            raise ValueError(f"Could not find callback with key={token} in the registry.")
        values = _returned_values(callback.func(*[_argument(x) for x in inputs]))
    except Exception as error:  # noqa: BLE001 - every Python error becomes a TF error
        raise _op_error(error) from error
    if len(values) != len(Tout):
        raise errors.InvalidArgumentError(None, None, f"{token} returns {len(values)} values, but expects to see "
                                                      f"{len(Tout)} values.")
    outputs = []
    for i, (value, expected) in enumerate(zip(values, Tout)):
        expected = dtypes_lib.as_dtype(expected).base_dtype
        got = _tensor_dtype(value)
        if got != expected:
            raise errors.InvalidArgumentError(None, None, f"{i}-th value returned by {token} is {_type_name(got)}, "
                                                          f"but expects {_type_name(expected)}")
        outputs.append(value)
    if len(outputs) == 1:
        return outputs[0]
    return tuple(outputs) if outputs else None


def _bind(op: Operation) -> dict[str, Any]:
    token = op.get_attr("token")
    return {"callback": _REGISTRY.get(token.decode() if isinstance(token, bytes) else token)}


def _py_func_infer(ctx: InferContext) -> list:
    return [(dtypes_lib.as_dtype(t).base_dtype, unknown_shape()) for t in ctx.attrs["Tout"]]


register_op("PyFunc", infer=_py_func_infer, kernel=_py_func_kernel, bind=_bind, grad=NOT_DIFFERENTIABLE,
            stateful=True)
register_op("PyFuncStateless", infer=_py_func_infer, kernel=_py_func_kernel, bind=_bind, grad=NOT_DIFFERENTIABLE,
            stateful=True)


def py_func(func: Callable, inp: Any, Tout: Any, stateful: bool = True, name: str | None = None) -> Any:  # noqa: N803
    """TF1's `tf.py_func`: an op (PyFunc, or PyFuncStateless when `stateful=False`) that calls
    `func` on the values of the tensors `inp` when it runs. `Tout` is a dtype (the op's one
    output is returned) or a list of dtypes (a list of outputs; the Operation when empty). The
    outputs' static shapes are unknown."""
    if not callable(func):
        raise ValueError(f"Expected func to be callable. Received func={func} of type {type(func)}.")
    is_list = isinstance(Tout, (list, tuple))
    out_types = [dtypes_lib.as_dtype(t).base_dtype for t in (Tout if is_list else [Tout])]
    callback = _Callback(func)
    token = _REGISTRY.insert(callback)
    graph = get_default_graph()
    if not hasattr(graph, "_py_funcs_used_in_graph"):
        graph._py_funcs_used_in_graph = []
    graph._py_funcs_used_in_graph.append(callback)
    with graph.name_scope(name or ("PyFunc" if stateful else "PyFuncStateless")) as scope:
        inputs = [convert_to_tensor(x, name=f"input_{i}") for i, x in enumerate(inp)]
        op = make_op("PyFunc" if stateful else "PyFuncStateless", inputs,
                     {"token": token, "Tin": [t.dtype.base_dtype for t in inputs], "Tout": out_types}, scope)
    if not is_list:
        return op.outputs[0]
    return list(op.outputs) if out_types else op


def numpy_function(func: Callable | None = None, inp: Any = None, Tout: Any = None, stateful: bool = True,  # noqa: N803
                   name: str | None = None) -> Any:
    """TF's `tf.numpy_function`: `py_func`, also usable as a decorator (`func` omitted, `Tout`
    given by name) that wraps a function of tensors."""
    if Tout is None:
        raise TypeError("Missing required argument: 'Tout'\n  If using tf.numpy_function as a decorator, set `Tout`\n"
                        "  **by name** above the function:\n  `@tf.numpy_function(Tout=tout)`")
    if func is None:
        if inp is not None:
            raise TypeError("Don't set the `inp` argument when using tf.numpy_function as a decorator (`func=None`).")

        def decorator(function: Callable) -> Callable:
            @functools.wraps(function)
            def wrapper(*args: Any) -> Any:
                return py_func(function, args, Tout, stateful=stateful, name=name)

            return wrapper

        return decorator
    if inp is None:
        raise TypeError("Missing argument `inp`:\n  You must set the `inp` argument (the list of arguments to the\n"
                        "  function), unless you use `tf.numpy_function` as a decorator(`func=None`).")
    return py_func(func, inp, Tout, stateful=stateful, name=name)
