"""Serving input receivers (`tf.estimator.export.ServingInputReceiver`, the `build_*_serving_input_receiver_fn`s)
and the signature and directory helpers `Estimator.export_saved_model` uses, as TF's `export_lib`."""
from __future__ import annotations

import collections
import logging
import os
import time
from typing import Any

from caudal.estimator.export import export_output as export_output_lib
from caudal.framework.tensor import Tensor

__all__ = ["ServingInputReceiver", "TensorServingInputReceiver", "build_parsing_serving_input_receiver_fn",
           "build_raw_serving_input_receiver_fn", "build_all_signature_defs", "get_timestamped_export_dir",
           "get_temp_export_dir", "get_export_outputs"]

_logger = logging.getLogger("caudal")
SINGLE_FEATURE_DEFAULT_NAME = "feature"
SINGLE_RECEIVER_DEFAULT_NAME = "input"
SINGLE_LABEL_DEFAULT_NAME = "label"
_SINGLE_TENSOR_DEFAULT_NAMES = {"feature": SINGLE_FEATURE_DEFAULT_NAME, "label": SINGLE_LABEL_DEFAULT_NAME,
                                "receiver_tensor": SINGLE_RECEIVER_DEFAULT_NAME,
                                "receiver_tensors_alternative": SINGLE_RECEIVER_DEFAULT_NAME}
MAX_DIRECTORY_CREATION_ATTEMPTS = 10


def _is_sparse(value: Any) -> bool:
    from caudal.framework.sparse_tensor import SparseTensor

    return isinstance(value, SparseTensor)


def _check_tensor(tensor: Any, name: Any, error_label: str = "feature") -> None:
    if not (isinstance(tensor, Tensor) or _is_sparse(tensor)):
        fmt_name = f" {name}" if name else ""
        raise ValueError(f"{error_label}{fmt_name} must be a Tensor, SparseTensor, or RaggedTensor.")


def _check_tensor_key(name: Any, error_label: str = "feature", allow_ints: bool = False) -> None:
    if not isinstance(name, str):
        if not allow_ints:
            raise ValueError(f"{error_label} keys must be strings: {name}.")
        if not isinstance(name, int):
            raise ValueError(f"{error_label} keys must be strings or ints: {name}.")


def wrap_and_check_input_tensors(tensors: Any, field_name: str, allow_int_keys: bool = False) -> dict:
    """`tensors` as a dict (a single tensor under its default name), each key and value checked."""
    if tensors is None:
        raise ValueError(f"{field_name}s must be defined.")
    if not isinstance(tensors, dict):
        tensors = {_SINGLE_TENSOR_DEFAULT_NAMES[field_name]: tensors}
    for name, tensor in tensors.items():
        _check_tensor_key(name, error_label=field_name, allow_ints=allow_int_keys)
        _check_tensor(tensor, name, error_label=field_name)
    return tensors


class ServingInputReceiver(collections.namedtuple(
        "ServingInputReceiver", ["features", "receiver_tensors", "receiver_tensors_alternatives"])):
    """`tf.estimator.export.ServingInputReceiver(features, receiver_tensors, receiver_tensors_alternatives=None)`:
    the features the model_fn gets and the tensors a serving request feeds (both made dicts)."""

    def __new__(cls, features: Any, receiver_tensors: Any, receiver_tensors_alternatives: Any = None):
        features = wrap_and_check_input_tensors(features, "feature", allow_int_keys=True)
        receiver_tensors = wrap_and_check_input_tensors(receiver_tensors, "receiver_tensor")
        if receiver_tensors_alternatives is not None:
            if not isinstance(receiver_tensors_alternatives, dict):
                raise ValueError(f"receiver_tensors_alternatives must be a dict: {receiver_tensors_alternatives}.")
            for name, alternative in receiver_tensors_alternatives.items():
                receiver_tensors_alternatives[name] = wrap_and_check_input_tensors(
                    alternative, "receiver_tensors_alternative")
        return super().__new__(cls, features=features, receiver_tensors=receiver_tensors,
                               receiver_tensors_alternatives=receiver_tensors_alternatives)


class TensorServingInputReceiver(collections.namedtuple(
        "TensorServingInputReceiver", ["features", "receiver_tensors", "receiver_tensors_alternatives"])):
    """`tf.estimator.export.TensorServingInputReceiver`: like ServingInputReceiver, but the model_fn gets the
    single feature tensor itself rather than a dict."""

    def __new__(cls, features: Any, receiver_tensors: Any, receiver_tensors_alternatives: Any = None):
        if features is None:
            raise ValueError("features must be defined.")
        _check_tensor(features, None)
        receiver = ServingInputReceiver(features=features, receiver_tensors=receiver_tensors,
                                        receiver_tensors_alternatives=receiver_tensors_alternatives)
        return super().__new__(cls, features=receiver.features[SINGLE_FEATURE_DEFAULT_NAME],
                               receiver_tensors=receiver.receiver_tensors,
                               receiver_tensors_alternatives=receiver.receiver_tensors_alternatives)


def build_parsing_serving_input_receiver_fn(feature_spec: dict, default_batch_size: int | None = None) -> Any:
    """A receiver fn taking serialized `tf.Example`s (placeholder `input_example_tensor`, receiver key
    `examples`) and parsing them with `feature_spec`."""

    def serving_input_receiver_fn() -> ServingInputReceiver:
        from caudal.framework import dtypes
        from caudal.ops.constant_ops import placeholder
        from caudal.ops.parsing_ops import parse_example

        serialized = placeholder(dtype=dtypes.string, shape=[default_batch_size], name="input_example_tensor")
        features = parse_example(serialized, feature_spec)
        return ServingInputReceiver(features, {"examples": serialized})

    return serving_input_receiver_fn


def _placeholder_from_tensor(t: Any, default_batch_size: int | None = None) -> Tensor:
    from caudal.framework.tensor_shape import TensorShape
    from caudal.ops.constant_ops import placeholder

    shape = TensorShape([default_batch_size]).concatenate(t.get_shape()[1:])
    return placeholder(dtype=t.dtype, shape=shape, name=t.op.name)


def build_raw_serving_input_receiver_fn(features: dict, default_batch_size: int | None = None) -> Any:
    """A receiver fn whose receiver tensors are placeholders shaped like `features` (batch dimension
    `default_batch_size`), named after them and passed to the model_fn unchanged."""

    def serving_input_receiver_fn() -> ServingInputReceiver:
        receiver_tensors = {name: _placeholder_from_tensor(t, default_batch_size) for name, t in features.items()}
        return ServingInputReceiver(receiver_tensors, receiver_tensors)

    return serving_input_receiver_fn


# ----------------------------------------------------------------------------------------- export_lib helpers
def get_export_outputs(export_outputs: Any, predictions: Any) -> dict:
    """`export_outputs` checked, or `{'serving_default': PredictOutput(predictions)}`; a single output is also
    the default serving one; several without a default are a ValueError."""
    from caudal.saved_model.constants import DEFAULT_SERVING_SIGNATURE_DEF_KEY

    if export_outputs is None:
        export_outputs = {DEFAULT_SERVING_SIGNATURE_DEF_KEY: export_output_lib.PredictOutput(predictions)}
    if not isinstance(export_outputs, dict):
        raise TypeError(f"`export_outputs` must be dict, received: {export_outputs}.")
    for value in export_outputs.values():
        if not isinstance(value, export_output_lib.ExportOutput):
            raise TypeError(f"Values in `export_outputs` must be ExportOutput objects, received: {export_outputs}.")
    if len(export_outputs) == 1:
        ((key, value),) = export_outputs.items()
        if key != DEFAULT_SERVING_SIGNATURE_DEF_KEY:
            export_outputs[DEFAULT_SERVING_SIGNATURE_DEF_KEY] = value
    if len(export_outputs) > 1 and DEFAULT_SERVING_SIGNATURE_DEF_KEY not in export_outputs:
        raise ValueError("Multiple `export_outputs` were provided, but none of them are specified as the default. "
                         "Use`tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY` to specify a default.")
    return export_outputs


def _ensure_servable(input_tensors: list[Tensor], output_tensors: dict[str, Tensor]) -> None:
    """A ValueError if an output depends on a placeholder that is not a signature input."""
    fed = {id(t) for t in input_tensors}
    path_of: dict[int, list[str]] = {}
    stack = []
    for tensor in output_tensors.values():
        if id(tensor) not in fed and id(tensor.op) not in path_of:
            path_of[id(tensor.op)] = [tensor.op.name]
            stack.append(tensor.op)
    while stack:
        op = stack.pop()
        if op.type == "Placeholder" and not all(id(out) in fed for out in op.outputs):
            raise ValueError(
                f"The signature's input tensors {[t.name for t in input_tensors]} are insufficient to compute its "
                f"output keys {list(output_tensors)} (respectively, tensors "
                f"{[t.name for t in output_tensors.values()]}) because of the dependency on `{op.name}` which is "
                "not given as a signature input, as illustrated by the following dependency path: "
                f"{' <- '.join(reversed(path_of[id(op)]))}")
        for parent in list(op.inputs) + list(op.control_inputs):
            parent_op = parent if not hasattr(parent, "op") else parent.op
            if hasattr(parent, "op") and id(parent) in fed:
                continue
            if id(parent_op) not in path_of:
                path_of[id(parent_op)] = path_of[id(op)] + [parent_op.name]
                stack.append(parent_op)


def build_all_signature_defs(receiver_tensors: Any, export_outputs: dict, receiver_tensors_alternatives: Any = None,
                             serving_only: bool = True) -> dict:
    """One SignatureDef per export output (and per alternative receiver), leaving out, with TF's log lines,
    those an output cannot serve (a classify signature without a single string input)."""
    from caudal.saved_model.signature_def_utils import is_valid_signature
    from caudal.saved_model.utils import get_tensor_from_tensor_info

    if not isinstance(receiver_tensors, dict):
        receiver_tensors = {SINGLE_RECEIVER_DEFAULT_NAME: receiver_tensors}
    if export_outputs is None or not isinstance(export_outputs, dict):
        raise ValueError(f"`export_outputs` must be a dict. Received {export_outputs} with type "
                         f"{type(export_outputs).__name__}.")
    receivers = [(None, receiver_tensors)]
    for name, alternative in (receiver_tensors_alternatives or {}).items():
        if not isinstance(alternative, dict):
            alternative = {SINGLE_RECEIVER_DEFAULT_NAME: alternative}
        receivers.append((name, alternative))
    signature_def_map: dict[str, Any] = {}
    excluded: dict[str, str] = {}
    for receiver_name, tensors in receivers:
        for output_key, export_output in export_outputs.items():
            signature_name = f"{output_key or 'None'}"
            if receiver_name is not None:
                signature_name = f"{receiver_name}:{output_key or 'None'}"
            try:
                signature = export_output.as_signature_def(tensors)
                outputs = {key: get_tensor_from_tensor_info(info) for key, info in signature.outputs.items()}
                _ensure_servable([t for t in tensors.values() if isinstance(t, Tensor)], outputs)
                signature_def_map[signature_name] = signature
            except ValueError as e:
                excluded[signature_name] = str(e)
    _log_signature_report(signature_def_map, excluded)
    if serving_only:
        signature_def_map = {k: v for k, v in signature_def_map.items() if is_valid_signature(v)}
    return signature_def_map


_FRIENDLY_METHOD_NAMES = {"tensorflow/serving/classify": "Classify", "tensorflow/serving/regress": "Regress",
                          "tensorflow/serving/predict": "Predict", "tensorflow/supervised/training": "Train",
                          "tensorflow/supervised/eval": "Eval"}


def _log_signature_report(signature_def_map: dict, excluded: dict) -> None:
    by_method: dict[str, list[str]] = {method: [] for method in _FRIENDLY_METHOD_NAMES}
    for name, signature in signature_def_map.items():
        by_method.setdefault(signature.method_name, []).append(name)
    for method, names in by_method.items():
        _logger.info("Signatures INCLUDED in export for %s: %s", _FRIENDLY_METHOD_NAMES.get(method, method),
                     names if names else "None")
    if excluded:
        _logger.info("Signatures EXCLUDED from export because they cannot be be served via TensorFlow Serving APIs:")
        for name, message in excluded.items():
            _logger.info("'%s' : %s", name, message)
    if not signature_def_map:
        _logger.warning("Export includes no signatures!")
    elif "serving_default" not in signature_def_map:
        _logger.warning("Export includes no default signature!")


def get_timestamped_export_dir(export_dir_base: str) -> bytes:
    """`export_dir_base/<seconds since the epoch>` (bytes, as TF), waiting a second while that already exists."""
    for attempt in range(1, MAX_DIRECTORY_CREATION_ATTEMPTS + 1):
        result_dir = os.path.join(os.fsencode(export_dir_base), str(int(time.time())).encode())
        if not os.path.exists(result_dir):
            return result_dir
        time.sleep(1)
        _logger.warning("Directory %s already exists; retrying (attempt %d/%d)", os.fsdecode(result_dir), attempt,
                        MAX_DIRECTORY_CREATION_ATTEMPTS)
    raise RuntimeError("Failed to obtain a unique export directory name after "
                       f"{MAX_DIRECTORY_CREATION_ATTEMPTS} attempts.")


def get_temp_export_dir(timestamped_export_dir: bytes) -> bytes:
    """The sibling `temp-<timestamp>` directory an export is written to before it is renamed."""
    dirname, basename = os.path.split(timestamped_export_dir)
    return os.path.join(dirname, b"temp-" + os.fsencode(basename))
