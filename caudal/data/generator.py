"""`Dataset.from_generator`: elements from a Python generator, checked against the declared types and
shapes with TensorFlow's errors."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from caudal import errors
from caudal.data import pipeline, structure
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import get_default_graph
from caudal.ops.variable_ops import dims_compatible

__all__ = ["from_generator"]


class _Generator:
    """The generator callable, kept on the node for its kernel (GraphDefs leave it out)."""

    attr_kind = "internal"
    __slots__ = ("fn",)

    def __init__(self, fn: Callable):
        self.fn = fn


def _type_repr(specs: Any) -> str:
    return repr(structure.map_structure(lambda s: _DTypeName(s.dtype), specs))


class _DTypeName:
    def __init__(self, dtype: Any):
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"tf.{self.dtype.name}"


def _checker(specs: Any, fresh: bool = False) -> Callable[[Any], tuple]:
    """A function checking one yielded element against `specs` and converting it to arrays of their dtypes.

    Each element is copied (the generator may reuse its buffers, as TF's copy into tensors allows), unless
    `fresh`: a generator marked `yields_fresh_arrays` (caudal's own) hands over new arrays it keeps no
    reference to."""
    flat_specs = structure.flatten(specs)
    # What each component's check needs, worked out once rather than per element.
    plans = [(spec, spec.dtype is dtypes_lib.string, spec.dtype.is_integer, spec.dtype.as_numpy_dtype,
              spec.shape._dims) for spec in flat_specs]

    def convert(value: Any, plan: tuple) -> np.ndarray:
        spec, is_string, is_integer, np_dtype, dims = plan
        try:
            if is_string:
                array = np.asarray(value, dtype=object)
                array = np.vectorize(lambda s: s.encode() if isinstance(s, str) else bytes(s), otypes=[object])(array) \
                    if array.size else array
            else:
                array = np.asarray(value)
                if array.dtype.kind in "USO" or (array.dtype.kind == "f" and is_integer):
                    raise ValueError("not convertible")
                array = array.astype(np_dtype, copy=not fresh)
        except (TypeError, ValueError):
            raise errors.InvalidArgumentError(
                None, None, f"TypeError: `generator` yielded an element that did not match the expected structure. "
                            f"The expected structure was {spec}, but the yielded element was {value}.") from None
        if not dims_compatible(dims, array.shape):
            raise errors.InvalidArgumentError(
                None, None, f"TypeError: `generator` yielded an element of shape {_shape_text(array.shape)} where an "
                            f"element of shape {_shape_text(spec.shape)} was expected.")
        return array

    def check(value: Any) -> tuple:
        if len(flat_specs) == 1 and not isinstance(specs, (tuple, dict)):
            return (convert(value, plans[0]),)
        try:
            if isinstance(value, list):
                value = tuple(value)
            structure.assert_same_structure(specs, value)
            flat = structure.flatten(value)
        except (ValueError, TypeError, KeyError):
            raise errors.InvalidArgumentError(
                None, None, f"TypeError: `generator` yielded an element that did not match the expected structure. "
                            f"The expected structure was {_type_repr(specs)}, but the yielded element was {value}."
            ) from None
        return tuple([convert(v, plan) for v, plan in zip(flat, plans)])

    return check


def _shape_text(shape: Any) -> str:
    dims = shape.as_list() if hasattr(shape, "as_list") else list(shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def _kernel_value(ctx: Any, op: Any, *args: Any) -> pipeline.DatasetValue:
    fn = op._attrs["_generator"].fn
    values = tuple(np.asarray(a) for a in args)
    fresh = getattr(fn, "yields_fresh_arrays", False)
    return pipeline.GeneratorValue(lambda: fn(*values), _checker(op._attrs["_specs"].specs, fresh))


def from_generator(generator: Callable, output_types: Any, output_shapes: Any = None, args: Any = None) -> Any:
    """`Dataset.from_generator(generator, output_types, output_shapes, args)`: `generator(*args)` is called
    for each pass over the dataset; `args` are tensors whose values it receives as NumPy arrays."""
    from caudal.data.dataset_ops import _source

    if not callable(generator):
        raise TypeError("`generator` must be callable.")
    if output_shapes is not None and isinstance(output_types, (tuple, dict)):
        structure.assert_same_structure(output_types, output_shapes)
    specs = structure.specs_from(output_types, output_shapes)
    arg_tensors = [convert_to_tensor(a, name=f"arg{i}") for i, a in enumerate(args or ())]
    with get_default_graph().name_scope("from_generator"):
        return _source("GeneratorDataset", arg_tensors, specs, {"_generator": _Generator(generator)})


def _register() -> None:
    from caudal.data.dataset_ops import register_dataset_op

    register_dataset_op("GeneratorDataset", _kernel_value)


_register()
