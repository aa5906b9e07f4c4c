"""The per-step fast paths of training loops give exactly what the general paths give.

Keras `fit` and Estimator training run the same few things every step: the softmax family's
kernels, the input function's batches, `Session.run`'s fetch flattening, and, around a
monitored session, the GraphDef of a finalized graph. Each fast path is checked here against
the path it replaces, values bit for bit and errors word for word.
"""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import caudal as tf
from caudal import errors
from caudal.estimator.inputs import numpy_io
from caudal.framework import graph_io
from caudal.ops.nn_loss_ops import _sparse_xent_kernel, _sparse_xent_numpy
from caudal.ops.nn_ops import _log_softmax_kernel, _log_softmax_numpy, _softmax_kernel, _softmax_numpy, row_max_numpy

SHAPES = [(128, 10), (1, 3), (0, 5), (7, 1), (2, 32), (3, 33), (50, 1000), (4, 3, 5), (6,)]


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_max_is_numpys_max_over_the_last_axis(shape: tuple, dtype: type) -> None:
    x = (np.random.default_rng(0).standard_normal(shape) * 4).astype(dtype)
    if x.size and x.shape[-1]:
        assert _same(row_max_numpy(x), x.max(axis=-1, keepdims=True))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_numpy_variants_equal_the_portable_kernels(shape: tuple, dtype: type) -> None:
    x = (np.random.default_rng(1).standard_normal(shape) * 6).astype(dtype)
    if not x.shape[-1]:
        return
    assert _same(_softmax_numpy(np, x), _softmax_kernel(np, x))
    assert _same(_log_softmax_numpy(np, x), _log_softmax_kernel(np, x))


def test_softmax_variants_propagate_nan_and_inf_as_the_portable_kernels() -> None:
    x = np.array([[np.nan, 1.0], [np.inf, 1.0], [-np.inf, -np.inf], [-0.0, 0.0]], np.float32)
    with np.errstate(all="ignore"):
        assert _same(_softmax_numpy(np, x), _softmax_kernel(np, x))
        assert _same(_log_softmax_numpy(np, x), _log_softmax_kernel(np, x))


@pytest.mark.parametrize("shape", [(128, 10), (1, 3), (0, 5), (7, 1), (3, 33), (50, 1000)])
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
def test_sparse_xent_numpy_variant_equals_the_portable_kernel(shape: tuple, label_dtype: type) -> None:
    rng = np.random.default_rng(2)
    features = (rng.standard_normal(shape) * 5).astype(np.float32)
    labels = rng.integers(0, shape[1], shape[0]).astype(label_dtype)
    for mine, reference in zip(_sparse_xent_numpy(np, features, labels), _sparse_xent_kernel(np, features, labels)):
        assert _same(mine, reference)


@pytest.mark.parametrize("bad", [-1, 10])
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
def test_sparse_xent_numpy_variant_refuses_labels_out_of_range_as_tf(bad: int, label_dtype: type) -> None:
    features = np.zeros((4, 10), np.float32)
    labels = np.array([1, bad, 2, 3], label_dtype)
    with pytest.raises(errors.InvalidArgumentError) as caught:
        _sparse_xent_numpy(np, features, labels)
    assert str(caught.value).startswith(f"Received a label value of {bad} which is outside the valid range of "
                                        f"[0, 10).  Label values: 1 {bad} 2 3")


def test_sparse_xent_of_a_session_fails_on_a_bad_label_with_tfs_error() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant([0, 3]),
                                                              logits=tf.zeros([2, 3]))
        with pytest.raises(errors.InvalidArgumentError, match=r"Received a label value of 3 which is outside the "
                                                              r"valid range of \[0, 3\)"):
            sess.run(loss)


# -------------------------------------------------------------------------------- GraphDefs
def _graph_with_ops() -> tuple[tf.Graph, tf.Tensor]:
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, 3], name="x")
        y = tf.matmul(x, tf.Variable(tf.ones([3, 2]), name="w"), name="y")
    return graph, y


def test_a_finalized_graph_builds_its_graph_def_once(monkeypatch: pytest.MonkeyPatch) -> None:
    graph, _ = _graph_with_ops()
    expected = graph.as_graph_def()
    built = []
    original = graph_io.graph_to_graph_def
    monkeypatch.setattr(graph_io, "graph_to_graph_def", lambda g, add_shapes=False: built.append(add_shapes)
                        or original(g, add_shapes=add_shapes))
    graph.finalize()
    first, second = graph.as_graph_def(), graph.as_graph_def()
    assert first == second == expected and first is not second
    assert graph.as_graph_def(add_shapes=True) == graph.as_graph_def(add_shapes=True) != expected
    assert built == [False, True]


def test_a_graph_def_of_a_finalized_graph_is_the_callers_to_change() -> None:
    graph, _ = _graph_with_ops()
    graph.finalize()
    graph.as_graph_def().node[0].name = "changed"
    assert graph.as_graph_def().node[0].name == "x"


def test_the_graph_def_follows_the_graph_after_it_is_unfinalized_and_changed() -> None:
    graph, y = _graph_with_ops()
    graph.finalize()
    before = graph.as_graph_def()
    graph._unsafe_unfinalize()
    with graph.as_default():
        z = tf.identity(y, name="z")
    graph.finalize()
    assert [n.name for n in graph.as_graph_def().node] == [n.name for n in before.node] + ["z"]
    graph._unsafe_unfinalize()
    with graph.as_default():
        marker = tf.no_op(name="marker")
    graph.finalize()
    z.op._add_control_input(marker)
    assert list(graph.as_graph_def().node[-2].input) == ["y", "^marker"]


def test_a_file_writer_builds_the_graph_def_once_for_its_graph_and_meta_graph_events(
        tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    graph, _ = _graph_with_ops()
    calls = []
    original = tf.Graph.as_graph_def
    monkeypatch.setattr(tf.Graph, "as_graph_def", lambda self, *a, **k: calls.append(k) or original(self, *a, **k))
    writer = tf.summary.FileWriter(str(tmp_path), graph=graph)
    writer.close()
    assert calls == [{"add_shapes": True}]
    events = list(tf.train.summary_iterator(writer.event_file_path))
    graph_defs = [e.graph_def for e in events if e.graph_def]
    metas = [e.meta_graph_def for e in events if e.meta_graph_def]
    assert len(graph_defs) == 1 and len(metas) == 1
    written = tf.GraphDef.FromString(graph_defs[0])
    assert written == original(graph, add_shapes=True)


# ------------------------------------------------------------------------------------ fetches
def test_fetching_a_tensor_of_another_graph_is_still_refused() -> None:
    _, foreign = _graph_with_ops()
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(ValueError, match="cannot be interpreted as a Tensor.*is not an element of this graph"):
            sess.run(foreign)
        with pytest.raises(ValueError, match="cannot be interpreted as a Tensor.*is not an element of this graph"):
            sess.run({"a": [foreign]})


def test_an_op_marked_not_fetchable_is_still_refused_in_a_structure() -> None:
    with tf.Graph().as_default() as graph, tf.Session() as sess:
        x = tf.constant(1.0, name="x")
        y = tf.identity(x, name="y")
        graph.prevent_fetching(y.op)
        assert sess.run({"x": [x]}) == {"x": [1.0]}
        with pytest.raises(ValueError, match="Operation 'y:0' has been marked as not fetchable."):
            sess.run({"x": [x, y]})


# ---------------------------------------------------------------------------- input functions
def _tf_chunk_rule(start: int, batch_size: int, epoch_end: int, length: int, epoch: int,
                   total: int | None) -> tuple[list[int], int]:
    """TF's feeding-function rule, written over Python lists."""
    indices = [j % length for j in range(start, start + batch_size)]
    ends = [i for i, x in enumerate(indices) if x == epoch_end]
    epoch += len(ends)
    if total is None or epoch < total:
        return indices, epoch
    return indices[:ends[-(epoch - total + 1)] + 1], total


def test_feeder_chunks_follow_tfs_rule_across_epoch_ends() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        length = int(rng.integers(1, 20))
        batch = int(rng.integers(1, 45))
        start = int(rng.integers(0, length))
        epoch_end = (start - 1) % length if rng.random() < 0.5 else int(rng.integers(0, length))
        total = None if rng.random() < 0.3 else int(rng.integers(1, 5))
        epoch = int(rng.integers(0, total)) if total else int(rng.integers(0, 3))
        indices, after = numpy_io._indices_for_next_batch(start, batch, epoch_end, length, epoch, total)
        expected, expected_after = _tf_chunk_rule(start, batch, epoch_end, length, epoch, total)
        assert indices.dtype == np.int64 and indices.tolist() == expected and after == expected_after


def test_feeder_after_its_last_epoch_is_out_of_range() -> None:
    with pytest.raises(errors.OutOfRangeError, match="Already emitted 2 epochs."):
        numpy_io._indices_for_next_batch(0, 4, 9, 10, 2, 2)


def test_a_replayed_queue_gives_every_row_once_per_epoch() -> None:
    rows = np.arange(23)
    for shuffle in (False, True):
        replay = numpy_io._QueueReplay([rows, rows * 10], 5, 2, shuffle, 12, 3, 1, (4, 7))
        batches = list(replay())
        seen = np.concatenate([b[0] for b in batches])
        assert all(np.array_equal(b[1], b[0] * 10) for b in batches)
        assert sorted(seen.tolist()) == sorted(rows.tolist() * 2)


def test_generator_elements_of_another_shape_or_kind_are_refused_as_tf() -> None:
    def run(generator: object, types: object, shapes: object) -> None:
        with tf.Graph().as_default(), tf.Session() as sess:
            element = tf.data.Dataset.from_generator(generator, types, shapes).make_one_shot_iterator().get_next()
            sess.run(element)

    with pytest.raises(errors.InvalidArgumentError, match=r"`generator` yielded an element of shape \(3,\) where an "
                                                          r"element of shape \(2,\) was expected."):
        run(lambda: iter([np.zeros(3, np.float32)]), tf.float32, tf.TensorShape([2]))
    with pytest.raises(errors.InvalidArgumentError, match="`generator` yielded an element that did not match the "
                                                          "expected structure"):
        run(lambda: iter([np.zeros(2, np.float32)]), tf.int64, tf.TensorShape([2]))
    with pytest.raises(errors.InvalidArgumentError, match=r"`generator` yielded an element of shape \(1, 2\) where "
                                                          r"an element of shape \(None,\) was expected."):
        run(lambda: iter([(np.zeros((1, 2), np.int64), b"a")]), (tf.int64, tf.string),
            (tf.TensorShape([None]), tf.TensorShape([])))


def test_generator_elements_are_the_datasets_own_copies() -> None:
    buffer = np.zeros(2, np.float32)

    def generator() -> object:
        for value in (1.0, 2.0):
            buffer[:] = value
            yield buffer

    with tf.Graph().as_default(), tf.Session() as sess:
        element = tf.data.Dataset.from_generator(generator, tf.float32, tf.TensorShape([2])).batch(2) \
            .make_one_shot_iterator().get_next()
        assert sess.run(element).tolist() == [[1.0, 1.0], [2.0, 2.0]]


# ------------------------------------------------------------------------------------- Keras
def test_keras_fit_on_arrays_does_not_import_the_data_package() -> None:
    script = (
        "import sys, numpy as np\n"
        "import caudal as tf\n"
        "model = tf.keras.Sequential([tf.keras.layers.Dense(2, activation='softmax', input_shape=(3,))])\n"
        "model.compile(optimizer='sgd', loss='sparse_categorical_crossentropy')\n"
        "model.fit(np.zeros((4, 3), np.float32), np.zeros(4, np.int64), batch_size=2, verbose=0)\n"
        "print(sorted(m for m in sys.modules if m.startswith('caudal.data')))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
