"""`tf.test.TestCase`: unittest with a fresh graph per test and TF's session and assertion helpers.

As in TF: `session()` makes a new Session (the default one inside the block),
`cached_session()` / `test_session()` reuse one Session per test, `evaluate`
runs tensors in the default (or the cached) session; `get_temp_dir()` is one
directory per test under the process-wide `tf.test.get_temp_dir()`. The
assertions take arrays, nested lists/tuples/dicts of them, or Tensors (which
are evaluated), with TF's default tolerances (1e-6; 1e-3 for float16, 1e-2 for
bfloat16 in `assertAllCloseAccordingToType`).
"""
from __future__ import annotations

import atexit
import contextlib
import math
import re
import shutil
import tempfile
import threading
import unittest
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

_process_temp_dir: str | None = None
_temp_dir_lock = threading.Lock()


def get_temp_dir() -> str:
    """A temporary directory for this process's tests, removed when the process ends."""
    global _process_temp_dir
    with _temp_dir_lock:
        if _process_temp_dir is None:
            _process_temp_dir = tempfile.mkdtemp(prefix="caudal_test_")
            atexit.register(shutil.rmtree, _process_temp_dir, True)
    return _process_temp_dir


def _as_numeric_array(value: Any) -> np.ndarray | None:
    """`value` as an array of numbers, or None for a ragged or mixed structure (compared part by part)."""
    try:
        array = np.asarray(value)
    except ValueError:
        return None
    return None if array.dtype == object else array


class _CheckedThread:
    """A thread whose exception fails the test when it is joined (`TestCase.checkedThread`)."""

    def __init__(self, testcase: unittest.TestCase, target: Callable[..., Any], args: tuple | None,
                 kwargs: dict | None):
        self._testcase = testcase
        self._target = target
        self._args = () if args is None else args
        self._kwargs = {} if kwargs is None else kwargs
        self._thread = threading.Thread(target=self._protected_run)
        self._exception: BaseException | None = None
        self._joined = False

    def _protected_run(self) -> None:
        try:
            self._target(*self._args, **self._kwargs)
        except Exception as e:
            self._exception = e

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        self._joined = True
        self._thread.join()
        if self._exception is not None:
            self._testcase.fail(f"Error in checkedThread: {self._exception}")

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def check_termination(self) -> None:
        if not self._joined:
            self._testcase.fail("A checked thread was not joined.")
        if self.is_alive():
            raise RuntimeError("Thread was not joined with main thread, and is still running when the test finished.")


class TestCase(unittest.TestCase):
    """Each test method runs with a new default graph, as in TF."""

    def setUp(self) -> None:
        from caudal.framework.graph import Graph

        super().setUp()
        self._graph = Graph()
        self._graph_context = self._graph.as_default()
        self._graph_context.__enter__()
        self._cached_session: Any = None
        self._tempdir: str | None = None
        self._threads: list[_CheckedThread] = []

    def tearDown(self) -> None:
        for thread in self._threads:
            thread.check_termination()
        if self._cached_session is not None:
            self._cached_session.close()
        self._graph_context.__exit__(None, None, None)
        super().tearDown()

    def get_temp_dir(self) -> str:
        """This test's own directory (the same one on every call) under `tf.test.get_temp_dir()`."""
        if self._tempdir is None:
            self._tempdir = tempfile.mkdtemp(dir=get_temp_dir())
        return self._tempdir

    # ------------------------------------------------------------ sessions
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

    def test_session(self, graph: Any = None, config: Any = None, use_gpu: bool = False,
                     force_gpu: bool = False) -> Any:
        """TF1's name of `cached_session`. Test runners collect it as a test: that run is skipped, as in TF."""
        if self.id().endswith(".test_session"):
            self.skipTest("test_session is TF's session helper, not a test")
        return self.cached_session(graph, config, use_gpu, force_gpu)

    def evaluate(self, tensors: Any) -> Any:
        from caudal.runtime.session import get_default_session

        session = get_default_session()
        if session is None:
            with self.cached_session() as sess:
                return sess.run(tensors)
        return session.run(tensors)

    def checkedThread(self, target: Callable[..., Any], args: tuple | None = None,  # noqa: N802 - TF's name
                      kwargs: dict | None = None) -> _CheckedThread:
        """A thread wrapper (start, join, is_alive) whose target's exception fails the test at `join`."""
        thread = _CheckedThread(self, target, args, kwargs)
        self._threads.append(thread)
        return thread

    # ---------------------------------------------------------- assertions
    def _ndarray(self, value: Any) -> np.ndarray:
        from caudal.framework.tensor import Tensor

        if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
            value = self.evaluate(value)
        return np.asarray(value)

    def _assert_all_close(self, a: Any, b: Any, rtol: float, atol: float, path: list[str], msg: Any) -> None:
        if isinstance(a, dict) or isinstance(b, dict):
            self.assertIsInstance(a, dict, f"{'/'.join(path)}: expected a dict, got {type(a).__name__}")
            self.assertIsInstance(b, dict, f"{'/'.join(path)}: expected a dict, got {type(b).__name__}")
            self.assertEqual(set(a), set(b), f"mismatched keys at {'/'.join(path) or 'top level'}")
            for key in a:
                self._assert_all_close(a[key], b[key], rtol, atol, path + [str(key)], msg)
            return
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            arrays = [_as_numeric_array(x) for x in (a, b)]
            if arrays[0] is not None and arrays[1] is not None:
                self._assert_arrays_close(arrays[0], arrays[1], rtol, atol, path, msg)
                return
            self.assertEqual(len(a), len(b), f"Length of {'/'.join(path) or 'a'} is {len(a)}, {len(b)} in b")
            for i, (x, y) in enumerate(zip(a, b)):
                self._assert_all_close(x, y, rtol, atol, path + [f"[{i}]"], msg)
            return
        self._assert_arrays_close(self._ndarray(a), self._ndarray(b), rtol, atol, path, msg)

    def _assert_arrays_close(self, a: np.ndarray, b: np.ndarray, rtol: float, atol: float, path: list[str],
                             msg: Any) -> None:
        self.assertEqual(a.shape, b.shape, f"Shape mismatch: expected {a.shape}, got {b.shape}.")
        a32 = a.astype(np.float32) if a.dtype.name == "bfloat16" else a
        b32 = b.astype(np.float32) if b.dtype.name == "bfloat16" else b
        if not np.allclose(a32, b32, rtol=rtol, atol=atol, equal_nan=True):
            where = f" at {'/'.join(path)}" if path else ""
            np.testing.assert_allclose(a32, b32, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=f"{msg or ''}{where}")

    def assertAllClose(self, a: Any, b: Any, rtol: float = 1e-6, atol: float = 1e-6,  # noqa: N802
                       msg: Any = None) -> None:
        """Elementwise |a - b| <= atol + rtol * |b|, through nested dicts, lists and tuples."""
        self._assert_all_close(a, b, rtol, atol, [], msg)

    def assertNotAllClose(self, a: Any, b: Any, rtol: float = 1e-6, atol: float = 1e-6,  # noqa: N802
                          msg: Any = None) -> None:
        try:
            self.assertAllClose(a, b, rtol=rtol, atol=atol)
        except AssertionError:
            return
        self.fail(msg or "The two values are close at all elements")

    def assertAllCloseAccordingToType(self, a: Any, b: Any, rtol: float = 1e-6,  # noqa: N802
                                      atol: float = 1e-6, float_rtol: float = 1e-6, float_atol: float = 1e-6,
                                      half_rtol: float = 1e-3, half_atol: float = 1e-3, bfloat16_rtol: float = 1e-2,
                                      bfloat16_atol: float = 1e-2, msg: Any = None) -> None:
        """assertAllClose with the tolerance widened for the lowest precision among a's and b's dtypes."""
        a = self._ndarray(a)
        b = self._ndarray(b)
        names = {a.dtype.name, b.dtype.name}
        if names & {"float32", "complex64"}:
            rtol, atol = max(rtol, float_rtol), max(atol, float_atol)
        if "float16" in names:
            rtol, atol = max(rtol, half_rtol), max(atol, half_atol)
        if "bfloat16" in names:
            rtol, atol = max(rtol, bfloat16_rtol), max(atol, bfloat16_atol)
        self.assertAllClose(a, b, rtol=rtol, atol=atol, msg=msg)

    def assertAllEqual(self, a: Any, b: Any, msg: Any = None) -> None:  # noqa: N802
        """Same shape and equal elements (NaN equals NaN for floats)."""
        a = self._ndarray(a)
        b = self._ndarray(b)
        self.assertEqual(a.shape, b.shape, f"Shape mismatch: expected {a.shape}, got {b.shape}. {msg or ''}")
        same = a == b
        if a.dtype.kind == "f":
            same = np.logical_or(same, np.logical_and(np.isnan(a), np.isnan(b)))
        if not np.all(same):
            np.testing.assert_array_equal(a, b, err_msg=msg or "")

    def assertNear(self, f1: float, f2: float, err: float, msg: Any = None) -> None:  # noqa: N802
        """|f1 - f2| <= err."""
        f1 = np.squeeze(f1)
        f2 = np.squeeze(f2)
        if f1 != f2:
            diff = math.fabs(f1 - f2)
            suffix = f" ({msg})" if msg is not None else ""
            self.assertTrue(diff <= err, f"{f1:f} != {f2:f} +/- {err:f} (difference: {diff:g}){suffix}")

    def assertArrayNear(self, farray1: Any, farray2: Any, err: float, msg: Any = None) -> None:  # noqa: N802
        """Equal lengths and |f1 - f2| <= err for every pair."""
        self.assertEqual(len(farray1), len(farray2), msg=msg)
        for f1, f2 in zip(farray1, farray2):
            self.assertNear(float(f1), float(f2), err, msg=msg)

    def assertShapeEqual(self, input_a: Any, input_b: Any, msg: Any = None) -> None:  # noqa: N802
        """The shapes of two arrays or Tensors (the static shape of a Tensor) are equal."""
        from caudal.framework.tensor import Tensor

        for name, value in (("input_a", input_a), ("input_b", input_b)):
            if not isinstance(value, (np.ndarray, np.generic, Tensor)):
                raise TypeError(f"{name} must be a Numpy ndarray, Numpy scalar, or a Tensor.Instead received "
                                f"{type(value)}")
        shape_a = input_a.get_shape().as_list() if isinstance(input_a, Tensor) else list(input_a.shape)
        shape_b = input_b.get_shape().as_list() if isinstance(input_b, Tensor) else list(input_b.shape)
        self.assertAllEqual(shape_a, shape_b, msg=msg)

    def assertDTypeEqual(self, target: Any, expected_dtype: Any) -> None:  # noqa: N802
        """The array's dtype is `expected_dtype` (a NumPy dtype or a tf.DType)."""
        from caudal.framework.dtypes import DType, as_dtype

        expected = as_dtype(expected_dtype).as_numpy_dtype if isinstance(expected_dtype, DType) else expected_dtype
        self.assertEqual(self._ndarray(target).dtype, np.dtype(expected))

    @contextlib.contextmanager
    def assertRaisesWithPredicateMatch(self, exception_type: type,  # noqa: N802
                                       expected_err_re_or_predicate: Any) -> Iterator[None]:
        """The block raises `exception_type` whose message matches the regular expression (searched,
        with "Caused by: <op name>" appended for an OpError), or which the predicate accepts."""
        from caudal.errors import OpError

        if callable(expected_err_re_or_predicate):
            predicate = expected_err_re_or_predicate
        else:
            def predicate(e: BaseException) -> Any:
                text = e.message if isinstance(e, OpError) else str(e)
                op = e.op if isinstance(e, OpError) else None
                if op is not None:
                    text += "\nCaused by: " + op.name
                return re.search(expected_err_re_or_predicate, text)
        try:
            yield
        except Exception as e:
            if not isinstance(e, exception_type) or not predicate(e):
                raise AssertionError(f"Exception of type {type(e)}: {e}") from e
            return
        self.fail(exception_type.__name__ + " not raised")

    def assertRaisesOpError(self, expected_err_re_or_predicate: Any) -> Any:  # noqa: N802
        """assertRaisesWithPredicateMatch(tf.errors.OpError, ...)."""
        from caudal.errors import OpError

        return self.assertRaisesWithPredicateMatch(OpError, expected_err_re_or_predicate)


def main(argv: Any = None) -> None:
    unittest.main(argv=argv)
