"""tf.Print: passes its input on, prints TF's layout to stderr when it runs, honours first_n,
and lets gradients through."""
import numpy as np

import caudal as tf


def test_print_passes_value_and_prints(capfd):
    x = tf.constant([1.0, 2.0, 3.0, 4.0, 5.0])
    y = tf.Print(x, [x, tf.constant("s"), tf.constant(7)], message="value: ", summarize=3)
    assert y.op.type == "Print" and y.name == "Print:0" and y.shape.as_list() == [5]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(y * 2), [2, 4, 6, 8, 10])
    assert capfd.readouterr().err == "value: [1 2 3...][s][7]\n"


def test_first_n_limits_the_printing_per_session(capfd):
    x = tf.placeholder(tf.int32, [])
    y = tf.Print(x, [x], message="x=", first_n=2)
    with tf.Session() as sess:
        for i in range(4):
            assert sess.run(y, {x: i}) == i
    assert capfd.readouterr().err == "x=[0]\nx=[1]\n"


def test_gradient_passes_through():
    x = tf.constant(3.0)
    y = tf.Print(x * x, [x])
    with tf.Session() as sess:
        assert sess.run(tf.gradients(y, x)[0]) == 6.0
