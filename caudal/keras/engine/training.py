"""`tf.keras.Model`: a layer made of layers, trained with `compile` / `fit` as TF-Keras's graph mode does.

`tf.keras.Model(inputs, outputs)` makes a functional model (`Functional`); subclassing `Model` and
defining `call` makes a model whose graph is built on the first data it sees. The training loops are in
`training_arrays.py`, the loss and metric graph in `training_compile.py`.
"""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from caudal.keras import backend as K
from caudal.keras.engine import training_arrays, training_compile
from caudal.keras.engine.base_layer import Layer
from caudal.util import nest

__all__ = ["Model"]

_COMPILE_MESSAGE = "You must compile your model before training/testing. Use `model.compile(optimizer, loss)`."


def _is_functional_call(args: tuple, kwargs: dict) -> bool:
    return ("inputs" in kwargs and "outputs" in kwargs) or len(args) == 2 or (len(args) == 1 and "outputs" in kwargs)


class Model(Layer):
    """Groups layers into an object with training and inference features."""

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and _is_functional_call(args, kwargs):
            from caudal.keras.engine.functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any):
        allowed = {"trainable", "dtype", "dynamic", "name", "autocast", "inputs", "outputs"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise TypeError(f"Invalid keyword argument(s) in `Model.__init__`: {unknown}")
        super().__init__(name=kwargs.get("name"), trainable=kwargs.get("trainable", True), dtype=kwargs.get("dtype"))
        self._is_graph_network = False
        self.inputs: Any = None
        self.outputs: Any = None
        self.input_names: Any = None
        self.output_names: Any = None
        self.optimizer: Any = None
        self.loss: Any = None
        self.history: Any = None
        self.stop_training = False
        self._compile_was_called = False
        self._is_compiled = False
        self._compiled: Any = None
        self.train_function: Any = None
        self.test_function: Any = None
        self.predict_function: Any = None

    # ----------------------------------------------------------------------------- layers, weights
    @property
    def layers(self) -> list[Layer]:
        return [layer for layer in self._tracked_layers]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by index (in `layers` order) or by name; Keras's ValueErrors otherwise."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(f"No such layer: {name}. Existing layers are: "
                             f"{list(layer.name for layer in self.layers)}.")
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    @property
    def weights(self) -> list[Any]:
        weights = []
        for layer in self.layers:
            weights.extend(layer.weights)
        weights.extend(self._trainable_weights + self._non_trainable_weights)
        return _dedup_list(weights)

    @property
    def trainable_weights(self) -> list[Any]:
        if not self.trainable:
            return []
        weights = []
        for layer in self.layers:
            weights.extend(layer.trainable_weights)
        weights.extend(self._trainable_weights)
        return _dedup_list(weights)

    @property
    def non_trainable_weights(self) -> list[Any]:
        weights = []
        for layer in self.layers:
            weights.extend(layer.non_trainable_weights if self.trainable else layer.weights)
        weights.extend(self._non_trainable_weights if self.trainable
                       else self._trainable_weights + self._non_trainable_weights)
        return _dedup_list(weights)

    @property
    def state_updates(self) -> list[Any]:
        return [u for layer in self.layers if getattr(layer, "stateful", False) for u in layer.updates]

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self.name}, but the layer isn't built. You "
                             f"can build it manually via: `{self.name}.build(batch_input_shape)`.")
        return super().count_params()

    def get_weights(self) -> list[Any]:
        return K.batch_get_value(self.weights)

    def set_weights(self, weights: Any) -> None:
        Layer.set_weights(self, weights)

    # -------------------------------------------------------------------------------- building
    def build(self, input_shape: Any) -> None:
        """Builds a subclassed model by calling it on placeholders of `input_shape`."""
        if self._is_graph_network:
            self.built = True
            return
        if input_shape is None:
            raise ValueError("Input shape must be defined when calling `build()` on a `Model` subclass.")
        from caudal.keras.engine.input_layer import Input

        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        placeholders = [Input(batch_shape=tuple(getattr(s, "as_list", lambda s=s: s)())) for s in shapes]
        self._set_inputs(placeholders if isinstance(input_shape, list) else placeholders[0])

    def _maybe_build(self, inputs: Any) -> None:
        """A subclassed model that does not define `build` is built by its first call, as in Keras."""
        if not self.built and type(self).build is Model.build:
            flat = nest.flatten(inputs)
            if self._dtype is None and flat and hasattr(flat[0], "dtype"):
                self._dtype = flat[0].dtype.base_dtype.name
            self.built = True
            return
        super()._maybe_build(inputs)

    def _set_inputs(self, inputs: Any, outputs: Any = None, training: Any = None) -> None:
        """Records the model's input and output tensors, calling the model on `inputs` when needed."""
        if self.inputs:
            return
        flat = nest.flatten(inputs)
        if outputs is None:
            outputs = self(inputs, training=training) if training is not None else self(inputs)
        self.inputs = flat
        self.outputs = nest.flatten(outputs)
        self.input_names = [f"input_{i + 1}" for i in range(len(flat))]
        self.output_names = [f"output_{i + 1}" for i in range(len(self.outputs))]
        self._nested_outputs = outputs
        self.built = True

    @property
    def _feed_inputs(self) -> list[Any]:
        return list(self.inputs or [])

    @property
    def _feed_input_names(self) -> list[str]:
        return list(self.input_names or [])

    @property
    def _feed_input_shapes(self) -> list[Any]:
        return [K.int_shape(x) for x in self._feed_inputs]

    # -------------------------------------------------------------------------------- compile
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None, loss_weights: Any = None,
                sample_weight_mode: Any = None, weighted_metrics: Any = None, target_tensors: Any = None,
                distribute: Any = None, **kwargs: Any) -> None:
        """Configures training: the optimizer, the loss(es) per output, metrics and loss weights."""
        kwargs.pop("run_eagerly", None)
        kwargs.pop("experimental_run_tf_function", None)
        unknown = set(kwargs) - {"feed_dict", "fetches", "options", "run_metadata"}
        if unknown:
            raise TypeError(f"Invalid keyword argument(s) in `compile`: {unknown}")
        if target_tensors is not None:
            raise ValueError("caudal's Model.compile does not take `target_tensors`: feed targets to `fit`")
        from caudal.keras import optimizers

        self.optimizer = optimizers.get(optimizer)
        self.loss = loss or {}
        self.loss_weights = loss_weights
        self.sample_weight_mode = sample_weight_mode
        self._compile_metrics = metrics or []
        self._compile_weighted_metrics = weighted_metrics
        self._function_kwargs = kwargs
        self._compile_was_called = True
        self._compiled = None
        self.train_function = self.test_function = self.predict_function = None
        training_compile.check_losses(self.loss)
        if self.outputs:
            self._compiled = training_compile.CompiledGraph(self)
            self._is_compiled = True

    def _ensure_compiled_graph(self) -> training_compile.CompiledGraph:
        if not self._compile_was_called:
            raise RuntimeError(_COMPILE_MESSAGE)
        if self._compiled is None:
            self._compiled = training_compile.CompiledGraph(self)
            self._is_compiled = True
        return self._compiled

    @property
    def metrics_names(self) -> list[str]:
        if self._compiled is None:
            return ["loss"] if self._compile_was_called else []
        return self._compiled.metrics_names

    @property
    def metrics(self) -> list[Any]:
        found = list(self._compiled.metric_objects) if self._compiled is not None else []
        for layer in self.layers:
            found.extend(layer.metrics)
        return found

    def reset_metrics(self) -> None:
        """Zeroes the state of the compiled metrics, the per-output loss means and the layers' metrics."""
        found = list(self._compiled.all_metric_objects) if self._compiled is not None else []
        for layer in self.layers:
            found.extend(layer.metrics)
        if found:
            from caudal.keras import backend as K

            K.batch_set_value([(v, np.zeros(v.shape.as_list(), v.dtype.base_dtype.as_numpy_dtype))
                               for metric in found for v in metric.variables])

    @property
    def run_eagerly(self) -> bool:
        return False

    # ----------------------------------------------------------------------------- training
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1, verbose: int = 1,
            callbacks: Any = None, validation_split: float = 0.0, validation_data: Any = None, shuffle: Any = True,
            class_weight: Any = None, sample_weight: Any = None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None, validation_freq: Any = 1,
            max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False, **kwargs: Any) -> Any:
        """Trains for `epochs` epochs; returns the `History` callback."""
        if not self._compile_was_called:
            raise RuntimeError(_COMPILE_MESSAGE)
        return training_arrays.fit(self, x, y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                                   callbacks=callbacks, validation_split=validation_split,
                                   validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
                                   sample_weight=sample_weight, initial_epoch=initial_epoch,
                                   steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                                   validation_freq=validation_freq, **kwargs)

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: int = 1,
                 sample_weight: Any = None, steps: int | None = None, callbacks: Any = None,
                 max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
                 return_dict: bool = False, **kwargs: Any) -> Any:
        """The loss (and metrics) over the data: a scalar, or a list in `metrics_names` order."""
        if not self._compile_was_called:
            raise RuntimeError(_COMPILE_MESSAGE)
        result = training_arrays.evaluate(self, x, y, batch_size=batch_size, verbose=verbose,
                                          sample_weight=sample_weight, steps=steps, callbacks=callbacks)
        if return_dict:
            return dict(zip(self.metrics_names, nest.flatten(result)))
        return result

    def predict(self, x: Any, batch_size: int | None = None, verbose: int = 0, steps: int | None = None,
                callbacks: Any = None, max_queue_size: int = 10, workers: int = 1,
                use_multiprocessing: bool = False) -> Any:
        """The outputs for `x`, batch by batch, concatenated."""
        return training_arrays.predict(self, x, batch_size=batch_size, verbose=verbose, steps=steps,
                                       callbacks=callbacks)

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: Any = None,
                       reset_metrics: bool = True, return_dict: bool = False) -> Any:
        """One gradient update on one batch; the loss (and metrics) of that batch."""
        if not self._compile_was_called:
            raise RuntimeError(_COMPILE_MESSAGE)
        return training_arrays.on_batch(self, "train", x, y, sample_weight, class_weight, reset_metrics,
                                        return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, reset_metrics: bool = True,
                      return_dict: bool = False) -> Any:
        if not self._compile_was_called:
            raise RuntimeError(_COMPILE_MESSAGE)
        return training_arrays.on_batch(self, "test", x, y, sample_weight, None, reset_metrics, return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        return training_arrays.predict_on_batch(self, x)

    def fit_generator(self, generator: Any, steps_per_epoch: int | None = None, epochs: int = 1, verbose: int = 1,
                      callbacks: Any = None, validation_data: Any = None, validation_steps: int | None = None,
                      validation_freq: Any = 1, class_weight: Any = None, max_queue_size: int = 10,
                      workers: int = 1, use_multiprocessing: bool = False, shuffle: bool = True,
                      initial_epoch: int = 0) -> Any:
        """`fit` on a Python generator or `Sequence` yielding (x, y) or (x, y, sample_weight) batches."""
        if not self._compile_was_called:
            raise RuntimeError(_COMPILE_MESSAGE)
        return training_arrays.fit_generator(self, generator, steps_per_epoch=steps_per_epoch, epochs=epochs,
                                             verbose=verbose, callbacks=callbacks, validation_data=validation_data,
                                             validation_steps=validation_steps, validation_freq=validation_freq,
                                             class_weight=class_weight, shuffle=shuffle,
                                             initial_epoch=initial_epoch)

    def evaluate_generator(self, generator: Any, steps: int | None = None, callbacks: Any = None,
                           max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
                           verbose: int = 0) -> Any:
        if not self._compile_was_called:
            raise RuntimeError(_COMPILE_MESSAGE)
        return training_arrays.evaluate_generator(self, generator, steps=steps, callbacks=callbacks)

    def predict_generator(self, generator: Any, steps: int | None = None, callbacks: Any = None,
                          max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
                          verbose: int = 0) -> Any:
        return training_arrays.predict_generator(self, generator, steps=steps)

    # -------------------------------------------------------------------------------- display
    def summary(self, line_length: int | None = None, positions: Any = None, print_fn: Any = None,
                expand_nested: bool = False, show_trainable: bool = False) -> None:
        """Prints Keras's table of layers, output shapes and parameter counts."""
        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                             "calling the model on a batch of data.")
        from caudal.keras.utils.layer_utils import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable)

    # --------------------------------------------------------------------------------- saving
    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError("Subclassed models have no config: save their weights, or implement "
                                  "`get_config` and `from_config`.")

    def to_json(self, **kwargs: Any) -> str:
        from caudal.keras.saving.model_config import model_to_config

        return json.dumps(model_to_config(self), default=_json_default, **kwargs)

    def save(self, filepath: Any, overwrite: bool = True, include_optimizer: bool = True, save_format: Any = None,
             **kwargs: Any) -> None:
        """`model.save('m.h5')`: architecture, weights and optimizer state in Keras's HDF5 layout."""
        from caudal.keras.saving.hdf5_format import save_model_to_hdf5

        save_model_to_hdf5(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath: Any, overwrite: bool = True, save_format: str | None = None,
                     options: Any = None) -> None:
        """Weights to HDF5 (`.h5`/`.keras`, or save_format='h5') or a TF checkpoint (otherwise)."""
        from caudal.keras.saving import weights_io

        weights_io.save_weights(self, filepath, overwrite=overwrite, save_format=save_format)

    def load_weights(self, filepath: Any, by_name: bool = False, skip_mismatch: bool = False,
                     options: Any = None) -> Any:
        from caudal.keras.saving import weights_io

        return weights_io.load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)


def _dedup_list(weights: list[Any]) -> list[Any]:
    seen: set[int] = set()
    unique = []
    for weight in weights:
        if id(weight) not in seen:
            seen.add(id(weight))
            unique.append(weight)
    return unique


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    raise TypeError(f"Not JSON Serializable: {value}")
