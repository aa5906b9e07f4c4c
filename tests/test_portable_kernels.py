"""The backend seam: every op's portable kernel, and its NumPy variant, against the op-record table.

- Every record runs, with its inputs fed through placeholders (so no kernel is
  folded into a constant when the plan is built), on the `portable` backend
  (only the portable kernels, the ones a traced backend would run) and on
  `numpy` (each op's `numpy` variant where it has one), against the record's
  NumPy reference; the gradients of differentiable records agree on both.
- Every kernel of every op in a record's graph and in its gradient, portable
  and variants, is called directly on that op's input values made read-only,
  and must neither fail nor change them, and must give the Session's values.
- The stateful kernels (the optimizers' Apply ops, random ops) give the same
  results on both backends, never writing into stored values or feeds.
- Portable and NumPy convolution and pooling kernels agree over strides,
  dilations, paddings and window shapes that the records do not all reach.
"""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf
from caudal.framework.registry import get_op_def
from tests.ops.record import OpRecord
from tests.ops.test_op_records import IDS, RECORDS, _check_values, _outputs, _reference
from tests.test_optimizer_bugs import SCALAR_SETTINGS


def _installed_backends() -> list[str]:
    from caudal.backends import fast_cpu

    return ["portable", "numpy"] + (["fast_cpu"] if fast_cpu.installed() else [])


# The portable kernels, NumPy's variants, and the fast_cpu kernels where the fast extra is installed.
BACKENDS = _installed_backends()


def session(backend: str, graph: tf.Graph | None = None) -> tf.Session:
    config = tf.ConfigProto()
    config.experimental.executor_type = backend
    return tf.Session(graph=graph, config=config)


def _placeholders(record: OpRecord, arrays: list[np.ndarray]) -> tuple[list[tf.Tensor], dict]:
    """Inputs as placeholders of the arrays' static shapes (constants where the record says)."""
    inputs, feed = [], {}
    for i, a in enumerate(arrays):
        if i in record.const:
            inputs.append(tf.constant(a))
        else:
            p = tf.placeholder(tf.as_dtype(a.dtype), a.shape)
            inputs.append(p)
            feed[p] = a
    return inputs, feed


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_record_values_on_each_backend(record: OpRecord, backend: str) -> None:
    arrays = record.arrays(seed=4)
    expected = _reference(record, arrays)
    with tf.Graph().as_default() as graph:
        inputs, feed = _placeholders(record, arrays)
        outputs = _outputs(record.fn(*inputs))
        with session(backend, graph) as sess:
            assert sess._backend.name == backend
            got = sess.run(outputs, feed)
    _check_values(record, got, expected)
    for value, ref in zip(got, expected):
        assert np.asarray(value).dtype == ref.dtype, f"{record.id}: runtime dtype {np.asarray(value).dtype}"


def _as_array(value: object) -> np.ndarray:
    """A fetched value as the array a kernel holds: a scalar string (fetched as bytes) becomes a
    0-d object array, not a NUL-stripping bytes array."""
    return np.array(value, dtype=object) if isinstance(value, bytes) else np.asarray(value)


def _read_only(value: object) -> object:
    array = _as_array(value).copy()
    array.flags.writeable = False
    return array


def _kernels(op_def: object) -> dict[str, object]:
    """The portable kernel and the NumPy-array variants; the jax variants (present once the jax backend was
    loaded in this process) run on jax arrays and are checked by tests/test_jax_records.py."""
    return {"portable": op_def.kernel, **{name: k for name, k in op_def.variants.items() if name != "jax"}}


def _with_gradients(record: OpRecord, inputs: list[tf.Tensor], outputs: list[tf.Tensor],
                    arrays: list[np.ndarray]) -> list[tf.Tensor]:
    """The gradients of a weighted sum of the record's float outputs with respect to its float
    inputs (none when the record has no gradient check): the gradient kernels' own checks."""
    indices = record.grad_indices(arrays)
    shapes = [r.shape for r in _reference(record, arrays)]
    floats = [(o, shape) for o, shape in zip(outputs, shapes) if o.dtype.is_floating]
    if not indices or not floats:
        return []
    rng = np.random.default_rng(3)
    y = tf.add_n([tf.reduce_sum(o * rng.uniform(0.5, 1.5, shape).astype(o.dtype.as_numpy_dtype))
                  for o, shape in floats])
    return [g for g in tf.gradients(y, [inputs[i] for i in indices]) if g is not None]


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_gradients_agree_across_backends(record: OpRecord) -> None:
    arrays = record.arrays(seed=6)
    got = {}
    for backend in BACKENDS:
        with tf.Graph().as_default() as graph:
            inputs, feed = _placeholders(record, arrays)
            grads = _with_gradients(record, inputs, _outputs(record.fn(*inputs)), arrays)
            if not grads:
                return
            with session(backend, graph) as sess:
                got[backend] = sess.run(grads, feed)
    for backend in BACKENDS[1:]:
        for p, n in zip(gradient_arrays(got["portable"]), gradient_arrays(got[backend]), strict=True):
            assert p.dtype == n.dtype and p.shape == n.shape, (record.id, backend)
            np.testing.assert_allclose(p, n, rtol=record.rtol, atol=record.atol, err_msg=f"{record.id} {backend}")


def gradient_arrays(values: list) -> list:
    """The fetched gradients, an IndexedSlicesValue (a gather's) as its rows and indices."""
    parts = []
    for v in values:
        parts.extend([v.values, v.indices] if isinstance(v, tf.IndexedSlicesValue) else [v])
    return parts


# Outputs whose contents belong to the kernel that wrote them: a max pooling's argmax workspace is oneDNN's
# on fast_cpu and empty on NumPy (the gradient kernel of each backend reads its own).
# Outputs whose values a kernel chooses: the argmax workspace (oneDNN's, or none), and the convolution
# output of _FusedConv2DMaxPool, which fast_cpu's loop gives as read-only zeros of its shape.
OPAQUE_OUTPUTS = frozenset([("_MaxPoolWithWorkspace", 1), ("_FusedConv2DMaxPool", 0), ("_FusedConv2DMaxPool", 2)])


@pytest.mark.parametrize("record", RECORDS, ids=IDS)
def test_kernels_never_write_into_their_inputs(record: OpRecord) -> None:
    """Each kernel of each op of the record's graph and of its gradient, called on read-only
    copies of the op's inputs."""
    arrays = record.arrays(seed=5)
    with tf.Graph().as_default() as graph:
        inputs, feed = _placeholders(record, arrays)
        _with_gradients(record, inputs, _outputs(record.fn(*inputs)), arrays)
        ops = [op for op in graph.get_operations()
               if op.type not in ("Placeholder", "Const") and not op._op_def.stateful
               and not op._op_def.control_flow and not op._op_def.ref_inputs]
        with session("numpy", graph) as sess:
            for op in ops:
                values = sess.run(list(op.inputs), feed)
                results = sess.run(list(op.outputs), feed)
                op_def = get_op_def(op.type)
                for name, kernel in _kernels(op_def).items():
                    frozen = [_read_only(v) for v in values]
                    before = [v.copy() for v in frozen]
                    try:
                        with np.errstate(all="ignore"):
                            got = kernel(np, *frozen, **op_def.kernel_kwargs(op))
                    except ValueError as e:
                        if "read-only" in str(e):
                            pytest.fail(f"{record.id}: the {name} kernel of {op.type} writes into an input: {e}")
                        raise
                    where = f"{record.id}: the {name} kernel of {op.type}"
                    for a, b in zip(frozen, before):
                        np.testing.assert_array_equal(a, b, err_msg=where)
                    if not op.outputs:
                        continue
                    got = list(got) if len(op.outputs) != 1 else [got]
                    assert len(got) == len(results)
                    for index, (g, r) in enumerate(zip(got, results)):
                        if (op.type, index) in OPAQUE_OUTPUTS:
                            continue
                        g, r = np.asarray(g), _as_array(r)
                        assert g.shape == r.shape and g.dtype == r.dtype, where
                        if r.dtype.kind in "fc":
                            np.testing.assert_allclose(g, r, rtol=record.rtol, atol=record.atol, err_msg=where)
                        else:
                            np.testing.assert_array_equal(g, r, err_msg=where)


# ------------------------------------------------------------------ stateful kernels
def _optimizer_trajectory(backend: str, setting: str, shape: tuple[int, ...]) -> list[list[np.ndarray]]:
    """Four steps of `setting` on a float32 variable of `shape` with fed read-only gradients: the
    variable and its slots after each step. Before each step every stored value is made read-only,
    and after it each must be as it was: the kernels build new values, never write into old ones."""
    cls, kwargs = SCALAR_SETTINGS[setting]
    size = int(np.prod(shape))
    with tf.Graph().as_default() as graph:
        v = tf.Variable(np.linspace(-0.5, 0.7, size).reshape(shape).astype(np.float32), name="v")
        g = tf.placeholder(tf.float32, shape)
        opt = getattr(tf.train, cls)(**kwargs)
        train = opt.apply_gradients([(g, v)])
        tracked = [v] + [opt.get_slot(v, name) for name in sorted(opt.get_slot_names())]
        rng = np.random.default_rng(0)
        trajectory = []
        with session(backend, graph) as sess:
            sess.run(tf.global_variables_initializer())
            for _ in range(4):
                stored = dict(sess._store.variables)
                copies = {name: np.array(value, copy=True) for name, value in stored.items()}
                for value in stored.values():
                    if isinstance(value, np.ndarray):
                        value.flags.writeable = False
                grad = _read_only(rng.uniform(-1, 1, shape).astype(np.float32))
                sess.run(train, {g: grad})
                for name, value in stored.items():
                    np.testing.assert_array_equal(value, copies[name], err_msg=f"{backend} {setting}: {name}")
                trajectory.append([np.asarray(x) for x in sess.run(tracked)])
    return trajectory


@pytest.mark.parametrize("shape", [(), (3, 2)], ids=["scalar", "matrix"])
@pytest.mark.parametrize("setting", sorted(SCALAR_SETTINGS))
def test_optimizer_kernels_agree_across_backends_and_write_nothing_they_read(setting: str, shape: tuple) -> None:
    portable = _optimizer_trajectory("portable", setting, shape)
    numpy = _optimizer_trajectory("numpy", setting, shape)
    for step_p, step_n in zip(portable, numpy, strict=True):
        for p, n in zip(step_p, step_n, strict=True):
            assert p.shape == n.shape == shape and p.dtype == n.dtype == np.float32
            np.testing.assert_allclose(p, n, rtol=1e-5, atol=1e-6, err_msg=setting)


def _random_values(backend: str) -> list[np.ndarray]:
    values = []
    for dtype in (tf.float16, tf.float32, tf.float64):
        with tf.Graph().as_default() as graph:
            tf.set_random_seed(5)
            fetches = [tf.random_uniform([7, 3], dtype=dtype), tf.random_normal([11], dtype=dtype),
                       tf.truncated_normal([300], dtype=dtype), tf.random_uniform([9], 2, 50, dtype=tf.int32),
                       tf.random_uniform([9], -3, 5000, dtype=tf.int64), tf.random_shuffle(tf.range(20)),
                       tf.random_shuffle(tf.reshape(tf.range(12.0), [4, 3]), seed=3),
                       tf.multinomial(tf.log([[0.1, 0.3, 0.6], [0.5, 0.5, 0.0]]), 20, seed=9),
                       tf.random_crop(tf.reshape(tf.range(100), [10, 10]), [3, 4], seed=1),
                       tf.nn.dropout(tf.ones([50]), 0.5, seed=4)]
            with session(backend, graph) as sess:
                for _ in range(2):
                    values.extend(sess.run(fetches))
    return values


def test_random_kernels_draw_the_same_numbers_on_both_backends() -> None:
    """Both backends use NumPy's streams: the portable kernels (truncation, sampling, dtypes over
    `xp`) must turn the same primitive draws into the same numbers as before the seam."""
    for p, n in zip(_random_values("portable"), _random_values("numpy"), strict=True):
        assert p.dtype == n.dtype and p.shape == n.shape
        np.testing.assert_array_equal(p, n)


# ------------------------------------------------- convolution and pooling geometries
_CONV_GEOMETRIES = [  # (input NHWC, filter HW, strides, dilations, padding, explicit)
    ((2, 7, 6, 3), (3, 3), (1, 1), (1, 1), "SAME", ()),
    ((2, 7, 6, 9), (3, 2), (2, 2), (1, 1), "SAME", ()),
    ((1, 9, 8, 10), (2, 3), (1, 2), (2, 1), "VALID", ()),
    ((3, 8, 8, 2), (3, 3), (3, 2), (1, 2), "VALID", ()),
    ((2, 6, 5, 4), (2, 2), (2, 1), (1, 1), "EXPLICIT", (0, 0, 1, 2, 2, 0, 0, 0)),
    ((2, 5, 5, 16), (1, 1), (2, 2), (1, 1), "SAME", ()),
    ((0, 5, 5, 2), (3, 3), (1, 1), (1, 1), "SAME", ()),
]
_POOL_GEOMETRIES = [  # (input NHWC, window HW, strides, padding)
    ((2, 6, 6, 3), (2, 2), (2, 2), "VALID"), ((2, 7, 5, 3), (2, 2), (2, 2), "SAME"),
    ((1, 7, 7, 2), (3, 3), (2, 2), "SAME"), ((2, 6, 5, 2), (3, 2), (1, 2), "VALID"),
    ((1, 5, 6, 4), (1, 3), (1, 1), "SAME"),
]


@pytest.mark.parametrize("geometry", _CONV_GEOMETRIES, ids=lambda g: f"{g[0]}-{g[1]}-{g[2]}-{g[3]}-{g[4]}")
def test_portable_and_numpy_convolutions_agree(geometry: tuple) -> None:
    from caudal.ops import _conv_kernels as portable
    from caudal.ops import _conv_kernels_numpy as fast

    shape, k_hw, strides, dilations, padding, explicit = geometry
    rng = np.random.default_rng(7)
    x = _read_only(rng.standard_normal(shape).astype(np.float32))
    w = _read_only(rng.standard_normal(k_hw + (shape[3], 4)).astype(np.float32))
    wd = _read_only(rng.standard_normal(k_hw + (shape[3], 2)).astype(np.float32))
    args = (strides, dilations, padding, explicit)
    p, n = portable, fast
    y = n.conv2d(np, x, w, *args)
    dy = _read_only(rng.standard_normal(y.shape).astype(np.float32))
    yd = n.depthwise_conv2d(np, x, wd, *args)
    dyd = _read_only(rng.standard_normal(yd.shape).astype(np.float32))
    pairs = [(p.conv2d(np, x, w, *args), y),
             (p.conv2d_backprop_input(np, shape, w, dy, *args), n.conv2d_backprop_input(np, shape, w, dy, *args)),
             (p.conv2d_backprop_filter(np, x, w.shape, dy, *args), n.conv2d_backprop_filter(np, x, w.shape, dy, *args)),
             (p.depthwise_conv2d(np, x, wd, *args), yd),
             (p.depthwise_conv2d_backprop_input(np, shape, wd, dyd, *args),
              n.depthwise_conv2d_backprop_input(np, shape, wd, dyd, *args)),
             (p.depthwise_conv2d_backprop_filter(np, x, wd.shape, dyd, *args),
              n.depthwise_conv2d_backprop_filter(np, x, wd.shape, dyd, *args))]
    for got, want in pairs:
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("geometry", _POOL_GEOMETRIES, ids=lambda g: f"{g[0]}-{g[1]}-{g[2]}-{g[3]}")
def test_portable_and_numpy_pooling_agree(geometry: tuple) -> None:
    from caudal.ops import _conv_kernels as p
    from caudal.ops import _conv_kernels_numpy as n

    shape, k_hw, strides, padding = geometry
    rng = np.random.default_rng(8)
    # Few distinct values: ties, so that the first maximum of each window matters.
    x = _read_only(rng.integers(0, 4, shape).astype(np.float32))
    y = _read_only(n.max_pool(np, x, k_hw, strides, padding))
    dy = _read_only(rng.standard_normal(y.shape).astype(np.float32))
    ddx = _read_only(rng.standard_normal(shape).astype(np.float32))
    avg = n.avg_pool(np, x, k_hw, strides, padding)
    pairs = [(p.max_pool(np, x, k_hw, strides, padding), y),
             (p.max_pool_grad(np, x, y, dy, k_hw, strides, padding), n.max_pool_grad(np, x, y, dy, k_hw, strides,
                                                                                       padding)),
             (p.max_pool_grad_grad(np, x, y, ddx, k_hw, strides, padding),
              n.max_pool_grad_grad(np, x, y, ddx, k_hw, strides, padding)),
             (p.avg_pool(np, x, k_hw, strides, padding), avg),
             (p.avg_pool_grad(np, shape, dy, k_hw, strides, padding), n.avg_pool_grad(np, shape, dy, k_hw, strides,
                                                                                      padding))]
    for got, want in pairs:
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
