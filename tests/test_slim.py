"""tf.contrib.slim: create_train_op against TF 1.15's numbers, a slim-style MNIST classifier, slim.losses'
argument order, and tf.contrib.learn.datasets.mnist.

create_train_op's losses and summary names were recorded from tf-slim 1.1.0 (TF 1.15's slim) on TF 2.21 by
tests/fixtures/make_contrib_layers_fixtures.py.
"""
import json
import os

import numpy as np
import pytest

import caudal as tf

slim = tf.contrib.slim
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "contrib_layers", "values.json")


def test_create_train_op_matches_tf():
    with open(FIXTURE) as f:
        data = json.load(f)["create_train_op"]
    xs, labels = np.array(data["x"], np.float32), np.array(data["labels"], np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        y = tf.placeholder(tf.float32, [None, 3])
        net = slim.fully_connected(x, 5, normalizer_fn=slim.batch_norm,
                                   weights_initializer=tf.constant_initializer(np.array(data["w1"], np.float32)),
                                   weights_regularizer=slim.l2_regularizer(0.01), scope="hidden")
        logits = slim.fully_connected(net, 3, activation_fn=None,
                                      weights_initializer=tf.constant_initializer(np.array(data["w2"], np.float32)),
                                      scope="logits")
        slim.losses.softmax_cross_entropy(logits, y)
        total = slim.losses.get_total_loss()
        train = slim.learning.create_train_op(total, tf.train.GradientDescentOptimizer(0.5),
                                              clip_gradient_norm=0.5, summarize_gradients=True)
        # The optimizer's apply op joins TRAIN_OP first, as in TF.
        assert tf.get_collection(tf.GraphKeys.TRAIN_OP)[-1] is train
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = [float(sess.run(train, {x: xs, y: labels})) for _ in range(4)]
            moving = sess.run(tf.get_default_graph().get_tensor_by_name("hidden/BatchNorm/moving_mean:0"))
            assert int(sess.run(tf.train.get_global_step())) == 4
        summaries = sorted(t.op.name for t in tf.get_collection(tf.GraphKeys.SUMMARIES))
    np.testing.assert_allclose(losses, data["losses"], rtol=1e-5)
    np.testing.assert_allclose(moving, data["moving_mean"], rtol=1e-5, atol=1e-6)
    assert summaries == data["summaries"]


def test_create_train_op_checks_numerics_and_multiplies_gradients():
    with tf.Graph().as_default():
        w = tf.Variable(1.0, name="w")
        v = tf.Variable(1.0, name="v")
        fed = tf.placeholder(tf.float32, [])
        loss = fed * w + v
        train = slim.learning.create_train_op(loss, tf.train.GradientDescentOptimizer(1.0), global_step=None,
                                              gradient_multipliers={"w": 3.0, v: 0.5})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            sess.run(train, {fed: 2.0})
            assert sess.run([w, v]) == [-5.0, 0.5]
            with pytest.raises(tf.errors.InvalidArgumentError, match="LossTensor is inf or nan"):
                sess.run(train, {fed: np.inf})


@pytest.mark.parametrize("grads, multipliers, message", [
    ((), {"w": 1.0}, "`grads_and_vars` must be a list."),
    ([], {}, "`gradient_multipliers` is empty."),
    ([], [("w", 1.0)], "`gradient_multipliers` must be a dict."),
])
def test_multiply_gradients_errors(grads, multipliers, message):
    with pytest.raises(ValueError) as info:
        slim.learning.multiply_gradients(grads, multipliers)
    assert str(info.value) == message


def test_multiply_gradients_of_none_gradient():
    with tf.Graph().as_default():
        w = tf.Variable(1.0, name="w")
        with pytest.raises(ValueError) as info:
            slim.learning.multiply_gradients([(None, w)], {"w": 2.0})
        assert str(info.value) == "Requested multiple of `None` gradient."


def test_clip_gradient_norms_clips_each_gradient_alone():
    with tf.Graph().as_default():
        a, b = tf.Variable(0.0), tf.Variable(0.0)
        clipped = slim.learning.clip_gradient_norms([(tf.constant([3.0, 4.0]), a), (None, b)], 1.0)
        assert clipped[1] == (None, b)
        with tf.Session() as sess:
            np.testing.assert_allclose(sess.run(clipped[0][0]), [0.6, 0.8], rtol=1e-6)


def test_add_gradients_summaries_names():
    with tf.Graph().as_default():
        w = tf.Variable([1.0, 2.0], name="w")
        v = tf.Variable(0.0, name="v")
        made = slim.learning.add_gradients_summaries([(tf.constant([0.5, 0.5]), w), (None, v)])
        assert [t.op.name for t in made] == ["w/gradient", "w/gradient_norm"]


def test_slim_losses_take_logits_first():
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], np.float32)
    onehot = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    with tf.Graph().as_default():
        contrib_loss = slim.losses.softmax_cross_entropy(logits, onehot, label_smoothing=0.1)
        core_loss = tf.losses.softmax_cross_entropy(onehot, logits, label_smoothing=0.1)
        sparse = slim.losses.sparse_softmax_cross_entropy(logits, [0, 1])
        sigmoid = slim.losses.sigmoid_cross_entropy(logits, onehot)
        mse = slim.losses.mean_squared_error(logits, onehot, weights=2.0)
        hinge = slim.losses.hinge_loss(logits, onehot)
        assert len(slim.losses.get_losses()) == 5
        total = slim.losses.get_total_loss()
        with tf.Session() as sess:
            got = sess.run([contrib_loss, core_loss, sparse, sigmoid, mse, hinge, total])
    assert got[0] == got[1]
    np.testing.assert_allclose(got[4], 2.0 * np.mean((logits - onehot) ** 2), rtol=1e-6)
    np.testing.assert_allclose(got[5], np.maximum(0.0, 1.0 - (2 * onehot - 1) * logits), rtol=1e-6)
    np.testing.assert_allclose(got[6], got[0] + got[1] + got[2] + got[3] + got[4], rtol=1e-6)
    with tf.Graph().as_default():
        with pytest.raises(ValueError) as info:
            slim.losses.cosine_distance(logits, onehot)
        assert str(info.value) == "You must specify 'axis'."


def test_slim_mnist_classifier_trains():
    mnist = tf.contrib.learn.datasets.mnist.read_data_sets("no-such-MNIST-dir", one_hot=True, seed=7)
    with tf.Graph().as_default():
        tf.set_random_seed(3)
        images = tf.placeholder(tf.float32, [None, 784])
        labels = tf.placeholder(tf.float32, [None, 10])
        training = tf.placeholder_with_default(False, [])
        net = tf.reshape(images, [-1, 28, 28, 1])
        with slim.arg_scope([slim.conv2d, slim.fully_connected],
                            weights_initializer=slim.variance_scaling_initializer(),
                            weights_regularizer=slim.l2_regularizer(1e-4)):
            net = slim.conv2d(net, 8, [5, 5], scope="conv1")
            net = slim.max_pool2d(net, [2, 2], scope="pool1")
            net = slim.conv2d(net, 16, [5, 5], normalizer_fn=slim.batch_norm,
                              normalizer_params={"is_training": training}, scope="conv2")
            net = slim.max_pool2d(net, [2, 2], scope="pool2")
            net = slim.flatten(net)
            net = slim.fully_connected(net, 64, scope="fc3")
            net = slim.dropout(net, 0.8, is_training=training, scope="dropout3")
            logits = slim.fully_connected(net, 10, activation_fn=None, scope="fc4")
        slim.losses.softmax_cross_entropy(logits, labels)
        total_loss = slim.losses.get_total_loss()
        train_op = slim.learning.create_train_op(total_loss, tf.train.AdamOptimizer(0.003))
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), tf.argmax(labels, 1)), tf.float32))
        assert [v.op.name for v in slim.get_model_variables()] == [
            "conv1/weights", "conv1/biases", "conv2/weights", "conv2/BatchNorm/beta",
            "conv2/BatchNorm/moving_mean", "conv2/BatchNorm/moving_variance", "fc3/weights", "fc3/biases",
            "fc4/weights", "fc4/biases"]
        test_feed = {images: mnist.test.images[:500], labels: mnist.test.labels[:500]}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            before = sess.run(accuracy, test_feed)
            for _ in range(60):
                batch_images, batch_labels = mnist.train.next_batch(50)
                sess.run(train_op, {images: batch_images, labels: batch_labels, training: True})
            after = sess.run(accuracy, test_feed)
            moving_mean = sess.run(slim.get_variables_by_name("moving_mean")[0])
    assert before < 0.3 and after > 0.8
    assert np.any(moving_mean != 0.0)


def test_learn_datasets_mnist_paths_and_load_dataset():
    learn = tf.contrib.learn
    assert learn.datasets.mnist.read_data_sets is tf.contrib.learn.python.learn.datasets.mnist.read_data_sets
    from caudal.contrib.learn.python.learn.datasets.mnist import read_data_sets
    from caudal.examples.tutorials.mnist import input_data

    assert read_data_sets is input_data.read_data_sets
    data = learn.datasets.load_dataset("mnist")
    assert data.train.images.shape[1] == 784 and data.test.num_examples == 2000
    with pytest.raises(ValueError) as info:
        learn.datasets.load_dataset("cifar")
    assert str(info.value) == "Name of dataset is not found: cifar"
    with pytest.raises(NotImplementedError) as info:
        learn.datasets.load_dataset("iris")
    assert str(info.value) == "The iris dataset is not bundled with caudal; only mnist is."


def test_slim_namespace():
    assert slim.conv2d is tf.contrib.layers.conv2d
    assert slim.arg_scope is tf.contrib.framework.arg_scope
    assert slim.losses is tf.contrib.losses
    for name in ("fully_connected", "max_pool2d", "avg_pool2d", "flatten", "dropout", "batch_norm", "repeat",
                 "stack", "l2_regularizer", "variance_scaling_initializer", "model_variable", "variable",
                 "get_variables_to_restore", "get_model_variables", "one_hot_encoding"):
        assert callable(getattr(slim, name)), name
