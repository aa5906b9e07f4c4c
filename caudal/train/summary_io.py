"""`tf.train.SummaryWriter`: TF 0.12's name of `tf.summary.FileWriter` (same interface), deprecated."""
from __future__ import annotations

from typing import Any

from caudal.summary.writer import FileWriter
from caudal.util.deprecation import warn_deprecated

__all__ = ["SummaryWriter"]


class SummaryWriter(FileWriter):
    """A FileWriter; its construction warns once, with TF 0.12's deprecation text."""

    def __init__(self, logdir: str, graph: Any = None, max_queue: int = 10, flush_secs: float = 120,
                 graph_def: Any = None):
        warn_deprecated("SummaryWriter.__init__", __name__, "2016-11-30",
                        "Please switch to tf.summary.FileWriter. The interface and behavior is the same; this is "
                        "just a rename.")
        super().__init__(logdir, graph=graph, max_queue=max_queue, flush_secs=flush_secs, graph_def=graph_def)
