"""Reading checkpoints without a graph: `tf.train.NewCheckpointReader`, `load_checkpoint`,
`load_variable`, `list_variables`; and `tf.train.init_from_checkpoint`, which makes variables'
initializers read a checkpoint.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from caudal.checkpoint.bundle import BundleReader
from caudal.checkpoint.state import latest_checkpoint
from caudal.framework import dtypes as dtypes_lib
from caudal.proto import types_pb2

__all__ = ["CheckpointReader", "NewCheckpointReader", "load_checkpoint", "load_variable", "list_variables",
           "init_from_checkpoint"]


class CheckpointReader:
    """TF's `CheckpointReader` (`py_checkpoint_reader`): names, dtypes, shapes and values of a V2 checkpoint.

    A missing checkpoint raises NotFoundError ("Unsuccessful TensorSliceReader
    constructor: Failed to find any matching files for PREFIX"); a damaged
    index raises DataLossError naming the file.
    """

    def __init__(self, filepattern: Any):
        prefix = os.fspath(filepattern)
        if isinstance(prefix, bytes):
            prefix = prefix.decode("utf-8")
        self._bundle = BundleReader(prefix)

    def get_tensor(self, tensor_str: str | bytes) -> Any:
        """The value of `tensor_str` as a NumPy array (NotFoundError "Key ... not found in checkpoint")."""
        name = tensor_str.decode("utf-8") if isinstance(tensor_str, bytes) else tensor_str
        return self._bundle.read(name)

    def has_tensor(self, tensor_str: str | bytes) -> bool:
        name = tensor_str.decode("utf-8") if isinstance(tensor_str, bytes) else tensor_str
        return self._bundle.has(name)

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        return {name: [d.size for d in entry.shape.dim] for name, entry in self._bundle.entries.items()}

    def get_variable_to_dtype_map(self) -> dict[str, dtypes_lib.DType]:
        return {name: dtypes_lib.as_dtype(entry.dtype) for name, entry in self._bundle.entries.items()}

    def debug_string(self) -> bytes:
        """One line per tensor, `name (DT_FLOAT) [2,3]`, in name order, as bytes."""
        lines = []
        for name in sorted(self._bundle.entries):
            entry = self._bundle.entries[name]
            dims = ",".join(str(d.size) for d in entry.shape.dim)
            lines.append(f"{name} ({types_pb2.DataType.Name(entry.dtype)}) [{dims}]\n")
        return "".join(lines).encode("utf-8")

    def close(self) -> None:
        self._bundle.close()


def NewCheckpointReader(filepattern: Any) -> CheckpointReader:  # noqa: N802 - TF's name
    """`tf.train.NewCheckpointReader(filepattern)`."""
    return CheckpointReader(filepattern)


def _checkpoint_filename(ckpt_dir_or_file: Any) -> str:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        return latest_checkpoint(path)
    return path


def load_checkpoint(ckpt_dir_or_file: Any) -> CheckpointReader:
    """`tf.train.load_checkpoint`: a reader of the checkpoint, or of a directory's latest checkpoint."""
    filename = _checkpoint_filename(ckpt_dir_or_file)
    if filename is None:
        raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {ckpt_dir_or_file}")
    return NewCheckpointReader(filename)


def load_variable(ckpt_dir_or_file: Any, name: str) -> np.ndarray:
    """`tf.train.load_variable`: one tensor's value (a trailing ":0" is ignored)."""
    if name.endswith(":0"):
        name = name[:-2]
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)


def list_variables(ckpt_dir_or_file: Any) -> list[tuple[str, list[int]]]:
    """`tf.train.list_variables`: [(name, shape)] sorted by name."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return [(name, shapes[name]) for name in sorted(shapes)]


# ------------------------------------------------------ init_from_checkpoint
def _variables_by_name() -> dict[str, Any]:
    """The variables init_from_checkpoint can find by name: get_variable's store, then the globals."""
    from caudal.framework.graph import get_default_graph
    from caudal.variables import global_variables

    found = {v.op.name: v for v in global_variables()}
    store = getattr(get_default_graph(), "_variable_store", None)
    if store is not None:
        found.update(store.variables)
    return found


def _is_variable(value: Any) -> bool:
    from caudal.variables import Variable

    return isinstance(value, Variable)


def init_from_checkpoint(ckpt_dir_or_file: Any, assignment_map: dict[str, Any]) -> None:
    """`tf.train.init_from_checkpoint`: variables are initialized from a checkpoint instead.

    `assignment_map` maps checkpoint names to current variables: `"ckpt/var":
    "scope/var"` (or a Variable), `"ckpt_scope/": "scope/"` for every variable
    under a scope, `"/": "scope/"` for the checkpoint's root. Each variable's
    initializer becomes an Assign from a RestoreV2 named
    `checkpoint_initializer`, and its `initial_value` that restored tensor, as
    in TF1. Names missing from the checkpoint, a scope mapped to a non-scope,
    and incompatible shapes raise ValueError when called.
    """
    filename = _checkpoint_filename(ckpt_dir_or_file)
    if filename is None:
        raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory {ckpt_dir_or_file}")
    reader = load_checkpoint(ckpt_dir_or_file)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    variables = _variables_by_name()
    for tensor_name, current in assignment_map.items():
        var = current if _is_variable(current) else None
        if isinstance(current, (list, tuple)) and current and all(_is_variable(v) for v in current):
            raise NotImplementedError("init_from_checkpoint of partitioned variables is not supported")
        if var is None and isinstance(current, str):
            var = variables.get(current)
        if var is not None:
            if tensor_name not in shapes:
                raise ValueError(f"Tensor {tensor_name} is not found in {ckpt_dir_or_file} checkpoint {shapes}")
            _check_shape(var, tensor_name, shapes[tensor_name])
            _set_checkpoint_initializer(var, filename, tensor_name, dtypes[tensor_name])
            continue
        if not isinstance(current, str):
            raise TypeError(f"assignment_map values must be variable names, scopes or Variables, got {current!r}")
        scope = current[:current.rindex("/")] if "/" in current else ""
        if not tensor_name.endswith("/"):
            raise ValueError(f"Assignment map with scope only name {tensor_name} should map to scope only "
                             f"{current}. Should be 'scope/': 'other_scope/'.")
        for var_name, var in sorted(variables.items()):
            if scope and not var_name.startswith(scope + "/"):
                continue
            full_name = var_name[len(scope):]
            if current != "/":
                full_name = full_name[1:]
            if tensor_name != "/":
                full_name = tensor_name + full_name
            full_name = full_name.rstrip("/")
            if full_name not in shapes:
                raise ValueError(f"Tensor {full_name} ({var_name} in {current}) is not found in {ckpt_dir_or_file} "
                                 f"checkpoint")
            _check_shape(var, full_name, shapes[full_name])
            _set_checkpoint_initializer(var, filename, full_name, dtypes[full_name])
    reader.close()


def _check_shape(var: Any, tensor_name: str, shape: list[int]) -> None:
    if not var.get_shape().is_compatible_with(shape):
        raise ValueError(f"Shape of variable {var.name} ({var.get_shape()}) doesn't match with shape of tensor "
                         f"{tensor_name} ({shape}) from checkpoint reader.")


def _set_checkpoint_initializer(var: Any, filename: str, tensor_name: str, dtype: dtypes_lib.DType) -> None:
    from caudal.ops.checkpoint_ops import restore_v2
    from caudal.variables import assign

    base = var.dtype.base_dtype
    if dtype != base:
        raise ValueError(f"Tensor {tensor_name} in the checkpoint is {dtype.name}, variable {var.name} is "
                         f"{base.name}")
    graph = var.graph
    with graph.as_default(), graph.control_dependencies(None), graph.name_scope(None):
        restored = restore_v2(filename, [tensor_name], [""], [base], name="checkpoint_initializer")[0]
        restored.set_shape(var.get_shape())
        init_op = assign(var, restored, validate_shape=True).op
    var._initializer_op = init_op
    var._initial_value = restored
