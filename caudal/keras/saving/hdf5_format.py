"""Keras's HDF5 files: `model.save('m.h5')`, `load_model`, and weights-only `.h5` files.

The layout is TF-Keras 2.x's, so files move both ways: root attributes `keras_version`, `backend`,
`model_config` (the JSON of `{"class_name", "config"}`) and `training_config`; a `model_weights` group
with `layer_names` and one group per layer holding `weight_names` and a dataset per weight (its full
name, `dense/kernel:0`); an `optimizer_weights` group with the optimizer's variables in order. Weights
are matched by position within each layer, layers by order. A file is written under a temporary name
and renamed, so an interrupted save never leaves a half-written file. h5py is an optional dependency
(`pip install caudal[h5]`), imported only here.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from typing import Any

import numpy as np

from caudal.keras import backend as K
from caudal.keras.saving import model_config as config_lib

__all__ = ["save_model_to_hdf5", "load_model_from_hdf5", "save_weights_to_hdf5_group", "load_weights_from_hdf5_group",
           "load_weights_from_hdf5_group_by_name", "import_h5py", "atomic_h5_write"]

_log = logging.getLogger("caudal")
KERAS_VERSION = "2.21.0"
_HEADER_LIMIT = 64512


def import_h5py(what: str) -> Any:
    try:
        import h5py
    except ImportError:
        raise ImportError(f"{what} requires h5py, which is not installed. Install it with `pip install caudal[h5]` "
                          "(or `pip install h5py`).") from None
    return h5py


def _save_attributes(group: Any, name: str, data: list) -> None:
    """Writes a list attribute, split into `name0`, `name1`, ... when it passes HDF5's 64 KB header limit."""
    too_long = [x for x in data if len(x) > _HEADER_LIMIT]
    if too_long:
        raise RuntimeError(f"The following attributes cannot be saved to HDF5 file because they are larger than "
                           f"{_HEADER_LIMIT} bytes: {too_long}")
    array = np.asarray(data)
    chunks = 1
    pieces = np.array_split(array, chunks)
    while any(x.nbytes > _HEADER_LIMIT for x in pieces):
        chunks += 1
        pieces = np.array_split(array, chunks)
    if chunks > 1:
        for i, piece in enumerate(pieces):
            group.attrs[f"{name}{i}"] = piece
    else:
        group.attrs[name] = data


def _load_attributes(group: Any, name: str) -> list[str]:
    if name in group.attrs:
        values = group.attrs[name]
    else:
        values = []
        i = 0
        while f"{name}{i}" in group.attrs:
            values.extend(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode("utf8") if hasattr(v, "decode") else str(v) for v in values]


def _layer_weights(layer: Any) -> list[Any]:
    return layer.trainable_weights + layer.non_trainable_weights


def _save_weight_subset(group: Any, weights: list[Any]) -> None:
    values = K.batch_get_value(weights)
    names = [w.name.encode("utf8") for w in weights]
    _save_attributes(group, "weight_names", names)
    for name, value in zip(names, values):
        dataset = group.create_dataset(name, value.shape, dtype=value.dtype)
        if not value.shape:
            dataset[()] = value
        else:
            dataset[:] = value


def save_weights_to_hdf5_group(f: Any, model: Any) -> None:
    _save_attributes(f, "layer_names", [layer.name.encode("utf8") for layer in model.layers])
    f.attrs["backend"] = K.backend().encode("utf8")
    f.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
    for layer in sorted(model.layers, key=lambda x: x.name):
        _save_weight_subset(f.create_group(layer.name), _layer_weights(layer))
    top_level = [v for v in model._trainable_weights + model._non_trainable_weights]
    _save_weight_subset(f.create_group("top_level_model_weights"), top_level)


def _assign(pairs: list[tuple[Any, Any]]) -> None:
    for variable, value in pairs:
        expected = tuple(variable.shape.as_list())
        if expected != tuple(np.shape(value)):
            raise ValueError(f"Cannot assign value to variable ' {variable.name}': Shape mismatch.The variable shape "
                             f"{expected}, and the assigned value shape {tuple(np.shape(value))} are incompatible.")
    K.batch_set_value(pairs)


def load_weights_from_hdf5_group(f: Any, model: Any) -> None:
    """Assigns the file's weights to the model's layers that have weights, in order (Keras's checks)."""
    layers = [layer for layer in model.layers if _layer_weights(layer)]
    names = [name for name in _load_attributes(f, "layer_names") if _load_attributes(f[name], "weight_names")]
    if len(names) != len(layers):
        raise ValueError(f"Layer count mismatch when loading weights from file. Model expected {len(layers)} layers, "
                         f"found {len(names)} saved layers.")
    pairs: list[tuple[Any, Any]] = []
    for k, name in enumerate(names):
        group = f[name]
        values = [np.asarray(group[w]) for w in _load_attributes(group, "weight_names")]
        symbolic = _layer_weights(layers[k])
        if len(values) != len(symbolic):
            raise ValueError(f"Weight count mismatch for layer #{k} (named {layers[k].name} in the current model, "
                             f"{name} in the save file). Layer expects {len(symbolic)} weight(s). Received "
                             f"{len(values)} saved weight(s)")
        pairs += list(zip(symbolic, values))
    if "top_level_model_weights" in f:
        symbolic = model._trainable_weights + model._non_trainable_weights
        group = f["top_level_model_weights"]
        values = [np.asarray(group[w]) for w in _load_attributes(group, "weight_names")]
        if len(values) != len(symbolic):
            raise ValueError(f"Weight count mismatch for top-level weights when loading weights from file. Model "
                             f"expects {len(symbolic)} top-level weight(s). Received {len(values)} saved top-level "
                             "weight(s)")
        pairs += list(zip(symbolic, values))
    _assign(pairs)


def load_weights_from_hdf5_group_by_name(f: Any, model: Any, skip_mismatch: bool = False) -> None:
    """Assigns weights to the layers whose names are in the file (layers absent from it are left alone)."""
    by_name: dict[str, list] = {}
    for layer in model.layers:
        if layer.name:
            by_name.setdefault(layer.name, []).append(layer)
    pairs: list[tuple[Any, Any]] = []
    for k, name in enumerate(_load_attributes(f, "layer_names")):
        group = f[name]
        values = [np.asarray(group[w]) for w in _load_attributes(group, "weight_names")]
        for layer in by_name.get(name, []):
            symbolic = _layer_weights(layer)
            if len(values) != len(symbolic):
                if skip_mismatch:
                    _log.warning("Skipping loading of weights for layer #%d (named %s) due to mismatch in number of "
                                 "weights. Layer expects %d weight(s). Received %d saved weight(s)", k, layer.name,
                                 len(symbolic), len(values))
                    continue
                raise ValueError(f"Weight count mismatch for layer #{k} (named {layer.name}). Layer expects "
                                 f"{len(symbolic)} weight(s). Received {len(values)} saved weight(s)")
            for i, (variable, value) in enumerate(zip(symbolic, values)):
                expected = tuple(variable.shape.as_list())
                if expected != value.shape:
                    if skip_mismatch:
                        _log.warning("Skipping loading weights for layer #%d (named %s) due to mismatch in shape for "
                                     "weight %s. Weight expects shape %s. Received saved weight with shape %s", k,
                                     layer.name, variable.name, expected, value.shape)
                        continue
                    raise ValueError(f"Shape mismatch in layer #{k} (named {layer.name}) for weight {variable.name}. "
                                     f"Weight expects shape {expected}. Received saved weight with shape "
                                     f"{value.shape}")
                pairs.append((symbolic[i], value))
    _assign(pairs)


def atomic_h5_write(filepath: str, write: Any, what: str) -> None:
    """Calls `write(h5py.File)` on a temporary file beside `filepath`, then renames it into place."""
    h5py = import_h5py(what)
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=os.path.basename(filepath) + ".", suffix=".tmp", dir=directory)
    os.close(handle)
    try:
        with h5py.File(temporary, mode="w") as f:
            write(f)
        os.replace(temporary, filepath)
    except BaseException:
        try:
            os.remove(temporary)
        except OSError:
            pass
        raise


def _confirm_overwrite(filepath: str, overwrite: bool) -> bool:
    if overwrite or not os.path.exists(filepath):
        return True
    answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
    while answer not in ("y", "n"):
        answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True


def save_model_to_hdf5(model: Any, filepath: Any, overwrite: bool = True, include_optimizer: bool = True) -> None:
    filepath = os.fspath(filepath)
    if not getattr(model, "_is_graph_network", False):
        raise NotImplementedError("Saving the model to HDF5 format requires the model to be a Functional model or a "
                                  "Sequential model. It does not work for subclassed models, because such models are "
                                  "defined via the body of a Python method, which isn't safely serializable. Consider "
                                  'saving to the Tensorflow SavedModel format (by setting save_format="tf") or using '
                                  "`save_weights`.")
    if not _confirm_overwrite(filepath, overwrite):
        return
    from caudal.keras.optimizers import TFOptimizer

    model_json = config_lib.dumps(config_lib.model_to_config(model))
    train_config = config_lib.training_config(model) if include_optimizer else None
    if include_optimizer and isinstance(model.optimizer, TFOptimizer):
        _log.warning("TensorFlow optimizers do not make it possible to access optimizer attributes or optimizer "
                     "state after instantiation. As a result, we cannot save the optimizer as part of the model "
                     "save file. You will have to compile your model again after loading it. Prefer using a Keras "
                     "optimizer instead (see keras.io/optimizers).")

    def write(f: Any) -> None:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = K.backend()
        f.attrs["model_config"] = model_json.encode("utf8")
        if train_config is not None:
            f.attrs["training_config"] = config_lib.dumps(train_config).encode("utf8")
        save_weights_to_hdf5_group(f.create_group("model_weights"), model)
        if train_config is not None and model.optimizer.weights:
            weights = model.optimizer.weights
            group = f.create_group("optimizer_weights")
            names = [w.name.encode("utf8") for w in weights]
            _save_attributes(group, "weight_names", names)
            for name, value in zip(names, K.batch_get_value(weights)):
                dataset = group.create_dataset(name, value.shape, dtype=value.dtype)
                if not value.shape:
                    dataset[()] = value
                else:
                    dataset[:] = value

    atomic_h5_write(filepath, write, "`save_model()` using h5 format")


def load_model_from_hdf5(filepath: Any, custom_objects: Any = None, compile: bool = True) -> Any:  # noqa: A002
    h5py = import_h5py("`load_model()` using h5 format")
    from caudal.keras.models import model_from_config

    if isinstance(filepath, (str, os.PathLike)) and not os.path.exists(os.fspath(filepath)):
        raise OSError(f"No file or directory found at {os.fspath(filepath)}")
    opened = not isinstance(filepath, h5py.File)
    f = h5py.File(os.fspath(filepath), mode="r") if opened else filepath
    try:
        raw = f.attrs.get("model_config")
        if raw is None:
            raise ValueError(f"No model config found in the file at {filepath}.")
        raw = raw.decode("utf-8") if hasattr(raw, "decode") else raw
        model = model_from_config(json.loads(raw), custom_objects=custom_objects)
        load_weights_from_hdf5_group(f["model_weights"], model)
        if not compile:
            return model
        raw_training = f.attrs.get("training_config")
        if raw_training is None:
            _log.warning("No training configuration found in the save file, so the model was *not* compiled. "
                         "Compile it manually.")
            return model
        raw_training = raw_training.decode("utf-8") if hasattr(raw_training, "decode") else raw_training
        model.compile(**config_lib.compile_args_from_training_config(json.loads(raw_training), custom_objects))
        if "optimizer_weights" in f:
            group = f["optimizer_weights"]
            values = [np.asarray(group[name]) for name in _load_attributes(group, "weight_names")]
            optimizer = model.optimizer
            with model.outputs[0].graph.as_default():
                optimizer._create_all_weights(list(model._ensure_compiled_graph().trainable_weights))
            try:
                optimizer.set_weights(values)
            except ValueError:
                _log.warning("Error in loading the saved optimizer state. As a result, your model is starting with a "
                             "freshly initialized optimizer.")
        return model
    finally:
        if opened:
            f.close()
