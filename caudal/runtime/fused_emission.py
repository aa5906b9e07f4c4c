"""The plan emitter's calls of fused patterns (see `caudal.runtime.fusion`), and `Call`, the record
of one kernel call a plan makes (which `plan._donate_buffers` reads to run kernels in place)."""
from __future__ import annotations

from typing import Any

from caudal.framework.graph import Operation
from caudal.framework.registry import get_op_def
from caudal.framework.tensor import Tensor
from caudal.runtime import fusion
from caudal.runtime.dead import DEAD
from caudal.runtime.frames import REF_PRODUCERS

__all__ = ["Call", "FusedEmission"]


def _window_kwargs(pool: Operation) -> dict[str, Any]:
    """A MaxPool's window as the fused convolution-and-pooling ops take it (beside the convolution's
    own strides and padding)."""
    kwargs = pool._op_def.kernel_kwargs(pool)
    return {"ksize": kwargs["ksize"], "pool_strides": kwargs["strides"], "pool_padding": kwargs["padding"]}


class Call:
    """One kernel call of a plan: its line, op, kernel name, data arguments and output names."""

    __slots__ = ("line", "op", "kernel_name", "args", "outputs", "guarded")

    def __init__(self, line: int, op: Operation, kernel_name: str, args: list[str], outputs: list[str],
                 guarded: bool):
        self.line = line
        self.op = op
        self.kernel_name = kernel_name
        self.args = args
        self.outputs = outputs
        self.guarded = guarded


class FusedEmission:
    """Methods of `plan._Emitter` that find the patterns of ops a plan runs as one call (`find_fusions`:
    `conv_fusions`, `pool_pairs`, `pooled_relu_grads`, `conv_pools`, `conv_pool_grads`, `dropouts`,
    `dropout_relu_grads`)
    and write those calls (`emit_fused`; and `fused` broadcast reductions, runs of nodes with a group
    kernel): they use its `env`, `names`, `calls`, `add`, `fresh` and value lookups."""

    env: dict[str, Any]
    names: dict[Tensor, str]
    fed: set[Tensor]
    absorbed: set[Operation]
    dead_ops: set[Operation]
    variable_reads: dict[Tensor, str]
    stateful: bool
    writes_variables: bool
    pool_pairs: dict[Operation, Operation]
    paired_pools: set[Operation]
    conv_pools: dict[Operation, Operation]
    conv_pool_grads: dict[Operation, tuple[Operation, Operation]]
    relu_pool_sums: dict[Operation, Operation]
    dead_feeds: frozenset[Tensor]
    conv_fusions: dict[Operation, fusion.ConvParts]
    pooled_relu_grads: dict[Operation, Operation]
    pooled_sums: dict[Operation, Operation]
    dropouts: dict[Operation, fusion.DropoutParts]
    dropout_relu_grads: dict[Operation, fusion.DropoutParts]
    relu_grad_sums: dict[Operation, Operation]
    fused: dict[Operation, fusion.Parts]
    masked: dict[Operation, str]
    workspaces: dict[Operation, str]
    calls: list[Call]
    variant_names: tuple[str, ...]

    def emit_fused(self, op: Operation) -> bool:
        """Emits `op` as the fused call it ends, if it ends one that can run here (no input may be
        dead); True where it did (the ops it absorbs are emitted as themselves where it cannot)."""
        if op in self.fused:
            self.emit_broadcast_reduction(op, self.fused[op])
            return True
        if op in self.conv_fusions:
            conv, add, bias = self.conv_fusions[op]
            if not any(map(self.may_be_dead, (*conv._inputs, bias))):
                if op in self.conv_pools:
                    self.emit_conv_max_pool(op, conv, add, bias, self.conv_pools[op])
                else:
                    self.emit_fused_conv(op, conv, add, bias)
                return True
            self.emit_unfused(conv, add)
            self.absorbed.discard(self.conv_pools.get(op))  # the MaxPool runs where it is
        if op in self.paired_pools and not self.may_be_dead(op._inputs[0]):
            self.emit_pool_with_workspace(op)
            return True
        if self.pool_pairs.get(op) in self.workspaces and not any(map(self.may_be_dead, op._inputs)):
            self.names[op._outputs[0]] = self.emit_pool_grad(op, [self.input_of(t, op) for t in op._inputs])
            return True
        if op in self.pooled_sums and self.pooled_sums[op] in self.masked:
            self.emit_pooled_sum(op, self.masked[self.pooled_sums[op]])
            return True
        if op in self.dropouts and self.emit_dropout(op, *self.dropouts[op]):
            return True
        if op in self.dropout_relu_grads and self.emit_dropout_relu_grad(op, *self.dropout_relu_grads[op]):
            return True
        if op in self.conv_pool_grads and self.emit_conv_max_pool_grad(op, *self.conv_pool_grads[op]):
            return True
        if op in self.pooled_relu_grads:
            pool_grad = self.pooled_relu_grads[op]
            total = self.relu_pool_sums.get(op)
            if not any(map(self.may_be_dead, pool_grad._inputs)):
                if total is not None and self.pool_pairs[pool_grad] in self.workspaces:
                    self.emit_relu_max_pool_grad(op, pool_grad, total)
                    return True
                self.absorbed.discard(total)  # the bias gradient sums the pooled ReluGrad's result
                self.emit_pooled_relu_grad(op, pool_grad)
                return True
            self.absorbed.discard(total)
            self.emit_unfused(pool_grad)
        return False

    def emit_broadcast_reduction(self, reshape: Operation, parts: fusion.Parts) -> None:
        """A broadcast gradient's Shape, Shape, BroadcastGradientArgs, Sum and Reshape as one call
        (see `caudal.runtime.fusion`); its errors name the BroadcastGradientArgs."""
        grad, x = parts[3]._inputs[0], parts[0]._inputs[0]
        kernel_name = f"k{reshape._id}"
        self.env[kernel_name] = fusion.broadcast_reduction_kernel(
            parts, reshape, lambda op: op._op_def.kernel_for(*self.variant_names))
        args = [self.value_of(grad), self.value_of(x)]
        output = self.fresh()
        self.names[reshape._outputs[0]] = output
        call = f"{kernel_name}(xp, {', '.join(args)})"
        dead = [name for t, name in zip((grad, x), args) if self.may_be_dead(t)]
        if dead:
            self.env["DEAD"] = DEAD
            self.dead_ops.add(reshape)
            self.live_expr[reshape] = output
            self.add(f"{output} = DEAD if {' or '.join(f'{name} is DEAD' for name in dead)} else {call}", parts[2])
        else:
            self.add(f"{output} = {call}", parts[2])
        self.calls.append(Call(len(self.lines) - 1, reshape, kernel_name, args, [output], bool(dead)))

    def emit_fused_conv(self, relu: Operation, conv: Operation, add: Operation, bias: Tensor) -> None:
        """Relu(Conv2D(x, w) + bias) as one `_FusedConv2D` call (see `fusion.conv_bias_relus`); the
        convolution's and the sum's values, read after it only for their shape, name its result."""
        args = [self.input_of(conv._inputs[0], conv), self.input_of(conv._inputs[1], conv), self.input_of(bias, add)]
        kwargs = dict(conv._op_def.kernel_kwargs(conv), fused_ops=["BiasAdd", "Relu"])
        output = self.emit_plain_call(relu, args, get_op_def("_FusedConv2D"), kwargs, step_op=conv)
        for t in (conv._outputs[0], add._outputs[0], relu._outputs[0]):
            self.names[t] = output

    def emit_conv_max_pool(self, relu: Operation, conv: Operation, add: Operation, bias: Tensor, pool: Operation
                           ) -> None:
        """Relu(Conv2D(x, w) + bias) and its MaxPool as one `_FusedConv2DMaxPool` call (see
        `fusion.conv_max_pools`), which names the convolution's result (read after it only for its
        shape, or as a MaxPoolGrad's input that only its shape is read of), the pooled values and the
        workspace of the MaxPool's gradients."""
        args = [self.input_of(conv._inputs[0], conv), self.input_of(conv._inputs[1], conv), self.input_of(bias, add)]
        kwargs = dict(conv._op_def.kernel_kwargs(conv), **_window_kwargs(pool))
        outputs = [self.fresh(), self.fresh(), self.fresh()]
        self.emit_plain_call(relu, args, get_op_def("_FusedConv2DMaxPool"), kwargs, step_op=conv, outputs=outputs)
        for t in (conv._outputs[0], add._outputs[0], relu._outputs[0]):
            self.names[t] = outputs[0]
        self.names[pool._outputs[0]] = outputs[1]
        self.workspaces[pool] = outputs[2]

    def emit_conv_max_pool_grad(self, relu_grad: Operation, filter_grad: Operation, total: Operation) -> bool:
        """The filter and bias gradients of a layer run by `emit_conv_max_pool`, from its pooled gradient,
        as one `_FusedConv2DMaxPoolGrad` call (see `fusion.conv_max_pool_grads`) that names both; where
        an input may be dead or the pooling kept no workspace, False (the ReluGrad, the pooling's
        gradient and the two gradients then run as themselves)."""
        pool_grad = self.pooled_relu_grads[relu_grad]
        pool = self.pool_pairs[pool_grad]
        conv_output, pooled, grad = pool_grad._inputs
        x = filter_grad._inputs[0]
        if pool not in self.workspaces or any(map(self.may_be_dead, (x, conv_output, pooled, grad))):
            self.absorbed.difference_update((filter_grad, total))
            return False
        args = [self.input_of(x, filter_grad), self.input_of(conv_output, pool_grad), self.input_of(grad, pool_grad),
                self.input_of(pooled, pool_grad), self.workspaces[pool]]
        kwargs = dict(filter_shape=filter_grad._outputs[0].shape.as_list(),
                      **filter_grad._op_def.kernel_kwargs(filter_grad), **_window_kwargs(pool))
        outputs = [self.fresh(), self.fresh()]
        self.emit_plain_call(relu_grad, args, get_op_def("_FusedConv2DMaxPoolGrad"), kwargs, step_op=filter_grad,
                             outputs=outputs)
        self.names[filter_grad._outputs[0]], self.names[total._outputs[0]] = outputs
        return True

    def group_run(self, items: list[Any], start: int) -> list[Operation]:
        """The ops `items[start:]` begins with that one group kernel call can run (OpDef.group_for):
        nodes of the op that has one on this backend, one after another in the plan, none with an
        input that may be dead or that an earlier one of them computes or writes (a variable one of
        them updates, read as another's input, must be read after that update). An empty list where
        fewer than two such nodes follow."""
        first = items[start]
        if not isinstance(first, Operation) or first._op_def.group_for(*self.variant_names) is None:
            return []
        run: list[Operation] = []
        members: set[Operation] = set()
        written: set[str] = set()
        for op in items[start:]:
            if (not isinstance(op, Operation) or op._type != first._type or op in self.absorbed
                    or not self._groupable(op, members, written)):
                break
            run.append(op)
            members.add(op)
            bound = op._op_def.kernel_kwargs(op)
            written.update((bound.get("var"), *bound.get("slots", ())))
        return run if len(run) > 1 else []

    def _groupable(self, op: Operation, members: set[Operation], written: set[str]) -> bool:
        """Whether `op` may join a run of `members`, which update the variables `written`."""
        refs = op._op_def.ref_inputs
        if (len(op._outputs) != 1 or op._outputs[0] in self.fed or op in self.dead_ops
                or any(c in self.dead_ops or c in members for c in op._control_inputs)):
            return False
        for i, t in enumerate(op._inputs):
            if i in refs:
                continue
            producer = t._op
            variable = self.variable_reads.get(t) or (producer._name if producer._type in REF_PRODUCERS else None)
            if self.may_be_dead(t) or producer in members or variable in written:
                return False
        return True

    def emit_group(self, run: list[Operation]) -> None:
        """`run` (see `group_run`) as one call of its op's group kernel, attributed to its first op."""
        first = run[0]
        op_def = first._op_def
        kernel_name = f"g{first._id}"
        self.env[kernel_name] = op_def.group_for(*self.variant_names)
        entries, outputs = [], []
        for op in run:
            args = [self.input_of(t, op) for i, t in enumerate(op._inputs) if i not in op_def.ref_inputs]
            self.env[f"a{op._id}"] = op_def.kernel_kwargs(op)
            entries.append(f"(({', '.join(args)},), a{op._id})")
            outputs.append(self.fresh())
            self.names[op._outputs[0]] = outputs[-1]
        self.add(f"{', '.join(outputs)} = {kernel_name}(ctx, ({', '.join(entries)}))", first)
        self.stateful = True
        if op_def.ref_inputs:
            self.writes_variables = True

    def emit_unfused(self, *ops: Operation) -> None:
        """Emits absorbed `ops` as themselves, where a fused call cannot run (an input may be dead)."""
        for op in ops:
            self.absorbed.discard(op)
            self.emit_op(op)

    def emit_pooled_relu_grad(self, relu_grad: Operation, pool_grad: Operation) -> None:
        """ReluGrad(MaxPoolGrad(x, y, dy), x) as MaxPoolGrad(x, y, ReluGrad(dy, y)) (see
        `fusion.relu_grads_of_max_pool_grads`)."""
        x, y, dy = (self.input_of(t, pool_grad) for t in pool_grad._inputs)
        masked = self.emit_plain_call(relu_grad, [dy, y])
        self.masked[relu_grad] = masked
        self.names[relu_grad._outputs[0]] = self.emit_pool_grad(pool_grad, [x, y, masked])

    def emit_relu_max_pool_grad(self, relu_grad: Operation, pool_grad: Operation, total: Operation) -> None:
        """ReluGrad(MaxPoolGrad(x, y, dy), x) and its bias gradient `total` as one `_ReluMaxPoolGrad` call
        from the pooling's workspace (see `fusion.relu_max_pool_grads`), which names both."""
        pool = self.pool_pairs[pool_grad]
        args = [self.input_of(t, pool_grad) for t in pool_grad._inputs] + [self.workspaces[pool]]
        outputs = [self.fresh(), self.fresh()]
        kwargs = pool_grad._op_def.kernel_kwargs(pool_grad)
        self.emit_plain_call(relu_grad, args, get_op_def("_ReluMaxPoolGrad"), kwargs, outputs=outputs)
        self.names[relu_grad._outputs[0]], self.names[total._outputs[0]] = outputs

    def emit_pooled_sum(self, total: Operation, masked: str) -> None:
        """A bias gradient (Sum or BiasAddGrad) of a pooled ReluGrad's result, of its pooled gradient
        `masked` instead (see `fusion.channel_sums_of_pooled_grads`)."""
        args = [masked] + [self.value_of(t) for t in total._inputs[1:]]
        self.names[total._outputs[0]] = self.emit_plain_call(total, args)

    def emit_pool_with_workspace(self, pool: Operation) -> None:
        """A MaxPool whose gradient the plan computes as `_MaxPoolWithWorkspace`, which also returns
        the argmax workspace (see `fusion.max_pool_pairs`)."""
        pooled, workspace = self.fresh(), self.fresh()
        self.names[pool._outputs[0]] = pooled
        self.workspaces[pool] = workspace
        op_def = get_op_def("_MaxPoolWithWorkspace")
        args = [self.input_of(pool._inputs[0], pool)]
        self.emit_plain_call(pool, args, op_def, pool._op_def.kernel_kwargs(pool), outputs=[pooled, workspace])

    def emit_pool_grad(self, pool_grad: Operation, args: list[str]) -> str:
        """MaxPoolGrad on the values named `args`: from its MaxPool's workspace when the plan kept one."""
        pool = self.pool_pairs.get(pool_grad)
        if pool not in self.workspaces:
            return self.emit_plain_call(pool_grad, args)
        return self.emit_plain_call(pool_grad, args + [self.workspaces[pool]], get_op_def("_MaxPoolGradWithWorkspace"),
                                    pool_grad._op_def.kernel_kwargs(pool_grad))

    def emit_dropout(self, select: Operation, compare: Operation, scale: Operation) -> bool:
        """`SelectV2(GreaterEqual(u, rate), scale(x, factor), 0)` as one `_Dropout` call (see
        `fusion.dropout_selects`), which names the mask and the result; where an input may be dead,
        the absorbed ops instead, and False (the SelectV2 is then emitted as itself)."""
        (uniform, rate), (x, factor), zero = compare._inputs, scale._inputs, select._inputs[2]
        if any(map(self.may_be_dead, (uniform, rate, x, factor))):
            self.emit_unfused(compare, scale)
            return False
        args = [self.input_of(x, scale), self.input_of(factor, scale), self.input_of(uniform, compare),
                self.input_of(rate, compare), self.input_of(zero, select)]
        result, keep = self.fresh(), self.fresh()
        self.emit_plain_call(select, args, get_op_def("_Dropout"), {"scale_op": scale._type}, outputs=[result, keep])
        self.names[select._outputs[0]] = self.names[scale._outputs[0]] = result
        self.names[compare._outputs[0]] = keep
        return True

    def emit_dropout_relu_grad(self, relu_grad: Operation, select: Operation, scale: Operation) -> bool:
        """`ReluGrad(scale(SelectV2(mask, grad, 0), factor), features)` as one `_DropoutReluGrad` call
        (see `fusion.dropout_relu_grads`), or with the Sum of its rows as one `_DropoutReluGradSum` call
        (`fusion.sums_of_dropout_relu_grads`); where an input may be dead, the absorbed ops instead,
        and False (the ReluGrad is then emitted as itself)."""
        (mask, grad, zero), factor, features = select._inputs, scale._inputs[1], relu_grad._inputs[1]
        total = self.relu_grad_sums.get(relu_grad)
        if any(map(self.may_be_dead, (mask, grad, factor, features))):
            self.emit_unfused(select, scale)
            self.absorbed.discard(total)  # the Sum runs where it is
            return False
        args = [self.input_of(grad, select), self.input_of(mask, select), self.input_of(factor, scale),
                self.input_of(zero, select), self.input_of(features, relu_grad)]
        if total is None:
            self.names[relu_grad._outputs[0]] = self.emit_plain_call(
                relu_grad, args, get_op_def("_DropoutReluGrad"), {"scale_op": scale._type})
            return True
        outputs = [self.fresh(), self.fresh()]
        self.emit_plain_call(relu_grad, args, get_op_def("_DropoutReluGradSum"), {"scale_op": scale._type},
                             outputs=outputs)
        self.names[relu_grad._outputs[0]], self.names[total._outputs[0]] = outputs
        return True

    def find_fusions(self, items: list[Any], fetches: tuple[Any, ...], feeds: tuple[Tensor, ...]) -> None:
        """Finds the patterns of a plan without loops that this backend runs fused (see `fusion`)."""
        names = self.variant_names
        if fusion.has_native_kernel("_FusedConv2D", names):
            self.conv_fusions = fusion.conv_bias_relus(items, fetches, feeds)
            self.absorbed.update(op for conv, add, _ in self.conv_fusions.values() for op in (conv, add))
        if fusion.has_native_kernel("_MaxPoolWithWorkspace", names):
            self.pool_pairs = fusion.max_pool_pairs(items, fetches, feeds)
            self.paired_pools = set(self.pool_pairs.values())
        self.pooled_relu_grads = fusion.relu_grads_of_max_pool_grads(items, fetches, feeds)
        self.absorbed.update(self.pooled_relu_grads.values())
        if fusion.has_native_kernel("_FusedConv2DMaxPool", names) and not self.dead_feeds:
            self.conv_pools = fusion.conv_max_pools(items, fetches, feeds, self.conv_fusions, self.pool_pairs,
                                                    self.pooled_relu_grads)
            self.absorbed.update(self.conv_pools.values())
        self.pooled_sums = fusion.channel_sums_of_pooled_grads(items, self.pooled_relu_grads)
        if self.conv_pools and fusion.has_native_kernel("_FusedConv2DMaxPoolGrad", names):
            self.conv_pool_grads = fusion.conv_max_pool_grads(items, fetches, feeds, self.conv_fusions,
                                                              self.conv_pools, self.pool_pairs,
                                                              self.pooled_relu_grads, self.pooled_sums)
            self.absorbed.update(op for parts in self.conv_pool_grads.values() for op in parts)
        if self.pool_pairs and fusion.has_native_kernel("_ReluMaxPoolGrad", names):
            self.relu_pool_sums = fusion.relu_max_pool_grads(self.pooled_relu_grads, self.pooled_sums, self.pool_pairs,
                                                             feeds, self.conv_pool_grads)
            self.absorbed.update(self.relu_pool_sums.values())
        if fusion.has_native_kernel("_Dropout", names):
            self.dropouts = fusion.dropout_selects(items, fetches, feeds)
            self.absorbed.update(op for parts in self.dropouts.values() for op in parts)
        if fusion.has_native_kernel("_DropoutReluGrad", names):
            self.dropout_relu_grads = fusion.dropout_relu_grads(items, fetches, feeds)
            self.absorbed.update(op for parts in self.dropout_relu_grads.values() for op in parts)
            if fusion.has_native_kernel("_DropoutReluGradSum", names):
                sums = fusion.sums_of_dropout_relu_grads(items, self.dropout_relu_grads, feeds)
                self.relu_grad_sums = {g: total for g, total in sums.items() if total not in self.absorbed}
                self.absorbed.update(self.relu_grad_sums.values())

    def emit_plain_call(self, op: Operation, args: list[str], op_def: Any = None, kwargs: dict | None = None,
                         step_op: Operation | None = None, outputs: list[str] | None = None) -> str:
        """A call on the values named `args` (none dead) of `op`'s kernel with its attrs, or of
        `op_def`'s kernel with `kwargs` (a fused op standing for `op`, attributed to `step_op`);
        the name of its (first) output, or the names `outputs` are assigned."""
        fused = op_def is not None
        op_def = op_def if fused else op._op_def
        kwargs = op_def.kernel_kwargs(op) if kwargs is None else kwargs
        kernel_name = f"k{op._id}"
        self.env[kernel_name] = op_def.kernel_for(*self.variant_names)
        attr_args = []
        for j, (attr, value) in enumerate(kwargs.items()):
            self.env[f"a{op._id}_{j}"] = value
            attr_args.append(f"{attr}=a{op._id}_{j}")
        outputs = outputs or [self.fresh()]
        self.calls.append(Call(len(self.lines), fusion.FusedCall(op_def) if fused else op, kernel_name, args, outputs,
                               False))
        self.add(f"{', '.join(outputs)} = {kernel_name}(xp, {', '.join(args + attr_args)})", step_op or op)
        return outputs[0]
