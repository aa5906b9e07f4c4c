"""`tf.gfile` (TF1) and the functions of `tf.io.gfile`: files on the local file system.

Behaviour follows TensorFlow's FileIO and its errors (recorded from TF 2.21):

- `GFile(name, mode="r")` opens lazily: a missing file raises NotFoundError
  ("<path>; No such file or directory") at the first read, not at the open,
  and a file opened for writing is created at the first write (so a `with`
  block that writes nothing creates no file). Modes are r, w, a, r+, w+, a+,
  each optionally with b; text modes read `str` (UTF-8), binary modes read
  `bytes`; `write` takes either. `read(n)`, `readline` and `tell` count bytes.
  Reading a file opened for writing, or writing one opened for reading, is a
  PermissionDeniedError. Mixed reads and writes in r+/w+/a+ follow Python's
  file semantics.
- The file-system functions raise TF's errors with TF's messages: missing
  paths are NotFoundError, an existing target of `copy`/`rename` without
  `overwrite` is AlreadyExistsError ("file already exists"), a file where a
  directory is needed is FailedPreconditionError.
- Only local paths (and `file://`) are supported; any other scheme (`gs://`,
  `hdfs://`, `s3://`, ...) is UnimplementedError("File system scheme 'gs' not
  implemented (file: ...)"), the error TF gives for schemes it was built without.
"""
from __future__ import annotations

import glob as _glob
import os
import posixpath
import re
import shutil
import sys
from collections.abc import Iterator
from typing import Any, NamedTuple

from caudal import errors

__all__ = ["Copy", "DeleteRecursively", "Exists", "FastGFile", "FileStatistics", "GFile", "Glob", "IsDirectory",
           "ListDirectory", "MakeDirs", "MkDir", "Open", "Remove", "Rename", "Stat", "Walk"]

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_MODES = ("r", "w", "a", "r+", "w+", "a+")
_PYTHON_MODES = {"r": "rb", "w": "wb", "a": "ab", "r+": "r+b", "w+": "w+b", "a+": "a+b"}


def _local_path(path: Any) -> str:
    """The local path `path` names (str, bytes or os.PathLike); other schemes are UnimplementedError."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = path.decode("utf-8")
    match = _SCHEME.match(path)
    if match is None:
        return path
    if match.group(1) == "file":
        return path[len("file://"):]
    raise errors.UnimplementedError(None, None, f"File system scheme '{match.group(1)}' not implemented "
                                                f"(file: '{path}')")


def _os_error(error: OSError, path: str) -> errors.OpError:
    """TF's error for a failed system call on `path`: "<path>; <strerror>"."""
    message = f"{path}; {error.strerror or error}"
    if isinstance(error, FileNotFoundError):
        return errors.NotFoundError(None, None, message)
    if isinstance(error, FileExistsError):
        return errors.AlreadyExistsError(None, None, message)
    if isinstance(error, (IsADirectoryError, NotADirectoryError)):
        return errors.FailedPreconditionError(None, None, message)
    if isinstance(error, PermissionError):
        return errors.PermissionDeniedError(None, None, message)
    return errors.UnknownError(None, None, message)


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"Expected binary or unicode string, got {value!r}")


class GFile:
    """`tf.gfile.GFile(name, mode='r')` (also `tf.gfile.Open`, `tf.io.gfile.GFile`)."""

    def __init__(self, name: Any, mode: str = "r"):
        self._path = _local_path(name)
        self._name = name if isinstance(name, str) else self._path
        self._mode = mode
        base = mode.replace("b", "")
        if base not in _MODES:
            raise errors.InvalidArgumentError(None, None, "mode is not 'r' or 'w' or 'a' or 'r+' or 'w+' or 'a+'")
        self._binary = "b" in mode
        self._readable = base in ("r", "r+", "w+", "a+")
        self._writable = base != "r"
        self._python_mode = _PYTHON_MODES[base]
        self._file: Any = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def mode(self) -> str:
        return self._mode

    def _open(self) -> Any:
        if self._file is None:
            try:
                self._file = open(self._path, self._python_mode)  # noqa: SIM115 - closed by close()
            except OSError as e:
                raise _os_error(e, self._path) from None
            if self._python_mode == "a+b":
                self._file.seek(0)  # reads start at the beginning, as in TF; writes still append
        return self._file

    def _reader(self) -> Any:
        if not self._readable:
            raise errors.PermissionDeniedError(None, None, "File isn't open for reading")
        return self._open()

    def _writer(self) -> Any:
        if not self._writable:
            raise errors.PermissionDeniedError(None, None, "File isn't open for writing")
        return self._open()

    def _decoded(self, data: bytes) -> Any:
        return data if self._binary else data.decode("utf-8")

    def size(self) -> int:
        """The file's length in bytes (NotFoundError if it does not exist)."""
        return stat(self._path).length

    def write(self, file_content: Any) -> None:
        """Appends `file_content` (str or bytes) to the file (opened, so created, before the content is
        checked, as in TF)."""
        writer = self._writer()
        writer.write(_as_bytes(file_content))

    def read(self, n: int = -1) -> Any:
        """`n` bytes (all that remain when n is -1), decoded in text modes."""
        return self._decoded(self._reader().read(None if n is None or n < 0 else n))

    def readline(self) -> Any:
        return self._decoded(self._reader().readline())

    def readlines(self) -> list[Any]:
        return [self._decoded(line) for line in self._reader().readlines()]

    def seek(self, offset: int | None = None, whence: int = 0, position: int | None = None) -> None:
        """Moves to `offset` from the start (0), the current position (1) or the end (2)."""
        if offset is None and position is None:
            raise TypeError("seek(): offset argument required")
        if offset is not None and position is not None:
            raise TypeError("seek(): offset and position may not be set simultaneously.")
        if position is not None:
            offset = position
        reader = self._reader()
        if whence not in (0, 1, 2):
            raise errors.InvalidArgumentError(None, None, f"Invalid whence argument: {whence}. Valid values are 0, "
                                                          "1, or 2.")
        base = (0, reader.tell(), os.fstat(reader.fileno()).st_size)[whence]
        target = base + offset
        if target < 0:
            raise errors.InvalidArgumentError(None, None, f"Seeking to a negative position: {target}")
        if not self._writable and target > os.fstat(reader.fileno()).st_size:
            raise errors.OutOfRangeError(None, None, "reached end of file")
        reader.seek(target)

    def tell(self) -> int:
        return self._open().tell()

    def seekable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        if self._file is not None and self._writable:
            self._file.flush()

    def close(self) -> None:
        """Closes the file; a later write opens it again (mode 'w' then starts it afresh, as in TF)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    next = __next__

    def __enter__(self) -> GFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_file", None) is not None:
            self._file.close()


Open = GFile


class FastGFile(GFile):
    """`tf.gfile.FastGFile`: GFile under its deprecated name (it warns once, as TF does)."""

    def __init__(self, name: Any, mode: str = "r"):
        from caudal.util.deprecation import warn_deprecated

        warn_deprecated("FastGFile.__init__", "caudal.gfile", None, "Use tf.gfile.GFile.")
        super().__init__(name, mode)


class FileStatistics(NamedTuple):
    """What `Stat` returns: length in bytes, modification time in nanoseconds, whether a directory."""

    length: int
    mtime_nsec: int
    is_directory: bool


# ------------------------------------------------------------ file system
def exists(path: Any) -> bool:
    """Whether a file or directory exists at `path`."""
    return os.path.exists(_local_path(path)) if os.fspath(path) else False


def isdir(path: Any) -> bool:
    return os.path.isdir(_local_path(path))


def stat(path: Any) -> FileStatistics:
    local = _local_path(path)
    try:
        result = os.stat(local)
    except OSError as e:
        raise _os_error(e, local) from None
    return FileStatistics(result.st_size, result.st_mtime_ns, os.path.isdir(local))


def makedirs(path: Any) -> None:
    """Creates `path` and its missing parents; existing directories are fine, a file in the way is not."""
    local = _local_path(path)
    if not local:
        return
    partial = os.sep if local.startswith(os.sep) else ""
    for part in [p for p in local.split(os.sep) if p]:
        partial = os.path.join(partial, part)
        if os.path.exists(partial) and not os.path.isdir(partial):
            raise errors.FailedPreconditionError(None, None, f"{partial} is not a directory")
    try:
        os.makedirs(local, exist_ok=True)
    except OSError as e:
        raise _os_error(e, local) from None


def mkdir(path: Any) -> None:
    """Creates the directory `path`; its parent must exist. Like TF, an existing path is not an error."""
    local = _local_path(path)
    try:
        os.mkdir(local)
    except FileExistsError:
        pass
    except OSError as e:
        raise _os_error(e, local) from None


def listdir(path: Any) -> list[str]:
    """The names of the entries of directory `path` (in the file system's order)."""
    local = _local_path(path)
    if not os.path.isdir(local):
        raise errors.NotFoundError(None, None, f"Could not find directory {local}")
    return os.listdir(local)


def glob(pattern: Any) -> list[str]:
    """The paths matching `pattern` (or any of a list of patterns); `*` does not cross `/`."""
    patterns = [pattern] if isinstance(pattern, (str, bytes, os.PathLike)) else list(pattern)
    matches: list[str] = []
    for item in patterns:
        local = _local_path(item)
        if sys.version_info >= (3, 11):
            matches.extend(_glob.glob(local, include_hidden=True))
        else:
            matches.extend(_glob.glob(local))
    return matches


def remove(path: Any) -> None:
    """Deletes the file `path` (a directory is FailedPreconditionError, a missing path NotFoundError)."""
    local = _local_path(path)
    try:
        os.remove(local)
    except OSError as e:
        raise _os_error(e, local) from None


def rmtree(path: Any) -> None:
    """Deletes `path`, a directory with everything under it, or a file."""
    local = _local_path(path)
    if not os.path.lexists(local):
        raise errors.NotFoundError(None, None, f"{local} not found")
    try:
        if os.path.isdir(local) and not os.path.islink(local):
            shutil.rmtree(local)
        else:
            os.remove(local)
    except OSError as e:
        raise _os_error(e, getattr(e, "filename", None) or local) from None


def copy(src: Any, dst: Any, overwrite: bool = False) -> None:
    """Copies file `src` to `dst`; an existing `dst` is AlreadyExistsError unless `overwrite`."""
    source, target = _local_path(src), _local_path(dst)
    if not overwrite and os.path.exists(target):
        raise errors.AlreadyExistsError(None, None, "file already exists")
    if os.path.isdir(source):
        with open(target, "wb"):  # TF creates the target before it finds it cannot read a directory
            pass
        raise errors.InvalidArgumentError(None, None, f"{target}; Invalid argument")
    try:
        shutil.copyfile(source, target)
    except OSError as e:
        raise _os_error(e, e.filename or source) from None


def rename(src: Any, dst: Any, overwrite: bool = False) -> None:
    """Moves `src` to `dst`; an existing `dst` is AlreadyExistsError unless `overwrite`."""
    source, target = _local_path(src), _local_path(dst)
    if not overwrite and os.path.exists(target):
        raise errors.AlreadyExistsError(None, None, "file already exists")
    try:
        os.rename(source, target)
    except OSError as e:
        raise _os_error(e, source) from None


def walk(top: Any, topdown: bool = True, onerror: Any = None) -> Iterator[tuple[str, list[str], list[str]]]:
    """(directory, subdirectory names, file names) for `top` and every directory under it; nothing if
    `top` is not a directory. Parents come before their children when `topdown`, after them otherwise."""
    local = _local_path(top)
    if not os.path.isdir(local):
        return
    try:
        names = os.listdir(local)
    except OSError as e:
        if onerror is not None:
            onerror(_os_error(e, local))
        return
    subdirs = [n for n in names if os.path.isdir(os.path.join(local, n))]
    files = [n for n in names if n not in subdirs]
    if topdown:
        yield local, subdirs, files
    for name in subdirs:
        yield from walk(os.path.join(local, name), topdown, onerror)
    if not topdown:
        yield local, subdirs, files


def join(path: Any, *paths: Any) -> str:
    """Joins path components with `/` (URL-style paths keep their scheme)."""
    return posixpath.join(os.fspath(path), *[os.fspath(p) for p in paths])


def get_registered_schemes() -> list[str]:
    """The schemes paths may have: none (a plain path) and file://."""
    return ["", "file"]


# TF1's CamelCase names.
Exists = exists
IsDirectory = isdir
Stat = stat
MakeDirs = makedirs
MkDir = mkdir
ListDirectory = listdir
Glob = glob
Remove = remove
DeleteRecursively = rmtree
Copy = copy
Rename = rename


def Walk(top: Any, in_order: bool = True) -> Iterator[tuple[str, list[str], list[str]]]:  # noqa: N802
    """`tf.gfile.Walk(top, in_order=True)`: `walk` with TF1's argument name."""
    return walk(top, topdown=in_order)
