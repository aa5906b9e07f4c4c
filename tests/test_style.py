"""House rules that can be checked mechanically: lint clean, no source file past ~800 lines,
seed programs kept byte-for-byte."""
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).parent.parent
MAX_LINES = 850


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed by the test extra")
def test_ruff_is_clean():
    result = subprocess.run(["ruff", "check", "caudal", "tests", "benchmarks"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_source_file_is_too_long():
    long_files = []
    for path in (ROOT / "caudal").rglob("*.py"):
        if path.name.endswith("_pb2.py"):
            continue
        count = len(path.read_text().splitlines())
        if count > MAX_LINES:
            long_files.append(f"{path.relative_to(ROOT)}: {count} lines")
    assert not long_files
