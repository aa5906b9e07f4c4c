"""TensorFlow's deprecation warnings: each deprecated name warns once per process.

The warning goes to the "tensorflow" logger (see `caudal.logging`) at WARNING,
in TF's words:

    From <caller file>:<line>: <name> (from <module>) is deprecated and will be
    removed after <date>.            (or: "in a future version.")
    Instructions for updating:
    <instructions>
"""
from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any

_warned: set[str] = set()
_lock = threading.Lock()


def deprecation_message(location: str, name: str, module: str, date: str | None, instructions: str) -> str:
    removal = "in a future version" if date is None else f"after {date}"
    return (f"From {location}: {name} (from {module}) is deprecated and will be removed {removal}.\n"
            f"Instructions for updating:\n{instructions}")


def warn_deprecated(name: str, module: str, date: str | None, instructions: str, depth: int = 2) -> None:
    """Warns, the first time only, that `name` is deprecated; `depth` frames up is the caller to name."""
    key = f"{module}.{name}"
    with _lock:
        if key in _warned:
            return
        _warned.add(key)
    frame = sys._getframe(depth)
    location = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    from caudal.logging import get_logger

    get_logger().warning(deprecation_message(location, name, module, date, instructions))


def deprecated_alias(target: Callable, name: str, date: str | None, instructions: str,
                     module: str | None = None) -> Callable:
    """`target` under the deprecated `name`: same arguments and result, plus the warning on first use."""
    module = module or target.__module__

    @functools.wraps(target)
    def deprecated(*args: Any, **kwargs: Any) -> Any:
        warn_deprecated(name, module, date, instructions)
        return target(*args, **kwargs)

    deprecated.__name__ = name
    deprecated.__qualname__ = name
    return deprecated
