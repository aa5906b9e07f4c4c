"""What a Session does with the ConfigProto fields that mean something for caudal.

- `intra_op_parallelism_threads` (> 0): the most threads any kernel's parallel
  work runs on, process-wide from the Session's creation on (the last Session
  that sets it wins; TensorFlow keeps a pool per Session):
  `caudal.framework.threads` sizes the threads of NumPy's BLAS, oneDNN's and
  numba's kernels up to it (the backend's `set_intra_op_threads`), and the BLAS
  pools are limited to it through threadpoolctl where that is installed.
- `inter_op_parallelism_threads`: a plan runs its ops one after another on the
  calling thread, so caudal uses one inter-op thread whatever the field says.
  Running independent ops at once pays only where the kernels leave cores
  idle: on a 2-core machine TensorFlow 2.21 ran the LeNet step of
  `benchmarks/lenet.py` as fast with `inter_op_parallelism_threads=1` (25.7-34.6
  ms a step over four fresh processes) as with its default pool (30.8-34.4 ms),
  its convolutions and products already using both cores.
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
