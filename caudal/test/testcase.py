"""`tf.test.TestCase`: unittest with a fresh graph per test and TF's assertion helpers."""
from __future__ import annotations

import contextlib
import unittest
from collections.abc import Iterator
from typing import Any

import numpy as np


class TestCase(unittest.TestCase):
    """Each test method runs with a new default graph, as in TF."""

    def setUp(self) -> None:
        from caudal.framework.graph import Graph

        super().setUp()
        self._graph = Graph()
        self._graph_context = self._graph.as_default()
        self._graph_context.__enter__()
        self._cached_session: Any = None

    def tearDown(self) -> None:
        if self._cached_session is not None:
            self._cached_session.close()
        self._graph_context.__exit__(None, None, None)
        super().tearDown()

    def get_temp_dir(self) -> str:
        import tempfile

        return tempfile.mkdtemp()

    @contextlib.contextmanager
    def session(self, graph: Any = None, config: Any = None, use_gpu: bool = False,
                force_gpu: bool = False) -> Iterator[Any]:
        from caudal.runtime.session import Session

        with Session(graph=graph or self._graph, config=config) as sess:
            yield sess

    @contextlib.contextmanager
    def cached_session(self, graph: Any = None, config: Any = None, use_gpu: bool = False,
                       force_gpu: bool = False) -> Iterator[Any]:
        from caudal.runtime.session import Session

        if self._cached_session is None:
            self._cached_session = Session(graph=graph or self._graph, config=config)
        with self._cached_session.as_default(), self._cached_session.graph.as_default():
            yield self._cached_session

    test_session = cached_session

    def evaluate(self, tensors: Any) -> Any:
        from caudal.runtime.session import get_default_session

        session = get_default_session()
        if session is None:
            with self.cached_session() as sess:
                return sess.run(tensors)
        return session.run(tensors)

    def assertAllClose(self, a: Any, b: Any, rtol: float = 1e-6, atol: float = 1e-6, msg: Any = None) -> None:
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, err_msg=msg or "")

    def assertAllEqual(self, a: Any, b: Any, msg: Any = None) -> None:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=msg or "")

    def assertShapeEqual(self, np_array: Any, tf_tensor: Any, msg: Any = None) -> None:
        self.assertEqual(list(np.shape(np_array)), tf_tensor.get_shape().as_list(), msg)


def main(argv: Any = None) -> None:
    unittest.main(argv=argv)
