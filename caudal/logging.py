"""`tf.logging` (TF1): Python's `logging` under TensorFlow's logger name, "tensorflow".

As in TensorFlow, the first use gives the logger one handler that writes
`LEVEL:tensorflow:message` (`logging.BASIC_FORMAT`) to stderr, unless the root
logger already has handlers (the program configured logging itself); in an
interactive session the handler writes to stdout and the level is INFO. The
verbosity is the logger's level: WARN (30), inherited from the root logger,
until `set_verbosity` sets it. `log_every_n` and `log_first_n` count calls the
way TF does (one count for all the calls a script makes, see
`_next_count_at_caller`); `flush` raises NotImplementedError, as TF's does.
"""
from __future__ import annotations

import logging as _logging
import sys as _sys
import threading as _threading
from typing import Any

__all__ = ["DEBUG", "ERROR", "FATAL", "INFO", "WARN", "TaskLevelStatusMessage", "debug", "error", "fatal", "flush",
           "get_logger", "get_verbosity", "info", "log", "log_every_n", "log_first_n", "log_if", "set_verbosity",
           "vlog", "warn", "warning"]

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
ERROR = _logging.ERROR
FATAL = _logging.FATAL

LOGGER_NAME = "tensorflow"

_logger: _logging.Logger | None = None
_logger_lock = _threading.Lock()
_counts: dict[tuple[str, int], int] = {}
_counts_lock = _threading.Lock()


def get_logger() -> _logging.Logger:
    """The "tensorflow" logger (`tf.get_logger()`), given TF's stderr handler on first use."""
    global _logger
    if _logger is not None:
        return _logger
    with _logger_lock:
        if _logger is None:
            logger = _logging.getLogger(LOGGER_NAME)
            if not _logging.getLogger().handlers and not logger.handlers:
                interactive = hasattr(_sys, "ps1") or bool(_sys.flags.interactive)
                if interactive:
                    logger.setLevel(INFO)
                handler = _logging.StreamHandler(_sys.stdout if interactive else _sys.stderr)
                handler.setFormatter(_logging.Formatter(_logging.BASIC_FORMAT, None))
                logger.addHandler(handler)
            _logger = logger
    return _logger


def log(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().log(level, msg, *args, stacklevel=2, **kwargs)


def debug(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().debug(msg, *args, stacklevel=2, **kwargs)


def info(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().info(msg, *args, stacklevel=2, **kwargs)


def warning(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().warning(msg, *args, stacklevel=2, **kwargs)


def warn(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().warning(msg, *args, stacklevel=2, **kwargs)


def error(msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().error(msg, *args, stacklevel=2, **kwargs)


def fatal(msg: Any, *args: Any, **kwargs: Any) -> None:
    """Logs at FATAL (shown as CRITICAL); like TF, it does not end the program."""
    get_logger().fatal(msg, *args, stacklevel=2, **kwargs)


def vlog(level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
    get_logger().log(level, msg, *args, stacklevel=2, **kwargs)


def log_if(level: int, msg: Any, condition: Any, *args: Any) -> None:
    if condition:
        get_logger().log(level, msg, *args, stacklevel=2)


def _next_count_at_caller() -> int:
    """How many times this count was taken before (0 the first time). TF keys the count by the first
    frame above the caller that lies in another file than the caller's, not by the caller's own line:
    calls made from anywhere in one script share one count, and so do they here."""
    frame = _sys._getframe(2)
    caller_file = frame.f_code.co_filename
    frame = frame.f_back
    while frame is not None and frame.f_code.co_filename == caller_file:
        frame = frame.f_back
    site = ("<unknown>", 0) if frame is None else (frame.f_code.co_filename, frame.f_lineno)
    with _counts_lock:
        count = _counts.get(site, 0)
        _counts[site] = count + 1
    return count


def log_every_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Logs the 1st, (n+1)th, (2n+1)th, ... call (counted as TF counts, see `_next_count_at_caller`)."""
    count = _next_count_at_caller()
    if not count % n:
        get_logger().log(level, msg, *args, stacklevel=2)


def log_first_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Logs the first `n` calls (counted as TF counts, see `_next_count_at_caller`)."""
    count = _next_count_at_caller()
    if count < n:
        get_logger().log(level, msg, *args, stacklevel=2)


def TaskLevelStatusMessage(msg: Any) -> None:  # noqa: N802 - TF's name
    """Logs `msg` at ERROR, as TF does."""
    get_logger().error(msg, stacklevel=2)


def flush() -> None:
    """TF's `tf.logging.flush` raises NotImplementedError; so does this one."""
    raise NotImplementedError()


def get_verbosity() -> int:
    """The logger's effective level (WARN until `set_verbosity`)."""
    return get_logger().getEffectiveLevel()


def set_verbosity(v: int) -> None:
    """Sets the "tensorflow" logger's level, and that of caudal's own logger, whose lines (the training
    loop's and the Estimator's: `Saving checkpoints for 10 into ...`) then print as TF's do."""
    get_logger().setLevel(v)
    own = _logging.getLogger("caudal")
    own.setLevel(v)
    if not own.handlers and not _logging.getLogger().handlers:
        handler = _logging.StreamHandler(_sys.stderr)
        handler.setFormatter(_logging.Formatter("%(levelname)s:tensorflow:%(message)s", None))
        own.addHandler(handler)
        own.propagate = False
