"""What the tests of fast_cpu's numba loops share: `require_fast_extra()` at the top of a module skips
it unless numba and oneDNN (the fast extra) load, and importing `loops_loaded` into it loads the loops
before each of its tests."""
from __future__ import annotations

import pytest

from tests.session_fixtures import session_on


def require_fast_extra() -> None:
    """Skips the calling test module unless numba and oneDNN's library load."""
    pytest.importorskip("numba")
    from caudal.backends.fast_cpu import onednn_lib

    try:
        onednn_lib.load()
    except (OSError, ImportError):
        pytest.skip("oneDNN (the fast extra) is missing", allow_module_level=True)


@pytest.fixture(autouse=True)
def loops_loaded() -> None:
    """The fast_cpu kernels installed (by a first fast_cpu Session) and the numba loops loaded."""
    from caudal.backends.fast_cpu import loops

    with session_on("fast_cpu"):
        pass
    loops._kernels()
