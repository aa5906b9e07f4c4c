"""`tf.train.SyncReplicasOptimizer`: synchronous training across replicas, as TF 1.x builds it.

Every replica pushes its gradients into one `ConditionalAccumulator` per variable (on the variable's
device, shared across sessions by the name `<var name>/grad_accum`) and then takes a token (a global
step) from the `sync_token_q` FIFOQueue, which it records in its local step `sync_rep_local_step` (a
LOCAL_VARIABLES variable colocated with the replica). The chief's queue runner takes the mean of
`replicas_to_aggregate` gradients from each accumulator, applies them with the wrapped optimizer
(which increments the global step) and puts `max(total_num_replicas, replicas_to_aggregate)` tokens
of the new global step into the queue. An accumulator drops gradients computed at a local step older
than its own step (one per aggregation), so stale gradients never count.

Ops and variables carry TF's names (`sync_replicas/conditional_accumulator`, `sync_token_q`,
`sync_token_q_Dequeue`, `sync_replicas/SetGlobalStep`, ...), so GraphDefs and checkpoints line up.
`make_session_run_hook(is_chief)` gives the hook a MonitoredTrainingSession needs: after the session
is created it initializes the local step (and, on the chief, the accumulators' steps), fills the token
queue and starts the chief queue runner.
"""
from __future__ import annotations

import logging
from typing import Any

from caudal.framework.convert import convert_to_tensor
from caudal.framework.graph import GraphKeys, Operation, get_default_graph
from caudal.framework.indexed_slices import IndexedSlices
from caudal.framework.tensor import Tensor
from caudal.train.optimizer import Optimizer
from caudal.train.session_run_hook import SessionRunHook

__all__ = ["SyncReplicasOptimizer"]

_logger = logging.getLogger("caudal")


def _tokens(count: int, global_step: Any) -> Tensor:
    """`count` copies of the global step, named as TF's `fill([count], global_step)` names them (`Fill`,
    its shape `Fill/dims`). Made after the update, they hold the incremented step (see
    caudal.runtime.plan's `input_of`)."""
    from caudal.framework import dtypes as dtypes_lib
    from caudal.ops.constant_ops import constant, fill

    with get_default_graph().name_scope("Fill") as scope:
        dims = constant([count], dtype=dtypes_lib.int32, name="dims")
        return fill(dims, global_step, name=scope)


class SyncReplicasOptimizer(Optimizer):
    """`tf.train.SyncReplicasOptimizer(opt, replicas_to_aggregate, total_num_replicas=None,
    variable_averages=None, variables_to_average=None, use_locking=False, name="sync_replicas")`.

    `total_num_replicas` (default `replicas_to_aggregate`) larger than `replicas_to_aggregate` means
    backup replicas (the slowest gradients of a step arrive stale and are dropped); smaller means
    replicas compute several batches per update. Gradients are averaged, not summed.
    """

    def __init__(self, opt: Optimizer, replicas_to_aggregate: int, total_num_replicas: int | None = None,
                 variable_averages: Any = None, variables_to_average: Any = None, use_locking: bool = False,
                 name: str = "sync_replicas"):
        from caudal.util.deprecation import warn_deprecated

        warn_deprecated("SyncReplicasOptimizer.__init__", __name__, None,
                        "The `SyncReplicaOptimizer` class is deprecated. For synchronous training, please use "
                        "[Distribution Strategies](https://github.com/tensorflow/tensorflow/tree/master/tensorflow/"
                        "contrib/distribute).")
        if total_num_replicas is None:
            total_num_replicas = replicas_to_aggregate
        super().__init__(use_locking, name)
        _logger.info("SyncReplicasV2: replicas_to_aggregate=%s; total_num_replicas=%s", replicas_to_aggregate,
                     total_num_replicas)
        self._opt = opt
        self._replicas_to_aggregate = replicas_to_aggregate
        self._gradients_applied = False
        self._variable_averages = variable_averages
        self._variables_to_average = variables_to_average
        self._total_num_replicas = total_num_replicas
        self._tokens_per_step = max(total_num_replicas, replicas_to_aggregate)
        self._global_step: Any = None
        self._sync_token_queue: Any = None
        self._chief_queue_runner: Any = None
        self._accumulator_list: list[tuple[Any, str]] = []  # (accumulator, its variable's device)
        self._local_step: Any = None
        self.local_step_init_op: Any = None
        self.chief_init_op: Any = None
        self.ready_for_local_init_op: Any = None

    def compute_gradients(self, *args: Any, **kwargs: Any) -> list[tuple[Tensor | None, Any]]:
        """The wrapped optimizer's `compute_gradients`: gradients are aggregated in `apply_gradients`, so
        they may be changed (clipped per replica) in between."""
        return self._opt.compute_gradients(*args, **kwargs)

    def apply_gradients(self, grads_and_vars: Any, global_step: Any = None, name: str | None = None) -> Tensor:
        """Adds the accumulators, the chief's aggregation and the token queue; returns the replica's
        train op (the assignment of a dequeued token to its local step), as TF does. `name` is unused,
        as in TF."""
        from caudal.ops.accumulator_ops import ConditionalAccumulator
        from caudal.ops.control_ops import group, no_op
        from caudal.ops.queue_ops import FIFOQueue
        from caudal.train.queue_runner import QueueRunner
        from caudal.variables import Variable, assign, global_variables, report_uninitialized_variables

        del name
        if not grads_and_vars:
            raise ValueError("Must supply at least one variable")
        if global_step is None:
            raise ValueError("Global step is required to check staleness")
        graph = get_default_graph()
        self._global_step = global_step
        step_dtype = global_step.dtype.base_dtype
        # The local step lives with this replica: colocated with a NoOp placed by the caller's devices.
        local_anchor = no_op()
        with graph.colocate_with(local_anchor):
            self._local_step = Variable(0, trainable=False, collections=[GraphKeys.LOCAL_VARIABLES],
                                        dtype=step_dtype, name="sync_rep_local_step")
        self.local_step_init_op = assign(self._local_step, global_step)
        chief_init_ops = [self.local_step_init_op]
        self.ready_for_local_init_op = report_uninitialized_variables(global_variables())

        train_ops = []
        aggregated_grads = []
        var_list = []
        with graph.name_scope(self._name):
            for grad, var in grads_and_vars:
                var_list.append(var)
                with graph.device(var.device):
                    if grad is None:
                        aggregated_grads.append(None)
                        continue
                    if isinstance(grad, IndexedSlices):  # accumulated dense (TF: a sparse accumulator)
                        grad = convert_to_tensor(grad)
                    if not isinstance(grad, Tensor):
                        raise ValueError("Unknown grad type!")
                    accumulator = ConditionalAccumulator(grad.dtype, shape=var.get_shape(),
                                                         shared_name=var.name + "/grad_accum")
                    train_ops.append(accumulator.apply_grad(grad, local_step=self._local_step))
                    aggregated_grads.append(accumulator.take_grad(self._replicas_to_aggregate))
                    self._accumulator_list.append((accumulator, var.device))

            with graph.device(global_step.device), graph.name_scope(""):
                update_op = self._opt.apply_gradients(list(zip(aggregated_grads, var_list)), global_step)
                token_queue = FIFOQueue(-1, step_dtype, shapes=(), name="sync_token_q", shared_name="sync_token_q")
                self._sync_token_queue = token_queue
                with graph.control_dependencies(train_ops):
                    token = token_queue.dequeue()
                train_op = assign(self._local_step, token)
                with graph.control_dependencies([update_op]):
                    tokens = _tokens(self._tokens_per_step, global_step)
                    sync_op = token_queue.enqueue_many((tokens,))
                if self._variable_averages is not None:
                    with graph.control_dependencies([sync_op]), graph.name_scope(""):
                        sync_op = self._variable_averages.apply(self._variables_to_average)
                self._chief_queue_runner = QueueRunner(token_queue, [sync_op])
            for accumulator, device in self._accumulator_list:
                with graph.device(device):
                    chief_init_ops.append(accumulator.set_global_step(global_step, name="SetGlobalStep"))
            self.chief_init_op = group(*chief_init_ops)
        self._gradients_applied = True
        return train_op

    def get_chief_queue_runner(self) -> Any:
        """The QueueRunner the chief runs: aggregate, apply, increment the global step, add tokens."""
        if self._gradients_applied is False:
            raise ValueError("Should be called after apply_gradients().")
        return self._chief_queue_runner

    def get_slot(self, *args: Any, **kwargs: Any) -> Any:
        """The wrapped optimizer's slot."""
        return self._opt.get_slot(*args, **kwargs)

    def get_slot_names(self, *args: Any, **kwargs: Any) -> list[str]:
        """The wrapped optimizer's slot names."""
        return self._opt.get_slot_names(*args, **kwargs)

    def variables(self) -> list[Any]:
        """The wrapped optimizer's variables (not the local step), as TF gives them."""
        return self._opt.variables()

    def get_init_tokens_op(self, num_tokens: int = -1) -> Operation:
        """An op putting `num_tokens` tokens of the global step into the token queue (default
        `replicas_to_aggregate`); at least `replicas_to_aggregate - total_num_replicas` are needed for
        the first step. With no tokens, a NoOp `no_init_tokens`."""
        from caudal.ops.control_ops import no_op

        if self._gradients_applied is False:
            raise ValueError("get_init_tokens_op() should be called after apply_gradients().")
        tokens_needed = self._replicas_to_aggregate - self._total_num_replicas
        if num_tokens == -1:
            num_tokens = self._replicas_to_aggregate
        elif num_tokens < tokens_needed:
            raise ValueError(f"Too few tokens to finish the first step: {num_tokens} (given) vs {tokens_needed} "
                             "(needed)")
        if num_tokens > 0:
            graph = self._global_step.graph
            with graph.device(self._global_step.device), graph.name_scope(""):
                tokens = _tokens(num_tokens, self._global_step)
                return self._sync_token_queue.enqueue_many((tokens,))
        return no_op(name="no_init_tokens")

    def make_session_run_hook(self, is_chief: bool, num_tokens: int = -1) -> SessionRunHook:
        """The hook that initializes the local step (and on the chief, the accumulators' steps), fills the
        token queue and starts the chief queue runner once the session is created."""
        return _SyncReplicasOptimizerHook(self, is_chief, num_tokens)


class _SyncReplicasOptimizerHook(SessionRunHook):
    """Runs a SyncReplicasOptimizer's initialization ops when a (monitored) session is created."""

    def __init__(self, sync_optimizer: SyncReplicasOptimizer, is_chief: bool, num_tokens: int):
        self._sync_optimizer = sync_optimizer
        self._is_chief = is_chief
        self._num_tokens = num_tokens

    def begin(self) -> None:
        optimizer = self._sync_optimizer
        if optimizer._gradients_applied is False:
            raise ValueError("SyncReplicasOptimizer.apply_gradient should be called before using the hook.")
        self._ready_for_local_init_op = optimizer.ready_for_local_init_op
        if self._is_chief:
            self._local_init_op = optimizer.chief_init_op
            self._q_runner = optimizer.get_chief_queue_runner()
            self._init_tokens_op = optimizer.get_init_tokens_op(self._num_tokens)
        else:
            self._local_init_op = optimizer.local_step_init_op
            self._q_runner = None
            self._init_tokens_op = None

    def after_create_session(self, session: Any, coord: Any) -> None:
        """Checks the global variables are initialized, runs the local init op, fills the token queue and
        starts the chief queue runner (chief only)."""
        from caudal.train.session_manager import _ready

        ready, message = _ready(self._ready_for_local_init_op, session,
                                "Model is not ready for SyncReplicasOptimizer local init.")
        if not ready:
            raise RuntimeError("Init operations did not make model ready for SyncReplicasOptimizer local_init. "
                               f"Init op: {self._local_init_op.name}, error: {message}")
        session.run(self._local_init_op)
        if self._init_tokens_op is not None:
            session.run(self._init_tokens_op)
        if self._q_runner is not None:
            self._q_runner.create_threads(session, coord=coord, daemon=True, start=True)
