"""Convolution and pooling beyond the op records: bad inputs, op names, large-batch kernel paths."""
import numpy as np
import pytest

import caudal as tf


def _p(shape, dtype=None):
    return tf.placeholder(dtype or tf.float32, shape)


@pytest.mark.parametrize("build, error, message", [
    (lambda: tf.nn.conv2d(_p([1, 5, 5, 3]), _p([3, 3, 4, 2]), 1, "SAME"), ValueError,
     "Depth of input (3) is not a multiple of input depth of filter (4)"),
    (lambda: tf.nn.conv2d(_p([1, 2, 5, 3]), _p([3, 3, 3, 2]), 1, "VALID"), ValueError,
     "Negative dimension size caused by subtracting 3 from 2"),
    (lambda: tf.nn.conv2d(_p([5, 5, 3]), _p([3, 3, 3, 2]), 1, "VALID"), ValueError,
     "Shape must be rank 4 but is rank 3"),
    (lambda: tf.nn.conv2d(_p([1, 5, 5, 3]), _p([3, 3, 3, 2]), [1, 1, 1], "VALID"), ValueError,
     "strides should be of length 1, 2 or 4. Received: strides=[1, 1, 1] of length 3"),
    (lambda: tf.nn.conv2d(_p([1, 5, 5, 3]), _p([3, 3, 3, 2]), 1, "FOO"), ValueError,
     "Attr 'padding' of 'Conv2D' Op passed string 'FOO' not in"),
    (lambda: tf.nn.conv2d(_p([1, 5, 5, 3]), _p([3, 3, 3, 2]), [2, 1, 1, 1], "VALID"), ValueError,
     "does not yet support strides in the batch and depth dimensions"),
    (lambda: tf.nn.conv2d(_p([1, 5, 5, 3]), _p([3, 3, 3, 2]), 1, "SAME", filters=_p([3, 3, 3, 2])), ValueError,
     "Cannot specify both 'filters' and 'filter'"),
    (lambda: tf.nn.depthwise_conv2d(_p([1, 5, 5, 3]), _p([3, 3, 4, 2]), [1, 1, 1, 1], "SAME"), ValueError,
     "Dimensions must be equal, but are 3 and 4"),
    (lambda: tf.nn.max_pool(_p([1, 5, 5, 3]), 6, 1, "VALID"), ValueError,
     "Negative dimension size caused by subtracting 6 from 5"),
    (lambda: tf.nn.max_pool(_p([5, 5, 3]), 2, 1, "VALID"), ValueError, "Shape must be rank 4 but is rank 3"),
    (lambda: tf.nn.avg_pool(_p([1, 5, 5, 3], tf.int32), 2, 2, "SAME"), TypeError,
     "Value passed to parameter 'value' has DataType int32 not in list of allowed values: "),
    (lambda: tf.nn.conv2d(_p([1, 5, 5, 3], tf.int32), _p([3, 3, 3, 2]), 1, "SAME"), ValueError,
     "Tensor conversion requested dtype int32 for Tensor with dtype float32"),
    (lambda: tf.nn.conv1d(_p([1, 5, 3]), _p([3, 3, 2]), 1, "SAME", data_format="NHWCX"), ValueError,
     "`data_format` must be 'NWC' or 'NCW'"),
])
def test_bad_inputs_fail_when_the_node_is_built(build, error, message) -> None:
    with tf.Graph().as_default() as graph:
        before = len(graph.get_operations())
        with pytest.raises(error) as info:
            build()
        assert message in str(info.value)
        assert not [op for op in graph.get_operations()[before:] if op.type in ("Conv2D", "MaxPool", "AvgPool")]


def test_out_backprop_of_the_wrong_shape_fails_at_run_time() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        sizes = tf.placeholder(tf.int32, [4])
        dx = tf.nn.conv2d_backprop_input(sizes, tf.ones([3, 3, 2, 4]), tf.ones([1, 5, 5, 4]), [1, 1, 1, 1], "SAME")
        with pytest.raises(tf.errors.InvalidArgumentError, match="out_backprop"):
            sess.run(dx, {sizes: [1, 6, 6, 2]})
        assert sess.run(dx, {sizes: [1, 5, 5, 2]}).shape == (1, 5, 5, 2)


def test_op_names_follow_tensorflow() -> None:
    with tf.Graph().as_default() as graph:
        x = _p([2, 7, 7, 3])
        tf.nn.conv1d(_p([2, 9, 3]), _p([3, 3, 4]), 2, "SAME")
        tf.nn.depthwise_conv2d(x, _p([3, 3, 3, 2]), [1, 1, 1, 1], "SAME")
        tf.nn.separable_conv2d(x, _p([3, 3, 3, 2]), _p([1, 1, 6, 5]), [1, 1, 1, 1], "SAME")
        tf.nn.max_pool1d(_p([2, 9, 3]), 2, 2, "SAME")
        tf.nn.avg_pool1d(_p([2, 9, 3]), 2, 2, "SAME")
        tf.nn.conv2d_transpose(x, _p([3, 3, 5, 3]), [2, 13, 13, 5], [1, 2, 2, 1], "SAME")
        tf.nn.conv2d(x, _p([3, 3, 3, 4]), 1, "SAME")
        tf.nn.max_pool(x, 2, 2, "SAME")
        tf.nn.avg_pool(x, 2, 2, "SAME")
        tf.nn.max_pool2d(x, 2, 2, "SAME")
        tf.nn.avg_pool2d(x, 2, 2, "SAME")
        named = {op.name: op.type for op in graph.get_operations() if op.type not in ("Placeholder", "Const")}
    expected = {"conv1d/ExpandDims": "ExpandDims", "conv1d/ExpandDims_1": "ExpandDims", "conv1d": "Conv2D",
                "conv1d/Squeeze": "Squeeze", "depthwise": "DepthwiseConv2dNative",
                "separable_conv2d/depthwise": "DepthwiseConv2dNative", "separable_conv2d": "Conv2D",
                "MaxPool1d/ExpandDims": "ExpandDims", "MaxPool1d": "MaxPool", "MaxPool1d/Squeeze": "Squeeze",
                "AvgPool1D/ExpandDims": "ExpandDims", "AvgPool1D": "AvgPool", "AvgPool1D/Squeeze": "Squeeze",
                "conv2d_transpose": "Conv2DBackpropInput", "Conv2D": "Conv2D", "MaxPool": "MaxPool",
                "AvgPool": "AvgPool", "MaxPool2d": "MaxPool", "AvgPool2D": "AvgPool"}
    assert named == expected


def test_gradient_op_types_follow_tensorflow() -> None:
    with tf.Graph().as_default() as graph:
        x = tf.constant(np.ones((1, 4, 4, 2), np.float32))
        w = tf.constant(np.ones((3, 3, 2, 2), np.float32))
        y = tf.nn.max_pool(tf.nn.conv2d(x, w, 1, "SAME"), 2, 2, "VALID")
        (gx,) = tf.gradients(tf.reduce_sum(tf.nn.avg_pool(y, 2, 2, "VALID")), [x])
        tf.gradients(tf.reduce_sum(gx * gx), [x])
        types = {op.type for op in graph.get_operations()}
    assert {"Conv2DBackpropInput", "Conv2DBackpropFilter", "MaxPoolGrad", "AvgPoolGrad", "MaxPoolGradGrad",
            "AvgPool"} <= types


def test_filter_gradient_of_a_tall_first_layer_matches_a_direct_sum() -> None:
    """Many output positions and one input channel: the filter gradient is summed in row blocks."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 40, 50, 1))
    dy = rng.standard_normal((9, 40, 50, 3))
    padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))  # n, h, w, c, kh, kw
    expected = np.einsum("nhwcab,nhwo->abco", windows, dy)
    with tf.Graph().as_default(), tf.Session() as sess:
        dw = tf.nn.conv2d_backprop_filter(x, [3, 3, 1, 3], dy, [1, 1, 1, 1], "SAME")
        np.testing.assert_allclose(sess.run(dw), expected, rtol=1e-10, atol=1e-9)


def _direct_conv(x, w, pads):
    """float64 reference: every window of x zero-padded by pads ((top, bottom), (left, right))."""
    padded = np.pad(x.astype(np.float64), [(0, 0), pads[0], pads[1], (0, 0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, w.shape[:2], axis=(1, 2))  # n, h, w, c, kh, kw
    return windows, np.einsum("nhwcab,abco->nhwo", windows, w.astype(np.float64))


@pytest.mark.parametrize("batch, size, padding, pads", [
    (32, 12, "SAME", ((1, 1), (1, 1))),
    (96, 7, "SAME", ((1, 1), (1, 1))),
    (40, 13, "VALID", ((0, 0), (0, 0))),
    (36, 11, [[0, 0], [2, 0], [1, 2], [0, 0]], ((2, 0), (1, 2))),
])
def test_large_3x3_convolutions_and_their_gradients_match_a_direct_sum(batch, size, padding, pads) -> None:
    """Shapes large enough for the Winograd kernels (even and odd output sizes, uneven padding)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, size, size, 16)).astype(np.float32)
    w = rng.standard_normal((3, 3, 16, 24)).astype(np.float32)
    windows, expected = _direct_conv(x, w, pads)
    dy = rng.standard_normal(expected.shape).astype(np.float32)
    expected_dw = np.einsum("nhwcab,nhwo->abco", windows, dy.astype(np.float64))
    dy_padded = np.pad(dy.astype(np.float64), [(0, 0), (2, 2), (2, 2), (0, 0)])
    dx_windows = np.lib.stride_tricks.sliding_window_view(dy_padded, (3, 3), axis=(1, 2))
    full_dx = np.einsum("nhwoab,abco->nhwc", dx_windows, w[::-1, ::-1].astype(np.float64))
    (top, _), (left, _) = pads
    expected_dx = full_dx[:, top:top + size, left:left + size]
    with tf.Graph().as_default(), tf.Session() as sess:
        y = tf.nn.conv2d(x, w, 1, padding)
        dx = tf.nn.conv2d_backprop_input([batch, size, size, 16], w, dy, [1, 1, 1, 1], padding)
        dw = tf.nn.conv2d_backprop_filter(x, [3, 3, 16, 24], dy, [1, 1, 1, 1], padding)
        got_y, got_dx, got_dw = sess.run([y, dx, dw])
    for got, want in ((got_y, expected), (got_dx, expected_dx), (got_dw, expected_dw)):
        assert got.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * np.abs(want).max())


@pytest.mark.parametrize("strides, dilations, padding", [
    ((1, 1), (1, 1), "SAME"), ((2, 2), (1, 1), "SAME"), ((1, 2), (2, 1), "VALID"), ((2, 1), (1, 1), "EXPLICIT"),
])
def test_convolutions_computed_per_chunk_of_images_equal_one_product(monkeypatch, strides, dilations,
                                                                      padding) -> None:
    """NumPy computes large convolutions per chunk of images (for the cache); one image per chunk
    must give what one product over the whole batch gives, and what the portable kernels give."""
    from caudal.ops import _conv_kernels as portable
    from caudal.ops import _conv_kernels_numpy as K

    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 9, 8, 6)).astype(np.float32)
    w = rng.standard_normal((3, 2, 6, 4)).astype(np.float32)
    explicit = (0, 0, 1, 2, 2, 0, 0, 0) if padding == "EXPLICIT" else ()
    y = K.conv2d(np, x, w, strides, dilations, padding, explicit)
    dy = rng.standard_normal(y.shape).astype(np.float32)

    def all_three(module):
        return [module.conv2d(np, x, w, strides, dilations, padding, explicit),
                module.conv2d_backprop_filter(np, x, w.shape, dy, strides, dilations, padding, explicit),
                module.conv2d_backprop_input(np, x.shape, w, dy, strides, dilations, padding, explicit)]

    whole = all_three(K)
    reference = all_three(portable)
    monkeypatch.setattr(K, "_CHUNK_BYTES", 1)
    assert len(K.image_chunks(5, 100)) == 5
    chunked = all_three(K)
    for got, want, ref in zip(chunked, whole, reference, strict=True):
        assert got.dtype == want.dtype == ref.dtype and got.shape == want.shape == ref.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(ref, want, rtol=1e-5, atol=1e-5)


def test_an_empty_batch_gives_empty_outputs_and_a_zero_filter_gradient() -> None:
    x = tf.placeholder(tf.float32, [None, 5, 5, 2])
    w = tf.constant(np.ones((3, 3, 2, 4), np.float32))
    y = tf.nn.conv2d(x, w, 1, "SAME")
    dx, dw = tf.gradients(tf.reduce_sum(y), [x, w])
    with tf.Session() as sess:
        got_y, got_dx, got_dw = sess.run([y, dx, dw], {x: np.zeros((0, 5, 5, 2), np.float32)})
    assert got_y.shape == (0, 5, 5, 4) and got_dx.shape == (0, 5, 5, 2)
    np.testing.assert_array_equal(got_dw, np.zeros((3, 3, 2, 4), np.float32))
