"""Each test starts from a fresh default graph and no default session."""
import pytest

import caudal as tf


@pytest.fixture(autouse=True)
def fresh_default_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()
