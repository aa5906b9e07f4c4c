"""tf.TensorArray (TensorArrayV3 ops) and the stack ops: TF1 semantics, static shapes, TF's graph nodes and
error messages, gradients (checked numerically, in and out of while loops), and per-run state."""
from __future__ import annotations

import re

import numpy as np
import pytest

import caudal as tf
from caudal.ops import stack_ops
from caudal.ops.tensor_array_ops import TensorArrayValue


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(fetches, feed_dict)


def _fails(fetches, error, message, feed_dict=None):
    """Running `fetches` raises `error` whose message starts with (or, given a pattern, matches) `message`."""
    with pytest.raises(error) as info:
        _run(fetches, feed_dict)
    if isinstance(message, re.Pattern):
        assert message.search(info.value.message), info.value.message
    else:
        assert info.value.message.startswith(message), info.value.message
    return info.value


def _numeric_check(x, x_value, y, feed=None, tol=1e-6):
    """The gradient of the scalar `y` with respect to `x` against float64 central differences."""
    with tf.Session():
        theoretical, numerical = tf.test.compute_gradient(x, x_value.shape, y, [],
                                                          x_init_value=x_value, delta=1e-6, extra_feed_dict=feed)
    np.testing.assert_allclose(theoretical, numerical, rtol=tol, atol=tol)


# ------------------------------------------------------------ graph nodes
def test_tensor_array_builds_tfs_nodes_and_attrs(fresh_graph):
    ta = tf.TensorArray(tf.float32, size=3, dynamic_size=True, clear_after_read=False, element_shape=[None, 2],
                        tensor_array_name="acc")
    assert ta.handle.name == "TensorArray:0" and ta.flow.name == "TensorArray:1"
    assert ta.handle.dtype == tf.resource and ta.handle.shape.as_list() == [2]
    assert ta.flow.dtype == tf.float32 and ta.flow.shape.as_list() == []
    node = ta.handle.op.node_def
    assert {k: node.attr[k] for k in node.attr}.keys() == {"dtype", "element_shape", "dynamic_size",
                                                          "clear_after_read", "identical_element_shapes",
                                                          "tensor_array_name"}
    op = ta.handle.op
    assert op.get_attr("dtype") == tf.float32 and op.get_attr("dynamic_size") is True
    assert op.get_attr("clear_after_read") is False and op.get_attr("identical_element_shapes") is True
    assert op.get_attr("tensor_array_name") == "acc" and op.get_attr("element_shape").as_list() == [None, 2]
    assert op.inputs[0].op.name == "TensorArray/size"
    written = ta.write(0, tf.zeros([4, 2]))
    assert written.flow.op.name == "TensorArrayWrite/TensorArrayWriteV3"
    assert written.flow.op.inputs[1].op.name == "TensorArrayWrite/TensorArrayWriteV3/index"
    assert written.flow.op.get_attr("T") == tf.float32
    read = written.read(1)
    assert read.op.type == "TensorArrayReadV3" and read.op.name == "TensorArrayReadV3"
    assert read.op.get_attr("dtype") == tf.float32
    stacked = written.stack()
    assert stacked.op.name == "TensorArrayStack/TensorArrayGatherV3"
    assert stacked.op.get_attr("element_shape").as_list() == [4, 2]
    assert written.size().op.type == "TensorArraySizeV3"
    unstacked = tf.TensorArray(tf.float32, size=2).unstack(tf.zeros([2, 3]))
    assert unstacked.flow.op.name == "TensorArrayUnstack/TensorArrayScatter/TensorArrayScatterV3"
    concat = written.concat()
    assert concat.op.type == "TensorArrayConcatV3" and concat.op.get_attr("element_shape_except0").as_list() == [2]
    assert concat.op.outputs[1].dtype == tf.int64
    split = tf.TensorArray(tf.float32, size=2).split(tf.zeros([4]), [1, 3])
    assert split.flow.op.type == "TensorArraySplitV3" and split.flow.op.inputs[2].dtype == tf.int64
    assert ta.close().type == "TensorArrayCloseV3"
    grad = written.grad("gradients")
    assert grad.handle.op.name == "TensorArrayGrad/TensorArrayGradV3"
    assert grad.handle.op.get_attr("source") == "gradients" and grad.flow.op.name == "TensorArrayGrad/gradient_flow"


def test_writes_return_new_objects_sharing_the_array(fresh_graph):
    ta = tf.TensorArray(tf.float32, size=2)
    written = ta.write(0, [1.0, 2.0])
    assert written is not ta and written.handle is ta.handle and written.flow is not ta.flow
    assert ta.element_shape.as_list() == [2]  # the element shape is shared
    same = written.identity()
    assert same.handle is ta.handle and same.flow.op.type == "Identity"
    assert ta._is_caudal_tensor_array and ta._with_flow(same.flow).flow is same.flow
    assert ta.dtype == tf.float32 and not ta.dynamic_size


def test_graph_def_round_trip_runs(fresh_graph):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True).unstack(x)
    tf.identity(ta.gather([2, 0]) * 2.0, name="out")
    graph_def = fresh_graph.as_graph_def()
    with tf.Graph().as_default() as other:
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=other) as sess:
            got = sess.run("out:0", {"x:0": [[1, 2], [3, 4], [5, 6]]})
    np.testing.assert_array_equal(got, [[10, 12], [2, 4]])


# ----------------------------------------------------------- static shapes
def test_static_shapes_follow_tf():
    ta = tf.TensorArray(tf.float32, size=3)
    assert ta.element_shape.ndims is None and ta.read(0).shape.ndims is None
    assert ta.stack().shape.ndims is None and ta.gather([0]).shape.ndims is None
    written = ta.write(0, tf.zeros([2, 3]))
    assert written.read(1).shape.as_list() == [2, 3]
    assert written.stack().shape.as_list() == [3, 2, 3]
    assert written.gather([0, 1]).shape.as_list() == [None, 2, 3]
    assert written.concat().shape.as_list() == [6, 3]
    known = tf.TensorArray(tf.float32, size=2, element_shape=[3])
    assert known.read(0).shape.as_list() == [3] and known.concat().shape.as_list() == [6]
    # a declared element shape travels with the handle: a gather then has one row per index
    assert known.gather([1, 0, 1]).shape.as_list() == [3, 3]
    declared = tf.TensorArray(tf.float32, size=4, element_shape=[None, 2])
    assert declared.gather([1, 2]).shape.as_list() == [2, None, 2]
    assert tf.TensorArray(tf.float32, size=4, element_shape=[2], dynamic_size=True).stack().shape.as_list() == [None, 2]
    p = tf.placeholder(tf.float32, [None, 3])
    partial = tf.TensorArray(tf.float32, size=2).write(0, p)
    assert partial.stack().shape.as_list() == [2, None, 3] and partial.concat().shape.as_list() == [None, 3]
    assert partial.write(1, tf.zeros([5, 3])).element_shape.as_list() == [5, 3]
    dynamic = tf.TensorArray(tf.float32, size=3, dynamic_size=True).write(0, 1.0)
    assert dynamic.stack().shape.as_list() == [None]
    loose = tf.TensorArray(tf.float32, size=3, infer_shape=False).write(0, [1.0])
    assert loose.element_shape.ndims is None and loose.read(0).shape.ndims is None
    assert loose.stack().shape.ndims is None and loose.concat().shape.ndims is None
    unknown_size = tf.TensorArray(tf.float32, size=tf.placeholder(tf.int32, [])).write(0, [1.0])
    assert unknown_size.stack().shape.as_list() == [None, 1] and unknown_size.concat().shape.as_list() == [None]
    rows = tf.TensorArray(tf.float32, size=0, dynamic_size=True).unstack(tf.placeholder(tf.float32, [None, 4]))
    assert rows.element_shape.as_list() == [4] and rows.stack().shape.as_list() == [None, 4]
    pieces = tf.TensorArray(tf.float32, size=2).split(tf.zeros([4, 3]), [2, 2])
    assert pieces.element_shape.as_list() == [2, 3] and pieces.concat().shape.as_list() == [4, 3]
    uneven = tf.TensorArray(tf.float32, size=2).split(tf.zeros([4, 3]), [1, 3])
    assert uneven.element_shape.ndims is None


def test_static_shape_and_argument_errors():
    ta = tf.TensorArray(tf.float32, size=2).write(0, [1.0, 2.0])
    with pytest.raises(ValueError, match=re.escape("Inconsistent shapes: saw (3,) but expected (2,) ")):
        ta.write(1, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=re.escape("Inconsistent shapes: saw (3,) but expected (2,) ")):
        ta.scatter([0], [[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match=re.escape("Expected int32 passed to parameter 'index' of op "
                                                  "'TensorArrayWriteV3', got 0.0 of type 'float' instead. Error: "
                                                  "Expected int32, but got 0.0 of type 'float'.")):
        ta.write(0.0, [1.0, 2.0])
    with pytest.raises(TypeError, match=re.escape("Input 'index' of 'TensorArrayReadV3' Op has type float32 that "
                                                  "does not match expected type of int32.")):
        ta.read(tf.constant(0.0))
    with pytest.raises(TypeError, match=re.escape("Input 'size' of 'TensorArrayV3' Op has type float32 that does "
                                                  "not match expected type of int32.")):
        tf.TensorArray(tf.float32, size=tf.constant(2.0))
    with pytest.raises(TypeError, match="Expected int32 passed to parameter 'size' of op 'TensorArrayV3', got 2.0"):
        tf.TensorArray(tf.float32, size=2.0)
    with pytest.raises(ValueError, match="Shape must be rank 0 but is rank 1"):
        ta.write([0], [1.0, 2.0])
    with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
        ta.gather([[0]])
    with pytest.raises(ValueError, match="Dimensions must be equal, but are 3 and 2"):
        tf.TensorArray(tf.float32, size=3).scatter([0, 1], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="Shape must be rank 1 but is rank 2"):
        tf.TensorArray(tf.float32, size=2).split([1.0, 2.0, 3.0], [[1, 2]])
    with pytest.raises(ValueError, match="concat needs elements of rank 1 or more"):
        tf.TensorArray(tf.float32, size=2).write(0, 1.0).concat()


def test_constructor_errors():
    handle = tf.TensorArray(tf.float32, size=1).handle
    flow = tf.constant(0.0)
    cases = [
        (dict(handle=handle, flow=flow, tensor_array_name="a"), ValueError,
         "Cannot provide both `handle` and `tensor_array_name` arguments at the same time."),
        (dict(handle="h", flow=flow), TypeError, "Expected `handle` to be a Tensor, but got `h` of type"),
        (dict(), ValueError, "Argument `size` must be provided if handle is not provided."),
        (dict(handle=handle, flow=flow, size=2), ValueError,
         "Cannot provide both a `handle` and `size` arguments at the same time."),
        (dict(handle=handle, flow=flow, element_shape=[2]), ValueError,
         "Cannot provide both `handle` and `element_shape` arguments at the same time."),
        (dict(handle=handle, flow=flow, dynamic_size=True), ValueError,
         "Cannot provide both `handle` and `dynamic_size` arguments at the same time."),
        (dict(handle=handle, flow=flow, clear_after_read=False), ValueError,
         "Cannot provide both `handle` and `clear_after_read` arguments at the same time."),
        (dict(handle=handle), ValueError, "flow must not be None if handle is not None."),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=re.escape(message)):
            tf.TensorArray(tf.float32, **kwargs)


# ----------------------------------------------------------------- values
def test_write_read_stack_gather_and_size():
    ta = tf.TensorArray(tf.float32, size=3, clear_after_read=False)
    ta = ta.write(0, [1.0, 2.0]).write(2, [5.0, 6.0]).write(1, [3.0, 4.0])
    got = _run([ta.read(1), ta.read(1), ta.stack(), ta.gather([2, 0, 2]), ta.size(), ta.concat()])
    np.testing.assert_array_equal(got[0], [3, 4])
    np.testing.assert_array_equal(got[2], [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(got[3], [[5, 6], [1, 2], [5, 6]])
    assert got[4] == 3
    np.testing.assert_array_equal(got[5], [1, 2, 3, 4, 5, 6])


def test_python_values_take_the_arrays_dtype():
    ints = tf.TensorArray(tf.int32, size=2).write(0, 7).write(1, 8)
    floats = tf.TensorArray(tf.float64, size=1).write(0, 3)
    a, b = _run([ints.stack(), floats.read(0)])
    assert a.dtype == np.int32 and b.dtype == np.float64 and b == 3.0


def test_unwritten_elements_read_as_zeros_once_the_shape_is_known():
    ta = tf.TensorArray(tf.float32, size=3).write(0, [1.0, 2.0])
    np.testing.assert_array_equal(_run(ta.stack()), [[1, 2], [0, 0], [0, 0]])
    shaped = tf.TensorArray(tf.float32, size=2, element_shape=[2])
    np.testing.assert_array_equal(_run(shaped.read(1)), [0, 0])
    np.testing.assert_array_equal(_run(tf.TensorArray(tf.float32, size=2).write(0, [1.0]).concat()), [1, 0])


def test_dynamic_size_grows_on_write_scatter_and_split():
    ta = tf.TensorArray(tf.float32, size=2, dynamic_size=True, element_shape=[])
    grown = ta.write(4, 1.0)
    assert _run(grown.size()) == 5
    np.testing.assert_array_equal(_run(grown.stack()), [0, 0, 0, 0, 1])
    scattered = tf.TensorArray(tf.float32, size=1, dynamic_size=True).scatter([3, 1], [1.0, 2.0])
    np.testing.assert_array_equal(_run(scattered.stack()), [0, 2, 0, 1])
    pieces = tf.TensorArray(tf.float32, size=1, dynamic_size=True, infer_shape=False).split([1.0, 2.0, 3.0], [1, 2])
    assert _run(pieces.size()) == 2
    np.testing.assert_array_equal(_run(pieces.read(1)), [2, 3])
    assert _run(tf.TensorArray(tf.float32, size=3, dynamic_size=True).write(1, 1.0).size()) == 3


def test_unstack_of_a_fed_matrix_and_split_concat():
    x = tf.placeholder(tf.float32, [None, 2])
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True).unstack(x)
    value = np.arange(8, dtype=np.float32).reshape(4, 2)
    got = _run([ta.read(3), ta.size()], {x: value})
    np.testing.assert_array_equal(got[0], [6, 7])
    assert got[1] == 4
    pieces = tf.TensorArray(tf.float32, size=3, infer_shape=False).split(x, [1, 0, 3])
    np.testing.assert_array_equal(_run(pieces.concat(), {x: value}), value)
    assert _run(pieces.read(1), {x: value}).shape == (0, 2)


def test_empty_arrays_stack_and_concat_with_a_known_element_shape():
    got = _run([tf.TensorArray(tf.float32, size=0, element_shape=[2]).stack(),
                tf.TensorArray(tf.float32, size=0, element_shape=[2, 3]).concat(),
                tf.TensorArray(tf.float32, size=2).write(0, [1.0, 2.0]).gather(tf.zeros([0], tf.int32))])
    assert [g.shape for g in got] == [(0, 2), (0, 3), (0, 2)]


def test_every_run_gets_new_arrays():
    x = tf.placeholder(tf.float32, [])
    ta = tf.TensorArray(tf.float32, size=1).write(0, x)
    read = ta.read(0)
    with tf.Session() as sess:
        assert [sess.run(read, {x: v}) for v in (1.0, 2.0, 3.0)] == [1.0, 2.0, 3.0]
        handle = sess.run(ta.handle)
    assert isinstance(handle, TensorArrayValue) and handle.name.startswith("TensorArray_")


def test_a_failed_run_changes_nothing():
    v = tf.Variable(1.0)
    ta = tf.TensorArray(tf.float32, size=1)
    with tf.control_dependencies([tf.assign(v, 5.0)]):
        bad = ta.read(3)
    with tf.Session() as sess:
        sess.run(v.initializer)
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(bad)
        assert sess.run(v) == 1.0


# ------------------------------------------------------------------ errors
def test_read_errors():
    ta = tf.TensorArray(tf.float32, size=2).write(0, 1.0).write(1, 2.0)
    _fails(ta.read(5), tf.errors.InvalidArgumentError, "Tried to read from index 5 but array size is: 2")
    _fails(ta.read(-1), tf.errors.InvalidArgumentError, "Tried to read from index -1 but array size is: 2")
    first = ta.read(0)
    with tf.control_dependencies([first]):
        again = ta.read(0)
    error = _fails(again, tf.errors.InvalidArgumentError,
                   re.compile(r"^TensorArray \S+: Could not read index 0 twice because it was cleared "
                              r"after a previous read \(perhaps try setting clear_after_read = false\?\)\."))
    assert error.op.name == again.op.name
    unknown = tf.TensorArray(tf.float32, size=2, infer_shape=False)
    _fails(unknown.read(1), tf.errors.InvalidArgumentError,
           re.compile(r"^TensorArray \S+: Could not read from TensorArray index 1\.  Furthermore, the "
                      r"element shape is not fully defined: <unknown>\.  It is possible you are working with a "
                      r"resizeable TensorArray"))
    partial = tf.TensorArray(tf.float32, size=2, element_shape=[None, 2])
    _fails(partial.read(0), tf.errors.InvalidArgumentError,
           re.compile(r"element shape is not fully defined: \[\?,2\]\."))
    gathered = ta.gather([0, 0])
    _fails(gathered, tf.errors.InvalidArgumentError, re.compile("Could not read index 0 twice"))
    _fails(ta.gather([0, 3]), tf.errors.InvalidArgumentError, "Tried to read from index 3 but array size is: 2")


def test_write_errors():
    ta = tf.TensorArray(tf.float32, size=2)
    _fails(ta.write(0, 1.0).write(0, 2.0).flow, tf.errors.InvalidArgumentError,
           re.compile(r"^TensorArray \S+: Could not write to TensorArray index 0 because it has already "
                      r"been written to\."))
    named = tf.TensorArray(tf.float32, size=2, tensor_array_name="foo")
    _fails(named.write(0, 1.0).write(0, 1.0).flow, tf.errors.InvalidArgumentError,
           re.compile(r"^TensorArray foo_\d+: Could not write"))
    _fails(ta.write(0, tf.constant(1, tf.int32)).flow, tf.errors.InvalidArgumentError,
           "TensorArray dtype is float but Op is trying to write dtype int32.")
    _fails(ta.write(2, 1.0).flow, tf.errors.InvalidArgumentError,
           re.compile(r"^TensorArray \S+: Tried to write to index 2 but array is not resizeable and size "
                      r"is: 2"))
    _fails(tf.TensorArray(tf.float32, size=2, dynamic_size=True).write(-1, 1.0).flow, tf.errors.InvalidArgumentError,
           re.compile("Tried to write to index -1 but array is not resizeable and size is: 2"))
    p = tf.placeholder(tf.float32, None)
    mixed = tf.TensorArray(tf.float32, size=2).write(0, [1.0, 2.0]).write(1, p)
    _fails(mixed.stack(), tf.errors.InvalidArgumentError,
           re.compile(r"Could not write to TensorArray index 1 because the value shape is \[3\] which is incompatible "
                      r"with the TensorArray's inferred element shape: \[2\] \(consider setting infer_shape=False\)\."),
           {p: np.ones(3, np.float32)})
    declared = tf.TensorArray(tf.float32, size=2, element_shape=[3], infer_shape=False).write(0, p)
    _fails(declared.flow, tf.errors.InvalidArgumentError,
           re.compile(r"value shape is \[2\] which is incompatible with the TensorArray's inferred element shape: "
                      r"\[3\]"), {p: np.ones(2, np.float32)})
    read_first = tf.TensorArray(tf.float32, size=2, clear_after_read=False).write(0, 1.0)
    with tf.control_dependencies([read_first.read(0)]):
        late = read_first.write(0, 2.0)
    _fails(late.flow, tf.errors.InvalidArgumentError,
           re.compile("Could not write to TensorArray index 0 because it has already been read."))
    _fails(tf.TensorArray(tf.float32, size=-1).flow, tf.errors.InvalidArgumentError, "Size should be >= 0.")


def test_stack_gather_and_concat_errors():
    _fails(tf.TensorArray(tf.float32, size=0).stack(), tf.errors.UnimplementedError,
           "TensorArray has size zero, but element shape <unknown> is not fully defined. Currently only static "
           "shapes are supported when packing zero-size TensorArrays.")
    _fails(tf.TensorArray(tf.float32, size=0).concat(), tf.errors.UnimplementedError,
           "TensorArray has size zero, but element_shape_except0 <unknown> is not fully defined. Currently only "
           "static shapes are supported when concatenating zero-size TensorArrays.")
    loose = tf.TensorArray(tf.float32, size=2, infer_shape=False)
    _fails(loose.write(0, [1.0]).write(1, [1.0, 2.0]).stack(), tf.errors.InvalidArgumentError,
           "TensorArray has inconsistent shapes.  Index 0 has shape: [1] but index 1 has shape: [2]")
    _fails(loose.write(0, [[1.0, 2.0]]).write(1, [[3.0]]).concat(), tf.errors.InvalidArgumentError,
           "TensorArray has inconsistent shapes.  Index 0 has (excepting dimension 0) shape: [2] but index 1 has "
           "(excepting dimension 0) shape: [1]")
    _fails(loose.write(0, 1.0).write(1, 2.0).concat(), tf.errors.InvalidArgumentError,
           "Concat saw a scalar shape at index 0 but requires at least vectors.  Did you mean to call pack?")
    _fails(tf.TensorArray(tf.float32, size=2, infer_shape=False).gather(tf.zeros([0], tf.int32)),
           tf.errors.UnimplementedError, "TensorArray has size zero, but element shape <unknown>")


def test_scatter_and_split_errors():
    def fresh():  # every case on an array of its own: derived arrays share their element shape
        return tf.TensorArray(tf.float32, size=2)

    _fails(fresh().unstack([1.0, 2.0, 3.0]).flow, tf.errors.InvalidArgumentError,
           "Max scatter index must be < array size (2 vs. 2)")
    _fails(fresh().scatter([0, 5], [1.0, 2.0]).flow, tf.errors.InvalidArgumentError,
           "Max scatter index must be < array size (5 vs. 2)")
    _fails(fresh().scatter([-1], [1.0]).flow, tf.errors.InvalidArgumentError,
           re.compile("Tried to write to index -1 but array is not resizeable and size is: 2"))
    _fails(tf.TensorArray(tf.float32, size=3).scatter([1, 1], [1.0, 2.0]).flow, tf.errors.InvalidArgumentError,
           re.compile("Could not write to TensorArray index 1 because it has already been written to."))
    p = tf.placeholder(tf.float32, None)
    _fails(fresh().scatter([1], p).flow, tf.errors.InvalidArgumentError,
           "Input value for unpack must be at least a vector but received shape: []", {p: np.float32(1)})
    _fails(fresh().scatter([0, 1], p).flow, tf.errors.InvalidArgumentError,
           "Expected len(indices) == values.shape[0], but saw: 2 vs. 3", {p: np.ones(3, np.float32)})
    _fails(fresh().split([1.0, 2.0, 3.0], [1, 1]).flow, tf.errors.InvalidArgumentError,
           "Expected sum of lengths to be equal to values.shape[0], but sum of lengths is 2 and value's shape is: [3]")
    _fails(fresh().split([1.0, 2.0, 3.0], [1, 1, 1]).flow, tf.errors.InvalidArgumentError,
           "TensorArray's size is not equal to the size of lengths (2 vs. 3), and the TensorArray is not marked as "
           "dynamically resizeable")
    _fails(fresh().split(1.0, [1, 1]).flow, tf.errors.InvalidArgumentError,
           "Expected value to be at least a vector, but received shape: []")
    _fails(fresh().split([1.0, 2.0, 3.0], [4, -1]).flow, tf.errors.InvalidArgumentError,
           "Expected lengths to be non-negative, but lengths[1] is -1")
    _fails(fresh().write(0, [1.0]).split([1.0, 2.0, 3.0], [1, 2]).flow, tf.errors.InvalidArgumentError,
           re.compile("Could not write to TensorArray index 0 because it has already been written to."))


def test_a_closed_array_refuses_every_use():
    ta = tf.TensorArray(tf.float32, size=2, dynamic_size=True)
    closed = ta.close()
    with tf.control_dependencies([closed]):
        uses = [ta.write(0, 1.0).flow, ta.size(), ta.read(0), ta.stack()]
        close_again = ta.close()
    for use in uses:
        _fails(use, tf.errors.InvalidArgumentError, re.compile(r"^TensorArray \S+ has already been closed\."))
    _run(close_again)


def test_raw_ops_dtype_and_shape_checks():
    """Ops built against an array with another dtype or element shape (as an imported graph can)."""
    ta = tf.TensorArray(tf.float32, size=2).write(0, [1.0, 2.0])
    other = tf.TensorArray(tf.int32, handle=ta.handle, flow=ta.flow)
    _fails(other.read(0), tf.errors.InvalidArgumentError, "TensorArray dtype is float but Op requested dtype int32.")
    _fails(other.gather([0]), tf.errors.InvalidArgumentError,
           "TensorArray dtype is float but Op requested dtype int32.")
    wider = tf.TensorArray(tf.float32, handle=ta.handle, flow=ta.flow)
    wider._element_shape[0] = tf.TensorShape([3])
    _fails(wider.gather([0]), tf.errors.InvalidArgumentError,
           "PartialTensorShape: Incompatible shapes during merge: [2] vs. [3]")
    double = tf.TensorArray(tf.float64, size=1)
    _fails(double.write(0, tf.constant(1.0, tf.float32)).flow, tf.errors.InvalidArgumentError,
           "TensorArray dtype is double but Op is trying to write dtype float.")


# -------------------------------------------------------------- gradients
def test_gradients_of_read_write_stack_unstack_gather_scatter_concat_split():
    value = np.random.default_rng(0).uniform(-1, 1, (4, 3))
    x = tf.placeholder(tf.float64, [4, 3])
    weights = tf.constant(np.random.default_rng(1).uniform(0.5, 1.5, (4, 3)))
    stacked = tf.TensorArray(tf.float64, size=4).unstack(x).stack()
    _numeric_check(x, value, tf.reduce_sum(stacked * stacked * weights))
    ta = tf.TensorArray(tf.float64, size=4).unstack(x)
    _numeric_check(x, value, tf.reduce_sum(ta.read(2) * ta.read(0)))
    scattered = tf.TensorArray(tf.float64, size=5).scatter([4, 0, 2, 1], x)
    _numeric_check(x, value, tf.reduce_sum(tf.sin(scattered.gather([1, 4, 3]))))
    pieces = tf.TensorArray(tf.float64, size=2, infer_shape=False).split(x, [3, 1])
    _numeric_check(x, value, tf.reduce_sum(pieces.concat() * weights))
    _numeric_check(x, value, tf.reduce_sum(tf.exp(pieces.read(0))))
    written = tf.TensorArray(tf.float64, size=2).write(1, x * 2.0).write(0, tf.sin(x))
    _numeric_check(x, value, tf.reduce_sum(written.concat() * tf.concat([weights, weights], 0)))


def test_gradient_of_unused_and_repeatedly_read_elements():
    x = tf.constant([1.0, 2.0, 3.0])
    ta = tf.TensorArray(tf.float32, size=3).unstack(x)
    np.testing.assert_array_equal(_run(tf.gradients(ta.read(1), x)[0]), [0, 1, 0])
    kept = tf.TensorArray(tf.float32, size=2, clear_after_read=False).unstack(x[:2])
    y = kept.read(0) * kept.read(0) + kept.read(1)
    np.testing.assert_array_equal(_run(tf.gradients(y, x)[0]), [2, 1, 0])  # the two reads' gradients add up
    dynamic = tf.TensorArray(tf.float32, size=0, dynamic_size=True).unstack(x)
    np.testing.assert_array_equal(_run(tf.gradients(tf.reduce_sum(dynamic.stack() ** 2), x)[0]), [2, 4, 6])


def test_two_gradient_computations_get_their_own_gradient_arrays():
    x = tf.constant([1.0, 2.0])
    ta = tf.TensorArray(tf.float32, size=2, clear_after_read=False).unstack(x)
    y = ta.read(1) * 2.0 + ta.read(1)
    first = tf.gradients(y, x)[0]
    second = tf.gradients(y, x)[0]
    sources = {op.get_attr("source") for op in tf.get_default_graph().get_operations()
               if op.type == "TensorArrayGradV3"}
    assert sources == {"gradients", "gradients_1"}
    a, b = _run([first, second])
    np.testing.assert_array_equal(a, [0, 3])
    np.testing.assert_array_equal(b, [0, 3])


def test_gradient_with_fed_grad_ys_and_a_custom_gradients_name():
    x = tf.constant([1.0, 2.0])
    y = tf.TensorArray(tf.float32, size=2).unstack(x).read(1)
    gy = tf.placeholder(tf.float32, [])
    np.testing.assert_array_equal(_run(tf.gradients(y, x, grad_ys=gy)[0], {gy: 3.0}), [0, 3])
    y2 = tf.TensorArray(tf.float32, size=2).unstack(x).read(1)
    np.testing.assert_array_equal(_run(tf.gradients(y2, x, name="gradients_custom")[0]), [0, 1])


def test_gradient_arrays_aggregate_and_fill_in_zeros():
    ta = tf.TensorArray(tf.float32, size=2).write(0, [1.0, 2.0]).write(1, [3.0, 4.0])
    grad = ta.grad("gradients")
    summed = grad.write(0, [1.0, 1.0]).write(0, [2.0, 2.0])
    got = _run(summed.stack())
    np.testing.assert_array_equal(got, [[3, 3], [0, 0]])
    again = ta.grad("gradients")  # the same gradient array within one run
    first = grad.write(1, [5.0, 5.0])
    with tf.control_dependencies([first.flow]):
        second = again.write(1, [1.0, 1.0])
    np.testing.assert_array_equal(_run(second.read(1)), [6, 6])
    mismatch = tf.TensorArray(tf.float32, size=2, infer_shape=False).write(0, [1.0, 2.0, 3.0])
    loose = tf.TensorArray(tf.float32, handle=mismatch.grad("gradients").handle, flow=mismatch.flow, infer_shape=False)
    _fails(loose.write(0, [1.0]).flow, tf.errors.InvalidArgumentError,
           re.compile(r"^TensorArray \S+@gradients: Could not aggregate to TensorArray index 0 because the "
                      r"existing shape is \[3\] but the new input shape is \[1\]\."))
    read_once = grad.write(0, [1.0, 1.0])
    value = read_once.read(0)
    with tf.control_dependencies([value]):
        late = read_once.write(0, [1.0, 1.0])
    _fails(late.flow, tf.errors.InvalidArgumentError,
           re.compile(r"@gradients: Could not write to TensorArray index 0 because it has already been read\."))


def test_a_forward_array_stops_growing_once_it_has_a_gradient_array():
    ta = tf.TensorArray(tf.float32, size=1, dynamic_size=True).write(0, 1.0)
    grad = ta.grad("gradients")
    with tf.control_dependencies([grad.flow]):
        late = ta.write(3, 2.0)
    _fails(late.flow, tf.errors.InvalidArgumentError,
           re.compile("Tried to write to index 3 but array is not resizeable and size is: 1"))


def test_grad_with_shape_prepends_the_shape():
    from caudal.framework.graph import get_default_graph

    ta = tf.TensorArray(tf.float32, size=2).write(0, [1.0, 2.0]).write(1, [3.0, 4.0])
    graph = get_default_graph()
    op = graph.create_op("TensorArrayGradWithShape", [ta.handle, ta.flow, tf.constant([3])], {"source": "g"})
    grad = tf.TensorArray(tf.float32, handle=op.outputs[0], flow=op.outputs[1], infer_shape=False)
    written = grad.write(0, tf.ones([3, 2]))
    got = _run([written.read(0), written.read(1)])
    np.testing.assert_array_equal(got[0], np.ones((3, 2)))
    np.testing.assert_array_equal(got[1], np.zeros((3, 2)))
    _fails(grad.write(0, tf.ones([2])).flow, tf.errors.InvalidArgumentError,
           re.compile(r"incompatible with the TensorArray's inferred element shape: \[3,2\]"))


# ------------------------------------------------------------- in loops
def _rnn(x, w, u, steps, batch, hidden):
    inputs = tf.TensorArray(tf.float64, size=steps).unstack(x)
    outputs = tf.TensorArray(tf.float64, size=steps)

    def body(i, h, outputs):
        h = tf.tanh(tf.matmul(inputs.read(i), w) + tf.matmul(h, u))
        return i + 1, h, outputs.write(i, h)

    _, last, outputs = tf.while_loop(lambda i, h, o: i < steps, body,
                                     [tf.constant(0), tf.zeros([batch, hidden], tf.float64), outputs])
    return outputs.stack(), last


def _unrolled_rnn(x, w, u, steps, batch, hidden):
    h = tf.zeros([batch, hidden], tf.float64)
    states = []
    for t in range(steps):
        h = tf.tanh(tf.matmul(x[t], w) + tf.matmul(h, u))
        states.append(h)
    return tf.stack(states), h


def test_rnn_loop_over_tensor_arrays_matches_the_unrolled_computation():
    steps, batch, width, hidden = 5, 2, 3, 4
    rng = np.random.default_rng(3)
    values = [rng.normal(size=(steps, batch, width)), rng.normal(size=(width, hidden)) * 0.5,
              rng.normal(size=(hidden, hidden)) * 0.5]
    x = tf.placeholder(tf.float64, [steps, batch, width])
    w = tf.placeholder(tf.float64, [width, hidden])
    u = tf.placeholder(tf.float64, [hidden, hidden])
    feed = dict(zip((x, w, u), values))
    outputs, last = _rnn(x, w, u, steps, batch, hidden)
    assert outputs.shape.as_list() == [steps, batch, hidden]
    loss = tf.reduce_sum(outputs * outputs) + tf.reduce_sum(last)
    grads = tf.gradients(loss, [x, w, u])
    ref_outputs, ref_last = _unrolled_rnn(x, w, u, steps, batch, hidden)
    ref_loss = tf.reduce_sum(ref_outputs * ref_outputs) + tf.reduce_sum(ref_last)
    ref_grads = tf.gradients(ref_loss, [x, w, u])
    got = _run([outputs, loss] + grads, feed)
    expected = _run([ref_outputs, ref_loss] + ref_grads, feed)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    for i, tensor in enumerate((x, w, u)):
        others = {t: v for t, v in feed.items() if t is not tensor}
        _numeric_check(tensor, values[i], loss, others, tol=1e-5)


def test_dynamic_size_array_written_in_a_loop_and_its_gradient():
    x = tf.placeholder(tf.float64, [])
    n = tf.placeholder(tf.int32, [])
    ta = tf.TensorArray(tf.float64, size=0, dynamic_size=True)

    def body(i, v, ta):
        return i + 1, v * x, ta.write(i, v)

    _, _, ta = tf.while_loop(lambda i, v, ta: i < n, body, [tf.constant(0), tf.constant(1.0, tf.float64), ta])
    powers = ta.stack()
    y = tf.reduce_sum(powers)
    dy = tf.gradients(y, x)[0]
    got_powers, got_dy = _run([powers, dy], {x: 1.5, n: 4})
    np.testing.assert_allclose(got_powers, [1, 1.5, 2.25, 3.375])
    np.testing.assert_allclose(got_dy, 1 + 2 * 1.5 + 3 * 2.25)


def test_tensor_array_made_inside_a_loop_body_is_new_every_iteration():
    def body(i, total):
        ta = tf.TensorArray(tf.float32, size=2).write(0, tf.cast(i, tf.float32)).write(1, 1.0)
        return i + 1, total + tf.reduce_sum(ta.stack())

    _, total = tf.while_loop(lambda i, t: i < 4, body, [tf.constant(0), tf.constant(0.0)])
    assert _run(total) == 0 + 1 + 2 + 3 + 4


def _nested_rows(x, square_in_outer_body):
    def outer(i, rows):
        def inner(j, acc):
            return j + 1, acc + tf.gather(tf.gather(x, i), j) * tf.cast(j + 1, tf.float64)

        _, row = tf.while_loop(lambda j, acc: j < 2, inner, [tf.constant(0), tf.constant(0.0, tf.float64)])
        return i + 1, rows.write(i, row * row if square_in_outer_body else row)

    _, rows = tf.while_loop(lambda i, r: i < 3, outer, [tf.constant(0), tf.TensorArray(tf.float64, size=3)])
    stacked = rows.stack()
    return stacked if square_in_outer_body else stacked * stacked


def test_nested_loops_write_rows_of_a_tensor_array():
    x = tf.placeholder(tf.float64, [3, 2])
    squares = _nested_rows(x, square_in_outer_body=False)
    value = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.25]])
    np.testing.assert_allclose(_run(squares, {x: value}), (value[:, 0] + 2 * value[:, 1]) ** 2)
    _numeric_check(x, value, tf.reduce_sum(squares), tol=1e-5)


def test_outer_body_op_fed_only_by_an_inner_loop():
    x = tf.placeholder(tf.float64, [3, 2])
    value = np.array([[1.0, 2.0], [0.5, -1.0], [2.0, 0.25]])
    np.testing.assert_allclose(_run(_nested_rows(x, square_in_outer_body=True), {x: value}),
                               (value[:, 0] + 2 * value[:, 1]) ** 2)


# ------------------------------------------------------------------ stacks
def test_stacks_are_last_in_first_out_and_new_every_run():
    handle = stack_ops.stack_v2(-1, tf.float32, stack_name="acc")
    assert handle.dtype == tf.resource and handle.shape.as_list() == [2]
    assert handle.op.get_attr("stack_name") == "acc" and handle.op.get_attr("elem_type") == tf.float32
    assert handle.op.inputs[0].op.name == "StackV2/max_size"
    first = stack_ops.stack_push_v2(handle, 1.0)
    assert first.op.get_attr("T") == tf.float32 and first.op.get_attr("swap_memory") is False
    with tf.control_dependencies([first]):
        second = stack_ops.stack_push_v2(handle, [2.0, 3.0])
    assert second.shape.as_list() == [2]
    with tf.control_dependencies([second]):
        top = stack_ops.stack_pop_v2(handle, tf.float32)
    with tf.control_dependencies([top]):
        bottom = stack_ops.stack_pop_v2(handle, tf.float32)
    assert top.shape.ndims is None
    with tf.Session() as sess:
        for _ in range(2):
            got = sess.run([top, bottom])
            np.testing.assert_array_equal(got[0], [2, 3])
            assert got[1] == 1.0


def test_stack_errors():
    handle = stack_ops.stack_v2(-1, tf.float32)
    _fails(stack_ops.stack_pop_v2(handle, tf.float32), tf.errors.InvalidArgumentError,
           re.compile(r"^Stack\[StackV2_\d+\] is empty when calling Pop\(\)\."))
    named = stack_ops.stack_v2(1, tf.float32, stack_name="foo")
    pushed = stack_ops.stack_push_v2(named, 1.0)
    with tf.control_dependencies([pushed]):
        overflow = stack_ops.stack_push_v2(named, 2.0)
    _fails(overflow, tf.errors.InvalidArgumentError, re.compile(r"^Stack\[foo_\d+\] overflowed its max_size \(1\)"))
    _fails(stack_ops.stack_push_v2(handle, 1), tf.errors.InvalidArgumentError, "Must have type 1 but got 3")
    with tf.control_dependencies([stack_ops.stack_push_v2(handle, 1.0)]):
        wrong = stack_ops.stack_pop_v2(handle, tf.int32)
    _fails(wrong, tf.errors.InternalError,
           f"Output 0 of type float does not match declared output type int32 for node {{{{node {wrong.op.name}}}}}")
    closed = stack_ops.stack_close_v2(handle)
    with tf.control_dependencies([closed]):
        late = stack_ops.stack_push_v2(handle, 1.0)
    _fails(late, tf.errors.InvalidArgumentError, re.compile(r"^Stack\[StackV2_\d+\] has already been closed\."))
    _fails(stack_ops.stack_v2([1], tf.float32), tf.errors.InvalidArgumentError,
           "Stack size must be a scalar, but had shape: [1]")
    with pytest.raises(ValueError, match="Tensor conversion requested dtype int32"):
        stack_ops.stack_v2(tf.constant(1.0), tf.float32)


def test_control_trigger():
    trigger = stack_ops.control_trigger()
    assert trigger.type == "ControlTrigger" and not trigger.outputs
    with tf.control_dependencies([trigger]):
        out = tf.identity(tf.constant(2.0))
    assert _run(out) == 2.0
    _run(trigger)


def test_tensor_array_through_a_cond():
    with tf.Graph().as_default():
        p = tf.placeholder(tf.bool, [])
        ta = tf.TensorArray(tf.float32, size=2)
        out = tf.cond(p, lambda: ta.write(0, 1.0).write(1, 2.0), lambda: ta.write(0, 5.0).write(1, 6.0))
        assert isinstance(out, tf.TensorArray)
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(out.stack(), {p: True}), [1.0, 2.0])
            np.testing.assert_array_equal(sess.run(out.stack(), {p: False}), [5.0, 6.0])
