"""Pixel-value image functions: `convert_image_dtype`, brightness and contrast (the
AdjustContrastv2 op), `per_image_standardization`, `rgb_to_grayscale` and `grayscale_to_rgb`,
and their random versions, built from public ops as TensorFlow builds them (so gradients and
static shapes come from those ops).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import InferContext, apply_op, get_default_graph
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.framework.tensor import Tensor
from caudal.ops import _rules

__all__ = ["convert_image_dtype", "adjust_brightness", "adjust_contrast", "random_brightness", "random_contrast",
           "per_image_standardization", "rgb_to_grayscale", "grayscale_to_rgb"]

_FLOAT16_32 = frozenset([dtypes_lib.float16, dtypes_lib.float32])


# ------------------------------------------------------------ convert_image_dtype
def saturate_cast(value: Any, dtype: Any, name: str | None = None) -> Tensor:
    """TF's `saturate_cast` for real dtypes: `value` clipped to what `dtype` holds (the limits
    nudged toward zero where the input dtype cannot represent them), then cast."""
    from caudal.ops.math_ops import cast, maximum, minimum

    with get_default_graph().name_scope(name or "saturate_cast") as scope:
        value = convert_to_tensor(value, name="value")
        dtype = dtypes_lib.as_dtype(dtype).base_dtype
        in_dtype = value.dtype.base_dtype
        np_dtype = in_dtype.as_numpy_dtype
        promoted = np.promote_types(np_dtype, dtype.as_numpy_dtype)
        low = np_dtype(np.maximum(in_dtype.min, dtype.min))
        if np.array(low, promoted) < np.array(dtype.min, promoted):
            low = np.nextafter(low, np_dtype(0), dtype=np_dtype)
        high = np_dtype(np.minimum(float(in_dtype.max), float(dtype.max)))
        if np.array(high, promoted) > np.array(dtype.max, promoted):
            high = np.nextafter(high, np_dtype(0), dtype=np_dtype)
        with get_default_graph().name_scope("clamp"):
            clamped = maximum(minimum(value, convert_to_tensor(high, dtype=in_dtype)),
                              convert_to_tensor(low, dtype=in_dtype))
        return cast(clamped, dtype, name=scope[:-1] + "/")


def convert_image_dtype(image: Any, dtype: Any, saturate: bool = False, name: str | None = None) -> Tensor:
    """TF's `tf.image.convert_image_dtype`: floats are in [0, 1], integers in [0, MAX]. Integer to
    integer scales by the ratio of (MAX + 1)s (a floor division going down); integer to float
    multiplies by 1 / MAX; float to integer multiplies by MAX + 0.5 and casts (clipping first
    when `saturate`); float to float casts; the same dtype gives an Identity."""
    from caudal.ops.control_ops import identity
    from caudal.ops.math_ops import cast, floordiv, multiply

    image = convert_to_tensor(image, name="image")
    dtype = dtypes_lib.as_dtype(dtype).base_dtype
    source = image.dtype.base_dtype
    if not dtype.is_floating and not dtype.is_integer:
        raise AttributeError("dtype must be either floating point or integer")
    if not source.is_floating and not source.is_integer:
        raise AttributeError("image dtype must be either floating point or integer")
    if dtype == source:
        return identity(image, name=name)
    with get_default_graph().name_scope(name or "convert_image") as scope:
        out_name = scope[:-1] + "/"
        if source.is_integer and dtype.is_integer:
            scale_in, scale_out = source.max, dtype.max
            if scale_in > scale_out:
                scaled = floordiv(image, (scale_in + 1) // (scale_out + 1))
                return saturate_cast(scaled, dtype, name=out_name) if saturate else cast(scaled, dtype, name=out_name)
            converted = saturate_cast(image, dtype) if saturate else cast(image, dtype)
            return multiply(converted, (scale_out + 1) // (scale_in + 1), name=out_name)
        if source.is_floating and dtype.is_floating:
            return cast(image, dtype, name=out_name)
        if source.is_integer:
            return multiply(cast(image, dtype), 1.0 / source.max, name=out_name)
        scaled = multiply(image, dtype.max + 0.5)
        return saturate_cast(scaled, dtype, name=out_name) if saturate else cast(scaled, dtype, name=out_name)


# ------------------------------------------------------------ brightness and contrast
def adjust_brightness(image: Any, delta: Any) -> Tensor:
    """`image + delta` in float (integer images go through convert_image_dtype), converted back
    to the image's dtype with saturation."""
    from caudal.ops.math_ops import add, cast

    with get_default_graph().name_scope("adjust_brightness") as scope:
        image = convert_to_tensor(image, name="image")
        original = image.dtype.base_dtype
        floats = image if original in _FLOAT16_32 else convert_image_dtype(image, dtypes_lib.float32)
        adjusted = add(floats, cast(delta, floats.dtype.base_dtype), name=scope[:-1] + "/")
        return convert_image_dtype(adjusted, original, saturate=True)


def _adjust_contrast_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, _FLOAT16_32, "images")
    _rules.check_dtype(ctx, 1, frozenset([dtypes_lib.float32]), "contrast_factor")
    images, factor = ctx.shape(0), ctx.shape(1)
    if images.ndims is not None and images.ndims < 3:
        raise ValueError(f"Shape must be at least rank 3 but is rank {images.ndims}")
    if factor.ndims not in (None, 0):
        raise ValueError(f"Shape must be rank 0 but is rank {factor.ndims}")
    return [(dtype, images)]


def _adjust_contrast_kernel(xp: Any, images: Any, contrast_factor: Any) -> Any:
    if images.ndim < 3:
        raise InvalidArgumentError(None, None, f"input must be at least 3-D, got shape{list(images.shape)}")
    if np.ndim(contrast_factor) != 0:
        raise InvalidArgumentError(None, None, "contrast_factor must be scalar: "
                                               f"{list(np.shape(contrast_factor))}")
    values = images.astype(np.float32)
    mean = values.astype(np.float64).mean(axis=(-3, -2), keepdims=True).astype(np.float32)
    return ((values - mean) * np.float32(contrast_factor) + mean).astype(images.dtype)


register_op("AdjustContrastv2", infer=_adjust_contrast_infer, kernel=_adjust_contrast_kernel,
            grad=NOT_DIFFERENTIABLE)


def adjust_contrast(images: Any, contrast_factor: Any) -> Tensor:
    """For each image and channel, `(x - mean) * contrast_factor + mean` over its height and
    width (the AdjustContrastv2 op, in float; integer images are converted and back)."""
    with get_default_graph().name_scope("adjust_contrast") as scope:
        images = convert_to_tensor(images, name="images")
        original = images.dtype.base_dtype
        floats = images if original in _FLOAT16_32 else convert_image_dtype(images, dtypes_lib.float32)
        factor = convert_to_tensor(contrast_factor, dtype=dtypes_lib.float32, name="contrast_factor")
        adjusted = apply_op("AdjustContrastv2", [floats, factor], {"T": floats.dtype.base_dtype}, scope)
        return convert_image_dtype(adjusted, original, saturate=True)


def random_brightness(image: Any, max_delta: float, seed: int | None = None) -> Tensor:
    """adjust_brightness by a delta uniform in [-max_delta, max_delta)."""
    from caudal.ops.random_ops import random_uniform

    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    delta = random_uniform([], -max_delta, max_delta, seed=seed)
    return adjust_brightness(image, delta)


def random_contrast(image: Any, lower: float, upper: float, seed: int | None = None) -> Tensor:
    """adjust_contrast by a factor uniform in [lower, upper)."""
    from caudal.ops.random_ops import random_uniform

    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")
    factor = random_uniform([], lower, upper, seed=seed)
    return adjust_contrast(image, factor)


# ------------------------------------------------------------ standardization and color
def per_image_standardization(image: Any) -> Tensor:
    """`(x - mean) / max(stddev, 1 / sqrt(pixels))` over each image's last three dimensions, in
    float32 (integer images are cast, not rescaled)."""
    from caudal.ops.array_ops import shape as shape_of
    from caudal.ops.image_ops import assert_at_least_3d_image
    from caudal.ops.math_ops import cast, divide, maximum, rsqrt, sqrt, square
    from caudal.ops.reduction_ops import reduce_mean, reduce_prod

    with get_default_graph().name_scope("per_image_standardization") as scope:
        image = assert_at_least_3d_image(convert_to_tensor(image, name="image"))
        image = cast(image, dtypes_lib.float32)
        pixels = reduce_prod(shape_of(image)[-3:])
        mean = reduce_mean(image, axis=[-1, -2, -3], keepdims=True)
        with get_default_graph().name_scope("reduce_std"):
            with get_default_graph().name_scope("reduce_variance"):
                centered_mean = reduce_mean(image, axis=[-1, -2, -3], keepdims=True)
                variance = reduce_mean(square(image - centered_mean), axis=[-1, -2, -3], keepdims=True)
            stddev = sqrt(variance)
        adjusted_stddev = maximum(stddev, rsqrt(cast(pixels, dtypes_lib.float32)))
        return divide(image - mean, adjusted_stddev, name=scope[:-1] + "/")


_GRAY_WEIGHTS = [0.2989, 0.5870, 0.1140]


def rgb_to_grayscale(images: Any, name: str | None = None) -> Tensor:
    """The weighted sum 0.2989 R + 0.5870 G + 0.1140 B in float32, kept as a last dimension of 1,
    in the images' dtype."""
    from caudal.ops.array_ops import expand_dims
    from caudal.ops.linalg_ops import tensordot

    with get_default_graph().name_scope(name or "rgb_to_grayscale") as scope:
        images = convert_to_tensor(images, name="images")
        original = images.dtype.base_dtype
        floats = convert_image_dtype(images, dtypes_lib.float32)
        gray = expand_dims(tensordot(floats, _GRAY_WEIGHTS, [-1, -1]), -1)
        return convert_image_dtype(gray, original, name=scope[:-1] + "/")


def grayscale_to_rgb(images: Any, name: str | None = None) -> Tensor:
    """The single channel repeated three times (a Tile)."""
    from caudal.ops.array_ops import concat, expand_dims, rank
    from caudal.ops.constant_ops import ones
    from caudal.ops.image_ops import assert_grayscale_image
    from caudal.ops.manip_ops import tile

    with get_default_graph().name_scope(name or "grayscale_to_rgb") as scope:
        images = assert_grayscale_image(convert_to_tensor(images, name="images"))
        rank_minus_one = expand_dims(rank(images) - 1, 0)
        multiples = concat([ones(rank_minus_one, dtype=dtypes_lib.int32), expand_dims(3, 0)], 0)
        rgb = tile(images, multiples, name=scope[:-1] + "/")
        rgb.set_shape(images.shape[:-1].concatenate([3]))
        return rgb
