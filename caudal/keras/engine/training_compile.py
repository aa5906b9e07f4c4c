"""The graph `compile` builds, as TF-Keras's graph mode builds it.

Per output: a target placeholder `<output>_target` (rank and dtype of the output), a sample weight
placeholder `<output>_sample_weights` (ones unless fed), the loss under `loss/<output>_loss` (per-sample
losses times the weights, summed and divided by their count), and the metrics under
`metrics/<name>`. The total loss is the weighted sum of the output losses plus the layers' losses
(regularization). Metric names follow TF-Keras's graph mode: 'accuracy' and 'acc' are reported as
`acc` (binary, sparse or categorical accuracy chosen from the output shape and loss); other metric
functions by their function name; with several outputs, `<output>_<metric>` and `<output>_loss`.
"""
from __future__ import annotations

import collections
from typing import Any

import caudal as tf
from caudal.keras import backend as K
from caudal.keras import losses as losses_module
from caudal.keras import metrics as metrics_module
from caudal.keras.engine.node import keras_mask

__all__ = ["CompiledGraph", "check_losses", "get_loss_function"]


def get_loss_function(loss: Any) -> Any:
    """A `Loss` object for a compile loss: functions and names are wrapped with SUM_OVER_BATCH_SIZE."""
    if loss is None or isinstance(loss, losses_module.Loss):
        return loss
    if isinstance(loss, type) and issubclass(loss, losses_module.Loss):
        raise ValueError(f"Received uninstantiated Loss class: {loss}\nPlease call loss classes before passing them "
                         "to Model.compile.")
    if isinstance(loss, dict):
        loss = losses_module.get(loss)
    if callable(loss) and not hasattr(loss, "__name__"):
        return loss
    fn = losses_module.get(loss)
    return losses_module.LossFunctionWrapper(fn, name=fn.__name__,
                                             reduction=losses_module.Reduction.SUM_OVER_BATCH_SIZE)


def check_losses(loss: Any) -> None:
    """Resolves every loss named in `loss`, so an unknown name fails in `compile`, as in Keras."""
    values = loss.values() if isinstance(loss, dict) else (loss if isinstance(loss, (list, tuple)) else [loss])
    for value in values:
        if value is not None and not isinstance(value, dict):
            get_loss_function(value)


def _check_keys(kind: str, given: dict, expected: list[str]) -> None:
    unknown = set(given.keys()).difference(expected)
    if unknown:
        raise ValueError(f"Unknown entries in {kind} dictionary: {list(unknown)}. Only expected following keys: "
                         f"{expected}")


def _loss_functions(loss: Any, output_names: list[str]) -> list[Any]:
    if isinstance(loss, dict):
        _check_keys("loss", loss, output_names)
        return [get_loss_function(loss.get(name)) for name in output_names]
    if isinstance(loss, str):
        return [get_loss_function(loss) for _ in output_names]
    if isinstance(loss, (list, tuple)):
        if len(loss) != len(output_names):
            raise ValueError(f"When passing a list as loss, it should have one entry per model outputs. The model has "
                             f"{len(output_names)} outputs, but you passed loss={loss}")
        return [get_loss_function(item) for item in loss]
    return [get_loss_function(loss) for _ in output_names]


def _loss_weights(loss_weights: Any, output_names: list[str]) -> list[float]:
    if loss_weights is None:
        return [1.0] * len(output_names)
    if isinstance(loss_weights, dict):
        _check_keys("loss_weights", loss_weights, output_names)
        return [loss_weights.get(name, 1.0) for name in output_names]
    if isinstance(loss_weights, list):
        if len(loss_weights) != len(output_names):
            raise ValueError(f"When passing a list as loss_weights, it should have one entry per model output. The "
                             f"model has {len(output_names)} outputs, but you passed loss_weights={loss_weights}")
        return list(loss_weights)
    raise TypeError(f"Could not interpret loss_weights argument: {loss_weights} - expected a list of dicts.")


def _is_wrapped(loss: Any, fn: Any, cls: type) -> bool:
    return isinstance(loss, cls) or (isinstance(loss, losses_module.LossFunctionWrapper) and loss.fn is fn)


def metric_name(metric: Any, weighted: bool = False) -> str:
    prefix = "weighted_" if weighted else ""
    if metric in ("accuracy", "acc"):
        return prefix + "acc"
    if metric in ("crossentropy", "ce"):
        return prefix + "ce"
    fn = metrics_module.get(metric)
    return prefix + (fn.name if hasattr(fn, "name") and isinstance(fn.name, str) else fn.__name__)


def metric_function(metric: Any, output_shape: Any, loss_fn: Any) -> Any:
    if metric not in ("accuracy", "acc", "crossentropy", "ce"):
        return metrics_module.get(metric)
    sparse = _is_wrapped(loss_fn, losses_module.sparse_categorical_crossentropy,
                         losses_module.SparseCategoricalCrossentropy)
    binary = _is_wrapped(loss_fn, losses_module.binary_crossentropy, losses_module.BinaryCrossentropy)
    last = output_shape[-1] if output_shape else None
    if metric in ("accuracy", "acc"):
        if last == 1 or binary:
            return metrics_module.binary_accuracy
        if sparse:
            return metrics_module.sparse_categorical_accuracy
        return metrics_module.categorical_accuracy
    if last == 1 or binary:
        return losses_module.binary_crossentropy
    if sparse:
        return losses_module.sparse_categorical_crossentropy
    return losses_module.categorical_crossentropy


def _per_output_metrics(metrics: Any, output_names: list[str], output_shapes: list[Any], loss_fns: list[Any],
                        weighted: bool) -> list[collections.OrderedDict]:
    if not metrics:
        return [collections.OrderedDict() for _ in output_names]
    if isinstance(metrics, list):
        if any(isinstance(m, list) for m in metrics):
            if len(metrics) != len(output_names):
                raise ValueError("When passing a list of lists as `metrics`, it should have one entry per model "
                                 f"output. The model has {len(output_names)} outputs, but you passed metrics="
                                 f"{metrics}")
            nested = [m if isinstance(m, list) else [m] for m in metrics]
        else:
            nested = [list(metrics) for _ in output_names]
    elif isinstance(metrics, dict):
        _check_keys("metrics", metrics, output_names)
        nested = [metrics.get(name, []) for name in output_names]
        nested = [m if isinstance(m, list) else [m] for m in nested]
    else:
        raise TypeError(f"Type of `metrics` argument not understood. Expected a list or dictionary, found: {metrics}")
    result = []
    for i, output_metrics in enumerate(nested):
        by_name: collections.OrderedDict = collections.OrderedDict()
        for metric in output_metrics:
            name = metric_name(metric, weighted)
            fn = metric_function(metric, output_shapes[i], loss_fns[i])
            if not isinstance(fn, metrics_module.Metric):
                fn = metrics_module.MeanMetricWrapper(fn, name=name)
            by_name[name] = fn
        result.append(by_name)
    return result


class Endpoint:
    """One model output and what training needs of it."""

    def __init__(self, output: Any, name: str, loss_fn: Any, loss_weight: float):
        self.output = output
        self.name = name
        self.loss_fn = loss_fn
        self.loss_weight = loss_weight
        self.target: Any = None
        self.sample_weight: Any = None
        self.loss_metric: Any = None

    @property
    def loss_name(self) -> str:
        return f"{self.name}_loss"

    def feed_shape(self) -> Any:
        """The target shape the data is checked against (None: no check), as TF-Keras decides it."""
        shape = tuple(self.output.shape.as_list())
        if _is_wrapped(self.loss_fn, losses_module.sparse_categorical_crossentropy,
                       losses_module.SparseCategoricalCrossentropy):
            return shape[:-1] + (1,)
        if not isinstance(self.loss_fn, losses_module.Loss) or (
                isinstance(self.loss_fn, losses_module.LossFunctionWrapper)
                and getattr(losses_module, getattr(self.loss_fn.fn, "__name__", ""), None) is None):
            return None
        return shape


class CompiledGraph:
    """Targets, sample weights, the total loss and the metric results of a compiled model."""

    def __init__(self, model: Any):
        self.model = model
        if not model.outputs:
            raise RuntimeError("The model has no outputs yet: call it on data (fit, predict) before compiling "
                               "its graph.")
        graph = model.outputs[0].graph
        names = list(model.output_names)
        loss_fns = _loss_functions(model.loss, names)
        weights = _loss_weights(model.loss_weights, names)
        self.endpoints = [Endpoint(o, n, f, w) for o, n, f, w in zip(model.outputs, names, loss_fns, weights)]
        with graph.as_default():
            for endpoint in self.endpoints:
                if endpoint.loss_fn is None:
                    continue
                rank = endpoint.output.shape.ndims
                endpoint.target = K.placeholder(ndim=rank, name=f"{endpoint.name}_target",
                                                dtype=endpoint.output.dtype.base_dtype)
                temporal = model.sample_weight_mode == "temporal"
                endpoint.sample_weight = tf.placeholder_with_default(
                    tf.constant([[1.0]] if temporal else [1.0], dtype=K.floatx()),
                    shape=[None, None] if temporal else [None], name=f"{endpoint.name}_sample_weights")
            shapes = [o.shape.as_list() if o.shape.ndims is not None else None for o in model.outputs]
            per_output = _per_output_metrics(model._compile_metrics, names, shapes, loss_fns, weighted=False)
            per_output_weighted = _per_output_metrics(model._compile_weighted_metrics, names, shapes, loss_fns,
                                                      weighted=True)
            self.metric_names: list[str] = []
            self.compile_metrics: list[Any] = []
            self._per_output = [self._name_metrics(d, i) for i, d in enumerate(per_output)]
            self._per_output_weighted = [self._name_metrics(d, i) for i, d in enumerate(per_output_weighted)]
            active = [e for e in self.endpoints if e.loss_fn is not None]
            if len(self.endpoints) > 1:
                for endpoint in active:
                    endpoint.loss_metric = metrics_module.Mean(name=endpoint.loss_name)
            self.metric_results = self._handle_metrics()
            self.total_loss = self._total_loss()
        self.trainable_weights = list(model.trainable_weights)
        self.output_loss_metrics = [e.loss_metric for e in self.endpoints if e.loss_metric is not None]
        self.functions: dict[Any, Any] = {}

    def _name_metrics(self, metrics_dict: collections.OrderedDict, index: int) -> collections.OrderedDict:
        renamed: collections.OrderedDict = collections.OrderedDict()
        for name, fn in metrics_dict.items():
            if len(self.endpoints) > 1:
                name = f"{self.endpoints[index].name}_{name}"
            base, j = name, 1
            while name in self.metric_names or name == "loss":
                name = f"{base}_{j}"
                j += 1
            fn._name = name
            self.metric_names.append(name)
            self.compile_metrics.append(fn)
            renamed[name] = fn
        return renamed

    def _handle_metrics(self) -> list[Any]:
        results: dict[int, Any] = {}
        with tf.name_scope("metrics"):
            for i, endpoint in enumerate(self.endpoints):
                if endpoint.loss_fn is None and endpoint.target is None:
                    continue
                mask = keras_mask(endpoint.output)
                for weighted, metrics_dict in ((False, self._per_output[i]), (True, self._per_output_weighted[i])):
                    for name, fn in metrics_dict.items():
                        with tf.name_scope(name):
                            weights = endpoint.sample_weight if weighted else None
                            if mask is not None:
                                mask_f = tf.cast(mask, endpoint.output.dtype.base_dtype)
                                if weights is None:
                                    weights = mask_f
                                else:
                                    mask_f, _, weights = losses_module.squeeze_or_expand_dimensions(
                                        mask_f, sample_weight=weights)
                                    weights = weights * mask_f
                            results[id(fn)] = fn(endpoint.target, endpoint.output, sample_weight=weights)
        return [results[id(fn)] for fn in self.compile_metrics]

    def _total_loss(self) -> Any:
        model = self.model
        terms = []
        with tf.name_scope("loss"):
            for endpoint in self.endpoints:
                if endpoint.loss_fn is None:
                    continue
                loss_fn = endpoint.loss_fn
                sample_weight = endpoint.sample_weight
                mask = keras_mask(endpoint.output)
                with tf.name_scope(endpoint.loss_name):
                    if mask is not None:
                        mask = tf.cast(mask, endpoint.output.dtype.base_dtype)
                        mask, _, sample_weight = losses_module.squeeze_or_expand_dimensions(
                            mask, sample_weight=sample_weight)
                    if hasattr(loss_fn, "reduction"):
                        per_sample = loss_fn.call(endpoint.target, endpoint.output)
                        if mask is not None:
                            sample_weight = _apply_valid_mask(per_sample, sample_weight, mask, loss_fn.reduction)
                        weighted = losses_module.compute_weighted_loss(per_sample, sample_weight=sample_weight,
                                                                       reduction=losses_module.Reduction.NONE)
                        reduction = loss_fn.reduction
                        if reduction == losses_module.Reduction.AUTO:
                            reduction = losses_module.Reduction.SUM_OVER_BATCH_SIZE
                        output_loss = losses_module.reduce_weighted_loss(weighted, reduction=reduction)
                    else:
                        output_loss = loss_fn(endpoint.target, endpoint.output, sample_weight=sample_weight)
                if endpoint.loss_metric is not None:
                    endpoint.loss_result = endpoint.loss_metric(output_loss)
                terms.append(endpoint.loss_weight * output_loss)
            custom = model.get_losses_for(None) + model.get_losses_for(model.inputs)
            custom = _dedup(custom)
            if not terms and not custom:
                raise ValueError("The model cannot be compiled because it has no loss to optimize.")
            if custom:
                terms.append(tf.add_n([tf.cast(c, K.floatx()) for c in custom]))
            return tf.add_n(terms) if terms else tf.constant(0.0)

    # ------------------------------------------------------------------------------------ names
    @property
    def metrics_names(self) -> list[str]:
        names = ["loss"]
        if len(self.endpoints) > 1:
            names += [e.loss_name for e in self.endpoints if e.loss_fn is not None]
        return names + [m.name for m in self.compile_metrics]

    @property
    def metric_objects(self) -> list[Any]:
        return list(self.compile_metrics)

    @property
    def all_metric_objects(self) -> list[Any]:
        return self.output_loss_metrics + self.compile_metrics

    @property
    def fetches(self) -> list[Any]:
        return [self.total_loss] + [e.loss_result for e in self.endpoints if e.loss_metric is not None] + \
            list(self.metric_results)

    @property
    def targets(self) -> list[Any]:
        return [e.target for e in self.endpoints if e.target is not None]

    @property
    def sample_weights(self) -> list[Any]:
        return [e.sample_weight for e in self.endpoints if e.target is not None]

    # -------------------------------------------------------------------------------- functions
    def function(self, mode: str, with_weights: bool) -> Any:
        """The K.function of `mode` (train, test, predict), made once for each way of feeding it."""
        key = (mode, with_weights)
        found = self.functions.get(key)
        if found is not None:
            return found
        model = self.model
        graph = model.outputs[0].graph
        with graph.as_default():
            if mode == "predict":
                found = K.function(model._feed_inputs, list(model.outputs), updates=model.state_updates,
                                   name="predict_function")
            else:
                inputs = model._feed_inputs + self.targets + (self.sample_weights if with_weights else [])
                if mode == "train":
                    phase = K.symbolic_learning_phase()
                    if not isinstance(phase, int):
                        inputs = inputs + [phase]
                    with tf.name_scope("training"):
                        updates = model.optimizer.get_updates(params=self.trainable_weights, loss=self.total_loss)
                        updates = list(updates) + model.get_updates_for(None) + model.get_updates_for(model.inputs)
                        found = K.function(inputs, self.fetches, updates=updates, name="train_function",
                                           **model._function_kwargs)
                else:
                    found = K.function(inputs, self.fetches, updates=model.state_updates, name="test_function",
                                       **model._function_kwargs)
        self.functions[key] = found
        return found

    def feeds_learning_phase(self, mode: str) -> bool:
        return mode == "train" and not isinstance(K.symbolic_learning_phase(), int)


def _apply_valid_mask(losses: Any, sample_weight: Any, mask: Any, reduction: str) -> Any:
    mask = tf.cast(mask, losses.dtype.base_dtype)
    if reduction in (losses_module.Reduction.AUTO, losses_module.Reduction.SUM_OVER_BATCH_SIZE):
        total = tf.cast(tf.size(mask), losses.dtype.base_dtype)
        valid = tf.reduce_sum(mask)
        mask = mask * (total / valid)
    if sample_weight is None:
        return mask
    mask, _, sample_weight = losses_module.squeeze_or_expand_dimensions(mask, sample_weight=sample_weight)
    return sample_weight * mask


def _dedup(values: list[Any]) -> list[Any]:
    seen: set[int] = set()
    out = []
    for value in values:
        if id(value) not in seen:
            seen.add(id(value))
            out.append(value)
    return out
