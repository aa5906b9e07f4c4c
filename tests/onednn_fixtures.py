"""Skips a test module where oneDNN (the fast extra's library) is not installed or does not load."""
from __future__ import annotations

from typing import Any

import pytest


def require_onednn() -> Any:
    """caudal's oneDNN binding with the library loaded; skips the calling test module otherwise."""
    onednn_lib = pytest.importorskip("caudal.backends.fast_cpu.onednn_lib")
    try:
        onednn_lib.load()
    except (OSError, ImportError) as error:
        pytest.skip(f"oneDNN is not available: {error}", allow_module_level=True)
    return onednn_lib
