"""Numeric gradient checks (`tf.test.compute_gradient`, `compute_gradient_error`).

The theoretical Jacobian comes from `tf.gradients` with a one-hot `grad_ys`
fed for each output element; the numerical one from central differences
(x + delta, x - delta) evaluated by running the graph. Use float64 inputs.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.autodiff.gradients import gradients
from caudal.framework.indexed_slices import IndexedSlicesValue
from caudal.framework.tensor import Tensor
from caudal.ops.constant_ops import placeholder

__all__ = ["compute_gradient", "compute_gradient_error"]


def _session() -> Any:
    from caudal.runtime.session import get_default_session

    session = get_default_session()
    if session is None:
        raise ValueError("compute_gradient needs a default session: use `with tf.Session():`")
    return session


def _theoretical(x: Tensor, x_value: np.ndarray, y: Tensor, y_shape: tuple, feed: dict) -> np.ndarray:
    session = _session()
    dy = placeholder(y.dtype.base_dtype, shape=y_shape)
    grad = gradients(y, x, grad_ys=dy)[0]
    x_size = int(np.prod(x_value.shape))
    y_size = int(np.prod(y_shape))
    jacobian = np.zeros((x_size, y_size), dtype=np.float64)
    if grad is None:
        return jacobian
    for j in range(y_size):
        one_hot = np.zeros(y_size, dtype=y.dtype.base_dtype.as_numpy_dtype)
        one_hot[j] = 1
        value = session.run(grad, {**feed, x: x_value, dy: one_hot.reshape(y_shape)})
        if isinstance(value, IndexedSlicesValue):  # rows of x's gradient (a gather's): summed into place
            dense = np.zeros(x_value.shape, dtype=np.float64)
            np.add.at(dense, value.indices, value.values)
            value = dense
        jacobian[:, j] = np.asarray(value, dtype=np.float64).reshape(-1)
    return jacobian


def _numerical(x: Tensor, x_value: np.ndarray, y: Tensor, y_shape: tuple, feed: dict, delta: float) -> np.ndarray:
    session = _session()
    x_size = int(np.prod(x_value.shape))
    y_size = int(np.prod(y_shape))
    jacobian = np.zeros((x_size, y_size), dtype=np.float64)
    flat = x_value.reshape(-1)
    for i in range(x_size):
        plus = flat.copy()
        plus[i] += delta
        minus = flat.copy()
        minus[i] -= delta
        y_plus = session.run(y, {**feed, x: plus.reshape(x_value.shape)})
        y_minus = session.run(y, {**feed, x: minus.reshape(x_value.shape)})
        diff = (np.asarray(y_plus, dtype=np.float64) - np.asarray(y_minus, dtype=np.float64)) / (2 * delta)
        jacobian[i, :] = diff.reshape(-1)
    return jacobian


def compute_gradient(x: Any, x_shape: Any, y: Tensor, y_shape: Any, x_init_value: Any = None,
                     delta: float = 1e-3, init_targets: Any = None, extra_feed_dict: Any = None) -> Any:
    """(theoretical, numerical) Jacobians of y with respect to x, each [x_size, y_size].

    `x` may be a list (with a list of shapes and init values); then a list of pairs is returned.
    """
    if init_targets is not None:
        _session().run(init_targets)
    feed = dict(extra_feed_dict or {})
    if isinstance(x, (list, tuple)):
        values = x_init_value if x_init_value is not None else [None] * len(x)
        results = []
        for i, (xi, shape_i, value_i) in enumerate(zip(x, x_shape, values)):
            others = {xj: vj for j, (xj, vj) in enumerate(zip(x, values)) if j != i and vj is not None}
            results.append(compute_gradient(xi, shape_i, y, y_shape, value_i, delta,
                                            extra_feed_dict={**feed, **others}))
        return results
    x_shape = tuple(x_shape)
    y_shape = tuple(y_shape)
    if x_init_value is None:
        x_value = np.random.default_rng(0).random(x_shape).astype(x.dtype.base_dtype.as_numpy_dtype)
    else:
        x_value = np.asarray(x_init_value, dtype=x.dtype.base_dtype.as_numpy_dtype).reshape(x_shape)
    theoretical = _theoretical(x, x_value, y, y_shape, feed)
    numerical = _numerical(x, x_value, y, y_shape, feed, delta)
    return theoretical, numerical


def compute_gradient_error(x: Any, x_shape: Any, y: Tensor, y_shape: Any, x_init_value: Any = None,
                           delta: float = 1e-3, init_targets: Any = None, extra_feed_dict: Any = None) -> float:
    """The largest absolute difference between the theoretical and numerical Jacobians."""
    result = compute_gradient(x, x_shape, y, y_shape, x_init_value, delta, init_targets, extra_feed_dict)
    pairs = result if isinstance(result, list) else [result]
    error = 0.0
    for theoretical, numerical in pairs:
        if theoretical.size:
            error = max(error, float(np.max(np.abs(theoretical - numerical))))
    return error
