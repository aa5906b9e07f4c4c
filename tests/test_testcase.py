"""tf.test.TestCase: TF's session helpers and assertions, passing and failing as TF's do."""
from __future__ import annotations

import os
import unittest

import numpy as np
import pytest

import caudal as tf


class _Probe(tf.test.TestCase):
    __test__ = False  # driven by the tests below, not collected itself

    def runTest(self) -> None:  # noqa: N802 - unittest's name
        pass


@pytest.fixture
def case():
    probe = _Probe()
    probe.setUp()
    yield probe
    probe.tearDown()


def test_sessions(case):
    x = tf.constant(2.0)
    with case.cached_session() as first, case.cached_session() as second:
        assert first is second and tf.get_default_session() is first
    with case.session() as sess:
        assert sess is not first and sess.run(x) == 2.0
    assert case.evaluate(x * 3.0) == 6.0
    assert case.test_session() is not None


def test_test_session_is_skipped_when_collected_as_a_test():
    class Collected(tf.test.TestCase):
        pass

    result = unittest.TestResult()
    Collected("test_session").run(result)
    assert len(result.skipped) == 1 and result.skipped[0][1] == "test_session is TF's session helper, not a test"


def test_temp_dirs(case):
    directory = case.get_temp_dir()
    assert directory == case.get_temp_dir() and os.path.isdir(directory)
    assert os.path.dirname(directory) == tf.test.get_temp_dir()


def test_all_close_recurses_and_evaluates_tensors(case):
    case.assertAllClose(tf.constant([1.0, 2.0]), [1.0, 2.0 + 1e-7])
    case.assertAllClose({"a": [1.0, 2.0], "b": (1, [2.0, 3.0])}, {"a": np.array([1.0, 2.0]), "b": (1, [2.0, 3.0])})
    case.assertNotAllClose([1.0], [1.1])
    with pytest.raises(AssertionError, match="Shape mismatch: expected \\(2,\\), got \\(3,\\)"):
        case.assertAllClose([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(AssertionError, match="Not equal to tolerance"):
        case.assertAllClose([1.0, 2.0], [1.0, 2.1])
    with pytest.raises(AssertionError, match="mismatched keys"):
        case.assertAllClose({"a": 1.0}, {"b": 1.0})
    with pytest.raises(AssertionError, match="The two values are close at all elements"):
        case.assertNotAllClose([1.0], [1.0])


def test_all_close_according_to_type(case):
    case.assertAllCloseAccordingToType(np.float16([1.0]), np.float16([1.0009]))
    case.assertAllCloseAccordingToType(np.float32([1.0]), np.float32([1.0 + 5e-7]))
    with pytest.raises(AssertionError):
        case.assertAllCloseAccordingToType(np.float64([1.0]), np.float64([1.0 + 1e-5]))


def test_all_equal(case):
    case.assertAllEqual([[1, 2]], np.array([[1, 2]]))
    case.assertAllEqual([np.nan], [np.nan])
    with pytest.raises(AssertionError, match="Shape mismatch: expected \\(1, 2\\), got \\(2,\\)"):
        case.assertAllEqual([[1, 2]], [1, 2])
    with pytest.raises(AssertionError, match="Arrays are not equal"):
        case.assertAllEqual([1, 2], [1, 3])


def test_near(case):
    case.assertNear(1.0, 1.001, 0.01)
    case.assertArrayNear([1.0, 2.0], [1.001, 2.0], 0.01)
    with pytest.raises(AssertionError, match="1.000000 != 1.100000 \\+/- 0.010000 \\(difference: 0.1\\) \\(why\\)"):
        case.assertNear(1.0, 1.1, 0.01, msg="why")
    with pytest.raises(AssertionError):
        case.assertArrayNear([1.0], [1.0, 2.0], 0.1)


def test_shape_and_dtype(case):
    case.assertShapeEqual(np.zeros([2, 3]), tf.placeholder(tf.float32, [2, 3]))
    with pytest.raises(AssertionError):
        case.assertShapeEqual(np.zeros([2]), np.zeros([3]))
    with pytest.raises(TypeError, match="input_a must be a Numpy ndarray, Numpy scalar, or a Tensor"):
        case.assertShapeEqual([1, 2], np.zeros([2]))
    case.assertDTypeEqual(np.zeros([2], np.float32), tf.float32)
    case.assertDTypeEqual(np.zeros([2], np.int64), np.int64)
    with pytest.raises(AssertionError):
        case.assertDTypeEqual(np.zeros([2], np.float64), tf.float32)


def test_raises_op_error_and_predicate_match(case):
    with case.assertRaisesOpError("must feed a value for placeholder tensor 'p'"):
        case.evaluate(tf.placeholder(tf.float32, name="p"))
    with case.assertRaisesOpError(lambda e: e.op.type == "Placeholder"):
        case.evaluate(tf.placeholder(tf.float32))
    with case.assertRaisesWithPredicateMatch(ValueError, "bad value"):
        raise ValueError("a bad value")
    with pytest.raises(AssertionError, match="ValueError not raised"):
        with case.assertRaisesWithPredicateMatch(ValueError, "x"):
            pass
    with pytest.raises(AssertionError, match="Exception of type <class 'KeyError'>"):
        with case.assertRaisesWithPredicateMatch(ValueError, "x"):
            raise KeyError("x")
    with pytest.raises(AssertionError, match="Exception of type <class 'ValueError'>: other"):
        with case.assertRaisesWithPredicateMatch(ValueError, "x"):
            raise ValueError("other")


def test_checked_threads(case):
    done = []
    thread = case.checkedThread(done.append, args=(1,))
    thread.start()
    thread.join()
    assert done == [1] and not thread.is_alive()
    failing = case.checkedThread(lambda: 1 / 0)
    failing.start()
    with pytest.raises(AssertionError, match="Error in checkedThread: division by zero"):
        failing.join()
    forgotten = case.checkedThread(lambda: None)
    forgotten.start()
    with pytest.raises(AssertionError, match="A checked thread was not joined."):
        case.tearDown()
    forgotten.join()
    case._threads.clear()


def test_module_helpers(tmp_path):
    assert not tf.test.is_gpu_available() and not tf.test.is_built_with_cuda()
    assert not tf.test.is_built_with_gpu_support() and not tf.test.is_built_with_rocm()
    assert not tf.test.is_built_with_xla() and tf.test.gpu_device_name() == ""
    assert tf.test.mock.patch is __import__("unittest.mock").mock.patch
    a = tf.Graph()
    with a.as_default():
        tf.constant(1.0, name="c")
    b = tf.Graph()
    with b.as_default():
        tf.constant(1.0, name="c")
    tf.test.assert_equal_graph_def(a.as_graph_def(), b.as_graph_def())
    with b.as_default():
        tf.constant(2.0, name="d")
    with pytest.raises(AssertionError, match="Found nodes only in expected: \\[\\]; only in actual: \\['d'\\]"):
        tf.test.assert_equal_graph_def(a.as_graph_def(), b.as_graph_def())
    with pytest.raises(TypeError, match="Expected tf.GraphDef for expected, got str"):
        tf.test.assert_equal_graph_def("x", b.as_graph_def())
