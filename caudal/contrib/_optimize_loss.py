"""tf.contrib.layers' `optimize_loss` and the summary helpers (`summarize_activations`, ...), as TF 1.15.

`optimize_loss` builds, in variable scope `OptimizeLoss`, the training tensor
of the TF1 contrib.learn era: the loss (after the UPDATE_OPS), once the
optimizer has applied the (optionally noised, multiplied and clipped)
gradients. A float learning rate becomes the non-trainable variable
`OptimizeLoss/learning_rate`. Summaries (default: loss, learning_rate,
global_gradient_norm) are tf.summary ops in the SUMMARIES collection.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from caudal.contrib._variables import assert_global_step, assert_scalar
from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, get_default_graph
from caudal.framework.indexed_slices import IndexedSlices
from caudal.framework.tensor import Tensor

__all__ = ["optimize_loss", "OPTIMIZER_CLS_NAMES", "OPTIMIZER_SUMMARIES", "summarize_activation",
           "summarize_activations", "summarize_tensor", "summarize_tensors", "summarize_collection",
           "summarize_variables", "summarize_weights", "summarize_biases"]

OPTIMIZER_SUMMARIES = ["learning_rate", "loss", "gradients", "gradient_norm", "global_gradient_norm"]


def _momentum_09(learning_rate: Any) -> Any:
    from caudal.train import MomentumOptimizer

    return MomentumOptimizer(learning_rate=learning_rate, momentum=0.9)


def _optimizer_names() -> dict[str, Callable]:
    from caudal import train

    return {"Adagrad": train.AdagradOptimizer, "Adam": train.AdamOptimizer, "Ftrl": train.FtrlOptimizer,
            "Momentum": _momentum_09, "RMSProp": train.RMSPropOptimizer, "SGD": train.GradientDescentOptimizer}


OPTIMIZER_CLS_NAMES = _optimizer_names()


def _add_scaled_noise_to_gradients(grads_and_vars: list, gradient_noise_scale: float) -> list:
    from caudal.ops.array_ops import shape
    from caudal.ops.random_ops import truncated_normal

    noisy = []
    for gradient, variable in grads_and_vars:
        if gradient is None:
            noisy.append((None, variable))
            continue
        noise = truncated_normal(shape(gradient)) * gradient_noise_scale
        noisy.append((gradient + noise, variable))
    return noisy


def _multiply_gradients(grads_and_vars: list, gradient_multipliers: dict) -> list:
    from caudal.ops.math_ops import cast

    multiplied = []
    for gradient, variable in grads_and_vars:
        if gradient is not None and (variable in gradient_multipliers or variable.name in gradient_multipliers):
            key = variable if variable in gradient_multipliers else variable.name
            multiplier = cast(gradient_multipliers[key], gradient.dtype.base_dtype)
            if isinstance(gradient, IndexedSlices):  # the rows scaled, as TF does
                gradient = IndexedSlices(gradient.values * multiplier, gradient.indices, gradient.dense_shape)
            else:
                gradient = gradient * multiplier
        multiplied.append((gradient, variable))
    return multiplied


def _clip_gradients_by_norm(grads_and_vars: list, clip_gradients: float) -> list:
    from caudal.ops.clip_ops import clip_by_global_norm

    gradients, variables = zip(*grads_and_vars)
    clipped, _ = clip_by_global_norm(list(gradients), clip_gradients)
    return list(zip(clipped, variables))


def _make_optimizer(optimizer: Any, learning_rate: Any, lr: Any) -> Any:
    from caudal.train.optimizer import Optimizer

    if isinstance(optimizer, str):
        if lr is None:
            raise ValueError(f"Learning rate is None, but should be specified if optimizer is string "
                             f"({optimizer}).")
        if optimizer not in OPTIMIZER_CLS_NAMES:
            raise ValueError(f"Optimizer name should be one of [{', '.join(OPTIMIZER_CLS_NAMES)}], you provided "
                             f"{optimizer}.")
        return OPTIMIZER_CLS_NAMES[optimizer](learning_rate=lr)
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        if lr is None:
            raise ValueError(f"Learning rate is None, but should be specified if optimizer is class "
                             f"({optimizer}).")
        return optimizer(learning_rate=lr)
    if isinstance(optimizer, Optimizer):
        return optimizer
    if callable(optimizer):
        opt = optimizer(lr) if learning_rate is not None else optimizer()
        if not isinstance(opt, Optimizer):
            raise ValueError(f"Unrecognized optimizer: function should return subclass of Optimizer. Got {opt}.")
        return opt
    raise ValueError(f"Unrecognized optimizer: should be string, subclass of Optimizer, instance of subclass of "
                     f"Optimizer or function with one argument. Got {optimizer}.")


def _learning_rate(learning_rate: Any) -> Any:
    from caudal import init_ops
    from caudal.variable_scope import get_variable

    if learning_rate is None:
        return None
    if isinstance(learning_rate, Tensor) and learning_rate.get_shape().ndims == 0:
        return learning_rate
    if isinstance(learning_rate, float):
        if learning_rate < 0.0:
            raise ValueError(f"Invalid learning_rate {learning_rate}.")
        return get_variable("learning_rate", [], trainable=False,
                            initializer=init_ops.constant_initializer(learning_rate))
    raise ValueError(f"Learning rate should be 0d Tensor or float. Got {learning_rate} of type "
                     f"{type(learning_rate)}")


def optimize_loss(loss: Any, global_step: Any, learning_rate: Any, optimizer: Any,
                  gradient_noise_scale: float | None = None, gradient_multipliers: dict | None = None,
                  clip_gradients: Any = None, learning_rate_decay_fn: Callable | None = None, update_ops: Any = None,
                  variables: Any = None, name: str | None = None, summaries: list[str] | None = None,
                  colocate_gradients_with_ops: bool = False, increment_global_step: bool = True) -> Tensor:
    """The scalar `loss`, computed after one optimizer step on `variables` (the trainable ones by default).

    `optimizer` is a name of OPTIMIZER_CLS_NAMES ('SGD', 'Adam', 'Adagrad', 'Momentum' (0.9), 'RMSProp',
    'Ftrl'), an Optimizer class or instance, or a function of the learning rate returning one.
    `clip_gradients` is a float (clip by global norm) or a function of the (gradient, variable) list.
    `global_step` None means the graph's global step; the step is incremented unless
    `increment_global_step` is False.
    """
    from caudal import summary
    from caudal.ops.clip_ops import global_norm
    from caudal.ops.control_ops import with_dependencies
    from caudal.train.training_util import get_global_step
    from caudal.variable_scope import variable_scope
    from caudal.variables import trainable_variables

    loss = convert_to_tensor(loss)
    assert_scalar(loss)
    if global_step is None:
        global_step = get_global_step()
    else:
        assert_global_step(global_step)
    graph = get_default_graph()
    with variable_scope(name, "OptimizeLoss", [loss, global_step]):
        if update_ops is None:
            update_ops = set(graph.get_collection(GraphKeys.UPDATE_OPS))
        if update_ops:
            loss = with_dependencies(sorted(update_ops, key=lambda t: t.name), loss)
        lr = _learning_rate(learning_rate)
        if summaries is None:
            summaries = ["loss", "learning_rate", "global_gradient_norm"]
        else:
            for summ in summaries:
                if summ not in OPTIMIZER_SUMMARIES:
                    raise ValueError(f"Summaries should be one of [{', '.join(OPTIMIZER_SUMMARIES)}], you "
                                     f"provided {summ}.")
        if learning_rate is not None and learning_rate_decay_fn is not None:
            if global_step is None:
                raise ValueError("global_step is required for learning_rate_decay_fn.")
            lr = learning_rate_decay_fn(lr, global_step)
            if "learning_rate" in summaries:
                summary.scalar("learning_rate", lr)
        opt = _make_optimizer(optimizer, learning_rate, lr)
        if variables is None:
            variables = trainable_variables()
        gradients = opt.compute_gradients(loss, variables,
                                          colocate_gradients_with_ops=colocate_gradients_with_ops)
        if gradient_noise_scale is not None:
            gradients = _add_scaled_noise_to_gradients(gradients, gradient_noise_scale)
        if gradient_multipliers is not None:
            gradients = _multiply_gradients(gradients, gradient_multipliers)
            if not gradients:
                raise ValueError("Empty list of (gradient, var) pairs encountered. This is most likely to be caused "
                                 "by an improper value of gradient_multipliers.")
        norm_summaries = "global_gradient_norm" in summaries or "gradient_norm" in summaries
        if norm_summaries:
            summary.scalar("global_norm/gradient_norm", global_norm(list(zip(*gradients))[0]))
        if isinstance(clip_gradients, float):
            gradients = _clip_gradients_by_norm(gradients, clip_gradients)
        elif callable(clip_gradients):
            gradients = clip_gradients(gradients)
        elif clip_gradients is not None:
            raise ValueError(f"Unknown type {type(clip_gradients)} for clip_gradients")
        if "loss" in summaries:
            summary.scalar("loss", loss)
        for gradient, variable in gradients:
            values = gradient.values if isinstance(gradient, IndexedSlices) else gradient  # rows, as TF
            if values is not None:
                var_name = variable.name.replace(":", "_")
                if "gradients" in summaries:
                    summary.histogram(f"gradients/{var_name}", values)
                if "gradient_norm" in summaries:
                    summary.scalar(f"gradient_norm/{var_name}", global_norm([values]))
        if clip_gradients is not None and norm_summaries:
            summary.scalar("global_norm/clipped_gradient_norm", global_norm(list(zip(*gradients))[0]))
        grad_updates = opt.apply_gradients(gradients, global_step=global_step if increment_global_step else None,
                                           name="train")
        return with_dependencies([grad_updates], loss)


# ------------------------------------------------------------------ summaries
def _add_scalar_summary(tensor: Tensor, tag: str | None = None) -> Tensor:
    from caudal import summary

    return summary.scalar(tag or f"{tensor.op.name}_summary", tensor)


def _add_histogram_summary(tensor: Tensor, tag: str | None = None) -> Tensor:
    from caudal import summary

    return summary.histogram(tag or f"{tensor.op.name}_summary", tensor)


def summarize_activation(op: Tensor) -> Tensor:
    """A histogram `<op>/activation`; for Relu, Softplus and Relu6 also the fraction of negative inputs
    (`<op>/zeros`), for Relu6 the fraction above 6 (`<op>/sixes`)."""
    from caudal.ops.comparison_ops import greater, less
    from caudal.ops.math_ops import cast, to_float
    from caudal.ops.reduction_ops import reduce_mean

    pre_activation = op.op.inputs[0] if op.op.inputs else None
    if op.op.type in ("Relu", "Softplus", "Relu6"):
        zeros = reduce_mean(to_float(less(pre_activation, cast(0.0, pre_activation.dtype))))
        _add_scalar_summary(zeros, f"{op.op.name}/zeros")
    if op.op.type == "Relu6":
        sixes = reduce_mean(to_float(greater(pre_activation, cast(6.0, pre_activation.dtype))))
        _add_scalar_summary(sixes, f"{op.op.name}/sixes")
    return _add_histogram_summary(op, f"{op.op.name}/activation")


def summarize_tensor(tensor: Any, tag: str | None = None) -> Tensor:
    """A scalar summary for a scalar, a histogram otherwise (tag `<op name>_summary` by default)."""
    if tensor.get_shape().ndims == 0:
        return _add_scalar_summary(tensor, tag)
    return _add_histogram_summary(tensor, tag)


def summarize_tensors(tensors: Any, summarizer: Callable = summarize_tensor) -> list[Tensor]:
    return [summarizer(tensor) for tensor in tensors]


def summarize_collection(collection: str, name_filter: str | None = None,
                         summarizer: Callable = summarize_tensor) -> list[Tensor]:
    """Summaries of the tensors of `collection` whose op names match `name_filter` (re.match)."""
    tensors = [t for t in get_default_graph().get_collection(collection)
               if name_filter is None or re.match(name_filter, t.op.name)]
    return summarize_tensors(tensors, summarizer)


summarize_variables = functools.partial(summarize_collection, GraphKeys.GLOBAL_VARIABLES)
summarize_weights = functools.partial(summarize_collection, GraphKeys.WEIGHTS)
summarize_biases = functools.partial(summarize_collection, GraphKeys.BIASES)


def summarize_activations(name_filter: str | None = None, summarizer: Callable = summarize_activation
                          ) -> list[Tensor]:
    """`summarize_activation` of each tensor in the ACTIVATIONS collection."""
    return summarize_collection(GraphKeys.ACTIVATIONS, name_filter, summarizer)
