"""`tf.train`: optimizers and the global step."""
from caudal.train.adadelta import AdadeltaOptimizer
from caudal.train.adagrad import AdagradOptimizer
from caudal.train.adam import AdamOptimizer
from caudal.train.ftrl import FtrlOptimizer
from caudal.train.gradient_descent import GradientDescentOptimizer
from caudal.train.learning_rate_decay import (
    cosine_decay,
    cosine_decay_restarts,
    exponential_decay,
    inverse_time_decay,
    linear_cosine_decay,
    natural_exp_decay,
    piecewise_constant,
    piecewise_constant_decay,
    polynomial_decay,
)
from caudal.train.momentum import MomentumOptimizer
from caudal.train.moving_averages import ExponentialMovingAverage
from caudal.train.optimizer import Optimizer
from caudal.train.proximal_adagrad import ProximalAdagradOptimizer
from caudal.train.proximal_gradient_descent import ProximalGradientDescentOptimizer
from caudal.train.rmsprop import RMSPropOptimizer
from caudal.train.training_util import (
    create_global_step,
    get_global_step,
    get_or_create_global_step,
    global_step,
)

__all__ = ["write_graph", "Optimizer", "GradientDescentOptimizer", "create_global_step", "get_global_step",
           "get_or_create_global_step", "global_step", "AdadeltaOptimizer", "AdagradOptimizer", "AdamOptimizer",
           "FtrlOptimizer", "MomentumOptimizer", "ProximalAdagradOptimizer", "ProximalGradientDescentOptimizer",
           "RMSPropOptimizer", "ExponentialMovingAverage", "cosine_decay", "cosine_decay_restarts",
           "exponential_decay", "inverse_time_decay", "linear_cosine_decay", "natural_exp_decay", "piecewise_constant",
           "piecewise_constant_decay", "polynomial_decay"]


def __getattr__(name: str) -> object:
    """`tf.train.write_graph` loads protobuf, so it is imported on first use."""
    if name == "write_graph":
        from caudal.framework.graph_io import write_graph

        globals()["write_graph"] = write_graph
        return write_graph
    raise AttributeError(f"module 'caudal.train' has no attribute {name!r}")
