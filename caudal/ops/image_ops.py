"""`tf.image`'s geometric functions (flips, rotations, transposes, crops, pads, `resize_images`)
built from public ops as TensorFlow 2.21's `tf.compat.v1.image` builds them, so their
gradients, static shapes and checks are TF's: shapes known at build time are checked then
(ValueError), unknown ones by Assert ops at run time. Random flips draw from `random_uniform`
(one draw and a tf.cond for an image, one draw per image and a blend for a batch).

This module also exports the codecs (`caudal.ops.image_codec_ops`), the resize ops
(`caudal.ops.image_resize_ops`) and the pixel-value functions (`caudal.ops.image_adjust_ops`).
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.constant_value import constant_value, constant_value_as_shape
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops.image_adjust_ops import (  # noqa: F401 - exported
    adjust_brightness,
    adjust_contrast,
    convert_image_dtype,
    grayscale_to_rgb,
    per_image_standardization,
    random_brightness,
    random_contrast,
    rgb_to_grayscale,
)
from caudal.ops.image_codec_ops import (  # noqa: F401 - exported
    decode_bmp,
    decode_gif,
    decode_image,
    decode_jpeg,
    decode_png,
    encode_jpeg,
    encode_png,
)
from caudal.ops.image_resize_ops import (  # noqa: F401 - exported
    resize_area,
    resize_bicubic,
    resize_bilinear,
    resize_nearest_neighbor,
)
from caudal.ops.random_ops import random_crop  # noqa: F401 - exported

__all__ = ["flip_left_right", "flip_up_down", "random_flip_left_right", "random_flip_up_down", "rot90",
           "transpose_image", "central_crop", "crop_to_bounding_box", "pad_to_bounding_box",
           "resize_image_with_crop_or_pad", "ResizeMethod", "resize_images", "resize_image_with_pad",
           "decode_png", "decode_jpeg", "decode_gif", "decode_bmp", "decode_image", "encode_png", "encode_jpeg",
           "resize_bilinear", "resize_nearest_neighbor", "resize_bicubic", "resize_area", "random_crop",
           "convert_image_dtype", "adjust_brightness", "adjust_contrast", "random_brightness", "random_contrast",
           "per_image_standardization", "rgb_to_grayscale", "grayscale_to_rgb"]


# ------------------------------------------------------------ shape checks
def _is_tensor(value: Any) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_as_graph_element") and not isinstance(value, (list, tuple))


def _assert(condition: Any, message: str) -> list:
    """A Python condition raises ValueError now; a Tensor one becomes an Assert op."""
    from caudal.ops.cond_ops import Assert

    if _is_tensor(condition):
        return [Assert(condition, [message])]
    if not condition:
        raise ValueError(message)
    return []


def _check_at_least_3d(image: Tensor, require_static: bool = True) -> list:
    from caudal.ops.array_ops import rank
    from caudal.ops.array_ops import shape as shape_of
    from caudal.ops.cond_ops import Assert
    from caudal.ops.reduction_ops import reduce_all

    shape = image.shape
    if shape.ndims is not None and shape.ndims < 3:
        raise ValueError(f"'image' (shape {shape}) must be at least three-dimensional.")
    if shape.ndims is None:
        shape = TensorShape([None] * 3)
    if require_static and not shape.is_fully_defined():
        raise ValueError("'image' must be fully defined.")
    inner = shape[-3:]
    if any(d == 0 for d in inner.as_list()):
        raise ValueError(f"inner 3 dims of 'image.shape' must be > 0: {shape}")
    if inner.is_fully_defined():
        return []
    return [Assert(reduce_all(shape_of(image)[-3:] > 0), ["inner 3 dims of 'image.shape' must be > 0."]),
            Assert(rank(image) >= 3, ["'image' must be at least three-dimensional."])]


def assert_at_least_3d_image(image: Tensor) -> Tensor:
    """`image`, after run-time checks of what its static shape leaves open (TF's
    _AssertAtLeast3DImage)."""
    from caudal.ops.control_ops import with_dependencies

    return with_dependencies(_check_at_least_3d(image, require_static=False), image)


def assert_grayscale_image(image: Tensor) -> Tensor:
    """`image`, checked to be at least 2-D with a last dimension of 1 (TF's _AssertGrayscaleImage)."""
    from caudal.ops.array_ops import rank
    from caudal.ops.array_ops import shape as shape_of
    from caudal.ops.cond_ops import Assert
    from caudal.ops.control_ops import with_dependencies

    shape = image.shape
    if shape.ndims is not None and shape.ndims < 2:
        raise ValueError(f"A grayscale image (shape {shape}) must be at least two-dimensional.")
    checks = []
    if shape.is_fully_defined():
        if shape[-1].value != 1:
            raise ValueError("Last dimension of a grayscale image should be size 1.")
    else:
        checks = [Assert(shape_of(image)[-1] == 1, ["Last dimension of a grayscale image should be size 1."]),
                  Assert(rank(image) >= 3, ["A grayscale image must be at least two-dimensional."])]
    return with_dependencies(checks, image)


def _image_dimensions(image: Tensor, rank: int) -> list[Any]:
    """The dimensions of `image`: ints where static, scalar Tensors where not."""
    from caudal.ops.array_ops import shape as shape_of
    from caudal.ops.array_ops import unstack

    if image.shape.is_fully_defined():
        return image.shape.as_list()
    static = image.shape.with_rank(rank).as_list()
    dynamic = unstack(shape_of(image), rank)
    return [s if s is not None else d for s, d in zip(static, dynamic)]


def _fix_image_flip_shape(image: Tensor, result: Tensor) -> Tensor:
    result.set_shape([None, None, None] if image.shape.ndims is None else image.shape)
    return result


def _rank_is_three(image: Tensor) -> Tensor:
    from caudal.ops.array_ops import rank
    from caudal.ops.comparison_ops import equal

    return equal(rank(image), 3)


# ------------------------------------------------------------ flips, rotations
def _flip(image: Any, flip_index: int, scope_name: str) -> Tensor:
    from caudal.ops.cond_ops import cond
    from caudal.ops.manip_ops import reverse

    with get_default_graph().name_scope(scope_name):
        image = assert_at_least_3d_image(convert_to_tensor(image, name="image"))
        shape = image.shape

        def rank3() -> Tensor:
            return _fix_image_flip_shape(image, reverse(image, [flip_index]))

        def rank4() -> Tensor:
            return reverse(image, [flip_index + 1])

        if shape.ndims is None:
            return cond(_rank_is_three(image), rank3, rank4)
        if shape.ndims == 3:
            return rank3()
        if shape.ndims == 4:
            return rank4()
        raise ValueError(f"'image' (shape {shape})must have either 3 or 4 dimensions.")


def flip_left_right(image: Any) -> Tensor:
    """The image (or each image of a batch) mirrored left to right (a ReverseV2 of the width)."""
    return _flip(image, 1, "flip_left_right")


def flip_up_down(image: Any) -> Tensor:
    """The image (or each image of a batch) upside down (a ReverseV2 of the height)."""
    return _flip(image, 0, "flip_up_down")


def _random_flip(image: Any, flip_index: int, seed: int | None, scope_name: str) -> Tensor:
    from caudal.ops.array_ops import reshape
    from caudal.ops.array_ops import shape as shape_of
    from caudal.ops.comparison_ops import less
    from caudal.ops.cond_ops import cond
    from caudal.ops.manip_ops import reverse
    from caudal.ops.math_ops import cast
    from caudal.ops.random_ops import random_uniform
    from caudal.ops.special_math_ops import round as round_

    with get_default_graph().name_scope(scope_name) as scope:
        image = assert_at_least_3d_image(convert_to_tensor(image, name="image"))
        shape = image.shape

        def rank3() -> Tensor:
            mirror = less(random_uniform([], 0, 1.0, seed=seed), 0.5)
            result = cond(mirror, lambda: reverse(image, [flip_index]), lambda: image, name=scope)
            return _fix_image_flip_shape(image, result)

        def rank4() -> Tensor:
            batch_size = shape_of(image)[0]
            draws = random_uniform([batch_size], 0, 1.0, seed=seed)
            flips = cast(round_(reshape(draws, [batch_size, 1, 1, 1])), image.dtype.base_dtype)
            return flips * reverse(image, [flip_index + 1]) + (1 - flips) * image

        if shape.ndims is None:
            return cond(_rank_is_three(image), rank3, rank4)
        if shape.ndims == 3:
            return rank3()
        if shape.ndims == 4:
            return rank4()
        raise ValueError(f"'image' (shape {shape}) must have either 3 or 4 dimensions.")


def random_flip_left_right(image: Any, seed: int | None = None) -> Tensor:
    """flip_left_right with probability 1/2 (for a batch, independently for each image)."""
    return _random_flip(image, 1, seed, "random_flip_left_right")


def random_flip_up_down(image: Any, seed: int | None = None) -> Tensor:
    """flip_up_down with probability 1/2 (for a batch, independently for each image)."""
    return _random_flip(image, 0, seed, "random_flip_up_down")


def _rotations(image: Tensor, k: Tensor, batch: bool, scope: str) -> Tensor:
    from caudal.ops.array_ops import transpose
    from caudal.ops.comparison_ops import equal
    from caudal.ops.cond_ops import case
    from caudal.ops.manip_ops import reverse

    height, width = (1, 2) if batch else (0, 1)
    swap = [0, 2, 1, 3] if batch else [1, 0, 2]
    cases = [(equal(k, 1), lambda: transpose(reverse(image, [width]), swap)),
             (equal(k, 2), lambda: reverse(image, [height, width])),
             (equal(k, 3), lambda: reverse(transpose(image, swap), [width]))]
    result = case(cases, default=lambda: image, exclusive=True, name=scope)
    if batch:
        shape = result.shape
        result.set_shape([shape[0].value, None, None, shape[3].value])
    else:
        result.set_shape([None, None, image.shape[2].value])
    return result


def rot90(image: Any, k: Any = 1, name: str | None = None) -> Tensor:
    """The image (or each image of a batch) rotated counter-clockwise by `k` quarter turns."""
    from caudal.ops.cond_ops import cond
    from caudal.ops.math_ops import floormod

    with get_default_graph().name_scope(name or "rot90") as scope:
        image = assert_at_least_3d_image(convert_to_tensor(image, name="image"))
        k = convert_to_tensor(k, dtype=dtypes_lib.int32, name="k")
        if k.shape.ndims is not None and k.shape.ndims != 0:
            raise ValueError(f"Shape {k.shape} must have rank 0")
        k = floormod(k, 4, name="mod")
        shape = image.shape
        if shape.ndims is None:
            return cond(_rank_is_three(image), lambda: _rotations(image, k, False, scope),
                        lambda: _rotations(image, k, True, scope))
        if shape.ndims in (3, 4):
            return _rotations(image, k, shape.ndims == 4, scope)
        raise ValueError(f"'image' (shape {shape}) must have either 3 or 4 dimensions.")


def transpose_image(image: Any, name: str | None = None) -> Tensor:
    """The image (or each image of a batch) with height and width swapped."""
    from caudal.ops.array_ops import transpose
    from caudal.ops.cond_ops import cond

    with get_default_graph().name_scope(name or "transpose"):
        image = assert_at_least_3d_image(convert_to_tensor(image, name="image"))
        shape = image.shape
        if shape.ndims is None:
            return cond(_rank_is_three(image), lambda: transpose(image, [1, 0, 2], name=name or "transpose"),
                        lambda: transpose(image, [0, 2, 1, 3], name=name or "transpose"))
        if shape.ndims == 3:
            return transpose(image, [1, 0, 2], name=name or "transpose")
        if shape.ndims == 4:
            return transpose(image, [0, 2, 1, 3], name=name or "transpose")
        raise ValueError(f"'image' (shape {shape}) must have either 3 or 4 dimensions.")


# ------------------------------------------------------------ crops and pads
def _as_batch(image: Tensor) -> tuple[Tensor, bool]:
    from caudal.ops.array_ops import expand_dims

    ndims = image.shape.ndims
    if ndims == 3:
        return expand_dims(image, 0), False
    if ndims is None:
        batch = expand_dims(image, 0)
        batch.set_shape([None] * 4)
        return batch, False
    if ndims != 4:
        raise ValueError(f"'image' (shape {image.shape}) must have either 3 or 4 dimensions.")
    return image, True


def _unbatch(image: Tensor, is_batch: bool) -> Tensor:
    from caudal.ops.array_ops import squeeze

    return image if is_batch else squeeze(image, axis=[0])


def _static_or_none(values: list[Any]) -> list[int | None]:
    return [None if _is_tensor(v) else v for v in values]


def central_crop(image: Any, central_fraction: Any) -> Tensor:
    """The central `central_fraction` of the image's height and width (of each image in a batch)."""
    from caudal.ops.array_ops import shape as shape_of
    from caudal.ops.array_ops import slice as slice_
    from caudal.ops.array_ops import stack
    from caudal.ops.comparison_ops import logical_or
    from caudal.ops.control_ops import with_dependencies
    from caudal.ops.math_ops import cast

    with get_default_graph().name_scope("central_crop"):
        image = convert_to_tensor(image, name="image")
        fraction = constant_value(central_fraction) if _is_tensor(central_fraction) else central_fraction
        if fraction is not None:
            if fraction <= 0.0 or fraction > 1.0:
                raise ValueError("central_fraction must be within (0, 1]")
            if fraction == 1.0:
                return image
        else:
            image = with_dependencies(_assert(logical_or(central_fraction > 0.0, central_fraction <= 1.0),
                                              "central_fraction must be within (0, 1]"), image)
        _check_at_least_3d(image, require_static=False)
        rank = image.shape.ndims
        if rank not in (3, 4):
            raise ValueError(f"`image` should either be a Tensor with rank = 3 or rank = 4. Had rank = {rank}.")
        first = 0 if rank == 3 else 1
        sizes, dynamic = [], []
        for axis in (first, first + 1):
            static = image.shape[axis].value
            sizes.append(static if static is not None else shape_of(image)[axis])
            dynamic.append(static is None or fraction is None)
        starts = []
        for size, is_dynamic in zip(sizes, dynamic):
            if is_dynamic:
                as_float = cast(size, dtypes_lib.float64)
                starts.append(cast((as_float - as_float * cast(central_fraction, dtypes_lib.float64)) / 2,
                                   dtypes_lib.int32))
            else:
                starts.append(int((float(size) - float(size) * fraction) / 2))
        crop = [size - start * 2 for size, start in zip(sizes, starts)]
        begin = stack(([0] if rank == 4 else []) + starts + [0])
        extent = stack(([-1] if rank == 4 else []) + crop + [-1])
        cropped = slice_(image, begin, extent)
        inner = [None if is_dynamic else c for c, is_dynamic in zip(crop, dynamic)]
        depth = image.shape[rank - 1].value
        cropped.set_shape(([image.shape[0].value] if rank == 4 else []) + inner + [depth])
        return cropped


def _pad_to_bounding_box(image: Any, offset_height: Any, offset_width: Any, target_height: Any,
                         target_width: Any) -> Tensor:
    from caudal.ops.array_ops import reshape, stack
    from caudal.ops.control_ops import with_dependencies
    from caudal.ops.manip_ops import pad

    with get_default_graph().name_scope("pad_to_bounding_box"):
        image, is_batch = _as_batch(convert_to_tensor(image, name="image"))
        batch, height, width, depth = _image_dimensions(image, rank=4)
        after_width = target_width - offset_width - width
        after_height = target_height - offset_height - height
        checks = _check_at_least_3d(image, require_static=False)
        checks += _assert(offset_height >= 0, "offset_height must be >= 0")
        checks += _assert(offset_width >= 0, "offset_width must be >= 0")
        checks += _assert(after_width >= 0, "width must be <= target - offset")
        checks += _assert(after_height >= 0, "height must be <= target - offset")
        image = with_dependencies(checks, image)
        paddings = reshape(stack([0, 0, offset_height, after_height, offset_width, after_width, 0, 0]), [4, 2])
        padded = pad(image, paddings)
        padded.set_shape(_static_or_none([batch, target_height, target_width, depth]))
        return _unbatch(padded, is_batch)


def pad_to_bounding_box(image: Any, offset_height: Any, offset_width: Any, target_height: Any,
                        target_width: Any) -> Tensor:
    """The image placed at (offset_height, offset_width) in a zero image of the target size."""
    return _pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width)


def crop_to_bounding_box(image: Any, offset_height: Any, offset_width: Any, target_height: Any,
                         target_width: Any) -> Tensor:
    """The target_height x target_width window at (offset_height, offset_width)."""
    from caudal.ops.array_ops import shape as shape_of
    from caudal.ops.array_ops import slice as slice_
    from caudal.ops.array_ops import stack
    from caudal.ops.control_ops import with_dependencies

    with get_default_graph().name_scope("crop_to_bounding_box"):
        image, is_batch = _as_batch(convert_to_tensor(image, name="image"))
        checks = _check_at_least_3d(image, require_static=False)
        batch, height, width, depth = _image_dimensions(image, rank=4)
        checks += _assert(offset_width >= 0, "offset_width must be >= 0.")
        checks += _assert(offset_height >= 0, "offset_height must be >= 0.")
        checks += _assert(target_width > 0, "target_width must be > 0.")
        checks += _assert(target_height > 0, "target_height must be > 0.")
        checks += _assert(width >= (target_width + offset_width), "width must be >= target + offset.")
        checks += _assert(height >= (target_height + offset_height), "height must be >= target + offset.")
        image = with_dependencies(checks, image)
        cropped = slice_(image, stack([0, offset_height, offset_width, 0]),
                         stack([shape_of(image)[0], target_height, target_width, shape_of(image)[3]]))
        cropped.set_shape(_static_or_none([batch, target_height, target_width, depth]))
        return _unbatch(cropped, is_batch)


def resize_image_with_crop_or_pad(image: Any, target_height: Any, target_width: Any) -> Tensor:
    """The image centrally cropped and/or zero-padded to target_height x target_width."""
    from caudal.ops.comparison_ops import equal
    from caudal.ops.control_ops import with_dependencies
    from caudal.ops.math_ops import maximum, minimum

    def max_(x: Any, y: Any) -> Any:
        return maximum(x, y) if _is_tensor(x) or _is_tensor(y) else max(x, y)

    def min_(x: Any, y: Any) -> Any:
        return minimum(x, y) if _is_tensor(x) or _is_tensor(y) else min(x, y)

    def equal_(x: Any, y: Any) -> Any:
        return equal(x, y) if _is_tensor(x) or _is_tensor(y) else x == y

    with get_default_graph().name_scope("resize_image_with_crop_or_pad"):
        image, is_batch = _as_batch(convert_to_tensor(image, name="image"))
        checks = _check_at_least_3d(image, require_static=False)
        checks += _assert(target_width > 0, "target_width must be > 0.")
        checks += _assert(target_height > 0, "target_height must be > 0.")
        image = with_dependencies(checks, image)
        if _is_tensor(target_height):
            target_height = with_dependencies(checks, target_height)
        if _is_tensor(target_width):
            target_width = with_dependencies(checks, target_width)
        _, height, width, _ = _image_dimensions(image, rank=4)
        width_diff = target_width - width
        height_diff = target_height - height
        cropped = crop_to_bounding_box(image, max_(-height_diff // 2, 0), max_(-width_diff // 2, 0),
                                       min_(target_height, height), min_(target_width, width))
        resized = pad_to_bounding_box(cropped, max_(height_diff // 2, 0), max_(width_diff // 2, 0),
                                      target_height, target_width)
        if resized.shape.ndims is None:
            raise ValueError("resized contains no shape.")
        _, resized_height, resized_width, _ = _image_dimensions(resized, rank=4)
        checks = _assert(equal_(resized_height, target_height), "resized height is not correct.")
        checks += _assert(equal_(resized_width, target_width), "resized width is not correct.")
        return _unbatch(with_dependencies(checks, resized), is_batch)


# ------------------------------------------------------------ resize_images
class ResizeMethod:
    """TF1's `tf.image.ResizeMethod` (integers; the TF2 names as strings are accepted too)."""
    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


_RESIZERS = {ResizeMethod.BILINEAR: resize_bilinear, "bilinear": resize_bilinear,
             ResizeMethod.NEAREST_NEIGHBOR: resize_nearest_neighbor, "nearest": resize_nearest_neighbor,
             ResizeMethod.BICUBIC: resize_bicubic, "bicubic": resize_bicubic,
             ResizeMethod.AREA: resize_area, "area": resize_area}


def resize_images(images: Any, size: Any, method: Any = ResizeMethod.BILINEAR, align_corners: bool = False,
                  preserve_aspect_ratio: bool = False, name: str | None = None) -> Tensor:
    """TF1's `tf.image.resize_images` (and `tf.image.resize`): a 3-D image or 4-D batch resized to
    `size` = [new_height, new_width] with the ResizeBilinear, ResizeNearestNeighbor, ResizeBicubic
    or ResizeArea op (half_pixel_centers False); an image already of that static size is returned
    as it is; `preserve_aspect_ratio` scales both sides by the smaller ratio."""
    from caudal.ops.array_ops import expand_dims, squeeze
    from caudal.ops.math_ops import cast, minimum
    from caudal.ops.special_math_ops import round as round_

    resizer = _RESIZERS.get(method) if isinstance(method, (int, str)) else None
    with get_default_graph().name_scope(name or "resize"):
        images = convert_to_tensor(images, name="images")
        if images.shape.ndims is None:
            raise ValueError("'images' contains no shape.")
        is_batch = images.shape.ndims == 4
        if images.shape.ndims == 3:
            images = expand_dims(images, 0)
        elif images.shape.ndims != 4:
            raise ValueError("'images' must have either 3 or 4 dimensions.")
        _, height, width, _ = images.shape.as_list()
        try:
            size = convert_to_tensor(size, dtype=dtypes_lib.int32, name="size")
        except (TypeError, ValueError):
            raise ValueError("'size' must be a 1-D int32 Tensor") from None
        if not size.shape.is_compatible_with([2]):
            raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
        if preserve_aspect_ratio:
            _, current_height, current_width, _ = _image_dimensions(images, rank=4)
            height_f = cast(current_height, dtypes_lib.float32)
            width_f = cast(current_width, dtypes_lib.float32)
            factor = minimum(cast(size[0], dtypes_lib.float32) / height_f, cast(size[1], dtypes_lib.float32) / width_f)
            size = convert_to_tensor([cast(round_(factor * height_f), dtypes_lib.int32),
                                      cast(round_(factor * width_f), dtypes_lib.int32)], dtypes_lib.int32, name="size")
        wanted = constant_value_as_shape(size)
        new_height, new_width = (wanted[0].value, wanted[1].value) if wanted.ndims is not None else (None, None)
        if None not in (new_height, new_width, height, width) and (new_height, new_width) == (height, width):
            return images if is_batch else squeeze(images, axis=[0])
        if resizer is None:
            raise ValueError(f"Resize method is not implemented: {method}")
        resized = resizer(images, size, align_corners=align_corners)
        resized.set_shape([None, new_height, new_width, None])
        return resized if is_batch else squeeze(resized, axis=[0])


resize = resize_images


def resize_image_with_pad(image: Any, target_height: Any, target_width: Any, method: Any = ResizeMethod.BILINEAR,
                          align_corners: bool = False) -> Tensor:
    """TF1's `tf.image.resize_image_with_pad`: resized to fit the target keeping its aspect ratio,
    then zero-padded (centered) to target_height x target_width."""
    from caudal.ops.control_ops import with_dependencies
    from caudal.ops.math_ops import cast, maximum
    from caudal.ops.special_math_ops import floor

    def max_(x: Any, y: Any) -> Any:
        return maximum(x, y) if _is_tensor(x) or _is_tensor(y) else max(x, y)

    with get_default_graph().name_scope("resize_image_with_pad"):
        image, is_batch = _as_batch(convert_to_tensor(image, name="image"))
        checks = _check_at_least_3d(image, require_static=False)
        checks += _assert(target_width > 0, "target_width must be > 0.")
        checks += _assert(target_height > 0, "target_height must be > 0.")
        image = with_dependencies(checks, image)
        _, height, width, _ = _image_dimensions(image, rank=4)
        height_f, width_f = cast(height, dtypes_lib.float32), cast(width, dtypes_lib.float32)
        target_height_f = cast(target_height, dtypes_lib.float32)
        target_width_f = cast(target_width, dtypes_lib.float32)
        ratio = max_(width_f / target_width_f, height_f / target_height_f)
        resized_height_f, resized_width_f = height_f / ratio, width_f / ratio
        resized_height = cast(floor(resized_height_f), dtypes_lib.int32)
        resized_width = cast(floor(resized_width_f), dtypes_lib.int32)
        pad_height = max_(0, cast(floor((target_height_f - resized_height_f) / 2), dtypes_lib.int32))
        pad_width = max_(0, cast(floor((target_width_f - resized_width_f) / 2), dtypes_lib.int32))
        resized = resize_images(image, [resized_height, resized_width], method, align_corners=align_corners)
        padded = pad_to_bounding_box(resized, pad_height, pad_width, target_height, target_width)
        if padded.shape.ndims is None:
            raise ValueError("padded contains no shape.")
        return _unbatch(padded, is_batch)
