"""The resize ops against TensorFlow 2.21 (tests/fixtures/images/cases.npz): values (bitwise for
every method), gradients, static shapes, errors; and `tf.image.resize_images` around them."""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf
from tests import image_fixtures as fixtures

CASES = fixtures.cases()
RESIZE_CASES = fixtures.builders.RESIZE_CASES
FUNCTIONS = {"ResizeBilinear": tf.image.resize_bilinear, "ResizeNearestNeighbor": tf.image.resize_nearest_neighbor,
             "ResizeBicubic": tf.image.resize_bicubic, "ResizeArea": tf.image.resize_area}


def _resize(x: tf.Tensor, case: tuple) -> tf.Tensor:
    op, align, half, size = case
    kwargs = {} if op == "ResizeArea" else {"half_pixel_centers": half}
    return FUNCTIONS[op](x, size, align_corners=align, **kwargs)


@pytest.mark.parametrize("dtype", ["float32", "uint8"])
def test_values_equal_tfs(dtype: str) -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.constant(fixtures.builders.resize_input(dtype))
        outputs = [_resize(x, case) for case in RESIZE_CASES]
        values = sess.run(outputs)
    for case, y, value in zip(RESIZE_CASES, outputs, values):
        expected = CASES[f"resize|{fixtures.resize_key(dtype, case)}"]
        assert value.dtype == expected.dtype and y.dtype == tf.as_dtype(expected.dtype), case
        assert y.shape.as_list() == list(expected.shape), case
        np.testing.assert_array_equal(value, expected, err_msg=str(case))


def test_gradients_equal_tfs() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.constant(fixtures.builders.resize_input("float32"))
        for case in RESIZE_CASES:
            if case[0] == "ResizeArea":
                continue
            key = fixtures.resize_key("float32", case)
            (grad,) = tf.gradients(_resize(x, case), x, grad_ys=tf.constant(CASES[f"resize_grad_in|{key}"]))
            assert grad.op.type == case[0] + "Grad" and grad.shape.as_list() == [2, 5, 7, 3]
            np.testing.assert_allclose(sess.run(grad), CASES[f"resize_grad|{key}"], rtol=1e-5, atol=1e-5,
                                       err_msg=key)


@pytest.mark.parametrize("case", [c for c in RESIZE_CASES if c[0] != "ResizeArea"], ids=str)
def test_gradients_match_central_differences(case: tuple) -> None:
    """The resize ops are linear: central differences with a large step are exact but for float32
    rounding, in float32 (bilinear and bicubic give float32 for any input) and float64 input."""
    x_value = np.random.default_rng(1).uniform(-1, 1, (1, 4, 5, 2))
    for dtype in (tf.float32, tf.float64):
        with tf.Graph().as_default(), tf.Session():
            x = tf.placeholder(dtype, x_value.shape)
            y = _resize(x, case)
            theoretical, numerical = tf.test.compute_gradient(x, x_value.shape, y, y.shape.as_list(),
                                                              x_init_value=x_value, delta=0.25)
            np.testing.assert_allclose(theoretical, numerical, rtol=1e-4, atol=1e-4)
            assert tf.gradients(y, x)[0].dtype == dtype


def test_gradient_with_unknown_image_size_and_nearest_neighbor_gradient_dtype() -> None:
    x_value = np.arange(2 * 3 * 4 * 1, dtype=np.float64).reshape(2, 3, 4, 1)
    with tf.Graph().as_default(), tf.Session() as sess:
        x = tf.placeholder(tf.float64, [None, None, None, 1])
        y = tf.image.resize_nearest_neighbor(x, [5, 7])
        assert y.shape.as_list() == [None, 5, 7, 1] and y.dtype == tf.float64
        (grad,) = tf.gradients(tf.reduce_sum(y), x)
        value = sess.run(grad, {x: x_value})
    rows = np.floor(np.arange(5) * np.float32(3 / 5)).astype(int)
    columns = np.floor(np.arange(7) * np.float32(4 / 7)).astype(int)
    expected = np.zeros((3, 4))
    np.add.at(expected, (rows[:, None], columns[None, :]), 1.0)
    np.testing.assert_array_equal(value, np.broadcast_to(expected[None, :, :, None], (2, 3, 4, 1)))


def test_no_gradient_for_area_and_none_for_integer_bicubic() -> None:
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [1, 4, 4, 1])
        with pytest.raises(LookupError, match=r"No gradient defined for operation 'ResizeArea'.*ResizeArea"):
            tf.gradients(tf.image.resize_area(x, [2, 2]), x)
        as_float = tf.cast(x, tf.int32)
        assert tf.gradients(tf.image.resize_bicubic(as_float, [2, 2]), as_float) == [None]


def test_static_shapes() -> None:
    with tf.Graph().as_default():
        images = tf.placeholder(tf.uint8, [None, 5, None, 3])
        assert tf.image.resize_bilinear(images, [4, 6]).shape.as_list() == [None, 4, 6, 3]
        assert tf.image.resize_nearest_neighbor(images, [4, 6]).dtype == tf.uint8
        assert tf.image.resize_bicubic(images, [4, 6]).dtype == tf.float32
        size = tf.placeholder(tf.int32, [2])
        assert tf.image.resize_area(images, size).shape.as_list() == [None, None, None, 3]
        assert tf.image.resize_bilinear(tf.placeholder(tf.float32), tf.stack([3, size[1]])).shape.as_list() == \
            [None, 3, None, None]
        op = tf.image.resize_bilinear(images, [4, 6]).op
        assert op.type == "ResizeBilinear" and op.get_attr("half_pixel_centers") is False
        assert op.inputs[1].op.name == "ResizeBilinear_2/size"


def test_build_errors() -> None:
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="Shape must be rank 4 but is rank 3"):
            tf.image.resize_bilinear(np.zeros((4, 5, 3), np.float32), [2, 2])
        with pytest.raises(ValueError, match="Dimension must be 2 but is 3"):
            tf.image.resize_nearest_neighbor(np.zeros((1, 4, 5, 3), np.float32), [2, 2, 2])
        with pytest.raises(TypeError, match="Value passed to parameter 'images' has DataType bool"):
            tf.image.resize_bicubic(np.zeros((1, 4, 5, 3), bool), [2, 2])


@pytest.mark.parametrize("images, size, kwargs, message", [
    (np.zeros((1, 4, 5, 3), np.float32), [2, 2], {"align_corners": True, "half_pixel_centers": True},
     "If half_pixel_centers is True, align_corners must be False."),
    (np.zeros((1, 4, 5, 3), np.float32), [0, 2], {}, "output dimensions must be positive"),
    (np.zeros((1, 0, 5, 3), np.float32), [2, 2], {}, "input image must be of non-zero size"),
    (np.zeros((1, 4, 5, 0), np.float32), [2, 2], {}, "image must have at least one channel"),
])
def test_run_time_errors(images: np.ndarray, size: list, kwargs: dict, message: str) -> None:
    for function in (tf.image.resize_bilinear, tf.image.resize_nearest_neighbor, tf.image.resize_bicubic):
        with tf.Graph().as_default(), tf.Session() as sess:
            with pytest.raises(tf.errors.InvalidArgumentError, match=message):
                sess.run(function(images, size, **kwargs))


def test_run_time_shape_errors_with_placeholders() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        images = tf.placeholder(tf.float32)
        size = tf.placeholder(tf.int32)
        resized = tf.image.resize_bilinear(images, size)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"input must be 4-dimensional\[4,5,3\]"):
            sess.run(resized, {images: np.zeros((4, 5, 3)), size: [2, 2]})
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape_t must have two elements\[3\]"):
            sess.run(resized, {images: np.zeros((1, 4, 5, 3)), size: [2, 2, 2]})


# ---------------------------------------------------------------- resize_images
def test_resize_images_structure() -> None:
    with tf.Graph().as_default():
        image = tf.placeholder(tf.uint8, [6, 8, 3])
        same = tf.image.resize_images(image, [6, 8])  # no resize op: the image expanded and squeezed back
        assert same.op.type == "Squeeze" and same.op.inputs[0].op.type == "ExpandDims" and same.dtype == tf.uint8
        same_batch = tf.placeholder(tf.uint8, [2, 6, 8, 3])
        assert tf.image.resize_images(same_batch, [6, 8]) is same_batch
        resized = tf.image.resize_images(image, [3, 4])
        assert resized.op.type == "Squeeze" and resized.shape.as_list() == [3, 4, 3] and resized.dtype == tf.float32
        assert resized.op.inputs[0].op.type == "ResizeBilinear"
        assert resized.op.inputs[0].op.get_attr("half_pixel_centers") is False
        batch = tf.placeholder(tf.float32, [None, None, None, 3])
        for method, op_type in [(tf.image.ResizeMethod.NEAREST_NEIGHBOR, "ResizeNearestNeighbor"),
                                (tf.image.ResizeMethod.BICUBIC, "ResizeBicubic"), ("area", "ResizeArea")]:
            out = tf.image.resize_images(batch, [5, 7], method=method, align_corners=True)
            assert out.op.type == op_type and out.op.get_attr("align_corners") is True
            assert out.shape.as_list() == [None, 5, 7, 3]
        assert tf.image.resize is tf.image.resize_images
        unknown_size = tf.image.resize_images(image, tf.placeholder(tf.int32, [2]))
        assert unknown_size.shape.as_list() == [None, None, 3]


@pytest.mark.parametrize("images, size, kwargs, message", [
    (np.zeros((3, 3), np.float32), [2, 2], {}, "'images' must have either 3 or 4 dimensions."),
    (np.zeros((4, 5, 3), np.float32), [2, 2, 2], {},
     "'size' must be a 1-D Tensor of 2 elements: new_height, new_width"),
    (np.zeros((4, 5, 3), np.float32), [2, 2], {"method": 7}, "Resize method is not implemented: 7"),
    (np.zeros((4, 5, 3), np.float32), [2.5, 2], {}, "'size' must be a 1-D int32 Tensor"),
])
def test_resize_images_errors(images: np.ndarray, size: list, kwargs: dict, message: str) -> None:
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=message):
            tf.image.resize_images(images, size, **kwargs)
        with pytest.raises(ValueError, match="'images' contains no shape."):
            tf.image.resize_images(tf.placeholder(tf.float32), [2, 2])
