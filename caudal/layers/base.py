"""`tf.layers.Layer`: TF1's layer base, with its variable scoping and naming.

A layer owns a variable scope chosen on first call: its `name` if given,
else a unique default (`dense`, `dense_1`, ...). Variables are created with
`get_variable` inside that scope (`dense/kernel`), so names line up with TF1
checkpoints; ops are created inside the scope's name scope (`dense/MatMul`).
Calling the same layer object again reuses its variables.
"""
from __future__ import annotations

import re
from typing import Any

from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, get_default_graph
from caudal.framework.tensor import Tensor
from caudal.framework.tensor_shape import TensorShape
from caudal.variable_scope import get_variable, variable_scope


def _snake_case(name: str) -> str:
    """TF's default layer names: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d, Conv2DTranspose ->
    conv2d_transpose. A capitalised word starts a new part; digits stay with what precedes them."""
    words = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", words).lower()


class Layer:
    """Base class: `build(input_shape)` creates variables, `call(inputs)` builds the ops."""

    def __init__(self, trainable: bool = True, name: str | None = None, dtype: Any = None,
                 activity_regularizer: Any = None, _reuse: Any = None, _scope: Any = None, **kwargs: Any):
        self.trainable = trainable
        self._name = name
        self._base_name = name or _snake_case(type(self).__name__)
        self.dtype = dtype
        self.activity_regularizer = activity_regularizer
        self._reuse = _reuse
        self._scope: Any = _scope
        self.built = False
        self._trainable_weights: list[Any] = []
        self._non_trainable_weights: list[Any] = []
        self._losses: list[Tensor] = []
        self._updates: list[Any] = []
        self.input_spec = None

    # ----------------------------------------------------------------- names
    @property
    def name(self) -> str:
        return self._scope.name if self._scope is not None else self._base_name

    @property
    def scope_name(self) -> str:
        return self._scope.name

    # --------------------------------------------------------------- weights
    @property
    def trainable_weights(self) -> list[Any]:
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Any]:
        if self.trainable:
            return list(self._non_trainable_weights)
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def weights(self) -> list[Any]:
        return self.trainable_weights + self.non_trainable_weights

    variables = weights

    @property
    def losses(self) -> list[Tensor]:
        return list(self._losses)

    @property
    def updates(self) -> list[Any]:
        return list(self._updates)

    def add_loss(self, losses: Any, inputs: Any = None) -> None:
        items = losses if isinstance(losses, (list, tuple)) else [losses]
        for loss in items:
            if loss is not None:
                self._losses.append(loss)
                get_default_graph().add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)

    def add_update(self, updates: Any, inputs: Any = None) -> None:
        items = updates if isinstance(updates, (list, tuple)) else [updates]
        for update in items:
            self._updates.append(update)
            get_default_graph().add_to_collection(GraphKeys.UPDATE_OPS, update)

    def add_weight(self, name: str, shape: Any, dtype: Any = None, initializer: Any = None,
                   regularizer: Any = None, trainable: bool = True, constraint: Any = None,
                   collections: Any = None, **kwargs: Any) -> Any:
        """A variable `<scope>/<name>` made with get_variable; its regularization loss is collected."""
        from caudal.framework import dtypes

        dtype = dtypes.as_dtype(dtype or self.dtype or dtypes.float32).base_dtype
        trainable = trainable and self.trainable
        if collections is None and not trainable:
            collections = [GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES]
        graph = get_default_graph()
        existing = set(graph.get_collection(GraphKeys.GLOBAL_VARIABLES)) if regularizer is not None else set()
        variable = get_variable(name, shape=shape, dtype=dtype, initializer=initializer, trainable=trainable,
                                collections=collections, constraint=constraint)
        if trainable:
            if variable not in self._trainable_weights:
                self._trainable_weights.append(variable)
        elif variable not in self._non_trainable_weights:
            self._non_trainable_weights.append(variable)
        if regularizer is not None and variable not in existing:
            # As TF: `<layer scope>/<short name>/Regularizer/`, also when a custom getter renamed the variable.
            if self._scope is not None:
                loss_scope = f"{self._scope.original_name_scope}{name}/Regularizer/"
            else:
                loss_scope = variable.op.name + "/Regularizer/"
            with graph.name_scope(None), graph.name_scope(loss_scope):
                loss = regularizer(variable)
            if loss is not None:
                self.add_loss(loss)
        return variable

    # ------------------------------------------------------------ calling
    def build(self, input_shape: TensorShape) -> None:
        self.built = True

    def call(self, inputs: Tensor, **kwargs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> TensorShape:
        raise NotImplementedError

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        graph = get_default_graph()
        if self._scope is None:
            with variable_scope(self._name, default_name=self._base_name if self._name is None else None,
                                reuse=self._reuse) as scope:
                self._scope = scope
        reuse = True if self.built else self._reuse
        with variable_scope(self._scope, reuse=reuse, auxiliary_name_scope=False):
            with graph.name_scope(self._scope.original_name_scope):
                if not isinstance(inputs, (list, tuple)):
                    inputs = convert_to_tensor(inputs)
                if not self.built:
                    shape = inputs.shape if isinstance(inputs, Tensor) else [t.shape for t in inputs]
                    self.build(shape)
                    self.built = True
                outputs = self.call(inputs, *args, **kwargs)
                if self.activity_regularizer is not None:
                    with graph.name_scope("ActivityRegularizer"):
                        self.add_loss(self.activity_regularizer(outputs))
        return outputs

    def apply(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return self.__call__(inputs, *args, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
