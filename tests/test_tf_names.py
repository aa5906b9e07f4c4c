"""Default node names match TensorFlow's (recorded from TF 2.21), so that get_tensor_by_name("Add:0")
and GraphDefs line up."""
import caudal as tf

# (what is built from x and y, TF's op type, TF's tensor name), built in this order in one graph.
EXPECTED = [
    ("tf.add(x, y)", lambda x, y: tf.add(x, y), "AddV2", "Add:0"),
    ("tf.add(x, 2.0)", lambda x, y: tf.add(x, 2.0), "AddV2", "Add_1:0"),
    ("x + y", lambda x, y: x + y, "AddV2", "add_2:0"),
    ("x < y", lambda x, y: x < y, "Less", "Less:0"),
    ("x * 2.0", lambda x, y: x * 2.0, "Mul", "mul:0"),
    ("tf.reshape(x, [-1])", lambda x, y: tf.reshape(x, [-1]), "Reshape", "Reshape:0"),
    ("tf.shape(x)", lambda x, y: tf.shape(x), "Shape", "Shape:0"),
    ("tf.random_uniform([2])", lambda x, y: tf.random_uniform([2]), "RandomUniform",
     "random_uniform/RandomUniform:0"),
    ("tf.reduce_sum(x)", lambda x, y: tf.reduce_sum(x), "Sum", "Sum:0"),
    ("tf.matmul(x, tf.transpose(y))", lambda x, y: tf.matmul(x, tf.transpose(y)), "MatMul", "MatMul:0"),
    ("x[0]", lambda x, y: x[0], "StridedSlice", "strided_slice:0"),
]


def test_default_names_match_tensorflow():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    y = tf.placeholder(tf.float32, [None, 3], name="y")
    for text, build, op_type, name in EXPECTED:
        t = build(x, y)
        assert (t.op.type, t.name) == (op_type, name), text


def test_python_operands_become_constants_inside_the_op_scope():
    x = tf.placeholder(tf.float32, [2])
    t = tf.multiply(x, 2.0, name="y")
    assert t.name == "y:0"
    assert "y/y" in [op.name for op in tf.get_default_graph().get_operations()]
