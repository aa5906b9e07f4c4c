"""Hostile GraphDefs and meta graphs: every node checked against its op definition, all-or-nothing import,
Const values that are not materialised, regexes on a linear-time engine, big folded constants not cached."""
from __future__ import annotations

import gc
import time
import tracemalloc

import numpy as np
import pytest

import caudal as tf
from caudal.framework.tensor_util import make_tensor_proto
from caudal.proto import attr_value_pb2, graph_pb2, meta_graph_pb2


def _matmul_graph_def() -> graph_pb2.GraphDef:
    graph = tf.Graph()
    with graph.as_default():
        a = tf.placeholder(tf.float32, [2, 2], name="a")
        tf.matmul(a, a, name="m")
    return graph.as_graph_def()


def _node(graph_def: graph_pb2.GraphDef, name: str):
    return next(n for n in graph_def.node if n.name == name)


def _state(graph: tf.Graph):
    return ([op.name for op in graph.get_operations()], dict(graph._names_in_use),
            {k: list(graph.get_collection(k)) for k in graph.get_all_collection_keys()})


def _import_fails(graph_def, match: str, error=ValueError):
    graph = tf.Graph()
    with graph.as_default():
        tf.constant(1.0, name="existing")
        tf.add_to_collection("things", 1)
        before = _state(graph)
        with pytest.raises(error, match=match):
            tf.import_graph_def(graph_def, name="")
        assert _state(graph) == before
    return graph


def test_attr_of_the_wrong_type_names_the_node():
    graph_def = _matmul_graph_def()
    _node(graph_def, "m").attr["transpose_a"].CopyFrom(attr_value_pb2.AttrValue(tensor=make_tensor_proto(1.0)))
    _import_fails(graph_def, r"AttrValue had value with type 'tensor' when 'bool' expected\n\t for attr "
                             r"'transpose_a'\n\t; NodeDef: \{\{node m\}\}")


def test_missing_required_attr_names_the_node():
    graph_def = _matmul_graph_def()
    del _node(graph_def, "m").attr["T"]
    _import_fails(graph_def, r"NodeDef missing attr 'T' from Op<name=MatMul>; NodeDef: \{\{node m\}\}")


def test_attr_left_at_its_default_imports():
    graph_def = _matmul_graph_def()
    del _node(graph_def, "m").attr["transpose_a"]
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
        assert graph.get_operation_by_name("m").get_attr("transpose_a") is False


def test_invalid_data_type_names_the_node():
    graph_def = _matmul_graph_def()
    _node(graph_def, "m").attr["T"].type = 0
    _import_fails(graph_def, r"AttrValue has invalid DataType\n\t for attr 'T'\n\t; NodeDef: \{\{node m\}\}")


@pytest.mark.parametrize("change, count", [("extra", 3), ("fewer", 1)])
def test_input_count_is_checked(change, count):
    graph_def = _matmul_graph_def()
    node = _node(graph_def, "m")
    if change == "extra":
        node.input.append("a")
    else:
        del node.input[1]
    _import_fails(graph_def, rf"NodeDef expected inputs 'float, float' do not match {count} inputs specified; "
                             r"Op<name=MatMul>; NodeDef: \{\{node m\}\}")


def test_input_dtype_is_checked_against_the_signature():
    graph_def = _matmul_graph_def()
    _node(graph_def, "m").attr["T"].type = tf.int32.as_datatype_enum
    _import_fails(graph_def, r"Input 0 of node m was passed float from a:0 incompatible with expected int32\.")


def test_duplicate_node_names_are_refused():
    graph_def = _matmul_graph_def()
    graph_def.node.add().CopyFrom(graph_def.node[0])
    _import_fails(graph_def, r"Node 'a' is not unique")


def test_negative_dimensions_are_refused():
    graph_def = _matmul_graph_def()
    _node(graph_def, "a").attr["shape"].shape.dim[0].size = -5
    _import_fails(graph_def, r"Shape \[-5,2\] has dimensions with values below -1 \(where -1 means unknown\) for "
                             r"'\{\{node a\}\}")
    graph_def = graph_pb2.GraphDef()
    node = graph_def.node.add(name="c", op="Const")
    node.attr["dtype"].type = tf.float32.as_datatype_enum
    tensor = node.attr["value"].tensor
    tensor.dtype = tf.float32.as_datatype_enum
    tensor.tensor_shape.dim.add().size = -3
    tensor.float_val.append(1.0)
    _import_fails(graph_def, r"Shape \[-3\] is not fully defined for '\{\{node c\}\}")


def test_failure_at_node_300_of_500_leaves_the_graph_as_it_was():
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [3], name="x")
        for i in range(499):
            x = tf.identity(x, name=f"n{i}")
    graph_def = graph.as_graph_def()
    _node(graph_def, "n298").attr["T"].type = tf.int32.as_datatype_enum
    target = _import_fails(graph_def, r"Input 0 of node n298 was passed float from n297:0 incompatible with "
                                      r"expected int32\.")
    with target.as_default():  # the names the failed import took are free again
        graph_def = graph.as_graph_def()
        tf.import_graph_def(graph_def, name="")
        assert target.get_operation_by_name("n0").inputs[0].name == "x:0"
        assert len(target.get_operations()) == 501


def test_huge_const_with_one_value_is_not_materialised():
    graph_def = graph_pb2.GraphDef()
    node = graph_def.node.add(name="big", op="Const")
    node.attr["dtype"].type = tf.float32.as_datatype_enum
    tensor = node.attr["value"].tensor
    tensor.dtype = tf.float32.as_datatype_enum
    tensor.tensor_shape.dim.add().size = 2_000_000_000
    tensor.float_val.append(1.5)
    assert graph_def.ByteSize() < 64
    tracemalloc.start()
    try:
        start = time.perf_counter()
        graph = tf.Graph()
        with graph.as_default():
            tf.import_graph_def(graph_def, name="")
            big = graph.get_tensor_by_name("big:0")
            head = tf.reduce_sum(big[:10])
            exported = graph.as_graph_def()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 5
    assert peak < 50 << 20
    assert big.shape.as_list() == [2_000_000_000]
    assert exported.ByteSize() < 4096  # exported as one value again
    with tf.Session(graph=graph) as sess:
        assert sess.run(head) == 15.0


def test_meta_graph_with_a_bad_collection_leaves_the_graph_as_it_was():
    meta_graph = meta_graph_pb2.MetaGraphDef()
    meta_graph.graph_def.CopyFrom(_matmul_graph_def())
    meta_graph.collection_def["variables"].bytes_list.value.append(b"\xff\xff not a VariableDef")
    graph = tf.Graph()
    with graph.as_default():
        tf.constant(1.0, name="existing")
        before = _state(graph)
        with pytest.raises(ValueError, match="Collection 'variables' of the MetaGraphDef cannot be imported"):
            tf.train.import_meta_graph(meta_graph)
        assert _state(graph) == before


def test_meta_graph_with_a_bad_node_names_it():
    meta_graph = meta_graph_pb2.MetaGraphDef()
    graph_def = _matmul_graph_def()
    _node(graph_def, "m").attr["transpose_b"].s = b"yes"
    meta_graph.graph_def.CopyFrom(graph_def)
    with tf.Graph().as_default() as graph:
        with pytest.raises(ValueError, match=r"(?s)type 'string' when 'bool' expected.*\{\{node m\}\}"):
            tf.train.import_meta_graph(meta_graph)
        assert graph.get_operations() == []


def test_regex_full_match_runs_in_linear_time_with_re2_semantics():
    from caudal.ops.checkpoint_ops import static_regex_full_match

    with tf.Graph().as_default():
        evil = static_regex_full_match(["a" * 20000 + "b", "aaa"], "(a+)+$")
        dot = static_regex_full_match(["a\nb", "axb"], "a.b")
        with tf.Session() as sess:
            start = time.perf_counter()
            np.testing.assert_array_equal(sess.run(evil), [False, True])
            assert time.perf_counter() - start < 2
            np.testing.assert_array_equal(sess.run(dot), [False, True])  # RE2: "." does not match "\n"
        with pytest.raises(ValueError, match=r"Invalid pattern: \(a\)\\1, error: invalid escape sequence: \\1"):
            static_regex_full_match(["aa"], r"(a)\1")


def test_large_folded_constants_are_not_kept_alive_by_cached_plans():
    n = 5_000_000
    graph = tf.Graph()
    with graph.as_default():
        v = tf.Variable(tf.zeros([n]), name="v")
        update = tf.assign_add(v, tf.fill([n], 1.0))
        sess = tf.Session(graph=graph)
        gc.collect()
        tracemalloc.start()
        try:
            sess.run(v.initializer)
            sess.run(update)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        assert sess.run(v[:2]).tolist() == [1.0, 1.0]
        sess.close()
    assert held < 6 * n  # the variable's 4 bytes an element, no folded zeros or ones beside it
