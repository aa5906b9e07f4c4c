"""JSON of models and their training configuration, as TF-Keras writes and reads them."""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from caudal.keras.utils.generic_utils import serialize_keras_object

__all__ = ["model_to_config", "get_json_type", "training_config", "compile_args_from_training_config"]


def get_json_type(value: Any) -> Any:
    """JSON values for what configs hold besides plain Python types (NumPy scalars, shapes, dtypes)."""
    if hasattr(value, "get_config"):
        return {"class_name": type(value).__name__, "config": value.get_config()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    if type(value).__name__ == "TensorShape":
        return value.as_list() if value.ndims is not None else None
    if type(value).__name__ == "DType":
        return value.name
    if type(value).__name__ == "Dimension":
        return value.value
    raise TypeError(f"Unable to serialize {value} to JSON. Unrecognized type {type(value)}.")


def model_to_config(model: Any) -> dict[str, Any]:
    return {"class_name": type(model).__name__, "config": model.get_config()}


def dumps(value: Any) -> str:
    return json.dumps(value, default=get_json_type)


def _serialize_nested(config: Any) -> Any:
    if isinstance(config, str) or config is None or isinstance(config, (int, float, bool)):
        return config
    if isinstance(config, dict):
        return {k: _serialize_nested(v) for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [_serialize_nested(v) for v in config]
    return serialize_keras_object(config)


def training_config(model: Any) -> dict[str, Any] | None:
    """The `training_config` attribute of a saved model (None without compile or with a tf.train optimizer)."""
    from caudal.keras.optimizers import TFOptimizer

    if not model._compile_was_called or model.optimizer is None or isinstance(model.optimizer, TFOptimizer):
        return None
    config = {"loss": model.loss, "metrics": model._compile_metrics, "loss_weights": model.loss_weights,
              "sample_weight_mode": model.sample_weight_mode, "weighted_metrics": model._compile_weighted_metrics}
    config = _serialize_nested(config)
    config["optimizer_config"] = {"class_name": type(model.optimizer).__name__,
                                  "config": model.optimizer.get_config()}
    return config


def _deserialize_nested(fn: Any, config: Any) -> Any:
    if isinstance(config, dict) and "class_name" in config:
        return fn(config)
    if isinstance(config, dict):
        return {k: _deserialize_nested(fn, v) for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [_deserialize_nested(fn, v) for v in config]
    if isinstance(config, str):
        return fn(config)
    return config


def compile_args_from_training_config(config: dict[str, Any], custom_objects: Any = None) -> dict[str, Any]:
    from caudal.keras import losses, metrics, optimizers
    from caudal.keras.utils.generic_utils import CustomObjectScope

    with CustomObjectScope(custom_objects or {}):
        optimizer = optimizers.deserialize(config["optimizer_config"])

        def metric(item: Any) -> Any:
            if item in ("accuracy", "acc", "crossentropy", "ce"):
                return item
            return metrics.deserialize(item)

        loss = _deserialize_nested(losses.deserialize, config.get("loss")) if config.get("loss") is not None else None
        found_metrics = _deserialize_nested(metric, config["metrics"]) if config.get("metrics") is not None else None
        weighted = _deserialize_nested(metric, config["weighted_metrics"]) \
            if config.get("weighted_metrics") is not None else None
    return {"optimizer": optimizer, "loss": loss, "metrics": found_metrics, "weighted_metrics": weighted,
            "loss_weights": config.get("loss_weights"), "sample_weight_mode": config.get("sample_weight_mode")}
