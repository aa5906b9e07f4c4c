"""The optimizer argument of the pre-made Estimators: a name, an Optimizer, or a callable returning one."""
from __future__ import annotations

from typing import Any

__all__ = ["get_optimizer_instance"]


def _optimizer_classes() -> dict[str, Any]:
    from caudal.train.adagrad import AdagradOptimizer
    from caudal.train.adam import AdamOptimizer
    from caudal.train.ftrl import FtrlOptimizer
    from caudal.train.gradient_descent import GradientDescentOptimizer
    from caudal.train.rmsprop import RMSPropOptimizer

    return {"Adagrad": AdagradOptimizer, "Adam": AdamOptimizer, "Ftrl": FtrlOptimizer, "RMSProp": RMSPropOptimizer,
            "SGD": GradientDescentOptimizer}


def get_optimizer_instance(opt: Any, learning_rate: float | None = None) -> Any:
    """TF's rule: a name ('Adagrad', 'Adam', 'Ftrl', 'RMSProp', 'SGD') makes that optimizer with
    `learning_rate`; a callable is called; the result must be a `tf.train.Optimizer`."""
    from caudal.train.optimizer import Optimizer

    if isinstance(opt, str):
        classes = _optimizer_classes()
        if opt in classes:
            if not learning_rate:
                raise ValueError("learning_rate must be specified when opt is string.")
            return classes[opt](learning_rate=learning_rate)
        raise ValueError(f"Unsupported optimizer name: {opt}. Supported names are: {tuple(sorted(classes))}")
    if callable(opt):
        opt = opt()
    if not isinstance(opt, Optimizer):
        raise ValueError(f"The given object is not an Optimizer instance. Given: {opt}")
    return opt
