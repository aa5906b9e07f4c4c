"""`tf.keras.models`: Model, Sequential, load_model, save_model, model_from_json / model_from_config,
clone_model."""
from __future__ import annotations

import json
from typing import Any

from caudal.keras.engine.functional import Functional
from caudal.keras.engine.sequential import Sequential
from caudal.keras.engine.training import Model

__all__ = ["Model", "Sequential", "load_model", "save_model", "model_from_json", "model_from_config", "clone_model"]


def model_from_config(config: dict[str, Any], custom_objects: Any = None) -> Model:
    """A model rebuilt from `{"class_name", "config"}` (as `to_json` writes it)."""
    from caudal.keras.layers.serialization import deserialize_layer

    if isinstance(config, list):
        raise TypeError("`model_from_config` expects a dictionary, not a list. Received: config="
                        f"{config}. Did you meant to use `Sequential.from_config(config)`?")
    return deserialize_layer(config, custom_objects=custom_objects)


def model_from_json(json_string: str, custom_objects: Any = None) -> Model:
    return model_from_config(json.loads(json_string), custom_objects=custom_objects)


def load_model(filepath: Any, custom_objects: Any = None, compile: bool = True, options: Any = None) -> Model:  # noqa: A002
    """A model from a Keras HDF5 file: architecture, weights, and (with compile) the training configuration
    and optimizer state."""
    from caudal.keras.saving.hdf5_format import load_model_from_hdf5

    return load_model_from_hdf5(filepath, custom_objects=custom_objects, compile=compile)


def save_model(model: Model, filepath: Any, overwrite: bool = True, include_optimizer: bool = True,
               save_format: Any = None, **kwargs: Any) -> None:
    model.save(filepath, overwrite=overwrite, include_optimizer=include_optimizer, save_format=save_format)


def clone_model(model: Model, input_tensors: Any = None, clone_function: Any = None) -> Model:
    """A new model of the same architecture with new weights (functional and Sequential models)."""
    if input_tensors is not None or clone_function is not None:
        raise ValueError("caudal's clone_model rebuilds from the config; `input_tensors` and `clone_function` are "
                         "not supported")
    if isinstance(model, Sequential):
        return Sequential.from_config(model.get_config())
    if isinstance(model, Functional):
        return Functional.from_config(model.get_config())
    raise ValueError(f"Expected `model` argument to be a functional `Model` instance, but got a subclassed model "
                     f"instead: {model}")
