"""tf.image's flips, rotations, crops, pads, color and dtype functions: the values and static
shapes TensorFlow 2.21 gives for the cases of tests/fixtures/make_image_fixtures.py (built
here with caudal), the random functions by their statistics and structure, and TF's errors."""
from __future__ import annotations

import numpy as np
import pytest

import caudal as tf
from tests import image_fixtures as fixtures

CASES = fixtures.cases()
BUILDERS = fixtures.builders


@pytest.mark.parametrize("name", list(BUILDERS.CASES))
def test_values_and_static_shapes_equal_tfs(name: str) -> None:
    builder, input_name = BUILDERS.CASES[name]
    with tf.Graph().as_default(), tf.Session() as sess:
        result = builder(tf, tf.constant(BUILDERS.CASE_INPUTS[input_name]()))
        value = sess.run(result)
    expected = CASES[f"case|{name}"]
    static = [-2] if result.shape.ndims is None else [-1 if d is None else d for d in result.shape.as_list()]
    assert static == list(CASES[f"shape|{name}"])
    assert value.dtype == expected.dtype and value.shape == expected.shape
    np.testing.assert_allclose(value, expected, rtol=1e-6, atol=3e-7)


@pytest.mark.parametrize("name", ["flip_left_right", "rot90_1", "crop_to_bounding_box", "crop_or_pad_mixed",
                                  "central_crop_half", "transpose_image", "per_image_standardization_uint8"])
def test_same_values_with_unknown_shapes(name: str) -> None:
    """With a placeholder of unknown shape, the checks become Asserts and the values are the same."""
    builder, input_name = BUILDERS.CASES[name]
    image = BUILDERS.CASE_INPUTS[input_name]()
    # central_crop needs the rank (TF raises for an unknown one); the others take an unknown rank too.
    for shape in ([None, None, 3],) if name.startswith("central_crop") else (None, [None, None, 3]):
        with tf.Graph().as_default(), tf.Session() as sess:
            placeholder = tf.placeholder(tf.as_dtype(image.dtype), shape)
            result = builder(tf, placeholder)
            value = sess.run(result, {placeholder: image})
        np.testing.assert_allclose(value, CASES[f"case|{name}"], rtol=1e-6, atol=3e-7, err_msg=str(shape))


def test_flips_are_reverse_ops_with_gradients() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        image = tf.placeholder(tf.float32, [2, 3, 4, 1])
        flipped = tf.image.flip_left_right(image)
        assert flipped.op.type == "ReverseV2" and flipped.op.name == "flip_left_right/ReverseV2"
        cropped = tf.image.crop_to_bounding_box(tf.image.flip_up_down(image), 1, 1, 2, 2)
        (grad,) = tf.gradients(tf.reduce_sum(cropped * 3.0), image)
        value = sess.run(grad, {image: np.zeros((2, 3, 4, 1))})
    expected = np.zeros((3, 4))
    expected[0:2, 1:3] = 3.0
    np.testing.assert_array_equal(value[0, ..., 0], expected)


def test_rot90_of_unknown_rank_and_k_tensor() -> None:
    image = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
    with tf.Graph().as_default(), tf.Session() as sess:
        placeholder = tf.placeholder(tf.float32)
        k = tf.placeholder(tf.int32, [])
        rotated = tf.image.rot90(placeholder, k)
        for quarter_turns in range(-1, 5):
            value = sess.run(rotated, {placeholder: image, k: quarter_turns})
            np.testing.assert_array_equal(value, np.rot90(image, quarter_turns))
        with pytest.raises(ValueError, match=r"Shape \(2,\) must have rank 0"):
            tf.image.rot90(image, k=[1, 2])


def test_random_flip_of_an_image_is_a_cond_and_flips_half_the_time() -> None:
    image = np.arange(6, dtype=np.float32).reshape(1, 6, 1)
    with tf.Graph().as_default(), tf.Session() as sess:
        flipped = tf.image.random_flip_left_right(image, seed=3)
        assert flipped.op.type == "Merge" and flipped.op.name == "random_flip_left_right/Merge"
        assert flipped.shape.as_list() == [1, 6, 1]
        values = [sess.run(flipped) for _ in range(200)]
    mirrored = sum(np.array_equal(v, image[:, ::-1]) for v in values)
    assert all(np.array_equal(v, image) or np.array_equal(v, image[:, ::-1]) for v in values)
    assert 70 < mirrored < 130


def test_random_flip_of_a_batch_flips_each_image_independently() -> None:
    batch = np.arange(40 * 2 * 3, dtype=np.float32).reshape(40, 2, 3, 1)
    with tf.Graph().as_default(), tf.Session() as sess:
        flipped = tf.image.random_flip_up_down(batch, seed=1)
        assert flipped.shape.as_list() == [40, 2, 3, 1]
        value = sess.run(flipped)
    upside_down = [np.array_equal(v, b[::-1]) for v, b in zip(value, batch)]
    assert all(u or np.array_equal(v, b) for u, v, b in zip(upside_down, value, batch))
    assert 8 < sum(upside_down) < 32


def test_random_flip_seeds_repeat_in_a_new_session() -> None:
    batch = np.arange(20 * 2 * 2, dtype=np.float32).reshape(20, 2, 2, 1)
    with tf.Graph().as_default():
        flipped = tf.image.random_flip_left_right(batch, seed=7)
        with tf.Session() as sess:
            first = [sess.run(flipped) for _ in range(3)]
        with tf.Session() as sess:
            second = [sess.run(flipped) for _ in range(3)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(first[0], f) for f in first[1:])


def test_random_brightness_and_contrast_statistics() -> None:
    image = np.full((4, 4, 3), 0.5, np.float32)
    image[0, 0] = 0.0
    with tf.Graph().as_default(), tf.Session() as sess:
        bright = tf.image.random_brightness(image, 0.2, seed=1)
        deltas = np.array([sess.run(bright)[1, 1, 0] - 0.5 for _ in range(300)])
        contrast = tf.image.random_contrast(image, 0.5, 1.5, seed=2)
        assert contrast.op.inputs[0].op.type == "AdjustContrastv2" or contrast.op.type == "AdjustContrastv2"
        mean = image.mean(axis=(0, 1))[0]
        factors = np.array([(sess.run(contrast)[0, 0, 0] - mean) / (0.0 - mean) for _ in range(300)])
    assert deltas.min() >= -0.2 and deltas.max() < 0.2 and abs(deltas.mean()) < 0.03
    assert factors.min() >= 0.5 - 1e-5 and factors.max() < 1.5 + 1e-5 and abs(factors.mean() - 1.0) < 0.06


def test_random_crop_is_tf_random_crop() -> None:
    image = np.arange(5 * 6 * 2, dtype=np.int32).reshape(5, 6, 2)
    with tf.Graph().as_default(), tf.Session() as sess:
        crop = tf.image.random_crop(image, [2, 3, 2], seed=4)
        assert crop.shape.as_list() == [2, 3, 2]
        corners = {tuple(sess.run(crop)[0, 0]) for _ in range(60)}
        with pytest.raises(tf.errors.InvalidArgumentError, match="Need value.shape >= size"):
            sess.run(tf.image.random_crop(image, [6, 1, 2]))
    starts = {(int(c[0]) // 12, int(c[0]) % 12 // 2) for c in corners}
    assert starts <= {(y, x) for y in range(4) for x in range(4)} and len(starts) > 8


def test_convert_image_dtype_same_dtype_is_identity_and_names() -> None:
    with tf.Graph().as_default():
        image = tf.placeholder(tf.uint8, [2, 2, 3])
        assert tf.image.convert_image_dtype(image, tf.uint8).op.type == "Identity"
        converted = tf.image.convert_image_dtype(image, tf.float32)
        assert converted.op.name == "convert_image" and converted.op.type == "Mul"
        saturated = tf.image.convert_image_dtype(tf.placeholder(tf.float32), tf.uint8, saturate=True)
        assert saturated.op.type == "Cast" and saturated.op.name == "convert_image_1"


@pytest.mark.parametrize("build, message", [
    (lambda: tf.image.flip_left_right(np.zeros((2, 3), np.float32)),
     r"'image' \(shape \(2, 3\)\) must be at least three-dimensional."),
    (lambda: tf.image.flip_left_right(np.zeros((1, 2, 3, 4, 5), np.float32)),
     r"'image' \(shape \(1, 2, 3, 4, 5\)\)must have either 3 or 4 dimensions."),
    (lambda: tf.image.random_flip_left_right(np.zeros((1, 2, 3, 4, 5), np.float32)),
     r"'image' \(shape \(1, 2, 3, 4, 5\)\) must have either 3 or 4 dimensions."),
    (lambda: tf.image.flip_up_down(np.zeros((0, 3, 3), np.float32)),
     r"inner 3 dims of 'image.shape' must be > 0: \(0, 3, 3\)"),
    (lambda: tf.image.crop_to_bounding_box(np.zeros((4, 5, 3)), 0, 0, 10, 2), "height must be >= target \\+ offset."),
    (lambda: tf.image.crop_to_bounding_box(np.zeros((4, 5, 3)), -1, 0, 1, 2), "offset_height must be >= 0."),
    (lambda: tf.image.pad_to_bounding_box(np.zeros((4, 5, 3)), 0, 0, 2, 2), "width must be <= target - offset"),
    (lambda: tf.image.central_crop(np.zeros((4, 5, 3)), 1.5), r"central_fraction must be within \(0, 1\]"),
    (lambda: tf.image.central_crop(tf.placeholder(tf.float32), 0.5),
     "`image` should either be a Tensor with rank = 3 or rank = 4. Had rank = None."),
    (lambda: tf.image.per_image_standardization(np.zeros((3, 3), np.float32)),
     r"'image' \(shape \(3, 3\)\) must be at least three-dimensional."),
    (lambda: tf.image.random_brightness(np.zeros((2, 2, 3)), -1.0), "max_delta must be non-negative."),
    (lambda: tf.image.random_contrast(np.zeros((2, 2, 3)), 0.5, 0.2), "upper must be > lower."),
    (lambda: tf.image.random_contrast(np.zeros((2, 2, 3)), -0.5, 0.2), "lower must be non-negative."),
    (lambda: tf.image.adjust_contrast(np.zeros((3, 3), np.float32), 2.0), "Shape must be at least rank 3"),
    (lambda: tf.image.adjust_contrast(np.zeros((2, 2, 3), np.float32), [2.0, 1.0]), "Shape must be rank 0"),
    (lambda: tf.image.grayscale_to_rgb(np.zeros((2, 2, 3), np.float32)),
     "Last dimension of a grayscale image should be size 1."),
    (lambda: tf.image.grayscale_to_rgb(np.zeros((3,), np.float32)),
     r"A grayscale image \(shape \(3,\)\) must be at least two-dimensional."),
])
def test_build_errors(build, message: str) -> None:
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match=message):
            build()


def test_convert_image_dtype_refuses_non_numbers() -> None:
    with tf.Graph().as_default():
        with pytest.raises(AttributeError, match="dtype must be either floating point or integer"):
            tf.image.convert_image_dtype(np.zeros((2, 2, 3), np.float32), tf.string)
        with pytest.raises(AttributeError, match="image dtype must be either floating point or integer"):
            tf.image.convert_image_dtype(np.zeros((2,), bool), tf.float32)


def test_run_time_checks_of_unknown_shapes() -> None:
    with tf.Graph().as_default(), tf.Session() as sess:
        image = tf.placeholder(tf.float32, [None, None, 3])
        crop = tf.image.crop_to_bounding_box(image, 1, 1, 4, 2)
        assert crop.shape.as_list() == [4, 2, 3]
        with pytest.raises(tf.errors.InvalidArgumentError, match="height must be >= target \\+ offset."):
            sess.run(crop, {image: np.zeros((3, 5, 3))})
        flipped = tf.image.flip_left_right(image)
        with pytest.raises(tf.errors.InvalidArgumentError, match="inner 3 dims of 'image.shape' must be > 0."):
            sess.run(flipped, {image: np.zeros((0, 5, 3))})
        gray = tf.placeholder(tf.float32, [None, None, None])
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match="Last dimension of a grayscale image should be size 1."):
            sess.run(tf.image.grayscale_to_rgb(gray), {gray: np.zeros((2, 2, 2))})
        flat = tf.placeholder(tf.float32)
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"input must be at least 3-D"):
            sess.run(tf.image.adjust_contrast(flat, 2.0), {flat: np.zeros((2, 2))})
