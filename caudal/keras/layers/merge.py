"""Keras merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot) and their
functional forms, with TF-Keras's shape checks and messages."""
from __future__ import annotations

from typing import Any

import caudal as tf
from caudal.framework.tensor import Tensor
from caudal.keras import backend as K
from caudal.keras.engine.base_layer import Layer

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "add", "subtract",
           "multiply", "average", "maximum", "minimum", "concatenate", "dot"]


def _shape_tuples(input_shape: Any) -> Any:
    if isinstance(input_shape, list):
        return [tuple(s.as_list()) if hasattr(s, "as_list") else s for s in input_shape]
    return tuple(input_shape.as_list()) if hasattr(input_shape, "as_list") else input_shape


class _Merge(Layer):
    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._reshape_required = False

    def _merge_function(self, inputs: list) -> Tensor:
        raise NotImplementedError

    def _elementwise_shape(self, shape1: Any, shape2: Any) -> Any:
        if shape1 is None or shape2 is None:
            return None
        if len(shape1) < len(shape2):
            return self._elementwise_shape(shape2, shape1)
        if not shape2:
            return shape1
        output = list(shape1[:-len(shape2)])
        for i, j in zip(shape1[-len(shape2):], shape2):
            if i is None or j is None:
                output.append(None)
            elif i == 1:
                output.append(j)
            elif j == 1:
                output.append(i)
            else:
                if i != j:
                    raise ValueError(f"Inputs have incompatible shapes. Received shapes {shape1} and {shape2}")
                output.append(i)
        return tuple(output)

    def build(self, input_shape: Any) -> None:
        input_shape = _shape_tuples(input_shape)
        if not isinstance(input_shape, list) or not isinstance(input_shape[0], tuple):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: input_shape="
                             f"{input_shape} (not a list of shapes)")
        if len(input_shape) < 1:
            raise ValueError(f"A merge layer should be called on a list of at least 1 input. Got {len(input_shape)} "
                             f"inputs. Full input_shape received: {input_shape}")
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"Cannot merge tensors with different batch sizes. Got tensors with shapes {input_shape}")
        output = input_shape[0][1:] if input_shape[0] is not None else None
        for shape in input_shape[1:]:
            output = self._elementwise_shape(output, shape[1:] if shape is not None else None)
        self._reshape_required = not (None not in input_shape and len(set(map(len, input_shape))) == 1)

    def call(self, inputs: Any) -> Tensor:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: inputs={inputs} (not a "
                             "list of tensors)")
        if self._reshape_required:
            ranks = [x.shape.ndims for x in inputs]
            top = max(ranks)
            expanded = []
            for x, rank in zip(inputs, ranks):
                for _ in range(top - rank):
                    x = tf.expand_dims(x, axis=1)
                expanded.append(x)
            return self._merge_function(expanded)
        return self._merge_function(list(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        input_shape = _shape_tuples(input_shape)
        output = input_shape[0][1:] if input_shape[0] is not None else None
        for shape in input_shape[1:]:
            output = self._elementwise_shape(output, shape[1:] if shape is not None else None)
        batch_sizes = {s[0] for s in input_shape if s is not None} - {None}
        return ((list(batch_sizes)[0],) if len(batch_sizes) == 1 else (None,)) + tuple(output)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None or all(m is None for m in mask):
            return None
        masks = [tf.expand_dims(m, axis=0) for m in mask if m is not None]
        return K.all(K.concatenate(masks, axis=0), axis=0, keepdims=False)


class Add(_Merge):
    def _merge_function(self, inputs: list) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output += x
        return output


class Subtract(_Merge):
    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: input_shape="
                             f"{_shape_tuples(input_shape)}")

    def _merge_function(self, inputs: list) -> Tensor:
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: inputs={inputs}")
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    def _merge_function(self, inputs: list) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = output * x
        return output


class Average(_Merge):
    def _merge_function(self, inputs: list) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output += x
        return output / len(inputs)


class Maximum(_Merge):
    def _merge_function(self, inputs: list) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = tf.maximum(output, x)
        return output


class Minimum(_Merge):
    def _merge_function(self, inputs: list) -> Tensor:
        output = inputs[0]
        for x in inputs[1:]:
            output = tf.minimum(output, x)
        return output


class Concatenate(_Merge):
    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape: Any) -> None:
        input_shape = _shape_tuples(input_shape)
        if not isinstance(input_shape, list) or len(input_shape) < 1 or not isinstance(input_shape[0], tuple):
            raise ValueError(f"A `Concatenate` layer should be called on a list of at least 1 input. Received: "
                             f"input_shape={input_shape}")
        if all(shape is None for shape in input_shape):
            return
        reduced = [list(shape) for shape in input_shape]
        shapes = set()
        for dims in reduced:
            del dims[self.axis]
            shapes.add(tuple(dims))
        if len(shapes) != 1:
            message = ("A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis. "
                       f"Received: input_shape={input_shape}")
            ranks = {len(shape) for shape in shapes}
            if len(ranks) != 1:
                raise ValueError(message)
            (rank,) = ranks
            for axis in range(rank):
                if len({shape[axis] for shape in shapes if shape[axis] is not None}) > 1:
                    raise ValueError(message)

    def _merge_function(self, inputs: list) -> Tensor:
        return K.concatenate(inputs, axis=self.axis)

    def call(self, inputs: Any) -> Tensor:
        return self._merge_function(list(inputs))

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = _shape_tuples(input_shape)
        output = list(shapes[0])
        for shape in shapes[1:]:
            if output[self.axis] is None or shape[self.axis] is None:
                output[self.axis] = None
                break
            output[self.axis] += shape[self.axis]
        return tuple(output)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None or all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(tf.ones_like(x, dtype="bool"))
            elif m.shape.ndims < x.shape.ndims:
                masks.append(tf.expand_dims(m, axis=-1))
            else:
                masks.append(m)
        return K.all(K.concatenate(masks, axis=self.axis), axis=-1, keepdims=False)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(_Merge):
    """Dot products of two batches along `axes` (optionally of L2-normalized inputs: cosine proximity)."""

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(axes, int) and (not isinstance(axes, (list, tuple)) or len(axes) != 2
                                           or not all(isinstance(a, int) for a in axes)):
            raise ValueError(f"Invalid format for argument `axes`: list of 2 ints, or a single int. Received: "
                             f"axes={axes}")
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        input_shape = _shape_tuples(input_shape)
        if not isinstance(input_shape, list) or len(input_shape) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape="
                             f"{input_shape}")

    def _axes_for(self, inputs: list) -> list[int]:
        if isinstance(self.axes, int):
            axes = [self.axes, self.axes]
        else:
            axes = list(self.axes)
        return [a % x.shape.ndims if a < 0 else a for a, x in zip(axes, inputs)]

    def call(self, inputs: Any) -> Tensor:
        x1, x2 = inputs
        axes = self._axes_for([x1, x2])
        if self.normalize:
            x1 = tf.nn.l2_normalize(x1, axis=axes[0])
            x2 = tf.nn.l2_normalize(x2, axis=axes[1])
        return K.batch_dot(x1, x2, axes)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def add(inputs: list, **kwargs: Any) -> Tensor:
    return Add(**kwargs)(inputs)


def subtract(inputs: list, **kwargs: Any) -> Tensor:
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list, **kwargs: Any) -> Tensor:
    return Multiply(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any) -> Tensor:
    return Average(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any) -> Tensor:
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any) -> Tensor:
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Tensor:
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list, axes: Any, normalize: bool = False, **kwargs: Any) -> Tensor:
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
