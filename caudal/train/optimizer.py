"""`tf.train.Optimizer`: the base of every optimizer, with TF1's slots and names.

`minimize` = `compute_gradients` + `apply_gradients`. Subclasses implement
`_create_slots(var_list)`, `_prepare()`, `_apply_dense(grad, var)`,
`_apply_sparse(grad, var)` and optionally `_finish(update_ops, name)`. A
gradient that is an IndexedSlices (a gather's) has its duplicate rows summed
(`_apply_sparse_duplicate_indices`) and goes to `_apply_sparse`, which updates
only the rows it names (TF's SparseApply ops), as TF1's optimizers do. Slot variables are named
`<var>/<optimizer name>` (then `_1`, ...) within the current variable scope, and
non-slot variables (`beta1_power`) within the current name scope, as TF names
them (see `slot_creator`), so checkpoints line up.
"""
from __future__ import annotations

from typing import Any

from caudal.autodiff.gradients import gradients
from caudal.framework import dtypes as dtypes_lib
from caudal.framework.graph import GraphKeys, Operation, get_default_graph
from caudal.framework.indexed_slices import IndexedSlices
from caudal.framework.tensor import Tensor

__all__ = ["Optimizer", "deduplicate_indexed_slices"]


def _var_key(var: Any) -> tuple[Any, str]:
    """A variable's key in the slot dicts: its graph and name, so an optimizer used in several graphs (an
    Estimator's optimizer instance, one graph per `train` call) keeps each graph's slots apart, as TF's does."""
    return var.op.graph, var.op.name


class Optimizer:
    """Base class for optimizers."""

    GATE_NONE = 0
    GATE_OP = 1
    GATE_GRAPH = 2

    def __init__(self, use_locking: bool, name: str):
        if not name:
            raise ValueError("Must specify the optimizer name")
        self._use_locking = use_locking
        self._name = name
        self._slots: dict[str, dict[tuple[Any, str], Any]] = {}
        self._non_slot_dict: dict[tuple[str, Any], Any] = {}

    def get_name(self) -> str:
        return self._name

    # ------------------------------------------------------------- minimize
    def minimize(self, loss: Tensor, global_step: Any = None, var_list: Any = None,
                 gate_gradients: int = GATE_OP, aggregation_method: Any = None,
                 colocate_gradients_with_ops: bool = False, name: str | None = None,
                 grad_loss: Any = None) -> Operation:
        """Adds ops that compute gradients of `loss` and apply them; increments `global_step`."""
        grads_and_vars = self.compute_gradients(loss, var_list=var_list, gate_gradients=gate_gradients,
                                                aggregation_method=aggregation_method,
                                                colocate_gradients_with_ops=colocate_gradients_with_ops,
                                                grad_loss=grad_loss)
        vars_with_grad = [v for g, v in grads_and_vars if g is not None]
        if not vars_with_grad:
            raise ValueError(
                "No gradients provided for any variable, check your graph for ops that do not support "
                f"gradients, between variables {[str(v) for _, v in grads_and_vars]} and loss {loss}.")
        return self.apply_gradients(grads_and_vars, global_step=global_step, name=name)

    def compute_gradients(self, loss: Tensor, var_list: Any = None, gate_gradients: int = GATE_OP,
                          aggregation_method: Any = None, colocate_gradients_with_ops: bool = False,
                          grad_loss: Any = None) -> list[tuple[Tensor | None, Any]]:
        """[(gradient or None, variable)] for the trainable variables (or `var_list`)."""
        if callable(loss):
            raise RuntimeError("`loss` passed to Optimizer.compute_gradients should be a Tensor in graph mode.")
        if loss.dtype.base_dtype not in (dtypes_lib.float16, dtypes_lib.float32, dtypes_lib.float64):
            raise ValueError(f"Invalid type {loss.dtype!r} for {loss.name}, expected: "
                             "[tf.float16, tf.float32, tf.float64].")
        if var_list is None:
            var_list = get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES) + \
                get_default_graph().get_collection(GraphKeys.TRAINABLE_RESOURCE_VARIABLES)
        else:
            var_list = list(var_list)
        if not var_list:
            raise ValueError("No variables to optimize.")
        grads = gradients(loss, var_list, grad_ys=None if grad_loss is None else [grad_loss])
        return list(zip(grads, var_list, strict=True))

    def apply_gradients(self, grads_and_vars: Any, global_step: Any = None, name: str | None = None) -> Operation:
        """Adds the update ops; returns one op that runs them (then increments `global_step`)."""
        from caudal.variables import assign_add

        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            raise ValueError("No variables provided.")
        for g, _ in grads_and_vars:
            if g is not None and not isinstance(g, (Tensor, IndexedSlices)):
                raise TypeError(f"Gradient must be convertible to a Tensor or IndexedSlices, or None: {g}")
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            raise ValueError(f"No gradients provided for any variable: {[str(v) for _, v in grads_and_vars]}.")
        graph = get_default_graph()
        # As TF's init_scope: no control dependencies, but the caller's name scope (non-slot variables
        # such as Adam's `beta1_power` are made in it: `train/beta1_power` under tf.name_scope("train")).
        with graph.control_dependencies(None):
            self._create_slots([v for _, v in pairs])
        with graph.name_scope(name or self._name) as scope:
            self._prepare()
            update_ops = []
            for grad, var in pairs:
                # An update runs where its variable is (a parameter server's task), as TF colocates it.
                with graph.name_scope("update_" + var.op.name), graph.colocate_with(var.op):
                    if isinstance(grad, IndexedSlices):
                        update_ops.append(self._apply_sparse_duplicate_indices(grad, var))
                    else:
                        update_ops.append(self._apply_dense(grad, var))
            if global_step is None:
                train_op = self._finish(update_ops, scope[:-1] + "/")
            else:
                with graph.control_dependencies([self._finish(update_ops, "update")]), \
                        graph.colocate_with(global_step):
                    train_op = assign_add(global_step, 1, name=scope[:-1] + "/").op
        # As in TF, the op is recorded in the TRAIN_OP collection (meta graphs carry it).
        collection = graph.get_collection_ref(GraphKeys.TRAIN_OP)
        if train_op not in collection:
            collection.append(train_op)
        return train_op

    def _finish(self, update_ops: list[Any], name_scope: str) -> Operation:
        from caudal.ops.control_ops import group

        return group(*update_ops, name=name_scope)

    # -------------------------------------------------------- for subclasses
    def _create_slots(self, var_list: list[Any]) -> None:
        pass

    def _prepare(self) -> None:
        pass

    def _apply_dense(self, grad: Tensor, var: Any) -> Any:
        raise NotImplementedError

    def _apply_sparse(self, grad: IndexedSlices, var: Any) -> Any:
        """The update of the rows `grad` names (each once)."""
        raise NotImplementedError

    def _apply_sparse_duplicate_indices(self, grad: IndexedSlices, var: Any) -> Any:
        """`_apply_sparse` of `grad` with the rows of each repeated index summed into one."""
        values, indices = deduplicate_indexed_slices(grad.values, grad.indices)
        return self._apply_sparse(IndexedSlices(values, indices, grad.dense_shape), var)

    # ---------------------------------------------------------------- slots
    def get_slot(self, var: Any, name: str) -> Any:
        return self._slots.get(name, {}).get(_var_key(var))

    def get_slot_names(self) -> list[str]:
        return sorted(self._slots)

    def _slot_dict(self, slot_name: str) -> dict[tuple[Any, str], Any]:
        return self._slots.setdefault(slot_name, {})

    def _zeros_slot(self, var: Any, slot_name: str, op_name: str) -> Any:
        """The slot `slot_name` of `var`, zeros shaped like it, named `<var>/<op_name>` (made once)."""
        from caudal.train import slot_creator

        slots = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in slots:
            slots[key] = slot_creator.create_zeros_slot(var, op_name)
        return slots[key]

    def _get_or_make_slot(self, var: Any, val: Any, slot_name: str, op_name: str) -> Any:
        """The slot `slot_name` of `var`, starting at the Tensor `val`, named `<var>/<op_name>` (made once).

        An initializer (a callable) in place of `val` is called with `var`'s shape and dtype.
        """
        from caudal.train import slot_creator

        if callable(val) and not isinstance(val, Tensor):
            return self._get_or_make_slot_with_initializer(var, val, var.get_shape(), var.dtype.base_dtype,
                                                           slot_name, op_name)
        slots = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in slots:
            slots[key] = slot_creator.create_slot(var, val, op_name)
        return slots[key]

    def _get_or_make_slot_with_initializer(self, var: Any, initializer: Any, shape: Any, dtype: Any,
                                           slot_name: str, op_name: str) -> Any:
        """The slot `slot_name` of `var`, `initializer(shape, dtype)`, named `<var>/<op_name>` (made once)."""
        from caudal.train import slot_creator

        slots = self._slot_dict(slot_name)
        key = _var_key(var)
        if key not in slots:
            slots[key] = slot_creator.create_slot_with_initializer(var, initializer, shape, dtype, op_name)
        return slots[key]

    def _get_non_slot_variable(self, name: str, graph: Any = None) -> Any:
        return self._non_slot_dict.get((name, graph or get_default_graph()))

    def _create_non_slot_variable(self, initial_value: Any, name: str, colocate_with: Any) -> Any:
        """A variable of the optimizer itself (Adam's `beta1_power`), made once per graph in the current
        name scope and colocated with `colocate_with`, as TF makes it."""
        from caudal.variables import Variable

        graph = colocate_with.graph
        key = (name, graph)
        if key not in self._non_slot_dict:
            with graph.as_default(), graph.colocate_with(colocate_with):
                self._non_slot_dict[key] = Variable(initial_value, name=name, trainable=False)
        return self._non_slot_dict[key]

    def variables(self) -> list[Any]:
        """The optimizer's own variables: slots and non-slot variables, sorted by name."""
        graph = get_default_graph()
        found = [v for (name, g), v in self._non_slot_dict.items() if g is graph]
        for slots in self._slots.values():
            found.extend(v for v in slots.values() if v.graph is graph)
        return sorted(found, key=lambda v: v.name)

    def _call_if_callable(self, value: Any) -> Any:
        return value() if callable(value) else value

    # ------------------------------------------------ helpers for subclasses
    def _hyper_tensor(self, value: Any, name: str) -> Tensor:
        """A hyperparameter (float, Tensor, placeholder, or a callable giving one) as a Tensor named `name`."""
        from caudal.framework.convert import convert_to_tensor

        return convert_to_tensor(self._call_if_callable(value), name=name)

    def _fused_apply(self, op_type: str, var: Any, slots: list[Any], inputs: list[Any], cast_inputs: bool = True,
                     indices: Tensor | None = None, **attrs: Any) -> Operation:
        """Adds TF's fused update op `op_type`(var, *slots, *inputs); inputs are cast to var's dtype unless
        `cast_inputs` is False (TF's proximal optimizers do not cast, so only float32 variables work).
        A SparseApply op's `indices` go in after its `grad` input (the one that is an IndexedSlices'
        values), uncast."""
        from caudal.ops.math_ops import cast

        dtype = var.dtype.base_dtype
        converted = [cast(t, dtype) for t in inputs] if cast_inputs else list(inputs)
        attrs = {"T": dtype, "use_locking": self._use_locking, **attrs}
        if indices is not None:
            from caudal.ops import sparse_training_ops

            names = sparse_training_ops.SPARSE_OPS[op_type][2][1 + len(slots):]
            converted.insert(names.index("indices"), indices)
            attrs["Tindices"] = indices.dtype.base_dtype
        return var.graph.create_op(op_type, [var._ref()] + [s._ref() for s in slots] + converted, attrs, op_type)


def deduplicate_indexed_slices(values: Tensor, indices: Tensor) -> tuple[Tensor, Tensor]:
    """(rows summed per distinct index, the distinct indices in order of first appearance), TF's Unique
    and UnsortedSegmentSum."""
    from caudal.ops.array_ops import shape
    from caudal.ops.gather_ops import unsorted_segment_sum
    from caudal.ops.sort_ops import unique

    unique_indices, positions = unique(indices)
    return unsorted_segment_sum(values, positions, shape(unique_indices)[0]), unique_indices
