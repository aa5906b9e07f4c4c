"""Op patterns a plan runs as one call, with the values and errors of the separate ops.

A gradient that sums a broadcast result back to an input's shape, where the static shapes
cannot prove that nothing was broadcast (`sum_to_shape_of` in `caudal/ops/_broadcast.py`, e.g.
`x * y` with an unknown batch size), is the five ops

    sx = Shape(x); sg = Shape(grad); r = BroadcastGradientArgs(sx, sg)[0]
    result = Reshape(Sum(grad, r, keep_dims=False), sx)

which in the usual case, where the shapes agree, return `grad` itself. Inside a loop (the
gradient of an RNN cell has eight of them per time step) the five calls cost more than the
arithmetic around them. `broadcast_reductions` finds the patterns whose intermediate values
nothing else uses, and `broadcast_reduction_kernel` runs one as a single call: `grad` itself
when both shapes are equal and hold no 1 (where the five ops return it unchanged too), else
the same five kernels in turn, so values, dtypes and errors are the same.

`Relu(Conv2D(x, w) + bias)`, the layer of every CNN, is three passes over the convolution's
output. On a backend with its own `_FusedConv2D` kernel (fast_cpu: oneDNN's bias and ReLU
post-op, the fusion TF's grappler makes on CPU) `conv_bias_relus` finds the patterns whose
intermediate values nothing else reads, and the plan runs each as one `_FusedConv2D` call. The
gradient needs none of the intermediate values (ReluGrad reads the Relu's result, the bias
gradient sums it, the convolution's gradients read x and w).

The gradient of a ReLU followed by a max pooling, `ReluGrad(MaxPoolGrad(x, y, dy), x)`, is
computed as `MaxPoolGrad(x, y, ReluGrad(dy, y))` (`relu_grads_of_max_pool_grads`): the same
numbers from a pass over the pooled gradient instead of the input-sized one. The bias gradient,
that result's sum per channel (BiasAddGrad, or the Sum of `x + b`'s gradient), is then the sum of
the pooled `ReluGrad(dy, y)` per channel (`channel_sums_of_pooled_grads`; float32 sums that may
differ in the last bits, as they are added in another order). Where the pooling keeps a workspace,
a backend with its own `_ReluMaxPoolGrad` kernel computes the three in one call
(`relu_max_pool_grads`).

Such a layer followed by a max pooling, whose gradient then reads the layer's result only for its
shape (the pooling's gradient takes the pooling's argmax workspace, the ReLU mask is the pooled
value's), runs as one `_FusedConv2DMaxPool` call on a backend with its own kernel
(`conv_max_pools`): fast_cpu's loop never writes the convolution's output for a first layer of few
input channels, a pass over 12.8 MB in LeNet's step. Where that layer's input has no gradient (a
first layer's images), the gradients of its filter and bias are one `_FusedConv2DMaxPoolGrad` call
from the pooled gradient (`conv_max_pool_grads`), which need not write the convolution-sized gradient
that MaxPoolGrad would and Conv2DBackpropFilter would read.

`tf.nn.dropout`'s forward pass, `SelectV2(GreaterEqual(uniform, rate), x * scale, 0)` (or `x / scale`)
with `uniform` drawn in x's shape, is three passes and three calls; on a backend with its own
`_Dropout` kernel `dropout_selects` finds the patterns whose scaled x nothing else reads, and the plan
runs each as one `_Dropout` call, which also returns the mask the gradient reads. Its gradient
before a ReLU, `ReluGrad(SelectV2(mask, grad, 0) / scale, features)` (or `* scale`), is three more
passes and calls over the same values; `dropout_relu_grads` finds those whose intermediate values
nothing else reads, and a backend with its own `_DropoutReluGrad` kernel runs each as one call
(benchmarks/mlp.py's step, four dropout layers of 3,000 to 20,000 values: 702-716 us against 735-747
us as three calls each, medians of 30 blocks in three alternating pairs of processes). Where a Sum
over its rows follows (a dense layer's bias gradient), a backend with a `_DropoutReluGradSum` kernel
adds them up in the same pass (`sums_of_dropout_relu_grads`: 2-6% of that step, alternating blocks).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from caudal.framework.graph import Operation
from caudal.framework.registry import get_op_def
from caudal.framework.tensor import Tensor

__all__ = ["broadcast_reductions", "broadcast_reduction_kernel", "conv_bias_relus", "has_native_kernel",
           "FusedCall", "relu_grads_of_max_pool_grads", "channel_sums_of_pooled_grads", "max_pool_pairs",
           "dropout_selects", "dropout_relu_grads", "sums_of_dropout_relu_grads", "conv_max_pools",
           "conv_max_pool_grads", "relu_max_pool_grads",
           "FEW_INPUT_CHANNELS"]

# (Shape of x, Shape of grad, BroadcastGradientArgs, Sum): the ops a fused Reshape absorbs.
Parts = tuple[Operation, Operation, Operation, Operation]


def broadcast_reductions(ops: list[Operation], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...]
                         ) -> dict[Operation, Parts]:
    """The Reshape ops of `ops` (a pruned plan) that end a broadcast reduction, with the ops they
    absorb: only where those ops are used by nothing else in the plan, are neither fetched nor
    fed, and take part in no control dependency."""
    members = set(ops)
    fed = set(feeds)
    fetched = {f._op if isinstance(f, Tensor) else f for f in fetches}

    def users(t: Tensor) -> set[Operation]:
        return {c for c in t._consumers if c in members}

    found: dict[Operation, Parts] = {}
    for reshape in ops:
        if reshape._type != "Reshape" or reshape._control_inputs or len(reshape._inputs) != 2:
            continue
        summed, shape_x_out = reshape._inputs
        total, shape_x = summed._op, shape_x_out._op
        if total._type != "Sum" or shape_x._type != "Shape" or total._attrs.get("keep_dims"):
            continue
        grad, axes = total._inputs
        bga = axes._op
        if bga._type != "BroadcastGradientArgs" or axes._value_index != 0 or bga._inputs[0] is not shape_x_out:
            continue
        shape_g = bga._inputs[1]._op
        if shape_g._type != "Shape" or shape_g._inputs[0] is not grad:
            continue
        parts = (shape_x, shape_g, bga, total)
        if any(p not in members or p in fetched or p._control_inputs or p._control_outputs
               or any(t in fed for t in p._outputs) for p in parts):
            continue
        if (users(shape_x_out) != {bga, reshape} or users(shape_g._outputs[0]) != {bga}
                or users(bga._outputs[0]) != {total} or users(bga._outputs[1]) or users(summed) != {reshape}):
            continue
        found[reshape] = parts
    return found


def broadcast_reduction_kernel(parts: Parts, reshape: Operation, kernel_of: Callable[[Operation], Callable]
                               ) -> Callable[[Any, Any, Any], Any]:
    """One call `(xp, grad, x) -> result` for a pattern `broadcast_reductions` found, running the
    kernels `kernel_of` binds for its ops."""
    shape_x, shape_g, bga, total = parts
    shape_x_kernel, shape_g_kernel = kernel_of(shape_x), kernel_of(shape_g)
    bga_kernel, sum_kernel, reshape_kernel = kernel_of(bga), kernel_of(total), kernel_of(reshape)
    shape_x_kwargs = shape_x._op_def.kernel_kwargs(shape_x)
    shape_g_kwargs = shape_g._op_def.kernel_kwargs(shape_g)
    bga_kwargs = bga._op_def.kernel_kwargs(bga)
    sum_kwargs = total._op_def.kernel_kwargs(total)
    reshape_kwargs = reshape._op_def.kernel_kwargs(reshape)

    def reduce_to_shape_of(xp: Any, grad: Any, x: Any) -> Any:
        if type(grad) is np.ndarray and type(x) is np.ndarray and grad.shape == x.shape and 1 not in grad.shape:
            return grad  # no axis to sum: Sum and Reshape return their input
        sx = shape_x_kernel(xp, x, **shape_x_kwargs)
        axes = bga_kernel(xp, sx, shape_g_kernel(xp, grad, **shape_g_kwargs), **bga_kwargs)[0]
        return reshape_kernel(xp, sum_kernel(xp, grad, axes, **sum_kwargs), sx, **reshape_kwargs)

    return reduce_to_shape_of


# ------------------------------------------------------------ convolution, bias and ReLU
# (Conv2D, the AddV2/Add/BiasAdd of its bias, the bias tensor): the ops a fused Relu absorbs.
ConvParts = tuple[Operation, Operation, Tensor]

_SHAPE_ONLY = frozenset(["Shape", "Size", "Rank", "ShapeN"])  # ops that read only their input's shape
_ADDS = frozenset(["AddV2", "Add", "BiasAdd"])


def _text(value: Any) -> str:
    """An attr's string value as str (attrs hold bytes or str)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _bias_of(add: Operation, conv_out: Tensor) -> Tensor | None:
    """The bias `add` adds to `conv_out` per channel, or None when it adds something else."""
    if len(add._inputs) != 2 or conv_out not in add._inputs:
        return None
    data_format = _text(conv_out._op._attrs.get("data_format", "NHWC"))
    channels = conv_out.shape.dims[-1 if data_format == "NHWC" else 1] if conv_out.shape.rank == 4 else None
    if add._type == "BiasAdd":
        if add._inputs[0] is not conv_out or _text(add._attrs.get("data_format", "NHWC")) != data_format:
            return None
        bias = add._inputs[1]
    else:
        if data_format != "NHWC":
            return None  # AddV2 broadcasts a [C] bias over the last axis only
        bias = add._inputs[1] if add._inputs[0] is conv_out else add._inputs[0]
    if bias.shape.rank != 1 or channels is None or bias.shape.dims[0] != channels:
        return None
    return bias


_CONDITIONAL_OPS = frozenset(["Switch", "Merge"])  # tf.cond's ops: their outputs may be dead


def _tied(parts: tuple[Operation, ...], fed: set[Tensor]) -> bool:
    """Whether one of `parts` takes part in a control dependency or has an output that is fed (a
    pattern with such a part runs unfused)."""
    return any(p._control_inputs or p._control_outputs or any(t in fed for t in p._outputs) for p in parts)


def has_native_kernel(op_type: str, variant_names: tuple[str, ...]) -> bool:
    """Whether a backend has its own kernel of the fused op `op_type` (NumPy's runs the ops it
    stands for in turn, which is no faster)."""
    variants = get_op_def(op_type).variants
    return any(name in variants for name in variant_names if name != "numpy")


class FusedCall:
    """The op a fused call stands for where the plan expects an Operation: its definition and type."""

    __slots__ = ("_op_def", "_type")

    def __init__(self, op_def: Any):
        self._op_def = op_def
        self._type = op_def.type


def conv_bias_relus(ops: list[Operation], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...]
                    ) -> dict[Operation, ConvParts]:
    """The Relu ops of `ops` (a pruned plan in run order, without loops; none with conditionals) that end
    `Relu(Conv2D(x, w) + bias)` with a float32 [C] bias per output channel, with the ops they absorb.

    A backend with a `_FusedConv2D` kernel runs such a pattern as one call (TF's grappler
    rewrites the same pattern into `_FusedConv2D`). Only where the convolution's and the sum's
    values are used by nothing else in the plan (ops that read only their shape, such as the
    gradient's Shape ops, may use them once the Relu has run: they are given the Relu's result,
    of the same shape), neither is fetched, none of the three is fed, and none takes part in a
    control dependency.
    """
    if any(op._type in _CONDITIONAL_OPS for op in ops):
        return {}
    position = {op: i for i, op in enumerate(ops)}
    fed = set(feeds)
    fetched = {f._op if isinstance(f, Tensor) else f for f in fetches}

    def only_shapes_after(t: Tensor, allowed: Operation, after: int) -> bool:
        for consumer in t._consumers:
            if consumer not in position or consumer is allowed:
                continue
            if consumer._type not in _SHAPE_ONLY or position[consumer] < after:
                return False
        return True

    found: dict[Operation, ConvParts] = {}
    for relu in ops:
        if relu._type != "Relu" or len(relu._inputs) != 1:
            continue
        add = relu._inputs[0]._op
        if add._type not in _ADDS or add not in position:
            continue
        conv_out = next((t for t in add._inputs if t._op._type == "Conv2D"), None)
        if conv_out is None or conv_out._op not in position:
            continue
        conv = conv_out._op
        if conv._attrs.get("T") is None or getattr(conv._attrs["T"], "name", conv._attrs["T"]) != "float32":
            continue
        bias = _bias_of(add, conv_out)
        if bias is None:
            continue
        parts = (conv, add, relu)
        if conv in fetched or add in fetched or _tied(parts, fed):
            continue
        here = position[relu]
        if not (only_shapes_after(conv_out, add, here) and only_shapes_after(add._outputs[0], relu, here)):
            continue
        found[relu] = (conv, add, bias)
    return found


# ------------------------------------------------------------ max pooling's gradient, then ReLU's
def relu_grads_of_max_pool_grads(ops: list[Operation], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...]
                                 ) -> dict[Operation, Operation]:
    """The ReluGrad ops of `ops` (a pruned plan without loops) that take the gradient of a ReLU
    through a max pooling, `ReluGrad(MaxPoolGrad(x, y, dy), x)` with x the ReLU's result, mapped to
    their MaxPoolGrad; only where nothing else reads that MaxPoolGrad's result, neither op is fed
    and neither takes part in a control dependency.

    The plan computes such a pair as `MaxPoolGrad(x, y, ReluGrad(dy, y))`: the same numbers (each
    gradient goes to its window's maximum, whose ReLU mask is the pooled value's), from a ReLU pass
    over the pooled gradient instead of the input-sized one (a quarter of it under 2x2 pooling).
    """
    if any(op._type in _CONDITIONAL_OPS for op in ops):
        return {}
    members = set(ops)
    fed = set(feeds)
    fetched = {f._op if isinstance(f, Tensor) else f for f in fetches}
    found: dict[Operation, Operation] = {}
    for relu_grad in ops:
        if relu_grad._type != "ReluGrad" or len(relu_grad._inputs) != 2:
            continue
        pool_grad = relu_grad._inputs[0]._op
        if pool_grad._type != "MaxPoolGrad" or pool_grad not in members or pool_grad in fetched:
            continue
        if relu_grad._inputs[1] is not pool_grad._inputs[0]:
            continue
        if {c for c in pool_grad._outputs[0]._consumers if c in members} != {relu_grad}:
            continue
        if _tied((pool_grad, relu_grad), fed):
            continue
        found[relu_grad] = pool_grad
    return found


def channel_sums_of_pooled_grads(ops: list[Operation], pooled_relu_grads: dict[Operation, Operation]
                                 ) -> dict[Operation, Operation]:
    """The bias gradients of `ops` that add up a ReluGrad of `pooled_relu_grads` per channel (a
    BiasAddGrad in the pooling's layout, or a Sum over every other axis, `Sum(grad, [0, 1, 2])` in
    NHWC), mapped to that ReluGrad; only for SAME or VALID pooling. The bias gradient still runs
    where it is (it may be fetched); only its input changes.

    The plan sums the pooled gradient `ReluGrad(dy, y)` instead: MaxPoolGrad sends each of its
    values to one element of its window and adds them there, so the sums per channel are the same,
    from a quarter of the values under 2x2 pooling (added in another order: float32 sums may differ
    in the last bits).
    """
    members = set(ops)
    found: dict[Operation, Operation] = {}
    for relu_grad, pool_grad in pooled_relu_grads.items():
        data_format, padding = (_text(pool_grad._attrs.get(name, b"")) for name in ("data_format", "padding"))
        if padding not in ("SAME", "VALID") or data_format not in ("NHWC", "NCHW"):
            continue
        axes = [0, 1, 2] if data_format == "NHWC" else [0, 2, 3]
        for total in relu_grad._outputs[0]._consumers:
            if total not in members or total._inputs[0] is not relu_grad._outputs[0]:
                continue
            if total._type == "BiasAddGrad":
                if _text(total._attrs.get("data_format", b"NHWC")) == data_format:
                    found[total] = relu_grad
            elif total._type == "Sum" and not total._attrs.get("keep_dims") and total._inputs[1]._op._type == "Const":
                value = np.asarray(total._inputs[1]._op._attrs["value"])
                if value.ndim == 1 and sorted(int(a) % 4 for a in value) == axes:
                    found[total] = relu_grad
    return found


def sums_of_dropout_relu_grads(ops: list[Operation], dropout_relu_grads: dict[Operation, DropoutParts],
                               feeds: tuple[Tensor, ...]) -> dict[Operation, Operation]:
    """The ReluGrads of `dropout_relu_grads` whose result, a float32 matrix, a Sum over its rows
    (`Sum(grad, [0])`, a dense layer's bias gradient) adds up, mapped to that Sum: a backend with a
    `_DropoutReluGradSum` kernel computes the sums in the same pass (in another order: float32 sums
    may differ in the last bits). Only where the Sum is not fed and takes part in no control
    dependency; it may be fetched.
    """
    members = set(ops)
    fed = set(feeds)
    found: dict[Operation, Operation] = {}
    for relu_grad in dropout_relu_grads:
        result = relu_grad._outputs[0]
        if result.shape.rank != 2:
            continue
        for total in result._consumers:
            if (total in members and total._type == "Sum" and total._inputs[0] is result
                    and not total._attrs.get("keep_dims") and total._inputs[1]._op._type == "Const"
                    and not _tied((total,), fed)):
                value = np.asarray(total._inputs[1]._op._attrs["value"])
                if value.ndim <= 1 and value.size == 1 and int(value.reshape(-1)[0]) % 2 == 0:
                    found[relu_grad] = total
                    break
    return found


# ------------------------------------------------------------ max pooling and its gradient
_POOL_ATTRS = ("ksize", "strides", "padding", "explicit_paddings", "data_format")


def max_pool_pairs(ops: list[Operation], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...]
                   ) -> dict[Operation, Operation]:
    """The MaxPoolGrad ops of `ops` (a pruned plan without loops; none with conditionals) mapped to
    the MaxPool of the same window whose input and result they take, `MaxPoolGrad(x, MaxPool(x), dy)`.

    A backend with its own `_MaxPoolWithWorkspace` runs such a MaxPool as that op, which also returns
    where each window's maximum was, and the MaxPoolGrad as `_MaxPoolGradWithWorkspace`, which reads it
    instead of pooling x again. Only where neither op's result is fed and neither takes part in a
    control dependency.
    """
    if any(op._type in _CONDITIONAL_OPS for op in ops):
        return {}
    members = set(ops)
    fed = set(feeds)
    found: dict[Operation, Operation] = {}
    for grad in ops:
        if grad._type != "MaxPoolGrad" or len(grad._inputs) != 3:
            continue
        pool = grad._inputs[1]._op
        if (pool._type != "MaxPool" or pool not in members or grad._inputs[1] is not pool._outputs[0]
                or grad._inputs[0] is not pool._inputs[0]):
            continue
        if any(pool._attrs.get(name) != grad._attrs.get(name) for name in _POOL_ATTRS):
            continue
        if _tied((pool, grad), fed):
            continue
        found[grad] = pool
    return found


# A layer over this many input channels or fewer (gray, RGB, RGBA images) reads a small input and
# writes a large output: bound by memory, it gains from not writing that output (conv_max_pools).
FEW_INPUT_CHANNELS = 4


def conv_max_pools(ops: list[Operation], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...],
                   conv_fusions: dict[Operation, ConvParts], pool_pairs: dict[Operation, Operation],
                   pooled_relu_grads: dict[Operation, Operation]) -> dict[Operation, Operation]:
    """The Relu ops of `conv_fusions` (NHWC, a filter of at most FEW_INPUT_CHANNELS input channels)
    whose result is pooled by one MaxPool (SAME or VALID, NHWC) and read by nothing else but for its
    shape, mapped to that MaxPool: a backend with its own `_FusedConv2DMaxPool` kernel then runs the
    convolution layer and the pooling as one call, which need not write the convolution's output
    (`fast_cpu.conv_pool`).

    The gradient may read that result only where the plan reads no more than its shape: as the input
    of a MaxPoolGrad of `pool_pairs` (from the pooling's workspace), as the ReLU mask of a ReluGrad
    of `pooled_relu_grads` (which reads the pooled values instead), or in a Shape-like op. The Relu
    may not be fetched; neither it nor the MaxPool may be fed or take part in a control dependency.
    """
    sets = _plan_sets(ops, fetches, feeds)
    if sets is None:
        return {}
    position, fed, fetched = sets
    found: dict[Operation, Operation] = {}
    for relu, (conv, _, _) in conv_fusions.items():
        filter_shape = conv._inputs[1].shape
        if (relu in fetched or _text(conv._attrs.get("data_format", "NHWC")) != "NHWC" or filter_shape.rank != 4
                or filter_shape.dims[2] is None or filter_shape.dims[2] > FEW_INPUT_CHANNELS):
            continue
        result = relu._outputs[0]
        pools = [c for c in result._consumers if c in position and c._type == "MaxPool"]
        if len(pools) != 1:
            continue
        pool = pools[0]
        if (_tied((pool,), fed) or _text(pool._attrs.get("data_format", "NHWC")) != "NHWC"
                or _text(pool._attrs.get("padding", "")) not in ("SAME", "VALID")):
            continue
        if all(c is pool or c._type in _SHAPE_ONLY
               or (c._type == "MaxPoolGrad" and pool_pairs.get(c) is pool and c._inputs[0] is result
                   and result not in c._inputs[1:])
               or (c in pooled_relu_grads and pool_pairs.get(pooled_relu_grads[c]) is pool
                   and c._inputs[0] is not result)
               for c in result._consumers if c in position):
            found[relu] = pool
    return found


_CONV_ATTRS = ("strides", "padding", "explicit_paddings", "data_format", "dilations")


def conv_max_pool_grads(ops: list[Operation], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...],
                        conv_fusions: dict[Operation, ConvParts], conv_pools: dict[Operation, Operation],
                        pool_pairs: dict[Operation, Operation], pooled_relu_grads: dict[Operation, Operation],
                        pooled_sums: dict[Operation, Operation]) -> dict[Operation, tuple[Operation, Operation]]:
    """The ReluGrads of `pooled_relu_grads` that take the gradient of a layer of `conv_pools` through
    its pooling, mapped to (the layer's Conv2DBackpropFilter, its bias gradient of `pooled_sums`),
    where nothing else in the plan reads the ReluGrad's result (the layer's input has no gradient: a
    first layer's images): a backend with its own `_FusedConv2DMaxPoolGrad` kernel computes both
    gradients from the pooled gradient in one call, which need not write the convolution-sized
    gradient (fast_cpu: `conv_pool`). The gradients may be fetched; the ReluGrad may not be, and none
    of the three may be fed or take part in a control dependency.
    """
    sets = _plan_sets(ops, fetches, feeds)
    if sets is None:
        return {}
    position, fed, fetched = sets
    pooled_by_pool = {pool: relu for relu, pool in conv_pools.items()}
    sums_of = {relu_grad: total for total, relu_grad in pooled_sums.items()}
    found: dict[Operation, tuple[Operation, Operation]] = {}
    for relu_grad, pool_grad in pooled_relu_grads.items():
        relu = pooled_by_pool.get(pool_pairs.get(pool_grad))
        total = sums_of.get(relu_grad)
        if relu is None or total is None or relu_grad in fetched:
            continue
        conv = conv_fusions[relu][0]
        readers = [c for c in relu_grad._outputs[0]._consumers if c in position and c is not total]
        if len(readers) != 1:
            continue
        filter_grad = readers[0]
        if (filter_grad._type != "Conv2DBackpropFilter" or filter_grad._inputs[0] is not conv._inputs[0]
                or not filter_grad._outputs[0].shape.is_fully_defined()
                or filter_grad._inputs[2] is not relu_grad._outputs[0]
                or any(filter_grad._attrs.get(name) != conv._attrs.get(name) for name in _CONV_ATTRS)
                or _tied((relu_grad, filter_grad, total), fed)):
            continue
        found[relu_grad] = (filter_grad, total)
    return found


def relu_max_pool_grads(pooled_relu_grads: dict[Operation, Operation], pooled_sums: dict[Operation, Operation],
                        pool_pairs: dict[Operation, Operation], feeds: tuple[Tensor, ...],
                        taken: dict[Operation, Any]) -> dict[Operation, Operation]:
    """The ReluGrads of `pooled_relu_grads` (NHWC) whose pooling has a workspace (`pool_pairs`) and
    whose pooled result a bias gradient of `pooled_sums` adds up, mapped to that bias gradient, but
    for those in `taken`: a backend with its own `_ReluMaxPoolGrad` kernel computes the pooling's
    gradient of the masked values and their sums per channel in one call (fast_cpu: one pass over
    the pooled gradient instead of three). The bias gradient may be fetched; it may not be fed or take
    part in a control dependency.
    """
    fed = set(feeds)
    found: dict[Operation, Operation] = {}
    for total, relu_grad in pooled_sums.items():
        pool_grad = pooled_relu_grads[relu_grad]
        if (relu_grad in taken or relu_grad in found or pool_grad not in pool_pairs or _tied((total,), fed)
                or _text(pool_grad._attrs.get("data_format", b"NHWC")) != "NHWC"):
            continue
        found[relu_grad] = total
    return found


# ------------------------------------------------------------ dropout
# (GreaterEqual, the Mul or RealDiv that scales x): the ops a fused SelectV2 absorbs.
DropoutParts = tuple[Operation, Operation]


def _is_zero_constant(t: Tensor) -> bool:
    op = t._op
    if op._type != "Const":
        return False
    value = np.asarray(op._attrs.get("value"))
    return value.shape == () and value.dtype == np.float32 and not value.view(np.int32)


def _drawn_in_shape_of(uniform: Tensor, x: Tensor) -> bool:
    """Whether `uniform` is a RandomUniform of x's shape: Shape(x), or x's fully known static shape."""
    draw = uniform._op
    if draw._type != "RandomUniform" or uniform.shape.rank != x.shape.rank:
        return False
    shape = draw._inputs[0]._op
    if shape._type == "Shape":
        return shape._inputs[0] is x
    if shape._type != "Const" or not x.shape.is_fully_defined():
        return False
    return np.asarray(shape._attrs.get("value")).tolist() == x.shape.as_list()


def _plan_sets(ops: list[Operation], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...]
               ) -> tuple[dict[Operation, int], set[Tensor], set[Operation]] | None:
    """(each op's position in `ops`, the fed tensors, the fetched ops) of a plan, or None where it has
    tf.cond's ops (whose outputs may be dead)."""
    if any(op._type in _CONDITIONAL_OPS for op in ops):
        return None
    return {op: i for i, op in enumerate(ops)}, set(feeds), {f._op if isinstance(f, Tensor) else f for f in fetches}


def dropout_selects(ops: list[Operation], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...]
                    ) -> dict[Operation, DropoutParts]:
    """The SelectV2 ops of `ops` (a pruned plan in run order, without loops; none with conditionals)
    that end a float32 dropout, `SelectV2(GreaterEqual(u, rate), x * scale, +0.0)` (or `x / scale`) with
    u a RandomUniform of x's shape and rate and scale scalars, mapped to the ops they absorb.

    Only where the scaled x is used by nothing else in the plan (ops that read only its shape may use
    it after the SelectV2, which has the same shape), the mask by nothing before the SelectV2, none of
    the three is fetched (but the mask) or fed, and none takes part in a control dependency.
    """
    sets = _plan_sets(ops, fetches, feeds)
    if sets is None:
        return {}
    position, fed, fetched = sets
    found: dict[Operation, DropoutParts] = {}
    for select in ops:
        if select._type != "SelectV2" or len(select._inputs) != 3 or select._outputs[0].dtype.name != "float32":
            continue
        mask, scaled, zero = select._inputs
        compare, scale = mask._op, scaled._op
        if (compare._type != "GreaterEqual" or scale._type not in ("Mul", "RealDiv") or not _is_zero_constant(zero)
                or compare not in position or scale not in position):
            continue
        (uniform, rate), (x, factor) = compare._inputs, scale._inputs
        if rate.shape.rank != 0 or factor.shape.rank != 0 or not _drawn_in_shape_of(uniform, x):
            continue
        parts = (compare, scale, select)
        if scale in fetched or _tied(parts, fed):
            continue
        if any(p._op_def.kernel_kwargs(p) for p in parts):
            continue
        here = position[select]
        if any(c in position and position[c] < here for c in mask._consumers if c is not select):
            continue
        if any(c in position and c is not select and (c._type not in _SHAPE_ONLY or position[c] < here)
               for c in scaled._consumers):
            continue
        found[select] = (compare, scale)
    return found


def dropout_relu_grads(ops: list[Operation], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...]
                       ) -> dict[Operation, DropoutParts]:
    """The float32 ReluGrad ops of `ops` (a pruned plan in run order, without loops or conditionals)
    whose gradient is `SelectV2(mask, grad, +0.0) * scale` (or `/ scale`, a scalar), mapped to that
    SelectV2 and that product: the gradient of a dropout applied to a ReLU's output.

    Only where the SelectV2's and the product's values are read by nothing else in the plan, neither
    is fetched or fed, and none of the three ops takes part in a control dependency.
    """
    sets = _plan_sets(ops, fetches, feeds)
    if sets is None:
        return {}
    position, fed, fetched = sets
    found: dict[Operation, DropoutParts] = {}
    for relu_grad in ops:
        if relu_grad._type != "ReluGrad" or relu_grad._outputs[0].dtype.name != "float32":
            continue
        scale = relu_grad._inputs[0]._op
        if scale._type not in ("Mul", "RealDiv") or scale not in position or scale._inputs[1].shape.rank != 0:
            continue
        select = scale._inputs[0]._op
        if (select._type != "SelectV2" or select not in position or len(select._inputs) != 3
                or select._inputs[0].dtype.name != "bool" or not _is_zero_constant(select._inputs[2])):
            continue
        parts = (select, scale, relu_grad)
        if select in fetched or scale in fetched or _tied(parts, fed):
            continue
        if any(p._op_def.kernel_kwargs(p) for p in parts):
            continue
        if any(c in position for t, user in ((select, scale), (scale, relu_grad))
               for c in t._outputs[0]._consumers if c is not user):
            continue
        found[relu_grad] = (select, scale)
    return found
