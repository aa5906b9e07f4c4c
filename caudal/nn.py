"""`tf.nn`: neural-network ops (re-exports only)."""
from caudal.ops.math_ops import sigmoid, tanh
from caudal.ops.nn_ops import log_softmax, relu, softmax

__all__ = ["log_softmax", "relu", "sigmoid", "softmax", "tanh"]
