"""`tf.train.SessionManager`: creates sessions that are initialized, restored from a checkpoint, or ready.

- `prepare_session` (the chief): restores the newest checkpoint of
  `checkpoint_dir` (or `checkpoint_filename_with_path`) when there is one,
  else runs `init_op` and `init_fn`; then runs `local_init_op` and checks
  `ready_op`;
- `recover_session`: restores if it can, says whether it did;
- `wait_for_session` (a worker): creates a session every
  `recovery_wait_secs` until `ready_op` reports nothing uninitialized, or
  raises DeadlineExceededError after `max_wait_secs`.

A session on `master` sees what other sessions on that master initialized
only when the master keeps the variables (a server's target). caudal's
in-process sessions (`master=''`) each hold their own variables, as
TensorFlow's direct sessions do, so there a worker is ready only when its
own `local_init_op` makes it so.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from caudal import errors
from caudal.checkpoint import state as state_lib
from caudal.framework.graph import Graph, get_default_graph

__all__ = ["SessionManager"]

_logger = logging.getLogger("caudal")


def _maybe_name(obj: Any) -> str:
    if obj is None:
        return "None"
    if hasattr(obj, "name"):
        return obj.name
    return f"<no name for {type(obj)}>"


def _create_session(master: str, graph: Graph, config: Any) -> Any:
    """A new Session on `master` (the one place sessions are made, so a master may share its state)."""
    from caudal.runtime.session import Session

    return Session(master, graph=graph, config=config)


def _restore_checkpoint(sess: Any, saver: Any, path: str) -> None:
    saved_model_init_ops = sess.graph.get_collection("saved_model_initializers")
    if saved_model_init_ops:
        sess.run(saved_model_init_ops)
    saver.restore(sess, path)


class SessionManager:
    """`tf.train.SessionManager(local_init_op=None, ready_op=None, ready_for_local_init_op=None, graph=None,
    recovery_wait_secs=30, local_init_run_options=None, local_init_feed_dict=None)`."""

    def __init__(self, local_init_op: Any = None, ready_op: Any = None, ready_for_local_init_op: Any = None,
                 graph: Graph | None = None, recovery_wait_secs: float = 30, local_init_run_options: Any = None,
                 local_init_feed_dict: Any = None):
        if graph is None:
            graph = get_default_graph()
        self._local_init_op = local_init_op
        self._ready_op = ready_op
        self._ready_for_local_init_op = ready_for_local_init_op
        self._graph = graph
        self._recovery_wait_secs = recovery_wait_secs
        self._target: str | None = None
        self._local_init_run_options = local_init_run_options
        self._local_init_feed_dict = local_init_feed_dict
        if ready_for_local_init_op is not None and local_init_op is None:
            raise ValueError("If you pass a ready_for_local_init_op you must also pass a local_init_op , "
                             f"ready_for_local_init_op [{ready_for_local_init_op}]")

    def _restore_checkpoint(self, master: str, saver: Any = None, checkpoint_dir: str | None = None,
                            checkpoint_filename_with_path: str | None = None, wait_for_checkpoint: bool = False,
                            max_wait_secs: float = 7200, config: Any = None) -> tuple[Any, bool]:
        """A new session, restored from a checkpoint when one is given or appears in `checkpoint_dir`."""
        self._target = master
        sess = _create_session(master, self._graph, config)
        if checkpoint_dir and checkpoint_filename_with_path:
            raise ValueError("Can not provide both checkpoint_dir and checkpoint_filename_with_path.")
        if not saver or not (checkpoint_dir or checkpoint_filename_with_path):
            return sess, False
        if checkpoint_filename_with_path:
            _restore_checkpoint(sess, saver, checkpoint_filename_with_path)
            return sess, True
        wait_time = 0.0
        ckpt = state_lib.get_checkpoint_state(checkpoint_dir)
        while not ckpt or not ckpt.model_checkpoint_path:
            if not (wait_for_checkpoint and wait_time < max_wait_secs):
                return sess, False
            _logger.info("Waiting for checkpoint to be available.")
            time.sleep(self._recovery_wait_secs)
            wait_time += self._recovery_wait_secs
            ckpt = state_lib.get_checkpoint_state(checkpoint_dir)
        _restore_checkpoint(sess, saver, ckpt.model_checkpoint_path)
        saver.recover_last_checkpoints(list(ckpt.all_model_checkpoint_paths))
        return sess, True

    def prepare_session(self, master: str, init_op: Any = None, saver: Any = None, checkpoint_dir: str | None = None,
                        checkpoint_filename_with_path: str | None = None, wait_for_checkpoint: bool = False,
                        max_wait_secs: float = 7200, config: Any = None, init_feed_dict: Any = None,
                        init_fn: Callable[[Any], None] | None = None) -> Any:
        """A session restored from a checkpoint or initialized, then locally initialized and ready.

        Raises RuntimeError when nothing can initialize the model or the model
        is not ready afterwards (naming the uninitialized variables).
        """
        sess, is_loaded = self._restore_checkpoint(
            master, saver, checkpoint_dir=checkpoint_dir, checkpoint_filename_with_path=checkpoint_filename_with_path,
            wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs, config=config)
        if not is_loaded:
            if init_op is None and not init_fn and self._local_init_op is None:
                raise RuntimeError("Model is not initialized and no init_op or init_fn or local_init_op was given")
            if init_op is not None:
                sess.run(init_op, feed_dict=init_feed_dict)
            if init_fn:
                init_fn(sess)
        local_init_success, msg = self._try_run_local_init_op(sess)
        if not local_init_success:
            raise RuntimeError("Init operations did not make model ready for local_init.  "
                               f"Init op: {_maybe_name(init_op)}, init fn: {init_fn}, error: {msg}")
        is_ready, msg = self._model_ready(sess)
        if not is_ready:
            raise RuntimeError(f"Init operations did not make model ready.  Init op: {_maybe_name(init_op)}, "
                               f"init fn: {init_fn}, local_init_op: {self._local_init_op}, error: {msg}")
        return sess

    def recover_session(self, master: str, saver: Any = None, checkpoint_dir: str | None = None,
                        checkpoint_filename_with_path: str | None = None, wait_for_checkpoint: bool = False,
                        max_wait_secs: float = 7200, config: Any = None) -> tuple[Any, bool]:
        """(session, True) when a checkpoint was restored and made the model ready, else (session, False)."""
        sess, is_loaded = self._restore_checkpoint(
            master, saver, checkpoint_dir=checkpoint_dir, checkpoint_filename_with_path=checkpoint_filename_with_path,
            wait_for_checkpoint=wait_for_checkpoint, max_wait_secs=max_wait_secs, config=config)
        local_init_success, msg = self._try_run_local_init_op(sess)
        if not is_loaded:
            return sess, False
        restoring_file = checkpoint_dir or checkpoint_filename_with_path
        if not local_init_success:
            _logger.info("Restoring model from %s did not make model ready for local init: %s", restoring_file, msg)
            return sess, False
        is_ready, msg = self._model_ready(sess)
        if not is_ready:
            _logger.info("Restoring model from %s did not make model ready: %s", restoring_file, msg)
            return sess, False
        _logger.info("Restored model from %s", restoring_file)
        return sess, True

    def wait_for_session(self, master: str, config: Any = None, max_wait_secs: float | None = float("Inf")) -> Any:
        """A new session on `master` once the model is ready there, polling every `recovery_wait_secs`.

        Raises DeadlineExceededError when waiting longer would pass `max_wait_secs`.
        """
        self._target = master
        if max_wait_secs is None:
            max_wait_secs = float("Inf")
        deadline = time.time() + max_wait_secs
        while True:
            sess = _create_session(master, self._graph, config)
            not_ready_msg = None
            local_init_success, not_ready_local_msg = self._try_run_local_init_op(sess)
            if local_init_success:
                is_ready, not_ready_msg = self._model_ready(sess)
                if is_ready:
                    return sess
            self._safe_close(sess)
            if max(deadline - time.time(), 0) - self._recovery_wait_secs < 0:
                raise errors.DeadlineExceededError(
                    None, None, f"Session was not ready after waiting {int(max_wait_secs)} secs.")
            _logger.info("Waiting for model to be ready.  Ready_for_local_init_op:  %s, ready: %s",
                         not_ready_local_msg, not_ready_msg)
            time.sleep(self._recovery_wait_secs)

    @staticmethod
    def _safe_close(sess: Any) -> None:
        try:
            sess.close()
        except Exception:  # noqa: BLE001 - TF ignores errors closing a session that was not ready
            pass

    def _model_ready(self, sess: Any) -> tuple[bool, str | None]:
        return _ready(self._ready_op, sess, "Model not ready")

    def _model_ready_for_local_init(self, sess: Any) -> tuple[bool, str | None]:
        return _ready(self._ready_for_local_init_op, sess, "Model not ready for local init")

    def _try_run_local_init_op(self, sess: Any) -> tuple[bool, str | None]:
        if self._local_init_op is None:
            return True, None
        is_ready, msg = self._model_ready_for_local_init(sess)
        if not is_ready:
            return False, msg
        _logger.info("Running local_init_op.")
        sess.run(self._local_init_op, feed_dict=self._local_init_feed_dict, options=self._local_init_run_options)
        _logger.info("Done running local_init_op.")
        return True, None


def _ready(op: Any, sess: Any, msg: str) -> tuple[bool, str | None]:
    """Runs a ready op: ready when it is None or gives an empty (or int32) tensor, else the names it gives."""
    if op is None:
        return True, None
    try:
        value = sess.run(op)
    except errors.FailedPreconditionError as e:
        if "uninitialized" not in str(e):
            _logger.warning("%s : error [%s]", msg, e)
            raise
        return False, str(e)
    if value is None or np.asarray(value).dtype == np.int32 or np.size(value) == 0:
        return True, None
    names = ", ".join(v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in np.asarray(value).ravel())
    return False, "Variables not initialized: " + names
