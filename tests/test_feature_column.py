"""tf.feature_column as a whole: a TensorFlow checkpoint of a linear + DNN feature-column model
restores into the same caudal model and gives TF's outputs; `ckpt_to_load_from` initializes an
embedding from it; the namespaces hold TF's names; training moves the embedding rows that are
looked up and no others; parse_example feeds input_layer."""
from __future__ import annotations

import json

import numpy as np
import pytest

import caudal as tf
import caudal.feature_column as fc
from caudal.checkpoint.reader import load_variable
from caudal.ops.lookup_tables import tables_initializer
from tests.fixtures import feature_column_cases as cases

CHECKPOINT = json.loads((cases.FIXTURES / "checkpoint.json").read_text())


def test_a_tensorflow_checkpoint_restores_into_the_same_model():
    with tf.Graph().as_default():
        outputs, _ = cases.checkpoint_model(tf, fc)
        variables = sorted(tf.global_variables(), key=lambda v: v.name)
        assert [[v.name, v.shape.as_list()] for v in variables] == CHECKPOINT["variables"]
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tables_initializer())
            saver.restore(sess, str(cases.CHECKPOINT))
            got = sess.run(outputs)
    for g, w in zip(got, CHECKPOINT["outputs"], strict=True):
        np.testing.assert_allclose(g, np.asarray(w), rtol=1e-6, atol=1e-7)


def test_embedding_column_initializes_from_a_checkpoint():
    name = "dnn/input_layer/words_embedding/embedding_weights"
    with tf.Graph().as_default():
        words = fc.categorical_column_with_vocabulary_list("words", ["apple", "banana", "cherry"], num_oov_buckets=1)
        column = fc.embedding_column(words, 3, ckpt_to_load_from=str(cases.CHECKPOINT), tensor_name_in_ckpt=name)
        fc.input_layer({"words": tf.constant([["apple"]])}, [column])
        (variable,) = tf.global_variables()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            np.testing.assert_array_equal(sess.run(variable), load_variable(str(cases.CHECKPOINT), name))


# TF 2.21's tf.compat.v1.feature_column, without the sequence_* columns.
FEATURE_COLUMN_NAMES = [
    "bucketized_column", "categorical_column_with_hash_bucket", "categorical_column_with_identity",
    "categorical_column_with_vocabulary_file", "categorical_column_with_vocabulary_list", "crossed_column",
    "embedding_column", "indicator_column", "input_layer", "linear_model", "make_parse_example_spec",
    "numeric_column", "shared_embedding_columns", "weighted_categorical_column"]


def test_namespaces_hold_tensorflows_names():
    import caudal.contrib.lookup as contrib_lookup
    import caudal.lookup as lookup

    assert all(callable(getattr(fc, name)) for name in FEATURE_COLUMN_NAMES)
    assert sorted(lookup.__all__) == ["KeyValueTensorInitializer", "StaticHashTable", "StaticVocabularyTable",
                                      "TextFileIndex", "TextFileInitializer"]
    for name in ("HashTable", "index_table_from_file", "index_table_from_tensor", "index_to_string_table_from_file",
                 "index_to_string_table_from_tensor", "IdTableWithHashBuckets", "TextFileIdTableInitializer"):
        assert hasattr(contrib_lookup, name)
    for name in ("cross", "cross_hashed", "fill_empty_rows", "reshape", "retain", "segment_sum", "segment_mean",
                 "segment_sqrt_n"):
        assert callable(getattr(tf.sparse, name))
    assert callable(tf.strings.to_hash_bucket_fast) and callable(tf.strings.as_string)
    assert callable(tf.nn.embedding_lookup_sparse) and callable(tf.nn.safe_embedding_lookup_sparse)


def test_training_moves_only_the_embedding_rows_looked_up():
    with tf.Graph().as_default():
        words = fc.categorical_column_with_vocabulary_list("words", ["a", "b", "c", "d"])
        features = {"words": tf.constant([["a", "c"], ["c", ""]])}
        hidden = fc.input_layer(features, [fc.embedding_column(words, 2, combiner="sqrtn")])
        logits = fc.linear_model(features, [words])
        loss = tf.reduce_sum(tf.square(hidden - 1.0)) + tf.reduce_sum(tf.square(logits - 2.0))
        train = tf.train.GradientDescentOptimizer(0.1).minimize(loss)
        embedding, weights, bias = tf.global_variables()
        with tf.Session() as sess:
            sess.run([tf.global_variables_initializer(), tables_initializer()])
            before = sess.run([embedding, loss])
            for _ in range(5):
                sess.run(train)
            after = sess.run([embedding, weights, loss])
    np.testing.assert_array_equal(after[0][[1, 3]], before[0][[1, 3]])
    assert not np.allclose(after[0][[0, 2]], before[0][[0, 2]])
    assert after[1][[1, 3]].tolist() == [[0.0], [0.0]] and np.all(after[1][[0, 2]] > 0)
    assert after[2] < before[1]


def test_make_parse_example_spec_feeds_input_layer():
    columns = [fc.numeric_column("price", shape=(2,), default_value=[0.0, -1.0]),
               fc.indicator_column(fc.categorical_column_with_identity("ids", 3))]
    spec = fc.make_parse_example_spec(columns)
    assert spec == {"price": tf.FixedLenFeature((2,), tf.float32, (0.0, -1.0)), "ids": tf.VarLenFeature(tf.int64)}

    def example(price: list | None, ids: list) -> bytes:
        feature = {"ids": tf.train.Feature(int64_list=tf.train.Int64List(value=ids))}
        if price is not None:
            feature["price"] = tf.train.Feature(float_list=tf.train.FloatList(value=price))
        return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()

    with tf.Graph().as_default(), tf.Session() as sess:
        serialized = tf.placeholder(tf.string, [None])
        dense = fc.input_layer(tf.parse_example(serialized, spec), columns)
        got = sess.run(dense, {serialized: np.array([example([1.0, 2.0], [2, 2]), example(None, [0])], object)})
    np.testing.assert_array_equal(got, [[0.0, 0.0, 2.0, 1.0, 2.0], [1.0, 0.0, 0.0, 0.0, -1.0]])


def test_columns_are_values_and_keys():
    a = fc.numeric_column("a")
    assert a == fc.numeric_column("a") and hash(a) == hash(fc.numeric_column("a"))
    assert fc.embedding_column(fc.categorical_column_with_identity("x", 3), 2).variable_shape == tf.TensorShape([2])
    assert fc.bucketized_column(a, [0.0, 1.0]).num_buckets == 3
    cross = fc.crossed_column([fc.crossed_column(["b", "a"], 3), "c"], 10)
    assert cross.name == "a_X_b_X_c"
    assert sorted([fc.numeric_column("b"), a]) == [a, fc.numeric_column("b")]


def test_a_sparse_feature_of_unknown_rank_is_refused():
    with tf.Graph().as_default():
        words = tf.sparse.placeholder(tf.string)
        column = fc.indicator_column(fc.categorical_column_with_hash_bucket("w", 3))
        with pytest.raises(ValueError, match=r"Feature \(key: w\) is a SparseTensor of unknown rank"):
            fc.input_layer({"w": words}, [column])


def test_a_dense_feature_of_unknown_rank_is_checked_when_run():
    with tf.Graph().as_default(), tf.Session() as sess:
        price = tf.placeholder(tf.float32)
        dense = fc.input_layer({"price": price}, [fc.numeric_column("price")])
        assert sess.run(dense, {price: [1.0, 2.0]}).tolist() == [[1.0], [2.0]]
        assert sess.run(dense, {price: [[3.0]]}).tolist() == [[3.0]]
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Feature \(key: price\) cannot have rank 0"):
            sess.run(dense, {price: 5.0})


def test_default_initializers_are_tensorflows():
    from caudal.framework.constant_value import constant_value

    with tf.Graph().as_default() as graph:
        ids = fc.categorical_column_with_identity("w", 5)
        features = {"w": tf.constant([[1]], tf.int64)}
        fc.input_layer(features, [fc.embedding_column(ids, 4)])
        fc.linear_model(features, [ids])
        prefix = "input_layer/w_embedding/embedding_weights/Initializer/truncated_normal"
        assert graph.get_operation_by_name(prefix + "/TruncatedNormal").type == "TruncatedNormal"
        assert constant_value(graph.get_tensor_by_name(prefix + "/stddev:0")) == np.float32(0.5)
        assert constant_value(graph.get_tensor_by_name(prefix + "/mean:0")) == 0.0
        for name in ("linear_model/w/weights", "linear_model/bias_weights"):
            assert graph.get_operation_by_name(name + "/Initializer/zeros").type == "Const"
