"""tf.py_func / tf.numpy_function: TF 2.21's graph (PyFunc / PyFuncStateless with a token attr),
argument and result conversions, its checks and error types and messages, no gradient, no
constant folding, and runs from several threads."""
from __future__ import annotations

import gc
import re
import threading

import numpy as np
import pytest

import caudal as tf
from caudal.framework.constant_value import constant_value
from caudal.ops import script_ops


def _run(fetches, feed=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed)


def test_graph_as_tf_builds_it() -> None:
    with tf.Graph().as_default():
        x = tf.constant(1.5)
        single = tf.py_func(lambda v: v * 2, [x, 3], tf.float32)
        assert single.op.type == "PyFunc" and single.op.name == "PyFunc" and single.shape.ndims is None
        token = single.op.get_attr("token")
        assert token.startswith("pyfunc_") and script_ops._REGISTRY.get(token) is not None
        assert single.op.get_attr("Tin") == [tf.float32, tf.int32]
        assert single.op.get_attr("Tout") == [tf.float32]
        assert single.op.inputs[1].op.name == "PyFunc/input_1"
        listed = tf.py_func(lambda v: [v], [x], [tf.float32])
        assert isinstance(listed, list) and len(listed) == 1 and listed[0].op.name == "PyFunc_1"
        stateless = tf.py_func(lambda v: v, [x], (tf.float32, tf.int64), stateful=False, name="mine")
        assert [t.op.type for t in stateless] == ["PyFuncStateless"] * 2 and stateless[0].op.name == "mine"
        nothing = tf.py_func(lambda v: None, [x], [])
        assert isinstance(nothing, tf.Operation) and nothing.outputs == ()
        assert int(token[len("pyfunc_"):]) < int(nothing.get_attr("token")[len("pyfunc_"):])
        with pytest.raises(ValueError, match="Expected func to be callable. Received func=3 of type <class 'int'>."):
            tf.py_func(3, [x], tf.float32)


def test_values_and_conversions() -> None:
    seen = {}

    def record(name):
        def function(*args):
            seen[name] = args
            return args[0]
        return function

    with tf.Graph().as_default():
        strings = tf.py_func(record("strings"), [tf.constant([b"a", b"bc"])], tf.string)
        scalar_string = tf.py_func(record("scalar_string"), [tf.constant("abc")], tf.string)
        scalar = tf.py_func(record("scalar"), [tf.constant(1.5)], tf.float32)
        array = tf.py_func(record("array"), [tf.constant([[1, 2]], dtype=tf.int64)], tf.int64)
        text = tf.py_func(lambda: "héllo", [], tf.string)
        unicode_array = tf.py_func(lambda: np.array(["a", "bb"]), [], tf.string)
        pair = tf.py_func(lambda: [b"hi", b"yo"], [], [tf.string, tf.string])
        flag = tf.py_func(lambda: True, [], tf.bool)
        python_int = tf.py_func(lambda: 3, [], tf.int64)
        python_float = tf.py_func(lambda: 2.5, [], tf.float64)
        several = tf.py_func(lambda: (np.float32(1), np.int32(2)), [], (tf.float32, tf.int32))
        values = _run([strings, scalar_string, scalar, array, text, unicode_array, pair, flag, python_int,
                       python_float, several])
    assert seen["strings"][0].dtype == object and list(seen["strings"][0]) == [b"a", b"bc"]
    assert seen["scalar_string"][0] == b"abc" and isinstance(seen["scalar_string"][0], bytes)
    assert isinstance(seen["scalar"][0], np.float32) and seen["scalar"][0] == 1.5
    assert seen["array"][0].dtype == np.int64 and seen["array"][0].flags.writeable
    assert list(values[0]) == [b"a", b"bc"] and values[1] == b"abc" and values[2] == np.float32(1.5)
    assert values[4] == "héllo".encode() and list(values[5]) == [b"a", b"bb"] and values[6] == [b"hi", b"yo"]
    assert values[7] is np.True_ or values[7] == True  # noqa: E712 - a NumPy bool
    assert values[8] == 3 and values[8].dtype == np.int64 and values[9].dtype == np.float64
    assert values[10][0].dtype == np.float32 and values[10][1].dtype == np.int32


def test_arguments_are_copies_the_function_may_change() -> None:
    feed = np.zeros(3, np.float32)

    def change(x):
        x += 1
        return x

    with tf.Graph().as_default():
        constant = tf.constant(np.arange(3, dtype=np.float32))
        placeholder = tf.placeholder(tf.float32, [3])
        from_constant = tf.py_func(change, [constant], tf.float32)
        from_feed = tf.py_func(change, [placeholder], tf.float32)
        with tf.Session() as sess:
            changed, original = sess.run([from_constant, constant])
            np.testing.assert_array_equal(changed, [1, 2, 3])
            np.testing.assert_array_equal(original, [0, 1, 2])
            np.testing.assert_array_equal(sess.run(from_feed, {placeholder: feed}), [1, 1, 1])
    np.testing.assert_array_equal(feed, [0, 0, 0])


@pytest.mark.parametrize("function, tout, error, message", [
    (lambda x: np.float64(x), tf.float32, tf.errors.InvalidArgumentError,
     r"^0-th value returned by pyfunc_\d+ is double, but expects float$"),
    (lambda x: 3, tf.float32, tf.errors.InvalidArgumentError, r"^0-th value returned by pyfunc_\d+ is int64, "
                                                              r"but expects float$"),
    (lambda x: 3.0, tf.float32, tf.errors.InvalidArgumentError, r"is double, but expects float$"),
    (lambda x: 3, tf.int32, tf.errors.InvalidArgumentError, r"is int64, but expects int32$"),
    (lambda x: (x, np.float16(1)), [tf.float32, tf.float32], tf.errors.InvalidArgumentError,
     r"^1-th value returned by pyfunc_\d+ is half, but expects float$"),
    (lambda x: (x, x), [tf.float32], tf.errors.InvalidArgumentError,
     r"^pyfunc_\d+ returns 2 values, but expects to see 1 values.$"),
    (lambda x: x, [tf.float32, tf.float32], tf.errors.InvalidArgumentError,
     r"^pyfunc_\d+ returns 1 values, but expects to see 2 values.$"),
    (lambda x: [1.0, 2.0], tf.float32, tf.errors.InvalidArgumentError,
     r"^pyfunc_\d+ returns 2 values, but expects to see 1 values.$"),
    (lambda x: None, tf.float32, tf.errors.InvalidArgumentError,
     r"^pyfunc_\d+ returns 0 values, but expects to see 1 values.$"),
    (lambda x: object(), tf.float32, tf.errors.InternalError, r"^Unsupported object type object$"),
])
def test_results_of_the_wrong_dtype_or_count(function, tout, error, message: str) -> None:
    with tf.Graph().as_default():
        result = tf.py_func(function, [np.float32(1.5)], tout)
        with pytest.raises(error) as info:
            _run(result)
    assert re.search(message, info.value.message.split("\n\t [[")[0]), info.value.message


def _raiser(exception: BaseException):
    def function(x):
        raise exception
    return function


@pytest.mark.parametrize("exception, error", [
    (ValueError("bad value"), tf.errors.InvalidArgumentError),
    (TypeError("bad type"), tf.errors.InvalidArgumentError),
    (StopIteration("done"), tf.errors.OutOfRangeError),
    (MemoryError("full"), tf.errors.ResourceExhaustedError),
    (NotImplementedError("later"), tf.errors.UnimplementedError),
    (KeyError("k"), tf.errors.UnknownError),
    (RuntimeError("rt"), tf.errors.UnknownError),
    (tf.errors.OutOfRangeError(None, None, "not ours"), tf.errors.UnknownError),
])
def test_exceptions_map_to_tf_errors(exception: BaseException, error) -> None:
    with tf.Graph().as_default():
        result = tf.py_func(_raiser(exception), [1.0], tf.float32)
        with pytest.raises(error) as info:
            _run(result)
    first_line = f"{type(exception).__name__}: {exception}"
    assert info.value.message.startswith(first_line + "\nTraceback (most recent call last):\n")
    assert "in function\n" in info.value.message and f"\n{first_line}" in info.value.message


def test_a_failed_run_leaves_the_session_usable() -> None:
    calls = []

    def sometimes(x):
        calls.append(x)
        if len(calls) == 1:
            raise StopIteration
        return x + 1

    with tf.Graph().as_default():
        result = tf.py_func(sometimes, [np.int64(1)], tf.int64)
        with tf.Session() as sess:
            with pytest.raises(tf.errors.OutOfRangeError):
                sess.run(result)
            assert sess.run(result) == 2


def test_no_gradient_and_never_folded() -> None:
    calls = []

    def count(x):
        calls.append(x)
        return x * 2

    with tf.Graph().as_default():
        x = tf.constant(3.0)
        for stateful in (True, False):
            y = tf.py_func(count, [x], tf.float32, stateful=stateful)
            assert tf.gradients(y * 2.0, x) == [None]
            assert constant_value(y) is None
            doubled = tf.reshape(y, [])
            with tf.Session() as sess:
                assert sess.run(doubled) == 6.0 and sess.run(doubled) == 6.0
                assert sess.run([y, y]) == [6.0, 6.0]
    assert len(calls) == 6
    assert calls and not any(c is None for c in calls)


def test_runs_from_background_threads() -> None:
    with tf.Graph().as_default():
        x = tf.placeholder(tf.int64, [])
        y = tf.py_func(lambda v: v * v, [x], tf.int64)
        with tf.Session() as sess:
            results = {}

            def work(i: int) -> None:
                results[i] = int(sess.run(y, {x: i}))

            threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert results == {i: i * i for i in range(8)}


def test_the_graph_keeps_the_function_and_a_missing_token_is_tfs_error() -> None:
    graph = tf.Graph()
    with graph.as_default():
        result = tf.py_func(lambda: np.int64(7), [], tf.int64)
    token = result.op.get_attr("token")
    gc.collect()
    assert script_ops._REGISTRY.get(token) is not None
    graph_def = graph.as_graph_def()
    del graph, result
    gc.collect()
    assert script_ops._REGISTRY.get(token) is None
    with tf.Graph().as_default():
        tf.import_graph_def(graph_def, name="")
        imported = tf.get_default_graph().get_tensor_by_name("PyFunc:0")
        assert imported.op.get_attr("token") == token and imported.dtype == tf.int64
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=f"^ValueError: Could not find callback with key={token} in the registry."):
            _run(imported)


def test_a_graph_def_keeps_the_token_and_runs_while_the_function_lives() -> None:
    with tf.Graph().as_default() as graph:
        tf.py_func(lambda a: a + 1, [tf.constant(1, tf.int64, name="one")], tf.int64, name="plus")
    with tf.Graph().as_default():
        tf.import_graph_def(graph.as_graph_def(), name="copy")
        assert _run(tf.get_default_graph().get_tensor_by_name("copy/plus:0")) == 2


def test_numpy_function_and_its_decorator() -> None:
    with tf.Graph().as_default():
        plain = tf.numpy_function(lambda a: a + 1, [np.int64(1)], tf.int64)
        stateless = tf.numpy_function(lambda a: a + 1, [np.int64(1)], tf.int64, stateful=False)
        assert plain.op.type == "PyFunc" and stateless.op.type == "PyFuncStateless"

        @tf.numpy_function(Tout=tf.float32)
        def halve(a):
            return a / np.float32(2)

        halved = halve(tf.constant(3.0))
        assert halved.op.type == "PyFunc"
        assert _run([plain, halved]) == [2, 1.5]
        with pytest.raises(TypeError, match="Missing required argument: 'Tout'"):
            tf.numpy_function(lambda a: a, [1])
        with pytest.raises(TypeError, match="Missing argument `inp`"):
            tf.numpy_function(lambda a: a, Tout=tf.int32)
        with pytest.raises(TypeError, match="Don't set the `inp` argument when using tf.numpy_function as a "
                                            "decorator"):
            tf.numpy_function(inp=[1], Tout=tf.int32)
