"""Checks of a GraphDef's nodes against their op definitions, as TensorFlow's importer makes them.

Before `import_graph_def` creates anything it checks every node: a unique
name, attrs of the types the op declares (`transpose_a` set to a tensor is an
error, not silently used), every attr without a default present, valid
DataTypes, no dimension below -1 in a shape attr, no negative dimension in a
tensor attr, and as many inputs as the op's signature asks for. While nodes
are created, each input's dtype is checked against the signature. Every
failure is a ValueError naming the node, with TensorFlow's wording.
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.op_attrs import OP_ATTRS
from caudal.framework.op_signatures import OP_INPUTS
from caudal.proto import types_pb2

__all__ = ["check_nodes", "expected_input_dtypes", "type_string"]

# AttrValue's oneof field of each scalar attr type, and TF's name of each field.
_FIELD_OF_TYPE = {"type": "type", "int": "i", "float": "f", "bool": "b", "string": "s", "shape": "shape",
                  "tensor": "tensor", "func": "func"}
_TYPE_OF_FIELD = {v: k for k, v in _FIELD_OF_TYPE.items()}
_LIST_FIELDS = ("s", "i", "f", "b", "type", "shape", "tensor", "func")


def type_string(dtype: Any) -> str:
    """TF's DataTypeString: "float", "int32", "string", "float_ref"."""
    enum = dtype.as_datatype_enum if isinstance(dtype, dtypes_lib.DType) else int(dtype)
    base = enum - 100 if enum > 100 else enum
    try:
        name = types_pb2.DataType.Name(base)[3:].lower()
    except ValueError:
        name = f"unknown dtype enum ({enum})"
    return name + "_ref" if enum > 100 else name


def _node_text(node: Any) -> str:
    return f"{{{{node {node.name}}}}}"


def _attr_kind(value: Any) -> str | None:
    """The TF type name of an AttrValue as set: "int", "tensor", "list(int)", or None when unset."""
    field = value.WhichOneof("value")
    if field is None:
        return None
    if field == "list":
        for name in _LIST_FIELDS:
            if len(getattr(value.list, name)):
                return f"list({_TYPE_OF_FIELD[name]})"
        return "list"
    if field == "placeholder":
        return "placeholder"
    return _TYPE_OF_FIELD.get(field, field)


def _valid_type(enum: int) -> bool:
    if enum <= 0 or enum > 100:
        return False
    try:
        dtypes_lib.as_dtype(enum)
    except (TypeError, ValueError, KeyError):
        return False
    return True


def _check_attr(node: Any, key: str, want: str, value: Any) -> None:
    got = _attr_kind(value)
    if got in (None, "placeholder"):
        return
    op_text = f"; NodeDef: {_node_text(node)}; Op<name={node.op}>"
    if want.startswith("list("):
        if got not in ("list", want):
            raise ValueError(f"AttrValue had value with type '{got}' when '{want}' expected\n\t for attr "
                             f"'{key}'\n\t{op_text}")
    elif got != want:
        raise ValueError(f"AttrValue had value with type '{got}' when '{want}' expected\n\t for attr "
                         f"'{key}'\n\t{op_text}")
    types = list(value.list.type) if want == "list(type)" else [value.type] if want == "type" else []
    if any(not _valid_type(t) for t in types):
        raise ValueError(f"AttrValue has invalid DataType\n\t for attr '{key}'\n\t{op_text}")
    shapes = list(value.list.shape) if want == "list(shape)" else [value.shape] if want == "shape" else []
    for shape in shapes:
        dims = [d.size for d in shape.dim]
        if any(d < -1 for d in dims):
            raise ValueError(f"Shape [{','.join(map(str, dims))}] has dimensions with values below -1 (where -1 "
                             f"means unknown) for '{_node_text(node)} = {node.op}[...]()'")
    tensors = list(value.list.tensor) if want == "list(tensor)" else [value.tensor] if want == "tensor" else []
    for tensor in tensors:
        dims = [d.size for d in tensor.tensor_shape.dim]
        if any(d < 0 for d in dims):
            raise ValueError(f"Shape [{','.join(map(str, dims))}] is not fully defined for "
                             f"'{_node_text(node)} = {node.op}[...]()'")


def _attr_value(node: Any, key: str) -> Any:
    """An attr's value as the signature needs it (an int, a dtype, a list of dtypes), or None."""
    if key in node.attr:
        value = node.attr[key]
        field = value.WhichOneof("value")
        if field == "i":
            return value.i
        if field == "type":
            return value.type
        if field == "list":
            return list(value.list.type)
        return None
    spec = OP_ATTRS.get(node.op, {}).get(key)
    if spec is None or len(spec) != 2:
        return None
    kind, default = spec
    if kind == "int":
        return default
    if kind == "type":
        return dtypes_lib.as_dtype(default).as_datatype_enum
    if kind == "list(type)":
        return [dtypes_lib.as_dtype(d).as_datatype_enum for d in default]
    return None


def expected_input_dtypes(node: Any) -> list[int] | None:
    """The DataType enums the node's signature expects, one per input, or None where it cannot tell."""
    signature = OP_INPUTS.get(node.op)
    if signature is None:
        return None
    expected: list[int] = []
    for arg in signature:
        is_ref = arg.startswith("&")
        arg = arg.lstrip("&")
        if arg.startswith("["):
            types = _attr_value(node, arg[1:-1])
            if not isinstance(types, list):
                return None
            expected.extend(types)
            continue
        count = 1
        if "*" in arg:
            number, arg = arg.split("*", 1)
            count = _attr_value(node, number)
            if not isinstance(count, int):
                return None
            if count < 0:
                raise ValueError(f"Value for attr '{number}' of {count} must be at least minimum 0\n\t; NodeDef: "
                                 f"{_node_text(node)}; Op<name={node.op}>")
        if arg.startswith("="):
            dtype = dtypes_lib.as_dtype(arg[1:]).as_datatype_enum
        else:
            dtype = _attr_value(node, arg)
            if not isinstance(dtype, int):
                return None
        expected.extend([dtype + 100 if is_ref else dtype] * count)
    return expected


def check_nodes(nodes: list[Any]) -> None:
    """Checks names, attrs and input counts of every node before any is imported (ValueError naming it)."""
    seen: set[str] = set()
    for node in nodes:
        if node.name in seen:
            raise ValueError(f"Node '{node.name}' is not unique")
        seen.add(node.name)
        specs = OP_ATTRS.get(node.op)
        if specs is None:
            continue
        for key, spec in specs.items():
            if key in node.attr and node.attr[key].WhichOneof("value") is not None:
                _check_attr(node, key, spec[0], node.attr[key])
            elif len(spec) == 1:
                raise ValueError(f"NodeDef missing attr '{key}' from Op<name={node.op}>; NodeDef: "
                                 f"{_node_text(node)}")
        expected = expected_input_dtypes(node)
        count = sum(1 for text in node.input if not text.startswith("^"))
        if expected is not None and count != len(expected):
            raise ValueError(f"NodeDef expected inputs '{', '.join(type_string(t) for t in expected)}' do not "
                             f"match {count} inputs specified; Op<name={node.op}>; NodeDef: {_node_text(node)}")
        wanted = _expected_input_count(node)
        if expected is None and wanted is not None and count != wanted:
            raise ValueError(f"NodeDef expected {wanted} inputs, not the {count} specified; Op<name={node.op}>; "
                             f"NodeDef: {_node_text(node)}")


def _expected_input_count(node: Any) -> int | None:
    """How many inputs the signature asks for (known even where a dtype attr is missing), or None."""
    signature = OP_INPUTS.get(node.op)
    if signature is None:
        return None
    total = 0
    for arg in signature:
        arg = arg.lstrip("&")
        if arg.startswith("["):
            types = _attr_value(node, arg[1:-1])
            if not isinstance(types, list):
                return None
            total += len(types)
        elif "*" in arg:
            count = _attr_value(node, arg.split("*", 1)[0])
            if not isinstance(count, int):
                return None
            total += count
        else:
            total += 1
    return total
