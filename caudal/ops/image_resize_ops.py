"""Image resizing: ResizeBilinear, ResizeNearestNeighbor, ResizeBicubic, ResizeArea and the
gradient ops ResizeBilinearGrad, ResizeNearestNeighborGrad, ResizeBicubicGrad, with TF1's
`tf.image.resize_bilinear` / `resize_nearest_neighbor` / `resize_bicubic` / `resize_area`.

The kernels follow TensorFlow's CPU kernels: sampling positions are computed in float32 with
TF's scale ((in - 1) / (out - 1) with `align_corners`, else in / out) and its legacy or
half-pixel coordinates; bilinear and bicubic interpolate in float32 in TF's order of operations
(bicubic with TF's 1024-entry table of Keys' kernel, a = -0.75, or -0.5 with half-pixel centers
and weights outside the image dropped and renormalized); area averages the input cells each
output cell covers. Bilinear, bicubic and area give float32 whatever the input dtype; nearest
neighbor keeps it. Every method is separable, so the gradient kernels apply the transposed
per-axis weights.
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
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import _rules

__all__ = ["resize_bilinear", "resize_nearest_neighbor", "resize_bicubic", "resize_area"]

_F32 = np.float32
_REAL = frozenset([dtypes_lib.int8, dtypes_lib.uint8, dtypes_lib.int16, dtypes_lib.uint16, dtypes_lib.int32,
                   dtypes_lib.int64, dtypes_lib.bfloat16, dtypes_lib.float16, dtypes_lib.float32, dtypes_lib.float64])
_GRAD_FLOAT = frozenset([dtypes_lib.float32, dtypes_lib.bfloat16, dtypes_lib.float16, dtypes_lib.float64])


def _invalid(message: str) -> InvalidArgumentError:
    return InvalidArgumentError(None, None, message)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _scale(in_size: int, out_size: int, align_corners: bool) -> Any:
    if align_corners and out_size > 1:
        return _F32(in_size - 1) / _F32(out_size - 1)
    return _F32(in_size) / _F32(out_size)


def _positions(out_size: int, scale: Any, half_pixel_centers: bool, minus_half: bool = True) -> np.ndarray:
    """Where each output sample falls in the input, in float32 (TF's HalfPixelScaler or
    LegacyScaler; nearest neighbor's half-pixel scaler keeps the +0.5)."""
    x = np.arange(out_size, dtype=_F32)
    if not half_pixel_centers:
        return x * scale
    shifted = (x + _F32(0.5)) * scale
    return shifted - _F32(0.5) if minus_half else shifted


def _check_attrs(align_corners: bool, half_pixel_centers: bool) -> None:
    if half_pixel_centers and align_corners:
        raise _invalid("If half_pixel_centers is True, align_corners must be False.")


def _output_size(images: Any, size: Any) -> tuple[int, int]:
    """TF's ImageResizerState checks; the output height and width."""
    if images.ndim != 4:
        raise _invalid(f"input must be 4-dimensional{_shape_text(images.shape)}")
    if images.shape[3] <= 0:
        raise _invalid("image must have at least one channel")
    if images.shape[1] <= 0 or images.shape[2] <= 0:
        raise _invalid("input image must be of non-zero size")
    size = np.asarray(size)
    if size.ndim != 1:
        raise _invalid(f"shape_t must be 1-dimensional{_shape_text(size.shape)}")
    if size.shape[0] != 2:
        raise _invalid(f"shape_t must have two elements{_shape_text(size.shape)}")
    height, width = int(size[0]), int(size[1])
    if height <= 0 or width <= 0:
        raise _invalid("output dimensions must be positive")
    return height, width


# ---------------------------------------------------- per-axis sampling plans
def _bilinear_axis(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool) -> tuple:
    position = _positions(out_size, _scale(in_size, out_size, align_corners), half_pixel_centers)
    floor = np.floor(position)
    lower = np.maximum(floor.astype(np.int64), 0)
    upper = np.minimum(np.ceil(position).astype(np.int64), in_size - 1)
    return lower, upper, (position - floor).astype(_F32)


def _nearest_axis(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool) -> np.ndarray:
    position = _positions(out_size, _scale(in_size, out_size, align_corners), half_pixel_centers, minus_half=False)
    if align_corners:
        floor = np.floor(position)
        index = np.where(position - floor >= 0.5, floor + 1, floor)  # roundf: halves away from zero
    else:
        index = np.floor(position)
    index = np.minimum(index.astype(np.int64), in_size - 1)
    return np.maximum(index, 0) if half_pixel_centers else index


_TABLE_SIZE = 1024


def _cubic_table(a: float) -> np.ndarray:
    """TF's table of the cubic kernel at x = i / 1024 (column 0) and x + 1 (column 1), in float32."""
    x = (np.arange(_TABLE_SIZE + 1) * 1.0 / _TABLE_SIZE).astype(_F32).astype(np.float64)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far_x = (x.astype(_F32) + _F32(1.0)).astype(np.float64)
    far = ((a * far_x - 5 * a) * far_x + 8 * a) * far_x - 4 * a
    return np.stack([near, far], axis=1).astype(_F32)


_CUBIC_TABLES = {False: _cubic_table(-0.75), True: _cubic_table(-0.5)}


def _bicubic_axis(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool) -> tuple:
    """Four input indices and float32 weights per output sample ([out, 4] each)."""
    position = _positions(out_size, _scale(in_size, out_size, align_corners), half_pixel_centers)
    location = np.floor(position).astype(np.int64)
    delta = position - location.astype(_F32)
    offset = np.rint(delta * _F32(_TABLE_SIZE)).astype(np.int64)
    table = _CUBIC_TABLES[half_pixel_centers]
    weights = np.stack([table[offset, 1], table[offset, 0], table[_TABLE_SIZE - offset, 0],
                        table[_TABLE_SIZE - offset, 1]], axis=1)
    wanted = location[:, None] + np.arange(-1, 3)[None, :]
    indices = np.clip(wanted, 0, in_size - 1)
    if half_pixel_centers:
        weights = np.where(indices == wanted, weights, _F32(0))
        total = weights[:, 0] + weights[:, 1] + weights[:, 2] + weights[:, 3]
        usable = np.abs(total) >= _F32(1000) * np.finfo(_F32).tiny
        inverse = np.where(usable, _F32(1) / np.where(usable, total, _F32(1)), _F32(1))
        weights = np.where(usable[:, None], weights * inverse[:, None], weights)
    return indices, weights.astype(_F32)


def _area_share(cell: int, start: Any, end: Any, scale: Any) -> Any:
    """The float32 share of input cell `cell` in the output cell covering [start, end), as TF."""
    if cell < start:
        return scale if cell + 1 > end else _F32(cell + 1) - start
    return end - _F32(cell) if cell + 1 > end else _F32(1.0)


def _area_spans(in_size: int, out_size: int, scale: Any) -> list[tuple[list[int], list[Any]]]:
    """For each output cell, the input cells it covers (clamped into the image) and their shares."""
    spans = []
    for out in range(out_size):
        start, end = _F32(out) * scale, _F32(out + 1) * scale
        cells = list(range(int(np.floor(start)), int(np.ceil(end))))
        spans.append(([min(max(c, 0), in_size - 1) for c in cells], [_area_share(c, start, end, scale) for c in cells]))
    return spans


def _axis_matrix(out_size: int, in_size: int, indices: list[np.ndarray], weights: list[np.ndarray]) -> np.ndarray:
    """[out, in] float64 matrix with weights[k][o] added at (o, indices[k][o])."""
    matrix = np.zeros((out_size, in_size), np.float64)
    rows = np.arange(out_size)
    for index, weight in zip(indices, weights):
        np.add.at(matrix, (rows, index), weight.astype(np.float64))
    return matrix


def _apply_axes(values: np.ndarray, height_matrix: np.ndarray, width_matrix: np.ndarray) -> np.ndarray:
    """values [b, h, w, c] -> [b, H, W, c] with out[b, Y, X] = sum height[Y, y] width[X, x] values[b, y, x]."""
    partial = np.matmul(height_matrix, values.transpose(0, 3, 1, 2))  # [b, c, H, w]
    return np.matmul(partial, width_matrix.T).transpose(0, 2, 3, 1)


# ---------------------------------------------------------------- kernels
def _bilinear_kernel(xp: Any, images: Any, size: Any, *, align_corners: bool, half_pixel_centers: bool) -> Any:
    _check_attrs(align_corners, half_pixel_centers)
    out_height, out_width = _output_size(images, size)
    values = np.asarray(images).astype(_F32)
    if (out_height, out_width) == values.shape[1:3]:
        return values
    y_low, y_high, y_lerp = _bilinear_axis(values.shape[1], out_height, align_corners, half_pixel_centers)
    x_low, x_high, x_lerp = _bilinear_axis(values.shape[2], out_width, align_corners, half_pixel_centers)
    top_rows, bottom_rows = values[:, y_low], values[:, y_high]
    x_lerp = x_lerp[None, None, :, None]
    top_left, top_right = top_rows[:, :, x_low], top_rows[:, :, x_high]
    bottom_left, bottom_right = bottom_rows[:, :, x_low], bottom_rows[:, :, x_high]
    top = top_left + (top_right - top_left) * x_lerp
    bottom = bottom_left + (bottom_right - bottom_left) * x_lerp
    return top + (bottom - top) * y_lerp[None, :, None, None]


def _nearest_kernel(xp: Any, images: Any, size: Any, *, align_corners: bool, half_pixel_centers: bool) -> Any:
    _check_attrs(align_corners, half_pixel_centers)
    out_height, out_width = _output_size(images, size)
    rows = _nearest_axis(images.shape[1], out_height, align_corners, half_pixel_centers)
    columns = _nearest_axis(images.shape[2], out_width, align_corners, half_pixel_centers)
    return np.asarray(images)[:, rows][:, :, columns]


def _bicubic_kernel(xp: Any, images: Any, size: Any, *, align_corners: bool, half_pixel_centers: bool) -> Any:
    _check_attrs(align_corners, half_pixel_centers)
    out_height, out_width = _output_size(images, size)
    values = np.asarray(images)
    y_index, y_weight = _bicubic_axis(values.shape[1], out_height, align_corners, half_pixel_centers)
    x_index, x_weight = _bicubic_axis(values.shape[2], out_width, align_corners, half_pixel_centers)
    rows = values[:, y_index[:, 0]].astype(_F32) * y_weight[None, :, 0, None, None]
    for k in range(1, 4):
        rows = rows + values[:, y_index[:, k]].astype(_F32) * y_weight[None, :, k, None, None]
    out = rows[:, :, x_index[:, 0]] * x_weight[None, None, :, 0, None]
    for k in range(1, 4):
        out = out + rows[:, :, x_index[:, k]] * x_weight[None, None, :, k, None]
    return out


def _area_kernel(xp: Any, images: Any, size: Any, *, align_corners: bool) -> Any:
    """Sums in float32 in TF's order: along a row first (the first and last cells weighted by
    their shares, the ones between added whole), then the rows weighted by theirs, times
    1 / (height scale * width scale)."""
    out_height, out_width = _output_size(images, size)
    values = np.asarray(images).astype(_F32)
    height_scale = _scale(values.shape[1], out_height, align_corners)
    width_scale = _scale(values.shape[2], out_width, align_corners)
    columns = _area_spans(values.shape[2], out_width, width_scale)
    longest = max(len(cells) for cells, _ in columns)
    # Step k adds cell k of every output column's span (0 where the span is shorter: exact in float).
    row_sums = None
    for k in range(longest):
        index = np.array([cells[min(k, len(cells) - 1)] for cells, _ in columns])
        last = np.array([k == len(cells) - 1 for cells, _ in columns])
        share = np.array([shares[k] if k < len(cells) and (k == 0 or k == len(cells) - 1) else 1.0
                          for cells, shares in columns], _F32)
        used = np.array([k < len(cells) for cells, _ in columns])
        term = values[:, :, index]
        term = np.where(((k == 0) | last)[None, None, :, None], term * share[None, None, :, None], term)
        term = np.where(used[None, None, :, None], term, _F32(0))
        row_sums = term if row_sums is None else row_sums + term
    scale = _F32(1.0 / np.float64(height_scale * width_scale))
    out = np.empty((values.shape[0], out_height, out_width, values.shape[3]), _F32)
    for y, (cells, shares) in enumerate(_area_spans(values.shape[1], out_height, height_scale)):
        total = np.zeros((values.shape[0], out_width, values.shape[3]), _F32)
        for cell, share in zip(cells, shares):
            total = total + row_sums[:, cell] * share
        out[:, y] = total * scale
    return out


def _check_grad_shapes(grads: Any, original_shape: tuple[int, ...]) -> None:
    if grads.ndim != 4:
        raise _invalid(f"input_grad must be 4-dimensional{_shape_text(grads.shape)}")
    if grads.shape[1] <= 0 or grads.shape[2] <= 0:
        raise _invalid("resized dimensions must be positive")
    if len(original_shape) != 4:
        raise _invalid(f"original_image must be 4-dimensional{_shape_text(original_shape)}")
    if original_shape[1] <= 0 or original_shape[2] <= 0:
        raise _invalid("original dimensions must be positive")


def _bilinear_grad_kernel(xp: Any, grads: Any, original_image: Any, *, align_corners: bool,
                          half_pixel_centers: bool) -> Any:
    _check_attrs(align_corners, half_pixel_centers)
    grads = np.asarray(grads)
    _check_grad_shapes(grads, original_image.shape)
    height, width = original_image.shape[1:3]
    matrices = []
    for in_size, out_size in ((height, grads.shape[1]), (width, grads.shape[2])):
        low, high, lerp = _bilinear_axis(in_size, out_size, align_corners, half_pixel_centers)
        matrices.append(_axis_matrix(out_size, in_size, [low, high], [_F32(1) - lerp, lerp]))
    out = _apply_axes(grads.astype(np.float64), matrices[0].T, matrices[1].T)
    return out.astype(original_image.dtype)


def _bicubic_grad_kernel(xp: Any, grads: Any, original_image: Any, *, align_corners: bool,
                         half_pixel_centers: bool) -> Any:
    _check_attrs(align_corners, half_pixel_centers)
    grads = np.asarray(grads)
    _check_grad_shapes(grads, original_image.shape)
    height, width = original_image.shape[1:3]
    matrices = []
    for in_size, out_size in ((height, grads.shape[1]), (width, grads.shape[2])):
        index, weight = _bicubic_axis(in_size, out_size, align_corners, half_pixel_centers)
        matrices.append(_axis_matrix(out_size, in_size, list(index.T), list(weight.T)))
    out = _apply_axes(grads.astype(np.float64), matrices[0].T, matrices[1].T)
    return out.astype(original_image.dtype)


def _nearest_grad_kernel(xp: Any, grads: Any, size: Any, *, align_corners: bool, half_pixel_centers: bool) -> Any:
    _check_attrs(align_corners, half_pixel_centers)
    grads = np.asarray(grads)
    if grads.ndim != 4:
        raise _invalid(f"input must be 4-dimensional{_shape_text(grads.shape)}")
    size = np.asarray(size)
    if size.ndim != 1:
        raise _invalid(f"shape_t must be 1-dimensional{_shape_text(size.shape)}")
    if size.shape[0] != 2:
        raise _invalid(f"shape_t must have two elements{_shape_text(size.shape)}")
    height, width = int(size[0]), int(size[1])
    if height <= 0 or width <= 0:
        raise _invalid("shape_t's elements must be positive")
    rows = _nearest_axis(height, grads.shape[1], align_corners, half_pixel_centers)
    columns = _nearest_axis(width, grads.shape[2], align_corners, half_pixel_centers)
    by_rows = np.zeros((grads.shape[0], height, grads.shape[2], grads.shape[3]), grads.dtype)
    np.add.at(by_rows, (slice(None), rows), grads)
    out = np.zeros((grads.shape[0], height, width, grads.shape[3]), grads.dtype)
    np.add.at(out, (slice(None), slice(None), columns), by_rows)
    return out


# ---------------------------------------------------------------- shape rules
def _size_dims(ctx: InferContext, index: int) -> tuple[int | None, int | None]:
    _rules.check_dtype(ctx, index, frozenset([dtypes_lib.int32]), "size")
    size = ctx.shape(index)
    if size.ndims is not None and size.ndims != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {size.ndims}")
    if size.ndims == 1 and size[0].value is not None and size[0].value != 2:
        raise ValueError(f"Dimension must be 2 but is {size[0].value}")
    dims = ctx.shape_value(index)
    if dims.ndims is None:
        return None, None
    return dims[0].value, dims[1].value


def _images_shape(ctx: InferContext, index: int = 0) -> TensorShape:
    images = ctx.shape(index)
    if images.ndims is not None and images.ndims != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {images.ndims}")
    return images if images.ndims is not None else TensorShape([None] * 4)


def _resize_infer(keeps_dtype: bool) -> Any:
    def infer(ctx: InferContext) -> list:
        dtype = _rules.check_dtype(ctx, 0, _REAL, "images")
        images = _images_shape(ctx)
        height, width = _size_dims(ctx, 1)
        out = TensorShape([images[0].value, height, width, images[3].value])
        return [(dtype if keeps_dtype else dtypes_lib.float32, out)]

    return infer


def _resize_grad_infer(ctx: InferContext) -> list:
    _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.float32]), "grads")
    dtype = _rules.check_dtype(ctx, 1, _GRAD_FLOAT if ctx.type == "ResizeBilinearGrad"
                               else frozenset([dtypes_lib.float32, dtypes_lib.float64]), "original_image")
    _images_shape(ctx, 0)
    return [(dtype, _images_shape(ctx, 1))]


def _nearest_grad_infer(ctx: InferContext) -> list:
    dtype = _rules.check_dtype(ctx, 0, frozenset([dtypes_lib.uint8, dtypes_lib.int8, dtypes_lib.int32,
                                                  dtypes_lib.float16, dtypes_lib.float32, dtypes_lib.float64,
                                                  dtypes_lib.bfloat16]), "grads")
    grads = _images_shape(ctx)
    height, width = _size_dims(ctx, 1)
    return [(dtype, TensorShape([grads[0].value, height, width, grads[3].value]))]


# ---------------------------------------------------------------- gradients
def _resize_attrs(op: Any) -> dict[str, Any]:
    return {"align_corners": op.get_attr("align_corners"), "half_pixel_centers": op.get_attr("half_pixel_centers")}


def _bilinear_grad(op: Any, grad: Tensor) -> list:
    image = op.inputs[0]
    attrs = dict(_resize_attrs(op), T=image.dtype.base_dtype)
    return [apply_op("ResizeBilinearGrad", [grad, image], attrs, "ResizeBilinearGrad"), None]


def _bicubic_grad(op: Any, grad: Tensor) -> list:
    image = op.inputs[0]
    if image.dtype.base_dtype not in (dtypes_lib.float32, dtypes_lib.float64):
        return [None, None]
    attrs = dict(_resize_attrs(op), T=image.dtype.base_dtype)
    return [apply_op("ResizeBicubicGrad", [grad, image], attrs, "ResizeBicubicGrad"), None]


def _nearest_grad(op: Any, grad: Tensor) -> list:
    image = op.inputs[0]
    if image.shape[1:3].is_fully_defined():
        image_size = convert_to_tensor(np.array(image.shape[1:3].as_list(), np.int32))
    else:
        from caudal.ops.array_ops import shape as shape_of

        image_size = shape_of(image)[1:3]
    attrs = dict(_resize_attrs(op), T=grad.dtype.base_dtype)
    return [apply_op("ResizeNearestNeighborGrad", [grad, image_size], attrs, "ResizeNearestNeighborGrad"), None]


def _no_gradient(op: Any, *grads: Tensor) -> list:
    raise LookupError(f"No gradient defined for operation '{op.name}' (op type: {op.type})")


register_op("ResizeBilinear", infer=_resize_infer(False), kernel=_bilinear_kernel, grad=_bilinear_grad)
register_op("ResizeNearestNeighbor", infer=_resize_infer(True), kernel=_nearest_kernel, grad=_nearest_grad)
register_op("ResizeBicubic", infer=_resize_infer(False), kernel=_bicubic_kernel, grad=_bicubic_grad)
register_op("ResizeArea", infer=_resize_infer(False), kernel=_area_kernel, grad=_no_gradient)
register_op("ResizeBilinearGrad", infer=_resize_grad_infer, kernel=_bilinear_grad_kernel, grad=NOT_DIFFERENTIABLE)
register_op("ResizeBicubicGrad", infer=_resize_grad_infer, kernel=_bicubic_grad_kernel, grad=NOT_DIFFERENTIABLE)
register_op("ResizeNearestNeighborGrad", infer=_nearest_grad_infer, kernel=_nearest_grad_kernel,
            grad=NOT_DIFFERENTIABLE)


# ---------------------------------------------------------------- public functions
def _resize(op_type: str, images: Any, size: Any, attrs: dict[str, Any], name: str | None) -> Tensor:
    with get_default_graph().name_scope(name or op_type) as scope:
        images = convert_to_tensor(images, name="images")
        size = convert_to_tensor(size, dtype=dtypes_lib.int32, name="size")
        return apply_op(op_type, [images, size], dict(attrs, T=images.dtype.base_dtype), scope)


def resize_bilinear(images: Any, size: Any, align_corners: bool = False, name: str | None = None,
                    half_pixel_centers: bool = False) -> Tensor:
    """TF1's `tf.image.resize_bilinear`: 4-D `images` resized to `size` = [height, width], float32."""
    return _resize("ResizeBilinear", images, size, {"align_corners": bool(align_corners),
                                                    "half_pixel_centers": bool(half_pixel_centers)}, name)


def resize_nearest_neighbor(images: Any, size: Any, align_corners: bool = False, name: str | None = None,
                            half_pixel_centers: bool = False) -> Tensor:
    """TF1's `tf.image.resize_nearest_neighbor`: 4-D `images` resized to `size`, same dtype."""
    return _resize("ResizeNearestNeighbor", images, size, {"align_corners": bool(align_corners),
                                                           "half_pixel_centers": bool(half_pixel_centers)}, name)


def resize_bicubic(images: Any, size: Any, align_corners: bool = False, name: str | None = None,
                   half_pixel_centers: bool = False) -> Tensor:
    """TF1's `tf.image.resize_bicubic`: 4-D `images` resized to `size`, float32."""
    return _resize("ResizeBicubic", images, size, {"align_corners": bool(align_corners),
                                                   "half_pixel_centers": bool(half_pixel_centers)}, name)


def resize_area(images: Any, size: Any, align_corners: bool = False, name: str | None = None) -> Tensor:
    """TF1's `tf.image.resize_area`: 4-D `images` resized to `size` by area averaging, float32."""
    return _resize("ResizeArea", images, size, {"align_corners": bool(align_corners)}, name)
