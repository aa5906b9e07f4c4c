"""Graph, names and scopes, collections, devices, dtypes, conversion rules and TensorShape."""
import caudal.compat.v1 as tf_v1
import numpy as np
import pytest

import caudal as tf


def test_compat_v1_is_the_same_namespace():
    assert tf_v1 is tf
    assert tf.compat.v1 is tf
    tf.disable_v2_behavior()
    tf.disable_eager_execution()
    assert not tf.executing_eagerly()


def test_unique_names_and_name_scopes():
    a = tf.constant(1, name="c")
    b = tf.constant(1, name="c")
    c = tf.constant(1, name="C")
    with tf.name_scope("outer"):
        d = tf.constant(1)
        with tf.name_scope("inner") as scope:
            e = tf.constant(1)
        with tf.name_scope(scope):
            f = tf.constant(1)
    with tf.name_scope("outer"):
        g = tf.constant(1)
    with tf.name_scope("outer/"):
        h = tf.constant(1, name="abs")
    with tf.name_scope(None):
        i = tf.constant(1)
    names = [t.op.name for t in (a, b, c, d, e, f, g, h, i)]
    assert names == ["c", "c_1", "C_2", "outer/Const", "outer/inner/Const", "outer/inner/Const_1", "outer_1/Const",
                     "outer/abs", "Const"]
    assert scope == "outer/inner/"


def test_tensor_and_operation_lookup():
    x = tf.placeholder(tf.float32, name="x")
    y = tf.identity(x, name="y")
    graph = tf.get_default_graph()
    assert graph.get_tensor_by_name("y:0") is y
    assert graph.get_operation_by_name("y") is y.op
    assert graph.get_operations() == [x.op, y.op]
    assert y.op.inputs[0] is x and x.consumers() == [y.op]
    with pytest.raises(KeyError):
        graph.get_tensor_by_name("z:0")
    with pytest.raises(ValueError, match="looks a like a Tensor name"):
        graph.get_tensor_by_name("y:zero")


def test_default_graph_stack_and_reset():
    g = tf.Graph()
    with g.as_default():
        assert tf.get_default_graph() is g
        c = tf.constant(1)
    assert c.graph is g and tf.get_default_graph() is not g
    before = tf.get_default_graph()
    tf.reset_default_graph()
    assert tf.get_default_graph() is not before


def test_collections():
    tf.add_to_collection("things", 1)
    tf.add_to_collections(["things", "more"], 2)
    assert tf.get_collection("things") == [1, 2]
    ref = tf.get_collection_ref("more")
    ref.append(3)
    assert tf.get_collection("more") == [2, 3]
    assert set(tf.get_default_graph().get_all_collection_keys()) >= {"things", "more"}


def test_device_is_recorded():
    with tf.device("/cpu:0"):
        a = tf.constant(1)
        with tf.device("/job:worker"):
            b = tf.constant(2)
    assert a.device == "/cpu:0"
    assert b.op.device == "/cpu:0/job:worker" or "job:worker" in b.op.device
    assert tf.constant(3).device == ""


def test_control_dependencies_none_clears():
    a = tf.no_op()
    with tf.control_dependencies([a]):
        b = tf.constant(1)
        with tf.control_dependencies(None):
            c = tf.constant(2)
    assert b.op.control_inputs == [a] and c.op.control_inputs == []


def test_operation_records_the_user_line():
    c = tf.constant(1.0)
    assert "test_graph.py" in c.op.where_defined()


def test_tensor_properties_and_set_shape():
    x = tf.placeholder(tf.float32, [None, 3])
    assert x.name == "Placeholder:0" and x.dtype == tf.float32
    assert x.get_shape().as_list() == [None, 3]
    assert x.shape[1].value == 3 and x.shape[0].value is None
    x.set_shape([5, 3])
    assert x.shape.as_list() == [5, 3]
    with pytest.raises(ValueError, match="not compatible"):
        x.set_shape([4, 3])
    assert str(x).startswith('Tensor("Placeholder:0", shape=(5, 3), dtype=float32')
    t = tf.constant(1)
    assert (t == t) is True and (t == tf.constant(1)) is False and hash(t) == hash(t)


@pytest.mark.parametrize("value, dtype", [
    (1, tf.int32), (2**40, tf.int64), (1.5, tf.float32), ([1, 2.5], tf.float32), (True, tf.bool),
    ("s", tf.string), (b"s", tf.string), (1 + 2j, tf.complex128), (np.float64(1), tf.float64),
    (np.arange(3, dtype=np.int16), tf.int16), ([np.float64(1), np.float64(2)], tf.float64),
])
def test_conversion_rules(value, dtype):
    assert tf.constant(value).dtype == dtype


def test_constant_with_dtype_and_shape():
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(tf.constant([3, 6], dtype=tf.float32)), [3.0, 6.0])
        np.testing.assert_array_equal(sess.run(tf.constant(7, shape=[2, 2])), [[7, 7], [7, 7]])
        np.testing.assert_array_equal(sess.run(tf.constant([1, 2], shape=[4])), [1, 2, 2, 2])
        assert sess.run(tf.constant("hi")) == b"hi"
    with pytest.raises(TypeError, match="Expected int32, got 2.5"):
        tf.constant(2.5, dtype=tf.int32)


def test_constant_copies_its_input():
    data = np.array([1.0, 2.0])
    c = tf.constant(data)
    data[0] = 50.0
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(c), [1.0, 2.0])


def test_dtypes():
    assert tf.as_dtype("float") is tf.float32 and tf.float is tf.float32
    assert tf.as_dtype(np.int64) is tf.int64 and tf.as_dtype(float) is tf.float32
    assert tf.float32 == "float32" and tf.float32 != tf.float64
    assert tf.float32._as_ref.base_dtype is tf.float32 and tf.float32._as_ref.is_ref_dtype
    assert tf.float32.as_numpy_dtype is np.float32 and tf.float32.as_datatype_enum == 1
    assert tf.uint8.is_integer and tf.uint8.is_unsigned and tf.float16.is_floating and tf.complex64.is_complex
    assert tf.int8.min == -128 and tf.uint16.max == 65535
    assert tf.complex128.real_dtype is tf.float64
    for name in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                 "float32", "float64", "complex64", "complex128", "string"):
        assert tf.as_dtype(name).name == name
    with pytest.raises(TypeError):
        tf.as_dtype("nonsense")


def test_tensor_shape():
    s = tf.TensorShape([None, 3])
    assert s.ndims == 2 and not s.is_fully_defined() and s.as_list() == [None, 3]
    assert s.merge_with([2, None]).as_list() == [2, 3]
    assert s.is_compatible_with([5, 3]) and not s.is_compatible_with([5, 4])
    with pytest.raises(ValueError):
        s.merge_with([2, 4])
    unknown = tf.TensorShape(None)
    assert unknown.ndims is None and unknown.is_compatible_with([1, 2, 3])
    with pytest.raises(ValueError):
        unknown.as_list()
    assert tf.TensorShape([2, 3]).num_elements() == 6
    assert tf.TensorShape([1]).concatenate([2]).as_list() == [1, 2]
    assert tf.Dimension(None).value is None and (tf.Dimension(3) + 1).value == 4
    assert str(tf.TensorShape([None, 2])) == "(?, 2)"
    assert tf.dimension_value(tf.TensorShape([4])[0]) == 4


def test_static_shapes_seen_through_constants():
    x = tf.placeholder(tf.float32, [None, 28, 28])
    assert tf.reshape(x, [-1, 784]).shape.as_list() == [None, 784]
    y = tf.placeholder(tf.float32, [6, 4])
    assert tf.reshape(y, [-1, 8]).shape.as_list() == [3, 8]
    assert tf.fill(tf.shape(y), 1.0).shape.as_list() == [6, 4]
    assert tf.zeros(tf.shape(x)[1:]).shape.as_list() == [28, 28]
