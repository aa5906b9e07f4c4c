"""File ops: ReadFile, WriteFile and MatchingFiles, with `tf.read_file`, `tf.write_file` and
`tf.matching_files` (also reached as `tf.io.*`).

They are registered stateful, so a plan never folds them into constants: every run reads the
file system as it is then (TensorFlow marks only WriteFile stateful, and may fold a ReadFile of a
constant name once per session). Errors carry TF's types and messages: a missing file is a
NotFoundError "<path>; No such file or directory". WriteFile creates missing parent directories
and replaces the file, as TF does. MatchingFiles matches each path component with `*`, `?`,
`[...]` (and `\\` escapes) the way TF's glob does (a `*` also matches names starting with a
dot), keeps duplicates and sorts everything bytewise.
"""
from __future__ import annotations

import errno
import fnmatch
import os
from typing import Any

import numpy as np

from caudal import errors
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, Operation, apply_op, get_default_graph, make_op
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules

__all__ = ["read_file", "write_file", "matching_files"]

_STRING = frozenset([dtypes_lib.string])


def _text(value: Any) -> str:
    value = np.asarray(value, dtype=object).item() if isinstance(value, np.ndarray) else value
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


def _os_error(error: OSError, path: str) -> errors.OpError:
    """TF's status for a failed file system call: "<path>; <strerror>" with the matching type."""
    message = f"{path}; {os.strerror(error.errno) if error.errno else error}"
    kind = {errno.ENOENT: errors.NotFoundError, errno.EISDIR: errors.FailedPreconditionError,
            errno.ENOTDIR: errors.FailedPreconditionError, errno.EACCES: errors.PermissionDeniedError,
            errno.EPERM: errors.PermissionDeniedError, errno.EEXIST: errors.AlreadyExistsError,
            errno.ENOSPC: errors.ResourceExhaustedError}.get(error.errno, errors.UnknownError)
    return kind(None, None, message)


def _shape_text(value: Any) -> str:
    return "[" + ",".join(str(d) for d in np.shape(value)) + "]"


def _check_scalar(what: str, value: Any) -> None:
    if np.ndim(value) != 0:
        raise errors.InvalidArgumentError(None, None, f"{what} tensor must be scalar, but had shape: "
                                                      f"{_shape_text(value)}")


def _scalar_strings_infer(count: int, outputs: list) -> Any:
    def infer(ctx: InferContext) -> list:
        for i in range(count):
            _rules.check_dtype(ctx, i, _STRING, ("filename", "contents")[i])
            if ctx.shape(i).ndims not in (None, 0):
                raise ValueError(f"Shape must be rank 0 but is rank {ctx.shape(i).ndims}")
        return outputs

    return infer


def _read_file_kernel(ctx: Any, filename: Any) -> Any:
    _check_scalar("Input filename", filename)
    path = _text(filename)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        raise _os_error(error, path) from None
    return np.array(data, dtype=object)


def _make_parents(directory: str) -> None:
    """Creates the missing directories of `directory`, as TF's RecursivelyCreateDir."""
    if not directory or os.path.exists(directory):
        return
    parts = directory.split("/")
    for end in range(1, len(parts) + 1):
        prefix = "/".join(parts[:end])
        if not parts[end - 1]:
            continue
        if os.path.exists(prefix):
            if not os.path.isdir(prefix):
                raise errors.FailedPreconditionError(None, None, f"{prefix} is not a directory")
            continue
        try:
            os.mkdir(prefix)
        except FileExistsError:
            pass
        except OSError as error:
            raise _os_error(error, prefix) from None


def _write_file_kernel(ctx: Any, filename: Any, contents: Any) -> None:
    _check_scalar("Input filename", filename)
    _check_scalar("Contents", contents)
    path = _text(filename)
    data = np.asarray(contents, dtype=object).item()
    data = data.encode() if isinstance(data, str) else bytes(data)
    _make_parents(os.path.dirname(path))
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as error:
        raise _os_error(error, path) from None


def _unescape(component: str) -> str:
    """A glob component with TF's backslash escapes turned into one-character classes."""
    out, i = [], 0
    while i < len(component):
        if component[i] == "\\" and i + 1 < len(component):
            out.append("[" + component[i + 1] + "]")
            i += 2
        else:
            out.append(component[i])
            i += 1
    return "".join(out)


def _has_wildcard(text: str) -> bool:
    return any(c in text for c in "*?[\\")


def _join(directory: str, name: str) -> str:
    if not directory:
        return name
    return directory + name if directory.endswith("/") else directory + "/" + name


def _matches(pattern: str) -> list[str]:
    """The paths matching `pattern`, one path component at a time (unsorted)."""
    if not _has_wildcard(pattern):
        return [pattern] if os.path.lexists(pattern) else []
    components = pattern.split("/")
    first = next(i for i, c in enumerate(components) if _has_wildcard(c))
    prefix = "/".join(components[:first])
    candidates = ["/" if first and not prefix else prefix]
    for component in components[first:]:
        matched = []
        for directory in candidates:
            if not _has_wildcard(component):
                path = _join(directory, component)
                if os.path.lexists(path):
                    matched.append(path)
                continue
            try:
                names = os.listdir(directory or ".")
            except OSError:
                continue
            glob = _unescape(component)
            matched.extend(_join(directory, name) for name in names if fnmatch.fnmatchcase(name, glob))
        candidates = matched
    return candidates


def _matching_files_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, _STRING, "pattern")
    if ctx.shape(0).ndims is not None and ctx.shape(0).ndims > 1:
        raise ValueError(f"Shape must be at most rank 1 but is rank {ctx.shape(0).ndims}")
    return [(dtypes_lib.string, TensorShape([None]))]


def _matching_files_kernel(ctx: Any, pattern: Any) -> Any:
    if np.ndim(pattern) > 1:
        raise errors.InvalidArgumentError(None, None, "Input patterns tensor must be scalar or vector, but had "
                                                      f"shape: {_shape_text(pattern)}")
    patterns = np.asarray(pattern, dtype=object).reshape(-1)
    found = [path.encode("utf-8", "surrogateescape") for p in patterns for path in _matches(_text(p))]
    out = np.empty(len(found), dtype=object)
    out[:] = sorted(found)
    return out


register_op("ReadFile", infer=_scalar_strings_infer(1, [(dtypes_lib.string, TensorShape([]))]),
            kernel=_read_file_kernel, grad=NOT_DIFFERENTIABLE, stateful=True)
register_op("WriteFile", infer=_scalar_strings_infer(2, []), kernel=_write_file_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)
register_op("MatchingFiles", infer=_matching_files_infer, kernel=_matching_files_kernel, grad=NOT_DIFFERENTIABLE,
            stateful=True)


def read_file(filename: Any, name: str | None = None) -> Tensor:
    """The contents of file `filename` (a scalar string), read when the op runs."""
    with get_default_graph().name_scope(name or "ReadFile") as scope:
        filename = convert_to_tensor(filename, dtype=dtypes_lib.string, name="filename")
        return apply_op("ReadFile", [filename], {}, scope)


def write_file(filename: Any, contents: Any, name: str | None = None) -> Operation:
    """An op writing `contents` to file `filename` (parent directories created), when it runs."""
    with get_default_graph().name_scope(name or "WriteFile") as scope:
        filename = convert_to_tensor(filename, dtype=dtypes_lib.string, name="filename")
        contents = convert_to_tensor(contents, dtype=dtypes_lib.string, name="contents")
        return make_op("WriteFile", [filename, contents], {}, scope)


def matching_files(pattern: Any, name: str | None = None) -> Tensor:
    """The sorted paths matching the glob `pattern` (a string or a vector of them)."""
    with get_default_graph().name_scope(name or "MatchingFiles") as scope:
        pattern = convert_to_tensor(pattern, dtype=dtypes_lib.string, name="pattern")
        return apply_op("MatchingFiles", [pattern], {}, scope)
