"""What a Session does with the ConfigProto fields that mean something for caudal.

- `intra_op_parallelism_threads` (> 0): caudal's parallel work inside an op is
  the BLAS library NumPy uses (matrix products, so convolutions). When
  `threadpoolctl` is installed, the BLAS thread pools are limited to that many
  threads for the whole process, from the Session's creation on (a later
  Session that sets it again changes it; TensorFlow keeps the first session's
  pool). Without threadpoolctl the field is accepted and has no effect: set
  OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS) before starting Python instead.
- `inter_op_parallelism_threads`: a plan runs its ops one after another on the
  calling thread, so caudal uses one inter-op thread whatever the field says.
- `log_device_placement=True`: the first time a plan of the Session needs an
  op, the op's placement is printed to stdout in TensorFlow's format,
  `Add: (AddV2): /job:localhost/replica:0/task:0/device:CPU:0`. On the NumPy
  backends every op runs on the host CPU; the jax backend names the device
  each op's part of the plan runs on. (TensorFlow prints the whole graph again whenever it has
  grown; caudal prints each op once per Session.)
- `allow_soft_placement`, `device_count`, `gpu_options`: accepted; with one
  device there is nothing to choose.
"""
from __future__ import annotations

import sys
from typing import Any

HOST_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def apply_thread_limits(config: Any) -> bool:
    """Limits the BLAS threads to `config.intra_op_parallelism_threads` when set and threadpoolctl is
    installed; whether a limit was applied."""
    threads = config.intra_op_parallelism_threads
    if threads <= 0:
        return False
    try:
        import threadpoolctl
    except ImportError:
        return False
    threadpoolctl.threadpool_limits(limits=threads, user_api="blas")
    return True


class PlacementLog:
    """Prints each op's placement once, when a plan first needs it (`log_device_placement=True`)."""

    def __init__(self) -> None:
        self._printed: set[Any] = set()

    def log(self, plan_ops: list[Any], feeds: tuple[Any, ...], device_of: Any = None) -> None:
        """Prints the placement of the plan's ops not printed before: `device_of(op)` names the
        device of a backend that places ops (jax), else every op runs on the host CPU."""
        ops = set(plan_ops)
        for op in plan_ops:
            ops.update(t._op for t in op._inputs)
        ops.update(t._op for t in feeds)
        new = sorted((op for op in ops if op not in self._printed), key=lambda op: op._id)
        if not new:
            return
        self._printed.update(new)
        sys.stdout.write("".join(f"{op.name}: ({op.type}): {device_of(op) if device_of else HOST_DEVICE}\n"
                                 for op in new))
        sys.stdout.flush()


def configure(config: Any) -> PlacementLog | None:
    """Applies `config`'s thread limit; the placement log when `log_device_placement` is set."""
    if config is None:
        return None
    apply_thread_limits(config)
    return PlacementLog() if config.log_device_placement else None
