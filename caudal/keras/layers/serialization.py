"""Layer (de)serialization: `{"class_name": ..., "config": ...}` for every Keras layer class caudal has."""
from __future__ import annotations

from typing import Any

from caudal.keras.utils.generic_utils import deserialize_keras_object, get_registered_name

__all__ = ["serialize_layer", "deserialize_layer", "layer_classes"]


def layer_classes() -> dict[str, type]:
    from caudal.keras import layers
    from caudal.keras.engine.functional import Functional
    from caudal.keras.engine.sequential import Sequential
    from caudal.keras.engine.training import Model

    classes = {name: getattr(layers, name) for name in layers.__all__ if isinstance(getattr(layers, name), type)}
    classes.update({"Functional": Functional, "Model": Functional, "Sequential": Sequential, "ModelBase": Model})
    return classes


def serialize_layer(layer: Any) -> dict[str, Any]:
    return {"class_name": get_registered_name(type(layer)), "config": layer.get_config()}


def deserialize_layer(config: dict[str, Any], custom_objects: Any = None) -> Any:
    return deserialize_keras_object(config, module_objects=layer_classes(), custom_objects=custom_objects,
                                    printable_module_name="layer")
