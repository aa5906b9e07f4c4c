"""tf.map_fn, tf.scan, tf.foldl and tf.foldr: TF1's values, node names and static shapes, nested structures,
gradients against float64 central differences (back_prop=False gives none), and bad input."""
from __future__ import annotations

import re

import numpy as np
import pytest

import caudal as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    with tf.Graph().as_default() as graph:
        yield graph


def _run(fetches, feed_dict=None):
    with tf.Session() as sess:
        return sess.run(fetches, feed_dict)


def _check_gradients(build, shapes, seed=0):
    """d(weighted sum of build(*xs))/dx for every x, against central differences in float64."""
    rng = np.random.default_rng(seed)
    values = [rng.uniform(0.5, 1.5, shape) for shape in shapes]
    xs = [tf.placeholder(tf.float64, shape) for shape in shapes]
    out = build(*xs)
    weights = rng.uniform(0.5, 1.5, out.shape.as_list())
    y = tf.reduce_sum(out * weights)
    with tf.Session():
        for i, x in enumerate(xs):
            others = {t: v for j, (t, v) in enumerate(zip(xs, values)) if j != i}
            theoretical, numerical = tf.test.compute_gradient(x, shapes[i], y, [], x_init_value=values[i],
                                                              delta=1e-6, extra_feed_dict=others)
            np.testing.assert_allclose(theoretical, numerical, rtol=1e-6, atol=1e-6, err_msg=f"input {i}")


# ------------------------------------------------------------------ map_fn
def test_map_fn_over_a_fed_matrix_with_tfs_nodes(fresh_graph):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.map_fn(lambda row: row * row + 1, x)
    assert y.name == "map/TensorArrayStack/TensorArrayGatherV3:0" and y.shape.as_list() == [None, 3]
    names = {op.name: op.type for op in fresh_graph.get_operations()}
    for name, op_type in [("map/TensorArray", "TensorArrayV3"), ("map/TensorArray_1", "TensorArrayV3"),
                          ("map/TensorArrayUnstack/TensorArrayScatter/TensorArrayScatterV3", "TensorArrayScatterV3"),
                          ("map/while/iteration_counter", "Const"), ("map/while/LogicalAnd", "LogicalAnd"),
                          ("map/while/TensorArrayReadV3", "TensorArrayReadV3"),
                          ("map/while/TensorArrayWrite/TensorArrayWriteV3", "TensorArrayWriteV3"),
                          ("map/while/Exit_2", "Exit")]:
        assert names.get(name) == op_type, name
    value = np.random.default_rng(0).uniform(-2, 2, (5, 3)).astype(np.float32)
    np.testing.assert_allclose(_run(y, {x: value}), value * value + 1, rtol=1e-6)
    assert _run(y, {x: np.zeros((0, 3), np.float32)}).shape == (0, 3)


def test_map_fn_static_shapes_and_names():
    p = tf.placeholder(tf.float32, [None, 3])
    assert tf.map_fn(lambda r: r * 2, tf.zeros([4, 3])).shape.as_list() == [4, 3]
    assert tf.map_fn(lambda r: r * 2, p, infer_shape=False).shape.ndims is None
    named = tf.map_fn(lambda r: r, p, name="rows")
    assert named.op.name == "rows/TensorArrayStack/TensorArrayGatherV3"


def test_map_fn_with_nested_elems_and_outputs_of_other_dtypes():
    a = tf.constant([1.0, 2.0, 3.0])
    b = tf.constant([[1, 2], [3, 4], [5, 6]])
    product = tf.map_fn(lambda e: e[0] * tf.cast(e[1]["w"][1], tf.float32), (a, {"w": b}), dtype=tf.float32)
    pair = tf.map_fn(lambda v: (v, [tf.cast(v, tf.int32) * 2]), a, dtype=(tf.float32, [tf.int32]))
    same = tf.map_fn(lambda e: (e[0] + 1.0, e[1] * 2), (a, b))
    got = _run([product, pair, same])
    np.testing.assert_array_equal(got[0], [2, 8, 18])
    np.testing.assert_array_equal(got[1][0], [1, 2, 3])
    assert got[1][1][0].dtype == np.int32 and list(got[1][1][0]) == [2, 4, 6]
    np.testing.assert_array_equal(got[2][1], [[2, 4], [6, 8], [10, 12]])
    assert isinstance(got[2], tuple)
    signature = tf.map_fn(lambda v: tf.cast(v, tf.int64), a, fn_output_signature=tf.int64)
    assert signature.dtype == tf.int64 and list(_run(signature)) == [1, 2, 3]


def test_map_fn_reads_tensors_from_outside_and_variables():
    v = tf.Variable([10.0, 20.0])
    y = tf.map_fn(lambda row: row * v, tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(y), [[10, 40], [30, 80]])


def test_map_fn_errors():
    with pytest.raises(TypeError, match="map_fn: `fn` must be callable"):
        tf.map_fn(3, tf.constant([1.0]))
    with pytest.raises(ValueError, match="Elements in elems must be 1\\+ dimensional Tensors, not scalars"):
        tf.map_fn(lambda x: x, tf.constant(1.0))
    with pytest.raises(ValueError, match=re.escape("elems must be a Tensor or (possibly nested) sequence of Tensors. "
                                                   "Got [], which does not contain any Tensors.")):
        tf.map_fn(lambda x: x, [])
    with pytest.raises(ValueError, match="Dimensions 2 and 3 are not compatible"):
        tf.map_fn(lambda x: x[0], (tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0, 3.0])))
    with pytest.raises(ValueError, match="The two structures don't have the same nested structure"):
        tf.map_fn(lambda x: (x, x), tf.constant([1.0, 2.0]))
    wrong_dtype = tf.map_fn(lambda x: tf.cast(x, tf.int32), tf.constant([1.0, 2.0]))
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        _run(wrong_dtype)
    assert info.value.message.startswith("TensorArray dtype is float but Op is trying to write dtype int32.")
    assert info.value.op.name == wrong_dtype.op.name.replace("TensorArrayStack/TensorArrayGatherV3",
                                                             "while/TensorArrayWrite/TensorArrayWriteV3")


def test_map_fn_gradients():
    _check_gradients(lambda x: tf.map_fn(lambda r: r * r + tf.sin(r), x), [(4, 3)])
    _check_gradients(lambda x, w: tf.map_fn(lambda r: r * w, x), [(4, 3), (3,)])
    _check_gradients(lambda x, w: tf.map_fn(lambda e: e[0] * tf.exp(e[1]["w"]), (x, {"w": w}), dtype=tf.float64),
                     [(3, 2), (3, 2)])


def test_back_prop_false_gives_no_gradient():
    x = tf.placeholder(tf.float64, [4])
    for build in (lambda: tf.map_fn(lambda r: r * r, x, back_prop=False),
                  lambda: tf.scan(lambda a, r: a * r, x, back_prop=False),
                  lambda: tf.foldl(lambda a, r: a * r, x, back_prop=False),
                  lambda: tf.foldr(lambda a, r: a * r, x, back_prop=False)):
        assert tf.gradients(tf.reduce_sum(build()), x) == [None]
        assert tf.gradients(tf.reduce_sum(build()) + tf.reduce_sum(x), x)[0] is not None


# -------------------------------------------------------------------- scan
def test_scan_of_a_fed_vector_is_its_cumulative_sum(fresh_graph):
    x = tf.placeholder(tf.float32, [None], name="x")
    total = tf.scan(lambda a, v: a + v, x)
    assert total.op.name == "scan/TensorArrayStack/TensorArrayGatherV3" and total.shape.as_list() == [None]
    assert fresh_graph.get_operation_by_name("scan/TensorArrayReadV3/index").type == "Const"
    values = np.random.default_rng(1).uniform(-1, 1, 50).astype(np.float32)
    with tf.Session() as sess:
        for n in (50, 1, 7):
            np.testing.assert_allclose(sess.run(total, {x: values[:n]}), np.cumsum(values[:n]), rtol=1e-5,
                                       atol=1e-6)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Tried to read from index 0 but array size is: 0"):
            sess.run(total, {x: values[:0]})


def test_scan_reverse_initializer_and_nested_structures():
    x = tf.constant([1.0, 2.0, 3.0])
    got = _run([tf.scan(lambda a, v: a + v, x, reverse=True),
                tf.scan(lambda a, v: a * v, x, initializer=tf.constant(2.0)),
                tf.scan(lambda a, v: a * v, x, initializer=tf.constant(2.0), reverse=True),
                tf.scan(lambda a, v: (a[0] + v[0], a[1] * v[1]), (x, x)),
                tf.scan(lambda a, v: {"s": a["s"] + v, "p": a["p"] * v}, x,
                        initializer={"s": tf.constant(0.0), "p": tf.constant(1.0)})])
    np.testing.assert_array_equal(got[0], [6, 5, 3])
    np.testing.assert_array_equal(got[1], [2, 4, 12])
    np.testing.assert_array_equal(got[2], [12, 12, 6])
    assert isinstance(got[3], tuple)
    np.testing.assert_array_equal(got[3][0], [1, 3, 6])
    np.testing.assert_array_equal(got[3][1], [1, 2, 6])
    np.testing.assert_array_equal(got[4]["s"], [1, 3, 6])
    np.testing.assert_array_equal(got[4]["p"], [1, 2, 6])


def test_scan_static_shapes():
    p = tf.placeholder(tf.float32, [None, 3])
    assert tf.scan(lambda a, v: a + v, p).shape.as_list() == [None, 3]
    assert tf.scan(lambda a, v: a + v, tf.zeros([4, 3])).shape.as_list() == [4, 3]
    assert tf.scan(lambda a, v: a + v, p, infer_shape=False).shape.ndims is None
    with pytest.raises(ValueError, match="The two structures don't have the same nested structure"):
        tf.scan(lambda a, v: (a, v), tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="scan: `fn` must be callable"):
        tf.scan(None, tf.constant([1.0]))


def test_scan_gradients():
    _check_gradients(lambda x: tf.scan(lambda a, v: a * v + v, x), [(5,)])
    _check_gradients(lambda x, a0: tf.scan(lambda a, v: a * v + 1.0, x, initializer=a0), [(5, 2), (2,)])
    _check_gradients(lambda x: tf.scan(lambda a, v: a * tf.cos(v) + v, x, reverse=True), [(4, 2)])
    _check_gradients(lambda x, y: tf.scan(lambda a, v: (a[0] * v[1], a[1] + v[0]), (x, y))[0], [(4,), (4,)])


# ------------------------------------------------------------------- folds
def test_foldl_and_foldr_values():
    x = tf.constant([1.0, 2.0, 3.0])
    got = _run([tf.foldl(lambda a, v: a * 2 + v, x), tf.foldr(lambda a, v: a * 2 + v, x),
                tf.foldr(lambda a, v: a * 2 + v, x, initializer=tf.constant(10.0)),
                tf.foldl(lambda a, v: a + v[0] * v[1], (x, tf.constant([4.0, 5.0, 6.0])), initializer=0.0),
                tf.foldl(lambda a, v: (a[0] + v, a[1] * v), x, initializer=(tf.constant(0.0), tf.constant(1.0))),
                tf.foldl(lambda a, v: a + v, tf.zeros([0]), initializer=tf.constant(5.0))])
    assert got[:4] == [11.0, 17.0, 97.0, 32.0]
    assert got[4] == (6.0, 6.0) and got[5] == 5.0


def test_fold_nodes_shapes_and_errors(fresh_graph):
    x = tf.placeholder(tf.float32, [None], name="x")
    y = tf.foldl(lambda a, v: a * 0.5 + v, x, initializer=tf.constant(3.0))
    assert y.name == "foldl/while/Exit_2:0" and y.shape.as_list() == []
    assert fresh_graph.get_operation_by_name("foldl/while/NextIteration_2").inputs[0].op.name == "foldl/while/add_1"
    rows = tf.foldr(lambda a, v: a + v, tf.placeholder(tf.float32, [None, 3]), name="sum_rows")
    assert rows.shape.as_list() == [3] and rows.op.name.startswith("sum_rows/while/Exit")
    with pytest.raises(TypeError, match="foldl: `fn` must be callable"):
        tf.foldl("f", x)
    with pytest.raises(TypeError, match="foldr: `fn` must be callable"):
        tf.foldr("f", x)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Tried to read from index 0 but array size is: 0"):
        _run(tf.foldl(lambda a, v: a + v, x), {x: np.zeros(0, np.float32)})


def test_fold_gradients():
    _check_gradients(lambda x: tf.foldl(lambda a, v: a * v + v, x), [(5, 2)])
    _check_gradients(lambda x: tf.foldr(lambda a, v: a * v + v, x), [(5, 2)])
    _check_gradients(lambda x, a0: tf.foldl(lambda a, v: a * tf.sin(v), x, initializer=a0), [(5,), ()])
    _check_gradients(lambda x, y: tf.foldr(lambda a, v: a + v[0] * v[1], (x, y), initializer=0.0 * x[0]),
                     [(4, 2), (4, 2)])
