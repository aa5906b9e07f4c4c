"""TensorFlow-written GraphDefs with TF1 loops (frame ops, TensorArrays, TF's own gradient loop with its
stacks) import into caudal and give TensorFlow's outputs.

The fixtures are tests/fixtures/loops/*.pb with tests/fixtures/loops/manifest.json and expected.npz,
written by tests/fixtures/make_loop_fixtures.py with TensorFlow 2.21 in TF1 graph mode.
"""
from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import caudal as tf

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "loops"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
# Float32 results near zero (the LSTM's outputs) differ from TF's in the last bits of their absolute value.
ATOL = 1e-6


@pytest.fixture(scope="module")
def arrays() -> dict[str, np.ndarray]:
    with np.load(FIXTURES / "expected.npz") as data:
        return {key: data[key] for key in data.files}


def _import(case: dict) -> tf.Graph:
    graph = tf.Graph()
    with graph.as_default():
        graph_def = tf.GraphDef.FromString((FIXTURES / case["file"]).read_bytes())
        tf.import_graph_def(graph_def, name="")
    return graph


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_fixture_gives_tensorflows_outputs(name: str, arrays: dict[str, np.ndarray]) -> None:
    case = MANIFEST[name]
    graph = _import(case)
    op_types = {op.type for op in graph.get_operations()}
    assert op_types == set(case["op_types"])
    feeds = {graph.get_tensor_by_name(t): arrays[key] for t, key in case["feeds"].items()}
    fetches = list(case["fetches"])
    with tf.Session(graph=graph) as sess:
        for _ in range(2):  # a second run starts from fresh TensorArrays and stacks
            results = sess.run(fetches, feeds)
            for tensor_name, value in zip(fetches, results):
                expected = arrays[case["fetches"][tensor_name]]
                assert np.shape(value) == expected.shape, tensor_name
                np.testing.assert_allclose(value, expected, rtol=1e-5, atol=ATOL, err_msg=f"{name}: {tensor_name}")


def test_tensor_array_fixture_with_other_lengths(arrays: dict[str, np.ndarray]) -> None:
    """The imported dynamic-size TensorArray loop follows the fed length."""
    graph = _import(MANIFEST["tensor_array"])
    n = graph.get_tensor_by_name("n:0")
    with tf.Session(graph=graph) as sess:
        np.testing.assert_array_equal(sess.run("output:0", {n: 9}), np.arange(9) ** 2)
        with pytest.raises(tf.errors.InvalidArgumentError, match="Tried to read from index 4 but array size is: 3"):
            sess.run("gathered:0", {n: 3})
        np.testing.assert_array_equal(sess.run("gathered:0", {n: 5}), [16, 0, 4])


def test_map_fn_fixture_with_an_empty_batch() -> None:
    graph = _import(MANIFEST["map_fn_square"])
    with tf.Session(graph=graph) as sess:
        result = sess.run("output:0", {"x:0": np.zeros((0, 3), np.float32)})
    assert result.shape == (0, 3)


def test_gradient_loop_fixture_pops_what_it_pushed(arrays: dict[str, np.ndarray]) -> None:
    """TF's gradient loop (StackV2/StackPushV2/StackPopV2) equals caudal's own gradient of the same loop."""
    graph = _import(MANIFEST["gradient_loop"])
    x_value = np.array([0.4, -0.7, 1.1], np.float32)
    with tf.Session(graph=graph) as sess:
        imported = sess.run("grad:0", {"x:0": x_value})
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [3])
        _, y = tf.while_loop(lambda i, v: i < 5, lambda i, v: (i + 1, v * 0.5 + tf.sin(v)), [tf.constant(0), x])
        grad = tf.gradients(y, x)[0]
        with tf.Session() as sess:
            own = sess.run(grad, {x: x_value})
    np.testing.assert_allclose(imported, own, rtol=1e-5)
