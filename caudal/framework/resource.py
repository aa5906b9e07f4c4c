"""The protocol of mutable run state that a Session keeps between runs (see caudal.runtime.resources)."""
from __future__ import annotations

from typing import Any

__all__ = ["Resource"]


class Resource:
    """Mutable state kept by a Session between runs: random streams, counters, iterators, queues.

    A run that touches a resource first takes its `snapshot()`; if the run
    raises, the Session calls `restore(snapshot)`, so a failed run leaves it
    as it was.
    """

    __slots__ = ()

    def snapshot(self) -> Any:
        raise NotImplementedError

    def restore(self, snapshot: Any) -> None:
        raise NotImplementedError
