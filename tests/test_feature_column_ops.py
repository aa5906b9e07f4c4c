"""The ops under tf.feature_column against TensorFlow 2.21's recorded values and messages
(tests/fixtures/make_feature_column_fixtures.py): farmhash Fingerprint64 buckets of strings of
every length, SparseCross hashes, SparseReshape, SparseFillEmptyRows, the sparse segment
reductions and their gradient ops, Bucketize, AsString, DivNoNan; and the lookup tables (Session
resources): vocabulary lists and files with out-of-vocabulary buckets and defaults, TF's file
reader, initialization and the rollback of a failed run."""
from __future__ import annotations

import json

import numpy as np
import pytest

import caudal as tf
from caudal.framework.graph import make_op
from caudal.ops import categorical_ops, lookup_tables, sparse_rows_ops, sparse_segment_ops
from caudal.ops._farmhash import fingerprint64
from caudal.ops.embedding_ops import embedding_lookup_sparse, safe_embedding_lookup_sparse
from tests.fixtures import feature_column_cases as cases

FIXTURES = cases.FIXTURES
HASHING = json.loads((FIXTURES / "hashing.json").read_text())
OPS = json.loads((FIXTURES / "ops.json").read_text())
TEXT_FILES = json.loads((FIXTURES / "text_files.json").read_text())
STRINGS = [bytes.fromhex(s) for s in HASHING["strings"]]


# ------------------------------------------------------------------ hashing
@pytest.mark.parametrize("buckets", sorted(HASHING["buckets"]))
def test_string_to_hash_bucket_fast_is_tensorflows(buckets: str) -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        strings = tf.constant(np.array(STRINGS, dtype=object))
        got = sess.run(categorical_ops.string_to_hash_bucket_fast(strings, int(buckets)))
    assert got.dtype == np.int64
    assert got.tolist() == HASHING["buckets"][buckets]


def test_fingerprint64_of_every_length_is_farmhash() -> None:
    modulus = 2 ** 63 - 1
    assert [fingerprint64(s) % modulus for s in STRINGS] == HASHING["buckets"][str(modulus)]


def test_integers_hash_as_their_text() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        text = categorical_ops.as_string(tf.constant(np.array(HASHING["ints"], np.int64)))
        assert sess.run(categorical_ops.string_to_hash_bucket_fast(text, 97)).tolist() == HASHING["int_buckets_97"]


def _cross_inputs() -> list:
    sp_strings = tf.SparseTensor([[0, 0], [1, 0], [1, 1], [3, 0]], np.array([b"a", b"b", b"c", b"d"], object), [4, 2])
    sp_ints = tf.SparseTensor([[0, 0], [1, 0], [1, 1], [1, 2], [2, 0], [3, 1]],
                              tf.constant([3, -4, 5, 7, 9, 2 ** 40], tf.int64), [4, 3])
    dense = tf.constant(np.array([[b"f"], [b"g"], [b"h"], [b""]], object))
    dense_ints = tf.constant([[1, 2], [3, 4], [5, 6], [7, 8]], tf.int32)
    return [dense, sp_strings, sp_ints, dense_ints]


@pytest.mark.parametrize("index", range(len(HASHING["crosses"])))
def test_sparse_cross_hashed_is_tensorflows(index: int) -> None:
    want = HASHING["crosses"][index]
    with tf.Graph().as_default(), tf.Session() as sess:
        result = sess.run(categorical_ops.sparse_cross_hashed(_cross_inputs(), num_buckets=want["num_buckets"],
                                                              hash_key=want["hash_key"]))
    assert result.indices.tolist() == want["indices"]
    assert result.values.tolist() == want["values"]
    assert result.dense_shape.tolist() == want["dense_shape"]


def test_sparse_cross_of_strings() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        result = sess.run(categorical_ops.sparse_cross([
            tf.SparseTensor([[0, 0], [1, 0], [1, 1]], np.array([b"a", b"b", b"c"], object), [2, 2]),
            tf.constant(np.array([[b"d"], [b"e"]], object)),
            tf.SparseTensor([[0, 0], [1, 0]], tf.constant([4, 5], tf.int64), [2, 1])]))
    assert result.indices.tolist() == HASHING["string_cross"]["indices"]
    assert [v.decode() for v in result.values] == HASHING["string_cross"]["values"]


# ---------------------------------------------------------------- op values
def _i64(value: object) -> tf.Tensor:
    return tf.constant(value, tf.int64)


def _fill(indices: object, values: tf.Tensor, shape: object, default: tf.Tensor) -> dict:
    names = ["output_indices", "output_values", "empty_row_indicator", "reverse_index_map"]
    op = make_op("SparseFillEmptyRows", [_i64(indices), values, _i64(shape), default], {"T": values.dtype})
    return dict(zip(names, op.outputs))


def _fill_grad(reverse: object, grads: list) -> dict:
    op = make_op("SparseFillEmptyRowsGrad", [_i64(reverse), tf.constant(grads)], {"T": tf.float32})
    return dict(zip(["d_values", "d_default_value"], op.outputs))


def _reshape(indices: object, shape: object, new_shape: object) -> dict:
    indices_t = tf.zeros([0, 2], tf.int64) if indices == [] else _i64(indices)
    op = make_op("SparseReshape", [indices_t, _i64(shape), _i64(new_shape)], {})
    return dict(zip(["output_indices", "output_shape"], op.outputs))


DATA = np.arange(12, dtype=np.float32).reshape(4, 3) * 0.5 - 1.0
GRAD = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32)


def _segment_grad(kind: str, grad: np.ndarray, indices: list, ids: list) -> tf.Tensor:
    return sparse_segment_ops._grad_op(kind, tf.constant(grad), tf.constant(indices), tf.constant(ids),
                                       tf.constant(4))


def _table(keys: list, num_oov: int = 0, dtype: object = tf.string, **kwargs: object):
    def build() -> list:
        vocabulary = ["apple", "banana", "cherry"] if dtype == tf.string else _i64([5, 7, -3])
        table = lookup_tables.index_table_from_tensor(vocabulary, num_oov_buckets=num_oov, dtype=dtype, **kwargs)
        init = lookup_tables.tables_initializer()
        with tf.control_dependencies([init]):
            return [table.lookup(tf.identity(tf.constant(keys, dtype=dtype))), table.size()]
    return build


def _file_table(keys: list, **kwargs: object):
    def build() -> list:
        table = lookup_tables.index_table_from_file(str(cases.VOCAB_STRINGS), **kwargs)
        init = lookup_tables.tables_initializer()
        with tf.control_dependencies([init]):
            return [table.lookup(tf.identity(tf.constant(keys))), table.size()]
    return build


def _as_strings() -> list:
    as_string = categorical_ops.as_string
    return [as_string(_i64([1, -20, 3])), as_string(tf.constant([1.5, -2.25, 1e10])),
            as_string(tf.constant([True, False])), as_string(tf.constant([3.14159, 2.0]), precision=2),
            as_string(tf.constant([7, 42]), width=4, fill="0"), as_string(tf.constant([1234.5]), scientific=True),
            as_string(tf.constant([0.0001, 123456789.0]), shortest=True)]


BUILDERS = {
    "fill_empty_rows": lambda: _fill([[1, 0], [1, 2], [3, 1]], tf.constant([1.0, 2.0, 3.0]), [5, 4],
                                     tf.constant(-1.0)),
    "fill_empty_rows_unsorted": lambda: _fill([[3, 0], [1, 2], [1, 1]], tf.constant([1, 2, 3]), [5, 4],
                                              tf.constant(9)),
    "fill_empty_rows_out_of_range": lambda: _fill([[6, 0]], tf.constant([1.0]), [5, 4], tf.constant(-1.0)),
    "fill_empty_rows_negative": lambda: _fill([[-1, 0]], tf.constant([1.0]), [5, 4], tf.constant(-1.0)),
    "fill_empty_rows_grad": lambda: _fill_grad([1, 3, 4], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    "fill_empty_rows_grad_out_of_range": lambda: _fill_grad([1, 7], [1.0, 2.0, 3.0]),
    "reshape": lambda: _reshape([[0, 1], [1, 2]], [2, 3], [3, -1]),
    "reshape_rank3": lambda: _reshape([[0, 1, 1], [1, 2, 0]], [2, 3, 2], [-1, 2]),
    "reshape_empty": lambda: _reshape([], [0, 3], [2, -1]),
    "reshape_two_unknown": lambda: _reshape([[0, 0]], [2, 3], [-1, -1]),
    "reshape_size": lambda: _reshape([[0, 0]], [2, 3], [4, 2]),
    "reshape_multiple": lambda: _reshape([[0, 0]], [2, 3], [4, -1]),
    "reshape_negative": lambda: _reshape([[0, 0]], [2, 3], [-2, 3]),
    "segment_sum": lambda: sparse_segment_ops.sparse_segment_sum(DATA, [0, 2, 1, 3, 3], [0, 0, 2, 2, 3]),
    "segment_mean": lambda: sparse_segment_ops.sparse_segment_mean(DATA, [0, 2, 1, 3, 3], [0, 0, 2, 2, 3]),
    "segment_sqrtn": lambda: sparse_segment_ops.sparse_segment_sqrt_n(DATA, [0, 2, 1, 3, 3], [0, 0, 2, 2, 3]),
    "segment_sum_int64": lambda: sparse_segment_ops.sparse_segment_sum(DATA, _i64([1, 1]), _i64([1, 4])),
    "segment_not_increasing": lambda: sparse_segment_ops.sparse_segment_sum(DATA, [0, 2, 1], [1, 0, 2]),
    "segment_index_out_of_range": lambda: sparse_segment_ops.sparse_segment_sum(DATA, [0, 5, 1], [0, 0, 2]),
    "segment_negative_id": lambda: sparse_segment_ops.sparse_segment_mean(DATA, [0, 1], [-1, 0]),
    "segment_sum_grad": lambda: _segment_grad("sum", GRAD, [0, 2, 0], [0, 0, 2]),
    "segment_mean_grad": lambda: _segment_grad("mean", GRAD, [0, 2, 0], [0, 0, 2]),
    "segment_sqrtn_grad": lambda: _segment_grad("sqrtn", GRAD, [0, 2, 0], [0, 0, 2]),
    "segment_grad_index": lambda: _segment_grad("sum", GRAD[:2], [0, 9], [0, 1]),
    "segment_grad_segments": lambda: _segment_grad("mean", GRAD[:2], [0, 1], [0, 5]),
    "bucketize": lambda: categorical_ops.bucketize(tf.constant([[-1.0, 0.0, 0.5, 10.0, 100.0, 1e9]]),
                                                   [0.0, 10.0, 100.0]),
    "bucketize_int": lambda: categorical_ops.bucketize(_i64([[-1, 0, 5, 10, 100]]), [0.0, 10.0, 100.5]),
    "bucketize_double": lambda: categorical_ops.bucketize(tf.constant([0.1, 0.30000001], tf.float64), [0.1, 0.3]),
    "bucketize_unsorted": lambda: categorical_ops.bucketize(tf.constant([1.0]), [2.0, 1.0]),
    "as_string": _as_strings,
    "as_string_fill": lambda: categorical_ops.as_string(tf.constant([1]), fill="ab"),
    "as_string_notation": lambda: categorical_ops.as_string(tf.constant([1.0]), scientific=True, shortest=True),
    "div_no_nan": lambda: sparse_segment_ops.div_no_nan(tf.constant([1.0, 2.0, 0.0, -3.0]),
                                                        tf.constant([0.0, 4.0, 0.0, 2.0])),
    "table_list": _table(["apple", "kiwi", "cherry", ""]),
    "table_list_oov": _table(["apple", "kiwi", "cherry", "zz", ""], num_oov=3),
    "table_list_default": _table(["banana", "kiwi"], default_value=7),
    "table_ints_oov": _table([7, 8, -3, 100], num_oov=4, dtype=tf.int64),
    "table_file": _file_table(["mango", "kiwi", "apple"]),
    "table_file_oov": _file_table(["mango", "kiwi", "apple", "pear"], num_oov_buckets=2),
    "table_file_vocab_size": _file_table(["mango", "cherry"], vocab_size=3),
    "table_file_too_short": _file_table(["mango"], vocab_size=9),
    "table_uninitialized": lambda: lookup_tables.index_table_from_tensor(["a"]).lookup(tf.constant(["a"])),
}


def _plain(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    array = np.asarray(value)
    return _plain(array.tolist()) if array.dtype == object else array.tolist()


def _run(build: object, path_to_hide: str, hidden_as: str) -> object:
    with tf.Graph().as_default(), tf.Session() as sess:
        try:
            result = sess.run(build())
        except tf.errors.OpError as e:
            return {"error": [type(e).__name__, e.message.split("\n\t [[")[0].replace(path_to_hide, hidden_as)]}
    if isinstance(result, dict):
        return {k: _plain(v) for k, v in result.items()}
    return _plain(result)


def test_every_recorded_op_case_is_built() -> None:
    assert sorted(BUILDERS) == sorted(k for k in OPS if k not in ("build_errors", "run_errors"))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_op_matches_tensorflow(name: str) -> None:
    got, want = _run(BUILDERS[name], str(FIXTURES), "<fixtures>"), OPS[name]
    if isinstance(want, dict) and "error" in want:
        assert got == want
        return
    _assert_matches(got, want, name)


def _assert_matches(got: object, want: object, where: str) -> None:
    """Equal structure; floats within float32 rounding, everything else exactly."""
    if isinstance(want, dict):
        assert sorted(got) == sorted(want), where
        for key in want:
            _assert_matches(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for g, w in zip(got, want):
            _assert_matches(g, w, where)
    elif isinstance(want, float):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=where)
    else:
        assert got == want, where


def _sparse() -> tf.SparseTensor:
    return tf.SparseTensor([[0, 0]], [1.0], [2, 3])


def _sparse_ids() -> tf.SparseTensor:
    return tf.SparseTensor([[0, 0]], tf.constant([1], tf.int64), [1, 1])


def _key_value(value_dtype: object = tf.int64) -> lookup_tables.KeyValueTensorInitializer:
    return lookup_tables.KeyValueTensorInitializer(["a"], tf.constant([1], value_dtype))


_tables = lookup_tables
BUILD_ERRORS = {
    "hash_num_buckets_zero": lambda: categorical_ops.string_to_hash_bucket_fast(["a"], 0),
    "sparse_reshape_static": lambda: sparse_rows_ops.sparse_reshape(_sparse(), [4, 2]),
    "sparse_reshape_two_unknown": lambda: sparse_rows_ops.sparse_reshape(_sparse(), [-1, -1]),
    "segment_length_mismatch": lambda: sparse_segment_ops.sparse_segment_sum(tf.ones([4, 3]), [0, 1], [0, 0, 1]),
    "table_key_dtype": lambda: _tables.index_table_from_tensor(["a"]).lookup(tf.constant([1], tf.int64)),
    "lookup_sparse_combiner": lambda: embedding_lookup_sparse(tf.ones([3, 2]), _sparse_ids(), None, combiner="max"),
    "lookup_sparse_weights": lambda: embedding_lookup_sparse(tf.ones([3, 2]), _sparse_ids(), tf.constant([1.0])),
    "safe_lookup_none": lambda: safe_embedding_lookup_sparse(None, _sparse_ids()),
    "safe_lookup_empty": lambda: safe_embedding_lookup_sparse([], _sparse_ids()),
    "vocab_table_dtype": lambda: _tables.index_table_from_tensor(["a"], dtype=tf.int64),
    "table_oov_negative": lambda: _tables.index_table_from_tensor(["a"], num_oov_buckets=-1),
    "text_file_key_index": lambda: _tables.TextFileInitializer("v.txt", tf.string, -3, tf.int64, -1),
    "text_file_vocab_size": lambda: _tables.TextFileInitializer("v.txt", tf.string, -2, tf.int64, -1, vocab_size=0),
    "text_file_filename": lambda: _tables.TextFileInitializer("", tf.string, -2, tf.int64, -1),
    "text_file_key_line_number": lambda: _tables.TextFileInitializer("v", tf.string, -1, tf.int64, -1),
    "text_file_key_whole_line": lambda: _tables.TextFileInitializer("v", tf.float32, -2, tf.int64, -1),
    "text_file_value_index": lambda: _tables.TextFileInitializer("v", tf.string, -2, tf.int64, -3),
    "text_file_value_line_number": lambda: _tables.TextFileInitializer("v", tf.string, -2, tf.int32, -1),
    "text_file_value_whole_line": lambda: _tables.TextFileInitializer("v", tf.string, 0, tf.float32, -2),
    "file_table_none": lambda: _tables.index_table_from_file(None),
    "file_table_oov": lambda: _tables.index_table_from_file("v", num_oov_buckets=-1),
    "file_table_vocab_size": lambda: _tables.index_table_from_file("v", vocab_size=0),
    "file_table_key_dtype": lambda: _tables.index_table_from_file("v", key_dtype=tf.float32),
    "list_table_none": lambda: _tables.index_table_from_tensor(None),
    "list_table_dtype": lambda: _tables.index_table_from_tensor(["a"], dtype=tf.float32),
    "list_table_ints_as_strings": lambda: _tables.index_table_from_tensor([1, 2]),
    "to_string_none": lambda: _tables.index_to_string_table_from_tensor(None),
    "to_string_file_empty": lambda: _tables.index_to_string_table_from_file(""),
    "to_string_file_vocab_size": lambda: _tables.index_to_string_table_from_file("v", vocab_size=0),
    "hash_table_default_shape": lambda: _tables.StaticHashTable(_key_value(), [1, 2]),
    "vocabulary_table_no_buckets": lambda: _tables.StaticVocabularyTable(_key_value(), 0),
    "vocabulary_table_value_dtype": lambda: _tables.StaticVocabularyTable(_key_value(tf.int32), 2),
    "buckets_without_table": lambda: _tables.IdTableWithHashBuckets(None, 0),
    "buckets_key_dtype": lambda: _tables.IdTableWithHashBuckets(None, 2, key_dtype=tf.float32),
    "buckets_hasher": lambda: _tables.IdTableWithHashBuckets(None, 2, hasher_spec="x"),
    "buckets_value_dtype": lambda: _tables.IdTableWithHashBuckets(_tables.StaticHashTable(_key_value(tf.int32), -1),
                                                                  2),
    "buckets_lookup_dtype": lambda: _tables.IdTableWithHashBuckets(None, 2).lookup(tf.constant([1])),
    "initializer_key_dtype": lambda: _tables.KeyValueTensorInitializer(
        tf.constant([1], tf.int64), tf.constant([1], tf.int64)).initialize(_tables.StaticHashTable(_key_value(), -1)),
    "initializer_value_dtype": lambda: _tables.KeyValueTensorInitializer(["a"], tf.constant([1.0])).initialize(
        _tables.StaticHashTable(_key_value(), -1)),
    "bucketize_not_list": lambda: categorical_ops.bucketize(tf.constant([1.0]), boundaries=3.0),
    "cross_not_list": lambda: categorical_ops.sparse_cross_hashed(tf.constant([[1]])),
    "cross_not_tensor": lambda: categorical_ops.sparse_cross_hashed([tf.constant([[1]]), 3]),
    "retain_rank": lambda: sparse_rows_ops.sparse_retain(_sparse(), [[True]]),
    "retain_length": lambda: sparse_rows_ops.sparse_retain(_sparse(), [True, False]),
}
# TF's messages end with what caudal cannot say the same way: its NodeDef, its own Tensor class.
_PREFIX_UNTIL = {"segment_length_mismatch": " for '", "lookup_sparse_weights": "got <class"}


@pytest.mark.parametrize("name", sorted(BUILD_ERRORS))
def test_bad_arguments_raise_tensorflows_error(name: str) -> None:
    kind, message = OPS["build_errors"][name]
    with tf.Graph().as_default():
        with pytest.raises(Exception) as raised:
            BUILD_ERRORS[name]()
    assert type(raised.value).__name__ == kind
    if name in _PREFIX_UNTIL:
        message = message.split(_PREFIX_UNTIL[name])[0]
        assert str(raised.value).startswith(message)
    else:
        assert str(raised.value) == message


def test_every_recorded_build_error_is_checked() -> None:
    assert sorted(BUILD_ERRORS) == sorted(OPS["build_errors"])


def _fed(types: list, make: object):
    def build() -> tuple:
        placeholders = [tf.placeholder(t) for t in types]
        return placeholders, make(*placeholders)
    return build


def _fill_op(*inputs: tf.Tensor) -> list:
    return make_op("SparseFillEmptyRows", list(inputs), {"T": tf.float32}).outputs


def _find_with_default() -> tuple:
    table = lookup_tables.StaticHashTable(_key_value(), -1)
    default = tf.placeholder(tf.int64)
    found = make_op("LookupTableFindV2", [table.resource_handle, tf.constant(["a"]), default],
                    {"Tin": tf.string, "Tout": tf.int64}).outputs[0]
    return [default], found


def _import_shapes() -> tuple:
    keys = tf.placeholder_with_default(["a", "b"], [None])
    values = tf.placeholder_with_default(tf.constant([1, 2, 3], tf.int64), [None])
    table = lookup_tables.StaticHashTable(lookup_tables.KeyValueTensorInitializer(keys, values), -1)
    return [], table.lookup(tf.constant(["a"]))


_FILL = _fed([tf.int64, tf.float32, tf.int64, tf.float32], _fill_op)
_FILL_GRAD = _fed([tf.int64, tf.float32], lambda r, g: make_op("SparseFillEmptyRowsGrad", [r, g],
                                                                {"T": tf.float32}).outputs)
_RESHAPE = _fed([tf.int64, tf.int64, tf.int64], lambda i, s, n: make_op("SparseReshape", [i, s, n], {}).outputs)
_SEGMENT = _fed([tf.float32, tf.int32, tf.int32], sparse_segment_ops.sparse_segment_sum)
_CROSS = _fed([tf.int64, tf.string, tf.int64, tf.string],
              lambda i, v, s, d: categorical_ops.sparse_cross_hashed([tf.SparseTensor(i, v, s), d], 10))
_Z = np.zeros
RUN_ERRORS = {
    "fill_shape_not_vector": (_FILL, [_Z((1, 2), np.int64), [1.0], [[5, 4]], -1.0]),
    "fill_indices_not_matrix": (_FILL, [_Z((2,), np.int64), [1.0, 2.0], [5, 4], -1.0]),
    "fill_values_not_vector": (_FILL, [_Z((1, 2), np.int64), [[1.0]], [5, 4], -1.0]),
    "fill_default_not_scalar": (_FILL, [_Z((1, 2), np.int64), [1.0], [5, 4], [-1.0]]),
    "fill_lengths": (_FILL, [_Z((2, 2), np.int64), [1.0], [5, 4], -1.0]),
    "fill_empty_dense_shape": (_FILL, [_Z((0, 0), np.int64), _Z(0, np.float32), _Z(0, np.int64), -1.0]),
    "fill_zero_rows": (_FILL, [_Z((1, 2), np.int64), [1.0], [0, 4], -1.0]),
    "fill_grad_reverse_not_vector": (_FILL_GRAD, [[[1]], [1.0, 2.0]]),
    "fill_grad_values_not_vector": (_FILL_GRAD, [[1], [[1.0, 2.0]]]),
    "reshape_indices_not_matrix": (_RESHAPE, [[0, 1], [2, 3], [6]]),
    "reshape_shape_not_vector": (_RESHAPE, [[[0, 1]], [[2, 3]], [6]]),
    "reshape_target_not_vector": (_RESHAPE, [[[0, 1]], [2, 3], [[6]]]),
    "reshape_rank_mismatch": (_RESHAPE, [[[0, 1, 0]], [2, 3], [6]]),
    "segment_lengths": (_SEGMENT, [np.ones((3, 2), np.float32), [0, 1], [0, 0, 1]]),
    "segment_negative_last_id": (_SEGMENT, [np.ones((3, 2), np.float32), [0], [-2]]),
    "cross_batch": (_CROSS, [[[0, 0], [1, 0]], ["a", "b"], [2, 1], [["x"], ["y"], ["z"]]]),
    "cross_dense_rank": (_CROSS, [[[0, 0], [1, 0]], ["a", "b"], [2, 1], ["x", "y"]]),
    "cross_indices_width": (_CROSS, [[[0, 0, 0], [1, 0, 0]], ["a", "b"], [2, 1], [["x"], ["y"]]]),
    "cross_values_length": (_CROSS, [[[0, 0], [1, 0]], ["a"], [2, 1], [["x"], ["y"]]]),
    "find_default_shape": (_find_with_default, [[1, 2]]),
    "import_shapes": (_import_shapes, []),
}


@pytest.mark.parametrize("name", sorted(RUN_ERRORS))
def test_bad_values_fail_when_run_as_in_tensorflow(name: str) -> None:
    build, feed = RUN_ERRORS[name]
    kind, message = OPS["run_errors"][name]
    with tf.Graph().as_default(), tf.Session() as sess:
        placeholders, output = build()
        init = lookup_tables.tables_initializer()
        with pytest.raises(tf.errors.OpError) as raised:
            sess.run(init)
            sess.run(output, dict(zip(placeholders, feed)))
    assert type(raised.value).__name__ == kind
    assert raised.value.message.split("\n\t [[")[0] == message


def test_every_recorded_run_error_is_checked() -> None:
    assert sorted(RUN_ERRORS) == sorted(OPS["run_errors"])


def test_a_default_per_key() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        table = lookup_tables.StaticHashTable(_key_value(), -1)
        found = make_op("LookupTableFindV2", [table.resource_handle, tf.constant(["a", "b"]), _i64([7, 8])],
                        {"Tin": tf.string, "Tout": tf.int64}).outputs[0]
        sess.run(table.initializer)
        assert sess.run(found).tolist() == [1, 8]


# ---------------------------------------------------------------- text files
@pytest.mark.parametrize("name", sorted(cases.TEXT_FILE_CASES))
def test_table_from_text_file_matches_tensorflow(name: str, tmp_path) -> None:
    content, make_table, keys, key_dtype = cases.TEXT_FILE_CASES[name]
    path = tmp_path / f"{name}.txt"
    path.write_bytes(content)
    dtype = getattr(tf, key_dtype)

    def build() -> list:
        table = make_table(lookup_tables, tf, str(path))
        init = lookup_tables.tables_initializer()
        with tf.control_dependencies([init]):
            return [table.lookup(tf.identity(tf.constant(keys, dtype=dtype))), table.size()]

    assert _run(build, str(tmp_path), "<tmp>") == TEXT_FILES[name]


def test_a_missing_vocabulary_file_is_not_found(tmp_path) -> None:
    missing = tmp_path / "missing.txt"

    def build() -> list:
        return [lookup_tables.index_table_from_file(str(missing)).lookup(tf.constant(["a"])),
                lookup_tables.tables_initializer()]

    assert _run(build, str(tmp_path), "<tmp>") == TEXT_FILES["missing_file"]


# ------------------------------------------------------- tables as resources
def _kv_table(keys: list, values: list) -> lookup_tables.StaticHashTable:
    init = lookup_tables.KeyValueTensorInitializer(keys, tf.constant(values, tf.int64))
    return lookup_tables.StaticHashTable(init, -1)


def test_tables_initializer_groups_the_initializers_and_is_a_noop_without_tables() -> None:
    with tf.Graph().as_default() as graph:
        assert lookup_tables.tables_initializer().type == "NoOp"
        table = _kv_table(["a", "b"], [1, 2])
        init = lookup_tables.tables_initializer()
        assert init.name == "init_all_tables_1"
        assert graph.get_collection(tf.GraphKeys.TABLE_INITIALIZERS) == [table.initializer]
        assert table.resource_handle.op.type == "HashTableV2"
        assert table.lookup(tf.constant(["a"])).op.name == "hash_table_Lookup/LookupTableFindV2"
        with tf.Session() as sess:
            sess.run(init)
            assert sess.run(table.lookup(tf.constant(["b", "c"]))).tolist() == [2, -1]


def test_initializing_again_keeps_the_table_unless_the_size_differs() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        table = _kv_table(["a", "b"], [1, 2])
        same_size = lookup_tables.KeyValueTensorInitializer(["a", "c"], tf.constant([1, 3], tf.int64)).initialize(
            table)
        other_size = lookup_tables.KeyValueTensorInitializer(["a"], tf.constant([1], tf.int64)).initialize(table)
        sess.run(table.initializer)
        sess.run(table.initializer)
        sess.run(same_size)
        with pytest.raises(tf.errors.FailedPreconditionError, match="Table was already initialized with different"):
            sess.run(other_size)
        assert sess.run(table.lookup(tf.constant(["a", "b", "c"]))).tolist() == [1, 2, -1]


def test_a_failed_run_leaves_the_table_uninitialized_and_sessions_share_nothing() -> None:
    with tf.Graph().as_default():
        table = _kv_table(["a", "b"], [1, 2])
        found = table.lookup(tf.constant(["b"]))
        failing = tf.Assert(tf.constant(False), ["stop"])
        with tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError):
                sess.run([table.initializer, failing])
            with pytest.raises(tf.errors.FailedPreconditionError, match="Table not initialized."):
                sess.run(found)
            sess.run(table.initializer)
            assert sess.run([found, table.size()])[0].tolist() == [2]
        with tf.Session() as other:
            assert other.run(table.size()) == 0
            with pytest.raises(tf.errors.FailedPreconditionError, match="Table not initialized."):
                other.run(found)


def test_a_table_lookup_keeps_a_sparse_tensors_indices() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        table = lookup_tables.index_table_from_tensor(["x", "y"], num_oov_buckets=1)
        ids = table.lookup(tf.SparseTensor([[0, 1], [2, 0]], np.array([b"y", b"q"], object), [3, 2]))
        sess.run(lookup_tables.tables_initializer())
        value = sess.run(ids)
    assert value.indices.tolist() == [[0, 1], [2, 0]] and value.values.tolist() == [1, 2]
    assert value.dense_shape.tolist() == [3, 2]


def test_static_vocabulary_and_hash_bucket_tables() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        init = lookup_tables.KeyValueTensorInitializer(["a", "b"], tf.constant([0, 1], tf.int64))
        vocabulary = lookup_tables.StaticVocabularyTable(init, 3)
        buckets_only = lookup_tables.IdTableWithHashBuckets(None, 5)
        to_string = lookup_tables.index_to_string_table_from_tensor(["a", "b"], default_value="UNK")
        sess.run(lookup_tables.tables_initializer())
        keys = tf.constant(["a", "zz", "b"])
        assert sess.run(vocabulary.lookup(keys)).tolist() == [0, 2 + fingerprint64(b"zz") % 3, 1]
        assert sess.run(vocabulary.size()) == 5
        assert sess.run(buckets_only.lookup(keys)).tolist() == [fingerprint64(s) % 5 for s in (b"a", b"zz", b"b")]
        assert sess.run(to_string.lookup(tf.constant([1, 7], tf.int64))).tolist() == [b"b", b"UNK"]


def test_tables_survive_a_graph_def_round_trip() -> None:
    with tf.Graph().as_default() as graph:
        table = lookup_tables.index_table_from_tensor(["x", "y"], num_oov_buckets=2)
        ids = table.lookup(tf.constant(["y", "w"]), name="ids")
        lookup_tables.tables_initializer()
        graph_def = graph.as_graph_def()
    with tf.Graph().as_default() as copy, tf.Session() as sess:
        tf.import_graph_def(graph_def, name="")
        sess.run(copy.get_operation_by_name("init_all_tables"))
        assert sess.run(copy.get_tensor_by_name(ids.name)).tolist() == [1, 2 + fingerprint64(b"w") % 2]


def test_ones_and_zeros_of_bool_hold_true_and_false() -> None:
    # safe_embedding_lookup_sparse keeps entries with ones_like(weights, dtype=bool), as TF does.
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float32, [None])
        got = sess.run([tf.ones_like(x, dtype=tf.bool), tf.zeros(tf.shape(x), tf.bool), tf.ones([2], tf.bool)],
                       {x: [1.0, 2.0, 3.0]})
    assert [g.tolist() for g in got] == [[True] * 3, [False] * 3, [True, True]]
