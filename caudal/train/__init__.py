"""`tf.train`: optimizers and the global step."""
from caudal.train.gradient_descent import GradientDescentOptimizer
from caudal.train.optimizer import Optimizer
from caudal.train.training_util import (
    create_global_step,
    get_global_step,
    get_or_create_global_step,
    global_step,
)

__all__ = ["Optimizer", "GradientDescentOptimizer", "create_global_step", "get_global_step",
           "get_or_create_global_step", "global_step"]
