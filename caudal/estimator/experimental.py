"""`tf.estimator.experimental` (TF 1.x): the logit-function builders of the pre-made Estimators and
`call_logit_fn`."""
from caudal.estimator.canned.dnn import dnn_logit_fn_builder
from caudal.estimator.canned.linear import linear_logit_fn_builder
from caudal.estimator.model_fn import call_logit_fn

__all__ = ["call_logit_fn", "dnn_logit_fn_builder", "linear_logit_fn_builder"]
