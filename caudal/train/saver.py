"""`tf.train.Saver`: saves and restores variables as TensorFlow V2 checkpoints.

The Saver builds TF1's graph under its name scope (`save/`, `save_1/`, ...),
node for node as TensorFlow 2.21 builds it, so its `.meta` files and
checkpoints move both ways between caudal and TensorFlow:

    save/filename/input   Const "model"
    save/filename         PlaceholderWithDefault
    save/Const            PlaceholderWithDefault   <- fed with the path (filename_tensor_name)
    save/SaveV2           SaveV2(save/Const, tensor_names, shape_and_slices, vars...)
    save/control_dependency  Identity(save/Const) after SaveV2   (save_tensor_name)
    save/RestoreV2        RestoreV2(save/Const, ...)  on /device:CPU:0
    save/Assign, save/Assign_1, ...
    save/restore_all      NoOp after every Assign   (restore_op_name)

With `sharded=True` the save path goes through `ShardedFilename` and
`MergeV2Checkpoints` as in TensorFlow (one shard: caudal has one device).
Tensors are saved under the variables' op names, sorted, so slot variables
(`w/Adam`) and the global step line up with TensorFlow's checkpoints.

Saving writes the bundle under temporary names, fsyncs it and commits it
through the prefix's journal (`caudal.checkpoint.durable`), so a process
killed while saving over a prefix leaves the old checkpoint or the new one;
the `checkpoint` state file is rewritten (atomically) only afterwards, then
checkpoints beyond `max_to_keep` are deleted. Restoring runs in one step
that commits nothing unless every variable was read and assigned, so a
failed restore (a missing name, a shape mismatch, a damaged file) leaves
every variable as it was.
"""
from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np

from caudal import errors
from caudal.checkpoint import state as state_lib
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import GraphKeys, Operation, get_default_graph
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.ops import checkpoint_ops
from caudal.proto import saver_pb2
from caudal.train.meta_graph_export import export_meta_graph, register_proto_class

__all__ = ["Saver", "SaverDef"]

SaverDef = saver_pb2.SaverDef
_logger = logging.getLogger("caudal")


class _Saveable:
    """One tensor to save under `name`: its value tensor and, for restoring, the variable it came from."""

    __slots__ = ("name", "tensor", "variable_ref")

    def __init__(self, name: str, tensor: Tensor, variable_ref: Tensor):
        self.name = name
        self.tensor = tensor
        self.variable_ref = variable_ref


def _saveables(var_list: Any) -> list[_Saveable]:
    """TF's `op_list_to_dict` + saveable objects: names to variables, sorted by name."""
    from caudal.variables import Variable

    if isinstance(var_list, dict):
        items = list(var_list.items())
    else:
        if isinstance(var_list, (set, frozenset)):
            var_list = list(var_list)
        if not isinstance(var_list, (list, tuple)):
            raise TypeError(f"Variables to save should be passed in a dict or a list: {var_list}")
        items = []
        for var in sorted(var_list, key=lambda v: v.name):
            if isinstance(var, Variable):
                items.append((var.op.name, var))
            elif isinstance(var, Tensor) and var.op.type == "VariableV2":
                items.append((var.op.name, var))
            else:
                raise TypeError(f"Variable to save is not a Variable: {var}")
    result: dict[str, _Saveable] = {}
    for name, var in items:
        if isinstance(var, Variable):
            ref = var._ref()
        elif isinstance(var, Tensor) and var.dtype.is_ref_dtype:
            ref = var
        else:
            raise TypeError("names_to_saveables must be a dict mapping string names to Tensors/Variables. "
                            f"Not a variable: {var}")
        if name in result:
            raise ValueError(f"At least two variables have the same name: {name}")
        result[name] = _Saveable(name, ref, ref)
    return [result[name] for name in sorted(result)]


def _string_const(values: Any, name: str) -> Tensor:
    from caudal.ops.constant_ops import constant

    return constant(np.array(values, dtype=object), dtype=dtypes_lib.string, name=name)


def _with_device(op: Operation, device: str) -> Operation:
    op._set_device(device)
    return op


class _SaverGraphBuilder:
    """Adds a Saver's nodes to the default graph (TF's BulkSaverBuilder)."""

    def build(self, saveables: list[_Saveable], reshape: bool, sharded: bool, max_to_keep: int,
              keep_checkpoint_every_n_hours: float, name: str | None, restore_sequentially: bool,
              filename: str | None) -> saver_pb2.SaverDef:
        from caudal.ops.constant_ops import constant

        graph = get_default_graph()
        with graph.name_scope(name or "save"):
            with graph.name_scope("filename") as filename_scope:
                default = constant(np.array(filename or "model", dtype=object), dtype=dtypes_lib.string,
                                   name="input")
            filename_node = graph.create_op("PlaceholderWithDefault", [default],
                                            {"dtype": dtypes_lib.string, "shape": TensorShape([])},
                                            filename_scope)._outputs[0]
            filename_tensor = graph.create_op("PlaceholderWithDefault", [filename_node],
                                              {"dtype": dtypes_lib.string, "shape": TensorShape([])},
                                              "Const")._outputs[0]
            if sharded:
                save_tensor = self._sharded_save(graph, filename_tensor, saveables)
                restore_op = self._sharded_restore(graph, filename_tensor, saveables, restore_sequentially,
                                                   reshape)
            else:
                save_tensor = self._save(graph, filename_tensor, saveables)
                restore_op = self._restore(graph, filename_tensor, saveables, restore_sequentially, reshape,
                                           "restore_all")
        return saver_pb2.SaverDef(
            filename_tensor_name=filename_tensor.name, save_tensor_name=save_tensor.name,
            restore_op_name=restore_op.name, max_to_keep=max_to_keep, sharded=sharded,
            keep_checkpoint_every_n_hours=keep_checkpoint_every_n_hours, version=saver_pb2.SaverDef.V2)

    @staticmethod
    def _save_v2(graph: Any, prefix: Tensor, saveables: list[_Saveable], device: str = "") -> Operation:
        with graph.name_scope("SaveV2") as op_scope:
            names = _string_const([s.name for s in saveables], "tensor_names")
            slices = _string_const([""] * len(saveables), "shape_and_slices")
        tensors = [s.tensor for s in saveables]
        op = graph.create_op("SaveV2", [prefix, names, slices] + tensors,
                             {"dtypes": [t.dtype.base_dtype for t in tensors],
                              "_has_manual_control_dependencies": True}, op_scope)
        if device:
            for node in (names.op, slices.op, op):
                node._set_device(device)
        return op

    def _save(self, graph: Any, prefix: Tensor, saveables: list[_Saveable]) -> Tensor:
        save = self._save_v2(graph, prefix, saveables)
        return graph.create_op("Identity", [prefix], {"T": dtypes_lib.string, "_class": [f"loc:@{prefix.op.name}"]},
                               "control_dependency", control_inputs=[save])._outputs[0]

    def _sharded_save(self, graph: Any, prefix: Tensor, saveables: list[_Saveable]) -> Tensor:
        from caudal.ops.array_ops import stack
        from caudal.ops.comparison_ops import where
        from caudal.ops.constant_ops import constant

        cpu_any = "/device:CPU:*"
        is_s3 = _with_device(checkpoint_ops.static_regex_full_match(prefix, "^s3://.*").op, cpu_any).outputs[0]
        part_s3 = constant(np.array(".part", dtype=object), dtype=dtypes_lib.string)
        part_local = constant(np.array("_temp/part", dtype=object), dtype=dtypes_lib.string)
        suffix = where(is_s3, part_s3, part_local)
        joined = checkpoint_ops.string_join([prefix, suffix])
        for t in (part_s3, part_local, suffix, joined):
            t.op._set_device(cpu_any)
        num_shards = constant(np.int32(1), name="num_shards")
        with graph.name_scope("ShardedFilename") as op_scope:
            shard = constant(np.int32(0), name="shard")
        shard_name = graph.create_op("ShardedFilename", [joined, shard, num_shards], {}, op_scope)._outputs[0]
        shard.op._set_device("/device:CPU:0")
        shard_name.op._set_device("/device:CPU:0")
        save = self._save_v2(graph, shard_name, saveables, "/device:CPU:0")
        done = graph.create_op("Identity", [shard_name],
                               {"T": dtypes_lib.string, "_class": [f"loc:@{shard_name.op.name}"]},
                               "control_dependency", control_inputs=[save])._outputs[0]
        done.op._set_device("/device:CPU:0")
        with graph.name_scope("MergeV2Checkpoints") as op_scope:
            with graph.control_dependencies([done]):
                prefixes = stack([shard_name], name="checkpoint_prefixes")
        merge = graph.create_op("MergeV2Checkpoints", [prefixes, prefix],
                                {"delete_old_dirs": True, "allow_missing_files": False}, op_scope)
        for node in (prefixes.op, merge):
            node._set_device("/device:CPU:0")
        result = graph.create_op("Identity", [prefix], {"T": dtypes_lib.string}, "Identity",
                                 control_inputs=[merge, done.op])
        result._set_device("/device:CPU:0")
        return result._outputs[0]

    def _restore(self, graph: Any, prefix: Tensor, saveables: list[_Saveable], restore_sequentially: bool,
                 reshape: bool, name: str) -> Operation:
        from caudal.ops.control_ops import group

        assigns: list[Operation] = []
        if restore_sequentially:
            for s in saveables:
                with graph.control_dependencies(assigns[-1:]):
                    tensor = self._restore_v2(graph, prefix, [s])[0]
                assigns.append(self._assign(graph, s, tensor, reshape))
        else:
            tensors = self._restore_v2(graph, prefix, saveables)
            for s, tensor in zip(saveables, tensors):
                assigns.append(self._assign(graph, s, tensor, reshape))
        return group(*assigns, name=name)

    def _sharded_restore(self, graph: Any, prefix: Tensor, saveables: list[_Saveable], restore_sequentially: bool,
                         reshape: bool) -> Operation:
        from caudal.ops.control_ops import group

        shard = self._restore(graph, prefix, saveables, restore_sequentially, reshape, "restore_shard")
        return group(shard, name="restore_all")

    @staticmethod
    def _restore_v2(graph: Any, prefix: Tensor, saveables: list[_Saveable]) -> list[Tensor]:
        with graph.name_scope("RestoreV2") as op_scope:
            names = _string_const([s.name for s in saveables], "tensor_names")
            slices = _string_const([""] * len(saveables), "shape_and_slices")
        op = graph.create_op("RestoreV2", [prefix, names, slices],
                             {"dtypes": [s.tensor.dtype.base_dtype for s in saveables]}, op_scope)
        for node in (names.op, slices.op, op):
            node._set_device("/device:CPU:0")
        return list(op.outputs)

    @staticmethod
    def _assign(graph: Any, saveable: _Saveable, tensor: Tensor, reshape: bool) -> Operation:
        ref = saveable.variable_ref
        validate = ref.shape.is_fully_defined()
        if reshape:
            from caudal.ops.array_ops import reshape as reshape_op

            if ref.shape.is_fully_defined():
                tensor = reshape_op(tensor, ref.shape.as_list())
            validate = False
        return graph.create_op("Assign", [ref, tensor],
                               {"T": ref.dtype.base_dtype, "validate_shape": validate, "use_locking": True,
                                "_has_manual_control_dependencies": True, "_class": [f"loc:@{ref.op.name}"]},
                               "Assign")


def all_saveable_objects() -> list[Any]:
    """What a Saver saves by default: the global variables and the saveable objects."""
    graph = get_default_graph()
    return graph.get_collection(GraphKeys.GLOBAL_VARIABLES) + graph.get_collection(GraphKeys.SAVEABLE_OBJECTS)


def _prepend_scope(name: str, scope: str | None) -> str:
    if not scope:
        return name
    return f"{scope.rstrip('/')}/{name}"


class Saver:
    """`tf.train.Saver`: saves and restores variables (TensorFlow V2 checkpoints).

    `var_list` is a list of variables (saved under their op names) or a dict
    name -> variable; by default every global variable (and saveable object).
    Checkpoints beyond `max_to_keep` are deleted, except one every
    `keep_checkpoint_every_n_hours`. With `saver_def` the Saver uses existing
    graph nodes (and `name` is the import scope), as `import_meta_graph` does.
    """

    def __init__(self, var_list: Any = None, reshape: bool = False, sharded: bool = False, max_to_keep: int = 5,
                 keep_checkpoint_every_n_hours: float = 10000.0, name: str | None = None,
                 restore_sequentially: bool = False, saver_def: saver_pb2.SaverDef | None = None,
                 builder: Any = None, defer_build: bool = False, allow_empty: bool = False,
                 write_version: int = saver_pb2.SaverDef.V2, pad_step_number: bool = False,
                 save_relative_paths: bool = False, filename: str | None = None):
        if defer_build and var_list:
            raise ValueError("If `var_list` is provided then build cannot be deferred. Either set defer_build=False "
                             "or var_list=None.")
        if write_version != saver_pb2.SaverDef.V2:
            raise errors.UnimplementedError(None, None, "caudal writes V2 checkpoints only (write_version=V2)")
        self._var_list = var_list
        self._reshape = reshape
        self._sharded = sharded
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._name = name
        self._restore_sequentially = restore_sequentially
        self.saver_def = saver_def
        self._builder = builder
        self._is_built = False
        self._allow_empty = allow_empty
        self._is_empty: bool | None = None
        self._write_version = write_version
        self._pad_step_number = pad_step_number
        self._filename = filename
        self._last_checkpoints: list[tuple[str, float]] = []
        self._checkpoints_to_be_deleted: list[tuple[str, float]] = []
        self._save_relative_paths = save_relative_paths
        self._next_checkpoint_time = time.time() + keep_checkpoint_every_n_hours * 3600
        if not defer_build:
            self.build()
        if self.saver_def is not None:
            self._check_saver_def()

    # ----------------------------------------------------------------- build
    def build(self) -> None:
        """Adds the save and restore nodes (only needed after `defer_build=True`)."""
        self._build(self._filename)

    def _build(self, checkpoint_path: str | None) -> None:
        if self._is_built:
            return
        self._is_built = True
        if self.saver_def is None:
            if self._var_list is None:
                self._var_list = all_saveable_objects()
            if not self._var_list:
                if self._allow_empty:
                    self._is_empty = True
                    return
                raise ValueError("No variables to save")
            self._is_empty = False
            builder = self._builder if self._builder is not None else _SaverGraphBuilder()
            self.saver_def = builder.build(
                _saveables(self._var_list), reshape=self._reshape, sharded=self._sharded,
                max_to_keep=self._max_to_keep, keep_checkpoint_every_n_hours=self._keep_checkpoint_every_n_hours,
                name=self._name, restore_sequentially=self._restore_sequentially, filename=checkpoint_path)
        elif self._name:
            self.saver_def.filename_tensor_name = _prepend_scope(self.saver_def.filename_tensor_name, self._name)
            self.saver_def.save_tensor_name = _prepend_scope(self.saver_def.save_tensor_name, self._name)
            self.saver_def.restore_op_name = _prepend_scope(self.saver_def.restore_op_name, self._name)
        self._check_saver_def()
        self._next_checkpoint_time = time.time() + self.saver_def.keep_checkpoint_every_n_hours * 3600

    def _check_saver_def(self) -> None:
        if not isinstance(self.saver_def, saver_pb2.SaverDef):
            if type(self.saver_def).__name__ == "SaverDef" and hasattr(self.saver_def, "SerializeToString"):
                self.saver_def = saver_pb2.SaverDef.FromString(self.saver_def.SerializeToString())
            else:
                raise ValueError(f"saver_def must be a saver_pb2.SaverDef: {self.saver_def}")
        for field in ("save_tensor_name", "restore_op_name", "filename_tensor_name"):
            if not getattr(self.saver_def, field):
                raise ValueError(f"saver_def must specify the {field}: {self.saver_def}")
        if self._is_empty is None:
            self._is_empty = False

    def as_saver_def(self) -> saver_pb2.SaverDef:
        """The SaverDef naming this Saver's filename tensor, save tensor and restore op."""
        return self.saver_def

    def to_proto(self, export_scope: str | None = None) -> saver_pb2.SaverDef | None:
        """The SaverDef with names relative to `export_scope` (None if outside it)."""
        if export_scope is None:
            return self.saver_def
        prefix = export_scope.rstrip("/") + "/"
        if not self.saver_def.save_tensor_name.startswith(prefix):
            return None
        result = saver_pb2.SaverDef()
        result.CopyFrom(self.saver_def)
        for field in ("filename_tensor_name", "save_tensor_name", "restore_op_name"):
            value = getattr(result, field)
            setattr(result, field, value[len(prefix):] if value.startswith(prefix) else value)
        return result

    @staticmethod
    def from_proto(saver_def: saver_pb2.SaverDef, import_scope: str | None = None) -> Saver:
        return Saver(saver_def=saver_def, name=import_scope)

    # ------------------------------------------------------ checkpoint list
    @property
    def last_checkpoints(self) -> list[str]:
        """The kept checkpoints' paths, oldest first."""
        return [path for path, _ in self._last_checkpoints]

    def set_last_checkpoints(self, last_checkpoints: list[str]) -> None:
        if not isinstance(last_checkpoints, list):
            raise TypeError("last_checkpoints must be a list")
        self._last_checkpoints = [(path, None) for path in last_checkpoints]

    def set_last_checkpoints_with_time(self, last_checkpoints_with_time: list[tuple[str, float]]) -> None:
        """Sets the kept checkpoints as [(path, timestamp)], oldest first."""
        if not isinstance(last_checkpoints_with_time, list):
            raise TypeError("last_checkpoints_with_time must be a list")
        self._last_checkpoints = list(last_checkpoints_with_time)

    def recover_last_checkpoints(self, checkpoint_paths: list[str]) -> None:
        """Takes over `checkpoint_paths` (those that still exist) as kept checkpoints, timed by their files."""
        existing = [p for p in checkpoint_paths if state_lib.checkpoint_exists(p)]
        self.set_last_checkpoints_with_time(list(zip(existing, state_lib.get_checkpoint_mtimes(existing))))

    def _record_last_checkpoint(self, path: str) -> None:
        if not self.saver_def.max_to_keep:
            return
        self._last_checkpoints = [entry for entry in self._last_checkpoints if entry[0] != path]
        self._last_checkpoints.append((path, time.time()))
        if len(self._last_checkpoints) > self.saver_def.max_to_keep:
            self._checkpoints_to_be_deleted.append(self._last_checkpoints.pop(0))

    def _maybe_delete_old_checkpoints(self, meta_graph_suffix: str = "meta") -> None:
        if not self._checkpoints_to_be_deleted:
            return
        path, stamp = self._checkpoints_to_be_deleted.pop(0)
        if stamp is not None and stamp > self._next_checkpoint_time:
            self._next_checkpoint_time += self.saver_def.keep_checkpoint_every_n_hours * 3600
            return
        try:
            state_lib.remove_checkpoint(path, self.saver_def.version, meta_graph_suffix)
        except OSError as e:
            _logger.warning("Ignoring: %s", e)

    # ----------------------------------------------------------- save/restore
    def save(self, sess: Any, save_path: str, global_step: Any = None, latest_filename: str | None = None,
             meta_graph_suffix: str = "meta", write_meta_graph: bool = True, write_state: bool = True,
             strip_default_attrs: bool = False, save_debug_info: bool = False) -> str | None:
        """Saves the variables' values in `sess` at `save_path` (`save_path-STEP` with `global_step`).

        Returns the checkpoint prefix written (None for an empty Saver). Then
        updates the state file (unless `write_state=False`), deletes old
        checkpoints and writes `PREFIX.meta` (unless `write_meta_graph=False`).
        """
        from caudal.runtime.session import BaseSession

        if not self._is_built:
            raise RuntimeError("`build()` should be called before save if defer_build==True")
        latest_filename = latest_filename or "checkpoint"
        if os.path.split(latest_filename)[0]:
            raise ValueError("'latest_filename' must not contain path components")
        save_path = os.fspath(save_path)
        if global_step is not None:
            if not isinstance(global_step, (int, np.integer)):
                global_step = int(sess.run(global_step))
            checkpoint_file = f"{save_path}-{global_step:08d}" if self._pad_step_number \
                else f"{save_path}-{int(global_step)}"
        else:
            checkpoint_file = save_path
            if os.path.basename(save_path) == latest_filename and not self._sharded:
                raise ValueError(f"'latest_filename' collides with 'save_path': '{latest_filename}' and "
                                 f"'{save_path}'")
        if not isinstance(sess, BaseSession):
            raise TypeError(f"'sess' must be a Session; {sess}")
        save_dir = os.path.dirname(save_path)
        model_checkpoint_path = None
        if not self._is_empty:
            try:
                result = sess.run(self.saver_def.save_tensor_name,
                                  {self.saver_def.filename_tensor_name: checkpoint_file})
            except (errors.FailedPreconditionError, errors.NotFoundError) as e:
                if not os.path.isdir(save_dir or "."):
                    raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.") from e
                raise
            model_checkpoint_path = result.decode("utf-8") if isinstance(result, bytes) else str(result)
            if write_state:
                self._record_last_checkpoint(model_checkpoint_path)
                state_lib.update_checkpoint_state(save_dir, model_checkpoint_path, self.last_checkpoints,
                                                  latest_filename, save_relative_paths=self._save_relative_paths)
                self._maybe_delete_old_checkpoints(meta_graph_suffix)
        if write_meta_graph:
            meta_file = state_lib.meta_graph_filename(checkpoint_file, meta_graph_suffix)
            with sess.graph.as_default():
                self.export_meta_graph(meta_file, strip_default_attrs=strip_default_attrs,
                                       save_debug_info=save_debug_info)
        return model_checkpoint_path

    def restore(self, sess: Any, save_path: str) -> None:
        """Restores the variables in `sess` from the checkpoint `save_path`.

        A path that is not a checkpoint is a ValueError; a variable missing
        from the checkpoint is NotFoundError, a dtype or shape mismatch
        InvalidArgumentError, each with TensorFlow's explanation before the
        original message. Nothing changes unless every variable is restored.
        """
        if self._is_empty:
            return
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        prefix = os.fspath(save_path)
        if not state_lib.checkpoint_exists(prefix):
            raise ValueError("The passed save_path is not a valid checkpoint: " + prefix)
        _logger.info("Restoring parameters from %s", prefix)
        try:
            sess.run(self.saver_def.restore_op_name, {self.saver_def.filename_tensor_name: prefix})
        except errors.NotFoundError as e:
            raise _wrap_restore_error(e, "a Variable name or other graph key that is missing") from None
        except errors.InvalidArgumentError as e:
            raise _wrap_restore_error(e, "a mismatch between the current graph and the graph") from None

    def export_meta_graph(self, filename: str | None = None, collection_list: Any = None, as_text: bool = False,
                          export_scope: str | None = None, clear_devices: bool = False,
                          clear_extraneous_savers: bool = False, strip_default_attrs: bool = False,
                          save_debug_info: bool = False) -> Any:
        """Writes the default graph and this Saver as a MetaGraphDef (see `tf.train.export_meta_graph`)."""
        return export_meta_graph(filename=filename, graph_def=get_default_graph().as_graph_def(add_shapes=True),
                                 saver_def=self.saver_def, collection_list=collection_list, as_text=as_text,
                                 export_scope=export_scope, clear_devices=clear_devices,
                                 clear_extraneous_savers=clear_extraneous_savers,
                                 strip_default_attrs=strip_default_attrs, save_debug_info=save_debug_info)


register_proto_class(Saver)  # a collection of Savers (GraphKeys.SAVERS) is written as their SaverDefs


def _wrap_restore_error(error: errors.OpError, verbiage: str) -> errors.OpError:
    message = (f"Restoring from checkpoint failed. This is most likely due to {verbiage} from the checkpoint. "
               "Please ensure that you have not altered the graph expected based on the checkpoint. Original "
               f"error:\n\n{error.message}")
    return type(error)(error.node_def, error.op, message)
