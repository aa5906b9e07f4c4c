"""GraphDef interchange: as_graph_def, import_graph_def, write_graph, TensorProtos, graph_util.

Fixtures under tests/fixtures were written by TensorFlow 2.21 with
make_graphdef_fixtures.py; TensorFlow itself is not needed here.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
from google.protobuf import text_format

import caudal as tf
from caudal.errors import NotFoundError
from caudal.framework.op_attrs import OP_ATTRS
from caudal.framework.registry import has_op
from caudal.proto import graph_pb2
from tests.ops.test_op_records import RECORDS, _outputs

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def _load_graph_def(name: str) -> graph_pb2.GraphDef:
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return graph_pb2.GraphDef.FromString(f.read())


def _mlp() -> tuple[tf.Graph, tf.Tensor, tf.Tensor]:
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 4], name="x")
        w = tf.Variable(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3), name="w")
        b = tf.Variable(np.array([0.1, -0.2, 0.3], np.float32), name="b")
        y = tf.nn.softmax(tf.nn.relu(tf.matmul(x, w) + b), name="y")
    return graph, x, y


BATCH = np.random.default_rng(0).uniform(-1, 1, (5, 4)).astype(np.float32)


# ------------------------------------------------------------ round trips
def test_round_trip_with_variables_gives_the_same_outputs() -> None:
    graph, x, y = _mlp()
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        expected = sess.run(y, {x: BATCH})
    graph_def = graph.as_graph_def()
    assert graph_def.versions.producer == 2474
    with tf.Graph().as_default() as g2:
        tf.import_graph_def(graph_def, name="")
        assert [op.name for op in g2.get_operations()] == [n.name for n in graph_def.node]
        assert g2.get_tensor_by_name("y:0").shape.as_list() == [None, 3]
        assert g2.get_tensor_by_name("w:0").dtype == tf.float32._as_ref
        with tf.Session() as sess:
            sess.run(["w/Assign", "b/Assign"])
            np.testing.assert_allclose(sess.run("y:0", {"x:0": BATCH}), expected, rtol=1e-6)
        _assert_same_nodes(g2.as_graph_def(), graph_def)


def _assert_same_nodes(got: graph_pb2.GraphDef, expected: graph_pb2.GraphDef) -> None:
    """Same nodes; `got` may hold more attrs (import fills in TF's defaults, as TF's importer does)."""
    assert got.versions == expected.versions
    assert [n.name for n in got.node] == [n.name for n in expected.node]
    for g, e in zip(got.node, expected.node, strict=True):
        assert (g.op, list(g.input), g.device) == (e.op, list(e.input), e.device), e.name
        for key, value in e.attr.items():
            assert g.attr[key] == value, (e.name, key)


@pytest.mark.parametrize("record", RECORDS, ids=[r.id for r in RECORDS])
def test_every_record_survives_a_round_trip(record) -> None:
    """Each op kind, with its gradient ops, imports with the same dtypes, shapes and values."""
    arrays = record.arrays()
    with tf.Graph().as_default() as graph:
        inputs = [tf.constant(a) for a in arrays]
        outputs = _outputs(record.fn(*inputs))
        fetches = [t.name for t in outputs]
        floats = [t for t in outputs if t.dtype.is_floating]
        xs = [inputs[i] for i in record.grad_indices(arrays)]
        if floats and xs:
            fetches += [g.name for g in tf.gradients(floats, xs) if g is not None]
        with tf.Session() as sess:
            expected = sess.run(fetches)
        graph_def = graph.as_graph_def()
        for op in graph.get_operations():
            _check_attrs_match_tf(op)
    with tf.Graph().as_default() as imported:
        tf.import_graph_def(graph_def, name="")
        for name in fetches:
            original, copy = graph.get_tensor_by_name(name), imported.get_tensor_by_name(name)
            assert copy.dtype == original.dtype and copy.shape == original.shape, name
        with tf.Session() as sess:
            got = sess.run(fetches)
    for name, g, e in zip(fetches, got, expected, strict=True):
        g, e = np.asarray(g), np.asarray(e)
        if e.dtype.kind in "fc":  # float attrs (leaky_relu's alpha) are float32 in a GraphDef, as in TF
            np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7, err_msg=name)
        else:
            np.testing.assert_array_equal(g, e, err_msg=name)


def _check_attrs_match_tf(op: tf.Operation) -> None:
    """The op's attrs are the ones TF's OpDef has: no unknown ones, every required one."""
    spec = OP_ATTRS.get(op.type)
    if spec is None:
        return
    extra = [k for k in op._attrs if not k.startswith("_") and k not in spec]
    missing = [k for k, s in spec.items() if len(s) == 1 and k not in op._attrs]
    assert not extra and not missing, f"{op.type} ({op.name}): attrs not in TF's op {extra}, missing {missing}"


def test_node_def_inputs_controls_device_and_shapes() -> None:
    with tf.Graph().as_default() as graph:
        a = tf.constant([1.0, 2.0], name="a")
        parts = tf.unstack(a, name="parts")
        with tf.control_dependencies([a]), tf.device("/cpu:0"):
            c = tf.add(parts[1], 1.0, name="c")
        node = c.op.node_def
        assert node.input[0] == "parts:1" and node.input[-1] == "^a" and len(node.input) == 3
        assert node.device == "/cpu:0"
        assert node.attr["T"].type == 1
        plain = graph.as_graph_def()
        shaped = graph.as_graph_def(add_shapes=True)
    assert all("_output_shapes" not in n.attr for n in plain.node)
    shapes = {n.name: n.attr["_output_shapes"].list.shape for n in shaped.node}
    assert [d.size for d in shapes["a"][0].dim] == [2] and len(shapes["parts"]) == 2
    with tf.Graph().as_default() as g2:
        tf.import_graph_def(shaped, name="")
        op = g2.get_operation_by_name("c")
        assert [c.name for c in op.control_inputs] == ["a"] and op.device == "/cpu:0"


# ------------------------------------------------------------ import options
def _placeholder_graph_def() -> graph_pb2.GraphDef:
    with tf.Graph().as_default() as graph:
        x = tf.placeholder(tf.float32, [None], name="x")
        tf.multiply(x, tf.constant(2.0, name="two"), name="y")
    return graph.as_graph_def()


def test_import_prefixes_and_unique_names_like_tf() -> None:
    graph_def = _placeholder_graph_def()
    with tf.Graph().as_default() as graph:
        tf.placeholder(tf.float32, name="x")
        tf.import_graph_def(graph_def, name="")
        tf.import_graph_def(graph_def)
        tf.import_graph_def(graph_def)
        with tf.name_scope("outer"):
            tf.import_graph_def(graph_def, name="imp")
            returned = tf.import_graph_def(graph_def, name="abs/", return_elements=["y", "y:0"])
        names = [op.name for op in graph.get_operations() if op.type == "Placeholder"]
        assert names == ["x", "x_1", "import/x", "import_1/x", "outer/imp/x", "abs/x"]
        assert graph.get_operation_by_name("y").inputs[0].name == "x_1:0"
        assert isinstance(returned[0], tf.Operation) and returned[0].name == "abs/y"
        assert isinstance(returned[1], tf.Tensor) and returned[1].name == "abs/y:0"
        assert tf.identity(1.0, name="x_1").name == "x_1_1:0"


def test_input_map_replaces_tensors() -> None:
    graph_def = _placeholder_graph_def()
    with tf.Graph().as_default():
        z = tf.constant([1.0, 2.0, 3.0])
        (y,) = tf.import_graph_def(graph_def, input_map={"x": z}, return_elements=["y:0"])
        assert y.op.inputs[0] is z
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y), [2.0, 4.0, 6.0])
        (y2,) = tf.import_graph_def(graph_def, input_map={"x:0": z * 10}, return_elements=["y:0"])
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y2), [20.0, 40.0, 60.0])


def test_import_errors_name_what_is_wrong() -> None:
    graph_def = _placeholder_graph_def()
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=r"Attempted to map inputs that were not found in graph_def: \[nope:0\]"):
            tf.import_graph_def(graph_def, input_map={"nope:0": tf.constant(1.0)})
        with pytest.raises(ValueError, match="Requested return tensor 'nope:0' not found in graph def"):
            tf.import_graph_def(graph_def, return_elements=["nope:0"])
        with pytest.raises(TypeError, match="graph_def must be a GraphDef proto"):
            tf.import_graph_def("not a graph")
    weird = graph_pb2.GraphDef()
    weird.CopyFrom(graph_def)
    node = weird.node.add(name="strange", op="FooBarOp")
    node.input.append("x")
    with tf.Graph().as_default() as graph:
        with pytest.raises(NotFoundError, match=r"Op type not registered 'FooBarOp'.*node 'strange'"):
            tf.import_graph_def(weird)
        assert graph.get_operations() == []
    node.op = "Identity"
    node.input[0] = "zz"
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Node 'strange': Unknown input node 'zz'"):
            tf.import_graph_def(weird)


def test_import_fills_in_default_attrs_and_sorts_nodes() -> None:
    """TF files may leave attrs at their defaults and list nodes in any order."""
    text = """
    node { name: "m" op: "MatMul" input: "a" input: "a" attr { key: "T" value { type: DT_FLOAT } } }
    node { name: "a" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
           attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } dim { size: 2 } }
                                                 float_val: 1.0 float_val: 2.0 } } } }
    """
    graph_def = text_format.Parse(text, tf.GraphDef())
    with tf.Graph().as_default():
        (m,) = tf.import_graph_def(graph_def, return_elements=["m:0"])
        assert m.op.get_attr("transpose_a") is False
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(m), [[5.0, 6.0], [6.0, 8.0]])


# ------------------------------------------------------------ write_graph
@pytest.mark.parametrize("as_text", [True, False])
def test_write_graph_text_and_binary(tmp_path, as_text: bool) -> None:
    graph, _, _ = _mlp()
    path = tf.train.write_graph(graph, str(tmp_path / "sub"), "g.pbtxt" if as_text else "g.pb", as_text=as_text)
    assert path == os.path.join(str(tmp_path / "sub"), "g.pbtxt" if as_text else "g.pb")
    if as_text:
        with open(path) as f:
            read = text_format.Parse(f.read(), tf.GraphDef())
    else:
        with open(path, "rb") as f:
            read = tf.GraphDef.FromString(f.read())
    assert read == graph.as_graph_def()
    path2 = tf.train.write_graph(read, str(tmp_path), "again.pb", as_text=False)
    with open(path2, "rb") as f:
        assert tf.GraphDef.FromString(f.read()) == read


# ------------------------------------------------------------ TensorProtos
def _tensor_cases() -> dict:
    """The cases of make_graphdef_fixtures.tensor_cases(), rebuilt without TensorFlow."""
    cases = {}
    for name in ["float32", "float64", "int32", "uint8", "int16", "int8", "int64", "bool", "uint16",
                 "complex64", "complex128", "float16", "uint32", "uint64"]:
        base = np.arange(6).reshape(2, 3)
        if name == "bool":
            array = base % 2 == 0
        elif name.startswith("complex"):
            array = (base + 1j * (base - 2)).astype(name)
        elif name.startswith("float"):
            array = (base * 0.5 - 1).astype(name)
        else:
            array = base.astype(name)
        cases[f"{name}_matrix"] = (array, name, None, array)
        cases[f"{name}_scalar"] = (array.reshape(-1)[1], name, None, np.asarray(array.reshape(-1)[1]))
    bf = np.array([[1.0, -2.5], [0.15625, 3.0]], np.float32)
    cases["bfloat16_matrix"] = (bf, "bfloat16", None, bf)
    cases["bfloat16_scalar"] = (np.float32(1.5), "bfloat16", None, np.float32(1.5))
    strings = np.array([b"a", b"bc", b"", "\u00e9".encode()], dtype=object)
    cases["string_vector"] = (strings, "string", None, strings)
    cases["string_scalar"] = (b"hello", "string", None, np.array(b"hello", dtype=object))
    cases["float32_broadcast"] = (3.0, "float32", [2, 2], np.full((2, 2), 3.0, np.float32))
    cases["int32_empty"] = (np.zeros([0, 2], np.int32), "int32", None, np.zeros([0, 2], np.int32))
    return cases


def test_tensor_protos_match_tensorflow_byte_for_byte() -> None:
    tf_protos = {n.name: n.attr["value"].tensor for n in _load_graph_def("tensor_protos.pb").node}
    cases = _tensor_cases()
    assert sorted(tf_protos) == sorted(cases)
    for name, (value, dtype, shape, expected) in cases.items():
        ours = tf.make_tensor_proto(value, dtype=tf.as_dtype(dtype), shape=shape)
        assert ours.SerializeToString() == tf_protos[name].SerializeToString(), name
        array = tf.make_ndarray(tf_protos[name])
        assert array.shape == np.shape(expected), name
        if dtype != "bfloat16":
            assert array.dtype == np.asarray(expected).dtype, name
        np.testing.assert_array_equal(array, expected, err_msg=name)


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64, tf.float16, tf.bfloat16, tf.int8, tf.int16, tf.int32,
                                   tf.int64, tf.uint8, tf.uint16, tf.uint32, tf.uint64, tf.bool, tf.complex64,
                                   tf.complex128, tf.string])
@pytest.mark.parametrize("shape", [[], [1], [3, 2], [0]])
def test_tensor_proto_round_trip(dtype: tf.DType, shape: list) -> None:
    rng = np.random.default_rng(1)
    if dtype == tf.string:
        value = np.array([f"s{i}".encode() for i in range(int(np.prod(shape)))], dtype=object).reshape(shape)
    elif dtype == tf.bool:
        value = rng.random(shape) < 0.5
    elif dtype == tf.bfloat16:
        value = rng.integers(-8, 8, shape).astype(np.float32) / 4
    else:
        value = (rng.integers(0, 100, shape) * (1 + 1j if dtype.is_complex else 1)).astype(dtype.as_numpy_dtype)
    proto = tf.make_tensor_proto(value, dtype=dtype)
    back = tf.make_ndarray(tf.make_tensor_proto(proto))
    assert back.shape == tuple(shape)
    np.testing.assert_array_equal(back, value)
    with tf.Graph().as_default() as graph:
        c = tf.constant(value, dtype=dtype, name="c")
    with tf.Graph().as_default():
        (c2,) = tf.import_graph_def(graph.as_graph_def(), return_elements=["c:0"])
        assert c2.dtype == c.dtype
        np.testing.assert_array_equal(tf.Session().run(c2), tf.Session(graph=graph).run(c))


def test_make_tensor_proto_shape_rules() -> None:
    short = tf.make_tensor_proto([1, 2], shape=[4])
    assert list(short.int_val) == [1, 2]
    np.testing.assert_array_equal(tf.make_ndarray(short), [1, 2, 2, 2])
    with pytest.raises(ValueError, match="Too many elements provided. Takes at most 2, but got 3"):
        tf.make_tensor_proto([1, 2, 3], shape=[2])
    with pytest.raises(TypeError, match="Expected Tensor's shape"):
        tf.make_tensor_proto([1, 2], shape=[1, 2], verify_shape=True)
    assert tf.make_tensor_proto(7, dtype=tf.int64).int64_val == [7]


# ------------------------------------------------------------ TF's frozen graphs
@pytest.mark.parametrize("model,ops", [("mlp", ["MatMul", "BiasAdd", "Relu", "Softmax"]),
                                       ("cnn", ["Conv2D", "MaxPool", "BiasAdd", "Relu", "Reshape", "Softmax"])])
def test_frozen_tensorflow_graph_runs_with_tfs_outputs(model: str, ops: list[str]) -> None:
    missing = [op for op in ops if not has_op(op)]
    if missing:
        pytest.skip(f"ops not implemented yet: {missing}")
    graph_def = _load_graph_def(f"frozen_{model}.pb")
    batch = np.load(os.path.join(FIXTURES, f"{model}_input.npy"))
    expected = np.load(os.path.join(FIXTURES, f"{model}_output.npy"))
    with tf.Graph().as_default():
        x, y = tf.import_graph_def(graph_def, return_elements=["input:0", "output:0"], name="frozen")
        assert y.shape.as_list() == [None, 3]
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(y, {x: batch}), expected, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ graph_util
def test_convert_variables_to_constants_then_import() -> None:
    graph, x, y = _mlp()
    with graph.as_default(), tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        expected = sess.run(y, {x: BATCH})
        frozen = tf.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["y"])
        partial = tf.graph_util.convert_variables_to_constants(sess, graph.as_graph_def(), ["y"],
                                                               variable_names_blacklist=["b"])
    ops = {n.name: n.op for n in frozen.node}
    assert ops["w"] == "Const" and ops["b"] == "Const" and ops["w/read"] == "Identity"
    assert "w/Assign" not in ops and "w/initial_value" not in ops
    assert {n.name: n.op for n in partial.node}["b"] == "VariableV2"
    with tf.Graph().as_default():
        tf.import_graph_def(frozen, name="")
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run("y:0", {"x:0": BATCH}), expected, rtol=1e-6)


def test_extract_sub_graph_and_remove_training_nodes() -> None:
    with tf.Graph().as_default() as graph:
        a = tf.constant(1.0, name="a")
        b = tf.identity(a, name="b")
        c = tf.multiply(b, tf.constant(2.0, name="two"), name="c")
        tf.add(c, c, name="unused")
        with tf.control_dependencies([a]):
            tf.identity(c, name="gated")
    sub = tf.graph_util.extract_sub_graph(graph.as_graph_def(), ["gated"])
    assert [n.name for n in sub.node] == ["a", "b", "two", "c", "gated"]
    assert list(sub.node[-1].input) == ["c", "^a"]
    with pytest.raises(TypeError, match="dest_nodes must be a list"):
        tf.graph_util.extract_sub_graph(graph.as_graph_def(), "c")
    with pytest.raises(AssertionError, match="'zz' is not in graph"):
        tf.graph_util.extract_sub_graph(graph.as_graph_def(), ["zz"])
    pruned = tf.graph_util.remove_training_nodes(sub)
    nodes = {n.name: list(n.input) for n in pruned.node}
    assert "b" not in nodes and nodes["c"] == ["a", "two"]
    assert "gated" in nodes  # an Identity with a control input stays
    with tf.Graph().as_default() as g:
        tf.import_graph_def(pruned, name="")
        assert tf.Session().run("gated:0") == 2.0
        assert tf.graph_util.tensor_shape_from_node_def_name(g, "c").as_list() == []


def test_variable_to_proto_and_back() -> None:
    with tf.Graph().as_default():
        with tf.name_scope("s"):
            v = tf.Variable([1.0, 2.0], name="v")
        proto = v.to_proto()
        assert (proto.variable_name, proto.initializer_name, proto.snapshot_name, proto.initial_value_name) == (
            "s/v:0", "s/v/Assign", "s/v/read:0", "s/v/initial_value:0")
        assert proto.trainable
        assert v.to_proto(export_scope="s").variable_name == "v:0"
        assert v.to_proto(export_scope="other") is None
        again = tf.Variable.from_proto(proto)
        assert again.name == v.name and again.initializer is v.initializer
