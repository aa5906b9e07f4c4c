"""Wall time of `python -c "import caudal"` as a fresh process, next to `python -c pass` and
`python -c "import numpy"`, median of several runs. Target (issue 2): under 0.3 s.

caudal's bytecode is written first (see _bytecode.py), as a regular install does.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time

import _bytecode

RUNS = 7


def walls(codes: list[str]) -> list[float]:
    """Median wall time of each snippet, run in turn so that load changes affect all alike."""
    times: list[list[float]] = [[] for _ in codes]
    for _ in range(RUNS):
        for i, code in enumerate(codes):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times[i].append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def main() -> None:
    _bytecode.compile_caudal()
    bare, numpy_time, caudal_time = walls(["pass", "import numpy", "import caudal"])
    print(f"python -c pass:            {bare:.3f} s")
    print(f"python -c 'import numpy':  {numpy_time:.3f} s")
    print(f"python -c 'import caudal': {caudal_time:.3f} s  (target < 0.3 s; caudal's own part "
          f"{caudal_time - numpy_time:.3f} s)")


if __name__ == "__main__":
    main()
