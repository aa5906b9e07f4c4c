"""`tf.saved_model.signature_def_utils`: SignatureDefs, the named inputs and outputs a serving system calls."""
from __future__ import annotations

from typing import Any

from caudal.framework import dtypes as dtypes_lib
from caudal.proto import meta_graph_pb2
from caudal.saved_model import constants
from caudal.saved_model.utils import build_tensor_info

__all__ = ["build_signature_def", "predict_signature_def", "classification_signature_def",
           "regression_signature_def", "is_valid_signature"]


def build_signature_def(inputs: dict[str, Any] | None = None, outputs: dict[str, Any] | None = None,
                        method_name: str | None = None, defaults: Any = None) -> meta_graph_pb2.SignatureDef:
    """A SignatureDef of TensorInfo maps and a method name."""
    signature = meta_graph_pb2.SignatureDef()
    for key, info in (inputs or {}).items():
        signature.inputs[key].CopyFrom(info)
    for key, info in (outputs or {}).items():
        signature.outputs[key].CopyFrom(info)
    if method_name is not None:
        signature.method_name = method_name
    return signature


def _infos(tensors: dict[str, Any], what: str) -> dict[str, Any]:
    if tensors is None or not tensors:
        raise ValueError(f"Prediction {what} cannot be None or empty.")
    return {key: build_tensor_info(t) for key, t in tensors.items()}


def predict_signature_def(inputs: dict[str, Any], outputs: dict[str, Any]) -> meta_graph_pb2.SignatureDef:
    """The `tensorflow/serving/predict` signature of named input and output tensors."""
    return build_signature_def(_infos(inputs, "inputs"), _infos(outputs, "outputs"), constants.PREDICT_METHOD_NAME)


def classification_signature_def(examples: Any, classes: Any, scores: Any) -> meta_graph_pb2.SignatureDef:
    """The `tensorflow/serving/classify` signature: serialized Examples in, classes and/or scores out."""
    if examples is None:
        raise ValueError("Classification `examples` cannot be None.")
    if examples.dtype != dtypes_lib.string:
        raise ValueError(f"Classification `examples` must be a string Tensor. Found `examples` of dtype "
                         f"{examples.dtype!r}.")
    if classes is None and scores is None:
        raise ValueError("Classification `classes` and `scores` cannot both be None.")
    outputs = {}
    if classes is not None:
        if classes.dtype != dtypes_lib.string:
            raise ValueError(f"Classification classes must be a string Tensor. Found `classes` of dtype "
                             f"{classes.dtype!r}.")
        outputs[constants.CLASSIFY_OUTPUT_CLASSES] = build_tensor_info(classes)
    if scores is not None:
        if scores.dtype != dtypes_lib.float32:
            raise ValueError(f"Classification scores must be a float32 Tensor. Found `scores` of dtype "
                             f"{scores.dtype!r}.")
        outputs[constants.CLASSIFY_OUTPUT_SCORES] = build_tensor_info(scores)
    return build_signature_def({constants.CLASSIFY_INPUTS: build_tensor_info(examples)}, outputs,
                               constants.CLASSIFY_METHOD_NAME)


def regression_signature_def(examples: Any, predictions: Any) -> meta_graph_pb2.SignatureDef:
    """The `tensorflow/serving/regress` signature: serialized Examples in, float32 predictions out."""
    if examples is None:
        raise ValueError("Regression `examples` cannot be None.")
    if examples.dtype != dtypes_lib.string:
        raise ValueError(f"Regression `examples` must be a string Tensor. Found `examples` of dtype "
                         f"{examples.dtype!r}.")
    if predictions is None:
        raise ValueError("Regression `predictions` cannot be None.")
    if predictions.dtype != dtypes_lib.float32:
        raise ValueError(f"Regression output must be a float32 Tensor. Found `predictions` of dtype "
                         f"{predictions.dtype!r}.")
    return build_signature_def({constants.REGRESS_INPUTS: build_tensor_info(examples)},
                               {constants.REGRESS_OUTPUTS: build_tensor_info(predictions)},
                               constants.REGRESS_METHOD_NAME)


def is_valid_signature(signature_def: meta_graph_pb2.SignatureDef) -> bool:
    """Whether the signature is a well-formed predict, classify or regress signature."""
    if signature_def is None or not signature_def.method_name:
        return False
    method = signature_def.method_name
    if method == constants.PREDICT_METHOD_NAME:
        return bool(signature_def.inputs) and bool(signature_def.outputs)
    if method == constants.CLASSIFY_METHOD_NAME:
        inputs = signature_def.inputs
        return (set(inputs) == {constants.CLASSIFY_INPUTS} and inputs[constants.CLASSIFY_INPUTS].dtype == 7
                and bool(signature_def.outputs)
                and set(signature_def.outputs) <= {constants.CLASSIFY_OUTPUT_CLASSES, constants.CLASSIFY_OUTPUT_SCORES})
    if method == constants.REGRESS_METHOD_NAME:
        return (set(signature_def.inputs) == {constants.REGRESS_INPUTS}
                and set(signature_def.outputs) == {constants.REGRESS_OUTPUTS})
    return False
