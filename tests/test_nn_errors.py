"""Bad input to the tf.nn ops fails like TF: at build time when shapes or dtypes show it,
otherwise at run time with InvalidArgumentError, leaving variables unchanged."""
import numpy as np
import pytest

import caudal as tf


def test_out_of_range_sparse_label_fails_at_run_time_and_changes_nothing():
    with tf.Graph().as_default():
        v = tf.Variable(1.0)
        labels = tf.placeholder(tf.int32, [2])
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=tf.ones([2, 3]) * v)
        step = tf.assign_add(v, tf.reduce_sum(loss))
        with tf.Session() as sess:
            sess.run(v.initializer)
            with pytest.raises(tf.errors.InvalidArgumentError) as info:
                sess.run(step, {labels: [0, 5]})
            assert "Received a label value of 5 which is outside the valid range of [0, 3).  Label values: 0 5" \
                in str(info.value)
            with pytest.raises(tf.errors.InvalidArgumentError, match="label value of -1"):
                sess.run(step, {labels: [-1, 0]})
            assert sess.run(v) == 1.0


@pytest.mark.parametrize("build, error, message", [
    (lambda: tf.nn.bias_add(tf.ones([2, 3]), tf.ones([2])), ValueError, "Dimensions must be equal, but are 3 and 2"),
    (lambda: tf.nn.bias_add(tf.ones([2]), tf.ones([2])), ValueError, "Shape must be at least rank 2 but is rank 1"),
    (lambda: tf.nn.bias_add(tf.ones([2, 3]), tf.ones([1, 3])), ValueError, "Shape must be rank 1 but is rank 2"),
    (lambda: tf.nn.bias_add(tf.ones([2, 3]), tf.ones([3]), data_format="HWC"), ValueError, "data_format"),
    (lambda: tf.nn.softmax_cross_entropy_with_logits_v2(labels=tf.ones([2, 4]), logits=tf.ones([2, 3])), ValueError,
     "Dimensions must be equal, but are 3 and 4"),
    (lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([0, 1, 1]), logits=tf.ones([2, 3])),
     ValueError, r"`labels.shape` must equal `logits.shape` except for the last dimension. Received: "
                 r"labels.shape=\(3,\) and logits.shape=\(2, 3\)"),
    (lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([[0, 1]]), logits=tf.ones([2, 3])),
     ValueError, r"`labels.shape.rank` must equal `logits.shape.rank - 1`"),
    (lambda: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([0.0, 1.0]), logits=tf.ones([2, 3])),
     TypeError, "DataType float32 not in list of allowed values: int32, int64"),
    (lambda: tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones([3]), logits=tf.ones([2, 3])), ValueError,
     "must have the same shape"),
    (lambda: tf.nn.in_top_k(tf.ones([2, 3], tf.float64), tf.constant([0, 1]), 1), TypeError,
     "DataType float64 not in list of allowed values: float32"),
    (lambda: tf.nn.fused_batch_norm(tf.ones([2, 2, 3]), tf.ones([3]), tf.ones([3])), ValueError,
     "Shape must be rank 4 but is rank 3"),
    (lambda: tf.nn.fused_batch_norm(tf.ones([2, 2, 2, 3]), tf.ones([3]), tf.ones([3]), is_training=False), ValueError,
     "Both `mean` and `variance` must be a 1D tensor when `is_training` is False"),
    (lambda: tf.nn.fused_batch_norm(tf.ones([2, 2, 2, 3]), tf.ones([4]), tf.ones([4])), ValueError,
     "Dimensions must be equal, but are 3 and 4"),
    (lambda: tf.nn.lrn(tf.ones([2, 3])), ValueError, "Shape must be rank 4 but is rank 2"),
    (lambda: tf.nn.embedding_lookup(tf.ones([3, 2]), [0], partition_strategy="x"), ValueError,
     "Unrecognized partition strategy"),
    (lambda: tf.nn.elu(tf.constant([1, 2])), TypeError, "DataType int32 not in list of allowed values"),
])
def test_build_time_errors(build, error, message):
    with tf.Graph().as_default():
        with pytest.raises(error, match=message):
            build()


def test_embedding_lookup_out_of_range_id_fails_at_run_time():
    with tf.Graph().as_default():
        rows = tf.nn.embedding_lookup(tf.ones([3, 2]), tf.constant([0, 3]))
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices = 3 is not in \[0, 3\)"):
                sess.run(rows)


def test_names_follow_tf():
    with tf.Graph().as_default():
        x = tf.ones([2, 3])
        assert tf.nn.bias_add(x, [1.0, 2.0, 3.0]).op.name == "BiasAdd"
        assert tf.nn.leaky_relu(x).op.name == "LeakyRelu"
        assert tf.nn.crelu(x).op.name == "CRelu/Relu"
        assert tf.nn.l2_normalize(x, 1).op.name == "l2_normalize"
        assert tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=x).op.name == "logistic_loss"
        assert tf.nn.softmax_cross_entropy_with_logits_v2(x, x).op.name == "softmax_cross_entropy_with_logits"
        assert tf.nn.in_top_k(x, [0, 1], 1).op.name == "in_top_k/InTopKV2"
        assert tf.nn.fused_batch_norm(tf.ones([1, 1, 2, 3]), [1.0] * 3, [0.0] * 3)[0].op.type == "FusedBatchNormV3"
        mean, variance = tf.nn.moments(x, [0])
        assert (mean.op.name, variance.op.name) == ("moments/Squeeze", "moments/Squeeze_1")


def test_fused_batch_norm_half_input_uses_float_statistics():
    x = np.random.default_rng(0).normal(size=(2, 2, 2, 3)).astype(np.float16)
    with tf.Graph().as_default():
        y, mean, variance = tf.nn.fused_batch_norm(x, np.ones(3, np.float32), np.zeros(3, np.float32))
        assert (y.dtype, mean.dtype) == (tf.float16, tf.float32)
        y_value = tf.Session().run(y)
    x32 = x.astype(np.float32)
    expected = (x32 - x32.mean((0, 1, 2))) / np.sqrt(x32.var((0, 1, 2)) + 0.001)
    np.testing.assert_allclose(y_value.astype(np.float32), expected, atol=1e-2)
