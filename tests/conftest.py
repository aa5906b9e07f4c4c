"""Each test starts from a fresh default graph and no default session.

Under pytest-xdist every worker is a process of its own: with OpenBLAS's default of one thread per
core, two workers on two cores oversubscribe them, and each small matrix product then waits for a
scheduler slot (a training step can take 50 times longer). Workers therefore use one BLAS thread,
unless the environment already chooses; this must happen before NumPy loads OpenBLAS.
"""
import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import pytest  # noqa: E402

import caudal as tf  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_default_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()
