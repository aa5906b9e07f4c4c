"""`tf.estimator.export.ExportOutput`s: what a served model returns, each becoming one SignatureDef.

`PredictOutput` gives a predict signature of the receiver tensors and named
outputs; `ClassificationOutput` and `RegressionOutput` give classify and
regress signatures, which take exactly one string input (serialized
`tf.Example`s) and raise ValueError otherwise, with TF's messages.
"""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.framework.tensor import Tensor

__all__ = ["ExportOutput", "PredictOutput", "ClassificationOutput", "RegressionOutput"]

_SINGLE_STRING_INPUT = ("{} signatures can only accept a single tensor input of type tf.string. Please check to make "
                        "sure that you have structured the serving_input_receiver_fn so that it creates a single "
                        "string placeholder. If your model function expects multiple inputs, then use "
                        "`tf.io.parse_example()` to parse the string into multiple tensors.\n Received: {}")


def _single_string_input(receiver_tensors: dict[str, Any], kind: str) -> Tensor:
    if len(receiver_tensors) != 1:
        raise ValueError(_SINGLE_STRING_INPUT.format(kind, receiver_tensors))
    ((_, examples),) = receiver_tensors.items()
    if examples.dtype.base_dtype != dtypes_lib.string:
        raise ValueError(_SINGLE_STRING_INPUT.format(kind, receiver_tensors))
    return examples


class ExportOutput:
    """An output of a model that can be served; `as_signature_def(receiver_tensors)` gives its SignatureDef."""

    _SEPARATOR_CHAR = "/"

    def as_signature_def(self, receiver_tensors: dict[str, Any]) -> Any:
        raise NotImplementedError("ExportOutput.as_signature_def is abstract.")

    def _check_output_key(self, key: Any, error_label: str) -> str:
        if isinstance(key, tuple):
            key = self._SEPARATOR_CHAR.join(key)
        if not isinstance(key, str):
            raise ValueError(f"{error_label} output key must be a string; got {key}.")
        return key

    def _wrap_and_check_outputs(self, outputs: Any, single_output_default_name: str,
                                error_label: str | None = None) -> dict[str, Tensor]:
        if not isinstance(outputs, dict):
            outputs = {single_output_default_name: outputs}
        error_name = error_label or single_output_default_name
        checked = {}
        for key, value in outputs.items():
            key = self._check_output_key(key, error_name)
            if not isinstance(value, Tensor):
                raise ValueError(f"{error_name} output value must be a Tensor; got {value}.")
            checked[key] = value
        return checked


class ClassificationOutput(ExportOutput):
    """`tf.estimator.export.ClassificationOutput(scores=None, classes=None)`: float scores and/or string classes."""

    def __init__(self, scores: Any = None, classes: Any = None):
        if scores is not None and not (isinstance(scores, Tensor) and scores.dtype.is_floating):
            raise ValueError(f"Classification scores must be a float32 Tensor; got {scores}")
        if classes is not None and not (isinstance(classes, Tensor)
                                        and classes.dtype.base_dtype == dtypes_lib.string):
            raise ValueError(f"Classification classes must be a string Tensor; got {classes}")
        if scores is None and classes is None:
            raise ValueError("Cannot create a ClassificationOutput with empty arguments. At least one of `scores` "
                             "and `classes` must be defined.")
        self._scores = scores
        self._classes = classes

    @property
    def scores(self) -> Any:
        return self._scores

    @property
    def classes(self) -> Any:
        return self._classes

    def as_signature_def(self, receiver_tensors: dict[str, Any]) -> Any:
        from caudal.saved_model.signature_def_utils import classification_signature_def

        examples = _single_string_input(receiver_tensors, "Classification")
        return classification_signature_def(examples, self.classes, self.scores)


class RegressionOutput(ExportOutput):
    """`tf.estimator.export.RegressionOutput(value)`: a float tensor of predicted values."""

    def __init__(self, value: Any):
        if not (isinstance(value, Tensor) and value.dtype.is_floating):
            raise ValueError(f"Regression output value must be a float32 Tensor; got {value}")
        self._value = value

    @property
    def value(self) -> Any:
        return self._value

    def as_signature_def(self, receiver_tensors: dict[str, Any]) -> Any:
        from caudal.saved_model.signature_def_utils import regression_signature_def

        examples = _single_string_input(receiver_tensors, "Regression")
        return regression_signature_def(examples, self.value)


class PredictOutput(ExportOutput):
    """`tf.estimator.export.PredictOutput(outputs)`: a tensor (named 'output') or a dict of named tensors."""

    _SINGLE_OUTPUT_DEFAULT_NAME = "output"

    def __init__(self, outputs: Any):
        self._outputs = self._wrap_and_check_outputs(outputs, self._SINGLE_OUTPUT_DEFAULT_NAME,
                                                     error_label="Prediction")

    @property
    def outputs(self) -> dict[str, Tensor]:
        return self._outputs

    def as_signature_def(self, receiver_tensors: dict[str, Any]) -> Any:
        from caudal.saved_model.signature_def_utils import predict_signature_def

        return predict_signature_def(receiver_tensors, self.outputs)
