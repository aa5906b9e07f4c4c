"""tf.contrib.layers: variable names, shapes, collections and values as TF 1.15's contrib.layers makes them.

The expected structures and numbers were recorded from tf-slim 1.1.0 (TF 1.15's contrib.layers code) on
TensorFlow 2.21 by tests/fixtures/make_contrib_layers_fixtures.py; each graph here is built the same way.
"""
import json
import os

import numpy as np
import pytest

import caudal as tf

layers = tf.contrib.layers
slim = tf.contrib.slim
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "contrib_layers")


def _load(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


STRUCTURE = _load("structure.json")
VALUES = _load("values.json")


def _names(collection):
    return [getattr(item, "name", str(item)) for item in tf.get_collection(collection)]


def _describe(outputs):
    return {
        "global": [[v.name, v.shape.as_list()] for v in tf.global_variables()],
        "trainable": _names(tf.GraphKeys.TRAINABLE_VARIABLES),
        "model": _names(tf.GraphKeys.MODEL_VARIABLES),
        "regularization_losses": _names(tf.GraphKeys.REGULARIZATION_LOSSES),
        "update_ops": len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)),
        "shapes": {key: t.shape.as_list() for key, t in outputs.items()},
    }


def _check_structure(got, expected):
    for key in ("global", "trainable", "model", "regularization_losses", "update_ops"):
        assert got[key] == expected[key], key
    for key, (_, shape) in expected["outputs"].items():
        assert got["shapes"][key] == shape, key


def test_slim_model_names_shapes_and_collections():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, 8, 8, 3], name="images")
        out = {}
        with slim.arg_scope([slim.conv2d, slim.fully_connected], weights_regularizer=slim.l2_regularizer(0.01)):
            net = out["conv1"] = slim.conv2d(images, 4, [3, 3], scope="conv1")
            net = out["repeat"] = slim.repeat(net, 2, slim.conv2d, 4, [3, 3], scope="conv2")
            net = out["pool"] = slim.max_pool2d(net, [2, 2], scope="pool1")
            net = out["bn"] = slim.batch_norm(net, scale=True)
            net = out["flat"] = slim.flatten(net)
            net = out["stack"] = slim.stack(net, slim.fully_connected, [8, 6], scope="fc")
            net = out["drop"] = slim.dropout(net, 0.5, scope="dropout")
            out["logits"] = slim.fully_connected(net, 5, activation_fn=None, scope="logits")
        expected = STRUCTURE["slim_model"]
        _check_structure(_describe(out), expected)
        for key in ("conv1", "repeat", "pool", "stack", "logits", "flat"):
            assert out[key].name == expected["outputs"][key][0], key


def test_default_scopes_and_variables():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [None, 8, 8, 3], name="images")
        vectors = tf.placeholder(tf.float32, [None, 5], name="vectors")
        out = {
            "conv": layers.conv2d(images, 2, 3),
            "conv_again": layers.conv2d(images, 2, 3),
            "conv_t": layers.conv2d_transpose(images, 2, 3, stride=2),
            "sep": layers.separable_conv2d(images, 4, 3, depth_multiplier=2),
            "depthwise": layers.separable_conv2d(images, None, 3, depth_multiplier=2),
            "fc": layers.fully_connected(vectors, 3),
            "fc_bn": layers.fully_connected(vectors, 3, normalizer_fn=layers.batch_norm),
            "bn2d": layers.batch_norm(vectors, updates_collections=None),
            "ln": layers.layer_norm(images),
            "bias": layers.bias_add(vectors),
            "avg": layers.avg_pool2d(images, 2),
            "onehot": layers.one_hot_encoding(tf.placeholder(tf.int32, [4]), 5),
            "softmax": layers.softmax(tf.placeholder(tf.float32, [2, 3, 4])),
        }
        expected = STRUCTURE["defaults"]
        _check_structure(_describe(out), expected)
        for key in ("conv", "conv_again", "conv_t", "sep", "depthwise", "fc", "fc_bn", "bias", "avg", "onehot"):
            assert out[key].name == expected["outputs"][key][0], key


def test_reuse_adds_no_second_regularization_loss_and_collections_are_filled():
    with tf.Graph().as_default():
        vectors = tf.placeholder(tf.float32, [None, 5], name="vectors")
        reg = layers.l2_regularizer(0.5)
        a = layers.fully_connected(vectors, 3, scope="shared", weights_regularizer=reg)
        b = layers.fully_connected(vectors, 3, scope="shared", reuse=True, weights_regularizer=reg)
        collections = {"weights": ["my_weights"], "biases": ["my_biases"]}
        c = layers.fully_connected(vectors, 2, variables_collections=collections, outputs_collections="ends",
                                   scope="collected")
        expected = STRUCTURE["reuse"]
        _check_structure(_describe({"a": a, "b": b, "c": c}), expected)
        assert [a.name, b.name, c.name] == [expected["outputs"][k][0] for k in "abc"]
        assert _names("my_weights") == expected["my_weights"]
        assert _names("my_biases") == expected["my_biases"]
        assert _names("ends") == expected["ends"]
        assert tf.contrib.layers.summarize_collection("ends")[0].op.name == "collected/Relu_summary"


def _run(outputs, feed):
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        return sess.run(outputs, feed)


def test_layer_values_match_tf():
    data = VALUES["layers"]
    x4, x2, x3 = (np.array(data["inputs"][k], np.float32) for k in ("x4", "x2", "x3"))
    w = {k: np.array(v, np.float32) for k, v in data["weights"].items()}
    const = tf.constant_initializer
    with tf.Graph().as_default():
        p4 = tf.placeholder(tf.float32, [None, 6, 6, 3])
        p2 = tf.placeholder(tf.float32, [None, 5])
        p3 = tf.placeholder(tf.float32, [None, 4, 5])
        ids = tf.placeholder(tf.int32, [2, 3])
        outs = {
            "fc": layers.fully_connected(p2, 3, weights_initializer=const(w["fc_w"]),
                                         biases_initializer=const(w["fc_b"])),
            "fc_rank3": layers.fully_connected(p3, 3, activation_fn=tf.nn.tanh, weights_initializer=const(w["fc_w"])),
            "conv": layers.conv2d(p4, 2, 3, weights_initializer=const(w["conv_w"]),
                                  biases_initializer=const(w["conv_b"])),
            "conv_rate": layers.conv2d(p4, 2, 3, rate=2, activation_fn=None, weights_initializer=const(w["conv_w"])),
            "conv_valid_stride": layers.conv2d(p4, 2, 3, stride=2, padding="VALID", activation_fn=None,
                                               weights_initializer=const(w["conv_w"])),
            "conv_t": layers.conv2d_transpose(p4, 2, 3, stride=2, activation_fn=None,
                                              weights_initializer=const(w["convt_w"])),
            "sep": layers.separable_conv2d(p4, 4, 3, depth_multiplier=2, activation_fn=None,
                                           weights_initializer=const(w["dw"]), pointwise_initializer=const(w["pw"])),
            "depthwise": layers.separable_conv2d(p4, None, 3, depth_multiplier=2, activation_fn=None,
                                                 weights_initializer=const(w["dw"])),
            "max_pool": layers.max_pool2d(p4, 2),
            "avg_pool_same": layers.avg_pool2d(p4, 3, stride=2, padding="SAME"),
            "flatten": layers.flatten(p4),
            "layer_norm": layers.layer_norm(p3),
            "layer_norm_axis": layers.layer_norm(p4, begin_norm_axis=-1, begin_params_axis=-1),
            "softmax": layers.softmax(p3),
            "one_hot": layers.one_hot_encoding(tf.constant([0, 3, 1]), 4),
            "bn_inference": layers.batch_norm(p4, is_training=False, scale=True),
            "embed": layers.embed_sequence(ids, initializer=const(w["emb"]), vocab_size=7, embed_dim=3),
            "embed_unique": layers.embed_sequence(ids, initializer=const(w["emb"]), vocab_size=7, embed_dim=3,
                                                  unique=True, scope="unique"),
        }
        got = _run(outs, {p4: x4, p2: x2, p3: x3, ids: [[1, 2, 6], [0, 2, 2]]})
    data["embed_unique"] = data["embed"]
    for key, value in got.items():
        np.testing.assert_allclose(value, np.array(data[key]), rtol=1e-5, atol=1e-5, err_msg=key)
        assert value.dtype == np.float32, key


@pytest.mark.parametrize("case", sorted(VALUES["batch_norm"]))
def test_batch_norm_paths_match_tf(case):
    data = VALUES["batch_norm"][case]
    x_value = np.array(data["x"], np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, x_value.shape)
        training = tf.placeholder_with_default(True, [])
        y = layers.batch_norm(x, is_training=training, **data["kwargs"])
        updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
        assert len(updates) == data["update_ops"]
        assert [v.op.name for v in tf.global_variables()] == data["variables"]
        assert y.shape.as_list() == list(x_value.shape)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            first = sess.run([y] + updates, {x: x_value})[0]
            sess.run([y] + updates, {x: x_value * 0.5})
            inference = sess.run(y, {x: x_value, training: False})
            moving = {name: sess.run(tf.get_default_graph().get_tensor_by_name(name + ":0"))
                      for name in data["moving"]}
    np.testing.assert_allclose(first, data["train_output"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(inference, data["inference_output"], rtol=1e-4, atol=1e-5)
    for name, value in data["moving"].items():
        np.testing.assert_allclose(moving[name], value, rtol=1e-5, atol=1e-6, err_msg=name)


def test_batch_norm_python_bool_training_builds_no_cond():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        layers.batch_norm(x, is_training=False, updates_collections=None)
        layers.batch_norm(x, is_training=True, decay=0.5, fused=False)
        types = {op.type for op in tf.get_default_graph().get_operations()}
        assert "Switch" not in types and "Merge" not in types
        assert len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == 2


@pytest.mark.parametrize("case", ["sgd_clip", "adam", "momentum_class_summaries"])
def test_optimize_loss_trains_as_tf(case):
    data = VALUES["optimize_loss"]
    kwargs = {"sgd_clip": dict(optimizer="SGD", learning_rate=0.1, clip_gradients=1.0),
              "adam": dict(optimizer="Adam", learning_rate=0.05),
              "momentum_class_summaries": dict(optimizer="Momentum", learning_rate=0.05,
                                               summaries=["loss", "gradients", "gradient_norm", "learning_rate"])}
    xs, ys = np.array(data["x"], np.float32), np.array(data["y"], np.float32)
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 3])
        y = tf.placeholder(tf.float32, [None, 1])
        pred = layers.fully_connected(x, 1, activation_fn=None, weights_initializer=tf.zeros_initializer())
        loss = tf.losses.mean_squared_error(y, pred)
        step = tf.train.get_or_create_global_step()
        train = layers.optimize_loss(loss, step, **kwargs[case])
        assert train.shape.as_list() == []
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            losses = [float(sess.run(train, {x: xs, y: ys})) for _ in range(5)]
            assert int(sess.run(step)) == data[case]["step"]
        summaries = sorted(t.op.name for t in tf.get_collection(tf.GraphKeys.SUMMARIES))
        assert [v.op.name for v in tf.global_variables()] == data[case]["variables"]
    np.testing.assert_allclose(losses, data[case]["losses"], rtol=1e-5)
    assert summaries == data[case]["summaries"]


def test_optimize_loss_optimizer_forms_and_decay():
    with tf.Graph().as_default():
        x = tf.constant([[1.0, 2.0]])
        pred = layers.fully_connected(x, 1, activation_fn=None)
        loss = tf.reduce_sum(pred * pred)
        step = tf.train.get_or_create_global_step()
        by_class = layers.optimize_loss(loss, step, 0.1, tf.train.GradientDescentOptimizer, name="a")
        by_instance = layers.optimize_loss(loss, None, None, tf.train.AdagradOptimizer(0.1), name="b",
                                           increment_global_step=False)
        by_function = layers.optimize_loss(loss, step, tf.constant(0.2), lambda lr: tf.train.MomentumOptimizer(lr, 0.5),
                                           name="c", learning_rate_decay_fn=lambda lr, s: lr * 0.5,
                                           clip_gradients=lambda gv: [(g * 0.0, v) for g, v in gv])
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            for op in (by_class, by_instance, by_function):
                sess.run(op)
            assert int(sess.run(step)) == 2
        tags = [t.op.name for t in tf.get_collection(tf.GraphKeys.SUMMARIES)]
        assert "c/learning_rate" in tags and "c/global_norm/clipped_gradient_norm" in tags


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(learning_rate=-0.1, optimizer="SGD"), ValueError, "Invalid learning_rate -0.1."),
    (dict(learning_rate=1, optimizer="SGD"), ValueError,
     "Learning rate should be 0d Tensor or float. Got 1 of type <class 'int'>"),
    (dict(learning_rate=None, optimizer="SGD"), ValueError,
     "Learning rate is None, but should be specified if optimizer is string (SGD)."),
    (dict(learning_rate=0.1, optimizer="Nope"), ValueError,
     "Optimizer name should be one of [Adagrad, Adam, Ftrl, Momentum, RMSProp, SGD], you provided Nope."),
    (dict(learning_rate=0.1, optimizer=3), ValueError,
     "Unrecognized optimizer: should be string, subclass of Optimizer, instance of subclass of Optimizer or "
     "function with one argument. Got 3."),
    (dict(learning_rate=0.1, optimizer=lambda lr: 7), ValueError,
     "Unrecognized optimizer: function should return subclass of Optimizer. Got 7."),
    (dict(learning_rate=0.1, optimizer="SGD", summaries=["weights"]), ValueError,
     "Summaries should be one of [learning_rate, loss, gradients, gradient_norm, global_gradient_norm], you "
     "provided weights."),
    (dict(learning_rate=0.1, optimizer="SGD", clip_gradients=1), ValueError,
     "Unknown type <class 'int'> for clip_gradients"),
])
def test_optimize_loss_errors(kwargs, error, message):
    with tf.Graph().as_default():
        pred = layers.fully_connected(tf.constant([[1.0, 2.0]]), 1)
        loss = tf.reduce_sum(pred)
        with pytest.raises(error) as info:
            layers.optimize_loss(loss, tf.train.get_or_create_global_step(), **kwargs)
        assert str(info.value) == message


def test_optimize_loss_rejects_non_scalar_loss_and_bad_step():
    with tf.Graph().as_default():
        pred = layers.fully_connected(tf.constant([[1.0, 2.0]]), 1)
        with pytest.raises(ValueError) as info:
            layers.optimize_loss(pred, None, 0.1, "SGD")
        assert str(info.value) == "Expected scalar shape for fully_connected/Relu:0, saw shape: (1, 1)."
        with pytest.raises(TypeError, match='Existing "global_step" does not have integer type: <dtype: \'float32\'>'):
            layers.optimize_loss(tf.reduce_sum(pred), tf.constant(1.0), 0.1, "SGD")


def test_summarize_activations():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4])
        layers.fully_connected(x, 3, outputs_collections=tf.GraphKeys.ACTIVATIONS)
        layers.fully_connected(x, 3, activation_fn=tf.nn.relu6, outputs_collections=tf.GraphKeys.ACTIVATIONS)
        layers.summarize_activations()
        tags = [t.op.name for t in tf.get_collection(tf.GraphKeys.SUMMARIES)]
        assert tags == ["fully_connected/Relu/zeros", "fully_connected/Relu/activation",
                        "fully_connected_1/Relu6/zeros", "fully_connected_1/Relu6/sixes",
                        "fully_connected_1/Relu6/activation"]
        merged = tf.summary.merge_all()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert isinstance(sess.run(merged, {x: np.ones((2, 4), np.float32)}), bytes)


def test_embed_sequence_variable_and_reuse():
    with tf.Graph().as_default():
        ids = tf.constant([[1, 2], [3, 0]])
        first = layers.embed_sequence(ids, vocab_size=5, embed_dim=4, scope="emb")
        again = layers.embed_sequence(ids, scope="emb", reuse=True)
        assert [v.op.name for v in tf.model_variables()] == ["emb/embeddings"]
        assert first.shape.as_list() == [2, 2, 4] and again.shape.as_list() == [2, 2, 4]
        with pytest.raises(ValueError) as info:
            layers.embed_sequence(ids, vocab_size=5)
        assert str(info.value) == ("Must specify vocab size and embedding dimension when not reusing. Got "
                                   "vocab_size=5 and embed_dim=None")


def test_linear_relu_and_decorated_names():
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2])
        assert layers.linear(x, 3).op.type == "BiasAdd"
        assert layers.relu(x, 3).op.type == "Relu"
    assert layers.conv2d.__name__ == "convolution2d"
    assert layers.fully_connected.__name__ == "fully_connected"
    assert layers.max_pool2d.__name__ == "max_pool2d"


def _error(fn):
    with tf.Graph().as_default():
        with pytest.raises(Exception) as info:
            fn()
    return type(info.value), str(info.value)


def _ph(shape, dtype=tf.float32):
    return tf.placeholder(dtype, shape)


@pytest.mark.parametrize("build, error, message", [
    (lambda: layers.fully_connected(_ph([None, None]), 3), ValueError,
     "The last dimension of the inputs to `Dense` should be defined. Found `None`."),
    (lambda: layers.fully_connected(_ph([None, 2]), 3.0), ValueError,
     "num_outputs type should be one of [<class 'int'>], got <class 'float'>."),
    (lambda: layers.conv2d(_ph([None, 4, 3]), 2, 3), ValueError, "Convolution expects input with rank 4, got 3"),
    (lambda: layers.convolution(_ph([None, 4]), 2, 3), ValueError,
     "('Convolution not supported for input with rank', 2)"),
    (lambda: layers.conv2d(_ph([None, 4, 4, 3]), 2, 3, data_format="NHCW"), ValueError,
     "Invalid data_format: 'NHCW'"),
    (lambda: layers.max_pool2d(_ph([None, 4, 4, 3]), 2, data_format="NHCW"), ValueError,
     "data_format has to be either NCHW or NHWC."),
    (lambda: layers.conv2d_transpose(_ph([None, 4, 4, 3]), 2, 3, data_format="NWC"), ValueError,
     "data_format has to be either NCHW or NHWC."),
    (lambda: layers.batch_norm(_ph([None, 4, 4, 3]), data_format="NCWH"), ValueError,
     "data_format has to be either NCHW or NHWC."),
    (lambda: layers.batch_norm(_ph([None, None])), ValueError, "`C` dimension must be known but is None"),
    (lambda: layers.layer_norm(tf.placeholder(tf.float32, name="p")), ValueError, "Inputs p:0 has undefined rank."),
    (lambda: layers.layer_norm(_ph([2, 3]), begin_norm_axis=2), ValueError,
     "begin_params_axis (-1) and begin_norm_axis (2) must be < rank(inputs) (2)"),
    (lambda: layers.layer_norm(tf.placeholder(tf.float32, [2, None], name="p")), ValueError,
     "Inputs p:0: shape(inputs)[-1:] is not fully defined: (2, ?)"),
    (lambda: layers.softmax(_ph([3])), ValueError, "rank of shape must be at least 2 not: 1"),
    (lambda: layers.softmax(_ph([3, None])), ValueError, "dimension -1 of shape must be known but is None: (3, ?)"),
    (lambda: layers.softmax(tf.placeholder(tf.float32)), ValueError, "dims of shape must be known but is None"),
    (lambda: layers.stack(_ph([2, 3]), layers.fully_connected, 3), ValueError,
     "stack_args need to be a list or tuple"),
    (lambda: layers.bias_add(_ph([2, 3]), data_format="NCHW"), ValueError,
     "Data format NCHW only supports 4D Tensor"),
    (lambda: layers.bias_add(tf.placeholder(tf.float32)), ValueError, "Dims of shape must be known but is None"),
    (lambda: layers.batch_norm(_ph([None, 3]), batch_weights=_ph([None])), NotImplementedError,
     "batch_norm with batch_weights is not supported"),
])
def test_bad_inputs_raise_tf_errors(build, error, message):
    assert _error(build) == (error, message)


def test_flatten_shapes():
    with tf.Graph().as_default():
        assert layers.flatten(_ph([3])).shape.as_list() == [3, 1]
        assert layers.flatten(_ph([None, None, 3])).shape.as_list() == [None, None]
        assert layers.flatten(_ph([2, 3, 4])).shape.as_list() == [2, 12]
        images = _ph([None, 2, 2])
        flat = layers.flatten(images)
        assert flat.shape.as_list() == [None, 4]
        with tf.Session() as sess:
            assert sess.run(flat, {images: np.zeros((3, 2, 2))}).shape == (3, 4)


def test_dropout_keep_prob_and_is_training():
    with tf.Graph().as_default():
        x = tf.ones([200, 50])
        training = tf.placeholder(tf.bool, [])
        out = layers.dropout(x, keep_prob=0.25, is_training=training, seed=3)
        same = layers.dropout(x, is_training=False)
        with tf.Session() as sess:
            dropped = sess.run(out, {training: True})
            assert set(np.unique(dropped)) <= {0.0, 4.0}
            assert 0.2 < (dropped > 0).mean() < 0.3
            np.testing.assert_array_equal(sess.run(out, {training: False}), np.ones((200, 50)))
            np.testing.assert_array_equal(sess.run(same), np.ones((200, 50)))


def test_nchw_layers_equal_nhwc_ones():
    rng = np.random.RandomState(5)
    x_nhwc = rng.uniform(-1, 1, (2, 6, 6, 3)).astype(np.float32)
    kernel = rng.uniform(-1, 1, (3, 3, 3, 4)).astype(np.float32)
    with tf.Graph().as_default():
        x = tf.constant(x_nhwc)
        x_nchw = tf.transpose(x, [0, 3, 1, 2])
        outputs = []
        for data_format, inputs in (("NHWC", x), ("NCHW", x_nchw)):
            with tf.variable_scope(data_format):
                net = layers.conv2d(inputs, 4, 3, data_format=data_format,
                                    weights_initializer=tf.constant_initializer(kernel))
                net = layers.max_pool2d(net, 2, data_format=data_format)
                net = layers.batch_norm(net, data_format=data_format, updates_collections=None, scale=True)
                net = layers.batch_norm(net, data_format=data_format, fused=False, decay=0.5)
                net = layers.bias_add(net, data_format=data_format, initializer=tf.constant_initializer(0.5))
            outputs.append(net if data_format == "NHWC" else tf.transpose(net, [0, 2, 3, 1]))
        assert outputs[0].shape.as_list() == outputs[1].shape.as_list() == [2, 3, 3, 4]
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            nhwc, nchw = sess.run(outputs)
            assert sess.run("NCHW/BatchNorm/moving_mean:0").shape == (4,)
    np.testing.assert_allclose(nchw, nhwc, rtol=1e-4, atol=1e-5)


def test_outputs_collections_record_aliases():
    from caudal.contrib._layers_utils import convert_collection_to_dict, get_tensor_aliases

    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 4, 4, 1])
        conv = layers.conv2d(x, 2, 3, scope="conv1", outputs_collections="end_points")
        pool = layers.max_pool2d(conv, 2, scope="pool1", outputs_collections=["end_points"])
        assert get_tensor_aliases(conv) == ["conv1"] and get_tensor_aliases(pool) == ["pool1"]
        assert get_tensor_aliases(x) == [x.name]
        assert convert_collection_to_dict("end_points") == {"conv1": conv, "pool1": pool}
