"""`tf.keras.utils.Sequence`: a dataset indexed by batch, for `fit_generator` and `fit`."""
from __future__ import annotations

from typing import Any

__all__ = ["Sequence"]


class Sequence:
    """Subclasses define `__getitem__(index)` (one batch) and `__len__()` (batches per epoch)."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch."""

    def __iter__(self) -> Any:
        for index in range(len(self)):
            yield self[index]
