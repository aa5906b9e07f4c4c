"""The op-record table and the gradient checks on the jax backend.

- Every record runs with its inputs fed through placeholders (so nothing is
  folded while the plan is built) and gives the NumPy reference's values and
  dtypes, and the `numpy` backend's values to 1e-5 (the record's tolerances);
- its ops run on the device, except host ops (strings, py_func, summaries,
  ...) and ops listed below with the reason they run on the host;
- the gradients of differentiable records agree with the `numpy` backend's,
  and match central differences (float64) computed on the jax backend.

Run with `pytest -m jax`.
"""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf
from tests.ops.record import OpRecord
from tests.ops.test_op_records import GRAD_RECORDS, IDS, RECORDS, _check_values, _outputs, _reference
from tests.test_portable_kernels import _placeholders, _with_gradients, gradient_arrays

pytestmark = pytest.mark.jax
jax = pytest.importorskip("jax")

# Ops whose kernels are NumPy code that jax cannot trace; they run on the host, with their
# NumPy kernels' results.
HOST_KERNELS = {
    "ResizeBilinear": "interpolation tables built in NumPy", "ResizeBicubic": "interpolation tables built in NumPy",
    "ResizeArea": "interpolation tables built in NumPy", "ResizeNearestNeighbor": "index tables built in NumPy",
    "ResizeBilinearGrad": "interpolation tables built in NumPy",
    "ResizeBicubicGrad": "interpolation tables built in NumPy",
    "ResizeNearestNeighborGrad": "index tables built in NumPy",
    "AdjustContrastv2": "NumPy arithmetic on the image's mean", "Polygamma": "a series whose length depends on x",
    "ComputeAccidentalHits": "the number of hits (the output's size) depends on values",
    "Bucketize": "NumPy's searchsorted on the boundaries attr",
    "SparseToDense": "NumPy scatter with checks of the indices' order",
    "SparseFillEmptyRows": "the output's size depends on values", "SparseFillEmptyRowsGrad": "NumPy scatter",
    "SparseReshape": "NumPy index arithmetic", "SparseSegmentSum": "segment counts from the ids' values",
    "SparseSegmentMean": "segment counts from the ids' values",
    "SparseSegmentSqrtN": "segment counts from the ids' values",
    "SparseSegmentSumGrad": "NumPy scatter", "SparseSegmentMeanGrad": "NumPy scatter",
    "SparseSegmentSqrtNGrad": "NumPy scatter",
}
# What a kernel says when a fed value decides a shape or an attribute-like argument (a fed `limit` of
# tf.range, fed `multiples` of tf.tile, ...): then the op runs on the host, as the plan is compiled
# for shapes, not values.
_VALUE_NEEDED = ("ConcretizationTypeError", "TracerIntegerConversionError", "must be known when the plan is compiled",
                 "its size depends on values",
                 # the other ops of a TensorArray one of whose ops runs on the host for such a reason
                 "its TensorArray or TensorList is also used by a host part of the plan")


def _session(graph: tf.Graph, backend: str = "jax") -> tf.Session:
    config = tf.ConfigProto()
    config.experimental.executor_type = backend
    return tf.Session(graph=graph, config=config)


# Ops whose NumPy kernels read a shape-like integer input (paddings, multiples) as values: fed, it
# sends them to the host for the reason any NumPy call on a traced value gives.
SHAPE_ARGUMENTS = {"MirrorPad": 1, "Tile": 1}


def _value_needed(op: tf.Operation, reason: str) -> bool:
    """Whether `op` ran on the host because a fed value decides a shape or an argument the compiled
    code needs as a number."""
    if any(word in reason for word in _VALUE_NEEDED):
        return True
    index = SHAPE_ARGUMENTS.get(op.type)
    return index is not None and op.inputs[index].op.type == "Placeholder"


def _host_ops(sess: tf.Session) -> list[tuple[tf.Operation, str]]:
    """(op, why) for every op that ran on the host in the session's plans, except host ops by nature."""
    found = []
    for plan in sess._plans.values():
        for op, reason in plan.host_ops.items():
            found.append((op, reason))
    return found


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_record_on_jax(record: OpRecord) -> None:
    arrays = record.arrays(seed=4)
    expected = _reference(record, arrays)
    got = {}
    for backend in ("numpy", "jax"):
        with tf.Graph().as_default() as graph:
            inputs, feed = _placeholders(record, arrays)
            outputs = _outputs(record.fn(*inputs))
            with _session(graph, backend) as sess:
                got[backend] = sess.run(outputs, feed)
                if backend == "jax":
                    host = _host_ops(sess)
    _check_values(record, got["jax"], expected)
    for value, numpy_value, ref in zip(got["jax"], got["numpy"], expected):
        assert np.asarray(value).dtype == ref.dtype, f"{record.id}: runtime dtype {np.asarray(value).dtype}"
        if ref.dtype.kind in "fc":
            np.testing.assert_allclose(value, numpy_value, rtol=record.rtol, atol=record.atol, err_msg=record.id)
    for op, reason in host:
        assert op.type in HOST_KERNELS or _value_needed(op, reason), \
            f"{record.id}: {op.name} ({op.type}) ran on the host: {reason}"


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_gradients_agree_with_the_numpy_backend(record: OpRecord) -> None:
    arrays = record.arrays(seed=6)
    got = {}
    for backend in ("numpy", "jax"):
        with tf.Graph().as_default() as graph:
            inputs, feed = _placeholders(record, arrays)
            grads = _with_gradients(record, inputs, _outputs(record.fn(*inputs)), arrays)
            if not grads:
                return
            with _session(graph, backend) as sess:
                got[backend] = sess.run(grads, feed)
    for j, n in zip(gradient_arrays(got["jax"]), gradient_arrays(got["numpy"]), strict=True):
        assert j.dtype == n.dtype and j.shape == n.shape, record.id
        np.testing.assert_allclose(j, n, rtol=record.rtol, atol=max(record.atol, 1e-5), err_msg=record.id)


@pytest.mark.parametrize("record", GRAD_RECORDS, ids=[r.id for r in GRAD_RECORDS])
def test_numeric_gradient_on_jax(record: OpRecord) -> None:
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in record.arrays(seed=2)]
    with tf.Graph().as_default() as graph, _session(graph):
        placeholders = [tf.constant(a) if i in record.const else tf.placeholder(tf.as_dtype(a.dtype), a.shape)
                        for i, a in enumerate(arrays)]
        outputs = [o for o in _outputs(record.fn(*placeholders)) if o.dtype.is_floating]
        feed = {p: a for i, (p, a) in enumerate(zip(placeholders, arrays)) if i not in record.const}
        shapes = [r.shape for r, o in zip(_reference(record, arrays), _outputs(record.fn(*placeholders)))
                  if o.dtype.is_floating]
        weights = [np.random.default_rng(3).uniform(0.5, 1.5, shape) for shape in shapes]
        y = tf.add_n([tf.reduce_sum(o * w) for o, w in zip(outputs, weights)])
        for i in record.grad_indices(arrays):
            others = {p: a for p, a in feed.items() if p is not placeholders[i]}
            theoretical, numerical = tf.test.compute_gradient(
                placeholders[i], arrays[i].shape, y, (), x_init_value=arrays[i], delta=1e-6,
                extra_feed_dict=others)
            np.testing.assert_allclose(theoretical, numerical, rtol=record.grad_tol, atol=record.grad_tol,
                                       err_msg=f"{record.id}: input {i}")


def _records_with_jax_variants() -> list[OpRecord]:
    from caudal.backends import jax_kernels

    jax_kernels.install()
    found = []
    for record in RECORDS:
        with tf.Graph().as_default() as graph:
            inputs, _ = _placeholders(record, record.arrays(seed=5))
            _with_gradients(record, inputs, _outputs(record.fn(*inputs)), record.arrays(seed=5))
        if any("jax" in op._op_def.variants and not op._op_def.stateful for op in graph.get_operations()):
            found.append(record)
    return found


VARIANT_RECORDS = _records_with_jax_variants()


@pytest.mark.parametrize("record", VARIANT_RECORDS, ids=[r.id for r in VARIANT_RECORDS])
def test_jax_variants_give_the_numpy_kernels_results(record: OpRecord) -> None:
    """Each jax variant of an op in the record's graph (and its gradient), called outside any
    compilation on the op's input values, gives the values the NumPy backend computes."""
    import jax.numpy as jnp

    arrays = record.arrays(seed=5)
    with tf.Graph().as_default() as graph:
        inputs, feed = _placeholders(record, arrays)
        _with_gradients(record, inputs, _outputs(record.fn(*inputs)), arrays)
        ops = [op for op in graph.get_operations() if "jax" in op._op_def.variants and not op._op_def.stateful]
        with _session(graph, "numpy") as sess:
            for op in ops:
                values = sess.run(list(op.inputs), feed)
                results = sess.run(list(op.outputs), feed)
                got = op._op_def.variants["jax"](jnp, *[np.asarray(v) for v in values],
                                                 **op._op_def.kernel_kwargs(op))
                got = list(got) if len(op.outputs) != 1 else [got]
                for g, r in zip(got, results, strict=True):
                    g, r = np.asarray(g), np.asarray(r)
                    assert g.shape == r.shape, f"{record.id}: {op.type}"
                    np.testing.assert_allclose(g.astype(r.dtype), r, rtol=record.rtol, atol=max(record.atol, 1e-6),
                                               err_msg=f"{record.id}: the jax kernel of {op.type}")
