"""The seed programs run unchanged (as copied into tests/programs) and print what the tutorial says."""
import pathlib
import re
import subprocess
import sys

import pytest

PROGRAMS = pathlib.Path(__file__).parent / "programs"


def _run(name: str) -> list[str]:
    result = subprocess.run([sys.executable, str(PROGRAMS / name)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


def test_programs_are_unchanged_copies_of_the_examples():
    package = pathlib.Path(__file__).parent.parent / "caudal" / "examples"
    for name in ("basics.py", "bisection.py", "circle.py", "perceptron.py"):
        assert (PROGRAMS / name).read_text() == (package / name).read_text()


def test_basics():
    assert _run("basics.py") == ["[5.5 8. ]", "1", "3", "1", "mixed dtypes rejected: TypeError"]


def test_bisection():
    lines = _run("bisection.py")
    assert lines[:2] == ["0.0", "-10.0"]
    assert abs(float(lines[2]) - 0.125163) < 1e-5


def test_perceptron():
    assert _run("perceptron.py") == ["epochs: 9 weights: [ 0.8 -0.2 -0.1]"]


def test_circle_learns():
    lines = _run("circle.py")
    losses = [float(m.group(1)) for m in (re.search(r"runs: ([\d.]+)", line) for line in lines) if m]
    assert 60 < losses[0] < 80
    assert losses[-1] < 45
    accuracy = float(lines[-1].split(":")[1])
    assert accuracy >= 0.8


@pytest.mark.parametrize("module", ["basics", "bisection", "perceptron"])
def test_examples_run_as_modules(module):
    result = subprocess.run([sys.executable, "-m", f"caudal.examples.{module}"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
