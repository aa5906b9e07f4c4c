"""Runs every record of every `records_*.py` module in this folder (see record.py)."""
from __future__ import annotations

import importlib
import pathlib

import numpy as np
import pytest

import caudal as tf
from caudal.framework.registry import registered_op_types
from tests.ops.record import OpRecord


def _load_records() -> tuple[list[OpRecord], dict[str, str]]:
    """Every module's RECORDS, and its COVERED_ELSEWHERE: {op type: the test that checks it}."""
    records: list[OpRecord] = []
    elsewhere: dict[str, str] = {}
    for path in sorted(pathlib.Path(__file__).parent.glob("records_*.py")):
        module = importlib.import_module(f"tests.ops.{path.stem}")
        records.extend(module.RECORDS)
        elsewhere.update(getattr(module, "COVERED_ELSEWHERE", {}))
    return records, elsewhere


RECORDS, MODULE_COVERED_ELSEWHERE = _load_records()
IDS = [r.id for r in RECORDS]
assert len(set(IDS)) == len(IDS), "record ids must be unique"


def _reference(record: OpRecord, arrays: list[np.ndarray]) -> list[np.ndarray]:
    result = record.ref(*arrays)
    return [np.asarray(r) for r in result] if isinstance(result, (list, tuple)) else [np.asarray(result)]


def _outputs(result: object) -> list[tf.Tensor]:
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _check_values(record: OpRecord, got: list, expected: list) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        g = np.asarray(g)
        assert g.shape == e.shape, f"{record.id}: shape {g.shape} != reference {e.shape}"
        if e.dtype.kind in "fc":
            np.testing.assert_allclose(g, e, rtol=record.rtol, atol=record.atol, err_msg=record.id)
        else:
            np.testing.assert_array_equal(g, e, err_msg=record.id)


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_forward_with_constants(record: OpRecord) -> None:
    arrays = record.arrays()
    expected = _reference(record, arrays)
    with tf.Graph().as_default(), tf.Session() as sess:
        outputs = _outputs(record.fn(*[tf.constant(a) for a in arrays]))
        got = sess.run(outputs)
        _check_values(record, got, expected)
        for tensor, value, ref in zip(outputs, got, expected):
            assert tensor.dtype == tf.as_dtype(ref.dtype), f"{record.id}: dtype {tensor.dtype} != {ref.dtype}"
            assert np.asarray(value).dtype == ref.dtype, f"{record.id}: runtime dtype {np.asarray(value).dtype}"
            if record.static_full:
                assert tensor.shape.is_fully_defined(), f"{record.id}: static shape {tensor.shape} not fully known"
            assert tensor.shape.is_compatible_with(np.shape(value)), \
                f"{record.id}: static {tensor.shape} vs runtime {np.shape(value)}"


@pytest.mark.parametrize("record", [r for r in RECORDS if r.dynamic], ids=[r.id for r in RECORDS if r.dynamic])
def test_forward_with_placeholders_of_unknown_shape(record: OpRecord) -> None:
    arrays = record.arrays(seed=1)
    expected = _reference(record, arrays)
    with tf.Graph().as_default(), tf.Session() as sess:
        inputs = []
        feed = {}
        for i, a in enumerate(arrays):
            if i in record.const:
                inputs.append(tf.constant(a))
            else:
                p = tf.placeholder(tf.as_dtype(a.dtype), shape=None)
                inputs.append(p)
                feed[p] = a
        outputs = _outputs(record.fn(*inputs))
        got = sess.run(outputs, feed)
        _check_values(record, got, expected)
        for tensor, value in zip(outputs, got):
            assert tensor.shape.is_compatible_with(np.shape(value)), \
                f"{record.id}: static {tensor.shape} vs runtime {np.shape(value)}"


def _has_float_output(record: OpRecord) -> bool:
    with tf.Graph().as_default():
        outputs = _outputs(record.fn(*[tf.constant(a) for a in record.arrays()]))
    return any(o.dtype.is_floating for o in outputs)


GRAD_RECORDS = [r for r in RECORDS if r.grad_indices(r.arrays()) and _has_float_output(r)]


@pytest.mark.parametrize("record", GRAD_RECORDS, ids=[r.id for r in GRAD_RECORDS])
def test_numeric_gradient(record: OpRecord) -> None:
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in record.arrays(seed=2)]
    with tf.Graph().as_default(), tf.Session() as sess:
        placeholders = [tf.constant(a) if i in record.const else tf.placeholder(tf.as_dtype(a.dtype), a.shape)
                        for i, a in enumerate(arrays)]
        outputs = [o for o in _outputs(record.fn(*placeholders)) if o.dtype.is_floating]
        feed = {p: a for i, (p, a) in enumerate(zip(placeholders, arrays)) if i not in record.const}
        shapes = [np.shape(v) for v in sess.run(outputs, feed)]
        weights = [np.random.default_rng(3).uniform(0.5, 1.5, shape) for shape in shapes]
        # A weighted sum makes every output element's gradient matter, with a different weight each.
        y = tf.add_n([tf.reduce_sum(o * w) for o, w in zip(outputs, weights)])
        for i in record.grad_indices(arrays):
            others = {p: a for p, a in feed.items() if p is not placeholders[i]}
            theoretical, numerical = tf.test.compute_gradient(
                placeholders[i], arrays[i].shape, y, (), x_init_value=arrays[i], delta=1e-6,
                extra_feed_dict=others)
            np.testing.assert_allclose(theoretical, numerical, rtol=record.grad_tol, atol=record.grad_tol,
                                       err_msg=f"{record.id}: input {i}")


# Op types checked elsewhere than in a record, with where.
COVERED_ELSEWHERE = {
    "Placeholder": "every record's placeholder test",
    "VariableV2": "tests/test_variables.py",
    "Assign": "tests/test_variables.py",
    "AssignAdd": "tests/test_variables.py",
    "AssignSub": "tests/test_variables.py",
    "IsVariableInitialized": "tests/test_variables.py",
    "NoOp": "tests/test_session.py (group)",
    "BroadcastGradientArgs": "gradients of broadcasting ops with unknown shapes (tests/test_gradients.py)",
    "ConcatOffset": "the concat gradient with unknown shapes (tests/test_gradients.py)",
    "StridedSliceGrad": "the strided_slice gradient records",
    "ReluGrad": "second derivatives (tests/test_gradients.py)",
    "SigmoidGrad": "second derivatives (tests/test_gradients.py)",
    "TanhGrad": "second derivatives (tests/test_gradients.py)",
    "ApplyGradientDescent": "tests/test_optimizers.py",
    "InvertPermutation": "the transpose gradient with a computed permutation (tests/test_gradients.py)",
    "Switch": "tests/test_cond.py",
    "Merge": "tests/test_cond.py",
    "Assert": "tests/test_cond.py",
    "RandomUniform": "tests/test_random.py",
    "RandomUniformInt": "tests/test_random.py",
    "RandomStandardNormal": "tests/test_random.py",
    "TruncatedNormal": "tests/test_random.py",
}


def test_every_op_has_a_record() -> None:
    seen: set[str] = set()
    for record in RECORDS:
        graph = tf.Graph()
        with graph.as_default():
            record.fn(*[tf.constant(a) for a in record.arrays()])
        seen.update(op.type for op in graph.get_operations())
    missing = sorted(set(registered_op_types()) - seen - set(COVERED_ELSEWHERE) - set(MODULE_COVERED_ELSEWHERE))
    assert not missing, f"ops without a record: {missing}"
