"""`Model.save_weights` / `load_weights`: HDF5 for `.h5`/`.keras`/`.hdf5` paths (or save_format='h5'), an
object-based TF checkpoint otherwise, with TF-Keras's format rules and messages."""
from __future__ import annotations

import os
from typing import Any

from caudal.keras.saving import hdf5_format, tf_checkpoint

__all__ = ["save_weights", "load_weights", "is_hdf5_filepath"]


def is_hdf5_filepath(filepath: Any) -> bool:
    path = os.fspath(filepath)
    return path.endswith(".h5") or path.endswith(".keras") or path.endswith(".hdf5")


def _save_format(filepath: str, save_format: Any) -> str:
    is_h5 = is_hdf5_filepath(filepath)
    if save_format is None:
        return "h5" if is_h5 else "tf"
    normalized = str(save_format).lower().strip()
    if normalized in ("tensorflow", "tf"):
        if is_h5:
            raise ValueError(f'save_weights got save_format="tf"/"tensorflow", but the filepath ("{filepath}") looks '
                             'like an HDF5 file. Omit the ".h5"/".keras" when saving in TensorFlow format.')
        return "tf"
    if normalized in ("h5", "keras"):
        return "h5"
    raise ValueError(f'Unknown format. Received: `save_format`={save_format}. Was expecting one of {{"tf", "h5"}}.')


def save_weights(model: Any, filepath: Any, overwrite: bool = True, save_format: Any = None) -> None:
    filepath = os.fspath(filepath)
    fmt = _save_format(filepath, save_format)
    target = filepath if fmt == "h5" else filepath + ".index"
    if not hdf5_format._confirm_overwrite(target, overwrite):
        return
    if fmt == "h5":
        hdf5_format.atomic_h5_write(filepath, lambda f: hdf5_format.save_weights_to_hdf5_group(f, model),
                                    "`save_weights` in HDF5 format")
    else:
        tf_checkpoint.save_checkpoint(model, filepath)


def _detect_format(filepath: str) -> tuple[str, str]:
    if is_hdf5_filepath(filepath):
        return "h5", filepath
    if os.path.exists(filepath + ".index"):
        return "tf", filepath
    if os.path.isdir(filepath):
        from caudal.checkpoint.state import latest_checkpoint

        latest = latest_checkpoint(filepath)
        if latest is not None:
            return "tf", latest
    if os.path.isfile(filepath):
        try:
            import h5py
        except ImportError:
            return "tf", filepath
        if h5py.is_hdf5(filepath):
            return "h5", filepath
    return "tf", filepath


def load_weights(model: Any, filepath: Any, by_name: bool = False, skip_mismatch: bool = False) -> Any:
    filepath = os.fspath(filepath)
    fmt, path = _detect_format(filepath)
    if fmt == "tf":
        if by_name:
            raise NotImplementedError("Weights may only be loaded based on topology into Models when loading "
                                      "TensorFlow-formatted weights (got by_name=True to load_weights).")
        compiled = model._compiled if model._compile_was_called else None
        if compiled is not None and hasattr(model.optimizer, "_create_all_weights"):
            with model.outputs[0].graph.as_default():
                model.optimizer._create_all_weights(list(compiled.trainable_weights))
        tf_checkpoint.load_checkpoint(model, path)
        return None
    h5py = hdf5_format.import_h5py("`load_weights` requires h5py package when loading weights from HDF5. Try "
                                   "installing h5py.")
    if not model._is_graph_network and not model.built:
        raise ValueError("Unable to load weights saved in HDF5 format into a subclassed Model which has not created "
                         "its variables yet. Call the Model first, then load the weights.")
    with h5py.File(path, "r") as f:
        if "layer_names" not in f.attrs and "model_weights" in f:
            f = f["model_weights"]
        if by_name:
            hdf5_format.load_weights_from_hdf5_group_by_name(f, model, skip_mismatch=skip_mismatch)
        else:
            hdf5_format.load_weights_from_hdf5_group(f, model)
    return None
