"""The `checkpoint` state file and checkpoint paths (TF's `checkpoint_management`).

The state file, `DIR/checkpoint` by default, is a `CheckpointState` proto in
text format naming the newest checkpoint prefix and those kept. Paths inside
it are stored as given (relative to the directory when the directory itself
was given as a relative path, as TensorFlow does) and read back joined to the
directory when relative. It is replaced atomically (write a temporary file,
then rename), so a reader sees the old state or the new one, never a part.
"""
from __future__ import annotations

import glob
import logging
import os
import re
from typing import Any

from google.protobuf import text_format

from caudal import errors
from caudal.proto import checkpoint_state_pb2, saver_pb2

__all__ = ["generate_checkpoint_state_proto", "update_checkpoint_state", "get_checkpoint_state",
           "latest_checkpoint", "checkpoint_exists", "get_checkpoint_mtimes", "remove_checkpoint",
           "meta_graph_filename", "atomic_write", "CheckpointState"]

CheckpointState = checkpoint_state_pb2.CheckpointState
_logger = logging.getLogger("caudal")


def atomic_write(path: str, contents: bytes | str) -> None:
    """Replaces `path` crash-safely: a readers sees the old contents or the new, whenever the process dies.

    The contents go to a temporary name beside `path`, are fsynced, renamed
    into place and the directory is synced. Temporary files that killed
    writes of the same path left are removed first. A missing directory is
    NotFoundError, a full disk ResourceExhaustedError, no permission
    PermissionDeniedError, each naming `path`.
    """
    from caudal.checkpoint import durable

    path = os.fspath(path)
    data = contents.encode("utf-8") if isinstance(contents, str) else contents
    for stale in glob.glob(glob.escape(path) + durable.TEMP_MARK + "*"):
        _remove_quietly(stale)
    tmp = durable.temporary_name(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            durable.fsync_file(f)
        os.replace(tmp, path)
    except OSError as e:
        _remove_quietly(tmp)
        raise _typed_os_error(e, path) from None
    except BaseException:
        _remove_quietly(tmp)
        raise
    durable.fsync_dir(os.path.dirname(os.path.abspath(path)))


def _typed_os_error(error: OSError, path: str) -> errors.OpError:
    """The `caudal.errors` class of an OSError met while writing `path` (ENOSPC: ResourceExhaustedError)."""
    import errno

    text = f"{path}; {error.strerror or error}"
    if isinstance(error, FileNotFoundError):
        return errors.NotFoundError(None, None, text)
    if isinstance(error, PermissionError):
        return errors.PermissionDeniedError(None, None, text)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return errors.ResourceExhaustedError(None, None, text)
    if isinstance(error, IsADirectoryError):
        return errors.FailedPreconditionError(None, None, text)
    return errors.UnknownError(None, None, text)


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _state_filename(save_dir: str, latest_filename: str | None) -> str:
    return os.path.join(save_dir, latest_filename or "checkpoint")


def generate_checkpoint_state_proto(save_dir: str, model_checkpoint_path: str,
                                    all_model_checkpoint_paths: list[str] | None = None,
                                    all_model_checkpoint_timestamps: list[float] | None = None,
                                    last_preserved_timestamp: float | None = None) -> CheckpointState:
    """`tf.train.generate_checkpoint_state_proto`: a CheckpointState.

    `model_checkpoint_path` is appended to `all_model_checkpoint_paths` unless
    it is already last. When `save_dir` is relative, relative paths are made
    relative to it.
    """
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if all_model_checkpoint_timestamps and len(all_model_checkpoint_timestamps) != len(paths):
        raise ValueError(f"Checkpoint timestamps, if provided, must match checkpoint paths (got paths {paths} "
                         f"and timestamps {all_model_checkpoint_timestamps})")
    if not os.path.isabs(save_dir):
        if not os.path.isabs(model_checkpoint_path):
            model_checkpoint_path = os.path.relpath(model_checkpoint_path, save_dir)
        paths = [p if os.path.isabs(p) else os.path.relpath(p, save_dir) for p in paths]
    return CheckpointState(model_checkpoint_path=model_checkpoint_path, all_model_checkpoint_paths=paths,
                           all_model_checkpoint_timestamps=all_model_checkpoint_timestamps or [],
                           last_preserved_timestamp=last_preserved_timestamp or 0.0)


def update_checkpoint_state(save_dir: str, model_checkpoint_path: str,
                            all_model_checkpoint_paths: list[str] | None = None, latest_filename: str | None = None,
                            all_model_checkpoint_timestamps: list[float] | None = None,
                            last_preserved_timestamp: float | None = None,
                            save_relative_paths: bool = False) -> None:
    """`tf.train.update_checkpoint_state`: (atomically) rewrites the state file in `save_dir`.

    With `save_relative_paths`, absolute paths are stored relative to `save_dir`.
    A checkpoint path equal to the state file's own path is a RuntimeError.
    """
    save_dir = os.fspath(save_dir)
    state_file = _state_filename(save_dir, latest_filename)
    if save_relative_paths:
        def relative(p: str) -> str:
            return os.path.relpath(p, save_dir) if os.path.isabs(p) else p

        model_checkpoint_path = relative(model_checkpoint_path)
        all_model_checkpoint_paths = [relative(p) for p in all_model_checkpoint_paths or []]
    state = generate_checkpoint_state_proto(save_dir, model_checkpoint_path, all_model_checkpoint_paths,
                                            all_model_checkpoint_timestamps, last_preserved_timestamp)
    if state_file == state.model_checkpoint_path:
        raise RuntimeError(f"Save path '{model_checkpoint_path}' conflicts with path used for checkpoint state.  "
                           "Please use a different save path.")
    atomic_write(state_file, text_format.MessageToString(state))


def get_checkpoint_state(checkpoint_dir: Any, latest_filename: str | None = None) -> CheckpointState | None:
    """`tf.train.get_checkpoint_state`: the CheckpointState in `checkpoint_dir`, or None if absent or unreadable.

    Relative paths in the file are returned joined to `checkpoint_dir`. A state
    file without `model_checkpoint_path` is a ValueError.
    """
    checkpoint_dir = os.fspath(checkpoint_dir)
    state_file = _state_filename(checkpoint_dir, latest_filename)
    if not os.path.isfile(state_file):
        return None
    try:
        with open(state_file, encoding="utf-8") as f:
            state = text_format.Parse(f.read(), CheckpointState())
    except (OSError, UnicodeDecodeError, text_format.ParseError) as e:
        _logger.warning("%s: Checkpoint ignored: %s", type(e).__name__, state_file)
        return None
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")
    if not os.path.isabs(state.model_checkpoint_path):
        state.model_checkpoint_path = os.path.join(checkpoint_dir, state.model_checkpoint_path)
    for i, path in enumerate(state.all_model_checkpoint_paths):
        if not os.path.isabs(path):
            state.all_model_checkpoint_paths[i] = os.path.join(checkpoint_dir, path)
    return state


def checkpoint_exists(checkpoint_prefix: Any) -> bool:
    """`tf.train.checkpoint_exists`: whether a V2 checkpoint (`PREFIX.index`) or a V1 file matches."""
    prefix = os.fspath(checkpoint_prefix)
    return bool(glob.glob(glob.escape(prefix) + ".index") or glob.glob(prefix))


def latest_checkpoint(checkpoint_dir: Any, latest_filename: str | None = None) -> str | None:
    """`tf.train.latest_checkpoint`: the newest checkpoint's prefix in `checkpoint_dir` if its files exist."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state and state.model_checkpoint_path:
        if checkpoint_exists(state.model_checkpoint_path):
            return state.model_checkpoint_path
        _logger.error("Couldn't match files for checkpoint %s", state.model_checkpoint_path)
    return None


def get_checkpoint_mtimes(checkpoint_prefixes: list[str]) -> list[float]:
    """`tf.train.get_checkpoint_mtimes`: modification times of the checkpoints' index files."""
    times = []
    for prefix in checkpoint_prefixes:
        for pattern in (glob.escape(prefix) + ".index", prefix):
            matches = glob.glob(pattern)
            if matches:
                times.append(os.path.getmtime(matches[0]))
                break
    return times


def meta_graph_filename(checkpoint_filename: str, meta_graph_suffix: str = "meta") -> str:
    """The `.meta` path beside a checkpoint prefix (a shard suffix `-?????-of-NNNNN` is dropped)."""
    base = re.sub(r"-[\d\?]+-of-\d+$", "", checkpoint_filename)
    return f"{base}.{meta_graph_suffix}"


def remove_checkpoint(checkpoint_prefix: str, checkpoint_format_version: int = saver_pb2.SaverDef.V2,
                      meta_graph_suffix: str = "meta") -> None:
    """`tf.train.remove_checkpoint`: deletes a checkpoint's index, data and meta graph files."""
    _remove_quietly(meta_graph_filename(checkpoint_prefix, meta_graph_suffix))
    if checkpoint_format_version == saver_pb2.SaverDef.V2:
        _remove_quietly(checkpoint_prefix + ".index")
        for path in glob.glob(glob.escape(checkpoint_prefix) + ".data-?????-of-?????"):
            _remove_quietly(path)
    else:
        _remove_quietly(checkpoint_prefix)
