"""The default Session, as the framework reaches it: `Tensor.eval`, `Operation.run`, `reset_default_graph`.

Sessions live in `caudal.runtime`, a layer above the framework, so the
framework does not import them: the runtime registers its functions here
when it is imported (`caudal/runtime/__init__.py`), as TensorFlow's
framework keeps the default-session stack for its client to fill. Until
then no Session can exist, and these functions say so.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["register_default_session", "run_with_default_session", "has_default_session"]

_run: Callable[[Any, Any, Any], Any] | None = None
_get_default: Callable[[], Any] | None = None


def register_default_session(run_with_default_session: Callable[[Any, Any, Any], Any],
                             get_default_session: Callable[[], Any]) -> None:
    """Called by the runtime: `run_with_default_session(fetch, feed_dict, session)` runs `fetch` in
    `session` or the default one; `get_default_session()` is the default Session or None."""
    global _run, _get_default
    _run = run_with_default_session
    _get_default = get_default_session


def run_with_default_session(fetch: Any, feed_dict: Any, session: Any) -> Any:
    """`Tensor.eval()` / `Operation.run()`: runs `fetch` in `session`, or in the default Session."""
    if _run is None:
        raise ValueError("Cannot evaluate tensor using `eval()`: No default session is registered "
                         "(caudal.runtime is not loaded).")
    return _run(fetch, feed_dict, session)


def has_default_session() -> bool:
    """Whether a Session is the default one now (in this thread)."""
    return _get_default is not None and _get_default() is not None
