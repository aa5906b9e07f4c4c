"""The `fit` / `evaluate` / `predict` loops, as TF-Keras's graph mode runs them.

Arrays are cut into batches (`batch_size`, 32 by default; shuffled each epoch with NumPy's global
generator when `shuffle`); each batch is one run of the model's K.function. The epoch loss is the batch
losses weighted by batch size; metrics are stateful (reset at each epoch) and reported as their last
value. `tf.data` datasets and generators are read batch by batch (`steps_per_epoch` steps, or until
the data ends). Validation runs after every `validation_freq`-th epoch.
"""
from __future__ import annotations

import inspect
import logging
import random
import sys
from typing import Any

import numpy as np

from caudal.keras import backend as K
from caudal.keras import callbacks as callbacks_module
from caudal.keras.engine import training_data as data
from caudal.keras.utils.data_utils import Sequence
from caudal.util import nest

__all__ = ["fit", "evaluate", "predict", "on_batch", "predict_on_batch", "fit_generator", "evaluate_generator",
           "predict_generator"]

_log = logging.getLogger("caudal")


# ------------------------------------------------------------------------------------- kinds
def _is_dataset(x: Any) -> bool:
    # Only an imported caudal.data can have made a dataset: fitting arrays does not pay for its import.
    dataset_ops = sys.modules.get("caudal.data.dataset_ops")
    return dataset_ops is not None and isinstance(x, dataset_ops.DatasetV1)


def _is_generator(x: Any) -> bool:
    return inspect.isgenerator(x) or isinstance(x, Sequence) or (hasattr(x, "__next__") and not _is_dataset(x))


def _ensure_built(model: Any, x: Any) -> None:
    """A model without inputs yet (subclassed, or Sequential without an input shape) is built on `x`."""
    if model.inputs:
        return
    from caudal.keras.engine.input_layer import Input

    arrays = x if isinstance(x, (list, tuple)) else ([x[k] for k in sorted(x)] if isinstance(x, dict) else [x])
    arrays = [np.asarray(a) for a in arrays]
    if hasattr(model, "_build_from_inputs"):
        placeholders = [Input(batch_shape=(None,) + tuple(a.shape[1:]), dtype=data.input_placeholder_dtype(a))
                        for a in arrays]
        model._build_from_inputs(placeholders if isinstance(x, (list, tuple)) else placeholders[0])
        return
    # A subclassed model gets plain placeholders (`input_1`, ...), as in Keras: its layers record no nodes.
    placeholders = [K.placeholder(shape=(None,) + tuple(a.shape[1:]), dtype=data.input_placeholder_dtype(a),
                                  name=f"input_{i + 1}") for i, a in enumerate(arrays)]
    training = K.learning_phase() if model._expects_training_arg else None
    model._set_inputs(placeholders if isinstance(x, (list, tuple)) else placeholders[0], training=training)


def _compiled(model: Any) -> Any:
    return model._ensure_compiled_graph()


def standardize(model: Any, x: Any, y: Any = None, sample_weight: Any = None, class_weight: Any = None,
                needs_targets: bool = True) -> tuple[list, list, list]:
    """(inputs, targets, sample weights) as lists of arrays, checked against the model."""
    _ensure_built(model, x)
    inputs = data.standardize_input_data(x, model._feed_input_names, model._feed_input_shapes,
                                         check_batch_axis=False, exception_prefix="input")
    if not needs_targets:
        return inputs, [], []
    compiled = _compiled(model)
    endpoints = [e for e in compiled.endpoints if e.target is not None]
    names = [e.name for e in endpoints]
    targets = data.standardize_input_data(y, names, None, check_batch_axis=False, exception_prefix="target")
    sample_weights = data.standardize_sample_or_class_weights(sample_weight, names, "sample_weight")
    class_weights = data.standardize_sample_or_class_weights(class_weight, names, "class_weight")
    weights = [data.standardize_weights(t, sw, cw, model.sample_weight_mode)
               for t, sw, cw in zip(targets, sample_weights, class_weights)]
    data.check_array_lengths(inputs, targets, weights)
    data.check_loss_and_target_compatibility(targets, [e.loss_fn for e in endpoints],
                                             [e.feed_shape() for e in endpoints])
    return inputs, targets, weights


def _feed(model: Any, mode: str, inputs: list, targets: list, weights: list) -> tuple[Any, list]:
    """The K.function of `mode` and its feed list (learning phase last, as a bool)."""
    if mode == "predict":
        compiled = model._compiled if model._compiled is not None else None
        function = compiled.function("predict", False) if compiled is not None else _predict_function(model)
        return function, list(inputs)
    compiled = _compiled(model)
    with_weights = any(w is not None for w in weights)
    feed = list(inputs) + list(targets)
    if with_weights:
        count = len(inputs[0]) if inputs and inputs[0] is not None else len(targets[0])
        feed += [w if w is not None else np.ones((count,), dtype=K.floatx()) for w in weights]
    function = compiled.function(mode, with_weights)
    if compiled.feeds_learning_phase(mode):
        feed.append(True)
    return function, feed


def _predict_function(model: Any) -> Any:
    cached = getattr(model, "_uncompiled_predict_function", None)
    if cached is None:
        cached = K.function(model._feed_inputs, list(model.outputs), updates=model.state_updates,
                            name="predict_function")
        model._uncompiled_predict_function = cached
    return cached


# ------------------------------------------------------------------------------- callbacks
def configure_callbacks(callbacks: Any, model: Any, do_validation: bool, batch_size: Any, epochs: int,
                        steps_per_epoch: Any, samples: Any, verbose: int, count_mode: str, mode: str) -> Any:
    if isinstance(callbacks, callbacks_module.CallbackList):
        return callbacks
    callbacks = list(callbacks or [])
    if mode == "train":
        model.history = callbacks_module.History()
        callbacks = [callbacks_module.BaseLogger()] + callbacks + [model.history]
        if verbose:
            callbacks.append(callbacks_module.ProgbarLogger(count_mode))
    callback_list = callbacks_module.CallbackList(callbacks)
    callback_list.set_model(model)
    names = model.metrics_names if mode != "predict" else []
    for callback in callback_list:
        if isinstance(callback, (callbacks_module.BaseLogger, callbacks_module.ProgbarLogger)):
            callback.stateful_metrics = names[1:]
    metric_names = list(names) + (["val_" + n for n in names] if do_validation else [])
    callback_list.set_params({"batch_size": batch_size, "epochs": epochs, "steps": steps_per_epoch,
                              "samples": samples, "verbose": verbose, "do_validation": do_validation,
                              "metrics": metric_names})
    model.stop_training = False
    return callback_list


def _make_logs(model: Any, logs: dict, outputs: list, mode: str, prefix: str = "") -> dict:
    if mode in ("train", "test"):
        for label, output in zip(model.metrics_names, outputs):
            logs[prefix + label] = output
    else:
        logs["outputs"] = outputs
    return logs


def _should_validate(validation_freq: Any, epoch: int) -> bool:
    if isinstance(validation_freq, int):
        if validation_freq < 1:
            raise ValueError("`validation_freq` can not be less than 1.")
        return (epoch + 1) % validation_freq == 0
    if not hasattr(validation_freq, "__contains__"):
        raise ValueError(f"`validation_freq` must be an Integer or `collections.abc.Container` (e.g. list, tuple, "
                         f"etc.) Received: validation_freq={validation_freq}")
    return epoch + 1 in validation_freq


# ------------------------------------------------------------------------------- aggregators
class _Metrics:
    def __init__(self, use_steps: bool, num_samples: Any, steps: Any):
        self.use_steps, self.num_samples, self.steps = use_steps, num_samples, steps
        self.results: list = []

    def aggregate(self, outs: list, start: int = 0, end: int = 0) -> None:
        if not self.results:
            self.results = [0.0] * len(outs)
        self.results[0] += outs[0] if self.use_steps else outs[0] * (end - start)
        self.results[1:] = outs[1:]

    def finalize(self) -> list:
        if not self.results:
            raise ValueError("Empty training data.")
        self.results[0] /= self.num_samples or self.steps
        return self.results


class _Outputs:
    def __init__(self) -> None:
        self.batches: list[list] = []

    def aggregate(self, outs: list, start: int = 0, end: int = 0) -> None:
        self.batches.append(outs)

    def finalize(self) -> list:
        if not self.batches:
            raise ValueError("Empty prediction data.")
        return [np.concatenate([batch[i] for batch in self.batches]) for i in range(len(self.batches[0]))]


# ------------------------------------------------------------------------------------ sources
class _ArraySource:
    """Batches of arrays (fed all at once when steps are given, as TF-Keras does)."""

    use_steps = False

    def __init__(self, feed: list, num_inputs: int, batch_size: int, shuffle: Any, steps: Any = None):
        self.feed = feed
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.steps = steps
        self.use_steps = steps is not None
        self.arrays = [v for v in feed if not isinstance(v, bool)]
        self.tail = [v for v in feed if isinstance(v, bool)]
        self.num_samples = self.arrays[0].shape[0] if self.arrays else 0

    def epoch(self) -> Any:
        if self.use_steps:
            for step in range(self.steps):
                yield step, self.feed, 1, 0, 0
            return
        index = np.arange(self.num_samples)
        if self.shuffle == "batch":
            count = int(len(index) / self.batch_size)
            last = index[count * self.batch_size:]
            head = index[:count * self.batch_size].reshape((count, self.batch_size))
            np.random.shuffle(head)
            index = np.append(head.flatten(), last)
        elif self.shuffle:
            np.random.shuffle(index)
        batches = data.make_batches(self.num_samples, self.batch_size)
        for i, (start, end) in enumerate(batches):
            feed = self.feed if len(batches) == 1 else data.slice_arrays(self.arrays, index[start:end]) + self.tail
            yield i, feed, end - start, start, end


class _StepSource:
    """Batches pulled from a dataset iterator or a generator, standardized one by one."""

    use_steps = True

    def __init__(self, model: Any, mode: str, pull: Any, steps: Any, reset: Any = None, class_weight: Any = None,
                 count_samples: bool = True):
        self.model, self.mode, self.pull, self.steps, self.reset = model, mode, pull, steps, reset
        self.class_weight = class_weight
        self.count_samples = count_samples
        self.num_samples = None
        self.exhausted = False

    def epoch(self) -> Any:
        step = 0
        while self.steps is None or step < self.steps:
            try:
                batch = self.pull()
            except (StopIteration, _OutOfRange):
                self.exhausted = True
                return
            x, y, w = _unpack(batch, self.mode)
            inputs, targets, weights = standardize(self.model, x, y, w, self.class_weight,
                                                   needs_targets=self.mode != "predict")
            function, feed = _feed(self.model, self.mode, inputs, targets, weights)
            size = int(np.asarray(nest.flatten(x)[0]).shape[0]) if self.count_samples else 1
            yield step, (function, feed), size, 0, 0
            step += 1


class _OutOfRange(Exception):
    pass


def _unpack(batch: Any, mode: str) -> tuple[Any, Any, Any]:
    if isinstance(batch, tuple) and not hasattr(batch, "_fields"):
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch
        if len(batch) == 1:
            return batch[0], None, None
        raise ValueError(f"Output of generator should be a tuple `(x, y, sample_weight)` or `(x, y)`. Found: {batch}")
    if mode != "predict":
        raise ValueError(f"Output of generator should be a tuple `(x, y, sample_weight)` or `(x, y)`. Found: {batch}")
    return batch, None, None


def _dataset_source(model: Any, mode: str, dataset: Any, steps: Any, class_weight: Any = None) -> _StepSource:
    import caudal as tf
    from caudal.errors import OutOfRangeError

    iterator = tf.data.make_initializable_iterator(dataset)
    next_element = iterator.get_next()
    session = K.get_session()
    session.run(iterator.initializer)

    def pull() -> Any:
        try:
            return session.run(next_element)
        except OutOfRangeError:
            raise _OutOfRange() from None

    def reset() -> None:
        session.run(iterator.initializer)

    return _StepSource(model, mode, pull, steps, reset=reset, class_weight=class_weight, count_samples=False)


def _generator_source(model: Any, mode: str, generator: Any, steps: Any, shuffle: bool = False,
                      class_weight: Any = None) -> _StepSource:
    if isinstance(generator, Sequence):
        state = {"order": [], "position": 0}

        def reset() -> None:
            state["order"] = list(range(len(generator)))
            if shuffle:
                random.shuffle(state["order"])
            state["position"] = 0

        reset()

        def pull() -> Any:
            if state["position"] >= len(state["order"]):
                generator.on_epoch_end()
                reset()
            item = generator[state["order"][state["position"]]]
            state["position"] += 1
            return item

        source = _StepSource(model, mode, pull, steps if steps is not None else len(generator),
                             class_weight=class_weight)
        return source
    return _StepSource(model, mode, lambda: next(generator), steps, class_weight=class_weight)


# ---------------------------------------------------------------------------------- the loop
def model_iteration(model: Any, mode: str, source: Any, epochs: int = 1, verbose: int = 0, callbacks: Any = None,
                    validation: Any = None, validation_freq: Any = 1, initial_epoch: int = 0,
                    batch_size: Any = None, steps_per_epoch: Any = None, val_count: Any = None,
                    in_fit: bool = False) -> Any:
    """Runs `mode` ('train', 'test', 'predict') over `source` for `epochs` epochs; returns the History,
    the test results, or the predictions."""
    use_steps = source.use_steps
    if mode == "train" and verbose:
        unit = "steps" if isinstance(source, _StepSource) else "samples"
        count = source.steps if use_steps else source.num_samples
        message = f"Train on {count} {unit}"
        if val_count:
            message += f", validate on {val_count} {unit}"
        print(message)
    callback_list = configure_callbacks(callbacks, model, validation is not None, batch_size, epochs,
                                        source.steps if use_steps else steps_per_epoch,
                                        source.steps if use_steps else source.num_samples, verbose,
                                        "steps" if use_steps else "samples", mode)
    function = None
    if isinstance(source, _ArraySource):
        function = source.function
    callback_list.call_begin_hook(mode)
    results: Any = None
    for epoch in range(initial_epoch, epochs):
        if model.stop_training:
            break
        epoch_logs: dict[str, Any] = {}
        if mode != "predict":
            model.reset_metrics()
        if mode == "train":
            callback_list.on_epoch_begin(epoch, epoch_logs)
        aggregator: Any = _Outputs() if mode == "predict" else _Metrics(use_steps, None if use_steps else
                                                                        source.num_samples, source.steps)
        steps_done = 0
        for index, feed, size, start, end in source.epoch():
            batch_logs = {"batch": index, "size": size}
            callback_list.call_batch_hook(mode, "begin", index, batch_logs)
            if isinstance(source, _StepSource):
                function, feed = feed
            outs = function(feed)
            if not isinstance(outs, list):
                outs = [outs]
            aggregator.aggregate(outs, start, end)
            steps_done += 1
            batch_logs = _make_logs(model, batch_logs, outs, mode)
            callback_list.call_batch_hook(mode, "end", index, batch_logs)
            if model.stop_training:
                break
        if isinstance(source, _StepSource):
            if source.exhausted:
                if source.steps is not None and mode == "train":
                    model.stop_training = True
                    _log.warning("Your dataset ran out of data; interrupting training. Make sure that your dataset "
                                 "can generate at least `steps_per_epoch * epochs` batches (in this case, %d "
                                 "batches). You may need to use the repeat() function when building your dataset.",
                                 source.steps * epochs)
                elif source.steps is None:
                    aggregator.steps = steps_done
                if source.reset is not None and epoch < epochs - 1:
                    source.reset()
                    source.exhausted = False
        results = aggregator.finalize()
        epoch_logs = _make_logs(model, epoch_logs, results, mode)
        if validation is not None and mode == "train" and _should_validate(validation_freq, epoch) \
                and not model.stop_training:
            val_results = validation(callback_list)
            epoch_logs = _make_logs(model, epoch_logs, nest.flatten(val_results), "test", prefix="val_")
        if mode == "train":
            callback_list.on_epoch_end(epoch, epoch_logs)
    callback_list.call_end_hook(mode)
    if mode == "train":
        return model.history
    if results is not None and len(results) == 1:
        return results[0]
    return results


# ------------------------------------------------------------------------------- entry points
def _default_batch_size(batch_size: Any, steps: Any, x: Any) -> Any:
    if (_is_dataset(x) or _is_generator(x)) and batch_size is not None:
        raise ValueError(f"The `batch_size` argument must not be specified for the given input type. Received input: "
                         f"{x}, batch_size: {batch_size}")
    if batch_size is None and steps is None:
        return 32
    return batch_size


def _array_source(model: Any, mode: str, x: Any, y: Any, sample_weight: Any, class_weight: Any, batch_size: Any,
                  shuffle: Any, steps: Any) -> _ArraySource:
    inputs, targets, weights = standardize(model, x, y, sample_weight, class_weight, needs_targets=mode != "predict")
    function, feed = _feed(model, mode, inputs, targets, weights)
    source = _ArraySource(feed, len(inputs), batch_size or 32, shuffle, steps)
    source.function = function
    return source


def fit(model: Any, x: Any, y: Any, batch_size: Any = None, epochs: int = 1, verbose: int = 1, callbacks: Any = None,
        validation_split: float = 0.0, validation_data: Any = None, shuffle: Any = True, class_weight: Any = None,
        sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: Any = None, validation_steps: Any = None,
        validation_freq: Any = 1, **kwargs: Any) -> Any:
    if "nb_epoch" in kwargs:
        epochs = kwargs.pop("nb_epoch")
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {kwargs}")
    if _is_generator(x):
        return fit_generator(model, x, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                             callbacks=callbacks, validation_data=validation_data, validation_steps=validation_steps,
                             validation_freq=validation_freq, class_weight=class_weight, shuffle=shuffle,
                             initial_epoch=initial_epoch)
    batch_size = _default_batch_size(batch_size, steps_per_epoch, x)
    if _is_dataset(x):
        if validation_split:
            raise ValueError(f"`validation_split` is only supported for Tensors or NumPy arrays, found: {x}")
        source: Any = _dataset_source(model, "train", x, steps_per_epoch, class_weight)
    else:
        inputs, targets, weights = standardize(model, x, y, sample_weight, class_weight)
        if validation_split and 0.0 < validation_split < 1.0 and validation_data is None:
            split_at = int(inputs[0].shape[0] * (1.0 - validation_split))
            validation_data = (data.slice_arrays(inputs, slice(split_at, None)),
                               data.slice_arrays(targets, slice(split_at, None)),
                               data.slice_arrays(weights, slice(split_at, None)))
            inputs = data.slice_arrays(inputs, slice(0, split_at))
            targets = data.slice_arrays(targets, slice(0, split_at))
            weights = data.slice_arrays(weights, slice(0, split_at))
        function, feed = _feed(model, "train", inputs, targets, weights)
        source = _ArraySource(feed, len(inputs), batch_size, shuffle, steps_per_epoch)
        source.function = function
    validation, val_count = _validation(model, validation_data, batch_size, validation_steps)
    return model_iteration(model, "train", source, epochs=epochs, verbose=verbose, callbacks=callbacks,
                           validation=validation, validation_freq=validation_freq, initial_epoch=initial_epoch,
                           batch_size=batch_size, steps_per_epoch=steps_per_epoch, val_count=val_count)


def _validation(model: Any, validation_data: Any, batch_size: Any, validation_steps: Any) -> tuple[Any, Any]:
    """A function running the validation pass with the fit's callbacks, and the count to print."""
    if validation_data is None:
        return None, None
    if _is_dataset(validation_data):
        source: Any = _dataset_source(model, "test", validation_data, validation_steps)
        count = validation_steps
    elif _is_generator(validation_data):
        source = _generator_source(model, "test", validation_data, validation_steps)
        count = source.steps
    else:
        if isinstance(validation_data, (list, tuple)) and len(validation_data) in (2, 3):
            val_x, val_y = validation_data[0], validation_data[1]
            val_w = validation_data[2] if len(validation_data) == 3 else None
        else:
            raise ValueError("When passing a `validation_data` argument, it must contain either 2 items (x_val, "
                             "y_val), or 3 items (x_val, y_val, val_sample_weights), or alternatively it could be a "
                             "dataset or a dataset or a dataset iterator. However we received "
                             f"`validation_data={validation_data}`")
        inputs, targets, weights = standardize(model, val_x, val_y, val_w)
        function, feed = _feed(model, "test", inputs, targets, weights)
        source = _ArraySource(feed, len(inputs), batch_size or 32, False, validation_steps)
        source.function = function
        count = source.num_samples if validation_steps is None else validation_steps

    def run(callback_list: Any) -> Any:
        if isinstance(source, _StepSource) and source.reset is not None and source.exhausted:
            source.reset()
            source.exhausted = False
        return model_iteration(model, "test", source, verbose=0, callbacks=callback_list, batch_size=batch_size)

    return run, count


def evaluate(model: Any, x: Any, y: Any, batch_size: Any = None, verbose: int = 0, sample_weight: Any = None,
             steps: Any = None, callbacks: Any = None) -> Any:
    if _is_generator(x):
        return evaluate_generator(model, x, steps=steps, callbacks=callbacks)
    batch_size = _default_batch_size(batch_size, steps, x)
    if _is_dataset(x):
        source: Any = _dataset_source(model, "test", x, steps)
    else:
        source = _array_source(model, "test", x, y, sample_weight, None, batch_size, False, steps)
    return model_iteration(model, "test", source, verbose=verbose, callbacks=callbacks, batch_size=batch_size)


def predict(model: Any, x: Any, batch_size: Any = None, verbose: int = 0, steps: Any = None,
            callbacks: Any = None) -> Any:
    if _is_generator(x):
        return predict_generator(model, x, steps=steps)
    batch_size = _default_batch_size(batch_size, steps, x)
    if _is_dataset(x):
        source: Any = _dataset_source(model, "predict", x, steps)
    else:
        source = _array_source(model, "predict", x, None, None, None, batch_size, False, steps)
    return model_iteration(model, "predict", source, verbose=verbose, callbacks=callbacks, batch_size=batch_size)


def on_batch(model: Any, mode: str, x: Any, y: Any, sample_weight: Any, class_weight: Any, reset_metrics: bool,
             return_dict: bool) -> Any:
    inputs, targets, weights = standardize(model, x, y, sample_weight, class_weight)
    function, feed = _feed(model, mode, inputs, targets, weights)
    outputs = function(feed)
    if reset_metrics:
        model.reset_metrics()
    if return_dict:
        return dict(zip(model.metrics_names, outputs))
    return outputs[0] if len(outputs) == 1 else outputs


def predict_on_batch(model: Any, x: Any) -> Any:
    inputs, _, _ = standardize(model, x, needs_targets=False)
    function, feed = _feed(model, "predict", inputs, [], [])
    outputs = function(feed)
    return outputs[0] if len(outputs) == 1 else outputs


def _generator_steps(generator: Any, steps: Any, name: str) -> Any:
    if steps is None and not isinstance(generator, Sequence):
        raise ValueError(f"`{name}=None` is only valid for a generator based on the `keras.utils.Sequence` class. "
                         f"Please specify `{name}` or use the `keras.utils.Sequence` class.")
    return steps if steps is not None else len(generator)


def fit_generator(model: Any, generator: Any, steps_per_epoch: Any = None, epochs: int = 1, verbose: int = 1,
                  callbacks: Any = None, validation_data: Any = None, validation_steps: Any = None,
                  validation_freq: Any = 1, class_weight: Any = None, shuffle: Any = True,
                  initial_epoch: int = 0) -> Any:
    steps = _generator_steps(generator, steps_per_epoch, "steps_per_epoch")
    source = _generator_source(model, "train", generator, steps, shuffle=bool(shuffle), class_weight=class_weight)
    if validation_data is not None and _is_generator(validation_data) and validation_steps is None \
            and not isinstance(validation_data, Sequence):
        raise ValueError("`validation_steps=None` is only valid for a generator based on the `keras.utils.Sequence` "
                         "class. Please specify `validation_steps` or use the `keras.utils.Sequence` class.")
    validation, val_count = _validation(model, validation_data, None, validation_steps)
    return model_iteration(model, "train", source, epochs=epochs, verbose=verbose, callbacks=callbacks,
                           validation=validation, validation_freq=validation_freq, initial_epoch=initial_epoch,
                           steps_per_epoch=steps, val_count=val_count)


def evaluate_generator(model: Any, generator: Any, steps: Any = None, callbacks: Any = None) -> Any:
    steps = _generator_steps(generator, steps, "steps")
    return model_iteration(model, "test", _generator_source(model, "test", generator, steps), callbacks=callbacks)


def predict_generator(model: Any, generator: Any, steps: Any = None) -> Any:
    steps = _generator_steps(generator, steps, "steps")
    return model_iteration(model, "predict", _generator_source(model, "predict", generator, steps))
