"""DEAD: the value of a tensor on a tf.cond branch that was not taken (plans pass it along)."""
from __future__ import annotations

from typing import Any

__all__ = ["DEAD"]


class _Dead:
    """The value of a tensor on a tf.cond branch that was not taken."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "DEAD"


DEAD: Any = _Dead()
