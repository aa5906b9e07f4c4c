"""Fused optimizer updates (TF's `Apply*` ops): read the variable and its slots, update, write back.

Each op takes the variable by reference as input 0 and, for optimizers with
slots, the slot variables by reference as the next inputs, in TF's input
order (so GraphDefs line up). It returns the variable's new value; every
slot's new value is written through `ctx.write`, so a failed run commits
nothing.

Each op has a portable kernel, plain arithmetic over `ctx.xp` that builds
new values and writes nothing but through `ctx.write`, and a NumPy variant
(`*_numpy`) that builds each new value from one fresh array updated in place
(`out=`, `+=`), to keep the per-step cost close to a hand-written NumPy
update. Neither writes into the arrays it reads.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from caudal.errors import InvalidArgumentError
from caudal.framework.graph import InferContext
from caudal.framework.registry import NOT_DIFFERENTIABLE, register_op
from caudal.ops.variable_ops import _shape_text, bind_variable

# TF's input names of each Apply op, for the error messages.
_INPUT_NAMES = {
    "ApplyGradientDescent": "var alpha delta".split(),
    "ApplyMomentum": "var accum lr grad momentum".split(),
    "ApplyAdam": "var m v beta1_power beta2_power lr beta1 beta2 epsilon grad".split(),
    "ApplyAdagrad": "var accum lr grad".split(),
    "ApplyAdadelta": "var accum accum_update lr rho epsilon grad".split(),
    "ApplyRMSProp": "var ms mom lr rho momentum epsilon grad".split(),
    "ApplyCenteredRMSProp": "var mg ms mom lr rho momentum epsilon grad".split(),
    "ApplyFtrl": "var accum linear grad lr l1 l2 lr_power".split(),
    "ApplyFtrlV2": "var accum linear grad lr l1 l2 l2_shrinkage lr_power".split(),
    "ApplyProximalGradientDescent": "var alpha l1 l2 delta".split(),
    "ApplyProximalAdagrad": "var accum lr l1 l2 grad".split(),
}


def _apply_infer_with(n_refs: int, scalars: tuple[int, ...]) -> Any:
    """Rule of an Apply op with `n_refs` reference inputs and scalar inputs at `scalars`."""

    def infer(ctx: InferContext) -> list:
        ref = ctx.inputs[0]
        for i in range(n_refs):
            if not ctx.inputs[i].dtype.is_ref_dtype:
                raise TypeError(f"'{ctx.type}' requires a variable (a reference) as input {i}, "
                                f"got {ctx.inputs[i].name}")
        base = ref.dtype.base_dtype
        for i in range(1, len(ctx.inputs)):
            if ctx.dtype(i) != base and not ctx.dtype(i).is_integer:
                raise TypeError(f"Input '{_INPUT_NAMES[ctx.type][i]}' of '{ctx.type}' Op has type "
                                f"{ctx.dtype(i).name} that does not match type {base.name} of argument 'var'.")
        for i in range(1, n_refs):
            if not ref.shape.is_compatible_with(ctx.shape(i)):
                raise ValueError(f"Shapes must be equal rank, but are {ref.shape} and {ctx.shape(i)} for "
                                 f"'{ctx.name}' (op: '{ctx.type}')")
        for i in scalars:
            ndims = ctx.shape(i).ndims
            if ndims is not None and ndims != 0:
                raise ValueError(f"Shape must be rank 0 but is rank {ndims} for '{ctx.name}' (op: '{ctx.type}')")
        return [(ref.dtype, ref.shape)]

    return infer


def _ref_name(op: Any, index: int) -> str:
    ref = op.inputs[index]
    while ref.op.type != "VariableV2" and ref.op.inputs:
        ref = ref.op.inputs[0]
    return ref.op.name


def bind_slots(op: Any) -> dict[str, Any]:
    """The variable (input 0) and the slot variables (the other reference inputs), by store name."""
    bound = bind_variable(op)
    bound["slots"] = tuple(_ref_name(op, i) for i in op._op_def.ref_inputs[1:])
    return bound


def _not_same_shape(op: Any, input_index: int, var_shape: Any, shape: Any) -> InvalidArgumentError:
    """TF's run-time error for an input of another shape than the variable."""
    return InvalidArgumentError(None, op, f"var and {_INPUT_NAMES[op.type][input_index]} do not have the same "
                                          f"shape{_shape_text(var_shape)} {_shape_text(shape)}")


def _read_checked(ctx: Any, op: Any, var: str, slots: tuple[str, ...], grad: Any) -> list[Any]:
    """[var value, slot values...]; all must have the gradient's shape, as TF checks."""
    values = [ctx.read(var)]
    shape = values[0].shape
    for index, name in enumerate(slots, 1):
        slot = ctx.read(name)
        if slot.shape != shape:
            raise _not_same_shape(op, index, shape, slot.shape)
        values.append(slot)
    if grad.shape != shape:
        names = _INPUT_NAMES[op.type]
        raise _not_same_shape(op, names.index("delta" if "delta" in names else "grad"), shape, grad.shape)
    return values


class _VectorView:
    """A run context seen through 1-element vectors: reads give shape (1,), writes store shape ()."""

    __slots__ = ("_ctx",)

    def __init__(self, ctx: Any):
        self._ctx = ctx

    def read(self, name: str) -> Any:
        return self._ctx.read(name).reshape(1)

    def write(self, name: str, value: Any) -> None:
        self._ctx.write(name, value.reshape(()))


def _on_vectors(kernel: Any, ctx: Any, inputs: tuple, grad_index: int, **kwargs: Any) -> Any:
    """Runs `kernel` for a scalar (0-d) variable on 1-element vectors.

    NumPy arithmetic on 0-d arrays returns NumPy scalars, which `out=` and item
    assignment cannot take, so the kernels' in-place steps need arrays of rank 1.
    Checks the shapes first with the real ones, so errors name them as TF does.
    """
    _read_checked(ctx, kwargs["op"], kwargs["var"], kwargs.get("slots", ()), inputs[grad_index])
    inputs = list(inputs)
    inputs[grad_index] = inputs[grad_index].reshape(1)
    return kernel(_VectorView(ctx), *inputs, **kwargs).reshape(())


def _write_all(ctx: Any, names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    """Writes each new value (as an array: arithmetic on 0-d arrays gives scalars); returns the last."""
    xp = ctx.xp
    arrays = [xp.asarray(v) for v in values]
    for name, array in zip(names, arrays, strict=True):
        ctx.write(name, array)
    return arrays[-1]


def _finish(ctx: Any, var: str, value: Any, step: Any) -> Any:
    """Writes value - step, reusing `step` (a fresh array) as the result."""
    np.subtract(value, step, out=step)
    ctx.write(var, step)
    return step


# ------------------------------------------------------------ GradientDescent
def _apply_gradient_descent(ctx: Any, alpha: Any, delta: Any, *, var: str, op: Any) -> Any:
    """var -= alpha * delta"""
    value = ctx.read(var)
    if value.shape != delta.shape:
        raise _not_same_shape(op, 2, value.shape, delta.shape)
    return _write_all(ctx, (var,), (value - alpha * delta,))


register_op("ApplyGradientDescent", infer=_apply_infer_with(1, (1,)), kernel=_apply_gradient_descent,
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0,), bind=bind_variable)


# ------------------------------------------------------------------ Momentum
def _apply_momentum(ctx: Any, lr: Any, grad: Any, momentum: Any, *, use_nesterov: bool, var: str,
                    slots: tuple[str, ...], op: Any) -> Any:
    """accum = accum * momentum + grad; var -= lr * accum
    (Nesterov: var -= lr * grad + lr * momentum * accum)."""
    value, accum = _read_checked(ctx, op, var, slots, grad)
    new_accum = accum * momentum + grad
    if use_nesterov:
        step = new_accum * (momentum * lr) + grad * lr
    else:
        step = new_accum * lr
    return _write_all(ctx, (slots[0], var), (new_accum, value - step))


def _apply_momentum_numpy(ctx: Any, lr: Any, grad: Any, momentum: Any, *, use_nesterov: bool, var: str,
                          slots: tuple[str, ...], op: Any) -> Any:
    if grad.ndim == 0:
        return _on_vectors(_apply_momentum_numpy, ctx, (lr, grad, momentum), 1,
                           use_nesterov=use_nesterov, var=var, slots=slots, op=op)
    value, accum = _read_checked(ctx, op, var, slots, grad)
    new_accum = accum * momentum
    new_accum += grad
    ctx.write(slots[0], new_accum)
    if use_nesterov:
        step = new_accum * (momentum * lr)
        step += grad * lr
    else:
        step = new_accum * lr
    return _finish(ctx, var, value, step)


register_op("ApplyMomentum", infer=_apply_infer_with(2, (2, 4)), kernel=_apply_momentum,
            variants={"numpy": _apply_momentum_numpy},
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0, 1), bind=bind_slots)


# ---------------------------------------------------------------------- Adam
def _apply_adam(ctx: Any, beta1_power: Any, beta2_power: Any, lr: Any, beta1: Any, beta2: Any, epsilon: Any,
                grad: Any, *, use_nesterov: bool, var: str, slots: tuple[str, ...], op: Any) -> Any:
    """m = m + (g - m)(1 - beta1); v = v + (g^2 - v)(1 - beta2);
    var -= lr * sqrt(1 - beta2_power) / (1 - beta1_power) * m / (sqrt(v) + epsilon)."""
    xp = ctx.xp
    value, m, v = _read_checked(ctx, op, var, slots, grad)
    alpha = lr * xp.sqrt(1 - beta2_power) / (1 - beta1_power)
    new_m = (grad - m) * (1 - beta1) + m
    new_v = (xp.square(grad) - v) * (1 - beta2) + v
    numerator = new_m * beta1 + grad * (1 - beta1) if use_nesterov else new_m
    step = numerator / (xp.sqrt(new_v) + epsilon) * alpha
    return _write_all(ctx, (slots[0], slots[1], var), (new_m, new_v, value - step))


def _apply_adam_numpy(ctx: Any, beta1_power: Any, beta2_power: Any, lr: Any, beta1: Any, beta2: Any, epsilon: Any,
                      grad: Any, *, use_nesterov: bool, var: str, slots: tuple[str, ...], op: Any) -> Any:
    if grad.ndim == 0:
        return _on_vectors(_apply_adam_numpy, ctx, (beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad), 6,
                           use_nesterov=use_nesterov, var=var, slots=slots, op=op)
    value, m, v = _read_checked(ctx, op, var, slots, grad)
    # On NumPy scalars (not 0-d arrays), which compute the same float32 values twice as fast.
    beta2_power = beta2_power[()]
    alpha = lr[()] * np.sqrt(1 - beta2_power) / (1 - beta1_power[()])
    new_m = grad - m
    new_m *= 1 - beta1
    new_m += m
    new_v = np.square(grad)
    new_v -= v
    new_v *= 1 - beta2
    new_v += v
    ctx.write(slots[0], new_m)
    ctx.write(slots[1], new_v)
    step = np.sqrt(new_v)
    step += epsilon
    if use_nesterov:
        numerator = new_m * beta1
        numerator += grad * (1 - beta1)
        np.divide(numerator, step, out=step)
    else:
        np.divide(new_m, step, out=step)
    step *= alpha
    return _finish(ctx, var, value, step)


register_op("ApplyAdam", infer=_apply_infer_with(3, (3, 4, 5, 6, 7, 8)), kernel=_apply_adam,
            variants={"numpy": _apply_adam_numpy},
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0, 1, 2), bind=bind_slots)


# ------------------------------------------------------------------- Adagrad
def _apply_adagrad(ctx: Any, lr: Any, grad: Any, *, update_slots: bool, var: str, slots: tuple[str, ...],
                   op: Any) -> Any:
    """accum += grad^2 (when update_slots); var -= lr * grad / sqrt(accum)."""
    xp = ctx.xp
    value, accum = _read_checked(ctx, op, var, slots, grad)
    if update_slots:
        accum = xp.square(grad) + accum
    updated = value - grad / xp.sqrt(accum) * lr
    if update_slots:
        return _write_all(ctx, (slots[0], var), (accum, updated))
    return _write_all(ctx, (var,), (updated,))


def _apply_adagrad_numpy(ctx: Any, lr: Any, grad: Any, *, update_slots: bool, var: str, slots: tuple[str, ...],
                         op: Any) -> Any:
    if grad.ndim == 0:
        return _on_vectors(_apply_adagrad_numpy, ctx, (lr, grad), 1, update_slots=update_slots, var=var,
                           slots=slots, op=op)
    value, accum = _read_checked(ctx, op, var, slots, grad)
    if update_slots:
        accum = np.square(grad) + accum
        ctx.write(slots[0], accum)
    step = np.sqrt(accum)
    np.divide(grad, step, out=step)
    step *= lr
    return _finish(ctx, var, value, step)


register_op("ApplyAdagrad", infer=_apply_infer_with(2, (2,)), kernel=_apply_adagrad,
            variants={"numpy": _apply_adagrad_numpy},
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0, 1), bind=bind_slots)


# ------------------------------------------------------------------ Adadelta
def _apply_adadelta(ctx: Any, lr: Any, rho: Any, epsilon: Any, grad: Any, *, var: str, slots: tuple[str, ...],
                    op: Any) -> Any:
    """accum = rho accum + (1-rho) g^2; update = sqrt(accum_update + eps) / sqrt(accum + eps) * g;
    accum_update = rho accum_update + (1-rho) update^2; var -= lr * update."""
    xp = ctx.xp
    value, accum, accum_update = _read_checked(ctx, op, var, slots, grad)
    new_accum = xp.square(grad) * (1 - rho) + accum * rho
    update = xp.sqrt(accum_update + epsilon) / xp.sqrt(new_accum + epsilon) * grad
    new_accum_update = xp.square(update) * (1 - rho) + accum_update * rho
    return _write_all(ctx, (slots[0], slots[1], var), (new_accum, new_accum_update, value - update * lr))


def _apply_adadelta_numpy(ctx: Any, lr: Any, rho: Any, epsilon: Any, grad: Any, *, var: str,
                          slots: tuple[str, ...], op: Any) -> Any:
    if grad.ndim == 0:
        return _on_vectors(_apply_adadelta_numpy, ctx, (lr, rho, epsilon, grad), 3, var=var, slots=slots, op=op)
    value, accum, accum_update = _read_checked(ctx, op, var, slots, grad)
    new_accum = np.square(grad)
    new_accum *= 1 - rho
    new_accum += accum * rho
    update = accum_update + epsilon
    np.sqrt(update, out=update)
    denominator = new_accum + epsilon
    np.sqrt(denominator, out=denominator)
    update /= denominator
    update *= grad
    new_accum_update = np.square(update)
    new_accum_update *= 1 - rho
    new_accum_update += accum_update * rho
    ctx.write(slots[0], new_accum)
    ctx.write(slots[1], new_accum_update)
    update *= lr
    return _finish(ctx, var, value, update)


register_op("ApplyAdadelta", infer=_apply_infer_with(3, (3, 4, 5)), kernel=_apply_adadelta,
            variants={"numpy": _apply_adadelta_numpy},
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0, 1, 2), bind=bind_slots)


# ------------------------------------------------------------------- RMSProp
def _moving_mean(old: Any, new: Any, weight: Any) -> Any:
    """old + (new - old) * weight, reusing `new` when it is a fresh array the caller gave up."""
    np.subtract(new, old, out=new)
    new *= weight
    new += old
    return new


def _apply_rms_prop(ctx: Any, lr: Any, rho: Any, momentum: Any, epsilon: Any, grad: Any, *, var: str,
                    slots: tuple[str, ...], op: Any) -> Any:
    """ms = ms + (g^2 - ms)(1 - rho); mom = momentum mom + lr g / sqrt(ms + eps); var -= mom."""
    xp = ctx.xp
    value, ms, mom = _read_checked(ctx, op, var, slots, grad)
    new_ms = (xp.square(grad) - ms) * (1 - rho) + ms
    new_mom = grad / xp.sqrt(new_ms + epsilon) * lr + mom * momentum
    return _write_all(ctx, (slots[0], slots[1], var), (new_ms, new_mom, value - new_mom))


def _apply_rms_prop_numpy(ctx: Any, lr: Any, rho: Any, momentum: Any, epsilon: Any, grad: Any, *, var: str,
                          slots: tuple[str, ...], op: Any) -> Any:
    if grad.ndim == 0:
        return _on_vectors(_apply_rms_prop_numpy, ctx, (lr, rho, momentum, epsilon, grad), 4, var=var,
                           slots=slots, op=op)
    value, ms, mom = _read_checked(ctx, op, var, slots, grad)
    new_ms = _moving_mean(ms, np.square(grad), 1 - rho)
    step = new_ms + epsilon
    np.sqrt(step, out=step)
    np.divide(grad, step, out=step)
    step *= lr
    step += mom * momentum
    ctx.write(slots[0], new_ms)
    ctx.write(slots[1], step)
    updated = value - step
    ctx.write(var, updated)
    return updated


def _apply_centered_rms_prop(ctx: Any, lr: Any, rho: Any, momentum: Any, epsilon: Any, grad: Any, *, var: str,
                             slots: tuple[str, ...], op: Any) -> Any:
    """As RMSProp, with the mean gradient mg = mg + (g - mg)(1 - rho) and
    mom = momentum mom + lr g / sqrt(ms - mg^2 + eps)."""
    xp = ctx.xp
    value, mg, ms, mom = _read_checked(ctx, op, var, slots, grad)
    new_mg = (grad - mg) * (1 - rho) + mg
    new_ms = (xp.square(grad) - ms) * (1 - rho) + ms
    new_mom = grad / xp.sqrt(new_ms - xp.square(new_mg) + epsilon) * lr + mom * momentum
    return _write_all(ctx, (slots[0], slots[1], slots[2], var), (new_mg, new_ms, new_mom, value - new_mom))


def _apply_centered_rms_prop_numpy(ctx: Any, lr: Any, rho: Any, momentum: Any, epsilon: Any, grad: Any, *,
                                   var: str, slots: tuple[str, ...], op: Any) -> Any:
    if grad.ndim == 0:
        return _on_vectors(_apply_centered_rms_prop_numpy, ctx, (lr, rho, momentum, epsilon, grad), 4,
                           var=var, slots=slots, op=op)
    value, mg, ms, mom = _read_checked(ctx, op, var, slots, grad)
    new_mg = _moving_mean(mg, grad.copy(), 1 - rho)
    new_ms = _moving_mean(ms, np.square(grad), 1 - rho)
    step = np.square(new_mg)
    np.subtract(new_ms, step, out=step)
    step += epsilon
    np.sqrt(step, out=step)
    np.divide(grad, step, out=step)
    step *= lr
    step += mom * momentum
    ctx.write(slots[0], new_mg)
    ctx.write(slots[1], new_ms)
    ctx.write(slots[2], step)
    updated = value - step
    ctx.write(var, updated)
    return updated


register_op("ApplyRMSProp", infer=_apply_infer_with(3, (3, 4, 5, 6)), kernel=_apply_rms_prop,
            variants={"numpy": _apply_rms_prop_numpy},
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0, 1, 2), bind=bind_slots)
register_op("ApplyCenteredRMSProp", infer=_apply_infer_with(4, (4, 5, 6, 7)), kernel=_apply_centered_rms_prop,
            variants={"numpy": _apply_centered_rms_prop_numpy},
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0, 1, 2, 3), bind=bind_slots)


# ---------------------------------------------------------------------- Ftrl
def _ftrl(ctx: Any, op: Any, var: str, slots: tuple[str, ...], grad: Any, lr: Any, l1: Any, l2: Any,
          shrinkage: Any, lr_power: Any, multiply_linear_by_lr: bool) -> Any:
    """FTRL-Proximal (McMahan et al. 2013) as TF's ApplyFtrl/ApplyFtrlV2 compute it:
    n' = n + g^2; linear += g_s - (n'^-p - n^-p) / lr * var with g_s = g + 2 shrinkage var;
    var = |linear| > l1 ? (sign(linear) l1 - linear) / (n'^-p / lr + 2 l2) : 0; n = n'."""
    xp = ctx.xp
    value, accum, linear = _read_checked(ctx, op, var, slots, grad)
    new_accum = xp.square(grad) + accum
    new_power = xp.power(new_accum, -lr_power)
    sigma = (new_power - xp.power(accum, -lr_power)) * value
    shrunk = grad if shrinkage is None else value * (2 * shrinkage) + grad
    if multiply_linear_by_lr:
        new_linear = shrunk * lr + linear - sigma
        denominator = new_power + 2 * l2 * lr
        bound = l1 * lr
    else:
        new_linear = shrunk + linear - sigma / lr
        denominator = new_power / lr + 2 * l2
        bound = l1
    shrunk_linear = (xp.clip(new_linear, -bound, bound) - new_linear) / denominator
    updated = xp.where(xp.abs(new_linear) > bound, shrunk_linear, xp.zeros_like(shrunk_linear))
    return _write_all(ctx, (slots[0], slots[1], var), (new_accum, new_linear, updated))


def _ftrl_numpy(ctx: Any, op: Any, var: str, slots: tuple[str, ...], grad: Any, lr: Any, l1: Any, l2: Any,
                shrinkage: Any, lr_power: Any, multiply_linear_by_lr: bool) -> Any:
    value, accum, linear = _read_checked(ctx, op, var, slots, grad)
    new_accum = np.square(grad)
    new_accum += accum
    if lr_power == -0.5:
        new_power = np.sqrt(new_accum)
        sigma = new_power - np.sqrt(accum)
    else:
        new_power = np.power(new_accum, -lr_power)
        sigma = new_power - np.power(accum, -lr_power)
    sigma *= value
    if shrinkage is None:
        shrunk = grad
    else:
        shrunk = value * (2 * shrinkage)
        shrunk += grad
    if multiply_linear_by_lr:
        new_linear = shrunk * lr
        new_linear += linear
        new_linear -= sigma
        new_power += 2 * l2 * lr
        bound = l1 * lr
    else:
        sigma /= lr
        new_linear = shrunk + linear
        new_linear -= sigma
        new_power /= lr
        new_power += 2 * l2
        bound = l1
    updated = np.clip(new_linear, -bound, bound)
    updated -= new_linear
    updated /= new_power
    updated[np.abs(new_linear) <= bound] = 0
    ctx.write(slots[0], new_accum)
    ctx.write(slots[1], new_linear)
    ctx.write(var, updated)
    return updated


def _apply_ftrl(ctx: Any, grad: Any, lr: Any, l1: Any, l2: Any, lr_power: Any, *, multiply_linear_by_lr: bool,
                var: str, slots: tuple[str, ...], op: Any) -> Any:
    return _ftrl(ctx, op, var, slots, grad, lr, l1, l2, None, lr_power, multiply_linear_by_lr)


def _apply_ftrl_numpy(ctx: Any, grad: Any, lr: Any, l1: Any, l2: Any, lr_power: Any, *,
                      multiply_linear_by_lr: bool, var: str, slots: tuple[str, ...], op: Any) -> Any:
    if grad.ndim == 0:
        return _on_vectors(_apply_ftrl_numpy, ctx, (grad, lr, l1, l2, lr_power), 0,
                           multiply_linear_by_lr=multiply_linear_by_lr, var=var, slots=slots, op=op)
    return _ftrl_numpy(ctx, op, var, slots, grad, lr, l1, l2, None, lr_power, multiply_linear_by_lr)


def _apply_ftrl_v2(ctx: Any, grad: Any, lr: Any, l1: Any, l2: Any, l2_shrinkage: Any, lr_power: Any, *,
                   multiply_linear_by_lr: bool, var: str, slots: tuple[str, ...], op: Any) -> Any:
    return _ftrl(ctx, op, var, slots, grad, lr, l1, l2, l2_shrinkage, lr_power, multiply_linear_by_lr)


def _apply_ftrl_v2_numpy(ctx: Any, grad: Any, lr: Any, l1: Any, l2: Any, l2_shrinkage: Any, lr_power: Any, *,
                         multiply_linear_by_lr: bool, var: str, slots: tuple[str, ...], op: Any) -> Any:
    if grad.ndim == 0:
        return _on_vectors(_apply_ftrl_v2_numpy, ctx, (grad, lr, l1, l2, l2_shrinkage, lr_power), 0,
                           multiply_linear_by_lr=multiply_linear_by_lr, var=var, slots=slots, op=op)
    return _ftrl_numpy(ctx, op, var, slots, grad, lr, l1, l2, l2_shrinkage, lr_power, multiply_linear_by_lr)


register_op("ApplyFtrl", infer=_apply_infer_with(3, (4, 5, 6, 7)), kernel=_apply_ftrl,
            variants={"numpy": _apply_ftrl_numpy},
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0, 1, 2), bind=bind_slots)
register_op("ApplyFtrlV2", infer=_apply_infer_with(3, (4, 5, 6, 7, 8)), kernel=_apply_ftrl_v2,
            variants={"numpy": _apply_ftrl_v2_numpy},
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0, 1, 2), bind=bind_slots)


# ---------------------------------------------------------------- Proximal
def _proximal(xp: Any, prox: Any, rate: Any, l1: Any, l2: Any) -> Any:
    """sign(prox) max(|prox| - rate l1, 0) / (1 + rate l2), or prox / (1 + rate l2) when l1 <= 0."""
    shrunk = xp.sign(prox) * xp.maximum(xp.abs(prox) - rate * l1, 0)
    return xp.where(l1 > 0, shrunk, prox) / (rate * l2 + 1)


def _apply_proximal_gradient_descent(ctx: Any, alpha: Any, l1: Any, l2: Any, delta: Any, *, var: str,
                                     op: Any) -> Any:
    """prox = var - alpha delta; var = sign(prox) max(|prox| - alpha l1, 0) / (1 + alpha l2)."""
    value = ctx.read(var)
    if value.shape != delta.shape:
        raise _not_same_shape(op, 4, value.shape, delta.shape)
    return _write_all(ctx, (var,), (_proximal(ctx.xp, value - delta * alpha, alpha, l1, l2),))


def _apply_proximal_adagrad(ctx: Any, lr: Any, l1: Any, l2: Any, grad: Any, *, var: str, slots: tuple[str, ...],
                            op: Any) -> Any:
    """accum += g^2; rate = lr / sqrt(accum); then the proximal step of ProximalGradientDescent at `rate`."""
    xp = ctx.xp
    value, accum = _read_checked(ctx, op, var, slots, grad)
    new_accum = xp.square(grad) + accum
    rate = lr / xp.sqrt(new_accum)
    return _write_all(ctx, (slots[0], var), (new_accum, _proximal(xp, value - grad * rate, rate, l1, l2)))


def _proximal_step_numpy(prox: Any, lr: Any, l1: Any, l2: Any) -> Any:
    """`_proximal` at a scalar rate, in place in `prox`."""
    if l1 > 0:
        shrink = np.abs(prox)
        shrink -= lr * l1
        np.maximum(shrink, 0, out=shrink)
        np.sign(prox, out=prox)
        prox *= shrink
    prox /= 1 + lr * l2
    return prox


def _apply_proximal_gradient_descent_numpy(ctx: Any, alpha: Any, l1: Any, l2: Any, delta: Any, *, var: str,
                                           op: Any) -> Any:
    if delta.ndim == 0:
        return _on_vectors(_apply_proximal_gradient_descent_numpy, ctx, (alpha, l1, l2, delta), 3, var=var, op=op)
    value = ctx.read(var)
    if value.shape != delta.shape:
        raise _not_same_shape(op, 4, value.shape, delta.shape)
    prox = delta * -alpha
    prox += value
    updated = _proximal_step_numpy(prox, alpha, l1, l2)
    ctx.write(var, updated)
    return updated


def _apply_proximal_adagrad_numpy(ctx: Any, lr: Any, l1: Any, l2: Any, grad: Any, *, var: str,
                                  slots: tuple[str, ...], op: Any) -> Any:
    if grad.ndim == 0:
        return _on_vectors(_apply_proximal_adagrad_numpy, ctx, (lr, l1, l2, grad), 3, var=var, slots=slots, op=op)
    value, accum = _read_checked(ctx, op, var, slots, grad)
    new_accum = np.square(grad)
    new_accum += accum
    rate = np.sqrt(new_accum)
    np.divide(lr, rate, out=rate)
    prox = grad * rate
    np.subtract(value, prox, out=prox)
    if l1 > 0:
        shrink = np.abs(prox)
        shrink -= rate * l1
        np.maximum(shrink, 0, out=shrink)
        np.sign(prox, out=prox)
        prox *= shrink
    rate *= l2
    rate += 1
    prox /= rate
    ctx.write(slots[0], new_accum)
    ctx.write(var, prox)
    return prox


register_op("ApplyProximalGradientDescent", infer=_apply_infer_with(1, (1, 2, 3)),
            kernel=_apply_proximal_gradient_descent, variants={"numpy": _apply_proximal_gradient_descent_numpy},
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0,), bind=bind_variable)
register_op("ApplyProximalAdagrad", infer=_apply_infer_with(2, (2, 3, 4)), kernel=_apply_proximal_adagrad,
            variants={"numpy": _apply_proximal_adagrad_numpy},
            grad=NOT_DIFFERENTIABLE, stateful=True, ref_inputs=(0, 1), bind=bind_slots)
