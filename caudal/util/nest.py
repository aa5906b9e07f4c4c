"""Nested structures of values, as TF's `tf.nest` sees them.

A structure is a leaf, or a list, tuple, namedtuple or dict of structures.
Dicts are walked in sorted key order; `None` is a leaf. `flatten` lists the
leaves, `pack_sequence_as` rebuilds a structure from them, and
`assert_same_structure` raises TF's ValueError when two structures differ.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["is_sequence", "flatten", "pack_sequence_as", "assert_same_structure", "map_structure"]


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def is_sequence(value: Any) -> bool:
    """Whether `value` is a list, tuple, namedtuple or dict (not a leaf)."""
    return isinstance(value, (list, tuple, dict))


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value[k] for k in sorted(value)]
    return list(value)


def flatten(structure: Any) -> list[Any]:
    """The leaves of `structure`, depth first."""
    if not is_sequence(structure):
        return [structure]
    leaves: list[Any] = []
    stack = [structure]
    while stack:
        item = stack.pop()
        if is_sequence(item):
            stack.extend(reversed(_children(item)))
        else:
            leaves.append(item)
    return leaves


def _rebuild(template: Any, children: list[Any]) -> Any:
    if isinstance(template, dict):
        return type(template)((k, v) for k, v in zip(sorted(template), children))
    if _is_namedtuple(template):
        return type(template)(*children)
    if isinstance(template, tuple):
        return tuple(children)
    return list(children)


def pack_sequence_as(structure: Any, flat: list[Any]) -> Any:
    """`flat`'s values in the shape of `structure`."""
    flat = list(flat)
    count = len(flatten(structure))
    if count != len(flat):
        raise ValueError(f"Could not pack sequence. Structure had {count} elements, but flat_sequence had "
                         f"{len(flat)} elements.")
    position = 0

    def build(node: Any) -> Any:
        nonlocal position
        if not is_sequence(node):
            position += 1
            return flat[position - 1]
        return _rebuild(node, [build(child) for child in _children(node)])

    return build(structure)


def _kind(value: Any) -> Any:
    if isinstance(value, dict):
        return ("dict", tuple(sorted(value)))
    if _is_namedtuple(value):
        return (type(value), len(value))
    if isinstance(value, (list, tuple)):
        return ("sequence", len(value))
    return None


def assert_same_structure(first: Any, second: Any, check_types: bool = True) -> None:
    """Raises ValueError (TypeError for differing sequence types) unless both have one structure."""
    stack = [(first, second)]
    while stack:
        a, b = stack.pop()
        kind_a, kind_b = _kind(a), _kind(b)
        if (kind_a is None) != (kind_b is None):
            sequence, other = (a, b) if kind_a is not None else (b, a)
            raise ValueError(
                f"The two structures don't have the same nested structure.\n\nFirst structure: {first}\n\n"
                f"Second structure: {second}\n\nMore specifically: Substructure \"{sequence}\" is a sequence, "
                f"while substructure \"{other}\" is not")
        if kind_a is None:
            continue
        if kind_a != kind_b:
            if kind_a[0] == kind_b[0] == "sequence" or isinstance(a, dict) == isinstance(b, dict):
                if len(_children(a)) != len(_children(b)):
                    raise ValueError(
                        f"The two structures don't have the same nested structure.\n\nFirst structure: {first}"
                        f"\n\nSecond structure: {second}\n\nMore specifically: The two structures don't have the "
                        f"same number of elements. First structure: {a}. Second structure: {b}")
            if not (kind_a[0] == kind_b[0] == "sequence"):
                raise TypeError(f"The two structures don't have the same sequence type. First structure has type "
                                f"{type(a)}, while second structure has type {type(b)}.")
        if check_types and type(a) is not type(b):
            raise TypeError(f"The two structures don't have the same sequence type. First structure has type "
                            f"{type(a)}, while second structure has type {type(b)}.")
        stack.extend(zip(_children(a), _children(b)))


def map_structure(fn: Callable[..., Any], *structures: Any) -> Any:
    """`fn` applied to the leaves of `structures` (which must share a structure), in that structure."""
    for other in structures[1:]:
        assert_same_structure(structures[0], other, check_types=False)
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])
