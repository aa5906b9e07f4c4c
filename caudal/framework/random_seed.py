"""TF1's graph-level and op-level random seeds (`tf.set_random_seed`, `get_seed`).

With a graph seed set, an op without its own seed gets the graph's op count
as its seed, so the same program draws the same numbers in a new session.
Without any seed, each session draws fresh numbers.

Several threads building random ops at once could read the same op count
before any of them adds its op (TensorFlow's race): an op count is therefore
claimed under the graph's lock, and a count another thread has claimed is
skipped, so those threads never get the same numbers. One thread alone gets
exactly TensorFlow's seeds.
"""
from __future__ import annotations

import threading

from caudal.framework.graph import get_default_graph

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2**31 - 1


def get_seed(op_seed: int | None) -> tuple[int | None, int | None]:
    """The (graph seed, op seed) pair an op uses, by TF's rules."""
    graph = get_default_graph()
    global_seed = graph.seed
    if global_seed is not None:
        if op_seed is None:
            op_seed = _claim_op_count(graph)
        seeds: tuple[int | None, int | None] = (global_seed, op_seed)
    elif op_seed is not None:
        seeds = (DEFAULT_GRAPH_SEED, op_seed)
    else:
        seeds = (None, None)
    if seeds == (0, 0):
        return 0, _MAXINT32
    return seeds


def _claim_op_count(graph: object) -> int:
    """The graph's op count as this thread's op seed, or the next count no other thread has claimed."""
    me = threading.get_ident()
    with graph._lock:
        count = graph._last_id
        claimed: dict[int, int] = graph.__dict__.setdefault("_claimed_op_seeds", {})
        for stale in [c for c in claimed if c < count]:
            del claimed[stale]  # counts below the op count can never be read again
        while claimed.get(count, me) != me:
            count += 1
        claimed[count] = me
    return count


def set_random_seed(seed: int | None) -> None:
    """Sets the graph-level seed of the default graph."""
    get_default_graph().seed = seed


def op_seed_attrs(seed: int | None) -> dict[str, int]:
    seed1, seed2 = get_seed(seed)
    return {"seed": seed1 or 0, "seed2": seed2 or 0}
