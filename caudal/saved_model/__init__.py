"""`tf.saved_model` (TF1): SavedModelBuilder, loader.load, simple_save, signatures and constants.

`import caudal` does not load this package (it loads protobuf); `tf.saved_model` does on first use.
"""
from caudal.saved_model import builder, constants, loader, main_op, signature_def_utils, utils
from caudal.saved_model import constants as signature_constants  # noqa: F401
from caudal.saved_model import constants as tag_constants  # noqa: F401 - TF's module names
from caudal.saved_model.builder import SavedModelBuilder, simple_save
from caudal.saved_model.constants import (
    CLASSIFY_INPUTS,
    CLASSIFY_METHOD_NAME,
    CLASSIFY_OUTPUT_CLASSES,
    CLASSIFY_OUTPUT_SCORES,
    DEFAULT_SERVING_SIGNATURE_DEF_KEY,
    GPU,
    PREDICT_INPUTS,
    PREDICT_METHOD_NAME,
    PREDICT_OUTPUTS,
    REGRESS_INPUTS,
    REGRESS_METHOD_NAME,
    REGRESS_OUTPUTS,
    SERVING,
    TPU,
    TRAINING,
)
from caudal.saved_model.loader import contains_saved_model, load, maybe_saved_model_directory
from caudal.saved_model.signature_def_utils import (
    build_signature_def,
    classification_signature_def,
    is_valid_signature,
    predict_signature_def,
    regression_signature_def,
)
from caudal.saved_model.utils import build_tensor_info, get_tensor_from_tensor_info

Builder = SavedModelBuilder

__all__ = ["Builder", "SavedModelBuilder", "simple_save", "load", "loader", "builder", "utils", "constants",
           "tag_constants", "signature_constants", "signature_def_utils", "build_tensor_info",
           "get_tensor_from_tensor_info", "build_signature_def", "predict_signature_def",
           "classification_signature_def", "regression_signature_def", "is_valid_signature",
           "maybe_saved_model_directory", "contains_saved_model", "main_op", "SERVING", "TRAINING", "GPU", "TPU",
           "DEFAULT_SERVING_SIGNATURE_DEF_KEY", "PREDICT_METHOD_NAME", "PREDICT_INPUTS", "PREDICT_OUTPUTS",
           "CLASSIFY_METHOD_NAME", "CLASSIFY_INPUTS", "CLASSIFY_OUTPUT_CLASSES", "CLASSIFY_OUTPUT_SCORES",
           "REGRESS_METHOD_NAME", "REGRESS_INPUTS", "REGRESS_OUTPUTS"]

