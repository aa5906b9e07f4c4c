"""`tf.metrics` beyond the recorded values (test_metrics_fixtures.py): variable scopes and names,
collections, resetting, reading the value in the update's run, the portable backend, and bad
inputs with TensorFlow 2.21's error types and messages (recorded by hand from TF; the names in
messages are those TF gives the same graph)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import caudal as tf
from caudal.errors import InvalidArgumentError


def _local_names() -> list[str]:
    return [v.name for v in tf.local_variables()]


# ------------------------------------------------------------ structure
def test_scopes_names_and_unique_default_scopes_as_tf():
    with tf.Graph().as_default():
        labels, predictions = tf.constant([1, 0, 1]), tf.constant([1, 1, 1])
        first = tf.metrics.accuracy(labels, predictions)
        second = tf.metrics.accuracy(labels, predictions)
        named = tf.metrics.accuracy(labels, predictions, name="my_acc")
        with tf.variable_scope("eval"):
            scoped = tf.metrics.accuracy(labels, predictions)
            at_k = tf.metrics.precision_at_k(tf.constant([[1]], tf.int64), tf.constant([[0.1, 0.9]]), 1)
        with tf.name_scope("ns"):
            in_name_scope = tf.metrics.mean(tf.constant([1.0]))
        assert _local_names() == [
            "accuracy/total:0", "accuracy/count:0", "accuracy_1/total:0", "accuracy_1/count:0", "my_acc/total:0",
            "my_acc/count:0", "eval/accuracy/total:0", "eval/accuracy/count:0",
            "eval/precision_at_1/true_positive_at_1:0", "eval/precision_at_1/false_positive_at_1:0",
            "ns/mean/total:0", "ns/mean/count:0"]
        names = [t.name for pair in (first, second, named, scoped, at_k, in_name_scope) for t in pair]
        assert names == ["accuracy/value:0", "accuracy/update_op:0", "accuracy_1/value:0", "accuracy_1/update_op:0",
                         "my_acc/value:0", "my_acc/update_op:0", "eval/accuracy/value:0",
                         "eval/accuracy/update_op:0", "eval/precision_at_1:0", "eval/precision_at_1/update:0",
                         "ns/mean/value:0", "ns/mean/update_op:0"]


def test_accumulators_are_local_metric_variables_not_trainable_nor_global():
    with tf.Graph().as_default() as graph:
        tf.metrics.auc(tf.constant([True, False]), tf.constant([0.3, 0.8]), num_thresholds=4)
        local = tf.local_variables()
        assert [v.name for v in local] == ["auc/true_positives:0", "auc/false_negatives:0", "auc/true_negatives:0",
                                           "auc/false_positives:0"]
        assert graph.get_collection(tf.GraphKeys.METRIC_VARIABLES) == local
        assert tf.global_variables() == [] and tf.trainable_variables() == []
        assert all(v.dtype.name == "float32_ref" and v.shape.as_list() == [4] for v in local)


def test_local_variables_initializer_resets_the_metric():
    with tf.Graph().as_default(), tf.Session() as sess:
        values = tf.placeholder(tf.float32, [None])
        mean, update = tf.metrics.mean(values)
        sess.run(tf.local_variables_initializer())
        sess.run(update, {values: [1.0, 2.0]})
        assert sess.run(update, {values: [6.0]}) == pytest.approx(3.0)
        sess.run(tf.local_variables_initializer())
        assert sess.run(mean) == 0.0
        assert sess.run(update, {values: [5.0]}) == pytest.approx(5.0)


def test_reading_before_initialisation_names_the_accumulator():
    with tf.Graph().as_default(), tf.Session() as sess:
        value, _ = tf.metrics.accuracy(tf.constant([1]), tf.constant([1]))
        with pytest.raises(tf.errors.FailedPreconditionError, match="accuracy/(total|count)"):
            sess.run(value)


def test_value_fetched_with_the_update_reads_the_updated_accumulators():
    """TF runs the value's reads and the updates in no set order; caudal reads after the update."""
    with tf.Graph().as_default(), tf.Session() as sess:
        values = tf.placeholder(tf.float32, [None])
        mean, update = tf.metrics.mean(values)
        sess.run(tf.local_variables_initializer())
        got = sess.run([mean, update], {values: [1.0, 3.0]})
        assert got == [pytest.approx(2.0), pytest.approx(2.0)]
        labels = tf.placeholder(tf.bool, [None])
        scores = tf.placeholder(tf.float32, [None])
        pairs = [tf.metrics.true_positives(labels, scores), tf.metrics.precision(labels, scores),
                 tf.metrics.auc(labels, scores, num_thresholds=5),
                 tf.metrics.recall_at_thresholds(labels, scores, [0.5]), tf.metrics.mean_iou(labels, labels, 2),
                 tf.metrics.recall_at_k(tf.cast(labels, tf.int64), tf.stack([scores, 1 - scores], 1), 1)]
        sess.run(tf.local_variables_initializer())
        batches = [([True, False, True], [0.9, 0.6, 0.2]), ([False, True, True], [0.3, 0.8, 0.7])]
        for batch_labels, batch_scores in batches:
            together = sess.run(pairs, {labels: batch_labels, scores: batch_scores})
            alone = sess.run([value for value, _ in pairs])
            for (value_in_run, _), value_after in zip(together, alone):
                np.testing.assert_array_equal(value_in_run, value_after)


def test_metrics_and_updates_collections():
    with tf.Graph().as_default() as graph:
        value, update = tf.metrics.recall(tf.constant([True]), tf.constant([True]), metrics_collections=["m"],
                                          updates_collections=["u", "v"])
        assert graph.get_collection("m") == [value]
        assert graph.get_collection("u") == graph.get_collection("v") == [update]


def test_mean_iou_update_yields_the_confusion_matrix_reference():
    with tf.Graph().as_default(), tf.Session() as sess:
        value, update = tf.metrics.mean_iou(tf.constant([0, 1, 1]), tf.constant([0, 1, 0]), num_classes=2)
        assert update.dtype.name == "float64_ref" and update.shape.as_list() == [2, 2]
        sess.run(tf.local_variables_initializer())
        np.testing.assert_array_equal(sess.run(update), [[1.0, 0.0], [1.0, 1.0]])
        assert sess.run(value) == pytest.approx((1 / 2 + 1 / 2) / 2)


def test_metrics_run_on_the_portable_backend():
    config = tf.ConfigProto()
    config.experimental.executor_type = "portable"
    with tf.Graph().as_default(), tf.Session(config=config) as sess:
        labels = tf.constant([0, 1, 2, 2, 1], tf.int64)
        predictions = tf.constant([0, 2, 2, 1, 1], tf.int64)
        per_class, per_class_update = tf.metrics.mean_per_class_accuracy(labels, predictions, 3)
        iou, iou_update = tf.metrics.mean_iou(labels, predictions, 3)
        scores = tf.constant([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1]])
        ap, ap_update = tf.metrics.average_precision_at_k(tf.constant([[1], [2], [1]], tf.int64), scores, 2)
        sess.run(tf.local_variables_initializer())
        sess.run([per_class_update, iou_update, ap_update])
        assert sess.run(per_class) == pytest.approx((1.0 + 0.5 + 0.5) / 3)
        assert sess.run(iou) == pytest.approx((1.0 + 1 / 3 + 1 / 3) / 3)
        # ranks of the label among the top 2: 1, 1 (a tie goes to the lower class), 2.
        assert sess.run(ap) == pytest.approx((1.0 + 1.0 + 0.5) / 3)


def test_sparse_tensor_value_labels():
    """Labels may be any (indices, values, dense_shape) triple, as TF's SparseTensorValue."""
    from collections import namedtuple

    sparse = namedtuple("SparseValue", ["indices", "values", "dense_shape"])
    labels = sparse(np.array([[0, 0], [0, 1], [1, 0]], np.int64), np.array([2, 0, 1], np.int64),
                    np.array([2, 2], np.int64))
    with tf.Graph().as_default(), tf.Session() as sess:
        scores = tf.constant([[0.5, 0.1, 0.4], [0.3, 0.2, 0.5]])
        precision, update = tf.metrics.precision_at_k(labels, scores, k=2)
        sess.run(tf.local_variables_initializer())
        # row 0: top 2 = {0, 2}, labels {2, 0}: 2 hits; row 1: top 2 = {2, 0}, labels {1}: none.
        assert sess.run(update) == pytest.approx(2 / 4)
        assert sess.run(precision) == pytest.approx(2 / 4)


# ------------------------------------------------------------ bad inputs
def test_mismatched_labels_and_predictions():
    with tf.Graph().as_default():
        for metric in (tf.metrics.accuracy, tf.metrics.mean_squared_error, tf.metrics.precision,
                       tf.metrics.auc):
            with pytest.raises(ValueError, match=re.escape("Shapes (2,) and (3,) are incompatible")):
                metric(tf.constant([1, 0, 1]), tf.constant([1, 0]))
        with pytest.raises(ValueError, match=re.escape("Shapes (2,) and (3,) are incompatible")):
            tf.metrics.mean_iou(tf.constant([1, 0, 1]), tf.constant([1, 0]), 3)
        with pytest.raises(ValueError, match=re.escape("Shapes (2,) and (3,) are incompatible")):
            tf.metrics.mean_relative_error(tf.constant([1.0, 2.0]), tf.constant([1.0, 3.0]),
                                           tf.constant([1.0, 2.0, 3.0]))


def test_weights_not_broadcastable_at_build_time():
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=re.escape(
                "weights can not be broadcast to values. Mismatch at dim 1. values.shape=[2 3], "
                "weights.shape=[2 2]. Received weights=Tensor(\"mean/Cast_1:0\", shape=(2, 2), dtype=float32), "
                "values=Tensor(\"mean/Cast:0\", shape=(2, 3), dtype=float32)")):
            tf.metrics.mean(np.ones((2, 3)), np.ones((2, 2)))
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=re.escape(
                "weights can not be broadcast to values. values.rank=3. weights.rank=1. values.shape=(2, 3, 5). "
                "weights.shape=(2,).")):
            tf.metrics.mean(np.ones((2, 3, 5)), np.ones((2,)))
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=re.escape(
                "weights can not be broadcast to values. Mismatch at dim 0. values.shape=[2 3], "
                "weights.shape=[3 1].")):
            tf.metrics.accuracy(np.ones((2, 3)), np.ones((2, 3)), np.ones((3,)))
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=re.escape(
                "weights can not be broadcast to values. Mismatch at dim 0. values.shape=[2], weights.shape=[3].")):
            tf.metrics.true_positives_at_thresholds(tf.constant([1, 0]), tf.constant([0.5, 0.3]), [0.2, 0.4],
                                                    weights=tf.constant([1.0, 2.0, 3.0]))


def test_weights_not_broadcastable_at_run_time():
    with tf.Graph().as_default(), tf.Session() as sess:
        weights = tf.placeholder(tf.float32, None)
        _, update = tf.metrics.mean(np.ones((2, 3)), weights)
        sess.run(tf.local_variables_initializer())
        with pytest.raises(InvalidArgumentError, match=re.escape(
                "assertion failed: [weights can not be broadcast to values.] [weights.shape=] [mean/cond/Merge:0] "
                "[2 2] [values.shape=] [mean/Cast:0] [2 3] [is_scalar=] [0]")):
            sess.run(update, {weights: np.ones((2, 2))})
        assert sess.run(update, {weights: np.full((2, 1), 2.0)}) == pytest.approx(1.0)


def test_weights_of_top_k_metrics_are_checked_while_building():
    """TF's set sizes have no static shape, so TF fails when run; caudal knows the shapes."""
    scores = tf.constant([[0.5, 0.3], [0.1, 0.2]])
    with pytest.raises(ValueError, match=re.escape(
            "weights can not be broadcast to values. Mismatch at dim 0. values.shape=[2], weights.shape=[3].")):
        tf.metrics.precision_at_k(tf.constant([[1], [0]], tf.int64), scores, 1, weights=tf.constant([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=re.escape(
            "weights can not be broadcast to values. Mismatch at dim 0. values.shape=[2], weights.shape=[3].")):
        tf.metrics.average_precision_at_k(tf.constant([[1], [0]], tf.int64), scores, 1,
                                          weights=tf.constant([1.0, 2.0, 3.0]))


def test_count_weights_of_the_wrong_rank():
    with tf.Graph().as_default():
        weights = tf.constant([[[1.0]]])
        with pytest.raises(ValueError, match=re.escape(
                f"Tensor {weights.name} must have rank in (0, 1).  Received rank 3, shape (1, 1, 1)")):
            tf.metrics.true_positives(tf.constant([True]), tf.constant([True]), weights=weights)
    with tf.Graph().as_default(), tf.Session() as sess:
        weights = tf.placeholder(tf.float32, None)
        _, update = tf.metrics.true_positives(tf.constant([True, False]), tf.constant([True, True]), weights=weights)
        sess.run(tf.local_variables_initializer())
        with pytest.raises(InvalidArgumentError, match=re.escape(
                "assertion failed: [] [Tensor true_positives/cond/Merge:0 must have rank in] [0] [1] "
                "[Received shape: ] [1 1 2]")):
            sess.run(update, {weights: np.ones((1, 1, 2))})
        assert sess.run(update, {weights: np.array([3.0, 5.0])}) == 3.0


def test_auc_arguments():
    labels, predictions = tf.constant([1, 0]), tf.constant([0.5, 0.3])
    with pytest.raises(ValueError, match=re.escape("Curve must be either ROC or PR. Curve X is unknown.")):
        tf.metrics.auc(labels, predictions, curve="X")
    message = ("Invalid summation_method: X summation_method should be 'trapezoidal', 'careful_interpolation', "
               "'minoring', or 'majoring'.")
    for curve in ("ROC", "PR"):
        with pytest.raises(ValueError, match=re.escape(message)):
            tf.metrics.auc(labels, predictions, curve=curve, summation_method="X")


def test_auc_with_fewer_than_two_thresholds_builds_as_in_tf():
    """TF 2.21 accepts num_thresholds < 2 (no error) and sums over the two end thresholds; the values
    are checked against TF in test_metrics_fixtures.py (auc_one_threshold, auc_zero_thresholds)."""
    with tf.Graph().as_default(), tf.Session() as sess:
        value, update = tf.metrics.auc(tf.constant([True, False]), tf.constant([0.9, 0.2]), num_thresholds=1)
        assert [v.shape.as_list() for v in tf.local_variables()] == [[2]] * 4
        sess.run(tf.local_variables_initializer())
        assert sess.run(update) == 0.0


def test_predictions_outside_zero_one():
    with tf.Graph().as_default():
        with pytest.raises(InvalidArgumentError) as info:
            tf.metrics.auc(tf.constant([1, 0]), tf.constant([1.5, 0.3]))
        assert info.value.message == ("predictions must be in [0, 1]\nCondition x <= y did not hold element-wise:\n"
                                      "x (Const_1:0) = \n[1.5 0.3]\ny (auc/Cast_1/x:0) = \n1.0")
    with tf.Graph().as_default(), tf.Session() as sess:
        predictions = tf.placeholder(tf.float32, [2])
        _, update = tf.metrics.precision_at_thresholds(tf.constant([1, 0]), predictions, [0.5])
        sess.run(tf.local_variables_initializer())
        with pytest.raises(InvalidArgumentError, match=re.escape(
                "assertion failed: [predictions must be in [0, 1]] [Condition x >= y did not hold element-wise:] "
                "[x (Placeholder:0) = ] [-1.5 0.3] [y (precision_at_thresholds/Cast/x:0) = ] [0]")):
            sess.run(update, {predictions: [-1.5, 0.3]})


def test_mean_iou_and_mean_per_class_accuracy_need_num_classes():
    labels = tf.constant([1, 0])
    for metric in (tf.metrics.mean_iou, tf.metrics.mean_per_class_accuracy):
        with pytest.raises(TypeError, match=re.escape(
                f"{metric.__name__}() missing 1 required positional argument: 'num_classes'")):
            metric(labels, labels)
        with pytest.raises(TypeError, match=re.escape("Expected int32, but got None of type 'NoneType'.")):
            metric(labels, labels, None)


def test_class_ids_out_of_range():
    with tf.Graph().as_default():
        with pytest.raises(InvalidArgumentError) as info:
            tf.metrics.mean_iou(tf.constant([1, 5]), tf.constant([1, 0]), 3)
        assert info.value.message == ("`labels` out of bound\nCondition x < y did not hold element-wise:\n"
                                      "x (mean_iou/confusion_matrix/control_dependency:0) = \n[1 5]\n"
                                      "y (mean_iou/Cast_2:0) = \n3")
        with pytest.raises(InvalidArgumentError) as info:
            tf.metrics.mean_iou(tf.constant([1, -1]), tf.constant([1, 0]), 3)
        assert info.value.message == ("`labels` contains negative values.  \nCondition x >= 0 did not hold "
                                      "element-wise:\nx (mean_iou_1/Cast_1:0) = \n[ 1 -1]")
    with tf.Graph().as_default(), tf.Session() as sess:
        labels = tf.placeholder(tf.int32, [2])
        _, update = tf.metrics.mean_per_class_accuracy(labels, tf.constant([1, 0]), 3)
        sess.run(tf.local_variables_initializer())
        with pytest.raises(InvalidArgumentError, match=re.escape("indices[1] = 5 is not in [0, 3)")):
            sess.run(update, {labels: [1, 5]})


def test_rates_outside_zero_one():
    labels, predictions = tf.constant([1, 0]), tf.constant([0.5, 0.3])
    with pytest.raises(ValueError, match=re.escape(
            "`specificity` must be in the range [0, 1]. Currently, `specificity` got 1.5.")):
        tf.metrics.sensitivity_at_specificity(labels, predictions, 1.5)
    with pytest.raises(ValueError, match=re.escape(
            "`sensitivity` must be in the range [0, 1]. Currently, `sensitivity` is -0.5.")):
        tf.metrics.specificity_at_sensitivity(labels, predictions, -0.5)


def test_top_k_arguments():
    scores = tf.constant([[0.5, 0.3], [0.1, 0.2]])
    with pytest.raises(ValueError, match=re.escape("Invalid k=0. `k` should be >= 1.")):
        tf.metrics.average_precision_at_k(tf.constant([1, 0], tf.int64), scores, 0)
    with pytest.raises(TypeError, match=re.escape("Types don't match, <dtype: 'int64'> vs <dtype: 'int32'>.")):
        tf.metrics.precision_at_k(tf.constant([1, 0], tf.int32), scores, 1)
    with pytest.raises(ValueError, match=re.escape(
            "Unexpected labels shape (1, 1, 1) for predictions shape (2, 1). Predictions rank should be the same "
            "rank as labels rank or labels rank plus one .")):
        tf.metrics.precision_at_k(tf.constant([[[1]]], tf.int64), scores, 1)


def test_mean_tensor_needs_a_fully_known_shape():
    with pytest.raises(ValueError, match=re.escape("Cannot convert a partially known TensorShape (?, 2) to a Tensor.")):
        tf.metrics.mean_tensor(tf.placeholder(tf.float32, [None, 2]))
    with pytest.raises(ValueError, match=re.escape("Cannot convert a partially known TensorShape <unknown> to a "
                                                   "Tensor.")):
        tf.metrics.mean_tensor(tf.placeholder(tf.float32, None))


def test_the_namespace_holds_tf_compat_v1_metrics():
    """The names of TF 2.21's tf.compat.v1.metrics, all callable."""
    tf_names = ["accuracy", "auc", "average_precision_at_k", "false_negatives", "false_negatives_at_thresholds",
                "false_positives", "false_positives_at_thresholds", "mean", "mean_absolute_error",
                "mean_cosine_distance", "mean_iou", "mean_per_class_accuracy", "mean_relative_error",
                "mean_squared_error", "mean_tensor", "percentage_below", "precision", "precision_at_k",
                "precision_at_thresholds", "precision_at_top_k", "recall", "recall_at_k", "recall_at_thresholds",
                "recall_at_top_k", "root_mean_squared_error", "sensitivity_at_specificity",
                "sparse_average_precision_at_k", "sparse_precision_at_k", "specificity_at_sensitivity",
                "true_negatives", "true_negatives_at_thresholds", "true_positives", "true_positives_at_thresholds"]
    assert sorted(n for n in dir(tf.metrics) if not n.startswith("_")) == tf_names
    assert all(callable(getattr(tf.metrics, n)) for n in tf_names)
