"""`tf.keras.layers.Layer` in graph mode, as TF-Keras 2.x's v1 layer behaves.

- A layer's default name is its class name in snake case, unique per graph (`dense`, `dense_1`).
- Each call opens the name scope of the layer's name; the first call builds the layer there, so
  its variables are `dense/kernel:0`, created with `tf.Variable` (in `tf.global_variables()`, and
  the trainable ones in `tf.trainable_variables()`).
- Inputs are checked against `input_spec` with Keras's messages; floating inputs are cast to the
  layer's dtype; a `training` argument the caller leaves out comes from the enclosing model's call,
  else from a learning phase fixed with `set_learning_phase`, else the layer decides (Dropout and
  BatchNormalization then use the `keras_learning_phase` placeholder).
- When every input has Keras history (made by `Input` or another layer), the call is recorded as a
  Node, which is what functional models are built from.
- Weight regularization losses are built once, on first use, under `<variable>/Regularizer`;
  activity regularization losses are divided by the batch size, under `<layer>/ActivityRegularizer`.
"""
from __future__ import annotations

import inspect
import re
import threading
from typing import Any

import numpy as np

import caudal as tf
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import get_default_graph
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.keras import backend as K
from caudal.keras.engine import input_spec as input_spec_lib
from caudal.keras.engine.node import Node, keras_history, keras_mask, set_keras_mask
from caudal.util import nest

__all__ = ["Layer", "to_snake_case", "call_context"]

_ALLOWED_KWARGS = {"input_dim", "input_shape", "batch_input_shape", "batch_size", "weights", "activity_regularizer",
                   "autocast", "implementation"}


def to_snake_case(name: str) -> str:
    """Keras's default layer names: Conv2D -> conv2d, LeakyReLU -> leaky_re_lu."""
    words = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    snake = re.sub(r"([a-z])([A-Z])", r"\1_\2", words).lower()
    return snake if snake[0] != "_" else "private" + snake


class _CallContext(threading.local):
    """The layer calls in progress: each frame holds the layer, its inputs and its training value."""

    def __init__(self) -> None:
        self.frames: list[tuple[Any, Any, Any]] = []

    @property
    def training(self) -> Any:
        for _, _, training in reversed(self.frames):
            if training is not None:
                return training
        return None

    @property
    def inputs(self) -> Any:
        return self.frames[-1][1] if self.frames else None


_CALL_CONTEXT = _CallContext()


def call_context() -> _CallContext:
    return _CALL_CONTEXT


class Layer:
    """Base class of Keras layers: `build(input_shape)` makes the weights, `call(inputs)` the outputs."""

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None, dynamic: bool = False,
                 **kwargs: Any):
        for kwarg in kwargs:
            if kwarg not in _ALLOWED_KWARGS:
                raise TypeError(f"Keyword argument not understood: {kwarg}")
        object.__setattr__(self, "_tracked_layers", [])
        self._trainable = trainable
        self._stateful = False
        self.built = False
        self.supports_masking = False
        self._input_spec: Any = None
        self._init_set_name(name)
        if isinstance(dtype, dict):
            dtype = dtype.get("config", {}).get("name", floatx_name())
        self._dtype = dtypes_lib.as_dtype(dtype).name if dtype is not None else None
        self._autocast = kwargs.get("autocast", True)
        self._trainable_weights: list[Any] = []
        self._non_trainable_weights: list[Any] = []
        self._losses: list[Any] = []
        self._callable_losses: list[Any] = []
        self._updates: list[tuple[Any, Any]] = []
        self._metrics: list[Any] = []
        self._inbound_nodes: list[Node] = []
        self._outbound_nodes: list[Node] = []
        self._activity_regularizer = kwargs.get("activity_regularizer")
        self._initial_weights = kwargs.get("weights")
        self._dynamic = dynamic
        if "input_dim" in kwargs and "input_shape" not in kwargs:
            kwargs["input_shape"] = (kwargs["input_dim"],)
        if "input_shape" in kwargs or "batch_input_shape" in kwargs:
            if "batch_input_shape" in kwargs:
                batch_input_shape = tuple(kwargs["batch_input_shape"])
            else:
                batch_input_shape = (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
            self._batch_input_shape = batch_input_shape
        signature = inspect.signature(self.call)
        accepts_kwargs = any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values())
        self._expects_training_arg = "training" in signature.parameters or accepts_kwargs
        self._expects_mask_arg = "mask" in signature.parameters or accepts_kwargs

    def _init_set_name(self, name: str | None, zero_based: bool = True) -> None:
        if not name:
            self._name = K.unique_object_name(to_snake_case(type(self).__name__), zero_based=zero_based)
        elif isinstance(name, str):
            self._name = name
        else:
            raise TypeError(f"Expected `name` argument to be a string, but got: {name}")

    # ----------------------------------------------------------------------------- tracking
    def __setattr__(self, name: str, value: Any) -> None:
        tracked = self.__dict__.get("_tracked_layers")
        if tracked is not None and not name.startswith("_tracked"):
            for layer in _layers_in(value):
                if layer is not self and all(layer is not t for t in tracked):
                    tracked.append(layer)
        object.__setattr__(self, name, value)

    def _flatten_layers(self, include_self: bool = True, recursive: bool = True) -> list[Layer]:
        found: list[Layer] = [self] if include_self else []
        for layer in self._tracked_layers:
            if all(layer is not f for f in found):
                found.extend(layer._flatten_layers(True, recursive) if recursive else [layer])
        unique: list[Layer] = []
        for layer in found:
            if all(layer is not u for u in unique):
                unique.append(layer)
        return unique

    # ------------------------------------------------------------------------------- names
    @property
    def name(self) -> str:
        return self._name

    @property
    def dtype(self) -> str | None:
        """The layer's dtype name; None until it is given or the layer is built (then its inputs' dtype)."""
        return self._dtype

    @property
    def _compute_dtype(self) -> str:
        return self._dtype or floatx_name()

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for layer in self._flatten_layers():
            layer._trainable = bool(value)

    @property
    def stateful(self) -> bool:
        return self._stateful

    @stateful.setter
    def stateful(self, value: bool) -> None:
        self._stateful = value

    @property
    def dynamic(self) -> bool:
        return self._dynamic

    @property
    def input_spec(self) -> Any:
        return self._input_spec

    @input_spec.setter
    def input_spec(self, value: Any) -> None:
        for spec in nest.flatten(value):
            if spec is not None and not isinstance(spec, input_spec_lib.InputSpec):
                raise TypeError(f"Layer input_spec must be an instance of InputSpec. Got: {spec}")
        self._input_spec = value

    @property
    def activity_regularizer(self) -> Any:
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value: Any) -> None:
        self._activity_regularizer = value

    # ------------------------------------------------------------------------------ weights
    @property
    def trainable_weights(self) -> list[Any]:
        if not self.trainable:
            return []
        weights = list(self._trainable_weights)
        for layer in self._tracked_layers:
            weights.extend(layer.trainable_weights)
        return _dedup(weights)

    @property
    def non_trainable_weights(self) -> list[Any]:
        if self.trainable:
            weights = list(self._non_trainable_weights)
            for layer in self._tracked_layers:
                weights.extend(layer.non_trainable_weights)
        else:
            weights = list(self._trainable_weights) + list(self._non_trainable_weights)
            for layer in self._tracked_layers:
                weights.extend(layer.weights)
        return _dedup(weights)

    @property
    def weights(self) -> list[Any]:
        return self.trainable_weights + self.non_trainable_weights

    @property
    def variables(self) -> list[Any]:
        return self.weights

    @property
    def trainable_variables(self) -> list[Any]:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[Any]:
        return self.non_trainable_weights

    def add_weight(self, name: str | None = None, shape: Any = None, dtype: Any = None, initializer: Any = None,
                   regularizer: Any = None, trainable: bool | None = None, constraint: Any = None,
                   partitioner: Any = None, use_resource: Any = None, synchronization: Any = None,
                   aggregation: Any = None, **kwargs: Any) -> Any:
        """A `tf.Variable` named `<current scope>/<name>`, initialized by `initializer(shape, dtype)`."""
        from caudal.keras import constraints, initializers, regularizers

        for kwarg in kwargs:
            if kwarg not in ("getter", "collections", "experimental_autocast", "caching_device"):
                raise TypeError(f"Unknown keyword argument: {kwarg}")
        shape = () if shape is None else shape
        dtype = dtypes_lib.as_dtype(dtype or self._compute_dtype).base_dtype
        initializer = initializers.get(initializer)
        if initializer is None:
            if dtype.is_floating:
                initializer = initializers.get("glorot_uniform")
            elif dtype.is_integer or dtype.is_unsigned or dtype.is_bool:
                initializer = initializers.get("zeros")
            else:
                raise ValueError(f"An initializer for variable {name} of type {dtype.name} is required for layer "
                                 f"{self.name}. Received: {initializer}.")
        trainable = True if trainable is None else trainable
        regularizer = regularizers.get(regularizer)
        constraint = constraints.get(constraint)
        shape = TensorShape(shape)
        graph = get_default_graph()
        with graph._outside_control_flow():
            variable = tf.Variable(lambda: initializer(shape.as_list(), dtype=dtype), name=name, dtype=dtype,
                                   trainable=trainable, constraint=constraint,
                                   collections=kwargs.get("collections"))
        K.track_variable(variable)
        if trainable:
            self._trainable_weights.append(variable)
        else:
            self._non_trainable_weights.append(variable)
        if regularizer is not None:
            self._callable_losses.append(_WeightRegularization(variable, regularizer))
        return variable

    def get_weights(self) -> list[np.ndarray]:
        return K.batch_get_value(self.weights)

    def set_weights(self, weights: Any) -> None:
        """Assigns the arrays to `weights` in order, with Keras's count and shape checks."""
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(f'You called `set_weights(weights)` on layer "{self.name}" with a weight list of length '
                             f"{len(weights)}, but the layer was expecting {len(params)} weights. Provided weights: "
                             f"{str(weights)[:50]}...")
        pairs = []
        for param, value in zip(params, weights):
            value = np.asarray(value)
            expected = tuple(param.shape.as_list())
            if expected != value.shape:
                raise ValueError(f"Layer {self.name} weight shape {expected} is not compatible with provided weight "
                                 f"shape {value.shape}.")
            pairs.append((param, value))
        K.batch_set_value(pairs)

    def count_params(self) -> int:
        """The number of scalars in the layer's weights; ValueError (Keras's) before the layer is built."""
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self.name}, but the layer isn't built. You "
                             f"can build it manually via: `{self.name}.build(batch_input_shape)`.")
        return int(sum(np.prod(w.shape.as_list()) for w in self.weights))

    # ------------------------------------------------------------------------ losses, updates
    @property
    def losses(self) -> list[Any]:
        collected = []
        for layer in self._flatten_layers():
            collected.extend(layer._losses)
            for regularization in layer._callable_losses:
                loss = regularization()
                if loss is not None:
                    collected.append(loss)
        return collected

    def add_loss(self, losses: Any, inputs: Any = None) -> None:
        """Adds loss tensors (or zero-argument callables returning one) to `layer.losses`."""
        for loss in nest.flatten(losses):
            if loss is None:
                continue
            if callable(loss) and not isinstance(loss, Tensor):
                self._callable_losses.append(_CachedLoss(loss))
            else:
                self._losses.append(tf.convert_to_tensor(loss))

    @property
    def updates(self) -> list[Any]:
        collected = []
        for layer in self._flatten_layers():
            collected.extend(update for update, _ in layer._updates)
        return collected

    def add_update(self, updates: Any, inputs: Any = None) -> None:
        """Registers update ops (run by `fit` with the training step); remembers the inputs of the call in
        progress, so a model runs only the updates its own inputs reach."""
        relevant = _CALL_CONTEXT.inputs if inputs is None or inputs is True else inputs
        for update in nest.flatten(updates):
            if callable(update) and not isinstance(update, (Tensor, tf.Operation)):
                update = update()
            if isinstance(update, Tensor):
                update = update.op
            elif not isinstance(update, tf.Operation):
                update = tf.convert_to_tensor(update).op
            self._updates.append((update, nest.flatten(relevant) if relevant is not None else []))

    def get_updates_for(self, inputs: Any) -> list[Any]:
        """With None: the updates that depend on no call's inputs; else the ones `inputs` reach."""
        from caudal.keras.engine.graph_walk import reachable_ops

        pairs = [pair for layer in self._flatten_layers() for pair in layer._updates]
        if inputs is None:
            return [u for u, call_inputs in pairs if not (reachable_ops(call_inputs) & {u})]
        reached = reachable_ops(nest.flatten(inputs))
        return [u for u, _ in pairs if u in reached]

    def get_losses_for(self, inputs: Any) -> list[Any]:
        from caudal.keras.engine.graph_walk import reachable_ops

        losses = self.losses
        if inputs is None:
            reached = reachable_ops([t for layer in self._flatten_layers() for node in layer._inbound_nodes
                                     for t in nest.flatten(node.input_tensors) if isinstance(t, Tensor)])
            return [loss for loss in losses if loss.op not in reached]
        reached = reachable_ops(nest.flatten(inputs))
        return [loss for loss in losses if loss.op in reached]

    @property
    def metrics(self) -> list[Any]:
        collected = []
        for layer in self._flatten_layers():
            collected.extend(layer._metrics)
        return collected

    # ------------------------------------------------------------------------------ calling
    def build(self, input_shape: Any) -> None:
        self._build_input_shape = input_shape
        self.built = True

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return inputs

    def _call_arg_names(self) -> list[str]:
        return [p.name for p in inspect.signature(self.call).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args:
            inputs, args = args[0], list(args[1:])
        elif "inputs" in kwargs:
            inputs, args = kwargs.pop("inputs"), []
        else:
            raise ValueError("The first argument to `Layer.call` must always be passed.")
        inputs = nest.map_structure(
            lambda v: tf.convert_to_tensor(v) if isinstance(v, (np.ndarray, float, int)) else v, inputs)
        flat_inputs = nest.flatten(inputs)
        arg_names = self._call_arg_names()

        mask_by_framework = False
        masks = nest.map_structure(keras_mask, inputs)
        if all(m is None for m in nest.flatten(masks)):
            masks = None
        if self._expects_mask_arg and masks is not None and not _passed("mask", arg_names, args, kwargs):
            kwargs["mask"] = masks
            mask_by_framework = True

        training = None
        training_by_framework = False
        if _passed("training", arg_names, args, kwargs):
            training = _get_arg("training", arg_names, args, kwargs)
            if not self._expects_training_arg:
                kwargs.pop("training", None)
        if training is None:
            if _CALL_CONTEXT.training is not None:
                training = _CALL_CONTEXT.training
            elif isinstance(K._GRAPH_LEARNING_PHASES.get(get_default_graph()), int):
                training = K.learning_phase()
            if self._expects_training_arg and training is not None:
                if isinstance(training, Tensor):
                    training = tf.cast(training, tf.bool)
                else:
                    training = bool(training)
                _set_arg("training", training, arg_names, args, kwargs)
                training_by_framework = True

        _CALL_CONTEXT.frames.append((self, inputs, training))
        try:
            input_spec_lib.assert_input_compatibility(self.input_spec, inputs, self.name)
            graph = get_default_graph()
            with graph.name_scope(self._name_scope()):
                self._maybe_build(inputs)
                cast_inputs = self._maybe_cast_inputs(inputs)
                outputs = self.call(cast_inputs, *args, **kwargs)
                if outputs is None:
                    raise ValueError("A layer's `call` method should return a Tensor or a list of Tensors, not None "
                                     f"(layer: {self.name}).")
                if all(keras_history(t) is not None for t in flat_inputs if isinstance(t, Tensor)) and flat_inputs \
                        and all(isinstance(t, Tensor) for t in flat_inputs):
                    if training_by_framework:
                        _set_arg("training", None, arg_names, args, kwargs, pop=True)
                    if mask_by_framework:
                        kwargs.pop("mask", None)
                    outputs = self._set_connectivity_metadata([inputs] + list(args), kwargs, outputs)
                self._handle_activity_regularization(inputs, outputs)
                self._set_mask_metadata(inputs, outputs, masks)
        finally:
            _CALL_CONTEXT.frames.pop()
        return outputs

    def _name_scope(self) -> str:
        return self.name

    def _maybe_build(self, inputs: Any) -> None:
        if self.built:
            return
        flat = nest.flatten(inputs)
        if self._dtype is None and flat and hasattr(flat[0], "dtype"):
            self._dtype = flat[0].dtype.base_dtype.name
        shapes = nest.map_structure(lambda t: t.shape if hasattr(t, "shape") else None, inputs)
        if isinstance(shapes, tuple):
            shapes = list(shapes)
        self.build(shapes)
        Layer.build(self, shapes)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _maybe_cast_inputs(self, inputs: Any) -> Any:
        if not self._autocast:
            return inputs
        target = dtypes_lib.as_dtype(self._compute_dtype)
        if not target.is_floating:
            return inputs

        def cast(value: Any) -> Any:
            if isinstance(value, Tensor) and value.dtype.base_dtype.is_floating and value.dtype.base_dtype != target:
                return tf.cast(value, target)
            return value

        return nest.map_structure(cast, inputs)

    def _set_connectivity_metadata(self, args: list, kwargs: dict, outputs: Any) -> Any:
        input_ids = {id(t) for t in nest.flatten((args, list(kwargs.values())))}
        copies = []
        for output in nest.flatten(outputs):
            if id(output) in input_ids:
                output = tf.identity(output)
            copies.append(output)
        outputs = nest.pack_sequence_as(outputs, copies)
        Node(self, call_args=args, call_kwargs=kwargs, outputs=outputs)
        return outputs

    def _handle_activity_regularization(self, inputs: Any, outputs: Any) -> None:
        if self._activity_regularizer is None:
            return
        with tf.name_scope("ActivityRegularizer"):
            for output in nest.flatten(outputs):
                loss = tf.convert_to_tensor(self._activity_regularizer(output))
                batch_size = tf.cast(tf.shape(output)[0], loss.dtype)
                self.add_loss(loss / batch_size, inputs=inputs)

    def _set_mask_metadata(self, inputs: Any, outputs: Any, previous_mask: Any) -> None:
        flat_outputs = nest.flatten(outputs)
        if all(keras_mask(o) is not None for o in flat_outputs):
            return
        output_masks = self.compute_mask(inputs, previous_mask)
        if output_masks is None:
            return
        flat_masks = nest.flatten(output_masks)
        if len(flat_masks) == len(flat_outputs):
            for output, mask in zip(flat_outputs, flat_masks):
                set_keras_mask(output, mask)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if not self.supports_masking:
            if any(m is not None for m in nest.flatten(mask)):
                raise TypeError(f"Layer {self.name} does not support masking, but was passed an input_mask: {mask}")
            return None
        return mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        raise NotImplementedError(f"Please run in eager mode or implement the compute_output_shape method on your "
                                  f"layer ({type(self).__name__}).")

    # ------------------------------------------------------------------- nodes: inputs, outputs
    def _node_attribute(self, attr: str, what: str) -> Any:
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no input to return." if what == "input"
                                 else f"Layer {self.name} has no inbound nodes.")
        if len(self._inbound_nodes) > 1:
            raise AttributeError(f'Layer {self.name} has multiple inbound nodes, hence the notion of "layer {what}" '
                                 f"is ill-defined. Use `get_{what}_at(node_index)` instead.")
        value = getattr(self._inbound_nodes[0], attr)
        if isinstance(value, list) and len(value) == 1:
            return value[0]
        return value

    @property
    def input(self) -> Any:
        return self._node_attribute("input_tensors", "input")

    @property
    def output(self) -> Any:
        return self._node_attribute("output_tensors", "output")

    @property
    def input_shape(self) -> Any:
        if not self._inbound_nodes:
            raise AttributeError(f'The layer "{self.name}" has never been called and thus has no defined input shape. '
                                 "Note that the `input_shape` property is only available for Functional and "
                                 "Sequential models.")
        shapes = [node.input_shapes for node in self._inbound_nodes]
        if len({str(s) for s in shapes}) == 1:
            return shapes[0]
        raise AttributeError(f'The layer "{self.name} has multiple inbound nodes, with different input shapes. Hence '
                             'the notion of "input shape" is ill-defined for the layer. Use '
                             "`get_input_shape_at(node_index)` instead.")

    @property
    def output_shape(self) -> Any:
        if not self._inbound_nodes:
            raise AttributeError("The layer has never been called and thus has no defined output shape.")
        shapes = [node.output_shapes for node in self._inbound_nodes]
        if len({str(s) for s in shapes}) == 1:
            return shapes[0]
        raise AttributeError(f'The layer "{self.name}" has multiple inbound nodes, with different output shapes. Hence '
                             'the notion of "output shape" is ill-defined for the layer. Use '
                             "`get_output_shape_at(node_index)` instead.")

    def get_input_at(self, node_index: int) -> Any:
        value = self._inbound_nodes[node_index].input_tensors
        return value[0] if isinstance(value, list) and len(value) == 1 else value

    def get_output_at(self, node_index: int) -> Any:
        value = self._inbound_nodes[node_index].output_tensors
        return value[0] if isinstance(value, list) and len(value) == 1 else value

    # ------------------------------------------------------------------------- serialization
    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if hasattr(self, "_batch_input_shape"):
            config["batch_input_shape"] = self._batch_input_shape
        config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object at {hex(id(self))}>"


class _WeightRegularization:
    """A weight's regularization loss, built on first use under `<variable name>/Regularizer`."""

    def __init__(self, variable: Any, regularizer: Any):
        self.variable = variable
        self.regularizer = regularizer
        self.loss: Any = None

    def __call__(self) -> Any:
        if self.loss is None:
            graph = self.variable.graph
            with graph.as_default(), graph.name_scope(None), graph.name_scope(f"{self.variable.op.name}/Regularizer"):
                self.loss = self.regularizer(self.variable)
        return self.loss


class _CachedLoss:
    def __init__(self, fn: Any):
        self.fn = fn
        self.loss: Any = None

    def __call__(self) -> Any:
        if self.loss is None:
            value = self.fn()
            self.loss = tf.convert_to_tensor(value) if value is not None else None
        return self.loss


def floatx_name() -> str:
    return K.floatx()


def _layers_in(value: Any) -> list[Layer]:
    if isinstance(value, Layer):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, Layer)]
    if isinstance(value, dict):
        return [v for v in value.values() if isinstance(v, Layer)]
    return []


def _dedup(weights: list[Any]) -> list[Any]:
    seen: set[int] = set()
    unique = []
    for weight in weights:
        if id(weight) not in seen:
            seen.add(id(weight))
            unique.append(weight)
    return unique


def _passed(name: str, arg_names: list[str], args: list, kwargs: dict) -> bool:
    if name in kwargs:
        return True
    if name in arg_names:
        position = arg_names.index(name) - 1
        return 0 <= position < len(args)
    return False


def _get_arg(name: str, arg_names: list[str], args: list, kwargs: dict) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[arg_names.index(name) - 1]


def _set_arg(name: str, value: Any, arg_names: list[str], args: list, kwargs: dict, pop: bool = False) -> None:
    if name in arg_names and 0 <= arg_names.index(name) - 1 < len(args):
        args[arg_names.index(name) - 1] = value
    elif pop and value is None:
        kwargs.pop(name, None)
    else:
        kwargs[name] = value
