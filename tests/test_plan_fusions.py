"""Patterns plans run fused (caudal.runtime.fusion): Relu(Conv2D(x, w) + bias) as one `_FusedConv2D`
call on a backend with its own kernel (fast_cpu), only where nothing else reads the intermediate
values, the op's kernels against the three ops in turn; and ReluGrad(MaxPoolGrad(x, y, dy), x) as
MaxPoolGrad(x, y, ReluGrad(dy, y)), bit for bit."""
from __future__ import annotations

import re

import numpy as np
import pytest

import caudal as tf
from caudal.backends import fast_cpu
from caudal.framework.graph import apply_op
from tests.session_fixtures import count_in_plans, session_on


def _onednn_loads() -> bool:
    try:
        from caudal.backends.fast_cpu import onednn_lib

        onednn_lib.load()
    except (OSError, ImportError):
        return False
    return True


needs_onednn = pytest.mark.skipif(not _onednn_loads(), reason="oneDNN (the fast extra) is missing")


def _fused_calls(sess: tf.Session) -> int:
    return count_in_plans(sess, "fused_ops=")


def _layer(x, w, b, kind="add", data_format="NHWC"):
    strides = [1, 1, 1, 1]
    y = tf.nn.conv2d(x, w, strides=strides, padding="SAME", data_format=data_format)
    y = tf.nn.bias_add(y, b, data_format=data_format) if kind == "bias_add" else (y + b if kind == "add" else b + y)
    return tf.nn.relu(y)


def _inputs(seed=0, shape=(3, 7, 6, 4), out=5):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape).astype(np.float32),
            rng.standard_normal((3, 3, shape[3], out)).astype(np.float32),
            (rng.standard_normal(out) * 0.5).astype(np.float32))


def _run(backend, build, feeds_values, fetch_names=("y",)):
    with tf.Graph().as_default():
        fetches, feeds = build()
        with session_on(backend) as sess:
            sess.run(tf.global_variables_initializer())
            values = sess.run(fetches, dict(zip(feeds, feeds_values, strict=True)))
            return values, _fused_calls(sess)


def _training_graph(kind="add", data_format="NHWC"):
    def build():
        xv, wv, bv = _inputs()
        if data_format == "NCHW":
            xv = xv.transpose(0, 3, 1, 2)
        x = tf.placeholder(tf.float32, [None, *xv.shape[1:]])
        w = tf.Variable(wv)
        b = tf.Variable(bv)
        y = _layer(x, w, b, kind, data_format)
        loss = tf.reduce_sum(y * y)
        grads = tf.gradients(loss, [x, w, b])
        return [y, loss, *grads], [x]

    return build


@needs_onednn
@pytest.mark.parametrize("kind", ["add", "add_reversed", "bias_add"])
def test_a_layer_and_its_gradients_run_fused_and_match_numpy(kind):
    x = _inputs()[0]
    fused, calls = _run("fast_cpu", _training_graph(kind), [x])
    reference, reference_calls = _run("numpy", _training_graph(kind), [x])
    assert calls == 1 and reference_calls == 0
    for got, want in zip(fused, reference, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


@needs_onednn
def test_nchw_runs_fused_with_bias_add_only():
    x = _inputs()[0].transpose(0, 3, 1, 2).copy()
    fused, calls = _run("fast_cpu", _training_graph("bias_add", "NCHW"), [x])
    reference, _ = _run("numpy", _training_graph("bias_add", "NCHW"), [x])
    assert calls == 1
    for got, want in zip(fused, reference, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def _variants():
    """Graphs where an intermediate value is needed: none may be fused, all must give the values."""
    def fetched_conv():
        xv, wv, bv = _inputs()
        x = tf.placeholder(tf.float32, xv.shape)
        conv = tf.nn.conv2d(x, tf.constant(wv), [1, 1, 1, 1], "SAME")
        return [tf.nn.relu(conv + bv), conv], [x]

    def sum_used_twice():
        xv, wv, bv = _inputs()
        x = tf.placeholder(tf.float32, xv.shape)
        pre = tf.nn.conv2d(x, tf.constant(wv), [1, 1, 1, 1], "SAME") + bv
        return [tf.nn.relu(pre) + tf.sigmoid(pre)], [x]

    def not_a_channel_bias():
        xv, wv, _ = _inputs()
        x = tf.placeholder(tf.float32, xv.shape)
        return [tf.nn.relu(tf.nn.conv2d(x, tf.constant(wv), [1, 1, 1, 1], "SAME") + 0.5)], [x]

    def control_dependency():
        xv, wv, bv = _inputs()
        x = tf.placeholder(tf.float32, xv.shape)
        conv = tf.nn.conv2d(x, tf.constant(wv), [1, 1, 1, 1], "SAME")
        with tf.control_dependencies([conv]):
            marker = tf.identity(x)
        return [tf.nn.relu(conv + bv), marker], [x]

    def inside_a_cond():
        xv, wv, bv = _inputs()
        x = tf.placeholder(tf.float32, xv.shape)
        flag = tf.placeholder(tf.bool, [])
        y = tf.cond(flag, lambda: _layer(x, tf.constant(wv), tf.constant(bv)), lambda: x[..., :1] * 0 + 1)
        return [y], [x, flag]

    def float64():
        xv, wv, bv = _inputs()
        x = tf.placeholder(tf.float64, xv.shape)
        return [_layer(x, tf.constant(wv.astype(np.float64)), tf.constant(bv.astype(np.float64)))], [x]

    return {"fetched_conv": fetched_conv, "sum_used_twice": sum_used_twice, "not_a_channel_bias": not_a_channel_bias,
            "control_dependency": control_dependency, "inside_a_cond": inside_a_cond, "float64": float64}


@needs_onednn
@pytest.mark.parametrize("name", list(_variants()))
def test_patterns_whose_parts_are_needed_are_not_fused(name):
    build = _variants()[name]
    x = _inputs()[0]
    values = [x.astype(np.float64)] if name == "float64" else [x]
    if name == "inside_a_cond":
        values.append(True)
    got, calls = _run("fast_cpu", build, values)
    want, _ = _run("numpy", build, values)
    assert calls == 0
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def _fused(x, w, b, fused_ops):
    return apply_op("_FusedConv2D", [x, w, b], dict(T=x.dtype, strides=[1, 2, 2, 1], padding="SAME",
                                                     explicit_paddings=[], data_format="NHWC", dilations=[1, 1, 1, 1],
                                                     fused_ops=fused_ops), "fused")


@pytest.mark.parametrize("fused_ops", [["BiasAdd"], [b"BiasAdd", b"Relu"]])
def test_the_op_matches_the_three_ops_on_every_backend(fused_ops):
    xv, wv, bv = _inputs(1, (2, 9, 7, 3), 4)
    backends = ["portable", "numpy"] + (["fast_cpu"] if _onednn_loads() else [])
    for backend in backends:
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, xv.shape)
            y = _fused(x, tf.constant(wv), tf.constant(bv), fused_ops)
            assert y.shape.as_list() == [2, 5, 4, 4]
            reference = tf.nn.bias_add(tf.nn.conv2d(x, wv, [1, 2, 2, 1], "SAME"), bv)
            if len(fused_ops) == 2:
                reference = tf.nn.relu(reference)
            with session_on(backend) as sess:
                got, want = sess.run([y, reference], {x: xv})
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=backend)


def test_bad_fused_ops_and_dtypes_are_refused_when_the_graph_is_built():
    xv, wv, bv = _inputs()
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, xv.shape)
        with pytest.raises(ValueError, match=r"fused_ops \['BiasAdd', 'Elu'\] is not supported"):
            _fused(x, tf.constant(wv), tf.constant(bv), ["BiasAdd", "Elu"])
        with pytest.raises(TypeError):
            _fused(x, tf.constant(wv), tf.constant(bv.astype(np.float64)), ["BiasAdd"])


# ------------------------------------------------------------ ReluGrad of a MaxPoolGrad
def _pooled_relu_graph(xv, ksize, strides, padding):
    x = tf.placeholder(tf.float32, xv.shape)
    pooled = tf.nn.max_pool(tf.nn.relu(x), ksize, strides, padding)
    scale = np.linspace(-3, 3, int(np.prod(pooled.shape.as_list()))).astype(np.float32).reshape(pooled.shape.as_list())
    scale.reshape(-1)[:3] = [np.inf, -np.inf, np.nan]
    loss = tf.reduce_sum(pooled * tf.constant(scale))
    grad = tf.gradients(loss, x)[0]
    assert grad.op.type == "ReluGrad" and grad.op.inputs[0].op.type == "MaxPoolGrad"
    return x, grad, grad.op.inputs[0]


def _step_types(sess):
    (plan,) = [p for p in sess._plans.values() if p.source.count("\n") > 3][-1:]
    return [op.type for op in plan.step_ops if op is not None]


@pytest.mark.parametrize("backend", ["numpy", "fast_cpu", "portable"])
@pytest.mark.parametrize("ksize,strides,padding", [([1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
                                                   ([1, 3, 3, 1], [1, 1, 1, 1], "SAME"),
                                                   ([1, 3, 3, 1], [1, 2, 2, 1], "VALID")])
def test_relu_grad_through_a_max_pool_grad_runs_on_the_pooled_gradient(backend, ksize, strides, padding):
    if backend == "fast_cpu" and not fast_cpu.installed():
        pytest.skip("the fast extra is not installed")
    rng = np.random.default_rng(4)
    xv = rng.integers(-2, 3, (2, 7, 6, 5)).astype(np.float32)  # ties, zeros, negative windows
    xv[0, 0, 0, :2] = [np.nan, -np.inf]
    with tf.Graph().as_default():
        x, grad, pool_grad = _pooled_relu_graph(xv, ksize, strides, padding)
        with session_on(backend) as sess:
            with np.errstate(invalid="ignore"):
                fused = sess.run(grad, {x: xv})
                types = _step_types(sess)
                separate, _ = sess.run([grad, pool_grad], {x: xv})  # MaxPoolGrad fetched: run as it is
    assert types.index("ReluGrad") < types.index("MaxPoolGrad")
    np.testing.assert_array_equal(fused, separate)


def test_a_max_pool_grad_read_elsewhere_is_not_rewritten():
    xv = np.random.default_rng(5).standard_normal((2, 6, 6, 3)).astype(np.float32)
    with tf.Graph().as_default():
        x, grad, pool_grad = _pooled_relu_graph(xv, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
        total = grad + tf.reduce_sum(pool_grad)
        with session_on("numpy") as sess:
            sess.run(total, {x: xv})
            types = _step_types(sess)
    assert types.index("MaxPoolGrad") < types.index("ReluGrad")


def _bias_gradient_graph(xv, ksize, strides, padding, data_format="NHWC", kind="bias_add"):
    """A conv-like layer's tail, relu(x + b) then max pooling: the gradient of b is the sum per
    channel (BiasAddGrad, or a Sum for `x + b`) of ReluGrad(MaxPoolGrad(...))."""
    x = tf.placeholder(tf.float32, xv.shape)
    channels = xv.shape[3] if data_format == "NHWC" else xv.shape[1]
    b = tf.constant(np.linspace(-0.5, 0.5, channels).astype(np.float32))
    biased = tf.nn.bias_add(x, b, data_format=data_format) if kind == "bias_add" else x + b
    pooled = tf.nn.max_pool(tf.nn.relu(biased), ksize, strides, padding, data_format=data_format)
    scale = np.random.default_rng(1).standard_normal(pooled.shape.as_list()).astype(np.float32)
    loss = tf.reduce_sum(pooled * tf.constant(scale))
    return x, tf.gradients(loss, [x, b])


@pytest.mark.parametrize("backend", ["numpy", "fast_cpu"])
@pytest.mark.parametrize("ksize,strides,padding,data_format,kind", [
    ([1, 2, 2, 1], [1, 2, 2, 1], "SAME", "NHWC", "add"),
    ([1, 2, 2, 1], [1, 2, 2, 1], "SAME", "NHWC", "bias_add"),
    ([1, 3, 3, 1], [1, 1, 1, 1], "SAME", "NHWC", "add"),  # overlapping windows: values with several gradients
    ([1, 3, 3, 1], [1, 2, 2, 1], "VALID", "NHWC", "bias_add"),  # rows and columns in no window
    ([1, 1, 2, 2], [1, 1, 2, 2], "SAME", "NCHW", "bias_add")])
def test_a_bias_gradient_through_a_max_pool_sums_the_pooled_gradient(backend, ksize, strides, padding,
                                                                     data_format, kind):
    if backend == "fast_cpu" and not fast_cpu.installed():
        pytest.skip("the fast extra is not installed")
    rng = np.random.default_rng(7)
    shape = (3, 7, 6, 5) if data_format == "NHWC" else (3, 5, 7, 6)
    xv = rng.standard_normal(shape).astype(np.float32)
    bias_grad = "Sum" if kind == "add" else "BiasAddGrad"
    with tf.Graph().as_default():
        x, (dx, db) = _bias_gradient_graph(xv, ksize, strides, padding, data_format, kind)
        with session_on(backend) as sess:
            got_dx, got_db = sess.run([dx, db], {x: xv})
            (plan,) = [p for p in sess._plans.values() if "ReluGrad" in [op.type for op in p.step_ops if op]]
            lines = list(zip(plan.source.splitlines()[1:], plan.step_ops))
            sum_line = [line for line, op in lines if op and op.type == bias_grad]
            relu_line = [line for line, op in lines if op and op.type == "ReluGrad"]
    if backend == "fast_cpu" and data_format == "NHWC":
        # one _ReluMaxPoolGrad call gives the pooling's gradient and the bias gradient
        assert sum_line == [] and re.match(r"\s+t\d+, t\d+ = ", relu_line[0])
    else:  # the Sum reads the pooled ReluGrad's result
        masked = re.match(r"\s+(t\d+) = ", relu_line[0]).group(1)
        assert re.search(rf"\(xp, {masked}, ", sum_line[0])
    axes = (0, 1, 2) if data_format == "NHWC" else (0, 2, 3)
    np.testing.assert_allclose(got_db, got_dx.sum(axis=axes, dtype=np.float64), rtol=1e-5, atol=1e-5)


def _sum_inputs(plan):
    """The first argument of each Sum call of `plan`, and the result of its ReluGrad call."""
    lines = list(zip(plan.source.splitlines()[1:], plan.step_ops))
    sums = [re.search(r"\(xp, (t\d+), ", line).group(1) for line, op in lines if op and op.type == "Sum"]
    (relu,) = [re.match(r"\s+(t\d+) = ", line).group(1) for line, op in lines if op and op.type == "ReluGrad"]
    return sums, relu


def test_a_sum_over_other_axes_or_of_a_fetched_max_pool_grad_is_not_rewritten():
    xv = np.random.default_rng(8).standard_normal((2, 6, 6, 3)).astype(np.float32)
    with tf.Graph().as_default():
        x, (dx, db) = _bias_gradient_graph(xv, [1, 2, 2, 1], [1, 2, 2, 1], "VALID", kind="add")
        pool_grad = dx.op.inputs[0]
        rows = tf.reduce_sum(dx, [0, 1])  # not a sum per channel
        with session_on("numpy") as sess:
            got_db, got_rows, got_dx = sess.run([db, rows, dx], {x: xv})
            sums, relu = _sum_inputs(list(sess._plans.values())[-1])
            assert sums.count(relu) == 1  # the bias gradient's; the other Sum reads the full gradient
            np.testing.assert_allclose(got_db, got_dx.sum(axis=(0, 1, 2)), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got_rows, got_dx.sum(axis=(0, 1)), rtol=1e-5, atol=1e-6)
            db_again, _ = sess.run([db, pool_grad], {x: xv})  # MaxPoolGrad fetched: no rewrite
            sums, relu = _sum_inputs(list(sess._plans.values())[-1])
            assert sums == [relu]  # the Sum of ReluGrad(MaxPoolGrad(...)), input-sized
            np.testing.assert_allclose(db_again, got_db, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ MaxPool with its gradient
@needs_onednn
def test_a_max_pool_and_its_gradient_share_the_argmax_workspace_on_fast_cpu():
    rng = np.random.default_rng(6)
    xv = rng.integers(-2, 3, (2, 7, 6, 5)).astype(np.float32)
    xv[0, 0, 0, 0] = np.nan
    results = {}
    for backend in ("fast_cpu", "numpy"):
        with tf.Graph().as_default():
            x = tf.placeholder(tf.float32, xv.shape)
            pooled = tf.nn.max_pool(x * 1.5, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
            loss = tf.reduce_sum(pooled * np.linspace(-1, 1, 2 * 4 * 3 * 5).reshape(2, 4, 3, 5).astype(np.float32))
            grad = tf.gradients(loss, x)[0]
            with session_on(backend) as sess:
                results[backend] = sess.run([pooled, grad], {x: xv})
                types = _step_types(sess)
                lines = list(sess._plans.values())[0].source.splitlines()
                separate = sess.run([grad, pooled], {x: xv})  # MaxPool fetched too: still paired
        if backend == "fast_cpu":
            assert "MaxPoolGrad" in types and "MaxPool" in types
            # the pooling returns its workspace; the gradient takes x, y, dy and the workspace
            assert any(re.match(r"\s+t\d+, t\d+ = k\d+\(xp, t\d+, ksize=", line) for line in lines)
            assert any(re.match(r"\s+t\d+ = k\d+\(xp(, \w+){4}, ksize=", line) for line in lines)
            np.testing.assert_array_equal(separate[0], results[backend][1])
    # NaN: fast_cpu pools as TF's oneDNN kernels (never the NaN), NumPy as its Eigen kernels; elsewhere equal
    keep = ~np.isnan(results["numpy"][0])
    np.testing.assert_array_equal(results["fast_cpu"][0][keep], results["numpy"][0][keep])
