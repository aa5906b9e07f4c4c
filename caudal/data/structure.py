"""The structure of dataset elements: nests of components, each with a dtype, a static shape and a class.

tf.data has its own nesting rules, which this module follows: tuples, namedtuples and dicts (by sorted
key) are structure, while a Python list is one component (`from_tensor_slices([1, 2, 3])` slices a
vector). A function passed to `map` may return a list; TF treats it as a tuple.

Inside the runtime an element is a flat tuple of values, one per component: a NumPy array, or a
`SparseTensorValue` for a SparseTensor component.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.convert import convert_to_tensor
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape, as_shape

__all__ = ["ComponentSpec", "flatten", "pack", "map_structure", "normalize", "assert_same_structure",
           "specs_of", "types_of", "shapes_of", "classes_of", "is_sparse"]


def is_sparse(value: Any) -> bool:
    return type(value).__name__ == "SparseTensor" and hasattr(value, "dense_shape")


def _sparse_class() -> type:
    from caudal.framework.sparse_tensor import SparseTensor

    return SparseTensor


class ComponentSpec:
    """One component of an element: dtype, static shape, and class (Tensor or SparseTensor)."""

    __slots__ = ("dtype", "shape", "sparse")

    def __init__(self, dtype: Any, shape: Any, sparse: bool = False):
        self.dtype = dtypes_lib.as_dtype(dtype).base_dtype
        self.shape = as_shape(shape)
        self.sparse = sparse

    @property
    def cls(self) -> type:
        return _sparse_class() if self.sparse else Tensor

    def with_shape(self, shape: Any) -> ComponentSpec:
        return ComponentSpec(self.dtype, shape, self.sparse)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ComponentSpec) and self.dtype == other.dtype and self.sparse == other.sparse
                and _shape_key(self.shape) == _shape_key(other.shape))

    def __hash__(self) -> int:
        return hash((self.dtype, self.sparse, _shape_key(self.shape)))

    def __repr__(self) -> str:
        kind = "SparseTensor" if self.sparse else "Tensor"
        return f"{kind}Spec(shape={shape_text(self.shape)}, dtype=tf.{self.dtype.name}, name=None)"


def shape_text(shape: TensorShape) -> str:
    """A shape as TF's specs print it: `(None, 3)`, `(2,)`, `()`, `<unknown>`."""
    if shape.ndims is None:
        return "<unknown>"
    dims = shape.as_list()
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


class HasElementStructure:
    """`output_types`, `output_shapes`, `output_classes` and `element_spec` of an object whose `_specs`
    holds its element structure (datasets and iterators)."""

    __slots__ = ()
    _specs: Any

    @property
    def output_types(self) -> Any:
        return types_of(self._specs)

    @property
    def output_shapes(self) -> Any:
        return shapes_of(self._specs)

    @property
    def output_classes(self) -> Any:
        return classes_of(self._specs)

    @property
    def element_spec(self) -> Any:
        return self._specs


def _shape_key(shape: TensorShape) -> tuple | None:
    return None if shape.ndims is None else tuple(shape.as_list())


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def _is_structure(value: Any) -> bool:
    return isinstance(value, (tuple, dict))


def flatten(structure: Any) -> list[Any]:
    """The components of `structure` in TF's order (dicts by sorted key); lists are components."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, tuple):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def _count(structure: Any) -> int:
    if isinstance(structure, dict):
        return sum(_count(v) for v in structure.values())
    if isinstance(structure, tuple):
        return sum(_count(v) for v in structure)
    return 1


def pack(template: Any, flat: list[Any] | tuple) -> Any:
    """`flat` components in the structure of `template`."""
    flat = list(flat)
    if len(flat) != _count(template):
        raise ValueError(f"The structure has {_count(template)} components, but {len(flat)} values were given")
    result, _ = _pack(template, flat, 0)
    return result


def _pack(template: Any, flat: list[Any], index: int) -> tuple[Any, int]:
    if isinstance(template, dict):
        values = {}
        for key in sorted(template):
            values[key], index = _pack(template[key], flat, index)
        return type(template)((key, values[key]) for key in template), index
    if isinstance(template, tuple):
        items = []
        for item in template:
            value, index = _pack(item, flat, index)
            items.append(value)
        return (type(template)(*items) if _is_namedtuple(template) else tuple(items)), index
    return flat[index], index + 1


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    return pack(structure, [fn(leaf) for leaf in flatten(structure)])


def assert_same_structure(first: Any, second: Any) -> None:
    """ValueError/TypeError as TF's when two element structures differ."""
    def kind(value: Any) -> Any:
        if isinstance(value, dict):
            return ("dict", tuple(sorted(value)))
        if isinstance(value, tuple):
            return ("tuple", len(value))
        return "leaf"

    k1, k2 = kind(first), kind(second)
    if k1 != k2:
        raise ValueError(f"The two structures don't have the same nested structure.\n\nFirst structure: "
                         f"{_describe(first)}\n\nSecond structure: {_describe(second)}")
    if isinstance(first, dict):
        for key in first:
            assert_same_structure(first[key], second[key])
    elif isinstance(first, tuple):
        for a, b in zip(first, second):
            assert_same_structure(a, b)


def _describe(structure: Any) -> str:
    return repr(map_structure(lambda leaf: ".", structure))


def normalize(element: Any, what: str = "element") -> Any:
    """`element` with every component a Tensor or SparseTensor (lists become tensors, as TF's)."""
    def convert(leaf: Any) -> Any:
        if isinstance(leaf, Tensor) or is_sparse(leaf):
            return leaf
        if type(leaf).__name__ == "SparseTensorValue":
            return _sparse_class().from_value(leaf)
        try:
            return convert_to_tensor(leaf, name="component")
        except (TypeError, ValueError) as e:
            raise TypeError(f"Failed to convert {what} of type {type(leaf).__name__} to Tensor: {e}") from None

    if element is None:
        raise TypeError(f"Failed to convert {what}: None is not a valid component")
    return map_structure(convert, element)


def specs_of(structure: Any) -> Any:
    """The ComponentSpec structure of a structure of Tensors and SparseTensors."""
    def spec(leaf: Any) -> ComponentSpec:
        if is_sparse(leaf):
            return ComponentSpec(leaf.dtype, leaf.shape, sparse=True)
        return ComponentSpec(leaf.dtype, leaf.shape)

    return map_structure(spec, structure)


def types_of(specs: Any) -> Any:
    return map_structure(lambda s: s.dtype, specs)


def shapes_of(specs: Any) -> Any:
    return map_structure(lambda s: s.shape, specs)


def classes_of(specs: Any) -> Any:
    return map_structure(lambda s: s.cls, specs)


def specs_from(types: Any, shapes: Any = None, classes: Any = None) -> Any:
    """A spec structure from TF1's (output_types, output_shapes, output_classes) triple."""
    if shapes is None:
        shapes = map_structure(lambda _: TensorShape(None), types)
    else:
        assert_same_structure(types, shapes) if isinstance(types, (tuple, dict)) else None
    flat_types = flatten(types)
    flat_shapes = flatten(shapes) if _is_structure(shapes) else [shapes]
    if len(flat_shapes) != len(flat_types):
        raise ValueError("The output_shapes and output_types structures do not match")
    flat_classes = flatten(classes) if classes is not None and _is_structure(classes) else \
        [classes] * len(flat_types)
    specs = [ComponentSpec(t, s, sparse=(c is not None and c is not Tensor and getattr(c, "__name__", "")
                                          == "SparseTensor"))
             for t, s, c in zip(flat_types, flat_shapes, flat_classes)]
    return pack(types, specs)
